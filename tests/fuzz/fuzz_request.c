/*
 * Fuzz target: a whole request through the dispatcher. The input is the
 * request's parameters, one "NAME=value" per line, then an empty line and
 * the body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/app.h"
#include "web/cookie.h"
#include "core/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct body {
	const char *p;
	size_t left;
};

static int read_mem(void *ctx, char *out, size_t len)
{
	struct body *b = ctx;
	size_t n = len < b->left ? len : b->left;

	memcpy(out, b->p, n);
	b->p += n;
	b->left -= n;
	return (int)n;
}

static int echo_json(struct proc *proc, struct request *req,
                     struct response *res)
{
	struct json_object *obj;
	char err[256];
	int status;

	(void)proc;
	status = request_json_body(req, &obj, err, sizeof(err));
	if (status != 0)
		return response_error(res, status, "bad_request", "%s", err);
	status = response_json(res, 200, obj);
	json_object_put(obj);
	return status;
}

/* A page's handler: reads the cookies the pages read (HTTP_COOKIE). */
static int read_cookies(struct proc *proc, struct request *req,
                        struct response *res)
{
	char v[65];

	(void)proc;
	cookie_read_hex64(req, "booking_oauth", v);
	cookie_read_hex64(req, "booking_admin", v);
	return response_error(res, v[0] ? 200 : 400, "cookie", "%s", v);
}

static const char *const keys[] = {"from", "to", NULL};
static const struct app_route routes[] = {
        {"GET", "/api/calendar", keys, 0, echo_json},
        {"POST", "/api/calendar", NULL, 1, echo_json},
        {"PATCH", "/api/calendar/{id}", NULL, 0, echo_json},
        {"GET", "/api/calendar/slots", keys, 0, echo_json},
        {"GET", "/oauth/google/callback", NULL, 0, read_cookies},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *envp[17], *line, *next;
	struct proc proc;
	struct request req;
	struct response res;
	struct body body = {"", 0};
	struct buf out;
	char err[256];
	size_t n = 0;

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (line = copy; line != NULL && n < 16; line = next) {
		next = memchr(line, '\n', size - (size_t)(line - copy));
		if (next != NULL)
			*next++ = '\0';
		if (*line == '\0') {
			if (next != NULL) {
				body.p = next;
				body.left = size - (size_t)(next - copy);
			}
			break;
		}
		envp[n++] = line;
	}
	envp[n] = NULL;

	memset(&proc, 0, sizeof(proc));
	proc.cfg.internal_api_token = "fuzz-token";
	response_init(&res);
	buf_init(&out, 0);
	if (request_init(&req, envp, err, sizeof(err)) == 0) {
		req.read = read_mem;
		req.read_ctx = &body;
		(void)app_dispatch(&proc, routes,
		                   sizeof(routes) / sizeof(routes[0]), &req,
		                   &res);
	}
	(void)response_serialize(&res, req.request_id, 0, &out);
	buf_free(&out);
	response_free(&res);
	request_free(&req);
	free(copy);
	return 0;
}
