#include "web/pushapi.h"

#include "core/log.h"
#include "school/avail.h"
#include "school/push.h"
#include "web/reply.h"

int pushapi_notification(struct proc *proc, struct request *req,
                         struct response *res)
{
	struct push_notice n;

	if (proc->cfg.calendar_push_url == NULL)
		return response_error(res, 401, "unauthorized",
		                      "This server has no push channel.");
	n.channel_id = request_header(req, "X-Goog-Channel-ID");
	n.resource_id = request_header(req, "X-Goog-Resource-ID");
	n.token = request_header(req, "X-Goog-Channel-Token");
	n.state = request_header(req, "X-Goog-Resource-State");
	n.message_number = request_header(req, "X-Goog-Message-Number");
	switch (push_check(proc, req->request_id, &n)) {
	case PUSH_CHANGED:
		if (avail_mark_stale(proc->db, proc->cfg.google_calendar_id) !=
		    0)
			return reply_db_down(proc, req, res,
			                     "marking availability stale");
		return reply_received(res, "changed", NULL, NULL);
	case PUSH_SYNC:
		return reply_received(res, "sync", NULL, NULL);
	case PUSH_BAD_STATE:
		return response_error(res, 400, "bad_request",
		                      "X-Goog-Resource-State must be sync, "
		                      "exists or not_exists.");
	case PUSH_DB_DOWN:
		return reply_db_down(proc, req, res, "a push notification");
	case PUSH_FORGED:
		break;
	}
	/* The channel id is not a secret; the token never appears. */
	log_warn(req->request_id,
	         "push notification refused: not from a channel of ours "
	         "(wrong channel, resource or token)");
	return response_error(res, 401, "unauthorized",
	                      "The notification is not from a live channel of "
	                      "this server.");
}
