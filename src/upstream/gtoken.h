/*
 * gtoken - the admin's Google tokens: kept sealed in the admin's users row
 * (AES-256-GCM under TOKEN_ENCRYPTION_KEY), and "give me a valid access
 * token" for every Google call that needs the admin's authority.
 *
 * An access token is reused until GTOKEN_MARGIN_S before it expires, and
 * shared by every process and host through MySQL. When it must be renewed,
 * one process takes a short lease on the row and calls Google's token
 * endpoint; the others wait for its result instead of calling too.
 * Google's invalid_grant (the admin revoked the proc, or the grant expired)
 * marks the connection broken: calendar calls then answer 503
 * calendar_not_connected until the admin signs in again.
 */
#ifndef GTOKEN_H
#define GTOKEN_H

#include <stdint.h>

#include "io/db.h"
#include "io/proc.h"

#define GTOKEN_MARGIN_S 60   /* renew this long before expiry */
#define GTOKEN_LEASE_S  15   /* one process's right to renew */
#define GTOKEN_WAIT_MS  8000 /* longest wait for another process's renewal */

enum gtoken_result {
	GTOKEN_OK = 0,
	GTOKEN_NOT_CONNECTED, /* never connected, or invalid_grant */
	GTOKEN_DB_DOWN,       /* the database could not be read or written */
	GTOKEN_UPSTREAM       /* Google's token endpoint failed: try later */
};

/* A usable access token. */
struct gtoken {
	char *access;       /* malloc'd; release with gtoken_clear() */
	int64_t expires_at; /* as stored, to recognise it in gtoken_refused() */
};

/*
 * A valid access token for the admin in *out (released by the caller with
 * gtoken_clear()), renewing it when needed. request_id is for the log.
 * On failure *out is untouched and the reason is logged.
 */
enum gtoken_result gtoken_get(struct proc *proc, const char *request_id,
                              struct gtoken *out)
        __attribute__((warn_unused_result));

/*
 * Google refused tok (a 401): marks it stale, unless another process has
 * already replaced it, so the next gtoken_get() renews it.
 */
void gtoken_refused(struct proc *proc, const struct gtoken *tok);

/* Wipes and frees the token. */
void gtoken_clear(struct gtoken *tok);

/*
 * Stores a new connection for email (lower-cased): role admin, Google's
 * sub, the refresh and access tokens (sealed), the access token's lifetime
 * and the granted scopes; the connection is then "ok". 0, or -1 (logged).
 */
int gtoken_connect(struct proc *proc, const char *request_id, const char *email,
                   const char *sub, const char *refresh_token,
                   const char *access_token, long expires_in,
                   const char *scopes) __attribute__((warn_unused_result));

/* 1 when a refresh token is stored and not revoked, 0 when not, -1 when
 * the database failed. */
int gtoken_connected(struct db *db) __attribute__((warn_unused_result));

/* The admin's connection as /oauth/google/status shows it. Times are
 * DATETIME strings (UTC), "" when never. */
struct gtoken_status {
	int stored;    /* a refresh token is stored (else nothing below) */
	int connected; /* and it was not revoked */
	char email[256];
	char connected_at[32];
	char scopes[1024]; /* space-separated, "" when unknown */
	int has_scopes;
	char refreshed_at[32];
	char refresh_error[512]; /* "" when none */
	int has_refresh_error;
};

/* Reads the latest connection into *out. 0, or -1 when the database
 * failed. */
int gtoken_status(struct db *db, struct gtoken_status *out)
        __attribute__((warn_unused_result));

/* What gtoken_probe() learned. Never holds a token or the secret. */
struct gtoken_probe {
	long status;       /* the token endpoint's HTTP status; 0: none */
	char error[64];    /* its "error" (invalid_grant, ...); "" when none */
	char message[512]; /* what happened, in English */
	long long date;    /* its Date header (epoch seconds); -1 when none */
};

/*
 * Tests the stored grant and changes nothing: opens the admin's refresh
 * token and asks Google's token endpoint, once, for an access token, which
 * goes to *tok (the caller clears it with gtoken_clear()) and is NOT
 * stored, nor is the outcome: the doctor only reads. GTOKEN_OK;
 * GTOKEN_NOT_CONNECTED when no token is stored, it cannot be opened with
 * TOKEN_ENCRYPTION_KEY, or Google answers invalid_grant; GTOKEN_UPSTREAM
 * when the endpoint refused the client (p->error says so) or did not
 * answer; GTOKEN_DB_DOWN. *p is always filled.
 */
enum gtoken_result gtoken_probe(struct proc *proc, struct gtoken *tok,
                                struct gtoken_probe *p)
        __attribute__((warn_unused_result));

/* The message of the 503 calendar_not_connected answer. */
#define GTOKEN_NOT_CONNECTED_MESSAGE                                           \
	"The school's Google Calendar is not connected: the admin must sign "  \
	"in again at /oauth/google/start."

#endif
