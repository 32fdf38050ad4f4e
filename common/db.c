/* db - one PostgreSQL connection with Vellum's schema applied. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "db.h"
#include "log.h"
#include "pg_cluster.h"
#include "schema_sql.h"

/* Key of the advisory lock that serializes migrations between processes ("vellum" in ASCII). */
#define DB_MIGRATE_LOCK "130199959000429"

struct db {
	PGconn *conn;
	struct pg_use *use; /* NULL with database_url */
};

/* ---- errors ---- */

/* trimmed - msg without its trailing newlines, as a length for "%.*s". */
static int
trimmed(const char *msg)
{
	size_t n = strlen(msg);

	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	return (int)n;
}

/* one_line - fold libpq's multi-line messages into err's single line. */
static enum vl_err
one_line(char *err, enum vl_err rc)
{
	char *w = err;

	if (err == NULL)
		return rc;
	for (const char *r = err; *r; r++) {
		char ch = *r == '\n' || *r == '\t' ? ' ' : *r;

		if (ch == ' ' && w > err && w[-1] == ' ')
			continue;
		*w++ = ch;
	}
	*w = 0;
	return rc;
}

/* result_error - VL_OK for a successful res, else VL_ERR_DB with the server's primary message
 * and SQLSTATE (not its DETAIL, which can quote the row's values). */
static enum vl_err
result_error(PGconn *c, const PGresult *res, char *err)
{
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	const char *msg, *state;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY)
		return VL_OK;
	if (PQstatus(c) == CONNECTION_BAD) {
		msg = PQerrorMessage(c);
		return one_line(
		    err, vl_err_set(err, VL_ERR_DB, "connection lost: %.*s", trimmed(msg), msg));
	}
	msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (msg == NULL)
		msg = res ? PQresultErrorMessage(res) : PQerrorMessage(c);
	if (state)
		return one_line(err, vl_err_set(err, VL_ERR_DB, "%.*s (SQLSTATE %s)", trimmed(msg),
						msg, state));
	return one_line(err, vl_err_set(err, VL_ERR_DB, "%.*s", trimmed(msg), msg));
}

/* conn_password - the password that the connection string or URL s carries, or "" (owned by the
 * caller: wipe and free it); NULL when s cannot be parsed. */
static char *
conn_password(const char *s)
{
	char *perr = NULL, *pw = NULL;
	PQconninfoOption *opts = PQconninfoParse(s, &perr);

	if (opts == NULL) {
		PQfreemem(perr);
		return NULL;
	}
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val)
			pw = xstrdup(o->val);
	PQconninfoFree(opts);
	return pw ? pw : xstrdup("");
}

static void
password_free(char *pw)
{
	if (pw) {
		explicit_bzero(pw, strlen(pw));
		free(pw);
	}
}

/* conn_error - VL_ERR_DB: what, then libpq's message on one line with every occurrence of the
 * password blanked out (libpq does not echo it today; this keeps it so). */
static enum vl_err
conn_error(char *err, const char *what, const char *msg, const char *pw)
{
	struct buf b = {0};
	size_t pl = strlen(pw);

	buf_reserve(&b, 0);
	for (const char *s = msg; *s;) {
		if (pl > 0 && strncmp(s, pw, pl) == 0) {
			buf_append_str(&b, "***");
			s += pl;
		} else if (*s == '\n') {
			if (s[1])
				buf_append_str(&b, " ");
			s++;
		} else {
			buf_append(&b, s++, 1);
		}
	}
	vl_err_set(err, VL_ERR_DB, "%s: %s", what, (const char *)b.data);
	buf_free(&b);
	return one_line(err, VL_ERR_DB);
}

/* Server notices (e.g. from a migration) go through our log, not straight to stderr. */
static void
db_notice(void *arg, const char *msg)
{
	(void)arg;
	if (strncmp(msg, "WARNING", 7) == 0)
		log_warnx("postgres: %.*s", trimmed(msg), msg);
	else
		log_debug("postgres: %.*s", trimmed(msg), msg);
}

/* open_conn - connect with conninfo (a key=value string or a URL) as the "dbname", so libpq
 * expands it and our client_encoding still applies. */
static enum vl_err
open_conn(const char *conninfo, PGconn **out, char *err)
{
	const char *const keys[] = {"dbname", "fallback_application_name", "client_encoding", NULL};
	const char *const vals[] = {conninfo, "vellum", "UTF8", NULL};
	char *pw = conn_password(conninfo);
	enum vl_err rc = VL_OK;
	PGconn *c = NULL;

	*out = NULL;
	if (pw == NULL) {
		/* libpq's parse error would quote the offending part, which may be the password. */
		rc = vl_err_set(err, VL_ERR_CONFIG,
				"database_url is not a valid PostgreSQL URL or connection string");
		goto out;
	}
	c = PQconnectdbParams(keys, vals, 1);
	if (c == NULL) {
		rc = vl_err_set(err, VL_ERR_NOMEM, "libpq could not allocate a connection");
		goto out;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		rc = conn_error(err, "connect", PQerrorMessage(c), pw);
		goto out;
	}
	PQsetNoticeProcessor(c, db_notice, NULL);
	*out = c;
	c = NULL;
out:
	PQfinish(c);
	password_free(pw);
	return rc;
}

/* ---- connections ---- */

enum vl_err
db_connect(const struct vl_config *cfg, struct db **out, char *err)
{
	char conninfo[CONFIG_PATH_MAX + 64];
	struct db *d = xcalloc(1, sizeof(*d));
	enum vl_err rc;

	*out = NULL;
	if (cfg->database_url[0]) {
		/* External: it is someone else's server; never start or stop anything. */
		rc = open_conn(cfg->database_url, &d->conn, err);
	} else if ((rc = pg_cluster_acquire(cfg, &d->use, err)) == VL_OK) {
		if ((rc = pg_cluster_conninfo(cfg, conninfo, sizeof(conninfo))) != VL_OK)
			vl_err_set(err, rc, "conninfo: data_dir too long");
		else
			rc = open_conn(conninfo, &d->conn, err);
	}
	if (rc != VL_OK)
		goto out;
	if ((rc = db_migrate(d->conn, NULL, err)) != VL_OK)
		goto out;
	*out = d;
	d = NULL;
out:
	db_close(d);
	return rc;
}

void
db_close(struct db *d)
{
	if (d == NULL)
		return;
	/* Close first: the release stops an on-demand cluster when we were its last user. */
	PQfinish(d->conn);
	pg_cluster_release(d->use);
	free(d);
}

PGconn *
db_conn(struct db *d)
{
	return d->conn;
}

enum vl_err
db_probe(const struct vl_config *cfg, char *err)
{
	char conninfo[CONFIG_PATH_MAX + 64];
	PGconn *c = NULL;
	enum vl_err rc;

	if (cfg->database_url[0])
		rc = open_conn(cfg->database_url, &c, err);
	else if ((rc = pg_cluster_conninfo(cfg, conninfo, sizeof(conninfo))) != VL_OK)
		vl_err_set(err, rc, "conninfo: data_dir too long");
	else
		rc = open_conn(conninfo, &c, err);
	PQfinish(c);
	return rc;
}

/* ---- statements and transactions ---- */

enum vl_err
db_exec(PGconn *c, const char *sql, int n, const char *const *vals, char *err)
{
	PGresult *res = PQexecParams(c, sql, n, NULL, vals, NULL, NULL, 0);
	enum vl_err rc = result_error(c, res, err);

	PQclear(res);
	return rc;
}

enum vl_err
db_query(PGconn *c, const char *sql, int n, const char *const *vals, PGresult **res, char *err)
{
	enum vl_err rc;

	*res = PQexecParams(c, sql, n, NULL, vals, NULL, NULL, 0);
	if ((rc = result_error(c, *res, err)) != VL_OK) {
		PQclear(*res);
		*res = NULL;
	}
	return rc;
}

enum vl_err
db_begin(PGconn *c, char *err)
{
	return db_exec(c, "BEGIN", 0, NULL, err);
}

enum vl_err
db_commit(PGconn *c, char *err)
{
	PGresult *res = PQexecParams(c, "COMMIT", 0, NULL, NULL, NULL, NULL, 0);
	enum vl_err rc = result_error(c, res, err);

	/* COMMIT of a failed transaction "succeeds" with the tag ROLLBACK. */
	if (rc == VL_OK && strcmp(PQcmdStatus(res), "ROLLBACK") == 0)
		rc = vl_err_set(err, VL_ERR_DB, "commit: the transaction was rolled back");
	PQclear(res);
	return rc;
}

enum vl_err
db_rollback(PGconn *c, char *err)
{
	return db_exec(c, "ROLLBACK", 0, NULL, err);
}

/* ---- migrations ---- */

static int
version_recorded(const PGresult *done, int version)
{
	for (int i = 0; i < PQntuples(done); i++)
		if (atoi(PQgetvalue(done, i, 0)) == version)
			return 1;
	return 0;
}

/* apply_one - migration m and its schema_migrations row in one transaction, under the advisory
 * lock; *did = 0 when another process applied it since we looked. */
static enum vl_err
apply_one(PGconn *c, const struct schema_sql *m, int *did, char *err)
{
	char ver[16], detail[VL_ERRLEN];
	const char *const lockv[] = {DB_MIGRATE_LOCK};
	const char *const vals[] = {ver, m->name};
	PGresult *res = NULL;
	enum vl_err rc;

	*did = 0;
	snprintf(ver, sizeof(ver), "%d", m->version);
	if ((rc = db_begin(c, err)) != VL_OK)
		return rc;
	if ((rc = db_exec(c, "SELECT pg_advisory_xact_lock($1::bigint)", 1, lockv, err)) != VL_OK)
		goto out;
	rc = db_query(c, "SELECT 1 FROM schema_migrations WHERE version = $1::int", 1, vals, &res,
		      err);
	if (rc != VL_OK)
		goto out;
	if (PQntuples(res) > 0) {
		rc = db_commit(c, err);
		goto out;
	}
	PQclear(res);
	/* PQexec, not PQexecParams: a migration is several statements and carries no values. */
	res = PQexec(c, m->sql);
	if ((rc = result_error(c, res, detail)) != VL_OK) {
		vl_err_set(err, rc, "migration %s: %s", m->name, detail);
		goto out;
	}
	rc = db_exec(c, "INSERT INTO schema_migrations (version, name) VALUES ($1::int, $2)", 2,
		     vals, err);
	if (rc != VL_OK)
		goto out;
	if ((rc = db_commit(c, detail)) != VL_OK) {
		vl_err_set(err, rc, "migration %s: %s", m->name, detail);
		goto out;
	}
	*did = 1;
	log_info("applied migration %s", m->name);
out:
	PQclear(res);
	if (rc != VL_OK && PQtransactionStatus(c) != PQTRANS_IDLE)
		db_rollback(c, NULL);
	return rc;
}

enum vl_err
db_migrate(PGconn *c, int *applied, char *err)
{
	const char *const lockv[] = {DB_MIGRATE_LOCK};
	PGresult *res = NULL, *done = NULL;
	int count = 0, newest_db = 0, newest_bin = 0, did;
	enum vl_err rc;

	if (applied)
		*applied = 0;
	if (PQtransactionStatus(c) != PQTRANS_IDLE)
		return vl_err_set(err, VL_ERR_INTERNAL, "db_migrate: the connection is not idle");
	/* First look: under the lock, so two processes never both create the table. */
	if ((rc = db_begin(c, err)) != VL_OK)
		return rc;
	if ((rc = db_exec(c, "SELECT pg_advisory_xact_lock($1::bigint)", 1, lockv, err)) != VL_OK)
		goto out;
	rc = db_query(c, "SELECT to_regclass('schema_migrations') IS NOT NULL", 0, NULL, &res, err);
	if (rc != VL_OK)
		goto out;
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		rc = db_exec(c,
			     "CREATE TABLE schema_migrations ("
			     " version integer PRIMARY KEY,"
			     " name text NOT NULL,"
			     " applied_at timestamptz NOT NULL DEFAULT now())",
			     0, NULL, err);
		if (rc != VL_OK)
			goto out;
	}
	rc = db_query(c, "SELECT version FROM schema_migrations ORDER BY version", 0, NULL, &done,
		      err);
	if (rc != VL_OK || (rc = db_commit(c, err)) != VL_OK)
		goto out;

	if (PQntuples(done) > 0)
		newest_db = atoi(PQgetvalue(done, PQntuples(done) - 1, 0));
	for (const struct schema_sql *m = schema_sql; m->name; m++)
		newest_bin = m->version > newest_bin ? m->version : newest_bin;
	if (newest_db > newest_bin)
		log_warnx("the database schema (version %d) is newer than this binary's (%d); "
			  "running anyway, forward-only",
			  newest_db, newest_bin);
	/* schema_sql is ordered by version, so the pending ones apply in order. */
	for (const struct schema_sql *m = schema_sql; m->name; m++) {
		if (version_recorded(done, m->version))
			continue;
		if ((rc = apply_one(c, m, &did, err)) != VL_OK)
			goto out;
		count += did;
	}
	if (applied)
		*applied = count;
out:
	PQclear(res);
	PQclear(done);
	if (rc != VL_OK && PQtransactionStatus(c) != PQTRANS_IDLE)
		db_rollback(c, NULL);
	return rc;
}
