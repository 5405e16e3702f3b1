/*
 * school - the school's rules as one process holds them: read and checked
 * at start-up, after the process's configuration (io/proc.h), and released
 * at exit. Today that is the opening hours (BOOKING_HOURS, hours.h) and
 * this process's copy of the availability cache (avail.h).
 */
#ifndef SCHOOL_H
#define SCHOOL_H

#include "io/proc.h"
#include "school/hours.h"

/*
 * Parses BOOKING_HOURS (proc->cfg.booking_hours). 0, or -1 after logging
 * which variable is wrong and why (the program then stops).
 */
int school_open(struct proc *proc) __attribute__((warn_unused_result));

/* Releases what the school's modules keep for the process. */
void school_close(void);

/* The opening hours school_open() read. Borrowed for the process. */
const struct hours *school_hours(void);

#endif
