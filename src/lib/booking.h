/*
 * booking - a class as the bookings table keeps it, and its JSON shape
 * (DESIGN.md, BOOKING):
 *   {"id", "status", "start", "end", "timeZone", "classType",
 *    "participants", "studentEmail", "studentName", "eventId", "meetLink",
 *    "htmlLink", "paymentId", "holdExpiresAt", "lastError"}
 * with absent values null and times in the configured zone.
 */
#ifndef BOOKING_H
#define BOOKING_H

#include <json-c/json_object.h>

#include "app.h"

/* Whether s is a booking id: 32 lowercase hex digits. */
int booking_id_valid(const char *s);

/*
 * The booking id as JSON (a new object the caller puts) in *out. Returns
 * 0, 1 when there is no such booking, -1 when the database failed.
 */
int booking_load_json(struct app *app, const char *id, struct json_object **out)
        __attribute__((warn_unused_result));

/*
 * Answers {"booking": BOOKING} for id with status; 404 booking_not_found
 * when there is none (or id is not an id), 503 when the database fails.
 */
int booking_reply(struct app *app, struct request *req, struct response *res,
                  int status, const char *id);

/* GET /api/bookings/{id} (internal): {"booking": BOOKING}, or 404
 * booking_not_found. */
int booking_get(struct app *app, struct request *req, struct response *res);

#endif
