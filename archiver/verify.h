/* verify - `vellum verify`: prove the store, the index and the ledger agree.
 * Owns: the checks, one line per problem naming what is wrong and where. Checks: the ledger
 * and audit chains; every index row against the ledger (an edited or deleted row breaks the
 * match); every segment's records (framing, checksums, torn tails), seals and checkpoints;
 * every indexed record present where the index says; with decrypt_all, every record
 * decrypted, authenticated and hashed against its evidence SHA-256 and content address. */
#ifndef VL_VERIFY_H
#define VL_VERIFY_H

#include <libpq-fe.h>
#include <stdio.h>

#include "config.h"
#include "vl_err.h"

struct verify_opts {
	int decrypt_all;
};

/* verify_run - print a report to out; *problems counts the mismatches found. Returns an error
 * only when verification itself could not run (database down, keyring missing). */
enum vl_err verify_run(const struct vl_config *cfg, PGconn *conn, const struct verify_opts *o,
		       FILE *out, int *problems, char *err) VL_MUST_CHECK;

#endif
