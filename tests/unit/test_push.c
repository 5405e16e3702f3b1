/*
 * test_push - Google's push channels: the Channel answer of events.watch
 * read as Google gives it (expiration a string or a number), the token
 * stored as its SHA-256, and, with DATABASE_URL set, which notifications
 * a channel accepts (push_check()) on real rows.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json_tokener.h>

#include "check.h"
#include "io/db.h"
#include "school/push.h"
#include "upstream/gcal.h"

static int parse(const char *json, struct gcal_channel *c)
{
	struct json_object *o = json_tokener_parse(json);
	int rc = gcal_channel_parse(o, c);

	json_object_put(o);
	return rc;
}

TEST(channel_answers_are_read_as_google_gives_them)
{
	struct gcal_channel c;

	/* protocols.md §10.1: an int64 is a JSON string... */
	CHECK_INT(
	        parse("{\"kind\":\"api#channel\",\"id\":\"c1\",\"resourceId\":"
	              "\"r-1\",\"resourceUri\":\"https://x/events?alt=json\","
	              "\"expiration\":\"1572554586000\"}",
	              &c),
	        0);
	CHECK_STR(c.id, "c1");
	CHECK_STR(c.resource_id, "r-1");
	CHECK_INT(c.expiration_ms, 1572554586000LL);
	/* ...and also seen as a number; absent is 0. */
	CHECK_INT(parse("{\"id\":\"c1\",\"resourceId\":\"r\",\"expiration\":"
	                "1572554586000}",
	                &c),
	          0);
	CHECK_INT(c.expiration_ms, 1572554586000LL);
	CHECK_INT(parse("{\"id\":\"c1\",\"resourceId\":\"r\"}", &c), 0);
	CHECK_INT(c.expiration_ms, 0);
}

TEST(malformed_channels_are_refused_and_leave_the_output)
{
	static const char *const bad[] = {
	        "[]",
	        "{\"resourceId\":\"r\"}",
	        "{\"id\":\"c1\"}",
	        "{\"id\":\"\",\"resourceId\":\"r\"}",
	        "{\"id\":1,\"resourceId\":\"r\"}",
	        "{\"id\":\"c 1\",\"resourceId\":\"r\"}",
	        "{\"id\":\"c1\",\"resourceId\":\"r\\n\"}",
	        "{\"id\":\"c1\",\"resourceId\":\"r\",\"expiration\":\"-1\"}",
	        "{\"id\":\"c1\",\"resourceId\":\"r\",\"expiration\":-1}",
	        "{\"id\":\"c1\",\"resourceId\":\"r\",\"expiration\":\"1e12\"}",
	        "{\"id\":\"c1\",\"resourceId\":\"r\",\"expiration\":\"\"}",
	        "{\"id\":\"c1\",\"resourceId\":\"r\",\"expiration\":1.5}",
	        "{\"id\":\"c1\",\"resourceId\":\"r\",\"expiration\":"
	        "\"99999999999999999999\"}",
	        "{\"id\":\"c1\",\"resourceId\":\"r\",\"expiration\":true}",
	};
	struct gcal_channel c;
	char longid[128];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&c, 0x5a, sizeof(c));
		if (parse(bad[i], &c) != -1)
			CHECK_FAIL_("accepted %s", bad[i]);
		CHECK(c.id[0] == 0x5a);
	}
	CHECK(gcal_channel_parse(NULL, &c) == -1);
	/* A channel id is at most 64 characters. */
	snprintf(longid, sizeof(longid),
	         "{\"id\":\"%065d\",\"resourceId\":\"r\"}", 0);
	CHECK_INT(parse(longid, &c), -1);
	snprintf(longid, sizeof(longid),
	         "{\"id\":\"%064d\",\"resourceId\":\"r\"}", 0);
	CHECK_INT(parse(longid, &c), 0);
}

TEST(the_token_is_stored_as_its_sha256)
{
	char h[65];

	/* FIPS 180-2, appendix B.1 */
	push_token_hash("abc", h);
	CHECK_STR(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff6"
	             "1f20015ad");
}

/* ---- against a database ---- */

static struct db *db;
static struct proc proc;
static const char *const CAL = "push-unit@group.calendar.google.com";

static enum push_verdict check(const char *id, const char *res,
                               const char *token, const char *state)
{
	struct push_notice n = {id, res, token, state, "7"};

	return push_check(&proc, "test", &n);
}

/* A channel row as reconcile leaves it, expiring in exp_s seconds. */
static void plant(const char *id, const char *state, const char *res,
                  const char *token, int exp_s)
{
	char hash[65];
	struct db_param p[6];

	push_token_hash(token, hash);
	p[0] = db_text(id);
	p[1] = db_text(CAL);
	p[2] = db_text(res);
	p[3] = db_text(hash);
	p[4] = db_text(state);
	p[5] = db_int(exp_s);
	CHECK_INT(db_exec(db,
	                  "INSERT INTO push_channels (id, calendarId, "
	                  "resourceId, tokenHash, address, state, createdAt, "
	                  "expiresAt) VALUES (?, ?, ?, ?, 'https://x/', ?, "
	                  "UTC_TIMESTAMP(), UTC_TIMESTAMP(3) + INTERVAL ? "
	                  "SECOND)",
	                  p, 6, NULL),
	          DB_OK);
}

TEST(the_database_answers)
{
	struct db_param p = db_text(CAL);
	char err[256];

	db = db_new(getenv("DATABASE_URL"), err, sizeof(err));
	CHECK(db != NULL);
	CHECK_INT(db_exec(db, "DELETE FROM push_channels WHERE calendarId = ?",
	                  &p, 1, NULL),
	          DB_OK);
	proc.db = db;
	proc.cfg.google_calendar_id = CAL;
}

TEST(only_the_live_channel_with_its_resource_and_token_counts)
{
	const char *tok = "0123456789abcdef0123456789abcdef";
	long long n = -1;

	plant("unit-live", "live", "res-1", tok, 3600);
	plant("unit-gone", "live", "res-1", tok, -5);
	plant("unit-open", "opening", NULL, tok, 3600);
	CHECK_INT(check("unit-live", "res-1", tok, "exists"), PUSH_CHANGED);
	CHECK_INT(check("unit-live", "res-1", tok, "not_exists"), PUSH_CHANGED);
	CHECK_INT(check("unit-live", "res-1", tok, "sync"), PUSH_SYNC);
	CHECK_INT(check("unit-live", "res-1", tok, "add"), PUSH_BAD_STATE);
	/* The change was recorded, with its number. */
	CHECK_INT(db_query_int(db,
	                       "SELECT lastMessageNumber FROM push_channels "
	                       "WHERE id = 'unit-live'",
	                       NULL, 0, &n),
	          DB_OK);
	CHECK_INT(n, 7);
	/* Anything else is forged. */
	CHECK_INT(check("unit-none", "res-1", tok, "exists"), PUSH_FORGED);
	CHECK_INT(check("unit-live", "res-2", tok, "exists"), PUSH_FORGED);
	CHECK_INT(check("unit-live", "res-1",
	                "0123456789abcdef0123456789abcdee", "exists"),
	          PUSH_FORGED);
	CHECK_INT(check("unit-live", "res-1", NULL, "exists"), PUSH_FORGED);
	CHECK_INT(check("unit-live", "res-1", "", "exists"), PUSH_FORGED);
	CHECK_INT(check(NULL, "res-1", tok, "exists"), PUSH_FORGED);
	CHECK_INT(check("unit-live", NULL, tok, "exists"), PUSH_FORGED);
	CHECK_INT(check("unit-live", "res-2", tok, "sync"), PUSH_FORGED);
	/* An expired channel says nothing any more. */
	CHECK_INT(check("unit-gone", "res-1", tok, "exists"), PUSH_FORGED);
	/* A channel still opening (no resource id yet) may only sync. */
	CHECK_INT(check("unit-open", "res-1", tok, "sync"), PUSH_SYNC);
	CHECK_INT(check("unit-open", "res-1", tok, "exists"), PUSH_FORGED);
	/* Another calendar's channel is not ours. */
	proc.cfg.google_calendar_id = "other@group.calendar.google.com";
	CHECK_INT(check("unit-live", "res-1", tok, "exists"), PUSH_FORGED);
	proc.cfg.google_calendar_id = CAL;
}

TEST(status_says_whether_a_channel_is_live)
{
	struct push_status st;

	CHECK_INT(push_status(db, CAL, &st), 0);
	CHECK_INT(st.live, 1);
	CHECK(st.expires_at > 0);
	CHECK(st.last_message_at > 0);
	CHECK_INT(push_status(db, "nobody@group.calendar.google.com", &st), 0);
	CHECK_INT(st.live, 0);
}

TEST(the_rows_are_cleaned_up)
{
	struct db_param p = db_text(CAL);

	CHECK_INT(db_exec(db, "DELETE FROM push_channels WHERE calendarId = ?",
	                  &p, 1, NULL),
	          DB_OK);
}

int main(void)
{
	const char *url = getenv("DATABASE_URL");

	RUN(channel_answers_are_read_as_google_gives_them);
	RUN(malformed_channels_are_refused_and_leave_the_output);
	RUN(the_token_is_stored_as_its_sha256);
	if (url != NULL && *url != '\0') {
		RUN(the_database_answers);
		if (db != NULL) {
			RUN(only_the_live_channel_with_its_resource_and_token_counts);
			RUN(status_says_whether_a_channel_is_live);
			RUN(the_rows_are_cleaned_up);
			db_free(db);
		}
	}
	return CHECK_DONE();
}
