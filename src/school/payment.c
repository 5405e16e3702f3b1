#include "school/payment.h"

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

/* A payment id as MercadoPago writes them: 1-64 letters and digits. */
int payment_id_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (i >= 64 || !((s[i] >= '0' && s[i] <= '9') ||
		                 (s[i] >= 'a' && s[i] <= 'z') ||
		                 (s[i] >= 'A' && s[i] <= 'Z')))
			return 0;
	return i > 0;
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

/* A payment for a booking we already tie to it. */
static enum db_result advance(struct proc *proc, const char *id,
                              const char *cur, int64_t start, int64_t end,
                              const char *new_status, struct payment_outcome *o)
{
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
		int taken = ledger_slot_taken(proc->db, start, end, id);

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
	if (strcmp(new_status, "approved") == 0 &&
	    strcmp(cur, "scheduling") == 0) {
		o->schedule = 1; /* finish what a previous delivery began */
		o->what = "scheduling";
		return DB_OK;
	}
	o->what = "unchanged";
	return DB_OK; /* never backwards */
}

/* Records the payment and what it does to its booking, in the current
 * transaction (under the slot lock). */
static enum db_result record(struct proc *proc, const char *request_id,
                             const char *pid, struct json_object *pay,
                             struct payment_outcome *o)
{
	const char *status = jsonio_string(pay, "status");
	const char *ref = named_booking(pay);
	char amount[48] = "", error[400] = "", last[64];
	struct ledger_payment lp;
	struct ledger_paid bk;
	struct json_object *v;
	enum db_result r;
	int r_new, approved, found;

	if (status == NULL)
		status = "unknown";
	r_new = rank(status);
	approved = strcmp(status, "approved") == 0;
	v = jsonio_member(pay, "transaction_amount", json_type_double);
	if (v == NULL)
		v = jsonio_member(pay, "transaction_amount", json_type_int);
	if (v != NULL)
		snprintf(amount, sizeof(amount), "%.2f",
		         json_object_get_double(v));
	/* The payment's last known state (never moved backwards). */
	found = ledger_payment_status(proc->db, pid, last, sizeof(last));
	if (found < 0)
		return DB_ERROR;
	if (found == 1 && rank(last) > r_new) {
		/* An older notification arriving late: record nothing. */
		o->what = "out of order: ignored";
		return DB_OK;
	}
	lp.id = pid;
	lp.status = status;
	lp.detail = jsonio_string(pay, "status_detail");
	lp.external_reference = jsonio_string(pay, "external_reference");
	lp.amount = amount[0] ? amount : NULL;
	lp.currency = jsonio_string(pay, "currency_id");
	r = ledger_payment_upsert(proc->db, &lp);
	if (r != DB_OK)
		return r;
	/* The booking already tied to this payment. */
	found = ledger_booking_by_payment(proc->db, pid, &bk);
	if (found < 0)
		return DB_ERROR;
	if (found == 1) {
		snprintf(o->booking, sizeof(o->booking), "%s", bk.id);
		r = advance(proc, o->booking, bk.status, bk.start, bk.end,
		            status, o);
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
			int taken = ledger_slot_taken(proc->db, bk.start,
			                              bk.end, ref);

			snprintf(o->booking, sizeof(o->booking), "%s", ref);
			if (taken < 0)
				return DB_ERROR;
			if (taken) {
				o->what = "failed: the slot was taken";
				r = of(ledger_take_payment(
				        proc->db, ref, "held", "failed", pid,
				        "the held slot was taken by someone "
				        "else before the payment arrived",
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
		int64_t end;
		int taken;

		if (class_from_metadata(pay, &b, msg, sizeof(msg)) != 0) {
			snprintf(error, sizeof(error), "bad metadata: %s", msg);
			goto failed;
		}
		if (crypto_random_hex(id, sizeof(id), 16) != 0)
			return DB_ERROR;
		end = b.start + (int64_t)b.duration_min * 60;
		taken = ledger_slot_taken(proc->db, b.start, end, NULL);
		if (taken < 0)
			return DB_ERROR;
		row.status = taken      ? "failed"
		             : approved ? "scheduling"
		                        : "pending";
		row.last_error = taken ? "the slot was taken before the "
		                         "payment arrived"
		                       : NULL;
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

int payment_record(struct proc *proc, const char *request_id, const char *pid,
                   struct json_object *pay, struct payment_outcome *o)
{
	int attempt;

	/* Recorded first, in one transaction under the slot lock, so that
	 * concurrent deliveries of one payment make one booking. */
	for (attempt = 0; attempt < PAYMENT_TRIES; attempt++) {
		enum db_result r;

		memset(o, 0, sizeof(*o));
		r = db_begin(proc->db);
		if (r == DB_OK)
			r = ledger_lock_slots(proc->db);
		if (r == DB_OK)
			r = record(proc, request_id, pid, pay, o);
		if (r == DB_OK)
			r = db_commit(proc->db);
		else
			db_rollback(proc->db);
		if (r == DB_OK)
			return 0;
		if (r != DB_RETRY && r != DB_DUPLICATE) {
			log_warn(request_id, "recording payment %s: %s", pid,
			         db_error(proc->db));
			return -1;
		}
	}
	log_warn(request_id,
	         "recording payment %s: still conflicting after "
	         "%d tries",
	         pid, PAYMENT_TRIES);
	return -1;
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
