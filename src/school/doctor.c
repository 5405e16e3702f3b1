#include "school/doctor.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json_object.h>
#include <openssl/crypto.h>

#include "core/config.h"
#include "core/jsonio.h"
#include "core/limit.h"
#include "io/db.h"
#include "io/http.h"
#include "io/migrate.h"
#include "school/ledger.h"
#include "school/push.h"
#include "core/tz.h"
#include "upstream/gcal.h"
#include "upstream/gtoken.h"
#include "upstream/mp.h"

#define START_PATH "/oauth/google/start"

/* What the checks share while the doctor runs. */
struct ctx {
	struct proc p; /* the caller's database, a client of our own, the
	                  whole configuration */
	struct doctor_report *r;
	unsigned groups; /* the config groups that are complete */
	int db_up;       /* the database answered */
	int token_read;  /* gtoken_status() answered */
	struct gtoken_status st;
	struct gtoken tok; /* the probe's access token (never stored) */
	long long date;    /* a Google answer's Date header, -1 */
	long long local;   /* our clock when that answer came */
	char zone[64];     /* the calendar's own zone, "" unknown */
};

const char *doctor_status_str(enum doctor_status s)
{
	switch (s) {
	case DOCTOR_OK:
		return "ok";
	case DOCTOR_WARN:
		return "warn";
	case DOCTOR_FAIL:
		return "fail";
	}
	return "fail";
}

int doctor_add(struct doctor_report *r, const char *name,
               enum doctor_status status, const char *fmt, ...)
{
	struct doctor_check *c;
	va_list ap;
	char *s;

	if (r->n >= DOCTOR_MAX_CHECKS)
		return -1;
	c = &r->checks[r->n++];
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->status = status;
	va_start(ap, fmt);
	vsnprintf(c->message, sizeof(c->message), fmt, ap);
	va_end(ap);
	for (s = c->message; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
	return 0;
}

int doctor_exit_status(const struct doctor_report *r)
{
	int worst = 0;
	size_t i;

	for (i = 0; i < r->n; i++) {
		if (r->checks[i].status == DOCTOR_FAIL)
			return 2;
		if (r->checks[i].status == DOCTOR_WARN)
			worst = 1;
	}
	return worst;
}

int doctor_text(const struct doctor_report *r, struct buf *out)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (buf_printf(out, "%s  %s  %s\n",
		               doctor_status_str(r->checks[i].status),
		               r->checks[i].name, r->checks[i].message) != 0)
			return -1;
	return 0;
}

int doctor_json(const struct doctor_report *r, struct buf *out)
{
	struct json_object *root = json_object_new_object();
	struct json_object *list = json_object_new_array();
	int rc = -1;
	size_t i;

	if (root == NULL || list == NULL)
		goto out;
	for (i = 0; i < r->n; i++) {
		struct json_object *c = json_object_new_object();

		if (c == NULL || json_object_array_add(list, c) != 0) {
			json_object_put(c);
			goto out;
		}
		if (jsonio_add_string(c, "name", r->checks[i].name) != 0 ||
		    jsonio_add_string(c, "status",
		                      doctor_status_str(r->checks[i].status)) !=
		            0 ||
		    jsonio_add_string(c, "message", r->checks[i].message) != 0)
			goto out;
	}
	if (jsonio_add(root, "checks", list) != 0)
		goto out;
	list = NULL;
	rc = buf_printf(
	             out, "%s\n",
	             json_object_to_json_string_ext(
	                     root, JSON_C_TO_STRING_PLAIN |
	                                   JSON_C_TO_STRING_NOSLASHESCAPE)) == 0
	             ? 0
	             : -1;
out:
	json_object_put(list);
	json_object_put(root);
	return rc;
}

int doctor_sql_dir(char *out, size_t len)
{
	char exe[4096], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return -1;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash == NULL)
		return -1;
	*slash = '\0';
	/* Installed: PREFIX/bin/doctor and PREFIX/share/sql; built: cgi-bin/
	 * next to sql/. */
	if ((size_t)snprintf(out, len, "%s/../share/sql", exe) < len &&
	    access(out, R_OK | X_OK) == 0)
		return 0;
	if ((size_t)snprintf(out, len, "%s/../sql", exe) >= len)
		return -1;
	return 0;
}

/* ---- the checks, in the order they are shown ---- */

static void check_configuration(struct ctx *c)
{
	static const struct {
		unsigned need;
		const char *who;
	} groups[] = {
	        {CONFIG_DB, "every program"},
	        {CONFIG_GOOGLE, "Google Calendar"},
	        {CONFIG_ADMIN_TOKEN, "the admin's Google token"},
	        {CONFIG_INTERNAL, "the internal paths"},
	        {CONFIG_OAUTH, "oauth_callback"},
	        {CONFIG_MP, "payment_hook"},
	};
	char err[LIMIT_ERROR_MESSAGE], missing[DOCTOR_MESSAGE_MAX] = "";
	struct config cfg;
	size_t i, used = 0;

	if (config_load(&cfg, 0, err, sizeof(err)) != 0) {
		(void)doctor_add(c->r, "configuration", DOCTOR_FAIL,
		                 "%s: fix it in the environment file", err);
		return;
	}
	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		if (config_load(&cfg, groups[i].need, err, sizeof(err)) == 0) {
			c->groups |= groups[i].need;
			continue;
		}
		used += (size_t)snprintf(
		        missing + used,
		        used < sizeof(missing) ? sizeof(missing) - used : 0,
		        "%s%s (%s)", used ? "; " : "", err, groups[i].who);
		if (used >= sizeof(missing))
			used = sizeof(missing);
	}
	if (config_load(&cfg, c->groups, err, sizeof(err)) == 0)
		c->p.cfg = cfg;
	OPENSSL_cleanse(cfg.token_key, sizeof(cfg.token_key));
	if (missing[0] != '\0')
		(void)doctor_add(c->r, "configuration", DOCTOR_FAIL,
		                 "%s: set it in the environment the programs "
		                 "run with",
		                 missing);
	else
		(void)doctor_add(c->r, "configuration", DOCTOR_OK,
		                 "every variable the programs need is set");
}

static void check_database(struct ctx *c)
{
	if (c->p.db == NULL) {
		(void)doctor_add(c->r, "database", DOCTOR_FAIL,
		                 "DATABASE_URL is not set");
		return;
	}
	if (db_connect(c->p.db) != DB_OK) {
		(void)doctor_add(c->r, "database", DOCTOR_FAIL,
		                 "the database of DATABASE_URL does not answer "
		                 "(%s): is MariaDB running, and are the host, "
		                 "user and password right?",
		                 db_error(c->p.db));
		return;
	}
	c->db_up = 1;
	(void)doctor_add(c->r, "database", DOCTOR_OK, "the database answers");
}

static void check_migrations(struct ctx *c, const char *dir)
{
	char err[LIMIT_ERROR_MESSAGE];
	struct migrate_state m;

	if (!c->db_up) {
		(void)doctor_add(c->r, "migrations", DOCTOR_WARN,
		                 "not checked: the database does not answer");
		return;
	}
	if (migrate_status(c->p.db, dir, &m, err, sizeof(err)) != 0) {
		(void)doctor_add(c->r, "migrations", DOCTOR_FAIL,
		                 "cannot compare the database with %s (%s): "
		                 "give the migrations folder with --sql DIR",
		                 dir, err);
		return;
	}
	if (m.files == 0)
		(void)doctor_add(c->r, "migrations", DOCTOR_FAIL,
		                 "%s holds no migration: give the migrations "
		                 "folder with --sql DIR",
		                 dir);
	else if (m.pending > 0)
		(void)doctor_add(
		        c->r, "migrations", DOCTOR_FAIL,
		        "%zu of the %zu migrations in %s are not applied "
		        "(the first: %s): apply them with cgi-bin/migrate "
		        "%s (make migrate)",
		        m.pending, m.files, dir, m.first_pending, dir);
	else if (m.changed > 0)
		(void)doctor_add(c->r, "migrations", DOCTOR_WARN,
		                 "%zu applied migration(s) changed since (the "
		                 "first: %s): the database may differ from "
		                 "sql/; add a new migration instead of editing "
		                 "one",
		                 m.changed, m.first_changed);
	else
		(void)doctor_add(c->r, "migrations", DOCTOR_OK,
		                 "all %zu migrations in %s are applied",
		                 m.files, dir);
}

static void check_refresh_token(struct ctx *c)
{
	if (!c->db_up) {
		(void)doctor_add(c->r, "refresh-token", DOCTOR_WARN,
		                 "not checked: the database does not answer");
		return;
	}
	if (gtoken_status(c->p.db, &c->st) != 0) {
		(void)doctor_add(c->r, "refresh-token", DOCTOR_FAIL,
		                 "the users table cannot be read (%s): are the "
		                 "migrations applied?",
		                 db_error(c->p.db));
		return;
	}
	c->token_read = 1;
	if (!c->st.stored)
		(void)doctor_add(c->r, "refresh-token", DOCTOR_FAIL,
		                 "Refresh token not found: the school's Google "
		                 "account is not connected; the admin connects "
		                 "it at " START_PATH " (signed in as "
		                 "ADMIN_EMAIL, allowing calendar access)");
	else
		(void)doctor_add(c->r, "refresh-token", DOCTOR_OK,
		                 "stored for %s since %s UTC", c->st.email,
		                 c->st.connected_at);
}

/* Keeps the Date of a Google answer, for the clock check. */
static void saw_date(struct ctx *c, long long date)
{
	if (date >= 0 && c->date < 0) {
		c->date = date;
		c->local = (long long)time(NULL);
	}
}

static void check_grant(struct ctx *c)
{
	struct gtoken_probe p;
	enum gtoken_result r;

	if (!c->token_read || !c->st.stored) {
		(void)doctor_add(c->r, "grant", DOCTOR_WARN, "not checked: %s",
		                 c->token_read ? "no refresh token is stored"
		                               : "the stored token cannot be "
		                                 "read");
		return;
	}
	if (!(c->groups & CONFIG_ADMIN_TOKEN)) {
		(void)doctor_add(
		        c->r, "grant", DOCTOR_WARN,
		        "not checked: AUTH_GOOGLE_ID, "
		        "AUTH_GOOGLE_SECRET or TOKEN_ENCRYPTION_KEY is "
		        "not set");
		return;
	}
	if (!c->st.connected) {
		(void)doctor_add(
		        c->r, "grant", DOCTOR_FAIL,
		        "the connection is marked broken (%s): Google "
		        "refused the grant (revoked, the password "
		        "changed, or too many tokens were issued); sign "
		        "in again at " START_PATH,
		        c->st.has_refresh_error ? c->st.refresh_error
		                                : "no reason recorded");
		return;
	}
	r = gtoken_probe(&c->p, &c->tok, &p);
	saw_date(c, p.date);
	if (r == GTOKEN_OK)
		(void)doctor_add(c->r, "grant", DOCTOR_OK,
		                 "Google accepts the stored grant (the access "
		                 "token it gave was not stored)");
	else if (r == GTOKEN_NOT_CONNECTED &&
	         strcmp(p.error, "invalid_grant") == 0)
		(void)doctor_add(c->r, "grant", DOCTOR_FAIL,
		                 "%s: the grant was revoked, the admin's "
		                 "password changed, or too many tokens were "
		                 "issued; sign in again at " START_PATH,
		                 p.message);
	else if (r == GTOKEN_NOT_CONNECTED)
		(void)doctor_add(c->r, "grant", DOCTOR_FAIL,
		                 "%s: sign in again at " START_PATH, p.message);
	else if (p.status == 400 || p.status == 401)
		(void)doctor_add(
		        c->r, "grant", DOCTOR_FAIL,
		        "%s: Google refused the OAuth client; check "
		        "AUTH_GOOGLE_ID and AUTH_GOOGLE_SECRET against "
		        "the Cloud Console (APIs & Services > "
		        "Credentials)",
		        p.message);
	else
		(void)doctor_add(c->r, "grant", DOCTOR_WARN, "not checked: %s",
		                 p.message);
}

/* What a calendar probe's failure means, for the message. */
static const char *probe_hint(const struct gcal_probe *p, int key)
{
	if (p->status == 404)
		return key ? "the calendar is not public, or "
		             "GOOGLE_CALENDAR_ID is wrong: make it public "
		             "(Settings > Access permissions) or leave the key "
		             "out"
		           : "GOOGLE_CALENDAR_ID was not found, or the admin's "
		             "account cannot see it: copy the id from the "
		             "calendar's settings (Integrate calendar)";
	if (strcmp(p->reason, "insufficientPermissions") == 0)
		return "the grant lacks calendar access: sign in again "
		       "at " START_PATH " and allow it";
	if (key && (p->status == 400 || p->status == 403))
		return "the key is not valid or its restrictions refuse the "
		       "Calendar API from this server: check it in the Cloud "
		       "Console (APIs & Services > Credentials)";
	return "see Google's answer";
}

static void check_calendar_api(struct ctx *c)
{
	struct gcal_auth auth = {NULL, c->tok.access};
	struct gcal_probe p;
	enum gcal_result r;

	if (c->tok.access == NULL) {
		(void)doctor_add(c->r, "calendar-api", DOCTOR_WARN,
		                 "not checked: no working grant");
		return;
	}
	if (c->p.cfg.google_calendar_id == NULL) {
		(void)doctor_add(c->r, "calendar-api", DOCTOR_WARN,
		                 "not checked: GOOGLE_CALENDAR_ID is not set");
		return;
	}
	r = gcal_probe(&c->p, &auth, c->p.cfg.google_calendar_id, &p);
	saw_date(c, p.date);
	if (r == GCAL_OK) {
		snprintf(c->zone, sizeof(c->zone), "%s", p.time_zone);
		(void)doctor_add(c->r, "calendar-api", DOCTOR_OK,
		                 "the admin's token reads the calendar");
	} else if (strcmp(p.reason, "accessNotConfigured") == 0)
		(void)doctor_add(
		        c->r, "calendar-api", DOCTOR_FAIL,
		        "the Google Calendar API is not enabled for the OAuth "
		        "client's project %s: enable it in the Cloud Console "
		        "(APIs & Services > Library > Google Calendar API > "
		        "Enable, "
		        "https://console.developers.google.com/apis/api/"
		        "calendar-json.googleapis.com/overview?project=%s), "
		        "then wait a few minutes",
		        p.project[0] ? p.project : "(not named)",
		        p.project[0] ? p.project : "");
	else if (r == GCAL_UNAVAILABLE || r == GCAL_TIMEOUT)
		(void)doctor_add(c->r, "calendar-api", DOCTOR_WARN,
		                 "not checked: %s", p.message);
	else
		(void)doctor_add(c->r, "calendar-api", DOCTOR_FAIL, "%s: %s",
		                 p.message, probe_hint(&p, 0));
}

static void check_api_key(struct ctx *c)
{
	struct gcal_auth auth = {c->p.cfg.calendar_api_key, NULL};
	struct gcal_probe p;
	enum gcal_result r;

	if (auth.api_key == NULL || *auth.api_key == '\0') {
		(void)doctor_add(
		        c->r, "api-key", DOCTOR_WARN,
		        "CALENDAR_API_KEY is not set: availability "
		        "uses the admin's token (its quota, and it "
		        "stops with the grant); set a key restricted to "
		        "the Calendar API");
		return;
	}
	if (c->p.cfg.google_calendar_id == NULL) {
		(void)doctor_add(c->r, "api-key", DOCTOR_WARN,
		                 "not checked: GOOGLE_CALENDAR_ID is not set");
		return;
	}
	r = gcal_probe(&c->p, &auth, c->p.cfg.google_calendar_id, &p);
	saw_date(c, p.date);
	if (r == GCAL_OK) {
		if (c->zone[0] == '\0')
			snprintf(c->zone, sizeof(c->zone), "%s", p.time_zone);
		(void)doctor_add(c->r, "api-key", DOCTOR_OK,
		                 "CALENDAR_API_KEY reads the calendar");
	} else if (strcmp(p.reason, "accessNotConfigured") == 0)
		(void)doctor_add(
		        c->r, "api-key", DOCTOR_WARN,
		        "CALENDAR_API_KEY cannot read the calendar: the "
		        "Google Calendar API is not enabled for the "
		        "key's project %s, so availability uses the "
		        "admin's token; enable it in the Cloud Console "
		        "(APIs & Services > Library > Google Calendar "
		        "API > Enable)",
		        p.project[0] ? p.project : "(not named)");
	else
		(void)doctor_add(
		        c->r, "api-key", DOCTOR_WARN,
		        "CALENDAR_API_KEY cannot read the calendar "
		        "(%s): availability uses the admin's token; %s",
		        p.message, probe_hint(&p, 1));
}

/* The conference request's statusCode of an event, or NULL. */
static const char *conference_status(struct json_object *ev)
{
	struct json_object *cd =
	        jsonio_member(ev, "conferenceData", json_type_object);
	struct json_object *cr =
	        jsonio_member(cd, "createRequest", json_type_object);

	return jsonio_string(jsonio_member(cr, "status", json_type_object),
	                     "statusCode");
}

static void check_meet(struct ctx *c)
{
	struct gcal_auth auth = {NULL, c->tok.access};
	char err[DOCTOR_MESSAGE_MAX / 2];
	struct json_object *ev = NULL;
	struct ledger_meet_gap g;
	const char *code;

	if (!c->db_up) {
		(void)doctor_add(c->r, "meet", DOCTOR_WARN,
		                 "not checked: the database does not answer");
		return;
	}
	if (ledger_meet_missing(c->p.db, DOCTOR_MEET_WINDOW_S,
	                        DOCTOR_MEET_GRACE_S, &g) != 0) {
		(void)doctor_add(
		        c->r, "meet", DOCTOR_WARN,
		        "not checked: the bookings cannot be read (%s)",
		        db_error(c->p.db));
		return;
	}
	if (g.count == 0) {
		(void)doctor_add(
		        c->r, "meet", DOCTOR_OK,
		        "every class booked in the last 7 days has its "
		        "Meet link");
		return;
	}
	if (c->tok.access == NULL || c->p.cfg.google_calendar_id == NULL) {
		(void)doctor_add(
		        c->r, "meet", DOCTOR_WARN,
		        "%lld recent class(es) have no Meet link (the "
		        "newest: booking %s); Google was not asked: no "
		        "working grant, or no GOOGLE_CALENDAR_ID",
		        g.count, g.id);
		return;
	}
	if (gcal_event_read(&c->p, &auth, g.event_id, &ev, err, sizeof(err)) !=
	    GCAL_OK) {
		(void)doctor_add(c->r, "meet", DOCTOR_WARN,
		                 "%lld recent class(es) have no Meet link (the "
		                 "newest: booking %s), and its event cannot be "
		                 "read: %s",
		                 g.count, g.id, err);
		return;
	}
	code = conference_status(ev);
	if (code != NULL && strcmp(code, "failure") == 0)
		(void)doctor_add(
		        c->r, "meet", DOCTOR_FAIL,
		        "Google could not make a Meet link for booking %s (its "
		        "conference request failed; %lld recent class(es) have "
		        "none): Google Meet must be on for the school's "
		        "account "
		        "(Workspace: Admin console > Apps > Google Workspace > "
		        "Google Meet) and the calendar must allow Meet "
		        "conferences; then book those classes again",
		        g.id, g.count);
	else if (code != NULL && strcmp(code, "pending") == 0)
		(void)doctor_add(
		        c->r, "meet", DOCTOR_WARN,
		        "Google is still preparing the Meet link of "
		        "booking %s after %lld s: reconcile records it "
		        "when it is ready; if it stays pending, check "
		        "that Google Meet is on for the account",
		        g.id, g.age_s);
	else if (code != NULL && strcmp(code, "success") == 0)
		(void)doctor_add(
		        c->r, "meet", DOCTOR_WARN,
		        "the Meet link of booking %s is ready at Google "
		        "but not recorded: reconcile records it; is its "
		        "timer running?",
		        g.id);
	else
		(void)doctor_add(c->r, "meet", DOCTOR_WARN,
		                 "the event of booking %s asks for no Meet "
		                 "conference (%lld recent class(es) have no "
		                 "link): was it changed on Google?",
		                 g.id, g.count);
	json_object_put(ev);
}

static void check_time_zone(struct ctx *c)
{
	const char *want = c->p.cfg.time_zone;

	if (c->zone[0] == '\0')
		(void)doctor_add(c->r, "time-zone", DOCTOR_WARN,
		                 "not checked: the calendar could not be read");
	else if (strcmp(c->zone, want) != 0)
		(void)doctor_add(
		        c->r, "time-zone", DOCTOR_WARN,
		        "the calendar's time zone is %s but TIME_ZONE "
		        "is %s: events show in the wrong zone on "
		        "Google; set the calendar's zone (Google "
		        "Calendar > Settings > Time zone) or TIME_ZONE "
		        "so that they agree",
		        c->zone, want);
	else
		(void)doctor_add(c->r, "time-zone", DOCTOR_OK,
		                 "the calendar's time zone is %s, as TIME_ZONE",
		                 want);
}

static void check_clock(struct ctx *c)
{
	long long skew, away;

	if (c->date < 0) {
		(void)doctor_add(c->r, "clock", DOCTOR_WARN,
		                 "not checked: no answer from Google carried a "
		                 "Date header");
		return;
	}
	skew = c->local - c->date;
	away = skew < 0 ? -skew : skew;
	if (away > DOCTOR_CLOCK_SKEW_S)
		(void)doctor_add(
		        c->r, "clock", DOCTOR_FAIL,
		        "this server's clock is %lld s %s Google's: "
		        "token expiry and MercadoPago's signature times "
		        "depend on it; synchronise it with NTP (timedatectl "
		        "set-ntp true)",
		        away, skew > 0 ? "ahead of" : "behind");
	else
		(void)doctor_add(c->r, "clock", DOCTOR_OK,
		                 "within %lld s of Google's", away);
}

static void check_mercadopago(struct ctx *c)
{
	char err[LIMIT_ERROR_MESSAGE];
	struct mp_user u;
	enum mp_result r;

	if (c->p.cfg.mp_access_token == NULL ||
	    *c->p.cfg.mp_access_token == '\0') {
		(void)doctor_add(c->r, "mercadopago", DOCTOR_FAIL,
		                 "MP_ACCESS_TOKEN is not set: payments cannot "
		                 "be read back");
		return;
	}
	r = mp_user_me(&c->p, &u, err, sizeof(err));
	if (r == MP_OK)
		(void)doctor_add(c->r, "mercadopago", DOCTOR_OK,
		                 "MercadoPago accepts MP_ACCESS_TOKEN (user "
		                 "%lld%s%s%s%s)",
		                 u.id, u.nickname[0] ? " " : "", u.nickname,
		                 u.site_id[0] ? ", site " : "", u.site_id);
	else if (r == MP_REFUSED)
		(void)doctor_add(c->r, "mercadopago", DOCTOR_FAIL,
		                 "%s: copy the Access Token again from "
		                 "MercadoPago (Your integrations > the "
		                 "application > Production credentials)",
		                 err);
	else
		(void)doctor_add(c->r, "mercadopago", DOCTOR_WARN,
		                 "not checked: %s", err);
}

static void check_reconcile(struct ctx *c)
{
	long long waited;
	char id[33];

	if (!c->db_up) {
		(void)doctor_add(c->r, "reconcile", DOCTOR_WARN,
		                 "not checked: the database does not answer");
		return;
	}
	if (ledger_overdue(c->p.db, &waited, id) != 0) {
		(void)doctor_add(
		        c->r, "reconcile", DOCTOR_WARN,
		        "not checked: the bookings cannot be read (%s)",
		        db_error(c->p.db));
		return;
	}
	if (waited > DOCTOR_RECONCILE_LATE_S)
		(void)doctor_add(
		        c->r, "reconcile", DOCTOR_WARN,
		        "booking %s has waited %lld min for reconcile: "
		        "is its timer running? (systemctl status "
		        "booking-reconcile.timer; cgi-bin/reconcile "
		        "runs it by hand)",
		        id, waited / 60);
	else
		(void)doctor_add(
		        c->r, "reconcile", DOCTOR_OK,
		        "nothing has waited for reconcile more than %d "
		        "minutes",
		        DOCTOR_RECONCILE_LATE_S / 60);
}

/* Only with CALENDAR_PUSH_URL set: whether Google's push channel is live. */
static void check_push_channel(struct ctx *c)
{
	struct push_status ps;
	char until[TZ_ISO_MAX], last[TZ_ISO_MAX];

	if (c->p.cfg.calendar_push_url == NULL)
		return;
	if (!c->db_up) {
		(void)doctor_add(c->r, "push-channel", DOCTOR_WARN,
		                 "not checked: the database does not answer");
		return;
	}
	if (push_status(c->p.db, c->p.cfg.google_calendar_id, &ps) != 0) {
		(void)doctor_add(
		        c->r, "push-channel", DOCTOR_WARN,
		        "not checked: the channels cannot be read (%s)",
		        db_error(c->p.db));
		return;
	}
	if (!ps.live) {
		(void)doctor_add(
		        c->r, "push-channel", DOCTOR_WARN,
		        "no push channel is live: availability polls Google "
		        "every CALENDAR_CACHE_TTL_S; reconcile opens one (run "
		        "cgi-bin/reconcile and read why in its log: Google "
		        "must reach CALENDAR_PUSH_URL over https)");
		return;
	}
	if (tz_format_utc(ps.expires_at, until, sizeof(until)) != 0)
		snprintf(until, sizeof(until), "?");
	if (ps.last_message_at == 0 ||
	    tz_format_utc(ps.last_message_at, last, sizeof(last)) != 0)
		snprintf(last, sizeof(last), "none yet");
	(void)doctor_add(c->r, "push-channel", DOCTOR_OK,
	                 "a push channel is live until %s (reconcile renews "
	                 "it); last change notified: %s",
	                 until, last);
}

/* ---- no secret in a message ---- */

/* Replaces every occurrence of secret in s (size bytes) with "[secret]"
 * (or asterisks where that would not fit). */
static void scrub(char *s, size_t size, const char *secret)
{
	static const char mask[] = "[secret]";
	const size_t m = sizeof(mask) - 1;
	size_t n = secret ? strlen(secret) : 0;
	char *from = s, *at;

	if (n < 4) /* too short to tell from ordinary text */
		return;
	while ((at = strstr(from, secret)) != NULL) {
		size_t tail = strlen(at + n);

		if (n >= m || (size_t)(at - s) + m + tail < size) {
			memmove(at + m, at + n, tail + 1);
			memcpy(at, mask, m);
			from = at + m;
		} else {
			memset(at, '*', n);
			from = at + n;
		}
	}
}

/* The password of a mysql:// URL, percent-encoded as written, into out
 * ("" when none). */
static void url_password(const char *url, char *out, size_t len)
{
	const char *p = url ? strstr(url, "://") : NULL, *colon, *at;

	out[0] = '\0';
	if (p == NULL)
		return;
	p += 3;
	at = strchr(p, '@');
	colon = strchr(p, ':');
	if (at == NULL || colon == NULL || colon > at ||
	    (size_t)(at - colon - 1) >= len)
		return;
	memcpy(out, colon + 1, (size_t)(at - colon - 1));
	out[at - colon - 1] = '\0';
}

static void scrub_report(struct ctx *c)
{
	const struct config *cfg = &c->p.cfg;
	const char *secrets[8];
	char password[256];
	size_t i, k;

	url_password(cfg->database_url, password, sizeof(password));
	secrets[0] = cfg->auth_google_secret;
	secrets[1] = cfg->calendar_api_key;
	secrets[2] = cfg->internal_api_token;
	secrets[3] = cfg->mp_access_token;
	secrets[4] = cfg->mp_webhook_secret;
	secrets[5] = getenv("TOKEN_ENCRYPTION_KEY");
	secrets[6] = c->tok.access;
	secrets[7] = password;
	for (i = 0; i < c->r->n; i++)
		for (k = 0; k < sizeof(secrets) / sizeof(secrets[0]); k++)
			if (secrets[k] != NULL)
				scrub(c->r->checks[i].message,
				      sizeof(c->r->checks[i].message),
				      secrets[k]);
	memset(password, 0, sizeof(password));
}

void doctor_run(struct proc *proc, const struct doctor_options *opt,
                struct doctor_report *out)
{
	struct http_options ho;
	char dir[4096];
	struct ctx c;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	memset(&ho, 0, sizeof(ho));
	c.p = *proc;
	c.r = out;
	c.date = -1;
	ho.timeout_ms = DOCTOR_TIMEOUT_MS;
	ho.connect_timeout_ms = DOCTOR_CONNECT_TIMEOUT_MS;
	ho.max_attempts = 1;
	c.p.http = http_client_new(&ho);
	if (c.p.http == NULL)
		c.p.http = proc->http; /* out of memory: the caller's */
	if (opt != NULL && opt->sql_dir != NULL)
		snprintf(dir, sizeof(dir), "%s", opt->sql_dir);
	else if (doctor_sql_dir(dir, sizeof(dir)) != 0)
		snprintf(dir, sizeof(dir), "sql");

	check_configuration(&c);
	check_database(&c);
	check_migrations(&c, dir);
	check_refresh_token(&c);
	check_grant(&c);
	check_calendar_api(&c);
	check_api_key(&c);
	check_meet(&c);
	check_time_zone(&c);
	check_clock(&c);
	check_mercadopago(&c);
	check_reconcile(&c);
	check_push_channel(&c);

	scrub_report(&c);
	gtoken_clear(&c.tok);
	OPENSSL_cleanse(c.p.cfg.token_key, sizeof(c.p.cfg.token_key));
	if (c.p.http != proc->http)
		http_client_free(c.p.http);
}
