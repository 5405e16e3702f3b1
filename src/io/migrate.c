#include "io/migrate.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "io/db.h"

#define MIGRATE_MAX_FILES 1000
#define MIGRATE_MAX_BYTES (1024u * 1024u)
/* The runners' lease: held this long, renewed before each file; another
 * runner waits this long for it. */
#define MIGRATE_LEASE_S 120
#define MIGRATE_WAIT_S  150

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A migration file name: digits, '_', then [a-z0-9_] and ".sql". */
static int migration_name(const char *s)
{
	size_t i = 0, n = strlen(s);

	if (n < 6 || strcmp(s + n - 4, ".sql") != 0)
		return 0;
	while (s[i] >= '0' && s[i] <= '9')
		i++;
	if (i == 0 || s[i] != '_')
		return 0;
	for (; i < n - 4; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

static int read_file(const char *path, struct buf *b)
{
	char chunk[8192];
	size_t n;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(b, chunk, n) != 0) {
			fclose(f);
			return -1;
		}
	if (ferror(f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

/* Runs each statement of text. 0 or -1 (err set). */
static int run_file(struct db *db, const char *name, char *text, char *err,
                    size_t errlen)
{
	struct buf stmt;
	char *line, *next;
	int rc = -1;

	buf_init(&stmt, MIGRATE_MAX_BYTES);
	for (line = text; line && *line; line = next) {
		size_t n;
		const char *p;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		if (p[0] == '-' && p[1] == '-')
			continue;
		if (buf_puts(&stmt, line) != 0 || buf_puts(&stmt, "\n") != 0)
			goto out;
		n = strlen(line);
		while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t' ||
		                 line[n - 1] == '\r'))
			n--;
		if (n > 0 && line[n - 1] == ';') {
			enum db_result r;

			stmt.data[stmt.len - 1] = '\0'; /* the newline */
			while (stmt.len > 0 && stmt.data[stmt.len - 1] != ';')
				stmt.len--;
			stmt.data[--stmt.len] = '\0'; /* the ';' */
			r = db_exec(db, buf_str(&stmt), NULL, 0, NULL);
			if (r != DB_OK) {
				snprintf(err, errlen, "%s: %s", name,
				         db_error(db));
				goto out;
			}
			buf_reset(&stmt);
		}
	}
	for (line = stmt.data; line && *line; line++)
		if (*line != ' ' && *line != '\n' && *line != '\t' &&
		    *line != '\r') {
			snprintf(err, errlen,
			         "%s: the last statement has no ';'", name);
			goto out;
		}
	rc = 0;
out:
	buf_free(&stmt);
	return rc;
}

/* The migration files of dir, sorted, into names (malloc'd, *n of them;
 * the caller frees them, also on failure). 0, or -1 with err set. */
static int list_files(const char *dir, char **names, size_t *n, char *err,
                      size_t errlen)
{
	struct dirent *de;
	DIR *d;

	*n = 0;
	d = opendir(dir);
	if (d == NULL) {
		snprintf(err, errlen, "cannot open %s", dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (!migration_name(de->d_name))
			continue;
		if (*n == MIGRATE_MAX_FILES ||
		    (names[*n] = strdup(de->d_name)) == NULL) {
			snprintf(err, errlen, "too many migrations");
			closedir(d);
			return -1;
		}
		(*n)++;
	}
	closedir(d);
	qsort(names, *n, sizeof(names[0]), cmp_names);
	return 0;
}

/* The SHA-256 of file dir/name in hex. 0, or -1 with err set. */
static int file_checksum(const char *dir, const char *name, char hex[65],
                         char *err, size_t errlen)
{
	char path[4096];
	unsigned char sum[32];
	struct buf text;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	buf_init(&text, MIGRATE_MAX_BYTES);
	if (read_file(path, &text) != 0) {
		snprintf(err, errlen, "cannot read %s", path);
		buf_free(&text);
		return -1;
	}
	crypto_sha256(buf_str(&text), text.len, sum);
	crypto_hex(sum, sizeof(sum), hex);
	buf_free(&text);
	return 0;
}

/*
 * The lock between runners is a row, not GET_LOCK(): a lock of one server
 * that a Galera cluster does not replicate, so two runners on two nodes
 * would both apply the same file. The row's UPDATE is a compare-and-swap
 * the cluster certifies: one runner wins, the other sees the lease taken
 * and waits. A lease, not a lock: a runner that died leaves it to expire.
 */
static int lease_setup(struct db *db)
{
	if (db_exec(db,
	            "CREATE TABLE IF NOT EXISTS schema_migrations_lock (id "
	            "TINYINT UNSIGNED NOT NULL PRIMARY KEY, holder CHAR(32) "
	            "CHARACTER SET ascii NULL, leaseUntil DATETIME NULL, takes "
	            "BIGINT UNSIGNED NOT NULL DEFAULT 0) ENGINE=InnoDB",
	            NULL, 0, NULL) != DB_OK)
		return -1;
	return db_exec(db,
	               "INSERT IGNORE INTO schema_migrations_lock (id) "
	               "VALUES (1)",
	               NULL, 0, NULL) == DB_OK
	               ? 0
	               : -1;
}

/* Takes (or renews: the holder is ours) the lease. 1 when ours, 0 when
 * another runner holds it, -1 on a database error. */
static int lease_take(struct db *db, const char *holder)
{
	struct db_param p[3] = {db_text(holder), db_int(MIGRATE_LEASE_S),
	                        db_text(holder)};
	unsigned long long affected = 0;

	/* takes changes the row even when renewing within one second. */
	if (db_exec(db,
	            "UPDATE schema_migrations_lock SET holder = ?, leaseUntil "
	            "= "
	            "UTC_TIMESTAMP() + INTERVAL ? SECOND, takes = takes + 1 "
	            "WHERE id = 1 AND (holder IS NULL OR leaseUntil < "
	            "UTC_TIMESTAMP() OR holder = ?)",
	            p, 3, &affected) != DB_OK)
		return -1;
	return affected == 1;
}

static void lease_release(struct db *db, const char *holder, FILE *out)
{
	struct db_param p = db_text(holder);

	if (db_exec(db,
	            "UPDATE schema_migrations_lock SET holder = NULL, "
	            "leaseUntil = NULL WHERE id = 1 AND holder = ?",
	            &p, 1, NULL) != DB_OK)
		fprintf(out, "migrate: releasing the lock: %s\n", db_error(db));
}

/* Waits for the lease. 0 when ours, -1 with err set. */
static int lease_wait(struct db *db, const char *holder, FILE *out, char *err,
                      size_t errlen)
{
	struct timespec pause = {0, 200 * 1000000L};
	int waited_ms = 0, said = 0, got;

	if (lease_setup(db) != 0) {
		snprintf(err, errlen, "cannot take the migration lock: %s",
		         db_error(db));
		return -1;
	}
	while ((got = lease_take(db, holder)) == 0) {
		if (waited_ms >= MIGRATE_WAIT_S * 1000) {
			snprintf(err, errlen,
			         "cannot take the migration lock: another "
			         "runner held it for %d s",
			         MIGRATE_WAIT_S);
			return -1;
		}
		if (!said++)
			fprintf(out, "migrate: another runner is applying "
			             "migrations; waiting\n");
		nanosleep(&pause, NULL);
		waited_ms += 200;
	}
	if (got < 0) {
		snprintf(err, errlen, "cannot take the migration lock: %s",
		         db_error(db));
		return -1;
	}
	/* What the previous holder wrote is read, not an older copy. */
	if (db_causal_reads(db, 1) != DB_OK) {
		snprintf(err, errlen, "%s", db_error(db));
		return -1;
	}
	return 0;
}

int migrate_apply(struct db *db, const char *dir, FILE *out, char *err,
                  size_t errlen)
{
	char *names[MIGRATE_MAX_FILES];
	size_t nnames = 0, i, applied = 0;
	struct db_rows rows = {0};
	int locked = 0, rc = -1;
	char holder[33];

	if (list_files(dir, names, &nnames, err, errlen) != 0)
		goto out;
	if (crypto_random_hex(holder, sizeof(holder), 16) != 0) {
		snprintf(err, errlen, "no randomness for the migration lock");
		goto out;
	}
	if (lease_wait(db, holder, out, err, errlen) != 0)
		goto out;
	locked = 1;
	if (db_exec(db,
	            "CREATE TABLE IF NOT EXISTS schema_migrations ("
	            "version VARCHAR(255) CHARACTER SET ascii NOT NULL "
	            "PRIMARY KEY, checksum CHAR(64) CHARACTER SET ascii NOT "
	            "NULL, appliedAt DATETIME NOT NULL DEFAULT "
	            "CURRENT_TIMESTAMP) ENGINE=InnoDB",
	            NULL, 0, NULL) != DB_OK) {
		snprintf(err, errlen, "cannot create schema_migrations: %s",
		         db_error(db));
		goto out;
	}
	for (i = 0; i < nnames; i++) {
		char path[4096], hex[65];
		unsigned char sum[32];
		struct db_param p[2];
		struct buf text;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		buf_init(&text, MIGRATE_MAX_BYTES);
		if (read_file(path, &text) != 0) {
			snprintf(err, errlen, "cannot read %s", path);
			buf_free(&text);
			goto out;
		}
		crypto_sha256(buf_str(&text), text.len, sum);
		crypto_hex(sum, sizeof(sum), hex);
		p[0] = db_text(names[i]);
		if (db_query(db,
		             "SELECT checksum FROM schema_migrations "
		             "WHERE version = ?",
		             p, 1, &rows) != DB_OK) {
			snprintf(err, errlen, "%s", db_error(db));
			buf_free(&text);
			goto out;
		}
		if (rows.nrows == 1) {
			if (strcmp(db_cell(&rows, 0, 0), hex) != 0)
				fprintf(out,
				        "migrate: warning: %s changed after it "
				        "was applied; add a new migration "
				        "instead\n",
				        names[i]);
			db_rows_free(&rows);
			buf_free(&text);
			continue;
		}
		db_rows_free(&rows);
		if (lease_take(db, holder) != 1) {
			snprintf(err, errlen,
			         "lost the migration lock before %s: %s",
			         names[i], db_error(db));
			buf_free(&text);
			goto out;
		}
		if (text.len == 0 ||
		    run_file(db, names[i], text.data, err, errlen) != 0) {
			if (text.len == 0)
				snprintf(err, errlen, "%s is empty", names[i]);
			buf_free(&text);
			goto out;
		}
		buf_free(&text);
		p[1] = db_text(hex);
		if (db_exec(db,
		            "INSERT INTO schema_migrations (version, checksum) "
		            "VALUES (?, ?)",
		            p, 2, NULL) != DB_OK) {
			snprintf(err, errlen, "%s", db_error(db));
			goto out;
		}
		fprintf(out, "migrate: applied %s\n", names[i]);
		applied++;
	}
	fprintf(out, "migrate: %zu applied, %zu already there\n", applied,
	        nnames - applied);
	rc = 0;
out:
	if (locked)
		lease_release(db, holder, out);
	db_rows_free(&rows);
	for (i = 0; i < nnames; i++)
		free(names[i]);
	return rc;
}

int migrate_status(struct db *db, const char *dir, struct migrate_state *out,
                   char *err, size_t errlen)
{
	char *names[MIGRATE_MAX_FILES];
	struct migrate_state st;
	struct db_rows rows = {0};
	size_t nnames = 0, i;
	long long exists;
	int rc = -1;

	memset(&st, 0, sizeof(st));
	if (list_files(dir, names, &nnames, err, errlen) != 0)
		goto out;
	st.files = nnames;
	if (db_query_int(db,
	                 "SELECT COUNT(*) FROM information_schema.tables WHERE "
	                 "table_schema = DATABASE() AND table_name = "
	                 "'schema_migrations'",
	                 NULL, 0, &exists) != DB_OK) {
		snprintf(err, errlen, "%s", db_error(db));
		goto out;
	}
	for (i = 0; i < nnames; i++) {
		struct db_param p = db_text(names[i]);
		char hex[65];

		if (exists == 0) {
			if (st.pending++ == 0)
				snprintf(st.first_pending,
				         sizeof(st.first_pending), "%s",
				         names[i]);
			continue;
		}
		if (db_query(db,
		             "SELECT checksum FROM schema_migrations "
		             "WHERE version = ?",
		             &p, 1, &rows) != DB_OK) {
			snprintf(err, errlen, "%s", db_error(db));
			goto out;
		}
		if (rows.nrows == 0) {
			if (st.pending++ == 0)
				snprintf(st.first_pending,
				         sizeof(st.first_pending), "%s",
				         names[i]);
		} else {
			if (file_checksum(dir, names[i], hex, err, errlen) != 0)
				goto out;
			if (db_cell(&rows, 0, 0) == NULL ||
			    strcmp(db_cell(&rows, 0, 0), hex) != 0) {
				if (st.changed++ == 0)
					snprintf(st.first_changed,
					         sizeof(st.first_changed), "%s",
					         names[i]);
			}
		}
		db_rows_free(&rows);
	}
	*out = st;
	rc = 0;
out:
	db_rows_free(&rows);
	for (i = 0; i < nnames; i++)
		free(names[i]);
	return rc;
}
