/* vault - the read side of the sealed store: keys, dictionaries, and whole-record reads.
 * Owns: the loaded keyring, the zstd dictionaries (read from their sealed records), open-fd
 * caches of segments and key slot files, the record keys found through them (keyslot.h), and
 * reading a record with no partial output on failure.
 * Not: writing (store), deciding what to read (cat, verify, rebuild). */
#ifndef VL_VAULT_H
#define VL_VAULT_H

#include <libpq-fe.h>
#include <stdint.h>
#include <zstd.h>

#include "config.h"
#include "keyring.h"
#include "record.h"
#include "vl_err.h"

#define VAULT_MAX_DICTS 256
/* Records up to this size are decoded once into memory and then emitted; larger ones are
 * decoded twice (verify pass, then output pass) so memory stays bounded. */
#define VAULT_MEM_READ_MAX (16u << 20)

struct vault;

/* vault_open - load the keyring (VL_ERR_NOKEY when missing) and, when conn is not NULL, every
 * dictionary listed in the database. *out is owned by the caller (vault_free). */
enum vl_err vault_open(struct vault **out, const struct vl_config *cfg, PGconn *conn, char *err)
	VL_MUST_CHECK;
void vault_free(struct vault *v);

const struct keyring *vault_keyring(const struct vault *v);
/* vault_keys - the record_keys adapter (borrowed). */
const struct record_keys *vault_keys(const struct vault *v);
/* vault_segment_path - DATA/store/segments/NNNNNNNNNN.vls into out (CONFIG_PATH_MAX). */
void vault_segment_path(const struct vault *v, char *out, uint64_t segment_id);
const char *vault_segment_dir(const struct vault *v);

/* vault_add_dict - make dictionary id usable for reading (and, with level > 0, for writing). */
enum vl_err vault_add_dict(struct vault *v, uint32_t id, const void *dict, size_t len, int level,
			   char *err) VL_MUST_CHECK;
/* vault_cdict - the compression dictionary of id at the level it was added with, or NULL. */
const ZSTD_CDict *vault_cdict(const struct vault *v, uint32_t id);
/* vault_newest_dict - the highest dictionary id, 0 when none. */
uint32_t vault_newest_dict(const struct vault *v);

/* vault_read - verify and decode the record at (segment, offset). Nothing reaches fn unless
 * the whole record decrypted, authenticated, matched its length and, when want_sha256 is not
 * NULL, hashed to it (else VL_ERR_CORRUPT); info is filled. VL_ERR_BUSY when its segment or
 * key slot file could not be opened for want of descriptors or memory (EMFILE, ENFILE,
 * ENOMEM): no verdict on the record, try again later; VL_ERR_NOTFOUND when the segment is
 * gone. */
enum vl_err vault_read(struct vault *v, uint64_t segment_id, uint64_t offset,
		       const uint8_t *want_sha256, record_write_fn fn, void *arg,
		       struct record_info *info, char *err) VL_MUST_CHECK;

/* vault_slot_state - the state of the key slot of the record at (segment, offset):
 * KEYSLOT_LIVE, KEYSLOT_DESTROYED (by disposal: its mark checks), KEYSLOT_WIPED (destroyed
 * without a valid mark), or 0 when it has none (sealed under a keyring key). */
enum vl_err vault_slot_state(struct vault *v, uint64_t segment_id, uint64_t offset, int *state,
			     char *err) VL_MUST_CHECK;

/* vault_read_buf - the same into out (appended); for records known to be small. */
enum vl_err vault_read_buf(struct vault *v, uint64_t segment_id, uint64_t offset, struct buf *out,
			   struct record_info *info, char *err) VL_MUST_CHECK;

#endif
