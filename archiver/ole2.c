/* ole2 - telling an OLE2 compound file, a password-protected OOXML package and a
 * password-protected PowerPoint file; see ole2.h. */
#include <string.h>

#include "buf.h"
#include "ole2.h"

static const uint8_t ole2_magic[8] = {0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1};

int
ole2_is(const uint8_t *p, size_t len)
{
	return p != NULL && len >= sizeof(ole2_magic) && memcmp(p, ole2_magic, sizeof(ole2_magic)) == 0;
}

/* utf16_has - whether p holds s (ASCII, at most 32 bytes) in UTF-16LE. */
static int
utf16_has(const uint8_t *p, size_t len, const char *s)
{
	uint8_t w[64];
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++) {
		w[2 * i] = (uint8_t)s[i];
		w[2 * i + 1] = 0;
	}
	return memmem(p, len, w, 2 * n) != NULL;
}

int
ole2_encrypted_package(const uint8_t *p, size_t len)
{
	return utf16_has(p, len, "EncryptionInfo") && utf16_has(p, len, "EncryptedPackage");
}

/* ---- the directory ([MS-CFB]) ---- */

#define CFB_HEADER_LEN 512
#define CFB_DIFAT_HEAD 109	     /* FAT sector numbers in the header, at 0x4C */
#define CFB_ENTRY_LEN 128	     /* bytes of a directory entry */
#define CFB_MAXREGSECT 0xFFFFFFFAu   /* the last regular sector number */
#define CFB_ENDOFCHAIN 0xFFFFFFFEu
#define CFB_NOSTREAM 0xFFFFFFFFu     /* no entry; also "none" from the helpers below */
#define CFB_TYPE_STREAM 2	     /* an entry's object type (byte 0x42) */

/* One compound file being read: its bytes, sector size and directory sectors in order. */
struct cfb {
	const uint8_t *p;
	size_t len;
	unsigned shift; /* the sector size is 1 << shift: 9 (version 3) or 12 (version 4) */
	uint32_t ndir;
	uint32_t dir[OLE2_DIR_SECTORS_MAX];
};

static unsigned
le16(const uint8_t *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

/* ascii_upper - c in upper case when it is an ASCII letter: not the locale's toupper. */
static int
ascii_upper(int c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

/* sector_at - the bytes of sector s (the one after the header is 0), or NULL when it is no
 * regular sector or not all inside the file. */
static const uint8_t *
sector_at(const struct cfb *c, uint32_t s)
{
	uint64_t off = ((uint64_t)s + 1) << c->shift;

	if (s > CFB_MAXREGSECT || off > c->len || c->len - off < ((size_t)1 << c->shift))
		return NULL;
	return c->p + off;
}

/* fat_sector - the number of the k-th FAT sector: one of the header's CFB_DIFAT_HEAD, else
 * from the DIFAT sectors' chain (each ends in the number of the next), followed no further
 * than the file has sectors. CFB_NOSTREAM when there is none. */
static uint32_t
fat_sector(const struct cfb *c, uint32_t k)
{
	uint32_t per = (1u << (c->shift - 2)) - 1, s = get_u32le(c->p + 0x44);
	size_t hops = c->len >> c->shift;
	const uint8_t *d;

	if (k < CFB_DIFAT_HEAD)
		return get_u32le(c->p + 0x4C + 4 * k);
	for (k -= CFB_DIFAT_HEAD; hops-- > 0 && (d = sector_at(c, s)) != NULL; k -= per) {
		if (k < per)
			return get_u32le(d + 4 * k);
		s = get_u32le(d + 4 * per);
	}
	return CFB_NOSTREAM;
}

/* fat_next - the sector after s in its chain (its FAT entry); CFB_NOSTREAM when the FAT does
 * not reach it. */
static uint32_t
fat_next(const struct cfb *c, uint32_t s)
{
	uint32_t per = 1u << (c->shift - 2);
	const uint8_t *f = sector_at(c, fat_sector(c, s / per));

	return f ? get_u32le(f + 4 * (s % per)) : CFB_NOSTREAM;
}

/* cfb_open - check the header of the len bytes at p and collect the directory's sectors
 * (its chain through the FAT, at most OLE2_DIR_SECTORS_MAX: a chain that loops ends there);
 * 0, or -1 when it is not a compound file this reads. */
static int
cfb_open(struct cfb *c, const uint8_t *p, size_t len)
{
	uint32_t s;

	c->p = p;
	c->len = len;
	c->ndir = 0;
	if (!ole2_is(p, len) || len < CFB_HEADER_LEN || le16(p + 0x1C) != 0xFFFE)
		return -1;
	c->shift = le16(p + 0x1E);
	if (c->shift != 9 && c->shift != 12)
		return -1;
	for (s = get_u32le(p + 0x30); s != CFB_ENDOFCHAIN; s = fat_next(c, s)) {
		if (c->ndir == OLE2_DIR_SECTORS_MAX || sector_at(c, s) == NULL)
			return -1;
		c->dir[c->ndir++] = s;
	}
	return c->ndir > 0 ? 0 : -1;
}

/* cfb_entry - directory entry id, or NULL when the directory has no such entry. */
static const uint8_t *
cfb_entry(const struct cfb *c, uint32_t id)
{
	uint32_t per = 1u << (c->shift - 7);

	if (id == CFB_NOSTREAM || id / per >= c->ndir)
		return NULL;
	return sector_at(c, c->dir[id / per]) + CFB_ENTRY_LEN * (id % per);
}

/* entry_is_stream - whether directory entry e is a stream named name (ASCII): its UTF-16LE
 * name, as long as its length field says (NUL included), compared without regard to case
 * as [MS-CFB] 2.6.4 compares names. */
static int
entry_is_stream(const uint8_t *e, const char *name)
{
	size_t n = strlen(name);

	if (e[0x42] != CFB_TYPE_STREAM || le16(e + 0x40) != 2 * (n + 1))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (e[2 * i + 1] != 0 ||
		    ascii_upper(e[2 * i]) != ascii_upper((unsigned char)name[i]))
			return 0;
	return 1;
}

/* root_has_stream - whether the root storage of c holds a stream named name: every entry of
 * the tree under the root entry's child, through its left and right siblings (not into the
 * storages below), depth first, at most OLE2_TREE_DEPTH_MAX deep and no more entries in all
 * than the directory has (a tree that loops ends there). */
static int
root_has_stream(const struct cfb *c, const char *name)
{
	uint32_t stack[OLE2_TREE_DEPTH_MAX], id, visits = c->ndir << (c->shift - 7);
	const uint8_t *root = cfb_entry(c, 0), *e;
	size_t n = 0;

	if (root == NULL)
		return 0;
	stack[n++] = get_u32le(root + 0x4C);
	while (n > 0) {
		if ((e = cfb_entry(c, stack[--n])) == NULL)
			continue; /* no sibling (NOSTREAM), or one past the directory */
		if (visits-- == 0 || n + 2 > OLE2_TREE_DEPTH_MAX)
			return 0;
		if (entry_is_stream(e, name))
			return 1;
		if ((id = get_u32le(e + 0x48)) != CFB_NOSTREAM)
			stack[n++] = id;
		if ((id = get_u32le(e + 0x44)) != CFB_NOSTREAM)
			stack[n++] = id;
	}
	return 0;
}

int
ole2_ppt_encrypted(const uint8_t *p, size_t len)
{
	struct cfb c;

	return cfb_open(&c, p, len) == 0 && root_has_stream(&c, "PowerPoint Document") &&
	       root_has_stream(&c, "EncryptedSummary");
}
