#include "web/request.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/crypto.h"
#include "core/jsonio.h"

const char *request_param(const struct request *req, const char *name)
{
	size_t n = strlen(name);
	char *const *e;

	if (req->envp == NULL)
		return NULL;
	for (e = req->envp; *e; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

const char *request_header(const struct request *req, const char *name)
{
	char key[128];
	size_t i, n = strlen(name);

	if (n + 6 >= sizeof(key))
		return NULL;
	memcpy(key, "HTTP_", 5);
	for (i = 0; i < n; i++)
		key[5 + i] = name[i] == '-'
		                     ? '_'
		                     : (char)toupper((unsigned char)name[i]);
	key[5 + n] = '\0';
	return request_param(req, key);
}

/* A request id from nginx is used when it is short and plain. */
static int sane_request_id(const char *s)
{
	size_t n = 0;

	if (s == NULL || *s == '\0')
		return 0;
	for (; s[n]; n++)
		if (n >= LIMIT_REQUEST_ID ||
		    !(isalnum((unsigned char)s[n]) || s[n] == '-' ||
		      s[n] == '_' || s[n] == '.'))
			return 0;
	return 1;
}

int request_init(struct request *req, char *const *envp, char *err,
                 size_t errlen)
{
	const char *method, *uri, *id, *q;
	size_t n, i;

	memset(req, 0, sizeof(*req));
	req->envp = envp;
	buf_init(&req->body, LIMIT_BODY_BYTES);
	req->query = "";

	id = request_param(req, "REQUEST_ID");
	if (sane_request_id(id))
		memcpy(req->request_id, id, strlen(id) + 1);
	else if (crypto_random_hex(req->request_id, sizeof(req->request_id),
	                           16) != 0)
		memcpy(req->request_id, "unknown", 8);

	/* The path comes from REQUEST_URI, without its query string;
	 * a CGI server that does not set it gives SCRIPT_NAME + PATH_INFO. */
	uri = request_param(req, "REQUEST_URI");
	if (uri != NULL) {
		n = strcspn(uri, "?#");
		if (n == 0 || n > LIMIT_PATH_BYTES || uri[0] != '/') {
			snprintf(err, errlen, "the request path is not valid");
			return 400;
		}
		memcpy(req->path, uri, n);
		req->path[n] = '\0';
	} else {
		const char *script = request_param(req, "SCRIPT_NAME");
		const char *info = request_param(req, "PATH_INFO");
		int w = snprintf(req->path, sizeof(req->path), "%s%s",
		                 script ? script : "", info ? info : "");

		if (w <= 0 || (size_t)w >= sizeof(req->path) ||
		    req->path[0] != '/') {
			snprintf(err, errlen, "the request path is not valid");
			return 400;
		}
	}
	for (i = 0; req->path[i]; i++)
		if ((unsigned char)req->path[i] <= 0x20 ||
		    (unsigned char)req->path[i] >= 0x7f) {
			snprintf(err, errlen, "the request path is not valid");
			return 400;
		}

	/* The method after the path: a request refused for its method is
	 * still answered the way its path answers (a page, or JSON). */
	method = request_param(req, "REQUEST_METHOD");
	if (method == NULL || (n = strlen(method)) == 0 ||
	    n >= sizeof(req->method)) {
		snprintf(err, errlen, "the request has no valid method");
		return 400;
	}
	for (i = 0; i < n; i++)
		if (!isupper((unsigned char)method[i])) {
			snprintf(err, errlen,
			         "the request has no valid method");
			return 400;
		}
	memcpy(req->method, method, n + 1);

	q = request_param(req, "QUERY_STRING");
	if (q != NULL)
		req->query = q;
	return 0;
}

void request_free(struct request *req)
{
	size_t i;

	for (i = 0; i < req->nquery; i++) {
		free(req->query_pairs[i].key);
		free(req->query_pairs[i].value);
	}
	req->nquery = 0;
	buf_free(&req->body);
}

/* Decodes application/x-www-form-urlencoded text of n bytes. A malloc'd
 * string, or NULL when malformed (bad escape, control byte, too long). */
static char *form_decode(const char *s, size_t n, size_t max)
{
	char *out;
	size_t i, o = 0;

	if (n > 3 * max)
		return NULL;
	out = malloc(n + 1);
	if (out == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				goto bad;
			hi = crypto_hex_value((unsigned char)s[i + 1]);
			lo = crypto_hex_value((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				goto bad;
			c = hi * 16 + lo;
			i += 2;
		}
		if (c < 0x20 || c == 0x7f)
			goto bad;
		out[o++] = (char)c;
	}
	if (o > max)
		goto bad;
	out[o] = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

/* A key as it may be quoted in an error message. */
static void quote_key(char *out, size_t outsize, const char *s, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 1 < outsize && i < 40; i++)
		out[o++] = (s[i] > 0x20 && s[i] < 0x7f) ? s[i] : '?';
	out[o] = '\0';
}

int request_parse_query(struct request *req, const char *const *allowed,
                        char *err, size_t errlen)
{
	const char *p = req->query, *amp, *eq;
	char shown[48];
	size_t i;

	if (strlen(p) > LIMIT_QUERY_BYTES) {
		snprintf(err, errlen, "the query string is too long");
		return -1;
	}
	while (*p) {
		struct query_pair pair = {NULL, NULL};
		const char *const *a;
		size_t len;

		amp = strchr(p, '&');
		len = amp ? (size_t)(amp - p) : strlen(p);
		eq = memchr(p, '=', len);
		quote_key(shown, sizeof(shown), p, eq ? (size_t)(eq - p) : len);
		if (len == 0 || eq == p) {
			snprintf(err, errlen,
			         "the query string has an empty parameter");
			return -1;
		}
		pair.key = form_decode(p, eq ? (size_t)(eq - p) : len, 64);
		if (pair.key == NULL) {
			snprintf(err, errlen,
			         "query parameter '%s' is malformed", shown);
			return -1;
		}
		for (a = allowed; a && *a; a++)
			if (strcmp(*a, pair.key) == 0)
				break;
		if (a == NULL || *a == NULL) {
			snprintf(err, errlen, "unknown query parameter '%s'",
			         shown);
			free(pair.key);
			return -1;
		}
		for (i = 0; i < req->nquery; i++)
			if (strcmp(req->query_pairs[i].key, pair.key) == 0) {
				snprintf(err, errlen,
				         "query parameter '%s' is repeated",
				         shown);
				free(pair.key);
				return -1;
			}
		if (req->nquery == LIMIT_QUERY_PAIRS) {
			snprintf(err, errlen, "too many query parameters");
			free(pair.key);
			return -1;
		}
		pair.value =
		        eq ? form_decode(eq + 1, len - (size_t)(eq + 1 - p),
		                         LIMIT_QUERY_VALUE)
		           : form_decode("", 0, 0);
		if (pair.value == NULL) {
			snprintf(err, errlen,
			         "query parameter '%s' has a malformed value",
			         shown);
			free(pair.key);
			return -1;
		}
		req->query_pairs[req->nquery++] = pair;
		if (amp == NULL)
			break;
		p = amp + 1;
		if (*p == '\0') {
			snprintf(err, errlen,
			         "the query string has an empty parameter");
			return -1;
		}
	}
	return 0;
}

const char *request_query(const struct request *req, const char *key)
{
	size_t i;

	for (i = 0; i < req->nquery; i++)
		if (strcmp(req->query_pairs[i].key, key) == 0)
			return req->query_pairs[i].value;
	return NULL;
}

int request_content_length(const struct request *req, size_t *out, char *err,
                           size_t errlen)
{
	const char *cl = request_param(req, "CONTENT_LENGTH");
	unsigned long long n = 0;
	size_t i;

	if (cl != NULL && *cl != '\0') {
		/* Strictly digits: no sign, no space, no hex, no overflow. */
		for (i = 0; cl[i]; i++) {
			if (cl[i] < '0' || cl[i] > '9' || i >= 18) {
				snprintf(err, errlen,
				         "Content-Length is not a number");
				return 400;
			}
			n = n * 10 + (unsigned long long)(cl[i] - '0');
		}
	}
	if (n > LIMIT_BODY_BYTES) {
		snprintf(err, errlen, "the body is larger than %u KiB",
		         LIMIT_BODY_BYTES / 1024);
		return 413;
	}
	*out = (size_t)n;
	return 0;
}

int request_read_body(struct request *req, char *err, size_t errlen)
{
	char chunk[8192];
	size_t want;
	int status;

	if (req->body_read)
		return 0;
	status = request_content_length(req, &want, err, errlen);
	if (status != 0)
		return status;
	while (req->body.len < want) {
		size_t left = want - req->body.len;
		int n = req->read(req->read_ctx, chunk,
		                  left < sizeof(chunk) ? left : sizeof(chunk));

		if (n <= 0) {
			snprintf(err, errlen, "the body ended early");
			return 400;
		}
		if (buf_append(&req->body, chunk, (size_t)n) != 0) {
			snprintf(err, errlen, "the body is too large");
			return 413;
		}
	}
	req->body_read = 1;
	return 0;
}

int request_is_json(const struct request *req)
{
	const char *ct = request_param(req, "CONTENT_TYPE");
	size_t n = strlen("application/json");

	/* application/json, optionally with parameters (charset). */
	return ct != NULL && strncasecmp(ct, "application/json", n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

int request_json_body(struct request *req, struct json_object **out, char *err,
                      size_t errlen)
{
	struct json_object *obj;
	int status;

	if (!request_is_json(req)) {
		snprintf(err, errlen,
		         "the body must be JSON (Content-Type: "
		         "application/json)");
		return 415;
	}
	status = request_read_body(req, err, errlen);
	if (status != 0)
		return status;
	obj = jsonio_parse(buf_str(&req->body), req->body.len, LIMIT_JSON_DEPTH,
	                   err, errlen);
	if (obj == NULL)
		return 400;
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		snprintf(err, errlen, "the body must be a JSON object");
		return 400;
	}
	*out = obj;
	return 0;
}

const char *request_bearer(const struct request *req)
{
	const char *h = request_param(req, "HTTP_AUTHORIZATION");

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return *h ? h : NULL;
}
