/* keyslot - per-record keys that disposal can destroy (crypto-shredding).
 * Owns: the key slot files (DATA/keys/slots/NNNNNNNNNN.vlk, one per segment), making a record's
 * key when it is sealed, finding it again when it is read, and destroying it when the record is
 * disposed. Not: sealing or reading records (record, vault), deciding what goes (dispose).
 *
 * Why: segments are write-once, so a disposed message cannot be cut out of one. Each MESSAGE and
 * RECEIPT record is instead sealed under its own key, derived from a keyring key and a random
 * 32-byte salt kept in the record's slot (FORMAT.md, "Key slots"). Overwriting the salt with
 * zeros destroys the key: the record's bytes stay in the segment but no key in the archive can
 * open them again, while the segment, its hash and its seal still verify.
 *
 * A slot file is the only mutable file of the store; it is 64-byte entries in record order:
 *   0  u64 LE  the record's offset in its segment
 *   8  u32 LE  state: 1 live, 2 destroyed
 *  12  u32 LE  the keyring key the record key derives from
 *  16  32      salt; once destroyed, the disposal mark instead: BLAKE2b-256 keyed with that
 *              keyring key over the location, so a key destroyed by disposal is told from one
 *              wiped by anyone without the keyring
 *  48  16      BLAKE2b-128 of bytes 0..47 (a torn or damaged entry is told from a real one)
 * after a 64-byte header ("VLKSLOT1", segment id). */
#ifndef VL_KEYSLOT_H
#define VL_KEYSLOT_H

#include <stdint.h>

#include "vl_err.h"

#define KEYSLOT_LEN 64
#define KEYSLOT_HEADER_LEN 64
#define KEYSLOT_MAGIC "VLKSLOT1"
/* In a record's key_id: the key is the record's own, derived from keyring key (id & ~flag).
 * Keyring ids stay below it (KEYRING_ID_MAX). */
#define KEYSLOT_ID_FLAG 0x80000000u
#define KEYSLOT_DIR "keys/slots"

enum keyslot_state {
	KEYSLOT_LIVE = 1,
	KEYSLOT_DESTROYED = 2,
	KEYSLOT_WIPED = 3, /* not on disk: destroyed, but without a valid disposal mark */
};

/* keyslot_master_fn - the keyring key of id (borrowed), or NULL when the keyring lacks it. */
typedef const uint8_t *(*keyslot_master_fn)(void *arg, uint32_t key_id);

struct keyslot_entry {
	uint64_t offset;
	enum keyslot_state state;
	uint32_t key_id;
	uint8_t salt[32];
};

/* ---- write side: the store's open segment ---- */

struct keyslot_file;

/* keyslot_open - open (create) the slot file of segment_id in dir for appending. Entries at or
 * past keep_below (a reopened segment's committed end: slots of records that never became
 * durable) are cut off; UINT64_MAX keeps everything. *out is the caller's (keyslot_close). */
enum vl_err keyslot_open(struct keyslot_file **out, const char *dir, uint64_t segment_id,
			 uint64_t keep_below, char *err) VL_MUST_CHECK;
/* keyslot_add - a new slot for the record about to be sealed at offset (offsets only grow):
 * its key is derived from master (keyring key key_id) into key[32]; the entry is buffered
 * until keyslot_sync. *record_key_id is what the record's header names. */
void keyslot_add(struct keyslot_file *f, const uint8_t master[32], uint32_t key_id,
		 uint64_t offset, uint8_t key[32], uint32_t *record_key_id);
/* keyslot_sync - write the buffered entries and fdatasync: every key of a durable record is
 * durable before the record is acknowledged. */
enum vl_err keyslot_sync(struct keyslot_file *f, char *err) VL_MUST_CHECK;
/* keyslot_pending - whether entries wait for keyslot_sync. */
int keyslot_pending(const struct keyslot_file *f);
/* keyslot_close - close without syncing; NULL is a no-op. */
void keyslot_close(struct keyslot_file *f);

/* ---- read side ---- */

/* keyslot_path - DIR/NNNNNNNNNN.vlk into out (size n). */
void keyslot_path(char *out, size_t n, const char *dir, uint64_t segment_id);
/* keyslot_find - the entry of the record at offset in the slot file open on fd (binary search).
 * VL_ERR_NOTFOUND when it has none; VL_ERR_CORRUPT for a damaged entry or header. */
enum vl_err keyslot_find(int fd, uint64_t segment_id, uint64_t offset, struct keyslot_entry *e,
			 char *err) VL_MUST_CHECK;
/* keyslot_derive - the record key of a live entry, from the keyring key it names. */
void keyslot_derive(const uint8_t master[32], uint64_t segment_id, const struct keyslot_entry *e,
		    uint8_t key[32]);
/* keyslot_mark_ok - whether a destroyed entry carries disposal's mark (master: its key). */
int keyslot_mark_ok(const uint8_t master[32], uint64_t segment_id, const struct keyslot_entry *e);

/* ---- destruction ---- */

/* keyslot_destroy - destroy the keys of the records at offs[0..n) of segment_id and fdatasync.
 * *destroyed counts entries that were live; a record without an entry (sealed under a keyring
 * key before key slots existed) adds to *unkeyed and is left as it is. Idempotent. */
enum vl_err keyslot_destroy(const char *dir, uint64_t segment_id, const uint64_t *offs, size_t n,
			    keyslot_master_fn master, void *arg, uint64_t *destroyed,
			    uint64_t *unkeyed, char *err) VL_MUST_CHECK;

#endif
