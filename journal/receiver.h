/* receiver - the SMTP/LMTP front door of `vellum serve`: one epoll event loop for every
 * connection, the listeners, STARTTLS, limits and timeouts.
 * Owns: connections (socket, TLS, an smtp_session, pending input and output), handing each
 * complete message to ingest and sending its reply only when ingest says it is durable.
 * Not: the protocol (smtp_session), storing (ingest, store). */
#ifndef VL_RECEIVER_H
#define VL_RECEIVER_H

#include <libpq-fe.h>
#include <signal.h>

#include "config.h"
#include "metrics.h"
#include "store.h"
#include "vl_err.h"

#define RECEIVER_READ_CHUNK 65536     /* bytes read from a connection at a time */
#define RECEIVER_SPOOL_MEM (1u << 20) /* message bytes kept in memory before spilling to disk */
#define RECEIVER_MAX_RCPTS 1000

struct receiver;

/* receiver_new - open the listeners and the TLS context; the store (and conn, its database
 * connection) go to the writer thread. m (may be NULL; owned by the caller, outliving the
 * receiver) counts connections and messages acknowledged, deferred and refused. */
enum vl_err receiver_new(struct receiver **out, const struct vl_config *cfg, struct store *st,
			 PGconn *conn, struct metrics *m, char *err) VL_MUST_CHECK;

/* receiver_run - serve until *stop is set (by a signal handler); then stop accepting, finish
 * the messages in flight, and return. */
enum vl_err receiver_run(struct receiver *r, volatile sig_atomic_t *stop, char *err)
	VL_MUST_CHECK;

void receiver_free(struct receiver *r);

#endif
