/* test_edrm - the EDRM XML 1.2 load file (edrm): XML escaping (the five specials, what XML 1.0
 * forbids, bytes that are not UTF-8, CJK kept), one Document's exact text, the BCC tag gone
 * with the column; and the results count per custodian (custodian_count). */
#include <string.h>

#include "buf.h"
#include "custodian_count.h"
#include "edrm.h"
#include "loadfile.h"
#include "unit.h"

static void
test_escape(void)
{
	static const struct {
		const char *label, *in, *want;
	} cases[] = {
		{"plain", "plain", "plain"},
		{"the five specials", "a&b<c>d\"e'f", "a&amp;b&lt;c&gt;d&quot;e&apos;f"},
		{"an entity is escaped again", "&amp;", "&amp;amp;"},
		{"tab, LF, CR as references", "a\tb\nc\rd", "a&#9;b&#10;c&#13;d"},
		{"C0 controls dropped", "a\x01" "b\x08" "c\x0b" "d\x0c" "e\x1f" "f\x7f", "abcdef\x7f"},
		{"U+FFFE and U+FFFF dropped", "a\xef\xbf\xbe" "b\xef\xbf\xbf" "c", "abc"},
		{"U+FFFD kept", "\xef\xbf\xbd", "\xef\xbf\xbd"},
		{"CJK kept", "\xe4\xbc\x9a\xe8\xad\xb0 <\xe8\xb3\x87\xe6\x96\x99>",
		 "\xe4\xbc\x9a\xe8\xad\xb0 &lt;\xe8\xb3\x87\xe6\x96\x99&gt;"},
		{"astral plane kept", "\xf0\x9f\x93\xa7", "\xf0\x9f\x93\xa7"},
		{"Latin-1 byte as U+FFFD", "caf\xe9!", "caf\xef\xbf\xbd!"},
		{"truncated sequence", "a\xe4\xbc", "a\xef\xbf\xbd\xef\xbf\xbd"},
		{"overlong NUL", "\xc0\x80", "\xef\xbf\xbd\xef\xbf\xbd"},
		{"surrogate", "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
		{"past U+10FFFF", "\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
		{"empty", "", ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = {0};

		edrm_escape(&b, cases[i].in);
		CHECK(b.len == strlen(cases[i].want) &&
			      (b.len == 0 || memcmp(b.data, cases[i].want, b.len) == 0),
		      cases[i].label);
		buf_free(&b);
	}
	struct buf b = {0};
	edrm_escape(&b, NULL);
	CHECK(b.len == 0, "NULL is empty");
	buf_free(&b);
}

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void
row_of(const char *f[LF__COUNT])
{
	for (int i = 0; i < LF__COUNT; i++)
		f[i] = NULL;
	f[LF_BEGDOC] = f[LF_ENDDOC] = "VL0000001";
	f[LF_CUSTODIAN] = "sera;skilling";
	f[LF_FROM] = "Sherri Sera <sherri.sera@enron.com>";
	f[LF_TO] = "jeff.skilling@enron.com";
	f[LF_BCC] = "hidden@enron.com";
	f[LF_SUBJECT] = "R&D \"plan\"";
	f[LF_DATESENT] = "2001-05-01T10:00:00Z";
	f[LF_MESSAGEID] = "<m1@enron.com>";
	f[LF_SHA256] = SHA;
	f[LF_FILEPATH] = "data/messages/VL0000001.eml";
	f[LF_VELLUMID] = "7";
	f[LF_SIZE] = "120";
}

static const char want_doc[] =
	"\t\t\t<Document DocID=\"VL0000001\" DocType=\"Message\" MimeType=\"message/rfc822\">\n"
	"\t\t\t\t<Tags>\n"
	"\t\t\t\t\t<Tag TagName=\"#BegDoc\" TagDataType=\"Text\" TagValue=\"VL0000001\"/>\n"
	"\t\t\t\t\t<Tag TagName=\"#EndDoc\" TagDataType=\"Text\" TagValue=\"VL0000001\"/>\n"
	"\t\t\t\t\t<Tag TagName=\"#Custodian\" TagDataType=\"Text\" TagValue=\"sera;skilling\"/>\n"
	"\t\t\t\t\t<Tag TagName=\"#From\" TagDataType=\"Text\""
	" TagValue=\"Sherri Sera &lt;sherri.sera@enron.com&gt;\"/>\n"
	"\t\t\t\t\t<Tag TagName=\"#To\" TagDataType=\"Text\" TagValue=\"jeff.skilling@enron.com\"/>\n"
	"\t\t\t\t\t<Tag TagName=\"#CC\" TagDataType=\"Text\" TagValue=\"\"/>\n"
	"\t\t\t\t\t<Tag TagName=\"#BCC\" TagDataType=\"Text\" TagValue=\"hidden@enron.com\"/>\n"
	"\t\t\t\t\t<Tag TagName=\"#Subject\" TagDataType=\"Text\""
	" TagValue=\"R&amp;D &quot;plan&quot;\"/>\n"
	"\t\t\t\t\t<Tag TagName=\"#DateSent\" TagDataType=\"DateTime\""
	" TagValue=\"2001-05-01T10:00:00Z\"/>\n"
	"\t\t\t\t\t<Tag TagName=\"#MessageID\" TagDataType=\"Text\" TagValue=\"&lt;m1@enron.com&gt;\"/>\n"
	"\t\t\t\t\t<Tag TagName=\"#AttachmentNames\" TagDataType=\"Text\" TagValue=\"\"/>\n"
	"\t\t\t\t\t<Tag TagName=\"#SHA256\" TagDataType=\"Text\" TagValue=\"" SHA "\"/>\n"
	"\t\t\t\t\t<Tag TagName=\"#FilePath\" TagDataType=\"Text\""
	" TagValue=\"data/messages/VL0000001.eml\"/>\n"
	"\t\t\t\t\t<Tag TagName=\"#VellumID\" TagDataType=\"LongInteger\" TagValue=\"7\"/>\n"
	"\t\t\t\t\t<Tag TagName=\"#Size\" TagDataType=\"LongInteger\" TagValue=\"120\"/>\n"
	"\t\t\t\t\t<Tag TagName=\"#HasAttachments\" TagDataType=\"Boolean\" TagValue=\"false\"/>\n"
	"\t\t\t\t</Tags>\n"
	"\t\t\t\t<Files>\n"
	"\t\t\t\t\t<File FileType=\"Native\">\n"
	"\t\t\t\t\t\t<ExternalFile FilePath=\"data/messages\" FileName=\"VL0000001.eml\""
	" FileSize=\"120\" Hash=\"" SHA "\" HashType=\"SHA256\"/>\n"
	"\t\t\t\t\t</File>\n"
	"\t\t\t\t</Files>\n"
	"\t\t\t\t<Locations>\n"
	"\t\t\t\t\t<Location>\n"
	"\t\t\t\t\t\t<Custodian>sera</Custodian>\n"
	"\t\t\t\t\t</Location>\n"
	"\t\t\t\t\t<Location>\n"
	"\t\t\t\t\t\t<Custodian>skilling</Custodian>\n"
	"\t\t\t\t\t</Location>\n"
	"\t\t\t\t</Locations>\n"
	"\t\t\t</Document>\n";

/* One row's Document, to the byte: every DAT column a Tag in the DAT's order (an empty
 * DATERECEIVED, not a DateTime, left out), the native, one Location per custodian. */
static void
test_document(void)
{
	const char *f[LF__COUNT];
	struct edrm_native nat = {"data/messages", "VL0000001.eml", 120, SHA};
	struct buf b = {0};

	row_of(f);
	edrm_document(&b, f, 0, &nat);
	CHECK(b.len == strlen(want_doc) && memcmp(b.data, want_doc, b.len) == 0,
	      "the Document's exact text");
	if (b.len != strlen(want_doc) || memcmp(b.data, want_doc, b.len) != 0)
		fprintf(stderr, "got:\n%s\n", (char *)b.data);
	buf_reset(&b);
	f[LF_ATTACHMENTNAMES] = "a.pdf; b.xlsx";
	f[LF_CUSTODIAN] = "";
	edrm_document(&b, f, 0, NULL);
	CHECK(strstr((char *)b.data, "TagName=\"#HasAttachments\" TagDataType=\"Boolean\""
				     " TagValue=\"true\"") != NULL,
	      "attachment names: #HasAttachments true");
	CHECK(strstr((char *)b.data, "<Files>") == NULL, "no native (mbox): no Files");
	CHECK(strstr((char *)b.data, "<Locations>") == NULL, "no custodian: no Locations");
	buf_reset(&b);
	edrm_start(&b, "a <test>");
	edrm_end(&b);
	CHECK(strcmp((char *)b.data,
		     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Root MajorVersion=\"1\""
		     " MinorVersion=\"2\" Description=\"a &lt;test&gt;\" Locale=\"US\""
		     " DataInterchangeType=\"Update\">\n\t<Batch>\n\t\t<Documents>\n"
		     "\t\t</Documents>\n\t</Batch>\n</Root>\n") == 0,
	      "header and footer");
	for (int i = 0; i < LF__COUNT; i++)
		CHECK(edrm_tag_name((enum loadfile_col)i) != NULL, loadfile_col_name(i));
	buf_free(&b);
}

/* Without Bcc visibility the column is omitted, and so is the tag: no #BCC, no value. */
static void
test_omit_bcc(void)
{
	const char *f[LF__COUNT];
	struct buf b = {0};

	row_of(f);
	edrm_document(&b, f, LOADFILE_OMIT(LF_BCC), NULL);
	CHECK(strstr((char *)b.data, "#BCC") == NULL, "no #BCC tag");
	CHECK(strstr((char *)b.data, "hidden@enron.com") == NULL, "no Bcc address");
	CHECK(strstr((char *)b.data, "TagName=\"#CC\"") != NULL, "#CC stays");
	buf_free(&b);
}

static void
test_counts(void)
{
	struct custodian_count *cc = custodian_count_new();
	char err[VL_ERRLEN];
	struct buf b = {0};

	CHECK(custodian_count_add(cc, "sera;skilling", err) == VL_OK &&
		      custodian_count_add(cc, "skilling", err) == VL_OK &&
		      custodian_count_add(cc, "", err) == VL_OK &&
		      custodian_count_add(cc, NULL, err) == VL_OK &&
		      custodian_count_add(cc, "ser", err) == VL_OK &&
		      custodian_count_add(cc, "a", err) == VL_OK,
	      "counted");
	custodian_count_csv(&b, cc);
	CHECK(strcmp((char *)b.data, "\"CUSTODIAN\",\"MESSAGES\"\r\n\"(none)\",\"2\"\r\n"
				     "\"a\",\"1\"\r\n\"ser\",\"1\"\r\n\"sera\",\"1\"\r\n"
				     "\"skilling\",\"2\"\r\n") == 0,
	      "sorted by name, a prefix its own row, none first");
	buf_free(&b);
	custodian_count_free(cc);
	cc = custodian_count_new();
	enum vl_err rc = VL_OK;
	for (int i = 0; rc == VL_OK && i <= CUSTODIAN_COUNT_MAX; i++) {
		char name[16];

		snprintf(name, sizeof(name), "c%05d", i);
		rc = custodian_count_add(cc, name, err);
	}
	CHECK(rc == VL_ERR_LIMIT, "past CUSTODIAN_COUNT_MAX the export fails");
	custodian_count_free(cc);
	custodian_count_free(NULL);
}

UNIT_SUITE(edrm, {"XML escaping: specials, forbidden characters, bad UTF-8, CJK", test_escape},
	   {"a Document's exact text; header and footer", test_document},
	   {"no #BCC tag without Bcc visibility", test_omit_bcc},
	   {"results count per custodian: sorted, (none), bounded", test_counts});
