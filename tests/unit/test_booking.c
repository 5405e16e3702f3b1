/*
 * test_booking - the pure parts of the write side: whether Google's events
 * make a slot busy (the check before a booking or a move), and which
 * Idempotency-Key headers are keys.
 */
#include <string.h>

#include <json-c/json_tokener.h>

#include "check.h"
#include "core/tz.h"
#include "school/booking.h"
#include "school/bookreq.h"
#include "web/bookapi.h"

#define OWN "0123456789abcdef0123456789abcdef"

/* The slot asked for: 2026-12-01 15:00-16:00 in Buenos Aires (-03:00). */
#define START 1796148000LL /* 18:00Z */
#define END   (START + 3600)

static int busy(const char *items_json, const char *own)
{
	struct json_object *items = json_tokener_parse(items_json);
	int b;

	if (items == NULL)
		return -1; /* the test's JSON is wrong: no answer matches */
	b = booking_busy_among(items, START, END, own);
	json_object_put(items);
	return b;
}

#define TIMED(s, e, extra)                                                     \
	"{\"start\":{\"dateTime\":\"" s "\"},\"end\":{\"dateTime\":\"" e       \
	"\"}" extra "}"

TEST(nothing_on_the_calendar_is_free)
{
	CHECK(tz_set("America/Argentina/Buenos_Aires") == 0);
	CHECK_INT(busy("[]", NULL), 0);
}

TEST(an_overlapping_event_is_busy_and_touching_is_not)
{
	CHECK_INT(busy("[" TIMED("2026-12-01T15:30:00-03:00",
	                         "2026-12-01T16:30:00-03:00", "") "]",
	               NULL),
	          1);
	CHECK_INT(busy("[" TIMED("2026-12-01T14:00:00-03:00",
	                         "2026-12-01T17:00:00-03:00", "") "]",
	               NULL),
	          1);
	/* Ends at the start, starts at the end: free. */
	CHECK_INT(busy("[" TIMED("2026-12-01T14:00:00-03:00",
	                         "2026-12-01T15:00:00-03:00",
	                         "") "," TIMED("2026-12-01T16:00:00-03:00",
	                                       "2026-12-01T17:00:00-03:00",
	                                       "") "]",
	               NULL),
	          0);
	/* The same instants in another offset. */
	CHECK_INT(busy("[" TIMED("2026-12-01T18:59:59Z", "2026-12-01T20:00:00Z",
	                         "") "]",
	               NULL),
	          1);
}

TEST(transparent_and_cancelled_events_take_no_time)
{
	CHECK_INT(busy("[" TIMED("2026-12-01T15:00:00-03:00",
	                         "2026-12-01T16:00:00-03:00",
	                         ",\"transparency\":\"transparent\"") "]",
	               NULL),
	          0);
	CHECK_INT(busy("[" TIMED("2026-12-01T15:00:00-03:00",
	                         "2026-12-01T16:00:00-03:00",
	                         ",\"status\":\"cancelled\"") "]",
	               NULL),
	          0);
	CHECK_INT(busy("[" TIMED("2026-12-01T15:00:00-03:00",
	                         "2026-12-01T16:00:00-03:00",
	                         ",\"status\":\"tentative\"") "]",
	               NULL),
	          1);
}

TEST(an_all_day_event_takes_the_local_day)
{
	CHECK_INT(busy("[{\"start\":{\"date\":\"2026-12-01\"},"
	               "\"end\":{\"date\":\"2026-12-02\"}}]",
	               NULL),
	          1);
	CHECK_INT(busy("[{\"start\":{\"date\":\"2026-12-02\"},"
	               "\"end\":{\"date\":\"2026-12-03\"}}]",
	               NULL),
	          0);
}

TEST(a_booking_does_not_block_its_own_move)
{
	char eid[BOOKREQ_EVENT_ID_LEN + 1], json[512];

	/* Known by the booking id in its private properties ... */
	CHECK_INT(busy("[" TIMED("2026-12-01T15:00:00-03:00",
	                         "2026-12-01T16:00:00-03:00",
	                         ",\"extendedProperties\":{\"private\":"
	                         "{\"bookingId\":\"" OWN "\"}}") "]",
	               OWN),
	          0);
	/* ... or by its event id. */
	bookreq_event_id(OWN, eid);
	snprintf(json, sizeof(json),
	         "[{\"id\":\"%s\",\"start\":{\"dateTime\":\"2026-12-01T15:00:"
	         "00-03:00\"},\"end\":{\"dateTime\":\"2026-12-01T16:00:00-03:"
	         "00\"}}]",
	         eid);
	CHECK_INT(busy(json, OWN), 0);
	/* Another booking's event still takes the time. */
	CHECK_INT(busy(json, "fedcba9876543210fedcba9876543210"), 1);
	CHECK_INT(busy(json, NULL), 1);
}

TEST(events_that_cannot_be_read_are_skipped)
{
	CHECK_INT(busy("[{\"start\":{\"dateTime\":\"not a time\"},"
	               "\"end\":{\"dateTime\":\"2026-12-01T16:00:00-03:00\"}},"
	               "{\"summary\":\"no times\"}, 42]",
	               NULL),
	          0);
}

TEST(idempotency_keys)
{
	char longest[256], too_long[257];

	memset(longest, 'k', 255);
	longest[255] = '\0';
	memset(too_long, 'k', 256);
	too_long[256] = '\0';
	CHECK_STR(bookapi_idempotency_key(NULL), "");
	CHECK_STR(bookapi_idempotency_key("order-7f3a-0001"),
	          "order-7f3a-0001");
	CHECK_STR(bookapi_idempotency_key("!~"), "!~");
	CHECK_STR(bookapi_idempotency_key(longest), longest);
	CHECK(bookapi_idempotency_key(too_long) == NULL);
	CHECK(bookapi_idempotency_key("") == NULL);
	CHECK(bookapi_idempotency_key("order 1") == NULL);
	CHECK(bookapi_idempotency_key("order\t1") == NULL);
	CHECK(bookapi_idempotency_key("order\x01") == NULL);
	CHECK(bookapi_idempotency_key("order\x7f") == NULL);
	CHECK(bookapi_idempotency_key("pedido-\xc3\xb1") == NULL);
}

int main(void)
{
	RUN(nothing_on_the_calendar_is_free);
	RUN(an_overlapping_event_is_busy_and_touching_is_not);
	RUN(transparent_and_cancelled_events_take_no_time);
	RUN(an_all_day_event_takes_the_local_day);
	RUN(a_booking_does_not_block_its_own_move);
	RUN(events_that_cannot_be_read_are_skipped);
	RUN(idempotency_keys);
	return CHECK_DONE();
}
