/*
 * connect - the school's rules for connecting its Google account: the
 * single-use states of the sign-in (the oauth_states table: only the
 * state's SHA-256 is stored, with the browser cookie's SHA-256 and the
 * PKCE verifier sealed under TOKEN_ENCRYPTION_KEY, for
 * CONNECT_STATE_TTL_S), and which account may connect (a verified email
 * equal to ADMIN_EMAIL, case folded).
 *
 * Anyone may start a sign-in, so the table is bounded: at most
 * LIMIT_OAUTH_STATES rows, expired ones deleted as new ones come.
 */
#ifndef CONNECT_H
#define CONNECT_H

#include <stddef.h>

#include "core/crypto.h"
#include "io/proc.h"
#include "upstream/oidc.h"

#define CONNECT_STATE_TTL_S 600

enum connect_state {
	CONNECT_STATE_OK = 0,
	CONNECT_STATE_UNKNOWN,       /* no such state */
	CONNECT_STATE_USED,          /* already consumed */
	CONNECT_STATE_EXPIRED,       /* older than the TTL */
	CONNECT_STATE_OTHER_BROWSER, /* the cookie does not match */
	CONNECT_STATE_UNREADABLE,    /* the verifier cannot be opened */
	CONNECT_STATE_NOMEM,
	CONNECT_STATE_DB_DOWN,
	CONNECT_STATE_BUSY /* LIMIT_OAUTH_STATES sign-ins in flight */
};

/*
 * Stores a new state for the browser holding cookie, with the PKCE
 * verifier (sealed), after deleting expired states (at most
 * LIMIT_OAUTH_STATES of them). When LIMIT_OAUTH_STATES states remain,
 * nothing is stored: CONNECT_STATE_BUSY. Concurrent calls take turns (a
 * locking count in one transaction), so the table never holds more.
 * CONNECT_STATE_OK, CONNECT_STATE_BUSY, CONNECT_STATE_NOMEM or
 * CONNECT_STATE_DB_DOWN (logged).
 */
enum connect_state connect_state_new(struct proc *proc, const char *request_id,
                                     const char *state, const char *cookie,
                                     const char *verifier)
        __attribute__((warn_unused_result));

/*
 * Checks state against the browser's cookie ("" when it has none) and
 * consumes it, once, also against a concurrent second callback. On
 * CONNECT_STATE_OK *verifier is the PKCE verifier (malloc'd; the caller
 * frees it with crypto_free_secret()).
 */
enum connect_state connect_state_take(struct proc *proc, const char *request_id,
                                      const char *state, const char *cookie,
                                      char **verifier)
        __attribute__((warn_unused_result));

/* Whether the account in c may connect the school's calendar or sign in
 * to the console: a verified email equal to ADMIN_EMAIL, case folded. */
int connect_is_admin(const struct config *cfg, const struct oidc_claims *c);

/* ---- the console's sign-in (its states carry flow "signin") ---- */

enum connect_flow {
	CONNECT_FLOW_UNKNOWN = 0, /* no such state, or the database failed */
	CONNECT_FLOW_CONNECT,     /* /oauth/google/start */
	CONNECT_FLOW_SIGNIN       /* /admin/login */
};

/* What a new connection or sign-in hands Google and the browser. */
struct connect_start {
	char state[65];  /* Google's state parameter */
	char cookie[65]; /* the browser's cookie, which binds the state */
	char challenge[CRYPTO_PKCE_CHALLENGE_LEN + 1]; /* PKCE S256 */
};

/*
 * Mints a state, the browser's cookie and a PKCE verifier (kept, sealed,
 * with the state; never in *out) and stores them as connect_state_new() or,
 * for CONNECT_FLOW_SIGNIN, connect_signin_new() does. Same results, with
 * *out filled on CONNECT_STATE_OK.
 */
enum connect_state connect_begin(struct proc *proc, const char *request_id,
                                 enum connect_flow flow,
                                 struct connect_start *out)
        __attribute__((warn_unused_result));

/*
 * connect_state_new() for a sign-in to the admin console: the state is
 * marked flow "signin", so that the callback hands it to the console and
 * never keeps a calendar token for it. Same results.
 */
enum connect_state connect_signin_new(struct proc *proc, const char *request_id,
                                      const char *state, const char *cookie,
                                      const char *verifier)
        __attribute__((warn_unused_result));

/* Which flow state (as the callback received it) belongs to; reads only. */
enum connect_flow connect_state_flow(struct proc *proc, const char *state);

#endif
