#include "web/payapi.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json_object.h>

#include "core/jsonio.h"
#include "core/limit.h"
#include "core/log.h"
#include "core/tz.h"
#include "school/ledger.h"
#include "school/payment.h"
#include "upstream/mp.h"
#include "web/payguard.h"
#include "web/reply.h"

/* This process's guards for unsigned notifications (web/payguard.h). */
static struct payguard guard;

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int not_recorded(struct response *res)
{
	return response_error(res, 503, "database_unavailable",
	                      "The payment could not be recorded; the "
	                      "notification can be sent again.");
}

/* 429 with Retry-After: an unsigned notification this process does not
 * spend a read of MercadoPago on now (why, a sentence); MercadoPago sends
 * it again later. */
static int not_now(struct request *req, struct response *res, const char *pid,
                   long retry_after_s, const char *why)
{
	log_warn(req->request_id,
	         "unsigned notification for payment %s not read: %s", pid, why);
	if (response_retry_after(res, retry_after_s) != 0)
		return response_error(res, 500, "internal_error",
		                      "The reply could not be built.");
	return response_error(res, 429, "too_many_notifications",
	                      "%s; send it again in %ld s (signed "
	                      "notifications are not limited).",
	                      why, retry_after_s);
}

int payapi_notification(struct proc *proc, struct request *req,
                        struct response *res)
{
	const char *topic = request_query(req, "topic");
	const char *type = request_query(req, "type");
	const char *pid = NULL;
	char err[LIMIT_ERROR_MESSAGE];
	struct json_object *pay = NULL;
	struct payment_outcome o;
	enum payment_result pr;
	enum mp_result mr;
	int status, is_signed = 0;

	/* The body is read (bounded) but never trusted. */
	status = request_read_body(req, err, sizeof(err));
	if (status != 0)
		return response_error(res, status,
		                      status == 413 ? "body_too_large"
		                                    : "bad_request",
		                      "%s.", err);
	if (topic != NULL) {
		/* The older form, which MercadoPago does not sign. */
		if (strcmp(topic, "payment") != 0)
			return reply_received(res, "ignored: not a payment",
			                      "payment", NULL);
		pid = request_query(req, "id");
	} else if (type != NULL) {
		enum mp_sig sig;

		if (strcmp(type, "payment") != 0)
			return reply_received(res, "ignored: not a payment",
			                      "payment", NULL);
		pid = request_query(req, "data.id");
		sig = mp_signature_verify(
		        proc->cfg.mp_webhook_secret,
		        request_header(req, "X-Signature"), pid,
		        request_header(req, "X-Request-Id"), tz_now(),
		        proc->cfg.mp_signature_tolerance_s);
		if (sig != MP_SIG_OK) {
			log_warn(req->request_id, "notification refused: %s",
			         mp_sig_str(sig));
			return response_error(res, 401, "invalid_signature",
			                      "The notification's signature is "
			                      "not valid: %s.",
			                      mp_sig_str(sig));
		}
		is_signed = 1;
	} else {
		return response_error(res, 400, "invalid_query",
		                      "Expected ?data.id=...&type=payment or "
		                      "?topic=payment&id=....");
	}
	if (pid == NULL || !payment_id_valid(pid))
		return response_error(
		        res, 400, "invalid_query",
		        "The payment id is missing or malformed: MercadoPago's "
		        "payment ids are 1 to %d digits.",
		        LIMIT_PAYMENT_ID_DIGITS);
	if (!is_signed) {
		/* Anyone can send this form: it must stay cheap. */
		long wait = 0;

		if (payguard_unknown(&guard, pid, monotonic_ms(), &wait))
			return not_now(
			        req, res, pid, wait,
			        "MercadoPago did not know this payment a "
			        "moment ago");
		if (!payguard_take(&guard, monotonic_ms(), &wait))
			return not_now(req, res, pid, wait,
			               "Too many unsigned notifications in a "
			               "short time");
	}

	/* One try: a failure is answered at once, and MercadoPago sends the
	 * notification again later; no one waits on a retry here. */
	mr = mp_payment_get(proc, req->request_id, pid, 1, &pay, err,
	                    sizeof(err));
	if (mr == MP_NOT_FOUND) {
		payguard_remember_unknown(&guard, pid, monotonic_ms());
		log_warn(req->request_id,
		         "notification for payment %s, which "
		         "MercadoPago does not know: ignored",
		         pid);
		return reply_received(res, "ignored: unknown payment",
		                      "payment", pid);
	}
	if (mr == MP_UNREADABLE) {
		/* It will read the same next time: recorded, with why. */
		payguard_known(&guard, pid);
		if (payment_record_unreadable(proc, req->request_id, pid, err,
		                              &o) != PAYMENT_RECORDED)
			return not_recorded(res);
		return reply_received(res, o.what, "payment", pid);
	}
	if (mr != MP_OK) {
		log_warn(req->request_id, "reading payment %s: %s", pid, err);
		return response_error(res, mr == MP_REFUSED ? 502 : 503,
		                      "payment_provider_unavailable",
		                      "MercadoPago could not be read; the "
		                      "notification can be sent again.");
	}
	payguard_known(&guard, pid);

	pr = payment_record(proc, req->request_id, pid, pay, &o);
	json_object_put(pay);
	if (pr == PAYMENT_CALENDAR_DOWN)
		return reply_calendar_error(res, o.calendar);
	if (pr != PAYMENT_RECORDED)
		return not_recorded(res);
	log_info(req->request_id, "payment %s: %s%s%s", pid, o.what,
	         o.booking[0] ? ", booking " : "", o.booking);

	/* Then Google; the reply is 200 anyway: the state is durable. */
	payment_finish(proc, req->request_id, &o);
	return reply_received(res, o.what, "payment", pid);
}

int payapi_get(struct proc *proc, struct request *req, struct response *res)
{
	struct json_object *pay = NULL;
	int rc = payment_id_valid(req->param)
	                 ? ledger_payment_json(proc->db, req->param, &pay)
	                 : 1;

	if (rc < 0)
		return reply_db_down(proc, req, res, "reading a payment");
	if (rc == 1)
		return response_error(res, 404, "payment_not_found",
		                      "No notification of this payment has "
		                      "arrived from MercadoPago.");
	return reply_wrapped(res, 200, "payment", pay);
}
