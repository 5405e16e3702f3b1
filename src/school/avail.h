/*
 * avail - the school's busy times, from a cache in MySQL shared by every
 * process and host, refreshed from Google Calendar at most once per
 * CALENDAR_CACHE_TTL_S however many requests arrive.
 *
 * The cache is the table calendar_events (every event of the calendar
 * within a horizon of GOOGLE_HORIZON_PAST_S before and
 * GOOGLE_HORIZON_FUTURE_S after the last full sync) and one row of
 * calendar_sync per calendar (the sync token, a version bumped by every
 * refresh (microseconds of the refresh, so a version is never reused even
 * if the table is emptied), when it last succeeded and was last tried, who
 * refreshes now). A refresh is incremental (events.list with the syncToken),
 * and a full sync when there is no token, Google answers 410, or the horizon
 * runs short. The process that takes the lease on the sync row refreshes; the
 * others serve the copy they have. While Google fails, the last copy is
 * served (X-Cache: STALE) until CALENDAR_MAX_STALE_S after the last
 * success; after that the read endpoints answer 503.
 *
 * Each process keeps the current version in memory and serves it without
 * a database round trip while it is fresh.
 *
 * Push notifications (school/push.c): a change Google notifies marks the
 * cache stale (avail_mark_stale(): calendar_sync.notifiedAt), and the next
 * read refreshes at once, whatever the TTL; at most one refresh begins per
 * AVAIL_PUSH_GAP_SQL however many notifications arrive, and one that
 * arrives while a refresh runs makes another. With CALENDAR_PUSH_URL set,
 * a process reads the sync row again when its copy was checked more than
 * AVAIL_PUSH_RECHECK_MS ago, so a notification shows within a second.
 * Without it nothing of this runs.
 */
#ifndef AVAIL_H
#define AVAIL_H

#include <stdint.h>

#include "io/db.h"
#include "io/proc.h"
#include "core/tz.h"

#define AVAIL_HORIZON_PAST_S   (7 * 86400LL)
#define AVAIL_HORIZON_FUTURE_S (400 * 86400LL)
#define AVAIL_LEASE_S          30
#define AVAIL_PUSH_RECHECK_MS  200
/* Between the refreshes notifications cause. */
#define AVAIL_PUSH_GAP_SQL "1 SECOND"
#define AVAIL_WAIT_MS                                                          \
	5000 /* a first request waits this long for                            \
	        another process's first refresh */

/* A busy interval [start, end) in seconds, sorted by start, with both
 * instants already written in the zone (the conversion is most of the
 * cost of a reply otherwise). */
struct avail_event {
	int64_t start;
	int64_t end;
	int tentative; /* status "tentative" rather than "confirmed" */
	char start_iso[TZ_ISO_MAX];
	char end_iso[TZ_ISO_MAX];
};

/* One version of the busy times, as this process holds it. */
struct avail_copy {
	struct avail_event *events;
	size_t n;
	uint64_t version;
	int64_t last_success; /* when Google last answered (seconds) */
	int64_t horizon_start;
	int64_t horizon_end;
};

enum avail_state {
	AVAIL_HIT,   /* fresh, served from the cache */
	AVAIL_MISS,  /* this request refreshed it from Google */
	AVAIL_STALE, /* older than the TTL: Google is failing or slow */
	AVAIL_DOWN   /* nothing usable: 503 (reason in *why) */
};

/*
 * The span a public read may ask about, around now: from 7 days ago to 367
 * days ahead (a 366-day window plus the rest of a local day). It lies
 * inside the cached horizon, which a full sync renews before it runs short,
 * so no public read ever costs a Google call of its own.
 */
#define AVAIL_READ_PAST_S  AVAIL_HORIZON_PAST_S
#define AVAIL_READ_AHEAD_S (367 * 86400LL)

/* 1 when [from, to) lies within the span above around now, else 0. */
int avail_window_ok(int64_t now, int64_t from, int64_t to);

/*
 * The busy times for a window [from, to): *copy is borrowed (valid until
 * the next call), *age the seconds since Google last answered. A window
 * outside the cached horizon is never asked of Google: it is AVAIL_DOWN
 * (check avail_window_ok() first). A refresh made here tries Google once,
 * without sleeping: a stale copy or a quick 503 answers. On AVAIL_DOWN,
 * *why says whether the calendar is not connected or Google or the
 * database failed, as a gcal_result for gcal_respond_error().
 */
enum avail_state avail_get(struct proc *proc, const char *request_id,
                           int64_t from, int64_t to,
                           const struct avail_copy **copy, int64_t *age,
                           int *why) __attribute__((warn_unused_result));

/*
 * The last availability reply this process built, kept for the next
 * request with the same query on the same version: most visitors ask for
 * the same window, and then the reply is a copy. Owned by the process's
 * cache (avail_release() empties it).
 */
struct avail_memo {
	char *query;      /* the raw query string, malloc'd; NULL: empty memo */
	uint64_t version; /* of the copy the body was built from */
	int64_t from, to; /* the window the query means */
	char *body;       /* malloc'd */
	size_t len;
	char etag[72];
};

/* The process's memo (never NULL). */
struct avail_memo *avail_memo(void);

/* Frees the process's copies and memo (at exit; the next avail_get()
 * starts again from the database). */
void avail_release(void);

/* Whether the busy interval [start, end) shows in the window [from, to):
 * events that cross an edge do; events that only touch one do not. */
int avail_overlaps(int64_t start, int64_t end, int64_t from, int64_t to);

/* 1 when the cache's last refresh failed after its last success (the
 * copy is going stale), 0 when not, -1 when the database failed. */
int avail_failing(struct db *db) __attribute__((warn_unused_result));

/* Seconds since the cache of calendar_id was last refreshed from Google
 * into *age, -1 when never. 0, or -1 when the database failed. */
int avail_sync_age(struct db *db, const char *calendar_id, long long *age)
        __attribute__((warn_unused_result));

/* Marks the cache of calendar_id stale after a push notification: the
 * next read refreshes (see above). 0, or -1 when the database failed. */
int avail_mark_stale(struct db *db, const char *calendar_id)
        __attribute__((warn_unused_result));

/* The X-Cache header value of a state. */
const char *avail_state_str(enum avail_state s);

#endif
