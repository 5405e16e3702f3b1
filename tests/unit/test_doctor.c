/*
 * test_doctor - the doctor's pure parts: the exit status a report gives
 * (0 all ok, 1 warnings only, 2 a failure), the text form (one line a
 * check, "status  name  message"), the JSON form, a message kept to one
 * line, a full report, and the default migrations folder.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json_object.h>
#include <json-c/json_tokener.h>

#include "check.h"
#include "core/buf.h"
#include "school/doctor.h"

static struct doctor_report report(int oks, int warns, int fails)
{
	struct doctor_report r;
	int i;

	memset(&r, 0, sizeof(r));
	for (i = 0; i < oks; i++)
		(void)doctor_add(&r, "database", DOCTOR_OK,
		                 "the database answers");
	for (i = 0; i < warns; i++)
		(void)doctor_add(&r, "api-key", DOCTOR_WARN, "not set");
	for (i = 0; i < fails; i++)
		(void)doctor_add(&r, "grant", DOCTOR_FAIL, "invalid_grant");
	return r;
}

TEST(test_exit_status)
{
	struct doctor_report r = report(0, 0, 0);

	CHECK_INT(doctor_exit_status(&r), 0);
	r = report(3, 0, 0);
	CHECK_INT(doctor_exit_status(&r), 0);
	r = report(3, 1, 0);
	CHECK_INT(doctor_exit_status(&r), 1);
	r = report(0, 2, 0);
	CHECK_INT(doctor_exit_status(&r), 1);
	r = report(3, 2, 1);
	CHECK_INT(doctor_exit_status(&r), 2);
	r = report(0, 0, 1);
	CHECK_INT(doctor_exit_status(&r), 2);
	/* A failure before a warning still wins. */
	memset(&r, 0, sizeof(r));
	(void)doctor_add(&r, "clock", DOCTOR_FAIL, "behind");
	(void)doctor_add(&r, "meet", DOCTOR_WARN, "pending");
	CHECK_INT(doctor_exit_status(&r), 2);
}

TEST(test_status_names)
{
	CHECK_STR(doctor_status_str(DOCTOR_OK), "ok");
	CHECK_STR(doctor_status_str(DOCTOR_WARN), "warn");
	CHECK_STR(doctor_status_str(DOCTOR_FAIL), "fail");
}

TEST(test_text_lines)
{
	struct doctor_report r;
	struct buf b;

	memset(&r, 0, sizeof(r));
	CHECK_INT(doctor_add(&r, "database", DOCTOR_OK, "the database answers"),
	          0);
	CHECK_INT(doctor_add(&r, "clock", DOCTOR_FAIL,
	                     "this server's clock is %d s %s Google's", 300,
	                     "behind"),
	          0);
	CHECK_INT(doctor_add(&r, "api-key", DOCTOR_WARN, "not set"), 0);
	buf_init(&b, 65536);
	CHECK_INT(doctor_text(&r, &b), 0);
	CHECK_STR(buf_str(&b),
	          "ok  database  the database answers\n"
	          "fail  clock  this server's clock is 300 s behind Google's\n"
	          "warn  api-key  not set\n");
	buf_free(&b);
}

TEST(test_message_stays_one_line)
{
	struct doctor_report r;
	struct buf b;

	memset(&r, 0, sizeof(r));
	CHECK_INT(doctor_add(&r, "grant", DOCTOR_FAIL, "%s",
	                     "Google said:\nline two\r\tand\x7f more"),
	          0);
	CHECK_STR(r.checks[0].message, "Google said: line two  and  more");
	buf_init(&b, 65536);
	CHECK_INT(doctor_text(&r, &b), 0);
	CHECK_STR(buf_str(&b),
	          "fail  grant  Google said: line two  and  more\n");
	buf_free(&b);
}

TEST(test_json_form)
{
	struct json_object *root, *checks, *c, *v;
	struct doctor_report r;
	struct buf b;

	memset(&r, 0, sizeof(r));
	(void)doctor_add(&r, "migrations", DOCTOR_OK, "all 7 in /opt/x/sql");
	(void)doctor_add(&r, "meet", DOCTOR_WARN, "a \"quoted\" word");
	buf_init(&b, 65536);
	CHECK_INT(doctor_json(&r, &b), 0);
	CHECK(b.len > 0 && buf_str(&b)[b.len - 1] == '\n');
	root = json_tokener_parse(buf_str(&b));
	CHECK(root != NULL);
	CHECK_INT(json_object_object_length(root), 1);
	CHECK(json_object_object_get_ex(root, "checks", &checks));
	CHECK_INT(json_object_array_length(checks), 2);
	c = json_object_array_get_idx(checks, 1);
	CHECK_INT(json_object_object_length(c), 3);
	CHECK(json_object_object_get_ex(c, "name", &v));
	CHECK_STR(json_object_get_string(v), "meet");
	CHECK(json_object_object_get_ex(c, "status", &v));
	CHECK_STR(json_object_get_string(v), "warn");
	CHECK(json_object_object_get_ex(c, "message", &v));
	CHECK_STR(json_object_get_string(v), "a \"quoted\" word");
	c = json_object_array_get_idx(checks, 0);
	CHECK(json_object_object_get_ex(c, "message", &v));
	CHECK_STR(json_object_get_string(v), "all 7 in /opt/x/sql");
	json_object_put(root);
	buf_free(&b);
}

TEST(test_empty_json)
{
	struct doctor_report r;
	struct buf b;

	memset(&r, 0, sizeof(r));
	buf_init(&b, 1024);
	CHECK_INT(doctor_json(&r, &b), 0);
	CHECK_STR(buf_str(&b), "{\"checks\":[]}\n");
	buf_free(&b);
}

TEST(test_report_is_bounded)
{
	struct doctor_report r;
	char long_text[DOCTOR_MESSAGE_MAX * 2];
	int i;

	memset(&r, 0, sizeof(r));
	for (i = 0; i < DOCTOR_MAX_CHECKS; i++)
		CHECK_INT(doctor_add(&r, "x", DOCTOR_OK, "ok"), 0);
	CHECK_INT(doctor_add(&r, "one-too-many", DOCTOR_FAIL, "no room"), -1);
	CHECK_INT(r.n, DOCTOR_MAX_CHECKS);
	CHECK_INT(doctor_exit_status(&r), 0);
	memset(long_text, 'a', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	memset(&r, 0, sizeof(r));
	CHECK_INT(doctor_add(&r, "long", DOCTOR_WARN, "%s", long_text), 0);
	CHECK_INT(strlen(r.checks[0].message), DOCTOR_MESSAGE_MAX - 1);
}

TEST(test_text_over_cap_fails)
{
	struct doctor_report r = report(5, 0, 0);
	struct buf b;

	buf_init(&b, 16);
	CHECK_INT(doctor_text(&r, &b), -1);
	buf_free(&b);
}

TEST(test_default_sql_dir)
{
	char dir[4096], exe[4096], want[4200], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	CHECK(n > 0);
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	CHECK(slash != NULL);
	*slash = '\0';
	snprintf(want, sizeof(want), "%s/../sql", exe);
	CHECK_INT(doctor_sql_dir(dir, sizeof(dir)), 0);
	CHECK_STR(dir, want);
	CHECK_INT(doctor_sql_dir(dir, 4), -1);
}

int main(void)
{
	RUN(test_exit_status);
	RUN(test_status_names);
	RUN(test_text_lines);
	RUN(test_message_stays_one_line);
	RUN(test_json_form);
	RUN(test_empty_json);
	RUN(test_report_is_bounded);
	RUN(test_text_over_cap_fails);
	RUN(test_default_sql_dir);
	return CHECK_DONE();
}
