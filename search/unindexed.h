/* unindexed - the "unindexed items" report that accompanies every search and export: the
 * messages in a query's scope (query_compile_scope: its conditions but full text) whose index
 * lacks something (index_exceptions, schema/0014_index_exceptions.sql), counted by reason,
 * listed by keyset pages, and walked row by row for an export's unindexed.csv.
 * Owns: the SQL over index_exceptions, the summary's bound and JSON form.
 * Not: what is recorded (mime_extract, indexer), output files (export), HTTP (api). */
#ifndef VL_UNINDEXED_H
#define VL_UNINDEXED_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "index_exc.h"
#include "search.h"
#include "vl_err.h"

#define UNINDEXED_LIST_MAX 1000 /* messages per listing page (rows: INDEX_EXC_MAX times more) */
#define UNINDEXED_CURSOR_MAX 24 /* bytes of a listing cursor (a message id), NUL included */

/* How many messages of a scope the index lacks something of. */
struct unindexed_summary {
	int64_t messages; /* exact up to SEARCH_COUNT_EXACT_MAX, then the planner's estimate */
	int estimated;
	int64_t by_reason[INDEX_EXC_NREASONS]; /* messages with an exception of each reason,
						* among those counted (the first
						* SEARCH_COUNT_EXACT_MAX + 1 when estimated) */
};

/* unindexed_summary_get - the summary of query's scope, for a caller without Bcc visibility
 * (hide_bcc) that scope as query_compile_scope_for gives it. VL_ERR_PARSE (and VL_ERR_LIMIT) for a
 * query search refuses, with "query: ..." in err; VL_ERR_DB. Not audited: it returns counts,
 * and accompanies a search that is. */
enum vl_err unindexed_summary_get(PGconn *c, const char *query, bool hide_bcc,
				  struct unindexed_summary *out, char *err) VL_MUST_CHECK;

/* unindexed_summary_json - {"messages", "estimated", "reasons": {"encrypted": n, ...}} with
 * every reason present (0 when none); a new reference. */
json_t *unindexed_summary_json(const struct unindexed_summary *s);

/* One exception of one message in the scope, as a walk hands it over. Strings are borrowed
 * (valid during the callback); NULL when the column is. */
struct unindexed_row {
	int64_t id;
	const char *sha256;  /* hex: the evidence hash */
	const char *sent;    /* "2001-05-14T23:39:00Z" */
	const char *from, *subject;
	int matched;	     /* the message matches the query too (on what was indexed) */
	const char *part, *filename, *content_type, *reason, *detail;
};

/* unindexed_row_fn - called once per exception, in message id then part order; non-VL_OK
 * stops the walk and is returned. */
typedef enum vl_err (*unindexed_row_fn)(void *arg, const struct unindexed_row *r, char *err);

/* unindexed_walk - the exceptions of the first max_messages messages of query's scope (and,
 * with ids, an int8[] literal "{1,2}", of those ids only) with ids after *after (0: from the
 * start), to fn; hide_bcc as unindexed_summary_get's. *after becomes the last message's id; *n how many messages were walked (fewer than max_messages:
 * the last page). Errors as unindexed_summary_get, VL_ERR_CONFIG for max_messages out of
 * 1..UNINDEXED_LIST_MAX, or fn's. */
enum vl_err unindexed_walk(PGconn *c, const char *query, bool hide_bcc, const char *ids,
			   size_t max_messages, int64_t *after, size_t *n, unindexed_row_fn fn,
			   void *arg, char *err) VL_MUST_CHECK;

#endif
