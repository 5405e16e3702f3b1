#include "school/school.h"

#include "core/limit.h"
#include "core/log.h"
#include "school/avail.h"

static struct hours hours; /* per process, set once at start-up */

int school_open(struct proc *proc)
{
	char err[LIMIT_ERROR_MESSAGE];

	if (hours_parse(proc->cfg.booking_hours, &hours, err, sizeof(err)) !=
	    0) {
		log_fatal("configuration: %s", err);
		return -1;
	}
	return 0;
}

void school_close(void)
{
	avail_release();
}

const struct hours *school_hours(void)
{
	return &hours;
}
