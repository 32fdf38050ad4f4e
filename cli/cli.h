/* cli - the `vellum` command: shared context and one entry point per subcommand.
 * Owns: wiring the rooms together from configuration (the only place that knows them all). */
#ifndef VL_CLI_H
#define VL_CLI_H

#include "config.h"

struct cli {
	struct vl_config cfg; /* frozen after main() loads it */
	char actor[128];      /* "cli:<unix user>", for the audit trail */
	const char *progname;
};

/* Each returns the process exit status: 0 success, 1 failure, 2 usage error (cmd_index also
 * 75, EX_TEMPFAIL: messages left queued for a reason of the moment). argv[0] is the
 * subcommand's own name. */
int cmd_init(struct cli *c, int argc, char **argv);
int cmd_db(struct cli *c, int argc, char **argv);
int cmd_migrate(struct cli *c, int argc, char **argv);
int cmd_keys(struct cli *c, int argc, char **argv);
int cmd_store(struct cli *c, int argc, char **argv);
int cmd_import(struct cli *c, int argc, char **argv);
int cmd_index(struct cli *c, int argc, char **argv);
int cmd_search(struct cli *c, int argc, char **argv);
int cmd_custodian(struct cli *c, int argc, char **argv);
int cmd_cat(struct cli *c, int argc, char **argv);
int cmd_verify(struct cli *c, int argc, char **argv);
int cmd_rebuild_index(struct cli *c, int argc, char **argv);
int cmd_serve(struct cli *c, int argc, char **argv);
int cmd_status(struct cli *c, int argc, char **argv);
int cmd_bench_search(struct cli *c, int argc, char **argv);
int cmd_bench_seal(struct cli *c, int argc, char **argv);
int cmd_token(struct cli *c, int argc, char **argv);
int cmd_smtp_user(struct cli *c, int argc, char **argv);
int cmd_export(struct cli *c, int argc, char **argv);
int cmd_export_verify(struct cli *c, int argc, char **argv);
int cmd_hold(struct cli *c, int argc, char **argv);
int cmd_fields(struct cli *c, int argc, char **argv);
int cmd_retention(struct cli *c, int argc, char **argv);
int cmd_dispose(struct cli *c, int argc, char **argv);

#endif
