/* audit - the append-only, hash-chained audit trail.
 *
 * entry_hash = SHA-256 of the canonical text
 *	"vellum-audit-v1\n" seq "\n" at_us "\n" actor "\n" client "\n" action "\n" target "\n"
 *	details (PostgreSQL's jsonb text) "\n" hex(prev_hash)
 * computed inside PostgreSQL (sha256(), PostgreSQL 11+) so the text PostgreSQL stores is the
 * text that is hashed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"

#define AUDIT_LOCK_KEY "7283001" /* pg_advisory_xact_lock key: one appender at a time */

#define AUDIT_CANON                                                                                \
	"sha256(convert_to('vellum-audit-v1' || E'\\n' || %s || E'\\n' || vellum_us(%s) ||"       \
	" E'\\n' || %s || E'\\n' || coalesce(%s, '') || E'\\n' || %s || E'\\n' ||"                \
	" coalesce(%s, '') || E'\\n' || %s::text || E'\\n' || encode(%s, 'hex'), 'UTF8'))"

enum vl_err
audit_append(PGconn *c, const char *actor, const char *client, const char *action,
	     const char *target, const char *details_json, char *err)
{
	char sql[2048];
	const char *vals[] = {actor, client, action, target, details_json ? details_json : "{}"};
	PGresult *r;
	enum vl_err rc = VL_OK;

	snprintf(sql, sizeof(sql),
		 "WITH prev AS (SELECT coalesce((SELECT seq FROM audit ORDER BY seq DESC LIMIT 1), 0)"
		 " AS seq, coalesce((SELECT entry_hash FROM audit ORDER BY seq DESC LIMIT 1),"
		 " decode(repeat('00', 32), 'hex')) AS h),"
		 " row AS (SELECT prev.seq + 1 AS seq, date_trunc('microseconds', clock_timestamp())"
		 " AS at, prev.h FROM prev)"
		 " INSERT INTO audit (seq, at, actor, client_addr, action, target, details,"
		 " prev_hash, entry_hash)"
		 " SELECT row.seq, row.at, $1, $2, $3, $4, $5::jsonb, row.h, " AUDIT_CANON
		 " FROM row",
		 "row.seq::text", "row.at", "$1", "$2", "$3", "$4", "$5::jsonb", "row.h");
	/* One appender at a time: the lock is taken in its own statement, so the INSERT's
	 * snapshot (READ COMMITTED: taken when the statement starts) sees the row the previous
	 * holder committed. The lock ends with the transaction. */
	/* Inside a caller's transaction the row joins it (and the COMMIT below ends it). */
	r = PQexec(c, PQtransactionStatus(c) == PQTRANS_INTRANS
			      ? "SELECT pg_advisory_xact_lock(" AUDIT_LOCK_KEY ")"
			      : "BEGIN; SELECT pg_advisory_xact_lock(" AUDIT_LOCK_KEY ")");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = vl_err_set(err, VL_ERR_DB, "audit: %s", PQerrorMessage(c));
		PQclear(r);
		PQclear(PQexec(c, "ROLLBACK"));
		return rc;
	}
	PQclear(r);
	r = PQexecParams(c, sql, 5, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = vl_err_set(err, VL_ERR_DB, "audit: %s", PQerrorMessage(c));
	PQclear(r);
	r = PQexec(c, rc == VL_OK ? "COMMIT" : "ROLLBACK");
	if (rc == VL_OK && PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = vl_err_set(err, VL_ERR_DB, "audit commit: %s", PQerrorMessage(c));
	PQclear(r);
	return rc;
}

enum vl_err
audit_walk(PGconn *c, void (*bad)(void *arg, uint64_t seq, const char *why), void *arg,
	   uint64_t *rows, char *err)
{
	char sql[2048];
	PGresult *r;
	uint64_t breaks = 0;
	enum vl_err rc = VL_OK;

	snprintf(sql, sizeof(sql),
		 "SELECT seq, seq = row_number() OVER (ORDER BY seq),"
		 " prev_hash = coalesce(lag(entry_hash) OVER (ORDER BY seq), decode(repeat('00', 32), 'hex')),"
		 " entry_hash = " AUDIT_CANON " FROM audit ORDER BY seq",
		 "seq::text", "at", "actor", "client_addr", "action", "target", "details",
		 "prev_hash");
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = vl_err_set(err, VL_ERR_DB, "audit walk: %s", PQerrorMessage(c));
		PQclear(r);
		return rc;
	}
	*rows = (uint64_t)PQntuples(r);
	for (int i = 0; i < PQntuples(r); i++) {
		uint64_t seq = strtoull(PQgetvalue(r, i, 0), NULL, 10);
		const char *why = NULL;

		if (strcmp(PQgetvalue(r, i, 1), "t") != 0)
			why = "row missing before this one (sequence gap)";
		else if (strcmp(PQgetvalue(r, i, 2), "t") != 0)
			why = "prev_hash does not match the row before";
		else if (strcmp(PQgetvalue(r, i, 3), "t") != 0)
			why = "entry_hash does not match the row's contents";
		if (why) {
			breaks++;
			bad(arg, seq, why);
		}
	}
	PQclear(r);
	return breaks ? VL_ERR_CORRUPT : VL_OK;
}
