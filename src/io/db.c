#include "io/db.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include <openssl/crypto.h>

#include "core/crypto.h"
#include "core/limit.h"

struct db {
	MYSQL *conn; /* NULL while not connected */
	char *host;
	char *user;
	char *password;
	char *database;
	char *socket;
	unsigned int port;
	int in_transaction;
	char err[LIMIT_ERROR_MESSAGE];
};

struct db_param db_int(long long i)
{
	struct db_param p = {DB_PARAM_INT, i, NULL, 0};

	return p;
}

struct db_param db_text(const char *s)
{
	struct db_param p = {DB_PARAM_NULL, 0, NULL, 0};

	if (s != NULL) {
		p.type = DB_PARAM_TEXT;
		p.s = s;
		p.len = strlen(s);
	}
	return p;
}

struct db_param db_blob(const void *data, size_t len)
{
	struct db_param p = {DB_PARAM_NULL, 0, NULL, 0};

	if (data != NULL) {
		p.type = DB_PARAM_TEXT;
		p.s = data;
		p.len = len;
	}
	return p;
}

struct db_param db_null(void)
{
	struct db_param p = {DB_PARAM_NULL, 0, NULL, 0};

	return p;
}

const char *db_cell(const struct db_rows *rows, size_t r, size_t c)
{
	if (r >= rows->nrows || c >= rows->ncols)
		return NULL;
	return rows->cells[r * rows->ncols + c];
}

long long db_cell_ll(const struct db_rows *rows, size_t r, size_t c)
{
	const char *cell = db_cell(rows, r, c);

	return cell ? strtoll(cell, NULL, 10) : 0;
}

size_t db_cell_len(const struct db_rows *rows, size_t r, size_t c)
{
	if (r >= rows->nrows || c >= rows->ncols)
		return 0;
	return rows->lens[r * rows->ncols + c];
}

void db_rows_free(struct db_rows *rows)
{
	size_t i;

	if (rows == NULL)
		return;
	for (i = 0; rows->cells && i < rows->nrows * rows->ncols; i++)
		free(rows->cells[i]);
	free(rows->cells);
	free(rows->lens);
	memset(rows, 0, sizeof(*rows));
}

const char *db_result_str(enum db_result r)
{
	switch (r) {
	case DB_OK:
		return "ok";
	case DB_UNAVAILABLE:
		return "database unavailable";
	case DB_DUPLICATE:
		return "duplicate key";
	case DB_RETRY:
		return "deadlock or lock wait timeout";
	case DB_ERROR:
		break;
	}
	return "database error";
}

const char *db_error(const struct db *db)
{
	return db->err;
}

/* ---- DATABASE_URL ---- */

/* Percent-decodes n bytes of s into a malloc'd string; NULL when malformed
 * or when it decodes to a NUL byte. */
static char *pct_decode(const char *s, size_t n)
{
	char *out = malloc(n + 1);
	size_t i, o = 0;

	if (out == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi, lo;

			if (i + 2 >= n)
				goto bad;
			hi = crypto_hex_value((unsigned char)s[i + 1]);
			lo = crypto_hex_value((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				goto bad;
			out[o] = (char)(hi * 16 + lo);
			if (out[o] == '\0')
				goto bad;
			o++;
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

static void free_secret(char *s)
{
	if (s != NULL) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

void db_free(struct db *db)
{
	if (db == NULL)
		return;
	if (db->conn != NULL)
		mysql_close(db->conn);
	free(db->host);
	free(db->user);
	free_secret(db->password);
	free(db->database);
	free(db->socket);
	free(db);
}

struct db *db_new(const char *url, char *err, size_t errlen)
{
	const char *p, *at, *slash, *q, *hostend, *colon;
	struct db *db;

	db = calloc(1, sizeof(*db));
	if (db == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (strncmp(url, "mysql://", 8) != 0)
		goto bad;
	p = url + 8;
	slash = strchr(p, '/');
	if (slash == NULL)
		goto bad;
	/* The last '@' before the path separates the credentials. */
	at = NULL;
	for (q = p; q < slash; q++)
		if (*q == '@')
			at = q;
	if (at == NULL)
		goto bad;
	colon = memchr(p, ':', (size_t)(at - p));
	db->user =
	        pct_decode(p, colon ? (size_t)(colon - p) : (size_t)(at - p));
	db->password = colon ? pct_decode(colon + 1, (size_t)(at - colon - 1))
	                     : pct_decode("", 0);
	if (db->user == NULL || db->password == NULL || db->user[0] == '\0')
		goto bad;

	hostend = slash;
	colon = memchr(at + 1, ':', (size_t)(slash - at - 1));
	if (colon != NULL) {
		char *end;
		unsigned long port;

		errno = 0;
		port = strtoul(colon + 1, &end, 10);
		/* Digits only: strtoul also takes a sign and spaces. */
		if (end != slash || colon[1] < '0' || colon[1] > '9' ||
		    errno != 0 || port == 0 || port > 65535)
			goto bad;
		db->port = (unsigned int)port;
		hostend = colon;
	}
	db->host = pct_decode(at + 1, (size_t)(hostend - at - 1));
	if (db->host == NULL)
		goto bad;

	q = strchr(slash + 1, '?');
	db->database = pct_decode(slash + 1, q ? (size_t)(q - slash - 1)
	                                       : strlen(slash + 1));
	if (db->database == NULL || db->database[0] == '\0')
		goto bad;
	if (q != NULL) {
		if (strncmp(q + 1, "socket=", 7) != 0 ||
		    strchr(q + 1, '&') != NULL)
			goto bad;
		db->socket = pct_decode(q + 8, strlen(q + 8));
		if (db->socket == NULL || db->socket[0] != '/')
			goto bad;
	} else if (db->host[0] == '\0') {
		goto bad;
	}
	return db;
bad:
	snprintf(err, errlen,
	         "DATABASE_URL must look like "
	         "mysql://user:password@host[:port]/database[?socket=/path]");
	db_free(db);
	return NULL;
}

/* ---- connection ---- */

static int gone_errno(unsigned int e)
{
	return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST ||
	       e == CR_CONNECTION_ERROR || e == CR_CONN_HOST_ERROR ||
	       e == CR_SERVER_LOST_EXTENDED || e == ER_SERVER_SHUTDOWN ||
	       e == ER_CONNECTION_KILLED || e == 4031 /* idle timeout */;
}

static enum db_result classify(struct db *db, unsigned int e, const char *msg)
{
	snprintf(db->err, sizeof(db->err), "MySQL error %u: %s", e,
	         msg ? msg : "");
	if (gone_errno(e))
		return DB_UNAVAILABLE;
	if (e == ER_DUP_ENTRY || e == ER_DUP_KEY)
		return DB_DUPLICATE;
	if (e == ER_LOCK_DEADLOCK || e == ER_LOCK_WAIT_TIMEOUT)
		return DB_RETRY;
	return DB_ERROR;
}

static void disconnect(struct db *db)
{
	if (db->conn != NULL)
		mysql_close(db->conn);
	db->conn = NULL;
}

static enum db_result run(struct db *db, const char *sql,
                          const struct db_param *params, size_t n,
                          unsigned long long *affected, struct db_rows *rows,
                          int *retry_safe);

enum db_result db_connect(struct db *db)
{
	unsigned int connect_s = LIMIT_DB_CONNECT_S, io_s = LIMIT_DB_IO_S;
	my_bool no = 0;
	enum db_result r;
	int unused;
	MYSQL *m;

	if (db->conn != NULL)
		return DB_OK;
	m = mysql_init(NULL);
	if (m == NULL) {
		snprintf(db->err, sizeof(db->err), "out of memory");
		return DB_UNAVAILABLE;
	}
	if (mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &connect_s) ||
	    mysql_optionsv(m, MYSQL_OPT_READ_TIMEOUT, &io_s) ||
	    mysql_optionsv(m, MYSQL_OPT_WRITE_TIMEOUT, &io_s) ||
	    mysql_optionsv(m, MYSQL_OPT_RECONNECT, &no) ||
	    mysql_optionsv(m, MYSQL_SET_CHARSET_NAME, "utf8mb4")) {
		snprintf(db->err, sizeof(db->err), "cannot set MySQL options");
		mysql_close(m);
		return DB_UNAVAILABLE;
	}
	if (mysql_real_connect(m, db->socket ? NULL : db->host, db->user,
	                       db->password, db->database, db->port, db->socket,
	                       0) == NULL) {
		snprintf(db->err, sizeof(db->err),
		         "cannot connect to MySQL: %s", mysql_error(m));
		mysql_close(m);
		return DB_UNAVAILABLE;
	}
	db->conn = m;
	r = run(db,
	        "SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,"
	        "NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,"
	        "NO_ENGINE_SUBSTITUTION'",
	        NULL, 0, NULL, NULL, &unused);
	if (r != DB_OK) {
		disconnect(db);
		return DB_UNAVAILABLE;
	}
	return DB_OK;
}

/* ---- statements ---- */

static int bind_params(MYSQL_BIND *b, unsigned long *lens,
                       const struct db_param *params, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		switch (params[i].type) {
		case DB_PARAM_NULL:
			b[i].buffer_type = MYSQL_TYPE_NULL;
			break;
		case DB_PARAM_INT:
			b[i].buffer_type = MYSQL_TYPE_LONGLONG;
			b[i].buffer = (void *)(uintptr_t)&params[i].i;
			break;
		case DB_PARAM_TEXT:
			lens[i] = (unsigned long)params[i].len;
			b[i].buffer_type = MYSQL_TYPE_STRING;
			b[i].buffer = (void *)(uintptr_t)params[i].s;
			b[i].buffer_length = lens[i];
			b[i].length = &lens[i];
			break;
		default:
			return -1;
		}
	}
	return 0;
}

/* Copies every row of an executed statement into *rows. */
static enum db_result fetch_all(struct db *db, MYSQL_STMT *st,
                                struct db_rows *rows)
{
	enum db_result r = DB_ERROR;
	MYSQL_RES *meta = NULL;
	MYSQL_FIELD *fields;
	MYSQL_BIND *b = NULL;
	unsigned long *lens = NULL;
	my_bool *nulls = NULL, yes = 1;
	char **bufs = NULL;
	size_t ncols, nrows, ncells, i, row;
	int rc;

	meta = mysql_stmt_result_metadata(st);
	if (meta == NULL) /* no result set: not a query */
		return DB_OK;
	ncols = mysql_num_fields(meta);
	fields = mysql_fetch_fields(meta);
	if (mysql_stmt_attr_set(st, STMT_ATTR_UPDATE_MAX_LENGTH, &yes) ||
	    mysql_stmt_store_result(st)) {
		r = classify(db, mysql_stmt_errno(st), mysql_stmt_error(st));
		goto out;
	}
	nrows = (size_t)mysql_stmt_num_rows(st);
	b = calloc(ncols ? ncols : 1, sizeof(*b));
	lens = calloc(ncols ? ncols : 1, sizeof(*lens));
	nulls = calloc(ncols ? ncols : 1, sizeof(*nulls));
	bufs = calloc(ncols ? ncols : 1, sizeof(*bufs));
	ncells = (nrows > 0 && ncols > 0) ? nrows * ncols : 1;
	rows->cells = calloc(ncells, sizeof(*rows->cells));
	rows->lens = calloc(ncells, sizeof(*rows->lens));
	if (!b || !lens || !nulls || !bufs || !rows->cells || !rows->lens)
		goto nomem;
	rows->ncols = ncols;
	rows->nrows = nrows;
	for (i = 0; i < ncols; i++) {
		size_t size = fields[i].max_length + 1;

		if (size < 65)
			size = 65;
		bufs[i] = malloc(size);
		if (bufs[i] == NULL)
			goto nomem;
		b[i].buffer_type = MYSQL_TYPE_STRING;
		b[i].buffer = bufs[i];
		b[i].buffer_length = (unsigned long)(size - 1);
		b[i].length = &lens[i];
		b[i].is_null = &nulls[i];
	}
	if (ncols && mysql_stmt_bind_result(st, b)) {
		r = classify(db, mysql_stmt_errno(st), mysql_stmt_error(st));
		goto out;
	}
	for (row = 0; row < nrows; row++) {
		rc = mysql_stmt_fetch(st);
		if (rc == MYSQL_NO_DATA) {
			rows->nrows = row;
			break;
		}
		if (rc != 0 && rc != MYSQL_DATA_TRUNCATED) {
			r = classify(db, mysql_stmt_errno(st),
			             mysql_stmt_error(st));
			goto out;
		}
		for (i = 0; i < ncols; i++) {
			char *cell;

			if (nulls[i])
				continue;
			cell = malloc((size_t)lens[i] + 1);
			if (cell == NULL)
				goto nomem;
			rows->cells[row * ncols + i] = cell;
			rows->lens[row * ncols + i] = lens[i];
			if (lens[i] <= b[i].buffer_length) {
				memcpy(cell, bufs[i], lens[i]);
			} else {
				MYSQL_BIND one;
				unsigned long got = 0;

				memset(&one, 0, sizeof(one));
				one.buffer_type = MYSQL_TYPE_STRING;
				one.buffer = cell;
				one.buffer_length = lens[i];
				one.length = &got;
				if (mysql_stmt_fetch_column(
				            st, &one, (unsigned int)i, 0)) {
					r = classify(db, mysql_stmt_errno(st),
					             mysql_stmt_error(st));
					goto out;
				}
			}
			cell[lens[i]] = '\0';
		}
	}
	r = DB_OK;
	goto out;
nomem:
	snprintf(db->err, sizeof(db->err), "out of memory");
	r = DB_ERROR;
out:
	for (i = 0; bufs && i < ncols; i++)
		free(bufs[i]);
	free(bufs);
	free(nulls);
	free(lens);
	free(b);
	mysql_free_result(meta);
	if (r != DB_OK)
		db_rows_free(rows);
	return r;
}

/*
 * Prepares, binds, executes and (for a query) fetches. *retry_safe says
 * whether a failure left the statement certainly not run.
 */
static enum db_result run(struct db *db, const char *sql,
                          const struct db_param *params, size_t n,
                          unsigned long long *affected, struct db_rows *rows,
                          int *retry_safe)
{
	MYSQL_BIND b[32];
	unsigned long lens[32];
	enum db_result r;
	MYSQL_STMT *st;

	*retry_safe = 1;
	if (n > sizeof(b) / sizeof(b[0])) {
		snprintf(db->err, sizeof(db->err), "too many parameters");
		return DB_ERROR;
	}
	st = mysql_stmt_init(db->conn);
	if (st == NULL) {
		snprintf(db->err, sizeof(db->err), "out of memory");
		return DB_ERROR;
	}
	if (mysql_stmt_prepare(st, sql, (unsigned long)strlen(sql))) {
		r = classify(db, mysql_stmt_errno(st), mysql_stmt_error(st));
		goto out;
	}
	if (mysql_stmt_param_count(st) != n) {
		snprintf(db->err, sizeof(db->err),
		         "statement wants %lu parameters, %zu given",
		         mysql_stmt_param_count(st), n);
		r = DB_ERROR;
		goto out;
	}
	memset(b, 0, sizeof(b));
	if (n &&
	    (bind_params(b, lens, params, n) || mysql_stmt_bind_param(st, b))) {
		snprintf(db->err, sizeof(db->err), "cannot bind parameters");
		r = DB_ERROR;
		goto out;
	}
	*retry_safe = 0;
	if (mysql_stmt_execute(st)) {
		r = classify(db, mysql_stmt_errno(st), mysql_stmt_error(st));
		goto out;
	}
	if (affected)
		*affected = (unsigned long long)mysql_stmt_affected_rows(st);
	r = rows ? fetch_all(db, st, rows) : DB_OK;
out:
	mysql_stmt_close(st);
	return r;
}

static enum db_result statement_once(struct db *db, const char *sql,
                                     const struct db_param *params, size_t n,
                                     unsigned long long *affected,
                                     struct db_rows *rows)
{
	enum db_result r;
	int tries, retry_safe = 0;

	if (rows)
		memset(rows, 0, sizeof(*rows));
	for (tries = 0; tries < 2; tries++) {
		if (db->conn == NULL) {
			if (db->in_transaction)
				return DB_UNAVAILABLE;
			r = db_connect(db);
			if (r != DB_OK)
				return r;
		}
		r = run(db, sql, params, n, affected, rows, &retry_safe);
		if (r != DB_UNAVAILABLE)
			return r;
		/* The connection is gone, and with it any transaction (the
		 * server rolled it back; it stays failed until the caller
		 * rolls back). Try once more only when that is safe. */
		disconnect(db);
		if (db->in_transaction)
			return DB_UNAVAILABLE;
		if (!retry_safe && rows == NULL)
			return DB_UNAVAILABLE;
	}
	return DB_UNAVAILABLE;
}

/* A short random pause before trying a deadlocked statement again:
 * 1-16 ms times the tries so far, so two processes do not meet again. */
static void deadlock_pause(int tries)
{
	unsigned char r = 0;
	struct timespec ts;
	long ms;

	if (crypto_random(&r, 1) != 0)
		r = 7;
	ms = (long)(1 + (r & 15)) * tries;
	ts.tv_sec = 0;
	ts.tv_nsec = ms * 1000000L;
	nanosleep(&ts, NULL);
}

/*
 * statement_once(), and again when a statement of its own (autocommit)
 * deadlocked or waited too long for a lock: the server rolled back that
 * statement alone, so running it again is safe. Inside a transaction the
 * caller tries the whole transaction again instead.
 */
static enum db_result statement(struct db *db, const char *sql,
                                const struct db_param *params, size_t n,
                                unsigned long long *affected,
                                struct db_rows *rows)
{
	enum db_result r;
	int tries;

	for (tries = 1;; tries++) {
		r = statement_once(db, sql, params, n, affected, rows);
		if (r != DB_RETRY || db->in_transaction ||
		    tries >= LIMIT_DB_DEADLOCK_TRIES)
			return r;
		if (rows)
			db_rows_free(rows);
		deadlock_pause(tries);
	}
}

enum db_result db_exec(struct db *db, const char *sql,
                       const struct db_param *params, size_t n,
                       unsigned long long *affected)
{
	return statement(db, sql, params, n, affected, NULL);
}

enum db_result db_query(struct db *db, const char *sql,
                        const struct db_param *params, size_t n,
                        struct db_rows *rows)
{
	return statement(db, sql, params, n, NULL, rows);
}

enum db_result db_query_int(struct db *db, const char *sql,
                            const struct db_param *params, size_t n,
                            long long *out)
{
	struct db_rows rows;
	enum db_result r = db_query(db, sql, params, n, &rows);

	if (r == DB_OK && rows.nrows != 1)
		r = DB_ERROR;
	if (r == DB_OK)
		*out = db_cell_ll(&rows, 0, 0);
	db_rows_free(&rows);
	return r;
}

int db_in_transaction(const struct db *db)
{
	return db->in_transaction;
}

enum db_result db_begin(struct db *db)
{
	enum db_result r;

	db->in_transaction = 0;
	r = statement(db, "START TRANSACTION", NULL, 0, NULL, NULL);
	if (r == DB_OK)
		db->in_transaction = 1;
	return r;
}

enum db_result db_commit(struct db *db)
{
	enum db_result r;

	if (db->conn == NULL) {
		db->in_transaction = 0;
		return DB_UNAVAILABLE;
	}
	r = statement(db, "COMMIT", NULL, 0, NULL, NULL);
	db->in_transaction = 0;
	return r;
}

void db_rollback(struct db *db)
{
	if (db->conn != NULL && db->in_transaction) {
		int unused;

		if (run(db, "ROLLBACK", NULL, 0, NULL, NULL, &unused) ==
		    DB_UNAVAILABLE)
			disconnect(db);
	}
	db->in_transaction = 0;
}
