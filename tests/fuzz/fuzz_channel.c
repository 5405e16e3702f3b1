/* Fuzz target: reading Google's Channel answer to events.watch. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonio.h"
#include "upstream/gcal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *o;
	struct gcal_channel c;
	char err[128];
	size_t i;

	o = jsonio_parse_lenient((const char *)data, size, 32, err,
	                         sizeof(err));
	if (o == NULL)
		return 0;
	if (gcal_channel_parse(o, &c) == 0) {
		/* What is kept fits its column and prints as it is. */
		if (c.id[0] == '\0' || c.resource_id[0] == '\0' ||
		    strlen(c.id) > LIMIT_PUSH_ID ||
		    strlen(c.resource_id) > LIMIT_PUSH_RES_ID ||
		    c.expiration_ms < 0)
			abort();
		for (i = 0; c.resource_id[i]; i++)
			if (c.resource_id[i] < 0x21 || c.resource_id[i] > 0x7e)
				abort();
	}
	json_object_put(o);
	return 0;
}
