/* ingest - the store writer thread of `vellum serve`. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "ingest.h"
#include "journal_report.h"
#include "log.h"

#define INGEST_HINTS_MAX 64 /* original recipients read from headers, per message */

struct ingest {
	const struct vl_config *cfg;
	struct store *st; /* NULL until it opens when serve started without its key */
	int owns_st;	  /* st was opened here (ingest_stop closes it) */
	PGconn *conn;
	int notify_fd;
	struct metrics *m; /* may be NULL */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct ingest_job *queue, **queue_tail, *done;
	size_t queued;
	size_t expected; /* sessions inside a transaction: messages that may join a batch soon */
	int stop;
};

/* map_source - the message's bytes in memory (a spooled file is mapped read-only; the
 * mapping is kept in the job until ingest_job_release). */
static const uint8_t *
map_source(struct ingest_job *job)
{
	void *p;

	if (job->src.mem || job->src.len == 0)
		return job->src.mem ? job->src.mem : (const uint8_t *)"";
	p = mmap(NULL, job->src.len, PROT_READ, MAP_PRIVATE, job->src.fd, 0);
	if (p == MAP_FAILED)
		return NULL;
	job->map = p;
	job->map_len = job->src.len;
	return p;
}

void
ingest_job_release(struct ingest_job *job)
{
	if (job->map)
		munmap(job->map, job->map_len);
	job->map = NULL;
	buf_free(&job->keep);
}

/* job_receipt - a receipt of source with the given envelope and the job's trace (client, HELO,
 * TLS, AUTH identity, XFORWARD, listener, time). Everything is borrowed. */
static struct store_receipt
job_receipt(const struct ingest_job *job, const char *source, const char *mail_from,
	    const char *const *rcpts, const char *const *roles, size_t n)
{
	return (struct store_receipt){.source = source,
				      .origin = job->listener,
				      .mail_from = mail_from,
				      .rcpts = rcpts,
				      .roles = roles,
				      .nrcpts = n,
				      .client_addr = job->client_addr,
				      .helo = job->helo,
				      .tls = job->tls,
				      .auth_user = job->auth_user,
				      .xforward = job->xforward,
				      .listener = job->listener,
				      .received_us = job->received_us};
}

static enum vl_err
add_plain(struct store *st, const struct ingest_job *job, const uint8_t *raw, char *err)
{
	const char **rcpts = xcalloc(job->nrcpts * 2 + INGEST_HINTS_MAX + 1, sizeof(char *));
	const char **roles = xcalloc(job->nrcpts * 2 + INGEST_HINTS_MAX + 1, sizeof(char *));
	char **hints = NULL;
	size_t n = 0, nh = 0, slot;
	enum vl_err rc;

	/* The envelope Vellum saw, then what it says about the original recipients: DSN ORCPT
	 * and, for always_bcc/recipient_bcc or Google routing, the delivery headers. */
	for (size_t i = 0; i < job->nrcpts; i++) {
		rcpts[n] = job->rcpts[i];
		roles[n++] = "rcpt";
	}
	for (size_t i = 0; job->orcpts && i < job->nrcpts; i++)
		if (job->orcpts[i]) {
			rcpts[n] = job->orcpts[i];
			roles[n++] = "orcpt";
		}
	if (raw && journal_hints(&hints, &nh, raw, job->src.len) == VL_OK)
		for (size_t i = 0; i < nh && i < INGEST_HINTS_MAX; i++) {
			rcpts[n] = hints[i];
			roles[n++] = "header";
		}
	struct store_receipt r = job_receipt(job, job->source, job->mail_from, rcpts, roles, n);

	rc = store_add(st, &job->src, &r, &slot, err);
	journal_hints_free(hints, nh);
	free(rcpts);
	free(roles);
	return rc;
}

/* The receipts.source of what a journal report unwraps to (0012_receipts_decrypted.sql). */
#define SOURCE_JOURNAL "journal"
#define SOURCE_JOURNAL_DECRYPTED "journal-decrypted"

/* add_unwrapped - stage src, unwrapped from the report staged at report_slot, with the report's
 * envelope (its sender, every recipient with its role, Bcc included) and the job's trace. */
static enum vl_err
add_unwrapped(struct store *st, const struct ingest_job *job, const struct journal_report *rep,
	      const struct store_source *src, const char *source, size_t report_slot, char *err)
{
	const char **rcpts = xcalloc(rep->nrcpts + 1, sizeof(char *));
	const char **roles = xcalloc(rep->nrcpts + 1, sizeof(char *));
	size_t slot;
	enum vl_err rc;

	for (size_t i = 0; i < rep->nrcpts; i++) {
		rcpts[i] = rep->rcpts[i].address;
		roles[i] = rep->rcpts[i].role;
	}
	struct store_receipt r = job_receipt(job, source, rep->sender, rcpts, roles, rep->nrcpts);

	r.has_report = 1;
	r.report_slot = report_slot;
	rc = store_add(st, src, &r, &slot, err);
	free(rcpts);
	free(roles);
	return rc;
}

/* kept_source - the unwrapped bytes p (len long) as a store source that outlives the commit: a
 * range of the job's own bytes as it is; bytes decoded into rep (decoded has them) copied to
 * job->keep. The caller reserved room in job->keep for all of them first, so an earlier
 * source pointing into it is not moved by a later copy. */
static struct store_source
kept_source(struct ingest_job *job, const uint8_t *p, size_t len, const struct buf *decoded)
{
	if (decoded->len) {
		size_t at = job->keep.len;

		buf_append(&job->keep, p, len);
		p = job->keep.data + at;
	}
	return (struct store_source){.mem = p, .len = len};
}

enum vl_err
ingest_unwrap_and_add(struct store *st, struct ingest_job *job, char *err)
{
	struct journal_report rep;
	const uint8_t *raw = map_source(job);
	const uint8_t *p;
	struct store_source src;
	size_t report_slot, len;
	enum vl_err rc;
	char detail[VL_ERRLEN];

	if (raw == NULL)
		return add_plain(st, job, NULL, err);
	if (journal_report_parse(&rep, raw, job->src.len, detail) != VL_OK ||
	    rep.kind == JOURNAL_PLAIN || rep.parse_error) {
		if (rep.kind != JOURNAL_PLAIN && rep.parse_error)
			log_warnx("journal report not unwrapped (%s); archived as it came",
				  rep.detail ? rep.detail : "unreadable");
		journal_report_free(&rep);
		return add_plain(st, job, raw, err);
	}
	/* The report itself, as received, is evidence of how the original came to us. */
	if ((rc = add_plain(st, job, raw, err)) != VL_OK)
		goto out;
	report_slot = store_pending(st) - 1;
	buf_reserve(&job->keep, rep.orig_decoded.len + rep.copy_decoded.len);
	p = journal_original(&rep, raw, &len);
	src = kept_source(job, p, len, &rep.orig_decoded);
	if ((rc = add_unwrapped(st, job, &rep, &src, SOURCE_JOURNAL, report_slot, err)) != VL_OK)
		goto out;
	/* Exchange Online's decrypted copy of an IRM-protected original, when it attached one. */
	if (rep.copy_problem != NULL)
		log_warnx("journal report of %s: %s; the report and the original are archived",
			  rep.message_id ? rep.message_id : "(no Message-ID)", rep.copy_problem);
	if ((p = journal_decrypted_copy(&rep, raw, &len)) != NULL) {
		src = kept_source(job, p, len, &rep.copy_decoded);
		rc = add_unwrapped(st, job, &rep, &src, SOURCE_JOURNAL_DECRYPTED, report_slot, err);
	}
out:
	journal_report_free(&rep);
	return rc;
}

/* ---- the writer thread ---- */

static void
ingest_wake(struct ingest *in)
{
	uint64_t one = 1;

	if (write(in->notify_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("ingest: notify");
}

/* ingest_take_batch - wait for work, then gather up to batch_max_messages jobs. A batch waits
 * (at most batch_max_ms after its first job) only while some session is inside a transaction,
 * i.e. while another message may be on its way to share the commit; a lone message commits at
 * once instead of waiting for company that cannot come. */
static struct ingest_job *
ingest_take_batch(struct ingest *in)
{
	struct ingest_job *batch;
	struct timespec deadline;
	size_t max = (size_t)in->cfg->batch_max_messages;

	pthread_mutex_lock(&in->mu);
	while (in->queue == NULL && !in->stop)
		pthread_cond_wait(&in->cv, &in->mu);
	if (in->expected > 0 && in->queued < max && in->cfg->batch_max_ms > 0) {
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_nsec += in->cfg->batch_max_ms * 1000000L;
		deadline.tv_sec += deadline.tv_nsec / 1000000000L;
		deadline.tv_nsec %= 1000000000L;
		while (in->queued < max && in->expected > 0 && !in->stop)
			if (pthread_cond_timedwait(&in->cv, &in->mu, &deadline) == ETIMEDOUT)
				break;
	}
	batch = in->queue;
	size_t n = 0;
	struct ingest_job **cut = &in->queue;
	while (*cut && n < max) {
		cut = &(*cut)->next;
		n++;
	}
	in->queue = *cut;
	*cut = NULL;
	in->queued -= n;
	if (in->queue == NULL)
		in->queue_tail = &in->queue;
	pthread_mutex_unlock(&in->mu);
	return batch;
}

static uint64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ingest_store_open - the store, when serve started without it because its key was missing:
 * tried again before each batch, whose messages get the failure (451 4.3.0) until it opens. */
static enum vl_err
ingest_store_open(struct ingest *in, char *err)
{
	enum vl_err rc = store_open(&in->st, in->cfg, in->conn, 0, err);

	if (rc == VL_OK) {
		in->owns_st = 1;
		log_info("ingest: the store is open: mail is accepted again");
	}
	return rc;
}

/* ingest_commit_batch - stage every job's message(s) (a job that cannot be staged gets its
 * own failure) and commit them together; the commit's outcome. */
static enum vl_err
ingest_commit_batch(struct ingest *in, struct ingest_job *batch, char *err)
{
	const struct store_result *res;
	size_t n;
	enum vl_err rc = VL_OK;

	for (struct ingest_job *j = batch; j; j = j->next) {
		size_t before = store_pending(in->st);

		j->result = ingest_unwrap_and_add(in->st, j, err);
		if (j->result != VL_OK)
			log_warnx("ingest: message from %s not staged: %s", j->client_addr, err);
		else if (in->m && store_pending(in->st) > before + 1) /* report and original */
			metrics_add(&in->m->ingest_journal_reports, 1);
	}
	if (store_pending(in->st)) {
		uint64_t t0 = mono_us();

		if ((rc = store_commit(in->st, &res, &n, err)) != VL_OK)
			log_errx("ingest: batch not committed, answering %d: %s",
				 vl_err_smtp(rc, NULL), err);
		if (in->m && rc == VL_OK) {
			metrics_add(&in->m->ingest_batches, 1);
			metrics_observe(&in->m->ingest_commit_seconds, mono_us() - t0);
		}
	}
	return rc;
}

static void
ingest_batch(struct ingest *in, struct ingest_job *batch)
{
	char err[VL_ERRLEN] = "";
	enum vl_err rc;

	/* A lost connection is reset before the batch, so one outage costs one batch of 451s. */
	if (PQstatus(in->conn) != CONNECTION_OK)
		PQreset(in->conn);
	if (in->st == NULL && (rc = ingest_store_open(in, err)) != VL_OK)
		log_errx("ingest: no store, answering %d: %s", vl_err_smtp(rc, NULL), err);
	else
		rc = ingest_commit_batch(in, batch, err);
	for (struct ingest_job *j = batch; j; j = j->next) {
		if (j->result == VL_OK)
			j->result = rc;
		ingest_job_release(j);
	}
	pthread_mutex_lock(&in->mu);
	struct ingest_job *last = batch;
	while (last->next)
		last = last->next;
	last->next = in->done;
	in->done = batch;
	pthread_mutex_unlock(&in->mu);
	ingest_wake(in);
}

static void *
ingest_main(void *arg)
{
	struct ingest *in = arg;

	for (;;) {
		struct ingest_job *batch = ingest_take_batch(in);

		if (batch)
			ingest_batch(in, batch);
		else if (in->stop)
			break;
	}
	return NULL;
}

enum vl_err
ingest_start(struct ingest **out, const struct vl_config *cfg, struct store *st, PGconn *conn,
	     int notify_fd, struct metrics *m, char *err)
{
	struct ingest *in = xcalloc(1, sizeof(*in));

	in->cfg = cfg;
	in->st = st;
	in->conn = conn;
	in->notify_fd = notify_fd;
	in->m = m;
	in->queue_tail = &in->queue;
	pthread_condattr_t ca;

	/* The batch deadline is on the monotonic clock: a wall-clock step must not stretch it. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&in->mu, NULL);
	pthread_cond_init(&in->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&in->thread, NULL, ingest_main, in) != 0) {
		free(in);
		return vl_err_set(err, VL_ERR_INTERNAL, "ingest thread: %s", strerror(errno));
	}
	*out = in;
	return VL_OK;
}

void
ingest_submit(struct ingest *in, struct ingest_job *job, size_t expected)
{
	job->next = NULL;
	pthread_mutex_lock(&in->mu);
	*in->queue_tail = job;
	in->queue_tail = &job->next;
	in->queued++;
	in->expected = expected;
	pthread_cond_signal(&in->cv);
	pthread_mutex_unlock(&in->mu);
}

void
ingest_expect(struct ingest *in, size_t expected)
{
	if (in == NULL)
		return;
	pthread_mutex_lock(&in->mu);
	/* Fewer to wait for can end a batch's wait; more never needs a wake-up. */
	if (expected < in->expected)
		pthread_cond_signal(&in->cv);
	in->expected = expected;
	pthread_mutex_unlock(&in->mu);
}

struct ingest_job *
ingest_take_done(struct ingest *in)
{
	struct ingest_job *d;

	pthread_mutex_lock(&in->mu);
	d = in->done;
	in->done = NULL;
	pthread_mutex_unlock(&in->mu);
	return d;
}

void
ingest_stop(struct ingest *in)
{
	if (in == NULL)
		return;
	pthread_mutex_lock(&in->mu);
	in->stop = 1;
	pthread_cond_broadcast(&in->cv);
	pthread_mutex_unlock(&in->mu);
	pthread_join(in->thread, NULL);
	if (in->owns_st)
		store_close(in->st);
	pthread_mutex_destroy(&in->mu);
	pthread_cond_destroy(&in->cv);
	free(in);
}
