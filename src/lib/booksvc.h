/*
 * booksvc - the booking service: the write side of the contract, and the
 * steps payment_hook and reconcile reuse.
 *
 * Nothing is lost: a class is recorded first (status "scheduling"), then
 * its Google event is inserted, then the row becomes "scheduled" with the
 * event id, the Meet link and the html link. A Google failure in between
 * leaves the row in "scheduling" (with attempts, nextAttemptAt, lastError)
 * for reconciliation, and the reply is 202 with the booking. The event id
 * is derived from the booking id, so a retried insert cannot make a second
 * event: Google's 409 means it exists, and it is fetched.
 *
 * No double booking: whether a slot is free is decided inside MySQL, under
 * the lock of the booking_locks row, against every active booking (not
 * cancelled or failed; a hold only until it expires); Google's busy times
 * for the slot are read first (events.list: the admin's calendar.events
 * scope does not allow freeBusy).
 */
#ifndef BOOKSVC_H
#define BOOKSVC_H

#include "app.h"

#define BOOKSVC_MEET_POLLS     3 /* events.get while Meet is pending */
#define BOOKSVC_MEET_POLL_MS   400
#define BOOKSVC_REPLAY_WAIT_MS 10000 /* a replay waits for the first */

enum booksvc_result {
	BOOKSVC_OK = 0,
	BOOKSVC_PENDING, /* Google failed: left for reconciliation */
	BOOKSVC_GONE,    /* no such booking, or nothing to do for it */
	BOOKSVC_DB_DOWN
};

/*
 * Makes Google match booking id (status scheduling or scheduled): inserts
 * its event or finds the one a previous try made, patches its times when
 * they differ, fills the Meet link (a few short polls while Google
 * prepares it) and marks the row scheduled. On BOOKSVC_PENDING the row
 * records the error and when to try again.
 */
enum booksvc_result booksvc_schedule(struct app *app, const char *request_id,
                                     const char *id)
        __attribute__((warn_unused_result));

/*
 * Deletes the Google event of a cancelled booking (cancelPending) and
 * clears the flag; an event already gone counts as deleted.
 */
enum booksvc_result booksvc_apply_cancel(struct app *app,
                                         const char *request_id, const char *id)
        __attribute__((warn_unused_result));

/* POST /api/calendar: a class. 201 {"booking"}; 202 when Google failed
 * after the booking was recorded. */
int booksvc_create(struct app *app, struct request *req, struct response *res);

/* POST /api/calendar/holds: the slot held while the student pays. */
int booksvc_hold(struct app *app, struct request *req, struct response *res);

/* PATCH /api/calendar/{id}: a new start and/or duration. */
int booksvc_reschedule(struct app *app, struct request *req,
                       struct response *res);

/* DELETE /api/calendar/{id}: cancelled; repeating it is harmless. */
int booksvc_cancel(struct app *app, struct request *req, struct response *res);

#endif
