/* reqjson - checking what a client sends: JSON bodies and query arguments. */
#include <string.h>

#include "reqjson.h"

static const char *
type_name(enum reqjson_type t)
{
	return t == RJ_STRING ? "a string" : t == RJ_INT ? "an integer" : "true or false";
}

static int
type_ok(const json_t *v, enum reqjson_type t)
{
	return t == RJ_STRING ? json_is_string(v) : t == RJ_INT ? json_is_integer(v) : json_is_boolean(v);
}

static int
depth_ok(json_t *v, int depth)
{
	const char *k;
	json_t *x;
	size_t i;

	if (depth > REQJSON_DEPTH_MAX)
		return 0;
	if (json_is_object(v)) {
		json_object_foreach(v, k, x)
			if (!depth_ok(x, depth + 1))
				return 0;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			if (!depth_ok(x, depth + 1))
				return 0;
	}
	return 1;
}

/* fields_check - every key declared and of its type, every required one present. */
static enum vl_err
fields_check(json_t *o, const struct reqjson_field *fields, size_t n, const char **code,
	     char *msg)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v) {
		size_t i = 0;

		while (i < n && strcmp(fields[i].name, k) != 0)
			i++;
		if (i == n) {
			*code = "unknown_field";
			return vl_err_set(msg, VL_ERR_PARSE, "unknown field '%.64s'", k);
		}
		if (!type_ok(v, fields[i].type)) {
			*code = "bad_field";
			return vl_err_set(msg, VL_ERR_PARSE, "field '%s' must be %s", k,
					  type_name(fields[i].type));
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (fields[i].required && json_object_get(o, fields[i].name) == NULL) {
			*code = "missing_field";
			return vl_err_set(msg, VL_ERR_PARSE, "field '%s' is required", fields[i].name);
		}
	}
	return VL_OK;
}

enum vl_err
reqjson_parse(json_t **out, const char *body, size_t len, const struct reqjson_field *fields,
	      size_t n, const char **code, char *msg)
{
	json_error_t je;
	json_t *o;
	enum vl_err rc;

	*out = NULL;
	*code = "bad_json";
	if (body == NULL || len == 0)
		return vl_err_set(msg, VL_ERR_PARSE, "the body must be a JSON object; it is empty");
	o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL)
		return vl_err_set(msg, VL_ERR_PARSE, "malformed JSON at line %d column %d: %.120s",
				  je.line, je.column, je.text);
	if (!json_is_object(o)) {
		json_decref(o);
		return vl_err_set(msg, VL_ERR_PARSE, "the body must be a JSON object");
	}
	if (!depth_ok(o, 0)) {
		json_decref(o);
		return vl_err_set(msg, VL_ERR_PARSE, "JSON nested deeper than %d levels",
				  REQJSON_DEPTH_MAX);
	}
	if ((rc = fields_check(o, fields, n, code, msg)) != VL_OK) {
		json_decref(o);
		return rc;
	}
	*out = o;
	return VL_OK;
}

int
reqjson_arg_allowed(const char *name, const char *const *allowed)
{
	for (; allowed && *allowed; allowed++)
		if (strcmp(*allowed, name) == 0)
			return 1;
	return 0;
}
