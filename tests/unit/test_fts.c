/* test_fts - archiver/fts.{c,h}: what a word is (against Python's re \w, the ground truth of
 * corpus/tools/known_answers.py), CJK bigrams, and tsvector literals within PostgreSQL's
 * limits. tests/it/t35-fts.sh checks that PostgreSQL reads the literals. */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fts.h"
#include "unit.h"

/* tokens - every lexeme of in (len 0: strlen), space-separated (a space is never in one). */
static int
collect_fn(void *ctx, const char *lex, size_t len)
{
	struct buf *b = ctx;

	if (b->len > 0)
		buf_append(b, " ", 1);
	buf_append(b, lex, len);
	return 0;
}

static char *
tokens(const char *in, size_t len)
{
	struct buf b = {0};
	char *s;

	(void)fts_tokens(in, len ? len : strlen(in), collect_fn, &b);
	s = xstrdup(b.data ? (const char *)b.data : "");
	buf_free(&b);
	return s;
}

static const struct {
	const char *label;
	const char *in;
	size_t len; /* 0: strlen */
	const char *want;
} tok_cases[] = {
	{"ascii", "Hello, World!", 0, "hello world"},
	{"empty", "", 0, ""},
	{"only separators", " .,;-- \t\r\n", 0, ""},
	{"email", "kenneth.lay@enron.com", 0, "kenneth lay enron com"},
	{"host", "mail.houston.rr.com", 0, "mail houston rr com"},
	{"url", "http://www.enron.com/a?b=C&d=1", 0, "http www enron com a b c d 1"},
	{"apostrophe", "Lay's O'Neil don't", 0, "lay s o neil don t"},
	{"curly apostrophe", "Lay\xe2\x80\x99s", 0, "lay s"},
	{"underscore joins", "snake_case _Lay_ __", 0, "snake_case _lay_ __"},
	{"digits join letters", "3pm Q3 2001-10-16 1,000.50", 0, "3pm q3 2001 10 16 1 000 50"},
	{"hyphen splits", "e-mail co-operate", 0, "e mail co operate"},
	{"latin-1 lower", "CAFÉ Ørsted ÆSIR ÀÉÎÕÜ", 0, "café ørsted æsir àéîõü"},
	{"greek lower and final sigma", "ΟΔΟΣ οδος Σίσυφος", 0, "οδοσ οδοσ σίσυφοσ"},
	{"cyrillic lower", "Москва ПРИВЕТ ёЁ", 0, "москва привет ёё"},
	{"long s and kelvin fold", "\xc5\xbftop \xe2\x84\xaa", 0, "stop k"},
	{"combining mark stays in word", "cafe\xcc\x81 x", 0, "cafe\xcc\x81 x"},
	{"fullwidth ascii", "ＨＴＭＬ　メール２通 Ｌａｙ＠ｅｎｒｏｎ", 0, "html メー ール 2 通 lay enron"},
	{"cjk bigrams", "契約書", 0, "契約 約書"},
	{"cjk one char", "契", 0, "契"},
	{"cjk two chars", "契約", 0, "契約"},
	{"cjk mixed scripts", "abc契約def", 0, "abc 契約 def"},
	{"cjk and digits", "第3四半期", 0, "第 3 四半 半期"},
	{"cjk run", "新契約書を送付", 0, "新契 契約 約書 書を を送 送付"},
	{"cjk punctuation", "本文です。次", 0, "本文 文で です 次"},
	{"katakana middle dot", "契約・書類", 0, "契約 書類"},
	{"ideographic space", "テスト　です", 0, "テス スト です"},
	{"hangul", "한국어 문서", 0, "한국 국어 문서"},
	{"halfwidth katakana", "ﾃｽﾄ", 0, "ﾃｽ ｽﾄ"},
	{"supplementary ideograph", "\xf0\xa0\x80\x8b\xe5\xa5\x91", 0, "\xf0\xa0\x80\x8b\xe5\xa5\x91"},
	{"variation selector inside cjk", "葛\xf3\xa0\x84\x80飾区", 0, "葛飾 飾区"},
	{"invalid byte", "a\xffz", 0, "a z"},
	{"overlong and surrogate", "a\xe0\x82\x80" "b\xed\xa0\x80" "c", 0, "a b c"},
	{"truncated sequence", "ab\xe5\xa5", 0, "ab"},
	{"nul", "a\0b", 3, "a b"},
	{"symbols and emoji", "a\xe2\x82\xac" "b \xf0\x9f\x98\x80 c", 0, "a b c"},
	{"arabic digits", "\xd9\xa1\xd9\xa2", 0, "\xd9\xa1\xd9\xa2"},
};

static void
test_tokens(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(tok_cases); i++) {
		char *got = tokens(tok_cases[i].in, tok_cases[i].len);

		CHECK(strcmp(got, tok_cases[i].want) == 0, tok_cases[i].label);
		if (strcmp(got, tok_cases[i].want) != 0)
			fprintf(stderr, "  %s: got [%s] want [%s]\n", tok_cases[i].label, got,
				tok_cases[i].want);
		free(got);
	}
}

/* A word of exactly FTS_LEXEME_MAX bytes stays; one byte more is skipped, and the words around
 * it are not. A multi-byte word is bounded by its lower-cased bytes. */
static void
test_overlong(void)
{
	struct buf in = {0};
	char *got, *want;

	buf_append_str(&in, "x ");
	for (int i = 0; i < FTS_LEXEME_MAX; i++)
		buf_append(&in, "a", 1);
	buf_append_str(&in, " y ");
	for (int i = 0; i < FTS_LEXEME_MAX + 1; i++)
		buf_append(&in, "b", 1);
	buf_append_str(&in, " z ");
	for (int i = 0; i < 100000; i++)
		buf_append(&in, "Ж", strlen("Ж"));
	buf_append_str(&in, " end");
	got = tokens((const char *)in.data, in.len);
	want = xasprintf("x %.*s y z end", FTS_LEXEME_MAX, (const char *)in.data + 2);
	CHECK(strcmp(got, want) == 0, "overlong words skipped whole");
	free(got);
	free(want);
	buf_free(&in);
}

static int
stop_fn(void *ctx, const char *lex, size_t len)
{
	int *n = ctx;

	(void)lex;
	(void)len;
	return ++*n == 2 ? 42 : 0;
}

static void
test_stop(void)
{
	int n = 0;

	CHECK(fts_tokens("a b c d", 7, stop_fn, &n) == 42 && n == 2, "the callback stops it");
	n = 0;
	CHECK(fts_tokens("契約書類", strlen("契約書類"), stop_fn, &n) == 42 && n == 2,
	      "stops inside a CJK run");
	n = 0;
	CHECK(fts_tokens("a", 1, stop_fn, &n) == 0 && n == 1, "0 when it ran to the end");
}

/* Every character class: all of U+0000-U+10FFFF, encoded, one at a time between spaces, must
 * give valid UTF-8 lexemes (no crash, no invalid output). */
static int
valid_fn(void *ctx, const char *lex, size_t len)
{
	int *bad = ctx;

	if (len == 0 || len > FTS_LEXEME_MAX || !g_utf8_validate(lex, (gssize)len, NULL) ||
	    memchr(lex, 0, len))
		(*bad)++;
	return 0;
}

static void
test_all_code_points(void)
{
	int bad = 0;

	for (uint32_t c = 1; c <= 0x10ffff; c++) {
		char s[8];
		int n;

		if (c >= 0xd800 && c <= 0xdfff)
			continue;
		n = g_unichar_to_utf8(c, s + 1);
		s[0] = 'a';
		s[n + 1] = 'B';
		(void)fts_tokens(s, (size_t)n + 2, valid_fn, &bad);
	}
	CHECK(bad == 0, "every code point gives valid lexemes");
}

/* ---- the vector ---- */

static const char *
lit(struct fts_vec *v)
{
	return fts_vec_literal(v, NULL);
}

static void
test_vec_basic(void)
{
	struct fts_vec *v = fts_vec_new();
	size_t n;

	CHECK(strcmp(fts_vec_literal(v, &n), "") == 0 && n == 0, "empty");
	fts_vec_add(v, "Houston meeting", 15, 'A');
	fts_vec_add(v, "q3_report.xls", 13, 'B');
	fts_vec_add(v, "houston.rr.com meeting, Houston", 31, 'D');
	/* subject 1-2, gap, names 4-5, gap, body 7-11 */
	CHECK(strcmp(lit(v), "'houston':1A,7,11 'meeting':2A,10 'q3_report':4B 'xls':5B 'rr':8"
			     " 'com':9") == 0,
	      "dedupe, weights, positions continue after a gap");
	CHECK(fts_vec_nlexemes(v) == 6 && !fts_vec_full(v), "counts");
	fts_vec_add(v, "c", 1, 'C');
	fts_vec_add(v, "x", 1, '?');
	CHECK(strstr(lit(v), " 'c':13C 'x':15") != NULL, "weight C; an unknown weight is D");
	fts_vec_reset(v);
	fts_vec_add(v, "again", 5, 'D');
	CHECK(strcmp(lit(v), "'again':1") == 0, "reset starts at position 1");
	fts_vec_free(v);
	fts_vec_free(NULL);
}

static void
test_vec_quoting(void)
{
	struct fts_vec *v = fts_vec_new();

	fts_vec_add_lexeme(v, "it's", 4, 'D');
	fts_vec_add_lexeme(v, "a\\b", 3, 'A');
	fts_vec_add_lexeme(v, "''", 2, 'D');
	fts_vec_add_lexeme(v, "x y", 3, 'D');
	fts_vec_add_lexeme(v, "bad\xff", 4, 'D');  /* invalid UTF-8: ignored */
	fts_vec_add_lexeme(v, "n\0ul", 4, 'D');	    /* NUL: ignored */
	fts_vec_add_lexeme(v, "", 0, 'D');	    /* empty: ignored */
	CHECK(strcmp(lit(v), "'it''s':1 'a\\\\b':2A '''''':3 'x y':4") == 0, "quotes, backslash");
	fts_vec_free(v);
}

/* Positions clamp at FTS_POS_MAX, where equal positions merge (the higher weight stays); a
 * lexeme keeps FTS_POSITIONS_MAX positions. */
static void
test_vec_positions(void)
{
	struct fts_vec *v = fts_vec_new();
	struct buf in = {0};
	const char *s;
	int commas = 0;

	for (int i = 0; i < 20000; i++)
		buf_append_str(&in, i % 2 ? "w " : "many ");
	buf_append_str(&in, "last");
	fts_vec_add(v, (const char *)in.data, in.len, 'D');
	fts_vec_add(v, "last", 4, 'A');
	s = lit(v);
	CHECK(strncmp(s, "'many':1,3,5,", 13) == 0, "positions in order");
	for (const char *p = strstr(s, "'w':"); p && *p && *p != ' '; p++)
		commas += *p == ',';
	CHECK(commas == FTS_POSITIONS_MAX - 1, "256 positions per lexeme");
	CHECK(strstr(s, "'last':16383A") != NULL && strstr(s, "16384") == NULL,
	      "clamped, merged with the higher weight");
	fts_vec_free(v);
	buf_free(&in);
}

/* Many distinct lexemes: the vector stops at FTS_VEC_BYTES_MAX and says so. */
static void
test_vec_bound(void)
{
	struct fts_vec *v = fts_vec_new();
	struct buf in = {0};
	size_t n = 0;

	for (int i = 0; i < 200000; i++)
		buf_appendf(&in, "w%07dxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx ", i);
	fts_vec_add(v, (const char *)in.data, in.len, 'D');
	(void)fts_vec_literal(v, &n);
	CHECK(fts_vec_full(v), "full");
	CHECK(fts_vec_nlexemes(v) > 10000 && fts_vec_nlexemes(v) < 200000, "stopped part way");
	CHECK(n < 2 * FTS_VEC_BYTES_MAX, "literal bounded");
	fts_vec_free(v);
	buf_free(&in);
}

/* CJK in the vector: bigrams at consecutive positions, so a query's bigrams are a phrase. */
static void
test_vec_cjk(void)
{
	struct fts_vec *v = fts_vec_new();

	fts_vec_add(v, "本契約書の締結", strlen("本契約書の締結"), 'D');
	CHECK(strcmp(lit(v), "'本契':1 '契約':2 '約書':3 '書の':4 'の締':5 '締結':6") == 0,
	      "bigram positions");
	fts_vec_free(v);
}

UNIT_SUITE(fts, {"tokens (table)", test_tokens}, {"overlong words", test_overlong},
	   {"callback stops", test_stop}, {"every code point", test_all_code_points},
	   {"vector: dedupe, weights, positions", test_vec_basic},
	   {"vector: quoting", test_vec_quoting},
	   {"vector: position clamp and cap", test_vec_positions},
	   {"vector: size bound", test_vec_bound}, {"vector: CJK", test_vec_cjk})
