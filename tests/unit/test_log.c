/*
 * test_log - the request line and warnings on standard error: the format,
 * one line each, and bytes outside printable ASCII written as \xNN so that
 * nothing from a request can forge a line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "core/log.h"

static char out[32768];
static size_t outlen;
static FILE *capture_file;
static int saved_stderr = -1;
static time_t before, after;

/* Standard error goes to a temporary file until capture_end(). */
static int capture_begin(void)
{
	fflush(stderr);
	capture_file = tmpfile();
	if (capture_file == NULL)
		return -1;
	saved_stderr = dup(STDERR_FILENO);
	if (saved_stderr < 0 || dup2(fileno(capture_file), STDERR_FILENO) < 0) {
		fclose(capture_file);
		return -1;
	}
	before = time(NULL);
	return 0;
}

/* Restores standard error; what was written is in out (NUL-terminated). */
static void capture_end(void)
{
	after = time(NULL);
	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	rewind(capture_file);
	outlen = fread(out, 1, sizeof(out) - 1, capture_file);
	out[outlen] = '\0';
	fclose(capture_file);
}

static int count_char(const char *s, size_t n, char c)
{
	int k = 0;

	for (size_t i = 0; i < n; i++)
		k += s[i] == c;
	return k;
}

/*
 * 1 when out is one line "STAMP REST\n" with STAMP a UTC time of the form
 * 2026-12-01T18:00:00Z taken during the capture, and REST as expected.
 */
static int one_line(const char *expected_rest)
{
	struct tm tm;
	const char *end;
	time_t t;

	if (outlen == 0 || out[outlen - 1] != '\n' ||
	    count_char(out, outlen, '\n') != 1 || strlen(out) != outlen)
		return 0;
	memset(&tm, 0, sizeof(tm));
	end = strptime(out, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end != out + 20 || *end != ' ')
		return 0;
	t = timegm(&tm);
	if (t < before || t > after)
		return 0;
	return strcmp(end + 1, expected_rest) == 0;
}

TEST(request_line_format)
{
	char expected[256];
	int ok;

	log_init("calendar_get");
	CHECK_INT(capture_begin(), 0);
	log_request("3f2a9c", "GET", "/api/health", 200, 4, 0);
	capture_end();
	snprintf(expected, sizeof(expected),
	         "calendar_get[%ld] req=3f2a9c GET /api/health 200 4ms "
	         "upstream=0\n",
	         (long)getpid());
	ok = one_line(expected);
	if (!ok)
		fprintf(stderr, "  got: %s", out);
	CHECK(ok);

	log_init("payment_hook");
	CHECK_INT(capture_begin(), 0);
	log_request("req-7", "POST", "/api/payments/mercadopago", 502, 12345,
	            3);
	capture_end();
	snprintf(expected, sizeof(expected),
	         "payment_hook[%ld] req=req-7 POST /api/payments/mercadopago "
	         "502 12345ms upstream=3\n",
	         (long)getpid());
	CHECK(one_line(expected));
}

TEST(request_line_without_values)
{
	char expected[256];

	log_init("reconcile");
	CHECK_INT(capture_begin(), 0);
	log_request(NULL, NULL, NULL, 400, 0, 0);
	capture_end();
	snprintf(expected, sizeof(expected),
	         "reconcile[%ld] req=- - - 400 0ms upstream=0\n",
	         (long)getpid());
	CHECK(one_line(expected));
}

TEST(crafted_path_cannot_forge_a_line)
{
	char expected[512];
	int ok;

	log_init("calendar_get");
	CHECK_INT(capture_begin(), 0);
	log_request("abc", "GET",
	            "/x\n2026-01-01T00:00:00Z calendar_get[1] req=- GET / 200 "
	            "0ms upstream=0",
	            404, 1, 0);
	capture_end();
	snprintf(expected, sizeof(expected),
	         "calendar_get[%ld] req=abc GET "
	         "/x\\x0a2026-01-01T00:00:00Z calendar_get[1] req=- GET / 200 "
	         "0ms upstream=0 404 1ms upstream=0\n",
	         (long)getpid());
	ok = one_line(expected);
	if (!ok)
		fprintf(stderr, "  got: %s", out);
	CHECK(ok);
}

TEST(control_backslash_and_non_ascii_are_escaped)
{
	char expected[512];
	int ok;

	log_init("calendar_get");
	CHECK_INT(capture_begin(), 0);
	log_request("id\r\n", "G\x01T", "/a\\x41\r\tb\x7f\x1b[31m\xc3\xa9\xff~",
	            400, 2, 0);
	capture_end();
	snprintf(expected, sizeof(expected),
	         "calendar_get[%ld] req=id\\x0d\\x0a G\\x01T "
	         "/a\\x5cx41\\x0d\\x09b\\x7f\\x1b[31m\\xc3\\xa9\\xff~ 400 2ms "
	         "upstream=0\n",
	         (long)getpid());
	ok = one_line(expected);
	if (!ok)
		fprintf(stderr, "  got: %s", out);
	CHECK(ok);
}

TEST(warning_carries_the_request_id)
{
	char expected[512];

	log_init("calendar_post");
	CHECK_INT(capture_begin(), 0);
	log_warn("3f2a", "Google answered %d for %s", 503, "events.insert");
	capture_end();
	snprintf(expected, sizeof(expected),
	         "calendar_post[%ld] req=3f2a warning: Google answered 503 "
	         "for events.insert\n",
	         (long)getpid());
	CHECK(one_line(expected));

	CHECK_INT(capture_begin(), 0);
	log_warn(NULL, "the database is %s", "unreachable");
	capture_end();
	snprintf(expected, sizeof(expected),
	         "calendar_post[%ld] req=- warning: the database is "
	         "unreachable\n",
	         (long)getpid());
	CHECK(one_line(expected));
}

TEST(warning_is_one_line_whatever_its_text)
{
	char expected[512];

	log_init("calendar_post");
	CHECK_INT(capture_begin(), 0);
	log_warn("r1", "Google said: %s", "bad\nrequest\\ \xe2\x82\xac");
	capture_end();
	snprintf(expected, sizeof(expected),
	         "calendar_post[%ld] req=r1 warning: Google said: "
	         "bad\\x0arequest\\x5c \\xe2\\x82\\xac\n",
	         (long)getpid());
	CHECK(one_line(expected));
}

TEST(fatal_has_no_request)
{
	char expected[256];

	log_init("migrate");
	CHECK_INT(capture_begin(), 0);
	log_fatal("configuration: %s", "DATABASE_URL is not set");
	capture_end();
	snprintf(expected, sizeof(expected),
	         "migrate[%ld] req=- fatal: configuration: DATABASE_URL is not "
	         "set\n",
	         (long)getpid());
	CHECK(one_line(expected));
}

TEST(each_call_is_its_own_line)
{
	log_init("calendar_get");
	CHECK_INT(capture_begin(), 0);
	log_request("a", "GET", "/1", 200, 1, 0);
	log_warn("b", "two");
	log_request("c", "GET", "/3", 200, 1, 0);
	capture_end();
	CHECK_INT(count_char(out, outlen, '\n'), 3);
	CHECK(strstr(out, " req=a GET /1 200 1ms upstream=0\n") != NULL);
	CHECK(strstr(out, " req=b warning: two\n") != NULL);
	CHECK(strstr(out, " req=c GET /3 200 1ms upstream=0\n") != NULL);
}

int main(void)
{
	RUN(request_line_format);
	RUN(request_line_without_values);
	RUN(crafted_path_cannot_forge_a_line);
	RUN(control_backslash_and_non_ascii_are_escaped);
	RUN(warning_carries_the_request_id);
	RUN(warning_is_one_line_whatever_its_text);
	RUN(fatal_has_no_request);
	RUN(each_call_is_its_own_line);
	return CHECK_DONE();
}
