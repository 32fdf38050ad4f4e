/* handlers_export - the export routes.
 *
 * Design: an export made through the API runs synchronously within its POST, bounded to
 * EXPORT_API_MAX messages (larger ones are refused 413 and made with `vellum export`, which
 * has no bound). The exports row is 'running' while it works, so GET /v1/exports/{id} from
 * another client shows it; the reply of the POST is the finished row. The download is the
 * export folder as a POSIX ustar archive, built in an unnamed scratch file so memory stays
 * bounded, audited before it leaves. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "db.h"
#include "export.h"
#include "fsutil.h"
#include "handlers_export.h"
#include "reply.h"
#include "reqjson.h"
#include "search.h"
#include "tar.h"
#include "zip.h"

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
#define EXPORT_JSON                                                                                \
	"json_build_object('id', id, 'state', state, 'query', query, 'options', options,"         \
	" 'actor', actor, 'created_at', " TS("created_at") ", 'finished_at', " TS("finished_at")   \
	", 'counts', counts, 'manifest_sha256', manifest_sha256, 'error', error,"                  \
	" 'download', CASE WHEN state = 'complete' THEN '/v1/exports/' || id || '/download' END)"  \
	"::text"

static const struct reqjson_field export_fields[] = {
	{"query", RJ_STRING, 1},	 {"format", RJ_STRING, 0}, {"per_custodian", RJ_BOOL, 0},
	{"dedup", RJ_BOOL, 0},	 {"prefix", RJ_STRING, 0},
};

static enum vl_err
audit_export(struct handler_ctx *ctx, const char *action, const char *id, char *err)
{
	char target[48];

	snprintf(target, sizeof(target), "export:%s", id);
	return audit_append(pool_conn(ctx->slot), ctx->actor, ctx->req->client, action, target,
			    NULL, err);
}

/* hide_bcc - the caller may not see Bcc recipients (roles.c, PERM_BCC). */
static int
hide_bcc(const struct handler_ctx *ctx)
{
	return !role_allows(ctx->role, PERM_BCC);
}

/* export_refused - for a caller without Bcc visibility, an export made with it (options "bcc"
 * true, or made before the option existed): 403, audited as auth.denied. Returns 1 when refused
 * (answered), 0 to go on (the export may still not exist: the route answers 404). */
static int
export_refused(struct handler_ctx *ctx, const char *id)
{
	const char *vals[1] = {id};
	char err[VL_ERRLEN], target[48], *text;
	PGresult *r = NULL;
	enum vl_err rc;
	json_t *d;

	if (!hide_bcc(ctx))
		return 0;
	rc = db_query(pool_conn(ctx->slot),
		      "SELECT 1 FROM exports WHERE id = $1::int8"
		      " AND coalesce((options->>'bcc')::bool, true)",
		      1, vals, &r, err);
	if (rc == VL_OK && PQntuples(r) == 0) {
		PQclear(r);
		return 0;
	}
	PQclear(r);
	if (rc == VL_OK) {
		snprintf(target, sizeof(target), "export:%s", id);
		d = json_pack("{s:s,s:s,s:s}", "role", role_name(ctx->role), "needs", "bcc", "why",
			      "the export was made with Bcc visibility");
		text = json_dumps(d, JSON_COMPACT);
		json_decref(d);
		rc = audit_append(pool_conn(ctx->slot), ctx->actor, ctx->req->client,
				  "auth.denied", target, text, err);
		free(text);
	}
	if (rc != VL_OK)
		reply_internal(ctx->resp, rc, "export", err);
	else
		reply_error(ctx->resp, 403, "forbidden",
			    "export %s was made with Bcc visibility, which the role %s lacks", id,
			    role_name(ctx->role));
	return 1;
}

/* reply_row - 200/201 with the exports row id as JSON; 404 when there is none. */
static void
reply_row(struct handler_ctx *ctx, int status, const char *id)
{
	const char *vals[1] = {id};
	char err[VL_ERRLEN];
	PGresult *r = NULL;

	if (db_query(pool_conn(ctx->slot), "SELECT " EXPORT_JSON " FROM exports WHERE id = $1::int8",
		     1, vals, &r, err) != VL_OK) {
		reply_internal(ctx->resp, VL_ERR_DB, "exports", err);
		return;
	}
	if (PQntuples(r) == 0) {
		reply_error(ctx->resp, 404, "not_found", "no export %s", id);
	} else {
		ctx->resp->status = status;
		ctx->resp->content_type = "application/json";
		buf_append_str(&ctx->resp->body, PQgetvalue(r, 0, 0));
	}
	PQclear(r);
}

/* export_opts_from - the options of the body into o; 0, or -1 with a 400 answered. */
static int
export_opts_from(struct handler_ctx *ctx, json_t *in, struct export_opts *o)
{
	const char *fmt = json_string_value(json_object_get(in, "format"));

	o->query = json_string_value(json_object_get(in, "query"));
	o->per_custodian = json_is_true(json_object_get(in, "per_custodian"));
	o->dedup = json_is_true(json_object_get(in, "dedup"));
	o->prefix = json_string_value(json_object_get(in, "prefix"));
	o->actor = ctx->actor;
	o->client = ctx->req->client;
	o->hide_bcc = hide_bcc(ctx);
	if (fmt == NULL || strcmp(fmt, "eml") == 0)
		o->format = EXPORT_EML;
	else if (strcmp(fmt, "mbox") == 0)
		o->format = EXPORT_MBOX;
	else {
		reply_error(ctx->resp, 400, "bad_field", "format: eml or mbox");
		return -1;
	}
	return 0;
}

/* within_bound - the query parses and matches at most EXPORT_API_MAX; else answered. */
static int
within_bound(struct handler_ctx *ctx, const char *query)
{
	struct search_who who = {ctx->actor, ctx->req->client, hide_bcc(ctx)};
	struct search_total t;
	char err[VL_ERRLEN];
	enum vl_err rc = search_total_get(pool_conn(ctx->slot), &who, query, 1, &t, err);

	if (rc == VL_ERR_PARSE)
		search_error(ctx, rc, err); /* 400, or 403 for bcc: */
	else if (rc == VL_ERR_LIMIT)
		reply_error(ctx->resp, 400, "bad_query", "%s", err);
	else if (rc != VL_OK)
		reply_internal(ctx->resp, rc, "export count", err);
	else if (t.n > EXPORT_API_MAX)
		reply_error(ctx->resp, 413, "too_large",
			    "%lld messages match; the API exports at most %d: use vellum export",
			    (long long)t.n, EXPORT_API_MAX);
	return rc == VL_OK && t.n <= EXPORT_API_MAX;
}

/* export_finish - the row's outcome. */
static enum vl_err
export_finish(struct handler_ctx *ctx, const char *id, enum vl_err rc,
	      const struct export_counts *n, const char *tag, const char *why, char *err)
{
	char counts[256];
	const char *vals[5] = {id, rc == VL_OK ? "complete" : "failed", counts,
			       rc == VL_OK ? tag : NULL, rc == VL_OK ? NULL : why};

	snprintf(counts, sizeof(counts),
		 "{\"messages\": %llu, \"documents\": %llu, \"files\": %llu, \"bytes\": %llu,"
		 " \"custodians\": %llu, \"unindexed\": %llu}",
		 (unsigned long long)n->messages, (unsigned long long)n->documents,
		 (unsigned long long)n->files, (unsigned long long)n->bytes,
		 (unsigned long long)n->custodians, (unsigned long long)n->unindexed);
	return db_exec(pool_conn(ctx->slot),
		       "UPDATE exports SET state = $2, counts = $3::jsonb, manifest_sha256 = $4,"
		       " error = $5, finished_at = now() WHERE id = $1::int8",
		       5, vals, err);
}

/* export_begin - the 'running' row; its id (decimal) into id. */
static enum vl_err
export_begin(struct handler_ctx *ctx, const struct export_opts *o, char *id, char *dir,
	     char *err)
{
	char opts[192];
	const char *vals[4] = {o->query, opts, o->actor, NULL};
	PGresult *r = NULL;
	enum vl_err rc;

	snprintf(opts, sizeof(opts),
		 "{\"format\": \"%s\", \"per_custodian\": %s, \"dedup\": %s, \"prefix\": \"%s\","
		 " \"bcc\": %s}",
		 o->format == EXPORT_EML ? "eml" : "mbox", o->per_custodian ? "true" : "false",
		 o->dedup ? "true" : "false", o->prefix ? o->prefix : EXPORT_PREFIX_DFLT,
		 o->hide_bcc ? "false" : "true");
	if ((rc = db_query(pool_conn(ctx->slot),
			   "INSERT INTO exports (query, options, actor) VALUES ($1, $2::jsonb, $3)"
			   " RETURNING id",
			   3, vals, &r, err)) != VL_OK)
		return rc;
	snprintf(id, 24, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	config_path(dir, ctx->cfg, "exports");
	if ((rc = fs_mkdir_p(dir, 0750, err)) != VL_OK)
		return rc;
	strcat(dir, "/");
	strcat(dir, id);
	vals[0] = id;
	vals[1] = dir;
	return db_exec(pool_conn(ctx->slot), "UPDATE exports SET dir = $2 WHERE id = $1::int8", 2,
		       vals, err);
}

void
handle_export_create(struct handler_ctx *ctx)
{
	char err[VL_ERRLEN] = "", why[VL_ERRLEN] = "", id[24], dir[CONFIG_PATH_MAX], tag[65] = "";
	struct export_opts o = {0};
	struct export_counts n = {0};
	const char *code;
	json_t *in = NULL;
	enum vl_err rc;

	if (reqjson_parse(&in, (const char *)ctx->req->body, ctx->req->body_len, export_fields,
			  sizeof(export_fields) / sizeof(export_fields[0]), &code, err) != VL_OK) {
		reply_error(ctx->resp, 400, code, "%s", err);
		return;
	}
	if (export_opts_from(ctx, in, &o) != 0 || !within_bound(ctx, o.query))
		goto out;
	if ((rc = export_begin(ctx, &o, id, dir, err)) != VL_OK) {
		reply_internal(ctx->resp, rc, "export", err);
		goto out;
	}
	o.out_dir = dir;
	o.id = id;
	rc = export_run(ctx->cfg, pool_conn(ctx->slot), &o, &n, tag, why);
	if (export_finish(ctx, id, rc, &n, tag, why, err) != VL_OK) {
		reply_internal(ctx->resp, VL_ERR_DB, "export", err);
		goto out;
	}
	if (rc == VL_ERR_CONFIG)
		reply_error(ctx->resp, 400, "bad_field", "%s", why);
	else
		/* 503 for what passes (a record not readable just now, the database, the
		 * keyring), 500 for the rest: the export row says why either way. */
		reply_row(ctx, rc == VL_OK ? 201 : vl_err_http(rc) == 503 ? 503 : 500, id);
out:
	json_decref(in);
}

void
handle_export_get(struct handler_ctx *ctx)
{
	char err[VL_ERRLEN];

	if (export_refused(ctx, ctx->id))
		return;
	if (audit_export(ctx, "export.view", ctx->id, err) != VL_OK) {
		reply_internal(ctx->resp, VL_ERR_DB, "audit", err);
		return;
	}
	reply_row(ctx, 200, ctx->id);
}

void
handle_export_download(struct handler_ctx *ctx)
{
	char err[VL_ERRLEN], tmpdir[CONFIG_PATH_MAX], top[48], disp[96];
	const char *vals[1] = {ctx->id};
	const char *fmt = http_req_arg(ctx->req, "format");
	int zip = fmt && strcmp(fmt, "zip") == 0;
	PGresult *r = NULL;
	struct stat st;
	int fd = -1;

	if (db_query(pool_conn(ctx->slot), "SELECT state, dir FROM exports WHERE id = $1::int8", 1,
		     vals, &r, err) != VL_OK) {
		reply_internal(ctx->resp, VL_ERR_DB, "exports", err);
		return;
	}
	if (PQntuples(r) == 0) {
		reply_error(ctx->resp, 404, "not_found", "no export %s", ctx->id);
		goto out;
	}
	if (export_refused(ctx, ctx->id))
		goto out;
	if (fmt && strcmp(fmt, "zip") != 0 && strcmp(fmt, "tar") != 0) {
		reply_error(ctx->resp, 400, "bad_field", "format: tar or zip");
		goto out;
	}
	if (strcmp(PQgetvalue(r, 0, 0), "complete") != 0) {
		reply_error(ctx->resp, 409, "not_complete", "export %s is %s", ctx->id,
			    PQgetvalue(r, 0, 0));
		goto out;
	}
	if (audit_export(ctx, "export.download", ctx->id, err) != VL_OK) {
		reply_internal(ctx->resp, VL_ERR_DB, "audit", err);
		goto out;
	}
	config_path(tmpdir, ctx->cfg, "store/tmp");
	snprintf(top, sizeof(top), "vellum-export-%s", ctx->id);
	if ((fd = open(tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) < 0 ||
	    (zip ? zip_dir(fd, PQgetvalue(r, 0, 1), top, err)
		 : tar_dir(fd, PQgetvalue(r, 0, 1), top, err)) != VL_OK ||
	    fstat(fd, &st) != 0 ||
	    lseek(fd, 0, SEEK_SET) != 0) {
		reply_internal(ctx->resp, VL_ERR_IO, "export archive", fd < 0 ? tmpdir : err);
		goto out;
	}
	snprintf(disp, sizeof(disp), "attachment; filename=\"%s.%s\"", top, zip ? "zip" : "tar");
	http_resp_header(ctx->resp, "Content-Disposition", disp);
	ctx->resp->status = 200;
	ctx->resp->content_type = zip ? "application/zip" : "application/x-tar";
	ctx->resp->fd = fd;
	ctx->resp->fd_size = (uint64_t)st.st_size;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	PQclear(r);
}
