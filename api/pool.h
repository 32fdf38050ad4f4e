/* pool - the API's database connections and vaults: one slot per HTTP worker thread.
 * Owns: n slots, each a PGconn (db_connect) and a vault opened on first need, lent to one
 * request at a time under a mutex; a slot whose connection broke is reconnected when it is
 * next lent. libmicrohttpd runs a request start to end on one pool thread, and there are as
 * many slots as threads, so a request waits for a slot only while another finishes. */
#ifndef VL_POOL_H
#define VL_POOL_H

#include <libpq-fe.h>

#include "config.h"
#include "vault.h"
#include "vl_err.h"

struct pool;
struct pool_slot;

/* pool_new - n empty slots (nothing connects yet); cfg is borrowed and must outlive it. */
struct pool *pool_new(const struct vl_config *cfg, unsigned n);
/* pool_free - close every connection and vault. Every slot must have been put back. */
void pool_free(struct pool *p);

/* pool_get - lend a slot with a working connection (connecting when needed). VL_ERR_DB with
 * the reason when the database cannot be reached; nothing is lent then. */
enum vl_err pool_get(struct pool *p, struct pool_slot **out, char *err) VL_MUST_CHECK;
/* pool_put - return a slot; NULL is a no-op. */
void pool_put(struct pool *p, struct pool_slot *s);

/* pool_conn - the slot's connection (borrowed). */
PGconn *pool_conn(struct pool_slot *s);
/* pool_vault - the slot's vault, opened on first use (borrowed). Errors of vault_open. */
enum vl_err pool_vault(struct pool_slot *s, struct vault **out, char *err) VL_MUST_CHECK;
/* pool_vault_reset - close the slot's vault, so the next pool_vault reads the keyring and the
 * dictionaries again (a key rotated or a dictionary trained since). */
void pool_vault_reset(struct pool_slot *s);

#endif
