/* api - the HTTP/JSON API of `vellum serve`: authentication, authorization and dispatch.
 *
 * Every request goes through api_handle: route, body bound, query fields, then for /v1 the
 * rate limit, the bearer token and the role, then the route's handler with a pooled
 * connection. Each refusal of a /v1 request after routing is one audit row (auth.fail,
 * auth.denied) except those refused by the rate limit, which are only counted: a flood of bad
 * tokens must not become a flood of audit rows. */
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "audit.h"
#include "buf.h"
#include "db.h"
#include "handlers.h"
#include "handlers_export.h"
#include "http.h"
#include "indexer.h"
#include "log.h"
#include "pool.h"
#include "ratelimit.h"
#include "reply.h"
#include "reqjson.h"
#include "route.h"
#include "tls.h"
#include "token.h"

#define API_HEADER_MEM (32u << 10) /* request line + headers per connection */
#define API_TOKEN_STATES 5	   /* enum token_state, plus "missing" below */

static const int api_statuses[] = {200, 400, 401, 403, 404, 405, 413, 415, 429, 500, 501, 503};
#define API_NSTATUS (sizeof(api_statuses) / sizeof(api_statuses[0]))

struct api {
	const struct vl_config *cfg;
	struct metrics *m;
	struct pool *pool;
	struct ratelimit *rl;
	struct http *http;
	atomic_uint_fast64_t requests[ROUTE__COUNT + 1][API_NSTATUS + 1]; /* last: other */
	atomic_uint_fast64_t auth_fail[API_TOKEN_STATES + 1];		  /* last: missing */
	atomic_uint_fast64_t rate_limited;
	struct metrics_hist search_seconds;
};

/* ---- /metrics ------------------------------------------------------------------------- */

#define STORE_SQL                                                                                  \
	"SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM receipts),"                 \
	" (SELECT coalesce(sum(raw_size), 0) FROM blobs),"                                         \
	" (SELECT coalesce(sum(record_size), 0) FROM blobs), (SELECT count(*) FROM segments),"     \
	" (" INDEXER_LAG_SQL "),"                                                                  \
	" (SELECT coalesce(max(seq), 0) FROM audit), pg_database_size(current_database())"

static const struct {
	const char *name, *help;
} store_gauges[] = {
	{"vellum_messages", "Messages archived (distinct contents)."},
	{"vellum_receipts", "Hand-overs recorded (receipts)."},
	{"vellum_store_raw_bytes", "Bytes of the archived messages as received."},
	{"vellum_store_sealed_bytes", "Bytes of their sealed records in the store."},
	{"vellum_segments", "Store segment files."},
	{"vellum_index_lag_messages", "Messages waiting for the full-text indexer."},
	{"vellum_audit_rows", "Rows of the audit trail."},
	{"vellum_database_size_bytes", "Size of the PostgreSQL database."},
};

/* metrics_store - the gauges read from the database; vellum_database_up 0 without it. */
static void
metrics_store(struct api *a, struct buf *out)
{
	char err[VL_ERRLEN];
	struct pool_slot *s = NULL;
	PGresult *r = NULL;
	struct timespec t0, t1;
	int up;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* XXX: count(*) over messages grows with the archive; fine at millions of rows, a
	 * statistics-based estimate may be wanted beyond. */
	up = pool_get(a->pool, &s, err) == VL_OK &&
	     db_query(pool_conn(s), STORE_SQL, 0, NULL, &r, err) == VL_OK;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	metrics_help(out, "vellum_database_up", "gauge", "1 when the database answered /metrics.");
	metrics_sample(out, "vellum_database_up", "", up);
	metrics_help(out, "vellum_database_query_seconds", "gauge",
		     "Time of the store-gauge query (or of failing to run it).");
	metrics_sample(out, "vellum_database_query_seconds", "",
		       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	for (size_t i = 0; up && i < sizeof(store_gauges) / sizeof(store_gauges[0]); i++) {
		metrics_help(out, store_gauges[i].name, "gauge", store_gauges[i].help);
		metrics_sample(out, store_gauges[i].name, "",
			       strtod(PQgetvalue(r, 0, (int)i), NULL));
	}
	PQclear(r);
	pool_put(a->pool, s);
}

static void
metrics_http(struct api *a, struct buf *out)
{
	static const char *const reasons[API_TOKEN_STATES + 1] = {
		"ok", "malformed", "unknown", "expired", "revoked", "missing"};
	char labels[96];

	metrics_help(out, "vellum_http_requests_total", "counter",
		     "HTTP requests answered, by route and status.");
	for (int r = 0; r <= ROUTE__COUNT; r++) {
		for (size_t s = 0; s <= API_NSTATUS; s++) {
			uint64_t n = atomic_load(&a->requests[r][s]);
			char status[8];

			if (n == 0)
				continue;
			if (s < API_NSTATUS)
				snprintf(status, sizeof(status), "%d", api_statuses[s]);
			else
				snprintf(status, sizeof(status), "other");
			snprintf(labels, sizeof(labels), "route=\"%s\",status=\"%s\"",
				 route_label((enum route_id)r), status);
			metrics_sample(out, "vellum_http_requests_total", labels, (double)n);
		}
	}
	metrics_help(out, "vellum_http_auth_failures_total", "counter",
		     "Failed API authentications, by reason.");
	for (int i = 1; i <= API_TOKEN_STATES; i++) {
		snprintf(labels, sizeof(labels), "reason=\"%s\"", reasons[i]);
		metrics_sample(out, "vellum_http_auth_failures_total", labels,
			       (double)atomic_load(&a->auth_fail[i]));
	}
	metrics_help(out, "vellum_http_auth_rate_limited_total", "counter",
		     "API requests refused with 429: too many failed authentications.");
	metrics_sample(out, "vellum_http_auth_rate_limited_total", "",
		       (double)atomic_load(&a->rate_limited));
	metrics_help(out, "vellum_search_duration_seconds", "histogram",
		     "Time of POST /v1/search (the page and, when asked, the count).");
	metrics_hist_write(out, "vellum_search_duration_seconds", &a->search_seconds);
}

static void
api_metrics(struct api *a, struct http_resp *resp)
{
	buf_free(&resp->body);
	metrics_http(a, &resp->body);
	metrics_store(a, &resp->body);
	metrics_write_ingest(&resp->body, a->m);
	resp->status = 200;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

static void
api_healthz(struct api *a, struct http_resp *resp)
{
	char err[VL_ERRLEN];
	struct pool_slot *s = NULL;
	PGresult *r = NULL;
	int up = pool_get(a->pool, &s, err) == VL_OK &&
		 db_query(pool_conn(s), "SELECT 1", 0, NULL, &r, err) == VL_OK;

	PQclear(r);
	pool_put(a->pool, s);
	reply_json(resp, up ? 200 : 503,
		   json_pack("{s:s,s:s}", "status", up ? "ok" : "degraded", "database",
			     up ? "ok" : "unavailable"));
}

/* ---- authentication ------------------------------------------------------------------- */

/* bearer - the token of an "Authorization: Bearer <token>" header, or NULL. */
static const char *
bearer(const char *auth)
{
	if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0)
		return NULL;
	auth += 7;
	while (*auth == ' ')
		auth++;
	return *auth ? auth : NULL;
}

/* api_refuse - one audit row for a refused request; a failure to write it is logged (the
 * refusal stands either way). */
static void
api_refuse(struct pool_slot *s, const struct http_req *req, const char *actor,
	   const char *action, const struct route *rt, json_t *details)
{
	char err[VL_ERRLEN], *text;

	json_object_set_new(details, "route", json_string(route_label(rt->id)));
	json_object_set_new(details, "method", json_string(req->method));
	text = json_dumps(details, JSON_COMPACT);
	json_decref(details);
	if (audit_append(pool_conn(s), actor, req->client, action, route_label(rt->id), text,
			 err) != VL_OK)
		log_warnx("api: audit of %s from %s: %s", action, req->client, err);
	free(text);
}

/* api_auth - the token and the role; on refusal resp is filled and 0 returned. */
static int
api_auth(struct api *a, struct pool_slot *s, const struct http_req *req, const struct route *rt,
	 struct token_auth *ta, struct http_resp *resp)
{
	char err[VL_ERRLEN], actor[TOKEN_NAME_MAX + 16];
	const char *tok = bearer(req->authorization);
	int missing = tok == NULL;

	memset(ta, 0, sizeof(*ta));
	ta->state = TOKEN_MALFORMED;
	if (tok && token_check(pool_conn(s), tok, ta, err) != VL_OK) {
		reply_internal(resp, VL_ERR_DB, "token check", err);
		return 0;
	}
	snprintf(actor, sizeof(actor), "token:%s", ta->name[0] ? ta->name : "?");
	if (ta->state != TOKEN_OK) {
		unsigned fails = ratelimit_fail(a->rl, req->client, (int64_t)time(NULL));

		metrics_add(&a->auth_fail[missing ? API_TOKEN_STATES : ta->state], 1);
		api_refuse(s, req, ta->name[0] ? actor : "anonymous", "auth.fail", rt,
			   json_pack("{s:s,s:I}", "reason",
				     missing ? "missing" : token_state_name(ta->state), "failures",
				     (json_int_t)fails));
		http_resp_header(resp, "WWW-Authenticate", "Bearer realm=\"vellum\"");
		if (ta->state == TOKEN_EXPIRED || ta->state == TOKEN_REVOKED)
			reply_error(resp, 401, "unauthorized", "the token is %s",
				    token_state_name(ta->state));
		else
			reply_error(resp, 401, "unauthorized",
				    "a valid bearer token is required (Authorization: Bearer ...)");
		return 0;
	}
	if (!role_allows(ta->role, rt->perm)) {
		api_refuse(s, req, actor, "auth.denied", rt,
			   json_pack("{s:s,s:s}", "role", role_name(ta->role), "needs",
				     perm_name(rt->perm)));
		reply_error(resp, 403, "forbidden", "the role %s may not use this route",
			    role_name(ta->role));
		return 0;
	}
	return 1;
}

/* ---- dispatch ------------------------------------------------------------------------- */

struct args_check {
	const struct route *rt;
	char bad[80];
};

static int
arg_unknown(void *arg, const char *k, const char *v)
{
	struct args_check *c = arg;

	(void)v;
	if (reqjson_arg_allowed(k, c->rt->args))
		return 0;
	snprintf(c->bad, sizeof(c->bad), "%.64s", k);
	return 1;
}

/* api_precheck - what can be refused before authentication: body size, media type, query
 * fields. 0 with resp filled on refusal. */
static int
api_precheck(const struct http_req *req, const struct route *rt, struct http_resp *resp)
{
	struct args_check c = {.rt = rt};

	if (req->too_large) {
		reply_error(resp, 413, "too_large", "the request body is over the limit");
		return 0;
	}
	if (req->body_len && req->content_type &&
	    strncasecmp(req->content_type, "application/json", 16) != 0) {
		reply_error(resp, 415, "unsupported_media_type", "send application/json");
		return 0;
	}
	if (strcmp(rt->method, "GET") == 0 && req->body_len) {
		reply_error(resp, 400, "unexpected_body", "a GET request takes no body");
		return 0;
	}
	if (http_req_args(req, arg_unknown, &c)) {
		reply_error(resp, 400, "unknown_field", "unknown query field '%s'", c.bad);
		return 0;
	}
	return 1;
}

static void
api_run(struct api *a, const struct http_req *req, const struct route *rt, const char *id,
	struct http_resp *resp)
{
	char err[VL_ERRLEN], actor[TOKEN_NAME_MAX + 16];
	struct pool_slot *s = NULL;
	struct token_auth ta;
	unsigned retry;

	if (rt->id == ROUTE_HEALTHZ)
		return api_healthz(a, resp);
	if (rt->id == ROUTE_METRICS)
		return api_metrics(a, resp);
	if (ratelimit_blocked(a->rl, req->client, (int64_t)time(NULL), &retry)) {
		char after[16];

		metrics_add(&a->rate_limited, 1);
		snprintf(after, sizeof(after), "%u", retry);
		http_resp_header(resp, "Retry-After", after);
		reply_error(resp, 429, "rate_limited",
			    "too many failed authentications from %s; retry in %u s", req->client,
			    retry);
		return;
	}
	if (pool_get(a->pool, &s, err) != VL_OK) {
		reply_internal(resp, VL_ERR_DB, "database", err);
		return;
	}
	if (api_auth(a, s, req, rt, &ta, resp)) {
		snprintf(actor, sizeof(actor), "token:%s", ta.name);
		struct handler_ctx ctx = {a->cfg, s,	   req, resp,
					  actor,  ta.role, id,	&a->search_seconds};
		static void (*const fns[ROUTE__COUNT])(struct handler_ctx *) = {
			[ROUTE_SEARCH] = handle_search,
			[ROUTE_MESSAGE] = handle_message,
			[ROUTE_MESSAGE_RAW] = handle_message_raw,
			[ROUTE_AUDIT] = handle_audit,
			[ROUTE_AUDIT_VERIFY] = handle_audit_verify,
			[ROUTE_TOKENS] = handle_tokens,
			[ROUTE_EXPORTS] = handle_export_create,
			[ROUTE_EXPORT] = handle_export_get,
			[ROUTE_EXPORT_DOWNLOAD] = handle_export_download,
			[ROUTE_HOLDS] = handle_holds,
			[ROUTE_HOLD_PLACE] = handle_hold_place,
			[ROUTE_HOLD_PREVIEW] = handle_hold_preview,
			[ROUTE_HOLD] = handle_hold,
			[ROUTE_HOLD_RELEASE] = handle_hold_release,
			[ROUTE_MATTERS] = handle_matters,
			[ROUTE_MATTER_CREATE] = handle_matter_create,
			[ROUTE_FIELDS] = handle_fields,
			[ROUTE_FIELDS_SET] = handle_fields_set,
		};
		fns[rt->id](&ctx);
	}
	pool_put(a->pool, s);
}

static void
api_count(struct api *a, enum route_id r, int status)
{
	size_t s = 0;

	while (s < API_NSTATUS && api_statuses[s] != status)
		s++;
	metrics_add(&a->requests[r][s], 1);
}

static void
api_handle(void *arg, const struct http_req *req, struct http_resp *resp)
{
	struct api *a = arg;
	const struct route *rt = NULL;
	char id[ROUTE_ID_MAX + 1];

	switch (route_match(req->method, req->path, &rt, id)) {
	case ROUTE_BAD_PATH:
		reply_error(resp, 400, "bad_path", "the path has an empty, '.' or '..' segment");
		break;
	case ROUTE_NOT_FOUND:
		reply_error(resp, 404, "not_found", "no such route");
		break;
	case ROUTE_BAD_METHOD:
		reply_error(resp, 405, "method_not_allowed", "the route does not take %.16s",
			    req->method);
		break;
	case ROUTE_OK:
		if (api_precheck(req, rt, resp))
			api_run(a, req, rt, id, resp);
		break;
	}
	if (resp->status == 0)
		reply_error(resp, 500, "internal", "no reply");
	api_count(a, rt ? rt->id : ROUTE_UNMATCHED, resp->status);
}

/* ---- start and stop ------------------------------------------------------------------- */

enum vl_err
api_start(struct api **out, const struct vl_config *cfg, struct metrics *m, char *err)
{
	char cert[CONFIG_PATH_MAX], key[CONFIG_PATH_MAX];
	struct api *a;
	enum vl_err rc;

	*out = NULL;
	if (cfg->http_listen[0] == 0)
		return VL_OK;
	tls_paths(cfg, cert, key);
	struct http_opts o = {
		.listen = cfg->http_listen,
		.tls_cert = cfg->http_tls ? cert : NULL,
		.tls_key = cfg->http_tls ? key : NULL,
		.threads = (unsigned)cfg->http_threads,
		.max_conns = (unsigned)cfg->http_max_connections,
		.per_ip_conns = (unsigned)cfg->http_max_connections,
		.timeout_s = (unsigned)cfg->http_timeout_s,
		.body_max = (size_t)cfg->http_body_max_kb << 10,
		.header_mem = API_HEADER_MEM,
	};
	a = xcalloc(1, sizeof(*a));
	a->cfg = cfg;
	a->m = m;
	a->pool = pool_new(cfg, (unsigned)cfg->http_threads);
	a->rl = ratelimit_new((unsigned)cfg->http_auth_fail_max,
			      (unsigned)cfg->http_auth_fail_window_s);
	if ((rc = http_start(&a->http, &o, api_handle, a, err)) != VL_OK) {
		api_stop(a);
		return rc;
	}
	log_info("api listening on %s (%s, %u threads)", cfg->http_listen,
		 cfg->http_tls ? "https" : "http", o.threads);
	*out = a;
	return VL_OK;
}

void
api_stop(struct api *a)
{
	if (a == NULL)
		return;
	http_stop(a->http);
	pool_free(a->pool);
	ratelimit_free(a->rl);
	free(a);
}
