/* tar - POSIX ustar writer; see tar.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "dirwalk.h"
#include "fsutil.h"
#include "tar.h"

#define TAR_BLOCK 512
#define TAR_COPY 65536

/* name_split - path into ustar's prefix (155) and name (100) fields. */
static int
name_split(const char *path, char hdr[TAR_BLOCK])
{
	size_t len = strlen(path);

	if (len <= 100) {
		memcpy(hdr, path, len);
		return 0;
	}
	for (size_t i = len - 1; i > 0; i--) {
		if (path[i] != '/' || i > 155)
			continue;
		if (len - i - 1 > 100 || len - i - 1 == 0)
			return -1;
		memcpy(hdr + 345, path, i);
		memcpy(hdr, path + i + 1, len - i - 1);
		return 0;
	}
	return -1;
}

static enum vl_err
header(int fd, const char *path, const struct stat *st, char *err)
{
	char h[TAR_BLOCK];
	unsigned sum = 0;

	memset(h, 0, sizeof(h));
	if (name_split(path, h) != 0)
		return vl_err_set(err, VL_ERR_LIMIT, "%s: too long a name for ustar", path);
	snprintf(h + 100, 8, "%07o", S_ISDIR(st->st_mode) ? 0755u : 0644u);
	snprintf(h + 108, 8, "%07o", 0u);
	snprintf(h + 116, 8, "%07o", 0u);
	snprintf(h + 124, 12, "%011llo", S_ISDIR(st->st_mode) ? 0ull : (unsigned long long)st->st_size);
	snprintf(h + 136, 12, "%011llo", (unsigned long long)st->st_mtime);
	h[156] = S_ISDIR(st->st_mode) ? '5' : '0';
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	for (int i = 0; i < TAR_BLOCK; i++)
		sum += (unsigned char)h[i];
	snprintf(h + 148, 8, "%06o", sum);
	return fs_write_full(fd, h, sizeof(h)) == VL_OK
		       ? VL_OK
		       : vl_err_set(err, VL_ERR_IO, "tar: write failed");
}

static enum vl_err
copy_file(int fd, const char *path, const char *name, uint64_t size, char *err)
{
	int in = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	char *b = xmalloc(TAR_COPY);
	uint64_t left = size;
	enum vl_err rc = VL_OK;

	if (in < 0) {
		free(b);
		return vl_err_set(err, VL_ERR_IO, "%s: %s", name, strerror(errno));
	}
	while (rc == VL_OK && left > 0) {
		ssize_t n = read(in, b, left < TAR_COPY ? (size_t)left : TAR_COPY);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			rc = vl_err_set(err, VL_ERR_IO, "%s: changed while being archived", name);
		else if (fs_write_full(fd, b, (size_t)n) != VL_OK)
			rc = vl_err_set(err, VL_ERR_IO, "tar: write failed");
		else
			left -= (uint64_t)n;
	}
	close(in);
	memset(b, 0, TAR_BLOCK);
	if (rc == VL_OK && size % TAR_BLOCK &&
	    fs_write_full(fd, b, TAR_BLOCK - size % TAR_BLOCK) != VL_OK)
		rc = vl_err_set(err, VL_ERR_IO, "tar: write failed");
	free(b);
	return rc;
}

/* tar_entry - a dirwalk visit: the header, then a file's bytes. */
static enum vl_err
tar_entry(void *ctx, const char *path, const char *name, const struct stat *st, char *err)
{
	int fd = *(int *)ctx;
	enum vl_err rc = header(fd, name, st, err);

	if (rc == VL_OK && S_ISREG(st->st_mode))
		rc = copy_file(fd, path, name, (uint64_t)st->st_size, err);
	return rc;
}

enum vl_err
tar_dir(int fd, const char *dir, const char *top, char *err)
{
	char zero[2 * TAR_BLOCK];
	struct stat st;
	enum vl_err rc;

	if (stat(dir, &st) != 0)
		return vl_err_set(err, VL_ERR_IO, "%s: %s", dir, strerror(errno));
	char name[512];

	snprintf(name, sizeof(name), "%s/", top);
	if ((rc = header(fd, name, &st, err)) != VL_OK ||
	    (rc = dirwalk(dir, top, tar_entry, &fd, err)) != VL_OK)
		return rc;
	memset(zero, 0, sizeof(zero));
	return fs_write_full(fd, zero, sizeof(zero)) == VL_OK
		       ? VL_OK
		       : vl_err_set(err, VL_ERR_IO, "tar: write failed");
}
