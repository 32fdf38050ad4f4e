/* cmd_token - `vellum token create|list|revoke`: the API's bearer tokens.
 *
 *	vellum token create --name N --role R [--expires D]
 *	vellum token list
 *	vellum token revoke NAME
 *
 * create prints the token once, alone on its last line; only its hash is stored. Every
 * change is an audit row with the CLI user as actor. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "cli.h"
#include "db.h"
#include "token.h"

static int
token_usage(void)
{
	fprintf(stderr, "usage: vellum token create --name N"
			" --role admin|officer|legal|auditor|ingest|reviewer"
			" [--expires Nd|Nh|Nm|YYYY-MM-DD]\n"
			"       vellum token list\n"
			"       vellum token revoke NAME\n");
	return 2;
}

static int
token_cmd_create(struct cli *c, PGconn *conn, int argc, char **argv)
{
	const char *name = NULL, *role = NULL, *expires = NULL;
	char text[TOKEN_TEXT_LEN + 1], err[VL_ERRLEN], details[256];
	int r;

	for (int i = 2; i < argc; i++) {
		if (i + 1 < argc && strcmp(argv[i], "--name") == 0)
			name = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--role") == 0)
			role = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--expires") == 0)
			expires = argv[++i];
		else
			return token_usage();
	}
	if (name == NULL || role == NULL)
		return token_usage();
	if ((r = role_parse(role)) < 0) {
		fprintf(stderr, "vellum token create: unknown role '%s'\n", role);
		return 2;
	}
	if (token_create(conn, name, (enum role)r, expires, c->actor, text, err) != VL_OK) {
		fprintf(stderr, "vellum token create: %s\n", err);
		return 1;
	}
	snprintf(details, sizeof(details), "{\"role\": \"%s\", \"expires\": \"%s\"}", role,
		 expires ? expires : "never");
	if (audit_append(conn, c->actor, NULL, "token.create", name, details, err) != VL_OK) {
		/* The token exists but its creation is not on the trail: do not hand it out. */
		fprintf(stderr, "vellum token create: %s; revoking the new token\n", err);
		if (token_revoke(conn, name, err) != VL_OK)
			fprintf(stderr, "vellum token create: revoke: %s\n", err);
		sodium_memzero(text, sizeof(text));
		return 1;
	}
	printf("token %s (role %s%s%s) created; it is shown only now:\n%s\n", name, role,
	       expires ? ", expires " : "", expires ? expires : "", text);
	sodium_memzero(text, sizeof(text));
	return 0;
}

static int
token_cmd_list(PGconn *conn)
{
	char err[VL_ERRLEN];
	json_t *list, *o;
	size_t i;

	if (token_list(conn, &list, err) != VL_OK) {
		fprintf(stderr, "vellum token list: %s\n", err);
		return 1;
	}
	printf("%-24s %-8s %-8s %-21s %-21s %s\n", "name", "role", "state", "created", "expires",
	       "last used");
	json_array_foreach(list, i, o) {
		const char *exp = json_string_value(json_object_get(o, "expires_at"));
		const char *used = json_string_value(json_object_get(o, "last_used_at"));

		printf("%-24s %-8s %-8s %-21s %-21s %s\n",
		       json_string_value(json_object_get(o, "name")),
		       json_string_value(json_object_get(o, "role")),
		       json_string_value(json_object_get(o, "state")),
		       json_string_value(json_object_get(o, "created_at")), exp ? exp : "never",
		       used ? used : "never");
	}
	json_decref(list);
	return 0;
}

static int
token_cmd_revoke(struct cli *c, PGconn *conn, const char *name)
{
	char err[VL_ERRLEN];
	enum vl_err rc = token_revoke(conn, name, err);

	if (rc == VL_OK)
		rc = audit_append(conn, c->actor, NULL, "token.revoke", name, NULL, err);
	if (rc != VL_OK) {
		fprintf(stderr, "vellum token revoke: %s\n", err);
		return 1;
	}
	printf("token %s revoked\n", name);
	return 0;
}

int
cmd_token(struct cli *c, int argc, char **argv)
{
	char err[VL_ERRLEN];
	struct db *db;
	int status;

	if (argc < 2 || (strcmp(argv[1], "create") != 0 && strcmp(argv[1], "list") != 0 &&
			 strcmp(argv[1], "revoke") != 0))
		return token_usage();
	if ((strcmp(argv[1], "list") == 0 && argc != 2) ||
	    (strcmp(argv[1], "revoke") == 0 && argc != 3))
		return token_usage();
	if (db_connect(&c->cfg, &db, err) != VL_OK) {
		fprintf(stderr, "vellum token: %s\n", err);
		return 1;
	}
	if (strcmp(argv[1], "create") == 0)
		status = token_cmd_create(c, db_conn(db), argc, argv);
	else if (strcmp(argv[1], "list") == 0)
		status = token_cmd_list(db_conn(db));
	else
		status = token_cmd_revoke(c, db_conn(db), argv[2]);
	db_close(db);
	return status;
}
