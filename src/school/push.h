/*
 * push - Google push notifications on the school's calendar (DESIGN.md
 * "Google push notifications"; protocols.md §10): the channels
 * events.watch opened (the tables push_channels and push_lease), kept by
 * reconcile, and the check of each notification Google sends.
 *
 * With CALENDAR_PUSH_URL set, push_maintain() opens a channel when there is
 * none, renews it before it expires (the new one opened first, then
 * channels.stop said for the old) and stops every channel when the
 * variable is removed. Each channel has its own random token (OpenSSL);
 * only its SHA-256 is stored, and a notification's X-Goog-Channel-Token is
 * compared with it in constant time. No token is ever logged or answered.
 */
#ifndef PUSH_H
#define PUSH_H

#include <stdint.h>

#include "io/db.h"
#include "io/proc.h"

#define PUSH_TTL_S          (7 * 86400L) /* the lifetime asked of Google */
#define PUSH_RENEW_BEFORE_S 86400L /* renewed this long before it ends... */
/* ...or halfway through, when Google granted a shorter life. */
#define PUSH_LEASE_S   120 /* one run's hold on the calendar's channels */
#define PUSH_OPENING_S 120 /* a channel whose watch never answered: gone */

/* A notification's headers (borrowed; NULL when absent). */
struct push_notice {
	const char *channel_id;     /* X-Goog-Channel-ID */
	const char *resource_id;    /* X-Goog-Resource-ID */
	const char *token;          /* X-Goog-Channel-Token */
	const char *state;          /* X-Goog-Resource-State */
	const char *message_number; /* X-Goog-Message-Number */
};

enum push_verdict {
	PUSH_CHANGED = 0, /* the live channel says the calendar changed */
	PUSH_SYNC,        /* the channel's first message: nothing to do */
	PUSH_FORGED,      /* no channel of ours, or a wrong resource or token */
	PUSH_BAD_STATE,   /* ours, but a resource state Google never sends */
	PUSH_DB_DOWN
};

/*
 * Checks a notification against the channels of GOOGLE_CALENDAR_ID. A
 * change (resource state "exists" or "not_exists") needs a live, unexpired
 * channel with that id, its resource id and its token; "sync" needs the
 * channel's id and token, and its resource id once Google gave it (the
 * sync message may come before events.watch answers). A change is
 * recorded on the channel (when, and its message number). Nothing is
 * written for any other verdict.
 */
enum push_verdict push_check(struct proc *proc, const char *request_id,
                             const struct push_notice *n)
        __attribute__((warn_unused_result));

/* What one push_maintain() did. */
enum push_outcome {
	PUSH_OFF = 0,  /* CALENDAR_PUSH_URL unset and no channel left */
	PUSH_KEPT,     /* the live channel has time left: nothing to do */
	PUSH_OPENED,   /* there was none: one is live now */
	PUSH_RENEWED,  /* a new one is live and the old one stopped */
	PUSH_STOPPED,  /* the variable is unset: every channel stopped */
	PUSH_BUSY,     /* another run is on it */
	PUSH_FAILED,   /* Google refused or failed (why in the log): polling
	                  goes on, the next run tries again */
	PUSH_DB_FAILED /* the database failed */
};

/*
 * The job reconcile runs: see above. Channels of another calendar or
 * address, and channels a previous run could not stop, are stopped too.
 * Returns what happened; never fails the caller's run (a Google failure is
 * PUSH_FAILED, logged).
 */
enum push_outcome push_maintain(struct proc *proc, const char *request_id);

/* A short English name of o. */
const char *push_outcome_str(enum push_outcome o);

/* Whether a channel is live for calendar_id. */
struct push_status {
	int live;                /* 1 when a channel is live now */
	int64_t expires_at;      /* of the live channel (Unix s), else 0 */
	int64_t last_message_at; /* its last change notification, 0 none */
};

/* Fills *out. 0, or -1 when the database failed (*out untouched). */
int push_status(struct db *db, const char *calendar_id, struct push_status *out)
        __attribute__((warn_unused_result));

/*
 * The SHA-256 of a channel token as stored (64 lowercase hex digits and a
 * NUL in out). Exposed for the tests.
 */
void push_token_hash(const char *token, char out[65]);

#endif
