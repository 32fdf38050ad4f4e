/* smtp_users - the SMTP AUTH credentials file: reading, checking, editing. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "fsutil.h"
#include "smtp_users.h"

#define SMTP_USERS_FILE_MAX ((size_t)SMTP_USERS_MAX * SMTP_USERS_LINE_MAX)
#define SMTP_USERS_HEADER                                                                          \
	"# Vellum SMTP AUTH users, edited by `vellum smtp-user`.\n"                                \
	"# name:sha256-of-secret-hex:created-unix-seconds\n"

void
smtp_users_free(struct smtp_users *u)
{
	if (u->v)
		sodium_memzero(u->v, u->n * sizeof(*u->v));
	free(u->v);
	u->v = NULL;
	u->n = 0;
}

static const struct smtp_user *
smtp_users_find(const struct smtp_users *u, const char *name)
{
	for (size_t i = 0; i < u->n; i++)
		if (strcmp(u->v[i].name, name) == 0)
			return &u->v[i];
	return NULL;
}

/* parse_line - "name:hex:created" into *out; -1 when it is not one. */
static int
parse_line(char *line, struct smtp_user *out)
{
	char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL, *end;
	long long created;

	if (c2 == NULL)
		return -1;
	*c1 = *c2 = 0;
	if (!secret_name_valid(line) || strlen(c1 + 1) != 2 * SECRET_HASH_LEN ||
	    hex_decode(out->hash, SECRET_HASH_LEN, c1 + 1) != 0)
		return -1;
	errno = 0;
	created = strtoll(c2 + 1, &end, 10);
	if (errno || end == c2 + 1 || *end || created < 0)
		return -1;
	snprintf(out->name, sizeof(out->name), "%s", line);
	out->created = created;
	return 0;
}

static enum vl_err
parse_text(struct smtp_users *u, char *text, const char *path, char *err)
{
	size_t lineno = 0;

	for (char *line = text, *next; line && *line; line = next) {
		struct smtp_user one;

		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		lineno++;
		if (*line == '#' || *line == 0)
			continue;
		if (strlen(line) >= SMTP_USERS_LINE_MAX || parse_line(line, &one) != 0)
			return vl_err_set(err, VL_ERR_PARSE, "%s: line %zu is not name:sha256:created",
					  path, lineno);
		if (smtp_users_find(u, one.name))
			return vl_err_set(err, VL_ERR_PARSE, "%s: line %zu: user '%s' again", path,
					  lineno, one.name);
		if (u->n == SMTP_USERS_MAX)
			return vl_err_set(err, VL_ERR_LIMIT, "%s: more than %d users", path,
					  SMTP_USERS_MAX);
		u->v = xrealloc(u->v, (u->n + 1) * sizeof(*u->v));
		u->v[u->n++] = one;
	}
	return VL_OK;
}

/* note_identity - remember what path is now (or that it is missing), for refresh. */
static void
note_identity(struct smtp_users *u, const struct stat *st)
{
	u->seen = 1;
	u->dev = st ? st->st_dev : 0;
	u->ino = st ? st->st_ino : 0;
	u->size = st ? st->st_size : -1;
	u->mtime = st ? st->st_mtim : (struct timespec){0};
}

enum vl_err
smtp_users_load(struct smtp_users *u, const char *path, char *err)
{
	struct buf text = {0};
	struct stat st;
	enum vl_err rc;

	smtp_users_free(u);
	if (stat(path, &st) != 0) {
		if (errno != ENOENT)
			return vl_err_set(err, VL_ERR_IO, "%s: %s", path, strerror(errno));
		note_identity(u, NULL);
		return VL_OK;
	}
	if ((rc = fs_read_all(&text, path, SMTP_USERS_FILE_MAX, err)) != VL_OK)
		return rc;
	buf_append(&text, "", 1);
	rc = parse_text(u, (char *)text.data, path, err);
	sodium_memzero(text.data, text.len);
	buf_free(&text);
	if (rc != VL_OK) {
		smtp_users_free(u);
		return rc;
	}
	note_identity(u, &st);
	return VL_OK;
}

enum vl_err
smtp_users_refresh(struct smtp_users *u, const char *path, char *err)
{
	struct stat st;
	int exists = stat(path, &st) == 0;

	if (u->seen && exists && st.st_dev == u->dev && st.st_ino == u->ino &&
	    st.st_size == u->size && st.st_mtim.tv_sec == u->mtime.tv_sec &&
	    st.st_mtim.tv_nsec == u->mtime.tv_nsec)
		return VL_OK;
	if (u->seen && !exists && errno == ENOENT && u->size == -1)
		return VL_OK;
	return smtp_users_load(u, path, err);
}

int
smtp_users_check(const struct smtp_users *u, const char *name, const char *secret)
{
	const struct smtp_user *one = smtp_users_find(u, name);
	uint8_t hash[SECRET_HASH_LEN];
	int ok;

	/* Hash first, whatever the name: how long a refusal takes tells nothing. */
	if (secret_hash(SMTP_SECRET_PREFIX, secret, hash) != 0)
		return 0;
	ok = one != NULL && sodium_memcmp(hash, one->hash, SECRET_HASH_LEN) == 0;
	sodium_memzero(hash, sizeof(hash));
	return ok;
}

enum vl_err
smtp_users_add(struct smtp_users *u, const char *name, int64_t now,
	       char secret[SMTP_SECRET_LEN + 1], char *err)
{
	struct smtp_user one = {.created = now};

	if (!secret_name_valid(name))
		return vl_err_set(err, VL_ERR_PARSE,
				  "a user name is 1 to %d characters of A-Z a-z 0-9 . _ -",
				  SECRET_NAME_MAX);
	if (smtp_users_find(u, name))
		return vl_err_set(err, VL_ERR_EXISTS, "user '%s' exists", name);
	if (u->n == SMTP_USERS_MAX)
		return vl_err_set(err, VL_ERR_LIMIT, "at most %d users", SMTP_USERS_MAX);
	snprintf(one.name, sizeof(one.name), "%s", name);
	secret_generate(SMTP_SECRET_PREFIX, secret, one.hash);
	u->v = xrealloc(u->v, (u->n + 1) * sizeof(*u->v));
	u->v[u->n++] = one;
	return VL_OK;
}

enum vl_err
smtp_users_remove(struct smtp_users *u, const char *name, char *err)
{
	const struct smtp_user *one = smtp_users_find(u, name);

	if (one == NULL)
		return vl_err_set(err, VL_ERR_NOTFOUND, "no user '%s'", name);
	size_t i = (size_t)(one - u->v);
	memmove(&u->v[i], &u->v[i + 1], (u->n - i - 1) * sizeof(*u->v));
	u->n--;
	return VL_OK;
}

enum vl_err
smtp_users_save(const struct smtp_users *u, const char *path, char *err)
{
	struct buf text = {0};
	char hex[2 * SECRET_HASH_LEN + 1];
	enum vl_err rc;

	buf_append_str(&text, SMTP_USERS_HEADER);
	for (size_t i = 0; i < u->n; i++) {
		hex_encode(hex, u->v[i].hash, SECRET_HASH_LEN);
		buf_appendf(&text, "%s:%s:%lld\n", u->v[i].name, hex, (long long)u->v[i].created);
	}
	rc = fs_write_atomic(path, text.data, text.len, 0600, err);
	buf_free(&text);
	return rc;
}
