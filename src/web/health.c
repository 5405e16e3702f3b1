#include "web/health.h"

#include <json-c/json_object.h>

#include "io/db.h"
#include "school/avail.h"
#include "school/push.h"
#include "upstream/gtoken.h"
#include "core/jsonio.h"
#include "core/log.h"

int health_handle(struct proc *proc, struct request *req, struct response *res)
{
	struct json_object *root;
	struct push_status push = {0, 0, 0};
	int connected, stale = 0, status = 503, push_ok = 0;

	/* Is a refresh token stored and not revoked, and is the
	 * availability cache behind a failing refresh? */
	connected = gtoken_connected(proc->db);
	if (connected >= 0)
		stale = avail_failing(proc->db);
	/* Whether Google's push channel is live: only said when
	 * CALENDAR_PUSH_URL is set. */
	if (connected >= 0 && stale >= 0 && proc->cfg.calendar_push_url != NULL)
		push_ok = push_status(proc->db, proc->cfg.google_calendar_id,
		                      &push) == 0;
	if (connected >= 0 && stale >= 0 &&
	    (proc->cfg.calendar_push_url == NULL || push_ok)) {
		status = 200;
	} else {
		log_warn(req->request_id, "health: %s", db_error(proc->db));
		connected = 0;
	}

	if (response_header(res, "Cache-Control", "no-store") != 0)
		return response_error(res, 500, "internal_error",
		                      "The reply could not be built.");
	root = json_object_new_object();
	if (root == NULL ||
	    jsonio_add_string(root, "status",
	                      status == 200 && connected && !stale
	                              ? "ok"
	                              : "degraded") != 0 ||
	    jsonio_add_string(root, "database",
	                      status == 200 ? "ok" : "unreachable") != 0 ||
	    jsonio_add_bool(root, "calendarConnected", connected) != 0 ||
	    (proc->cfg.calendar_push_url != NULL &&
	     jsonio_add_bool(root, "pushChannelLive", push.live) != 0)) {
		json_object_put(root);
		return response_error(res, 500, "internal_error",
		                      "The reply could not be built.");
	}
	status = response_json(res, status, root);
	json_object_put(root);
	return status;
}
