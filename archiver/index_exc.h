/* index_exc - what of a message the full-text index lacks, and why: the rows of the "unindexed
 * items" report (schema/0014_index_exceptions.sql).
 * Owns: the fixed set of reasons and their names, and a bounded list of exceptions per message.
 * Not: finding them (mime_extract, indexer), storing them (indexer), reporting them
 * (search/unindexed). */
#ifndef VL_INDEX_EXC_H
#define VL_INDEX_EXC_H

#include <stddef.h>

#define INDEX_EXC_MAX 32	/* exceptions kept per message; later ones set `more` */
#define INDEX_EXC_PART_MAX 64	/* bytes of a MIME part path ("1.2.3"), NUL included */
#define INDEX_EXC_DETAIL_MAX 200 /* bytes of a detail, NUL excluded (the table's CHECK) */
#define INDEX_EXC_TYPE_MAX 255	/* bytes of a content type kept */

/* The reasons, as the table's CHECK spells them (index_exc_reason_name). */
enum index_exc_reason {
	INDEX_EXC_ENCRYPTED,	    /* S/MIME enveloped, PGP/MIME or inline PGP, encrypted ZIP */
	INDEX_EXC_UNSUPPORTED_TYPE, /* an attachment whose text is not extracted */
	INDEX_EXC_TRUNCATED,	    /* text cut at a size bound: the rest is not indexed */
	INDEX_EXC_DECODE_ERROR,	    /* charset or transfer encoding unknown or invalid */
	INDEX_EXC_UNPARSED,	    /* GMime could not parse it, or it could not be read */
	INDEX_EXC_NREASONS
};

/* One exception. Strings are printable ASCII or valid UTF-8 without NUL. */
struct index_exc {
	enum index_exc_reason reason;
	char part[INDEX_EXC_PART_MAX]; /* MIME part number ("1", "2.1"); "" for the message */
	char *filename;		       /* the part's file name, owned; NULL when none */
	char *content_type;	       /* "type/subtype", owned; NULL for the whole message */
	char detail[INDEX_EXC_DETAIL_MAX + 1];
};

struct index_exc_list {
	struct index_exc *v;
	size_t n;
	int more; /* exceptions past INDEX_EXC_MAX were dropped */
};

/* index_exc_add - append one exception to l (filename and type copied; either may be NULL).
 * The detail is formatted, cut to INDEX_EXC_DETAIL_MAX and every byte that is not printable
 * ASCII made '?'. Past INDEX_EXC_MAX only l->more is set. */
void index_exc_add(struct index_exc_list *l, enum index_exc_reason r, const char *part,
		   const char *filename, const char *type, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* index_exc_has - whether l holds an exception of reason r. */
int index_exc_has(const struct index_exc_list *l, enum index_exc_reason r);

/* index_exc_reason_name - "encrypted", "unsupported_type", "truncated", "decode_error",
 * "unparsed"; "?" out of range. */
const char *index_exc_reason_name(enum index_exc_reason r);

/* index_exc_list_free - release what l owns and zero it; a zeroed l is a no-op. */
void index_exc_list_free(struct index_exc_list *l);

#endif
