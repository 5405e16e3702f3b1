/* Reading Google events: spans, Meet links, booking ids. */
#include <json-c/json_tokener.h>

#include "check.h"
#include "upstream/gevent.h"
#include "core/tz.h"

static struct json_object *ev(const char *json)
{
	return json_tokener_parse(json);
}

TEST(timed_event_keeps_its_instants)
{
	struct json_object *e =
	        ev("{\"start\":{\"dateTime\":\"2026-12-01T15:00:00-03:00\","
	           "\"timeZone\":\"America/Argentina/Buenos_Aires\"},"
	           "\"end\":{\"dateTime\":\"2026-12-01T19:30:00Z\"}}");
	int64_t s, t;
	int all_day = -1;

	CHECK(tz_set("America/Argentina/Buenos_Aires") == 0);
	CHECK(gevent_span(e, &s, &t, &all_day) == 0);
	CHECK_INT(s, 1796148000LL); /* 18:00Z */
	CHECK_INT(t - s, 5400);
	CHECK_INT(all_day, 0);
	json_object_put(e);
}

TEST(all_day_event_is_local_midnight_to_midnight)
{
	struct json_object *e = ev("{\"start\":{\"date\":\"2026-12-01\"},"
	                           "\"end\":{\"date\":\"2026-12-03\"}}");
	char a[TZ_ISO_MAX], b[TZ_ISO_MAX];
	int64_t s, t;
	int all_day = 0;

	CHECK(tz_set("America/Argentina/Buenos_Aires") == 0);
	CHECK(gevent_span(e, &s, &t, &all_day) == 0);
	CHECK(tz_format_iso(s, a, sizeof(a)) == 0);
	CHECK(tz_format_iso(t, b, sizeof(b)) == 0);
	CHECK_STR(a, "2026-12-01T00:00:00-03:00");
	CHECK_STR(b, "2026-12-03T00:00:00-03:00");
	CHECK_INT(all_day, 1);
	json_object_put(e);
}

TEST(all_day_on_a_daylight_saving_day_is_23_hours)
{
	/* Madrid moved its clocks forward on 2026-03-29. */
	struct json_object *e = ev("{\"start\":{\"date\":\"2026-03-29\"},"
	                           "\"end\":{\"date\":\"2026-03-30\"}}");
	char a[TZ_ISO_MAX], b[TZ_ISO_MAX];
	int64_t s, t;
	int all_day;

	CHECK(tz_set("Europe/Madrid") == 0);
	CHECK(gevent_span(e, &s, &t, &all_day) == 0);
	CHECK_INT(t - s, 23 * 3600);
	CHECK(tz_format_iso(s, a, sizeof(a)) == 0);
	CHECK(tz_format_iso(t, b, sizeof(b)) == 0);
	CHECK_STR(a, "2026-03-29T00:00:00+01:00");
	CHECK_STR(b, "2026-03-30T00:00:00+02:00");
	json_object_put(e);
	CHECK(tz_set("America/Argentina/Buenos_Aires") == 0);
}

TEST(unreadable_times_are_refused)
{
	static const char *const bad[] = {
	        "{}",
	        "{\"start\":{\"date\":\"2026-12-01\"}}",
	        "{\"start\":{\"date\":\"2026-12-01\"},"
	        "\"end\":{\"dateTime\":\"2026-12-02T00:00:00Z\"}}",
	        "{\"start\":{\"dateTime\":\"2026-12-01T10:00:00Z\"},"
	        "\"end\":{\"dateTime\":\"2026-12-01T09:00:00Z\"}}",
	        "{\"start\":{\"dateTime\":\"2026-12-01T10:00:00\"},"
	        "\"end\":{\"dateTime\":\"2026-12-01T11:00:00\"}}",
	        "{\"start\":{\"date\":\"2026-02-30\"},"
	        "\"end\":{\"date\":\"2026-03-01\"}}",
	        "{\"start\":\"2026-12-01\",\"end\":\"2026-12-02\"}",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct json_object *e = ev(bad[i]);
		int64_t s = 7, t = 7;
		int all_day = 7, rc = gevent_span(e, &s, &t, &all_day);

		json_object_put(e);
		CHECK_INT(rc, -1);
		CHECK_INT(s, 7);
	}
}

TEST(meet_link_from_every_shape)
{
	struct json_object *e;

	e = ev("{\"hangoutLink\":\"https://meet.google.com/piw-hphe-juu\","
	       "\"conferenceData\":{\"entryPoints\":[{\"entryPointType\":"
	       "\"video\",\"uri\":\"https://meet.google.com/other\"}]}}");
	CHECK_STR(gevent_meet_link(e), "https://meet.google.com/piw-hphe-juu");
	json_object_put(e);
	e = ev("{\"conferenceData\":{\"entryPoints\":["
	       "{\"entryPointType\":\"phone\",\"uri\":\"tel:+1-555-0100\"},"
	       "{\"entryPointType\":\"video\","
	       "\"uri\":\"https://meet.google.com/abc-defg-hij\"}]}}");
	CHECK_STR(gevent_meet_link(e), "https://meet.google.com/abc-defg-hij");
	json_object_put(e);
	/* Still pending: no entry points yet. */
	e = ev("{\"conferenceData\":{\"createRequest\":{\"requestId\":\"r\","
	       "\"status\":{\"statusCode\":\"pending\"}}}}");
	CHECK(gevent_meet_link(e) == NULL);
	json_object_put(e);
	e = ev("{\"conferenceData\":{\"entryPoints\":[{\"entryPointType\":"
	       "\"phone\",\"uri\":\"tel:+1\"},{\"entryPointType\":\"video\","
	       "\"uri\":\"javascript:alert(1)\"}]}}");
	CHECK(gevent_meet_link(e) == NULL);
	json_object_put(e);
	e = ev("{\"hangoutLink\":\"\"}");
	CHECK(gevent_meet_link(e) == NULL);
	json_object_put(e);
	e = ev("{\"hangoutLink\":42}");
	CHECK(gevent_meet_link(e) == NULL);
	json_object_put(e);
}

TEST(booking_id_from_private_properties)
{
	struct json_object *e;

	e = ev("{\"extendedProperties\":{\"private\":{\"bookingId\":"
	       "\"0123456789abcdef0123456789abcdef\"}}}");
	CHECK_STR(gevent_booking_id(e), "0123456789abcdef0123456789abcdef");
	json_object_put(e);
	e = ev("{\"extendedProperties\":{\"shared\":{\"bookingId\":\"x\"}}}");
	CHECK(gevent_booking_id(e) == NULL);
	json_object_put(e);
	CHECK(gevent_booking_id(NULL) == NULL);
}

TEST(only_events_that_take_time_block)
{
	static const struct {
		const char *json;
		int blocks;
	} cases[] = {
	        {"{}", 1},
	        {"{\"status\":\"confirmed\"}", 1},
	        {"{\"status\":\"tentative\"}", 1},
	        {"{\"status\":\"cancelled\"}", 0},
	        {"{\"transparency\":\"opaque\"}", 1},
	        {"{\"transparency\":\"transparent\"}", 0},
	        {"{\"status\":\"confirmed\",\"transparency\":\"transparent\"}",
	         0},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct json_object *e = ev(cases[i].json);
		int got = gevent_blocks_time(e);

		json_object_put(e);
		CHECK_INT(got, cases[i].blocks);
	}
}

TEST(recurring_instance_is_an_event_like_any_other)
{
	/* What singleEvents=true gives for one occurrence of a series. */
	struct json_object *e =
	        ev("{\"id\":\"abc_20261201T180000Z\",\"recurringEventId\":"
	           "\"abc\",\"originalStartTime\":{\"dateTime\":"
	           "\"2026-12-01T15:00:00-03:00\"},\"start\":{\"dateTime\":"
	           "\"2026-12-01T15:00:00-03:00\",\"timeZone\":"
	           "\"America/Argentina/Buenos_Aires\"},\"end\":{\"dateTime\":"
	           "\"2026-12-01T16:00:00-03:00\"},\"status\":\"confirmed\"}");
	int64_t s, t;
	int all_day;

	CHECK(tz_set("America/Argentina/Buenos_Aires") == 0);
	CHECK(gevent_span(e, &s, &t, &all_day) == 0);
	CHECK(gevent_blocks_time(e));
	json_object_put(e);
	CHECK_INT(s, 1796148000LL);
	CHECK_INT(t - s, 3600);
}

int main(void)
{
	RUN(timed_event_keeps_its_instants);
	RUN(all_day_event_is_local_midnight_to_midnight);
	RUN(all_day_on_a_daylight_saving_day_is_23_hours);
	RUN(unreadable_times_are_refused);
	RUN(meet_link_from_every_shape);
	RUN(booking_id_from_private_properties);
	RUN(only_events_that_take_time_block);
	RUN(recurring_instance_is_an_event_like_any_other);
	return CHECK_DONE();
}
