/*
 * payment - what a MercadoPago payment does to the school's bookings: an
 * approved payment always becomes exactly one class.
 *
 * Only the payment read back from MercadoPago counts, never a
 * notification's body. Its state is recorded (the ledger's payments and
 * bookings) in one transaction under the slot lock before any Google call:
 *   approved            -> the booking "scheduling", then its event
 *   pending, in_process -> "pending" (the slot stays taken until
 *                          MercadoPago's date_of_expiration, at most
 *                          LIMIT_PAYMENT_PENDING_H without one, never
 *                          more than LIMIT_PAYMENT_PENDING_MAX_H; then
 *                          reconcile releases it: "failed")
 *   rejected            -> nothing booked
 *   refunded, cancelled, charged_back -> the class cancelled, event deleted
 * A booking never moves backwards (a late "pending" after "approved" is
 * recorded in payments and changes nothing), with one exception: a booking
 * that failed while its payment was pending (released, or its slot taken)
 * is booked when the payment is approved and the slot is free. Bad
 * metadata, a slot taken meanwhile (our bookings, or Google's busy times
 * for a class that no live hold kept) make the booking "failed" with
 * lastError, logged. A payment that cannot be trusted to be stored (an
 * amount DECIMAL(12,2) cannot hold) or read at all is recorded with its
 * reason and changes no booking. The payment id is unique in bookings, so
 * however often and however concurrently a notification arrives, there is
 * one booking and one event.
 */
#ifndef PAYMENT_H
#define PAYMENT_H

#include <json-c/json_object.h>

#include "io/proc.h"
#include "upstream/gcal.h"

#define PAYMENT_TRIES 3 /* a transaction that conflicts is tried again */

/* What recording a payment did. */
struct payment_outcome {
	char booking[33];          /* the booking concerned, or "" */
	int schedule;              /* now "scheduling": make its event */
	int cancel;                /* now cancelled: delete its event */
	const char *what;          /* for the reply and the log (static) */
	enum gcal_result calendar; /* why, on PAYMENT_CALENDAR_DOWN */
};

enum payment_result {
	PAYMENT_RECORDED = 0,
	PAYMENT_DB_DOWN,      /* the database failed (logged) */
	PAYMENT_CALENDAR_DOWN /* Google's busy times for the slot could not be
	                         read (o->calendar; logged): nothing recorded */
};

/* Whether s is a payment id as MercadoPago writes them: a number, 1 to
 * LIMIT_PAYMENT_ID_DIGITS digits, without a leading zero. */
int payment_id_valid(const char *s);

/*
 * Records payment pid, as MercadoPago answered it (pay, borrowed), and
 * what it does to its booking, in one transaction (deadlocks tried
 * again). A class the payment would newly take is first checked against
 * Google's busy times (read outside the transaction). PAYMENT_RECORDED
 * with *o filled, or why not.
 */
enum payment_result payment_record(struct proc *proc, const char *request_id,
                                   const char *pid, struct json_object *pay,
                                   struct payment_outcome *o)
        __attribute__((warn_unused_result));

/*
 * Payment pid, whose answer from MercadoPago could not be read (why: a
 * sentence, no secret): recorded with status "unknown" when it is new, its
 * known state kept otherwise, why as its lastError; no booking changes.
 * PAYMENT_RECORDED (o->what says so) or PAYMENT_DB_DOWN.
 */
enum payment_result payment_record_unreadable(struct proc *proc,
                                              const char *request_id,
                                              const char *pid, const char *why,
                                              struct payment_outcome *o)
        __attribute__((warn_unused_result));

/* Then Google: the event of a booking now scheduling is made, the event of
 * a booking now cancelled deleted; a failure is reconciliation's (logged).
 */
void payment_finish(struct proc *proc, const char *request_id,
                    const struct payment_outcome *o);

#endif
