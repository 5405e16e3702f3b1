/*
 * proc - what one process holds for its whole life: its name, its checked
 * configuration, its database handle and its HTTP client.
 *
 * The start-up order is fixed (OpenBSD style): the log named, SIGPIPE
 * ignored, the configuration checked (a missing or malformed variable is
 * named and the program stops), then the database handle and the HTTP
 * client made. Neither connects yet: a database that is down makes calls
 * fail fast and recover by themselves, it does not stop the program, and
 * libcurl starts on the first upstream call. Every layer above takes a
 * struct proc * and borrows what it needs from it; nothing here knows a
 * request, a school rule or an upstream.
 */
#ifndef PROC_H
#define PROC_H

#include "core/config.h"

struct db;
struct http_client;

struct proc {
	const char *program;
	struct config cfg;
	struct db *db;            /* NULL when the program needs no database */
	struct http_client *http; /* one reused connection to the upstreams */
};

/*
 * Starts a process named program that needs the config groups in needs
 * (enum config_need). 0, or -1 after logging why; either way the caller
 * calls proc_close().
 */
int proc_open(struct proc *p, const char *program, unsigned needs)
        __attribute__((warn_unused_result));

/* Releases what proc_open() made. Safe on a zeroed or closed proc. */
void proc_close(struct proc *p);

#endif
