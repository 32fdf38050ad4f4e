/* route - the API's routes: one table of method, path pattern, permission and query fields. */
#include <string.h>

#include "route.h"

static const char *const audit_args[] = {"actor", "action", "since", "until", "after", "limit",
					  NULL};

static const char *const download_args[] = {"format", NULL};

static const struct route routes[] = {
	{ROUTE_HEALTHZ, "GET", "/healthz", 0, PERM__COUNT, NULL},
	{ROUTE_METRICS, "GET", "/metrics", 0, PERM__COUNT, NULL},
	{ROUTE_SEARCH, "POST", "/v1/search", 1, PERM_SEARCH, NULL},
	{ROUTE_MESSAGE, "GET", "/v1/messages/{id}", 1, PERM_VIEW, NULL},
	{ROUTE_MESSAGE_RAW, "GET", "/v1/messages/{id}/raw", 1, PERM_RAW, NULL},
	{ROUTE_AUDIT, "GET", "/v1/audit", 1, PERM_AUDIT_READ, audit_args},
	{ROUTE_AUDIT_VERIFY, "GET", "/v1/audit/verify", 1, PERM_AUDIT_READ, NULL},
	{ROUTE_TOKENS, "GET", "/v1/tokens", 1, PERM_TOKENS, NULL},
	{ROUTE_EXPORTS, "POST", "/v1/exports", 1, PERM_EXPORT, NULL},
	{ROUTE_EXPORT, "GET", "/v1/exports/{id}", 1, PERM_EXPORT, NULL},
	{ROUTE_EXPORT_DOWNLOAD, "GET", "/v1/exports/{id}/download", 1, PERM_EXPORT, download_args},
	{ROUTE_HOLDS, "GET", "/v1/holds", 1, PERM_HOLDS, NULL},
	{ROUTE_HOLD_PLACE, "POST", "/v1/holds", 1, PERM_HOLDS, NULL},
	{ROUTE_HOLD_PREVIEW, "POST", "/v1/holds/preview", 1, PERM_HOLDS, NULL},
	{ROUTE_HOLD, "GET", "/v1/holds/{id}", 1, PERM_HOLDS, NULL},
	{ROUTE_HOLD_RELEASE, "POST", "/v1/holds/{id}/release", 1, PERM_HOLDS, NULL},
	{ROUTE_MATTERS, "GET", "/v1/matters", 1, PERM_HOLDS, NULL},
	{ROUTE_MATTER_CREATE, "POST", "/v1/matters", 1, PERM_HOLDS, NULL},
	{ROUTE_FIELDS, "GET", "/v1/messages/{id}/fields", 1, PERM_VIEW, NULL},
	{ROUTE_FIELDS_SET, "PUT", "/v1/messages/{id}/fields", 1, PERM_FIELDS, NULL},
};

static const char *const labels[ROUTE__COUNT + 1] = {
	[ROUTE_HEALTHZ] = "healthz",	   [ROUTE_METRICS] = "metrics",
	[ROUTE_SEARCH] = "search",	   [ROUTE_MESSAGE] = "message",
	[ROUTE_MESSAGE_RAW] = "message_raw", [ROUTE_AUDIT] = "audit",
	[ROUTE_AUDIT_VERIFY] = "audit_verify", [ROUTE_TOKENS] = "tokens",
	[ROUTE_EXPORTS] = "exports",	   [ROUTE_EXPORT] = "export",
	[ROUTE_EXPORT_DOWNLOAD] = "export_download",
	[ROUTE_HOLDS] = "holds", [ROUTE_HOLD_PLACE] = "hold_place",
	[ROUTE_HOLD_PREVIEW] = "hold_preview", [ROUTE_HOLD] = "hold",
	[ROUTE_HOLD_RELEASE] = "hold_release", [ROUTE_MATTERS] = "matters",
	[ROUTE_MATTER_CREATE] = "matter_create", [ROUTE_FIELDS] = "fields",
	[ROUTE_FIELDS_SET] = "fields_set",
	[ROUTE_UNMATCHED] = "unmatched",
};

const struct route *
route_table(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}

const char *
route_label(enum route_id id)
{
	return (unsigned)id <= ROUTE__COUNT ? labels[id] : labels[ROUTE_UNMATCHED];
}

/* path_ok - a leading /, no empty (except a lone "/"), "." or ".." segment, and bounded. */
static int
path_ok(const char *path)
{
	size_t len = strlen(path);

	if (path[0] != '/' || len >= ROUTE_PATH_MAX)
		return 0;
	if (len == 1)
		return 1;
	for (const char *s = path + 1;;) {
		size_t n = strcspn(s, "/");

		if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
			return 0;
		if (s[n] == 0)
			return 1;
		s += n + 1;
	}
}

/* pattern_match - path against pattern segment by segment; {id} takes 1..ROUTE_ID_MAX digits. */
static int
pattern_match(const char *pattern, const char *path, char *id)
{
	id[0] = 0;
	while (*pattern && *path) {
		if (strncmp(pattern, "{id}", 4) == 0) {
			size_t n = strspn(path, "0123456789");

			if (n == 0 || n > ROUTE_ID_MAX || (path[n] != 0 && path[n] != '/'))
				return 0;
			memcpy(id, path, n);
			id[n] = 0;
			pattern += 4;
			path += n;
			continue;
		}
		if (*pattern++ != *path++)
			return 0;
	}
	return *pattern == 0 && *path == 0;
}

enum route_result
route_match(const char *method, const char *path, const struct route **out, char *id)
{
	char scratch[ROUTE_ID_MAX + 1];
	int path_seen = 0;

	*out = NULL;
	id[0] = 0;
	if (!path_ok(path))
		return ROUTE_BAD_PATH;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!pattern_match(routes[i].pattern, path, scratch))
			continue;
		path_seen = 1;
		if (strcmp(routes[i].method, method) != 0)
			continue;
		*out = &routes[i];
		memcpy(id, scratch, sizeof(scratch));
		return ROUTE_OK;
	}
	return path_seen ? ROUTE_BAD_METHOD : ROUTE_NOT_FOUND;
}
