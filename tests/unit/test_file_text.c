/* test_file_text - archiver/file_text.{c,h}: which reader a file's labels name, and the text
 * of TNEF streams (the corpus's mimekit-testdata/tnef samples) with the files inside them, read
 * directly and through mime_extract. */
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

/* tnef_text - the text file_text gives the corpus file name (kind TNEF), at most max bytes. */
static enum vl_err
tnef_text(const char *name, size_t max, struct buf *out, int *cut, char *err)
{
	gchar *data = NULL;
	gsize len = 0;
	struct file_ref f = {.kind = FILE_TNEF, .filename = "winmail.dat"};
	enum vl_err rc;

	buf_reset(out);
	if (!g_file_get_contents(name, &data, &len, NULL))
		return VL_ERR_NOTFOUND;
	f.p = (const uint8_t *)data;
	f.len = len;
	rc = file_text(&f, 0, NULL, out, max, cut, err);
	buf_append(out, "", 0);
	g_free(data);
	return rc;
}

/* The names of the files inside, their text (an HTML file's without its tags, an RTF file's
 * without its control words), and the stream's body. */
static void
test_tnef_files(void)
{
	struct buf out = {0};
	char err[VL_ERRLEN] = "";
	const char *t;
	int cut = 1;

	CHECK(tnef_text(TDIR "two-files.tnef", 1u << 20, &out, &cut, err) == VL_OK, err);
	t = (const char *)out.data;
	CHECK(t && strstr(t, "AUTHORS") && strstr(t, "README") && !cut, "two-files: names");
	CHECK(t && strstr(t, "proliferation of Microsoft Outlook"), "two-files: README's text");

	CHECK(tnef_text(TDIR "attachments.tnef", 1u << 20, &out, &cut, err) == VL_OK, err);
	t = (const char *)out.data;
	CHECK(t && strstr(t, "bookmark.htm") && strstr(t, "zappa_av1.jpg"), "attachments: names");
	CHECK(t && strstr(t, "Adobe GoLive") && !strstr(t, "<DT>") && !strstr(t, "HREF"),
	      "attachments: the HTML file's text, no tags");
	CHECK(t && strstr(t, "Casdasdfasdfasd") && !strstr(t, "fonttbl"),
	      "attachments: the RTF body's text, no control words");
	buf_free(&out);
}

/* The readers a message may still run hold inside a TNEF stream (this one holds a .doc and a
 * .pdf, and the same text as HTML): none left, the .doc is the first not read, and named; one
 * left, the .doc is read and the .pdf named; three, both are read and one is left. */
static void
test_tnef_readers(void)
{
	gchar *data = NULL;
	gsize len = 0;
	struct buf out = {0};
	char err[VL_ERRLEN] = "";
	struct file_ref f = {.kind = FILE_TNEF};
	int cut = 0, left = 0;

	CHECK(g_file_get_contents(TDIR "MAPI_ATTACH_DATA_OBJ.tnef", &data, &len, NULL), "read");
	f.p = (const uint8_t *)data;
	f.len = len;
	CHECK(file_text(&f, 0, &left, &out, 1u << 20, &cut, err) == VL_ERR_LIMIT &&
		      strstr(err, "VIA_Nytt_1402.doc") != NULL && left == 0,
	      "no reader left: the .doc not read, and named");
	buf_reset(&out);
	left = 1;
	CHECK(file_text(&f, 0, &left, &out, 1u << 20, &cut, err) == VL_ERR_LIMIT &&
		      strstr(err, "VIA_Nytt_1402.pdf") != NULL && left == 0,
	      "one reader left: the .doc read, the .pdf named");
	buf_reset(&out);
	left = 3;
	CHECK(file_text(&f, 0, &left, &out, 1u << 20, &cut, err) == VL_OK && left == 1, err);
	buf_free(&out);
	g_free(data);
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
	CHECK(file_text(&f, 0, NULL, &out, 1u << 20, &cut, err) == VL_ERR_PARSE, "damaged: PARSE");
	buf_append(&out, "", 0);
	CHECK(out.data && strstr((char *)out.data, "AUTHORS"), "damaged: the first file kept");
	buf_reset(&out);
	f.len = len;
	CHECK(file_text(&f, 0, NULL, &out, 10, &cut, err) == VL_OK && out.len <= 10 && cut,
	      "cut at max, and said");
	f.p = (const uint8_t *)"not tnef at all";
	f.len = strlen("not tnef at all");
	buf_reset(&out);
	CHECK(file_text(&f, 0, NULL, &out, 100, &cut, err) == VL_ERR_PARSE && out.len == 0, "not TNEF");
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

UNIT_SUITE(file_text, {"which reader a file's labels name", test_kinds},
	   {"TNEF: the files inside, their text, the body", test_tnef_files},
	   {"TNEF: damage, max, not TNEF", test_tnef_bounds},
	   {"TNEF: the message's readers hold inside it", test_tnef_readers},
	   {"TNEF inside MIME", test_tnef_in_mime});
