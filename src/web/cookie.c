#include "web/cookie.h"

#include <stdio.h>
#include <string.h>

int cookie_secure(const char *site_uri)
{
	static const char *const hosts[] = {"http://127.0.0.1",
	                                    "http://localhost", "http://[::1]"};
	size_t i, n;

	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		n = strlen(hosts[i]);
		/* The whole host: "localhost.example.com" is not local. */
		if (strncmp(site_uri, hosts[i], n) == 0 &&
		    (site_uri[n] == ':' || site_uri[n] == '/' ||
		     site_uri[n] == '\0'))
			return 0;
	}
	return 1;
}

int cookie_set(struct response *res, const char *site_uri, const char *name,
               const char *path, const char *value, long max_age)
{
	char line[256];

	if ((size_t)snprintf(line, sizeof(line),
	                     "%s=%s; Path=%s; Max-Age=%ld; HttpOnly; "
	                     "SameSite=Lax%s",
	                     name, value, path, max_age,
	                     cookie_secure(site_uri) ? "; Secure" : "") >=
	    sizeof(line))
		return -1;
	return response_header(res, "Set-Cookie", line);
}

void cookie_read_hex64(const struct request *req, const char *name,
                       char out[65])
{
	const char *h = request_header(req, "Cookie"), *p;
	size_t n = strlen(name), i;
	int found = 0;

	out[0] = '\0';
	for (p = h; p != NULL && *p; p++) {
		if (!((p == h || p[-1] == ' ' || p[-1] == ';') &&
		      strncmp(p, name, n) == 0 && p[n] == '='))
			continue;
		if (found++) {
			out[0] = '\0'; /* given twice: which one is ours? */
			return;
		}
		p += n + 1;
		for (i = 0; i < 64; i++)
			if (!((p[i] >= '0' && p[i] <= '9') ||
			      (p[i] >= 'a' && p[i] <= 'f')))
				break;
		if (i == 64 &&
		    (p[64] == '\0' || p[64] == ';' || p[64] == ' ')) {
			memcpy(out, p, 64);
			out[64] = '\0';
		}
	}
}
