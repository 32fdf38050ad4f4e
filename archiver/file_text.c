/* file_text - the text of one attached file, from its decoded bytes; see file_text.h. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "file_label.h"
#include "file_text.h"
#include "html_text.h"
#include "legacy_text.h"
#include "office_text.h"
#include "pdf_text.h"
#include "rtf_text.h"
#include "text_conv.h"
#include "text_sink.h"
#include "tnef.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define FILE_TYPE_MAX 128		/* bytes of a TNEF attachment's MIME tag looked at */
#define FILE_HTML_STAGE_MAX (16u << 20) /* bytes of an HTML file converted to UTF-8 before its
					 * tags go: as mime_extract's MIME_HTML_MAX */
#define FILE_SNIFF_MAX 1024		/* bytes looked at for an ISO-2022-JP escape */
#define FILE_PLACE_MAX 32		/* bytes of a file's place in a TNEF stream ("2.1"), NUL
					 * included: FILE_TNEF_DEPTH numbers of at most
					 * TNEF_ATTACH_MAX */

/* ---- which reader ---- */

/* Types that say nothing of the content (mailers' "some file"): the file name tells then. */
static const char *const generic_types[] = {
	"application/octet-stream", "application/binary", "binary/octet-stream",
	"application/unknown", "application/x-unknown", "application/download",
	"application/x-download", "application/force-download",
};

/* ZIP types: an Office file is a ZIP, and is sent as one; its name tells which kind. */
static const char *const zip_types[] = {"application/zip", "application/x-zip-compressed"};

/* kind_of_name - the reader a file name alone names, or FILE_NONE. */
static enum file_kind
kind_of_name(const char *name)
{
	static const char *const plain_ext[] = {".txt", ".csv", ".tsv", ".md", ".log"};
	static const char *const html_ext[] = {".htm", ".html"};

	if (office_kind_of(NULL, name) != OFFICE_NONE)
		return FILE_OFFICE;
	if (pdf_is(NULL, name))
		return FILE_PDF;
	if (legacy_kind_of(NULL, name) != LEGACY_NONE)
		return FILE_LEGACY;
	if (rtf_is(NULL, name))
		return FILE_RTF;
	if (tnef_is(NULL, name))
		return FILE_TNEF;
	if (file_label_ext_in(name, plain_ext, NELEM(plain_ext)))
		return FILE_PLAIN;
	if (file_label_ext_in(name, html_ext, NELEM(html_ext)))
		return FILE_HTML;
	return FILE_NONE;
}

/* kind_named - whether name has an extension, which then says what the file is (.jpg, .zip:
 * no text), so its bytes are not sniffed. */
static int
kind_named(const char *name)
{
	const char *dot = name ? strrchr(name, '.') : NULL;

	return dot != NULL && dot != name && dot[1] != '\0';
}

/* kind_of_text - the reader of a text type: HTML as HTML, any other text/... but rich and
 * enriched text as plain text; FILE_NONE for every other type. */
static enum file_kind
kind_of_text(const char *t)
{
	if (strcmp(t, "text/html") == 0 || strcmp(t, "application/xhtml+xml") == 0)
		return FILE_HTML;
	if (strncmp(t, "text/", 5) != 0 || strcmp(t, "text/enriched") == 0 ||
	    strcmp(t, "text/richtext") == 0)
		return FILE_NONE;
	return FILE_PLAIN;
}

int
file_kind_runs_process(enum file_kind k)
{
	return k == FILE_PDF || k == FILE_LEGACY;
}

enum file_kind
file_kind_of(const char *content_type, const char *filename, int untyped)
{
	const char *t = content_type ? content_type : "";
	enum file_kind k;

	if (pdf_is(t, NULL))
		return FILE_PDF;
	if (office_kind_of(t, NULL) != OFFICE_NONE)
		return FILE_OFFICE;
	if (legacy_kind_of(t, NULL) != LEGACY_NONE)
		return FILE_LEGACY;
	if (rtf_is(t, NULL))
		return FILE_RTF;
	if (tnef_is(t, NULL))
		return FILE_TNEF;
	if ((untyped || *t == '\0' || text_conv_label_in(t, generic_types, NELEM(generic_types))) &&
	    (k = kind_of_name(filename)) != FILE_NONE)
		return k;
	if (text_conv_label_in(t, zip_types, NELEM(zip_types)) &&
	    office_kind_of(NULL, filename) != OFFICE_NONE)
		return FILE_OFFICE;
	return kind_of_text(t);
}

/* ---- reading ---- */

/* One file_text call: where the text goes, what the TNEF streams inside it may still do, who
 * hears of the files inside them not read, and whether one could not be read just now. */
struct job {
	struct sink s;
	unsigned flags;
	int depth;		    /* TNEF streams entered */
	int readers;		    /* Office, PDF, legacy and RTF files inside them left to read */
	int cut;		    /* a reader had more text than its room */
	file_unread_fn unread;	    /* may be NULL */
	void *unread_arg;
	char place[FILE_PLACE_MAX]; /* the place of the file inside them being read ("2.1") */
	enum vl_err again;	    /* VL_ERR_IO or VL_ERR_NOMEM inside them: no use reading on */
	char again_why[VL_ERRLEN];
};

static enum vl_err read_file(struct job *j, const struct file_ref *f, char *why);

/* read_reader - an Office, PDF, legacy Office or RTF file through its module, at most the room
 * left. The modules keep the text read before a bound or a flaw (office_text, rtf_text): it is
 * kept. */
static enum vl_err
read_reader(struct job *j, const struct file_ref *f, char *why)
{
	size_t room = j->s.cap > j->s.b->len ? j->s.cap - j->s.b->len : 0;
	struct buf text = {0};
	int cut = 0;
	enum vl_err rc;

	if (f->kind == FILE_PDF)
		rc = pdf_text(f->p, f->len, &text, room, &cut, why);
	else if (f->kind == FILE_LEGACY)
		rc = legacy_text(legacy_kind_of(f->content_type, f->filename), f->p, f->len,
				 &text, room, &cut, why);
	else if (f->kind == FILE_RTF)
		rc = rtf_text(f->p, f->len, &text, room, &cut, why);
	else
		rc = office_text(office_kind_of(f->content_type, f->filename), f->p, f->len, &text,
				 room, &cut, why);
	if (rc == VL_OK || text.len > 0)
		sink_put(&j->s, text.data, text.len);
	j->cut |= cut;
	buf_free(&text);
	return rc;
}

/* read_plain - a text or HTML file of no known charset: UTF-8 where valid, else Windows-1252
 * (ISO-2022-JP when it has its escapes; an HTML file's <meta> charset when it names one). */
static void
read_plain(struct job *j, const struct file_ref *f)
{
	size_t sniff = f->len < FILE_SNIFF_MAX ? f->len : FILE_SNIFF_MAX;
	char charset[64] = "";
	struct text_conv c;
	struct buf u = {0};
	struct sink us = {.b = &u, .cap = FILE_HTML_STAGE_MAX};

	if (f->kind == FILE_HTML)
		html_text_charset(f->p, f->len, charset, sizeof(charset));
	text_conv_open(&c, charset, f->p, sniff);
	if (f->kind == FILE_PLAIN) {
		text_conv_feed(&c, &j->s, f->p, f->len, 1);
	} else {
		text_conv_feed(&c, &us, f->p, f->len, 1);
		html_text_write(&j->s, u.data, u.len);
	}
	text_conv_close(&c);
	buf_free(&u);
}

/* The state of one TNEF stream being read: its first body taken, the others not; the files
 * met; the verdict on its RTF body. */
struct tnef_walk {
	struct job *j;
	int body;
	unsigned files;
	enum vl_err body_rc;
	char body_why[VL_ERRLEN];
};

/* inner_again - whether rc, a reader's verdict on something inside a TNEF stream, is
 * VL_ERR_IO or VL_ERR_NOMEM: then the first such is kept and the walk stops. It is no verdict
 * and wins over every verdict: the file is read again later, when they are made anew. */
static int
inner_again(struct job *j, enum vl_err rc, const char *why)
{
	if (rc != VL_ERR_IO && rc != VL_ERR_NOMEM)
		return 0;
	if (j->again == VL_OK) {
		j->again = rc;
		/* Logged, not recorded: no file name in logs. */
		snprintf(j->again_why, sizeof(j->again_why), "inside it: %.300s", why);
	}
	return 1;
}

/* inner_unread - tell the caller (j->unread) of file t inside a TNEF stream (of type type, ""
 * for none), not read for the verdict rc (VL_OK: it has no reader), its reader saying why;
 * VL_ERR_IO and VL_ERR_NOMEM are not told (inner_again). */
static void
inner_unread(struct job *j, const struct tnef_part *t, const char *type, enum vl_err rc,
	     const char *why)
{
	struct file_unread u = {.place = j->place, .filename = t->filename,
				.content_type = type[0] ? type : NULL, .rc = rc, .why = why};

	if (!inner_again(j, rc, why) && j->unread)
		j->unread(j->unread_arg, &u);
}

/* place_enter - make the place of the file being read the n-th of the stream it is in;
 * returns the length of the place to restore when it is read. */
static size_t
place_enter(struct job *j, unsigned n)
{
	size_t len = strlen(j->place);

	snprintf(j->place + len, sizeof(j->place) - len, "%s%u", len ? "." : "", n);
	return len;
}

/* type_of - a TNEF attachment's MIME tag as file_kind_of reads types: lower-case, without
 * parameters; "" for none. */
static void
type_of(const char *tag, char *out, size_t cap)
{
	size_t n = 0;

	for (; tag && tag[n] && tag[n] != ';' && !isspace((unsigned char)tag[n]) && n + 1 < cap;
	     n++)
		out[n] = (char)tolower((unsigned char)tag[n]);
	out[n] = '\0';
}

/* looks_text - whether the first FILE_SNIFF_MAX bytes of a file that has neither a telling
 * type nor an extension (Outlook keeps "README" as it was named) read as text: no NUL, and no
 * control character but tab, line ends and form feed, ESC (ISO-2022-JP). Invalid UTF-8 is
 * let through: it is read as Windows-1252. */
static int
looks_text(const uint8_t *p, size_t len)
{
	size_t n = len < FILE_SNIFF_MAX ? len : FILE_SNIFF_MAX;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r' && p[i] != '\f' &&
		    p[i] != 0x1b)
			return 0;
	return 1;
}

/* tnef_file_kind - the reader of file t inside a TNEF stream, of type type ("" for none). */
static enum file_kind
tnef_file_kind(const struct tnef_part *t, const char *type)
{
	enum file_kind k;

	if (t->flags & TNEF_PART_OLE)
		return FILE_NONE; /* an OLE compound file: no reader */
	if (t->flags & TNEF_PART_EMBEDDED)
		return FILE_TNEF;
	k = file_kind_of(type, t->filename, type[0] == '\0');
	if (k == FILE_NONE && !kind_named(t->filename) &&
	    (type[0] == '\0' || text_conv_label_in(type, generic_types, NELEM(generic_types))) &&
	    looks_text(t->data, t->len))
		k = FILE_PLAIN;
	return k;
}

/* tnef_file - a file inside a TNEF stream: its name, then its text when it has a reader;
 * the caller hears of it when it is not read (inner_unread). */
static void
tnef_file(struct tnef_walk *w, const struct tnef_part *t)
{
	struct job *j = w->j;
	char type[FILE_TYPE_MAX], why[VL_ERRLEN] = "";
	struct file_ref f = {.filename = t->filename, .p = t->data, .len = t->len};
	size_t outer = place_enter(j, ++w->files);
	enum vl_err rc;

	if (t->filename) {
		sink_sep(&j->s);
		sink_put(&j->s, (const uint8_t *)t->filename, strlen(t->filename));
	}
	type_of(t->content_type, type, sizeof(type));
	f.content_type = type;
	f.kind = tnef_file_kind(t, type);
	if (f.kind == FILE_NONE) {
		inner_unread(j, t, type, VL_OK, "");
	} else if (file_kind_runs_process(f.kind) && (j->flags & FILE_NO_PROCESS)) {
		/* not for this caller: no verdict either */
	} else if ((f.kind == FILE_OFFICE || f.kind == FILE_PDF || f.kind == FILE_LEGACY ||
		    f.kind == FILE_RTF) &&
		   j->readers-- <= 0) {
		inner_unread(j, t, type, VL_ERR_LIMIT,
			     "more files to read than the readers a message may run: not read");
	} else {
		sink_sep(&j->s);
		if ((rc = read_file(j, &f, why)) != VL_OK)
			inner_unread(j, t, type, rc, why);
	}
	j->place[outer] = '\0';
}

/* tnef_body - a TNEF stream's first body: plain text as it is (UTF-8 already), else HTML
 * without its tags, else RTF's text. Outlook writes the same body in two or three forms. */
static void
tnef_body(struct tnef_walk *w, const struct tnef_part *t)
{
	struct file_ref f = {.kind = FILE_RTF, .p = t->data, .len = t->len};
	enum vl_err rc;

	if (w->body)
		return;
	w->body = 1;
	sink_sep(&w->j->s);
	if (t->kind == TNEF_BODY_TEXT)
		sink_put(&w->j->s, t->data, t->len);
	else if (t->kind == TNEF_BODY_HTML)
		html_text_write(&w->j->s, t->data, t->len);
	else if ((rc = read_reader(w->j, &f, w->body_why)) != VL_OK &&
		 !inner_again(w->j, rc, w->body_why))
		w->body_rc = rc; /* the stream's own verdict (read_tnef) */
}

static int
on_tnef_part(void *arg, const struct tnef_part *t)
{
	struct tnef_walk *w = arg;

	if (t->kind == TNEF_SUBJECT) {
		sink_sep(&w->j->s);
		sink_put(&w->j->s, t->data, t->len);
	} else if (t->kind == TNEF_ATTACHMENT) {
		tnef_file(w, t);
	} else {
		tnef_body(w, t);
	}
	return w->j->again != VL_OK || w->j->s.full;
}

/* read_tnef - a TNEF stream: its parts into the text, to FILE_TNEF_DEPTH streams deep. Its
 * verdict: the walk's (damage), else its RTF body's. */
static enum vl_err
read_tnef(struct job *j, const struct file_ref *f, char *why)
{
	struct tnef_walk w = {.j = j};
	enum vl_err rc;

	if (j->depth >= FILE_TNEF_DEPTH)
		return vl_err_set(why, VL_ERR_LIMIT, "a message embedded past FILE_TNEF_DEPTH (%d)",
				  FILE_TNEF_DEPTH);
	j->depth++;
	rc = tnef_parts(f->p, f->len, on_tnef_part, &w, why);
	j->depth--;
	if (rc == VL_OK && w.body_rc != VL_OK)
		rc = vl_err_set(why, w.body_rc, "its RTF body: %s", w.body_why);
	return rc;
}

static enum vl_err
read_file(struct job *j, const struct file_ref *f, char *why)
{
	switch (f->kind) {
	case FILE_PLAIN:
	case FILE_HTML:
		read_plain(j, f);
		return VL_OK;
	case FILE_TNEF:
		return read_tnef(j, f, why);
	case FILE_OFFICE:
	case FILE_PDF:
	case FILE_LEGACY:
	case FILE_RTF:
		return read_reader(j, f, why);
	case FILE_NONE:
		break;
	}
	return VL_OK;
}

enum vl_err
file_text(const struct file_ref *f, unsigned flags, int *readers, file_unread_fn unread,
	  void *arg, struct buf *out, size_t max, int *truncated, char *err)
{
	struct job j = {.s = {.b = out, .cap = out->len + max}, .flags = flags,
			.readers = readers ? *readers : FILE_TNEF_READERS_MAX, .unread = unread,
			.unread_arg = arg};
	char why[VL_ERRLEN] = "";
	enum vl_err rc = VL_OK;

	*truncated = 0;
	if (!(file_kind_runs_process(f->kind) && (flags & FILE_NO_PROCESS)))
		rc = read_file(&j, f, why);
	*truncated = j.cut || j.s.full;
	if (readers)
		*readers = j.readers > 0 ? j.readers : 0;
	if (j.again != VL_OK) /* no process, pipe or memory just now: before any verdict */
		return vl_err_set(err, j.again, "%s", j.again_why);
	if (rc != VL_OK)
		return vl_err_set(err, rc, "%s", why);
	return VL_OK;
}
