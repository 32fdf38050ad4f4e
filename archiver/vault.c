/* vault - the read side of the sealed store. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "keyslot.h"
#include "segment.h"
#include "vault.h"

#define VAULT_FD_CACHE 16

struct vault_dict {
	uint32_t id;
	ZSTD_CDict *cdict;
	ZSTD_DDict *ddict;
};

struct vault {
	const struct vl_config *cfg;
	struct keyring *kr;
	struct record_reader *reader;
	struct record_keys keys;
	struct vault_dict dicts[VAULT_MAX_DICTS];
	size_t ndicts;
	struct vault_fds {
		struct {
			uint64_t id;
			int fd;
		} e[VAULT_FD_CACHE];
		unsigned next;
	} segs, slots;
	/* The record being opened, for a key that is the record's own (keyslot.h). */
	uint64_t cur_seg, cur_off;
	uint8_t *slot_key; /* sodium_malloc'd, 32 bytes, wiped after each read */
	char slot_err[VL_ERRLEN];
	int slot_short; /* the slot file did not open for want of descriptors or memory */
	char seg_dir[CONFIG_PATH_MAX], slot_dir[CONFIG_PATH_MAX];
};

static int vault_cached_fd(struct vault_fds *c, uint64_t id, const char *path, int flags);

/* short_now - whether errno e of an open says only that descriptors or memory are short just
 * now: no verdict on the file (VL_ERR_BUSY). */
static int
short_now(int e)
{
	return e == EMFILE || e == ENFILE || e == ENOMEM;
}

/* vault_slot_key - the record's own key from its slot; NULL (the reason in slot_err) when the
 * slot is missing, damaged, or destroyed by disposal. */
static const uint8_t *
vault_slot_key(struct vault *v, uint32_t key_id)
{
	struct keyslot_entry e;
	char path[CONFIG_PATH_MAX + 32];
	const uint8_t *master;
	int fd;

	keyslot_path(path, sizeof(path), v->slot_dir, v->cur_seg);
	fd = vault_cached_fd(&v->slots, v->cur_seg, path, O_RDONLY);
	if (fd < 0) {
		v->slot_short = short_now(errno);
		snprintf(v->slot_err, sizeof(v->slot_err), "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (keyslot_find(fd, v->cur_seg, v->cur_off, &e, v->slot_err) != VL_OK)
		return NULL;
	if (e.state == KEYSLOT_DESTROYED) {
		snprintf(v->slot_err, sizeof(v->slot_err), "destroyed by disposal");
		return NULL;
	}
	if (e.key_id != (key_id & ~KEYSLOT_ID_FLAG) ||
	    (master = keyring_seal_key(v->kr, e.key_id)) == NULL) {
		snprintf(v->slot_err, sizeof(v->slot_err), "keyring key %u missing", e.key_id);
		return NULL;
	}
	keyslot_derive(master, v->cur_seg, &e, v->slot_key);
	sodium_memzero(&e, sizeof(e));
	return v->slot_key;
}

static const uint8_t *
vault_key_cb(void *arg, uint32_t key_id)
{
	struct vault *v = arg;

	if (key_id & KEYSLOT_ID_FLAG)
		return vault_slot_key(v, key_id);
	return keyring_seal_key(v->kr, key_id);
}

static const ZSTD_DDict *
vault_dict_cb(void *arg, uint32_t dict_id)
{
	struct vault *v = arg;

	for (size_t i = 0; i < v->ndicts; i++)
		if (v->dicts[i].id == dict_id)
			return v->dicts[i].ddict;
	return NULL;
}

static enum vl_err
vault_load_dicts(struct vault *v, PGconn *conn, char *err)
{
	PGresult *r = PQexec(conn, "SELECT id, segment_id, record_offset FROM dictionaries ORDER BY id");
	enum vl_err rc = VL_OK;

	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = vl_err_set(err, VL_ERR_DB, "dictionaries: %s", PQerrorMessage(conn));
		goto out;
	}
	for (int i = 0; i < PQntuples(r) && rc == VL_OK; i++) {
		struct buf d = {0};
		struct record_info info;
		uint32_t id = (uint32_t)strtoul(PQgetvalue(r, i, 0), NULL, 10);

		rc = vault_read_buf(v, strtoull(PQgetvalue(r, i, 1), NULL, 10),
				    strtoull(PQgetvalue(r, i, 2), NULL, 10), &d, &info, err);
		if (rc == VL_OK)
			rc = vault_add_dict(v, id, d.data, d.len, (int)v->cfg->zstd_level, err);
		buf_free(&d);
	}
out:
	PQclear(r);
	return rc;
}

enum vl_err
vault_open(struct vault **out, const struct vl_config *cfg, PGconn *conn, char *err)
{
	struct vault *v = xcalloc(1, sizeof(*v));
	char path[CONFIG_PATH_MAX];
	enum vl_err rc;

	*out = NULL;
	v->cfg = cfg;
	for (int i = 0; i < VAULT_FD_CACHE; i++)
		v->segs.e[i].fd = v->slots.e[i].fd = -1;
	config_path(v->seg_dir, cfg, "store/segments");
	config_path(v->slot_dir, cfg, KEYSLOT_DIR);
	if ((v->slot_key = sodium_malloc(32)) == NULL) {
		rc = vl_err_set(err, VL_ERR_NOMEM, "sodium_malloc");
		goto fail;
	}
	config_path(path, cfg, "keys/keyring");
	if ((rc = keyring_load(&v->kr, path, err)) != VL_OK)
		goto fail;
	v->reader = record_reader_new();
	v->keys.key = vault_key_cb;
	v->keys.dict = vault_dict_cb;
	v->keys.arg = v;
	if (conn && (rc = vault_load_dicts(v, conn, err)) != VL_OK)
		goto fail;
	*out = v;
	return VL_OK;
fail:
	vault_free(v);
	return rc;
}

void
vault_free(struct vault *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->ndicts; i++) {
		ZSTD_freeCDict(v->dicts[i].cdict);
		ZSTD_freeDDict(v->dicts[i].ddict);
	}
	for (int i = 0; i < VAULT_FD_CACHE; i++) {
		if (v->segs.e[i].fd >= 0)
			close(v->segs.e[i].fd);
		if (v->slots.e[i].fd >= 0)
			close(v->slots.e[i].fd);
	}
	sodium_free(v->slot_key);
	record_reader_free(v->reader);
	keyring_free(v->kr);
	free(v);
}

const struct keyring *
vault_keyring(const struct vault *v)
{
	return v->kr;
}

const struct record_keys *
vault_keys(const struct vault *v)
{
	return &v->keys;
}

const char *
vault_segment_dir(const struct vault *v)
{
	return v->seg_dir;
}

void
vault_segment_path(const struct vault *v, char *out, uint64_t segment_id)
{
	char name[32];

	segment_file_name(name, segment_id);
	/* seg_dir is shorter than CONFIG_PATH_MAX - 32 (config_path bounds it). */
	if (snprintf(out, CONFIG_PATH_MAX, "%.*s/%s", CONFIG_PATH_MAX - 40, v->seg_dir, name) < 0)
		out[0] = 0;
}

enum vl_err
vault_add_dict(struct vault *v, uint32_t id, const void *dict, size_t len, int level, char *err)
{
	struct vault_dict *d;

	if (v->ndicts == VAULT_MAX_DICTS)
		return vl_err_set(err, VL_ERR_LIMIT, "more than %d dictionaries", VAULT_MAX_DICTS);
	d = &v->dicts[v->ndicts];
	d->id = id;
	d->ddict = ZSTD_createDDict(dict, len);
	d->cdict = level > 0 ? ZSTD_createCDict(dict, len, level) : NULL;
	if (d->ddict == NULL || (level > 0 && d->cdict == NULL))
		return vl_err_set(err, VL_ERR_CORRUPT, "dictionary %u cannot be loaded", id);
	v->ndicts++;
	return VL_OK;
}

const ZSTD_CDict *
vault_cdict(const struct vault *v, uint32_t id)
{
	for (size_t i = 0; i < v->ndicts; i++)
		if (v->dicts[i].id == id)
			return v->dicts[i].cdict;
	return NULL;
}

uint32_t
vault_newest_dict(const struct vault *v)
{
	return v->ndicts ? v->dicts[v->ndicts - 1].id : 0;
}

/* vault_cached_fd - an fd for file id at path from a small cache (owned by the vault), or -1. */
static int
vault_cached_fd(struct vault_fds *c, uint64_t id, const char *path, int flags)
{
	unsigned slot;
	int fd;

	for (int i = 0; i < VAULT_FD_CACHE; i++)
		if (c->e[i].fd >= 0 && c->e[i].id == id)
			return c->e[i].fd;
	slot = c->next++ % VAULT_FD_CACHE;
	if ((fd = open(path, flags | O_CLOEXEC)) < 0)
		return -1;
	if (c->e[slot].fd >= 0)
		close(c->e[slot].fd);
	c->e[slot].id = id;
	c->e[slot].fd = fd;
	return fd;
}

/* vault_fd - a read-only fd for segment id, and its size now (an open segment grows). */
static int
vault_fd(struct vault *v, uint64_t id, off_t *size)
{
	char path[CONFIG_PATH_MAX];
	struct stat st;
	int fd;

	vault_segment_path(v, path, id);
	if ((fd = vault_cached_fd(&v->segs, id, path, O_RDONLY)) < 0 || fstat(fd, &st) != 0)
		return -1;
	*size = st.st_size;
	return fd;
}

/* vault_open_record - record_open with the record's location known to the key callback. */
static enum vl_err
vault_open_record(struct vault *v, int fd, uint64_t segment_id, uint64_t offset, off_t size,
		  record_write_fn fn, void *arg, struct record_info *info, char *err)
{
	enum vl_err rc;

	v->cur_seg = segment_id;
	v->cur_off = offset;
	v->slot_err[0] = 0;
	v->slot_short = 0;
	rc = record_open(v->reader, fd, (off_t)offset, size, &v->keys, fn, arg, info, err);
	sodium_memzero(v->slot_key, 32);
	if (rc == VL_ERR_NOKEY && v->slot_short)
		rc = VL_ERR_BUSY; /* the key is there; its file could not be opened just now */
	if ((rc == VL_ERR_NOKEY || rc == VL_ERR_BUSY) && v->slot_err[0])
		vl_err_set(err, rc, "segment %llu offset %llu: the record's key: %s",
			   (unsigned long long)segment_id, (unsigned long long)offset, v->slot_err);
	return rc;
}

enum vl_err
vault_slot_state(struct vault *v, uint64_t segment_id, uint64_t offset, int *state, char *err)
{
	struct keyslot_entry e;
	char path[CONFIG_PATH_MAX + 32];
	enum vl_err rc;
	int fd;

	*state = 0;
	keyslot_path(path, sizeof(path), v->slot_dir, segment_id);
	if ((fd = vault_cached_fd(&v->slots, segment_id, path, O_RDONLY)) < 0)
		return errno == ENOENT ? VL_OK : vl_err_set(err, VL_ERR_IO, "%s: %s", path,
							      strerror(errno));
	rc = keyslot_find(fd, segment_id, offset, &e, err);
	if (rc == VL_OK)
		*state = (int)e.state;
	if (rc == VL_OK && e.state == KEYSLOT_DESTROYED) {
		const uint8_t *master = keyring_seal_key(v->kr, e.key_id);

		if (master == NULL || !keyslot_mark_ok(master, segment_id, &e))
			*state = KEYSLOT_WIPED;
	}
	sodium_memzero(&e, sizeof(e));
	return rc == VL_ERR_NOTFOUND ? VL_OK : rc;
}

static enum vl_err
vault_buf_fn(void *arg, const uint8_t *p, size_t n)
{
	buf_append(arg, p, n);
	return VL_OK;
}

/* vault_open_failed - why a segment did not open (errno): gone (NOTFOUND), short of descriptors
 * or memory just now (BUSY: no verdict on the segment; the indexer leaves its message queued),
 * or else failed (IO). */
static enum vl_err
vault_open_failed(uint64_t segment_id, char *err)
{
	int e = errno;
	enum vl_err rc = e == ENOENT ? VL_ERR_NOTFOUND : short_now(e) ? VL_ERR_BUSY : VL_ERR_IO;

	return vl_err_set(err, rc, "segment %llu: %s", (unsigned long long)segment_id,
			  strerror(e));
}

enum vl_err
vault_read_buf(struct vault *v, uint64_t segment_id, uint64_t offset, struct buf *out,
	       struct record_info *info, char *err)
{
	size_t start = out->len;
	enum vl_err rc;
	off_t size;
	int fd = vault_fd(v, segment_id, &size);

	if (fd < 0)
		return vault_open_failed(segment_id, err);
	rc = vault_open_record(v, fd, segment_id, offset, size, vault_buf_fn, out, info, err);
	if (rc != VL_OK)
		out->len = start; /* no partial output */
	return rc;
}

static enum vl_err
vault_check_sha(const struct record_info *info, const uint8_t *want, uint64_t segment_id,
		uint64_t offset, char *err)
{
	if (want == NULL || memcmp(info->sha256, want, 32) == 0)
		return VL_OK;
	return vl_err_set(err, VL_ERR_CORRUPT,
			  "record at segment %llu offset %llu decodes to bytes whose SHA-256 is not "
			  "the recorded evidence hash",
			  (unsigned long long)segment_id, (unsigned long long)offset);
}

enum vl_err
vault_read(struct vault *v, uint64_t segment_id, uint64_t offset, const uint8_t *want_sha256,
	   record_write_fn fn, void *arg, struct record_info *info, char *err)
{
	struct record_info scan;
	enum vl_err rc;
	off_t size;
	int fd = vault_fd(v, segment_id, &size);

	if (fd < 0)
		return vault_open_failed(segment_id, err);
	if ((rc = record_scan(v->reader, fd, (off_t)offset, size, &scan, err)) != VL_OK)
		return rc;
	if (scan.raw_len <= VAULT_MEM_READ_MAX) {
		struct buf b = {0};

		rc = vault_read_buf(v, segment_id, offset, &b, info, err);
		if (rc == VL_OK)
			rc = vault_check_sha(info, want_sha256, segment_id, offset, err);
		if (rc == VL_OK && b.len && fn)
			rc = fn(arg, b.data, b.len);
		buf_free(&b);
		return rc;
	}
	/* Large: authenticate and hash everything first, then decode again for output. The
	 * segment is write-once, so the second pass reads the bytes the first pass checked. */
	if ((rc = vault_open_record(v, fd, segment_id, offset, size, NULL, NULL, info, err)) !=
		    VL_OK ||
	    (rc = vault_check_sha(info, want_sha256, segment_id, offset, err)) != VL_OK || !fn)
		return rc;
	return vault_open_record(v, fd, segment_id, offset, size, fn, arg, info, err);
}
