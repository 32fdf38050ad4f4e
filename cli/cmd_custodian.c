/* cmd_custodian - `vellum custodian add NAME ADDRESS...`, `remove NAME`, `list`:
 * who custodian:NAME searches. Every change is audited. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "custodian.h"
#include "db.h"

static int
custodian_usage(void)
{
	fprintf(stderr, "usage: vellum custodian add NAME ADDRESS...\n"
			"       vellum custodian remove NAME\n"
			"       vellum custodian list\n");
	return 2;
}

static void
custodian_print(PGresult *r)
{
	for (int i = 0; i < PQntuples(r); i++)
		printf("%s\t%s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
}

int
cmd_custodian(struct cli *c, int argc, char **argv)
{
	struct db *db = NULL;
	PGresult *r = NULL;
	char err[VL_ERRLEN];
	enum vl_err rc;

	if (argc < 2 || (strcmp(argv[1], "add") == 0 && argc < 4) ||
	    (strcmp(argv[1], "remove") == 0 && argc != 3) ||
	    (strcmp(argv[1], "list") == 0 && argc != 2))
		return custodian_usage();
	if (strcmp(argv[1], "add") != 0 && strcmp(argv[1], "remove") != 0 &&
	    strcmp(argv[1], "list") != 0)
		return custodian_usage();
	if ((rc = db_connect(&c->cfg, &db, err)) != VL_OK)
		goto out;
	if (strcmp(argv[1], "add") == 0)
		rc = custodian_add(db_conn(db), c->actor, NULL, argv[2], argv + 3,
				   (size_t)(argc - 3), err);
	else if (strcmp(argv[1], "remove") == 0)
		rc = custodian_remove(db_conn(db), c->actor, NULL, argv[2], err);
	else if ((rc = custodian_list(db_conn(db), &r, err)) == VL_OK)
		custodian_print(r);
out:
	PQclear(r);
	db_close(db);
	if (rc != VL_OK) {
		fprintf(stderr, "vellum custodian: %s\n", err);
		return rc == VL_ERR_PARSE || rc == VL_ERR_LIMIT ? 2 : 1;
	}
	return 0;
}
