/* loadfile - Concordance DAT and CSV rows; see loadfile.h for the conventions. */
#include <string.h>

#include "loadfile.h"

#define DAT_SEP "\x14"		/* U+0014, ASCII 020 */
#define DAT_QUOTE "\xc3\xbe"	/* U+00FE þ */
#define DAT_NEWLINE "\xc2\xae"	/* U+00AE ® */
#define UTF8_BOM "\xef\xbb\xbf"

static const char *const names[LF__COUNT] = {
	[LF_BEGDOC] = "BEGDOC",
	[LF_ENDDOC] = "ENDDOC",
	[LF_CUSTODIAN] = "CUSTODIAN",
	[LF_FROM] = "FROM",
	[LF_TO] = "TO",
	[LF_CC] = "CC",
	[LF_BCC] = "BCC",
	[LF_SUBJECT] = "SUBJECT",
	[LF_DATESENT] = "DATESENT",
	[LF_DATERECEIVED] = "DATERECEIVED",
	[LF_MESSAGEID] = "MESSAGEID",
	[LF_ATTACHMENTNAMES] = "ATTACHMENT NAMES",
	[LF_SHA256] = "SHA256",
	[LF_FILEPATH] = "FILEPATH",
	[LF_VELLUMID] = "VELLUMID",
	[LF_SIZE] = "SIZE",
};

const char *
loadfile_col_name(enum loadfile_col c)
{
	return (unsigned)c < LF__COUNT ? names[c] : "?";
}

/* dat_field - s between þ, CR LF / LF / CR as ®, þ and U+0014 as a space. */
static void
dat_field(struct buf *out, const char *s)
{
	buf_append_str(out, DAT_QUOTE);
	for (const char *p = s ? s : ""; *p; p++) {
		if (p[0] == '\r' && p[1] == '\n')
			continue; /* the \n that follows writes the ® */
		if (*p == '\r' || *p == '\n')
			buf_append_str(out, DAT_NEWLINE);
		else if (*p == '\x14')
			buf_append_str(out, " ");
		else if (strncmp(p, DAT_QUOTE, 2) == 0) {
			buf_append_str(out, " ");
			p++;
		} else
			buf_append(out, p, 1);
	}
	buf_append_str(out, DAT_QUOTE);
}

/* csv_field - s in double quotes, each quote doubled. */
static void
csv_field(struct buf *out, const char *s)
{
	buf_append_str(out, "\"");
	for (const char *p = s ? s : ""; *p; p++) {
		if (*p == '"')
			buf_append_str(out, "\"\"");
		else
			buf_append(out, p, 1);
	}
	buf_append_str(out, "\"");
}

void
loadfile_row_omit(struct buf *out, enum loadfile_kind kind, const char *const *fields,
		  unsigned omit)
{
	int first = 1;

	for (int i = 0; i < LF__COUNT; i++) {
		if (omit & LOADFILE_OMIT(i))
			continue;
		if (!first)
			buf_append_str(out, kind == LOADFILE_DAT ? DAT_SEP : ",");
		first = 0;
		if (kind == LOADFILE_DAT)
			dat_field(out, fields[i]);
		else
			csv_field(out, fields[i]);
	}
	buf_append_str(out, "\r\n");
}

void
loadfile_csv_row(struct buf *out, const char *const *fields, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		buf_append_str(out, i ? "," : "");
		csv_field(out, fields[i]);
	}
	buf_append_str(out, "\r\n");
}

void
loadfile_row(struct buf *out, enum loadfile_kind kind, const char *const *fields)
{
	loadfile_row_omit(out, kind, fields, 0);
}

void
loadfile_start_omit(struct buf *out, enum loadfile_kind kind, unsigned omit)
{
	if (kind == LOADFILE_DAT)
		buf_append_str(out, UTF8_BOM);
	loadfile_row_omit(out, kind, names, omit);
}

void
loadfile_start(struct buf *out, enum loadfile_kind kind)
{
	loadfile_start_omit(out, kind, 0);
}
