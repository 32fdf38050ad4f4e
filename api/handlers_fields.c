/* handlers_fields - the business-field routes of 電子帳簿保存法: a message's versions
 * (GET /v1/messages/{id}/fields, audited fields.view) and a new version (PUT, roles officer
 * and legal; audited fields.set by archiver/bizfields, with the old and new values). The
 * checks and the writing are bizfields'; this file is the HTTP shape. */
#include <stdlib.h>

#include "audit.h"
#include "bizfields.h"
#include "buf.h"
#include "handlers.h"
#include "reply.h"
#include "reqjson.h"

/* Strings all: an amount as a JSON number would go through a double ("0.1"). */
static const struct reqjson_field set_fields[] = {
	{"txdate", RJ_STRING, 0},	{"amount", RJ_STRING, 0}, {"currency", RJ_STRING, 0},
	{"counterparty", RJ_STRING, 0}, {"reason", RJ_STRING, 1},
};

/* fields_reply - status with the message's versions, after the audit row of the read (a set's
 * row is already written: then action is NULL). */
static void
fields_reply(struct handler_ctx *ctx, int status, const char *action)
{
	char err[VL_ERRLEN] = "", *json = NULL, *target = NULL;
	enum vl_err rc = bizfields_history_json(pool_conn(ctx->slot), ctx->id, &json, err);
	json_t *j;

	if (rc == VL_OK && action) {
		target = xasprintf("message:%s", ctx->id);
		rc = audit_append(pool_conn(ctx->slot), ctx->actor, ctx->req->client, action, target,
				  NULL, err);
	}
	if (rc != VL_OK)
		reply_refusal(ctx->resp, rc, "fields read", err);
	else if ((j = json_loads(json, 0, NULL)) == NULL)
		reply_internal(ctx->resp, VL_ERR_INTERNAL, "fields json", "unparsable");
	else
		reply_json(ctx->resp, status, j);
	free(target);
	free(json);
}

void
handle_fields(struct handler_ctx *ctx)
{
	fields_reply(ctx, 200, "fields.view");
}

void
handle_fields_set(struct handler_ctx *ctx)
{
	char err[VL_ERRLEN] = "";
	const char *code;
	json_t *in;
	struct bizfields_set s = {.message_id = ctx->id};
	enum vl_err rc;

	if (reqjson_parse(&in, (const char *)ctx->req->body, ctx->req->body_len, set_fields,
			  sizeof(set_fields) / sizeof(set_fields[0]), &code, err) != VL_OK) {
		reply_error(ctx->resp, 400, code, "%s", err);
		return;
	}
	s.txdate = json_string_value(json_object_get(in, "txdate"));
	s.amount = json_string_value(json_object_get(in, "amount"));
	s.currency = json_string_value(json_object_get(in, "currency"));
	s.counterparty = json_string_value(json_object_get(in, "counterparty"));
	s.reason = json_string_value(json_object_get(in, "reason"));
	rc = bizfields_set(pool_conn(ctx->slot), ctx->actor, ctx->req->client, &s, NULL, err);
	if (rc != VL_OK)
		reply_refusal(ctx->resp, rc, "fields set", err);
	else
		fields_reply(ctx, 200, NULL);
	json_decref(in);
}
