/*
 * http - the HTTP client the programs use to talk to Google and MercadoPago.
 *
 * One struct http_client per process holds one libcurl easy handle that is
 * reused for every request, so the TLS connection to Google stays warm
 * between calls (curl_easy_reset() between requests keeps live connections).
 * http_perform() sends one request and retries what is safe to retry: 429,
 * 500, 502, 503, 504, timeouts, dropped and refused connections, and answers
 * the caller's retry_if() says are transient (Google's 403
 * rateLimitExceeded, protocols.md §5.2), with exponential backoff and
 * jitter (§5.3) or the server's Retry-After (RFC 9110 §10.2.3).
 *
 * Safety: only https URLs, plus plain http to a loopback host (the local
 * simulator); TLS verification always on; no redirects; every transfer has
 * a timeout; responses are capped. Error messages name the method, scheme,
 * host and path of the URL only: never its query string (it may carry an
 * API key), its user info or a header.
 *
 * Not thread-safe: the programs are single-threaded, and so is a client.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>

struct buf;
struct http_client;

/* Limits of one client. A field <= 0 takes the default shown. */
struct http_options {
	long timeout_ms;         /* whole transfer, default 10000 */
	long connect_timeout_ms; /* TCP + TLS set-up, default 3000 */
	size_t max_response;     /* body bytes, default 2 MiB */
	int max_attempts;        /* first try and retries, default 4 */
	long base_delay_ms;      /* first backoff, default 250 */
	long max_delay_ms;       /* longest sleep between tries, default 8000 */
};

#define HTTP_DEFAULT_TIMEOUT_MS         10000L
#define HTTP_DEFAULT_CONNECT_TIMEOUT_MS 3000L
#define HTTP_DEFAULT_MAX_RESPONSE       (2u * 1024u * 1024u)
#define HTTP_DEFAULT_MAX_ATTEMPTS       4
#define HTTP_DEFAULT_BASE_DELAY_MS      250L
#define HTTP_DEFAULT_MAX_DELAY_MS       8000L

enum http_method { HTTP_GET, HTTP_POST, HTTP_PUT, HTTP_PATCH, HTTP_DELETE };

/*
 * One request. Everything is borrowed for the duration of http_perform().
 * GET, PUT and DELETE are idempotent by nature and treated so whatever
 * `idempotent` says; POST and PATCH are repeated after they may have reached
 * the server only when the caller sets `idempotent` (an insert with a
 * client-chosen id, a payment with an X-Idempotency-Key).
 */
struct http_request {
	enum http_method method;
	const char *url;
	/* NULL-terminated list of "Name: value" lines; may be NULL */
	const char *const *headers;
	/* body_len bytes; NULL: none. Ignored for GET. */
	const char *body;
	size_t body_len;
	/* Content-Type of the body; NULL with a body: the form type
	 * application/x-www-form-urlencoded */
	const char *content_type;
	/* 1: safe to repeat even after it may have reached the server */
	int idempotent;
	/* optional: 1 to also retry this answer (not called for answers that
	 * are retried anyway, nor for a call that may not be repeated) */
	int (*retry_if)(long status, const char *body, size_t len, void *arg);
	void *retry_arg;
	/* 0: the client's max_attempts; else at most this many tries. A
	 * request path that a stale copy or a quick error can answer sets 1:
	 * no retry, so no sleep while a visitor waits. */
	int max_attempts;
};

/* The last answer received. Owns body: release with http_response_free(). */
struct http_response {
	long status;
	char *body; /* NUL-terminated, malloc'd ("" when empty) */
	size_t body_len;
	char content_type[128]; /* "" when none; truncated if longer */
	long retry_after_s;     /* Retry-After in seconds; -1 if none */
	int attempts;           /* tries made, this answer's included */
	long long date; /* the Date header (RFC 9110 §6.6.1) in seconds since
	                   the epoch; -1 when absent or unreadable */
};

enum http_result {
	HTTP_OK = 0,        /* an HTTP answer arrived, whatever its status */
	HTTP_ERR_URL,       /* refused scheme or host, or a malformed URL */
	HTTP_ERR_CONNECT,   /* could not resolve or connect: nothing was sent */
	HTTP_ERR_TIMEOUT,   /* timeout_ms ran out after connecting */
	HTTP_ERR_TOO_LARGE, /* the body would exceed max_response */
	HTTP_ERR_NETWORK,   /* dropped connection, TLS failure, other */
	HTTP_ERR_NOMEM,
};

/*
 * A new client with opts (NULL: all defaults). libcurl starts on its first
 * request (curl_global_init() then is not thread-safe; the programs are
 * single-threaded), so a process that never calls an upstream never loads
 * TLS. Returns a client the caller releases with http_client_free(), or
 * NULL when out of memory.
 */
struct http_client *http_client_new(const struct http_options *opts)
        __attribute__((warn_unused_result));

/* Closes the client's connections and frees it. NULL is a no-op. */
void http_client_free(struct http_client *c);

/*
 * Replaces how the client waits between tries (default: nanosleep). Tests
 * pass a function that records ms instead of waiting. NULL restores the
 * default.
 */
void http_client_set_sleep(struct http_client *c,
                           void (*sleep_ms)(long ms, void *arg), void *arg);

/*
 * Sends req on c (neither may be NULL), retrying as the module comment says,
 * at most max_attempts times in all. Returns HTTP_OK when an HTTP answer
 * arrived, whatever its status: *out is then overwritten with the last
 * answer (release an earlier one first); its body is the caller's, to
 * release with http_response_free(). Otherwise returns the error of the last
 * try, leaves *out untouched and writes a message into err (errlen bytes,
 * NUL-terminated; err may be NULL) naming the method, scheme, host and path
 * only. A refused URL fails with HTTP_ERR_URL before any network activity.
 */
enum http_result
http_perform(struct http_client *c, const struct http_request *req,
             struct http_response *out, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/* Frees the body of r and empties it. NULL is a no-op. */
void http_response_free(struct http_response *r);

/* A short English name for res ("ok", "timed out", ...). Static string. */
const char *http_result_str(enum http_result res);

/* Tries made since the client was created or last reset, retries included
 * (for the per-request log line). */
unsigned http_client_calls(const struct http_client *c);

/* Sets the tries counter back to 0. */
void http_client_reset_calls(struct http_client *c);

/*
 * Percent-encodes s as RFC 3986 §2.1/§2.3 say: ALPHA, DIGIT, "-", ".", "_"
 * and "~" stay, every other byte becomes %XX with uppercase hex. Returns a
 * malloc'd string the caller frees, or NULL when out of memory.
 */
char *http_urlencode(const char *s) __attribute__((warn_unused_result));

/*
 * Appends name=value to an application/x-www-form-urlencoded body in b,
 * preceded by "&" when b is not empty, both encoded as http_urlencode()
 * does (a space is %20). Returns 0, or -1 (over b's cap or out of memory)
 * with b unchanged.
 */
int http_form_add(struct buf *b, const char *name, const char *value)
        __attribute__((warn_unused_result));

#endif
