/*
 * test_http - the HTTP client against a scripted local peer.
 *
 * The test starts tests/unit/http_peer.py itself (run it from the
 * repository root), tells it how to answer each request (POST /_script),
 * sends real requests through http_perform() and then asserts on the
 * response and on what the peer received (GET /_log). Sleeps between tries
 * are recorded instead of waited, so nothing here waits on backoff.
 */
#include "core/buf.h"
#include "check.h"
#include "io/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "peer.h"

/* ---- fixture, released after every test ---- */

struct sleeps {
	long ms[32];
	int n;
};

static struct http_client *cli;
static struct http_response res;
static struct sleeps slept;
static char errmsg[512];

static void record_sleep(long ms, void *arg)
{
	struct sleeps *s = arg;

	if (s->n < (int)(sizeof(s->ms) / sizeof(s->ms[0])))
		s->ms[s->n++] = ms;
}

static void fixture_reset(void)
{
	http_client_free(cli);
	cli = NULL;
	http_response_free(&res);
	memset(&res, 0, sizeof(res));
	free(logtxt);
	logtxt = NULL;
	memset(&slept, 0, sizeof(slept));
	errmsg[0] = '\0';
}

/* A new client under test (the last one is freed) recording its sleeps. */
static struct http_client *client(const struct http_options *o)
{
	http_client_free(cli);
	cli = http_client_new(o);
	if (cli)
		http_client_set_sleep(cli, record_sleep, &slept);
	return cli;
}

static enum http_result perform(const struct http_request *rq)
{
	http_response_free(&res);
	return http_perform(cli, rq, &res, errmsg, sizeof(errmsg));
}

/* Fetches the peer's log into logtxt. 0 or -1. */
/* The number after "key": in request i, or -1. */
static long log_num(int i, const char *key)
{
	char needle[64];
	size_t len, nl;
	const char *p = log_line(i, &len), *q;

	if (p == NULL || snprintf(needle, sizeof(needle), "\"%s\":", key) < 0)
		return -1;
	nl = strlen(needle);
	for (q = p; q + nl <= p + len; q++)
		if (memcmp(q, needle, nl) == 0)
			return strtol(q + nl, NULL, 10);
	return -1;
}

/* A port on 127.0.0.1 where nothing listens. */
static int closed_port(void)
{
	struct sockaddr_in sa = {0};
	socklen_t sl = sizeof(sa);
	int fd, port = -1;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* A non-blocking listening socket on 127.0.0.1; its port in *port. */
static int listener(int backlog, int *port)
{
	struct sockaddr_in sa = {0};
	socklen_t sl = sizeof(sa);
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(fd, backlog) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/* tmpl with its "PORT" (if any) replaced by port, into u. As snprintf. */
static int with_port(char *u, size_t n, const char *tmpl, int port)
{
	const char *p = strstr(tmpl, "PORT");

	if (p == NULL)
		return snprintf(u, n, "%s", tmpl);
	return snprintf(u, n, "%.*s%d%s", (int)(p - tmpl), tmpl, port, p + 4);
}

#define IN_RANGE(v, lo, hi) ((v) >= (lo) && (v) <= (hi))

/* ---- methods, bodies, headers ---- */

TEST(test_get_ok)
{
	struct http_request rq = {0};
	char u[128];

	CHECK(client(NULL) != NULL);
	CHECK_INT(script("[{\"status\":200,\"body\":\"hello\","
	                 "\"headers\":{\"Content-Type\":\"text/plain\"}}]"),
	          0);
	rq.method = HTTP_GET;
	rq.url = url_of(u, sizeof(u), "/hello?a=1&b=x%20y");
	CHECK_INT(perform(&rq), HTTP_OK);
	CHECK_INT(res.status, 200);
	CHECK_STR(res.body, "hello");
	CHECK_INT(res.body_len, 5);
	CHECK_STR(res.content_type, "text/plain");
	CHECK_INT(res.retry_after_s, -1);
	CHECK_INT(res.attempts, 1);
	CHECK_INT(fetch_log(), 0);
	CHECK_INT(log_count(), 1);
	CHECK(log_has(0, "\"method\":\"GET\""));
	CHECK(log_has(0, "\"path\":\"/hello\""));
	CHECK(log_has(0, "\"query\":\"a=1&b=x%20y\""));
	CHECK(log_has(0, "\"User-Agent\":\"school-booking/1\""));
	CHECK(log_has(0, "\"body\":\"\""));
}

TEST(test_post_body_and_headers)
{
	static const char body[] = "{\"name\":\"Zoë\",\"n\":1}";
	const char *const headers[] = {"X-Request-Id: r-42",
	                               "Authorization: Bearer t0k", NULL};
	struct http_request rq = {0};
	char u[128];

	CHECK(client(NULL) != NULL);
	CHECK_INT(script("[]"), 0);
	rq.method = HTTP_POST;
	rq.url = url_of(u, sizeof(u), "/echo");
	rq.headers = headers;
	rq.body = body;
	rq.body_len = strlen(body);
	rq.content_type = "application/json";
	CHECK_INT(perform(&rq), HTTP_OK);
	CHECK_INT(res.status, 200);
	CHECK(strstr(res.body, "\"method\":\"POST\"") != NULL);
	CHECK(strstr(res.body, "\"X-Request-Id\":\"r-42\"") != NULL);
	CHECK_INT(fetch_log(), 0);
	CHECK_INT(log_count(), 1);
	CHECK(log_has(0, "\"method\":\"POST\""));
	CHECK(log_has(0,
	              "\"body\":\"{\\\"name\\\":\\\"Zoë\\\",\\\"n\\\":1}\""));
	CHECK(log_has(0, "\"Content-Type\":\"application/json\""));
	CHECK(log_has(0, "\"Content-Length\":\"21\""));
	CHECK(log_has(0, "\"X-Request-Id\":\"r-42\""));
	CHECK(log_has(0, "\"Authorization\":\"Bearer t0k\""));
	CHECK(!log_has(0, "Expect"));
}

TEST(test_put_patch_delete)
{
	struct http_request rq = {0};
	char u[128];

	CHECK(client(NULL) != NULL);
	CHECK_INT(script("[{\"status\":200},{\"status\":200},"
	                 "{\"status\":204,\"body\":\"\"}]"),
	          0);
	rq.url = url_of(u, sizeof(u), "/events/e1");
	rq.method = HTTP_PATCH;
	rq.body = "{\"summary\":\"B1\"}";
	rq.body_len = strlen(rq.body);
	rq.content_type = "application/json";
	CHECK_INT(perform(&rq), HTTP_OK);
	CHECK_INT(res.status, 200);
	rq.method = HTTP_PUT;
	CHECK_INT(perform(&rq), HTTP_OK);
	rq.method = HTTP_DELETE;
	rq.body = NULL;
	rq.body_len = 0;
	rq.content_type = NULL;
	CHECK_INT(perform(&rq), HTTP_OK);
	CHECK_INT(res.status, 204);
	CHECK_STR(res.body, "");
	CHECK_INT(res.body_len, 0);
	CHECK_INT(fetch_log(), 0);
	CHECK_INT(log_count(), 3);
	CHECK(log_has(0, "\"method\":\"PATCH\""));
	CHECK(log_has(0, "\"body\":\"{\\\"summary\\\":\\\"B1\\\"}\""));
	CHECK(log_has(1, "\"method\":\"PUT\""));
	CHECK(log_has(1, "\"body\":\"{\\\"summary\\\":\\\"B1\\\"}\""));
	CHECK(log_has(2, "\"method\":\"DELETE\""));
	CHECK(log_has(2, "\"path\":\"/events/e1\""));
	CHECK(log_has(2, "\"body\":\"\""));
	CHECK(!log_has(2, "Content-Type"));
}

TEST(test_post_form_default_type)
{
	struct http_request rq = {0};
	struct buf b;
	char u[128];

	buf_init(&b, 0);
	CHECK(client(NULL) != NULL);
	CHECK_INT(script("[]"), 0);
	if (http_form_add(&b, "grant_type", "refresh_token") != 0 ||
	    http_form_add(&b, "refresh_token", "1//x y") != 0) {
		buf_free(&b);
		CHECK(!"http_form_add");
	}
	rq.method = HTTP_POST;
	rq.url = url_of(u, sizeof(u), "/token");
	rq.body = buf_str(&b);
	rq.body_len = b.len;
	if (perform(&rq) != HTTP_OK) {
		buf_free(&b);
		CHECK(!"perform");
	}
	buf_free(&b);
	CHECK_INT(fetch_log(), 0);
	CHECK(log_has(0, "\"Content-Type\":"
	                 "\"application/x-www-form-urlencoded\""));
	CHECK(log_has(0, "\"body\":\"grant_type=refresh_token&"
	                 "refresh_token=1%2F%2Fx%20y\""));
}

/* ---- retries ---- */

TEST(test_retry_503_then_200)
{
	struct http_options o = {0};
	struct http_request rq = {0};
	char u[128];

	o.base_delay_ms = 250;
	o.max_delay_ms = 8000;
	CHECK(client(&o) != NULL);
	CHECK_INT(script("[{\"status\":503},{\"status\":503},"
	                 "{\"status\":200,\"body\":\"done\"}]"),
	          0);
	rq.method = HTTP_GET;
	rq.url = url_of(u, sizeof(u), "/busy");
	CHECK_INT(perform(&rq), HTTP_OK);
	CHECK_INT(res.status, 200);
	CHECK_STR(res.body, "done");
	CHECK_INT(res.attempts, 3);
	CHECK_INT(http_client_calls(cli), 3);
	CHECK_INT(slept.n, 2);
	/* 250 * 2^n, ±25% */
	CHECK(IN_RANGE(slept.ms[0], 187, 313));
	CHECK(IN_RANGE(slept.ms[1], 375, 625));
	CHECK_INT(fetch_log(), 0);
	CHECK_INT(log_count(), 3);
}

TEST(test_retry_after_seconds)
{
	struct http_request rq = {0};
	char u[128];

	CHECK(client(NULL) != NULL);
	CHECK_INT(
	        script("[{\"status\":429,\"headers\":{\"Retry-After\":\"2\"}},"
	               "{\"status\":200}]"),
	        0);
	rq.method = HTTP_GET;
	rq.url = url_of(u, sizeof(u), "/quota");
	CHECK_INT(perform(&rq), HTTP_OK);
	CHECK_INT(res.status, 200);
	CHECK_INT(res.attempts, 2);
	CHECK_INT(slept.n, 1);
	CHECK_INT(slept.ms[0], 2000);
}

TEST(test_retry_after_date)
{
	struct http_request rq = {0};
	struct tm tm;
	time_t when = time(NULL) + 3;
	char date[64], json[256], u[128];

	CHECK(gmtime_r(&when, &tm) != NULL);
	CHECK(strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm) >
	      0);
	CHECK(snprintf(json, sizeof(json),
	               "[{\"status\":503,\"headers\":{\"Retry-After\":\"%s\"}},"
	               "{\"status\":200}]",
	               date) > 0);
	CHECK(client(NULL) != NULL);
	CHECK_INT(script(json), 0);
	rq.method = HTTP_GET;
	rq.url = url_of(u, sizeof(u), "/later");
	CHECK_INT(perform(&rq), HTTP_OK);
	CHECK_INT(res.status, 200);
	CHECK_INT(slept.n, 1);
	CHECK(IN_RANGE(slept.ms[0], 2000, 3000));
}

/* The Date header is read (Python's server sends its own clock's). */
TEST(test_date_header)
{
	struct http_request rq = {0};
	time_t before = time(NULL), after;
	char u[128];

	CHECK(client(NULL) != NULL);
	CHECK_INT(script("[{\"status\":200}]"), 0);
	rq.method = HTTP_GET;
	rq.url = url_of(u, sizeof(u), "/clock");
	CHECK_INT(perform(&rq), HTTP_OK);
	after = time(NULL);
	CHECK(IN_RANGE(res.date, (long long)before - 1, (long long)after + 1));
}

TEST(test_retry_after_capped)
{
	struct http_options o = {0};
	struct http_request rq = {0};
	char u[128];

	o.max_delay_ms = 5000;
	CHECK(client(&o) != NULL);
	CHECK_INT(script("[{\"status\":503,\"headers\":{\"Retry-After\":"
	                 "\"120\"}},{\"status\":200}]"),
	          0);
	rq.method = HTTP_GET;
	rq.url = url_of(u, sizeof(u), "/later");
	CHECK_INT(perform(&rq), HTTP_OK);
	CHECK_INT(slept.n, 1);
	CHECK_INT(slept.ms[0], 5000);
}

TEST(test_retries_exhausted)
{
	struct http_options o = {0};
	struct http_request rq = {0};
	char u[128];

	o.max_attempts = 3;
	CHECK(client(&o) != NULL);
	CHECK_INT(script("[{\"status\":500},{\"status\":502},"
	                 "{\"status\":503,\"body\":\"busy\","
	                 "\"headers\":{\"Retry-After\":\"1\"}},"
	                 "{\"status\":200}]"),
	          0);
	rq.method = HTTP_GET;
	rq.url = url_of(u, sizeof(u), "/down");
	CHECK_INT(perform(&rq), HTTP_OK);
	CHECK_INT(res.status, 503);
	CHECK_STR(res.body, "busy");
	CHECK_INT(res.retry_after_s, 1);
	CHECK_INT(res.attempts, 3);
	CHECK_INT(slept.n, 2);
	CHECK_INT(fetch_log(), 0);
	CHECK_INT(log_count(), 3);
}

/* A request that says one try makes one, and never sleeps. */
TEST(test_request_caps_attempts)
{
	struct http_request rq = {0};
	char u[128];

	CHECK(client(NULL) != NULL);
	CHECK_INT(script("[{\"status\":503},{\"status\":200}]"), 0);
	rq.method = HTTP_GET;
	rq.url = url_of(u, sizeof(u), "/once");
	rq.max_attempts = 1;
	CHECK_INT(perform(&rq), HTTP_OK);
	CHECK_INT(res.status, 503);
	CHECK_INT(res.attempts, 1);
	CHECK_INT(slept.n, 0);
	CHECK_INT(fetch_log(), 0);
	CHECK_INT(log_count(), 1);
}

TEST(test_post_5xx_not_retried)
{
	struct http_request rq = {0};
	char u[128];

	CHECK(client(NULL) != NULL);
	CHECK_INT(script("[{\"status\":503},{\"status\":200}]"), 0);
	rq.method = HTTP_POST;
	rq.url = url_of(u, sizeof(u), "/payments");
	rq.body = "{}";
	rq.body_len = 2;
	rq.content_type = "application/json";
	CHECK_INT(perform(&rq), HTTP_OK);
	CHECK_INT(res.status, 503);
	CHECK_INT(res.attempts, 1);
	CHECK_INT(slept.n, 0);
	/* 429 neither: the server may have counted it */
	CHECK_INT(script("[{\"status\":429},{\"status\":200}]"), 0);
	rq.method = HTTP_PATCH;
	CHECK_INT(perform(&rq), HTTP_OK);
	CHECK_INT(res.status, 429);
	CHECK_INT(res.attempts, 1);
	CHECK_INT(fetch_log(), 0);
	CHECK_INT(log_count(), 1);
}

TEST(test_post_idempotent_retried)
{
	struct http_request rq = {0};
	char u[128];

	CHECK(client(NULL) != NULL);
	CHECK_INT(script("[{\"status\":503},{\"status\":200}]"), 0);
	rq.method = HTTP_POST;
	rq.url = url_of(u, sizeof(u), "/events");
	rq.body = "{\"id\":\"b1\"}";
	rq.body_len = strlen(rq.body);
	rq.content_type = "application/json";
	rq.idempotent = 1;
	CHECK_INT(perform(&rq), HTTP_OK);
	CHECK_INT(res.status, 200);
	CHECK_INT(res.attempts, 2);
	CHECK_INT(fetch_log(), 0);
	CHECK_INT(log_count(), 2);
	CHECK(log_has(1, "\"body\":\"{\\\"id\\\":\\\"b1\\\"}\""));
}

TEST(test_drop_get_retried)
{
	struct http_request rq = {0};
	char u[128];

	CHECK(client(NULL) != NULL);
	CHECK_INT(script("[{\"drop\":true},{\"status\":200,\"body\":\"ok\"}]"),
	          0);
	rq.method = HTTP_GET;
	rq.url = url_of(u, sizeof(u), "/flaky");
	CHECK_INT(perform(&rq), HTTP_OK);
	CHECK_INT(res.status, 200);
	CHECK_STR(res.body, "ok");
	CHECK_INT(res.attempts, 2);
	CHECK_INT(fetch_log(), 0);
	CHECK_INT(log_count(), 2);
}

TEST(test_drop_post_not_retried)
{
	struct http_request rq = {0};
	char u[128];

	CHECK(client(NULL) != NULL);
	CHECK_INT(script("[{\"status\":200},{\"drop\":true},{\"status\":200}]"),
	          0);
	/* warm a connection first: curl would silently resend a request
	 * on a reused connection that dies without an answer */
	rq.method = HTTP_GET;
	rq.url = url_of(u, sizeof(u), "/warm");
	CHECK_INT(perform(&rq), HTTP_OK);
	rq.method = HTTP_POST;
	rq.url = url_of(u, sizeof(u), "/token");
	rq.body = "code=abc";
	rq.body_len = strlen(rq.body);
	res.status = 999;
	CHECK_INT(perform(&rq), HTTP_ERR_NETWORK);
	CHECK_INT(res.status, 999); /* untouched */
	CHECK(strstr(errmsg, "POST http://127.0.0.1:") != NULL);
	CHECK_INT(http_client_calls(cli), 2);
	CHECK_INT(fetch_log(), 0);
	CHECK_INT(log_count(), 2);
	CHECK(log_has(1, "\"method\":\"POST\""));
}

TEST(test_timeout)
{
	struct http_options o = {0};
	struct http_request rq = {0};
	char u[128];

	o.timeout_ms = 300;
	CHECK(client(&o) != NULL);
	CHECK_INT(script("[{\"delay_ms\":1500},{\"status\":200}]"), 0);
	rq.method = HTTP_GET;
	rq.url = url_of(u, sizeof(u), "/slow");
	CHECK_INT(perform(&rq), HTTP_OK);
	CHECK_INT(res.status, 200);
	CHECK_INT(res.attempts, 2);

	http_client_reset_calls(cli);
	CHECK_INT(script("[{\"delay_ms\":1500},{\"status\":200}]"), 0);
	rq.method = HTTP_POST;
	rq.body = "x=1";
	rq.body_len = 3;
	CHECK_INT(perform(&rq), HTTP_ERR_TIMEOUT);
	CHECK_INT(http_client_calls(cli), 1);
	CHECK(strstr(errmsg, "timed out") != NULL);
	CHECK_INT(fetch_log(), 0);
	CHECK_INT(log_count(), 1);
}

TEST(test_connect_refused)
{
	const char *const headers[] = {"Authorization: Bearer SECRET2", NULL};
	struct http_request rq = {0};
	char u[128], want[128];
	int port = closed_port();

	CHECK(port > 0);
	CHECK(client(NULL) != NULL);
	CHECK(snprintf(u, sizeof(u), "http://127.0.0.1:%d/pay?key=SECRET1",
	               port) > 0);
	CHECK(snprintf(want, sizeof(want),
	               "POST http://127.0.0.1:%d/pay:", port) > 0);
	rq.method = HTTP_POST;
	rq.url = u;
	rq.headers = headers;
	rq.body = "{}";
	rq.body_len = 2;
	res.status = 999;
	CHECK_INT(perform(&rq), HTTP_ERR_CONNECT);
	CHECK_INT(res.status, 999);
	CHECK_INT(http_client_calls(cli), HTTP_DEFAULT_MAX_ATTEMPTS);
	CHECK_INT(slept.n, HTTP_DEFAULT_MAX_ATTEMPTS - 1);
	CHECK(strstr(errmsg, want) == errmsg);
	CHECK(strstr(errmsg, "SECRET") == NULL);
	CHECK(strstr(errmsg, "key=") == NULL);
}

TEST(test_connect_timeout_is_connect_error)
{
	struct http_options o = {0};
	struct http_request rq = {0};
	struct sockaddr_in sa = {0};
	enum http_result r = HTTP_OK;
	int lfd, port, fill[2] = {-1, -1}, i;
	char u[128];

	/* A listener with a full accept queue drops SYNs: connect hangs. */
	o.connect_timeout_ms = 200;
	o.max_attempts = 2;
	CHECK(client(&o) != NULL);
	lfd = listener(0, &port);
	CHECK(lfd >= 0);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((unsigned short)port);
	for (i = 0; i < 2; i++) {
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (fill[i] >= 0)
			(void)connect(fill[i], (struct sockaddr *)&sa,
			              sizeof(sa));
	}
	sleep_ms(50);
	if (snprintf(u, sizeof(u), "http://127.0.0.1:%d/token", port) > 0) {
		rq.method = HTTP_POST;
		rq.url = u;
		rq.body = "a=1";
		rq.body_len = 3;
		r = perform(&rq);
	}
	for (i = 0; i < 2; i++)
		if (fill[i] >= 0)
			close(fill[i]);
	close(lfd);
	/* nothing was sent: retried even though POST */
	CHECK_INT(r, HTTP_ERR_CONNECT);
	CHECK_INT(http_client_calls(cli), 2);
}

TEST(test_too_large)
{
	struct http_options o = {0};
	struct http_request rq = {0};
	char u[128];

	o.max_response = 1000;
	CHECK(client(&o) != NULL);
	CHECK_INT(script("[{\"size\":1001},{\"size\":1000}]"), 0);
	rq.method = HTTP_GET;
	rq.url = url_of(u, sizeof(u), "/big");
	CHECK_INT(perform(&rq), HTTP_ERR_TOO_LARGE);
	CHECK_INT(http_client_calls(cli), 1);
	CHECK_INT(perform(&rq), HTTP_OK);
	CHECK_INT(res.body_len, 1000);
	CHECK_INT(strlen(res.body), 1000);
	CHECK_INT(fetch_log(), 0);
	CHECK_INT(log_count(), 2);
}

/* ---- URL policy ---- */

TEST(test_url_refused)
{
	static const char *const bad[] = {
	        "http://example.com/x",
	        "http://10.1.2.3:PORT/x",
	        "ftp://127.0.0.1:PORT/x",
	        "gopher://127.0.0.1:PORT/x",
	        "dict://127.0.0.1:PORT/x",
	        "file:///etc/passwd",
	        "http://127.0.0.1@example.com:PORT/x",
	        "http://localhost.example.com:PORT/x",
	        "http://127.0.0.1.example.com:PORT/x",
	        "http://128.0.0.1:PORT/x",
	        "127.0.0.1:PORT/x",
	        "https://",
	        "",
	};
	struct http_request rq = {0};
	char u[128];
	size_t i;
	int lfd, port, fd;

	lfd = listener(8, &port);
	CHECK(lfd >= 0);
	if (client(NULL) == NULL) {
		close(lfd);
		CHECK(!"client");
	}
	rq.method = HTTP_GET;
	rq.url = u;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (with_port(u, sizeof(u), bad[i], port) < 0 ||
		    perform(&rq) != HTTP_ERR_URL) {
			close(lfd);
			fprintf(stderr, "  not refused: %s\n", bad[i]);
			CHECK(!"refused");
		}
	}
	fd = accept(lfd, NULL, NULL);
	if (fd >= 0)
		close(fd);
	close(lfd);
	CHECK(fd < 0); /* nobody connected */
	CHECK_INT(http_client_calls(cli), 0);

	rq.url = "http://example.com/cal/a%40b?key=SECRET";
	CHECK_INT(perform(&rq), HTTP_ERR_URL);
	CHECK(strstr(errmsg, "GET http://example.com/cal/a%40b:") == errmsg);
	CHECK(strstr(errmsg, "SECRET") == NULL);
	CHECK_STR(http_result_str(HTTP_ERR_URL), "refused URL");
}

TEST(test_url_loopback_forms)
{
	static const char *const good[] = {
	        "http://localhost:PORT/a",
	        "HTTP://127.0.0.1:PORT/a",
	        "http://127.1:PORT/a",
	};
	struct http_request rq = {0};
	char u[128];
	size_t i;

	CHECK(client(NULL) != NULL);
	CHECK_INT(script("[]"), 0);
	rq.method = HTTP_GET;
	rq.url = u;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CHECK(with_port(u, sizeof(u), good[i], peer_port) > 0);
		CHECK_INT(perform(&rq), HTTP_OK);
		CHECK_INT(res.status, 200);
	}
}

/* ---- connection reuse, retry_if, counters ---- */

TEST(test_connection_reused)
{
	struct http_request rq = {0};
	char u[128];
	long conn, port;

	CHECK(client(NULL) != NULL);
	CHECK_INT(script("[]"), 0);
	rq.method = HTTP_GET;
	rq.url = url_of(u, sizeof(u), "/a");
	CHECK_INT(perform(&rq), HTTP_OK);
	rq.url = url_of(u, sizeof(u), "/b");
	CHECK_INT(perform(&rq), HTTP_OK);
	rq.method = HTTP_POST;
	rq.idempotent = 1;
	rq.body = "{}";
	rq.body_len = 2;
	CHECK_INT(perform(&rq), HTTP_OK);
	rq.method = HTTP_DELETE;
	rq.body = NULL;
	CHECK_INT(perform(&rq), HTTP_OK);
	/* a call that may not be repeated gets its own connection */
	rq.method = HTTP_POST;
	rq.idempotent = 0;
	CHECK_INT(perform(&rq), HTTP_OK);
	CHECK_INT(fetch_log(), 0);
	CHECK_INT(log_count(), 5);
	conn = log_num(0, "conn");
	port = log_num(0, "port");
	CHECK(conn > 0);
	CHECK_INT(log_num(1, "conn"), conn);
	CHECK_INT(log_num(2, "conn"), conn);
	CHECK_INT(log_num(3, "conn"), conn);
	CHECK_INT(log_num(3, "port"), port);
	CHECK(log_num(4, "conn") != conn);
}

struct retry_probe {
	int called;
	int retried;
};

static int retry_on_rate_limit(long status, const char *body, size_t len,
                               void *arg)
{
	struct retry_probe *p = arg;

	p->called++;
	if (status == 403 && len > 0 &&
	    strstr(body, "\"rateLimitExceeded\"") != NULL) {
		p->retried++;
		return 1;
	}
	return 0;
}

TEST(test_retry_if)
{
	struct retry_probe probe = {0};
	struct http_request rq = {0};
	char u[128];

	CHECK(client(NULL) != NULL);
	CHECK_INT(script("[{\"status\":403,\"body\":\"{\\\"error\\\":{"
	                 "\\\"errors\\\":[{\\\"reason\\\":"
	                 "\\\"rateLimitExceeded\\\"}],\\\"code\\\":403}}\"},"
	                 "{\"status\":200}]"),
	          0);
	rq.method = HTTP_GET;
	rq.url = url_of(u, sizeof(u), "/calendars/x/events");
	rq.retry_if = retry_on_rate_limit;
	rq.retry_arg = &probe;
	CHECK_INT(perform(&rq), HTTP_OK);
	CHECK_INT(res.status, 200);
	CHECK_INT(res.attempts, 2);
	CHECK_INT(probe.called, 2); /* asked about the 403 and the 200 */
	CHECK_INT(probe.retried, 1);
	CHECK_INT(slept.n, 1);

	/* another 403 is final */
	CHECK_INT(
	        script("[{\"status\":403,\"body\":"
	               "\"{\\\"reason\\\":\\\"forbiddenForNonOrganizer\\\"}\"},"
	               "{\"status\":200}]"),
	        0);
	CHECK_INT(perform(&rq), HTTP_OK);
	CHECK_INT(res.status, 403);
	CHECK_INT(res.attempts, 1);

	/* a call that may not be repeated is not asked about */
	probe.called = 0;
	CHECK_INT(script("[{\"status\":403,\"body\":"
	                 "\"{\\\"reason\\\":\\\"rateLimitExceeded\\\"}\"},"
	                 "{\"status\":200}]"),
	          0);
	rq.method = HTTP_POST;
	CHECK_INT(perform(&rq), HTTP_OK);
	CHECK_INT(res.status, 403);
	CHECK_INT(res.attempts, 1);
	CHECK_INT(probe.called, 0);
}

TEST(test_calls_counter)
{
	struct http_request rq = {0};
	char u[128];

	CHECK(client(NULL) != NULL);
	CHECK_INT(http_client_calls(cli), 0);
	CHECK_INT(script("[{\"status\":503},{\"status\":200}]"), 0);
	rq.method = HTTP_GET;
	rq.url = url_of(u, sizeof(u), "/x");
	CHECK_INT(perform(&rq), HTTP_OK);
	CHECK_INT(http_client_calls(cli), 2);
	CHECK_INT(perform(&rq), HTTP_OK);
	CHECK_INT(http_client_calls(cli), 3);
	rq.url = "https://";
	CHECK_INT(perform(&rq), HTTP_ERR_URL);
	CHECK_INT(http_client_calls(cli), 3);
	http_client_reset_calls(cli);
	CHECK_INT(http_client_calls(cli), 0);
}

/* ---- backoff ---- */

TEST(test_backoff_jitter_spread)
{
	struct http_options o = {0};
	struct http_request rq = {0};
	char u[128];
	long lo = 1000000, hi = -1;
	int i, port = closed_port();

	CHECK(port > 0);
	o.base_delay_ms = 100;
	o.max_attempts = 2;
	CHECK(client(&o) != NULL);
	CHECK(snprintf(u, sizeof(u), "http://127.0.0.1:%d/", port) > 0);
	rq.method = HTTP_GET;
	rq.url = u;
	for (i = 0; i < 10; i++)
		CHECK_INT(perform(&rq), HTTP_ERR_CONNECT);
	CHECK_INT(slept.n, 10);
	for (i = 0; i < slept.n; i++) {
		CHECK(IN_RANGE(slept.ms[i], 75, 125));
		lo = slept.ms[i] < lo ? slept.ms[i] : lo;
		hi = slept.ms[i] > hi ? slept.ms[i] : hi;
	}
	CHECK(lo < hi); /* jittered, not constant */
}

TEST(test_backoff_capped)
{
	struct http_options o = {0};
	struct http_request rq = {0};
	char u[128];
	int i, port = closed_port();

	CHECK(port > 0);
	o.base_delay_ms = 250;
	o.max_delay_ms = 1000;
	o.max_attempts = 6;
	CHECK(client(&o) != NULL);
	CHECK(snprintf(u, sizeof(u), "http://127.0.0.1:%d/", port) > 0);
	rq.method = HTTP_GET;
	rq.url = u;
	CHECK_INT(perform(&rq), HTTP_ERR_CONNECT);
	CHECK(strstr(errmsg, "6 tries") != NULL);
	CHECK_INT(slept.n, 5);
	CHECK(IN_RANGE(slept.ms[0], 187, 313));
	CHECK(IN_RANGE(slept.ms[1], 375, 625));
	for (i = 2; i < 5; i++)
		CHECK(IN_RANGE(slept.ms[i], 750, 1000));
}

/* ---- encoding ---- */

TEST(test_urlencode)
{
	static const char *const vec[][2] = {
	        {"", ""},
	        {"AZaz09-._~", "AZaz09-._~"},
	        {"a b", "a%20b"},
	        {"p#weeknum@group.v.calendar.google.com",
	         "p%23weeknum%40group.v.calendar.google.com"},
	        {"a/b?c=d&e+f%", "a%2Fb%3Fc%3Dd%26e%2Bf%25"},
	        {"Zoë ñ", "Zo%C3%AB%20%C3%B1"},
	        {"\x7f\xff\x01", "%7F%FF%01"},
	};
	size_t i;

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		char *e = http_urlencode(vec[i][0]);

		CHECK(e != NULL);
		if (strcmp(e, vec[i][1]) != 0) {
			fprintf(stderr, "  \"%s\" -> \"%s\"\n", vec[i][0], e);
			free(e);
			CHECK(!"urlencode");
		}
		free(e);
	}
}

TEST(test_form_add)
{
	struct buf b;
	int ok;

	buf_init(&b, 0);
	ok = http_form_add(&b, "grant_type", "authorization_code") == 0 &&
	     http_form_add(&b, "code", "4/0A b@c#d") == 0 &&
	     http_form_add(&b, "redirect_uri", "https://x.y/cb?a=1") == 0 &&
	     http_form_add(&b, "empty", "") == 0 &&
	     http_form_add(&b, "nombre", "José") == 0;
	if (!ok ||
	    strcmp(buf_str(&b),
	           "grant_type=authorization_code&code=4%2F0A%20b%40c%23d&"
	           "redirect_uri=https%3A%2F%2Fx.y%2Fcb%3Fa%3D1&empty=&"
	           "nombre=Jos%C3%A9") != 0) {
		fprintf(stderr, "  got \"%s\"\n", buf_str(&b));
		buf_free(&b);
		CHECK(!"form_add");
	}
	buf_free(&b);

	/* over the cap: -1 and the buffer as it was */
	buf_init(&b, 12);
	ok = http_form_add(&b, "a", "1") == 0 &&
	     http_form_add(&b, "b", "a long value") == -1 &&
	     strcmp(buf_str(&b), "a=1") == 0 && b.len == 3;
	buf_free(&b);
	CHECK(ok);
}

TEST(test_misc)
{
	struct http_response r = {0};
	int i;

	http_client_free(NULL);
	http_response_free(NULL);
	http_response_free(&r);
	CHECK(r.body == NULL);
	for (i = HTTP_OK; i <= HTTP_ERR_NOMEM; i++)
		CHECK(http_result_str((enum http_result)i)[0] != '\0');
	CHECK_STR(http_result_str(HTTP_ERR_TIMEOUT), "timed out");
}

#define T(name)                                                                \
	do {                                                                   \
		RUN(name);                                                     \
		fixture_reset();                                               \
	} while (0)

int main(void)
{
	struct http_options o = {0};

	signal(SIGPIPE, SIG_IGN);
	if (peer_start() != 0) {
		fprintf(stderr, "cannot start tests/unit/http_peer.py "
		                "(run from the repository root)\n");
		peer_stop();
		return 1;
	}
	o.max_attempts = 1;
	ctl = http_client_new(&o);
	if (ctl == NULL) {
		peer_stop();
		return 1;
	}
	T(test_get_ok);
	T(test_post_body_and_headers);
	T(test_put_patch_delete);
	T(test_post_form_default_type);
	T(test_retry_503_then_200);
	T(test_retry_after_seconds);
	T(test_retry_after_date);
	T(test_retry_after_capped);
	T(test_date_header);
	T(test_retries_exhausted);
	T(test_request_caps_attempts);
	T(test_post_5xx_not_retried);
	T(test_post_idempotent_retried);
	T(test_drop_get_retried);
	T(test_drop_post_not_retried);
	T(test_timeout);
	T(test_connect_refused);
	T(test_connect_timeout_is_connect_error);
	T(test_too_large);
	T(test_url_refused);
	T(test_url_loopback_forms);
	T(test_connection_reused);
	T(test_retry_if);
	T(test_calls_counter);
	T(test_backoff_jitter_spread);
	T(test_backoff_capped);
	T(test_urlencode);
	T(test_form_add);
	T(test_misc);
	http_client_free(ctl);
	peer_stop();
	return CHECK_DONE();
}
