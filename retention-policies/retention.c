/* retention - the site's policy set applied to the archive: retain-until per message. */
#include <gmime/gmime.h>
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "buf.h"
#include "db.h"
#include "fsutil.h"
#include "log.h"
#include "pgarray.h"
#include "query.h"
#include "retention.h"
#include "vault.h"

#define SEP "\x1f"

/* The facts of a batch of indexed messages; lists joined by SEP. The header addresses are the
 * whole addresses of the message's terms (vellum_addr_list, 0007_index_size.sql): f From, t
 * To, c Cc, b Bcc (the headers; the envelope comes from the receipts here). */
static const char facts_sql[] =
	"SELECT m.id, vellum_us(m.received_at), vellum_us(mi.sent_at),"
	" array_to_string(vellum_addr_list(mi.addr_terms, 'f') || coalesce((SELECT"
	" array_agg(lower(r.mail_from)) FROM receipts r WHERE r.message_id = m.id AND"
	" r.mail_from <> ''), '{}'), chr(31)),"
	" array_to_string(vellum_addr_list(mi.addr_terms, 'tcb') || coalesce((SELECT"
	" array_agg(lower(e.address)) FROM receipts r JOIN envelope_recipients e ON e.receipt_id ="
	" r.id WHERE r.message_id = m.id), '{}'), chr(31)),"
	" coalesce((SELECT string_agg(DISTINCT ca.custodian, chr(31)) FROM custodian_addresses ca"
	" WHERE ca.address = ANY(vellum_addr_list(mi.addr_terms, 'ftcb'))), ''),"
	" coalesce((SELECT string_agg(DISTINCT x, chr(31)) FROM receipts r, LATERAL (VALUES"
	" (r.listener), (r.source)) v(x) WHERE r.message_id = m.id AND x <> ''), ''),"
	" coalesce(m.hdr_subject, ''), coalesce(m.hdr_from, ''), coalesce(m.hdr_to, ''),"
	" coalesce(m.hdr_cc, ''), coalesce(m.hdr_message_id, ''),"
	" coalesce(vellum_us(m.retain_until), 0), coalesce(m.retention_mode, ''),"
	" b.segment_id, b.record_offset, encode(m.sha256, 'hex')"
	" FROM messages m JOIN message_index mi ON mi.message_id = m.id"
	" JOIN blobs b ON b.address = m.address"
	" WHERE m.id > $1::int8 AND ($2::boolean OR m.retain_until IS NULL)";
#define FACTS_ORDER " ORDER BY m.id LIMIT 1000"

/* The batch's rows are locked first, in id order (FOR UPDATE above the ORDER BY), as by the
 * indexer's sweep and requeue (archiver/indexer.c): two statements that each wait for rows
 * the other has locked, taken in different orders, deadlock. */
static const char update_sql[] =
	"WITH l AS (SELECT m.id, m.received_at FROM messages m WHERE m.id = ANY ($1::int8[])"
	" ORDER BY m.id FOR UPDATE OF m)"
	" UPDATE messages m SET retain_until = vellum_ts(t.u), retention_policy = t.p,"
	" retention_mode = t.mo FROM unnest($1::int8[], $2::int8[], $3::text[], $4::text[])"
	" AS t(i, u, p, mo), l WHERE m.id = t.i AND m.id = l.id AND m.received_at = l.received_at";

enum vl_err
retention_load(const struct vl_config *cfg, struct policy_set **out, char *err)
{
	char path[CONFIG_PATH_MAX];
	struct buf b = {0};
	enum vl_err rc;

	config_path(path, cfg, RETENTION_SET_FILE);
	if ((rc = fs_read_all(&b, path, 4 << 20, err)) != VL_OK) {
		buf_free(&b);
		return vl_err_set(err, VL_ERR_NOTFOUND, "no policy set at %s (copy a preset from "
				  "retention-policies/presets/ there)", path);
	}
	buf_append(&b, "", 1);
	rc = policy_set_parse(out, (const char *)b.data, err);
	buf_free(&b);
	return rc;
}

enum vl_err
retention_record_set(PGconn *c, const char *actor, const struct policy_set *s,
		     struct retention_result *res, char *err)
{
	char *canon = policy_set_canonical(s), hex[65], *details;
	uint8_t h[32];
	const char *vals[3];
	PGresult *r = NULL;
	enum vl_err rc;

	crypto_hash_sha256(h, (const uint8_t *)canon, strlen(canon));
	hex_encode(hex, h, 32);
	memcpy(res->sha256, hex, sizeof(hex));
	vals[0] = hex;
	vals[1] = canon;
	vals[2] = actor;
	rc = db_query(c,
		      "INSERT INTO policy_sets (sha256, body, applied_by) SELECT decode($1, 'hex'),"
		      " $2::jsonb, $3 WHERE decode($1, 'hex') IS DISTINCT FROM (SELECT sha256 FROM"
		      " policy_sets ORDER BY version DESC LIMIT 1) RETURNING version",
		      3, vals, &r, err);
	if (rc == VL_OK && PQntuples(r) == 1) {
		res->version = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		details = xasprintf("{\"sha256\": \"%s\", \"version\": %lld}", hex,
				    (long long)res->version);
		rc = audit_append(c, actor, NULL, "retention.policy_set", hex, details, err);
		free(details);
	}
	PQclear(r);
	free(canon);
	return rc;
}

/* A batch's query hits, per policy with a query: sorted message ids. */
struct qhits {
	int64_t **ids;
	size_t *n;
	int64_t current;
};

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int
qhit(void *arg, size_t i, const char *query)
{
	struct qhits *q = arg;

	(void)query;
	return q->ids[i] && bsearch(&q->current, q->ids[i], q->n[i], sizeof(int64_t), cmp64);
}

/* qhits_load - for every policy with a query, which of the batch's ids it matches. */
static enum vl_err
qhits_load(PGconn *c, const struct policy_set *s, const char *ids, struct qhits *q, char *err)
{
	enum vl_err rc = VL_OK;

	for (size_t i = 0; rc == VL_OK && i < policy_count(s); i++) {
		struct query_sql qs = {0};
		PGresult *r = NULL;
		const char **vals;
		char *sql;

		if (policy_query(s, i) == NULL)
			continue;
		if ((rc = query_compile(&qs, policy_query(s, i), 2, err)) != VL_OK)
			break;
		sql = xasprintf("SELECT mi.message_id FROM message_index mi WHERE mi.message_id ="
				" ANY($1::int8[]) AND (%s) ORDER BY 1", qs.where);
		vals = xcalloc((size_t)qs.nparams + 1, sizeof(*vals));
		vals[0] = ids;
		for (int k = 0; k < qs.nparams; k++)
			vals[k + 1] = qs.params[k];
		rc = db_query(c, sql, qs.nparams + 1, vals, &r, err);
		q->n[i] = rc == VL_OK ? (size_t)PQntuples(r) : 0;
		q->ids[i] = xcalloc(q->n[i] + 1, sizeof(int64_t));
		for (size_t k = 0; k < q->n[i]; k++)
			q->ids[i][k] = strtoll(PQgetvalue(r, (int)k, 0), NULL, 10);
		PQclear(r);
		free(vals);
		free(sql);
		query_sql_free(&qs);
	}
	return rc;
}

static void
qhits_reset(struct qhits *q, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(q->ids[i]);
		q->ids[i] = NULL;
		q->n[i] = 0;
	}
}

/* split - a SEP-joined list into pointers into s (modified). */
static size_t
split(char *s, const char **out, size_t max)
{
	size_t n = 0;
	char *save = NULL;

	for (char *t = strtok_r(s, SEP, &save); t && n < max; t = strtok_r(NULL, SEP, &save))
		out[n++] = t;
	return n;
}

#define FACTS_MAX 4096

/* The headers the database keeps (messages.hdr_*), in facts_sql's column order from 7. */
static const char *const stored_headers[] = {"Subject", "From", "To", "Cc", "Message-ID"};
#define STORED_HEADERS 5

struct facts {
	const char *snd[FACTS_MAX], *rcp[FACTS_MAX], *cus[256], *lis[64];
	struct policy_header hdr[STORED_HEADERS + RETENTION_HEADERS_MAX];
	struct policy_msg m;
	GMimeMessage *own; /* the message's own headers, when read */
};

/* What reads messages' own headers for a run, when a policy needs one the database lacks. */
struct hdr_reader {
	struct vault *vault; /* NULL: not needed */
	struct buf head;
	int64_t *reads;
};

static enum vl_err
head_fn(void *arg, const uint8_t *p, size_t n)
{
	struct buf *b = arg;

	if (b->len < RETENTION_HEADER_BYTES)
		buf_append(b, p, n < RETENTION_HEADER_BYTES - b->len ? n : RETENTION_HEADER_BYTES - b->len);
	return VL_OK;
}

/* facts_own_headers - add the message's own header fields (row i's record) to f, read and
 * parsed with GMime as `vellum retention test` reads a file. A message whose record is damaged
 * keeps the stored headers only (logged, not fatal: the others still get retention). VL_ERR_BUSY
 * (err names the message) when the record could not be opened just now: no decision may rest
 * on that. */
static enum vl_err
facts_own_headers(struct facts *f, struct hdr_reader *h, PGresult *r, int i, char *err)
{
	uint8_t sha[32];
	struct record_info info;
	GMimeStream *st;
	GMimeParser *p;
	GMimeHeaderList *hl;
	enum vl_err rc;

	h->head.len = 0;
	if (h->vault == NULL || hex_decode(sha, 32, PQgetvalue(r, i, 16)) != 0)
		return VL_OK;
	rc = vault_read(h->vault, strtoull(PQgetvalue(r, i, 14), NULL, 10),
			strtoull(PQgetvalue(r, i, 15), NULL, 10), sha, head_fn, &h->head, &info, err);
	if (rc == VL_ERR_BUSY) {
		char why[VL_ERRLEN];

		snprintf(why, sizeof(why), "%s", err);
		return vl_err_set(err, rc, "message %s not readable just now, retention stops here"
				  " (run it again): %.200s", PQgetvalue(r, i, 0), why);
	}
	if (rc != VL_OK) {
		log_warnx("retention: message %s: its own headers unread, the stored ones decide: %s",
			  PQgetvalue(r, i, 0), err);
		return VL_OK;
	}
	(*h->reads)++;
	st = g_mime_stream_mem_new_with_buffer((const char *)h->head.data, h->head.len);
	p = g_mime_parser_new_with_stream(st);
	f->own = g_mime_parser_construct_message(p, NULL);
	g_object_unref(p);
	g_object_unref(st);
	if (f->own == NULL)
		return VL_OK;
	hl = g_mime_object_get_header_list(GMIME_OBJECT(f->own));
	for (int k = 0; k < g_mime_header_list_get_count(hl) && k < RETENTION_HEADERS_MAX; k++) {
		GMimeHeader *gh = g_mime_header_list_get_header_at(hl, k);

		f->hdr[f->m.nheaders].name = g_mime_header_get_name(gh);
		f->hdr[f->m.nheaders++].value = g_mime_header_get_value(gh);
	}
	return VL_OK;
}

static void
facts_clear(struct facts *f)
{
	if (f->own)
		g_object_unref(f->own);
	f->own = NULL;
}

/* facts_row - row i of facts_sql into f, with the message's own headers when the set needs
 * them; VL_ERR_BUSY as facts_own_headers. */
static enum vl_err
facts_row(struct facts *f, struct hdr_reader *h, PGresult *r, int i, char *err)
{
	facts_clear(f);
	memset(&f->m, 0, sizeof(f->m));
	f->m.received_us = strtoll(PQgetvalue(r, i, 1), NULL, 10);
	f->m.sent_us = strtoll(PQgetvalue(r, i, 2), NULL, 10);
	f->m.senders = f->snd;
	f->m.nsenders = split(PQgetvalue(r, i, 3), f->snd, FACTS_MAX);
	f->m.recipients = f->rcp;
	f->m.nrecipients = split(PQgetvalue(r, i, 4), f->rcp, FACTS_MAX);
	f->m.custodians = f->cus;
	f->m.ncustodians = split(PQgetvalue(r, i, 5), f->cus, 256);
	f->m.listeners = f->lis;
	f->m.nlisteners = split(PQgetvalue(r, i, 6), f->lis, 64);
	for (int k = 0; k < STORED_HEADERS; k++) {
		f->hdr[k].name = stored_headers[k];
		f->hdr[k].value = PQgetvalue(r, i, 7 + k);
	}
	f->m.headers = f->hdr;
	f->m.nheaders = STORED_HEADERS;
	if (h && h->vault)
		return facts_own_headers(f, h, r, i, err);
	return VL_OK;
}

/* hdr_reader_open - a vault when the set matches on a header the database does not keep. */
static enum vl_err
hdr_reader_open(struct hdr_reader *h, PGconn *c, const struct policy_set *s,
		const struct retention_opts *o, int64_t *reads, char *err)
{
	memset(h, 0, sizeof(*h));
	h->reads = reads;
	if (o->cfg == NULL || !policy_needs_header(s, stored_headers, STORED_HEADERS))
		return VL_OK;
	return vault_open(&h->vault, o->cfg, c, err);
}

static void
hdr_reader_close(struct hdr_reader *h)
{
	vault_free(h->vault);
	buf_free(&h->head);
}

struct upd {
	struct pgarr id, until, policy, mode;
};

/* decide - the new retention of one message against its old one; 1 to write it. */
static int
decide(const struct policy_set *s, const struct policy_result *pr, int64_t old,
       const char *old_mode, const struct retention_opts *o, struct retention_result *res)
{
	if (pr->index < 0) {
		res->unmatched++;
		return 0;
	}
	if (old == 0) {
		res->set++;
		return 1;
	}
	if (pr->retain_until_us > old) {
		res->extended++;
		return 1;
	}
	if (pr->retain_until_us < old && strcmp(old_mode, "governance") == 0 &&
	    o->shorten_reason && *o->shorten_reason) {
		res->shortened++;
		return 1;
	}
	(void)s;
	res->kept++;
	return 0;
}

/* apply_batch - the next batch after *last; *n rows examined. */
static enum vl_err
apply_batch(PGconn *c, const struct policy_set *s, const struct retention_opts *o,
	    struct hdr_reader *h, struct qhits *q, int64_t *last, int *n,
	    struct retention_result *res, char *err)
{
	char lasts[24], *sql = xasprintf("%s%s", facts_sql, FACTS_ORDER);
	const char *vals[] = {lasts, o->all ? "true" : "false"};
	struct facts *f = xcalloc(1, sizeof(*f));
	struct pgarr ids = {0};
	struct upd u;
	PGresult *r = NULL;
	enum vl_err rc;

	memset(&u, 0, sizeof(u));
	snprintf(lasts, sizeof(lasts), "%lld", (long long)*last);
	rc = db_query(c, sql, 2, vals, &r, err);
	*n = rc == VL_OK ? PQntuples(r) : 0;
	for (int i = 0; i < *n; i++)
		pgarr_int64(&ids, strtoll(PQgetvalue(r, i, 0), NULL, 10));
	if (rc == VL_OK && *n > 0)
		rc = qhits_load(c, s, pgarr_str(&ids), q, err);
	for (int i = 0; rc == VL_OK && i < *n; i++) {
		struct policy_result pr;

		*last = q->current = strtoll(PQgetvalue(r, i, 0), NULL, 10);
		/* A record not readable just now stops the run before anything of this batch is
		 * written: a decision on the stored headers alone might be shorter, and under
		 * --all a message passed over would keep its old date. The next run does it. */
		if ((rc = facts_row(f, h, r, i, err)) != VL_OK)
			break;
		policy_eval(s, &f->m, qhit, q, &pr);
		res->examined++;
		if (!decide(s, &pr, strtoll(PQgetvalue(r, i, 12), NULL, 10), PQgetvalue(r, i, 13),
			    o, res))
			continue;
		pgarr_int64(&u.id, *last);
		pgarr_int64(&u.until, pr.retain_until_us);
		pgarr_text(&u.policy, policy_name(s, (size_t)pr.index));
		pgarr_text(&u.mode, policy_mode(s, (size_t)pr.index));
	}
	if (rc == VL_OK && *n > 0) {
		const char *uv[] = {pgarr_str(&u.id), pgarr_str(&u.until), pgarr_str(&u.policy),
				    pgarr_str(&u.mode)};

		rc = db_exec(c, update_sql, 4, uv, err);
	}
	qhits_reset(q, policy_count(s));
	pgarr_free(&ids);
	pgarr_free(&u.id);
	pgarr_free(&u.until);
	pgarr_free(&u.policy);
	pgarr_free(&u.mode);
	PQclear(r);
	facts_clear(f);
	free(f);
	free(sql);
	return rc;
}

enum vl_err
retention_apply(PGconn *c, const char *actor, const struct policy_set *s,
		const struct retention_opts *o, struct retention_result *res, char *err)
{
	struct qhits q = {xcalloc(policy_count(s) + 1, sizeof(int64_t *)),
			  xcalloc(policy_count(s) + 1, sizeof(size_t)), 0};
	const char *reason[] = {o->shorten_reason ? o->shorten_reason : ""};
	struct hdr_reader h;
	int64_t last = 0;
	int n = 1;
	enum vl_err rc;
	char *details;

	memset(res, 0, sizeof(*res));
	rc = hdr_reader_open(&h, c, s, o, &res->headers_read, err);
	if (rc == VL_OK)
		rc = retention_record_set(c, actor, s, res, err);
	if (rc == VL_OK)
		rc = db_exec(c, "SELECT set_config('vellum.shorten_reason', $1, false)", 1, reason,
			     err);
	while (rc == VL_OK && n > 0)
		rc = apply_batch(c, s, o, &h, &q, &last, &n, res, err);
	hdr_reader_close(&h);
	free(q.ids);
	free(q.n);
	if (rc != VL_OK || (res->examined == 0 && res->version == 0))
		return rc; /* nothing to say: no message examined, the set unchanged */
	/* Reading messages' own headers is a read of evidence: the row says how many. */
	json_t *d = json_pack("{s:s, s:b, s:s?, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "policy_set",
			      res->sha256, "all", o->all, "shorten_reason", o->shorten_reason,
			      "examined", (json_int_t)res->examined, "set", (json_int_t)res->set,
			      "extended", (json_int_t)res->extended, "kept", (json_int_t)res->kept,
			      "shortened", (json_int_t)res->shortened, "unmatched",
			      (json_int_t)res->unmatched, "messages_headers_read",
			      (json_int_t)res->headers_read);
	details = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(d);
	rc = audit_append(c, actor, NULL, res->shortened ? "retention.shorten" : "retention.apply",
			  res->sha256, details, err);
	free(details);
	return rc;
}

enum vl_err
retention_explain(const struct vl_config *cfg, PGconn *c, const struct policy_set *s,
		  const char *id, struct policy_result *out, char *err)
{
	struct qhits q = {xcalloc(policy_count(s) + 1, sizeof(int64_t *)),
			  xcalloc(policy_count(s) + 1, sizeof(size_t)), 0};
	char *sql = xasprintf("%s AND m.id = $3::int8", facts_sql), *ids = xasprintf("{%s}", id);
	const char *vals[] = {"0", "true", id};
	struct facts *f = xcalloc(1, sizeof(*f));
	int64_t reads = 0;
	struct hdr_reader h;
	struct retention_opts ho = {.cfg = cfg};
	PGresult *r = NULL;
	enum vl_err rc = db_query(c, sql, 3, vals, &r, err);

	if (rc == VL_OK && PQntuples(r) != 1)
		rc = vl_err_set(err, VL_ERR_NOTFOUND, "no indexed message %.32s", id);
	if (rc == VL_OK)
		rc = qhits_load(c, s, ids, &q, err);
	if (rc == VL_OK)
		rc = hdr_reader_open(&h, c, s, &ho, &reads, err);
	if (rc == VL_OK) {
		q.current = strtoll(id, NULL, 10);
		if ((rc = facts_row(f, &h, r, 0, err)) == VL_OK)
			policy_eval(s, &f->m, qhit, &q, out);
		hdr_reader_close(&h);
	}
	facts_clear(f);
	qhits_reset(&q, policy_count(s));
	free(q.ids);
	free(q.n);
	PQclear(r);
	free(f);
	free(sql);
	free(ids);
	return rc;
}
