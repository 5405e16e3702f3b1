/*
 * test_slots.c - free slots of a local date against the system's tzdata.
 *
 * The zones' facts, from `zdump -v`:
 *   America/Argentina/Buenos_Aires: -03 all year, no change 2020-2030.
 *   Europe/Madrid 2026-03-29: 00:59:59Z reads 01:59:59 CET (+01), 01:00Z
 *     reads 03:00 CEST (+02); 02:00-02:59 do not exist, the day has 23 h.
 *   Europe/Madrid 2026-10-25: 00:59:59Z reads 02:59:59 CEST, 01:00Z reads
 *     02:00 CET; 02:00-02:59 happen twice, the day has 25 h.
 *   America/Sao_Paulo 2018-11-04: 02:59:59Z reads 23:59:59 (-03) on the
 *     3rd, 03:00Z reads 01:00 (-02) on the 4th; midnight did not exist.
 * Weekdays: 2026-06-08 Monday, 2026-06-10 Wednesday, 2026-06-13 Saturday,
 * 2026-06-14 Sunday, 2026-03-29, 2026-10-25 and 2018-11-04 Sundays,
 * 2018-11-03 Saturday, 9999-12-31 Friday.
 */
#include "check.h"
#include "school/slots.h"
#include "core/tz.h"

#include <stdlib.h>
#include <string.h>

#define BA      "America/Argentina/Buenos_Aires"
#define MADRID  "Europe/Madrid"
#define SP      "America/Sao_Paulo"
#define DEFAULT "mon-fri 09:00-21:00; sat 09:00-13:00"
#define NOBODY  INT64_MIN /* not_before that removes nothing */
#define NOLIMIT INT64_MAX /* not_after that removes nothing */

/* The instant of an ISO string with an offset; aborts if it does not parse. */
static int64_t at(const char *iso)
{
	int64_t t;
	int had;

	if (tz_parse_iso(iso, &t, &had) != TZ_OK || !had) {
		fprintf(stderr, "bad instant in a test: %s\n", iso);
		abort();
	}
	return t;
}

/* Opening hours that must parse; aborts if they do not. */
static struct hours hours_of(const char *spec)
{
	struct hours h;
	char err[128];

	if (hours_parse(spec, &h, err, sizeof(err)) != 0) {
		fprintf(stderr, "bad hours in a test: %s\n", err);
		abort();
	}
	return h;
}

/* Local "HH:MM" of t, in a rotating set of static buffers. */
static const char *hhmm(int64_t t)
{
	static char bufs[4][16];
	static int next;
	struct tz_local l;
	char *buf = bufs[next++ % 4];

	if (tz_to_local(t, &l) != 0)
		return "(error)";
	snprintf(buf, 16, "%02d:%02d", l.hour, l.minute);
	return buf;
}

/* The local starts of n slots, "09:00 09:30 ...". */
static const char *starts_of(const struct slots_slot *s, int n)
{
	static char buf[SLOTS_MAX * 6 + 1];
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s",
		                        i ? " " : "", hhmm(s[i].start));
	return buf;
}

/* The local times from first to last (minutes) every step minutes. */
static const char *every(int first, int last, int step)
{
	static char buf[SLOTS_MAX * 6 + 1];
	size_t len = 0;

	buf[0] = '\0';
	for (int m = first; m <= last; m += step)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
		                        "%s%02d:%02d", m == first ? "" : " ",
		                        m / 60, m % 60);
	return buf;
}

/* What every result must be: ascending, each duration long, on the date. */
static void check_invariants(const struct slots_slot *s, int n, int minutes,
                             int year, int month, int day)
{
	for (int i = 0; i < n; i++) {
		struct tz_local l;

		if (s[i].end - s[i].start != (int64_t)minutes * 60)
			CHECK_FAIL_("slot %d lasts %lld s", i,
			            (long long)(s[i].end - s[i].start));
		if (i > 0 && s[i].start <= s[i - 1].start)
			CHECK_FAIL_("slot %d does not start after slot %d", i,
			            i - 1);
		CHECK_INT(tz_to_local(s[i].start, &l), 0);
		CHECK(l.year == year && l.month == month && l.day == day);
		CHECK(l.second == 0 && l.minute % 30 == 0);
	}
}

/* slots_compute with the invariants checked; the count, or -1. */
static int compute(const char *spec, int year, int month, int day, int minutes,
                   const struct slots_busy *busy, size_t nbusy,
                   int64_t not_before, struct slots_slot *out, size_t max)
{
	struct hours h = hours_of(spec);
	int n = slots_compute(&h, year, month, day, minutes, busy, nbusy,
	                      not_before, NOLIMIT, out, max);

	if (n > 0)
		check_invariants(out, n, minutes, year, month, day);
	return n;
}

#define HM(h, m) ((h)*60 + (m))

TEST(weekday_default_hours)
{
	struct slots_slot s[SLOTS_MAX];
	int n;

	CHECK_INT(tz_set(BA), 0);
	n = compute(DEFAULT, 2026, 6, 10, 60, NULL, 0, NOBODY, s, SLOTS_MAX);
	CHECK_INT(n, 23);
	CHECK_STR(starts_of(s, n), every(HM(9, 0), HM(20, 0), 30));
	CHECK_INT(s[0].start, at("2026-06-10T12:00:00Z"));
	CHECK_INT(s[22].end, at("2026-06-10T21:00:00-03:00"));

	n = compute(DEFAULT, 2026, 6, 10, 30, NULL, 0, NOBODY, s, SLOTS_MAX);
	CHECK_INT(n, 24);
	CHECK_STR(starts_of(s, n), every(HM(9, 0), HM(20, 30), 30));
	CHECK_INT(s[23].start, at("2026-06-10T20:30:00-03:00"));
}

TEST(saturday_and_sunday)
{
	struct slots_slot s[SLOTS_MAX];
	int n;

	CHECK_INT(tz_set(BA), 0);
	n = compute(DEFAULT, 2026, 6, 13, 60, NULL, 0, NOBODY, s, SLOTS_MAX);
	CHECK_INT(n, 7);
	CHECK_STR(starts_of(s, n), "09:00 09:30 10:00 10:30 11:00 11:30 12:00");
	CHECK_INT(s[6].end, at("2026-06-13T13:00:00-03:00"));
}

TEST(sunday_closed)
{
	struct slots_slot s[SLOTS_MAX];

	CHECK_INT(tz_set(BA), 0);
	CHECK_INT(compute(DEFAULT, 2026, 6, 14, 60, NULL, 0, NOBODY, s,
	                  SLOTS_MAX),
	          0);
	CHECK_INT(compute(DEFAULT, 2026, 6, 14, 30, NULL, 0, NOBODY, s,
	                  SLOTS_MAX),
	          0);
}

TEST(long_slots_end_within_the_range)
{
	struct slots_slot s[SLOTS_MAX];
	int n;

	CHECK_INT(tz_set(BA), 0);
	n = compute(DEFAULT, 2026, 6, 10, 90, NULL, 0, NOBODY, s, SLOTS_MAX);
	CHECK_INT(n, 22);
	CHECK_STR(starts_of(s, n), every(HM(9, 0), HM(19, 30), 30));
	CHECK_INT(s[21].end, at("2026-06-10T21:00:00-03:00"));
	n = compute(DEFAULT, 2026, 6, 13, 90, NULL, 0, NOBODY, s, SLOTS_MAX);
	CHECK_STR(starts_of(s, n), "09:00 09:30 10:00 10:30 11:00 11:30");
	n = compute(DEFAULT, 2026, 6, 13, 240, NULL, 0, NOBODY, s, SLOTS_MAX);
	CHECK_STR(starts_of(s, n), "09:00");
	n = compute(DEFAULT, 2026, 6, 13, 241, NULL, 0, NOBODY, s, SLOTS_MAX);
	CHECK_INT(n, 0);
}

TEST(busy_removes_exactly_the_overlapping)
{
	struct slots_slot s[SLOTS_MAX];
	struct slots_busy busy[1];
	int n;

	CHECK_INT(tz_set(BA), 0);
	/*
	 * Busy 10:15-10:45: 09:30-10:30, 10:00-11:00 and 10:30-11:30 overlap
	 * it; 09:00-10:00 ends before it and 11:00-12:00 starts after it.
	 */
	busy[0].start = at("2026-06-10T10:15:00-03:00");
	busy[0].end = at("2026-06-10T10:45:00-03:00");
	n = compute(DEFAULT, 2026, 6, 10, 60, busy, 1, NOBODY, s, SLOTS_MAX);
	CHECK_INT(n, 20);
	CHECK(strncmp(starts_of(s, n), "09:00 11:00 11:30 12:00 ", 24) == 0);
	CHECK_STR(hhmm(s[n - 1].start), "20:00");

	/*
	 * Busy 11:00-12:00, touching 10:00-11:00 (kept) and 12:00-13:00
	 * (kept); 10:30, 11:00 and 11:30 overlap it.
	 */
	busy[0].start = at("2026-06-10T11:00:00-03:00");
	busy[0].end = at("2026-06-10T12:00:00-03:00");
	n = compute(DEFAULT, 2026, 6, 10, 60, busy, 1, NOBODY, s, SLOTS_MAX);
	CHECK_INT(n, 20);
	CHECK(strncmp(starts_of(s, n), "09:00 09:30 10:00 12:00 12:30 ", 30) ==
	      0);

	/* One second of overlap is overlap. */
	busy[0].start = at("2026-06-10T09:59:59-03:00");
	busy[0].end = at("2026-06-10T10:00:00-03:00");
	n = compute(DEFAULT, 2026, 6, 10, 60, busy, 1, NOBODY, s, SLOTS_MAX);
	CHECK_STR(starts_of(s, n), every(HM(10, 0), HM(20, 0), 30));
}

TEST(busy_unsorted_many_and_empty)
{
	struct slots_slot s[SLOTS_MAX];
	struct slots_busy busy[300];
	size_t nbusy = 0;
	int64_t other_day = at("2026-06-09T09:00:00-03:00");
	int n;

	CHECK_INT(tz_set(BA), 0);
	/* Hundreds of intervals on the day before: none matters. */
	for (int i = 0; i < 290; i++) {
		busy[nbusy].start = other_day + i * 60;
		busy[nbusy].end = other_day + i * 60 + 1800;
		nbusy++;
	}
	/* Out of order, the day's own. */
	busy[nbusy].start = at("2026-06-10T18:00:00-03:00");
	busy[nbusy++].end = at("2026-06-10T21:00:00-03:00");
	busy[nbusy].start = at("2026-06-10T08:00:00-03:00");
	busy[nbusy++].end = at("2026-06-10T10:00:00-03:00");
	/* Empty intervals overlap nothing. */
	busy[nbusy].start = at("2026-06-10T14:20:00-03:00");
	busy[nbusy++].end = at("2026-06-10T14:20:00-03:00");
	busy[nbusy].start = at("2026-06-10T16:00:00-03:00");
	busy[nbusy++].end = at("2026-06-10T15:00:00-03:00");
	n = compute(DEFAULT, 2026, 6, 10, 60, busy, nbusy, NOBODY, s,
	            SLOTS_MAX);
	CHECK_STR(starts_of(s, n), every(HM(10, 0), HM(17, 0), 30));

	/* A busy interval covering the whole day leaves nothing. */
	busy[0].start = at("2026-06-01T00:00:00Z");
	busy[0].end = at("2026-07-01T00:00:00Z");
	CHECK_INT(compute(DEFAULT, 2026, 6, 10, 30, busy, 1, NOBODY, s,
	                  SLOTS_MAX),
	          0);
}

TEST(not_before_removes_earlier_starts)
{
	struct slots_slot s[SLOTS_MAX];
	int n;

	CHECK_INT(tz_set(BA), 0);
	n = compute(DEFAULT, 2026, 6, 10, 60, NULL, 0,
	            at("2026-06-10T14:10:00-03:00"), s, SLOTS_MAX);
	CHECK_STR(starts_of(s, n), every(HM(14, 30), HM(20, 0), 30));
	/* Starting at not_before is not starting before it. */
	n = compute(DEFAULT, 2026, 6, 10, 60, NULL, 0,
	            at("2026-06-10T14:30:00-03:00"), s, SLOTS_MAX);
	CHECK_STR(starts_of(s, n), every(HM(14, 30), HM(20, 0), 30));
	n = compute(DEFAULT, 2026, 6, 10, 60, NULL, 0,
	            at("2026-06-10T14:30:01-03:00"), s, SLOTS_MAX);
	CHECK_STR(starts_of(s, n), every(HM(15, 0), HM(20, 0), 30));
	/* After the day: nothing. */
	CHECK_INT(compute(DEFAULT, 2026, 6, 10, 30, NULL, 0,
	                  at("2026-06-11T00:00:00-03:00"), s, SLOTS_MAX),
	          0);
}

TEST(split_ranges_no_slot_across_the_gap)
{
	const char *split = "mon-fri 09:00-13:00, 14:00-21:00";
	struct slots_slot s[SLOTS_MAX];
	char want[SLOTS_MAX * 6 + 1];
	int n;

	CHECK_INT(tz_set(BA), 0);
	n = compute(split, 2026, 6, 8, 60, NULL, 0, NOBODY, s, SLOTS_MAX);
	snprintf(want, sizeof(want), "%s ", every(HM(9, 0), HM(12, 0), 30));
	snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s",
	         every(HM(14, 0), HM(20, 0), 30));
	CHECK_STR(starts_of(s, n), want);
	CHECK_INT(n, 7 + 13);

	n = compute(split, 2026, 6, 8, 90, NULL, 0, NOBODY, s, SLOTS_MAX);
	snprintf(want, sizeof(want), "%s ", every(HM(9, 0), HM(11, 30), 30));
	snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s",
	         every(HM(14, 0), HM(19, 30), 30));
	CHECK_STR(starts_of(s, n), want);
}

TEST(range_not_on_the_half_hour)
{
	struct slots_slot s[SLOTS_MAX];
	int n;

	CHECK_INT(tz_set(BA), 0);
	n = compute("wed 09:15-11:00, 11:10-12:50", 2026, 6, 10, 30, NULL, 0,
	            NOBODY, s, SLOTS_MAX);
	CHECK_STR(starts_of(s, n), "09:30 10:00 10:30 11:30 12:00");
	n = compute("wed 09:15-11:00, 11:10-12:50", 2026, 6, 10, 60, NULL, 0,
	            NOBODY, s, SLOTS_MAX);
	CHECK_STR(starts_of(s, n), "09:30 10:00 11:30");
}

TEST(range_ending_at_midnight)
{
	struct slots_slot s[SLOTS_MAX];
	int n;

	CHECK_INT(tz_set(BA), 0);
	n = compute("mon,wed,fri 08:00-24:00", 2026, 6, 10, 60, NULL, 0, NOBODY,
	            s, SLOTS_MAX);
	CHECK_STR(starts_of(s, n), every(HM(8, 0), HM(23, 0), 30));
	CHECK_INT(s[n - 1].end, at("2026-06-11T00:00:00-03:00"));
	n = compute("mon,wed,fri 08:00-24:00", 2026, 6, 10, 30, NULL, 0, NOBODY,
	            s, SLOTS_MAX);
	CHECK_STR(starts_of(s, n), every(HM(8, 0), HM(23, 30), 30));

	/* The whole day, and a slot as long as the day. */
	n = compute("sun 00:00-24:00", 2026, 6, 14, 30, NULL, 0, NOBODY, s,
	            SLOTS_MAX);
	CHECK_INT(n, SLOTS_MAX);
	n = compute("sun 00:00-24:00", 2026, 6, 14, 1440, NULL, 0, NOBODY, s,
	            SLOTS_MAX);
	CHECK_STR(starts_of(s, n), "00:00");
	CHECK_INT(s[0].end, at("2026-06-15T00:00:00-03:00"));
}

TEST(madrid_spring_forward)
{
	struct slots_slot s[SLOTS_MAX];
	char want[SLOTS_MAX * 6 + 1];
	int n;

	CHECK_INT(tz_set(MADRID), 0);
	n = compute("sun 00:00-24:00", 2026, 3, 29, 60, NULL, 0, NOBODY, s,
	            SLOTS_MAX);
	/* 02:00 and 02:30 do not exist; 01:30 CET + 1 h is 03:30 CEST. */
	snprintf(want, sizeof(want), "00:00 00:30 01:00 01:30 %s",
	         every(HM(3, 0), HM(23, 0), 30));
	CHECK_STR(starts_of(s, n), want);
	CHECK_INT(n, 45);
	CHECK_INT(s[3].start, at("2026-03-29T01:30:00+01:00"));
	CHECK_INT(s[3].end, at("2026-03-29T03:30:00+02:00"));
	CHECK_INT(s[4].start, at("2026-03-29T03:00:00+02:00"));
	CHECK_INT(s[4].start - s[3].start, 1800);
	CHECK_INT(s[n - 1].end, at("2026-03-30T00:00:00+02:00"));
	/* The day is 23 hours long: no slot of 24. */
	CHECK_INT(compute("sun 00:00-24:00", 2026, 3, 29, 1440, NULL, 0, NOBODY,
	                  s, SLOTS_MAX),
	          0);
	n = compute("sun 00:00-24:00", 2026, 3, 29, 1380, NULL, 0, NOBODY, s,
	            SLOTS_MAX);
	CHECK_STR(starts_of(s, n), "00:00");
}

/*
 * A range ending at 02:30, a wall time the clocks skip, closes when they
 * jump (01:00Z, when 01:59:59 CET becomes 03:00 CEST).
 */
TEST(madrid_range_ending_in_the_gap)
{
	struct slots_slot s[SLOTS_MAX];
	int n;

	CHECK_INT(tz_set(MADRID), 0);
	n = compute("sun 00:00-02:30", 2026, 3, 29, 30, NULL, 0, NOBODY, s,
	            SLOTS_MAX);
	CHECK_STR(starts_of(s, n), "00:00 00:30 01:00 01:30");
	CHECK_INT(s[3].end, at("2026-03-29T01:00:00Z"));
	n = compute("sun 00:00-02:30", 2026, 3, 29, 60, NULL, 0, NOBODY, s,
	            SLOTS_MAX);
	CHECK_STR(starts_of(s, n), "00:00 00:30 01:00");
	/* A range inside the gap has no slot. */
	CHECK_INT(compute("sun 02:00-02:59", 2026, 3, 29, 1, NULL, 0, NOBODY, s,
	                  SLOTS_MAX),
	          0);
	/* A range starting in the gap starts at the first half hour after. */
	n = compute("sun 02:10-04:00", 2026, 3, 29, 30, NULL, 0, NOBODY, s,
	            SLOTS_MAX);
	CHECK_STR(starts_of(s, n), "03:00 03:30");
}

TEST(madrid_fall_back)
{
	struct slots_slot s[SLOTS_MAX];
	int n;

	CHECK_INT(tz_set(MADRID), 0);
	n = compute("sun 00:00-24:00", 2026, 10, 25, 60, NULL, 0, NOBODY, s,
	            SLOTS_MAX);
	/* 02:00 and 02:30 once each, at the earlier (CEST) instant. */
	CHECK_STR(starts_of(s, n), every(HM(0, 0), HM(23, 0), 30));
	CHECK_INT(n, 47);
	CHECK_INT(s[4].start, at("2026-10-25T02:00:00+02:00"));
	CHECK_INT(s[5].start, at("2026-10-25T02:30:00+02:00"));
	CHECK_INT(s[6].start, at("2026-10-25T03:00:00+01:00"));
	CHECK_INT(s[6].start - s[5].start, 5400);
	CHECK_INT(s[n - 1].end, at("2026-10-26T00:00:00+01:00"));
	/* The day is 25 hours long: 24-hour slots from 00:00 to 01:00. */
	n = compute("sun 00:00-24:00", 2026, 10, 25, 1440, NULL, 0, NOBODY, s,
	            SLOTS_MAX);
	CHECK_STR(starts_of(s, n), "00:00 00:30 01:00");
	/* Busy during the second 02:00-03:00 (CET) leaves the first. */
	{
		struct slots_busy busy = {at("2026-10-25T02:00:00+01:00"),
		                          at("2026-10-25T03:00:00+01:00")};

		n = compute("sun 01:00-04:00", 2026, 10, 25, 30, &busy, 1,
		            NOBODY, s, SLOTS_MAX);
		CHECK_STR(starts_of(s, n),
		          "01:00 01:30 02:00 02:30 03:00 03:30");
		/* 02:30 CEST + 30 min is 02:00 CET: touching, kept. */
		CHECK_INT(s[3].end, busy.start);
	}
}

TEST(sao_paulo_day_without_midnight)
{
	struct slots_slot s[SLOTS_MAX];
	int n;

	CHECK_INT(tz_set(SP), 0);
	n = compute("sun 00:00-24:00", 2018, 11, 4, 60, NULL, 0, NOBODY, s,
	            SLOTS_MAX);
	CHECK_STR(starts_of(s, n), every(HM(1, 0), HM(23, 0), 30));
	CHECK_INT(n, 45);
	CHECK_INT(s[0].start, at("2018-11-04T03:00:00Z"));
	CHECK_INT(s[n - 1].end, at("2018-11-05T00:00:00-02:00"));
	/* The day before ends when the 4th starts, at 01:00 -02. */
	n = compute("sat 00:00-24:00", 2018, 11, 3, 60, NULL, 0, NOBODY, s,
	            SLOTS_MAX);
	CHECK_STR(starts_of(s, n), every(HM(0, 0), HM(23, 0), 30));
	CHECK_INT(s[n - 1].end, at("2018-11-04T01:00:00-02:00"));
}

TEST(max_truncates)
{
	struct slots_slot s[SLOTS_MAX], all[SLOTS_MAX];
	int n;

	CHECK_INT(tz_set(BA), 0);
	s[3].start = 42;
	n = compute(DEFAULT, 2026, 6, 10, 60, NULL, 0, NOBODY, s, 3);
	CHECK_INT(n, 3);
	CHECK_STR(starts_of(s, n), "09:00 09:30 10:00");
	CHECK_INT(s[3].start, 42);
	CHECK_INT(compute(DEFAULT, 2026, 6, 10, 60, NULL, 0, NOBODY, all,
	                  SLOTS_MAX),
	          23);
	CHECK(memcmp(s, all, 3 * sizeof(s[0])) == 0);
	CHECK_INT(compute(DEFAULT, 2026, 6, 10, 60, NULL, 0, NOBODY, NULL, 0),
	          0);
}

TEST(bad_arguments)
{
	struct hours h = hours_of(DEFAULT), bad;
	struct slots_slot s[SLOTS_MAX];
	struct slots_busy busy = {0, 1};

	CHECK_INT(tz_set(BA), 0);
	memset(s, 0x5a, sizeof(s));
	CHECK_INT(
	        slots_compute(&h, 2026, 2, 29, 60, NULL, 0, 0, NOLIMIT, s, 48),
	        -1);
	CHECK_INT(
	        slots_compute(&h, 2026, 4, 31, 60, NULL, 0, 0, NOLIMIT, s, 48),
	        -1);
	CHECK_INT(
	        slots_compute(&h, 2026, 13, 1, 60, NULL, 0, 0, NOLIMIT, s, 48),
	        -1);
	CHECK_INT(slots_compute(&h, 2026, 0, 1, 60, NULL, 0, 0, NOLIMIT, s, 48),
	          -1);
	CHECK_INT(slots_compute(&h, 2026, 6, 0, 60, NULL, 0, 0, NOLIMIT, s, 48),
	          -1);
	CHECK_INT(
	        slots_compute(&h, 1899, 6, 10, 60, NULL, 0, 0, NOLIMIT, s, 48),
	        -1);
	CHECK_INT(
	        slots_compute(&h, 10000, 6, 10, 60, NULL, 0, 0, NOLIMIT, s, 48),
	        -1);
	CHECK_INT(slots_compute(&h, 2026, 6, 10, 0, NULL, 0, 0, NOLIMIT, s, 48),
	          -1);
	CHECK_INT(
	        slots_compute(&h, 2026, 6, 10, -30, NULL, 0, 0, NOLIMIT, s, 48),
	        -1);
	CHECK_INT(slots_compute(&h, 2026, 6, 10, 1441, NULL, 0, 0, NOLIMIT, s,
	                        48),
	          -1);
	CHECK_INT(slots_compute(NULL, 2026, 6, 10, 60, NULL, 0, 0, NOLIMIT, s,
	                        48),
	          -1);
	CHECK_INT(
	        slots_compute(&h, 2026, 6, 10, 60, NULL, 1, 0, NOLIMIT, s, 48),
	        -1);
	CHECK_INT(slots_compute(&h, 2026, 6, 10, 60, &busy, 1, 0, NOLIMIT, NULL,
	                        1),
	          -1);
	bad = h;
	bad.n[3] = HOURS_MAX_RANGES + 1;
	CHECK_INT(slots_compute(&bad, 2026, 6, 10, 60, NULL, 0, 0, NOLIMIT, s,
	                        48),
	          -1);
	bad = h;
	bad.day[3][0].end = HOURS_DAY_END + 1;
	CHECK_INT(slots_compute(&bad, 2026, 6, 10, 60, NULL, 0, 0, NOLIMIT, s,
	                        48),
	          -1);
	bad = h;
	bad.day[3][0].start = bad.day[3][0].end;
	CHECK_INT(slots_compute(&bad, 2026, 6, 10, 60, NULL, 0, 0, NOLIMIT, s,
	                        48),
	          -1);
	/* Nothing was written. */
	for (size_t i = 0; i < sizeof(s); i++)
		CHECK_INT(((unsigned char *)s)[i], 0x5a);
	/* The good ones next to them. */
	CHECK_INT(
	        slots_compute(&h, 2028, 2, 29, 60, NULL, 0, 0, NOLIMIT, s, 48),
	        23);
	CHECK_INT(slots_compute(&h, 2026, 6, 10, 1440, NULL, 0, 0, NOLIMIT, s,
	                        48),
	          0);
	CHECK_INT(slots_compute(&h, 2026, 6, 10, 1, NULL, 0, 0, NOLIMIT, s, 48),
	          24);
}

/* Hand-made hours with overlapping ranges still give each slot once. */
TEST(overlapping_hand_made_ranges)
{
	struct hours h;
	struct slots_slot s[SLOTS_MAX];
	int n;

	CHECK_INT(tz_set(BA), 0);
	memset(&h, 0, sizeof(h));
	h.n[3] = 3;
	h.day[3][0] = (struct hours_range){HM(12, 0), HM(14, 0)};
	h.day[3][1] = (struct hours_range){HM(9, 0), HM(13, 0)};
	h.day[3][2] = (struct hours_range){HM(9, 0), HM(13, 0)};
	n = slots_compute(&h, 2026, 6, 10, 60, NULL, 0, NOBODY, NOLIMIT, s,
	                  SLOTS_MAX);
	CHECK_STR(starts_of(s, n), every(HM(9, 0), HM(13, 0), 30));
}

/* The last date the zone code accepts: 24:00 is past TZ_YEAR_MAX. */
TEST(last_date)
{
	struct slots_slot s[SLOTS_MAX];
	int n;

	CHECK_INT(tz_set(BA), 0);
	n = compute("fri 22:00-24:00", 9999, 12, 31, 60, NULL, 0, NOBODY, s,
	            SLOTS_MAX);
	CHECK_STR(starts_of(s, n), "22:00 22:30 23:00");
	CHECK_INT(s[2].end, at("9999-12-31T23:59:00-03:00") + 60);
}

TEST(not_after_removes_later_starts)
{
	struct hours h = hours_of(DEFAULT);
	struct slots_slot s[SLOTS_MAX];
	int n;

	CHECK_INT(tz_set(BA), 0);
	/* 2026-06-10 is a Wednesday: 12:00 local is 15:00Z. */
	n = slots_compute(&h, 2026, 6, 10, 60, NULL, 0, NOBODY,
	                  at("2026-06-10T15:00:00Z"), s, SLOTS_MAX);
	CHECK_STR(starts_of(s, n), every(HM(9, 0), HM(12, 0), 30));
	n = slots_compute(&h, 2026, 6, 10, 60, NULL, 0, NOBODY,
	                  at("2026-06-10T14:59:59Z"), s, SLOTS_MAX);
	CHECK_STR(starts_of(s, n), every(HM(9, 0), HM(11, 30), 30));
	n = slots_compute(&h, 2026, 6, 10, 60, NULL, 0, NOBODY,
	                  at("2026-06-10T11:59:59Z"), s, SLOTS_MAX);
	CHECK_INT(n, 0);
}

TEST(window_bounds_and_saturates)
{
	struct slots_window w;
	const int64_t now = at("2026-06-08T12:00:00Z");

	w = slots_window(now, 120);
	CHECK_INT(w.not_before, now + 7200);
	CHECK_INT(w.not_after, now + 366LL * 86400);
	/* No notice still means later than now. */
	w = slots_window(now, 0);
	CHECK_INT(w.not_before, now + 1);
	w = slots_window(now, -5);
	CHECK_INT(w.not_before, now + 1);
	/* A notice past the window is the window. */
	w = slots_window(now, 2147483647L);
	CHECK_INT(w.not_before, now + 366LL * 86400);
	/* Nothing overflows at the end of time. */
	w = slots_window(INT64_MAX - 10, 120);
	CHECK(w.not_before == INT64_MAX && w.not_after == INT64_MAX);
}

TEST(check_verdicts)
{
	struct hours h = hours_of(DEFAULT);
	/* Monday 2026-06-08 09:00 local. */
	const int64_t now = at("2026-06-08T09:00:00-03:00");

	CHECK_INT(tz_set(BA), 0);
	/* Wednesday. */
	CHECK_INT(
	        slots_check(&h, at("2026-06-10T15:00:00-03:00"), 60, now, 120),
	        SLOTS_OFFERED);
	CHECK_INT(
	        slots_check(&h, at("2026-06-10T03:00:00-03:00"), 60, now, 120),
	        SLOTS_CLOSED);
	CHECK_INT(
	        slots_check(&h, at("2026-06-10T15:07:00-03:00"), 60, now, 120),
	        SLOTS_CLOSED);
	CHECK_INT(
	        slots_check(&h, at("2026-06-10T15:00:01-03:00"), 60, now, 120),
	        SLOTS_CLOSED);
	CHECK_INT(
	        slots_check(&h, at("2026-06-10T20:00:00-03:00"), 60, now, 120),
	        SLOTS_OFFERED);
	CHECK_INT(
	        slots_check(&h, at("2026-06-10T20:30:00-03:00"), 60, now, 120),
	        SLOTS_CLOSED);
	CHECK_INT(
	        slots_check(&h, at("2026-06-10T20:30:00-03:00"), 30, now, 120),
	        SLOTS_OFFERED);
	CHECK_INT(
	        slots_check(&h, at("2026-06-10T21:00:00-03:00"), 15, now, 120),
	        SLOTS_CLOSED);
	CHECK_INT(
	        slots_check(&h, at("2026-06-10T08:30:00-03:00"), 60, now, 120),
	        SLOTS_CLOSED);
	/* Saturday 09:00-13:00, Sunday closed. */
	CHECK_INT(
	        slots_check(&h, at("2026-06-13T12:00:00-03:00"), 60, now, 120),
	        SLOTS_OFFERED);
	CHECK_INT(
	        slots_check(&h, at("2026-06-13T12:30:00-03:00"), 60, now, 120),
	        SLOTS_CLOSED);
	CHECK_INT(
	        slots_check(&h, at("2026-06-14T15:00:00-03:00"), 60, now, 120),
	        SLOTS_CLOSED);
	CHECK_INT(
	        slots_check(&h, at("2026-06-14T15:07:00-03:00"), 60, now, 120),
	        SLOTS_CLOSED);
	/* The window: the past, the notice, 366 days. */
	CHECK_INT(slots_check(&h, now, 60, now, 120), SLOTS_PAST);
	CHECK_INT(slots_check(&h, now - 1800, 60, now, 120), SLOTS_PAST);
	CHECK_INT(slots_check(&h, INT64_MIN, 60, now, 120), SLOTS_PAST);
	CHECK_INT(slots_check(&h, now + 1800, 60, now, 120), SLOTS_TOO_SOON);
	CHECK_INT(slots_check(&h, now + 7200, 60, now, 120), SLOTS_OFFERED);
	CHECK_INT(slots_check(&h, now + 1800, 60, now, 0), SLOTS_OFFERED);
	/* 366 days after Monday 2026-06-08 is Wednesday 2027-06-09. */
	CHECK_INT(
	        slots_check(&h, at("2027-06-09T09:00:00-03:00"), 60, now, 120),
	        SLOTS_OFFERED);
	CHECK_INT(
	        slots_check(&h, at("2027-06-09T09:30:00-03:00"), 60, now, 120),
	        SLOTS_TOO_FAR);
	CHECK_INT(slots_check(&h, at("9999-12-31T20:00:00Z"), 240, now, 120),
	          SLOTS_TOO_FAR);
	CHECK_INT(slots_check(&h, INT64_MAX, 240, now, 120), SLOTS_TOO_FAR);
	/* What slots_compute refuses offers nothing. */
	CHECK_INT(slots_check(&h, at("2026-06-10T15:00:00-03:00"), 0, now, 120),
	          SLOTS_CLOSED);
	CHECK_INT(slots_check(NULL, at("2026-06-10T15:00:00-03:00"), 60, now,
	                      120),
	          SLOTS_CLOSED);
}

/* Where clocks go back, the wall time that happens twice is offered once,
 * at its earlier instant; the later one is no slot. */
TEST(check_repeated_wall_time)
{
	struct hours h = hours_of("sun 00:00-24:00");
	const int64_t now = at("2026-10-20T00:00:00Z");

	CHECK_INT(tz_set(MADRID), 0);
	CHECK_INT(
	        slots_check(&h, at("2026-10-25T02:30:00+02:00"), 30, now, 120),
	        SLOTS_OFFERED);
	CHECK_INT(
	        slots_check(&h, at("2026-10-25T02:30:00+01:00"), 30, now, 120),
	        SLOTS_CLOSED);
	/* 02:00-03:00 never happens on 2026-03-29: 03:00 is right after
	 * 01:30's slot. */
	CHECK_INT(slots_check(&h, at("2026-03-29T01:30:00+01:00"), 30,
	                      at("2026-03-20T00:00:00Z"), 120),
	          SLOTS_OFFERED);
	CHECK_INT(slots_check(&h, at("2026-03-29T03:00:00+02:00"), 30,
	                      at("2026-03-20T00:00:00Z"), 120),
	          SLOTS_OFFERED);
}

/*
 * slots_check and slots_compute can never disagree: over a week, every
 * five minutes, for several durations, a start is offered exactly when it
 * is one of the slots of its date within the window.
 */
TEST(check_agrees_with_compute)
{
	static const int durations[] = {15, 30, 60, 90, 240};
	struct hours h = hours_of("mon-fri 09:00-13:00, 14:15-21:00; "
	                          "sat 09:00-13:00");
	const int64_t now = at("2026-06-08T10:10:00-03:00");
	struct slots_window w = slots_window(now, 120);
	struct slots_slot s[SLOTS_MAX];

	CHECK_INT(tz_set(BA), 0);
	/* Every quarter hour of the first two days (the notice's edge, a
	 * weekday's two ranges and the gap between them), then of the
	 * Saturday: on and off the half-hour grid. Each slots_check() makes
	 * a day's slots, so the walk stays short enough for valgrind. */
	for (int64_t t = now - 3600; t < now + 6 * 86400; t += 900) {
		if (t > now + 2 * 86400 && t < now + 5 * 86400 - 36600)
			continue; /* Wednesday 00:00 to Saturday 00:00 */
		for (size_t k = 0; k < sizeof(durations) / sizeof(durations[0]);
		     k++) {
			struct tz_local l;
			int n, listed = 0;
			enum slots_verdict v =
			        slots_check(&h, t, durations[k], now, 120);

			CHECK_INT(tz_to_local(t, &l), 0);
			n = slots_compute(&h, l.year, l.month, l.day,
			                  durations[k], NULL, 0, w.not_before,
			                  w.not_after, s, SLOTS_MAX);
			for (int i = 0; i < n; i++)
				listed |= s[i].start == t;
			if ((v == SLOTS_OFFERED) != listed)
				CHECK_FAIL_("%s for %d minutes: verdict %d, "
				            "listed %d",
				            hhmm(t), durations[k], (int)v,
				            listed);
		}
	}
}

int main(void)
{
	RUN(weekday_default_hours);
	RUN(saturday_and_sunday);
	RUN(sunday_closed);
	RUN(long_slots_end_within_the_range);
	RUN(busy_removes_exactly_the_overlapping);
	RUN(busy_unsorted_many_and_empty);
	RUN(not_before_removes_earlier_starts);
	RUN(split_ranges_no_slot_across_the_gap);
	RUN(range_not_on_the_half_hour);
	RUN(range_ending_at_midnight);
	RUN(madrid_spring_forward);
	RUN(madrid_range_ending_in_the_gap);
	RUN(madrid_fall_back);
	RUN(sao_paulo_day_without_midnight);
	RUN(max_truncates);
	RUN(bad_arguments);
	RUN(overlapping_hand_made_ranges);
	RUN(last_date);
	RUN(not_after_removes_later_starts);
	RUN(window_bounds_and_saturates);
	RUN(check_verdicts);
	RUN(check_repeated_wall_time);
	RUN(check_agrees_with_compute);
	return CHECK_DONE();
}
