#include "recon.h"

#include <stdlib.h>
#include <string.h>

#include "booksvc.h"
#include "db.h"
#include "log.h"

#define WORK                                                                   \
	"(status = 'scheduling' OR cancelPending = 1 OR (status = "            \
	"'scheduled' AND meetLink IS NULL AND createdAt > UTC_TIMESTAMP() - "  \
	"INTERVAL 24 HOUR))"

/* Takes booking id for this run, unless another holds it. 1 ours, 0 not,
 * -1 database error. */
static int claim(struct app *app, const char *id)
{
	struct db_param p[2] = {db_int(RECON_CLAIM_S), db_text(id)};
	unsigned long long affected = 0;

	if (db_exec(app->db,
	            "UPDATE bookings SET nextAttemptAt = UTC_TIMESTAMP() + "
	            "INTERVAL ? SECOND WHERE id = ? AND (nextAttemptAt IS NULL "
	            "OR nextAttemptAt <= UTC_TIMESTAMP())",
	            p, 2, &affected) != DB_OK)
		return -1;
	return affected == 1;
}

/* A claimed booking that succeeded but set no time of its own must not
 * keep the claim's. */
static void release(struct app *app, const char *id)
{
	struct db_param p = db_text(id);

	if (db_exec(app->db,
	            "UPDATE bookings SET nextAttemptAt = NULL WHERE id = ? AND "
	            "NOT " WORK,
	            &p, 1, NULL) != DB_OK)
		log_warn(NULL, "releasing booking %s: %s", id,
		         db_error(app->db));
}

int recon_run(struct app *app, struct recon_summary *out)
{
	struct recon_summary s;
	struct db_rows rows, left;
	struct db_param p = db_int(RECON_GIVE_UP_S);
	unsigned long long n = 0;
	size_t i;

	memset(&s, 0, sizeof(s));
	/* Past the give-up point: failed, for the admin to see. */
	if (db_query(app->db,
	             "SELECT id FROM bookings WHERE status = 'scheduling' AND "
	             "pendingSince < UTC_TIMESTAMP() - INTERVAL ? SECOND",
	             &p, 1, &rows) != DB_OK) {
		db_rows_free(&rows);
		return -1;
	}
	for (i = 0; i < rows.nrows; i++)
		log_warn(NULL,
		         "booking %s: gave up after 24 hours of trying "
		         "to put it on Google Calendar",
		         db_cell(&rows, i, 0));
	db_rows_free(&rows);
	if (db_exec(app->db,
	            "UPDATE bookings SET status = 'failed', lastError = "
	            "LEFT(CONCAT('gave up after 24 hours: ', "
	            "COALESCE(lastError, "
	            "'no answer from Google')), 500), nextAttemptAt = NULL "
	            "WHERE status = 'scheduling' AND pendingSince < "
	            "UTC_TIMESTAMP() - INTERVAL ? SECOND",
	            &p, 1, &n) != DB_OK)
		return -1;
	s.gave_up = (int)n;

	p = db_int(RECON_BATCH);
	if (db_query(app->db,
	             "SELECT id, status, cancelPending, meetLink IS NULL FROM "
	             "bookings WHERE " WORK " AND (nextAttemptAt IS NULL OR "
	             "nextAttemptAt <= UTC_TIMESTAMP()) ORDER BY "
	             "COALESCE(nextAttemptAt, createdAt) LIMIT ?",
	             &p, 1, &rows) != DB_OK) {
		db_rows_free(&rows);
		return -1;
	}
	for (i = 0; i < rows.nrows; i++) {
		const char *id = db_cell(&rows, i, 0);
		const char *status = db_cell(&rows, i, 1);
		int cancel = strcmp(db_cell(&rows, i, 2), "1") == 0;
		int no_meet = strcmp(db_cell(&rows, i, 3), "1") == 0;
		enum booksvc_result r;
		int c = claim(app, id);

		if (c < 0) {
			db_rows_free(&rows);
			return -1;
		}
		if (c == 0)
			continue; /* another run has it */
		if (cancel) {
			r = booksvc_apply_cancel(app, "reconcile", id);
			if (r == BOOKSVC_OK)
				s.cancelled++;
		} else {
			r = booksvc_schedule(app, "reconcile", id);
			if (r == BOOKSVC_OK &&
			    strcmp(status, "scheduling") == 0)
				s.scheduled++;
			else if (r == BOOKSVC_OK && no_meet) {
				struct db_param q = db_text(id);
				struct db_rows m;

				if (db_query(app->db,
				             "SELECT meetLink IS NOT NULL FROM "
				             "bookings WHERE id = ?",
				             &q, 1, &m) == DB_OK &&
				    m.nrows == 1 &&
				    strcmp(db_cell(&m, 0, 0), "1") == 0)
					s.meet_links++;
				db_rows_free(&m);
			}
		}
		if (r == BOOKSVC_DB_DOWN) {
			db_rows_free(&rows);
			return -1;
		}
		if (r == BOOKSVC_PENDING)
			s.failed++;
		else
			release(app, id);
	}
	db_rows_free(&rows);

	if (db_query(app->db, "SELECT COUNT(*) FROM bookings WHERE " WORK, NULL,
	             0, &left) != DB_OK) {
		db_rows_free(&left);
		return -1;
	}
	s.waiting = left.nrows == 1
	                    ? (int)strtol(db_cell(&left, 0, 0), NULL, 10)
	                    : 0;
	db_rows_free(&left);
	*out = s;
	return 0;
}
