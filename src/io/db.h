/*
 * db - MySQL/MariaDB access through prepared statements only.
 *
 * One connection per process, opened lazily from DATABASE_URL
 * (mysql://user:password@host[:port][,host[:port]...]/database
 * [?socket=/path], user and password percent-decoded), in UTC and utf8mb4
 * with a strict sql_mode. Several hosts are the nodes of a Galera cluster,
 * tried in order: a node that does not answer, or answers but is not ready
 * (wsrep_ready OFF, error 1047), is skipped; a connection lost, or refused
 * with 1047, makes the next connection start with the next node. With
 * several hosts, the socket is the one empty entry ("@,db2:3306/...");
 * with one, a socket replaces the host. With several, the log names the node
 * in use.
 * When the server went away the connection is opened again and the
 * statement retried once, where that is safe: always when preparing failed
 * (nothing ran), and for reads when executing failed; a write whose fate is
 * unknown, or anything inside a transaction, is reported as
 * DB_UNAVAILABLE instead (but a transaction whose connection was lost
 * before its COMMIT, or refused with 1047, is DB_RETRY: nothing of it was
 * committed, and another node may take it whole). A statement of its own
 * (outside a transaction) that deadlocked or timed out waiting for a lock was
 * rolled back alone by the server, and is run again, a few times, after a short
 * random pause; inside a transaction DB_RETRY goes to the caller, who tries
 * the whole transaction again. A database that is down makes calls fail fast
 * with DB_UNAVAILABLE; the next call tries again, so the program recovers
 * by itself when the server is back.
 *
 * Parameters are bound, never pasted into SQL. Results are copied out as
 * strings (NULL for SQL NULL), so a caller never deals with MYSQL_BIND.
 */
#ifndef DB_H
#define DB_H

#include <stddef.h>

struct db;

enum db_result {
	DB_OK = 0,
	DB_UNAVAILABLE, /* cannot connect, or the connection was lost */
	DB_DUPLICATE,   /* a unique key refused the row */
	DB_RETRY,       /* deadlock or lock wait timeout: the transaction was
	                   rolled back and may be tried again */
	DB_ERROR        /* anything else (a bug, a constraint, out of memory) */
};

enum db_param_type { DB_PARAM_NULL, DB_PARAM_INT, DB_PARAM_TEXT };

struct db_param {
	enum db_param_type type;
	long long i;
	const char *s; /* borrowed; need not be NUL-terminated */
	size_t len;
};

/* Parameter constructors. A NULL string gives SQL NULL. */
struct db_param db_int(long long i);
struct db_param db_text(const char *s);
struct db_param db_blob(const void *data, size_t len);
struct db_param db_null(void);

/* A result: nrows x ncols cells; cell(r, c) is a malloc'd NUL-terminated
 * string or NULL for SQL NULL, and len(r, c) its length (binary-safe). */
struct db_rows {
	size_t nrows;
	size_t ncols;
	char **cells;
	size_t *lens;
};

/* The cell at row r, column c (borrowed from rows), NULL for SQL NULL. */
const char *db_cell(const struct db_rows *rows, size_t r, size_t c);

/* The cell as an integer (strtoll), 0 for SQL NULL. */
long long db_cell_ll(const struct db_rows *rows, size_t r, size_t c);

/* Its length in bytes. */
size_t db_cell_len(const struct db_rows *rows, size_t r, size_t c);

/* Releases a result (NULL-safe); the struct can be reused. */
void db_rows_free(struct db_rows *rows);

/*
 * Parses url and returns a handle that connects on first use, or NULL with
 * a message in err when the URL is malformed (the message never shows the
 * password). The caller frees the handle with db_free().
 */
struct db *db_new(const char *url, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/* Closes the connection and frees the handle. NULL-safe. */
void db_free(struct db *db);

/* Connects now if not connected. DB_OK or DB_UNAVAILABLE. */
enum db_result db_connect(struct db *db) __attribute__((warn_unused_result));

/*
 * Runs a statement that returns no rows (INSERT, UPDATE, DELETE, ...) with
 * n bound parameters. *affected (may be NULL) gets the affected row count.
 */
enum db_result db_exec(struct db *db, const char *sql,
                       const struct db_param *params, size_t n,
                       unsigned long long *affected)
        __attribute__((warn_unused_result));

/*
 * Runs a query and copies every row into *rows (which the caller frees with
 * db_rows_free(), also on failure: it is then empty).
 */
enum db_result db_query(struct db *db, const char *sql,
                        const struct db_param *params, size_t n,
                        struct db_rows *rows)
        __attribute__((warn_unused_result));

/*
 * Runs a query that answers one row whose first cell is an integer
 * (COUNT(*) and the like) into *out. DB_OK, the query's error, or
 * DB_ERROR when the answer is not one row.
 */
enum db_result db_query_int(struct db *db, const char *sql,
                            const struct db_param *params, size_t n,
                            long long *out) __attribute__((warn_unused_result));

/* Transactions. db_begin() reconnects when needed; within a transaction a
 * lost connection is DB_UNAVAILABLE (the server rolled it back). */
enum db_result db_begin(struct db *db) __attribute__((warn_unused_result));
enum db_result db_commit(struct db *db) __attribute__((warn_unused_result));
/* Rolls back, ignoring errors (the transaction is over either way). */
void db_rollback(struct db *db);

/* 1 between db_begin() and the commit or rollback, else 0. */
int db_in_transaction(const struct db *db);

/*
 * 1 when a statement of the current (or the last) transaction failed with
 * DB_RETRY: a deadlock, a lock wait timeout, a Galera certification
 * conflict (at any statement, COMMIT included) or a lost node. The whole
 * transaction may then be tried again, even when the caller only saw a
 * failed read. Reset by db_begin().
 */
int db_conflicted(const struct db *db);

/* A short random pause, growing with tries, before trying again. */
void db_retry_pause(int tries);

/*
 * On a Galera node: on = 1 makes the reads that follow wait until this
 * node has applied everything the cluster committed before them
 * (wsrep_sync_wait = 1), on = 0 ends that. Nothing on a plain server.
 */
enum db_result db_causal_reads(struct db *db, int on)
        __attribute__((warn_unused_result));

/* The number of nodes in DATABASE_URL, and node i's name ("host:port" or
 * the socket's path) into out. 0, or -1 when there is no node i. */
size_t db_nodes(const struct db *db);
int db_node_name(const struct db *db, size_t i, char *out, size_t len);

/* The last error as a message for the log (no password, no parameters). */
const char *db_error(const struct db *db);

/* A name for a result, for messages. */
const char *db_result_str(enum db_result r);

#endif
