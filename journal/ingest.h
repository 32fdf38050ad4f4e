/* ingest - the store writer thread of `vellum serve`: group commit for every SMTP/LMTP session.
 * Owns: the job queue between the event loop and the store, batching (up to batch_max_messages;
 * waiting up to batch_max_ms only while other sessions have a message under way), journal-report
 * unwrapping before storing, reconnecting to PostgreSQL after a failure, and handing each job's
 * result back through an eventfd.
 * A job's result is VL_OK only once store_commit returned VL_OK for the batch that held it:
 * that is what a 250 means. */
#ifndef VL_INGEST_H
#define VL_INGEST_H

#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "metrics.h"
#include "store.h"
#include "vl_err.h"

struct ingest_job {
	/* In: the message (borrowed until the job comes back) and its envelope. */
	struct store_source src;
	const char *source; /* "smtp" or "lmtp" */
	const char *mail_from;
	const char *const *rcpts;
	const char *const *orcpts; /* DSN ORCPT per recipient, or NULL */
	size_t nrcpts;
	const char *client_addr, *helo, *tls, *listener;
	const char *auth_user; /* who authenticated (SMTP AUTH), or NULL */
	const char *xforward;  /* the relay's XFORWARD attributes (xforward_text), or NULL */
	int64_t received_us;
	/* Out. */
	enum vl_err result;
	uint64_t message_id;
	/* The event loop's own. */
	void *owner;
	struct ingest_job *next;
	/* Ingest's own: bytes that must outlive the commit (a mapping, a decoded original). */
	void *map;
	size_t map_len;
	struct buf keep;
};

struct ingest;

/* ingest_start - start the writer thread over st (owned by the thread from now on until
 * ingest_stop). st may be NULL (serve started without its key): the thread then opens the store
 * itself before each batch until it can, answering the batches before that with the failure,
 * and ingest_stop closes it. notify_fd (an eventfd) is written once per finished batch. m (may be NULL)
 * counts batches, commit latency and unwrapped journal reports. */
enum vl_err ingest_start(struct ingest **out, const struct vl_config *cfg, struct store *st,
			 PGconn *conn, int notify_fd, struct metrics *m, char *err) VL_MUST_CHECK;

/* ingest_submit - queue a job; it comes back through ingest_take_done. expected is the
 * caller's count of messages still on their way once this one is queued (as ingest_expect). */
void ingest_submit(struct ingest *in, struct ingest_job *job, size_t expected);

/* ingest_expect - how many sessions are inside a transaction now (MAIL accepted, message not
 * yet complete). A batch waits up to batch_max_ms for company only while this is above zero;
 * at zero the queued messages commit at once. The count only shapes batches: a message is
 * still acknowledged after its batch's commit, never before. NULL is a no-op. */
void ingest_expect(struct ingest *in, size_t expected);

/* ingest_take_done - every finished job (a list linked by next), or NULL. */
struct ingest_job *ingest_take_done(struct ingest *in);

/* ingest_stop - finish the queued jobs, stop the thread and free. NULL is a no-op. */
void ingest_stop(struct ingest *in);

/* ingest_unwrap_and_add - stage one received message into st: a journal report becomes the
 * report itself plus its original (source "journal") and, when Exchange attached one, the
 * original's decrypted copy (source "journal-decrypted"), each with the report's envelope and
 * linked to the report; a copy that cannot be read is logged and left out. Other mail gets its
 * envelope plus the original recipients its headers or ORCPT reveal. Used by the thread and by
 * import. */
enum vl_err ingest_unwrap_and_add(struct store *st, struct ingest_job *job, char *err)
	VL_MUST_CHECK;

/* ingest_job_release - free what ingest_unwrap_and_add kept for the commit. */
void ingest_job_release(struct ingest_job *job);

#endif
