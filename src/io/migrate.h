/*
 * migrate - applies sql/NNN_name.sql files once each, in lexical order,
 * recording each in schema_migrations with a SHA-256 of its text, under a
 * lease in a row (schema_migrations_lock) so two runners never apply the
 * same file, also on two nodes of a Galera cluster (which does not
 * replicate GET_LOCK): one applies, the other waits, then finds nothing
 * left. A runner that died leaves the lease to expire. Running it again
 * applies only what is new.
 *
 * Files are split into statements at a ';' that ends a line; lines starting
 * with "--" are comments. Each statement runs as a prepared statement.
 * MySQL commits DDL as it goes, so a file that fails half-way is reported
 * and not recorded: fix it and run again.
 */
#ifndef MIGRATE_H
#define MIGRATE_H

#include <stdio.h>

struct db;

/*
 * Applies what is new in dir. Writes one line per applied file (and a
 * summary) to out. Returns 0, or -1 with a message in err.
 */
int migrate_apply(struct db *db, const char *dir, FILE *out, char *err,
                  size_t errlen) __attribute__((warn_unused_result));

/* What migrate_status() found. */
struct migrate_state {
	size_t files;            /* migrations in the directory */
	size_t pending;          /* of them, not applied */
	size_t changed;          /* applied, but the file changed since */
	char first_pending[256]; /* the first file not applied, "" */
	char first_changed[256]; /* the first file changed, "" */
};

/*
 * Compares dir with schema_migrations, changing nothing: how many files
 * are not applied yet (all of them when the table does not exist) and
 * how many changed after they were applied. 0 with *out filled, or -1
 * with a message in err (dir unreadable, the database failed).
 */
int migrate_status(struct db *db, const char *dir, struct migrate_state *out,
                   char *err, size_t errlen)
        __attribute__((warn_unused_result));

#endif
