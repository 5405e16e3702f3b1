#include "school/recon.h"

#include <string.h>

#include "core/log.h"
#include "io/db.h"
#include "school/booking.h"
#include "school/ledger.h"

int recon_run(struct proc *proc, struct recon_summary *out)
{
	struct recon_summary s;
	struct db_rows rows;
	size_t i;

	memset(&s, 0, sizeof(s));
	/* Past the give-up point: failed, for the admin to see. */
	if (ledger_give_up(proc->db, RECON_GIVE_UP_S, &s.gave_up) != 0)
		return -1;
	/* A payment still pending past its time keeps no slot. */
	if (ledger_release_pending(proc->db, &s.released) != 0)
		return -1;
	if (ledger_work_due(proc->db, RECON_BATCH, &rows) != DB_OK) {
		db_rows_free(&rows);
		return -1;
	}
	for (i = 0; i < rows.nrows; i++) {
		const char *id = db_cell(&rows, i, 0);
		const char *status = db_cell(&rows, i, 1);
		int cancel = strcmp(db_cell(&rows, i, 2), "1") == 0;
		int no_meet = strcmp(db_cell(&rows, i, 3), "1") == 0;
		enum booking_result r;
		int c = ledger_claim(proc->db, id, RECON_CLAIM_S);

		if (c < 0) {
			db_rows_free(&rows);
			return -1;
		}
		if (c == 0)
			continue; /* another run has it */
		if (cancel) {
			r = booking_apply_cancel(proc, "reconcile", id);
			if (r == BOOKING_OK)
				s.cancelled++;
		} else {
			r = booking_schedule(proc, "reconcile", id);
			if (r == BOOKING_OK &&
			    strcmp(status, "scheduling") == 0)
				s.scheduled++;
			else if (r == BOOKING_OK && no_meet &&
			         ledger_has_meet(proc->db, id) == 1)
				s.meet_links++;
		}
		if (r == BOOKING_DB_DOWN) {
			db_rows_free(&rows);
			return -1;
		}
		if (r == BOOKING_PENDING)
			s.failed++;
		else
			ledger_release(proc->db, id);
	}
	db_rows_free(&rows);
	if (ledger_work_left(proc->db, &s.waiting) != 0)
		return -1;
	s.push = push_maintain(proc, "reconcile");
	*out = s;
	return 0;
}

enum recon_result recon_one(struct proc *proc, const char *request_id,
                            const char *id)
{
	struct ledger_row row;
	enum booking_result r;
	int found = ledger_load(proc->db, id, &row);

	if (found < 0)
		return RECON_DB_DOWN;
	if (found == 0)
		return RECON_NOTHING;
	if (row.cancel_pending)
		r = booking_apply_cancel(proc, request_id, id);
	else if (strcmp(row.status, "scheduling") == 0 ||
	         (strcmp(row.status, "scheduled") == 0 && !row.has_meet))
		r = booking_schedule(proc, request_id, id);
	else
		return RECON_NOTHING;
	switch (r) {
	case BOOKING_OK:
		ledger_release(proc->db, id);
		return RECON_DONE;
	case BOOKING_PENDING:
		return RECON_PENDING;
	case BOOKING_GONE:
		return RECON_NOTHING;
	case BOOKING_DB_DOWN:
		break;
	}
	return RECON_DB_DOWN;
}
