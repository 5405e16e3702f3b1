/* Fuzz target: an ID token's claims. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "upstream/oidc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct oidc_claims c;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (oidc_id_token_claims(s, "client", 1800000000, &c) == OIDC_OK &&
	    (c.sub[sizeof(c.sub) - 1] != '\0' ||
	     c.email[sizeof(c.email) - 1] != '\0'))
		abort();
	free(s);
	return 0;
}
