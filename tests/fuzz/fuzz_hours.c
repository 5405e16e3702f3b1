/*
 * Fuzz target: BOOKING_HOURS, and the slots of what parses. Parsed hours
 * must be in bounds, sorted and merged; slots on an ordinary day and on
 * Madrid's daylight-saving Sundays must be sorted, of the asked duration,
 * on the date, on a half hour inside an opening range, clear of the busy
 * interval and of not_before; and slots_check, the rule every write path
 * applies, must accept exactly the starts slots_compute lists.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "school/hours.h"
#include "school/slots.h"
#include "core/tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The dates tried, with the instant the next one starts in Madrid. */
static const struct {
	int year, month, day;
	const char *next_start; /* RFC 3339 */
} dates[] = {
        {2026, 3, 29, "2026-03-30T00:00:00+02:00"},  /* 23 hours */
        {2026, 10, 25, "2026-10-26T00:00:00+01:00"}, /* 25 hours */
        {2026, 6, 10, "2026-06-11T00:00:00+02:00"},  /* a Wednesday */
        {2026, 6, 13, "2026-06-14T00:00:00+02:00"},  /* a Saturday */
};

static void check_hours(const struct hours *h)
{
	for (int d = 0; d < 7; d++) {
		if (h->n[d] < 0 || h->n[d] > HOURS_MAX_RANGES)
			abort();
		for (int i = 0; i < h->n[d]; i++) {
			const struct hours_range *r = &h->day[d][i];

			if (r->start < 0 || r->start >= r->end ||
			    r->end > HOURS_DAY_END)
				abort();
			/* Sorted, and neither overlapping nor touching. */
			if (i > 0 && r->start <= h->day[d][i - 1].end)
				abort();
		}
	}
}

/* 1 when the wall minute m is inside one of the day's ranges. */
static int inside(const struct hours *h, int wday, int m)
{
	for (int i = 0; i < h->n[wday]; i++) {
		if (h->day[wday][i].start <= m && m < h->day[wday][i].end)
			return 1;
	}
	return 0;
}

static void check_slots(const struct hours *h, int di, int minutes,
                        const struct slots_busy *busy, int64_t not_before)
{
	struct slots_slot s[SLOTS_MAX + 1];
	int64_t day_start, next_start;
	int n;

	if (tz_day_start(dates[di].year, dates[di].month, dates[di].day,
	                 &day_start) != TZ_OK ||
	    tz_parse_iso(dates[di].next_start, &next_start, NULL) != TZ_OK)
		abort();
	n = slots_compute(h, dates[di].year, dates[di].month, dates[di].day,
	                  minutes, busy, 1, not_before, INT64_MAX, s,
	                  SLOTS_MAX + 1);
	if (n < 0 || n > SLOTS_MAX)
		abort();
	for (int i = 0; i < n; i++) {
		struct tz_local l;

		if (s[i].end - s[i].start != (int64_t)minutes * 60)
			abort();
		if (i > 0 && s[i].start <= s[i - 1].start)
			abort();
		if (s[i].start < day_start || s[i].end > next_start)
			abort();
		if (s[i].start < not_before)
			abort();
		if (busy->start < busy->end && busy->start < s[i].end &&
		    s[i].start < busy->end)
			abort();
		if (tz_to_local(s[i].start, &l) != 0 ||
		    l.year != dates[di].year || l.month != dates[di].month ||
		    l.day != dates[di].day || l.second != 0 ||
		    l.minute % SLOTS_STEP_MIN != 0 ||
		    !inside(h, l.wday, l.hour * 60 + l.minute))
			abort();
	}
}

/* Every quarter hour of the date: offered by slots_check exactly when
 * slots_compute lists it (with no notice, the day before). */
static void check_agreement(const struct hours *h, int di, int minutes)
{
	struct slots_slot s[SLOTS_MAX];
	int64_t day_start, next_start, now;
	struct slots_window w;
	int n;

	if (tz_day_start(dates[di].year, dates[di].month, dates[di].day,
	                 &day_start) != TZ_OK ||
	    tz_parse_iso(dates[di].next_start, &next_start, NULL) != TZ_OK)
		abort();
	now = day_start - 86400;
	w = slots_window(now, 0);
	n = slots_compute(h, dates[di].year, dates[di].month, dates[di].day,
	                  minutes, NULL, 0, w.not_before, w.not_after, s,
	                  SLOTS_MAX);
	if (n < 0)
		abort();
	for (int64_t t = day_start; t < next_start; t += 900) {
		int listed = 0;

		for (int i = 0; i < n; i++)
			listed |= s[i].start == t;
		if ((slots_check(h, t, minutes, now, 0) == SLOTS_OFFERED) !=
		    listed)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int zone_set;
	struct hours h;
	struct slots_busy busy;
	char *s, err[256];
	uint32_t sum = 0;
	int minutes;

	if (!zone_set)
		zone_set = tz_set("Europe/Madrid") == 0;
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (hours_parse(s, &h, err, sizeof(err)) != 0) {
		if (memchr(err, '\0', sizeof(err)) == NULL)
			abort(); /* the message is always terminated */
		free(s);
		return 0;
	}
	check_hours(&h);
	for (size_t i = 0; i < size; i++)
		sum = sum * 31 + data[i];
	minutes = 1 + (int)(sum % HOURS_DAY_END);
	for (int di = 0; di < (int)(sizeof(dates) / sizeof(dates[0])); di++) {
		int64_t day_start;

		if (tz_day_start(dates[di].year, dates[di].month, dates[di].day,
		                 &day_start) != TZ_OK)
			abort();
		/* A busy interval and not_before somewhere in the day. */
		busy.start = day_start + (int64_t)(sum % 1440) * 60;
		busy.end = busy.start + (int64_t)(sum / 1440 % 300) * 60;
		check_slots(&h, di, 60, &busy, INT64_MIN);
		check_slots(&h, di, 30, &busy, day_start + (sum >> 20) % 86400);
		check_slots(&h, di, minutes, &busy, INT64_MIN);
		check_agreement(&h, di, minutes);
	}
	free(s);
	return 0;
}
