/* xml_text - a bounded streaming reader of XML character data, driven by element rules: which
 * elements' text is written, which elements are skipped whole, which separators their ends write.
 * Owns: tags, entities, CDATA, comments, PIs, DOCTYPE, a UTF-16 BOM, the text sink and its max.
 * Not: which files or parts are read, nor the rules of a format (office_text has Office's and
 * ODF's); attribute values are never text.
 *
 * Why our own and not libxml2: libxml2 is not a dependency, and only character data is wanted.
 * A tag skipper with entity decoding is small, reads each byte once in a fixed amount of state
 * (no tree, no DTD, no entity expansion, so no billion laughs), and takes the entry in chunks as
 * zip_fread hands them over. */
#ifndef VL_XML_TEXT_H
#define VL_XML_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "vl_err.h"

/* What an element means to the text, by local name: the prefix is dropped, since Word writes
 * w:, Excel often none, PowerPoint a:, LibreOffice text: and table:, other writers their own. */
enum {
	XML_EL_TEXT = 1,	/* its character data is text */
	XML_EL_SKIP = 2,	/* nothing inside it is text */
	XML_EL_SKIP_SHARED = 4, /* skipped when its t attribute is "s": an Excel cell whose <v> is
				 * an index into sharedStrings (read there), not text */
	XML_EL_NL = 8,		/* a line break where it ends */
	XML_EL_TAB = 16,	/* a tab where it ends */
	XML_EL_SPACE = 32,	/* a space where it ends */
};

/* One row of a rule table, which ends in a row whose name is NULL. An element no row names is
 * markup only: its text is written when it is inside an XML_EL_TEXT element. */
struct xml_text_rule {
	const char *name; /* the local name, exactly */
	unsigned flags;	  /* XML_EL_* */
};

/* The caller's buffer, and how much of it is ours: one sink may take the text of several
 * readers in turn (the parts of one file). The caller sets b, start and max, full to 0. */
struct xml_text_out {
	struct buf *b;
	size_t start; /* b->len when the first reader began */
	size_t max;   /* bytes we may append */
	int full;     /* text past max was there and was dropped */
};

struct xml_text;

/* xml_text_new - a reader of one XML document (a part), whose text goes to out under rules;
 * both are borrowed and must outlive it. Owned by the caller: xml_text_free. Never fails. */
struct xml_text *xml_text_new(const struct xml_text_rule *rules, struct xml_text_out *out);

/* xml_text_feed - read the next n bytes at p of the document, in chunks of any size: a chunk
 * may end anywhere, even inside a character. Reads nothing more once out->full. */
void xml_text_feed(struct xml_text *x, const uint8_t *p, size_t n);

/* xml_text_finish - the end of the document: text still pending is written (an unfinished
 * character as U+FFFD, an unfinished entity as written), then a line break. */
void xml_text_finish(struct xml_text *x);

/* xml_text_verdict - after xml_text_finish, VL_ERR_PARSE when the document named part ended
 * inside markup (a tag, comment, CDATA section, PI or declaration) or inside an element it
 * skipped (XML_EL_SKIP, XML_EL_SKIP_SHARED): either hid what followed its start; err (may be
 * NULL) says which, naming part. VL_OK,
 * err untouched, when it ended in character data, as a well-formed one does. */
enum vl_err xml_text_verdict(const struct xml_text *x, const char *part, char *err) VL_MUST_CHECK;

/* xml_text_free - release x; NULL is a no-op. */
void xml_text_free(struct xml_text *x);

#endif
