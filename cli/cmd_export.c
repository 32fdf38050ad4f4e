/* cmd_export - `vellum export` (a query's hits as evidence, with load files and a signed
 * manifest) and `vellum export-verify` (checking an export offline, without the archive). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "db.h"
#include "export.h"
#include "manifest.h"

/* The one piece of mutable global state here: a signal handler can only reach a global. Set
 * by SIGINT/SIGTERM, it makes export_run stop and remove its partial folder. */
static volatile sig_atomic_t export_stop;

static void
on_stop(int sig)
{
	(void)sig;
	export_stop = 1;
}

static void
catch_stop(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* progress - a one-line bar on a terminal (stderr), nothing otherwise. */
static void
progress(void *arg, uint64_t done, uint64_t total)
{
	(void)arg;
	if (total && done < total && done % 50 != 0)
		return;
	if (total) {
		int pct = (int)(done * 100 / (done > total ? done : total));
		int bar = pct / 4;

		fprintf(stderr, "\r[%.*s%*s] %3d%% %llu/%llu messages", bar,
			"=========================", 25 - bar, "", pct, (unsigned long long)done,
			(unsigned long long)total);
	} else {
		fprintf(stderr, "\r%llu messages", (unsigned long long)done);
	}
}

static int
export_usage(void)
{
	fprintf(stderr, "usage: vellum export [--format eml|mbox] [--per-custodian] [--dedup]"
			" [--prefix BATES] [--ids FILE] [--zip] --out DIR [--] [QUERY...]\n");
	return 2;
}

/* join_query - the words of argv as one query, space-separated. */
static char *
join_query(int argc, char **argv)
{
	struct buf b = {0};

	for (int i = 0; i < argc; i++) {
		if (i)
			buf_append_str(&b, " ");
		buf_append_str(&b, argv[i]);
	}
	buf_append(&b, "", 1);
	return (char *)b.data;
}

/* read_ids - message ids, one a line (blank lines and # comments skipped), into o. */
static int
read_ids(const char *path, struct export_opts *o, int64_t **ids)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
	char line[64];
	size_t cap = 0;

	if (f == NULL) {
		fprintf(stderr, "vellum export: %s: cannot be read\n", path);
		return -1;
	}
	cap = 1024;
	*ids = xmalloc(cap * sizeof(**ids));
	o->nids = 0;
	while (fgets(line, sizeof(line), f)) {
		char *end;
		size_t len = strcspn(line, "\r\n");

		line[len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		long long v = strtoll(line, &end, 10);
		if (*end != '\0' || v <= 0 || o->nids == EXPORT_IDS_MAX) {
			fprintf(stderr, "vellum export: %s: '%s' is not a message id (or over %d)\n",
				path, line, EXPORT_IDS_MAX);
			if (f != stdin)
				fclose(f);
			return -1;
		}
		if (o->nids == cap) {
			cap *= 2;
			*ids = xrealloc(*ids, cap * sizeof(**ids));
		}
		(*ids)[o->nids++] = v;
	}
	if (f != stdin)
		fclose(f);
	o->ids = *ids;
	return 0;
}

static int
parse_export_args(int argc, char **argv, struct export_opts *o, const char **ids_file,
		  int *zip, int *first)
{
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			o->out_dir = argv[++i];
		else if (strcmp(argv[i], "--ids") == 0 && i + 1 < argc)
			*ids_file = argv[++i];
		else if (strcmp(argv[i], "--prefix") == 0 && i + 1 < argc)
			o->prefix = argv[++i];
		else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
			i++;
			if (strcmp(argv[i], "eml") == 0)
				o->format = EXPORT_EML;
			else if (strcmp(argv[i], "mbox") == 0)
				o->format = EXPORT_MBOX;
			else
				return -1;
		} else if (strcmp(argv[i], "--per-custodian") == 0)
			o->per_custodian = 1;
		else if (strcmp(argv[i], "--dedup") == 0)
			o->dedup = 1;
		else if (strcmp(argv[i], "--zip") == 0)
			*zip = 1;
		else
			return -1;
	}
	*first = i;
	return o->out_dir ? 0 : -1;
}

int
cmd_export(struct cli *c, int argc, char **argv)
{
	struct export_opts o = {.format = EXPORT_EML, .actor = c->actor};
	struct export_counts n;
	char err[VL_ERRLEN] = "", tag[65];
	struct db *db = NULL;
	enum vl_err rc;
	int first;

	const char *ids_file = NULL;
	int64_t *ids = NULL;
	int zip = 0;

	if (parse_export_args(argc, argv, &o, &ids_file, &zip, &first) != 0)
		return export_usage();
	if (ids_file && read_ids(ids_file, &o, &ids) != 0)
		return 2;
	char *q = join_query(argc - first, argv + first);

	o.query = q;
	o.cancel = &export_stop;
	catch_stop();
	if (isatty(STDERR_FILENO))
		o.progress = progress;
	if ((rc = db_connect(&c->cfg, &db, err)) == VL_OK)
		rc = export_run(&c->cfg, db_conn(db), &o, &n, tag, err);
	if (o.progress)
		fprintf(stderr, "\n");
	if (rc == VL_OK && zip && (rc = export_zip(o.out_dir, err)) == VL_OK)
		printf("zipped: %s.zip\n", o.out_dir);
	if (rc != VL_OK)
		fprintf(stderr, "vellum export: %s\n", err);
	else
		printf("exported %llu messages (%llu documents, %llu files, %llu bytes) to %s\n"
		       "tag manifest sha256 %s; check with: vellum export-verify %s\n",
		       (unsigned long long)n.messages, (unsigned long long)n.documents,
		       (unsigned long long)n.files, (unsigned long long)n.bytes, o.out_dir, tag,
		       o.out_dir);
	if (rc == VL_OK)
		printf("unindexed items of the query's scope: %llu message%s, listed in"
		       " data/unindexed.csv\n", (unsigned long long)n.unindexed,
		       n.unindexed == 1 ? "" : "s");
	db_close(db);
	free(q);
	free(ids);
	return rc == VL_OK ? 0 : rc == VL_ERR_PARSE || rc == VL_ERR_LIMIT ? 2 : 1;
}

int
cmd_export_verify(struct cli *c, int argc, char **argv)
{
	struct manifest_check chk;
	uint8_t pin[32];
	const char *dir = NULL;
	char err[VL_ERRLEN], pkhex[65];
	int pinned = 0;

	(void)c;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--key") == 0 && i + 1 < argc) {
			if (hex_decode(pin, 32, argv[++i]) != 0) {
				fprintf(stderr, "vellum export-verify: --key: 64 hex digits\n");
				return 2;
			}
			pinned = 1;
		} else if (dir == NULL && argv[i][0] != '-')
			dir = argv[i];
		else
			dir = NULL, i = argc;
	}
	if (dir == NULL) {
		fprintf(stderr, "usage: vellum export-verify [--key PUBLICKEYHEX] DIR\n");
		return 2;
	}
	if (manifest_verify_dir(dir, pinned ? pin : NULL, stdout, &chk, err) != VL_OK) {
		fprintf(stderr, "vellum export-verify: %s\n", err);
		return 1;
	}
	hex_encode(pkhex, chk.pk, 32);
	if (chk.bad) {
		printf("FAILED: %llu problems in %s\n", (unsigned long long)chk.bad, dir);
		return 1;
	}
	printf("OK: %llu files match the manifest; signature by %s%s\n",
	       (unsigned long long)chk.files, pkhex,
	       pinned ? " (the key given)" : " (the key export.json names: pin it with --key)");
	return 0;
}
