/*
 * test_gcal - the Calendar client against a scripted local peer: every
 * page of events.list followed, its parameters, the API key sent as a
 * header (never in the URL), and Google's errors read as results.
 */
#include <stdlib.h>
#include <string.h>

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
	http_client_free(proc.http);
	http_client_free(ctl);
	free(logtxt);
	peer_stop();
	rc = CHECK_DONE();
	return rc;
}
