#include "booksvc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json_object.h>

#include "booking.h"
#include "bookreq.h"
#include "buf.h"
#include "crypto.h"
#include "db.h"
#include "gcal.h"
#include "gevent.h"
#include "jsonio.h"
#include "limit.h"
#include "log.h"
#include "tz.h"

#define ACTIVE                                                                 \
	"status NOT IN ('cancelled', 'failed') AND (status <> 'held' OR "      \
	"holdExpiresAt > UTC_TIMESTAMP())"

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static long long to_ll(const char *s)
{
	return s ? strtoll(s, NULL, 10) : 0;
}

/* ---- the row ---- */

struct row {
	char status[16];
	struct bookreq b; /* start, duration and the class */
	int64_t end;
	int has_event;
	int has_meet;
	int cancel_pending;
};

/* 1 and *r filled, 0 when there is no such booking, -1 on a database
 * error. */
static int load_row(struct app *app, const char *id, struct row *r)
{
	struct db_param p = db_text(id);
	struct db_rows rows;
	const char *c;

	memset(r, 0, sizeof(*r));
	if (db_query(app->db,
	             "SELECT status, UNIX_TIMESTAMP(startAt), "
	             "UNIX_TIMESTAMP(endAt), classType, participants, "
	             "studentEmail, studentName, notes, eventId IS NOT NULL, "
	             "meetLink IS NOT NULL, cancelPending FROM bookings "
	             "WHERE id = ?",
	             &p, 1, &rows) != DB_OK) {
		db_rows_free(&rows);
		return -1;
	}
	if (rows.nrows != 1) {
		db_rows_free(&rows);
		return 0;
	}
	snprintf(r->status, sizeof(r->status), "%s", db_cell(&rows, 0, 0));
	r->b.start = to_ll(db_cell(&rows, 0, 1));
	r->end = to_ll(db_cell(&rows, 0, 2));
	r->b.duration_min = (int)((r->end - r->b.start) / 60);
	snprintf(r->b.class_type, sizeof(r->b.class_type), "%s",
	         db_cell(&rows, 0, 3));
	r->b.participants = (int)to_ll(db_cell(&rows, 0, 4));
	snprintf(r->b.email, sizeof(r->b.email), "%s", db_cell(&rows, 0, 5));
	c = db_cell(&rows, 0, 6);
	snprintf(r->b.name, sizeof(r->b.name), "%s", c ? c : "");
	c = db_cell(&rows, 0, 7);
	snprintf(r->b.notes, sizeof(r->b.notes), "%s", c ? c : "");
	r->has_event = to_ll(db_cell(&rows, 0, 8)) == 1;
	r->has_meet = to_ll(db_cell(&rows, 0, 9)) == 1;
	r->cancel_pending = to_ll(db_cell(&rows, 0, 10)) == 1;
	db_rows_free(&rows);
	return 1;
}

/* Records a Google failure and when to try again: 5 s, doubling, at most
 * an hour (reconcile's schedule). */
static void record_failure(struct app *app, const char *request_id,
                           const char *id, const char *error)
{
	struct db_param p[2] = {db_text(error), db_text(id)};

	log_warn(request_id, "booking %s left for reconciliation: %s", id,
	         error);
	if (db_exec(app->db,
	            "UPDATE bookings SET lastError = LEFT(?, 500), "
	            "pendingSince = COALESCE(pendingSince, UTC_TIMESTAMP()), "
	            /* MySQL assigns left to right: the delay is
	             * computed from the attempts made before this one. */
	            "nextAttemptAt = UTC_TIMESTAMP() + INTERVAL LEAST(3600, "
	            "5 * POW(2, LEAST(attempts, 12))) SECOND, "
	            "attempts = attempts + 1 WHERE id = ?",
	            p, 2, NULL) != DB_OK)
		log_warn(request_id, "recording the failure: %s",
		         db_error(app->db));
}

/* Whether the event's conference is still being prepared. */
static int meet_pending(struct json_object *ev)
{
	struct json_object *conf, *create, *st;
	const char *code;

	conf = jsonio_member(ev, "conferenceData", json_type_object);
	create = jsonio_member(conf, "createRequest", json_type_object);
	st = jsonio_member(create, "status", json_type_object);
	code = jsonio_string(st, "statusCode");
	return code != NULL && strcmp(code, "pending") == 0;
}

/* {"start": ..., "end": ..., "status": "confirmed"} for a patch. */
static struct json_object *times_patch(const struct bookreq *b)
{
	struct json_object *full =
	        bookreq_event("00000000000000000000000000000000", b, tz_name());
	struct json_object *p = json_object_new_object(), *v;

	if (full == NULL || p == NULL)
		goto fail;
	if (json_object_object_get_ex(full, "start", &v) &&
	    jsonio_add(p, "start", json_object_get(v)) != 0)
		goto fail;
	if (json_object_object_get_ex(full, "end", &v) &&
	    jsonio_add(p, "end", json_object_get(v)) != 0)
		goto fail;
	if (jsonio_add_string(p, "status", "confirmed") != 0)
		goto fail;
	json_object_put(full);
	return p;
fail:
	json_object_put(full);
	json_object_put(p);
	return NULL;
}

/* Whether Google's event has the row's times and is not cancelled. */
static int event_matches(struct json_object *ev, const struct row *r)
{
	const char *status = jsonio_string(ev, "status");
	int64_t s, e;
	int all_day;

	return gevent_span(ev, &s, &e, &all_day) == 0 && !all_day &&
	       s == r->b.start && e == r->end &&
	       !(status != NULL && strcmp(status, "cancelled") == 0);
}

enum booksvc_result booksvc_schedule(struct app *app, const char *request_id,
                                     const char *id)
{
	char err[LIMIT_ERROR_MESSAGE], event_id[BOOKREQ_EVENT_ID_LEN + 1];
	struct json_object *body = NULL, *ev = NULL;
	enum booksvc_result result = BOOKSVC_PENDING;
	unsigned long long affected = 0;
	enum gcal_result r;
	struct row row;
	int found, i;

	found = load_row(app, id, &row);
	if (found < 0)
		return BOOKSVC_DB_DOWN;
	if (found == 0 || (strcmp(row.status, "scheduling") != 0 &&
	                   strcmp(row.status, "scheduled") != 0))
		return BOOKSVC_GONE;
	bookreq_event_id(id, event_id);
	body = bookreq_event(id, &row.b, tz_name());
	if (body == NULL) {
		record_failure(app, request_id, id, "out of memory");
		return BOOKSVC_PENDING;
	}
	/* A row that already has its event only needs it checked. */
	r = row.has_event ? GCAL_CONFLICT
	                  : gcal_event_insert(app, request_id, body,
	                                      app->cfg.booking_send_updates,
	                                      &ev, err, sizeof(err));
	if (r == GCAL_CONFLICT) {
		/* A previous try made it: fetch it, and bring its times (or
		 * a cancellation made in Google) back in line. */
		r = gcal_event_get(app, request_id, event_id, &ev, err,
		                   sizeof(err));
		if (r == GCAL_OK && !event_matches(ev, &row)) {
			struct json_object *patch = times_patch(&row.b);

			json_object_put(ev);
			ev = NULL;
			r = patch ? gcal_event_patch(
			                    app, request_id, event_id, patch,
			                    app->cfg.booking_send_updates, &ev,
			                    err, sizeof(err))
			          : GCAL_UNAVAILABLE;
			json_object_put(patch);
		}
	}
	if (r != GCAL_OK || ev == NULL) {
		if (r == GCAL_OK)
			snprintf(err, sizeof(err), "Google's answer is empty");
		record_failure(app, request_id, id, err);
		goto out;
	}
	/* Meet is prepared asynchronously: a few short polls, then the
	 * rest is reconciliation's. */
	for (i = 0; i < BOOKSVC_MEET_POLLS && gevent_meet_link(ev) == NULL &&
	            meet_pending(ev);
	     i++) {
		struct json_object *again = NULL;

		sleep_ms(BOOKSVC_MEET_POLL_MS);
		if (gcal_event_get(app, request_id, event_id, &again, err,
		                   sizeof(err)) != GCAL_OK ||
		    again == NULL)
			break;
		json_object_put(ev);
		ev = again;
	}
	{
		const char *meet = gevent_meet_link(ev);
		struct db_param p[5] = {db_text(event_id), db_text(meet),
		                        db_text(jsonio_string(ev, "htmlLink")),
		                        db_int(meet == NULL), db_text(id)};

		if (db_exec(app->db,
		            "UPDATE bookings SET status = 'scheduled', "
		            "eventId = ?, meetLink = ?, htmlLink = ?, "
		            "lastError = NULL, pendingSince = NULL, "
		            "nextAttemptAt = IF(? = 1, "
		            "UTC_TIMESTAMP() + INTERVAL 5 SECOND, NULL) "
		            "WHERE id = ? AND status IN ('scheduling', "
		            "'scheduled')",
		            p, 5, &affected) != DB_OK) {
			log_warn(request_id, "recording the event: %s",
			         db_error(app->db));
			result = BOOKSVC_DB_DOWN;
			goto out;
		}
	}
	if (affected == 0) {
		/* Cancelled while the event was being made: undo it. */
		found = load_row(app, id, &row);
		if (found == 1 && strcmp(row.status, "cancelled") == 0) {
			struct db_param p = db_text(id);

			if (db_exec(app->db,
			            "UPDATE bookings SET cancelPending = 1 "
			            "WHERE id = ?",
			            &p, 1, NULL) == DB_OK)
				if (booksvc_apply_cancel(app, request_id, id) !=
				    BOOKSVC_OK)
					log_warn(request_id,
					         "booking %s: its event waits "
					         "for deletion",
					         id);
		}
	}
	result = BOOKSVC_OK;
out:
	json_object_put(ev);
	json_object_put(body);
	return result;
}

enum booksvc_result booksvc_apply_cancel(struct app *app,
                                         const char *request_id, const char *id)
{
	char err[LIMIT_ERROR_MESSAGE], event_id[BOOKREQ_EVENT_ID_LEN + 1];
	struct db_param p = db_text(id);
	struct row row;
	int found = load_row(app, id, &row);

	if (found < 0)
		return BOOKSVC_DB_DOWN;
	if (found == 0 || !row.cancel_pending)
		return BOOKSVC_GONE;
	bookreq_event_id(id, event_id);
	if (gcal_event_delete(app, request_id, event_id,
	                      app->cfg.booking_send_updates, err,
	                      sizeof(err)) != GCAL_OK) {
		record_failure(app, request_id, id, err);
		return BOOKSVC_PENDING;
	}
	if (db_exec(app->db,
	            "UPDATE bookings SET cancelPending = 0, lastError = NULL, "
	            "nextAttemptAt = NULL, pendingSince = NULL WHERE id = ?",
	            &p, 1, NULL) != DB_OK)
		return BOOKSVC_DB_DOWN;
	return BOOKSVC_OK;
}

/* ---- shared pieces of the handlers ---- */

/*
 * Whether Google has something else in [start, end): 1 busy, 0 free, or
 * -1 with the error written into res (its status in *status).
 */
static int google_busy(struct app *app, struct request *req,
                       struct response *res, int64_t start, int64_t end,
                       const char *own_id, int *status)
{
	char err[LIMIT_ERROR_MESSAGE], own_event[BOOKREQ_EVENT_ID_LEN + 1];
	struct gcal_events ev = {NULL, NULL};
	struct gcal_list q;
	enum gcal_result r;
	size_t i, n;
	int busy = 0;

	memset(&q, 0, sizeof(q));
	q.time_min = start;
	q.time_max = end;
	q.single_events = 1;
	own_event[0] = '\0';
	if (own_id != NULL)
		bookreq_event_id(own_id, own_event);
	r = gcal_admin_events_list(app, req->request_id,
	                           app->cfg.google_calendar_id, &q, &ev, err,
	                           sizeof(err));
	if (r != GCAL_OK) {
		log_warn(req->request_id, "checking Google's busy times: %s",
		         err);
		*status = gcal_respond_error(res, r);
		return -1;
	}
	n = json_object_array_length(ev.items);
	for (i = 0; i < n && !busy; i++) {
		struct json_object *it = json_object_array_get_idx(ev.items, i);
		const char *bid = gevent_booking_id(it);
		const char *eid = jsonio_string(it, "id");
		int64_t s, e;
		int all_day;

		if (!gevent_blocks_time(it) ||
		    gevent_span(it, &s, &e, &all_day) != 0)
			continue;
		if (own_id != NULL &&
		    ((bid != NULL && strcmp(bid, own_id) == 0) ||
		     (eid != NULL && strcmp(eid, own_event) == 0)))
			continue;
		busy = s < end && e > start;
	}
	gcal_events_free(&ev);
	return busy;
}

enum db_result booksvc_lock_slots(struct app *app)
{
	struct db_rows rows;
	enum db_result r;

	r = db_query(app->db,
	             "SELECT name FROM booking_locks WHERE name = 'slots' "
	             "FOR UPDATE",
	             NULL, 0, &rows);
	db_rows_free(&rows);
	return r;
}

int booksvc_slot_taken(struct app *app, int64_t start, int64_t end,
                       const char *own_id)
{
	struct db_param p[3] = {db_int(end), db_int(start),
	                        db_text(own_id ? own_id : "")};
	struct db_rows rows;
	int taken;

	if (db_query(app->db,
	             "SELECT id FROM bookings WHERE startAt < FROM_UNIXTIME(?) "
	             "AND endAt > FROM_UNIXTIME(?) AND id <> ? AND " ACTIVE
	             " LIMIT 1",
	             p, 3, &rows) != DB_OK) {
		db_rows_free(&rows);
		return -1;
	}
	taken = rows.nrows > 0;
	db_rows_free(&rows);
	return taken;
}

enum db_result booksvc_insert_row(struct app *app, const char *id,
                                  const struct bookreq *b,
                                  const struct booksvc_row *r)
{
	char s_db[24], e_db[24];
	int64_t end = b->start + (int64_t)b->duration_min * 60;

	if (tz_format_db(b->start, s_db, sizeof(s_db)) != 0 ||
	    tz_format_db(end, e_db, sizeof(e_db)) != 0)
		return DB_ERROR;
	{
		struct db_param p[16] = {
		        db_text(id),
		        db_text(r->status),
		        db_text(s_db),
		        db_text(e_db),
		        db_text(tz_name()),
		        db_text(b->class_type),
		        db_int(b->participants),
		        db_text(b->email),
		        db_text(b->name[0] ? b->name : NULL),
		        db_text(b->notes[0] ? b->notes : NULL),
		        db_text(r->idem_key),
		        db_text(r->idem_key ? r->idem_hash : NULL),
		        db_text(r->payment_id),
		        db_text(r->last_error),
		        db_int(r->hold_min > 0),
		        db_int(r->hold_min),
		};

		return db_exec(
		        app->db,
		        "INSERT INTO bookings (id, status, startAt, endAt, "
		        "timeZone, classType, participants, studentEmail, "
		        "studentName, notes, idempotencyKey, idempotencyHash, "
		        "paymentId, lastError, holdExpiresAt) VALUES (?, ?, ?, "
		        "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, LEFT(?, 500), IF(? = 1, "
		        "UTC_TIMESTAMP() + INTERVAL ? MINUTE, NULL))",
		        p, 16, NULL);
	}
}

/* What a locked write does once the slot is known to be free. */
struct write_step {
	const char *sql; /* a statement with params, or NULL */
	const struct db_param *params;
	size_t n;
	const char *id; /* or: insert this booking */
	const struct bookreq *b;
	const struct booksvc_row *row;
};

/* Under the lock: whether a booking already carries this key (another
 * request with it got there first: it is a replay, not a conflict). */
static int key_taken(struct app *app, const struct write_step *step)
{
	struct db_param p;
	struct db_rows rows;
	int taken;

	if (step->row == NULL || step->row->idem_key == NULL)
		return 0;
	p = db_text(step->row->idem_key);
	if (db_query(app->db,
	             "SELECT id FROM bookings WHERE idempotencyKey = ?", &p, 1,
	             &rows) != DB_OK) {
		db_rows_free(&rows);
		return -1;
	}
	taken = rows.nrows > 0;
	db_rows_free(&rows);
	return taken;
}

/*
 * In one transaction under the slot lock: whether [start, end) is free of
 * active bookings (other than own_id), then the step. 0 done, 1 taken, 2 a
 * duplicate key, -1 database error. Deadlocks are tried again.
 */
static int locked_write(struct app *app, int64_t start, int64_t end,
                        const char *own_id, const struct write_step *step)
{
	int attempt;

	for (attempt = 0; attempt < 3; attempt++) {
		enum db_result r;
		int taken = 0;

		if (db_begin(app->db) != DB_OK)
			return -1;
		r = booksvc_lock_slots(app);
		if (r == DB_OK) {
			int dup = key_taken(app, step);

			if (dup == 1) {
				db_rollback(app->db);
				return 2;
			}
			taken = dup < 0 ? -1
			                : booksvc_slot_taken(app, start, end,
			                                     own_id);
			if (taken < 0)
				r = DB_ERROR;
		}
		if (r == DB_OK && taken) {
			db_rollback(app->db);
			return 1;
		}
		if (r == DB_OK)
			r = step->sql ? db_exec(app->db, step->sql,
			                        step->params, step->n, NULL)
			              : booksvc_insert_row(app, step->id,
			                                   step->b, step->row);
		if (r == DB_OK)
			r = db_commit(app->db);
		else
			db_rollback(app->db);
		if (r == DB_OK)
			return 0;
		if (r == DB_DUPLICATE)
			return 2;
		if (r != DB_RETRY)
			return -1;
	}
	return -1;
}

static int slot_taken(struct response *res)
{
	return response_error(res, 409, "slot_unavailable",
	                      "That time is no longer free; pick another "
	                      "slot.");
}

static int db_down(struct app *app, struct request *req, struct response *res)
{
	log_warn(req->request_id, "booking: %s", db_error(app->db));
	return response_error(res, 503, "database_unavailable",
	                      "The database is not answering; try again in a "
	                      "minute.");
}

/* ---- Idempotency-Key ---- */

/* The header when present and sane (1-255 printable ASCII), "" when
 * absent, NULL when malformed. */
static const char *idempotency_key(struct request *req)
{
	const char *k = request_header(req, "Idempotency-Key");
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
static int replay(struct app *app, struct request *req, struct response *res,
                  const char *key, const char *hash)
{
	long waited = 0;

	for (;;) {
		struct db_param p = db_text(key);
		struct db_rows rows;
		int status;

		if (db_query(app->db,
		             "SELECT idempotencyHash, idempotencyStatus, "
		             "idempotencyReply, id, status, "
		             "createdAt < UTC_TIMESTAMP() - INTERVAL 60 SECOND "
		             "FROM bookings WHERE idempotencyKey = ?",
		             &p, 1, &rows) != DB_OK) {
			db_rows_free(&rows);
			return db_down(app, req, res);
		}
		if (rows.nrows == 0) {
			db_rows_free(&rows);
			return 0;
		}
		if (strcmp(db_cell(&rows, 0, 0), hash) != 0) {
			db_rows_free(&rows);
			return response_error(
			        res, 422, "idempotency_key_reused",
			        "This Idempotency-Key was used with another "
			        "body; use a new key for a new booking.");
		}
		if (db_cell(&rows, 0, 1) != NULL && db_cell(&rows, 0, 2)) {
			status = (int)to_ll(db_cell(&rows, 0, 1));
			buf_reset(&res->body);
			if (buf_append(&res->body, db_cell(&rows, 0, 2),
			               db_cell_len(&rows, 0, 2)) != 0) {
				db_rows_free(&rows);
				return response_error(res, 500,
				                      "internal_error",
				                      "The reply could not be "
				                      "built.");
			}
			res->status = status;
			snprintf(res->content_type, sizeof(res->content_type),
			         "application/json; charset=utf-8");
			db_rows_free(&rows);
			return status;
		}
		if (to_ll(db_cell(&rows, 0, 5)) == 1) {
			/* The first request died before replying: answer
			 * with the booking as it stands. */
			char id[33];
			int st = strcmp(db_cell(&rows, 0, 4), "scheduling") == 0
			                 ? 202
			                 : 201;

			snprintf(id, sizeof(id), "%s", db_cell(&rows, 0, 3));
			db_rows_free(&rows);
			return booking_reply(app, req, res, st, id);
		}
		db_rows_free(&rows);
		if (waited >= BOOKSVC_REPLAY_WAIT_MS)
			return response_error(res, 409, "request_in_progress",
			                      "A request with this "
			                      "Idempotency-Key is still being "
			                      "processed; try again shortly.");
		sleep_ms(200);
		waited += 200;
	}
}

/* Keeps the reply of the first request with a key. */
static void remember_reply(struct app *app, struct request *req,
                           struct response *res, const char *id)
{
	struct db_param p[3] = {db_int(res->status),
	                        db_blob(buf_str(&res->body), res->body.len),
	                        db_text(id)};

	if (db_exec(app->db,
	            "UPDATE bookings SET idempotencyStatus = ?, "
	            "idempotencyReply = ? WHERE id = ? AND idempotencyKey IS "
	            "NOT NULL",
	            p, 3, NULL) != DB_OK)
		log_warn(req->request_id, "keeping the idempotent reply: %s",
		         db_error(app->db));
}

/* ---- the handlers ---- */

/* The error for a body request_json_body() refused with status. */
static int body_error(struct response *res, int status, const char *err)
{
	return response_error(res, status,
	                      status == 413   ? "body_too_large"
	                      : status == 415 ? "unsupported_media_type"
	                                      : "invalid_json",
	                      "%s.", err);
}

static int invalid(struct response *res, const char *msg)
{
	return response_error(res, 422, "invalid_field", "%s", msg);
}

static int create(struct app *app, struct request *req, struct response *res,
                  int hold)
{
	char err[LIMIT_ERROR_MESSAGE], field[80], msg[300], id[33], hash[65];
	unsigned char sum[32];
	struct json_object *body = NULL;
	const char *key;
	struct bookreq b;
	int status, rc;
	int64_t end;

	status = request_json_body(req, &body, err, sizeof(err));
	if (status != 0)
		return body_error(res, status, err);
	rc = bookreq_parse(body, tz_now(), app->cfg.booking_min_notice_min, &b,
	                   field, sizeof(field), msg, sizeof(msg));
	json_object_put(body);
	if (rc != 0)
		return invalid(res, msg);
	key = idempotency_key(req);
	if (key == NULL)
		return response_error(res, 400, "invalid_header",
		                      "Idempotency-Key must be 1 to 255 "
		                      "printable ASCII characters.");
	crypto_sha256(buf_str(&req->body), req->body.len, sum);
	crypto_hex(sum, sizeof(sum), hash);
	if (*key && (status = replay(app, req, res, key, hash)) != 0)
		return status;

	end = b.start + (int64_t)b.duration_min * 60;
	rc = google_busy(app, req, res, b.start, end, NULL, &status);
	if (rc < 0)
		return status;
	/* Busy perhaps with this very booking, made meanwhile by another
	 * request with the same key: then that is the answer. */
	if (rc == 1 && *key && (status = replay(app, req, res, key, hash)) != 0)
		return status;
	if (rc == 1)
		return slot_taken(res);

	if (crypto_random_hex(id, sizeof(id), 16) != 0)
		return response_error(res, 500, "internal_error",
		                      "The booking could not be made.");
	{
		struct booksvc_row row = {hold ? "held" : "scheduling",
		                          NULL,
		                          *key ? key : NULL,
		                          hash,
		                          hold ? app->cfg.booking_hold_min : 0,
		                          NULL};
		struct write_step step = {NULL, NULL, 0, id, &b, &row};

		rc = locked_write(app, b.start, end, NULL, &step);
	}
	if (rc == 1)
		return slot_taken(res);
	if (rc == 2 && *key) /* the same key, at the same moment */
		return (status = replay(app, req, res, key, hash)) != 0
		               ? status
		               : response_error(res, 409, "request_in_progress",
		                                "A request with this "
		                                "Idempotency-Key is still "
		                                "being processed.");
	if (rc != 0)
		return db_down(app, req, res);
	log_info(req->request_id, "booking %s recorded (%s)", id,
	         hold ? "held" : "scheduling");

	status = 201;
	if (!hold && booksvc_schedule(app, req->request_id, id) != BOOKSVC_OK)
		status = 202; /* safe, and reconciliation finishes it */
	status = booking_reply(app, req, res, status, id);
	if (*key && (status == 201 || status == 202))
		remember_reply(app, req, res, id);
	return status;
}

int booksvc_create(struct app *app, struct request *req, struct response *res)
{
	return create(app, req, res, 0);
}

int booksvc_hold(struct app *app, struct request *req, struct response *res)
{
	return create(app, req, res, 1);
}

static int not_found(struct response *res)
{
	return response_error(res, 404, "booking_not_found",
	                      "There is no booking with this id.");
}

int booksvc_reschedule(struct app *app, struct request *req,
                       struct response *res)
{
	char err[LIMIT_ERROR_MESSAGE], field[80], msg[300], s_db[24], e_db[24];
	struct json_object *body = NULL;
	const char *id = req->param;
	struct row row;
	int status, rc, found, duration;
	int64_t start, end;

	if (!booking_id_valid(id))
		return not_found(res);
	status = request_json_body(req, &body, err, sizeof(err));
	if (status != 0)
		return body_error(res, status, err);
	found = load_row(app, id, &row);
	if (found <= 0) {
		json_object_put(body);
		return found < 0 ? db_down(app, req, res) : not_found(res);
	}
	if (strcmp(row.status, "cancelled") == 0 ||
	    strcmp(row.status, "failed") == 0) {
		json_object_put(body);
		return response_error(res, 409, "booking_not_active",
		                      "This booking is %s; it cannot be "
		                      "moved.",
		                      row.status);
	}
	start = row.b.start;
	duration = row.b.duration_min;
	rc = bookreq_parse_patch(
	        body, tz_now(), app->cfg.booking_min_notice_min, &start,
	        &duration, field, sizeof(field), msg, sizeof(msg));
	json_object_put(body);
	if (rc != 0)
		return invalid(res, msg);
	end = start + (int64_t)duration * 60;
	rc = google_busy(app, req, res, start, end, id, &status);
	if (rc < 0)
		return status;
	if (rc == 1)
		return slot_taken(res);
	if (tz_format_db(start, s_db, sizeof(s_db)) != 0 ||
	    tz_format_db(end, e_db, sizeof(e_db)) != 0)
		return response_error(res, 500, "internal_error",
		                      "The booking could not be moved.");
	{
		struct db_param p[3] = {db_text(s_db), db_text(e_db),
		                        db_text(id)};

		struct write_step step = {
		        "UPDATE bookings SET startAt = ?, endAt = ?, status = "
		        "IF(status = 'scheduled', 'scheduling', status) WHERE "
		        "id = ? AND status NOT IN ('cancelled', 'failed')",
		        p,
		        3,
		        NULL,
		        NULL,
		        NULL};

		rc = locked_write(app, start, end, id, &step);
	}
	if (rc == 1)
		return slot_taken(res);
	if (rc != 0)
		return db_down(app, req, res);
	/* The event follows (Meet link kept: the same event, patched). */
	if (strcmp(row.status, "scheduled") == 0 ||
	    strcmp(row.status, "scheduling") == 0)
		if (booksvc_schedule(app, req->request_id, id) != BOOKSVC_OK)
			log_warn(req->request_id,
			         "booking %s: Google follows later", id);
	return booking_reply(app, req, res, 200, id);
}

int booksvc_cancel(struct app *app, struct request *req, struct response *res)
{
	const char *id = req->param;
	struct db_param p;
	struct row row;
	int found;

	if (!booking_id_valid(id))
		return not_found(res);
	found = load_row(app, id, &row);
	if (found <= 0)
		return found < 0 ? db_down(app, req, res) : not_found(res);
	p = db_text(id);
	/* Recorded first; then Google. An event may exist for any booking
	 * that reached scheduling, so its deletion is always attempted
	 * then (a missing event counts as deleted). */
	if (strcmp(row.status, "cancelled") != 0 &&
	    db_exec(app->db,
	            "UPDATE bookings SET cancelPending = IF(status IN "
	            "('scheduling', 'scheduled') OR eventId IS NOT NULL, 1, "
	            "cancelPending), status = 'cancelled' WHERE id = ?",
	            &p, 1, NULL) != DB_OK)
		return db_down(app, req, res);
	if (booksvc_apply_cancel(app, req->request_id, id) == BOOKSVC_DB_DOWN)
		return db_down(app, req, res);
	return booking_reply(app, req, res, 200, id);
}
