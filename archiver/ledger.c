/* ledger - the ingest ledger's canonical encoding and chain walk. */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ledger.h"

#define LEDGER_DOMAIN "vellum-ledger-v1"
#define LEDGER_WALK_PAGE "10000"

static const char *const kind_names[] = {
	[LEDGER_MESSAGE] = "message",	    [LEDGER_RECEIPT] = "receipt",
	[LEDGER_SEGMENT] = "segment",	    [LEDGER_DICTIONARY] = "dictionary",
	[LEDGER_DISPOSAL] = "disposal",
};

const char *
ledger_kind_name(enum ledger_kind k)
{
	if (k < LEDGER_MESSAGE || k > LEDGER_DISPOSAL)
		return "?";
	return kind_names[k];
}

int
ledger_kind_parse(const char *name)
{
	for (int k = LEDGER_MESSAGE; k <= LEDGER_DISPOSAL; k++)
		if (strcmp(kind_names[k], name) == 0)
			return k;
	return -1;
}

static void
sha256_parts(uint8_t out[32], const void *const *parts, const size_t *lens, int n)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (ctx == NULL)
		abort();
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (int i = 0; i < n; i++)
		EVP_DigestUpdate(ctx, parts[i], lens[i]);
	EVP_DigestFinal_ex(ctx, out, NULL);
	EVP_MD_CTX_free(ctx);
}

void
ledger_entry_hash(uint8_t out[LEDGER_HASH_LEN], uint64_t seq, enum ledger_kind kind,
		  int64_t at_us, const uint8_t subject[32], const uint8_t prev[LEDGER_HASH_LEN])
{
	uint8_t seqb[8], atb[8], kb = (uint8_t)kind;
	const void *parts[] = {LEDGER_DOMAIN, seqb, &kb, atb, subject, prev};
	const size_t lens[] = {strlen(LEDGER_DOMAIN), 8, 1, 8, 32, LEDGER_HASH_LEN};

	put_u64be(seqb, seq);
	put_u64be(atb, (uint64_t)at_us);
	sha256_parts(out, parts, lens, 6);
}

void
ledger_append(struct ledger_head *head, enum ledger_kind kind, int64_t at_us,
	      const uint8_t subject[32])
{
	uint8_t next[LEDGER_HASH_LEN];

	head->seq++;
	ledger_entry_hash(next, head->seq, kind, at_us, subject, head->hash);
	memcpy(head->hash, next, LEDGER_HASH_LEN);
}

void
ledger_subject_message(uint8_t out[32], const uint8_t address[32], const uint8_t sha256[32],
		       uint64_t raw_size, uint64_t segment_id, uint64_t offset)
{
	uint8_t n[24];
	const void *parts[] = {"message", address, sha256, n};
	const size_t lens[] = {7, 32, 32, 24};

	put_u64be(n, raw_size);
	put_u64be(n + 8, segment_id);
	put_u64be(n + 16, offset);
	sha256_parts(out, parts, lens, 4);
}

void
ledger_subject_segment(uint8_t out[32], uint64_t segment_id, uint64_t size,
		       const uint8_t sha256[32])
{
	uint8_t n[16];
	const void *parts[] = {"segment", n, sha256};
	const size_t lens[] = {7, 16, 32};

	put_u64be(n, segment_id);
	put_u64be(n + 8, size);
	sha256_parts(out, parts, lens, 3);
}

void
ledger_subject_dictionary(uint8_t out[32], uint32_t dict_id, const uint8_t sha256[32],
			  uint64_t segment_id, uint64_t offset)
{
	uint8_t n[20];
	const void *parts[] = {"dictionary", n, sha256};
	const size_t lens[] = {10, 20, 32};

	put_u64be(n, segment_id);
	put_u64be(n + 8, offset);
	n[16] = (uint8_t)(dict_id >> 24);
	n[17] = (uint8_t)(dict_id >> 16);
	n[18] = (uint8_t)(dict_id >> 8);
	n[19] = (uint8_t)dict_id;
	sha256_parts(out, parts, lens, 3);
}

static uint64_t
be64_at(const char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | (uint8_t)p[i];
	return v;
}

enum vl_err
ledger_head_read(PGresult *r, struct ledger_head *head, char *err)
{
	memset(head, 0, sizeof(*head));
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		return vl_err_set(err, VL_ERR_DB, "ledger head: %s", PQresultErrorMessage(r));
	if (PQntuples(r) != 1)
		return VL_OK;
	if (PQgetlength(r, 0, 0) != 8 || PQgetlength(r, 0, 1) != LEDGER_HASH_LEN)
		return vl_err_set(err, VL_ERR_CORRUPT, "ledger head: bad seq or hash length");
	head->seq = be64_at(PQgetvalue(r, 0, 0));
	memcpy(head->hash, PQgetvalue(r, 0, 1), LEDGER_HASH_LEN);
	return VL_OK;
}

enum vl_err
ledger_head_load(PGconn *c, struct ledger_head *head, char *err)
{
	PGresult *r = PQexecParams(c, LEDGER_HEAD_SQL, 0, NULL, NULL, NULL, NULL, 1);
	enum vl_err rc = ledger_head_read(r, head, err);

	PQclear(r);
	return rc;
}

enum vl_err
ledger_walk(PGconn *c, void (*bad)(void *arg, uint64_t seq, const char *why), void *arg,
	    uint64_t *entries, char *err)
{
	uint8_t prev[LEDGER_HASH_LEN] = {0}, want[LEDGER_HASH_LEN];
	uint64_t expect = 1, breaks = 0;
	char after[24];
	enum vl_err rc = VL_OK;

	*entries = 0;
	for (;;) {
		const char *vals[] = {after};
		PGresult *r;
		int n;

		snprintf(after, sizeof(after), "%llu", (unsigned long long)(expect - 1));
		/* Binary results: seq as int8, at as microseconds since the epoch. */
		r = PQexecParams(c,
				 "SELECT seq, kind, (extract(epoch FROM at) * 1000000)::int8, subject,"
				 " prev_hash, entry_hash FROM ledger WHERE seq > $1::int8"
				 " ORDER BY seq LIMIT " LEDGER_WALK_PAGE,
				 1, NULL, vals, NULL, NULL, 1);
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			rc = vl_err_set(err, VL_ERR_DB, "ledger walk: %s", PQerrorMessage(c));
			PQclear(r);
			return rc;
		}
		n = PQntuples(r);
		for (int i = 0; i < n; i++) {
			uint64_t seq = be64_at(PQgetvalue(r, i, 0));
			int kind = ledger_kind_parse(PQgetvalue(r, i, 1));
			int64_t at = (int64_t)be64_at(PQgetvalue(r, i, 2));
			const uint8_t *subject = (const uint8_t *)PQgetvalue(r, i, 3);
			const uint8_t *ph = (const uint8_t *)PQgetvalue(r, i, 4);
			const uint8_t *eh = (const uint8_t *)PQgetvalue(r, i, 5);

			if (PQgetlength(r, i, 3) != 32 || PQgetlength(r, i, 4) != LEDGER_HASH_LEN ||
			    PQgetlength(r, i, 5) != LEDGER_HASH_LEN) {
				breaks++;
				bad(arg, seq, "hash field of the wrong length");
				expect = seq + 1;
				(*entries)++;
				continue;
			}
			if (seq != expect) {
				breaks++;
				bad(arg, expect, seq > expect ? "entry missing (sequence gap)"
							      : "sequence out of order");
			} else if (memcmp(ph, prev, LEDGER_HASH_LEN) != 0) {
				breaks++;
				bad(arg, seq, "prev_hash does not match the entry before");
			} else {
				ledger_entry_hash(want, seq, (enum ledger_kind)kind, at, subject, prev);
				if (kind < 0 || memcmp(want, eh, LEDGER_HASH_LEN) != 0) {
					breaks++;
					bad(arg, seq, "entry_hash does not match its contents");
				}
			}
			memcpy(prev, eh, LEDGER_HASH_LEN);
			expect = seq + 1;
			(*entries)++;
		}
		PQclear(r);
		if (n == 0)
			break;
	}
	return breaks ? VL_ERR_CORRUPT : VL_OK;
}
