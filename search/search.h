/* search - run an eDiscovery query against the index: one page of hits, newest first by sent
 * date, with keyset paging, snippets and a total that is exact up to a bound.
 * Owns: the SELECTs around a compiled query (query.c makes the WHERE), cursors, snippets, the
 * audit row of each search. Not: parsing (query), output formats (callers), HTTP (api). */
#ifndef VL_SEARCH_H
#define VL_SEARCH_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vault.h"
#include "vl_err.h"

#define SEARCH_LIMIT_MAX 1000	     /* hits per page */
#define SEARCH_LIMIT_DFLT 50
#define SEARCH_COUNT_EXACT_MAX 1000  /* counted exactly up to here, estimated above: each
				      * counted match is a heap read (~25 us here) */
#define SEARCH_CURSOR_MAX 48	     /* bytes of a cursor, NUL included */
#define SEARCH_WALK_MS 100	     /* a page's walk down the date index, before the page is
				      * fetched by the full-text index and sorted (search.c) */
#define SEARCH_BITMAP_ROWS 20000     /* a page whose query PostgreSQL expects to match at most
				      * this many rows is fetched by its GIN bitmap first (~2.5 us
				      * a row here: 50 ms), not by walking the date index */
#define SEARCH_RECHECK_ROWS 5000     /* the same when each candidate's tsvector is read too
				      * (~25 us a row here: 125 ms; a word outside the most
				      * common ones is estimated at 0.5% of the rows) */
#define SEARCH_SNIPPET_MAX 240	     /* bytes of a snippet's text around the first match */

/* One hit. Strings are UTF-8, owned by the page; NULL when the message has no such header. */
struct search_hit {
	int64_t id;	     /* messages.id: `vellum cat ID` */
	int64_t sent_us;     /* Date: (or received time when it has none), unix microseconds */
	int64_t received_us; /* when Vellum first received it */
	int64_t size;	     /* bytes of the original message */
	char *from, *to, *subject, *message_id;
	char **attachments; /* file names, nattachments of them */
	size_t nattachments;
	char *snippet; /* text around the first match, matches between « and »; "" for none */
};

struct search_page {
	struct search_hit *hits;
	size_t n;
	char next[SEARCH_CURSOR_MAX]; /* pass as after_cursor for the next page; "" on the last */
	int stale_vault; /* the vault lacked a key or dictionary (rotated, trained since it was
			  * opened): snippets stopped there; open it again for the next page */
};

struct search_total {
	int64_t n;
	int estimated; /* more than SEARCH_COUNT_EXACT_MAX matched: n is the planner's estimate */
};

/* Who asks, for the audit trail: every search is an access to evidence (snippets are text). */
struct search_who {
	const char *actor;  /* "cli:alice", "token:name" */
	const char *client; /* client address, or NULL */
	bool hide_bcc;	    /* a role without Bcc visibility (query_compile_for); 0: the CLI */
};

/* search_page_get - the page of at most limit (1..SEARCH_LIMIT_MAX) hits for query after
 * after_cursor (NULL or "" for the first page), and one audit row "search" naming the query
 * and how many hits were returned. Snippets are cut from the hits' messages read through v
 * (snippet.h, bounded a page); with v NULL every snippet is "". VL_ERR_PARSE with where and
 * why for a malformed query, VL_ERR_CONFIG for a bad limit or cursor, VL_ERR_DB. The caller
 * frees *out with search_page_free whatever the result. */
enum vl_err search_page_get(PGconn *c, struct vault *v, const struct search_who *who,
			    const char *query, size_t limit, const char *after_cursor,
			    struct search_page *out, char *err) VL_MUST_CHECK;

/* search_total_get - how many messages match query: with exact, every match counted (a broad
 * query on a large archive takes seconds: for reports that need the number); else exact up to
 * SEARCH_COUNT_EXACT_MAX and PostgreSQL's estimate above, marked estimated. Audited as
 * "search.count". Errors as search_page_get. */
enum vl_err search_total_get(PGconn *c, const struct search_who *who, const char *query,
			     int exact, struct search_total *out, char *err) VL_MUST_CHECK;

void search_page_free(struct search_page *p);

/* search_audit - the row every search leaves (action "search", "search.count",
 * "search.unindexed"): the query text, the cursor it continued from (NULL for none) and how
 * many it returned. VL_ERR_DB. */
enum vl_err search_audit(PGconn *c, const struct search_who *who, const char *action,
			 const char *query, const char *cursor, int64_t result, char *err)
	VL_MUST_CHECK;

/* search_estimate_rows - the planner's estimate of the rows of "SELECT 1 FROM message_index mi
 * WHERE (where)" with the n parameters vals, from EXPLAIN. For counts past a bound. VL_ERR_DB. */
enum vl_err search_estimate_rows(PGconn *c, const char *where, const char *const *vals, int n,
				 int64_t *rows, char *err) VL_MUST_CHECK;

/* search_snippet - append to a NUL-terminated snippet of at most SEARCH_SNIPPET_MAX bytes of
 * text (plus the marks) around the first case-insensitive occurrence of any of the n terms,
 * marked « », whitespace collapsed; the start of text when none occurs (*matched 0, else 1;
 * matched may be NULL). Valid UTF-8 in, valid UTF-8 out (cuts fall on character boundaries).
 * Exposed for tests. */
char *search_snippet_dup(const char *text, size_t len, char *const *terms, int n, int *matched);

#endif
