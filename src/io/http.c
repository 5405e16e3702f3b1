/*
 * http - the HTTP client over libcurl. See http.h.
 */
#include "io/http.h"

#include "core/buf.h"

#include <curl/curl.h>
#include <openssl/rand.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <limits.h>
#include <time.h>

#define HTTP_USER_AGENT "school-booking/1"

/* Longest Retry-After value kept from a header; longer ones are ignored. */
#define HTTP_RETRY_AFTER_MAX 64

struct http_client {
	CURL *curl;
	struct http_options opts;
	void (*sleep_ms)(long ms, void *arg);
	void *sleep_arg;
	unsigned calls;
	/* CURLOPT_ERRORBUFFER: lives as long as the handle */
	char errbuf[CURL_ERROR_SIZE];
};

/* What one try brought back. */
struct http_attempt {
	struct buf body;
	int too_large;
	int nomem;
	char retry_after[HTTP_RETRY_AFTER_MAX]; /* raw header value */
	int has_retry_after;
	char date[HTTP_RETRY_AFTER_MAX]; /* the raw Date header, "" if none */
	long status;
	char content_type[128];
	CURLcode rc;
};

static int http_curl_ready;

static void http_sleep_default(long ms, void *arg)
{
	struct timespec ts;
	int rc;

	(void)arg;
	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	do {
		rc = nanosleep(&ts, &ts);
	} while (rc == -1 && errno == EINTR);
}

struct http_client *http_client_new(const struct http_options *opts)
{
	struct http_client *c = NULL;
	struct http_options o = {0};

	if (opts)
		o = *opts;
	if (o.timeout_ms <= 0)
		o.timeout_ms = HTTP_DEFAULT_TIMEOUT_MS;
	if (o.connect_timeout_ms <= 0)
		o.connect_timeout_ms = HTTP_DEFAULT_CONNECT_TIMEOUT_MS;
	if (o.max_response == 0)
		o.max_response = HTTP_DEFAULT_MAX_RESPONSE;
	if (o.max_attempts <= 0)
		o.max_attempts = HTTP_DEFAULT_MAX_ATTEMPTS;
	if (o.base_delay_ms <= 0)
		o.base_delay_ms = HTTP_DEFAULT_BASE_DELAY_MS;
	if (o.max_delay_ms <= 0)
		o.max_delay_ms = HTTP_DEFAULT_MAX_DELAY_MS;

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->opts = o;
	c->sleep_ms = http_sleep_default;
	return c;
}

/* libcurl and the easy handle, made on the client's first request: a
 * process that never calls an upstream never loads TLS. 0, or -1. */
static int http_client_start(struct http_client *c)
{
	if (c->curl != NULL)
		return 0;
	if (!http_curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return -1;
		http_curl_ready = 1;
	}
	c->curl = curl_easy_init();
	return c->curl != NULL ? 0 : -1;
}

void http_client_free(struct http_client *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	free(c);
}

void http_client_set_sleep(struct http_client *c,
                           void (*sleep_ms)(long ms, void *arg), void *arg)
{
	c->sleep_ms = sleep_ms ? sleep_ms : http_sleep_default;
	c->sleep_arg = sleep_ms ? arg : NULL;
}

unsigned http_client_calls(const struct http_client *c)
{
	return c->calls;
}

void http_client_reset_calls(struct http_client *c)
{
	c->calls = 0;
}

void http_response_free(struct http_response *r)
{
	if (r == NULL)
		return;
	free(r->body);
	r->body = NULL;
	r->body_len = 0;
}

const char *http_result_str(enum http_result res)
{
	switch (res) {
	case HTTP_OK:
		return "ok";
	case HTTP_ERR_URL:
		return "refused URL";
	case HTTP_ERR_CONNECT:
		return "could not connect";
	case HTTP_ERR_TIMEOUT:
		return "timed out";
	case HTTP_ERR_TOO_LARGE:
		return "response too large";
	case HTTP_ERR_NETWORK:
		return "network error";
	case HTTP_ERR_NOMEM:
		return "out of memory";
	}
	return "unknown error";
}

static const char *http_method_name(enum http_method m)
{
	switch (m) {
	case HTTP_GET:
		return "GET";
	case HTTP_POST:
		return "POST";
	case HTTP_PUT:
		return "PUT";
	case HTTP_PATCH:
		return "PATCH";
	case HTTP_DELETE:
		return "DELETE";
	}
	return NULL;
}

/* Copies src into dst[n], truncating; dst is always NUL-terminated. */
static void http_copy(char *dst, size_t n, const char *src, size_t len)
{
	if (n == 0)
		return;
	if (len >= n)
		len = n - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static void http_err(char *err, size_t errlen, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void http_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	if (vsnprintf(err, errlen, fmt, ap) < 0)
		err[0] = '\0';
	va_end(ap);
}

/* ---- URL policy ---- */

/* 1 if host is a dotted-quad IPv4 address in 127.0.0.0/8. curl's parser
 * has already normalised other spellings ("127.1", "0x7f.0.0.1"). */
static int http_is_loopback_v4(const char *host)
{
	int i;

	for (i = 0; i < 4; i++) {
		unsigned long part = 0;

		if (*host < '0' || *host > '9')
			return 0;
		while (*host >= '0' && *host <= '9') {
			part = part * 10 + (unsigned long)(*host - '0');
			if (part > 255)
				return 0;
			host++;
		}
		if (i == 0 && part != 127)
			return 0;
		if (i < 3 && *host++ != '.')
			return 0;
	}
	return *host == '\0';
}

static int http_is_loopback(const char *host)
{
	return strcasecmp(host, "localhost") == 0 ||
	       strcmp(host, "[::1]") == 0 || http_is_loopback_v4(host);
}

/*
 * Parses url into *uh and checks it against the policy: https anywhere,
 * http only to a loopback host. Writes "scheme://host[:port]/path" (no user
 * info, no query, no fragment) into where. Sets *loopback. Returns HTTP_OK,
 * HTTP_ERR_URL or HTTP_ERR_NOMEM (with a message in err).
 */
static enum http_result http_check_url(const char *url, const char *method,
                                       CURLU **uh, int *loopback, char *where,
                                       size_t wherelen, char *err,
                                       size_t errlen)
{
	enum http_result res = HTTP_ERR_NOMEM;
	CURLU *u = NULL;
	CURLUcode uc;
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	int lo;

	u = curl_url();
	if (u == NULL) {
		http_err(err, errlen, "%s: out of memory", method);
		goto out;
	}
	uc = curl_url_set(u, CURLUPART_URL, url, 0);
	if (uc == CURLUE_OUT_OF_MEMORY) {
		http_err(err, errlen, "%s: out of memory", method);
		goto out;
	}
	res = HTTP_ERR_URL;
	if (uc != CURLUE_OK) {
		/* the URL itself is not printed: it may hold a key */
		http_err(err, errlen, "%s: malformed URL (%s)", method,
		         curl_url_strerror(uc));
		goto out;
	}
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		http_err(err, errlen, "%s: URL without scheme or host", method);
		goto out;
	}
	uc = curl_url_get(u, CURLUPART_PORT, &port, 0);
	if (uc != CURLUE_OK && uc != CURLUE_NO_PORT) {
		http_err(err, errlen, "%s: bad port in URL", method);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
		http_err(err, errlen, "%s: bad path in URL", method);
		goto out;
	}
	if (snprintf(where, wherelen, "%s://%s%s%s%s", scheme, host,
	             port ? ":" : "", port ? port : "", path) < 0) {
		http_err(err, errlen, "%s: bad URL", method);
		goto out;
	}
	lo = http_is_loopback(host);
	if (strcmp(scheme, "https") != 0 &&
	    !(strcmp(scheme, "http") == 0 && lo)) {
		http_err(err, errlen,
		         "%s %s: refused: only https, or http to a loopback "
		         "host",
		         method, where);
		goto out;
	}
	*uh = u;
	u = NULL;
	*loopback = lo;
	res = HTTP_OK;
out:
	curl_free(path);
	curl_free(port);
	curl_free(host);
	curl_free(scheme);
	curl_url_cleanup(u);
	return res;
}

/* ---- one try ---- */

static size_t http_on_body(char *data, size_t size, size_t n, void *arg)
{
	struct http_attempt *a = arg;
	size_t len;

	if (n != 0 && size > SIZE_MAX / n) {
		a->too_large = 1;
		return 0;
	}
	len = size * n;
	if (buf_append(&a->body, data, len) != 0) {
		if (len > a->body.cap || a->body.len > a->body.cap - len)
			a->too_large = 1;
		else
			a->nomem = 1;
		return 0; /* CURLE_WRITE_ERROR */
	}
	return len;
}

/* Copies a header's value (from i, trimmed) into out when it fits. */
static void http_header_value(const char *data, size_t len, size_t i, char *out,
                              size_t outlen)
{
	size_t end;

	while (i < len && (data[i] == ' ' || data[i] == '\t'))
		i++;
	end = len;
	while (end > i && (data[end - 1] == '\r' || data[end - 1] == '\n' ||
	                   data[end - 1] == ' ' || data[end - 1] == '\t'))
		end--;
	if (end - i >= outlen)
		return; /* not a value we could use */
	http_copy(out, outlen, data + i, end - i);
}

static size_t http_on_header(char *data, size_t size, size_t n, void *arg)
{
	static const char name[] = "retry-after:", date[] = "date:";
	struct http_attempt *a = arg;
	size_t len = size * n, i = sizeof(name) - 1;

	if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		/* a new answer (after a 1xx): forget the last one's */
		a->has_retry_after = 0;
		a->date[0] = '\0';
		return len;
	}
	if (len >= sizeof(date) - 1 &&
	    strncasecmp(data, date, sizeof(date) - 1) == 0) {
		http_header_value(data, len, sizeof(date) - 1, a->date,
		                  sizeof(a->date));
		return len;
	}
	if (len < i || strncasecmp(data, name, i) != 0)
		return len;
	{
		char v[HTTP_RETRY_AFTER_MAX] = "";

		http_header_value(data, len, i, v, sizeof(v));
		if (v[0] != '\0') {
			memcpy(a->retry_after, v, sizeof(v));
			a->has_retry_after = 1;
		}
	}
	return len;
}

/* The Date header in seconds since the epoch, or -1. */
static long long http_date(const struct http_attempt *a)
{
	time_t when;

	if (a->date[0] == '\0')
		return -1;
	when = curl_getdate(a->date, NULL);
	return when == (time_t)-1 ? -1 : (long long)when;
}

/* Retry-After (RFC 9110 §10.2.3): delta-seconds or an HTTP-date. Seconds
 * from now (0 for a date in the past), or -1 if absent or unreadable. */
static long http_retry_after_s(const struct http_attempt *a)
{
	const char *p = a->retry_after;
	time_t when, now;

	if (!a->has_retry_after || *p == '\0')
		return -1;
	if (*p >= '0' && *p <= '9') {
		long s = 0;

		/* stops growing past 10^9 s: far beyond any cap */
		for (; *p >= '0' && *p <= '9'; p++)
			if (s < 1000000000L)
				s = s * 10 + (*p - '0');
		return *p == '\0' ? s : -1;
	}
	when = curl_getdate(a->retry_after, NULL);
	if (when == (time_t)-1)
		return -1;
	now = time(NULL);
	if (now == (time_t)-1)
		return -1;
	return when > now ? (long)(when - now) : 0;
}

#define HTTP_SETOPT(h, opt, val)                                               \
	do {                                                                   \
		rc = curl_easy_setopt((h), (opt), (val));                      \
		if (rc != CURLE_OK)                                            \
			goto out;                                              \
	} while (0)

/* Sets up the handle for one try of req. CURLE_OK or the failing code. */
static CURLcode http_setup(struct http_client *c,
                           const struct http_request *req, CURLU *uh,
                           struct curl_slist *hdrs, int loopback, int fresh,
                           struct http_attempt *a)
{
	CURL *h = c->curl;
	CURLcode rc = CURLE_OK;
	const char *body = req->body ? req->body : "";
	curl_off_t body_len = req->body ? (curl_off_t)req->body_len : 0;

	curl_easy_reset(h);
	HTTP_SETOPT(h, CURLOPT_CURLU, uh);
#if LIBCURL_VERSION_NUM >= 0x075500
	HTTP_SETOPT(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	HTTP_SETOPT(h, CURLOPT_PROTOCOLS,
	            (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	HTTP_SETOPT(h, CURLOPT_ERRORBUFFER, c->errbuf);
	HTTP_SETOPT(h, CURLOPT_NOSIGNAL, 1L);
	HTTP_SETOPT(h, CURLOPT_TIMEOUT_MS, c->opts.timeout_ms);
	HTTP_SETOPT(h, CURLOPT_CONNECTTIMEOUT_MS, c->opts.connect_timeout_ms);
	HTTP_SETOPT(h, CURLOPT_FOLLOWLOCATION, 0L);
	HTTP_SETOPT(h, CURLOPT_SSL_VERIFYPEER, 1L);
	HTTP_SETOPT(h, CURLOPT_SSL_VERIFYHOST, 2L);
	HTTP_SETOPT(h, CURLOPT_USERAGENT, HTTP_USER_AGENT);
	HTTP_SETOPT(h, CURLOPT_MAXFILESIZE_LARGE,
	            (curl_off_t)c->opts.max_response);
	HTTP_SETOPT(h, CURLOPT_WRITEFUNCTION, http_on_body);
	HTTP_SETOPT(h, CURLOPT_WRITEDATA, a);
	HTTP_SETOPT(h, CURLOPT_HEADERFUNCTION, http_on_header);
	HTTP_SETOPT(h, CURLOPT_HEADERDATA, a);
	HTTP_SETOPT(h, CURLOPT_HTTPHEADER, hdrs);
	/* The simulator is local: a proxy from the environment must not see
	 * (or break) its traffic. */
	if (loopback)
		HTTP_SETOPT(h, CURLOPT_PROXY, "");
	/* A call that may not be repeated goes on a new connection: on a
	 * reused one that turns out closed, curl silently sends the request
	 * again, and the server may have read the first copy. */
	if (fresh)
		HTTP_SETOPT(h, CURLOPT_FRESH_CONNECT, 1L);

	switch (req->method) {
	case HTTP_GET:
		HTTP_SETOPT(h, CURLOPT_HTTPGET, 1L);
		break;
	case HTTP_POST:
		HTTP_SETOPT(h, CURLOPT_POST, 1L);
		HTTP_SETOPT(h, CURLOPT_POSTFIELDSIZE_LARGE, body_len);
		HTTP_SETOPT(h, CURLOPT_POSTFIELDS, body);
		break;
	case HTTP_PUT:
	case HTTP_PATCH:
		HTTP_SETOPT(h, CURLOPT_CUSTOMREQUEST,
		            http_method_name(req->method));
		HTTP_SETOPT(h, CURLOPT_POSTFIELDSIZE_LARGE, body_len);
		HTTP_SETOPT(h, CURLOPT_POSTFIELDS, body);
		break;
	case HTTP_DELETE:
		HTTP_SETOPT(h, CURLOPT_CUSTOMREQUEST, "DELETE");
		if (req->body) {
			HTTP_SETOPT(h, CURLOPT_POSTFIELDSIZE_LARGE, body_len);
			HTTP_SETOPT(h, CURLOPT_POSTFIELDS, body);
		}
		break;
	}
out:
	return rc;
}

/* Maps a finished try to a result. The try ran on c->curl. */
static enum http_result http_classify(struct http_client *c,
                                      const struct http_attempt *a)
{
	curl_off_t connect_us = 0;
	long sent = 0;

	switch (a->rc) {
	case CURLE_OK:
		return HTTP_OK;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		return HTTP_ERR_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		/* Timed out before the connection was made and before any
		 * byte of the request left: as safe to repeat as a refusal. */
		if (curl_easy_getinfo(c->curl, CURLINFO_CONNECT_TIME_T,
		                      &connect_us) == CURLE_OK &&
		    curl_easy_getinfo(c->curl, CURLINFO_REQUEST_SIZE, &sent) ==
		            CURLE_OK &&
		    connect_us == 0 && sent == 0)
			return HTTP_ERR_CONNECT;
		return HTTP_ERR_TIMEOUT;
	case CURLE_FILESIZE_EXCEEDED:
		return HTTP_ERR_TOO_LARGE;
	case CURLE_WRITE_ERROR:
		if (a->too_large)
			return HTTP_ERR_TOO_LARGE;
		if (a->nomem)
			return HTTP_ERR_NOMEM;
		return HTTP_ERR_NETWORK;
	case CURLE_OUT_OF_MEMORY:
		return HTTP_ERR_NOMEM;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return HTTP_ERR_URL;
	default:
		return HTTP_ERR_NETWORK;
	}
}

/* Network failures worth another try (when the call may be repeated). */
static int http_transient(CURLcode rc)
{
	switch (rc) {
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
		return 1;
	default:
		return 0;
	}
}

static int http_status_transient(long status)
{
	return status == 429 || status == 500 || status == 502 ||
	       status == 503 || status == 504;
}

/* Whether the outcome res of try a should be tried again. */
static int http_should_retry(const struct http_request *req, int idempotent,
                             enum http_result res, const struct http_attempt *a)
{
	switch (res) {
	case HTTP_ERR_CONNECT:
		return 1; /* nothing reached the server */
	case HTTP_ERR_TIMEOUT:
		return idempotent;
	case HTTP_ERR_NETWORK:
		return idempotent && http_transient(a->rc);
	case HTTP_OK:
		if (!idempotent)
			return 0;
		if (http_status_transient(a->status))
			return 1;
		return req->retry_if != NULL &&
		       req->retry_if(a->status, buf_str(&a->body), a->body.len,
		                     req->retry_arg) != 0;
	case HTTP_ERR_URL:
	case HTTP_ERR_TOO_LARGE:
	case HTTP_ERR_NOMEM:
		return 0;
	}
	return 0;
}

/* base * 2^n, capped, with ±25% jitter from RAND_bytes (none if that
 * fails), never above max. */
static long http_backoff_ms(const struct http_options *o, int n)
{
	long d = o->base_delay_ms;
	unsigned char r[4];

	while (n-- > 0 && d < o->max_delay_ms)
		d = d > LONG_MAX / 2 ? LONG_MAX : d * 2;
	if (d > o->max_delay_ms)
		d = o->max_delay_ms;
	if (d <= LONG_MAX / 1250 && RAND_bytes(r, sizeof(r)) == 1) {
		uint32_t v = (uint32_t)r[0] << 24 | (uint32_t)r[1] << 16 |
		             (uint32_t)r[2] << 8 | (uint32_t)r[3];
		d = d * (750 + (long)(v % 501)) / 1000;
	}
	return d > o->max_delay_ms ? o->max_delay_ms : d;
}

/* The wait before try n+2 (n retries done so far). */
static long http_delay_ms(const struct http_options *o, int n,
                          long retry_after_s)
{
	if (retry_after_s >= 0) {
		if (retry_after_s > o->max_delay_ms / 1000)
			return o->max_delay_ms;
		return retry_after_s * 1000 > o->max_delay_ms
		               ? o->max_delay_ms
		               : retry_after_s * 1000;
	}
	return http_backoff_ms(o, n);
}

static void http_attempt_reset(struct http_attempt *a, size_t cap)
{
	buf_free(&a->body);
	memset(a, 0, sizeof(*a));
	buf_init(&a->body, cap);
}

/* curl's message for the last try, or its generic one should the message
 * somehow quote the query string. */
static const char *http_curl_message(const struct http_client *c,
                                     const struct http_attempt *a,
                                     const char *query)
{
	if (c->errbuf[0] == '\0' ||
	    (query && *query && strstr(c->errbuf, query) != NULL))
		return curl_easy_strerror(a->rc);
	return c->errbuf;
}

enum http_result http_perform(struct http_client *c,
                              const struct http_request *req,
                              struct http_response *out, char *err,
                              size_t errlen)
{
	enum http_result res = HTTP_ERR_URL;
	struct http_attempt a;
	struct curl_slist *hdrs = NULL, *tmp;
	const char *const *hp;
	const char *method;
	CURLU *uh = NULL;
	struct buf ctype;
	char *query = NULL, *body = NULL, *ct;
	char where[512];
	int idempotent, loopback = 0, n, tries;
	long retry_after;
	size_t len;

	if (http_client_start(c) != 0) {
		http_err(err, errlen, "http: cannot start libcurl");
		return HTTP_ERR_NOMEM;
	}
	memset(&a, 0, sizeof(a));
	buf_init(&a.body, c->opts.max_response);
	buf_init(&ctype, 0);
	method = http_method_name(req->method);
	if (method == NULL || req->url == NULL) {
		http_err(err, errlen, "http: no method or URL");
		goto out;
	}
	res = http_check_url(req->url, method, &uh, &loopback, where,
	                     sizeof(where), err, errlen);
	if (res != HTTP_OK)
		goto out;
	res = HTTP_ERR_NOMEM;
	if (curl_url_get(uh, CURLUPART_QUERY, &query, 0) ==
	    CURLUE_OUT_OF_MEMORY)
		goto nomem;
	/* "Expect:" turns off Expect: 100-continue. */
	hdrs = curl_slist_append(NULL, "Expect:");
	if (hdrs == NULL)
		goto nomem;
	if (req->body && req->content_type) {
		if (buf_printf(&ctype, "Content-Type: %s", req->content_type))
			goto nomem;
		if ((tmp = curl_slist_append(hdrs, buf_str(&ctype))) == NULL)
			goto nomem;
		hdrs = tmp;
	}
	for (hp = req->headers; hp && *hp; hp++) {
		if ((tmp = curl_slist_append(hdrs, *hp)) == NULL)
			goto nomem;
		hdrs = tmp;
	}

	idempotent = req->method == HTTP_GET || req->method == HTTP_PUT ||
	             req->method == HTTP_DELETE || req->idempotent;
	tries = req->max_attempts > 0 &&
	                        req->max_attempts < c->opts.max_attempts
	                ? req->max_attempts
	                : c->opts.max_attempts;
	for (n = 1;; n++) {
		http_attempt_reset(&a, c->opts.max_response);
		c->errbuf[0] = '\0';
		a.rc = http_setup(c, req, uh, hdrs, loopback, !idempotent, &a);
		if (a.rc != CURLE_OK) {
			res = a.rc == CURLE_OUT_OF_MEMORY ? HTTP_ERR_NOMEM
			                                  : HTTP_ERR_NETWORK;
			http_err(err, errlen, "%s %s: cannot set up: %s",
			         method, where, curl_easy_strerror(a.rc));
			goto out;
		}
		c->calls++;
		a.rc = curl_easy_perform(c->curl);
		res = http_classify(c, &a);
		if (res == HTTP_OK) {
			ct = NULL; /* curl's, borrowed until the next try */
			if (curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE,
			                      &a.status) != CURLE_OK ||
			    curl_easy_getinfo(c->curl, CURLINFO_CONTENT_TYPE,
			                      &ct) != CURLE_OK) {
				res = HTTP_ERR_NETWORK;
				http_err(err, errlen, "%s %s: no status",
				         method, where);
				goto out;
			}
			if (ct)
				http_copy(a.content_type,
				          sizeof(a.content_type), ct,
				          strlen(ct));
		}
		if (n >= tries || !http_should_retry(req, idempotent, res, &a))
			break;
		retry_after = res == HTTP_OK ? http_retry_after_s(&a) : -1;
		c->sleep_ms(http_delay_ms(&c->opts, n - 1, retry_after),
		            c->sleep_arg);
	}

	if (res != HTTP_OK) {
		http_err(err, errlen, "%s %s: %s (%s; %d %s)", method, where,
		         http_result_str(res), http_curl_message(c, &a, query),
		         n, n == 1 ? "try" : "tries");
		goto out;
	}
	len = a.body.len;
	body = buf_take(&a.body);
	if (body == NULL)
		goto nomem;
	out->status = a.status;
	out->body = body;
	out->body_len = len;
	memcpy(out->content_type, a.content_type, sizeof(out->content_type));
	out->retry_after_s = http_retry_after_s(&a);
	out->date = http_date(&a);
	out->attempts = n;
	body = NULL;
	goto out;
nomem:
	res = HTTP_ERR_NOMEM;
	http_err(err, errlen, "%s: out of memory", method);
out:
	/* Drop the handle's pointers into this call's memory; live
	 * connections stay. */
	curl_easy_reset(c->curl);
	free(body);
	buf_free(&ctype);
	curl_slist_free_all(hdrs);
	curl_free(query);
	curl_url_cleanup(uh);
	buf_free(&a.body);
	return res;
}

/* ---- encoding helpers ---- */

/* RFC 3986 §2.3 unreserved characters. */
static int http_unreserved(unsigned char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
	       ch == '_' || ch == '~';
}

/* Appends s percent-encoded to b. 0 or -1 (b may hold part of it). */
static int http_encode_into(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	char esc[3];

	for (p = (const unsigned char *)s; *p; p++) {
		if (http_unreserved(*p)) {
			if (buf_append(b, p, 1) != 0)
				return -1;
			continue;
		}
		esc[0] = '%';
		esc[1] = hex[*p >> 4];
		esc[2] = hex[*p & 0x0f];
		if (buf_append(b, esc, sizeof(esc)) != 0)
			return -1;
	}
	return 0;
}

char *http_urlencode(const char *s)
{
	struct buf b;
	char *r = NULL;
	size_t n = strlen(s);

	if (n > (SIZE_MAX - 1) / 3)
		return NULL;
	buf_init(&b, 3 * n + 1);
	if (http_encode_into(&b, s) != 0)
		goto out;
	r = buf_take(&b);
out:
	buf_free(&b);
	return r;
}

int http_form_add(struct buf *b, const char *name, const char *value)
{
	struct buf pair;
	int rc = -1;

	buf_init(&pair, b->cap);
	if (b->len > 0 && buf_append(&pair, "&", 1) != 0)
		goto out;
	if (http_encode_into(&pair, name) != 0 ||
	    buf_append(&pair, "=", 1) != 0 ||
	    http_encode_into(&pair, value) != 0)
		goto out;
	if (buf_append(b, pair.data, pair.len) != 0)
		goto out;
	rc = 0;
out:
	buf_free(&pair);
	return rc;
}
