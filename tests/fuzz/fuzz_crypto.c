/* Fuzz target: base64, base64url, hex decoding and opening sealed boxes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char key[CRYPTO_KEY_LEN] = {1, 2, 3};
	unsigned char *out = NULL, hex[64];
	size_t outlen;

	if (crypto_base64_decode((const char *)data, size, &out, &outlen) == 0)
		free(out);
	if (crypto_base64url_decode((const char *)data, size, &out, &outlen) ==
	    0)
		free(out);
	(void)crypto_hex_decode((const char *)data, size, hex, sizeof(hex),
	                        &outlen);
	if (crypto_open(key, data, size, "aad", 3, &out, &outlen) == 0)
		crypto_free_secret(out, outlen);
	return 0;
}
