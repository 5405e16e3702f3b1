/*
 * oauth_callback - the admin connects the school's Google account once.
 * Routes only; the work is in the library.
 */
#include "app.h"

static const char *const callback_keys[] = {
        "code", "state", "scope", "error", "authuser", "prompt", "hd", NULL};

static const struct app_route routes[] = {
        {"GET", "/oauth/google/start", NULL, 0, app_not_implemented},
        {"GET", "/oauth/google/callback", callback_keys, 0,
         app_not_implemented},
        {"GET", "/oauth/google/status", NULL, 1, app_not_implemented},
};

int main(void)
{
	return app_main("oauth_callback",
	                CONFIG_DB | CONFIG_ADMIN_TOKEN | CONFIG_INTERNAL |
	                        CONFIG_OAUTH,
	                routes, sizeof(routes) / sizeof(routes[0]));
}
