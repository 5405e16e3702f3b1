/*
 * crypto.h - the cryptography the booking programs need, over OpenSSL
 * libcrypto 3.0: random bytes and tokens, SHA-256, HMAC-SHA256 (the
 * MercadoPago webhook signature), hex and base64 codecs, comparison of
 * secrets in constant time, an AES-256-GCM sealed box for secrets kept in
 * the database (the Google refresh token), and PKCE for the Google OAuth
 * flow.
 *
 * Nothing here logs or keeps a secret: buffers that held one are cleansed
 * before they are freed, and no error path says what a secret was.
 */
#ifndef CRYPTO_H
#define CRYPTO_H

#include <stddef.h>

#define CRYPTO_SHA256_LEN         32   /* bytes in a SHA-256 digest or HMAC */
#define CRYPTO_KEY_LEN            32   /* bytes in a sealed-box key (AES-256) */
#define CRYPTO_SEAL_VERSION       0x01 /* first byte of every sealed box */
#define CRYPTO_SEAL_NONCE         12   /* bytes of random GCM nonce */
#define CRYPTO_SEAL_TAG           16   /* bytes of GCM tag */
#define CRYPTO_SEAL_OVERHEAD      (1 + CRYPTO_SEAL_NONCE + CRYPTO_SEAL_TAG)
#define CRYPTO_PKCE_VERIFIER_LEN  43 /* chars crypto_pkce_verifier makes */
#define CRYPTO_PKCE_CHALLENGE_LEN 43 /* chars of an S256 challenge */

/*
 * Fills buf with len bytes from OpenSSL's CSPRNG (RAND_bytes).
 * Returns 0, or -1 when the generator fails; buf's contents are then
 * unspecified and must not be used.
 */
__attribute__((warn_unused_result)) int crypto_random(void *buf, size_t len);

/*
 * Writes nbytes random bytes as 2*nbytes lowercase hex digits and a NUL into
 * out (outsize must be at least 2*nbytes+1): a token for a URL, a state
 * parameter or an idempotency key.
 * Returns 0, or -1 when out is too small or the generator fails; out is
 * untouched on failure.
 */
__attribute__((warn_unused_result)) int
crypto_random_hex(char *out, size_t outsize, size_t nbytes);

/*
 * Writes the SHA-256 digest (FIPS 180-4) of len bytes at data into out.
 * Cannot fail short of libcrypto being unable to allocate a digest context;
 * it then aborts the process rather than hand back a wrong digest.
 */
void crypto_sha256(const void *data, size_t len,
                   unsigned char out[CRYPTO_SHA256_LEN]);

/*
 * Writes HMAC-SHA256 (RFC 2104, with SHA-256 as in RFC 4231) of data under
 * key into out. An empty key is allowed (key may then be NULL), as is empty
 * data.
 * Returns 0, or -1 when libcrypto fails; out is untouched on failure.
 */
__attribute__((warn_unused_result)) int
crypto_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                   unsigned char out[CRYPTO_SHA256_LEN]);

/*
 * Writes len bytes at in as 2*len lowercase hex digits and a NUL into out,
 * which the caller sizes to hold 2*len+1 bytes. Cannot fail.
 */
void crypto_hex(const unsigned char *in, size_t len, char *out);

/*
 * Decodes hexlen hex digits (either case) at hex into out, which holds
 * outsize bytes, and sets *outlen to the number of bytes written
 * (hexlen / 2). Strict: no prefix, no whitespace, no sign.
 * Returns 0, or -1 on an odd length, a character that is not a hex digit or
 * an out that is too small; out and *outlen are untouched on failure.
 */
__attribute__((warn_unused_result)) int
crypto_hex_decode(const char *hex, size_t hexlen, unsigned char *out,
                  size_t outsize, size_t *outlen);

/*
 * Compares two byte strings for a secret (a signature, a token). The time
 * taken depends on the lengths but not on the contents (CRYPTO_memcmp):
 * strings of different lengths are unequal at once.
 * Returns 1 when equal (two empty strings are equal), 0 otherwise.
 */
int crypto_equal(const void *a, size_t alen, const void *b, size_t blen);

/*
 * crypto_equal for two NUL-terminated secrets. NULL is never equal to
 * anything, not even to NULL.
 * Returns 1 when equal, 0 otherwise.
 */
int crypto_streq(const char *a, const char *b);

/*
 * Encodes len bytes at in as base64 (RFC 4648 section 4, standard alphabet,
 * padded with '=').
 * Returns a malloc'd NUL-terminated string, which the caller frees, or NULL
 * when memory runs out.
 */
__attribute__((warn_unused_result)) char *crypto_base64_encode(const void *in,
                                                               size_t len);

/*
 * Encodes len bytes at in as base64url (RFC 4648 section 5, URL and file
 * name safe alphabet, without padding, as JWTs and PKCE use it).
 * Returns a malloc'd NUL-terminated string, which the caller frees, or NULL
 * when memory runs out.
 */
__attribute__((warn_unused_result)) char *
crypto_base64url_encode(const void *in, size_t len);

/*
 * Decodes inlen characters at in as base64 (RFC 4648 section 4), strictly:
 * the standard alphabet only, the length a multiple of 4 with '=' padding,
 * no whitespace or line breaks, and the unused bits of the last character
 * zero (section 3.5: only the canonical encoding is accepted).
 * On success sets *out to a malloc'd buffer of the decoded bytes followed by
 * a NUL (not counted in *outlen), which the caller frees (with
 * crypto_free_secret when it holds a secret), and returns 0.
 * Returns -1 on malformed input or when memory runs out; *out and *outlen
 * are untouched on failure.
 */
__attribute__((warn_unused_result)) int
crypto_base64_decode(const char *in, size_t inlen, unsigned char **out,
                     size_t *outlen);

/*
 * crypto_base64_decode for base64url (RFC 4648 section 5): the URL alphabet
 * ('-' and '_' instead of '+' and '/'); padding optional, but when present
 * it must be exactly right. Same ownership and failure rules.
 */
__attribute__((warn_unused_result)) int
crypto_base64url_decode(const char *in, size_t inlen, unsigned char **out,
                        size_t *outlen);

/*
 * Seals len bytes at plain under the 32-byte key with AES-256-GCM (NIST SP
 * 800-38D), authenticating aadlen bytes at aad as well (e.g. the row the
 * secret belongs to, so a box cannot be moved to another row). The box is
 *   CRYPTO_SEAL_VERSION (1 byte) | nonce (12 random bytes) | ciphertext
 *   (len bytes) | tag (16 bytes),
 * CRYPTO_SEAL_OVERHEAD bytes longer than the plaintext. Nonces are random,
 * so one key should seal fewer than 2^32 boxes.
 * On success sets *out to the malloc'd box, which the caller frees, and
 * *outlen to its length, and returns 0. Returns -1 when libcrypto fails or
 * memory runs out; *out and *outlen are untouched on failure.
 */
__attribute__((warn_unused_result)) int
crypto_seal(const unsigned char key[CRYPTO_KEY_LEN], const void *plain,
            size_t len, const void *aad, size_t aadlen, unsigned char **out,
            size_t *outlen);

/*
 * Opens a box made by crypto_seal with the same key and aad.
 * On success sets *plain to the malloc'd plaintext followed by a NUL (not
 * counted in *plainlen) and *plainlen to its length, and returns 0; the
 * caller releases it with crypto_free_secret(*plain, *plainlen).
 * Returns -1 on an unknown version byte, a box shorter than
 * CRYPTO_SEAL_OVERHEAD, or a tag that does not verify (the box was altered,
 * or the key or aad differ), and when memory runs out; no plaintext is
 * released then, and *plain and *plainlen are untouched.
 */
__attribute__((warn_unused_result)) int
crypto_open(const unsigned char key[CRYPTO_KEY_LEN], const unsigned char *box,
            size_t boxlen, const void *aad, size_t aadlen,
            unsigned char **plain, size_t *plainlen);

/*
 * Overwrites len bytes at p (OPENSSL_cleanse, which the compiler cannot
 * remove) and frees p. Does nothing when p is NULL.
 */
void crypto_free_secret(void *p, size_t len);

/*
 * Decodes the NUL-terminated standard base64 (as crypto_base64_decode) at
 * b64 into key, for a sealed-box key held in the configuration.
 * Returns 0 when it decodes to exactly CRYPTO_KEY_LEN bytes, -1 otherwise;
 * key is untouched on failure.
 */
__attribute__((warn_unused_result)) int
crypto_key_from_base64(const char *b64, unsigned char key[CRYPTO_KEY_LEN]);

/*
 * Makes a PKCE code verifier (RFC 7636 section 4.1): 32 random bytes as
 * base64url, CRYPTO_PKCE_VERIFIER_LEN characters of the unreserved set, and
 * a NUL, into out (outsize at least CRYPTO_PKCE_VERIFIER_LEN + 1).
 * Returns 0, or -1 when out is too small or the generator fails; out is
 * untouched on failure.
 */
__attribute__((warn_unused_result)) int crypto_pkce_verifier(char *out,
                                                             size_t outsize);

/*
 * Writes the S256 code challenge of a NUL-terminated verifier (RFC 7636
 * section 4.2: base64url of SHA-256 of the verifier, no padding),
 * CRYPTO_PKCE_CHALLENGE_LEN characters and a NUL, into out (outsize at least
 * CRYPTO_PKCE_CHALLENGE_LEN + 1).
 * Returns 0, or -1 when the verifier is not 43 to 128 characters of
 * [A-Za-z0-9-._~] or out is too small; out is untouched on failure.
 */
__attribute__((warn_unused_result)) int
crypto_pkce_challenge(const char *verifier, char *out, size_t outsize);

/* The value of the hex digit c (either case), or -1. */
int crypto_hex_value(int c);

#endif
