/* cmd_hold - `vellum hold place|preview|release|list|show|matters|sweep`: legal holds.
 *
 *	vellum hold place NAME --matter M [--description D] [--query Q] [--custodian C]...
 *	                       [--from DATE] [--to DATE]
 *	vellum hold preview [--query Q] [--custodian C]... [--from DATE] [--to DATE]
 *	vellum hold release NAME --reason R
 *	vellum hold list | show NAME | matters | sweep */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "db.h"
#include "hold.h"

static int
hold_usage(void)
{
	fprintf(stderr,
		"usage: vellum hold place NAME --matter M [--description D] [--query Q]\n"
		"                         [--custodian C]... [--from DATE] [--to DATE]\n"
		"       vellum hold preview [--query Q] [--custodian C]... [--from DATE] [--to DATE]\n"
		"       vellum hold release NAME --reason R\n"
		"       vellum hold list | show NAME | matters | sweep\n");
	return 2;
}

/* hold_opts - the options of place and preview into spec (custodians into cust[]). */
static int
hold_opts(int argc, char **argv, int i, struct hold_spec *spec, char **cust)
{
	for (; i < argc; i++) {
		const char *o = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (val == NULL)
			return -1;
		if (strcmp(o, "--matter") == 0)
			spec->matter = val;
		else if (strcmp(o, "--description") == 0)
			spec->description = val;
		else if (strcmp(o, "--query") == 0)
			spec->query = val;
		else if (strcmp(o, "--from") == 0)
			spec->date_from = val;
		else if (strcmp(o, "--to") == 0)
			spec->date_to = val;
		else if (strcmp(o, "--custodian") == 0 && spec->ncustodians < HOLD_CUSTODIANS_MAX)
			cust[spec->ncustodians++] = argv[i + 1];
		else
			return -1;
		i++;
	}
	spec->custodians = cust;
	return 0;
}

/* hold_print_json - run one of the *_json readers and print its answer. */
static enum vl_err
hold_print_json(PGconn *conn, const char *name, char *err)
{
	char *json = NULL;
	enum vl_err rc = name ? hold_show_json(conn, name, &json, err)
			      : hold_list_json(conn, &json, err);

	if (rc == VL_OK)
		printf("%s\n", json);
	free(json);
	return rc;
}

static enum vl_err
hold_run(struct cli *c, PGconn *conn, char **argv, struct hold_spec *spec, char *err)
{
	const char *sub = argv[1];
	char *json = NULL;
	int64_t n = 0;
	enum vl_err rc;

	if (strcmp(sub, "place") == 0) {
		spec->name = argv[2];
		if ((rc = hold_place(conn, c->actor, NULL, spec, &n, err)) == VL_OK)
			printf("hold %s placed: %lld messages covered\n", spec->name, (long long)n);
		return rc;
	}
	if (strcmp(sub, "preview") == 0) {
		spec->name = "preview";
		if ((rc = hold_preview(conn, spec, &n, err)) == VL_OK)
			printf("%lld\n", (long long)n);
		return rc;
	}
	if (strcmp(sub, "release") == 0)
		return hold_release(conn, c->actor, NULL, argv[2], argv[4], err);
	if (strcmp(sub, "list") == 0 || strcmp(sub, "show") == 0)
		return hold_print_json(conn, strcmp(sub, "show") == 0 ? argv[2] : NULL, err);
	if (strcmp(sub, "matters") == 0) {
		if ((rc = hold_matters_json(conn, &json, err)) == VL_OK)
			printf("%s\n", json);
		free(json);
		return rc;
	}
	if ((rc = hold_sweep(conn, NULL, &n, err)) == VL_OK)
		printf("swept: %lld messages newly covered\n", (long long)n);
	return rc;
}

/* hold_args_ok - shape of the command line, before anything connects. */
static int
hold_args_ok(int argc, char **argv, struct hold_spec *spec, char **cust)
{
	const char *sub = argc >= 2 ? argv[1] : "";

	if (strcmp(sub, "place") == 0)
		return argc >= 3 && hold_opts(argc, argv, 3, spec, cust) == 0;
	if (strcmp(sub, "preview") == 0)
		return hold_opts(argc, argv, 2, spec, cust) == 0;
	if (strcmp(sub, "release") == 0)
		return argc == 5 && strcmp(argv[3], "--reason") == 0;
	if (strcmp(sub, "show") == 0)
		return argc == 3;
	return argc == 2 && (strcmp(sub, "list") == 0 || strcmp(sub, "matters") == 0 ||
			     strcmp(sub, "sweep") == 0);
}

int
cmd_hold(struct cli *c, int argc, char **argv)
{
	char *cust[HOLD_CUSTODIANS_MAX], err[VL_ERRLEN];
	struct hold_spec spec = {0};
	struct db *db = NULL;
	enum vl_err rc;

	if (!hold_args_ok(argc, argv, &spec, cust))
		return hold_usage();
	if ((rc = db_connect(&c->cfg, &db, err)) == VL_OK)
		rc = hold_run(c, db_conn(db), argv, &spec, err);
	db_close(db);
	if (rc != VL_OK) {
		fprintf(stderr, "vellum hold: %s\n", err);
		return rc == VL_ERR_PARSE || rc == VL_ERR_LIMIT ? 2 : 1;
	}
	return 0;
}
