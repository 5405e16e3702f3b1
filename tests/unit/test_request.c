/*
 * test_request - a request as nginx hands it over, built from a fake
 * parameter list and a fake body reader: method and path checks, the request
 * id, headers, the bearer token, the query allowlist, CONTENT_LENGTH and the
 * body, and JSON bodies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "check.h"
#include "core/jsonio.h"
#include "core/limit.h"
#include "web/request.h"

/* The request's parameters, copied so they are the char * envp wants. */
struct env {
	char store[16384];
	char *vars[40];
};

static char *const *make_env(struct env *e, const char *const *vars)
{
	size_t i, o = 0, n;

	for (i = 0; vars[i] != NULL && i + 1 < 40; i++) {
		n = strlen(vars[i]) + 1;
		if (o + n > sizeof(e->store)) {
			fprintf(stderr, "test env too large\n");
			abort();
		}
		memcpy(e->store + o, vars[i], n);
		e->vars[i] = e->store + o;
		o += n;
	}
	e->vars[i] = NULL;
	return e->vars;
}

#define VARS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* A body coming from memory, chunk bytes at most per call (0: any). */
struct source {
	const char *data;
	size_t len, off, chunk;
	int calls;
	int fail;
};

static int source_read(void *ctx, char *data, size_t len)
{
	struct source *s = ctx;
	size_t n = s->len - s->off;

	s->calls++;
	if (s->fail)
		return -1;
	if (n > len)
		n = len;
	if (s->chunk && n > s->chunk)
		n = s->chunk;
	memcpy(data, s->data + s->off, n);
	s->off += n;
	return (int)n;
}

static struct env env;
static char err[LIMIT_ERROR_MESSAGE];

/* request_init over vars, with the reader set to src. */
static int start(struct request *req, const char *const *vars,
                 struct source *src)
{
	int status;

	err[0] = '\0';
	status = request_init(req, make_env(&env, vars), err, sizeof(err));
	req->read = source_read;
	req->read_ctx = src;
	return status;
}

/* The status request_init gives for a method. */
static int method_status(const char *method)
{
	char var[64];
	struct request req;
	int status;

	snprintf(var, sizeof(var), "REQUEST_METHOD=%s", method);
	status = start(&req, VARS(var, "REQUEST_URI=/api/health"), NULL);
	request_free(&req);
	return status;
}

/* The status request_init gives for a REQUEST_URI; the path into path. */
static int uri_status(const char *uri, char *path, size_t pathlen)
{
	static char var[4096];
	struct request req;
	int status;

	snprintf(var, sizeof(var), "REQUEST_URI=%s", uri);
	status = start(&req, VARS("REQUEST_METHOD=GET", var), NULL);
	if (path != NULL)
		snprintf(path, pathlen, "%s", req.path);
	request_free(&req);
	return status;
}

static int is_hex32(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == 32;
}

TEST(method_must_be_an_uppercase_token)
{
	struct request req;

	CHECK_INT(method_status("GET"), 0);
	CHECK_INT(method_status("POST"), 0);
	CHECK_INT(method_status("DELETE"), 0);
	CHECK_INT(method_status("ABCDEFGHIJKLMNO"), 0); /* 15 letters */
	CHECK_INT(method_status("get"), 400);
	CHECK_STR(err, "the request has no valid method");
	CHECK_INT(method_status("Get"), 400);
	CHECK_INT(method_status(""), 400);
	CHECK_INT(method_status("ABCDEFGHIJKLMNOP"), 400); /* 16 */
	CHECK_INT(method_status("GE T"), 400);
	CHECK_INT(method_status("GET\r\n"), 400);
	CHECK_INT(method_status("M-SEARCH"), 400);
	CHECK_INT(method_status("G\xc3\x89T"), 400);
	/* No method at all. */
	CHECK_INT(start(&req, VARS("REQUEST_URI=/api/health"), NULL), 400);
	request_free(&req);
	CHECK_INT(start(&req, VARS("REQUEST_METHOD", "REQUEST_URI=/"), NULL),
	          400);
	request_free(&req);
}

TEST(method_and_path_are_kept)
{
	struct request req;
	int ok;

	CHECK_INT(start(&req,
	                VARS("REQUEST_METHOD=PATCH",
	                     "REQUEST_URI=/api/calendar/abc?x=1",
	                     "QUERY_STRING=x=1"),
	                NULL),
	          0);
	ok = strcmp(req.method, "PATCH") == 0 &&
	     strcmp(req.path, "/api/calendar/abc") == 0 &&
	     strcmp(req.query, "x=1") == 0 && req.param[0] == '\0' &&
	     req.nquery == 0 && req.body.len == 0;
	request_free(&req);
	CHECK(ok);
}

TEST(path_comes_from_request_uri_without_query_or_fragment)
{
	char path[LIMIT_PATH_BYTES + 1];
	struct request req;
	int ok;

	CHECK_INT(uri_status("/api/calendar?from=x", path, sizeof(path)), 0);
	CHECK_STR(path, "/api/calendar");
	CHECK_INT(uri_status("/api/calendar#top", path, sizeof(path)), 0);
	CHECK_STR(path, "/api/calendar");
	CHECK_INT(uri_status("/api/calendar?a=1#top?b", path, sizeof(path)), 0);
	CHECK_STR(path, "/api/calendar");
	CHECK_INT(uri_status("/api/calendar?", path, sizeof(path)), 0);
	CHECK_STR(path, "/api/calendar");
	CHECK_INT(uri_status("/", path, sizeof(path)), 0);
	CHECK_STR(path, "/");
	/* No path before the query, or not absolute. */
	CHECK_INT(uri_status("", NULL, 0), 400);
	CHECK_STR(err, "the request path is not valid");
	CHECK_INT(uri_status("?a=1", NULL, 0), 400);
	CHECK_INT(uri_status("#a", NULL, 0), 400);
	CHECK_INT(uri_status("api/calendar", NULL, 0), 400);
	CHECK_INT(uri_status("http://host/api", NULL, 0), 400);
	/* The query string comes from QUERY_STRING, "" when there is none. */
	CHECK_INT(start(&req,
	                VARS("REQUEST_METHOD=GET",
	                     "REQUEST_URI=/api/calendar?from=x"),
	                NULL),
	          0);
	ok = strcmp(req.query, "") == 0;
	request_free(&req);
	CHECK(ok);
}

TEST(path_falls_back_to_script_name_and_path_info)
{
	struct request req;
	int ok;

	CHECK_INT(start(&req,
	                VARS("REQUEST_METHOD=GET", "SCRIPT_NAME=/api",
	                     "PATH_INFO=/calendar/slots"),
	                NULL),
	          0);
	ok = strcmp(req.path, "/api/calendar/slots") == 0;
	request_free(&req);
	CHECK(ok);
	CHECK_INT(start(&req, VARS("REQUEST_METHOD=GET", "SCRIPT_NAME=/api/x"),
	                NULL),
	          0);
	ok = strcmp(req.path, "/api/x") == 0;
	request_free(&req);
	CHECK(ok);
	CHECK_INT(start(&req, VARS("REQUEST_METHOD=GET", "PATH_INFO=/api/y"),
	                NULL),
	          0);
	ok = strcmp(req.path, "/api/y") == 0;
	request_free(&req);
	CHECK(ok);
	/* Neither, or not absolute, or a byte that a path cannot hold. */
	CHECK_INT(start(&req, VARS("REQUEST_METHOD=GET"), NULL), 400);
	request_free(&req);
	CHECK_INT(
	        start(&req, VARS("REQUEST_METHOD=GET", "PATH_INFO=api"), NULL),
	        400);
	request_free(&req);
	CHECK_INT(start(&req,
	                VARS("REQUEST_METHOD=GET", "SCRIPT_NAME=/a",
	                     "PATH_INFO=/b c"),
	                NULL),
	          400);
	request_free(&req);
}

TEST(path_with_control_space_or_non_ascii_is_refused)
{
	static const char *const bad[] = {
	        "/api/\x01x", "/api/a b",     "/api/\tx", "/api/x\x7f",
	        "/api/\r\n",  "/caf\xc3\xa9", "/\xff",    "/api/x\x1b[2J",
	};
	char path[LIMIT_PATH_BYTES + 1];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(uri_status(bad[i], NULL, 0), 400);
		CHECK_STR(err, "the request path is not valid");
	}
	/* Bytes after the query do not count; printable ones are fine. */
	CHECK_INT(uri_status("/api/x?a b\x01", path, sizeof(path)), 0);
	CHECK_STR(path, "/api/x");
	CHECK_INT(uri_status("/api/%7E-_.~!$&'()*+,;=:@x", path, sizeof(path)),
	          0);
	CHECK_STR(path, "/api/%7E-_.~!$&'()*+,;=:@x");
}

TEST(path_longer_than_the_limit_is_refused)
{
	static char uri[LIMIT_PATH_BYTES + 16], var[LIMIT_PATH_BYTES + 32];
	char path[LIMIT_PATH_BYTES + 1];
	struct request req;

	memset(uri, 'a', sizeof(uri));
	uri[0] = '/';
	uri[LIMIT_PATH_BYTES] = '\0';
	CHECK_INT(uri_status(uri, path, sizeof(path)), 0);
	CHECK_INT(strlen(path), LIMIT_PATH_BYTES);
	/* With a query after it, still fine. */
	memcpy(uri + LIMIT_PATH_BYTES, "?q=1", 5);
	CHECK_INT(uri_status(uri, path, sizeof(path)), 0);
	CHECK_INT(strlen(path), LIMIT_PATH_BYTES);
	uri[LIMIT_PATH_BYTES] = 'a';
	uri[LIMIT_PATH_BYTES + 1] = '\0';
	CHECK_INT(uri_status(uri, NULL, 0), 400);
	/* The fallback too. */
	uri[LIMIT_PATH_BYTES] = '\0';
	snprintf(var, sizeof(var), "PATH_INFO=%s", uri);
	CHECK_INT(start(&req, VARS("REQUEST_METHOD=GET", var), NULL), 0);
	request_free(&req);
	CHECK_INT(start(&req, VARS("REQUEST_METHOD=GET", "SCRIPT_NAME=/x", var),
	                NULL),
	          400);
	request_free(&req);
}

TEST(request_id_from_nginx_when_sane)
{
	static char id64[80], id65[80];
	struct request req;
	int ok;

	CHECK_INT(start(&req,
	                VARS("REQUEST_METHOD=GET", "REQUEST_URI=/",
	                     "REQUEST_ID=3f2a9c-Ab_9.x"),
	                NULL),
	          0);
	ok = strcmp(req.request_id, "3f2a9c-Ab_9.x") == 0;
	request_free(&req);
	CHECK(ok);

	memcpy(id64, "REQUEST_ID=", 11);
	memset(id64 + 11, 'f', 64);
	id64[11 + 64] = '\0';
	CHECK_INT(start(&req, VARS("REQUEST_METHOD=GET", "REQUEST_URI=/", id64),
	                NULL),
	          0);
	ok = strcmp(req.request_id, id64 + 11) == 0;
	request_free(&req);
	CHECK(ok);

	/* One character more is not sane: a random id replaces it. */
	memcpy(id65, id64, sizeof(id64));
	id65[11 + 64] = 'f';
	id65[11 + 65] = '\0';
	CHECK_INT(start(&req, VARS("REQUEST_METHOD=GET", "REQUEST_URI=/", id65),
	                NULL),
	          0);
	ok = is_hex32(req.request_id);
	request_free(&req);
	CHECK(ok);
}

TEST(request_id_is_random_when_not_sane)
{
	static const char *const bad[] = {
	        "REQUEST_ID=",     "REQUEST_ID=a b",
	        "REQUEST_ID=a/b",  "REQUEST_ID=<script>",
	        "REQUEST_ID=a\nb", "REQUEST_ID=\xc3\xa9",
	        "REQUEST_ID=a;b",  "REQUEST_ID=a\"b",
	        "REQUEST_ID=a:b",  "NOT_REQUEST_ID=abcdef"};
	char first[LIMIT_REQUEST_ID + 1] = "";
	struct request req;
	size_t i;
	int ok;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(start(&req,
		                VARS("REQUEST_METHOD=GET", "REQUEST_URI=/",
		                     bad[i]),
		                NULL),
		          0);
		ok = is_hex32(req.request_id) && strcmp(req.request_id, first);
		memcpy(first, req.request_id, sizeof(first));
		request_free(&req);
		CHECK(ok);
	}
	/* A request refused for its method still has an id. */
	CHECK_INT(
	        start(&req, VARS("REQUEST_METHOD=get", "REQUEST_URI=/"), NULL),
	        400);
	ok = is_hex32(req.request_id);
	request_free(&req);
	CHECK(ok);
}

TEST(two_random_ids_differ)
{
	char a[LIMIT_REQUEST_ID + 1];
	struct request req;
	int ok;

	CHECK_INT(
	        start(&req, VARS("REQUEST_METHOD=GET", "REQUEST_URI=/"), NULL),
	        0);
	memcpy(a, req.request_id, sizeof(a));
	request_free(&req);
	CHECK_INT(
	        start(&req, VARS("REQUEST_METHOD=GET", "REQUEST_URI=/"), NULL),
	        0);
	ok = is_hex32(a) && is_hex32(req.request_id) &&
	     strcmp(a, req.request_id) != 0;
	request_free(&req);
	CHECK(ok);
}

TEST(headers_and_parameters)
{
	static char longname[200];
	struct request req;
	int ok;

	CHECK_INT(start(&req,
	                VARS("REQUEST_METHOD=GET", "REQUEST_URI=/",
	                     "HTTP_IF_NONE_MATCH=\"abc\"",
	                     "HTTP_X_IDEMPOTENCY_KEY_EXTRA=no",
	                     "HTTP_X_IDEMPOTENCY=yes",
	                     "HTTP_EMPTY=", "CONTENT_TYPE=application/json"),
	                NULL),
	          0);
	memset(longname, 'A', sizeof(longname) - 1);
	ok = request_header(&req, "If-None-Match") != NULL &&
	     strcmp(request_header(&req, "If-None-Match"), "\"abc\"") == 0 &&
	     strcmp(request_header(&req, "if-none-match"), "\"abc\"") == 0 &&
	     strcmp(request_header(&req, "X-Idempotency"), "yes") == 0 &&
	     strcmp(request_header(&req, "Empty"), "") == 0 &&
	     request_header(&req, "X-Idempotency-Key") == NULL &&
	     request_header(&req, "Authorization") == NULL &&
	     request_header(&req, longname) == NULL &&
	     strcmp(request_param(&req, "CONTENT_TYPE"), "application/json") ==
	             0 &&
	     request_param(&req, "CONTENT") == NULL &&
	     request_param(&req, "HTTP_IF_NONE") == NULL &&
	     request_param(&req, "CONTENT_LENGTH") == NULL;
	request_free(&req);
	CHECK(ok);
}

/* The bearer token of an Authorization header (NULL: none). */
static const char *bearer_of(struct request *req, const char *header)
{
	static char var[256];
	static char token[256];
	const char *t;

	snprintf(var, sizeof(var), "HTTP_AUTHORIZATION=%s",
	         header ? header : "");
	if (start(req,
	          header ? VARS("REQUEST_METHOD=GET", "REQUEST_URI=/", var)
	                 : VARS("REQUEST_METHOD=GET", "REQUEST_URI=/"),
	          NULL) != 0)
		return "init failed";
	t = request_bearer(req);
	if (t != NULL)
		snprintf(token, sizeof(token), "%s", t);
	request_free(req);
	return t ? token : NULL;
}

TEST(bearer_token)
{
	struct request req;

	CHECK_STR(bearer_of(&req, "Bearer tok3n"), "tok3n");
	CHECK_STR(bearer_of(&req, "bearer tok3n"), "tok3n");
	CHECK_STR(bearer_of(&req, "BEARER tok3n"), "tok3n");
	CHECK_STR(bearer_of(&req, "Bearer   tok3n"), "tok3n");
	CHECK_STR(bearer_of(&req, "Bearer a b"), "a b");
	CHECK(bearer_of(&req, "Basic dXNlcjpwYXNz") == NULL);
	CHECK(bearer_of(&req, "Bearer ") == NULL);
	CHECK(bearer_of(&req, "Bearer    ") == NULL);
	CHECK(bearer_of(&req, "Bearer") == NULL);
	CHECK(bearer_of(&req, "Bearertok3n") == NULL);
	CHECK(bearer_of(&req, " Bearer tok3n") == NULL);
	CHECK(bearer_of(&req, "") == NULL);
	CHECK(bearer_of(&req, NULL) == NULL);
}

static const char *const calendar_keys[] = {"from", "to", "date", "duration",
                                            NULL};

/* Parses query against allowed; the status, with err set. */
static int parse(struct request *req, const char *query,
                 const char *const *allowed)
{
	static char var[8192];

	snprintf(var, sizeof(var), "QUERY_STRING=%s", query);
	if (start(req, VARS("REQUEST_METHOD=GET", "REQUEST_URI=/", var), NULL))
		return -99;
	return request_parse_query(req, allowed, err, sizeof(err));
}

/* 1 when query is refused with a message containing what. */
static int query_refused(const char *query, const char *what)
{
	struct request req;
	int rc = parse(&req, query, calendar_keys);

	request_free(&req);
	return rc == -1 && strstr(err, what) != NULL;
}

TEST(query_values_are_decoded)
{
	struct request req;
	int ok;

	CHECK_INT(parse(&req,
	                "from=2026-12-01T15%3A00%3A00-03%3A00&to=a+b%20c"
	                "&date=%2B1%2b2&duration=%e2%82%AC",
	                calendar_keys),
	          0);
	ok = req.nquery == 4 &&
	     strcmp(request_query(&req, "from"), "2026-12-01T15:00:00-03:00") ==
	             0 &&
	     strcmp(request_query(&req, "to"), "a b c") == 0 &&
	     strcmp(request_query(&req, "date"), "+1+2") == 0 &&
	     strcmp(request_query(&req, "duration"), "\xe2\x82\xac") == 0 &&
	     request_query(&req, "absent") == NULL &&
	     request_query(&req, "FROM") == NULL;
	request_free(&req);
	CHECK(ok);
	/* Keys are decoded too; '=' in a value is kept. */
	CHECK_INT(parse(&req, "%66rom=a=b", calendar_keys), 0);
	ok = strcmp(request_query(&req, "from"), "a=b") == 0;
	request_free(&req);
	CHECK(ok);
}

TEST(empty_query_is_fine_even_with_no_allowlist)
{
	struct request req;
	int ok;

	CHECK_INT(parse(&req, "", NULL), 0);
	ok = req.nquery == 0 && request_query(&req, "from") == NULL;
	request_free(&req);
	CHECK(ok);
	CHECK_INT(parse(&req, "from=x", NULL), -1);
	request_free(&req);
	CHECK(strstr(err, "from") != NULL);
}

TEST(key_without_equals_has_an_empty_value)
{
	struct request req;
	int ok;

	CHECK_INT(parse(&req, "from&to=&date", calendar_keys), 0);
	ok = req.nquery == 3 && strcmp(request_query(&req, "from"), "") == 0 &&
	     strcmp(request_query(&req, "to"), "") == 0 &&
	     strcmp(request_query(&req, "date"), "") == 0;
	request_free(&req);
	CHECK(ok);
}

TEST(bad_escapes_are_refused)
{
	CHECK(query_refused("from=%zz", "'from' has a malformed value"));
	CHECK(query_refused("from=%4", "'from'"));
	CHECK(query_refused("from=%", "'from'"));
	CHECK(query_refused("from=ab%", "'from'"));
	CHECK(query_refused("from=%%41", "'from'"));
	CHECK(query_refused("from=%g1", "'from'"));
	CHECK(query_refused("from=%1g", "'from'"));
	CHECK(query_refused("from=x&to=%", "'to'"));
	CHECK(query_refused("fr%zzom=1", "is malformed"));
	CHECK(query_refused("from%=1", "is malformed"));
}

TEST(control_bytes_are_refused)
{
	CHECK(query_refused("from=%00", "'from'"));
	CHECK(query_refused("from=a%00b", "'from'"));
	CHECK(query_refused("from=%0a", "'from'"));
	CHECK(query_refused("from=%0D%0A", "'from'"));
	CHECK(query_refused("from=%1f", "'from'"));
	CHECK(query_refused("from=%7F", "'from'"));
	CHECK(query_refused("from=%09", "'from'"));
	CHECK(query_refused("from=a\tb", "'from'"));
	CHECK(query_refused("from=a\x01", "'from'"));
	CHECK(query_refused("fr%00om=1", "malformed"));
	CHECK(query_refused("from%0a=1", "malformed"));
}

TEST(unknown_key_is_refused_by_name)
{
	CHECK(query_refused("nosuchkey=1",
	                    "unknown query parameter 'nosuchkey'"));
	CHECK(query_refused("from=1&callback=x", "'callback'"));
	CHECK(query_refused("From=1", "'From'"));
	CHECK(query_refused("from =1", "unknown"));
	CHECK(query_refused("fromx", "'fromx'"));
}

TEST(repeated_key_is_refused)
{
	CHECK(query_refused("from=1&from=2",
	                    "query parameter 'from' is repeated"));
	CHECK(query_refused("from=1&to=2&from=1", "'from' is repeated"));
	CHECK(query_refused("from&from", "repeated"));
	CHECK(query_refused("from=1&%66rom=2", "repeated"));
}

TEST(empty_pairs_are_refused)
{
	static const char *const bad[] = {
	        "from=1&&to=2", "&",         "from=1&", "&from=1",
	        "=1",           "from=1&=2", "&&",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(query_refused(bad[i], "the query string has an empty "
		                            "parameter"));
}

TEST(at_most_the_limit_of_pairs)
{
	static const char *const keys[] = {
	        "k0", "k1",  "k2",  "k3",  "k4",  "k5",  "k6",  "k7",  "k8",
	        "k9", "k10", "k11", "k12", "k13", "k14", "k15", "k16", NULL};
	char query[256];
	size_t o = 0;
	struct request req;
	int i, ok;

	for (i = 0; i < LIMIT_QUERY_PAIRS; i++)
		o += (size_t)snprintf(query + o, sizeof(query) - o, "%sk%d=%d",
		                      i ? "&" : "", i, i);
	CHECK_INT(parse(&req, query, keys), 0);
	ok = req.nquery == LIMIT_QUERY_PAIRS &&
	     strcmp(request_query(&req, "k15"), "15") == 0;
	request_free(&req);
	CHECK(ok);
	snprintf(query + o, sizeof(query) - o, "&k16=16");
	CHECK_INT(parse(&req, query, keys), -1);
	request_free(&req);
	CHECK(strstr(err, "too many query parameters") != NULL);
}

TEST(query_longer_than_the_limit_is_refused)
{
	static const char *const keys[] = {"a", "b", "c", "d", NULL};
	static char query[LIMIT_QUERY_BYTES + 8];
	struct request req;
	size_t o = 0;
	int ok;

	/* Exactly LIMIT_QUERY_BYTES: four pairs of 512 bytes with their '&'. */
	o += (size_t)snprintf(query + o, sizeof(query) - o, "a=%0510d", 0);
	o += (size_t)snprintf(query + o, sizeof(query) - o, "&b=%0509d", 0);
	o += (size_t)snprintf(query + o, sizeof(query) - o, "&c=%0509d", 0);
	o += (size_t)snprintf(query + o, sizeof(query) - o, "&d=%0509d", 0);
	CHECK_INT(o, LIMIT_QUERY_BYTES);
	CHECK_INT(parse(&req, query, keys), 0);
	ok = req.nquery == 4 && strlen(request_query(&req, "d")) == 509;
	request_free(&req);
	CHECK(ok);
	query[o] = '0';
	query[o + 1] = '\0';
	CHECK_INT(parse(&req, query, keys), -1);
	request_free(&req);
	CHECK_STR(err, "the query string is too long");
}

TEST(value_longer_than_the_limit_is_refused)
{
	static char query[4 * LIMIT_QUERY_VALUE];
	struct request req;
	size_t i;
	int ok;

	memcpy(query, "from=", 5);
	memset(query + 5, 'v', LIMIT_QUERY_VALUE);
	query[5 + LIMIT_QUERY_VALUE] = '\0';
	CHECK_INT(parse(&req, query, calendar_keys), 0);
	ok = strlen(request_query(&req, "from")) == LIMIT_QUERY_VALUE;
	request_free(&req);
	CHECK(ok);
	query[5 + LIMIT_QUERY_VALUE] = 'v';
	query[6 + LIMIT_QUERY_VALUE] = '\0';
	CHECK(query_refused(query, "'from' has a malformed value"));
	/* Counted after decoding: 512 escapes are 512 bytes, 513 too many. */
	for (i = 0; i < LIMIT_QUERY_VALUE; i++)
		memcpy(query + 5 + 3 * i, "%41", 3);
	query[5 + 3 * LIMIT_QUERY_VALUE] = '\0';
	CHECK_INT(parse(&req, query, calendar_keys), 0);
	ok = strlen(request_query(&req, "from")) == LIMIT_QUERY_VALUE &&
	     request_query(&req, "from")[0] == 'A';
	request_free(&req);
	CHECK(ok);
	memcpy(query + 5 + 3 * LIMIT_QUERY_VALUE, "%41", 4);
	CHECK(query_refused(query, "'from'"));
}

TEST(key_longer_than_64_is_refused)
{
	static char key[70], query[80];
	const char *const allowed[] = {key, NULL};
	struct request req;
	int ok;

	memset(key, 'k', 64);
	key[64] = '\0';
	snprintf(query, sizeof(query), "%s=1", key);
	CHECK_INT(parse(&req, query, allowed), 0);
	ok = strcmp(request_query(&req, key), "1") == 0;
	request_free(&req);
	CHECK(ok);
	key[64] = 'k';
	key[65] = '\0';
	snprintf(query, sizeof(query), "%s=1", key);
	CHECK_INT(parse(&req, query, allowed), -1);
	request_free(&req);
}

TEST(pairs_parsed_before_a_refusal_are_freed)
{
	struct request req;

	/* Two pairs are stored, then the third is refused: request_free
	 * releases them (valgrind and ASan check it). */
	CHECK_INT(parse(&req, "from=1&to=2&bad=3", calendar_keys), -1);
	CHECK_INT(req.nquery, 2);
	request_free(&req);
	CHECK_INT(req.nquery, 0);
	request_free(&req); /* twice is harmless */
}

/* request_content_length for a CONTENT_LENGTH (NULL: absent). */
static int length_of(const char *cl, size_t *out)
{
	static char var[128];
	struct request req;
	int status;

	snprintf(var, sizeof(var), "CONTENT_LENGTH=%s", cl ? cl : "");
	if (start(&req,
	          cl ? VARS("REQUEST_METHOD=POST", "REQUEST_URI=/", var)
	             : VARS("REQUEST_METHOD=POST", "REQUEST_URI=/"),
	          NULL) != 0)
		return -99;
	status = request_content_length(&req, out, err, sizeof(err));
	request_free(&req);
	return status;
}

TEST(content_length_is_a_plain_decimal_number)
{
	size_t n = 7;

	CHECK_INT(length_of(NULL, &n), 0);
	CHECK_INT(n, 0);
	n = 7;
	CHECK_INT(length_of("", &n), 0);
	CHECK_INT(n, 0);
	CHECK_INT(length_of("0", &n), 0);
	CHECK_INT(n, 0);
	CHECK_INT(length_of("5", &n), 0);
	CHECK_INT(n, 5);
	CHECK_INT(length_of("00012", &n), 0);
	CHECK_INT(n, 12);
	CHECK_INT(length_of("65536", &n), 0);
	CHECK_INT(n, 65536);
	/* Over the limit. */
	n = 7;
	CHECK_INT(length_of("65537", &n), 413);
	CHECK(strstr(err, "64 KiB") != NULL);
	CHECK_INT(length_of("999999999999999999", &n), 413);
	CHECK_INT(n, 7);
	/* Not a plain number. */
	static const char *const bad[] = {
	        "-1",
	        "1e3",
	        " 1",
	        "1 ",
	        "0x10",
	        "+1",
	        "1.0",
	        "5a",
	        "abc",
	        "00000000000000000001",
	        "18446744073709551617",
	        "99999999999999999999999",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(length_of(bad[i], &n), 400);
		CHECK_STR(err, "Content-Length is not a number");
	}
	CHECK_INT(n, 7);
}

/* A request with CONTENT_LENGTH cl (NULL: absent) over the body data. */
static int body_request(struct request *req, struct source *src, const char *cl,
                        const char *ct)
{
	static char clvar[64], ctvar[128];

	snprintf(clvar, sizeof(clvar), "CONTENT_LENGTH=%s", cl ? cl : "");
	snprintf(ctvar, sizeof(ctvar), "CONTENT_TYPE=%s", ct ? ct : "");
	return start(req,
	             VARS("REQUEST_METHOD=POST", "REQUEST_URI=/api/calendar",
	                  cl ? clvar : "X_NO_LENGTH=1",
	                  ct ? ctvar : "X_NO_TYPE=1"),
	             src);
}

TEST(absent_body_reads_nothing)
{
	struct source src = {"unread", 6, 0, 0, 0, 0};
	struct request req;
	int ok;

	CHECK_INT(body_request(&req, &src, NULL, NULL), 0);
	ok = request_read_body(&req, err, sizeof(err)) == 0 &&
	     req.body.len == 0 && strcmp(buf_str(&req.body), "") == 0 &&
	     src.calls == 0;
	request_free(&req);
	CHECK(ok);
}

TEST(body_is_read_exactly)
{
	struct source src = {"hello, world", 12, 0, 0, 0, 0};
	struct request req;
	int ok;

	CHECK_INT(body_request(&req, &src, "5", NULL), 0);
	ok = request_read_body(&req, err, sizeof(err)) == 0 &&
	     req.body.len == 5 && strcmp(buf_str(&req.body), "hello") == 0 &&
	     src.off == 5;
	/* A second call does not read again. */
	ok = ok && request_read_body(&req, err, sizeof(err)) == 0 &&
	     req.body.len == 5 && src.off == 5;
	request_free(&req);
	CHECK(ok);
}

TEST(body_at_the_limit_in_small_chunks)
{
	static char data[LIMIT_BODY_BYTES];
	struct source src = {data, sizeof(data), 0, 1000, 0, 0};
	struct request req;
	size_t i;
	int ok;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 7);
	CHECK_INT(body_request(&req, &src, "65536", NULL), 0);
	ok = request_read_body(&req, err, sizeof(err)) == 0 &&
	     req.body.len == sizeof(data) &&
	     memcmp(req.body.data, data, sizeof(data)) == 0 &&
	     req.body.data[req.body.len] == '\0' && src.calls >= 66;
	request_free(&req);
	CHECK(ok);
}

TEST(body_one_byte_at_a_time)
{
	static const char data[] = "{\"a\":\"b\0c\"}";
	struct source src = {data, sizeof(data) - 1, 0, 1, 0, 0};
	struct request req;
	int ok;

	CHECK_INT(body_request(&req, &src, "11", NULL), 0);
	ok = request_read_body(&req, err, sizeof(err)) == 0 &&
	     req.body.len == 11 && memcmp(req.body.data, data, 11) == 0 &&
	     src.calls == 11;
	request_free(&req);
	CHECK(ok);
}

TEST(body_over_the_limit_is_refused_unread)
{
	struct source src = {"x", 1, 0, 0, 0, 0};
	struct request req;
	int status;

	CHECK_INT(body_request(&req, &src, "65537", NULL), 0);
	status = request_read_body(&req, err, sizeof(err));
	request_free(&req);
	CHECK_INT(status, 413);
	CHECK_INT(src.calls, 0);
	CHECK_INT(body_request(&req, &src, "1000000000", NULL), 0);
	status = request_read_body(&req, err, sizeof(err));
	request_free(&req);
	CHECK_INT(status, 413);
	CHECK_INT(src.calls, 0);
}

TEST(malformed_length_is_refused_unread)
{
	static const char *const bad[] = {"-1", "1e3", " 1", "0x10",
	                                  "00000000000000000001"};
	struct source src = {"0123456789", 10, 0, 0, 0, 0};
	struct request req;
	size_t i;
	int status;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(body_request(&req, &src, bad[i], NULL), 0);
		status = request_read_body(&req, err, sizeof(err));
		request_free(&req);
		CHECK_INT(status, 400);
		CHECK_INT(src.calls, 0);
	}
}

TEST(short_body_is_refused)
{
	struct source src = {"hello", 5, 0, 2, 0, 0};
	struct request req;
	int status;

	CHECK_INT(body_request(&req, &src, "10", NULL), 0);
	status = request_read_body(&req, err, sizeof(err));
	request_free(&req);
	CHECK_INT(status, 400);
	CHECK_STR(err, "the body ended early");
	/* A reader that fails. */
	src.off = 0;
	src.fail = 1;
	CHECK_INT(body_request(&req, &src, "5", NULL), 0);
	status = request_read_body(&req, err, sizeof(err));
	request_free(&req);
	CHECK_INT(status, 400);
}

/* request_json_body over body with a content type; *out set on 0. */
static int json_status(const char *ct, const char *body,
                       struct json_object **out, int *calls)
{
	struct source src = {body, strlen(body), 0, 3, 0, 0};
	struct request req;
	char cl[32];
	int status;

	snprintf(cl, sizeof(cl), "%zu", strlen(body));
	*out = NULL;
	if (body_request(&req, &src, cl, ct) != 0)
		return -99;
	status = request_json_body(&req, out, err, sizeof(err));
	request_free(&req);
	if (calls != NULL)
		*calls = src.calls;
	return status;
}

TEST(json_body_needs_a_json_content_type)
{
	static const char *const good[] = {
	        "application/json",
	        "application/json; charset=utf-8",
	        "application/json;charset=UTF-8",
	        "Application/JSON",
	};
	static const char *const bad[] = {
	        "text/plain",
	        "application/jsonp",
	        "application/json-patch+json",
	        "",
	        "application/x-www-form-urlencoded",
	        "json",
	        "xapplication/json",
	        "application/jso",
	        "text/json",
	};
	struct json_object *obj;
	size_t i;
	int calls, ok;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CHECK_INT(json_status(good[i], "{\"a\":1}", &obj, NULL), 0);
		ok = obj != NULL &&
		     jsonio_member(obj, "a", json_type_int) != NULL;
		json_object_put(obj);
		CHECK(ok);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(json_status(bad[i], "{\"a\":1}", &obj, &calls), 415);
		CHECK(obj == NULL);
		CHECK(strstr(err, "application/json") != NULL);
		CHECK_INT(calls, 0);
	}
	CHECK_INT(json_status(NULL, "{\"a\":1}", &obj, &calls), 415);
	CHECK_INT(calls, 0);
}

TEST(json_body_must_be_a_valid_object)
{
	static char deep[8 * LIMIT_JSON_DEPTH + 16];
	struct json_object *obj;
	size_t o = 0;
	int i;

	CHECK_INT(json_status("application/json", "{\"a\":", &obj, NULL), 400);
	CHECK(obj == NULL);
	CHECK(strstr(err, "not valid JSON") != NULL);
	CHECK_INT(json_status("application/json", "", &obj, NULL), 400);
	CHECK_INT(json_status("application/json", "{} x", &obj, NULL), 400);
	CHECK_INT(json_status("application/json", "{'a':1}", &obj, NULL), 400);
	CHECK_INT(json_status("application/json", "[1,2]", &obj, NULL), 400);
	CHECK_STR(err, "the body must be a JSON object");
	CHECK_INT(json_status("application/json", "\"text\"", &obj, NULL), 400);
	CHECK_STR(err, "the body must be a JSON object");
	CHECK(obj == NULL);
	/* LIMIT_JSON_DEPTH levels as json-c counts them (a leaf is one):
	 * fine; one more: refused. */
	for (i = 0; i < LIMIT_JSON_DEPTH - 1; i++)
		o += (size_t)snprintf(deep + o, sizeof(deep) - o, "{\"k\":");
	deep[o++] = '1';
	for (i = 0; i < LIMIT_JSON_DEPTH - 1; i++)
		deep[o++] = '}';
	deep[o] = '\0';
	CHECK_INT(json_status("application/json", deep, &obj, NULL), 0);
	json_object_put(obj);
	o = 0;
	for (i = 0; i < LIMIT_JSON_DEPTH; i++)
		o += (size_t)snprintf(deep + o, sizeof(deep) - o, "{\"k\":");
	deep[o++] = '1';
	for (i = 0; i < LIMIT_JSON_DEPTH; i++)
		deep[o++] = '}';
	deep[o] = '\0';
	CHECK_INT(json_status("application/json", deep, &obj, NULL), 400);
	CHECK(strstr(err, "nested too deeply") != NULL);
	CHECK(obj == NULL);
}

TEST(json_body_over_the_limit_is_413)
{
	struct source src = {"{}", 2, 0, 0, 0, 0};
	struct json_object *obj = NULL;
	struct request req;
	int status;

	CHECK_INT(body_request(&req, &src, "70000", "application/json"), 0);
	status = request_json_body(&req, &obj, err, sizeof(err));
	request_free(&req);
	CHECK_INT(status, 413);
	CHECK(obj == NULL);
	CHECK_INT(src.calls, 0);
	CHECK_INT(body_request(&req, &src, "1x", "application/json"), 0);
	status = request_json_body(&req, &obj, err, sizeof(err));
	request_free(&req);
	CHECK_INT(status, 400);
}

int main(void)
{
	RUN(method_must_be_an_uppercase_token);
	RUN(method_and_path_are_kept);
	RUN(path_comes_from_request_uri_without_query_or_fragment);
	RUN(path_falls_back_to_script_name_and_path_info);
	RUN(path_with_control_space_or_non_ascii_is_refused);
	RUN(path_longer_than_the_limit_is_refused);
	RUN(request_id_from_nginx_when_sane);
	RUN(request_id_is_random_when_not_sane);
	RUN(two_random_ids_differ);
	RUN(headers_and_parameters);
	RUN(bearer_token);
	RUN(query_values_are_decoded);
	RUN(empty_query_is_fine_even_with_no_allowlist);
	RUN(key_without_equals_has_an_empty_value);
	RUN(bad_escapes_are_refused);
	RUN(control_bytes_are_refused);
	RUN(unknown_key_is_refused_by_name);
	RUN(repeated_key_is_refused);
	RUN(empty_pairs_are_refused);
	RUN(at_most_the_limit_of_pairs);
	RUN(query_longer_than_the_limit_is_refused);
	RUN(value_longer_than_the_limit_is_refused);
	RUN(key_longer_than_64_is_refused);
	RUN(pairs_parsed_before_a_refusal_are_freed);
	RUN(content_length_is_a_plain_decimal_number);
	RUN(absent_body_reads_nothing);
	RUN(body_is_read_exactly);
	RUN(body_at_the_limit_in_small_chunks);
	RUN(body_one_byte_at_a_time);
	RUN(body_over_the_limit_is_refused_unread);
	RUN(malformed_length_is_refused_unread);
	RUN(short_body_is_refused);
	RUN(json_body_needs_a_json_content_type);
	RUN(json_body_must_be_a_valid_object);
	RUN(json_body_over_the_limit_is_413);
	return CHECK_DONE();
}
