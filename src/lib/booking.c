#include "booking.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "jsonio.h"
#include "log.h"
#include "tz.h"

int booking_id_valid(const char *s)
{
	size_t i;

	for (i = 0; i < 32; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[32] == '\0';
}

/* A DATETIME cell (UTC) as an ISO time in the zone, or null. */
static int add_time(struct json_object *o, const char *key, const char *cell)
{
	char s[TZ_ISO_MAX];

	return jsonio_add_string(
	        o, key, tz_db_to_iso(cell, s, sizeof(s)) == 0 ? s : NULL);
}

int booking_load_json(struct app *app, const char *id, struct json_object **out)
{
	struct db_param p = db_text(id);
	struct json_object *o;
	struct db_rows rows;
	const char *tz;

	if (db_query(app->db,
	             "SELECT id, status, startAt, endAt, timeZone, classType, "
	             "participants, studentEmail, studentName, eventId, "
	             "meetLink, htmlLink, paymentId, holdExpiresAt, lastError "
	             "FROM bookings WHERE id = ?",
	             &p, 1, &rows) != DB_OK) {
		db_rows_free(&rows);
		return -1;
	}
	if (rows.nrows != 1) {
		db_rows_free(&rows);
		return 1;
	}
	tz = db_cell(&rows, 0, 4);
	o = json_object_new_object();
	if (o == NULL || jsonio_add_string(o, "id", db_cell(&rows, 0, 0)) ||
	    jsonio_add_string(o, "status", db_cell(&rows, 0, 1)) ||
	    add_time(o, "start", db_cell(&rows, 0, 2)) ||
	    add_time(o, "end", db_cell(&rows, 0, 3)) ||
	    jsonio_add_string(o, "timeZone", tz) ||
	    jsonio_add_string(o, "classType", db_cell(&rows, 0, 5)) ||
	    jsonio_add_int(o, "participants",
	                   strtoll(db_cell(&rows, 0, 6), NULL, 10)) ||
	    jsonio_add_string(o, "studentEmail", db_cell(&rows, 0, 7)) ||
	    jsonio_add_string(o, "studentName", db_cell(&rows, 0, 8)) ||
	    jsonio_add_string(o, "eventId", db_cell(&rows, 0, 9)) ||
	    jsonio_add_string(o, "meetLink", db_cell(&rows, 0, 10)) ||
	    jsonio_add_string(o, "htmlLink", db_cell(&rows, 0, 11)) ||
	    jsonio_add_string(o, "paymentId", db_cell(&rows, 0, 12)) ||
	    add_time(o, "holdExpiresAt", db_cell(&rows, 0, 13)) ||
	    jsonio_add_string(o, "lastError", db_cell(&rows, 0, 14))) {
		json_object_put(o);
		db_rows_free(&rows);
		return -1;
	}
	db_rows_free(&rows);
	*out = o;
	return 0;
}

int booking_reply(struct app *app, struct request *req, struct response *res,
                  int status, const char *id)
{
	struct json_object *b = NULL, *root;
	int rc = booking_id_valid(id) ? booking_load_json(app, id, &b) : 1;

	if (rc < 0) {
		log_warn(req->request_id, "reading booking %s: %s", id,
		         db_error(app->db));
		return response_error(res, 503, "database_unavailable",
		                      "The database is not answering; try "
		                      "again in a minute.");
	}
	if (rc == 1)
		return response_error(res, 404, "booking_not_found",
		                      "There is no booking with this id.");
	root = json_object_new_object();
	if (root == NULL || jsonio_add(root, "booking", b) != 0) {
		json_object_put(root);
		if (root == NULL)
			json_object_put(b);
		return response_error(res, 500, "internal_error",
		                      "The reply could not be built.");
	}
	rc = response_json(res, status, root);
	json_object_put(root);
	return rc;
}

int booking_get(struct app *app, struct request *req, struct response *res)
{
	return booking_reply(app, req, res, 200, req->param);
}
