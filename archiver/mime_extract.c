/* mime_extract - the searchable metadata of one message, read with GMime in bounded work.
 *
 * GMime ownership, once for the whole file: everything reached from the parsed GMimeMessage
 * (parts, header values, address lists, content streams) is owned by the message and is valid
 * until mime_extract unrefs it at its end; the objects this file creates (parser options,
 * streams, filters, parser) are unref'd or freed by the function that created them, next to
 * the creation. Strings GMime hands over with "free it" semantics are g_free'd where used.
 *
 * Charset conversion lives in text_conv, HTML to text in html_text (both write to a text_sink). */
#include <gmime/gmime.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "html_text.h"
#include "mime_extract.h"
#include "file_text.h"
#include "text_conv.h"
#include "utf8.h"

#define MIME_CHUNK 65536       /* bytes read from a decoding stream at a time */
#define MIME_GROUP_DEPTH 2     /* address groups inside groups looked into */

static const char utf8_replacement[] = "\xef\xbf\xbd"; /* U+FFFD */

/* ---- UTF-8 ---- */

/* clean_str - an owned copy of s (n bytes) that is valid UTF-8 (invalid bytes become U+FFFD),
 * has every control character as a space, no leading or trailing space, and at most max bytes
 * (cut at a character boundary). NULL when s is NULL or nothing is left. */
static char *
clean_str(const char *s, size_t n, size_t max)
{
	const uint8_t *p = (const uint8_t *)s;
	struct buf b = {0};
	size_t i = 0;

	if (s == NULL)
		return NULL;
	while (i < n && b.len < max) {
		uint32_t cp;
		int k = utf8_decode(p + i, n - i, &cp);

		if (k <= 0) {
			if (b.len + 3 > max)
				break;
			buf_append(&b, utf8_replacement, 3);
			i++;
			continue;
		}
		if (b.len + (size_t)k > max)
			break;
		if (cp < 0x20 || cp == 0x7f)
			buf_append(&b, " ", 1);
		else
			buf_append(&b, p + i, (size_t)k);
		i += (size_t)k;
	}
	size_t start = 0, end = b.len;
	while (start < end && b.data[start] == ' ')
		start++;
	while (end > start && b.data[end - 1] == ' ')
		end--;
	if (start == end) {
		buf_free(&b);
		return NULL;
	}
	char *out = xmalloc(end - start + 1);
	memcpy(out, b.data + start, end - start);
	out[end - start] = 0;
	buf_free(&b);
	return out;
}

static char *
clean_cstr(const char *s, size_t max)
{
	return s ? clean_str(s, strlen(s), max) : NULL;
}

/* ---- walking the MIME tree ---- */

struct walk {
	struct mime_meta *m;
	struct buf body;
	struct sink sink;
	size_t parts;
	size_t natt_cap;
	GMimeParserOptions *opts; /* owned by mime_extract */
	char path[INDEX_EXC_PART_MAX]; /* the MIME part number of the object being walked */
	int encrypted;		       /* inside a multipart/encrypted: its parts are not listed */
	unsigned flags;		       /* mime_extract's: MIME_ATTACH_TEXT */
	unsigned readers;	       /* Office, PDF, RTF, TNEF and legacy files read so far,
				* those inside a TNEF attachment too */
	char again[VL_ERRLEN];	       /* why a reader could not run just now, or "" (attach_failed) */
	unsigned tnef_rows, tnef_more; /* the winmail.dat being read: rows for its files, and
					* the files past MIME_TNEF_EXC_MAX (on_tnef_unread) */
};

/* walk_part - the part number of the leaf being walked: "1" for a message of one part. */
static const char *
walk_part(const struct walk *w)
{
	return w->path[0] ? w->path : "1";
}

/* walk_child - enter child i (0-based) of the multipart being walked; returns the length of
 * the path to restore with walk_parent. A path past INDEX_EXC_PART_MAX stays the parent's. */
static size_t
walk_child(struct walk *w, int i)
{
	size_t len = strlen(w->path);

	snprintf(w->path + len, sizeof(w->path) - len, "%s%d", len ? "." : "", i + 1);
	if (strlen(w->path) == sizeof(w->path) - 1)
		w->path[len] = 0;
	return len;
}

static void
walk_parent(struct walk *w, size_t len)
{
	w->path[len] = 0;
}

/* walk_exc - one exception of the part being walked (index_exc.h). */
static void
walk_exc(struct walk *w, enum index_exc_reason r, const char *filename, const char *type,
	 const char *detail)
{
	index_exc_add(&w->m->exc, r, walk_part(w), filename, type, "%s", detail);
}

static void
walk_error(struct walk *w, const char *why)
{
	if (!w->m->parse_error) {
		w->m->parse_error = 1;
		w->m->parse_why = why;
	}
}

/* Parser warnings that mean the structure is broken. Repeated headers, 8-bit headers, bad
 * encoded words or parameters and unparsable address lists are common in real mail and leave
 * the structure readable: those are not flagged. */
static void
on_parser_warning(gint64 offset, GMimeParserWarning code, const gchar *item, gpointer arg)
{
	static const char *const why[] = {
		[GMIME_WARN_MALFORMED_MULTIPART] = "multipart without parts",
		[GMIME_WARN_TRUNCATED_MESSAGE] = "message truncated",
		[GMIME_WARN_MALFORMED_MESSAGE] = "malformed message",
		[GMIME_CRIT_INVALID_HEADER_NAME] = "invalid header name",
		[GMIME_CRIT_CONFLICTING_HEADER] = "conflicting headers",
		[GMIME_CRIT_CONFLICTING_PARAMETER] = "conflicting header parameters",
		[GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY] = "multipart without boundary",
		[GMIME_CRIT_NESTING_OVERFLOW] = "MIME nesting too deep",
		[GMIME_WARN_PART_WITHOUT_CONTENT] = "part headers ended by a boundary",
		[GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT] = "part without headers or content",
	};

	(void)offset;
	(void)item;
	if ((size_t)code < G_N_ELEMENTS(why) && why[code])
		walk_error(arg, why[code]);
}

/* How far stream_decoded read. */
enum decoded {
	DECODED_ALL,	 /* to the end (or there is no content) */
	DECODED_STOPPED, /* fn asked to stop */
	DECODED_FAILED,	 /* the stream failed before its end: fn has part of the content */
};

/* stream_decoded - read the content of part with its transfer encoding undone, MIME_CHUNK
 * bytes at a time, into fn until fn returns non-zero. The stream and filter made here are
 * unref'd here; the part's own content stream is borrowed and left as it was. */
static enum decoded
stream_decoded(GMimePart *part, int (*fn)(void *, const uint8_t *, size_t), void *arg)
{
	GMimeDataWrapper *w = g_mime_part_get_content(part); /* owned by part */
	enum decoded how = DECODED_ALL;
	GMimeStream *src, *sub, *f;
	GMimeContentEncoding enc;
	ssize_t got;
	char *chunk;

	if (w == NULL || (src = g_mime_data_wrapper_get_stream(w)) == NULL)
		return DECODED_ALL;
	sub = g_mime_stream_substream(src, src->bound_start, src->bound_end);
	f = g_mime_stream_filter_new(sub);
	enc = g_mime_data_wrapper_get_encoding(w);
	if (enc == GMIME_CONTENT_ENCODING_BASE64 || enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
	    enc == GMIME_CONTENT_ENCODING_UUENCODE) {
		GMimeFilter *dec = g_mime_filter_basic_new(enc, FALSE);

		g_mime_stream_filter_add(GMIME_STREAM_FILTER(f), dec);
		g_object_unref(dec);
	}
	chunk = xmalloc(MIME_CHUNK);
	while ((got = g_mime_stream_read(f, chunk, MIME_CHUNK)) > 0)
		if (fn(arg, (const uint8_t *)chunk, (size_t)got)) {
			how = DECODED_STOPPED;
			break;
		}
	if (got < 0)
		how = DECODED_FAILED;
	free(chunk);
	g_object_unref(f);
	g_object_unref(sub);
	return how;
}

#define MIME_HEAD_MAX 8 /* first decoded bytes of an attachment kept: a ZIP's entry flags */

/* What an attachment's content is looked at for: its size and its first bytes. */
struct count {
	uint64_t size;
	uint8_t head[MIME_HEAD_MAX];
};

static int
count_fn(void *arg, const uint8_t *p, size_t n)
{
	struct count *c = arg;

	for (size_t i = 0; i < n && c->size + i < MIME_HEAD_MAX; i++)
		c->head[c->size + i] = p[i];
	c->size += n;
	return 0;
}

struct text_feed {
	struct text_conv conv;
	int opened;
	const char *charset;
	struct sink *sink;
	struct buf *keep; /* HTML: collect (bounded) instead of converting */
	int cut;
};

static int
text_fn(void *arg, const uint8_t *p, size_t n)
{
	struct text_feed *t = arg;

	if (t->keep) {
		if (t->keep->len + n > MIME_HTML_MAX) {
			n = MIME_HTML_MAX - t->keep->len;
			t->cut = 1;
		}
		buf_append(t->keep, p, n);
		return t->cut;
	}
	if (!t->opened) {
		text_conv_open(&t->conv, t->charset, p, n);
		t->opened = 1;
	}
	text_conv_feed(&t->conv, t->sink, p, n, 0);
	return t->sink->full;
}

/* cte_unknown - part's Content-Transfer-Encoding when GMime does not know it (its content is
 * then read as it is, undecoded), else NULL. Owned by part. */
static const char *
cte_unknown(GMimePart *part)
{
	const char *cte = g_mime_object_get_header(GMIME_OBJECT(part), "Content-Transfer-Encoding");

	if (cte && *cte && g_mime_content_encoding_from_string(cte) == GMIME_CONTENT_ENCODING_DEFAULT)
		return cte;
	return NULL;
}

/* text_checks - the exceptions of one text leaf whose text went into the body from byte start:
 * an unknown transfer encoding or charset, invalid bytes (c NULL: nothing was converted), HTML
 * cut at MIME_HTML_MAX, and inline PGP (its text is ciphertext). */
static void
text_checks(struct walk *w, GMimePart *part, int html, const char *cs, const struct text_conv *c,
	    int cut, size_t start)
{
	const char *type = html ? "text/html" : "text/plain", *cte = cte_unknown(part);
	static const char pgp[] = "-----BEGIN PGP MESSAGE-----";

	if (cte)
		index_exc_add(&w->m->exc, INDEX_EXC_DECODE_ERROR, walk_part(w), NULL, type,
			      "unknown Content-Transfer-Encoding %.60s: read as it is", cte);
	if (c && c->unknown)
		index_exc_add(&w->m->exc, INDEX_EXC_DECODE_ERROR, walk_part(w), NULL, type,
			      "unknown charset %.60s: read as UTF-8 or Windows-1252", cs ? cs : "");
	else if (c && c->bad > 0)
		index_exc_add(&w->m->exc, INDEX_EXC_DECODE_ERROR, walk_part(w), NULL, type,
			      "%zu bytes invalid in charset %.60s", c->bad, cs ? cs : "");
	if (cut)
		walk_exc(w, INDEX_EXC_TRUNCATED, NULL, type,
			 "HTML longer than MIME_HTML_MAX: the rest is not read");
	if (w->body.len > start &&
	    memmem(w->body.data + start, w->body.len - start, pgp, sizeof(pgp) - 1))
		walk_exc(w, INDEX_EXC_ENCRYPTED, NULL, type, "inline PGP message");
}

/* walk_text - the text of a text/plain or text/html leaf into the body. */
static void
walk_text(struct walk *w, GMimePart *part, int html)
{
	struct text_feed t = {.sink = &w->sink};
	char meta[64];
	size_t start;

	t.charset = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
	sink_sep(&w->sink);
	start = w->body.len;
	if (!html) {
		stream_decoded(part, text_fn, &t);
		if (t.opened)
			text_conv_feed(&t.conv, &w->sink, NULL, 0, 1);
		text_checks(w, part, 0, t.charset, t.opened ? &t.conv : NULL, 0, start);
		if (t.opened)
			text_conv_close(&t.conv);
		return;
	}
	struct buf raw = {0}, utf8 = {0};
	struct sink conv_sink = {.b = &utf8, .cap = MIME_HTML_MAX};

	t.keep = &raw;
	stream_decoded(part, text_fn, &t);
	if (t.charset == NULL && html_text_charset(raw.data, raw.len, meta, sizeof(meta)))
		t.charset = meta;
	text_conv_open(&t.conv, t.charset, raw.data, raw.len);
	text_conv_feed(&t.conv, &conv_sink, raw.data, raw.len, 1);
	buf_free(&raw);
	html_text_write(&w->sink, utf8.data, utf8.len);
	buf_free(&utf8);
	text_checks(w, part, 1, t.charset, &t.conv, t.cut || conv_sink.full, start);
	text_conv_close(&t.conv);
}

static void
add_attachment(struct walk *w, const char *filename, const char *type, uint64_t size)
{
	struct mime_meta *m = w->m;
	struct mime_attachment *a;

	if (m->nattachments == w->natt_cap) {
		w->natt_cap = w->natt_cap ? w->natt_cap * 2 : 4;
		m->attachments = xrealloc(m->attachments, w->natt_cap * sizeof(*a));
	}
	a = &m->attachments[m->nattachments++];
	a->filename = clean_cstr(filename, MIME_ATTACH_NAME_MAX);
	a->content_type = clean_cstr(type, 255);
	if (a->content_type == NULL)
		a->content_type = xstrdup("application/octet-stream");
	for (char *q = a->content_type; *q; q++)
		*q = (char)g_ascii_tolower(*q);
	a->size = size;
	m->has_attachment = 1;
}

static char *
mime_type_of(GMimeObject *obj)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj); /* owned by obj */

	return ct ? g_mime_content_type_get_mime_type(ct) : g_strdup("text/plain");
}

static int
is_signature(const char *type)
{
	return strcasecmp(type, "application/pgp-signature") == 0 ||
	       strcasecmp(type, "application/pkcs7-signature") == 0 ||
	       strcasecmp(type, "application/x-pkcs7-signature") == 0 ||
	       strcasecmp(type, "application/pgp-encrypted") == 0;
}

/* zip_encrypted - whether head (the first decoded bytes of a part) is a ZIP local file
 * header whose general purpose flag bit 0 (encrypted) is set (APPNOTE.TXT 4.3.7, 4.4.4). Only
 * the first entry is looked at: a ZIP with some entries encrypted may pass. */
static int
zip_encrypted(const struct count *c)
{
	return c->size >= MIME_HEAD_MAX && memcmp(c->head, "PK\3\4", 4) == 0 && (c->head[6] & 1);
}

/* What an Office file or a PDF is read into: its decoded bytes, at most MIME_ATTACH_READ_MAX. */
static int
collect_fn(void *arg, const uint8_t *p, size_t n)
{
	struct buf *b = arg;

	if (b->len + n > MIME_ATTACH_READ_MAX)
		return 1;
	buf_append(b, p, n);
	return 0;
}

/* verdict_reason - the exception reason of a reader's verdict rc on a file (VL_OK: it has no
 * reader). A missing pdftotext (VL_ERR_CONFIG) lasts until someone installs it, so it is an
 * exception, unsupported_type, whose detail says so (verdict_words). */
static enum index_exc_reason
verdict_reason(enum vl_err rc)
{
	return rc == VL_OK	       ? INDEX_EXC_UNSUPPORTED_TYPE
	       : rc == VL_ERR_CRYPTO ? INDEX_EXC_ENCRYPTED
	       : rc == VL_ERR_CONFIG ? INDEX_EXC_UNSUPPORTED_TYPE
	       : rc == VL_ERR_LIMIT  ? INDEX_EXC_TRUNCATED
				     : INDEX_EXC_DECODE_ERROR;
}

/* verdict_words - how an exception's detail says what verdict rc (verdict_reason) means. */
static const char *
verdict_words(enum vl_err rc)
{
	return rc == VL_OK	       ? "its text is not extracted"
	       : rc == VL_ERR_CRYPTO ? "password-protected"
	       : rc == VL_ERR_CONFIG ? "not read"
				     : "cannot be read";
}

/* attach_failed - the exception of attachment a whose reader failed with rc (detail why).
 * VL_ERR_IO and VL_ERR_NOMEM are none: this machine had no process, pipe or memory for the
 * reader just now (pdf_text.h), which says nothing of the file, and an exception would say
 * it for good. They are kept in w->again instead, and mime_extract returns VL_ERR_BUSY: the
 * message is read again later. */
static void
attach_failed(struct walk *w, const struct mime_attachment *a, enum vl_err rc, const char *why)
{
	if (rc == VL_ERR_IO || rc == VL_ERR_NOMEM) {
		if (w->again[0] == '\0')
			/* Logged by the indexer: the part and its type, never its file name. */
			snprintf(w->again, sizeof(w->again), "attachment %s (%.80s): %.160s",
				 walk_part(w), a->content_type, why);
		return;
	}
	index_exc_add(&w->m->exc, verdict_reason(rc), walk_part(w), a->filename, a->content_type,
		      "%s: %s", verdict_words(rc), why);
}

/* on_tnef_unread - the exception of file u inside the TNEF attachment (winmail.dat) being
 * walked that was not read (file_text): the winmail.dat's own part number, u's own name
 * (cleaned as an attachment's) and type (application/octet-stream when the stream names
 * none), and a detail that starts "inside the TNEF attachment, file N" (N its place in the
 * stream, "2.1" inside a message embedded in it). That is how a reviewer tells it from a row
 * of the winmail.dat itself, which has the same part: by the name and that detail. */
static void
on_tnef_unread(void *arg, const struct file_unread *u)
{
	struct walk *w = arg;
	char *name;

	if (w->tnef_rows == MIME_TNEF_EXC_MAX) {
		w->tnef_more++;
		return;
	}
	w->tnef_rows++;
	name = clean_cstr(u->filename, MIME_ATTACH_NAME_MAX);
	index_exc_add(&w->m->exc, verdict_reason(u->rc), walk_part(w), name,
		      u->content_type ? u->content_type : "application/octet-stream",
		      "inside the TNEF attachment, file %s: %s%s%s", u->place,
		      verdict_words(u->rc), u->why[0] ? ": " : "", u->why);
	free(name);
}

/* attach_bytes - the decoded bytes of attachment a (the part part) into bytes, all of them;
 * 0, or -1 after recording why it has none to read: larger than MIME_ATTACH_READ_MAX
 * (truncated), or its transfer encoding unknown or its stream failing (decode_error). A
 * reader is never given part of a file, nor bytes still encoded: its verdict on them would be
 * about bytes the sender never sent. */
static int
attach_bytes(struct walk *w, GMimePart *part, const struct mime_attachment *a, struct buf *bytes)
{
	const char *cte = cte_unknown(part);
	enum decoded how;

	if (a->size > MIME_ATTACH_READ_MAX) {
		walk_exc(w, INDEX_EXC_TRUNCATED, a->filename, a->content_type,
			 "attachment larger than MIME_ATTACH_READ_MAX: its text is not read");
		return -1;
	}
	if (cte) {
		index_exc_add(&w->m->exc, INDEX_EXC_DECODE_ERROR, walk_part(w), a->filename,
			      a->content_type, "unknown Content-Transfer-Encoding %.60s: not read",
			      cte);
		return -1;
	}
	how = stream_decoded(part, collect_fn, bytes);
	if (how == DECODED_STOPPED)
		walk_exc(w, INDEX_EXC_TRUNCATED, a->filename, a->content_type,
			 "attachment larger than MIME_ATTACH_READ_MAX once decoded: not read");
	else if (how == DECODED_FAILED)
		walk_exc(w, INDEX_EXC_DECODE_ERROR, a->filename, a->content_type,
			 "its content could not be decoded: not read");
	return how == DECODED_ALL ? 0 : -1;
}

/* attach_binary - the text of an Office file, a PDF, an RTF or a TNEF file (kind k) into the
 * body, read by file_text from the decoded bytes, at most room bytes of it. */
static void
attach_binary(struct walk *w, GMimePart *part, const struct mime_attachment *a,
	      enum file_kind k, size_t room)
{
	struct buf bytes = {0}, text = {0};
	char why[VL_ERRLEN] = "";
	struct file_ref f = {.kind = k, .content_type = a->content_type, .filename = a->filename};
	int cut = 0, left = MIME_ATTACH_READERS_MAX - (int)w->readers, start = left;
	enum vl_err rc;

	if (attach_bytes(w, part, a, &bytes) != 0) {
		buf_free(&bytes);
		return;
	}
	f.p = bytes.data;
	f.len = bytes.len;
	w->tnef_rows = w->tnef_more = 0;
	rc = file_text(&f, (w->flags & MIME_ATTACH_IN_PROCESS) ? FILE_NO_PROCESS : 0, &left,
		       on_tnef_unread, w, &text, room, &cut, why);
	w->readers += (unsigned)(start - left); /* the files read inside a TNEF attachment */
	if (w->tnef_more > 0)
		index_exc_add(&w->m->exc, INDEX_EXC_TRUNCATED, walk_part(w), a->filename,
			      a->content_type, "inside the TNEF attachment: %u more files not read,"
			      " past MIME_TNEF_EXC_MAX (%d) rows", w->tnef_more, MIME_TNEF_EXC_MAX);
	buf_free(&bytes);
	if (rc != VL_OK)
		attach_failed(w, a, rc, why);
	if (rc == VL_OK || text.len > 0) { /* the text read before a bound or a flaw is kept */
		sink_sep(&w->sink);
		sink_put(&w->sink, text.data, text.len);
		if (cut)
			w->sink.full = 1; /* attach_text tells which bound it was */
	}
	buf_free(&text);
}

/* attach_text - the text of attachment a (the part part) into the body, at most
 * MIME_ATTACH_TEXT_MAX bytes of it, when it has a reader; 0 when it has none. The separator
 * written before the text (sink_sep) is not the attachment's: the bound and the room a reader
 * is given leave it out, or a text that fits would lose its last bytes to it (and be called
 * longer than MIME_ATTACH_TEXT_MAX). */
static int
attach_text(struct walk *w, GMimePart *part, const struct mime_attachment *a)
{
	int untyped = g_mime_object_get_header(GMIME_OBJECT(part), "Content-Type") == NULL;
	enum file_kind k = file_kind_of(a->content_type, a->filename, untyped);
	size_t cap = w->sink.cap, sep = sink_sep_len(&w->sink), room = cap - w->body.len;

	if (k == FILE_NONE)
		return 0;
	if (file_kind_runs_process(k) && (w->flags & MIME_ATTACH_IN_PROCESS))
		return 1; /* not for this caller: no verdict either */
	if (w->again[0] != '\0')
		return 1; /* the message is read again later (attach_failed): no use reading more */
	if (room > sep + MIME_ATTACH_TEXT_MAX)
		w->sink.cap = w->body.len + sep + MIME_ATTACH_TEXT_MAX;
	if (k != FILE_PLAIN && k != FILE_HTML &&
	    (w->readers >= MIME_ATTACH_READERS_MAX || w->sink.full ||
	     w->sink.cap <= w->body.len + sep))
		walk_exc(w, INDEX_EXC_TRUNCATED, a->filename, a->content_type,
			 w->readers >= MIME_ATTACH_READERS_MAX
				 ? "more Office, PDF, RTF, TNEF and legacy files than MIME_ATTACH_READERS_MAX"
				 : "no room left for its text: not read");
	else if (k != FILE_PLAIN && k != FILE_HTML) {
		w->readers++;
		attach_binary(w, part, a, k, w->sink.cap - w->body.len - sep);
	} else {
		walk_text(w, part, k == FILE_HTML);
	}
	if (w->sink.full && w->sink.cap < cap) {
		walk_exc(w, INDEX_EXC_TRUNCATED, a->filename, a->content_type,
			 "attachment text longer than MIME_ATTACH_TEXT_MAX: the rest is not read");
		w->sink.full = 0;
	}
	w->sink.cap = cap;
	return 1;
}

/* attachment_content - the text of attachment a (the part obj, content c), or why the text
 * lacks it: encrypted (S/MIME enveloped-data, an encrypted ZIP), or no text read from it.
 * Nothing inside a multipart/encrypted, which is listed once as a whole. */
static void
attachment_content(struct walk *w, GMimeObject *obj, const struct mime_attachment *a,
		   const struct count *c, int text_on)
{
	const char *t = a->content_type, *smime;

	if (w->encrypted)
		return;
	if (strcmp(t, "application/pkcs7-mime") == 0 || strcmp(t, "application/x-pkcs7-mime") == 0) {
		smime = g_mime_object_get_content_type_parameter(obj, "smime-type");
		if (smime == NULL || g_ascii_strcasecmp(smime, "enveloped-data") == 0 ||
		    g_ascii_strcasecmp(smime, "authEnveloped-data") == 0)
			walk_exc(w, INDEX_EXC_ENCRYPTED, a->filename, t, "S/MIME encrypted");
		else
			index_exc_add(&w->m->exc, INDEX_EXC_UNSUPPORTED_TYPE, walk_part(w),
				      a->filename, t, "S/MIME %.40s: its content is not extracted",
				      smime);
	} else if (zip_encrypted(c)) {
		walk_exc(w, INDEX_EXC_ENCRYPTED, a->filename, t, "password-protected ZIP");
	} else if (!(w->flags & MIME_ATTACH_TEXT) || !text_on ||
		   !attach_text(w, GMIME_PART(obj), a)) {
		walk_exc(w, INDEX_EXC_UNSUPPORTED_TYPE, a->filename, t,
			 "attachment: its text is not extracted");
	}
}

/* walk_leaf - one GMimePart: body text, an attachment, or neither. */
static void
walk_leaf(struct walk *w, GMimePart *part, int text_on)
{
	GMimeObject *obj = GMIME_OBJECT(part);
	GMimeContentDisposition *d = g_mime_object_get_content_disposition(obj); /* owned */
	const char *filename = g_mime_part_get_filename(part);			  /* owned */
	int attach = d && g_mime_content_disposition_is_attachment(d);
	char *type = mime_type_of(obj); /* g_free */
	int plain = strcasecmp(type, "text/plain") == 0, html = strcasecmp(type, "text/html") == 0;

	if (is_signature(type)) {
		/* Not content: a reader never opens it (nor does has:attachment count it). */
	} else if ((plain || html) && !attach && filename == NULL) {
		if (text_on)
			walk_text(w, part, html);
	} else if (attach || filename ||
		   (g_ascii_strncasecmp(type, "text/", 5) != 0 &&
		    g_ascii_strncasecmp(type, "message/", 8) != 0)) {
		struct count c = {0};

		stream_decoded(part, count_fn, &c);
		add_attachment(w, filename, type, c.size);
		attachment_content(w, obj, &w->m->attachments[w->m->nattachments - 1], &c, text_on);
	}
	g_free(type);
}

static void walk_object(struct walk *w, GMimeObject *obj, int depth, int text_on);
static void addrs_text(InternetAddressList *l, struct sink *s);

/* walk_alternative - the preferred text of a multipart/alternative: its first text/plain,
 * or, when that holds no text, the first other child that does. Every child is walked once
 * (attachments of the others are still listed). */
static void
walk_alternative(struct walk *w, GMimeMultipart *mp, int depth, int text_on)
{
	int n = g_mime_multipart_get_count(mp), chosen = -1;
	size_t ink = w->sink.ink;

	for (int i = 0; i < n && chosen < 0; i++) {
		GMimeObject *c = g_mime_multipart_get_part(mp, i); /* owned by mp */
		GMimeContentType *ct = c ? g_mime_object_get_content_type(c) : NULL;

		if (GMIME_IS_PART(c) && ct && g_mime_content_type_is_type(ct, "text", "plain"))
			chosen = i;
	}
	if (chosen >= 0) {
		size_t len = walk_child(w, chosen);

		walk_object(w, g_mime_multipart_get_part(mp, chosen), depth + 1, text_on);
		walk_parent(w, len);
	}
	for (int i = 0; i < n; i++) {
		if (i == chosen)
			continue;
		size_t len = walk_child(w, i);

		walk_object(w, g_mime_multipart_get_part(mp, i), depth + 1,
			    text_on && w->sink.ink == ink);
		walk_parent(w, len);
	}
}

/* walk_encrypted - a multipart/encrypted (RFC 1847: PGP/MIME, RFC 3156): one exception for
 * the whole, then its parts are walked (the ciphertext is still listed as an attachment) with
 * no exception of their own. */
static void
walk_encrypted(struct walk *w, GMimeObject *obj)
{
	const char *proto = g_mime_object_get_content_type_parameter(obj, "protocol");

	/* A multipart has no part number of its own at the top: "" (the message) there. */
	index_exc_add(&w->m->exc, INDEX_EXC_ENCRYPTED, w->path, NULL, "multipart/encrypted",
		      "encrypted (%.60s)", proto ? proto : "no protocol");
	w->encrypted++;
}

/* walk_object - one MIME object at depth (0: the message's top part). */
static void
walk_object(struct walk *w, GMimeObject *obj, int depth, int text_on)
{
	if (obj == NULL)
		return;
	if (depth > MIME_DEPTH_MAX) {
		walk_error(w, "MIME nesting deeper than MIME_DEPTH_MAX");
		return;
	}
	if (++w->parts > MIME_PARTS_MAX) {
		walk_error(w, "more MIME parts than MIME_PARTS_MAX");
		return;
	}
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		GMimeContentType *ct = g_mime_object_get_content_type(obj);

		if (ct && g_mime_content_type_is_type(ct, "multipart", "alternative")) {
			walk_alternative(w, mp, depth, text_on);
			return;
		}
		int n = g_mime_multipart_get_count(mp), enc = ct && g_mime_content_type_is_type(
								 ct, "multipart", "encrypted");

		if (enc)
			walk_encrypted(w, obj);
		for (int i = 0; i < n && w->parts <= MIME_PARTS_MAX; i++) {
			size_t len = walk_child(w, i);

			walk_object(w, g_mime_multipart_get_part(mp, i), depth + 1, text_on);
			walk_parent(w, len);
		}
		w->encrypted -= enc;
	} else if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
		const char *filename = g_mime_object_get_content_disposition_parameter(obj,
										       "filename");

		if (filename == NULL)
			filename = g_mime_object_get_content_type_parameter(obj, "name");
		char *type = mime_type_of(obj);
		GMimeStream *null;

		if (inner == NULL) {
			g_free(type);
			return;
		}
		/* Listed as an attachment (a forwarded message is one to its reader); its size is
		 * that of the message as GMime writes it back, which keeps the original bytes. */
		null = g_mime_stream_null_new();
		g_mime_object_write_to_stream(GMIME_OBJECT(inner), NULL, null);
		add_attachment(w, filename, type, GMIME_STREAM_NULL(null)->written);
		g_object_unref(null);
		g_free(type);
		if (text_on) {
			const char *subj = g_mime_message_get_subject(inner);

			sink_sep(&w->sink);
			sink_put(&w->sink, (const uint8_t *)"From: ", 6);
			addrs_text(g_mime_message_get_from(inner), &w->sink);
			if (subj) {
				char *c = clean_cstr(subj, MIME_FIELD_MAX);

				sink_put(&w->sink, (const uint8_t *)"\nSubject: ", 10);
				if (c)
					sink_put(&w->sink, (const uint8_t *)c, strlen(c));
				free(c);
			}
		}
		walk_object(w, g_mime_message_get_mime_part(inner), depth + 1, text_on);
	} else if (GMIME_IS_PART(obj)) {
		walk_leaf(w, GMIME_PART(obj), text_on);
	}
}

/* ---- headers ---- */

static void
addrs_collect(struct mime_addrs *a, InternetAddressList *l, int depth)
{
	int n = l ? internet_address_list_length(l) : 0;

	for (int i = 0; i < n && a->n < MIME_ADDRS_MAX; i++) {
		InternetAddress *ia = internet_address_list_get_address(l, i); /* owned by l */

		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			if (depth < MIME_GROUP_DEPTH)
				addrs_collect(a,
					      internet_address_group_get_members(
						      INTERNET_ADDRESS_GROUP(ia)),
					      depth + 1);
			continue;
		}
		const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
		char *c = clean_cstr(addr, MIME_FIELD_MAX);

		if (c == NULL)
			continue;
		gchar *low = g_utf8_strdown(c, -1);
		free(c);
		if (a->n % 16 == 0)
			a->addrs = xrealloc(a->addrs, (a->n + 16) * sizeof(*a->addrs));
		a->addrs[a->n++] = xstrdup(low);
		g_free(low);
	}
}

/* addrs_text - "Name <a@b>, ..." of l into s (bounded by MIME_FIELD_MAX). */
static void
addrs_text(InternetAddressList *l, struct sink *s)
{
	char *t, *c;

	if (l == NULL || internet_address_list_length(l) == 0)
		return;
	t = internet_address_list_to_string(l, NULL, FALSE);
	c = clean_cstr(t, MIME_FIELD_MAX);
	if (c)
		sink_put(s, (const uint8_t *)c, strlen(c));
	free(c);
	g_free(t);
}

static void
header_addrs(struct mime_addrs *a, GMimeMessage *msg, GMimeAddressType type, const char *name)
{
	InternetAddressList *l = g_mime_message_get_addresses(msg, type); /* owned by msg */
	const char *raw = g_mime_object_get_header(GMIME_OBJECT(msg), name);

	if (l && internet_address_list_length(l) > 0) {
		char *t = internet_address_list_to_string(l, NULL, FALSE);

		a->text = clean_cstr(t, MIME_FIELD_MAX);
		g_free(t);
		addrs_collect(a, l, 0);
	}
	if (a->text == NULL) /* present but nothing GMime could read as an address */
		a->text = clean_cstr(raw, MIME_FIELD_MAX);
}

/* header_ids - the message ids of an In-Reply-To or References header, "<a> <b>". */
static char *
header_ids(GMimeMessage *msg, GMimeParserOptions *opts, const char *name)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(msg));
	GMimeHeader *h = hl ? g_mime_header_list_get_header(hl, name) : NULL;
	const char *raw = h ? g_mime_header_get_raw_value(h) : NULL;
	GMimeReferences *refs;
	struct buf b = {0};
	char *out;

	if (raw == NULL)
		return NULL;
	refs = g_mime_references_parse(opts, raw);
	for (int i = 0; refs && i < g_mime_references_length(refs); i++) {
		const char *id = g_mime_references_get_message_id(refs, i);

		if (b.len + strlen(id) + 3 > MIME_FIELD_MAX)
			break;
		buf_appendf(&b, "%s<%s>", b.len ? " " : "", id);
	}
	if (refs)
		g_mime_references_free(refs);
	out = b.len ? clean_str((const char *)b.data, b.len, MIME_FIELD_MAX)
		    : clean_cstr(raw, MIME_FIELD_MAX);
	buf_free(&b);
	return out;
}

/* is_journal_report - whether msg's header marks a journal report, as journal_report.c's
 * detection does (that module sits above the archiver and cannot be called from here). */
static int
is_journal_report(GMimeMessage *msg)
{
	static const char *const markers[] = {"X-MS-Journal-Report",
					       "X-MS-Exchange-Organization-Journal-Report",
					       "X-WM-Journal-Report"};
	static const char *const ex2003[] = {"Content-Identifier", "Content-Identifer"};
	GMimeObject *o = GMIME_OBJECT(msg);

	for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]); i++)
		if (g_mime_object_get_header(o, markers[i]) != NULL)
			return 1;
	for (size_t i = 0; i < sizeof(ex2003) / sizeof(ex2003[0]); i++) {
		const char *v = g_mime_object_get_header(o, ex2003[i]); /* owned by msg */

		if (v && g_ascii_strncasecmp(v + strspn(v, " \t"), "exjournalreport", 15) == 0)
			return 1;
	}
	return 0;
}

static void
read_headers(struct mime_meta *m, GMimeMessage *msg, GMimeParserOptions *opts)
{
	GDateTime *dt = g_mime_message_get_date(msg); /* owned by msg */

	header_addrs(&m->from, msg, GMIME_ADDRESS_TYPE_FROM, "From");
	header_addrs(&m->sender, msg, GMIME_ADDRESS_TYPE_SENDER, "Sender");
	header_addrs(&m->reply_to, msg, GMIME_ADDRESS_TYPE_REPLY_TO, "Reply-To");
	header_addrs(&m->to, msg, GMIME_ADDRESS_TYPE_TO, "To");
	header_addrs(&m->cc, msg, GMIME_ADDRESS_TYPE_CC, "Cc");
	header_addrs(&m->bcc, msg, GMIME_ADDRESS_TYPE_BCC, "Bcc");
	m->journal_report = is_journal_report(msg);
	m->subject = clean_cstr(g_mime_message_get_subject(msg), MIME_FIELD_MAX);
	m->message_id = clean_cstr(g_mime_message_get_message_id(msg), MIME_FIELD_MAX);
	m->in_reply_to = header_ids(msg, opts, "In-Reply-To");
	m->references = header_ids(msg, opts, "References");
	if (dt)
		m->date_us = g_date_time_to_unix(dt) * 1000000 + g_date_time_get_microsecond(dt);
}

/* ---- the entry points ---- */

enum vl_err
mime_extract(struct mime_meta *m, const uint8_t *raw, size_t len, unsigned flags, char *err)
{
	struct walk w = {.m = m, .flags = flags};
	GMimeStream *stream = NULL;
	GMimeParser *parser = NULL;
	GMimeMessage *msg = NULL;
	enum vl_err rc = VL_OK;
	static const char *fallback[] = {"UTF-8", "windows-1252", NULL};

	memset(m, 0, sizeof(*m));
	w.sink.b = &w.body;
	w.sink.cap = MIME_BODY_MAX;
	if (len > UINT32_MAX) {
		rc = vl_err_set(err, VL_ERR_LIMIT, "message of %zu bytes: more than 4 GiB", len);
		goto out;
	}
	if (len == 0) {
		walk_error(&w, "empty message");
		goto out;
	}
	w.opts = g_mime_parser_options_new();
	g_mime_parser_options_set_address_compliance_mode(w.opts, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_parameter_compliance_mode(w.opts, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_rfc2047_compliance_mode(w.opts, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_allow_addresses_without_domain(w.opts, TRUE);
	g_mime_parser_options_set_fallback_charsets(w.opts, fallback);
	g_mime_parser_options_set_warning_callback(w.opts, on_parser_warning, &w);
	/* GMime keeps its own copy of the bytes; parts are windows onto it (persist_stream). */
	stream = g_mime_stream_mem_new_with_buffer((const char *)raw, len);
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	msg = g_mime_parser_construct_message(parser, w.opts);
	if (msg == NULL) {
		walk_error(&w, "GMime found no message");
		goto out;
	}
	read_headers(m, msg, w.opts);
	walk_object(&w, g_mime_message_get_mime_part(msg), 0, 1);
	if (m->from.text == NULL && m->message_id == NULL && m->date_us == 0)
		walk_error(&w, "no From, Message-ID or Date header");
	if (w.again[0] != '\0')
		rc = vl_err_set(err, VL_ERR_BUSY, "%s: read it again later", w.again);
out:
	m->body_truncated = w.sink.full;
	if (m->body_truncated)
		index_exc_add(&m->exc, INDEX_EXC_TRUNCATED, "", NULL, NULL,
			      "text longer than MIME_BODY_MAX (%u bytes): the rest is not read",
			      MIME_BODY_MAX);
	if (m->parse_error)
		index_exc_add(&m->exc, INDEX_EXC_UNPARSED, "", NULL, NULL, "%s", m->parse_why);
	while (w.body.len > 0 && (w.body.data[w.body.len - 1] == '\n' ||
				  w.body.data[w.body.len - 1] == ' '))
		w.body.data[--w.body.len] = 0;
	m->body_len = w.body.len;
	if (w.body.data == NULL) {
		buf_reserve(&w.body, 0);
		w.body.data[0] = 0;
	}
	m->body = (char *)w.body.data; /* moved: m owns it now */
	if (msg)
		g_object_unref(msg);
	if (parser)
		g_object_unref(parser);
	if (stream)
		g_object_unref(stream);
	if (w.opts)
		g_mime_parser_options_free(w.opts);
	return rc;
}

static void
mime_addrs_free(struct mime_addrs *a)
{
	free(a->text);
	for (size_t i = 0; i < a->n; i++)
		free(a->addrs[i]);
	free(a->addrs);
}

void
mime_meta_free(struct mime_meta *m)
{
	mime_addrs_free(&m->from);
	mime_addrs_free(&m->sender);
	mime_addrs_free(&m->reply_to);
	mime_addrs_free(&m->to);
	mime_addrs_free(&m->cc);
	mime_addrs_free(&m->bcc);
	free(m->subject);
	free(m->message_id);
	free(m->in_reply_to);
	free(m->references);
	for (size_t i = 0; i < m->nattachments; i++) {
		free(m->attachments[i].filename);
		free(m->attachments[i].content_type);
	}
	free(m->attachments);
	free(m->body);
	index_exc_list_free(&m->exc);
	memset(m, 0, sizeof(*m));
}
