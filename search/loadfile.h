/* loadfile - the rows of an eDiscovery load file: Concordance DAT and RFC 4180 CSV.
 * Owns: the field list and how one field and one row are quoted in each format. Pure: no I/O,
 * so the quoting is tested on its own. Not: what goes in the fields (export).
 *
 * DAT: the Concordance defaults, written as UTF-8 (with a byte-order mark at the start of the
 * file): fields separated by U+0014 (ASCII 020, shown as ¶ in the Windows code page), each
 * enclosed in U+00FE (þ), a line break inside a field written as U+00AE (®), rows ended by
 * CRLF. The format has no escape for its own delimiters, so a þ or U+0014 inside a value is
 * written as a space: the value changes, the row stays parseable (documented in README).
 * CSV: every field in double quotes, a quote doubled, line breaks kept inside the quotes,
 * rows ended by CRLF. */
#ifndef VL_LOADFILE_H
#define VL_LOADFILE_H

#include <stddef.h>

#include "buf.h"

enum loadfile_kind { LOADFILE_DAT, LOADFILE_CSV };

/* The columns, in order. */
enum loadfile_col {
	LF_BEGDOC,
	LF_ENDDOC,
	LF_CUSTODIAN,
	LF_FROM,
	LF_TO,
	LF_CC,
	LF_BCC,
	LF_SUBJECT,
	LF_DATESENT,
	LF_DATERECEIVED,
	LF_MESSAGEID,
	LF_ATTACHMENTNAMES,
	LF_SHA256,
	LF_FILEPATH,
	LF_VELLUMID,
	LF_SIZE,
	LF__COUNT
};

/* loadfile_col_name - "BEGDOC", ..., "ATTACHMENT NAMES", ... */
const char *loadfile_col_name(enum loadfile_col c);

/* LOADFILE_OMIT(c) - the bit of column c in an omit mask: a column left out of the header and
 * of every row (BCC, for a caller without Bcc visibility: "absent", not empty). */
#define LOADFILE_OMIT(c) (1u << (c))

/* loadfile_start_omit / loadfile_row_omit - loadfile_start and loadfile_row without the columns
 * whose bits are set in omit. */
void loadfile_start_omit(struct buf *out, enum loadfile_kind kind, unsigned omit);
void loadfile_row_omit(struct buf *out, enum loadfile_kind kind, const char *const *fields,
		       unsigned omit);

/* loadfile_csv_row - one CSV row of n fields of any kind (NULL is empty), appended to out: the
 * export's other tables (its errors file) quoted as the load file is. */
void loadfile_csv_row(struct buf *out, const char *const *fields, size_t n);

/* loadfile_start - what a file of kind begins with (a BOM for DAT, nothing for CSV), then the
 * header row; appended to out. */
void loadfile_start(struct buf *out, enum loadfile_kind kind);

/* loadfile_row - one row of LF__COUNT fields (NULL is an empty field), appended to out. */
void loadfile_row(struct buf *out, enum loadfile_kind kind, const char *const *fields);

#endif
