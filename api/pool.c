/* pool - the API's database connections and vaults: one slot per HTTP worker thread. */
#include <pthread.h>
#include <stdlib.h>

#include "buf.h"
#include "db.h"
#include "pool.h"

struct pool_slot {
	struct db *db;
	struct vault *vault;
	const struct vl_config *cfg;
	int busy;
};

struct pool {
	pthread_mutex_t mu;
	pthread_cond_t freed;
	const struct vl_config *cfg;
	unsigned n;
	struct pool_slot *slots;
};

struct pool *
pool_new(const struct vl_config *cfg, unsigned n)
{
	struct pool *p = xcalloc(1, sizeof(*p));

	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->freed, NULL);
	p->cfg = cfg;
	p->n = n ? n : 1;
	p->slots = xcalloc(p->n, sizeof(*p->slots));
	for (unsigned i = 0; i < p->n; i++)
		p->slots[i].cfg = cfg;
	return p;
}

void
pool_free(struct pool *p)
{
	if (p == NULL)
		return;
	for (unsigned i = 0; i < p->n; i++) {
		vault_free(p->slots[i].vault);
		db_close(p->slots[i].db);
	}
	free(p->slots);
	pthread_cond_destroy(&p->freed);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

/* slot_ready - connect, or reconnect a connection that broke (the server restarted). */
static enum vl_err
slot_ready(struct pool_slot *s, char *err)
{
	if (s->db && PQstatus(db_conn(s->db)) == CONNECTION_OK)
		return VL_OK;
	if (s->db) {
		PQreset(db_conn(s->db));
		if (PQstatus(db_conn(s->db)) == CONNECTION_OK)
			return VL_OK;
		db_close(s->db);
		s->db = NULL;
	}
	return db_connect(s->cfg, &s->db, err);
}

enum vl_err
pool_get(struct pool *p, struct pool_slot **out, char *err)
{
	struct pool_slot *s = NULL;
	enum vl_err rc;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		for (unsigned i = 0; i < p->n && s == NULL; i++)
			if (!p->slots[i].busy)
				s = &p->slots[i];
		if (s)
			break;
		pthread_cond_wait(&p->freed, &p->mu);
	}
	s->busy = 1;
	pthread_mutex_unlock(&p->mu);
	/* Connecting happens outside the lock: it can take a while. */
	if ((rc = slot_ready(s, err)) != VL_OK) {
		pool_put(p, s);
		s = NULL;
	}
	*out = s;
	return rc;
}

void
pool_put(struct pool *p, struct pool_slot *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	s->busy = 0;
	pthread_cond_signal(&p->freed);
	pthread_mutex_unlock(&p->mu);
}

PGconn *
pool_conn(struct pool_slot *s)
{
	return db_conn(s->db);
}

enum vl_err
pool_vault(struct pool_slot *s, struct vault **out, char *err)
{
	enum vl_err rc;

	if (s->vault == NULL && (rc = vault_open(&s->vault, s->cfg, db_conn(s->db), err)) != VL_OK)
		return rc;
	*out = s->vault;
	return VL_OK;
}

void
pool_vault_reset(struct pool_slot *s)
{
	vault_free(s->vault);
	s->vault = NULL;
}
