/* dispose - the disposal job: remove every message whose retain_until has passed and that no
 * active legal hold covers, and account for it.
 * Owns: choosing candidates (indexed, expired, swept against every active hold in the same
 * transaction), removing their rows (message_index, attachments, receipts, envelope
 * recipients, the message, its blob once no message references it), the tombstones and the
 * ledger 'disposal' entries that keep the chain verifiable, one audit row per batch naming
 * each message (id, evidence SHA-256, policy, retain-until), and the signed report
 * (DATA/reports/disposal-*.json, Ed25519 over its bytes in *.json.sig).
 * Not: the guard (schema 0005's trigger refuses any early or held delete whoever asks).
 *
 * The sealed bytes stay in the WORM segments but become unreadable: after each batch commits,
 * the keys of its message records, and of receipts records none of whose receipts remain, are
 * destroyed in their key slots (keyslot.h) through a queue that a crash cannot lose (schema
 * 0008 shred_queue). Records sealed before key slots existed keep their keyring key; they are
 * counted, not shredded. Each batch holds the ledger lock (LEDGER_LOCK_KEY) that the
 * store writer takes per batch, so disposal runs beside `serve` (and inside it, upkeep.h). */
#ifndef VL_DISPOSE_H
#define VL_DISPOSE_H

#include <libpq-fe.h>
#include <stdint.h>

#include "config.h"
#include "vl_err.h"

#define DISPOSE_BATCH 500

struct dispose_opts {
	const char *now; /* the clock, timestamptz text, or NULL: honoured only where the
			  * database's test_clock is on (tests), refused elsewhere */
	int dry_run;	 /* list what would go, change nothing */
	void (*each)(void *arg, const char *id, const char *sha256_hex, const char *policy,
		     const char *retain_until); /* per message (may be NULL) */
	void *arg;
};

struct dispose_result {
	int64_t messages, blobs, records;
	uint64_t keys_destroyed; /* record keys destroyed (messages and receipts records) */
	uint64_t unkeyed;	 /* disposed records sealed under a keyring key: still readable */
	char report[CONFIG_PATH_MAX]; /* "" when nothing went or dry run */
};

/* dispose_run - one disposal run. VL_ERR_DB; VL_ERR_IO for the report. */
enum vl_err dispose_run(const struct vl_config *cfg, PGconn *c, const char *actor,
			const struct dispose_opts *o, struct dispose_result *res,
			char *err) VL_MUST_CHECK;

/* dispose_check_report - the report at path is signed by this archive's key (path.sig).
 * VL_ERR_CRYPTO when not; VL_ERR_IO / VL_ERR_PARSE for missing or malformed files. */
enum vl_err dispose_check_report(const struct vl_config *cfg, const char *path,
				 char *err) VL_MUST_CHECK;

#endif
