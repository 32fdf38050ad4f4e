/* http - the HTTP server under the API: libmicrohttpd with its own thread pool, limits and TLS.
 *
 * libmicrohttpd calls access() several times per request: once when the headers are in (the
 * request's context is made then, and a Content-Length over body_max is answered at once,
 * without reading the body), once per piece of body, and once more with no data when the body
 * is complete; the handler runs then. A chunked body that grows past body_max is read and
 * thrown away, and the handler sees too_large. */
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fsutil.h"
#include "http.h"
#include "log.h"

#define HTTP_PEM_MAX (1u << 20)

struct http {
	struct MHD_Daemon *d;
	http_handler_fn fn;
	void *arg;
	size_t body_max;
	struct buf cert, key;
};

struct http_ctx {
	struct buf body;
	int too_large;
	int answered;
};

__attribute__((format(printf, 2, 0))) static void
http_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = 0;
	log_warnx("http: %s", line);
}

static void
http_client_addr(struct MHD_Connection *conn, char *out, size_t n)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	socklen_t len;

	snprintf(out, n, "unknown");
	if (ci == NULL || ci->client_addr == NULL)
		return;
	len = ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						     : sizeof(struct sockaddr_in);
	if (getnameinfo(ci->client_addr, len, out, (socklen_t)n, NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(out, n, "unknown");
}

/* http_send - hand resp to MHD; the body buffer or fd is MHD's from here. */
static enum MHD_Result
http_send(struct MHD_Connection *conn, struct http_resp *resp)
{
	struct MHD_Response *r;
	enum MHD_Result ok;

	if (resp->fd >= 0) {
		r = MHD_create_response_from_fd64(resp->fd_size, resp->fd);
		if (r == NULL)
			close(resp->fd);
		buf_free(&resp->body);
	} else {
		size_t len = resp->body.len;
		void *data = resp->body.data;

		if (data == NULL)
			data = xstrdup("");
		r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
		if (r == NULL)
			free(data);
	}
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type",
				resp->content_type ? resp->content_type : "application/json");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	for (size_t i = 0; i < resp->nheaders; i++)
		MHD_add_response_header(r, resp->headers[i][0], resp->headers[i][1]);
	ok = MHD_queue_response(conn, (unsigned)(resp->status ? resp->status : 500), r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result
http_dispatch(struct http *h, struct http_ctx *ctx, struct MHD_Connection *conn,
	      const char *url, const char *method)
{
	struct http_req req = {
		.method = method,
		.path = url,
		.authorization = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization"),
		.content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type"),
		.body = ctx->too_large || ctx->body.len == 0 ? NULL : ctx->body.data,
		.body_len = ctx->too_large ? 0 : ctx->body.len,
		.too_large = ctx->too_large,
		.conn = conn,
	};
	struct http_resp resp = {.fd = -1};

	http_client_addr(conn, req.client, sizeof(req.client));
	ctx->answered = 1;
	h->fn(h->arg, &req, &resp);
	return http_send(conn, &resp);
}

/* http_declared_too_large - a Content-Length over the bound. */
static int
http_declared_too_large(struct MHD_Connection *conn, size_t max)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");

	return cl && strtoull(cl, NULL, 10) > max;
}

static enum MHD_Result
http_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	    const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct http *h = cls;
	struct http_ctx *ctx = *con_cls;

	(void)version;
	if (ctx == NULL) {
		ctx = xcalloc(1, sizeof(*ctx));
		*con_cls = ctx;
		if (!http_declared_too_large(conn, h->body_max))
			return MHD_YES;
		ctx->too_large = 1;
		return http_dispatch(h, ctx, conn, url, method);
	}
	if (*upload_size > 0) {
		if (!ctx->too_large && ctx->body.len + *upload_size > h->body_max) {
			ctx->too_large = 1;
			buf_free(&ctx->body);
		}
		if (!ctx->too_large)
			buf_append(&ctx->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (ctx->answered)
		return MHD_YES;
	return http_dispatch(h, ctx, conn, url, method);
}

static void
http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
	       enum MHD_RequestTerminationCode toe)
{
	struct http_ctx *ctx = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (ctx) {
		buf_free(&ctx->body);
		free(ctx);
		*con_cls = NULL;
	}
}

/* http_parse_listen - host:port or [v6]:port to a socket address. */
static enum vl_err
http_parse_listen(const char *listen, struct sockaddr_storage *ss, char *err)
{
	char host[256];
	const char *colon = strrchr(listen, ':');
	struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
				 .ai_socktype = SOCK_STREAM},
			*ai = NULL;
	size_t hl;

	if (colon == NULL || colon == listen || colon[1] == 0)
		return vl_err_set(err, VL_ERR_CONFIG, "http_listen: '%s' is not host:port", listen);
	hl = (size_t)(colon - listen);
	if (listen[0] == '[' && hl > 2 && listen[hl - 1] == ']')
		snprintf(host, sizeof(host), "%.*s", (int)(hl - 2), listen + 1);
	else
		snprintf(host, sizeof(host), "%.*s", (int)hl, listen);
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0 || ai == NULL)
		return vl_err_set(err, VL_ERR_CONFIG,
				  "http_listen: '%s' is not a numeric address and port", listen);
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	return VL_OK;
}

static enum vl_err
http_load_tls(struct http *h, const struct http_opts *o, char *err)
{
	char detail[VL_ERRLEN];

	if (fs_read_all(&h->cert, o->tls_cert, HTTP_PEM_MAX, detail) != VL_OK)
		return vl_err_set(err, VL_ERR_CONFIG, "http TLS certificate: %s", detail);
	if (fs_read_all(&h->key, o->tls_key, HTTP_PEM_MAX, detail) != VL_OK)
		return vl_err_set(err, VL_ERR_CONFIG, "http TLS key: %s", detail);
	return VL_OK;
}

enum vl_err
http_start(struct http **out, const struct http_opts *o, http_handler_fn fn, void *arg,
	   char *err)
{
	struct sockaddr_storage ss = {0};
	struct http *h;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
	enum vl_err rc;

	*out = NULL;
	if ((rc = http_parse_listen(o->listen, &ss, err)) != VL_OK)
		return rc;
	h = xcalloc(1, sizeof(*h));
	h->fn = fn;
	h->arg = arg;
	h->body_max = o->body_max;
	if (o->tls_cert && (rc = http_load_tls(h, o, err)) != VL_OK)
		goto fail;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (o->tls_cert)
		flags |= MHD_USE_TLS;
	/* MHD reads the option list up to MHD_OPTION_END; the TLS pair goes last so that plain
	 * HTTP simply ends the list there. The logger goes first: MHD logs with its own until it
	 * has read that option. */
	h->d = MHD_start_daemon(
		flags, 0, NULL, NULL, http_access, h, MHD_OPTION_EXTERNAL_LOGGER, http_log, h,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_THREAD_POOL_SIZE, o->threads, MHD_OPTION_CONNECTION_LIMIT, o->max_conns,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->per_ip_conns, MHD_OPTION_CONNECTION_TIMEOUT,
		o->timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, o->header_mem,
		MHD_OPTION_NOTIFY_COMPLETED, http_completed, h,
		o->tls_cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END,
		(const char *)h->cert.data, MHD_OPTION_HTTPS_MEM_KEY, (const char *)h->key.data,
		MHD_OPTION_END);
	if (h->d == NULL) {
		rc = vl_err_set(err, VL_ERR_IO, "http: cannot serve on %s%s (address in use?)",
				o->listen, o->tls_cert ? " with TLS" : "");
		goto fail;
	}
	*out = h;
	return VL_OK;
fail:
	http_stop(h);
	return rc;
}

void
http_stop(struct http *h)
{
	if (h == NULL)
		return;
	if (h->d)
		MHD_stop_daemon(h->d);
	buf_free(&h->cert);
	if (h->key.data)
		memset(h->key.data, 0, h->key.cap);
	buf_free(&h->key);
	free(h);
}

const char *
http_req_arg(const struct http_req *r, const char *key)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

struct args_iter {
	int (*fn)(void *, const char *, const char *);
	void *arg;
	int rc;
};

static enum MHD_Result
http_args_each(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct args_iter *it = cls;

	(void)kind;
	it->rc = it->fn(it->arg, key, value ? value : "");
	return it->rc ? MHD_NO : MHD_YES;
}

int
http_req_args(const struct http_req *r, int (*fn)(void *arg, const char *k, const char *v),
	      void *arg)
{
	struct args_iter it = {fn, arg, 0};

	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, http_args_each, &it);
	return it.rc;
}

void
http_resp_header(struct http_resp *r, const char *name, const char *value)
{
	if (r->nheaders >= HTTP_HEADERS_MAX)
		return;
	snprintf(r->headers[r->nheaders][0], sizeof(r->headers[0][0]), "%s", name);
	snprintf(r->headers[r->nheaders][1], sizeof(r->headers[0][1]), "%s", value);
	r->nheaders++;
}
