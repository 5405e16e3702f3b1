#include "upstream/gcal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "upstream/gtoken.h"
#include "io/http.h"
#include "core/jsonio.h"
#include "core/limit.h"
#include "core/log.h"
#include "core/tz.h"

const char *gcal_result_str(enum gcal_result r)
{
	switch (r) {
	case GCAL_OK:
		return "ok";
	case GCAL_UNAUTHORIZED:
		return "unauthorized";
	case GCAL_NOT_CONNECTED:
		return "not connected";
	case GCAL_NOT_FOUND:
		return "not found";
	case GCAL_GONE:
		return "gone";
	case GCAL_CONFLICT:
		return "conflict";
	case GCAL_REFUSED:
		return "refused";
	case GCAL_UNAVAILABLE:
		return "unavailable";
	case GCAL_TIMEOUT:
		return "timed out";
	case GCAL_DB_DOWN:
		return "database unavailable";
	}
	return "error";
}

void gcal_events_free(struct gcal_events *ev)
{
	json_object_put(ev->items);
	free(ev->next_sync_token);
	ev->items = NULL;
	ev->next_sync_token = NULL;
}

/* Google's 403 that means "slow down" (protocols.md §5.2). */
static int rate_limited(long status, const char *body, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	return status == 403 && body != NULL &&
	       (strstr(body, "\"rateLimitExceeded\"") != NULL ||
	        strstr(body, "\"userRateLimitExceeded\"") != NULL);
}

/* The result for an answer of Google's, with its reason in err. */
static enum gcal_result classify(const struct http_response *res, char *err,
                                 size_t errlen)
{
	struct json_object *body, *error, *errors, *first;
	const char *reason = NULL, *message = NULL;
	char perr[64];

	body = jsonio_parse(res->body, res->body_len, 8, perr, sizeof(perr));
	error = jsonio_member(body, "error", json_type_object);
	errors = jsonio_member(error, "errors", json_type_array);
	first = errors && json_object_array_length(errors) > 0
	                ? json_object_array_get_idx(errors, 0)
	                : NULL;
	reason = jsonio_string(first, "reason");
	message = jsonio_string(error, "message");
	snprintf(err, errlen, "Google Calendar answered %ld%s%s%s%s",
	         res->status, reason ? " " : "", reason ? reason : "",
	         message ? ": " : "", message ? message : "");
	json_object_put(body);
	switch (res->status) {
	case 401:
		return GCAL_UNAUTHORIZED;
	case 404:
		return GCAL_NOT_FOUND;
	case 409:
		return GCAL_CONFLICT;
	case 410:
		return GCAL_GONE;
	case 429:
		return GCAL_UNAVAILABLE;
	case 403:
		return rate_limited(res->status, res->body, res->body_len, NULL)
		               ? GCAL_UNAVAILABLE
		               : GCAL_REFUSED;
	default:
		break;
	}
	return res->status >= 500 ? GCAL_UNAVAILABLE : GCAL_REFUSED;
}

static enum gcal_result http_failure(enum http_result hr)
{
	return hr == HTTP_ERR_TIMEOUT || hr == HTTP_ERR_CONNECT ||
	                       hr == HTTP_ERR_NETWORK
	               ? GCAL_TIMEOUT
	               : GCAL_UNAVAILABLE;
}

/* Appends "&name=value" (value encoded). */
static int add_param(struct buf *b, const char *name, const char *value)
{
	char *enc = http_urlencode(value);
	int rc;

	if (enc == NULL)
		return -1;
	rc = buf_printf(b, "%c%s=%s",
	                b->len && strchr(b->data, '?') ? '&' : '?', name, enc);
	free(enc);
	return rc;
}

static int add_time(struct buf *b, const char *name, int64_t t)
{
	char s[TZ_ISO_MAX];

	return tz_format_utc(t, s, sizeof(s)) == 0 ? add_param(b, name, s) : -1;
}

/* The header that carries auth's credentials. */
static void auth_header(const struct gcal_auth *auth, char *header, size_t len)
{
	if (auth->bearer != NULL)
		snprintf(header, len, "Authorization: Bearer %s", auth->bearer);
	else
		snprintf(header, len, "X-Goog-Api-Key: %s",
		         auth->api_key ? auth->api_key : "");
}

/*
 * One call: method on url with an optional JSON body; a 2xx answer's JSON
 * in *out (NULL for an empty answer, e.g. a delete's 204). tries: at most
 * that many (0: the client's setting). Google's answers are parsed
 * leniently: a lone surrogate escape in one event's text must not make the
 * whole page unreadable.
 */
static enum gcal_result call(struct proc *proc, const struct gcal_auth *auth,
                             enum http_method method, const char *url,
                             const char *body, int idempotent, int tries,
                             struct json_object **out, char *err, size_t errlen)
{
	char header[4200], herr[LIMIT_ERROR_MESSAGE];
	const char *headers[2] = {header, NULL};
	struct http_response res = {0};
	struct http_request req;
	enum gcal_result r;
	enum http_result hr;

	*out = NULL;
	auth_header(auth, header, sizeof(header));
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.url = url;
	req.headers = headers;
	req.retry_if = rate_limited;
	req.idempotent = idempotent;
	req.max_attempts = tries;
	if (body != NULL) {
		req.body = body;
		req.body_len = strlen(body);
		req.content_type = "application/json";
	}
	hr = http_perform(proc->http, &req, &res, herr, sizeof(herr));
	memset(header, 0, sizeof(header));
	if (hr != HTTP_OK) {
		snprintf(err, errlen, "Google Calendar: %s", herr);
		return http_failure(hr);
	}
	if (res.status < 200 || res.status > 299) {
		r = classify(&res, err, errlen);
		http_response_free(&res);
		return r;
	}
	if (res.body_len == 0) {
		http_response_free(&res);
		return GCAL_OK;
	}
	*out = jsonio_parse_lenient(res.body, res.body_len, 32, herr,
	                            sizeof(herr));
	http_response_free(&res);
	if (*out == NULL || !json_object_is_type(*out, json_type_object)) {
		json_object_put(*out);
		*out = NULL;
		snprintf(err, errlen, "Google Calendar's answer is not JSON");
		return GCAL_UNAVAILABLE;
	}
	return GCAL_OK;
}

/* One page: GET url (at most tries times), the parsed answer in *out. */
static enum gcal_result get_json(struct proc *proc,
                                 const struct gcal_auth *auth, const char *url,
                                 int tries, struct json_object **out, char *err,
                                 size_t errlen)
{
	enum gcal_result r = call(proc, auth, HTTP_GET, url, NULL, 1, tries,
	                          out, err, errlen);

	if (r == GCAL_OK && *out == NULL) {
		snprintf(err, errlen, "Google Calendar's answer is empty");
		return GCAL_UNAVAILABLE;
	}
	return r;
}

enum gcal_result
gcal_events_list(struct proc *proc, const struct gcal_auth *auth,
                 const char *calendar_id, const struct gcal_list *q,
                 struct gcal_events *out, char *err, size_t errlen)
{
	struct json_object *items = json_object_new_array(), *page = NULL;
	enum gcal_result r = GCAL_UNAVAILABLE;
	char *cal = http_urlencode(calendar_id), *sync = NULL;
	const char *token = NULL;
	struct buf url;
	int pages;

	buf_init(&url, 16384);
	if (items == NULL || cal == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (pages = 0; pages < GCAL_MAX_PAGES; pages++) {
		struct json_object *list;
		size_t i, n;

		buf_reset(&url);
		if (buf_printf(&url, "%s/calendar/v3/calendars/%s/events",
		               proc->cfg.google_api_base, cal) ||
		    add_param(&url, "maxResults", GCAL_PAGE_SIZE) ||
		    add_param(&url, "prettyPrint", "false") ||
		    (q->single_events &&
		     add_param(&url, "singleEvents", "true")) ||
		    (q->order_by_start &&
		     add_param(&url, "orderBy", "startTime")) ||
		    (q->show_deleted &&
		     add_param(&url, "showDeleted", "true")) ||
		    (q->sync_token &&
		     add_param(&url, "syncToken", q->sync_token)) ||
		    (q->time_min && add_time(&url, "timeMin", q->time_min)) ||
		    (q->time_max && add_time(&url, "timeMax", q->time_max)) ||
		    (token && add_param(&url, "pageToken", token))) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		json_object_put(page);
		page = NULL;
		r = get_json(proc, auth, buf_str(&url), q->max_attempts, &page,
		             err, errlen);
		if (r != GCAL_OK)
			goto out;
		list = jsonio_member(page, "items", json_type_array);
		n = list ? json_object_array_length(list) : 0;
		for (i = 0; i < n; i++) {
			struct json_object *it =
			        json_object_array_get_idx(list, i);

			if (json_object_array_add(items, json_object_get(it))) {
				json_object_put(it);
				snprintf(err, errlen, "out of memory");
				r = GCAL_UNAVAILABLE;
				goto out;
			}
		}
		token = jsonio_string(page, "nextPageToken");
		if (token == NULL) {
			const char *s = jsonio_string(page, "nextSyncToken");

			if (s != NULL && (sync = strdup(s)) == NULL) {
				r = GCAL_UNAVAILABLE;
				goto out;
			}
			out->items = items;
			out->next_sync_token = sync;
			items = NULL;
			sync = NULL;
			r = GCAL_OK;
			goto out;
		}
	}
	snprintf(err, errlen, "Google Calendar gave more than %d pages",
	         GCAL_MAX_PAGES);
	r = GCAL_UNAVAILABLE;
out:
	json_object_put(page);
	json_object_put(items);
	free(sync);
	free(cal);
	buf_free(&url);
	return r;
}

/* A call made with some credentials: what as_admin() repeats. */
struct authed {
	enum gcal_result (*fn)(struct proc *proc, const struct gcal_auth *auth,
	                       void *ctx, char *err, size_t errlen);
	void *ctx;
};

/*
 * Runs a->fn with the admin's access token, renewing the token and trying
 * once more when Google answers 401.
 */
static enum gcal_result as_admin(struct proc *proc, const char *request_id,
                                 const struct authed *a, char *err,
                                 size_t errlen)
{
	enum gcal_result r = GCAL_UNAUTHORIZED;
	int attempt;

	for (attempt = 0; attempt < 2 && r == GCAL_UNAUTHORIZED; attempt++) {
		struct gtoken tok = {NULL, 0};
		struct gcal_auth auth = {NULL, NULL};

		switch (gtoken_get(proc, request_id, &tok)) {
		case GTOKEN_OK:
			break;
		case GTOKEN_NOT_CONNECTED:
			snprintf(err, errlen, "the calendar is not connected");
			return GCAL_NOT_CONNECTED;
		case GTOKEN_DB_DOWN:
			snprintf(err, errlen, "the database is unavailable");
			return GCAL_DB_DOWN;
		case GTOKEN_UPSTREAM:
			snprintf(err, errlen,
			         "Google's token endpoint is unavailable");
			return GCAL_UNAVAILABLE;
		}
		auth.bearer = tok.access;
		r = a->fn(proc, &auth, a->ctx, err, errlen);
		if (r == GCAL_UNAUTHORIZED) {
			log_warn(request_id, "Google refused the access token; "
			                     "renewing it");
			gtoken_refused(proc, &tok);
		}
		gtoken_clear(&tok);
	}
	return r;
}

struct list_ctx {
	const char *calendar_id;
	const struct gcal_list *q;
	struct gcal_events *out;
};

static enum gcal_result list_with(struct proc *proc,
                                  const struct gcal_auth *auth, void *ctx,
                                  char *err, size_t errlen)
{
	struct list_ctx *c = ctx;

	return gcal_events_list(proc, auth, c->calendar_id, c->q, c->out, err,
	                        errlen);
}

enum gcal_result
gcal_admin_events_list(struct proc *proc, const char *request_id,
                       const char *calendar_id, const struct gcal_list *q,
                       struct gcal_events *out, char *err, size_t errlen)
{
	struct list_ctx c = {calendar_id, q, out};
	struct authed a = {list_with, &c};

	return as_admin(proc, request_id, &a, err, errlen);
}

struct call_ctx {
	enum http_method method;
	const char *url;
	const char *body;
	struct json_object **out;
};

static enum gcal_result call_with(struct proc *proc,
                                  const struct gcal_auth *auth, void *ctx,
                                  char *err, size_t errlen)
{
	struct call_ctx *c = ctx;

	/* Inserts carry a client-chosen id and patches set values: both are
	 * safe to repeat. */
	return call(proc, auth, c->method, c->url, c->body, 1, 0, c->out, err,
	            errlen);
}

/* method on url on the admin's behalf. */
static enum gcal_result admin_call(struct proc *proc, const char *request_id,
                                   enum http_method method, const char *url,
                                   const char *body, struct json_object **out,
                                   char *err, size_t errlen)
{
	struct call_ctx c = {method, url, body, out};
	struct authed a = {call_with, &c};

	return as_admin(proc, request_id, &a, err, errlen);
}

/* The URL of the calendar's events, then "/id" when id, then the query. */
static int event_url(struct proc *proc, struct buf *url, const char *event_id,
                     const char *query)
{
	char *cal = http_urlencode(proc->cfg.google_calendar_id);
	char *ev = event_id ? http_urlencode(event_id) : NULL;
	int rc;

	rc = (cal == NULL || (event_id != NULL && ev == NULL))
	             ? -1
	             : buf_printf(url,
	                          "%s/calendar/v3/calendars/%s/events%s%s%s",
	                          proc->cfg.google_api_base, cal, ev ? "/" : "",
	                          ev ? ev : "", query ? query : "");
	free(cal);
	free(ev);
	return rc;
}

static enum gcal_result
event_call(struct proc *proc, const char *request_id, enum http_method method,
           const char *event_id, const char *query, struct json_object *body,
           struct json_object **out, char *err, size_t errlen)
{
	struct json_object *ignored = NULL;
	enum gcal_result r;
	struct buf url;

	buf_init(&url, 8192);
	if (event_url(proc, &url, event_id, query) != 0) {
		buf_free(&url);
		snprintf(err, errlen, "out of memory");
		return GCAL_UNAVAILABLE;
	}
	r = admin_call(
	        proc, request_id, method, buf_str(&url),
	        body ? json_object_to_json_string_ext(
	                       body, JSON_C_TO_STRING_PLAIN |
	                                     JSON_C_TO_STRING_NOSLASHESCAPE)
	             : NULL,
	        out ? out : &ignored, err, errlen);
	json_object_put(ignored);
	buf_free(&url);
	return r;
}

enum gcal_result gcal_event_insert(struct proc *proc, const char *request_id,
                                   struct json_object *event,
                                   const char *send_updates,
                                   struct json_object **out, char *err,
                                   size_t errlen)
{
	char query[128];

	snprintf(query, sizeof(query),
	         "?conferenceDataVersion=1&sendUpdates=%s", send_updates);
	return event_call(proc, request_id, HTTP_POST, NULL, query, event, out,
	                  err, errlen);
}

enum gcal_result gcal_event_get(struct proc *proc, const char *request_id,
                                const char *event_id, struct json_object **out,
                                char *err, size_t errlen)
{
	return event_call(proc, request_id, HTTP_GET, event_id, NULL, NULL, out,
	                  err, errlen);
}

enum gcal_result gcal_event_patch(struct proc *proc, const char *request_id,
                                  const char *event_id,
                                  struct json_object *changes,
                                  const char *send_updates,
                                  struct json_object **out, char *err,
                                  size_t errlen)
{
	char query[128];

	snprintf(query, sizeof(query),
	         "?conferenceDataVersion=1&sendUpdates=%s", send_updates);
	return event_call(proc, request_id, HTTP_PATCH, event_id, query,
	                  changes, out, err, errlen);
}

enum gcal_result gcal_event_delete(struct proc *proc, const char *request_id,
                                   const char *event_id,
                                   const char *send_updates, char *err,
                                   size_t errlen)
{
	char query[64];
	enum gcal_result r;

	snprintf(query, sizeof(query), "?sendUpdates=%s", send_updates);
	r = event_call(proc, request_id, HTTP_DELETE, event_id, query, NULL,
	               NULL, err, errlen);
	/* Already deleted (410) or never there (404): done either way. */
	return r == GCAL_GONE || r == GCAL_NOT_FOUND ? GCAL_OK : r;
}

/* Digits at s into out ("" when none). */
static void digits_into(const char *s, char *out, size_t len)
{
	size_t n = 0;

	while (s != NULL && s[n] >= '0' && s[n] <= '9' && n + 1 < len)
		n++;
	memcpy(out, s ? s : "", n);
	out[n] = '\0';
}

/* The project a 403 accessNotConfigured names: the SERVICE_DISABLED
 * ErrorInfo's consumer "projects/N", else "project=N" in a link or in the
 * message. */
static void disabled_project(struct json_object *error, char *out, size_t len)
{
	struct json_object *details =
	        jsonio_member(error, "details", json_type_array);
	const char *msg = jsonio_string(error, "message"), *p;
	size_t i, n = details ? json_object_array_length(details) : 0;

	out[0] = '\0';
	for (i = 0; i < n && out[0] == '\0'; i++) {
		struct json_object *d = json_object_array_get_idx(details, i);
		struct json_object *meta =
		        jsonio_member(d, "metadata", json_type_object);
		struct json_object *links =
		        jsonio_member(d, "links", json_type_array);
		const char *consumer = jsonio_string(meta, "consumer");

		if (consumer != NULL && strncmp(consumer, "projects/", 9) == 0)
			digits_into(consumer + 9, out, len);
		if (out[0] == '\0' && links != NULL &&
		    json_object_array_length(links) > 0) {
			const char *url = jsonio_string(
			        json_object_array_get_idx(links, 0), "url");

			p = url ? strstr(url, "project=") : NULL;
			if (p != NULL)
				digits_into(p + 8, out, len);
		}
	}
	if (out[0] == '\0' && msg != NULL &&
	    (p = strstr(msg, "project=")) != NULL)
		digits_into(p + 8, out, len);
	if (out[0] == '\0' && msg != NULL &&
	    (p = strstr(msg, "in project ")) != NULL)
		digits_into(p + 11, out, len);
}

enum gcal_result gcal_probe(struct proc *proc, const struct gcal_auth *auth,
                            const char *calendar_id, struct gcal_probe *out)
{
	char header[4200], herr[LIMIT_ERROR_MESSAGE], perr[64];
	const char *headers[2] = {header, NULL};
	struct http_response res = {0};
	struct json_object *body = NULL, *error, *errors;
	enum gcal_result r = GCAL_UNAVAILABLE;
	char *cal = http_urlencode(calendar_id);
	struct http_request req;
	enum http_result hr;
	const char *zone, *reason;
	struct buf url;

	memset(out, 0, sizeof(*out));
	out->date = -1;
	buf_init(&url, 8192);
	if (cal == NULL ||
	    buf_printf(&url,
	               "%s/calendar/v3/calendars/%s/events?maxResults=1&"
	               "prettyPrint=false",
	               proc->cfg.google_api_base, cal) != 0) {
		snprintf(out->message, sizeof(out->message), "out of memory");
		goto out;
	}
	auth_header(auth, header, sizeof(header));
	memset(&req, 0, sizeof(req));
	req.method = HTTP_GET;
	req.url = buf_str(&url);
	req.headers = headers;
	req.max_attempts = 1;
	hr = http_perform(proc->http, &req, &res, herr, sizeof(herr));
	memset(header, 0, sizeof(header));
	if (hr != HTTP_OK) {
		snprintf(out->message, sizeof(out->message),
		         "Google Calendar: %s", herr);
		r = http_failure(hr);
		goto out;
	}
	out->status = res.status;
	out->date = res.date;
	body = jsonio_parse_lenient(res.body, res.body_len, 32, perr,
	                            sizeof(perr));
	if (res.status < 200 || res.status > 299) {
		r = classify(&res, out->message, sizeof(out->message));
		error = jsonio_member(body, "error", json_type_object);
		errors = jsonio_member(error, "errors", json_type_array);
		reason = errors && json_object_array_length(errors) > 0
		                 ? jsonio_string(
		                           json_object_array_get_idx(errors, 0),
		                           "reason")
		                 : NULL;
		snprintf(out->reason, sizeof(out->reason), "%s",
		         reason ? reason : "");
		if (reason != NULL &&
		    strcmp(reason, "accessNotConfigured") == 0)
			disabled_project(error, out->project,
			                 sizeof(out->project));
		goto out;
	}
	if (body == NULL || !json_object_is_type(body, json_type_object)) {
		snprintf(out->message, sizeof(out->message),
		         "Google Calendar's answer is not JSON");
		goto out;
	}
	zone = jsonio_string(body, "timeZone");
	snprintf(out->time_zone, sizeof(out->time_zone), "%s",
	         zone ? zone : "");
	snprintf(out->message, sizeof(out->message),
	         "Google Calendar answered %ld", res.status);
	r = GCAL_OK;
out:
	json_object_put(body);
	http_response_free(&res);
	buf_free(&url);
	free(cal);
	return r;
}

enum gcal_result gcal_event_read(struct proc *proc,
                                 const struct gcal_auth *auth,
                                 const char *event_id, struct json_object **out,
                                 char *err, size_t errlen)
{
	enum gcal_result r;
	struct buf url;

	*out = NULL;
	buf_init(&url, 8192);
	if (event_url(proc, &url, event_id, NULL) != 0) {
		buf_free(&url);
		snprintf(err, errlen, "out of memory");
		return GCAL_UNAVAILABLE;
	}
	r = get_json(proc, auth, buf_str(&url), 1, out, err, errlen);
	buf_free(&url);
	return r;
}

/* ---- push channels (protocols.md §10) ---- */

/* Copies a printable ASCII string of 1 to cap bytes. 0 or -1. */
static int copy_id(char *out, size_t cap, const char *v)
{
	size_t i, n = v ? strlen(v) : 0;

	if (n == 0 || n > cap)
		return -1;
	for (i = 0; i < n; i++)
		if (v[i] < 0x21 || v[i] > 0x7e)
			return -1;
	memcpy(out, v, n + 1);
	return 0;
}

/* A whole number of milliseconds: digits only (at most 15, well past any
 * date), or a JSON integer. 0 or -1. */
static int read_ms(struct json_object *v, long long *out)
{
	const char *s;
	size_t i, n;
	long long ms = 0;

	if (v == NULL) {
		*out = 0;
		return 0;
	}
	if (json_object_is_type(v, json_type_int)) {
		ms = json_object_get_int64(v);
		if (ms < 0)
			return -1;
		*out = ms;
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return -1;
	s = json_object_get_string(v);
	n = strlen(s);
	if (n == 0 || n > 15)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		ms = ms * 10 + (s[i] - '0');
	}
	*out = ms;
	return 0;
}

int gcal_channel_parse(struct json_object *obj, struct gcal_channel *out)
{
	struct gcal_channel c;
	struct json_object *exp = NULL;

	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		return -1;
	memset(&c, 0, sizeof(c));
	if (copy_id(c.id, LIMIT_PUSH_ID, jsonio_string(obj, "id")) != 0 ||
	    copy_id(c.resource_id, LIMIT_PUSH_RES_ID,
	            jsonio_string(obj, "resourceId")) != 0)
		return -1;
	(void)json_object_object_get_ex(obj, "expiration", &exp);
	if (read_ms(exp, &c.expiration_ms) != 0)
		return -1;
	*out = c;
	return 0;
}

struct watch_ctx {
	const char *url;
	const char *body;
	struct json_object **out;
};

static enum gcal_result watch_with(struct proc *proc,
                                   const struct gcal_auth *auth, void *ctx,
                                   char *err, size_t errlen)
{
	struct watch_ctx *c = ctx;

	enum gcal_result r;

	/* Not repeated after it may have reached Google: the channel id
	 * would be refused as taken (channelIdNotUnique). */
	r = call(proc, auth, HTTP_POST, c->url, c->body, 0, 1, c->out, err,
	         errlen);
	/* Google's 401 for an address it will not call (protocols.md
	 * §10.1) is no verdict on the access token. */
	if (r == GCAL_UNAUTHORIZED &&
	    strstr(err, "push.webhookUrlUnauthorized") != NULL)
		r = GCAL_REFUSED;
	return r;
}

enum gcal_result gcal_events_watch(struct proc *proc, const char *request_id,
                                   const char *id, const char *address,
                                   const char *token, long ttl_s,
                                   struct gcal_channel *out, char *err,
                                   size_t errlen)
{
	struct json_object *body = json_object_new_object(), *params = NULL,
	                   *answer = NULL;
	enum gcal_result r = GCAL_UNAVAILABLE;
	char ttl[24];
	struct buf url;

	buf_init(&url, 8192);
	snprintf(ttl, sizeof(ttl), "%ld", ttl_s);
	params = json_object_new_object();
	if (body == NULL || params == NULL ||
	    jsonio_add_string(body, "id", id) != 0 ||
	    jsonio_add_string(body, "type", "web_hook") != 0 ||
	    jsonio_add_string(body, "address", address) != 0 ||
	    jsonio_add_string(body, "token", token) != 0 ||
	    jsonio_add_string(params, "ttl", ttl) != 0 ||
	    event_url(proc, &url, NULL, NULL) != 0 ||
	    buf_printf(&url, "/watch") != 0) {
		snprintf(err, errlen, "out of memory");
		json_object_put(params);
		goto out;
	}
	if (jsonio_add(body, "params", params) != 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	{
		struct watch_ctx c = {
		        buf_str(&url),
		        json_object_to_json_string_ext(
		                body, JSON_C_TO_STRING_PLAIN |
		                              JSON_C_TO_STRING_NOSLASHESCAPE),
		        &answer};
		struct authed a = {watch_with, &c};

		r = as_admin(proc, request_id, &a, err, errlen);
	}
	if (r != GCAL_OK)
		goto out;
	if (gcal_channel_parse(answer, out) != 0 || strcmp(out->id, id) != 0) {
		snprintf(err, errlen,
		         "Google Calendar's answer to "
		         "events.watch is not a channel");
		r = GCAL_UNAVAILABLE;
	}
out:
	json_object_put(answer);
	json_object_put(body);
	buf_free(&url);
	return r;
}

enum gcal_result gcal_channel_stop(struct proc *proc, const char *request_id,
                                   const char *id, const char *resource_id,
                                   char *err, size_t errlen)
{
	struct json_object *body = json_object_new_object(), *answer = NULL;
	enum gcal_result r = GCAL_UNAVAILABLE;
	struct buf url;

	buf_init(&url, 1024);
	if (body == NULL || jsonio_add_string(body, "id", id) != 0 ||
	    jsonio_add_string(body, "resourceId", resource_id) != 0 ||
	    buf_printf(&url, "%s/calendar/v3/channels/stop",
	               proc->cfg.google_api_base) != 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	/* Stopping twice is harmless: the call may be repeated. */
	r = admin_call(proc, request_id, HTTP_POST, buf_str(&url),
	               json_object_to_json_string_ext(
	                       body, JSON_C_TO_STRING_PLAIN |
	                                     JSON_C_TO_STRING_NOSLASHESCAPE),
	               &answer, err, errlen);
	if (r == GCAL_NOT_FOUND)
		r = GCAL_OK;
out:
	json_object_put(answer);
	json_object_put(body);
	buf_free(&url);
	return r;
}
