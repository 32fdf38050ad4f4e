/* cmd_dispose - `vellum dispose [--dry-run] [--now TIME]`: remove the messages whose
 * retain-until has passed and that no active legal hold covers (retention-policies/dispose).
 * --now moves the clock for tests: the database refuses it unless its test_clock is on. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "db.h"
#include "dispose.h"

static void
dispose_print(void *arg, const char *id, const char *sha, const char *policy, const char *until)
{
	printf("%s\t%s\t%s\t%s\t%s\n", (const char *)arg, id, sha, policy[0] ? policy : "-",
	       until);
}

static int
dispose_check(struct cli *c, const char *path)
{
	char err[VL_ERRLEN];

	if (dispose_check_report(&c->cfg, path, err) != VL_OK) {
		fprintf(stderr, "vellum dispose: %s\n", err);
		return 1;
	}
	printf("%s: signature good\n", path);
	return 0;
}

int
cmd_dispose(struct cli *c, int argc, char **argv)
{
	struct dispose_opts o = {.each = dispose_print};
	struct dispose_result res;
	struct db *db = NULL;
	char err[VL_ERRLEN];
	enum vl_err rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0) {
			o.dry_run = 1;
		} else if (strcmp(argv[i], "--check-report") == 0 && i + 2 == argc) {
			return dispose_check(c, argv[i + 1]);
		} else if (strcmp(argv[i], "--now") == 0 && i + 1 < argc) {
			o.now = argv[++i];
		} else {
			fprintf(stderr, "usage: vellum dispose [--dry-run] [--now TIME]\n"
					"       vellum dispose --check-report FILE\n");
			return 2;
		}
	}
	o.arg = o.dry_run ? "would-dispose" : "disposed";
	if ((rc = db_connect(&c->cfg, &db, err)) == VL_OK)
		rc = dispose_run(&c->cfg, db_conn(db), c->actor, &o, &res, err);
	db_close(db);
	if (rc != VL_OK) {
		fprintf(stderr, "vellum dispose: %s\n", err);
		return 1;
	}
	if (!o.dry_run)
		printf("disposed %lld messages, %lld blobs, %lld ledger entries, %llu record keys "
		       "destroyed%s%s\n",
		       (long long)res.messages, (long long)res.blobs, (long long)res.records,
		       (unsigned long long)res.keys_destroyed,
		       res.report[0] ? "; report " : "", res.report);
	return 0;
}
