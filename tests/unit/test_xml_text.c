/* test_xml_text - archiver/xml_text.{c,h} through its own interface, under a small rule table:
 * which elements' text is written, entities, CDATA, comments and PIs, a DOCTYPE's internal
 * subset, skipped elements, the verdict on a document that ends inside markup, UTF-16 after a
 * BOM, max. Every case is read in one feed, byte by byte, and in two chunks split at every
 * byte, and must give the same text and verdict each way. */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "unit.h"
#include "xml_text.h"

#define FFFD "\xef\xbf\xbd"
#define XT_MAX 1024 /* max of a case that sets none */
#define LIT(s) s, sizeof(s) - 1 /* a document with NUL bytes, and its length */

static const struct xml_text_rule rules[] = {
	{"t", XML_EL_TEXT},   {"p", XML_EL_NL},	 {"tab", XML_EL_TAB}, {"s", XML_EL_SPACE},
	{"skip", XML_EL_SKIP}, {"c", XML_EL_TAB | XML_EL_SKIP_SHARED}, {NULL, 0},
};

/* One document: in (len bytes, 0 for strlen), max (0 for XT_MAX); the text wanted, whether
 * max dropped some, and the verdict's text (NULL: VL_OK). */
struct xt_case {
	const char *label;
	const char *in;
	size_t len;
	size_t max;
	const char *want;
	int want_full;
	const char *want_err;
};

/* What one reading gave. */
struct xt_result {
	struct buf text;
	int full;
	enum vl_err rc;
	char err[VL_ERRLEN];
};

/* xt_read - read c's document into r: its first split bytes in one feed, the rest step bytes
 * a feed. The caller frees r->text. */
static void
xt_read(const struct xt_case *c, size_t split, size_t step, struct xt_result *r)
{
	const uint8_t *p = (const uint8_t *)c->in;
	size_t n = c->len ? c->len : strlen(c->in);
	struct xml_text_out o = {&r->text, 0, c->max ? c->max : XT_MAX, 0};
	struct xml_text *x = xml_text_new(rules, &o);

	xml_text_feed(x, p, split);
	for (size_t i = split; i < n; i += step)
		xml_text_feed(x, p + i, n - i < step ? n - i : step);
	xml_text_finish(x);
	r->err[0] = 0;
	r->rc = xml_text_verdict(x, "part", r->err);
	r->full = o.full;
	xml_text_free(x);
}

/* xt_check - r is what c wants; how names the way it was fed. */
static void
xt_check(const struct xt_case *c, const struct xt_result *r, const char *how)
{
	char what[256];

	snprintf(what, sizeof(what), "%s, %s", c->label, how);
	CHECK(r->text.len == strlen(c->want) &&
		      (r->text.len == 0 || memcmp(r->text.data, c->want, r->text.len) == 0),
	      what);
	CHECK(r->full == c->want_full, what);
	if (c->want_err)
		CHECK(r->rc == VL_ERR_PARSE && strcmp(r->err, c->want_err) == 0, what);
	else
		CHECK(r->rc == VL_OK && r->err[0] == 0, what);
}

/* xt_run - every case of the table, fed in one piece, byte by byte, and split in two at each
 * byte. */
static void
xt_run(const struct xt_case *cs, size_t count)
{
	for (const struct xt_case *c = cs; c < cs + count; c++) {
		size_t n = c->len ? c->len : strlen(c->in);
		struct xt_result r = {0};
		char how[64];

		xt_read(c, n, 1, &r);
		xt_check(c, &r, "one feed");
		buf_free(&r.text);
		xt_read(c, 0, 1, &r);
		xt_check(c, &r, "byte by byte");
		buf_free(&r.text);
		for (size_t k = 1; k < n; k++) {
			snprintf(how, sizeof(how), "split at %zu", k);
			xt_read(c, k, n, &r);
			xt_check(c, &r, how);
			buf_free(&r.text);
		}
	}
}

#define CASES(...)                                                                         \
	do {                                                                               \
		static const struct xt_case c_[] = {__VA_ARGS__};                          \
		xt_run(c_, sizeof(c_) / sizeof(c_[0]));                                    \
	} while (0)

static void
test_elements(void)
{
	CASES({"text of XML_EL_TEXT elements only, separators at ends, never attributes",
	       "<d><p><t a=\"attr\">Hello</t> not text <x>nor this</x></p>"
	       "<p><t>a</t><tab/><t>b</t><s/><t>c</t></p></d>", 0, 0, "Hello\na\tb c\n", 0, NULL},
	      {"text inside an element no rule names, inside a text one",
	       "<t>one <b>two</b> three</t>", 0, 0, "one two three\n", 0, NULL},
	      {"nothing to write", "<d><x>none</x></d>", 0, 0, "", 0, NULL},
	      {"UTF-8 text: Latin, CJK, an astral character",
	       "<t>h\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80</t>", 0, 0,
	       "h\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80\n", 0, NULL},
	      {"invalid UTF-8 is U+FFFD, a control a space", "<t>a\x01" "b\xff" "c\xc3</t>", 0, 0,
	       "a b" FFFD "c" FFFD "\n", 0, NULL});
}

static void
test_entities(void)
{
	CASES({"named and numeric entities",
	       "<t>&amp; &#x41;&#65; &lt;&gt;&quot;&apos; &#x1F600;</t>", 0, 0,
	       "& AA <>\"' \xf0\x9f\x98\x80\n", 0, NULL},
	      {"what is no entity is text as written", "<t>&bogus; &#xZZ; a&b &amp</t>", 0, 0,
	       "&bogus; &#xZZ; a&b &amp\n", 0, NULL},
	      {"past U+10FFFF and NUL are U+FFFD", "<t>&#x110000;&#0;</t>", 0, 0, FFFD FFFD "\n",
	       0, NULL},
	      {"an entity outside text is not read", "<d>&amp;<t>x</t></d>", 0, 0, "x\n", 0,
	       NULL});
}

static void
test_markup(void)
{
	CASES({"CDATA is text as written, a third ']' too",
	       "<t>x<![CDATA[<b>&amp;]]]></t>", 0, 0, "x<b>&amp;]\n", 0, NULL},
	      {"comments and PIs with '>' inside", "<t>a<!-- > -- > -->b<?pi x > y ?>c</t>", 0, 0,
	       "abc\n", 0, NULL},
	      {"'>' in a quoted attribute value", "<t a='>' b=\">\">v</t>", 0, 0, "v\n", 0,
	       NULL},
	      {"a DOCTYPE with an internal subset",
	       "<?xml version=\"1.0\"?><!DOCTYPE d SYSTEM \"a>[\" [ <!ENTITY e \"]>\"> "
	       "<!-- ]> --> <?p ]> ?> ]><d><t>after</t></d>", 0, 0, "after\n", 0, NULL});
}

static void
test_skip(void)
{
	CASES({"a skipped element, nested and self-closing",
	       "<t>a<skip>b<skip>c</skip>d<t>e</t></skip>f<skip/>g</t>", 0, 0, "afg\n", 0, NULL},
	      {"skipped shared cells, by their t attribute",
	       "<p><c t=\"s\"><t>7</t></c><c t=\"n\"><t>x</t></c><c><t>y</t></c></p>", 0, 0,
	       "x\ty\n", 0, NULL},
	      {"a closing tag of no open element changes nothing", "</skip></t><t>a</t>", 0, 0,
	       "a\n", 0, NULL});
}

static void
test_verdict(void)
{
	CASES({"ends inside a tag", "<d><t>kept</t><p a=\"x>", 0, 0, "kept\n", 0,
	       "part ends inside a tag: what follows its start is not read"},
	      {"ends inside a comment", "<t>kept<!-- </t>", 0, 0, "kept\n", 0,
	       "part ends inside a comment: what follows its start is not read"},
	      {"ends inside CDATA", "<t>kept<![CDATA[more]]", 0, 0, "keptmore\n", 0,
	       "part ends inside a CDATA section: what follows its start is not read"},
	      {"ends inside a PI", "<t>kept<?pi ?", 0, 0, "kept\n", 0,
	       "part ends inside a processing instruction: what follows its start is not read"},
	      {"ends inside a DOCTYPE", "<!DOCTYPE d [ ]", 0, 0, "", 0,
	       "part ends inside a declaration (DOCTYPE): what follows its start is not read"},
	      {"ends inside a skipped element", "<t>kept<skip>lost</t>", 0, 0, "kept\n", 0,
	       "part ends inside an unclosed skip element, whose text is skipped: what follows "
	       "its start is not read"},
	      {"ends inside an entity: well-formed enough, written as it was", "<t>a &amp", 0, 0,
	       "a &amp\n", 0, NULL});
}

static void
test_utf16(void)
{
	CASES({"UTF-16LE after a BOM, a surrogate pair, an entity",
	       LIT("\xff\xfe<\0t\0>\0h\0\xe9\0=\xd8\0\xde&\0a\0m\0p\0;\0<\0/\0t\0>\0"), 0,
	       "h\xc3\xa9\xf0\x9f\x98\x80&\n", 0, NULL},
	      {"UTF-16BE after a BOM, a lone surrogate",
	       LIT("\xfe\xff\0<\0t\0>\xdc\0\0x\0<\0/\0t\0>"), 0, FFFD "x\n", 0, NULL},
	      {"\\xff without \\xfe is no BOM", "\xff<t>x</t>", 0, 0, "x\n", 0, NULL});
}

static void
test_max(void)
{
	CASES({"max cuts between characters", "<t>h\xc3\xa9llo</t>", 0, 4, "h\xc3\xa9l", 1,
	       NULL},
	      {"max cuts before a character that does not fit", "<t>h\xc3\xa9llo</t>", 0, 2, "h",
	       1, NULL},
	      {"a separator past max is not text", "<p><t>abc</t></p>", 0, 3, "abc", 0, NULL});
}

UNIT_SUITE(xml_text, {"which elements' text is written", test_elements},
	   {"entities", test_entities},
	   {"CDATA, comments, PIs, a DOCTYPE's internal subset", test_markup},
	   {"skipped elements: nested, self-closing, shared cells", test_skip},
	   {"the verdict on a document ending inside markup", test_verdict},
	   {"UTF-16 after a BOM", test_utf16}, {"max", test_max});
