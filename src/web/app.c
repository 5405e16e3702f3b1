#include "web/app.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "core/crypto.h"
#include "io/db.h"
#include "io/http.h"
#include "core/log.h"
#include "web/page.h"

extern char **environ;

/* The contract (DESIGN.md): each path and the methods served on it. */
static const struct {
	const char *path;
	const char *methods;
} contract[] = {
        {"/api/calendar", "GET, HEAD, POST"},
        {"/api/calendar/slots", "GET, HEAD"},
        {"/api/calendar/events", "GET, HEAD"},
        {"/api/calendar/holds", "POST"},
        {"/api/calendar/notifications", "POST"},
        {"/api/calendar/{id}", "PATCH, DELETE"},
        {"/api/bookings/{id}", "GET, HEAD"},
        {"/api/health", "GET, HEAD"},
        {"/api/payments/mercadopago", "POST"},
        {"/api/payments/{id}", "GET, HEAD"},
        {"/api/metrics", "GET, HEAD"},
        {"/oauth/google/start", "GET, HEAD"},
        {"/oauth/google/callback", "GET, HEAD"},
        {"/oauth/google/status", "GET, HEAD"},
        {"/admin", "GET, HEAD"},
        {"/admin/login", "GET, HEAD"},
        {"/admin/logout", "POST"},
        {"/admin/bookings", "GET, HEAD"},
        {"/admin/bookings/{id}", "GET, HEAD"},
        {"/admin/bookings/{id}/retry", "POST"},
        {"/admin/bookings/{id}/cancel", "POST"},
        {"/admin/payments", "GET, HEAD"},
};

/*
 * Whether path matches pattern; a "{id}" matches any one segment of 1-128
 * characters, copied into param when it fits (else param is "").
 */
static int path_match(const char *pattern, const char *path, char *param,
                      size_t paramlen)
{
	const char *brace = strstr(pattern, "{id}");
	size_t pre, n;

	if (brace == NULL)
		return strcmp(pattern, path) == 0;
	pre = (size_t)(brace - pattern);
	if (strncmp(pattern, path, pre) != 0)
		return 0;
	path += pre;
	/* Any one segment (request_init allowed only printable ASCII): the
	 * handler decides whether it is an id, and answers its own 404. */
	for (n = 0; path[n] && path[n] != '/'; n++)
		if (n >= 128)
			return 0;
	if (n == 0 || strcmp(path + n, brace + 4) != 0)
		return 0;
	if (param != NULL && paramlen > 0) {
		if (paramlen > n) {
			memcpy(param, path, n);
			param[n] = '\0';
		} else {
			param[0] = '\0'; /* too long to be an id */
		}
	}
	return 1;
}

/* Whether path is one of the contract's literal paths: those are never an
 * {id} ("/api/calendar/slots" is not a booking), whichever program asks. */
static int contract_literal(const char *path)
{
	size_t i;

	for (i = 0; i < sizeof(contract) / sizeof(contract[0]); i++)
		if (strcmp(contract[i].path, path) == 0)
			return 1;
	return 0;
}

int app_contract_allow(const char *path, char *allow, size_t allowlen)
{
	int literal = contract_literal(path), count = 1;
	const char *m;
	size_t i;

	for (i = 0; i < sizeof(contract) / sizeof(contract[0]); i++) {
		if ((strstr(contract[i].path, "{id}") == NULL) != literal ||
		    !path_match(contract[i].path, path, NULL, 0))
			continue;
		snprintf(allow, allowlen, "%s", contract[i].methods);
		for (m = contract[i].methods; *m; m++)
			count += *m == ',';
		return count;
	}
	return 0;
}

/* The route for the request's method and path; a literal contract path
 * never matches an {id} route. */
static const struct app_route *find_route(const struct app_route *routes,
                                          size_t nroutes, struct request *req)
{
	const char *method = req->method;
	int literal = contract_literal(req->path);
	size_t i;

	if (strcmp(method, "HEAD") == 0)
		method = "GET";
	for (i = 0; i < nroutes; i++) {
		if (strcmp(routes[i].method, method) != 0 ||
		    (literal && strstr(routes[i].path, "{id}") != NULL))
			continue;
		if (path_match(routes[i].path, req->path, req->param,
		               sizeof(req->param)))
			return &routes[i];
	}
	return NULL;
}

/*
 * Whether a route of the table marks path APP_HTML, whatever its method:
 * then every refusal of the runtime on that path is a page, for a browser
 * (DESIGN.md: the OAuth and admin pages never answer JSON). Matched as
 * find_route() does: a literal contract path is never an {id}.
 */
static int html_path(const struct app_route *routes, size_t nroutes,
                     const char *path)
{
	int literal = contract_literal(path);
	size_t i;

	for (i = 0; i < nroutes; i++)
		if ((routes[i].flags & APP_HTML) &&
		    !(literal && strstr(routes[i].path, "{id}") != NULL) &&
		    path_match(routes[i].path, path, NULL, 0))
			return 1;
	return 0;
}

/* A refusal of the runtime: the contract's JSON error (code, message), or
 * on a page path (html) the page for its status. */
static int refuse(struct response *res, int html, int status, const char *code,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int refuse(struct response *res, int html, int status, const char *code,
                  const char *fmt, ...)
{
	char message[512];
	va_list ap;

	if (html)
		return response_status_page(res, status);
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	return response_error(res, status, code, "%s", message);
}

int app_dispatch(struct proc *proc, const struct app_route *routes,
                 size_t nroutes, struct request *req, struct response *res)
{
	const struct app_route *route;
	char err[LIMIT_ERROR_MESSAGE], allow[64];
	const char *token;
	size_t length;
	int status, html = html_path(routes, nroutes, req->path);

	/* A body over the limit is refused before anything else, unread. */
	status = request_content_length(req, &length, err, sizeof(err));
	if (status == 413)
		return refuse(res, html, 413, "body_too_large",
		              "The body is larger than 64 KiB.");
	if (status != 0)
		return refuse(res, html, status, "bad_request", "%s.", err);

	route = find_route(routes, nroutes, req);
	if (route == NULL) {
		if (app_contract_allow(req->path, allow, sizeof(allow)) > 0) {
			if (response_header(res, "Allow", allow) != 0)
				return refuse(res, html, 500, "internal_error",
				              "The reply could not be "
				              "built.");
			return refuse(res, html, 405, "method_not_allowed",
			              "%s is not allowed on %s; use %s.",
			              req->method, req->path, allow);
		}
		return refuse(res, html, 404, "not_found",
		              "There is nothing at this path.");
	}
	if (route->flags & APP_INTERNAL) {
		token = request_bearer(req);
		if (token == NULL || proc->cfg.internal_api_token == NULL ||
		    !crypto_streq(token, proc->cfg.internal_api_token)) {
			if (response_header(res, "WWW-Authenticate",
			                    "Bearer") != 0)
				return refuse(res, html, 500, "internal_error",
				              "The reply could not be "
				              "built.");
			return refuse(
			        res, html, 401, "unauthorized",
			        "This endpoint needs the internal API token "
			        "(Authorization: Bearer ...).");
		}
	}
	if (request_parse_query(req, route->query, err, sizeof(err)) != 0)
		return refuse(res, html, 400, "invalid_query", "%s.", err);
	return route->handler(proc, req, res);
}

int app_not_implemented(struct proc *proc, struct request *req,
                        struct response *res)
{
	(void)proc;
	(void)req;
	return response_error(res, 501, "not_implemented",
	                      "This endpoint is not available yet.");
}

/* ---- the loop ---- */

static long elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)((now.tv_sec - start->tv_sec) * 1000 +
	              (now.tv_nsec - start->tv_nsec) / 1000000);
}

static int read_fcgi(void *ctx, char *data, size_t len)
{
	return FCGX_GetStr(data, (int)len, (FCGX_Stream *)ctx);
}

static int read_stdin(void *ctx, char *data, size_t len)
{
	size_t n;

	(void)ctx;
	n = fread(data, 1, len, stdin);
	if (n == 0 && ferror(stdin))
		return -1;
	return (int)n;
}

/* Serves one request; writes the reply with put(). */
static void serve(struct proc *proc, const struct app_route *routes,
                  size_t nroutes, char *const *envp,
                  int (*reader)(void *, char *, size_t), void *read_ctx,
                  int (*put)(void *, const char *, size_t), void *put_ctx)
{
	char err[LIMIT_ERROR_MESSAGE];
	struct request req;
	struct response res;
	struct timespec start;
	struct buf out;
	int status, body, html;

	clock_gettime(CLOCK_MONOTONIC, &start);
	if (proc->http)
		http_client_reset_calls(proc->http);
	response_init(&res);
	buf_init(&out, 65536);
	status = request_init(&req, envp, err, sizeof(err));
	req.read = reader;
	req.read_ctx = read_ctx;
	/* request_init() reads the path first: a page path answers with a
	 * page even a request it refuses (a method it cannot take). */
	html = html_path(routes, nroutes, req.path);
	if (status != 0)
		status = refuse(&res, html, status, "bad_request", "%s.", err);
	else
		status = app_dispatch(proc, routes, nroutes, &req, &res);
	/* The admin console answers with pages, its errors too. */
	if (page_path(req.path))
		status = page_from_error(&res);
	/* Nothing is cached unless the handler said otherwise. */
	if (strstr(buf_str(&res.headers), "Cache-Control:") == NULL &&
	    response_header(&res, "Cache-Control", "no-store") != 0)
		buf_reset(&res.headers);
	/* The head, then the body as it is (no copy of it). */
	body = strcmp(req.method, "HEAD") != 0 && res.status != 204 &&
	       res.status != 304;
	if (response_serialize(&res, req.request_id, 1, &out) != 0) {
		buf_reset(&out);
		response_reset(&res);
		status = refuse(&res, html, 500, "internal_error",
		                "The reply could not be built.");
		if (response_serialize(&res, req.request_id, 1, &out) != 0)
			buf_reset(&out);
	}
	if ((out.len && put(put_ctx, out.data, out.len) != 0) ||
	    (body && res.body.len &&
	     put(put_ctx, res.body.data, res.body.len) != 0))
		log_warn(req.request_id, "the client went away before the "
		                         "reply was written");
	log_request(req.request_id, req.method[0] ? req.method : "-",
	            req.path[0] ? req.path : "-", status, elapsed_ms(&start),
	            proc->http ? http_client_calls(proc->http) : 0);
	buf_free(&out);
	response_free(&res);
	request_free(&req);
}

static int put_fcgi(void *ctx, const char *data, size_t len)
{
	return FCGX_PutStr(data, (int)len, (FCGX_Stream *)ctx) == (int)len ? 0
	                                                                   : -1;
}

static int put_stdout(void *ctx, const char *data, size_t len)
{
	(void)ctx;
	if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0)
		return -1;
	return 0;
}

/* SIGTERM (systemd, spawn-fcgi's stop, make stop): the request in hand is
 * finished, no new one is accepted, and the program frees what it holds
 * and exits 0. libfcgi's accept gives up once told, and accept() is
 * interrupted because the handler is installed without SA_RESTART. */
static void on_term(int sig)
{
	(void)sig;
	FCGX_ShutdownPending();
}

static int catch_term(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: accept() returns EINTR */
	return sigaction(SIGTERM, &sa, NULL) == 0 &&
	                       sigaction(SIGINT, &sa, NULL) == 0
	               ? 0
	               : -1;
}

/*
 * systemd's LISTEN_FDS protocol (sd_listen_fds(3)): the listening socket
 * comes as fd 3, with LISTEN_PID naming this process. libfcgi listens on fd
 * 0, where spawn-fcgi and systemd's StandardInput=socket put it, so it is
 * moved there. 0 when there was nothing to adopt or it was adopted, -1 when
 * the variables are there but unusable.
 */
static int adopt_listen_fds(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	char *end;
	long long n;

	if (pid == NULL || fds == NULL)
		return 0;
	errno = 0;
	n = strtoll(pid, &end, 10);
	if (errno != 0 || end == pid || *end != '\0' ||
	    n != (long long)getpid())
		return 0; /* meant for another process */
	if (strcmp(fds, "1") != 0) {
		log_fatal("LISTEN_FDS=%.8s: one listening socket expected",
		          fds);
		return -1;
	}
	if (dup2(3, 0) < 0) {
		log_fatal("cannot take the socket systemd passed: %s",
		          strerror(errno));
		return -1;
	}
	(void)close(3);
	(void)unsetenv("LISTEN_PID");
	(void)unsetenv("LISTEN_FDS");
	(void)unsetenv("LISTEN_FDNAMES");
	return 0;
}

int app_main(const char *program, unsigned needs,
             const struct app_route *routes, size_t nroutes,
             const struct app_hooks *hooks)
{
	struct proc proc;
	FCGX_Request fr;
	int rc = 1;

	log_init(program);
	if (adopt_listen_fds() != 0)
		return 1;
	if (proc_open(&proc, program, needs) != 0 ||
	    (hooks != NULL && hooks->start != NULL &&
	     hooks->start(&proc) != 0)) {
		proc_close(&proc);
		return 1;
	}
	if (FCGX_IsCGI()) {
		serve(&proc, routes, nroutes, environ, read_stdin, NULL,
		      put_stdout, NULL);
		rc = 0;
		goto out;
	}
	if (FCGX_Init() != 0 || FCGX_InitRequest(&fr, 0, 0) != 0 ||
	    catch_term() != 0) {
		log_fatal("cannot start FastCGI");
		goto out;
	}
	while (FCGX_Accept_r(&fr) >= 0) {
		serve(&proc, routes, nroutes, fr.envp, read_fcgi, fr.in,
		      put_fcgi, fr.out);
		FCGX_Finish_r(&fr);
	}
	FCGX_Free(&fr, 1);
	rc = 0;
out:
	if (hooks != NULL && hooks->stop != NULL)
		hooks->stop();
	proc_close(&proc);
	return rc;
}
