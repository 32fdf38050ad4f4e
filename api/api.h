/* api - the HTTP/JSON API of `vellum serve`: authentication, authorization and dispatch.
 * Owns: the server (http), its database pool (pool), bearer-token checks (token) with
 * per-address limits on failures (ratelimit), the role check of each route (roles, route),
 * the audit rows of refused requests, and the request counters /metrics shows.
 * Not: what a route does (handlers). */
#ifndef VL_API_H
#define VL_API_H

#include "config.h"
#include "metrics.h"
#include "vl_err.h"

struct api;

/* api_start - serve the API on cfg->http_listen (HTTPS with tls_cert/tls_key when http_tls
 * is 1) from http_threads threads. cfg and m are borrowed and must outlive the API; m is where
 * ingest counters live (shown by /metrics). *out is NULL when http_listen is empty. Errors of
 * http_start. */
enum vl_err api_start(struct api **out, const struct vl_config *cfg, struct metrics *m,
		      char *err) VL_MUST_CHECK;
/* api_stop - stop serving (requests in flight finish first) and free. NULL is a no-op. */
void api_stop(struct api *a);

#endif
