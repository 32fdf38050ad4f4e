/* record - the self-delimiting, checksummed, sealed record that store segments are made of.
 * Owns: the byte layout (archiver/FORMAT.md, "Record"), streaming it out (sealer) and back in
 * (reader) in bounded memory, and the checks that tell a whole record from a torn or forged one.
 * Not: where records live (segment), what a kind's payload means (store), keys (keyring). */
#ifndef VL_RECORD_H
#define VL_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <zstd.h>

#include "buf.h"
#include "vl_err.h"

/* Layout constants: part of the on-disk format, so they are numbers here and record.c checks
 * the libsodium ones with static_assert. A different layout needs a new magic. */
#define RECORD_MAGIC "VLR1"
#define RECORD_HEADER_LEN 48
#define RECORD_TRAILER_LEN 56 /* raw_len u64 | subject 32 | checksum 16 */
#define RECORD_SUBJECT_LEN 32
#define RECORD_CHECKSUM_LEN 16	/* unkeyed BLAKE2b-128 of every byte before it */
#define RECORD_SS_HEADER_LEN 24 /* crypto_secretstream_xchacha20poly1305_HEADERBYTES */
#define RECORD_ABYTES 17	/* crypto_secretstream_xchacha20poly1305_ABYTES */
#define RECORD_CHUNK 65536
#define RECORD_FRAME_MAX (RECORD_CHUNK + RECORD_ABYTES)
/* Bytes every record has besides its frames: header, the u32 0 terminator and the trailer. */
#define RECORD_FIXED_OVERHEAD (RECORD_HEADER_LEN + 4 + RECORD_TRAILER_LEN)

#define RECORD_F_ENCRYPTED 0x01
#define RECORD_F_ZSTD 0x02

/* The compression levels a sealer accepts (the configuration allows 1..19). */
#define RECORD_ZLEVEL_MAX 19
/* zstd limits applied when a level's own default is larger. The window bounds what a reader
 * must hold (4 MiB); hash and chain bound the compressor's tables whatever the level, so one
 * memory figure holds for every level. For messages up to 64 KiB none of them binds: the sealer
 * tells zstd the exact size and zstd sizes everything to the message. */
#define RECORD_ZSTD_WINDOWLOG_MAX 22
#define RECORD_ZSTD_HASHLOG_MAX 20
#define RECORD_ZSTD_CHAINLOG_MAX 21
/* Reads from the file go through a buffer of this size: a scan walking a segment issues one
 * pread per RECORD_READ_BUF bytes, not one per frame. */
#define RECORD_READ_BUF (256 * 1024)
/* The first read of a record is this size (or the bytes its first step needs, if more): most
 * records are a few KB, and each record is read afresh (the indexer and search snippets read
 * one record at a time), so a full RECORD_READ_BUF would copy ~100 times the record. */
#define RECORD_FIRST_READ (16 * 1024)

/* Memory bounds in bytes, whatever the message size, the level (1..RECORD_ZLEVEL_MAX) or the
 * number of records, as record_sealer_sizeof / record_reader_sizeof report them. Not counted:
 * dictionaries (the caller's, shared), OpenSSL's SHA-256 context (under 1 KiB), the caller's
 * buffers. Measured with zstd 1.5.4; each bound leaves about 10% for other zstd builds.
 *   sealer: 262,169 B of buffers (in, zout, chunk, frame) + the ZSTD_CCtx workspace, which the
 *           caps above hold to 18,613,432 B in all at levels 18-19 (9,431,162 B at level 7,
 *           the configured default; 3,926,138 B at level 3).
 *   reader: 458,833 B of buffers (RECORD_READ_BUF plus one frame, a chunk, zstd output) + a
 *           ZSTD_DCtx for a 4 MiB window (ZSTD_estimateDStreamSize(1 << 22) = 4,683,840 B):
 *           5,142,529 B in all.
 * The unit test "memory bound at every level" checks both at every level. */
#define RECORD_SEALER_MEM ((size_t)20 * 1024 * 1024)
#define RECORD_READER_MEM ((size_t)5632 * 1024)
#define RECORD_MEM_BOUND (RECORD_SEALER_MEM + RECORD_READER_MEM)

/* Kinds named here; 0 is never valid. Other modules may define more (1..255): the record layer
 * carries the kind byte and does not interpret it. */
enum record_kind {
	RECORD_MESSAGE = 1,
	RECORD_RECEIPT = 2,
	RECORD_CHECKPOINT = 3,
	RECORD_SEAL = 4,
	RECORD_DICT = 5,
};

/* record_write_fn - a sink for record bytes (sealer) or plaintext (reader). Anything but VL_OK
 * stops the record, and that value is returned by the call that was writing. */
typedef enum vl_err (*record_write_fn)(void *arg, const uint8_t *p, size_t n);

struct record_params {
	enum record_kind kind;
	uint32_t key_id;	 /* must be non-zero with key, zero without */
	const uint8_t *key;	 /* 32-byte secretstream key; NULL: plaintext record */
	int zlevel;		 /* 0: no compression; 1..RECORD_ZLEVEL_MAX */
	uint32_t dict_id;	 /* 0: no dictionary; non-zero exactly when cdict is set */
	const ZSTD_CDict *cdict; /* built by the caller with ZSTD_createCDict(.., zlevel) */
	int64_t stored_at_us;	 /* unix microseconds */
};

struct record_info {
	enum record_kind kind;
	uint8_t flags;
	uint32_t key_id, dict_id;
	int64_t stored_at_us;
	uint64_t raw_len;		     /* length of the original plaintext */
	uint8_t subject[RECORD_SUBJECT_LEN]; /* from the trailer */
	uint64_t record_len;		     /* every byte of the record, header to checksum */
	uint8_t sha256[32]; /* SHA-256 of the plaintext: set by record_finish and record_open */
};

/* ---- write side ---- */

/* A reusable sealer: it owns its zstd context and buffers, so sealing many messages allocates
 * nothing here after record_sealer_new. (Inside the libraries, OpenSSL 3.0 re-creates its
 * SHA-256 context at each record, and zstd may resize its workspace within the bound.) One
 * thread at a time. */
struct record_sealer;

/* record_sealer_new - a sealer the caller frees with record_sealer_free. Never NULL. */
struct record_sealer *record_sealer_new(void);
/* record_sealer_free - release s and wipe its key material and plaintext; NULL is a no-op. */
void record_sealer_free(struct record_sealer *s);
/* record_sealer_sizeof - bytes s holds now (buffers + zstd workspace), for memory checks. */
size_t record_sealer_sizeof(const struct record_sealer *s);

/* record_begin - start a record with p, abandoning any unfinished one, and write its header to
 * fn. p and p->key are not used after the call returns; p->cdict must live until
 * record_finish. VL_ERR_CONFIG for bad parameters (see struct record_params), or fn's error. */
enum vl_err record_begin(struct record_sealer *s, const struct record_params *p, record_write_fn fn,
			 void *arg) VL_MUST_CHECK;
/* record_update - add n plaintext bytes. Whole frames reach fn as they fill. After any error the
 * record is dead (further calls return VL_ERR_INTERNAL) and the bytes fn took are a torn
 * record the caller must discard. */
enum vl_err record_update(struct record_sealer *s, const void *p, size_t n) VL_MUST_CHECK;
/* record_finish - write the last frame and the trailer with subject (NULL: 32 zero bytes) and
 * fill info (may be NULL): every field, record_len and the plaintext's SHA-256. */
enum vl_err record_finish(struct record_sealer *s, const uint8_t subject[32],
			  struct record_info *info) VL_MUST_CHECK;
/* record_seal_buf - begin, update and finish on data, appending the record to out. On failure
 * out is left as it was. */
enum vl_err record_seal_buf(struct record_sealer *s, const struct record_params *p,
			    const void *data, size_t len, const uint8_t subject[32],
			    struct buf *out, struct record_info *info) VL_MUST_CHECK;

/* ---- read side ---- */

struct record_keys {
	const uint8_t *(*key)(void *arg, uint32_t key_id);	/* NULL when missing */
	const ZSTD_DDict *(*dict)(void *arg, uint32_t dict_id); /* NULL when missing */
	void *arg;
};

/* A reusable reader: it owns a ZSTD_DCtx (window at most 4 MiB), a read buffer (RECORD_READ_BUF
 * plus room for one frame) and two chunk buffers. One thread at a time. Each call reads the file
 * afresh: nothing read by one call is trusted by the next. */
struct record_reader;

/* record_reader_new - a reader the caller frees with record_reader_free. Never NULL. */
struct record_reader *record_reader_new(void);
/* record_reader_free - release r and wipe its plaintext buffers; NULL is a no-op. */
void record_reader_free(struct record_reader *r);
/* record_reader_sizeof - bytes r holds now (buffers + zstd workspace), for memory checks. */
size_t record_reader_sizeof(const struct record_reader *r);

/* record_scan - check the framing and checksum of the record at off in fd (whose size the
 * caller takes to be fsize) without keys. VL_OK with info filled (sha256 zeroed), or
 * VL_ERR_CORRUPT with the detail in err (torn: runs past the end of the file; bad magic,
 * flags or header field; bad frame length; checksum mismatch), VL_ERR_IO, or VL_ERR_CONFIG
 * when off is outside 0..fsize (also for record_open). */
enum vl_err record_scan(struct record_reader *r, int fd, off_t off, off_t fsize,
			struct record_info *info, char *err) VL_MUST_CHECK;
/* record_open - verify and decode the record at off: framing, checksum, every AEAD tag with its
 * associated data, exactly one FINAL chunk and last, one complete zstd frame and plaintext
 * length == raw_len. Streams the plaintext to fn (NULL: verify only) and fills info (may be
 * NULL) including sha256.
 * Errors: VL_ERR_CORRUPT (damaged: as record_scan, or bad zstd data or length);
 * VL_ERR_NOKEY (the key or dictionary the record names is missing; err names its id);
 * VL_ERR_CRYPTO (the bytes are intact but do not authenticate: wrong key or altered with the
 * checksum recomputed); VL_ERR_IO; or fn's error. A damaged record is CORRUPT even when a key is
 * also missing or a tag also fails. Output handed to fn before a failure may be partial:
 * callers that must not emit partial output call once with fn NULL first. */
enum vl_err record_open(struct record_reader *r, int fd, off_t off, off_t fsize,
			const struct record_keys *keys, record_write_fn fn, void *arg,
			struct record_info *info, char *err) VL_MUST_CHECK;

#endif
