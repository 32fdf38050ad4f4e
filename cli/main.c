/* main - the `vellum` command: global options, configuration, privilege drop, dispatch.
 *
 *	vellum [--data DIR] [-v] COMMAND [ARGS...]
 *
 * The data folder is --data, else $VELLUM_DATA, else ./var. */
#include <gmime/gmime.h>
#include <limits.h>
#include <pwd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fsutil.h"
#include "log.h"
#include "privdrop.h"

static const struct command {
	const char *name;
	int (*fn)(struct cli *, int, char **);
	int needs_init; /* refuses to run before `vellum init` */
	const char *help;
} commands[] = {
	{"init", cmd_init, 0, "create the data folder: config, keyring, store, database"},
	{"db", cmd_db, 0, "start|stop|status|psql the private PostgreSQL cluster"},
	{"migrate", cmd_migrate, 1, "apply pending schema migrations"},
	{"keys", cmd_keys, 1, "generate|list|rotate|public the archive's keys"},
	{"store", cmd_store, 1, "archive raw messages, one per file"},
	{"import", cmd_import, 1, "import mbox files, Maildir folders, .eml files"},
	{"index", cmd_index, 1, "index messages waiting for full-text search"},
	{"search", cmd_search, 1, "search the archive: from:, subject:, \"phrases\", OR, -, ..."},
	{"custodian", cmd_custodian, 1, "add|remove|list custodians and their addresses"},
	{"export", cmd_export, 1, "export a query's hits: EML or mbox, load files, signed manifest"},
	{"export-verify", cmd_export_verify, 0, "check an export folder offline (no archive needed)"},
	{"cat", cmd_cat, 1, "write a message's exact original bytes to stdout"},
	{"verify", cmd_verify, 1, "check the store, the index and the ledger"},
	{"rebuild-index", cmd_rebuild_index, 1, "re-create the database from the store and keys"},
	{"status", cmd_status, 1, "counts and state of the archive"},
	{"serve", cmd_serve, 1, "run the archive: database, store writer, SMTP/LMTP, HTTP API"},
	{"token", cmd_token, 1, "create|list|revoke HTTP API tokens"},
	{"smtp-user", cmd_smtp_user, 1, "add|list|remove users who may AUTH over SMTP/LMTP"},
	{"hold", cmd_hold, 1, "place|preview|release|list|show legal holds"},
	{"fields", cmd_fields, 1, "set|show a message's business fields (txdate, amount, counterparty)"},
	{"retention", cmd_retention, 1, "list|show|test|apply retention policies"},
	{"dispose", cmd_dispose, 1, "remove messages past retention and under no hold"},
	{"bench-search", cmd_bench_search, 1, "time one query N times in process (p50/p99)"},
	{"bench-seal", cmd_bench_seal, 1, "in-process ceiling: hash+compress+encrypt, no I/O"},
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: vellum [--data DIR] [-v] COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-14s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nThe data folder is --data, else $VELLUM_DATA, else ./var.\n");
}

/* cli_actor - "cli:<unix user>" of whoever ran the command (before any privilege drop). */
static void
cli_actor(struct cli *c)
{
	const char *sudo = getenv("SUDO_USER");
	struct passwd *pw = getpwuid(getuid());

	snprintf(c->actor, sizeof(c->actor), "cli:%s",
		 sudo && *sudo ? sudo : pw ? pw->pw_name : "unknown");
}

static int
cli_load(struct cli *c, const char *data)
{
	char abs[CONFIG_PATH_MAX], path[CONFIG_PATH_MAX], err[VL_ERRLEN];
	int level;

	if (data[0] != '/') {
		if (getcwd(abs, sizeof(abs) - strlen(data) - 2) == NULL)
			vl_fatal("getcwd");
		strcat(abs, "/");
		strcat(abs, data);
	} else {
		snprintf(abs, sizeof(abs), "%s", data);
	}
	config_defaults(&c->cfg, abs);
	config_path(path, &c->cfg, "vellum.conf");
	if (config_load(&c->cfg, path, err) != VL_OK) {
		fprintf(stderr, "vellum: %s\n", err);
		return -1;
	}
	if ((level = log_level_parse(c->cfg.log_level)) < 0) {
		fprintf(stderr, "vellum: log_level: unknown level '%s'\n", c->cfg.log_level);
		return -1;
	}
	if (log_level_get() < (enum log_level)level)
		log_init("vellum", (enum log_level)level);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *data = getenv("VELLUM_DATA");
	struct cli c = {.progname = "vellum"};
	char err[VL_ERRLEN], path[CONFIG_PATH_MAX];
	int i;

	log_init("vellum", LOG_LEVEL_WARN);
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
			data = argv[++i];
		else if (strcmp(argv[i], "-v") == 0)
			log_init("vellum", LOG_LEVEL_DEBUG);
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (i == argc) {
		usage(stderr);
		return 2;
	}
	if (sodium_init() < 0)
		vl_fatalx("sodium_init failed");
	g_mime_init();
	cli_actor(&c);
	if (cli_load(&c, data && *data ? data : "var") != 0)
		return 1;
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++) {
		if (strcmp(commands[k].name, argv[i]) != 0)
			continue;
		config_path(path, &c.cfg, "vellum.conf");
		if (commands[k].needs_init && access(path, F_OK) != 0) {
			fprintf(stderr, "vellum: %s is not initialised: run `vellum --data %s init`\n",
				c.cfg.data_dir, c.cfg.data_dir);
			return 1;
		}
		/* Everything runs as the unprivileged run_user when started as root. */
		if (privdrop_prepare(&c.cfg, err) != VL_OK || privdrop_drop(&c.cfg, err) != VL_OK) {
			fprintf(stderr, "vellum: %s\n", err);
			return 1;
		}
		return commands[k].fn(&c, argc - i, argv + i);
	}
	fprintf(stderr, "vellum: unknown command '%s'\n", argv[i]);
	usage(stderr);
	return 2;
}
