/*
 * goauth - Google's OAuth 2.0 web-server flow as a client (RFC 6749 §4.1
 * with PKCE, RFC 7636; protocols.md §6): the consent URL, the exchange of
 * an authorization code at the token endpoint, and OIDC userinfo. It knows
 * no page and no school rule: which account may connect is the school's
 * (school/connect.h), what the browser sees is the web layer's.
 */
#ifndef GOAUTH_H
#define GOAUTH_H

#include <json-c/json_object.h>

#include "core/buf.h"
#include "io/proc.h"
#include "upstream/oidc.h"

enum goauth_result {
	GOAUTH_OK = 0,
	GOAUTH_NOMEM,       /* the request could not be built */
	GOAUTH_UNAVAILABLE, /* no answer, or a 5xx */
	GOAUTH_REFUSED,     /* a 4xx: the code, the client or the secret */
	GOAUTH_BAD_ANSWER   /* 200 without an access token */
};

/* Google's token answer for an authorization code. Strings borrow from
 * body. */
struct goauth_grant {
	struct json_object *body; /* owned: goauth_grant_free() */
	const char *access_token, *refresh_token, *id_token, *scope;
	long expires_in;
	const char *error; /* with GOAUTH_REFUSED: Google's error, or NULL */
};

/*
 * Appends to url Google's consent URL (GOOGLE_OAUTH_AUTH_URL) for the
 * client AUTH_GOOGLE_ID and AUTH_GOOGLE_REDIRECT_URI with scopes, prompt
 * ("consent" or "select_account"), access_type offline when offline,
 * login_hint ADMIN_EMAIL, state and the S256 PKCE challenge. 0, or -1 when
 * out of memory.
 */
int goauth_consent_url(const struct config *cfg, const char *scopes,
                       const char *prompt, int offline, const char *state,
                       const char *challenge, struct buf *url)
        __attribute__((warn_unused_result));

/*
 * POSTs code and the PKCE verifier to the token endpoint (never repeated:
 * a code works once). On GOAUTH_OK *g holds the answer; on GOAUTH_REFUSED
 * g->error too (release both with goauth_grant_free()). Logged.
 */
enum goauth_result goauth_exchange(struct proc *proc, const char *request_id,
                                   const char *code, const char *verifier,
                                   struct goauth_grant *g)
        __attribute__((warn_unused_result));

/* Releases what *g holds. */
void goauth_grant_free(struct goauth_grant *g);

/* The account from Google's OIDC userinfo endpoint into *c. 0, or -1
 * (logged). */
int goauth_userinfo(struct proc *proc, const char *request_id,
                    const char *access, struct oidc_claims *c)
        __attribute__((warn_unused_result));

/* Whether the space-separated scopes include want. */
int goauth_has_scope(const char *scopes, const char *want);

#endif
