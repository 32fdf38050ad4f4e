/* receiver - the SMTP/LMTP front door of `vellum serve`. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "fsutil.h"
#include "ingest.h"
#include "listen.h"
#include "log.h"
#include "ratelimit.h"
#include "receiver.h"
#include "smtp_session.h"
#include "smtp_users.h"
#include "spool.h"
#include "tls.h"

#define RECEIVER_EVENTS 128
#define RECEIVER_TICK_MS 1000
#define RECEIVER_OUT_MAX (1u << 20) /* a client that does not read its replies is dropped */
#define TAG_NOTIFY ((uint64_t)-1)
#define TAG_LISTENER ((uint64_t)1 << 62)

struct conn {
	int fd;
	SSL *ssl;
	int handshaking;
	struct smtp_session *ss;
	struct buf in;
	struct buf out;
	size_t out_off;
	int paused;  /* a message is with ingest: read nothing until its reply */
	int closing; /* close once the output is flushed */
	int in_tx;   /* counted in receiver.expected: a message may be under way */
	time_t last;
	const struct listener *l;
	char client[64];
	char tls_desc[96];
	struct ingest_job job;
	uint32_t events;
};

struct receiver {
	const struct vl_config *cfg;
	struct listener ls[2 * LISTEN_MAX];
	size_t nls;
	struct netmask nets[LISTEN_NETS_MAX];
	size_t nnets;
	SSL_CTX *tls;
	int ep, notify_fd;
	struct ingest *ingest;
	struct conn **conns; /* by fd */
	size_t nconns_cap, nconns;
	size_t expected; /* connections with in_tx set: ingest batches wait only for these */
	struct metrics *m; /* may be NULL */
	char spool_dir[CONFIG_PATH_MAX];
	/* SMTP AUTH (smtp_auth = 1): the users file, read again when it changes, and failures
	 * counted per client address */
	struct smtp_users users;
	struct ratelimit *auth_fails;
	char users_path[CONFIG_PATH_MAX];
};

static void conn_close(struct receiver *r, struct conn *c);
static void conn_process(struct receiver *r, struct conn *c);

enum vl_err
receiver_new(struct receiver **out, const struct vl_config *cfg, struct store *st, PGconn *conn,
	     struct metrics *m, char *err)
{
	struct receiver *r = xcalloc(1, sizeof(*r));
	struct epoll_event ev = {.events = EPOLLIN};
	enum vl_err rc;
	char detail[VL_ERRLEN];

	*out = NULL;
	r->cfg = cfg;
	r->m = m;
	r->ep = r->notify_fd = -1;
	config_path(r->spool_dir, cfg, "store/tmp");
	config_path(r->users_path, cfg, SMTP_USERS_FILE);
	r->auth_fails = ratelimit_new((unsigned)cfg->smtp_auth_fail_max,
				      (unsigned)cfg->smtp_auth_fail_window_s);
	if ((rc = fs_mkdir_p(r->spool_dir, 0750, err)) != VL_OK ||
	    (rc = listen_parse_networks(r->nets, &r->nnets, cfg->client_networks, err)) != VL_OK ||
	    (rc = listen_open(r->ls, &r->nls, cfg->smtp_listen, 0, err)) != VL_OK ||
	    (rc = listen_open(r->ls, &r->nls, cfg->lmtp_listen, 1, err)) != VL_OK)
		goto fail;
	if (tls_server_ctx(&r->tls, cfg, detail) != VL_OK)
		log_warnx("STARTTLS not offered: %s", detail);
	if (cfg->smtp_auth && r->tls == NULL)
		log_warnx("smtp_auth: no AUTH without STARTTLS; clients outside client_networks "
			  "cannot send");
	if (cfg->smtp_auth && smtp_users_load(&r->users, r->users_path, detail) != VL_OK)
		log_warnx("smtp_auth: %s; no user can authenticate until it is mended", detail);
	r->ep = epoll_create1(EPOLL_CLOEXEC);
	r->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->ep < 0 || r->notify_fd < 0) {
		rc = vl_err_set(err, VL_ERR_IO, "epoll: %s", strerror(errno));
		goto fail;
	}
	ev.data.u64 = TAG_NOTIFY;
	epoll_ctl(r->ep, EPOLL_CTL_ADD, r->notify_fd, &ev);
	for (size_t i = 0; i < r->nls; i++) {
		ev.data.u64 = TAG_LISTENER | i;
		epoll_ctl(r->ep, EPOLL_CTL_ADD, r->ls[i].fd, &ev);
		log_info("listening %s", r->ls[i].name);
	}
	if ((rc = ingest_start(&r->ingest, cfg, st, conn, r->notify_fd, m, err)) != VL_OK)
		goto fail;
	*out = r;
	return VL_OK;
fail:
	receiver_free(r);
	return rc;
}

void
receiver_free(struct receiver *r)
{
	if (r == NULL)
		return;
	ingest_stop(r->ingest);
	r->ingest = NULL;
	for (size_t i = 0; i < r->nconns_cap; i++)
		if (r->conns[i])
			conn_close(r, r->conns[i]);
	free(r->conns);
	for (size_t i = 0; i < r->nls; i++)
		close(r->ls[i].fd);
	if (r->ep >= 0)
		close(r->ep);
	if (r->notify_fd >= 0)
		close(r->notify_fd);
	SSL_CTX_free(r->tls);
	smtp_users_free(&r->users);
	ratelimit_free(r->auth_fails);
	free(r);
}

/* ---- connections ---- */

static void
conn_watch(struct receiver *r, struct conn *c)
{
	uint32_t want = 0;
	struct epoll_event ev;

	if (!c->paused && !c->closing)
		want |= EPOLLIN;
	if (c->out.len > c->out_off || c->handshaking)
		want |= EPOLLOUT;
	if (c->handshaking)
		want |= EPOLLIN;
	if (want == c->events)
		return;
	ev.events = want;
	ev.data.u64 = (uint64_t)c->fd;
	epoll_ctl(r->ep, EPOLL_CTL_MOD, c->fd, &ev);
	c->events = want;
}

static void
conn_close(struct receiver *r, struct conn *c)
{
	if (c->paused) {
		/* ingest still holds the job: stop listening, close when it comes back. */
		epoll_ctl(r->ep, EPOLL_CTL_DEL, c->fd, NULL);
		c->closing = 2;
		return;
	}
	epoll_ctl(r->ep, EPOLL_CTL_DEL, c->fd, NULL);
	if (c->in_tx) {
		/* Its message will never come: a batch must not wait for it. */
		c->in_tx = 0;
		ingest_expect(r->ingest, --r->expected);
	}
	if (c->ssl)
		SSL_free(c->ssl);
	close(c->fd);
	smtp_session_free(c->ss);
	buf_free(&c->in);
	buf_free(&c->out);
	r->conns[c->fd] = NULL;
	r->nconns--;
	log_debug("client=%s closed", c->client);
	free(c);
}

/* conn_take_output - move what the session queued into the connection's output buffer. */
static void
conn_take_output(struct conn *c)
{
	struct buf *o = smtp_session_output(c->ss);

	if (o->len) {
		buf_append(&c->out, o->data, o->len);
		buf_reset(o);
	}
}

/* conn_flush - send as much output as the socket takes; -1 when the connection is gone. */
static int
conn_flush(struct conn *c)
{
	while (c->out_off < c->out.len) {
		size_t n = c->out.len - c->out_off;
		ssize_t w;

		if (c->ssl) {
			int k = SSL_write(c->ssl, c->out.data + c->out_off, (int)n);
			if (k <= 0) {
				int e = SSL_get_error(c->ssl, k);
				if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
					return 0;
				return -1;
			}
			w = k;
		} else {
			w = send(c->fd, c->out.data + c->out_off, n, MSG_NOSIGNAL);
			if (w < 0 && (errno == EAGAIN || errno == EINTR))
				return 0;
			if (w < 0)
				return -1;
		}
		c->out_off += (size_t)w;
	}
	buf_reset(&c->out);
	c->out_off = 0;
	return 0;
}

static void
conn_new(struct receiver *r, const struct listener *l, int fd, const struct sockaddr *sa,
	 int outsider)
{
	struct smtp_params p = {
		.lmtp = l->lmtp,
		.hostname = r->cfg->smtp_hostname,
		.max_message = (uint64_t)r->cfg->message_max_mb << 20,
		.max_rcpts = RECEIVER_MAX_RCPTS,
		.tls_available = r->tls != NULL && !l->unix_socket,
		.auth_available = r->cfg->smtp_auth && r->tls != NULL && !l->unix_socket,
		.auth_required = outsider, /* not from client_networks: admitted to authenticate */
		.xforward_available = r->cfg->smtp_xforward != 0,
		.spool_dir = r->spool_dir,
		.spool_mem_max = RECEIVER_SPOOL_MEM,
	};
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u64 = (uint64_t)fd};
	struct conn *c = xcalloc(1, sizeof(*c));

	if ((size_t)fd >= r->nconns_cap) {
		size_t cap = (size_t)fd * 2 + 64;

		r->conns = xrealloc(r->conns, cap * sizeof(*r->conns));
		memset(r->conns + r->nconns_cap, 0, (cap - r->nconns_cap) * sizeof(*r->conns));
		r->nconns_cap = cap;
	}
	c->fd = fd;
	c->l = l;
	c->last = time(NULL);
	c->events = ev.events;
	listen_format(sa, c->client, sizeof(c->client));
	c->ss = smtp_session_new(&p);
	r->conns[fd] = c;
	r->nconns++;
	epoll_ctl(r->ep, EPOLL_CTL_ADD, fd, &ev);
	log_debug("client=%s connected on %s", c->client, l->name);
	conn_take_output(c);
	conn_flush(c);
	conn_watch(r, c);
}

/* refuse - one line to a client we will not serve, then close. */
static void
refuse(int fd, const char *line)
{
	if (send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("refuse: %s", strerror(errno));
	close(fd);
}

static void
accept_all(struct receiver *r, const struct listener *l)
{
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd = accept4(l->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		char who[64];

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("accept on %s", l->name);
			return;
		}
		if (l->unix_socket)
			ss.ss_family = AF_UNIX;
		int outsider = !listen_allowed(r->nets, r->nnets, (struct sockaddr *)&ss);
		if (outsider && !r->cfg->smtp_auth) {
			listen_format((struct sockaddr *)&ss, who, sizeof(who));
			log_info("client=%s refused: not in client_networks", who);
			refuse(fd, "554 5.7.1 Access denied: not a configured client network\r\n");
			continue;
		}
		if (r->nconns >= (size_t)r->cfg->max_connections) {
			refuse(fd, "421 4.7.0 Too many connections, try again later\r\n");
			continue;
		}
		if (r->m)
			metrics_add(&r->m->ingest_connections, 1);
		if (!l->unix_socket) {
			/* Replies are small writes after pipelined commands: without TCP_NODELAY,
			 * Nagle holds the final 250 until the client's delayed ACK (~40 ms). */
			int one = 1;

			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		}
		conn_new(r, l, fd, (struct sockaddr *)&ss, outsider);
	}
}

/* ---- one connection's work ---- */

static void
conn_submit(struct receiver *r, struct conn *c)
{
	struct ingest_job *j = &c->job;
	const uint8_t *mem;
	int fd;
	uint64_t len;
	size_t n;

	memset(j, 0, sizeof(*j));
	spool_source(smtp_session_body(c->ss), &mem, &fd, &len);
	j->src.mem = mem;
	j->src.fd = fd;
	j->src.len = len;
	j->source = c->l->lmtp ? "lmtp" : "smtp";
	j->mail_from = smtp_session_mail_from(c->ss);
	j->orcpts = smtp_session_rcpt_orcpts(c->ss, &n);
	j->rcpts = smtp_session_rcpts(c->ss, &n);
	j->nrcpts = n;
	j->client_addr = c->client;
	j->helo = smtp_session_helo(c->ss);
	j->tls = c->ssl ? c->tls_desc : NULL;
	j->listener = c->l->name;
	j->auth_user = smtp_session_authenticated(c->ss) ? smtp_session_auth_user(c->ss) : NULL;
	j->xforward = smtp_session_xforward(c->ss);
	j->owner = c;
	j->received_us = store_now_us();
	c->paused = 1;
	ingest_submit(r->ingest, j, r->expected);
}

static void
conn_start_tls(struct receiver *r, struct conn *c)
{
	/* RFC 3207 §4.2 / CVE-2011-0411: nothing the client pipelined after STARTTLS counts. */
	buf_reset(&c->in);
	if (conn_flush(c) != 0 || c->out.len) {
		c->closing = 1;
		return;
	}
	c->ssl = SSL_new(r->tls);
	SSL_set_fd(c->ssl, c->fd);
	SSL_set_accept_state(c->ssl);
	c->handshaking = 1;
}

static void
conn_handshake(struct conn *c)
{
	int k = SSL_accept(c->ssl);

	if (k == 1) {
		c->handshaking = 0;
		tls_describe(c->ssl, c->tls_desc, sizeof(c->tls_desc));
		smtp_session_tls_started(c->ss, c->tls_desc);
		log_debug("client=%s tls=\"%s\"", c->client, c->tls_desc);
		return;
	}
	int e = SSL_get_error(c->ssl, k);
	if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
		log_info("client=%s TLS handshake failed", c->client);
		ERR_clear_error();
		c->handshaking = 0;
		c->closing = 2; /* close at once: nothing more can be said */
	}
}

/* conn_track - keep receiver.expected in step with the session's phase; 1 when it changed. */
static int
conn_track(struct receiver *r, struct conn *c)
{
	int tx = smtp_session_phase(c->ss) != SMTP_PHASE_IDLE;

	if (tx == c->in_tx)
		return 0;
	c->in_tx = tx;
	if (tx)
		r->expected++;
	else
		r->expected--;
	return 1;
}

/* conn_auth - check the credentials of a pending AUTH against the users file (read again if it
 * changed); a client address with smtp_auth_fail_max failures in the window is locked out. */
static void
conn_auth(struct receiver *r, struct conn *c)
{
	const char *user = smtp_session_auth_user(c->ss);
	const char *shown = user && secret_name_valid(user) ? user : "(not a user name)";
	int64_t now = (int64_t)time(NULL);
	char err[VL_ERRLEN];
	unsigned retry;

	if (ratelimit_blocked(r->auth_fails, c->client, now, &retry)) {
		log_info("client=%s AUTH locked out for %u s more", c->client, retry);
		if (r->m)
			metrics_add(&r->m->ingest_auth_failed, 1);
		smtp_session_auth_result(c->ss, SMTP_AUTH_LOCKED);
		return;
	}
	if (smtp_users_refresh(&r->users, r->users_path, err) != VL_OK)
		log_warnx("smtp_auth: %s; no user can authenticate until it is mended", err);
	const char *pass = smtp_session_auth_pass(c->ss);
	if (user && pass && smtp_users_check(&r->users, user, pass)) {
		log_info("client=%s authenticated user=%s", c->client, user);
		if (r->m)
			metrics_add(&r->m->ingest_auth_ok, 1);
		smtp_session_auth_result(c->ss, SMTP_AUTH_OK);
		return;
	}
	log_info("client=%s AUTH failed user=%s failures=%u", c->client, shown,
		 ratelimit_fail(r->auth_fails, c->client, now));
	if (r->m)
		metrics_add(&r->m->ingest_auth_failed, 1);
	smtp_session_auth_result(c->ss, SMTP_AUTH_FAILED);
}

/* conn_process - feed pending input to the session until it pauses or needs more. */
static void
conn_process(struct receiver *r, struct conn *c)
{
	while (!c->paused && !c->closing && !c->handshaking) {
		size_t used = 0;
		enum smtp_event ev = smtp_session_feed(c->ss, c->in.data, c->in.len, &used);

		if (used) {
			memmove(c->in.data, c->in.data + used, c->in.len - used);
			c->in.len -= used;
		}
		conn_take_output(c);
		/* A complete message hands ingest the new count with the job itself. */
		if (conn_track(r, c) && ev != SMTP_EV_MESSAGE)
			ingest_expect(r->ingest, r->expected);
		if (ev == SMTP_EV_MESSAGE) {
			conn_submit(r, c);
		} else if (ev == SMTP_EV_STARTTLS) {
			conn_start_tls(r, c);
		} else if (ev == SMTP_EV_AUTH) {
			conn_auth(r, c);
			conn_take_output(c);
		} else if (ev == SMTP_EV_QUIT || ev == SMTP_EV_CLOSE) {
			c->closing = 1;
		} else if (used == 0) {
			break;
		}
	}
	if (conn_flush(c) != 0)
		c->closing = 2;
}

static void
conn_read(struct receiver *r, struct conn *c)
{
	for (;;) {
		ssize_t n;

		buf_reserve(&c->in, RECEIVER_READ_CHUNK);
		if (c->ssl) {
			int k = SSL_read(c->ssl, c->in.data + c->in.len, RECEIVER_READ_CHUNK);
			if (k <= 0) {
				int e = SSL_get_error(c->ssl, k);
				n = e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? -2 : 0;
			} else {
				n = k;
			}
		} else {
			n = recv(c->fd, c->in.data + c->in.len, RECEIVER_READ_CHUNK, 0);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				n = -2;
		}
		if (n == -2)
			break;
		if (n <= 0) {
			c->closing = 2; /* the client went away: a message it did not finish is gone */
			return;
		}
		c->in.len += (size_t)n;
		c->last = time(NULL);
		/* Process as we go so one connection's input never grows past a read. */
		conn_process(r, c);
		if (c->paused || c->closing || c->handshaking)
			break;
	}
}

static void
conn_event(struct receiver *r, struct conn *c, uint32_t events)
{
	if (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLIN))
		c->closing = 2;
	if (c->handshaking && c->closing < 2) {
		conn_handshake(c);
		if (!c->handshaking && c->closing < 2)
			conn_process(r, c);
	} else if ((events & EPOLLIN) && !c->paused && !c->closing) {
		conn_read(r, c);
	}
	if (c->closing < 2 && conn_flush(c) != 0)
		c->closing = 2;
	if (c->out.len - c->out_off > RECEIVER_OUT_MAX)
		c->closing = 2;
	if (c->closing == 2 || (c->closing && c->out.len == c->out_off)) {
		conn_close(r, c);
		return;
	}
	conn_watch(r, c);
}

/* count_result - what the reply to one finished message will say, for /metrics. */
static void
count_result(struct metrics *m, const struct ingest_job *j)
{
	if (m == NULL)
		return;
	if (j->result == VL_OK) {
		metrics_add(&m->ingest_messages, 1);
		metrics_add(&m->ingest_bytes, j->src.len);
	} else if (vl_err_smtp(j->result, NULL) >= 500) {
		metrics_add(&m->ingest_rejected, 1);
	} else {
		metrics_add(&m->ingest_tempfail, 1);
	}
}

/* finish_jobs - replies for every message ingest has made durable (or failed). */
static void
finish_jobs(struct receiver *r)
{
	uint64_t v;
	struct ingest_job *j, *next;

	if (read(r->notify_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_warn("notify read");
	for (j = ingest_take_done(r->ingest); j; j = next) {
		struct conn *c = j->owner;

		next = j->next;
		count_result(r->m, j);
		c->paused = 0;
		smtp_session_message_done(c->ss, j->result);
		conn_take_output(c);
		if (c->closing == 2) {
			conn_close(r, c);
			continue;
		}
		conn_process(r, c);
		conn_event(r, c, 0);
	}
}

static void
sweep_timeouts(struct receiver *r)
{
	time_t now = time(NULL);

	for (size_t fd = 0; fd < r->nconns_cap; fd++) {
		struct conn *c = r->conns[fd];

		if (c == NULL || c->paused)
			continue;
		/* RFC 5321 §4.5.3.2: inside a data block the client gets the data timeout (3 minutes
		 * per block, 10 before the final dot); between commands the command timeout. */
		int64_t limit = smtp_session_phase(c->ss) == SMTP_PHASE_BODY ? r->cfg->data_timeout_s
									     : r->cfg->command_timeout_s;
		if (now - c->last > limit) {
			static const char msg[] = "421 4.4.2 Timeout, closing connection\r\n";

			buf_append(&c->out, msg, sizeof(msg) - 1);
			conn_flush(c);
			log_info("client=%s timed out", c->client);
			conn_close(r, c);
		}
	}
}

enum vl_err
receiver_run(struct receiver *r, volatile sig_atomic_t *stop, char *err)
{
	struct epoll_event evs[RECEIVER_EVENTS];
	time_t last_sweep = time(NULL);

	(void)err;
	while (!*stop) {
		int n = epoll_wait(r->ep, evs, RECEIVER_EVENTS, RECEIVER_TICK_MS);

		for (int i = 0; i < n; i++) {
			uint64_t tag = evs[i].data.u64;

			if (tag == TAG_NOTIFY)
				finish_jobs(r);
			else if (tag & TAG_LISTENER)
				accept_all(r, &r->ls[tag & ~TAG_LISTENER]);
			else if (tag < r->nconns_cap && r->conns[tag])
				conn_event(r, r->conns[tag], evs[i].events);
		}
		if (time(NULL) != last_sweep) {
			last_sweep = time(NULL);
			sweep_timeouts(r);
		}
	}
	/* Stop accepting; let the messages in flight get their replies. */
	for (size_t i = 0; i < r->nls; i++)
		epoll_ctl(r->ep, EPOLL_CTL_DEL, r->ls[i].fd, NULL);
	for (int waited = 0; waited < 100; waited++) {
		size_t busy = 0;

		for (size_t fd = 0; fd < r->nconns_cap; fd++)
			busy += r->conns[fd] && r->conns[fd]->paused;
		if (busy == 0)
			break;
		int n = epoll_wait(r->ep, evs, RECEIVER_EVENTS, 100);
		for (int i = 0; i < n; i++)
			if (evs[i].data.u64 == TAG_NOTIFY)
				finish_jobs(r);
	}
	return VL_OK;
}
