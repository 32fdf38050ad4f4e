/* store_db - the store's batch in the database: its first round trip (the ledger lock, the
 * head, dedup, ids), its rows as unnest() arrays, the prepared statements and the pipeline that
 * inserts them, COMMIT, the monthly partitions, and the ledger lock.
 * Private to the store: store.c and store_db.c share struct store through this header; every
 * other module sees only store.h. Not: the segment, sealing, recovery (store.c). */
#ifndef VL_STORE_DB_H
#define VL_STORE_DB_H

#include <libpq-fe.h>
#include <stdint.h>

#include "config.h"
#include "keyslot.h"
#include "ledger.h"
#include "msghdr.h"
#include "pgarray.h"
#include "record.h"
#include "segment.h"
#include "store.h"
#include "vault.h"

#define STORE_MONTHS_CACHED 64 /* months whose partition is known to exist */
#define STORE_PIPE_MAX 12      /* statements in one batch's pipeline */

struct store_item {
	struct store_source src;
	struct msghdr hdr;
	char *source, *origin, *mail_from, *client_addr, *helo, *tls, *listener, *auth_user,
		*xforward;
	char **rcpts, **roles;
	size_t nrcpts;
	long report_slot; /* slot of the journal report it came in, or -1 */
	int64_t received_us;
	long first; /* index of the first item in the batch with the same address, or -1 */
	uint64_t receipt_id;
	uint64_t blob_off, blob_len, receipt_off;
	uint32_t key_id, dict_id;
	uint32_t receipt_index; /* line of the batch's RECEIPT record */
	uint8_t receipt_sha[32];
};

struct store {
	const struct vl_config *cfg;
	PGconn *conn;
	int lock_fd;
	struct vault *vault;
	struct record_sealer *sealer;
	struct segment *seg;
	struct keyslot_file *slots; /* the open segment's record keys */
	int seg_unclean; /* the file's end differs from the committed end: start a new one */
	uint64_t committed_end; /* of the open segment, as the database has it */
	int head_stale;		/* a failed batch advanced the in-memory ledger head */
	struct ledger_head head;
	uint64_t checkpointed; /* ledger seq covered by the newest checkpoint record */
	struct store_item *items;
	struct store_result *results;
	size_t nitems, cap;
	struct {
		int set;
		uint64_t id, end;
		uint8_t hash[32];
	} pending_abandon, pending_seal;
	int64_t months[STORE_MONTHS_CACHED];
	size_t nmonths;
	char seg_dir[CONFIG_PATH_MAX], slot_dir[CONFIG_PATH_MAX];
	int prepared_pid; /* the backend store_stmts were prepared in (0: none yet) */
};

/* The rows of one batch, gathered as array literals for unnest() inserts. */
struct store_rows {
	struct pgarr b_addr, b_sha, b_raw, b_rec, b_key, b_dict, b_off;
	struct pgarr m_id, m_recv, m_addr, m_sha, m_size, m_from, m_to, m_cc, m_subj, m_date,
		m_msgid, m_perr;
	struct pgarr r_id, r_msg, r_recv, r_src, r_origin, r_from, r_client, r_helo, r_tls,
		r_listener, r_off, r_idx, r_sha, r_report, r_auth, r_xforward;
	struct pgarr e_rid, e_pos, e_addr, e_role;
	struct pgarr l_seq, l_kind, l_at, l_subj, l_prev, l_hash;
	/* messages archived before that got a receipt: each envelope address of the receipt as
	 * (message, field e/r/x, address), to index the message again if one is new to it */
	struct pgarr q_id, q_field, q_addr;
};

/* The statements of one batch's transaction, sent in one libpq pipeline (PostgreSQL 14+). */
struct store_pipe {
	const char *what[STORE_PIPE_MAX]; /* per statement sent, for the error message */
	size_t n;
};

/* The ledger rows of a store_rows, inserted outside a batch too (seals, dictionaries):
 * parameters $1..$6 are l_seq, l_kind, l_at, l_subj, l_prev, l_hash. */
extern const char store_sql_ledger[];

/* store_db_fail - err says what failed and why; r is cleared. VL_ERR_DB. */
enum vl_err store_db_fail(PGconn *c, PGresult *r, char *err, const char *what);

/* store_exec - run a parameterized statement expecting ok (command or tuples); *res is
 * returned when wanted (the caller PQclears it). VL_ERR_DB. */
enum vl_err store_exec(PGconn *c, const char *sql, int n, const char *const *vals, PGresult **res,
		       char *err, const char *what);

/* store_u64str - v in decimal, for a text parameter. */
void store_u64str(char out[24], uint64_t v);

/* store_rows_free - release the arrays; w is empty after. */
void store_rows_free(struct store_rows *w);

/* store_rows_add_message / store_rows_add_receipt - the rows of a new message (its blob and
 * messages row) and of an item's receipt (receipt, envelope recipients, and the message to
 * index again when the receipt brings it an address). */
void store_rows_add_message(struct store_rows *w, const struct store_item *it,
			    const struct store_result *res, const struct record_info *info);
void store_rows_add_receipt(struct store_rows *w, const struct store_item *it,
			    const struct store_result *res, const struct store_result *all);

/* store_begin_batch - take the ledger lock and everything the batch needs from the database
 * before it is written, in one round trip. On failure the lock is not held. */
enum vl_err store_begin_batch(struct store *s, char *err);

/* store_rows_send - the batch's rows and the segment's new end, sent inside BEGIN in one
 * pipeline without waiting for PostgreSQL; nothing is committed. */
enum vl_err store_rows_send(struct store *s, struct store_pipe *p, struct store_rows *w,
			    int64_t at_us, char *err);

/* store_rows_finish - read store_rows_send's results, then COMMIT when they and synced are
 * VL_OK, else ROLLBACK; with release the COMMIT drops the ledger lock (*unlocked). */
enum vl_err store_rows_finish(struct store *s, struct store_pipe *p, enum vl_err sent,
			      enum vl_err synced, int release, int *unlocked, char *err);

/* store_ledger_lock / store_ledger_unlock - LEDGER_LOCK_KEY outside a batch, the head in
 * memory reloaded under it. */
enum vl_err store_ledger_lock(struct store *s, char *err);
void store_ledger_unlock(struct store *s);

#endif
