/*
 * log - one line per request, and warnings, on standard error.
 *
 * A request line reads
 *   2026-12-01T18:00:00Z calendar_get[4242] req=3f2a... GET /api/health 200 4ms
 * upstream=0 Only the path is written, never the query string (an OAuth
 * callback's code and state travel there) nor a header or a body, so no secret
 * reaches the log through it. Warnings carry the request id when there is one.
 * Callers never pass a secret to log_warn(); bytes outside printable ASCII
 * are written as \xNN so a crafted path cannot forge a line.
 */
#ifndef LOG_H
#define LOG_H

/* Names the program in every line. program is borrowed for the process. */
void log_init(const char *program);

/* The request line: method, path (without the query), status, duration in
 * milliseconds and the number of upstream HTTP calls it made. */
void log_request(const char *request_id, const char *method, const char *path,
                 int status, long ms, unsigned upstream);

/* A warning for the operator. request_id may be NULL. */
void log_warn(const char *request_id, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* A notable event for the operator (a booking recorded, a calendar
 * connected). request_id may be NULL. */
void log_info(const char *request_id, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* A start-up or fatal message, without a request. */
void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
