/* indexer - makes archived messages searchable, behind the acknowledgement (issue 3).
 * Owns: the queue (messages.indexed_at IS NULL, taken with FOR UPDATE SKIP LOCKED so indexers
 * never collide), reading each message's exact bytes through the vault, writing message_index,
 * attachments and index_exceptions rows (schema/0002_index.sql, 0003_search.sql,
 * 0007_index_size.sql: the tsvector, address terms from headers and envelopes; 0014: what the
 * index lacks, and why) in one transaction per batch, and the background thread `vellum serve`
 * runs. Not: what is extracted (mime_extract), what a word is
 * (fts). */
#ifndef VL_INDEXER_H
#define VL_INDEXER_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "vault.h"
#include "vl_err.h"

#define INDEXER_BATCH 200		   /* messages per batch (vellum index, the thread) */
#define INDEXER_BODY_MAX (256u << 10)	   /* bytes of body text indexed (none is stored) */
#define INDEXER_RAW_MAX (64u << 20)	   /* bytes of a message parsed; the rest is not */
#define INDEXER_BATCH_BYTES (64u << 20)	   /* a batch also ends at this much raw + text */
#define INDEXER_IDLE_MS 200		   /* the thread's sleep when nothing is waiting */
#define INDEXER_BACKOFF_MAX_MS 30000	   /* the thread's longest wait after a failure */
#define INDEXER_REQUEUE_ROWS 50000	   /* messages queued again per transaction (--all) */
#define INDEXER_TERM_MAX 512		   /* bytes of an addr_terms value after "f:a:"; longer: left out */
#define INDEXER_MSGID_MAX 1000		   /* bytes of a Message-ID kept in msgid; longer: NULL */
#define INDEXER_THREADS_MAX 4		   /* serve's indexer workers: one per two CPUs, up to this */
#define INDEXER_HELPER_RAW_MAX (1u << 20)  /* workers but the first index messages up to this */

/* indexer_batch - what one batch may take, and what it did (indexer_run_batch). */
struct indexer_batch {
	size_t max;	  /* messages at most */
	uint64_t max_raw; /* bytes a message at most (UINT64_MAX: any) */
	int64_t after;	  /* only messages with a greater id (0: from the start of the queue) */
	size_t done;	  /* out: messages marked indexed (0: nothing waiting unlocked) */
	size_t swept;	  /* out: notes of index_requeue turned into queued messages */
	size_t busy;	  /* out: messages stepped over: not readable just now (below) */
	int64_t last;	  /* out: the greatest id the batch read, committed (else: after) */
};

/* indexer_run_batch - index up to b->max waiting messages of at most b->max_raw bytes with
 * ids above b->after, oldest id first, in one transaction on conn (which must be idle),
 * reading their exact bytes through v; b's out fields say what it did. Before it, in its own
 * transaction, the notes of index_requeue whose messages no one else holds are turned into
 * queued messages (notes of held messages stay, for a later batch: neither count then moves,
 * so a caller stops rather than waits). A message whose bytes cannot be read (damaged, missing
 * segment) or whose rows the database refuses is still marked indexed, with parse_error set
 * and the reason logged, so no message stalls the queue; `vellum index --all` indexes it again
 * later. A message over INDEXER_RAW_MAX is indexed from its first INDEXER_RAW_MAX bytes, also
 * with parse_error. Re-indexing a message replaces its rows, so a crash anywhere is safe to
 * repeat. A message whose attachment reader could not run just now, or whose segment could not
 * be opened for want of descriptors or memory (VL_ERR_BUSY from mime_extract or vault_read), is
 * stepped over, left waiting and logged (b->busy): the batch goes on past it, and a caller
 * walking the queue with an indexer_place gets past any number of them. VL_ERR_NOKEY when v
 * lacks a key or dictionary a message needs (keys rotated or a dictionary trained since v was
 * opened): the messages before it are committed and counted, that one is left waiting; reopen
 * the vault and call again (a vault just opened that still lacks it means the keyring is
 * damaged: report it, never mark evidence unreadable). VL_ERR_DB when the database fails: the
 * batch was rolled back. */
enum vl_err indexer_run_batch(struct vault *v, PGconn *conn, struct indexer_batch *b,
			      char *err) VL_MUST_CHECK;

/* indexer_place - a caller's walk through the queue in id order, in passes: each batch starts
 * past the messages the ones before it stepped over, so that more of them than a batch holds
 * cannot hide the messages behind them. Where the next pass starts is the caller's: from the
 * start (after = 0) to try the messages stepped over again, or on from where the last pass
 * ended to read only what arrived since. */
struct indexer_place {
	int64_t after;	  /* where the next batch starts (indexer_batch.after) */
	size_t pass_busy; /* messages stepped over since the pass began */
};

/* indexer_place_next - move p past the batch b just ran (its rc VL_OK). 1: run the next batch
 * at once (p->after says where). 0: the pass reached the end of the queue; *left of its
 * messages were stepped over (the queue may still hold messages locked elsewhere), and p->after
 * is where it ended. */
int indexer_place_next(struct indexer_place *p, const struct indexer_batch *b, size_t *left);

/* The lag: messages queued (indexed_at IS NULL) plus those indexed but noted in index_requeue
 * (a receipt with a new address came while an indexer held them), each counted once. Cheap:
 * the first count reads the partial index messages_unindexed, and index_requeue is tiny. A
 * macro, so `vellum status` and the API's gauge read the same. */
#define INDEXER_LAG_SQL                                                                            \
	"SELECT (SELECT count(*) FROM messages WHERE indexed_at IS NULL) + (SELECT count(*)"       \
	" FROM messages m WHERE m.id = ANY (ARRAY(SELECT message_id FROM index_requeue))"          \
	" AND m.indexed_at IS NOT NULL)"

/* indexer_lag - how many messages wait to be indexed (INDEXER_LAG_SQL). VL_ERR_DB. */
enum vl_err indexer_lag(PGconn *conn, int64_t *unindexed, char *err) VL_MUST_CHECK;

/* indexer_requeue_all - put every message back in the queue (vellum index --all), in
 * transactions of at most INDEXER_REQUEUE_ROWS. *n counts them. VL_ERR_DB. */
enum vl_err indexer_requeue_all(PGconn *conn, int64_t *n, char *err) VL_MUST_CHECK;

/* The background indexer of `vellum serve`. */
struct indexer;

/* indexer_start - start one worker per two CPUs (at most INDEXER_THREADS_MAX), each with its own
 * database connection (db_connect) and vault, that runs batches of INDEXER_BATCH (workers but
 * the first: of messages up to INDEXER_HELPER_RAW_MAX) until the queue is empty, then sleeps
 * INDEXER_IDLE_MS (or until indexer_kick or indexer_stop). A failing batch is logged and
 * retried after a back-off of up to INDEXER_BACKOFF_MAX_MS; a lost connection is reset, and on
 * VL_ERR_NOKEY the vault is read again first (keys rotated, a dictionary trained). cfg is
 * borrowed and must outlive the indexer. *out is owned by the caller (indexer_stop). Errors
 * of db_connect or vault_open, or VL_ERR_INTERNAL when the thread cannot start. */
enum vl_err indexer_start(struct indexer **out, const struct vl_config *cfg, char *err)
	VL_MUST_CHECK;

/* indexer_kick - wake the thread now (new messages were committed). Returns at once: the
 * thread holds its lock only while it goes to sleep, never during a batch. */
void indexer_kick(struct indexer *ix);

/* indexer_indexed - messages this indexer has marked indexed since it started. */
uint64_t indexer_indexed(struct indexer *ix);

/* indexer_stop - finish the batch in progress, join the thread, close its connection and
 * vault, free ix. NULL is a no-op. */
void indexer_stop(struct indexer *ix);

#endif
