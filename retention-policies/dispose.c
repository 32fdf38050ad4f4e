/* dispose - the disposal job: expired, unheld messages go; the ledger and audit say so. */
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "buf.h"
#include "db.h"
#include "dispose.h"
#include "fsutil.h"
#include "hold.h"
#include "keyring.h"
#include "keyslot.h"
#include "ledger.h"
#include "pgarray.h"

/* Candidates: indexed (so every hold's query has had its chance), expired, not held; in
 * (retain_until, id) order after the run's cursor ($2, $3: the last candidate of the previous
 * batch, NULL at first), which the second column returns. The cursor keeps expired mail that
 * is held from being looked at again by every batch (a run of B batches over H such
 * messages looked at about H x B/2 of them: 0.65 s a batch with 50,000 held at 1M); what it
 * stepped over is looked at again by the next run. */
static const char candidates_sql[] =
	"SELECT coalesce(array_agg(id ORDER BY id)::text, '{}'),"
	" (array_agg(retain_until::text || ' ' || id ORDER BY retain_until DESC, id DESC))[1]"
	" FROM (SELECT m.id, m.retain_until FROM messages m"
	" WHERE m.retain_until < vellum_now() AND m.indexed_at IS NOT NULL"
	" AND m.retain_until >= coalesce($2::timestamptz, '-infinity')"
	" AND ($2::timestamptz IS NULL OR m.retain_until > $2::timestamptz OR m.id > $3::int8)"
	" AND NOT vellum_hold_active(m.id) ORDER BY m.retain_until, m.id LIMIT $1::int8) s";
static const char unheld_sql[] =
	"SELECT coalesce(array_agg(id ORDER BY id)::text, '{}') FROM unnest($1::int8[]) id"
	" WHERE NOT vellum_hold_active(id)";
/* A real run locks the batch's rows here, in id order (FOR UPDATE above the ORDER BY), before
 * its removal steps: as retention's update and the indexer's sweep and requeue do, so that no
 * two of them, each waiting for rows the other holds, deadlock. A dry run locks nothing. */
#define ROWS_SQL                                                                                   \
	"SELECT m.id, encode(m.sha256, 'hex'), coalesce(m.retention_policy, ''), m.retain_until,"  \
	" m.received_at FROM messages m WHERE m.id = ANY($1::int8[]) ORDER BY m.id"
static const char rows_sql[] = ROWS_SQL;
static const char rows_lock_sql[] = ROWS_SQL " FOR UPDATE OF m";

/* The removal, in order; $1 the ids, $2 the report's name. Those returning rows return the
 * subjects of tombstoned records (each gets a ledger disposal entry). */
static const struct {
	const char *sql;
	int tombstones;
} steps[] = {
	{"INSERT INTO disposed_records (subject, kind, segment_id, record_offset, disposed_at)"
	 " SELECT r.sha256, 'receipt', r.segment_id, r.record_offset, now() FROM receipts r"
	 " WHERE r.message_id = ANY($1::int8[]) AND $2::text IS NOT NULL"
	 " ON CONFLICT DO NOTHING RETURNING encode(subject, 'hex')", 1},
	/* A receipts record is shared by its batch: its key goes with its last receipt. */
	{"INSERT INTO shred_queue (segment_id, record_offset, kind) SELECT DISTINCT r.segment_id,"
	 " r.record_offset, 'receipt' FROM receipts r WHERE r.message_id = ANY($1::int8[])"
	 " AND $2::text IS NOT NULL AND NOT EXISTS (SELECT 1 FROM receipts o WHERE"
	 " o.segment_id = r.segment_id AND o.record_offset = r.record_offset"
	 " AND o.message_id <> ALL($1::int8[])) ON CONFLICT DO NOTHING", 0},
	{"DELETE FROM envelope_recipients e USING receipts r WHERE e.receipt_id = r.id"
	 " AND r.message_id = ANY($1::int8[]) AND $2::text IS NOT NULL", 0},
	{"DELETE FROM receipts WHERE message_id = ANY($1::int8[]) AND $2::text IS NOT NULL", 0},
	{"DELETE FROM attachments WHERE message_id = ANY($1::int8[]) AND $2::text IS NOT NULL", 0},
	{"DELETE FROM index_exceptions WHERE message_id = ANY($1::int8[])"
	 " AND $2::text IS NOT NULL", 0},
	{"DELETE FROM message_index WHERE message_id = ANY($1::int8[]) AND $2::text IS NOT NULL",
	 0},
	{"INSERT INTO disposals (message_id, received_at, sha256, policy, retain_until,"
	 " disposed_at, report) SELECT id, received_at, sha256, retention_policy, retain_until,"
	 " now(), $2 FROM messages WHERE id = ANY($1::int8[])", 0},
	/* Business fields go with their message, after its disposals row (schema 0013's guard
	 * asks for it): they are append-only otherwise. */
	{"DELETE FROM business_fields WHERE message_id = ANY($1::int8[]) AND $2::text IS NOT NULL",
	 0},
	/* A blob no other message references is released before its message goes. OFFSET 0
	 * keeps the NOT EXISTS a per-row probe of each partition's address index (as an anti
	 * join, PostgreSQL hashed every message of the archive for each batch: 1.3 s at 1M),
	 * and the addresses as one array make the blobs a lookup by key, whatever the planner
	 * guesses of the batch's size (at 100k it chose to scan every blob). */
	{"UPDATE blobs b SET refcount = 0 WHERE $2::text IS NOT NULL AND b.address = ANY(ARRAY("
	 "SELECT m.address FROM messages m WHERE m.id = ANY($1::int8[]) AND NOT EXISTS (SELECT 1"
	 " FROM messages o WHERE o.address = m.address AND o.id <> ALL($1::int8[]) OFFSET 0)))",
	 0},
	{"DELETE FROM messages WHERE id = ANY($1::int8[]) AND $2::text IS NOT NULL", 0},
	{"INSERT INTO disposed_records (subject, kind, address, segment_id, record_offset,"
	 " disposed_at) SELECT sha256('message'::bytea || b.address || b.sha256 ||"
	 " int8send(b.raw_size) || int8send(b.segment_id) || int8send(b.record_offset)),"
	 " 'message', b.address, b.segment_id, b.record_offset, now() FROM blobs b"
	 " WHERE b.refcount = 0 AND $2::text IS NOT NULL AND $1::int8[] IS NOT NULL"
	 " AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.address = b.address)"
	 " ON CONFLICT DO NOTHING RETURNING encode(subject, 'hex')", 1},
	{"INSERT INTO shred_queue (segment_id, record_offset, kind) SELECT b.segment_id,"
	 " b.record_offset, 'message' FROM blobs b WHERE b.refcount = 0 AND $2::text IS NOT NULL"
	 " AND $1::int8[] IS NOT NULL AND NOT EXISTS (SELECT 1 FROM messages m WHERE"
	 " m.address = b.address) ON CONFLICT DO NOTHING", 0},
	{"DELETE FROM blobs b WHERE b.refcount = 0 AND $2::text IS NOT NULL"
	 " AND $1::int8[] IS NOT NULL"
	 " AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.address = b.address)", 0},
};
#define STEP_BLOBS (sizeof(steps) / sizeof(steps[0]) - 1)

/* The keys still to destroy, a bounded slice at a time, by segment. */
#define SHRED_SLICE 5000
static const char shred_next_sql[] =
	"SELECT segment_id, record_offset FROM shred_queue ORDER BY segment_id, record_offset"
	" LIMIT $1::int8";
static const char shred_done_sql[] =
	"DELETE FROM shred_queue q USING unnest($1::int8[], $2::int8[]) AS t(s, o)"
	" WHERE q.segment_id = t.s AND q.record_offset = t.o";

static const char ledger_sql[] =
	"INSERT INTO ledger (seq, kind, at, subject, prev_hash, entry_hash)"
	" SELECT s, 'disposal', vellum_ts(a), su, p, h FROM unnest($1::int8[], $2::int8[],"
	" $3::bytea[], $4::bytea[], $5::bytea[]) AS t(s, a, su, p, h)";

struct run {
	PGconn *c;
	const struct dispose_opts *o;
	struct dispose_result *res;
	const char *actor;
	const char *name; /* the report's file name */
	json_t *all;	  /* every message disposed, for the report */
	struct ledger_head head;
	struct keyring *kr; /* for disposal's mark in destroyed key slots */
	char *after;	    /* the candidates' cursor: "retain_until id" of the last one, or NULL */
};

static int64_t
now_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

/* dispose_ledger - one 'disposal' entry per tombstoned record: SHA-256("disposal" || subject).
 * Inside the batch's transaction, which holds LEDGER_LOCK_KEY: no other appender meanwhile. */
static enum vl_err
dispose_ledger(struct run *r, PGresult *const *tomb, size_t ntomb, char *err)
{
	struct pgarr seq = {0}, at = {0}, su = {0}, prev = {0}, hash = {0};
	int64_t t = now_us();
	enum vl_err rc;

	if ((rc = ledger_head_load(r->c, &r->head, err)) != VL_OK)
		return rc;
	for (size_t k = 0; k < ntomb; k++) {
		for (int i = 0; i < PQntuples(tomb[k]); i++) {
			uint8_t subj[32], d[32];
			crypto_hash_sha256_state st;

			if (hex_decode(subj, 32, PQgetvalue(tomb[k], i, 0)) != 0)
				continue;
			crypto_hash_sha256_init(&st);
			crypto_hash_sha256_update(&st, (const uint8_t *)"disposal", 8);
			crypto_hash_sha256_update(&st, subj, 32);
			crypto_hash_sha256_final(&st, d);
			pgarr_bytea(&prev, r->head.hash, 32);
			ledger_append(&r->head, LEDGER_DISPOSAL, t, d);
			pgarr_int64(&seq, (int64_t)r->head.seq);
			pgarr_int64(&at, t);
			pgarr_bytea(&su, d, 32);
			pgarr_bytea(&hash, r->head.hash, 32);
			r->res->records++;
		}
	}
	const char *vals[] = {pgarr_str(&seq), pgarr_str(&at), pgarr_str(&su), pgarr_str(&prev),
			      pgarr_str(&hash)};
	rc = db_exec(r->c, ledger_sql, 5, vals, err);
	pgarr_free(&seq);
	pgarr_free(&at);
	pgarr_free(&su);
	pgarr_free(&prev);
	pgarr_free(&hash);
	return rc;
}

static const uint8_t *
dispose_master(void *arg, uint32_t key_id)
{
	return keyring_seal_key(arg, key_id);
}

/* dispose_shred_slice - destroy the keys of one slice of the queue, segment by segment, then
 * forget the slice. *n: how many rows the slice had. */
static enum vl_err
dispose_shred_slice(const struct vl_config *cfg, struct run *r, int *n, char *err)
{
	char dir[CONFIG_PATH_MAX];
	struct pgarr segs = {0}, offs = {0};
	PGresult *q = NULL;
	uint64_t *o;
	char slice[24];
	const char *lim[] = {slice};
	enum vl_err rc;

	snprintf(slice, sizeof(slice), "%d", SHRED_SLICE);
	rc = db_query(r->c, shred_next_sql, 1, lim, &q, err);

	*n = rc == VL_OK ? PQntuples(q) : 0;
	if (*n == 0) {
		PQclear(q);
		return rc;
	}
	config_path(dir, cfg, KEYSLOT_DIR);
	o = xcalloc((size_t)*n, sizeof(*o));
	for (int i = 0, start = 0; rc == VL_OK && i < *n; i++) {
		uint64_t seg = strtoull(PQgetvalue(q, i, 0), NULL, 10);

		o[i] = strtoull(PQgetvalue(q, i, 1), NULL, 10);
		pgarr_int64(&segs, (int64_t)seg);
		pgarr_int64(&offs, (int64_t)o[i]);
		if (i + 1 < *n && strtoull(PQgetvalue(q, i + 1, 0), NULL, 10) == seg)
			continue;
		rc = keyslot_destroy(dir, seg, o + start, (size_t)(i + 1 - start), dispose_master,
				     r->kr, &r->res->keys_destroyed, &r->res->unkeyed, err);
		start = i + 1;
	}
	const char *vals[] = {pgarr_str(&segs), pgarr_str(&offs)};
	if (rc == VL_OK)
		rc = db_exec(r->c, shred_done_sql, 2, vals, err);
	pgarr_free(&segs);
	pgarr_free(&offs);
	free(o);
	PQclear(q);
	return rc;
}

/* dispose_shred - destroy the keys of every record disposal has let go (this run's and any a
 * crash left), after the rows that referred to them are gone for good. */
static enum vl_err
dispose_shred(const struct vl_config *cfg, struct run *r, char *err)
{
	enum vl_err rc = VL_OK;
	int n = 1;

	while (rc == VL_OK && n > 0)
		rc = dispose_shred_slice(cfg, r, &n, err);
	return rc;
}

/* dispose_rows - the batch's messages as JSON (and to the caller's callback). */
static enum vl_err
dispose_rows(struct run *r, const char *ids, json_t **arr, int *n, char *err)
{
	const char *vals[] = {ids};
	PGresult *res = NULL;
	enum vl_err rc =
		db_query(r->c, r->o->dry_run ? rows_sql : rows_lock_sql, 1, vals, &res, err);

	*arr = json_array();
	*n = rc == VL_OK ? PQntuples(res) : 0;
	for (int i = 0; i < *n; i++) {
		const char *policy = PQgetvalue(res, i, 2);

		json_array_append_new(
			*arr, json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", PQgetvalue(res, i, 0),
					"sha256", PQgetvalue(res, i, 1), "policy", policy,
					"retain_until", PQgetvalue(res, i, 3), "received_at",
					PQgetvalue(res, i, 4)));
		if (r->o->each)
			r->o->each(r->o->arg, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), policy,
				   PQgetvalue(res, i, 3));
	}
	PQclear(res);
	return rc;
}

/* dispose_remove - the steps and the ledger, inside the batch's transaction. */
static enum vl_err
dispose_remove(struct run *r, const char *ids, char *err)
{
	const char *vals[] = {ids, r->name};
	PGresult *tomb[2] = {NULL, NULL};
	size_t ntomb = 0;
	enum vl_err rc = VL_OK;

	for (size_t s = 0; rc == VL_OK && s < sizeof(steps) / sizeof(steps[0]); s++) {
		PGresult *res = NULL;

		rc = db_query(r->c, steps[s].sql, 2, vals, &res, err);
		if (rc == VL_OK && s == STEP_BLOBS)
			r->res->blobs += strtoll(PQcmdTuples(res), NULL, 10);
		if (rc == VL_OK && steps[s].tombstones && ntomb < 2)
			tomb[ntomb++] = res;
		else
			PQclear(res);
	}
	if (rc == VL_OK)
		rc = dispose_ledger(r, tomb, ntomb, err);
	for (size_t k = 0; k < ntomb; k++)
		PQclear(tomb[k]);
	return rc;
}

static enum vl_err
query_text(PGconn *c, const char *sql, const char *v, char **out, char *err)
{
	const char *vals[] = {v};
	PGresult *r = NULL;
	enum vl_err rc = db_query(c, sql, 1, vals, &r, err);

	if (rc == VL_OK)
		*out = xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return rc;
}

/* dispose_candidates - the next batch's candidates (*ids, an int8[] text; caller frees), and
 * the run's cursor moved past them. */
static enum vl_err
dispose_candidates(struct run *r, const char *limit, char **ids, char *err)
{
	char *at = r->after ? xstrdup(r->after) : NULL, *sp = at ? strrchr(at, ' ') : NULL;
	const char *vals[] = {limit, at, sp ? sp + 1 : NULL};
	PGresult *res = NULL;
	enum vl_err rc;

	if (sp)
		*sp = '\0';
	rc = db_query(r->c, candidates_sql, 3, vals, &res, err);
	if (rc == VL_OK) {
		*ids = xstrdup(PQgetvalue(res, 0, 0));
		if (!PQgetisnull(res, 0, 1)) {
			free(r->after);
			r->after = xstrdup(PQgetvalue(res, 0, 1));
		}
	}
	PQclear(res);
	free(at);
	return rc;
}

/* dispose_batch - one transaction: candidates, hold sweep over them, removal, audit.
 * *n: messages disposed (0: nothing left). */
static enum vl_err
dispose_batch(struct run *r, int *n, char *err)
{
	char *cand = NULL, *ids = NULL, limit[24], *details;
	json_t *arr = NULL;
	enum vl_err rc;

	*n = 0;
	snprintf(limit, sizeof(limit), "%d", r->o->dry_run ? 1000000000 : DISPOSE_BATCH);
	if ((rc = db_begin(r->c, err)) != VL_OK)
		return rc;
	/* One ledger appender at a time (the store writer takes the same lock per batch, so a
	 * message it is adding a receipt to is not disposed meanwhile), and placing a hold and
	 * disposing exclude each other. */
	if (!r->o->dry_run)
		rc = db_exec(r->c, "SELECT pg_advisory_xact_lock(" LEDGER_LOCK_KEY ")", 0, NULL,
			     err);
	if (rc == VL_OK)
		rc = db_exec(r->c, "SELECT pg_advisory_xact_lock(" HOLD_LOCK_KEY ")", 0, NULL,
			     err);
	if (rc == VL_OK)
		rc = dispose_candidates(r, limit, &cand, err);
	if (rc == VL_OK && strcmp(cand, "{}") != 0 && (rc = hold_sweep(r->c, cand, NULL, err)) == VL_OK)
		rc = query_text(r->c, unheld_sql, cand, &ids, err);
	if (rc == VL_OK && ids && strcmp(ids, "{}") != 0)
		rc = dispose_rows(r, ids, &arr, n, err);
	if (rc == VL_OK && *n > 0 && !r->o->dry_run)
		rc = dispose_remove(r, ids, err);
	if (rc != VL_OK || r->o->dry_run) {
		db_rollback(r->c, NULL);
	} else if (*n == 0) {
		/* Keep the coverage the sweep found; if it held every candidate, look again. */
		rc = db_commit(r->c, err);
		if (rc == VL_OK && cand && strcmp(cand, "{}") != 0)
			*n = -1;
	} else {
		json_t *d = json_pack("{s:s, s:O}", "report", r->name, "messages", arr);

		details = json_dumps(d, JSON_COMPACT);
		json_decref(d);
		/* The audit row commits the batch with it. */
		rc = audit_append(r->c, r->actor, NULL, "message.dispose", r->name, details, err);
		free(details);
	}
	if (rc == VL_OK && arr && *n > 0) {
		json_array_extend(r->all, arr);
		r->res->messages += *n;
	}
	json_decref(arr);
	free(cand);
	free(ids);
	return rc;
}

/* dispose_sign - write the report and its detached Ed25519 signature (keyring's signing key). */
static enum vl_err
dispose_sign(const struct vl_config *cfg, const char *path, const char *text, char *err)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	uint8_t sig[crypto_sign_BYTES];
	char kpath[CONFIG_PATH_MAX], pkh[2 * sizeof(pk) + 1], sigh[2 * sizeof(sig) + 1];
	char *sigpath, *sigtext;
	struct keyring *kr = NULL;
	enum vl_err rc;

	config_path(kpath, cfg, "keys/keyring");
	if ((rc = keyring_load(&kr, kpath, err)) != VL_OK)
		return rc;
	crypto_sign_seed_keypair(pk, sk, keyring_sign_seed(kr));
	keyring_free(kr);
	crypto_sign_detached(sig, NULL, (const uint8_t *)text, strlen(text), sk);
	sodium_memzero(sk, sizeof(sk));
	hex_encode(pkh, pk, sizeof(pk));
	hex_encode(sigh, sig, sizeof(sig));
	sigpath = xasprintf("%s.sig", path);
	sigtext = xasprintf("{\"alg\": \"ed25519\", \"public_key\": \"%s\", \"signature\": \"%s\"}\n",
			    pkh, sigh);
	rc = fs_write_atomic(path, text, strlen(text), 0640 | FS_NOREPLACE, err);
	if (rc == VL_OK)
		rc = fs_write_atomic(sigpath, sigtext, strlen(sigtext), 0640 | FS_NOREPLACE, err);
	free(sigpath);
	free(sigtext);
	return rc;
}

/* dispose_report - DATA/reports/NAME: what went, under which clock, the ledger head after. */
static enum vl_err
dispose_report(const struct vl_config *cfg, struct run *r, const char *clock, char *err)
{
	char dir[CONFIG_PATH_MAX], path[CONFIG_PATH_MAX], head[2 * LEDGER_HASH_LEN + 1];
	json_t *rep;
	char *text;
	enum vl_err rc;

	config_path(dir, cfg, "reports");
	if ((rc = fs_mkdir_p(dir, 0750, err)) != VL_OK)
		return rc;
	snprintf(path, sizeof(path), "%s/%s", dir, r->name);
	hex_encode(head, r->head.hash, LEDGER_HASH_LEN);
	rep = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:{s:I, s:s}, s:O}",
			"kind", "vellum-disposal-report", "report", r->name, "actor", r->actor,
			"clock", clock, "messages_disposed", (json_int_t)r->res->messages,
			"blobs_removed", (json_int_t)r->res->blobs, "record_keys_destroyed",
			(json_int_t)r->res->keys_destroyed, "records_without_own_key",
			(json_int_t)r->res->unkeyed, "ledger_entries", (json_int_t)r->res->records,
			"ledger_head", "seq", (json_int_t)r->head.seq, "hash", head, "messages",
			r->all);
	text = json_dumps(rep, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(rep);
	rc = dispose_sign(cfg, path, text, err);
	free(text);
	if (rc == VL_OK)
		snprintf(r->res->report, sizeof(r->res->report), "%s", path);
	return rc;
}

/* dispose_clock - the run's clock: the override (vellum_now refuses it unless test_clock is
 * on) or now(), as text for the report. */
static enum vl_err
dispose_clock(PGconn *c, const char *now, char **clock, char *err)
{
	enum vl_err rc = VL_OK;

	if (now)
		rc = query_text(c, "SELECT set_config('vellum.now', $1, false)", now, clock, err);
	if (now && rc == VL_OK)
		free(*clock);
	if (rc == VL_OK)
		rc = query_text(c, "SELECT vellum_now()::text WHERE $1::text IS NULL OR true", "",
				clock, err);
	return rc;
}

enum vl_err
dispose_run(const struct vl_config *cfg, PGconn *c, const char *actor,
	    const struct dispose_opts *o, struct dispose_result *res, char *err)
{
	char name[96], *clock = NULL, kpath[CONFIG_PATH_MAX];
	struct run r = {.c = c, .o = o, .res = res, .actor = actor, .name = name};
	time_t t = time(NULL);
	struct tm tm;
	int n = 1;
	enum vl_err rc;

	memset(res, 0, sizeof(*res));
	gmtime_r(&t, &tm);
	snprintf(name, sizeof(name), "disposal-%04d%02d%02dT%02d%02d%02dZ-%ld.json",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (long)getpid());
	if ((rc = dispose_clock(c, o->now, &clock, err)) != VL_OK)
		goto out;
	config_path(kpath, cfg, "keys/keyring");
	if (!o->dry_run && (rc = keyring_load(&r.kr, kpath, err)) != VL_OK)
		goto out;
	r.all = json_array();
	if (!o->dry_run)
		rc = dispose_shred(cfg, &r, err);
	while (rc == VL_OK && n != 0) {
		rc = dispose_batch(&r, &n, err);
		if (o->dry_run)
			break;
		if (rc == VL_OK && n > 0)
			rc = dispose_shred(cfg, &r, err);
	}
	if (rc == VL_OK && !o->dry_run && res->messages > 0)
		rc = dispose_report(cfg, &r, clock, err);
out:
	keyring_free(r.kr);
	json_decref(r.all);
	free(r.after);
	free(clock);
	return rc;
}

enum vl_err
dispose_check_report(const struct vl_config *cfg, const char *path, char *err)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES], sig[crypto_sign_BYTES];
	char kpath[CONFIG_PATH_MAX], *sigpath = xasprintf("%s.sig", path);
	struct buf rep = {0}, sb = {0};
	struct keyring *kr = NULL;
	json_t *sj = NULL;
	const char *hex;
	enum vl_err rc;

	config_path(kpath, cfg, "keys/keyring");
	if ((rc = keyring_load(&kr, kpath, err)) != VL_OK)
		goto out;
	crypto_sign_seed_keypair(pk, sk, keyring_sign_seed(kr));
	sodium_memzero(sk, sizeof(sk));
	if ((rc = fs_read_all(&rep, path, 256 << 20, err)) != VL_OK ||
	    (rc = fs_read_all(&sb, sigpath, 4096, err)) != VL_OK)
		goto out;
	buf_append(&sb, "", 1);
	sj = json_loads((const char *)sb.data, 0, NULL);
	hex = json_string_value(json_object_get(sj, "signature"));
	if (hex == NULL || strlen(hex) != 2 * sizeof(sig) || hex_decode(sig, sizeof(sig), hex) != 0)
		rc = vl_err_set(err, VL_ERR_PARSE, "%s: no signature", sigpath);
	else if (crypto_sign_verify_detached(sig, rep.data, rep.len, pk) != 0)
		rc = vl_err_set(err, VL_ERR_CRYPTO, "%s: the signature does not verify with this "
				"archive's signing key", path);
out:
	json_decref(sj);
	keyring_free(kr);
	buf_free(&rep);
	buf_free(&sb);
	free(sigpath);
	return rc;
}
