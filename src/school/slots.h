/*
 * slots.h - the free class slots of a local date: the opening hours (see
 * hours.h) less busy intervals and anything sooner than a given instant.
 *
 * Slots start on the hour and the half hour of the zone's wall clock and end
 * within opening hours (DESIGN.md, "Details the clients rely on"). Every
 * conversion between wall time and instants goes through tz.h, in the
 * process's zone (tz_set); no offset is assumed, so days of 23 or 25 hours
 * and days that start after midnight come out right.
 */
#ifndef SLOTS_H
#define SLOTS_H

#include <stddef.h>
#include <stdint.h>

#include "school/hours.h"

#define SLOTS_STEP_MIN 30 /* candidate starts: HH:00 and HH:30 */
/* The most slots a date can have: one per half hour of the wall clock. */
#define SLOTS_MAX (HOURS_DAY_END / SLOTS_STEP_MIN)

/* A busy interval [start, end), seconds since the epoch (UTC). */
struct slots_busy {
	int64_t start, end;
};

/* A free slot [start, end), seconds since the epoch (UTC). */
struct slots_slot {
	int64_t start, end;
};

/*
 * The free slots of duration_min minutes on the local date year-month-day
 * in the process's zone (tz_set), for the opening hours *h:
 *  - candidate starts are the wall times HH:00 and HH:30 inside each opening
 *    range of that date's weekday (start <= HH:MM < end);
 *  - a candidate's end (its start instant plus the duration) must not be
 *    later than the instant of the range's end wall time; 24:00 is the next
 *    day's start (tz_day_start). Where the end wall time does not exist (it
 *    falls in a daylight-saving gap), the range closes when the clocks
 *    first read a later time; where it occurs twice, at its earlier instant;
 *  - a wall time that does not exist (a daylight-saving gap) is no
 *    candidate; one that occurs twice (clocks going back) is taken once, at
 *    its earlier instant;
 *  - a candidate is dropped when it overlaps any busy interval (half-open:
 *    touching is not overlapping; an interval with end <= start is empty
 *    and overlaps nothing) or starts before not_before.
 * busy is borrowed, in any order, and is read only. Each candidate is
 * checked against every busy interval: O(SLOTS_MAX * nbusy), a few
 * thousand comparisons for hundreds of intervals.
 *
 * Writes at most max slots to out, sorted by start, without duplicates (never
 * more than SLOTS_MAX exist), and returns how many it wrote (0 when the
 * weekday is closed or nothing is free); nothing is allocated.
 * Returns -1, writing nothing, on bad arguments: h NULL or holding a range
 * or count out of bounds, an invalid date (year outside TZ_YEAR_MIN..
 * TZ_YEAR_MAX, month 1-12, day of that month), duration_min outside
 * 1..HOURS_DAY_END, busy NULL with nbusy > 0, out NULL with max > 0; and
 * when the zone's clocks cannot be read for that date (not seen with
 * installed tzdata).
 */
__attribute__((warn_unused_result)) int
slots_compute(const struct hours *h, int year, int month, int day,
              int duration_min, const struct slots_busy *busy, size_t nbusy,
              int64_t not_before, struct slots_slot *out, size_t max);

#endif
