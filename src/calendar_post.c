/*
 * calendar_post - the write side: holds, classes, reschedules,
 * cancellations. Routes only; the work is in the library.
 */
#include "app.h"
#include "booksvc.h"

static const struct app_route routes[] = {
        {"POST", "/api/calendar", NULL, 1, booksvc_create},
        {"POST", "/api/calendar/holds", NULL, 1, booksvc_hold},
        {"PATCH", "/api/calendar/{id}", NULL, 1, booksvc_reschedule},
        {"DELETE", "/api/calendar/{id}", NULL, 1, booksvc_cancel},
};

int main(void)
{
	return app_main("calendar_post",
	                CONFIG_DB | CONFIG_GOOGLE | CONFIG_ADMIN_TOKEN |
	                        CONFIG_INTERNAL,
	                routes, sizeof(routes) / sizeof(routes[0]));
}
