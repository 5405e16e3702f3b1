/*
 * test_gcal - the Calendar client against a scripted local peer: every
 * page of events.list followed, its parameters, the API key sent as a
 * header (never in the URL), and Google's errors read as results.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "web/app.h"
#include "check.h"
#include "upstream/gcal.h"
#include "peer.h"

static struct proc proc;
static char base[64];

static void proc_reset(void)
{
	http_client_free(proc.http);
	memset(&proc, 0, sizeof(proc));
	proc.http = http_client_new(NULL);
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", peer_port);
	proc.cfg.google_api_base = base;
	proc.cfg.google_calendar_id = "school@group.calendar.google.com";
}

static enum gcal_result list(struct gcal_events *ev)
{
	struct gcal_auth auth = {"key-123", NULL};
	struct gcal_list q;
	char err[256];

	memset(&q, 0, sizeof(q));
	q.single_events = 1;
	q.time_min = 1796148000; /* 2026-12-01T18:00:00Z */
	q.time_max = 1796234400;
	return gcal_events_list(&proc, &auth, proc.cfg.google_calendar_id, &q,
	                        ev, err, sizeof(err));
}

TEST(every_page_is_followed)
{
	struct gcal_events ev = {NULL, NULL};

	proc_reset();
	CHECK(script("[{\"status\":200,\"body\":\"{\\\"items\\\":[{\\\"id\\\":"
	             "\\\"a\\\"},{\\\"id\\\":\\\"b\\\"}],\\\"nextPageToken\\\":"
	             "\\\"p2\\\"}\"},{\"status\":200,\"body\":\"{\\\"items\\\":"
	             "[{\\\"id\\\":\\\"c_20261201T150000Z\\\","
	             "\\\"recurringEventId"
	             "\\\":\\\"c\\\"}],\\\"nextSyncToken\\\":\\\"sync-1\\\"}\"}"
	             "]") == 0);
	CHECK_INT(list(&ev), GCAL_OK);
	CHECK_INT(json_object_array_length(ev.items), 3);
	CHECK_STR(ev.next_sync_token, "sync-1");
	gcal_events_free(&ev);
	CHECK(fetch_log() == 0);
	CHECK_INT(log_count(), 2);
	/* The calendar id is one path segment, its '@' encoded. */
	CHECK(log_has(0, "/calendar/v3/calendars/"
	                 "school%40group.calendar.google.com/events"));
	CHECK(log_has(0, "singleEvents=true"));
	CHECK(log_has(0, "maxResults=250"));
	CHECK(log_has(0, "timeMin=2026-12-01T18%3A00%3A00Z"));
	CHECK(log_has(0, "timeMax=2026-12-02T18%3A00%3A00Z"));
	CHECK(!log_has(0, "pageToken"));
	/* The second page asks again with the same query and the token. */
	CHECK(log_has(1, "pageToken=p2"));
	CHECK(log_has(1, "timeMin=2026-12-01T18%3A00%3A00Z"));
	/* The key travels in a header, never in the URL (which is logged). */
	CHECK(log_has(0, "\"X-Goog-Api-Key\":\"key-123\""));
	CHECK(!log_has(0, "key=key-123"));
}

TEST(sync_token_replaces_the_window)
{
	struct gcal_auth auth = {"key-123", NULL};
	struct gcal_events ev = {NULL, NULL};
	struct gcal_list q;
	char err[256];

	proc_reset();
	CHECK(script("[{\"status\":200,\"body\":\"{\\\"items\\\":[],"
	             "\\\"nextSyncToken\\\":\\\"sync-2\\\"}\"}]") == 0);
	memset(&q, 0, sizeof(q));
	q.single_events = 1;
	q.sync_token = "sync-1";
	CHECK_INT(gcal_events_list(&proc, &auth, proc.cfg.google_calendar_id,
	                           &q, &ev, err, sizeof(err)),
	          GCAL_OK);
	CHECK_STR(ev.next_sync_token, "sync-2");
	gcal_events_free(&ev);
	CHECK(fetch_log() == 0);
	CHECK(log_has(0, "syncToken=sync-1"));
	CHECK(!log_has(0, "timeMin"));
	CHECK(!log_has(0, "orderBy"));
}

TEST(google_errors_become_results)
{
	static const struct {
		const char *script;
		enum gcal_result want;
	} cases[] = {
	        {"[{\"status\":410,\"body\":\"{\\\"error\\\":{\\\"errors\\\":[{"
	         "\\\"domain\\\":\\\"calendar\\\",\\\"reason\\\":"
	         "\\\"fullSyncRequired\\\"}],\\\"code\\\":410}}\"}]",
	         GCAL_GONE},
	        {"[{\"status\":401,\"body\":\"{}\"}]", GCAL_UNAUTHORIZED},
	        {"[{\"status\":404,\"body\":\"{}\"}]", GCAL_NOT_FOUND},
	        {"[{\"status\":400,\"body\":\"{}\"}]", GCAL_REFUSED},
	        {"[{\"status\":403,\"body\":\"{\\\"error\\\":{\\\"errors\\\":[{"
	         "\\\"reason\\\":\\\"forbiddenForNonOrganizer\\\"}]}}\"}]",
	         GCAL_REFUSED},
	        {"[{\"status\":200,\"body\":\"not json\"}]", GCAL_UNAVAILABLE},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gcal_events ev = {NULL, NULL};

		proc_reset();
		CHECK(script(cases[i].script) == 0);
		CHECK_INT(list(&ev), cases[i].want);
		CHECK(ev.items == NULL);
	}
}

TEST(rate_limit_403_is_retried)
{
	struct gcal_events ev = {NULL, NULL};

	proc_reset();
	CHECK(script("[{\"status\":403,\"body\":\"{\\\"error\\\":{\\\"errors"
	             "\\\":[{\\\"domain\\\":\\\"usageLimits\\\",\\\"reason\\\":"
	             "\\\"rateLimitExceeded\\\"}],\\\"code\\\":403}}\"},"
	             "{\"status\":200,\"body\":\"{\\\"items\\\":[],"
	             "\\\"nextSyncToken\\\":\\\"s\\\"}\"}]") == 0);
	CHECK_INT(list(&ev), GCAL_OK);
	gcal_events_free(&ev);
	CHECK(fetch_log() == 0);
	CHECK_INT(log_count(), 2);
}

/* Scripts one answer: status and body (any text, escaped here). */
static int answer(int status, const char *body)
{
	struct json_object *list = json_object_new_array();
	struct json_object *a = json_object_new_object();
	int rc = -1;

	if (list == NULL || a == NULL || json_object_array_add(list, a) != 0) {
		json_object_put(a);
		goto out;
	}
	if (json_object_object_add(a, "status", json_object_new_int(status)) !=
	            0 ||
	    json_object_object_add(a, "body", json_object_new_string(body)) !=
	            0)
		goto out;
	rc = script(json_object_to_json_string(list));
out:
	json_object_put(list);
	return rc;
}

/* Google's answer when the Calendar API is off in the project
 * (protocols.md §11.2, a real capture's structure). */
static const char disabled[] =
        "{\"error\":{\"code\":403,\"message\":\"Google Calendar API has "
        "not been used in project 336992806363 before or it is disabled. "
        "Enable it by visiting https://console.developers.google.com/apis/"
        "api/calendar-json.googleapis.com/overview?project=336992806363 "
        "then retry.\",\"errors\":[{\"message\":\"x\",\"domain\":"
        "\"usageLimits\",\"reason\":\"accessNotConfigured\","
        "\"extendedHelp\":\"https://console.developers.google.com\"}],"
        "\"status\":\"PERMISSION_DENIED\",\"details\":[{\"@type\":"
        "\"type.googleapis.com/google.rpc.ErrorInfo\",\"reason\":"
        "\"SERVICE_DISABLED\",\"domain\":\"googleapis.com\",\"metadata\":"
        "{\"consumer\":\"projects/336992806363\",\"service\":"
        "\"calendar-json.googleapis.com\"}}]}}";

TEST(probe_reads_zone_and_date)
{
	struct gcal_auth auth = {NULL, "tok-1"};
	struct gcal_probe p;
	time_t before = time(NULL), after;

	proc_reset();
	CHECK(answer(200, "{\"kind\":\"calendar#events\",\"timeZone\":"
	                  "\"Europe/Madrid\",\"items\":[]}") == 0);
	CHECK_INT(gcal_probe(&proc, &auth, proc.cfg.google_calendar_id, &p),
	          GCAL_OK);
	after = time(NULL);
	CHECK_INT(p.status, 200);
	CHECK_STR(p.time_zone, "Europe/Madrid");
	CHECK_STR(p.reason, "");
	CHECK(p.date >= (long long)before - 1 &&
	      p.date <= (long long)after + 1);
	CHECK(fetch_log() == 0);
	CHECK_INT(log_count(), 1);
	CHECK(log_has(0, "maxResults=1"));
	/* The calendar's own zone: no timeZone parameter. */
	CHECK(!log_has(0, "timeZone="));
	CHECK(log_has(0, "\"Authorization\":\"Bearer tok-1\""));
}

TEST(probe_names_the_disabled_project)
{
	struct gcal_auth auth = {"key-123", NULL};
	struct gcal_probe p;

	proc_reset();
	CHECK(answer(403, disabled) == 0);
	CHECK_INT(gcal_probe(&proc, &auth, proc.cfg.google_calendar_id, &p),
	          GCAL_REFUSED);
	CHECK_INT(p.status, 403);
	CHECK_STR(p.reason, "accessNotConfigured");
	CHECK_STR(p.project, "336992806363");
	CHECK_STR(p.time_zone, "");
	CHECK(strstr(p.message, "403 accessNotConfigured") != NULL);
	CHECK(strstr(p.message, "key-123") == NULL);
	/* One try: a 403 is not retried, nor is a 503. */
	CHECK(fetch_log() == 0);
	CHECK_INT(log_count(), 1);
	proc_reset();
	CHECK(answer(503, "{}") == 0);
	CHECK_INT(gcal_probe(&proc, &auth, proc.cfg.google_calendar_id, &p),
	          GCAL_UNAVAILABLE);
	CHECK(fetch_log() == 0);
	CHECK_INT(log_count(), 1);
}

TEST(probe_project_from_the_link_or_message)
{
	struct gcal_auth auth = {"key-123", NULL};
	struct gcal_probe p;

	/* No ErrorInfo (the 2018 shape): the message's project. */
	proc_reset();
	CHECK(answer(403, "{\"error\":{\"errors\":[{\"reason\":"
	                  "\"accessNotConfigured\"}],\"message\":\"Access "
	                  "Not Configured. Calendar API has not been used in "
	                  "project 42 before or it is disabled.\"}}") == 0);
	CHECK_INT(gcal_probe(&proc, &auth, proc.cfg.google_calendar_id, &p),
	          GCAL_REFUSED);
	CHECK_STR(p.project, "42");
	/* Another 403 names no project. */
	proc_reset();
	CHECK(answer(403,
	             "{\"error\":{\"errors\":[{\"reason\":"
	             "\"forbidden\"}],\"message\":\"in project 7\"}}") == 0);
	CHECK_INT(gcal_probe(&proc, &auth, proc.cfg.google_calendar_id, &p),
	          GCAL_REFUSED);
	CHECK_STR(p.reason, "forbidden");
	CHECK_STR(p.project, "");
}

int main(void)
{
	int rc;

	if (peer_start() != 0) {
		fprintf(stderr, "cannot start tests/unit/http_peer.py\n");
		return 1;
	}
	ctl = http_client_new(NULL);
	if (ctl == NULL) {
		peer_stop();
		return 1;
	}
	RUN(every_page_is_followed);
	RUN(sync_token_replaces_the_window);
	RUN(google_errors_become_results);
	RUN(rate_limit_403_is_retried);
	RUN(probe_reads_zone_and_date);
	RUN(probe_names_the_disabled_project);
	RUN(probe_project_from_the_link_or_message);
	http_client_free(proc.http);
	http_client_free(ctl);
	free(logtxt);
	peer_stop();
	rc = CHECK_DONE();
	return rc;
}
