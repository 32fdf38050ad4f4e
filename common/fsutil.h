/* fsutil - file-system helpers with the durability order written down once.
 * Owns: mkdir -p, atomic durable file replacement, full reads/writes that retry on EINTR and
 * short counts, directory fsync, exclusive file locks, and the ext4 append-only/immutable flags. */
#ifndef VL_FSUTIL_H
#define VL_FSUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "vl_err.h"

/* fs_mkdir_p - create path and its parents with mode; existing directories are fine. */
enum vl_err fs_mkdir_p(const char *path, mode_t mode, char *err) VL_MUST_CHECK;

/* FS_NOREPLACE - or'ed into fs_write_atomic's mode: fail with VL_ERR_EXISTS rather than
 * replace an existing path (renameat2 RENAME_NOREPLACE). */
#define FS_NOREPLACE 0100000

/* fs_write_atomic - durably replace path with data: write tmp (O_EXCL, mode) -> fsync ->
 * close (checked) -> rename -> fsync(dir). On failure the tmp file is unlinked. */
enum vl_err fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
			    char *err) VL_MUST_CHECK;

/* fs_read_all - read a whole file (at most max bytes) into out (appended). */
enum vl_err fs_read_all(struct buf *out, const char *path, size_t max, char *err) VL_MUST_CHECK;

/* fs_write_full / fs_pread_full - loop until every byte moved; ENOSPC maps to VL_ERR_NOSPACE;
 * a short pread (end of file) is VL_ERR_CORRUPT. */
enum vl_err fs_write_full(int fd, const void *p, size_t n) VL_MUST_CHECK;
enum vl_err fs_pread_full(int fd, void *p, size_t n, off_t off) VL_MUST_CHECK;

/* fs_fsync_dir - fsync the directory that holds path (or path itself if a directory). */
enum vl_err fs_fsync_dir(const char *dir) VL_MUST_CHECK;

/* fs_lock_open - open (create) path and take an exclusive flock; blocking when wait is set.
 * Returns the fd (caller closes it to unlock) or -1 with errno (EWOULDBLOCK when held). */
int fs_lock_open(const char *path, int wait);

/* fs_set_append_only / fs_set_immutable - set FS_APPEND_FL / FS_IMMUTABLE_FL on fd (or clear
 * the append flag). Returns 0, or -1 when the file system or our privileges do not allow it
 * (CAP_LINUX_IMMUTABLE): callers treat that as "not available", never as an error. */
int fs_set_append_only(int fd, int on);
int fs_set_immutable(int fd);

/* fs_allocated_bytes - st_blocks * 512 of path. */
int64_t fs_allocated_bytes(const char *path);

#endif
