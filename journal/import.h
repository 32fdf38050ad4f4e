/* import - `vellum import`: bulk import of mbox files, Maildir folders, .eml files and folders
 * of them, through the same unwrapping and group-commit store as live mail.
 * Owns: walking the paths, splitting mbox files (mboxo/mboxrd "From " lines; the From line
 * itself is not part of the message, and ">From " quoting is kept as found, since mboxo
 * quoting cannot be undone exactly), and progress on a terminal. Content addressing makes a
 * second import of the same data store nothing new (it adds receipts only). */
#ifndef VL_IMPORT_H
#define VL_IMPORT_H

#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "store.h"
#include "vl_err.h"

struct import_counts {
	uint64_t messages, new_messages, bytes, failed;
};

/* import_paths - import every message under paths into st; progress to `progress` when not
 * NULL. Failures are counted and named on stderr; the import goes on. */
enum vl_err import_paths(struct store *st, const struct vl_config *cfg, char **paths, int n,
			 FILE *progress, struct import_counts *counts, char *err) VL_MUST_CHECK;

#endif
