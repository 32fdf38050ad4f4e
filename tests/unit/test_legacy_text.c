/* test_legacy_text - archiver/legacy_text.{c,h} against Debian 12's catdoc 0.95: the corpus's
 * Word 97 file (../shared/corpus/mimekit-testdata/tnef/), the xlwt workbook of
 * tests/fixtures/legacy/, each made password-protected by setting the flag the programs read,
 * non-OLE2 bytes refused before any child, a missing program, and the kinds by label. No .ppt:
 * none can be made here that catppt reads (tests/fixtures/legacy/README.md). */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "buf.h"
#include "file_text.h"
#include "legacy_text.h"
#include "unit.h"

#define DOC "../shared/corpus/mimekit-testdata/tnef/MAPI_ATTACH_DATA_OBJ/VIA_Nytt_1402.doc"
#define XLS "tests/fixtures/legacy/budget.xls"
#define SECTOR 512 /* MS-CFB: a version 3 file's sector size; streams start on one */

/* no_child - no child of ours is left. */
static int
no_child(void)
{
	return waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD;
}

/* at_sector - the offset of the first sector that starts with the n bytes at s, or 0. */
static size_t
at_sector(const struct buf *b, const void *s, size_t n)
{
	for (size_t off = SECTOR; off + n <= b->len; off += SECTOR)
		if (memcmp(b->data + off, s, n) == 0)
			return off;
	return 0;
}

static void
test_kinds(void)
{
	static const struct {
		const char *type, *name;
		enum legacy_kind want;
		enum file_kind file;
	} cases[] = {
		{"application/msword", NULL, LEGACY_DOC, FILE_LEGACY},
		{"application/vnd.ms-excel", "x.doc", LEGACY_XLS, FILE_LEGACY},
		{"application/vnd.ms-powerpoint", NULL, LEGACY_PPT, FILE_LEGACY},
		{"application/octet-stream", "Memo.DOC", LEGACY_DOC, FILE_LEGACY},
		{"application/octet-stream", "q3.xls", LEGACY_XLS, FILE_LEGACY},
		{"application/octet-stream", "deck.pps", LEGACY_PPT, FILE_LEGACY},
		{"application/octet-stream", "memo.docx", LEGACY_NONE, FILE_OFFICE},
		{"application/pdf", "memo.doc", LEGACY_DOC, FILE_PDF}, /* the type wins */
		{"image/png", "x.doc", LEGACY_DOC, FILE_NONE},
		{NULL, "budget.xlsx", LEGACY_NONE, FILE_OFFICE},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *label = cases[i].name ? cases[i].name : cases[i].type;
		enum legacy_kind k = legacy_kind_of(cases[i].type, cases[i].name);

		/* legacy_kind_of reads the name whatever the type; file_kind_of only for a
		 * generic type. */
		if (cases[i].type && strcmp(cases[i].type, "application/pdf") != 0 &&
		    strcmp(cases[i].type, "image/png") != 0)
			CHECK(k == cases[i].want, label);
		CHECK(file_kind_of(cases[i].type, cases[i].name, 0) == cases[i].file, label);
	}
}

static void
test_doc(void)
{
	struct buf doc = {0}, out = {0};
	char err[VL_ERRLEN] = "";
	int truncated = 1;
	size_t fib;

	CHECK(unit_slurp(DOC, &doc) == 0, "doc");
	CHECK(legacy_text(LEGACY_DOC, doc.data, doc.len, &out, 1u << 20, &truncated, err) ==
		      VL_OK,
	      err);
	CHECK(!truncated && no_child(), "doc");
	CHECK(out.data && strstr((char *)out.data, "VIA Flyspesialisten \xc3\xb8nsker den nye") != NULL,
	      "doc words, UTF-8");
	CHECK(out.data && strstr((char *)out.data, "Stavanger og Aberdeen") != NULL, "doc words");
	/* A cut: max bytes at most, truncated. */
	buf_reset(&out);
	CHECK(legacy_text(LEGACY_DOC, doc.data, doc.len, &out, 40, &truncated, err) == VL_OK &&
		      truncated && out.len <= 40 && no_child(),
	      "doc cut");
	/* The FIB's fEncrypted bit (0x0100 of the flags at offset 10), which Word sets. */
	fib = at_sector(&doc, "\xec\xa5", 2);
	CHECK(fib != 0, "doc FIB");
	doc.data[fib + 11] |= 0x01;
	buf_reset(&out);
	CHECK(legacy_text(LEGACY_DOC, doc.data, doc.len, &out, 4096, &truncated, err) ==
		      VL_ERR_CRYPTO,
	      err);
	CHECK(strstr(err, "File is encrypted") != NULL && out.len == 0 && no_child(), err);
	buf_free(&doc);
	buf_free(&out);
}

static void
test_xls(void)
{
	static const uint8_t bof[] = {0x09, 0x08, 0x10, 0x00}; /* BIFF8 BOF, 16 bytes */
	struct buf xls = {0}, out = {0};
	char err[VL_ERRLEN] = "";
	int truncated = 1;
	size_t at;

	CHECK(unit_slurp(XLS, &xls) == 0, "xls");
	CHECK(legacy_text(LEGACY_XLS, xls.data, xls.len, &out, 4096, &truncated, err) == VL_OK,
	      err);
	CHECK(out.data && strcmp((char *)out.data,
				 "\"Quarterly budget zebrafinch\"\n\"Caf\xc3\xa9 cr\xc3\xa8me\",\"4711\"\n"
				 "\n\"Second sheet osprey\"\n\n") == 0,
	      "xls text, sheets");
	CHECK(!truncated && no_child(), "xls");
	/* The record after the workbook's BOF becomes a FILEPASS (0x002F): encrypted. */
	at = at_sector(&xls, bof, sizeof(bof));
	CHECK(at != 0, "xls BOF");
	xls.data[at + 20] = 0x2f;
	xls.data[at + 21] = 0x00;
	buf_reset(&out);
	CHECK(legacy_text(LEGACY_XLS, xls.data, xls.len, &out, 4096, &truncated, err) ==
		      VL_ERR_CRYPTO,
	      err);
	CHECK(strstr(err, "File is encrypted") != NULL && no_child(), err);
	buf_free(&xls);
	buf_free(&out);
}

static void
test_refused(void)
{
	static const struct legacy_limits missing = {"/nonexistent/catdoc", LEGACY_WALL_MS,
						     LEGACY_CPU_S, LEGACY_AS_BYTES};
	static const uint8_t ole2[] = {0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1};
	struct buf b = {0}, out = {0};
	char err[VL_ERRLEN] = "";
	int truncated;

	/* Not OLE2: refused before any child (a missing program would say CONFIG). */
	buf_append_str(&b, "PK\3\4 a DOCX named .doc");
	CHECK(legacy_text_with(&missing, LEGACY_DOC, b.data, b.len, &out, 4096, &truncated,
			       err) == VL_ERR_PARSE &&
		      strstr(err, "not an OLE2 file") != NULL,
	      "not OLE2");
	CHECK(legacy_text_with(&missing, LEGACY_XLS, NULL, 0, &out, 4096, &truncated, err) ==
		      VL_ERR_PARSE,
	      "empty");
	/* An encrypted OOXML package in OLE2: CRYPTO, no child. */
	buf_reset(&b);
	buf_append(&b, ole2, sizeof(ole2));
	buf_append(&b, "E\0n\0c\0r\0y\0p\0t\0e\0d\0P\0a\0c\0k\0a\0g\0e\0", 32);
	buf_append(&b, "E\0n\0c\0r\0y\0p\0t\0i\0o\0n\0I\0n\0f\0o\0", 28);
	CHECK(legacy_text_with(&missing, LEGACY_DOC, b.data, b.len, &out, 4096, &truncated,
			       err) == VL_ERR_CRYPTO,
	      "EncryptedPackage");
	/* OLE2 and a missing program: CONFIG, naming the package. */
	CHECK(legacy_text_with(&missing, LEGACY_PPT, ole2, sizeof(ole2), &out, 4096, &truncated,
			       err) == VL_ERR_CONFIG &&
		      strstr(err, "catppt is not installed") != NULL &&
		      strstr(err, "install catdoc") != NULL,
	      err);
	/* OLE2 with nothing in it: the program's verdict, PARSE. */
	CHECK(legacy_text(LEGACY_XLS, ole2, sizeof(ole2), &out, 4096, &truncated, err) ==
		      VL_ERR_PARSE,
	      err);
	CHECK(out.len == 0 && no_child(), "refused");
	buf_free(&b);
	buf_free(&out);
}

static void
test_no_process(void)
{
	struct buf doc = {0}, out = {0};
	char err[VL_ERRLEN] = "";
	int truncated;
	struct file_ref f = {.kind = FILE_LEGACY, .content_type = "application/msword"};

	CHECK(unit_slurp(DOC, &doc) == 0, "doc");
	f.p = doc.data;
	f.len = doc.len;
	CHECK(file_text(&f, FILE_NO_PROCESS, NULL, NULL, NULL, &out, 4096, &truncated, err) ==
			      VL_OK &&
		      out.len == 0,
	      "FILE_NO_PROCESS");
	CHECK(file_text(&f, 0, NULL, NULL, NULL, &out, 1u << 20, &truncated, err) == VL_OK &&
		      strstr((char *)out.data, "Stavanger og Aberdeen") != NULL,
	      "file_text");
	buf_free(&doc);
	buf_free(&out);
}

UNIT_SUITE(legacy_text, {"kinds by type and name", test_kinds},
	   {"Word 97: words in UTF-8, a cut, encrypted", test_doc},
	   {"Excel 97: cells and sheets, encrypted", test_xls},
	   {"refused: not OLE2 and EncryptedPackage without a child, missing program, empty OLE2",
	    test_refused},
	   {"file_text: FILE_NO_PROCESS skips it, else read", test_no_process})
