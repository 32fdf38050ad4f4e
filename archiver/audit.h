/* audit - the append-only, hash-chained audit trail of every access to evidence.
 * Owns: the canonical row encoding and appending one row (serialized by an advisory lock so
 * the chain stays linear across processes), and walking the chain. */
#ifndef VL_AUDIT_H
#define VL_AUDIT_H

#include <libpq-fe.h>
#include <stdint.h>

#include "vl_err.h"

/* audit_append - one row: actor ("cli:alice", "token:name"), client address (may be NULL),
 * action ("message.raw"), target (may be NULL), details (a JSON object text, may be NULL). */
enum vl_err audit_append(PGconn *c, const char *actor, const char *client, const char *action,
			 const char *target, const char *details_json, char *err) VL_MUST_CHECK;

/* audit_walk - recompute the chain; bad(arg, seq, why) per break. VL_ERR_CORRUPT on any. */
enum vl_err audit_walk(PGconn *c, void (*bad)(void *arg, uint64_t seq, const char *why),
		       void *arg, uint64_t *rows, char *err) VL_MUST_CHECK;

#endif
