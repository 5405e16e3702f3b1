/*
 * bookreq - what a class is made of before it is stored or sent to Google:
 * the validated request body, the Google event id derived from the booking
 * id, and the Google event that stands for it (DESIGN.md, "The Google
 * event"; calendar-v3-discovery.json, schema Event).
 */
#ifndef BOOKREQ_H
#define BOOKREQ_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json_object.h>

#include "school/hours.h"

#define BOOKREQ_DEFAULT_DURATION 60
#define BOOKREQ_MIN_DURATION     15
#define BOOKREQ_MAX_DURATION     240
#define BOOKREQ_MAX_PARTICIPANTS 50
#define BOOKREQ_MAX_CLASS_TYPE   64   /* characters */
#define BOOKREQ_MAX_NAME         200  /* characters */
#define BOOKREQ_MAX_NOTES        2000 /* characters */
#define BOOKREQ_MAX_EMAIL        254  /* bytes (RFC 5321) */
#define BOOKREQ_EVENT_ID_LEN     34   /* "bk" + the 32-hex booking id */
#define BOOKREQ_SUMMARY          "Clase de Inglés"

/* A class as the caller asked for it, validated. Strings are NUL-
 * terminated UTF-8. */
struct bookreq {
	int64_t start;
	int duration_min;
	char class_type[BOOKREQ_MAX_CLASS_TYPE * 4 + 1];
	int participants;
	char email[BOOKREQ_MAX_EMAIL + 1];
	char name[BOOKREQ_MAX_NAME * 4 + 1];   /* "" when not given */
	char notes[BOOKREQ_MAX_NOTES * 4 + 1]; /* "" when not given */
};

/* What bookreq_parse() and bookreq_parse_patch() return. */
enum bookreq_result {
	BOOKREQ_OK = 0,
	BOOKREQ_INVALID = -1,      /* a field is malformed, unknown or missing;
	                              or start is in the past */
	BOOKREQ_OUTSIDE_HOURS = -2 /* well formed, but the class is not one the
	                              school offers (slots_check()) */
};

/*
 * Validates the body of POST /api/calendar (or /holds) at time now with
 * notice_min minutes of notice, for the opening hours *h: the fields start
 * (ISO 8601; without an offset read in the configured zone; a local time
 * that does not exist is refused), durationMinutes (15-240, default 60),
 * classType (1-64 printable characters, default "individual"),
 * participants (1-50, default 1), studentEmail (required, well-formed),
 * studentName (at most 200 characters), notes (at most 2000). An unknown
 * field, a wrong type or a start in the past is BOOKREQ_INVALID. Once every
 * field is well formed, the class must be one /api/calendar/slots offers
 * (slots_check(): on the hour or half hour inside the opening hours, ending
 * by closing time, at least the notice and at most SLOTS_AHEAD_DAYS days
 * ahead), else BOOKREQ_OUTSIDE_HOURS naming start. Returns BOOKREQ_OK with
 * *out filled, or the refusal with the field's name in field and a
 * sentence in msg (valid UTF-8, cut on a character boundary when quoting
 * the body).
 */
int bookreq_parse(struct json_object *body, const struct hours *h, int64_t now,
                  long notice_min, struct bookreq *out, char *field,
                  size_t fieldlen, char *msg, size_t msglen)
        __attribute__((warn_unused_result));

/*
 * Validates the body of PATCH /api/calendar/{id}: start and/or
 * durationMinutes (at least one), nothing else. *start and *duration_min
 * hold the booking's current values on entry and the new ones on success
 * (a missing field keeps its value). Same rules and results as
 * bookreq_parse(); the rule of the start applies to the class as it would
 * be after the change, whichever field changes.
 */
int bookreq_parse_patch(struct json_object *body, const struct hours *h,
                        int64_t now, long notice_min, int64_t *start,
                        int *duration_min, char *field, size_t fieldlen,
                        char *msg, size_t msglen)
        __attribute__((warn_unused_result));

/* Whether s is a well-formed e-mail address (a pragmatic subset of RFC
 * 5322: dot-atom local part, a domain of at least two labels). */
int bookreq_email_valid(const char *s);

/*
 * The Google event id of booking id (32 lowercase hex): "bk" followed by
 * the id, so only the base32hex characters a-v and 0-9 that Google allows
 * (5-1024 of them). out holds BOOKREQ_EVENT_ID_LEN + 1 bytes.
 */
void bookreq_event_id(const char *booking_id, char *out);

/* The conference requestId of booking id: unique to the booking, so a
 * retried insert asks for the same Meet. out holds 48 bytes. */
void bookreq_request_id(const char *booking_id, char *out);

/*
 * The Google event for booking id with b's contents, in zone: id, summary
 * "Clase de Inglés", a description in Spanish with the class type, the
 * number of participants, the student and the notes, start and end as
 * dateTime with the zone's offset plus timeZone, transparency opaque, the
 * student as attendee, extendedProperties.private.bookingId, and a
 * conferenceData.createRequest for Google Meet. A new object the caller
 * puts, or NULL when out of memory.
 */
struct json_object *bookreq_event(const char *booking_id,
                                  const struct bookreq *b, const char *zone);

#endif
