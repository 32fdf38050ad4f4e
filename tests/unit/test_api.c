/* test_api - the pure parts of the HTTP API: routing, request validation, tokens, roles, the
 * rate limit, the metrics text, and the OpenAPI description against the route table. */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "handlers.h"
#include "metrics.h"
#include "ratelimit.h"
#include "reqjson.h"
#include "roles.h"
#include "route.h"
#include "token.h"
#include "unit.h"

static void
test_route_match(void)
{
	static const struct {
		const char *method, *path;
		enum route_result want;
		int route;
		const char *id;
	} cases[] = {
		{"GET", "/healthz", ROUTE_OK, ROUTE_HEALTHZ, ""},
		{"GET", "/metrics", ROUTE_OK, ROUTE_METRICS, ""},
		{"POST", "/v1/search", ROUTE_OK, ROUTE_SEARCH, ""},
		{"GET", "/v1/search", ROUTE_BAD_METHOD, -1, ""},
		{"GET", "/v1/messages/42", ROUTE_OK, ROUTE_MESSAGE, "42"},
		{"GET", "/v1/messages/42/raw", ROUTE_OK, ROUTE_MESSAGE_RAW, "42"},
		{"GET", "/v1/messages/42/fields", ROUTE_OK, ROUTE_FIELDS, "42"},
		{"PUT", "/v1/messages/42/fields", ROUTE_OK, ROUTE_FIELDS_SET, "42"},
		{"POST", "/v1/messages/42/fields", ROUTE_BAD_METHOD, -1, ""},
		{"DELETE", "/v1/messages/42", ROUTE_BAD_METHOD, -1, ""},
		{"GET", "/v1/messages/abc", ROUTE_NOT_FOUND, -1, ""},
		{"GET", "/v1/messages/1234567890123456789", ROUTE_NOT_FOUND, -1, ""},
		{"GET", "/v1/messages/", ROUTE_BAD_PATH, -1, ""},
		{"GET", "/v1/messages/42/raw/", ROUTE_BAD_PATH, -1, ""},
		{"GET", "/v1/messages/42/../raw", ROUTE_BAD_PATH, -1, ""},
		{"GET", "/v1/./audit", ROUTE_BAD_PATH, -1, ""},
		{"GET", "/v1//audit", ROUTE_BAD_PATH, -1, ""},
		{"GET", "/../etc/passwd", ROUTE_BAD_PATH, -1, ""},
		{"GET", "v1/audit", ROUTE_BAD_PATH, -1, ""},
		{"GET", "/v1/audit", ROUTE_OK, ROUTE_AUDIT, ""},
		{"GET", "/v1/audit/verify", ROUTE_OK, ROUTE_AUDIT_VERIFY, ""},
		{"GET", "/v1/tokens", ROUTE_OK, ROUTE_TOKENS, ""},
		{"GET", "/", ROUTE_NOT_FOUND, -1, ""},
		{"GET", "/v2/audit", ROUTE_NOT_FOUND, -1, ""},
		{"GET", "/healthzz", ROUTE_NOT_FOUND, -1, ""},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct route *rt;
		char id[ROUTE_ID_MAX + 1];
		enum route_result r = route_match(cases[i].method, cases[i].path, &rt, id);

		CHECK(r == cases[i].want, cases[i].path);
		if (cases[i].route >= 0)
			CHECK(rt && (int)rt->id == cases[i].route && strcmp(id, cases[i].id) == 0,
			      cases[i].path);
	}
}

static void
test_route_auth(void)
{
	size_t n;
	const struct route *t = route_table(&n);

	for (size_t i = 0; i < n; i++) {
		int v1 = strncmp(t[i].pattern, "/v1/", 4) == 0;

		CHECK(t[i].auth == v1, t[i].pattern);
		CHECK(strcmp(route_label(t[i].id), "unmatched") != 0, t[i].pattern);
	}
}

static const struct reqjson_field fields[] = {
	{"query", RJ_STRING, 1}, {"limit", RJ_INT, 0}, {"cursor", RJ_STRING, 0}, {"count", RJ_BOOL, 0}};

static void
test_reqjson(void)
{
	static const struct {
		const char *body, *code; /* code NULL: accepted */
	} cases[] = {
		{"{\"query\": \"from:a\"}", NULL},
		{"{\"query\": \"x\", \"limit\": 10, \"cursor\": \"c\", \"count\": true}", NULL},
		{"", "bad_json"},
		{"{", "bad_json"},
		{"[1]", "bad_json"},
		{"\"q\"", "bad_json"},
		{"{\"query\": \"x\"} trailing", "bad_json"},
		{"{\"query\": \"x\", \"query\": \"y\"}", "bad_json"},
		{"{\"query\": \"x\", \"sql\": \"drop\"}", "unknown_field"},
		{"{\"query\": 1}", "bad_field"},
		{"{\"query\": \"x\", \"limit\": \"10\"}", "bad_field"},
		{"{\"query\": \"x\", \"count\": 1}", "bad_field"},
		{"{\"limit\": 1}", "missing_field"},
		{"{\"query\": \"x\", \"limit\": 1.5}", "bad_field"},
	};
	char msg[VL_ERRLEN];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *o = NULL;
		const char *code = NULL;
		enum vl_err rc = reqjson_parse(&o, cases[i].body, strlen(cases[i].body), fields, 4,
					       &code, msg);

		if (cases[i].code == NULL)
			CHECK(rc == VL_OK && o != NULL, cases[i].body);
		else
			CHECK(rc == VL_ERR_PARSE && o == NULL && strcmp(code, cases[i].code) == 0 &&
				      msg[0],
			      cases[i].body);
		json_decref(o);
	}
	/* Nesting is bounded. */
	char deep[64] = "{\"query\": \"x\", \"limit\": ";
	json_t *o = NULL;
	const char *code;
	strcat(deep, "[[[[[[[[[[1]]]]]]]]]]}");
	CHECK(reqjson_parse(&o, deep, strlen(deep), fields, 4, &code, msg) == VL_ERR_PARSE,
	      "depth");
	CHECK(reqjson_arg_allowed("actor", (const char *const[]){"actor", NULL}), "arg allowed");
	CHECK(!reqjson_arg_allowed("x", (const char *const[]){"actor", NULL}), "arg refused");
	CHECK(!reqjson_arg_allowed("x", NULL), "no args");
}

static void
test_token_format(void)
{
	char a[TOKEN_TEXT_LEN + 1], b[TOKEN_TEXT_LEN + 1], bad[TOKEN_TEXT_LEN + 1];
	uint8_t ha[TOKEN_HASH_LEN], hb[TOKEN_HASH_LEN], h[TOKEN_HASH_LEN];

	token_generate(a, ha);
	token_generate(b, hb);
	CHECK(strlen(a) == TOKEN_TEXT_LEN && strncmp(a, "vlm_", 4) == 0, "format");
	CHECK(strcmp(a, b) != 0 && memcmp(ha, hb, TOKEN_HASH_LEN) != 0, "two tokens differ");
	CHECK(token_hash(h, a) == 0 && memcmp(h, ha, TOKEN_HASH_LEN) == 0, "hash matches");
	memcpy(bad, a, sizeof(bad));
	bad[10] = '!';
	CHECK(token_hash(h, bad) == -1, "bad character");
	CHECK(token_hash(h, "vlm_short") == -1, "short");
	bad[10] = a[10];
	bad[0] = 'x';
	CHECK(token_hash(h, bad) == -1, "prefix");
	CHECK(token_name_valid("alice.officer-1_x") && !token_name_valid("") &&
		      !token_name_valid("a b") && !token_name_valid("a'; drop table x; --"),
	      "names");
	CHECK(strcmp(token_state_name(TOKEN_REVOKED), "revoked") == 0, "state names");
}

static void
test_token_expiry(void)
{
	char out[64];
	int iv = -1;

	CHECK(token_expiry_parse("30d", out, sizeof(out), &iv) == 0 && iv == 1 &&
		      strcmp(out, "30 days") == 0,
	      "30d");
	CHECK(token_expiry_parse("12h", out, sizeof(out), &iv) == 0 && strcmp(out, "12 hours") == 0,
	      "12h");
	CHECK(token_expiry_parse("5m", out, sizeof(out), &iv) == 0 && strcmp(out, "5 minutes") == 0,
	      "5m");
	CHECK(token_expiry_parse("2030-01-31", out, sizeof(out), &iv) == 0 && iv == 0, "date");
	CHECK(token_expiry_parse("2030-01-31T12:00:00Z", out, sizeof(out), &iv) == 0 && iv == 0,
	      "datetime");
	const char *bad[] = {"", "d", "0d", "-1d", "30", "30y", "99999999d", "2030-1-31",
			     "2030-01-31 12:00", "now()", "1d; drop"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(token_expiry_parse(bad[i], out, sizeof(out), &iv) == -1, bad[i]);
}

static void
test_roles(void)
{
	/* The README's table, cell by cell. */
	static const char want[ROLE__COUNT][PERM__COUNT + 1] = {
		/* search view raw export holds audit tokens bcc fields */
		[ROLE_ADMIN] = "000000100",   [ROLE_OFFICER] = "111100011",
		[ROLE_LEGAL] = "111110011",   [ROLE_AUDITOR] = "000001000",
		[ROLE_INGEST] = "000000000",  [ROLE_REVIEWER] = "111100000",
	};

	for (int r = 0; r < ROLE__COUNT; r++) {
		CHECK(role_parse(role_name((enum role)r)) == r, role_name((enum role)r));
		for (int p = 0; p < PERM__COUNT; p++)
			CHECK(role_allows((enum role)r, (enum perm)p) == (want[r][p] == '1'),
			      role_name((enum role)r));
	}
	CHECK(role_parse("root") == -1 && role_parse("") == -1 && role_parse("Admin") == -1,
	      "unknown roles");
	CHECK(!role_allows((enum role)99, PERM_SEARCH) && !role_allows(ROLE_ADMIN, (enum perm)99),
	      "out of range");
}

static void
test_ratelimit(void)
{
	struct ratelimit *rl = ratelimit_new(3, 60);
	unsigned retry = 0;

	CHECK(!ratelimit_blocked(rl, "10.0.0.1", 1000, &retry), "fresh");
	CHECK(ratelimit_fail(rl, "10.0.0.1", 1000) == 1, "1");
	ratelimit_fail(rl, "10.0.0.1", 1001);
	CHECK(!ratelimit_blocked(rl, "10.0.0.1", 1002, &retry), "2 of 3");
	ratelimit_fail(rl, "10.0.0.1", 1002);
	CHECK(ratelimit_blocked(rl, "10.0.0.1", 1003, &retry) && retry == 57, "3 of 3");
	CHECK(!ratelimit_blocked(rl, "10.0.0.2", 1003, &retry), "other address");
	CHECK(!ratelimit_blocked(rl, "10.0.0.1", 1060, &retry), "window over");
	CHECK(ratelimit_fail(rl, "10.0.0.1", 1061) == 1, "new window");
	/* A full table reuses the oldest slot rather than failing. */
	for (int i = 0; i < RATELIMIT_SLOTS + 10; i++) {
		char a[32];

		snprintf(a, sizeof(a), "192.168.%d.%d", i / 256, i % 256);
		ratelimit_fail(rl, a, 2000 + i);
	}
	CHECK(ratelimit_fail(rl, "192.168.9.9", 5000) >= 1, "table full");
	ratelimit_free(rl);
}

static void
test_metrics_text(void)
{
	struct metrics m = {0};
	struct buf b = {0};

	metrics_observe(&m.ingest_commit_seconds, 500);	    /* 0.5 ms */
	metrics_observe(&m.ingest_commit_seconds, 3000);    /* 3 ms */
	metrics_observe(&m.ingest_commit_seconds, 20000000); /* 20 s: +Inf */
	metrics_add(&m.ingest_messages, 7);
	metrics_write_ingest(&b, &m);
	const char *t = (const char *)b.data;
	CHECK(strstr(t, "# TYPE vellum_ingest_messages_total counter\nvellum_ingest_messages_total 7\n") != NULL,
	      "counter");
	CHECK(strstr(t, "vellum_ingest_commit_seconds_bucket{le=\"0.001\"} 1\n") != NULL, "le 1ms");
	CHECK(strstr(t, "vellum_ingest_commit_seconds_bucket{le=\"0.005\"} 2\n") != NULL, "le 5ms");
	CHECK(strstr(t, "vellum_ingest_commit_seconds_bucket{le=\"10\"} 2\n") != NULL, "le 10");
	CHECK(strstr(t, "vellum_ingest_commit_seconds_bucket{le=\"+Inf\"} 3\n") != NULL, "+Inf");
	CHECK(strstr(t, "vellum_ingest_commit_seconds_count 3\n") != NULL, "count");
	CHECK(strstr(t, "vellum_ingest_commit_seconds_sum 20.003500\n") != NULL, "sum");
	buf_free(&b);
}

static void
test_time_filter(void)
{
	const char *good[] = {"2024-01-31", "2024-01-31T10:00:00Z", "2024-01-31T10:00:00.5Z",
			      "2024-01-31T10:00:00.123456Z"};
	const char *bad[] = {"", "2024-1-31", "2024-01-31T10:00:00", "2024-01-31T10:00:00.Z",
			     "2024-01-31T10:00:00.1234567Z", "yesterday", "2024-01-31' OR 1=1 --",
			     "2024-01-31T10:00:00+02:00"};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(handlers_time_valid(good[i]), good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(!handlers_time_valid(bad[i]), bad[i]);
}

/* openapi_ops - "METHOD /path" of every operation in api/openapi.yaml (2-space paths, 4-space
 * methods under "paths:"), into ops; returns how many. */
static size_t
openapi_ops(char ops[][128], size_t max)
{
	FILE *f = fopen("api/openapi.yaml", "r");
	char line[512], path[128] = "";
	int in_paths = 0;
	size_t n = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) && n < max) {
		line[strcspn(line, "\r\n")] = 0;
		if (line[0] != ' ' && line[0] != 0)
			in_paths = strcmp(line, "paths:") == 0;
		else if (in_paths && strncmp(line, "  /", 3) == 0 && line[strlen(line) - 1] == ':')
			snprintf(path, sizeof(path), "%.*s", (int)strlen(line) - 3, line + 2);
		else if (in_paths && path[0] &&
			 (strcmp(line, "    get:") == 0 || strcmp(line, "    post:") == 0 ||
			  strcmp(line, "    put:") == 0 || strcmp(line, "    delete:") == 0)) {
			char m[8];
			size_t k;

			for (k = 0; line[4 + k] != ':'; k++)
				m[k] = (char)(line[4 + k] - 'a' + 'A');
			m[k] = 0;
			snprintf(ops[n++], 128, "%s %s", m, path);
		}
	}
	fclose(f);
	return n;
}

static void
test_openapi_matches_routes(void)
{
	char ops[64][128], want[128];
	size_t n = openapi_ops(ops, 64), nr;
	const struct route *t = route_table(&nr);

	CHECK(n == nr, "openapi operation count = route count");
	for (size_t i = 0; i < nr; i++) {
		int found = 0;

		snprintf(want, sizeof(want), "%s %s", t[i].method, t[i].pattern);
		for (size_t k = 0; k < n; k++)
			found |= strcmp(ops[k], want) == 0;
		CHECK(found, want);
	}
}

UNIT_SUITE(api, {"route match", test_route_match}, {"route auth", test_route_auth},
	   {"request json", test_reqjson}, {"token format and hash", test_token_format},
	   {"token expiry", test_token_expiry}, {"role table", test_roles},
	   {"rate limit", test_ratelimit}, {"metrics text", test_metrics_text},
	   {"audit time filter", test_time_filter},
	   {"openapi describes every route", test_openapi_matches_routes})
