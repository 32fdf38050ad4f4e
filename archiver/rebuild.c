/* rebuild - re-create the database from the segments and the keyring. */
#include <dirent.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "keyslot.h"
#include "ledger.h"
#include "log.h"
#include "msghdr.h"
#include "rebuild.h"
#include "record.h"
#include "segment.h"
#include "vault.h"

#define REBUILD_RECORD_ABANDON 6 /* the store's abandon note (store.c) */
#define REBUILD_MAX_SEGMENTS 1000000

struct pending_msg {
	uint64_t seg, off; /* where its MESSAGE record is */
	uint8_t address[32], sha256[32];
	uint64_t raw_len;
	struct msghdr hdr;
	int inserted;
};

struct rebuild {
	const struct vl_config *cfg;
	PGconn *conn;
	struct vault *vault;
	struct ledger_head head;
	struct rebuild_counts *n;
	struct pending_msg *msgs;
	size_t nmsgs, cap;
	struct {
		uint64_t id, end;
	} *abandoned;
	size_t nabandoned;
	struct {
		uint64_t seg, off;
	} *shredded; /* message records whose keys disposal destroyed */
	size_t nshredded;
	uint32_t next_dict;
};

static enum vl_err
exec(struct rebuild *rb, const char *sql, int n, const char *const *vals, char *err)
{
	PGresult *r = PQexecParams(rb->conn, sql, n, NULL, vals, NULL, NULL, 0);
	enum vl_err rc = VL_OK;

	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		rc = vl_err_set(err, VL_ERR_DB, "%s", PQerrorMessage(rb->conn));
	PQclear(r);
	return rc;
}

/* exec_count - exec, and *n: the rows the statement changed. */
static enum vl_err
exec_count(struct rebuild *rb, const char *sql, int n, const char *const *vals, int *rows,
	   char *err)
{
	PGresult *r = PQexecParams(rb->conn, sql, n, NULL, vals, NULL, NULL, 0);
	enum vl_err rc = VL_OK;

	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = vl_err_set(err, VL_ERR_DB, "%s", PQerrorMessage(rb->conn));
	else
		*rows = atoi(PQcmdTuples(r));
	PQclear(r);
	return rc;
}

static int
rebuild_was_shredded(const struct rebuild *rb, uint64_t seg, uint64_t off)
{
	for (size_t i = 0; i < rb->nshredded; i++)
		if (rb->shredded[i].seg == seg && rb->shredded[i].off == off)
			return 1;
	return 0;
}

/* rebuild_key_destroyed - whether disposal destroyed the key of this record (its bytes stay,
 * unreadable); such records are skipped, counted, and not an error. */
static enum vl_err
rebuild_key_destroyed(struct rebuild *rb, uint64_t seg, uint64_t off,
		      const struct record_info *info, int *destroyed, char *err)
{
	int state = 0;
	enum vl_err rc = VL_OK;

	*destroyed = 0;
	if (info->key_id & KEYSLOT_ID_FLAG)
		rc = vault_slot_state(rb->vault, seg, off, &state, err);
	if (rc != VL_OK || state != KEYSLOT_DESTROYED)
		return rc;
	*destroyed = 1;
	rb->n->shredded++;
	if (info->kind == RECORD_MESSAGE) {
		rb->shredded = xrealloc(rb->shredded, (rb->nshredded + 1) * sizeof(*rb->shredded));
		rb->shredded[rb->nshredded].seg = seg;
		rb->shredded[rb->nshredded++].off = off;
	}
	return VL_OK;
}

static void
hexb(char *out, const uint8_t *p, size_t n)
{
	out[0] = '\\';
	out[1] = 'x';
	hex_encode(out + 2, p, n);
}

static enum vl_err
rebuild_ledger(struct rebuild *rb, enum ledger_kind kind, int64_t at, const uint8_t subject[32],
	       char *err)
{
	char seq[24], ats[24], subj[70], prev[70], hash[70];

	hexb(prev, rb->head.hash, 32);
	ledger_append(&rb->head, kind, at, subject);
	snprintf(seq, sizeof(seq), "%llu", (unsigned long long)rb->head.seq);
	snprintf(ats, sizeof(ats), "%lld", (long long)at);
	hexb(subj, subject, 32);
	hexb(hash, rb->head.hash, 32);
	const char *v[] = {seq, ledger_kind_name(kind), ats, subj, prev, hash};
	rb->n->ledger++;
	return exec(rb,
		    "INSERT INTO ledger (seq, kind, at, subject, prev_hash, entry_hash)"
		    " VALUES ($1, $2, vellum_ts($3), $4, $5, $6)",
		    6, v, err);
}

struct msg_sink {
	crypto_generichash_state addr;
	struct buf head; /* the first MSGHDR_SCAN_MAX bytes, for the header fields */
};

static enum vl_err
msg_sink_fn(void *arg, const uint8_t *p, size_t n)
{
	struct msg_sink *m = arg;

	crypto_generichash_update(&m->addr, p, n);
	if (m->head.len < MSGHDR_SCAN_MAX) {
		size_t take = MSGHDR_SCAN_MAX - m->head.len < n ? MSGHDR_SCAN_MAX - m->head.len : n;

		buf_append(&m->head, p, take);
	}
	return VL_OK;
}

static enum vl_err
rebuild_message(struct rebuild *rb, uint64_t seg, uint64_t off, char *err)
{
	struct msg_sink sink = {0};
	struct record_info info;
	struct pending_msg *pm;
	uint8_t addr[32], subject[32];
	char a[70], h[70], raw[24], rec[24], key[24], dict[24], segs[24], offs[24], at[24];
	enum vl_err rc;

	crypto_generichash_init(&sink.addr, keyring_address_key(vault_keyring(rb->vault)), 32, 32);
	rc = vault_read(rb->vault, seg, off, NULL, msg_sink_fn, &sink, &info, err);
	if (rc != VL_OK)
		goto out;
	crypto_generichash_final(&sink.addr, addr, 32);
	if (memcmp(addr, info.subject, 32) != 0) {
		rc = vl_err_set(err, VL_ERR_CORRUPT, "segment %llu offset %llu: content does not "
				"hash to its address", (unsigned long long)seg, (unsigned long long)off);
		goto out;
	}
	if (rb->nmsgs == rb->cap) {
		rb->cap = rb->cap ? rb->cap * 2 : 1024;
		rb->msgs = xrealloc(rb->msgs, rb->cap * sizeof(*rb->msgs));
	}
	pm = &rb->msgs[rb->nmsgs++];
	memset(pm, 0, sizeof(*pm));
	pm->seg = seg;
	pm->off = off;
	memcpy(pm->address, addr, 32);
	memcpy(pm->sha256, info.sha256, 32);
	pm->raw_len = info.raw_len;
	msghdr_parse(&pm->hdr, sink.head.data ? sink.head.data : (const uint8_t *)"", sink.head.len);
	hexb(a, addr, 32);
	hexb(h, info.sha256, 32);
	snprintf(raw, sizeof(raw), "%llu", (unsigned long long)info.raw_len);
	snprintf(rec, sizeof(rec), "%llu", (unsigned long long)info.record_len);
	snprintf(key, sizeof(key), "%u", info.key_id & ~KEYSLOT_ID_FLAG);
	snprintf(dict, sizeof(dict), "%u", info.dict_id);
	snprintf(segs, sizeof(segs), "%llu", (unsigned long long)seg);
	snprintf(offs, sizeof(offs), "%llu", (unsigned long long)off);
	snprintf(at, sizeof(at), "%lld", (long long)info.stored_at_us);
	const char *v[] = {a, h, raw, rec, key, dict, segs, offs, at};
	if ((rc = exec(rb,
		       "INSERT INTO blobs (address, sha256, raw_size, record_size, key_id, dict_id,"
		       " segment_id, record_offset, stored_at) VALUES ($1, $2, $3, $4, $5, $6, $7,"
		       " $8, vellum_ts($9))",
		       9, v, err)) != VL_OK)
		goto out;
	ledger_subject_message(subject, addr, info.sha256, info.raw_len, seg, off);
	rc = rebuild_ledger(rb, LEDGER_MESSAGE, info.stored_at_us, subject, err);
	rb->n->messages++;
out:
	buf_free(&sink.head);
	return rc;
}

static struct pending_msg *
rebuild_find(struct rebuild *rb, uint64_t seg, uint64_t off)
{
	for (size_t i = rb->nmsgs; i-- > 0;)
		if (rb->msgs[i].seg == seg && rb->msgs[i].off == off)
			return &rb->msgs[i];
	return NULL;
}

static const char *
jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static enum vl_err
rebuild_message_row(struct rebuild *rb, struct pending_msg *pm, json_int_t id, json_int_t recv,
		    char *err)
{
	char ids[24], rv[24], a[70], h[70], sz[24], date[24];
	enum vl_err rc;

	snprintf(ids, sizeof(ids), "%lld", (long long)id);
	snprintf(rv, sizeof(rv), "%lld", (long long)recv);
	hexb(a, pm->address, 32);
	hexb(h, pm->sha256, 32);
	snprintf(sz, sizeof(sz), "%llu", (unsigned long long)pm->raw_len);
	snprintf(date, sizeof(date), "%lld", (long long)pm->hdr.date_us);
	const char *pv[] = {rv};
	if ((rc = exec(rb, "SELECT vellum_ensure_partition(vellum_ts($1))", 1, pv, err)) != VL_OK)
		return rc;
	const char *v[] = {ids,		  rv,	       a,		h,
			   sz,		  pm->hdr.from, pm->hdr.to,	pm->hdr.cc,
			   pm->hdr.subject, date,      pm->hdr.message_id, pm->hdr.parse_error ? "t" : "f"};
	rc = exec(rb,
		  "INSERT INTO messages (id, received_at, address, sha256, size, hdr_from, hdr_to,"
		  " hdr_cc, hdr_subject, hdr_date, hdr_message_id, parse_error) VALUES ($1,"
		  " vellum_ts($2), $3, $4, $5, $6, $7, $8, $9, CASE WHEN $10::int8 = 0 THEN NULL ELSE"
		  " vellum_ts($10) END, $11, $12)",
		  12, v, err);
	pm->inserted = 1;
	return rc;
}

/* rebuild_receipt_line - one receipt (one line of a RECEIPT record). */
static enum vl_err
rebuild_receipt_line(struct rebuild *rb, const char *line, size_t len, uint64_t seg,
		     uint64_t off, uint32_t index, int64_t at, char *err)
{
	json_t *o = json_loadb(line, len, 0, NULL);
	json_t *blob = o ? json_object_get(o, "blob") : NULL;
	uint8_t sha[32];
	char rid[24], mid[24], rv[24], segs[24], offs[24], idx[24], h[70];
	enum vl_err rc = VL_OK;

	if (o == NULL) {
		rc = vl_err_set(err, VL_ERR_CORRUPT, "segment %llu offset %llu: receipt %u is not "
				"JSON", (unsigned long long)seg, (unsigned long long)off, index);
		goto out;
	}
	json_int_t msg_id = json_integer_value(json_object_get(o, "message_id"));
	json_int_t recv = json_integer_value(json_object_get(o, "received_us"));
	if (blob) {
		struct pending_msg *pm = rebuild_find(
			rb, (uint64_t)json_integer_value(json_array_get(blob, 0)),
			(uint64_t)json_integer_value(json_array_get(blob, 1)));

		if (pm == NULL && rebuild_was_shredded(
					  rb, (uint64_t)json_integer_value(json_array_get(blob, 0)),
					  (uint64_t)json_integer_value(json_array_get(blob, 1)))) {
			rb->n->receipts_skipped++; /* its message was disposed */
			goto out;
		}
		if (pm == NULL) {
			rc = vl_err_set(err, VL_ERR_CORRUPT, "segment %llu offset %llu: receipt %u "
					"names a message record that is not there",
					(unsigned long long)seg, (unsigned long long)off, index);
			goto out;
		}
		if (!pm->inserted && (rc = rebuild_message_row(rb, pm, msg_id, recv, err)) != VL_OK)
			goto out;
	}
	EVP_Digest(line, len, sha, NULL, EVP_sha256(), NULL);
	snprintf(rid, sizeof(rid), "%lld",
		 (long long)json_integer_value(json_object_get(o, "receipt_id")));
	snprintf(mid, sizeof(mid), "%lld", (long long)msg_id);
	snprintf(rv, sizeof(rv), "%lld", (long long)recv);
	snprintf(segs, sizeof(segs), "%llu", (unsigned long long)seg);
	snprintf(offs, sizeof(offs), "%llu", (unsigned long long)off);
	snprintf(idx, sizeof(idx), "%u", index);
	hexb(h, sha, 32);
	char rep[24];
	json_t *report = json_object_get(o, "report");
	snprintf(rep, sizeof(rep), "%lld", (long long)json_integer_value(report));
	const char *v[] = {rid,		     mid,		rv,	 jstr(o, "source"),
			   jstr(o, "origin"), jstr(o, "mail_from"), jstr(o, "client_addr"),
			   jstr(o, "helo"),   jstr(o, "tls"),	jstr(o, "listener"), segs, offs, idx, h,
			   report ? rep : NULL, jstr(o, "auth_user"), jstr(o, "xforward")};
	/* A receipt of a disposed message (its batch's record lives on for the others) is not
	 * restored: no message row is there for it. */
	int added = 0;
	if ((rc = exec_count(rb,
			     "INSERT INTO receipts (id, message_id, received_at, source, origin,"
			     " mail_from, client_addr, helo, tls, listener, segment_id, record_offset,"
			     " record_index, sha256, journal_report_id, auth_user, xforward) SELECT $1,"
			     " $2, vellum_ts($3), $4, coalesce($5, ''), $6, $7, $8, $9, $10, $11, $12,"
			     " $13, $14, $15, $16, $17"
			     " WHERE EXISTS (SELECT 1 FROM messages WHERE id = $2::int8)",
			     17, v, &added, err)) != VL_OK)
		goto out;
	if (!added) {
		rb->n->receipts_skipped++;
		goto out;
	}
	json_t *rc_arr = json_object_get(o, "rcpts"), *roles = json_object_get(o, "roles");
	for (size_t i = 0; i < json_array_size(rc_arr); i++) {
		char pos[24];
		const char *role = json_string_value(json_array_get(roles, i));

		snprintf(pos, sizeof(pos), "%zu", i);
		const char *e[] = {rid, pos, json_string_value(json_array_get(rc_arr, i)),
				   role ? role : "rcpt"};
		if ((rc = exec(rb, "INSERT INTO envelope_recipients (receipt_id, position, address,"
				   " role) VALUES ($1, $2, $3, $4)", 4, e, err)) != VL_OK)
			goto out;
	}
	rc = rebuild_ledger(rb, LEDGER_RECEIPT, at, sha, err);
	rb->n->receipts++;
out:
	json_decref(o);
	return rc;
}

/* rebuild_receipt - a RECEIPT record: one receipt per line, in ledger order. */
static enum vl_err
rebuild_receipt(struct rebuild *rb, uint64_t seg, uint64_t off, char *err)
{
	struct buf b = {0};
	struct record_info info;
	enum vl_err rc;
	uint32_t index = 0;

	if ((rc = vault_read_buf(rb->vault, seg, off, &b, &info, err)) != VL_OK)
		goto out;
	for (size_t start = 0; start < b.len && rc == VL_OK; index++) {
		const char *nl = memchr(b.data + start, '\n', b.len - start);
		size_t end = nl ? (size_t)((const uint8_t *)nl - b.data) : b.len;

		rc = rebuild_receipt_line(rb, (const char *)b.data + start, end - start, seg, off,
					  index, info.stored_at_us, err);
		start = end + 1;
	}
out:
	buf_free(&b);
	return rc;
}

static enum vl_err
rebuild_dict(struct rebuild *rb, uint64_t seg, uint64_t off, char *err)
{
	struct buf b = {0};
	struct record_info info;
	uint8_t subject[32];
	uint32_t id = ++rb->next_dict;
	char ids[24], segs[24], offs[24], sz[24], at[24];
	enum vl_err rc;

	if ((rc = vault_read_buf(rb->vault, seg, off, &b, &info, err)) != VL_OK ||
	    (rc = vault_add_dict(rb->vault, id, b.data, b.len, 0, err)) != VL_OK)
		goto out;
	snprintf(ids, sizeof(ids), "%u", id);
	snprintf(segs, sizeof(segs), "%llu", (unsigned long long)seg);
	snprintf(offs, sizeof(offs), "%llu", (unsigned long long)off);
	snprintf(sz, sizeof(sz), "%zu", b.len);
	snprintf(at, sizeof(at), "%lld", (long long)info.stored_at_us);
	const char *v[] = {ids, segs, offs, sz, at};
	if ((rc = exec(rb, "INSERT INTO dictionaries (id, segment_id, record_offset, size,"
			   " trained_on, created_at) VALUES ($1, $2, $3, $4, 0, vellum_ts($5))",
		       5, v, err)) != VL_OK)
		goto out;
	ledger_subject_dictionary(subject, id, info.sha256, seg, off);
	rc = rebuild_ledger(rb, LEDGER_DICTIONARY, info.stored_at_us, subject, err);
	rb->n->dictionaries++;
out:
	buf_free(&b);
	return rc;
}

/* rebuild_closing - a SEAL record (closing its own segment) or an abandon note (closing an
 * earlier one): payload id, [end,] SHA-256 of the bytes the closing covers. */
static enum vl_err
rebuild_closing(struct rebuild *rb, uint64_t seg, uint64_t off, int abandon, char *err)
{
	struct buf b = {0};
	struct record_info info;
	uint8_t subject[32];
	char ids[24], sz[24], h[70], at[24];
	enum vl_err rc;

	if ((rc = vault_read_buf(rb->vault, seg, off, &b, &info, err)) != VL_OK)
		goto out;
	if (b.len != (abandon ? 48u : 40u)) {
		rc = vl_err_set(err, VL_ERR_CORRUPT, "segment %llu offset %llu: bad closing record",
				(unsigned long long)seg, (unsigned long long)off);
		goto out;
	}
	uint64_t id = get_u64le(b.data), end = abandon ? get_u64le(b.data + 8) : off;
	const uint8_t *hash = b.data + (abandon ? 16 : 8);
	snprintf(ids, sizeof(ids), "%llu", (unsigned long long)id);
	snprintf(sz, sizeof(sz), "%llu", (unsigned long long)end);
	snprintf(at, sizeof(at), "%lld", (long long)info.stored_at_us);
	hexb(h, hash, 32);
	const char *v[] = {ids, sz, h, at, abandon ? "t" : "f"};
	if ((rc = exec(rb, "UPDATE segments SET size = $2, sha256 = $3, sealed_at = vellum_ts($4),"
			   " abandoned = $5 WHERE id = $1",
		       5, v, err)) != VL_OK)
		goto out;
	ledger_subject_segment(subject, id, end, hash);
	rc = rebuild_ledger(rb, LEDGER_SEGMENT, info.stored_at_us, subject, err);
out:
	buf_free(&b);
	return rc;
}

static uint64_t
rebuild_abandoned_end(const struct rebuild *rb, uint64_t id)
{
	for (size_t i = 0; i < rb->nabandoned; i++)
		if (rb->abandoned[i].id == id)
			return rb->abandoned[i].end;
	return UINT64_MAX;
}

/* rebuild_segment - index every record of one segment, in order, up to its torn tail or (for
 * an abandoned segment) its committed end. pass 0 only collects abandon notes. */
static enum vl_err
rebuild_segment(struct rebuild *rb, uint64_t id, int pass, char *err)
{
	char path[CONFIG_PATH_MAX], ids[24], name[32], at[24], end_s[24];
	struct segment_header h;
	struct record_reader *rr = record_reader_new();
	struct record_info info;
	off_t size, off = SEGMENT_HEADER_LEN;
	uint64_t limit = rebuild_abandoned_end(rb, id);
	enum vl_err rc = VL_OK;
	int fd;

	vault_segment_path(rb->vault, path, id);
	if ((rc = segment_read_header(path, &h, &fd, &size, err)) != VL_OK)
		goto out;
	if (pass == 1) {
		segment_file_name(name, id);
		snprintf(ids, sizeof(ids), "%llu", (unsigned long long)id);
		snprintf(at, sizeof(at), "%lld", (long long)h.created_us);
		const char *v[] = {ids, name, at};
		if ((rc = exec(rb, "INSERT INTO segments (id, file_name, created_at, size) VALUES"
				   " ($1, $2, vellum_ts($3), 0)", 3, v, err)) != VL_OK)
			goto out;
		rb->n->segments++;
	}
	while (off < size && (uint64_t)off < limit) {
		char detail[VL_ERRLEN];

		if (record_scan(rr, fd, off, size, &info, detail) != VL_OK) {
			if (pass == 1)
				log_warnx("segment=%llu torn tail at offset %lld ignored: %s",
					  (unsigned long long)id, (long long)off, detail);
			break;
		}
		if (pass == 0) {
			if ((int)info.kind == REBUILD_RECORD_ABANDON) {
				struct buf b = {0};
				struct record_info bi;
				enum vl_err nrc = vault_read_buf(rb->vault, id, (uint64_t)off, &b,
								 &bi, detail);

				/* Rebuilt without it, the records it abandoned would come back
				 * (and pass 1 refuses the same note: rebuild_closing). */
				if (nrc == VL_OK && b.len != 48)
					nrc = vl_err_set(detail, VL_ERR_CORRUPT, "%zu bytes, not 48",
							 b.len);
				if (nrc != VL_OK) {
					rc = vl_err_set(err, nrc, "segment=%llu offset %lld: abandon"
							" note: %s", (unsigned long long)id,
							(long long)off, detail);
					buf_free(&b);
					goto out;
				}
				rb->abandoned = xrealloc(rb->abandoned, (rb->nabandoned + 1) *
									 sizeof(*rb->abandoned));
				rb->abandoned[rb->nabandoned].id = get_u64le(b.data);
				rb->abandoned[rb->nabandoned++].end = get_u64le(b.data + 8);
				buf_free(&b);
			}
		} else if (info.kind == RECORD_MESSAGE || info.kind == RECORD_RECEIPT) {
			int gone;

			rc = rebuild_key_destroyed(rb, id, (uint64_t)off, &info, &gone, err);
			if (rc == VL_OK && !gone)
				rc = info.kind == RECORD_MESSAGE
					     ? rebuild_message(rb, id, (uint64_t)off, err)
					     : rebuild_receipt(rb, id, (uint64_t)off, err);
		} else if (info.kind == RECORD_DICT) {
			rc = rebuild_dict(rb, id, (uint64_t)off, err);
		} else if (info.kind == RECORD_SEAL || (int)info.kind == REBUILD_RECORD_ABANDON) {
			rc = rebuild_closing(rb, id, (uint64_t)off, info.kind != RECORD_SEAL, err);
		} else if (info.kind == RECORD_CHECKPOINT) {
			if (info.subject[0] != rb->head.hash[0] ||
			    memcmp(info.subject, rb->head.hash, 32) != 0)
				rb->n->checkpoint_mismatches++;
		}
		if (rc != VL_OK)
			goto out;
		off += (off_t)info.record_len;
	}
	if (pass == 1) {
		snprintf(end_s, sizeof(end_s), "%lld", (long long)off);
		const char *v[] = {ids, end_s};
		rc = exec(rb, "UPDATE segments SET size = $2 WHERE id = $1 AND sealed_at IS NULL", 2,
			  v, err);
	}
out:
	if (fd >= 0)
		close(fd);
	record_reader_free(rr);
	return rc;
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

enum vl_err
rebuild_run(const struct vl_config *cfg, PGconn *conn, struct rebuild_counts *n, char *err)
{
	struct rebuild rb = {.cfg = cfg, .conn = conn, .n = n};
	uint64_t *ids = NULL;
	size_t nids = 0;
	DIR *d;
	struct dirent *e;
	PGresult *r;
	enum vl_err rc;

	r = PQexec(conn, "SELECT (SELECT count(*) FROM segments) + (SELECT count(*) FROM ledger)");
	if (PQresultStatus(r) != PGRES_TUPLES_OK || strcmp(PQgetvalue(r, 0, 0), "0") != 0) {
		PQclear(r);
		return vl_err_set(err, VL_ERR_EXISTS, "the database is not empty: rebuild-index "
				  "only fills a new, empty database");
	}
	PQclear(r);
	if ((rc = vault_open(&rb.vault, cfg, NULL, err)) != VL_OK)
		return rc;
	if ((d = opendir(vault_segment_dir(rb.vault))) == NULL) {
		rc = vl_err_set(err, VL_ERR_IO, "%s: cannot list", vault_segment_dir(rb.vault));
		goto out;
	}
	while ((e = readdir(d)) != NULL && nids < REBUILD_MAX_SEGMENTS) {
		char *end;
		uint64_t id = strtoull(e->d_name, &end, 10);

		if (strcmp(end, ".vls") != 0)
			continue;
		ids = xrealloc(ids, (nids + 1) * sizeof(*ids));
		ids[nids++] = id;
	}
	closedir(d);
	qsort(ids, nids, sizeof(*ids), u64_cmp);
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1 && (rc = exec(&rb, "BEGIN", 0, NULL, err)) != VL_OK)
			goto out;
		for (size_t i = 0; i < nids; i++)
			if ((rc = rebuild_segment(&rb, ids[i], pass, err)) != VL_OK)
				goto out;
	}
	rc = exec(&rb,
		  "SELECT setval('message_id_seq', greatest((SELECT max(id) FROM messages), 1)),"
		  " setval('receipts_id_seq', greatest((SELECT max(id) FROM receipts), 1))",
		  0, NULL, err);
	if (rc == VL_OK) {
		char sk[24], cm[24];

		snprintf(sk, sizeof(sk), "%llu", (unsigned long long)(n->shredded + n->receipts_skipped));
		snprintf(cm, sizeof(cm), "%llu", (unsigned long long)n->checkpoint_mismatches);
		const char *v[] = {sk, cm};
		rc = exec(&rb, "INSERT INTO rebuilds (records_skipped, checkpoint_mismatches)"
			       " VALUES ($1, $2)", 2, v, err);
	}
	if (rc == VL_OK)
		rc = exec(&rb, "COMMIT", 0, NULL, err);
	if (n->checkpoint_mismatches)
		log_warnx("%llu checkpoints differ from the rebuilt ledger",
			  (unsigned long long)n->checkpoint_mismatches);
out:
	if (rc != VL_OK)
		PQclear(PQexec(conn, "ROLLBACK"));
	for (size_t i = 0; i < rb.nmsgs; i++)
		msghdr_free(&rb.msgs[i].hdr);
	free(rb.msgs);
	free(rb.abandoned);
	free(rb.shredded);
	free(ids);
	vault_free(rb.vault);
	return rc;
}
