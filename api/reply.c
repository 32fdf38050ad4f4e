/* reply - the API's answers: JSON bodies and the one error shape. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "reply.h"

void
reply_json(struct http_resp *r, int status, json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII);

	json_decref(body);
	buf_free(&r->body);
	r->status = status;
	r->content_type = "application/json";
	if (text == NULL) {
		r->status = 500;
		buf_append_str(&r->body, "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}");
		return;
	}
	buf_append_str(&r->body, text);
	buf_append_str(&r->body, "\n");
	free(text);
}

void
reply_error(struct http_resp *r, int status, const char *code, const char *fmt, ...)
{
	char msg[VL_ERRLEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* A message may quote the client's input: invalid UTF-8 in it must not break the JSON. */
	json_t *m = json_string(msg);
	if (m == NULL) {
		for (char *p = msg; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x80)
				*p = '?';
		m = json_string(msg);
	}
	reply_json(r, status, json_pack("{s:{s:s,s:o}}", "error", "code", code, "message", m));
}

void
reply_refusal(struct http_resp *r, enum vl_err e, const char *what, const char *detail)
{
	if (e == VL_ERR_PARSE || e == VL_ERR_LIMIT)
		reply_error(r, 400, "bad_field", "%s", detail);
	else if (e == VL_ERR_NOTFOUND)
		reply_error(r, 404, "not_found", "%s", detail);
	else if (e == VL_ERR_EXISTS)
		reply_error(r, 409, "conflict", "%s", detail);
	else
		reply_internal(r, e, what, detail);
}

void
reply_internal(struct http_resp *r, enum vl_err e, const char *what, const char *detail)
{
	int status = vl_err_http(e);

	if (status < 500)
		status = 500;
	log_warnx("api: %s: %s: %s", what, vl_err_str(e), detail ? detail : "");
	reply_error(r, status, status == 503 ? "unavailable" : "internal", "%s: %s", what,
		    vl_err_str(e));
}
