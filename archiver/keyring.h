/* keyring - the archive's keys: one file (DATA/keys/keyring, mode 0600) that, with the
 * segments, is enough to read back every message.
 * Owns: generating, loading, rotating and listing keys; deriving the sealing subkeys and the
 * content-address key. Not: using them (record, store). Key bytes live in sodium_malloc'd
 * memory, are wiped on free, and are never logged or printed. */
#ifndef VL_KEYRING_H
#define VL_KEYRING_H

#include <stddef.h>
#include <stdint.h>

#include "vl_err.h"

#define KEYRING_KEY_LEN 32
#define KEYRING_MAX_KEYS 1024
#define KEYRING_FILE_MAX (256 * 1024)
#define KEYRING_ID_MAX 0x7fffffffu /* ids stay positive in PostgreSQL integer columns */

struct keyring;

struct keyring_entry {
	uint32_t id;
	int64_t created;	/* unix seconds */
	char fingerprint[17];	/* first 8 bytes of BLAKE2b(key), hex: safe to print */
};

/* keyring_generate - create a new keyring file at path with an address key, a signing seed and
 * key 1. VL_ERR_EXISTS if path exists: a keyring is never overwritten. */
enum vl_err keyring_generate(const char *path, char *err) VL_MUST_CHECK;

/* keyring_load - read path; *out is owned by the caller (keyring_free). A missing file is
 * VL_ERR_NOKEY; a malformed one VL_ERR_CONFIG; a file readable by others is refused. */
enum vl_err keyring_load(struct keyring **out, const char *path, char *err) VL_MUST_CHECK;

/* keyring_rotate - add a key with the next id and make it current; writes path atomically. */
enum vl_err keyring_rotate(const char *path, uint32_t *new_id, char *err) VL_MUST_CHECK;

void keyring_free(struct keyring *kr);

/* keyring_current_id - the id new records are sealed under (the highest). */
uint32_t keyring_current_id(const struct keyring *kr);

/* keyring_seal_key - the 32-byte sealing subkey of key id (borrowed, valid until free), or
 * NULL when the keyring has no such key. */
const uint8_t *keyring_seal_key(const struct keyring *kr, uint32_t id);

/* keyring_address_key - the 32-byte key of the keyed BLAKE2b content address (borrowed). */
const uint8_t *keyring_address_key(const struct keyring *kr);

/* keyring_sign_seed - the 32-byte Ed25519 seed of the archive's signing key (borrowed). */
const uint8_t *keyring_sign_seed(const struct keyring *kr);

/* keyring_entries - the keys, oldest first (borrowed array of *n entries). */
const struct keyring_entry *keyring_entries(const struct keyring *kr, size_t *n);

#endif
