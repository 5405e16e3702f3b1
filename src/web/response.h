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

/* Sets status and a JSON body (obj is borrowed). Returns status, or 500
 * after writing an error when the body cannot be built. */
int response_json(struct response *res, int status, struct json_object *obj);

/* Sets status and the error body with code and a printf-style message.
 * Returns status. The message must hold no secret. */
int response_error(struct response *res, int status, const char *code,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Sets status and a small HTML5 page: title and paragraphs are text and
 * are escaped; links is an optional "href" to offer as a button (escaped
 * too) with its label. Returns status. */
int response_page(struct response *res, int status, const char *title,
                  const char *paragraph, const char *link_href,
                  const char *link_label);

/* Appends s to b with &, <, >, " and ' escaped for HTML. 0 or -1. */
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
