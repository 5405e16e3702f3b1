/*
 * peer.h - a scripted HTTP peer for the C tests that talk HTTP
 * (tests/unit/http_peer.py): started by the test itself (run from the
 * repository root), told how to answer each request (script()), and asked
 * what it received (fetch_log(), log_has()).
 */
#ifndef PEER_H
#define PEER_H

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "io/http.h"

static pid_t peer_pid = -1;
static int peer_port;
static char peer_port_file[128];
static struct http_client *ctl; /* talks to the peer's control endpoints */

static __attribute__((unused)) void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	int rc;

	do {
		rc = nanosleep(&ts, &ts);
	} while (rc == -1 && errno == EINTR);
}

static __attribute__((unused)) int peer_start(void)
{
	char line[32];
	int i;

	if (snprintf(peer_port_file, sizeof(peer_port_file),
	             "/tmp/test_http_peer.%ld.port", (long)getpid()) < 0)
		return -1;
	unlink(peer_port_file);
	fflush(NULL);
	peer_pid = fork();
	if (peer_pid < 0)
		return -1;
	if (peer_pid == 0) {
		execlp("python3", "python3", "tests/unit/http_peer.py",
		       "--port-file", peer_port_file, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 500; i++) {
		FILE *f = fopen(peer_port_file, "r");

		if (f) {
			if (fgets(line, sizeof(line), f))
				peer_port = (int)strtol(line, NULL, 10);
			fclose(f);
			if (peer_port > 0)
				return 0;
		}
		if (waitpid(peer_pid, NULL, WNOHANG) == peer_pid) {
			peer_pid = -1;
			return -1;
		}
		sleep_ms(20);
	}
	return -1;
}

static __attribute__((unused)) void peer_stop(void)
{
	if (peer_pid > 0) {
		kill(peer_pid, SIGTERM);
		waitpid(peer_pid, NULL, 0);
		peer_pid = -1;
	}
	unlink(peer_port_file);
}

/* "http://127.0.0.1:PORT" + path into u. */
static __attribute__((unused)) const char *url_of(char *u, size_t n,
                                                  const char *path)
{
	if (snprintf(u, n, "http://127.0.0.1:%d%s", peer_port, path) < 0)
		u[0] = '\0';
	return u;
}

/* Replaces the peer's script (and empties its log). 0 or -1. */
static __attribute__((unused)) int script(const char *json)
{
	struct http_request rq = {0};
	struct http_response r = {0};
	char u[128];
	int rc = -1;

	rq.method = HTTP_POST;
	rq.url = url_of(u, sizeof(u), "/_script");
	rq.body = json;
	rq.body_len = strlen(json);
	rq.content_type = "application/json";
	rq.idempotent = 1;
	if (http_perform(ctl, &rq, &r, NULL, 0) == HTTP_OK && r.status == 200)
		rc = 0;
	http_response_free(&r);
	return rc;
}

/* The peer's log as text (one request a line), after fetch_log(). */
static char *logtxt;

static __attribute__((unused)) int fetch_log(void)
{
	struct http_request rq = {0};
	struct http_response r = {0};
	char u[128];

	free(logtxt);
	logtxt = NULL;
	rq.method = HTTP_GET;
	rq.url = url_of(u, sizeof(u), "/_log");
	if (http_perform(ctl, &rq, &r, NULL, 0) != HTTP_OK || r.status != 200) {
		http_response_free(&r);
		return -1;
	}
	logtxt = r.body;
	return 0;
}

/* The i-th request in logtxt (one a line), or NULL. Borrowed, and not
 * NUL-terminated at its end: use log_has(). */
static __attribute__((unused)) const char *log_line(int i, size_t *len)
{
	const char *p = logtxt, *e;

	while (p && (p = strchr(p, '\n')) != NULL) {
		p++;
		if (*p != '{')
			continue;
		if (i-- == 0) {
			e = strchr(p, '\n');
			*len = e ? (size_t)(e - p) : strlen(p);
			return p;
		}
	}
	return NULL;
}

static __attribute__((unused)) int log_count(void)
{
	size_t len;
	int n = 0;

	while (log_line(n, &len))
		n++;
	return n;
}

/* 1 if request i of the log contains needle. */
static __attribute__((unused)) int log_has(int i, const char *needle)
{
	size_t len, nl = strlen(needle);
	const char *p = log_line(i, &len), *q;

	if (p == NULL)
		return 0;
	for (q = p; q + nl <= p + len; q++)
		if (memcmp(q, needle, nl) == 0)
			return 1;
	return 0;
}

#endif
