/* http - the HTTP server under the API: libmicrohttpd with its own thread pool, limits and TLS.
 * Owns: the MHD daemon (listener, TLS from PEM files, thread pool, connection, per-address,
 * header-memory and timeout limits), reading a request body up to a bound, and turning a
 * struct http_resp into MHD's response. Not: routes, JSON or authentication (api). */
#ifndef VL_HTTP_H
#define VL_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "vl_err.h"

#define HTTP_HEADERS_MAX 4
#define HTTP_CLIENT_MAX 64

struct http_opts {
	const char *listen;    /* host:port, [v6]:port */
	const char *tls_cert;  /* PEM file; NULL: plain HTTP */
	const char *tls_key;   /* PEM file of tls_cert's key */
	unsigned threads;      /* the pool's threads */
	unsigned max_conns;    /* connections at once */
	unsigned per_ip_conns; /* connections at once from one address */
	unsigned timeout_s;    /* idle time before a connection is closed */
	size_t body_max;       /* larger bodies are not read: the handler sees too_large */
	size_t header_mem;     /* per-connection memory for the request line and headers */
};

struct http_req {
	const char *method;
	const char *path;	      /* percent-decoded, no query */
	char client[HTTP_CLIENT_MAX]; /* the peer's numeric address */
	const char *authorization;    /* the Authorization header, or NULL */
	const char *content_type;     /* or NULL */
	const uint8_t *body;	      /* NUL-terminated; NULL when empty */
	size_t body_len;
	int too_large; /* the body exceeded body_max and was not kept */
	void *conn;    /* for http_req_arg / http_req_args (the MHD connection) */
};

struct http_resp {
	int status;
	const char *content_type; /* static text */
	struct buf body;
	int fd; /* >= 0: the body is this file's first fd_size bytes (http takes the fd) */
	uint64_t fd_size;
	size_t nheaders;
	char headers[HTTP_HEADERS_MAX][2][128]; /* extra name, value */
};

/* The handler fills resp (status 0 is a bug, answered 500); it may block (one pool thread). */
typedef void (*http_handler_fn)(void *arg, const struct http_req *req, struct http_resp *resp);

struct http;

/* http_start - listen and serve in the background. The TLS files are read now. *out is owned
 * by the caller (http_stop). VL_ERR_CONFIG for a bad listen address or TLS file, VL_ERR_IO
 * when the daemon cannot start (port taken). */
enum vl_err http_start(struct http **out, const struct http_opts *o, http_handler_fn fn,
		       void *arg, char *err) VL_MUST_CHECK;
/* http_stop - stop listening, finish and close every connection, free. NULL is a no-op. */
void http_stop(struct http *h);

/* http_req_arg - the first query argument named key, or NULL. */
const char *http_req_arg(const struct http_req *r, const char *key);
/* http_req_args - call fn for every query argument until it returns non-zero (returned). */
int http_req_args(const struct http_req *r, int (*fn)(void *arg, const char *k, const char *v),
		  void *arg);
/* http_resp_header - add an extra response header (silently dropped beyond HTTP_HEADERS_MAX). */
void http_resp_header(struct http_resp *r, const char *name, const char *value);

#endif
