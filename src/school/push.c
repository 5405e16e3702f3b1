#include "school/push.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/crypto.h"
#include "core/limit.h"
#include "core/log.h"
#include "upstream/gcal.h"

const char *push_outcome_str(enum push_outcome o)
{
	switch (o) {
	case PUSH_OFF:
		return "off";
	case PUSH_KEPT:
		return "live";
	case PUSH_OPENED:
		return "opened";
	case PUSH_RENEWED:
		return "renewed";
	case PUSH_STOPPED:
		return "stopped";
	case PUSH_BUSY:
		return "busy";
	case PUSH_FAILED:
		return "failed";
	case PUSH_DB_FAILED:
		break;
	}
	return "database unavailable";
}

void push_token_hash(const char *token, char out[65])
{
	unsigned char sum[CRYPTO_SHA256_LEN];

	crypto_sha256(token, strlen(token), sum);
	crypto_hex(sum, sizeof(sum), out);
}

/* ---- a notification ---- */

/* A message number: 1 to 19 digits. 0 when absent or malformed. */
static unsigned long long message_number(const char *s)
{
	unsigned long long n = 0;
	size_t i, len = s ? strlen(s) : 0;

	if (len == 0 || len > 19)
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		n = n * 10 + (unsigned long long)(s[i] - '0');
	}
	return n;
}

/* Whether a header's value may be looked up at all: present, not too long
 * for the column it is compared with. */
static int fits(const char *v, size_t max)
{
	return v != NULL && v[0] != '\0' && strlen(v) <= max;
}

enum push_verdict push_check(struct proc *proc, const char *request_id,
                             const struct push_notice *n)
{
	struct db_param p[2];
	struct db_rows rows;
	char hash[65];
	const char *stored_hash, *stored_res;
	int sync, change, live, hash_ok, res_ok;
	enum push_verdict v = PUSH_FORGED;

	if (!fits(n->channel_id, LIMIT_PUSH_ID) ||
	    !fits(n->token, LIMIT_PUSH_TOKEN) ||
	    !fits(n->resource_id, LIMIT_PUSH_RES_ID) ||
	    proc->cfg.google_calendar_id == NULL)
		return PUSH_FORGED;
	p[0] = db_text(n->channel_id);
	p[1] = db_text(proc->cfg.google_calendar_id);
	if (db_query(proc->db,
	             "SELECT tokenHash, resourceId, state = 'live' AND "
	             "expiresAt > UTC_TIMESTAMP(3) FROM push_channels WHERE "
	             "id = ? AND calendarId = ? AND state IN ('opening', "
	             "'live')",
	             p, 2, &rows) != DB_OK) {
		log_warn(request_id, "reading the push channel: %s",
		         db_error(proc->db));
		db_rows_free(&rows);
		return PUSH_DB_DOWN;
	}
	if (rows.nrows != 1) {
		db_rows_free(&rows);
		return PUSH_FORGED;
	}
	push_token_hash(n->token, hash);
	stored_hash = db_cell(&rows, 0, 0);
	stored_res = db_cell(&rows, 0, 1);
	live = db_cell_ll(&rows, 0, 2) == 1;
	/* Both compared whatever the other gave, in constant time. */
	hash_ok = stored_hash != NULL && crypto_streq(stored_hash, hash);
	res_ok = stored_res != NULL && crypto_streq(stored_res, n->resource_id);
	sync = n->state != NULL && strcmp(n->state, "sync") == 0;
	change = n->state != NULL && (strcmp(n->state, "exists") == 0 ||
	                              strcmp(n->state, "not_exists") == 0);
	if (!hash_ok)
		v = PUSH_FORGED;
	else if (sync && (res_ok || stored_res == NULL))
		v = PUSH_SYNC;
	else if (!res_ok || !live)
		v = PUSH_FORGED;
	else
		v = change ? PUSH_CHANGED : PUSH_BAD_STATE;
	db_rows_free(&rows);
	if (v == PUSH_CHANGED) {
		struct db_param q[2] = {
		        db_int((long long)message_number(n->message_number)),
		        db_text(n->channel_id)};

		if (db_exec(proc->db,
		            "UPDATE push_channels SET lastMessageAt = "
		            "UTC_TIMESTAMP(6), lastMessageNumber = "
		            "GREATEST(COALESCE(lastMessageNumber, 0), ?) "
		            "WHERE id = ?",
		            q, 2, NULL) != DB_OK) {
			log_warn(request_id, "recording a notification: %s",
			         db_error(proc->db));
			return PUSH_DB_DOWN;
		}
	}
	return v;
}

/* ---- reconcile's job ---- */

/* One row of push_channels as the job sees it. */
struct channel {
	char id[LIMIT_PUSH_ID + 1];
	char resource_id[LIMIT_PUSH_RES_ID + 1]; /* "" until Google answered */
	int ours;      /* this calendar, this address, state live, in time */
	int expired;   /* its expiration passed: Google has dropped it */
	int abandoned; /* "opening" for too long: the watch never answered */
	long long remaining; /* seconds left */
	long long lifetime;  /* seconds from opening to expiration */
};

/* Takes the lease on the calendar's channels. 1 ours, 0 not, -1 error. */
static int take_lease(struct proc *proc)
{
	struct db_param p[2] = {db_text(proc->cfg.google_calendar_id),
	                        db_int(PUSH_LEASE_S)};
	unsigned long long affected = 0;

	if (db_exec(proc->db,
	            "INSERT IGNORE INTO push_lease (calendarId) VALUES (?)", p,
	            1, NULL) != DB_OK)
		return -1;
	p[0] = db_int(PUSH_LEASE_S);
	p[1] = db_text(proc->cfg.google_calendar_id);
	if (db_exec(proc->db,
	            "UPDATE push_lease SET heldUntil = UTC_TIMESTAMP() + "
	            "INTERVAL ? SECOND WHERE calendarId = ? AND (heldUntil IS "
	            "NULL OR heldUntil < UTC_TIMESTAMP())",
	            p, 2, &affected) != DB_OK)
		return -1;
	return affected == 1;
}

static void release_lease(struct proc *proc, const char *request_id)
{
	struct db_param p = db_text(proc->cfg.google_calendar_id);

	if (db_exec(proc->db,
	            "UPDATE push_lease SET heldUntil = NULL WHERE calendarId = "
	            "?",
	            &p, 1, NULL) != DB_OK)
		log_warn(request_id, "releasing the push lease: %s",
		         db_error(proc->db));
}

/* Every channel row, for every calendar, into a malloc'd array. 0 or -1. */
static int load_channels(struct proc *proc, struct channel **out, size_t *n)
{
	const char *url = proc->cfg.calendar_push_url;
	struct db_param p[3] = {db_text(proc->cfg.google_calendar_id),
	                        db_text(url ? url : ""),
	                        db_int(PUSH_OPENING_S)};
	struct channel *c = NULL;
	struct db_rows rows;
	size_t i;

	if (db_query(proc->db,
	             "SELECT id, COALESCE(resourceId, ''), "
	             "calendarId = ? AND address = ? AND state = 'live' AND "
	             "expiresAt > UTC_TIMESTAMP(3), "
	             "COALESCE(expiresAt <= UTC_TIMESTAMP(3), 0), "
	             "state = 'opening' AND createdAt < UTC_TIMESTAMP() - "
	             "INTERVAL ? SECOND, "
	             "COALESCE(TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(3), "
	             "expiresAt), 0), "
	             "COALESCE(TIMESTAMPDIFF(SECOND, createdAt, expiresAt), 0) "
	             "FROM push_channels ORDER BY expiresAt DESC, id",
	             p, 3, &rows) != DB_OK) {
		db_rows_free(&rows);
		return -1;
	}
	if (rows.nrows > 0 && (c = calloc(rows.nrows, sizeof(*c))) == NULL) {
		db_rows_free(&rows);
		return -1;
	}
	for (i = 0; i < rows.nrows; i++) {
		snprintf(c[i].id, sizeof(c[i].id), "%s", db_cell(&rows, i, 0));
		snprintf(c[i].resource_id, sizeof(c[i].resource_id), "%s",
		         db_cell(&rows, i, 1));
		c[i].ours = url != NULL && db_cell_ll(&rows, i, 2) == 1;
		c[i].expired = db_cell_ll(&rows, i, 3) == 1;
		c[i].abandoned = db_cell_ll(&rows, i, 4) == 1;
		c[i].remaining = db_cell_ll(&rows, i, 5);
		c[i].lifetime = db_cell_ll(&rows, i, 6);
	}
	*n = rows.nrows;
	*out = c;
	db_rows_free(&rows);
	return 0;
}

/* Whether a channel is near enough its end to be replaced: a day before,
 * or halfway through a shorter life. */
static int renewal_due(const struct channel *c)
{
	long long margin = c->lifetime / 2;

	if (margin > PUSH_RENEW_BEFORE_S)
		margin = PUSH_RENEW_BEFORE_S;
	return c->remaining <= margin;
}

static int forget(struct proc *proc, const char *id)
{
	struct db_param p = db_text(id);

	return db_exec(proc->db, "DELETE FROM push_channels WHERE id = ?", &p,
	               1, NULL) == DB_OK
	               ? 0
	               : -1;
}

/*
 * Says channels.stop for one channel and forgets it; a channel Google has
 * already dropped (expired) or never confirmed is only forgotten. 0 done,
 * 1 Google failed (the row is kept as "stopping" for the next run), -1
 * the database failed.
 */
static int stop_one(struct proc *proc, const char *request_id,
                    const struct channel *c)
{
	char err[LIMIT_ERROR_MESSAGE];
	enum gcal_result r;

	if (!c->expired && c->resource_id[0] != '\0') {
		r = gcal_channel_stop(proc, request_id, c->id, c->resource_id,
		                      err, sizeof(err));
		if (r != GCAL_OK) {
			struct db_param p = db_text(c->id);

			log_warn(request_id,
			         "stopping push channel %s: %s (tried again "
			         "by the next run)",
			         c->id, err);
			return db_exec(proc->db,
			               "UPDATE push_channels SET state = "
			               "'stopping' WHERE id = ?",
			               &p, 1, NULL) == DB_OK
			               ? 1
			               : -1;
		}
		log_info(request_id, "push channel %s stopped", c->id);
	}
	return forget(proc, c->id);
}

/*
 * Opens a channel: its row first (Google's sync message may come before
 * the answer), then events.watch. 0 live, 1 Google refused or failed (the
 * row is gone), -1 the database failed.
 */
static int open_one(struct proc *proc, const char *request_id)
{
	char id[33], token[65], hash[65], err[LIMIT_ERROR_MESSAGE];
	struct gcal_channel ch;
	struct db_param p[5];
	enum gcal_result r;
	int rc = -1;

	if (crypto_random_hex(id, sizeof(id), 16) != 0 ||
	    crypto_random_hex(token, sizeof(token), 32) != 0) {
		log_warn(request_id, "no random bytes for a push channel");
		return 1;
	}
	push_token_hash(token, hash);
	p[0] = db_text(id);
	p[1] = db_text(proc->cfg.google_calendar_id);
	p[2] = db_text(hash);
	p[3] = db_text(proc->cfg.calendar_push_url);
	if (db_exec(proc->db,
	            "INSERT INTO push_channels (id, calendarId, tokenHash, "
	            "address, state, createdAt) VALUES (?, ?, ?, ?, "
	            "'opening', UTC_TIMESTAMP())",
	            p, 4, NULL) != DB_OK)
		goto out;
	r = gcal_events_watch(proc, request_id, id, proc->cfg.calendar_push_url,
	                      token, PUSH_TTL_S, &ch, err, sizeof(err));
	if (r != GCAL_OK) {
		log_warn(request_id,
		         "opening a push channel: %s; availability keeps "
		         "polling",
		         err);
		rc = forget(proc, id) == 0 ? 1 : -1;
		goto out;
	}
	p[0] = db_text(ch.resource_id);
	p[1] = db_int(ch.expiration_ms);
	p[2] = db_int(ch.expiration_ms);
	p[3] = db_int(PUSH_TTL_S);
	p[4] = db_text(id);
	if (db_exec(proc->db,
	            "UPDATE push_channels SET state = 'live', resourceId = ?, "
	            "expiresAt = IF(? > 0, FROM_UNIXTIME(? / 1000), "
	            "UTC_TIMESTAMP() + INTERVAL ? SECOND) WHERE id = ?",
	            p, 5, NULL) != DB_OK)
		goto out;
	log_info(request_id, "push channel %s is live", id);
	rc = 0;
out:
	OPENSSL_cleanse(token, sizeof(token));
	return rc;
}

enum push_outcome push_maintain(struct proc *proc, const char *request_id)
{
	enum push_outcome o = PUSH_DB_FAILED;
	struct channel *c = NULL;
	size_t n = 0, i, keep = (size_t)-1;
	int lease, failed = 0, rc;
	long long n_rows;

	if (proc->cfg.calendar_push_url == NULL) {
		/* Nothing at all to do, and nothing written, when no channel
		 * is left. */
		if (db_query_int(proc->db, "SELECT COUNT(*) FROM push_channels",
		                 NULL, 0, &n_rows) != DB_OK)
			goto db_failed;
		if (n_rows == 0)
			return PUSH_OFF;
	}
	lease = take_lease(proc);
	if (lease < 0)
		goto db_failed;
	if (lease == 0)
		return PUSH_BUSY;
	if (load_channels(proc, &c, &n) != 0)
		goto out;
	/* The channel to keep: ours, with the most time left (the rows come
	 * latest expiration first). */
	for (i = 0; i < n; i++)
		if (c[i].ours) {
			keep = i;
			break;
		}
	if (proc->cfg.calendar_push_url == NULL) {
		o = PUSH_STOPPED;
	} else if (keep != (size_t)-1 && !renewal_due(&c[keep])) {
		o = PUSH_KEPT;
	} else {
		rc = open_one(proc, request_id);
		if (rc < 0) {
			o = PUSH_DB_FAILED;
			goto out;
		}
		if (rc > 0) {
			/* The one we have (if any) serves until it ends. */
			o = PUSH_FAILED;
		} else {
			o = keep == (size_t)-1 ? PUSH_OPENED : PUSH_RENEWED;
			keep = (size_t)-1; /* the old one goes now */
		}
	}
	for (i = 0; i < n; i++) {
		if (i == keep)
			continue;
		/* A row that is still opening belongs to a run that lost its
		 * lease in the middle: left alone until it is abandoned. */
		if (!c[i].expired && !c[i].abandoned &&
		    c[i].resource_id[0] == '\0')
			continue;
		rc = stop_one(proc, request_id, &c[i]);
		if (rc < 0) {
			o = PUSH_DB_FAILED;
			goto out;
		}
		failed |= rc;
	}
	if (failed && o != PUSH_FAILED)
		o = PUSH_FAILED;
out:
	free(c);
	if (o == PUSH_DB_FAILED)
		log_warn(request_id, "push channels: %s", db_error(proc->db));
	release_lease(proc, request_id);
	return o;
db_failed:
	log_warn(request_id, "push channels: %s", db_error(proc->db));
	return PUSH_DB_FAILED;
}

int push_status(struct db *db, const char *calendar_id, struct push_status *out)
{
	struct db_param p = db_text(calendar_id ? calendar_id : "");
	struct db_rows rows;

	if (db_query(db,
	             "SELECT UNIX_TIMESTAMP(expiresAt), "
	             "COALESCE(UNIX_TIMESTAMP(lastMessageAt), 0) FROM "
	             "push_channels WHERE calendarId = ? AND state = 'live' "
	             "AND expiresAt > UTC_TIMESTAMP(3) ORDER BY expiresAt "
	             "DESC LIMIT 1",
	             &p, 1, &rows) != DB_OK) {
		db_rows_free(&rows);
		return -1;
	}
	memset(out, 0, sizeof(*out));
	if (rows.nrows == 1) {
		out->live = 1;
		out->expires_at = db_cell_ll(&rows, 0, 0);
		out->last_message_at = db_cell_ll(&rows, 0, 1);
	}
	db_rows_free(&rows);
	return 0;
}
