/* segment - append-only segment files of the sealed store (DATA/store/segments/NNNNNNNNNN.vls).
 * Owns: the segment header, buffered appends with a running SHA-256, group-commit syncs, and
 * sealing (the SEAL record, read-only mode, FS_IMMUTABLE_FL where the process may set it).
 * Not: what records mean (record, store). Never writes below a segment's end. */
#ifndef VL_SEGMENT_H
#define VL_SEGMENT_H

#include <stdint.h>
#include <sys/types.h>

#include "vl_err.h"

#define SEGMENT_HEADER_LEN 64
#define SEGMENT_MAGIC "VLSEG1\n"
#define SEGMENT_WBUF (1 << 20) /* appends are gathered into 1 MiB writes */

struct segment_header {
	uint32_t version;
	uint32_t bucket;
	uint64_t id;
	int64_t created_us;
};

struct segment;

/* segment_file_name - "NNNNNNNNNN.vls" for id into out (32 bytes). */
void segment_file_name(char out[32], uint64_t id);

/* segment_create - create segment id in dir (O_EXCL), write and sync its header, fsync dir,
 * and set the append-only flag where allowed. *out is owned by the caller (segment_close). */
enum vl_err segment_create(struct segment **out, const char *dir, uint64_t id, uint32_t bucket,
			   int64_t created_us, char *err) VL_MUST_CHECK;

/* segment_reopen - continue appending to an unsealed segment whose durable end is `end`
 * (the file must be exactly that long); the running hash is recomputed from the file. */
enum vl_err segment_reopen(struct segment **out, const char *dir, uint64_t id, uint64_t end,
			   char *err) VL_MUST_CHECK;

/* segment_append - buffer n bytes at the end; written by the next flush or sync. */
enum vl_err segment_append(struct segment *s, const void *p, size_t n) VL_MUST_CHECK;

/* segment_append_fn - segment_append with the record_write_fn signature (arg = segment). */
enum vl_err segment_append_fn(void *arg, const uint8_t *p, size_t n);

/* segment_end - the offset the next appended byte will have. */
uint64_t segment_end(const struct segment *s);
uint64_t segment_id(const struct segment *s);
/* segment_hash_now - SHA-256 of every byte appended so far (the running hash; not reset). */
void segment_hash_now(const struct segment *s, uint8_t out[32]);

/* segment_sync - write the buffer and fdatasync: after it returns VL_OK every appended byte is
 * durable. The one fsync a group-commit batch pays. */
enum vl_err segment_sync(struct segment *s, char *err) VL_MUST_CHECK;

/* segment_make_immutable - after the SEAL record is durable: mode 0440, clear append-only,
 * set FS_IMMUTABLE_FL where allowed. Returns whether the immutable flag could be set. */
int segment_make_immutable(struct segment *s);

/* segment_discard - close and remove a segment that was just created and that nothing refers
 * to (no index row, no acknowledged record): a failed creation or registration. NULL is a
 * no-op. Never for a segment with committed records. */
void segment_discard(struct segment *s);

/* segment_close - close (without syncing: call segment_sync first); NULL is a no-op. */
void segment_close(struct segment *s);

/* segment_read_header - open path read-only, parse and check its header; the fd is returned
 * in *fd_out (caller closes) and the file size in *size. VL_ERR_CORRUPT on a bad header. */
enum vl_err segment_read_header(const char *path, struct segment_header *h, int *fd_out,
				off_t *size, char *err) VL_MUST_CHECK;

#endif
