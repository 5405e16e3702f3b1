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

#include <stdint.h>

#include "app.h"
#include "bookreq.h"
#include "db.h"

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

/* How a new booking row is written (booksvc_insert_row). */
struct booksvc_row {
	const char *status;     /* held, pending, scheduling, failed */
	const char *payment_id; /* or NULL */
	const char *idem_key;   /* or NULL */
	const char *idem_hash;  /* with idem_key */
	long hold_min;          /* > 0: a hold expiring after that long */
	const char *last_error; /* or NULL */
};

/*
 * Inside a transaction: takes the slot lock (the booking_locks row), so
 * that deciding whether a slot is free and writing it happen as one.
 */
enum db_result booksvc_lock_slots(struct app *app)
        __attribute__((warn_unused_result));

/*
 * Under the slot lock: 1 when an active booking other than own_id (NULL:
 * none) overlaps [start, end), 0 when free, -1 on a database error.
 */
int booksvc_slot_taken(struct app *app, int64_t start, int64_t end,
                       const char *own_id) __attribute__((warn_unused_result));

/* Writes booking id for b as r says (no transaction of its own). */
enum db_result booksvc_insert_row(struct app *app, const char *id,
                                  const struct bookreq *b,
                                  const struct booksvc_row *r)
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
