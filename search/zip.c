/* zip - stored ZIP (with ZIP64 when needed); see zip.h. Layout from PKWARE's APPNOTE 6.3. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "dirwalk.h"
#include "fsutil.h"
#include "zip.h"

#define ZIP_COPY 65536
#define U32_MAX_FIELD 0xffffffffu
#define U16_MAX_FIELD 0xffffu

struct zipper {
	int fd;
	uint64_t off;	 /* bytes written so far */
	uint64_t count;	 /* entries */
	struct buf cd;	 /* the central directory, built as entries are written */
	uint8_t *copy;
};

/* The CRC-32 (IEEE 802.3, reflected 0xedb88320) of each byte value. */
static const uint32_t crc_table[256] = {
	0x00000000u, 0x77073096u, 0xee0e612cu, 0x990951bau, 0x076dc419u, 0x706af48fu,
	0xe963a535u, 0x9e6495a3u, 0x0edb8832u, 0x79dcb8a4u, 0xe0d5e91eu, 0x97d2d988u,
	0x09b64c2bu, 0x7eb17cbdu, 0xe7b82d07u, 0x90bf1d91u, 0x1db71064u, 0x6ab020f2u,
	0xf3b97148u, 0x84be41deu, 0x1adad47du, 0x6ddde4ebu, 0xf4d4b551u, 0x83d385c7u,
	0x136c9856u, 0x646ba8c0u, 0xfd62f97au, 0x8a65c9ecu, 0x14015c4fu, 0x63066cd9u,
	0xfa0f3d63u, 0x8d080df5u, 0x3b6e20c8u, 0x4c69105eu, 0xd56041e4u, 0xa2677172u,
	0x3c03e4d1u, 0x4b04d447u, 0xd20d85fdu, 0xa50ab56bu, 0x35b5a8fau, 0x42b2986cu,
	0xdbbbc9d6u, 0xacbcf940u, 0x32d86ce3u, 0x45df5c75u, 0xdcd60dcfu, 0xabd13d59u,
	0x26d930acu, 0x51de003au, 0xc8d75180u, 0xbfd06116u, 0x21b4f4b5u, 0x56b3c423u,
	0xcfba9599u, 0xb8bda50fu, 0x2802b89eu, 0x5f058808u, 0xc60cd9b2u, 0xb10be924u,
	0x2f6f7c87u, 0x58684c11u, 0xc1611dabu, 0xb6662d3du, 0x76dc4190u, 0x01db7106u,
	0x98d220bcu, 0xefd5102au, 0x71b18589u, 0x06b6b51fu, 0x9fbfe4a5u, 0xe8b8d433u,
	0x7807c9a2u, 0x0f00f934u, 0x9609a88eu, 0xe10e9818u, 0x7f6a0dbbu, 0x086d3d2du,
	0x91646c97u, 0xe6635c01u, 0x6b6b51f4u, 0x1c6c6162u, 0x856530d8u, 0xf262004eu,
	0x6c0695edu, 0x1b01a57bu, 0x8208f4c1u, 0xf50fc457u, 0x65b0d9c6u, 0x12b7e950u,
	0x8bbeb8eau, 0xfcb9887cu, 0x62dd1ddfu, 0x15da2d49u, 0x8cd37cf3u, 0xfbd44c65u,
	0x4db26158u, 0x3ab551ceu, 0xa3bc0074u, 0xd4bb30e2u, 0x4adfa541u, 0x3dd895d7u,
	0xa4d1c46du, 0xd3d6f4fbu, 0x4369e96au, 0x346ed9fcu, 0xad678846u, 0xda60b8d0u,
	0x44042d73u, 0x33031de5u, 0xaa0a4c5fu, 0xdd0d7cc9u, 0x5005713cu, 0x270241aau,
	0xbe0b1010u, 0xc90c2086u, 0x5768b525u, 0x206f85b3u, 0xb966d409u, 0xce61e49fu,
	0x5edef90eu, 0x29d9c998u, 0xb0d09822u, 0xc7d7a8b4u, 0x59b33d17u, 0x2eb40d81u,
	0xb7bd5c3bu, 0xc0ba6cadu, 0xedb88320u, 0x9abfb3b6u, 0x03b6e20cu, 0x74b1d29au,
	0xead54739u, 0x9dd277afu, 0x04db2615u, 0x73dc1683u, 0xe3630b12u, 0x94643b84u,
	0x0d6d6a3eu, 0x7a6a5aa8u, 0xe40ecf0bu, 0x9309ff9du, 0x0a00ae27u, 0x7d079eb1u,
	0xf00f9344u, 0x8708a3d2u, 0x1e01f268u, 0x6906c2feu, 0xf762575du, 0x806567cbu,
	0x196c3671u, 0x6e6b06e7u, 0xfed41b76u, 0x89d32be0u, 0x10da7a5au, 0x67dd4accu,
	0xf9b9df6fu, 0x8ebeeff9u, 0x17b7be43u, 0x60b08ed5u, 0xd6d6a3e8u, 0xa1d1937eu,
	0x38d8c2c4u, 0x4fdff252u, 0xd1bb67f1u, 0xa6bc5767u, 0x3fb506ddu, 0x48b2364bu,
	0xd80d2bdau, 0xaf0a1b4cu, 0x36034af6u, 0x41047a60u, 0xdf60efc3u, 0xa867df55u,
	0x316e8eefu, 0x4669be79u, 0xcb61b38cu, 0xbc66831au, 0x256fd2a0u, 0x5268e236u,
	0xcc0c7795u, 0xbb0b4703u, 0x220216b9u, 0x5505262fu, 0xc5ba3bbeu, 0xb2bd0b28u,
	0x2bb45a92u, 0x5cb36a04u, 0xc2d7ffa7u, 0xb5d0cf31u, 0x2cd99e8bu, 0x5bdeae1du,
	0x9b64c2b0u, 0xec63f226u, 0x756aa39cu, 0x026d930au, 0x9c0906a9u, 0xeb0e363fu,
	0x72076785u, 0x05005713u, 0x95bf4a82u, 0xe2b87a14u, 0x7bb12baeu, 0x0cb61b38u,
	0x92d28e9bu, 0xe5d5be0du, 0x7cdcefb7u, 0x0bdbdf21u, 0x86d3d2d4u, 0xf1d4e242u,
	0x68ddb3f8u, 0x1fda836eu, 0x81be16cdu, 0xf6b9265bu, 0x6fb077e1u, 0x18b74777u,
	0x88085ae6u, 0xff0f6a70u, 0x66063bcau, 0x11010b5cu, 0x8f659effu, 0xf862ae69u,
	0x616bffd3u, 0x166ccf45u, 0xa00ae278u, 0xd70dd2eeu, 0x4e048354u, 0x3903b3c2u,
	0xa7672661u, 0xd06016f7u, 0x4969474du, 0x3e6e77dbu, 0xaed16a4au, 0xd9d65adcu,
	0x40df0b66u, 0x37d83bf0u, 0xa9bcae53u, 0xdebb9ec5u, 0x47b2cf7fu, 0x30b5ffe9u,
	0xbdbdf21cu, 0xcabac28au, 0x53b39330u, 0x24b4a3a6u, 0xbad03605u, 0xcdd70693u,
	0x54de5729u, 0x23d967bfu, 0xb3667a2eu, 0xc4614ab8u, 0x5d681b02u, 0x2a6f2b94u,
	0xb40bbe37u, 0xc30c8ea1u, 0x5a05df1bu, 0x2d02ef8du,
};

uint32_t
zip_crc32(uint32_t crc, const void *p, size_t n)
{
	const uint8_t *b = p;

	crc = ~crc;
	while (n--)
		crc = crc_table[(crc ^ *b++) & 0xffu] ^ (crc >> 8);
	return ~crc;
}

static void
le16(struct buf *b, unsigned v)
{
	uint8_t p[2] = {(uint8_t)v, (uint8_t)(v >> 8)};

	buf_append(b, p, 2);
}

static enum vl_err
emit(struct zipper *z, const struct buf *b, char *err)
{
	if (fs_write_full(z->fd, b->data, b->len) != VL_OK)
		return vl_err_set(err, VL_ERR_IO, "zip: write failed");
	z->off += b->len;
	return VL_OK;
}

/* dos_time - MS-DOS time and date of t (local rules do not matter: UTC). */
static void
dos_time(time_t t, unsigned *tm_out, unsigned *date_out)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	if (tm.tm_year < 80)
		tm.tm_year = 80, tm.tm_mon = 0, tm.tm_mday = 1, tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	*tm_out = (unsigned)(tm.tm_hour << 11 | tm.tm_min << 5 | tm.tm_sec / 2);
	*date_out = (unsigned)((tm.tm_year - 80) << 9 | (tm.tm_mon + 1) << 5 | tm.tm_mday);
}

/* file_crc - the CRC-32 of path (first pass). */
static enum vl_err
file_crc(struct zipper *z, const char *path, uint32_t *crc, char *err)
{
	int in = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;

	if (in < 0)
		return vl_err_set(err, VL_ERR_IO, "%s: %s", path, strerror(errno));
	*crc = 0;
	while ((n = read(in, z->copy, ZIP_COPY)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(in);
			return vl_err_set(err, VL_ERR_IO, "%s: %s", path, strerror(errno));
		}
		*crc = zip_crc32(*crc, z->copy, (size_t)n);
	}
	close(in);
	return VL_OK;
}

static enum vl_err
file_copy(struct zipper *z, const char *path, uint64_t size, char *err)
{
	int in = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	uint64_t left = size;
	enum vl_err rc = VL_OK;

	if (in < 0)
		return vl_err_set(err, VL_ERR_IO, "%s: %s", path, strerror(errno));
	while (rc == VL_OK && left > 0) {
		ssize_t n = read(in, z->copy, left < ZIP_COPY ? (size_t)left : ZIP_COPY);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			rc = vl_err_set(err, VL_ERR_IO, "%s: changed while being archived", path);
		else if (fs_write_full(z->fd, z->copy, (size_t)n) != VL_OK)
			rc = vl_err_set(err, VL_ERR_IO, "zip: write failed");
		else
			left -= (uint64_t)n, z->off += (uint64_t)n;
	}
	close(in);
	return rc;
}

/* entry - the local header (and, for a file, its bytes) of name, and its central record. */
static enum vl_err
entry(struct zipper *z, const char *path, const char *name, const struct stat *st, char *err)
{
	int dir = S_ISDIR(st->st_mode);
	uint64_t size = dir ? 0 : (uint64_t)st->st_size, at = z->off;
	int big = size >= U32_MAX_FIELD, far = at >= U32_MAX_FIELD;
	size_t nlen = strlen(name);
	struct buf h = {0};
	unsigned t, d;
	uint32_t crc = 0;
	enum vl_err rc;

	if (nlen > 65535)
		return vl_err_set(err, VL_ERR_LIMIT, "%.64s...: too long a name for zip", name);
	if (!dir && (rc = file_crc(z, path, &crc, err)) != VL_OK)
		return rc;
	dos_time(st->st_mtime, &t, &d);
	/* local file header */
	buf_append_u32le(&h, 0x04034b50);
	le16(&h, big ? 45 : 20);
	le16(&h, 0x0800); /* UTF-8 names */
	le16(&h, 0);	  /* stored */
	le16(&h, t);
	le16(&h, d);
	buf_append_u32le(&h, crc);
	buf_append_u32le(&h, big ? U32_MAX_FIELD : (uint32_t)size);
	buf_append_u32le(&h, big ? U32_MAX_FIELD : (uint32_t)size);
	le16(&h, (unsigned)nlen);
	le16(&h, big ? 20 : 0);
	buf_append(&h, name, nlen);
	if (big) {
		le16(&h, 0x0001);
		le16(&h, 16);
		buf_append_u64le(&h, size);
		buf_append_u64le(&h, size);
	}
	rc = emit(z, &h, err);
	buf_free(&h);
	if (rc == VL_OK && !dir)
		rc = file_copy(z, path, size, err);
	if (rc != VL_OK)
		return rc;
	/* its central directory record */
	unsigned extra = (big ? 16u : 0u) + (far ? 8u : 0u);
	struct buf *c = &z->cd;

	buf_append_u32le(c, 0x02014b50);
	le16(c, 0x0300 | 45); /* made by: Unix, 4.5 */
	le16(c, big || far ? 45 : 20);
	le16(c, 0x0800);
	le16(c, 0);
	le16(c, t);
	le16(c, d);
	buf_append_u32le(c, crc);
	buf_append_u32le(c, big ? U32_MAX_FIELD : (uint32_t)size);
	buf_append_u32le(c, big ? U32_MAX_FIELD : (uint32_t)size);
	le16(c, (unsigned)nlen);
	le16(c, extra ? extra + 4 : 0);
	le16(c, 0); /* comment */
	le16(c, 0); /* disk */
	le16(c, 0); /* internal attributes */
	buf_append_u32le(c, (uint32_t)(dir ? 040755u : 0100644u) << 16 | (dir ? 0x10u : 0u));
	buf_append_u32le(c, far ? U32_MAX_FIELD : (uint32_t)at);
	buf_append(c, name, nlen);
	if (extra) {
		le16(c, 0x0001);
		le16(c, extra);
		if (big) {
			buf_append_u64le(c, size);
			buf_append_u64le(c, size);
		}
		if (far)
			buf_append_u64le(c, at);
	}
	z->count++;
	return VL_OK;
}

/* zip_entry - a dirwalk visit: one local header and its file's bytes. */
static enum vl_err
zip_entry(void *ctx, const char *path, const char *name, const struct stat *st, char *err)
{
	return entry(ctx, path, name, st, err);
}

/* finish - the central directory, ZIP64 end records when needed, the end record. */
static enum vl_err
finish(struct zipper *z, char *err)
{
	uint64_t cd_at = z->off, cd_len = z->cd.len;
	int z64 = z->count >= U16_MAX_FIELD || cd_at >= U32_MAX_FIELD || cd_len >= U32_MAX_FIELD;
	struct buf e = {0};
	enum vl_err rc;

	if ((rc = emit(z, &z->cd, err)) != VL_OK)
		return rc;
	if (z64) {
		uint64_t eocd64_at = z->off;

		buf_append_u32le(&e, 0x06064b50);
		buf_append_u64le(&e, 44);
		le16(&e, 0x0300 | 45);
		le16(&e, 45);
		buf_append_u32le(&e, 0);
		buf_append_u32le(&e, 0);
		buf_append_u64le(&e, z->count);
		buf_append_u64le(&e, z->count);
		buf_append_u64le(&e, cd_len);
		buf_append_u64le(&e, cd_at);
		buf_append_u32le(&e, 0x07064b50); /* locator */
		buf_append_u32le(&e, 0);
		buf_append_u64le(&e, eocd64_at);
		buf_append_u32le(&e, 1);
	}
	buf_append_u32le(&e, 0x06054b50);
	le16(&e, 0);
	le16(&e, 0);
	le16(&e, z64 ? U16_MAX_FIELD : (unsigned)z->count);
	le16(&e, z64 ? U16_MAX_FIELD : (unsigned)z->count);
	buf_append_u32le(&e, z64 ? U32_MAX_FIELD : (uint32_t)cd_len);
	buf_append_u32le(&e, z64 ? U32_MAX_FIELD : (uint32_t)cd_at);
	le16(&e, 0);
	rc = emit(z, &e, err);
	buf_free(&e);
	return rc;
}

enum vl_err
zip_dir(int fd, const char *dir, const char *top, char *err)
{
	struct zipper z = {.fd = fd};
	char name[512];
	struct stat st;
	enum vl_err rc;

	if (stat(dir, &st) != 0)
		return vl_err_set(err, VL_ERR_IO, "%s: %s", dir, strerror(errno));
	z.copy = xmalloc(ZIP_COPY);
	snprintf(name, sizeof(name), "%s/", top);
	if ((rc = entry(&z, dir, name, &st, err)) == VL_OK &&
	    (rc = dirwalk(dir, top, zip_entry, &z, err)) == VL_OK)
		rc = finish(&z, err);
	free(z.copy);
	buf_free(&z.cd);
	return rc;
}
