/* Fuzz target: reading a Google event (span, Meet link, booking id). */
#include <stdint.h>
#include <stdlib.h>

#include "upstream/gevent.h"
#include "core/jsonio.h"
#include "core/tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int zone_set;
	struct json_object *ev;
	int64_t s, e;
	int all_day;
	char err[128];

	if (!zone_set)
		zone_set = tz_set("America/Sao_Paulo") == 0;
	ev = jsonio_parse((const char *)data, size, 16, err, sizeof(err));
	if (ev == NULL)
		return 0;
	if (gevent_span(ev, &s, &e, &all_day) == 0 && e < s)
		abort();
	(void)gevent_meet_link(ev);
	(void)gevent_booking_id(ev);
	json_object_put(ev);
	return 0;
}
