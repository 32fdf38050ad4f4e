/* test_segment - archiver/segment.{c,h}: the 64-byte header as archiver/FORMAT.md ("Segment")
 * lays it out, O_EXCL creation, buffered appends made durable by segment_sync, the running
 * SHA-256 against the file's own bytes (OpenSSL EVP over what is read back), reopening at the
 * committed end, and damage. Segment files may carry FS_APPEND_FL (when the process holds
 * CAP_LINUX_IMMUTABLE), so the scratch directory clears it before editing or removing them. */
#include <CUnit/CUnit.h>
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
#include "segment.h"
#include "unit.h"

#define CREATED 1700000000123456LL

/* ---- a scratch directory ---- */

struct tmp {
	char dir[UNIT_TMP_MAX];
};

/* writable - clear FS_APPEND_FL so the file can be edited in place. */
static void
writable(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		(void)fs_set_append_only(fd, 0);
		close(fd);
	}
}

static void
tmp_init(struct tmp *t)
{
	unit_tmpdir_new(t->dir, "segment");
}

static void
tmp_done(struct tmp *t)
{
	CU_ASSERT(unit_tmpdir_free(t->dir) == 0);
}

static void
seg_path(char *out, size_t cap, const struct tmp *t, uint64_t id)
{
	char name[32];

	segment_file_name(name, id);
	snprintf(out, cap, "%s/%s", t->dir, name);
}

/* ---- reading the file back ---- */

static off_t
file_size(const char *path)
{
	struct stat st;

	CU_ASSERT_FATAL(stat(path, &st) == 0);
	return st.st_size;
}

/* slurp - the whole file (caller frees the buf). */
static void
slurp(struct buf *out, const char *path)
{
	char err[VL_ERRLEN] = "";

	buf_reset(out);
	CU_ASSERT_FATAL(fs_read_all(out, path, 64u << 20, err) == VL_OK);
}

static void
sha256(uint8_t out[32], const void *p, size_t n)
{
	CU_ASSERT_FATAL(EVP_Digest(p, n, out, NULL, EVP_sha256(), NULL) == 1);
}

/* file_sha256 - SHA-256 of every byte of the file as it is on disk now. */
static void
file_sha256(uint8_t out[32], const char *path)
{
	struct buf b = {0};

	slurp(&b, path);
	sha256(out, b.data, b.len);
	buf_free(&b);
}

static void
pattern(uint8_t *p, size_t n, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

/* flip - xor one byte of a file in place (after clearing the append-only flag). */
static void
flip(const char *path, off_t at, uint8_t mask)
{
	uint8_t b;
	int fd;

	writable(path);
	fd = open(path, O_RDWR | O_CLOEXEC);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(pread(fd, &b, 1, at) == 1);
	b ^= mask;
	CU_ASSERT_FATAL(pwrite(fd, &b, 1, at) == 1);
	CU_ASSERT_FATAL(close(fd) == 0);
}

/* ---- names and the header ---- */

static void
test_file_name(void)
{
	static const struct {
		uint64_t id;
		const char *want;
	} cases[] = {
	    {0, "0000000000.vls"},
	    {1, "0000000001.vls"},
	    {42, "0000000042.vls"},
	    {9999999999ULL, "9999999999.vls"},
	    {10000000000ULL, "10000000000.vls"},
	    {UINT64_MAX, "18446744073709551615.vls"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[32];

		memset(name, 'Z', sizeof(name));
		segment_file_name(name, cases[i].id);
		CHECK(strcmp(name, cases[i].want) == 0, cases[i].want);
	}
}

/* The header bytes, field by field from FORMAT.md, and segment_read_header parsing them back. */
static void
test_create_header(void)
{
	static const struct {
		const char *label;
		uint64_t id;
		uint32_t bucket;
		int64_t created;
	} cases[] = {
	    {"first", 1, 0, CREATED},
	    {"bucket and byte order", 0x0102030405060708ULL, 0x0a0b0c0dU, 0x1112131415161718LL},
	    {"negative created", 7, 202612, -1},
	    {"id 0", 0, 0, 0},
	    {"big id", UINT64_MAX - 1, UINT32_MAX, INT64_MIN},
	};
	struct tmp t;

	tmp_init(&t);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *L = cases[i].label;
		struct segment *s = NULL;
		struct segment_header h;
		char err[VL_ERRLEN] = "", path[1024];
		uint8_t want[SEGMENT_HEADER_LEN], sum[16], hash[32], fhash[32];
		struct buf b = {0};
		off_t size = -1;
		int fd = -1;

		CHECK(segment_create(&s, t.dir, cases[i].id, cases[i].bucket, cases[i].created,
				     err) == VL_OK,
		      L);
		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		CHECK(segment_id(s) == cases[i].id, L);
		CHECK(segment_end(s) == SEGMENT_HEADER_LEN, L);
		seg_path(path, sizeof(path), &t, cases[i].id);
		/* Durable on return: the header is in the file without a further sync. */
		CHECK(file_size(path) == SEGMENT_HEADER_LEN, L);

		/* FORMAT.md, field by field, little-endian. */
		memset(want, 0, sizeof(want));
		memcpy(want, "VLSEG1\n\0", 8);
		want[8] = 1;
		for (int k = 0; k < 4; k++)
			want[12 + k] = (uint8_t)(cases[i].bucket >> (8 * k));
		for (int k = 0; k < 8; k++) {
			want[16 + k] = (uint8_t)(cases[i].id >> (8 * k));
			want[24 + k] = (uint8_t)((uint64_t)cases[i].created >> (8 * k));
		}
		crypto_generichash(sum, sizeof(sum), want, 48, NULL, 0);
		memcpy(want + 48, sum, 16);
		slurp(&b, path);
		CHECK(b.len == SEGMENT_HEADER_LEN && memcmp(b.data, want, sizeof(want)) == 0, L);

		/* The running hash already covers the header. */
		segment_hash_now(s, hash);
		sha256(fhash, want, sizeof(want));
		CHECK(memcmp(hash, fhash, 32) == 0, L);
		segment_close(s);

		memset(&h, 0x5a, sizeof(h));
		CHECK(segment_read_header(path, &h, &fd, &size, err) == VL_OK, L);
		CHECK(h.version == 1 && h.bucket == cases[i].bucket, L);
		CHECK(h.id == cases[i].id && h.created_us == cases[i].created, L);
		CHECK(size == SEGMENT_HEADER_LEN && fd >= 0, L);
		if (fd >= 0)
			close(fd);
		buf_free(&b);
	}
	tmp_done(&t);
}

static void
test_create_excl(void)
{
	struct tmp t;
	struct segment *s = NULL, *again = (struct segment *)&t;
	char err[VL_ERRLEN] = "", path[1024];
	uint8_t before[32], after[32];
	struct segment_header h;
	off_t size;
	int fd;

	tmp_init(&t);
	CU_ASSERT_EQUAL_FATAL(segment_create(&s, t.dir, 5, 0, CREATED, err), VL_OK);
	CU_ASSERT_EQUAL_FATAL(segment_append(s, "record", 6), VL_OK);
	CU_ASSERT_EQUAL_FATAL(segment_sync(s, err), VL_OK);
	seg_path(path, sizeof(path), &t, 5);
	file_sha256(before, path);

	/* Same id, other header values: refused, and the existing segment is left as it was. */
	CU_ASSERT_NOT_EQUAL(segment_create(&again, t.dir, 5, 3, CREATED + 1, err), VL_OK);
	CU_ASSERT_PTR_NULL(again);
	CU_ASSERT(err[0] != 0);
	file_sha256(after, path);
	CU_ASSERT(memcmp(before, after, 32) == 0);
	CU_ASSERT_EQUAL(file_size(path), SEGMENT_HEADER_LEN + 6);
	CU_ASSERT_EQUAL_FATAL(segment_read_header(path, &h, &fd, &size, err), VL_OK);
	CU_ASSERT(h.bucket == 0 && h.created_us == CREATED);
	close(fd);

	/* The first handle still works. */
	CU_ASSERT_EQUAL(segment_append(s, "more", 4), VL_OK);
	CU_ASSERT_EQUAL(segment_sync(s, err), VL_OK);
	CU_ASSERT_EQUAL(file_size(path), SEGMENT_HEADER_LEN + 10);
	segment_close(s);

	/* A missing directory is an error, not a crash. */
	{
		char nodir[1100];

		snprintf(nodir, sizeof(nodir), "%s/missing", t.dir);
		again = (struct segment *)&t;
		CU_ASSERT_NOT_EQUAL(segment_create(&again, nodir, 1, 0, CREATED, err), VL_OK);
		CU_ASSERT_PTR_NULL(again);
	}
	tmp_done(&t);
}

/* ---- appends, sync, the running hash ---- */

static void
test_append_sync(void)
{
	static const size_t sizes[] = {1, 0, 108, 4093, 65536, 17, 200000, 3};
	struct tmp t;
	struct segment *s = NULL;
	char err[VL_ERRLEN] = "", path[1024];
	uint8_t h1[32], h2[32], fh[32];
	struct buf all = {0}, disk = {0};
	uint8_t *chunk = xmalloc(200000);

	tmp_init(&t);
	CU_ASSERT_EQUAL_FATAL(segment_create(&s, t.dir, 9, 0, CREATED, err), VL_OK);
	seg_path(path, sizeof(path), &t, 9);
	slurp(&all, path); /* the header */

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char label[64];

		snprintf(label, sizeof(label), "append %zu: %zu bytes", i, sizes[i]);
		pattern(chunk, sizes[i], (uint32_t)i);
		CHECK((i % 2 ? segment_append_fn(s, chunk, sizes[i])
			     : segment_append(s, chunk, sizes[i])) == VL_OK,
		      label);
		buf_append(&all, chunk, sizes[i]);
		CHECK(segment_end(s) == all.len, label);
		/* The running hash covers appended bytes before they reach the file. */
		segment_hash_now(s, h1);
		segment_hash_now(s, h2); /* not reset by reading it */
		sha256(fh, all.data, all.len);
		CHECK(memcmp(h1, fh, 32) == 0 && memcmp(h2, fh, 32) == 0, label);
	}
	/* Buffered: less than SEGMENT_WBUF pending, nothing written yet. */
	CU_ASSERT(all.len - SEGMENT_HEADER_LEN < SEGMENT_WBUF);
	CU_ASSERT_EQUAL(file_size(path), SEGMENT_HEADER_LEN);

	CU_ASSERT_EQUAL_FATAL(segment_sync(s, err), VL_OK);
	CU_ASSERT_EQUAL((uint64_t)file_size(path), segment_end(s));
	slurp(&disk, path);
	CU_ASSERT(disk.len == all.len && memcmp(disk.data, all.data, all.len) == 0);
	segment_hash_now(s, h1);
	file_sha256(fh, path);
	CU_ASSERT(memcmp(h1, fh, 32) == 0);

	/* A second sync with nothing pending changes nothing. */
	CU_ASSERT_EQUAL(segment_sync(s, err), VL_OK);
	CU_ASSERT_EQUAL((uint64_t)file_size(path), segment_end(s));
	segment_close(s);

	buf_free(&all);
	buf_free(&disk);
	free(chunk);
	tmp_done(&t);
}

/* Appends larger than the write buffer, and appends that straddle its edge. */
static void
test_append_large(void)
{
	static const size_t sizes[] = {
	    SEGMENT_WBUF - SEGMENT_HEADER_LEN - 1,
	    2,
	    SEGMENT_WBUF,
	    3 * SEGMENT_WBUF + 12345,
	    1,
	    SEGMENT_WBUF - 1,
	};
	struct tmp t;
	struct segment *s = NULL;
	char err[VL_ERRLEN] = "", path[1024];
	struct buf all = {0}, disk = {0};
	uint8_t h[32], fh[32];
	uint8_t *chunk = xmalloc(4 * SEGMENT_WBUF);

	tmp_init(&t);
	CU_ASSERT_EQUAL_FATAL(segment_create(&s, t.dir, 11, 0, CREATED, err), VL_OK);
	seg_path(path, sizeof(path), &t, 11);
	slurp(&all, path);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char label[64];
		off_t on_disk;

		snprintf(label, sizeof(label), "append %zu: %zu bytes", i, sizes[i]);
		pattern(chunk, sizes[i], 100 + (uint32_t)i);
		CHECK(segment_append(s, chunk, sizes[i]) == VL_OK, label);
		buf_append(&all, chunk, sizes[i]);
		CHECK(segment_end(s) == all.len, label);
		/* At most one buffer's worth is ever pending; what is on disk is a prefix. */
		on_disk = file_size(path);
		CHECK(all.len - (uint64_t)on_disk <= SEGMENT_WBUF, label);
		slurp(&disk, path);
		CHECK(memcmp(disk.data, all.data, disk.len) == 0, label);
	}
	CU_ASSERT_EQUAL_FATAL(segment_sync(s, err), VL_OK);
	slurp(&disk, path);
	CU_ASSERT_EQUAL(disk.len, all.len);
	CU_ASSERT(disk.len == all.len && memcmp(disk.data, all.data, all.len) == 0);
	CU_ASSERT_EQUAL(segment_end(s), all.len);
	segment_hash_now(s, h);
	sha256(fh, disk.data, disk.len);
	CU_ASSERT(memcmp(h, fh, 32) == 0);
	segment_close(s);
	buf_free(&all);
	buf_free(&disk);
	free(chunk);
	tmp_done(&t);
}

/* ---- reopen ---- */

static void
test_reopen(void)
{
	struct tmp t;
	struct segment *s = NULL;
	char err[VL_ERRLEN] = "", path[1024];
	uint8_t h[32], fh[32], before[32];
	uint8_t *chunk = xmalloc(SEGMENT_WBUF + 777);
	struct buf all = {0}, disk = {0};
	uint64_t end;

	tmp_init(&t);
	CU_ASSERT_EQUAL_FATAL(segment_create(&s, t.dir, 3, 2, CREATED, err), VL_OK);
	seg_path(path, sizeof(path), &t, 3);
	pattern(chunk, 5000, 1);
	CU_ASSERT_EQUAL_FATAL(segment_append(s, chunk, 5000), VL_OK);
	CU_ASSERT_EQUAL_FATAL(segment_sync(s, err), VL_OK);
	end = segment_end(s);
	segment_hash_now(s, before);
	segment_close(s);

	/* The right end: continues there with the hash recomputed from the file. */
	s = NULL;
	CU_ASSERT_EQUAL_FATAL(segment_reopen(&s, t.dir, 3, end, err), VL_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(segment_id(s), 3);
	CU_ASSERT_EQUAL(segment_end(s), end);
	segment_hash_now(s, h);
	file_sha256(fh, path);
	CU_ASSERT(memcmp(h, fh, 32) == 0);
	CU_ASSERT(memcmp(h, before, 32) == 0);

	/* More appends, one larger than the write buffer: still the file's SHA-256. */
	pattern(chunk, SEGMENT_WBUF + 777, 2);
	CU_ASSERT_EQUAL(segment_append(s, chunk, 100), VL_OK);
	CU_ASSERT_EQUAL(segment_append(s, chunk + 100, SEGMENT_WBUF + 677), VL_OK);
	CU_ASSERT_EQUAL_FATAL(segment_sync(s, err), VL_OK);
	CU_ASSERT_EQUAL(segment_end(s), end + SEGMENT_WBUF + 777);
	CU_ASSERT_EQUAL((uint64_t)file_size(path), segment_end(s));
	segment_hash_now(s, h);
	file_sha256(fh, path);
	CU_ASSERT(memcmp(h, fh, 32) == 0);
	/* The earlier bytes were not touched: appended after, never over. */
	slurp(&disk, path);
	pattern(chunk, 5000, 1);
	CU_ASSERT(memcmp(disk.data + SEGMENT_HEADER_LEN, chunk, 5000) == 0);
	pattern(chunk, SEGMENT_WBUF + 777, 2);
	CU_ASSERT(memcmp(disk.data + end, chunk, SEGMENT_WBUF + 777) == 0);
	end = segment_end(s);
	segment_close(s);

	/* Reopened again after the big append (a file longer than SEGMENT_WBUF to hash). */
	s = NULL;
	CU_ASSERT_EQUAL_FATAL(segment_reopen(&s, t.dir, 3, end, err), VL_OK);
	segment_hash_now(s, h);
	CU_ASSERT(memcmp(h, fh, 32) == 0);
	CU_ASSERT_EQUAL(segment_append(s, "z", 1), VL_OK);
	CU_ASSERT_EQUAL_FATAL(segment_sync(s, err), VL_OK);
	segment_hash_now(s, h);
	file_sha256(fh, path);
	CU_ASSERT(memcmp(h, fh, 32) == 0);
	segment_close(s);

	/* The header is still intact and unchanged. */
	{
		struct segment_header hd;
		off_t size;
		int fd;

		CU_ASSERT_EQUAL_FATAL(segment_read_header(path, &hd, &fd, &size, err), VL_OK);
		CU_ASSERT(hd.id == 3 && hd.bucket == 2 && hd.created_us == CREATED);
		CU_ASSERT_EQUAL((uint64_t)size, end + 1);
		close(fd);
	}
	buf_free(&all);
	buf_free(&disk);
	free(chunk);
	tmp_done(&t);
}

static void
test_reopen_wrong_end(void)
{
	struct tmp t;
	struct segment *s = NULL;
	char err[VL_ERRLEN] = "", path[1024];
	uint8_t before[32], after[32];
	uint64_t end;
	const struct {
		const char *label;
		int64_t delta;
	} cases[] = {
	    {"one short", -1}, {"one long", 1}, {"header only", 0}, {"zero", 0}, {"far", 1 << 20},
	};

	tmp_init(&t);
	CU_ASSERT_EQUAL_FATAL(segment_create(&s, t.dir, 4, 0, CREATED, err), VL_OK);
	CU_ASSERT_EQUAL_FATAL(segment_append(s, "0123456789", 10), VL_OK);
	CU_ASSERT_EQUAL_FATAL(segment_sync(s, err), VL_OK);
	end = segment_end(s);
	segment_close(s);
	seg_path(path, sizeof(path), &t, 4);
	file_sha256(before, path);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t want_end = (uint64_t)((int64_t)end + cases[i].delta);

		if (i == 2)
			want_end = SEGMENT_HEADER_LEN;
		if (i == 3)
			want_end = 0;
		s = (struct segment *)&t;
		CHECK(segment_reopen(&s, t.dir, 4, want_end, err) == VL_ERR_CORRUPT,
		      cases[i].label);
		CHECK(s == NULL, cases[i].label);
	}
	/* Refusing changed nothing. */
	file_sha256(after, path);
	CU_ASSERT(memcmp(before, after, 32) == 0);
	CU_ASSERT_EQUAL((uint64_t)file_size(path), end);

	/* A segment that does not exist is not CORRUPT: there is nothing to judge. */
	s = (struct segment *)&t;
	{
		enum vl_err rc = segment_reopen(&s, t.dir, 99, 64, err);

		CU_ASSERT(rc != VL_OK && rc != VL_ERR_CORRUPT);
	}
	CU_ASSERT_PTR_NULL(s);
	tmp_done(&t);
}

/* ---- segment_read_header on damage ---- */

static void
test_read_header_damage(void)
{
	struct tmp t;
	struct segment *s = NULL;
	struct segment_header h;
	char err[VL_ERRLEN] = "", path[1024];
	off_t size;
	int fd;

	tmp_init(&t);
	CU_ASSERT_EQUAL_FATAL(segment_create(&s, t.dir, 8, 1, CREATED, err), VL_OK);
	CU_ASSERT_EQUAL_FATAL(segment_append(s, "payload", 7), VL_OK);
	CU_ASSERT_EQUAL_FATAL(segment_sync(s, err), VL_OK);
	segment_close(s);
	seg_path(path, sizeof(path), &t, 8);

	/* Every bit 0 and bit 7 of every header byte: magic, fields, reserved and checksum. */
	for (int at = 0; at < SEGMENT_HEADER_LEN; at++)
		for (int bit = 0; bit < 8; bit += 7) {
			char label[48];

			snprintf(label, sizeof(label), "byte %d bit %d", at, bit);
			flip(path, at, (uint8_t)(1u << bit));
			fd = 12345;
			CHECK(segment_read_header(path, &h, &fd, &size, err) == VL_ERR_CORRUPT,
			      label);
			CHECK(fd == -1, label);
			flip(path, at, (uint8_t)(1u << bit));
		}
	/* Restored: reads again. Damage past the header is not the header's business. */
	flip(path, SEGMENT_HEADER_LEN + 3, 0xff);
	CU_ASSERT_EQUAL_FATAL(segment_read_header(path, &h, &fd, &size, err), VL_OK);
	CU_ASSERT(h.id == 8 && h.bucket == 1 && size == SEGMENT_HEADER_LEN + 7);
	close(fd);

	/* A file shorter than a header. */
	{
		writable(path);
		CU_ASSERT_FATAL(truncate(path, SEGMENT_HEADER_LEN - 1) == 0);
		fd = 12345;
		CU_ASSERT_EQUAL(segment_read_header(path, &h, &fd, &size, err), VL_ERR_CORRUPT);
		CU_ASSERT_EQUAL(fd, -1);
		CU_ASSERT_FATAL(truncate(path, 0) == 0);
		CU_ASSERT_EQUAL(segment_read_header(path, &h, &fd, &size, err), VL_ERR_CORRUPT);
	}
	/* No file at all. */
	{
		char missing[1100];

		snprintf(missing, sizeof(missing), "%s/0000000077.vls", t.dir);
		fd = 12345;
		CU_ASSERT_EQUAL(segment_read_header(missing, &h, &fd, &size, err), VL_ERR_NOTFOUND);
		CU_ASSERT_EQUAL(fd, -1);
	}
	tmp_done(&t);
}

/* A header with a good checksum over the wrong magic is still refused. */
static void
test_read_header_forged_magic(void)
{
	struct tmp t;
	struct segment_header h;
	char path[1024], err[VL_ERRLEN] = "";
	uint8_t hdr[SEGMENT_HEADER_LEN] = {0};
	off_t size;
	int fd;

	tmp_init(&t);
	snprintf(path, sizeof(path), "%s/0000000001.vls", t.dir);
	memcpy(hdr, "VLSEG2\n\0", 8);
	hdr[8] = 1;
	crypto_generichash(hdr + 48, 16, hdr, 48, NULL, 0);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(fs_write_full(fd, hdr, sizeof(hdr)) == VL_OK);
	close(fd);
	CU_ASSERT_EQUAL(segment_read_header(path, &h, &fd, &size, err), VL_ERR_CORRUPT);
	tmp_done(&t);
}

UNIT_SUITE(segment, {"file name: ten digits", test_file_name},
	   {"create: header bytes per FORMAT.md, read back", test_create_header},
	   {"create: O_EXCL refuses an existing id", test_create_excl},
	   {"append + sync: durable bytes, end, running SHA-256", test_append_sync},
	   {"append: larger than SEGMENT_WBUF and across its edge", test_append_large},
	   {"reopen at the committed end: continues, hash still the file's", test_reopen},
	   {"reopen at a wrong end -> VL_ERR_CORRUPT", test_reopen_wrong_end},
	   {"read_header: damaged or short -> VL_ERR_CORRUPT", test_read_header_damage},
	   {"read_header: checksummed wrong magic -> VL_ERR_CORRUPT",
	    test_read_header_forged_magic});
