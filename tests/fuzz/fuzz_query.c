/* Fuzz target: a query string parsed against an allowlist. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = {"from", "to", "data.id", "", NULL};
	char err[256], *q = malloc(size + 1);
	struct request req;

	if (q == NULL)
		return 0;
	memcpy(q, data, size);
	q[size] = '\0';
	memset(&req, 0, sizeof(req));
	req.query = q;
	if (request_parse_query(&req, keys, err, sizeof(err)) == 0) {
		(void)request_query(&req, "from");
		(void)request_query(&req, "data.id");
	}
	request_free(&req);
	free(q);
	return 0;
}
