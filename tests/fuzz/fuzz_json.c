/* Fuzz target: a JSON body parsed with the depth limit. */
#include <stdint.h>
#include <string.h>

#include "core/jsonio.h"
#include "core/limit.h"
#include "core/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], copy[64];
	struct json_object *obj;
	size_t cut;

	/* The UTF-8 helpers agree with each other on any bytes. */
	cut = utf8_clip((const char *)data, size, size);
	if (utf8_valid((const char *)data, size) != (cut == size))
		__builtin_trap();
	if (!utf8_valid((const char *)data, cut))
		__builtin_trap();
	if (memchr(data, '\0', size) == NULL && size < 4096) {
		char s[4096];

		memcpy(s, data, size);
		s[size] = '\0';
		utf8_copy(copy, sizeof(copy), s);
		if (!utf8_valid(copy, strlen(copy)))
			__builtin_trap();
	}

	obj = jsonio_parse((const char *)data, size, LIMIT_JSON_DEPTH, err,
	                   sizeof(err));
	if (obj != NULL) {
		(void)jsonio_string(obj, "start");
		(void)jsonio_member(obj, "data", json_type_object);
		json_object_put(obj);
	}
	return 0;
}
