/* record - the self-delimiting, checksummed, sealed record that store segments are made of.
 * The layout and the reasons for each field are in archiver/FORMAT.md, section "Record". */
/* ZSTD_getCParams is in zstd's "experimental" section, though unchanged since v1.0 and exported
 * by the shared library. It is the only way to learn a level's default window and tables, which
 * record_zstd_params needs in order to lower them without ever raising them. */
#define ZSTD_STATIC_LINKING_ONLY
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "buf.h"
#include "fsutil.h"
#include "log.h"
#include "record.h"

static_assert(RECORD_ABYTES == crypto_secretstream_xchacha20poly1305_ABYTES, "ABYTES");
static_assert(RECORD_SS_HEADER_LEN == crypto_secretstream_xchacha20poly1305_HEADERBYTES, "HDR");
static_assert(crypto_secretstream_xchacha20poly1305_KEYBYTES == 32, "key size");
static_assert(RECORD_CHECKSUM_LEN >= crypto_generichash_BYTES_MIN &&
		  RECORD_CHECKSUM_LEN <= crypto_generichash_BYTES_MAX,
	      "checksum size");
static_assert(RECORD_HEADER_LEN == 24 + RECORD_SS_HEADER_LEN, "header layout");
static_assert(RECORD_TRAILER_LEN == 8 + RECORD_SUBJECT_LEN + RECORD_CHECKSUM_LEN, "trailer");
/* The longest run of bytes a walk needs at once: a frame, the next length and the trailer. */
#define WALK_NEED_MAX (4 + RECORD_FRAME_MAX + 4 + RECORD_TRAILER_LEN)
static_assert(WALK_NEED_MAX <= RECORD_READ_BUF, "read size");
/* The read buffer holds what is left of the last read (less than WALK_NEED_MAX) followed by a
 * full RECORD_READ_BUF read, so each pread moves the walk a whole RECORD_READ_BUF on. */
#define READER_RBUF (RECORD_READ_BUF + WALK_NEED_MAX)

/* The trailer's first 40 bytes, raw_len || subject: the final chunk's associated data. */
#define TAIL_AD_LEN (8 + RECORD_SUBJECT_LEN)
#define FLAGS_KNOWN (RECORD_F_ENCRYPTED | RECORD_F_ZSTD)

static enum vl_err
zstd_err(size_t code)
{
	return ZSTD_getErrorCode(code) == ZSTD_error_memory_allocation ? VL_ERR_NOMEM
								       : VL_ERR_INTERNAL;
}

/* chunk_ad - the associated data of a chunk: the header for the first, raw_len || subject for
 * the final, both (in that order) for a chunk that is first and final, none otherwise. Binding
 * the header to the first chunk and the trailer to the last means no header field, length or
 * subject can be changed without the key, even when the checksum is recomputed. */
static size_t
chunk_ad(uint8_t ad[RECORD_HEADER_LEN + TAIL_AD_LEN], int first, int final, const uint8_t *header,
	 const uint8_t *tail)
{
	size_t n = 0;

	if (first) {
		memcpy(ad, header, RECORD_HEADER_LEN);
		n = RECORD_HEADER_LEN;
	}
	if (final) {
		memcpy(ad + n, tail, TAIL_AD_LEN);
		n += TAIL_AD_LEN;
	}
	return n;
}

static EVP_MD *
sha256_fetch(void)
{
	EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);

	if (md == NULL)
		vl_fatalx("openssl: no SHA256");
	return md;
}

static EVP_MD_CTX *
sha256_ctx_new(void)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	if (c == NULL)
		vl_fatalx("EVP_MD_CTX_new");
	return c;
}

/* ==== write side ==== */

enum sealer_state { SEALER_IDLE, SEALER_OPEN, SEALER_DEAD };

struct record_sealer {
	ZSTD_CCtx *zc;
	EVP_MD *md;
	EVP_MD_CTX *sha;
	crypto_secretstream_xchacha20poly1305_state ss;
	crypto_generichash_state ck;
	enum sealer_state state;
	record_write_fn fn;
	void *arg;
	uint8_t header[RECORD_HEADER_LEN];
	uint8_t flags;
	int zstarted; /* zstd has been given bytes (size unknown) */
	size_t ilen;  /* bytes held in in[] */
	size_t clen;  /* bytes of the pending chunk */
	uint64_t raw_len, record_len, nframes;
	uint8_t *in;	/* RECORD_CHUNK: a message's first bytes, until its size is known */
	uint8_t *zout;	/* RECORD_CHUNK: zstd output on its way into the chunk */
	uint8_t *chunk; /* 4 + RECORD_CHUNK: length prefix, then the pending chunk */
	uint8_t *frame; /* 4 + RECORD_FRAME_MAX: length prefix, then the sealed chunk */
};

#define SEALER_BUFS (2 * RECORD_CHUNK + (4 + RECORD_CHUNK) + (4 + RECORD_FRAME_MAX))

/* record_sealer_new - a sealer; the caller frees it with record_sealer_free. */
struct record_sealer *
record_sealer_new(void)
{
	struct record_sealer *s = xcalloc(1, sizeof(*s));

	if ((s->zc = ZSTD_createCCtx()) == NULL)
		vl_fatalx("ZSTD_createCCtx");
	s->md = sha256_fetch();
	s->sha = sha256_ctx_new();
	s->in = xmalloc(RECORD_CHUNK);
	s->zout = xmalloc(RECORD_CHUNK);
	s->chunk = xmalloc(4 + RECORD_CHUNK);
	s->frame = xmalloc(4 + RECORD_FRAME_MAX);
	return s;
}

/* record_sealer_free - release s, wiping the stream state (it holds the derived key) and every
 * buffer that held plaintext. NULL is a no-op. */
void
record_sealer_free(struct record_sealer *s)
{
	if (s == NULL)
		return;
	sodium_memzero(&s->ss, sizeof(s->ss));
	sodium_memzero(s->in, RECORD_CHUNK);
	sodium_memzero(s->zout, RECORD_CHUNK);
	sodium_memzero(s->chunk, 4 + RECORD_CHUNK);
	ZSTD_freeCCtx(s->zc);
	EVP_MD_CTX_free(s->sha);
	EVP_MD_free(s->md);
	free(s->in);
	free(s->zout);
	free(s->chunk);
	free(s->frame);
	free(s);
}

/* record_sealer_sizeof - our buffers plus zstd's workspace (OpenSSL's context not counted). */
size_t
record_sealer_sizeof(const struct record_sealer *s)
{
	return sizeof(*s) + SEALER_BUFS + ZSTD_sizeof_CCtx(s->zc);
}

/* sealer_kill - the record cannot be finished: forget the key-derived state. */
static void
sealer_kill(struct record_sealer *s)
{
	s->state = SEALER_DEAD;
	sodium_memzero(&s->ss, sizeof(s->ss));
}

/* sealer_out - hand record bytes to the sink; every byte before the checksum is hashed. */
static enum vl_err
sealer_out(struct record_sealer *s, const uint8_t *p, size_t n, int hashed)
{
	if (hashed)
		crypto_generichash_update(&s->ck, p, n);
	s->record_len += n;
	return s->fn(s->arg, p, n);
}

/* sealer_emit - seal the pending chunk as one frame. tail is raw_len || subject when final. */
static enum vl_err
sealer_emit(struct record_sealer *s, int final, const uint8_t *tail)
{
	uint8_t ad[RECORD_HEADER_LEN + TAIL_AD_LEN];
	unsigned long long flen;
	size_t adlen;
	enum vl_err rc;

	if (!(s->flags & RECORD_F_ENCRYPTED)) {
		put_u32le(s->chunk, (uint32_t)s->clen);
		rc = sealer_out(s, s->chunk, 4 + s->clen, 1);
	} else {
		adlen = chunk_ad(ad, s->nframes == 0, final, s->header, tail);
		crypto_secretstream_xchacha20poly1305_push(
		    &s->ss, s->frame + 4, &flen, s->chunk + 4, s->clen, adlen ? ad : NULL, adlen,
		    final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
			  : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
		put_u32le(s->frame, (uint32_t)flen);
		rc = sealer_out(s, s->frame, 4 + (size_t)flen, 1);
	}
	s->nframes++;
	s->clen = 0;
	return rc;
}

/* sealer_add - append stored bytes to the pending chunk. A full chunk is sealed only when a
 * further byte arrives, because the final chunk is tagged and bound differently and only
 * record_finish knows which one is final. */
static enum vl_err
sealer_add(struct record_sealer *s, const uint8_t *p, size_t n)
{
	enum vl_err rc;

	while (n > 0) {
		size_t take;

		if (s->clen == RECORD_CHUNK && (rc = sealer_emit(s, 0, NULL)) != VL_OK)
			return rc;
		take = RECORD_CHUNK - s->clen < n ? RECORD_CHUNK - s->clen : n;
		memcpy(s->chunk + 4 + s->clen, p, take);
		s->clen += take;
		p += take;
		n -= take;
	}
	return VL_OK;
}

/* sealer_compress - run n bytes through zstd into the chunker; ZSTD_e_end finishes the frame. */
static enum vl_err
sealer_compress(struct record_sealer *s, const void *p, size_t n, ZSTD_EndDirective mode)
{
	ZSTD_inBuffer in = {p, n, 0};
	size_t left;
	enum vl_err rc;

	do {
		ZSTD_outBuffer out = {s->zout, RECORD_CHUNK, 0};

		left = ZSTD_compressStream2(s->zc, &out, &in, mode);
		if (ZSTD_isError(left))
			return zstd_err(left);
		if ((rc = sealer_add(s, s->zout, out.pos)) != VL_OK)
			return rc;
	} while (mode == ZSTD_e_end ? left != 0 : in.pos < in.size);
	return VL_OK;
}

/* record_zstd_params - prepare the context for one record at level (session reset only, so the
 * workspace is kept). Checksum, content size and dictionary id stay out of the frame: the
 * record carries raw_len and dict_id and is itself checksummed and authenticated. The window,
 * hash and chain logs are lowered to the RECORD_ZSTD_*_MAX caps where the level's default for
 * an unknown size is larger, and otherwise set back to 0 (the default), since parameters
 * survive a session reset and the previous record may have used another level. */
static enum vl_err
record_zstd_params(ZSTD_CCtx *zc, int level, const ZSTD_CDict *cdict)
{
	ZSTD_compressionParameters cp = ZSTD_getCParams(level, ZSTD_CONTENTSIZE_UNKNOWN, 0);
	const struct {
		ZSTD_cParameter p;
		int v;
	} set[] = {
	    {ZSTD_c_compressionLevel, level},
	    {ZSTD_c_checksumFlag, 0},
	    {ZSTD_c_contentSizeFlag, 0},
	    {ZSTD_c_dictIDFlag, 0},
	    {ZSTD_c_windowLog,
	     cp.windowLog > RECORD_ZSTD_WINDOWLOG_MAX ? RECORD_ZSTD_WINDOWLOG_MAX : 0},
	    {ZSTD_c_hashLog, cp.hashLog > RECORD_ZSTD_HASHLOG_MAX ? RECORD_ZSTD_HASHLOG_MAX : 0},
	    {ZSTD_c_chainLog,
	     cp.chainLog > RECORD_ZSTD_CHAINLOG_MAX ? RECORD_ZSTD_CHAINLOG_MAX : 0},
	};
	size_t r = ZSTD_CCtx_reset(zc, ZSTD_reset_session_only);

	for (size_t i = 0; i < sizeof(set) / sizeof(set[0]) && !ZSTD_isError(r); i++)
		r = ZSTD_CCtx_setParameter(zc, set[i].p, set[i].v);
	/* NULL drops the previous record's dictionary. */
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_refCDict(zc, cdict);
	return ZSTD_isError(r) ? zstd_err(r) : VL_OK;
}

static enum vl_err
record_params_check(const struct record_params *p, record_write_fn fn)
{
	if (p == NULL || fn == NULL)
		return VL_ERR_CONFIG;
	if ((int)p->kind <= 0 || (int)p->kind > 255)
		return VL_ERR_CONFIG;
	if ((p->key != NULL) != (p->key_id != 0))
		return VL_ERR_CONFIG;
	if (p->zlevel < 0 || p->zlevel > RECORD_ZLEVEL_MAX)
		return VL_ERR_CONFIG;
	if ((p->cdict != NULL) != (p->dict_id != 0) || (p->cdict && p->zlevel == 0))
		return VL_ERR_CONFIG;
	return VL_OK;
}

/* record_begin - start a record and write its header. VL_ERR_CONFIG for bad parameters,
 * VL_ERR_NOMEM/VL_ERR_INTERNAL from zstd or OpenSSL, or fn's error. */
enum vl_err
record_begin(struct record_sealer *s, const struct record_params *p, record_write_fn fn, void *arg)
{
	enum vl_err rc;

	sealer_kill(s);
	if ((rc = record_params_check(p, fn)) != VL_OK)
		goto out;
	s->fn = fn;
	s->arg = arg;
	s->flags = (uint8_t)((p->key ? RECORD_F_ENCRYPTED : 0) | (p->zlevel ? RECORD_F_ZSTD : 0));
	s->zstarted = 0;
	s->ilen = s->clen = 0;
	s->raw_len = s->record_len = s->nframes = 0;

	memset(s->header, 0, sizeof(s->header));
	memcpy(s->header, RECORD_MAGIC, 4);
	s->header[4] = (uint8_t)p->kind;
	s->header[5] = s->flags;
	put_u32le(s->header + 8, p->key_id);
	put_u32le(s->header + 12, p->dict_id);
	put_u64le(s->header + 16, (uint64_t)p->stored_at_us);
	if (p->key)
		crypto_secretstream_xchacha20poly1305_init_push(&s->ss, s->header + 24, p->key);
	if (p->zlevel && (rc = record_zstd_params(s->zc, p->zlevel, p->cdict)) != VL_OK)
		goto out;
	if (EVP_DigestInit_ex(s->sha, s->md, NULL) != 1) {
		rc = VL_ERR_INTERNAL;
		goto out;
	}
	crypto_generichash_init(&s->ck, NULL, 0, RECORD_CHECKSUM_LEN);
	s->state = SEALER_OPEN;
	rc = sealer_out(s, s->header, RECORD_HEADER_LEN, 1);
out:
	if (rc != VL_OK)
		sealer_kill(s);
	return rc;
}

/* record_update - add plaintext; VL_ERR_INTERNAL when no record is open, else as sealer_out. */
enum vl_err
record_update(struct record_sealer *s, const void *p, size_t n)
{
	enum vl_err rc = VL_OK;

	if (s->state != SEALER_OPEN)
		return VL_ERR_INTERNAL;
	if (n == 0)
		return VL_OK;
	if (EVP_DigestUpdate(s->sha, p, n) != 1) {
		rc = VL_ERR_INTERNAL;
		goto out;
	}
	s->raw_len += n;
	if (!(s->flags & RECORD_F_ZSTD)) {
		rc = sealer_add(s, p, n);
	} else if (!s->zstarted && n <= RECORD_CHUNK - s->ilen) {
		/* Hold the first 64 KiB: if the message ends there, zstd is told its size and
		 * sizes its tables and window to it (faster, far less memory to read it back). */
		memcpy(s->in + s->ilen, p, n);
		s->ilen += n;
	} else {
		if (!s->zstarted) {
			s->zstarted = 1;
			rc = sealer_compress(s, s->in, s->ilen, ZSTD_e_continue);
			s->ilen = 0;
		}
		if (rc == VL_OK)
			rc = sealer_compress(s, p, n, ZSTD_e_continue);
	}
out:
	if (rc != VL_OK)
		sealer_kill(s);
	return rc;
}

/* record_finish - last frame and trailer; fills info. Errors as record_update. */
enum vl_err
record_finish(struct record_sealer *s, const uint8_t subject[32], struct record_info *info)
{
	uint8_t t[4 + RECORD_TRAILER_LEN]; /* terminator | raw_len | subject | checksum */
	unsigned char sha[EVP_MAX_MD_SIZE];
	unsigned shalen = 0;
	enum vl_err rc = VL_OK;
	size_t r;

	if (s->state != SEALER_OPEN)
		return VL_ERR_INTERNAL;
	if ((s->flags & RECORD_F_ZSTD) && !s->zstarted) {
		r = ZSTD_CCtx_setPledgedSrcSize(s->zc, s->ilen);
		if (ZSTD_isError(r)) {
			rc = zstd_err(r);
			goto out;
		}
		rc = sealer_compress(s, s->in, s->ilen, ZSTD_e_end);
	} else if (s->flags & RECORD_F_ZSTD) {
		rc = sealer_compress(s, NULL, 0, ZSTD_e_end);
	}
	if (rc != VL_OK)
		goto out;

	put_u32le(t, 0);
	put_u64le(t + 4, s->raw_len);
	if (subject)
		memcpy(t + 12, subject, RECORD_SUBJECT_LEN);
	else
		memset(t + 12, 0, RECORD_SUBJECT_LEN);
	/* An encrypted record always has a final chunk, even an empty one, so that truncation
	 * at a frame boundary fails authentication. A plain empty record has no frame. */
	if ((s->flags & RECORD_F_ENCRYPTED) || s->clen > 0)
		if ((rc = sealer_emit(s, 1, t + 4)) != VL_OK)
			goto out;
	crypto_generichash_update(&s->ck, t, 4 + TAIL_AD_LEN);
	crypto_generichash_final(&s->ck, t + 4 + TAIL_AD_LEN, RECORD_CHECKSUM_LEN);
	if ((rc = sealer_out(s, t, sizeof(t), 0)) != VL_OK)
		goto out;
	if (EVP_DigestFinal_ex(s->sha, sha, &shalen) != 1 || shalen != 32) {
		rc = VL_ERR_INTERNAL;
		goto out;
	}
	if (info) {
		memset(info, 0, sizeof(*info));
		info->kind = (enum record_kind)s->header[4];
		info->flags = s->flags;
		info->key_id = get_u32le(s->header + 8);
		info->dict_id = get_u32le(s->header + 12);
		info->stored_at_us = (int64_t)get_u64le(s->header + 16);
		info->raw_len = s->raw_len;
		memcpy(info->subject, t + 12, RECORD_SUBJECT_LEN);
		info->record_len = s->record_len;
		memcpy(info->sha256, sha, 32);
	}
out:
	sealer_kill(s);
	if (rc == VL_OK)
		s->state = SEALER_IDLE;
	return rc;
}

static enum vl_err
buf_sink(void *arg, const uint8_t *p, size_t n)
{
	buf_append(arg, p, n);
	return VL_OK;
}

/* record_seal_buf - a whole record appended to out; out unchanged on failure. */
enum vl_err
record_seal_buf(struct record_sealer *s, const struct record_params *p, const void *data,
		size_t len, const uint8_t subject[32], struct buf *out, struct record_info *info)
{
	size_t start = out->len;
	enum vl_err rc;

	if ((rc = record_begin(s, p, buf_sink, out)) == VL_OK &&
	    (rc = record_update(s, data, len)) == VL_OK)
		rc = record_finish(s, subject, info);
	if (rc != VL_OK && out->data) {
		out->len = start;
		out->data[start] = 0;
	}
	return rc;
}

/* ==== read side ==== */

struct record_reader {
	ZSTD_DCtx *zd;
	EVP_MD *md;
	EVP_MD_CTX *sha;
	crypto_secretstream_xchacha20poly1305_state ss;
	uint8_t *buf; /* READER_RBUF: the file's bytes [base, base + len) */
	off_t base;
	size_t len;
	uint8_t *plain; /* RECORD_CHUNK: one decrypted chunk */
	uint8_t *zout;	/* RECORD_CHUNK: zstd output */
};

#define READER_BUFS (READER_RBUF + 2 * RECORD_CHUNK)

/* record_reader_new - a reader; the caller frees it with record_reader_free. */
struct record_reader *
record_reader_new(void)
{
	struct record_reader *r = xcalloc(1, sizeof(*r));
	size_t z;

	if ((r->zd = ZSTD_createDCtx()) == NULL)
		vl_fatalx("ZSTD_createDCtx");
	/* Refuse frames whose window would need more than 4 MiB: sealers never write them. */
	z = ZSTD_DCtx_setParameter(r->zd, ZSTD_d_windowLogMax, RECORD_ZSTD_WINDOWLOG_MAX);
	if (ZSTD_isError(z))
		vl_fatalx("ZSTD_d_windowLogMax: %s", ZSTD_getErrorName(z));
	r->md = sha256_fetch();
	r->sha = sha256_ctx_new();
	r->buf = xmalloc(READER_RBUF);
	r->plain = xmalloc(RECORD_CHUNK);
	r->zout = xmalloc(RECORD_CHUNK);
	return r;
}

/* record_reader_free - release r, wiping stream state and plaintext buffers. NULL: no-op. */
void
record_reader_free(struct record_reader *r)
{
	if (r == NULL)
		return;
	sodium_memzero(&r->ss, sizeof(r->ss));
	sodium_memzero(r->plain, RECORD_CHUNK);
	sodium_memzero(r->zout, RECORD_CHUNK);
	ZSTD_freeDCtx(r->zd);
	EVP_MD_CTX_free(r->sha);
	EVP_MD_free(r->md);
	free(r->buf);
	free(r->plain);
	free(r->zout);
	free(r);
}

/* record_reader_sizeof - our buffers plus zstd's workspace (OpenSSL's context not counted). */
size_t
record_reader_sizeof(const struct record_reader *r)
{
	return sizeof(*r) + READER_BUFS + ZSTD_sizeof_DCtx(r->zd);
}

/* One walk over one record: record_scan checks, record_open also decodes. */
struct walk {
	struct record_reader *r;
	int fd;
	off_t off, fsize, cur;
	const struct record_keys *keys;
	record_write_fn fn;
	void *arg;
	int decode;
	int zdone;
	enum vl_err dfail; /* the first decoding failure; reported if the record is intact */
	char dmsg[VL_ERRLEN];
	uint64_t nframes, stored, out_len;
	uint8_t header[RECORD_HEADER_LEN];
	crypto_generichash_state ck;
	struct record_info info;
	char *err;
};

#define WALK_ERR(w, code, ...) vl_err_set((w)->err, (code), "record at offset %lld: " __VA_ARGS__)
#define WALK_FMT(w) (long long)(w)->off

/* walk_need - point p at the next n bytes of the record (at w->cur), reading the file in
 * RECORD_READ_BUF steps. Pointers from an earlier call are invalid after this one. */
static enum vl_err
walk_need(struct walk *w, size_t n, const uint8_t **p)
{
	struct record_reader *r = w->r;
	off_t end = r->base + (off_t)r->len;
	size_t keep, want;
	enum vl_err rc;

	if ((off_t)n > w->fsize - w->cur)
		return WALK_ERR(w, VL_ERR_CORRUPT,
				"torn: runs past the end of the file (%zu bytes needed at %lld, "
				"file size %lld)",
				WALK_FMT(w), n, (long long)w->cur, (long long)w->fsize);
	VL_ASSERT(w->cur >= r->base && w->cur <= end);
	if (w->cur + (off_t)n > end) {
		keep = (size_t)(end - w->cur);
		memmove(r->buf, r->buf + (w->cur - r->base), keep);
		r->base = w->cur;
		want = r->len == 0 && n <= RECORD_FIRST_READ ? RECORD_FIRST_READ : RECORD_READ_BUF;
		r->len = keep;
		if ((off_t)want > w->fsize - end)
			want = (size_t)(w->fsize - end);
		if ((rc = fs_pread_full(w->fd, r->buf + keep, want, end)) != VL_OK) {
			int e = errno;

			r->len = 0;
			if (rc == VL_ERR_CORRUPT)
				return WALK_ERR(w, rc, "torn: the file ends before its size %lld",
						WALK_FMT(w), (long long)w->fsize);
			return WALK_ERR(w, rc, "read at %lld: %s", WALK_FMT(w), (long long)end,
					strerror(e));
		}
		r->len += want;
	}
	*p = r->buf + (w->cur - r->base);
	return VL_OK;
}

/* walk_fail - remember the first decoding failure and stop decoding; the walk goes on, so that
 * a damaged record is reported as damaged rather than as a key or tag failure. */
static void walk_fail(struct walk *w, enum vl_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
walk_fail(struct walk *w, enum vl_err code, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (w->dfail != VL_OK)
		return;
	w->dfail = code;
	n = snprintf(w->dmsg, sizeof(w->dmsg), "record at offset %lld: ", WALK_FMT(w));
	va_start(ap, fmt);
	vsnprintf(w->dmsg + n, sizeof(w->dmsg) - (size_t)n, fmt, ap);
	va_end(ap);
}

/* walk_deliver - plaintext out: counted, hashed and handed to fn. */
static enum vl_err
walk_deliver(struct walk *w, const uint8_t *p, size_t n)
{
	enum vl_err rc;

	if (n == 0)
		return VL_OK;
	w->out_len += n;
	if (EVP_DigestUpdate(w->r->sha, p, n) != 1)
		return WALK_ERR(w, VL_ERR_INTERNAL, "SHA-256 update failed", WALK_FMT(w));
	if (w->fn == NULL)
		return VL_OK;
	if ((rc = w->fn(w->arg, p, n)) != VL_OK)
		return WALK_ERR(w, rc, "output: %s", WALK_FMT(w), vl_err_str(rc));
	return VL_OK;
}

/* walk_unzstd - decompress one chunk's bytes; one zstd frame, nothing after it. */
static enum vl_err
walk_unzstd(struct walk *w, const uint8_t *p, size_t n)
{
	ZSTD_inBuffer in = {p, n, 0};
	enum vl_err rc;

	while (w->dfail == VL_OK) {
		ZSTD_outBuffer out = {w->r->zout, RECORD_CHUNK, 0};
		size_t ret;

		if (w->zdone) {
			if (in.pos < in.size)
				walk_fail(w, VL_ERR_CORRUPT,
					  "bytes after the end of the zstd frame");
			break;
		}
		ret = ZSTD_decompressStream(w->r->zd, &out, &in);
		if (ZSTD_isError(ret)) {
			if (ZSTD_getErrorCode(ret) == ZSTD_error_memory_allocation)
				return WALK_ERR(w, VL_ERR_NOMEM, "zstd: out of memory",
						WALK_FMT(w));
			walk_fail(w, VL_ERR_CORRUPT, "zstd: %s", ZSTD_getErrorName(ret));
			break;
		}
		if ((rc = walk_deliver(w, w->r->zout, out.pos)) != VL_OK)
			return rc;
		if (ret == 0)
			w->zdone = 1;
		else if (in.pos == in.size && out.pos < out.size)
			break;
	}
	return VL_OK;
}

/* walk_decode - authenticate and decrypt one frame's payload (c, clen), then decompress or
 * deliver it. tail is raw_len || subject when this is the last frame. */
static enum vl_err
walk_decode(struct walk *w, const uint8_t *c, size_t clen, int last, const uint8_t *tail)
{
	uint8_t ad[RECORD_HEADER_LEN + TAIL_AD_LEN], tag = 0;
	unsigned long long mlen = clen;
	const uint8_t *m = c;
	size_t adlen;

	if (w->info.flags & RECORD_F_ENCRYPTED) {
		adlen = chunk_ad(ad, w->nframes == 0, last, w->header, tail);
		if (crypto_secretstream_xchacha20poly1305_pull(&w->r->ss, w->r->plain, &mlen, &tag,
							       c, clen, adlen ? ad : NULL,
							       adlen) != 0) {
			walk_fail(w, VL_ERR_CRYPTO,
				  "chunk %" PRIu64 " does not authenticate under key %" PRIu32
				  " (wrong key, or the record was altered)",
				  w->nframes, w->info.key_id);
			return VL_OK;
		}
		if (tag != (last ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
				 : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE)) {
			walk_fail(w, VL_ERR_CORRUPT,
				  "chunk %" PRIu64 " of %s is tagged %u: exactly one FINAL, last",
				  w->nframes, last ? "the last frame" : "a middle frame", tag);
			return VL_OK;
		}
		m = w->r->plain;
	}
	if (w->info.flags & RECORD_F_ZSTD)
		return walk_unzstd(w, m, (size_t)mlen);
	return walk_deliver(w, m, (size_t)mlen);
}

/* walk_header - read and check the header; for a decoding walk, set up key and dictionary. */
static enum vl_err
walk_header(struct walk *w)
{
	static const uint8_t zeros[RECORD_SS_HEADER_LEN];
	const uint8_t *h;
	const ZSTD_DDict *dd = NULL;
	enum vl_err rc;
	size_t z;

	if ((rc = walk_need(w, RECORD_HEADER_LEN, &h)) != VL_OK)
		return rc;
	memcpy(w->header, h, RECORD_HEADER_LEN);
	if (memcmp(h, RECORD_MAGIC, 4) != 0)
		return WALK_ERR(w, VL_ERR_CORRUPT, "bad magic", WALK_FMT(w));
	w->info.kind = (enum record_kind)h[4];
	w->info.flags = h[5];
	w->info.key_id = get_u32le(h + 8);
	w->info.dict_id = get_u32le(h + 12);
	w->info.stored_at_us = (int64_t)get_u64le(h + 16);
	if (h[4] == 0 || (h[5] & ~FLAGS_KNOWN) || h[6] || h[7])
		return WALK_ERR(w, VL_ERR_CORRUPT, "bad kind %u, flags 0x%02x or reserved bytes",
				WALK_FMT(w), h[4], h[5]);
	if ((h[5] & RECORD_F_ENCRYPTED)
		? w->info.key_id == 0
		: w->info.key_id != 0 || memcmp(h + 24, zeros, sizeof(zeros)) != 0)
		return WALK_ERR(w, VL_ERR_CORRUPT,
				"key id %" PRIu32 " or stream header disagrees "
				"with the encryption flag",
				WALK_FMT(w), w->info.key_id);
	if (w->info.dict_id != 0 && !(h[5] & RECORD_F_ZSTD))
		return WALK_ERR(w, VL_ERR_CORRUPT, "dictionary %" PRIu32 " without compression",
				WALK_FMT(w), w->info.dict_id);
	crypto_generichash_update(&w->ck, h, RECORD_HEADER_LEN);
	w->cur += RECORD_HEADER_LEN;
	if (!w->decode)
		return VL_OK;

	if (EVP_DigestInit_ex(w->r->sha, w->r->md, NULL) != 1)
		return WALK_ERR(w, VL_ERR_INTERNAL, "SHA-256 init failed", WALK_FMT(w));
	if (w->info.flags & RECORD_F_ENCRYPTED) {
		const uint8_t *key =
		    w->keys && w->keys->key ? w->keys->key(w->keys->arg, w->info.key_id) : NULL;

		if (key == NULL)
			walk_fail(w, VL_ERR_NOKEY, "key %" PRIu32 " is not in the keyring",
				  w->info.key_id);
		else if (crypto_secretstream_xchacha20poly1305_init_pull(&w->r->ss, w->header + 24,
									 key) != 0)
			walk_fail(w, VL_ERR_CRYPTO, "bad stream header");
	}
	if (w->info.flags & RECORD_F_ZSTD) {
		if (w->info.dict_id != 0) {
			dd = w->keys && w->keys->dict ? w->keys->dict(w->keys->arg, w->info.dict_id)
						      : NULL;
			if (dd == NULL)
				walk_fail(w, VL_ERR_NOKEY,
					  "dictionary %" PRIu32 " is not available",
					  w->info.dict_id);
		}
		z = ZSTD_DCtx_reset(w->r->zd, ZSTD_reset_session_only);
		if (!ZSTD_isError(z))
			z = ZSTD_DCtx_refDDict(w->r->zd, dd); /* NULL: no dictionary */
		if (ZSTD_isError(z))
			return WALK_ERR(w, zstd_err(z), "zstd: %s", WALK_FMT(w),
					ZSTD_getErrorName(z));
	}
	return VL_OK;
}

/* walk_frames - every frame up to the terminator: lengths, chunking rules, checksum input and,
 * when decoding, the payloads. Leaves w->cur at the terminator. */
static enum vl_err
walk_frames(struct walk *w)
{
	int enc = w->info.flags & RECORD_F_ENCRYPTED;
	uint32_t full = enc ? RECORD_FRAME_MAX : RECORD_CHUNK, lo = enc ? RECORD_ABYTES : 1;
	const uint8_t *p;
	enum vl_err rc;

	for (;;) {
		uint32_t len;
		int last;

		if ((rc = walk_need(w, 4, &p)) != VL_OK)
			return rc;
		if ((len = get_u32le(p)) == 0)
			return VL_OK;
		if (len < lo || len > full)
			return WALK_ERR(w, VL_ERR_CORRUPT, "bad frame length %" PRIu32 " at %lld",
					WALK_FMT(w), len, (long long)w->cur);
		/* The frame, the next length and, if that is the terminator, the trailer, whose
		 * first 40 bytes are the last chunk's associated data. */
		if ((rc = walk_need(w, 4 + (size_t)len + 4, &p)) != VL_OK)
			return rc;
		last = get_u32le(p + 4 + len) == 0;
		if (last &&
		    (rc = walk_need(w, 4 + (size_t)len + 4 + RECORD_TRAILER_LEN, &p)) != VL_OK)
			return rc;
		/* Chunks are cut at RECORD_CHUNK: only the last frame may be short, and an empty
		 * (encrypted) chunk is only the sole chunk of an empty message. */
		if ((!last && len != full) || (len == lo && enc && w->nframes > 0))
			return WALK_ERR(w, VL_ERR_CORRUPT,
					"frame %" PRIu64 " at %lld is %" PRIu32 " bytes: only the "
					"first may be empty and only the last short",
					WALK_FMT(w), w->nframes, (long long)w->cur, len);
		crypto_generichash_update(&w->ck, p, 4 + (size_t)len);
		if (w->decode && w->dfail == VL_OK &&
		    (rc = walk_decode(w, p + 4, len, last, last ? p + 8 + len : NULL)) != VL_OK)
			return rc;
		w->stored += len - (enc ? RECORD_ABYTES : 0);
		w->nframes++;
		w->cur += 4 + (off_t)len;
	}
}

/* walk_record - the whole record at w->off; VL_OK when it is intact (and, when decoding, decoded
 * and verified), else the error with its detail in w->err. */
static enum vl_err
walk_record(struct walk *w)
{
	uint8_t sum[RECORD_CHECKSUM_LEN];
	unsigned char sha[EVP_MAX_MD_SIZE];
	unsigned shalen = 0;
	const uint8_t *t;
	enum vl_err rc;

	crypto_generichash_init(&w->ck, NULL, 0, RECORD_CHECKSUM_LEN);
	if ((rc = walk_header(w)) != VL_OK || (rc = walk_frames(w)) != VL_OK)
		return rc;
	if ((rc = walk_need(w, 4 + RECORD_TRAILER_LEN, &t)) != VL_OK)
		return rc;
	crypto_generichash_update(&w->ck, t, 4 + TAIL_AD_LEN);
	crypto_generichash_final(&w->ck, sum, sizeof(sum));
	if (sodium_memcmp(sum, t + 4 + TAIL_AD_LEN, sizeof(sum)) != 0)
		return WALK_ERR(w, VL_ERR_CORRUPT, "checksum mismatch", WALK_FMT(w));
	w->info.raw_len = get_u64le(t + 4);
	memcpy(w->info.subject, t + 12, RECORD_SUBJECT_LEN);
	w->cur += 4 + RECORD_TRAILER_LEN;
	w->info.record_len = (uint64_t)(w->cur - w->off);

	/* Intact: now the rules a correct writer always keeps. */
	if ((w->info.flags & (RECORD_F_ENCRYPTED | RECORD_F_ZSTD)) && w->nframes == 0)
		return WALK_ERR(w, VL_ERR_CORRUPT, "no frame (flags 0x%02x need one)", WALK_FMT(w),
				w->info.flags);
	if (!(w->info.flags & RECORD_F_ZSTD) && w->stored != w->info.raw_len)
		return WALK_ERR(w, VL_ERR_CORRUPT, "holds %" PRIu64 " bytes, raw_len says %" PRIu64,
				WALK_FMT(w), w->stored, w->info.raw_len);
	if (!w->decode)
		return VL_OK;
	if (w->dfail == VL_OK && (w->info.flags & RECORD_F_ZSTD) && !w->zdone)
		walk_fail(w, VL_ERR_CORRUPT, "the zstd frame is incomplete");
	if (w->dfail == VL_OK && w->out_len != w->info.raw_len)
		walk_fail(w, VL_ERR_CORRUPT, "decodes to %" PRIu64 " bytes, raw_len says %" PRIu64,
			  w->out_len, w->info.raw_len);
	if (w->dfail != VL_OK)
		return vl_err_set(w->err, w->dfail, "%s", w->dmsg);
	if (EVP_DigestFinal_ex(w->r->sha, sha, &shalen) != 1 || shalen != 32)
		return WALK_ERR(w, VL_ERR_INTERNAL, "SHA-256 final failed", WALK_FMT(w));
	memcpy(w->info.sha256, sha, 32);
	return VL_OK;
}

/* reader_run - one record_scan or record_open call. Bytes read by an earlier call are not
 * reused: a file changed in place between two calls (a test that damages a record, a disk
 * that rots) must be seen as it is now. That costs one extra pread per record in a walk,
 * about 7 us for 256 KiB from the page cache against about 16 us to hash an 8 KB record. */
static enum vl_err
reader_run(struct record_reader *r, int fd, off_t off, off_t fsize, const struct record_keys *keys,
	   int decode, record_write_fn fn, void *arg, struct record_info *info, char *err)
{
	struct walk w = {
	    .r = r,
	    .fd = fd,
	    .off = off,
	    .cur = off,
	    .fsize = fsize,
	    .keys = keys,
	    .decode = decode,
	    .fn = fn,
	    .arg = arg,
	    .err = err,
	};
	enum vl_err rc;

	if (off < 0 || off > fsize)
		return vl_err_set(err, VL_ERR_CONFIG, "record offset %lld outside file size %lld",
				  (long long)off, (long long)fsize);
	r->base = off;
	r->len = 0;
	rc = walk_record(&w);
	sodium_memzero(&r->ss, sizeof(r->ss));
	r->len = 0;
	if (rc == VL_OK && info)
		*info = w.info;
	return rc;
}

/* record_scan - framing and checksum only, no keys; see record.h. */
enum vl_err
record_scan(struct record_reader *r, int fd, off_t off, off_t fsize, struct record_info *info,
	    char *err)
{
	return reader_run(r, fd, off, fsize, NULL, 0, NULL, NULL, info, err);
}

/* record_open - verify and decode, streaming the plaintext to fn; see record.h. */
enum vl_err
record_open(struct record_reader *r, int fd, off_t off, off_t fsize, const struct record_keys *keys,
	    record_write_fn fn, void *arg, struct record_info *info, char *err)
{
	return reader_run(r, fd, off, fsize, keys, 1, fn, arg, info, err);
}
