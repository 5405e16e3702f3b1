/*
 * recon - reconciliation: finishes what the endpoints left undone, and is
 * safe to run often, concurrently with itself and with the endpoints.
 *
 * Work is a booking in "scheduling" (insert or find its event), a
 * "scheduled" one still without its Meet link, or a cancellation not yet
 * applied to Google (cancelPending). Each booking is tried when its
 * nextAttemptAt is due (5 s after a failure, doubling up to an hour), and
 * claimed first, so two runs never work on the same booking at once. After
 * 24 hours of failures a booking in "scheduling" is marked "failed" with
 * lastError, and logged. A "pending" booking whose payment is past its
 * time (payments.releaseAt: MercadoPago's date_of_expiration, or
 * LIMIT_PAYMENT_PENDING_H) is marked "failed" too, which frees its slot;
 * the payment approved later books it again if the slot is still free.
 * Then the push channel is kept (school/push.h push_maintain()): opened,
 * renewed, or stopped when CALENDAR_PUSH_URL is removed.
 */
#ifndef RECON_H
#define RECON_H

#include "io/proc.h"
#include "school/push.h"

#define RECON_GIVE_UP_S (24 * 3600)
#define RECON_CLAIM_S   120 /* one run's hold on a booking it works on */
#define RECON_BATCH     200

struct recon_summary {
	int scheduled;  /* events made or found */
	int meet_links; /* Meet links filled in */
	int cancelled;  /* events deleted */
	int gave_up;    /* bookings marked failed */
	int released;   /* pending bookings past their payment's time */
	int failed;     /* tries that failed this run (tried again later) */
	int waiting;    /* work left for a later run */
	enum push_outcome push; /* the push channel (school/push.h) */
};

/* One pass. 0 with *out filled, or -1 when the database failed. */
int recon_run(struct proc *proc, struct recon_summary *out)
        __attribute__((warn_unused_result));

enum recon_result {
	RECON_DONE = 0, /* nothing left to do for it */
	RECON_PENDING,  /* Google failed again: left for a later run */
	RECON_NOTHING,  /* no such booking, or no work on it */
	RECON_DB_DOWN
};

/*
 * What one pass does for booking id, now, whatever its nextAttemptAt
 * (the admin's "retry"): its event made or found, its Meet link filled
 * in, or its cancellation applied to Google. The event id is derived from
 * the booking id, so a run of reconcile working on it at the same time
 * cannot make a second event.
 */
enum recon_result recon_one(struct proc *proc, const char *request_id,
                            const char *id) __attribute__((warn_unused_result));

#endif
