/*
 * freeslots - the free class slots of one local date: the opening hours
 * (BOOKING_HOURS) minus Google's busy times (the availability cache) minus
 * the school's active bookings (the ledger) minus anything sooner than
 * BOOKING_MIN_NOTICE_MIN. When busy times cannot be known there are no
 * slots at all, never one that might be taken.
 */
#ifndef FREESLOTS_H
#define FREESLOTS_H

#include <stddef.h>
#include <stdint.h>

#include "io/proc.h"
#include "school/avail.h"
#include "school/slots.h"

enum freeslots_result {
	FREESLOTS_OK = 0,
	FREESLOTS_DOWN,    /* busy times unknown: *why is a gcal_result */
	FREESLOTS_DB_DOWN, /* the bookings could not be read (logged) */
	FREESLOTS_NOMEM
};

/* What freeslots_day() found. */
struct freeslots {
	struct slots_slot slot[SLOTS_MAX];
	int n;
	enum avail_state state; /* of the busy times used */
	int64_t age;            /* seconds since Google last answered */
	int why;                /* with FREESLOTS_DOWN */
};

/*
 * Whether the local date that starts at the instant day_start is past every
 * start the school offers now (it begins more than SLOTS_AHEAD_DAYS days
 * ahead: slots_window()): 1, or 0. Such a date is refused before anything
 * is asked of Google.
 */
int freeslots_too_far(const struct proc *proc, int64_t day_start);

/*
 * The free slots of duration minutes on the local date y-m-d (valid) into
 * *out. day_start and day_end are that date's first instant and the next
 * date's. The starts are those slots_check() accepts now (slots_window():
 * the notice, and at most SLOTS_AHEAD_DAYS days ahead).
 */
enum freeslots_result freeslots_day(struct proc *proc, const char *request_id,
                                    int y, int m, int d, int64_t day_start,
                                    int64_t day_end, int duration,
                                    struct freeslots *out)
        __attribute__((warn_unused_result));

#endif
