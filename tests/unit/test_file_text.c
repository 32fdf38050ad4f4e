/* test_file_text - archiver/file_text.{c,h}: which reader a file's labels name, and the text
 * of TNEF streams (the corpus's mimekit-testdata/tnef samples, and streams built here) with
 * the files inside them, read directly and through mime_extract, and the files inside them
 * that are not read, each told apart and made an index exception of its own. */
#include <glib.h>
#include <gmime/gmime.h>
#include <string.h>

#include "file_text.h"
#include "mime_extract.h"
#include "unit.h"

#define TDIR "../shared/corpus/mimekit-testdata/tnef/"

static const struct {
	const char *type, *name;
	int untyped;
	enum file_kind want;
} kind_rows[] = {
	{"application/pdf", "x.docx", 0, FILE_PDF},
	{"application/octet-stream", "x.rtf", 0, FILE_RTF},
	{"application/octet-stream", "WINMAIL.DAT", 0, FILE_TNEF},
	{"application/ms-tnef", "x.bin", 0, FILE_TNEF},
	{"application/vnd.ms-tnef", NULL, 0, FILE_TNEF},
	{"text/rtf", NULL, 0, FILE_RTF},
	{"application/rtf", "a.txt", 0, FILE_RTF},
	{"image/png", "x.pdf", 0, FILE_NONE},
	{"text/plain", "a.txt", 1, FILE_PLAIN},
	{"text/plain", "report.pdf", 1, FILE_PDF},
	{"", "notes.md", 0, FILE_PLAIN},
	{NULL, "page.HTML", 0, FILE_HTML},
	{"application/zip", "budget.xlsx", 0, FILE_OFFICE},
	{"application/zip", "a.txt", 0, FILE_NONE},
	{"text/enriched", NULL, 0, FILE_NONE},
	{"text/richtext", "a.rtf", 0, FILE_NONE},
	{"text/html", "a.pdf", 0, FILE_HTML},
};

static void
test_kinds(void)
{
	char what[128];

	for (size_t i = 0; i < G_N_ELEMENTS(kind_rows); i++) {
		snprintf(what, sizeof(what), "%s / %s", kind_rows[i].type ? kind_rows[i].type : "-",
			 kind_rows[i].name ? kind_rows[i].name : "-");
		CHECK(file_kind_of(kind_rows[i].type, kind_rows[i].name, kind_rows[i].untyped) ==
			      kind_rows[i].want,
		      what);
	}
}

/* The files inside a TNEF stream that file_text says were not read: a line each,
 * "place|name|type|rc|why". */
static void
log_unread(void *arg, const struct file_unread *u)
{
	struct buf *log = arg;
	char line[VL_ERRLEN + 256];

	snprintf(line, sizeof(line), "%s|%s|%s|%d|%s\n", u->place, u->filename ? u->filename : "-",
		 u->content_type ? u->content_type : "-", (int)u->rc, u->why);
	buf_append_str(log, line);
}

/* unread_lines - how many lines log_unread wrote to log. */
static int
unread_lines(const struct buf *log)
{
	int n = 0;

	for (size_t i = 0; i < log->len; i++)
		n += log->data[i] == '\n';
	return n;
}

/* tnef_text - the text file_text gives the corpus file name (kind TNEF), at most max bytes;
 * the files not read into unread (reset first). */
static enum vl_err
tnef_text(const char *name, size_t max, struct buf *out, struct buf *unread, int *cut,
	  char *err)
{
	gchar *data = NULL;
	gsize len = 0;
	struct file_ref f = {.kind = FILE_TNEF, .filename = "winmail.dat"};
	enum vl_err rc;

	buf_reset(out);
	buf_reset(unread);
	if (!g_file_get_contents(name, &data, &len, NULL))
		return VL_ERR_NOTFOUND;
	f.p = (const uint8_t *)data;
	f.len = len;
	rc = file_text(&f, 0, NULL, log_unread, unread, out, max, cut, err);
	buf_append(out, "", 0);
	buf_append(unread, "", 0);
	g_free(data);
	return rc;
}

/* The names of the files inside, their text (an HTML file's without its tags, an RTF file's
 * without its control words), and the stream's body; the image inside, which has no reader,
 * told as not read, and nothing else. */
static void
test_tnef_files(void)
{
	struct buf out = {0}, unread = {0};
	char err[VL_ERRLEN] = "";
	const char *t;
	int cut = 1;

	CHECK(tnef_text(TDIR "two-files.tnef", 1u << 20, &out, &unread, &cut, err) == VL_OK, err);
	t = (const char *)out.data;
	CHECK(t && strstr(t, "AUTHORS") && strstr(t, "README") && !cut, "two-files: names");
	CHECK(t && strstr(t, "proliferation of Microsoft Outlook"), "two-files: README's text");
	CHECK(unread.len == 0, "two-files: both read");

	CHECK(tnef_text(TDIR "attachments.tnef", 1u << 20, &out, &unread, &cut, err) == VL_OK,
	      err);
	t = (const char *)out.data;
	CHECK(t && strstr(t, "bookmark.htm") && strstr(t, "zappa_av1.jpg"), "attachments: names");
	CHECK(t && strstr(t, "Adobe GoLive") && !strstr(t, "<DT>") && !strstr(t, "HREF"),
	      "attachments: the HTML file's text, no tags");
	CHECK(t && strstr(t, "Casdasdfasdfasd") && !strstr(t, "fonttbl"),
	      "attachments: the RTF body's text, no control words");
	CHECK(unread_lines(&unread) == 1 && strstr((char *)unread.data, "|zappa_av1.jpg|") &&
		      strstr((char *)unread.data, "|0|\n"),
	      (char *)unread.data);
	buf_free(&out);
	buf_free(&unread);
}

/* The readers a message may still run hold inside a TNEF stream (this one holds a .doc and a
 * .pdf, and the same text as HTML): none left, both are told as not read (VL_ERR_LIMIT), the
 * stream itself is read; one left, the .doc is read and the .pdf told; three, both are read
 * and one is left. */
static void
test_tnef_readers(void)
{
	gchar *data = NULL;
	gsize len = 0;
	struct buf out = {0}, unread = {0};
	char err[VL_ERRLEN] = "", limit[16];
	struct file_ref f = {.kind = FILE_TNEF};
	int cut = 0, left = 0;

	snprintf(limit, sizeof(limit), "|%d|", (int)VL_ERR_LIMIT);
	CHECK(g_file_get_contents(TDIR "MAPI_ATTACH_DATA_OBJ.tnef", &data, &len, NULL), "read");
	f.p = (const uint8_t *)data;
	f.len = len;
	CHECK(file_text(&f, 0, &left, log_unread, &unread, &out, 1u << 20, &cut, err) == VL_OK &&
		      left == 0,
	      err);
	buf_append(&unread, "", 0);
	CHECK(unread_lines(&unread) == 2 && strstr((char *)unread.data, "|VIA_Nytt_1402.doc|") &&
		      strstr((char *)unread.data, "|VIA_Nytt_1402.pdf|") &&
		      strstr((char *)unread.data, limit),
	      "no reader left: the .doc and the .pdf told, VL_ERR_LIMIT");
	buf_reset(&out);
	buf_reset(&unread);
	left = 1;
	CHECK(file_text(&f, 0, &left, log_unread, &unread, &out, 1u << 20, &cut, err) == VL_OK &&
		      left == 0,
	      err);
	buf_append(&unread, "", 0);
	CHECK(unread_lines(&unread) == 1 && strstr((char *)unread.data, "|VIA_Nytt_1402.pdf|"),
	      "one reader left: the .doc read, the .pdf told");
	buf_reset(&out);
	buf_reset(&unread);
	left = 3;
	CHECK(file_text(&f, 0, &left, log_unread, &unread, &out, 1u << 20, &cut, err) == VL_OK &&
		      left == 1 && unread.len == 0,
	      err);
	buf_free(&out);
	buf_free(&unread);
	g_free(data);
}

#define ATT_ATTACHMENT 0x00069005u
#define ATT_REND_DATA 0x00069002u

/* An OLE2 compound file naming the streams of a password-protected Office Open XML package
 * (office_text calls it encrypted); the start of a ZIP, and nothing of one after it. */
static const char ole2_locked[] = "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
				  "E\0n\0c\0r\0y\0p\0t\0i\0o\0n\0I\0n\0f\0o\0"
				  "E\0n\0c\0r\0y\0p\0t\0e\0d\0P\0a\0c\0k\0a\0g\0e\0";
static const char zip_broken[] = "PK\3\4 no zip after all, only these bytes";

/* built_tnef - a TNEF stream holding, in order: a JPEG, a locked DOCX, a broken DOCX, a text
 * file, and a message embedded in it that holds a ZIP. */
static void
built_tnef(struct buf *s)
{
	struct buf in = {0}, obj = {0}, a = {0};

	unit_tnef_head(&in);
	unit_tnef_file(&in, "INNER.ZIP", "PK\5\6", 4);
	buf_append(&obj, "0123456789abcdef", 16); /* the interface id before it */
	buf_append(&obj, in.data, in.len);
	buf_append_u32le(&a, 2);
	buf_append_u32le(&a, 0x37050003u); /* PR_ATTACH_METHOD: 5, an embedded message */
	buf_append_u32le(&a, 5);
	unit_tnef_prop_var(&a, 0x3701000Du, obj.data, obj.len); /* PR_ATTACH_DATA_OBJ */

	buf_reset(s);
	unit_tnef_head(s);
	unit_tnef_file(s, "PHOTO.JPG", "\xff\xd8\xff\xe0", 4);
	unit_tnef_file(s, "LOCKED.DOCX", ole2_locked, sizeof(ole2_locked) - 1);
	unit_tnef_file(s, "BROKEN.DOCX", zip_broken, sizeof(zip_broken) - 1);
	unit_tnef_file(s, "NOTE.TXT", "kingfisher ledger", 17);
	unit_tnef_attr(s, 2, ATT_REND_DATA, "\0\0", 2);
	unit_tnef_attr(s, 2, ATT_ATTACHMENT, a.data, a.len);
	buf_free(&in);
	buf_free(&obj);
	buf_free(&a);
}

/* Each file of a built stream that is not read is told, with its place (inside the embedded
 * message too), its name and its reader's verdict; the text file is read, and the stream
 * itself has no verdict. */
static void
test_tnef_unread(void)
{
	struct buf s = {0}, out = {0}, unread = {0};
	struct file_ref f = {.kind = FILE_TNEF};
	char err[VL_ERRLEN] = "", want[64];
	static const struct {
		const char *place, *name;
		enum vl_err rc;
	} rows[] = {
		{"1", "PHOTO.JPG", VL_OK},
		{"2", "LOCKED.DOCX", VL_ERR_CRYPTO},
		{"3", "BROKEN.DOCX", VL_ERR_PARSE},
		{"5.1", "INNER.ZIP", VL_OK},
	};
	int cut = 0;

	built_tnef(&s);
	f.p = s.data;
	f.len = s.len;
	CHECK(file_text(&f, 0, NULL, log_unread, &unread, &out, 1u << 20, &cut, err) == VL_OK,
	      err);
	buf_append(&out, "", 0);
	buf_append(&unread, "", 0);
	CHECK(strstr((char *)out.data, "kingfisher ledger") && strstr((char *)out.data, "INNER.ZIP"),
	      "the text file read, the embedded message's file named");
	CHECK(unread_lines(&unread) == (int)G_N_ELEMENTS(rows), (char *)unread.data);
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		snprintf(want, sizeof(want), "%s%s|%s|-|%d|", i ? "\n" : "", rows[i].place,
			 rows[i].name, (int)rows[i].rc);
		CHECK(strstr((char *)unread.data, want) != NULL, want);
	}
	/* No one told: the same text, no verdict. */
	buf_reset(&out);
	CHECK(file_text(&f, 0, NULL, NULL, NULL, &out, 1u << 20, &cut, err) == VL_OK, err);
	buf_free(&s);
	buf_free(&out);
	buf_free(&unread);
}

/* A damaged stream: what was read before the damage is kept, and the verdict says so; max
 * cuts the text and says it did. */
static void
test_tnef_bounds(void)
{
	gchar *data = NULL;
	gsize len = 0;
	struct buf out = {0};
	char err[VL_ERRLEN] = "";
	struct file_ref f = {.kind = FILE_TNEF};
	int cut = 0;

	CHECK(g_file_get_contents(TDIR "two-files.tnef", &data, &len, NULL), "read two-files");
	f.p = (const uint8_t *)data;
	f.len = len - 40;
	CHECK(file_text(&f, 0, NULL, NULL, NULL, &out, 1u << 20, &cut, err) == VL_ERR_PARSE,
	      "damaged: PARSE");
	buf_append(&out, "", 0);
	CHECK(out.data && strstr((char *)out.data, "AUTHORS"), "damaged: the first file kept");
	buf_reset(&out);
	f.len = len;
	CHECK(file_text(&f, 0, NULL, NULL, NULL, &out, 10, &cut, err) == VL_OK && out.len <= 10 &&
		      cut,
	      "cut at max, and said");
	f.p = (const uint8_t *)"not tnef at all";
	f.len = strlen("not tnef at all");
	buf_reset(&out);
	CHECK(file_text(&f, 0, NULL, NULL, NULL, &out, 100, &cut, err) == VL_ERR_PARSE &&
		      out.len == 0,
	      "not TNEF");
	buf_free(&out);
	g_free(data);
}

/* extract_file - mime_extract of a corpus message, with or without attachments' text. */
static int
extract_file(const char *name, unsigned flags, const char *want)
{
	gchar *data = NULL;
	gsize len = 0;
	char err[VL_ERRLEN] = "";
	struct mime_meta m;
	int found = 0;

	if (!g_file_get_contents(name, &data, &len, NULL))
		return -1;
	if (mime_extract(&m, (const uint8_t *)data, len, flags, err) == VL_OK)
		found = m.body != NULL && strstr(m.body, want) != NULL;
	mime_meta_free(&m);
	g_free(data);
	return found;
}

/* Through mime_extract: a winmail.dat attachment's files and its Cyrillic HTML body are in
 * the message's text with MIME_ATTACH_TEXT, and not without. */
static void
test_tnef_in_mime(void)
{
	g_mime_init();
	CHECK(extract_file(TDIR "rich-text.eml", MIME_ATTACH_TEXT,
			   "kitten-playing-with-a-christmas-tree.jpg") == 1,
	      "rich-text.eml: the name of the file inside winmail.dat");
	CHECK(extract_file(TDIR "rich-text.eml", 0, "kitten-playing") == 0,
	      "rich-text.eml without MIME_ATTACH_TEXT");
	CHECK(extract_file(TDIR "ukr.eml", MIME_ATTACH_TEXT, "шостий") == 1,
	      "ukr.eml: winmail.dat's KOI8-R HTML body, in UTF-8");
	CHECK(extract_file(TDIR "ukr.eml", MIME_ATTACH_TEXT | MIME_ATTACH_IN_PROCESS, "шостий") == 1,
	      "ukr.eml: read in process too (snippets)");
}

/* exc_of - the exception of m named name, or NULL. */
static const struct index_exc *
exc_of(const struct mime_meta *m, const char *name)
{
	for (size_t i = 0; i < m->exc.n; i++)
		if (m->exc.v[i].filename && strcmp(m->exc.v[i].filename, name) == 0)
			return &m->exc.v[i];
	return NULL;
}

/* tnef_message_of - a message of a text part and the TNEF stream s as winmail.dat (part 2),
 * into b. */
static void
tnef_message_of(struct buf *b, const struct buf *s)
{
	gchar *b64 = g_base64_encode(s->data, s->len);

	buf_reset(b);
	buf_append_str(b, "From: a@example.com\r\nTo: b@example.com\r\nSubject: tnef\r\n"
			  "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n"
			  "\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\n"
			  "Content-Type: application/ms-tnef; name=\"winmail.dat\"\r\n"
			  "Content-Disposition: attachment; filename=\"winmail.dat\"\r\n"
			  "Content-Transfer-Encoding: base64\r\n\r\n");
	buf_append_str(b, b64);
	buf_append_str(b, "\r\n--b--\r\n");
	g_free(b64);
}

/* tnef_message - tnef_message_of the built stream. */
static void
tnef_message(struct buf *b)
{
	struct buf s = {0};

	built_tnef(&s);
	tnef_message_of(b, &s);
	buf_free(&s);
}

/* More files not read in one winmail.dat than MIME_TNEF_EXC_MAX: that many rows, then one on
 * the winmail.dat counting the rest, so that one attachment cannot fill INDEX_EXC_MAX. */
static void
test_tnef_exceptions_bound(void)
{
	struct buf s = {0}, raw = {0};
	char err[VL_ERRLEN] = "", name[32];
	const struct index_exc *e;
	struct mime_meta m;

	unit_tnef_head(&s);
	for (int i = 0; i < MIME_TNEF_EXC_MAX + 30; i++) {
		snprintf(name, sizeof(name), "IMG%02d.JPG", i);
		unit_tnef_file(&s, name, "\xff\xd8\xff\xe0", 4);
	}
	tnef_message_of(&raw, &s);
	g_mime_init();
	CHECK(mime_extract(&m, raw.data, raw.len, MIME_ATTACH_TEXT, err) == VL_OK, err);
	CHECK(m.exc.n == MIME_TNEF_EXC_MAX + 1 && !m.exc.more, "the bound's rows and one more");
	snprintf(name, sizeof(name), "IMG%02d.JPG", MIME_TNEF_EXC_MAX - 1);
	CHECK(exc_of(&m, name) != NULL, "the last file within the bound has its row");
	snprintf(name, sizeof(name), "IMG%02d.JPG", MIME_TNEF_EXC_MAX);
	CHECK(exc_of(&m, name) == NULL, "the first past it has none");
	e = exc_of(&m, "winmail.dat");
	CHECK(e && e->reason == INDEX_EXC_TRUNCATED && strcmp(e->part, "2") == 0 &&
		      strstr(e->detail, "30 more files not read") != NULL,
	      "one row on the winmail.dat counts the rest");
	mime_meta_free(&m);
	buf_free(&s);
	buf_free(&raw);
}

/* Through mime_extract, each file inside a winmail.dat that is not read is an exception of
 * its own: the winmail.dat's part, the file's name, its reader's verdict as a reason, a
 * detail that says where it is; the winmail.dat itself, read, has none. */
static void
test_tnef_exceptions(void)
{
	static const struct {
		const char *name;
		enum index_exc_reason reason;
		const char *detail;
	} rows[] = {
		{"PHOTO.JPG", INDEX_EXC_UNSUPPORTED_TYPE,
		 "inside the TNEF attachment, file 1: its text is not extracted"},
		{"LOCKED.DOCX", INDEX_EXC_ENCRYPTED,
		 "inside the TNEF attachment, file 2: password-protected: "},
		{"BROKEN.DOCX", INDEX_EXC_DECODE_ERROR,
		 "inside the TNEF attachment, file 3: cannot be read: "},
		{"INNER.ZIP", INDEX_EXC_UNSUPPORTED_TYPE,
		 "inside the TNEF attachment, file 5.1: its text is not extracted"},
	};
	const struct index_exc *e;
	struct buf raw = {0};
	char err[VL_ERRLEN] = "";
	gchar *data = NULL;
	gsize len = 0;
	struct mime_meta m;

	g_mime_init();
	tnef_message(&raw);
	CHECK(mime_extract(&m, raw.data, raw.len, MIME_ATTACH_TEXT, err) == VL_OK, err);
	CHECK(m.exc.n == G_N_ELEMENTS(rows) && exc_of(&m, "winmail.dat") == NULL,
	      "a row for each file not read, none for the winmail.dat");
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		e = exc_of(&m, rows[i].name);
		CHECK(e && e->reason == rows[i].reason && strcmp(e->part, "2") == 0 &&
			      strcmp(e->content_type, "application/octet-stream") == 0 &&
			      strncmp(e->detail, rows[i].detail, strlen(rows[i].detail)) == 0,
		      rows[i].name);
	}
	mime_meta_free(&m);

	CHECK(g_file_get_contents(TDIR "rich-text.eml", &data, &len, NULL), "rich-text.eml");
	CHECK(mime_extract(&m, (const uint8_t *)data, len, MIME_ATTACH_TEXT, err) == VL_OK, err);
	e = exc_of(&m, "kitten-playing-with-a-christmas-tree.jpg");
	CHECK(e && e->reason == INDEX_EXC_UNSUPPORTED_TYPE && strcmp(e->part, "2") == 0 &&
		      strncmp(e->detail, "inside the TNEF attachment, file ", 33) == 0,
	      "rich-text.eml: the image inside its winmail.dat");
	mime_meta_free(&m);
	g_free(data);
	buf_free(&raw);
}

UNIT_SUITE(file_text, {"which reader a file's labels name", test_kinds},
	   {"TNEF: the files inside, their text, the body", test_tnef_files},
	   {"TNEF: damage, max, not TNEF", test_tnef_bounds},
	   {"TNEF: the message's readers hold inside it", test_tnef_readers},
	   {"TNEF: the files inside not read, told one by one", test_tnef_unread},
	   {"TNEF: MIME_TNEF_EXC_MAX rows a winmail.dat, then one counting the rest",
	    test_tnef_exceptions_bound},
	   {"TNEF inside MIME", test_tnef_in_mime},
	   {"TNEF inside MIME: an exception for each file inside not read", test_tnef_exceptions});
