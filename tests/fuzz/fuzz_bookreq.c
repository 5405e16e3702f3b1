/* Fuzz target: the body of POST and PATCH /api/calendar, and the Google
 * event made from a body that passed. A start that passes is one the school
 * offers (on the half hour, inside the opening hours, the class ending by
 * closing time, past the notice, at most 366 days ahead: slots_check); a
 * refusal is a sentence of valid UTF-8, and a start the school does not
 * offer is refused naming start. Two sets of hours: the default, and a
 * week open day and night (where only the grid and the window refuse). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "school/bookreq.h"
#include "school/hours.h"
#include "school/slots.h"
#include "core/jsonio.h"
#include "core/tz.h"
#include "core/utf8.h"

#define BOOKING "0123456789abcdef0123456789abcdef"
#define NOW     1796126400LL /* 2026-12-01T12:00:00Z */
#define NOTICE  120

static const char *const specs[] = {
        "mon-fri 09:00-21:00; sat 09:00-13:00",
        "mon-sun 00:00-24:00",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The string at key of o, or "". */
static const char *str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

static void event_of(const struct bookreq *b)
{
	struct json_object *ev, *o;
	char id[BOOKREQ_EVENT_ID_LEN + 1];

	ev = bookreq_event(BOOKING, b, TZ_DEFAULT_ZONE);
	if (ev == NULL)
		abort();
	bookreq_event_id(BOOKING, id);
	if (strcmp(str(ev, "id"), id) != 0)
		abort();
	if (!json_object_object_get_ex(ev, "extendedProperties", &o) ||
	    !json_object_object_get_ex(o, "private", &o) ||
	    strcmp(str(o, "bookingId"), BOOKING) != 0)
		abort();
	if (json_object_to_json_string(ev) == NULL)
		abort();
	json_object_put(ev);
}

/* 1 when the wall minute m of wday opens a class of dur minutes that ends
 * by the end of its opening range (no daylight saving in Buenos Aires). */
static int inside(const struct hours *h, int wday, int m, int dur)
{
	for (int i = 0; i < h->n[wday]; i++)
		if (h->day[wday][i].start <= m &&
		    m + dur <= h->day[wday][i].end)
			return 1;
	return 0;
}

/* What an accepted class must be. */
static void offered(const struct hours *h, int64_t start, int dur)
{
	struct tz_local l;

	if (slots_check(h, start, dur, NOW, NOTICE) != SLOTS_OFFERED)
		abort();
	if (start < NOW + NOTICE * 60 ||
	    start > NOW + (int64_t)SLOTS_AHEAD_DAYS * 86400)
		abort();
	if (tz_to_local(start, &l) != 0 || l.second != 0 ||
	    l.minute % SLOTS_STEP_MIN != 0 ||
	    !inside(h, l.wday, l.hour * 60 + l.minute, dur))
		abort();
}

/* What a refusal must be. */
static void refused(int rc, const char *field, const char *msg)
{
	if (rc != BOOKREQ_INVALID && rc != BOOKREQ_OUTSIDE_HOURS)
		abort();
	if (msg[0] == '\0' || !utf8_valid(msg, strlen(msg)) ||
	    !utf8_valid(field, strlen(field)))
		abort();
	if (rc == BOOKREQ_OUTSIDE_HOURS && strcmp(field, "start") != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hours hours[2];
	static int ready;
	struct json_object *body;
	struct bookreq b;
	char err[128], field[80], msg[256];
	size_t k;

	if (!ready) {
		if (tz_set(TZ_DEFAULT_ZONE) != 0)
			abort();
		for (k = 0; k < 2; k++)
			if (hours_parse(specs[k], &hours[k], err,
			                sizeof(err)) != 0)
				abort();
		ready = 1;
	}
	body = jsonio_parse((const char *)data, size, 16, err, sizeof(err));
	if (body == NULL)
		return 0;
	/* request_json hands the handlers objects only. */
	if (!json_object_is_type(body, json_type_object)) {
		json_object_put(body);
		return 0;
	}
	for (k = 0; k < 2; k++) {
		const struct hours *h = &hours[k];
		/* A class now at Thursday 2026-12-03 15:00 local. */
		int64_t start = NOW + 2 * 86400 + 6 * 3600;
		int dur = 60, rc;

		field[0] = msg[0] = '\0';
		rc = bookreq_parse(body, h, NOW, NOTICE, &b, field,
		                   sizeof(field), msg, sizeof(msg));
		if (rc == BOOKREQ_OK) {
			if (b.duration_min < BOOKREQ_MIN_DURATION ||
			    b.duration_min > BOOKREQ_MAX_DURATION ||
			    b.participants < 1 ||
			    b.participants > BOOKREQ_MAX_PARTICIPANTS ||
			    !bookreq_email_valid(b.email) ||
			    b.class_type[0] == '\0')
				abort();
			offered(h, b.start, b.duration_min);
			event_of(&b);
		} else {
			refused(rc, field, msg);
		}
		field[0] = msg[0] = '\0';
		rc = bookreq_parse_patch(body, h, NOW, NOTICE, &start, &dur,
		                         field, sizeof(field), msg,
		                         sizeof(msg));
		if (rc == BOOKREQ_OK) {
			if (dur < BOOKREQ_MIN_DURATION ||
			    dur > BOOKREQ_MAX_DURATION)
				abort();
			offered(h, start, dur);
		} else {
			refused(rc, field, msg);
			/* Nothing moved. */
			if (start != NOW + 2 * 86400 + 6 * 3600 || dur != 60)
				abort();
		}
	}
	json_object_put(body);
	return 0;
}
