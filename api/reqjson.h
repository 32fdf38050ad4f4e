/* reqjson - checking what a client sends: a JSON body against its declared fields, and query
 * arguments against a route's list. Owns: the error codes and reasons of a refused request
 * ("bad_json", "unknown_field", "bad_field", "missing_field"). Not: HTTP (http), replies. */
#ifndef VL_REQJSON_H
#define VL_REQJSON_H

#include <jansson.h>
#include <stddef.h>

#include "vl_err.h"

#define REQJSON_DEPTH_MAX 8 /* nesting a body may have */

enum reqjson_type { RJ_STRING, RJ_INT, RJ_BOOL };

struct reqjson_field {
	const char *name;
	enum reqjson_type type;
	int required;
};

/* reqjson_parse - body (len bytes, may be NULL) must be one JSON object with no duplicate key,
 * no field outside fields[0..n), every field of its type, and every required field present.
 * *out (caller json_decref) on VL_OK; else VL_ERR_PARSE with *code set and the reason in msg
 * (VL_ERRLEN bytes). */
enum vl_err reqjson_parse(json_t **out, const char *body, size_t len,
			  const struct reqjson_field *fields, size_t n, const char **code,
			  char *msg) VL_MUST_CHECK;

/* reqjson_arg_allowed - 1 when name is one of allowed (NULL-terminated; NULL allows none). */
int reqjson_arg_allowed(const char *name, const char *const *allowed);

#endif
