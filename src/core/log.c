#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"

static const char *log_program = "booking";
static long log_pid;

void log_init(const char *program)
{
	log_program = program;
	log_pid = (long)getpid();
}

static int clean_byte(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '\\';
}

/* Appends s with every byte outside printable ASCII as \xNN (runs of
 * clean bytes in one append: this is on every request's path). */
static void put_clean(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int rc = 0;

	while (*p && rc == 0) {
		size_t n = 0;

		while (p[n] && clean_byte(p[n]))
			n++;
		if (n > 0) {
			rc = buf_append(b, p, n);
			p += n;
		} else {
			rc = buf_printf(b, "\\x%02x", *p);
			p++;
		}
	}
}

static void put_prefix(struct buf *b, const char *request_id)
{
	char stamp[32];
	struct tm tm;
	time_t now = time(NULL);

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		stamp[0] = '\0';
	if (buf_printf(b, "%s %s[%ld] req=", stamp, log_program,
	               log_pid ? log_pid : (long)getpid()) != 0)
		return;
	put_clean(b, request_id ? request_id : "-");
}

/* One write(2) per line, so lines of concurrent processes never mix. */
static void emit(struct buf *b)
{
	const char *s;
	size_t off = 0;
	ssize_t n;

	if (buf_append(b, "\n", 1) != 0) {
		buf_free(b);
		return;
	}
	s = buf_str(b);
	while (off < b->len) {
		n = write(STDERR_FILENO, s + off, b->len - off);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	buf_free(b);
}

void log_request(const char *request_id, const char *method, const char *path,
                 int status, long ms, unsigned upstream)
{
	struct buf b;

	buf_init(&b, 8192);
	put_prefix(&b, request_id);
	if (buf_puts(&b, " ") == 0)
		put_clean(&b, method ? method : "-");
	if (buf_puts(&b, " ") == 0)
		put_clean(&b, path ? path : "-");
	if (buf_printf(&b, " %d %ldms upstream=%u", status, ms, upstream) != 0)
		buf_reset(&b);
	emit(&b);
}

static void vwarn(const char *request_id, const char *level, const char *fmt,
                  va_list ap)
{
	char msg[1024];
	struct buf b;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	buf_init(&b, 8192);
	put_prefix(&b, request_id);
	if (buf_printf(&b, " %s: ", level) == 0)
		put_clean(&b, msg);
	emit(&b);
}

void log_warn(const char *request_id, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(request_id, "warning", fmt, ap);
	va_end(ap);
}

void log_info(const char *request_id, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(request_id, "info", fmt, ap);
	va_end(ap);
}

void log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(NULL, "fatal", fmt, ap);
	va_end(ap);
}
