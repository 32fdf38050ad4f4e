/* test_text_sink - archiver/text_sink.{c,h}: CR LF and a lone CR as LF, NUL as a space, white
 * space collapsed only when asked, the cap cutting between characters, the separator only
 * between texts, ink. */
#include <string.h>

#include "buf.h"
#include "text_sink.h"
#include "unit.h"

static void
test_put(void)
{
	struct buf b = {0};
	struct sink s = {.b = &b, .cap = 64};

	sink_put(&s, (const uint8_t *)"a\r\nb\rc\0d  e", 11);
	CHECK(strcmp((const char *)b.data, "a\nb\nc d  e") == 0, "CR LF, CR, NUL");
	CHECK(s.ink == 5, "ink counts what is not white space");
	s.collapse = 1;
	sink_put(&s, (const uint8_t *)" \n\t x", 5);
	CHECK(strcmp((const char *)b.data, "a\nb\nc d  e x") == 0, "collapsed when asked");
	buf_free(&b);
}

static void
test_cap(void)
{
	struct buf b = {0};
	struct sink s = {.b = &b, .cap = 4};

	sink_sep(&s);
	CHECK(b.len == 0 && sink_sep_len(&s) == 0, "no separator before the first text");
	sink_put(&s, (const uint8_t *)"a", 1);
	CHECK(sink_sep_len(&s) == 2, "a separator after text");
	sink_cp(&s, 0x20ac); /* 3 bytes: fits exactly */
	CHECK(b.len == 4 && !s.full, "a character up to the cap");
	sink_cp(&s, 0xe9);
	CHECK(b.len == 4 && s.full, "past the cap: full");
	buf_free(&b);
	s = (struct sink){.b = &b, .cap = 3};
	sink_put(&s, (const uint8_t *)"a\xe2\x82\xac", 4);
	CHECK(b.len == 1 && s.full && b.data[1] == 0, "cut before a character that does not fit");
	buf_free(&b);
}

UNIT_SUITE(text_sink, {"what is written", test_put}, {"the cap and the separator", test_cap})
