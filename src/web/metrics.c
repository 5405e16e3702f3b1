#include "web/metrics.h"

#include <stdio.h>
#include <time.h>

#include "core/buf.h"
#include "school/avail.h"
#include "school/ledger.h"
#include "school/push.h"
#include "upstream/gtoken.h"
#include "web/reply.h"

/* One series without labels: its HELP, TYPE and value. */
static int gauge(struct buf *b, const char *name, const char *help,
                 long long value)
{
	return buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n%s %lld\n", name,
	                  help, name, name, value);
}

int metrics_handle(struct proc *proc, struct request *req, struct response *res)
{
	struct ledger_figures f;
	struct push_status push = {0, 0, 0};
	const char *const *names;
	struct buf *b = &res->body;
	long long sync_age, left;
	int connected;
	size_t i, n;

	if (ledger_figures(proc->db, &f) != 0 ||
	    (connected = gtoken_connected(proc->db)) < 0 ||
	    avail_sync_age(proc->db, proc->cfg.google_calendar_id, &sync_age) !=
	            0 ||
	    (proc->cfg.calendar_push_url != NULL &&
	     push_status(proc->db, proc->cfg.google_calendar_id, &push) != 0))
		return reply_db_down(proc, req, res, "metrics");
	names = ledger_statuses(&n);
	buf_reset(b);
	if (buf_printf(b, "# HELP booking_bookings Bookings by status.\n"
	                  "# TYPE booking_bookings gauge\n") != 0)
		goto fail;
	for (i = 0; i < n; i++)
		if (buf_printf(b, "booking_bookings{status=\"%s\"} %lld\n",
		               names[i], f.by_status[i]) != 0)
			goto fail;
	if (gauge(b, "booking_unfinished_oldest_seconds",
	          "Age of the oldest booking still in scheduling or with its "
	          "cancellation not yet applied to Google (0 when none).",
	          f.unfinished_oldest) != 0 ||
	    gauge(b, "booking_payments_unbooked",
	          "Approved payments with no scheduled class.",
	          f.payments_unbooked) != 0 ||
	    gauge(b, "booking_calendar_connected",
	          "1 when the school's Google Calendar is connected.",
	          connected) != 0 ||
	    gauge(b, "booking_calendar_sync_age_seconds",
	          "Seconds since availability was last refreshed from Google "
	          "(-1 when never).",
	          sync_age) != 0)
		goto fail;
	/* Only with CALENDAR_PUSH_URL set: without it there is no channel to
	 * speak of. */
	left = push.live ? (long long)(push.expires_at - time(NULL)) : 0;
	if (left < 0)
		left = 0;
	if (proc->cfg.calendar_push_url != NULL &&
	    (gauge(b, "booking_calendar_push_live",
	           "1 when Google's push channel on the calendar is live "
	           "(0: availability only polls).",
	           push.live) != 0 ||
	     gauge(b, "booking_calendar_push_expires_seconds",
	           "Seconds until the live push channel expires (0 when none "
	           "is live).",
	           left) != 0))
		goto fail;
	res->status = 200;
	snprintf(res->content_type, sizeof(res->content_type),
	         "text/plain; version=0.0.4");
	return 200;
fail:
	return response_error(res, 500, "internal_error",
	                      "The reply could not be built.");
}
