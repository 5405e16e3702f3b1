/* The claims of a Google ID token: decoding and the checks on them. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/crypto.h"
#include "upstream/oidc.h"

#define CLIENT "sim-client-id.apps.googleusercontent.com"
#define NOW    1800000000LL

/* A JWT with the given header and payload JSON and a dummy signature. */
static char *jwt(const char *header, const char *payload)
{
	char *h = crypto_base64url_encode(header, strlen(header));
	char *p = crypto_base64url_encode(payload, strlen(payload));
	size_t n = strlen(h) + strlen(p) + 16;
	char *out = malloc(n);

	snprintf(out, n, "%s.%s.c2lnbmF0dXJl", h, p);
	free(h);
	free(p);
	return out;
}

static enum oidc_result claims_of(const char *payload, struct oidc_claims *c)
{
	char *t = jwt("{\"alg\":\"RS256\",\"kid\":\"k\",\"typ\":\"JWT\"}",
	              payload);
	enum oidc_result r = oidc_id_token_claims(t, CLIENT, NOW, c);

	free(t);
	return r;
}

TEST(google_token_is_read)
{
	struct oidc_claims c;

	CHECK_INT(claims_of("{\"iss\":\"https://accounts.google.com\","
	                    "\"azp\":\"" CLIENT "\",\"aud\":\"" CLIENT "\","
	                    "\"sub\":\"100000000000000000001\","
	                    "\"email\":\"Admin@School.test\","
	                    "\"email_verified\":true,\"iat\":1799999000,"
	                    "\"exp\":1800003600}",
	                    &c),
	          OIDC_OK);
	CHECK_STR(c.sub, "100000000000000000001");
	CHECK_STR(c.email, "Admin@School.test");
	CHECK_INT(c.email_verified, 1);
	CHECK_INT(c.exp, 1800003600LL);
}

TEST(issuer_without_scheme_is_google_too)
{
	struct oidc_claims c;

	CHECK_INT(claims_of("{\"iss\":\"accounts.google.com\",\"aud\":\"" CLIENT
	                    "\",\"sub\":\"1\",\"exp\":1800003600}",
	                    &c),
	          OIDC_OK);
	CHECK_STR(c.email, "");
	CHECK_INT(c.email_verified, 0);
}

TEST(email_verified_as_a_string)
{
	struct oidc_claims c;

	CHECK_INT(
	        claims_of("{\"iss\":\"accounts.google.com\",\"aud\":\"" CLIENT
	                  "\",\"sub\":\"1\",\"exp\":1800003600,"
	                  "\"email\":\"a@b.test\",\"email_verified\":\"true\"}",
	                  &c),
	        OIDC_OK);
	CHECK_INT(c.email_verified, 1);
	CHECK_INT(claims_of("{\"iss\":\"accounts.google.com\",\"aud\":\"" CLIENT
	                    "\",\"sub\":\"1\",\"exp\":1800003600,"
	                    "\"email\":\"a@b.test\",\"email_verified\":false}",
	                    &c),
	          OIDC_OK);
	CHECK_INT(c.email_verified, 0);
}

TEST(other_issuers_are_refused)
{
	struct oidc_claims c;

	CHECK_INT(
	        claims_of("{\"iss\":\"https://evil.example\",\"aud\":\"" CLIENT
	                  "\",\"sub\":\"1\",\"exp\":1800003600}",
	                  &c),
	        OIDC_BAD_ISSUER);
	CHECK_INT(claims_of("{\"iss\":\"https://accounts.google.com.evil\","
	                    "\"aud\":\"" CLIENT "\",\"sub\":\"1\","
	                    "\"exp\":1800003600}",
	                    &c),
	          OIDC_BAD_ISSUER);
	CHECK_INT(claims_of("{\"aud\":\"" CLIENT
	                    "\",\"sub\":\"1\",\"exp\":1800003600}",
	                    &c),
	          OIDC_BAD_ISSUER);
}

TEST(audience_must_be_our_client)
{
	struct oidc_claims c;

	CHECK_INT(
	        claims_of("{\"iss\":\"accounts.google.com\",\"aud\":"
	                  "\"other.apps.googleusercontent.com\",\"sub\":\"1\","
	                  "\"exp\":1800003600}",
	                  &c),
	        OIDC_BAD_AUDIENCE);
	CHECK_INT(claims_of("{\"iss\":\"accounts.google.com\",\"sub\":\"1\","
	                    "\"exp\":1800003600}",
	                    &c),
	          OIDC_BAD_AUDIENCE);
	/* Several audiences: ours among them and azp ours. */
	CHECK_INT(claims_of("{\"iss\":\"accounts.google.com\",\"aud\":[\"x\","
	                    "\"" CLIENT "\"],\"azp\":\"" CLIENT
	                    "\",\"sub\":\"1\",\"exp\":1800003600}",
	                    &c),
	          OIDC_OK);
	CHECK_INT(claims_of("{\"iss\":\"accounts.google.com\",\"aud\":[\"x\","
	                    "\"" CLIENT "\"],\"azp\":\"x\",\"sub\":\"1\","
	                    "\"exp\":1800003600}",
	                    &c),
	          OIDC_BAD_AUDIENCE);
	CHECK_INT(claims_of("{\"iss\":\"accounts.google.com\",\"aud\":[\"x\"],"
	                    "\"azp\":\"" CLIENT
	                    "\",\"sub\":\"1\",\"exp\":1800003600}",
	                    &c),
	          OIDC_BAD_AUDIENCE);
}

TEST(expiry_allows_five_minutes_of_skew)
{
	struct oidc_claims c;

	CHECK_INT(claims_of("{\"iss\":\"accounts.google.com\",\"aud\":\"" CLIENT
	                    "\",\"sub\":\"1\",\"exp\":1799999800}",
	                    &c),
	          OIDC_OK);
	CHECK_INT(claims_of("{\"iss\":\"accounts.google.com\",\"aud\":\"" CLIENT
	                    "\",\"sub\":\"1\",\"exp\":1799999699}",
	                    &c),
	          OIDC_EXPIRED);
	CHECK_INT(claims_of("{\"iss\":\"accounts.google.com\",\"aud\":\"" CLIENT
	                    "\",\"sub\":\"1\",\"exp\":\"1800003600\"}",
	                    &c),
	          OIDC_MALFORMED);
}

/* exp and iat near the ends of int64_t (and past them, which json-c
 * clamps) are malformed, checked before any arithmetic: exp + skew must
 * not overflow (UBSan). */
TEST(times_out_of_range_are_malformed_not_overflowed)
{
	static const char *const bad[] = {
	        "\"exp\":9223372036854775807",
	        "\"exp\":9223372036854775707",
	        "\"exp\":9223372036854775508",
	        "\"exp\":18446744073709551615",
	        "\"exp\":-9223372036854775808",
	        "\"exp\":-1",
	        "\"exp\":253402300800",
	        "\"exp\":1800003600,\"iat\":9223372036854775807",
	        "\"exp\":1800003600,\"iat\":-9223372036854775808",
	        "\"exp\":1800003600,\"iat\":\"1799999000\"",
	        "\"exp\":1800003600.5",
	};
	struct oidc_claims c;
	char payload[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(payload, sizeof(payload),
		         "{\"iss\":\"accounts.google.com\",\"aud\":\"" CLIENT
		         "\",\"sub\":\"1\",%s}",
		         bad[i]);
		if (claims_of(payload, &c) != OIDC_MALFORMED)
			CHECK_FAIL_("%s is not refused as malformed", bad[i]);
	}
	/* The last second taken, and now at the far end of its range. */
	CHECK_INT(claims_of("{\"iss\":\"accounts.google.com\",\"aud\":\"" CLIENT
	                    "\",\"sub\":\"1\",\"exp\":253402300799,"
	                    "\"iat\":0}",
	                    &c),
	          OIDC_OK);
	CHECK_INT(c.exp, 253402300799LL);
	{
		char *t = jwt("{}", "{\"iss\":\"accounts.google.com\",\"aud\":"
		                    "\"" CLIENT "\",\"sub\":\"1\",\"exp\":1}");
		int64_t ends[] = {INT64_MIN, INT64_MIN + 1, INT64_MAX};

		/* A clock that absurd refuses every token, without overflow. */
		for (i = 0; i < 3; i++)
			if (oidc_id_token_claims(t, CLIENT, ends[i], &c) !=
			    OIDC_EXPIRED) {
				free(t);
				CHECK_FAIL_("now = %lld", (long long)ends[i]);
			}
		free(t);
	}
}

TEST(malformed_tokens_are_refused_and_leave_claims_alone)
{
	struct oidc_claims c;
	char *t;

	memset(&c, 0x5a, sizeof(c));
	CHECK_INT(oidc_id_token_claims("", CLIENT, NOW, &c), OIDC_MALFORMED);
	CHECK_INT(oidc_id_token_claims("a.b", CLIENT, NOW, &c), OIDC_MALFORMED);
	CHECK_INT(oidc_id_token_claims("a.b.c.d", CLIENT, NOW, &c),
	          OIDC_MALFORMED);
	CHECK_INT(oidc_id_token_claims("!!.??.sig", CLIENT, NOW, &c),
	          OIDC_MALFORMED);
	CHECK_INT(c.sub[0], 0x5a);
	t = jwt("{}", "[1,2]");
	CHECK_INT(oidc_id_token_claims(t, CLIENT, NOW, &c), OIDC_MALFORMED);
	free(t);
	t = jwt("not json", "{\"iss\":\"accounts.google.com\"}");
	CHECK_INT(oidc_id_token_claims(t, CLIENT, NOW, &c), OIDC_MALFORMED);
	free(t);
	/* sub is required. */
	CHECK_INT(claims_of("{\"iss\":\"accounts.google.com\",\"aud\":\"" CLIENT
	                    "\",\"exp\":1800003600}",
	                    &c),
	          OIDC_MALFORMED);
}

int main(void)
{
	RUN(google_token_is_read);
	RUN(issuer_without_scheme_is_google_too);
	RUN(email_verified_as_a_string);
	RUN(other_issuers_are_refused);
	RUN(audience_must_be_our_client);
	RUN(expiry_allows_five_minutes_of_skew);
	RUN(times_out_of_range_are_malformed_not_overflowed);
	RUN(malformed_tokens_are_refused_and_leave_claims_alone);
	return CHECK_DONE();
}
