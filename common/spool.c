/* spool - an append-only byte store that stays in memory up to a bound, then spills to disk.
 *
 * The file is opened only when the bound is first passed, so small inputs never touch the file
 * system. It is anonymous from birth (O_TMPFILE) or unlinked right after mkstemp, so a crash
 * leaves nothing behind and no other process can open it by name. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "fsutil.h"
#include "log.h"
#include "spool.h"

struct spool {
	char *dir;
	size_t mem_max;
	struct buf mem; /* the bytes while fd < 0 */
	int fd;		/* the scratch file once spilled, else -1 */
	uint64_t len;
};

struct spool *
spool_new(const char *dir, size_t mem_max)
{
	struct spool *s = xcalloc(1, sizeof(*s));

	s->dir = xstrdup(dir ? dir : SPOOL_DIR_DEFAULT);
	s->mem_max = mem_max;
	s->fd = -1;
	return s;
}

void
spool_free(struct spool *s)
{
	if (s == NULL)
		return;
	spool_reset(s);
	buf_free(&s->mem);
	free(s->dir);
	free(s);
}

/* spool_open_file - an anonymous read-write file in dir, or -1 with errno set. */
static int
spool_open_file(const char *dir)
{
	char path[4096];
	int fd, e;

	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	/* Only "this file system cannot do O_TMPFILE" falls back; a missing or unwritable
	 * directory would fail the same way for mkstemp. */
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return -1;
	if (snprintf(path, sizeof(path), "%s/vellum-spool-XXXXXX", dir) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (unlink(path) != 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* spool_spill - move the in-memory bytes into a new scratch file. */
static enum vl_err
spool_spill(struct spool *s)
{
	enum vl_err rc;

	s->fd = spool_open_file(s->dir);
	if (s->fd < 0) {
		rc = errno == ENOSPC || errno == EDQUOT ? VL_ERR_NOSPACE : VL_ERR_IO;
		log_warn("spool create failed dir=%s", s->dir);
		return rc;
	}
	rc = fs_write_full(s->fd, s->mem.data, s->mem.len);
	buf_reset(&s->mem);
	return rc;
}

enum vl_err
spool_append(struct spool *s, const void *p, size_t n)
{
	enum vl_err rc;

	if (n == 0)
		return VL_OK;
	if (s->fd < 0 && s->len + n > s->mem_max) {
		rc = spool_spill(s);
		if (rc != VL_OK)
			return rc;
	}
	if (s->fd < 0) {
		buf_append(&s->mem, p, n);
	} else {
		rc = fs_write_full(s->fd, p, n);
		if (rc != VL_OK)
			return rc;
	}
	s->len += n;
	return VL_OK;
}

uint64_t
spool_len(const struct spool *s)
{
	return s->len;
}

const uint8_t *
spool_mem(const struct spool *s)
{
	static const uint8_t empty[1];

	if (s->fd >= 0)
		return NULL;
	return s->mem.data ? s->mem.data : empty;
}

int
spool_fd(const struct spool *s)
{
	return s->fd;
}

void
spool_source(const struct spool *s, const uint8_t **mem, int *fd, uint64_t *len)
{
	*mem = spool_mem(s);
	*fd = s->fd;
	*len = s->len;
}

void
spool_reset(struct spool *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->len = 0;
	buf_reset(&s->mem);
	/* A buffer that grew to mem_max for one large message is worth keeping for the next;
	 * it cannot grow past about 2 * mem_max, so the memory stays bounded. */
}
