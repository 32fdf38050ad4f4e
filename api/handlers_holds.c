/* handlers_holds - the legal-hold routes (role legal): matters, holds placed by custodians
 * and/or a query with an optional sent-date range, their preview, listing and release. The
 * work and its audit rows are retention-policies/hold's; this file is the HTTP shape. */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "hold.h"
#include "reply.h"
#include "reqjson.h"

#define HOLD_BODY_CUSTODIANS 100

static const struct reqjson_field place_fields[] = {
	{"name", RJ_STRING, 1},	      {"matter", RJ_STRING, 1},	 {"description", RJ_STRING, 0},
	{"query", RJ_STRING, 0},      {"custodians", RJ_STRING, 0}, {"date_from", RJ_STRING, 0},
	{"date_to", RJ_STRING, 0},
};
static const struct reqjson_field preview_fields[] = {
	{"query", RJ_STRING, 0},
	{"custodians", RJ_STRING, 0},
	{"date_from", RJ_STRING, 0},
	{"date_to", RJ_STRING, 0},
};
static const struct reqjson_field release_fields[] = {{"reason", RJ_STRING, 1}};
static const struct reqjson_field matter_fields[] = {{"name", RJ_STRING, 1},
						      {"description", RJ_STRING, 0}};

static json_t *
body(struct handler_ctx *ctx, const struct reqjson_field *f, size_t n)
{
	char err[VL_ERRLEN];
	const char *code;
	json_t *in;

	if (reqjson_parse(&in, (const char *)ctx->req->body, ctx->req->body_len, f, n, &code,
			  err) != VL_OK) {
		reply_error(ctx->resp, 400, code, "%s", err);
		return NULL;
	}
	return in;
}

#define BODY(ctx, f) body(ctx, f, sizeof(f) / sizeof(f[0]))

static const char *
jget(json_t *in, const char *k)
{
	return json_string_value(json_object_get(in, k));
}

/* spec_from - in's fields into spec; custodians, "a,b,c", split into cust (in list's copy). */
static void
spec_from(json_t *in, struct hold_spec *spec, char **cust, char **list)
{
	char *save = NULL;

	spec->name = jget(in, "name") ? jget(in, "name") : "preview";
	spec->matter = jget(in, "matter");
	spec->description = jget(in, "description");
	spec->query = jget(in, "query");
	spec->date_from = jget(in, "date_from");
	spec->date_to = jget(in, "date_to");
	*list = strdup(jget(in, "custodians") ? jget(in, "custodians") : "");
	for (char *t = *list ? strtok_r(*list, ", ", &save) : NULL;
	     t && spec->ncustodians < HOLD_BODY_CUSTODIANS; t = strtok_r(NULL, ", ", &save))
		cust[spec->ncustodians++] = t;
	spec->custodians = cust;
}

/* answer - a hold call's failure as its HTTP shape. */
static void
answer_error(struct handler_ctx *ctx, enum vl_err rc, const char *what, const char *err)
{
	if (rc == VL_ERR_DB && strstr(err, "timestamp") != NULL)
		reply_error(ctx->resp, 400, "bad_field", "date_from/date_to: not a date");
	else
		reply_refusal(ctx->resp, rc, what, err);
}

/* reply_text_json - 200/201 with JSON text from the hold module. */
static void
reply_text_json(struct handler_ctx *ctx, int status, const char *text)
{
	json_t *j = json_loads(text, 0, NULL);

	if (j == NULL)
		reply_internal(ctx->resp, VL_ERR_INTERNAL, "hold json", text);
	else
		reply_json(ctx->resp, status, j);
}

void
handle_holds(struct handler_ctx *ctx)
{
	char err[VL_ERRLEN] = "", *json = NULL;
	enum vl_err rc = hold_list_json(pool_conn(ctx->slot), &json, err);

	if (rc != VL_OK)
		answer_error(ctx, rc, "hold list", err);
	else
		reply_text_json(ctx, 200, json);
	free(json);
}

void
handle_hold(struct handler_ctx *ctx)
{
	char err[VL_ERRLEN] = "", name[HOLD_NAME_MAX + 1], *json = NULL;
	enum vl_err rc = hold_name_by_id(pool_conn(ctx->slot), ctx->id, name, err);

	if (rc == VL_OK)
		rc = hold_show_json(pool_conn(ctx->slot), name, &json, err);
	if (rc != VL_OK)
		answer_error(ctx, rc, "hold show", err);
	else
		reply_text_json(ctx, 200, json);
	free(json);
}

void
handle_hold_place(struct handler_ctx *ctx)
{
	char err[VL_ERRLEN] = "", *cust[HOLD_BODY_CUSTODIANS], *list = NULL, *json = NULL;
	struct hold_spec spec = {0};
	json_t *in = BODY(ctx, place_fields);
	int64_t covered = 0;
	enum vl_err rc;

	if (in == NULL)
		return;
	spec_from(in, &spec, cust, &list);
	rc = hold_place(pool_conn(ctx->slot), ctx->actor, ctx->req->client, &spec, &covered, err);
	if (rc == VL_OK)
		rc = hold_show_json(pool_conn(ctx->slot), spec.name, &json, err);
	if (rc != VL_OK)
		answer_error(ctx, rc, "hold place", err);
	else
		reply_text_json(ctx, 201, json);
	free(json);
	free(list);
	json_decref(in);
}

void
handle_hold_preview(struct handler_ctx *ctx)
{
	char err[VL_ERRLEN] = "", *cust[HOLD_BODY_CUSTODIANS], *list = NULL;
	struct hold_spec spec = {0};
	json_t *in = BODY(ctx, preview_fields);
	int64_t n = 0;
	enum vl_err rc;

	if (in == NULL)
		return;
	spec_from(in, &spec, cust, &list);
	rc = hold_preview(pool_conn(ctx->slot), &spec, &n, err);
	if (rc != VL_OK)
		answer_error(ctx, rc, "hold preview", err);
	else
		reply_json(ctx->resp, 200, json_pack("{s:I}", "messages", (json_int_t)n));
	free(list);
	json_decref(in);
}

void
handle_hold_release(struct handler_ctx *ctx)
{
	char err[VL_ERRLEN] = "", name[HOLD_NAME_MAX + 1], *json = NULL;
	json_t *in = BODY(ctx, release_fields);
	enum vl_err rc;

	if (in == NULL)
		return;
	rc = hold_name_by_id(pool_conn(ctx->slot), ctx->id, name, err);
	if (rc == VL_OK)
		rc = hold_release(pool_conn(ctx->slot), ctx->actor, ctx->req->client, name,
				  jget(in, "reason"), err);
	if (rc == VL_OK)
		rc = hold_show_json(pool_conn(ctx->slot), name, &json, err);
	if (rc != VL_OK)
		answer_error(ctx, rc, "hold release", err);
	else
		reply_text_json(ctx, 200, json);
	free(json);
	json_decref(in);
}

void
handle_matters(struct handler_ctx *ctx)
{
	char err[VL_ERRLEN] = "", *json = NULL;
	enum vl_err rc = hold_matters_json(pool_conn(ctx->slot), &json, err);

	if (rc != VL_OK)
		answer_error(ctx, rc, "matter list", err);
	else
		reply_text_json(ctx, 200, json);
	free(json);
}

void
handle_matter_create(struct handler_ctx *ctx)
{
	char err[VL_ERRLEN] = "";
	json_t *in = BODY(ctx, matter_fields);
	enum vl_err rc;

	if (in == NULL)
		return;
	rc = hold_matter_create(pool_conn(ctx->slot), ctx->actor, ctx->req->client,
				jget(in, "name"), jget(in, "description"), err);
	if (rc != VL_OK)
		answer_error(ctx, rc, "matter create", err);
	else
		reply_json(ctx->resp, 201, json_pack("{s:s}", "name", jget(in, "name")));
	json_decref(in);
}
