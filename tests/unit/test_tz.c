/*
 * test_tz.c - the tz module against the system's tzdata: zone names, the
 * daylight-saving history of Buenos Aires, Madrid and Sao Paulo (checked
 * against `zdump -v` first), gaps and overlaps, strict ISO 8601 parsing,
 * and round trips between instants and text.
 */
#include "check.h"
#include "core/tz.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BA     "America/Argentina/Buenos_Aires"
#define MADRID "Europe/Madrid"
#define SP     "America/Sao_Paulo"

/* 2026-12-01T18:00:00Z, 15:00 in Buenos Aires. */
#define DEC1_18Z INT64_C(1796148000)

/* The instant of an ISO string that must parse; INT64_MIN if it does not. */
static int64_t iso(const char *s)
{
	int64_t t;

	return tz_parse_iso(s, &t, NULL) == TZ_OK ? t : INT64_MIN;
}

/* tz_format_iso into a static buffer; "(error)" on failure. */
static const char *fmt_iso(int64_t t)
{
	static char buf[TZ_ISO_MAX];

	return tz_format_iso(t, buf, sizeof(buf)) == 0 ? buf : "(error)";
}

/* The offset in force at t, or a value no zone has. */
static int offset_at(int64_t t)
{
	struct tz_local l;

	return tz_to_local(t, &l) == 0 ? l.offset : 999999;
}

/* Must run first: no tz_set has happened yet. */
TEST(default_zone_is_buenos_aires)
{
	CHECK_STR(tz_name(), BA);
	CHECK_STR(fmt_iso(DEC1_18Z), "2026-12-01T15:00:00-03:00");
}

TEST(zone_names_accepted)
{
	static const char *const good[] = {
	        "UTC",
	        "Etc/UTC",
	        "Europe/Madrid",
	        "Etc/GMT+3",
	        "Etc/GMT-14",
	        "America/Port-au-Prince",
	        "America/Sao_Paulo",
	        "America/Argentina/Buenos_Aires",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (tz_set(good[i]) != 0)
			CHECK_FAIL_("refused %s", good[i]);
		CHECK_STR(tz_name(), good[i]);
	}
}

TEST(zone_names_refused)
{
	static const char *const bad[] = {
	        "../etc/passwd",
	        "/etc/localtime",
	        "Nowhere/City",
	        "",
	        "America",         /* a directory */
	        "Europe/Madrid/",  /* not a file */
	        "Europe//Madrid",  /* an empty component */
	        "Europe/Madrid ",  /* space */
	        "Europe/Madrid\n", /* line break */
	        "zone.tab",        /* '.' is not allowed */
	        "Europe/../Europe/Madrid",
	        "right/UTC",              /* counts leap seconds */
	        "EST5EDT,M3.2.0,M11.1.0", /* a POSIX rule, not a zone */
	        "<-03>3",
	};
	char longname[TZ_NAME_MAX + 2];

	CHECK_INT(tz_set(MADRID), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (tz_set(bad[i]) != -1)
			CHECK_FAIL_("accepted \"%s\"", bad[i]);
		CHECK_STR(tz_name(), MADRID);
	}
	CHECK_INT(tz_set(NULL), -1);
	memset(longname, 'A', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK_INT(tz_set(longname), -1);
	CHECK_STR(tz_name(), MADRID);
	/* The zone in force did not change either. */
	CHECK_STR(fmt_iso(DEC1_18Z), "2026-12-01T19:00:00+01:00");
}

TEST(zone_files_checked)
{
	char dir[] = "/tmp/test_tz_XXXXXX", path[64];
	FILE *f;
	int rc_plain, rc_fifo, rc_missing;

	CHECK_INT(tz_set(MADRID), 0);
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/Plain", dir);
	f = fopen(path, "w");
	CHECK(f != NULL);
	fputs("not a zone file\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/Fifo", dir);
	CHECK_INT(mkfifo(path, 0600), 0);
	CHECK_INT(setenv("TZDIR", dir, 1), 0);
	rc_plain = tz_set("Plain");
	rc_fifo = tz_set("Fifo"); /* must not block */
	rc_missing = tz_set("UTC");
	unsetenv("TZDIR");
	unlink(path);
	snprintf(path, sizeof(path), "%s/Plain", dir);
	unlink(path);
	rmdir(dir);
	CHECK_INT(rc_plain, -1);
	CHECK_INT(rc_fifo, -1);
	CHECK_INT(rc_missing, -1);
	CHECK_STR(tz_name(), MADRID);
	CHECK_INT(tz_set("UTC"), 0);
}

TEST(buenos_aires_now)
{
	CHECK_INT(tz_set(BA), 0);
	CHECK_INT(offset_at(tz_now()), -3 * 3600);
	CHECK_STR(fmt_iso(DEC1_18Z), "2026-12-01T15:00:00-03:00");
	CHECK_INT(iso("2026-12-01T15:00:00"), DEC1_18Z);
	CHECK_INT(iso("2026-06-01T12:00"), iso("2026-06-01T15:00Z"));
}

/*
 * zdump -v America/Argentina/Buenos_Aires: -02 (isdst=1) from
 * 2007-12-30 00:00 (to 01:00) until 2008-03-16 00:00 (back to 2008-03-15
 * 23:00), and from 2008-10-19 00:00 (to 01:00) until 2009-03-15 00:00
 * (back to 2009-03-14 23:00).
 */
TEST(buenos_aires_daylight_saving_2007_2009)
{
	int64_t t = 0;

	CHECK_INT(tz_set(BA), 0);
	CHECK_INT(iso("2009-01-15T12:00"), INT64_C(1232028000));
	CHECK_STR(fmt_iso(INT64_C(1232028000)), "2009-01-15T12:00:00-02:00");
	CHECK_INT(offset_at(iso("2008-01-15T12:00Z")), -2 * 3600);
	CHECK_INT(offset_at(iso("2008-07-01T12:00Z")), -3 * 3600);
	CHECK_INT(offset_at(iso("2009-07-01T12:00Z")), -3 * 3600);
	/* The gap: midnight to 01:00 on 2007-12-30 and 2008-10-19. */
	CHECK_INT(tz_from_local(2007, 12, 30, 0, 30, 0, &t), TZ_NONEXISTENT);
	CHECK_INT(tz_from_local(2008, 10, 19, 0, 0, 0, &t), TZ_NONEXISTENT);
	CHECK_INT(t, 0);
	CHECK_INT(tz_day_start(2008, 10, 19, &t), TZ_OK);
	CHECK_STR(fmt_iso(t), "2008-10-19T01:00:00-02:00");
	/* The overlap: 23:00 to midnight on 2009-03-14 happened twice. */
	CHECK_INT(tz_from_local(2009, 3, 14, 23, 30, 0, &t), TZ_OK);
	CHECK_STR(fmt_iso(t), "2009-03-14T23:30:00-02:00");
	CHECK_INT(iso("2009-03-14T23:30:00-03:00") - t, 3600);
}

/*
 * zdump -v Europe/Madrid: 2026-03-29 01:59:59 CET is followed by 03:00:00
 * CEST; 2026-10-25 02:59:59 CEST by 02:00:00 CET.
 */
TEST(madrid_gap_and_overlap)
{
	int64_t t = 42;
	int had = 7;

	CHECK_INT(tz_set(MADRID), 0);
	CHECK_INT(tz_from_local(2026, 3, 29, 2, 30, 0, &t), TZ_NONEXISTENT);
	CHECK_INT(tz_from_local(2026, 3, 29, 2, 0, 0, &t), TZ_NONEXISTENT);
	CHECK_INT(tz_from_local(2026, 3, 29, 2, 59, 59, &t), TZ_NONEXISTENT);
	CHECK_INT(tz_parse_iso("2026-03-29T02:30:00", &t, &had),
	          TZ_NONEXISTENT);
	CHECK_INT(t, 42);
	CHECK_INT(had, 7);
	/* Either side of the gap, one second apart. */
	CHECK_INT(tz_from_local(2026, 3, 29, 1, 59, 59, &t), TZ_OK);
	CHECK_INT(t, INT64_C(1774745999));
	CHECK_STR(fmt_iso(t), "2026-03-29T01:59:59+01:00");
	CHECK_INT(tz_from_local(2026, 3, 29, 3, 0, 0, &t), TZ_OK);
	CHECK_INT(t, INT64_C(1774746000));
	CHECK_STR(fmt_iso(t), "2026-03-29T03:00:00+02:00");
	/* With an explicit offset the wall time needs no zone. */
	CHECK_INT(tz_parse_iso("2026-03-29T02:30:00+01:00", &t, &had), TZ_OK);
	CHECK_INT(had, 1);
	CHECK_STR(fmt_iso(t), "2026-03-29T03:30:00+02:00");
	/* The overlap: 02:30 happened at +02:00 and again at +01:00. */
	CHECK_INT(tz_from_local(2026, 10, 25, 2, 30, 0, &t), TZ_OK);
	CHECK_INT(t, INT64_C(1792888200));
	CHECK_STR(fmt_iso(t), "2026-10-25T02:30:00+02:00");
	CHECK_STR(fmt_iso(t + 3600), "2026-10-25T02:30:00+01:00");
	CHECK_INT(iso("2026-10-25T02:30:00"), INT64_C(1792888200));
	/* Offsets either side of each change. */
	CHECK_INT(offset_at(iso("2026-03-28T12:00Z")), 3600);
	CHECK_INT(offset_at(iso("2026-03-30T12:00Z")), 7200);
	CHECK_INT(offset_at(iso("2026-10-24T12:00Z")), 7200);
	CHECK_INT(offset_at(iso("2026-10-26T12:00Z")), 3600);
}

/*
 * zdump -v Europe/Moscow: 2014-10-26 01:59:59 MSK (+04) is followed by
 * 01:00:00 MSK (+03), isdst=0 on both sides: an overlap that the isdst
 * flag does not describe, where the earlier reading must still win.
 */
TEST(overlap_without_daylight_saving)
{
	int64_t t;

	CHECK_INT(tz_set("Europe/Moscow"), 0);
	CHECK_INT(tz_from_local(2014, 10, 26, 1, 30, 0, &t), TZ_OK);
	CHECK_INT(t, iso("2014-10-25T21:30:00Z"));
	CHECK_STR(fmt_iso(t), "2014-10-26T01:30:00+04:00");
	CHECK_STR(fmt_iso(t + 3600), "2014-10-26T01:30:00+03:00");
}

/*
 * zdump -v America/Sao_Paulo: 2018-11-03 23:59:59 -03 is followed by
 * 2018-11-04 01:00:00 -02; DST ended 2019-02-16 23:59:59 -02 and Brazil
 * has kept -03 since.
 */
TEST(sao_paulo_day_start_and_2019)
{
	int64_t t;

	CHECK_INT(tz_set(SP), 0);
	CHECK_INT(tz_day_start(2018, 11, 4, &t), TZ_OK);
	CHECK_INT(t, INT64_C(1541300400));
	CHECK_STR(fmt_iso(t), "2018-11-04T01:00:00-02:00");
	CHECK_STR(fmt_iso(t - 1), "2018-11-03T23:59:59-03:00");
	CHECK_INT(tz_from_local(2018, 11, 4, 0, 30, 0, &t), TZ_NONEXISTENT);
	CHECK_INT(tz_day_start(2018, 11, 3, &t), TZ_OK);
	CHECK_STR(fmt_iso(t), "2018-11-03T00:00:00-03:00");
	CHECK_INT(tz_day_start(2018, 11, 5, &t), TZ_OK);
	CHECK_STR(fmt_iso(t), "2018-11-05T00:00:00-02:00");
	CHECK_INT(offset_at(iso("2019-02-16T12:00Z")), -2 * 3600);
	for (int m = 3; m <= 12; m++) {
		for (int d = 1; d <= 28; d++) {
			CHECK_INT(tz_day_start(2019, m, d, &t), TZ_OK);
			CHECK_INT(offset_at(t), -3 * 3600);
			CHECK_INT(offset_at(t + 43200), -3 * 3600);
		}
	}
}

/* Samoa skipped 2011-12-30 entirely, from -10 to +14. */
TEST(day_skipped_entirely)
{
	int64_t t = 5;

	CHECK_INT(tz_set("Pacific/Apia"), 0);
	CHECK_INT(tz_day_start(2011, 12, 30, &t), TZ_NONEXISTENT);
	CHECK_INT(t, 5);
	CHECK_INT(tz_day_start(2011, 12, 31, &t), TZ_OK);
	CHECK_INT(t, INT64_C(1325239200));
	CHECK_STR(fmt_iso(t), "2011-12-31T00:00:00+14:00");
	CHECK_INT(tz_day_start(2011, 12, 29, &t), TZ_OK);
	CHECK_STR(fmt_iso(t), "2011-12-29T00:00:00-10:00");
}

/*
 * zdump -v America/Argentina/Buenos_Aires: local mean time -3:53:48 until
 * 1894; on 1920-05-01 clocks went from 00:00 CMT (-4:16:48) to 00:16:48
 * -04.
 */
TEST(historical_offsets)
{
	int64_t t;
	struct tz_local l;

	CHECK_INT(tz_set(BA), 0);
	CHECK_INT(tz_day_start(1920, 5, 1, &t), TZ_OK);
	CHECK_INT(t, INT64_C(-1567453392));
	CHECK_INT(tz_to_local(t, &l), 0);
	CHECK_INT(l.hour, 0);
	CHECK_INT(l.minute, 16);
	CHECK_INT(l.second, 48);
	CHECK_INT(l.offset, -4 * 3600);
	/* 1890-06-01T12:00:00Z at -3:53:48 is 08:06:12, offset rounded. */
	CHECK_INT(tz_to_local(INT64_C(-2511432000), &l), 0);
	CHECK_INT(l.offset, -(3 * 3600 + 53 * 60 + 48));
	CHECK_STR(fmt_iso(INT64_C(-2511432000)), "1890-06-01T08:06:12-03:54");
}

TEST(parse_offset_forms)
{
	static const char *const same[] = {
	        "2026-12-01T18:00:00Z",        "2026-12-01T18:00:00z",
	        "2026-12-01t18:00:00Z",        "2026-12-01t18:00:00z",
	        "2026-12-01T18:00Z",           "2026-12-01T18:00:00+00:00",
	        "2026-12-01T18:00:00-00:00",   "2026-12-01T18:00:00+0000",
	        "2026-12-01T18:00:00+00",      "2026-12-01T15:00:00-03:00",
	        "2026-12-01T15:00:00-0300",    "2026-12-01T15:00:00-03",
	        "2026-12-01T15:00-03:00",      "2026-12-01T23:30:00+05:30",
	        "2026-12-01T23:30+0530",       "2026-12-02T07:45:00+13:45",
	        "2026-12-01T18:00:00.0Z",      "2026-12-01T18:00:00.999999999Z",
	        "2026-12-01T15:00:00.5-03:00",
	};
	int64_t t;
	int had = 7;

	CHECK_INT(tz_set(MADRID), 0);
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		had = 7;
		if (tz_parse_iso(same[i], &t, &had) != TZ_OK)
			CHECK_FAIL_("refused \"%s\"", same[i]);
		if (t != DEC1_18Z || had != 1)
			CHECK_FAIL_("\"%s\" gave %lld, had_offset %d", same[i],
			            (long long)t, had);
	}
	/* Without an offset: the wall time in the configured zone. */
	CHECK_INT(tz_parse_iso("2026-12-01T19:00:00", &t, &had), TZ_OK);
	CHECK_INT(had, 0);
	CHECK_INT(t, DEC1_18Z);
	CHECK_INT(tz_parse_iso("2026-12-01t19:00", &t, NULL), TZ_OK);
	CHECK_INT(t, DEC1_18Z);
	CHECK_INT(tz_set(BA), 0);
	CHECK_INT(tz_parse_iso("2026-12-01T15:00:00.250", &t, &had), TZ_OK);
	CHECK_INT(had, 0);
	CHECK_INT(t, DEC1_18Z);
	/* A fraction never rounds up into the next second. */
	CHECK_INT(iso("1999-12-31T23:59:59.999999999Z"),
	          iso("2000-01-01T00:00:00Z") - 1);
	CHECK_INT(iso("1970-01-01T00:00:00Z"), 0);
	CHECK_INT(iso("1969-12-31T23:59:59Z"), -1);
	CHECK_INT(iso("1900-01-01T00:00:00Z"), INT64_C(-2208988800));
	CHECK_INT(iso("9999-12-31T23:59:59Z"), INT64_C(253402300799));
}

TEST(leap_days)
{
	int y, m, d;
	int64_t t;

	CHECK_INT(tz_parse_date("2028-02-29", &y, &m, &d), TZ_OK);
	CHECK_INT(y * 10000 + m * 100 + d, 20280229);
	CHECK_INT(tz_parse_date("2027-02-29", &y, &m, &d), TZ_OUT_OF_RANGE);
	CHECK_INT(tz_parse_date("2000-02-29", &y, &m, &d), TZ_OK);
	CHECK_INT(tz_parse_date("2100-02-29", &y, &m, &d), TZ_OUT_OF_RANGE);
	CHECK_INT(tz_parse_date("1900-02-29", &y, &m, &d), TZ_OUT_OF_RANGE);
	CHECK_INT(tz_parse_date("2400-02-29", &y, &m, &d), TZ_OK);
	CHECK_INT(tz_parse_date("2027-02-28", &y, &m, &d), TZ_OK);
	CHECK_INT(tz_parse_iso("2028-02-29T12:00:00Z", &t, NULL), TZ_OK);
	CHECK_INT(t, iso("2028-03-01T12:00:00Z") - 86400);
	CHECK_INT(tz_parse_iso("2027-02-29T12:00:00Z", &t, NULL),
	          TZ_OUT_OF_RANGE);
	CHECK_INT(tz_parse_iso("2000-02-29T12:00:00Z", &t, NULL), TZ_OK);
	CHECK_INT(tz_parse_iso("2100-02-29T12:00:00Z", &t, NULL),
	          TZ_OUT_OF_RANGE);
	CHECK_INT(tz_parse_iso("1900-02-29T12:00:00Z", &t, NULL),
	          TZ_OUT_OF_RANGE);
	CHECK_INT(tz_from_local(2027, 2, 29, 12, 0, 0, &t), TZ_OUT_OF_RANGE);
	CHECK_INT(tz_from_local(2026, 4, 31, 12, 0, 0, &t), TZ_OUT_OF_RANGE);
	CHECK_INT(tz_from_local(2026, 12, 31, 23, 59, 59, &t), TZ_OK);
}

TEST(parse_refuses_malformed)
{
	static const struct {
		const char *s;
		enum tz_result want;
	} cases[] = {
	        {"2026-1-01T00:00:00Z", TZ_MALFORMED},
	        {"2026-01-1T00:00:00Z", TZ_MALFORMED},
	        {"26-01-01T00:00:00Z", TZ_MALFORMED},
	        {"02026-01-01T00:00:00Z", TZ_MALFORMED},
	        {"2026-01-01 00:00:00Z", TZ_MALFORMED},
	        {"2026-01-01T0:00:00Z", TZ_MALFORMED},
	        {"2026-01-01T00:0:00Z", TZ_MALFORMED},
	        {"2026-01-01T00:00:0Z", TZ_MALFORMED},
	        {"2026-01-01T24:00:00Z", TZ_OUT_OF_RANGE},
	        {"2026-01-01T23:60Z", TZ_OUT_OF_RANGE},
	        {"2026-01-01T00:00:60Z", TZ_OUT_OF_RANGE},
	        {"2026-12-31T23:59:60Z", TZ_OUT_OF_RANGE},
	        {"2026-13-01T00:00Z", TZ_OUT_OF_RANGE},
	        {"2026-00-01T00:00Z", TZ_OUT_OF_RANGE},
	        {"2026-01-00T00:00Z", TZ_OUT_OF_RANGE},
	        {"2026-01-32T00:00Z", TZ_OUT_OF_RANGE},
	        {"2026-04-31T00:00Z", TZ_OUT_OF_RANGE},
	        {"1899-12-31T23:59:59Z", TZ_OUT_OF_RANGE},
	        {"0000-01-01T00:00:00Z", TZ_OUT_OF_RANGE},
	        {"2026-01-01T00:00:00+24:00", TZ_OUT_OF_RANGE},
	        {"2026-01-01T00:00:00+05:60", TZ_OUT_OF_RANGE},
	        {"2026-01-01T00:00:00-99", TZ_OUT_OF_RANGE},
	        {"2026-01-01T00:00:00Zjunk", TZ_MALFORMED},
	        {"2026-01-01T00:00:00Z ", TZ_MALFORMED},
	        {"2026-01-01T00:00:00Z\n", TZ_MALFORMED},
	        {"2026-01-01T00:00:00 ", TZ_MALFORMED},
	        {"2026-01-01T00:00:00ZZ", TZ_MALFORMED},
	        {"2026-01-01T00:00:00+03:00:00", TZ_MALFORMED},
	        {"2026-01-01T00:00:00+03:00Z", TZ_MALFORMED},
	        {"2026-01-01T00:00:00+3", TZ_MALFORMED},
	        {"2026-01-01T00:00:00+03:0", TZ_MALFORMED},
	        {"2026-01-01T00:00:00+030", TZ_MALFORMED},
	        {"2026-01-01T00:00:00+03:", TZ_MALFORMED},
	        {"2026-01-01T00:00:00+", TZ_MALFORMED},
	        {"2026-01-01T00:00:00 +03:00", TZ_MALFORMED},
	        {"2026-01-01T00:00:00.", TZ_MALFORMED},
	        {"2026-01-01T00:00:00.Z", TZ_MALFORMED},
	        {"2026-01-01T00:00:00.1234567890Z", TZ_MALFORMED},
	        {"2026-01-01T00:00:00,5Z", TZ_MALFORMED},
	        {"2026-01-01T00:00.5Z", TZ_MALFORMED},
	        {"+2026-01-01T00:00:00Z", TZ_MALFORMED},
	        {"-2026-01-01T00:00:00Z", TZ_MALFORMED},
	        {" 2026-01-01T00:00:00Z", TZ_MALFORMED},
	        {"2026-+1-01T00:00:00Z", TZ_MALFORMED},
	        {"2026-01-01T-1:00:00Z", TZ_MALFORMED},
	        {"2026-01-01T 1:00:00Z", TZ_MALFORMED},
	        {"2026/01/01T00:00:00Z", TZ_MALFORMED},
	        {"20260101T000000Z", TZ_MALFORMED},
	        {"2026-01-01", TZ_MALFORMED},
	        {"2026-01-01T", TZ_MALFORMED},
	        {"2026-01-01T00", TZ_MALFORMED},
	        {"2026-01-01T00:", TZ_MALFORMED},
	        {"2026-01-01T00:00:", TZ_MALFORMED},
	        {"2026-01-01X00:00:00Z", TZ_MALFORMED},
	        {"\xef\xbc\x92"
	         "026-01-01T00:00:00Z",
	         TZ_MALFORMED},
	        {"", TZ_MALFORMED},
	};
	int64_t t = 42;
	int had = 7;

	CHECK_INT(tz_set(BA), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum tz_result rc = tz_parse_iso(cases[i].s, &t, &had);

		if (rc != cases[i].want)
			CHECK_FAIL_("\"%s\" gave %d, expected %d", cases[i].s,
			            (int)rc, (int)cases[i].want);
	}
	CHECK_INT(tz_parse_iso(NULL, &t, &had), TZ_MALFORMED);
	CHECK_INT(t, 42);
	CHECK_INT(had, 7);
}

TEST(parse_stops_at_nul)
{
	static const char cut_date[] = "2026-01-0\0"
	                               "1T00:00:00Z";
	static const char cut_offset[] = "2026-01-01T00:00:00\0Z";
	static const char full[] = "2026-01-01T00:00:00.123+05:30";
	int64_t t;
	int had = 7;

	CHECK_INT(tz_set(BA), 0);
	CHECK_INT(tz_parse_iso(cut_date, &t, &had), TZ_MALFORMED);
	/* What precedes the NUL is a valid time without an offset. */
	CHECK_INT(tz_parse_iso(cut_offset, &t, &had), TZ_OK);
	CHECK_INT(had, 0);
	CHECK_INT(t, iso("2026-01-01T03:00:00Z"));
	/*
	 * Every prefix, in a buffer of exactly its size (AddressSanitizer
	 * reports any read past the NUL), parses or is malformed.
	 */
	for (size_t n = 0; n <= strlen(full); n++) {
		char *p = malloc(n + 1);
		enum tz_result rc;

		CHECK(p != NULL);
		memcpy(p, full, n);
		p[n] = '\0';
		rc = tz_parse_iso(p, &t, &had);
		free(p);
		if (rc != TZ_OK && rc != TZ_MALFORMED)
			CHECK_FAIL_("prefix %zu gave %d", n, (int)rc);
		if ((n == 16 || n == 19 || (n >= 21 && n <= 23) || n == 26 ||
		     n == 29) != (rc == TZ_OK))
			CHECK_FAIL_("prefix %zu gave %d", n, (int)rc);
	}
}

/* format -> parse gives the instant back, every ~2.2 hours for a year. */
TEST(round_trip_three_zones)
{
	static const struct {
		const char *zone;
		int64_t from; /* 1 January of a year with changes */
	} zones[] = {
	        {BA, INT64_C(1199145600)},     /* 2008 */
	        {MADRID, INT64_C(1767225600)}, /* 2026 */
	        {SP, INT64_C(1514764800)},     /* 2018 */
	        {"UTC", INT64_C(1767225600)},
	};

	for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
		CHECK_INT(tz_set(zones[z].zone), 0);
		for (int64_t t = zones[z].from; t < zones[z].from + 366 * 86400;
		     t += 7919) {
			char buf[TZ_ISO_MAX];
			struct tz_local l;
			int64_t back = 0, wall = 0;
			int had = 0;

			CHECK_INT(tz_format_iso(t, buf, sizeof(buf)), 0);
			CHECK_INT(tz_parse_iso(buf, &back, &had), TZ_OK);
			if (back != t || had != 1)
				CHECK_FAIL_("%s: %lld -> %s -> %lld",
				            zones[z].zone, (long long)t, buf,
				            (long long)back);
			/* Wall time back to an instant: t, or the earlier of
			 * two readings of the same wall time. */
			CHECK_INT(tz_to_local(t, &l), 0);
			CHECK_INT(tz_from_local(l.year, l.month, l.day, l.hour,
			                        l.minute, l.second, &wall),
			          TZ_OK);
			if (wall != t && !(wall < t && t - wall <= 3600))
				CHECK_FAIL_("%s: %s -> wall %lld",
				            zones[z].zone, buf,
				            (long long)wall);
		}
	}
}

TEST(format_utc_and_db)
{
	char buf[TZ_ISO_MAX], small[25];
	int64_t t = 42;

	CHECK_INT(tz_set(MADRID), 0);
	CHECK_INT(tz_format_utc(DEC1_18Z, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "2026-12-01T18:00:00Z");
	CHECK_INT(tz_format_utc(0, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "1970-01-01T00:00:00Z");
	CHECK_INT(tz_format_db(DEC1_18Z, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "2026-12-01 18:00:00");
	CHECK_INT(tz_parse_db("2026-12-01 18:00:00", &t), TZ_OK);
	CHECK_INT(t, DEC1_18Z);
	CHECK_INT(tz_parse_db("1970-01-01 00:00:00", &t), TZ_OK);
	CHECK_INT(t, 0);
	/* The zone plays no part. */
	CHECK_INT(tz_set(BA), 0);
	CHECK_INT(tz_parse_db("2026-12-01 18:00:00", &t), TZ_OK);
	CHECK_INT(t, DEC1_18Z);
	CHECK_INT(tz_format_utc(DEC1_18Z, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "2026-12-01T18:00:00Z");
	/* In UTC, an ISO string carries +00:00, not Z. */
	CHECK_INT(tz_set("UTC"), 0);
	CHECK_STR(fmt_iso(DEC1_18Z), "2026-12-01T18:00:00+00:00");
	/* Strict DATETIME. */
	t = 42;
	CHECK_INT(tz_parse_db("2026-12-01T18:00:00", &t), TZ_MALFORMED);
	CHECK_INT(tz_parse_db("2026-12-01 18:00", &t), TZ_MALFORMED);
	CHECK_INT(tz_parse_db("2026-12-01 18:00:00Z", &t), TZ_MALFORMED);
	CHECK_INT(tz_parse_db("2026-12-01 18:00:00.000000", &t), TZ_MALFORMED);
	CHECK_INT(tz_parse_db("2026-12-01  18:00:00", &t), TZ_MALFORMED);
	CHECK_INT(tz_parse_db("0000-00-00 00:00:00", &t), TZ_OUT_OF_RANGE);
	CHECK_INT(tz_parse_db("2026-02-30 00:00:00", &t), TZ_OUT_OF_RANGE);
	CHECK_INT(tz_parse_db("2026-12-01 18:00:60", &t), TZ_OUT_OF_RANGE);
	CHECK_INT(tz_parse_db("", &t), TZ_MALFORMED);
	CHECK_INT(tz_parse_db(NULL, &t), TZ_MALFORMED);
	CHECK_INT(t, 42);
	/* Buffers too small: refused, untouched. */
	memcpy(small, "untouched", 10);
	CHECK_INT(tz_format_iso(DEC1_18Z, small, 25), -1);
	CHECK_INT(tz_format_utc(DEC1_18Z, small, 20), -1);
	CHECK_INT(tz_format_db(DEC1_18Z, small, 19), -1);
	CHECK_INT(tz_format_date(DEC1_18Z, small, 10), -1);
	CHECK_STR(small, "untouched");
	CHECK_INT(tz_format_iso(DEC1_18Z, buf, 26), 0);
	CHECK_INT(tz_format_utc(DEC1_18Z, buf, 21), 0);
	CHECK_INT(tz_format_db(DEC1_18Z, buf, 20), 0);
	CHECK_INT(tz_format_date(DEC1_18Z, buf, 11), 0);
	/* Years past 9999 are not written. */
	CHECK_INT(tz_format_utc(INT64_C(253402300800), buf, sizeof(buf)), -1);
	CHECK_INT(tz_format_utc(INT64_C(253402300799), buf, sizeof(buf)), 0);
	CHECK_STR(buf, "9999-12-31T23:59:59Z");
}

TEST(dates)
{
	char buf[TZ_ISO_MAX];
	int y = 1, m = 2, d = 3;

	CHECK_INT(tz_set(BA), 0);
	/* 01:00Z on 2 December is still 1 December in Buenos Aires. */
	CHECK_INT(tz_format_date(iso("2026-12-02T01:00:00Z"), buf, sizeof(buf)),
	          0);
	CHECK_STR(buf, "2026-12-01");
	CHECK_INT(tz_format_date(iso("2026-12-02T03:00:00Z"), buf, sizeof(buf)),
	          0);
	CHECK_STR(buf, "2026-12-02");
	CHECK_INT(tz_parse_date("2026-12-01", &y, &m, &d), TZ_OK);
	CHECK_INT(y, 2026);
	CHECK_INT(m, 12);
	CHECK_INT(d, 1);
	y = 1;
	m = 2;
	d = 3;
	CHECK_INT(tz_parse_date("2026-12-1", &y, &m, &d), TZ_MALFORMED);
	CHECK_INT(tz_parse_date("2026-12-01T", &y, &m, &d), TZ_MALFORMED);
	CHECK_INT(tz_parse_date("2026-12-01 ", &y, &m, &d), TZ_MALFORMED);
	CHECK_INT(tz_parse_date(" 2026-12-01", &y, &m, &d), TZ_MALFORMED);
	CHECK_INT(tz_parse_date("2026/12/01", &y, &m, &d), TZ_MALFORMED);
	CHECK_INT(tz_parse_date("20261201", &y, &m, &d), TZ_MALFORMED);
	CHECK_INT(tz_parse_date("+2026-12-01", &y, &m, &d), TZ_MALFORMED);
	CHECK_INT(tz_parse_date("", &y, &m, &d), TZ_MALFORMED);
	CHECK_INT(tz_parse_date(NULL, &y, &m, &d), TZ_MALFORMED);
	CHECK_INT(tz_parse_date("2026-12-32", &y, &m, &d), TZ_OUT_OF_RANGE);
	CHECK_INT(tz_parse_date("1899-12-31", &y, &m, &d), TZ_OUT_OF_RANGE);
	CHECK_INT(y * 10000 + m * 100 + d, 10203);
}

TEST(to_local_weekday)
{
	struct tz_local l;
	int64_t t;

	CHECK_INT(tz_set(MADRID), 0);
	CHECK_INT(tz_to_local(iso("2026-03-29T12:00:00Z"), &l), 0);
	CHECK_INT(l.wday, 0); /* Sunday, as the last Sunday of March is */
	CHECK_INT(l.offset, 7200);
	CHECK_INT(tz_to_local(iso("2000-01-01T12:00:00Z"), &l), 0);
	CHECK_INT(l.wday, 6); /* Saturday */
	CHECK_INT(tz_set(BA), 0);
	/* 01:00Z on Wednesday 2 December is Tuesday 22:00 in Buenos Aires. */
	CHECK_INT(tz_to_local(iso("2026-12-02T01:00:00Z"), &l), 0);
	CHECK_INT(l.year, 2026);
	CHECK_INT(l.month, 12);
	CHECK_INT(l.day, 1);
	CHECK_INT(l.hour, 22);
	CHECK_INT(l.minute, 0);
	CHECK_INT(l.second, 0);
	CHECK_INT(l.wday, 2);
	CHECK_INT(l.offset, -10800);
	CHECK_INT(tz_from_local(2026, 12, 1, 22, 0, 0, &t), TZ_OK);
	CHECK_INT(t, iso("2026-12-02T01:00:00Z"));
	/* A week of weekdays in a row. */
	for (int i = 0; i < 7; i++) {
		CHECK_INT(tz_to_local(DEC1_18Z + i * 86400, &l), 0);
		CHECK_INT(l.wday, (2 + i) % 7);
	}
}

TEST(now)
{
	int64_t a = tz_now(), b = (int64_t)time(NULL);

	CHECK(a > INT64_C(1767225600)); /* after 2026-01-01 */
	CHECK(b - a >= 0 && b - a <= 2);
}

/*
 * tz_from_local keeps its answers: asked again, the same answer (a gap
 * stays a gap, *out untouched); asked after the zone changed, the new
 * zone's answer, never the kept one. 2026-03-29 02:30 is in Madrid's gap
 * and an ordinary 02:30 (-03:00) in Buenos Aires.
 */
TEST(kept_answers_follow_the_zone)
{
	int64_t t = 42, u = 0;

	CHECK_INT(tz_set(MADRID), 0);
	for (int i = 0; i < 2; i++) {
		CHECK_INT(tz_from_local(2026, 3, 29, 2, 30, 0, &t),
		          TZ_NONEXISTENT);
		CHECK_INT(t, 42);
		CHECK_INT(tz_from_local(2026, 10, 25, 2, 30, 0, &u), TZ_OK);
		CHECK_STR(fmt_iso(u), "2026-10-25T02:30:00+02:00");
	}
	CHECK_INT(tz_set(BA), 0);
	CHECK_INT(tz_from_local(2026, 3, 29, 2, 30, 0, &t), TZ_OK);
	CHECK_STR(fmt_iso(t), "2026-03-29T02:30:00-03:00");
	CHECK_INT(tz_from_local(2026, 10, 25, 2, 30, 0, &u), TZ_OK);
	CHECK_STR(fmt_iso(u), "2026-10-25T02:30:00-03:00");
	/* Many wall times, more than are kept: each still right. */
	for (int d = 1; d <= 28; d++)
		for (int m = 0; m < 1440; m += 30) {
			CHECK_INT(tz_from_local(2027, 2, d, m / 60, m % 60, 0,
			                        &t),
			          TZ_OK);
			/* 2027-02-01T00:00:00-03:00, then days and minutes */
			CHECK_INT(t, INT64_C(1801450800) + (d - 1) * 86400 +
			                     m * 60);
		}
}

int main(void)
{
	RUN(default_zone_is_buenos_aires);
	RUN(zone_names_accepted);
	RUN(zone_names_refused);
	RUN(zone_files_checked);
	RUN(buenos_aires_now);
	RUN(buenos_aires_daylight_saving_2007_2009);
	RUN(madrid_gap_and_overlap);
	RUN(overlap_without_daylight_saving);
	RUN(sao_paulo_day_start_and_2019);
	RUN(day_skipped_entirely);
	RUN(historical_offsets);
	RUN(parse_offset_forms);
	RUN(leap_days);
	RUN(parse_refuses_malformed);
	RUN(parse_stops_at_nul);
	RUN(round_trip_three_zones);
	RUN(format_utc_and_db);
	RUN(dates);
	RUN(to_local_weekday);
	RUN(now);
	RUN(kept_answers_follow_the_zone);
	return CHECK_DONE();
}
