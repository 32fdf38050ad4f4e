/* rebuild - `vellum rebuild-index`: re-create the database from the segments and the keyring.
 * Owns: walking every segment in order and re-deriving the index, the receipts, the message
 * rows and the ledger from the records alone (FORMAT.md says why that is possible).
 * Disposed records stay disposed: a record whose key disposal destroyed is skipped, and so is a
 * receipt whose message is gone. The ledger it builds then lacks their entries and the
 * disposal entries, so checkpoints written before the rebuild stop matching it (counted). */
#ifndef VL_REBUILD_H
#define VL_REBUILD_H

#include <libpq-fe.h>
#include <stdint.h>

#include "config.h"
#include "vl_err.h"

struct rebuild_counts {
	uint64_t segments, messages, receipts, dictionaries, ledger, checkpoint_mismatches;
	uint64_t shredded;	   /* records whose keys disposal destroyed: skipped */
	uint64_t receipts_skipped; /* receipts of disposed messages in a surviving record */
};

/* rebuild_run - the database must hold no segments yet (VL_ERR_EXISTS otherwise). */
enum vl_err rebuild_run(const struct vl_config *cfg, PGconn *conn, struct rebuild_counts *n,
			char *err) VL_MUST_CHECK;

#endif
