/*
 * migrate - applies the migrations in sql/ (or the directory given) to the
 * database of MIGRATE_DATABASE_URL (the account that may change tables),
 * or of DATABASE_URL without it. Exit 0 when the schema is up to date.
 */
#include <stdio.h>
#include <stdlib.h>

#include "io/db.h"
#include "core/limit.h"
#include "io/migrate.h"

int main(int argc, char **argv)
{
	const char *url = getenv("MIGRATE_DATABASE_URL");
	const char *dir = argc > 1 ? argv[1] : "sql";
	char err[LIMIT_ERROR_MESSAGE];
	struct db *db;
	int rc = 1;

	if (url == NULL || *url == '\0')
		url = getenv("DATABASE_URL");
	if (url == NULL || *url == '\0') {
		fprintf(stderr, "migrate: DATABASE_URL is not set\n");
		return 1;
	}
	db = db_new(url, err, sizeof(err));
	if (db == NULL) {
		fprintf(stderr, "migrate: %s\n", err);
		return 1;
	}
	if (db_connect(db) != DB_OK)
		fprintf(stderr, "migrate: %s\n", db_error(db));
	else if (migrate_apply(db, dir, stdout, err, sizeof(err)) != 0)
		fprintf(stderr, "migrate: %s\n", err);
	else
		rc = 0;
	db_free(db);
	return rc;
}
