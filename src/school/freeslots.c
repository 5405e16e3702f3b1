#include "school/freeslots.h"

#include <stdlib.h>

#include "core/log.h"
#include "core/tz.h"
#include "io/db.h"
#include "school/ledger.h"
#include "school/school.h"

int freeslots_too_far(const struct proc *proc, int64_t day_start)
{
	return day_start >
	       slots_window(tz_now(), proc->cfg.booking_min_notice_min)
	               .not_after;
}

enum freeslots_result freeslots_day(struct proc *proc, const char *request_id,
                                    int y, int m, int d, int64_t day_start,
                                    int64_t day_end, int duration,
                                    struct freeslots *out)
{
	const struct avail_copy *copy;
	struct slots_busy *busy = NULL;
	struct slots_window w =
	        slots_window(tz_now(), proc->cfg.booking_min_notice_min);
	size_t i, n = 0, cap = 0;

	out->n = 0;
	out->why = 0;
	if (day_end <= w.not_before) {
		/* A day gone by offers nothing: no need to know its busy
		 * times, nor to ask Google about a day outside the cache. */
		out->state = AVAIL_HIT;
		out->age = 0;
		return FREESLOTS_OK;
	}
	out->state = avail_get(proc, request_id, day_start, day_end, &copy,
	                       &out->age, &out->why);
	if (out->state == AVAIL_DOWN)
		return FREESLOTS_DOWN;
	/* Google's busy times of the day, then ours. */
	for (i = 0; i < copy->n; i++) {
		const struct avail_event *e = &copy->events[i];

		if (e->start >= day_end)
			break;
		if (!avail_overlaps(e->start, e->end, day_start, day_end))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 32;
			struct slots_busy *q = realloc(busy, ncap * sizeof(*q));

			if (q == NULL) {
				free(busy);
				return FREESLOTS_NOMEM;
			}
			busy = q;
			cap = ncap;
		}
		busy[n].start = e->start;
		busy[n].end = e->end;
		n++;
	}
	if (ledger_active_between(proc->db, day_start, day_end, &busy, &n,
	                          &cap) != 0) {
		log_warn(request_id, "reading bookings: %s",
		         db_error(proc->db));
		free(busy);
		return FREESLOTS_DB_DOWN;
	}
	out->n = slots_compute(school_hours(), y, m, d, duration, busy, n,
	                       w.not_before, w.not_after, out->slot, SLOTS_MAX);
	free(busy);
	return out->n < 0 ? FREESLOTS_NOMEM : FREESLOTS_OK;
}
