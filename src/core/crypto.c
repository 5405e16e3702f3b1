/*
 * crypto.c - random bytes, digests, codecs, constant-time comparison, the
 * AES-256-GCM sealed box and PKCE, over OpenSSL libcrypto 3.0. See crypto.h.
 */
#include "core/crypto.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

/* The largest chunk handed to a libcrypto call that takes an int length. */
#define CHUNK_MAX (1 << 30)

static const char hex_digits[] = "0123456789abcdef";

/* RFC 4648 section 4, Table 1, and section 5, Table 2. */
static const char b64_std[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int crypto_random(void *buf, size_t len)
{
	unsigned char *p = buf;

	if (buf == NULL && len > 0)
		return -1;
	while (len > 0) {
		size_t n = len < CHUNK_MAX ? len : CHUNK_MAX;

		if (RAND_bytes(p, (int)n) != 1)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

void crypto_hex(const unsigned char *in, size_t len, char *out)
{
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = hex_digits[in[i] >> 4];
		out[2 * i + 1] = hex_digits[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

int crypto_random_hex(char *out, size_t outsize, size_t nbytes)
{
	unsigned char *raw = NULL;
	int rc = -1;

	if (out == NULL || nbytes > (SIZE_MAX - 1) / 2 ||
	    outsize < 2 * nbytes + 1)
		goto out;
	raw = malloc(nbytes > 0 ? nbytes : 1);
	if (raw == NULL)
		goto out;
	if (crypto_random(raw, nbytes) != 0)
		goto out;
	crypto_hex(raw, nbytes, out);
	rc = 0;
out:
	crypto_free_secret(raw, nbytes);
	return rc;
}

void crypto_sha256(const void *data, size_t len,
                   unsigned char out[CRYPTO_SHA256_LEN])
{
	static const unsigned char empty[1];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (data == NULL)
		data = empty;
	/*
	 * EVP_Digest fails only when it cannot allocate its context or fetch
	 * SHA-256; there is no digest to give back then, and a caller that
	 * cannot be told must not go on with whatever out held.
	 */
	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != CRYPTO_SHA256_LEN)
		abort();
	memcpy(out, md, CRYPTO_SHA256_LEN);
}

int crypto_hmac_sha256(const void *key, size_t keylen, const void *data,
                       size_t len, unsigned char out[CRYPTO_SHA256_LEN])
{
	static const unsigned char empty[1];
	unsigned char mac[EVP_MAX_MD_SIZE];
	size_t maclen = 0;
	int rc = -1;

	if ((key == NULL && keylen > 0) || (data == NULL && len > 0))
		goto out;
	/* A NULL key means "keep the key already set"; "" is an empty key. */
	if (key == NULL)
		key = empty;
	if (data == NULL)
		data = empty;
	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, keylen, data,
	              len, mac, sizeof(mac), &maclen) == NULL ||
	    maclen != CRYPTO_SHA256_LEN)
		goto out;
	memcpy(out, mac, CRYPTO_SHA256_LEN);
	rc = 0;
out:
	OPENSSL_cleanse(mac, sizeof(mac));
	return rc;
}

int crypto_hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int crypto_hex_decode(const char *hex, size_t hexlen, unsigned char *out,
                      size_t outsize, size_t *outlen)
{
	size_t i;

	if ((hex == NULL && hexlen > 0) || outlen == NULL || hexlen % 2 != 0 ||
	    hexlen / 2 > outsize || (out == NULL && hexlen > 0))
		return -1;
	/* Check everything first so that out is untouched on failure. */
	for (i = 0; i < hexlen; i++)
		if (crypto_hex_value(hex[i]) < 0)
			return -1;
	for (i = 0; i < hexlen / 2; i++)
		out[i] = (unsigned char)(crypto_hex_value(hex[2 * i]) << 4 |
		                         crypto_hex_value(hex[2 * i + 1]));
	*outlen = hexlen / 2;
	return 0;
}

int crypto_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	if (alen != blen)
		return 0;
	if (alen == 0)
		return 1;
	if (a == NULL || b == NULL)
		return 0;
	return CRYPTO_memcmp(a, b, alen) == 0;
}

int crypto_streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return 0;
	return crypto_equal(a, strlen(a), b, strlen(b));
}

/* Characters base64 (padded or not) needs for len bytes, or 0 on overflow. */
static size_t b64_encoded_len(size_t len, int pad)
{
	size_t full = len / 3, rest = len % 3;

	if (full > (SIZE_MAX - 5) / 4)
		return 0;
	if (rest == 0)
		return 4 * full;
	return 4 * full + (pad ? 4 : rest + 1);
}

/*
 * Writes the base64 of len bytes at in with the given alphabet (RFC 4648
 * section 4), padded or not, and a NUL into out, which has room for
 * b64_encoded_len(len, pad) + 1 bytes.
 */
static void b64_encode_into(const unsigned char *in, size_t len, char *out,
                            const char *alphabet, int pad)
{
	size_t i = 0, o = 0;

	for (; len - i >= 3; i += 3) {
		unsigned long v = (unsigned long)in[i] << 16 |
		                  (unsigned long)in[i + 1] << 8 | in[i + 2];

		out[o++] = alphabet[v >> 18 & 0x3f];
		out[o++] = alphabet[v >> 12 & 0x3f];
		out[o++] = alphabet[v >> 6 & 0x3f];
		out[o++] = alphabet[v & 0x3f];
	}
	if (len - i == 1) {
		unsigned long v = (unsigned long)in[i] << 16;

		out[o++] = alphabet[v >> 18 & 0x3f];
		out[o++] = alphabet[v >> 12 & 0x3f];
		if (pad) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (len - i == 2) {
		unsigned long v = (unsigned long)in[i] << 16 |
		                  (unsigned long)in[i + 1] << 8;

		out[o++] = alphabet[v >> 18 & 0x3f];
		out[o++] = alphabet[v >> 12 & 0x3f];
		out[o++] = alphabet[v >> 6 & 0x3f];
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
}

static char *b64_encode(const void *in, size_t len, const char *alphabet,
                        int pad)
{
	size_t n = b64_encoded_len(len, pad);
	char *out;

	if ((n == 0 && len > 0) || (in == NULL && len > 0))
		return NULL;
	out = malloc(n + 1);
	if (out == NULL)
		return NULL;
	b64_encode_into(in, len, out, alphabet, pad);
	return out;
}

char *crypto_base64_encode(const void *in, size_t len)
{
	return b64_encode(in, len, b64_std, 1);
}

char *crypto_base64url_encode(const void *in, size_t len)
{
	return b64_encode(in, len, b64_url, 0);
}

/* The 6-bit value of c in the alphabet whose last two are c62, c63, or -1. */
static int b64_value(char c, char c62, char c63)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == c62)
		return 62;
	if (c == c63)
		return 63;
	return -1;
}

/*
 * The strict decoder behind both public ones: c62 and c63 name the
 * alphabet, pad_required says whether the input must be padded to a
 * multiple of 4 (it may always be, and then correctly).
 */
static int b64_decode(const char *in, size_t inlen, unsigned char **out,
                      size_t *outlen, char c62, char c63, int pad_required)
{
	unsigned char *buf = NULL;
	size_t pad = 0, n, full, rest, dlen = 0, i, o = 0;
	int v[4], rc = -1, k;

	if ((in == NULL && inlen > 0) || out == NULL || outlen == NULL)
		goto out;
	while (pad < inlen && in[inlen - 1 - pad] == '=')
		pad++;
	if (pad > 2 || (pad > 0 && inlen % 4 != 0))
		goto out;
	n = inlen - pad;
	full = n / 4;
	rest = n % 4;
	/* RFC 4648 section 4: "==" ends a 2-character, "=" a 3-character
	 * quantum; a lone character cannot encode a byte. */
	if (rest == 1 || (pad == 2 && rest != 2) || (pad == 1 && rest != 3) ||
	    (pad == 0 && rest != 0 && pad_required))
		goto out;
	dlen = 3 * full + (rest == 0 ? 0 : rest - 1);
	buf = malloc(dlen + 1);
	if (buf == NULL)
		goto out;
	for (i = 0; i < 4 * full; i += 4) {
		for (k = 0; k < 4; k++)
			if ((v[k] = b64_value(in[i + k], c62, c63)) < 0)
				goto out;
		buf[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		buf[o++] = (unsigned char)((v[1] & 0x0f) << 4 | v[2] >> 2);
		buf[o++] = (unsigned char)((v[2] & 0x03) << 6 | v[3]);
	}
	if (rest > 0) {
		for (k = 0; k < (int)rest; k++)
			if ((v[k] = b64_value(in[i + k], c62, c63)) < 0)
				goto out;
		buf[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		/* Section 3.5: the bits past the last byte must be zero. */
		if (rest == 2 && (v[1] & 0x0f) != 0)
			goto out;
		if (rest == 3) {
			buf[o++] =
			        (unsigned char)((v[1] & 0x0f) << 4 | v[2] >> 2);
			if ((v[2] & 0x03) != 0)
				goto out;
		}
	}
	buf[o] = '\0';
	*out = buf;
	*outlen = dlen;
	buf = NULL;
	rc = 0;
out:
	crypto_free_secret(buf, dlen);
	return rc;
}

int crypto_base64_decode(const char *in, size_t inlen, unsigned char **out,
                         size_t *outlen)
{
	return b64_decode(in, inlen, out, outlen, '+', '/', 1);
}

int crypto_base64url_decode(const char *in, size_t inlen, unsigned char **out,
                            size_t *outlen)
{
	return b64_decode(in, inlen, out, outlen, '-', '_', 0);
}

void crypto_free_secret(void *p, size_t len)
{
	if (p == NULL)
		return;
	OPENSSL_cleanse(p, len);
	free(p);
}

/* EVP_CipherUpdate over any length, in chunks that fit its int. */
static int cipher_update(EVP_CIPHER_CTX *ctx, unsigned char *out,
                         const unsigned char *in, size_t len)
{
	while (len > 0) {
		size_t n = len < CHUNK_MAX ? len : CHUNK_MAX;
		int outl = 0;

		/* GCM is a stream mode: every call reports all n bytes. */
		if (EVP_CipherUpdate(ctx, out, &outl, in, (int)n) != 1 ||
		    (size_t)outl != n)
			return -1;
		if (out != NULL)
			out += n;
		in += n;
		len -= n;
	}
	return 0;
}

int crypto_seal(const unsigned char key[CRYPTO_KEY_LEN], const void *plain,
                size_t len, const void *aad, size_t aadlen, unsigned char **out,
                size_t *outlen)
{
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char *box = NULL, *nonce, *ct;
	size_t boxlen = 0;
	int outl = 0, rc = -1;

	if (key == NULL || (plain == NULL && len > 0) ||
	    (aad == NULL && aadlen > 0) || out == NULL || outlen == NULL ||
	    len > SIZE_MAX - CRYPTO_SEAL_OVERHEAD)
		goto out;
	boxlen = len + CRYPTO_SEAL_OVERHEAD;
	box = malloc(boxlen);
	if (box == NULL)
		goto out;
	box[0] = CRYPTO_SEAL_VERSION;
	nonce = box + 1;
	ct = nonce + CRYPTO_SEAL_NONCE;
	if (crypto_random(nonce, CRYPTO_SEAL_NONCE) != 0)
		goto out;
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL)
		goto out;
	/* The default GCM IV length is 12 bytes (SP 800-38D section 8.2). */
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1)
		goto out;
	if (cipher_update(ctx, NULL, aad, aadlen) != 0)
		goto out;
	if (cipher_update(ctx, ct, plain, len) != 0)
		goto out;
	if (EVP_EncryptFinal_ex(ctx, ct + len, &outl) != 1 || outl != 0)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, CRYPTO_SEAL_TAG,
	                        ct + len) != 1)
		goto out;
	*out = box;
	*outlen = boxlen;
	box = NULL;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	free(box);
	return rc;
}

int crypto_open(const unsigned char key[CRYPTO_KEY_LEN],
                const unsigned char *box, size_t boxlen, const void *aad,
                size_t aadlen, unsigned char **plain, size_t *plainlen)
{
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char *buf = NULL, tag[CRYPTO_SEAL_TAG];
	const unsigned char *nonce, *ct;
	size_t len = 0;
	int outl = 0, rc = -1;

	if (key == NULL || box == NULL || (aad == NULL && aadlen > 0) ||
	    plain == NULL || plainlen == NULL ||
	    boxlen < CRYPTO_SEAL_OVERHEAD || box[0] != CRYPTO_SEAL_VERSION)
		goto out;
	len = boxlen - CRYPTO_SEAL_OVERHEAD;
	nonce = box + 1;
	ct = nonce + CRYPTO_SEAL_NONCE;
	/* EVP_CIPHER_CTX_ctrl takes a non-const pointer: hand it a copy. */
	memcpy(tag, ct + len, CRYPTO_SEAL_TAG);
	buf = malloc(len + 1);
	if (buf == NULL)
		goto out;
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL)
		goto out;
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1)
		goto out;
	if (cipher_update(ctx, NULL, aad, aadlen) != 0)
		goto out;
	if (cipher_update(ctx, buf, ct, len) != 0)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, CRYPTO_SEAL_TAG,
	                        tag) != 1)
		goto out;
	/* The tag is checked here; nothing decrypted is released before. */
	if (EVP_DecryptFinal_ex(ctx, buf + len, &outl) != 1 || outl != 0)
		goto out;
	buf[len] = '\0';
	*plain = buf;
	*plainlen = len;
	buf = NULL;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	crypto_free_secret(buf, len);
	return rc;
}

int crypto_key_from_base64(const char *b64, unsigned char key[CRYPTO_KEY_LEN])
{
	unsigned char *raw = NULL;
	size_t rawlen = 0;
	int rc = -1;

	if (b64 == NULL || key == NULL)
		goto out;
	if (crypto_base64_decode(b64, strlen(b64), &raw, &rawlen) != 0)
		goto out;
	if (rawlen != CRYPTO_KEY_LEN)
		goto out;
	memcpy(key, raw, CRYPTO_KEY_LEN);
	rc = 0;
out:
	crypto_free_secret(raw, rawlen);
	return rc;
}

int crypto_pkce_verifier(char *out, size_t outsize)
{
	/* 32 bytes give 43 characters (RFC 7636 section 4.1). */
	unsigned char raw[32];
	int rc = -1;

	if (out == NULL || outsize < CRYPTO_PKCE_VERIFIER_LEN + 1)
		goto out;
	if (crypto_random(raw, sizeof(raw)) != 0)
		goto out;
	b64_encode_into(raw, sizeof(raw), out, b64_url, 0);
	rc = 0;
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	return rc;
}

/* RFC 7636 section 4.1: unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~" */
static int pkce_unreserved(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

int crypto_pkce_challenge(const char *verifier, char *out, size_t outsize)
{
	unsigned char md[CRYPTO_SHA256_LEN];
	size_t len;

	if (verifier == NULL || out == NULL ||
	    outsize < CRYPTO_PKCE_CHALLENGE_LEN + 1)
		return -1;
	/* strnlen: a long verifier is refused without reading all of it. */
	len = strnlen(verifier, 129);
	if (len < 43 || len > 128)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (!pkce_unreserved(verifier[i]))
			return -1;
	/* Section 4.2: code_challenge = BASE64URL(SHA256(ASCII(verifier))). */
	crypto_sha256(verifier, len, md);
	b64_encode_into(md, sizeof(md), out, b64_url, 0);
	return 0;
}
