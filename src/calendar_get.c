/*
 * calendar_get - the read side: availability, free slots, the admin's event
 * list, a booking's and a payment's status, metrics, health, and Google's
 * push notifications. Routes only; the work is in the library.
 */
#include "school/school.h"
#include "web/app.h"
#include "web/bookapi.h"
#include "web/calread.h"
#include "web/health.h"
#include "web/metrics.h"
#include "web/payapi.h"
#include "web/pushapi.h"

static const char *const window_keys[] = {"from", "to", NULL};
static const char *const slot_keys[] = {"date", "duration", NULL};

static const struct app_route routes[] = {
        {"GET", "/api/health", NULL, 0, health_handle},
        {"GET", "/api/calendar", window_keys, 0, calread_availability},
        {"GET", "/api/calendar/slots", slot_keys, 0, calread_slots},
        {"GET", "/api/calendar/events", window_keys, 1, calread_events},
        {"GET", "/api/bookings/{id}", NULL, 1, bookapi_get},
        {"GET", "/api/payments/{id}", NULL, 1, payapi_get},
        {"GET", "/api/metrics", NULL, 1, metrics_handle},
        {"POST", "/api/calendar/notifications", NULL, 0, pushapi_notification},
};

static void stop(void)
{
	calread_release();
	school_close();
}

static const struct app_hooks hooks = {school_open, stop};

int main(void)
{
	return app_main("calendar_get",
	                CONFIG_DB | CONFIG_GOOGLE | CONFIG_ADMIN_TOKEN |
	                        CONFIG_INTERNAL,
	                routes, sizeof(routes) / sizeof(routes[0]), &hooks);
}
