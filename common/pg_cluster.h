/* pg_cluster - the private PostgreSQL cluster under the data folder.
 * Owns: DATA/pg (initdb, tuning), DATA/run (the only socket, the server log, the lock files and
 * the pinned/on-demand markers), and starting and stopping it with pg_ctl, serialized between
 * vellum processes by flock. Never runs a PostgreSQL binary as root.
 * Not: connections or migrations (db), an external database_url (db ignores this module). */
#ifndef VL_PG_CLUSTER_H
#define VL_PG_CLUSTER_H

#include <stddef.h>

#include "config.h"
#include "vl_err.h"

#define PG_CLUSTER_DB "vellum"
/* Only names the socket file (DATA/run/.s.PGSQL.5432): there is no TCP listener, so it cannot
 * clash with another server. Passed explicitly so a PGPORT in the environment cannot. */
#define PG_CLUSTER_PORT 5432

/* One process's use of the cluster (pg_cluster_acquire); opaque. */
struct pg_use;

/* pg_cluster_start - start the cluster and pin it: initdb on first use (then create the
 * database "vellum"), start with pg_ctl when not running (already running is fine), and mark it
 * pinned so pg_cluster_release never stops it (`vellum db start`). VL_ERR_CONFIG when run as
 * root or the data folder cannot host a socket; VL_ERR_IO/VL_ERR_DB with the server log's last
 * lines in err when initdb or pg_ctl fails. */
enum vl_err pg_cluster_start(const struct vl_config *cfg, char *err) VL_MUST_CHECK;

/* pg_cluster_stop - stop the cluster (pg_ctl -m fast: open sessions are disconnected) and
 * remove the pinned and on-demand markers. Not running, or never created, is fine. */
enum vl_err pg_cluster_stop(const struct vl_config *cfg, char *err) VL_MUST_CHECK;

/* pg_cluster_status - *running = 1 when the postmaster of DATA/pg is alive, else 0 (also when
 * the cluster was never created). Errors only when the state cannot be determined. */
enum vl_err pg_cluster_status(const struct vl_config *cfg, int *running, char *err) VL_MUST_CHECK;

/* pg_cluster_conninfo - the libpq connection string of the cluster's vellum database into out
 * (n bytes): "host=DATA/run port=5432 dbname=vellum". VL_ERR_LIMIT when it does not fit. */
enum vl_err pg_cluster_conninfo(const struct vl_config *cfg, char *out, size_t n) VL_MUST_CHECK;

/* pg_cluster_acquire - make sure the cluster runs (starting it on demand when it does not) and
 * register this process as a user of it until pg_cluster_release. *out is owned by the caller.
 * Errors as pg_cluster_start. */
enum vl_err pg_cluster_acquire(const struct vl_config *cfg, struct pg_use **out,
			       char *err) VL_MUST_CHECK;

/* pg_cluster_release - end this use (close connections first). When the cluster was started on
 * demand, is not pinned and no other process uses it any more, stop it. Failures are logged.
 * NULL is a no-op. */
void pg_cluster_release(struct pg_use *u);

/* pg_cluster_bindir - the PostgreSQL bin directory to use into out (n bytes): the one of the
 * major version that created DATA/pg, else the newest installed. VL_ERR_NOTFOUND when none. */
enum vl_err pg_cluster_bindir(const struct vl_config *cfg, char *out, size_t n,
			      char *err) VL_MUST_CHECK;

#endif
