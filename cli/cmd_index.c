/* cmd_index - `vellum index [--all] [--jobs N]`: drain the full-text queue now, in batches.
 *
 * Several jobs, each with its own connection and vault, take batches side by side (SKIP LOCKED
 * keeps them apart): PostgreSQL's to_tsvector and GIN insertion are the cost (PERF-NOTES), and
 * one job leaves a core idle while it parses the next batch. Reads evidence only to index it:
 * nothing leaves the process, so nothing is audited (the audit trail records each access that
 * hands evidence to someone). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "hold.h"
#include "retention.h"
#include "db.h"
#include "indexer.h"
#include "vault.h"

#define INDEX_JOBS_MAX 16
#define INDEX_JOBS_DFLT 4 /* the default: one job per core, at most this many */
/* Messages left queued because an attachment's reader could not run or a segment could not be
 * opened just now (no process, pipe, descriptor or memory: indexer_run_batch's b->busy) are
 * tried again in up to INDEX_BUSY_TRIES rounds, the first after INDEX_BUSY_WAIT_MS, each next
 * after twice the wait before it: 3.75 s in all, long enough for a burst of processes to end,
 * short enough for a command someone waits for. */
#define INDEX_BUSY_TRIES 4
#define INDEX_BUSY_WAIT_MS 250u

struct index_job {
	const struct vl_config *cfg;
	struct db *db;
	struct vault *v;
	pthread_t thread;
	enum vl_err rc;
	size_t busy; /* messages its last pass stepped over: not readable just now */
	int fresh;   /* v was opened since the last batch: a VL_ERR_NOKEY now is the keyring's */
	char err[VL_ERRLEN];
};

static atomic_uint_fast64_t index_total;
static atomic_int index_running;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* index_job_run - batches until a pass through the queue (indexer_place) indexes nothing more;
 * on VL_ERR_NOKEY the vault is opened again once (keys rotated or a dictionary trained
 * meanwhile) before giving up. A batch that indexed nothing but whose sweep queued notes again
 * is progress too (another job or serve may have taken those messages first: the next batch
 * finds out). A note whose message another process holds is neither swept nor indexed, so it
 * cannot keep the loop going: it ends, and the note is counted in "still waiting" for a later
 * run or serve's indexer. Messages not readable just now are stepped over, however many;
 * when the last pass left some (j->busy of them), the job ends with VL_ERR_BUSY and cmd_index
 * tries them again after a wait. */
static void
index_job_run(struct index_job *j)
{
	PGconn *conn = db_conn(j->db);
	struct indexer_place place = {0};

	for (;;) {
		struct indexer_batch b = {
			.max = INDEXER_BATCH, .max_raw = UINT64_MAX, .after = place.after};

		j->rc = indexer_run_batch(j->v, conn, &b, j->err);
		atomic_fetch_add(&index_total, b.done);
		if (j->rc == VL_ERR_NOKEY && !j->fresh) {
			vault_free(j->v);
			j->v = NULL;
			if ((j->rc = vault_open(&j->v, j->cfg, conn, j->err)) != VL_OK)
				break;
			j->fresh = 1;
			continue;
		}
		j->fresh = 0;
		if (j->rc != VL_OK)
			break;
		if (indexer_place_next(&place, &b, &j->busy))
			continue;
		if (j->busy > 0)
			j->rc = vl_err_set(j->err, VL_ERR_BUSY, "%zu messages left queued", j->busy);
		break;
	}
}

/* index_job_main - a job's thread: index_job_run, then one job fewer running. */
static void *
index_job_main(void *arg)
{
	index_job_run(arg);
	atomic_fetch_sub(&index_running, 1);
	return NULL;
}

static void
index_progress(double t0, int final)
{
	double dt = now_s() - t0;
	uint64_t n = atomic_load(&index_total);

	fprintf(stderr, "\rindexed %llu (%.0f messages/s)  %s", (unsigned long long)n,
		dt > 0 ? (double)n / dt : 0.0, final ? "\n" : "");
}

/* index_round - run jobs[0..n) side by side, each in its own thread, until all have ended,
 * drawing the progress on a terminal meanwhile. The first job's failure, in err; a job's
 * VL_ERR_BUSY (only messages not readable just now were left to it) only when no job
 * failed otherwise. */
static enum vl_err
index_round(struct index_job *jobs, int n, double t0, int tty, char *err)
{
	enum vl_err rc = VL_OK;
	int started;

	atomic_store(&index_running, n);
	for (started = 0; started < n; started++) {
		if (pthread_create(&jobs[started].thread, NULL, index_job_main, &jobs[started]) !=
		    0) {
			atomic_fetch_sub(&index_running, n - started);
			rc = vl_err_set(err, VL_ERR_INTERNAL, "cannot start job %d", started);
			break;
		}
	}
	while (atomic_load(&index_running) > 0) {
		struct timespec tick = {.tv_sec = 0, .tv_nsec = 100 * 1000000L};

		nanosleep(&tick, NULL);
		if (tty)
			index_progress(t0, 0);
	}
	for (int i = 0; i < started; i++) {
		pthread_join(jobs[i].thread, NULL);
		/* A failure wins over a VL_ERR_BUSY, which is only a wait. */
		if (jobs[i].rc != VL_OK && (rc == VL_OK || rc == VL_ERR_BUSY)) {
			rc = jobs[i].rc;
			snprintf(err, VL_ERRLEN, "%s", jobs[i].err);
		}
	}
	return rc;
}

/* index_busy_wait - the wait before round try (0, 1...) of the messages left queued. */
static void
index_busy_wait(int try)
{
	unsigned ms = INDEX_BUSY_WAIT_MS << try;
	struct timespec wait = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	nanosleep(&wait, NULL);
}

/* index_upkeep - what newly indexed mail needs next: every active legal hold swept over it,
 * and its retain-until computed from the site's policy set (when there is one). */
static enum vl_err
index_upkeep(struct cli *c, PGconn *conn, char *err)
{
	struct retention_opts o = {.cfg = &c->cfg};
	struct retention_result res;
	struct policy_set *s = NULL;
	int64_t held = 0;
	enum vl_err rc;

	if ((rc = hold_sweep(conn, NULL, &held, err)) != VL_OK)
		return rc;
	printf("held          %lld more messages\n", (long long)held);
	if (retention_load(&c->cfg, &s, err) == VL_ERR_NOTFOUND)
		return VL_OK;
	if (s == NULL)
		return VL_ERR_PARSE;
	rc = retention_apply(conn, c->actor, s, &o, &res, err);
	policy_set_free(s);
	if (rc == VL_OK)
		printf("retention     %lld set, %lld without a matching policy\n", (long long)res.set,
		       (long long)res.unmatched);
	return rc;
}

/* cmd_index - with --all, every message is queued again first (after an extractor change, or
 * once damaged segments are repaired). Prints what it did and the rate; exit 1 on a failure;
 * exit 75 (EX_TEMPFAIL) when all else went well but messages are still left queued because
 * they were not readable just now, even after INDEX_BUSY_TRIES more rounds: a line
 * says how many, and that a later `vellum index`, or serve, tries them again. */
int
cmd_index(struct cli *c, int argc, char **argv)
{
	struct index_job jobs[INDEX_JOBS_MAX];
	char err[VL_ERRLEN] = "";
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int njobs = (int)(cores < 1 ? 1 : cores < INDEX_JOBS_DFLT ? cores : INDEX_JOBS_DFLT);
	int all = 0, status = 1, tty = isatty(STDERR_FILENO);
	int64_t waiting = 0, requeued = 0;
	size_t left = 0; /* messages left queued: not readable just now */
	enum vl_err rc = VL_OK;
	double t0, dt;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--all") == 0) {
			all = 1;
		} else if (strcmp(argv[i], "--jobs") == 0 && i + 1 < argc) {
			njobs = atoi(argv[++i]);
			if (njobs < 1 || njobs > INDEX_JOBS_MAX)
				goto usage;
		} else {
			goto usage;
		}
	}
	memset(jobs, 0, sizeof(jobs));
	/* Connections are opened here, one after the other, so the private cluster is acquired
	 * (and maybe started) once, not raced by the jobs. */
	for (int i = 0; i < njobs; i++) {
		jobs[i].cfg = &c->cfg;
		if ((rc = db_connect(&c->cfg, &jobs[i].db, err)) != VL_OK ||
		    (rc = vault_open(&jobs[i].v, &c->cfg, db_conn(jobs[i].db), err)) != VL_OK)
			goto out;
		jobs[i].fresh = 1;
	}
	PGconn *conn = db_conn(jobs[0].db);
	if (all) {
		if ((rc = indexer_requeue_all(conn, &requeued, err)) != VL_OK)
			goto out;
		printf("queued again  %lld messages\n", (long long)requeued);
	}
	if ((rc = indexer_lag(conn, &waiting, err)) != VL_OK)
		goto out;
	printf("waiting       %lld messages (%d jobs)\n", (long long)waiting, njobs);
	fflush(stdout);
	t0 = now_s();
	atomic_store(&index_total, 0);
	rc = index_round(jobs, njobs, t0, tty, err);
	/* Messages left queued only because they were not readable just now: again, after a
	 * wait, by one job, whose last pass sees them all: its count is theirs (jobs side by side
	 * may each have counted the same ones). */
	for (int try = 0; rc == VL_ERR_BUSY && try < INDEX_BUSY_TRIES; try++) {
		index_busy_wait(try);
		rc = index_round(jobs, 1, t0, tty, err);
	}
	if (rc == VL_ERR_BUSY) {
		left = jobs[0].busy;
		rc = VL_OK;
	}
	dt = now_s() - t0;
	if (tty)
		index_progress(t0, 1);
	if (rc != VL_OK || (rc = indexer_lag(conn, &waiting, err)) != VL_OK)
		goto out;
	printf("indexed       %llu messages in %.2f s (%.0f messages/s)\n",
	       (unsigned long long)atomic_load(&index_total), dt,
	       dt > 0 ? (double)atomic_load(&index_total) / dt : 0.0);
	/* Still waiting: locked by another indexer (vellum serve), or arrived meanwhile; or
	 * noted in index_requeue while another process held the message; or left queued
	 * because they were not readable just now. */
	printf("still waiting %lld messages\n", (long long)waiting);
	if ((rc = index_upkeep(c, conn, err)) != VL_OK)
		goto out;
	status = 0;
	if (left > 0) {
		fprintf(stderr,
			"vellum index: %zu messages left queued: an attachment's reader could not"
			" run or a segment or key file could not be opened (no process, pipe,"
			" descriptor or memory) in %d more tries; a later `vellum index` or"
			" `vellum serve` tries them again\n",
			left, INDEX_BUSY_TRIES);
		status = EX_TEMPFAIL;
	}
out:
	if (status == 1 && rc == VL_ERR_NOKEY)
		fprintf(stderr, "vellum index: %s (the keyring lacks what the store used)\n", err);
	else if (status == 1)
		fprintf(stderr, "vellum index: %s\n", err);
	for (int i = 0; i < njobs; i++) {
		vault_free(jobs[i].v);
		db_close(jobs[i].db);
	}
	return status;
usage:
	fprintf(stderr, "usage: vellum index [--all] [--jobs N]\n");
	return 2;
}
