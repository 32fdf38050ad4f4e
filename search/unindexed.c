/* unindexed - the unindexed-items report (see unindexed.h).
 *
 * The scope is query_compile_scope's WHERE over message_index AS mi; a message is in the report
 * when it has an index_exceptions row. A count stops one past SEARCH_COUNT_EXACT_MAX, as
 * search totals do, and the planner's estimate stands above. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "db.h"
#include "query.h"
#include "unindexed.h"

#define HAS_EXC "EXISTS (SELECT 1 FROM index_exceptions x WHERE x.message_id = mi.message_id)"
#define WALK_PARAMS 2 /* $1 the page size, $2 the last message id of the page before */

/* The messages counted (at most the bound), then, of those, how many have each reason. */
static const char summary_sql[] =
	"WITH s AS MATERIALIZED (SELECT mi.message_id FROM message_index mi WHERE (%s)"
	" AND " HAS_EXC " LIMIT %d)"
	" SELECT (SELECT count(*) FROM s), x.reason, count(DISTINCT x.message_id)"
	" FROM s JOIN index_exceptions x ON x.message_id = s.message_id GROUP BY x.reason";

/* A page of messages by id from message_index alone, then their exceptions and headers.
 * matched: the query itself (its placeholders first), the scope's after it. */
static const char walk_sql[] =
	"WITH page AS MATERIALIZED (SELECT mi.message_id, mi.received_at, mi.sent_at,"
	" (%s) AS matched FROM message_index mi WHERE (%s) AND %s " HAS_EXC
	" AND mi.message_id > $2::int8 ORDER BY mi.message_id LIMIT $1::int8)"
	" SELECT p.message_id, encode(m.sha256, 'hex'),"
	" to_char(p.sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), m.hdr_from,"
	" m.hdr_subject, p.matched, x.part, x.filename, x.content_type, x.reason, x.detail"
	" FROM page p JOIN messages m ON m.id = p.message_id AND m.received_at = p.received_at"
	" JOIN index_exceptions x ON x.message_id = p.message_id ORDER BY p.message_id, x.position";
enum { W_ID, W_SHA, W_SENT, W_FROM, W_SUBJECT, W_MATCHED, W_PART, W_FILE, W_TYPE, W_REASON,
       W_DETAIL };

/* compile_two - q as itself from $first and as its scope after it, with every parameter in
 * *vals (n of them, the first `first - 1` left for the caller; *vals freed by the caller). */
static enum vl_err
compile_two(const char *q, bool hide_bcc, int first, struct query_sql *full,
	    struct query_sql *scope, const char ***vals, int *n, char *err)
{
	char qerr[VL_ERRLEN];
	enum vl_err rc;

	memset(scope, 0, sizeof(*scope));
	if ((rc = query_compile_for(full, q ? q : "", first, hide_bcc, qerr)) != VL_OK ||
	    (rc = query_compile_scope_for(scope, q ? q : "", first + full->nparams, hide_bcc,
					  qerr)) != VL_OK)
		return vl_err_set(err, rc, "query: %s", qerr);
	*n = first - 1 + full->nparams + scope->nparams;
	*vals = xcalloc((size_t)*n + 1, sizeof(**vals));
	for (int i = 0; i < full->nparams; i++)
		(*vals)[first - 1 + i] = full->params[i];
	for (int i = 0; i < scope->nparams; i++)
		(*vals)[first - 1 + full->nparams + i] = scope->params[i];
	return VL_OK;
}

static enum index_exc_reason
reason_of(const char *name)
{
	for (int r = 0; r < INDEX_EXC_NREASONS; r++)
		if (strcmp(index_exc_reason_name((enum index_exc_reason)r), name) == 0)
			return (enum index_exc_reason)r;
	return INDEX_EXC_NREASONS;
}

/* summary_estimate - past the bound: the planner's estimate of the scope's messages. */
static enum vl_err
summary_estimate(PGconn *c, const struct query_sql *s, struct unindexed_summary *out, char *err)
{
	char *where = xasprintf("(%s) AND " HAS_EXC, s->where);
	int64_t est = 0;
	enum vl_err rc;

	rc = search_estimate_rows(c, where, (const char *const *)s->params, s->nparams, &est, err);
	free(where);
	if (rc == VL_OK) {
		out->messages = est > out->messages ? est : out->messages;
		out->estimated = 1;
	}
	return rc;
}

enum vl_err
unindexed_summary_get(PGconn *c, const char *query, bool hide_bcc, struct unindexed_summary *out,
		      char *err)
{
	struct query_sql s;
	char qerr[VL_ERRLEN], *sql;
	PGresult *r = NULL;
	enum vl_err rc;

	memset(out, 0, sizeof(*out));
	if ((rc = query_compile_scope_for(&s, query ? query : "", 1, hide_bcc, qerr)) != VL_OK)
		return vl_err_set(err, rc, "query: %s", qerr);
	sql = xasprintf(summary_sql, s.where, SEARCH_COUNT_EXACT_MAX + 1);
	rc = db_query(c, sql, s.nparams, (const char *const *)s.params, &r, err);
	free(sql);
	for (int i = 0; rc == VL_OK && i < PQntuples(r); i++) {
		enum index_exc_reason k = reason_of(PQgetvalue(r, i, 1));

		out->messages = strtoll(PQgetvalue(r, i, 0), NULL, 10);
		if (k < INDEX_EXC_NREASONS)
			out->by_reason[k] = strtoll(PQgetvalue(r, i, 2), NULL, 10);
	}
	if (rc == VL_OK && out->messages > SEARCH_COUNT_EXACT_MAX)
		rc = summary_estimate(c, &s, out, err);
	PQclear(r);
	query_sql_free(&s);
	return rc;
}

json_t *
unindexed_summary_json(const struct unindexed_summary *s)
{
	json_t *reasons = json_object();

	for (int r = 0; r < INDEX_EXC_NREASONS; r++)
		json_object_set_new(reasons, index_exc_reason_name((enum index_exc_reason)r),
				    json_integer((json_int_t)s->by_reason[r]));
	return json_pack("{s:I, s:b, s:o}", "messages", (json_int_t)s->messages, "estimated",
			 s->estimated, "reasons", reasons);
}

static const char *
val(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

/* walk_rows - each row of r to fn; *after and *n follow the messages. */
static enum vl_err
walk_rows(const PGresult *r, int64_t *after, size_t *n, unindexed_row_fn fn, void *arg,
	  char *err)
{
	enum vl_err rc = VL_OK;

	for (int i = 0; rc == VL_OK && i < PQntuples(r); i++) {
		struct unindexed_row u = {
			.id = strtoll(PQgetvalue(r, i, W_ID), NULL, 10),
			.sha256 = val(r, i, W_SHA), .sent = val(r, i, W_SENT),
			.from = val(r, i, W_FROM), .subject = val(r, i, W_SUBJECT),
			.matched = strcmp(PQgetvalue(r, i, W_MATCHED), "t") == 0,
			.part = val(r, i, W_PART), .filename = val(r, i, W_FILE),
			.content_type = val(r, i, W_TYPE), .reason = val(r, i, W_REASON),
			.detail = val(r, i, W_DETAIL)};

		if (u.id != *after || *n == 0)
			(*n)++;
		*after = u.id;
		rc = fn(arg, &u, err);
	}
	return rc;
}

enum vl_err
unindexed_walk(PGconn *c, const char *query, bool hide_bcc, const char *ids, size_t max_messages,
	       int64_t *after, size_t *n, unindexed_row_fn fn, void *arg, char *err)
{
	struct query_sql full = {0}, scope = {0};
	char lim[24], last[24], *idcond = NULL, *sql = NULL;
	const char **vals = NULL;
	PGresult *r = NULL;
	enum vl_err rc;
	int nv = 0;

	*n = 0;
	if (max_messages < 1 || max_messages > UNINDEXED_LIST_MAX)
		return vl_err_set(err, VL_ERR_CONFIG, "limit: 1 to %d messages a page",
				  UNINDEXED_LIST_MAX);
	if ((rc = compile_two(query, hide_bcc, WALK_PARAMS + 1, &full, &scope, &vals, &nv, err)) != VL_OK)
		goto out;
	if (ids) {
		vals[nv++] = ids; /* compile_two left room for one more */
		idcond = xasprintf("mi.message_id = ANY ($%d::int8[]) AND", nv);
	}
	snprintf(lim, sizeof(lim), "%zu", max_messages);
	snprintf(last, sizeof(last), "%" PRId64, *after);
	vals[0] = lim;
	vals[1] = last;
	sql = xasprintf(walk_sql, full.where, scope.where, idcond ? idcond : "");
	if ((rc = db_query(c, sql, nv, vals, &r, err)) == VL_OK)
		rc = walk_rows(r, after, n, fn, arg, err);
out:
	PQclear(r);
	free(sql);
	free(idcond);
	free(vals);
	query_sql_free(&full);
	query_sql_free(&scope);
	return rc;
}
