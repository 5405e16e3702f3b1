/*
 * payment_hook - MercadoPago's payment notifications. Routes only; the work
 * is in the library.
 */
#include "school/school.h"
#include "web/app.h"
#include "web/payapi.h"

static const char *const notification_keys[] = {"data.id", "type", "topic",
                                                "id", NULL};

static const struct app_route routes[] = {
        {"POST", "/api/payments/mercadopago", notification_keys, 0,
         payapi_notification},
};

static const struct app_hooks school = {school_open, school_close};

int main(void)
{
	return app_main("payment_hook",
	                CONFIG_DB | CONFIG_GOOGLE | CONFIG_ADMIN_TOKEN |
	                        CONFIG_MP,
	                routes, sizeof(routes) / sizeof(routes[0]), &school);
}
