/*
 * calendar_post - the write side: holds, classes, reschedules,
 * cancellations. Routes only; the work is in the library.
 */
#include "app.h"

static const struct app_route routes[] = {
        {"POST", "/api/calendar", NULL, 1, app_not_implemented},
        {"POST", "/api/calendar/holds", NULL, 1, app_not_implemented},
        {"PATCH", "/api/calendar/{id}", NULL, 1, app_not_implemented},
        {"DELETE", "/api/calendar/{id}", NULL, 1, app_not_implemented},
};

int main(void)
{
	return app_main("calendar_post",
	                CONFIG_DB | CONFIG_GOOGLE | CONFIG_ADMIN_TOKEN |
	                        CONFIG_INTERNAL,
	                routes, sizeof(routes) / sizeof(routes[0]));
}
