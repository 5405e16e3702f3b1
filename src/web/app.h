/*
 * app - the web runtime every program behind nginx shares: the FastCGI
 * (or plain CGI) request loop, routing through the program's table, the
 * checks a route declares (internal token, query allowlist), the reply's
 * common headers and the log line. It knows no school rule and no upstream:
 * a handler is handed the process (io/proc.h) and its request.
 *
 * A program's main() is its route table and one call to app_main(), which
 * starts the process (proc_open(): configuration checked, exit 1 naming the
 * variable), then serves requests. Started with a FastCGI socket on
 * standard input (spawn-fcgi, systemd) it serves requests until SIGTERM or
 * SIGINT, then finishes the request in hand, frees what it holds and exits
 * 0; otherwise it answers the one CGI request in its environment.
 */
#ifndef APP_H
#define APP_H

#include <stddef.h>

#include "io/proc.h"
#include "web/request.h"
#include "web/response.h"

/*
 * A handler fills res and returns its HTTP status. It never exits and never
 * writes to the client itself.
 */
typedef int (*app_handler)(struct proc *proc, struct request *req,
                           struct response *res);

/*
 * What a route declares besides its method, path and query (or'ed):
 * APP_INTERNAL, it needs Authorization: Bearer INTERNAL_API_TOKEN;
 * APP_HTML, it is a page: on its path the runtime's own refusals (a
 * malformed request or query, a wrong method, a body too large, a reply
 * that cannot be built) are HTML pages too, never JSON.
 */
#define APP_INTERNAL 1u
#define APP_HTML     2u

struct app_route {
	const char *method;       /* "GET" also answers HEAD */
	const char *path;         /* exact, or with one "{id}" segment */
	const char *const *query; /* allowed query keys; NULL: none */
	unsigned flags;           /* APP_INTERNAL, APP_HTML, or 0 */
	app_handler handler;
};

/* What a program adds to the process's start and end (either may be
 * NULL): start returns 0, or -1 after logging why (the program exits 1). */
struct app_hooks {
	int (*start)(struct proc *proc);
	void (*stop)(void);
};

/*
 * Runs the program: see above. needs is the or of the config groups it
 * requires; hooks (may be NULL) run after the process started and after
 * its last request. Returns the process exit status.
 */
int app_main(const char *program, unsigned needs,
             const struct app_route *routes, size_t nroutes,
             const struct app_hooks *hooks);

/*
 * Dispatches one request through routes (exposed for tests): 413 for a
 * body over the limit, 404 for a path no route knows, 405 with Allow
 * listing every method the contract serves on that path, 401 for an
 * internal route without the right token, 400 for a query outside the
 * allowlist, else the handler's status. These refusals are the contract's
 * JSON errors, or pages (response_status_page()) on a path that an
 * APP_HTML route serves, whatever the method.
 */
int app_dispatch(struct proc *proc, const struct app_route *routes,
                 size_t nroutes, struct request *req, struct response *res);

/* A handler for a contract path this build does not serve yet: 501. */
int app_not_implemented(struct proc *proc, struct request *req,
                        struct response *res);

/*
 * Every path and method of the HTTP contract, whichever program serves it,
 * written into allow as "GET, HEAD, POST". Returns the number of methods
 * (0 when the contract does not know the path).
 */
int app_contract_allow(const char *path, char *allow, size_t allowlen);

#endif
