/* test_office_text - archiver/office_text.{c,h} on Office Open XML and OpenDocument files built
 * here with libzip, in memory: parts as Word, Excel, PowerPoint and LibreOffice write them
 * (namespaces, xml:space, entities, CJK, attributes that must not become text), the order of
 * numbered parts, max cut between characters, the bounds (a ZIP bomb read in bounded memory,
 * too many entries), encryption (ZIP entries, ODF manifests, OLE2 containers), files that are
 * not of their kind, and office_kind_of. */
#include <CUnit/CUnit.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <zip.h>

#include "buf.h"
#include "office_text.h"
#include "unit.h"

#define FFFD "\xef\xbf\xbd"

/* A generated entry: head, then fill bytes up to size in all (a ZIP bomb's payload), made
 * as libzip asks for it so the test never holds it whole. */
struct filler {
	const char *head;
	uint64_t size;
	uint8_t fill;
	uint64_t pos;
	zip_error_t ze;
};

/* One entry of a fixture: data, or a filler; encrypt with method enc (ZIP_EM_NONE: not). */
struct zpart {
	const char *name;
	const char *data;
	struct filler *gen;
	uint16_t enc;
};

static zip_int64_t
filler_read(struct filler *f, uint8_t *o, uint64_t len)
{
	uint64_t n = f->size - f->pos < len ? f->size - f->pos : len;
	uint64_t hl = strlen(f->head);

	for (uint64_t i = 0; i < n; i++, f->pos++)
		o[i] = f->pos < hl ? (uint8_t)f->head[f->pos] : f->fill;
	return (zip_int64_t)n;
}

static zip_int64_t
filler_cb(void *ud, void *data, zip_uint64_t len, zip_source_cmd_t cmd)
{
	struct filler *f = ud;
	zip_stat_t *st = data;

	switch (cmd) {
	case ZIP_SOURCE_OPEN:
		f->pos = 0;
		return 0;
	case ZIP_SOURCE_READ:
		return filler_read(f, data, len);
	case ZIP_SOURCE_CLOSE:
	case ZIP_SOURCE_FREE:
		return 0;
	case ZIP_SOURCE_STAT:
		zip_stat_init(st);
		st->size = f->size;
		st->valid |= ZIP_STAT_SIZE;
		return sizeof(*st);
	case ZIP_SOURCE_ERROR:
		return zip_error_to_data(&f->ze, data, len);
	case ZIP_SOURCE_SUPPORTS:
		return zip_source_make_command_bitmap(ZIP_SOURCE_OPEN, ZIP_SOURCE_READ,
						      ZIP_SOURCE_CLOSE, ZIP_SOURCE_STAT,
						      ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE, -1);
	default:
		zip_error_set(&f->ze, ZIP_ER_OPNOTSUPP, 0);
		return -1;
	}
}

/* zpart_add - add p to za; 0, or -1 (and the source freed) when libzip refuses. */
static int
zpart_add(zip_t *za, const struct zpart *p)
{
	zip_source_t *s = p->gen ? zip_source_function(za, filler_cb, p->gen)
				 : zip_source_buffer(za, p->data, strlen(p->data), 0);
	zip_int64_t i = s ? zip_file_add(za, p->name, s, ZIP_FL_ENC_UTF_8) : -1;

	if (i < 0) {
		zip_source_free(s);
		return -1;
	}
	/* Fast deflate for the generated giants, none for empty entries (many of them). */
	if (p->gen && zip_set_file_compression(za, (zip_uint64_t)i, ZIP_CM_DEFLATE, 1) < 0)
		return -1;
	if (!p->gen && p->data[0] == 0 && zip_set_file_compression(za, (zip_uint64_t)i,
								 ZIP_CM_STORE, 0) < 0)
		return -1;
	if (p->enc != ZIP_EM_NONE && zip_file_set_encryption(za, (zip_uint64_t)i, p->enc, "secret"))
		return -1;
	return 0;
}

/* source_bytes - the bytes of src (an archive libzip wrote) appended to out. */
static void
source_bytes(zip_source_t *src, struct buf *out)
{
	uint8_t chunk[65536];
	zip_int64_t n;

	CHECK(zip_source_open(src) == 0, "zip_source_open");
	while ((n = zip_source_read(src, chunk, sizeof(chunk))) > 0)
		buf_append(out, chunk, (size_t)n);
	zip_source_close(src);
}

/* zip_build - a ZIP of the n parts into out (replaced), written by libzip in memory. */
static void
zip_build(struct buf *out, const struct zpart *parts, size_t n)
{
	zip_source_t *src;
	zip_t *za;
	zip_error_t ze;
	int ok = 1;

	buf_reset(out);
	zip_error_init(&ze);
	src = zip_source_buffer_create(NULL, 0, 0, &ze);
	zip_source_keep(src);
	za = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
	CHECK(za != NULL, "zip_open_from_source");
	for (size_t i = 0; za && i < n; i++)
		ok = ok && zpart_add(za, &parts[i]) == 0;
	CHECK(ok, "zip_file_add");
	CHECK(za && zip_close(za) == 0, "zip_close");
	source_bytes(src, out);
	zip_source_free(src);
	zip_error_fini(&ze);
}

/* run - office_text into got (replaced) with max; its result. */
static enum vl_err
run(enum office_kind k, const struct buf *file, size_t max, struct buf *got, int *trunc,
    char err[VL_ERRLEN])
{
	buf_reset(got);
	buf_append(got, "", 0);
	err[0] = 0;
	return office_text(k, file->data, file->len, got, max, trunc, err);
}

/* valid - UTF-8, no NUL, and len matches. */
static int
valid(const struct buf *b)
{
	return strlen((const char *)b->data) == b->len &&
	       g_utf8_validate((const char *)b->data, (gssize)b->len, NULL);
}

/* expect_text - file of kind k gives exactly want, untruncated. */
static void
expect_text(enum office_kind k, const struct buf *file, const char *want, const char *what)
{
	struct buf got = {0};
	char err[VL_ERRLEN];
	int trunc = -1;
	enum vl_err rc = run(k, file, 1 << 20, &got, &trunc, err);

	CHECK(rc == VL_OK, what);
	if (rc != VL_OK)
		fprintf(stderr, "\n%s: %s\n", what, err);
	CHECK(trunc == 0 && valid(&got), what);
	if (strcmp((const char *)got.data, want) != 0)
		fprintf(stderr, "\n%s: got\n'%s'\nwant\n'%s'\n", what, (const char *)got.data, want);
	CHECK(strcmp((const char *)got.data, want) == 0, what);
	buf_free(&got);
}

/* ---- fixtures ---- */

#define XML_DECL "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\r\n"
#define W_NS                                                                                       \
	"xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\" "                \
	"xmlns:mc=\"http://schemas.openxmlformats.org/markup-compatibility/2006\" "                \
	"xmlns:v=\"urn:schemas-microsoft-com:vml\" "                                               \
	"xmlns:wps=\"http://schemas.microsoft.com/office/word/2010/wordprocessingShape\" "         \
	"mc:Ignorable=\"w14 wp14\""

static const char ct_docx[] =
	XML_DECL "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
	"<Default Extension=\"rels\" "
	"ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
	"<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
	"<Override PartName=\"/word/document.xml\" ContentType=\"application/"
	"vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/></Types>";

static const char rels_docx[] =
	XML_DECL "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/"
	"relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/"
	"officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/>"
	"</Relationships>";

#define DOC_HEAD XML_DECL "<w:document " W_NS "><w:body>"
#define DOC_TAIL "<w:sectPr w:rsidR=\"00B4\"><w:pgSz w:w=\"11906\"/></w:sectPr></w:body></w:document>"

static const char docx_document[] =
	DOC_HEAD
	"<w:p w:rsidR=\"00A1C2\"><w:pPr><w:pStyle w:val=\"HeadingSecretStyle\"/><w:tabs>"
	"<w:tab w:val=\"left\" w:pos=\"720\"/></w:tabs></w:pPr><w:r><w:t>Quarterly</w:t></w:r>"
	"<w:r><w:rPr><w:b/></w:rPr><w:t xml:space=\"preserve\"> report</w:t></w:r></w:p>\r\n"
	"<w:p><w:r><w:t>Alpha</w:t></w:r><w:r><w:tab/><w:t>Beta</w:t></w:r></w:p>\r\n"
	"<w:p><w:r><w:t xml:space=\"preserve\">Fish &amp; Chips &lt;b&gt; &quot;q&quot; "
	"&apos;a&apos; &#233;t&#xE9; &#x1F600; &#0; &#xD800; &#1114112; &nbsp;</w:t></w:r></w:p>"
	"<w:p><w:r><w:rPr><w:rFonts w:eastAsia=\"MS Mincho\"/></w:rPr><w:t>契約書</w:t></w:r></w:p>"
	"<w:p><w:r><w:fldChar w:fldCharType=\"begin\"/></w:r><w:r><w:instrText "
	"xml:space=\"preserve\"> HYPERLINK \"http://fieldcode.invalid/\" </w:instrText></w:r>"
	"<w:r><w:fldChar w:fldCharType=\"separate\"/></w:r><w:r><w:t>link</w:t></w:r></w:p>"
	"<w:p><w:r><w:t>Gamma</w:t></w:r><w:r><w:br/><w:t>Delta</w:t></w:r></w:p>"
	"<w:p><w:r><mc:AlternateContent><mc:Choice Requires=\"wps\"><w:drawing><wps:txbx>"
	"<w:txbxContent><w:p><w:r><w:t>Boxed</w:t></w:r></w:p></w:txbxContent></wps:txbx>"
	"</w:drawing></mc:Choice><mc:Fallback><w:pict><v:textbox><w:txbxContent><w:p><w:r>"
	"<w:t>Boxed</w:t></w:r></w:p></w:txbxContent></v:textbox></w:pict></mc:Fallback>"
	"</mc:AlternateContent></w:r></w:p>"
	"<w:p><w:del w:id=\"1\" w:author=\"AuthorAttr\"><w:r><w:delText>Withdrawn</w:delText>"
	"</w:r></w:del><w:r><w:t xml:space=\"preserve\"> <![CDATA[cdata <x> ]]]]></w:t></w:r></w:p>"
	"<!-- a comment with <w:t>hidden</w:t> -->"
	"<w:tbl><w:tr><w:tc><w:p><w:r><w:t>C1</w:t></w:r></w:p></w:tc><w:tc><w:p/></w:tc></w:tr>"
	"</w:tbl>" DOC_TAIL;

#define W_PART(root, text)                                                                         \
	XML_DECL "<w:" root " " W_NS "><w:p><w:r><w:t>" text "</w:t></w:r></w:p></w:" root ">"

static const char docx_want[] =
	"Quarterly report\nAlpha\tBeta\nFish & Chips <b> \"q\" 'a' été 😀 " FFFD " " FFFD " " FFFD
	" &nbsp;\n契約書\nlink\nGamma\nDelta\nBoxed\nWithdrawn cdata <x> ]]\nC1\n"
	"FootWord\nHeaderTwo\nHeaderTen\nFooterWord\nCommentWord\n";

static void
docx_build(struct buf *out, const char *document, uint16_t enc)
{
	const struct zpart parts[] = {
		{"[Content_Types].xml", ct_docx, NULL, 0},
		{"_rels/.rels", rels_docx, NULL, 0},
		{"word/header10.xml", W_PART("hdr", "HeaderTen"), NULL, 0},
		{"word/document.xml", document, NULL, enc},
		{"word/comments.xml", W_PART("comments", "CommentWord"), NULL, 0},
		{"word/footer1.xml", W_PART("ftr", "FooterWord"), NULL, 0},
		{"word/header2.xml", W_PART("hdr", "HeaderTwo"), NULL, 0},
		{"word/footnotes.xml", W_PART("footnotes", "FootWord"), NULL, 0},
		{"word/styles.xml", W_PART("styles", "StylesNotRead"), NULL, 0},
	};

	zip_build(out, parts, sizeof(parts) / sizeof(parts[0]));
}

static const char xlsx_shared[] =
	XML_DECL "<sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
	"count=\"3\" uniqueCount=\"3\"><si><t>Revenue</t></si><si><r><rPr><b/><sz val=\"11\"/>"
	"</rPr><t>Net</t></r><r><t xml:space=\"preserve\"> profit</t></r></si><si><t>東京</t>"
	"<rPh sb=\"0\" eb=\"2\"><t>トウキョウ</t></rPh><phoneticPr fontId=\"1\"/></si></sst>";

static const char xlsx_sheet1[] =
	XML_DECL "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
	"xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">"
	"<dimension ref=\"A1:B2\"/><sheetData><row r=\"1\" spans=\"1:2\"><c r=\"A1\" s=\"1\" t=\"s\">"
	"<v>0</v></c><c r=\"B1\" t=\"inlineStr\"><is><t>Inline words</t></is></c></row>"
	"<row r=\"2\"><c r=\"A2\" t=\"s\"><v>2</v></c><c r=\"B2\" s=\"2\"><f>SUM(B3:B4)</f>"
	"<v>1234.5</v></c></row></sheetData><headerFooter><oddHeader>&amp;CSecretHeader"
	"</oddHeader></headerFooter></worksheet>";

static const char xlsx_sheet2[] =
	XML_DECL "<x:worksheet xmlns:x=\"http://schemas.openxmlformats.org/spreadsheetml/2006/"
	"main\"><x:sheetData><x:row r=\"1\"><x:c r=\"A1\" t=\"s\"><x:v>1</x:v></x:c><x:c r=\"B1\" "
	"t=\"str\"><x:f>A1</x:f><x:v>Formula text</x:v></x:c></x:row></x:sheetData></x:worksheet>";

static const char xlsx_workbook[] =
	XML_DECL "<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
	"xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><sheets>"
	"<sheet name=\"SheetNameAttr\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>";

#define P_NS                                                                                       \
	"xmlns:a=\"http://schemas.openxmlformats.org/drawingml/2006/main\" "                       \
	"xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\" "         \
	"xmlns:p=\"http://schemas.openxmlformats.org/presentationml/2006/main\""
#define SLIDE(root, paras)                                                                         \
	XML_DECL "<p:" root " " P_NS "><p:cSld><p:spTree><p:nvGrpSpPr><p:cNvPr id=\"1\" "          \
		 "name=\"ShapeNameAttr\"/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:sp><p:txBody>"  \
		 "<a:bodyPr/><a:lstStyle/>" paras "</p:txBody></p:sp></p:spTree></p:cSld></p:" root \
		 ">"
#define A_P(text) "<a:p><a:r><a:rPr lang=\"en-US\" dirty=\"0\"/><a:t>" text "</a:t></a:r></a:p>"

static const char odt_content[] =
	XML_DECL "<office:document-content "
	"xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" "
	"xmlns:style=\"urn:oasis:names:tc:opendocument:xmlns:style:1.0\" "
	"xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\" "
	"xmlns:table=\"urn:oasis:names:tc:opendocument:xmlns:table:1.0\" office:version=\"1.3\">"
	"<office:automatic-styles><style:style style:name=\"P1\" style:family=\"paragraph\">"
	"<style:text-properties fo:font-weight=\"bold\"/></style:style></office:automatic-styles>"
	"<office:body><office:text><text:sequence-decls/><text:h text:style-name=\"Heading_20_1\" "
	"text:outline-level=\"1\">Minutes</text:h><text:p text:style-name=\"P1\">Hello<text:s/>"
	"world<text:tab/>tabbed<text:line-break/>next <text:span text:style-name=\"T1\">span"
	"</text:span><text:s text:c=\"3\"/>end</text:p><table:table table:name=\"TableNameAttr\">"
	"<table:table-column/><table:table-row><table:table-cell office:value-type=\"string\">"
	"<text:p>Cell1</text:p></table:table-cell><table:table-cell office:value-type=\"float\" "
	"office:value=\"42\"><text:p>42</text:p></table:table-cell></table:table-row></table:table>"
	"<text:p>Ünïcödé &amp; more</text:p></office:text></office:body></office:document-content>";

static const char odf_manifest[] =
	XML_DECL "<manifest:manifest xmlns:manifest=\"urn:oasis:names:tc:opendocument:xmlns:"
	"manifest:1.0\" manifest:version=\"1.3\"><manifest:file-entry manifest:full-path=\"/\" "
	"manifest:media-type=\"application/vnd.oasis.opendocument.text\"/><manifest:file-entry "
	"manifest:full-path=\"content.xml\" manifest:media-type=\"text/xml\"/>"
	"</manifest:manifest>";

static const char odf_manifest_enc[] =
	XML_DECL "<manifest:manifest xmlns:manifest=\"urn:oasis:names:tc:opendocument:xmlns:"
	"manifest:1.0\" manifest:version=\"1.3\"><manifest:file-entry "
	"manifest:full-path=\"content.xml\" manifest:media-type=\"text/xml\" manifest:size=\"3301\">"
	"<manifest:encryption-data manifest:checksum-type=\"urn:oasis:names:tc:opendocument:xmlns:"
	"manifest:1.0#sha256-1k\" manifest:checksum=\"AAAA\"><manifest:algorithm "
	"manifest:algorithm-name=\"http://www.w3.org/2001/04/xmlenc#aes256-cbc\" "
	"manifest:initialisation-vector=\"AAAA\"/></manifest:encryption-data></manifest:file-entry>"
	"</manifest:manifest>";

static void
odt_build(struct buf *out, const char *manifest, const char *content)
{
	const struct zpart parts[] = {
		{"mimetype", "application/vnd.oasis.opendocument.text", NULL, 0},
		{"META-INF/manifest.xml", manifest, NULL, 0},
		{"content.xml", content, NULL, 0},
		{"meta.xml", XML_DECL "<office:document-meta><office:meta><dc:title>MetaTitle"
			     "</dc:title></office:meta></office:document-meta>", NULL, 0},
	};

	zip_build(out, parts, sizeof(parts) / sizeof(parts[0]));
}

/* ---- cases ---- */

static void
test_docx(void)
{
	struct buf f = {0};

	docx_build(&f, docx_document, ZIP_EM_NONE);
	expect_text(OFFICE_DOCX, &f, docx_want, "docx");
	buf_free(&f);
}

static void
test_xlsx(void)
{
	const struct zpart parts[] = {
		{"[Content_Types].xml", "<Types/>", NULL, 0},
		{"xl/workbook.xml", xlsx_workbook, NULL, 0},
		{"xl/worksheets/sheet2.xml", xlsx_sheet2, NULL, 0},
		{"xl/worksheets/sheet1.xml", xlsx_sheet1, NULL, 0},
		{"xl/sharedStrings.xml", xlsx_shared, NULL, 0},
	};
	struct buf f = {0};

	zip_build(&f, parts, sizeof(parts) / sizeof(parts[0]));
	expect_text(OFFICE_XLSX, &f,
		    "Revenue\nNet profit\n東京\nInline words\n1234.5\nFormula text\n", "xlsx");
	buf_free(&f);
}

static void
test_pptx(void)
{
	const struct zpart parts[] = {
		{"[Content_Types].xml", "<Types/>", NULL, 0},
		{"ppt/presentation.xml", XML_DECL "<p:presentation " P_NS "/>", NULL, 0},
		{"ppt/slides/slide10.xml", SLIDE("sld", A_P("Tenth")), NULL, 0},
		{"ppt/slides/slide2.xml", SLIDE("sld", A_P("Second")), NULL, 0},
		{"ppt/slides/slide1.xml",
		 SLIDE("sld", "<a:p><a:r><a:t>First</a:t></a:r><a:r><a:t> slide</a:t></a:r></a:p>"
			      "<a:p><a:r><a:t>Bullet</a:t></a:r><a:br><a:rPr/></a:br><a:r><a:t>two"
			      "</a:t></a:r></a:p>"),
		 NULL, 0},
		{"ppt/slides/_rels/slide1.xml.rels", "<Relationships/>", NULL, 0},
		{"ppt/slideLayouts/slideLayout1.xml", SLIDE("sldLayout", A_P("LayoutText")), NULL, 0},
		{"ppt/notesSlides/notesSlide1.xml", SLIDE("notes", A_P("Speaker note")), NULL, 0},
	};
	struct buf f = {0};

	zip_build(&f, parts, sizeof(parts) / sizeof(parts[0]));
	expect_text(OFFICE_PPTX, &f, "First slide\nBullet\ntwo\nSecond\nTenth\nSpeaker note\n",
		    "pptx: slide2 before slide10, then notes");
	buf_free(&f);
}

static void
test_odt(void)
{
	struct buf f = {0};

	odt_build(&f, odf_manifest, odt_content);
	expect_text(OFFICE_ODF, &f,
		    "Minutes\nHello world\ttabbed\nnext span end\nCell1\n42\nÜnïcödé & more\n",
		    "odt");
	buf_free(&f);
}

/* Bytes that are not UTF-8 become U+FFFD; the reader never writes NUL or other controls. */
static void
test_bad_utf8(void)
{
	struct buf f = {0};

	docx_build(&f,
		   DOC_HEAD "<w:p><w:r><w:t>bad\xff" "byte \xc3(x \xe5\xa5</w:t></w:r></w:p><w:p><w:r>"
			    "<w:t>ctl\x01" "x&#1;y\xed\xa0\x80z</w:t></w:r></w:p><w:p><w:r><w:t>end"
			    "\xe5\xa5</w:t></w:r></w:p>" DOC_TAIL,
		   ZIP_EM_NONE);
	expect_text(OFFICE_DOCX, &f,
		    "bad" FFFD "byte " FFFD "(x " FFFD "\nctl x y" FFFD FFFD "z\nend" FFFD
		    "\nFootWord\nHeaderTwo\nHeaderTen\nFooterWord\nCommentWord\n",
		    "invalid UTF-8");
	buf_free(&f);
}

/* The text of the other parts docx_build adds, after word/document.xml's. */
#define DOCX_OTHERS "FootWord\nHeaderTwo\nHeaderTen\nFooterWord\nCommentWord\n"
#define DOC_BODY(text)                                                                             \
	"<w:document " W_NS "><w:body><w:p><w:r><w:t>" text "</w:t></w:r></w:p>" DOC_TAIL

/* A word/document.xml and the text it must give (before DOCX_OTHERS). */
struct doc_case {
	const char *label, *document, *want;
};

/* expect_docs - each case, in a DOCX with the other parts. */
static void
expect_docs(const struct doc_case *c, size_t n)
{
	struct buf f = {0};
	char want[1024];

	for (size_t i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "%s%s", c[i].want, DOCX_OTHERS);
		docx_build(&f, c[i].document, ZIP_EM_NONE);
		expect_text(OFFICE_DOCX, &f, want, c[i].label);
	}
	buf_free(&f);
}

/* Markup that is no element hides no text: a DOCTYPE whose literals hold '>' or brackets, or
 * whose internal subset holds them in entity values, comments and PIs (a reader counting
 * brackets alone never found its end, and read nothing more); comments and PIs with '>';
 * CDATA, which is text. */
static void
test_markup(void)
{
	static const struct doc_case cases[] = {
		{"DOCTYPE with '>' in its system literal",
		 XML_DECL "<!DOCTYPE w:document SYSTEM \"a>b\">" DOC_BODY("Visible"), "Visible\n"},
		{"DOCTYPE with brackets in its literals",
		 XML_DECL "<!DOCTYPE w:document PUBLIC \"-//x]//EN\" 'urn:a[b'>" DOC_BODY("Visible"),
		 "Visible\n"},
		{"DOCTYPE subset with brackets and '>' in entity and attribute values",
		 XML_DECL "<!DOCTYPE w:document [\n<!ENTITY e \"[>\">\n<!ATTLIST w:t x CDATA 'it]s'>"
			  "\n<!ENTITY f '\"['>\n]>" DOC_BODY("Visible"),
		 "Visible\n"},
		{"DOCTYPE subset with a comment and a PI holding quotes, brackets and '>'",
		 XML_DECL "<!DOCTYPE w:document [ <!-- it's [ a \"> --> <?pi it's [ > ?>"
			  "<!ELEMENT w:t (#PCDATA)> ]>" DOC_BODY("Visible"),
		 "Visible\n"},
		{"comment, PI and CDATA inside text",
		 XML_DECL DOC_BODY("Vis<!-- a > b <w:t>no</w:t> -->ib<?pi a=\">\" b='>'?>le "
				   "<![CDATA[x<y>]]z]]> done"),
		 "Visible x<y>]]z done\n"},
		{"a PI with '>' in a pseudo-attribute before the root",
		 XML_DECL "<?mso-application progid=\"Word.Document\" x='a>b'?>" DOC_BODY("Visible"),
		 "Visible\n"},
	};

	expect_docs(cases, sizeof(cases) / sizeof(cases[0]));
}

#define W_P(text) "<w:p><w:r><w:t>" text "</w:t></w:r></w:p>"
#define ALT(choice, fallback)                                                                      \
	"<w:p><w:r><mc:AlternateContent><mc:Choice Requires=\"wps\">" W_P(choice) "</mc:Choice>"  \
	fallback "</mc:AlternateContent></w:r></w:p>"

/* mc:Fallback repeats mc:Choice and is skipped, but only it: a self-closing one skips nothing,
 * nested ones are counted, and what follows the outer one is read. */
static void
test_fallback(void)
{
	static const struct doc_case cases[] = {
		{"self-closing Fallback",
		 DOC_HEAD ALT("Choice", "<mc:Fallback/>") W_P("After") DOC_TAIL, "Choice\nAfter\n"},
		{"self-closing Fallback with white space and attributes",
		 DOC_HEAD ALT("Choice", "<mc:Fallback a=\"/x\" b='>' / >") W_P("After") DOC_TAIL,
		 "Choice\nAfter\n"},
		{"nested Fallbacks",
		 DOC_HEAD ALT("Choice", "<mc:Fallback>" ALT("Inner", "<mc:Fallback>" W_P("Twice")
			      "<mc:Fallback/></mc:Fallback>") W_P("Once") "</mc:Fallback>")
			 W_P("After") DOC_TAIL,
		 "Choice\nAfter\n"},
		{"a Fallback with no Choice",
		 DOC_HEAD "<mc:AlternateContent><mc:Fallback>" W_P("Old") "</mc:Fallback>"
			  "</mc:AlternateContent>" W_P("After") DOC_TAIL,
		 "After\n"},
	};

	expect_docs(cases, sizeof(cases) / sizeof(cases[0]));
}

/* A part that ends inside markup or inside a skipped element has hidden what followed that
 * start: VL_ERR_PARSE naming the part and what it ended in, with the text before it and of the
 * other parts kept (the reading goes on). */
static void
test_unclosed(void)
{
	static const struct {
		const char *label, *document, *want, *why;
	} cases[] = {
		{"unclosed Fallback", DOC_HEAD W_P("Before") ALT("Choice", "<mc:Fallback>"
			W_P("Lost")), "Before\nChoice\n", "Fallback"},
		{"unclosed DOCTYPE literal", XML_DECL "<!DOCTYPE w:document SYSTEM \"a>"
			DOC_BODY("Lost"), "", "declaration"},
		{"unclosed comment", DOC_HEAD W_P("Before") "<!-- " W_P("Lost") DOC_TAIL, "Before\n",
		 "comment"},
		{"unclosed CDATA outside text", DOC_HEAD W_P("Before") "<![CDATA[" W_P("Lost")
			DOC_TAIL, "Before\n", "CDATA"},
		{"unclosed PI", DOC_HEAD W_P("Before") "<?pi " W_P("Lost") DOC_TAIL, "Before\n",
		 "processing"},
		{"unclosed quote in a tag", DOC_HEAD W_P("Before") "<w:p a=\"" W_P("Lost") DOC_TAIL,
		 "Before\n", "tag"},
	};
	struct buf f = {0}, got = {0};
	char err[VL_ERRLEN], want[256];
	int trunc;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum vl_err rc;

		docx_build(&f, cases[i].document, ZIP_EM_NONE);
		snprintf(want, sizeof(want), "%s%s", cases[i].want, DOCX_OTHERS);
		rc = run(OFFICE_DOCX, &f, 1 << 20, &got, &trunc, err);
		if (rc != VL_ERR_PARSE || strcmp((const char *)got.data, want) != 0 ||
		    !strstr(err, cases[i].why))
			fprintf(stderr, "\n%s: rc %d, err '%s', got\n'%s'\n", cases[i].label,
				(int)rc, err, (const char *)got.data);
		CHECK(rc == VL_ERR_PARSE && !trunc && strcmp((const char *)got.data, want) == 0 &&
			      strstr(err, "word/document.xml") && strstr(err, cases[i].why),
		      cases[i].label);
	}
	/* A part cut by max ends anywhere: no verdict for that. */
	docx_build(&f, cases[0].document, ZIP_EM_NONE);
	CHECK(run(OFFICE_DOCX, &f, 4, &got, &trunc, err) == VL_OK && trunc, "cut by max: VL_OK");
	buf_free(&got);
	buf_free(&f);
}

/* utf16 - s (UTF-8) as UTF-16 with a BOM, little- or big-endian, into out (replaced). */
static void
utf16(struct buf *out, const char *s, int big)
{
	glong n = 0;
	gunichar2 *u = g_utf8_to_utf16(s, -1, NULL, &n, NULL);

	buf_reset(out);
	buf_append(out, big ? "\xfe\xff" : "\xff\xfe", 2);
	for (glong i = 0; u && i < n; i++) {
		uint8_t b[2] = {(uint8_t)(u[i] & 0xff), (uint8_t)(u[i] >> 8)};

		buf_append(out, big ? (uint8_t[2]){b[1], b[0]} : b, 2);
	}
	g_free(u);
}

/* docx_raw - a DOCX of word/document.xml holding the bytes of doc (NULs too), and a footnote,
 * into out (replaced). */
static void
docx_raw(struct buf *out, const struct buf *doc)
{
	static const char foot[] = W_PART("footnotes", "FootWord");
	zip_error_t ze;
	zip_source_t *src, *s;
	zip_t *za;

	buf_reset(out);
	zip_error_init(&ze);
	src = zip_source_buffer_create(NULL, 0, 0, &ze);
	zip_source_keep(src);
	za = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
	CHECK(za != NULL, "zip_open_from_source");
	s = zip_source_buffer(za, doc->data, doc->len, 0);
	CHECK(zip_file_add(za, "word/document.xml", s, 0) >= 0, "zip_file_add");
	s = zip_source_buffer(za, foot, strlen(foot), 0);
	CHECK(zip_file_add(za, "word/footnotes.xml", s, 0) >= 0, "zip_file_add");
	CHECK(zip_close(za) == 0, "zip_close");
	source_bytes(src, out);
	zip_source_free(src);
	zip_error_fini(&ze);
}

/* OPC lets a part be UTF-16 (ECMA-376-2 §8.1.4), with a BOM as XML asks: read as UTF-8 was,
 * surrogate pairs joined, a lone surrogate U+FFFD. Read bytewise, no tag of it was found. */
static void
test_utf16(void)
{
	static const char doc[] =
		"<?xml version=\"1.0\" encoding=\"UTF-16\"?>" DOC_BODY("Wide 契約 😀 &amp; x");
	struct buf f = {0}, part = {0};

	for (int big = 0; big < 2; big++) {
		utf16(&part, doc, big);
		docx_raw(&f, &part);
		expect_text(OFFICE_DOCX, &f, "Wide 契約 😀 & x\nFootWord\n",
			    big ? "UTF-16BE document.xml" : "UTF-16LE document.xml");
	}
	/* A lone high surrogate (D800) before "x", a lone low one (DC00) after. */
	utf16(&part, DOC_HEAD W_P("a_x_b") DOC_TAIL, 0);
	uint8_t *q = memmem(part.data, part.len, "_\0x\0_\0", 6);
	CHECK(q != NULL, "the marks are there");
	if (q) {
		q[0] = 0x00, q[1] = 0xd8, q[4] = 0x00, q[5] = 0xdc;
		docx_raw(&f, &part);
		expect_text(OFFICE_DOCX, &f, "a" FFFD "x" FFFD "b\nFootWord\n", "lone surrogates");
	}
	buf_free(&part);
	buf_free(&f);
}

/* Every max from 0 to the whole: a prefix of the whole, valid UTF-8 (CJK never cut), and
 * truncated exactly when text was left out. */
static void
test_max(void)
{
	struct buf f = {0}, got = {0};
	char err[VL_ERRLEN];
	size_t whole = strlen(docx_want), ink = whole;
	int trunc, ok = 1;

	while (ink > 0 && docx_want[ink - 1] == '\n')
		ink--;
	docx_build(&f, docx_document, ZIP_EM_NONE);
	for (size_t max = 0; max <= whole && ok; max++) {
		ok = run(OFFICE_DOCX, &f, max, &got, &trunc, err) == VL_OK && valid(&got) &&
		     got.len <= max && memcmp(got.data, docx_want, got.len) == 0 &&
		     trunc == (max < ink) && (trunc || got.len >= ink);
		if (!ok)
			fprintf(stderr, "\nmax %zu: got %zu bytes '%s', truncated %d\n", max, got.len,
				(const char *)got.data, trunc);
	}
	CHECK(ok, "every max: a valid prefix, truncated when text was left out");
	/* 契約書 starts after "...&nbsp;\n": a max one byte into it keeps none of it. */
	size_t cjk = (size_t)(strstr(docx_want, "契") - docx_want);
	CHECK(run(OFFICE_DOCX, &f, cjk + 4, &got, &trunc, err) == VL_OK && trunc &&
		      got.len == cjk + 3 && memcmp(got.data + cjk, "契", 3) == 0,
	      "max inside 約 keeps 契 whole");
	/* Appends: what the buffer held stays. */
	buf_reset(&got);
	buf_append_str(&got, "before|");
	CHECK(office_text(OFFICE_DOCX, f.data, f.len, &got, 9, &trunc, err) == VL_OK &&
		      strcmp((const char *)got.data, "before|Quarterly") == 0 && trunc,
	      "appended after what out held, max counts only ours");
	buf_free(&got);
	buf_free(&f);
}

static long
maxrss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* A bomb: 300 MiB of one byte in one entry, about 300 KiB deflated. The read stops at
 * OFFICE_ENTRY_MAX in memory of its own size (the peak RSS grows by far less than the entry's
 * bound): VL_ERR_LIMIT naming that bound and the entry, with the text before it and of the next
 * entry kept, and not *truncated, which is for max alone (the caller names MIME_ATTACH_TEXT_MAX
 * for it); with no text before it (zeros, just past the bound), nothing written. */
static void
test_bomb(void)
{
	struct filler bomb = {DOC_HEAD "<w:p><w:r><w:t>bomb</w:t></w:r></w:p>", 300u << 20, ' ', 0,
			      {0}};
	struct filler zeros = {"", OFFICE_ENTRY_MAX + (1u << 20), 0, 0, {0}};
	struct zpart parts[] = {
		{"word/document.xml", NULL, &bomb, 0},
		{"word/footnotes.xml", W_PART("footnotes", "AfterBomb"), NULL, 0},
	};
	struct buf f = {0}, got = {0};
	char err[VL_ERRLEN];
	int trunc;
	long rss;

	zip_build(&f, parts, 2);
	CHECK(f.len < (2u << 20), "the bomb is small compressed");
	rss = maxrss_kib();
	CHECK(run(OFFICE_DOCX, &f, 1 << 20, &got, &trunc, err) == VL_ERR_LIMIT && !trunc &&
		      strcmp((const char *)got.data, "bomb\nAfterBomb\n") == 0 &&
		      strstr(err, "word/document.xml") && strstr(err, "OFFICE_ENTRY_MAX"),
	      "bomb: VL_ERR_LIMIT naming OFFICE_ENTRY_MAX, text kept, the next entry read");
	if (!strstr(err, "OFFICE_ENTRY_MAX") || trunc)
		fprintf(stderr, "\nbomb: truncated %d, err '%s'\n", trunc, err);
	CHECK(maxrss_kib() - rss < (long)(OFFICE_ENTRY_MAX / 1024 / 4), "bomb: memory bounded");
	CHECK(run(OFFICE_DOCX, &f, 3, &got, &trunc, err) == VL_OK && trunc &&
		      strcmp((const char *)got.data, "bom") == 0,
	      "bomb with max 3: max is full before the bound, VL_OK and truncated");
	parts[0].gen = &zeros;
	parts[1].data = W_PART("footnotes", "");
	zip_build(&f, parts, 2);
	CHECK(run(OFFICE_DOCX, &f, 1 << 20, &got, &trunc, err) == VL_ERR_LIMIT && got.len == 0 &&
		      strstr(err, "OFFICE_ENTRY_MAX") != NULL,
	      "bomb of zeros: VL_ERR_LIMIT, nothing written");
	buf_free(&got);
	buf_free(&f);
}

/* Five sheets of 60 MiB: OFFICE_TOTAL_MAX (256 MiB) stops the reading in the fifth, and the
 * sixth, small, is never read: VL_ERR_LIMIT naming that bound, the text kept, not *truncated. */
static void
test_total_bound(void)
{
	static const char *const words[] = {"one", "two", "three", "four", "five"};
	struct filler s[5];
	struct zpart parts[7] = {{"xl/workbook.xml", xlsx_workbook, NULL, 0}};
	char names[5][32], heads[5][128];
	struct buf f = {0}, got = {0};
	char err[VL_ERRLEN];
	int trunc;

	for (int i = 0; i < 5; i++) {
		snprintf(heads[i], sizeof(heads[i]), "<worksheet><sheetData><row><c t=\"inlineStr\">"
			 "<is><t>%s</t></is></c></row>", words[i]);
		s[i] = (struct filler){heads[i], 60u << 20, '\n', 0, {0}};
		snprintf(names[i], sizeof(names[i]), "xl/worksheets/sheet%d.xml", i + 1);
		parts[i + 1] = (struct zpart){names[i], NULL, &s[i], 0};
	}
	parts[6] = (struct zpart){"xl/worksheets/sheet6.xml",
				  "<worksheet><sheetData><row><c t=\"inlineStr\"><is><t>six</t>"
				  "</is></c></row></sheetData></worksheet>", NULL, 0};
	zip_build(&f, parts, 7);
	CHECK(run(OFFICE_XLSX, &f, 1 << 20, &got, &trunc, err) == VL_ERR_LIMIT && !trunc &&
		      strcmp((const char *)got.data, "one\ntwo\nthree\nfour\nfive\n") == 0,
	      "total bound: four sheets whole, the fifth cut, the sixth not read");
	CHECK(strstr(err, "xl/worksheets/sheet5.xml") && strstr(err, "OFFICE_TOTAL_MAX") &&
		      !strstr(err, "OFFICE_ENTRY_MAX"),
	      "total bound: err names OFFICE_TOTAL_MAX and the fifth sheet");
	if (!strstr(err, "OFFICE_TOTAL_MAX"))
		fprintf(stderr, "\ntotal bound: err '%s'\n", err);
	buf_free(&got);
	buf_free(&f);
}

/* A ZIP entry the text needs, encrypted by either method libzip writes: VL_ERR_CRYPTO naming
 * it. An encrypted entry that is not read does not matter. */
static void
test_encrypted_entry(void)
{
	static const uint16_t methods[] = {ZIP_EM_TRAD_PKWARE, ZIP_EM_AES_256};
	struct buf f = {0}, got = {0};
	char err[VL_ERRLEN];
	int trunc;

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (!zip_encryption_method_supported(methods[i], 1)) {
			fprintf(stderr, "\nlibzip cannot write encryption method %u\n", methods[i]);
			continue;
		}
		docx_build(&f, docx_document, methods[i]);
		CHECK(run(OFFICE_DOCX, &f, 1 << 20, &got, &trunc, err) == VL_ERR_CRYPTO &&
			      strstr(err, "word/document.xml") != NULL && got.len == 0,
		      "encrypted word/document.xml");
	}
	const struct zpart parts[] = {
		{"xl/workbook.xml", xlsx_workbook, NULL, 0},
		{"xl/sharedStrings.xml", xlsx_shared, NULL, 0},
		{"xl/vbaProject.bin", "not read", NULL, ZIP_EM_TRAD_PKWARE},
	};
	zip_build(&f, parts, 3);
	CHECK(run(OFFICE_XLSX, &f, 1 << 20, &got, &trunc, err) == VL_OK &&
		      strstr((const char *)got.data, "Revenue") != NULL,
	      "an encrypted entry not read is no error");
	odt_build(&f, odf_manifest_enc, "\x8f\x12<garbled\x01");
	CHECK(run(OFFICE_ODF, &f, 1 << 20, &got, &trunc, err) == VL_ERR_CRYPTO &&
		      strstr(err, "manifest") != NULL,
	      "an ODF file whose manifest lists encryption-data");
	buf_free(&got);
	buf_free(&f);
}

/* cfb_file - an OLE2 header, then directory entry names (UTF-16LE) when given. */
static void
cfb_file(struct buf *f, const char *const *names, size_t n)
{
	static const uint8_t magic[8] = {0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1};
	uint8_t zero[504] = {0};

	buf_reset(f);
	buf_append(f, magic, sizeof(magic));
	buf_append(f, zero, sizeof(zero));
	for (size_t i = 0; i < n; i++) {
		for (const char *c = names[i]; *c; c++)
			buf_append(f, (uint8_t[2]){(uint8_t)*c, 0}, 2);
		buf_append(f, zero, 64);
	}
}

/* What is not an office file of its kind: an error with a reason, never VL_OK. */
static void
test_not_office(void)
{
	static const char *const enc[] = {"Root Entry", "EncryptionInfo", "EncryptedPackage"};
	static const char *const legacy[] = {"Root Entry", "WordDocument", "1Table"};
	struct buf f = {0}, got = {0}, doc = {0};
	char err[VL_ERRLEN];
	int trunc;

	cfb_file(&f, enc, 3);
	CHECK(run(OFFICE_DOCX, &f, 1 << 20, &got, &trunc, err) == VL_ERR_CRYPTO,
	      "OLE2 with EncryptedPackage: encrypted");
	cfb_file(&f, legacy, 3);
	CHECK(run(OFFICE_DOCX, &f, 1 << 20, &got, &trunc, err) == VL_ERR_PARSE && err[0],
	      "OLE2 legacy .doc: not OK");
	buf_reset(&f);
	buf_append_str(&f, "PK\x03\x04 this is no zip at all, just some garbage bytes\n");
	CHECK(run(OFFICE_DOCX, &f, 1 << 20, &got, &trunc, err) == VL_ERR_PARSE && err[0],
	      "garbage: VL_ERR_PARSE with a reason");
	buf_reset(&f);
	CHECK(office_text(OFFICE_ODF, (const uint8_t *)"", 0, &got, 100, &trunc, err) ==
		      VL_ERR_PARSE, "empty");
	docx_build(&doc, docx_document, ZIP_EM_NONE);
	CHECK(run(OFFICE_DOCX, &(struct buf){doc.data, doc.len / 2, 0}, 1 << 20, &got, &trunc,
		  err) == VL_ERR_PARSE && err[0], "the first half of a docx");
	CHECK(run(OFFICE_XLSX, &doc, 1 << 20, &got, &trunc, err) == VL_ERR_PARSE &&
		      strstr(err, "xl/workbook.xml") != NULL, "a docx read as xlsx");
	const struct zpart nodoc[] = {{"[Content_Types].xml", ct_docx, NULL, 0},
				      {"word/styles.xml", "<w:styles/>", NULL, 0}};
	zip_build(&f, nodoc, 2);
	CHECK(run(OFFICE_DOCX, &f, 1 << 20, &got, &trunc, err) == VL_ERR_PARSE &&
		      strstr(err, "word/document.xml") != NULL, "a docx without word/document.xml");
	CHECK(run(OFFICE_NONE, &doc, 1 << 20, &got, &trunc, err) == VL_ERR_INTERNAL, "OFFICE_NONE");
	buf_free(&doc);
	buf_free(&got);
	buf_free(&f);
}

/* More than OFFICE_ENTRIES_MAX entries: VL_ERR_LIMIT before anything is read. */
static void
test_entries_bound(void)
{
	size_t n = OFFICE_ENTRIES_MAX + 1;
	struct zpart *parts = xcalloc(n, sizeof(*parts));
	char (*names)[32] = xcalloc(n, sizeof(*names));
	struct buf f = {0}, got = {0};
	char err[VL_ERRLEN];
	int trunc;

	parts[0] = (struct zpart){"content.xml", odt_content, NULL, 0};
	for (size_t i = 1; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "Pictures/%zu.png", i);
		parts[i] = (struct zpart){names[i], "", NULL, 0};
	}
	zip_build(&f, parts, n);
	CHECK(run(OFFICE_ODF, &f, 1 << 20, &got, &trunc, err) == VL_ERR_LIMIT &&
		      strstr(err, "OFFICE_ENTRIES_MAX") != NULL && got.len == 0,
	      "too many entries");
	zip_build(&f, parts, n - 1);
	CHECK(run(OFFICE_ODF, &f, 1 << 20, &got, &trunc, err) == VL_OK, "just enough entries");
	free(names);
	free(parts);
	buf_free(&got);
	buf_free(&f);
}

static const struct {
	const char *type, *filename;
	enum office_kind want;
} kind_cases[] = {
	{"application/vnd.openxmlformats-officedocument.wordprocessingml.document", NULL,
	 OFFICE_DOCX},
	{"application/vnd.ms-word.document.macroenabled.12", "x.bin", OFFICE_DOCX},
	{"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", NULL, OFFICE_XLSX},
	{"application/vnd.ms-excel.sheet.macroenabled.12", NULL, OFFICE_XLSX},
	{"application/vnd.openxmlformats-officedocument.presentationml.presentation", NULL,
	 OFFICE_PPTX},
	{"application/vnd.ms-powerpoint.presentation.macroenabled.12", NULL, OFFICE_PPTX},
	{"application/vnd.oasis.opendocument.text", NULL, OFFICE_ODF},
	{"application/vnd.oasis.opendocument.spreadsheet", NULL, OFFICE_ODF},
	{"application/vnd.oasis.opendocument.presentation", NULL, OFFICE_ODF},
	{"application/octet-stream", "Contract.DOCX", OFFICE_DOCX},
	{"application/octet-stream", "macro.docm", OFFICE_DOCX},
	{"application/zip", "budget.xlsx", OFFICE_XLSX},
	{"application/octet-stream", "Budget.XlsM", OFFICE_XLSX},
	{"application/octet-stream", "deck.pptx", OFFICE_PPTX},
	{"application/octet-stream", "deck.PPTM", OFFICE_PPTX},
	{"application/octet-stream", "notes.odt", OFFICE_ODF},
	{"application/octet-stream", "sheet.ods", OFFICE_ODF},
	{"application/octet-stream", "talk.odp", OFFICE_ODF},
	{"application/x-unknown", "report.docx", OFFICE_DOCX},
	{"application/octet-stream", NULL, OFFICE_NONE},
	{"application/zip", "archive.zip", OFFICE_NONE},
	{"application/octet-stream", "docx", OFFICE_NONE},
	{"application/octet-stream", ".docx", OFFICE_NONE},
	{"application/octet-stream", "report.docx.exe", OFFICE_NONE},
	{"application/msword", "old.doc", OFFICE_NONE},
	{"text/plain", NULL, OFFICE_NONE},
	{"text/plain", "readme.txt", OFFICE_NONE},
	{NULL, NULL, OFFICE_NONE},
	{NULL, "x.odt", OFFICE_ODF},
};

static void
test_kind_of(void)
{
	for (size_t i = 0; i < sizeof(kind_cases) / sizeof(kind_cases[0]); i++) {
		enum office_kind k = office_kind_of(kind_cases[i].type, kind_cases[i].filename);
		char what[300];

		snprintf(what, sizeof(what), "%s %s", kind_cases[i].type ? kind_cases[i].type : "NULL",
			 kind_cases[i].filename ? kind_cases[i].filename : "NULL");
		CHECK(k == kind_cases[i].want, what);
	}
}

UNIT_SUITE(office_text, {"docx: parts, separators, entities, CJK, no attributes", test_docx},
	   {"xlsx: shared and inline strings, values, no indexes", test_xlsx},
	   {"pptx: slides in numeric order, notes", test_pptx},
	   {"odt: text:p, text:h, text:s, cells", test_odt},
	   {"invalid UTF-8 and controls", test_bad_utf8},
	   {"max: cut between characters, truncated", test_max},
	   {"DOCTYPE, comments, PIs and CDATA hide no text", test_markup},
	   {"mc:Fallback: self-closing, nested", test_fallback},
	   {"UTF-16 parts", test_utf16},
	   {"a part ending inside markup or a skipped element: VL_ERR_PARSE", test_unclosed},
	   {"ZIP bomb: stops at OFFICE_ENTRY_MAX in bounded memory", test_bomb},
	   {"OFFICE_TOTAL_MAX", test_total_bound},
	   {"encrypted entries and ODF manifests", test_encrypted_entry},
	   {"not office files: OLE2, garbage, wrong kind", test_not_office},
	   {"OFFICE_ENTRIES_MAX", test_entries_bound}, {"office_kind_of", test_kind_of})
