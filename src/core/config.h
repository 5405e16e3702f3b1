/*
 * config - the programs' configuration, read from the environment once at
 * start-up and checked there.
 *
 * The design's variables (DESIGN.md, "Configuration"); each program says
 * which groups it needs, and config_load() refuses to go on without them,
 * naming the variable. Strings are borrowed from the environment and live as
 * long as the process. Nothing here is ever logged: several values are
 * secrets (see config_is_secret()).
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>

/* What a program needs; or'ed together for config_load(). */
enum config_need {
	CONFIG_DB = 1 << 0,     /* DATABASE_URL */
	CONFIG_GOOGLE = 1 << 1, /* GOOGLE_CALENDAR_ID */
	CONFIG_ADMIN_TOKEN =
	        1 << 2, /* AUTH_GOOGLE_ID, _SECRET, TOKEN_ENCRYPTION_KEY */
	CONFIG_INTERNAL = 1 << 3, /* INTERNAL_API_TOKEN */
	CONFIG_OAUTH = 1 << 4,    /* AUTH_GOOGLE_REDIRECT_URI, ADMIN_EMAIL */
	CONFIG_MP = 1 << 5        /* MP_ACCESS_TOKEN, MP_WEBHOOK_SECRET */
};

struct config {
	const char *database_url;
	const char *google_calendar_id;
	const char *calendar_api_key; /* NULL when not configured */
	const char *auth_google_id;
	const char *auth_google_secret;
	const char *auth_google_redirect_uri;
	const char *admin_email;
	const char *internal_api_token;
	const char *mp_access_token;
	const char *mp_webhook_secret;
	unsigned char token_key[32]; /* TOKEN_ENCRYPTION_KEY, decoded */
	int has_token_key;

	const char *time_zone;
	const char *booking_hours; /* parsed by the school (school.h) */
	long booking_min_notice_min;
	long booking_hold_min;
	const char *booking_send_updates; /* all | externalOnly | none */
	long calendar_cache_ttl_s;
	long calendar_max_stale_s;
	long mp_signature_tolerance_s;
	/* CALENDAR_PUSH_URL: where Google sends push notifications (https://,
	 * or http:// to a loopback address); NULL when unset or empty: no
	 * push channel, availability polls. */
	const char *calendar_push_url;

	const char *google_api_base;
	const char *google_oauth_auth_url;
	const char *google_oauth_token_url;
	const char *google_oauth_userinfo_url;
	const char *mp_api_base;
};

/*
 * Reads the environment into *cfg, requiring the groups in need, and makes
 * TIME_ZONE the process's zone. Returns 0, or -1 with a message in err that
 * names the missing or malformed variable (never its value).
 */
int config_load(struct config *cfg, unsigned need, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/* 1 when the variable's value must never be shown, else 0. */
int config_is_secret(const char *name);

#endif
