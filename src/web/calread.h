/*
 * calread - the read side's handlers that talk to Google directly: the
 * admin's event list, and the time window every read endpoint takes.
 */
#ifndef CALREAD_H
#define CALREAD_H

#include <stdint.h>

#include "web/app.h"

#define CALREAD_DEFAULT_DAYS 30
#define CALREAD_MAX_DAYS     366

/*
 * The window of ?from=&to= (ISO 8601, with or without an offset, or a
 * plain date meaning its local midnight): from defaults to now, to to from
 * + 30 days; from must be before to and the window at most 366 days.
 * Returns 0, or 400 after writing the error (naming the parameter) in res.
 */
int calread_window(struct request *req, struct response *res, int64_t now,
                   int64_t *from, int64_t *to)
        __attribute__((warn_unused_result));

/*
 * GET /api/calendar/events (internal): every event in the window, read
 * with the admin's token: {"timeZone", "from", "to", "events": [{"id",
 * "summary", "description", "start", "end", "status", "meetLink",
 * "bookingId"}]}.
 */
int calread_events(struct proc *proc, struct request *req,
                   struct response *res);

/*
 * GET /api/calendar (public): the school's busy times in the window, from
 * the shared cache: {"timeZone", "from", "to", "events": [{"start", "end",
 * "status"}]}, with ETag, Cache-Control and X-Cache; 304 on If-None-Match.
 */
int calread_availability(struct proc *proc, struct request *req,
                         struct response *res);

/*
 * GET /api/calendar/slots?date=&duration= (public): free class slots on a
 * local date: BOOKING_HOURS cut into slots on the hour and the half hour,
 * minus Google's busy times, active bookings and live holds, and anything
 * sooner than BOOKING_MIN_NOTICE_MIN; 503 when busy times are not known.
 */
int calread_slots(struct proc *proc, struct request *req, struct response *res);

/* Frees the slots replies this process keeps (at exit). */
void calread_release(void);

#endif
