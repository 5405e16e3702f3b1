#include "payhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json_object.h>

#include "booking.h"
#include "bookreq.h"
#include "booksvc.h"
#include "crypto.h"
#include "db.h"
#include "jsonio.h"
#include "limit.h"
#include "log.h"
#include "mp.h"
#include "tz.h"

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

static int ack(struct response *res, const char *what, const char *payment)
{
	struct json_object *o = json_object_new_object();
	int status;

	if (o == NULL || jsonio_add_bool(o, "received", 1) ||
	    jsonio_add_string(o, "result", what) ||
	    jsonio_add_string(o, "payment", payment)) {
		json_object_put(o);
		return response_error(res, 500, "internal_error",
		                      "The reply could not be built.");
	}
	status = response_json(res, 200, o);
	json_object_put(o);
	return status;
}

/* A payment id as MercadoPago writes them: 1-64 letters and digits. */
static int payment_id_valid(const char *s)
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

	if (s != NULL && booking_id_valid(s))
		return s;
	s = jsonio_string(pay, "external_reference");
	return s != NULL && booking_id_valid(s) ? s : NULL;
}

/*
 * The class carried in the payment's metadata (start, duration_minutes,
 * class_type, participants, student_email, student_name), validated like a
 * POST /api/calendar body (the student has paid: no notice required, but
 * not in the past). 0, or -1 with msg.
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
	rc = bookreq_parse(body, tz_now(), 0, b, field, sizeof(field), msg,
	                   msglen);
	json_object_put(body);
	return rc;
}

/* The outcome of recording a payment. */
struct outcome {
	char booking[33]; /* the booking concerned, or "" */
	int schedule;     /* now "scheduling": make its event */
	int cancel;       /* now cancelled: delete its event */
	const char *what; /* for the reply and the log */
};

static enum db_result set_status(struct app *app, const char *id,
                                 const char *status, const char *payment,
                                 const char *error)
{
	struct db_param p[4] = {db_text(status), db_text(payment),
	                        db_text(error), db_text(id)};

	return db_exec(app->db,
	               "UPDATE bookings SET status = ?, paymentId = ?, "
	               "holdExpiresAt = NULL, lastError = LEFT(?, 500), "
	               "attempts = 0, nextAttemptAt = NULL WHERE id = ?",
	               p, 4, NULL);
}

/* A payment for a booking we already tie to it. */
static enum db_result advance(struct app *app, const char *id, const char *cur,
                              int64_t start, int64_t end,
                              const char *new_status, struct outcome *o)
{
	struct db_param p = db_text(id);
	int r = rank(new_status);

	if (r == 3 && strcmp(cur, "cancelled") != 0 &&
	    strcmp(cur, "failed") != 0) {
		o->cancel = 1;
		o->what = "cancelled";
		return db_exec(app->db,
		               "UPDATE bookings SET cancelPending = IF(status "
		               "IN ('scheduling', 'scheduled') OR eventId IS "
		               "NOT NULL, 1, cancelPending), status = "
		               "'cancelled' WHERE id = ?",
		               &p, 1, NULL);
	}
	if (strcmp(new_status, "rejected") == 0 &&
	    strcmp(cur, "pending") == 0) {
		o->what = "failed: the payment was rejected";
		return db_exec(app->db,
		               "UPDATE bookings SET status = 'failed', "
		               "lastError = 'the payment was rejected' WHERE "
		               "id = ?",
		               &p, 1, NULL);
	}
	if (strcmp(new_status, "approved") == 0 &&
	    strcmp(cur, "pending") == 0) {
		int taken = booksvc_slot_taken(app, start, end, id);

		if (taken < 0)
			return DB_ERROR;
		if (taken) {
			o->what = "failed: the slot was taken";
			return db_exec(app->db,
			               "UPDATE bookings SET status = 'failed', "
			               "lastError = 'the slot was taken before "
			               "the payment was approved' WHERE id = ?",
			               &p, 1, NULL);
		}
		o->schedule = 1;
		o->what = "scheduling";
		return db_exec(app->db,
		               "UPDATE bookings SET status = 'scheduling' "
		               "WHERE id = ?",
		               &p, 1, NULL);
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
static enum db_result record(struct app *app, const char *request_id,
                             const char *pid, struct json_object *pay,
                             struct outcome *o)
{
	const char *status = jsonio_string(pay, "status");
	const char *ref = named_booking(pay);
	struct db_param p[8];
	struct db_rows rows;
	enum db_result r;
	char amount[48] = "", error[400] = "";
	struct json_object *v;
	int r_new, approved;

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
	p[0] = db_text(pid);
	r = db_query(app->db,
	             "SELECT status FROM payments WHERE id = ? FOR UPDATE", p,
	             1, &rows);
	if (r != DB_OK) {
		db_rows_free(&rows);
		return r;
	}
	if (rows.nrows == 1 && rank(db_cell(&rows, 0, 0)) > r_new) {
		/* An older notification arriving late: record nothing. */
		db_rows_free(&rows);
		o->what = "out of order: ignored";
		return DB_OK;
	}
	db_rows_free(&rows);
	p[0] = db_text(pid);
	p[1] = db_text(status);
	p[2] = db_text(jsonio_string(pay, "status_detail"));
	p[3] = db_text(jsonio_string(pay, "external_reference"));
	p[4] = db_text(amount[0] ? amount : NULL);
	p[5] = db_text(jsonio_string(pay, "currency_id"));
	r = db_exec(app->db,
	            "INSERT INTO payments (id, status, statusDetail, "
	            "externalReference, amount, currency, lastNotifiedAt) "
	            "VALUES (?, LEFT(?, 32), LEFT(?, 64), LEFT(?, 255), ?, "
	            "LEFT(?, 3), UTC_TIMESTAMP()) ON DUPLICATE KEY UPDATE "
	            "status = VALUES(status), statusDetail = "
	            "VALUES(statusDetail), amount = VALUES(amount), currency = "
	            "VALUES(currency), lastNotifiedAt = UTC_TIMESTAMP()",
	            p, 6, NULL);
	if (r != DB_OK)
		return r;

	/* The booking already tied to this payment. */
	p[0] = db_text(pid);
	r = db_query(app->db,
	             "SELECT id, status, UNIX_TIMESTAMP(startAt), "
	             "UNIX_TIMESTAMP(endAt) FROM bookings WHERE paymentId = ?",
	             p, 1, &rows);
	if (r != DB_OK) {
		db_rows_free(&rows);
		return r;
	}
	if (rows.nrows == 1) {
		char cur[16];

		snprintf(o->booking, sizeof(o->booking), "%s",
		         db_cell(&rows, 0, 0));
		snprintf(cur, sizeof(cur), "%s", db_cell(&rows, 0, 1));
		r = advance(app, o->booking, cur,
		            strtoll(db_cell(&rows, 0, 2), NULL, 10),
		            strtoll(db_cell(&rows, 0, 3), NULL, 10), status, o);
		db_rows_free(&rows);
		goto link;
	}
	db_rows_free(&rows);
	if (r_new != 1 && !approved) {
		o->what = r_new == 3 ? "nothing booked to cancel"
		                     : "nothing booked";
		return DB_OK;
	}

	if (ref != NULL) {
		/* The hold the PHP site made: the paid slot is that one,
		 * even if the hold expired, as long as no one took it. */
		p[0] = db_text(ref);
		r = db_query(app->db,
		             "SELECT status, paymentId IS NULL, "
		             "UNIX_TIMESTAMP(startAt), UNIX_TIMESTAMP(endAt) "
		             "FROM bookings WHERE id = ? FOR UPDATE",
		             p, 1, &rows);
		if (r != DB_OK) {
			db_rows_free(&rows);
			return r;
		}
		if (rows.nrows == 1 &&
		    strcmp(db_cell(&rows, 0, 0), "held") == 0 &&
		    strcmp(db_cell(&rows, 0, 1), "1") == 0) {
			int64_t s = strtoll(db_cell(&rows, 0, 2), NULL, 10);
			int64_t e = strtoll(db_cell(&rows, 0, 3), NULL, 10);
			int taken = booksvc_slot_taken(app, s, e, ref);

			db_rows_free(&rows);
			snprintf(o->booking, sizeof(o->booking), "%s", ref);
			if (taken < 0)
				return DB_ERROR;
			if (taken) {
				o->what = "failed: the slot was taken";
				r = set_status(app, ref, "failed", pid,
				               "the held slot was taken by "
				               "someone else before the "
				               "payment arrived");
			} else {
				o->schedule = approved;
				o->what = approved ? "scheduling" : "pending";
				r = set_status(app, ref, o->what, pid, NULL);
			}
			goto link;
		}
		if (rows.nrows == 1)
			snprintf(error, sizeof(error),
			         "the payment names booking %s, which is %s "
			         "and cannot take it",
			         ref, db_cell(&rows, 0, 0));
		db_rows_free(&rows);
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
		struct booksvc_row row = {NULL, pid, NULL, NULL, 0, NULL};
		int64_t end;
		int taken;

		if (class_from_metadata(pay, &b, msg, sizeof(msg)) != 0) {
			snprintf(error, sizeof(error), "bad metadata: %s", msg);
			goto failed;
		}
		if (crypto_random_hex(id, sizeof(id), 16) != 0)
			return DB_ERROR;
		end = b.start + (int64_t)b.duration_min * 60;
		taken = booksvc_slot_taken(app, b.start, end, NULL);
		if (taken < 0)
			return DB_ERROR;
		row.status = taken      ? "failed"
		             : approved ? "scheduling"
		                        : "pending";
		row.last_error = taken ? "the slot was taken before the "
		                         "payment arrived"
		                       : NULL;
		r = booksvc_insert_row(app, id, &b, &row);
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
	p[0] = db_text(error);
	p[1] = db_text(pid);
	return db_exec(app->db,
	               "UPDATE payments SET lastError = LEFT(?, 500) WHERE "
	               "id = ?",
	               p, 2, NULL);
link:
	if (r != DB_OK || o->booking[0] == '\0')
		return r;
	p[0] = db_text(o->booking);
	p[1] = db_text(pid);
	return db_exec(app->db,
	               "UPDATE payments SET bookingId = ? WHERE id = ?", p, 2,
	               NULL);
}

int payhook_handle(struct app *app, struct request *req, struct response *res)
{
	const char *topic = request_query(req, "topic");
	const char *type = request_query(req, "type");
	const char *pid = NULL;
	char err[LIMIT_ERROR_MESSAGE];
	struct json_object *pay = NULL;
	struct outcome o;
	enum mp_result mr;
	int status, attempt;

	/* The body is read (bounded) but never trusted. */
	status = request_read_body(req, err, sizeof(err));
	if (status != 0)
		return response_error(res, status,
		                      status == 413 ? "body_too_large"
		                                    : "bad_request",
		                      "%s.", err);
	if (topic != NULL) {
		/* The older form, which MercadoPago does not sign. */
		if (strcmp(topic, "payment") != 0)
			return ack(res, "ignored: not a payment", NULL);
		pid = request_query(req, "id");
	} else if (type != NULL) {
		enum mp_sig sig;

		if (strcmp(type, "payment") != 0)
			return ack(res, "ignored: not a payment", NULL);
		pid = request_query(req, "data.id");
		sig = mp_signature_verify(
		        app->cfg.mp_webhook_secret,
		        request_header(req, "X-Signature"), pid,
		        request_header(req, "X-Request-Id"), tz_now(),
		        app->cfg.mp_signature_tolerance_s);
		if (sig != MP_SIG_OK) {
			log_warn(req->request_id, "notification refused: %s",
			         mp_sig_str(sig));
			return response_error(res, 401, "invalid_signature",
			                      "The notification's signature is "
			                      "not valid: %s.",
			                      mp_sig_str(sig));
		}
	} else {
		return response_error(res, 400, "invalid_query",
		                      "Expected ?data.id=...&type=payment or "
		                      "?topic=payment&id=....");
	}
	if (pid == NULL || !payment_id_valid(pid))
		return response_error(
		        res, 400, "invalid_query",
		        "The payment id is missing or malformed.");

	mr = mp_payment_get(app, req->request_id, pid, &pay, err, sizeof(err));
	if (mr == MP_NOT_FOUND) {
		log_warn(req->request_id,
		         "notification for payment %s, which "
		         "MercadoPago does not know: ignored",
		         pid);
		return ack(res, "ignored: unknown payment", pid);
	}
	if (mr != MP_OK) {
		log_warn(req->request_id, "reading payment %s: %s", pid, err);
		return response_error(res, mr == MP_REFUSED ? 502 : 503,
		                      "payment_provider_unavailable",
		                      "MercadoPago could not be read; the "
		                      "notification can be sent again.");
	}

	/* Recorded first, in one transaction under the slot lock, so that
	 * concurrent deliveries of one payment make one booking. */
	for (attempt = 0; attempt < 3; attempt++) {
		enum db_result r;

		memset(&o, 0, sizeof(o));
		r = db_begin(app->db);
		if (r == DB_OK)
			r = booksvc_lock_slots(app);
		if (r == DB_OK)
			r = record(app, req->request_id, pid, pay, &o);
		if (r == DB_OK)
			r = db_commit(app->db);
		else
			db_rollback(app->db);
		if (r == DB_OK)
			break;
		if (r != DB_RETRY && r != DB_DUPLICATE) {
			log_warn(req->request_id, "recording payment %s: %s",
			         pid, db_error(app->db));
			json_object_put(pay);
			return response_error(res, 503, "database_unavailable",
			                      "The payment could not be "
			                      "recorded; the notification can "
			                      "be sent again.");
		}
	}
	json_object_put(pay);
	if (attempt == 3)
		return response_error(res, 503, "database_unavailable",
		                      "The payment could not be recorded; the "
		                      "notification can be sent again.");
	log_info(req->request_id, "payment %s: %s%s%s", pid, o.what,
	         o.booking[0] ? ", booking " : "", o.booking);

	/* Then Google; a failure here is reconciliation's, and the reply
	 * is 200 anyway: the state is durable. */
	if (o.schedule &&
	    booksvc_schedule(app, req->request_id, o.booking) != BOOKSVC_OK)
		log_warn(req->request_id, "booking %s: its event follows later",
		         o.booking);
	if (o.cancel &&
	    booksvc_apply_cancel(app, req->request_id, o.booking) != BOOKSVC_OK)
		log_warn(req->request_id,
		         "booking %s: its event waits for deletion", o.booking);
	return ack(res, o.what, pid);
}
