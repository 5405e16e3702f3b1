/*
 * doctor - every troubleshooting case of the previous system as a check:
 * the configuration, the database and its migrations, the admin's Google
 * grant, the Calendar API, the API key, Meet links, the calendar's time
 * zone, this server's clock, MercadoPago's access token, reconcile's
 * timer and, with CALENDAR_PUSH_URL set, Google's push channel. cgi-bin/doctor
 * prints the report; the admin console shows it.
 *
 * The doctor only reads. It never writes to the database, to Google or to
 * MercadoPago: the grant is tested by a token renewal whose access token
 * is used for the checks and then wiped, never stored. Each upstream call
 * is one try with short timeouts. No message ever holds a secret.
 */
#ifndef DOCTOR_H
#define DOCTOR_H

#include <stddef.h>

#include "core/buf.h"
#include "io/proc.h"

enum doctor_status { DOCTOR_OK = 0, DOCTOR_WARN, DOCTOR_FAIL };

#define DOCTOR_MAX_CHECKS  16
#define DOCTOR_NAME_MAX    32
#define DOCTOR_MESSAGE_MAX 1024

/* Work for reconcile that waited longer than this is a warning. */
#define DOCTOR_RECONCILE_LATE_S 600
/* Google's clock and ours further apart than this is a failure. */
#define DOCTOR_CLOCK_SKEW_S 60
/* Classes booked this recently are looked at for their Meet link... */
#define DOCTOR_MEET_WINDOW_S (7L * 86400L)
/* ...once Google has had this long to make it. */
#define DOCTOR_MEET_GRACE_S 60
/* Each upstream call: one try within these. */
#define DOCTOR_TIMEOUT_MS         5000L
#define DOCTOR_CONNECT_TIMEOUT_MS 2000L

/* One check: its name (a short stable word), its verdict, and what is
 * wrong and what to do (one line). */
struct doctor_check {
	char name[DOCTOR_NAME_MAX];
	enum doctor_status status;
	char message[DOCTOR_MESSAGE_MAX];
};

struct doctor_report {
	size_t n;
	struct doctor_check checks[DOCTOR_MAX_CHECKS];
};

struct doctor_options {
	/* The migrations to compare with the database; NULL: the sql/
	 * folder next to the program's own (doctor_sql_dir()). */
	const char *sql_dir;
};

/*
 * Runs every check for the process (its configuration is read again from
 * the environment, whatever groups the process itself needed) into *out,
 * in a fixed order. Never fails: a check that cannot run says so.
 */
void doctor_run(struct proc *proc, const struct doctor_options *opt,
                struct doctor_report *out);

/*
 * Appends a check to r: the message formatted as printf() does, control
 * characters turned into spaces so that it stays one line. Returns 0, or
 * -1 when r is full (nothing added).
 */
int doctor_add(struct doctor_report *r, const char *name,
               enum doctor_status status, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* "ok", "warn" or "fail". Static string. */
const char *doctor_status_str(enum doctor_status s);

/* The exit status of a report: 0 all ok, 1 warnings only, 2 a failure. */
int doctor_exit_status(const struct doctor_report *r);

/*
 * Appends the report to out as text, one line a check:
 * "<status>  <name>  <message>\n". 0, or -1 (over out's cap, or out of
 * memory).
 */
int doctor_text(const struct doctor_report *r, struct buf *out)
        __attribute__((warn_unused_result));

/*
 * Appends the report to out as JSON:
 * {"checks": [{"name", "status", "message"}]} and a newline. 0, or -1.
 */
int doctor_json(const struct doctor_report *r, struct buf *out)
        __attribute__((warn_unused_result));

/*
 * The default migrations folder, from the folder of the running program
 * (/proc/self/exe): "../share/sql" when there is one (make install's
 * PREFIX/bin and PREFIX/share/sql), else "../sql" (make's cgi-bin/ next to
 * sql/). 0 with the path in out, or -1.
 */
int doctor_sql_dir(char *out, size_t len) __attribute__((warn_unused_result));

#endif
