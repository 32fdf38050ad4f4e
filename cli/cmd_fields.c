/* cmd_fields - `vellum fields set|show`: a message's business fields for 電子帳簿保存法.
 *
 *	vellum fields set ID [--txdate YYYY-MM-DD] [--amount N] [--currency JPY]
 *	                     [--counterparty NAME] --reason TEXT
 *	vellum fields show ID
 *
 * A set appends a version (the first needs --txdate, --amount and --counterparty; later ones
 * keep what they do not name) and is audited as fields.set; show prints every version as JSON
 * and is audited as fields.view. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "bizfields.h"
#include "buf.h"
#include "cli.h"
#include "db.h"

static int
fields_usage(void)
{
	fprintf(stderr, "usage: vellum fields set ID [--txdate YYYY-MM-DD] [--amount N] "
			"[--currency JPY]\n"
			"                         [--counterparty NAME] --reason TEXT\n"
			"       vellum fields show ID\n");
	return 2;
}

/* fields_opts - the options of set, from argv[3], into s; -1 for an unknown or repeated one. */
static int
fields_opts(int argc, char **argv, struct bizfields_set *s)
{
	static const char *const names[] = {"--txdate", "--amount", "--currency", "--counterparty",
					    "--reason"};
	const char **slots[] = {&s->txdate, &s->amount, &s->currency, &s->counterparty,
				&s->reason};

	for (int i = 3; i < argc; i += 2) {
		size_t k = 0;

		while (k < sizeof(names) / sizeof(names[0]) && strcmp(argv[i], names[k]) != 0)
			k++;
		if (k == sizeof(names) / sizeof(names[0]) || i + 1 >= argc || *slots[k] != NULL)
			return -1;
		*slots[k] = argv[i + 1];
	}
	return 0;
}

static enum vl_err
fields_run(struct cli *c, PGconn *conn, char **argv, const struct bizfields_set *s, char *err)
{
	char *json = NULL, *target;
	int64_t version = 0;
	enum vl_err rc;

	if (strcmp(argv[1], "set") == 0) {
		if ((rc = bizfields_set(conn, c->actor, NULL, s, &version, err)) == VL_OK)
			printf("message %s: business fields version %lld\n", s->message_id,
			       (long long)version);
		return rc;
	}
	if ((rc = bizfields_history_json(conn, argv[2], &json, err)) != VL_OK)
		return rc;
	target = xasprintf("message:%s", argv[2]);
	/* Audited before the answer is shown, as every read of what the archive keeps. */
	if ((rc = audit_append(conn, c->actor, NULL, "fields.view", target, NULL, err)) == VL_OK)
		printf("%s\n", json);
	free(target);
	free(json);
	return rc;
}

int
cmd_fields(struct cli *c, int argc, char **argv)
{
	struct bizfields_set s = {0};
	char err[VL_ERRLEN];
	struct db *db = NULL;
	enum vl_err rc;
	const char *sub = argc >= 3 ? argv[1] : "";

	if (strcmp(sub, "set") == 0 && fields_opts(argc, argv, &s) == 0)
		s.message_id = argv[2];
	else if (strcmp(sub, "show") != 0 || argc != 3)
		return fields_usage();
	if ((rc = db_connect(&c->cfg, &db, err)) == VL_OK)
		rc = fields_run(c, db_conn(db), argv, &s, err);
	db_close(db);
	if (rc != VL_OK) {
		fprintf(stderr, "vellum fields: %s\n", err);
		return rc == VL_ERR_PARSE || rc == VL_ERR_LIMIT ? 2 : 1;
	}
	return 0;
}
