/*
 * response - building the reply: status, headers, a JSON or HTML body, and
 * the contract's error shape
 *   {"error": {"code": "snake_case_code", "message": "..."}}
 *
 * A response is built in memory and written in one go by the program's loop
 * (response_serialize()), so a handler can change its mind until it returns.
 */
#ifndef RESPONSE_H
#define RESPONSE_H

#include <stddef.h>

#include <json-c/json_object.h>

#include "core/buf.h"

struct response {
	int status;
	char content_type[64];
	struct buf headers; /* extra "Name: value\r\n" lines */
	struct buf body;
};

/* An empty 200 response. */
void response_init(struct response *res);

/* Releases what the response holds. */
void response_free(struct response *res);

/* Drops headers and body, so an error can replace a half-built reply. */
void response_reset(struct response *res);

/* Adds a header. Names and values with CR, LF or other control bytes are
 * refused (-1), as are values over LIMIT_HEADER_VALUE. */
int response_header(struct response *res, const char *name, const char *value)
        __attribute__((warn_unused_result));

/* Retry-After: seconds (RFC 9110 §10.2.3, delta-seconds). As
 * response_header(). */
int response_retry_after(struct response *res, long seconds)
        __attribute__((warn_unused_result));

/* Sets status and a JSON body (obj is borrowed). Returns status, or 500
 * after writing an error when the body cannot be built. */
int response_json(struct response *res, int status, struct json_object *obj);

/* Sets status and the error body with code and a printf-style message.
 * Returns status. The message must hold no secret. */
int response_error(struct response *res, int status, const char *code,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * The headers of every HTML page, in one place: Content-Security-Policy
 * (default-src 'none'; only the pages' own inline style, by its hash;
 * frame-ancestors 'none'; form-action 'self'; base-uri 'none'),
 * X-Frame-Options: DENY, X-Content-Type-Options: nosniff, Referrer-Policy:
 * no-referrer and Cache-Control: no-store. Each is added once: a header
 * already there is left as it is. response_page() calls it; anything else
 * that answers HTML must too. 0 or -1.
 */
int response_page_headers(struct response *res)
        __attribute__((warn_unused_result));

/* The same for a page of another frame whose one inline style is style
 * (the admin console's): the CSP allows that style's hash. 0 or -1. */
int response_page_headers_for(struct response *res, const char *style)
        __attribute__((warn_unused_result));

/* Sets status and a small HTML5 page in strict UTF-8, with the page
 * headers: title and paragraphs are text and are escaped; links is an
 * optional "href" to offer as a button (escaped too) with its label.
 * Returns status; when the page cannot be built, a fixed 500 page and 500. */
int response_page(struct response *res, int status, const char *title,
                  const char *paragraph, const char *link_href,
                  const char *link_label);

/* A page (in Spanish, like every page) that says what the status means,
 * for a refusal that is not a handler's: a malformed request or query
 * (400), a method the path does not serve (405), a body too large (413),
 * an internal failure (500, 503). Returns status (see response_page()). */
int response_status_page(struct response *res, int status);

/* Appends s to b with &, <, >, " and ' escaped for HTML, and every byte
 * that is not part of a strict UTF-8 character replaced by '?'. 0 or -1. */
int html_escape(struct buf *b, const char *s)
        __attribute__((warn_unused_result));

/* The reason phrase of an HTTP status ("Not Found"); "Unknown" if none. */
const char *response_reason(int status);

/*
 * Writes the whole reply as a CGI response ("Status:" line, headers,
 * Content-Length, X-Request-Id, blank line, body) into out. With head_only
 * the body is left out but Content-Length still counts it. 0 or -1.
 */
int response_serialize(const struct response *res, const char *request_id,
                       int head_only, struct buf *out)
        __attribute__((warn_unused_result));

#endif
