/* keyslot - per-record keys that disposal can destroy. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fsutil.h"
#include "keyslot.h"

#define KEYSLOT_CHECK_AT 48
#define KEYSLOT_DOMAIN "vellum keyslot v1"
#define KEYSLOT_MARK_DOMAIN "vellum keyslot destroyed v1"

struct keyslot_file {
	int fd;
	uint64_t segment_id;
	uint64_t size;	 /* bytes on disk */
	struct buf pend; /* entries added since the last sync */
};

void
keyslot_path(char *out, size_t n, const char *dir, uint64_t segment_id)
{
	snprintf(out, n, "%s/%010llu.vlk", dir, (unsigned long long)segment_id);
}

static void
entry_encode(uint8_t p[KEYSLOT_LEN], const struct keyslot_entry *e)
{
	put_u64le(p, e->offset);
	put_u32le(p + 8, (uint32_t)e->state);
	put_u32le(p + 12, e->key_id);
	memcpy(p + 16, e->salt, 32);
	crypto_generichash(p + KEYSLOT_CHECK_AT, 16, p, KEYSLOT_CHECK_AT, NULL, 0);
}

/* entry_decode - 0, or -1 when the checksum or state is wrong (torn or damaged). */
static int
entry_decode(const uint8_t p[KEYSLOT_LEN], struct keyslot_entry *e)
{
	uint8_t sum[16];

	crypto_generichash(sum, sizeof(sum), p, KEYSLOT_CHECK_AT, NULL, 0);
	if (sodium_memcmp(sum, p + KEYSLOT_CHECK_AT, sizeof(sum)) != 0)
		return -1;
	e->offset = get_u64le(p);
	e->state = (enum keyslot_state)get_u32le(p + 8);
	e->key_id = get_u32le(p + 12);
	memcpy(e->salt, p + 16, 32);
	return e->state == KEYSLOT_LIVE || e->state == KEYSLOT_DESTROYED ? 0 : -1;
}

static void
header_encode(uint8_t p[KEYSLOT_HEADER_LEN], uint64_t segment_id)
{
	memset(p, 0, KEYSLOT_HEADER_LEN);
	memcpy(p, KEYSLOT_MAGIC, 8);
	put_u64le(p + 8, segment_id);
}

static enum vl_err
header_check(int fd, uint64_t segment_id, char *err)
{
	uint8_t h[KEYSLOT_HEADER_LEN], want[KEYSLOT_HEADER_LEN];

	if (fs_pread_full(fd, h, sizeof(h), 0) != VL_OK)
		return vl_err_set(err, VL_ERR_CORRUPT, "key slots of segment %llu: short header",
				  (unsigned long long)segment_id);
	header_encode(want, segment_id);
	if (memcmp(h, want, sizeof(h)) != 0)
		return vl_err_set(err, VL_ERR_CORRUPT, "key slots of segment %llu: bad header",
				  (unsigned long long)segment_id);
	return VL_OK;
}

void
keyslot_derive(const uint8_t master[32], uint64_t segment_id, const struct keyslot_entry *e,
	       uint8_t key[32])
{
	crypto_generichash_state st;
	uint8_t loc[16];

	/* The location is in the derivation: a salt copied to another record opens nothing. */
	put_u64le(loc, segment_id);
	put_u64le(loc + 8, e->offset);
	crypto_generichash_init(&st, master, 32, 32);
	crypto_generichash_update(&st, (const uint8_t *)KEYSLOT_DOMAIN, sizeof(KEYSLOT_DOMAIN) - 1);
	crypto_generichash_update(&st, loc, sizeof(loc));
	crypto_generichash_update(&st, e->salt, sizeof(e->salt));
	crypto_generichash_final(&st, key, 32);
	sodium_memzero(&st, sizeof(st));
}

/* keyslot_mark - disposal's mark for the slot of the record at (segment_id, offset). */
static void
keyslot_mark(const uint8_t master[32], uint64_t segment_id, uint64_t offset, uint8_t out[32])
{
	crypto_generichash_state st;
	uint8_t loc[16];

	put_u64le(loc, segment_id);
	put_u64le(loc + 8, offset);
	crypto_generichash_init(&st, master, 32, 32);
	crypto_generichash_update(&st, (const uint8_t *)KEYSLOT_MARK_DOMAIN,
				  sizeof(KEYSLOT_MARK_DOMAIN) - 1);
	crypto_generichash_update(&st, loc, sizeof(loc));
	crypto_generichash_final(&st, out, 32);
}

int
keyslot_mark_ok(const uint8_t master[32], uint64_t segment_id, const struct keyslot_entry *e)
{
	uint8_t want[32];

	keyslot_mark(master, segment_id, e->offset, want);
	return e->state == KEYSLOT_DESTROYED && sodium_memcmp(want, e->salt, 32) == 0;
}

/* keyslot_trim - drop a torn tail and every entry at or past keep_below. */
static enum vl_err
keyslot_trim(struct keyslot_file *f, uint64_t keep_below, char *err)
{
	uint64_t n = (f->size - KEYSLOT_HEADER_LEN) / KEYSLOT_LEN;
	uint8_t p[KEYSLOT_LEN];
	struct keyslot_entry e;

	while (n > 0) {
		if (fs_pread_full(f->fd, p, sizeof(p),
				  (off_t)(KEYSLOT_HEADER_LEN + (n - 1) * KEYSLOT_LEN)) != VL_OK)
			return vl_err_set(err, VL_ERR_IO, "read key slot: %s", strerror(errno));
		if (entry_decode(p, &e) == 0 && e.offset < keep_below)
			break;
		n--;
	}
	if (KEYSLOT_HEADER_LEN + n * KEYSLOT_LEN == f->size)
		return VL_OK;
	f->size = KEYSLOT_HEADER_LEN + n * KEYSLOT_LEN;
	if (ftruncate(f->fd, (off_t)f->size) != 0 || fdatasync(f->fd) != 0)
		return vl_err_set(err, VL_ERR_IO, "trim key slots: %s", strerror(errno));
	return VL_OK;
}

enum vl_err
keyslot_open(struct keyslot_file **out, const char *dir, uint64_t segment_id,
	     uint64_t keep_below, char *err)
{
	struct keyslot_file *f = xcalloc(1, sizeof(*f));
	char path[4096];
	struct stat st;
	enum vl_err rc;

	*out = NULL;
	f->fd = -1;
	f->segment_id = segment_id;
	if ((rc = fs_mkdir_p(dir, 0700, err)) != VL_OK)
		goto fail;
	keyslot_path(path, sizeof(path), dir, segment_id);
	f->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (f->fd < 0 || fstat(f->fd, &st) != 0) {
		rc = vl_err_set(err, VL_ERR_IO, "%s: %s", path, strerror(errno));
		goto fail;
	}
	f->size = (uint64_t)st.st_size;
	if (f->size < KEYSLOT_HEADER_LEN) {
		uint8_t h[KEYSLOT_HEADER_LEN];

		header_encode(h, segment_id);
		if (ftruncate(f->fd, 0) != 0 || fs_write_full(f->fd, h, sizeof(h)) != VL_OK ||
		    fdatasync(f->fd) != 0 || fs_fsync_dir(dir) != VL_OK) {
			rc = vl_err_set(err, VL_ERR_IO, "%s: %s", path, strerror(errno));
			goto fail;
		}
		f->size = KEYSLOT_HEADER_LEN;
	} else if ((rc = header_check(f->fd, segment_id, err)) != VL_OK ||
		   (rc = keyslot_trim(f, keep_below, err)) != VL_OK) {
		goto fail;
	}
	*out = f;
	return VL_OK;
fail:
	keyslot_close(f);
	return rc;
}

void
keyslot_add(struct keyslot_file *f, const uint8_t master[32], uint32_t key_id, uint64_t offset,
	    uint8_t key[32], uint32_t *record_key_id)
{
	struct keyslot_entry e = {.offset = offset, .state = KEYSLOT_LIVE, .key_id = key_id};
	uint8_t p[KEYSLOT_LEN];

	randombytes_buf(e.salt, sizeof(e.salt));
	keyslot_derive(master, f->segment_id, &e, key);
	entry_encode(p, &e);
	buf_append(&f->pend, p, sizeof(p));
	sodium_memzero(&e, sizeof(e));
	*record_key_id = KEYSLOT_ID_FLAG | key_id;
}

enum vl_err
keyslot_sync(struct keyslot_file *f, char *err)
{
	ssize_t w;

	if (f->pend.len == 0)
		return VL_OK;
	w = pwrite(f->fd, f->pend.data, f->pend.len, (off_t)f->size);
	if (w != (ssize_t)f->pend.len)
		return vl_err_set(err, w < 0 && errno == ENOSPC ? VL_ERR_NOSPACE : VL_ERR_IO,
				  "write key slots: %s", w < 0 ? strerror(errno) : "short write");
	if (fdatasync(f->fd) != 0)
		return vl_err_set(err, VL_ERR_IO, "sync key slots: %s", strerror(errno));
	f->size += f->pend.len;
	f->pend.len = 0;
	return VL_OK;
}

int
keyslot_pending(const struct keyslot_file *f)
{
	return f->pend.len > 0;
}

void
keyslot_close(struct keyslot_file *f)
{
	if (f == NULL)
		return;
	if (f->fd >= 0)
		close(f->fd);
	buf_free(&f->pend);
	free(f);
}

/* find_index - binary search: the index of offset's entry, or -1. An entry that does not
 * decode is taken as past the end: only a tail being appended can be one (a damaged entry
 * before it makes its own record unreadable, which verify reports). */
static int64_t
find_index(int fd, uint64_t count, uint64_t offset, struct keyslot_entry *e, char *err)
{
	uint64_t lo = 0, hi = count;
	uint8_t p[KEYSLOT_LEN];

	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (fs_pread_full(fd, p, sizeof(p), (off_t)(KEYSLOT_HEADER_LEN + mid * KEYSLOT_LEN)) !=
		    VL_OK) {
			vl_err_set(err, VL_ERR_IO, "read key slot: %s", strerror(errno));
			return -2;
		}
		if (entry_decode(p, e) != 0 || e->offset > offset)
			hi = mid;
		else if (e->offset < offset)
			lo = mid + 1;
		else
			return (int64_t)mid;
	}
	return -1;
}

enum vl_err
keyslot_find(int fd, uint64_t segment_id, uint64_t offset, struct keyslot_entry *e, char *err)
{
	struct stat st;
	enum vl_err rc;
	int64_t i;

	if (fstat(fd, &st) != 0)
		return vl_err_set(err, VL_ERR_IO, "key slots: %s", strerror(errno));
	if ((rc = header_check(fd, segment_id, err)) != VL_OK)
		return rc;
	i = find_index(fd, ((uint64_t)st.st_size - KEYSLOT_HEADER_LEN) / KEYSLOT_LEN, offset, e,
		       err);
	if (i == -2)
		return VL_ERR_IO;
	if (i < 0)
		return vl_err_set(err, VL_ERR_NOTFOUND, "segment %llu offset %llu has no key slot",
				  (unsigned long long)segment_id, (unsigned long long)offset);
	return VL_OK;
}

enum vl_err
keyslot_destroy(const char *dir, uint64_t segment_id, const uint64_t *offs, size_t n,
		keyslot_master_fn master, void *arg, uint64_t *destroyed, uint64_t *unkeyed,
		char *err)
{
	char path[4096];
	struct stat st;
	enum vl_err rc = VL_OK;
	int fd;

	keyslot_path(path, sizeof(path), dir, segment_id);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		*unkeyed += n; /* a segment sealed before key slots existed */
		return VL_OK;
	}
	if (fd < 0 || fstat(fd, &st) != 0) {
		rc = vl_err_set(err, VL_ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if ((rc = header_check(fd, segment_id, err)) != VL_OK)
		goto out;
	for (size_t k = 0; k < n; k++) {
		struct keyslot_entry e;
		uint8_t p[KEYSLOT_LEN];
		int64_t i = find_index(fd, ((uint64_t)st.st_size - KEYSLOT_HEADER_LEN) / KEYSLOT_LEN,
				       offs[k], &e, err);

		if (i == -2) {
			rc = VL_ERR_IO;
			goto out;
		}
		if (i < 0) {
			(*unkeyed)++;
			continue;
		}
		if (e.state == KEYSLOT_DESTROYED)
			continue;
		const uint8_t *mk = master(arg, e.key_id);
		if (mk == NULL) {
			rc = vl_err_set(err, VL_ERR_NOKEY, "keyring key %u is missing", e.key_id);
			goto out;
		}
		e.state = KEYSLOT_DESTROYED;
		keyslot_mark(mk, segment_id, e.offset, e.salt); /* the salt is overwritten */
		entry_encode(p, &e);
		if (pwrite(fd, p, sizeof(p), (off_t)(KEYSLOT_HEADER_LEN + (uint64_t)i * KEYSLOT_LEN)) !=
		    (ssize_t)sizeof(p)) {
			rc = vl_err_set(err, VL_ERR_IO, "destroy key slot: %s", strerror(errno));
			goto out;
		}
		(*destroyed)++;
	}
	if (fdatasync(fd) != 0)
		rc = vl_err_set(err, VL_ERR_IO, "sync key slots: %s", strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	return rc;
}
