/* fts - stand-in tokenizer (see fts.h); replaced by the real one. */
#include <glib.h>
#include <stdbool.h>
#include <string.h>

#include "buf.h"
#include "fts.h"

/* is_cjk - Hiragana, Katakana, CJK Extension A, Unified Ideographs, Hangul, Compatibility. */
static bool
is_cjk(gunichar c)
{
	return (c >= 0x3040 && c <= 0x30FF) || (c >= 0x3400 && c <= 0x4DBF) ||
	       (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xAC00 && c <= 0xD7A3) ||
	       (c >= 0xF900 && c <= 0xFAFF);
}

/* A run in progress: a word run (lower-cased into b) or a CJK run (the last character kept). */
struct run {
	struct buf b;
	bool cjk;
	size_t nchars;
	char last[8];
	size_t last_len;
};

/* run_flush - emit a pending word run, or a lone CJK character; the run is empty after. */
static int
run_flush(struct run *r, fts_token_fn fn, void *ctx)
{
	int rc = 0;

	if (!r->cjk && r->b.len > 0)
		rc = fn(ctx, (const char *)r->b.data, r->b.len);
	else if (r->cjk && r->nchars == 1)
		rc = fn(ctx, r->last, r->last_len);
	buf_reset(&r->b);
	r->nchars = 0;
	return rc;
}

/* run_cjk - add one CJK character: each character after the first completes a bigram. */
static int
run_cjk(struct run *r, const char *p, size_t n, fts_token_fn fn, void *ctx)
{
	char pair[16];
	int rc = 0;

	if (r->nchars > 0) {
		memcpy(pair, r->last, r->last_len);
		memcpy(pair + r->last_len, p, n);
		rc = fn(ctx, pair, r->last_len + n);
	}
	memcpy(r->last, p, n);
	r->last_len = n;
	r->nchars++;
	return rc;
}

/* step - feed one character c (bytes p[0..n)) to the run. */
static int
step(struct run *r, gunichar c, const char *p, size_t n, fts_token_fn fn, void *ctx)
{
	char low[8];
	int rc = 0;

	if (is_cjk(c)) {
		if (!r->cjk && (rc = run_flush(r, fn, ctx)) != 0)
			return rc;
		r->cjk = true;
		return run_cjk(r, p, n, fn, ctx);
	}
	if (r->cjk && (rc = run_flush(r, fn, ctx)) != 0)
		return rc;
	r->cjk = false;
	if (c == '_' || g_unichar_isalnum(c)) {
		buf_append(&r->b, low, (size_t)g_unichar_to_utf8(g_unichar_tolower(c), low));
		return 0;
	}
	return run_flush(r, fn, ctx);
}

int
fts_tokens(const char *utf8, size_t len, fts_token_fn fn, void *ctx)
{
	struct run r = {0};
	size_t i = 0;
	int rc = 0;

	while (i < len && rc == 0) {
		gunichar c = g_utf8_get_char_validated(utf8 + i, (gssize)(len - i));
		size_t n;

		if (c == (gunichar)-1 || c == (gunichar)-2) { /* invalid: a separator byte */
			rc = run_flush(&r, fn, ctx);
			i++;
			continue;
		}
		n = (size_t)(g_utf8_next_char(utf8 + i) - (utf8 + i));
		rc = step(&r, c, utf8 + i, n, fn, ctx);
		i += n;
	}
	if (rc == 0)
		rc = run_flush(&r, fn, ctx);
	buf_free(&r.b);
	return rc;
}
