/* cmd_setup - `vellum init`, `migrate`, `keys`, `status` and `serve`: setting the archive up
 * and keeping it running. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "buf.h"
#include "cli.h"
#include "db.h"
#include "fsutil.h"
#include "indexer.h"
#include "keyring.h"
#include "manifest.h"
#include "ledger.h"
#include "log.h"
#include "metrics.h"
#include "store.h"
#include "receiver.h"
#include "tls.h"
#include "upkeep.h"

int
cmd_init(struct cli *c, int argc, char **argv)
{
	char path[CONFIG_PATH_MAX], err[VL_ERRLEN] = "";
	struct db *db = NULL;
	enum vl_err rc;
	int applied = 0;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: vellum init\n");
		return 2;
	}
	const char *dirs[] = {"", "keys", "store/segments", "store/tmp", "run"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		config_path(path, &c->cfg, dirs[i]);
		if ((rc = fs_mkdir_p(path, 0750, err)) != VL_OK)
			goto fail;
	}
	config_path(path, &c->cfg, "keys");
	chmod(path, 0700);
	config_path(path, &c->cfg, "vellum.conf");
	if (access(path, F_OK) != 0) {
		if ((rc = config_write_default(path, err)) != VL_OK)
			goto fail;
		printf("config   %s (every key documented, defaults)\n", path);
	}
	config_path(path, &c->cfg, "keys/keyring");
	rc = keyring_generate(path, err);
	if (rc == VL_OK)
		printf("keyring  %s (0600: keep a copy offline, apart from the store)\n", path);
	else if (rc != VL_ERR_EXISTS)
		goto fail;
	if ((rc = tls_make_self_signed(&c->cfg, err)) != VL_OK)
		goto fail;
	if ((rc = db_connect(&c->cfg, &db, err)) != VL_OK ||
	    (rc = db_migrate(db_conn(db), &applied, err)) != VL_OK)
		goto fail;
	printf("database %s, schema up to date\n",
	       c->cfg.database_url[0] ? "external (database_url)" : "private cluster in DATA/pg");
	printf("ready    %s\n", c->cfg.data_dir);
	db_close(db);
	return 0;
fail:
	fprintf(stderr, "vellum init: %s\n", err);
	db_close(db);
	return 1;
}

int
cmd_migrate(struct cli *c, int argc, char **argv)
{
	char err[VL_ERRLEN];
	struct db *db;
	int applied = 0;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: vellum migrate\n");
		return 2;
	}
	if (db_connect(&c->cfg, &db, err) != VL_OK || db_migrate(db_conn(db), &applied, err) != VL_OK) {
		fprintf(stderr, "vellum migrate: %s\n", err);
		return 1;
	}
	printf("schema up to date (%d applied now)\n", applied);
	db_close(db);
	return 0;
}

int
cmd_keys(struct cli *c, int argc, char **argv)
{
	char path[CONFIG_PATH_MAX], err[VL_ERRLEN];
	struct keyring *kr;
	enum vl_err rc;
	uint32_t id;

	config_path(path, &c->cfg, "keys");
	if (fs_mkdir_p(path, 0700, err) != VL_OK) {
		fprintf(stderr, "vellum keys: %s\n", err);
		return 1;
	}
	config_path(path, &c->cfg, "keys/keyring");
	if (argc == 2 && strcmp(argv[1], "generate") == 0) {
		if ((rc = keyring_generate(path, err)) != VL_OK) {
			fprintf(stderr, "vellum keys generate: %s\n", err);
			return 1;
		}
		printf("keyring generated: %s\n", path);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "rotate") == 0) {
		if ((rc = keyring_rotate(path, &id, err)) != VL_OK) {
			fprintf(stderr, "vellum keys rotate: %s\n", err);
			return 1;
		}
		printf("key %u is now current; older keys stay for reading\n", id);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "list") == 0) {
		const struct keyring_entry *e;
		size_t n;

		if (keyring_load(&kr, path, err) != VL_OK) {
			fprintf(stderr, "vellum keys list: %s\n", err);
			return 1;
		}
		e = keyring_entries(kr, &n);
		printf("%-6s %-20s %-16s %s\n", "id", "created", "fingerprint", "state");
		for (size_t i = 0; i < n; i++) {
			char when[32];
			time_t t = (time_t)e[i].created;
			struct tm tm;

			gmtime_r(&t, &tm);
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
			printf("%-6u %-20s %-16s %s\n", e[i].id, when, e[i].fingerprint,
			       i + 1 == n ? "current" : "read-only");
		}
		keyring_free(kr);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "public") == 0) {
		uint8_t pk[MANIFEST_PK_LEN];
		char hex[2 * MANIFEST_PK_LEN + 1];

		if (keyring_load(&kr, path, err) != VL_OK) {
			fprintf(stderr, "vellum keys public: %s\n", err);
			return 1;
		}
		manifest_public_key(keyring_sign_seed(kr), pk);
		keyring_free(kr);
		hex_encode(hex, pk, sizeof(pk));
		printf("%s\n", hex); /* Ed25519: what export-verify --key takes */
		return 0;
	}
	fprintf(stderr, "usage: vellum keys generate|list|rotate|public\n");
	return 2;
}

static void
print_count(PGconn *conn, const char *label, const char *sql)
{
	PGresult *r = PQexec(conn, sql);

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		printf("%-22s %s\n", label, PQgetvalue(r, 0, 0));
	PQclear(r);
}

int
cmd_status(struct cli *c, int argc, char **argv)
{
	char err[VL_ERRLEN];
	struct db *db;

	(void)argc;
	(void)argv;
	if (db_connect(&c->cfg, &db, err) != VL_OK) {
		fprintf(stderr, "vellum status: %s\n", err);
		return 1;
	}
	PGconn *conn = db_conn(db);
	printf("%-22s %s\n", "data folder", c->cfg.data_dir);
	print_count(conn, "messages", "SELECT count(*) FROM messages");
	print_count(conn, "receipts", "SELECT count(*) FROM receipts");
	print_count(conn, "raw bytes", "SELECT coalesce(sum(raw_size), 0) FROM blobs");
	print_count(conn, "sealed bytes", "SELECT coalesce(sum(record_size), 0) FROM blobs");
	print_count(conn, "segments (sealed)",
		    "SELECT count(*) || ' (' || count(sealed_at) || ')' FROM segments");
	print_count(conn, "dictionaries", "SELECT count(*) FROM dictionaries");
	print_count(conn, "ledger entries", "SELECT coalesce(max(seq), 0) FROM ledger");
	print_count(conn, "index lag (messages)", INDEXER_LAG_SQL);
	db_close(db);
	return 0;
}

static volatile sig_atomic_t serve_stop;

static void
serve_on_signal(int sig)
{
	(void)sig;
	serve_stop = 1;
}

/* cmd_serve - run the archive: the database (the private cluster, started and stopped with
 * it), the migrations, the store writer, the SMTP/LMTP listeners and the HTTP API. The API
 * starts after the receiver (so a port clash stops serve before it takes mail) and stops
 * before the receiver is freed. */
int
cmd_serve(struct cli *c, int argc, char **argv)
{
	char err[VL_ERRLEN];
	struct db *db;
	struct store *st;
	struct receiver *rcv = NULL;
	struct indexer *ix = NULL;
	struct upkeep *up = NULL;
	struct api *api = NULL;
	/* Owned here, for the whole run: the receiver and its writer fill it, the API reads it. */
	struct metrics *metrics = xcalloc(1, sizeof(*metrics));
	struct sigaction sa = {.sa_handler = serve_on_signal};
	int status = 0;

	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	if (db_connect(&c->cfg, &db, err) != VL_OK) {
		fprintf(stderr, "vellum serve: %s\n", err);
		free(metrics);
		return 1;
	}
	enum vl_err rc = store_open(&st, &c->cfg, db_conn(db), 0, err);

	/* Without its key the store cannot seal a record, but serve still runs: mail gets 451
	 * 4.3.0 (the sending MTA retries) and the writer tries again for each batch. */
	if (rc == VL_ERR_NOKEY) {
		log_errx("%s; SMTP/LMTP answer 451 4.3.0 until it is back", err);
		rc = VL_OK;
	}
	if (rc != VL_OK || receiver_new(&rcv, &c->cfg, st, db_conn(db), metrics, err) != VL_OK ||
	    api_start(&api, &c->cfg, metrics, err) != VL_OK) {
		fprintf(stderr, "vellum serve: %s\n", err);
		receiver_free(rcv);
		store_close(st);
		db_close(db);
		free(metrics);
		return 1;
	}
	/* Full-text indexing runs behind the acknowledgement, from the durable queue
	 * (messages.indexed_at IS NULL); its lag shows in `vellum status`. */
	if (indexer_start(&ix, &c->cfg, err) != VL_OK)
		log_warnx("indexer not started: %s (vellum index drains the queue)", err);
	/* Legal holds over new arrivals and their retain-until, behind the indexer. */
	if (upkeep_start(&up, &c->cfg, "serve", err) != VL_OK)
		log_warnx("retention upkeep not started: %s (vellum index does it too)", err);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (log_level_get() < LOG_LEVEL_INFO)
		log_init("vellum", LOG_LEVEL_INFO);
	log_info("serving data=%s database=%s (stop with SIGTERM or Ctrl-C)", c->cfg.data_dir,
		 c->cfg.database_url[0] ? "external" : "private cluster");
	if (receiver_run(rcv, &serve_stop, err) != VL_OK) {
		fprintf(stderr, "vellum serve: %s\n", err);
		status = 1;
	}
	log_info("stopping");
	api_stop(api);
	receiver_free(rcv); /* stops the writer thread, which owns the store until then */
	upkeep_stop(up);
	indexer_stop(ix);
	store_close(st);
	db_close(db);
	free(metrics);
	return status;
}
