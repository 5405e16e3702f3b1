/* Fuzz target: an ID token's claims (also at the edges of their times). */
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
	/* Accepted claims are terminated and their time in range; times near
	 * the ends of int64_t (corpus: exp_*, iat_*) must not overflow
	 * (UBSan stops the run if they do). */
	if (oidc_id_token_claims(s, "client", 1800000000, &c) == OIDC_OK &&
	    (c.sub[sizeof(c.sub) - 1] != '\0' ||
	     c.email[sizeof(c.email) - 1] != '\0' || c.exp < 0 ||
	     c.exp > OIDC_TIME_MAX))
		abort();
	free(s);
	return 0;
}
