/* What a class is made of: the validated request body, the Google event id
 * and the Google event, the latter checked against Google's own schema. */
#include <stdint.h>
#include <stdlib.h>

#include <json-c/json_object.h>
#include <json-c/json_tokener.h>
#include <json-c/json_util.h>
#include <json-c/linkhash.h>

#include "school/bookreq.h"
#include "check.h"
#include "core/tz.h"
#include "core/utf8.h"

#define ZONE      "America/Argentina/Buenos_Aires"
#define NOW       1796126400LL /* 2026-12-01T12:00:00Z, 09:00 local */
#define NOTICE    120L
#define BOOKING   "0123456789abcdef0123456789abcdef"
#define DISCOVERY "tests/sim/reference/calendar-v3-discovery.json"

/* 2027-01-10T15:00:00-03:00, a Sunday */
#define CLASS_START 1799604000LL

#define ALL_WEEK "mon-sun 00:00-24:00"
#define DEFAULT  "mon-fri 09:00-21:00; sat 09:00-13:00"

/* Opening hours that must parse; aborts if they do not. */
static const struct hours *hours_of(const char *spec)
{
	static struct hours h[2];
	static int next;
	char err[128];

	next = (next + 1) % 2;
	if (hours_parse(spec, &h[next], err, sizeof(err)) != 0) {
		fprintf(stderr, "bad hours in a test: %s\n", err);
		abort();
	}
	return &h[next];
}

/* The tests of the fields: open all week, so that only the fields count
 * (the opening hours have tests of their own). */
#define OPEN hours_of(ALL_WEEK)

static const char base_json[] =
        "{\"start\":\"2027-01-10T15:00:00-03:00\",\"durationMinutes\":90,"
        "\"classType\":\"grupal\",\"participants\":3,"
        "\"studentEmail\":\"ana@example.com\",\"studentName\":\"Ana María\","
        "\"notes\":\"Traer el libro.\"}";

/* The full valid body with key set to the JSON value text (a JSON null for
 * "null"), or removed when value is NULL. */
static struct json_object *base_with(const char *key, const char *value)
{
	struct json_object *b = json_tokener_parse(base_json);

	if (value == NULL)
		json_object_object_del(b, key);
	else
		json_object_object_add(b, key, json_tokener_parse(value));
	return b;
}

/* The full valid body with key set to the string s. */
static struct json_object *base_with_string(const char *key, const char *s)
{
	struct json_object *b = json_tokener_parse(base_json);

	json_object_object_add(b, key, json_object_new_string(s));
	return b;
}

/* A string of n copies of unit (the caller frees). */
static char *repeat(const char *unit, size_t n)
{
	size_t len = strlen(unit), i;
	char *s = malloc(len * n + 1);

	if (s == NULL)
		abort();
	for (i = 0; i < n; i++)
		memcpy(s + i * len, unit, len);
	s[len * n] = '\0';
	return s;
}

/* Whether msg is a sentence that names field. */
static int names_field(const char *msg, const char *field)
{
	size_t n = strlen(msg);

	return n > 1 && msg[n - 1] == '.' && strstr(msg, field) != NULL;
}

/*
 * Whether bookreq_parse refuses body (taken) with want_rc naming want in
 * field, with a sentence in msg, and leaves *out as it was. Says why on
 * stderr when not.
 */
static int refuses_with(struct json_object *body, int want_rc, const char *want)
{
	struct bookreq out, before;
	char field[80] = "", msg[256] = "";
	int rc;

	memset(&out, 0xa5, sizeof(out));
	memcpy(&before, &out, sizeof(out));
	rc = bookreq_parse(body, OPEN, NOW, NOTICE, &out, field, sizeof(field),
	                   msg, sizeof(msg));
	if (rc != want_rc || strcmp(field, want) != 0 ||
	    !names_field(msg, want) ||
	    memcmp(&out, &before, sizeof(out)) != 0) {
		fprintf(stderr,
		        "  body %s: rc %d, field \"%s\" (expected \"%s\"), "
		        "msg \"%s\", out %s\n",
		        json_object_to_json_string(body), rc, field, want, msg,
		        memcmp(&out, &before, sizeof(out)) ? "changed"
		                                           : "untouched");
		json_object_put(body);
		return 0;
	}
	json_object_put(body);
	return 1;
}

/* A malformed, unknown or missing field, or a start in the past. */
static int refuses(struct json_object *body, const char *want)
{
	return refuses_with(body, BOOKREQ_INVALID, want);
}

/* A class the school does not offer. */
static int outside_hours(struct json_object *body)
{
	return refuses_with(body, BOOKREQ_OUTSIDE_HOURS, "start");
}

/* Whether bookreq_parse accepts body (taken), into *out. */
static int accepts(struct json_object *body, struct bookreq *out)
{
	char field[80] = "", msg[256] = "";
	int rc = bookreq_parse(body, OPEN, NOW, NOTICE, out, field,
	                       sizeof(field), msg, sizeof(msg));

	if (rc != 0)
		fprintf(stderr, "  body %s refused: %s: %s\n",
		        json_object_to_json_string(body), field, msg);
	json_object_put(body);
	return rc == 0;
}

/* Whether studentEmail s is accepted. */
static int email_accepted(const char *s)
{
	struct bookreq b;

	if (!accepts(base_with_string("studentEmail", s), &b))
		return 0;
	return strcmp(b.email, s) == 0;
}

TEST(full_body_is_read)
{
	struct bookreq b;

	CHECK(tz_set(ZONE) == 0);
	CHECK(accepts(json_tokener_parse(base_json), &b));
	CHECK_INT(b.start, CLASS_START);
	CHECK_INT(b.duration_min, 90);
	CHECK_STR(b.class_type, "grupal");
	CHECK_INT(b.participants, 3);
	CHECK_STR(b.email, "ana@example.com");
	CHECK_STR(b.name, "Ana María");
	CHECK_STR(b.notes, "Traer el libro.");
}

TEST(missing_fields_take_their_defaults)
{
	struct bookreq b;

	CHECK(tz_set(ZONE) == 0);
	CHECK(accepts(
	        json_tokener_parse("{\"start\":\"2027-01-10T15:00:00-03:00\","
	                           "\"studentEmail\":\"ana@example.com\"}"),
	        &b));
	CHECK_INT(b.start, CLASS_START);
	CHECK_INT(b.duration_min, 60);
	CHECK_STR(b.class_type, "individual");
	CHECK_INT(b.participants, 1);
	CHECK_STR(b.email, "ana@example.com");
	CHECK_STR(b.name, "");
	CHECK_STR(b.notes, "");
}

TEST(start_is_read_with_or_without_an_offset)
{
	static const char *const same[] = {
	        "\"2027-01-10T15:00:00-03:00\"",
	        "\"2027-01-10T18:00:00Z\"",
	        "\"2027-01-10T15:00:00\"", /* read in Buenos Aires */
	        "\"2027-01-10T15:00:00.750-03:00\"",
	        "\"2027-01-10T19:00:00+01:00\"",
	};
	struct bookreq b;
	size_t i;

	CHECK(tz_set(ZONE) == 0);
	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		memset(&b, 0, sizeof(b));
		CHECK(accepts(base_with("start", same[i]), &b));
		CHECK_INT(b.start, CLASS_START);
	}
}

TEST(start_must_be_a_future_time_beyond_the_notice)
{
	struct bookreq b;

	CHECK(tz_set(ZONE) == 0);
	CHECK(refuses(base_with("start", NULL), "start"));
	CHECK(refuses(base_with("start", "1799604000"), "start"));
	CHECK(refuses(base_with("start", "null"), "start"));
	CHECK(refuses(base_with("start", "true"), "start"));
	CHECK(refuses(base_with("start", "{}"), "start"));
	CHECK(refuses(base_with("start", "\"\""), "start"));
	CHECK(refuses(base_with("start", "\"tomorrow\""), "start"));
	CHECK(refuses(base_with("start", "\"2027-01-10 15:00:00\""), "start"));
	CHECK(refuses(base_with("start", "\"2027-01-10T15:00:00-03:00 \""),
	              "start"));
	CHECK(refuses(base_with("start", "\"2027-02-29T15:00:00Z\""), "start"));
	CHECK(refuses(base_with("start", "\"2027-01-10T24:00:00Z\""), "start"));
	/* In the past. */
	CHECK(refuses(base_with("start", "\"2026-11-30T15:00:00-03:00\""),
	              "start"));
	CHECK(refuses(base_with("start", "\"2026-12-01T12:00:00Z\""), "start"));
	/* Inside the notice (a start the school does not offer): now + 90
	 * minutes, then exactly now + 120. */
	CHECK(outside_hours(base_with("start", "\"2026-12-01T13:30:00Z\"")));
	CHECK(outside_hours(base_with("start", "\"2026-12-01T13:59:59Z\"")));
	CHECK(accepts(base_with("start", "\"2026-12-01T14:00:00Z\""), &b));
	CHECK_INT(b.start, NOW + 120 * 60);
}

TEST(start_skipped_by_daylight_saving_is_refused)
{
	struct bookreq b;
	int ok;

	/* Madrid moves its clocks from 02:00 to 03:00 on 2027-03-28. */
	CHECK(tz_set("Europe/Madrid") == 0);
	ok = refuses(base_with("start", "\"2027-03-28T02:30:00\""), "start") &&
	     accepts(base_with("start", "\"2027-03-28T03:30:00\""), &b);
	CHECK(tz_set(ZONE) == 0);
	CHECK(ok);
	CHECK_INT(b.start, 1806197400LL); /* 01:30Z */
}

TEST(duration_is_a_whole_number_from_15_to_240)
{
	static const char *const bad[] = {
	        "14",   "241",  "0",      "-60",
	        "60.5", "60.0", "\"60\"", "true",
	        "null", "[60]", "1e2",    "99999999999999999999"};
	struct bookreq b;
	size_t i;

	CHECK(tz_set(ZONE) == 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(refuses(base_with("durationMinutes", bad[i]),
		              "durationMinutes"));
	CHECK(accepts(base_with("durationMinutes", "15"), &b));
	CHECK_INT(b.duration_min, 15);
	CHECK(accepts(base_with("durationMinutes", "240"), &b));
	CHECK_INT(b.duration_min, 240);
}

TEST(participants_from_1_to_50)
{
	static const char *const bad[] = {"0",   "51",   "-1",   "\"2\"",
	                                  "2.5", "null", "true", "4294967297"};
	struct bookreq b;
	size_t i;

	CHECK(tz_set(ZONE) == 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(refuses(base_with("participants", bad[i]),
		              "participants"));
	CHECK(accepts(base_with("participants", "1"), &b));
	CHECK_INT(b.participants, 1);
	CHECK(accepts(base_with("participants", "50"), &b));
	CHECK_INT(b.participants, 50);
}

TEST(class_type_has_1_to_64_printable_characters)
{
	struct bookreq b;
	char *s;
	int ok;

	CHECK(tz_set(ZONE) == 0);
	CHECK(refuses(base_with_string("classType", ""), "classType"));
	s = repeat("a", 65);
	ok = refuses(base_with_string("classType", s), "classType");
	free(s);
	CHECK(ok);
	s = repeat("a", 64);
	ok = accepts(base_with_string("classType", s), &b) &&
	     strcmp(b.class_type, s) == 0;
	free(s);
	CHECK(ok);
	/* Characters, not bytes: 64 two-byte characters. */
	s = repeat("é", 64);
	ok = accepts(base_with_string("classType", s), &b) &&
	     strcmp(b.class_type, s) == 0;
	free(s);
	CHECK(ok);
	s = repeat("é", 65);
	ok = refuses(base_with_string("classType", s), "classType");
	free(s);
	CHECK(ok);
	CHECK(refuses(base_with_string("classType", "grupal\tx"), "classType"));
	CHECK(refuses(base_with_string("classType", "a\nb"), "classType"));
	CHECK(refuses(base_with_string("classType", "a\x7f"), "classType"));
	CHECK(refuses(base_with("classType", "7"), "classType"));
	CHECK(refuses(base_with("classType", "null"), "classType"));
	CHECK(refuses(base_with("classType", "[\"grupal\"]"), "classType"));
}

TEST(student_email_is_required)
{
	CHECK(tz_set(ZONE) == 0);
	CHECK(refuses(base_with("studentEmail", NULL), "studentEmail"));
	CHECK(refuses(base_with("studentEmail", "null"), "studentEmail"));
	CHECK(refuses(base_with("studentEmail", "42"), "studentEmail"));
	CHECK(refuses(base_with("studentEmail", "[\"ana@example.com\"]"),
	              "studentEmail"));
}

TEST(malformed_email_addresses_are_refused)
{
	static const char *const bad[] = {
	        "",
	        "ana",
	        "ana@",
	        "@x.com",
	        "ana@x",
	        "ana@@x.com",
	        "a..b@x.com",
	        ".a@x.com",
	        "a.@x.com",
	        "ana@x..com",
	        "ana@-x.com",
	        "ana@x-.com",
	        "ana@x.c0m",
	        "ana@x.123",
	        "ana @x.com",
	        "ana@x.com\n",
	        "\nana@x.com",
	        "ana@x.com.",
	        "ana@.x.com",
	        "ana@x.c",
	        "a\"b@x.com",
	        "ana@x_y.com",
	        "ana@x.com ",
	        "ana@exámple.com",
	        "a@b@x.com",
	        "ana@x,com",
	};
	char local[65], domain[200], addr[300];
	size_t i;

	CHECK(tz_set(ZONE) == 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(refuses(base_with_string("studentEmail", bad[i]),
		              "studentEmail"));
	/* 64 + 1 + 190 = 255 bytes: one too many (RFC 5321). */
	memset(local, 'a', 64);
	local[64] = '\0';
	snprintf(domain, sizeof(domain), "%.63s.%.63s.%.62s",
	         "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	         "bb",
	         "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
	         "cc",
	         "ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
	         "dd");
	snprintf(addr, sizeof(addr), "%s@%s", local, domain);
	CHECK_INT(strlen(addr), 255);
	CHECK(refuses(base_with_string("studentEmail", addr), "studentEmail"));
	/* 254 bytes is the longest allowed. */
	addr[253] = '\0';
	CHECK(email_accepted(addr));
	/* A local part of 65 characters is too long. */
	snprintf(addr, sizeof(addr), "a%s@x.com", local);
	CHECK(refuses(base_with_string("studentEmail", addr), "studentEmail"));
}

TEST(ordinary_email_addresses_are_accepted)
{
	CHECK(tz_set(ZONE) == 0);
	CHECK(email_accepted("ana@example.com"));
	CHECK(email_accepted("Ana.Maria+clases@sub.example.com.ar"));
	CHECK(email_accepted("o'brien@example.ie"));
	CHECK(email_accepted("x@a-b.io"));
	CHECK(email_accepted("ANA@EXAMPLE.COM"));
}

TEST(student_name_and_notes_are_bounded)
{
	struct bookreq b;
	char *s;
	int ok;

	CHECK(tz_set(ZONE) == 0);
	s = repeat("ñ", 200);
	ok = accepts(base_with_string("studentName", s), &b) &&
	     strcmp(b.name, s) == 0;
	free(s);
	CHECK(ok);
	s = repeat("n", 201);
	ok = refuses(base_with_string("studentName", s), "studentName");
	free(s);
	CHECK(ok);
	CHECK(refuses(base_with("studentName", "42"), "studentName"));
	CHECK(refuses(base_with("studentName", "null"), "studentName"));
	CHECK(refuses(base_with("studentName", "{\"first\":\"Ana\"}"),
	              "studentName"));
	CHECK(refuses(base_with_string("studentName", "Ana\nMaría"),
	              "studentName"));
	s = repeat("x", 2000);
	ok = accepts(base_with_string("notes", s), &b) &&
	     strcmp(b.notes, s) == 0;
	free(s);
	CHECK(ok);
	s = repeat("€", 2000);
	ok = accepts(base_with_string("notes", s), &b) &&
	     strcmp(b.notes, s) == 0;
	free(s);
	CHECK(ok);
	s = repeat("x", 2001);
	ok = refuses(base_with_string("notes", s), "notes");
	free(s);
	CHECK(ok);
	CHECK(refuses(base_with("notes", "false"), "notes"));
	/* Notes may run over several lines. */
	CHECK(accepts(base_with_string("notes", "línea 1\nlínea 2"), &b));
	CHECK_STR(b.notes, "línea 1\nlínea 2");
}

TEST(unknown_fields_are_refused_by_name)
{
	CHECK(tz_set(ZONE) == 0);
	CHECK(refuses(base_with("foo", "1"), "foo"));
	CHECK(refuses(base_with("StudentEmail", "\"ana@example.com\""),
	              "StudentEmail"));
	CHECK(refuses(base_with("id", "\"" BOOKING "\""), "id"));
	CHECK(refuses(
	        json_tokener_parse("{\"start\":\"2027-01-10T15:00:00-03:00\","
	                           "\"studentEmail\":\"ana@example.com\","
	                           "\"duration\":60}"),
	        "duration"));
}

/* Whether bookreq_parse_patch gives rc and, on success, *start and *dur. */
static int patch(const char *json, int want_rc, const char *want_field,
                 int64_t *start, int *dur)
{
	struct json_object *body = json_tokener_parse(json);
	char field[80] = "", msg[256] = "";
	int64_t s = *start;
	int d = *dur, rc;

	rc = bookreq_parse_patch(body, OPEN, NOW, NOTICE, start, dur, field,
	                         sizeof(field), msg, sizeof(msg));
	json_object_put(body);
	if (rc != want_rc || (rc != 0 && (strcmp(field, want_field) != 0 ||
	                                  !names_field(msg, want_field) ||
	                                  *start != s || *dur != d))) {
		fprintf(stderr,
		        "  patch %s: rc %d, field \"%s\" (expected \"%s\"), "
		        "msg \"%s\", start %lld, duration %d\n",
		        json, rc, field, want_field ? want_field : "", msg,
		        (long long)*start, *dur);
		return 0;
	}
	return 1;
}

TEST(patch_changes_what_it_is_given)
{
	int64_t start = CLASS_START;
	int dur = 90;

	CHECK(tz_set(ZONE) == 0);
	CHECK(patch("{\"start\":\"2027-01-11T10:00:00-03:00\"}", 0, NULL,
	            &start, &dur));
	CHECK_INT(start, CLASS_START + 86400 - 5 * 3600);
	CHECK_INT(dur, 90);
	CHECK(patch("{\"durationMinutes\":45}", 0, NULL, &start, &dur));
	CHECK_INT(start, CLASS_START + 86400 - 5 * 3600);
	CHECK_INT(dur, 45);
	CHECK(patch("{\"start\":\"2027-01-10T15:00:00\","
	            "\"durationMinutes\":240}",
	            0, NULL, &start, &dur));
	CHECK_INT(start, CLASS_START);
	CHECK_INT(dur, 240);
}

TEST(patch_refuses_bad_bodies_and_keeps_the_values)
{
	static const struct {
		const char *json;
		const char *field;
	} bad[] = {
	        {"{}", "start"},
	        {"{\"classType\":\"grupal\"}", "classType"},
	        {"{\"start\":\"2027-01-11T10:00:00Z\",\"foo\":1}", "foo"},
	        {"{\"studentEmail\":\"ana@example.com\"}", "studentEmail"},
	        {"{\"start\":null}", "start"},
	        {"{\"start\":42}", "start"},
	        {"{\"start\":\"2027-01-11\"}", "start"},
	        {"{\"start\":\"2026-11-30T10:00:00-03:00\"}", "start"},
	        {"{\"durationMinutes\":14}", "durationMinutes"},
	        {"{\"durationMinutes\":241}", "durationMinutes"},
	        {"{\"durationMinutes\":60.5}", "durationMinutes"},
	        {"{\"durationMinutes\":\"60\"}", "durationMinutes"},
	        {"{\"durationMinutes\":true}", "durationMinutes"},
	        {"{\"durationMinutes\":null}", "durationMinutes"},
	        /* A good start does not go through with a bad duration. */
	        {"{\"start\":\"2027-01-11T10:00:00Z\",\"durationMinutes\":300}",
	         "durationMinutes"},
	        {"{\"start\":\"2027-01-11T10:00:00Z\",\"durationMinutes\":0}",
	         "durationMinutes"},
	};
	int64_t start = CLASS_START;
	int dur = 90;
	size_t i;

	CHECK(tz_set(ZONE) == 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(patch(bad[i].json, -1, bad[i].field, &start, &dur));
		CHECK_INT(start, CLASS_START);
		CHECK_INT(dur, 90);
	}
	/* Inside the notice, or off the half-hour grid: not offered. */
	CHECK(patch("{\"start\":\"2026-12-01T13:30:00Z\"}", -2, "start", &start,
	            &dur));
	CHECK(patch("{\"start\":\"2027-01-11T10:07:00Z\"}", -2, "start", &start,
	            &dur));
	CHECK_INT(start, CLASS_START);
	CHECK_INT(dur, 90);
	CHECK(tz_set("Europe/Madrid") == 0);
	i = patch("{\"start\":\"2027-03-28T02:30:00\"}", -1, "start", &start,
	          &dur);
	CHECK(tz_set(ZONE) == 0);
	CHECK(i);
	CHECK_INT(start, CLASS_START);
}

/* Whether c is one of the characters Google allows in an event id. */
static int base32hex(char c)
{
	return (c >= 'a' && c <= 'v') || (c >= '0' && c <= '9');
}

TEST(event_ids_are_base32hex_and_stable)
{
	static const char *const ids[] = {
	        "0123456789abcdef0123456789abcdef",
	        "ffffffffffffffffffffffffffffffff",
	        "00000000000000000000000000000000",
	        "fedcba9876543210fedcba9876543210",
	        "0123456789abcdef0123456789abcdee",
	        "a0000000000000000000000000000000",
	        "deadbeefdeadbeefdeadbeefdeadbeef",
	};
	enum { N = sizeof(ids) / sizeof(ids[0]) };
	char ev[N][BOOKREQ_EVENT_ID_LEN + 8], req[N][56], again[56];
	size_t i, j, k;

	for (i = 0; i < N; i++) {
		memset(ev[i], '#', sizeof(ev[i]));
		memset(req[i], '#', sizeof(req[i]));
		bookreq_event_id(ids[i], ev[i]);
		bookreq_request_id(ids[i], req[i]);
		CHECK_INT(strlen(ev[i]), BOOKREQ_EVENT_ID_LEN);
		CHECK_INT(strlen(ev[i]), 34);
		CHECK(ev[i][BOOKREQ_EVENT_ID_LEN + 1] == '#');
		CHECK(strncmp(ev[i], "bk", 2) == 0);
		CHECK_STR(ev[i] + 2, ids[i]);
		for (k = 0; k < BOOKREQ_EVENT_ID_LEN; k++)
			CHECK(base32hex(ev[i][k]));
		CHECK(strlen(req[i]) > 0 && strlen(req[i]) < 48);
		CHECK(req[i][48] == '#');
		CHECK(strstr(req[i], ids[i]) != NULL);
		/* The same id again, the same answers. */
		bookreq_event_id(ids[i], again);
		CHECK_STR(again, ev[i]);
		bookreq_request_id(ids[i], again);
		CHECK_STR(again, req[i]);
	}
	for (i = 0; i < N; i++)
		for (j = i + 1; j < N; j++) {
			CHECK(strcmp(ev[i], ev[j]) != 0);
			CHECK(strcmp(req[i], req[j]) != 0);
		}
}

/* The schemas of Google's discovery document, and why a check failed. */
static struct json_object *discovery;
static char why[512];

/* schema, or the schema its "$ref" names; NULL when unknown. */
static struct json_object *resolve(struct json_object *schema)
{
	struct json_object *schemas, *ref, *named;

	if (!json_object_object_get_ex(schema, "$ref", &ref))
		return schema;
	if (!json_object_object_get_ex(discovery, "schemas", &schemas) ||
	    !json_object_object_get_ex(schemas, json_object_get_string(ref),
	                               &named))
		return NULL;
	return named;
}

/*
 * Whether v conforms to schema: every key a property (or, with
 * additionalProperties, a value of that schema), every value of the JSON
 * type the schema names, every item of an array conforming to "items".
 * Says where it does not in why.
 */
static int conforms(struct json_object *schema, struct json_object *v,
                    const char *path)
{
	struct json_object *t, *props, *extra, *items, *sub;
	char sub_path[256];
	const char *type;
	size_t i;

	schema = resolve(schema);
	if (schema == NULL || !json_object_object_get_ex(schema, "type", &t)) {
		snprintf(why, sizeof(why), "%s: no schema", path);
		return 0;
	}
	type = json_object_get_string(t);
	if (strcmp(type, "any") == 0)
		return 1;
	if ((strcmp(type, "string") == 0 &&
	     json_object_is_type(v, json_type_string)) ||
	    (strcmp(type, "integer") == 0 &&
	     json_object_is_type(v, json_type_int)) ||
	    (strcmp(type, "number") == 0 &&
	     (json_object_is_type(v, json_type_int) ||
	      json_object_is_type(v, json_type_double))) ||
	    (strcmp(type, "boolean") == 0 &&
	     json_object_is_type(v, json_type_boolean)))
		return 1;
	if (strcmp(type, "array") == 0 &&
	    json_object_is_type(v, json_type_array)) {
		if (!json_object_object_get_ex(schema, "items", &items)) {
			snprintf(why, sizeof(why), "%s: no items", path);
			return 0;
		}
		for (i = 0; i < json_object_array_length(v); i++) {
			snprintf(sub_path, sizeof(sub_path), "%s[%zu]", path,
			         i);
			if (!conforms(items, json_object_array_get_idx(v, i),
			              sub_path))
				return 0;
		}
		return 1;
	}
	if (strcmp(type, "object") == 0 &&
	    json_object_is_type(v, json_type_object)) {
		if (!json_object_object_get_ex(schema, "properties", &props))
			props = NULL;
		if (!json_object_object_get_ex(schema, "additionalProperties",
		                               &extra))
			extra = NULL;
		json_object_object_foreach(v, key, val)
		{
			snprintf(sub_path, sizeof(sub_path), "%s.%s", path,
			         key);
			if (props == NULL ||
			    !json_object_object_get_ex(props, key, &sub))
				sub = extra;
			if (sub == NULL) {
				snprintf(why, sizeof(why),
				         "%s is not a property", sub_path);
				return 0;
			}
			if (!conforms(sub, val, sub_path))
				return 0;
		}
		return 1;
	}
	snprintf(why, sizeof(why), "%s: %s is not of type %s", path,
	         json_object_to_json_string(v), type);
	return 0;
}

/* Whether ev is an Event as Google's discovery document describes it;
 * why says where not. */
static int event_conforms(struct json_object *ev)
{
	struct json_object *schemas, *event;

	if (discovery == NULL)
		discovery = json_object_from_file(DISCOVERY);
	if (discovery == NULL ||
	    !json_object_object_get_ex(discovery, "schemas", &schemas) ||
	    !json_object_object_get_ex(schemas, "Event", &event)) {
		snprintf(why, sizeof(why), "cannot read %s", DISCOVERY);
		return 0;
	}
	return conforms(event, ev, "event");
}

/* The same, saying why not on stderr. */
static int is_event(struct json_object *ev)
{
	if (!event_conforms(ev)) {
		fprintf(stderr, "  %s\n", why);
		return 0;
	}
	return 1;
}

/* The string at a dotted path of o ("a.b.c"), or NULL. */
static const char *at(struct json_object *o, const char *path)
{
	char key[64];
	const char *dot;

	while ((dot = strchr(path, '.')) != NULL) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		if (!json_object_object_get_ex(o, key, &o))
			return NULL;
		path = dot + 1;
	}
	if (!json_object_object_get_ex(o, path, &o) ||
	    !json_object_is_type(o, json_type_string))
		return NULL;
	return json_object_get_string(o);
}

/* Whether the string at path of o is want. */
static int is(struct json_object *o, const char *path, const char *want)
{
	const char *got = at(o, path);

	if (got == NULL || strcmp(got, want) != 0) {
		fprintf(stderr, "  %s is \"%s\", expected \"%s\"\n", path,
		        got ? got : "(none)", want);
		return 0;
	}
	return 1;
}

TEST(the_schema_check_can_fail)
{
	static const struct {
		const char *json;
		const char *where;
	} wrong[] = {
	        {"{\"summary\":\"x\",\"colour\":\"red\"}", "event.colour"},
	        {"{\"transparency\":1}", "event.transparency"},
	        {"{\"attendees\":[{\"mail\":\"a@b.cd\"}]}",
	         "event.attendees[0].mail"},
	        {"{\"attendees\":{\"email\":\"a@b.cd\"}}", "event.attendees"},
	        {"{\"extendedProperties\":{\"private\":{\"bookingId\":7}}}",
	         "event.extendedProperties.private.bookingId"},
	        {"{\"start\":{\"dateTime\":\"x\",\"tz\":\"y\"}}",
	         "event.start.tz"},
	        {"{\"conferenceData\":{\"createRequest\":"
	         "{\"conferenceSolutionKey\":{\"kind\":1}}}}",
	         "event.conferenceData.createRequest.conferenceSolutionKey."
	         "kind"},
	        {"{\"sequence\":\"2\"}", "event.sequence"},
	        {"{\"summary\":null}", "event.summary"},
	};
	struct json_object *ev;
	size_t i;
	int ok;

	for (i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		ev = json_tokener_parse(wrong[i].json);
		why[0] = '\0';
		ok = !event_conforms(ev) &&
		     strncmp(why, wrong[i].where, strlen(wrong[i].where)) == 0;
		json_object_put(ev);
		if (!ok)
			fprintf(stderr, "  %s: \"%s\"\n", wrong[i].json, why);
		CHECK(ok);
	}
	/* And passes a plain one. */
	ev = json_tokener_parse("{\"summary\":\"x\",\"sequence\":2,"
	                        "\"guestsCanModify\":false,"
	                        "\"extendedProperties\":{\"private\":"
	                        "{\"a\":\"b\",\"c\":\"d\"}}}");
	CHECK(is_event(ev));
	json_object_put(ev);
}

TEST(event_follows_googles_schema_and_says_what_the_class_is)
{
	struct bookreq b;
	struct json_object *ev = NULL, *att, *who, *v;
	char id[BOOKREQ_EVENT_ID_LEN + 1], req[48], s[TZ_ISO_MAX],
	        e[TZ_ISO_MAX];
	const char *desc;

	CHECK(tz_set(ZONE) == 0);
	CHECK(accepts(json_tokener_parse(base_json), &b));
	bookreq_event_id(BOOKING, id);
	bookreq_request_id(BOOKING, req);
	CHECK(tz_format_iso(CLASS_START, s, sizeof(s)) == 0);
	CHECK(tz_format_iso(CLASS_START + 90 * 60, e, sizeof(e)) == 0);
	CHECK_STR(s, "2027-01-10T15:00:00-03:00");
	CHECK_STR(e, "2027-01-10T16:30:00-03:00");
	ev = bookreq_event(BOOKING, &b, ZONE);
	CHECK(ev != NULL);
	if (!is_event(ev)) {
		json_object_put(ev);
		CHECK(!"the event is not a Google Event");
	}
	if (!is(ev, "id", id) || !is(ev, "summary", "Clase de Inglés") ||
	    !is(ev, "start.dateTime", s) || !is(ev, "start.timeZone", ZONE) ||
	    !is(ev, "end.dateTime", e) || !is(ev, "end.timeZone", ZONE) ||
	    !is(ev, "transparency", "opaque") ||
	    !is(ev, "extendedProperties.private.bookingId", BOOKING) ||
	    !is(ev, "conferenceData.createRequest.requestId", req) ||
	    !is(ev, "conferenceData.createRequest.conferenceSolutionKey.type",
	        "hangoutsMeet")) {
		fprintf(stderr, "  %s\n",
		        json_object_to_json_string_ext(
		                ev, JSON_C_TO_STRING_PRETTY));
		json_object_put(ev);
		CHECK(!"the event's fields are not the booking's");
	}
	desc = at(ev, "description");
	if (desc == NULL || strstr(desc, "grupal") == NULL ||
	    strstr(desc, "3 participantes") == NULL ||
	    strstr(desc, "Ana María") == NULL ||
	    strstr(desc, "ana@example.com") == NULL ||
	    strstr(desc, "Traer el libro.") == NULL) {
		fprintf(stderr, "  description: %s\n", desc ? desc : "(none)");
		json_object_put(ev);
		CHECK(!"the description does not describe the class");
	}
	/* The student, and only the student, is invited. */
	att = NULL;
	json_object_object_get_ex(ev, "attendees", &att);
	who = json_object_array_get_idx(att, 0);
	if (!json_object_is_type(att, json_type_array) ||
	    json_object_array_length(att) != 1 ||
	    json_object_object_length(who) != 2 ||
	    !is(who, "email", "ana@example.com") ||
	    !is(who, "displayName", "Ana María")) {
		json_object_put(ev);
		CHECK(!"the attendees are not the student");
	}
	/* Nothing else that Google would read as an instruction. */
	if (json_object_object_get_ex(ev, "status", &v) ||
	    json_object_object_get_ex(ev, "iCalUID", &v) ||
	    json_object_object_get_ex(ev, "recurrence", &v)) {
		json_object_put(ev);
		CHECK(!"unexpected fields");
	}
	json_object_put(ev);
}

TEST(event_for_one_participant_without_name_or_notes)
{
	struct bookreq b;
	struct json_object *ev, *att, *who;
	const char *desc;
	char e[TZ_ISO_MAX];
	int ok;

	CHECK(tz_set(ZONE) == 0);
	CHECK(accepts(
	        json_tokener_parse("{\"start\":\"2027-01-10T15:00:00\","
	                           "\"studentEmail\":\"bo@example.org\"}"),
	        &b));
	ev = bookreq_event("ffffffffffffffffffffffffffffffff", &b, ZONE);
	CHECK(ev != NULL);
	ok = is_event(ev);
	desc = at(ev, "description");
	ok = ok && desc != NULL && strstr(desc, "individual") != NULL &&
	     strstr(desc, "1 participante") != NULL &&
	     strstr(desc, "participantes") == NULL &&
	     strstr(desc, "bo@example.org") != NULL &&
	     strstr(desc, "Notas") == NULL;
	ok = ok && tz_format_iso(CLASS_START + 3600, e, sizeof(e)) == 0 &&
	     is(ev, "end.dateTime", e);
	ok = ok && is(ev, "id", "bkffffffffffffffffffffffffffffffff") &&
	     is(ev, "extendedProperties.private.bookingId",
	        "ffffffffffffffffffffffffffffffff");
	att = NULL;
	ok = ok && json_object_object_get_ex(ev, "attendees", &att) &&
	     json_object_array_length(att) == 1;
	who = json_object_array_get_idx(att, 0);
	ok = ok && json_object_object_length(who) == 1 &&
	     is(who, "email", "bo@example.org");
	if (!ok)
		fprintf(stderr, "  %s\n",
		        json_object_to_json_string_ext(
		                ev, JSON_C_TO_STRING_PRETTY));
	json_object_put(ev);
	CHECK(ok);
}

TEST(event_in_another_zone_carries_that_zone)
{
	struct bookreq b;
	struct json_object *ev;
	int ok;

	CHECK(tz_set("Europe/Madrid") == 0);
	ok = accepts(base_with("start", "\"2027-07-01T10:00:00\""), &b);
	ev = ok ? bookreq_event(BOOKING, &b, "Europe/Madrid") : NULL;
	CHECK(tz_set(ZONE) == 0);
	CHECK(ev != NULL);
	ok = is_event(ev) &&
	     is(ev, "start.dateTime", "2027-07-01T10:00:00+02:00") &&
	     is(ev, "end.dateTime", "2027-07-01T11:30:00+02:00") &&
	     is(ev, "start.timeZone", "Europe/Madrid") &&
	     is(ev, "end.timeZone", "Europe/Madrid");
	json_object_put(ev);
	CHECK(ok);
}

TEST(awkward_text_comes_out_intact)
{
	static const char name[] = "Zoë \"la Profe\" O'Brien <ñ> & 日本";
	static const char notes[] =
	        "Línea 1: \"comillas\"\nLínea 2: <b>no es HTML</b> \\ "
	        "\xf0\x9f\x98\x80 </script>";
	struct bookreq b;
	struct json_object *body, *ev, *back, *att;
	const char *desc, *wire;
	int ok;

	CHECK(tz_set(ZONE) == 0);
	body = base_with_string("studentName", name);
	json_object_object_add(body, "notes", json_object_new_string(notes));
	CHECK(accepts(body, &b));
	CHECK_STR(b.name, name);
	CHECK_STR(b.notes, notes);
	ev = bookreq_event(BOOKING, &b, ZONE);
	CHECK(ev != NULL);
	/* Through the wire and back. */
	wire = json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN);
	back = wire ? json_tokener_parse(wire) : NULL;
	json_object_put(ev);
	CHECK(back != NULL);
	ok = is_event(back);
	desc = at(back, "description");
	ok = ok && desc != NULL && strstr(desc, name) != NULL &&
	     strstr(desc, notes) != NULL;
	att = NULL;
	ok = ok && json_object_object_get_ex(back, "attendees", &att) &&
	     is(json_object_array_get_idx(att, 0), "displayName", name) &&
	     is(json_object_array_get_idx(att, 0), "email",
	        "ana@example.com") &&
	     is(back, "summary", "Clase de Inglés");
	json_object_put(back);
	CHECK(ok);
}

TEST(longest_fields_still_make_an_event)
{
	struct bookreq b;
	struct json_object *body, *ev;
	char *s;
	int ok;

	CHECK(tz_set(ZONE) == 0);
	body = base_with("durationMinutes", "240");
	s = repeat("€", 64);
	json_object_object_add(body, "classType", json_object_new_string(s));
	free(s);
	s = repeat("€", 200);
	json_object_object_add(body, "studentName", json_object_new_string(s));
	free(s);
	s = repeat("\xf0\x9f\x98\x80", 2000);
	json_object_object_add(body, "notes", json_object_new_string(s));
	CHECK(accepts(body, &b));
	ev = bookreq_event(BOOKING, &b, ZONE);
	ok = ev != NULL && is_event(ev) && at(ev, "description") != NULL &&
	     strstr(at(ev, "description"), s) != NULL;
	free(s);
	json_object_put(ev);
	CHECK(ok);
}

/*
 * A class starts at most 366 days ahead (the latest start still makes an
 * event); anything later, up to the last second the parser reads, is
 * refused as a start, before any arithmetic on it.
 */
TEST(far_starts_are_refused_and_the_latest_makes_an_event)
{
	static const char *const late[] = {
	        "\"2027-12-02T09:30:00-03:00\"", /* NOW + 366 days + 30 min */
	        "\"2030-01-07T10:00:00-03:00\"",
	        "\"9999-12-31T19:00:00\"",
	        "\"9999-12-31T20:00:00\"",
	        "\"9999-12-31T20:00:00Z\"",
	        "\"9999-12-31T23:59:59Z\"",
	        "\"9999-12-31T23:59:59-23:59\"",
	};
	struct json_object *body, *ev;
	struct bookreq b;
	size_t i;

	CHECK(tz_set(ZONE) == 0);
	for (i = 0; i < sizeof(late) / sizeof(late[0]); i++) {
		body = base_with("start", late[i]);
		json_object_object_add(body, "durationMinutes",
		                       json_object_new_int(240));
		CHECK(outside_hours(body));
	}
	/* Nor may a patch move a class there. */
	for (i = 0; i < sizeof(late) / sizeof(late[0]); i++) {
		char json[128];
		int64_t start = CLASS_START;
		int dur = 90;

		snprintf(json, sizeof(json),
		         "{\"start\":%s,\"durationMinutes\":240}", late[i]);
		CHECK(patch(json, BOOKREQ_OUTSIDE_HOURS, "start", &start,
		            &dur));
		CHECK_INT(start, CLASS_START);
		CHECK_INT(dur, 90);
	}
	/* NOW + 366 days, a Thursday at 09:00: the last start offered. */
	body = base_with("start", "\"2027-12-02T09:00:00-03:00\"");
	json_object_object_add(body, "durationMinutes",
	                       json_object_new_int(240));
	CHECK(accepts(body, &b));
	CHECK_INT(b.start, NOW + 366LL * 86400);
	ev = bookreq_event(BOOKING, &b, ZONE);
	CHECK(ev != NULL);
	json_object_put(ev);
}

/* Whether bookreq_parse gives rc for body (taken) in the opening hours
 * spec, at NOW with notice minutes. */
static int rule_gives(const char *spec, long notice, struct json_object *body,
                      int want_rc)
{
	struct bookreq out;
	char field[80] = "", msg[256] = "";
	int rc = bookreq_parse(body, hours_of(spec), NOW, notice, &out, field,
	                       sizeof(field), msg, sizeof(msg));

	if (rc != want_rc || (rc != 0 && (strcmp(field, "start") != 0 ||
	                                  !names_field(msg, "start")))) {
		fprintf(stderr, "  body %s: rc %d (expected %d), %s: %s\n",
		        json_object_to_json_string(body), rc, want_rc, field,
		        msg);
		json_object_put(body);
		return 0;
	}
	json_object_put(body);
	return 1;
}

/* A body with start s (local time) and durationMinutes d. */
static struct json_object *at_for(const char *s, int d)
{
	struct json_object *b = base_with_string("start", s);

	json_object_object_add(b, "durationMinutes", json_object_new_int(d));
	return b;
}

/* The default hours: mon-fri 09:00-21:00, sat 09:00-13:00. NOW is Tuesday
 * 2026-12-01 09:00. */
TEST(the_start_must_be_a_slot_the_school_offers)
{
	const int out = BOOKREQ_OUTSIDE_HOURS;

	CHECK(tz_set(ZONE) == 0);
	/* Thursday 2026-12-03. */
	CHECK(rule_gives(DEFAULT, NOTICE, at_for("2026-12-03T15:00:00", 60),
	                 0));
	CHECK(rule_gives(DEFAULT, NOTICE, at_for("2026-12-03T03:00:00", 60),
	                 out));
	CHECK(rule_gives(DEFAULT, NOTICE, at_for("2026-12-03T15:07:00", 60),
	                 out));
	CHECK(rule_gives(DEFAULT, NOTICE, at_for("2026-12-03T15:00:30", 60),
	                 out));
	CHECK(rule_gives(DEFAULT, NOTICE, at_for("2026-12-03T20:00:00", 60),
	                 0));
	CHECK(rule_gives(DEFAULT, NOTICE, at_for("2026-12-03T20:30:00", 60),
	                 out));
	CHECK(rule_gives(DEFAULT, NOTICE, at_for("2026-12-03T17:00:00", 240),
	                 0));
	CHECK(rule_gives(DEFAULT, NOTICE, at_for("2026-12-03T17:30:00", 240),
	                 out));
	/* Saturday and Sunday. */
	CHECK(rule_gives(DEFAULT, NOTICE, at_for("2026-12-05T12:00:00", 60),
	                 0));
	CHECK(rule_gives(DEFAULT, NOTICE, at_for("2026-12-05T12:30:00", 60),
	                 out));
	CHECK(rule_gives(DEFAULT, NOTICE, at_for("2026-12-06T15:00:00", 60),
	                 out));
	CHECK(rule_gives(DEFAULT, NOTICE, at_for("2026-12-06T15:07:00", 60),
	                 out));
	/* The same instant written with another offset is the same slot. */
	CHECK(rule_gives(DEFAULT, NOTICE, at_for("2026-12-03T18:00:00Z", 60),
	                 0));
	CHECK(rule_gives(DEFAULT, NOTICE,
	                 at_for("2026-12-03T19:00:00+01:00", 60), 0));
	CHECK(rule_gives(DEFAULT, NOTICE, at_for("2026-12-03T18:07:00Z", 60),
	                 out));
	/* The notice: today 10:30 is too soon, 11:00 is the first slot; with
	 * no notice (a paid class) 09:30 is fine, 09:00 (now) is past. */
	CHECK(rule_gives(DEFAULT, NOTICE, at_for("2026-12-01T10:30:00", 60),
	                 out));
	CHECK(rule_gives(DEFAULT, NOTICE, at_for("2026-12-01T11:00:00", 60),
	                 0));
	CHECK(rule_gives(DEFAULT, 0, at_for("2026-12-01T09:30:00", 60), 0));
	CHECK(rule_gives(DEFAULT, 0, at_for("2026-12-01T09:00:00", 60),
	                 BOOKREQ_INVALID));
	/* Other hours, other slots. */
	CHECK(rule_gives("sun 14:00-18:00", NOTICE,
	                 at_for("2026-12-06T15:00:00", 60), 0));
	CHECK(rule_gives("sun 14:00-18:00", NOTICE,
	                 at_for("2026-12-03T15:00:00", 60), out));
	/* The rule comes after the fields: a bad field is named first. */
	{
		struct json_object *b = at_for("2026-12-03T03:00:00", 60);

		json_object_object_add(b, "participants",
		                       json_object_new_int(0));
		CHECK(refuses(b, "participants"));
	}
}

TEST(patch_keeps_the_class_inside_the_hours)
{
	/* Thursday 2026-12-03 20:00, 60 minutes. */
	int64_t start = NOW + 2 * 86400 + 11 * 3600;
	struct json_object *body;
	char field[80] = "", msg[256] = "";
	int dur = 60, rc;

	CHECK(tz_set(ZONE) == 0);
	/* Longer would end after 21:00, whichever field moves. */
	body = json_tokener_parse("{\"durationMinutes\":90}");
	rc = bookreq_parse_patch(body, hours_of(DEFAULT), NOW, NOTICE, &start,
	                         &dur, field, sizeof(field), msg, sizeof(msg));
	json_object_put(body);
	CHECK_INT(rc, BOOKREQ_OUTSIDE_HOURS);
	CHECK_STR(field, "start");
	CHECK_INT(dur, 60);
	body = json_tokener_parse("{\"start\":\"2026-12-03T03:00:00-03:00\"}");
	rc = bookreq_parse_patch(body, hours_of(DEFAULT), NOW, NOTICE, &start,
	                         &dur, field, sizeof(field), msg, sizeof(msg));
	json_object_put(body);
	CHECK_INT(rc, BOOKREQ_OUTSIDE_HOURS);
	CHECK_INT(start, NOW + 2 * 86400 + 11 * 3600);
	/* Earlier and longer fits. */
	body = json_tokener_parse("{\"start\":\"2026-12-03T19:30:00-03:00\","
	                          "\"durationMinutes\":90}");
	rc = bookreq_parse_patch(body, hours_of(DEFAULT), NOW, NOTICE, &start,
	                         &dur, field, sizeof(field), msg, sizeof(msg));
	json_object_put(body);
	CHECK_INT(rc, 0);
	CHECK_INT(dur, 90);
	CHECK_INT(start, NOW + 2 * 86400 + 10 * 3600 + 1800);
}

/* A message that quotes the body is cut between characters, never inside
 * one, and so is the field's name. */
TEST(quoted_keys_are_cut_on_character_boundaries)
{
	static const char *const units[] = {"ñ", "€", "\xf0\x9f\x98\x80", "a"};
	size_t i, n;

	CHECK(tz_set(ZONE) == 0);
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		for (n = 20; n <= 100; n += 7) {
			char *key = repeat(units[i], n), field[80] = "",
			     msg[256] = "", small[9] = "";
			struct json_object *body = base_with(key, "1");
			struct bookreq b;
			int rc;

			rc = bookreq_parse(body, OPEN, NOW, NOTICE, &b, field,
			                   sizeof(field), msg, sizeof(msg));
			CHECK_INT(rc, BOOKREQ_INVALID);
			CHECK(utf8_valid(msg, strlen(msg)));
			CHECK(utf8_valid(field, strlen(field)));
			CHECK(strncmp(msg, key,
			              strlen(field) < 64 ? strlen(field)
			                                 : 60) == 0);
			CHECK(strstr(msg, "is not a field of this request.") !=
			      NULL);
			rc = bookreq_parse(body, OPEN, NOW, NOTICE, &b, small,
			                   sizeof(small), msg, 40);
			CHECK_INT(rc, BOOKREQ_INVALID);
			CHECK(utf8_valid(msg, strlen(msg)));
			CHECK(utf8_valid(small, strlen(small)));
			CHECK(strlen(msg) < 40 && strlen(small) < 9);
			json_object_put(body);
			free(key);
		}
	}
}

int main(void)
{
	RUN(full_body_is_read);
	RUN(missing_fields_take_their_defaults);
	RUN(start_is_read_with_or_without_an_offset);
	RUN(start_must_be_a_future_time_beyond_the_notice);
	RUN(start_skipped_by_daylight_saving_is_refused);
	RUN(duration_is_a_whole_number_from_15_to_240);
	RUN(participants_from_1_to_50);
	RUN(class_type_has_1_to_64_printable_characters);
	RUN(student_email_is_required);
	RUN(malformed_email_addresses_are_refused);
	RUN(ordinary_email_addresses_are_accepted);
	RUN(student_name_and_notes_are_bounded);
	RUN(unknown_fields_are_refused_by_name);
	RUN(patch_changes_what_it_is_given);
	RUN(patch_refuses_bad_bodies_and_keeps_the_values);
	RUN(event_ids_are_base32hex_and_stable);
	RUN(the_schema_check_can_fail);
	RUN(event_follows_googles_schema_and_says_what_the_class_is);
	RUN(event_for_one_participant_without_name_or_notes);
	RUN(event_in_another_zone_carries_that_zone);
	RUN(awkward_text_comes_out_intact);
	RUN(longest_fields_still_make_an_event);
	RUN(far_starts_are_refused_and_the_latest_makes_an_event);
	RUN(the_start_must_be_a_slot_the_school_offers);
	RUN(patch_keeps_the_class_inside_the_hours);
	RUN(quoted_keys_are_cut_on_character_boundaries);
	json_object_put(discovery);
	return CHECK_DONE();
}
