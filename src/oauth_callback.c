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

/* The browser's pages answer every refusal as a page (APP_HTML); the
 * status is JSON for the PHP site. */
static const struct app_route routes[] = {
        {"GET", "/oauth/google/start", NULL, APP_HTML, oauth_start},
        {"GET", "/oauth/google/callback", callback_keys, APP_HTML,
         oauth_callback},
        {"GET", "/oauth/google/status", NULL, APP_INTERNAL, oauth_status},
        {"GET", "/admin", NULL, APP_HTML, admin_overview},
        {"GET", "/admin/login", NULL, APP_HTML, admin_login},
        {"POST", "/admin/logout", NULL, APP_HTML, admin_logout},
        {"GET", "/admin/bookings", bookings_keys, APP_HTML, admin_bookings},
        {"GET", "/admin/bookings/{id}", NULL, APP_HTML, admin_booking},
        {"POST", "/admin/bookings/{id}/retry", NULL, APP_HTML, admin_retry},
        {"POST", "/admin/bookings/{id}/cancel", NULL, APP_HTML, admin_cancel},
        {"GET", "/admin/payments", payments_keys, APP_HTML, admin_payments},
};

static const struct app_hooks school = {school_open, school_close};

int main(void)
{
	return app_main("oauth_callback",
	                CONFIG_DB | CONFIG_ADMIN_TOKEN | CONFIG_INTERNAL |
	                        CONFIG_OAUTH,
	                routes, sizeof(routes) / sizeof(routes[0]), &school);
}
