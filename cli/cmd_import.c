/* cmd_import - `vellum import PATH...`: mbox files, Maildir folders, .eml files, folders. */
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "db.h"
#include "import.h"
#include "store.h"

int
cmd_import(struct cli *c, int argc, char **argv)
{
	char err[VL_ERRLEN] = "";
	struct db *db = NULL;
	struct store *st = NULL;
	struct import_counts n;
	enum vl_err rc;

	if (argc < 2) {
		fprintf(stderr, "usage: vellum import PATH...  (mbox, Maildir, .eml, folders)\n");
		return 2;
	}
	if (db_connect(&c->cfg, &db, err) != VL_OK ||
	    store_open(&st, &c->cfg, db_conn(db), 1, err) != VL_OK) {
		fprintf(stderr, "vellum import: %s\n", err);
		db_close(db);
		return 1;
	}
	rc = import_paths(st, &c->cfg, argv + 1, argc - 1, isatty(STDERR_FILENO) ? stderr : NULL,
			  &n, err);
	if (rc != VL_OK)
		fprintf(stderr, "vellum import: %s\n", err);
	printf("imported %llu messages (%llu new, %llu bytes), %llu failed\n",
	       (unsigned long long)n.messages, (unsigned long long)n.new_messages,
	       (unsigned long long)n.bytes, (unsigned long long)n.failed);
	store_close(st);
	db_close(db);
	return rc != VL_OK || n.failed ? 1 : 0;
}
