/* ole2 - telling an OLE2 compound file and a password-protected OOXML package; see ole2.h. */
#include <string.h>

#include "ole2.h"

static const uint8_t ole2_magic[8] = {0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1};

int
ole2_is(const uint8_t *p, size_t len)
{
	return p != NULL && len >= sizeof(ole2_magic) && memcmp(p, ole2_magic, sizeof(ole2_magic)) == 0;
}

/* utf16_has - whether p holds s (ASCII, at most 32 bytes) in UTF-16LE. */
static int
utf16_has(const uint8_t *p, size_t len, const char *s)
{
	uint8_t w[64];
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++) {
		w[2 * i] = (uint8_t)s[i];
		w[2 * i + 1] = 0;
	}
	return memmem(p, len, w, 2 * n) != NULL;
}

int
ole2_encrypted_package(const uint8_t *p, size_t len)
{
	return utf16_has(p, len, "EncryptionInfo") && utf16_has(p, len, "EncryptedPackage");
}
