/*
 * app - the part every program shares: start-up, the FastCGI (or plain CGI)
 * request loop, routing through the program's table, the checks a route
 * declares (internal token, query allowlist), and the log line.
 *
 * A program's main() is its route table and one call to app_main(). The
 * start-up order is fixed: configuration checked (exit 1 naming the
 * variable), then the database handle and the HTTP client made (neither
 * connects yet: a database that is down makes requests answer 503, it does
 * not stop the program), then requests are served. Started with a FastCGI
 * socket on standard input (spawn-fcgi, systemd) it serves requests until
 * killed; otherwise it answers the one CGI request in its environment.
 */
#ifndef APP_H
#define APP_H

#include <stddef.h>

#include "config.h"
#include "http.h"
#include "request.h"
#include "response.h"

struct avail_cache;
struct db;
struct http_client;

/* What a handler may use besides its request: process-wide, borrowed. */
struct app {
	const char *program;
	struct config cfg;
	struct db *db;             /* NULL when the program needs no database */
	struct http_client *http;  /* one reused connection to upstreams */
	struct avail_cache *avail; /* this process's busy times (avail.c) */
};

/*
 * A handler fills res and returns its HTTP status. It never exits and never
 * writes to the client itself.
 */
typedef int (*app_handler)(struct app *app, struct request *req,
                           struct response *res);

struct app_route {
	const char *method;       /* "GET" also answers HEAD */
	const char *path;         /* exact, or with one "{id}" segment */
	const char *const *query; /* allowed query keys; NULL: none */
	int internal; /* needs Authorization: Bearer INTERNAL_API_TOKEN */
	app_handler handler;
};

/*
 * The start-up of every program, for one that does not serve requests
 * (reconcile): configuration checked, the database handle made. 0, or -1
 * after logging why (the caller still calls app_close()).
 */
int app_open(struct app *app, const char *program, unsigned needs)
        __attribute__((warn_unused_result));

/* Releases what app_open() and the requests made. */
void app_close(struct app *app);

/*
 * Runs the program: see above. needs is the or of the config groups it
 * requires. Returns the process exit status.
 */
int app_main(const char *program, unsigned needs,
             const struct app_route *routes, size_t nroutes);

/*
 * Dispatches one request through routes (exposed for tests): 404 for a path
 * no route knows, 405 with Allow listing every method the contract serves
 * on that path, 401 for an internal route without the right token, 400 for
 * a query outside the allowlist, else the handler's status.
 */
int app_dispatch(struct app *app, const struct app_route *routes,
                 size_t nroutes, struct request *req, struct response *res);

/*
 * http_perform() on the process's client, made on first use (a process
 * that never calls Google or MercadoPago never loads TLS). HTTP_ERR_NOMEM
 * when the client cannot be made.
 */
enum http_result
app_http_perform(struct app *app, const struct http_request *req,
                 struct http_response *out, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/* A handler for a contract path this build does not serve yet: 501. */
int app_not_implemented(struct app *app, struct request *req,
                        struct response *res);

/*
 * Every path and method of the HTTP contract, whichever program serves it,
 * written into allow as "GET, HEAD, POST". Returns the number of methods
 * (0 when the contract does not know the path).
 */
int app_contract_allow(const char *path, char *allow, size_t allowlen);

#endif
