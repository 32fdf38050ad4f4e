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

/* indexer_run_batch - index up to max waiting messages of at most max_raw bytes (UINT64_MAX:
 * any), oldest id first, in one transaction
 * on conn (which must be idle), reading their exact bytes through v. *done counts the messages
 * marked indexed (0: nothing waiting that another indexer had not locked), *busy those stepped
 * over because an attachment's reader could not run (below). Before it, in its
 * own transaction, the notes of index_requeue whose messages no one else holds are turned
 * into queued messages; *swept counts those (notes of held messages stay, for a later
 * batch: neither count then moves, so a caller stops rather than waits). A message whose
 * bytes cannot be read (damaged, missing segment) or whose rows the database refuses is still
 * marked indexed, with parse_error set and the reason logged, so no message stalls the queue;
 * `vellum index --all` indexes it again later. A message over INDEXER_RAW_MAX is indexed from
 * its first INDEXER_RAW_MAX bytes, also with parse_error. Re-indexing a message replaces its
 * rows, so a crash anywhere is safe to repeat. VL_ERR_NOKEY when v lacks a key or dictionary
 * a message needs (keys rotated or a dictionary trained since v was opened): the messages
 * before it are committed and counted, that one is left waiting; reopen the vault and call
 * again (a vault just opened that still lacks it means the keyring is damaged: report it,
 * never mark evidence unreadable). A message whose attachment reader could not run just now
 * (no process, pipe or memory: mime_extract's VL_ERR_BUSY) is stepped over and left waiting,
 * logged, to be tried by a later batch; VL_ERR_BUSY when the batch indexed nothing else (the
 * caller backs off). VL_ERR_DB when the database fails: the batch was rolled back. */
enum vl_err indexer_run_batch(struct vault *v, PGconn *conn, size_t max, uint64_t max_raw,
			      size_t *done, size_t *swept, size_t *busy, char *err) VL_MUST_CHECK;

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
