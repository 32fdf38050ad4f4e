/* segment - append-only segment files of the sealed store.
 *
 * Header (64 bytes, little-endian): magic "VLSEG1\n\0" (8) | version u32 | bucket u32 |
 * id u64 | created_us i64 | reserved 16 zero bytes | BLAKE2b-128 of the 48 bytes before. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fsutil.h"
#include "log.h"
#include "segment.h"

struct segment {
	int fd;
	uint64_t id;
	uint64_t end;	  /* logical end, including buffered bytes */
	uint8_t *wbuf;	  /* pending bytes not yet written */
	size_t wlen;
	EVP_MD_CTX *hash; /* SHA-256 of every byte from offset 0 */
	char path[4096];
};

void
segment_file_name(char out[32], uint64_t id)
{
	snprintf(out, 32, "%010llu.vls", (unsigned long long)id);
}

static void
segment_header_encode(uint8_t out[SEGMENT_HEADER_LEN], uint64_t id, uint32_t bucket,
		      int64_t created_us)
{
	memset(out, 0, SEGMENT_HEADER_LEN);
	memcpy(out, SEGMENT_MAGIC, 8);
	put_u32le(out + 8, 1);
	put_u32le(out + 12, bucket);
	put_u64le(out + 16, id);
	put_u64le(out + 24, (uint64_t)created_us);
	crypto_generichash(out + 48, 16, out, 48, NULL, 0);
}

static struct segment *
segment_alloc(const char *dir, uint64_t id)
{
	struct segment *s = xcalloc(1, sizeof(*s));
	char name[32];

	segment_file_name(name, id);
	snprintf(s->path, sizeof(s->path), "%s/%s", dir, name);
	s->id = id;
	s->fd = -1;
	s->wbuf = xmalloc(SEGMENT_WBUF);
	s->hash = EVP_MD_CTX_new();
	if (s->hash == NULL || !EVP_DigestInit_ex(s->hash, EVP_sha256(), NULL))
		vl_fatalx("EVP_DigestInit");
	return s;
}

enum vl_err
segment_create(struct segment **out, const char *dir, uint64_t id, uint32_t bucket,
	       int64_t created_us, char *err)
{
	struct segment *s = segment_alloc(dir, id);
	uint8_t hdr[SEGMENT_HEADER_LEN];
	enum vl_err rc;

	*out = NULL;
	/* O_EXCL: a segment is created once; O_APPEND: the kernel never writes below the end. */
	s->fd = open(s->path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
	if (s->fd < 0) {
		rc = vl_err_set(err, errno == ENOSPC ? VL_ERR_NOSPACE : VL_ERR_IO, "create %s: %s",
				s->path, strerror(errno));
		goto fail;
	}
	segment_header_encode(hdr, id, bucket, created_us);
	if ((rc = segment_append(s, hdr, sizeof(hdr))) != VL_OK ||
	    (rc = segment_sync(s, err)) != VL_OK)
		goto fail;
	if ((rc = fs_fsync_dir(dir)) != VL_OK) {
		vl_err_set(err, rc, "fsync %s: %s", dir, strerror(errno));
		goto fail;
	}
	if (fs_set_append_only(s->fd, 1) != 0)
		log_debug("segment=%llu append-only flag not available: %s",
			  (unsigned long long)id, strerror(errno));
	*out = s;
	return VL_OK;
fail:
	/* The file is ours (O_EXCL) and nothing refers to it yet: a disk that filled up while
	 * it was being created must not leave a headless file behind on every retry. */
	if (s->fd >= 0)
		segment_discard(s);
	else
		segment_close(s);
	return rc;
}

enum vl_err
segment_reopen(struct segment **out, const char *dir, uint64_t id, uint64_t end, char *err)
{
	struct segment *s = segment_alloc(dir, id);
	uint8_t *chunk = NULL;
	struct stat st;
	enum vl_err rc = VL_OK;

	*out = NULL;
	s->fd = open(s->path, O_RDWR | O_APPEND | O_CLOEXEC);
	if (s->fd < 0 || fstat(s->fd, &st) != 0) {
		rc = vl_err_set(err, VL_ERR_IO, "open %s: %s", s->path, strerror(errno));
		goto out;
	}
	if ((uint64_t)st.st_size != end) {
		rc = vl_err_set(err, VL_ERR_CORRUPT, "%s is %lld bytes, its committed end is %llu",
				s->path, (long long)st.st_size, (unsigned long long)end);
		goto out;
	}
	chunk = xmalloc(SEGMENT_WBUF);
	for (uint64_t off = 0; off < end;) {
		size_t n = end - off < SEGMENT_WBUF ? (size_t)(end - off) : SEGMENT_WBUF;

		if ((rc = fs_pread_full(s->fd, chunk, n, (off_t)off)) != VL_OK) {
			vl_err_set(err, rc, "read %s: %s", s->path, strerror(errno));
			goto out;
		}
		EVP_DigestUpdate(s->hash, chunk, n);
		off += n;
	}
	s->end = end;
out:
	free(chunk);
	if (rc != VL_OK) {
		segment_close(s);
		return rc;
	}
	*out = s;
	return VL_OK;
}

static enum vl_err
segment_flush(struct segment *s)
{
	enum vl_err rc;

	if (s->wlen == 0)
		return VL_OK;
	rc = fs_write_full(s->fd, s->wbuf, s->wlen);
	/* A failed write may have written part of the buffer: the tail is then torn, and the
	 * caller abandons this segment (the store starts a new one). */
	s->wlen = 0;
	return rc;
}

enum vl_err
segment_append(struct segment *s, const void *p, size_t n)
{
	const uint8_t *q = p;
	enum vl_err rc;

	EVP_DigestUpdate(s->hash, p, n);
	s->end += n;
	while (n > 0) {
		size_t room = SEGMENT_WBUF - s->wlen, take = n < room ? n : room;

		memcpy(s->wbuf + s->wlen, q, take);
		s->wlen += take;
		q += take;
		n -= take;
		if (s->wlen == SEGMENT_WBUF && (rc = segment_flush(s)) != VL_OK)
			return rc;
	}
	return VL_OK;
}

enum vl_err
segment_append_fn(void *arg, const uint8_t *p, size_t n)
{
	return segment_append(arg, p, n);
}

uint64_t
segment_end(const struct segment *s)
{
	return s->end;
}

uint64_t
segment_id(const struct segment *s)
{
	return s->id;
}

void
segment_hash_now(const struct segment *s, uint8_t out[32])
{
	EVP_MD_CTX *copy = EVP_MD_CTX_new();

	if (copy == NULL || !EVP_MD_CTX_copy_ex(copy, s->hash))
		vl_fatalx("EVP_MD_CTX_copy");
	EVP_DigestFinal_ex(copy, out, NULL);
	EVP_MD_CTX_free(copy);
}

enum vl_err
segment_sync(struct segment *s, char *err)
{
	enum vl_err rc = segment_flush(s);

	if (rc != VL_OK)
		return vl_err_set(err, rc, "write %s: %s", s->path, strerror(errno));
	/* fdatasync: the data and the size that reaches it; the file's times need not be durable. */
	if (fdatasync(s->fd) != 0)
		return vl_err_set(err, errno == ENOSPC ? VL_ERR_NOSPACE : VL_ERR_IO,
				  "fdatasync %s: %s", s->path, strerror(errno));
	return VL_OK;
}

int
segment_make_immutable(struct segment *s)
{
	if (fchmod(s->fd, 0440) != 0)
		log_warn("segment=%llu chmod 0440", (unsigned long long)s->id);
	if (fs_set_immutable(s->fd) != 0) {
		fs_set_append_only(s->fd, 0);
		return 0;
	}
	return 1;
}

void
segment_discard(struct segment *s)
{
	if (s == NULL)
		return;
	if (s->fd >= 0)
		(void)fs_set_append_only(s->fd, 0);
	if (unlink(s->path) != 0 && errno != ENOENT)
		log_warnx("segment=%llu: cannot remove the unused file %s: %s",
			  (unsigned long long)s->id, s->path, strerror(errno));
	segment_close(s);
}

void
segment_close(struct segment *s)
{
	if (s == NULL)
		return;
	if (s->fd >= 0)
		close(s->fd);
	EVP_MD_CTX_free(s->hash);
	free(s->wbuf);
	free(s);
}

enum vl_err
segment_read_header(const char *path, struct segment_header *h, int *fd_out, off_t *size,
		    char *err)
{
	uint8_t hdr[SEGMENT_HEADER_LEN], sum[16];
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*fd_out = -1;
	if (fd < 0)
		return vl_err_set(err, errno == ENOENT ? VL_ERR_NOTFOUND : VL_ERR_IO,
				  "open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || st.st_size < SEGMENT_HEADER_LEN ||
	    fs_pread_full(fd, hdr, sizeof(hdr), 0) != VL_OK) {
		close(fd);
		return vl_err_set(err, VL_ERR_CORRUPT, "%s: segment header missing or short", path);
	}
	crypto_generichash(sum, sizeof(sum), hdr, 48, NULL, 0);
	if (memcmp(hdr, SEGMENT_MAGIC, 8) != 0 || sodium_memcmp(sum, hdr + 48, 16) != 0) {
		close(fd);
		return vl_err_set(err, VL_ERR_CORRUPT, "%s: segment header damaged", path);
	}
	h->version = get_u32le(hdr + 8);
	h->bucket = get_u32le(hdr + 12);
	h->id = get_u64le(hdr + 16);
	h->created_us = (int64_t)get_u64le(hdr + 24);
	*fd_out = fd;
	*size = st.st_size;
	return VL_OK;
}
