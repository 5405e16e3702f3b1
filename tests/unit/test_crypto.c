/*
 * test_crypto.c - the crypto module against published vectors (FIPS 180-2,
 * RFC 4231, RFC 4648, RFC 7636, MercadoPago's webhook example) and against
 * the properties it promises: strict decoders, a sealed box that refuses any
 * altered byte, random output that is well-formed and differs.
 */
#include "check.h"
#include "core/crypto.h"

#include <stdlib.h>
#include <string.h>

/* The hex of a SHA-256 digest or HMAC, for comparing with a vector. */
static const char *hex32(const unsigned char md[CRYPTO_SHA256_LEN])
{
	static char buf[2 * CRYPTO_SHA256_LEN + 1];

	crypto_hex(md, CRYPTO_SHA256_LEN, buf);
	return buf;
}

static int is_lower_hex(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

static int is_base64url_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Decodes NUL-terminated s with the standard or URL decoder; 0 or -1. */
static int decodes(const char *s, int url)
{
	unsigned char *out = NULL;
	size_t outlen = 0;
	int rc;

	if (url)
		rc = crypto_base64url_decode(s, strlen(s), &out, &outlen);
	else
		rc = crypto_base64_decode(s, strlen(s), &out, &outlen);
	free(out);
	return rc;
}

TEST(sha256_fips_180_2)
{
	unsigned char md[CRYPTO_SHA256_LEN];

	crypto_sha256("", 0, md);
	CHECK_STR(hex32(md), "e3b0c44298fc1c149afbf4c8996fb924"
	                     "27ae41e4649b934ca495991b7852b855");
	crypto_sha256(NULL, 0, md);
	CHECK_STR(hex32(md), "e3b0c44298fc1c149afbf4c8996fb924"
	                     "27ae41e4649b934ca495991b7852b855");
	crypto_sha256("abc", 3, md);
	CHECK_STR(hex32(md), "ba7816bf8f01cfea414140de5dae2223"
	                     "b00361a396177a9cb410ff61f20015ad");
}

TEST(hmac_rfc_4231)
{
	unsigned char key[131], md[CRYPTO_SHA256_LEN];

	/* Test case 1. */
	memset(key, 0x0b, 20);
	CHECK_INT(crypto_hmac_sha256(key, 20, "Hi There", 8, md), 0);
	CHECK_STR(hex32(md), "b0344c61d8db38535ca8afceaf0bf12b"
	                     "881dc200c9833da726e9376c2e32cff7");
	/* Test case 2: a key shorter than the output. */
	CHECK_INT(crypto_hmac_sha256("Jefe", 4, "what do ya want for nothing?",
	                             28, md),
	          0);
	CHECK_STR(hex32(md), "5bdcc146bf60754e6a042426089575c7"
	                     "5a003f089d2739839dec58b964ec3843");
	/* Test case 6: a key longer than the block, hashed first. */
	memset(key, 0xaa, sizeof(key));
	CHECK_INT(crypto_hmac_sha256(key, sizeof(key),
	                             "Test Using Larger Than Block-Size Key - "
	                             "Hash Key First",
	                             54, md),
	          0);
	CHECK_STR(hex32(md), "60e431591ee0b67f0d8a26aacbf5b77f"
	                     "8e0bc6213728c5140546040f0ee37f54");
	/* Empty key and empty message. */
	CHECK_INT(crypto_hmac_sha256(NULL, 0, NULL, 0, md), 0);
	CHECK_STR(hex32(md), "b613679a0814d9ec772f95d778c35fc5"
	                     "ff1697c493715653c6c712144292c5ad");
}

TEST(hmac_mercadopago_example)
{
	static const char key[] = "your_secret_key_here";
	static const char manifest[] =
	        "id:123456;request-id:bb56a2f1-6aae-46ac-982e-9dcd3581d08e;"
	        "ts:1742505638683;";
	unsigned char md[CRYPTO_SHA256_LEN];

	CHECK_INT(crypto_hmac_sha256(key, strlen(key), manifest,
	                             strlen(manifest), md),
	          0);
	CHECK_STR(hex32(md), "5e0a7ed2ea5ece575e9d1a9bb80f7ce6"
	                     "ca43d6d30e8be93413bae108b94ad7cd");
}

TEST(base64_rfc_4648_vectors)
{
	static const char *const plain[] = {"",     "f",     "fo",    "foo",
	                                    "foob", "fooba", "foobar"};
	static const char *const coded[] = {
	        "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};

	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		unsigned char *out = NULL;
		size_t outlen = 0;
		char *enc = crypto_base64_encode(plain[i], strlen(plain[i]));
		int rc;

		CHECK(enc != NULL);
		rc = strcmp(enc, coded[i]);
		free(enc);
		CHECK_INT(rc, 0);
		CHECK_INT(crypto_base64_decode(coded[i], strlen(coded[i]), &out,
		                               &outlen),
		          0);
		rc = outlen == strlen(plain[i]) &&
		     memcmp(out, plain[i], outlen) == 0 && out[outlen] == '\0';
		free(out);
		CHECK(rc);
	}
}

TEST(base64url_alphabet)
{
	static const unsigned char bytes[] = {0xfb, 0xff};
	unsigned char *out = NULL;
	size_t outlen = 0;
	char *std = crypto_base64_encode(bytes, sizeof(bytes));
	char *url = crypto_base64url_encode(bytes, sizeof(bytes));
	int ok = std != NULL && url != NULL && strcmp(std, "+/8=") == 0 &&
	         strcmp(url, "-_8") == 0;

	free(std);
	free(url);
	CHECK(ok);
	/* Unpadded and padded forms both decode. */
	CHECK_INT(crypto_base64url_decode("-_8", 3, &out, &outlen), 0);
	ok = outlen == 2 && memcmp(out, bytes, 2) == 0;
	free(out);
	CHECK(ok);
	CHECK_INT(crypto_base64url_decode("-_8=", 4, &out, &outlen), 0);
	ok = outlen == 2 && memcmp(out, bytes, 2) == 0;
	free(out);
	CHECK(ok);
	/* Each alphabet refuses the other's two characters. */
	CHECK_INT(decodes("-_8=", 0), -1);
	CHECK_INT(decodes("+/8", 1), -1);
	CHECK_INT(decodes("+/8=", 1), -1);
	/* The RFC vectors, unpadded, through the URL decoder. */
	CHECK_INT(decodes("Zg", 1), 0);
	CHECK_INT(decodes("Zm8", 1), 0);
	CHECK_INT(decodes("Zm9vYmFy", 1), 0);
	CHECK_INT(decodes("", 1), 0);
}

TEST(base64_rejects_bad_input)
{
	static const char *const bad[] = {
	        "Zg",       /* padding required */
	        "Zg=",      /* short padding */
	        "Zg===",    /* too much padding */
	        "Z===",     /* one character cannot encode a byte */
	        "Z",        /* likewise */
	        "====",     /* padding only */
	        "=Zg=",     /* padding inside */
	        "Zg==Zg==", /* padding inside */
	        "Zm9=",     /* '9' leaves bits set after the second byte */
	        "Zh==",     /* 'h' leaves bits set after the first byte */
	        "Zm9v\n",   /* line break */
	        "Zm 9v",    /* space */
	        " Zm9v",    /* space */
	        "Zm9v\r\n", /* line break */
	        "Zm9*",     /* not in the alphabet */
	        "Zm9-",     /* URL alphabet */
	        "Zm9\xc3\xa9",
	};
	static const char *const bad_url[] = {
	        "Zg=",    "Zg===", "Z",    "Z=",   "Zh",     "Zm9",
	        "Zm9v\n", "Zm 9",  "Zm+v", "Zm/v", "Zg==Zg",
	};
	unsigned char *out = (unsigned char *)&out;
	size_t outlen = 12345;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (decodes(bad[i], 0) != -1)
			CHECK_FAIL_("accepted \"%s\"", bad[i]);
	}
	for (size_t i = 0; i < sizeof(bad_url) / sizeof(bad_url[0]); i++) {
		if (decodes(bad_url[i], 1) != -1)
			CHECK_FAIL_("url accepted \"%s\"", bad_url[i]);
	}
	/* An embedded NUL counts as a bad character, not an end. */
	CHECK_INT(crypto_base64_decode("Zm\0v", 4, &out, &outlen), -1);
	/* Outputs untouched on failure. */
	CHECK(out == (unsigned char *)&out);
	CHECK_INT(outlen, 12345);
	/* The canonical neighbours of the non-canonical ones decode. */
	CHECK_INT(decodes("Zg==", 0), 0);
	CHECK_INT(decodes("Zm8=", 0), 0);
}

TEST(base64_round_trip_all_lengths)
{
	unsigned char data[64];

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 37 + 11);
	for (size_t len = 0; len <= sizeof(data); len++) {
		for (int url = 0; url < 2; url++) {
			unsigned char *out = NULL;
			size_t outlen = 0;
			char *enc = url ? crypto_base64url_encode(data, len)
			                : crypto_base64_encode(data, len);
			int rc, same;

			CHECK(enc != NULL);
			rc = url ? crypto_base64url_decode(enc, strlen(enc),
			                                   &out, &outlen)
			         : crypto_base64_decode(enc, strlen(enc), &out,
			                                &outlen);
			same = rc == 0 && outlen == len &&
			       memcmp(out, data, len) == 0;
			free(enc);
			free(out);
			CHECK(same);
		}
	}
}

TEST(hex_round_trip_and_rejects)
{
	unsigned char all[256], back[256];
	char hex[2 * 256 + 1];
	size_t n = 0;

	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	crypto_hex(all, sizeof(all), hex);
	CHECK_INT(strlen(hex), 512);
	CHECK(is_lower_hex(hex));
	CHECK(strncmp(hex, "000102", 6) == 0);
	CHECK_INT(crypto_hex_decode(hex, 512, back, sizeof(back), &n), 0);
	CHECK_INT(n, 256);
	CHECK(memcmp(all, back, 256) == 0);
	/* Either case. */
	CHECK_INT(crypto_hex_decode("DeadBEEF", 8, back, sizeof(back), &n), 0);
	CHECK_INT(n, 4);
	CHECK(memcmp(back, "\xde\xad\xbe\xef", 4) == 0);
	CHECK_INT(crypto_hex_decode("", 0, back, 0, &n), 0);
	CHECK_INT(n, 0);
	/* Rejects, with the outputs untouched. */
	n = 99;
	back[0] = 0x5a;
	CHECK_INT(crypto_hex_decode("abc", 3, back, sizeof(back), &n), -1);
	CHECK_INT(crypto_hex_decode("0g", 2, back, sizeof(back), &n), -1);
	CHECK_INT(crypto_hex_decode("0x00", 4, back, sizeof(back), &n), -1);
	CHECK_INT(crypto_hex_decode(" 0", 2, back, sizeof(back), &n), -1);
	CHECK_INT(crypto_hex_decode("+0", 2, back, sizeof(back), &n), -1);
	CHECK_INT(crypto_hex_decode("0\0", 2, back, sizeof(back), &n), -1);
	CHECK_INT(crypto_hex_decode("00ff00zz", 8, back, sizeof(back), &n), -1);
	CHECK_INT(crypto_hex_decode("001122", 6, back, 2, &n), -1);
	CHECK_INT(n, 99);
	CHECK_INT(back[0], 0x5a);
}

TEST(equal_in_constant_time)
{
	static const char a[] = "0123456789abcdef";
	char b[sizeof(a)];

	memcpy(b, a, sizeof(a));
	CHECK_INT(crypto_equal(a, 16, b, 16), 1);
	b[15] = 'g';
	CHECK_INT(crypto_equal(a, 16, b, 16), 0);
	b[15] = 'f';
	b[0] = '1';
	CHECK_INT(crypto_equal(a, 16, b, 16), 0);
	CHECK_INT(crypto_equal(a, 16, a, 15), 0);
	CHECK_INT(crypto_equal(a, 15, a, 16), 0);
	CHECK_INT(crypto_equal(a, 0, b, 0), 1);
	CHECK_INT(crypto_equal(NULL, 0, NULL, 0), 1);
	CHECK_INT(crypto_equal(a, 0, b, 1), 0);
	CHECK_INT(crypto_streq("secret", "secret"), 1);
	CHECK_INT(crypto_streq("secret", "secreT"), 0);
	CHECK_INT(crypto_streq("secret", "secret2"), 0);
	CHECK_INT(crypto_streq("", ""), 1);
	CHECK_INT(crypto_streq(NULL, "x"), 0);
	CHECK_INT(crypto_streq("x", NULL), 0);
	CHECK_INT(crypto_streq(NULL, NULL), 0);
}

/* A fixed key and a sealed refresh token for the sealed-box tests. */
static const unsigned char seal_key[CRYPTO_KEY_LEN] = {
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
        0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
        0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};
static const char secret[] = "1//0gRefreshTokenForTheSchoolCalendar";
static const char aad[] = "google_oauth:1";

TEST(seal_open_round_trip)
{
	unsigned char *box = NULL, *plain = NULL;
	size_t boxlen = 0, plainlen = 0;
	int ok;

	CHECK_INT(crypto_seal(seal_key, secret, strlen(secret), aad,
	                      strlen(aad), &box, &boxlen),
	          0);
	CHECK_INT(boxlen, strlen(secret) + CRYPTO_SEAL_OVERHEAD);
	CHECK_INT(box[0], CRYPTO_SEAL_VERSION);
	/* The plaintext does not show through. */
	ok = memmem(box, boxlen, "Refresh", 7) == NULL;
	if (!ok)
		free(box);
	CHECK(ok);
	ok = crypto_open(seal_key, box, boxlen, aad, strlen(aad), &plain,
	                 &plainlen) == 0 &&
	     plainlen == strlen(secret) &&
	     strcmp((const char *)plain, secret) == 0;
	free(box);
	crypto_free_secret(plain, plainlen);
	CHECK(ok);
	/* Empty plaintext, no aad. */
	CHECK_INT(crypto_seal(seal_key, NULL, 0, NULL, 0, &box, &boxlen), 0);
	CHECK_INT(boxlen, CRYPTO_SEAL_OVERHEAD);
	plain = NULL;
	ok = crypto_open(seal_key, box, boxlen, NULL, 0, &plain, &plainlen) ==
	             0 &&
	     plainlen == 0 && plain != NULL && plain[0] == '\0';
	free(box);
	crypto_free_secret(plain, plainlen);
	CHECK(ok);
	crypto_free_secret(NULL, 10);
}

TEST(open_refuses_any_altered_byte)
{
	unsigned char *box = NULL, *plain = NULL;
	size_t boxlen = 0, plainlen = 7;
	size_t failures = 0;

	CHECK_INT(crypto_seal(seal_key, secret, strlen(secret), aad,
	                      strlen(aad), &box, &boxlen),
	          0);
	for (size_t i = 0; i < boxlen; i++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			box[i] ^= (unsigned char)(1u << bit);
			if (crypto_open(seal_key, box, boxlen, aad, strlen(aad),
			                &plain, &plainlen) != -1)
				failures++;
			box[i] ^= (unsigned char)(1u << bit);
		}
	}
	free(box);
	CHECK_INT(failures, 0);
	/* Nothing was handed out. */
	CHECK(plain == NULL);
	CHECK_INT(plainlen, 7);
}

TEST(open_refuses_wrong_key_aad_or_length)
{
	unsigned char *box = NULL, *plain = NULL, key[CRYPTO_KEY_LEN];
	size_t boxlen = 0, plainlen = 0;
	int refused = 1;

	CHECK_INT(crypto_seal(seal_key, secret, strlen(secret), aad,
	                      strlen(aad), &box, &boxlen),
	          0);
	memcpy(key, seal_key, sizeof(key));
	key[31] ^= 0x80;
	refused &= crypto_open(key, box, boxlen, aad, strlen(aad), &plain,
	                       &plainlen) == -1;
	refused &= crypto_open(seal_key, box, boxlen, "google_oauth:2",
	                       strlen(aad), &plain, &plainlen) == -1;
	refused &= crypto_open(seal_key, box, boxlen, NULL, 0, &plain,
	                       &plainlen) == -1;
	refused &= crypto_open(seal_key, box, boxlen, aad, strlen(aad) - 1,
	                       &plain, &plainlen) == -1;
	for (size_t n = 0; n < boxlen; n++)
		refused &= crypto_open(seal_key, box, n, aad, strlen(aad),
		                       &plain, &plainlen) == -1;
	/* A longer buffer whose tail is not the tag. */
	{
		unsigned char longer[256];

		memcpy(longer, box, boxlen);
		longer[boxlen] = 0;
		refused &= crypto_open(seal_key, longer, boxlen + 1, aad,
		                       strlen(aad), &plain, &plainlen) == -1;
	}
	free(box);
	CHECK(refused);
	CHECK(plain == NULL);
}

TEST(two_seals_differ)
{
	unsigned char *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	int differ;

	CHECK_INT(crypto_seal(seal_key, secret, strlen(secret), aad,
	                      strlen(aad), &a, &alen),
	          0);
	if (crypto_seal(seal_key, secret, strlen(secret), aad, strlen(aad), &b,
	                &blen) != 0) {
		free(a);
		CHECK(!"second seal failed");
	}
	differ = alen == blen && memcmp(a + 1, b + 1, CRYPTO_SEAL_NONCE) != 0 &&
	         memcmp(a, b, alen) != 0;
	free(a);
	free(b);
	CHECK(differ);
}

TEST(key_from_base64)
{
	unsigned char raw[33], key[CRYPTO_KEY_LEN];
	char *b64;
	int rc;

	for (size_t i = 0; i < sizeof(raw); i++)
		raw[i] = (unsigned char)(0xf0 - i);
	b64 = crypto_base64_encode(raw, 32);
	CHECK(b64 != NULL);
	rc = crypto_key_from_base64(b64, key);
	free(b64);
	CHECK_INT(rc, 0);
	CHECK(memcmp(key, raw, 32) == 0);

	memset(key, 0x33, sizeof(key));
	b64 = crypto_base64_encode(raw, 31);
	CHECK(b64 != NULL);
	rc = crypto_key_from_base64(b64, key);
	free(b64);
	CHECK_INT(rc, -1);
	b64 = crypto_base64_encode(raw, 33);
	CHECK(b64 != NULL);
	rc = crypto_key_from_base64(b64, key);
	free(b64);
	CHECK_INT(rc, -1);
	CHECK_INT(crypto_key_from_base64("not base64 at all!", key), -1);
	CHECK_INT(crypto_key_from_base64("", key), -1);
	CHECK_INT(crypto_key_from_base64(NULL, key), -1);
	/* 32 bytes, but unpadded (43 characters) or URL alphabet. */
	CHECK_INT(crypto_key_from_base64(
	                  "8O/u7ezr6uno5+bl5OPi4eDf3t3c29rZ2NfW1dTT0tE", key),
	          -1);
	CHECK_INT(crypto_key_from_base64(
	                  "8O_u7ezr6uno5-bl5OPi4eDf3t3c29rZ2NfW1dTT0tE=", key),
	          -1);
	CHECK_INT(crypto_key_from_base64(
	                  "8O/u7ezr6uno5+bl5OPi4eDf3t3c29rZ2NfW1dTT0tE=", key),
	          0);
	CHECK(memcmp(key, raw, 32) == 0);
}

TEST(key_untouched_on_refusal)
{
	unsigned char key[CRYPTO_KEY_LEN];

	memset(key, 0x33, sizeof(key));
	CHECK_INT(crypto_key_from_base64("AAAA", key), -1);
	for (size_t i = 0; i < sizeof(key); i++)
		CHECK_INT(key[i], 0x33);
}

TEST(pkce_rfc_7636_appendix_b)
{
	char challenge[CRYPTO_PKCE_CHALLENGE_LEN + 1];

	/*
	 * RFC 7636 Appendix B gives the bytes of SHA-256 of this verifier and
	 * their base64url, E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM.
	 */
	CHECK_INT(crypto_pkce_challenge(
	                  "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
	                  challenge, sizeof(challenge)),
	          0);
	CHECK_STR(challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
	/* Too small an output, too short a verifier, a reserved character. */
	CHECK_INT(crypto_pkce_challenge(
	                  "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
	                  challenge, sizeof(challenge) - 1),
	          -1);
	CHECK_INT(crypto_pkce_challenge(
	                  "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX",
	                  challenge, sizeof(challenge)),
	          -1);
	CHECK_INT(crypto_pkce_challenge(
	                  "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk+",
	                  challenge, sizeof(challenge)),
	          -1);
}

TEST(pkce_verifier_bounds)
{
	char v[130], challenge[CRYPTO_PKCE_CHALLENGE_LEN + 1];

	memset(v, 'a', sizeof(v));
	v[128] = '\0';
	CHECK_INT(crypto_pkce_challenge(v, challenge, sizeof(challenge)), 0);
	v[128] = '~';
	v[129] = '\0';
	CHECK_INT(crypto_pkce_challenge(v, challenge, sizeof(challenge)), -1);
	memcpy(v, "a.b_c~d-", 8);
	v[43] = '\0';
	CHECK_INT(crypto_pkce_challenge(v, challenge, sizeof(challenge)), 0);
}

TEST(pkce_generated_verifier)
{
	char a[CRYPTO_PKCE_VERIFIER_LEN + 1], b[CRYPTO_PKCE_VERIFIER_LEN + 1];
	char challenge[CRYPTO_PKCE_CHALLENGE_LEN + 1];

	CHECK_INT(crypto_pkce_verifier(a, sizeof(a)), 0);
	CHECK_INT(crypto_pkce_verifier(b, sizeof(b)), 0);
	CHECK_INT(strlen(a), 43);
	for (size_t i = 0; a[i] != '\0'; i++)
		CHECK(is_base64url_char(a[i]));
	CHECK(strcmp(a, b) != 0);
	CHECK_INT(crypto_pkce_challenge(a, challenge, sizeof(challenge)), 0);
	CHECK_INT(strlen(challenge), 43);
	CHECK_INT(crypto_pkce_verifier(a, sizeof(a) - 1), -1);
}

TEST(random_hex)
{
	char a[33], b[33], small[32];

	CHECK_INT(crypto_random_hex(a, sizeof(a), 16), 0);
	CHECK_INT(crypto_random_hex(b, sizeof(b), 16), 0);
	CHECK_INT(strlen(a), 32);
	CHECK(is_lower_hex(a));
	CHECK(strcmp(a, b) != 0);
	/* Too small: refused, untouched. */
	memcpy(small, "untouched", 10);
	CHECK_INT(crypto_random_hex(small, sizeof(small), 16), -1);
	CHECK_STR(small, "untouched");
	CHECK_INT(crypto_random_hex(small, 1, 0), 0);
	CHECK_STR(small, "");
}

TEST(random_bytes)
{
	unsigned char a[32], b[32];

	CHECK_INT(crypto_random(a, sizeof(a)), 0);
	CHECK_INT(crypto_random(b, sizeof(b)), 0);
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	CHECK_INT(crypto_random(NULL, 0), 0);
}

int main(void)
{
	RUN(sha256_fips_180_2);
	RUN(hmac_rfc_4231);
	RUN(hmac_mercadopago_example);
	RUN(base64_rfc_4648_vectors);
	RUN(base64url_alphabet);
	RUN(base64_rejects_bad_input);
	RUN(base64_round_trip_all_lengths);
	RUN(hex_round_trip_and_rejects);
	RUN(equal_in_constant_time);
	RUN(seal_open_round_trip);
	RUN(open_refuses_any_altered_byte);
	RUN(open_refuses_wrong_key_aad_or_length);
	RUN(two_seals_differ);
	RUN(key_from_base64);
	RUN(key_untouched_on_refusal);
	RUN(pkce_rfc_7636_appendix_b);
	RUN(pkce_verifier_bounds);
	RUN(pkce_generated_verifier);
	RUN(random_hex);
	RUN(random_bytes);
	return CHECK_DONE();
}
