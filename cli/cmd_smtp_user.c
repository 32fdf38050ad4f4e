/* cmd_smtp_user - `vellum smtp-user add|list|remove`: who may AUTH to the SMTP/LMTP listeners.
 *
 *	vellum smtp-user add NAME
 *	vellum smtp-user list
 *	vellum smtp-user remove NAME
 *
 * add prints the user's secret once, alone on its last line; only its hash is kept, in
 * DATA/smtp-users, which `vellum serve` reads again when it changes (no restart). Every change
 * is an audit row with the CLI user as actor. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "cli.h"
#include "db.h"
#include "fsutil.h"
#include "smtp_users.h"

static int
smtp_user_usage(void)
{
	fprintf(stderr, "usage: vellum smtp-user add NAME\n"
			"       vellum smtp-user list\n"
			"       vellum smtp-user remove NAME\n");
	return 2;
}

static int
smtp_user_list(const struct smtp_users *u)
{
	printf("%-32s %s\n", "name", "created (UTC)");
	for (size_t i = 0; i < u->n; i++) {
		time_t t = (time_t)u->v[i].created;
		struct tm tm;
		char when[32];

		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		printf("%-32s %s\n", u->v[i].name, when);
	}
	return 0;
}

/* smtp_user_edit - add or remove name under the lock, then its audit row. An added user whose
 * audit row fails is taken out again: a credential no trail records is not handed out. */
static int
smtp_user_edit(struct cli *c, struct smtp_users *u, const char *path, int add, const char *name)
{
	char err[VL_ERRLEN], secret[SMTP_SECRET_LEN + 1], undo[VL_ERRLEN];
	const char *what = add ? "add" : "remove";
	struct db *db;
	enum vl_err rc;

	rc = add ? smtp_users_add(u, name, (int64_t)time(NULL), secret, err)
		 : smtp_users_remove(u, name, err);
	if (rc == VL_OK)
		rc = db_connect(&c->cfg, &db, err);
	if (rc != VL_OK) {
		fprintf(stderr, "vellum smtp-user %s: %s\n", what, err);
		return 1;
	}
	if ((rc = smtp_users_save(u, path, err)) == VL_OK)
		rc = audit_append(db_conn(db), c->actor, NULL, add ? "smtp_user.add" : "smtp_user.remove",
				  name, NULL, err);
	db_close(db);
	if (rc != VL_OK) {
		fprintf(stderr, "vellum smtp-user %s: %s\n", what, err);
		if (add && (smtp_users_remove(u, name, undo) != VL_OK ||
			    smtp_users_save(u, path, undo) != VL_OK))
			fprintf(stderr, "vellum smtp-user add: taking '%s' out again: %s\n", name, undo);
		sodium_memzero(secret, sizeof(secret));
		return 1;
	}
	if (add)
		printf("SMTP user %s added; its secret is shown only now:\n%s\n", name, secret);
	else
		printf("SMTP user %s removed\n", name);
	sodium_memzero(secret, sizeof(secret));
	return 0;
}

int
cmd_smtp_user(struct cli *c, int argc, char **argv)
{
	char path[CONFIG_PATH_MAX], lock[CONFIG_PATH_MAX], err[VL_ERRLEN];
	struct smtp_users u = {0};
	int status, lock_fd, list = argc == 2 && strcmp(argv[1], "list") == 0;

	if (!list && (argc != 3 || (strcmp(argv[1], "add") != 0 && strcmp(argv[1], "remove") != 0)))
		return smtp_user_usage();
	config_path(path, &c->cfg, SMTP_USERS_FILE);
	config_path(lock, &c->cfg, SMTP_USERS_FILE ".lock");
	if ((lock_fd = fs_lock_open(lock, 1)) < 0) {
		perror(lock);
		return 1;
	}
	if (smtp_users_load(&u, path, err) != VL_OK) {
		fprintf(stderr, "vellum smtp-user: %s\n", err);
		status = 1;
	} else if (list) {
		status = smtp_user_list(&u);
	} else {
		status = smtp_user_edit(c, &u, path, strcmp(argv[1], "add") == 0, argv[2]);
	}
	smtp_users_free(&u);
	close(lock_fd);
	return status;
}
