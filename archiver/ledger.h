/* ledger - the ingest ledger: a SHA-256 hash chain over every stored message, receipt,
 * dictionary and sealed segment (later: every disposal).
 * Owns: the canonical entry encoding, the subjects each kind of entry commits to, and the
 * chain walk. Not: writing rows (store does, inside its batch transaction). The chain is
 * unkeyed so anyone can check it; the segments carry checkpoints of it (FORMAT.md), so a
 * rewrite of the database alone is caught against the WORM store. */
#ifndef VL_LEDGER_H
#define VL_LEDGER_H

#include <libpq-fe.h>
#include <stdint.h>

#include "vl_err.h"

#define LEDGER_HASH_LEN 32
/* pg_advisory lock key: one ledger appender at a time across processes (the store writer per
 * batch, disposal per batch). Whoever holds it loads the head from the database first. */
#define LEDGER_LOCK_KEY "7283005"

enum ledger_kind {
	LEDGER_MESSAGE = 1,
	LEDGER_RECEIPT = 2,
	LEDGER_SEGMENT = 3,
	LEDGER_DICTIONARY = 4,
	LEDGER_DISPOSAL = 5,
};

struct ledger_head {
	uint64_t seq; /* 0: empty chain */
	uint8_t hash[LEDGER_HASH_LEN];
};

/* ledger_kind_name / ledger_kind_parse - the kind column's text. */
const char *ledger_kind_name(enum ledger_kind k);
int ledger_kind_parse(const char *name);

/* ledger_entry_hash - SHA-256("vellum-ledger-v1" || seq || kind || at_us || subject || prev),
 * integers big-endian: the one canonical encoding. */
void ledger_entry_hash(uint8_t out[LEDGER_HASH_LEN], uint64_t seq, enum ledger_kind kind,
		       int64_t at_us, const uint8_t subject[32], const uint8_t prev[LEDGER_HASH_LEN]);

/* ledger_append - advance head by one entry (head->hash becomes the new entry's hash). */
void ledger_append(struct ledger_head *head, enum ledger_kind kind, int64_t at_us,
		   const uint8_t subject[32]);

/* Subjects: what each entry commits to. */
void ledger_subject_message(uint8_t out[32], const uint8_t address[32], const uint8_t sha256[32],
			    uint64_t raw_size, uint64_t segment_id, uint64_t offset);
void ledger_subject_segment(uint8_t out[32], uint64_t segment_id, uint64_t size,
			    const uint8_t sha256[32]);
void ledger_subject_dictionary(uint8_t out[32], uint32_t dict_id, const uint8_t sha256[32],
			       uint64_t segment_id, uint64_t offset);

/* The newest entry, for ledger_head_read: run it with binary results (resultFormat 1). */
#define LEDGER_HEAD_SQL "SELECT seq, entry_hash FROM ledger ORDER BY seq DESC LIMIT 1"

/* ledger_head_load - the newest entry (seq 0 and zero hash when empty). */
enum vl_err ledger_head_load(PGconn *c, struct ledger_head *head, char *err) VL_MUST_CHECK;

/* ledger_head_read - the same from r, LEDGER_HEAD_SQL's binary result (for a caller that sends
 * it in a pipeline). VL_ERR_DB, VL_ERR_CORRUPT. */
enum vl_err ledger_head_read(PGresult *r, struct ledger_head *head, char *err) VL_MUST_CHECK;

/* ledger_walk - check the whole chain in order: seq contiguous from 1, each prev_hash equal to
 * the entry before, each entry_hash recomputed. Calls bad(arg, seq, why) for every break (at
 * most max_reports) and sets *entries. VL_ERR_CORRUPT if any break; VL_ERR_DB on failure. */
enum vl_err ledger_walk(PGconn *c, void (*bad)(void *arg, uint64_t seq, const char *why),
			void *arg, uint64_t *entries, char *err) VL_MUST_CHECK;

#endif
