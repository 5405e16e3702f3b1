/*
 * gcal - the Google Calendar v3 client (calendar-v3-discovery.json).
 *
 * Calls are made either with the read-only API key (the school's calendar
 * is public) or with the admin's OAuth access token; gcal_admin_*() get
 * the token from gtoken and, when Google answers 401, renew it once and try
 * once more. Errors are read from Google's JSON (HTTP status and
 * errors[0].reason, protocols.md §5.1); 403/429 rate limits, 5xx and
 * timeouts are retried by the HTTP client with backoff.
 */
#ifndef GCAL_H
#define GCAL_H

#include <stdint.h>

#include <json-c/json_object.h>

#include "core/limit.h"
#include "io/proc.h"

enum gcal_result {
	GCAL_OK = 0,
	GCAL_UNAUTHORIZED,  /* 401: the token or key was refused */
	GCAL_NOT_CONNECTED, /* no usable admin token (gcal_admin_*) */
	GCAL_NOT_FOUND,     /* 404 (also: a key on a private calendar) */
	GCAL_GONE,          /* 410: sync token stale, or event deleted */
	GCAL_CONFLICT,      /* 409: the event id exists */
	GCAL_REFUSED,       /* another 4xx: a bug or a bad key */
	GCAL_UNAVAILABLE,   /* 5xx, 429/403 rate limits after retries */
	GCAL_TIMEOUT,       /* no answer in time, or no connection */
	GCAL_DB_DOWN        /* the token could not be read (gcal_admin_*) */
};

/* How a call authenticates: exactly one of the two. Borrowed. */
struct gcal_auth {
	const char *api_key;
	const char *bearer;
};

/* events.list parameters. Times are seconds; 0 leaves them out. */
struct gcal_list {
	int64_t time_min;       /* exclusive bound on an event's end */
	int64_t time_max;       /* exclusive bound on an event's start */
	const char *sync_token; /* incremental sync (no time bounds then) */
	int single_events;      /* expand recurring events */
	int order_by_start;     /* orderBy=startTime (needs single_events) */
	int show_deleted;
	int max_attempts; /* tries per page; 0: the client's setting, 1 on a
	                     request path a stale copy can answer */
};

/* What events.list gave, every page followed. */
struct gcal_events {
	struct json_object *items; /* a JSON array (owned) */
	char *next_sync_token;     /* malloc'd, NULL when none */
};

/* Releases what *ev holds. */
void gcal_events_free(struct gcal_events *ev);

/*
 * events.list on calendar_id, following every nextPageToken (at most
 * GCAL_MAX_PAGES pages). On GCAL_OK *out holds the items of every page and
 * the last page's nextSyncToken; otherwise *out is untouched and err says
 * what Google answered (never a token or key).
 */
enum gcal_result
gcal_events_list(struct proc *proc, const struct gcal_auth *auth,
                 const char *calendar_id, const struct gcal_list *q,
                 struct gcal_events *out, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/* The same with the admin's token (renewed once on a 401). */
enum gcal_result
gcal_admin_events_list(struct proc *proc, const char *request_id,
                       const char *calendar_id, const struct gcal_list *q,
                       struct gcal_events *out, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/*
 * events.insert of event (a new JSON object, borrowed) with the admin's
 * token, conferenceDataVersion=1 and sendUpdates; the created event in *out
 * (a new object the caller puts). GCAL_CONFLICT when its id exists.
 */
enum gcal_result
gcal_event_insert(struct proc *proc, const char *request_id,
                  struct json_object *event, const char *send_updates,
                  struct json_object **out, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/* events.get of event_id with the admin's token; *out as above. */
enum gcal_result gcal_event_get(struct proc *proc, const char *request_id,
                                const char *event_id, struct json_object **out,
                                char *err, size_t errlen)
        __attribute__((warn_unused_result));

/* events.patch of event_id with changes (borrowed), conferenceDataVersion=1
 * and sendUpdates; the event in *out (may be NULL: not wanted). */
enum gcal_result
gcal_event_patch(struct proc *proc, const char *request_id,
                 const char *event_id, struct json_object *changes,
                 const char *send_updates, struct json_object **out, char *err,
                 size_t errlen) __attribute__((warn_unused_result));

/* events.delete of event_id; an event already deleted (410) or not found
 * (404) counts as done. */
enum gcal_result gcal_event_delete(struct proc *proc, const char *request_id,
                                   const char *event_id,
                                   const char *send_updates, char *err,
                                   size_t errlen)
        __attribute__((warn_unused_result));

/* What one small read of a calendar told (gcal_probe()). Never holds the
 * key or a token. */
struct gcal_probe {
	long status;        /* HTTP status; 0 when no answer came */
	char reason[64];    /* errors[0].reason (accessNotConfigured), "" */
	char project[32];   /* the Cloud project number Google named, "" */
	char message[512];  /* what Google answered, in English */
	char time_zone[64]; /* the calendar's own zone (events.list's
	                       timeZone), "" when not given */
	long long date;     /* the answer's Date header; -1 when none */
};

/*
 * events.list of calendar_id with maxResults=1 and no timeZone parameter,
 * one try: whether the credentials can read it, the calendar's own time
 * zone and Google's clock. The project comes from a 403
 * accessNotConfigured (ErrorInfo SERVICE_DISABLED's consumer, else the
 * activation link; protocols.md §11.2). Returns the call's result; *out is
 * always filled.
 */
enum gcal_result gcal_probe(struct proc *proc, const struct gcal_auth *auth,
                            const char *calendar_id, struct gcal_probe *out)
        __attribute__((warn_unused_result));

/*
 * events.get of event_id on GOOGLE_CALENDAR_ID with the given credentials,
 * one try; *out as gcal_event_get() (the caller puts it).
 */
enum gcal_result gcal_event_read(struct proc *proc,
                                 const struct gcal_auth *auth,
                                 const char *event_id, struct json_object **out,
                                 char *err, size_t errlen)
        __attribute__((warn_unused_result));

/* A push channel as Google answers it (protocols.md §10.1). */
struct gcal_channel {
	char id[LIMIT_PUSH_ID + 1];
	char resource_id[LIMIT_PUSH_RES_ID + 1];
	long long expiration_ms; /* Unix time in ms; 0 when Google gave none */
};

/*
 * Reads Google's Channel resource (obj borrowed) into *out: id,
 * resourceId and expiration, which the discovery document declares an
 * int64 (a JSON string) and which is also seen as a number; both are
 * read. 0, or -1 (*out untouched) when id or resourceId is missing,
 * empty, too long or not printable ASCII, or expiration is not a whole
 * non-negative number of milliseconds.
 */
int gcal_channel_parse(struct json_object *obj, struct gcal_channel *out)
        __attribute__((warn_unused_result));

/*
 * events.watch on GOOGLE_CALENDAR_ID with the admin's token: a "web_hook"
 * channel named id that delivers to address and echoes token in
 * X-Goog-Channel-Token, asking for ttl_s seconds (params.ttl). One try:
 * a channel id may not be reused. On GCAL_OK *out is what Google granted
 * (store its expiration, not the one asked for).
 */
enum gcal_result
gcal_events_watch(struct proc *proc, const char *request_id, const char *id,
                  const char *address, const char *token, long ttl_s,
                  struct gcal_channel *out, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/*
 * channels.stop of the channel (id, resource_id) with the admin's token.
 * A channel Google no longer knows (404) counts as stopped.
 */
enum gcal_result gcal_channel_stop(struct proc *proc, const char *request_id,
                                   const char *id, const char *resource_id,
                                   char *err, size_t errlen)
        __attribute__((warn_unused_result));

/* A short English name of r. */
const char *gcal_result_str(enum gcal_result r);

/* Pages of events.list: Google's default size keeps each answer well under
 * the HTTP client's cap even for events with long descriptions. */
#define GCAL_PAGE_SIZE "250"
#define GCAL_MAX_PAGES 400

#endif
