#include "school/session.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/crypto.h"
#include "core/log.h"
#include "io/db.h"

#define CSRF_LABEL "booking admin console csrf v1"

int session_id_valid(const char *s)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; i < SESSION_ID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[SESSION_ID_LEN] == '\0';
}

static void id_hash(const char *id, char out[65])
{
	unsigned char sum[CRYPTO_SHA256_LEN];

	crypto_sha256(id, strlen(id), sum);
	crypto_hex(sum, sizeof(sum), out);
}

enum session_result session_new(struct proc *proc, const char *request_id,
                                const char *email, char id[SESSION_ID_LEN + 1])
{
	char fresh[SESSION_ID_LEN + 1], hash[65];
	struct db_param p[4];

	if (crypto_random_hex(fresh, sizeof(fresh), SESSION_ID_LEN / 2) != 0)
		return SESSION_NOMEM;
	id_hash(fresh, hash);
	p[0] = db_text(hash);
	p[1] = db_text(email);
	p[2] = db_int(SESSION_IDLE_S);
	p[3] = db_int(SESSION_MAX_S);
	/* Old rows go as new ones come: no cron needed. */
	if (db_exec(proc->db,
	            "DELETE FROM admin_sessions WHERE expiresAt < "
	            "UTC_TIMESTAMP() - INTERVAL 1 DAY",
	            NULL, 0, NULL) != DB_OK ||
	    db_exec(proc->db,
	            "INSERT INTO admin_sessions (idHash, email, createdAt, "
	            "lastSeenAt, expiresAt) VALUES (?, ?, UTC_TIMESTAMP(), "
	            "UTC_TIMESTAMP(), LEAST(UTC_TIMESTAMP() + INTERVAL ? "
	            "SECOND, UTC_TIMESTAMP() + INTERVAL ? SECOND))",
	            p, 4, NULL) != DB_OK) {
		log_warn(request_id, "storing an admin session: %s",
		         db_error(proc->db));
		return SESSION_DB_DOWN;
	}
	memcpy(id, fresh, sizeof(fresh));
	return SESSION_OK;
}

enum session_result session_check(struct proc *proc, const char *request_id,
                                  const char *id, struct session *out)
{
	unsigned char mac[CRYPTO_SHA256_LEN];
	char hash[65];
	struct db_rows rows;
	struct db_param p[3];
	enum session_result result = SESSION_NONE;

	if (!session_id_valid(id))
		return SESSION_NONE;
	id_hash(id, hash);
	p[0] = db_text(hash);
	if (db_query(proc->db,
	             "SELECT email FROM admin_sessions WHERE idHash = ? AND "
	             "expiresAt > UTC_TIMESTAMP()",
	             p, 1, &rows) != DB_OK) {
		log_warn(request_id, "reading an admin session: %s",
		         db_error(proc->db));
		db_rows_free(&rows);
		return SESSION_DB_DOWN;
	}
	if (rows.nrows != 1)
		goto out;
	/* ADMIN_EMAIL changed since: the old admin's sessions are over. */
	if (proc->cfg.admin_email == NULL ||
	    strcasecmp(db_cell(&rows, 0, 0), proc->cfg.admin_email) != 0)
		goto out;
	/* Used now: 8 more hours, within 24 of sign-in. */
	p[1] = db_int(SESSION_IDLE_S);
	p[2] = db_int(SESSION_MAX_S);
	{
		struct db_param q[3] = {p[1], p[2], p[0]};

		if (db_exec(proc->db,
		            "UPDATE admin_sessions SET lastSeenAt = "
		            "UTC_TIMESTAMP(), expiresAt = "
		            "LEAST(UTC_TIMESTAMP() "
		            "+ INTERVAL ? SECOND, createdAt + INTERVAL ? "
		            "SECOND) "
		            "WHERE idHash = ? AND expiresAt > UTC_TIMESTAMP()",
		            q, 3, NULL) != DB_OK) {
			log_warn(request_id, "renewing an admin session: %s",
			         db_error(proc->db));
			result = SESSION_DB_DOWN;
			goto out;
		}
	}
	if (crypto_hmac_sha256(id, strlen(id), CSRF_LABEL, strlen(CSRF_LABEL),
	                       mac) != 0) {
		result = SESSION_NOMEM;
		goto out;
	}
	memset(out, 0, sizeof(*out));
	snprintf(out->email, sizeof(out->email), "%s", db_cell(&rows, 0, 0));
	crypto_hex(mac, sizeof(mac), out->csrf);
	result = SESSION_OK;
out:
	db_rows_free(&rows);
	return result;
}

enum session_result session_end_all(struct proc *proc, const char *request_id,
                                    const char *email)
{
	struct db_param p = db_text(email);

	if (db_exec(proc->db, "DELETE FROM admin_sessions WHERE email = ?", &p,
	            1, NULL) != DB_OK) {
		log_warn(request_id, "ending the admin's sessions: %s",
		         db_error(proc->db));
		return SESSION_DB_DOWN;
	}
	return SESSION_OK;
}
