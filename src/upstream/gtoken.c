#include "upstream/gtoken.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json_object.h>
#include <openssl/crypto.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "io/db.h"
#include "io/http.h"
#include "core/jsonio.h"
#include "core/limit.h"
#include "core/log.h"

/* The sealed columns are bound to their column name, so one cannot be
 * swapped for the other. */
#define AAD_REFRESH "users.googleRefreshToken"
#define AAD_ACCESS  "users.googleAccessToken"

void gtoken_clear(struct gtoken *tok)
{
	if (tok->access != NULL)
		crypto_free_secret(tok->access, strlen(tok->access));
	tok->access = NULL;
	tok->expires_at = 0;
}

static int seal(struct proc *proc, const char *plain, const char *aad,
                unsigned char **box, size_t *boxlen)
{
	return crypto_seal(proc->cfg.token_key, plain, strlen(plain), aad,
	                   strlen(aad), box, boxlen);
}

/* Opens a sealed column into a malloc'd string, or NULL. */
static char *open_box(struct proc *proc, const char *box, size_t len,
                      const char *aad)
{
	unsigned char *plain = NULL;
	size_t plainlen;

	if (box == NULL ||
	    crypto_open(proc->cfg.token_key, (const unsigned char *)box, len,
	                aad, strlen(aad), &plain, &plainlen) != 0)
		return NULL;
	if (strlen((char *)plain) != plainlen) {
		crypto_free_secret(plain, plainlen);
		return NULL;
	}
	return (char *)plain;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* The admin's row. */
struct row {
	long long id;
	char *refresh; /* sealed */
	size_t refresh_len;
	char *access; /* sealed, may be NULL */
	size_t access_len;
	long long expires_at; /* 0 when none */
	int ok;               /* googleTokenStatus = 'ok' */
	long long now;        /* the database's clock */
};

static void row_free(struct row *r)
{
	free(r->refresh);
	free(r->access);
	memset(r, 0, sizeof(*r));
}

static char *dup_cell(const struct db_rows *rows, size_t c, size_t *len)
{
	const char *cell = db_cell(rows, 0, c);
	char *p;

	*len = db_cell_len(rows, 0, c);
	if (cell == NULL)
		return NULL;
	p = malloc(*len + 1);
	if (p != NULL) {
		memcpy(p, cell, *len);
		p[*len] = '\0';
	}
	return p;
}

/* 1 and *r filled when there is a connected admin, 0 when none, -1 when
 * the database failed. */
static int read_row(struct proc *proc, struct row *r)
{
	struct db_rows rows;
	enum db_result dr;
	int found = 0;

	memset(r, 0, sizeof(*r));
	dr = db_query(
	        proc->db,
	        "SELECT id, googleRefreshToken, googleAccessToken, "
	        "COALESCE(UNIX_TIMESTAMP(googleAccessExpiresAt), 0), "
	        "googleTokenStatus = 'ok', UNIX_TIMESTAMP(UTC_TIMESTAMP()) "
	        "FROM users WHERE role = 'admin' "
	        "AND googleRefreshToken IS NOT NULL "
	        "ORDER BY googleConnectedAt DESC, id DESC LIMIT 1",
	        NULL, 0, &rows);
	if (dr != DB_OK) {
		db_rows_free(&rows);
		return -1;
	}
	if (rows.nrows == 1) {
		r->id = db_cell_ll(&rows, 0, 0);
		r->refresh = dup_cell(&rows, 1, &r->refresh_len);
		r->access = dup_cell(&rows, 2, &r->access_len);
		r->expires_at = db_cell_ll(&rows, 0, 3);
		r->ok = db_cell_ll(&rows, 0, 4) == 1;
		r->now = db_cell_ll(&rows, 0, 5);
		found = r->refresh != NULL ? 1 : -1;
	}
	db_rows_free(&rows);
	return found;
}

/* Records a renewal that failed, ends the lease; broken: invalid_grant. */
static void record_failure(struct proc *proc, const char *request_id,
                           long long id, int broken, const char *error)
{
	struct db_param p[3] = {db_text(error), db_int(broken), db_int(id)};

	if (db_exec(proc->db,
	            "UPDATE users SET googleRefreshingUntil = NULL, "
	            "googleLastRefreshError = LEFT(?, 255), "
	            "googleTokenStatus = IF(? = 1, 'broken', "
	            "googleTokenStatus) "
	            "WHERE id = ?",
	            p, 3, NULL) != DB_OK)
		log_warn(request_id, "cannot record the token renewal: %s",
		         db_error(proc->db));
}

/*
 * Asks Google's token endpoint for a new access token with the refresh
 * token (RFC 6749 §6), at most tries times (0: the client's setting). As
 * http_perform(); the form, which holds the client secret and the refresh
 * token, is wiped before returning.
 */
static enum http_result ask_token(struct proc *proc, const char *refresh,
                                  int tries, struct http_response *res,
                                  char *err, size_t errlen)
{
	struct http_request req;
	enum http_result hr = HTTP_ERR_NOMEM;
	struct buf form;

	buf_init(&form, 16384);
	if (http_form_add(&form, "client_id", proc->cfg.auth_google_id) ||
	    http_form_add(&form, "client_secret",
	                  proc->cfg.auth_google_secret) ||
	    http_form_add(&form, "grant_type", "refresh_token") ||
	    http_form_add(&form, "refresh_token", refresh)) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	memset(&req, 0, sizeof(req));
	req.method = HTTP_POST;
	req.url = proc->cfg.google_oauth_token_url;
	req.body = buf_str(&form);
	req.body_len = form.len;
	req.content_type = "application/x-www-form-urlencoded";
	req.idempotent = 1; /* renewing twice does no harm */
	req.max_attempts = tries;
	hr = http_perform(proc->http, &req, res, err, errlen);
out:
	if (form.data != NULL)
		OPENSSL_cleanse(form.data, form.len);
	buf_free(&form);
	return hr;
}

/*
 * Calls Google's token endpoint with the refresh token and stores the new
 * access token. Called only by the holder of the lease.
 */
static enum gtoken_result renew(struct proc *proc, const char *request_id,
                                const struct row *r, struct gtoken *out)
{
	enum gtoken_result result = GTOKEN_UPSTREAM;
	struct http_response res = {0};
	struct json_object *body = NULL, *v;
	unsigned char *box = NULL;
	size_t boxlen = 0;
	char *refresh = NULL, err[LIMIT_ERROR_MESSAGE], msg[256];
	const char *access, *code;
	long expires_in;
	enum http_result hr;

	refresh = open_box(proc, r->refresh, r->refresh_len, AAD_REFRESH);
	if (refresh == NULL) {
		/* Sealed under another key, or damaged: only a new sign-in
		 * can help. */
		log_warn(request_id, "the stored refresh token cannot be "
		                     "opened with TOKEN_ENCRYPTION_KEY");
		record_failure(proc, request_id, r->id, 1,
		               "the stored refresh token cannot be decrypted");
		result = GTOKEN_NOT_CONNECTED;
		goto out;
	}
	hr = ask_token(proc, refresh, 0, &res, err, sizeof(err));
	if (hr != HTTP_OK) {
		snprintf(msg, sizeof(msg), "token endpoint: %s",
		         http_result_str(hr));
		log_warn(request_id, "renewing the Google access token: %s",
		         err);
		record_failure(proc, request_id, r->id, 0, msg);
		goto out;
	}
	body = jsonio_parse(res.body, res.body_len, 8, err, sizeof(err));
	code = body ? jsonio_string(body, "error") : NULL;
	if (res.status == 400 && code != NULL &&
	    strcmp(code, "invalid_grant") == 0) {
		const char *desc = jsonio_string(body, "error_description");

		snprintf(msg, sizeof(msg), "invalid_grant: %s",
		         desc ? desc : "the grant was revoked or expired");
		log_warn(request_id,
		         "Google refused the refresh token (%s): the calendar "
		         "is disconnected until the admin signs in again",
		         msg);
		record_failure(proc, request_id, r->id, 1, msg);
		result = GTOKEN_NOT_CONNECTED;
		goto out;
	}
	access = body ? jsonio_string(body, "access_token") : NULL;
	v = body ? jsonio_member(body, "expires_in", json_type_int) : NULL;
	if (res.status != 200 || access == NULL || *access == '\0' ||
	    v == NULL) {
		snprintf(msg, sizeof(msg), "token endpoint: HTTP %ld%s%s",
		         res.status, code ? " " : "", code ? code : "");
		log_warn(request_id, "renewing the Google access token: %s",
		         msg);
		record_failure(proc, request_id, r->id, 0, msg);
		goto out;
	}
	expires_in = (long)json_object_get_int64(v);
	if (expires_in < 1 || expires_in > 86400)
		expires_in = 3600;
	if (seal(proc, access, AAD_ACCESS, &box, &boxlen) != 0) {
		record_failure(proc, request_id, r->id, 0, "cannot seal");
		goto out;
	}
	{
		struct db_param p[4] = {
		        db_blob(box, boxlen), db_int(expires_in),
		        db_text(jsonio_string(body, "scope")), db_int(r->id)};
		struct db_rows rows;

		if (db_exec(proc->db,
		            "UPDATE users SET googleAccessToken = ?, "
		            "googleAccessExpiresAt = UTC_TIMESTAMP() + "
		            "INTERVAL ? SECOND, googleScopes = "
		            "COALESCE(?, googleScopes), googleLastRefreshAt = "
		            "UTC_TIMESTAMP(), googleLastRefreshError = NULL, "
		            "googleRefreshingUntil = NULL WHERE id = ?",
		            p, 4, NULL) != DB_OK) {
			log_warn(request_id, "storing the access token: %s",
			         db_error(proc->db));
			result = GTOKEN_DB_DOWN;
			goto out;
		}
		if (db_query(proc->db,
		             "SELECT UNIX_TIMESTAMP(googleAccessExpiresAt) "
		             "FROM users WHERE id = ?",
		             p + 3, 1, &rows) != DB_OK ||
		    rows.nrows != 1) {
			db_rows_free(&rows);
			result = GTOKEN_DB_DOWN;
			goto out;
		}
		out->expires_at = db_cell_ll(&rows, 0, 0);
		db_rows_free(&rows);
	}
	out->access = strdup(access);
	result = out->access ? GTOKEN_OK : GTOKEN_UPSTREAM;
out:
	json_object_put(body);
	if (res.body != NULL) /* it held the access token */
		OPENSSL_cleanse(res.body, res.body_len);
	http_response_free(&res);
	free(box);
	if (refresh != NULL)
		crypto_free_secret(refresh, strlen(refresh));
	return result;
}

enum gtoken_result gtoken_get(struct proc *proc, const char *request_id,
                              struct gtoken *out)
{
	long waited = 0;

	for (;;) {
		struct row r;
		unsigned long long affected = 0;
		struct db_param p[3];
		int found = read_row(proc, &r);

		if (found < 0) {
			log_warn(request_id, "reading the admin's token: %s",
			         db_error(proc->db));
			row_free(&r);
			return GTOKEN_DB_DOWN;
		}
		if (found == 0 || !r.ok) {
			row_free(&r);
			return GTOKEN_NOT_CONNECTED;
		}
		if (r.access != NULL &&
		    r.expires_at - r.now > GTOKEN_MARGIN_S) {
			char *tok = open_box(proc, r.access, r.access_len,
			                     AAD_ACCESS);

			if (tok != NULL) {
				out->access = tok;
				out->expires_at = r.expires_at;
				row_free(&r);
				return GTOKEN_OK;
			}
			/* Unreadable: renew it like an expired one. */
		}
		/* Take the lease, unless another process holds it or has
		 * renewed the token since it was read (compare-and-swap on
		 * its expiry): one expiry, one renewal. */
		p[0] = db_int(GTOKEN_LEASE_S);
		p[1] = db_int(r.id);
		p[2] = db_int(r.expires_at);
		if (db_exec(proc->db,
		            "UPDATE users SET googleRefreshingUntil = "
		            "UTC_TIMESTAMP() + INTERVAL ? SECOND "
		            "WHERE id = ? AND googleTokenStatus = 'ok' AND "
		            "(googleRefreshingUntil IS NULL OR "
		            "googleRefreshingUntil < UTC_TIMESTAMP()) AND "
		            "COALESCE(UNIX_TIMESTAMP(googleAccessExpiresAt), "
		            "0) = ?",
		            p, 3, &affected) != DB_OK) {
			log_warn(request_id, "taking the token lease: %s",
			         db_error(proc->db));
			row_free(&r);
			return GTOKEN_DB_DOWN;
		}
		if (affected == 1) {
			struct gtoken t = {NULL, 0};
			enum gtoken_result res =
			        renew(proc, request_id, &r, &t);

			row_free(&r);
			if (res == GTOKEN_OK)
				*out = t;
			return res;
		}
		row_free(&r);
		/* Another process is renewing, or has: use its result. */
		if (waited >= GTOKEN_WAIT_MS) {
			log_warn(request_id, "gave up waiting for another "
			                     "process to renew the token");
			return GTOKEN_UPSTREAM;
		}
		sleep_ms(100);
		waited += 100;
	}
}

void gtoken_refused(struct proc *proc, const struct gtoken *tok)
{
	struct db_param p = db_int(tok->expires_at);

	/* Only the token we used: another process may have replaced it. */
	if (db_exec(proc->db,
	            "UPDATE users SET googleAccessExpiresAt = UTC_TIMESTAMP() "
	            "WHERE role = 'admin' AND "
	            "UNIX_TIMESTAMP(googleAccessExpiresAt) = ?",
	            &p, 1, NULL) != DB_OK)
		log_warn(NULL, "marking the access token stale: %s",
		         db_error(proc->db));
}

int gtoken_connect(struct proc *proc, const char *request_id, const char *email,
                   const char *sub, const char *refresh_token,
                   const char *access_token, long expires_in,
                   const char *scopes)
{
	unsigned char *rbox = NULL, *abox = NULL;
	size_t rlen = 0, alen = 0, i;
	char lower[255];
	int rc = -1;

	for (i = 0; email[i] && i + 1 < sizeof(lower); i++)
		lower[i] = (email[i] >= 'A' && email[i] <= 'Z')
		                   ? (char)(email[i] - 'A' + 'a')
		                   : email[i];
	lower[i] = '\0';
	if (expires_in < 1 || expires_in > 86400)
		expires_in = 3600;
	if (seal(proc, refresh_token, AAD_REFRESH, &rbox, &rlen) != 0 ||
	    seal(proc, access_token, AAD_ACCESS, &abox, &alen) != 0) {
		log_warn(request_id, "cannot seal the Google tokens");
		goto out;
	}
	{
		struct db_param p[6] = {
		        db_text(lower),      db_text(sub),
		        db_blob(rbox, rlen), db_blob(abox, alen),
		        db_int(expires_in),  db_text(scopes)};

		if (db_exec(proc->db,
		            "INSERT INTO users (email, role, googleSub, "
		            "googleRefreshToken, googleAccessToken, "
		            "googleAccessExpiresAt, googleScopes, "
		            "googleConnectedAt, googleTokenStatus, "
		            "googleLastRefreshAt, googleLastRefreshError, "
		            "googleRefreshingUntil) VALUES (?, 'admin', ?, ?, "
		            "?, "
		            "UTC_TIMESTAMP() + INTERVAL ? SECOND, ?, "
		            "UTC_TIMESTAMP(), 'ok', NULL, NULL, NULL) "
		            "ON DUPLICATE KEY UPDATE role = 'admin', "
		            "googleSub = VALUES(googleSub), "
		            "googleRefreshToken = VALUES(googleRefreshToken), "
		            "googleAccessToken = VALUES(googleAccessToken), "
		            "googleAccessExpiresAt = "
		            "VALUES(googleAccessExpiresAt), "
		            "googleScopes = VALUES(googleScopes), "
		            "googleConnectedAt = UTC_TIMESTAMP(), "
		            "googleTokenStatus = 'ok', "
		            "googleLastRefreshAt = NULL, "
		            "googleLastRefreshError = NULL, "
		            "googleRefreshingUntil = NULL",
		            p, 6, NULL) != DB_OK) {
			log_warn(request_id,
			         "storing the Google connection: %s",
			         db_error(proc->db));
			goto out;
		}
	}
	rc = 0;
out:
	free(rbox);
	free(abox);
	return rc;
}

int gtoken_connected(struct db *db)
{
	long long n;

	if (db_query_int(db,
	                 "SELECT COUNT(*) FROM users WHERE role = 'admin' AND "
	                 "googleRefreshToken IS NOT NULL AND "
	                 "googleTokenStatus = 'ok'",
	                 NULL, 0, &n) != DB_OK)
		return -1;
	return n > 0;
}

static void cell_into(char *out, size_t len, const char *cell, int *present)
{
	snprintf(out, len, "%s", cell ? cell : "");
	if (present != NULL)
		*present = cell != NULL;
}

int gtoken_status(struct db *db, struct gtoken_status *out)
{
	struct db_rows rows;

	memset(out, 0, sizeof(*out));
	if (db_query(db,
	             "SELECT email, googleConnectedAt, googleScopes, "
	             "googleLastRefreshAt, googleLastRefreshError, "
	             "googleTokenStatus = 'ok' FROM users WHERE role = 'admin' "
	             "AND googleRefreshToken IS NOT NULL "
	             "ORDER BY googleConnectedAt DESC, id DESC LIMIT 1",
	             NULL, 0, &rows) != DB_OK) {
		db_rows_free(&rows);
		return -1;
	}
	if (rows.nrows == 1) {
		out->stored = 1;
		out->connected = db_cell_ll(&rows, 0, 5) == 1;
		cell_into(out->email, sizeof(out->email), db_cell(&rows, 0, 0),
		          NULL);
		cell_into(out->connected_at, sizeof(out->connected_at),
		          db_cell(&rows, 0, 1), NULL);
		cell_into(out->scopes, sizeof(out->scopes),
		          db_cell(&rows, 0, 2), &out->has_scopes);
		cell_into(out->refreshed_at, sizeof(out->refreshed_at),
		          db_cell(&rows, 0, 3), NULL);
		cell_into(out->refresh_error, sizeof(out->refresh_error),
		          db_cell(&rows, 0, 4), &out->has_refresh_error);
	}
	db_rows_free(&rows);
	return 0;
}

enum gtoken_result gtoken_probe(struct proc *proc, struct gtoken *tok,
                                struct gtoken_probe *p)
{
	enum gtoken_result result = GTOKEN_UPSTREAM;
	struct http_response res = {0};
	struct json_object *body = NULL;
	char *refresh = NULL, err[LIMIT_ERROR_MESSAGE];
	const char *access, *code, *desc;
	enum http_result hr;
	struct row r;
	int found;

	memset(p, 0, sizeof(*p));
	p->date = -1;
	found = read_row(proc, &r);
	if (found < 0) {
		snprintf(p->message, sizeof(p->message),
		         "the database cannot be read: %s", db_error(proc->db));
		row_free(&r);
		return GTOKEN_DB_DOWN;
	}
	if (found == 0) {
		snprintf(p->message, sizeof(p->message),
		         "no refresh token is stored");
		row_free(&r);
		return GTOKEN_NOT_CONNECTED;
	}
	refresh = open_box(proc, r.refresh, r.refresh_len, AAD_REFRESH);
	row_free(&r);
	if (refresh == NULL) {
		snprintf(p->message, sizeof(p->message),
		         "the stored refresh token cannot be decrypted with "
		         "TOKEN_ENCRYPTION_KEY (was the key changed?)");
		result = GTOKEN_NOT_CONNECTED;
		goto out;
	}
	hr = ask_token(proc, refresh, 1, &res, err, sizeof(err));
	if (hr != HTTP_OK) {
		snprintf(p->message, sizeof(p->message),
		         "Google's token endpoint did not answer: %s", err);
		goto out;
	}
	p->status = res.status;
	p->date = res.date;
	body = jsonio_parse(res.body, res.body_len, 8, err, sizeof(err));
	code = body ? jsonio_string(body, "error") : NULL;
	desc = body ? jsonio_string(body, "error_description") : NULL;
	if (code != NULL)
		snprintf(p->error, sizeof(p->error), "%s", code);
	access = body ? jsonio_string(body, "access_token") : NULL;
	if (res.status == 200 && access != NULL && *access != '\0') {
		tok->access = strdup(access);
		tok->expires_at = 0; /* not stored: nothing to compare with */
		if (tok->access == NULL) {
			snprintf(p->message, sizeof(p->message),
			         "out of memory");
			goto out;
		}
		snprintf(p->message, sizeof(p->message),
		         "Google renewed the access token");
		result = GTOKEN_OK;
		goto out;
	}
	snprintf(p->message, sizeof(p->message),
	         "Google's token endpoint answered HTTP %ld%s%s%s%.200s",
	         res.status, code ? " " : "", code ? code : "",
	         desc ? ": " : "", desc ? desc : "");
	if (res.status == 400 && code != NULL &&
	    strcmp(code, "invalid_grant") == 0)
		result = GTOKEN_NOT_CONNECTED;
out:
	json_object_put(body);
	if (res.body != NULL) /* it held the access token */
		OPENSSL_cleanse(res.body, res.body_len);
	http_response_free(&res);
	if (refresh != NULL)
		crypto_free_secret(refresh, strlen(refresh));
	return result;
}
