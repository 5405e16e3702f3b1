/*
 * fixed_responder FILE - the baseline of `make bench`: the smallest libfcgi
 * responder, answering every request with the bytes of FILE as they are:
 * the CGI header lines (Status, Content-Type, ETag, Cache-Control,
 * Content-Length, as the real program sent them), a blank line, the body.
 * The bench writes FILE from a real reply, so behind the same nginx this
 * responder and the real program send the very same reply, and the ratio
 * of their request rates is what the real work costs.
 */
#include <stdio.h>
#include <stdlib.h>

#include <fcgiapp.h>

int main(int argc, char **argv)
{
	FILE *f;
	char *reply;
	long n;
	FCGX_Request r;

	if (argc != 2) {
		fprintf(stderr, "usage: fixed_responder FILE\n");
		return 2;
	}
	f = fopen(argv[1], "rb");
	if (f == NULL) {
		fprintf(stderr, "fixed_responder: cannot open %s\n", argv[1]);
		return 1;
	}
	reply = NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 1 || n > 1L << 24 ||
	    fseek(f, 0, SEEK_SET) != 0 || (reply = malloc((size_t)n)) == NULL ||
	    fread(reply, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "fixed_responder: cannot read %s\n", argv[1]);
		free(reply);
		fclose(f);
		return 1;
	}
	fclose(f);
	if (FCGX_Init() != 0 || FCGX_InitRequest(&r, 0, 0) != 0) {
		free(reply);
		return 1;
	}
	while (FCGX_Accept_r(&r) >= 0) {
		FCGX_PutStr(reply, (int)n, r.out);
		FCGX_Finish_r(&r);
	}
	free(reply);
	return 0;
}
