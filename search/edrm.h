/* edrm - the EDRM XML 1.2 load file of an export (data/loadfile.xml): one Document per row of
 * the DAT, with the DAT's columns as Tags, the exported native as Files/File/ExternalFile and
 * the message's custodians as Locations. Owns: the element and tag names, XML escaping.
 * Pure: no I/O, so the text is tested on its own. Not: what goes in the fields (export), the
 * DAT and CSV (loadfile). */
#ifndef VL_EDRM_H
#define VL_EDRM_H

#include <stdint.h>

#include "buf.h"
#include "loadfile.h"

/* The exported file of one document. An mbox export has none of its own (a message is part of
 * an mbox, whose hash is only known at the end): its Document has no Files element. */
struct edrm_native {
	const char *dir;    /* FilePath: its folder, relative to the export folder (as FILEPATH) */
	const char *name;   /* FileName */
	uint64_t size;	    /* FileSize, bytes */
	const char *sha256; /* Hash (HashType SHA256), 64 lower-case hex digits */
};

/* edrm_escape - s (UTF-8, NULL is empty) as XML 1.0 text and attribute content, appended to out:
 * & < > " ' as entities; tab, LF and CR as character references (an attribute value keeps them
 * then, instead of becoming spaces); the other C0 controls, U+FFFE and U+FFFF left out (XML 1.0
 * forbids them); a byte that is not part of valid UTF-8 written as U+FFFD. */
void edrm_escape(struct buf *out, const char *s);

/* edrm_start - the XML declaration and the opening Root, Batch and Documents; description
 * (escaped) is Root's Description. */
void edrm_start(struct buf *out, const char *description);

/* edrm_document - one Document for a row of LF__COUNT fields (the DAT's, NULL is empty): DocID
 * is BEGDOC, one Tag per column not in omit (LOADFILE_OMIT: a column left out of the DAT has no
 * Tag either), then #HasAttachments, then the native (may be NULL) and one Location per
 * custodian of the CUSTODIAN field (names separated by ';'). */
void edrm_document(struct buf *out, const char *const *fields, unsigned omit,
		   const struct edrm_native *native);

/* edrm_end - the closing Documents, Batch and Root. */
void edrm_end(struct buf *out);

/* edrm_tag_name - the TagName of column c ("#From", ...), or NULL for none. */
const char *edrm_tag_name(enum loadfile_col c);

#endif
