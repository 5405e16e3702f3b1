#include "core/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/limit.h"
#include "core/tz.h"

static const char *const secret_names[] = {
        "AUTH_GOOGLE_SECRET", "CALENDAR_API_KEY", "TOKEN_ENCRYPTION_KEY",
        "INTERNAL_API_TOKEN", "MP_ACCESS_TOKEN",  "MP_WEBHOOK_SECRET",
        "DATABASE_URL", /* holds the database password */
};

int config_is_secret(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(secret_names) / sizeof(secret_names[0]); i++)
		if (strcmp(name, secret_names[i]) == 0)
			return 1;
	return 0;
}

/* The variable's value, or NULL when unset or empty. */
static const char *env(const char *name)
{
	const char *v = getenv(name);

	return (v && *v) ? v : NULL;
}

static const char *env_or(const char *name, const char *fallback)
{
	const char *v = env(name);

	return v ? v : fallback;
}

static int need_var(const char **out, const char *name, char *err,
                    size_t errlen)
{
	*out = env(name);
	if (*out == NULL) {
		snprintf(err, errlen, "%s is not set", name);
		return -1;
	}
	return 0;
}

/* A whole decimal number in [min, max], or the default when unset. */
static int number_var(long *out, const char *name, long fallback, long min,
                      long max, char *err, size_t errlen)
{
	const char *v = env(name);
	char *end;
	long n;

	if (v == NULL) {
		*out = fallback;
		return 0;
	}
	errno = 0;
	n = strtol(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0 || n < min ||
	    n > max) {
		snprintf(err, errlen,
		         "%s must be a whole number from %ld to %ld", name, min,
		         max);
		return -1;
	}
	*out = n;
	return 0;
}

/*
 * http://127.x.x.x[:port], http://localhost:port or http://[::1]:port, with
 * nothing more in the authority: "http://127.0.0.1@example.com" and
 * "http://127.0.0.1.example.com" name other hosts.
 */
static int loopback_http(const char *v)
{
	const char *a;
	size_t n, i;

	if (strncmp(v, "http://", 7) != 0)
		return 0;
	a = v + 7;
	n = strcspn(a, "/?#");
	if (memchr(a, '@', n) != NULL)
		return 0;
	if (strncmp(a, "localhost:", 10) == 0) {
		i = 10;
	} else if (strncmp(a, "[::1]:", 6) == 0) {
		i = 6;
	} else if (strncmp(a, "127.", 4) == 0) {
		for (i = 4;
		     i < n && ((a[i] >= '0' && a[i] <= '9') || a[i] == '.');
		     i++)
			;
		if (i < n && a[i++] != ':')
			return 0;
	} else {
		return 0;
	}
	for (; i < n; i++)
		if (a[i] < '0' || a[i] > '9')
			return 0;
	return 1;
}

/* https, or http to the loopback simulator. */
static int url_var(const char **out, const char *name, const char *fallback,
                   char *err, size_t errlen)
{
	const char *v = env_or(name, fallback);

	if (strncmp(v, "https://", 8) == 0 || loopback_http(v)) {
		*out = v;
		return 0;
	}
	snprintf(err, errlen,
	         "%s must be an https:// URL (http:// only to a loopback "
	         "address)",
	         name);
	return -1;
}

int config_load(struct config *cfg, unsigned need, char *err, size_t errlen)
{
	struct config c;
	const char *key;

	memset(&c, 0, sizeof(c));
	if ((need & CONFIG_DB) &&
	    need_var(&c.database_url, "DATABASE_URL", err, errlen))
		return -1;
	if ((need & CONFIG_GOOGLE) &&
	    need_var(&c.google_calendar_id, "GOOGLE_CALENDAR_ID", err, errlen))
		return -1;
	if (need & CONFIG_ADMIN_TOKEN) {
		if (need_var(&c.auth_google_id, "AUTH_GOOGLE_ID", err,
		             errlen) ||
		    need_var(&c.auth_google_secret, "AUTH_GOOGLE_SECRET", err,
		             errlen) ||
		    need_var(&key, "TOKEN_ENCRYPTION_KEY", err, errlen))
			return -1;
		if (crypto_key_from_base64(key, c.token_key) != 0) {
			snprintf(err, errlen,
			         "TOKEN_ENCRYPTION_KEY must be 32 bytes in "
			         "standard base64 (openssl rand -base64 32)");
			return -1;
		}
		c.has_token_key = 1;
	}
	if ((need & CONFIG_INTERNAL) &&
	    need_var(&c.internal_api_token, "INTERNAL_API_TOKEN", err, errlen))
		return -1;
	if ((need & CONFIG_OAUTH) &&
	    (need_var(&c.auth_google_redirect_uri, "AUTH_GOOGLE_REDIRECT_URI",
	              err, errlen) ||
	     need_var(&c.admin_email, "ADMIN_EMAIL", err, errlen)))
		return -1;
	if ((need & CONFIG_MP) &&
	    (need_var(&c.mp_access_token, "MP_ACCESS_TOKEN", err, errlen) ||
	     need_var(&c.mp_webhook_secret, "MP_WEBHOOK_SECRET", err, errlen)))
		return -1;

	/* Optional everywhere; a program that does not need them ignores
	 * them, but a malformed value is still refused. */
	if (c.database_url == NULL)
		c.database_url = env("DATABASE_URL");
	if (c.google_calendar_id == NULL)
		c.google_calendar_id = env("GOOGLE_CALENDAR_ID");
	if (c.internal_api_token == NULL)
		c.internal_api_token = env("INTERNAL_API_TOKEN");
	if (c.admin_email == NULL)
		c.admin_email = env("ADMIN_EMAIL");
	c.calendar_api_key = env("CALENDAR_API_KEY");

	c.time_zone = env_or("TIME_ZONE", "America/Argentina/Buenos_Aires");
	if (tz_set(c.time_zone) != 0) {
		snprintf(err, errlen,
		         "TIME_ZONE is not a time zone of the system's tzdata "
		         "(e.g. America/Argentina/Buenos_Aires)");
		return -1;
	}
	c.booking_hours =
	        env_or("BOOKING_HOURS", "mon-fri 09:00-21:00; sat 09:00-13:00");
	c.booking_send_updates = env_or("BOOKING_SEND_UPDATES", "all");
	if (strcmp(c.booking_send_updates, "all") != 0 &&
	    strcmp(c.booking_send_updates, "externalOnly") != 0 &&
	    strcmp(c.booking_send_updates, "none") != 0) {
		snprintf(err, errlen,
		         "BOOKING_SEND_UPDATES must be all, externalOnly or "
		         "none");
		return -1;
	}
	if (number_var(&c.booking_min_notice_min, "BOOKING_MIN_NOTICE_MIN", 120,
	               0, 525600, err, errlen) ||
	    number_var(&c.booking_hold_min, "BOOKING_HOLD_MIN", 15, 1, 1440,
	               err, errlen) ||
	    number_var(&c.calendar_cache_ttl_s, "CALENDAR_CACHE_TTL_S", 30, 1,
	               86400, err, errlen) ||
	    number_var(&c.calendar_max_stale_s, "CALENDAR_MAX_STALE_S", 600, 0,
	               604800, err, errlen) ||
	    number_var(&c.mp_signature_tolerance_s, "MP_SIGNATURE_TOLERANCE_S",
	               300, 1, 86400, err, errlen))
		return -1;

	if (url_var(&c.google_api_base, "GOOGLE_API_BASE",
	            "https://www.googleapis.com", err, errlen) ||
	    url_var(&c.google_oauth_auth_url, "GOOGLE_OAUTH_AUTH_URL",
	            "https://accounts.google.com/o/oauth2/v2/auth", err,
	            errlen) ||
	    url_var(&c.google_oauth_token_url, "GOOGLE_OAUTH_TOKEN_URL",
	            "https://oauth2.googleapis.com/token", err, errlen) ||
	    url_var(&c.google_oauth_userinfo_url, "GOOGLE_OAUTH_USERINFO_URL",
	            "https://openidconnect.googleapis.com/v1/userinfo", err,
	            errlen) ||
	    url_var(&c.mp_api_base, "MP_API_BASE",
	            "https://api.mercadopago.com", err, errlen))
		return -1;
	c.calendar_push_url = env("CALENDAR_PUSH_URL");
	if (c.calendar_push_url != NULL &&
	    url_var(&c.calendar_push_url, "CALENDAR_PUSH_URL", NULL, err,
	            errlen))
		return -1;
	if (c.calendar_push_url != NULL &&
	    strlen(c.calendar_push_url) > LIMIT_PUSH_URL) {
		snprintf(err, errlen,
		         "CALENDAR_PUSH_URL must be at most %d "
		         "characters",
		         LIMIT_PUSH_URL);
		return -1;
	}

	*cfg = c;
	return 0;
}
