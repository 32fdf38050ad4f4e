/* indexer - makes archived messages searchable, behind the acknowledgement.
 *
 * One batch is one transaction: take the oldest waiting messages with FOR UPDATE SKIP LOCKED
 * (row locks held until commit keep a second indexer off them), read and extract each one,
 * write every row with three unnest() statements, mark the messages indexed, commit. If the
 * batch's rows are refused, each message is retried alone under a savepoint, and one that is
 * still refused gets a row without text and parse_error: the queue always moves. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "db.h"
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
	" WHERE m.indexed_at IS NULL ORDER BY m.id LIMIT $1::int8 FOR UPDATE OF m SKIP LOCKED";

/* Re-indexing replaces: attachments first (their number may change), then the index row. */
static const char delete_att_sql[] = "DELETE FROM attachments WHERE message_id = ANY($1::int8[])";

static const char insert_index_sql[] =
	"INSERT INTO message_index (message_id, received_at, sender, reply_to, hdr_bcc,"
	" in_reply_to, refs, from_addrs, to_addrs, cc_addrs, bcc_addrs, has_attachment,"
	" attachment_names, body, tsv)"
	" SELECT u.id, vellum_ts(u.rat), u.sender, u.reply_to, u.bcc, u.irt, u.refs,"
	" u.fa::text[], u.ta::text[], u.ca::text[], u.ba::text[], u.ha, u.names::text[], u.body,"
	" setweight(vellum_fts(u.sf), 'A') || setweight(vellum_fts(u.nf), 'B')"
	" || vellum_fts(u.bf)"
	" FROM unnest($1::int8[], $2::int8[], $3::text[], $4::text[], $5::text[], $6::text[],"
	" $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::bool[],"
	" $13::text[], $14::text[], $15::text[], $16::text[], $17::text[])"
	" AS u(id, rat, sender, reply_to, bcc, irt, refs, fa, ta, ca, ba, ha, names, body,"
	" sf, nf, bf)"
	" ON CONFLICT (message_id) DO UPDATE SET received_at = EXCLUDED.received_at,"
	" sender = EXCLUDED.sender, reply_to = EXCLUDED.reply_to, hdr_bcc = EXCLUDED.hdr_bcc,"
	" in_reply_to = EXCLUDED.in_reply_to, refs = EXCLUDED.refs,"
	" from_addrs = EXCLUDED.from_addrs, to_addrs = EXCLUDED.to_addrs,"
	" cc_addrs = EXCLUDED.cc_addrs, bcc_addrs = EXCLUDED.bcc_addrs,"
	" has_attachment = EXCLUDED.has_attachment,"
	" attachment_names = EXCLUDED.attachment_names, body = EXCLUDED.body, tsv = EXCLUDED.tsv";

static const char insert_att_sql[] =
	"INSERT INTO attachments (message_id, position, filename, content_type, size)"
	" SELECT * FROM unnest($1::int8[], $2::int4[], $3::text[], $4::text[], $5::int8[])";

static const char mark_sql[] =
	"UPDATE messages m SET indexed_at = now(), parse_error = m.parse_error OR u.perr"
	" FROM unnest($1::int8[], $2::int8[], $3::bool[]) AS u(id, rat, perr)"
	" WHERE m.id = u.id AND m.received_at = vellum_ts(u.rat)";

/* One requeue step (vellum index --all): the next INDEXER_REQUEUE_ROWS ids after $1. */
static const char requeue_sql[] =
	"WITH s AS (SELECT id, received_at FROM messages WHERE id > $1::int8"
	" ORDER BY id LIMIT $2::int8),"
	" u AS (UPDATE messages m SET indexed_at = NULL FROM s"
	" WHERE m.id = s.id AND m.received_at = s.received_at RETURNING m.id)"
	" SELECT count(*), coalesce(max(id), 0) FROM u";

#define INDEX_COLS 17

/* One message of the batch: its extraction (body already cut to INDEXER_BODY_MAX). */
struct row {
	int64_t id, rat_us;
	struct mime_meta m;
	int perr;
};

/* ---- building the statements ---- */

static void
arr_of_addrs(struct pgarr *outer, struct pgarr *inner, const struct mime_addrs *a)
{
	pgarr_reset(inner);
	for (size_t i = 0; i < a->n; i++)
		pgarr_text(inner, a->addrs[i]);
	pgarr_text(outer, pgarr_str(inner));
}

/* names_text - attachment names as indexed: each name, then again with its punctuation as
 * spaces, so "Q3_report-final.xls" is found by q3, report, final or xls. */
static void
names_text(struct buf *out, const struct mime_meta *m)
{
	for (size_t i = 0; i < m->nattachments; i++) {
		const char *f = m->attachments[i].filename;

		if (f == NULL)
			continue;
		buf_appendf(out, "%s%s ", out->len ? " " : "", f);
		for (const char *p = f; *p; p++)
			buf_append(out, strchr("._-+~,;()[]{}", *p) ? " " : p, 1);
	}
}

static void
arr_fts(struct pgarr *a, struct buf *tmp, const char *s, size_t n)
{
	buf_reset(tmp);
	mime_fts_text(tmp, s ? s : "", s ? n : 0);
	buf_append(tmp, "", 0); /* NUL-terminated even when empty */
	pgarr_text(a, (const char *)tmp->data);
}

/* insert_rows - the index rows and attachments of rows[0..n), replacing earlier ones. */
static enum vl_err
insert_rows(PGconn *conn, const struct row *rows, size_t n, char *err)
{
	struct pgarr c[INDEX_COLS] = {0}, att[5] = {0}, inner = {0};
	struct buf tmp = {0}, names = {0};
	const char *vals[INDEX_COLS];
	enum vl_err rc;

	for (size_t r = 0; r < n; r++) {
		const struct mime_meta *m = &rows[r].m;

		pgarr_int64(&c[0], rows[r].id);
		pgarr_int64(&c[1], rows[r].rat_us);
		pgarr_text(&c[2], m->sender.text);
		pgarr_text(&c[3], m->reply_to.text);
		pgarr_text(&c[4], m->bcc.text);
		pgarr_text(&c[5], m->in_reply_to);
		pgarr_text(&c[6], m->references);
		arr_of_addrs(&c[7], &inner, &m->from);
		arr_of_addrs(&c[8], &inner, &m->to);
		arr_of_addrs(&c[9], &inner, &m->cc);
		arr_of_addrs(&c[10], &inner, &m->bcc);
		pgarr_text(&c[11], m->has_attachment ? "t" : "f");
		pgarr_reset(&inner);
		for (size_t i = 0; i < m->nattachments; i++)
			if (m->attachments[i].filename)
				pgarr_text(&inner, m->attachments[i].filename);
		pgarr_text(&c[12], pgarr_str(&inner));
		pgarr_text(&c[13], m->body);
		arr_fts(&c[14], &tmp, m->subject, m->subject ? strlen(m->subject) : 0);
		buf_reset(&names);
		names_text(&names, m);
		arr_fts(&c[15], &tmp, (const char *)names.data, names.len);
		arr_fts(&c[16], &tmp, m->body, m->body_len);
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
	if ((rc = db_exec(conn, delete_att_sql, 1, vals, err)) != VL_OK ||
	    (rc = db_exec(conn, insert_index_sql, INDEX_COLS, vals, err)) != VL_OK)
		goto out;
	if (att[0].n > 0) {
		const char *avals[5];

		for (int i = 0; i < 5; i++)
			avals[i] = pgarr_str(&att[i]);
		rc = db_exec(conn, insert_att_sql, 5, avals, err);
	}
out:
	for (int i = 0; i < INDEX_COLS; i++)
		pgarr_free(&c[i]);
	for (int i = 0; i < 5; i++)
		pgarr_free(&att[i]);
	pgarr_free(&inner);
	buf_free(&tmp);
	buf_free(&names);
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
		mime_meta_free(&rows[r].m);
		rows[r].perr = 1;
		if ((rc = insert_rows(conn, &rows[r], 1, err)) != VL_OK)
			return rc;
	}
	return VL_OK;
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

/* cut_body - keep at most INDEXER_BODY_MAX bytes of the body, ending on a whole character. */
static void
cut_body(struct mime_meta *m)
{
	size_t n = m->body_len;

	if (n <= INDEXER_BODY_MAX)
		return;
	n = INDEXER_BODY_MAX;
	while (n > 0 && ((uint8_t)m->body[n] & 0xc0) == 0x80)
		n--;
	m->body[n] = 0;
	m->body = xrealloc(m->body, n + 1);
	m->body_len = n;
}

/* read_one - fill row r from the queue row i of q. VL_ERR_NOKEY (the vault is stale) leaves r
 * empty; every other failure is the message's own and is recorded in r. */
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
	if (rc != VL_OK)
		goto unreadable;
	if ((rc = mime_extract(&r->m, raw.b.data, raw.b.len, detail)) != VL_OK)
		goto unreadable;
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
	rc = VL_OK;
out:
	buf_free(&raw.b);
	return rc;
}

enum vl_err
indexer_run_batch(struct vault *v, PGconn *conn, size_t max, size_t *done, char *err)
{
	char lim[24];
	const char *vals[] = {lim};
	struct row *rows = NULL;
	PGresult *q = NULL;
	size_t n = 0, bytes = 0;
	enum vl_err rc, stop = VL_OK;
	int nq;

	*done = 0;
	snprintf(lim, sizeof(lim), "%zu", max);
	if ((rc = db_begin(conn, err)) != VL_OK)
		return rc;
	if ((rc = db_query(conn, queue_sql, 1, vals, &q, err)) != VL_OK)
		goto fail;
	nq = PQntuples(q);
	rows = xcalloc((size_t)nq + 1, sizeof(*rows));
	/* Messages after a stop stay locked, unread, until the commit: still waiting. */
	for (int i = 0; i < nq && bytes < INDEXER_BATCH_BYTES; i++) {
		if ((stop = read_one(v, q, i, &rows[n], &bytes, err)) != VL_OK)
			break;
		n++;
	}
	if (n > 0 && ((rc = write_rows(conn, rows, n, err)) != VL_OK ||
		      (rc = mark_rows(conn, rows, n, err)) != VL_OK))
		goto fail;
	if ((rc = db_commit(conn, err)) != VL_OK)
		goto out;
	*done = n;
	rc = stop;
	goto out;
fail:
	db_rollback(conn, NULL);
out:
	for (size_t i = 0; i < n; i++)
		mime_meta_free(&rows[i].m);
	free(rows);
	PQclear(q);
	return rc;
}

enum vl_err
indexer_lag(PGconn *conn, int64_t *unindexed, char *err)
{
	PGresult *r = NULL;
	enum vl_err rc;

	*unindexed = 0;
	rc = db_query(conn, "SELECT count(*) FROM messages WHERE indexed_at IS NULL", 0, NULL, &r,
		      err);
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

struct indexer {
	const struct vl_config *cfg;
	struct db *db;
	struct vault *v;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop, kicked; /* under mu */
	atomic_uint_fast64_t indexed;
};

/* indexer_wait - sleep ms, or until kicked or stopped. Returns non-zero when stopping. */
static int
indexer_wait(struct indexer *ix, unsigned ms)
{
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
	while (!ix->stop && !ix->kicked)
		if (pthread_cond_timedwait(&ix->cv, &ix->mu, &until) == ETIMEDOUT)
			break;
	ix->kicked = 0;
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

static void *
indexer_main(void *arg)
{
	struct indexer *ix = arg;
	PGconn *conn = db_conn(ix->db);
	char err[VL_ERRLEN];
	unsigned backoff = 0;
	int reopened = 0; /* the vault was reopened for the VL_ERR_NOKEY just seen */

	while (!indexer_stopping(ix)) {
		size_t done = 0;
		enum vl_err rc = indexer_run_batch(ix->v, conn, INDEXER_BATCH, &done, err);

		atomic_fetch_add(&ix->indexed, done);
		if (rc == VL_ERR_NOKEY && !reopened) {
			struct vault *nv;

			/* Keys rotated or a dictionary trained since the vault was read: read it
			 * again and retry at once. */
			if ((rc = vault_open(&nv, ix->cfg, conn, err)) == VL_OK) {
				vault_free(ix->v);
				ix->v = nv;
				reopened = 1;
				continue;
			}
		}
		reopened = 0;
		if (rc == VL_OK) {
			backoff = 0;
			if (done == 0 && indexer_wait(ix, INDEXER_IDLE_MS))
				break;
			continue;
		}
		if (rc == VL_ERR_NOKEY)
			log_errx("indexer: %s: the keyring lacks it; indexing waits", err);
		else
			log_warnx("indexer: %s", err);
		if (PQstatus(conn) != CONNECTION_OK)
			PQreset(conn);
		backoff = backoff ? backoff * 2 : 1000;
		if (backoff > INDEXER_BACKOFF_MAX_MS)
			backoff = INDEXER_BACKOFF_MAX_MS;
		if (indexer_wait(ix, backoff))
			break;
	}
	return NULL;
}

enum vl_err
indexer_start(struct indexer **out, const struct vl_config *cfg, char *err)
{
	struct indexer *ix = xcalloc(1, sizeof(*ix));
	pthread_condattr_t ca;
	sigset_t all, old;
	enum vl_err rc;
	int e;

	*out = NULL;
	ix->cfg = cfg;
	atomic_init(&ix->indexed, 0);
	if ((rc = db_connect(cfg, &ix->db, err)) != VL_OK ||
	    (rc = vault_open(&ix->v, cfg, db_conn(ix->db), err)) != VL_OK)
		goto fail;
	pthread_mutex_init(&ix->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ix->cv, &ca);
	pthread_condattr_destroy(&ca);
	/* Signals stay with the threads that wait for them: this one blocks them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	e = pthread_create(&ix->thread, NULL, indexer_main, ix);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		rc = vl_err_set(err, VL_ERR_INTERNAL, "indexer thread: %s", strerror(e));
		pthread_cond_destroy(&ix->cv);
		pthread_mutex_destroy(&ix->mu);
		goto fail;
	}
	*out = ix;
	return VL_OK;
fail:
	vault_free(ix->v);
	db_close(ix->db);
	free(ix);
	return rc;
}

void
indexer_kick(struct indexer *ix)
{
	pthread_mutex_lock(&ix->mu);
	ix->kicked = 1;
	pthread_cond_signal(&ix->cv);
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
	pthread_cond_signal(&ix->cv);
	pthread_mutex_unlock(&ix->mu);
	pthread_join(ix->thread, NULL);
	pthread_cond_destroy(&ix->cv);
	pthread_mutex_destroy(&ix->mu);
	vault_free(ix->v);
	db_close(ix->db);
	free(ix);
}
