/* Fuzz target: DATABASE_URL parsing, one host or several (each node's
 * name is read back, so every parsed entry is touched). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/db.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), err[256], name[300];
	struct db *db;
	size_t i;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	db = db_new(s, err, sizeof(err));
	if (db != NULL) {
		for (i = 0; i < db_nodes(db); i++)
			if (db_node_name(db, i, name, sizeof(name)) != 0)
				__builtin_trap();
		if (db_node_name(db, i, name, sizeof(name)) == 0)
			__builtin_trap();
	}
	db_free(db);
	free(s);
	return 0;
}
