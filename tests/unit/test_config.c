/*
 * test_config - the environment read at start-up: the groups a program
 * requires, each named when missing, the defaults, strict numbers and URLs,
 * the encryption key, and that no message ever shows a value.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/limit.h"
#include "core/tz.h"

static const char *const all_vars[] = {
        "DATABASE_URL",
        "GOOGLE_CALENDAR_ID",
        "CALENDAR_API_KEY",
        "AUTH_GOOGLE_ID",
        "AUTH_GOOGLE_SECRET",
        "AUTH_GOOGLE_REDIRECT_URI",
        "ADMIN_EMAIL",
        "INTERNAL_API_TOKEN",
        "MP_ACCESS_TOKEN",
        "MP_WEBHOOK_SECRET",
        "TOKEN_ENCRYPTION_KEY",
        "TIME_ZONE",
        "BOOKING_HOURS",
        "BOOKING_MIN_NOTICE_MIN",
        "BOOKING_HOLD_MIN",
        "CALENDAR_CACHE_TTL_S",
        "CALENDAR_MAX_STALE_S",
        "MP_SIGNATURE_TOLERANCE_S",
        "GOOGLE_API_BASE",
        "GOOGLE_OAUTH_AUTH_URL",
        "GOOGLE_OAUTH_TOKEN_URL",
        "GOOGLE_OAUTH_USERINFO_URL",
        "MP_API_BASE",
        "CALENDAR_PUSH_URL",
        NULL,
};

/* 32 bytes 0x00..0x1f in standard base64. */
static const char key_b64[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

static const unsigned need_all = CONFIG_DB | CONFIG_GOOGLE |
                                 CONFIG_ADMIN_TOKEN | CONFIG_INTERNAL |
                                 CONFIG_OAUTH | CONFIG_MP;

static char err[LIMIT_ERROR_MESSAGE];

static void clear_env(void)
{
	size_t i;

	for (i = 0; all_vars[i] != NULL; i++)
		unsetenv(all_vars[i]);
}

/* Every required variable set to a valid, distinctive value. */
static void set_required(void)
{
	clear_env();
	setenv("DATABASE_URL", "mysql://app:Secret-Db-Pw-1@db/booking", 1);
	setenv("GOOGLE_CALENDAR_ID", "school@group.calendar.google.com", 1);
	setenv("AUTH_GOOGLE_ID", "client-id.apps.googleusercontent.com", 1);
	setenv("AUTH_GOOGLE_SECRET", "Secret-Google-Client-2", 1);
	setenv("TOKEN_ENCRYPTION_KEY", key_b64, 1);
	setenv("INTERNAL_API_TOKEN", "Secret-Internal-Token-3", 1);
	setenv("AUTH_GOOGLE_REDIRECT_URI",
	       "https://school.example/oauth/google/callback", 1);
	setenv("ADMIN_EMAIL", "admin@school.example", 1);
	setenv("MP_ACCESS_TOKEN", "Secret-Mp-Access-4", 1);
	setenv("MP_WEBHOOK_SECRET", "Secret-Mp-Webhook-5", 1);
}

static int load(struct config *cfg, unsigned need)
{
	err[0] = '\0';
	return config_load(cfg, need, err, sizeof(err));
}

/* 1 when loading with need fails naming name (and only that message). */
static int fails_naming(unsigned need, const char *name)
{
	struct config cfg;

	return load(&cfg, need) == -1 && strstr(err, name) == err;
}

TEST(missing_database_url_is_named)
{
	struct config cfg;

	clear_env();
	CHECK(fails_naming(CONFIG_DB, "DATABASE_URL"));
	CHECK_STR(err, "DATABASE_URL is not set");
	/* An empty value counts as missing. */
	setenv("DATABASE_URL", "", 1);
	CHECK(fails_naming(CONFIG_DB, "DATABASE_URL"));
	/* Not needed: fine without it. */
	CHECK_INT(load(&cfg, 0), 0);
	CHECK(cfg.database_url == NULL);
	setenv("DATABASE_URL", "mysql://u:p@h/d", 1);
	CHECK_INT(load(&cfg, CONFIG_DB), 0);
	CHECK_STR(cfg.database_url, "mysql://u:p@h/d");
}

TEST(each_group_names_each_of_its_variables)
{
	static const struct {
		unsigned need;
		const char *vars[4];
	} groups[] = {
	        {CONFIG_DB, {"DATABASE_URL"}},
	        {CONFIG_GOOGLE, {"GOOGLE_CALENDAR_ID"}},
	        {CONFIG_ADMIN_TOKEN,
	         {"AUTH_GOOGLE_ID", "AUTH_GOOGLE_SECRET",
	          "TOKEN_ENCRYPTION_KEY"}},
	        {CONFIG_INTERNAL, {"INTERNAL_API_TOKEN"}},
	        {CONFIG_OAUTH, {"AUTH_GOOGLE_REDIRECT_URI", "ADMIN_EMAIL"}},
	        {CONFIG_MP, {"MP_ACCESS_TOKEN", "MP_WEBHOOK_SECRET"}},
	};
	struct config cfg;
	size_t g, v;

	for (g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		for (v = 0; v < 4 && groups[g].vars[v] != NULL; v++) {
			set_required();
			unsetenv(groups[g].vars[v]);
			CHECK(fails_naming(groups[g].need, groups[g].vars[v]));
			CHECK(strstr(err, "is not set") != NULL);
			CHECK(fails_naming(need_all, groups[g].vars[v]));
			setenv(groups[g].vars[v], "", 1);
			CHECK(fails_naming(groups[g].need, groups[g].vars[v]));
			/* The other groups do not need it. */
			CHECK_INT(load(&cfg, need_all & ~groups[g].need), 0);
		}
	}
	/* All of them at once. */
	set_required();
	CHECK_INT(load(&cfg, need_all), 0);
}

TEST(required_values_are_read)
{
	struct config cfg;
	int ok;

	set_required();
	setenv("CALENDAR_API_KEY", "Secret-Api-Key-6", 1);
	CHECK_INT(load(&cfg, need_all), 0);
	ok = strcmp(cfg.database_url,
	            "mysql://app:Secret-Db-Pw-1@db/booking") == 0 &&
	     strcmp(cfg.google_calendar_id,
	            "school@group.calendar.google.com") == 0 &&
	     strcmp(cfg.calendar_api_key, "Secret-Api-Key-6") == 0 &&
	     strcmp(cfg.auth_google_id,
	            "client-id.apps.googleusercontent.com") == 0 &&
	     strcmp(cfg.auth_google_secret, "Secret-Google-Client-2") == 0 &&
	     strcmp(cfg.internal_api_token, "Secret-Internal-Token-3") == 0 &&
	     strcmp(cfg.auth_google_redirect_uri,
	            "https://school.example/oauth/google/callback") == 0 &&
	     strcmp(cfg.admin_email, "admin@school.example") == 0 &&
	     strcmp(cfg.mp_access_token, "Secret-Mp-Access-4") == 0 &&
	     strcmp(cfg.mp_webhook_secret, "Secret-Mp-Webhook-5") == 0 &&
	     cfg.has_token_key == 1;
	CHECK(ok);
	for (int i = 0; i < 32; i++)
		CHECK_INT(cfg.token_key[i], i);
}

TEST(defaults)
{
	struct config cfg;

	clear_env();
	CHECK_INT(load(&cfg, 0), 0);
	CHECK_STR(cfg.time_zone, "America/Argentina/Buenos_Aires");
	CHECK_STR(tz_name(), "America/Argentina/Buenos_Aires");
	CHECK_STR(cfg.booking_hours, "mon-fri 09:00-21:00; sat 09:00-13:00");
	CHECK_INT(cfg.booking_min_notice_min, 120);
	CHECK_INT(cfg.booking_hold_min, 15);
	CHECK_INT(cfg.calendar_cache_ttl_s, 30);
	CHECK_INT(cfg.calendar_max_stale_s, 600);
	CHECK_INT(cfg.mp_signature_tolerance_s, 300);
	CHECK_STR(cfg.google_api_base, "https://www.googleapis.com");
	CHECK_STR(cfg.google_oauth_auth_url,
	          "https://accounts.google.com/o/oauth2/v2/auth");
	CHECK_STR(cfg.google_oauth_token_url,
	          "https://oauth2.googleapis.com/token");
	CHECK_STR(cfg.google_oauth_userinfo_url,
	          "https://openidconnect.googleapis.com/v1/userinfo");
	CHECK_STR(cfg.mp_api_base, "https://api.mercadopago.com");
	CHECK(cfg.calendar_api_key == NULL);
	CHECK(cfg.database_url == NULL);
	CHECK(cfg.internal_api_token == NULL);
	CHECK_INT(cfg.has_token_key, 0);
	/* Empty values are unset values: the defaults again. */
	setenv("TIME_ZONE", "", 1);
	setenv("BOOKING_HOLD_MIN", "", 1);
	setenv("GOOGLE_API_BASE", "", 1);
	CHECK_INT(load(&cfg, 0), 0);
	CHECK_STR(cfg.time_zone, "America/Argentina/Buenos_Aires");
	CHECK_INT(cfg.booking_hold_min, 15);
	CHECK_STR(cfg.google_api_base, "https://www.googleapis.com");
	clear_env();
}

TEST(values_override_the_defaults)
{
	struct config cfg;

	clear_env();
	setenv("BOOKING_HOURS", "mon-sat 08:00-20:00", 1);
	setenv("BOOKING_MIN_NOTICE_MIN", "0", 1);
	setenv("BOOKING_HOLD_MIN", "1440", 1);
	setenv("CALENDAR_CACHE_TTL_S", "0030", 1);
	setenv("CALENDAR_MAX_STALE_S", "604800", 1);
	setenv("MP_SIGNATURE_TOLERANCE_S", "1", 1);
	setenv("GOOGLE_API_BASE", "http://127.0.0.1:9/x", 1);
	setenv("MP_API_BASE", "http://localhost:9", 1);
	setenv("GOOGLE_OAUTH_TOKEN_URL", "http://[::1]:8443/token", 1);
	CHECK_INT(load(&cfg, 0), 0);
	CHECK_STR(cfg.booking_hours, "mon-sat 08:00-20:00");
	CHECK_INT(cfg.booking_min_notice_min, 0);
	CHECK_INT(cfg.booking_hold_min, 1440);
	CHECK_INT(cfg.calendar_cache_ttl_s, 30);
	CHECK_INT(cfg.calendar_max_stale_s, 604800);
	CHECK_INT(cfg.mp_signature_tolerance_s, 1);
	CHECK_STR(cfg.google_api_base, "http://127.0.0.1:9/x");
	CHECK_STR(cfg.mp_api_base, "http://localhost:9");
	CHECK_STR(cfg.google_oauth_token_url, "http://[::1]:8443/token");
	clear_env();
}

TEST(numbers_are_strict_and_bounded)
{
	static const struct {
		const char *name;
		const char *below, *lowest, *highest, *above;
	} vars[] = {
	        {"BOOKING_MIN_NOTICE_MIN", "-1", "0", "525600", "525601"},
	        {"BOOKING_HOLD_MIN", "0", "1", "1440", "1441"},
	        {"CALENDAR_CACHE_TTL_S", "0", "1", "86400", "86401"},
	        {"CALENDAR_MAX_STALE_S", "-1", "0", "604800", "604801"},
	        {"MP_SIGNATURE_TOLERANCE_S", "0", "1", "86400", "86401"},
	};
	static const char *const malformed[] = {
	        "30s",
	        "-1",
	        " 5",
	        "5 ",
	        "+5",
	        "0x10",
	        "1e3",
	        "5.0",
	        "abc",
	        "5\n",
	        "99999999999999999999999",
	        "-0",
	};
	struct config cfg;
	size_t v, m;

	for (v = 0; v < sizeof(vars) / sizeof(vars[0]); v++) {
		clear_env();
		for (m = 0; m < sizeof(malformed) / sizeof(malformed[0]); m++) {
			setenv(vars[v].name, malformed[m], 1);
			CHECK(fails_naming(0, vars[v].name));
			CHECK(strstr(err, "must be a whole number") != NULL);
		}
		setenv(vars[v].name, vars[v].below, 1);
		CHECK(fails_naming(0, vars[v].name));
		setenv(vars[v].name, vars[v].above, 1);
		CHECK(fails_naming(0, vars[v].name));
		setenv(vars[v].name, vars[v].lowest, 1);
		CHECK_INT(load(&cfg, 0), 0);
		setenv(vars[v].name, vars[v].highest, 1);
		CHECK_INT(load(&cfg, 0), 0);
	}
	clear_env();
}

TEST(base_urls_are_https_or_loopback_http)
{
	static const char *const names[] = {
	        "GOOGLE_API_BASE",
	        "GOOGLE_OAUTH_AUTH_URL",
	        "GOOGLE_OAUTH_TOKEN_URL",
	        "GOOGLE_OAUTH_USERINFO_URL",
	        "MP_API_BASE",
	};
	static const char *const good[] = {
	        "https://www.googleapis.com",
	        "https://api.mercadopago.com/",
	        "http://127.0.0.1:9/x",
	        "http://127.0.0.1",
	        "http://127.1.2.3:8080",
	        "http://localhost:9",
	        "http://localhost:9/v1/userinfo",
	        "http://[::1]:9",
	};
	static const char *const bad[] = {
	        "http://example.com",
	        "http://www.googleapis.com",
	        "ftp://127.0.0.1/x",
	        "ftp://example.com",
	        "www.googleapis.com",
	        "//www.googleapis.com",
	        "file:///etc/passwd",
	        "http://localhost",
	        "http://localhost.example.com:9",
	        "http://10.0.0.1:9",
	        /* Loopback-looking prefixes that name another host. */
	        "http://127.0.0.1@example.com/",
	        "http://127.0.0.1:9@example.com/",
	        "http://localhost:9@example.com",
	        "http://[::1]:9@example.com",
	        "http://127.0.0.1.example.com/",
	        "http://127.evil.example:80/",
	        "http://localhost:9x.example.com/",
	};
	struct config cfg;
	size_t n, i;
	int ok;

	for (n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
		clear_env();
		for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
			setenv(names[n], good[i], 1);
			CHECK_INT(load(&cfg, 0), 0);
		}
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			setenv(names[n], bad[i], 1);
			ok = fails_naming(0, names[n]) &&
			     strstr(err, "https://") != NULL;
			if (!ok)
				fprintf(stderr, "  %s=%s accepted\n", names[n],
				        bad[i]);
			CHECK(ok);
		}
	}
	clear_env();
}

TEST(push_url_is_optional_https_or_loopback_http)
{
	static const char *const bad[] = {
	        "http://booking.example.com/api/calendar/notifications",
	        "http://127.0.0.1@example.com/api/calendar/notifications",
	        "ftp://127.0.0.1/api/calendar/notifications",
	        "booking.example.com/api/calendar/notifications",
	};
	struct config cfg;
	char longer[LIMIT_PUSH_URL + 16];
	size_t i;

	set_required();
	CHECK_INT(config_load(&cfg, need_all, err, sizeof(err)), 0);
	CHECK(cfg.calendar_push_url == NULL); /* unset: no channel */
	setenv("CALENDAR_PUSH_URL", "", 1);
	CHECK_INT(config_load(&cfg, need_all, err, sizeof(err)), 0);
	CHECK(cfg.calendar_push_url == NULL); /* empty: the same */
	setenv("CALENDAR_PUSH_URL",
	       "https://booking.example.com/api/calendar/notifications", 1);
	CHECK_INT(config_load(&cfg, need_all, err, sizeof(err)), 0);
	CHECK_STR(cfg.calendar_push_url,
	          "https://booking.example.com/api/calendar/notifications");
	setenv("CALENDAR_PUSH_URL",
	       "http://127.0.0.1:8080/api/calendar/notifications", 1);
	CHECK_INT(config_load(&cfg, need_all, err, sizeof(err)), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("CALENDAR_PUSH_URL", bad[i], 1);
		CHECK_INT(config_load(&cfg, need_all, err, sizeof(err)), -1);
		CHECK(strstr(err, "CALENDAR_PUSH_URL") != NULL);
		CHECK(strstr(err, bad[i]) == NULL);
	}
	memset(longer, 'a', sizeof(longer) - 1);
	memcpy(longer, "https://", 8);
	longer[sizeof(longer) - 1] = '\0';
	setenv("CALENDAR_PUSH_URL", longer, 1);
	CHECK_INT(config_load(&cfg, need_all, err, sizeof(err)), -1);
	CHECK(strstr(err, "CALENDAR_PUSH_URL") != NULL);
	unsetenv("CALENDAR_PUSH_URL");
}

TEST(unknown_time_zone_is_refused)
{
	static const char *const bad[] = {
	        "Mars/Olympus_Mons", "America/Nowhere", "../../etc/passwd",
	        "/etc/localtime",    "right/UTC",       "Europe//Madrid",
	};
	struct config cfg;
	size_t i;

	clear_env();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("TIME_ZONE", bad[i], 1);
		CHECK(fails_naming(0, "TIME_ZONE"));
	}
	setenv("TIME_ZONE", "Europe/Madrid", 1);
	CHECK_INT(load(&cfg, 0), 0);
	CHECK_STR(cfg.time_zone, "Europe/Madrid");
	CHECK_STR(tz_name(), "Europe/Madrid");
	clear_env();
	CHECK_INT(load(&cfg, 0), 0);
	CHECK_STR(tz_name(), "America/Argentina/Buenos_Aires");
}

TEST(encryption_key_must_be_32_bytes_of_base64)
{
	unsigned char raw[33];
	struct config cfg;
	char *b64;
	int ok;

	for (size_t i = 0; i < sizeof(raw); i++)
		raw[i] = (unsigned char)(0xff - i * 5);
	set_required();
	b64 = crypto_base64_encode(raw, 32);
	CHECK(b64 != NULL);
	setenv("TOKEN_ENCRYPTION_KEY", b64, 1);
	free(b64);
	CHECK_INT(load(&cfg, CONFIG_ADMIN_TOKEN), 0);
	CHECK_INT(cfg.has_token_key, 1);
	CHECK(memcmp(cfg.token_key, raw, 32) == 0);

	b64 = crypto_base64_encode(raw, 31);
	CHECK(b64 != NULL);
	setenv("TOKEN_ENCRYPTION_KEY", b64, 1);
	free(b64);
	CHECK(fails_naming(CONFIG_ADMIN_TOKEN, "TOKEN_ENCRYPTION_KEY"));
	b64 = crypto_base64_encode(raw, 33);
	CHECK(b64 != NULL);
	setenv("TOKEN_ENCRYPTION_KEY", b64, 1);
	free(b64);
	CHECK(fails_naming(CONFIG_ADMIN_TOKEN, "TOKEN_ENCRYPTION_KEY"));
	CHECK(strstr(err, "32 bytes") != NULL);
	setenv("TOKEN_ENCRYPTION_KEY", "this is not base64 at all!!!", 1);
	CHECK(fails_naming(CONFIG_ADMIN_TOKEN, "TOKEN_ENCRYPTION_KEY"));
	/* The URL-safe alphabet or no padding is not standard base64. */
	setenv("TOKEN_ENCRYPTION_KEY",
	       "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", 1);
	CHECK(fails_naming(CONFIG_ADMIN_TOKEN, "TOKEN_ENCRYPTION_KEY"));
	setenv("TOKEN_ENCRYPTION_KEY", key_b64, 1);
	CHECK_INT(load(&cfg, CONFIG_ADMIN_TOKEN), 0);
	ok = cfg.token_key[0] == 0 && cfg.token_key[31] == 31;
	CHECK(ok);
	/* A program that does not need the key does not decode it. */
	setenv("TOKEN_ENCRYPTION_KEY", "garbage", 1);
	CHECK_INT(load(&cfg, CONFIG_DB), 0);
	CHECK_INT(cfg.has_token_key, 0);
	clear_env();
}

TEST(messages_never_show_a_value)
{
	static const struct {
		const char *name, *value;
		unsigned need;
	} cases[] = {
	        {"TOKEN_ENCRYPTION_KEY", "Secret-Key-Not-Base64-7",
	         CONFIG_ADMIN_TOKEN},
	        {"TOKEN_ENCRYPTION_KEY", "U2VjcmV0LUtleS1TaG9ydC04", /* 18 B */
	         CONFIG_ADMIN_TOKEN},
	        {"BOOKING_HOLD_MIN", "Secret-Number-9", 0},
	        {"CALENDAR_CACHE_TTL_S", "12Secret", 0},
	        {"GOOGLE_API_BASE", "http://Secret-Host-10.example/", 0},
	        {"MP_API_BASE", "ftp://Secret-Host-11/", 0},
	        {"TIME_ZONE", "Secret/Zone_12", 0},
	};
	/* Every value above holds one of these. */
	static const char *const secrets[] = {"Secret", "U2Vj", "AAEC"};
	size_t c, s;
	int ok;

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		set_required();
		setenv(cases[c].name, cases[c].value, 1);
		CHECK(fails_naming(need_all | cases[c].need, cases[c].name));
		for (s = 0; s < sizeof(secrets) / sizeof(secrets[0]); s++) {
			ok = strstr(err, secrets[s]) == NULL;
			if (!ok)
				fprintf(stderr, "  \"%s\" shows a value\n",
				        err);
			CHECK(ok);
		}
	}
	/* A missing variable does not show the others. */
	set_required();
	unsetenv("MP_WEBHOOK_SECRET");
	CHECK(fails_naming(need_all, "MP_WEBHOOK_SECRET"));
	CHECK(strstr(err, "Secret-") == NULL);
	clear_env();
}

TEST(config_is_untouched_on_failure)
{
	struct config cfg, before;

	memset(&cfg, 0x5a, sizeof(cfg));
	memcpy(&before, &cfg, sizeof(cfg));
	set_required();
	setenv("BOOKING_HOLD_MIN", "0", 1);
	CHECK_INT(load(&cfg, need_all), -1);
	CHECK(memcmp(&cfg, &before, sizeof(cfg)) == 0);
	clear_env();
	CHECK_INT(load(&cfg, CONFIG_DB), -1);
	CHECK(memcmp(&cfg, &before, sizeof(cfg)) == 0);
}

TEST(secret_names)
{
	static const char *const secret[] = {
	        "AUTH_GOOGLE_SECRET",   "CALENDAR_API_KEY",
	        "TOKEN_ENCRYPTION_KEY", "INTERNAL_API_TOKEN",
	        "MP_ACCESS_TOKEN",      "MP_WEBHOOK_SECRET",
	        "DATABASE_URL",
	};
	static const char *const not_secret[] = {
	        "TIME_ZONE",
	        "AUTH_GOOGLE_ID",
	        "ADMIN_EMAIL",
	        "GOOGLE_CALENDAR_ID",
	        "BOOKING_HOURS",
	        "MP_API_BASE",
	        "AUTH_GOOGLE_REDIRECT_URI",
	        "database_url",
	        "DATABASE_URL_X",
	        "DATABASE",
	        "",
	};
	size_t i;

	for (i = 0; i < sizeof(secret) / sizeof(secret[0]); i++) {
		if (config_is_secret(secret[i]) != 1)
			fprintf(stderr, "  %s\n", secret[i]);
		CHECK_INT(config_is_secret(secret[i]), 1);
	}
	for (i = 0; i < sizeof(not_secret) / sizeof(not_secret[0]); i++) {
		if (config_is_secret(not_secret[i]) != 0)
			fprintf(stderr, "  %s\n", not_secret[i]);
		CHECK_INT(config_is_secret(not_secret[i]), 0);
	}
}

int main(void)
{
	RUN(missing_database_url_is_named);
	RUN(each_group_names_each_of_its_variables);
	RUN(required_values_are_read);
	RUN(defaults);
	RUN(values_override_the_defaults);
	RUN(numbers_are_strict_and_bounded);
	RUN(base_urls_are_https_or_loopback_http);
	RUN(push_url_is_optional_https_or_loopback_http);
	RUN(unknown_time_zone_is_refused);
	RUN(encryption_key_must_be_32_bytes_of_base64);
	RUN(messages_never_show_a_value);
	RUN(config_is_untouched_on_failure);
	RUN(secret_names);
	return CHECK_DONE();
}
