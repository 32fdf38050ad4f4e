/* metrics - counters and histograms for /metrics, and their Prometheus text form. */
#include <stddef.h>
#include <stdio.h>

#include "metrics.h"

static const double hist_bounds[METRICS_HIST_N] = {METRICS_HIST_BOUNDS};

void
metrics_add(atomic_uint_fast64_t *counter, uint64_t n)
{
	atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

void
metrics_observe(struct metrics_hist *h, uint64_t us)
{
	size_t i = 0;

	while (i < METRICS_HIST_N && (double)us > hist_bounds[i] * 1e6)
		i++;
	metrics_add(&h->bucket[i], 1);
	metrics_add(&h->count, 1);
	metrics_add(&h->sum_us, us);
}

void
metrics_help(struct buf *out, const char *name, const char *type, const char *help)
{
	buf_appendf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void
metrics_sample(struct buf *out, const char *name, const char *labels, double value)
{
	/* %.17g round-trips a double; integers print without an exponent up to 2^53. */
	if (labels && *labels)
		buf_appendf(out, "%s{%s} %.17g\n", name, labels, value);
	else
		buf_appendf(out, "%s %.17g\n", name, value);
}

static uint64_t
load(const atomic_uint_fast64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

void
metrics_hist_write(struct buf *out, const char *name, const struct metrics_hist *h)
{
	uint64_t cum = 0;

	for (size_t i = 0; i <= METRICS_HIST_N; i++) {
		cum += load(&h->bucket[i]);
		if (i < METRICS_HIST_N)
			buf_appendf(out, "%s_bucket{le=\"%g\"} %llu\n", name, hist_bounds[i],
				    (unsigned long long)cum);
		else
			buf_appendf(out, "%s_bucket{le=\"+Inf\"} %llu\n", name,
				    (unsigned long long)cum);
	}
	buf_appendf(out, "%s_sum %.6f\n%s_count %llu\n", name, (double)load(&h->sum_us) / 1e6, name,
		    (unsigned long long)cum);
}

void
metrics_write_ingest(struct buf *out, const struct metrics *m)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} rows[] = {
#define ROW(f, h) {"vellum_ingest_" #f "_total", h, offsetof(struct metrics, ingest_##f)}
		ROW(connections, "SMTP/LMTP connections accepted."),
		ROW(messages, "Messages acknowledged with 250 (durable)."),
		ROW(bytes, "Bytes of the acknowledged messages."),
		ROW(tempfail, "Messages answered 4xx because storing them failed."),
		ROW(rejected, "Messages answered 5xx (too large, malformed)."),
		ROW(journal_reports, "Journal reports unwrapped."),
		ROW(batches, "Group commits: one fdatasync and one transaction each."),
		ROW(auth_ok, "SMTP AUTHs that succeeded."),
		ROW(auth_failed, "SMTP AUTHs refused: wrong credentials, or the client locked out."),
#undef ROW
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const atomic_uint_fast64_t *c =
			(const atomic_uint_fast64_t *)((const char *)m + rows[i].off);

		metrics_help(out, rows[i].name, "counter", rows[i].help);
		metrics_sample(out, rows[i].name, "", (double)load(c));
	}
	metrics_help(out, "vellum_ingest_commit_seconds", "histogram",
		     "Time of one group commit, fdatasync to COMMIT.");
	metrics_hist_write(out, "vellum_ingest_commit_seconds", &m->ingest_commit_seconds);
}
