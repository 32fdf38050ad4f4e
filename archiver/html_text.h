/* html_text - the text of an HTML document, written into a sink (text_sink), and the charset
 * its <meta> names.
 * Owns: tags, comments, script and style content, which elements break a line, entities.
 * Not: charsets (text_conv: the document is UTF-8 by the time it comes here), how much HTML is
 * read (mime_extract's MIME_HTML_MAX), how much text is kept (the sink's cap). */
#ifndef VL_HTML_TEXT_H
#define VL_HTML_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "text_sink.h"

#define HTML_SNIFF_MAX 1024 /* bytes searched for a <meta> charset: HTML requires the declaration
			     * to be within the first 1024 bytes, and browsers look no further */
#define HTML_ENTITY_MAX 32  /* longest "&...;" entity looked at: the longest named entity
			     * (&CounterClockwiseContourIntegral;) is 31 letters; it bounds the
			     * look-ahead at each '&', so the work stays linear */

/* html_text_write - the text of the HTML document p (n bytes of UTF-8, whole: this does not
 * stream) into s: tags, comments, <!...>, <?...> and the content of script and style dropped
 * (quoted attribute values may hold '>'); a line break at the start and the end of a block
 * element (br, p, div, li, td, h1 ...), none at an inline one ("<b>wo</b>rd" is one word);
 * entities decoded (common named ones, decimal and hex; &#128; to &#159; as Windows-1252,
 * invalid code points as U+FFFD; an unknown one, or a '<' that opens no tag, kept as text);
 * white space collapsed to one space or line break. Stops once s is full. */
void html_text_write(struct sink *s, const uint8_t *p, size_t n);

/* html_text_charset - the charset named by the first "charset=" in the first HTML_SNIFF_MAX
 * bytes of p (a <meta charset=...> or <meta http-equiv ... content="...; charset=...">), into
 * out (outlen bytes, NUL-terminated, cut to fit); 1 when one was found, else 0. */
int html_text_charset(const uint8_t *p, size_t n, char *out, size_t outlen);

#endif
