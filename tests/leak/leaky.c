/*
 * leaky - a FastCGI program built only to prove that the test suite
 * catches a leak: GET /api/health answers, and loses 64 bytes each time.
 * Never installed; tests/leak/check.py runs it under AddressSanitizer.
 */
#include <stdlib.h>

#include "web/app.h"

/* volatile: the compiler must make the allocation and forget it. */
static char *volatile lost;

static int leak(struct proc *proc, struct request *req, struct response *res)
{
	(void)proc;
	(void)req;
	lost = malloc(64);
	if (lost != NULL)
		lost[0] = 1;
	lost = NULL; /* and now it is unreachable */
	return response_error(res, 418, "leaky", "This program leaks.");
}

static const struct app_route routes[] = {
        {"GET", "/api/health", NULL, 0, leak},
};

int main(void)
{
	return app_main("leaky", 0, routes, sizeof(routes) / sizeof(routes[0]),
	                NULL);
}
