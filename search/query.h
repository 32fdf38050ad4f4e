/* query - an eDiscovery query ("from:jeff@enron.com subject:budget -draft after:2001-05-01")
 * compiled to a parameterized SQL condition over message_index AS mi.
 * Owns: the API, full text as tsquery literals, and the boolean tree as SQL. Every
 * user-derived value travels as a $N parameter, never inside the SQL text.
 * Not: the syntax (query_parse), the other fields' SQL (query_field), running it (caller). */
#ifndef VL_QUERY_H
#define VL_QUERY_H

#include <stdbool.h>

#include "vl_err.h"

#define QUERY_MAX_BYTES 4096 /* bytes of query text */
#define QUERY_MAX_TERMS 64   /* terms (field:value, words, phrases) in one query */
#define QUERY_MAX_DEPTH 32   /* nesting of parentheses and NOTs */
#define QUERY_MAX_PHRASE 32  /* lexemes in one word or phrase */
#define QUERY_NEAR_MAX 20    /* the largest n of NEAR/n */
#define QUERY_AGE_MAX_YEARS 1000 /* older_than:/newer_than: reach at most this far back */
#define QUERY_ERR_MAX VL_ERRLEN
#define QUERY_ERR_BCC "needs the bcc permission" /* in the error of a refused bcc: */

struct query_sql {
	char *where;   /* SQL boolean expression over alias mi, $first.. placeholders; owned */
	char **params; /* nparams text values for PQexecParams, in placeholder order; owned */
	int nparams;
	char **highlight; /* positive full-text terms as typed, lower-case (a prefix keeps its
			   * trailing '*'), without duplicates, for snippets; owned */
	int nhighlight;
	bool rechecks; /* a phrase, NEAR, prefix or field weight (subject:, body:): the GIN index
			* only finds candidates, and each one's tsvector is read to decide */
};

/* query_compile - compile query q into out. The placeholders are $first_param onwards, so the
 * caller can put its own parameters first. An empty query (only spaces) gives where "true".
 * On success the caller frees out with query_sql_free. On failure out is left empty and err
 * (QUERY_ERR_MAX bytes) says "position N: why", N the byte offset in q: VL_ERR_PARSE for
 * malformed queries, VL_ERR_LIMIT for a QUERY_MAX_* bound; VL_ERR_CONFIG (no position) for
 * a first_param out of range. */
enum vl_err query_compile(struct query_sql *out, const char *q, int first_param,
			  char *err) VL_MUST_CHECK;

/* query_compile_for - query_compile for a caller: with hide_bcc (a role without Bcc
 * visibility) bcc: is refused (VL_ERR_PARSE, "needs the bcc permission"), recipients:,
 * participants: and custodian: leave out the Bcc header and envelope recipients in the role
 * bcc, and the condition excludes journal reports (message_index.bcc_exposure, 0015), whose
 * body lists Bcc recipients and so could match free text through them. */
enum vl_err query_compile_for(struct query_sql *out, const char *q, int first_param,
			      bool hide_bcc, char *err) VL_MUST_CHECK;

/* query_compile_scope - compile q as query_compile does, but with every full-text term (words,
 * phrases, subject:, body:, NEAR) taken as unknown: where holds for every message that could
 * match q were all its text indexed, i.e. the conditions on the other fields (from:, dates,
 * has:attachment, hold:, custodian:...). The scope of the unindexed-items report. A term under
 * NOT is unknown too: "from:a -budget" is from:a, "-(from:a budget)" is true. A query of free
 * text only gives "true". No highlights. Errors as query_compile's (the same query is refused
 * the same way). */
enum vl_err query_compile_scope(struct query_sql *out, const char *q, int first_param,
				char *err) VL_MUST_CHECK;

/* query_compile_scope_for - query_compile_scope for a caller, hide_bcc as query_compile_for. */
enum vl_err query_compile_scope_for(struct query_sql *out, const char *q, int first_param,
				    bool hide_bcc, char *err) VL_MUST_CHECK;

/* query_sql_free - release everything out owns; the struct is empty after. NULL is a no-op. */
void query_sql_free(struct query_sql *s);

#endif
