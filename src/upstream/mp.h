/*
 * mp - MercadoPago: the signature of webhook notifications and reading a
 * payment back (protocols.md §8).
 *
 * x-signature is "ts=<ts>,v1=<hex>"; v1 is HMAC-SHA256 with the webhook
 * secret over the manifest "id:<data.id,
 * lower-cased>;request-id:<x-request-id>; ts:<ts>;" where a part whose value is
 * absent is left out. ts is in milliseconds (ten digits are read as seconds).
 */
#ifndef MP_H
#define MP_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json_object.h>

#include "io/proc.h"

enum mp_sig {
	MP_SIG_OK = 0,
	MP_SIG_MISSING,   /* no x-signature header */
	MP_SIG_MALFORMED, /* not ts=digits,v1=64 hex */
	MP_SIG_MISMATCH,  /* the HMAC differs */
	MP_SIG_STALE      /* ts further from now than the tolerance */
};

/*
 * Parses an x-signature header: parts separated by ',', each split at the
 * first '=', spaces around them ignored, in any order; ts must be digits,
 * v1 64 hex digits (lower-cased into v1); other keys (v2...) are ignored.
 * 0, or -1 when ts or v1 is missing or malformed.
 */
int mp_signature_parse(const char *header, char *ts, size_t tslen, char v1[65])
        __attribute__((warn_unused_result));

/*
 * Writes the manifest for data_id (lower-cased; NULL or "" leaves the part
 * out), request_id and ts (likewise) into out. 0, or -1 when out is too
 * small.
 */
int mp_manifest(const char *data_id, const char *request_id, const char *ts,
                char *out, size_t outlen) __attribute__((warn_unused_result));

/*
 * Checks header against secret for data_id and request_id at time now
 * (seconds), allowing tolerance_s of difference: the HMAC compared in
 * constant time.
 */
enum mp_sig mp_signature_verify(const char *secret, const char *header,
                                const char *data_id, const char *request_id,
                                int64_t now, long tolerance_s);

/* A short English description of s. */
const char *mp_sig_str(enum mp_sig s);

enum mp_result {
	MP_OK = 0,
	MP_NOT_FOUND,   /* 404: unknown payment (the panel's made-up ids) */
	MP_REFUSED,     /* 401/403: the access token is refused */
	MP_UNAVAILABLE, /* 5xx, timeouts, an answer that is not JSON */
	MP_UNREADABLE   /* 200 and JSON, but not a JSON object we can read
	                   (malformed, nested past LIMIT_MP_JSON_DEPTH, not
	                   valid UTF-8): it will read the same next time */
};

/*
 * GET $MP_API_BASE/v1/payments/{id} with MP_ACCESS_TOKEN, at most
 * max_attempts tries (0: the client's; retries are on 5xx and timeouts,
 * with sleeps between them: a request path passes 1). On MP_OK *out is the
 * payment (a new object the caller puts); otherwise err says what
 * happened (never the token, nor the answer's text).
 */
enum mp_result mp_payment_get(struct proc *proc, const char *request_id,
                              const char *id, int max_attempts,
                              struct json_object **out, char *err,
                              size_t errlen)
        __attribute__((warn_unused_result));

/* Who MP_ACCESS_TOKEN belongs to (mp_user_me()). */
struct mp_user {
	long long id; /* 0 when not given */
	char nickname[128];
	char site_id[8]; /* MLA, MLB, ...; "" when not given */
	long status;     /* the HTTP status; 0 when no answer came */
};

/*
 * GET $MP_API_BASE/users/me with MP_ACCESS_TOKEN, one try (protocols.md
 * §12.1): whether MercadoPago accepts the token. MP_OK with *out filled;
 * MP_REFUSED on 401/403; MP_UNAVAILABLE otherwise, err saying why (never
 * the token). out->status is set whenever an answer came.
 */
enum mp_result mp_user_me(struct proc *proc, struct mp_user *out, char *err,
                          size_t errlen) __attribute__((warn_unused_result));

#endif
