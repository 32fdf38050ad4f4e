/* store_db - the store's batch in the database (see store_db.h). */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "indexer.h"
#include "log.h"
#include "store_db.h"

enum vl_err
store_db_fail(PGconn *c, PGresult *r, char *err, const char *what)
{
	enum vl_err rc = vl_err_set(err, VL_ERR_DB, "%s: %s", what, PQerrorMessage(c));

	PQclear(r);
	return rc;
}

/* store_exec - run a parameterized statement expecting ok (command or tuples); *res is
 * returned when wanted (caller PQclears it). */
enum vl_err
store_exec(PGconn *c, const char *sql, int n, const char *const *vals, PGresult **res,
	   char *err, const char *what)
{
	PGresult *r = PQexecParams(c, sql, n, NULL, vals, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		return store_db_fail(c, r, err, what);
	if (res)
		*res = r;
	else
		PQclear(r);
	return VL_OK;
}

void
store_u64str(char out[24], uint64_t v)
{
	snprintf(out, 24, "%llu", (unsigned long long)v);
}

void
store_rows_free(struct store_rows *w)
{
	struct pgarr *a = (struct pgarr *)w;

	for (size_t i = 0; i < sizeof(*w) / sizeof(*a); i++)
		pgarr_free(&a[i]);
}

/* ---- commit ---- */

/* pipe_collect - read a pipeline's results up to its sync point, then leave pipeline mode.
 * keep[0..nkeep) (keep may be NULL) receives the first results, for the caller to clear; the
 * rest are cleared here. rc is the caller's outcome so far (its message already in err): the
 * first failure wins, and what[i] names statement i in its message. VL_ERR_DB, also when the
 * count of results is not nwhat. */
static enum vl_err
pipe_collect(struct store *s, const char *const *what, size_t nwhat, PGresult **keep,
	     size_t nkeep, enum vl_err rc, char *err)
{
	size_t i = 0;
	PGresult *r;

	for (;;) {
		if ((r = PQgetResult(s->conn)) == NULL) {
			if (PQstatus(s->conn) != CONNECTION_OK)
				break;
			continue;
		}
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			break;
		}
		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && rc == VL_OK)
			rc = vl_err_set(err, VL_ERR_DB, "%s: %s", i < nwhat ? what[i] : "pipeline",
					st == PGRES_PIPELINE_ABORTED ? "aborted"
								     : PQresultErrorMessage(r));
		if (keep && i < nkeep)
			keep[i] = r;
		else
			PQclear(r);
		i++;
	}
	if (!PQexitPipelineMode(s->conn) && rc == VL_OK)
		rc = vl_err_set(err, VL_ERR_DB, "pipeline end: %s", PQerrorMessage(s->conn));
	if (rc == VL_OK && i != nwhat)
		rc = vl_err_set(err, VL_ERR_DB, "pipeline: %zu results for %zu statements", i,
				nwhat);
	return rc;
}

/* The batch's first round trip, one pipeline: the ledger lock, the ledger head, which of the
 * batch's addresses are archived already, and ids for its messages and receipts. Message ids
 * are taken for every distinct address; those found archived are not used (a sequence has gaps
 * anyway), which is cheaper than another round trip. */
enum { BEGIN_LOCK, BEGIN_HEAD, BEGIN_EXISTING, BEGIN_MESSAGE_IDS, BEGIN_RECEIPT_IDS, BEGIN_N };

static const char *const begin_what[BEGIN_N] = {"ledger lock", "ledger head", "dedup lookup",
						 "take message ids", "take receipt ids"};

/* store_begin_send - queue the five statements and the sync point (pipeline mode). */
static enum vl_err
store_begin_send(struct store *s, size_t nfirst, char *err)
{
	struct pgarr addrs = {0};
	char nm[24], nr[24];
	int ok;

	for (size_t i = 0; i < s->nitems; i++)
		if (s->items[i].first < 0)
			pgarr_bytea(&addrs, s->results[i].address, 32);
	store_u64str(nm, nfirst);
	store_u64str(nr, s->nitems);
	const char *a[] = {pgarr_str(&addrs)}, *m[] = {nm}, *r[] = {nr};
	ok = PQsendQueryParams(s->conn, "SELECT pg_advisory_lock(" LEDGER_LOCK_KEY ")", 0, NULL,
			       NULL, NULL, NULL, 0) &&
	     PQsendQueryParams(s->conn, LEDGER_HEAD_SQL, 0, NULL, NULL, NULL, NULL, 1) &&
	     PQsendQueryParams(s->conn,
			       "SELECT encode(address, 'hex'), id FROM messages"
			       " WHERE address = ANY($1::bytea[])",
			       1, NULL, a, NULL, NULL, 0) &&
	     PQsendQueryParams(s->conn,
			       "SELECT nextval('message_id_seq') FROM generate_series(1, $1::int)",
			       1, NULL, m, NULL, NULL, 0) &&
	     PQsendQueryParams(s->conn,
			       "SELECT nextval('receipts_id_seq') FROM generate_series(1, $1::int)",
			       1, NULL, r, NULL, NULL, 0) &&
	     PQpipelineSync(s->conn);
	pgarr_free(&addrs);
	if (!ok)
		return vl_err_set(err, VL_ERR_DB, "batch start: %s", PQerrorMessage(s->conn));
	return VL_OK;
}

/* store_apply_existing - the message ids of the batch's addresses archived already. */
static void
store_apply_existing(struct store *s, PGresult *r)
{
	for (int j = 0; j < PQntuples(r); j++) {
		uint8_t a[32];

		if (hex_decode(a, 32, PQgetvalue(r, j, 0)) != 0)
			continue;
		for (size_t i = 0; i < s->nitems; i++)
			if (s->items[i].first < 0 && memcmp(s->results[i].address, a, 32) == 0)
				s->results[i].message_id = strtoull(PQgetvalue(r, j, 1), NULL, 10);
	}
}

/* store_apply_ids - message ids for the new messages, receipt ids for every item. */
static void
store_apply_ids(struct store *s, PGresult *mids, PGresult *rids)
{
	int k = 0;

	for (size_t i = 0; i < s->nitems; i++) {
		struct store_result *res = &s->results[i];

		if (s->items[i].first >= 0) {
			res->message_id = s->results[s->items[i].first].message_id;
		} else if (res->message_id == 0) {
			VL_ASSERT(k < PQntuples(mids));
			res->message_id = strtoull(PQgetvalue(mids, k++, 0), NULL, 10);
			res->is_new = 1;
		}
		VL_ASSERT((int)i < PQntuples(rids));
		s->items[i].receipt_id = strtoull(PQgetvalue(rids, (int)i, 0), NULL, 10);
	}
}

/* store_begin_batch - take the ledger lock and everything the batch needs from the database
 * before it is written, in one round trip (see begin_what). On failure the lock is not held. */
enum vl_err
store_begin_batch(struct store *s, char *err)
{
	PGresult *res[BEGIN_N] = {0};
	struct ledger_head db;
	size_t nfirst = 0;
	int locked = 0;
	enum vl_err rc;

	for (size_t i = 0; i < s->nitems; i++)
		if (s->items[i].first < 0)
			nfirst++;
	if (!PQenterPipelineMode(s->conn))
		return vl_err_set(err, VL_ERR_DB, "pipeline: %s", PQerrorMessage(s->conn));
	rc = store_begin_send(s, nfirst, err);
	rc = pipe_collect(s, begin_what, BEGIN_N, res, BEGIN_N, rc, err);
	locked = res[BEGIN_LOCK] && PQresultStatus(res[BEGIN_LOCK]) == PGRES_TUPLES_OK;
	/* A stale head is reloaded by store_prepare_segment; else another appender (disposal)
	 * may have moved it. */
	if (rc == VL_OK && !s->head_stale &&
	    (rc = ledger_head_read(res[BEGIN_HEAD], &db, err)) == VL_OK)
		s->head = db;
	if (rc == VL_OK) {
		store_apply_existing(s, res[BEGIN_EXISTING]);
		store_apply_ids(s, res[BEGIN_MESSAGE_IDS], res[BEGIN_RECEIPT_IDS]);
	}
	for (int i = 0; i < BEGIN_N; i++)
		PQclear(res[i]);
	if (rc != VL_OK && locked)
		store_ledger_unlock(s);
	return rc;
}

void
store_rows_add_message(struct store_rows *w, const struct store_item *it,
		 const struct store_result *res, const struct record_info *info)
{
	pgarr_bytea(&w->b_addr, res->address, 32);
	pgarr_bytea(&w->b_sha, res->sha256, 32);
	pgarr_int64(&w->b_raw, (int64_t)it->src.len);
	pgarr_int64(&w->b_rec, (int64_t)info->record_len);
	pgarr_int64(&w->b_key, it->key_id);
	pgarr_int64(&w->b_dict, it->dict_id);
	pgarr_int64(&w->b_off, (int64_t)it->blob_off);
	pgarr_int64(&w->m_id, (int64_t)res->message_id);
	pgarr_int64(&w->m_recv, it->received_us);
	pgarr_bytea(&w->m_addr, res->address, 32);
	pgarr_bytea(&w->m_sha, res->sha256, 32);
	pgarr_int64(&w->m_size, (int64_t)it->src.len);
	pgarr_text(&w->m_from, it->hdr.from);
	pgarr_text(&w->m_to, it->hdr.to);
	pgarr_text(&w->m_cc, it->hdr.cc);
	pgarr_text(&w->m_subj, it->hdr.subject);
	pgarr_int64(&w->m_date, it->hdr.date_us);
	pgarr_text(&w->m_msgid, it->hdr.message_id);
	pgarr_text(&w->m_perr, it->hdr.parse_error ? "t" : "f");
}

/* store_rows_add_requeue - one envelope address of a receipt for a message archived before:
 * SQL_REQUEUE indexes the message again only if its addr_terms lack the address. */
static void
store_rows_add_requeue(struct store_rows *w, uint64_t message_id, char field, const char *addr)
{
	char f[2] = {field, 0};

	pgarr_int64(&w->q_id, (int64_t)message_id);
	pgarr_text(&w->q_field, f);
	pgarr_text(&w->q_addr, addr ? addr : "");
}

void
store_rows_add_receipt(struct store_rows *w, const struct store_item *it,
		 const struct store_result *res, const struct store_result *rs)
{
	pgarr_int64(&w->r_id, (int64_t)it->receipt_id);
	pgarr_int64(&w->r_msg, (int64_t)res->message_id);
	pgarr_int64(&w->r_recv, it->received_us);
	pgarr_text(&w->r_src, it->source);
	pgarr_text(&w->r_origin, it->origin);
	pgarr_text(&w->r_from, it->mail_from);
	pgarr_text(&w->r_client, it->client_addr);
	pgarr_text(&w->r_helo, it->helo);
	pgarr_text(&w->r_tls, it->tls);
	pgarr_text(&w->r_listener, it->listener);
	pgarr_text(&w->r_auth, it->auth_user);
	pgarr_text(&w->r_xforward, it->xforward);
	pgarr_int64(&w->r_off, (int64_t)it->receipt_off);
	pgarr_int64(&w->r_idx, it->receipt_index);
	if (it->report_slot >= 0)
		pgarr_int64(&w->r_report, (int64_t)rs[it->report_slot].message_id);
	else
		pgarr_text(&w->r_report, NULL);
	pgarr_bytea(&w->r_sha, it->receipt_sha, 32);
	if (!res->is_new)
		store_rows_add_requeue(w, res->message_id, 'e', it->mail_from);
	for (size_t k = 0; k < it->nrcpts; k++) {
		pgarr_int64(&w->e_rid, (int64_t)it->receipt_id);
		pgarr_int64(&w->e_pos, (int64_t)k);
		pgarr_text(&w->e_addr, it->rcpts[k]);
		pgarr_text(&w->e_role, it->roles[k]);
		if (res->is_new)
			continue;
		/* A bcc recipient's terms are x's alone (indexer.c, 0015_bcc_visibility.sql). */
		store_rows_add_requeue(w, res->message_id,
				       it->roles[k] && strcmp(it->roles[k], "bcc") == 0 ? 'x' : 'r',
				       it->rcpts[k]);
	}
}

/* store_ensure_partitions - the monthly partitions the batch's messages fall into. */
static enum vl_err
store_ensure_partitions(struct store *s, char *err)
{
	for (size_t i = 0; i < s->nitems; i++) {
		time_t t = (time_t)(s->items[i].received_us / 1000000);
		struct tm tm;
		int64_t month;
		size_t k;
		char us[24];
		enum vl_err rc;

		gmtime_r(&t, &tm);
		month = (int64_t)(tm.tm_year + 1900) * 12 + tm.tm_mon;
		for (k = 0; k < s->nmonths && s->months[k] != month; k++)
			;
		if (k < s->nmonths)
			continue;
		snprintf(us, sizeof(us), "%lld", (long long)s->items[i].received_us);
		const char *vals[] = {us};
		if ((rc = store_exec(s->conn, "SELECT vellum_ensure_partition(vellum_ts($1))", 1,
				     vals, NULL, err, "partition")) != VL_OK)
			return rc;
		if (s->nmonths < STORE_MONTHS_CACHED)
			s->months[s->nmonths++] = month;
	}
	return VL_OK;
}

static const char SQL_BLOBS[] =
	"INSERT INTO blobs (address, sha256, raw_size, record_size, key_id, dict_id, segment_id,"
	" record_offset, stored_at)"
	" SELECT a, h, r, rs, k, d, $8, o, vellum_ts($9) FROM unnest($1::bytea[], $2::bytea[],"
	" $3::int8[], $4::int8[], $5::int4[], $6::int4[], $7::int8[]) AS t(a, h, r, rs, k, d, o)";
static const char SQL_MESSAGES[] =
	"INSERT INTO messages (id, received_at, address, sha256, size, hdr_from, hdr_to, hdr_cc,"
	" hdr_subject, hdr_date, hdr_message_id, parse_error)"
	" SELECT i, vellum_ts(rv), a, h, sz, f, t_, c, su,"
	" CASE WHEN dt = 0 THEN NULL ELSE vellum_ts(dt) END, mid, pe"
	" FROM unnest($1::int8[], $2::int8[], $3::bytea[], $4::bytea[], $5::int8[], $6::text[],"
	" $7::text[], $8::text[], $9::text[], $10::int8[], $11::text[], $12::bool[])"
	" AS t(i, rv, a, h, sz, f, t_, c, su, dt, mid, pe)";
static const char SQL_RECEIPTS[] =
	"INSERT INTO receipts (id, message_id, received_at, source, origin, mail_from, client_addr,"
	" helo, tls, listener, segment_id, record_offset, record_index, sha256, journal_report_id,"
	" auth_user, xforward)"
	" SELECT i, m, vellum_ts(rv), src, o, mf, ca, he, tl, li, $13, off, ix, h, jr, au, xf"
	" FROM unnest($1::int8[], $2::int8[], $3::int8[], $4::text[], $5::text[], $6::text[],"
	" $7::text[], $8::text[], $9::text[], $10::text[], $11::int8[], $12::bytea[], $14::int4[],"
	" $15::int8[], $16::text[], $17::text[])"
	" AS t(i, m, rv, src, o, mf, ca, he, tl, li, off, h, ix, jr, au, xf)";
static const char SQL_RCPTS[] =
	"INSERT INTO envelope_recipients (receipt_id, position, address, role)"
	" SELECT * FROM unnest($1::int8[], $2::int4[], $3::text[], $4::text[])";
/* The same content again, with another envelope: its addr_terms (schema/0003_search.sql: e, r,
 * x from every receipt) must be built again, in this transaction so that no index run can miss
 * the new receipt; but only when the receipt brings an address the message's index row lacks
 * (the whole-address term "f:a:address", lower-cased as the indexer's envelope query does), so
 * that the same message journaled thousands of times is not parsed again each time, and every
 * re-index does not read every receipt before it. An address the indexer leaves out (the null
 * reverse-path; longer than INDEXER_TERM_MAX, $4) never asks.
 * A message the indexer is on at this moment is locked by it (its queue query's FOR UPDATE)
 * with indexed_at still NULL, and the indexer may have read its envelopes already. Waiting for
 * that lock would hold the ledger lock, and so all ingest, for the rest of an index batch (PDFs
 * cost a process each); skipping the row lost the new receipt's terms for good (seen in t35).
 * So the rows this statement can lock at once are queued here (FOR UPDATE SKIP LOCKED), and the
 * ones the indexer holds go to index_requeue (schema/0017), which every index batch first
 * turns into queued messages (indexer.c, sweep_sql) once their indexer has committed. No
 * "indexed_at IS NOT NULL" here or there: it is read from the statement's snapshot, which may
 * predate the indexer's COMMIT, and a row it rejects is skipped without a look at the latest. */
static const char SQL_REQUEUE[] =
	"WITH c AS (SELECT DISTINCT q.id FROM unnest($1::int8[], $2::text[], $3::text[])"
	" AS q(id, f, a) WHERE q.a <> '' AND octet_length(q.a) <= $4::int4"
	" AND NOT EXISTS (SELECT 1 FROM message_index i WHERE i.message_id = q.id"
	" AND i.addr_terms @> ARRAY[q.f || ':a:' || lower(q.a)])),"
	" free AS (SELECT m.id, m.received_at FROM messages m WHERE m.id IN (SELECT id FROM c)"
	" FOR UPDATE SKIP LOCKED),"
	" u AS (UPDATE messages m SET indexed_at = NULL FROM free WHERE m.id = free.id"
	" AND m.received_at = free.received_at)"
	" INSERT INTO index_requeue (message_id) SELECT id FROM c"
	" WHERE id NOT IN (SELECT id FROM free)";
const char store_sql_ledger[] =
	"INSERT INTO ledger (seq, kind, at, subject, prev_hash, entry_hash)"
	" SELECT s, k, vellum_ts(a), su, p, h FROM unnest($1::int8[], $2::text[], $3::int8[],"
	" $4::bytea[], $5::bytea[], $6::bytea[]) AS t(s, k, a, su, p, h)";

static const char SQL_SEGMENT_END[] = "UPDATE segments SET size = $2 WHERE id = $1";

/* The statements every batch runs, prepared once per database session: PostgreSQL then plans
 * them once instead of parsing and planning each again for every batch (measured: about 1 ms of
 * a 4 ms commit of 20 messages went to parse and bind). */
static const struct {
	const char *name, *sql;
} store_stmts[] = {
	{"vellum_store_blobs", SQL_BLOBS},     {"vellum_store_messages", SQL_MESSAGES},
	{"vellum_store_receipts", SQL_RECEIPTS}, {"vellum_store_rcpts", SQL_RCPTS},
	{"vellum_store_requeue", SQL_REQUEUE}, {"vellum_store_ledger", store_sql_ledger},
	{"vellum_store_segment_end", SQL_SEGMENT_END},
};

/* store_stmt_name - the prepared statement of sql, or NULL for one that is not. */
static const char *
store_stmt_name(const char *sql)
{
	for (size_t i = 0; i < sizeof(store_stmts) / sizeof(store_stmts[0]); i++)
		if (store_stmts[i].sql == sql)
			return store_stmts[i].name;
	return NULL;
}

/* store_prepare_stmts - prepare store_stmts in this database session unless done already (a
 * reset connection is a new backend, with none). VL_ERR_DB. */
static enum vl_err
store_prepare_stmts(struct store *s, char *err)
{
	int pid = PQbackendPID(s->conn);

	if (pid != 0 && pid == s->prepared_pid)
		return VL_OK;
	for (size_t i = 0; i < sizeof(store_stmts) / sizeof(store_stmts[0]); i++) {
		PGresult *r = PQprepare(s->conn, store_stmts[i].name, store_stmts[i].sql, 0, NULL);
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);

		/* 42P05: prepared already, by an earlier call that failed part way. */
		if (PQresultStatus(r) != PGRES_COMMAND_OK &&
		    !(state && strcmp(state, "42P05") == 0))
			return store_db_fail(s->conn, r, err, "prepare");
		PQclear(r);
	}
	s->prepared_pid = pid;
	return VL_OK;
}

/* pipe_send - queue one statement of the pipeline; its result is read by store_rows_finish. */
static enum vl_err
pipe_send(struct store *s, struct store_pipe *p, const char *sql, int n, const char *const *vals,
	  char *err, const char *what)
{
	const char *name = store_stmt_name(sql);
	int ok;

	VL_ASSERT(p->n < STORE_PIPE_MAX);
	if (name)
		ok = PQsendQueryPrepared(s->conn, name, n, vals, NULL, NULL, 0);
	else
		ok = PQsendQueryParams(s->conn, sql, n, NULL, vals, NULL, NULL, 0);
	if (!ok)
		return vl_err_set(err, VL_ERR_DB, "%s: %s", what, PQerrorMessage(s->conn));
	p->what[p->n++] = what;
	return VL_OK;
}

/* store_rows_send - the batch's rows and the segment's new end, sent inside BEGIN in one
 * pipeline without waiting for PostgreSQL, so the server inserts them while the caller
 * fdatasyncs the segment. Nothing is committed here: store_rows_finish reads the results and
 * sends COMMIT only once the segment is durable. The partitions the batch needs are made
 * first, outside the transaction (idempotent; a month is cached only once its partition is
 * committed). */
enum vl_err
store_rows_send(struct store *s, struct store_pipe *p, struct store_rows *w, int64_t at_us,
		char *err)
{
	char seg[24], at[24], end[24], ab_id[24], hex[70] = "\\x";
	enum vl_err rc;

	/* PQsendQueryParams copies every parameter into its output buffer: locals will do. */
	p->n = 0;
	store_u64str(seg, segment_id(s->seg));
	store_u64str(end, segment_end(s->seg));
	snprintf(at, sizeof(at), "%lld", (long long)at_us);
	if ((rc = store_ensure_partitions(s, err)) != VL_OK ||
	    (rc = store_prepare_stmts(s, err)) != VL_OK)
		return rc;
	if (!PQenterPipelineMode(s->conn))
		return vl_err_set(err, VL_ERR_DB, "pipeline: %s", PQerrorMessage(s->conn));
	if ((rc = pipe_send(s, p, "BEGIN", 0, NULL, err, "begin")) != VL_OK)
		goto out;
	if (w->b_addr.n) {
		const char *b[] = {pgarr_str(&w->b_addr), pgarr_str(&w->b_sha),	 pgarr_str(&w->b_raw),
				   pgarr_str(&w->b_rec),  pgarr_str(&w->b_key),	 pgarr_str(&w->b_dict),
				   pgarr_str(&w->b_off),  seg,		 at};
		const char *m[] = {pgarr_str(&w->m_id),	  pgarr_str(&w->m_recv), pgarr_str(&w->m_addr),
				   pgarr_str(&w->m_sha),  pgarr_str(&w->m_size), pgarr_str(&w->m_from),
				   pgarr_str(&w->m_to),	  pgarr_str(&w->m_cc),	 pgarr_str(&w->m_subj),
				   pgarr_str(&w->m_date), pgarr_str(&w->m_msgid), pgarr_str(&w->m_perr)};
		if ((rc = pipe_send(s, p, SQL_BLOBS, 9, b, err, "insert blobs")) != VL_OK ||
		    (rc = pipe_send(s, p, SQL_MESSAGES, 12, m, err, "insert messages")) != VL_OK)
			goto out;
	}
	if (w->r_id.n) {
		const char *r[] = {pgarr_str(&w->r_id),	    pgarr_str(&w->r_msg),
				   pgarr_str(&w->r_recv),   pgarr_str(&w->r_src),
				   pgarr_str(&w->r_origin), pgarr_str(&w->r_from),
				   pgarr_str(&w->r_client), pgarr_str(&w->r_helo),
				   pgarr_str(&w->r_tls),    pgarr_str(&w->r_listener),
				   pgarr_str(&w->r_off),    pgarr_str(&w->r_sha),
				   seg,		    pgarr_str(&w->r_idx),
				   pgarr_str(&w->r_report), pgarr_str(&w->r_auth),
				   pgarr_str(&w->r_xforward)};
		if ((rc = pipe_send(s, p, SQL_RECEIPTS, 17, r, err, "insert receipts")) != VL_OK)
			goto out;
	}
	if (w->e_rid.n) {
		const char *e[] = {pgarr_str(&w->e_rid), pgarr_str(&w->e_pos), pgarr_str(&w->e_addr),
				   pgarr_str(&w->e_role)};
		if ((rc = pipe_send(s, p, SQL_RCPTS, 4, e, err, "insert recipients")) != VL_OK)
			goto out;
	}
	if (w->q_id.n) {
		char tmax[24];

		store_u64str(tmax, INDEXER_TERM_MAX);
		const char *q[] = {pgarr_str(&w->q_id), pgarr_str(&w->q_field), pgarr_str(&w->q_addr),
				   tmax};
		if ((rc = pipe_send(s, p, SQL_REQUEUE, 4, q, err, "requeue for indexing")) != VL_OK)
			goto out;
	}
	if (w->l_seq.n) {
		const char *l[] = {pgarr_str(&w->l_seq),  pgarr_str(&w->l_kind), pgarr_str(&w->l_at),
				   pgarr_str(&w->l_subj), pgarr_str(&w->l_prev), pgarr_str(&w->l_hash)};
		if ((rc = pipe_send(s, p, store_sql_ledger, 6, l, err, "insert ledger")) != VL_OK)
			goto out;
	}
	if (s->pending_abandon.set) {
		hex_encode(hex + 2, s->pending_abandon.hash, 32);
		store_u64str(ab_id, s->pending_abandon.id);
		const char *a[] = {ab_id, hex, at};
		if ((rc = pipe_send(s, p,
				    "UPDATE segments SET sealed_at = vellum_ts($3), sha256 = $2"
				    " WHERE id = $1",
				    3, a, err, "close abandoned segment")) != VL_OK)
			goto out;
	}
	const char *u[] = {seg, end};
	rc = pipe_send(s, p, SQL_SEGMENT_END, 2, u, err, "segment end");
out:
	/* The sync point flushes what was queued; it ends no transaction (BEGIN is explicit). */
	if (!PQpipelineSync(s->conn) && rc == VL_OK)
		rc = vl_err_set(err, VL_ERR_DB, "pipeline sync: %s", PQerrorMessage(s->conn));
	return rc;
}

/* store_commit_unlock - COMMIT and release the ledger lock in one round trip: one simple-query
 * string, whose unlock PostgreSQL skips when the COMMIT fails. *unlocked says whether it ran. */
static enum vl_err
store_commit_unlock(struct store *s, int *unlocked, char *err)
{
	enum vl_err rc = VL_OK;
	PGresult *r;

	*unlocked = 0;
	if (!PQsendQuery(s->conn, "COMMIT; SELECT pg_advisory_unlock(" LEDGER_LOCK_KEY ")"))
		return vl_err_set(err, VL_ERR_DB, "commit: %s", PQerrorMessage(s->conn));
	for (int k = 0; (r = PQgetResult(s->conn)) != NULL; k++) {
		ExecStatusType st = PQresultStatus(r);

		/* A COMMIT that answers ROLLBACK (an aborted transaction) committed nothing. */
		if (k == 0 && (st != PGRES_COMMAND_OK || strcmp(PQcmdStatus(r), "COMMIT") != 0) &&
		    rc == VL_OK)
			rc = vl_err_set(err, VL_ERR_DB, "commit: %s",
					st == PGRES_COMMAND_OK ? "rolled back"
							       : PQresultErrorMessage(r));
		else if (k == 1 && st == PGRES_TUPLES_OK)
			*unlocked = 1;
		PQclear(r);
	}
	return rc;
}

/* store_rows_finish - read every result of store_rows_send's pipeline, leave pipeline mode,
 * then COMMIT when every statement succeeded and synced (the segment's fdatasync) is VL_OK,
 * else ROLLBACK. With release set the COMMIT releases the ledger lock too (*unlocked says
 * whether it did). sent is store_rows_send's result; err keeps the first error. */
enum vl_err
store_rows_finish(struct store *s, struct store_pipe *p, enum vl_err sent, enum vl_err synced,
		  int release, int *unlocked, char *err)
{
	enum vl_err rc = sent != VL_OK ? sent : synced;

	*unlocked = 0;
	if (PQpipelineStatus(s->conn) == PQ_PIPELINE_OFF)
		return rc; /* failed before the pipeline began: nothing is open */
	/* Each statement's result is followed by a NULL; the sync point ends the pipeline. */
	rc = pipe_collect(s, p->what, p->n, NULL, 0, rc, err);
	if (rc == VL_OK && release)
		rc = store_commit_unlock(s, unlocked, err);
	else if (rc == VL_OK)
		rc = store_exec(s->conn, "COMMIT", 0, NULL, NULL, err, "commit");
	else
		PQclear(PQexec(s->conn, "ROLLBACK"));
	return rc;
}

/* store_ledger_unlock / store_ledger_lock - LEDGER_LOCK_KEY around a dictionary's ledger entry
 * (a batch takes it in store_begin_batch's pipeline and usually drops it with its COMMIT):
 * disposal (retention-policies/dispose.c) appends to the ledger too, so the head in memory is
 * taken from the database's under the lock, where another appender may have moved it. */
void
store_ledger_unlock(struct store *s)
{
	PQclear(PQexec(s->conn, "SELECT pg_advisory_unlock(" LEDGER_LOCK_KEY ")"));
}

enum vl_err
store_ledger_lock(struct store *s, char *err)
{
	struct ledger_head db;
	enum vl_err rc = store_exec(s->conn, "SELECT pg_advisory_lock(" LEDGER_LOCK_KEY ")", 0,
				    NULL, NULL, err, "ledger lock");

	if (rc != VL_OK || s->head_stale)
		return rc; /* a stale head is reloaded by store_prepare_segment */
	if ((rc = ledger_head_load(s->conn, &db, err)) != VL_OK) {
		store_ledger_unlock(s);
		return rc;
	}
	s->head = db; /* another appender (disposal) may have moved it */
	return VL_OK;
}
