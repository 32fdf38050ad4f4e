/* import - bulk import of mbox files, Maildir folders and .eml files. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "import.h"
#include "ingest.h"
#include "log.h"

#define IMPORT_DEPTH_MAX 32
#define IMPORT_BATCH_BYTES (64u << 20)

/* One message to import: a range of a mapped file. */
struct item {
	const uint8_t *p;
	uint64_t len;
	char *origin; /* path, or path#n for the n-th message of an mbox */
};

struct import {
	struct store *st;
	const struct vl_config *cfg;
	struct item *items;
	size_t n, cap;
	struct {
		void *p;
		size_t len;
	} *maps;
	size_t nmaps;
	struct import_counts *counts;
	/* The jobs staged since the last commit: a journal report's decoded original (and
	 * decrypted copy) live in their job until the commit has written them. */
	struct ingest_job *staged;
	size_t nstaged, staged_cap;
};

static void
add_item(struct import *im, const uint8_t *p, uint64_t len, char *origin)
{
	if (im->n == im->cap) {
		im->cap = im->cap ? im->cap * 2 : 1024;
		im->items = xrealloc(im->items, im->cap * sizeof(*im->items));
	}
	im->items[im->n].p = p;
	im->items[im->n].len = len;
	im->items[im->n].origin = origin;
	im->n++;
}

static const uint8_t *
map_file(struct import *im, const char *path, uint64_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	void *p;

	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	*len = (uint64_t)st.st_size;
	if (st.st_size == 0) {
		close(fd);
		return (const uint8_t *)"";
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return NULL;
	im->maps = xrealloc(im->maps, (im->nmaps + 1) * sizeof(*im->maps));
	im->maps[im->nmaps].p = p;
	im->maps[im->nmaps++].len = (size_t)st.st_size;
	return p;
}

/* is_from_line - an mbox separator: "From " at the start of a line, after a blank line or at
 * the start of the file. */
static int
is_mbox(const uint8_t *p, uint64_t len)
{
	return len > 5 && memcmp(p, "From ", 5) == 0;
}

static void
split_mbox(struct import *im, const char *path, const uint8_t *p, uint64_t len)
{
	uint64_t start = 0, msgno = 0;

	while (start < len) {
		/* Skip the From line itself. */
		const uint8_t *nl = memchr(p + start, '\n', len - start);
		uint64_t body = nl ? (uint64_t)(nl - p) + 1 : len, end = body;

		/* The message ends where the next "\n\nFrom " (or "\r\n\r\nFrom ") begins; the
		 * blank line before it belongs to the mbox format, not to the message. */
		for (;;) {
			const uint8_t *q = memmem(p + end, len - end, "\nFrom ", 6);

			if (q == NULL) {
				end = len;
				break;
			}
			uint64_t at = (uint64_t)(q - p) + 1;
			if (at >= 2 && p[at - 2] == '\n') {
				end = at - 1;
				if (end >= 1 && p[end - 1] == '\r' && end >= 2 && p[end - 2] == '\n')
					end--;
				break;
			}
			if (at >= 3 && p[at - 2] == '\r' && p[at - 3] == '\n') {
				end = at - 2;
				break;
			}
			end = at;
		}
		add_item(im, p + body, end - body, xasprintf("%s#%llu", path, (unsigned long long)++msgno));
		/* Advance to the next From line. */
		const uint8_t *q = memmem(p + end, len - end, "From ", 5);
		start = q ? (uint64_t)(q - p) : len;
	}
}

static void
walk(struct import *im, const char *path, int depth)
{
	struct stat st;

	if (depth > IMPORT_DEPTH_MAX || lstat(path, &st) != 0) {
		log_warnx("import: %s: %s", path, depth > IMPORT_DEPTH_MAX ? "too deep" : strerror(errno));
		im->counts->failed++;
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		struct dirent **ents;
		int n = scandir(path, &ents, NULL, alphasort);

		for (int i = 0; i < n; i++) {
			const char *name = ents[i]->d_name;

			/* Maildir's tmp/ holds deliveries in progress; dot entries are not mail. */
			if (name[0] != '.' && strcmp(name, "tmp") != 0) {
				char *child = xasprintf("%s/%s", path, name);
				walk(im, child, depth + 1);
				free(child);
			}
			free(ents[i]);
		}
		free(ents);
		return;
	}
	if (!S_ISREG(st.st_mode))
		return;
	uint64_t len;
	const uint8_t *p = map_file(im, path, &len);
	if (p == NULL) {
		log_warnx("import: %s: %s", path, strerror(errno));
		im->counts->failed++;
		return;
	}
	if (is_mbox(p, len))
		split_mbox(im, path, p, len);
	else
		add_item(im, p, len, xstrdup(path));
}

/* import_keep - hold job until the next commit (its bytes may be staged in the store). */
static void
import_keep(struct import *im, const struct ingest_job *job)
{
	if (im->nstaged == im->staged_cap) {
		im->staged_cap = im->staged_cap ? 2 * im->staged_cap : 64;
		im->staged = xrealloc(im->staged, im->staged_cap * sizeof(*im->staged));
	}
	im->staged[im->nstaged++] = *job;
}

/* import_release_staged - the commit is done (or failed): nothing points at the jobs' bytes. */
static void
import_release_staged(struct import *im)
{
	for (size_t i = 0; i < im->nstaged; i++)
		ingest_job_release(&im->staged[i]);
	im->nstaged = 0;
}

static enum vl_err
import_commit(struct import *im, char *err)
{
	const struct store_result *res;
	size_t n;
	enum vl_err rc = store_commit(im->st, &res, &n, err);

	import_release_staged(im);
	if (rc != VL_OK)
		return rc;
	for (size_t i = 0; i < n; i++)
		im->counts->new_messages += (uint64_t)res[i].is_new;
	return VL_OK;
}

enum vl_err
import_paths(struct store *st, const struct vl_config *cfg, char **paths, int npaths,
	     FILE *progress, struct import_counts *counts, char *err)
{
	struct import im = {.st = st, .cfg = cfg, .counts = counts};
	uint64_t batch_bytes = 0;
	enum vl_err rc = VL_OK;

	memset(counts, 0, sizeof(*counts));
	for (int i = 0; i < npaths; i++)
		walk(&im, paths[i], 0);
	/* Train the dictionary on the first messages when the archive has none. */
	if (vault_newest_dict(store_vault(st)) == 0 && cfg->dict_train_messages > 0 &&
	    im.n >= (size_t)cfg->dict_train_messages) {
		size_t k = (size_t)cfg->dict_train_messages;
		struct store_source *src = xcalloc(k, sizeof(*src));
		char detail[VL_ERRLEN];

		for (size_t j = 0; j < k; j++) {
			src[j].mem = im.items[j].p;
			src[j].len = im.items[j].len;
		}
		if (store_train_dictionary(st, src, k, detail) != VL_OK)
			log_warnx("import: dictionary: %s", detail);
		free(src);
	}
	for (size_t i = 0; i < im.n && rc == VL_OK; i++) {
		struct ingest_job job = {
			.src = {.mem = im.items[i].p, .len = im.items[i].len},
			.source = "import",
			.listener = im.items[i].origin,
			.received_us = store_now_us(),
		};
		char detail[VL_ERRLEN];

		if (im.items[i].len > (uint64_t)cfg->message_max_mb << 20 ||
		    ingest_unwrap_and_add(st, &job, detail) != VL_OK) {
			fprintf(stderr, "vellum import: %s: not imported: %s\n", im.items[i].origin,
				im.items[i].len > (uint64_t)cfg->message_max_mb << 20
					? "larger than message_max_mb" : detail);
			counts->failed++;
			import_keep(&im, &job); /* a part may be staged before the failure */
			continue;
		}
		import_keep(&im, &job);
		counts->messages++;
		counts->bytes += im.items[i].len;
		batch_bytes += im.items[i].len;
		if (store_pending(st) >= (size_t)cfg->batch_max_messages ||
		    batch_bytes >= IMPORT_BATCH_BYTES) {
			rc = import_commit(&im, err);
			batch_bytes = 0;
			if (progress)
				fprintf(progress, "\rimported %llu of %zu messages (%llu new)",
					(unsigned long long)counts->messages, im.n,
					(unsigned long long)counts->new_messages);
		}
	}
	if (rc == VL_OK && store_pending(st))
		rc = import_commit(&im, err);
	import_release_staged(&im);
	free(im.staged);
	if (progress)
		fprintf(progress, "\rimported %llu of %zu messages (%llu new)\n",
			(unsigned long long)counts->messages, im.n,
			(unsigned long long)counts->new_messages);
	for (size_t i = 0; i < im.n; i++)
		free(im.items[i].origin);
	free(im.items);
	for (size_t i = 0; i < im.nmaps; i++)
		munmap(im.maps[i].p, im.maps[i].len);
	free(im.maps);
	return rc;
}
