/* Fuzz target: ISO 8601 times, dates and database times. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int zone_set;
	char *s = malloc(size + 1), out[TZ_ISO_MAX];
	int64_t t;
	int had, y, m, d;

	if (s == NULL)
		return 0;
	if (!zone_set)
		zone_set = tz_set("Europe/Madrid") == 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (tz_parse_iso(s, &t, &had) == TZ_OK &&
	    tz_format_iso(t, out, sizeof(out)) != 0)
		abort(); /* every parsed instant can be written back */
	(void)tz_parse_date(s, &y, &m, &d);
	(void)tz_parse_db(s, &t);
	free(s);
	return 0;
}
