/* utf8 - decoding and encoding one UTF-8 character, strictly: the one place that decides what
 * valid UTF-8 is (what PostgreSQL's text accepts). Written here rather than taken from GLib
 * because callers need to tell an invalid byte from a sequence cut short at a buffer's end,
 * which g_utf8_get_char_validated folds together. */
#ifndef VL_UTF8_H
#define VL_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* utf8_decode - the length (1-4) of the valid UTF-8 sequence at p (n > 0 bytes; its code point
 * in *cp), 0 when the byte at p cannot start one or what follows breaks it, -1 when the n bytes
 * are a valid but unfinished prefix. Overlong forms, surrogates and values above U+10FFFF are
 * invalid. */
int utf8_decode(const uint8_t *p, size_t n, uint32_t *cp);

/* utf8_encode - write code point c (at most U+10FFFF, not a surrogate) at o; its length. */
size_t utf8_encode(uint8_t *o, uint32_t c);

#endif
