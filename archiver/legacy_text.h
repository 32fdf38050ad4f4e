/* legacy_text - the text of a legacy binary Office file (.doc Word 97-2003, .xls Excel 97-2003,
 * .ppt PowerPoint 97-2003), extracted by Debian's catdoc package (catdoc, xls2csv, catppt) in a
 * bounded child (child_text), as pdf_text does with pdftotext.
 * Owns: telling such a file, the OLE2 check, each program's arguments and what its exit codes
 * and messages mean. Not: running the child (child_text), OOXML/ODF (office_text), MIME. */
#ifndef VL_LEGACY_TEXT_H
#define VL_LEGACY_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "vl_err.h"

/* Where the programs are: absolute, never through PATH (Debian 12's catdoc 0.95 puts them
 * there); a build may define others. */
#ifndef LEGACY_DOC_PROG
#define LEGACY_DOC_PROG "/usr/bin/catdoc"
#endif
#ifndef LEGACY_XLS_PROG
#define LEGACY_XLS_PROG "/usr/bin/xls2csv"
#endif
#ifndef LEGACY_PPT_PROG
#define LEGACY_PPT_PROG "/usr/bin/catppt"
#endif
#define LEGACY_INPUT_MAX (64u << 20)  /* bytes of a file read; more is VL_ERR_LIMIT, no child:
				       * as PDF_INPUT_MAX (and it sits in a memfd meanwhile) */
#define LEGACY_WALL_MS 30000u	      /* wall-clock ms before the child is killed: as PDF's */
#define LEGACY_CPU_S 20u	      /* RLIMIT_CPU of the child: as PDF_CPU_S */
#define LEGACY_AS_BYTES (512u << 20)  /* RLIMIT_AS of the child: as PDF_AS_BYTES */
#define LEGACY_TEXT_MAX (64u << 20)   /* ceiling on max: raw output held before it is cleaned */

enum legacy_kind { LEGACY_NONE = 0, LEGACY_DOC, LEGACY_XLS, LEGACY_PPT };

/* legacy_limits - what legacy_text_with runs and how far (legacy_text: the defaults). */
struct legacy_limits {
	const char *prog; /* absolute path of catdoc, xls2csv or catppt, as the kind wants */
	unsigned wall_ms; /* LEGACY_WALL_MS */
	unsigned cpu_s;	  /* LEGACY_CPU_S */
	size_t as_bytes;  /* LEGACY_AS_BYTES */
};

/* legacy_kind_of - the kind of an attachment by its lower-case content type (no parameters;
 * may be NULL) or else its file name (may be NULL; case-insensitive): application/msword,
 * .doc .dot; application/vnd.ms-excel (and application/x-msexcel, application/x-excel), .xls
 * .xlt; application/vnd.ms-powerpoint (and application/mspowerpoint), .ppt .pps .pot. A type
 * wins over the name. LEGACY_NONE otherwise. */
enum legacy_kind legacy_kind_of(const char *content_type, const char *filename);

/* legacy_text - append the text of the file (len bytes at p) of kind k to out, at most max
 * bytes (at most LEGACY_TEXT_MAX), cut between UTF-8 characters; *truncated set when more text
 * was there, else cleared. Text: catdoc's paragraphs unwrapped (-w), xls2csv's cells as CSV
 * with each sheet ending in a newline, catppt's slide texts (the title and body placeholders;
 * XXX: catppt 0.95 does not read text boxes inside slide drawings, which is where LibreOffice
 * writes all of a slide's text). Valid UTF-8 without NUL, controls but \n and \t as spaces.
 * Errors (out as it was, err (VL_ERRLEN, may be NULL) says why): VL_ERR_CRYPTO when the file
 * is password-protected: an OLE2 file that holds the UTF-16 stream name "EncryptedPackage" (an
 * encrypted OOXML file sent as .doc/.xls/.ppt: nothing run), a .ppt whose root storage holds
 * the stream EncryptedSummary (ole2_ppt_encrypted: nothing run; catppt says nothing of it),
 * or catdoc or xls2csv says so ("File is encrypted" on stderr); VL_ERR_PARSE when the bytes
 * are no OLE2 compound file (nothing run: "not an OLE2 file"), or the program says it cannot
 * read the OLE2 structure (they exit 0 then), exits non-zero or dies of a signal (err holds
 * its stderr's last line); VL_ERR_LIMIT when len is over LEGACY_INPUT_MAX (nothing run) or a
 * time or memory bound stopped the child; VL_ERR_CONFIG when the program is not installed
 * (install catdoc); VL_ERR_INTERNAL for LEGACY_NONE; VL_ERR_IO when this machine could not
 * run it just now (no memfd, pipe, process or memory): no verdict on the file, as with
 * pdf_text.
 * Why the file is in a memfd and not on a pipe: all three programs seek, and copy a pipe into
 * a temporary file in /tmp first (O_TMPFILE, mode 0600): decrypted evidence on disk, and
 * RLIMIT_FSIZE 0 would stop them. xls2csv and catppt take no "-" for stdin (and xls2csv
 * crashes with no file name), so they are given /dev/stdin, which opens the same memfd.
 * Safe from several threads at once (child_text). */
enum vl_err legacy_text(enum legacy_kind k, const uint8_t *p, size_t len, struct buf *out,
			size_t max, int *truncated, char *err) VL_MUST_CHECK;

/* legacy_text_with - legacy_text under the given limits (tests: a missing program). */
enum vl_err legacy_text_with(const struct legacy_limits *lim, enum legacy_kind k,
			     const uint8_t *p, size_t len, struct buf *out, size_t max,
			     int *truncated, char *err) VL_MUST_CHECK;

#endif
