/*
 * request - one HTTP request as nginx hands it over (FastCGI params or a
 * plain CGI environment): method, path, query, headers, body.
 *
 * Nothing from the request is trusted: the path and the query are bounded
 * and checked, the query is parsed against the route's allowlist (unknown and
 * repeated keys refused), and the body is capped at LIMIT_BODY_BYTES before
 * a byte of it is read (CONTENT_LENGTH parsed strictly).
 */
#ifndef REQUEST_H
#define REQUEST_H

#include <stddef.h>

#include <json-c/json_object.h>

#include "core/buf.h"
#include "core/limit.h"

struct query_pair {
	char *key;   /* decoded, malloc'd */
	char *value; /* decoded, malloc'd; "" when the key had no '=' */
};

struct request {
	char method[16];
	char path[LIMIT_PATH_BYTES + 1]; /* from REQUEST_URI, without query */
	const char *query;               /* raw QUERY_STRING, borrowed */
	char request_id[LIMIT_REQUEST_ID + 1];
	char param[65];    /* the {id} segment of the route, if any */
	char *const *envp; /* the request's parameters, borrowed */

	/* Reads up to len body bytes; returns how many, 0 at the end, -1 on
	 * error. Set by the caller of request_init(). */
	int (*read)(void *ctx, char *data, size_t len);
	void *read_ctx;

	struct query_pair query_pairs[LIMIT_QUERY_PAIRS];
	size_t nquery;
	struct buf body;
	int body_read;
};

/*
 * Fills *req from the request's parameters envp (NULL-terminated
 * "NAME=value" strings, borrowed for the request's life). Returns 0, or an
 * HTTP status (400) with a message in err when the method or path is not
 * something a well-behaved client sends. A request id is always set: nginx's
 * REQUEST_ID when it is sane, else a random one.
 */
int request_init(struct request *req, char *const *envp, char *err,
                 size_t errlen) __attribute__((warn_unused_result));

/* Releases what the request holds. */
void request_free(struct request *req);

/* The parameter name (e.g. "CONTENT_TYPE"), or NULL. Borrowed. */
const char *request_param(const struct request *req, const char *name);

/* The header name (e.g. "If-None-Match"), or NULL. Borrowed. */
const char *request_header(const struct request *req, const char *name);

/*
 * Parses the query string; each key must be in allowed (a NULL-terminated
 * list; NULL allows none) and appear once. Returns 0, or -1 with a message in
 * err naming the offending parameter.
 */
int request_parse_query(struct request *req, const char *const *allowed,
                        char *err, size_t errlen)
        __attribute__((warn_unused_result));

/* The decoded value of query key, or NULL when absent. Borrowed. */
const char *request_query(const struct request *req, const char *key);

/*
 * The declared body length from CONTENT_LENGTH (0 when absent). Returns 0,
 * or an HTTP status with a message in err: 400 when it is not a plain
 * decimal number, 413 when it is over LIMIT_BODY_BYTES.
 */
int request_content_length(const struct request *req, size_t *out, char *err,
                           size_t errlen) __attribute__((warn_unused_result));

/*
 * Reads the body into req->body, at most LIMIT_BODY_BYTES. Returns 0, or an
 * HTTP status with a message in err: 413 when CONTENT_LENGTH says more, 400
 * when it is malformed or the body ends early.
 */
int request_read_body(struct request *req, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/* Whether the Content-Type is application/json, with or without
 * parameters (charset). */
int request_is_json(const struct request *req);

/*
 * Reads the body and parses it as a JSON object (Content-Type
 * application/json, depth LIMIT_JSON_DEPTH). Returns 0 and a new object in
 * *out that the caller puts, or an HTTP status with a message in err: 413,
 * 415 (not JSON), 400 (malformed, or not an object).
 */
int request_json_body(struct request *req, struct json_object **out, char *err,
                      size_t errlen) __attribute__((warn_unused_result));

/*
 * The bearer token of the Authorization header, or NULL. Borrowed.
 */
const char *request_bearer(const struct request *req);

#endif
