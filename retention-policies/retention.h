/* retention - the archive side of retention policies: the site's policy set (versioned and
 * audited when it changes), computing every message's retain-until from it, and explaining
 * the result for one message.
 * Owns: messages.retain_until / retention_policy / retention_mode writes, policy_sets rows.
 * Not: the matching itself (policy), the guard that refuses shortening a compliance-mode
 * retention whoever asks (schema 0005 trigger), disposal (dispose).
 *
 * retain_until is filled by `vellum retention apply` (new messages: those still NULL; --all:
 * every message), which `vellum index` runs after indexing and serve's upkeep runs on a timer:
 * a message needs its index row (addresses, sent date) first. Until then retain_until is NULL
 * and the message is never disposed. */
#ifndef VL_RETENTION_H
#define VL_RETENTION_H

#include <libpq-fe.h>
#include <stdint.h>

#include "config.h"
#include "policy.h"
#include "vl_err.h"

#define RETENTION_SET_FILE "retention/policies.json" /* under the data folder */
#define RETENTION_BATCH 1000

struct retention_opts {
	int all;		    /* every indexed message, not only those without retention */
	const char *shorten_reason; /* governance mode: shorten (the caller is an admin) */
	/* The data folder, to read a message's own headers when a policy matches on one the
	 * database does not keep (Subject, From, To, Cc and Message-ID are kept); NULL: a
	 * criterion on another header matches nothing. */
	const struct vl_config *cfg;
};

/* Of a message's own headers, read only for such policies: the first bytes of the message
 * (its header block, cut here) and at most this many header fields. */
#define RETENTION_HEADER_BYTES (256 * 1024)
#define RETENTION_HEADERS_MAX 256

struct retention_result {
	int64_t examined, set, extended, kept, shortened, unmatched;
	int64_t headers_read; /* messages whose own headers were read (audited) */
	int64_t version;
	char sha256[65];
};

/* retention_load - the site's policy set from DATA/RETENTION_SET_FILE (VL_ERR_NOTFOUND). */
enum vl_err retention_load(const struct vl_config *cfg, struct policy_set **out,
			   char *err) VL_MUST_CHECK;

/* retention_record_set - record s as the current version when its canonical SHA-256 differs
 * from the last one recorded (audited "retention.policy_set"). */
enum vl_err retention_record_set(PGconn *c, const char *actor, const struct policy_set *s,
				 struct retention_result *res, char *err) VL_MUST_CHECK;

/* retention_apply - record the set, then compute retain-until for the messages; never
 * shortens a compliance-mode retention; shortens governance-mode ones only with
 * o->shorten_reason. Audited "retention.apply". */
enum vl_err retention_apply(PGconn *c, const char *actor, const struct policy_set *s,
			    const struct retention_opts *o, struct retention_result *res,
			    char *err) VL_MUST_CHECK;

/* retention_explain - which policy applies to archived message id and why (cfg: as in
 * retention_opts; the message's own headers are read when a policy needs them). */
enum vl_err retention_explain(const struct vl_config *cfg, PGconn *c, const struct policy_set *s,
			      const char *id, struct policy_result *out, char *err) VL_MUST_CHECK;

#endif
