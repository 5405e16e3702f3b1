/*
 * MercadoPago webhook signatures (protocols.md §8.2): the manifest, the
 * x-signature header, and the verdict on a notification.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/crypto.h"
#include "upstream/mp.h"

#define SECRET "your_secret_key_here"
#define TS     "1742505638683"
#define NOW    1742505638LL /* TS in seconds */
#define TOL    300L

#define ORD_ID  "ORD01JQ4S4KY8HWQ6NA5PXB65B3D3"
#define ORD_REQ "2066ca19-c6f1-498a-be75-1923005edd06"
#define PAY_ID  "123456"
#define PAY_REQ "bb56a2f1-6aae-46ac-982e-9dcd3581d08e"

/* The three vectors of §8.2, computed with MercadoPago's SDK. */
#define ORD_MANIFEST                                                           \
	"id:ord01jq4s4ky8hwq6na5pxb65b3d3;request-id:" ORD_REQ ";ts:" TS ";"
#define ORD_HMAC                                                               \
	"633f91233312dd391ec75fa0bea539cfc2d6c4918873305b84a96cc1c58db71c"
#define PAY_MANIFEST "id:123456;request-id:" PAY_REQ ";ts:" TS ";"
#define PAY_HMAC                                                               \
	"5e0a7ed2ea5ece575e9d1a9bb80f7ce6ca43d6d30e8be93413bae108b94ad7cd"
#define NOID_MANIFEST "request-id:" ORD_REQ ";ts:" TS ";"
#define NOID_HMAC                                                              \
	"8a7b0cc777a8217c3bab41a50c95dc92debbc6f8448f1c967dfe10ac1cb8b894"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* HMAC-SHA256 of manifest under secret as lowercase hex into hex. */
static int hmac_hex(const char *secret, const char *manifest, char hex[65])
{
	unsigned char mac[CRYPTO_SHA256_LEN];

	if (crypto_hmac_sha256(secret, strlen(secret), manifest,
	                       strlen(manifest), mac) != 0)
		return -1;
	crypto_hex(mac, sizeof(mac), hex);
	return 0;
}

/* "ts=<ts>,v1=<hmac of manifest>" into out. */
static int signed_header(const char *secret, const char *manifest,
                         const char *ts, char *out, size_t outlen)
{
	char hex[65];

	if (hmac_hex(secret, manifest, hex) != 0)
		return -1;
	snprintf(out, outlen, "ts=%s,v1=%s", ts, hex);
	return 0;
}

/* The string s with its ASCII letters upper-cased, in a static buffer. */
static const char *upper(const char *s)
{
	static char out[256];
	size_t i, n = strlen(s);

	if (n > sizeof(out) - 1)
		n = sizeof(out) - 1;
	for (i = 0; i < n; i++) {
		char c = s[i];

		out[i] = (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
	}
	out[n] = '\0';
	return out;
}

/* mp_signature_parse into sentinel-filled outputs. */
static int parse(const char *header, char ts[32], char v1[65])
{
	memset(ts, 'X', 31);
	ts[31] = '\0';
	memset(v1, 'Y', 64);
	v1[64] = '\0';
	return mp_signature_parse(header, ts, 32, v1);
}

/* The outputs of parse() are still the sentinels. */
static int untouched(const char ts[32], const char v1[65])
{
	size_t i;

	for (i = 0; i < 31; i++)
		if (ts[i] != 'X')
			return 0;
	for (i = 0; i < 64; i++)
		if (v1[i] != 'Y')
			return 0;
	return ts[31] == '\0' && v1[64] == '\0';
}

/* --- mp_manifest --- */

TEST(manifest_of_the_three_vectors)
{
	char m[256];

	CHECK_INT(mp_manifest(ORD_ID, ORD_REQ, TS, m, sizeof(m)), 0);
	CHECK_STR(m, ORD_MANIFEST);
	CHECK_INT(mp_manifest(PAY_ID, PAY_REQ, TS, m, sizeof(m)), 0);
	CHECK_STR(m, PAY_MANIFEST);
	CHECK_INT(mp_manifest(NULL, ORD_REQ, TS, m, sizeof(m)), 0);
	CHECK_STR(m, NOID_MANIFEST);
}

TEST(manifest_leaves_out_absent_parts)
{
	char m[256];

	CHECK_INT(mp_manifest("", ORD_REQ, TS, m, sizeof(m)), 0);
	CHECK_STR(m, NOID_MANIFEST);
	CHECK_INT(mp_manifest(PAY_ID, NULL, TS, m, sizeof(m)), 0);
	CHECK_STR(m, "id:123456;ts:" TS ";");
	CHECK_INT(mp_manifest(PAY_ID, "", TS, m, sizeof(m)), 0);
	CHECK_STR(m, "id:123456;ts:" TS ";");
	CHECK_INT(mp_manifest(PAY_ID, PAY_REQ, NULL, m, sizeof(m)), 0);
	CHECK_STR(m, "id:123456;request-id:" PAY_REQ ";");
	CHECK_INT(mp_manifest(PAY_ID, PAY_REQ, "", m, sizeof(m)), 0);
	CHECK_STR(m, "id:123456;request-id:" PAY_REQ ";");
	CHECK_INT(mp_manifest(NULL, NULL, NULL, m, sizeof(m)), 0);
	CHECK_STR(m, "");
	CHECK_INT(mp_manifest("", "", "", m, sizeof(m)), 0);
	CHECK_STR(m, "");
}

TEST(manifest_lower_cases_only_the_data_id)
{
	char m[256];

	CHECK_INT(mp_manifest("AbC-XyZ_09", "REQ-ID", "1", m, sizeof(m)), 0);
	CHECK_STR(m, "id:abc-xyz_09;request-id:REQ-ID;ts:1;");
}

TEST(manifest_refuses_an_out_too_small)
{
	char m[256];
	size_t need = strlen(PAY_MANIFEST);

	memset(m, 'Z', sizeof(m));
	CHECK_INT(mp_manifest(PAY_ID, PAY_REQ, TS, m, need), -1);
	CHECK(m[0] == 'Z' && m[need - 1] == 'Z');
	CHECK_INT(mp_manifest(PAY_ID, PAY_REQ, TS, m, 1), -1);
	CHECK(m[0] == 'Z');
	CHECK_INT(mp_manifest(PAY_ID, PAY_REQ, TS, m, 0), -1);
	CHECK(m[0] == 'Z');
	CHECK_INT(mp_manifest(NULL, NULL, NULL, m, 0), -1);
	CHECK(m[0] == 'Z');
	/* Exactly enough: the manifest and its NUL. */
	CHECK_INT(mp_manifest(PAY_ID, PAY_REQ, TS, m, need + 1), 0);
	CHECK_STR(m, PAY_MANIFEST);
	CHECK_INT(mp_manifest(NULL, NULL, NULL, m, 1), 0);
	CHECK_STR(m, "");
}

/* --- the HMAC against the SDK's vectors --- */

TEST(hmac_equals_the_sdk_vectors)
{
	char hex[65];

	CHECK_INT(hmac_hex(SECRET, ORD_MANIFEST, hex), 0);
	CHECK_STR(hex, ORD_HMAC);
	CHECK_INT(hmac_hex(SECRET, PAY_MANIFEST, hex), 0);
	CHECK_STR(hex, PAY_HMAC);
	CHECK_INT(hmac_hex(SECRET, NOID_MANIFEST, hex), 0);
	CHECK_STR(hex, NOID_HMAC);
}

TEST(the_three_vectors_verify)
{
	CHECK_INT(mp_signature_verify(SECRET, "ts=" TS ",v1=" ORD_HMAC, ORD_ID,
	                              ORD_REQ, NOW, TOL),
	          MP_SIG_OK);
	CHECK_INT(mp_signature_verify(SECRET, "ts=" TS ",v1=" PAY_HMAC, PAY_ID,
	                              PAY_REQ, NOW, TOL),
	          MP_SIG_OK);
	CHECK_INT(mp_signature_verify(SECRET, "ts=" TS ",v1=" NOID_HMAC, NULL,
	                              ORD_REQ, NOW, TOL),
	          MP_SIG_OK);
	CHECK_INT(mp_signature_verify(SECRET, "ts=" TS ",v1=" NOID_HMAC, "",
	                              ORD_REQ, NOW, TOL),
	          MP_SIG_OK);
	/* The data id as MercadoPago sends it or already lower-cased. */
	CHECK_INT(mp_signature_verify(SECRET, "ts=" TS ",v1=" ORD_HMAC,
	                              "ord01jq4s4ky8hwq6na5pxb65b3d3", ORD_REQ,
	                              NOW, TOL),
	          MP_SIG_OK);
}

TEST(the_three_vectors_verify_in_upper_case_hex)
{
	char h[128];

	snprintf(h, sizeof(h), "ts=" TS ",v1=%s", upper(ORD_HMAC));
	CHECK_INT(mp_signature_verify(SECRET, h, ORD_ID, ORD_REQ, NOW, TOL),
	          MP_SIG_OK);
	snprintf(h, sizeof(h), "ts=" TS ",v1=%s", upper(PAY_HMAC));
	CHECK_INT(mp_signature_verify(SECRET, h, PAY_ID, PAY_REQ, NOW, TOL),
	          MP_SIG_OK);
	snprintf(h, sizeof(h), "ts=" TS ",v1=%s", upper(NOID_HMAC));
	CHECK_INT(mp_signature_verify(SECRET, h, NULL, ORD_REQ, NOW, TOL),
	          MP_SIG_OK);
}

/* --- mp_signature_parse --- */

TEST(parse_reads_ts_and_v1)
{
	char ts[32], v1[65];

	CHECK_INT(parse("ts=" TS ",v1=" PAY_HMAC, ts, v1), 0);
	CHECK_STR(ts, TS);
	CHECK_STR(v1, PAY_HMAC);
}

TEST(parse_takes_the_parts_in_either_order)
{
	char ts[32], v1[65];

	CHECK_INT(parse("v1=" PAY_HMAC ",ts=" TS, ts, v1), 0);
	CHECK_STR(ts, TS);
	CHECK_STR(v1, PAY_HMAC);
}

TEST(parse_ignores_spaces_around_parts_keys_and_values)
{
	char ts[32], v1[65];

	CHECK_INT(parse("ts = 1 , v1 = " HEX64, ts, v1), 0);
	CHECK_STR(ts, "1");
	CHECK_STR(v1, HEX64);
	CHECK_INT(parse("  ts=" TS "  ,\tv1=" PAY_HMAC "\t ", ts, v1), 0);
	CHECK_STR(ts, TS);
	CHECK_STR(v1, PAY_HMAC);
	CHECK_INT(parse(" v1 =" PAY_HMAC ",  ts= " TS " ", ts, v1), 0);
	CHECK_STR(ts, TS);
	CHECK_STR(v1, PAY_HMAC);
}

TEST(parse_ignores_other_keys)
{
	char ts[32], v1[65];

	CHECK_INT(parse("ts=" TS ",v1=" PAY_HMAC ",v2=" HEX64, ts, v1), 0);
	CHECK_STR(ts, TS);
	CHECK_STR(v1, PAY_HMAC);
	CHECK_INT(parse("v2=whatever,ts=" TS ",v1=" PAY_HMAC ",v3=x", ts, v1),
	          0);
	CHECK_STR(ts, TS);
	CHECK_STR(v1, PAY_HMAC);
	/* A v2 never stands in for a missing v1. */
	CHECK_INT(parse("ts=" TS ",v2=" PAY_HMAC, ts, v1), -1);
	CHECK(untouched(ts, v1));
}

TEST(parse_lower_cases_v1)
{
	char ts[32], v1[65];
	char h[128];

	snprintf(h, sizeof(h), "ts=" TS ",v1=%s", upper(ORD_HMAC));
	CHECK_INT(parse(h, ts, v1), 0);
	CHECK_STR(v1, ORD_HMAC);
	CHECK_INT(parse("ts=1,v1=0123456789ABCDEF0123456789abcdef"
	                "0123456789AbCdEfFEDCBA9876543210",
	                ts, v1),
	          0);
	CHECK_STR(v1, "0123456789abcdef0123456789abcdef"
	              "0123456789abcdeffedcba9876543210");
}

TEST(parse_refuses_a_missing_part)
{
	char ts[32], v1[65];

	CHECK_INT(parse("v1=" PAY_HMAC, ts, v1), -1);
	CHECK(untouched(ts, v1));
	CHECK_INT(parse("ts=" TS, ts, v1), -1);
	CHECK(untouched(ts, v1));
	CHECK_INT(parse("", ts, v1), -1);
	CHECK(untouched(ts, v1));
	CHECK_INT(parse(NULL, ts, v1), -1);
	CHECK(untouched(ts, v1));
	CHECK_INT(parse(",,, ,", ts, v1), -1);
	CHECK(untouched(ts, v1));
}

TEST(parse_refuses_an_empty_value)
{
	char ts[32], v1[65];

	CHECK_INT(parse("ts=,v1=" PAY_HMAC, ts, v1), -1);
	CHECK(untouched(ts, v1));
	CHECK_INT(parse("ts= ,v1=" PAY_HMAC, ts, v1), -1);
	CHECK(untouched(ts, v1));
	CHECK_INT(parse("ts=" TS ",v1=", ts, v1), -1);
	CHECK(untouched(ts, v1));
	CHECK_INT(parse("ts=,v1=", ts, v1), -1);
	CHECK(untouched(ts, v1));
}

TEST(parse_refuses_a_ts_that_is_not_digits)
{
	char ts[32], v1[65];

	CHECK_INT(parse("ts=+1742505638683,v1=" PAY_HMAC, ts, v1), -1);
	CHECK(untouched(ts, v1));
	CHECK_INT(parse("ts=-1742505638683,v1=" PAY_HMAC, ts, v1), -1);
	CHECK(untouched(ts, v1));
	CHECK_INT(parse("ts=17425056386x3,v1=" PAY_HMAC, ts, v1), -1);
	CHECK(untouched(ts, v1));
	CHECK_INT(parse("ts=abc,v1=" PAY_HMAC, ts, v1), -1);
	CHECK(untouched(ts, v1));
	CHECK_INT(parse("ts=0x10,v1=" PAY_HMAC, ts, v1), -1);
	CHECK(untouched(ts, v1));
	CHECK_INT(parse("ts=1 2,v1=" PAY_HMAC, ts, v1), -1);
	CHECK(untouched(ts, v1));
	CHECK_INT(parse("ts=1.5,v1=" PAY_HMAC, ts, v1), -1);
	CHECK(untouched(ts, v1));
	CHECK_INT(parse("ts=1=2,v1=" PAY_HMAC, ts, v1), -1);
	CHECK(untouched(ts, v1));
}

TEST(parse_refuses_a_v1_that_is_not_64_hex)
{
	char ts[32], v1[65];
	char h[160];

	/* 63 and 65 characters. */
	snprintf(h, sizeof(h), "ts=" TS ",v1=%.63s", PAY_HMAC);
	CHECK_INT(parse(h, ts, v1), -1);
	CHECK(untouched(ts, v1));
	CHECK_INT(parse("ts=" TS ",v1=" PAY_HMAC "0", ts, v1), -1);
	CHECK(untouched(ts, v1));
	/* Not hex. */
	snprintf(h, sizeof(h), "ts=" TS ",v1=%.63sg", PAY_HMAC);
	CHECK_INT(parse(h, ts, v1), -1);
	CHECK(untouched(ts, v1));
	snprintf(h, sizeof(h), "ts=" TS ",v1=G%.63s", PAY_HMAC + 1);
	CHECK_INT(parse(h, ts, v1), -1);
	CHECK(untouched(ts, v1));
	snprintf(h, sizeof(h), "ts=" TS ",v1=%.31s %.32s", PAY_HMAC,
	         PAY_HMAC + 32);
	CHECK_INT(parse(h, ts, v1), -1);
	CHECK(untouched(ts, v1));
	CHECK_INT(parse("ts=" TS ",v1=" PAY_HMAC "=", ts, v1), -1);
	CHECK(untouched(ts, v1));
}

TEST(parse_refuses_parts_without_equals)
{
	char ts[32], v1[65];

	CHECK_INT(parse("garbage", ts, v1), -1);
	CHECK(untouched(ts, v1));
	CHECK_INT(parse("ts " TS ",v1 " PAY_HMAC, ts, v1), -1);
	CHECK(untouched(ts, v1));
	CHECK_INT(parse(TS "," PAY_HMAC, ts, v1), -1);
	CHECK(untouched(ts, v1));
}

TEST(parse_refuses_a_ts_longer_than_its_buffer)
{
	char ts[8], v1[65];

	memset(ts, 'X', sizeof(ts));
	memset(v1, 'Y', sizeof(v1));
	CHECK_INT(mp_signature_parse("ts=12345678,v1=" PAY_HMAC, ts, sizeof(ts),
	                             v1),
	          -1);
	CHECK(ts[0] == 'X' && v1[0] == 'Y');
	CHECK_INT(mp_signature_parse("ts=1234567,v1=" PAY_HMAC, ts, sizeof(ts),
	                             v1),
	          0);
	CHECK_STR(ts, "1234567");
}

/* --- mp_signature_verify --- */

TEST(verify_says_missing_for_no_header)
{
	CHECK_INT(mp_signature_verify(SECRET, NULL, PAY_ID, PAY_REQ, NOW, TOL),
	          MP_SIG_MISSING);
	CHECK_INT(mp_signature_verify(SECRET, "", PAY_ID, PAY_REQ, NOW, TOL),
	          MP_SIG_MISSING);
}

TEST(verify_says_malformed_for_a_bad_header)
{
	static const char *bad[] = {
	        " ",
	        "garbage",
	        "ts=" TS,
	        "v1=" PAY_HMAC,
	        "ts=abc,v1=" PAY_HMAC,
	        "ts=" TS ",v1=" HEX64 "0",
	        "ts=" TS ",v1=xyz",
	        "ts=1=2,v1=" PAY_HMAC,
	        /* 17 digits: more than any timestamp. */
	        "ts=17425056386830000,v1=" PAY_HMAC,
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (mp_signature_verify(SECRET, bad[i], PAY_ID, PAY_REQ, NOW,
		                        TOL) != MP_SIG_MALFORMED)
			CHECK_FAIL_("\"%s\" is not MP_SIG_MALFORMED", bad[i]);
}

TEST(verify_says_mismatch_for_one_flipped_digit)
{
	char h[] = "ts=" TS ",v1=" PAY_HMAC;
	size_t at = strlen("ts=" TS ",v1=");
	size_t i;

	for (i = 0; i < 64; i += 9) {
		char c = h[at + i];

		h[at + i] = c == '0' ? '1' : '0';
		CHECK_INT(mp_signature_verify(SECRET, h, PAY_ID, PAY_REQ, NOW,
		                              TOL),
		          MP_SIG_MISMATCH);
		h[at + i] = c;
	}
	h[at + 63] = h[at + 63] == 'd' ? 'e' : 'd';
	CHECK_INT(mp_signature_verify(SECRET, h, PAY_ID, PAY_REQ, NOW, TOL),
	          MP_SIG_MISMATCH);
}

TEST(verify_says_mismatch_for_another_secret)
{
	CHECK_INT(mp_signature_verify("another_secret",
	                              "ts=" TS ",v1=" PAY_HMAC, PAY_ID, PAY_REQ,
	                              NOW, TOL),
	          MP_SIG_MISMATCH);
	CHECK_INT(mp_signature_verify("", "ts=" TS ",v1=" PAY_HMAC, PAY_ID,
	                              PAY_REQ, NOW, TOL),
	          MP_SIG_MISMATCH);
	CHECK_INT(mp_signature_verify(SECRET "x", "ts=" TS ",v1=" PAY_HMAC,
	                              PAY_ID, PAY_REQ, NOW, TOL),
	          MP_SIG_MISMATCH);
}

TEST(verify_says_mismatch_for_another_data_id)
{
	CHECK_INT(mp_signature_verify(SECRET, "ts=" TS ",v1=" PAY_HMAC,
	                              "123457", PAY_REQ, NOW, TOL),
	          MP_SIG_MISMATCH);
	CHECK_INT(mp_signature_verify(SECRET, "ts=" TS ",v1=" PAY_HMAC, NULL,
	                              PAY_REQ, NOW, TOL),
	          MP_SIG_MISMATCH);
	CHECK_INT(mp_signature_verify(SECRET, "ts=" TS ",v1=" ORD_HMAC,
	                              "ORD01JQ4S4KY8HWQ6NA5PXB65B3D4", ORD_REQ,
	                              NOW, TOL),
	          MP_SIG_MISMATCH);
}

TEST(verify_says_mismatch_for_another_request_id)
{
	CHECK_INT(mp_signature_verify(SECRET, "ts=" TS ",v1=" PAY_HMAC, PAY_ID,
	                              ORD_REQ, NOW, TOL),
	          MP_SIG_MISMATCH);
	CHECK_INT(mp_signature_verify(SECRET, "ts=" TS ",v1=" PAY_HMAC, PAY_ID,
	                              NULL, NOW, TOL),
	          MP_SIG_MISMATCH);
	/* The request id is not lower-cased: its case counts. */
	CHECK_INT(mp_signature_verify(SECRET, "ts=" TS ",v1=" PAY_HMAC, PAY_ID,
	                              upper(PAY_REQ), NOW, TOL),
	          MP_SIG_MISMATCH);
}

TEST(verify_says_mismatch_for_a_data_id_the_signer_had_not)
{
	CHECK_INT(mp_signature_verify(SECRET, "ts=" TS ",v1=" NOID_HMAC,
	                              "123456", ORD_REQ, NOW, TOL),
	          MP_SIG_MISMATCH);
}

TEST(verify_says_mismatch_for_another_ts)
{
	CHECK_INT(mp_signature_verify(SECRET, "ts=1742505638684,v1=" PAY_HMAC,
	                              PAY_ID, PAY_REQ, NOW, TOL),
	          MP_SIG_MISMATCH);
}

TEST(verify_says_stale_for_an_old_ts)
{
	CHECK_INT(mp_signature_verify(SECRET, "ts=" TS ",v1=" PAY_HMAC, PAY_ID,
	                              PAY_REQ, NOW + TOL + 1, TOL),
	          MP_SIG_STALE);
	CHECK_INT(mp_signature_verify(SECRET, "ts=" TS ",v1=" PAY_HMAC, PAY_ID,
	                              PAY_REQ, NOW + 86400, TOL),
	          MP_SIG_STALE);
}

TEST(verify_says_stale_for_a_ts_far_in_the_future)
{
	CHECK_INT(mp_signature_verify(SECRET, "ts=" TS ",v1=" PAY_HMAC, PAY_ID,
	                              PAY_REQ, NOW - TOL - 1, TOL),
	          MP_SIG_STALE);
	CHECK_INT(mp_signature_verify(SECRET, "ts=" TS ",v1=" PAY_HMAC, PAY_ID,
	                              PAY_REQ, NOW - 86400, TOL),
	          MP_SIG_STALE);
}

/* Verifies a notification for PAY_ID and PAY_REQ signed at ts. */
static enum mp_sig verify_at(const char *ts, long long now)
{
	char m[256], h[160];

	snprintf(m, sizeof(m), "id:" PAY_ID ";request-id:" PAY_REQ ";ts:%s;",
	         ts);
	if (signed_header(SECRET, m, ts, h, sizeof(h)) != 0)
		return (enum mp_sig) - 1;
	return mp_signature_verify(SECRET, h, PAY_ID, PAY_REQ, now, TOL);
}

TEST(verify_allows_exactly_the_tolerance)
{
	/* ts 1800000000000 ms is 1800000000 s. */
	CHECK_INT(verify_at("1800000000000", 1800000000LL), MP_SIG_OK);
	CHECK_INT(verify_at("1800000000000", 1800000000LL + TOL), MP_SIG_OK);
	CHECK_INT(verify_at("1800000000000", 1800000000LL - TOL), MP_SIG_OK);
	CHECK_INT(verify_at("1800000000000", 1800000000LL + TOL + 1),
	          MP_SIG_STALE);
	CHECK_INT(verify_at("1800000000000", 1800000000LL - TOL - 1),
	          MP_SIG_STALE);
	/* The same in seconds. */
	CHECK_INT(verify_at("1800000000", 1800000000LL + TOL), MP_SIG_OK);
	CHECK_INT(verify_at("1800000000", 1800000000LL - TOL), MP_SIG_OK);
	CHECK_INT(verify_at("1800000000", 1800000000LL + TOL + 1),
	          MP_SIG_STALE);
	CHECK_INT(verify_at("1800000000", 1800000000LL - TOL - 1),
	          MP_SIG_STALE);
}

TEST(verify_counts_the_milliseconds_at_the_edges)
{
	long long now = 1800000000LL;

	/* (now - TOL) s and (now + TOL) s exactly, in milliseconds. */
	CHECK_INT(verify_at("1799999700000", now), MP_SIG_OK);
	CHECK_INT(verify_at("1800000300000", now), MP_SIG_OK);
	/* One millisecond beyond either edge. */
	CHECK_INT(verify_at("1799999699999", now), MP_SIG_STALE);
	CHECK_INT(verify_at("1800000300001", now), MP_SIG_STALE);
	CHECK_INT(verify_at("1800000300999", now), MP_SIG_STALE);
	/* One millisecond inside. */
	CHECK_INT(verify_at("1799999700001", now), MP_SIG_OK);
	CHECK_INT(verify_at("1800000299999", now), MP_SIG_OK);
}

TEST(verify_reads_ten_digits_as_seconds)
{
	const char *m = "id:123456;request-id:" PAY_REQ ";ts:1742505638;";
	char hex[65], h[160];

	CHECK_INT(hmac_hex(SECRET, m, hex), 0);
	snprintf(h, sizeof(h), "ts=1742505638,v1=%s", hex);
	CHECK_INT(mp_signature_verify(SECRET, h, PAY_ID, PAY_REQ, NOW, TOL),
	          MP_SIG_OK);
	/* Read as milliseconds it would be January 1970. */
	CHECK_INT(mp_signature_verify(SECRET, h, PAY_ID, PAY_REQ, 1742505, TOL),
	          MP_SIG_STALE);
	CHECK_INT(mp_signature_verify(SECRET, h, PAY_ID, PAY_REQ, NOW + TOL + 1,
	                              TOL),
	          MP_SIG_STALE);
	/* A signature over the ts in milliseconds does not fit it. */
	snprintf(h, sizeof(h), "ts=1742505638,v1=%s", PAY_HMAC);
	CHECK_INT(mp_signature_verify(SECRET, h, PAY_ID, PAY_REQ, NOW, TOL),
	          MP_SIG_MISMATCH);
}

TEST(verify_reads_thirteen_digits_as_milliseconds)
{
	/* Read as seconds TS would lie some 55 000 years ahead. */
	CHECK_INT(verify_at(TS, NOW), MP_SIG_OK);
	CHECK_INT(verify_at(TS, 1742505638683LL), MP_SIG_STALE);
	CHECK_INT(verify_at("1742505638000", NOW), MP_SIG_OK);
}

TEST(verify_without_a_request_id)
{
	const char *m = "id:123456;ts:" TS ";";
	char h[160];

	CHECK_INT(signed_header(SECRET, m, TS, h, sizeof(h)), 0);
	CHECK_INT(mp_signature_verify(SECRET, h, PAY_ID, NULL, NOW, TOL),
	          MP_SIG_OK);
	CHECK_INT(mp_signature_verify(SECRET, h, PAY_ID, "", NOW, TOL),
	          MP_SIG_OK);
	CHECK_INT(mp_signature_verify(SECRET, h, PAY_ID, PAY_REQ, NOW, TOL),
	          MP_SIG_MISMATCH);
}

TEST(verify_accepts_a_header_with_spaces_and_other_keys)
{
	CHECK_INT(mp_signature_verify(SECRET,
	                              " v2=" HEX64 " , v1 = " PAY_HMAC
	                              " , ts = " TS " ",
	                              PAY_ID, PAY_REQ, NOW, TOL),
	          MP_SIG_OK);
}

TEST(a_stale_signature_is_still_checked_first)
{
	/* A wrong signature says mismatch, whatever its age. */
	CHECK_INT(mp_signature_verify(SECRET, "ts=" TS ",v1=" HEX64, PAY_ID,
	                              PAY_REQ, NOW + 86400, TOL),
	          MP_SIG_MISMATCH);
}

TEST(every_verdict_has_a_description)
{
	CHECK_STR(mp_sig_str(MP_SIG_OK), "ok");
	CHECK(strlen(mp_sig_str(MP_SIG_MISSING)) > 0);
	CHECK(strlen(mp_sig_str(MP_SIG_MALFORMED)) > 0);
	CHECK(strlen(mp_sig_str(MP_SIG_MISMATCH)) > 0);
	CHECK(strlen(mp_sig_str(MP_SIG_STALE)) > 0);
	CHECK(strcmp(mp_sig_str(MP_SIG_MISMATCH), mp_sig_str(MP_SIG_STALE)));
}

int main(void)
{
	RUN(manifest_of_the_three_vectors);
	RUN(manifest_leaves_out_absent_parts);
	RUN(manifest_lower_cases_only_the_data_id);
	RUN(manifest_refuses_an_out_too_small);
	RUN(hmac_equals_the_sdk_vectors);
	RUN(the_three_vectors_verify);
	RUN(the_three_vectors_verify_in_upper_case_hex);
	RUN(parse_reads_ts_and_v1);
	RUN(parse_takes_the_parts_in_either_order);
	RUN(parse_ignores_spaces_around_parts_keys_and_values);
	RUN(parse_ignores_other_keys);
	RUN(parse_lower_cases_v1);
	RUN(parse_refuses_a_missing_part);
	RUN(parse_refuses_an_empty_value);
	RUN(parse_refuses_a_ts_that_is_not_digits);
	RUN(parse_refuses_a_v1_that_is_not_64_hex);
	RUN(parse_refuses_parts_without_equals);
	RUN(parse_refuses_a_ts_longer_than_its_buffer);
	RUN(verify_says_missing_for_no_header);
	RUN(verify_says_malformed_for_a_bad_header);
	RUN(verify_says_mismatch_for_one_flipped_digit);
	RUN(verify_says_mismatch_for_another_secret);
	RUN(verify_says_mismatch_for_another_data_id);
	RUN(verify_says_mismatch_for_another_request_id);
	RUN(verify_says_mismatch_for_a_data_id_the_signer_had_not);
	RUN(verify_says_mismatch_for_another_ts);
	RUN(verify_says_stale_for_an_old_ts);
	RUN(verify_says_stale_for_a_ts_far_in_the_future);
	RUN(verify_allows_exactly_the_tolerance);
	RUN(verify_counts_the_milliseconds_at_the_edges);
	RUN(verify_reads_ten_digits_as_seconds);
	RUN(verify_reads_thirteen_digits_as_milliseconds);
	RUN(verify_without_a_request_id);
	RUN(verify_accepts_a_header_with_spaces_and_other_keys);
	RUN(a_stale_signature_is_still_checked_first);
	RUN(every_verdict_has_a_description);
	return CHECK_DONE();
}
