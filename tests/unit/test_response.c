/*
 * test_response - building replies: the contract's error shape, headers
 * that cannot split a response, the CGI serialization (HEAD, 204, 304), and
 * HTML pages with everything escaped, in strict UTF-8, with the page
 * headers (CSP allowing only the page's own style, by its hash).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "check.h"
#include "core/crypto.h"
#include "core/jsonio.h"
#include "core/limit.h"
#include "core/utf8.h"
#include "web/response.h"

static const char json_content_type[] = "application/json; charset=utf-8";

/*
 * 1 when body is exactly {"error":{"code":code,"message":message}} plus a
 * newline, read back by the strict parser (so also valid UTF-8).
 */
static int is_error_body(const struct buf *body, const char *code,
                         const char *message)
{
	char err[128];
	struct json_object *root, *error;
	int ok;

	if (body->len == 0 || body->data[body->len - 1] != '\n')
		return 0;
	root = jsonio_parse(body->data, body->len, 4, err, sizeof(err));
	error = jsonio_member(root, "error", json_type_object);
	ok = root != NULL && json_object_object_length(root) == 1 &&
	     error != NULL && json_object_object_length(error) == 2 &&
	     jsonio_string(error, "code") != NULL &&
	     strcmp(jsonio_string(error, "code"), code) == 0 &&
	     jsonio_string(error, "message") != NULL &&
	     (message == NULL ||
	      strcmp(jsonio_string(error, "message"), message) == 0);
	json_object_put(root);
	return ok;
}

TEST(error_has_the_contract_shape)
{
	struct response res;
	int ok;

	response_init(&res);
	ok = response_error(&res, 404, "not_found", "No booking %s here.",
	                    "abc") == 404 &&
	     res.status == 404 &&
	     strcmp(res.content_type, json_content_type) == 0 &&
	     is_error_body(&res.body, "not_found", "No booking abc here.") &&
	     strcmp(buf_str(&res.body),
	            "{\"error\":{\"code\":\"not_found\",\"message\":"
	            "\"No booking abc here.\"}}\n") == 0;
	response_free(&res);
	CHECK(ok);
}

TEST(error_message_is_escaped)
{
	static const char *const messages[] = {
	        "a \"quoted\" word",
	        "two\nlines\r\nand a\ttab",
	        "back\\slash and /slash",
	        "Mar\xc3\xad\x61 pag\xc3\xb3 \xe2\x82\xac 5 \xf0\x9f\x98\x80",
	        "control \x01\x1f and DEL \x7f",
	        "</script><script>alert(1)</script>",
	        "",
	};
	struct response res;
	size_t i;
	int ok;

	for (i = 0; i < sizeof(messages) / sizeof(messages[0]); i++) {
		response_init(&res);
		response_error(&res, 422, "invalid_field", "%s", messages[i]);
		ok = res.status == 422 &&
		     is_error_body(&res.body, "invalid_field", messages[i]) &&
		     memchr(res.body.data, '\n', res.body.len) ==
		             res.body.data + res.body.len - 1 &&
		     memchr(res.body.data, '\r', res.body.len) == NULL;
		response_free(&res);
		CHECK(ok);
	}
}

TEST(long_error_message_is_cut_on_a_character_boundary)
{
	static const char *const chars[] = {"\xc3\xa9", "\xe2\x82\xac",
	                                    "\xf0\x9f\x98\x80"};
	char message[1200];
	struct response res;
	size_t c, shift, i, n;
	int ok;

	/* A message longer than the reply keeps is cut; wherever the cut
	 * falls in a character of 2, 3 or 4 bytes, no part of one may be
	 * left (the body must stay UTF-8). */
	for (c = 0; c < 3; c++) {
		n = strlen(chars[c]);
		for (shift = 0; shift < 4; shift++) {
			memset(message, 'a', shift);
			for (i = shift; i + n < 1100; i += n)
				memcpy(message + i, chars[c], n);
			message[i] = '\0';
			response_init(&res);
			response_error(&res, 400, "bad_request", "%s", message);
			ok = is_error_body(&res.body, "bad_request", NULL) &&
			     res.body.len > 400;
			response_free(&res);
			CHECK(ok);
		}
	}
}

TEST(error_replaces_a_half_built_body)
{
	struct json_object *obj = json_object_new_object();
	struct response res;
	int ok;

	CHECK(obj != NULL);
	response_init(&res);
	ok = jsonio_add_string(obj, "booking", "x") == 0 &&
	     response_json(&res, 201, obj) == 201 &&
	     response_error(&res, 409, "slot_unavailable", "Taken.") == 409 &&
	     res.status == 409 &&
	     is_error_body(&res.body, "slot_unavailable", "Taken.");
	json_object_put(obj);
	response_free(&res);
	CHECK(ok);
}

TEST(json_reply)
{
	struct json_object *obj = json_object_new_object();
	struct response res;
	int ok;

	CHECK(obj != NULL);
	response_init(&res);
	ok = jsonio_add_string(obj, "link", "https://meet.google.com/x") == 0 &&
	     jsonio_add_int(obj, "n", 2) == 0 &&
	     response_json(&res, 201, obj) == 201 && res.status == 201 &&
	     strcmp(res.content_type, json_content_type) == 0 &&
	     strcmp(buf_str(&res.body),
	            "{\"link\":\"https://meet.google.com/x\",\"n\":2}\n") == 0;
	json_object_put(obj);
	response_free(&res);
	CHECK(ok);
}

TEST(header_is_added)
{
	struct response res;
	int ok;

	response_init(&res);
	ok = response_header(&res, "ETag", "\"v1\"") == 0 &&
	     response_header(&res, "Cache-Control", "public, max-age=30") ==
	             0 &&
	     response_header(&res, "X-Empty", "") == 0 &&
	     strcmp(buf_str(&res.headers),
	            "ETag: \"v1\"\r\nCache-Control: public, max-age=30\r\n"
	            "X-Empty: \r\n") == 0;
	response_free(&res);
	CHECK(ok);
}

/* 1 when response_header refuses name: value and adds nothing. */
static int header_refused(const char *name, const char *value)
{
	struct response res;
	int ok;

	response_init(&res);
	ok = response_header(&res, "Before", "1") == 0 &&
	     response_header(&res, name, value) == -1 &&
	     strcmp(buf_str(&res.headers), "Before: 1\r\n") == 0;
	response_free(&res);
	return ok;
}

TEST(header_cannot_split_the_response)
{
	static char value[LIMIT_HEADER_VALUE + 2], name[70];
	struct response res;
	int ok;

	/* Names. */
	CHECK(header_refused("", "x"));
	CHECK(header_refused("X-A\r\nSet-Cookie", "x"));
	CHECK(header_refused("X-A\n", "x"));
	CHECK(header_refused("X-A\r", "x"));
	CHECK(header_refused("X-\x01", "x"));
	CHECK(header_refused("X-\x7f", "x"));
	CHECK(header_refused("X\tA", "x"));
	CHECK(header_refused("X-A:", "x"));
	CHECK(header_refused("Set-Cookie: a=b\r\nX", "x"));
	CHECK(header_refused("X A", "x"));
	CHECK(header_refused(" X", "x"));
	/* Values. */
	CHECK(header_refused("X-A", "a\r\nSet-Cookie: evil=1"));
	CHECK(header_refused("X-A", "a\nb"));
	CHECK(header_refused("X-A", "a\rb"));
	CHECK(header_refused("X-A", "\r\n"));
	CHECK(header_refused("X-A", "a\x01"));
	CHECK(header_refused("X-A", "a\x1b"));
	CHECK(header_refused("X-A", "a\x7f"));
	/* Lengths: a value of LIMIT_HEADER_VALUE is fine, one more is not. */
	memset(value, 'v', LIMIT_HEADER_VALUE);
	value[LIMIT_HEADER_VALUE] = '\0';
	response_init(&res);
	ok = response_header(&res, "X-Long", value) == 0 &&
	     res.headers.len == strlen("X-Long: \r\n") + LIMIT_HEADER_VALUE;
	response_free(&res);
	CHECK(ok);
	value[LIMIT_HEADER_VALUE] = 'v';
	value[LIMIT_HEADER_VALUE + 1] = '\0';
	CHECK(header_refused("X-Long", value));
	memset(name, 'N', 64);
	name[64] = '\0';
	response_init(&res);
	ok = response_header(&res, name, "x") == 0;
	response_free(&res);
	CHECK(ok);
	name[64] = 'N';
	name[65] = '\0';
	CHECK(header_refused(name, "x"));
}

TEST(serialize_writes_a_whole_cgi_reply)
{
	struct json_object *obj = json_object_new_object();
	struct response res;
	struct buf out;
	int ok;

	CHECK(obj != NULL);
	response_init(&res);
	buf_init(&out, 0);
	ok = jsonio_add_string(obj, "status", "ok") == 0 &&
	     response_json(&res, 200, obj) == 200 &&
	     response_header(&res, "ETag", "\"e1\"") == 0 &&
	     response_header(&res, "X-Cache", "HIT") == 0 &&
	     response_serialize(&res, "req-1", 0, &out) == 0 &&
	     strcmp(buf_str(&out), "Status: 200 OK\r\n"
	                           "Content-Type: application/json; "
	                           "charset=utf-8\r\n"
	                           "Content-Length: 16\r\n"
	                           "X-Request-Id: req-1\r\n"
	                           "ETag: \"e1\"\r\n"
	                           "X-Cache: HIT\r\n"
	                           "\r\n"
	                           "{\"status\":\"ok\"}\n") == 0 &&
	     res.body.len == 16;
	json_object_put(obj);
	buf_free(&out);
	response_free(&res);
	CHECK(ok);
}

TEST(serialize_counts_the_body_exactly)
{
	struct response res;
	struct buf out;
	const char *len, *blank;
	int ok;

	response_init(&res);
	buf_init(&out, 0);
	response_error(&res, 405, "method_not_allowed", "Use GET \xc3\xa9.");
	ok = response_header(&res, "Allow", "GET, HEAD") == 0 &&
	     response_serialize(&res, "abc", 0, &out) == 0;
	len = strstr(buf_str(&out), "\r\nContent-Length: ");
	blank = strstr(buf_str(&out), "\r\n\r\n");
	ok = ok && len != NULL && blank != NULL &&
	     strncmp(buf_str(&out), "Status: 405 Method Not Allowed\r\n", 32) ==
	             0 &&
	     strstr(buf_str(&out), "\r\nAllow: GET, HEAD\r\n") != NULL &&
	     strtoul(len + 18, NULL, 10) == res.body.len &&
	     (size_t)(out.data + out.len - (blank + 4)) == res.body.len &&
	     memcmp(blank + 4, res.body.data, res.body.len) == 0;
	buf_free(&out);
	response_free(&res);
	CHECK(ok);
}

TEST(head_keeps_the_length_and_drops_the_body)
{
	struct response res;
	struct buf get, head;
	int ok;

	response_init(&res);
	buf_init(&get, 0);
	buf_init(&head, 0);
	response_error(&res, 404, "not_found", "Nothing here.");
	ok = response_serialize(&res, "id", 0, &get) == 0 &&
	     response_serialize(&res, "id", 1, &head) == 0 &&
	     get.len == head.len + res.body.len &&
	     memcmp(get.data, head.data, head.len) == 0 && head.len >= 4 &&
	     memcmp(head.data + head.len - 4, "\r\n\r\n", 4) == 0;
	ok = ok && strstr(buf_str(&head), "Content-Length: ") != NULL &&
	     strtoul(strstr(buf_str(&head), "Content-Length: ") + 16, NULL,
	             10) == res.body.len &&
	     strstr(buf_str(&head), "Content-Type: application/json") != NULL;
	buf_free(&head);
	buf_free(&get);
	response_free(&res);
	CHECK(ok);
}

TEST(no_content_and_not_modified_have_no_body)
{
	static const int statuses[] = {204, 304};
	struct response res;
	struct buf out;
	char expected[256];
	size_t i;
	int ok;

	for (i = 0; i < 2; i++) {
		response_init(&res);
		buf_init(&out, 0);
		/* Even when a body was written before the status changed. */
		response_error(&res, 500, "x", "a body that must not go out");
		res.status = statuses[i];
		ok = response_header(&res, "ETag", "\"e1\"") == 0 &&
		     response_serialize(&res, "rid", 0, &out) == 0;
		snprintf(expected, sizeof(expected),
		         "Status: %d %s\r\nX-Request-Id: rid\r\nETag: "
		         "\"e1\"\r\n\r\n",
		         statuses[i], i ? "Not Modified" : "No Content");
		ok = ok && strcmp(buf_str(&out), expected) == 0;
		buf_free(&out);
		response_free(&res);
		CHECK(ok);
	}
}

TEST(serialize_of_an_empty_reply)
{
	struct response res;
	struct buf out;
	int ok;

	response_init(&res);
	buf_init(&out, 0);
	ok = response_serialize(&res, "r", 0, &out) == 0 &&
	     strcmp(buf_str(&out), "Status: 200 OK\r\nContent-Length: 0\r\n"
	                           "X-Request-Id: r\r\n\r\n") == 0;
	buf_free(&out);
	response_free(&res);
	CHECK(ok);
}

TEST(serialize_refuses_when_out_is_full)
{
	struct response res;
	struct buf out;
	int ok;

	response_init(&res);
	buf_init(&out, 64);
	response_error(&res, 400, "bad_request", "A message too long for 64.");
	ok = response_serialize(&res, "r", 0, &out) == -1;
	buf_free(&out);
	response_free(&res);
	CHECK(ok);
}

TEST(reason_phrases)
{
	CHECK_STR(response_reason(200), "OK");
	CHECK_STR(response_reason(201), "Created");
	CHECK_STR(response_reason(302), "Found");
	CHECK_STR(response_reason(401), "Unauthorized");
	CHECK_STR(response_reason(404), "Not Found");
	CHECK_STR(response_reason(405), "Method Not Allowed");
	CHECK_STR(response_reason(409), "Conflict");
	CHECK_STR(response_reason(413), "Content Too Large");
	CHECK_STR(response_reason(415), "Unsupported Media Type");
	CHECK_STR(response_reason(422), "Unprocessable Content");
	CHECK_STR(response_reason(502), "Bad Gateway");
	CHECK_STR(response_reason(503), "Service Unavailable");
	CHECK_STR(response_reason(504), "Gateway Timeout");
	CHECK_STR(response_reason(299), "Unknown");
	CHECK_STR(response_reason(0), "Unknown");
	CHECK_STR(response_reason(-1), "Unknown");
}

TEST(reset_drops_headers_and_body)
{
	struct response res;
	int ok;

	response_init(&res);
	response_error(&res, 503, "x", "y");
	ok = response_header(&res, "Retry-After", "5") == 0;
	response_reset(&res);
	ok = ok && res.status == 200 && res.content_type[0] == '\0' &&
	     res.headers.len == 0 && res.body.len == 0 &&
	     strcmp(buf_str(&res.body), "") == 0;
	response_free(&res);
	response_free(&res); /* twice is harmless */
	CHECK(ok);
}

TEST(html_escape_of_the_five_characters)
{
	struct buf b;
	int ok;

	buf_init(&b, 0);
	ok = html_escape(&b, "a&b<c>d\"e'f") == 0 &&
	     strcmp(buf_str(&b), "a&amp;b&lt;c&gt;d&quot;e&#39;f") == 0;
	buf_reset(&b);
	ok = ok && html_escape(&b, "") == 0 && b.len == 0 &&
	     html_escape(&b, "plain \xc3\xa9 text") == 0 &&
	     strcmp(buf_str(&b), "plain \xc3\xa9 text") == 0;
	buf_reset(&b);
	ok = ok && html_escape(&b, "&amp;") == 0 &&
	     strcmp(buf_str(&b), "&amp;amp;") == 0;
	buf_free(&b);
	CHECK(ok);
	/* Over the cap: -1. */
	buf_init(&b, 8);
	ok = html_escape(&b, "<<") == 0 && html_escape(&b, "<") == -1;
	buf_free(&b);
	CHECK(ok);
}

/* Occurrences of needle in hay. */
static int count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

TEST(page_escapes_title_paragraph_and_link)
{
	struct response res;
	const char *s;
	int ok;

	response_init(&res);
	ok = response_page(&res, 403, "<script>alert(\"x\")</script>",
	                   "Sign in as <b>admin</b> & 'retry'",
	                   "/oauth/google/start?a=1&b=\"><script>",
	                   "Try <again>") == 403;
	s = buf_str(&res.body);
	ok = ok && res.status == 403 &&
	     strcmp(res.content_type, "text/html; charset=utf-8") == 0 &&
	     strncmp(s, "<!DOCTYPE html>", 15) == 0 &&
	     strstr(s, "<meta charset=\"utf-8\">") != NULL &&
	     /* The title only ever escaped, in <title> and <h1>. */
	     strstr(s, "<script>") == NULL && count(s, "alert") == 2 &&
	     count(s, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;") ==
	             2 &&
	     strstr(s, "<title>&lt;script&gt;") != NULL &&
	     strstr(s, "Sign in as &lt;b&gt;admin&lt;/b&gt; &amp; "
	               "&#39;retry&#39;") != NULL &&
	     strstr(s, "<b>") == NULL &&
	     strstr(s, "href=\"/oauth/google/start?a=1&amp;b=&quot;&gt;"
	               "&lt;script&gt;\"") != NULL &&
	     strstr(s, ">Try &lt;again&gt;</a>") != NULL &&
	     strstr(s, "</html>") != NULL;
	response_free(&res);
	CHECK(ok);
}

TEST(page_without_paragraph_or_link)
{
	struct response res;
	const char *s;
	int ok;

	response_init(&res);
	ok = response_page(&res, 200, "Listo", NULL, NULL, NULL) == 200;
	s = buf_str(&res.body);
	ok = ok && strncmp(s, "<!DOCTYPE html>", 15) == 0 &&
	     strstr(s, "<h1>Listo</h1>") != NULL && strstr(s, "<a ") == NULL;
	response_free(&res);
	CHECK(ok);
	/* A link without a label shows its href. */
	response_init(&res);
	ok = response_page(&res, 200, "T", "P", "/x?a&b", NULL) == 200 &&
	     strstr(buf_str(&res.body), "href=\"/x?a&amp;b\">/x?a&amp;b</a>") !=
	             NULL;
	response_free(&res);
	CHECK(ok);
}

TEST(html_escape_drops_what_is_not_utf8)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	        {"\xff\xfe", "??"},
	        {"bad\xc3", "bad?"},
	        {"\xc3<", "?&lt;"},             /* a cut sequence, then '<' */
	        {"\xed\xa0\x80x", "???x"},      /* a surrogate (CESU-8) */
	        {"\xc0\xaf<b>", "??&lt;b&gt;"}, /* overlong '/' */
	        {"\xf4\x90\x80\x80", "????"},   /* past U+10FFFF */
	        {"ok\xe2\x82", "ok??"},
	        {"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80&",
	         "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80&amp;"},
	};
	struct buf b;
	size_t i;
	int ok;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_init(&b, 0);
		ok = html_escape(&b, cases[i].in) == 0 &&
		     strcmp(buf_str(&b), cases[i].out) == 0 &&
		     utf8_valid(b.data, b.len);
		if (!ok)
			fprintf(stderr, "  case %zu: \"%s\"\n", i, buf_str(&b));
		buf_free(&b);
		CHECK(ok);
	}
}

/* The value of the header line name in res, into out ("" when none), and
 * how many such lines there are. */
static int header_value(const struct response *res, const char *name, char *out,
                        size_t outlen)
{
	const char *h = buf_str(&res->headers), *p, *end;
	size_t n = strlen(name);
	int count = 0;

	out[0] = '\0';
	for (p = h; (p = strstr(p, name)) != NULL; p += n) {
		if ((p != h && p[-1] != '\n') || p[n] != ':' || p[n + 1] != ' ')
			continue;
		end = strstr(p, "\r\n");
		if (count++ == 0 && end != NULL)
			snprintf(out, outlen, "%.*s", (int)(end - p - n - 2),
			         p + n + 2);
	}
	return count;
}

TEST(page_has_the_page_headers_once)
{
	struct response res;
	unsigned char sum[32];
	char v[512], want[128], *b64;
	const char *body, *css, *css_end;
	int ok;

	response_init(&res);
	/* A handler's own no-store is kept, not repeated; a second page on
	 * the same reply adds nothing. */
	ok = response_header(&res, "Cache-Control", "no-store") == 0 &&
	     response_page(&res, 400, "T", "P", NULL, NULL) == 400 &&
	     response_page(&res, 200, "T", "P", "/x", "x") == 200;
	CHECK(ok);
	CHECK_INT(header_value(&res, "X-Frame-Options", v, sizeof(v)), 1);
	CHECK_STR(v, "DENY");
	CHECK_INT(header_value(&res, "X-Content-Type-Options", v, sizeof(v)),
	          1);
	CHECK_STR(v, "nosniff");
	CHECK_INT(header_value(&res, "Referrer-Policy", v, sizeof(v)), 1);
	CHECK_STR(v, "no-referrer");
	CHECK_INT(header_value(&res, "Cache-Control", v, sizeof(v)), 1);
	CHECK_STR(v, "no-store");
	CHECK_INT(header_value(&res, "Content-Security-Policy", v, sizeof(v)),
	          1);
	CHECK(strncmp(v, "default-src 'none'; style-src 'sha256-", 38) == 0);
	CHECK(strstr(v, "; frame-ancestors 'none'; form-action 'self'; "
	                "base-uri 'none'") != NULL);
	CHECK(strstr(v, "script-src") == NULL);
	/* The hash is the page's one <style>, in standard base64. */
	body = buf_str(&res.body);
	css = strstr(body, "<style>");
	css_end = css ? strstr(css, "</style>") : NULL;
	CHECK(css != NULL && css_end != NULL);
	CHECK(strstr(css_end, "<style") == NULL &&
	      strstr(body, " style=") == NULL);
	css += 7;
	crypto_sha256(css, (size_t)(css_end - css), sum);
	b64 = crypto_base64url_encode(sum, sizeof(sum));
	CHECK(b64 != NULL);
	for (char *c = b64; *c; c++)
		*c = *c == '-' ? '+' : *c == '_' ? '/' : *c;
	snprintf(want, sizeof(want), "style-src 'sha256-%s=';", b64);
	free(b64);
	ok = strstr(v, want) != NULL;
	response_free(&res);
	CHECK(ok);
}

TEST(status_pages_say_what_the_status_means)
{
	static const int statuses[] = {400, 401, 404, 405, 413, 500, 503, 418};
	struct response res;
	size_t i;
	int ok;

	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		response_init(&res);
		ok = response_status_page(&res, statuses[i]) == statuses[i] &&
		     res.status == statuses[i] &&
		     strcmp(res.content_type, "text/html; charset=utf-8") ==
		             0 &&
		     strncmp(buf_str(&res.body), "<!DOCTYPE html>", 15) == 0 &&
		     strstr(buf_str(&res.body), "<h1>") != NULL &&
		     utf8_valid(res.body.data, res.body.len) &&
		     strstr(buf_str(&res.headers),
		            "Content-Security-Policy: ") != NULL;
		response_free(&res);
		if (!ok)
			CHECK_FAIL_("status %d", statuses[i]);
	}
}

TEST(page_that_cannot_be_built_is_a_fixed_500_page)
{
	struct response res;
	char title[300];
	int ok;

	/* A title bigger than the body may grow: the page cannot be built. */
	memset(title, 'x', sizeof(title) - 1);
	title[sizeof(title) - 1] = '\0';
	response_init(&res);
	res.body.cap = 256;
	ok = response_page(&res, 200, title, "P", NULL, NULL) == 500 &&
	     res.status == 500 &&
	     strcmp(res.content_type, "text/html; charset=utf-8") == 0 &&
	     strncmp(buf_str(&res.body), "<!DOCTYPE html>", 15) == 0 &&
	     strstr(buf_str(&res.body), "xxx") == NULL &&
	     strstr(buf_str(&res.headers), "Content-Security-Policy: ") != NULL;
	response_free(&res);
	CHECK(ok);
}

int main(void)
{
	RUN(error_has_the_contract_shape);
	RUN(error_message_is_escaped);
	RUN(long_error_message_is_cut_on_a_character_boundary);
	RUN(error_replaces_a_half_built_body);
	RUN(json_reply);
	RUN(header_is_added);
	RUN(header_cannot_split_the_response);
	RUN(serialize_writes_a_whole_cgi_reply);
	RUN(serialize_counts_the_body_exactly);
	RUN(head_keeps_the_length_and_drops_the_body);
	RUN(no_content_and_not_modified_have_no_body);
	RUN(serialize_of_an_empty_reply);
	RUN(serialize_refuses_when_out_is_full);
	RUN(reason_phrases);
	RUN(reset_drops_headers_and_body);
	RUN(html_escape_of_the_five_characters);
	RUN(page_escapes_title_paragraph_and_link);
	RUN(page_without_paragraph_or_link);
	RUN(html_escape_drops_what_is_not_utf8);
	RUN(page_has_the_page_headers_once);
	RUN(status_pages_say_what_the_status_means);
	RUN(page_that_cannot_be_built_is_a_fixed_500_page);
	return CHECK_DONE();
}
