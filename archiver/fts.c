/* fts - the one tokenizer that index and query share, and the tsvector built in C.
 *
 * Why in C: to_tsvector('simple') costs PostgreSQL about 1 ms of CPU per 20 KB message
 * (PERF-NOTES), and its parser keeps "houston.rr.com" or "kenneth.lay@enron.com" as one lexeme,
 * so a search for houston or lay missed them. Here a word is what Python's re calls \w, the
 * definition search's ground truth uses (corpus/tools/known_answers.py), and the index and the
 * query language (search/query) both split text with fts_tokens, so they cannot disagree.
 *
 * The vector: lexemes are deduplicated in an open-addressing hash table; their bytes live in
 * one arena and their positions in one array of linked nodes, so adding a token allocates
 * nothing but amortised growth, and the literal lists each lexeme once. */
#include <assert.h>
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fts.h"
#include "utf8.h"

/* ---- characters ---- */

/* utf8_next - the length (1-4) of the valid UTF-8 sequence at p (code point in *cp), or 0 when
 * the bytes there are not one (a sequence cut short by the end of the text included). */
static int
utf8_next(const uint8_t *p, size_t n, uint32_t *cp)
{
	int k = utf8_decode(p, n, cp);

	return k < 0 ? 0 : k;
}

int
fts_is_cjk(uint32_t c)
{
	if (c < 0x1100)
		return 0;
	return (c <= 0x11ff) || (c >= 0x2e80 && c <= 0x2fdf) || (c >= 0x3005 && c <= 0x3007) ||
	       (c >= 0x3021 && c <= 0x3029) || (c >= 0x3031 && c <= 0x3035) ||
	       (c >= 0x303b && c <= 0x303c) || (c >= 0x3041 && c <= 0x309f) ||
	       (c >= 0x30a1 && c <= 0x30fa) || (c >= 0x30fc && c <= 0x30ff) ||
	       (c >= 0x3105 && c <= 0x31ff) || (c >= 0x3400 && c <= 0x4dbf) ||
	       (c >= 0x4e00 && c <= 0x9fff) || (c >= 0xa960 && c <= 0xa97f) ||
	       (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xd7b0 && c <= 0xd7ff) ||
	       (c >= 0xf900 && c <= 0xfaff) || (c >= 0xff66 && c <= 0xffdc) ||
	       (c >= 0x1aff0 && c <= 0x1b16f) || (c >= 0x20000 && c <= 0x2fa1f) ||
	       (c >= 0x30000 && c <= 0x323af);
}

enum fts_class {
	FTS_SEP,  /* ends words */
	FTS_WORD, /* letter, number, '_' */
	FTS_MARK, /* combining mark: part of a word, dropped inside a CJK run */
	FTS_CJK,  /* bigrammed */
};

/* fts_class_of - the class of code point c (already folded from fullwidth ASCII). */
static enum fts_class
fts_class_of(uint32_t c)
{
	if (c < 0x80)
		return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				       c == '_'
			       ? FTS_WORD
			       : FTS_SEP;
	if (fts_is_cjk(c))
		return FTS_CJK;
	switch (g_unichar_type((gunichar)c)) {
	case G_UNICODE_LOWERCASE_LETTER:
	case G_UNICODE_MODIFIER_LETTER:
	case G_UNICODE_OTHER_LETTER:
	case G_UNICODE_TITLECASE_LETTER:
	case G_UNICODE_UPPERCASE_LETTER:
	case G_UNICODE_DECIMAL_NUMBER:
	case G_UNICODE_LETTER_NUMBER:
	case G_UNICODE_OTHER_NUMBER:
		return FTS_WORD;
	case G_UNICODE_SPACING_MARK:
	case G_UNICODE_ENCLOSING_MARK:
	case G_UNICODE_NON_SPACING_MARK:
		return FTS_MARK;
	default:
		return FTS_SEP;
	}
}

/* The simple case foldings (Unicode CaseFolding.txt, status C and S) of lower-case letters that
 * g_unichar_tolower leaves alone, so that ΟΔΟΣ finds οδος as re.I would. */
static const uint32_t fts_folds[][2] = {
	{0x017f, 's'},	  {0x03c2, 0x03c3}, {0x03d0, 0x03b2}, {0x03d1, 0x03b8},
	{0x03d5, 0x03c6}, {0x03d6, 0x03c0}, {0x03f0, 0x03ba}, {0x03f1, 0x03c1},
	{0x03f5, 0x03b5}, {0x1e9b, 0x1e61}, {0x1fbe, 0x03b9},
};

/* fts_lower - c lower-cased and folded. */
static uint32_t
fts_lower(uint32_t c)
{
	if (c < 0x80)
		return c >= 'A' && c <= 'Z' ? c + 32 : c;
	c = (uint32_t)g_unichar_tolower((gunichar)c);
	if (c >= 0x017f && c <= 0x1fbe)
		for (size_t i = 0; i < G_N_ELEMENTS(fts_folds); i++)
			if (fts_folds[i][0] == c)
				return fts_folds[i][1];
	return c;
}

/* ---- the tokenizer ---- */

struct fts_tok {
	fts_token_fn fn;
	void *ctx;
	uint8_t word[FTS_LEXEME_MAX];
	size_t wlen;
	int inword, overlong;
	uint8_t pair[8]; /* the CJK character before, then room for a bigram */
	size_t plen;	 /* bytes of that character */
	size_t run;	 /* CJK characters in the current run */
};

/* tok_end_word - emit the word in progress, if any and not too long. */
static int
tok_end_word(struct fts_tok *t)
{
	int rc = 0;

	if (t->inword && !t->overlong)
		rc = t->fn(t->ctx, (const char *)t->word, t->wlen);
	t->inword = t->overlong = 0;
	t->wlen = 0;
	return rc;
}

/* tok_end_run - a CJK run of one character is a lexeme itself; longer runs were emitted. */
static int
tok_end_run(struct fts_tok *t)
{
	int rc = 0;

	if (t->run == 1)
		rc = t->fn(t->ctx, (const char *)t->pair, t->plen);
	t->run = 0;
	return rc;
}

static void
tok_add_char(struct fts_tok *t, uint32_t c)
{
	uint8_t o[4];
	size_t n;

	t->inword = 1;
	if (t->overlong)
		return;
	if (c < 0x80) { /* the common case, without a call */
		if (t->wlen == FTS_LEXEME_MAX)
			t->overlong = 1;
		else
			t->word[t->wlen++] = (uint8_t)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		return;
	}
	n = utf8_encode(o, fts_lower(c));
	if (t->wlen + n > FTS_LEXEME_MAX) {
		t->overlong = 1;
		return;
	}
	memcpy(t->word + t->wlen, o, n);
	t->wlen += n;
}

/* tok_add_cjk - the next character c (n bytes at p) of a CJK run. */
static int
tok_add_cjk(struct fts_tok *t, const uint8_t *p, size_t n)
{
	int rc = 0;

	if (t->run > 0) {
		memcpy(t->pair + t->plen, p, n);
		rc = t->fn(t->ctx, (const char *)t->pair, t->plen + n);
	}
	memcpy(t->pair, p, n);
	t->plen = n;
	t->run++;
	return rc;
}

int
fts_tokens(const char *utf8, size_t len, fts_token_fn fn, void *ctx)
{
	const uint8_t *p = (const uint8_t *)utf8;
	struct fts_tok t = {.fn = fn, .ctx = ctx};
	size_t i = 0;
	int rc = 0;

	while (i < len && rc == 0) {
		uint32_t c;
		int k = utf8_next(p + i, len - i, &c);
		enum fts_class cls;

		if (k == 0) {
			k = 1;
			c = 0; /* a separator */
		} else if (c >= 0xff01 && c <= 0xff5e) {
			c -= 0xfee0; /* fullwidth ASCII */
		}
		cls = fts_class_of(c);
		if (cls == FTS_MARK && t.run > 0) {
			i += (size_t)k; /* a variation selector after an ideograph, say */
			continue;
		}
		if (cls == FTS_CJK) {
			if ((rc = tok_end_word(&t)) == 0)
				rc = tok_add_cjk(&t, p + i, (size_t)k);
		} else if ((rc = tok_end_run(&t)) == 0) {
			if (cls == FTS_SEP)
				rc = tok_end_word(&t);
			else
				tok_add_char(&t, c);
		}
		i += (size_t)k;
	}
	if (rc == 0)
		rc = tok_end_word(&t);
	if (rc == 0)
		rc = tok_end_run(&t);
	return rc;
}

/* ---- the vector ---- */

/* One position with its weight, as PostgreSQL's WordEntryPos packs them: weight in the top two
 * bits (A 3 .. D 0), position in the low 14. Nodes of one lexeme are linked in order. */
struct fts_pos {
	uint16_t wp;
	uint32_t next; /* index + 1 of the lexeme's next node; 0 ends */
};

struct fts_lex {
	uint32_t off, hash; /* bytes at arena + off */
	uint16_t len, npos;
	uint32_t head, tail; /* index + 1 of the first and last fts_pos; 0: none */
};

struct fts_vec {
	struct buf arena; /* lexeme bytes */
	struct fts_lex *lex;
	size_t nlex, caplex;
	struct fts_pos *pos;
	size_t npos, cappos;
	uint32_t *slots; /* index + 1 into lex; 0 empty; nslots a power of two */
	size_t nslots;
	uint32_t at;	/* the last position given (not clamped); 0 before the first */
	size_t bytes;	/* what FTS_VEC_BYTES_MAX bounds */
	int full;
	struct buf out; /* the literal */
};

#define FTS_WEIGHT_BITS(w) ((uint16_t)((w) << 14))
#define FTS_WP_POS(wp) ((wp) & 0x3fff)
#define FTS_WP_WEIGHT(wp) ((wp) >> 14)

static_assert(FTS_POS_MAX <= 0x3fff, "positions fit 14 bits");
static_assert(FTS_POSITIONS_MAX <= UINT16_MAX, "npos is 16 bits");

struct fts_vec *
fts_vec_new(void)
{
	struct fts_vec *v = xcalloc(1, sizeof(*v));

	v->nslots = 256;
	v->slots = xcalloc(v->nslots, sizeof(*v->slots));
	return v;
}

void
fts_vec_reset(struct fts_vec *v)
{
	buf_reset(&v->arena);
	buf_reset(&v->out);
	memset(v->slots, 0, v->nslots * sizeof(*v->slots));
	v->nlex = v->npos = 0;
	v->at = 0;
	v->bytes = 0;
	v->full = 0;
}

void
fts_vec_free(struct fts_vec *v)
{
	if (v == NULL)
		return;
	buf_free(&v->arena);
	buf_free(&v->out);
	free(v->lex);
	free(v->pos);
	free(v->slots);
	free(v);
}

int
fts_vec_full(const struct fts_vec *v)
{
	return v->full;
}

size_t
fts_vec_nlexemes(const struct fts_vec *v)
{
	return v->nlex;
}

/* fts_hash - FNV-1a, 32 bits: lexemes are short. */
static uint32_t
fts_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

/* vec_grow_slots - double the table and place every lexeme again (load stays under 1/2). */
static void
vec_grow_slots(struct fts_vec *v)
{
	size_t n = v->nslots * 2;

	free(v->slots);
	v->slots = xcalloc(n, sizeof(*v->slots));
	v->nslots = n;
	for (size_t i = 0; i < v->nlex; i++) {
		size_t s = v->lex[i].hash & (n - 1);

		while (v->slots[s] != 0)
			s = (s + 1) & (n - 1);
		v->slots[s] = (uint32_t)(i + 1);
	}
}

/* vec_find - the lexeme lex, added when new; NULL when the vector is full. */
static struct fts_lex *
vec_find(struct fts_vec *v, const char *lex, size_t len)
{
	uint32_t h = fts_hash(lex, len);
	size_t s = h & (v->nslots - 1);
	struct fts_lex *e;

	for (; v->slots[s] != 0; s = (s + 1) & (v->nslots - 1)) {
		e = &v->lex[v->slots[s] - 1];
		if (e->hash == h && e->len == len && memcmp(v->arena.data + e->off, lex, len) == 0)
			return e;
	}
	if (v->bytes + len + 8 + 2 > FTS_VEC_BYTES_MAX) {
		v->full = 1;
		return NULL;
	}
	if (v->nlex == v->caplex) {
		v->caplex = v->caplex ? v->caplex * 2 : 256;
		v->lex = xrealloc(v->lex, v->caplex * sizeof(*v->lex));
	}
	e = &v->lex[v->nlex];
	*e = (struct fts_lex){.off = (uint32_t)v->arena.len, .hash = h, .len = (uint16_t)len};
	buf_append(&v->arena, lex, len);
	v->bytes += len + 8;
	v->slots[s] = (uint32_t)++v->nlex;
	if (v->nlex * 2 > v->nslots)
		vec_grow_slots(v);
	return &v->lex[v->nlex - 1];
}

/* vec_weight - 'A'..'D' as PostgreSQL numbers them (A 3 .. D 0); anything else is D. */
static unsigned
vec_weight(char w)
{
	return w >= 'A' && w <= 'C' ? (unsigned)('D' - w) : 0;
}

/* vec_add - lex at the next position. */
static void
vec_add(struct fts_vec *v, const char *lex, size_t len, unsigned weight)
{
	struct fts_lex *e;
	uint16_t pos;

	if (v->at <= FTS_POS_MAX)
		v->at++;
	pos = (uint16_t)(v->at > FTS_POS_MAX ? FTS_POS_MAX : v->at);
	if ((e = vec_find(v, lex, len)) == NULL)
		return;
	if (e->tail != 0 && FTS_WP_POS(v->pos[e->tail - 1].wp) == pos) {
		/* Clamped to the same position: one entry, the higher weight (as PostgreSQL). */
		if (FTS_WP_WEIGHT(v->pos[e->tail - 1].wp) < weight)
			v->pos[e->tail - 1].wp = (uint16_t)(pos | FTS_WEIGHT_BITS(weight));
		return;
	}
	if (e->npos >= FTS_POSITIONS_MAX)
		return;
	if (v->bytes + 2 > FTS_VEC_BYTES_MAX) {
		v->full = 1;
		return;
	}
	if (v->npos == v->cappos) {
		v->cappos = v->cappos ? v->cappos * 2 : 1024;
		v->pos = xrealloc(v->pos, v->cappos * sizeof(*v->pos));
	}
	v->pos[v->npos] = (struct fts_pos){(uint16_t)(pos | FTS_WEIGHT_BITS(weight)), 0};
	if (e->tail != 0)
		v->pos[e->tail - 1].next = (uint32_t)(v->npos + 1);
	else
		e->head = (uint32_t)(v->npos + 1);
	e->tail = (uint32_t)++v->npos;
	e->npos++;
	v->bytes += 2;
}

struct vec_add_ctx {
	struct fts_vec *v;
	unsigned weight;
};

static int
vec_token_fn(void *ctx, const char *lex, size_t len)
{
	struct vec_add_ctx *a = ctx;

	vec_add(a->v, lex, len, a->weight);
	return 0;
}

void
fts_vec_add(struct fts_vec *v, const char *utf8, size_t len, char weight)
{
	struct vec_add_ctx a = {v, vec_weight(weight)};

	if (utf8 == NULL)
		return;
	if (v->at > 0 && v->at <= FTS_POS_MAX)
		v->at = v->at + FTS_FIELD_GAP > FTS_POS_MAX ? FTS_POS_MAX : v->at + FTS_FIELD_GAP;
	(void)fts_tokens(utf8, len, vec_token_fn, &a); /* vec_token_fn never stops it */
}

void
fts_vec_add_lexeme(struct fts_vec *v, const char *lex, size_t len, char weight)
{
	if (lex == NULL || len == 0 || len > FTS_LEXEME_MAX || memchr(lex, 0, len) != NULL ||
	    !g_utf8_validate(lex, (gssize)len, NULL))
		return;
	vec_add(v, lex, len, vec_weight(weight));
}

/* put_uint - write the decimal digits of n at o; returns their number. */
static size_t
put_uint(char *o, unsigned n)
{
	char d[8];
	size_t k = sizeof(d);

	do {
		d[--k] = (char)('0' + n % 10);
		n /= 10;
	} while (n > 0);
	memcpy(o, d + k, sizeof(d) - k);
	return sizeof(d) - k;
}

const char *
fts_vec_literal(struct fts_vec *v, size_t *len)
{
	static const char wletter[] = {0, 'C', 'B', 'A'};
	struct buf *b = &v->out;
	char *o;

	buf_reset(b);
	/* At most: each lexeme byte escaped (2), quotes and a space (3), and per position
	 * ":16383A" (7 bytes). Written in place, within that reservation. */
	buf_reserve(b, 2 * v->arena.len + 3 * v->nlex + 7 * v->npos + 1);
	o = (char *)b->data;
	for (size_t i = 0; i < v->nlex; i++) {
		const struct fts_lex *e = &v->lex[i];
		const uint8_t *s = v->arena.data + e->off;

		if (i > 0)
			*o++ = ' ';
		*o++ = '\'';
		/* tsvector input: inside quotes '' is a quote and \x is x. */
		for (size_t k = 0; k < e->len; k++) {
			if (s[k] == '\'' || s[k] == '\\')
				*o++ = (char)s[k];
			*o++ = (char)s[k];
		}
		*o++ = '\'';
		for (uint32_t n = e->head; n != 0; n = v->pos[n - 1].next) {
			uint16_t wp = v->pos[n - 1].wp;

			*o++ = n == e->head ? ':' : ',';
			o += put_uint(o, FTS_WP_POS(wp));
			if (FTS_WP_WEIGHT(wp) != 0)
				*o++ = wletter[FTS_WP_WEIGHT(wp)];
		}
	}
	b->len = (size_t)(o - (char *)b->data);
	b->data[b->len] = 0;
	if (len)
		*len = b->len;
	return (const char *)b->data;
}
