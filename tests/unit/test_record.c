/* test_record - round trips, the byte layout, damage, forgery, misuse and memory bounds of
 * archiver/record.{c,h}, checked against archiver/FORMAT.md ("Record") with libsodium and
 * zstd used directly where the test must not trust record.c. */
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_getFrameHeader: the window a frame asks for */
#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zdict.h>
#include <zstd.h>

#include "buf.h"
#include "fsutil.h"
#include "record.h"
#include "unit.h"

#define MB5 (5 * 1000 * 1000)
#define STORED_AT 1700000000123456LL
#define PREFIX_LEN 4099 /* records are placed at this offset: never at 0 */

/* ---- fixtures ---- */

struct fx {
	uint8_t k7[32], k9[32];
	int wrong_key; /* serve k9 for id 7 */
	int no_key;    /* serve no key at all */
	int no_dict;
	uint8_t dict[16384];
	size_t dlen;
	ZSTD_CDict *cdict; /* level 3 */
	ZSTD_DDict *ddict;
	struct record_keys keys;
	struct record_sealer *s;
	struct record_reader *r;
};

/* Key 8 is key 7's bytes under another id: only the associated data tells them apart. */
static const uint8_t *
fx_key(void *arg, uint32_t id)
{
	struct fx *f = arg;

	if (f->no_key)
		return NULL;
	if (id == 7)
		return f->wrong_key ? f->k9 : f->k7;
	if (id == 8)
		return f->k7;
	if (id == 9)
		return f->k9;
	return NULL;
}

/* Dictionaries 1 and 2 are the same bytes. */
static const ZSTD_DDict *
fx_dict(void *arg, uint32_t id)
{
	struct fx *f = arg;

	return !f->no_dict && (id == 1 || id == 2) ? f->ddict : NULL;
}

static uint64_t
rng(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static const char *const words[] = {
    "the",	"quarterly", "report",	     "meeting",	 "please",  "find",	  "attached",
    "regards",	"energy",    "trading",	     "contract", "price",   "gas",	  "power",
    "schedule", "review",    "thanks",	     "team",	 "forward", "draft",	  "Houston",
    "desk",	"position",  "counterparty", "credit",	 "risk",    "settlement", "volume"};

/* gen_text - mail-like text: short lines of common words, a header now and then. */
static void
gen_text(uint8_t *out, size_t n, uint64_t seed)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
	size_t pos = 0, col = 0;

	while (pos < n) {
		char w[64];
		uint64_t v = rng(&x);
		int k;

		if (col == 0 && v % 23 == 0)
			k = snprintf(w, sizeof(w), "X-Ref-%u: %08x\r\n", (unsigned)(v >> 8) % 90,
				     (unsigned)(v >> 16));
		else if (col > 60)
			k = snprintf(w, sizeof(w), "\r\n");
		else
			k = snprintf(w, sizeof(w), "%s ",
				     words[(v >> 5) % (sizeof(words) / sizeof(words[0]))]);
		col = w[k - 1] == '\n' ? 0 : col + (size_t)k;
		for (int i = 0; i < k && pos < n; i++)
			out[pos++] = (uint8_t)w[i];
	}
}

static void
gen_random(uint8_t *out, size_t n, uint64_t seed)
{
	uint8_t s[randombytes_SEEDBYTES] = {0};

	memcpy(s, &seed, sizeof(seed));
	randombytes_buf_deterministic(out, n, s);
}

/* fx_train - a dictionary trained on synthetic mail headers, as the store trains one. */
static void
fx_train(struct fx *f)
{
	static const char *const names[] = {"alice", "bob", "carol", "dave", "erin", "frank"};
	struct buf all = {0};
	size_t sizes[600];
	uint64_t x = 42;

	for (size_t i = 0; i < 600; i++) {
		uint64_t v = rng(&x);
		const char *from = names[v % 6], *to = names[(v >> 8) % 6];
		size_t before = all.len;

		buf_appendf(&all,
			    "Return-Path: <%s@example.com>\r\n"
			    "Received: from mx%u.example.net (mx%u.example.net [192.0.2.%u])\r\n"
			    "\tby archive.example.org with ESMTPS id %08x\r\n"
			    "Message-ID: <%08x.%u@example.com>\r\n"
			    "Date: Mon, %u Mar 2024 10:%02u:00 +0000\r\n"
			    "From: %s <%s@example.com>\r\nTo: %s <%s@example.org>\r\n"
			    "Subject: quarterly report %u\r\nMIME-Version: 1.0\r\n"
			    "Content-Type: text/plain; charset=utf-8\r\n\r\n"
			    "Hello %s,\r\nplease find the numbers for week %u attached.\r\n",
			    from, (unsigned)(v % 9), (unsigned)(v % 9), (unsigned)(v % 250),
			    (unsigned)(v >> 20), (unsigned)(v >> 24), (unsigned)(v % 1000),
			    (unsigned)(v % 28 + 1), (unsigned)(v % 60), from, from, to, to,
			    (unsigned)(v % 100), to, (unsigned)(v % 52));
		sizes[i] = all.len - before;
	}
	f->dlen = ZDICT_trainFromBuffer(f->dict, sizeof(f->dict), all.data, sizes, 600);
	CU_ASSERT_FATAL(!ZDICT_isError(f->dlen));
	buf_free(&all);
	f->cdict = ZSTD_createCDict(f->dict, f->dlen, 3);
	f->ddict = ZSTD_createDDict(f->dict, f->dlen);
	CU_ASSERT_FATAL(f->cdict && f->ddict);
}

static void
fx_init(struct fx *f, int with_dict)
{
	memset(f, 0, sizeof(*f));
	memset(f->k7, 7, 32);
	memset(f->k9, 9, 32);
	f->keys.key = fx_key;
	f->keys.dict = fx_dict;
	f->keys.arg = f;
	f->s = record_sealer_new();
	f->r = record_reader_new();
	if (with_dict)
		fx_train(f);
}

static void
fx_free(struct fx *f)
{
	record_sealer_free(f->s);
	record_reader_free(f->r);
	ZSTD_freeCDict(f->cdict);
	ZSTD_freeDDict(f->ddict);
}

enum { ENC_PLAIN, ENC_AEAD };
enum { Z_RAW, Z_ZSTD, Z_DICT };
static const char *const enc_name[] = {"plain", "aead"};
static const char *const z_name[] = {"raw", "zstd", "zstd+dict"};

static struct record_params
fx_params(const struct fx *f, int enc, int z)
{
	struct record_params p = {.kind = RECORD_MESSAGE, .stored_at_us = STORED_AT};

	if (enc == ENC_AEAD) {
		p.key_id = 7;
		p.key = f->k7;
	}
	if (z != Z_RAW)
		p.zlevel = 3;
	if (z == Z_DICT) {
		p.dict_id = 1;
		p.cdict = f->cdict;
	}
	return p;
}

/* expect_len - record_len of an uncompressed record of n bytes, from FORMAT.md. */
static uint64_t
expect_len(size_t n, int enc)
{
	uint64_t frames = (n + RECORD_CHUNK - 1) / RECORD_CHUNK;

	if (enc == ENC_AEAD && frames == 0)
		frames = 1; /* the empty FINAL chunk */
	return RECORD_FIXED_OVERHEAD + n + frames * (4 + (enc == ENC_AEAD ? RECORD_ABYTES : 0));
}

static int
tmp_fd(void)
{
	const char *dir = getenv("TMPDIR");
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/vl-test-record-XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	unlink(path);
	return fd;
}

static enum vl_err
fd_sink(void *arg, const uint8_t *p, size_t n)
{
	return fs_write_full(*(int *)arg, p, n);
}

/* A plaintext sink that compares against the expected bytes as they stream past. */
struct cmp {
	const uint8_t *want;
	size_t len, pos, calls, biggest;
	int bad;
};

static enum vl_err
cmp_sink(void *arg, const uint8_t *p, size_t n)
{
	struct cmp *c = arg;

	if (c->pos + n > c->len || memcmp(c->want + c->pos, p, n) != 0)
		c->bad = 1;
	c->pos += n;
	c->calls++;
	if (n > c->biggest)
		c->biggest = n;
	return VL_OK;
}

static void
sha256(uint8_t out[32], const void *p, size_t n)
{
	CU_ASSERT_FATAL(EVP_Digest(p, n, out, NULL, EVP_sha256(), NULL) == 1);
}

/* A file with a record at PREFIX_LEN, junk before it and a fake record start after it. */
struct placed {
	int fd;
	off_t off, fsize;
	size_t len;
};

static const uint8_t suffix[64] = "VLR1\x01\x00\x00\x00";

static struct placed
place(const uint8_t *rec, size_t len)
{
	uint8_t pre[PREFIX_LEN];
	struct placed pl = {.fd = tmp_fd(), .off = PREFIX_LEN, .len = len};

	memset(pre, 0xA5, sizeof(pre));
	CU_ASSERT_FATAL(fs_write_full(pl.fd, pre, sizeof(pre)) == VL_OK);
	CU_ASSERT_FATAL(fs_write_full(pl.fd, rec, len) == VL_OK);
	CU_ASSERT_FATAL(fs_write_full(pl.fd, suffix, sizeof(suffix)) == VL_OK);
	pl.fsize = pl.off + (off_t)len + (off_t)sizeof(suffix);
	return pl;
}

static void
flip(int fd, off_t at, uint8_t mask)
{
	uint8_t b;

	CU_ASSERT_FATAL(pread(fd, &b, 1, at) == 1);
	b ^= mask;
	CU_ASSERT_FATAL(pwrite(fd, &b, 1, at) == 1);
}

static enum vl_err
open_pl(struct fx *f, const struct placed *pl, struct record_info *info, char *err)
{
	return record_open(f->r, pl->fd, pl->off, pl->fsize, &f->keys, NULL, NULL, info, err);
}

static enum vl_err
scan_pl(struct fx *f, const struct placed *pl, struct record_info *info, char *err)
{
	return record_scan(f->r, pl->fd, pl->off, pl->fsize, info, err);
}

/* reseal - recompute the checksum after an edit: what a forger without the key can do. */
static void
reseal(uint8_t *rec, size_t len)
{
	crypto_generichash(rec + len - RECORD_CHECKSUM_LEN, RECORD_CHECKSUM_LEN, rec,
			   len - RECORD_CHECKSUM_LEN, NULL, 0);
}

/* frame_at - offsets of the frames of a record in memory (length prefix positions). */
static size_t
frames_of(const uint8_t *rec, size_t len, size_t *at, size_t max)
{
	size_t pos = RECORD_HEADER_LEN, n = 0;

	while (pos + 4 <= len && get_u32le(rec + pos) != 0 && n < max) {
		at[n++] = pos;
		pos += 4 + get_u32le(rec + pos);
	}
	return n;
}

/* ---- round trips ---- */

/* roundtrip - stream data into a record in a file at a non-zero offset (in uneven pieces),
 * then scan it and open it, checking every info field, the length and the plaintext. */
static void
roundtrip(struct fx *f, int enc, int z, const uint8_t *data, size_t len, const char *what)
{
	static const size_t pieces[] = {1, 4093, 65536, 17, 200000, 65535};
	struct record_params p = fx_params(f, enc, z);
	struct record_info wi, si, oi;
	struct cmp c = {.want = data, .len = len};
	uint8_t subject[32], sha[32], pre[PREFIX_LEN];
	char label[160], err[VL_ERRLEN] = "";
	int fd = tmp_fd();
	off_t end, fsize;
	enum vl_err rc;

	snprintf(label, sizeof(label), "%s %s %s %zu", what, enc_name[enc], z_name[z], len);
	memset(pre, 0xA5, sizeof(pre));
	gen_random(subject, sizeof(subject), len + 1);
	sha256(sha, data, len);
	CU_ASSERT_FATAL(fs_write_full(fd, pre, sizeof(pre)) == VL_OK);
	CU_ASSERT_FATAL(record_begin(f->s, &p, fd_sink, &fd) == VL_OK);
	for (size_t pos = 0, i = 0; pos < len; i++) {
		size_t n = pieces[i % 6] < len - pos ? pieces[i % 6] : len - pos;

		CU_ASSERT_FATAL(record_update(f->s, data + pos, n) == VL_OK);
		pos += n;
	}
	CU_ASSERT_FATAL(record_finish(f->s, subject, &wi) == VL_OK);
	end = lseek(fd, 0, SEEK_CUR);
	CU_ASSERT_FATAL(fs_write_full(fd, suffix, sizeof(suffix)) == VL_OK);
	fsize = end + (off_t)sizeof(suffix);

	CHECK(wi.record_len == (uint64_t)(end - PREFIX_LEN), label);
	CHECK(wi.raw_len == len, label);
	CHECK(memcmp(wi.sha256, sha, 32) == 0, label);
	CHECK(memcmp(wi.subject, subject, 32) == 0, label);
	CHECK(wi.kind == RECORD_MESSAGE && wi.stored_at_us == STORED_AT, label);
	CHECK(wi.flags == ((enc ? RECORD_F_ENCRYPTED : 0) | (z ? RECORD_F_ZSTD : 0)), label);
	CHECK(wi.key_id == (enc ? 7u : 0u) && wi.dict_id == (z == Z_DICT ? 1u : 0u), label);
	if (z == Z_RAW)
		CHECK(wi.record_len == expect_len(len, enc), label);

	rc = record_scan(f->r, fd, PREFIX_LEN, fsize, &si, err);
	CHECK(rc == VL_OK, label);
	CHECK(si.record_len == wi.record_len && si.raw_len == len, label);
	CHECK(si.flags == wi.flags && si.key_id == wi.key_id && si.dict_id == wi.dict_id, label);
	CHECK(si.kind == wi.kind && si.stored_at_us == STORED_AT, label);
	CHECK(memcmp(si.subject, subject, 32) == 0, label);

	rc = record_open(f->r, fd, PREFIX_LEN, fsize, &f->keys, cmp_sink, &c, &oi, err);
	CHECK(rc == VL_OK, label);
	CHECK(c.pos == len && !c.bad, label);
	CHECK(c.biggest <= RECORD_CHUNK, label); /* streamed, not gathered */
	CHECK(oi.record_len == wi.record_len && oi.raw_len == len, label);
	CHECK(memcmp(oi.sha256, sha, 32) == 0, label);
	if (rc != VL_OK)
		fprintf(stderr, "%s: %s\n", label, err);
	close(fd);
}

static const size_t edge_sizes[] = {0, 1, 65535, 65536, 65537, 3 * 65536 + 5};

static void
test_roundtrip_sizes(void)
{
	struct fx f;
	uint8_t *d = xmalloc(3 * 65536 + 5);

	fx_init(&f, 1);
	for (size_t i = 0; i < sizeof(edge_sizes) / sizeof(edge_sizes[0]); i++)
		for (int kind = 0; kind < 2; kind++) {
			if (kind)
				gen_text(d, edge_sizes[i], i);
			else
				gen_random(d, edge_sizes[i], i);
			for (int enc = 0; enc < 2; enc++)
				for (int z = 0; z < 3; z++)
					roundtrip(&f, enc, z, d, edge_sizes[i],
						  kind ? "text" : "random");
		}
	free(d);
	fx_free(&f);
}

static void
test_roundtrip_5mb(void)
{
	struct fx f;
	uint8_t *rnd = xmalloc(MB5), *txt = xmalloc(MB5);

	fx_init(&f, 1);
	gen_random(rnd, MB5, 5);
	gen_text(txt, MB5, 5);
	for (int enc = 0; enc < 2; enc++)
		for (int z = 0; z < 3; z++) {
			roundtrip(&f, enc, z, rnd, MB5, "5MB random");
			roundtrip(&f, enc, z, txt, MB5, "5MB text");
		}
	free(rnd);
	free(txt);
	fx_free(&f);
}

/* ---- the layout, checked by hand against FORMAT.md ---- */

static void
test_layout_aead(void)
{
	const size_t n = 3 * 65536 + 5;
	static const uint32_t want_len[] = {RECORD_FRAME_MAX, RECORD_FRAME_MAX, RECORD_FRAME_MAX,
					    5 + RECORD_ABYTES};
	struct fx f;
	struct buf rec = {0}, plain = {0};
	struct record_params p;
	struct record_info info;
	crypto_secretstream_xchacha20poly1305_state st;
	uint8_t *d = xmalloc(n), subject[32], sum[16], ad[RECORD_HEADER_LEN + 40], *m;
	size_t pos = RECORD_HEADER_LEN;

	fx_init(&f, 0);
	p = fx_params(&f, ENC_AEAD, Z_RAW);
	p.kind = RECORD_RECEIPT;
	p.stored_at_us = -5; /* before 1970: the field is signed */
	gen_text(d, n, 9);
	memset(subject, 0x11, 32);
	buf_append(&rec, "xyz", 3); /* appended, not overwritten */
	CU_ASSERT_FATAL(record_seal_buf(f.s, &p, d, n, subject, &rec, &info) == VL_OK);
	CU_ASSERT_FATAL(rec.len == 3 + info.record_len);
	CU_ASSERT(memcmp(rec.data, "xyz", 3) == 0);
	uint8_t *r = rec.data + 3;
	size_t len = rec.len - 3;

	CU_ASSERT(len == expect_len(n, ENC_AEAD));
	CU_ASSERT(memcmp(r, "VLR1", 4) == 0);
	CU_ASSERT(r[4] == RECORD_RECEIPT && r[5] == RECORD_F_ENCRYPTED);
	CU_ASSERT(r[6] == 0 && r[7] == 0);
	CU_ASSERT(get_u32le(r + 8) == 7 && get_u32le(r + 12) == 0);
	CU_ASSERT((int64_t)get_u64le(r + 16) == -5);

	CU_ASSERT_FATAL(crypto_secretstream_xchacha20poly1305_init_pull(&st, r + 24, f.k7) == 0);
	m = xmalloc(RECORD_CHUNK);
	for (int i = 0; i < 4; i++) {
		uint32_t fl = get_u32le(r + pos);
		const uint8_t *tail = r + pos + 4 + fl + 4; /* valid for the last frame only */
		unsigned long long mlen;
		size_t adlen = 0;
		uint8_t tag;

		CU_ASSERT_FATAL(fl == want_len[i]);
		if (i == 0) {
			memcpy(ad, r, RECORD_HEADER_LEN);
			adlen = RECORD_HEADER_LEN;
		}
		if (i == 3) {
			memcpy(ad + adlen, tail, 40);
			adlen += 40;
		}
		CU_ASSERT_FATAL(
		    crypto_secretstream_xchacha20poly1305_pull(&st, m, &mlen, &tag, r + pos + 4, fl,
							       adlen ? ad : NULL, adlen) == 0);
		CU_ASSERT(tag == (i == 3 ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
					 : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE));
		buf_append(&plain, m, (size_t)mlen);
		pos += 4 + fl;
	}
	CU_ASSERT(plain.len == n && memcmp(plain.data, d, n) == 0);
	CU_ASSERT(get_u32le(r + pos) == 0);
	CU_ASSERT(get_u64le(r + pos + 4) == n);
	CU_ASSERT(memcmp(r + pos + 12, subject, 32) == 0);
	CU_ASSERT(pos + 4 + RECORD_TRAILER_LEN == len);
	crypto_generichash(sum, 16, r, len - 16, NULL, 0);
	CU_ASSERT(memcmp(sum, r + len - 16, 16) == 0);

	free(m);
	free(d);
	buf_free(&rec);
	buf_free(&plain);
	fx_free(&f);
}

/* concat_payloads - the stored stream of a plain record: its frames' payloads in order. */
static void
concat_payloads(struct buf *out, const uint8_t *r, size_t len)
{
	size_t at[256], n = frames_of(r, len, at, 256);

	for (size_t i = 0; i < n; i++)
		buf_append(out, r + at[i] + 4, get_u32le(r + at[i]));
}

static void
test_layout_zstd(void)
{
	const size_t n = 300000;
	struct fx f;
	struct record_params p;
	struct record_info info;
	uint8_t *d = xmalloc(n), *back = xmalloc(n);

	fx_init(&f, 0);
	gen_text(d, n, 3);
	/* 19 first: its lowered window must not stay for the 3 that follows on the same sealer. */
	for (int level = 19; level >= 3; level -= 16) {
		struct buf rec = {0}, z = {0};
		ZSTD_frameHeader fh;

		p = fx_params(&f, ENC_PLAIN, Z_ZSTD);
		p.zlevel = level;
		CU_ASSERT_FATAL(record_seal_buf(f.s, &p, d, n, NULL, &rec, &info) == VL_OK);
		CU_ASSERT(rec.data[5] == RECORD_F_ZSTD);
		concat_payloads(&z, rec.data, rec.len);
		CU_ASSERT(rec.len == RECORD_FIXED_OVERHEAD + z.len +
					 4 * ((z.len + RECORD_CHUNK - 1) / RECORD_CHUNK));
		/* One frame with no checksum, no size and no dictionary id; window <= 4 MiB. */
		CU_ASSERT_FATAL(ZSTD_getFrameHeader(&fh, z.data, z.len) == 0);
		CU_ASSERT(fh.checksumFlag == 0 && fh.dictID == 0);
		CU_ASSERT(fh.frameContentSize == ZSTD_CONTENTSIZE_UNKNOWN);
		CU_ASSERT(fh.windowSize <= ((uint64_t)1 << RECORD_ZSTD_WINDOWLOG_MAX));
		if (level == 3) /* the cap lowers, never raises: level 3's own window is 2 MiB */
			CU_ASSERT(fh.windowSize < ((uint64_t)1 << RECORD_ZSTD_WINDOWLOG_MAX));
		CU_ASSERT(ZSTD_findFrameCompressedSize(z.data, z.len) == z.len);
		CU_ASSERT(ZSTD_decompress(back, n, z.data, z.len) == n);
		CU_ASSERT(memcmp(back, d, n) == 0);
		for (size_t i = 0; i < 32; i++)
			CU_ASSERT(info.subject[i] == 0); /* NULL subject */
		buf_free(&rec);
		buf_free(&z);
	}
	/* A message of at most 64 KiB is compressed knowing its size: a small window, so a small
	 * reader buffer, even at level 19. */
	{
		struct buf rec = {0}, z = {0};
		ZSTD_frameHeader fh;

		p = fx_params(&f, ENC_PLAIN, Z_ZSTD);
		p.zlevel = 19;
		CU_ASSERT_FATAL(record_seal_buf(f.s, &p, d, 20000, NULL, &rec, &info) == VL_OK);
		concat_payloads(&z, rec.data, rec.len);
		CU_ASSERT_FATAL(ZSTD_getFrameHeader(&fh, z.data, z.len) == 0);
		CU_ASSERT(fh.windowSize <= 32768);
		buf_free(&rec);
		buf_free(&z);
	}
	free(d);
	free(back);
	fx_free(&f);
}

static void
test_overhead_empty(void)
{
	struct fx f;
	struct buf rec = {0};
	struct record_info info;
	struct placed pl;
	char err[VL_ERRLEN];

	fx_init(&f, 0);
	for (int enc = 0; enc < 2; enc++) {
		struct record_params p = fx_params(&f, enc, Z_RAW);
		size_t at[4];

		buf_reset(&rec);
		CU_ASSERT_FATAL(record_seal_buf(f.s, &p, NULL, 0, NULL, &rec, &info) == VL_OK);
		/* plain: no frame at all (108 bytes); encrypted: one empty FINAL chunk (129). */
		CU_ASSERT(rec.len == (enc ? 129u : 108u) && info.record_len == rec.len);
		CU_ASSERT(frames_of(rec.data, rec.len, at, 4) == (enc ? 1u : 0u));
		pl = place(rec.data, rec.len);
		CU_ASSERT(open_pl(&f, &pl, &info, err) == VL_OK && info.raw_len == 0);
		close(pl.fd);
	}
	buf_free(&rec);
	fx_free(&f);
}

/* ---- a reader checked against records built by hand ---- */

struct hchunk {
	size_t len;
	uint8_t tag;
	int ad; /* bit 0: header, bit 1: raw_len || subject */
};

/* hand_record - an encrypted record made with libsodium alone, so that single rules of
 * FORMAT.md can be broken. */
static void
hand_record(struct buf *out, const struct fx *f, const uint8_t *d, const struct hchunk *c, size_t n)
{
	crypto_secretstream_xchacha20poly1305_state st;
	uint8_t h[RECORD_HEADER_LEN] = "VLR1", tail[40], ad[88], ct[RECORD_FRAME_MAX], sum[16];
	crypto_generichash_state ck;
	size_t raw = 0;

	for (size_t i = 0; i < n; i++)
		raw += c[i].len;
	h[4] = RECORD_MESSAGE;
	h[5] = RECORD_F_ENCRYPTED;
	put_u32le(h + 8, 7);
	put_u64le(h + 16, STORED_AT);
	crypto_secretstream_xchacha20poly1305_init_push(&st, h + 24, f->k7);
	put_u64le(tail, raw);
	memset(tail + 8, 0x33, 32);
	buf_append(out, h, sizeof(h));
	for (size_t i = 0, off = 0; i < n; off += c[i].len, i++) {
		unsigned long long clen;
		size_t adlen = 0;

		if (c[i].ad & 1) {
			memcpy(ad, h, RECORD_HEADER_LEN);
			adlen = RECORD_HEADER_LEN;
		}
		if (c[i].ad & 2) {
			memcpy(ad + adlen, tail, 40);
			adlen += 40;
		}
		crypto_secretstream_xchacha20poly1305_push(&st, ct, &clen, d + off, c[i].len,
							   adlen ? ad : NULL, adlen, c[i].tag);
		buf_append_u32le(out, (uint32_t)clen);
		buf_append(out, ct, (size_t)clen);
	}
	buf_append_u32le(out, 0);
	buf_append(out, tail, 40);
	crypto_generichash_init(&ck, NULL, 0, 16);
	crypto_generichash_update(&ck, out->data, out->len);
	crypto_generichash_final(&ck, sum, 16);
	buf_append(out, sum, 16);
}

static void
test_hand_built(void)
{
	enum {
		M = crypto_secretstream_xchacha20poly1305_TAG_MESSAGE,
		F = crypto_secretstream_xchacha20poly1305_TAG_FINAL
	};
	static const struct {
		const char *name;
		struct hchunk c[3];
		size_t n;
		enum vl_err scan, open;
	} cases[] = {
	    {"spec: one chunk, first and final", {{50, F, 3}}, 1, VL_OK, VL_OK},
	    {"spec: three chunks", {{65536, M, 1}, {65536, M, 0}, {9, F, 2}}, 3, VL_OK, VL_OK},
	    {"FINAL before the end", {{65536, F, 1}, {9, F, 2}}, 2, VL_OK, VL_ERR_CORRUPT},
	    {"last chunk not FINAL", {{65536, M, 1}, {9, M, 2}}, 2, VL_OK, VL_ERR_CORRUPT},
	    {"first chunk without header AD", {{65536, M, 0}, {9, F, 2}}, 2, VL_OK, VL_ERR_CRYPTO},
	    {"final chunk without trailer AD", {{65536, M, 1}, {9, F, 0}}, 2, VL_OK, VL_ERR_CRYPTO},
	    {"middle chunk with AD",
	     {{65536, M, 1}, {65536, M, 1}, {9, F, 2}},
	     3,
	     VL_OK,
	     VL_ERR_CRYPTO},
	    {"short chunk before the last",
	     {{100, M, 1}, {9, F, 2}},
	     2,
	     VL_ERR_CORRUPT,
	     VL_ERR_CORRUPT},
	    {"empty chunk after others",
	     {{65536, M, 1}, {0, F, 2}},
	     2,
	     VL_ERR_CORRUPT,
	     VL_ERR_CORRUPT},
	};
	struct fx f;
	uint8_t *d = xmalloc(3 * 65536);

	fx_init(&f, 0);
	gen_text(d, 3 * 65536, 4);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf rec = {0};
		struct record_info info;
		struct placed pl;
		struct cmp c = {.want = d};
		char err[VL_ERRLEN] = "";
		enum vl_err rc;

		for (size_t k = 0; k < cases[i].n; k++)
			c.len += cases[i].c[k].len;
		hand_record(&rec, &f, d, cases[i].c, cases[i].n);
		pl = place(rec.data, rec.len);
		CHECK(scan_pl(&f, &pl, &info, err) == cases[i].scan, cases[i].name);
		rc = record_open(f.r, pl.fd, pl.off, pl.fsize, &f.keys, cmp_sink, &c, &info, err);
		CHECK(rc == cases[i].open, cases[i].name);
		if (rc == VL_OK)
			CHECK(c.pos == c.len && !c.bad && info.raw_len == c.len, cases[i].name);
		close(pl.fd);
		buf_free(&rec);
	}
	free(d);
	fx_free(&f);
}

/* ---- damage ---- */

/* expect_damaged - flip one bit at a record offset; scan and open must both say CORRUPT. */
static void
expect_damaged(struct fx *f, const struct placed *pl, size_t at, uint8_t mask, const char *what)
{
	struct record_info info;
	char err[VL_ERRLEN], label[128];

	snprintf(label, sizeof(label), "%s: bit 0x%02x of byte %zu of %zu", what, mask, at,
		 pl->len);
	flip(pl->fd, pl->off + (off_t)at, mask);
	CHECK(scan_pl(f, pl, &info, err) == VL_ERR_CORRUPT, label);
	CHECK(open_pl(f, pl, &info, err) == VL_ERR_CORRUPT, label);
	flip(pl->fd, pl->off + (off_t)at, mask);
}

static void
test_damage_every_byte(void)
{
	struct fx f;
	uint8_t d[700];

	fx_init(&f, 1);
	gen_text(d, sizeof(d), 8);
	for (int enc = 0; enc < 2; enc++)
		for (int z = 0; z < 3; z++) {
			struct record_params p = fx_params(&f, enc, z);
			struct buf rec = {0};
			struct record_info info;
			char err[VL_ERRLEN], what[64];
			struct placed pl;

			snprintf(what, sizeof(what), "%s %s", enc_name[enc], z_name[z]);
			CU_ASSERT_FATAL(record_seal_buf(f.s, &p, d, sizeof(d), NULL, &rec, &info) ==
					VL_OK);
			pl = place(rec.data, rec.len);
			CHECK(open_pl(&f, &pl, &info, err) == VL_OK, what);
			for (size_t i = 0; i < rec.len; i++) {
				expect_damaged(&f, &pl, i, 0x01, what);
				expect_damaged(&f, &pl, i, 0x80, what);
			}
			/* The bytes around the record are not the record's. */
			flip(pl.fd, pl.off - 1, 0xff);
			flip(pl.fd, pl.off + (off_t)pl.len, 0xff);
			CHECK(open_pl(&f, &pl, &info, err) == VL_OK, what);
			close(pl.fd);
			buf_free(&rec);
		}
	fx_free(&f);
}

static void
test_damage_multi_frame(void)
{
	const size_t n = 3 * 65536 + 5;
	struct fx f;
	uint8_t *d = xmalloc(n);

	fx_init(&f, 0);
	gen_random(d, n, 6);
	for (int enc = 0; enc < 2; enc++) {
		struct record_params p = fx_params(&f, enc, Z_RAW);
		struct buf rec = {0};
		struct record_info info;
		size_t at[8], nf;
		struct placed pl;

		CU_ASSERT_FATAL(record_seal_buf(f.s, &p, d, n, NULL, &rec, &info) == VL_OK);
		nf = frames_of(rec.data, rec.len, at, 8);
		CU_ASSERT_FATAL(nf == 4);
		pl = place(rec.data, rec.len);
		for (size_t i = 0; i < RECORD_HEADER_LEN; i++)
			expect_damaged(&f, &pl, i, 0x04, "header");
		for (size_t k = 0; k < nf; k++) {
			size_t fl = get_u32le(rec.data + at[k]);

			for (size_t i = 0; i < 4; i++) {
				expect_damaged(&f, &pl, at[k] + i, 0x01, "frame length");
				expect_damaged(&f, &pl, at[k] + i, 0x40, "frame length");
			}
			expect_damaged(&f, &pl, at[k] + 4, 0x01, "frame payload");
			expect_damaged(&f, &pl, at[k] + 4 + fl / 2, 0x10, "frame payload");
			expect_damaged(&f, &pl, at[k] + 3 + fl, 0x80, "frame payload");
		}
		for (size_t i = rec.len - RECORD_TRAILER_LEN - 4; i < rec.len; i++)
			expect_damaged(&f, &pl, i, 0x02, "terminator or trailer");
		close(pl.fd);
		buf_free(&rec);
	}
	free(d);
	fx_free(&f);
}

static void
test_torn(void)
{
	static const size_t lens[] = {700, 65536 + 300};
	struct fx f;
	uint8_t *d = xmalloc(65536 + 300);

	fx_init(&f, 0);
	gen_text(d, 65536 + 300, 7);
	for (int c = 0; c < 4; c++) {
		int enc = c & 1;
		struct record_params p = fx_params(&f, enc, Z_RAW);
		struct buf rec = {0};
		struct record_info info;
		char err[VL_ERRLEN] = "";
		struct placed pl;
		size_t at[4], nf;

		CU_ASSERT_FATAL(record_seal_buf(f.s, &p, d, lens[c >> 1], NULL, &rec, &info) ==
				VL_OK);
		pl = place(rec.data, rec.len);
		/* Lengths short of the whole record, as the file's end: all of them for the small
		 * record; for the big one the first and last 300 and 300 around each frame. */
		nf = frames_of(rec.data, rec.len, at, 4);
		for (size_t k = 0; k < rec.len; k++) {
			enum vl_err a, b;
			int near = k < 300 || k + 300 > rec.len;

			for (size_t i = 0; i < nf; i++)
				near |= k + 150 > at[i] && k < at[i] + 150;
			if (!near && rec.len > 2000)
				continue;

			a = record_scan(f.r, pl.fd, pl.off, pl.off + (off_t)k, &info, err);
			b = record_open(f.r, pl.fd, pl.off, pl.off + (off_t)k, &f.keys, NULL, NULL,
					&info, err);
			if (a != VL_ERR_CORRUPT || b != VL_ERR_CORRUPT) {
				char what[64];

				snprintf(what, sizeof(what), "torn at %zu of %zu", k, rec.len);
				CHECK(a == VL_ERR_CORRUPT && b == VL_ERR_CORRUPT, what);
				break;
			}
		}
		CU_ASSERT(record_scan(f.r, pl.fd, pl.off, pl.off + (off_t)rec.len, &info, err) ==
			  VL_OK);
		/* The file really cut short, the caller's size not knowing it. */
		CU_ASSERT_FATAL(ftruncate(pl.fd, pl.off + (off_t)rec.len - 1) == 0);
		CU_ASSERT(record_scan(f.r, pl.fd, pl.off, pl.off + (off_t)rec.len, &info, err) ==
			  VL_ERR_CORRUPT);
		CU_ASSERT(strstr(err, "torn") != NULL);
		CU_ASSERT(record_scan(f.r, pl.fd, pl.off, pl.off + (off_t)rec.len - 1, &info,
				      err) == VL_ERR_CORRUPT);
		CU_ASSERT(strstr(err, "torn") != NULL);
		/* At the end of the file, and past it. */
		CU_ASSERT(record_scan(f.r, pl.fd, pl.off, pl.off, &info, err) == VL_ERR_CORRUPT);
		CU_ASSERT(record_scan(f.r, pl.fd, pl.off + 1, pl.off, &info, err) == VL_ERR_CONFIG);
		close(pl.fd);
		buf_free(&rec);
	}
	free(d);
	fx_free(&f);
}

/* ---- keys and forgery ---- */

static void
test_keys(void)
{
	struct fx f;
	uint8_t d[5000];
	struct buf rec = {0};
	struct record_info info;
	struct record_params p;
	struct placed pl;
	char err[VL_ERRLEN];

	fx_init(&f, 1);
	gen_text(d, sizeof(d), 1);
	p = fx_params(&f, ENC_AEAD, Z_DICT);
	CU_ASSERT_FATAL(record_seal_buf(f.s, &p, d, sizeof(d), NULL, &rec, &info) == VL_OK);
	pl = place(rec.data, rec.len);
	CU_ASSERT(open_pl(&f, &pl, &info, err) == VL_OK);

	f.wrong_key = 1;
	CU_ASSERT(open_pl(&f, &pl, &info, err) == VL_ERR_CRYPTO);
	CU_ASSERT(scan_pl(&f, &pl, &info, err) == VL_OK); /* no keys needed to scan */
	f.wrong_key = 0;

	f.no_key = 1;
	err[0] = 0;
	CU_ASSERT(open_pl(&f, &pl, &info, err) == VL_ERR_NOKEY);
	CU_ASSERT(strstr(err, "key 7") != NULL);
	CU_ASSERT(record_open(f.r, pl.fd, pl.off, pl.fsize, NULL, NULL, NULL, &info, err) ==
		  VL_ERR_NOKEY);
	/* Damage outranks a missing key: the record is broken, whoever holds keys. */
	flip(pl.fd, pl.off + 100, 0x01);
	CU_ASSERT(open_pl(&f, &pl, &info, err) == VL_ERR_CORRUPT);
	f.no_key = 0;
	f.wrong_key = 1;
	CU_ASSERT(open_pl(&f, &pl, &info, err) == VL_ERR_CORRUPT);
	f.wrong_key = 0;
	flip(pl.fd, pl.off + 100, 0x01);

	f.no_dict = 1;
	err[0] = 0;
	CU_ASSERT(open_pl(&f, &pl, &info, err) == VL_ERR_NOKEY);
	CU_ASSERT(strstr(err, "dictionary 1") != NULL);
	f.no_dict = 0;
	CU_ASSERT(open_pl(&f, &pl, &info, err) == VL_OK);
	close(pl.fd);
	buf_free(&rec);
	fx_free(&f);
}

enum forge_op {
	FORGE_KEY_ID, /* 7 -> 8, the same key bytes */
	FORGE_STORED_AT,
	FORGE_KIND,
	FORGE_DICT_ID, /* 1 -> 2, the same dictionary */
	FORGE_SS_HEADER,
	FORGE_RAW_LEN,
	FORGE_SUBJECT,
	FORGE_SWAP_FRAMES,
	FORGE_DROP_LAST,
	FORGE_SPLICE, /* a frame from another record under the same key */
};

/* forge - edit rec as a forger without the key would, then recompute the checksum. */
static void
forge(struct buf *rec, const struct buf *other, enum forge_op op)
{
	uint8_t *r = rec->data;
	size_t at[16], n = frames_of(r, rec->len, at, 16), t = rec->len - RECORD_TRAILER_LEN;

	switch (op) {
	case FORGE_KEY_ID:
		put_u32le(r + 8, 8);
		break;
	case FORGE_STORED_AT:
		put_u64le(r + 16, get_u64le(r + 16) + 1);
		break;
	case FORGE_KIND:
		r[4] = RECORD_RECEIPT;
		break;
	case FORGE_DICT_ID:
		put_u32le(r + 12, 2);
		break;
	case FORGE_SS_HEADER:
		r[30] ^= 1;
		break;
	case FORGE_RAW_LEN:
		put_u64le(r + t, get_u64le(r + t) - 1);
		break;
	case FORGE_SUBJECT:
		r[t + 8] ^= 1;
		break;
	case FORGE_SWAP_FRAMES: {
		size_t fl = 4 + get_u32le(r + at[1]);
		uint8_t *tmp = xmalloc(fl);

		CU_ASSERT_FATAL(n >= 4 && fl == 4 + (size_t)get_u32le(r + at[2]));
		memcpy(tmp, r + at[1], fl);
		memmove(r + at[1], r + at[2], fl);
		memcpy(r + at[2], tmp, fl);
		free(tmp);
		break;
	}
	case FORGE_DROP_LAST: {
		/* raw_len is fixed up too, or the scan's length check would see it first. */
		size_t cut = rec->len - at[n - 1] - RECORD_TRAILER_LEN - 4;

		put_u64le(r + t, get_u64le(r + t) - (cut - 4 - RECORD_ABYTES));
		memmove(r + at[n - 1], r + at[n - 1] + cut, rec->len - at[n - 1] - cut);
		rec->len -= cut;
		break;
	}
	case FORGE_SPLICE: {
		size_t oat[16];

		CU_ASSERT_FATAL(frames_of(other->data, other->len, oat, 16) >= 2);
		memcpy(r + at[1], other->data + oat[1], 4 + get_u32le(r + at[1]));
		break;
	}
	}
	reseal(rec->data, rec->len);
}

static void
test_forgery(void)
{
	static const struct {
		const char *name;
		enum forge_op op;
		int z;
		enum vl_err want;
	} cases[] = {
	    {"key id changed to an id with the same key", FORGE_KEY_ID, Z_RAW, VL_ERR_CRYPTO},
	    {"stored_at changed", FORGE_STORED_AT, Z_RAW, VL_ERR_CRYPTO},
	    {"kind changed", FORGE_KIND, Z_RAW, VL_ERR_CRYPTO},
	    {"dict id changed to an id with the same dictionary", FORGE_DICT_ID, Z_DICT,
	     VL_ERR_CRYPTO},
	    {"stream header changed", FORGE_SS_HEADER, Z_RAW, VL_ERR_CRYPTO},
	    {"raw_len changed (zstd)", FORGE_RAW_LEN, Z_DICT, VL_ERR_CRYPTO},
	    {"raw_len changed (uncompressed: the scan sees it)", FORGE_RAW_LEN, Z_RAW,
	     VL_ERR_CORRUPT},
	    {"subject changed", FORGE_SUBJECT, Z_RAW, VL_ERR_CRYPTO},
	    {"two frames swapped", FORGE_SWAP_FRAMES, Z_RAW, VL_ERR_CRYPTO},
	    {"last frame dropped", FORGE_DROP_LAST, Z_RAW, VL_ERR_CRYPTO},
	    {"frame spliced from another record", FORGE_SPLICE, Z_RAW, VL_ERR_CRYPTO},
	};
	const size_t n = 4 * 65536 + 77;
	struct fx f;
	uint8_t *d = xmalloc(n);
	struct buf other = {0};
	struct record_params p;
	struct record_info info;

	fx_init(&f, 1);
	gen_random(d, n, 10);
	p = fx_params(&f, ENC_AEAD, Z_RAW);
	CU_ASSERT_FATAL(record_seal_buf(f.s, &p, d, n, NULL, &other, &info) == VL_OK);
	gen_random(d, n, 11);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf rec = {0};
		struct placed pl;
		char err[VL_ERRLEN] = "";

		p = fx_params(&f, ENC_AEAD, cases[i].z);
		CU_ASSERT_FATAL(record_seal_buf(f.s, &p, d, n, NULL, &rec, &info) == VL_OK);
		forge(&rec, &other, cases[i].op);
		pl = place(rec.data, rec.len);
		if (cases[i].want == VL_ERR_CRYPTO)
			CHECK(scan_pl(&f, &pl, &info, err) == VL_OK, cases[i].name);
		CHECK(open_pl(&f, &pl, &info, err) == cases[i].want, cases[i].name);
		close(pl.fd);
		buf_free(&rec);
	}
	/* A plain record is checksummed, not authenticated: FORMAT.md says so. */
	{
		struct buf rec = {0};
		struct placed pl;
		char err[VL_ERRLEN];

		p = fx_params(&f, ENC_PLAIN, Z_ZSTD);
		CU_ASSERT_FATAL(record_seal_buf(f.s, &p, d, 1000, NULL, &rec, &info) == VL_OK);
		forge(&rec, NULL, FORGE_STORED_AT);
		pl = place(rec.data, rec.len);
		CU_ASSERT(open_pl(&f, &pl, &info, err) == VL_OK);
		CU_ASSERT(info.stored_at_us == STORED_AT + 1);
		close(pl.fd);
		buf_free(&rec);
	}
	buf_free(&other);
	free(d);
	fx_free(&f);
}

/* plain_record - a plaintext record of one frame (none when plen is 0), built by hand. */
static void
plain_record(struct buf *out, uint8_t flags, const uint8_t *payload, size_t plen, uint64_t raw)
{
	uint8_t h[RECORD_HEADER_LEN] = "VLR1", t[RECORD_TRAILER_LEN] = {0};

	h[4] = RECORD_CHECKPOINT;
	h[5] = flags;
	buf_append(out, h, sizeof(h));
	if (plen) {
		buf_append_u32le(out, (uint32_t)plen);
		buf_append(out, payload, plen);
	}
	buf_append_u32le(out, 0);
	put_u64le(t, raw);
	buf_append(out, t, sizeof(t));
	reseal(out->data, out->len);
}

/* Rules a correct writer always keeps, checked even when the checksum is right. */
static void
test_rules_behind_checksum(void)
{
	enum {
		HDR_FLAGS,
		HDR_RESERVED,
		HDR_KIND0,
		HDR_PLAIN_KEY_ID,
		HDR_PLAIN_SS,
		HDR_PLAIN_DICT,
		HDR_AEAD_KEY_ID0,
		LEN_RAW_PLUS,
		ZSTD_LAST_DROPPED,
		ZSTD_ON_RAW,
		ZSTD_TWO_FRAMES,
		ZSTD_CUT_SHORT,
		ZSTD_WINDOW_8M
	};
	static const struct {
		const char *name;
		int op, enc, z;
		enum vl_err scan, open;
	} cases[] = {
	    {"unknown flag bit", HDR_FLAGS, ENC_PLAIN, Z_RAW, VL_ERR_CORRUPT, VL_ERR_CORRUPT},
	    {"reserved bytes set", HDR_RESERVED, ENC_PLAIN, Z_RAW, VL_ERR_CORRUPT, VL_ERR_CORRUPT},
	    {"kind 0", HDR_KIND0, ENC_PLAIN, Z_RAW, VL_ERR_CORRUPT, VL_ERR_CORRUPT},
	    {"plain record naming a key", HDR_PLAIN_KEY_ID, ENC_PLAIN, Z_RAW, VL_ERR_CORRUPT,
	     VL_ERR_CORRUPT},
	    {"plain record with a stream header", HDR_PLAIN_SS, ENC_PLAIN, Z_RAW, VL_ERR_CORRUPT,
	     VL_ERR_CORRUPT},
	    {"dictionary without zstd", HDR_PLAIN_DICT, ENC_PLAIN, Z_RAW, VL_ERR_CORRUPT,
	     VL_ERR_CORRUPT},
	    {"encrypted record with key id 0", HDR_AEAD_KEY_ID0, ENC_AEAD, Z_RAW, VL_ERR_CORRUPT,
	     VL_ERR_CORRUPT},
	    {"zstd output longer than raw_len", LEN_RAW_PLUS, ENC_PLAIN, Z_ZSTD, VL_OK,
	     VL_ERR_CORRUPT},
	    {"zstd frame cut at a record frame", ZSTD_LAST_DROPPED, ENC_PLAIN, Z_ZSTD, VL_OK,
	     VL_ERR_CORRUPT},
	    {"zstd flag on stored bytes", ZSTD_ON_RAW, ENC_PLAIN, Z_RAW, VL_OK, VL_ERR_CORRUPT},
	    {"a second zstd frame after the first", ZSTD_TWO_FRAMES, ENC_PLAIN, Z_ZSTD, VL_OK,
	     VL_ERR_CORRUPT},
	    {"zstd frame cut short, raw_len matching what it gives", ZSTD_CUT_SHORT, ENC_PLAIN,
	     Z_ZSTD, VL_OK, VL_ERR_CORRUPT},
	    {"zstd window above 4 MiB", ZSTD_WINDOW_8M, ENC_PLAIN, Z_ZSTD, VL_OK, VL_ERR_CORRUPT},
	};
	const size_t n = 300000;
	struct fx f;
	uint8_t *d = xmalloc(n);

	fx_init(&f, 0);
	gen_random(d, n, 16);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct record_params p = fx_params(&f, cases[i].enc, cases[i].z);
		struct buf rec = {0};
		struct record_info info;
		struct placed pl;
		char err[VL_ERRLEN];
		uint8_t *r;
		size_t at[8], nf;

		CU_ASSERT_FATAL(record_seal_buf(f.s, &p, d, n, NULL, &rec, &info) == VL_OK);
		r = rec.data;
		nf = frames_of(r, rec.len, at, 8);
		switch (cases[i].op) {
		case HDR_FLAGS:
			r[5] |= 0x04;
			break;
		case HDR_RESERVED:
			r[7] = 1;
			break;
		case HDR_KIND0:
			r[4] = 0;
			break;
		case HDR_PLAIN_KEY_ID:
			put_u32le(r + 8, 5);
			break;
		case HDR_PLAIN_SS:
			r[40] = 1;
			break;
		case HDR_PLAIN_DICT:
			put_u32le(r + 12, 1);
			break;
		case HDR_AEAD_KEY_ID0:
			put_u32le(r + 8, 0);
			break;
		case LEN_RAW_PLUS:
			put_u64le(r + rec.len - RECORD_TRAILER_LEN, n - 1);
			break;
		case ZSTD_LAST_DROPPED: {
			size_t cut = rec.len - at[nf - 1] - RECORD_TRAILER_LEN - 4;

			CU_ASSERT_FATAL(nf >= 2);
			memmove(r + at[nf - 1], r + at[nf - 1] + cut, rec.len - at[nf - 1] - cut);
			rec.len -= cut;
			break;
		}
		case ZSTD_ON_RAW:
			r[5] |= RECORD_F_ZSTD;
			break;
		case ZSTD_TWO_FRAMES: {
			uint8_t z[2048];
			size_t a = ZSTD_compress(z, sizeof(z), d, 500, 3);
			size_t b = ZSTD_compress(z + a, sizeof(z) - a, d + 500, 500, 3);

			CU_ASSERT_FATAL(!ZSTD_isError(a) && !ZSTD_isError(b));
			/* raw_len counts the first frame only: the second is bytes after it. */
			buf_reset(&rec);
			plain_record(&rec, RECORD_F_ZSTD, z, a + b, 500);
			break;
		}
		case ZSTD_CUT_SHORT: {
			/* Random bytes make a raw block, which zstd streams out as it arrives. */
			uint8_t z[2048];
			size_t a = ZSTD_compress(z, sizeof(z), d, 1000, 3);

			CU_ASSERT_FATAL(!ZSTD_isError(a) && a > 1000);
			buf_reset(&rec);
			plain_record(&rec, RECORD_F_ZSTD, z, a - 10, 990);
			break;
		}
		case ZSTD_WINDOW_8M: {
			ZSTD_CCtx *c = ZSTD_createCCtx();
			uint8_t z[2048];
			ZSTD_outBuffer o = {z, sizeof(z), 0};
			ZSTD_inBuffer in = {d, 1000, 0};

			/* Streamed, so zstd does not know the size and keeps the 8 MiB window. */
			ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, 23);
			ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0);
			CU_ASSERT_FATAL(
			    !ZSTD_isError(ZSTD_compressStream2(c, &o, &in, ZSTD_e_continue)));
			in.size = in.pos = 0;
			CU_ASSERT_FATAL(ZSTD_compressStream2(c, &o, &in, ZSTD_e_end) == 0);
			ZSTD_freeCCtx(c);
			buf_reset(&rec);
			plain_record(&rec, RECORD_F_ZSTD, z, o.pos, 1000);
			break;
		}
		}
		reseal(rec.data, rec.len);
		pl = place(rec.data, rec.len);
		CHECK(scan_pl(&f, &pl, &info, err) == cases[i].scan, cases[i].name);
		CHECK(open_pl(&f, &pl, &info, err) == cases[i].open, cases[i].name);
		close(pl.fd);
		buf_free(&rec);
	}
	/* The same hand-built record with one zstd frame is fine: the builder is right. */
	{
		struct buf rec = {0};
		struct record_info info;
		struct placed pl;
		char err[VL_ERRLEN];
		uint8_t z[2048];
		size_t a = ZSTD_compress(z, sizeof(z), d, 1000, 3);

		plain_record(&rec, RECORD_F_ZSTD, z, a, 1000);
		pl = place(rec.data, rec.len);
		CU_ASSERT(open_pl(&f, &pl, &info, err) == VL_OK && info.raw_len == 1000);
		close(pl.fd);
		buf_free(&rec);
	}
	free(d);
	fx_free(&f);
}

/* ---- the sealer's contract ---- */

static void
test_params(void)
{
	struct fx f;
	struct buf out = {0};
	struct record_info info;
	struct record_params ok, bad;

	fx_init(&f, 1);
	ok = fx_params(&f, ENC_AEAD, Z_DICT);
	buf_append(&out, "keep", 4);
#define BAD(field, value)                                                                          \
	do {                                                                                       \
		bad = ok;                                                                          \
		bad.field = value;                                                                 \
		CHECK(record_seal_buf(f.s, &bad, "x", 1, NULL, &out, &info) == VL_ERR_CONFIG,      \
		      #field " = " #value);                                                        \
		CHECK(out.len == 4 && memcmp(out.data, "keep", 4) == 0, #field);                   \
	} while (0)
	BAD(kind, (enum record_kind)0);
	BAD(kind, (enum record_kind)256);
	BAD(key_id, 0);
	BAD(key, NULL);
	BAD(zlevel, -1);
	BAD(zlevel, RECORD_ZLEVEL_MAX + 1);
	BAD(zlevel, 0); /* a dictionary without compression */
	BAD(dict_id, 0);
	BAD(cdict, NULL);
#undef BAD
	CU_ASSERT(record_begin(f.s, &ok, NULL, NULL) == VL_ERR_CONFIG);
	/* Kinds beyond those named here pass through (the store writes 6). */
	bad = ok;
	bad.kind = (enum record_kind)6;
	CU_ASSERT(record_seal_buf(f.s, &bad, "x", 1, NULL, &out, &info) == VL_OK);
	CU_ASSERT(info.kind == 6);
	{
		struct placed pl = place(out.data + 4, out.len - 4);
		char err[VL_ERRLEN];

		CU_ASSERT(open_pl(&f, &pl, &info, err) == VL_OK && info.kind == 6);
		close(pl.fd);
	}
	buf_free(&out);
	fx_free(&f);
}

struct failing_sink {
	size_t left;
	size_t got;
};

static enum vl_err
failing_fn(void *arg, const uint8_t *p, size_t n)
{
	struct failing_sink *s = arg;

	(void)p;
	if (n > s->left)
		return VL_ERR_NOSPACE;
	s->left -= n;
	s->got += n;
	return VL_OK;
}

static void
test_misuse_and_sink_errors(void)
{
	struct fx f;
	struct record_params p;
	struct record_info info;
	struct failing_sink fs = {.left = 1000};
	struct buf out = {0};
	uint8_t *d = xmalloc(300000);

	fx_init(&f, 0);
	gen_random(d, 300000, 2);
	p = fx_params(&f, ENC_AEAD, Z_ZSTD);
	CU_ASSERT(record_update(f.s, d, 1) == VL_ERR_INTERNAL); /* nothing begun */
	CU_ASSERT(record_finish(f.s, NULL, &info) == VL_ERR_INTERNAL);
	CU_ASSERT(record_begin(f.s, &p, failing_fn, &fs) == VL_OK);
	CU_ASSERT(record_update(f.s, d, 300000) == VL_ERR_NOSPACE);
	CU_ASSERT(record_update(f.s, d, 1) == VL_ERR_INTERNAL); /* the record is dead */
	CU_ASSERT(record_finish(f.s, NULL, &info) == VL_ERR_INTERNAL);
	/* The sealer itself is fine: the next record works. */
	CU_ASSERT(record_seal_buf(f.s, &p, d, 300000, NULL, &out, &info) == VL_OK);
	CU_ASSERT(record_finish(f.s, NULL, &info) == VL_ERR_INTERNAL); /* finished already */
	fs.left = RECORD_HEADER_LEN - 1;
	CU_ASSERT(record_begin(f.s, &p, failing_fn, &fs) == VL_ERR_NOSPACE);
	CU_ASSERT(record_update(f.s, d, 1) == VL_ERR_INTERNAL);
	buf_free(&out);
	free(d);
	fx_free(&f);
}

/* Frames leave the sealer as they fill: it never holds the message. */
static void
test_sealer_streams(void)
{
	struct fx f;
	uint8_t *d = xmalloc(MB5);

	fx_init(&f, 0);
	gen_random(d, MB5, 12);
	for (int z = 0; z < 2; z++) {
		struct record_params p = fx_params(&f, ENC_AEAD, z);
		struct failing_sink fs = {.left = SIZE_MAX};
		struct record_info info;

		CU_ASSERT_FATAL(record_begin(f.s, &p, failing_fn, &fs) == VL_OK);
		CU_ASSERT_FATAL(record_update(f.s, d, MB5) == VL_OK);
		/* At most a chunk (and, with zstd, a block of its own) is still inside. */
		CHECK(fs.got + 256 * 1024 >= MB5, z_name[z]);
		CU_ASSERT_FATAL(record_finish(f.s, NULL, &info) == VL_OK);
		CU_ASSERT(fs.got == info.record_len);
	}
	free(d);
	fx_free(&f);
}

/* One sealer across records of every kind of parameters, one after another in one file,
 * then a walk over the file by record_len, as a segment scan does. */
static void
test_reuse_and_walk(void)
{
	static const struct {
		int enc, z, level;
		size_t len;
	} seq[] = {
	    {ENC_AEAD, Z_DICT, 3, 3000},   {ENC_PLAIN, Z_ZSTD, 19, 150000},
	    {ENC_PLAIN, Z_RAW, 0, 0},	   {ENC_AEAD, Z_ZSTD, 1, 70000},
	    {ENC_AEAD, Z_RAW, 0, 65536},   {ENC_PLAIN, Z_DICT, 3, 100},
	    {ENC_PLAIN, Z_ZSTD, 7, 100},   {ENC_AEAD, Z_ZSTD, 19, 20000},
	    {ENC_AEAD, Z_DICT, 3, 200000}, {ENC_PLAIN, Z_ZSTD, 3, 1},
	};
	enum { N = sizeof(seq) / sizeof(seq[0]) };
	struct fx f;
	uint8_t *d = xmalloc(200000);
	struct record_info wi[N];
	int fd;
	off_t off = 0, fsize;
	char err[VL_ERRLEN] = "";

	fx_init(&f, 1);
	gen_text(d, 200000, 13);
	fd = tmp_fd();
	for (size_t i = 0; i < N; i++) {
		struct record_params p = fx_params(&f, seq[i].enc, seq[i].z);

		p.zlevel = seq[i].level;
		p.stored_at_us = (int64_t)i;
		CU_ASSERT_FATAL(record_begin(f.s, &p, fd_sink, &fd) == VL_OK);
		CU_ASSERT_FATAL(record_update(f.s, d, seq[i].len) == VL_OK);
		CU_ASSERT_FATAL(record_finish(f.s, NULL, &wi[i]) == VL_OK);
	}
	fsize = lseek(fd, 0, SEEK_CUR);
	for (size_t i = 0; i < N; i++) {
		struct record_info si, oi;
		struct cmp c = {.want = d, .len = seq[i].len};
		char what[32];

		snprintf(what, sizeof(what), "record %zu", i);
		CHECK(record_scan(f.r, fd, off, fsize, &si, err) == VL_OK, what);
		CHECK(si.record_len == wi[i].record_len && si.stored_at_us == (int64_t)i, what);
		CHECK(record_open(f.r, fd, off, fsize, &f.keys, cmp_sink, &c, &oi, err) == VL_OK,
		      what);
		CHECK(c.pos == seq[i].len && !c.bad, what);
		CHECK(memcmp(oi.sha256, wi[i].sha256, 32) == 0, what);
		off += (off_t)si.record_len;
	}
	CU_ASSERT(off == fsize);
	close(fd);
	free(d);
	fx_free(&f);
}

/* read_syscalls - this process's read(2)/pread(2) count, or -1 without task I/O accounting. */
static long long
read_syscalls(void)
{
	FILE *fp = fopen("/proc/self/io", "r");
	char line[128];
	long long v = -1;

	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp))
		if (sscanf(line, "syscr: %lld", &v) == 1)
			break;
	fclose(fp);
	return v;
}

/* Reads are buffered: a 5 MB record of 77 frames costs about 5 MB / 256 KiB preads. */
static void
test_buffered_reads(void)
{
	struct fx f;
	uint8_t *d = xmalloc(MB5);
	struct buf rec = {0};
	struct record_info info;
	struct record_params p;
	struct placed pl;
	char err[VL_ERRLEN];
	long long before, scan_reads, open_reads;

	fx_init(&f, 0);
	gen_random(d, MB5, 14);
	p = fx_params(&f, ENC_AEAD, Z_RAW);
	CU_ASSERT_FATAL(record_seal_buf(f.s, &p, d, MB5, NULL, &rec, &info) == VL_OK);
	pl = place(rec.data, rec.len);
	if ((before = read_syscalls()) < 0) {
		CU_PASS("no /proc/self/io: read counts not checked");
	} else {
		CU_ASSERT(scan_pl(&f, &pl, &info, err) == VL_OK);
		scan_reads = read_syscalls() - before;
		before = read_syscalls();
		CU_ASSERT(open_pl(&f, &pl, &info, err) == VL_OK);
		open_reads = read_syscalls() - before;
		/* 20 buffer fills, + 1 for reading /proc itself, + slack; per frame would be 77+.
		 */
		if (getenv("VL_TEST_VERBOSE"))
			fprintf(stderr, "record: 5 MB record: %lld reads to scan, %lld to open\n",
				scan_reads, open_reads);
		CU_ASSERT(scan_reads <= 24);
		CU_ASSERT(open_reads <= 24);
	}
	close(pl.fd);
	buf_free(&rec);
	free(d);
	fx_free(&f);
}

/* The memory figures in record.h hold at every level, with and without a dictionary, for
 * records past the 64 KiB where zstd is told the size (its largest tables and window). */
static void
test_memory_bound(void)
{
	struct fx f;
	const size_t n = 200000;
	uint8_t *d = xmalloc(n);
	size_t sealer_max = 0, reader_max = 0;

	fx_init(&f, 1);
	gen_text(d, n, 15);
	for (int level = 1; level <= RECORD_ZLEVEL_MAX; level++)
		for (int dict = 0; dict < 2; dict++) {
			struct record_sealer *s = record_sealer_new();
			struct record_reader *r = record_reader_new();
			ZSTD_CDict *cd = dict ? ZSTD_createCDict(f.dict, f.dlen, level) : NULL;
			struct record_params p = fx_params(&f, ENC_AEAD, dict ? Z_DICT : Z_ZSTD);
			struct buf rec = {0};
			struct record_info info;
			struct placed pl;
			char err[VL_ERRLEN], what[48];

			snprintf(what, sizeof(what), "level %d dict %d", level, dict);
			p.zlevel = level;
			p.cdict = cd;
			CU_ASSERT_FATAL(record_seal_buf(s, &p, d, n, NULL, &rec, &info) == VL_OK);
			pl = place(rec.data, rec.len);
			CHECK(record_open(r, pl.fd, pl.off, pl.fsize, &f.keys, NULL, NULL, &info,
					  err) == VL_OK,
			      what);
			CHECK(record_sealer_sizeof(s) <= RECORD_SEALER_MEM, what);
			CHECK(record_reader_sizeof(r) <= RECORD_READER_MEM, what);
			if (record_sealer_sizeof(s) > sealer_max)
				sealer_max = record_sealer_sizeof(s);
			if (record_reader_sizeof(r) > reader_max)
				reader_max = record_reader_sizeof(r);
			close(pl.fd);
			buf_free(&rec);
			ZSTD_freeCDict(cd);
			record_sealer_free(s);
			record_reader_free(r);
		}
	if (getenv("VL_TEST_VERBOSE"))
		fprintf(stderr, "record: sealer max %zu, reader max %zu bytes\n", sealer_max,
			reader_max);
	free(d);
	fx_free(&f);
}

UNIT_SUITE(record, {"round trip: edge sizes x plain/aead x raw/zstd/dict", test_roundtrip_sizes},
	   {"round trip: 5 MB random and 5 MB text", test_roundtrip_5mb},
	   {"layout: aead frames, AD rule, trailer, checksum", test_layout_aead},
	   {"layout: one zstd frame, no checksum/size/dict id, window <= 4 MiB", test_layout_zstd},
	   {"overhead: empty records", test_overhead_empty},
	   {"reader: records built by hand, one rule broken at a time", test_hand_built},
	   {"damage: every bit 0 and 7 of small records -> CORRUPT", test_damage_every_byte},
	   {"damage: header, frame lengths, payloads, trailer of 4 frames",
	    test_damage_multi_frame},
	   {"torn: short lengths -> CORRUPT", test_torn},
	   {"keys: wrong -> CRYPTO, missing -> NOKEY, damage outranks both", test_keys},
	   {"forgery with the checksum recomputed -> CRYPTO", test_forgery},
	   {"rules behind the checksum: header fields, lengths, zstd frame",
	    test_rules_behind_checksum},
	   {"params: bad -> CONFIG, out unchanged; unnamed kinds pass", test_params},
	   {"sealer: misuse and sink errors", test_misuse_and_sink_errors},
	   {"sealer: frames leave as they fill", test_sealer_streams},
	   {"sealer reuse across parameters; walk a file by record_len", test_reuse_and_walk},
	   {"reader: buffered preads", test_buffered_reads},
	   {"memory bound at every level", test_memory_bound});
