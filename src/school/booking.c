#include "school/booking.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json_object.h>

#include "core/jsonio.h"
#include "core/limit.h"
#include "core/log.h"
#include "core/tz.h"
#include "io/db.h"
#include "school/bookreq.h"
#include "school/ledger.h"
#include "upstream/gcal.h"
#include "upstream/gevent.h"

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
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
static int event_matches(struct json_object *ev, const struct ledger_row *r)
{
	const char *status = jsonio_string(ev, "status");
	int64_t s, e;
	int all_day;

	return gevent_span(ev, &s, &e, &all_day) == 0 && !all_day &&
	       s == r->b.start && e == r->end &&
	       !(status != NULL && strcmp(status, "cancelled") == 0);
}

enum booking_result booking_schedule(struct proc *proc, const char *request_id,
                                     const char *id)
{
	char err[LIMIT_ERROR_MESSAGE], event_id[BOOKREQ_EVENT_ID_LEN + 1];
	struct json_object *body = NULL, *ev = NULL;
	enum booking_result result = BOOKING_PENDING;
	enum ledger_result lr;
	enum gcal_result r;
	struct ledger_row row;
	int found, i;

	found = ledger_load(proc->db, id, &row);
	if (found < 0)
		return BOOKING_DB_DOWN;
	if (found == 0 || (strcmp(row.status, "scheduling") != 0 &&
	                   strcmp(row.status, "scheduled") != 0))
		return BOOKING_GONE;
	bookreq_event_id(id, event_id);
	body = bookreq_event(id, &row.b, tz_name());
	if (body == NULL) {
		ledger_record_failure(proc->db, request_id, id,
		                      "out of memory");
		return BOOKING_PENDING;
	}
	/* A row that already has its event only needs it checked. */
	r = row.has_event ? GCAL_CONFLICT
	                  : gcal_event_insert(proc, request_id, body,
	                                      proc->cfg.booking_send_updates,
	                                      &ev, err, sizeof(err));
	if (r == GCAL_CONFLICT) {
		/* A previous try made it: fetch it, and bring its times (or
		 * a cancellation made in Google) back in line. */
		r = gcal_event_get(proc, request_id, event_id, &ev, err,
		                   sizeof(err));
		if (r == GCAL_OK && !event_matches(ev, &row)) {
			struct json_object *patch = times_patch(&row.b);

			json_object_put(ev);
			ev = NULL;
			r = patch ? gcal_event_patch(
			                    proc, request_id, event_id, patch,
			                    proc->cfg.booking_send_updates, &ev,
			                    err, sizeof(err))
			          : GCAL_UNAVAILABLE;
			json_object_put(patch);
		}
	}
	if (r != GCAL_OK || ev == NULL) {
		if (r == GCAL_OK)
			snprintf(err, sizeof(err), "Google's answer is empty");
		ledger_record_failure(proc->db, request_id, id, err);
		goto out;
	}
	/* Meet is prepared asynchronously: a few short polls, then the
	 * rest is reconciliation's. */
	for (i = 0; i < BOOKING_MEET_POLLS && gevent_meet_link(ev) == NULL &&
	            meet_pending(ev);
	     i++) {
		struct json_object *again = NULL;

		sleep_ms(BOOKING_MEET_POLL_MS);
		if (gcal_event_get(proc, request_id, event_id, &again, err,
		                   sizeof(err)) != GCAL_OK ||
		    again == NULL)
			break;
		json_object_put(ev);
		ev = again;
	}
	lr = ledger_mark_scheduled(proc->db, id, row.status, event_id,
	                           gevent_meet_link(ev),
	                           jsonio_string(ev, "htmlLink"));
	if (lr == LEDGER_DB_DOWN || lr == LEDGER_RETRY) {
		log_warn(request_id, "recording the event: %s",
		         db_error(proc->db));
		result = BOOKING_DB_DOWN;
		goto out;
	}
	if (lr != LEDGER_OK) {
		/* Cancelled while the event was being made: undo it. */
		found = ledger_load(proc->db, id, &row);
		if (found == 1 && strcmp(row.status, "cancelled") == 0 &&
		    ledger_cancel_pending(proc->db, id) == DB_OK &&
		    booking_apply_cancel(proc, request_id, id) != BOOKING_OK)
			log_warn(request_id,
			         "booking %s: its event waits for deletion",
			         id);
	}
	result = BOOKING_OK;
out:
	json_object_put(ev);
	json_object_put(body);
	return result;
}

enum booking_result booking_apply_cancel(struct proc *proc,
                                         const char *request_id, const char *id)
{
	char err[LIMIT_ERROR_MESSAGE], event_id[BOOKREQ_EVENT_ID_LEN + 1];
	struct ledger_row row;
	int found = ledger_load(proc->db, id, &row);

	if (found < 0)
		return BOOKING_DB_DOWN;
	if (found == 0 || !row.cancel_pending)
		return BOOKING_GONE;
	bookreq_event_id(id, event_id);
	if (gcal_event_delete(proc, request_id, event_id,
	                      proc->cfg.booking_send_updates, err,
	                      sizeof(err)) != GCAL_OK) {
		ledger_record_failure(proc->db, request_id, id, err);
		return BOOKING_PENDING;
	}
	if (ledger_cancel_done(proc->db, id) != DB_OK)
		return BOOKING_DB_DOWN;
	return BOOKING_OK;
}

enum booking_result booking_cancel(struct proc *proc, const char *request_id,
                                   const char *id, const char *why)
{
	struct ledger_row row;
	enum ledger_result lr = LEDGER_RACED;
	int found, tries;

	/* Recorded first; then Google. A booking that moved meanwhile is
	 * read again. */
	for (tries = 0; tries < 3 && (lr == LEDGER_RACED || lr == LEDGER_RETRY);
	     tries++) {
		found = ledger_load(proc->db, id, &row);
		if (found <= 0)
			return found < 0 ? BOOKING_DB_DOWN : BOOKING_GONE;
		if (strcmp(row.status, "cancelled") == 0)
			break;
		lr = ledger_cancel(proc->db, id, row.status, why);
		if (lr == LEDGER_DB_DOWN)
			return BOOKING_DB_DOWN;
	}
	if (booking_apply_cancel(proc, request_id, id) == BOOKING_DB_DOWN)
		return BOOKING_DB_DOWN;
	return BOOKING_OK;
}

int booking_busy_among(struct json_object *items, int64_t start, int64_t end,
                       const char *own_id)
{
	char own_event[BOOKREQ_EVENT_ID_LEN + 1];
	size_t i, n = json_object_array_length(items);

	own_event[0] = '\0';
	if (own_id != NULL)
		bookreq_event_id(own_id, own_event);
	for (i = 0; i < n; i++) {
		struct json_object *it = json_object_array_get_idx(items, i);
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
		if (s < end && e > start)
			return 1;
	}
	return 0;
}

int booking_google_busy(struct proc *proc, const char *request_id,
                        int64_t start, int64_t end, const char *own_id,
                        enum gcal_result *why)
{
	char err[LIMIT_ERROR_MESSAGE];
	struct gcal_events ev = {NULL, NULL};
	struct gcal_list q;
	enum gcal_result r;
	int busy;

	memset(&q, 0, sizeof(q));
	q.time_min = start;
	q.time_max = end;
	q.single_events = 1;
	r = gcal_admin_events_list(proc, request_id,
	                           proc->cfg.google_calendar_id, &q, &ev, err,
	                           sizeof(err));
	if (r != GCAL_OK) {
		log_warn(request_id, "checking Google's busy times: %s", err);
		*why = r;
		return -1;
	}
	busy = booking_busy_among(ev.items, start, end, own_id);
	gcal_events_free(&ev);
	return busy;
}
