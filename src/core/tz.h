/*
 * tz.h - time: instants as int64_t seconds since the epoch (UTC, POSIX time,
 * no leap seconds), the one IANA zone the process is configured for (the
 * design's TIME_ZONE), strict ISO 8601 / RFC 3339 parsing and formatting,
 * MySQL DATETIME values in UTC, and local dates.
 *
 * Local time comes from the system's tzdata through TZ, tzset(),
 * localtime_r() and mktime(); no offset is written into the code. The zone
 * is process-wide state (it lives in the environment), so tz_set belongs at
 * start-up, before any thread exists. Until tz_set succeeds, the first use
 * of local time applies TZ_DEFAULT_ZONE (or UTC when even that zone is not
 * installed; tz_name then says "UTC").
 */
#ifndef TZ_H
#define TZ_H

#include <stddef.h>
#include <stdint.h>

#define TZ_DEFAULT_ZONE "America/Argentina/Buenos_Aires"
#define TZ_NAME_MAX     64   /* longest zone name tz_set accepts */
#define TZ_ISO_MAX      32   /* enough for every string tz_format_* writes */
#define TZ_YEAR_MIN     1900 /* years the parsers accept */
#define TZ_YEAR_MAX     9999

/* A wall-clock reading in the configured zone. */
struct tz_local {
	int year;   /* e.g. 2026 */
	int month;  /* 1-12 */
	int day;    /* 1-31 */
	int hour;   /* 0-23 */
	int minute; /* 0-59 */
	int second; /* 0-59 */
	int wday;   /* 0 = Sunday ... 6 = Saturday */
	int offset; /* seconds east of UTC in force at that instant */
};

enum tz_result {
	TZ_OK = 0,
	TZ_MALFORMED,    /* not the syntax asked for */
	TZ_OUT_OF_RANGE, /* well formed, but a field is out of its range */
	TZ_NONEXISTENT   /* a local time skipped by a daylight-saving gap */
};

/*
 * Makes zone the process's zone. The name must be 1 to TZ_NAME_MAX
 * characters of [A-Za-z0-9_+-] and '/', have no empty component (no leading
 * or trailing '/', no "//"), hold no "..", not be under "right/" (those
 * zones count leap seconds, which our instants do not), and name a regular
 * file under $TZDIR (or /usr/share/zoneinfo when TZDIR is unset or empty)
 * that starts with the TZif magic (RFC 8536).
 * Returns 0, or -1 when the name is refused, no such zone is installed or
 * the environment cannot be changed; the zone is then unchanged.
 */
__attribute__((warn_unused_result)) int tz_set(const char *zone);

/*
 * Returns the name of the process's zone, e.g. "Europe/Madrid", never NULL.
 * Borrowed: static storage whose contents the next successful tz_set
 * replaces.
 */
const char *tz_name(void);

/*
 * Breaks the instant t down into the wall-clock reading of the zone, into
 * *out.
 * Returns 0, or -1 when t is beyond what the C library can represent (*out
 * is then untouched).
 */
__attribute__((warn_unused_result)) int tz_to_local(int64_t t,
                                                    struct tz_local *out);

/*
 * Finds the instant at which the zone's clocks read the given wall time,
 * into *out.
 * A wall time that occurs twice (when clocks go back) gives the earlier
 * instant, the one with the offset in force before the change.
 * Returns TZ_OK; TZ_OUT_OF_RANGE when a field is invalid (year outside
 * TZ_YEAR_MIN..TZ_YEAR_MAX, month 1-12, day of that month, hour 0-23, minute
 * and second 0-59); TZ_NONEXISTENT when clocks skipped that wall time (it
 * falls in a spring-forward gap). *out is set only on TZ_OK.
 */
__attribute__((warn_unused_result)) enum tz_result
tz_from_local(int year, int month, int day, int hour, int minute, int second,
              int64_t *out);

/*
 * Parses an RFC 3339 / ISO 8601 extended date-time,
 *   YYYY-MM-DD('T'|'t')HH:MM[:SS[.F]][('Z'|'z')|(+|-)HH:MM|(+|-)HHMM|(+|-)HH]
 * with exactly those digit counts, 1 to 9 fraction digits (dropped: the
 * instant is the whole second, rounded down) and nothing after it, into *out.
 * With an offset (Z being +00:00, and -00:00 read as UTC too) the instant is
 * exact; without one the wall time is read in the configured zone, as
 * tz_from_local does. *had_offset, when had_offset is not NULL, says which.
 * Returns TZ_OK; TZ_MALFORMED for NULL, "" or any other syntax (a space for
 * 'T', a sign before the year, a missing digit, trailing characters);
 * TZ_OUT_OF_RANGE when the syntax is right but a field is not (year outside
 * TZ_YEAR_MIN..TZ_YEAR_MAX, month 13, 2027-02-29, hour 24, minute or second
 * 60 (no leap seconds), offset hours past 23 or minutes past 59);
 * TZ_NONEXISTENT when a time without an offset falls in a gap of the zone.
 * *out and *had_offset are set only on TZ_OK.
 */
__attribute__((warn_unused_result)) enum tz_result
tz_parse_iso(const char *s, int64_t *out, int *had_offset);

/*
 * Parses a strict YYYY-MM-DD date into *year, *month, *day.
 * Returns TZ_OK, TZ_MALFORMED or TZ_OUT_OF_RANGE as tz_parse_iso does; the
 * outputs are set only on TZ_OK.
 */
__attribute__((warn_unused_result)) enum tz_result
tz_parse_date(const char *s, int *year, int *month, int *day);

/*
 * Writes the instant t as the zone's wall time with the offset in force
 * then, e.g. "2026-12-01T15:00:00-03:00" ("+00:00" in UTC, never "Z"), and
 * a NUL into out. Offsets that are not whole minutes (local mean time before
 * the zone adopted a standard one, e.g. -03:53:48 in Buenos Aires before
 * 1894) are rounded to the nearest minute, so such strings do not parse back
 * to t exactly.
 * Returns 0, or -1 when outsize is too small (TZ_ISO_MAX always suffices) or
 * the local year is outside 0..9999; out is untouched on failure.
 */
__attribute__((warn_unused_result)) int tz_format_iso(int64_t t, char *out,
                                                      size_t outsize);

/*
 * Writes the instant t in UTC as RFC 3339 with 'Z', e.g.
 * "2026-12-01T18:00:00Z" (Google Calendar's timeMin and timeMax), and a NUL
 * into out.
 * Returns 0, or -1 when outsize is too small (TZ_ISO_MAX always suffices) or
 * the year is outside 0..9999; out is untouched on failure.
 */
__attribute__((warn_unused_result)) int tz_format_utc(int64_t t, char *out,
                                                      size_t outsize);

/*
 * Writes the instant t in UTC as a MySQL DATETIME literal,
 * "YYYY-MM-DD HH:MM:SS", and a NUL into out (the database keeps UTC).
 * Returns 0, or -1 when outsize is too small (TZ_ISO_MAX always suffices) or
 * the year is outside 0..9999; out is untouched on failure.
 */
__attribute__((warn_unused_result)) int tz_format_db(int64_t t, char *out,
                                                     size_t outsize);

/*
 * Parses a MySQL DATETIME "YYYY-MM-DD HH:MM:SS", read as UTC, into *out.
 * Strict as tz_parse_iso (no fraction, nothing after the seconds).
 * Returns TZ_OK, TZ_MALFORMED or TZ_OUT_OF_RANGE; *out is set only on TZ_OK.
 */
__attribute__((warn_unused_result)) enum tz_result tz_parse_db(const char *s,
                                                               int64_t *out);

/*
 * Writes the zone's date at the instant t, "YYYY-MM-DD", and a NUL into out.
 * Returns 0, or -1 when outsize is too small (11 bytes suffice) or the year
 * is outside 0..9999; out is untouched on failure.
 */
__attribute__((warn_unused_result)) int tz_format_date(int64_t t, char *out,
                                                       size_t outsize);

/*
 * Finds the first instant of a local date in the zone, into *out: local
 * midnight, or where clocks skipped midnight (America/Sao_Paulo on
 * 2018-11-04 went from 00:00 to 01:00) the first instant that exists (there
 * 01:00-02:00). Where midnight happens twice, the earlier one.
 * Returns TZ_OK; TZ_OUT_OF_RANGE for an invalid date (as tz_from_local);
 * TZ_NONEXISTENT when the zone skipped the whole date. *out is set only on
 * TZ_OK.
 */
__attribute__((warn_unused_result)) enum tz_result
tz_day_start(int year, int month, int day, int64_t *out);

/*
 * Returns the current instant, in whole seconds.
 */
int64_t tz_now(void);

/*
 * A MySQL DATETIME in UTC (tz_parse_db) written as tz_format_iso() does.
 * 0, or -1 when s is NULL or malformed or out is too small.
 */
__attribute__((warn_unused_result)) int tz_db_to_iso(const char *s, char *out,
                                                     size_t outsize);

#endif
