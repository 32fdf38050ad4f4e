/* fsutil - file-system helpers with the durability order written down once. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"

enum vl_err
fs_mkdir_p(const char *path, mode_t mode, char *err)
{
	char tmp[4096];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(tmp))
		return vl_err_set(err, VL_ERR_CONFIG, "path too long: %s", path);
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, mode) != 0 && errno != EEXIST)
			return vl_err_set(err, VL_ERR_IO, "mkdir %s: %s", tmp, strerror(errno));
		*p = '/';
	}
	if (mkdir(tmp, mode) != 0 && errno != EEXIST)
		return vl_err_set(err, VL_ERR_IO, "mkdir %s: %s", tmp, strerror(errno));
	return VL_OK;
}

static enum vl_err
errno_to_vl(int e)
{
	return e == ENOSPC || e == EDQUOT ? VL_ERR_NOSPACE : VL_ERR_IO;
}

enum vl_err
fs_write_full(int fd, const void *p, size_t n)
{
	const uint8_t *q = p;

	while (n > 0) {
		ssize_t w = write(fd, q, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno_to_vl(errno);
		}
		q += w;
		n -= (size_t)w;
	}
	return VL_OK;
}

enum vl_err
fs_pread_full(int fd, void *p, size_t n, off_t off)
{
	uint8_t *q = p;

	while (n > 0) {
		ssize_t r = pread(fd, q, n, off);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return VL_ERR_IO;
		}
		if (r == 0)
			return VL_ERR_CORRUPT;
		q += r;
		n -= (size_t)r;
		off += r;
	}
	return VL_OK;
}

enum vl_err
fs_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return VL_ERR_IO;
	rc = fsync(fd);
	close(fd);
	return rc == 0 ? VL_OK : VL_ERR_IO;
}

enum vl_err
fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, char *err)
{
	char tmp[4096], dir[4096];
	enum vl_err rc;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return vl_err_set(err, VL_ERR_CONFIG, "path too long: %s", path);
	/* O_EXCL: never follow or reuse a file someone else left at the tmp name. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 07777);
	if (fd < 0)
		return vl_err_set(err, errno_to_vl(errno), "create %s: %s", tmp, strerror(errno));
	rc = fs_write_full(fd, data, len);
	/* fsync before rename: the name must never point at data that is not on disk. */
	if (rc == VL_OK && fsync(fd) != 0)
		rc = errno_to_vl(errno);
	/* close can report a deferred write error even after fsync succeeded (Postfix mail_stream.c). */
	if (close(fd) != 0 && rc == VL_OK)
		rc = errno_to_vl(errno);
	if (rc == VL_OK && (mode & FS_NOREPLACE ? renameat2(AT_FDCWD, tmp, AT_FDCWD, path,
							      RENAME_NOREPLACE)
					       : rename(tmp, path)) != 0)
		rc = errno == EEXIST ? VL_ERR_EXISTS : errno_to_vl(errno);
	if (rc != VL_OK) {
		int e = errno;

		unlink(tmp);
		return vl_err_set(err, rc, "write %s: %s", path, strerror(e));
	}
	/* fsync the directory so the rename itself survives a crash. */
	snprintf(dir, sizeof(dir), "%s", path);
	if (fs_fsync_dir(dirname(dir)) != VL_OK)
		return vl_err_set(err, VL_ERR_IO, "fsync dir of %s: %s", path, strerror(errno));
	return VL_OK;
}

enum vl_err
fs_read_all(struct buf *out, const char *path, size_t max, char *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	enum vl_err rc = VL_OK;

	if (fd < 0)
		return vl_err_set(err, errno == ENOENT ? VL_ERR_NOTFOUND : VL_ERR_IO, "open %s: %s",
				  path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		rc = vl_err_set(err, VL_ERR_IO, "stat %s: %s", path, strerror(errno));
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		rc = vl_err_set(err, VL_ERR_LIMIT, "%s: %lld bytes exceeds the limit of %zu", path,
				(long long)st.st_size, max);
		goto out;
	}
	for (;;) {
		ssize_t r;

		buf_reserve(out, 65536);
		r = read(fd, out->data + out->len, 65536);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = vl_err_set(err, VL_ERR_IO, "read %s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		out->len += (size_t)r;
		if (out->len > max) {
			rc = vl_err_set(err, VL_ERR_LIMIT, "%s: exceeds the limit of %zu", path, max);
			goto out;
		}
	}
	out->data[out->len] = 0;
out:
	close(fd);
	return rc;
}

int
fs_lock_open(const char *path, int wait)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) {
		int e = errno;

		if (e == EINTR)
			continue;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int
fs_set_flag(int fd, int flag, int on)
{
	int flags = 0;

	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0)
		return -1;
	flags = on ? (flags | flag) : (flags & ~flag);
	return ioctl(fd, FS_IOC_SETFLAGS, &flags);
}

int
fs_set_append_only(int fd, int on)
{
	return fs_set_flag(fd, FS_APPEND_FL, on);
}

int
fs_set_immutable(int fd)
{
	if (fs_set_flag(fd, FS_APPEND_FL, 0) != 0)
		return -1;
	return fs_set_flag(fd, FS_IMMUTABLE_FL, 1);
}

int64_t
fs_allocated_bytes(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return -1;
	return (int64_t)st.st_blocks * 512;
}
