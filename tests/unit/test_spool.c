/* test_spool - common/spool.{c,h}: bytes stay in memory up to mem_max and move, exactly, into
 * an unlinked scratch file past it; reset, the store_source view, and a directory that does
 * not exist. The file's bytes are read back with pread, as the archiver's store does. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "spool.h"
#include "unit.h"

/* spool_bytes - everything the spool holds, read the way a consumer would. */
static void
spool_bytes(const struct spool *s, struct buf *out)
{
	const uint8_t *mem;
	uint64_t len;
	int fd;

	buf_reset(out);
	spool_source(s, &mem, &fd, &len);
	if (mem) {
		buf_append(out, mem, (size_t)len);
		return;
	}
	buf_reserve(out, (size_t)len);
	for (uint64_t off = 0; off < len;) {
		ssize_t r = pread(fd, out->data + off, (size_t)(len - off), (off_t)off);

		if (r <= 0)
			break;
		off += (uint64_t)r;
		out->len = (size_t)off;
	}
}

static void
test_in_memory_up_to_bound(void)
{
	struct spool *s = spool_new(NULL, 16);
	struct buf b = {0};

	CHECK(spool_len(s) == 0 && spool_mem(s) != NULL && spool_fd(s) == -1, "empty");
	CHECK(spool_append(s, "0123456789", 10) == VL_OK, "append 10");
	CHECK(spool_append(s, "abcdef", 6) == VL_OK, "append 6: exactly mem_max");
	CHECK(spool_len(s) == 16, "len 16");
	CHECK(spool_fd(s) == -1 && spool_mem(s) != NULL, "still in memory at mem_max");
	CHECK(memcmp(spool_mem(s), "0123456789abcdef", 16) == 0, "memory bytes");
	CHECK(spool_append(s, "", 0) == VL_OK && spool_len(s) == 16, "empty append");
	spool_bytes(s, &b);
	CHECK(b.len == 16 && memcmp(b.data, "0123456789abcdef", 16) == 0, "source view");
	buf_free(&b);
	spool_free(s);
}

static void
test_spill_exact_bytes(void)
{
	struct spool *s = spool_new("/tmp", 16);
	struct buf b = {0};
	const uint8_t *mem;
	struct stat st;
	uint64_t len;
	int fd;

	CHECK(spool_append(s, "0123456789", 10) == VL_OK, "append 10");
	CHECK(spool_append(s, "a\0b\r\n.\n", 7) == VL_OK, "append 7 passes mem_max");
	CHECK(spool_len(s) == 17, "len 17");
	CHECK(spool_mem(s) == NULL && spool_fd(s) >= 0, "on disk");
	spool_source(s, &mem, &fd, &len);
	CHECK(mem == NULL && fd == spool_fd(s) && len == 17, "source points at the file");
	CHECK(fstat(fd, &st) == 0 && st.st_nlink == 0, "the file has no name");
	CHECK(st.st_size == 17, "file size");
	CHECK(spool_append(s, "XYZ", 3) == VL_OK, "append after spill");
	spool_bytes(s, &b);
	CHECK(b.len == 20 && memcmp(b.data, "0123456789a\0b\r\n.\nXYZ", 20) == 0, "file bytes");
	buf_free(&b);
	spool_free(s);
}

static void
test_zero_mem_goes_to_disk(void)
{
	struct spool *s = spool_new("/tmp", 0);
	struct buf b = {0};

	CHECK(spool_fd(s) == -1, "no file before the first byte");
	CHECK(spool_append(s, "x", 1) == VL_OK, "append");
	CHECK(spool_fd(s) >= 0 && spool_mem(s) == NULL, "first byte on disk");
	spool_bytes(s, &b);
	CHECK(b.len == 1 && b.data[0] == 'x', "byte");
	buf_free(&b);
	spool_free(s);
}

static void
test_reset_returns_to_memory(void)
{
	struct spool *s = spool_new("/tmp", 8);
	struct buf b = {0};

	CHECK(spool_append(s, "123456789", 9) == VL_OK && spool_fd(s) >= 0, "spilled");
	spool_reset(s);
	CHECK(spool_len(s) == 0 && spool_fd(s) == -1 && spool_mem(s) != NULL, "reset");
	CHECK(spool_append(s, "abc", 3) == VL_OK, "append after reset");
	CHECK(spool_fd(s) == -1, "small again: in memory");
	spool_bytes(s, &b);
	CHECK(b.len == 3 && memcmp(b.data, "abc", 3) == 0, "only the new bytes");
	buf_free(&b);
	spool_free(s);
}

/* A megabyte of every byte value, appended in uneven pieces across the spill point. */
static void
test_large_uneven_appends(void)
{
	size_t total = 1u << 20, off = 0, step = 1;
	uint8_t *want = malloc(total);
	struct spool *s = spool_new("/tmp", 65536);
	struct buf b = {0};
	int ok = 1;

	for (size_t i = 0; i < total; i++)
		want[i] = (uint8_t)(i * 131 + (i >> 9));
	while (off < total) {
		size_t n = step < total - off ? step : total - off;

		ok &= spool_append(s, want + off, n) == VL_OK;
		off += n;
		step = step * 7 % 9973 + 1;
	}
	CHECK(ok, "every append");
	CHECK(spool_len(s) == total && spool_fd(s) >= 0, "spilled, full length");
	spool_bytes(s, &b);
	CHECK(b.len == total && memcmp(b.data, want, total) == 0, "bytes identical");
	buf_free(&b);
	spool_free(s);
	free(want);
}

static void
test_missing_dir_fails(void)
{
	struct spool *s = spool_new("/nonexistent-vellum-dir/spool", 4);

	CHECK(spool_append(s, "abc", 3) == VL_OK, "in memory: no file needed");
	CHECK(spool_append(s, "defg", 4) == VL_ERR_IO, "spill into a missing dir: VL_ERR_IO");
	spool_reset(s);
	CHECK(spool_len(s) == 0 && spool_append(s, "ab", 2) == VL_OK, "usable after reset");
	spool_free(s);
	spool_free(NULL);
}

UNIT_SUITE(spool, {"in memory up to mem_max", test_in_memory_up_to_bound},
	   {"spill keeps exact bytes in an unlinked file", test_spill_exact_bytes},
	   {"mem_max 0 goes straight to disk", test_zero_mem_goes_to_disk},
	   {"reset returns to memory", test_reset_returns_to_memory},
	   {"1 MiB in uneven appends", test_large_uneven_appends},
	   {"missing directory fails with VL_ERR_IO", test_missing_dir_fails})
