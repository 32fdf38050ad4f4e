/* metrics - counters and histograms for /metrics, and their Prometheus text form.
 * Owns: struct metrics (atomic counters: ingest, filled by whoever is wired to it), the
 * histogram type, and writing samples in the Prometheus text exposition format 0.0.4.
 * Not: deciding what is measured (callers), HTTP (api). No globals: `vellum serve` owns one
 * struct metrics and passes it by pointer; every field may be updated from any thread. */
#ifndef VL_METRICS_H
#define VL_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "buf.h"

/* Upper bounds (seconds) of a latency histogram's buckets; +Inf is implicit. */
#define METRICS_HIST_BOUNDS 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
#define METRICS_HIST_N 13

struct metrics_hist {
	atomic_uint_fast64_t bucket[METRICS_HIST_N + 1]; /* non-cumulative; last is +Inf */
	atomic_uint_fast64_t count;
	atomic_uint_fast64_t sum_us;
};

/* The ingest counters: journal/receiver.c (connections, and each finished message's answer)
 * and journal/ingest.c (batches, commit latency, journal reports) fill them. */
struct metrics {
	atomic_uint_fast64_t ingest_connections;    /* SMTP/LMTP connections accepted */
	atomic_uint_fast64_t ingest_messages;	    /* messages acknowledged (250) */
	atomic_uint_fast64_t ingest_bytes;	    /* bytes of those messages */
	atomic_uint_fast64_t ingest_tempfail;	    /* 4xx replies to a message (storage failed) */
	atomic_uint_fast64_t ingest_rejected;	    /* 5xx replies to a message (size, syntax) */
	atomic_uint_fast64_t ingest_journal_reports; /* journal reports unwrapped */
	atomic_uint_fast64_t ingest_batches;	    /* group commits (fdatasync + transaction) */
	atomic_uint_fast64_t ingest_auth_ok;	    /* SMTP AUTHs that succeeded */
	atomic_uint_fast64_t ingest_auth_failed;    /* SMTP AUTHs refused (535, or 421 locked out) */
	struct metrics_hist ingest_commit_seconds;  /* one group commit, fdatasync to COMMIT */
};

/* metrics_add - add n to a counter. */
void metrics_add(atomic_uint_fast64_t *counter, uint64_t n);
/* metrics_observe - count one observation of us microseconds in h. */
void metrics_observe(struct metrics_hist *h, uint64_t us);

/* metrics_help - "# HELP name help\n# TYPE name type\n" (type: counter, gauge, histogram). */
void metrics_help(struct buf *out, const char *name, const char *type, const char *help);
/* metrics_sample - "name{labels} value\n"; labels is "" or 'route="x",status="200"' (the
 * caller escapes label values with metrics_label_escape). */
void metrics_sample(struct buf *out, const char *name, const char *labels, double value);
/* metrics_hist_write - the _bucket (cumulative, le="..."), _sum and _count lines of h. */
void metrics_hist_write(struct buf *out, const char *name, const struct metrics_hist *h);
/* metrics_write_ingest - HELP, TYPE and samples of every ingest counter of m. */
void metrics_write_ingest(struct buf *out, const struct metrics *m);

#endif
