#include "web/calread.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json_object.h>

#include "school/avail.h"
#include "io/db.h"
#include "school/freeslots.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "upstream/gcal.h"
#include "upstream/gevent.h"
#include "core/jsonio.h"
#include "core/limit.h"
#include "core/log.h"
#include "core/tz.h"
#include "web/reply.h"

/* An ISO 8601 time, or a date meaning its local midnight. */
static int parse_time(const char *s, int64_t *t)
{
	int y, m, d;

	if (tz_parse_date(s, &y, &m, &d) == TZ_OK)
		return tz_day_start(y, m, d, t) == TZ_OK ? 0 : -1;
	return tz_parse_iso(s, t, NULL) == TZ_OK ? 0 : -1;
}

int calread_window(struct request *req, struct response *res, int64_t now,
                   int64_t *from, int64_t *to)
{
	const char *f = request_query(req, "from");
	const char *t = request_query(req, "to");
	int64_t a = now, b;

	if (f != NULL && parse_time(f, &a) != 0)
		return response_error(
		        res, 400, "invalid_parameter",
		        "from must be an ISO 8601 time such as "
		        "2026-12-01T15:00:00-03:00 or a date such as "
		        "2026-12-01 (in a URL, write + as %%2B).");
	b = a + (int64_t)CALREAD_DEFAULT_DAYS * 86400;
	if (t != NULL && parse_time(t, &b) != 0)
		return response_error(
		        res, 400, "invalid_parameter",
		        "to must be an ISO 8601 time such as "
		        "2026-12-31T15:00:00-03:00 or a date such as "
		        "2026-12-31 (in a URL, write + as %%2B).");
	if (b <= a)
		return response_error(res, 400, "invalid_parameter",
		                      "to must be after from.");
	if (b - a > (int64_t)CALREAD_MAX_DAYS * 86400)
		return response_error(res, 400, "invalid_parameter",
		                      "The window from from to to must be at "
		                      "most %d days.",
		                      CALREAD_MAX_DAYS);
	*from = a;
	*to = b;
	return 0;
}

static int add_time(struct json_object *obj, const char *key, int64_t t)
{
	char s[TZ_ISO_MAX];

	if (tz_format_iso(t, s, sizeof(s)) != 0)
		return -1;
	return jsonio_add_string(obj, key, s);
}

/* The admin's view of one Google event, or NULL when it has no times. */
static struct json_object *admin_event(struct json_object *ev)
{
	struct json_object *o;
	int64_t start, end;
	int all_day;

	if (gevent_span(ev, &start, &end, &all_day) != 0)
		return NULL;
	o = json_object_new_object();
	if (o == NULL || jsonio_add_string(o, "id", jsonio_string(ev, "id")) ||
	    jsonio_add_string(o, "summary", jsonio_string(ev, "summary")) ||
	    jsonio_add_string(o, "description",
	                      jsonio_string(ev, "description")) ||
	    add_time(o, "start", start) || add_time(o, "end", end) ||
	    jsonio_add_string(o, "status", jsonio_string(ev, "status")) ||
	    jsonio_add_string(o, "meetLink", gevent_meet_link(ev)) ||
	    jsonio_add_string(o, "bookingId", gevent_booking_id(ev))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

int calread_events(struct proc *proc, struct request *req, struct response *res)
{
	struct gcal_list q = {0};
	struct gcal_events ev = {NULL, NULL};
	struct json_object *root = NULL, *list = NULL;
	char err[LIMIT_ERROR_MESSAGE];
	enum gcal_result r;
	int64_t from, to;
	size_t i, n;
	int status;

	status = calread_window(req, res, tz_now(), &from, &to);
	if (status != 0)
		return status;
	q.time_min = from;
	q.time_max = to;
	q.single_events = 1;
	q.order_by_start = 1;
	r = gcal_admin_events_list(proc, req->request_id,
	                           proc->cfg.google_calendar_id, &q, &ev, err,
	                           sizeof(err));
	if (r != GCAL_OK) {
		log_warn(req->request_id, "events list: %s", err);
		return reply_calendar_error(res, r);
	}
	root = json_object_new_object();
	list = json_object_new_array();
	if (root == NULL || list == NULL ||
	    jsonio_add_string(root, "timeZone", tz_name()) ||
	    add_time(root, "from", from) || add_time(root, "to", to))
		goto fail;
	n = json_object_array_length(ev.items);
	for (i = 0; i < n; i++) {
		struct json_object *o =
		        admin_event(json_object_array_get_idx(ev.items, i));

		if (o != NULL && json_object_array_add(list, o) != 0) {
			json_object_put(o);
			goto fail;
		}
	}
	if (jsonio_add(root, "events", list) != 0) {
		list = NULL;
		goto fail;
	}
	status = response_json(res, 200, root);
	json_object_put(root);
	gcal_events_free(&ev);
	return status;
fail:
	json_object_put(list);
	json_object_put(root);
	gcal_events_free(&ev);
	return response_error(res, 500, "internal_error",
	                      "The reply could not be built.");
}

/* ---- public availability ---- */

/* Whether If-None-Match names etag (or is "*"). RFC 9110 §13.1.2: weak
 * comparison, a list of entity tags. */
static int etag_matches(const char *header, const char *etag)
{
	const char *p = header;
	size_t n = strlen(etag);

	if (header == NULL)
		return 0;
	while (*p) {
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		if (*p == '*')
			return 1;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (strncmp(p, etag, n) == 0 &&
		    (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
			return 1;
		while (*p && *p != ',')
			p++;
	}
	return 0;
}

/* A strong entity tag for the body in b: part of its SHA-256. */
static void body_etag(const struct buf *b, char *etag, size_t size)
{
	unsigned char sum[32];
	char hex[65];

	crypto_sha256(buf_str(b), b->len, sum);
	crypto_hex(sum, 16, hex);
	snprintf(etag, size, "\"%s\"", hex);
}

/*
 * Sends the JSON in res->body with the cache headers of a public read, or
 * 304 (with the same headers) when the client already has it:
 * - ETag;
 * - Cache-Control: public, max-age what is left of the copy's freshness
 *   (for a browser; 0 with push notifications), s-maxage=1 (a shared
 *   cache keeps it a second, even a stale copy: max-age=0 alone would make
 *   nginx keep nothing and then answer no If-None-Match),
 *   stale-while-revalidate=1, stale-if-error what is left until the copy
 *   is CALENDAR_MAX_STALE_S old (after that this program answers 503, and
 *   no cache may answer for it);
 * - X-Accel-Expires: @ the second made, when what the reply says was read
 *   (now, or a kept slots reply's): nginx's cache (nginx/) keeps the reply
 *   to the end of that second, so a booking shows within a second
 *   (s-maxage counts whole seconds from when nginx stores the reply, up
 *   to two). It comes after Cache-Control: nginx reads Cache-Control's
 *   stale-... only while it has no expiry yet;
 * - X-Cache: this program's own cache state (HIT, MISS, STALE).
 */
static int send_cached(struct proc *proc, struct request *req,
                       struct response *res, enum avail_state state,
                       int64_t age, int64_t made, const char *etag)
{
	long left = proc->cfg.calendar_cache_ttl_s - (long)age;
	long usable = proc->cfg.calendar_max_stale_s - (long)age;
	char cc[128], expires[32];

	res->status = 200;
	snprintf(res->content_type, sizeof(res->content_type),
	         "application/json; charset=utf-8");
	/* With push notifications a change may come at any moment: clients
	 * and caches ask again each time (the ETag makes that a 304). */
	if (state == AVAIL_STALE || left < 0 ||
	    proc->cfg.calendar_push_url != NULL)
		left = 0;
	if (usable < 0)
		usable = 0;
	snprintf(cc, sizeof(cc),
	         "public, max-age=%ld, s-maxage=1, "
	         "stale-while-revalidate=1, stale-if-error=%ld",
	         left, usable);
	snprintf(expires, sizeof(expires), "@%lld", (long long)made);
	if (response_header(res, "ETag", etag) != 0 ||
	    response_header(res, "Cache-Control", cc) != 0 ||
	    response_header(res, "X-Accel-Expires", expires) != 0 ||
	    response_header(res, "X-Cache", avail_state_str(state)) != 0)
		return response_error(res, 500, "internal_error",
		                      "The reply could not be built.");
	if (etag_matches(request_header(req, "If-None-Match"), etag)) {
		buf_reset(&res->body);
		res->status = 304;
		return 304;
	}
	return 200;
}

/* Copies of a query and a reply's body into *q and *b (malloc'd): 0, or
 * -1 when out of memory (nothing allocated). */
static int copy_reply(const char *query, const struct buf *body, char **q,
                      char **b)
{
	*q = strdup(query);
	*b = malloc(body->len + 1);
	if (*q == NULL || *b == NULL) {
		free(*q);
		free(*b);
		return -1;
	}
	memcpy(*b, buf_str(body), body->len + 1);
	return 0;
}

/* Keeps the reply in res for the next request with the same query. */
static void remember(struct avail_memo *m, const char *query, uint64_t version,
                     int64_t from, int64_t to, const struct buf *body,
                     const char *etag)
{
	char *q, *b;

	if (copy_reply(query, body, &q, &b) != 0)
		return;
	free(m->query);
	free(m->body);
	m->query = q;
	m->body = b;
	m->len = body->len;
	m->version = version;
	m->from = from;
	m->to = to;
	snprintf(m->etag, sizeof(m->etag), "%s", etag);
}

int calread_availability(struct proc *proc, struct request *req,
                         struct response *res)
{
	struct avail_memo *memo = avail_memo();
	const struct avail_copy *copy;
	char from_iso[TZ_ISO_MAX], to_iso[TZ_ISO_MAX], etag[72];
	enum avail_state state;
	int64_t from, to, age;
	int status, why = 0, first = 1;
	/* Only a window fixed by both ends means the same thing later. */
	int absolute = request_query(req, "from") != NULL &&
	               request_query(req, "to") != NULL;
	int known = absolute && memo != NULL && memo->query != NULL &&
	            strcmp(memo->query, req->query) == 0;
	struct buf *b = &res->body;
	size_t i;

	if (known) {
		from = memo->from;
		to = memo->to;
	} else {
		status = calread_window(req, res, tz_now(), &from, &to);
		if (status != 0)
			return status;
	}
	if (!avail_window_ok(tz_now(), from, to))
		return response_error(
		        res, 400, "invalid_parameter",
		        "from and to must lie between %lld days "
		        "ago and %lld days ahead: availability is "
		        "kept for that span.",
		        AVAIL_READ_PAST_S / 86400, AVAIL_READ_AHEAD_S / 86400);
	state = avail_get(proc, req->request_id, from, to, &copy, &age, &why);
	if (state == AVAIL_DOWN)
		return reply_calendar_error(res, (enum gcal_result)why);
	buf_reset(b);
	if (known && copy->version != 0 && memo->version == copy->version) {
		if (buf_append(b, memo->body, memo->len) != 0)
			goto fail;
		return send_cached(proc, req, res, state, age, tz_now(),
		                   memo->etag);
	}
	if (tz_format_iso(from, from_iso, sizeof(from_iso)) != 0 ||
	    tz_format_iso(to, to_iso, sizeof(to_iso)) != 0)
		goto fail;
	/* Written directly: every string here is a zone name or an ISO
	 * time, neither of which needs escaping in JSON. */
	if (buf_printf(b,
	               "{\"timeZone\":\"%s\",\"from\":\"%s\",\"to\":\"%s\","
	               "\"events\":[",
	               tz_name(), from_iso, to_iso) != 0)
		goto fail;
	for (i = 0; i < copy->n; i++) {
		const struct avail_event *e = &copy->events[i];

		if (e->start >= to)
			break; /* sorted by start */
		if (!avail_overlaps(e->start, e->end, from, to))
			continue;
		if (buf_printf(b,
		               "%s{\"start\":\"%s\",\"end\":\"%s\","
		               "\"status\":\"%s\"}",
		               first ? "" : ",", e->start_iso, e->end_iso,
		               e->tentative ? "tentative" : "confirmed") != 0)
			goto fail;
		first = 0;
	}
	if (buf_puts(b, "]}\n") != 0)
		goto fail;
	body_etag(b, etag, sizeof(etag));
	if (absolute && memo != NULL && copy->version != 0)
		remember(memo, req->query, copy->version, from, to, b, etag);
	return send_cached(proc, req, res, state, age, tz_now(), etag);
fail:
	return response_error(res, 500, "internal_error",
	                      "The reply could not be built.");
}

/* ---- free slots ---- */

/*
 * The last slots replies this process made, each kept to the end of the
 * second its busy times and bookings were read in (nginx's copy lasts no
 * longer: X-Accel-Expires says that second), so a class booked anywhere
 * leaves the slots within a second, and a burst of reads of one day costs
 * one database read a second. Keyed by the raw query.
 */
#define SLOTS_KEPT 8
static struct slots_kept {
	char *query; /* malloc'd; NULL: unused */
	char *body;  /* malloc'd */
	size_t len;
	int64_t made; /* the second it was read in */
	enum avail_state state;
	int64_t age;
	char etag[72];
} slots_kept[SLOTS_KEPT];
static unsigned slots_next;

static void slots_forget(struct slots_kept *k)
{
	free(k->query);
	free(k->body);
	memset(k, 0, sizeof(*k));
}

void calread_release(void)
{
	for (size_t i = 0; i < SLOTS_KEPT; i++)
		slots_forget(&slots_kept[i]);
}

/* The reply kept for query and made this second, or NULL. */
static const struct slots_kept *slots_find(const char *query, int64_t now)
{
	for (size_t i = 0; i < SLOTS_KEPT; i++)
		if (slots_kept[i].query != NULL && slots_kept[i].made == now &&
		    strcmp(slots_kept[i].query, query) == 0)
			return &slots_kept[i];
	return NULL;
}

/* Keeps the reply in body (best effort: out of memory keeps nothing). */
static void slots_keep(const char *query, int64_t made, const struct buf *body,
                       enum avail_state state, int64_t age, const char *etag)
{
	struct slots_kept *k = &slots_kept[slots_next++ % SLOTS_KEPT];
	char *q, *b;

	if (copy_reply(query, body, &q, &b) != 0)
		return;
	slots_forget(k);
	k->query = q;
	k->body = b;
	k->len = body->len;
	k->made = made;
	k->state = state;
	k->age = age;
	snprintf(k->etag, sizeof(k->etag), "%s", etag);
}

/* The date after y-m-d. */
static void next_day(int *y, int *m, int *d)
{
	struct tm tm;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = *y - 1900;
	tm.tm_mon = *m - 1;
	tm.tm_mday = *d + 1;
	tm.tm_hour = 12;
	t = timegm(&tm);
	gmtime_r(&t, &tm);
	*y = tm.tm_year + 1900;
	*m = tm.tm_mon + 1;
	*d = tm.tm_mday;
}

/* A whole number of minutes from 15 to 240, strictly. */
static int parse_duration(const char *s, int *out)
{
	int v = 0;
	size_t i;

	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 3)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (i == 0 || v < 15 || v > 240)
		return -1;
	*out = v;
	return 0;
}

int calread_slots(struct proc *proc, struct request *req, struct response *res)
{
	const char *date = request_query(req, "date");
	const char *dur = request_query(req, "duration");
	struct freeslots fs;
	char s_iso[TZ_ISO_MAX], e_iso[TZ_ISO_MAX], etag[72];
	int y, m, d, y2, m2, d2, duration = 60, status;
	int64_t day_start, day_end;
	struct buf *b = &res->body;
	const struct slots_kept *kept;
	int64_t made = tz_now();
	size_t i;

	kept = slots_find(req->query, made);
	if (kept != NULL) {
		buf_reset(b);
		if (buf_append(b, kept->body, kept->len) != 0)
			goto fail;
		return send_cached(proc, req, res, kept->state, kept->age,
		                   kept->made, kept->etag);
	}
	if (date == NULL || tz_parse_date(date, &y, &m, &d) != TZ_OK ||
	    tz_day_start(y, m, d, &day_start) != TZ_OK)
		return response_error(
		        res, 400, "invalid_parameter",
		        "date must be a date such as 2026-12-01.");
	if (freeslots_too_far(proc, day_start))
		return response_error(
		        res, 422, "outside_opening_hours",
		        "date must be at most %d days from today: "
		        "classes start at most that far ahead.",
		        SLOTS_AHEAD_DAYS);
	if (dur != NULL && parse_duration(dur, &duration) != 0)
		return response_error(res, 400, "invalid_parameter",
		                      "duration must be a whole number of "
		                      "minutes from 15 to 240.");
	y2 = y;
	m2 = m;
	d2 = d;
	next_day(&y2, &m2, &d2);
	if (tz_day_start(y2, m2, d2, &day_end) != TZ_OK)
		return response_error(
		        res, 400, "invalid_parameter",
		        "date must be a date such as 2026-12-01.");
	switch (freeslots_day(proc, req->request_id, y, m, d, day_start,
	                      day_end, duration, &fs)) {
	case FREESLOTS_OK:
		break;
	case FREESLOTS_DOWN:
		return reply_calendar_error(res, (enum gcal_result)fs.why);
	case FREESLOTS_DB_DOWN:
		return reply_db_unavailable(res);
	case FREESLOTS_NOMEM:
		goto fail;
	}
	buf_reset(b);
	if (buf_printf(b,
	               "{\"date\":\"%04d-%02d-%02d\",\"timeZone\":\"%s\","
	               "\"duration\":%d,\"slots\":[",
	               y, m, d, tz_name(), duration) != 0)
		goto fail;
	for (i = 0; i < (size_t)fs.n; i++) {
		if (tz_format_iso(fs.slot[i].start, s_iso, sizeof(s_iso)) !=
		            0 ||
		    tz_format_iso(fs.slot[i].end, e_iso, sizeof(e_iso)) != 0 ||
		    buf_printf(b, "%s{\"start\":\"%s\",\"end\":\"%s\"}",
		               i ? "," : "", s_iso, e_iso) != 0)
			goto fail;
	}
	if (buf_puts(b, "]}\n") != 0)
		goto fail;
	body_etag(b, etag, sizeof(etag));
	slots_keep(req->query, made, b, fs.state, fs.age, etag);
	status = send_cached(proc, req, res, fs.state, fs.age, made, etag);
	return status;
fail:
	return response_error(res, 500, "internal_error",
	                      "The reply could not be built.");
}
