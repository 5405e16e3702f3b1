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
#include "core/log.h"

/* ER_UNKNOWN_COM_ERROR: what a Galera node that is not part of the primary
 * component (or not synced yet) answers to any use. */
#define DB_WSREP_NOT_READY 1047

/* One node of DATABASE_URL: a TCP host and port, or the unix socket. */
struct db_node {
	char *host;        /* NULL for the socket */
	unsigned int port; /* 0: the default */
};

struct db {
	MYSQL *conn; /* NULL while not connected */
	struct db_node nodes[LIMIT_DB_HOSTS];
	size_t nnodes;
	size_t node;   /* the one connected to, or to try first */
	size_t logged; /* the node last named in the log, +1 (0: none) */
	char *user;
	char *password;
	char *database;
	char *socket;
	int in_transaction;
	int conflicted; /* the transaction met a conflict (see db_conflicted) */
	int galera;     /* the server has wsrep_sync_wait */
	int causal;     /* wsrep_sync_wait is on until the transaction ends */
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
	size_t i;

	if (db == NULL)
		return;
	if (db->conn != NULL)
		mysql_close(db->conn);
	for (i = 0; i < db->nnodes; i++)
		free(db->nodes[i].host);
	free(db->user);
	free_secret(db->password);
	free(db->database);
	free(db->socket);
	free(db);
}

/* One "host[:port]" entry of n bytes at s into node. 0, or -1 when
 * malformed. An empty host is allowed here (the socket's entry). */
static int parse_node(const char *s, size_t n, struct db_node *node)
{
	const char *colon = memchr(s, ':', n), *hostend = s + n;

	if (colon != NULL) {
		char digits[8], *end;
		size_t k = (size_t)(s + n - colon - 1);
		unsigned long port;

		/* Digits only: strtoul also takes a sign and spaces. */
		if (k == 0 || k >= sizeof(digits))
			return -1;
		memcpy(digits, colon + 1, k);
		digits[k] = '\0';
		if (strspn(digits, "0123456789") != k)
			return -1;
		errno = 0;
		port = strtoul(digits, &end, 10);
		if (errno != 0 || port == 0 || port > 65535)
			return -1;
		node->port = (unsigned int)port;
		hostend = colon;
	}
	node->host = pct_decode(s, (size_t)(hostend - s));
	return node->host == NULL ? -1 : 0;
}

/*
 * The nodes between the credentials and the path: "h1[:p1],h2[:p2],...".
 * With one entry and a socket, the socket is used and the host ignored (as
 * ever); with several, the socket is the one empty entry. 0 or -1.
 */
static int parse_nodes(struct db *db, const char *s, size_t n)
{
	const char *end = s + n;
	size_t i, empty = 0;

	for (;;) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		const char *stop = comma ? comma : end;

		if (db->nnodes == LIMIT_DB_HOSTS ||
		    parse_node(s, (size_t)(stop - s), &db->nodes[db->nnodes]))
			return -1;
		db->nnodes++;
		if (comma == NULL)
			break;
		s = comma + 1;
	}
	for (i = 0; i < db->nnodes; i++)
		if (db->nodes[i].host[0] == '\0')
			empty++;
	if (db->nnodes == 1) {
		if (db->socket != NULL) {
			free(db->nodes[0].host);
			db->nodes[0].host = NULL;
			db->nodes[0].port = 0;
			return 0;
		}
		return empty ? -1 : 0;
	}
	if (empty != (db->socket != NULL ? 1u : 0u))
		return -1;
	for (i = 0; i < db->nnodes; i++)
		if (db->nodes[i].host[0] == '\0') {
			if (db->nodes[i].port != 0)
				return -1;
			free(db->nodes[i].host);
			db->nodes[i].host = NULL;
		}
	return 0;
}

struct db *db_new(const char *url, char *err, size_t errlen)
{
	const char *p, *at, *slash, *q, *colon;
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
	}
	if (parse_nodes(db, at + 1, (size_t)(slash - at - 1)) != 0)
		goto bad;
	return db;
bad:
	snprintf(err, errlen,
	         "DATABASE_URL must look like "
	         "mysql://user:password@host[:port][,host[:port]...]/database"
	         "[?socket=/path]");
	db_free(db);
	return NULL;
}

size_t db_nodes(const struct db *db)
{
	return db->nnodes;
}

int db_node_name(const struct db *db, size_t i, char *out, size_t len)
{
	const struct db_node *n;

	if (i >= db->nnodes)
		return -1;
	n = &db->nodes[i];
	if (n->host == NULL)
		snprintf(out, len, "%s", db->socket);
	else if (n->port != 0)
		snprintf(out, len, "%s:%u", n->host, n->port);
	else
		snprintf(out, len, "%s", n->host);
	return 0;
}

/* ---- connection ---- */

static int gone_errno(unsigned int e)
{
	return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST ||
	       e == CR_CONNECTION_ERROR || e == CR_CONN_HOST_ERROR ||
	       e == CR_SERVER_LOST_EXTENDED || e == ER_SERVER_SHUTDOWN ||
	       e == ER_CONNECTION_KILLED || e == 4031 /* idle timeout */ ||
	       e == DB_WSREP_NOT_READY;
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

/* The connection was lost (or its node stopped serving): the next
 * connection starts with the next node of the list. */
static void lose(struct db *db)
{
	disconnect(db);
	if (db->nnodes > 1)
		db->node = (db->node + 1) % db->nnodes;
}

static enum db_result run(struct db *db, const char *sql,
                          const struct db_param *params, size_t n,
                          unsigned long long *affected, struct db_rows *rows,
                          int *retry_safe);

/*
 * Whether the server just connected to may be used: a Galera node
 * (wsrep_on ON) must say wsrep_ready ON; a plain server is ready.
 * Also notes whether the server knows wsrep_sync_wait. 1, 0 (not ready,
 * db->err says why) or -1 (the connection failed).
 */
static int node_ready(struct db *db)
{
	struct db_rows rows;
	enum db_result r;
	int unused, ready;

	memset(&rows, 0, sizeof(rows));
	r = run(db,
	        "SELECT (SELECT VARIABLE_VALUE FROM "
	        "information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = "
	        "'WSREP_READY'), (SELECT COUNT(*) FROM "
	        "information_schema.SESSION_VARIABLES WHERE VARIABLE_NAME = "
	        "'WSREP_SYNC_WAIT'), (SELECT VARIABLE_VALUE FROM "
	        "information_schema.GLOBAL_VARIABLES WHERE VARIABLE_NAME = "
	        "'WSREP_ON')",
	        NULL, 0, NULL, &rows, &unused);
	if (r == DB_UNAVAILABLE) {
		db_rows_free(&rows);
		/* 1047: up, but not part of the primary component. */
		return strstr(db->err, "error 1047") != NULL ? 0 : -1;
	}
	if (r != DB_OK || rows.nrows != 1) {
		/* Not MariaDB's information_schema: a plain server. */
		db_rows_free(&rows);
		db->galera = 0;
		return 1;
	}
	/* A MariaDB without a cluster has wsrep_ready, OFF, and wsrep_on
	 * OFF too. */
	db->galera = db_cell_ll(&rows, 0, 1) > 0 &&
	             db_cell(&rows, 0, 2) != NULL &&
	             strcmp(db_cell(&rows, 0, 2), "ON") == 0;
	ready = !db->galera || (db_cell(&rows, 0, 0) != NULL &&
	                        strcmp(db_cell(&rows, 0, 0), "ON") == 0);
	db_rows_free(&rows);
	if (!ready)
		snprintf(db->err, sizeof(db->err),
		         "the node is not ready (wsrep_ready is not ON)");
	return ready;
}

/* Connects to node i. DB_OK, or DB_UNAVAILABLE with db->err set. */
static enum db_result connect_node(struct db *db, size_t i)
{
	unsigned int connect_s = LIMIT_DB_CONNECT_S, io_s = LIMIT_DB_IO_S;
	const struct db_node *node = &db->nodes[i];
	my_bool no = 0;
	enum db_result r;
	int unused, ready;
	MYSQL *m;

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
	if (mysql_real_connect(m, node->host, db->user, db->password,
	                       db->database, node->port,
	                       node->host ? NULL : db->socket, 0) == NULL) {
		snprintf(db->err, sizeof(db->err),
		         "cannot connect to MySQL: %s", mysql_error(m));
		mysql_close(m);
		return DB_UNAVAILABLE;
	}
	db->conn = m;
	db->causal = 0;
	ready = node_ready(db);
	if (ready != 1) {
		disconnect(db);
		return DB_UNAVAILABLE;
	}
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

/*
 * Tries the nodes in order, starting with db->node (the first of the list,
 * or the one after a node that was lost), and keeps the first that
 * answers and is ready. With several nodes, the log names the node in use
 * whenever it changes.
 */
enum db_result db_connect(struct db *db)
{
	char name[256];
	size_t k;

	if (db->conn != NULL)
		return DB_OK;
	for (k = 0; k < db->nnodes; k++) {
		size_t i = (db->node + k) % db->nnodes;

		if (connect_node(db, i) != DB_OK) {
			if (db->nnodes > 1 &&
			    db_node_name(db, i, name, sizeof(name)) == 0)
				log_warn(NULL, "database node %s skipped: %s",
				         name, db->err);
			continue;
		}
		db->node = i;
		/* With one node there is nothing to tell. */
		if (db->nnodes > 1 && db->logged != i + 1 &&
		    db_node_name(db, i, name, sizeof(name)) == 0) {
			log_info(NULL, "database: using node %s (%zu of %zu)",
			         name, i + 1, db->nnodes);
			db->logged = i + 1;
		}
		return DB_OK;
	}
	/* Next time, the list from its start. */
	db->node = 0;
	return DB_UNAVAILABLE;
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
	int tries, retry_safe = 0, refused;

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
		if (r == DB_RETRY && db->in_transaction)
			db->conflicted = 1;
		if (r != DB_UNAVAILABLE)
			return r;
		/* The connection is gone, or its node refused to serve
		 * (1047: nothing ran), and with it any transaction (the
		 * server rolled it back; it stays failed until the caller
		 * rolls back). Another node is tried next. */
		refused = strstr(db->err, "error 1047") != NULL;
		lose(db);
		if (db->in_transaction) {
			/* Nothing of it was committed, unless this was the
			 * COMMIT and the node went away meanwhile: that
			 * fate is unknown. Otherwise: try it whole again. */
			if (!refused && strcmp(sql, "COMMIT") == 0)
				return DB_UNAVAILABLE;
			db->conflicted = 1;
			return DB_RETRY;
		}
		if (!retry_safe && rows == NULL && !refused)
			return DB_UNAVAILABLE;
	}
	return DB_UNAVAILABLE;
}

/* A short random pause before trying a deadlocked statement or
 * transaction again: 1-16 ms times the tries so far, so two processes do
 * not meet again. */
void db_retry_pause(int tries)
{
	unsigned char r = 0;
	struct timespec ts;
	long ms;

	if (crypto_random(&r, 1) != 0)
		r = 7;
	ms = (long)(1 + (r & 15)) * (tries > 0 ? tries : 1);
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

/* Sets wsrep_sync_wait for the session (a Galera node only). */
static void sync_wait(struct db *db, int mask)
{
	char sql[64];
	int unused;

	if (!db->galera || db->conn == NULL)
		return;
	snprintf(sql, sizeof(sql), "SET SESSION wsrep_sync_wait = %d", mask);
	if (run(db, sql, NULL, 0, NULL, NULL, &unused) == DB_UNAVAILABLE)
		disconnect(db);
}

/*
 * statement_once(), and again when a statement of its own (autocommit)
 * deadlocked, waited too long for a lock or lost a Galera certification:
 * the server rolled back that statement alone, so running it again is
 * safe. On Galera the tries that follow wait until the node has applied
 * what the cluster committed (the writes that won), so that a
 * compare-and-swap sees them instead of conflicting again. Inside a
 * transaction the caller tries the whole transaction again instead.
 */
static enum db_result statement(struct db *db, const char *sql,
                                const struct db_param *params, size_t n,
                                unsigned long long *affected,
                                struct db_rows *rows)
{
	enum db_result r;
	int tries, waiting = 0;

	for (tries = 1;; tries++) {
		r = statement_once(db, sql, params, n, affected, rows);
		if (r != DB_RETRY || db->in_transaction ||
		    tries >= LIMIT_DB_DEADLOCK_TRIES)
			break;
		if (rows)
			db_rows_free(rows);
		db_retry_pause(tries);
		if (!waiting && db->galera) {
			sync_wait(db, 15);
			waiting = 1;
		}
	}
	if (waiting)
		sync_wait(db, db->causal ? 1 : 0);
	return r;
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
	db->conflicted = 0;
	r = statement(db, "START TRANSACTION", NULL, 0, NULL, NULL);
	if (r == DB_OK)
		db->in_transaction = 1;
	return r;
}

/* The end of a transaction ends its causal reads. */
static void causal_end(struct db *db)
{
	if (db->causal)
		sync_wait(db, 0);
	db->causal = 0;
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
	causal_end(db);
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
	causal_end(db);
}

int db_conflicted(const struct db *db)
{
	return db->conflicted;
}

enum db_result db_causal_reads(struct db *db, int on)
{
	enum db_result r;

	if (!db->galera || db->conn == NULL || db->causal == !!on)
		return DB_OK;
	r = db_exec(db,
	            on ? "SET SESSION wsrep_sync_wait = 1"
	               : "SET SESSION wsrep_sync_wait = 0",
	            NULL, 0, NULL);
	if (r == DB_OK)
		db->causal = !!on;
	return r;
}
