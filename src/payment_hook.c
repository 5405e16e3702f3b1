/*
 * payment_hook - MercadoPago's payment notifications. Routes only; the work
 * is in the library.
 */
#include "app.h"
#include "payhook.h"

static const char *const notification_keys[] = {"data.id", "type", "topic",
                                                "id", NULL};

static const struct app_route routes[] = {
        {"POST", "/api/payments/mercadopago", notification_keys, 0,
         payhook_handle},
};

int main(void)
{
	return app_main("payment_hook",
	                CONFIG_DB | CONFIG_GOOGLE | CONFIG_ADMIN_TOKEN |
	                        CONFIG_MP,
	                routes, sizeof(routes) / sizeof(routes[0]));
}
