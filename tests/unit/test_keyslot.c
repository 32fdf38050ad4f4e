/* test_keyslot - archiver/keyslot.{c,h}: entries laid out as the header comment says (checked
 * against bytes read back with read(2) and BLAKE2b recomputed here), keys found again by
 * binary search and derived the same, a key bound to its location, destruction (idempotent,
 * leaving disposal's mark, counting records without a slot), a reopened file losing the
 * entries past the committed end and a torn tail, and damage found. */
#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fsutil.h"
#include "keyslot.h"
#include "unit.h"

#define SEG 7
#define NREC 100

static const uint8_t master[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};

static const uint8_t *
master_fn(void *arg, uint32_t id)
{
	return arg == NULL && id == 3 ? master : NULL; /* arg set: the keyring lacks it */
}

/* fill - NREC slots at offsets 64, 164, 264, ... under keyring key 3; keys[i] as made. */
static void
fill(const char *dir, uint8_t keys[NREC][32])
{
	struct keyslot_file *f;
	char err[VL_ERRLEN] = "";

	CU_ASSERT_FATAL(keyslot_open(&f, dir, SEG, UINT64_MAX, err) == VL_OK);
	for (int i = 0; i < NREC; i++) {
		uint32_t rid = 0;

		keyslot_add(f, master, 3, 64 + 100 * (uint64_t)i, keys[i], &rid);
		CU_ASSERT(rid == (KEYSLOT_ID_FLAG | 3));
		if (i == NREC / 2)
			CU_ASSERT(keyslot_sync(f, err) == VL_OK); /* two writes */
	}
	CU_ASSERT(keyslot_sync(f, err) == VL_OK);
	keyslot_close(f);
}

static int
open_slots(const char *dir)
{
	char path[1024];

	keyslot_path(path, sizeof(path), dir, SEG);
	return open(path, O_RDWR | O_CLOEXEC);
}

static void
test_layout_and_find(void)
{
	char dir[UNIT_TMP_MAX], err[VL_ERRLEN] = "";
	uint8_t keys[NREC][32], k[32], raw[KEYSLOT_LEN], sum[16];
	struct keyslot_entry e;
	struct stat st;
	int fd;

	unit_tmpdir_new(dir, "keyslot");
	fill(dir, keys);
	fd = open_slots(dir);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(fstat(fd, &st) == 0 && st.st_size == KEYSLOT_HEADER_LEN + NREC * KEYSLOT_LEN);
	/* Header and entry 5 byte by byte. */
	CU_ASSERT(pread(fd, raw, 16, 0) == 16 && memcmp(raw, "VLKSLOT1", 8) == 0 &&
		  get_u64le(raw + 8) == SEG);
	CU_ASSERT(pread(fd, raw, KEYSLOT_LEN, KEYSLOT_HEADER_LEN + 5 * KEYSLOT_LEN) == KEYSLOT_LEN);
	CU_ASSERT(get_u64le(raw) == 564 && get_u32le(raw + 8) == 1 && get_u32le(raw + 12) == 3);
	crypto_generichash(sum, 16, raw, 48, NULL, 0);
	CU_ASSERT(memcmp(sum, raw + 48, 16) == 0);
	for (int i = 0; i < NREC; i++) {
		CU_ASSERT_FATAL(keyslot_find(fd, SEG, 64 + 100 * (uint64_t)i, &e, err) == VL_OK);
		CU_ASSERT(e.state == KEYSLOT_LIVE && e.key_id == 3);
		keyslot_derive(master, SEG, &e, k);
		CU_ASSERT(memcmp(k, keys[i], 32) == 0);
		/* The key depends on the location: the same salt elsewhere derives another. */
		keyslot_derive(master, SEG + 1, &e, k);
		CU_ASSERT(memcmp(k, keys[i], 32) != 0);
	}
	CU_ASSERT(memcmp(keys[0], keys[1], 32) != 0);
	CU_ASSERT(keyslot_find(fd, SEG, 65, &e, err) == VL_ERR_NOTFOUND);
	CU_ASSERT(keyslot_find(fd, SEG, 0, &e, err) == VL_ERR_NOTFOUND);
	CU_ASSERT(keyslot_find(fd, SEG, 64 + 100 * NREC, &e, err) == VL_ERR_NOTFOUND);
	CU_ASSERT(keyslot_find(fd, SEG + 1, 64, &e, err) == VL_ERR_CORRUPT); /* another file */
	close(fd);
	CU_ASSERT(unit_tmpdir_free(dir) == 0);
}

static void
test_destroy(void)
{
	char dir[UNIT_TMP_MAX], err[VL_ERRLEN] = "";
	uint8_t keys[NREC][32];
	uint64_t offs[] = {164, 3064, 999999}, destroyed = 0, unkeyed = 0;
	struct keyslot_entry e;
	int fd;

	unit_tmpdir_new(dir, "keyslot");
	fill(dir, keys);
	CU_ASSERT(keyslot_destroy(dir, SEG, offs, 3, master_fn, NULL, &destroyed, &unkeyed, err) ==
		  VL_OK);
	CU_ASSERT(destroyed == 2 && unkeyed == 1);
	/* Idempotent: a second run destroys nothing more. */
	CU_ASSERT(keyslot_destroy(dir, SEG, offs, 2, master_fn, NULL, &destroyed, &unkeyed, err) ==
		  VL_OK);
	CU_ASSERT(destroyed == 2 && unkeyed == 1);
	fd = open_slots(dir);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(keyslot_find(fd, SEG, 164, &e, err) == VL_OK);
	CU_ASSERT(e.state == KEYSLOT_DESTROYED && keyslot_mark_ok(master, SEG, &e));
	CU_ASSERT(!keyslot_mark_ok(master, SEG + 1, &e));
	CU_ASSERT_FATAL(keyslot_find(fd, SEG, 264, &e, err) == VL_OK);
	CU_ASSERT(e.state == KEYSLOT_LIVE && !keyslot_mark_ok(master, SEG, &e));
	close(fd);
	/* A segment with no slot file: every record counts as without a key of its own. */
	CU_ASSERT(keyslot_destroy(dir, SEG + 5, offs, 3, master_fn, NULL, &destroyed, &unkeyed,
				  err) == VL_OK);
	CU_ASSERT(destroyed == 2 && unkeyed == 4);
	/* An entry under a key the keyring lacks cannot be destroyed with a mark. */
	uint64_t one = 464;
	CU_ASSERT(keyslot_destroy(dir, SEG, &one, 1, master_fn, (void *)1, &destroyed, &unkeyed,
				  err) == VL_ERR_NOKEY);
	CU_ASSERT(unit_tmpdir_free(dir) == 0);
}

static void
test_reopen_trims(void)
{
	char dir[UNIT_TMP_MAX], err[VL_ERRLEN] = "";
	uint8_t keys[NREC][32], k[32];
	struct keyslot_file *f;
	struct keyslot_entry e;
	struct stat st;
	uint32_t rid;
	int fd;

	unit_tmpdir_new(dir, "keyslot");
	fill(dir, keys);
	/* A torn tail: half an entry. */
	fd = open_slots(dir);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(pwrite(fd, "torn", 4, KEYSLOT_HEADER_LEN + NREC * KEYSLOT_LEN) == 4);
	close(fd);
	/* The committed end is offset 2064: records from there on never became durable. */
	CU_ASSERT_FATAL(keyslot_open(&f, dir, SEG, 2064, err) == VL_OK);
	keyslot_add(f, master, 3, 2064, k, &rid);
	CU_ASSERT(keyslot_sync(f, err) == VL_OK);
	keyslot_close(f);
	fd = open_slots(dir);
	CU_ASSERT(fstat(fd, &st) == 0 && st.st_size == KEYSLOT_HEADER_LEN + 21 * KEYSLOT_LEN);
	CU_ASSERT_FATAL(keyslot_find(fd, SEG, 2064, &e, err) == VL_OK);
	keyslot_derive(master, SEG, &e, keys[0]);
	CU_ASSERT(memcmp(k, keys[0], 32) == 0); /* the new key, not the cut one */
	CU_ASSERT(keyslot_find(fd, SEG, 1964, &e, err) == VL_OK);
	CU_ASSERT(keyslot_find(fd, SEG, 2164, &e, err) == VL_ERR_NOTFOUND);
	close(fd);
	CU_ASSERT(unit_tmpdir_free(dir) == 0);
}

static void
test_damage(void)
{
	char dir[UNIT_TMP_MAX], err[VL_ERRLEN] = "";
	uint8_t keys[NREC][32], b = 0;
	struct keyslot_file *f;
	struct keyslot_entry e;
	int fd;

	unit_tmpdir_new(dir, "keyslot");
	fill(dir, keys);
	fd = open_slots(dir);
	CU_ASSERT_FATAL(fd >= 0);
	/* A flipped byte in entry 10's salt: its checksum fails, it is not found. Its bits are
	 * inverted: the salt is random, so writing a fixed 0xff left it as it was 1 time in 256. */
	CU_ASSERT(pread(fd, &b, 1, KEYSLOT_HEADER_LEN + 10 * KEYSLOT_LEN + 20) == 1);
	b = (uint8_t)~b;
	CU_ASSERT(pwrite(fd, &b, 1, KEYSLOT_HEADER_LEN + 10 * KEYSLOT_LEN + 20) == 1);
	CU_ASSERT(keyslot_find(fd, SEG, 1064, &e, err) != VL_OK);
	CU_ASSERT(keyslot_find(fd, SEG, 64, &e, err) == VL_OK);
	/* A damaged header. */
	CU_ASSERT(pwrite(fd, "X", 1, 0) == 1);
	CU_ASSERT(keyslot_find(fd, SEG, 64, &e, err) == VL_ERR_CORRUPT);
	CU_ASSERT(keyslot_open(&f, dir, SEG, UINT64_MAX, err) == VL_ERR_CORRUPT);
	close(fd);
	CU_ASSERT(unit_tmpdir_free(dir) == 0);
}

UNIT_SUITE(keyslot, {"layout, find by binary search, keys derived again", test_layout_and_find},
	   {"destroy: mark, idempotent, unkeyed records counted", test_destroy},
	   {"reopen cuts entries past the committed end and a torn tail", test_reopen_trims},
	   {"damaged entry or header", test_damage});
