/*
 * bookapi - the write side's handlers (calendar_post) and a booking's
 * status (calendar_get): each turns a request into a call of the booking
 * lifecycle (school/ledger.h, school/booking.h) and a reply.
 */
#ifndef BOOKAPI_H
#define BOOKAPI_H

#include "io/proc.h"
#include "web/request.h"
#include "web/response.h"

#define BOOKAPI_REPLAY_WAIT_MS 10000 /* a replay waits for the first */

/*
 * An Idempotency-Key header's value k as the write side takes it: k when
 * it is 1 to 255 printable ASCII characters (no space), "" when there is
 * none (NULL), NULL when it is malformed (a 400).
 */
const char *bookapi_idempotency_key(const char *k);

/* POST /api/calendar: a class. 201 {"booking"}; 202 when Google failed
 * after the booking was recorded. Idempotency-Key replays the first
 * reply. */
int bookapi_create(struct proc *proc, struct request *req,
                   struct response *res);

/* POST /api/calendar/holds: the slot held while the student pays. */
int bookapi_hold(struct proc *proc, struct request *req, struct response *res);

/* PATCH /api/calendar/{id}: a new start and/or duration. */
int bookapi_reschedule(struct proc *proc, struct request *req,
                       struct response *res);

/* DELETE /api/calendar/{id}: cancelled; repeating it is harmless. */
int bookapi_cancel(struct proc *proc, struct request *req,
                   struct response *res);

/* GET /api/bookings/{id} (internal): {"booking": BOOKING}, or 404
 * booking_not_found. */
int bookapi_get(struct proc *proc, struct request *req, struct response *res);

#endif
