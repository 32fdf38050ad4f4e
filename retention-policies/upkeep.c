/* upkeep - serve's retention thread: hold sweep and retention for new mail, on a timer. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "db.h"
#include "dispose.h"
#include "hold.h"
#include "log.h"
#include "retention.h"
#include "upkeep.h"

struct upkeep {
	const struct vl_config *cfg;
	char actor[128];
	struct db *db;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
	unsigned passes;
};

static void upkeep_retention(struct upkeep *u);

/* upkeep_dispose - the scheduled disposal run (dispose.h), its outcome logged. */
static void
upkeep_dispose(struct upkeep *u)
{
	struct dispose_opts o = {0};
	struct dispose_result res;
	char err[VL_ERRLEN];

	if (dispose_run(u->cfg, db_conn(u->db), u->actor, &o, &res, err) != VL_OK)
		log_warnx("upkeep: disposal: %s", err);
	else if (res.messages > 0)
		log_info("upkeep: disposed %lld messages, %lld blobs; report %s",
			 (long long)res.messages, (long long)res.blobs, res.report);
}

/* upkeep_once - one pass; failures are logged and the next pass tries again. */
static void
upkeep_once(struct upkeep *u)
{
	if (u->passes++ % UPKEEP_DISPOSE_EVERY == 0)
		upkeep_dispose(u);
	upkeep_retention(u);
}

/* upkeep_retention - holds over new mail, then retain-until for new mail. */
static void
upkeep_retention(struct upkeep *u)
{
	struct retention_opts o = {.cfg = u->cfg};
	struct retention_result res;
	struct policy_set *s = NULL;
	char err[VL_ERRLEN];
	int64_t held = 0;
	enum vl_err rc;

	if (hold_sweep(db_conn(u->db), NULL, &held, err) != VL_OK)
		log_warnx("upkeep: hold sweep: %s", err);
	else if (held > 0)
		log_info("upkeep: legal holds cover %lld more messages", (long long)held);
	rc = retention_load(u->cfg, &s, err);
	if (rc == VL_ERR_NOTFOUND)
		return;
	if (rc != VL_OK) {
		log_warnx("upkeep: retention policy set: %s", err);
		return;
	}
	if (retention_apply(db_conn(u->db), u->actor, s, &o, &res, err) != VL_OK)
		log_warnx("upkeep: retention: %s", err);
	policy_set_free(s);
}

static void *
upkeep_main(void *arg)
{
	struct upkeep *u = arg;

	pthread_mutex_lock(&u->mu);
	while (!u->stop) {
		struct timespec until;

		pthread_mutex_unlock(&u->mu);
		upkeep_once(u);
		pthread_mutex_lock(&u->mu);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += UPKEEP_INTERVAL_S;
		while (!u->stop && pthread_cond_timedwait(&u->cv, &u->mu, &until) == 0)
			;
	}
	pthread_mutex_unlock(&u->mu);
	return NULL;
}

enum vl_err
upkeep_start(struct upkeep **out, const struct vl_config *cfg, const char *actor, char *err)
{
	struct upkeep *u = xcalloc(1, sizeof(*u));
	enum vl_err rc;

	*out = NULL;
	u->cfg = cfg;
	snprintf(u->actor, sizeof(u->actor), "%s", actor);
	if ((rc = db_connect(cfg, &u->db, err)) != VL_OK) {
		free(u);
		return rc;
	}
	pthread_mutex_init(&u->mu, NULL);
	pthread_cond_init(&u->cv, NULL);
	if (pthread_create(&u->thread, NULL, upkeep_main, u) != 0) {
		db_close(u->db);
		free(u);
		return vl_err_set(err, VL_ERR_INTERNAL, "upkeep: cannot start its thread");
	}
	*out = u;
	return VL_OK;
}

void
upkeep_stop(struct upkeep *u)
{
	if (u == NULL)
		return;
	pthread_mutex_lock(&u->mu);
	u->stop = 1;
	pthread_cond_signal(&u->cv);
	pthread_mutex_unlock(&u->mu);
	pthread_join(u->thread, NULL);
	pthread_mutex_destroy(&u->mu);
	pthread_cond_destroy(&u->cv);
	db_close(u->db);
	free(u);
}
