/* cmd_search - `vellum search QUERY... [--json] [--limit N] [--after-cursor C] [--count]
 * [--exact] [--unindexed]`.
 *
 * The words of QUERY are joined with spaces into one query (quote it for the shell when it has
 * quotes or parentheses). Prints the total and the unindexed items of the query's scope
 * (search/unindexed.h), then one block per hit, newest first by sent date; --json prints one
 * JSON object (the shape the HTTP API answers with); --count the total alone; --exact counts
 * every match instead of estimating above SEARCH_COUNT_EXACT_MAX; --unindexed lists the
 * unindexed items of the scope instead of the hits (by message id, --limit a page, the cursor
 * a message id; audited as "search.unindexed"). Exit 0 with results (even none), 1 on a
 * failure, 2 on a malformed query or usage. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cli.h"
#include "db.h"
#include "search.h"
#include "unindexed.h"

#define SEARCH_QUERY_ARGS_MAX 4096 /* bytes of the joined query words (query.c bounds it too) */

struct search_opts {
	struct buf query;
	size_t limit;
	const char *cursor;
	int json, count_only, exact, unindexed;
};

/* snippet_vault - the vault the snippets are read through; NULL (every snippet "") when it
 * cannot be opened: the search itself needs only the database. */
static struct vault *
snippet_vault(struct cli *c, struct db *db)
{
	struct vault *v = NULL;
	char err[VL_ERRLEN];

	if (vault_open(&v, &c->cfg, db_conn(db), err) != VL_OK) {
		fprintf(stderr, "vellum search: no snippets: %s\n", err);
		return NULL;
	}
	return v;
}

static int
search_usage(void)
{
	fprintf(stderr, "usage: vellum search QUERY... [--json] [--limit N] [--after-cursor C]"
			" [--count] [--exact] [--unindexed]\n");
	return 2;
}

static int
search_opts_parse(struct search_opts *o, int argc, char **argv)
{
	int words = 0;

	o->limit = SEARCH_LIMIT_DFLT;
	for (int i = 1; i < argc; i++) {
		if (words) {
			if (o->query.len)
				buf_append(&o->query, " ", 1);
			buf_append_str(&o->query, argv[i]);
		} else if (strcmp(argv[i], "--json") == 0) {
			o->json = 1;
		} else if (strcmp(argv[i], "--count") == 0) {
			o->count_only = 1;
		} else if (strcmp(argv[i], "--exact") == 0) {
			o->exact = 1;
		} else if (strcmp(argv[i], "--unindexed") == 0) {
			o->unindexed = 1;
		} else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);

			if (*end != '\0' || v < 1 || v > SEARCH_LIMIT_MAX) {
				fprintf(stderr, "vellum search: --limit: 1 to %d\n", SEARCH_LIMIT_MAX);
				return -1;
			}
			o->limit = (size_t)v;
		} else if (strcmp(argv[i], "--after-cursor") == 0 && i + 1 < argc) {
			o->cursor = argv[++i];
		} else if (strncmp(argv[i], "--", 2) == 0 && !words) {
			if (strcmp(argv[i], "--") != 0)
				return -1; /* an unknown option */
			words = 1;    /* everything after -- is the query */
		} else {
			/* A query word: "-lunch" (a negation) is one too. */
			if (o->query.len)
				buf_append(&o->query, " ", 1);
			buf_append_str(&o->query, argv[i]);
		}
		if (o->query.len > SEARCH_QUERY_ARGS_MAX) {
			fprintf(stderr, "vellum search: the query is over %d bytes\n",
				SEARCH_QUERY_ARGS_MAX);
			return -1;
		}
	}
	buf_append(&o->query, "", 1);
	return 0;
}

/* iso_time - unix microseconds as "2001-05-14T23:39:00Z". */
static void
iso_time(char out[32], int64_t us)
{
	time_t t = (time_t)(us / 1000000 - (us % 1000000 < 0));
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "?");
}

static json_t *
hit_json(const struct search_hit *h)
{
	char sent[32], recv[32];
	json_t *att = json_array();

	iso_time(sent, h->sent_us);
	iso_time(recv, h->received_us);
	for (size_t i = 0; i < h->nattachments; i++)
		json_array_append_new(att, json_string(h->attachments[i]));
	return json_pack("{s:I, s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:I, s:o, s:s}", "id",
			 (json_int_t)h->id, "date", sent, "received", recv, "from", h->from, "to",
			 h->to, "subject", h->subject, "message_id", h->message_id, "size",
			 (json_int_t)h->size, "attachments", att, "snippet", h->snippet);
}

static void
json_out(json_t *doc)
{
	json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	fputc('\n', stdout);
	json_decref(doc);
}

static void
print_json(const struct search_opts *o, const struct search_total *t,
	   const struct unindexed_summary *u, const struct search_page *p)
{
	json_t *hits = json_array();

	for (size_t i = 0; i < p->n; i++)
		json_array_append_new(hits, hit_json(&p->hits[i]));
	json_out(json_pack("{s:s, s:I, s:b, s:o, s:o, s:s?}", "query", (const char *)o->query.data,
			   "total", (json_int_t)t->n, "total_estimated", t->estimated,
			   "unindexed", unindexed_summary_json(u), "hits", hits, "next_cursor",
			   *p->next ? p->next : NULL));
}

/* print_unindexed_line - "unindexed in scope: 3 messages (encrypted 1, truncated 2)". */
static void
print_unindexed_line(const struct unindexed_summary *u)
{
	int k = 0;

	printf("unindexed in scope: %s%lld message%s", u->estimated ? "about " : "",
	       (long long)u->messages, u->messages == 1 ? "" : "s");
	for (int r = 0; r < INDEX_EXC_NREASONS; r++)
		if (u->by_reason[r])
			printf("%s%s %lld", k++ ? ", " : " (",
			       index_exc_reason_name((enum index_exc_reason)r),
			       (long long)u->by_reason[r]);
	printf("%s\n", k ? ")" : "");
}

static void
print_text(const struct search_total *t, const struct unindexed_summary *u,
	   const struct search_page *p)
{
	printf("%s%lld message%s\n", t->estimated ? "about " : "", (long long)t->n,
	       t->n == 1 ? "" : "s");
	print_unindexed_line(u);
	for (size_t i = 0; i < p->n; i++) {
		const struct search_hit *h = &p->hits[i];
		char sent[32];

		iso_time(sent, h->sent_us);
		printf("\n%lld  %s  %lld bytes\n  From: %s\n  Subject: %s\n", (long long)h->id,
		       sent, (long long)h->size, h->from ? h->from : "",
		       h->subject ? h->subject : "");
		for (size_t k = 0; k < h->nattachments; k++)
			printf("  Attachment: %s\n", h->attachments[k]);
		if (*h->snippet)
			printf("  %s\n", h->snippet);
	}
	if (*p->next)
		printf("\nmore: --after-cursor %s\n", p->next);
}

/* ---- --unindexed: the listing ---- */

/* What the listing builds: JSON items, or text lines as rows come. */
struct listing {
	int json;
	json_t *items, *cur; /* json: the array and the item of the current message */
	int64_t id;	     /* the current message */
};

static enum vl_err
listing_row(void *arg, const struct unindexed_row *r, char *err)
{
	struct listing *l = arg;
	json_t *e;

	(void)err;
	if (!l->json) {
		if (r->id != l->id)
			printf("\n%lld  %s  %s%s\n", (long long)r->id, r->sent ? r->sent : "",
			       r->from ? r->from : "", r->matched ? "  (matched)" : "");
		printf("  %-16s %-4s %s%s%s: %s\n", r->reason, *r->part ? r->part : "-",
		       r->content_type ? r->content_type : "message", r->filename ? " " : "",
		       r->filename ? r->filename : "", r->detail);
		l->id = r->id;
		return VL_OK;
	}
	if (r->id != l->id) {
		l->cur = json_pack("{s:I, s:s?, s:s?, s:s?, s:s?, s:b, s:[]}", "id",
				   (json_int_t)r->id, "date", r->sent, "from", r->from, "subject",
				   r->subject, "sha256", r->sha256, "matched", r->matched,
				   "exceptions");
		json_array_append_new(l->items, l->cur);
		l->id = r->id;
	}
	e = json_pack("{s:s, s:s?, s:s?, s:s, s:s}", "part", r->part, "filename", r->filename,
		      "content_type", r->content_type, "reason", r->reason, "detail", r->detail);
	json_array_append_new(json_object_get(l->cur, "exceptions"), e);
	return VL_OK;
}

/* list_unindexed - the summary and one page of the unindexed items of the query's scope. */
static enum vl_err
list_unindexed(PGconn *conn, const struct search_who *who, const struct search_opts *o,
	       char *err)
{
	const char *q = (const char *)o->query.data;
	struct listing l = {.json = o->json, .items = json_array()};
	struct unindexed_summary u;
	int64_t after = 0;
	size_t n = 0;
	char *end = NULL;
	enum vl_err rc;

	if (o->cursor && (after = strtoll(o->cursor, &end, 10), *end != '\0' || after <= 0)) {
		rc = vl_err_set(err, VL_ERR_CONFIG, "cursor: not one this command made");
		goto out;
	}
	if ((rc = unindexed_summary_get(conn, q, false, &u, err)) != VL_OK)
		goto out;
	if (!o->json)
		print_unindexed_line(&u);
	if ((rc = unindexed_walk(conn, q, false, NULL,
				 o->limit < UNINDEXED_LIST_MAX ? o->limit : UNINDEXED_LIST_MAX, &after,
				 &n, listing_row, &l, err)) != VL_OK ||
	    (rc = search_audit(conn, who, "search.unindexed", q, o->cursor, (int64_t)n, err)) !=
		    VL_OK)
		goto out;
	if (o->json) {
		char next[UNINDEXED_CURSOR_MAX];

		snprintf(next, sizeof(next), "%lld", (long long)after);
		json_out(json_pack("{s:s, s:o, s:O, s:s?}", "query", q, "unindexed",
				   unindexed_summary_json(&u), "items", l.items, "next_cursor",
				   n == o->limit ? next : NULL));
	} else if (n == o->limit) {
		printf("\nmore: --unindexed --after-cursor %lld\n", (long long)after);
	}
out:
	json_decref(l.items);
	return rc;
}

int
cmd_search(struct cli *c, int argc, char **argv)
{
	struct search_opts o = {0};
	struct search_who who = {.actor = c->actor, .client = NULL};
	struct search_total t = {0};
	struct unindexed_summary u = {0};
	struct search_page p = {0};
	struct db *db = NULL;
	struct vault *v = NULL;
	char err[VL_ERRLEN];
	enum vl_err rc;
	int status = 1;

	if (search_opts_parse(&o, argc, argv) != 0) {
		buf_free(&o.query);
		return search_usage();
	}
	if ((rc = db_connect(&c->cfg, &db, err)) != VL_OK)
		goto out;
	const char *q = (const char *)o.query.data;
	if (o.unindexed) {
		if ((rc = list_unindexed(db_conn(db), &who, &o, err)) == VL_OK)
			status = 0;
		goto out;
	}
	if ((rc = search_total_get(db_conn(db), &who, q, o.exact, &t, err)) != VL_OK)
		goto out;
	if (o.count_only) {
		printf("%s%lld\n", t.estimated ? "~" : "", (long long)t.n);
		status = 0;
		goto out;
	}
	if ((rc = unindexed_summary_get(db_conn(db), q, false, &u, err)) != VL_OK)
		goto out;
	v = snippet_vault(c, db);
	if ((rc = search_page_get(db_conn(db), v, &who, q, o.limit, o.cursor, &p, err)) != VL_OK)
		goto out;
	if (o.json)
		print_json(&o, &t, &u, &p);
	else
		print_text(&t, &u, &p);
	status = 0;
out:
	if (status != 0) {
		fprintf(stderr, "vellum search: %s\n", err);
		if (rc == VL_ERR_PARSE || rc == VL_ERR_LIMIT || rc == VL_ERR_CONFIG)
			status = 2;
	}
	search_page_free(&p);
	vault_free(v);
	db_close(db);
	buf_free(&o.query);
	return status;
}

#define BENCH_RUNS_MAX 10000

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* bench_once - one timed search: a first page, or with count_only the total. */
static enum vl_err
bench_once(PGconn *conn, struct vault *v, const struct search_opts *o, double *ms, size_t *hits,
	   int64_t *total, char *err)
{
	struct search_who who = {.actor = "bench", .client = NULL};
	const char *q = (const char *)o->query.data;
	struct search_total t;
	struct search_page p;
	double t0 = mono_ms();
	enum vl_err rc;

	if (o->count_only) {
		rc = search_total_get(conn, &who, q, o->exact, &t, err);
		*total = t.n;
	} else {
		rc = search_page_get(conn, v, &who, q, o->limit, NULL, &p, err);
		*hits = p.n;
		search_page_free(&p);
	}
	*ms = mono_ms() - t0;
	return rc;
}

/* cmd_bench_search - `vellum bench-search [--runs N] [--limit L] [--count] -- QUERY`: the
 * query N times in one process and connection, after one untimed warm-up; prints
 * "p50_ms p99_ms hits total" (total "-" without --count). For bench/search.sh. */
int
cmd_bench_search(struct cli *c, int argc, char **argv)
{
	struct search_opts o = {0};
	struct db *db = NULL;
	struct vault *v = NULL;
	char err[VL_ERRLEN] = "";
	double *ms = NULL, dummy;
	size_t hits = 0;
	int64_t total = 0;
	long runs = 20;
	enum vl_err rc = VL_OK;
	int k = 1;

	if (argc > 2 && strcmp(argv[1], "--runs") == 0) {
		runs = strtol(argv[2], NULL, 10);
		k = 3;
	}
	if (runs < 1 || runs > BENCH_RUNS_MAX)
		return search_usage();
	argv[k - 1] = argv[0];
	if (search_opts_parse(&o, argc - (k - 1), argv + (k - 1)) != 0) {
		buf_free(&o.query);
		return search_usage();
	}
	ms = xcalloc((size_t)runs, sizeof(*ms));
	if ((rc = db_connect(&c->cfg, &db, err)) != VL_OK)
		goto out;
	v = snippet_vault(c, db);
	if ((rc = bench_once(db_conn(db), v, &o, &dummy, &hits, &total, err)) != VL_OK)
		goto out;
	for (long i = 0; i < runs && rc == VL_OK; i++)
		rc = bench_once(db_conn(db), v, &o, &ms[i], &hits, &total, err);
	if (rc != VL_OK)
		goto out;
	qsort(ms, (size_t)runs, sizeof(*ms), cmp_double);
	printf("%.2f %.2f %zu ", ms[(runs - 1) / 2], ms[(runs * 99 + 99) / 100 - 1], hits);
	if (o.count_only)
		printf("%lld\n", (long long)total);
	else
		printf("-\n");
out:
	if (rc != VL_OK)
		fprintf(stderr, "vellum bench-search: %s\n", err);
	free(ms);
	vault_free(v);
	db_close(db);
	buf_free(&o.query);
	return rc == VL_OK ? 0 : 1;
}
