/*
 * reply - the replies several handlers share: the contract's errors for a
 * failed calendar call, a database that does not answer and a refused
 * body, {"booking": BOOKING}, and the acknowledgement of a notification.
 */
#ifndef REPLY_H
#define REPLY_H

#include <json-c/json_object.h>

#include "io/proc.h"
#include "upstream/gcal.h"
#include "web/request.h"
#include "web/response.h"

/*
 * Writes the contract's error for a failed calendar call into res and
 * returns its status: 503 calendar_not_connected, 503 calendar_unavailable,
 * 503 database_unavailable (the admin's token could not be read), 504
 * calendar_timeout, 502 calendar_error.
 */
int reply_calendar_error(struct response *res, enum gcal_result r);

/* 503 database_unavailable. */
int reply_db_unavailable(struct response *res);

/* 503 database_unavailable, after logging why (db_error) with what. */
int reply_db_down(struct proc *proc, struct request *req, struct response *res,
                  const char *what);

/* The error for a body request_json_body() refused with status: 413
 * body_too_large, 415 unsupported_media_type, else invalid_json. */
int reply_body_error(struct response *res, int status, const char *err);

/*
 * Answers {"booking": BOOKING} for id with status; 404 booking_not_found
 * when there is none (or id is not an id), 503 when the database fails.
 */
int reply_booking(struct proc *proc, struct request *req, struct response *res,
                  int status, const char *id);

/*
 * 200 {"received": true, "result": result} for a notification taken (a
 * payment's, the calendar's); with key, also key: value (null when value
 * is NULL).
 */
int reply_received(struct response *res, const char *result, const char *key,
                   const char *value);

/*
 * Answers {key: obj} with status. obj (a new object) is taken, also on
 * failure (500 internal_error).
 */
int reply_wrapped(struct response *res, int status, const char *key,
                  struct json_object *obj);

#endif
