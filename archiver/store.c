/* store - the write side of the sealed store: dedup, sealing, group commit, the ledger. The
 * batch's database side is store_db's. */
#include <errno.h>
#include <glib.h>
#include <pthread.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zdict.h>

#include "buf.h"
#include "fsutil.h"
#include "indexer.h"
#include "keyslot.h"
#include "ledger.h"
#include "log.h"
#include "msghdr.h"
#include "pgarray.h"
#include "record.h"
#include "segment.h"
#include "store.h"
#include "store_db.h"

#define STORE_READ_CHUNK (256 * 1024)
#define STORE_DICT_SAMPLE_MAX (64 * 1024) /* bytes of one message a dictionary learns from */
/* Record kinds the store writes besides those record.h names. */
#define STORE_RECORD_ABANDON 6
#define STORE_RECEIPT_ZLEVEL 3

int64_t
store_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct vault *
store_vault(struct store *s)
{
	return s->vault;
}

size_t
store_pending(const struct store *s)
{
	return s->nitems;
}

/* ---- small helpers ---- */

/* dup_bounded - a copy of at most STORE_FIELD_MAX bytes, made valid UTF-8 (PostgreSQL text
 * refuses invalid UTF-8: an 8-bit envelope must not turn into a 451 loop). */
static char *
dup_bounded(const char *s)
{
	gchar *valid;
	char *out;

	if (s == NULL)
		return NULL;
	valid = g_utf8_make_valid(s, (gssize)strnlen(s, STORE_FIELD_MAX));
	out = xstrdup(valid);
	g_free(valid);
	return out;
}

/* ---- the open segment: create, reopen, abandon, seal ---- */

/* store_close_segment - close the open segment and its key slots (without syncing). */
static void
store_close_segment(struct store *s)
{
	segment_close(s->seg);
	s->seg = NULL;
	keyslot_close(s->slots);
	s->slots = NULL;
}

struct slot_sync {
	struct keyslot_file *slots;
	enum vl_err rc;
	char err[VL_ERRLEN];
};

static void *
slot_sync_main(void *arg)
{
	struct slot_sync *ss = arg;

	ss->rc = keyslot_sync(ss->slots, ss->err);
	return NULL;
}

/* store_sync - make every appended record and its key durable (the batch's one wait). The
 * two files' fdatasyncs run at once, so a batch waits for about one flush, not two (measured:
 * one after the other made a lone session about 25% slower). */
static enum vl_err
store_sync(struct store *s, char *err)
{
	struct slot_sync ss = {.slots = s->slots};
	pthread_t t;
	int threaded = keyslot_pending(s->slots) &&
		       pthread_create(&t, NULL, slot_sync_main, &ss) == 0;
	enum vl_err rc;

	if (!threaded)
		ss.rc = keyslot_sync(s->slots, ss.err);
	rc = segment_sync(s->seg, err);
	if (threaded)
		pthread_join(t, NULL);
	if (rc == VL_OK && ss.rc != VL_OK) {
		rc = ss.rc;
		if (err)
			snprintf(err, VL_ERRLEN, "%s", ss.err);
	}
	return rc;
}

static enum vl_err
store_new_segment(struct store *s, char *err)
{
	PGresult *r;
	char id[24], now[24], name[32], size[24];
	uint64_t next;
	enum vl_err rc;
	int64_t t = store_now_us();

	if ((rc = store_exec(s->conn, "SELECT coalesce(max(id), 0) + 1 FROM segments", 0, NULL,
			     &r, err, "next segment")) != VL_OK)
		return rc;
	next = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	/* A file may exist beyond the database's knowledge (the database was lost and not
	 * rebuilt, or a crash came between create and insert): never reuse its id. */
	for (;;) {
		char path[CONFIG_PATH_MAX + 40];

		segment_file_name(name, next);
		snprintf(path, sizeof(path), "%s/%s", s->seg_dir, name);
		if (access(path, F_OK) != 0)
			break;
		next++;
	}
	if ((rc = segment_create(&s->seg, s->seg_dir, next, 0, t, err)) != VL_OK)
		return rc;
	store_u64str(id, next);
	snprintf(now, sizeof(now), "%lld", (long long)t);
	store_u64str(size, segment_end(s->seg));
	const char *vals[] = {id, name, now, size};
	if ((rc = keyslot_open(&s->slots, s->slot_dir, next, UINT64_MAX, err)) != VL_OK ||
	    (rc = store_exec(s->conn,
			     "INSERT INTO segments (id, file_name, created_at, size)"
			     " VALUES ($1, $2, vellum_ts($3), $4)",
			     4, vals, NULL, err, "insert segment")) != VL_OK) {
		/* Not registered: the file holds a header only and no row points at it, unless
		 * the connection broke with the INSERT's outcome unknown; then the file stays
		 * and its id is never reused. */
		keyslot_close(s->slots);
		s->slots = NULL;
		if (PQstatus(s->conn) == CONNECTION_OK)
			segment_discard(s->seg);
		else
			segment_close(s->seg);
		s->seg = NULL;
		return rc;
	}
	s->committed_end = segment_end(s->seg);
	s->seg_unclean = 0;
	return VL_OK;
}

/* store_abandon - close an unsealed segment whose file does not end at its committed end (a
 * crash after fdatasync and before commit, a torn write, or damage): it keeps its committed
 * prefix, is never appended to again, and a note in the next segment says where it ends. */
static enum vl_err
store_abandon(struct store *s, uint64_t id, uint64_t committed_end, char *err)
{
	char path[CONFIG_PATH_MAX + 40], name[32], idb[24], endb[24];
	uint8_t hash[32], *chunk = NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	enum vl_err rc = VL_OK;
	int fd;

	segment_file_name(name, id);
	snprintf(path, sizeof(path), "%s/%s", s->seg_dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	if (fd >= 0) {
		chunk = xmalloc(STORE_READ_CHUNK);
		for (uint64_t off = 0; off < committed_end;) {
			size_t n = committed_end - off < STORE_READ_CHUNK ? committed_end - off
									   : STORE_READ_CHUNK;
			if (fs_pread_full(fd, chunk, n, (off_t)off) != VL_OK) {
				log_errx("segment=%llu is shorter than its committed end %llu: "
					 "acknowledged data is missing; run vellum verify",
					 (unsigned long long)id, (unsigned long long)committed_end);
				break;
			}
			EVP_DigestUpdate(md, chunk, n);
			off += n;
		}
		close(fd);
	}
	EVP_DigestFinal_ex(md, hash, NULL);
	EVP_MD_CTX_free(md);
	free(chunk);
	log_warnx("segment=%llu abandoned at its committed end %llu (unclean shutdown)",
		  (unsigned long long)id, (unsigned long long)committed_end);
	store_u64str(idb, id);
	store_u64str(endb, committed_end);
	const char *vals[] = {idb, endb};
	rc = store_exec(s->conn,
			"UPDATE segments SET abandoned = true, size = $2 WHERE id = $1", 2, vals,
			NULL, err, "abandon segment");
	if (rc != VL_OK)
		return rc;
	/* The note goes into the next segment with the next batch (store_commit_records). */
	s->pending_abandon.id = id;
	s->pending_abandon.end = committed_end;
	memcpy(s->pending_abandon.hash, hash, 32);
	s->pending_abandon.set = 1;
	return VL_OK;
}

/* store_recover_segment - continue the newest unsealed segment when its file ends exactly at
 * its committed end; otherwise abandon it. Then make sure a segment is open. */
static enum vl_err
store_recover_segment(struct store *s, char *err)
{
	PGresult *r;
	enum vl_err rc;

	if ((rc = store_exec(s->conn,
			     "SELECT id, size FROM segments WHERE sealed_at IS NULL AND NOT abandoned"
			     " ORDER BY id",
			     0, NULL, &r, err, "open segments")) != VL_OK)
		return rc;
	for (int i = 0; i < PQntuples(r) && rc == VL_OK; i++) {
		uint64_t id = strtoull(PQgetvalue(r, i, 0), NULL, 10);
		uint64_t end = strtoull(PQgetvalue(r, i, 1), NULL, 10);
		char detail[VL_ERRLEN];

		if (i == PQntuples(r) - 1 && segment_reopen(&s->seg, s->seg_dir, id, end, detail) ==
						     VL_OK) {
			/* Keys of records past the committed end were never used: cut them. */
			rc = keyslot_open(&s->slots, s->slot_dir, id, end, err);
			if (rc != VL_OK)
				store_close_segment(s);
			s->committed_end = end;
			break;
		}
		rc = store_abandon(s, id, end, err);
	}
	PQclear(r);
	if (rc == VL_OK && s->seg == NULL)
		rc = store_new_segment(s, err);
	return rc;
}

static enum vl_err
store_load_checkpoint(struct store *s, char *err)
{
	enum vl_err rc = ledger_head_load(s->conn, &s->head, err);

	/* A fresh writer always writes a checkpoint of the head it starts from. */
	s->checkpointed = 0;
	return rc;
}

enum vl_err
store_open(struct store **out, const struct vl_config *cfg, PGconn *conn, int wait, char *err)
{
	struct store *s = xcalloc(1, sizeof(*s));
	char path[CONFIG_PATH_MAX];
	enum vl_err rc;

	*out = NULL;
	s->cfg = cfg;
	s->conn = conn;
	config_path(s->seg_dir, cfg, "store/segments");
	config_path(s->slot_dir, cfg, KEYSLOT_DIR);
	if ((rc = fs_mkdir_p(s->seg_dir, 0750, err)) != VL_OK)
		goto fail;
	config_path(path, cfg, "store/writer.lock");
	/* One writer at a time owns the open segment and the ledger head. */
	s->lock_fd = fs_lock_open(path, wait);
	if (s->lock_fd < 0) {
		rc = vl_err_set(err, errno == EWOULDBLOCK ? VL_ERR_BUSY : VL_ERR_IO,
				"store writer lock %s: %s", path,
				errno == EWOULDBLOCK ? "held by another vellum process"
						     : strerror(errno));
		goto fail;
	}
	if ((rc = vault_open(&s->vault, cfg, conn, err)) != VL_OK ||
	    (rc = store_load_checkpoint(s, err)) != VL_OK ||
	    (rc = store_recover_segment(s, err)) != VL_OK)
		goto fail;
	s->sealer = record_sealer_new();
	*out = s;
	return VL_OK;
fail:
	store_close(s);
	return rc;
}

static void
store_item_clear(struct store_item *it)
{
	msghdr_free(&it->hdr);
	free(it->source);
	free(it->origin);
	free(it->mail_from);
	free(it->client_addr);
	free(it->helo);
	free(it->tls);
	free(it->listener);
	free(it->auth_user);
	free(it->xforward);
	for (size_t i = 0; i < it->nrcpts; i++) {
		free(it->rcpts[i]);
		free(it->roles[i]);
	}
	free(it->rcpts);
	free(it->roles);
	memset(it, 0, sizeof(*it));
}

static void
store_batch_clear(struct store *s)
{
	for (size_t i = 0; i < s->nitems; i++)
		store_item_clear(&s->items[i]);
	s->nitems = 0;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	store_batch_clear(s);
	free(s->items);
	free(s->results);
	store_close_segment(s);
	record_sealer_free(s->sealer);
	vault_free(s->vault);
	if (s->lock_fd > 0)
		close(s->lock_fd);
	free(s);
}

/* ---- staging ---- */

/* source_read - bytes [off, off+n) of a source into p. */
static enum vl_err
source_read(const struct store_source *src, uint8_t *p, size_t n, uint64_t off)
{
	if (src->mem) {
		memcpy(p, src->mem + off, n);
		return VL_OK;
	}
	return fs_pread_full(src->fd, p, n, (off_t)off);
}

/* store_hash_source - the content address (keyed BLAKE2b-256), the evidence SHA-256, and the
 * header fields, in one pass over the source. */
static enum vl_err
store_hash_source(struct store *s, const struct store_source *src, struct store_item *it,
		  struct store_result *res, char *err)
{
	crypto_generichash_state bl;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t *chunk = src->mem ? NULL : xmalloc(STORE_READ_CHUNK);
	enum vl_err rc = VL_OK;

	crypto_generichash_init(&bl, keyring_address_key(vault_keyring(s->vault)), 32, 32);
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	for (uint64_t off = 0; off < src->len;) {
		size_t n = src->len - off < STORE_READ_CHUNK ? src->len - off : STORE_READ_CHUNK;
		const uint8_t *p = src->mem ? src->mem + off : chunk;

		if (!src->mem && (rc = source_read(src, chunk, n, off)) != VL_OK) {
			vl_err_set(err, rc, "read message: %s", strerror(errno));
			goto out;
		}
		if (off == 0)
			msghdr_parse(&it->hdr, p, n);
		crypto_generichash_update(&bl, p, n);
		EVP_DigestUpdate(md, p, n);
		off += n;
	}
	if (src->len == 0)
		msghdr_parse(&it->hdr, (const uint8_t *)"", 0);
	crypto_generichash_final(&bl, res->address, 32);
	EVP_DigestFinal_ex(md, res->sha256, NULL);
out:
	EVP_MD_CTX_free(md);
	free(chunk);
	return rc;
}

enum vl_err
store_add(struct store *s, const struct store_source *src, const struct store_receipt *r,
	  size_t *slot, char *err)
{
	struct store_item *it;
	struct store_result *res;
	enum vl_err rc;

	if (r->nrcpts > STORE_RCPT_MAX)
		return vl_err_set(err, VL_ERR_LIMIT, "%zu recipients exceed the limit of %d",
				  r->nrcpts, STORE_RCPT_MAX);
	if (s->nitems == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->items = xrealloc(s->items, s->cap * sizeof(*s->items));
		s->results = xrealloc(s->results, s->cap * sizeof(*s->results));
	}
	it = &s->items[s->nitems];
	res = &s->results[s->nitems];
	memset(it, 0, sizeof(*it));
	memset(res, 0, sizeof(*res));
	it->src = *src;
	if ((rc = store_hash_source(s, src, it, res, err)) != VL_OK) {
		store_item_clear(it);
		return rc;
	}
	it->source = dup_bounded(r->source ? r->source : "store");
	it->origin = dup_bounded(r->origin ? r->origin : "");
	it->mail_from = dup_bounded(r->mail_from);
	it->client_addr = dup_bounded(r->client_addr);
	it->helo = dup_bounded(r->helo);
	it->tls = dup_bounded(r->tls);
	it->listener = dup_bounded(r->listener);
	it->auth_user = dup_bounded(r->auth_user);
	it->xforward = dup_bounded(r->xforward);
	it->nrcpts = r->nrcpts;
	it->rcpts = xcalloc(r->nrcpts + 1, sizeof(char *));
	it->roles = xcalloc(r->nrcpts + 1, sizeof(char *));
	for (size_t i = 0; i < r->nrcpts; i++) {
		it->rcpts[i] = dup_bounded(r->rcpts[i]);
		it->roles[i] = dup_bounded(r->roles && r->roles[i] ? r->roles[i] : "rcpt");
	}
	it->report_slot = r->has_report && r->report_slot < s->nitems ? (long)r->report_slot : -1;
	it->received_us = r->received_us ? r->received_us : store_now_us();
	it->first = -1;
	for (size_t i = 0; i < s->nitems; i++)
		if (memcmp(s->results[i].address, res->address, 32) == 0) {
			it->first = (long)i;
			break;
		}
	*slot = s->nitems++;
	return VL_OK;
}

/* ---- writing one batch ---- */

static void
store_ledger_add(struct store *s, struct store_rows *w, enum ledger_kind kind, int64_t at_us,
		 const uint8_t subject[32])
{
	uint8_t prev[32];

	memcpy(prev, s->head.hash, 32);
	ledger_append(&s->head, kind, at_us, subject);
	pgarr_int64(&w->l_seq, (int64_t)s->head.seq);
	pgarr_text(&w->l_kind, ledger_kind_name(kind));
	pgarr_int64(&w->l_at, at_us);
	pgarr_bytea(&w->l_subj, subject, 32);
	pgarr_bytea(&w->l_prev, prev, 32);
	pgarr_bytea(&w->l_hash, s->head.hash, 32);
}

/* store_write_plain - a small unencrypted record (checkpoint, seal, abandon note). */
static enum vl_err
store_write_plain(struct store *s, int kind, const uint8_t *payload, size_t len,
		  const uint8_t subject[32], int64_t at_us, uint64_t *off, char *err)
{
	struct record_params p = {.kind = (enum record_kind)kind, .stored_at_us = at_us};
	struct record_info info;
	enum vl_err rc;

	*off = segment_end(s->seg);
	if ((rc = record_begin(s->sealer, &p, segment_append_fn, s->seg)) != VL_OK ||
	    (rc = record_update(s->sealer, payload, len)) != VL_OK ||
	    (rc = record_finish(s->sealer, subject, &info)) != VL_OK)
		return vl_err_set(err, rc, "write record: %s", vl_err_str(rc));
	return VL_OK;
}

/* store_write_checkpoint - put the ledger head the database has committed into the segment,
 * so a later rewrite of the database's ledger is caught against the WORM store. */
static enum vl_err
store_write_checkpoint(struct store *s, int64_t at_us, char *err)
{
	uint8_t payload[40];
	uint64_t off;

	if (s->head.seq == 0 || s->head.seq == s->checkpointed)
		return VL_OK;
	put_u64le(payload, s->head.seq);
	memcpy(payload + 8, s->head.hash, 32);
	s->checkpointed = s->head.seq;
	return store_write_plain(s, RECORD_CHECKPOINT, payload, sizeof(payload), s->head.hash,
				 at_us, &off, err);
}

static enum vl_err
store_write_abandon_note(struct store *s, struct store_rows *w, int64_t at_us, char *err)
{
	uint8_t payload[48], subject[32];
	uint64_t off;
	enum vl_err rc;

	if (!s->pending_abandon.set)
		return VL_OK;
	put_u64le(payload, s->pending_abandon.id);
	put_u64le(payload + 8, s->pending_abandon.end);
	memcpy(payload + 16, s->pending_abandon.hash, 32);
	if ((rc = store_write_plain(s, STORE_RECORD_ABANDON, payload, sizeof(payload),
				    s->pending_abandon.hash, at_us, &off, err)) != VL_OK)
		return rc;
	ledger_subject_segment(subject, s->pending_abandon.id, s->pending_abandon.end,
			       s->pending_abandon.hash);
	store_ledger_add(s, w, LEDGER_SEGMENT, at_us, subject);
	return VL_OK;
}

/* store_seal_message - stream one new message into a MESSAGE record. */
static enum vl_err
store_seal_message(struct store *s, struct store_item *it, const struct store_result *res,
		   int64_t at_us, struct record_info *info, char *err)
{
	const struct keyring *kr = vault_keyring(s->vault);
	uint32_t dict = vault_newest_dict(s->vault);
	uint8_t key[32];
	struct record_params p = {
		.kind = RECORD_MESSAGE,
		.key = key,
		.zlevel = (int)s->cfg->zstd_level,
		.dict_id = dict,
		.cdict = dict ? vault_cdict(s->vault, dict) : NULL,
		.stored_at_us = at_us,
	};
	uint8_t *chunk = it->src.mem ? NULL : xmalloc(STORE_READ_CHUNK);
	enum vl_err rc;

	it->blob_off = segment_end(s->seg);
	keyslot_add(s->slots, keyring_seal_key(kr, keyring_current_id(kr)), keyring_current_id(kr),
		    it->blob_off, key, &p.key_id);
	it->key_id = keyring_current_id(kr);
	it->dict_id = dict;
	rc = record_begin(s->sealer, &p, segment_append_fn, s->seg);
	sodium_memzero(key, sizeof(key));
	if (rc != VL_OK)
		goto out;
	for (uint64_t off = 0; off < it->src.len;) {
		size_t n = it->src.len - off < STORE_READ_CHUNK ? it->src.len - off
								 : STORE_READ_CHUNK;
		if (it->src.mem)
			rc = record_update(s->sealer, it->src.mem + off, n);
		else if ((rc = source_read(&it->src, chunk, n, off)) == VL_OK)
			rc = record_update(s->sealer, chunk, n);
		if (rc != VL_OK)
			goto out;
		off += n;
	}
	if ((rc = record_finish(s->sealer, res->address, info)) != VL_OK)
		goto out;
	/* The bytes sealed must be the bytes hashed: a file changed under us is not evidence. */
	if (memcmp(info->sha256, res->sha256, 32) != 0 || info->raw_len != it->src.len)
		rc = VL_ERR_CORRUPT;
	it->blob_len = info->record_len;
out:
	free(chunk);
	if (rc != VL_OK)
		vl_err_set(err, rc, "seal message: %s", vl_err_str(rc));
	return rc;
}

/* store_receipt_json - one receipt as a canonical line (sorted keys, compact JSON): what
 * rebuild-index needs to recreate the receipt, its recipients and, for the receipt that brought
 * the message in ("blob": its record's segment and offset), the message row. */
static char *
store_receipt_json(const struct store_item *it, const struct store_result *res,
		   const struct store_item *creator, uint64_t seg, const struct store_result *report)
{
	json_t *o = json_object(), *rc = json_array(), *ro = json_array();
	char *text;

	for (size_t i = 0; i < it->nrcpts; i++) {
		json_array_append_new(rc, json_string(it->rcpts[i]));
		json_array_append_new(ro, json_string(it->roles[i]));
	}
	json_object_set_new(o, "roles", ro);
	if (report)
		json_object_set_new(o, "report", json_integer((json_int_t)report->message_id));
	json_object_set_new(o, "v", json_integer(1));
	json_object_set_new(o, "message_id", json_integer((json_int_t)res->message_id));
	json_object_set_new(o, "receipt_id", json_integer((json_int_t)it->receipt_id));
	if (creator)
		json_object_set_new(o, "blob", json_pack("[II]", (json_int_t)seg,
							 (json_int_t)creator->blob_off));
	json_object_set_new(o, "received_us", json_integer(it->received_us));
	json_object_set_new(o, "source", json_string(it->source));
	json_object_set_new(o, "origin", json_string(it->origin));
	json_object_set_new(o, "mail_from", it->mail_from ? json_string(it->mail_from) : json_null());
	json_object_set_new(o, "rcpts", rc);
#define OPT(k) json_object_set_new(o, #k, it->k ? json_string(it->k) : json_null())
	OPT(client_addr);
	OPT(helo);
	OPT(tls);
	OPT(listener);
	/* Only when set: receipts without them keep their old form. */
	if (it->auth_user)
		OPT(auth_user);
	if (it->xforward)
		OPT(xforward);
#undef OPT
	text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (text == NULL)
		vl_fatalx("json_dumps");
	return text;
}

/* store_write_receipts - every receipt of the batch as one line of one RECEIPT record, zstd
 * compressed (a receipt alone is mostly repeated keys: batched, it costs tens of bytes). Each
 * line's SHA-256 is what the ledger and the receipts row commit to. */
static enum vl_err
store_write_receipts(struct store *s, int64_t at_us, char *err)
{
	const struct keyring *kr = vault_keyring(s->vault);
	uint8_t key[32];
	struct record_params p = {
		.kind = RECORD_RECEIPT,
		.key = key,
		.zlevel = STORE_RECEIPT_ZLEVEL,
		.stored_at_us = at_us,
	};
	struct record_info info;
	struct buf lines = {0};
	uint8_t all[32];
	uint64_t off = segment_end(s->seg);
	enum vl_err rc;

	for (size_t i = 0; i < s->nitems; i++) {
		struct store_item *it = &s->items[i];
		struct store_result *res = &s->results[i];
		int creates = res->is_new && it->first < 0;
		const struct store_result *report =
			it->report_slot >= 0 ? &s->results[it->report_slot] : NULL;
		char *json = store_receipt_json(it, res, creates ? it : NULL, segment_id(s->seg), report);

		EVP_Digest(json, strlen(json), it->receipt_sha, NULL, EVP_sha256(), NULL);
		it->receipt_off = off;
		it->receipt_index = (uint32_t)i;
		if (i)
			buf_append(&lines, "\n", 1);
		buf_append_str(&lines, json);
		free(json);
	}
	EVP_Digest(lines.data, lines.len, all, NULL, EVP_sha256(), NULL);
	/* The batch's receipts share one record and so one key: it is destroyed when the last
	 * message with a receipt in it is disposed (dispose.c). */
	keyslot_add(s->slots, keyring_seal_key(kr, keyring_current_id(kr)), keyring_current_id(kr),
		    off, key, &p.key_id);
	rc = record_begin(s->sealer, &p, segment_append_fn, s->seg);
	sodium_memzero(key, sizeof(key));
	if (rc == VL_OK &&
	    (rc = record_update(s->sealer, lines.data, lines.len)) == VL_OK)
		rc = record_finish(s->sealer, all, &info);
	buf_free(&lines);
	if (rc != VL_OK)
		return vl_err_set(err, rc, "seal receipts: %s", vl_err_str(rc));
	return VL_OK;
}

/* ---- commit ---- */

/* store_write_batch - every record of the batch, in ledger order, into the open segment. */
static enum vl_err
store_write_batch(struct store *s, struct store_rows *w, int64_t at_us, char *err)
{
	uint8_t subject[32];
	enum vl_err rc;

	if ((rc = store_write_checkpoint(s, at_us, err)) != VL_OK ||
	    (rc = store_write_abandon_note(s, w, at_us, err)) != VL_OK)
		return rc;
	for (size_t i = 0; i < s->nitems; i++) {
		struct store_item *it = &s->items[i];
		struct store_result *res = &s->results[i];
		struct record_info info;

		if (res->is_new && it->first < 0) {
			if ((rc = store_seal_message(s, it, res, at_us, &info, err)) != VL_OK)
				return rc;
			ledger_subject_message(subject, res->address, res->sha256, it->src.len,
					       segment_id(s->seg), it->blob_off);
			store_ledger_add(s, w, LEDGER_MESSAGE, at_us, subject);
			store_rows_add_message(w, it, res, &info);
		}
	}
	if ((rc = store_write_receipts(s, at_us, err)) != VL_OK)
		return rc;
	for (size_t i = 0; i < s->nitems; i++) {
		store_ledger_add(s, w, LEDGER_RECEIPT, at_us, s->items[i].receipt_sha);
		store_rows_add_receipt(w, &s->items[i], &s->results[i], s->results);
	}
	return VL_OK;
}

/* store_prepare_segment - before a batch: a fresh segment after a failure, a reloaded head. */
static enum vl_err
store_prepare_segment(struct store *s, char *err)
{
	enum vl_err rc;

	if (s->head_stale) {
		if ((rc = ledger_head_load(s->conn, &s->head, err)) != VL_OK)
			return rc;
		s->head_stale = 0;
		s->checkpointed = 0;
	}
	if (s->seg_unclean || s->seg == NULL) {
		if (s->seg) {
			uint64_t id = segment_id(s->seg);

			store_close_segment(s);
			if ((rc = store_abandon(s, id, s->committed_end, err)) != VL_OK)
				return rc;
		}
		if ((rc = store_new_segment(s, err)) != VL_OK)
			return rc;
	}
	return VL_OK;
}

/* store_seal_segment - the open segment is full: append its SEAL record (id, the SHA-256 of
 * every byte before it), make it durable, record it in the ledger, make it immutable, and open
 * the next one. */
static enum vl_err
store_seal_segment(struct store *s, char *err)
{
	struct store_rows w = {0};
	uint8_t payload[40], hash[32], subject[32];
	uint64_t off, covered = segment_end(s->seg), id = segment_id(s->seg);
	int64_t at = store_now_us();
	char idb[24], sz[24], at_s[24], hex[70] = "\\x";
	enum vl_err rc;

	segment_hash_now(s->seg, hash);
	put_u64le(payload, id);
	memcpy(payload + 8, hash, 32);
	if ((rc = store_write_plain(s, RECORD_SEAL, payload, sizeof(payload), hash, at, &off,
				    err)) != VL_OK ||
	    (rc = store_sync(s, err)) != VL_OK)
		goto fail;
	ledger_subject_segment(subject, id, covered, hash);
	store_ledger_add(s, &w, LEDGER_SEGMENT, at, subject);
	store_u64str(idb, id);
	store_u64str(sz, covered);
	snprintf(at_s, sizeof(at_s), "%lld", (long long)at);
	hex_encode(hex + 2, hash, 32);
	const char *l[] = {pgarr_str(&w.l_seq),	 pgarr_str(&w.l_kind), pgarr_str(&w.l_at),
			   pgarr_str(&w.l_subj), pgarr_str(&w.l_prev), pgarr_str(&w.l_hash)};
	const char *u[] = {idb, sz, hex, at_s};
	if ((rc = store_exec(s->conn, "BEGIN", 0, NULL, NULL, err, "begin")) != VL_OK)
		goto fail;
	if ((rc = store_exec(s->conn, store_sql_ledger, 6, l, NULL, err, "ledger")) != VL_OK ||
	    (rc = store_exec(s->conn,
			     "UPDATE segments SET sealed_at = vellum_ts($4), size = $2, sha256 = $3,"
			     " records = (SELECT count(*) FROM blobs WHERE segment_id = $1)"
			     " WHERE id = $1",
			     4, u, NULL, err, "seal segment")) != VL_OK ||
	    (rc = store_exec(s->conn, "COMMIT", 0, NULL, NULL, err, "commit")) != VL_OK) {
		PQclear(PQexec(s->conn, "ROLLBACK"));
		goto fail;
	}
	if (!segment_make_immutable(s->seg))
		log_debug("segment=%llu sealed; immutable flag not available", (unsigned long long)id);
	log_info("segment=%llu sealed size=%llu", (unsigned long long)id,
		 (unsigned long long)segment_end(s->seg));
	store_close_segment(s);
	store_rows_free(&w);
	return store_new_segment(s, err);
fail:
	store_rows_free(&w);
	s->seg_unclean = 1;
	s->head_stale = 1;
	return rc;
}

/* store_seal_due - the open segment has reached segment_max_mb: seal it after this batch. */
static int
store_seal_due(const struct store *s)
{
	return segment_end(s->seg) >= (uint64_t)s->cfg->segment_max_mb << 20;
}

enum vl_err
store_commit(struct store *s, const struct store_result **results, size_t *n, char *err)
{
	struct store_rows w = {0};
	struct store_pipe pipe;
	int64_t at_us = store_now_us();
	int unlocked = 0;
	enum vl_err rc;

	*results = s->results;
	*n = s->nitems;
	if (s->nitems == 0)
		return VL_OK;
	if ((rc = store_begin_batch(s, err)) != VL_OK)
		goto out_unlocked;
	if ((rc = store_prepare_segment(s, err)) != VL_OK)
		goto out;
	/* From here on the segment holds bytes the database may not: any failure makes it
	 * unclean, and the next batch starts a new one. */
	if ((rc = store_write_batch(s, &w, at_us, err)) == VL_OK) {
		/* PostgreSQL inserts the rows while the segment is fdatasync'ed; COMMIT waits for
		 * both, so no row that points at the segment is visible before its bytes are
		 * durable. */
		enum vl_err sent = store_rows_send(s, &pipe, &w, at_us, err), synced;
		char sync_err[VL_ERRLEN] = "";

		synced = store_sync(s, sync_err);
		if (synced != VL_OK && sent == VL_OK && err)
			snprintf(err, VL_ERRLEN, "%s", sync_err);
		/* Sealing a full segment appends to the ledger: it keeps the lock until then. */
		rc = store_rows_finish(s, &pipe, sent, synced, !store_seal_due(s), &unlocked, err);
	}
	if (rc != VL_OK) {
		s->seg_unclean = 1;
		s->head_stale = 1;
		goto out;
	}
	s->committed_end = segment_end(s->seg);
	s->pending_abandon.set = 0;
	if (store_seal_due(s)) {
		char detail[VL_ERRLEN];

		/* The batch is durable whatever happens to sealing; a failed seal is retried. */
		if (store_seal_segment(s, detail) != VL_OK)
			log_warnx("seal segment: %s", detail);
	}
out:
	if (!unlocked)
		store_ledger_unlock(s);
out_unlocked:
	store_rows_free(&w);
	for (size_t i = 0; i < s->nitems; i++)
		store_item_clear(&s->items[i]);
	s->nitems = 0;
	return rc;
}

/* ---- dictionary ---- */

/* store_commit_dictionary - the dictionary record is durable: index it with its ledger entry. */
static enum vl_err
store_commit_dictionary(struct store *s, uint32_t id, uint64_t off, size_t dlen, size_t trained,
			const uint8_t sha[32], int64_t at, char *err)
{
	struct store_rows w = {0};
	uint8_t subject[32];
	char ids[24], seg[24], offs[24], sz[24], cnt[24], ats[24], end[24];
	enum vl_err rc;

	ledger_subject_dictionary(subject, id, sha, segment_id(s->seg), off);
	store_ledger_add(s, &w, LEDGER_DICTIONARY, at, subject);
	store_u64str(ids, id);
	store_u64str(seg, segment_id(s->seg));
	store_u64str(offs, off);
	store_u64str(sz, dlen);
	store_u64str(cnt, trained);
	snprintf(ats, sizeof(ats), "%lld", (long long)at);
	store_u64str(end, segment_end(s->seg));
	const char *d[] = {ids, seg, offs, sz, cnt, ats};
	const char *l[] = {pgarr_str(&w.l_seq),	 pgarr_str(&w.l_kind), pgarr_str(&w.l_at),
			   pgarr_str(&w.l_subj), pgarr_str(&w.l_prev), pgarr_str(&w.l_hash)};
	const char *u[] = {seg, end};
	if ((rc = store_exec(s->conn, "BEGIN", 0, NULL, NULL, err, "begin")) != VL_OK)
		goto out;
	if ((rc = store_exec(s->conn,
			     "INSERT INTO dictionaries (id, segment_id, record_offset, size,"
			     " trained_on, created_at) VALUES ($1, $2, $3, $4, $5, vellum_ts($6))",
			     6, d, NULL, err, "insert dictionary")) != VL_OK ||
	    (rc = store_exec(s->conn, store_sql_ledger, 6, l, NULL, err, "ledger")) != VL_OK ||
	    (rc = store_exec(s->conn, "UPDATE segments SET size = $2 WHERE id = $1", 2, u, NULL,
			     err, "segment end")) != VL_OK ||
	    (rc = store_exec(s->conn, "COMMIT", 0, NULL, NULL, err, "commit")) != VL_OK)
		PQclear(PQexec(s->conn, "ROLLBACK"));
out:
	store_rows_free(&w);
	return rc;
}

/* store_train_locked - write and commit the dictionary record, under the ledger lock. */
static enum vl_err
store_train_locked(struct store *s, struct record_params *pp, uint32_t id, const uint8_t *dict,
		   size_t dlen, size_t n, const uint8_t sha[32], char *err)
{
	struct record_params p = *pp;
	struct record_info info;
	uint64_t off;
	enum vl_err rc;

	if ((rc = store_prepare_segment(s, err)) != VL_OK ||
	    (rc = store_write_checkpoint(s, p.stored_at_us, err)) != VL_OK)
		return rc;
	off = segment_end(s->seg);
	if ((rc = record_begin(s->sealer, &p, segment_append_fn, s->seg)) != VL_OK ||
	    (rc = record_update(s->sealer, dict, dlen)) != VL_OK ||
	    (rc = record_finish(s->sealer, sha, &info)) != VL_OK ||
	    (rc = store_sync(s, err)) != VL_OK ||
	    (rc = store_commit_dictionary(s, id, off, dlen, n, sha, p.stored_at_us, err)) != VL_OK) {
		s->seg_unclean = 1;
		s->head_stale = 1;
		if (err && !*err)
			vl_err_set(err, rc, "dictionary: %s", vl_err_str(rc));
		return rc;
	}
	s->committed_end = segment_end(s->seg);
	rc = vault_add_dict(s->vault, id, dict, dlen, (int)s->cfg->zstd_level, err);
	log_info("dictionary=%u trained on %zu messages, %zu bytes", id, n, dlen);
	return rc;
}

enum vl_err
store_train_dictionary(struct store *s, const struct store_source *samples, size_t n, char *err)
{
	struct buf all = {0};
	size_t *sizes = xcalloc(n + 1, sizeof(*sizes)), cap = (size_t)s->cfg->dict_max_kb * 1024;
	uint8_t *dict = xmalloc(cap), sha[32];
	const struct keyring *kr = vault_keyring(s->vault);
	struct record_params p = {.kind = RECORD_DICT,
				  .key_id = keyring_current_id(kr),
				  .key = keyring_seal_key(kr, keyring_current_id(kr))};
	uint32_t id = vault_newest_dict(s->vault) + 1;
	size_t dlen;
	enum vl_err rc = VL_OK;

	if (vault_newest_dict(s->vault) != 0 || n == 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		size_t take = samples[i].len < STORE_DICT_SAMPLE_MAX ? samples[i].len
								      : STORE_DICT_SAMPLE_MAX;
		buf_reserve(&all, take);
		if ((rc = source_read(&samples[i], all.data + all.len, take, 0)) != VL_OK) {
			vl_err_set(err, rc, "read dictionary sample: %s", strerror(errno));
			goto out;
		}
		all.len += take;
		sizes[i] = take;
	}
	dlen = ZDICT_trainFromBuffer(dict, cap, all.data, sizes, (unsigned)n);
	if (ZDICT_isError(dlen)) {
		log_warnx("dictionary not trained (%s); messages are compressed without one",
			  ZDICT_getErrorName(dlen));
		goto out;
	}
	p.stored_at_us = store_now_us();
	EVP_Digest(dict, dlen, sha, NULL, EVP_sha256(), NULL);
	if ((rc = store_ledger_lock(s, err)) != VL_OK)
		goto out;
	rc = store_train_locked(s, &p, id, dict, dlen, n, sha, err);
	store_ledger_unlock(s);
out:
	buf_free(&all);
	free(sizes);
	free(dict);
	return rc;
}

