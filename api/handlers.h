/* handlers - what each API route does once the request is authenticated and allowed.
 * Owns: the SQL and JSON of each route, and the audit row each one appends (search's row is
 * the search engine's). Not: routing, authentication, rate limits, metrics (api). */
#ifndef VL_HANDLERS_H
#define VL_HANDLERS_H

#include "config.h"
#include "http.h"
#include "metrics.h"
#include "pool.h"
#include "roles.h"
#include "route.h"

struct handler_ctx {
	const struct vl_config *cfg;
	struct pool_slot *slot;	 /* a working connection, lent for this request */
	const struct http_req *req;
	struct http_resp *resp;
	const char *actor;	 /* "token:<name>" */
	enum role role;
	const char *id;		 /* the path's {id}, or "" */
	struct metrics_hist *search_seconds;
};

/* search_error - a search engine error (err) as the API's reply: 400 for a malformed query, 403
 * (audited auth.denied) for an operator the role may not use, else 500. */
void search_error(struct handler_ctx *ctx, enum vl_err rc, const char *err);

/* Each fills ctx->resp: the reply or the error shape. */
void handle_search(struct handler_ctx *ctx);
void handle_message(struct handler_ctx *ctx);
void handle_message_raw(struct handler_ctx *ctx);
void handle_audit(struct handler_ctx *ctx);
void handle_audit_verify(struct handler_ctx *ctx);
void handle_tokens(struct handler_ctx *ctx);
/* Legal holds and matters (handlers_holds.c). */
void handle_holds(struct handler_ctx *ctx);
void handle_hold_place(struct handler_ctx *ctx);
void handle_hold_preview(struct handler_ctx *ctx);
void handle_hold(struct handler_ctx *ctx);
void handle_hold_release(struct handler_ctx *ctx);
void handle_matters(struct handler_ctx *ctx);
void handle_matter_create(struct handler_ctx *ctx);
/* Business fields of 電子帳簿保存法 (handlers_fields.c). */
void handle_fields(struct handler_ctx *ctx);
void handle_fields_set(struct handler_ctx *ctx);

/* handlers_time_valid - "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" (UTC), for filters. */
int handlers_time_valid(const char *s);

#endif
