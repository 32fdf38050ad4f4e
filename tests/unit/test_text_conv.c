/* test_text_conv - archiver/text_conv.{c,h} through its own interface: Latin-1 and Windows-1252,
 * UTF-8, Shift_JIS (as CP932), GB2312 (as GB18030), ISO-2022-JP labelled and not, an unknown
 * label, invalid bytes, the sink's cap. Every case is fed whole, byte by byte, and in two
 * pieces split at every byte, and must give the same text and counts each way. The sample
 * given to text_conv_open is the whole text each time: what is tested here is the feeding.
 * Expected text was checked with iconv(1). */
#include <gmime/gmime.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "text_conv.h"
#include "unit.h"

#define FFFD "\xef\xbf\xbd"
#define TC_MAX 1024 /* the sink's cap of a case that sets none */

/* One text: in (len bytes, 0 for strlen) labelled charset (NULL: none), the sink's cap (0 for
 * TC_MAX); the UTF-8 wanted, whether the cap was reached, c->unknown and c->bad. */
struct tc_case {
	const char *label;
	const char *charset;
	const char *in;
	size_t len;
	size_t max;
	const char *want;
	int want_full, want_unknown;
	size_t want_bad;
};

/* tc_read - convert c's text: its first split bytes in one feed, the rest step bytes a feed,
 * then the final feed. The caller frees text. */
static void
tc_read(const struct tc_case *c, size_t split, size_t step, struct buf *text,
	struct text_conv *conv)
{
	const uint8_t *p = (const uint8_t *)c->in;
	size_t n = c->len ? c->len : strlen(c->in);
	struct sink s = {.b = text, .cap = c->max ? c->max : TC_MAX};

	text_conv_open(conv, c->charset, p, n);
	text_conv_feed(conv, &s, p, split, 0);
	for (size_t i = split; i < n; i += step)
		text_conv_feed(conv, &s, p + i, n - i < step ? n - i : step, 0);
	text_conv_feed(conv, &s, NULL, 0, 1);
	CHECK(s.full == c->want_full, c->label);
}

static void
tc_check(const struct tc_case *c, size_t split, size_t step, const char *how)
{
	struct buf text = {0};
	struct text_conv conv;
	char what[200];

	snprintf(what, sizeof(what), "%s, %s", c->label, how);
	tc_read(c, split, step, &text, &conv);
	CHECK(text.len == strlen(c->want) && memcmp(text.data, c->want, text.len) == 0, what);
	CHECK(conv.unknown == c->want_unknown, what);
	CHECK(conv.bad == c->want_bad, what);
	if (text.len != strlen(c->want) || (text.len && memcmp(text.data, c->want, text.len)))
		fprintf(stderr, "\n[%s] got \"%.*s\"\n", what, (int)text.len,
			text.data ? (const char *)text.data : "");
	text_conv_close(&conv);
	buf_free(&text);
}

static void
tc_run(const struct tc_case *cs, size_t count)
{
	/* text_conv asks GMime for charset names; g_mime_init counts its calls. */
	g_mime_init();
	for (const struct tc_case *c = cs; c < cs + count; c++) {
		size_t n = c->len ? c->len : strlen(c->in);
		char how[64];

		tc_check(c, n, n, "whole");
		tc_check(c, 0, 1, "byte by byte");
		for (size_t k = 1; k < n; k++) {
			snprintf(how, sizeof(how), "split at %zu", k);
			tc_check(c, k, n, how);
		}
	}
}

#define CASES(...)                                                                         \
	do {                                                                               \
		static const struct tc_case c_[] = {__VA_ARGS__};                          \
		tc_run(c_, sizeof(c_) / sizeof(c_[0]));                                    \
	} while (0)

static void
test_single_byte(void)
{
	CASES({"ISO-8859-1, and 0x80-0x9F as Windows-1252", "iso-8859-1", "caf\xe9 \xa3\x80", 0,
	       0, "caf\xc3\xa9 \xc2\xa3\xe2\x82\xac", 0, 0, 0},
	      {"UTF-8 where valid, else Windows-1252; undefined 0x81 is U+FFFD", "utf-8",
	       "\xc3\xa9\xe2\x82\xac \xe9\x81", 0, 0, "\xc3\xa9\xe2\x82\xac \xc3\xa9" FFFD, 0, 0,
	       0},
	      {"no label is read as UTF-8 or Windows-1252", NULL, "na\xefve \xc3\xa9", 0, 0,
	       "na\xc3\xafve \xc3\xa9", 0, 0, 0},
	      {"an unknown label: read the same way, and flagged", "x-no-such-charset", "abc\xe9",
	       0, 0, "abc\xc3\xa9", 0, 1, 0},
	      {"the sink's cap cuts between characters", "utf-8", "ab\xc3\xa9", 0, 3, "ab", 1, 0,
	       0});
}

static void
test_multi_byte(void)
{
	CASES({"Shift_JIS as CP932: NEC row 13 too", "Shift_JIS",
	       "\x93\xfa\x96\x7b\x8c\xea\x87\x40", 0, 0,
	       "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe2\x91\xa0", 0, 0, 0},
	      {"GB2312 as GB18030", "gb2312", "\xd6\xd0\xce\xc4", 0, 0, "\xe4\xb8\xad\xe6\x96\x87",
	       0, 0, 0},
	      {"ISO-2022-JP, with JIS X 0201 katakana", "iso-2022-jp",
	       "\x1b$BF|K\\8l\x1b(B a \x1b(I1\x1b(B", 0, 0,
	       "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e a \xef\xbd\xb1", 0, 0, 0},
	      {"unlabelled ISO-2022-JP is known by its escape", NULL, "\x1b$BF|K\\8l\x1b(B", 0, 0,
	       "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 0, 0, 0},
	      {"invalid bytes are U+FFFD and counted, an unfinished last one too", "shift_jis",
	       "a\xff" "b\x93", 0, 0, "a" FFFD "b" FFFD, 0, 0, 2});
}

static void
test_cp1252(void)
{
	CHECK(text_conv_cp1252('A') == 'A', "ASCII");
	CHECK(text_conv_cp1252(0x80) == 0x20ac, "0x80 is the euro sign");
	CHECK(text_conv_cp1252(0x96) == 0x2013, "0x96 is the en dash");
	CHECK(text_conv_cp1252(0x81) == 0, "0x81 is undefined");
	CHECK(text_conv_cp1252(0xe9) == 0xe9, "0xE9 is Latin-1");
}

UNIT_SUITE(text_conv, {"single-byte and unknown charsets", test_single_byte},
	   {"multi-byte charsets and invalid bytes", test_multi_byte},
	   {"Windows-1252 code points", test_cp1252})
