/* Fuzz target: DATABASE_URL parsing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/db.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), err[256];

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	db_free(db_new(s, err, sizeof(err)));
	free(s);
	return 0;
}
