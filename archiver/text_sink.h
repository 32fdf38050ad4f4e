/* text_sink - a bounded buffer of UTF-8 text that text is written into: NUL-free, CRLF kept as
 * LF, cut only between characters, white space optionally collapsed (HTML).
 * Owns: the cap and the cut, the count of bytes that are not white space (ink).
 * Not: the buffer's memory (the caller's struct buf), what is valid UTF-8 (the writer hands
 * over whole characters: text_conv, html_text). The names are sink_* as they were inside
 * mime_extract, where most writers still are. */
#ifndef VL_TEXT_SINK_H
#define VL_TEXT_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* The struct is here so that a writer can hold one by value and read full, ink and cap. A new
 * sink is {.b = &buf, .cap = max} (b borrowed: it must outlive the sink), all else zero. */
struct sink {
	struct buf *b;
	size_t cap;
	int full;   /* cap reached: everything more is dropped */
	size_t ink; /* bytes that were not white space, to tell an empty alternative */
	int space;  /* collapse white space (HTML): the last byte written was a space */
	int collapse;
};

/* sink_put - append n bytes that are whole UTF-8 characters to s: NUL becomes a space, CR LF
 * and a lone CR become LF, white space runs become one while s->collapse is set. At s->cap the
 * text is cut before the character that does not fit, s->full is set and the rest dropped.
 * b->data stays NUL-terminated. */
void sink_put(struct sink *s, const uint8_t *p, size_t n);

/* sink_cp - append code point cp (at most U+10FFFF, not a surrogate) as UTF-8, as sink_put. */
void sink_cp(struct sink *s, uint32_t cp);

/* sink_sep_len - the bytes sink_sep would write now. */
size_t sink_sep_len(const struct sink *s);

/* sink_sep - a paragraph break between two parts' text (nothing at the start). */
void sink_sep(struct sink *s);

#endif
