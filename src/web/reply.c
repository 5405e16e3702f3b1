#include "web/reply.h"

#include <json-c/json_object.h>

#include "core/jsonio.h"
#include "core/log.h"
#include "io/db.h"
#include "school/ledger.h"
#include "upstream/gtoken.h"

int reply_db_unavailable(struct response *res)
{
	return response_error(res, 503, "database_unavailable",
	                      "The database is not answering; try again in a "
	                      "minute.");
}

int reply_calendar_error(struct response *res, enum gcal_result r)
{
	switch (r) {
	case GCAL_NOT_CONNECTED:
		return response_error(res, 503, "calendar_not_connected", "%s",
		                      GTOKEN_NOT_CONNECTED_MESSAGE);
	case GCAL_DB_DOWN:
		return reply_db_unavailable(res);
	case GCAL_UNAVAILABLE:
		return response_error(res, 503, "calendar_unavailable",
		                      "Google Calendar is not answering; try "
		                      "again in a minute.");
	case GCAL_TIMEOUT:
		return response_error(res, 504, "calendar_timeout",
		                      "Google Calendar took too long to "
		                      "answer; try again in a minute.");
	default:
		break;
	}
	return response_error(res, 502, "calendar_error",
	                      "Google Calendar refused the request (%s).",
	                      gcal_result_str(r));
}

int reply_db_down(struct proc *proc, struct request *req, struct response *res,
                  const char *what)
{
	log_warn(req->request_id, "%s: %s", what, db_error(proc->db));
	return reply_db_unavailable(res);
}

int reply_body_error(struct response *res, int status, const char *err)
{
	return response_error(res, status,
	                      status == 413   ? "body_too_large"
	                      : status == 415 ? "unsupported_media_type"
	                                      : "invalid_json",
	                      "%s.", err);
}

int reply_booking(struct proc *proc, struct request *req, struct response *res,
                  int status, const char *id)
{
	struct json_object *b = NULL;
	int rc =
	        ledger_id_valid(id) ? ledger_booking_json(proc->db, id, &b) : 1;

	if (rc < 0) {
		log_warn(req->request_id, "reading booking %s: %s", id,
		         db_error(proc->db));
		return reply_db_unavailable(res);
	}
	if (rc == 1)
		return response_error(res, 404, "booking_not_found",
		                      "There is no booking with this id.");
	return reply_wrapped(res, status, "booking", b);
}

int reply_received(struct response *res, const char *result, const char *key,
                   const char *value)
{
	struct json_object *o = json_object_new_object();
	int status;

	if (o == NULL || jsonio_add_bool(o, "received", 1) ||
	    jsonio_add_string(o, "result", result) ||
	    (key != NULL && jsonio_add_string(o, key, value))) {
		json_object_put(o);
		return response_error(res, 500, "internal_error",
		                      "The reply could not be built.");
	}
	status = response_json(res, 200, o);
	json_object_put(o);
	return status;
}

int reply_wrapped(struct response *res, int status, const char *key,
                  struct json_object *obj)
{
	struct json_object *root = json_object_new_object();
	int rc;

	if (root == NULL || jsonio_add(root, key, obj) != 0) {
		json_object_put(root);
		if (root == NULL)
			json_object_put(obj);
		return response_error(res, 500, "internal_error",
		                      "The reply could not be built.");
	}
	rc = response_json(res, status, root);
	json_object_put(root);
	return rc;
}
