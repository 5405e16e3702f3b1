#include "school/ledger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonio.h"
#include "core/limit.h"
#include "core/log.h"
#include "core/tz.h"

#define ACTIVE                                                                 \
	"status NOT IN ('cancelled', 'failed') AND (status <> 'held' OR "      \
	"holdExpiresAt > UTC_TIMESTAMP())"

/* Work reconciliation has on a booking. */
#define WORK_OF(t)                                                             \
	"(" t "status = 'scheduling' OR " t "cancelPending = 1 OR (" t         \
	"status = 'scheduled' AND " t "meetLink IS NULL AND " t                \
	"createdAt > UTC_TIMESTAMP() - INTERVAL 24 HOUR))"
#define WORK WORK_OF("")

/* A transaction that deadlocks, or loses Galera's certification, is tried
 * whole this often. */
#define TRIES LIMIT_DB_TX_TRIES

/* Why a pending booking's slot was released (its lastError). */
#define RELEASED                                                               \
	"the payment was still pending when its time to pay ran out "          \
	"(MercadoPago's date_of_expiration, or the longest a pending "         \
	"payment keeps its slot): the slot was released"

static void copy_cell(char *out, size_t len, const char *cell)
{
	snprintf(out, len, "%s", cell ? cell : "");
}

/* ---- the state machine ---- */

static const char *const statuses[] = {"held",      "pending",   "scheduling",
                                       "scheduled", "cancelled", "failed"};

#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]))

/* allowed[from][to]; the last row is a booking not yet written. */
static const unsigned char allowed[NSTATUS + 1][NSTATUS] = {
        /*             held pend schg schd canc fail */
        /* held */ {0, 1, 1, 0, 1, 1},
        /* pending */ {0, 0, 1, 0, 1, 1},
        /* scheduling */ {0, 0, 0, 1, 1, 1},
        /* scheduled */ {0, 0, 1, 0, 1, 0},
        /* cancelled */ {0, 0, 0, 0, 0, 0},
        /* failed */ {0, 0, 1, 0, 1, 0},
        /* (new) */ {1, 1, 1, 0, 0, 1},
};

/* The index of a status, NSTATUS for NULL (a new booking), -1 when it is
 * none. */
static int status_index(const char *s)
{
	size_t i;

	if (s == NULL)
		return (int)NSTATUS;
	for (i = 0; i < NSTATUS; i++)
		if (strcmp(statuses[i], s) == 0)
			return (int)i;
	return -1;
}

int ledger_transition_allowed(const char *from, const char *to)
{
	int f = status_index(from), t = to ? status_index(to) : -1;

	return f >= 0 && t >= 0 && t < (int)NSTATUS && allowed[f][t];
}

static enum db_result history(struct db *db, const char *id, const char *from,
                              const char *to, const char *why)
{
	struct db_param p[4] = {db_text(id), db_text(from), db_text(to),
	                        db_text(why ? why : "")};

	return db_exec(db,
	               "INSERT INTO booking_history (bookingId, fromStatus, "
	               "toStatus, reason, at) VALUES (?, ?, ?, LEFT(?, 255), "
	               "UTC_TIMESTAMP(6))",
	               p, 4, NULL);
}

#define MAX_SET 6 /* parameters of a change's extra assignments */

static enum ledger_result of_db(enum db_result r)
{
	if (r == DB_OK)
		return LEDGER_OK;
	if (r == DB_RETRY || r == DB_DUPLICATE)
		return LEDGER_RETRY;
	return LEDGER_DB_DOWN;
}

/* The compare-and-swap and its history row, in the current transaction
 * (or alone, when the status does not move). */
static enum ledger_result apply(struct db *db, const char *sql,
                                const struct db_param *p, size_t n,
                                const char *id, const char *from,
                                const char *to, const char *why)
{
	unsigned long long affected = 0;
	enum db_result r = db_exec(db, sql, p, n, &affected);

	if (r == DB_OK && affected == 0)
		return LEDGER_RACED;
	if (r == DB_OK && strcmp(from, to) != 0)
		r = history(db, id, from, to, why);
	return of_db(r);
}

/*
 * The one place a booking's status changes: booking id from status from
 * to status to, with set (further "column = ..." assignments, a literal of
 * this file, NULL: none) and its n params, as a compare-and-swap on the
 * status the caller saw, and the history row, in the caller's transaction
 * or one of its own (tried again whole on a deadlock). from == to changes
 * the row, not its status, and leaves no history.
 */
static enum ledger_result change(struct db *db, const char *id,
                                 const char *from, const char *to,
                                 const char *why, const char *set,
                                 const struct db_param *params, size_t n)
{
	struct db_param p[MAX_SET + 3];
	char sql[512];
	int moves = strcmp(from, to) != 0, tries;
	enum ledger_result lr = LEDGER_RETRY;
	size_t i, k = 0;

	if (moves && !ledger_transition_allowed(from, to)) {
		log_warn(NULL, "booking %s: %s -> %s is not allowed", id, from,
		         to);
		return LEDGER_REFUSED;
	}
	/* The status is assigned last: MySQL assigns left to right, and the
	 * other assignments may read the status the row had. */
	if (n > MAX_SET ||
	    snprintf(sql, sizeof(sql),
	             "UPDATE bookings SET %s%sstatus = ? WHERE id = ? AND "
	             "status = ?",
	             set ? set : "", set ? ", " : "") >= (int)sizeof(sql))
		return LEDGER_DB_DOWN;
	for (i = 0; i < n; i++)
		p[k++] = params[i];
	p[k++] = db_text(to);
	p[k++] = db_text(id);
	p[k++] = db_text(from);
	if (!moves || db_in_transaction(db))
		return apply(db, sql, p, k, id, from, to, why);
	for (tries = 0; tries < TRIES && lr == LEDGER_RETRY; tries++) {
		if (tries > 0)
			db_retry_pause(tries);
		if (db_begin(db) != DB_OK)
			return LEDGER_DB_DOWN;
		lr = apply(db, sql, p, k, id, from, to, why);
		if (lr == LEDGER_OK)
			lr = of_db(db_commit(db));
		else
			db_rollback(db);
		if (lr == LEDGER_DB_DOWN && db_conflicted(db))
			lr = LEDGER_RETRY;
	}
	return lr;
}

enum ledger_result ledger_transition(struct db *db, const char *id,
                                     const char *from, const char *to,
                                     const char *why)
{
	if (from == NULL || to == NULL || strcmp(from, to) == 0)
		return LEDGER_REFUSED;
	return change(db, id, from, to, why, NULL, NULL, 0);
}

int ledger_id_valid(const char *s)
{
	size_t i;

	for (i = 0; i < 32; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[32] == '\0';
}

/*
 * The row the query sql gives for key (its one parameter), in *rows.
 * 1 found (the caller frees *rows), 0 no such row, -1 on a database
 * error (nothing to free in either case).
 */
static int one_row(struct db *db, const char *sql, const char *key,
                   struct db_rows *rows)
{
	struct db_param p = db_text(key);

	if (db_query(db, sql, &p, 1, rows) != DB_OK) {
		db_rows_free(rows);
		return -1;
	}
	if (rows->nrows != 1) {
		db_rows_free(rows);
		return 0;
	}
	return 1;
}

/* ---- reading ---- */

int ledger_load(struct db *db, const char *id, struct ledger_row *r)
{
	struct db_rows rows;
	int found;

	memset(r, 0, sizeof(*r));
	found = one_row(db,
	                "SELECT status, UNIX_TIMESTAMP(startAt), "
	                "UNIX_TIMESTAMP(endAt), classType, participants, "
	                "studentEmail, studentName, notes, eventId IS NOT "
	                "NULL, meetLink IS NOT NULL, cancelPending FROM "
	                "bookings WHERE id = ?",
	                id, &rows);
	if (found != 1)
		return found;
	copy_cell(r->status, sizeof(r->status), db_cell(&rows, 0, 0));
	r->b.start = db_cell_ll(&rows, 0, 1);
	r->end = db_cell_ll(&rows, 0, 2);
	r->b.duration_min = (int)((r->end - r->b.start) / 60);
	copy_cell(r->b.class_type, sizeof(r->b.class_type),
	          db_cell(&rows, 0, 3));
	r->b.participants = (int)db_cell_ll(&rows, 0, 4);
	copy_cell(r->b.email, sizeof(r->b.email), db_cell(&rows, 0, 5));
	copy_cell(r->b.name, sizeof(r->b.name), db_cell(&rows, 0, 6));
	copy_cell(r->b.notes, sizeof(r->b.notes), db_cell(&rows, 0, 7));
	r->has_event = db_cell_ll(&rows, 0, 8) == 1;
	r->has_meet = db_cell_ll(&rows, 0, 9) == 1;
	r->cancel_pending = db_cell_ll(&rows, 0, 10) == 1;
	db_rows_free(&rows);
	return 1;
}

/* A DATETIME cell (UTC) as an ISO time in the zone, or null. */
static int add_time(struct json_object *o, const char *key, const char *cell)
{
	char s[TZ_ISO_MAX];

	return jsonio_add_string(
	        o, key, tz_db_to_iso(cell, s, sizeof(s)) == 0 ? s : NULL);
}

int ledger_booking_json(struct db *db, const char *id, struct json_object **out)
{
	struct json_object *o;
	struct db_rows rows;
	int found = one_row(db,
	                    "SELECT id, status, startAt, endAt, timeZone, "
	                    "classType, participants, studentEmail, "
	                    "studentName, eventId, meetLink, htmlLink, "
	                    "paymentId, holdExpiresAt, lastError FROM bookings "
	                    "WHERE id = ?",
	                    id, &rows);

	if (found != 1)
		return found < 0 ? -1 : 1;
	o = json_object_new_object();
	if (o == NULL || jsonio_add_string(o, "id", db_cell(&rows, 0, 0)) ||
	    jsonio_add_string(o, "status", db_cell(&rows, 0, 1)) ||
	    add_time(o, "start", db_cell(&rows, 0, 2)) ||
	    add_time(o, "end", db_cell(&rows, 0, 3)) ||
	    jsonio_add_string(o, "timeZone", db_cell(&rows, 0, 4)) ||
	    jsonio_add_string(o, "classType", db_cell(&rows, 0, 5)) ||
	    jsonio_add_int(o, "participants", db_cell_ll(&rows, 0, 6)) ||
	    jsonio_add_string(o, "studentEmail", db_cell(&rows, 0, 7)) ||
	    jsonio_add_string(o, "studentName", db_cell(&rows, 0, 8)) ||
	    jsonio_add_string(o, "eventId", db_cell(&rows, 0, 9)) ||
	    jsonio_add_string(o, "meetLink", db_cell(&rows, 0, 10)) ||
	    jsonio_add_string(o, "htmlLink", db_cell(&rows, 0, 11)) ||
	    jsonio_add_string(o, "paymentId", db_cell(&rows, 0, 12)) ||
	    add_time(o, "holdExpiresAt", db_cell(&rows, 0, 13)) ||
	    jsonio_add_string(o, "lastError", db_cell(&rows, 0, 14))) {
		json_object_put(o);
		db_rows_free(&rows);
		return -1;
	}
	db_rows_free(&rows);
	*out = o;
	return 0;
}

int ledger_active_between(struct db *db, int64_t from, int64_t to,
                          struct slots_busy **busy, size_t *n, size_t *cap)
{
	struct db_param p[2] = {db_int(to), db_int(from)};
	struct db_rows rows;
	size_t i;

	if (db_query(db,
	             "SELECT UNIX_TIMESTAMP(startAt), UNIX_TIMESTAMP(endAt) "
	             "FROM bookings WHERE startAt < FROM_UNIXTIME(?) "
	             "AND endAt > FROM_UNIXTIME(?) AND " ACTIVE,
	             p, 2, &rows) != DB_OK) {
		db_rows_free(&rows);
		return -1;
	}
	for (i = 0; i < rows.nrows; i++) {
		if (*n == *cap) {
			size_t ncap = *cap ? *cap * 2 : 32;
			struct slots_busy *q =
			        realloc(*busy, ncap * sizeof(*q));

			if (q == NULL) {
				db_rows_free(&rows);
				return -1;
			}
			*busy = q;
			*cap = ncap;
		}
		(*busy)[*n].start = db_cell_ll(&rows, i, 0);
		(*busy)[*n].end = db_cell_ll(&rows, i, 1);
		(*n)++;
	}
	db_rows_free(&rows);
	return 0;
}

/* ---- new bookings and the slot lock ---- */

/*
 * The lock is a write (a counter on the one row), not a locking read: a
 * Galera cluster certifies the rows a transaction writes, so two
 * transactions that took it on two nodes cannot both commit. The reads
 * that follow, until the transaction ends, see everything the cluster
 * committed before them (on a plain server they do anyway).
 */
enum db_result ledger_lock_slots(struct db *db)
{
	unsigned long long affected = 0;
	enum db_result r;

	r = db_exec(db,
	            "UPDATE booking_locks SET takes = takes + 1 WHERE name = "
	            "'slots'",
	            NULL, 0, &affected);
	if (r == DB_OK && affected != 1)
		r = DB_ERROR;
	if (r == DB_OK)
		r = db_causal_reads(db, 1);
	return r;
}

int ledger_slot_taken(struct db *db, int64_t start, int64_t end,
                      const char *own_id)
{
	struct db_param p[3] = {db_int(end), db_int(start),
	                        db_text(own_id ? own_id : "")};
	struct db_rows rows;
	int taken;

	if (db_query(db,
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

enum db_result ledger_insert(struct db *db, const char *id,
                             const struct bookreq *b,
                             const struct ledger_new *r)
{
	char s_db[24], e_db[24];
	int64_t end = b->start + (int64_t)b->duration_min * 60;
	enum db_result res;

	if (!ledger_transition_allowed(NULL, r->status))
		return DB_ERROR;
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

		res = db_exec(
		        db,
		        "INSERT INTO bookings (id, status, startAt, endAt, "
		        "timeZone, classType, participants, studentEmail, "
		        "studentName, notes, idempotencyKey, idempotencyHash, "
		        "paymentId, lastError, holdExpiresAt) VALUES (?, ?, ?, "
		        "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, LEFT(?, 500), IF(? = 1, "
		        "UTC_TIMESTAMP() + INTERVAL ? MINUTE, NULL))",
		        p, 16, NULL);
	}
	if (res != DB_OK)
		return res;
	return history(db, id, NULL, r->status, r->why);
}

/* Under the lock: whether a booking already carries this key (another
 * request with it got there first: it is a replay, not a conflict). */
static int key_taken(struct db *db, const char *key)
{
	struct db_param p;
	struct db_rows rows;
	int taken;

	if (key == NULL)
		return 0;
	p = db_text(key);
	if (db_query(db, "SELECT id FROM bookings WHERE idempotencyKey = ?", &p,
	             1, &rows) != DB_OK) {
		db_rows_free(&rows);
		return -1;
	}
	taken = rows.nrows > 0;
	db_rows_free(&rows);
	return taken;
}

int ledger_book(struct db *db, const char *id, const struct bookreq *b,
                const struct ledger_new *r)
{
	int64_t end = b->start + (int64_t)b->duration_min * 60;
	int attempt;

	for (attempt = 0; attempt < TRIES; attempt++) {
		enum db_result res;
		int taken = 0;

		if (attempt > 0)
			db_retry_pause(attempt);
		if (db_begin(db) != DB_OK)
			return -1;
		res = ledger_lock_slots(db);
		if (res == DB_OK) {
			int dup = key_taken(db, r->idem_key);

			if (dup == 1) {
				db_rollback(db);
				return 2;
			}
			taken = dup < 0 ? -1
			                : ledger_slot_taken(db, b->start, end,
			                                    NULL);
			if (taken < 0)
				res = DB_ERROR;
		}
		if (res == DB_OK && taken) {
			db_rollback(db);
			return 1;
		}
		if (res == DB_OK)
			res = ledger_insert(db, id, b, r);
		if (res == DB_OK)
			res = db_commit(db);
		else
			db_rollback(db);
		if (res == DB_OK)
			return 0;
		if (res == DB_DUPLICATE)
			return 2;
		/* A conflict may also surface on a read (taken < 0). */
		if (res != DB_RETRY && !db_conflicted(db))
			return -1;
	}
	return -1;
}

/* The one text cell the query sql with key gives, into out. 1, 0 when
 * there is no row, -1 on a database error. */
static int one_cell(struct db *db, const char *sql, const char *key, char *out,
                    size_t len)
{
	struct db_rows rows;
	int found = one_row(db, sql, key, &rows);

	if (found == 1) {
		copy_cell(out, len, db_cell(&rows, 0, 0));
		db_rows_free(&rows);
	}
	return found;
}

/* Booking id's status, locked for this transaction, into status. 1, 0
 * when there is no such booking, -1. */
static int status_for_update(struct db *db, const char *id, char *status,
                             size_t len)
{
	return one_cell(db,
	                "SELECT status FROM bookings WHERE id = ? FOR UPDATE",
	                id, status, len);
}

int ledger_move(struct db *db, const char *id, int64_t start, int64_t end)
{
	char s_db[24], e_db[24], status[LEDGER_STATUS_MAX];
	int attempt;

	if (tz_format_db(start, s_db, sizeof(s_db)) != 0 ||
	    tz_format_db(end, e_db, sizeof(e_db)) != 0)
		return -1;
	for (attempt = 0; attempt < TRIES; attempt++) {
		struct db_param p[2] = {db_text(s_db), db_text(e_db)};
		enum ledger_result lr = LEDGER_DB_DOWN;
		enum db_result res;
		int taken = 0, found = -1;

		if (attempt > 0)
			db_retry_pause(attempt);
		if (db_begin(db) != DB_OK)
			return -1;
		res = ledger_lock_slots(db);
		if (res == DB_OK)
			found = status_for_update(db, id, status,
			                          sizeof(status));
		if (found == 0 ||
		    (found == 1 && (strcmp(status, "cancelled") == 0 ||
		                    strcmp(status, "failed") == 0))) {
			db_rollback(db);
			return 3;
		}
		if (found == 1)
			taken = ledger_slot_taken(db, start, end, id);
		if (found == 1 && taken == 1) {
			db_rollback(db);
			return 1;
		}
		if (found == 1 && taken == 0)
			lr = change(
			        db, id, status,
			        strcmp(status, "scheduled") == 0 ? "scheduling"
			                                         : status,
			        "rescheduled", "startAt = ?, endAt = ?", p, 2);
		/* The same times again change nothing: that is done too. */
		res = lr == LEDGER_OK || lr == LEDGER_RACED ? DB_OK
		      : lr == LEDGER_RETRY                  ? DB_RETRY
		                                            : DB_ERROR;
		if (res == DB_OK)
			res = db_commit(db);
		else
			db_rollback(db);
		if (res == DB_OK)
			return 0;
		if (res != DB_RETRY && !db_conflicted(db))
			return -1;
	}
	return -1;
}

/* ---- the Google side's bookkeeping ---- */

void ledger_record_failure(struct db *db, const char *request_id,
                           const char *id, const char *error)
{
	struct db_param p[2] = {db_text(error), db_text(id)};

	log_warn(request_id, "booking %s left for reconciliation: %s", id,
	         error);
	if (db_exec(db,
	            "UPDATE bookings SET lastError = LEFT(?, 500), "
	            "pendingSince = COALESCE(pendingSince, UTC_TIMESTAMP()), "
	            /* MySQL assigns left to right: the delay is
	             * computed from the attempts made before this one. */
	            "nextAttemptAt = UTC_TIMESTAMP() + INTERVAL LEAST(3600, "
	            "5 * POW(2, LEAST(attempts, 12))) SECOND, "
	            "attempts = attempts + 1 WHERE id = ?",
	            p, 2, NULL) != DB_OK)
		log_warn(request_id, "recording the failure: %s", db_error(db));
}

enum ledger_result ledger_mark_scheduled(struct db *db, const char *id,
                                         const char *from, const char *event_id,
                                         const char *meet, const char *html)
{
	struct db_param p[4] = {db_text(event_id), db_text(meet), db_text(html),
	                        db_int(meet == NULL)};

	return change(db, id, from, "scheduled", "the event is on Google",
	              "eventId = ?, meetLink = ?, htmlLink = ?, lastError = "
	              "NULL, pendingSince = NULL, nextAttemptAt = IF(? = 1, "
	              "UTC_TIMESTAMP() + INTERVAL 5 SECOND, NULL)",
	              p, 4);
}

enum ledger_result ledger_cancel(struct db *db, const char *id,
                                 const char *from, const char *why)
{
	/* An event may exist for any booking that reached scheduling. */
	return change(db, id, from, "cancelled", why,
	              "cancelPending = IF(status IN ('scheduling', "
	              "'scheduled') OR eventId IS NOT NULL, 1, cancelPending)",
	              NULL, 0);
}

enum db_result ledger_cancel_pending(struct db *db, const char *id)
{
	struct db_param p = db_text(id);

	return db_exec(db, "UPDATE bookings SET cancelPending = 1 WHERE id = ?",
	               &p, 1, NULL);
}

enum db_result ledger_cancel_done(struct db *db, const char *id)
{
	struct db_param p = db_text(id);

	return db_exec(db,
	               "UPDATE bookings SET cancelPending = 0, lastError = "
	               "NULL, nextAttemptAt = NULL, pendingSince = NULL WHERE "
	               "id = ?",
	               &p, 1, NULL);
}

/* ---- Idempotency-Key ---- */

int ledger_idem_find(struct db *db, const char *key, struct ledger_idem *out)
{
	struct db_rows rows;
	int found;

	memset(out, 0, sizeof(*out));
	found = one_row(db,
	                "SELECT idempotencyHash, idempotencyStatus, "
	                "idempotencyReply, id, status, createdAt < "
	                "UTC_TIMESTAMP() - INTERVAL 60 SECOND FROM bookings "
	                "WHERE idempotencyKey = ?",
	                key, &rows);
	if (found != 1)
		return found;
	copy_cell(out->hash, sizeof(out->hash), db_cell(&rows, 0, 0));
	if (db_cell(&rows, 0, 1) != NULL && db_cell(&rows, 0, 2) != NULL) {
		out->len = db_cell_len(&rows, 0, 2);
		out->reply = malloc(out->len + 1);
		if (out->reply == NULL) {
			db_rows_free(&rows);
			return -1;
		}
		memcpy(out->reply, db_cell(&rows, 0, 2), out->len);
		out->reply[out->len] = '\0';
		out->status = (int)db_cell_ll(&rows, 0, 1);
		out->has_reply = 1;
	}
	copy_cell(out->id, sizeof(out->id), db_cell(&rows, 0, 3));
	copy_cell(out->bstatus, sizeof(out->bstatus), db_cell(&rows, 0, 4));
	out->stale = db_cell_ll(&rows, 0, 5) == 1;
	db_rows_free(&rows);
	return 1;
}

void ledger_idem_free(struct ledger_idem *i)
{
	free(i->reply);
	i->reply = NULL;
}

void ledger_idem_keep(struct db *db, const char *request_id, const char *id,
                      int status, const char *body, size_t len)
{
	struct db_param p[3] = {db_int(status), db_blob(body, len),
	                        db_text(id)};

	if (db_exec(db,
	            "UPDATE bookings SET idempotencyStatus = ?, "
	            "idempotencyReply = ? WHERE id = ? AND idempotencyKey IS "
	            "NOT NULL",
	            p, 3, NULL) != DB_OK)
		log_warn(request_id, "keeping the idempotent reply: %s",
		         db_error(db));
}

/* ---- payments ---- */

int ledger_payment_status(struct db *db, const char *pid, char *status,
                          size_t len)
{
	return one_cell(db,
	                "SELECT status FROM payments WHERE id = ? FOR UPDATE",
	                pid, status, len);
}

enum db_result ledger_payment_upsert(struct db *db,
                                     const struct ledger_payment *pay)
{
	struct db_param p[6] = {
	        db_text(pay->id),     db_text(pay->status),
	        db_text(pay->detail), db_text(pay->external_reference),
	        db_text(pay->amount), db_text(pay->currency)};
	struct db_param q[5] = {
	        db_int(pay->pending),
	        pay->expires > 0 ? db_int(pay->expires) : db_null(),
	        db_int(LIMIT_PAYMENT_PENDING_H),
	        db_int(LIMIT_PAYMENT_PENDING_MAX_H), db_text(pay->id)};
	enum db_result r;

	/* A new answer supersedes the reason a previous one was unusable;
	 * the caller records a new one in the same transaction. */
	r = db_exec(db,
	            "INSERT INTO payments (id, status, statusDetail, "
	            "externalReference, amount, currency, lastNotifiedAt) "
	            "VALUES (?, LEFT(?, 32), LEFT(?, 64), LEFT(?, 255), ?, "
	            "LEFT(?, 3), UTC_TIMESTAMP()) ON DUPLICATE KEY UPDATE "
	            "status = VALUES(status), statusDetail = "
	            "VALUES(statusDetail), amount = VALUES(amount), "
	            "currency = VALUES(currency), lastNotifiedAt = "
	            "UTC_TIMESTAMP(), lastError = NULL",
	            p, 6, NULL);
	if (r != DB_OK)
		return r;
	/* Counted from when the payment was first heard of (createdAt). */
	return db_exec(db,
	               "UPDATE payments SET releaseAt = IF(? = 1, "
	               "LEAST(COALESCE(FROM_UNIXTIME(?), createdAt + INTERVAL "
	               "? HOUR), createdAt + INTERVAL ? HOUR), NULL) WHERE id "
	               "= ?",
	               q, 5, NULL);
}

enum db_result ledger_payment_unreadable(struct db *db, const char *pid,
                                         const char *error)
{
	struct db_param p[2] = {db_text(pid), db_text(error)};

	return db_exec(db,
	               "INSERT INTO payments (id, status, lastError, "
	               "lastNotifiedAt) VALUES (?, 'unknown', LEFT(?, 500), "
	               "UTC_TIMESTAMP()) ON DUPLICATE KEY UPDATE lastError = "
	               "VALUES(lastError), lastNotifiedAt = UTC_TIMESTAMP()",
	               p, 2, NULL);
}

enum db_result ledger_payment_error(struct db *db, const char *pid,
                                    const char *error)
{
	struct db_param p[2] = {db_text(error), db_text(pid)};

	return db_exec(db,
	               "UPDATE payments SET lastError = LEFT(?, 500) WHERE "
	               "id = ?",
	               p, 2, NULL);
}

enum db_result ledger_payment_link(struct db *db, const char *pid,
                                   const char *id)
{
	struct db_param p[2] = {db_text(id), db_text(pid)};

	return db_exec(db, "UPDATE payments SET bookingId = ? WHERE id = ?", p,
	               2, NULL);
}

/* The one row of a paid-booking query into *out. 1, 0, -1. */
static int paid_row(struct db *db, const char *sql, const char *key,
                    struct ledger_paid *out)
{
	struct db_rows rows;
	int found = one_row(db, sql, key, &rows);

	if (found == 1) {
		copy_cell(out->id, sizeof(out->id), db_cell(&rows, 0, 0));
		copy_cell(out->status, sizeof(out->status),
		          db_cell(&rows, 0, 1));
		out->has_payment = db_cell_ll(&rows, 0, 2) == 1;
		out->start = db_cell_ll(&rows, 0, 3);
		out->end = db_cell_ll(&rows, 0, 4);
		out->hold_expired = db_cell_ll(&rows, 0, 5) == 1;
		db_rows_free(&rows);
	}
	return found;
}

int ledger_booking_by_payment(struct db *db, const char *pid,
                              struct ledger_paid *out)
{
	return paid_row(db,
	                "SELECT id, status, paymentId IS NOT NULL, "
	                "UNIX_TIMESTAMP(startAt), UNIX_TIMESTAMP(endAt), "
	                "holdExpiresAt <= UTC_TIMESTAMP() FROM bookings WHERE "
	                "paymentId = ?",
	                pid, out);
}

int ledger_booking_lock(struct db *db, const char *id, struct ledger_paid *out)
{
	return paid_row(db,
	                "SELECT id, status, paymentId IS NOT NULL, "
	                "UNIX_TIMESTAMP(startAt), UNIX_TIMESTAMP(endAt), "
	                "holdExpiresAt <= UTC_TIMESTAMP() FROM bookings WHERE "
	                "id = ? FOR UPDATE",
	                id, out);
}

enum ledger_result ledger_take_payment(struct db *db, const char *id,
                                       const char *from, const char *to,
                                       const char *pid, const char *error,
                                       const char *why)
{
	struct db_param p[2] = {db_text(pid), db_text(error)};

	return change(db, id, from, to, why,
	              "paymentId = ?, holdExpiresAt = NULL, lastError = "
	              "LEFT(?, 500), attempts = 0, nextAttemptAt = NULL",
	              p, 2);
}

enum ledger_result ledger_fail(struct db *db, const char *id, const char *from,
                               const char *error)
{
	struct db_param p = db_text(error);

	return change(db, id, from, "failed", error, "lastError = LEFT(?, 500)",
	              &p, 1);
}

int ledger_payment_json(struct db *db, const char *pid,
                        struct json_object **out)
{
	struct json_object *o;
	struct db_rows rows;
	int found = one_row(db,
	                    "SELECT p.id, p.status, p.bookingId, b.status, "
	                    "COALESCE(p.lastError, IF(b.status = 'failed', "
	                    "b.lastError, NULL)), p.updatedAt FROM payments p "
	                    "LEFT JOIN bookings b ON b.id = p.bookingId WHERE "
	                    "p.id = ?",
	                    pid, &rows);

	if (found != 1)
		return found < 0 ? -1 : 1;
	o = json_object_new_object();
	if (o == NULL || jsonio_add_string(o, "id", db_cell(&rows, 0, 0)) ||
	    jsonio_add_string(o, "status", db_cell(&rows, 0, 1)) ||
	    jsonio_add_string(o, "bookingId", db_cell(&rows, 0, 2)) ||
	    jsonio_add_string(o, "bookingStatus", db_cell(&rows, 0, 3)) ||
	    jsonio_add_string(o, "lastError", db_cell(&rows, 0, 4)) ||
	    add_time(o, "updatedAt", db_cell(&rows, 0, 5))) {
		json_object_put(o);
		db_rows_free(&rows);
		return -1;
	}
	db_rows_free(&rows);
	*out = o;
	return 0;
}

/* ---- figures for the metrics ---- */

const char *const *ledger_statuses(size_t *n)
{
	*n = NSTATUS;
	return statuses;
}

int ledger_figures(struct db *db, struct ledger_figures *out)
{
	struct db_rows rows;
	struct ledger_figures f;
	size_t i;
	int k;

	memset(&f, 0, sizeof(f));
	if (db_query(db,
	             "SELECT status, COUNT(*) FROM bookings GROUP BY status",
	             NULL, 0, &rows) != DB_OK) {
		db_rows_free(&rows);
		return -1;
	}
	for (i = 0; i < rows.nrows; i++) {
		k = status_index(db_cell(&rows, i, 0));
		if (k >= 0 && k < (int)NSTATUS)
			f.by_status[k] = db_cell_ll(&rows, i, 1);
	}
	db_rows_free(&rows);
	/* Since it entered its status: the last history row, else (a
	 * booking older than the history) since it was made. */
	if (db_query_int(db,
	                 "SELECT COALESCE(MAX(TIMESTAMPDIFF(SECOND, "
	                 "COALESCE((SELECT MAX(h.at) FROM booking_history h "
	                 "WHERE h.bookingId = b.id), b.createdAt), "
	                 "UTC_TIMESTAMP())), 0) FROM bookings b WHERE "
	                 "b.status = 'scheduling' OR b.cancelPending = 1",
	                 NULL, 0, &f.unfinished_oldest) != DB_OK ||
	    db_query_int(db,
	                 "SELECT COUNT(*) FROM payments p LEFT JOIN bookings b "
	                 "ON b.id = p.bookingId WHERE p.status = 'approved' "
	                 "AND (b.id IS NULL OR b.status <> 'scheduled')",
	                 NULL, 0, &f.payments_unbooked) != DB_OK)
		return -1;
	if (f.unfinished_oldest < 0)
		f.unfinished_oldest = 0;
	*out = f;
	return 0;
}

/* ---- reconciliation ---- */

int ledger_give_up(struct db *db, long after_s, int *n)
{
	struct db_param p = db_int(after_s);
	struct db_rows rows;
	size_t i;
	int count = 0;

	if (db_query(db,
	             "SELECT id FROM bookings WHERE status = 'scheduling' AND "
	             "pendingSince < UTC_TIMESTAMP() - INTERVAL ? SECOND",
	             &p, 1, &rows) != DB_OK) {
		db_rows_free(&rows);
		return -1;
	}
	for (i = 0; i < rows.nrows; i++) {
		const char *id = db_cell(&rows, i, 0);
		enum ledger_result r;

		log_warn(NULL,
		         "booking %s: gave up after 24 hours of trying to put "
		         "it on Google Calendar",
		         id);
		r = change(
		        db, id, "scheduling", "failed",
		        "gave up after 24 hours of trying",
		        "lastError = LEFT(CONCAT('gave up after 24 hours: ', "
		        "COALESCE(lastError, 'no answer from Google')), "
		        "500), nextAttemptAt = NULL",
		        NULL, 0);
		if (r == LEDGER_DB_DOWN) {
			db_rows_free(&rows);
			return -1;
		}
		count += r == LEDGER_OK; /* else the next run tries again */
	}
	db_rows_free(&rows);
	*n = count;
	return 0;
}

int ledger_release_pending(struct db *db, int *n)
{
	struct db_rows rows;
	size_t i;
	int count = 0;

	if (db_query(db,
	             "SELECT b.id FROM bookings b JOIN payments p ON p.id = "
	             "b.paymentId WHERE b.status = 'pending' AND p.releaseAt "
	             "<= UTC_TIMESTAMP()",
	             NULL, 0, &rows) != DB_OK) {
		db_rows_free(&rows);
		return -1;
	}
	for (i = 0; i < rows.nrows; i++) {
		const char *id = db_cell(&rows, i, 0);
		enum ledger_result r;

		log_info(NULL,
		         "booking %s: its payment is still pending past its "
		         "time: the slot is released",
		         id);
		r = ledger_fail(db, id, "pending", RELEASED);
		if (r == LEDGER_DB_DOWN) {
			db_rows_free(&rows);
			return -1;
		}
		count += r == LEDGER_OK; /* else it moved: the next run sees */
	}
	db_rows_free(&rows);
	*n = count;
	return 0;
}

enum db_result ledger_work_due(struct db *db, int batch, struct db_rows *rows)
{
	struct db_param p = db_int(batch);

	return db_query(db,
	                "SELECT id, status, cancelPending, meetLink IS NULL "
	                "FROM bookings WHERE " WORK
	                " AND (nextAttemptAt IS NULL OR nextAttemptAt <= "
	                "UTC_TIMESTAMP()) ORDER BY COALESCE(nextAttemptAt, "
	                "createdAt) LIMIT ?",
	                &p, 1, rows);
}

int ledger_claim(struct db *db, const char *id, long claim_s)
{
	struct db_param p[2] = {db_int(claim_s), db_text(id)};
	unsigned long long affected = 0;

	if (db_exec(db,
	            "UPDATE bookings SET nextAttemptAt = UTC_TIMESTAMP() + "
	            "INTERVAL ? SECOND WHERE id = ? AND (nextAttemptAt IS NULL "
	            "OR nextAttemptAt <= UTC_TIMESTAMP())",
	            p, 2, &affected) != DB_OK)
		return -1;
	return affected == 1;
}

void ledger_release(struct db *db, const char *id)
{
	struct db_param p = db_text(id);

	if (db_exec(db,
	            "UPDATE bookings SET nextAttemptAt = NULL WHERE id = ? AND "
	            "NOT " WORK,
	            &p, 1, NULL) != DB_OK)
		log_warn(NULL, "releasing booking %s: %s", id, db_error(db));
}

int ledger_has_meet(struct db *db, const char *id)
{
	struct db_param p = db_text(id);
	struct db_rows rows;
	int has;

	if (db_query(db,
	             "SELECT meetLink IS NOT NULL FROM bookings WHERE id = ?",
	             &p, 1, &rows) != DB_OK) {
		db_rows_free(&rows);
		return -1;
	}
	has = rows.nrows == 1 && db_cell_ll(&rows, 0, 0) == 1;
	db_rows_free(&rows);
	return has;
}

int ledger_work_left(struct db *db, int *n)
{
	long long count;

	if (db_query_int(db, "SELECT COUNT(*) FROM bookings WHERE " WORK, NULL,
	                 0, &count) != DB_OK)
		return -1;
	*n = (int)count;
	return 0;
}

/* ---- what the doctor asks ---- */

int ledger_meet_missing(struct db *db, long window_s, long grace_s,
                        struct ledger_meet_gap *out)
{
	struct db_param p[2] = {db_int(window_s), db_int(grace_s)};
	struct ledger_meet_gap g;
	struct db_rows rows;

	memset(&g, 0, sizeof(g));
	if (db_query(db,
	             "SELECT COUNT(*) OVER (), id, eventId, "
	             "TIMESTAMPDIFF(SECOND, createdAt, UTC_TIMESTAMP()) "
	             "FROM bookings WHERE status = 'scheduled' AND "
	             "eventId IS NOT NULL AND meetLink IS NULL AND "
	             "createdAt > UTC_TIMESTAMP() - INTERVAL ? SECOND AND "
	             "createdAt <= UTC_TIMESTAMP() - INTERVAL ? SECOND "
	             "ORDER BY createdAt DESC, id LIMIT 1",
	             p, 2, &rows) != DB_OK) {
		db_rows_free(&rows);
		return -1;
	}
	if (rows.nrows == 1) {
		g.count = db_cell_ll(&rows, 0, 0);
		copy_cell(g.id, sizeof(g.id), db_cell(&rows, 0, 1));
		copy_cell(g.event_id, sizeof(g.event_id), db_cell(&rows, 0, 2));
		g.age_s = db_cell_ll(&rows, 0, 3);
	}
	db_rows_free(&rows);
	*out = g;
	return 0;
}

int ledger_overdue(struct db *db, long long *seconds, char id[33])
{
	struct db_rows rows;

	if (db_query(db,
	             "SELECT b.id, TIMESTAMPDIFF(SECOND, "
	             "COALESCE(b.nextAttemptAt, (SELECT MAX(h.at) FROM "
	             "booking_history h WHERE h.bookingId = b.id), "
	             "b.createdAt), UTC_TIMESTAMP()) AS waited "
	             "FROM bookings b WHERE " WORK_OF(
	                     "b.") " AND (b.nextAttemptAt IS NULL OR "
	                           "b.nextAttemptAt <= "
	                           "UTC_TIMESTAMP()) ORDER BY waited DESC, "
	                           "b.id LIMIT 1",
	             NULL, 0, &rows) != DB_OK) {
		db_rows_free(&rows);
		return -1;
	}
	*seconds = 0;
	id[0] = '\0';
	if (rows.nrows == 1) {
		*seconds = db_cell_ll(&rows, 0, 1);
		if (*seconds < 0)
			*seconds = 0;
		copy_cell(id, 33, db_cell(&rows, 0, 0));
	}
	db_rows_free(&rows);
	return 0;
}

/* ---- what the admin console shows ---- */

#define LIST_COLUMNS                                                           \
	"b.id, b.status, b.startAt, b.endAt, b.studentName, b.studentEmail, "  \
	"b.classType, b.paymentId, b.lastError"

/* A payment that did not become a class (p: payments, b: its booking). */
#define UNBOOKED                                                               \
	"((p.status = 'approved' AND (b.id IS NULL OR b.status NOT IN "        \
	"('scheduled', 'scheduling'))) OR p.lastError IS NOT NULL)"

/* The list's filter: status, then the class's start from and to. */
#define LIST_WHERE                                                             \
	"(? IS NULL OR b.status = ?) AND (? IS NULL OR b.startAt >= ?) AND "   \
	"(? IS NULL OR b.startAt < ?)"

enum db_result ledger_admin_list(struct db *db,
                                 const struct ledger_list_filter *f,
                                 struct db_rows *rows, long long *total)
{
	char from[TZ_ISO_MAX], to[TZ_ISO_MAX];
	struct db_param p[8];
	enum db_result r;

	memset(rows, 0, sizeof(*rows));
	if ((f->from && tz_format_db(f->from, from, sizeof(from)) != 0) ||
	    (f->to && tz_format_db(f->to, to, sizeof(to)) != 0))
		return DB_ERROR;
	p[0] = p[1] = db_text(f->status);
	p[2] = p[3] = f->from ? db_text(from) : db_null();
	p[4] = p[5] = f->to ? db_text(to) : db_null();
	p[6] = db_int(f->limit);
	p[7] = db_int(f->offset);
	r = db_query_int(db,
	                 "SELECT COUNT(*) FROM bookings b WHERE " LIST_WHERE, p,
	                 6, total);
	if (r != DB_OK)
		return r;
	return db_query(db,
	                "SELECT " LIST_COLUMNS
	                " FROM bookings b WHERE " LIST_WHERE
	                " ORDER BY b.startAt DESC, b.id LIMIT ? OFFSET ?",
	                p, 8, rows);
}

enum db_result ledger_admin_booking(struct db *db, const char *id,
                                    struct db_rows *rows)
{
	struct db_param p = db_text(id);

	return db_query(
	        db,
	        "SELECT b.id, b.status, b.startAt, b.endAt, b.timeZone, "
	        "b.classType, b.participants, b.studentEmail, b.studentName, "
	        "b.notes, b.eventId, b.meetLink, b.htmlLink, b.paymentId, "
	        "b.attempts, b.nextAttemptAt, b.lastError, b.createdAt, "
	        "b.updatedAt, b.cancelPending, b.holdExpiresAt, p.status, "
	        "p.lastError FROM bookings b LEFT JOIN payments p ON p.id = "
	        "b.paymentId WHERE b.id = ?",
	        &p, 1, rows);
}

enum db_result ledger_admin_history(struct db *db, const char *id,
                                    struct db_rows *rows)
{
	struct db_param p = db_text(id);

	return db_query(db,
	                "SELECT fromStatus, toStatus, reason, "
	                "DATE_FORMAT(at, '%Y-%m-%d %H:%i:%s') FROM "
	                "booking_history WHERE bookingId = ? ORDER BY id",
	                &p, 1, rows);
}

enum db_result ledger_admin_payments(struct db *db, const char *status,
                                     long limit, struct db_rows *rows)
{
	struct db_param p[3] = {db_text(status), db_text(status),
	                        db_int(limit)};

	return db_query(db,
	                "SELECT p.id, p.status, p.statusDetail, p.bookingId, "
	                "b.status, COALESCE(p.lastError, b.lastError), "
	                "p.amount, p.currency, p.updatedAt, " UNBOOKED
	                " AS unbooked FROM payments p LEFT JOIN bookings b ON "
	                "b.id = p.bookingId WHERE (? IS NULL OR p.status = ?) "
	                "ORDER BY unbooked DESC, p.updatedAt DESC, p.id "
	                "LIMIT ?",
	                p, 3, rows);
}

int ledger_attention(struct db *db, long long *bookings, long long *payments)
{
	long long b, p;

	if (db_query_int(db,
	                 "SELECT COUNT(*) FROM bookings WHERE status = "
	                 "'scheduling' OR cancelPending = 1 OR (status = "
	                 "'failed' AND startAt > UTC_TIMESTAMP())",
	                 NULL, 0, &b) != DB_OK ||
	    db_query_int(db,
	                 "SELECT COUNT(*) FROM payments p LEFT JOIN bookings b "
	                 "ON b.id = p.bookingId WHERE " UNBOOKED,
	                 NULL, 0, &p) != DB_OK)
		return -1;
	*bookings = b;
	*payments = p;
	return 0;
}

enum db_result ledger_upcoming(struct db *db, long limit, struct db_rows *rows)
{
	struct db_param p = db_int(limit);

	return db_query(db,
	                "SELECT " LIST_COLUMNS " FROM bookings b WHERE "
	                "b.status IN ('scheduled', 'scheduling') AND b.endAt > "
	                "UTC_TIMESTAMP() ORDER BY b.startAt, b.id LIMIT ?",
	                &p, 1, rows);
}

int ledger_note(struct db *db, const char *id, const char *why)
{
	struct db_param p[3] = {db_text(id), db_text(why ? why : ""),
	                        db_text(id)};
	unsigned long long affected = 0;

	if (db_exec(db,
	            "INSERT INTO booking_history (bookingId, fromStatus, "
	            "toStatus, reason, at) SELECT ?, status, status, LEFT(?, "
	            "255), UTC_TIMESTAMP(6) FROM bookings WHERE id = ?",
	            p, 3, &affected) != DB_OK)
		return -1;
	return affected == 1;
}
