/* cmd_read - `vellum cat`, `vellum verify` and `vellum rebuild-index`: reading evidence back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "buf.h"
#include "cli.h"
#include "db.h"
#include "fsutil.h"
#include "rebuild.h"
#include "vault.h"
#include "verify.h"

#define CAT_QUERY                                                                                  \
	"SELECT m.id, b.segment_id, b.record_offset, b.sha256 FROM messages m"                     \
	" JOIN blobs b ON b.address = m.address WHERE "

static enum vl_err
stdout_fn(void *arg, const uint8_t *p, size_t n)
{
	(void)arg;
	return fs_write_full(STDOUT_FILENO, p, n);
}

/* cat_lookup - resolve ID, 64-hex address or sha256:HEX to one message's location. */
static enum vl_err
cat_lookup(PGconn *conn, const char *what, PGresult **res, char *err)
{
	uint8_t bin[32];
	const char *sql, *val = what;
	char hex[80];

	if (strncmp(what, "sha256:", 7) == 0 && hex_decode(bin, 32, what + 7) == 0) {
		sql = CAT_QUERY "b.sha256 = decode($1, 'hex') ORDER BY m.id LIMIT 1";
		snprintf(hex, sizeof(hex), "%s", what + 7);
		val = hex;
	} else if (strlen(what) == 64 && hex_decode(bin, 32, what) == 0) {
		sql = CAT_QUERY "m.address = decode($1, 'hex')";
	} else if (strspn(what, "0123456789") == strlen(what) && strlen(what) > 0 &&
		   strlen(what) < 19) {
		sql = CAT_QUERY "m.id = $1::int8";
	} else {
		return vl_err_set(err, VL_ERR_PARSE,
				  "'%s' is not a message id, a 64-hex address or sha256:HEX", what);
	}
	const char *vals[] = {val};
	*res = PQexecParams(conn, sql, 1, NULL, vals, NULL, NULL, 1);
	if (PQresultStatus(*res) != PGRES_TUPLES_OK)
		return vl_err_set(err, VL_ERR_DB, "lookup: %s", PQerrorMessage(conn));
	if (PQntuples(*res) == 0)
		return vl_err_set(err, VL_ERR_NOTFOUND, "no message %s", what);
	return VL_OK;
}

static uint64_t
be64(const char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | (uint8_t)p[i];
	return v;
}

int
cmd_cat(struct cli *c, int argc, char **argv)
{
	char err[VL_ERRLEN] = "", detail[VL_ERRLEN], target[32], json[160];
	struct db *db = NULL;
	struct vault *v = NULL;
	PGresult *r = NULL;
	struct record_info info;
	enum vl_err rc;

	if (argc != 2) {
		fprintf(stderr, "usage: vellum cat ID|ADDRESS|sha256:HEX\n");
		return 2;
	}
	if ((rc = db_connect(&c->cfg, &db, err)) != VL_OK ||
	    (rc = cat_lookup(db_conn(db), argv[1], &r, err)) != VL_OK)
		goto out;
	uint64_t id = be64(PQgetvalue(r, 0, 0));
	snprintf(target, sizeof(target), "message:%llu", (unsigned long long)id);
	snprintf(json, sizeof(json), "{\"via\": \"vellum cat\", \"asked\": \"%.64s\"}",
		 strspn(argv[1], "0123456789abcdefsha:") == strlen(argv[1]) ? argv[1] : "?");
	/* Every read of evidence is audited, and before the bytes leave. */
	if ((rc = audit_append(db_conn(db), c->actor, NULL, "message.raw", target, json, err)) !=
	    VL_OK)
		goto out;
	if ((rc = vault_open(&v, &c->cfg, db_conn(db), detail)) != VL_OK) {
		snprintf(err, sizeof(err), "message %llu cannot be read: %s", (unsigned long long)id,
			 detail);
		goto out;
	}
	rc = vault_read(v, be64(PQgetvalue(r, 0, 1)), be64(PQgetvalue(r, 0, 2)),
			(const uint8_t *)PQgetvalue(r, 0, 3), stdout_fn, NULL, &info, detail);
	if (rc != VL_OK)
		snprintf(err, sizeof(err), "message %llu cannot be read: %s", (unsigned long long)id,
			 detail);
out:
	if (rc != VL_OK)
		fprintf(stderr, "vellum cat: %s\n", err);
	PQclear(r);
	vault_free(v);
	db_close(db);
	return rc == VL_OK ? 0 : 1;
}

int
cmd_verify(struct cli *c, int argc, char **argv)
{
	char err[VL_ERRLEN] = "";
	struct db *db = NULL;
	struct verify_opts o = {0};
	int problems = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--all") == 0)
			o.decrypt_all = 1;
		else {
			fprintf(stderr, "usage: vellum verify [--all]\n");
			return 2;
		}
	}
	if (db_connect(&c->cfg, &db, err) != VL_OK) {
		fprintf(stderr, "vellum verify: %s\n", err);
		return 1;
	}
	if (verify_run(&c->cfg, db_conn(db), &o, stdout, &problems, err) != VL_OK) {
		fprintf(stderr, "vellum verify: %s\n", err);
		db_close(db);
		return 1;
	}
	db_close(db);
	return problems ? 1 : 0;
}

int
cmd_rebuild_index(struct cli *c, int argc, char **argv)
{
	char err[VL_ERRLEN] = "";
	struct db *db = NULL;
	struct rebuild_counts n = {0};

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: vellum rebuild-index\n");
		return 2;
	}
	if (db_connect(&c->cfg, &db, err) != VL_OK ||
	    rebuild_run(&c->cfg, db_conn(db), &n, err) != VL_OK) {
		fprintf(stderr, "vellum rebuild-index: %s\n", err);
		db_close(db);
		return 1;
	}
	printf("rebuilt: %llu segments, %llu messages, %llu receipts, %llu dictionaries, "
	       "%llu ledger entries\n",
	       (unsigned long long)n.segments, (unsigned long long)n.messages,
	       (unsigned long long)n.receipts, (unsigned long long)n.dictionaries,
	       (unsigned long long)n.ledger);
	if (n.shredded || n.receipts_skipped)
		printf("disposed before: %llu records whose keys were destroyed, %llu receipts of "
		       "disposed messages; not restored\n",
		       (unsigned long long)n.shredded, (unsigned long long)n.receipts_skipped);
	db_close(db);
	return 0;
}
