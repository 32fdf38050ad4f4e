/* indexer - makes archived messages searchable, behind the acknowledgement.
 *
 * One batch is one transaction: take the oldest waiting messages with FOR UPDATE SKIP LOCKED
 * (row locks held until commit keep a second indexer off them), read and extract each one,
 * read their envelopes (one query), build each tsvector in C (fts), write every row with three
 * unnest() statements, mark the messages indexed, commit. If the batch's rows are refused,
 * each message is retried alone under a savepoint, and one that is still refused gets a row
 * without text, address terms or Message-ID, and parse_error: the queue always moves. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "db.h"
#include "fts.h"
#include "index_exc.h"
#include "indexer.h"
#include "log.h"
#include "mime_extract.h"
#include "pgarray.h"

/* The queue: waiting messages, oldest first, with where their bytes are. The partial index
 * messages_unindexed serves the ORDER BY ... LIMIT on every partition. */
static const char queue_sql[] =
	"SELECT m.id, vellum_us(m.received_at), b.segment_id, b.record_offset,"
	" encode(b.sha256, 'hex'), b.raw_size"
	" FROM messages m JOIN blobs b ON b.address = m.address"
	" WHERE m.indexed_at IS NULL AND b.raw_size <= $2::int8 AND m.id > $3::int8"
	" ORDER BY m.id LIMIT $1::int8 FOR UPDATE OF m SKIP LOCKED";

/* Messages the store found held by an indexer batch when a receipt with a new address came
 * (schema/0017_index_requeue.sql, store_db.c SQL_REQUEUE): queued again before each batch.
 * Only the notes of messages it can lock at once are taken (SKIP LOCKED): waiting for the
 * batch that holds one would stall this worker for the rest of that batch (seconds, with
 * PDFs); the others stay for a later sweep. A note goes only in the statement that queues its
 * message, so none is lost, and every copy of it goes together (the table has no key); a note
 * of a message disposed since goes too (nothing to queue), or it would stay forever. Rows are
 * locked in id order, as by the other statements that update many messages rows (retention.c,
 * requeue_sql), so no two of them deadlock. No indexed_at condition: this snapshot may still
 * see the NULL of the batch that held the message and has committed since (the lock reads its
 * latest row). The count is of the messages queued again. */
static const char sweep_sql[] =
	"WITH l AS (SELECT m.id, m.received_at FROM messages m"
	" WHERE m.id = ANY (ARRAY(SELECT message_id FROM index_requeue))"
	" ORDER BY m.id FOR UPDATE OF m SKIP LOCKED),"
	" u AS (UPDATE messages m SET indexed_at = NULL FROM l"
	" WHERE m.id = l.id AND m.received_at = l.received_at RETURNING m.id),"
	" d AS (DELETE FROM index_requeue r WHERE r.message_id IN (SELECT id FROM l)"
	" OR NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = r.message_id))"
	" SELECT count(*) FROM u";

/* Re-indexing replaces: attachments first (their number may change), then the index row. */
static const char delete_att_sql[] = "DELETE FROM attachments WHERE message_id = ANY($1::int8[])";

/* The tsvector arrives as a ready literal built by fts (archiver/fts.c): PostgreSQL only reads
 * it, which costs a fraction of to_tsvector's parse (PERF-NOTES). No body text is stored: a
 * snippet is cut from the message itself (search/snippet.c). */
static const char insert_index_sql[] =
	"INSERT INTO message_index (message_id, received_at, has_attachment, attachment_names,"
	" tsv, sent_at, size, msgid, addr_terms, bcc_exposure)"
	" SELECT u.id, vellum_ts(u.rat), u.ha, u.names::text[], u.tsv::tsvector,"
	" vellum_ts(u.sat), u.size, u.msgid, u.terms::text[], u.bx"
	" FROM unnest($1::int8[], $2::int8[], $3::bool[], $4::text[], $5::text[], $6::int8[],"
	" $7::int8[], $8::text[], $9::text[], $10::int2[])"
	" AS u(id, rat, ha, names, tsv, sat, size, msgid, terms, bx)"
	" ON CONFLICT (message_id) DO UPDATE SET received_at = EXCLUDED.received_at,"
	" has_attachment = EXCLUDED.has_attachment,"
	" attachment_names = EXCLUDED.attachment_names, tsv = EXCLUDED.tsv,"
	" sent_at = EXCLUDED.sent_at, size = EXCLUDED.size, msgid = EXCLUDED.msgid,"
	" addr_terms = EXCLUDED.addr_terms, bcc_exposure = EXCLUDED.bcc_exposure";

/* The envelopes of a batch: every receipt's MAIL FROM and recipients, one row per distinct
 * recipient (or one with NULL recipient for a receipt without any), ordered by message. A
 * message journaled thousands of times has thousands of receipts with the same few addresses:
 * DISTINCT keeps the rows to what the terms need. */
static const char envelope_sql[] =
	"SELECT DISTINCT r.message_id, lower(r.mail_from), lower(e.address), e.role"
	" FROM receipts r LEFT JOIN envelope_recipients e ON e.receipt_id = r.id"
	" WHERE r.message_id = ANY($1::int8[]) ORDER BY 1";

static const char insert_att_sql[] =
	"INSERT INTO attachments (message_id, position, filename, content_type, size)"
	" SELECT * FROM unnest($1::int8[], $2::int4[], $3::text[], $4::text[], $5::int8[])";

/* What each message's index lacks (schema/0014_index_exceptions.sql), replaced like its
 * attachments. */
static const char delete_exc_sql[] =
	"DELETE FROM index_exceptions WHERE message_id = ANY($1::int8[])";
static const char insert_exc_sql[] =
	"INSERT INTO index_exceptions (message_id, position, part, filename, content_type, reason,"
	" detail) SELECT * FROM unnest($1::int8[], $2::int4[], $3::text[], $4::text[], $5::text[],"
	" $6::text[], $7::text[])";
#define EXC_COLS 7

static const char mark_sql[] =
	"UPDATE messages m SET indexed_at = now(), parse_error = m.parse_error OR u.perr"
	" FROM unnest($1::int8[], $2::int8[], $3::bool[]) AS u(id, rat, perr)"
	" WHERE m.id = u.id AND m.received_at = vellum_ts(u.rat)";

/* One requeue step (vellum index --all): the next INDEXER_REQUEUE_ROWS ids after $1, locked
 * in id order (FOR UPDATE above the ORDER BY) so that it cannot deadlock with retention's
 * update, which waits for rows too (the sweep never does: SKIP LOCKED). */
static const char requeue_sql[] =
	"WITH s AS (SELECT id, received_at FROM messages WHERE id > $1::int8"
	" ORDER BY id LIMIT $2::int8 FOR UPDATE),"
	" u AS (UPDATE messages m SET indexed_at = NULL FROM s"
	" WHERE m.id = s.id AND m.received_at = s.received_at RETURNING m.id)"
	" SELECT count(*), coalesce(max(id), 0) FROM u";

#define INDEX_COLS 10

/* One envelope address of a message: field 'e' (MAIL FROM), 'r' (a recipient in any role but
 * bcc) or 'x' (a recipient in the role bcc, searched as b; never also 'r', so that 'r' is what
 * a caller without Bcc visibility may search: schema/0015_bcc_visibility.sql). */
struct env_addr {
	char field;
	char *addr; /* lower-case, owned */
};

/* One message of the batch: its extraction (body already cut to INDEXER_BODY_MAX). */
struct row {
	int64_t id, rat_us;
	int64_t size; /* raw bytes (blobs.raw_size) */
	struct mime_meta m;
	struct env_addr *env; /* the envelope addresses of its receipts */
	size_t nenv;
	int perr;
};

/* row_free - release what r owns and zero it. */
static void
row_free(struct row *r)
{
	mime_meta_free(&r->m);
	for (size_t i = 0; i < r->nenv; i++)
		free(r->env[i].addr);
	free(r->env);
	r->env = NULL;
	r->nenv = 0;
}

/* ---- the tsvector ---- */

/* row_tsv - the message's tsvector literal in v: subject (weight A), attachment names (B; a
 * name with '_' is added again with spaces there, so Q3_report.xls is found by q3_report, q3,
 * report and xls) and body text (D). */
static const char *
row_tsv(struct fts_vec *v, struct buf *tmp, const struct mime_meta *m)
{
	fts_vec_reset(v);
	if (m->subject)
		fts_vec_add(v, m->subject, strlen(m->subject), 'A');
	for (size_t i = 0; i < m->nattachments; i++) {
		const char *f = m->attachments[i].filename;

		if (f == NULL)
			continue;
		fts_vec_add(v, f, strlen(f), 'B');
		if (strchr(f, '_') == NULL)
			continue;
		buf_reset(tmp);
		buf_append_str(tmp, f);
		for (size_t k = 0; k < tmp->len; k++)
			if (tmp->data[k] == '_')
				tmp->data[k] = ' ';
		fts_vec_add(v, (const char *)tmp->data, tmp->len, 'B');
	}
	if (m->body)
		fts_vec_add(v, m->body, m->body_len, 'D');
	if (fts_vec_full(v))
		log_debug("index: tsvector bound FTS_VEC_BYTES_MAX reached: the rest is not indexed");
	return fts_vec_literal(v, NULL);
}

/* ---- address terms (schema/0003_search.sql, with s and x of 0007_index_size.sql) ---- */

/* The terms of one message, deduplicated by sorting before they are written. */
struct terms {
	char **v;
	size_t n, cap;
};

/* searched_as - the field of every kind but the whole address for field f: s (Sender) is f, x
 * (an envelope recipient in the role bcc) is b. They stay apart only in the whole address
 * (kind a), for retention, which tells From from Sender and the Bcc header from the envelope;
 * a query for the address asks for both letters (query_field.c). */
static char
searched_as(char f)
{
	return f == 's' ? 'f' : f == 'x' ? 'b' : f;
}

static void
terms_add(struct terms *t, char field, char kind, const char *s, size_t len)
{
	if (len == 0 || len > INDEXER_TERM_MAX)
		return;
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->v = xrealloc(t->v, t->cap * sizeof(*t->v));
	}
	t->v[t->n++] = xasprintf("%c:%c:%.*s", field, kind, (int)len, s);
}

static void
terms_free(struct terms *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

struct words_ctx {
	struct terms *t;
	char field;
};

/* words_fn - a lexeme of fts_tokens as w: terms, split again at '_' (runs of letters and
 * digits; CJK as its bigrams, the way the query side sees a name). */
static int
words_fn(void *ctx, const char *lex, size_t len)
{
	struct words_ctx *w = ctx;
	size_t from = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && lex[i] != '_')
			continue;
		terms_add(w->t, w->field, 'w', lex + from, i - from);
		from = i + 1;
	}
	return 0;
}

static void
terms_words(struct terms *t, char field, const char *s, size_t len)
{
	struct words_ctx w = {t, field};

	(void)fts_tokens(s, len, words_fn, &w); /* words_fn never stops it */
}

/* terms_addr - a bare, lower-case address: a:, l: and its w:, d: for the domain and each
 * parent domain (not of an address literal, [192.0.2.1]). */
static void
terms_addr(struct terms *t, char field, const char *a)
{
	const char *at = strrchr(a, '@'), *d;

	if (*a == 0)
		return;
	terms_add(t, field, 'a', a, strlen(a));
	field = searched_as(field);
	if (at == NULL) {
		terms_words(t, field, a, strlen(a));
		return;
	}
	terms_add(t, field, 'l', a, (size_t)(at - a));
	terms_words(t, field, a, (size_t)(at - a));
	d = at + 1;
	if (*d == '[')
		return;
	for (const char *p = d; *p; p++)
		if (p == d || (p[-1] == '.' && *p != '.'))
			terms_add(t, field, 'd', p, strlen(p));
}

/* terms_names - the display-name words of a header's text ("Jeff Skilling
 * <jeff.skilling@enron.com>, x@y"): what is inside <> and every word holding an @ (a bare
 * address) are left out; their parts come from terms_addr. */
static void
terms_names(struct terms *t, char field, const char *text)
{
	const char *p = text;

	if (text == NULL)
		return;
	while (*p) {
		size_t n;

		if (*p == '<') {
			const char *e = strchr(p, '>');

			p = e ? e + 1 : p + strlen(p);
			continue;
		}
		n = strcspn(p, " \t\r\n,;<");
		if (n == 0) {
			p++;
			continue;
		}
		if (memchr(p, '@', n) == NULL)
			terms_words(t, field, p, n);
		p += n;
	}
}

static void
terms_field(struct terms *t, char field, const struct mime_addrs *a)
{
	terms_names(t, searched_as(field), a->text);
	for (size_t i = 0; i < a->n; i++)
		terms_addr(t, field, a->addrs[i]);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* redundant - whether term v[i] is an s:a: or x:a: term whose searched twin (f:a:, b:a: of the
 * same address) is among the n sorted terms: the twin already says it all. */
static int
redundant(char *const *v, size_t n, size_t i)
{
	char *twin, *const *hit;

	if ((v[i][0] != 's' && v[i][0] != 'x') || v[i][2] != 'a')
		return 0;
	twin = xstrdup(v[i]);
	twin[0] = searched_as(twin[0]);
	hit = bsearch(&twin, v, n, sizeof(*v), cmp_str);
	free(twin);
	return hit != NULL;
}

/* arr_terms - the message's addr_terms as one array literal element of outer: sorted, without
 * duplicates. */
static void
arr_terms(struct pgarr *outer, struct pgarr *inner, const struct row *r)
{
	const struct mime_meta *m = &r->m;
	struct terms t = {0};

	terms_field(&t, 'f', &m->from);
	terms_field(&t, 's', &m->sender);
	terms_field(&t, 't', &m->to);
	terms_field(&t, 'c', &m->cc);
	terms_field(&t, 'b', &m->bcc);
	for (size_t i = 0; i < r->nenv; i++)
		terms_addr(&t, r->env[i].field, r->env[i].addr);
	if (t.n > 1) /* t.v is NULL without terms, and qsort's pointer must not be */
		qsort(t.v, t.n, sizeof(*t.v), cmp_str);
	pgarr_reset(inner);
	for (size_t i = 0; i < t.n; i++)
		if ((i == 0 || strcmp(t.v[i], t.v[i - 1]) != 0) && !redundant(t.v, t.n, i))
			pgarr_text(inner, t.v[i]);
	pgarr_text(outer, pgarr_str(inner));
	terms_free(&t);
}

/* msgid - the Message-ID lower-cased in tmp (angle brackets are already gone); NULL when absent
 * or longer than INDEXER_MSGID_MAX (a btree entry must stay under ~2.7 KB). */
static const char *
msgid(struct buf *tmp, const char *id)
{
	if (id == NULL || strlen(id) > INDEXER_MSGID_MAX)
		return NULL;
	buf_reset(tmp);
	buf_append_str(tmp, id);
	for (size_t i = 0; i < tmp->len; i++)
		if (tmp->data[i] >= 'A' && tmp->data[i] <= 'Z')
			tmp->data[i] += 'a' - 'A';
	return (const char *)tmp->data;
}

/* bcc_exposure - what the message's own bytes say of Bcc recipients (0015_bcc_visibility.sql):
 * 2 a journal report (its body lists them), 1 a Bcc field with an address or a name in its own
 * header, else 0. */
static int
bcc_exposure(const struct mime_meta *m)
{
	if (m->journal_report)
		return 2;
	return m->bcc.n > 0 || (m->bcc.text && m->bcc.text[strspn(m->bcc.text, " \t")]) ? 1 : 0;
}

/* exc_one - one index_exceptions row into the columns x. */
static void
exc_one(struct pgarr x[EXC_COLS], int64_t id, size_t pos, const struct index_exc *e)
{
	pgarr_int64(&x[0], id);
	pgarr_int64(&x[1], (int64_t)pos);
	pgarr_text(&x[2], e->part);
	pgarr_text(&x[3], e->filename);
	pgarr_text(&x[4], e->content_type);
	pgarr_text(&x[5], index_exc_reason_name(e->reason));
	pgarr_text(&x[6], e->detail);
}

/* exc_rows - the exceptions of message id into the columns x: those of l, and one more when its
 * tsvector was full (tsv_full). */
static void
exc_rows(struct pgarr x[EXC_COLS], int64_t id, const struct index_exc_list *l, int tsv_full)
{
	struct index_exc full = {.reason = INDEX_EXC_TRUNCATED,
				 .detail = "words past FTS_VEC_BYTES_MAX of tsvector: not indexed"};

	for (size_t i = 0; i < l->n; i++)
		exc_one(x, id, i, &l->v[i]);
	if (tsv_full)
		exc_one(x, id, l->n, &full);
}

/* exec_cols - run sql with the n array columns c as its parameters, when they hold a row. */
static enum vl_err
exec_cols(PGconn *conn, const char *sql, struct pgarr *c, int n, char *err)
{
	const char *vals[EXC_COLS]; /* the widest of its callers' */

	if (c[0].n == 0)
		return VL_OK;
	if (n > EXC_COLS)
		return vl_err_set(err, VL_ERR_INTERNAL, "exec_cols: %d columns", n);
	for (int i = 0; i < n; i++)
		vals[i] = pgarr_str(&c[i]);
	return db_exec(conn, sql, n, vals, err);
}

/* insert_rows - the index rows, attachments and index exceptions of rows[0..n), replacing
 * earlier ones. */
static enum vl_err
insert_rows(PGconn *conn, const struct row *rows, size_t n, char *err)
{
	struct pgarr c[INDEX_COLS] = {0}, att[5] = {0}, exc[EXC_COLS] = {0}, inner = {0};
	struct fts_vec *tsv = fts_vec_new();
	struct buf tmp = {0};
	const char *vals[INDEX_COLS];
	enum vl_err rc;

	for (size_t r = 0; r < n; r++) {
		const struct mime_meta *m = &rows[r].m;

		pgarr_int64(&c[0], rows[r].id);
		pgarr_int64(&c[1], rows[r].rat_us);
		pgarr_text(&c[2], m->has_attachment ? "t" : "f");
		pgarr_reset(&inner);
		for (size_t i = 0; i < m->nattachments; i++)
			if (m->attachments[i].filename)
				pgarr_text(&inner, m->attachments[i].filename);
		pgarr_text(&c[3], pgarr_str(&inner));
		pgarr_text(&c[4], row_tsv(tsv, &tmp, m));
		exc_rows(exc, rows[r].id, &m->exc, fts_vec_full(tsv));
		pgarr_int64(&c[5], m->date_us != 0 ? m->date_us : rows[r].rat_us);
		pgarr_int64(&c[6], rows[r].size);
		pgarr_text(&c[7], msgid(&tmp, m->message_id));
		arr_terms(&c[8], &inner, &rows[r]);
		pgarr_int64(&c[9], bcc_exposure(m));
		for (size_t i = 0; i < m->nattachments; i++) {
			pgarr_int64(&att[0], rows[r].id);
			pgarr_int64(&att[1], (int64_t)i);
			pgarr_text(&att[2], m->attachments[i].filename);
			pgarr_text(&att[3], m->attachments[i].content_type);
			pgarr_int64(&att[4], (int64_t)m->attachments[i].size);
		}
	}
	for (int i = 0; i < INDEX_COLS; i++)
		vals[i] = pgarr_str(&c[i]);
	if ((rc = db_exec(conn, delete_att_sql, 1, vals, err)) == VL_OK &&
	    (rc = db_exec(conn, delete_exc_sql, 1, vals, err)) == VL_OK &&
	    (rc = db_exec(conn, insert_index_sql, INDEX_COLS, vals, err)) == VL_OK &&
	    (rc = exec_cols(conn, insert_att_sql, att, 5, err)) == VL_OK)
		rc = exec_cols(conn, insert_exc_sql, exc, EXC_COLS, err);
	for (int i = 0; i < INDEX_COLS; i++)
		pgarr_free(&c[i]);
	for (int i = 0; i < 5; i++)
		pgarr_free(&att[i]);
	for (int i = 0; i < EXC_COLS; i++)
		pgarr_free(&exc[i]);
	pgarr_free(&inner);
	fts_vec_free(tsv);
	buf_free(&tmp);
	return rc;
}

/* mark_rows - set indexed_at (and parse_error, never cleared) on the batch's messages. */
static enum vl_err
mark_rows(PGconn *conn, const struct row *rows, size_t n, char *err)
{
	struct pgarr c[3] = {0};
	const char *vals[3];
	enum vl_err rc;

	for (size_t r = 0; r < n; r++) {
		pgarr_int64(&c[0], rows[r].id);
		pgarr_int64(&c[1], rows[r].rat_us);
		pgarr_text(&c[2], rows[r].perr || rows[r].m.parse_error ? "t" : "f");
	}
	for (int i = 0; i < 3; i++)
		vals[i] = pgarr_str(&c[i]);
	rc = db_exec(conn, mark_sql, 3, vals, err);
	for (int i = 0; i < 3; i++)
		pgarr_free(&c[i]);
	return rc;
}

/* write_rows - insert the batch; when that is refused, each row alone, and a row still refused
 * as an empty row with parse_error. Only a failure of the empty row (the database itself) is
 * returned. */
static enum vl_err
write_rows(PGconn *conn, struct row *rows, size_t n, char *err)
{
	char detail[VL_ERRLEN];
	enum vl_err rc;

	if ((rc = db_exec(conn, "SAVEPOINT vl_batch", 0, NULL, err)) != VL_OK)
		return rc;
	if (insert_rows(conn, rows, n, detail) == VL_OK)
		return db_exec(conn, "RELEASE SAVEPOINT vl_batch", 0, NULL, err);
	if (PQstatus(conn) != CONNECTION_OK)
		return vl_err_set(err, VL_ERR_DB, "%s", detail);
	if ((rc = db_exec(conn, "ROLLBACK TO SAVEPOINT vl_batch", 0, NULL, err)) != VL_OK)
		return rc;
	log_warnx("index: batch of %zu refused (%s): writing its messages one at a time", n,
		  detail);
	for (size_t r = 0; r < n; r++) {
		if ((rc = db_exec(conn, "SAVEPOINT vl_one", 0, NULL, err)) != VL_OK)
			return rc;
		if (insert_rows(conn, &rows[r], 1, detail) == VL_OK) {
			if ((rc = db_exec(conn, "RELEASE SAVEPOINT vl_one", 0, NULL, err)) != VL_OK)
				return rc;
			continue;
		}
		if ((rc = db_exec(conn, "ROLLBACK TO SAVEPOINT vl_one", 0, NULL, err)) != VL_OK)
			return rc;
		log_warnx("index: message=%lld refused (%s): indexed without text, parse_error set",
			  (long long)rows[r].id, detail);
		/* Without text, terms or Message-ID: what is left cannot be refused. */
		row_free(&rows[r]);
		rows[r].perr = 1;
		index_exc_add(&rows[r].m.exc, INDEX_EXC_UNPARSED, "", NULL, NULL,
			      "refused by the database: indexed without text");
		if ((rc = insert_rows(conn, &rows[r], 1, err)) != VL_OK)
			return rc;
	}
	return VL_OK;
}

static void
row_env_add(struct row *r, char field, const char *addr)
{
	if (*addr == 0) /* the null reverse-path <> */
		return;
	r->env = xrealloc(r->env, (r->nenv + 1) * sizeof(*r->env));
	r->env[r->nenv++] = (struct env_addr){field, xstrdup(addr)};
}

/* row_by_id - the row of message id in rows[0..n), sorted by id (the queue's order). */
static struct row *
row_by_id(struct row *rows, size_t n, int64_t id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (rows[mid].id == id)
			return &rows[mid];
		if (rows[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* load_envelopes - every receipt's MAIL FROM (e) and recipients (r, and x for the role bcc)
 * of rows[0..n), in one query. A message stored twice has two receipts: both count, duplicates
 * go when the terms are sorted. VL_ERR_DB. */
static enum vl_err
load_envelopes(PGconn *conn, struct row *rows, size_t n, char *err)
{
	struct pgarr ids = {0};
	const char *vals[1];
	PGresult *q = NULL;
	enum vl_err rc;

	for (size_t r = 0; r < n; r++)
		pgarr_int64(&ids, rows[r].id);
	vals[0] = pgarr_str(&ids);
	if ((rc = db_query(conn, envelope_sql, 1, vals, &q, err)) != VL_OK)
		goto out;
	for (int i = 0; i < PQntuples(q); i++) {
		int64_t id = strtoll(PQgetvalue(q, i, 0), NULL, 10);
		struct row *r = row_by_id(rows, n, id);

		if (r == NULL)
			continue;
		/* MAIL FROM repeats on each recipient's row: the sort of the terms dedupes it. */
		if (!PQgetisnull(q, i, 1))
			row_env_add(r, 'e', PQgetvalue(q, i, 1));
		if (PQgetisnull(q, i, 2))
			continue;
		row_env_add(r, strcmp(PQgetvalue(q, i, 3), "bcc") == 0 ? 'x' : 'r',
			    PQgetvalue(q, i, 2));
	}
out:
	PQclear(q);
	pgarr_free(&ids);
	return rc;
}

/* ---- reading and extracting ---- */

struct rawsink {
	struct buf b;
	int cut; /* the message is longer than INDEXER_RAW_MAX */
};

static enum vl_err
raw_fn(void *arg, const uint8_t *p, size_t n)
{
	struct rawsink *s = arg;

	if (s->b.len + n > INDEXER_RAW_MAX) {
		n = INDEXER_RAW_MAX - s->b.len;
		s->cut = 1;
	}
	buf_append(&s->b, p, n);
	return VL_OK;
}

/* cut_body - keep at most INDEXER_BODY_MAX bytes of the body, ending on a whole character, and
 * say so in its exceptions. */
static void
cut_body(struct mime_meta *m)
{
	size_t n = m->body_len;

	if (n <= INDEXER_BODY_MAX)
		return;
	index_exc_add(&m->exc, INDEX_EXC_TRUNCATED, "", NULL, NULL,
		      "text longer than INDEXER_BODY_MAX (%u bytes): the rest is not indexed",
		      INDEXER_BODY_MAX);
	n = INDEXER_BODY_MAX;
	while (n > 0 && ((uint8_t)m->body[n] & 0xc0) == 0x80)
		n--;
	m->body[n] = 0;
	m->body = xrealloc(m->body, n + 1);
	m->body_len = n;
}

/* read_one - fill row r from the queue row i of q. VL_ERR_NOKEY (the vault is stale) and
 * VL_ERR_BUSY (no descriptor or memory to open the segment, or no process or pipe for an
 * attachment's reader, just now) leave r empty, and the message queued: on NOKEY the batch
 * stops there, on BUSY it goes on past it (indexer_run_batch), and a later batch reads it
 * again; every other failure is the message's own and is recorded in r. */
static enum vl_err
read_one(struct vault *v, PGresult *q, int i, struct row *r, size_t *bytes, char *err)
{
	struct rawsink raw = {0};
	struct record_info info;
	uint8_t sha[32];
	char detail[VL_ERRLEN] = "";
	enum vl_err rc;
	uint64_t size = strtoull(PQgetvalue(q, i, 5), NULL, 10);

	memset(r, 0, sizeof(*r));
	r->id = strtoll(PQgetvalue(q, i, 0), NULL, 10);
	r->rat_us = strtoll(PQgetvalue(q, i, 1), NULL, 10);
	r->size = (int64_t)size;
	if (hex_decode(sha, 32, PQgetvalue(q, i, 4)) != 0) {
		rc = vl_err_set(detail, VL_ERR_CORRUPT, "sha256 in the index is not 64 hex digits");
		goto unreadable;
	}
	buf_reserve(&raw.b, size < INDEXER_RAW_MAX ? size : INDEXER_RAW_MAX);
	rc = vault_read(v, strtoull(PQgetvalue(q, i, 2), NULL, 10),
			strtoull(PQgetvalue(q, i, 3), NULL, 10), sha, raw_fn, &raw, &info, detail);
	if (rc == VL_ERR_NOKEY) {
		vl_err_set(err, rc, "message %lld: %s", (long long)r->id, detail);
		goto out;
	}
	if (rc == VL_ERR_BUSY) {
		/* No descriptor or memory to open its segment now: no verdict on the message. */
		vl_err_set(err, rc, "message %lld left queued: %s", (long long)r->id, detail);
		goto out;
	}
	if (rc != VL_OK)
		goto unreadable;
	rc = mime_extract(&r->m, raw.b.data, raw.b.len, MIME_ATTACH_TEXT, detail);
	if (rc == VL_ERR_BUSY) {
		/* Not the message's failure: storing what was read would lose an attachment's
		 * text for good. */
		vl_err_set(err, rc, "message %lld left queued: %s", (long long)r->id, detail);
		mime_meta_free(&r->m);
		goto out;
	}
	if (rc != VL_OK)
		goto unreadable;
	if (raw.cut)
		index_exc_add(&r->m.exc, INDEX_EXC_TRUNCATED, "", NULL, NULL,
			      "message larger than INDEXER_RAW_MAX (%u bytes): the rest is not"
			      " indexed", INDEXER_RAW_MAX);
	if (raw.cut && !r->m.parse_error) {
		r->m.parse_error = 1;
		r->m.parse_why = "larger than INDEXER_RAW_MAX: the rest is not indexed";
	}
	if (r->m.parse_error)
		log_debug("index: message=%lld parse_error: %s", (long long)r->id, r->m.parse_why);
	cut_body(&r->m);
	*bytes += raw.b.len + 4 * r->m.body_len;
	rc = VL_OK;
	goto out;
unreadable:
	log_warnx("index: message=%lld cannot be read (%s): indexed without text, parse_error set",
		  (long long)r->id, detail);
	mime_meta_free(&r->m);
	r->perr = 1;
	index_exc_add(&r->m.exc, INDEX_EXC_UNPARSED, "", NULL, NULL, "cannot be read: %s", detail);
	rc = VL_OK;
out:
	buf_free(&raw.b);
	return rc;
}

/* indexer_sweep - sweep_sql in its own transaction; *swept counts the messages queued again. */
static enum vl_err
indexer_sweep(PGconn *conn, size_t *swept, char *err)
{
	PGresult *r = NULL;
	enum vl_err rc;

	*swept = 0;
	if ((rc = db_query(conn, sweep_sql, 0, NULL, &r, err)) == VL_OK)
		*swept = (size_t)strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return rc;
}

enum vl_err
indexer_run_batch(struct vault *v, PGconn *conn, struct indexer_batch *b, char *err)
{
	char lim[24], raw[24], after[24];
	const char *vals[] = {lim, raw, after};
	struct row *rows = NULL;
	PGresult *q = NULL;
	size_t n = 0, busy = 0, bytes = 0;
	int64_t last = b->after;
	enum vl_err rc, stop = VL_OK;
	int nq;

	b->done = b->swept = b->busy = 0;
	b->last = b->after;
	snprintf(lim, sizeof(lim), "%zu", b->max);
	snprintf(raw, sizeof(raw), "%llu",
		 (unsigned long long)(b->max_raw > INT64_MAX ? INT64_MAX : b->max_raw));
	snprintf(after, sizeof(after), "%lld", (long long)b->after);
	if ((rc = indexer_sweep(conn, &b->swept, err)) != VL_OK)
		return rc;
	if ((rc = db_begin(conn, err)) != VL_OK)
		return rc;
	if ((rc = db_query(conn, queue_sql, 3, vals, &q, err)) != VL_OK)
		goto fail;
	nq = PQntuples(q);
	rows = xcalloc((size_t)nq + 1, sizeof(*rows));
	/* Messages after a stop stay locked, unread, until the commit: still waiting. A message
	 * not readable just now (BUSY) is stepped over, left waiting, so that a lasting shortage
	 * (a process limit, a seccomp filter) does not stall the queue behind it. */
	for (int i = 0; i < nq && bytes < INDEXER_BATCH_BYTES; i++) {
		stop = read_one(v, q, i, &rows[n], &bytes, err);
		if (stop == VL_ERR_BUSY) {
			log_warnx("index: %s", err);
			last = strtoll(PQgetvalue(q, i, 0), NULL, 10);
			busy++;
			stop = VL_OK;
			continue;
		}
		if (stop != VL_OK)
			break;
		last = rows[n].id;
		n++;
	}
	if (n > 0 && ((rc = load_envelopes(conn, rows, n, err)) != VL_OK ||
		      (rc = write_rows(conn, rows, n, err)) != VL_OK ||
		      (rc = mark_rows(conn, rows, n, err)) != VL_OK))
		goto fail;
	if ((rc = db_commit(conn, err)) != VL_OK)
		goto out;
	b->done = n;
	b->busy = busy;
	b->last = last;
	rc = stop;
	goto out;
fail:
	db_rollback(conn, NULL);
out:
	for (size_t i = 0; i < n; i++)
		row_free(&rows[i]);
	free(rows);
	PQclear(q);
	return rc;
}

int
indexer_place_next(struct indexer_place *p, const struct indexer_batch *b, size_t *left)
{
	*left = 0;
	p->pass_busy += b->busy;
	if (b->busy > 0) {
		p->after = b->last; /* past them: the next batch reads the queue behind them */
		return 1;
	}
	if (b->done > 0 || b->swept > 0)
		return 1; /* more may wait */
	/* Nothing waits past p->after: the pass is over. */
	*left = p->pass_busy;
	p->pass_busy = 0;
	return 0;
}

enum vl_err
indexer_lag(PGconn *conn, int64_t *unindexed, char *err)
{
	PGresult *r = NULL;
	enum vl_err rc;

	*unindexed = 0;
	rc = db_query(conn, INDEXER_LAG_SQL, 0, NULL, &r, err);
	if (rc == VL_OK)
		*unindexed = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return rc;
}

enum vl_err
indexer_requeue_all(PGconn *conn, int64_t *n, char *err)
{
	char last[24] = "0", rows[24];
	const char *vals[] = {last, rows};
	enum vl_err rc = VL_OK;

	snprintf(rows, sizeof(rows), "%d", INDEXER_REQUEUE_ROWS);
	*n = 0;
	for (;;) {
		PGresult *r = NULL;
		int64_t got;

		if ((rc = db_query(conn, requeue_sql, 2, vals, &r, err)) != VL_OK)
			break;
		got = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		snprintf(last, sizeof(last), "%s", PQgetvalue(r, 0, 1));
		PQclear(r);
		*n += got;
		if (got == 0)
			break;
	}
	return rc;
}

/* ---- the background thread ---- */

/* One worker thread: its own connection and vault. Worker 0 takes any message; the others
 * only those up to INDEXER_HELPER_RAW_MAX, so at most one worker holds a large message's
 * bytes and parse (serve's memory bound stays one large message). */
struct indexer_worker {
	struct indexer *ix;
	int no;
	struct db *db;
	struct vault *v;
	pthread_t thread;
	uint64_t seen_kicks; /* under ix->mu */
};

struct indexer {
	const struct vl_config *cfg;
	struct indexer_worker w[INDEXER_THREADS_MAX];
	int nw;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;	    /* under mu */
	uint64_t kicks;	    /* under mu: every worker wakes once per kick */
	atomic_uint_fast64_t indexed;
};

/* indexer_wait - sleep ms, or until kicked or stopped. Returns non-zero when stopping. */
static int
indexer_wait(struct indexer_worker *w, unsigned ms)
{
	struct indexer *ix = w->ix;
	struct timespec until;
	int stop;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&ix->mu);
	while (!ix->stop && ix->kicks == w->seen_kicks)
		if (pthread_cond_timedwait(&ix->cv, &ix->mu, &until) == ETIMEDOUT)
			break;
	w->seen_kicks = ix->kicks;
	stop = ix->stop;
	pthread_mutex_unlock(&ix->mu);
	return stop;
}

static int
indexer_stopping(struct indexer *ix)
{
	int stop;

	pthread_mutex_lock(&ix->mu);
	stop = ix->stop;
	pthread_mutex_unlock(&ix->mu);
	return stop;
}

/* backoff_next - the wait after one of ms: 1 s first, then twice the last, at most
 * INDEXER_BACKOFF_MAX_MS. */
static unsigned
backoff_next(unsigned ms)
{
	ms = ms ? ms * 2 : 1000;
	return ms > INDEXER_BACKOFF_MAX_MS ? INDEXER_BACKOFF_MAX_MS : ms;
}

/* indexer_park - the messages a worker's passes left queued (their attachment's reader, their
 * segment or key file could not be opened just now). The worker reads on past them as mail
 * comes, and tries them again from the start of the queue once the back-off has passed: 1 s,
 * doubling up to INDEXER_BACKOFF_MAX_MS while they stay, so a lasting shortage costs a pass
 * over them every 30 s, not every batch. */
struct indexer_park {
	unsigned backoff; /* ms; 0: nothing parked */
	struct timespec due;
};

/* park_due - whether the parked messages are to be tried again now. */
static int
park_due(const struct indexer_park *k)
{
	struct timespec now;

	if (k->backoff == 0)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > k->due.tv_sec ||
	       (now.tv_sec == k->due.tv_sec && now.tv_nsec >= k->due.tv_nsec);
}

/* park_more - a pass left n messages queued: back off further, and say so. */
static void
park_more(struct indexer_park *k, size_t n)
{
	k->backoff = backoff_next(k->backoff);
	clock_gettime(CLOCK_MONOTONIC, &k->due);
	k->due.tv_sec += k->backoff / 1000;
	log_warnx("indexer: %zu messages left queued: an attachment's reader, a segment or a key"
		  " file could not be opened just now; tried again in %u s", n, k->backoff / 1000);
}

static void *
indexer_main(void *arg)
{
	struct indexer_worker *w = arg;
	struct indexer *ix = w->ix;
	PGconn *conn = db_conn(w->db);
	char err[VL_ERRLEN];
	unsigned backoff = 0; /* after a failure */
	int reopened = 0;     /* the vault was reopened for the VL_ERR_NOKEY just seen */
	uint64_t max_raw = w->no == 0 ? UINT64_MAX : INDEXER_HELPER_RAW_MAX;
	struct indexer_place place = {0};
	struct indexer_park park = {0};
	int new_pass = 1;   /* the next batch begins a pass */
	int from_start = 1; /* the pass under way began at the start of the queue */

	while (!indexer_stopping(ix)) {
		struct indexer_batch b = {.max = INDEXER_BATCH, .max_raw = max_raw};
		size_t left = 0;
		enum vl_err rc;

		/* Started without the key (indexer_start): wait for it. */
		if (w->v == NULL && vault_open(&w->v, ix->cfg, conn, err) != VL_OK) {
			log_debug("indexer: %s", err);
			if (indexer_wait(w, INDEXER_BACKOFF_MAX_MS))
				break;
			continue;
		}
		if (new_pass) {
			if (park_due(&park))
				place.after = 0;
			from_start = place.after == 0;
			new_pass = 0;
		}
		b.after = place.after;
		rc = indexer_run_batch(w->v, conn, &b, err);

		atomic_fetch_add(&ix->indexed, b.done);
		if (rc == VL_ERR_NOKEY && !reopened) {
			struct vault *nv;

			/* Keys rotated or a dictionary trained since the vault was read: read it
			 * again and retry at once. */
			if ((rc = vault_open(&nv, ix->cfg, conn, err)) == VL_OK) {
				vault_free(w->v);
				w->v = nv;
				reopened = 1;
				continue;
			}
		}
		reopened = 0;
		if (rc == VL_OK) {
			backoff = 0;
			if (indexer_place_next(&place, &b, &left))
				continue;
			new_pass = 1;
			if (left > 0)
				park_more(&park, left);
			else if (from_start)
				park = (struct indexer_park){0}; /* none left anywhere */
			if (indexer_wait(w, INDEXER_IDLE_MS))
				break;
			continue;
		}
		if (rc == VL_ERR_NOKEY)
			log_errx("indexer: %s: the keyring lacks it; indexing waits", err);
		else
			log_warnx("indexer: %s", err);
		if (PQstatus(conn) != CONNECTION_OK)
			PQreset(conn);
		backoff = backoff_next(backoff);
		if (indexer_wait(w, backoff))
			break;
	}
	return NULL;
}

/* indexer_threads - one worker per two CPUs, at least 1, at most INDEXER_THREADS_MAX: a worker
 * keeps about two CPUs busy, itself (MIME, tokenizing) and its PostgreSQL backend (the GIN
 * insertions), and the receiver, the store writer and their backend need CPUs too. Measured on
 * 2 CPUs (bench/ingest.sh's loads, serve indexing as mail arrives): two workers against one
 * acknowledged 20 KB unique messages at ~470/s against ~790/s, and made the Enron replay
 * searchable at ~950/s against ~1,040/s. */
static int
indexer_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN) / 2;

	return n < 1 ? 1 : n > INDEXER_THREADS_MAX ? INDEXER_THREADS_MAX : (int)n;
}

static void
indexer_free(struct indexer *ix)
{
	for (int i = 0; i < INDEXER_THREADS_MAX; i++) {
		vault_free(ix->w[i].v);
		db_close(ix->w[i].db);
	}
	free(ix);
}

enum vl_err
indexer_start(struct indexer **out, const struct vl_config *cfg, char *err)
{
	struct indexer *ix = xcalloc(1, sizeof(*ix));
	int want = indexer_threads();
	pthread_condattr_t ca;
	sigset_t all, old;
	enum vl_err rc = VL_OK;
	int e = 0;

	*out = NULL;
	ix->cfg = cfg;
	atomic_init(&ix->indexed, 0);
	for (int i = 0; i < want && rc == VL_OK; i++) {
		ix->w[i].ix = ix;
		ix->w[i].no = i;
		if ((rc = db_connect(cfg, &ix->w[i].db, err)) == VL_OK)
			rc = vault_open(&ix->w[i].v, cfg, db_conn(ix->w[i].db), err);
		/* Without the key the worker starts anyway and opens the vault once it can. */
		if (rc == VL_ERR_NOKEY) {
			if (i == 0)
				log_warnx("indexer: %s; indexing waits for it", err);
			rc = VL_OK;
		}
	}
	if (rc != VL_OK) {
		indexer_free(ix);
		return rc;
	}
	pthread_mutex_init(&ix->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ix->cv, &ca);
	pthread_condattr_destroy(&ca);
	/* Signals stay with the threads that wait for them: these block them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (ix->nw = 0; ix->nw < want; ix->nw++)
		if ((e = pthread_create(&ix->w[ix->nw].thread, NULL, indexer_main, &ix->w[ix->nw])) !=
		    0)
			break;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ix->nw == 0) {
		rc = vl_err_set(err, VL_ERR_INTERNAL, "indexer thread: %s", strerror(e));
		pthread_cond_destroy(&ix->cv);
		pthread_mutex_destroy(&ix->mu);
		indexer_free(ix);
		return rc;
	}
	*out = ix;
	return VL_OK;
}

void
indexer_kick(struct indexer *ix)
{
	pthread_mutex_lock(&ix->mu);
	ix->kicks++;
	pthread_cond_broadcast(&ix->cv);
	pthread_mutex_unlock(&ix->mu);
}

uint64_t
indexer_indexed(struct indexer *ix)
{
	return atomic_load(&ix->indexed);
}

void
indexer_stop(struct indexer *ix)
{
	if (ix == NULL)
		return;
	pthread_mutex_lock(&ix->mu);
	ix->stop = 1;
	pthread_cond_broadcast(&ix->cv);
	pthread_mutex_unlock(&ix->mu);
	for (int i = 0; i < ix->nw; i++)
		pthread_join(ix->w[i].thread, NULL);
	pthread_cond_destroy(&ix->cv);
	pthread_mutex_destroy(&ix->mu);
	indexer_free(ix);
}
