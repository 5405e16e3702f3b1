#include "upstream/oidc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json_object.h>

#include "core/crypto.h"
#include "core/jsonio.h"

const char *oidc_result_str(enum oidc_result r)
{
	switch (r) {
	case OIDC_OK:
		return "ok";
	case OIDC_MALFORMED:
		return "the ID token is malformed";
	case OIDC_BAD_ISSUER:
		return "the ID token was not issued by Google";
	case OIDC_BAD_AUDIENCE:
		return "the ID token is meant for another application";
	case OIDC_EXPIRED:
		return "the ID token has expired";
	}
	return "the ID token is not valid";
}

/* Decodes one base64url part of n bytes into a JSON object (a new
 * reference), or NULL. */
static struct json_object *decode_part(const char *s, size_t n)
{
	unsigned char *raw = NULL;
	struct json_object *obj;
	size_t len;
	char err[128];

	if (n == 0 || crypto_base64url_decode(s, n, &raw, &len) != 0)
		return NULL;
	obj = jsonio_parse((const char *)raw, len, 8, err, sizeof(err));
	free(raw);
	if (obj != NULL && !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

static int audience_ok(struct json_object *payload, const char *client_id)
{
	struct json_object *aud;
	const char *azp;
	size_t i, n;
	int found = 0;

	if (!json_object_object_get_ex(payload, "aud", &aud))
		return 0;
	if (json_object_is_type(aud, json_type_string))
		return strcmp(json_object_get_string(aud), client_id) == 0;
	if (!json_object_is_type(aud, json_type_array))
		return 0;
	/* Several audiences: ours must be one, and the authorized party
	 * must be us (OpenID Connect Core §3.1.3.7, items 3-5). */
	n = json_object_array_length(aud);
	for (i = 0; i < n; i++) {
		struct json_object *a = json_object_array_get_idx(aud, i);

		if (json_object_is_type(a, json_type_string) &&
		    strcmp(json_object_get_string(a), client_id) == 0)
			found = 1;
	}
	azp = jsonio_string(payload, "azp");
	return found && azp != NULL && strcmp(azp, client_id) == 0;
}

/*
 * The time claim key (NumericDate, RFC 7519 §2: seconds since the epoch)
 * into *out: an integer in [0, OIDC_TIME_MAX], so that no arithmetic on it
 * can overflow. 1 when present and in range, 0 when absent, -1 when
 * present and not such a number (a string, a fraction, a number past
 * INT64_MAX that json-c clamps, a negative one).
 */
static int time_claim(struct json_object *payload, const char *key,
                      int64_t *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(payload, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return -1;
	*out = json_object_get_int64(v);
	return *out >= 0 && *out <= OIDC_TIME_MAX ? 1 : -1;
}

enum oidc_result oidc_id_token_claims(const char *jwt, const char *client_id,
                                      int64_t now, struct oidc_claims *out)
{
	struct json_object *header = NULL, *payload = NULL, *v;
	enum oidc_result r = OIDC_MALFORMED;
	const char *dot1, *dot2, *s;
	struct oidc_claims c;
	int64_t iat;

	memset(&c, 0, sizeof(c));
	dot1 = strchr(jwt, '.');
	dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	if (dot2 == NULL || strchr(dot2 + 1, '.') != NULL)
		goto out;
	header = decode_part(jwt, (size_t)(dot1 - jwt));
	payload = decode_part(dot1 + 1, (size_t)(dot2 - dot1 - 1));
	if (header == NULL || payload == NULL)
		goto out;

	s = jsonio_string(payload, "iss");
	if (s == NULL || (strcmp(s, "https://accounts.google.com") != 0 &&
	                  strcmp(s, "accounts.google.com") != 0)) {
		r = OIDC_BAD_ISSUER;
		goto out;
	}
	if (!audience_ok(payload, client_id)) {
		r = OIDC_BAD_AUDIENCE;
		goto out;
	}
	/* exp is required, iat optional: both checked for range before any
	 * sum (an exp near INT64_MAX plus the skew would overflow). */
	if (time_claim(payload, "exp", &c.exp) != 1 ||
	    time_claim(payload, "iat", &iat) < 0)
		goto out;
	if (now < INT64_MIN + OIDC_SKEW_S || c.exp < now - OIDC_SKEW_S) {
		r = OIDC_EXPIRED;
		goto out;
	}
	s = jsonio_string(payload, "sub");
	if (s == NULL || *s == '\0' || strlen(s) >= sizeof(c.sub))
		goto out;
	memcpy(c.sub, s, strlen(s) + 1);
	s = jsonio_string(payload, "email");
	if (s != NULL) {
		if (strlen(s) >= sizeof(c.email))
			goto out;
		memcpy(c.email, s, strlen(s) + 1);
	}
	/* A boolean, or (seen from some Google endpoints) the string. */
	if (json_object_object_get_ex(payload, "email_verified", &v))
		c.email_verified =
		        json_object_is_type(v, json_type_boolean)
		                ? json_object_get_boolean(v)
		                : (json_object_is_type(v, json_type_string) &&
		                   strcmp(json_object_get_string(v), "true") ==
		                           0);
	*out = c;
	r = OIDC_OK;
out:
	json_object_put(header);
	json_object_put(payload);
	return r;
}
