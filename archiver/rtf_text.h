/* rtf_text - the plain text of an RTF document (an attachment, or the body Outlook keeps in a
 * TNEF winmail.dat), read by a small bounded tokenizer of our own: Debian has no maintained
 * RTF-to-text C library (unrtf is a GPL program, not a library), and only the words are wanted.
 * Owns: which RTF destinations are document text, code pages and \uN to UTF-8, the bounds.
 * Not: MIME or TNEF (mime_extract and its TNEF reader), words (fts). Pure: bytes in, text out. */
#ifndef VL_RTF_TEXT_H
#define VL_RTF_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "vl_err.h"

#define RTF_DEPTH_MAX 256   /* open groups followed; deeper ones are skipped, VL_ERR_LIMIT */
#define RTF_WORD_MAX 32	    /* letters of a control word (RTF 1.9.1); a longer one is unknown */
#define RTF_DIGITS_MAX 10   /* digits of a parameter read; more are passed over, value kept */
#define RTF_FONTS_MAX 512   /* fonts of the font table whose code page is remembered */
#define RTF_CODEPAGES_MAX 8 /* code pages converted in one document (iconv descriptors) */

/* rtf_is - whether an attachment's labels say RTF: content type application/rtf,
 * application/x-rtf or text/rtf (case-insensitive, parameters ignored), or any type with a
 * file name ending in ".rtf" (case-insensitive). Either may be NULL. Not text/richtext or
 * text/enriched: those are RFC 1896 enriched text, another format. */
int rtf_is(const char *content_type, const char *filename);

/* rtf_is_bytes - whether the len bytes at p start with "{\rtf", as every RTF document does. */
int rtf_is_bytes(const uint8_t *p, size_t len);

/* rtf_text - append the text of the RTF document (len bytes at p) to out, at most max bytes,
 * cut between UTF-8 characters; *truncated is set when more text was there, else cleared.
 * Text: the body, headers, footers, footnotes, field results and an object's \result;
 * \par \line \sect \page \row end a line, \tab \cell are a tab. Not text: the tables (fonts,
 * colours, styles, lists, revisions...), \info, pictures, objects' data, field instructions,
 * every \* destination (Outlook's \*\htmltag: the HTML tags of a \fromhtml1 body), list
 * numbers (\pntext, \listtext), and in a \fromhtml1 body what \htmlrtf marks as the RTF-only
 * rendering, but for an HTML entity's (Outlook writes "&eacute;" as a tag, its character under
 * \htmlrtf); there, line and cell breaks separate words even under \htmlrtf, and so does a tag
 * of white space alone (the HTML's line ends). \'hh bytes are read in the code
 * page of the group's font (\fcharset, \cpg) or else the document's (\ansicpg, \ansi \mac \pc
 * \pca; 1252 when none), two bytes a character in the double-byte ones (932, 936, 949, 950,
 * 1361: a lead byte that makes no character with the next byte is U+FFFD, an ASCII next byte
 * kept), and in 65001 the bytes of a UTF-8 character together (a sequence cut short or broken
 * is one U+FFFD, the byte that broke it read afresh); \uN (surrogate pairs too) replaces the
 * \ucN characters after it. The text is valid UTF-8 without NUL bytes or other C0 controls but
 * \t and \n; a byte or \u value that is not a character becomes U+FFFD. Reading stops at the
 * brace that closes the document.
 * Returns VL_OK (a document cut short, its groups still open, is read up to where it ends);
 * VL_ERR_PARSE when it does not start with "{\rtf" (out as it was); VL_ERR_LIMIT when groups
 * nest deeper than RTF_DEPTH_MAX: the deeper ones are skipped, the text around them is read
 * and kept in out (*truncated as on VL_OK). err (VL_ERRLEN, may be NULL) says why.
 * Work is linear in len: one pass, no recursion, the group stack a fixed array. Memory: about
 * 9 KiB of state and up to RTF_CODEPAGES_MAX iconv descriptors, closed before it returns.
 * No shared state: safe from several threads at once. */
enum vl_err rtf_text(const uint8_t *p, size_t len, struct buf *out, size_t max, int *truncated,
		     char *err) VL_MUST_CHECK;

#endif
