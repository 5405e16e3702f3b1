/*
 * test_hours.c - BOOKING_HOURS: the examples the README gives, merging and
 * sorting of a day's ranges, day order (day[0] is Sunday), case and
 * whitespace, and each refusal with a message that names the problem.
 */
#include "check.h"
#include "school/hours.h"

#include <string.h>

#define SUN 0
#define MON 1
#define TUE 2
#define WED 3
#define THU 4
#define FRI 5
#define SAT 6

/* Minutes since midnight. */
#define HM(h, m) ((h)*60 + (m))

/* A day's ranges as "HH:MM-HH:MM,HH:MM-HH:MM"; "" when closed. */
static const char *ranges_of(const struct hours *h, int wday)
{
	static char buf[HOURS_MAX_RANGES * 12 + 1];
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < h->n[wday]; i++) {
		const struct hours_range *r = &h->day[wday][i];

		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
		                        "%s%02d:%02d-%02d:%02d", i ? "," : "",
		                        r->start / 60, r->start % 60,
		                        r->end / 60, r->end % 60);
	}
	return buf;
}

/* The week as "sun|mon|...|sat" of ranges_of, for one-line comparisons. */
static const char *week_of(const struct hours *h)
{
	static char buf[7 * (HOURS_MAX_RANGES * 12 + 1) + 8];
	size_t len = 0;

	buf[0] = '\0';
	for (int d = 0; d < 7; d++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s",
		                        d ? "|" : "", ranges_of(h, d));
	return buf;
}

/* Parses spec, which must parse, and checks the week it gives. */
static void check_week(const char *spec, const char *week)
{
	struct hours h;
	char err[256] = "";

	if (hours_parse(spec, &h, err, sizeof(err)) != 0)
		CHECK_FAIL_("refused \"%s\": %s", spec, err);
	for (int d = 0; d < 7; d++)
		CHECK(h.n[d] >= 0 && h.n[d] <= HOURS_MAX_RANGES);
	if (strcmp(week_of(&h), week) != 0)
		CHECK_FAIL_("\"%s\" gave\n    %s\n  expected\n    %s", spec,
		            week_of(&h), week);
}

/*
 * spec must be refused with a message that contains needle, and leave *out
 * as it was.
 */
static void check_refused(const char *spec, const char *needle)
{
	struct hours h, before;
	char err[256] = "";

	memset(&h, 0x5a, sizeof(h));
	before = h;
	if (hours_parse(spec, &h, err, sizeof(err)) != -1)
		CHECK_FAIL_("accepted \"%s\"", spec);
	if (strstr(err, needle) == NULL)
		CHECK_FAIL_("\"%s\": message \"%s\" does not say \"%s\"", spec,
		            err, needle);
	if (memcmp(&h, &before, sizeof(h)) != 0)
		CHECK_FAIL_("\"%s\": *out changed on failure", spec);
}

TEST(default_hours)
{
	struct hours h;
	char err[128];

	CHECK_INT(hours_parse("mon-fri 09:00-21:00; sat 09:00-13:00", &h, err,
	                      sizeof(err)),
	          0);
	/* day[0] is Sunday, as tm_wday. */
	CHECK_INT(h.n[SUN], 0);
	for (int d = MON; d <= FRI; d++) {
		CHECK_INT(h.n[d], 1);
		CHECK_INT(h.day[d][0].start, HM(9, 0));
		CHECK_INT(h.day[d][0].end, HM(21, 0));
	}
	CHECK_INT(h.n[SAT], 1);
	CHECK_INT(h.day[SAT][0].start, HM(9, 0));
	CHECK_INT(h.day[SAT][0].end, HM(13, 0));
}

TEST(readme_examples)
{
	check_week("mon-fri 09:00-13:00, 14:00-21:00; sat 10:00-12:00",
	           "|09:00-13:00,14:00-21:00|09:00-13:00,14:00-21:00|"
	           "09:00-13:00,14:00-21:00|09:00-13:00,14:00-21:00|"
	           "09:00-13:00,14:00-21:00|10:00-12:00");
	check_week("mon,wed,fri 08:00-24:00",
	           "|08:00-24:00||08:00-24:00||08:00-24:00|");
	check_week("sun 00:00-24:00", "00:00-24:00||||||");
	check_week("sat 09:00-13:00;", "||||||09:00-13:00");
	check_week("mon-fri 09:00-21:00; sat 09:00-13:00;",
	           "|09:00-21:00|09:00-21:00|09:00-21:00|09:00-21:00|"
	           "09:00-21:00|09:00-13:00");
}

TEST(day_sets)
{
	check_week("mon-wed,fri 10:00-11:00",
	           "|10:00-11:00|10:00-11:00|10:00-11:00||10:00-11:00|");
	check_week("mon-tue, thu-fri 10:00-11:00",
	           "|10:00-11:00|10:00-11:00||10:00-11:00|10:00-11:00|");
}

TEST(day_ranges_forward_within_the_week)
{
	check_week("sat-sun 10:00-11:00", "10:00-11:00||||||10:00-11:00");
	check_week("mon-sun 10:00-11:00",
	           "10:00-11:00|10:00-11:00|10:00-11:00|10:00-11:00|"
	           "10:00-11:00|10:00-11:00|10:00-11:00");
	check_week("wed-wed 10:00-11:00", "|||10:00-11:00|||");
	check_week("sun,mon 10:00-11:00", "10:00-11:00|10:00-11:00|||||");
	check_refused("fri-mon 09:00-10:00",
	              "BOOKING_HOURS: day range 'fri-mon' goes backwards");
	check_refused("sun-sat 09:00-10:00",
	              "day range 'sun-sat' goes backwards");
}

TEST(case_insensitive_days)
{
	check_week("MON-Fri 09:00-10:00; SaT 10:00-11:00; sUN 12:00-13:00",
	           "12:00-13:00|09:00-10:00|09:00-10:00|09:00-10:00|"
	           "09:00-10:00|09:00-10:00|10:00-11:00");
}

TEST(whitespace_around_separators)
{
	check_week("  mon , wed - fri\t09:00 - 10:00 ,\n11:00-12:00 ;  "
	           "sat 09:00-10:00 ; ",
	           "|09:00-10:00,11:00-12:00||09:00-10:00,11:00-12:00|"
	           "09:00-10:00,11:00-12:00|09:00-10:00,11:00-12:00|"
	           "09:00-10:00");
	check_week("\r\nsun\t\t00:00-24:00\r\n", "00:00-24:00||||||");
}

TEST(ranges_merge_and_sort)
{
	/* Overlapping. */
	check_week("mon 09:00-12:00, 11:00-13:00", "|09:00-13:00|||||");
	/* Touching. */
	check_week("mon 09:00-10:00, 10:00-11:00", "|09:00-11:00|||||");
	/* Contained. */
	check_week("mon 08:00-20:00, 09:00-10:00", "|08:00-20:00|||||");
	/* Given out of order: kept sorted. */
	check_week("mon 14:00-15:00, 09:00-10:00",
	           "|09:00-10:00,14:00-15:00|||||");
	/* A third range bridging two. */
	check_week("mon 09:00-10:00, 11:00-12:00, 09:30-11:30",
	           "|09:00-12:00|||||");
	/* Ranges of one day add up across clauses. */
	check_week("mon-fri 09:00-12:00; wed 12:00-14:00; wed 08:00-08:30",
	           "|09:00-12:00|09:00-12:00|08:00-08:30,09:00-14:00|"
	           "09:00-12:00|09:00-12:00|");
	/* A day named twice in one set is still one day. */
	check_week("mon,mon-tue 09:00-10:00", "|09:00-10:00|09:00-10:00||||");
	/* Adjacent minute ranges. */
	check_week("tue 00:00-00:01, 00:01-24:00", "||00:00-24:00||||");
}

TEST(at_most_eight_ranges_a_day)
{
	const char *eight = "mon 01:00-02:00, 03:00-04:00, 05:00-06:00, "
	                    "07:00-08:00, 09:00-10:00, 11:00-12:00, "
	                    "13:00-14:00, 15:00-16:00";
	char spec[256];

	check_week(eight, "|01:00-02:00,03:00-04:00,05:00-06:00,07:00-08:00,"
	                  "09:00-10:00,11:00-12:00,13:00-14:00,15:00-16:00"
	                  "|||||");
	snprintf(spec, sizeof(spec), "%s, 17:00-18:00", eight);
	check_refused(spec, "BOOKING_HOURS: more than 8 time ranges on mon");
	/* The ninth in another clause counts too. */
	snprintf(spec, sizeof(spec), "%s; sat,mon 17:00-18:00", eight);
	check_refused(spec, "more than 8 time ranges on mon");
	/* A ninth that merges into another leaves eight. */
	snprintf(spec, sizeof(spec), "%s, 16:00-17:00", eight);
	check_week(spec, "|01:00-02:00,03:00-04:00,05:00-06:00,07:00-08:00,"
	                 "09:00-10:00,11:00-12:00,13:00-14:00,15:00-17:00"
	                 "|||||");
}

TEST(refused_empty)
{
	check_refused("", "BOOKING_HOURS is empty");
	check_refused("   \t\n", "BOOKING_HOURS is empty");
	check_refused(";", "empty clause");
	check_refused("; mon 09:00-10:00", "empty clause");
	check_refused("mon 09:00-10:00;;", "empty clause");
	check_refused("mon 09:00-10:00; ; tue 09:00-10:00", "empty clause");
}

TEST(refused_unknown_day)
{
	check_refused("mnd 09:00-10:00", "BOOKING_HOURS: unknown day 'mnd'");
	check_refused("monday 09:00-10:00", "unknown day 'monday'");
	check_refused("mon-fr 09:00-10:00", "unknown day 'fr'");
	check_refused("mon,xyz 09:00-10:00", "unknown day 'xyz'");
	check_refused("lun 09:00-10:00", "unknown day 'lun'");
	check_refused("mon-fri09:00-21:00", "unknown day 'fri09:00'");
	check_refused("09:00-10:00", "days missing before '09:00'");
	check_refused("mon-", "expected a day, found the end");
	check_refused("mon, 09:00-10:00", "days missing before '09:00'");
	check_refused(", mon 09:00-10:00", "expected a day, found ','");
}

TEST(refused_missing_ranges)
{
	check_refused("mon-fri",
	              "BOOKING_HOURS: no time range after 'mon-fri'");
	check_refused("mon-fri ; sat 09:00-10:00",
	              "no time range after 'mon-fri'");
	check_refused("sat 09:00-10:00; mon , wed  ",
	              "no time range after 'mon , wed'");
	check_refused("mon 09:00-10:00,",
	              "expected a time (HH:MM), found the end");
	check_refused("mon 09:00-10:00, ;",
	              "expected a time (HH:MM), found ';'");
}

TEST(refused_bad_times)
{
	check_refused("mon 25:00-26:00", "BOOKING_HOURS: 25:00 is not a time");
	check_refused("mon 09:00-24:01", "24:01 is not a time");
	check_refused("mon 09:00-24:30", "24:30 is not a time");
	check_refused("mon 9:00-10:00", "9:00 is not a time");
	check_refused("mon 09:00-9:30", "9:30 is not a time");
	check_refused("mon 09:60-10:00", "09:60 is not a time");
	check_refused("mon 0900-1000", "0900 is not a time");
	check_refused("mon 09:00:00-10:00", "09:00:00 is not a time");
	check_refused("mon 09.00-10.00", "09.00 is not a time");
	check_refused("mon 09:00-10:00x", "10:00x is not a time");
	check_refused("mon +9:00-10:00", "+9:00 is not a time");
	check_refused("mon 09:00", "expected '-' after 09:00, found the end");
	check_refused("mon 09:00-", "expected a time (HH:MM), found the end");
	check_refused("mon 09:00 10:00",
	              "expected '-' after 09:00, found '10:00'");
	check_refused("mon 09:00--10:00", "expected a time (HH:MM), found '-'");
}

TEST(refused_start_not_before_end)
{
	check_refused("mon 13:00-09:00",
	              "BOOKING_HOURS: 13:00-09:00 ends before it starts");
	check_refused("mon 09:00-09:00", "09:00-09:00 is empty");
	check_refused("mon 24:00-24:00", "24:00-24:00 starts at 24:00");
	check_refused("mon 09:00-10:00, 24:00-23:00",
	              "24:00-23:00 starts at 24:00");
	check_refused("mon 00:01-00:00", "00:01-00:00 ends before it starts");
}

TEST(refused_junk)
{
	check_refused("mon 09:00-21:00 junk",
	              "BOOKING_HOURS: unexpected 'junk' after 09:00-21:00");
	/* A forgotten ';'. */
	check_refused("mon 09:00-10:00 tue 10:00-11:00",
	              "unexpected 'tue' after 09:00-10:00");
	check_refused("mon 09:00-10:00 -", "unexpected '-' after 09:00-10:00");
	check_refused("mon 09:00-10:00 \x01", "unexpected '?' after");
	/* Bytes that are not printable ASCII are quoted as '?'. */
	check_refused("m\x01n 09:00-10:00", "unknown day 'm?n'");
	check_refused("m\xc3\xb3n 09:00-10:00", "unknown day 'm??n'");
}

TEST(long_tokens_quoted_short)
{
	char spec[600], err[256];
	struct hours h;

	memset(spec, 'x', 500);
	spec[500] = '\0';
	CHECK_INT(hours_parse(spec, &h, err, sizeof(err)), -1);
	CHECK_STR(err, "BOOKING_HOURS: unknown day "
	               "'xxxxxxxxxxxxxxxxxxxxxxxx...' "
	               "(mon tue wed thu fri sat sun)");
	memcpy(spec, "mon ", 4);
	CHECK_INT(hours_parse(spec, &h, err, sizeof(err)), -1);
	CHECK(strstr(err, "xxx... is not a time") != NULL);
	CHECK(strlen(err) < 100);
}

TEST(error_buffer_optional)
{
	struct hours h;
	char small[16];

	CHECK_INT(hours_parse("mnd 09:00-10:00", &h, NULL, 0), -1);
	CHECK_INT(hours_parse("mnd 09:00-10:00", &h, small, 0), -1);
	CHECK_INT(hours_parse("mnd 09:00-10:00", &h, small, sizeof(small)), -1);
	CHECK_STR(small, "BOOKING_HOURS: ");
	CHECK_INT(hours_parse("mon 09:00-10:00", &h, NULL, 0), 0);
	CHECK_INT(hours_parse(NULL, &h, small, sizeof(small)), -1);
	CHECK_INT(hours_parse("mon 09:00-10:00", NULL, small, sizeof(small)),
	          -1);
}

TEST(out_untouched_on_failure)
{
	struct hours h, before;
	char err[128];

	CHECK_INT(hours_parse("mon-fri 09:00-21:00", &h, err, sizeof(err)), 0);
	before = h;
	/* Fails only after ranges were added to the days named first. */
	CHECK_INT(hours_parse("sat 08:00-09:00; sun 10:00-09:00", &h, err,
	                      sizeof(err)),
	          -1);
	CHECK(memcmp(&h, &before, sizeof(h)) == 0);
}

int main(void)
{
	RUN(default_hours);
	RUN(readme_examples);
	RUN(day_sets);
	RUN(day_ranges_forward_within_the_week);
	RUN(case_insensitive_days);
	RUN(whitespace_around_separators);
	RUN(ranges_merge_and_sort);
	RUN(at_most_eight_ranges_a_day);
	RUN(refused_empty);
	RUN(refused_unknown_day);
	RUN(refused_missing_ranges);
	RUN(refused_bad_times);
	RUN(refused_start_not_before_end);
	RUN(refused_junk);
	RUN(long_tokens_quoted_short);
	RUN(error_buffer_optional);
	RUN(out_untouched_on_failure);
	return CHECK_DONE();
}
