/*
 * hours.c - parsing BOOKING_HOURS into each weekday's opening ranges. See
 * hours.h for the format.
 *
 * A hand-written scanner over the NUL-terminated text: it only ever looks at
 * the current character and stops at the first NUL, so it never reads past
 * the string. Tokens (a day, a time) run up to whitespace or a separator;
 * every refusal names the offending token, quoted and cut short.
 */
#include "school/hours.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define WHAT      "BOOKING_HOURS"
#define QUOTE_MAX 24 /* characters of spec a message quotes at most */
#define QUOTE_BUF (QUOTE_MAX + 4) /* and "..." and a NUL */

/* The week in the order the format reads it: Monday first. */
static const char *const day_names[7] = {"mon", "tue", "wed", "thu",
                                         "fri", "sat", "sun"};

struct parser {
	const char *p; /* the next character to read */
	char *err;
	size_t errlen;
};

static __attribute__((format(printf, 2, 3))) int fail(struct parser *ps,
                                                      const char *fmt, ...)
{
	va_list ap;

	if (ps->err != NULL && ps->errlen > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(ps->err, ps->errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

static int is_separator(char c)
{
	return c == '\0' || c == ';' || c == ',' || c == '-' || is_space(c);
}

static void skip_space(struct parser *ps)
{
	while (is_space(*ps->p))
		ps->p++;
}

/* The length of the token at p: up to whitespace, a separator or the end. */
static size_t token_len(const char *p)
{
	size_t n = 0;

	while (!is_separator(p[n]))
		n++;
	return n;
}

/*
 * Copies at most QUOTE_MAX of the len characters at p into buf (QUOTE_BUF
 * bytes), printable ASCII as it is and anything else as '?', with "..." when
 * cut short.
 */
static void quote(char *buf, const char *p, size_t len)
{
	size_t i, n = len < QUOTE_MAX ? len : QUOTE_MAX;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		buf[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (n < len) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
}

/* A description of what is at p, for "expected X, found Y" messages. */
static void describe_next(char *buf, const char *p)
{
	size_t n;

	if (*p == '\0') {
		memcpy(buf, "the end", sizeof("the end"));
		return;
	}
	n = token_len(p);
	buf[0] = '\'';
	quote(buf + 1, p, n > 0 ? n : 1);
	n = strlen(buf);
	buf[n] = '\'';
	buf[n + 1] = '\0';
}

/* The ASCII letter c in lower case. */
static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* A day at ps->p into *index (0 = Monday ... 6 = Sunday). 0, or -1. */
static int parse_day(struct parser *ps, int *index)
{
	char q[QUOTE_BUF + 2];
	size_t n = token_len(ps->p);

	if (n == 0) {
		describe_next(q, ps->p);
		return fail(ps, WHAT ": expected a day, found %s", q);
	}
	if (n == 3) {
		for (int i = 0; i < 7; i++) {
			if (lower(ps->p[0]) == day_names[i][0] &&
			    lower(ps->p[1]) == day_names[i][1] &&
			    lower(ps->p[2]) == day_names[i][2]) {
				*index = i;
				ps->p += 3;
				return 0;
			}
		}
	}
	quote(q, ps->p, n);
	if (ps->p[0] >= '0' && ps->p[0] <= '9')
		return fail(ps, WHAT ": days missing before '%s'", q);
	return fail(ps, WHAT ": unknown day '%s' (mon tue wed thu fri sat sun)",
	            q);
}

/* A time "HH:MM" at ps->p into *minutes since midnight. 0, or -1. */
static int parse_time(struct parser *ps, int *minutes)
{
	char q[QUOTE_BUF + 2];
	const char *p = ps->p;
	size_t n = token_len(p);
	int hour, minute;

	if (n == 0) {
		describe_next(q, p);
		return fail(ps, WHAT ": expected a time (HH:MM), found %s", q);
	}
	if (n != 5 || p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9' ||
	    p[2] != ':' || p[3] < '0' || p[3] > '9' || p[4] < '0' || p[4] > '9')
		goto bad;
	hour = (p[0] - '0') * 10 + (p[1] - '0');
	minute = (p[3] - '0') * 10 + (p[4] - '0');
	if (hour > 24 || minute > 59 || (hour == 24 && minute != 0))
		goto bad;
	*minutes = hour * 60 + minute;
	ps->p += n;
	return 0;
bad:
	quote(q, p, n);
	return fail(ps, WHAT ": %s is not a time (HH:MM, 00:00 to 24:00)", q);
}

/*
 * Adds [start, end) to the day with tm_wday wday, keeping its ranges sorted
 * and merging overlapping or touching ones. 0, or -1 when the day would
 * have more than HOURS_MAX_RANGES ranges.
 */
static int add_range(struct hours *h, int wday, int start, int end)
{
	struct hours_range r[HOURS_MAX_RANGES + 1];
	int n = h->n[wday], i, k = 0;

	/* Insert in order of start... */
	for (i = 0; i < n && h->day[wday][i].start <= start; i++)
		r[i] = h->day[wday][i];
	r[i].start = start;
	r[i].end = end;
	for (; i < n; i++)
		r[i + 1] = h->day[wday][i];
	n++;
	/* ...then merge in place: r[0..k) is the merged prefix. */
	for (i = 0; i < n; i++) {
		if (k > 0 && r[i].start <= r[k - 1].end) {
			if (r[i].end > r[k - 1].end)
				r[k - 1].end = r[i].end;
		} else {
			r[k++] = r[i];
		}
	}
	if (k > HOURS_MAX_RANGES)
		return -1;
	memcpy(h->day[wday], r, (size_t)k * sizeof(r[0]));
	h->n[wday] = k;
	return 0;
}

/* Writes minutes since midnight (0 to 24:00) as "HH:MM" into buf[6]. */
static void format_time(char *buf, int minutes)
{
	int hour = minutes / 60, minute = minutes % 60;

	buf[0] = (char)('0' + hour / 10);
	buf[1] = (char)('0' + hour % 10);
	buf[2] = ':';
	buf[3] = (char)('0' + minute / 10);
	buf[4] = (char)('0' + minute % 10);
	buf[5] = '\0';
}

/* A day or a day range ("mon-fri") at ps->p, added to *days. 0, or -1. */
static int parse_day_item(struct parser *ps, unsigned *days)
{
	int from = 0, to = 0;

	if (parse_day(ps, &from) != 0)
		return -1;
	to = from;
	skip_space(ps);
	if (*ps->p == '-') {
		ps->p++;
		skip_space(ps);
		if (parse_day(ps, &to) != 0)
			return -1;
		if (to < from)
			return fail(ps,
			            WHAT ": day range '%s-%s' goes backwards "
			                 "(the week runs from mon to sun)",
			            day_names[from], day_names[to]);
	}
	for (int i = from; i <= to; i++)
		*days |= 1u << i;
	return 0;
}

/*
 * A day set at ps->p into *days (bit i: day_names[i]), leaving ps->p at
 * what follows it and its whitespace. 0, or -1; also -1 when no time range
 * follows.
 */
static int parse_days(struct parser *ps, unsigned *days)
{
	char q[QUOTE_BUF];
	const char *at = ps->p, *end;

	for (;;) {
		if (parse_day_item(ps, days) != 0)
			return -1;
		end = ps->p;
		skip_space(ps);
		if (*ps->p != ',')
			break;
		ps->p++;
		skip_space(ps);
	}
	if (*ps->p == ';' || *ps->p == '\0') {
		while (end > at && is_space(end[-1]))
			end--;
		quote(q, at, (size_t)(end - at));
		return fail(ps, WHAT ": no time range after '%s'", q);
	}
	return 0;
}

/*
 * A time range "HH:MM-HH:MM" at ps->p into *start and *end, and its text,
 * as written back, into text[12]. 0, or -1.
 */
static int parse_range(struct parser *ps, int *start, int *end, char *text)
{
	char q[QUOTE_BUF + 2];
	int s = 0, e = 0;

	if (parse_time(ps, &s) != 0)
		return -1;
	format_time(text, s);
	skip_space(ps);
	if (*ps->p != '-') {
		describe_next(q, ps->p);
		return fail(ps, WHAT ": expected '-' after %s, found %s", text,
		            q);
	}
	ps->p++;
	skip_space(ps);
	if (parse_time(ps, &e) != 0)
		return -1;
	text[5] = '-';
	format_time(text + 6, e);
	if (s == HOURS_DAY_END)
		return fail(ps, WHAT ": %s starts at 24:00", text);
	if (s == e)
		return fail(ps, WHAT ": %s is empty", text);
	if (s > e)
		return fail(ps, WHAT ": %s ends before it starts", text);
	*start = s;
	*end = e;
	return 0;
}

/*
 * One clause, a day set and its ranges, at ps->p into *h, leaving ps->p at
 * the ';' or the end that follows. 0, or -1.
 */
static int parse_clause(struct parser *ps, struct hours *h)
{
	char q[QUOTE_BUF + 2], text[12];
	unsigned days = 0;
	int start = 0, end = 0;

	if (parse_days(ps, &days) != 0)
		return -1;
	for (;;) {
		if (parse_range(ps, &start, &end, text) != 0)
			return -1;
		for (int i = 0; i < 7; i++) {
			if ((days & (1u << i)) &&
			    add_range(h, (i + 1) % 7, start, end) != 0)
				return fail(ps,
				            WHAT ": more than %d time "
				                 "ranges on %s",
				            HOURS_MAX_RANGES, day_names[i]);
		}
		skip_space(ps);
		if (*ps->p != ',')
			break;
		ps->p++;
		skip_space(ps);
	}
	if (*ps->p != ';' && *ps->p != '\0') {
		describe_next(q, ps->p);
		return fail(ps, WHAT ": unexpected %s after %s", q, text);
	}
	return 0;
}

int hours_parse(const char *spec, struct hours *out, char *err, size_t errlen)
{
	struct parser ps = {spec, err, errlen};
	struct hours h;

	if (spec == NULL || out == NULL)
		return fail(&ps, WHAT " is missing");
	memset(&h, 0, sizeof(h));
	skip_space(&ps);
	if (*ps.p == '\0')
		return fail(&ps, WHAT " is empty");
	for (;;) {
		if (*ps.p == ';')
			return fail(&ps, WHAT ": empty clause (a ';' with "
			                      "nothing before it)");
		if (parse_clause(&ps, &h) != 0)
			return -1;
		/* parse_clause stops at ';' or the end. */
		if (*ps.p == '\0')
			break;
		ps.p++;
		skip_space(&ps);
		if (*ps.p == '\0')
			break; /* a trailing ';' */
	}
	*out = h;
	return 0;
}
