/* test_rtf_text - archiver/rtf_text.{c,h} on small documents written here, each with its exact
 * text: paragraphs and tabs, the tables and \* destinations that are not text, code pages
 * (Windows-1252, Cyrillic, Shift_JIS and GBK two-byte characters, per-font \fcharset, UTF-8
 * \'hh bytes under \ansicpg65001), \uN with \ucN and surrogate pairs, \bin, fields, objects,
 * Outlook's encapsulated HTML, the nesting bound, max, input that is not RTF and every prefix
 * of a document; and on the RTF bodies of the TNEF samples in ../shared/corpus (MimeKit's),
 * read from the project root.
 * The code page bytes were made with iconv (e.g. printf 日本 | iconv -t CP932 | xxd -p). */
#include <CUnit/CUnit.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "rtf_text.h"
#include "unit.h"

#define TNEF "../shared/corpus/mimekit-testdata/tnef/"
#define BIG ((size_t)1 << 20) /* a max no test document reaches */

/* One document and the text it must give. */
struct rtf_case {
	const char *label;
	const char *rtf;
	const char *want;
};

/* got - rtf_text of the NUL-terminated rtf into out (reset), at most max bytes. */
static enum vl_err
got(const char *rtf, size_t max, struct buf *out, int *tr, char *err)
{
	buf_reset(out);
	buf_append(out, "", 0); /* data is never NULL, even for no text */
	return rtf_text((const uint8_t *)rtf, strlen(rtf), out, max, tr, err);
}

/* check_cases - every case gives VL_OK, its exact text and no truncation. */
static void
check_cases(const struct rtf_case *cs, size_t n)
{
	struct buf out = {0};
	char err[VL_ERRLEN] = "";
	int tr = -1;

	for (size_t i = 0; i < n; i++) {
		enum vl_err rc = got(cs[i].rtf, BIG, &out, &tr, err);
		int same = strcmp((const char *)out.data, cs[i].want) == 0;

		CHECK(rc == VL_OK && tr == 0, cs[i].label);
		CHECK(same, cs[i].label);
		if (!same)
			fprintf(stderr, "\n[%s] got \"%s\"\n", cs[i].label, (const char *)out.data);
	}
	buf_free(&out);
}

static void
test_paragraphs(void)
{
	static const struct rtf_case cs[] = {
		{"par and tab", "{\\rtf1\\ansi\\deff0 Hello\\par World\\tab end\\par}",
		 "Hello\nWorld\tend\n"},
		{"line, page, sect, row, cell",
		 "{\\rtf1 a\\line b\\page c\\sect d\\par\\intbl e\\cell f\\cell\\row g}",
		 "a\nb\nc\nd\ne\tf\t\ng"},
		{"the space after a word is its delimiter, others are text",
		 "{\\rtf1 \\b bold\\b0  two\\i\\i0   three}", "bold two  three"},
		{"line ends in the file are not text", "{\\rtf1 one\r\ntwo\nthree\\\npar}",
		 "onetwothree\npar"},
		{"control symbols", "{\\rtf1 a\\{b\\}c\\\\d\\~e\\-f\\_g}",
		 "a{b}c\\d\xc2\xa0" "ef-g"},
		{"typographic words", "{\\rtf1 \\lquote a\\rquote  \\ldblquote b\\rdblquote \\emdash\\endash\\bullet}",
		 "\xe2\x80\x98" "a\xe2\x80\x99 \xe2\x80\x9c" "b\xe2\x80\x9d\xe2\x80\x94\xe2\x80\x93\xe2\x80\xa2"},
		{"a word longer than 32 letters is unknown, passed over",
		 "{\\rtf1 \\abcdefghijklmnopqrstuvwxyzabcdefghijklmnop123456789012345 x}", "x"},
		{"the document ends at its closing brace", "{\\rtf1 a}b{c}", "a"},
		{"a document cut short is read to its end", "{\\rtf1 a{\\b b", "ab"},
		{"NUL and other C0 bytes are no text", "{\\rtf1 a\x01\tb\x1f}", "a\tb"},
	};

	check_cases(cs, sizeof(cs) / sizeof(cs[0]));
}

static void
test_tables_skipped(void)
{
	static const struct rtf_case cs[] = {
		{"fonttbl, colortbl, stylesheet, info",
		 "{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0\\froman Times New Roman;}{\\f1\\fswiss Arial;}}"
		 "{\\colortbl;\\red255\\green0\\blue0;}"
		 "{\\stylesheet{\\s0 Normal;}{\\s1\\sbasedon0 heading 1;}}"
		 "{\\info{\\title Secret title}{\\author Someone}{\\*\\company ACME}}"
		 "\\pard\\plain\\f0 Body text.\\par}",
		 "Body text.\n"},
		{"old-style font table without groups",
		 "{\\rtf1{\\fonttbl\\f0\\fnil Courier;\\f1\\fswiss Arial;}x}", "x"},
		{"list tables, rsid, generator, theme, pictures",
		 "{\\rtf1{\\listtable{\\list{\\listlevel{\\leveltext\\'02\\'00.;}}}}"
		 "{\\listoverridetable{\\listoverride\\ls1}}{\\*\\rsidtbl \\rsid123}"
		 "{\\*\\generator Riched20 10.0;}{\\*\\themedata 0102}{\\*\\latentstyles\\lsdstimax376 x}"
		 "{\\pict\\pngblip 89504e47}{\\*\\datastore 0105}ok}",
		 "ok"},
		{"list numbers", "{\\rtf1{\\pntext\\'b7\\tab}{\\listtext 1.\\tab}item\\par}",
		 "item\n"},
		{"unknown \\* destinations, with nested groups",
		 "{\\rtf1 a{\\*\\unknownthing b{c}{\\*\\deeper d}e}f{\\*\\bkmkstart g}h}", "afh"},
		{"headers, footers and footnotes are text, apart",
		 "{\\rtf1{\\header Head}{\\footer Foot}word\\chftn{\\footnote\\chftn Note}end}",
		 "\nHead\n\nFoot\nword\nNote\nend"},
		{"an object's result is text, its data not",
		 "{\\rtf1 a{\\object\\objemb{\\*\\objclass Excel}{\\*\\objdata 01050000}"
		 "{\\result{\\pard shown}}}b}",
		 "ashownb"},
		{"index and TOC entries are not text", "{\\rtf1 a{\\xe entry}{\\tc toc}b}", "ab"},
	};

	check_cases(cs, sizeof(cs) / sizeof(cs[0]));
}

/* Every destination skipped by name (not through \\*), one at a time. */
static void
test_skip_words(void)
{
	static const char *const names[] = {
		"aftnsep", "aftnsepc", "atnauthor", "atnid", "colorschememapping", "colortbl",
		"datastore", "docvar", "filetbl", "fldinst", "fonttbl", "ftnsep", "ftnsepc",
		"generator", "info", "latentstyles", "listoverridetable", "listtable", "listtext",
		"mmathPr", "nonshppict", "object", "pgdsctbl", "pict", "pn", "pntext",
		"protusertbl", "revtbl", "rsidtbl", "stylesheet", "tc", "template", "themedata",
		"txe", "userprops", "xe", "xmlnstbl",
	};
	struct buf out = {0};
	char doc[128];
	int tr;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(doc, sizeof(doc), "{\\rtf1 a{\\%s x{y}\\par z}b}", names[i]);
		CU_ASSERT_EQUAL(got(doc, BIG, &out, &tr, NULL), VL_OK);
		CHECK(strcmp((const char *)out.data, "ab") == 0, names[i]);
	}
	buf_free(&out);
}

static void
test_fields(void)
{
	static const struct rtf_case cs[] = {
		{"\\*\\fldinst skipped, fldrslt kept",
		 "{\\rtf1 see {\\field{\\*\\fldinst{HYPERLINK \"http://example.com/\"}}"
		 "{\\fldrslt{\\ul example}}} now}",
		 "see example now"},
		{"fldinst without \\*", "{\\rtf1 page {\\field{\\fldinst PAGE}{\\fldrslt 3}}}",
		 "page 3"},
	};

	check_cases(cs, sizeof(cs) / sizeof(cs[0]));
}

static void
test_codepages(void)
{
	static const struct rtf_case cs[] = {
		{"\\'e9 in the default 1252", "{\\rtf1\\ansi caf\\'e9 \\'80 \\'93q\\'94}",
		 "caf\xc3\xa9 \xe2\x82\xac \xe2\x80\x9cq\xe2\x80\x9d"},
		{"\\ansicpg1251", "{\\rtf1\\ansi\\ansicpg1251 \\'cf\\'f0\\'e8\\'e2\\'e5\\'f2}",
		 "Привет"},
		{"\\fcharset204 in a 1252 document, per font and group",
		 "{\\rtf1\\ansi\\ansicpg1252{\\fonttbl{\\f0\\fswiss\\fcharset0 Arial;}"
		 "{\\f1\\fswiss\\fcharset204 Arial CYR;}}\\f0 \\'e9{\\f1 \\'cf\\'f0}\\'e9\\f1 \\'e8}",
		 "éПрéи"},
		{"\\fcharset238, \\fcharset161",
		 "{\\rtf1{\\fonttbl{\\f2\\fcharset238 CE;}{\\f3\\fcharset161 Greek;}}"
		 "\\f2 \\'a3\\'f3d\\'9f \\f3 \\'e1\\'e2}",
		 "Łódź αβ"},
		{"Shift_JIS by \\ansicpg932, two bytes a character",
		 "{\\rtf1\\ansi\\ansicpg932 \\'82\\'a0\\'8a\\'bf}", "あ漢"},
		{"Shift_JIS by \\fcharset128, a trail byte '{' as \\'7b",
		 "{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0 Arial;}{\\f1\\fnil\\fcharset128 "
		 "\\'82\\'6c\\'82\\'72 \\'96\\'be\\'92\\'a9;}}\\f1 \\'93\\'fa\\'96\\'7b\\f0  ok}",
		 "日本 ok"},
		{"a trail byte written as a literal character (\\\\ is 0x5c)",
		 "{\\rtf1\\ansicpg932 \\'83\\\\\\'95\\\\}", "ソ表"},
		{"the default font's charset (\\deff1)",
		 "{\\rtf1\\deff1{\\fonttbl{\\f0 Arial;}{\\f1\\fcharset128 Gothic;}}\\'82\\'a0"
		 "\\plain \\'82\\'a0}",
		 "ああ"},
		{"GBK (\\fcharset134), Big5 (136), Korean (129)",
		 "{\\rtf1{\\fonttbl{\\f1\\fcharset134 SimSun;}{\\f2\\fcharset136 MingLiU;}"
		 "{\\f3\\fcharset129 Gulim;}}\\f1 \\'d6\\'d0\\'ce\\'c4 \\f2 \\'a4\\'a4\\'a4\\'e5 "
		 "\\f3 \\'c7\\'d1\\'b1\\'b9}",
		 "中文 中文 한국"},
		{"a lead byte without its trail is U+FFFD",
		 "{\\rtf1\\ansicpg932 a\\'82\\par b\\'82}c}", "a\xef\xbf\xbd\nb\xef\xbf\xbd"},
		{"a lead byte at a group's end or before a control word or symbol takes nothing",
		 "{\\rtf1\\ansicpg936 a{\\'d6}b\\'d6\\b c\\'d6\\~d\\'d6\\u8364?e}",
		 "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd\xc2\xa0" "d\xef\xbf\xbd\xe2\x82\xac"
		 "e"},
		{"an ASCII byte that makes no character with the lead before it is kept",
		 "{\\rtf1\\ansicpg949 \\'c7[x\\'c7\\'5bx\\ansicpg932 \\'82@y\\'82\\{z}",
		 "\xef\xbf\xbd[x\xef\xbf\xbd[x\xef\xbf\xbd@y\xef\xbf\xbd{z"},
		{"a non-ASCII byte that makes no character with the lead: one U+FFFD for both",
		 "{\\rtf1\\ansicpg932 \\'82\\'ffx}", "\xef\xbf\xbdx"},
		{"Johab (1361): trail bytes below 0x40",
		 "{\\rtf1\\ansicpg1361 \\'d9\\'32\\'d9\\'31x}", "\xe3\x80\x81\xe3\x80\x80x"},
		{"a byte undefined in its code page is U+FFFD", "{\\rtf1\\ansicpg1252 \\'81}",
		 "\xef\xbf\xbd"},
		{"raw 8-bit bytes as code page bytes", "{\\rtf1\\ansicpg1252 caf\xe9}", "café"},
		{"an unknown code page reads as 1252", "{\\rtf1\\ansicpg4242 \\'e9}", "é"},
		{"a broken \\' drops the quote", "{\\rtf1 a\\'zzb\\'4}", "azzb4"},
	};

	check_cases(cs, sizeof(cs) / sizeof(cs[0]));
}

/* Code page 65001: \'hh bytes that are UTF-8, a character's bytes gathered. */
#define JA_UTF8 /* 契約書は東京で受け取りました。 */                                               \
	"\\'e5\\'a5\\'91\\'e7\\'b4\\'84\\'e6\\'9b\\'b8\\'e3\\'81\\'af\\'e6\\'9d\\'b1"              \
	"\\'e4\\'ba\\'ac\\'e3\\'81\\'a7\\'e5\\'8f\\'97\\'e3\\'81\\'91\\'e5\\'8f\\'96"              \
	"\\'e3\\'82\\'8a\\'e3\\'81\\'be\\'e3\\'81\\'97\\'e3\\'81\\'9f\\'e3\\'80\\'82"
#define ZH_UTF8 /* 合同已在北京签署。 */                                                           \
	"\\'e5\\'90\\'88\\'e5\\'90\\'8c\\'e5\\'b7\\'b2\\'e5\\'9c\\'a8\\'e5\\'8c\\'97"              \
	"\\'e4\\'ba\\'ac\\'e7\\'ad\\'be\\'e7\\'bd\\'b2\\'e3\\'80\\'82"
#define FFFD "\xef\xbf\xbd"

static void
test_utf8_codepage(void)
{
	static const struct rtf_case cs[] = {
		{"a Japanese sentence", "{\\rtf1\\ansi\\ansicpg65001 " JA_UTF8 "\\par}",
		 "契約書は東京で受け取りました。\n"},
		{"a Chinese sentence, a \\fcharset0 font in a 65001 document",
		 "{\\rtf1\\ansi\\ansicpg65001\\deff0{\\fonttbl{\\f0\\fnil\\fcharset0 Arial;}}"
		 "\\f0 " ZH_UTF8 "}",
		 "合同已在北京签署。"},
		{"ASCII, \\'hh UTF-8 and \\uN mixed",
		 "{\\rtf1\\ansicpg65001 Price: \\'e2\\'82\\'ac5 or \\u8364?6, caf\\'c3\\'a9 "
		 "\\u26085?\\'e6\\'9c\\'ac \\'f0\\'9f\\'98\\'80\\u-10179?\\u-8704?}",
		 "Price: €5 or €6, café 日本 \xf0\x9f\x98\x80\xf0\x9f\x98\x80"},
		{"\\uN's fallback bytes are skipped, not decoded",
		 "{\\rtf1\\ansicpg65001\\uc3\\u26085\\'e6\\'97\\'a5x"
		 "{\\uc0\\u26412\\'e6\\'9c\\'ac}}",
		 "日x本本"},
		{"a sequence cut short at a group's end, a control word, ASCII, another sequence",
		 "{\\rtf1\\ansicpg65001 a{\\'e5\\'a5}b\\'e5\\'a5\\par c\\'e6\\'97x"
		 "\\'e5\\'a5\\'e5\\'a5\\'91\\'e2\\u8364?\\'e2}",
		 "a" FFFD "b" FFFD "\nc" FFFD "x" FFFD "契" FFFD "€" FFFD},
		{"invalid bytes: each U+FFFD, the text after them kept",
		 "{\\rtf1\\ansicpg65001 a\\'ffb\\'80c\\'c0\\'afd\\'c3\\'28e"
		 "\\'f8\\'88\\'80\\'80\\'80f}",
		 "a" FFFD "b" FFFD "c" FFFD FFFD "d" FFFD "(e" FFFD FFFD FFFD FFFD FFFD "f"},
		{"a line end in the file inside a character",
		 "{\\rtf1\\ansicpg65001 \\'e2\\'82\r\n\\'ac}", "€"},
		{"raw UTF-8 bytes",
		 "{\\rtf1\\ansicpg65001 caf\xc3\xa9 \xe6\x97\xa5\\'e6\\'9c\\'ac}", "café 日本"},
		{"a \\fcharset128 font in a 65001 document is Shift_JIS",
		 "{\\rtf1\\ansicpg65001{\\fonttbl{\\f1\\fcharset128 Gothic;}}\\f1 \\'82\\'a0}",
		 "あ"},
	};

	check_cases(cs, sizeof(cs) / sizeof(cs[0]));
}

static void
test_unicode(void)
{
	static const struct rtf_case cs[] = {
		{"\\u8364? (\\uc1 by default)", "{\\rtf1 \\u8364?5}", "\xe2\x82\xac" "5"},
		{"\\uc0: nothing to skip", "{\\rtf1\\uc0\\u8364 5}", "\xe2\x82\xac" "5"},
		{"\\uc2 skips two \\'hh", "{\\rtf1\\uc2\\u12354\\'82\\'a0x}", "あx"},
		{"\\ucN is scoped to its group", "{\\rtf1{\\uc2\\u8364 ab}\\u8364 ?c}",
		 "\xe2\x82\xac\xe2\x82\xac" "c"},
		{"a brace ends the fallback", "{\\rtf1\\uc3\\u8364 a}", "\xe2\x82\xac"},
		{"a control word counts as one fallback character",
		 "{\\rtf1\\uc2\\u8364\\'80\\par x}", "\xe2\x82\xac" "x"},
		{"a negative \\u", "{\\rtf1 \\u-4064?}", "\xef\x80\xa0"},
		{"a surrogate pair is one character", "{\\rtf1 \\u-10179?\\u-8704?!}",
		 "\xf0\x9f\x98\x80!"},
		{"a surrogate pair, positive values, \\uc0", "{\\rtf1\\uc0\\u55357\\u56832 }",
		 "\xf0\x9f\x98\x80"},
		{"a lone surrogate is U+FFFD", "{\\rtf1 \\u55357?a\\u56832?b}",
		 "\xef\xbf\xbd" "a\xef\xbf\xbd" "b"},
		{"\\u0 is no text", "{\\rtf1 a\\u0 ?b}", "ab"},
	};

	check_cases(cs, sizeof(cs) / sizeof(cs[0]));
}

static void
test_bin(void)
{
	static const struct rtf_case cs[] = {
		{"\\bin data passed over, braces and backslashes in it", "{\\rtf1 A\\bin4 {\\}\\B}",
		 "AB"},
		{"\\bin in a picture", "{\\rtf1 A{\\pict\\bin3 \x01}{B}C}", "AC"},
		{"\\bin longer than the input", "{\\rtf1 A\\bin999999 xyz", "A"},
		{"\\bin with no or a negative count", "{\\rtf1 A\\bin B\\bin-5 C}", "ABC"},
	};
	static const char nul[] = "{\\rtf1 A\\bin2 \0\0B}";
	struct buf out = {0};
	int tr;

	check_cases(cs, sizeof(cs) / sizeof(cs[0]));
	CU_ASSERT_EQUAL(rtf_text((const uint8_t *)nul, sizeof(nul) - 1, &out, BIG, &tr, NULL),
			VL_OK);
	CHECK(out.len == 2 && memcmp(out.data, "AB", 2) == 0, "\\bin of NUL bytes");
	buf_free(&out);
}

static void
test_html(void)
{
	static const struct rtf_case cs[] = {
		{"Outlook's encapsulated HTML",
		 "{\\rtf1\\ansi\\ansicpg1252\\fromhtml1 \\deff0{\\fonttbl{\\f0\\fswiss Arial;}}\n"
		 "{\\*\\htmltag19 <html>}{\\*\\htmltag34 <head>}\n"
		 "{\\*\\htmltag241 <style>p \\{ color: red; \\}</style>}{\\*\\htmltag41 </head>}\n"
		 "{\\*\\htmltag50 <body>}{\\*\\htmltag96 <div>}\\htmlrtf {\\htmlrtf0 \n"
		 "{\\*\\htmltag64 <p>}\\htmlrtf {\\htmlrtf0 Hello \n"
		 "{\\*\\htmltag84 <b>}\\htmlrtf {\\b \\htmlrtf0 bold\\htmlrtf }\\htmlrtf0 \n"
		 "{\\*\\htmltag92 </b>} world\n"
		 "{\\*\\htmltag72 </p>}\\htmlrtf\\par}\\htmlrtf0\n"
		 "{\\*\\htmltag64 <p>}\\htmlrtf {\\htmlrtf0 caf\\'e9\\htmlrtf \\'b7\\htmlrtf0 "
		 "{\\*\\htmltag84 &nbsp;}\\htmlrtf \\'a0\\htmlrtf0 end \n"
		 "{\\*\\htmltag84 &eacute;}\\htmlrtf {\\f0\\'e9}\\htmlrtf0 crit\n"
		 "{\\*\\htmltag116 <br>}\\htmlrtf \\line\n\\htmlrtf0 two\n"
		 "{\\*\\htmltag0 \\par }lines\n"
		 "{\\*\\htmltag72 </p>}\\htmlrtf\\par}\\htmlrtf0\n"
		 "{\\*\\htmltag104 </div>}\\htmlrtf }\\htmlrtf0 \n"
		 "{\\*\\htmltag58 </body>}{\\*\\htmltag27 </html>}}",
		 "Hello bold world\ncafé\xc2\xa0" "end écrit\ntwo lines\n"},
		{"an entity's rendering is text only up to \\htmlrtf0",
		 "{\\rtf1\\fromhtml1 a{\\*\\htmltag84 &amp;}\\htmlrtf &\\htmlrtf0 b\\htmlrtf c\\htmlrtf0 d}",
		 "a&bd"},
		{"\\htmlrtf without \\fromhtml is no switch", "{\\rtf1 a\\htmlrtf b\\htmlrtf0 c}",
		 "abc"},
	};

	check_cases(cs, sizeof(cs) / sizeof(cs[0]));
}

static void
test_depth(void)
{
	struct buf doc = {0}, out = {0};
	char err[VL_ERRLEN] = "";
	int tr = -1;
	enum vl_err rc;

	buf_append_str(&doc, "{\\rtf1 before ");
	for (int i = 0; i < RTF_DEPTH_MAX + 50; i++)
		buf_append_str(&doc, "{x");
	for (int i = 0; i < RTF_DEPTH_MAX + 50; i++)
		buf_append_str(&doc, "}");
	buf_append_str(&doc, " after}");
	rc = got((const char *)doc.data, BIG, &out, &tr, err);
	CU_ASSERT_EQUAL(rc, VL_ERR_LIMIT);
	CU_ASSERT_EQUAL(tr, 0);
	CHECK(strstr(err, "RTF_DEPTH_MAX") != NULL, "err names the bound");
	/* Groups 1..RTF_DEPTH_MAX are read (the document's own is the first), deeper ones not. */
	CU_ASSERT_EQUAL(out.len, strlen("before ") + (RTF_DEPTH_MAX - 1) + strlen(" after"));
	CHECK(strncmp((const char *)out.data, "before xx", 9) == 0, "text before kept");
	CHECK(strcmp((const char *)out.data + out.len - 7, "x after") == 0, "text after kept");

	/* Exactly RTF_DEPTH_MAX groups is within the bound. */
	buf_reset(&doc);
	buf_append_str(&doc, "{\\rtf1 ");
	for (int i = 1; i < RTF_DEPTH_MAX; i++)
		buf_append_str(&doc, "{");
	buf_append_str(&doc, "deep}");
	CU_ASSERT_EQUAL(got((const char *)doc.data, BIG, &out, &tr, err), VL_OK);
	CHECK(strcmp((const char *)out.data, "deep") == 0, "RTF_DEPTH_MAX groups read");
	buf_free(&doc);
	buf_free(&out);
}

static void
test_max(void)
{
	static const char doc[] = "{\\rtf1 ab\\u8364?cd\\par}";
	struct buf out = {0};
	int tr = -1;

	CU_ASSERT_EQUAL(got(doc, 4, &out, &tr, NULL), VL_OK);
	CHECK(strcmp((const char *)out.data, "ab") == 0 && tr == 1, "cut before a 3-byte char");
	CU_ASSERT_EQUAL(got(doc, 5, &out, &tr, NULL), VL_OK);
	CHECK(strcmp((const char *)out.data, "ab\xe2\x82\xac") == 0 && tr == 1, "cut after it");
	CU_ASSERT_EQUAL(got(doc, 1, &out, &tr, NULL), VL_OK);
	CHECK(strcmp((const char *)out.data, "a") == 0 && tr == 1, "cut in ASCII");
	CU_ASSERT_EQUAL(got(doc, 0, &out, &tr, NULL), VL_OK);
	CHECK(out.len == 0 && tr == 1, "max 0");
	CU_ASSERT_EQUAL(got(doc, 8, &out, &tr, NULL), VL_OK);
	CHECK(strcmp((const char *)out.data, "ab\xe2\x82\xac" "cd\n") == 0 && tr == 0,
	      "exactly max: not truncated");

	/* max counts only what rtf_text appends. */
	buf_reset(&out);
	buf_append_str(&out, "prefix:");
	CU_ASSERT_EQUAL(rtf_text((const uint8_t *)doc, strlen(doc), &out, 3, &tr, NULL), VL_OK);
	CHECK(strcmp((const char *)out.data, "prefix:ab") == 0 && tr == 1, "appended, max ours");
	buf_free(&out);
}

static void
test_not_rtf(void)
{
	static const char *const bad[] = {"", "{", "{\\rt", "hello", " {\\rtf1 x}", "{\\RTF1 x}",
					  "\xef\xbb\xbf{\\rtf1 x}"};
	struct buf out = {0};
	char err[VL_ERRLEN];
	int tr;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&out);
		buf_append_str(&out, "kept");
		err[0] = 0;
		CU_ASSERT_EQUAL(rtf_text((const uint8_t *)bad[i], strlen(bad[i]), &out, BIG, &tr,
					 err),
				VL_ERR_PARSE);
		CHECK(strcmp((const char *)out.data, "kept") == 0 && err[0] != 0, bad[i]);
	}
	CU_ASSERT_EQUAL(rtf_text(NULL, 0, &out, BIG, &tr, NULL), VL_ERR_PARSE);
	buf_free(&out);
}

/* check_prefixes - rtf_text of every prefix of doc, each a copy of exactly its bytes (ASan
 * sees any read past them): RTF or not by its first 5 bytes, its text UTF-8 without NUL; the
 * whole of doc gives want. */
static void
check_prefixes(const char *label, const char *doc, const char *want)
{
	size_t len = strlen(doc);
	struct buf out = {0};
	char err[VL_ERRLEN];
	int tr;

	for (size_t n = 0; n <= len; n++) {
		uint8_t *p = xmalloc(n ? n : 1);
		enum vl_err rc;

		memcpy(p, doc, n);
		buf_reset(&out);
		rc = rtf_text(p, n, &out, BIG, &tr, err);
		CHECK(rc == (n < 5 ? VL_ERR_PARSE : VL_OK), label);
		CHECK(out.len == 0 || (g_utf8_validate((const char *)out.data, (gssize)out.len,
						       NULL) &&
				       memchr(out.data, 0, out.len) == NULL),
		      label);
		free(p);
	}
	CU_ASSERT_EQUAL(got(doc, BIG, &out, &tr, NULL), VL_OK);
	CHECK(strcmp((const char *)out.data, want) == 0, label);
	buf_free(&out);
}

/* A document with a bit of everything, for the prefixes. */
static const char sample[] =
	"{\\rtf1\\ansi\\ansicpg1252\\deff0\\fromhtml1{\\fonttbl{\\f0 Arial;}{\\f1\\fcharset128 "
	"Gothic;}}{\\colortbl;\\red1\\green2\\blue3;}{\\*\\htmltag1 <p>}\\htmlrtf {\\htmlrtf0 "
	"caf\\'e9 \\f1 \\'82\\'a0\\'83\\\\\\f0\\uc2\\u-10179\\'81\\'40\\u-8704\\'81\\'40 "
	"{\\field{\\*\\fldinst X}{\\fldrslt y}}\\bin2 {}\\tab\\{\\}\\~\\_\\-\\u8364?}\\par}";

/* The same in code page 65001: UTF-8 \'hh bytes beside \uN and its fallback. */
static const char sample_utf8[] =
	"{\\rtf1\\ansi\\ansicpg65001\\deff0{\\fonttbl{\\f0\\fcharset0 Arial;}}\\f0 " JA_UTF8
	"\\par{" ZH_UTF8 "}\\uc3\\u26085\\'e6\\'97\\'a5 caf\\'c3\\'a9\\'f0\\'9f\\'98\\'80}";

static void
test_prefixes(void)
{
	check_prefixes("sample", sample,
		       "café あソ\xf0\x9f\x98\x80 y\t{}\xc2\xa0-\xe2\x82\xac\n");
	check_prefixes("sample in 65001", sample_utf8,
		       "契約書は東京で受け取りました。\n"
		       "合同已在北京签署。日 café\xf0\x9f\x98\x80");
}

/* corpus_text - the text of the TNEF sample's message.rtf (dir under TNEF) into out. */
static int
corpus_text(const char *dir, struct buf *out)
{
	char path[512];
	gchar *data = NULL;
	gsize n = 0;
	int tr = 0;
	enum vl_err rc;

	snprintf(path, sizeof(path), TNEF "%s/message.rtf", dir);
	if (!g_file_get_contents(path, &data, &n, NULL))
		return -1;
	buf_reset(out);
	buf_append(out, "", 0);
	rc = rtf_text((const uint8_t *)data, n, out, BIG, &tr, NULL);
	g_free(data);
	return rc == VL_OK && tr == 0 ? 0 : -1;
}

static void
test_corpus(void)
{
	static const struct {
		const char *dir;
		const char *words[3];
	} files[] = {
		/* Word: a 1252 document, a picture, Word's tables and \u */
		{"christmas", {"Christmas to remember", "Tahoe ski chalet", "mistletoe"}},
		/* \fromtext: plain text in RTF */
		{"long-filename", {"temp. license for QARun 4.7", "Heather\n", "msimpson@numega.com"}},
		/* \fromhtml1: Outlook's encapsulated HTML, a field in it */
		{"multi-value-attribute", {"You received a voice mail from Curie Conf Room at 208225.",
					   NULL, NULL}},
		/* Norwegian letters as \'hh in 1252 */
		{"MAPI_ATTACH_DATA_OBJ", {"bod\xc3\xb8" "damene", "Troms\xc3\xb8", "VIA Flyspesialisten"}},
		/* \ansicpg1251, a \fcharset204 font */
		{"triples", {"Sample description", NULL, NULL}},
		/* \ansicpg936, a Word document with \objattph */
		{"winmail", {"111111111111111111111111111111111111111111111", "3333333333333333333",
			     NULL}},
	};
	static const char *const never[] = {"Times New Roman", "Calibri", "panose", "htmltag",
					    "HYPERLINK", "color:", "\\"};
	struct buf out = {0};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const char *s;

		CHECK(corpus_text(files[i].dir, &out) == 0, files[i].dir);
		s = (const char *)out.data;
		for (size_t w = 0; w < 3 && s && files[i].words[w]; w++)
			CHECK(strstr(s, files[i].words[w]) != NULL, files[i].words[w]);
		for (size_t w = 0; w < sizeof(never) / sizeof(never[0]) && s; w++)
			CHECK(strstr(s, never[w]) == NULL, never[w]);
		CHECK(s && g_utf8_validate(s, (gssize)out.len, NULL), files[i].dir);
	}
	buf_free(&out);
}

static void
test_is(void)
{
	CU_ASSERT_TRUE(rtf_is("application/rtf", NULL));
	CU_ASSERT_TRUE(rtf_is("Application/RTF; name=x", NULL));
	CU_ASSERT_TRUE(rtf_is("text/rtf", NULL));
	CU_ASSERT_TRUE(rtf_is("application/x-rtf", NULL));
	CU_ASSERT_TRUE(rtf_is("application/octet-stream", "Memo.RTF"));
	CU_ASSERT_TRUE(rtf_is(NULL, "a.rtf"));
	CU_ASSERT_FALSE(rtf_is("text/richtext", NULL));
	CU_ASSERT_FALSE(rtf_is("text/enriched", "memo.txt"));
	CU_ASSERT_FALSE(rtf_is("application/rtfx", NULL));
	CU_ASSERT_FALSE(rtf_is(NULL, "rtf"));
	CU_ASSERT_FALSE(rtf_is(NULL, NULL));
	CU_ASSERT_TRUE(rtf_is_bytes((const uint8_t *)"{\\rtf1", 6));
	CU_ASSERT_TRUE(rtf_is_bytes((const uint8_t *)"{\\rtf", 5));
	CU_ASSERT_FALSE(rtf_is_bytes((const uint8_t *)"{\\rtf", 4));
	CU_ASSERT_FALSE(rtf_is_bytes((const uint8_t *)"{\\pdf", 5));
	CU_ASSERT_FALSE(rtf_is_bytes(NULL, 0));
}

UNIT_SUITE(rtf_text, {"paragraphs, tabs, control symbols, line ends", test_paragraphs},
	   {"tables, info, pictures, \\* destinations skipped; headers kept", test_tables_skipped},
	   {"each destination skipped by name", test_skip_words},
	   {"fields: fldinst skipped, fldrslt kept", test_fields},
	   {"code pages: 1252, 1251, per-font charsets, Shift_JIS, GBK, Big5", test_codepages},
	   {"code page 65001: UTF-8 \\'hh bytes gathered", test_utf8_codepage},
	   {"\\uN, \\ucN, surrogate pairs", test_unicode}, {"\\bin passed over", test_bin},
	   {"Outlook \\fromhtml1 and \\htmlrtf", test_html},
	   {"RTF_DEPTH_MAX: VL_ERR_LIMIT, text around kept", test_depth},
	   {"max: cut between characters, truncated", test_max},
	   {"not RTF: VL_ERR_PARSE, out as it was", test_not_rtf},
	   {"every prefix of a document", test_prefixes},
	   {"TNEF RTF bodies from the corpus", test_corpus}, {"rtf_is, rtf_is_bytes", test_is})
