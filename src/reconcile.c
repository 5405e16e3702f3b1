/*
 * reconcile - run by a timer: finishes what the endpoints left undone
 * (bookings in "scheduling", Meet links still pending, cancellations not
 * yet applied to Google), releases the slots of payments still pending
 * past their time and keeps Google's push channel (CALENDAR_PUSH_URL).
 * Prints a one-line summary, and a second on the push channel when there
 * is one. Exit 0 when nothing is left to do, 1 when work waits for a later
 * run (or the push channel could not be opened, renewed or stopped), 2
 * when it could not run.
 */
#include <stdio.h>

#include "io/db.h"
#include "io/proc.h"
#include "school/recon.h"
#include "school/school.h"

int main(void)
{
	struct recon_summary s;
	struct proc proc;
	int rc = 2;

	if (proc_open(&proc, "reconcile",
	              CONFIG_DB | CONFIG_GOOGLE | CONFIG_ADMIN_TOKEN) != 0 ||
	    school_open(&proc) != 0) {
		proc_close(&proc);
		return 2;
	}
	if (recon_run(&proc, &s) != 0) {
		fprintf(stderr, "reconcile: %s\n", db_error(proc.db));
		goto out;
	}
	printf("reconcile: %d scheduled, %d meet links, %d cancellations "
	       "applied, %d pending released, %d failed tries, %d given up, "
	       "%d waiting\n",
	       s.scheduled, s.meet_links, s.cancelled, s.released, s.failed,
	       s.gave_up, s.waiting);
	if (s.push != PUSH_OFF)
		printf("reconcile: push channel %s\n",
		       push_outcome_str(s.push));
	rc = s.waiting == 0 && s.push != PUSH_FAILED && s.push != PUSH_DB_FAILED
	             ? 0
	             : 1;
out:
	school_close();
	proc_close(&proc);
	return rc;
}
