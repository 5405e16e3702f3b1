/*
 * test_app - dispatching a request through a route table: exact and {id}
 * paths, HEAD as GET, 404 and 405 with the contract's Allow, the internal
 * token, the query allowlist, and the body limit checked before anything;
 * on an APP_HTML path every one of these refusals is a page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "web/app.h"
#include "check.h"
#include "core/jsonio.h"
#include "core/limit.h"

static const char token[] = "s3cret-internal-token-0123456789";

/* What the handlers saw. */
static const char *called;
static int ncalls;
static char seen_param[65];
static char seen_from[64];

static int respond(struct request *req, struct response *res, const char *name)
{
	struct json_object *obj = json_object_new_object();
	const char *from = request_query(req, "from");
	int status;

	called = name;
	ncalls++;
	snprintf(seen_param, sizeof(seen_param), "%s", req->param);
	snprintf(seen_from, sizeof(seen_from), "%s", from ? from : "(none)");
	if (obj == NULL || jsonio_add_string(obj, "handler", name) != 0) {
		json_object_put(obj);
		return response_error(res, 500, "internal_error", "oom");
	}
	status = response_json(res, 200, obj);
	json_object_put(obj);
	return status;
}

#define HANDLER(name)                                                          \
	static int h_##name(struct proc *proc, struct request *req,            \
	                    struct response *res)                              \
	{                                                                      \
		(void)proc;                                                    \
		return respond(req, res, #name);                               \
	}

HANDLER(calendar)
HANDLER(create)
HANDLER(slots)
HANDLER(events)
HANDLER(holds)
HANDLER(reschedule)
HANDLER(cancel)
HANDLER(booking)
HANDLER(health)
HANDLER(any_id)

static const char *const window_keys[] = {"from", "to", NULL};
static const char *const slot_keys[] = {"date", "duration", NULL};

static const struct app_route routes[] = {
        {"PATCH", "/api/calendar/{id}", NULL, 1, h_reschedule},
        {"DELETE", "/api/calendar/{id}", NULL, 1, h_cancel},
        {"GET", "/api/calendar", window_keys, 0, h_calendar},
        {"POST", "/api/calendar", NULL, 1, h_create},
        {"GET", "/api/calendar/slots", slot_keys, 0, h_slots},
        {"GET", "/api/calendar/events", window_keys, 1, h_events},
        {"POST", "/api/calendar/holds", NULL, 1, h_holds},
        {"GET", "/api/bookings/{id}", NULL, 1, h_booking},
        {"GET", "/api/health", NULL, 0, h_health},
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* A table where an {id} route and a literal one answer the same method,
 * the {id} one listed first. */
static const struct app_route overlapping[] = {
        {"GET", "/api/calendar/{id}", NULL, 0, h_any_id},
        {"GET", "/api/calendar/slots", slot_keys, 0, h_slots},
};

/* The OAuth program's table: two pages and a JSON path beside them. */
static const char *const page_keys[] = {"code", "state", NULL};

static const struct app_route pages[] = {
        {"GET", "/oauth/google/start", NULL, APP_HTML, h_health},
        {"GET", "/oauth/google/callback", page_keys, APP_HTML, h_slots},
        {"GET", "/oauth/google/status", NULL, APP_INTERNAL, h_events},
};
#define NPAGES (sizeof(pages) / sizeof(pages[0]))

/* A body reader that must not be called. */
static int reader_calls;

static int counting_reader(void *ctx, char *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
	reader_calls++;
	return 0;
}

static struct proc proc;

/*
 * Builds the request "method uri" (the query after '?'), with an
 * Authorization header and a CONTENT_LENGTH when given, and dispatches it
 * through table. Returns the status; res is left for the caller to check
 * and free.
 */
static int dispatch_in(const struct app_route *table, size_t n,
                       const char *method, const char *uri, const char *auth,
                       const char *length, struct response *res)
{
	char vars[6][2048];
	char *envp[7];
	char err[LIMIT_ERROR_MESSAGE];
	struct request req;
	const char *q = strchr(uri, '?');
	int i = 0, status;

	snprintf(vars[i++], sizeof(vars[0]), "REQUEST_METHOD=%s", method);
	snprintf(vars[i++], sizeof(vars[0]), "REQUEST_URI=%s", uri);
	snprintf(vars[i++], sizeof(vars[0]), "QUERY_STRING=%s", q ? q + 1 : "");
	snprintf(vars[i++], sizeof(vars[0]), "REQUEST_ID=test-1");
	if (auth != NULL)
		snprintf(vars[i++], sizeof(vars[0]), "HTTP_AUTHORIZATION=%s",
		         auth);
	if (length != NULL)
		snprintf(vars[i++], sizeof(vars[0]), "CONTENT_LENGTH=%s",
		         length);
	for (int j = 0; j < i; j++)
		envp[j] = vars[j];
	envp[i] = NULL;

	called = NULL;
	ncalls = 0;
	reader_calls = 0;
	seen_param[0] = '\0';
	response_init(res);
	status = request_init(&req, envp, err, sizeof(err));
	req.read = counting_reader;
	req.read_ctx = NULL;
	if (status == 0)
		status = app_dispatch(&proc, table, n, &req, res);
	else
		status = -status;
	request_free(&req);
	return status;
}

static int dispatch(const char *method, const char *uri, const char *auth,
                    struct response *res)
{
	return dispatch_in(routes, NROUTES, method, uri, auth, NULL, res);
}

/* The error code of an error body, or "" when it is not one. */
static const char *error_code(const struct response *res)
{
	static char code[64];
	char err[128];
	struct json_object *root;
	const char *c;

	code[0] = '\0';
	root = jsonio_parse(res->body.data ? res->body.data : "", res->body.len,
	                    4, err, sizeof(err));
	c = jsonio_string(jsonio_member(root, "error", json_type_object),
	                  "code");
	if (c != NULL)
		snprintf(code, sizeof(code), "%s", c);
	json_object_put(root);
	return code;
}

/* 1 when the response carries exactly the header line "name: value". */
static int has_header(const struct response *res, const char *name,
                      const char *value)
{
	char line[256];

	snprintf(line, sizeof(line), "%s: %s\r\n", name, value);
	return strstr(buf_str(&res->headers), line) != NULL;
}

static const char *bearer(void)
{
	static char h[128];

	snprintf(h, sizeof(h), "Bearer %s", token);
	return h;
}

TEST(exact_path_reaches_its_handler)
{
	struct response res;
	int status, ok;

	status = dispatch("GET", "/api/health", NULL, &res);
	ok = status == 200 && res.status == 200 && called != NULL &&
	     strcmp(called, "health") == 0 && ncalls == 1 &&
	     strcmp(buf_str(&res.body), "{\"handler\":\"health\"}\n") == 0;
	response_free(&res);
	CHECK(ok);
	status = dispatch("POST", "/api/calendar", bearer(), &res);
	response_free(&res);
	CHECK_INT(status, 200);
	CHECK_STR(called, "create");
	status = dispatch("GET", "/api/calendar?from=2026-12-01", NULL, &res);
	response_free(&res);
	CHECK_INT(status, 200);
	CHECK_STR(called, "calendar");
	CHECK_STR(seen_from, "2026-12-01");
}

TEST(head_is_answered_by_the_get_handler)
{
	struct response res;
	int status;

	status = dispatch("HEAD", "/api/health", NULL, &res);
	response_free(&res);
	CHECK_INT(status, 200);
	CHECK_STR(called, "health");
	status = dispatch("HEAD", "/api/calendar/slots?date=2026-12-01", NULL,
	                  &res);
	response_free(&res);
	CHECK_INT(status, 200);
	CHECK_STR(called, "slots");
	/* HEAD on a path with no GET: 405. */
	status = dispatch("HEAD", "/api/calendar/holds", bearer(), &res);
	response_free(&res);
	CHECK_INT(status, 405);
	CHECK(called == NULL);
}

TEST(id_segment_is_captured)
{
	static char uri[128];
	struct response res;
	int status;

	status = dispatch("GET", "/api/bookings/abc_DEF-123", bearer(), &res);
	response_free(&res);
	CHECK_INT(status, 200);
	CHECK_STR(called, "booking");
	CHECK_STR(seen_param, "abc_DEF-123");
	status = dispatch("PATCH",
	                  "/api/calendar/0123456789abcdef0123456789abcdef",
	                  bearer(), &res);
	response_free(&res);
	CHECK_INT(status, 200);
	CHECK_STR(called, "reschedule");
	CHECK_STR(seen_param, "0123456789abcdef0123456789abcdef");
	status = dispatch("DELETE", "/api/calendar/x", bearer(), &res);
	response_free(&res);
	CHECK_INT(status, 200);
	CHECK_STR(called, "cancel");
	CHECK_STR(seen_param, "x");
	/* 64 characters: the most an id may have. */
	memcpy(uri, "/api/bookings/", 14);
	memset(uri + 14, 'a', 64);
	uri[14 + 64] = '\0';
	status = dispatch("GET", uri, bearer(), &res);
	response_free(&res);
	CHECK_INT(status, 200);
	CHECK_INT(strlen(seen_param), 64);
}

TEST(id_segment_is_any_one_segment)
{
	static char uri[256];
	static const char *const not_one[] = {
	        "/api/bookings/",   "/api/bookings/a/b", "/api/bookings//",
	        "/api/bookings/a/", "/api/bookings",
	};
	static const char *const odd[] = {
	        "/api/bookings/a.b", "/api/bookings/a%20b", "/api/bookings/a~b",
	        "/api/bookings/a:b", "/api/bookings/a$b",
	};
	struct response res;
	size_t i;
	int status;

	/* Not exactly one segment: no route. */
	for (i = 0; i < sizeof(not_one) / sizeof(not_one[0]); i++) {
		status = dispatch("GET", not_one[i], bearer(), &res);
		response_free(&res);
		CHECK_INT(status, 404);
		CHECK(called == NULL);
	}
	/* One segment, whatever its characters: the handler judges it. */
	for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		status = dispatch("GET", odd[i], bearer(), &res);
		response_free(&res);
		CHECK_INT(status, 200);
		CHECK_STR(seen_param, odd[i] + 14);
	}
	/* 65 characters: the route, with an empty id (too long for one). */
	memcpy(uri, "/api/bookings/", 14);
	memset(uri + 14, 'a', 65);
	uri[14 + 65] = '\0';
	status = dispatch("GET", uri, bearer(), &res);
	response_free(&res);
	CHECK_INT(status, 200);
	CHECK_STR(seen_param, "");
	/* Past 128 characters: no route. */
	memset(uri + 14, 'a', 129);
	uri[14 + 129] = '\0';
	status = dispatch("GET", uri, bearer(), &res);
	response_free(&res);
	CHECK_INT(status, 404);
}

TEST(literal_route_wins_over_id)
{
	struct response res;
	int status;

	/* In a table where both answer GET, whatever the order. */
	status = dispatch_in(overlapping, 2, "GET",
	                     "/api/calendar/slots?date=2026-12-01", NULL, NULL,
	                     &res);
	response_free(&res);
	CHECK_INT(status, 200);
	CHECK_STR(called, "slots");
	status = dispatch_in(overlapping, 2, "GET", "/api/calendar/abc", NULL,
	                     NULL, &res);
	response_free(&res);
	CHECK_INT(status, 200);
	CHECK_STR(called, "any_id");
	CHECK_STR(seen_param, "abc");
	/* "slots" and "holds" are never an {id}, even for PATCH and DELETE. */
	status = dispatch("PATCH", "/api/calendar/slots", bearer(), &res);
	CHECK(has_header(&res, "Allow", "GET, HEAD"));
	response_free(&res);
	CHECK_INT(status, 405);
	CHECK(called == NULL);
	status = dispatch("DELETE", "/api/calendar/holds", bearer(), &res);
	CHECK(has_header(&res, "Allow", "POST"));
	response_free(&res);
	CHECK_INT(status, 405);
	CHECK(called == NULL);
	status = dispatch("DELETE", "/api/calendar/events", bearer(), &res);
	response_free(&res);
	CHECK_INT(status, 405);
	CHECK(called == NULL);
}

/* 1 when "method path" is a 405 whose Allow is app_contract_allow's and
 * expected, with the contract's error body. */
static int method_not_allowed(const char *method, const char *path,
                              const char *expected)
{
	char allow[64] = "";
	struct response res;
	int status, ok;

	status = dispatch(method, path, bearer(), &res);
	ok = status == 405 && res.status == 405 && called == NULL &&
	     app_contract_allow(path, allow, sizeof(allow)) > 0 &&
	     strcmp(allow, expected) == 0 && has_header(&res, "Allow", allow) &&
	     strcmp(error_code(&res), "method_not_allowed") == 0;
	response_free(&res);
	return ok;
}

TEST(contract_path_with_another_method_is_405_with_allow)
{
	CHECK(method_not_allowed("PUT", "/api/calendar", "GET, HEAD, POST"));
	CHECK(method_not_allowed("DELETE", "/api/calendar", "GET, HEAD, POST"));
	CHECK(method_not_allowed("GET", "/api/calendar/holds", "POST"));
	CHECK(method_not_allowed("GET",
	                         "/api/calendar/"
	                         "0123456789abcdef0123456789abcdef",
	                         "PATCH, DELETE"));
	CHECK(method_not_allowed("POST", "/api/calendar/slots", "GET, HEAD"));
	CHECK(method_not_allowed("POST", "/api/health", "GET, HEAD"));
	CHECK(method_not_allowed("DELETE", "/api/bookings/abc", "GET, HEAD"));
	CHECK(method_not_allowed("OPTIONS", "/api/calendar/events",
	                         "GET, HEAD"));
}

TEST(unknown_path_is_404)
{
	static const char *const paths[] = {
	        "/",
	        "/nope",
	        "/api",
	        "/api/",
	        "/API/health",
	        "/api/health/",
	        "/api/calendar/",
	        "/api/calendar/a/b",
	        "/api/healthz",
	        "/api/health/x",
	};
	struct response res;
	size_t i;
	int status, ok;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		status = dispatch("GET", paths[i], bearer(), &res);
		ok = status == 404 && res.status == 404 && called == NULL &&
		     strcmp(error_code(&res), "not_found") == 0 &&
		     strstr(buf_str(&res.headers), "Allow:") == NULL;
		response_free(&res);
		if (!ok)
			fprintf(stderr, "  %s\n", paths[i]);
		CHECK(ok);
	}
}

/* 1 when GET /api/calendar/events with the Authorization header auth
 * (NULL: none) is a 401 that never reached the handler. */
static int unauthorized(const char *auth)
{
	struct response res;
	int status, ok;

	status = dispatch("GET", "/api/calendar/events", auth, &res);
	ok = status == 401 && res.status == 401 && called == NULL &&
	     ncalls == 0 && has_header(&res, "WWW-Authenticate", "Bearer") &&
	     strcmp(error_code(&res), "unauthorized") == 0 &&
	     strstr(buf_str(&res.body), token) == NULL;
	response_free(&res);
	return ok;
}

TEST(internal_route_needs_the_token)
{
	char h[128];
	struct response res;
	int status;

	CHECK(unauthorized(NULL));
	CHECK(unauthorized(""));
	CHECK(unauthorized("Bearer "));
	CHECK(unauthorized("Bearer wrong"));
	snprintf(h, sizeof(h), "Bearer %sx", token);
	CHECK(unauthorized(h));
	snprintf(h, sizeof(h), "Bearer %.*s", (int)strlen(token) - 1, token);
	CHECK(unauthorized(h));
	snprintf(h, sizeof(h), "Bearer x%s", token);
	CHECK(unauthorized(h));
	snprintf(h, sizeof(h), "Basic %s", token);
	CHECK(unauthorized(h));
	snprintf(h, sizeof(h), "%s", token);
	CHECK(unauthorized(h));
	snprintf(h, sizeof(h), "Bearer S3CRET-INTERNAL-TOKEN-0123456789");
	CHECK(unauthorized(h));
	/* The right token reaches the handler; the scheme is any case. */
	status = dispatch("GET", "/api/calendar/events", bearer(), &res);
	response_free(&res);
	CHECK_INT(status, 200);
	CHECK_STR(called, "events");
	snprintf(h, sizeof(h), "bearer %s", token);
	status = dispatch("GET", "/api/calendar/events", h, &res);
	response_free(&res);
	CHECK_INT(status, 200);
	/* Public routes do not look at it. */
	status = dispatch("GET", "/api/health", "Bearer wrong", &res);
	response_free(&res);
	CHECK_INT(status, 200);
}

TEST(internal_route_without_a_configured_token_refuses_all)
{
	struct response res;
	int status;

	proc.cfg.internal_api_token = NULL;
	status = dispatch("GET", "/api/calendar/events", bearer(), &res);
	response_free(&res);
	proc.cfg.internal_api_token = token;
	CHECK_INT(status, 401);
	CHECK(called == NULL);
}

TEST(token_is_checked_before_the_query)
{
	struct response res;
	int status;

	/* Without the token even a bad query gets 401, nothing else. */
	status = dispatch("GET", "/api/calendar/events?evil=1", NULL, &res);
	response_free(&res);
	CHECK_INT(status, 401);
	CHECK(called == NULL);
}

TEST(query_outside_the_allowlist_is_400)
{
	static const char *const uris[] = {
	        "/api/calendar?foo=1",           "/api/calendar?from=1&from=2",
	        "/api/calendar?from=%zz",        "/api/calendar?from=1&&to=2",
	        "/api/calendar?date=2026-12-01", "/api/health?x",
	        "/api/calendar/slots?from=x",
	};
	struct response res;
	size_t i;
	int status, ok;

	for (i = 0; i < sizeof(uris) / sizeof(uris[0]); i++) {
		status = dispatch("GET", uris[i], NULL, &res);
		ok = status == 400 && called == NULL &&
		     strcmp(error_code(&res), "invalid_query") == 0;
		response_free(&res);
		if (!ok)
			fprintf(stderr, "  %s\n", uris[i]);
		CHECK(ok);
	}
	/* The message names the parameter. */
	status = dispatch("GET", "/api/calendar?callback=x", NULL, &res);
	ok = strstr(buf_str(&res.body), "callback") != NULL;
	response_free(&res);
	CHECK_INT(status, 400);
	CHECK(ok);
	/* Allowed keys reach the handler, decoded. */
	status = dispatch("GET", "/api/calendar?from=2026-12-01T15%3A00&to=x",
	                  NULL, &res);
	response_free(&res);
	CHECK_INT(status, 200);
	CHECK_STR(seen_from, "2026-12-01T15:00");
}

TEST(body_over_the_limit_is_413_before_routing)
{
	struct response res;
	int status, ok;

	status = dispatch_in(routes, NROUTES, "POST", "/api/calendar", bearer(),
	                     "70000", &res);
	ok = res.status == 413 &&
	     strcmp(error_code(&res), "body_too_large") == 0;
	response_free(&res);
	CHECK_INT(status, 413);
	CHECK(ok);
	CHECK(called == NULL);
	CHECK_INT(reader_calls, 0);
	/* Before the token and the path are even looked at. */
	status = dispatch_in(routes, NROUTES, "POST", "/api/calendar", NULL,
	                     "70000", &res);
	response_free(&res);
	CHECK_INT(status, 413);
	status = dispatch_in(routes, NROUTES, "POST", "/nowhere", NULL, "65537",
	                     &res);
	response_free(&res);
	CHECK_INT(status, 413);
	CHECK_INT(reader_calls, 0);
	/* At the limit it goes on. */
	status = dispatch_in(routes, NROUTES, "POST", "/api/calendar", bearer(),
	                     "65536", &res);
	response_free(&res);
	CHECK_INT(status, 200);
	CHECK_STR(called, "create");
}

TEST(malformed_content_length_is_400)
{
	static const char *const bad[] = {"abc", "-1", "1e3", " 1", "0x10"};
	struct response res;
	size_t i;
	int status, ok;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		status = dispatch_in(routes, NROUTES, "POST", "/api/calendar",
		                     bearer(), bad[i], &res);
		ok = status == 400 && called == NULL && reader_calls == 0 &&
		     strcmp(error_code(&res), "bad_request") == 0;
		response_free(&res);
		CHECK(ok);
	}
}

/* 1 when res is an HTML page with the page headers and no JSON. */
static int is_page(const struct response *res, int status)
{
	const char *h = buf_str(&res->headers);

	return res->status == status &&
	       strcmp(res->content_type, "text/html; charset=utf-8") == 0 &&
	       strncmp(buf_str(&res->body), "<!DOCTYPE html>", 15) == 0 &&
	       strstr(h, "Content-Security-Policy: default-src 'none'; ") !=
	               NULL &&
	       has_header(res, "X-Frame-Options", "DENY") &&
	       has_header(res, "Cache-Control", "no-store") &&
	       error_code(res)[0] == '\0';
}

TEST(html_paths_refuse_with_pages)
{
	static const struct {
		const char *method, *uri, *length;
		int status;
	} cases[] = {
	        {"POST", "/oauth/google/start", NULL, 405},
	        {"DELETE", "/oauth/google/callback", NULL, 405},
	        {"BREW", "/oauth/google/callback?code=x", NULL, 405},
	        {"GET", "/oauth/google/start?x=1", NULL, 400},
	        {"GET", "/oauth/google/callback?colour=red", NULL, 400},
	        {"GET", "/oauth/google/callback?code=a&code=b", NULL, 400},
	        {"GET", "/oauth/google/callback?code=%zz", NULL, 400},
	        {"GET", "/oauth/google/start", "70000", 413},
	        {"POST", "/oauth/google/callback", "70000", 413},
	        {"GET", "/oauth/google/start", "-1", 400},
	};
	struct response res;
	size_t i;
	int status, ok;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		status = dispatch_in(pages, NPAGES, cases[i].method,
		                     cases[i].uri, NULL, cases[i].length, &res);
		ok = status == cases[i].status &&
		     is_page(&res, cases[i].status) && called == NULL &&
		     reader_calls == 0 &&
		     (status != 405 || has_header(&res, "Allow", "GET, HEAD"));
		response_free(&res);
		if (!ok)
			CHECK_FAIL_("%s %s: %d", cases[i].method, cases[i].uri,
			            status);
	}
	/* What the handler answers is its own business. */
	status = dispatch_in(pages, NPAGES, "GET",
	                     "/oauth/google/callback?code=x", NULL, NULL, &res);
	response_free(&res);
	CHECK_INT(status, 200);
	CHECK_STR(called, "slots");
	CHECK_STR(seen_from, "(none)");
}

TEST(json_paths_beside_html_ones_stay_json)
{
	struct response res;
	int status, ok;

	/* The internal JSON path of the same table: JSON refusals. */
	status = dispatch_in(pages, NPAGES, "GET", "/oauth/google/status", NULL,
	                     NULL, &res);
	ok = status == 401 && strcmp(error_code(&res), "unauthorized") == 0 &&
	     strstr(buf_str(&res.headers), "Content-Security-Policy") == NULL;
	response_free(&res);
	CHECK(ok);
	status = dispatch_in(pages, NPAGES, "POST", "/oauth/google/status",
	                     NULL, NULL, &res);
	ok = status == 405 &&
	     strcmp(error_code(&res), "method_not_allowed") == 0;
	response_free(&res);
	CHECK(ok);
	/* A path no route knows: JSON 404, also beside the pages. */
	status = dispatch_in(pages, NPAGES, "GET", "/oauth/google/startx", NULL,
	                     NULL, &res);
	ok = status == 404 && strcmp(error_code(&res), "not_found") == 0;
	response_free(&res);
	CHECK(ok);
	/* A table without APP_HTML never answers a page. */
	status = dispatch_in(routes, NROUTES, "GET", "/api/health?x=1", NULL,
	                     NULL, &res);
	ok = status == 400 && strcmp(error_code(&res), "invalid_query") == 0;
	response_free(&res);
	CHECK(ok);
}

TEST(not_implemented_is_501)
{
	struct request req;
	struct response res;
	int status, ok;

	memset(&req, 0, sizeof(req));
	response_init(&res);
	status = app_not_implemented(&proc, &req, &res);
	ok = status == 501 && res.status == 501 &&
	     strcmp(error_code(&res), "not_implemented") == 0;
	response_free(&res);
	CHECK(ok);
}

TEST(contract_allow_for_every_path)
{
	static const struct {
		const char *path, *allow;
		int count;
	} contract[] = {
	        {"/api/calendar", "GET, HEAD, POST", 3},
	        {"/api/calendar/slots", "GET, HEAD", 2},
	        {"/api/calendar/events", "GET, HEAD", 2},
	        {"/api/calendar/holds", "POST", 1},
	        {"/api/calendar/0123456789abcdef0123456789abcdef",
	         "PATCH, DELETE", 2},
	        {"/api/calendar/x", "PATCH, DELETE", 2},
	        {"/api/bookings/0123456789abcdef0123456789abcdef", "GET, HEAD",
	         2},
	        {"/api/health", "GET, HEAD", 2},
	        {"/api/payments/mercadopago", "POST", 1},
	        {"/oauth/google/start", "GET, HEAD", 2},
	        {"/oauth/google/callback", "GET, HEAD", 2},
	        {"/oauth/google/status", "GET, HEAD", 2},
	};
	static const char *const unknown[] = {
	        "/",
	        "",
	        "/api",
	        "/api/calendar/",
	        "/api/calendar/a/b",
	        "/api/bookings",
	        "/api/bookings/",
	        "/api/payments",
	        "/api/payments/mercadopago/x",
	        "/oauth/google",
	        "/oauth/google/other",
	        "/api/health/",
	        /* 129 characters: more than any one segment may have. */
	        "/api/calendar/"
	        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	        "aa"
	        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	        "aa"
	        "a",
	};
	char allow[64];
	size_t i;

	for (i = 0; i < sizeof(contract) / sizeof(contract[0]); i++) {
		allow[0] = '\0';
		CHECK_INT(app_contract_allow(contract[i].path, allow,
		                             sizeof(allow)),
		          contract[i].count);
		CHECK_STR(allow, contract[i].allow);
	}
	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		if (app_contract_allow(unknown[i], allow, sizeof(allow)) != 0)
			fprintf(stderr, "  %s\n", unknown[i]);
		CHECK_INT(app_contract_allow(unknown[i], allow, sizeof(allow)),
		          0);
	}
}

int main(void)
{
	memset(&proc, 0, sizeof(proc));
	proc.program = "test_app";
	proc.cfg.internal_api_token = token;

	RUN(exact_path_reaches_its_handler);
	RUN(head_is_answered_by_the_get_handler);
	RUN(id_segment_is_captured);
	RUN(id_segment_is_any_one_segment);
	RUN(literal_route_wins_over_id);
	RUN(contract_path_with_another_method_is_405_with_allow);
	RUN(unknown_path_is_404);
	RUN(internal_route_needs_the_token);
	RUN(internal_route_without_a_configured_token_refuses_all);
	RUN(token_is_checked_before_the_query);
	RUN(query_outside_the_allowlist_is_400);
	RUN(body_over_the_limit_is_413_before_routing);
	RUN(malformed_content_length_is_400);
	RUN(html_paths_refuse_with_pages);
	RUN(json_paths_beside_html_ones_stay_json);
	RUN(not_implemented_is_501);
	RUN(contract_allow_for_every_path);
	return CHECK_DONE();
}
