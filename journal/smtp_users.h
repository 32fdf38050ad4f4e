/* smtp_users - who may AUTH to the SMTP/LMTP listeners: the credentials file DATA/smtp-users.
 * Owns: its format (a line "name:sha256-hex:created-unix-seconds" a user, '#' comments), reading
 * it again whenever it changes on disk, checking a presented name and secret, and the edits of
 * `vellum smtp-user` (written whole and renamed into place; the editor holds the lock file).
 * Not: the SASL exchange (smtp_session), who must authenticate (receiver), audit rows (cli).
 * Secrets are generated (secret.h: "vsm_" + 32 random bytes), never chosen, so one SHA-256 is
 * their stored form and a check never blocks the event loop. A file rather than a table: the
 * event loop reads it without a database round trip, and AUTH keeps working while PostgreSQL
 * is away (the messages then get 4xx, as any other). */
#ifndef VL_SMTP_USERS_H
#define VL_SMTP_USERS_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "secret.h"
#include "vl_err.h"

#define SMTP_SECRET_PREFIX "vsm_"
#define SMTP_SECRET_LEN (sizeof(SMTP_SECRET_PREFIX) - 1 + SECRET_B64_LEN)
#define SMTP_USERS_MAX 10000
#define SMTP_USERS_LINE_MAX 256
#define SMTP_USERS_FILE "smtp-users" /* under the data folder */

struct smtp_user {
	char name[SECRET_NAME_MAX + 1];
	uint8_t hash[SECRET_HASH_LEN];
	int64_t created; /* unix seconds */
};

struct smtp_users {
	struct smtp_user *v;
	size_t n;
	/* what the file was when read, to notice a change (smtp_users_refresh) */
	int seen;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

/* smtp_users_load - read path into u (replacing what it held); a missing file is no users.
 * VL_ERR_PARSE names the line at fault; VL_ERR_IO. On error u holds no users. */
enum vl_err smtp_users_load(struct smtp_users *u, const char *path, char *err) VL_MUST_CHECK;

/* smtp_users_refresh - load path again if it changed since u was read (inode, size, mtime).
 * A file that no longer reads leaves no users (fail closed): VL_ERR_* with err, else VL_OK. */
enum vl_err smtp_users_refresh(struct smtp_users *u, const char *path, char *err) VL_MUST_CHECK;

/* smtp_users_check - 1 when name is a user and secret its secret, else 0. The presented secret
 * is hashed whether or not the name is known, and hashes compare in constant time. */
int smtp_users_check(const struct smtp_users *u, const char *name, const char *secret);

/* smtp_users_add - a new user name (secret_name_valid), its secret written to secret (shown
 * once; only the hash is kept). VL_ERR_PARSE for a bad name, VL_ERR_EXISTS, VL_ERR_LIMIT. */
enum vl_err smtp_users_add(struct smtp_users *u, const char *name, int64_t now,
			   char secret[SMTP_SECRET_LEN + 1], char *err) VL_MUST_CHECK;

/* smtp_users_remove - drop name. VL_ERR_NOTFOUND. */
enum vl_err smtp_users_remove(struct smtp_users *u, const char *name, char *err) VL_MUST_CHECK;

/* smtp_users_save - write u to path durably (mode 0600, renamed over the old file). */
enum vl_err smtp_users_save(const struct smtp_users *u, const char *path, char *err) VL_MUST_CHECK;

/* smtp_users_free - release u's users (u itself is the caller's). */
void smtp_users_free(struct smtp_users *u);

#endif
