/* db - one PostgreSQL connection with Vellum's schema applied.
 * Owns: choosing the database (database_url, or the private cluster started on demand),
 * the forward-only migrations compiled into the binary (schema_sql), and small helpers for
 * parameterized commands and transactions. Error details never carry a URL's password.
 * Not: pooling, or any room's queries. A PGconn is owned by one thread. */
#ifndef VL_DB_H
#define VL_DB_H

#include <libpq-fe.h>

#include "config.h"
#include "vl_err.h"

/* A connection and, for the private cluster, this process's use of it; opaque. */
struct db;

/* db_connect - connect and apply pending migrations. With cfg->database_url set, connect to it
 * and never start anything; else acquire the private cluster (starting it on demand) and
 * connect over its socket. *out is owned by the caller (db_close). VL_ERR_DB with libpq's
 * message (the URL's password blanked out), VL_ERR_CONFIG for a database_url libpq cannot
 * parse (no detail: it could quote the password), or the error of pg_cluster_acquire or
 * db_migrate. */
enum vl_err db_connect(const struct vl_config *cfg, struct db **out, char *err) VL_MUST_CHECK;

/* db_close - close the connection, then release the cluster (which may stop an on-demand
 * cluster nobody else uses). NULL is a no-op. */
void db_close(struct db *d);

/* db_conn - the connection, borrowed: valid until db_close. */
PGconn *db_conn(struct db *d);

/* db_probe - can the configured database be reached? Connects once and disconnects: no
 * cluster is started and nothing is migrated. VL_OK, or VL_ERR_DB with the reason. */
enum vl_err db_probe(const struct vl_config *cfg, char *err) VL_MUST_CHECK;

/* db_migrate - apply every schema_sql migration not yet recorded in schema_migrations (created
 * when missing), in version order, each in its own transaction together with its row; a
 * transaction-scoped advisory lock keeps two processes from racing. Forward-only: recorded
 * versions this binary does not know are fine, and a database newer than the binary is logged
 * as a warning. *applied (may be NULL) counts the migrations applied now. c must be idle (not in
 * a transaction). VL_ERR_DB naming the migration that failed; it was rolled back. */
enum vl_err db_migrate(PGconn *c, int *applied, char *err) VL_MUST_CHECK;

/* db_exec - run one parameterized command (vals: n text values, NULL for SQL NULL) and discard
 * any rows. VL_ERR_DB with the server's message; a lost connection is VL_ERR_DB too. */
enum vl_err db_exec(PGconn *c, const char *sql, int n, const char *const *vals,
		    char *err) VL_MUST_CHECK;

/* db_query - run one parameterized query; *res (caller PQclear()s it) holds its rows. On
 * failure *res is NULL and the result is VL_ERR_DB. */
enum vl_err db_query(PGconn *c, const char *sql, int n, const char *const *vals, PGresult **res,
		     char *err) VL_MUST_CHECK;

/* db_begin / db_commit / db_rollback - transaction control. db_commit is VL_ERR_DB when the
 * server rolled the transaction back instead (an earlier statement failed). db_rollback is
 * not VL_MUST_CHECK: it is mostly called on a path that is already failing. */
enum vl_err db_begin(PGconn *c, char *err) VL_MUST_CHECK;
enum vl_err db_commit(PGconn *c, char *err) VL_MUST_CHECK;
enum vl_err db_rollback(PGconn *c, char *err);

#endif
