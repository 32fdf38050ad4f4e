/* search - run an eDiscovery query against the index: pages, totals, snippets, audit.
 *
 * The WHERE clause comes from query_compile; for a page its placeholders start at $4, the first
 * three being ours: the page size and the cursor (sent_us, id) of the last hit already shown, NULL for the
 * first page. Paging is by key, never OFFSET: page 1,000 costs what page 1 does. */
#include <glib.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "buf.h"
#include "db.h"
#include "log.h"
#include "query.h"
#include "search.h"
#include "snippet.h"

#define SEARCH_PAGE_PARAMS 3 /* $1 limit, $2 cursor sent_us, $3 cursor id */

/* Two steps: the page's keys first, from message_index alone (its indexes answer the WHERE and
 * the order), then the columns to show for those rows only, and where their bytes are (the
 * snippets are read from the messages themselves: snippet.h). */
static const char page_sql[] =
	"WITH page AS MATERIALIZED (SELECT mi.message_id, mi.sent_at, mi.received_at"
	" FROM message_index mi WHERE (%s) AND ($2::int8 IS NULL"
	" OR (mi.sent_at, mi.message_id) < (vellum_ts($2::int8), $3::int8))"
	" ORDER BY mi.sent_at DESC, mi.message_id DESC LIMIT $1::int8)"
	" SELECT p.message_id, vellum_us(p.sent_at), vellum_us(p.received_at), mi.size,"
	" m.hdr_from, m.hdr_to, m.hdr_subject, m.hdr_message_id,"
	" array_to_json(mi.attachment_names)::text, b.segment_id, b.record_offset,"
	" encode(b.sha256, 'hex'), b.raw_size"
	" FROM page p JOIN message_index mi ON mi.message_id = p.message_id"
	" JOIN messages m ON m.id = p.message_id AND m.received_at = p.received_at"
	" JOIN blobs b ON b.address = m.address"
	" ORDER BY p.sent_at DESC, p.message_id DESC";
enum { P_ID, P_SENT, P_RECEIVED, P_SIZE, P_FROM, P_TO, P_SUBJECT, P_MSGID, P_ATT, P_SEG, P_OFF,
       P_SHA, P_RAW };

/* Counting stops one past the bound: a broad query costs SEARCH_COUNT_EXACT_MAX rows at most. */
static const char count_sql[] =
	"SELECT count(*) FROM (SELECT 1 FROM message_index mi WHERE (%s) LIMIT %d) s";
static const char count_all_sql[] = "SELECT count(*) FROM message_index mi WHERE (%s)";
static const char estimate_sql[] =
	"EXPLAIN (FORMAT JSON) SELECT 1 FROM message_index mi WHERE (%s)";
/* The rows of a page's query before its LIMIT, as page_sql asks ($1 named so it has a type). */
static const char page_estimate_sql[] =
	"EXPLAIN (FORMAT JSON) SELECT 1 FROM message_index mi WHERE (%s) AND $1::int8 > 0"
	" AND ($2::int8 IS NULL OR (mi.sent_at, mi.message_id) < (vellum_ts($2::int8), $3::int8))";
/* A page fetched by the GIN bitmap: no walk down the date index; room for the bitmap of a broad
 * query to stay exact (4 MB, the default, makes it lossy past ~100,000 rows here, and a lossy
 * page has every row's tsvector read again). */
static const char bitmap_setting[] =
	"SELECT set_config('enable_indexscan', 'off', true), set_config('work_mem', '16MB', true)";
/* The same, stopped after SEARCH_WALK_MS (%d). */
static const char bitmap_bounded_setting[] =
	"SELECT set_config('enable_indexscan', 'off', true), set_config('work_mem', '16MB', true),"
	" set_config('statement_timeout', '%d', true)";

/* query_prepare - compile q for who, with `ours` parameters of the caller's in front; the
 * query's follow. *vals (n entries) is owned by the caller (free()); its strings belong to s. */
static enum vl_err
query_prepare(const struct search_who *who, const char *q, int ours, struct query_sql *s,
	      const char ***vals, int *n, char *err)
{
	char qerr[VL_ERRLEN];
	enum vl_err rc;

	memset(s, 0, sizeof(*s));
	if ((rc = query_compile_for(s, q ? q : "", ours + 1, who->hide_bcc, qerr)) != VL_OK)
		return vl_err_set(err, rc, "query: %s", qerr);
	*n = ours + s->nparams;
	*vals = xcalloc(*n ? (size_t)*n : 1, sizeof(**vals));
	for (int i = 0; i < s->nparams; i++)
		(*vals)[ours + i] = s->params[i];
	return VL_OK;
}

/* cursor_parse - "SENT_US.ID", both decimal (sent_us may be negative: mail dated before
 * 1970), into the two text parameters. */
static enum vl_err
cursor_parse(const char *cur, char sent[24], char id[24], char *err)
{
	const char *dot = cur ? strchr(cur, '.') : NULL;
	char *end;
	long long a, b;

	if (cur == NULL || *cur == '\0')
		return VL_OK;
	if (strlen(cur) >= SEARCH_CURSOR_MAX || dot == NULL)
		return vl_err_set(err, VL_ERR_CONFIG, "cursor: not one this server made");
	a = strtoll(cur, &end, 10);
	if (end != dot)
		return vl_err_set(err, VL_ERR_CONFIG, "cursor: not one this server made");
	b = strtoll(dot + 1, &end, 10);
	if (*end != '\0' || dot[1] == '\0' || b <= 0)
		return vl_err_set(err, VL_ERR_CONFIG, "cursor: not one this server made");
	snprintf(sent, 24, "%lld", a);
	snprintf(id, 24, "%lld", b);
	return VL_OK;
}

enum vl_err
search_audit(PGconn *c, const struct search_who *who, const char *action, const char *query,
	     const char *cursor, int64_t result, char *err)
{
	json_t *d = json_pack("{s:s, s:s?, s:I}", "query", query ? query : "", "after",
			      cursor && *cursor ? cursor : NULL, "result", (json_int_t)result);
	char *txt = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	enum vl_err rc;

	json_decref(d);
	if (txt == NULL)
		return vl_err_set(err, VL_ERR_NOMEM, "audit: out of memory");
	rc = audit_append(c, who->actor, who->client, action, NULL, txt, err);
	free(txt);
	return rc;
}

static char *
dup_or_null(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : xstrdup(PQgetvalue(r, row, col));
}

/* hit_attachments - the JSON array text of attachment_names into h. Names are never NULL
 * here: a part without a name is not in the array. */
static void
hit_attachments(struct search_hit *h, const char *json)
{
	json_t *a = json_loads(json, 0, NULL);
	size_t i, n = json_is_array(a) ? json_array_size(a) : 0;

	h->attachments = xcalloc(n ? n : 1, sizeof(char *));
	for (i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(a, i));

		h->attachments[h->nattachments++] = xstrdup(s ? s : "");
	}
	json_decref(a);
}

static void
hit_fill(struct search_hit *h, const PGresult *r, int row)
{
	h->id = strtoll(PQgetvalue(r, row, P_ID), NULL, 10);
	h->sent_us = strtoll(PQgetvalue(r, row, P_SENT), NULL, 10);
	h->received_us = strtoll(PQgetvalue(r, row, P_RECEIVED), NULL, 10);
	h->size = strtoll(PQgetvalue(r, row, P_SIZE), NULL, 10);
	h->from = dup_or_null(r, row, P_FROM);
	h->to = dup_or_null(r, row, P_TO);
	h->subject = dup_or_null(r, row, P_SUBJECT);
	h->message_id = dup_or_null(r, row, P_MSGID);
	hit_attachments(h, PQgetisnull(r, row, P_ATT) ? "[]" : PQgetvalue(r, row, P_ATT));
}

/* What a page's snippets may still read through v (NULL when there is no keyring, or once it
 * is stale): SNIPPET_PAGE_RAW_MAX of messages, and as much again for second reads with the
 * attachments, so that those never leave a later hit without its body's snippet. */
struct snip_reader {
	struct vault *v;
	uint64_t budget[2]; /* [0] body reads, [1] reads with the attachments */
	struct search_page *p;
};

/* hit_text - the text of hit h's message at src into text; 0 when it is not read (past the
 * budget, no vault, unreadable: text empty). with_att: its attachments' text too. */
static int
hit_text(struct snip_reader *sr, const struct search_hit *h, const struct snippet_src *src,
	 int with_att, struct buf *text)
{
	char err[VL_ERRLEN];
	enum vl_err rc;

	buf_reset(text);
	if (sr->v == NULL || src->raw_size > sr->budget[with_att != 0])
		return 0;
	sr->budget[with_att != 0] -= src->raw_size;
	if ((rc = snippet_text(sr->v, src, with_att, text, err)) != VL_OK)
		log_warnx("search: message=%lld: no snippet: %s", (long long)h->id, err);
	if (rc == VL_ERR_NOKEY) { /* keys rotated since v was opened: no more */
		sr->p->stale_vault = 1;
		sr->v = NULL;
	}
	return rc == VL_OK;
}

/* hit_snippets - each hit's snippet, cut from its message's text read through v, while the
 * page's SNIPPET_PAGE_RAW_MAX lasts; "" for the rest, for all when v is NULL (no keyring),
 * and for a message that cannot be read (logged: search goes on, `vellum verify` is the place
 * for damage). A hit with attachments whose body has none of the terms is read again with its
 * attachments' text (not PDFs'), so a word found only in an attached document shows where.
 * These reads of evidence are covered by the search's audit row (search_audit), written
 * before the page is returned. */
static void
hit_snippets(struct vault *v, struct search_page *p, const PGresult *r, const struct query_sql *s)
{
	struct snip_reader sr = {.v = v, .budget = {SNIPPET_PAGE_RAW_MAX, SNIPPET_PAGE_RAW_MAX}, .p = p};
	struct buf text = {0};

	for (size_t i = 0; i < p->n; i++) {
		struct snippet_src src = {
			.segment_id = strtoull(PQgetvalue(r, (int)i, P_SEG), NULL, 10),
			.offset = strtoull(PQgetvalue(r, (int)i, P_OFF), NULL, 10),
			.raw_size = strtoull(PQgetvalue(r, (int)i, P_RAW), NULL, 10),
		};
		struct search_hit *h = &p->hits[i];
		int matched = 0, read = 0;

		buf_reset(&text);
		if (hex_decode(src.sha256, 32, PQgetvalue(r, (int)i, P_SHA)) == 0)
			read = hit_text(&sr, h, &src, 0, &text);
		h->snippet = search_snippet_dup(text.data ? (const char *)text.data : "", text.len,
						s->highlight, s->nhighlight, &matched);
		if (matched || !read || h->nattachments == 0 || s->nhighlight == 0)
			continue;
		if (hit_text(&sr, h, &src, 1, &text)) {
			char *att = search_snippet_dup((const char *)text.data, text.len,
						       s->highlight, s->nhighlight, &matched);

			if (matched) {
				free(h->snippet);
				h->snippet = att;
			} else {
				free(att);
			}
		}
	}
	buf_free(&text);
}

/* page_try - run the page's SQL in a transaction with the given planner setting; *canceled
 * when PostgreSQL stopped it at statement_timeout (SQLSTATE 57014). */
static enum vl_err
page_try(PGconn *c, const char *sql, const char *setting, const char **vals, int n,
	 PGresult **r, int *canceled, char *err)
{
	enum vl_err rc;

	*canceled = 0;
	if ((rc = db_begin(c, err)) != VL_OK)
		return rc;
	if ((rc = db_exec(c, setting, 0, NULL, err)) != VL_OK)
		goto fail;
	*r = PQexecParams(c, sql, n, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(*r) != PGRES_TUPLES_OK) {
		const char *state = PQresultErrorField(*r, PG_DIAG_SQLSTATE);

		*canceled = state && strcmp(state, "57014") == 0;
		rc = vl_err_set(err, VL_ERR_DB, "search: %s", PQresultErrorMessage(*r));
		PQclear(*r);
		*r = NULL;
		goto fail;
	}
	if ((rc = db_commit(c, err)) == VL_OK)
		return VL_OK;
	PQclear(*r);
	*r = NULL;
fail:
	db_rollback(c, NULL);
	return rc;
}

/* plan_rows - the planner's estimate of the rows of sql (an EXPLAIN (FORMAT JSON)). */
static enum vl_err
plan_rows(PGconn *c, const char *sql, const char *const *vals, int n, int64_t *rows, char *err)
{
	PGresult *r = NULL;
	json_t *plan = NULL;
	enum vl_err rc;

	*rows = 0;
	if ((rc = db_query(c, sql, n, vals, &r, err)) != VL_OK)
		return rc;
	plan = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
	PQclear(r);
	*rows = json_integer_value(
		json_object_get(json_object_get(json_array_get(plan, 0), "Plan"), "Plan Rows"));
	json_decref(plan);
	return VL_OK;
}

/* page_rows - the page's rows, by one of two plans. Walking the date index newest first and
 * testing each row's tsvector (a detoast each) finds a common word's page in milliseconds, and
 * a rare word's in seconds (722 ms for a word in 140 of 1,000,000 messages here); fetching the
 * matches by the GIN bitmap and sorting them is the reverse (3 ms for the rare word, 650 ms for
 * one in 183,000). PostgreSQL's own choice follows its estimate, which for a word outside the
 * most common ones is the same whatever the word, so it walks for rare words too. Here: a query
 * estimated at SEARCH_BITMAP_ROWS rows or fewer (SEARCH_RECHECK_ROWS when each candidate's
 * tsvector is read anyway: phrases, NEAR, prefixes, field weights) is fetched by bitmap first,
 * within SEARCH_WALK_MS in case the estimate was low; any other, or one that ran out of time,
 * walks within SEARCH_WALK_MS; stopped there, the page is fetched by bitmap without a bound. */
static enum vl_err
page_rows(PGconn *c, const struct query_sql *s, const char **vals, int n, PGresult **r,
	  char *err)
{
	char *sql = xasprintf(page_sql, s->where), *est_sql = xasprintf(page_estimate_sql, s->where);
	char walk[64], bitmap[sizeof(bitmap_bounded_setting) + 16];
	int canceled;
	int64_t est;
	enum vl_err rc;

	if (plan_rows(c, est_sql, vals, n, &est, err) != VL_OK)
		est = INT64_MAX; /* no estimate: the walk first, as before there was a choice */
	free(est_sql);
	if (est <= (s->rechecks ? SEARCH_RECHECK_ROWS : SEARCH_BITMAP_ROWS)) {
		snprintf(bitmap, sizeof(bitmap), bitmap_bounded_setting, SEARCH_WALK_MS);
		rc = page_try(c, sql, bitmap, vals, n, r, &canceled, err);
		if (rc == VL_OK || !canceled)
			goto out;
	}
	snprintf(walk, sizeof(walk), "SET LOCAL statement_timeout = %d", SEARCH_WALK_MS);
	rc = page_try(c, sql, walk, vals, n, r, &canceled, err);
	if (rc != VL_OK && canceled)
		rc = page_try(c, sql, bitmap_setting, vals, n, r, &canceled, err);
out:
	free(sql);
	return rc;
}

enum vl_err
search_page_get(PGconn *c, struct vault *v, const struct search_who *who, const char *query,
		size_t limit, const char *after_cursor, struct search_page *out, char *err)
{
	char lim[24], sent[24] = "", id[24] = "";
	struct query_sql s;
	const char **vals = NULL;
	PGresult *r = NULL;
	char *sql = NULL;
	enum vl_err rc;
	int n, rows;

	memset(out, 0, sizeof(*out));
	if (limit < 1 || limit > SEARCH_LIMIT_MAX)
		return vl_err_set(err, VL_ERR_CONFIG, "limit: 1 to %d hits a page",
				  SEARCH_LIMIT_MAX);
	if ((rc = cursor_parse(after_cursor, sent, id, err)) != VL_OK)
		return rc;
	if ((rc = query_prepare(who, query, SEARCH_PAGE_PARAMS, &s, &vals, &n, err)) != VL_OK)
		return rc;
	snprintf(lim, sizeof(lim), "%zu", limit);
	vals[0] = lim;
	vals[1] = *sent ? sent : NULL;
	vals[2] = *id ? id : NULL;
	if ((rc = page_rows(c, &s, vals, n, &r, err)) != VL_OK)
		goto out;
	rows = PQntuples(r);
	out->hits = xcalloc(rows ? (size_t)rows : 1, sizeof(*out->hits));
	for (int i = 0; i < rows; i++)
		hit_fill(&out->hits[out->n++], r, i);
	hit_snippets(v, out, r, &s);
	if (rows == (int)limit)
		snprintf(out->next, sizeof(out->next), "%" PRId64 ".%" PRId64,
			 out->hits[rows - 1].sent_us, out->hits[rows - 1].id);
	rc = search_audit(c, who, "search", query, after_cursor, (int64_t)out->n, err);
	if (rc != VL_OK)
		search_page_free(out); /* no audit row, no results */
out:
	PQclear(r);
	free(sql);
	free(vals);
	query_sql_free(&s);
	return rc;
}

/* count_rows - run the bounded count with sequential scans priced out, in a transaction of its
 * own: with LIMIT, PostgreSQL otherwise likes to read the table in order and test each row's
 * tsvector, which detoasts every one (seconds on a large archive), where the GIN bitmap touches
 * only the rows that match. */
static enum vl_err
count_rows(PGconn *c, const char *sql, const char **vals, int n, PGresult **r, char *err)
{
	enum vl_err rc;

	if ((rc = db_begin(c, err)) != VL_OK)
		return rc;
	if ((rc = db_exec(c, "SET LOCAL enable_seqscan = off", 0, NULL, err)) == VL_OK &&
	    (rc = db_query(c, sql, n, vals, r, err)) == VL_OK &&
	    (rc = db_commit(c, err)) == VL_OK)
		return VL_OK;
	PQclear(*r);
	*r = NULL;
	db_rollback(c, NULL);
	return rc;
}

enum vl_err
search_estimate_rows(PGconn *c, const char *where, const char *const *vals, int n,
		     int64_t *rows, char *err)
{
	char *sql = xasprintf(estimate_sql, where);
	enum vl_err rc = plan_rows(c, sql, vals, n, rows, err);

	free(sql);
	return rc;
}

enum vl_err
search_total_get(PGconn *c, const struct search_who *who, const char *query, int exact,
		 struct search_total *out, char *err)
{
	struct query_sql s;
	const char **vals = NULL;
	PGresult *r = NULL;
	char *sql;
	enum vl_err rc;
	int n;

	memset(out, 0, sizeof(*out));
	if ((rc = query_prepare(who, query, 0, &s, &vals, &n, err)) != VL_OK)
		return rc;
	if (exact)
		sql = xasprintf(count_all_sql, s.where);
	else
		sql = xasprintf(count_sql, s.where, SEARCH_COUNT_EXACT_MAX + 1);
	if ((rc = count_rows(c, sql, vals, n, &r, err)) != VL_OK)
		goto out;
	out->n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	if (!exact && out->n > SEARCH_COUNT_EXACT_MAX) {
		int64_t est = 0;

		if ((rc = search_estimate_rows(c, s.where, vals, n, &est, err)) != VL_OK)
			goto out;
		out->n = est > out->n ? est : out->n;
		out->estimated = 1;
	}
	rc = search_audit(c, who, "search.count", query, NULL, out->n, err);
out:
	PQclear(r);
	free(sql);
	free(vals);
	query_sql_free(&s);
	return rc;
}

/* collapse_space - text with every run of white space (and NUL) made one space, trimmed. */
static char *
collapse_space(const char *text, size_t len, size_t *out_len)
{
	char *o = xmalloc(len + 1);
	size_t n = 0;
	int space = 1;

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];

		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\f' ||
		    ch == '\v' || ch == '\0') {
			if (!space)
				o[n++] = ' ';
			space = 1;
			continue;
		}
		o[n++] = (char)ch;
		space = 0;
	}
	while (n > 0 && o[n - 1] == ' ')
		n--;
	o[n] = '\0';
	*out_len = n;
	return o;
}

static int
ascii_alnum(int ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       ch == '_';
}

/* find_word - the first occurrence of term in low at a word boundary where the term begins
 * or ends with an ASCII word character (so "lay" is not found in "player"); a trailing '*'
 * (a prefix term) needs no boundary at the end. -1 if none. */
static long
find_word(const char *low, size_t len, const char *term)
{
	size_t tl = strlen(term);
	int prefix = tl && term[tl - 1] == '*'; /* contract*: any word that starts so */
	int lead, trail;

	tl -= (size_t)prefix;
	lead = tl && ascii_alnum((unsigned char)term[0]);
	trail = !prefix && tl && ascii_alnum((unsigned char)term[tl - 1]);
	const char *p = low;

	if (tl == 0)
		return -1;
	while ((p = memmem(p, len - (size_t)(p - low), term, tl)) != NULL) {
		size_t at = (size_t)(p - low);
		int ok_lead = !lead || at == 0 || !ascii_alnum((unsigned char)low[at - 1]);
		int ok_trail = !trail || at + tl == len || !ascii_alnum((unsigned char)low[at + tl]);

		if (ok_lead && ok_trail)
			return (long)at;
		p++;
	}
	return -1;
}

/* utf8_back - the largest character boundary <= at. */
static size_t
utf8_back(const char *s, size_t at)
{
	while (at > 0 && ((unsigned char)s[at] & 0xC0) == 0x80)
		at--;
	return at;
}

char *
search_snippet_dup(const char *text, size_t len, char *const *terms, int n, int *matched)
{
	size_t clen, llen, start, end, mlen = 0;
	char *clean = collapse_space(text, len, &clen);
	char *low = g_utf8_strdown(clean, (gssize)clen);
	const char *src;
	long best = -1;
	struct buf b = {0};

	llen = strlen(low);
	/* Offsets found in the lower-cased copy index the original only when lower-casing kept
	 * every length (nearly always); otherwise the snippet shows the lower-cased text. */
	src = llen == clen ? clean : low;
	for (int i = 0; i < n; i++) {
		long at = find_word(low, llen, terms[i]);

		if (at >= 0 && (best < 0 || at < best)) {
			best = at;
			mlen = strlen(terms[i]) - (terms[i][0] && terms[i][strlen(terms[i]) - 1] == '*');
		}
	}
	start = best < 0 ? 0 : (size_t)best > SEARCH_SNIPPET_MAX / 3 ? (size_t)best - SEARCH_SNIPPET_MAX / 3 : 0;
	start = utf8_back(src, start);
	end = start + SEARCH_SNIPPET_MAX < llen ? utf8_back(src, start + SEARCH_SNIPPET_MAX) : llen;
	if (best >= 0 && (size_t)best + mlen > end)
		end = (size_t)best + mlen;
	if (start > 0)
		buf_append(&b, "\xe2\x80\xa6", 3);
	if (best < 0) {
		buf_append(&b, src + start, end - start);
	} else {
		buf_append(&b, src + start, (size_t)best - start);
		buf_append(&b, "\xc2\xab", 2);
		buf_append(&b, src + best, mlen);
		buf_append(&b, "\xc2\xbb", 2);
		buf_append(&b, src + best + mlen, end - (size_t)best - mlen);
	}
	if (end < llen)
		buf_append(&b, "\xe2\x80\xa6", 3);
	buf_append(&b, "", 1);
	if (matched)
		*matched = best >= 0;
	g_free(low);
	free(clean);
	return (char *)b.data;
}

void
search_page_free(struct search_page *p)
{
	for (size_t i = 0; p->hits && i < p->n; i++) {
		struct search_hit *h = &p->hits[i];

		free(h->from);
		free(h->to);
		free(h->subject);
		free(h->message_id);
		for (size_t k = 0; k < h->nattachments; k++)
			free(h->attachments[k]);
		free(h->attachments);
		free(h->snippet);
	}
	free(p->hits);
	memset(p, 0, sizeof(*p));
}
