/*
 * gevent - reading a Google Calendar Event (calendar-v3-discovery.json,
 * schema Event): the instants it covers, its Meet link, our booking id.
 * Every function borrows the event; strings returned live as long as it.
 */
#ifndef GEVENT_H
#define GEVENT_H

#include <stdint.h>

#include <json-c/json_object.h>

/*
 * The span of ev: a timed event's start.dateTime and end.dateTime (RFC
 * 3339); an all-day event (start.date, end.date, end exclusive) from local
 * midnight to local midnight in the configured zone. 0 with *start, *end
 * and *all_day set, or -1 when ev has no readable times.
 */
int gevent_span(struct json_object *ev, int64_t *start, int64_t *end,
                int *all_day) __attribute__((warn_unused_result));

/*
 * The Meet link: hangoutLink, else the uri of the "video" entry point of
 * conferenceData.entryPoints; NULL when there is none (yet).
 */
const char *gevent_meet_link(struct json_object *ev);

/* Whether ev takes time on the calendar: not cancelled and not
 * "transparent" (shown as free). */
int gevent_blocks_time(struct json_object *ev);

/* extendedProperties.private.bookingId, or NULL. */
const char *gevent_booking_id(struct json_object *ev);

#endif
