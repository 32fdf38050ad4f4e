/* spool - an append-only byte store that stays in memory up to a bound, then spills to disk.
 * Owns: the in-memory copy and, past mem_max bytes, an unlinked scratch file (O_TMPFILE, or
 * mkstemp + unlink where the file system lacks it) that disappears with its fd.
 * Not: what the bytes mean, or durability: the file is scratch space and is never fsync'd. */
#ifndef VL_SPOOL_H
#define VL_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "vl_err.h"

/* The scratch file is created in this directory when the caller names none. */
#define SPOOL_DIR_DEFAULT "/tmp"

struct spool;

/* spool_new - an empty spool that keeps up to mem_max bytes in memory (0: every byte goes to
 * the file) and spills into dir (NULL: SPOOL_DIR_DEFAULT). dir is copied. Never fails: the file
 * is only created on the first spill, and a failure there is reported by spool_append. The
 * caller owns the result and releases it with spool_free. */
struct spool *spool_new(const char *dir, size_t mem_max);

/* spool_free - close the file (which deletes it) and release the memory. NULL is a no-op. */
void spool_free(struct spool *s);

/* spool_append - add n bytes at the end. When the total would pass mem_max, everything held so
 * far moves into the scratch file and this and later appends are written there. Returns
 * VL_ERR_NOSPACE when the disk or quota is full, VL_ERR_IO when the file cannot be created or
 * written; after a failure the spool's content is unspecified until spool_reset. */
enum vl_err spool_append(struct spool *s, const void *p, size_t n) VL_MUST_CHECK;

/* spool_len - the number of bytes appended since the last reset. */
uint64_t spool_len(const struct spool *s);

/* spool_mem - the bytes (borrowed, valid until the next append or reset) while they are all in
 * memory; NULL once they are in the file. Never NULL for an empty in-memory spool. */
const uint8_t *spool_mem(const struct spool *s);

/* spool_fd - the scratch file (borrowed: do not close it; read it with pread from offset 0,
 * spool_len bytes), or -1 while the bytes are in memory. */
int spool_fd(const struct spool *s);

/* spool_source - where the bytes are, in the shape the archiver's store_source wants: *mem set
 * and *fd = -1 while in memory, *mem = NULL and *fd set once spilled. All borrowed. */
void spool_source(const struct spool *s, const uint8_t **mem, int *fd, uint64_t *len);

/* spool_reset - forget every byte: the file (if any) is closed and deleted, and the spool
 * starts over in memory. The memory buffer is kept for reuse. */
void spool_reset(struct spool *s);

#endif
