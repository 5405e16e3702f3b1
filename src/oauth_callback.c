/*
 * oauth_callback - the admin connects the school's Google account once,
 * and signs in to the admin console under /admin.
 * Routes only; the work is in the library.
 */
#include "school/school.h"
#include "web/admin.h"
#include "web/app.h"
#include "web/oauth.h"

static const char *const callback_keys[] = {
        "code",          "state",    "scope",  "error", "error_description",
        "error_uri",     "authuser", "prompt", "hd",    "iss",
        "session_state", NULL};

static const char *const bookings_keys[] = {"status", "from", "to", "page",
                                            NULL};
static const char *const payments_keys[] = {"status", NULL};

static const struct app_route routes[] = {
        {"GET", "/oauth/google/start", NULL, 0, oauth_start},
        {"GET", "/oauth/google/callback", callback_keys, 0, oauth_callback},
        {"GET", "/oauth/google/status", NULL, 1, oauth_status},
        {"GET", "/admin", NULL, 0, admin_overview},
        {"GET", "/admin/login", NULL, 0, admin_login},
        {"POST", "/admin/logout", NULL, 0, admin_logout},
        {"GET", "/admin/bookings", bookings_keys, 0, admin_bookings},
        {"GET", "/admin/bookings/{id}", NULL, 0, admin_booking},
        {"POST", "/admin/bookings/{id}/retry", NULL, 0, admin_retry},
        {"POST", "/admin/bookings/{id}/cancel", NULL, 0, admin_cancel},
        {"GET", "/admin/payments", payments_keys, 0, admin_payments},
};

static const struct app_hooks school = {school_open, school_close};

int main(void)
{
	return app_main("oauth_callback",
	                CONFIG_DB | CONFIG_ADMIN_TOKEN | CONFIG_INTERNAL |
	                        CONFIG_OAUTH,
	                routes, sizeof(routes) / sizeof(routes[0]), &school);
}
