/*
 * migrate - applies sql/NNN_name.sql files once each, in lexical order,
 * recording each in schema_migrations with a SHA-256 of its text, under a
 * database lock so two runners never apply the same file. Running it again
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

#endif
