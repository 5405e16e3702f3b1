/*
 * pushapi - Google's push notifications for the school's calendar
 * (POST /api/calendar/notifications, served by calendar_get; DESIGN.md
 * "Google push notifications"), checked by school/push.h and turned into
 * a stale availability cache (school/avail.h avail_mark_stale()).
 */
#ifndef PUSHAPI_H
#define PUSHAPI_H

#include "io/proc.h"
#include "web/request.h"
#include "web/response.h"

/*
 * POST /api/calendar/notifications. Reads only the X-Goog-* headers
 * (Google sends no body). 200 {"received": true, "result": "changed"} for
 * a change on the live channel (the next availability read refreshes),
 * 200 with "sync" for a channel's first message; 401 unauthorized for
 * anything else (no such channel, another resource, a wrong or missing
 * token, CALENDAR_PUSH_URL unset), with nothing changed; 400 for a
 * resource state Google never sends; 503 when the database fails (Google
 * tries again).
 */
int pushapi_notification(struct proc *proc, struct request *req,
                         struct response *res);

#endif
