/*
 * reconcile - run by a timer, finishes what the endpoints left undone.
 *
 * This first version only counts the work waiting (bookings in
 * "scheduling", Meet links missing, cancellations not applied to Google);
 * finishing it comes with the booking service. Exit 0 when nothing waits,
 * 1 when work waits for a later run, 2 when it could not run.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "limit.h"

int main(void)
{
	char err[LIMIT_ERROR_MESSAGE];
	struct config cfg;
	struct db_rows rows = {0};
	struct db *db = NULL;
	const char *waiting;
	int rc = 2;

	if (config_load(&cfg, CONFIG_DB | CONFIG_GOOGLE | CONFIG_ADMIN_TOKEN,
	                err, sizeof(err)) != 0) {
		fprintf(stderr, "reconcile: %s\n", err);
		return 2;
	}
	db = db_new(cfg.database_url, err, sizeof(err));
	if (db == NULL) {
		fprintf(stderr, "reconcile: %s\n", err);
		return 2;
	}
	if (db_query(
	            db,
	            "SELECT COUNT(*) FROM bookings WHERE status = 'scheduling' "
	            "OR (status = 'scheduled' AND meetLink IS NULL) "
	            "OR cancelPending = 1",
	            NULL, 0, &rows) != DB_OK ||
	    rows.nrows != 1) {
		fprintf(stderr, "reconcile: %s\n", db_error(db));
		goto out;
	}
	waiting = db_cell(&rows, 0, 0);
	printf("reconcile: %s bookings waiting, 0 finished (finishing them "
	       "is not built yet)\n",
	       waiting ? waiting : "0");
	rc = (waiting && strcmp(waiting, "0") == 0) ? 0 : 1;
out:
	db_rows_free(&rows);
	db_free(db);
	return rc;
}
