/*
 * test_page - the admin console's HTML: text escaped, the headers every
 * page sends (the CSP allowing exactly the page's own style), the
 * runtime's JSON errors turned into pages under /admin, and which paths
 * are the console's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/crypto.h"
#include "core/tz.h"
#include "web/page.h"

static const char *header(const struct response *res, const char *name)
{
	static char value[1024];
	const char *h = res->headers.data ? res->headers.data : "", *p, *end;
	size_t n = strlen(name), len;

	for (p = h; (p = strstr(p, name)) != NULL; p++) {
		if ((p == h || p[-1] == '\n') && p[n] == ':' &&
		    p[n + 1] == ' ') {
			p += n + 2;
			end = strstr(p, "\r\n");
			len = end ? (size_t)(end - p) : strlen(p);
			if (len >= sizeof(value))
				return NULL;
			memcpy(value, p, len);
			value[len] = '\0';
			return value;
		}
	}
	return NULL;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (; (hay = strstr(hay, needle)) != NULL; hay++)
		n++;
	return n;
}

TEST(text_is_escaped)
{
	struct buf b;

	buf_init(&b, 0);
	CHECK(page_text(&b, "<a href='x'>\"&\"</a>") == 0);
	CHECK_STR(buf_str(&b),
	          "&lt;a href=&#39;x&#39;&gt;&quot;&amp;&quot;&lt;/a&gt;");
	buf_reset(&b);
	CHECK(page_text(&b, NULL) == 0);
	CHECK_STR(buf_str(&b), "");
	buf_free(&b);
}

TEST(form_carries_the_token_escaped)
{
	struct buf b;

	buf_init(&b, 0);
	CHECK(page_form(&b, "/admin/logout", "ab\"cd", "Salir <ya>") == 0);
	CHECK(strstr(buf_str(&b), "method=\"post\"") != NULL);
	CHECK(strstr(buf_str(&b), "action=\"/admin/logout\"") != NULL);
	CHECK(strstr(buf_str(&b), "name=\"csrf\" value=\"ab&quot;cd\"") !=
	      NULL);
	CHECK(strstr(buf_str(&b), "Salir &lt;ya&gt;") != NULL);
	buf_free(&b);
}

TEST(page_sends_the_console_headers_and_its_style_hash)
{
	struct response res;
	struct buf b;
	const char *csp, *style, *end;
	unsigned char sum[CRYPTO_SHA256_LEN];
	char *hash, want[128];

	response_init(&res);
	buf_init(&b, 0);
	CHECK(page_begin(&b, "Título <x>", "0123") == 0);
	CHECK(page_end(&b) == 0);
	CHECK_INT(page_send(&res, 200, &b), 200);
	CHECK_STR(res.content_type, "text/html; charset=utf-8");
	CHECK_STR(header(&res, "Cache-Control"), "no-store");
	CHECK_STR(header(&res, "X-Frame-Options"), "DENY");
	CHECK_STR(header(&res, "X-Content-Type-Options"), "nosniff");
	CHECK_STR(header(&res, "Referrer-Policy"), "no-referrer");
	csp = header(&res, "Content-Security-Policy");
	CHECK(csp != NULL);
	CHECK(csp && strstr(csp, "default-src 'none'") != NULL);
	CHECK(csp && strstr(csp, "form-action 'self'") != NULL);
	CHECK(csp && strstr(csp, "frame-ancestors 'none'") != NULL);
	CHECK(csp && strstr(csp, "base-uri 'none'") != NULL);
	CHECK(csp && strstr(csp, "unsafe") == NULL);
	/* The one style of the page is the one the policy allows. */
	style = strstr(buf_str(&res.body), "<style>");
	CHECK(style != NULL);
	if (style != NULL && csp != NULL) {
		style += 7;
		end = strstr(style, "</style>");
		CHECK(end != NULL);
		crypto_sha256(style, (size_t)(end - style), sum);
		hash = crypto_base64_encode(sum, sizeof(sum));
		snprintf(want, sizeof(want), "style-src 'sha256-%s'", hash);
		CHECK(strstr(csp, want) != NULL);
		free(hash);
	}
	CHECK(strstr(buf_str(&res.body), "Título &lt;x&gt;") != NULL);
	CHECK(strstr(buf_str(&res.body), "<x>") == NULL);
	CHECK(strstr(buf_str(&res.body), "<script") == NULL);
	CHECK(strstr(buf_str(&res.body), "value=\"0123\"") != NULL);
	CHECK_INT(count(buf_str(&res.headers), "Cache-Control:"), 1);
	response_free(&res);
	buf_free(&b);
}

TEST(page_without_a_session_has_no_navigation)
{
	struct response res;

	response_init(&res);
	CHECK_INT(page_message(&res, 403, "No", "texto & más", "/admin/login",
	                       "Entrar"),
	          403);
	CHECK(strstr(buf_str(&res.body), "Cerrar sesión") == NULL);
	CHECK(strstr(buf_str(&res.body), "texto &amp; más") != NULL);
	CHECK(strstr(buf_str(&res.body), "href=\"/admin/login\"") != NULL);
	CHECK_STR(header(&res, "X-Frame-Options"), "DENY");
	response_free(&res);
}

TEST(json_errors_become_pages_keeping_allow)
{
	struct response res;

	response_init(&res);
	CHECK(response_header(&res, "Allow", "GET, HEAD") == 0);
	CHECK_INT(response_error(&res, 405, "method_not_allowed", "no"), 405);
	CHECK_INT(page_from_error(&res), 405);
	CHECK_STR(res.content_type, "text/html; charset=utf-8");
	CHECK_STR(header(&res, "Allow"), "GET, HEAD");
	CHECK_STR(header(&res, "X-Frame-Options"), "DENY");
	CHECK(strncmp(buf_str(&res.body), "<!DOCTYPE html>", 15) == 0);
	CHECK(strstr(buf_str(&res.body), "method_not_allowed") == NULL);
	/* A page stays as it was. */
	CHECK_INT(page_message(&res, 404, "No encontrado", "x", NULL, NULL),
	          404);
	CHECK_INT(page_from_error(&res), 404);
	CHECK(strstr(buf_str(&res.body), "No encontrado") != NULL);
	response_free(&res);
}

TEST(the_console_paths)
{
	CHECK(page_path("/admin"));
	CHECK(page_path("/admin/"));
	CHECK(page_path("/admin/bookings/x"));
	CHECK(!page_path("/administrator"));
	CHECK(!page_path("/adminx/y"));
	CHECK(!page_path("/api/admin"));
	CHECK(!page_path(""));
}

TEST(times_are_shown_in_the_zone)
{
	struct buf b;

	buf_init(&b, 0);
	CHECK(page_time(&b, "2026-12-01 18:00:00") == 0);
	CHECK_STR(buf_str(&b), "2026-12-01 15:00 (-03:00)");
	buf_reset(&b);
	CHECK(page_time(&b, NULL) == 0);
	CHECK_STR(buf_str(&b), "—");
	buf_reset(&b);
	CHECK(page_time(&b, "<b>") == 0);
	CHECK_STR(buf_str(&b), "—");
	buf_free(&b);
}

int main(void)
{
	if (tz_set("America/Argentina/Buenos_Aires") != 0)
		return 1;
	RUN(text_is_escaped);
	RUN(form_carries_the_token_escaped);
	RUN(page_sends_the_console_headers_and_its_style_hash);
	RUN(page_without_a_session_has_no_navigation);
	RUN(json_errors_become_pages_keeping_allow);
	RUN(the_console_paths);
	RUN(times_are_shown_in_the_zone);
	return CHECK_DONE();
}
