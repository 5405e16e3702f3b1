/* Fuzz target: a JSON body parsed with the depth limit. */
#include <stdint.h>
#include <string.h>

#include "core/jsonio.h"
#include "core/limit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	struct json_object *obj;

	obj = jsonio_parse((const char *)data, size, LIMIT_JSON_DEPTH, err,
	                   sizeof(err));
	if (obj != NULL) {
		(void)jsonio_string(obj, "start");
		(void)jsonio_member(obj, "data", json_type_object);
		json_object_put(obj);
	}
	return 0;
}
