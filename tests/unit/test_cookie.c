/*
 * test_cookie - the pages' cookies: their attributes, and reading one back
 * strictly (64 lowercase hex digits, given once), never past the header.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "web/cookie.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* Reads cookie name from a Cookie header held in a buffer of its exact
 * size (as libfcgi allocates it), so that a read past its end is caught
 * under AddressSanitizer. */
static void read_from(const char *header, const char *name, char out[65])
{
	static const char prefix[] = "HTTP_COOKIE=";
	size_t n = sizeof(prefix) - 1 + strlen(header) + 1;
	char *var = malloc(n), method[] = "REQUEST_METHOD=GET",
	     uri[] = "REQUEST_URI=/oauth/google/callback";
	char *envp[4] = {method, uri, var, NULL};
	struct request req;
	char err[128];

	out[0] = 'x';
	out[1] = '\0';
	if (var == NULL)
		return;
	memcpy(var, prefix, sizeof(prefix) - 1);
	memcpy(var + sizeof(prefix) - 1, header, strlen(header) + 1);
	if (request_init(&req, envp, err, sizeof(err)) == 0)
		cookie_read_hex64(&req, name, out);
	request_free(&req);
	free(var);
}

TEST(a_good_cookie_is_read)
{
	char v[65];

	read_from("booking_oauth=" HEX64, "booking_oauth", v);
	CHECK_STR(v, HEX64);
	read_from("a=1; booking_oauth=" HEX64 "; b=2", "booking_oauth", v);
	CHECK_STR(v, HEX64);
}

TEST(anything_else_reads_as_none)
{
	char v[65];

	read_from("booking_oauth=", "booking_oauth", v);
	CHECK_STR(v, "");
	read_from("x=1; booking_oauth=", "booking_oauth", v);
	CHECK_STR(v, "");
	read_from("booking_oauth=abc", "booking_oauth", v);
	CHECK_STR(v, "");
	read_from("booking_oauth=" HEX64 "0", "booking_oauth", v);
	CHECK_STR(v, "");
	read_from("booking_oauth=" HEX64 "; booking_oauth=" HEX64,
	          "booking_oauth", v);
	CHECK_STR(v, "");
	read_from("xbooking_oauth=" HEX64, "booking_oauth", v);
	CHECK_STR(v, "");
	read_from("booking_oauth", "booking_oauth", v);
	CHECK_STR(v, "");
}

TEST(attributes_and_secure_unless_plain_localhost)
{
	struct response res;

	CHECK_INT(cookie_secure("https://school.example/oauth/google/callback"),
	          1);
	CHECK_INT(cookie_secure("http://127.0.0.1:8080/oauth/google/callback"),
	          0);
	CHECK_INT(cookie_secure("http://localhost/x"), 0);
	CHECK_INT(cookie_secure("http://localhost.example.com/x"), 1);
	response_init(&res);
	CHECK_INT(cookie_set(&res, "https://school.example/", "s", "/admin",
	                     "v", 60),
	          0);
	CHECK(strstr(buf_str(&res.headers),
	             "Set-Cookie: s=v; Path=/admin; Max-Age=60; HttpOnly; "
	             "SameSite=Lax; Secure") != NULL);
	response_free(&res);
}

int main(void)
{
	RUN(a_good_cookie_is_read);
	RUN(anything_else_reads_as_none);
	RUN(attributes_and_secure_unless_plain_localhost);
	return CHECK_DONE();
}
