/* test_ole2 - archiver/ole2.{c,h}: a password-protected PowerPoint 97-2003 file told by its
 * directory, on compound files built here ([MS-CFB]: header, FAT, directory sectors; no
 * stream data: none is read), since nothing on this machine writes an encrypted .ppt: the
 * EncryptedSummary stream in the root (with 512- and 4096-byte sectors, a directory over two
 * sectors, a FAT sector reached through the DIFAT), and not when it is missing, below the
 * root, only in a stream's bytes, or the directory is damaged (loops, every prefix); then
 * legacy_text's verdict on such a .ppt, before any child. */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <string.h>
#include <sys/wait.h>

#include "buf.h"
#include "legacy_text.h"
#include "ole2.h"
#include "unit.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define NOSTREAM 0xFFFFFFFFu
#define ENDOFCHAIN 0xFFFFFFFEu
#define FATSECT 0xFFFFFFFDu
#define FAR_FAT 109 /* the first FAT sector not named in the header: through the DIFAT */

/* One directory entry to build: its name, object type (1 storage, 2 stream, 5 root) and
 * the ids of its left and right siblings and its child (NOSTREAM: none). */
struct ent {
	const char *name;
	uint8_t type;
	uint32_t left, right, child;
};

static void
put_entry(uint8_t *p, const struct ent *e)
{
	size_t n = strlen(e->name);

	for (size_t i = 0; i < n; i++)
		p[2 * i] = (uint8_t)e->name[i];
	p[0x40] = (uint8_t)(2 * (n + 1));
	p[0x42] = e->type;
	p[0x43] = 1; /* black */
	put_u32le(p + 0x44, e->left);
	put_u32le(p + 0x48, e->right);
	put_u32le(p + 0x4C, e->child);
	put_u32le(p + 0x74, ENDOFCHAIN);
}

/* cfb_build - into b, a compound file of 1 << shift byte sectors whose directory holds the n
 * entries e (in as many sectors as they need, chained in the FAT). Near: the FAT is sector 0,
 * the directory from sector 1. Far: the directory starts at the first sector the FAT sector
 * FAR_FAT maps, which the header does not name: DIFAT sector 1 names it, sector 2. */
static void
cfb_build(struct buf *b, unsigned shift, int far, const struct ent *e, size_t n)
{
	size_t ss = (size_t)1 << shift, per_fat = ss / 4, per_dir = ss / 128;
	size_t ndir = (n + per_dir - 1) / per_dir;
	uint32_t dir0 = far ? (uint32_t)(FAR_FAT * per_fat) : 1, fat = far ? 2 : 0;
	uint8_t *p, *f;

	buf_reset(b);
	buf_reserve(b, (dir0 + ndir + 1) * ss);
	b->len = (dir0 + ndir + 1) * ss;
	p = b->data;
	memset(p, 0, b->len + 1); /* and the NUL past len */
	memcpy(p, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8);
	p[0x18] = 0x3E;
	p[0x1A] = shift == 9 ? 3 : 4;
	p[0x1C] = 0xFE;
	p[0x1D] = 0xFF;
	p[0x1E] = (uint8_t)shift;
	p[0x20] = 6;
	put_u32le(p + 0x2C, 1);
	put_u32le(p + 0x30, dir0);
	put_u32le(p + 0x38, 4096);
	put_u32le(p + 0x3C, ENDOFCHAIN);
	put_u32le(p + 0x44, far ? 1 : ENDOFCHAIN);
	put_u32le(p + 0x48, far ? 1 : 0);
	for (size_t k = 0; k < FAR_FAT; k++)
		put_u32le(p + 0x4C + 4 * k, !far && k == 0 ? 0 : NOSTREAM);
	if (far) {
		memset(p + 2 * ss, 0xFF, ss); /* DIFAT sector 1: FAT sector FAR_FAT is sector 2 */
		put_u32le(p + 2 * ss, fat);
		put_u32le(p + 3 * ss - 4, ENDOFCHAIN);
	}
	f = p + (fat + 1) * ss;
	memset(f, 0xFF, ss);
	if (!far)
		put_u32le(f, FATSECT);
	for (size_t i = 0; i < ndir; i++)
		put_u32le(f + 4 * ((dir0 + i) % per_fat),
			  i + 1 < ndir ? dir0 + (uint32_t)i + 1 : ENDOFCHAIN);
	for (size_t i = 0; i < n; i++)
		put_entry(p + (dir0 + i / per_dir + 1) * ss + 128 * (i % per_dir), &e[i]);
}

/* A .ppt's root: a right-leaning list of three streams; in an encrypted one the middle one
 * is EncryptedSummary (spelled as PowerPoint does: the walk compares without case). */
static const struct ent ppt_locked[] = {
	{"Root Entry", 5, NOSTREAM, NOSTREAM, 1},
	{"PowerPoint Document", 2, NOSTREAM, 2, NOSTREAM},
	{"EncryptedSummary", 2, NOSTREAM, 3, NOSTREAM},
	{"Current User", 2, NOSTREAM, NOSTREAM, NOSTREAM},
};
static const struct ent ppt_plain[] = {
	{"Root Entry", 5, NOSTREAM, NOSTREAM, 1},
	{"PowerPoint Document", 2, NOSTREAM, 2, NOSTREAM},
	{"\005SummaryInformation", 2, NOSTREAM, 3, NOSTREAM},
	{"Current User", 2, NOSTREAM, NOSTREAM, NOSTREAM},
};

/* The root's tree balanced, over two directory sectors (512-byte sectors hold four), the
 * name in another case; then EncryptedSummary only inside a storage below the root. */
static const struct ent ppt_two_sectors[] = {
	{"Root Entry", 5, NOSTREAM, NOSTREAM, 3},
	{"Current User", 2, NOSTREAM, NOSTREAM, NOSTREAM},
	{"Pictures", 2, NOSTREAM, NOSTREAM, NOSTREAM},
	{"PowerPoint Document", 2, 1, 5, NOSTREAM},
	{"\005DocumentSummaryInformation", 2, NOSTREAM, NOSTREAM, NOSTREAM},
	{"ENCRYPTEDSUMMARY", 2, 4, 2, NOSTREAM},
};
static const struct ent ppt_below_root[] = {
	{"Root Entry", 5, NOSTREAM, NOSTREAM, 1},
	{"PowerPoint Document", 2, NOSTREAM, 2, NOSTREAM},
	{"ObjectPool", 1, NOSTREAM, NOSTREAM, 3},
	{"EncryptedSummary", 2, NOSTREAM, NOSTREAM, NOSTREAM},
};

static void
test_encrypted(void)
{
	struct buf b = {0};

	cfb_build(&b, 9, 0, ppt_locked, NELEM(ppt_locked));
	CHECK(ole2_ppt_encrypted(b.data, b.len), "EncryptedSummary in the root");
	cfb_build(&b, 12, 0, ppt_locked, NELEM(ppt_locked));
	CHECK(ole2_ppt_encrypted(b.data, b.len), "4096-byte sectors");
	cfb_build(&b, 9, 0, ppt_two_sectors, NELEM(ppt_two_sectors));
	CHECK(ole2_ppt_encrypted(b.data, b.len), "a balanced tree over two directory sectors");
	cfb_build(&b, 9, 1, ppt_locked, NELEM(ppt_locked));
	CHECK(ole2_ppt_encrypted(b.data, b.len), "the FAT sector through the DIFAT");
	buf_free(&b);
}

static void
test_not_encrypted(void)
{
	static const char name16[] = "E\0n\0c\0r\0y\0p\0t\0e\0d\0S\0u\0m\0m\0a\0r\0y\0";
	struct buf b = {0};

	cfb_build(&b, 9, 0, ppt_plain, NELEM(ppt_plain));
	CHECK(!ole2_ppt_encrypted(b.data, b.len), "a plain .ppt");
	buf_append(&b, name16, sizeof(name16) - 1); /* as a slide's UTF-16 text would hold it */
	CHECK(!ole2_ppt_encrypted(b.data, b.len), "the name in a stream's bytes only");
	cfb_build(&b, 9, 0, ppt_below_root, NELEM(ppt_below_root));
	CHECK(!ole2_ppt_encrypted(b.data, b.len), "EncryptedSummary below the root");
	cfb_build(&b, 9, 0, ppt_locked + 1, 3); /* no root entry: the list is the root's child */
	CHECK(!ole2_ppt_encrypted(b.data, b.len), "no PowerPoint Document in the root");
	CHECK(!ole2_ppt_encrypted(NULL, 0) && !ole2_ppt_encrypted((const uint8_t *)"PK", 2),
	      "no compound file");
	buf_free(&b);
}

/* Damage ends the walk with no verdict and no read out of bounds: every prefix of an
 * encrypted file, a directory chain that loops in the FAT, a tree that loops, a sector size
 * [MS-CFB] does not have. */
static void
test_damaged(void)
{
	struct ent loop[NELEM(ppt_plain)];
	struct buf b = {0};
	int said = 0;

	cfb_build(&b, 9, 0, ppt_locked, NELEM(ppt_locked));
	for (size_t n = 0; n < b.len; n++)
		said += ole2_ppt_encrypted(b.data, n);
	CHECK(said == 0, "every prefix: not told");
	put_u32le(b.data + 512 + 4, 1); /* the FAT: directory sector 1 is followed by itself */
	CHECK(!ole2_ppt_encrypted(b.data, b.len), "a directory chain that loops");
	memcpy(loop, ppt_plain, sizeof(loop));
	loop[3].right = 1; /* Current User's sibling is PowerPoint Document again */
	loop[1].left = 3;
	cfb_build(&b, 9, 0, loop, NELEM(loop));
	CHECK(!ole2_ppt_encrypted(b.data, b.len), "a tree that loops");
	cfb_build(&b, 9, 0, ppt_locked, NELEM(ppt_locked));
	b.data[0x1E] = 10;
	CHECK(!ole2_ppt_encrypted(b.data, b.len), "a sector size of 1024");
	buf_free(&b);
}

/* legacy_text: an encrypted .ppt is VL_ERR_CRYPTO before any child (the program named is
 * missing: had it been run, CONFIG); a plain one goes on to the program; the same encrypted
 * file as a .doc is catdoc's to judge. */
static void
test_legacy_verdict(void)
{
	static const struct legacy_limits missing = {"/nonexistent/catppt", LEGACY_WALL_MS,
						     LEGACY_CPU_S, LEGACY_AS_BYTES};
	struct buf b = {0}, out = {0};
	char err[VL_ERRLEN] = "";
	int truncated;

	cfb_build(&b, 9, 0, ppt_locked, NELEM(ppt_locked));
	CHECK(legacy_text_with(&missing, LEGACY_PPT, b.data, b.len, &out, 4096, &truncated,
			       err) == VL_ERR_CRYPTO &&
		      strstr(err, "EncryptedSummary") != NULL && out.len == 0,
	      err);
	CHECK(legacy_text_with(&missing, LEGACY_DOC, b.data, b.len, &out, 4096, &truncated,
			       err) == VL_ERR_CONFIG,
	      "as a .doc: not PowerPoint's stream to tell");
	cfb_build(&b, 9, 0, ppt_plain, NELEM(ppt_plain));
	CHECK(legacy_text_with(&missing, LEGACY_PPT, b.data, b.len, &out, 4096, &truncated,
			       err) == VL_ERR_CONFIG,
	      "a plain .ppt goes on to catppt");
	CHECK(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD, "no child left");
	buf_free(&b);
	buf_free(&out);
}

UNIT_SUITE(ole2, {"an encrypted .ppt: EncryptedSummary in the root", test_encrypted},
	   {"not encrypted: none, below the root, in bytes only", test_not_encrypted},
	   {"a damaged directory: no verdict, no crash", test_damaged},
	   {"legacy_text: an encrypted .ppt is CRYPTO, no child", test_legacy_verdict});
