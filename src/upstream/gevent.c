#include "upstream/gevent.h"

#include <string.h>

#include "core/jsonio.h"
#include "core/tz.h"

/* One EventDateTime: {dateTime} or {date}. */
static int edge(struct json_object *ev, const char *key, int64_t *t,
                int *all_day)
{
	struct json_object *o = jsonio_member(ev, key, json_type_object);
	const char *s;
	int y, m, d;

	if (o == NULL)
		return -1;
	if ((s = jsonio_string(o, "dateTime")) != NULL) {
		int had_offset;

		*all_day = 0;
		/* Google always writes an offset; without one the event's
		 * own timeZone would apply, which we do not guess. */
		return tz_parse_iso(s, t, &had_offset) == TZ_OK && had_offset
		               ? 0
		               : -1;
	}
	if ((s = jsonio_string(o, "date")) != NULL) {
		*all_day = 1;
		return tz_parse_date(s, &y, &m, &d) == TZ_OK &&
		                       tz_day_start(y, m, d, t) == TZ_OK
		               ? 0
		               : -1;
	}
	return -1;
}

int gevent_span(struct json_object *ev, int64_t *start, int64_t *end,
                int *all_day)
{
	int64_t s, e;
	int a1, a2;

	if (edge(ev, "start", &s, &a1) != 0 || edge(ev, "end", &e, &a2) != 0 ||
	    a1 != a2 || e < s)
		return -1;
	*start = s;
	*end = e;
	*all_day = a1;
	return 0;
}

const char *gevent_meet_link(struct json_object *ev)
{
	struct json_object *conf, *points;
	const char *link = jsonio_string(ev, "hangoutLink");
	size_t i, n;

	if (link != NULL && *link != '\0')
		return link;
	conf = jsonio_member(ev, "conferenceData", json_type_object);
	points = jsonio_member(conf, "entryPoints", json_type_array);
	n = points ? json_object_array_length(points) : 0;
	for (i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(points, i);
		const char *type = jsonio_string(p, "entryPointType");
		const char *uri = jsonio_string(p, "uri");

		if (type != NULL && strcmp(type, "video") == 0 && uri != NULL &&
		    (strncmp(uri, "https://", 8) == 0 ||
		     strncmp(uri, "http://", 7) == 0))
			return uri;
	}
	return NULL;
}

int gevent_blocks_time(struct json_object *ev)
{
	const char *status = jsonio_string(ev, "status");
	const char *transp = jsonio_string(ev, "transparency");

	return !(status != NULL && strcmp(status, "cancelled") == 0) &&
	       !(transp != NULL && strcmp(transp, "transparent") == 0);
}

const char *gevent_booking_id(struct json_object *ev)
{
	struct json_object *props, *priv;

	props = jsonio_member(ev, "extendedProperties", json_type_object);
	priv = jsonio_member(props, "private", json_type_object);
	return jsonio_string(priv, "bookingId");
}
