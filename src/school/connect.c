#include "school/connect.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "core/crypto.h"
#include "core/limit.h"
#include "core/log.h"
#include "io/db.h"

#define AAD_VERIFIER "oauth_states.codeVerifier"

static void sha256_hex(const char *s, char out[65])
{
	unsigned char sum[32];

	crypto_sha256(s, strlen(s), sum);
	crypto_hex(sum, sizeof(sum), out);
}

/*
 * One try at storing a state (p: its hash, the cookie's hash, the sealed
 * verifier, the lifetime), in a transaction: expired states go (old rows
 * go as new ones come, no cron needed), then the new one is added unless
 * LIMIT_OAUTH_STATES remain (*full set, nothing added). The count locks
 * what it reads, so a concurrent start waits for this one to commit and
 * then counts its row: the cap holds under a burst. DB_RETRY: try again.
 */
static enum db_result store_state(struct db *db, const struct db_param *p,
                                  int *full)
{
	struct db_param cap = db_int(LIMIT_OAUTH_STATES);
	long long n = 0;
	enum db_result r = db_begin(db);

	*full = 0;
	if (r != DB_OK)
		return r;
	r = db_exec(db,
	            "DELETE FROM oauth_states WHERE expiresAt < "
	            "UTC_TIMESTAMP() ORDER BY expiresAt LIMIT ?",
	            &cap, 1, NULL);
	if (r == DB_OK)
		r = db_query_int(db,
		                 "SELECT COUNT(*) FROM oauth_states FOR UPDATE",
		                 NULL, 0, &n);
	if (r == DB_OK && n >= LIMIT_OAUTH_STATES)
		*full = 1;
	else if (r == DB_OK)
		r = db_exec(db,
		            "INSERT INTO oauth_states (stateHash, browserHash, "
		            "codeVerifier, expiresAt) VALUES (?, ?, ?, "
		            "UTC_TIMESTAMP() + INTERVAL ? SECOND)",
		            p, 4, NULL);
	if (r == DB_OK)
		return db_commit(db);
	db_rollback(db);
	return r;
}

enum connect_state connect_state_new(struct proc *proc, const char *request_id,
                                     const char *state, const char *cookie,
                                     const char *verifier)
{
	char state_hash[65], cookie_hash[65];
	unsigned char *box = NULL;
	size_t boxlen = 0;
	enum connect_state result = CONNECT_STATE_DB_DOWN;

	if (crypto_seal(proc->cfg.token_key, verifier, strlen(verifier),
	                AAD_VERIFIER, strlen(AAD_VERIFIER), &box, &boxlen) != 0)
		return CONNECT_STATE_NOMEM;
	sha256_hex(state, state_hash);
	sha256_hex(cookie, cookie_hash);
	{
		struct db_param p[4] = {
		        db_text(state_hash), db_text(cookie_hash),
		        db_blob(box, boxlen), db_int(CONNECT_STATE_TTL_S)};
		enum db_result r = DB_RETRY;
		int attempt, full = 0;

		for (attempt = 0;
		     r == DB_RETRY && attempt < LIMIT_DB_DEADLOCK_TRIES;
		     attempt++)
			r = store_state(proc->db, p, &full);
		if (r == DB_OK && !full) {
			result = CONNECT_STATE_OK;
		} else if (r == DB_OK) {
			log_warn(request_id,
			         "%d OAuth sign-ins are in flight: a new one "
			         "is refused until some expire",
			         LIMIT_OAUTH_STATES);
			result = CONNECT_STATE_BUSY;
		} else if (r == DB_RETRY) {
			/* Starts kept deadlocking one another: a crowd. */
			log_warn(request_id, "storing the OAuth state: %s",
			         db_error(proc->db));
			result = CONNECT_STATE_BUSY;
		} else {
			log_warn(request_id, "storing the OAuth state: %s",
			         db_error(proc->db));
		}
	}
	free(box);
	return result;
}

enum connect_state connect_state_take(struct proc *proc, const char *request_id,
                                      const char *state, const char *cookie,
                                      char **verifier)
{
	char state_hash[65], cookie_hash[65];
	struct db_rows rows;
	struct db_param p;
	unsigned long long affected = 0;
	unsigned char *plain = NULL;
	size_t plainlen;
	enum connect_state result;

	sha256_hex(state, state_hash);
	p = db_text(state_hash);
	if (db_query(proc->db,
	             "SELECT browserHash, codeVerifier, "
	             "expiresAt < UTC_TIMESTAMP(), usedAt IS NOT NULL "
	             "FROM oauth_states WHERE stateHash = ?",
	             &p, 1, &rows) != DB_OK) {
		log_warn(request_id, "reading the OAuth state: %s",
		         db_error(proc->db));
		db_rows_free(&rows);
		return CONNECT_STATE_DB_DOWN;
	}
	if (rows.nrows != 1) {
		result = CONNECT_STATE_UNKNOWN;
		goto out;
	}
	if (strcmp(db_cell(&rows, 0, 3), "1") == 0) {
		result = CONNECT_STATE_USED;
		goto out;
	}
	if (strcmp(db_cell(&rows, 0, 2), "1") == 0) {
		result = CONNECT_STATE_EXPIRED;
		goto out;
	}
	if (cookie[0] != '\0')
		sha256_hex(cookie, cookie_hash);
	if (cookie[0] == '\0' ||
	    !crypto_equal(cookie_hash, 64, db_cell(&rows, 0, 0),
	                  db_cell_len(&rows, 0, 0))) {
		result = CONNECT_STATE_OTHER_BROWSER;
		goto out;
	}
	if (crypto_open(proc->cfg.token_key,
	                (const unsigned char *)db_cell(&rows, 0, 1),
	                db_cell_len(&rows, 0, 1), AAD_VERIFIER,
	                strlen(AAD_VERIFIER), &plain, &plainlen) != 0) {
		log_warn(request_id, "the stored PKCE verifier cannot be "
		                     "opened with TOKEN_ENCRYPTION_KEY");
		result = CONNECT_STATE_UNREADABLE;
		goto out;
	}
	/* Single use, also against a concurrent second callback. */
	if (db_exec(proc->db,
	            "UPDATE oauth_states SET usedAt = UTC_TIMESTAMP() "
	            "WHERE stateHash = ? AND usedAt IS NULL",
	            &p, 1, &affected) != DB_OK ||
	    affected != 1) {
		result = CONNECT_STATE_USED;
		goto out;
	}
	*verifier = (char *)plain;
	plain = NULL;
	result = CONNECT_STATE_OK;
out:
	if (plain != NULL)
		crypto_free_secret(plain, plainlen);
	db_rows_free(&rows);
	return result;
}

int connect_is_admin(const struct config *cfg, const struct oidc_claims *c)
{
	return c->email_verified && cfg->admin_email != NULL &&
	       strcasecmp(c->email, cfg->admin_email) == 0;
}

enum connect_state connect_signin_new(struct proc *proc, const char *request_id,
                                      const char *state, const char *cookie,
                                      const char *verifier)
{
	char state_hash[65];
	struct db_param p;
	unsigned long long affected = 0;
	enum connect_state r;

	r = connect_state_new(proc, request_id, state, cookie, verifier);
	if (r != CONNECT_STATE_OK)
		return r;
	sha256_hex(state, state_hash);
	p = db_text(state_hash);
	/* Until this is done nobody holds the state's cookie: a state left
	 * as "connect" by a failure here is never used. */
	if (db_exec(proc->db,
	            "UPDATE oauth_states SET flow = 'signin' WHERE stateHash = "
	            "?",
	            &p, 1, &affected) != DB_OK ||
	    affected != 1) {
		log_warn(request_id, "marking the sign-in state: %s",
		         db_error(proc->db));
		return CONNECT_STATE_DB_DOWN;
	}
	return CONNECT_STATE_OK;
}

enum connect_flow connect_state_flow(struct proc *proc, const char *state)
{
	char state_hash[65];
	struct db_rows rows;
	struct db_param p;
	enum connect_flow flow = CONNECT_FLOW_UNKNOWN;

	sha256_hex(state, state_hash);
	p = db_text(state_hash);
	if (db_query(proc->db,
	             "SELECT flow FROM oauth_states WHERE stateHash = ?", &p, 1,
	             &rows) == DB_OK &&
	    rows.nrows == 1)
		flow = strcmp(db_cell(&rows, 0, 0), "signin") == 0
		               ? CONNECT_FLOW_SIGNIN
		               : CONNECT_FLOW_CONNECT;
	db_rows_free(&rows);
	return flow;
}

enum connect_state connect_begin(struct proc *proc, const char *request_id,
                                 enum connect_flow flow,
                                 struct connect_start *out)
{
	char verifier[CRYPTO_PKCE_VERIFIER_LEN + 1];
	enum connect_state r = CONNECT_STATE_NOMEM;

	if (crypto_random_hex(out->state, sizeof(out->state), 32) == 0 &&
	    crypto_random_hex(out->cookie, sizeof(out->cookie), 32) == 0 &&
	    crypto_pkce_verifier(verifier, sizeof(verifier)) == 0 &&
	    crypto_pkce_challenge(verifier, out->challenge,
	                          sizeof(out->challenge)) == 0)
		r = flow == CONNECT_FLOW_SIGNIN
		            ? connect_signin_new(proc, request_id, out->state,
		                                 out->cookie, verifier)
		            : connect_state_new(proc, request_id, out->state,
		                                out->cookie, verifier);
	OPENSSL_cleanse(verifier, sizeof(verifier));
	return r;
}
