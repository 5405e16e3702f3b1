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

#define SLOTS_STEP_MIN   30  /* candidate starts: HH:00 and HH:30 */
#define SLOTS_AHEAD_DAYS 366 /* the furthest ahead a class may start */
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
 *    and overlaps nothing), starts before not_before or after not_after.
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
              int64_t not_before, int64_t not_after, struct slots_slot *out,
              size_t max);

/*
 * The starts the school offers at the instant now with notice_min minutes
 * of notice (BOOKING_MIN_NOTICE_MIN; 0 for a class already paid): from
 * not_before, later than now and at least the notice ahead, to not_after,
 * SLOTS_AHEAD_DAYS days after now. A notice outside 0..SLOTS_AHEAD_DAYS
 * days is taken as its nearest bound, so nothing here overflows.
 */
struct slots_window {
	int64_t not_before, not_after;
};
struct slots_window slots_window(int64_t now, long notice_min);

/* What slots_check() says of a start. */
enum slots_verdict {
	SLOTS_OFFERED = 0, /* a start /api/calendar/slots offers (busy aside) */
	SLOTS_PAST,        /* at or before now */
	SLOTS_TOO_SOON,    /* inside the notice */
	SLOTS_TOO_FAR,     /* after the window's not_after */
	SLOTS_CLOSED       /* not on the half-hour grid inside opening hours, or
	                      the class would end after closing */
};

/*
 * The school's rule for the start of a class of duration_min minutes, the
 * one every write path (a class, a hold, a reschedule, the class a payment
 * carries) and /api/calendar/slots share: start must be one of the slots
 * that slots_compute() gives for the local date of start, in the opening
 * hours *h, within slots_window(now, notice_min), busy times aside (those
 * are checked under the slot lock). The verdict says why not, first the
 * window (past, too soon, too far) and then the hours; every start is
 * first bounded by the window, so a start near the end of time costs
 * nothing more than any other. A start the zone's clocks cannot read, or
 * h or duration_min that slots_compute() refuses, is SLOTS_CLOSED.
 */
enum slots_verdict slots_check(const struct hours *h, int64_t start,
                               int duration_min, int64_t now, long notice_min);

#endif
