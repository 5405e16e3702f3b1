#include "web/bookapi.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json_object.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/jsonio.h"
#include "core/limit.h"
#include "core/log.h"
#include "core/tz.h"
#include "school/booking.h"
#include "school/bookreq.h"
#include "school/ledger.h"
#include "school/school.h"
#include "web/reply.h"

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static int slot_taken(struct response *res)
{
	return response_error(res, 409, "slot_unavailable",
	                      "That time is no longer free; pick another "
	                      "slot.");
}

static int not_found(struct response *res)
{
	return response_error(res, 404, "booking_not_found",
	                      "There is no booking with this id.");
}

/* A body bookreq refused (rc): which field, or a start the school does
 * not offer. */
static int invalid(struct response *res, int rc, const char *msg)
{
	return response_error(res, 422,
	                      rc == BOOKREQ_OUTSIDE_HOURS
	                              ? "outside_opening_hours"
	                              : "invalid_field",
	                      "%s", msg);
}

/* ---- Idempotency-Key ---- */

const char *bookapi_idempotency_key(const char *k)
{
	size_t i;

	if (k == NULL)
		return "";
	for (i = 0; k[i]; i++)
		if (i >= 255 || k[i] < 0x21 || k[i] > 0x7e)
			return NULL;
	return i ? k : NULL;
}

/*
 * A request with a key seen before: the first reply again (same status and
 * body); 422 when the body differs; while the first is still running, wait
 * for it, then 409. Returns the status written, or 0 when the key is new.
 */
static int replay(struct proc *proc, struct request *req, struct response *res,
                  const char *key, const char *hash)
{
	long waited = 0;

	for (;;) {
		struct ledger_idem seen;
		int found = ledger_idem_find(proc->db, key, &seen);

		if (found < 0)
			return reply_db_down(proc, req, res, "booking");
		if (found == 0)
			return 0;
		if (strcmp(seen.hash, hash) != 0) {
			ledger_idem_free(&seen);
			return response_error(
			        res, 422, "idempotency_key_reused",
			        "This Idempotency-Key was used with another "
			        "body; use a new key for a new booking.");
		}
		if (seen.has_reply) {
			buf_reset(&res->body);
			if (buf_append(&res->body, seen.reply, seen.len) != 0) {
				ledger_idem_free(&seen);
				return response_error(res, 500,
				                      "internal_error",
				                      "The reply could not be "
				                      "built.");
			}
			res->status = seen.status;
			snprintf(res->content_type, sizeof(res->content_type),
			         "application/json; charset=utf-8");
			ledger_idem_free(&seen);
			return res->status;
		}
		ledger_idem_free(&seen);
		if (seen.stale)
			/* The first request died before replying: answer
			 * with the booking as it stands. */
			return reply_booking(
			        proc, req, res,
			        strcmp(seen.bstatus, "scheduling") == 0 ? 202
			                                                : 201,
			        seen.id);
		if (waited >= BOOKAPI_REPLAY_WAIT_MS)
			return response_error(res, 409, "request_in_progress",
			                      "A request with this "
			                      "Idempotency-Key is still being "
			                      "processed; try again shortly.");
		sleep_ms(200);
		waited += 200;
	}
}

/* ---- the handlers ---- */

static int create(struct proc *proc, struct request *req, struct response *res,
                  int hold)
{
	char err[LIMIT_ERROR_MESSAGE], field[80], msg[300], id[33], hash[65];
	unsigned char sum[32];
	struct json_object *body = NULL;
	enum gcal_result why;
	const char *key;
	struct bookreq b;
	int status, rc;
	int64_t end;

	status = request_json_body(req, &body, err, sizeof(err));
	if (status != 0)
		return reply_body_error(res, status, err);
	rc = bookreq_parse(body, school_hours(), tz_now(),
	                   proc->cfg.booking_min_notice_min, &b, field,
	                   sizeof(field), msg, sizeof(msg));
	json_object_put(body);
	if (rc != BOOKREQ_OK)
		return invalid(res, rc, msg);
	key = bookapi_idempotency_key(request_header(req, "Idempotency-Key"));
	if (key == NULL)
		return response_error(res, 400, "invalid_header",
		                      "Idempotency-Key must be 1 to 255 "
		                      "printable ASCII characters.");
	crypto_sha256(buf_str(&req->body), req->body.len, sum);
	crypto_hex(sum, sizeof(sum), hash);
	if (*key && (status = replay(proc, req, res, key, hash)) != 0)
		return status;

	end = b.start + (int64_t)b.duration_min * 60;
	rc = booking_google_busy(proc, req->request_id, b.start, end, NULL,
	                         &why);
	if (rc < 0)
		return reply_calendar_error(res, why);
	/* Busy perhaps with this very booking, made meanwhile by another
	 * request with the same key: then that is the answer. */
	if (rc == 1 && *key &&
	    (status = replay(proc, req, res, key, hash)) != 0)
		return status;
	if (rc == 1)
		return slot_taken(res);

	if (crypto_random_hex(id, sizeof(id), 16) != 0)
		return response_error(res, 500, "internal_error",
		                      "The booking could not be made.");
	{
		struct ledger_new row = {hold ? "held" : "scheduling",
		                         NULL,
		                         *key ? key : NULL,
		                         hash,
		                         hold ? proc->cfg.booking_hold_min : 0,
		                         NULL,
		                         hold ? "held while the student pays"
		                              : "booked through the API"};

		rc = ledger_book(proc->db, id, &b, &row);
	}
	if (rc == 1)
		return slot_taken(res);
	if (rc == 2 && *key) /* the same key, at the same moment */
		return (status = replay(proc, req, res, key, hash)) != 0
		               ? status
		               : response_error(res, 409, "request_in_progress",
		                                "A request with this "
		                                "Idempotency-Key is still "
		                                "being processed.");
	if (rc != 0)
		return reply_db_down(proc, req, res, "booking");
	log_info(req->request_id, "booking %s recorded (%s)", id,
	         hold ? "held" : "scheduling");

	status = 201;
	if (!hold && booking_schedule(proc, req->request_id, id) != BOOKING_OK)
		status = 202; /* safe, and reconciliation finishes it */
	status = reply_booking(proc, req, res, status, id);
	if (*key && (status == 201 || status == 202))
		ledger_idem_keep(proc->db, req->request_id, id, res->status,
		                 buf_str(&res->body), res->body.len);
	return status;
}

int bookapi_create(struct proc *proc, struct request *req, struct response *res)
{
	return create(proc, req, res, 0);
}

int bookapi_hold(struct proc *proc, struct request *req, struct response *res)
{
	return create(proc, req, res, 1);
}

static int not_active(struct response *res, const char *status)
{
	return response_error(res, 409, "booking_not_active",
	                      "This booking is %s; it cannot be moved.",
	                      status);
}

int bookapi_reschedule(struct proc *proc, struct request *req,
                       struct response *res)
{
	char err[LIMIT_ERROR_MESSAGE], field[80], msg[300];
	struct json_object *body = NULL;
	const char *id = req->param;
	struct ledger_row row;
	enum gcal_result why;
	int status, rc, found, duration;
	int64_t start, end;

	if (!ledger_id_valid(id))
		return not_found(res);
	status = request_json_body(req, &body, err, sizeof(err));
	if (status != 0)
		return reply_body_error(res, status, err);
	found = ledger_load(proc->db, id, &row);
	if (found <= 0) {
		json_object_put(body);
		return found < 0 ? reply_db_down(proc, req, res, "booking")
		                 : not_found(res);
	}
	if (strcmp(row.status, "cancelled") == 0 ||
	    strcmp(row.status, "failed") == 0) {
		json_object_put(body);
		return not_active(res, row.status);
	}
	start = row.b.start;
	duration = row.b.duration_min;
	rc = bookreq_parse_patch(body, school_hours(), tz_now(),
	                         proc->cfg.booking_min_notice_min, &start,
	                         &duration, field, sizeof(field), msg,
	                         sizeof(msg));
	json_object_put(body);
	if (rc != BOOKREQ_OK)
		return invalid(res, rc, msg);
	end = start + (int64_t)duration * 60;
	rc = booking_google_busy(proc, req->request_id, start, end, id, &why);
	if (rc < 0)
		return reply_calendar_error(res, why);
	if (rc == 1)
		return slot_taken(res);
	rc = ledger_move(proc->db, id, start, end);
	if (rc == 1)
		return slot_taken(res);
	if (rc == 3) /* cancelled meanwhile */
		return not_active(res, "no longer active");
	if (rc != 0)
		return reply_db_down(proc, req, res, "booking");
	/* The event follows (Meet link kept: the same event, patched). */
	if (strcmp(row.status, "scheduled") == 0 ||
	    strcmp(row.status, "scheduling") == 0)
		if (booking_schedule(proc, req->request_id, id) != BOOKING_OK)
			log_warn(req->request_id,
			         "booking %s: Google follows later", id);
	return reply_booking(proc, req, res, 200, id);
}

/*
 * DELETE needs no body and ignores one; but a body sent as JSON must be
 * JSON, strictly, as every body is: a client that sends broken JSON gets
 * 400 and nothing is cancelled. 0, or the status written.
 */
static int cancel_body(struct request *req, struct response *res)
{
	char err[LIMIT_ERROR_MESSAGE];
	struct json_object *obj;
	int status;

	if (!request_is_json(req))
		return 0;
	status = request_read_body(req, err, sizeof(err));
	if (status != 0)
		return reply_body_error(res, status, err);
	if (req->body.len == 0)
		return 0;
	obj = jsonio_parse(buf_str(&req->body), req->body.len, LIMIT_JSON_DEPTH,
	                   err, sizeof(err));
	if (obj == NULL)
		return reply_body_error(res, 400, err);
	json_object_put(obj);
	return 0;
}

int bookapi_cancel(struct proc *proc, struct request *req, struct response *res)
{
	const char *id = req->param;
	int status;

	if (!ledger_id_valid(id))
		return not_found(res);
	if ((status = cancel_body(req, res)) != 0)
		return status;
	switch (booking_cancel(proc, req->request_id, id,
	                       "cancelled through the API")) {
	case BOOKING_GONE:
		return not_found(res);
	case BOOKING_DB_DOWN:
		return reply_db_down(proc, req, res, "booking");
	default:
		break;
	}
	return reply_booking(proc, req, res, 200, id);
}

int bookapi_get(struct proc *proc, struct request *req, struct response *res)
{
	return reply_booking(proc, req, res, 200, req->param);
}
