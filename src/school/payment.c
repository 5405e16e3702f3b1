#include "school/payment.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json_object.h>

#include "school/booking.h"
#include "school/bookreq.h"
#include "school/ledger.h"
#include "school/school.h"
#include "core/crypto.h"
#include "io/db.h"
#include "core/jsonio.h"
#include "core/limit.h"
#include "core/log.h"
#include "core/tz.h"

/* How far a payment has gone: a booking never moves back down. */
static int rank(const char *status)
{
	if (strcmp(status, "pending") == 0 ||
	    strcmp(status, "in_process") == 0 ||
	    strcmp(status, "authorized") == 0)
		return 1;
	if (strcmp(status, "approved") == 0 || strcmp(status, "rejected") == 0)
		return 2; /* the two ends of a pending payment */
	if (strcmp(status, "refunded") == 0 ||
	    strcmp(status, "cancelled") == 0 ||
	    strcmp(status, "charged_back") == 0)
		return 3;
	return 0; /* in_mediation, unknown: recorded, nothing else */
}

/* A payment id as MercadoPago writes them: a number, no leading zero. */
int payment_id_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (i >= LIMIT_PAYMENT_ID_DIGITS || s[i] < '0' || s[i] > '9')
			return 0;
	return i > 0 && s[0] != '0';
}

/* The booking the payment names: metadata.booking_id, else
 * external_reference, when it is a booking id. */
static const char *named_booking(struct json_object *pay)
{
	struct json_object *meta =
	        jsonio_member(pay, "metadata", json_type_object);
	const char *s = jsonio_string(meta, "booking_id");

	if (s != NULL && ledger_id_valid(s))
		return s;
	s = jsonio_string(pay, "external_reference");
	return s != NULL && ledger_id_valid(s) ? s : NULL;
}

/*
 * The class carried in the payment's metadata (start, duration_minutes,
 * class_type, participants, student_email, student_name), validated like a
 * POST /api/calendar body, opening hours included (the student has paid: no
 * notice required, but not in the past). 0, or non-zero with msg.
 */
static int class_from_metadata(struct json_object *pay, struct bookreq *b,
                               char *msg, size_t msglen)
{
	static const struct {
		const char *from, *to;
	} keys[] = {
	        {"start", "start"},
	        {"duration_minutes", "durationMinutes"},
	        {"class_type", "classType"},
	        {"participants", "participants"},
	        {"student_email", "studentEmail"},
	        {"student_name", "studentName"},
	};
	struct json_object *meta =
	        jsonio_member(pay, "metadata", json_type_object);
	struct json_object *body = json_object_new_object(), *v;
	char field[80];
	size_t i;
	int rc;

	if (body == NULL || meta == NULL) {
		json_object_put(body);
		snprintf(msg, msglen,
		         "the payment carries no class in its "
		         "metadata and names no booking");
		return -1;
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (json_object_object_get_ex(meta, keys[i].from, &v) &&
		    jsonio_add(body, keys[i].to, json_object_get(v)) != 0) {
			json_object_put(body);
			snprintf(msg, msglen, "out of memory");
			return -1;
		}
	rc = bookreq_parse(body, school_hours(), tz_now(), 0, b, field,
	                   sizeof(field), msg, msglen);
	json_object_put(body);
	return rc;
}

/* A ledger result as the transaction loop reads it: a booking that moved
 * meanwhile makes the whole transaction run again. */
static enum db_result of(enum ledger_result r)
{
	switch (r) {
	case LEDGER_OK:
		return DB_OK;
	case LEDGER_RACED:
	case LEDGER_RETRY:
		return DB_RETRY;
	case LEDGER_REFUSED:
	case LEDGER_DB_DOWN:
		break;
	}
	return DB_ERROR;
}

/* Why a slot Google has something in cannot be taken (a lastError). */
#define BUSY_IN_GOOGLE "the slot is busy in the school's Google Calendar"

/*
 * Google's answer for one span, kept across the tries of one recording:
 * Google is never read inside the transaction (it holds the slot lock).
 * A try that needs a span asks for it (want) and is rolled back; the loop
 * reads Google, and the next try uses the answer.
 */
struct google_check {
	int want;  /* this try needs the span below */
	int known; /* busy is Google's answer for the span below */
	int busy;
	int64_t start, end;
	char own[33]; /* the booking whose own event does not count, or "" */
};

/*
 * Under the slot lock: whether [start, end) is taken, by an active booking
 * other than own (NULL: none) or, with google, by Google's busy times;
 * *why is BUSY_IN_GOOGLE for the latter, else NULL. DB_RETRY with g->want
 * set when Google must be read for the span first.
 */
static enum db_result slot_taken(struct proc *proc, struct google_check *g,
                                 int64_t start, int64_t end, const char *own,
                                 int google, int *taken, const char **why)
{
	int t = ledger_slot_taken(proc->db, start, end, own);

	if (t < 0)
		return DB_ERROR;
	*taken = t;
	*why = NULL;
	if (t || !google)
		return DB_OK;
	own = own ? own : "";
	if (!g->known || g->start != start || g->end != end ||
	    strcmp(g->own, own) != 0) {
		g->want = 1;
		g->known = 0;
		g->start = start;
		g->end = end;
		snprintf(g->own, sizeof(g->own), "%s", own);
		return DB_RETRY;
	}
	*taken = g->busy;
	*why = g->busy ? BUSY_IN_GOOGLE : NULL;
	return DB_OK;
}

/* Reads Google's busy times for the span g asks for. 0, or -1 with
 * o->calendar saying why (logged). */
static int google_read(struct proc *proc, const char *request_id,
                       struct google_check *g, struct payment_outcome *o)
{
	enum gcal_result why = GCAL_UNAVAILABLE;
	int busy = booking_google_busy(proc, request_id, g->start, g->end,
	                               g->own[0] ? g->own : NULL, &why);

	g->want = 0;
	if (busy < 0) {
		o->calendar = why;
		return -1;
	}
	g->busy = busy;
	g->known = 1;
	return 0;
}

/*
 * A booking that failed while its payment was pending (its slot released
 * by reconcile, or taken when the payment arrived), now approved: booked
 * when the slot is free of our bookings and of Google's busy times. The
 * reasons written here differ from the ones the booking failed with, so
 * that each write changes the row.
 */
static enum db_result approve_late(struct proc *proc, struct google_check *g,
                                   const char *pid,
                                   const struct ledger_paid *bk,
                                   struct payment_outcome *o)
{
	const char *why;
	enum db_result r;
	int taken;

	if (bk->start <= tz_now()) {
		o->what = "failed";
		return of(ledger_fail(proc->db, bk->id, "failed",
		                      "the payment was approved after the "
		                      "class's start"));
	}
	r = slot_taken(proc, g, bk->start, bk->end, bk->id, 1, &taken, &why);
	if (r != DB_OK)
		return r;
	if (taken) {
		o->what = "failed: the slot was taken";
		return of(ledger_fail(
		        proc->db, bk->id, "failed",
		        why != NULL ? "the payment was approved, "
		                      "but " BUSY_IN_GOOGLE
		                    : "the payment was approved, but the slot "
		                      "was taken while it was pending"));
	}
	o->schedule = 1;
	o->what = "scheduling";
	return of(ledger_take_payment(proc->db, bk->id, "failed", "scheduling",
	                              pid, NULL,
	                              "the payment was approved after its "
	                              "slot was released"));
}

/* A payment for a booking we already tie to it; was_pending: the
 * payment's last known status was pending. */
static enum db_result advance(struct proc *proc, struct google_check *g,
                              const char *pid, const struct ledger_paid *bk,
                              int was_pending, const char *new_status,
                              struct payment_outcome *o)
{
	const char *id = bk->id, *cur = bk->status;
	int r = rank(new_status);

	if (r == 3 && strcmp(cur, "cancelled") != 0 &&
	    strcmp(cur, "failed") != 0) {
		o->cancel = 1;
		o->what = "cancelled";
		return of(ledger_cancel(proc->db, id, cur,
		                        "the payment was refunded, cancelled "
		                        "or charged back"));
	}
	if (strcmp(new_status, "rejected") == 0 &&
	    strcmp(cur, "pending") == 0) {
		o->what = "failed: the payment was rejected";
		return of(ledger_fail(proc->db, id, cur,
		                      "the payment was rejected"));
	}
	if (strcmp(new_status, "approved") == 0 &&
	    strcmp(cur, "pending") == 0) {
		int taken = ledger_slot_taken(proc->db, bk->start, bk->end, id);

		if (taken < 0)
			return DB_ERROR;
		if (taken) {
			o->what = "failed: the slot was taken";
			return of(ledger_fail(proc->db, id, cur,
			                      "the slot was taken before the "
			                      "payment was approved"));
		}
		o->schedule = 1;
		o->what = "scheduling";
		return of(ledger_transition(proc->db, id, cur, "scheduling",
		                            "the payment was approved"));
	}
	if (strcmp(new_status, "approved") == 0 && strcmp(cur, "failed") == 0 &&
	    was_pending)
		return approve_late(proc, g, pid, bk, o);
	if (strcmp(new_status, "approved") == 0 &&
	    strcmp(cur, "scheduling") == 0) {
		o->schedule = 1; /* finish what a previous delivery began */
		o->what = "scheduling";
		return DB_OK;
	}
	o->what = "unchanged";
	return DB_OK; /* never backwards */
}

/*
 * The payment's transaction_amount as DECIMAL(12,2) text into out (len
 * bytes; "" when there is none). -1 when the column cannot hold it: not
 * finite, or more than 10 digits before the point once rounded to cents.
 */
static int amount_of(struct json_object *pay, char *out, size_t len)
{
	struct json_object *v =
	        jsonio_member(pay, "transaction_amount", json_type_double);
	const char *dot;
	double x;

	out[0] = '\0';
	if (v == NULL)
		v = jsonio_member(pay, "transaction_amount", json_type_int);
	if (v == NULL)
		return 0;
	x = json_object_get_double(v);
	if (!isfinite(x) || fabs(x) >= 1e11)
		return -1;
	snprintf(out, len, "%.2f", x);
	dot = strchr(out, '.');
	if (dot == NULL || dot - out - (out[0] == '-') > 10) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

/* MercadoPago's date_of_expiration, in seconds; 0 when there is none (or
 * it is not a time). */
static int64_t expiration_of(struct json_object *pay)
{
	const char *s = jsonio_string(pay, "date_of_expiration");
	int64_t t;

	if (s == NULL || tz_parse_iso(s, &t, NULL) != TZ_OK)
		return 0;
	return t > 0 ? t : 1;
}

/* Records the payment and what it does to its booking, in the current
 * transaction (under the slot lock). */
static enum db_result record(struct proc *proc, const char *request_id,
                             const char *pid, struct json_object *pay,
                             struct google_check *g, struct payment_outcome *o)
{
	const char *status = jsonio_string(pay, "status");
	const char *ref = named_booking(pay);
	char amount[48] = "", error[400] = "", last[64];
	struct ledger_payment lp;
	struct ledger_paid bk;
	enum db_result r;
	int r_new, approved, found, was_pending;

	if (status == NULL)
		status = "unknown";
	r_new = rank(status);
	approved = strcmp(status, "approved") == 0;
	if (amount_of(pay, amount, sizeof(amount)) != 0)
		snprintf(error, sizeof(error),
		         "the amount (transaction_amount) is beyond what a "
		         "payment can hold (10 digits and cents): the payment "
		         "is not used");
	/* The payment's last known state (never moved backwards). */
	found = ledger_payment_status(proc->db, pid, last, sizeof(last));
	if (found < 0)
		return DB_ERROR;
	if (found == 1 && rank(last) > r_new) {
		/* An older notification arriving late: record nothing. */
		o->what = "out of order: ignored";
		return DB_OK;
	}
	was_pending = found == 1 && rank(last) == 1;
	memset(&lp, 0, sizeof(lp));
	lp.id = pid;
	lp.status = status;
	lp.detail = jsonio_string(pay, "status_detail");
	lp.external_reference = jsonio_string(pay, "external_reference");
	lp.amount = amount[0] ? amount : NULL;
	lp.currency = jsonio_string(pay, "currency_id");
	lp.pending = r_new == 1;
	lp.expires = expiration_of(pay);
	r = ledger_payment_upsert(proc->db, &lp);
	if (r != DB_OK)
		return r;
	if (error[0] != '\0')
		goto failed; /* not to be acted on: nothing else changes */
	/* The booking already tied to this payment. */
	found = ledger_booking_by_payment(proc->db, pid, &bk);
	if (found < 0)
		return DB_ERROR;
	if (found == 1) {
		snprintf(o->booking, sizeof(o->booking), "%s", bk.id);
		r = advance(proc, g, pid, &bk, was_pending, status, o);
		goto link;
	}
	if (r_new != 1 && !approved) {
		o->what = r_new == 3 ? "nothing booked to cancel"
		                     : "nothing booked";
		return DB_OK;
	}
	if (ref != NULL) {
		/* The hold the PHP site made: the paid slot is that one,
		 * even if the hold expired, as long as no one took it. */
		found = ledger_booking_lock(proc->db, ref, &bk);
		if (found < 0)
			return DB_ERROR;
		if (found == 1 && strcmp(bk.status, "held") == 0 &&
		    !bk.has_payment) {
			const char *why;
			int taken;

			/* A live hold kept its slot since Google was read
			 * for it; an expired one is checked again. */
			r = slot_taken(proc, g, bk.start, bk.end, ref,
			               bk.hold_expired, &taken, &why);
			if (r != DB_OK)
				return r;
			snprintf(o->booking, sizeof(o->booking), "%s", ref);
			if (taken) {
				o->what = "failed: the slot was taken";
				r = of(ledger_take_payment(
				        proc->db, ref, "held", "failed", pid,
				        why != NULL
				                ? why
				                : "the held slot was taken by "
				                  "someone else before the "
				                  "payment arrived",
				        "the held slot was taken"));
			} else {
				o->schedule = approved;
				o->what = approved ? "scheduling" : "pending";
				r = of(ledger_take_payment(
				        proc->db, ref, "held", o->what, pid,
				        NULL,
				        approved ? "the payment was approved"
				                 : "the payment is pending"));
			}
			goto link;
		}
		if (found == 1)
			snprintf(error, sizeof(error),
			         "the payment names booking %s, which is %s "
			         "and cannot take it",
			         ref, bk.status);
		if (error[0] == '\0' &&
		    jsonio_string(
		            jsonio_member(pay, "metadata", json_type_object),
		            "start") == NULL)
			snprintf(error, sizeof(error),
			         "the payment names booking %s, which does "
			         "not exist",
			         ref);
	}
	if (error[0] == '\0') {
		/* The class travels in the metadata. */
		struct bookreq b;
		char id[33], msg[300];
		struct ledger_new row = {NULL, pid, NULL, NULL, 0, NULL, NULL};
		const char *why;
		int64_t end;
		int taken;

		if (class_from_metadata(pay, &b, msg, sizeof(msg)) != 0) {
			snprintf(error, sizeof(error), "bad metadata: %s", msg);
			goto failed;
		}
		end = b.start + (int64_t)b.duration_min * 60;
		r = slot_taken(proc, g, b.start, end, NULL, 1, &taken, &why);
		if (r != DB_OK)
			return r;
		if (crypto_random_hex(id, sizeof(id), 16) != 0)
			return DB_ERROR;
		row.status = taken      ? "failed"
		             : approved ? "scheduling"
		                        : "pending";
		row.last_error = !taken        ? NULL
		                 : why != NULL ? why
		                               : "the slot was taken before "
		                                 "the payment arrived";
		row.why = taken      ? "paid, but the slot was taken"
		          : approved ? "the payment was approved"
		                     : "the payment is pending";
		r = ledger_insert(proc->db, id, &b, &row);
		if (r != DB_OK)
			return r;
		snprintf(o->booking, sizeof(o->booking), "%s", id);
		o->schedule = !taken && approved;
		o->what = taken ? "failed: the slot was taken" : row.status;
		goto link;
	}
failed:
	log_warn(request_id, "payment %s cannot become a class: %s", pid,
	         error);
	o->what = "failed";
	return ledger_payment_error(proc->db, pid, error);
link:
	if (r != DB_OK || o->booking[0] == '\0')
		return r;
	return ledger_payment_link(proc->db, pid, o->booking);
}

enum payment_result payment_record(struct proc *proc, const char *request_id,
                                   const char *pid, struct json_object *pay,
                                   struct payment_outcome *o)
{
	struct google_check g;
	int attempt = 0, reads = 0;

	/* Recorded first, in one transaction under the slot lock, so that
	 * concurrent deliveries of one payment make one booking. */
	memset(&g, 0, sizeof(g));
	while (attempt < LIMIT_DB_TX_TRIES) {
		enum db_result r;

		memset(o, 0, sizeof(*o));
		g.want = 0;
		r = db_begin(proc->db);
		if (r == DB_OK)
			r = ledger_lock_slots(proc->db);
		if (r == DB_OK)
			r = record(proc, request_id, pid, pay, &g, o);
		if (r == DB_OK)
			r = db_commit(proc->db);
		else
			db_rollback(proc->db);
		if (r == DB_OK)
			return PAYMENT_RECORDED;
		if (g.want && reads < PAYMENT_TRIES) {
			/* Google, outside the transaction; then again. */
			reads++;
			if (google_read(proc, request_id, &g, o) != 0)
				return PAYMENT_CALENDAR_DOWN;
			continue;
		}
		/* A conflict may also surface on a read of record(). */
		if (r != DB_RETRY && r != DB_DUPLICATE &&
		    !db_conflicted(proc->db)) {
			log_warn(request_id, "recording payment %s: %s", pid,
			         db_error(proc->db));
			return PAYMENT_DB_DOWN;
		}
		attempt++;
		db_retry_pause(attempt);
	}
	log_warn(request_id,
	         "recording payment %s: still conflicting after "
	         "%d tries",
	         pid, LIMIT_DB_TX_TRIES);
	return PAYMENT_DB_DOWN;
}

enum payment_result payment_record_unreadable(struct proc *proc,
                                              const char *request_id,
                                              const char *pid, const char *why,
                                              struct payment_outcome *o)
{
	memset(o, 0, sizeof(*o));
	log_warn(request_id,
	         "payment %s: %s; recorded as unreadable, no booking changes",
	         pid, why);
	if (ledger_payment_unreadable(proc->db, pid, why) != DB_OK) {
		log_warn(request_id, "recording payment %s: %s", pid,
		         db_error(proc->db));
		return PAYMENT_DB_DOWN;
	}
	o->what = "failed: unreadable payment";
	return PAYMENT_RECORDED;
}

void payment_finish(struct proc *proc, const char *request_id,
                    const struct payment_outcome *o)
{
	/* A failure here is reconciliation's: the state is durable. */
	if (o->schedule &&
	    booking_schedule(proc, request_id, o->booking) != BOOKING_OK)
		log_warn(request_id, "booking %s: its event follows later",
		         o->booking);
	if (o->cancel &&
	    booking_apply_cancel(proc, request_id, o->booking) != BOOKING_OK)
		log_warn(request_id, "booking %s: its event waits for deletion",
		         o->booking);
}
