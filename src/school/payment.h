/*
 * payment - what a MercadoPago payment does to the school's bookings: an
 * approved payment always becomes exactly one class.
 *
 * Only the payment read back from MercadoPago counts, never a
 * notification's body. Its state is recorded (the ledger's payments and
 * bookings) in one transaction under the slot lock before any Google call:
 *   approved            -> the booking "scheduling", then its event
 *   pending, in_process -> "pending" (the slot stays taken)
 *   rejected            -> nothing booked
 *   refunded, cancelled, charged_back -> the class cancelled, event deleted
 * A booking never moves backwards (a late "pending" after "approved" is
 * recorded in payments and changes nothing). Bad metadata or a slot taken
 * meanwhile make the booking "failed" with lastError, logged. The payment
 * id is unique in bookings, so however often and however concurrently a
 * notification arrives, there is one booking and one event.
 */
#ifndef PAYMENT_H
#define PAYMENT_H

#include <json-c/json_object.h>

#include "io/proc.h"

#define PAYMENT_TRIES 3 /* a transaction that conflicts is tried again */

/* What recording a payment did. */
struct payment_outcome {
	char booking[33]; /* the booking concerned, or "" */
	int schedule;     /* now "scheduling": make its event */
	int cancel;       /* now cancelled: delete its event */
	const char *what; /* for the reply and the log (static) */
};

/* Whether s is a payment id as MercadoPago writes them: 1-64 letters and
 * digits. */
int payment_id_valid(const char *s);

/*
 * Records payment pid, as MercadoPago answered it (pay, borrowed), and
 * what it does to its booking, in one transaction (deadlocks tried
 * again). 0 with *o filled, or -1 when the database failed (logged).
 */
int payment_record(struct proc *proc, const char *request_id, const char *pid,
                   struct json_object *pay, struct payment_outcome *o)
        __attribute__((warn_unused_result));

/* Then Google: the event of a booking now scheduling is made, the event of
 * a booking now cancelled deleted; a failure is reconciliation's (logged).
 */
void payment_finish(struct proc *proc, const char *request_id,
                    const struct payment_outcome *o);

#endif
