/* route - the API's routes: one table of method, path pattern, permission and query fields.
 * Owns: matching a request line to a route (with its {id}), refusing odd paths, and the table
 * api/openapi.yaml must describe (a unit test compares them). Not: handling (handlers). */
#ifndef VL_ROUTE_H
#define VL_ROUTE_H

#include <stddef.h>

#include "roles.h"

#define ROUTE_PATH_MAX 1024
#define ROUTE_ID_MAX 18 /* digits of a message id (int8) */

enum route_id {
	ROUTE_HEALTHZ = 0,
	ROUTE_METRICS,
	ROUTE_SEARCH,
	ROUTE_MESSAGE,
	ROUTE_MESSAGE_RAW,
	ROUTE_AUDIT,
	ROUTE_AUDIT_VERIFY,
	ROUTE_TOKENS,
	ROUTE_EXPORTS,
	ROUTE_EXPORT,
	ROUTE_EXPORT_DOWNLOAD,
	ROUTE_HOLDS,
	ROUTE_HOLD_PLACE,
	ROUTE_HOLD_PREVIEW,
	ROUTE_HOLD,
	ROUTE_HOLD_RELEASE,
	ROUTE_MATTERS,
	ROUTE_MATTER_CREATE,
	ROUTE_FIELDS,
	ROUTE_FIELDS_SET,
	ROUTE__COUNT,
	ROUTE_UNMATCHED = ROUTE__COUNT /* metrics label for everything else */
};

struct route {
	enum route_id id;
	const char *method;
	const char *pattern; /* "/v1/messages/{id}/raw": {id} is 1..18 digits */
	int auth;	     /* 1: bearer token and perm required */
	enum perm perm;
	const char *const *args; /* allowed query fields, NULL-terminated (NULL: none) */
};

enum route_result {
	ROUTE_OK = 0,
	ROUTE_NOT_FOUND,  /* 404 */
	ROUTE_BAD_METHOD, /* 405: the path exists with other methods */
	ROUTE_BAD_PATH,	  /* 400: empty, ".", ".." or over-long segments, or no leading / */
};

/* route_match - the route of method and (percent-decoded) path. On ROUTE_OK *out is the row
 * and id (ROUTE_ID_MAX + 1 bytes) holds the {id} segment ("" when the pattern has none). */
enum route_result route_match(const char *method, const char *path, const struct route **out,
			      char *id);
/* route_table - every route, n of them (for /metrics labels and the OpenAPI check). */
const struct route *route_table(size_t *n);
/* route_label - a stable metrics label of a route id ("search", "unmatched"...). */
const char *route_label(enum route_id id);

#endif
