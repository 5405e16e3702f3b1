/*
 * booking - what happens to a class on Google, and the operations the
 * write side, payment_hook, reconcile (and the admin) share.
 *
 * Nothing is lost: a class is recorded first (status "scheduling", by the
 * ledger), then its Google event is inserted, then the row becomes
 * "scheduled" with the event id, the Meet link and the html link. A Google
 * failure in between leaves the row in "scheduling" (with attempts,
 * nextAttemptAt, lastError) for reconciliation. The event id is derived
 * from the booking id, so a retried insert cannot make a second event:
 * Google's 409 means it exists, and it is fetched.
 *
 * No double booking: whether a slot is free is decided inside MySQL, under
 * the slot lock (ledger_book(), ledger_move()), against every active
 * booking; Google's busy times for the slot are read first (events.list:
 * the admin's calendar.events scope does not allow freeBusy).
 */
#ifndef BOOKING_H
#define BOOKING_H

#include <stdint.h>

#include <json-c/json_object.h>

#include "io/proc.h"
#include "upstream/gcal.h"

#define BOOKING_MEET_POLLS   3 /* events.get while Meet is pending */
#define BOOKING_MEET_POLL_MS 400

enum booking_result {
	BOOKING_OK = 0,
	BOOKING_PENDING, /* Google failed: left for reconciliation */
	BOOKING_GONE,    /* no such booking, or nothing to do for it */
	BOOKING_DB_DOWN
};

/*
 * Makes Google match booking id (status scheduling or scheduled): inserts
 * its event or finds the one a previous try made, patches its times when
 * they differ, fills the Meet link (a few short polls while Google
 * prepares it) and marks the row scheduled. On BOOKING_PENDING the row
 * records the error and when to try again.
 */
enum booking_result booking_schedule(struct proc *proc, const char *request_id,
                                     const char *id)
        __attribute__((warn_unused_result));

/*
 * Deletes the Google event of a cancelled booking (cancelPending) and
 * clears the flag; an event already gone counts as deleted.
 */
enum booking_result booking_apply_cancel(struct proc *proc,
                                         const char *request_id, const char *id)
        __attribute__((warn_unused_result));

/*
 * Cancels booking id for why (kept in its history): recorded first, then
 * its event deleted from Google (a failure there is reconciliation's).
 * Repeating it is harmless. BOOKING_OK, BOOKING_GONE when there is no such
 * booking, BOOKING_DB_DOWN.
 */
enum booking_result booking_cancel(struct proc *proc, const char *request_id,
                                   const char *id, const char *why)
        __attribute__((warn_unused_result));

/*
 * Whether one of Google's events in items (a JSON array, borrowed) takes
 * time in [start, end): events that block time (not cancelled, not
 * transparent; all-day ones as local days), other than booking own_id's own
 * event (NULL: none), overlapping the span (touching is not
 * overlapping). 1 or 0.
 */
int booking_busy_among(struct json_object *items, int64_t start, int64_t end,
                       const char *own_id);

/*
 * Whether Google has something other than booking own_id (NULL: none) in
 * [start, end): 1 busy, 0 free, -1 when Google could not be read (*why
 * says how, logged).
 */
int booking_google_busy(struct proc *proc, const char *request_id,
                        int64_t start, int64_t end, const char *own_id,
                        enum gcal_result *why)
        __attribute__((warn_unused_result));

#endif
