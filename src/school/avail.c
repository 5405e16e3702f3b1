#include "school/avail.h"

#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json_object.h>

#include "io/db.h"
#include "upstream/gcal.h"
#include "upstream/gevent.h"
#include "core/jsonio.h"
#include "core/limit.h"
#include "core/log.h"
#include "core/tz.h"
#include "core/utf8.h"

/* This process's copies: per-process state, kept here and nowhere else
 * (the programs are single-threaded). avail_release() empties it. */
static struct avail_cache {
	struct avail_copy current; /* the shared cache's version */
	struct avail_memo memo;
	int64_t checked_ms; /* when the sync row was last read (monotonic) */
} cache;

/* Milliseconds of a clock that never goes back. */
static int64_t monotonic_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct avail_memo *avail_memo(void)
{
	return &cache.memo;
}

int avail_overlaps(int64_t start, int64_t end, int64_t from, int64_t to)
{
	return start < to && end > from;
}

int avail_window_ok(int64_t now, int64_t from, int64_t to)
{
	return from >= now - AVAIL_READ_PAST_S &&
	       to <= now + AVAIL_READ_AHEAD_S;
}

const char *avail_state_str(enum avail_state s)
{
	switch (s) {
	case AVAIL_HIT:
		return "HIT";
	case AVAIL_MISS:
		return "MISS";
	case AVAIL_STALE:
		return "STALE";
	case AVAIL_DOWN:
		break;
	}
	return "DOWN";
}

static void copy_clear(struct avail_copy *c)
{
	free(c->events);
	memset(c, 0, sizeof(*c));
}

void avail_release(void)
{
	copy_clear(&cache.current);
	free(cache.memo.query);
	free(cache.memo.body);
	memset(&cache.memo, 0, sizeof(cache.memo));
}

static int by_start(const void *a, const void *b)
{
	const struct avail_event *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return 0;
}

/* Appends a busy interval. 0 or -1. */
static int push(struct avail_copy *c, size_t *cap, int64_t start, int64_t end,
                int tentative)
{
	if (c->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct avail_event *p = realloc(c->events, ncap * sizeof(*p));

		if (p == NULL)
			return -1;
		c->events = p;
		*cap = ncap;
	}
	c->events[c->n].start = start;
	c->events[c->n].end = end;
	c->events[c->n].tentative = tentative;
	if (tz_format_iso(start, c->events[c->n].start_iso,
	                  sizeof(c->events[c->n].start_iso)) != 0 ||
	    tz_format_iso(end, c->events[c->n].end_iso,
	                  sizeof(c->events[c->n].end_iso)) != 0)
		return -1;
	c->n++;
	return 0;
}

/* ---- the state row ---- */

struct sync_row {
	int exists;
	uint64_t version;
	int64_t last_success; /* 0: never */
	int64_t horizon_start, horizon_end;
	int has_token;
	int refreshing; /* another process holds the lease */
	int failed;     /* the last try failed and is not yet a TTL old */
	int error;      /* then why, as an enum gcal_result */
	int notified;   /* a notification came after the last refresh began,
	                   and that refresh began a second ago or more */
	int64_t now;    /* the database's clock */
};

/* How a failed refresh is remembered, and read back. */
static const char *kind_of(enum gcal_result r)
{
	switch (r) {
	case GCAL_NOT_CONNECTED:
		return "not_connected";
	case GCAL_TIMEOUT:
		return "timeout";
	case GCAL_DB_DOWN:
		return "database";
	default:
		break;
	}
	return "unavailable";
}

static int error_of(const char *kind)
{
	if (kind == NULL)
		return (int)GCAL_UNAVAILABLE;
	if (strcmp(kind, "not_connected") == 0)
		return (int)GCAL_NOT_CONNECTED;
	if (strcmp(kind, "timeout") == 0)
		return (int)GCAL_TIMEOUT;
	if (strcmp(kind, "database") == 0)
		return (int)GCAL_DB_DOWN;
	return (int)GCAL_UNAVAILABLE;
}

static int read_sync(struct proc *proc, struct sync_row *s)
{
	struct db_param p = db_text(proc->cfg.google_calendar_id);
	struct db_rows rows;

	memset(s, 0, sizeof(*s));
	if (db_query(proc->db,
	             "SELECT version, "
	             "COALESCE(UNIX_TIMESTAMP(lastSuccessAt), 0), "
	             "COALESCE(UNIX_TIMESTAMP(horizonStart), 0), "
	             "COALESCE(UNIX_TIMESTAMP(horizonEnd), 0), "
	             "syncToken IS NOT NULL, "
	             "COALESCE(refreshingUntil > UTC_TIMESTAMP(), 0), "
	             "UNIX_TIMESTAMP(UTC_TIMESTAMP()), "
	             "COALESCE(lastErrorAt >= lastAttemptAt AND (lastSuccessAt "
	             "IS NULL OR lastErrorAt > lastSuccessAt), 0), "
	             "lastErrorKind, "
	             "COALESCE(notifiedAt >= refreshStartedAt, notifiedAt IS "
	             "NOT NULL) AND COALESCE(refreshStartedAt <= "
	             "UTC_TIMESTAMP(6) - INTERVAL " AVAIL_PUSH_GAP_SQL
	             ", 1) FROM calendar_sync WHERE calendarId = ?",
	             &p, 1, &rows) != DB_OK) {
		db_rows_free(&rows);
		return -1;
	}
	if (rows.nrows == 1) {
		s->exists = 1;
		s->version = (uint64_t)db_cell_ll(&rows, 0, 0);
		s->last_success = db_cell_ll(&rows, 0, 1);
		s->horizon_start = db_cell_ll(&rows, 0, 2);
		s->horizon_end = db_cell_ll(&rows, 0, 3);
		s->has_token = db_cell_ll(&rows, 0, 4) == 1;
		s->refreshing = db_cell_ll(&rows, 0, 5) == 1;
		s->now = db_cell_ll(&rows, 0, 6);
		s->failed = db_cell_ll(&rows, 0, 7) == 1;
		s->error = error_of(db_cell(&rows, 0, 8));
		s->notified = db_cell_ll(&rows, 0, 9) == 1;
	} else {
		s->now = tz_now();
	}
	db_rows_free(&rows);
	return 0;
}

/* Loads the cached events of the current version into c. 0 or -1. */
static int load_copy(struct proc *proc, const struct sync_row *s,
                     struct avail_copy *c)
{
	struct db_param p = db_text(proc->cfg.google_calendar_id);
	struct avail_copy n;
	struct db_rows rows;
	size_t i, cap = 0;

	memset(&n, 0, sizeof(n));
	if (db_query(proc->db,
	             "SELECT UNIX_TIMESTAMP(startAt), UNIX_TIMESTAMP(endAt), "
	             "startDate, endDate, status = 'tentative' "
	             "FROM calendar_events WHERE calendarId = ? "
	             "AND status <> 'cancelled' "
	             "AND transparency <> 'transparent'",
	             &p, 1, &rows) != DB_OK) {
		db_rows_free(&rows);
		return -1;
	}
	for (i = 0; i < rows.nrows; i++) {
		int64_t start, end;
		int tentative = db_cell_ll(&rows, i, 4) == 1;

		if (db_cell(&rows, i, 2) != NULL) {
			/* All-day: local midnight to midnight, in the zone
			 * configured now. */
			int y, m, d, y2, m2, d2;

			if (tz_parse_date(db_cell(&rows, i, 2), &y, &m, &d) !=
			            TZ_OK ||
			    tz_parse_date(db_cell(&rows, i, 3), &y2, &m2,
			                  &d2) != TZ_OK ||
			    tz_day_start(y, m, d, &start) != TZ_OK ||
			    tz_day_start(y2, m2, d2, &end) != TZ_OK)
				continue;
		} else {
			start = db_cell_ll(&rows, i, 0);
			end = db_cell_ll(&rows, i, 1);
		}
		if (end <= start)
			continue;
		if (push(&n, &cap, start, end, tentative) != 0) {
			db_rows_free(&rows);
			copy_clear(&n);
			return -1;
		}
	}
	db_rows_free(&rows);
	if (n.n > 1)
		qsort(n.events, n.n, sizeof(n.events[0]), by_start);
	n.version = s->version;
	n.last_success = s->last_success;
	n.horizon_start = s->horizon_start;
	n.horizon_end = s->horizon_end;
	copy_clear(c);
	*c = n;
	return 0;
}

/* ---- talking to Google ---- */

/* events.list with the API key, or the admin's token when the key is
 * refused or not configured (said so in the log). */
static enum gcal_result list_events(struct proc *proc, const char *request_id,
                                    const struct gcal_list *q,
                                    struct gcal_events *out, char *err,
                                    size_t errlen)
{
	enum gcal_result r;

	if (proc->cfg.calendar_api_key != NULL) {
		struct gcal_auth auth = {proc->cfg.calendar_api_key, NULL};

		r = gcal_events_list(proc, &auth, proc->cfg.google_calendar_id,
		                     q, out, err, errlen);
		if (r != GCAL_UNAUTHORIZED && r != GCAL_REFUSED &&
		    r != GCAL_NOT_FOUND)
			return r;
		log_warn(request_id,
		         "the API key was refused (%s); reading the calendar "
		         "with the admin's token instead",
		         err);
	} else {
		log_warn(request_id, "no CALENDAR_API_KEY; reading the "
		                     "calendar with the admin's token");
	}
	return gcal_admin_events_list(proc, request_id,
	                              proc->cfg.google_calendar_id, q, out, err,
	                              errlen);
}

/* Stores one Google event in calendar_events; skips (and logs) one it
 * cannot key. */
static enum db_result store_event(struct proc *proc, const char *request_id,
                                  struct json_object *ev)
{
	struct json_object *st = jsonio_member(ev, "start", json_type_object);
	struct json_object *en = jsonio_member(ev, "end", json_type_object);
	const char *id = jsonio_string(ev, "id");
	const char *status = jsonio_string(ev, "status");
	const char *transp = jsonio_string(ev, "transparency");
	const char *sd = jsonio_string(st, "date"),
	           *ed = jsonio_string(en, "date");
	char s_db[24], e_db[24];
	int64_t start, end;
	int all_day;

	if (id == NULL || strlen(id) > 255 || !utf8_valid(id, strlen(id))) {
		char shown[80];

		log_warn(request_id,
		         "skipping Google event %s: its id cannot be a key",
		         utf8_copy(shown, sizeof(shown), id ? id : "(none)"));
		return DB_OK;
	}
	if (gevent_span(ev, &start, &end, &all_day) != 0)
		return DB_OK; /* no readable times: cannot block a slot */
	if (tz_format_db(start, s_db, sizeof(s_db)) != 0 ||
	    tz_format_db(end, e_db, sizeof(e_db)) != 0)
		return DB_OK;
	{
		struct db_param p[8] = {
		        db_text(proc->cfg.google_calendar_id),
		        db_text(id),
		        db_text(status ? status : "confirmed"),
		        db_text(transp ? transp : "opaque"),
		        db_text(all_day ? NULL : s_db),
		        db_text(all_day ? NULL : e_db),
		        db_text(all_day ? sd : NULL),
		        db_text(all_day ? ed : NULL),
		};

		return db_exec(proc->db,
		               "REPLACE INTO calendar_events (calendarId, "
		               "eventId, status, transparency, startAt, endAt, "
		               "startDate, endDate) VALUES (?, ?, LEFT(?, 16), "
		               "LEFT(?, 16), ?, ?, ?, ?)",
		               p, 8, NULL);
	}
}

/* Applies a full (replace everything) or incremental list in one
 * transaction, and records the success. */
static enum db_result apply(struct proc *proc, const char *request_id,
                            const struct gcal_events *ev, int full,
                            int64_t hstart, int64_t hend)
{
	struct db_param cal = db_text(proc->cfg.google_calendar_id);
	enum db_result r;
	size_t i, n = json_object_array_length(ev->items);

	r = db_begin(proc->db);
	if (r != DB_OK)
		return r;
	if (full &&
	    (r = db_exec(proc->db,
	                 "DELETE FROM calendar_events WHERE calendarId = ?",
	                 &cal, 1, NULL)) != DB_OK)
		goto fail;
	for (i = 0; i < n; i++) {
		struct json_object *it =
		        json_object_array_get_idx(ev->items, i);
		const char *id = jsonio_string(it, "id");
		const char *status = jsonio_string(it, "status");

		if (id == NULL)
			continue;
		if (status != NULL && strcmp(status, "cancelled") == 0) {
			/* Deleted, or a cancelled series: its instances
			 * ("<id>_<time>") go with it. */
			struct db_param p[3] = {cal, db_text(id), db_text(id)};

			r = db_exec(
			        proc->db,
			        "DELETE FROM calendar_events WHERE "
			        "calendarId = ? AND (eventId = ? OR eventId "
			        "LIKE CONCAT(REPLACE(?, '_', '\\\\_'), "
			        "'\\\\_%'))",
			        p, 3, NULL);
		} else {
			r = store_event(proc, request_id, it);
		}
		if (r == DB_ERROR) {
			/* One event the table cannot take must not stop the
			 * sync: the others still block their time. */
			char shown[80];

			log_warn(request_id, "skipping Google event %s: %s",
			         utf8_copy(shown, sizeof(shown), id),
			         db_error(proc->db));
			r = DB_OK;
		}
		if (r != DB_OK)
			goto fail;
	}
	{
		char hs[24], he[24];
		struct db_param p[4];

		if (full && (tz_format_db(hstart, hs, sizeof(hs)) != 0 ||
		             tz_format_db(hend, he, sizeof(he)) != 0)) {
			r = DB_ERROR;
			goto fail;
		}
		p[0] = db_text(ev->next_sync_token);
		p[1] = db_text(full ? hs : NULL);
		p[2] = db_text(full ? he : NULL);
		p[3] = cal;
		r = db_exec(
		        proc->db,
		        "UPDATE calendar_sync SET syncToken = ?, "
		        "version = GREATEST(version + 1, "
		        "CAST(UNIX_TIMESTAMP(UTC_TIMESTAMP(6)) * 1000000 "
		        "AS UNSIGNED)), "
		        "horizonStart = COALESCE(?, horizonStart), "
		        "horizonEnd = COALESCE(?, horizonEnd), "
		        "lastSuccessAt = UTC_TIMESTAMP(), lastError = NULL, "
		        "refreshingUntil = NULL WHERE calendarId = ?",
		        p, 4, NULL);
		if (r != DB_OK)
			goto fail;
	}
	return db_commit(proc->db);
fail:
	db_rollback(proc->db);
	return r;
}

static void record_error(struct proc *proc, const char *request_id,
                         const char *error, enum gcal_result r)
{
	struct db_param p[3] = {db_text(error), db_text(kind_of(r)),
	                        db_text(proc->cfg.google_calendar_id)};

	if (db_exec(proc->db,
	            "UPDATE calendar_sync SET lastErrorAt = UTC_TIMESTAMP(), "
	            "lastError = LEFT(?, 500), lastErrorKind = ?, "
	            "refreshingUntil = NULL WHERE calendarId = ?",
	            p, 3, NULL) != DB_OK)
		log_warn(request_id, "recording the refresh error: %s",
		         db_error(proc->db));
}

/* The lease holder's refresh. GCAL_OK, or why it failed. */
static enum gcal_result refresh(struct proc *proc, const char *request_id,
                                const struct sync_row *s)
{
	char err[LIMIT_ERROR_MESSAGE];
	struct gcal_events ev = {NULL, NULL};
	struct gcal_list q;
	enum gcal_result r = GCAL_GONE;
	int64_t now = s->now, hstart = now - AVAIL_HORIZON_PAST_S,
	        hend = now + AVAIL_HORIZON_FUTURE_S;
	int full = !s->has_token || s->horizon_end < now + 367 * 86400LL;
	enum db_result dr;
	int tries;

	memset(&q, 0, sizeof(q));
	q.single_events = 1;
	/* A visitor is waiting and the stale copy (or a quick 503) answers
	 * them: no retry, no sleep; the next request after the TTL tries
	 * again. */
	q.max_attempts = 1;
	if (!full) {
		char *token = NULL;
		struct db_param p = db_text(proc->cfg.google_calendar_id);
		struct db_rows rows;

		if (db_query(proc->db,
		             "SELECT syncToken FROM calendar_sync "
		             "WHERE calendarId = ?",
		             &p, 1, &rows) == DB_OK &&
		    rows.nrows == 1 && db_cell(&rows, 0, 0) != NULL)
			token = strdup(db_cell(&rows, 0, 0));
		db_rows_free(&rows);
		if (token != NULL) {
			q.sync_token = token;
			r = list_events(proc, request_id, &q, &ev, err,
			                sizeof(err));
			q.sync_token = NULL;
			free(token);
		}
		if (r == GCAL_GONE) {
			log_warn(request_id, "the sync token is no longer "
			                     "valid; syncing the whole "
			                     "calendar again");
			full = 1;
		}
	}
	if (full) {
		q.time_min = hstart;
		q.time_max = hend;
		r = list_events(proc, request_id, &q, &ev, err, sizeof(err));
	}
	if (r != GCAL_OK) {
		log_warn(request_id, "refreshing availability: %s", err);
		record_error(proc, request_id, err, r);
		return r;
	}
	/* Tried whole again when it met a deadlock or lost Galera's
	 * certification, wherever that surfaced. */
	for (tries = 1;; tries++) {
		dr = apply(proc, request_id, &ev, full, hstart, hend);
		if (dr == DB_OK || tries >= LIMIT_DB_TX_TRIES ||
		    (dr != DB_RETRY && !db_conflicted(proc->db)))
			break;
		db_retry_pause(tries);
	}
	gcal_events_free(&ev);
	if (dr != DB_OK) {
		log_warn(request_id, "storing availability: %s",
		         db_error(proc->db));
		record_error(proc, request_id,
		             "the database refused the refreshed events",
		             GCAL_DB_DOWN);
		return GCAL_DB_DOWN;
	}
	return GCAL_OK;
}

/* Takes the lease when a refresh is due and nobody is on it. 1 when ours,
 * 0 when not, -1 on a database error. */
static int take_lease(struct proc *proc, long ttl)
{
	struct db_param p[4] = {db_text(proc->cfg.google_calendar_id),
	                        db_int(AVAIL_LEASE_S), db_int(ttl),
	                        db_int(ttl)};
	unsigned long long affected = 0;

	if (db_exec(proc->db,
	            "INSERT IGNORE INTO calendar_sync (calendarId) VALUES (?)",
	            p, 1, NULL) != DB_OK)
		return -1;
	p[0] = db_int(AVAIL_LEASE_S);
	p[1] = db_int(ttl);
	p[2] = db_int(ttl);
	p[3] = db_text(proc->cfg.google_calendar_id);
	/* Due when the TTL ran out, or when Google notified a change after
	 * the last refresh began (at most one such refresh a second). */
	if (db_exec(proc->db,
	            "UPDATE calendar_sync SET refreshingUntil = "
	            "UTC_TIMESTAMP() + INTERVAL ? SECOND, lastAttemptAt = "
	            "UTC_TIMESTAMP(), refreshStartedAt = UTC_TIMESTAMP(6) "
	            "WHERE (((lastSuccessAt IS NULL OR "
	            "lastSuccessAt <= UTC_TIMESTAMP() - INTERVAL ? SECOND) "
	            "AND (lastAttemptAt IS NULL OR lastAttemptAt <= "
	            "UTC_TIMESTAMP() - INTERVAL ? SECOND)) OR "
	            "(COALESCE(notifiedAt >= refreshStartedAt, notifiedAt IS "
	            "NOT NULL) AND COALESCE(refreshStartedAt <= "
	            "UTC_TIMESTAMP(6) - INTERVAL " AVAIL_PUSH_GAP_SQL
	            ", 1))) AND (refreshingUntil IS NULL OR refreshingUntil < "
	            "UTC_TIMESTAMP()) AND calendarId = ?",
	            p, 4, &affected) != DB_OK)
		return -1;
	return affected == 1;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

enum avail_state avail_get(struct proc *proc, const char *request_id,
                           int64_t from, int64_t to,
                           const struct avail_copy **copy, int64_t *age,
                           int *why)
{
	long ttl = proc->cfg.calendar_cache_ttl_s;
	struct avail_copy *cur;
	struct sync_row s;
	enum avail_state state = AVAIL_HIT;
	long waited = 0;
	int64_t now = tz_now();

	cur = &cache.current;
	/* Fresh in memory: no database round trip at all; with push
	 * notifications on, not for longer than AVAIL_PUSH_RECHECK_MS, so
	 * that a notification is seen at once. */
	if (cur->version != 0 && now - cur->last_success < ttl &&
	    now - cur->last_success >= 0 &&
	    (proc->cfg.calendar_push_url == NULL ||
	     monotonic_ms() - cache.checked_ms < AVAIL_PUSH_RECHECK_MS))
		goto serve;

	for (;;) {
		int lease;

		if (read_sync(proc, &s) != 0)
			goto db_down;
		if (s.last_success != 0 && s.now - s.last_success < ttl &&
		    !s.notified)
			break; /* fresh in the database */
		lease = take_lease(proc, ttl);
		if (lease < 0)
			goto db_down;
		if (lease == 1) {
			enum gcal_result r = refresh(proc, request_id, &s);

			if (r == GCAL_OK) {
				if (read_sync(proc, &s) != 0)
					goto db_down;
				state = AVAIL_MISS;
				break;
			}
			*why = (int)r;
		}
		/* Not ours to refresh (or it failed): see what the others
		 * have done meanwhile. */
		if (read_sync(proc, &s) != 0)
			goto db_down;
		if (s.last_success != 0 && s.now - s.last_success < ttl)
			break;
		if (s.last_success != 0) {
			/* The copy we have may still be served. */
			if (s.now - s.last_success >
			    proc->cfg.calendar_max_stale_s) {
				if (lease != 1)
					*why = s.failed ? s.error
					                : (int)GCAL_UNAVAILABLE;
				return AVAIL_DOWN;
			}
			state = AVAIL_STALE;
			break;
		}
		/* Never refreshed yet: wait for the process that is on it;
		 * when the last try failed, say why. */
		if (lease == 1 || !s.refreshing || waited >= AVAIL_WAIT_MS) {
			if (lease != 1)
				*why = s.failed ? s.error
				                : (int)GCAL_UNAVAILABLE;
			return AVAIL_DOWN;
		}
		sleep_ms(100);
		waited += 100;
	}
	if (cur->version != s.version || cur->version == 0) {
		if (load_copy(proc, &s, cur) != 0)
			goto db_down;
		/* A refresh and a load leave the pages of Google's JSON and
		 * of the rows free in the middle of the heap, where they
		 * would stay the process's (megabytes for a busy calendar):
		 * given back, once per new version. */
		malloc_trim(0);
	}
	cur->last_success = s.last_success;
	cache.checked_ms = monotonic_ms();
	now = s.now;
serve:
	if (from < cur->horizon_start || to > cur->horizon_end) {
		/* Never one Google call per visitor: the public window is
		 * checked against avail_window_ok(), so this is a horizon
		 * that fell behind while Google kept failing. */
		log_warn(request_id, "availability asked outside the cached "
		                     "horizon");
		*why = (int)GCAL_UNAVAILABLE;
		return AVAIL_DOWN;
	}
	*copy = cur;
	*age = now - cur->last_success;
	if (*age < 0)
		*age = 0;
	if (state == AVAIL_HIT && *age >= ttl)
		state = AVAIL_STALE;
	return state;
db_down:
	log_warn(request_id, "availability cache: %s", db_error(proc->db));
	*why = (int)GCAL_DB_DOWN;
	return AVAIL_DOWN;
}

int avail_failing(struct db *db)
{
	long long n;

	if (db_query_int(db,
	                 "SELECT COUNT(*) FROM calendar_sync WHERE lastErrorAt "
	                 "IS NOT NULL AND (lastSuccessAt IS NULL OR "
	                 "lastErrorAt > lastSuccessAt)",
	                 NULL, 0, &n) != DB_OK)
		return -1;
	return n > 0;
}

int avail_sync_age(struct db *db, const char *calendar_id, long long *age)
{
	struct db_param p = db_text(calendar_id);

	return db_query_int(db,
	                    "SELECT COALESCE(MAX(TIMESTAMPDIFF(SECOND, "
	                    "lastSuccessAt, UTC_TIMESTAMP())), -1) FROM "
	                    "calendar_sync WHERE calendarId = ?",
	                    &p, 1, age) == DB_OK
	               ? 0
	               : -1;
}

int avail_mark_stale(struct db *db, const char *calendar_id)
{
	struct db_param p = db_text(calendar_id);

	return db_exec(db,
	               "UPDATE calendar_sync SET notifiedAt = UTC_TIMESTAMP(6) "
	               "WHERE calendarId = ?",
	               &p, 1, NULL) == DB_OK
	               ? 0
	               : -1;
}
