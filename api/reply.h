/* reply - the API's answers: JSON bodies and the one error shape
 *	{"error": {"code": "...", "message": "..."}}
 * Owns: the error codes' HTTP statuses for internal failures, and keeping internal detail
 * (SQL, paths, libpq text) in the log and out of replies. Not: transport (http). */
#ifndef VL_REPLY_H
#define VL_REPLY_H

#include <jansson.h>

#include "http.h"
#include "vl_err.h"

/* reply_json - status with body (stolen: reply_json json_decrefs it). */
void reply_json(struct http_resp *r, int status, json_t *body);
/* reply_error - status with the error shape; message is client-facing text. */
void reply_error(struct http_resp *r, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* reply_internal - a failure of ours (e): logs detail with what, and answers vl_err_http(e)
 * with a fixed message that names nothing internal. */
void reply_internal(struct http_resp *r, enum vl_err e, const char *what, const char *detail);
/* reply_refusal - a module's refusal of the client's request, with the module's own text
 * (detail): VL_ERR_PARSE and VL_ERR_LIMIT 400 bad_field, VL_ERR_NOTFOUND 404, VL_ERR_EXISTS
 * 409 conflict; anything else is a failure of ours (reply_internal). */
void reply_refusal(struct http_resp *r, enum vl_err e, const char *what, const char *detail);

#endif
