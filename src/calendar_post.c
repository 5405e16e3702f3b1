/*
 * calendar_post - the write side: holds, classes, reschedules,
 * cancellations. Routes only; the work is in the library.
 */
#include "school/school.h"
#include "web/app.h"
#include "web/bookapi.h"

static const struct app_route routes[] = {
        {"POST", "/api/calendar", NULL, 1, bookapi_create},
        {"POST", "/api/calendar/holds", NULL, 1, bookapi_hold},
        {"PATCH", "/api/calendar/{id}", NULL, 1, bookapi_reschedule},
        {"DELETE", "/api/calendar/{id}", NULL, 1, bookapi_cancel},
};

static const struct app_hooks school = {school_open, school_close};

int main(void)
{
	return app_main("calendar_post",
	                CONFIG_DB | CONFIG_GOOGLE | CONFIG_ADMIN_TOKEN |
	                        CONFIG_INTERNAL,
	                routes, sizeof(routes) / sizeof(routes[0]), &school);
}
