/* mime_extract - the searchable metadata of one message, read with GMime in bounded work.
 * Owns: the MIME walk (limits), addresses, attachment names (RFC 2231, 2047), body text in UTF-8
 * (charsets: text_conv; HTML: html_text), which attachments have text and which module
 * reads it (office_text, pdf_text), and what the text lacks (index_exc).
 * Not: the database (indexer), the raw bytes (vault), words and the tsvector (fts). Pure:
 * bytes in, struct out (iconv modules, once loaded, stay loaded). */
#ifndef VL_MIME_EXTRACT_H
#define VL_MIME_EXTRACT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "index_exc.h"
#include "vl_err.h"

#define MIME_DEPTH_MAX 32	     /* nesting of multiparts and message/rfc822 walked */
#define MIME_PARTS_MAX 1000	     /* MIME objects visited per message */
#define MIME_BODY_MAX (4u << 20)     /* bytes of UTF-8 body text kept */
#define MIME_HTML_MAX (16u << 20)    /* bytes of one HTML part converted before stripping */
#define MIME_FIELD_MAX 16384	     /* bytes kept of one header's text */
#define MIME_ADDRS_MAX 1000	     /* bare addresses kept per address field */
#define MIME_ATTACH_NAME_MAX 1024    /* bytes kept of one attachment's file name */
#define MIME_ATTACH_READ_MAX (64u << 20) /* decoded bytes of one attachment read by a file
					  * reader (file_text); a larger one is not extracted */
#define MIME_ATTACH_TEXT_MAX (1u << 20)	 /* bytes of text taken from one attachment */
#define MIME_TNEF_EXC_MAX 8		 /* exception rows for the files inside one winmail.dat
					  * that are not read; past it one row counts the rest,
					  * so one attachment cannot take INDEX_EXC_MAX alone */
#define MIME_ATTACH_READERS_MAX 16	 /* files read by a file reader per message, those
					  * inside a winmail.dat too (a PDF or a legacy Office
					  * file is a process of up to 30 s); later ones are not */

/* mime_extract flags. */
#define MIME_ATTACH_TEXT 1u	  /* extract the text of attachments (file_text's readers) */
#define MIME_ATTACH_IN_PROCESS 2u /* with MIME_ATTACH_TEXT: only the readers that run in
				   * process; a PDF or a legacy Office file, which costs a process
				   * (file_kind_runs_process), is left unread without an exception
				   * (snippets) */

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
	int journal_report; /* its header marks an Exchange journal report (X-MS-Journal-Report,
			     * its in-organisation and mailpiler spellings, or Content-Identifier:
			     * exjournalreport), whose body lists the original's Bcc recipients */
	int parse_error;    /* GMime could not parse it, or its structure is broken, or a limit cut
			     * the walk short: the rest of the struct is what could be read */
	const char *parse_why; /* a short static reason when parse_error is set, else NULL */
	struct index_exc_list exc; /* what of it the text lacks, and why (index_exc.h) */
};

/* mime_extract - parse len bytes of one message (GMime passes over an mbox "From " line) and
 * fill m (zeroed first; the caller releases it with mime_meta_free, whatever the result).
 * Body text: text/plain parts and text/html parts (tags, scripts, styles and comments removed,
 * entities decoded) that are not attachments; of a multipart/alternative only the first
 * text/plain is used, or the first text/html when the plain text is empty. A message/rfc822
 * part is walked (its From, Subject and text join the body; its attachments are listed).
 * Attachments: leaves with a file name or an "attachment" disposition, and every other leaf
 * that is not text or message; never signatures (PGP, S/MIME) or the PGP/MIME version part.
 * With MIME_ATTACH_TEXT in flags, the text of each attachment that has some joins the body
 * after the text before it, at most MIME_ATTACH_TEXT_MAX bytes of it: text/... (HTML as above;
 * not rich or enriched text) and .txt/.csv/.htm(l)/.md/.log files, and through file_text
 * Office Open XML and OpenDocument, RTF, TNEF (winmail.dat) in process, PDF and legacy
 * .doc/.xls/.ppt in a child process; a specific content type decides which (file_kind_of),
 * the file name only when the type is generic (application/octet-stream and its kin) or
 * absent.
 * g_mime_init() must have been called; safe to call from several threads at once (the one
 * shared state, the loaded iconv modules, is locked). A message GMime cannot read is not an
 * error: m->parse_error is set and VL_OK returned.
 * m->exc lists what the text lacks: encrypted parts (multipart/encrypted, S/MIME enveloped-data,
 * inline PGP, a ZIP whose first entry is encrypted, a password-protected file a reader opens),
 * attachments whose text is not extracted (unsupported_type: images, archives, other types,
 * an S/MIME opaque-signed part; every attachment without MIME_ATTACH_TEXT), text cut at
 * MIME_BODY_MAX, MIME_HTML_MAX or MIME_ATTACH_TEXT_MAX and attachments over
 * MIME_ATTACH_READ_MAX (truncated), text in a charset iconv does not know, with bytes invalid
 * in its charset, in an unknown transfer encoding, or an attached file its reader cannot read
 * (decode_error), and parse_error (unparsed). The parts of an encrypted multipart are not
 * listed again one by one. Each file inside a TNEF attachment (winmail.dat) that is not read
 * (no reader, or its reader's verdict) is listed on its own, under the winmail.dat's part
 * number with its own name and a detail that starts "inside the TNEF attachment, file N". VL_ERR_LIMIT only when len does not fit GMime's memory stream
 * (4 GiB). VL_ERR_BUSY when an attachment's reader could not run for want of something this
 * machine lacked just then (a child reader's VL_ERR_IO: no process, pipe or descriptor for
 * pdftotext or catdoc; a reader's VL_ERR_NOMEM): not the message's failure, and no verdict
 * on it; m is then incomplete (later readers are not run) and must not be stored: read the
 * message again later. err names the attachment's part and type, and why. A pdftotext or
 * catdoc that is not installed is not that: an unsupported_type exception says so. */
enum vl_err mime_extract(struct mime_meta *m, const uint8_t *raw, size_t len, unsigned flags,
			 char *err) VL_MUST_CHECK;

/* mime_meta_free - release everything m owns and zero it; a zeroed m is a no-op. */
void mime_meta_free(struct mime_meta *m);

#endif
