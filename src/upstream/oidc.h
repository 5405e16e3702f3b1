/*
 * oidc - the claims of a Google ID token, for the admin's sign-in.
 *
 * The ID token arrives in the answer of Google's token endpoint, straight
 * from Google over TLS, so its signature need not be checked (OpenID
 * Connect Core 1.0 §3.1.3.7, item 6); its claims still are: the issuer is
 * Google, the audience is our client, it has not expired. Only the payload
 * is decoded (RFC 7519 §7.2: base64url JSON).
 */
#ifndef OIDC_H
#define OIDC_H

#include <stdint.h>

#define OIDC_SKEW_S 300 /* clock skew allowed on exp, as Google's client */
/* The latest time claim (exp, iat) taken: 9999-12-31T23:59:59Z. Larger,
 * or negative, is a malformed token. */
#define OIDC_TIME_MAX 253402300799LL

struct oidc_claims {
	char sub[256];
	char email[255]; /* "" when the token carries none */
	int email_verified;
	int64_t exp;
};

enum oidc_result {
	OIDC_OK = 0,
	OIDC_MALFORMED,    /* not three base64url parts with a JSON payload,
	                      or a claim missing or out of range (sub, exp,
	                      iat) */
	OIDC_BAD_ISSUER,   /* iss is not accounts.google.com */
	OIDC_BAD_AUDIENCE, /* aud (or azp) is not our client id */
	OIDC_EXPIRED       /* exp is over (beyond the skew) */
};

/*
 * Reads the claims of jwt for client_id at time now (seconds). On OIDC_OK
 * *out holds sub, email (possibly "") and email_verified; otherwise *out is
 * untouched.
 */
enum oidc_result oidc_id_token_claims(const char *jwt, const char *client_id,
                                      int64_t now, struct oidc_claims *out)
        __attribute__((warn_unused_result));

/* A short English description of r, for logs and pages. */
const char *oidc_result_str(enum oidc_result r);

#endif
