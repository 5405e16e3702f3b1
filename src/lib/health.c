#include "health.h"

#include <string.h>

#include <json-c/json_object.h>

#include "db.h"
#include "jsonio.h"
#include "log.h"

int health_handle(struct app *app, struct request *req, struct response *res)
{
	struct db_rows rows;
	struct json_object *root;
	enum db_result r;
	int connected = 0, stale = 0, status = 503;
	const char *cell;

	/* One round trip: is a refresh token stored and not revoked, and is
	 * the availability cache behind a failing refresh? */
	r = db_query(app->db,
	             "SELECT (SELECT COUNT(*) FROM users WHERE role = 'admin' "
	             "AND googleRefreshToken IS NOT NULL "
	             "AND googleTokenStatus = 'ok'), "
	             "(SELECT COUNT(*) FROM calendar_sync "
	             "WHERE lastErrorAt IS NOT NULL AND (lastSuccessAt IS NULL "
	             "OR lastErrorAt > lastSuccessAt))",
	             NULL, 0, &rows);
	if (r == DB_OK && rows.nrows == 1) {
		cell = db_cell(&rows, 0, 0);
		connected = cell != NULL && strcmp(cell, "0") != 0;
		cell = db_cell(&rows, 0, 1);
		stale = cell != NULL && strcmp(cell, "0") != 0;
		status = 200;
	} else {
		log_warn(req->request_id, "health: %s", db_error(app->db));
	}
	db_rows_free(&rows);

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
	    jsonio_add_bool(root, "calendarConnected", connected) != 0) {
		json_object_put(root);
		return response_error(res, 500, "internal_error",
		                      "The reply could not be built.");
	}
	status = response_json(res, status, root);
	json_object_put(root);
	return status;
}
