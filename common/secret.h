/* secret - generated bearer secrets: a fixed prefix and 32 random bytes in base64url, of
 * which only a SHA-256 is ever stored. The API's tokens and the SMTP AUTH users are such.
 * Owns: the text format, generating one, hashing a presented one, and the naming rule of
 * their holders. Not: where the hashes are kept, or what a secret grants.
 * With 256 random bits a secret cannot be guessed, so one SHA-256 is as strong a stored form
 * as a slow password hash, and checking it costs microseconds: a slow hash would block an
 * event loop or a worker for tens of milliseconds a try, a gift to whoever floods it. */
#ifndef VL_SECRET_H
#define VL_SECRET_H

#include <stddef.h>
#include <stdint.h>

#define SECRET_RANDOM_BYTES 32
#define SECRET_B64_LEN 43 /* base64url of 32 bytes, no padding */
#define SECRET_PREFIX_MAX 8
#define SECRET_TEXT_MAX (SECRET_PREFIX_MAX + SECRET_B64_LEN)
#define SECRET_HASH_LEN 32
#define SECRET_NAME_MAX 64

/* secret_generate - a new secret: prefix + SECRET_B64_LEN characters, NUL-terminated, in
 * text (room for strlen(prefix) + SECRET_B64_LEN + 1), and its hash. prefix is at most
 * SECRET_PREFIX_MAX bytes. */
void secret_generate(const char *prefix, char *text, uint8_t hash[SECRET_HASH_LEN]);
/* secret_hash - the hash of a presented secret; -1 when text is not prefix followed by
 * exactly SECRET_B64_LEN base64url characters. */
int secret_hash(const char *prefix, const char *text, uint8_t hash[SECRET_HASH_LEN]);
/* secret_name_valid - 1 for 1..SECRET_NAME_MAX characters of [A-Za-z0-9._-], else 0. */
int secret_name_valid(const char *name);

#endif
