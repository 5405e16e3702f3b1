#include "school/bookreq.h"

#include <stdio.h>
#include <string.h>

#include <json-c/linkhash.h>

#include "core/jsonio.h"
#include "core/tz.h"
#include "core/utf8.h"
#include "school/slots.h"

#define QUOTE_MAX 64 /* bytes of the body a message quotes at most */

/* The number of UTF-8 characters of s (json-c checked the encoding). */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* Whether s has no control characters (C0, DEL, and C1: U+0080-U+009F,
 * which UTF-8 writes as 0xc2 0x80-0x9f). */
static int printable(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f ||
		    (c == 0xc2 && (unsigned char)s[1] >= 0x80 &&
		     (unsigned char)s[1] <= 0x9f))
			return 0;
	}
	return 1;
}

static int fail(char *field, size_t fieldlen, const char *name, char *msg,
                size_t msglen, const char *text)
{
	utf8_copy(field, fieldlen, name);
	utf8_copy(msg, msglen, text);
	return BOOKREQ_INVALID;
}

int bookreq_email_valid(const char *s)
{
	static const char local_ok[] = "!#$%&'*+-/=?^_`{|}~.";
	const char *at = strrchr(s, '@'), *p, *label;
	size_t n = strlen(s);

	if (n == 0 || n > BOOKREQ_MAX_EMAIL || at == NULL || at == s ||
	    at - s > 64 || strchr(s, '@') != at)
		return 0;
	/* Local part: dot-atom, no leading, trailing or double dot. */
	if (s[0] == '.' || at[-1] == '.')
		return 0;
	for (p = s; p < at; p++) {
		int c = (unsigned char)*p;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || strchr(local_ok, c) != NULL) ||
		    c == '\0')
			return 0;
		if (c == '.' && p[1] == '.')
			return 0;
	}
	/* Domain: labels of letters, digits and inner hyphens; at least two
	 * labels; the last one alphabetic, two letters or more. */
	label = at + 1;
	if (*label == '\0' || strchr(label, '.') == NULL)
		return 0;
	for (;;) {
		const char *end = strchr(label, '.');
		size_t len = end ? (size_t)(end - label) : strlen(label), i;

		if (len == 0 || len > 63 || label[0] == '-' ||
		    label[len - 1] == '-')
			return 0;
		for (i = 0; i < len; i++) {
			int c = (unsigned char)label[i];

			if (!((c >= 'a' && c <= 'z') ||
			      (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '-'))
				return 0;
			if (end == NULL && ((c >= '0' && c <= '9') || c == '-'))
				return 0;
		}
		if (end == NULL)
			return len >= 2;
		label = end + 1;
	}
}

/* An integer field within [min, max]; absent keeps *out. -1 on error. */
static int int_field(struct json_object *body, const char *name, int min,
                     int max, int *out, char *field, size_t fieldlen, char *msg,
                     size_t msglen)
{
	struct json_object *v;
	char text[160];
	int64_t n;

	if (!json_object_object_get_ex(body, name, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int)) {
		snprintf(text, sizeof(text),
		         "%s must be a whole number from %d to %d.", name, min,
		         max);
		return fail(field, fieldlen, name, msg, msglen, text);
	}
	n = json_object_get_int64(v);
	if (n < min || n > max) {
		snprintf(text, sizeof(text), "%s must be from %d to %d.", name,
		         min, max);
		return fail(field, fieldlen, name, msg, msglen, text);
	}
	*out = (int)n;
	return 0;
}

/* A start time: ISO 8601, not in the past. Whether the school offers it
 * is rule()'s, once the duration is known. */
static int start_field(struct json_object *body, int64_t now, int64_t *out,
                       char *field, size_t fieldlen, char *msg, size_t msglen)
{
	struct json_object *v;
	enum tz_result r;
	int64_t t;

	if (!json_object_object_get_ex(body, "start", &v) ||
	    !json_object_is_type(v, json_type_string))
		return fail(field, fieldlen, "start", msg, msglen,
		            "start must be an ISO 8601 time such as "
		            "2026-12-01T15:00:00-03:00.");
	r = tz_parse_iso(json_object_get_string(v), &t, NULL);
	if (r == TZ_NONEXISTENT)
		return fail(field, fieldlen, "start", msg, msglen,
		            "start does not exist in the school's time zone "
		            "(the clocks skip it for daylight saving time).");
	if (r != TZ_OK)
		return fail(field, fieldlen, "start", msg, msglen,
		            "start must be an ISO 8601 time such as "
		            "2026-12-01T15:00:00-03:00.");
	if (t <= now)
		return fail(field, fieldlen, "start", msg, msglen,
		            "start is in the past.");
	*out = t;
	return 0;
}

/*
 * The school's rule for a class of duration_min minutes from start
 * (slots_check(), the one /api/calendar/slots applies): BOOKREQ_OK, or a
 * refusal naming start.
 */
static int rule(const struct hours *h, int64_t start, int duration_min,
                int64_t now, long notice_min, char *field, size_t fieldlen,
                char *msg, size_t msglen)
{
	char text[300];

	switch (slots_check(h, start, duration_min, now, notice_min)) {
	case SLOTS_OFFERED:
		return BOOKREQ_OK;
	case SLOTS_PAST:
		return fail(field, fieldlen, "start", msg, msglen,
		            "start is in the past.");
	case SLOTS_TOO_SOON:
		snprintf(text, sizeof(text),
		         "start must be at least %ld minutes from now.",
		         notice_min);
		break;
	case SLOTS_TOO_FAR:
		snprintf(text, sizeof(text),
		         "start must be at most %d days from now.",
		         SLOTS_AHEAD_DAYS);
		break;
	case SLOTS_CLOSED:
	default:
		snprintf(
		        text, sizeof(text),
		        "start must be a time /api/calendar/slots offers for a "
		        "class of %d minutes: on the hour or half hour, within "
		        "the opening hours, the class ending by closing time.",
		        duration_min);
		break;
	}
	fail(field, fieldlen, "start", msg, msglen, text);
	return BOOKREQ_OUTSIDE_HOURS;
}

/* A string field of at most max characters; absent keeps out. */
static int string_field(struct json_object *body, const char *name, size_t max,
                        int required_nonempty, char *out, size_t outsize,
                        char *field, size_t fieldlen, char *msg, size_t msglen)
{
	struct json_object *v;
	const char *s;
	char text[160];

	if (!json_object_object_get_ex(body, name, &v))
		return 0;
	if (!json_object_is_type(v, json_type_string)) {
		snprintf(text, sizeof(text), "%s must be a string.", name);
		return fail(field, fieldlen, name, msg, msglen, text);
	}
	s = json_object_get_string(v);
	if ((required_nonempty && *s == '\0') || utf8_chars(s) > max ||
	    strlen(s) >= outsize) {
		snprintf(text, sizeof(text), "%s must have %s%zu characters.",
		         name, required_nonempty ? "1 to " : "at most ", max);
		return fail(field, fieldlen, name, msg, msglen, text);
	}
	if (strlen(s) != (size_t)json_object_get_string_len(v)) {
		snprintf(text, sizeof(text), "%s must not contain NUL.", name);
		return fail(field, fieldlen, name, msg, msglen, text);
	}
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

static const char *const post_fields[] = {
        "start",        "durationMinutes", "classType", "participants",
        "studentEmail", "studentName",     "notes",     NULL};

/* The first key of body not in allowed, or NULL. */
static const char *unknown_key(struct json_object *body,
                               const char *const *allowed)
{
	json_object_object_foreach(body, key, val)
	{
		const char *const *a;

		(void)val;
		for (a = allowed; *a; a++)
			if (strcmp(*a, key) == 0)
				break;
		if (*a == NULL)
			return key;
	}
	return NULL;
}

static int refuse_unknown(struct json_object *body, const char *const *allowed,
                          char *field, size_t fieldlen, char *msg,
                          size_t msglen)
{
	const char *k = unknown_key(body, allowed);
	char text[QUOTE_MAX + 64];
	size_t len, n;

	if (k == NULL)
		return 0;
	/* Quoted in part, cut between two characters (json-c checked the
	 * encoding; utf8_clip stops at anything it would not). */
	len = strlen(k);
	n = utf8_clip(k, len, QUOTE_MAX);
	snprintf(text, sizeof(text), "%.*s%s is not a field of this request.",
	         (int)n, k, n < len ? "..." : "");
	n = utf8_clip(k, len, fieldlen > 0 ? fieldlen - 1 : 0);
	if (fieldlen > 0)
		snprintf(field, fieldlen, "%.*s", (int)n, k);
	utf8_copy(msg, msglen, text);
	return BOOKREQ_INVALID;
}

int bookreq_parse(struct json_object *body, const struct hours *h, int64_t now,
                  long notice_min, struct bookreq *out, char *field,
                  size_t fieldlen, char *msg, size_t msglen)
{
	struct bookreq b;
	int rc;

	if (!json_object_is_type(body, json_type_object))
		return fail(field, fieldlen, "body", msg, msglen,
		            "The body must be a JSON object.");

	memset(&b, 0, sizeof(b));
	b.duration_min = BOOKREQ_DEFAULT_DURATION;
	b.participants = 1;
	snprintf(b.class_type, sizeof(b.class_type), "individual");
	if (refuse_unknown(body, post_fields, field, fieldlen, msg, msglen) ||
	    start_field(body, now, &b.start, field, fieldlen, msg, msglen) ||
	    int_field(body, "durationMinutes", BOOKREQ_MIN_DURATION,
	              BOOKREQ_MAX_DURATION, &b.duration_min, field, fieldlen,
	              msg, msglen) ||
	    string_field(body, "classType", BOOKREQ_MAX_CLASS_TYPE, 1,
	                 b.class_type, sizeof(b.class_type), field, fieldlen,
	                 msg, msglen) ||
	    int_field(body, "participants", 1, BOOKREQ_MAX_PARTICIPANTS,
	              &b.participants, field, fieldlen, msg, msglen) ||
	    string_field(body, "studentName", BOOKREQ_MAX_NAME, 0, b.name,
	                 sizeof(b.name), field, fieldlen, msg, msglen) ||
	    string_field(body, "notes", BOOKREQ_MAX_NOTES, 0, b.notes,
	                 sizeof(b.notes), field, fieldlen, msg, msglen))
		return BOOKREQ_INVALID;
	if (!printable(b.class_type))
		return fail(field, fieldlen, "classType", msg, msglen,
		            "classType must have printable characters only.");
	if (!printable(b.name))
		return fail(field, fieldlen, "studentName", msg, msglen,
		            "studentName must have printable characters only.");
	{
		const char *email = jsonio_string(body, "studentEmail");
		struct json_object *v;

		if (!json_object_object_get_ex(body, "studentEmail", &v) ||
		    email == NULL || !bookreq_email_valid(email))
			return fail(field, fieldlen, "studentEmail", msg,
			            msglen,
			            "studentEmail must be an e-mail address "
			            "such as ana@example.com.");
		memcpy(b.email, email, strlen(email) + 1);
	}
	rc = rule(h, b.start, b.duration_min, now, notice_min, field, fieldlen,
	          msg, msglen);
	if (rc != BOOKREQ_OK)
		return rc;
	*out = b;
	return BOOKREQ_OK;
}

int bookreq_parse_patch(struct json_object *body, const struct hours *h,
                        int64_t now, long notice_min, int64_t *start,
                        int *duration_min, char *field, size_t fieldlen,
                        char *msg, size_t msglen)
{
	static const char *const fields[] = {"start", "durationMinutes", NULL};
	struct json_object *v;
	int64_t s = *start;
	int d = *duration_min, rc;

	if (!json_object_is_type(body, json_type_object))
		return fail(field, fieldlen, "body", msg, msglen,
		            "The body must be a JSON object.");
	if (refuse_unknown(body, fields, field, fieldlen, msg, msglen))
		return BOOKREQ_INVALID;
	if (!json_object_object_get_ex(body, "start", &v) &&
	    !json_object_object_get_ex(body, "durationMinutes", &v))
		return fail(field, fieldlen, "start", msg, msglen,
		            "Give start, durationMinutes or both.");
	if (json_object_object_get_ex(body, "start", &v) &&
	    start_field(body, now, &s, field, fieldlen, msg, msglen))
		return BOOKREQ_INVALID;
	if (int_field(body, "durationMinutes", BOOKREQ_MIN_DURATION,
	              BOOKREQ_MAX_DURATION, &d, field, fieldlen, msg, msglen))
		return BOOKREQ_INVALID;
	/* The class as it would be, whichever field moved. */
	rc = rule(h, s, d, now, notice_min, field, fieldlen, msg, msglen);
	if (rc != BOOKREQ_OK)
		return rc;
	*start = s;
	*duration_min = d;
	return BOOKREQ_OK;
}

void bookreq_event_id(const char *booking_id, char *out)
{
	snprintf(out, BOOKREQ_EVENT_ID_LEN + 1, "bk%.32s", booking_id);
}

void bookreq_request_id(const char *booking_id, char *out)
{
	snprintf(out, 48, "meet-%.32s", booking_id);
}

/* {"dateTime": ISO with offset, "timeZone": zone} */
static struct json_object *when(int64_t t, const char *zone)
{
	struct json_object *o = json_object_new_object();
	char s[TZ_ISO_MAX];

	if (o == NULL || tz_format_iso(t, s, sizeof(s)) != 0 ||
	    jsonio_add_string(o, "dateTime", s) ||
	    jsonio_add_string(o, "timeZone", zone)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* Adds a new object under key and returns it (owned by parent), or NULL. */
static struct json_object *child(struct json_object *parent, const char *key)
{
	struct json_object *o = json_object_new_object();

	if (o == NULL || jsonio_add(parent, key, o) != 0)
		return NULL;
	return o;
}

struct json_object *bookreq_event(const char *booking_id,
                                  const struct bookreq *b, const char *zone)
{
	struct json_object *ev = json_object_new_object();
	struct json_object *o, *att, *who, *start, *end;
	char id[BOOKREQ_EVENT_ID_LEN + 1], request[48], desc[16384];
	int n;

	if (ev == NULL)
		return NULL;
	bookreq_event_id(booking_id, id);
	bookreq_request_id(booking_id, request);
	n = snprintf(desc, sizeof(desc),
	             "Clase de inglés (%s) para %d %s.\nAlumno: %s%s%s%s\n%s%s",
	             b->class_type, b->participants,
	             b->participants == 1 ? "participante" : "participantes",
	             b->name, b->name[0] ? " <" : "", b->email,
	             b->name[0] ? ">" : "", b->notes[0] ? "Notas: " : "",
	             b->notes);
	if (n < 0 || (size_t)n >= sizeof(desc))
		goto fail;
	start = when(b->start, zone);
	if (start == NULL || jsonio_add(ev, "start", start) != 0)
		goto fail;
	end = when(b->start + (int64_t)b->duration_min * 60, zone);
	if (end == NULL || jsonio_add(ev, "end", end) != 0)
		goto fail;
	if (jsonio_add_string(ev, "id", id) ||
	    jsonio_add_string(ev, "summary", BOOKREQ_SUMMARY) ||
	    jsonio_add_string(ev, "description", desc) ||
	    jsonio_add_string(ev, "transparency", "opaque"))
		goto fail;
	/* The student, invited. */
	att = json_object_new_array();
	if (att == NULL || jsonio_add(ev, "attendees", att) != 0)
		goto fail;
	who = json_object_new_object();
	if (who == NULL || json_object_array_add(att, who) != 0) {
		json_object_put(who);
		goto fail;
	}
	if (jsonio_add_string(who, "email", b->email) ||
	    (b->name[0] && jsonio_add_string(who, "displayName", b->name)))
		goto fail;
	/* Our booking id, for the admin's view and for reconciliation. */
	if ((o = child(ev, "extendedProperties")) == NULL ||
	    (o = child(o, "private")) == NULL ||
	    jsonio_add_string(o, "bookingId", booking_id))
		goto fail;
	/* A Meet link, asked once per booking. */
	if ((o = child(ev, "conferenceData")) == NULL ||
	    (o = child(o, "createRequest")) == NULL ||
	    jsonio_add_string(o, "requestId", request) ||
	    (o = child(o, "conferenceSolutionKey")) == NULL ||
	    jsonio_add_string(o, "type", "hangoutsMeet"))
		goto fail;
	return ev;
fail:
	json_object_put(ev);
	return NULL;
}
