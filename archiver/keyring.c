/* keyring - the archive's keys, in one text file.
 *
 * Format (one item per line, # comments):
 *	vellum-keyring 1
 *	address <64 hex>		content-address key (never rotates: addresses stay stable)
 *	signing <64 hex>		Ed25519 seed for signed reports and manifests
 *	key <id> <created> <64 hex>	master keys; the highest id is current
 * Sealing subkeys are derived per master key with crypto_kdf (context "vlseal01"), so the
 * master key itself never touches a record. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "buf.h"
#include "fsutil.h"
#include "keyring.h"

#define KDF_SEAL_CONTEXT "vlseal01"

struct keyring {
	uint8_t *secret; /* sodium_malloc: address, signing, then nkeys * (master, seal) */
	struct keyring_entry entries[KEYRING_MAX_KEYS];
	size_t nkeys;
};

static uint8_t *
kr_address(const struct keyring *kr)
{
	return kr->secret;
}

static uint8_t *
kr_signing(const struct keyring *kr)
{
	return kr->secret + KEYRING_KEY_LEN;
}

static uint8_t *
kr_master(const struct keyring *kr, size_t i)
{
	return kr->secret + (2 + 2 * i) * KEYRING_KEY_LEN;
}

static uint8_t *
kr_seal(const struct keyring *kr, size_t i)
{
	return kr->secret + (3 + 2 * i) * KEYRING_KEY_LEN;
}

static struct keyring *
keyring_new(void)
{
	struct keyring *kr = xcalloc(1, sizeof(*kr));

	kr->secret = sodium_malloc((2 + 2 * KEYRING_MAX_KEYS) * KEYRING_KEY_LEN);
	if (kr->secret == NULL)
		abort();
	return kr;
}

void
keyring_free(struct keyring *kr)
{
	if (kr == NULL)
		return;
	sodium_free(kr->secret); /* wipes before freeing */
	free(kr);
}

static void
keyring_fill_entry(struct keyring *kr, size_t i, uint32_t id, int64_t created)
{
	uint8_t fp[16];

	kr->entries[i].id = id;
	kr->entries[i].created = created;
	crypto_generichash(fp, sizeof(fp), kr_master(kr, i), KEYRING_KEY_LEN, NULL, 0);
	hex_encode(kr->entries[i].fingerprint, fp, 8);
	crypto_kdf_derive_from_key(kr_seal(kr, i), KEYRING_KEY_LEN, 1, KDF_SEAL_CONTEXT,
				   kr_master(kr, i));
}

/* keyring_serialize - the file text; held in a sodium buffer because it is all secret. */
static enum vl_err
keyring_save(const struct keyring *kr, const char *path, int create, char *err)
{
	size_t cap = 256 + kr->nkeys * 128;
	char *text = sodium_malloc(cap);
	char hex[2 * KEYRING_KEY_LEN + 1];
	size_t len = 0;
	enum vl_err rc;

	if (text == NULL)
		return vl_err_set(err, VL_ERR_NOMEM, "keyring buffer");
	len += (size_t)snprintf(text + len, cap - len,
				"# Vellum keyring. Whoever holds this file can read the archive:\n"
				"# keep it 0600 and keep a copy offline, apart from the store.\n"
				"vellum-keyring 1\n");
	hex_encode(hex, kr_address(kr), KEYRING_KEY_LEN);
	len += (size_t)snprintf(text + len, cap - len, "address %s\n", hex);
	hex_encode(hex, kr_signing(kr), KEYRING_KEY_LEN);
	len += (size_t)snprintf(text + len, cap - len, "signing %s\n", hex);
	for (size_t i = 0; i < kr->nkeys; i++) {
		hex_encode(hex, kr_master(kr, i), KEYRING_KEY_LEN);
		len += (size_t)snprintf(text + len, cap - len, "key %u %lld %s\n",
					kr->entries[i].id, (long long)kr->entries[i].created, hex);
	}
	sodium_memzero(hex, sizeof(hex));
	/* A new keyring never replaces one that appeared meanwhile (two `vellum init`s). */
	rc = fs_write_atomic(path, text, len, 0600 | (create ? FS_NOREPLACE : 0), err);
	sodium_free(text);
	return rc;
}

enum vl_err
keyring_generate(const char *path, char *err)
{
	struct keyring *kr;
	struct stat st;
	enum vl_err rc;

	if (stat(path, &st) == 0)
		return vl_err_set(err, VL_ERR_EXISTS, "%s exists: a keyring is never overwritten",
				  path);
	kr = keyring_new();
	randombytes_buf(kr_address(kr), KEYRING_KEY_LEN);
	randombytes_buf(kr_signing(kr), KEYRING_KEY_LEN);
	crypto_kdf_keygen(kr_master(kr, 0));
	kr->nkeys = 1;
	keyring_fill_entry(kr, 0, 1, (int64_t)time(NULL));
	rc = keyring_save(kr, path, 1, err);
	keyring_free(kr);
	return rc;
}

#define SEEN_MAGIC 1
#define SEEN_ADDRESS 2
#define SEEN_SIGNING 4

static enum vl_err
keyring_parse_line(struct keyring *kr, char *line, int *seen_magic, char *err)
{
	char word[16], hex[80];
	unsigned id;
	long long created;

	if (*line == '#' || *line == 0)
		return VL_OK;
	if (strcmp(line, "vellum-keyring 1") == 0) {
		*seen_magic |= SEEN_MAGIC;
		return VL_OK;
	}
	if (sscanf(line, "%15s", word) != 1)
		return vl_err_set(err, VL_ERR_CONFIG, "keyring: malformed line");
	if (strcmp(word, "address") == 0 || strcmp(word, "signing") == 0) {
		uint8_t *dst = word[0] == 'a' ? kr_address(kr) : kr_signing(kr);

		if (sscanf(line, "%*s %79s", hex) != 1 || hex_decode(dst, KEYRING_KEY_LEN, hex) != 0)
			return vl_err_set(err, VL_ERR_CONFIG, "keyring: malformed %s line", word);
		*seen_magic |= word[0] == 'a' ? SEEN_ADDRESS : SEEN_SIGNING;
	} else if (strcmp(word, "key") == 0) {
		if (kr->nkeys == KEYRING_MAX_KEYS)
			return vl_err_set(err, VL_ERR_LIMIT, "keyring: more than %d keys",
					  KEYRING_MAX_KEYS);
		if (sscanf(line, "key %u %lld %79s", &id, &created, hex) != 3 || id == 0 ||
		    id > KEYRING_ID_MAX || line[4] == '-' ||
		    hex_decode(kr_master(kr, kr->nkeys), KEYRING_KEY_LEN, hex) != 0)
			return vl_err_set(err, VL_ERR_CONFIG, "keyring: malformed key line");
		if (kr->nkeys > 0 && id <= kr->entries[kr->nkeys - 1].id)
			return vl_err_set(err, VL_ERR_CONFIG, "keyring: key ids must increase");
		keyring_fill_entry(kr, kr->nkeys, id, created);
		kr->nkeys++;
	} else {
		return vl_err_set(err, VL_ERR_CONFIG, "keyring: unknown item '%s'", word);
	}
	sodium_memzero(hex, sizeof(hex));
	return VL_OK;
}

enum vl_err
keyring_load(struct keyring **out, const char *path, char *err)
{
	struct buf text = {0};
	struct keyring *kr;
	struct stat st;
	int seen_magic = 0;
	enum vl_err rc;

	*out = NULL;
	if (stat(path, &st) != 0)
		return vl_err_set(err, VL_ERR_NOKEY, "no keyring at %s (%s): run `vellum init`, or "
				  "restore the key file", path, strerror(errno));
	if (st.st_mode & 077)
		return vl_err_set(err, VL_ERR_CONFIG, "%s: mode %o lets others read the keys; "
				  "chmod 600 it", path, (unsigned)(st.st_mode & 0777));
	if ((rc = fs_read_all(&text, path, KEYRING_FILE_MAX, err)) != VL_OK)
		return rc;
	kr = keyring_new();
	for (char *line = (char *)text.data, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		if ((rc = keyring_parse_line(kr, line, &seen_magic, err)) != VL_OK)
			goto out;
	}
	if (seen_magic != (SEEN_MAGIC | SEEN_ADDRESS | SEEN_SIGNING) || kr->nkeys == 0)
		rc = vl_err_set(err, VL_ERR_CONFIG, "%s: not a complete Vellum keyring (magic, "
				"address, signing and at least one key)", path);
out:
	sodium_memzero(text.data, text.len);
	buf_free(&text);
	if (rc != VL_OK) {
		keyring_free(kr);
		return rc;
	}
	*out = kr;
	return VL_OK;
}

enum vl_err
keyring_rotate(const char *path, uint32_t *new_id, char *err)
{
	struct keyring *kr;
	enum vl_err rc;

	if ((rc = keyring_load(&kr, path, err)) != VL_OK)
		return rc;
	if (kr->nkeys == KEYRING_MAX_KEYS || kr->entries[kr->nkeys - 1].id >= KEYRING_ID_MAX) {
		keyring_free(kr);
		return vl_err_set(err, VL_ERR_LIMIT, "keyring holds %d keys already", KEYRING_MAX_KEYS);
	}
	crypto_kdf_keygen(kr_master(kr, kr->nkeys));
	*new_id = kr->entries[kr->nkeys - 1].id + 1;
	keyring_fill_entry(kr, kr->nkeys, *new_id, (int64_t)time(NULL));
	kr->nkeys++;
	rc = keyring_save(kr, path, 0, err);
	keyring_free(kr);
	return rc;
}

uint32_t
keyring_current_id(const struct keyring *kr)
{
	return kr->entries[kr->nkeys - 1].id;
}

const uint8_t *
keyring_seal_key(const struct keyring *kr, uint32_t id)
{
	for (size_t i = 0; i < kr->nkeys; i++)
		if (kr->entries[i].id == id)
			return kr_seal(kr, i);
	return NULL;
}

const uint8_t *
keyring_address_key(const struct keyring *kr)
{
	return kr_address(kr);
}

const uint8_t *
keyring_sign_seed(const struct keyring *kr)
{
	return kr_signing(kr);
}

const struct keyring_entry *
keyring_entries(const struct keyring *kr, size_t *n)
{
	*n = kr->nkeys;
	return kr->entries;
}
