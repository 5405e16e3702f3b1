/*
 * Fuzz target: MercadoPago's x-signature header, the manifest and the
 * verdict. The input is "<header>\n<data.id>\n<x-request-id>" (a NUL ends a
 * part as a newline does); the first byte after the header also sizes the
 * manifest's output buffer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "upstream/mp.h"

#define SECRET "fuzz-secret"
#define NOW    1800000000LL
#define TOL    300L

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next part of s[*at..n): up to a newline or NUL, as a new string. */
static char *next_part(const uint8_t *s, size_t n, size_t *at)
{
	size_t start = *at, end = start;
	char *out;

	while (end < n && s[end] != '\n' && s[end] != '\0')
		end++;
	out = malloc(end - start + 1);
	if (out == NULL)
		abort();
	memcpy(out, s + start, end - start);
	out[end - start] = '\0';
	*at = end < n ? end + 1 : end;
	return out;
}

static int all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

static int lower_hex64(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

/* The manifest's length by the rule of protocols.md §8.2. */
static size_t manifest_len(const char *id, const char *req, const char *ts)
{
	return (*id ? 4 + strlen(id) : 0) + (*req ? 12 + strlen(req) : 0) +
	       (*ts ? 4 + strlen(ts) : 0);
}

/* mp_manifest into a big buffer and into one of outlen bytes. */
static void check_manifest(const char *id, const char *req, const char *ts,
                           size_t outlen)
{
	size_t want = manifest_len(id, req, ts), i;
	char *big = malloc(want + 1), *small = malloc(outlen + 1);

	if (big == NULL || small == NULL)
		abort();
	if (mp_manifest(id, req, ts, big, want + 1) != 0 || strlen(big) != want)
		abort();
	/* One byte short fails (there is always room for the NUL). */
	if (want > 0 && mp_manifest(id, req, ts, big, want) != -1)
		abort();
	if (*id) {
		if (memcmp(big, "id:", 3) != 0 || big[3 + strlen(id)] != ';')
			abort();
		for (i = 0; id[i]; i++) {
			char c = id[i];

			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			if (big[3 + i] != c)
				abort();
		}
	}
	memset(small, 'Z', outlen + 1);
	if (mp_manifest(id, req, ts, small, outlen) == 0) {
		if (want >= outlen || strcmp(small, big) != 0)
			abort();
	} else {
		if (want < outlen)
			abort();
		for (i = 0; i <= outlen; i++)
			if (small[i] != 'Z')
				abort();
	}
	free(small);
	free(big);
}

/* Signs (id, req, ts) properly and checks that it verifies. */
static void check_round_trip(const char *id, const char *req, const char *ts)
{
	char manifest[1024], hex[65], *header;
	unsigned char mac[CRYPTO_SHA256_LEN];
	long long t, now;
	size_t n;

	if (strlen(ts) > 16 ||
	    mp_manifest(id, req, ts, manifest, sizeof(manifest)) != 0)
		return;
	if (crypto_hmac_sha256(SECRET, strlen(SECRET), manifest,
	                       strlen(manifest), mac) != 0)
		abort();
	crypto_hex(mac, sizeof(mac), hex);
	n = strlen(ts) + 80;
	header = malloc(n);
	if (header == NULL)
		abort();
	snprintf(header, n, "ts=%s,v1=%s", ts, hex);
	t = strtoll(ts, NULL, 10);
	now = strlen(ts) > 10 ? t / 1000 : t;
	if (mp_signature_verify(SECRET, header, id, req, now, TOL) != MP_SIG_OK)
		abort();
	if (mp_signature_verify(SECRET "x", header, id, req, now, TOL) !=
	    MP_SIG_MISMATCH)
		abort();
	if (mp_signature_verify(SECRET, header, id, req, now + TOL + 1, TOL) !=
	    MP_SIG_STALE)
		abort();
	free(header);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t at = 0, outlen;
	char *header = next_part(data, size, &at);
	char *id, *req, ts[32], v1[65];
	int rc;
	enum mp_sig s;

	outlen = at < size ? data[at] : 64;
	id = next_part(data, size, &at);
	req = next_part(data, size, &at);

	memset(ts, 'X', sizeof(ts));
	memset(v1, 'Y', sizeof(v1));
	rc = mp_signature_parse(header, ts, sizeof(ts), v1);
	if (rc == 0) {
		if (!all_digits(ts) || strlen(ts) >= sizeof(ts) ||
		    !lower_hex64(v1))
			abort();
	} else {
		size_t i;

		if (rc != -1)
			abort();
		for (i = 0; i < sizeof(ts); i++)
			if (ts[i] != 'X')
				abort();
		for (i = 0; i < sizeof(v1); i++)
			if (v1[i] != 'Y')
				abort();
	}

	s = mp_signature_verify(SECRET, header, id, req, NOW, TOL);
	if (s != MP_SIG_OK && s != MP_SIG_MISSING && s != MP_SIG_MALFORMED &&
	    s != MP_SIG_MISMATCH && s != MP_SIG_STALE)
		abort();
	if ((s == MP_SIG_MISSING) != (*header == '\0'))
		abort();
	if (*header && rc != 0 && s != MP_SIG_MALFORMED)
		abort();
	if (rc == 0 && strlen(ts) <= 16 && manifest_len(id, req, ts) < 1024 &&
	    s == MP_SIG_MALFORMED)
		abort();
	if (mp_sig_str(s) == NULL)
		abort();

	check_manifest(id, req, rc == 0 ? ts : "", outlen);
	check_manifest(id, req, header, outlen);
	if (rc == 0)
		check_round_trip(id, req, ts);

	free(req);
	free(id);
	free(header);
	return 0;
}
