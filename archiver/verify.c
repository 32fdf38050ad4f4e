/* verify - prove the store, the index and the ledger agree. */
#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "buf.h"
#include "fsutil.h"
#include "keyslot.h"
#include "ledger.h"
#include "record.h"
#include "segment.h"
#include "vault.h"
#include "verify.h"

#define VERIFY_REPORT_MAX 1000 /* problem lines printed per check before summarising */

struct verify {
	const struct vl_config *cfg;
	PGconn *conn;
	FILE *out;
	struct vault *vault;
	int problems;
	uint64_t records, segments, decrypted;
	int64_t rebuilt_us; /* the newest rebuild-index that skipped disposed records, or 0 */
	uint64_t checkpoints_before_rebuild;
	uint64_t disposed_before_rebuild; /* records with destroyed keys and no tombstone */
};

static void
problem(struct verify *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
problem(struct verify *v, const char *fmt, ...)
{
	va_list ap;

	if (v->problems++ < VERIFY_REPORT_MAX) {
		fputs("PROBLEM ", v->out);
		va_start(ap, fmt);
		vfprintf(v->out, fmt, ap);
		va_end(ap);
		fputc('\n', v->out);
	}
}

static void
ledger_bad(void *arg, uint64_t seq, const char *why)
{
	problem(arg, "ledger entry %llu: %s", (unsigned long long)seq, why);
}

static void
audit_bad(void *arg, uint64_t seq, const char *why)
{
	problem(arg, "audit row %llu: %s", (unsigned long long)seq, why);
}

/* DISPOSED(subject) - SQL: a record the ledger committed to went by disposal: its tombstone
 * (schema 0005 disposed_records) and the ledger's disposal entry for it are both there. */
#define DISPOSED(subj)                                                                          \
	"EXISTS (SELECT 1 FROM disposed_records d WHERE d.subject = " subj " AND EXISTS (SELECT"  \
	" 1 FROM ledger x WHERE x.kind = 'disposal' AND x.subject = sha256('disposal'::bytea ||"   \
	" d.subject)))"

/* Cross-checks done by PostgreSQL: each query returns one text column, one row per problem.
 * The subjects are recomputed exactly as ledger.c encodes them (int8send is big-endian). */
static const struct {
	const char *what;
	const char *sql;
} index_checks[] = {
	{"stored record without its ledger entry (row edited, or not in the chain)",
	 "SELECT 'blob ' || encode(b.address, 'hex') || ' at segment ' || b.segment_id || ' offset '"
	 " || b.record_offset FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM ledger l WHERE"
	 " l.kind = 'message' AND l.subject = sha256('message'::bytea || b.address || b.sha256 ||"
	 " int8send(b.raw_size) || int8send(b.segment_id) || int8send(b.record_offset)))"},
	{"ledger message entry whose stored record is gone or changed",
	 "SELECT 'ledger entry ' || l.seq FROM ledger l WHERE l.kind = 'message' AND NOT EXISTS"
	 " (SELECT 1 FROM blobs b WHERE l.subject = sha256('message'::bytea || b.address ||"
	 " b.sha256 || int8send(b.raw_size) || int8send(b.segment_id) || int8send(b.record_offset)))"
	 " AND NOT " DISPOSED("l.subject")},
	{"receipt without its ledger entry",
	 "SELECT 'receipt ' || r.id || ' of message ' || r.message_id FROM receipts r WHERE NOT"
	 " EXISTS (SELECT 1 FROM ledger l WHERE l.kind = 'receipt' AND l.subject = r.sha256)"},
	{"ledger receipt entry whose receipt row is gone or changed",
	 "SELECT 'ledger entry ' || l.seq FROM ledger l WHERE l.kind = 'receipt' AND NOT EXISTS"
	 " (SELECT 1 FROM receipts r WHERE r.sha256 = l.subject) AND NOT " DISPOSED("l.subject")},
	{"disposal tombstone without its ledger disposal entry (row forged)",
	 "SELECT d.kind || ' ' || encode(d.subject, 'hex') FROM disposed_records d WHERE NOT EXISTS"
	 " (SELECT 1 FROM ledger x WHERE x.kind = 'disposal' AND x.subject ="
	 " sha256('disposal'::bytea || d.subject))"},
	{"message row without its stored record",
	 "SELECT 'message ' || m.id FROM messages m LEFT JOIN blobs b ON b.address = m.address"
	 " WHERE b.address IS NULL"},
	{"stored record without a message row (message row deleted)",
	 "SELECT 'blob ' || encode(b.address, 'hex') || ' (sha256 ' || encode(b.sha256, 'hex') ||"
	 " ')' FROM blobs b WHERE b.refcount > 0 AND NOT EXISTS (SELECT 1 FROM messages m WHERE"
	 " m.address = b.address)"},
	{"message row disagrees with its stored record (evidence hash or size edited)",
	 "SELECT 'message ' || m.id FROM messages m JOIN blobs b ON b.address = m.address WHERE"
	 " m.sha256 <> b.sha256 OR m.size <> b.raw_size"},
	{"message without any receipt",
	 "SELECT 'message ' || m.id FROM messages m WHERE NOT EXISTS (SELECT 1 FROM receipts r"
	 " WHERE r.message_id = m.id)"},
	{"receipt for a message that is not there",
	 "SELECT 'receipt ' || r.id || ' names message ' || r.message_id FROM receipts r WHERE NOT"
	 " EXISTS (SELECT 1 FROM messages m WHERE m.id = r.message_id)"},
	{"message marked indexed without its full-text row",
	 "SELECT 'message ' || m.id FROM messages m WHERE m.indexed_at IS NOT NULL AND NOT EXISTS"
	 " (SELECT 1 FROM message_index x WHERE x.message_id = m.id)"},
	{"index exception of a message that is not there (deleted outside disposal)",
	 "SELECT DISTINCT 'message ' || x.message_id FROM index_exceptions x WHERE NOT EXISTS"
	 " (SELECT 1 FROM messages m WHERE m.id = x.message_id)"},
	{"closed segment without its ledger entry",
	 "SELECT 'segment ' || s.id FROM segments s WHERE s.sealed_at IS NOT NULL AND NOT EXISTS"
	 " (SELECT 1 FROM ledger l WHERE l.kind = 'segment' AND l.subject = sha256('segment'::bytea"
	 " || int8send(s.id) || int8send(s.size) || s.sha256))"},
};

static void
verify_index(struct verify *v)
{
	for (size_t i = 0; i < sizeof(index_checks) / sizeof(index_checks[0]); i++) {
		PGresult *r = PQexec(v->conn, index_checks[i].sql);

		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			problem(v, "check '%s' could not run: %s", index_checks[i].what,
				PQerrorMessage(v->conn));
		} else {
			for (int k = 0; k < PQntuples(r); k++)
				problem(v, "%s: %s", index_checks[i].what, PQgetvalue(r, k, 0));
		}
		PQclear(r);
	}
}

/* verify_index_queue - messages still waiting for full-text indexing, queued or noted in
 * index_requeue (as INDEXER_LAG_SQL counts them): normal for a moment after they arrive
 * (indexing runs behind the acknowledgement), so a note, not a problem. */
static void
verify_index_queue(struct verify *v)
{
	PGresult *r = PQexec(v->conn, "SELECT count(*), coalesce(extract(epoch FROM now() -"
				      " min(received_at))::int8, 0) FROM messages WHERE indexed_at IS NULL"
				      " OR id = ANY (ARRAY(SELECT message_id FROM index_requeue))");

	if (PQresultStatus(r) == PGRES_TUPLES_OK && strcmp(PQgetvalue(r, 0, 0), "0") != 0)
		fprintf(v->out, "note: %s messages wait for full-text indexing (oldest %s s); "
				"`vellum serve` or `vellum index` drains the queue\n",
			PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1));
	PQclear(r);
}

/* ---- segments ---- */

struct known {
	uint64_t off;
	uint8_t subject[32]; /* address for blobs; zero when not checked */
	char what[48];
	int seen;
	int disposed; /* nothing the archive keeps refers to it: its key must be destroyed */
};

static int
known_cmp(const void *a, const void *b)
{
	const struct known *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/* verify_known_offsets - every record the index places in segment id, sorted by offset. */
static struct known *
verify_known_offsets(struct verify *v, uint64_t id, size_t *n)
{
	char ids[24];
	const char *vals[] = {ids};
	PGresult *r;
	struct known *k;

	snprintf(ids, sizeof(ids), "%llu", (unsigned long long)id);
	r = PQexecParams(v->conn,
			 "SELECT record_offset, encode(address, 'hex'), 'message ' || coalesce((SELECT"
			 " m.id::text FROM messages m WHERE m.address = b.address), '?'), false"
			 " FROM blobs b WHERE segment_id = $1"
			 " UNION ALL SELECT record_offset, encode(address, 'hex'), 'disposed message',"
			 " true FROM disposed_records WHERE segment_id = $1 AND kind = 'message'"
			 " UNION ALL SELECT record_offset, NULL, 'receipts record', NOT bool_or(live)"
			 " FROM (SELECT record_offset, true AS live FROM receipts WHERE segment_id = $1"
			 " UNION ALL SELECT record_offset, false FROM disposed_records"
			 " WHERE segment_id = $1 AND kind = 'receipt') rr GROUP BY record_offset"
			 " UNION ALL SELECT record_offset, NULL, 'dictionary ' || id, false"
			 " FROM dictionaries WHERE segment_id = $1",
			 1, NULL, vals, NULL, NULL, 0);
	*n = PQresultStatus(r) == PGRES_TUPLES_OK ? (size_t)PQntuples(r) : 0;
	k = xcalloc(*n + 1, sizeof(*k));
	for (size_t i = 0; i < *n; i++) {
		k[i].off = strtoull(PQgetvalue(r, (int)i, 0), NULL, 10);
		if (!PQgetisnull(r, (int)i, 1))
			hex_decode(k[i].subject, 32, PQgetvalue(r, (int)i, 1));
		snprintf(k[i].what, sizeof(k[i].what), "%s", PQgetvalue(r, (int)i, 2));
		k[i].disposed = PQgetvalue(r, (int)i, 3)[0] == 't';
	}
	PQclear(r);
	qsort(k, *n, sizeof(*k), known_cmp);
	return k;
}

static struct known *
known_find(struct known *k, size_t n, uint64_t off)
{
	struct known key = {.off = off};

	return bsearch(&key, k, n, sizeof(*k), known_cmp);
}

static int
sha256_prefix(int fd, uint64_t len, uint8_t out[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t *chunk = xmalloc(1 << 20);
	int ok = 1;

	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	for (uint64_t off = 0; off < len && ok;) {
		size_t n = len - off < (1 << 20) ? (size_t)(len - off) : (1 << 20);

		ok = fs_pread_full(fd, chunk, n, (off_t)off) == VL_OK;
		EVP_DigestUpdate(md, chunk, n);
		off += n;
	}
	EVP_DigestFinal_ex(md, out, NULL);
	EVP_MD_CTX_free(md);
	free(chunk);
	return ok;
}

/* verify_checkpoint - a checkpoint's (seq, head hash) must be the ledger's entry at seq. */
static void
verify_checkpoint(struct verify *v, uint64_t seg, uint64_t off)
{
	struct buf b = {0};
	struct record_info info;
	char err[VL_ERRLEN], seqs[24];

	if (vault_read_buf(v->vault, seg, off, &b, &info, err) != VL_OK || b.len != 40) {
		problem(v, "segment %llu offset %llu: unreadable checkpoint: %s",
			(unsigned long long)seg, (unsigned long long)off, err);
		buf_free(&b);
		return;
	}
	snprintf(seqs, sizeof(seqs), "%llu", (unsigned long long)get_u64le(b.data));
	const char *vals[] = {seqs};
	PGresult *r = PQexecParams(v->conn, "SELECT entry_hash FROM ledger WHERE seq = $1::int8", 1,
				   NULL, vals, NULL, NULL, 1);
	int found = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
	int same = found && PQgetlength(r, 0, 0) == 32 &&
		   memcmp(PQgetvalue(r, 0, 0), b.data + 8, 32) == 0;
	if (!same && info.stored_at_us < v->rebuilt_us)
		/* The ledger was rebuilt after disposal since: this checkpoint is of the old one. */
		v->checkpoints_before_rebuild++;
	else if (!found)
		problem(v, "segment %llu offset %llu: checkpoint names ledger entry %s, which is "
			"missing", (unsigned long long)seg, (unsigned long long)off, seqs);
	else if (!same)
		problem(v, "ledger entry %s differs from the checkpoint written in segment %llu "
			"(the ledger was rewritten)", seqs, (unsigned long long)seg);
	PQclear(r);
	buf_free(&b);
}

/* verify_shredded - a record sealed under its own key: disposed records' keys are destroyed
 * (or queued for it), every other record's key is there. */
static void
verify_shredded(struct verify *v, uint64_t seg, uint64_t off, const struct known *kn)
{
	char err[VL_ERRLEN], sv[24], ov[24];
	int state;

	if (vault_slot_state(v->vault, seg, off, &state, err) != VL_OK) {
		problem(v, "segment %llu offset %llu: key slot: %s", (unsigned long long)seg,
			(unsigned long long)off, err);
		return;
	}
	if (!kn->disposed && state != KEYSLOT_LIVE) {
		problem(v, "%s: the key of its record at segment %llu offset %llu is %s, but it was "
			"never disposed", kn->what, (unsigned long long)seg, (unsigned long long)off,
			state == 0 ? "missing" : "destroyed");
		return;
	}
	if (state == KEYSLOT_WIPED) {
		problem(v, "%s at segment %llu offset %llu: its key was wiped without disposal's "
			"mark", kn->what, (unsigned long long)seg, (unsigned long long)off);
		return;
	}
	if (!kn->disposed || state == KEYSLOT_DESTROYED)
		return;
	snprintf(sv, sizeof(sv), "%llu", (unsigned long long)seg);
	snprintf(ov, sizeof(ov), "%llu", (unsigned long long)off);
	const char *vals[] = {sv, ov};
	PGresult *r = PQexecParams(v->conn, "SELECT 1 FROM shred_queue WHERE segment_id = $1"
					    " AND record_offset = $2", 2, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		fprintf(v->out, "note: %s at segment %s offset %s: its key is queued for destruction; "
				"the next `vellum dispose` destroys it\n", kn->what, sv, ov);
	else
		problem(v, "%s at segment %s offset %s: disposed, but its key was not destroyed "
			"(the record is still readable)", kn->what, sv, ov);
	PQclear(r);
}

/* verify_rebuilt - when the newest rebuild-index skipped disposed records and so could not
 * rebuild the ledger the older checkpoints name. */
static void
verify_rebuilt(struct verify *v)
{
	PGresult *r = PQexec(v->conn, "SELECT coalesce(max(vellum_us(at)), 0) FROM rebuilds"
				      " WHERE records_skipped > 0");

	if (PQresultStatus(r) == PGRES_TUPLES_OK)
		v->rebuilt_us = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	else
		problem(v, "rebuilds: %s", PQerrorMessage(v->conn));
	PQclear(r);
}

/* verify_disposed_unknown - a record no row or tombstone names, whose key disposal destroyed
 * (its mark checks): the database was rebuilt after the disposal, which the tombstone was in. */
static int
verify_disposed_unknown(struct verify *v, uint64_t seg, off_t off, const struct record_info *info)
{
	char err[VL_ERRLEN];
	int state = 0;

	if (!(info->key_id & KEYSLOT_ID_FLAG) ||
	    vault_slot_state(v->vault, seg, (uint64_t)off, &state, err) != VL_OK ||
	    state != KEYSLOT_DESTROYED)
		return 0;
	v->disposed_before_rebuild++;
	return 1;
}

struct seg_row {
	uint64_t id, size;
	int sealed, abandoned;
	uint8_t sha[32];
	int has_sha;
	char file[40];
};

static void
verify_segment(struct verify *v, const struct seg_row *row)
{
	char path[CONFIG_PATH_MAX], err[VL_ERRLEN];
	struct segment_header h;
	struct record_reader *rr = record_reader_new();
	struct record_info info;
	struct known *k;
	size_t nk;
	off_t size, off = SEGMENT_HEADER_LEN;
	int fd;

	vault_segment_path(v->vault, path, row->id);
	if (segment_read_header(path, &h, &fd, &size, err) != VL_OK) {
		problem(v, "segment %llu: %s", (unsigned long long)row->id, err);
		record_reader_free(rr);
		return;
	}
	v->segments++;
	if (h.id != row->id)
		problem(v, "segment %llu: its header says it is segment %llu",
			(unsigned long long)row->id, (unsigned long long)h.id);
	if ((uint64_t)size < row->size)
		problem(v, "segment %llu: %lld bytes, shorter than its committed %llu (truncated)",
			(unsigned long long)row->id, (long long)size, (unsigned long long)row->size);
	k = verify_known_offsets(v, row->id, &nk);
	while (off < size) {
		if (record_scan(rr, fd, off, size, &info, err) != VL_OK) {
			if ((uint64_t)off < row->size)
				problem(v, "segment %llu offset %lld: %s", (unsigned long long)row->id,
					(long long)off, err);
			else
				fprintf(v->out, "note: segment %llu: %lld bytes after offset %lld were "
					"never committed (torn tail ignored)\n",
					(unsigned long long)row->id, (long long)(size - off),
					(long long)off);
			break;
		}
		struct known *kn = known_find(k, nk, (uint64_t)off);
		v->records++;
		if (kn) {
			kn->seen = 1;
			if (!sodium_is_zero(kn->subject, 32) && memcmp(kn->subject, info.subject, 32))
				problem(v, "%s: the record at segment %llu offset %lld is another "
					"message", kn->what, (unsigned long long)row->id, (long long)off);
			if (info.key_id & KEYSLOT_ID_FLAG)
				verify_shredded(v, row->id, (uint64_t)off, kn);
		} else if ((info.kind == RECORD_MESSAGE || info.kind == RECORD_RECEIPT) &&
			   (uint64_t)off < row->size && verify_disposed_unknown(v, row->id, off, &info)) {
			/* disposed before the database was rebuilt: counted, not a problem */
		} else if ((info.kind == RECORD_MESSAGE || info.kind == RECORD_RECEIPT ||
			    info.kind == RECORD_DICT) && (uint64_t)off < row->size) {
			problem(v, "segment %llu offset %lld: committed %s record missing from the "
				"index (its row was deleted)", (unsigned long long)row->id,
				(long long)off, info.kind == RECORD_MESSAGE ? "message" : "receipt");
		}
		if (info.kind == RECORD_CHECKPOINT && (uint64_t)off < row->size)
			verify_checkpoint(v, row->id, (uint64_t)off);
		off += (off_t)info.record_len;
	}
	for (size_t i = 0; i < nk; i++)
		if (!k[i].seen)
			problem(v, "%s: no valid record at segment %llu offset %llu", k[i].what,
				(unsigned long long)row->id, (unsigned long long)k[i].off);
	if (row->sealed && row->has_sha) {
		uint8_t sha[32];

		if (!sha256_prefix(fd, row->size, sha) || memcmp(sha, row->sha, 32) != 0)
			problem(v, "segment %llu: its SHA-256 is not the one recorded when it was "
				"closed", (unsigned long long)row->id);
	}
	free(k);
	close(fd);
	record_reader_free(rr);
}

static void
verify_segments(struct verify *v)
{
	PGresult *r = PQexec(v->conn, "SELECT id, size, sealed_at IS NOT NULL, abandoned,"
				      " encode(sha256, 'hex'), file_name FROM segments ORDER BY id");
	DIR *d;
	struct dirent *e;
	int n;

	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		problem(v, "segments: %s", PQerrorMessage(v->conn));
		PQclear(r);
		return;
	}
	n = PQntuples(r);
	for (int i = 0; i < n; i++) {
		struct seg_row row = {0};

		row.id = strtoull(PQgetvalue(r, i, 0), NULL, 10);
		row.size = strtoull(PQgetvalue(r, i, 1), NULL, 10);
		row.sealed = PQgetvalue(r, i, 2)[0] == 't';
		row.abandoned = PQgetvalue(r, i, 3)[0] == 't';
		row.has_sha = !PQgetisnull(r, i, 4) && hex_decode(row.sha, 32, PQgetvalue(r, i, 4)) == 0;
		verify_segment(v, &row);
	}
	/* A segment file the database does not know about. */
	if ((d = opendir(vault_segment_dir(v->vault))) != NULL) {
		while ((e = readdir(d)) != NULL) {
			int found = 0;

			if (strstr(e->d_name, ".vls") == NULL)
				continue;
			for (int i = 0; i < n && !found; i++)
				found = strcmp(PQgetvalue(r, i, 5), e->d_name) == 0;
			if (!found)
				problem(v, "segment file %s is not in the index", e->d_name);
		}
		closedir(d);
	}
	PQclear(r);
}

/* ---- decrypt everything ---- */

struct addr_hash {
	crypto_generichash_state st;
};

static enum vl_err
addr_fn(void *arg, const uint8_t *p, size_t n)
{
	crypto_generichash_update(&((struct addr_hash *)arg)->st, p, n);
	return VL_OK;
}

static uint64_t
be64v(const char *p)
{
	uint64_t x = 0;

	for (int b = 0; b < 8; b++)
		x = x << 8 | (uint8_t)p[b];
	return x;
}

static void
verify_decrypt_messages(struct verify *v)
{
	PGresult *r = PQexecParams(v->conn,
				   "SELECT 'message ' || coalesce((SELECT m.id::text FROM messages m"
				   " WHERE m.address = b.address), '?'), segment_id, record_offset,"
				   " sha256, address FROM blobs b ORDER BY 2, 3",
				   0, NULL, NULL, NULL, NULL, 1);
	char err[VL_ERRLEN];

	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		problem(v, "decrypt pass: %s", PQerrorMessage(v->conn));
		PQclear(r);
		return;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		const char *what = PQgetvalue(r, i, 0);
		struct addr_hash ah;
		struct record_info info;
		uint8_t addr[32];

		crypto_generichash_init(&ah.st, keyring_address_key(vault_keyring(v->vault)), 32, 32);
		if (vault_read(v->vault, be64v(PQgetvalue(r, i, 1)), be64v(PQgetvalue(r, i, 2)),
			       (const uint8_t *)PQgetvalue(r, i, 3), addr_fn, &ah, &info,
			       err) != VL_OK) {
			problem(v, "%s: %s", what, err);
			continue;
		}
		v->decrypted++;
		crypto_generichash_final(&ah.st, addr, 32);
		if (memcmp(addr, PQgetvalue(r, i, 4), 32) != 0)
			problem(v, "%s: its content does not hash to its address", what);
	}
	PQclear(r);
}

/* verify_decrypt_receipts - each RECEIPT record decrypts, and line i hashes to the sha256 of
 * the receipts row with record_index i. */
static void
verify_decrypt_receipts(struct verify *v)
{
	PGresult *r = PQexec(v->conn, "SELECT segment_id, record_offset, record_index,"
				      " encode(sha256, 'hex'), id FROM receipts"
				      " ORDER BY segment_id, record_offset, record_index");
	struct buf b = {0};
	uint64_t cur_seg = 0, cur_off = 0;
	int have = 0;
	char err[VL_ERRLEN];

	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		problem(v, "receipt pass: %s", PQerrorMessage(v->conn));
		PQclear(r);
		return;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		uint64_t seg = strtoull(PQgetvalue(r, i, 0), NULL, 10);
		uint64_t off = strtoull(PQgetvalue(r, i, 1), NULL, 10);
		unsigned idx = (unsigned)strtoul(PQgetvalue(r, i, 2), NULL, 10);
		struct record_info info;
		uint8_t want[32], got[32];

		if (!have || seg != cur_seg || off != cur_off) {
			buf_reset(&b);
			cur_seg = seg;
			cur_off = off;
			have = vault_read_buf(v->vault, seg, off, &b, &info, err) == VL_OK;
			if (!have) {
				problem(v, "receipt %s: %s", PQgetvalue(r, i, 4), err);
				continue;
			}
			v->decrypted++;
		}
		if (!have)
			continue;
		/* Find line idx. */
		size_t start = 0;
		for (unsigned k = 0; k < idx && start <= b.len; k++) {
			const uint8_t *nl = memchr(b.data + start, '\n', b.len - start);
			start = nl ? (size_t)(nl - b.data) + 1 : b.len + 1;
		}
		const uint8_t *nl = start <= b.len ? memchr(b.data + start, '\n', b.len - start) : NULL;
		size_t end = nl ? (size_t)(nl - b.data) : b.len;
		if (start > b.len || hex_decode(want, 32, PQgetvalue(r, i, 3)) != 0) {
			problem(v, "receipt %s: no line %u in its record", PQgetvalue(r, i, 4), idx);
			continue;
		}
		EVP_Digest(b.data + start, end - start, got, NULL, EVP_sha256(), NULL);
		if (memcmp(got, want, 32) != 0)
			problem(v, "receipt %s: its row's hash is not the sealed receipt's",
				PQgetvalue(r, i, 4));
	}
	buf_free(&b);
	PQclear(r);
}

enum vl_err
verify_run(const struct vl_config *cfg, PGconn *conn, const struct verify_opts *o, FILE *out,
	   int *problems, char *err)
{
	struct verify v = {.cfg = cfg, .conn = conn, .out = out};
	uint64_t ledger_n = 0, audit_n = 0;
	enum vl_err rc;

	if ((rc = vault_open(&v.vault, cfg, conn, err)) != VL_OK)
		return rc;
	rc = ledger_walk(conn, ledger_bad, &v, &ledger_n, err);
	if (rc != VL_OK && rc != VL_ERR_CORRUPT)
		goto out;
	rc = audit_walk(conn, audit_bad, &v, &audit_n, err);
	if (rc != VL_OK && rc != VL_ERR_CORRUPT)
		goto out;
	verify_index(&v);
	verify_index_queue(&v);
	verify_rebuilt(&v);
	verify_segments(&v);
	if (v.disposed_before_rebuild)
		fprintf(out, "note: %llu records were disposed (their keys destroyed, with disposal's "
			     "mark) before the database was rebuilt\n",
			(unsigned long long)v.disposed_before_rebuild);
	if (v.checkpoints_before_rebuild)
		fprintf(out, "note: %llu checkpoints were written before the ledger was rebuilt "
			     "without the records disposal had destroyed; they are of the old ledger "
			     "and not compared\n",
			(unsigned long long)v.checkpoints_before_rebuild);
	if (o->decrypt_all) {
		verify_decrypt_messages(&v);
		verify_decrypt_receipts(&v);
	}
	rc = VL_OK;
	fprintf(out, "ledger entries %llu, audit rows %llu, segments %llu, records %llu, "
		     "decrypted %llu\n",
		(unsigned long long)ledger_n, (unsigned long long)audit_n,
		(unsigned long long)v.segments, (unsigned long long)v.records,
		(unsigned long long)v.decrypted);
	if (v.problems > VERIFY_REPORT_MAX)
		fprintf(out, "... and %d more problems\n", v.problems - VERIFY_REPORT_MAX);
	fprintf(out, v.problems ? "FAILED: %d problems\n" : "OK: no problems%.0d\n", v.problems);
out:
	*problems = v.problems;
	vault_free(v.vault);
	return rc;
}
