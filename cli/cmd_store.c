/* cmd_store - `vellum store FILE...` (archive raw messages, group commit) and `vellum
 * bench-seal FILE...` (the in-process ceiling of the same work with no I/O). */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "db.h"
#include "fsutil.h"
#include "keyring.h"
#include "record.h"
#include "store.h"
#include "vault.h"

#define STORE_BATCH_BYTES (64u << 20) /* a batch also ends at this many raw bytes */

struct pending {
	const char *file;
	int fd;
	size_t slot;
};

/* store_flush - commit the batch and print one line per file. */
static int
store_flush(struct store *st, struct pending *p, size_t *np)
{
	const struct store_result *res;
	char err[VL_ERRLEN] = "", hex[65];
	size_t n;
	int failed = 0;

	if (store_commit(st, &res, &n, err) != VL_OK) {
		for (size_t i = 0; i < *np; i++)
			fprintf(stderr, "vellum store: %s: not stored: %s\n", p[i].file, err);
		failed = (int)*np;
	} else {
		for (size_t i = 0; i < *np; i++) {
			hex_encode(hex, res[p[i].slot].sha256, 32);
			printf("%llu %s %s\n", (unsigned long long)res[p[i].slot].message_id, hex,
			       p[i].file);
		}
		fflush(stdout);
	}
	for (size_t i = 0; i < *np; i++)
		close(p[i].fd);
	*np = 0;
	return failed;
}

/* store_train_from_files - train the dictionary on the first files when the archive has none
 * and enough messages are at hand. */
static void
store_train_from_files(struct store *st, const struct vl_config *cfg, char **files, int n)
{
	size_t want = (size_t)cfg->dict_train_messages, got = 0;
	struct store_source *src;
	char err[VL_ERRLEN];

	if (want == 0 || (size_t)n < want || vault_newest_dict(store_vault(st)) != 0)
		return;
	src = xcalloc(want, sizeof(*src));
	for (int i = 0; i < n && got < want; i++) {
		struct stat sb;
		int fd = open(files[i], O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			continue;
		if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
			close(fd);
			continue;
		}
		src[got].fd = fd;
		src[got].len = (uint64_t)sb.st_size;
		got++;
	}
	if (store_train_dictionary(st, src, got, err) != VL_OK)
		fprintf(stderr, "vellum store: dictionary: %s (storing without one)\n", err);
	for (size_t i = 0; i < got; i++)
		close(src[i].fd);
	free(src);
}

int
cmd_store(struct cli *c, int argc, char **argv)
{
	char err[VL_ERRLEN] = "";
	struct db *db = NULL;
	struct store *st = NULL;
	struct pending *p;
	size_t np = 0, max = (size_t)c->cfg.batch_max_messages;
	uint64_t bytes = 0;
	int wait = 0, first = 1, failed = 0;

	if (argc > 1 && strcmp(argv[1], "--wait") == 0) {
		wait = 1;
		first = 2;
	}
	if (first >= argc) {
		fprintf(stderr, "usage: vellum store [--wait] FILE...\n");
		return 2;
	}
	if (db_connect(&c->cfg, &db, err) != VL_OK ||
	    store_open(&st, &c->cfg, db_conn(db), wait, err) != VL_OK) {
		fprintf(stderr, "vellum store: %s\n", err);
		db_close(db);
		return 1;
	}
	store_train_from_files(st, &c->cfg, argv + first, argc - first);
	p = xcalloc(max, sizeof(*p));
	for (int i = first; i < argc; i++) {
		struct store_receipt r = {.source = "store", .origin = argv[i]};
		struct store_source src = {0};
		struct stat sb;
		int fd = open(argv[i], O_RDONLY | O_CLOEXEC);

		if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
			fprintf(stderr, "vellum store: %s: %s\n", argv[i],
				fd < 0 ? strerror(errno) : "not a regular file");
			if (fd >= 0)
				close(fd);
			failed++;
			continue;
		}
		if ((uint64_t)sb.st_size > (uint64_t)c->cfg.message_max_mb << 20) {
			fprintf(stderr, "vellum store: %s: %lld bytes exceeds message_max_mb\n",
				argv[i], (long long)sb.st_size);
			close(fd);
			failed++;
			continue;
		}
		src.fd = fd;
		src.len = (uint64_t)sb.st_size;
		if (store_add(st, &src, &r, &p[np].slot, err) != VL_OK) {
			fprintf(stderr, "vellum store: %s: %s\n", argv[i], err);
			close(fd);
			failed++;
			continue;
		}
		p[np].file = argv[i];
		p[np].fd = fd;
		np++;
		bytes += src.len;
		if (np == max || bytes >= STORE_BATCH_BYTES) {
			failed += store_flush(st, p, &np);
			bytes = 0;
		}
	}
	failed += store_flush(st, p, &np);
	free(p);
	store_close(st);
	db_close(db);
	return failed ? 1 : 0;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static enum vl_err
discard_fn(void *arg, const uint8_t *p, size_t n)
{
	(void)p;
	*(uint64_t *)arg += n;
	return VL_OK;
}

/* cmd_bench_seal - what `vellum store` costs without durability or the database: the same
 * keyed BLAKE2b, SHA-256, zstd (with the archive's dictionary when it has one) and AEAD, on
 * one thread, over messages already in memory. */
int
cmd_bench_seal(struct cli *c, int argc, char **argv)
{
	char err[VL_ERRLEN];
	struct db *db = NULL;
	struct vault *v = NULL;
	struct buf *msgs;
	struct record_sealer *s = record_sealer_new();
	uint64_t raw = 0, sealed = 0;
	double t0, t;
	int n = argc - 1;

	if (n < 1) {
		fprintf(stderr, "usage: vellum bench-seal FILE...\n");
		return 2;
	}
	if (db_connect(&c->cfg, &db, err) != VL_OK || vault_open(&v, &c->cfg, db_conn(db), err) !=
								      VL_OK) {
		fprintf(stderr, "vellum bench-seal: %s\n", err);
		db_close(db);
		return 1;
	}
	msgs = xcalloc((size_t)n, sizeof(*msgs));
	for (int i = 0; i < n; i++)
		if (fs_read_all(&msgs[i], argv[i + 1], (size_t)c->cfg.message_max_mb << 20, err) !=
		    VL_OK)
			fprintf(stderr, "vellum bench-seal: %s\n", err);
	const struct keyring *kr = vault_keyring(v);
	uint32_t dict = vault_newest_dict(v);
	struct record_params p = {.kind = RECORD_MESSAGE,
				  .key_id = keyring_current_id(kr),
				  .key = keyring_seal_key(kr, keyring_current_id(kr)),
				  .zlevel = (int)c->cfg.zstd_level,
				  .dict_id = dict,
				  .cdict = dict ? vault_cdict(v, dict) : NULL};
	t0 = now_s();
	for (int i = 0; i < n; i++) {
		uint8_t addr[32], sha[32];
		struct record_info info;

		crypto_generichash(addr, 32, msgs[i].data, msgs[i].len, keyring_address_key(kr), 32);
		EVP_Digest(msgs[i].data, msgs[i].len, sha, NULL, EVP_sha256(), NULL);
		if (record_begin(s, &p, discard_fn, &sealed) != VL_OK ||
		    record_update(s, msgs[i].data, msgs[i].len) != VL_OK ||
		    record_finish(s, addr, &info) != VL_OK) {
			fprintf(stderr, "vellum bench-seal: seal failed\n");
			return 1;
		}
		raw += msgs[i].len;
	}
	t = now_s() - t0;
	printf("ceiling: %d msgs, %.0f msgs/s, %.1f MB/s, %.1f us/msg, sealed/raw %.1f%% (dict %u)\n",
	       n, n / t, raw / t / 1e6, t / n * 1e6, 100.0 * (double)sealed / (double)raw, dict);
	for (int i = 0; i < n; i++)
		buf_free(&msgs[i]);
	free(msgs);
	record_sealer_free(s);
	vault_free(v);
	db_close(db);
	return 0;
}
