#include "upstream/mp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "io/http.h"
#include "core/jsonio.h"
#include "core/limit.h"
#include "core/log.h"

const char *mp_sig_str(enum mp_sig s)
{
	switch (s) {
	case MP_SIG_OK:
		return "ok";
	case MP_SIG_MISSING:
		return "the x-signature header is missing";
	case MP_SIG_MALFORMED:
		return "the x-signature header is malformed";
	case MP_SIG_MISMATCH:
		return "the signature does not match";
	case MP_SIG_STALE:
		return "the signature's timestamp is too old";
	}
	return "the signature is not valid";
}

/* Copies s[0..n) without surrounding spaces into out. -1 if too long. */
static int trimmed(const char *s, size_t n, char *out, size_t outlen)
{
	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n >= outlen)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

int mp_signature_parse(const char *header, char *ts, size_t tslen, char v1[65])
{
	char key[16], val[128], got_ts[32] = "", got_v1[65] = "";
	const char *p = header;
	size_t i;

	while (p != NULL && *p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		const char *eq = memchr(p, '=', len);

		if (eq != NULL &&
		    trimmed(p, (size_t)(eq - p), key, sizeof(key)) == 0 &&
		    trimmed(eq + 1, len - (size_t)(eq + 1 - p), val,
		            sizeof(val)) == 0) {
			if (strcmp(key, "ts") == 0 &&
			    strlen(val) < sizeof(got_ts))
				memcpy(got_ts, val, strlen(val) + 1);
			else if (strcmp(key, "v1") == 0 && strlen(val) == 64)
				memcpy(got_v1, val, 65);
		}
		p = comma ? comma + 1 : NULL;
	}
	if (got_ts[0] == '\0' || got_v1[0] == '\0' || strlen(got_ts) >= tslen)
		return -1;
	for (i = 0; got_ts[i]; i++)
		if (got_ts[i] < '0' || got_ts[i] > '9')
			return -1;
	for (i = 0; i < 64; i++) {
		char c = got_v1[i];

		if (c >= 'A' && c <= 'F')
			got_v1[i] = (char)(c - 'A' + 'a');
		else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return -1;
	}
	memcpy(ts, got_ts, strlen(got_ts) + 1);
	memcpy(v1, got_v1, 65);
	return 0;
}

int mp_manifest(const char *data_id, const char *request_id, const char *ts,
                char *out, size_t outlen)
{
	struct buf b;
	size_t i;
	int rc = -1;

	buf_init(&b, outlen);
	if (data_id != NULL && *data_id) {
		if (buf_puts(&b, "id:"))
			goto out;
		for (i = 0; data_id[i]; i++) {
			char c = data_id[i];

			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			if (buf_append(&b, &c, 1))
				goto out;
		}
		if (buf_puts(&b, ";"))
			goto out;
	}
	if (request_id != NULL && *request_id &&
	    buf_printf(&b, "request-id:%s;", request_id))
		goto out;
	if (ts != NULL && *ts && buf_printf(&b, "ts:%s;", ts))
		goto out;
	if (b.len >= outlen)
		goto out;
	memcpy(out, buf_str(&b), b.len + 1);
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

enum mp_sig mp_signature_verify(const char *secret, const char *header,
                                const char *data_id, const char *request_id,
                                int64_t now, long tolerance_s)
{
	char ts[32], v1[65], manifest[1024], hex[65];
	unsigned char mac[32];
	int64_t t, ms = 0;

	if (header == NULL || *header == '\0')
		return MP_SIG_MISSING;
	if (mp_signature_parse(header, ts, sizeof(ts), v1) != 0 ||
	    strlen(ts) > 16)
		return MP_SIG_MALFORMED;
	if (mp_manifest(data_id, request_id, ts, manifest, sizeof(manifest)) !=
	            0 ||
	    crypto_hmac_sha256(secret, strlen(secret), manifest,
	                       strlen(manifest), mac) != 0)
		return MP_SIG_MALFORMED;
	crypto_hex(mac, sizeof(mac), hex);
	if (!crypto_equal(hex, 64, v1, 64))
		return MP_SIG_MISMATCH;
	/* Milliseconds; ten digits (or fewer) are seconds. ms keeps what the
	 * division drops, so a ts 300.5 s ahead is beyond 300 s. */
	t = strtoll(ts, NULL, 10);
	if (strlen(ts) > 10) {
		ms = t % 1000;
		t /= 1000;
	}
	if (t < now - tolerance_s || t > now + tolerance_s ||
	    (t == now + tolerance_s && ms > 0))
		return MP_SIG_STALE;
	return MP_SIG_OK;
}

/* Whether a Content-Type names JSON: application/json or a +json type,
 * parameters aside, in any case. */
static int is_json_type(const char *ctype)
{
	size_t n = strcspn(ctype, "; \t");

	return (n == 16 && strncasecmp(ctype, "application/json", 16) == 0) ||
	       (n > 5 && strncasecmp(ctype + n - 5, "+json", 5) == 0);
}

/*
 * GET mp_api_base + path with MP_ACCESS_TOKEN, at most tries times (0: the
 * client's setting). MP_OK when an answer came (*res holds it, whatever its
 * status), MP_REFUSED on 401/403 (*res too), MP_UNAVAILABLE when none came;
 * err says why. *res is the caller's to release in every case.
 */
static enum mp_result get(struct proc *proc, const char *path, int tries,
                          struct http_response *res, char *err, size_t errlen)
{
	char header[600], herr[LIMIT_ERROR_MESSAGE];
	const char *headers[2] = {header, NULL};
	struct http_request req;
	enum http_result hr;
	enum mp_result r = MP_UNAVAILABLE;
	struct buf url;

	buf_init(&url, 4096);
	if (buf_printf(&url, "%s%s", proc->cfg.mp_api_base, path)) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	snprintf(header, sizeof(header), "Authorization: Bearer %s",
	         proc->cfg.mp_access_token ? proc->cfg.mp_access_token : "");
	memset(&req, 0, sizeof(req));
	req.method = HTTP_GET;
	req.url = buf_str(&url);
	req.headers = headers;
	req.max_attempts = tries;
	hr = http_perform(proc->http, &req, res, herr, sizeof(herr));
	memset(header, 0, sizeof(header));
	if (hr != HTTP_OK) {
		snprintf(err, errlen, "MercadoPago: %s", herr);
		goto out;
	}
	if (res->status == 401 || res->status == 403) {
		snprintf(err, errlen,
		         "MercadoPago refused MP_ACCESS_TOKEN (HTTP %ld)",
		         res->status);
		r = MP_REFUSED;
		goto out;
	}
	r = MP_OK;
out:
	buf_free(&url);
	return r;
}

enum mp_result mp_payment_get(struct proc *proc, const char *request_id,
                              const char *id, int max_attempts,
                              struct json_object **out, char *err,
                              size_t errlen)
{
	char perr[128];
	struct http_response res = {0};
	char *enc = http_urlencode(id);
	struct buf path;
	enum mp_result r = MP_UNAVAILABLE;

	buf_init(&path, 1024);
	if (enc == NULL || buf_printf(&path, "/v1/payments/%s", enc)) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	r = get(proc, buf_str(&path), max_attempts, &res, err, errlen);
	if (r != MP_OK)
		goto out;
	r = MP_UNAVAILABLE;
	if (res.status == 404) {
		snprintf(err, errlen, "MercadoPago knows no payment %.64s", id);
		r = MP_NOT_FOUND;
		goto out;
	}
	if (res.status != 200) {
		snprintf(err, errlen, "MercadoPago answered HTTP %ld",
		         res.status);
		goto out;
	}
	if (!is_json_type(res.content_type)) {
		/* A page on the way (a proxy's, a maintenance one): not
		 * MercadoPago's answer. */
		snprintf(err, errlen, "MercadoPago's answer is not JSON");
		goto out;
	}
	*out = jsonio_parse(res.body, res.body_len, LIMIT_MP_JSON_DEPTH, perr,
	                    sizeof(perr));
	if (*out == NULL || !json_object_is_type(*out, json_type_object)) {
		if (*out != NULL)
			snprintf(perr, sizeof(perr), "it is not a JSON object");
		json_object_put(*out);
		*out = NULL;
		snprintf(err, errlen,
		         "MercadoPago's answer could not be read (%s)", perr);
		r = MP_UNREADABLE;
		goto out;
	}
	r = MP_OK;
out:
	(void)request_id;
	http_response_free(&res);
	buf_free(&path);
	free(enc);
	return r;
}

enum mp_result mp_user_me(struct proc *proc, struct mp_user *out, char *err,
                          size_t errlen)
{
	char perr[64];
	struct http_response res = {0};
	struct json_object *body = NULL, *id;
	enum mp_result r;
	const char *s;

	memset(out, 0, sizeof(*out));
	r = get(proc, "/users/me", 1, &res, err, errlen);
	out->status = res.status;
	if (r != MP_OK)
		goto out;
	r = MP_UNAVAILABLE;
	body = jsonio_parse(res.body, res.body_len, 16, perr, sizeof(perr));
	if (res.status != 200 || body == NULL ||
	    !json_object_is_type(body, json_type_object)) {
		snprintf(err, errlen, "MercadoPago answered HTTP %ld%s",
		         res.status,
		         res.status == 200 ? " without a JSON object" : "");
		goto out;
	}
	id = jsonio_member(body, "id", json_type_int);
	out->id = id ? (long long)json_object_get_int64(id) : 0;
	s = jsonio_string(body, "nickname");
	snprintf(out->nickname, sizeof(out->nickname), "%s", s ? s : "");
	s = jsonio_string(body, "site_id");
	snprintf(out->site_id, sizeof(out->site_id), "%s", s ? s : "");
	r = MP_OK;
out:
	json_object_put(body);
	http_response_free(&res);
	return r;
}
