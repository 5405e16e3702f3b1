/*
 * fixed_responder - the baseline of `make bench`: the smallest libfcgi
 * responder, answering every request with a fixed JSON body of BODY_BYTES
 * bytes (default 64). Behind the same nginx as the real programs, the ratio
 * of their throughputs is what the real work costs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>

int main(void)
{
	const char *env = getenv("BODY_BYTES");
	long n = env ? strtol(env, NULL, 10) : 64;
	char head[256];
	char *body;
	FCGX_Request r;
	int hlen;

	if (n < 2 || n > 1 << 20)
		n = 64;
	body = malloc((size_t)n);
	if (body == NULL)
		return 1;
	memset(body, ' ', (size_t)n);
	body[0] = '{';
	body[n - 2] = '}';
	body[n - 1] = '\n';
	hlen = snprintf(head, sizeof(head),
	                "Status: 200 OK\r\nContent-Type: application/json; "
	                "charset=utf-8\r\nContent-Length: %ld\r\n\r\n",
	                n);
	if (FCGX_Init() != 0 || FCGX_InitRequest(&r, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&r) >= 0) {
		FCGX_PutStr(head, hlen, r.out);
		FCGX_PutStr(body, (int)n, r.out);
		FCGX_Finish_r(&r);
	}
	free(body);
	return 0;
}
