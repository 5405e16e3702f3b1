/*
 * hours.h - the school's opening hours, the design's BOOKING_HOURS.
 *
 * Format: clauses separated by ';' (one trailing ';' allowed). A clause is
 * a day set, whitespace, then one or more time ranges separated by ','.
 *
 *   Days      mon tue wed thu fri sat sun, in any case. The week runs from
 *             Monday to Sunday.
 *   Day set   a ','-separated list of days and day ranges: "sat",
 *             "mon-fri", "mon,wed,fri", "mon-wed,fri". A range goes forward
 *             within the week ("sat-sun", never "fri-mon"); "mon-mon" is
 *             Monday.
 *   Range     "HH:MM-HH:MM", 24-hour local wall time, exactly two digits
 *             each, minutes 00-59, 00:00 to 24:00 where only the end may be
 *             24:00 (the end of the day), and the start before the end.
 *
 * Whitespace (spaces, tabs, line breaks) is allowed around every separator
 * (';', ',', '-') and at both ends. A day may appear in several clauses: its
 * ranges add up; overlapping or touching ranges of a day are merged into
 * one, and a day's ranges are kept sorted. At most HOURS_MAX_RANGES ranges
 * (after merging) per day.
 *
 * Examples:
 *   mon-fri 09:00-21:00; sat 09:00-13:00          (the default)
 *   mon-fri 09:00-13:00, 14:00-21:00; sat 10:00-12:00
 *   mon,wed,fri 08:00-24:00
 *   sun 00:00-24:00;
 */
#ifndef HOURS_H
#define HOURS_H

#include <stddef.h>

#define HOURS_MAX_RANGES 8    /* ranges a day may have, after merging */
#define HOURS_DAY_END    1440 /* 24:00, in minutes since midnight */

/* Minutes since local midnight, 0 <= start < end <= HOURS_DAY_END. */
struct hours_range {
	int start;
	int end;
};

/*
 * The opening hours of each weekday. day[0] is Sunday, as tm_wday and
 * struct tz_local's wday; n[d] ranges of day[d] are in use, sorted by start,
 * disjoint and not touching. A day without ranges is closed.
 */
struct hours {
	struct hours_range day[7][HOURS_MAX_RANGES];
	int n[7];
};

/*
 * Parses spec, in the format above, into *out.
 * Returns 0, or -1 with a NUL-terminated message in err (when err is not
 * NULL and errlen > 0; cut to fit) that names what is wrong, e.g.
 * "BOOKING_HOURS is empty", "BOOKING_HOURS: unknown day 'mnd'",
 * "BOOKING_HOURS: 25:00 is not a time (HH:MM, 00:00 to 24:00)",
 * "BOOKING_HOURS: 13:00-09:00 ends before it starts". The message quotes at
 * most a short piece of spec, with characters other than printable ASCII
 * shown as '?'. NULL spec or out is refused ("BOOKING_HOURS is missing").
 * *out is set only on success; nothing is allocated.
 */
__attribute__((warn_unused_result)) int
hours_parse(const char *spec, struct hours *out, char *err, size_t errlen);

#endif
