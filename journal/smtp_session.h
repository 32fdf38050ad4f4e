/* smtp_session - the SMTP and LMTP server protocol engine of one connection, free of I/O.
 * Owns: the command state machine, replies, limits, DATA dot-unstuffing, BDAT chunks, the
 * envelope of the current transaction and its body (a spool).
 * Not: sockets, TLS, threads, timeouts or storage: the caller feeds bytes in, sends what the
 * engine queues, and acts on events (store the message, do the TLS handshake, check a password). */
#ifndef VL_SMTP_SESSION_H
#define VL_SMTP_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "spool.h"
#include "vl_err.h"

/* Limits, each named once. */
#define SMTP_CMDLINE_MAX 512	   /* a command line including CRLF (RFC 5321 §4.5.3.1.4) */
#define SMTP_AUTHLINE_MAX 12288	   /* a SASL response line (RFC 4954 §4) */
#define SMTP_PATH_MAX 256	   /* a path with its <> (RFC 5321 §4.5.3.1.3) */
#define SMTP_ERRORS_MAX 20	   /* failed commands before 421 and close */
#define SMTP_RCPTS_DEFAULT 1000	   /* max_rcpts when the caller leaves it 0 (RFC: at least 100) */
#define SMTP_OUTPUT_HIGHWATER 65536 /* queued reply bytes at which feed stops reading commands */

struct smtp_params {
	int lmtp;		/* LMTP (RFC 2033): LHLO, per-recipient replies after DATA/BDAT */
	const char *hostname;	/* in the greeting and the EHLO reply */
	uint64_t max_message;	/* SIZE; larger -> 552 5.3.4 after the data is drained; 0: none */
	size_t max_rcpts;	/* more -> 452 4.5.3; 0: SMTP_RCPTS_DEFAULT */
	int tls_available;	/* advertise STARTTLS (not once TLS is on) */
	int tls_required;	/* refuse MAIL before STARTTLS with 530 5.7.0 */
	int auth_available;	/* advertise and accept AUTH PLAIN and LOGIN, only under TLS */
	int auth_required;	/* refuse MAIL before a successful AUTH with 530 5.7.0 */
	int xforward_available; /* advertise and accept XFORWARD (xforward.h); else 550 5.7.0 */
	const char *spool_dir;	/* where large messages spill (NULL: SPOOL_DIR_DEFAULT) */
	size_t spool_mem_max;	/* body bytes kept in memory before spilling */
	const char *log_tag;	/* put in every log line, e.g. the client address; may be NULL */
};

enum smtp_event {
	SMTP_EV_NONE,	  /* nothing to do but send the output and feed more input */
	SMTP_EV_MESSAGE,  /* a message is complete: store it, then smtp_session_message_done */
	SMTP_EV_STARTTLS, /* 220 queued: send it, handshake, then smtp_session_tls_started */
	SMTP_EV_AUTH,	  /* credentials decoded: check them, then smtp_session_auth_result */
	SMTP_EV_QUIT,	  /* 221 queued: send it and close */
	SMTP_EV_CLOSE,	  /* a fatal condition (421 queued, if any): send the output and close */
};

/* Where a session is, for the caller's timers and batching (smtp_session_phase). */
enum smtp_phase {
	SMTP_PHASE_IDLE, /* no transaction, or the message is with the caller */
	SMTP_PHASE_TX,	 /* MAIL accepted: a message may follow (also between BDAT chunks) */
	SMTP_PHASE_BODY, /* inside a data block: a DATA payload or the octets of a BDAT chunk */
};

struct smtp_session;

/* smtp_session_new - a session for one connection, with the 220 greeting queued. p and its
 * strings are copied. The caller owns the result (smtp_session_free). */
struct smtp_session *smtp_session_new(const struct smtp_params *p);

/* smtp_session_free - release the session, its transaction and its spool. NULL is a no-op. */
void smtp_session_free(struct smtp_session *s);

/* smtp_session_feed - consume client bytes in[0..n) and queue the replies. It handles every
 * complete command in order (PIPELINING) and keeps partial lines itself, so input may be split
 * anywhere. It stops right after an event, setting *consumed to the bytes used so far; the
 * caller keeps the rest and feeds it again once it has acted on the event, except after
 * SMTP_EV_STARTTLS, where the rest was sent in plaintext before the handshake and must be
 * discarded (CVE-2011-0411). While the session waits for the caller (message_done, tls_started,
 * auth_result) it returns SMTP_EV_NONE with *consumed = 0. It also stops with SMTP_EV_NONE and
 * *consumed < n when SMTP_OUTPUT_HIGHWATER reply bytes are queued: send them, then feed the
 * rest. After SMTP_EV_QUIT or SMTP_EV_CLOSE it consumes nothing and returns SMTP_EV_CLOSE. */
enum smtp_event smtp_session_feed(struct smtp_session *s, const uint8_t *in, size_t n,
				  size_t *consumed);

/* smtp_session_output - the queued reply bytes (borrowed). The caller sends them and then
 * empties the buffer with buf_reset. */
struct buf *smtp_session_output(struct smtp_session *s);

/* smtp_session_message_done - answer the message of the last SMTP_EV_MESSAGE: VL_OK queues
 * 250 2.0.0, any other error its vl_err_smtp() reply; in LMTP one reply per recipient in RCPT
 * order (RFC 2033 §4.2). The transaction is then reset (RSET) and feed continues. Only valid
 * while a message is pending; otherwise ignored. */
void smtp_session_message_done(struct smtp_session *s, enum vl_err result);

/* smtp_session_tls_started - the handshake after SMTP_EV_STARTTLS succeeded; version_cipher
 * (copied, may be NULL) describes it. The session forgets HELO, the transaction and AUTH, and
 * expects EHLO/LHLO again (RFC 3207 §4.2). Ignored unless STARTTLS is pending. */
void smtp_session_tls_started(struct smtp_session *s, const char *version_cipher);

/* The verdict on the credentials of SMTP_EV_AUTH. */
enum smtp_auth_verdict {
	SMTP_AUTH_FAILED = 0, /* 535 5.7.8 */
	SMTP_AUTH_OK = 1,     /* 235 2.7.0 */
	SMTP_AUTH_LOCKED = 2, /* too many failures from this client: 421 4.7.0, then close */
};

/* smtp_session_auth_result - answer the pending AUTH with verdict v; the password is wiped.
 * Ignored unless AUTH is pending. */
void smtp_session_auth_result(struct smtp_session *s, enum smtp_auth_verdict v);

/* The message of the last SMTP_EV_MESSAGE. Everything is borrowed and valid until
 * smtp_session_message_done. */

/* smtp_session_mail_from - the reverse-path without <> and source route; "" for <>. */
const char *smtp_session_mail_from(const struct smtp_session *s);
/* smtp_session_rcpts - the accepted forward-paths, in RCPT order; *n is their number. */
const char *const *smtp_session_rcpts(const struct smtp_session *s, size_t *n);
/* smtp_session_rcpt_orcpts - per recipient, the decoded ORCPT (RFC 3461 §4.2) or NULL: the
 * address for "rfc822;" (xtext decoded) and "utf-8;" (RFC 6533, \x{..} decoded), else the
 * parameter as sent ("type;value"). Same order and *n as smtp_session_rcpts. */
const char *const *smtp_session_rcpt_orcpts(const struct smtp_session *s, size_t *n);
/* smtp_session_xforward - the XFORWARD attributes sent before MAIL, canonical text
 * (xforward_text), or NULL. */
const char *smtp_session_xforward(const struct smtp_session *s);
/* smtp_session_body - the message bytes exactly as received after dot-unstuffing (borrowed). */
struct spool *smtp_session_body(const struct smtp_session *s);
/* smtp_session_size - the body's length in bytes. */
uint64_t smtp_session_size(const struct smtp_session *s);
/* smtp_session_smtputf8 - 1 when MAIL carried SMTPUTF8. */
int smtp_session_smtputf8(const struct smtp_session *s);

/* Facts about the connection, borrowed and valid until they change or the session is freed. */

/* smtp_session_helo - the EHLO/HELO/LHLO argument, or NULL before one. */
const char *smtp_session_helo(const struct smtp_session *s);
/* smtp_session_tls - the version_cipher passed to tls_started ("" if none), NULL without TLS. */
const char *smtp_session_tls(const struct smtp_session *s);
/* smtp_session_auth_user - the authentication identity of the pending or successful AUTH,
 * or NULL. */
const char *smtp_session_auth_user(const struct smtp_session *s);
/* smtp_session_auth_pass - the password, only while SMTP_EV_AUTH is pending, else NULL. Never
 * log it; it is wiped by smtp_session_auth_result. */
const char *smtp_session_auth_pass(const struct smtp_session *s);
/* smtp_session_authenticated - 1 after a successful AUTH. */
int smtp_session_authenticated(const struct smtp_session *s);

/* smtp_session_phase - SMTP_PHASE_BODY inside a data block (the caller applies its data
 * timeout there, RFC 5321 §4.5.3.2), SMTP_PHASE_TX in the rest of an open transaction,
 * else SMTP_PHASE_IDLE (also while SMTP_EV_MESSAGE waits for message_done). */
enum smtp_phase smtp_session_phase(const struct smtp_session *s);

#endif
