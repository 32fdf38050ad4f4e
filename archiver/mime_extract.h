/* mime_extract - the searchable metadata of one message, read with GMime in bounded work.
 * Owns: the MIME walk (depth, part and text limits), address lists, attachment names (RFC 2231
 * and 2047), body text converted to UTF-8 from any charset iconv knows, HTML to text, and the
 * CJK bigram form of text handed to PostgreSQL's full-text search (mime_fts_text).
 * Not: the database (indexer), the raw bytes (vault). Pure: bytes in, struct out. */
#ifndef VL_MIME_EXTRACT_H
#define VL_MIME_EXTRACT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "vl_err.h"

#define MIME_DEPTH_MAX 32	     /* nesting of multiparts and message/rfc822 walked */
#define MIME_PARTS_MAX 1000	     /* MIME objects visited per message */
#define MIME_BODY_MAX (4u << 20)     /* bytes of UTF-8 body text kept */
#define MIME_HTML_MAX (16u << 20)    /* bytes of one HTML part converted before stripping */
#define MIME_FIELD_MAX 16384	     /* bytes kept of one header's text */
#define MIME_ADDRS_MAX 1000	     /* bare addresses kept per address field */
#define MIME_ATTACH_NAME_MAX 1024    /* bytes kept of one attachment's file name */

/* One address header: its display text and its bare addresses. */
struct mime_addrs {
	char *text;   /* "Name <a@b>, c@d" in UTF-8, owned; NULL when the header is absent */
	char **addrs; /* bare addresses, lower-cased, owned; at most MIME_ADDRS_MAX */
	size_t n;
};

struct mime_attachment {
	char *filename;	    /* UTF-8 (RFC 2231 / 2047 decoded), owned; NULL when it has none */
	char *content_type; /* "type/subtype", lower-case, owned; never NULL */
	uint64_t size;	    /* bytes after the transfer encoding is undone */
};

/* Every string is valid UTF-8 without NUL bytes (PostgreSQL text accepts nothing else), and
 * bounded by the limits above. */
struct mime_meta {
	struct mime_addrs from, sender, reply_to, to, cc, bcc;
	char *subject;	       /* RFC 2047 decoded; NULL when absent */
	int64_t date_us;       /* Date: as unix microseconds; 0 when absent or unreadable */
	char *message_id;      /* without angle brackets; NULL when absent */
	char *in_reply_to;     /* "<id> <id>"; NULL when absent */
	char *references;      /* "<id> <id> ..."; NULL when absent */
	struct mime_attachment *attachments;
	size_t nattachments;
	int has_attachment;
	char *body;	  /* the message's text, "" when it has none; never NULL once extracted */
	size_t body_len;  /* at most MIME_BODY_MAX */
	int body_truncated; /* more text was there than MIME_BODY_MAX */
	int parse_error;    /* GMime could not parse it, or its structure is broken, or a limit cut
			     * the walk short: the rest of the struct is what could be read */
	const char *parse_why; /* a short static reason when parse_error is set, else NULL */
};

/* mime_extract - parse len bytes of one message (GMime passes over an mbox "From " line) and
 * fill m (zeroed first; the caller releases it with mime_meta_free, whatever the result).
 * Body text: text/plain parts and text/html parts (tags, scripts, styles and comments removed,
 * entities decoded) that are not attachments; of a multipart/alternative only the first
 * text/plain is used, or the first text/html when the plain text is empty. A message/rfc822
 * part is walked (its From, Subject and text join the body; its attachments are listed).
 * Attachments: leaves with a file name or an "attachment" disposition, and every other leaf
 * that is not text or message; never signatures (PGP, S/MIME) or the PGP/MIME version part.
 * g_mime_init() must have been called; safe to call from several threads at once (no shared
 * state of ours). A message GMime cannot read is not an error: m->parse_error is set and VL_OK
 * returned. VL_ERR_LIMIT only when len does not fit GMime's memory stream (4 GiB). */
enum vl_err mime_extract(struct mime_meta *m, const uint8_t *raw, size_t len, char *err)
	VL_MUST_CHECK;

/* mime_meta_free - release everything m owns and zero it; a zeroed m is a no-op. */
void mime_meta_free(struct mime_meta *m);

/* mime_fts_text - append to out the form of UTF-8 text that PostgreSQL's
 * to_tsvector('simple', ...) and to_tsquery('simple', ...) see, so that words in scripts
 * written without spaces are found: each run of CJK characters becomes its overlapping bigrams
 * separated by spaces ("契約書" -> "契約 約書"; a run of one character stays itself), with a
 * space on each side of the run ("abc契約def" -> "abc 契約 def"). Apply it to indexed text and
 * to query terms alike: a query of two or more CJK characters then matches wherever they occur
 * (query the bigrams as a phrase, <->). A single CJK character is a lexeme only where it stood
 * alone; inside a run it starts a bigram (found with a prefix query, 契:*) unless it ends it.
 * CJK here: Hangul Jamo U+1100-11FF; CJK and Kangxi radicals U+2E80-2FDF; the ideographic
 * marks 々〆〇 U+3005-3007, 〡-〩 U+3021-3029, 〱-〵 U+3031-3035, 〻〼 U+303B-303C; Hiragana
 * U+3041-309F; Katakana U+30A1-30FA and ー-ヿ U+30FC-30FF (the middle dot ・ U+30FB separates);
 * Bopomofo, Hangul compatibility Jamo, Kanbun, Bopomofo extended, Katakana extensions
 * U+3105-31FF; CJK Extension A U+3400-4DBF; CJK Unified U+4E00-9FFF; Hangul Jamo extended
 * U+A960-A97F and U+D7B0-D7FF; Hangul syllables U+AC00-D7A3; CJK compatibility ideographs
 * U+F900-FAFF; halfwidth Katakana and Hangul U+FF66-FFDC; Kana supplement and extensions
 * U+1AFF0-1B16F; CJK Extensions B-F and the compatibility supplement U+20000-2FA1F; Extensions
 * G-H U+30000-323AF. Fullwidth ASCII U+FF01-FF5E is folded to ASCII (ＨＴＭＬ -> HTML) and the
 * ideographic space U+3000 to a space, so those match as ordinary words; other punctuation
 * passes through (the parser treats it as a separator). Lower-casing is left to to_tsvector.
 * Invalid UTF-8 bytes and NUL become spaces, so out is always valid, NUL-free UTF-8. It is
 * appended to out, at most 7/3 of len plus 2 bytes (each CJK character of a run sits in two
 * bigrams): the work is linear, bounded by the caller's bound on len. */
void mime_fts_text(struct buf *out, const char *utf8, size_t len);

#endif
