/* text_conv - text in any charset iconv knows to UTF-8, streaming, into a sink (text_sink).
 * Owns: charset labels (aliases, the vendor supersets mail means by the base set's name, the
 * labels read as UTF-8 where valid and Windows-1252 elsewhere), ISO-2022-JP, U+FFFD for bytes
 * invalid in their charset, and the iconv modules kept loaded for the life of the process.
 * Not: where the bytes come from or which charset they are labelled with (mime_extract).
 * g_mime_init() must have been called (a label is also tried under GMime's name for it); safe
 * from several threads at once (the one shared state, the loaded modules, is locked). */
#ifndef VL_TEXT_CONV_H
#define VL_TEXT_CONV_H

#include <iconv.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "text_sink.h"

#define TEXT_CONV_ICONV_PINNED 64 /* charsets whose iconv module stays loaded (text_conv.c says
				   * why); past that many, a charset's module is loaded and
				   * unloaded with each use again: slower, never wrong */

enum text_conv_mode { TEXT_CONV_AUTO, TEXT_CONV_ICONV };
enum text_conv_jis {
	TEXT_CONV_JIS_ASCII,
	TEXT_CONV_JIS_0208,
	TEXT_CONV_JIS_KANA,
	TEXT_CONV_JIS_0212,
	TEXT_CONV_JIS_OTHER
};

/* One text being converted. The struct is here so that a caller can hold one by value; a
 * caller reads only unknown and bad, the rest is text_conv's. */
struct text_conv {
	enum text_conv_mode mode;
	iconv_t cd;
	int jis;		 /* ISO-2022-JP: bytes go through jis_feed first */
	enum text_conv_jis set;	 /* ... its current character set */
	uint8_t esc[4];		 /* ... an escape sequence split across reads */
	size_t nesc;
	int lead;		 /* ... the first byte of a two-byte character, or -1 */
	struct buf stage;	 /* bytes not yet converted (a character split across reads) */
	struct buf eucbuf;	 /* jis_feed's output */
	int unknown;		 /* the label names a charset iconv does not know */
	size_t bad;		 /* bytes invalid in the charset, each made U+FFFD */
};

/* text_conv_open - set c up to read text labelled charset (NULL or "": unlabelled; the label
 * ends at its first quote, apostrophe or space). Unlabelled text, and text labelled US-ASCII,
 * ISO-8859-1, Windows-1252, UTF-8 or their kin (charset_auto in text_conv.c), is read as UTF-8
 * where it is valid and Windows-1252 for every other byte, unless sample (its first n bytes)
 * holds an ISO-2022-JP escape: then it is ISO-2022-JP. A label iconv does not know is read the
 * UTF-8-or-Windows-1252 way and sets c->unknown. Never fails; release c with text_conv_close. */
void text_conv_open(struct text_conv *c, const char *charset, const uint8_t *sample, size_t n);

/* text_conv_feed - convert n more bytes into s. A character split across feeds waits for the
 * next; final says nothing follows (p may then be NULL with n 0), and what is left unfinished
 * is then read as invalid. Through iconv every invalid byte is written as U+FFFD and counted in
 * c->bad; the UTF-8-or-Windows-1252 reading has none (its five undefined bytes are written as
 * U+FFFD uncounted). Nothing more is written once s is full. */
void text_conv_feed(struct text_conv *c, struct sink *s, const uint8_t *p, size_t n, int final);

/* text_conv_close - release what c holds (the iconv descriptor, its buffers). */
void text_conv_close(struct text_conv *c);

/* text_conv_cp1252 - the code point of byte b in Windows-1252: b itself below 0x80 and from
 * 0xA0 (Latin-1), 0 for the five bytes it leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D). */
uint32_t text_conv_cp1252(uint8_t b);

/* text_conv_label_in - whether label is one of the n labels in list, ignoring ASCII case. */
int text_conv_label_in(const char *label, const char *const *list, size_t n);

#endif
