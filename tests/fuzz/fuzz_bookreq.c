/* Fuzz target: the body of POST and PATCH /api/calendar, and the Google
 * event made from a body that passed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "school/bookreq.h"
#include "core/jsonio.h"
#include "core/tz.h"

#define BOOKING "0123456789abcdef0123456789abcdef"
#define NOW     1796126400LL /* 2026-12-01T12:00:00Z */

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int zone_set;
	struct json_object *body;
	struct bookreq b;
	char err[128], field[80], msg[256];
	int64_t start = NOW + 86400;
	int dur = 60;

	if (!zone_set)
		zone_set = tz_set(TZ_DEFAULT_ZONE) == 0;
	body = jsonio_parse((const char *)data, size, 16, err, sizeof(err));
	if (body == NULL)
		return 0;
	/* request_json hands the handlers objects only. */
	if (!json_object_is_type(body, json_type_object)) {
		json_object_put(body);
		return 0;
	}
	if (bookreq_parse(body, NOW, 120, &b, field, sizeof(field), msg,
	                  sizeof(msg)) == 0) {
		if (b.start < NOW + 120 * 60 ||
		    b.duration_min < BOOKREQ_MIN_DURATION ||
		    b.duration_min > BOOKREQ_MAX_DURATION ||
		    b.participants < 1 ||
		    b.participants > BOOKREQ_MAX_PARTICIPANTS ||
		    !bookreq_email_valid(b.email) || b.class_type[0] == '\0')
			abort();
		event_of(&b);
	} else if (msg[0] == '\0') {
		abort();
	}
	if (bookreq_parse_patch(body, NOW, 120, &start, &dur, field,
	                        sizeof(field), msg, sizeof(msg)) == 0) {
		if (start < NOW + 120 * 60 || dur < BOOKREQ_MIN_DURATION ||
		    dur > BOOKREQ_MAX_DURATION)
			abort();
	}
	json_object_put(body);
	return 0;
}
