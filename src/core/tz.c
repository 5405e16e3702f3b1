/*
 * tz.c - instants, the configured IANA zone and ISO 8601 / RFC 3339 text,
 * through the system's tzdata (TZ, tzset, localtime_r, mktime). See tz.h.
 */
#include "core/tz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

_Static_assert(sizeof(time_t) >= sizeof(int64_t),
               "instants are int64_t: a 64-bit time_t is required");

#define TZ_DIR_DEFAULT "/usr/share/zoneinfo"
#define DAY            86400
#define ZONE_PATH_MAX  4096 /* longest $TZDIR/zone path tz_set opens */

/* The process's zone; empty until the first tz_set or use of local time. */
static char zone_name[TZ_NAME_MAX + 1];

/*
 * tz_from_local's answers, kept: the slots of a day ask the same wall times
 * request after request, and each answer costs two mktime calls (a search
 * of a dozen or more conversions each) and a few more. Direct-mapped by
 * the wall time read as UTC; emptied when the zone changes.
 */
#define FROM_LOCAL_KEPT 256
static struct from_local_kept {
	int64_t wall; /* civil_seconds() of the wall time */
	int64_t t;
	enum tz_result rc; /* TZ_OK or TZ_NONEXISTENT */
	int used;
} from_local_kept[FROM_LOCAL_KEPT];

static void from_local_forget(void)
{
	memset(from_local_kept, 0, sizeof(from_local_kept));
}

static struct from_local_kept *from_local_slot(int64_t wall)
{
	uint64_t h = (uint64_t)wall * 0x9E3779B97F4A7C15ull;

	return &from_local_kept[h >> 56];
}

static int is_leap(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int days_in_month(int year, int month)
{
	static const int days[] = {31, 28, 31, 30, 31, 30,
	                           31, 31, 30, 31, 30, 31};

	return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

/* 1 when the date is one of the proleptic Gregorian calendar in our range. */
static int date_valid(int year, int month, int day)
{
	return year >= TZ_YEAR_MIN && year <= TZ_YEAR_MAX && month >= 1 &&
	       month <= 12 && day >= 1 && day <= days_in_month(year, month);
}

static int time_valid(int hour, int minute, int second)
{
	return hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59 &&
	       second >= 0 && second <= 59;
}

/*
 * Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's
 * days_from_civil); exact for every year we accept.
 */
static int64_t days_from_civil(int year, int month, int day)
{
	int64_t y = year - (month <= 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy =
	        (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

/* The wall time read as if it were UTC: seconds since the epoch. */
static int64_t civil_seconds(int year, int month, int day, int hour, int minute,
                             int second)
{
	return days_from_civil(year, month, day) * DAY + hour * 3600 +
	       minute * 60 + second;
}

/* 1 when name is acceptable to tz_set before looking at the disk. */
static int zone_name_ok(const char *name)
{
	size_t len, i;

	if (name == NULL)
		return 0;
	len = strnlen(name, TZ_NAME_MAX + 1);
	if (len == 0 || len > TZ_NAME_MAX || name[0] == '/' ||
	    name[len - 1] == '/' || strstr(name, "//") != NULL)
		return 0;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '+' ||
		      c == '-' || c == '/'))
			return 0;
	}
	/* '.' is already refused; the check stays for whoever widens it. */
	if (strstr(name, "..") != NULL || strncmp(name, "right/", 6) == 0)
		return 0;
	return 1;
}

/* 0 when the file at path is a regular file starting "TZif" (RFC 8536). */
static int zone_file_ok(const char *path)
{
	unsigned char magic[4];
	struct stat st;
	size_t got = 0;
	int fd, rc = -1;

	/* O_NONBLOCK: a FIFO planted in the directory cannot hang us. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		goto out;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		goto out;
	while (got < sizeof(magic)) {
		ssize_t n = read(fd, magic + got, sizeof(magic) - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		got += (size_t)n;
	}
	if (memcmp(magic, "TZif", 4) != 0)
		goto out;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

int tz_set(const char *zone)
{
	char path[ZONE_PATH_MAX], value[TZ_NAME_MAX + 2];
	const char *dir;
	int n;

	if (!zone_name_ok(zone))
		return -1;
	dir = getenv("TZDIR");
	if (dir == NULL || dir[0] == '\0')
		dir = TZ_DIR_DEFAULT;
	n = snprintf(path, sizeof(path), "%s/%s", dir, zone);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -1;
	if (zone_file_ok(path) != 0)
		return -1;
	/* POSIX: a TZ starting with ':' names a zone file, not a rule. */
	n = snprintf(value, sizeof(value), ":%s", zone);
	if (n < 0 || (size_t)n >= sizeof(value))
		return -1;
	if (setenv("TZ", value, 1) != 0)
		return -1;
	tzset();
	memcpy(zone_name, zone, strlen(zone) + 1);
	from_local_forget();
	return 0;
}

/* Applies the default zone, or UTC, when no zone has been set yet. */
static void zone_init(void)
{
	if (zone_name[0] != '\0')
		return;
	if (tz_set(TZ_DEFAULT_ZONE) == 0)
		return;
	/* The default zone is not installed: UTC, and tz_name says so. */
	if (setenv("TZ", "UTC0", 1) != 0)
		return; /* out of memory; the next use tries again */
	tzset();
	memcpy(zone_name, "UTC", sizeof("UTC"));
	from_local_forget();
}

const char *tz_name(void)
{
	zone_init();
	return zone_name;
}

/* localtime_r on an int64_t; 0, or -1 when the year does not fit. */
static int local_tm(int64_t t, struct tm *tm)
{
	time_t tt = (time_t)t;

	zone_init();
	return localtime_r(&tt, tm) != NULL ? 0 : -1;
}

static int utc_tm(int64_t t, struct tm *tm)
{
	time_t tt = (time_t)t;

	return gmtime_r(&tt, tm) != NULL ? 0 : -1;
}

int tz_to_local(int64_t t, struct tz_local *out)
{
	struct tm tm;

	if (out == NULL || local_tm(t, &tm) != 0)
		return -1;
	out->year = tm.tm_year + 1900;
	out->month = tm.tm_mon + 1;
	out->day = tm.tm_mday;
	out->hour = tm.tm_hour;
	out->minute = tm.tm_min;
	out->second = tm.tm_sec;
	out->wday = tm.tm_wday;
	out->offset = (int)tm.tm_gmtoff;
	return 0;
}

/* 1 when the zone's clocks read exactly this wall time at instant t. */
static int local_reads(int64_t t, int year, int month, int day, int hour,
                       int minute, int second)
{
	struct tm tm;

	return local_tm(t, &tm) == 0 && tm.tm_year + 1900 == year &&
	       tm.tm_mon + 1 == month && tm.tm_mday == day &&
	       tm.tm_hour == hour && tm.tm_min == minute && tm.tm_sec == second;
}

/* The offset (seconds east of UTC) in force at t, or 0 if unknown. */
static int64_t offset_at(int64_t t)
{
	struct tm tm;

	return local_tm(t, &tm) == 0 ? tm.tm_gmtoff : 0;
}

enum tz_result tz_from_local(int year, int month, int day, int hour, int minute,
                             int second, int64_t *out)
{
	int64_t cand[5], best = 0, base;
	int ncand = 0, found = 0;
	struct from_local_kept *kept;

	if (out == NULL || !date_valid(year, month, day) ||
	    !time_valid(hour, minute, second))
		return TZ_OUT_OF_RANGE;
	zone_init();
	base = civil_seconds(year, month, day, hour, minute, second);
	kept = from_local_slot(base);
	if (kept->used && kept->wall == base) {
		if (kept->rc == TZ_OK)
			*out = kept->t;
		return kept->rc;
	}
	/*
	 * Candidates: what mktime makes of the wall time as standard time and
	 * as daylight-saving time, and the wall time less each offset in force
	 * a day either side of it (which also covers changes of standard
	 * offset, where both sides have the same isdst). Only candidates at
	 * which the clocks really read that wall time count: none means a gap,
	 * two mean an overlap, and the earlier wins.
	 */
	for (int isdst = 0; isdst <= 1; isdst++) {
		struct tm tm = {0};

		tm.tm_year = year - 1900;
		tm.tm_mon = month - 1;
		tm.tm_mday = day;
		tm.tm_hour = hour;
		tm.tm_min = minute;
		tm.tm_sec = second;
		tm.tm_isdst = isdst;
		/* (time_t)-1 may be a real instant; the round trip decides. */
		cand[ncand++] = (int64_t)mktime(&tm);
	}
	cand[ncand++] = base - offset_at(base - DAY);
	cand[ncand++] = base - offset_at(base);
	cand[ncand++] = base - offset_at(base + DAY);
	for (int i = 0; i < ncand; i++) {
		if (!local_reads(cand[i], year, month, day, hour, minute,
		                 second))
			continue;
		if (!found || cand[i] < best)
			best = cand[i];
		found = 1;
	}
	kept->wall = base;
	kept->t = best;
	kept->rc = found ? TZ_OK : TZ_NONEXISTENT;
	kept->used = 1;
	if (!found)
		return TZ_NONEXISTENT;
	*out = best;
	return TZ_OK;
}

/*
 * Exactly n ASCII digits at *p into *val, advancing *p. Stops at the first
 * non-digit, so it never reads past a NUL. 0, or -1.
 */
static int take_digits(const char **p, int n, int *val)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*val = v;
	return 0;
}

/* The character c at *p, advancing *p. 0, or -1. */
static int take_char(const char **p, char c)
{
	if (**p != c)
		return -1;
	(*p)++;
	return 0;
}

/* "YYYY-MM-DD" at *p, syntax only. 0, or -1. */
static int take_date(const char **p, int *year, int *month, int *day)
{
	if (take_digits(p, 4, year) != 0 || take_char(p, '-') != 0 ||
	    take_digits(p, 2, month) != 0 || take_char(p, '-') != 0 ||
	    take_digits(p, 2, day) != 0)
		return -1;
	return 0;
}

/* RFC 3339 section 5.6, with the offset forms ISO 8601 also allows. */
enum tz_result tz_parse_iso(const char *s, int64_t *out, int *had_offset)
{
	const char *p = s;
	int year, month, day, hour, minute, second = 0;
	int has_offset = 0, off_sign = 1, off_hour = 0, off_minute = 0;
	int64_t t;

	if (s == NULL || out == NULL)
		return TZ_MALFORMED;
	if (take_date(&p, &year, &month, &day) != 0)
		return TZ_MALFORMED;
	if (*p != 'T' && *p != 't')
		return TZ_MALFORMED;
	p++;
	if (take_digits(&p, 2, &hour) != 0 || take_char(&p, ':') != 0 ||
	    take_digits(&p, 2, &minute) != 0)
		return TZ_MALFORMED;
	if (*p == ':') {
		p++;
		if (take_digits(&p, 2, &second) != 0)
			return TZ_MALFORMED;
		if (*p == '.') {
			int n = 0;

			p++;
			while (*p >= '0' && *p <= '9' && n <= 9) {
				p++;
				n++;
			}
			if (n < 1 || n > 9)
				return TZ_MALFORMED;
		}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
		has_offset = 1;
	} else if (*p == '+' || *p == '-') {
		off_sign = *p == '-' ? -1 : 1;
		p++;
		has_offset = 1;
		if (take_digits(&p, 2, &off_hour) != 0)
			return TZ_MALFORMED;
		if (*p == ':') {
			p++;
			if (take_digits(&p, 2, &off_minute) != 0)
				return TZ_MALFORMED;
		} else if (*p >= '0' && *p <= '9') {
			if (take_digits(&p, 2, &off_minute) != 0)
				return TZ_MALFORMED;
		}
	}
	if (*p != '\0')
		return TZ_MALFORMED;

	if (!date_valid(year, month, day) || !time_valid(hour, minute, second))
		return TZ_OUT_OF_RANGE;
	if (off_hour > 23 || off_minute > 59)
		return TZ_OUT_OF_RANGE;
	if (has_offset) {
		t = civil_seconds(year, month, day, hour, minute, second) -
		    off_sign * (off_hour * 3600 + off_minute * 60);
	} else {
		enum tz_result rc = tz_from_local(year, month, day, hour,
		                                  minute, second, &t);

		if (rc != TZ_OK)
			return rc;
	}
	*out = t;
	if (had_offset != NULL)
		*had_offset = has_offset;
	return TZ_OK;
}

enum tz_result tz_parse_date(const char *s, int *year, int *month, int *day)
{
	const char *p = s;
	int y, m, d;

	if (s == NULL || year == NULL || month == NULL || day == NULL)
		return TZ_MALFORMED;
	if (take_date(&p, &y, &m, &d) != 0 || *p != '\0')
		return TZ_MALFORMED;
	if (!date_valid(y, m, d))
		return TZ_OUT_OF_RANGE;
	*year = y;
	*month = m;
	*day = d;
	return TZ_OK;
}

enum tz_result tz_parse_db(const char *s, int64_t *out)
{
	const char *p = s;
	int year, month, day, hour, minute, second;

	if (s == NULL || out == NULL)
		return TZ_MALFORMED;
	if (take_date(&p, &year, &month, &day) != 0 ||
	    take_char(&p, ' ') != 0 || take_digits(&p, 2, &hour) != 0 ||
	    take_char(&p, ':') != 0 || take_digits(&p, 2, &minute) != 0 ||
	    take_char(&p, ':') != 0 || take_digits(&p, 2, &second) != 0 ||
	    *p != '\0')
		return TZ_MALFORMED;
	if (!date_valid(year, month, day) || !time_valid(hour, minute, second))
		return TZ_OUT_OF_RANGE;
	*out = civil_seconds(year, month, day, hour, minute, second);
	return TZ_OK;
}

/* Copies the n characters of buf and a NUL to out if they fit. 0, or -1. */
static int put(const char *buf, int n, char *out, size_t outsize)
{
	if (n < 0 || out == NULL || (size_t)n >= outsize)
		return -1;
	memcpy(out, buf, (size_t)n + 1);
	return 0;
}

static int year_printable(const struct tm *tm)
{
	return tm->tm_year >= -1900 && tm->tm_year <= 9999 - 1900;
}

int tz_format_iso(int64_t t, char *out, size_t outsize)
{
	char buf[64];
	struct tm tm;
	long off, minutes;
	char sign;
	int n;

	if (local_tm(t, &tm) != 0 || !year_printable(&tm))
		return -1;
	/* Rounded to the nearest minute; a zero offset is "+00:00". */
	off = tm.tm_gmtoff;
	minutes = ((off < 0 ? -off : off) + 30) / 60;
	sign = off < 0 && minutes > 0 ? '-' : '+';
	n = snprintf(buf, sizeof(buf),
	             "%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld",
	             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	             tm.tm_min, tm.tm_sec, sign, minutes / 60, minutes % 60);
	return put(buf, n, out, outsize);
}

int tz_format_utc(int64_t t, char *out, size_t outsize)
{
	char buf[64];
	struct tm tm;
	int n;

	if (utc_tm(t, &tm) != 0 || !year_printable(&tm))
		return -1;
	n = snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ",
	             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	             tm.tm_min, tm.tm_sec);
	return put(buf, n, out, outsize);
}

int tz_format_db(int64_t t, char *out, size_t outsize)
{
	char buf[64];
	struct tm tm;
	int n;

	if (utc_tm(t, &tm) != 0 || !year_printable(&tm))
		return -1;
	n = snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d:%02d",
	             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	             tm.tm_min, tm.tm_sec);
	return put(buf, n, out, outsize);
}

int tz_format_date(int64_t t, char *out, size_t outsize)
{
	char buf[64];
	struct tm tm;
	int n;

	if (local_tm(t, &tm) != 0 || !year_printable(&tm))
		return -1;
	n = snprintf(buf, sizeof(buf), "%04d-%02d-%02d", tm.tm_year + 1900,
	             tm.tm_mon + 1, tm.tm_mday);
	return put(buf, n, out, outsize);
}

/*
 * Compares the zone's date at t with year-month-day: <0 before, 0 on it,
 * >0 after. Sets *err when t cannot be broken down.
 */
static int local_date_cmp(int64_t t, int year, int month, int day, int *err)
{
	struct tm tm;
	int y, m;

	if (local_tm(t, &tm) != 0) {
		*err = 1;
		return 0;
	}
	y = tm.tm_year + 1900;
	m = tm.tm_mon + 1;
	if (y != year)
		return y < year ? -1 : 1;
	if (m != month)
		return m < month ? -1 : 1;
	if (tm.tm_mday != day)
		return tm.tm_mday < day ? -1 : 1;
	return 0;
}

enum tz_result tz_day_start(int year, int month, int day, int64_t *out)
{
	int64_t t, lo, hi;
	enum tz_result rc;
	int err = 0;

	if (out == NULL)
		return TZ_OUT_OF_RANGE;
	rc = tz_from_local(year, month, day, 0, 0, 0, &t);
	if (rc == TZ_OK)
		*out = t;
	if (rc != TZ_NONEXISTENT)
		return rc;
	/*
	 * Midnight fell in a gap: the day starts at the first instant whose
	 * local date is not before it. Offsets stay within a day of UTC, so
	 * two days either side of the date read as UTC bracket that instant;
	 * bisect (lo is always before the date, hi never).
	 */
	lo = days_from_civil(year, month, day) * DAY - 2 * DAY;
	hi = lo + 4 * DAY;
	while (hi - lo > 1) {
		int64_t mid = lo + (hi - lo) / 2;

		if (local_date_cmp(mid, year, month, day, &err) >= 0)
			hi = mid;
		else
			lo = mid;
		if (err)
			return TZ_OUT_OF_RANGE;
	}
	if (local_date_cmp(hi, year, month, day, &err) != 0 || err)
		return TZ_NONEXISTENT; /* the zone skipped the whole day */
	*out = hi;
	return TZ_OK;
}

int64_t tz_now(void)
{
	return (int64_t)time(NULL);
}

int tz_db_to_iso(const char *s, char *out, size_t outsize)
{
	int64_t t;

	if (s == NULL || tz_parse_db(s, &t) != TZ_OK)
		return -1;
	return tz_format_iso(t, out, outsize);
}
