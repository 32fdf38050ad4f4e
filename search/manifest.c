/* manifest - BagIt-style manifests, their Ed25519 signature, and offline verification. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "manifest.h"

#define TAG_FILE_MAX (1u << 20) /* bytes of a tag file read whole */
#define HASH_CHUNK 65536

void
manifest_line(struct buf *out, const uint8_t sha256[32], const char *path)
{
	char hex[65];

	hex_encode(hex, sha256, 32);
	buf_appendf(out, "%s  %s\n", hex, path);
}

void
manifest_public_key(const uint8_t seed[32], uint8_t pk[32])
{
	unsigned char sk[crypto_sign_SECRETKEYBYTES];

	crypto_sign_seed_keypair(pk, sk, seed);
	sodium_memzero(sk, sizeof(sk));
}

void
manifest_sign(const uint8_t seed[32], const void *msg, size_t n, uint8_t sig[64], uint8_t pk[32])
{
	unsigned char sk[crypto_sign_SECRETKEYBYTES], pub[crypto_sign_PUBLICKEYBYTES];

	crypto_sign_seed_keypair(pub, sk, seed);
	crypto_sign_detached(sig, NULL, msg, n, sk);
	sodium_memzero(sk, sizeof(sk));
	if (pk)
		memcpy(pk, pub, sizeof(pub));
}

enum vl_err
manifest_file_sha256(const char *path, uint8_t out[32], char *err)
{
	crypto_hash_sha256_state st;
	uint8_t *chunk;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;

	if (fd < 0)
		return vl_err_set(err, VL_ERR_IO, "%s: %s", path, strerror(errno));
	chunk = xmalloc(HASH_CHUNK);
	crypto_hash_sha256_init(&st);
	while ((n = read(fd, chunk, HASH_CHUNK)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(chunk);
			close(fd);
			return vl_err_set(err, VL_ERR_IO, "%s: %s", path, strerror(errno));
		}
		crypto_hash_sha256_update(&st, chunk, (size_t)n);
	}
	free(chunk);
	close(fd);
	crypto_hash_sha256_final(&st, out);
	return VL_OK;
}

/* path_safe - relative, no "..", no empty segment, no newline or backslash. */
static int
path_safe(const char *p)
{
	if (*p == '\0' || *p == '/' || strpbrk(p, "\\\n\r") != NULL)
		return 0;
	for (const char *s = p;;) {
		size_t n = strcspn(s, "/");

		if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
			return 0;
		if (s[n] == '\0')
			return 1;
		s += n + 1;
	}
}

/* check_line - one "<hex>  <path>" line against the file under dir; 0 when it matches. */
static int
check_line(const char *dir, const char *line, FILE *report, char *path_out, size_t path_max)
{
	uint8_t want[32], got[32];
	char hex[65], path[4096], err[VL_ERRLEN];

	if (strlen(line) < 67 || line[64] != ' ' || line[65] != ' ' ||
	    (memcpy(hex, line, 64), hex[64] = '\0', hex_decode(want, 32, hex) != 0) ||
	    !path_safe(line + 66)) {
		fprintf(report, "malformed manifest line: %.100s\n", line);
		return 1;
	}
	snprintf(path_out, path_max, "%s", line + 66);
	snprintf(path, sizeof(path), "%s/%s", dir, line + 66);
	if (manifest_file_sha256(path, got, err) != VL_OK) {
		fprintf(report, "%s: cannot be read: %s\n", line + 66, err);
		return 1;
	}
	if (sodium_memcmp(want, got, 32) != 0) {
		fprintf(report, "%s: SHA-256 differs from the manifest\n", line + 66);
		return 1;
	}
	return 0;
}

/* check_manifest - every line of dir/name; the paths go into seen (when not NULL). */
static enum vl_err
check_manifest(const char *dir, const char *name, FILE *report, GHashTable *seen,
	       struct manifest_check *out, char *err)
{
	char path[4096], rel[4096];
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "re")) == NULL)
		return vl_err_set(err, VL_ERR_CORRUPT, "%s: %s", name, strerror(errno));
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		rel[0] = '\0';
		out->bad += (uint64_t)check_line(dir, line, report, rel, sizeof(rel));
		if (seen && *rel) {
			if (!g_hash_table_add(seen, g_strdup(rel))) {
				fprintf(report, "%s: listed twice\n", rel);
				out->bad++;
			}
			out->files++;
		}
	}
	free(line);
	fclose(f);
	return VL_OK;
}

/* walk_unlisted - every regular file under dir/rel not in seen is a problem (as is anything
 * that is neither a file nor a folder). */
static void
walk_unlisted(const char *dir, const char *rel, GHashTable *seen, FILE *report,
	      struct manifest_check *out, int depth)
{
	char path[4096], sub[4096];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if (depth > 16 || (d = opendir(path)) == NULL) {
		fprintf(report, "%s: cannot be listed\n", rel);
		out->bad++;
		return;
	}
	while ((e = readdir(d)) != NULL) {
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", rel, e->d_name);
		snprintf(path, sizeof(path), "%s/%s", dir, sub);
		if (lstat(path, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
			fprintf(report, "%s: not a regular file\n", sub);
			out->bad++;
		} else if (S_ISDIR(st.st_mode)) {
			walk_unlisted(dir, sub, seen, report, out, depth + 1);
		} else if (!g_hash_table_contains(seen, sub)) {
			fprintf(report, "%s: not in the manifest\n", sub);
			out->bad++;
		}
	}
	closedir(d);
}

/* read_tag - dir/name whole (bounded) into b, NUL-terminated. */
static enum vl_err
read_tag(const char *dir, const char *name, struct buf *b, char *err)
{
	char path[4096], detail[VL_ERRLEN];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (fs_read_all(b, path, TAG_FILE_MAX, detail) != VL_OK)
		return vl_err_set(err, VL_ERR_CORRUPT, "%s: %s", name, detail);
	return VL_OK;
}

/* check_signature - export.sig over the tag manifest, with pin or export.json's key. */
static enum vl_err
check_signature(const char *dir, const uint8_t *pin, FILE *report, struct manifest_check *out,
		char *err)
{
	struct buf sig = {0}, tag = {0}, info = {0};
	uint8_t s[64], jpk[32];
	json_t *j = NULL;
	const char *pkhex;
	enum vl_err rc;

	if ((rc = read_tag(dir, MANIFEST_SIG_FILE, &sig, err)) != VL_OK ||
	    (rc = read_tag(dir, MANIFEST_TAG_FILE, &tag, err)) != VL_OK ||
	    (rc = read_tag(dir, MANIFEST_INFO_FILE, &info, err)) != VL_OK)
		goto out;
	j = json_loadb((const char *)info.data, info.len, 0, NULL);
	pkhex = json_string_value(json_object_get(j, "public_key"));
	if (sig.len < 128 || (sig.data[128] = '\0', hex_decode(s, 64, (char *)sig.data) != 0) ||
	    pkhex == NULL || hex_decode(jpk, 32, pkhex) != 0) {
		rc = vl_err_set(err, VL_ERR_CORRUPT, "%s or %s's public_key is malformed",
				MANIFEST_SIG_FILE, MANIFEST_INFO_FILE);
		goto out;
	}
	memcpy(out->pk, pin ? pin : jpk, 32);
	out->pinned = pin != NULL;
	if (pin && sodium_memcmp(pin, jpk, 32) != 0) {
		fprintf(report, "%s names a different public key than the one given\n",
			MANIFEST_INFO_FILE);
		out->bad++;
	}
	if (crypto_sign_verify_detached(s, tag.data, tag.len, out->pk) != 0) {
		fprintf(report, "%s: the signature does not verify\n", MANIFEST_SIG_FILE);
		out->bad++;
	}
out:
	json_decref(j);
	buf_free(&sig);
	buf_free(&tag);
	buf_free(&info);
	return rc;
}

enum vl_err
manifest_verify_dir(const char *dir, const uint8_t *pin, FILE *report,
		    struct manifest_check *out, char *err)
{
	struct manifest_check tags = {0};
	GHashTable *seen;
	enum vl_err rc;

	memset(out, 0, sizeof(*out));
	if ((rc = check_signature(dir, pin, report, out, err)) != VL_OK)
		return rc;
	if ((rc = check_manifest(dir, MANIFEST_TAG_FILE, report, NULL, &tags, err)) != VL_OK)
		return rc;
	out->bad += tags.bad;
	seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	rc = check_manifest(dir, MANIFEST_FILE, report, seen, out, err);
	if (rc == VL_OK)
		walk_unlisted(dir, "data", seen, report, out, 0);
	g_hash_table_destroy(seen);
	return rc;
}
