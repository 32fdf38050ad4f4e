/* store - the write side of the sealed store: dedup, sealing, group commit, the ledger.
 * Owns: the single writer (an exclusive lock on DATA/store/writer.lock), the open segment,
 * batches of messages that share one fdatasync and one PostgreSQL transaction, segment sealing
 * and crash recovery (an unclean segment is abandoned at its committed end; see FORMAT.md).
 * A message is one distinct content (its keyed BLAKE2b address): handing the same bytes again
 * adds a receipt (envelope, trace) to the archived message, never a second copy. */
#ifndef VL_STORE_H
#define VL_STORE_H

#include <libpq-fe.h>
#include <stdint.h>

#include "config.h"
#include "vault.h"
#include "vl_err.h"

#define STORE_RCPT_MAX 10000	 /* envelope recipients kept per receipt */
#define STORE_FIELD_MAX 2048	 /* longest envelope/trace string kept */

/* Where a message's bytes are: in memory (mem != NULL), or in a file (fd, read from 0). */
struct store_source {
	const uint8_t *mem;
	int fd;
	uint64_t len;
};

/* The envelope and trace of one hand-over (all strings borrowed; NULL when unknown). */
struct store_receipt {
	const char *source; /* "store", "import", "smtp", "lmtp", "journal", "journal-decrypted" */
	const char *origin; /* file path, or listener name */
	const char *mail_from;
	const char *const *rcpts;
	const char *const *roles; /* per recipient ("to", "cc", "bcc", ...), or NULL: "rcpt" */
	size_t nrcpts;
	const char *client_addr, *helo, *tls, *listener;
	const char *auth_user; /* the SMTP AUTH identity the client proved, or NULL */
	const char *xforward;  /* what the relay said of its client (XFORWARD), or NULL */
	int64_t received_us; /* 0: now */
	int has_report;	     /* this message was unwrapped from a journal report ... */
	size_t report_slot;  /* ... staged in the same batch at this slot */
};

struct store_result {
	uint64_t message_id;
	uint8_t sha256[32];
	uint8_t address[32];
	int is_new; /* 0: the content was archived already; a receipt was added */
};

struct store;

/* store_open - take the writer lock (waiting for another writer when wait is set, else
 * VL_ERR_BUSY), load keys and dictionaries, recover or create the open segment. conn is
 * borrowed and must outlive the store. */
enum vl_err store_open(struct store **out, const struct vl_config *cfg, PGconn *conn, int wait,
		       char *err) VL_MUST_CHECK;
void store_close(struct store *s);

/* store_add - hash one message into the pending batch (its source must stay readable until
 * store_commit returns). Returns its index in the batch through *slot. */
enum vl_err store_add(struct store *s, const struct store_source *src,
		      const struct store_receipt *r, size_t *slot, char *err) VL_MUST_CHECK;
size_t store_pending(const struct store *s);

/* store_commit - seal the batch's new messages and every receipt into the segment, fdatasync
 * once, insert the index rows and ledger entries in one transaction. Only after VL_OK is any
 * message of the batch durable; on failure none is acknowledged, the batch is dropped, and the
 * next commit starts a fresh segment. results[i] (borrowed, valid until the next add) belongs
 * to slot i. */
enum vl_err store_commit(struct store *s, const struct store_result **results, size_t *n,
			 char *err) VL_MUST_CHECK;

/* store_train_dictionary - train a zstd dictionary on samples, seal it into the store and use
 * it for new messages. Does nothing (VL_OK) when one exists already. */
enum vl_err store_train_dictionary(struct store *s, const struct store_source *samples,
				   size_t n, char *err) VL_MUST_CHECK;

/* store_vault - the store's read side (borrowed). */
struct vault *store_vault(struct store *s);

/* store_now_us - the wall clock in microseconds (one place, so tests can reason about it). */
int64_t store_now_us(void);

#endif
