/* test_html_text - archiver/html_text.{c,h} through its own interface: tags dropped, inline
 * elements joining words, entities, script, style and comments skipped, <br> and <p> line
 * breaks, white space collapsed, the sink's cap; the charset a <meta> names, and an HTML
 * document in Shift_JIS read the way mime_extract reads one (html_text_charset, then
 * text_conv, then html_text_write). html_text_write takes a whole document: nothing streams. */
#include <gmime/gmime.h>
#include <string.h>

#include "buf.h"
#include "html_text.h"
#include "text_conv.h"
#include "unit.h"

#define FFFD "\xef\xbf\xbd"
#define NIHONGO "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e" /* 日本語 in UTF-8 */
#define HT_MAX 1024 /* the sink's cap of a case that sets none */

struct ht_case {
	const char *label;
	const char *in;
	size_t max; /* the sink's cap; 0 for HT_MAX */
	const char *want;
	int want_full;
};

static void
ht_run(const struct ht_case *cs, size_t count)
{
	for (const struct ht_case *c = cs; c < cs + count; c++) {
		struct buf text = {0};
		struct sink s = {.b = &text, .cap = c->max ? c->max : HT_MAX};

		html_text_write(&s, (const uint8_t *)c->in, strlen(c->in));
		CHECK(text.len == strlen(c->want) && memcmp(text.data, c->want, text.len) == 0,
		      c->label);
		CHECK(s.full == c->want_full, c->label);
		CHECK(s.collapse == 0, c->label);
		if (text.len != strlen(c->want) ||
		    (text.len && memcmp(text.data, c->want, text.len)))
			fprintf(stderr, "\n[%s] got \"%.*s\"\n", c->label, (int)text.len,
				text.data ? (const char *)text.data : "");
		buf_free(&text);
	}
}

#define CASES(...)                                                                         \
	do {                                                                               \
		static const struct ht_case c_[] = {__VA_ARGS__};                          \
		ht_run(c_, sizeof(c_) / sizeof(c_[0]));                                    \
	} while (0)

static void
test_text(void)
{
	CASES({"tags dropped; an inline element joins a word", "<p>Hello <b>wo</b>rld</p>", 0,
	       "Hello world\n", 0},
	      {"<br> and <p> break lines, white space collapsed",
	       "one<br>two  \n\n three<p>four</p>", 0, "one\ntwo three\nfour\n", 0},
	      {"script and style content skipped, comments dropped",
	       "a<script>var x = '<p>';</script>b<STYLE>p{}</style>c<!-- <p>d -->e", 0, "abce",
	       0},
	      {"a '<' that opens no tag is text; a quoted '>' ends no tag",
	       "1 < 2 <a title=\"x>y\">z</a>", 0, "1 < 2 z", 0},
	      {"the sink's cap stops the text", "<p>abc<p>def", 5, "abc\nd", 1});
}

static void
test_entities(void)
{
	CASES({"named, decimal and hex entities", "&amp;&lt;&gt; &eacute;&#233;&#xE9;", 0,
	       "&<> \xc3\xa9\xc3\xa9\xc3\xa9", 0},
	      {"&#150; is what Windows-1252 says (an en dash)", "a&#150;b", 0, "a\xe2\x80\x93" "b",
	       0},
	      {"no entity: kept as text", "&bogus; a & b", 0, "&bogus; a & b", 0},
	      {"NUL, past U+10FFFF and surrogates are U+FFFD", "&#0;&#x110000;&#xD800;", 0,
	       FFFD FFFD FFFD, 0});
}

static void
test_charset(void)
{
	char cs[64], pad[HTML_SNIFF_MAX + 64];
	const char *meta = "<meta http-equiv=\"Content-Type\" content=\"text/html; "
			   "charset=iso-2022-jp\">";

	CHECK(html_text_charset((const uint8_t *)"<meta charset=\"Shift_JIS\">", 26, cs,
				sizeof(cs)) == 1 &&
		      strcmp(cs, "Shift_JIS") == 0,
	      "<meta charset>");
	CHECK(html_text_charset((const uint8_t *)meta, strlen(meta), cs, sizeof(cs)) == 1 &&
		      strcmp(cs, "iso-2022-jp") == 0,
	      "<meta http-equiv content>");
	CHECK(html_text_charset((const uint8_t *)"<p>none</p>", 11, cs, sizeof(cs)) == 0,
	      "no charset");
	memset(pad, ' ', HTML_SNIFF_MAX);
	snprintf(pad + HTML_SNIFF_MAX, sizeof(pad) - HTML_SNIFF_MAX, "<meta charset=utf-8>");
	CHECK(html_text_charset((const uint8_t *)pad, strlen(pad), cs, sizeof(cs)) == 0,
	      "a charset past HTML_SNIFF_MAX is not looked at");
}

/* test_meta_charset - Shift_JIS HTML named by its <meta>, read as mime_extract reads it. */
static void
test_meta_charset(void)
{
	static const char doc[] = "<html><head><meta charset=\"Shift_JIS\"></head>"
				  "<body><p>\x93\xfa\x96\x7b\x8c\xea</p></body></html>";
	struct buf utf8 = {0}, text = {0};
	struct sink conv_sink = {.b = &utf8, .cap = HT_MAX}, s = {.b = &text, .cap = HT_MAX};
	struct text_conv c;
	char cs[64];

	/* text_conv asks GMime for charset names; g_mime_init counts its calls. */
	g_mime_init();
	CHECK(html_text_charset((const uint8_t *)doc, sizeof(doc) - 1, cs, sizeof(cs)) == 1,
	      "<meta> names Shift_JIS");
	text_conv_open(&c, cs, (const uint8_t *)doc, sizeof(doc) - 1);
	text_conv_feed(&c, &conv_sink, (const uint8_t *)doc, sizeof(doc) - 1, 1);
	html_text_write(&s, utf8.data, utf8.len);
	CHECK(text.len > 0 && strcmp((const char *)text.data, NIHONGO "\n") == 0,
	      "Shift_JIS HTML to text");
	CHECK(c.bad == 0 && c.unknown == 0, "no invalid bytes");
	text_conv_close(&c);
	buf_free(&utf8);
	buf_free(&text);
}

UNIT_SUITE(html_text, {"tags, blocks, script and style", test_text},
	   {"entities", test_entities}, {"the <meta> charset", test_charset},
	   {"an HTML document in the charset its <meta> names", test_meta_charset})
