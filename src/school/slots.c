/*
 * slots.c - free class slots of a local date. See slots.h.
 *
 * Wall times become instants through tz_from_local and tz_day_start only;
 * the one piece of calendar arithmetic here is the date after a given one.
 */
#include "school/slots.h"

#include <stdint.h>

#include "core/tz.h"

#define DAY_S 86400

static int is_leap(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

/* The date after year-month-day (a valid date), in place. */
static void next_date(int *year, int *month, int *day)
{
	static const int days[] = {31, 28, 31, 30, 31, 30,
	                           31, 31, 30, 31, 30, 31};
	int last = *month == 2 && is_leap(*year) ? 29 : days[*month - 1];

	if (*day < last) {
		(*day)++;
		return;
	}
	*day = 1;
	if (*month < 12) {
		(*month)++;
		return;
	}
	*month = 1;
	(*year)++;
}

/*
 * Whether the clocks at t read minute `minute` of year-month-day or later
 * (a later date counts as later): 1, 0, or -1 when t cannot be broken down.
 */
static int reads_at_or_after(int64_t t, int year, int month, int day,
                             int minute)
{
	struct tz_local l;

	if (tz_to_local(t, &l) != 0)
		return -1;
	if (l.year != year)
		return l.year > year;
	if (l.month != month)
		return l.month > month;
	if (l.day != day)
		return l.day > day;
	return l.hour * 60 + l.minute >= minute;
}

/*
 * The instant at which a range of year-month-day ending at wall minute end
 * closes, into *out: the instant of that wall time (the earlier one if it
 * occurs twice), the next day's start for 24:00, and otherwise (the wall
 * time falls in a gap, the next day was skipped or is past TZ_YEAR_MAX) the
 * first instant from day_start on at which the clocks read end or later.
 * 0, or -1.
 */
static int range_close(int year, int month, int day, int end, int64_t day_start,
                       int64_t *out)
{
	enum tz_result rc;
	int64_t t, lo, hi;
	int r;

	if (end < HOURS_DAY_END) {
		rc = tz_from_local(year, month, day, end / 60, end % 60, 0, &t);
	} else {
		int ny = year, nm = month, nd = day;

		next_date(&ny, &nm, &nd);
		rc = tz_day_start(ny, nm, nd, &t);
	}
	if (rc == TZ_OK) {
		*out = t;
		return 0;
	}
	/*
	 * Search. At day_start the clocks read the date's first wall time;
	 * two days later they read a later date. In between, bisect for the
	 * first instant reading end or later (lo never does, hi always).
	 */
	r = reads_at_or_after(day_start, year, month, day, end);
	if (r < 0)
		return -1;
	if (r == 1) {
		*out = day_start;
		return 0;
	}
	lo = day_start;
	hi = day_start + 2 * DAY_S;
	if (reads_at_or_after(hi, year, month, day, end) != 1)
		return -1;
	while (hi - lo > 1) {
		int64_t mid = lo + (hi - lo) / 2;

		r = reads_at_or_after(mid, year, month, day, end);
		if (r < 0)
			return -1;
		if (r)
			hi = mid;
		else
			lo = mid;
	}
	*out = hi;
	return 0;
}

/* 1 when [start, end) overlaps one of the non-empty busy intervals. */
static int overlaps_busy(int64_t start, int64_t end,
                         const struct slots_busy *busy, size_t nbusy)
{
	for (size_t i = 0; i < nbusy; i++) {
		if (busy[i].start < busy[i].end && busy[i].start < end &&
		    start < busy[i].end)
			return 1;
	}
	return 0;
}

/* 1 when the day's count and ranges are what hours_parse could produce. */
static int day_ranges_ok(const struct hours *h, int wday)
{
	if (h->n[wday] < 0 || h->n[wday] > HOURS_MAX_RANGES)
		return 0;
	for (int i = 0; i < h->n[wday]; i++) {
		const struct hours_range *r = &h->day[wday][i];

		if (r->start < 0 || r->start >= r->end ||
		    r->end > HOURS_DAY_END)
			return 0;
	}
	return 1;
}

int slots_compute(const struct hours *h, int year, int month, int day,
                  int duration_min, const struct slots_busy *busy, size_t nbusy,
                  int64_t not_before, int64_t not_after, struct slots_slot *out,
                  size_t max)
{
	struct slots_slot found[SLOTS_MAX];
	struct tz_local l;
	enum tz_result rc;
	int64_t day_start, duration;
	size_t n = 0, i;
	int wday;

	if (h == NULL || duration_min < 1 || duration_min > HOURS_DAY_END ||
	    (busy == NULL && nbusy > 0) || (out == NULL && max > 0))
		return -1;
	rc = tz_day_start(year, month, day, &day_start);
	if (rc == TZ_NONEXISTENT)
		return 0; /* the zone skipped the whole date */
	if (rc != TZ_OK)
		return -1; /* an invalid date */
	if (tz_to_local(day_start, &l) != 0)
		return -1;
	wday = l.wday;
	if (!day_ranges_ok(h, wday))
		return -1;
	duration = (int64_t)duration_min * 60;

	for (int r = 0; r < h->n[wday]; r++) {
		const struct hours_range *range = &h->day[wday][r];
		int first = (range->start + SLOTS_STEP_MIN - 1) /
		            SLOTS_STEP_MIN * SLOTS_STEP_MIN;
		int64_t close;

		if (first >= range->end)
			continue;
		if (range_close(year, month, day, range->end, day_start,
		                &close) != 0)
			return -1;
		for (int w = first; w < range->end; w += SLOTS_STEP_MIN) {
			int64_t start;
			size_t k;

			rc = tz_from_local(year, month, day, w / 60, w % 60, 0,
			                   &start);
			if (rc == TZ_NONEXISTENT)
				continue; /* skipped by a daylight-saving gap */
			if (rc != TZ_OK)
				return -1;
			if (start < not_before || start > not_after ||
			    start + duration > close ||
			    overlaps_busy(start, start + duration, busy, nbusy))
				continue;
			/*
			 * Distinct wall times are distinct instants, so a
			 * duplicate only comes from ranges that overlap (which
			 * hours_parse never makes); and there are only
			 * SLOTS_MAX half hours in a day.
			 */
			for (k = 0; k < n && found[k].start != start; k++)
				;
			if (k < n || n == SLOTS_MAX)
				continue;
			/* Insertion keeps found sorted by start. */
			for (k = n; k > 0 && found[k - 1].start > start; k--)
				found[k] = found[k - 1];
			found[k].start = start;
			found[k].end = start + duration;
			n++;
		}
	}
	if (n > max)
		n = max;
	for (i = 0; i < n; i++)
		out[i] = found[i];
	return (int)n;
}

/* t + d (d >= 0), or INT64_MAX where that would overflow. */
static int64_t plus(int64_t t, int64_t d)
{
	return t > INT64_MAX - d ? INT64_MAX : t + d;
}

struct slots_window slots_window(int64_t now, long notice_min)
{
	const int64_t ahead = (int64_t)SLOTS_AHEAD_DAYS * DAY_S;
	struct slots_window w;
	int64_t notice;

	if (notice_min < 0)
		notice_min = 0;
	notice = (int64_t)notice_min * 60;
	if (notice > ahead)
		notice = ahead;
	w.not_before = plus(now, notice > 0 ? notice : 1);
	w.not_after = plus(now, ahead);
	return w;
}

enum slots_verdict slots_check(const struct hours *h, int64_t start,
                               int duration_min, int64_t now, long notice_min)
{
	struct slots_window w = slots_window(now, notice_min);
	struct slots_slot found[SLOTS_MAX];
	struct tz_local l;
	int n;

	if (start <= now)
		return SLOTS_PAST;
	if (start < w.not_before)
		return SLOTS_TOO_SOON;
	if (start > w.not_after)
		return SLOTS_TOO_FAR;
	/* Whatever /api/calendar/slots offers on start's local date. */
	if (tz_to_local(start, &l) != 0)
		return SLOTS_CLOSED;
	n = slots_compute(h, l.year, l.month, l.day, duration_min, NULL, 0,
	                  w.not_before, w.not_after, found, SLOTS_MAX);
	for (int i = 0; i < n; i++)
		if (found[i].start == start)
			return SLOTS_OFFERED;
	return SLOTS_CLOSED;
}
