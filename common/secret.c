/* secret - generated bearer secrets: making them, hashing a presented one. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"

#define SECRET_B64_VARIANT sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define SECRET_B64_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

void
secret_generate(const char *prefix, char *text, uint8_t hash[SECRET_HASH_LEN])
{
	uint8_t rnd[SECRET_RANDOM_BYTES];
	size_t plen = strlen(prefix);

	if (plen > SECRET_PREFIX_MAX)
		abort(); /* a caller's constant: a bug, not input */
	randombytes_buf(rnd, sizeof(rnd));
	memcpy(text, prefix, plen);
	sodium_bin2base64(text + plen, SECRET_B64_LEN + 1, rnd, sizeof(rnd), SECRET_B64_VARIANT);
	sodium_memzero(rnd, sizeof(rnd));
	crypto_hash_sha256(hash, (const unsigned char *)text, strlen(text));
}

int
secret_hash(const char *prefix, const char *text, uint8_t hash[SECRET_HASH_LEN])
{
	size_t plen = strlen(prefix);
	size_t n = strnlen(text, SECRET_TEXT_MAX + 1);

	if (n != plen + SECRET_B64_LEN || strncmp(text, prefix, plen) != 0 ||
	    strspn(text + plen, SECRET_B64_CHARS) != SECRET_B64_LEN)
		return -1;
	crypto_hash_sha256(hash, (const unsigned char *)text, n);
	return 0;
}

int
secret_name_valid(const char *name)
{
	size_t n = strnlen(name, SECRET_NAME_MAX + 1);
	const char *ok = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";

	return n >= 1 && n <= SECRET_NAME_MAX && strspn(name, ok) == n;
}
