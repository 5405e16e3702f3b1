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
	const char *h = request_header(req, "Cookie"), *p, *v;
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
		v = p + n + 1; /* the scan goes on from p, inside the string */
		for (i = 0; i < 64; i++)
			if (!((v[i] >= '0' && v[i] <= '9') ||
			      (v[i] >= 'a' && v[i] <= 'f')))
				break;
		if (i == 64 &&
		    (v[64] == '\0' || v[64] == ';' || v[64] == ' ')) {
			memcpy(out, v, 64);
			out[64] = '\0';
		}
	}
}
