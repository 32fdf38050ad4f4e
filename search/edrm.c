/* edrm - the EDRM XML 1.2 load file; see edrm.h.
 *
 * The shape follows the EDRM XML 1.2 schema as far as it could be checked here (no copy of the
 * XSD was at hand): the "EDRM XML Interchange Format Schema Documentation" for XSD version 1.2
 * (31-Oct-2010) names Root, Fields, Batch, Documents, Document, Files, File, ExternalFile,
 * InlineContent, Locations, Location, LocationURI, Custodian, Reviews, Tags, Tag, Folders and
 * Relationships; public writers and readers of the format agree on Root's attributes
 * (MajorVersion="1" MinorVersion="2" Description Locale="US" DataInterchangeType="Update"),
 * on Document's DocID, DocType ("Message") and MimeType, on Tag's TagName, TagDataType ("Text",
 * "DateTime", "Boolean", "Integer", "LongInteger") and TagValue, on File FileType="Native" with
 * ExternalFile's FilePath (the folder), FileName, FileSize and Hash, and on Tags, Files,
 * Locations in that order within a Document. Not verified against the XSD itself: the order of
 * Document's children, HashType (one writer uses HashType="MD5"; we write "SHA256"), and whether
 * TagValue allows an empty string for a Text tag. xmllint --noout (well-formed) is tested, not
 * --schema.
 *
 * Tags, one per DAT column, in the DAT's order (EDRM's "#" convention for the email ones, the
 * names Vellum's other columns have for the rest):
 *	BEGDOC #BegDoc, ENDDOC #EndDoc, CUSTODIAN #Custodian, FROM #From, TO #To, CC #CC,
 *	BCC #BCC, SUBJECT #Subject, DATESENT #DateSent (DateTime), DATERECEIVED #DateReceived
 *	(DateTime), MESSAGEID #MessageID, ATTACHMENT NAMES #AttachmentNames, SHA256 #SHA256,
 *	FILEPATH #FilePath, VELLUMID #VellumID (LongInteger), SIZE #Size (LongInteger)
 * and #HasAttachments (Boolean: ATTACHMENT NAMES is not empty), which has no DAT column. The DAT
 * has no ALLCUSTODIANS (CUSTODIAN lists them all), MD5 or MIH column, so there are no such tags.
 * A DateTime or LongInteger tag whose value is empty is left out (an empty string is neither);
 * a Text tag is written even when empty, as the DAT writes an empty field. */
#include <stdio.h>
#include <string.h>

#include "edrm.h"

#define IND1 "\t"
#define IND2 "\t\t"
#define IND3 "\t\t\t"
#define IND4 "\t\t\t\t"
#define IND5 "\t\t\t\t\t"
#define IND6 "\t\t\t\t\t\t"
#define UTF8_REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */

static const struct {
	const char *name, *type;
} tags[LF__COUNT] = {
	[LF_BEGDOC] = {"#BegDoc", "Text"},
	[LF_ENDDOC] = {"#EndDoc", "Text"},
	[LF_CUSTODIAN] = {"#Custodian", "Text"},
	[LF_FROM] = {"#From", "Text"},
	[LF_TO] = {"#To", "Text"},
	[LF_CC] = {"#CC", "Text"},
	[LF_BCC] = {"#BCC", "Text"},
	[LF_SUBJECT] = {"#Subject", "Text"},
	[LF_DATESENT] = {"#DateSent", "DateTime"},
	[LF_DATERECEIVED] = {"#DateReceived", "DateTime"},
	[LF_MESSAGEID] = {"#MessageID", "Text"},
	[LF_ATTACHMENTNAMES] = {"#AttachmentNames", "Text"},
	[LF_SHA256] = {"#SHA256", "Text"},
	[LF_FILEPATH] = {"#FilePath", "Text"},
	[LF_VELLUMID] = {"#VellumID", "LongInteger"},
	[LF_SIZE] = {"#Size", "LongInteger"},
};

const char *
edrm_tag_name(enum loadfile_col c)
{
	return (unsigned)c < LF__COUNT ? tags[c].name : NULL;
}

/* utf8_len - the length of the valid UTF-8 sequence at p (1 to 4) and its code point in *cp,
 * or 0 when p does not start one (a stray continuation byte, a truncated or overlong sequence,
 * a surrogate, a value past U+10FFFF). */
static size_t
utf8_len(const unsigned char *p, unsigned *cp)
{
	static const unsigned min[5] = {0, 0, 0x80, 0x800, 0x10000};
	size_t n = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc0 ? 2 : 0;

	if (p[0] < 0x80)
		return *cp = p[0], 1;
	if (n == 0 || p[0] >= 0xf8)
		return 0;
	*cp = p[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0; /* also stops at the NUL */
		*cp = (*cp << 6) | (p[i] & 0x3f);
	}
	if (*cp < min[n] || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return n;
}

/* ascii_escape - the text of ASCII byte c: an entity, a character reference, nothing (a
 * control XML 1.0 forbids), or NULL for the byte itself. */
static const char *
ascii_escape(unsigned char c)
{
	switch (c) {
	case '&': return "&amp;";
	case '<': return "&lt;";
	case '>': return "&gt;";
	case '"': return "&quot;";
	case '\'': return "&apos;";
	case '\t': return "&#9;";
	case '\n': return "&#10;";
	case '\r': return "&#13;";
	default: return c < 0x20 ? "" : NULL;
	}
}

void
edrm_escape(struct buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	unsigned cp;

	while (*p) {
		size_t n = utf8_len(p, &cp);
		const char *e;

		if (n == 0) {
			buf_append_str(out, UTF8_REPLACEMENT);
			n = 1;
		} else if (n == 1 && (e = ascii_escape(*p)) != NULL) {
			buf_append_str(out, e);
		} else if (cp != 0xfffe && cp != 0xffff) {
			buf_append(out, p, n);
		}
		p += n;
	}
}

/* attr - ` name="value"` with value escaped. */
static void
attr(struct buf *out, const char *name, const char *value)
{
	buf_appendf(out, " %s=\"", name);
	edrm_escape(out, value);
	buf_append_str(out, "\"");
}

static void
tag(struct buf *out, const char *name, const char *type, const char *value)
{
	buf_append_str(out, IND5 "<Tag");
	attr(out, "TagName", name);
	attr(out, "TagDataType", type);
	attr(out, "TagValue", value);
	buf_append_str(out, "/>\n");
}

static void
doc_tags(struct buf *out, const char *const *fields, unsigned omit)
{
	const char *att = fields[LF_ATTACHMENTNAMES];

	buf_append_str(out, IND4 "<Tags>\n");
	for (int i = 0; i < LF__COUNT; i++) {
		const char *v = fields[i] ? fields[i] : "";

		if ((omit & LOADFILE_OMIT(i)) || (*v == '\0' && strcmp(tags[i].type, "Text") != 0))
			continue;
		tag(out, tags[i].name, tags[i].type, v);
	}
	tag(out, "#HasAttachments", "Boolean", att && *att ? "true" : "false");
	buf_append_str(out, IND4 "</Tags>\n");
}

static void
doc_files(struct buf *out, const struct edrm_native *f)
{
	char size[24];

	snprintf(size, sizeof(size), "%llu", (unsigned long long)f->size);
	buf_append_str(out, IND4 "<Files>\n" IND5 "<File FileType=\"Native\">\n" IND6 "<ExternalFile");
	attr(out, "FilePath", f->dir);
	attr(out, "FileName", f->name);
	attr(out, "FileSize", size);
	attr(out, "Hash", f->sha256);
	attr(out, "HashType", "SHA256");
	buf_append_str(out, "/>\n" IND5 "</File>\n" IND4 "</Files>\n");
}

/* doc_locations - one Location per name of custodians ("a;b"); nothing when there is none. */
static void
doc_locations(struct buf *out, const char *custodians)
{
	const char *p = custodians ? custodians : "";
	struct buf name = {0};

	if (*p == '\0')
		return;
	buf_append_str(out, IND4 "<Locations>\n");
	while (*p) {
		size_t len = strcspn(p, ";");

		buf_reset(&name);
		buf_append(&name, p, len);
		buf_append_str(out, IND5 "<Location>\n" IND6 "<Custodian>");
		edrm_escape(out, (const char *)name.data);
		buf_append_str(out, "</Custodian>\n" IND5 "</Location>\n");
		p += len + (p[len] == ';');
	}
	buf_append_str(out, IND4 "</Locations>\n");
	buf_free(&name);
}

void
edrm_document(struct buf *out, const char *const *fields, unsigned omit,
	      const struct edrm_native *native)
{
	buf_append_str(out, IND3 "<Document");
	attr(out, "DocID", fields[LF_BEGDOC]);
	buf_append_str(out, " DocType=\"Message\" MimeType=\"message/rfc822\">\n");
	doc_tags(out, fields, omit);
	if (native)
		doc_files(out, native);
	doc_locations(out, fields[LF_CUSTODIAN]);
	buf_append_str(out, IND3 "</Document>\n");
}

void
edrm_start(struct buf *out, const char *description)
{
	buf_append_str(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			    "<Root MajorVersion=\"1\" MinorVersion=\"2\"");
	attr(out, "Description", description);
	buf_append_str(out, " Locale=\"US\" DataInterchangeType=\"Update\">\n" IND1 "<Batch>\n" IND2
			    "<Documents>\n");
}

void
edrm_end(struct buf *out)
{
	buf_append_str(out, IND2 "</Documents>\n" IND1 "</Batch>\n</Root>\n");
}
