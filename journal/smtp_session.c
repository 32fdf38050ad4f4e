/* smtp_session - the SMTP and LMTP server protocol engine of one connection, free of I/O.
 *
 * Shaped like OpenSMTPD's smtp_session.c: a state enum, a const command table of
 * {verb, check, proceed} rows where check_ may refuse (and reply) and proceed_ does the work,
 * and one smtp_enter_state through which every transition passes and is logged at debug level.
 * Input arrives in arbitrary pieces; a partial command line is kept (never more than the line
 * limit), and a DATA or BDAT body goes straight into the transaction's spool. */
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "log.h"
#include "smtp_args.h"
#include "smtp_session.h"
#include "spool.h"
#include "vl_err.h"
#include "xforward.h"

enum smtp_state {
	SMTP_STATE_NEW,		 /* greeted; EHLO/HELO/LHLO expected */
	SMTP_STATE_HELO,	 /* no transaction */
	SMTP_STATE_MAIL,	 /* MAIL accepted; RCPT expected */
	SMTP_STATE_RCPT,	 /* at least one RCPT accepted; more, DATA or BDAT expected */
	SMTP_STATE_BDAT,	 /* a BDAT chunk (not LAST) was accepted; more chunks expected */
	SMTP_STATE_DATA_BODY,	 /* reading the DATA payload up to "." */
	SMTP_STATE_BDAT_BODY,	 /* reading the octets of one BDAT chunk */
	SMTP_STATE_AUTH_INPUT,	 /* PLAIN: 334 sent; the SASL response line is expected */
	SMTP_STATE_AUTH_USER,	 /* LOGIN: 334 "Username:" sent; the user name line is expected */
	SMTP_STATE_AUTH_PASS,	 /* LOGIN: 334 "Password:" sent; the password line is expected */
	SMTP_STATE_WAIT_MESSAGE, /* paused: the caller stores the message */
	SMTP_STATE_WAIT_TLS,	 /* paused: the caller does the TLS handshake */
	SMTP_STATE_WAIT_AUTH,	 /* paused: the caller checks the credentials */
	SMTP_STATE_CLOSED,	 /* QUIT or a fatal condition; nothing more is read */
};

static const char *const smtp_state_names[] = {
	[SMTP_STATE_NEW] = "new",
	[SMTP_STATE_HELO] = "helo",
	[SMTP_STATE_MAIL] = "mail",
	[SMTP_STATE_RCPT] = "rcpt",
	[SMTP_STATE_BDAT] = "bdat",
	[SMTP_STATE_DATA_BODY] = "data-body",
	[SMTP_STATE_BDAT_BODY] = "bdat-body",
	[SMTP_STATE_AUTH_INPUT] = "auth-input",
	[SMTP_STATE_AUTH_USER] = "auth-user",
	[SMTP_STATE_AUTH_PASS] = "auth-pass",
	[SMTP_STATE_WAIT_MESSAGE] = "wait-message",
	[SMTP_STATE_WAIT_TLS] = "wait-tls",
	[SMTP_STATE_WAIT_AUTH] = "wait-auth",
	[SMTP_STATE_CLOSED] = "closed",
};

/* Where the DATA scanner is within a line: dot-unstuffing and the end marker are decided at
 * the start of a line, so only these four positions matter. */
enum smtp_data_pos {
	SMTP_DATA_BOL,	  /* at the start of a line */
	SMTP_DATA_MID,	  /* inside a line: everything up to LF is data */
	SMTP_DATA_DOT,	  /* after a "." at the start of a line (not stored yet) */
	SMTP_DATA_DOT_CR, /* after ".\r" at the start of a line (neither stored yet) */
};

enum smtp_body_type { SMTP_BODY_7BIT, SMTP_BODY_8BITMIME, SMTP_BODY_BINARYMIME };

/* One transaction: MAIL, RCPTs and the body; RSET and end of message tear it down. */
struct smtp_tx {
	char *mail_from; /* NULL until MAIL is accepted */
	char **rcpts;
	char **orcpts;	 /* NULL entries where RCPT had no ORCPT */
	size_t nrcpts, cap;
	enum smtp_body_type body_type;
	int smtputf8;
	int bdat;	      /* BDAT was used: DATA is no longer allowed */
	enum vl_err data_err; /* the first failure while receiving the body; the rest is drained */
	struct xforward xf;   /* XFORWARD before MAIL: the upstream client, as the relay says */
	char *xf_text;	      /* its canonical text, or NULL */
};

struct smtp_session {
	struct smtp_params p; /* strings copied below */
	char *hostname, *spool_dir, *log_tag;
	enum smtp_state state;
	enum smtp_event event; /* set by a handler to stop feed */
	struct buf out;
	struct buf line;      /* the partial command line, without its LF */
	int line_toolong;     /* draining a line past the limit up to its LF */
	unsigned nerrors;
	char *helo;
	char *tls;	      /* version_cipher once TLS is on */
	char *auth_user;
	char *auth_pass;      /* only while WAIT_AUTH */
	size_t auth_pass_len;
	int authenticated;
	struct smtp_tx tx;
	struct spool *body;
	enum smtp_data_pos dpos;
	uint64_t bdat_left;	    /* octets of the current chunk still to read */
	uint64_t bdat_size;	    /* the current chunk's announced size */
	int bdat_last;
	const char *bdat_refusal;   /* a 503 owed after the chunk is drained, or NULL */
	enum smtp_state bdat_resume; /* where a refused chunk returns to */
};

struct smtp_command {
	const char *verb;
	unsigned flags;
	/* check_ refuses the command (queueing the reply) by returning 0. */
	int (*check)(struct smtp_session *, const char *args);
	void (*proceed)(struct smtp_session *, const char *args);
};

#define SMTP_CMD_SMTP 0x01 /* SMTP only: 500 in LMTP */
#define SMTP_CMD_LMTP 0x02 /* LMTP only: 500 in SMTP */

/* ---- replies ---- */

static void smtp_reply(struct smtp_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void smtp_error(struct smtp_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
smtp_enter_state(struct smtp_session *s, enum smtp_state new_state)
{
	if (s->state != new_state)
		log_debug("smtp%s%s state=%s->%s", s->log_tag ? " client=" : "",
			  s->log_tag ? s->log_tag : "", smtp_state_names[s->state],
			  smtp_state_names[new_state]);
	s->state = new_state;
}

static void
smtp_reply_va(struct smtp_session *s, const char *fmt, va_list ap)
{
	char line[SMTP_CMDLINE_MAX * 2];
	int n = vsnprintf(line, sizeof(line), fmt, ap);

	/* Every reply is built from our text plus at most one address (SMTP_PATH_MAX), so this
	 * never truncates; if it ever did, a shortened line is still a valid reply. */
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	buf_append(&s->out, line, (size_t)n);
	buf_append(&s->out, "\r\n", 2);
}

static void
smtp_reply(struct smtp_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	smtp_reply_va(s, fmt, ap);
	va_end(ap);
}

/* smtp_close - queue a 421 and stop reading: the caller sends the output and closes. */
static void
smtp_close(struct smtp_session *s, const char *why)
{
	smtp_reply(s, "421 4.7.0 %s %s, closing connection", s->hostname, why);
	smtp_enter_state(s, SMTP_STATE_CLOSED);
	s->event = SMTP_EV_CLOSE;
}

/* smtp_error - queue the reply to a refused command and count it; SMTP_ERRORS_MAX of them
 * end the session (a client that is confused or probing gets no more attention). */
static void
smtp_error(struct smtp_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	smtp_reply_va(s, fmt, ap);
	va_end(ap);
	if (++s->nerrors >= SMTP_ERRORS_MAX) {
		log_info("smtp%s%s closing reason=errors count=%u", s->log_tag ? " client=" : "",
			 s->log_tag ? s->log_tag : "", s->nerrors);
		smtp_close(s, "Error: too many errors");
	}
}

/* smtp_result_text - the text after the codes of a final reply for err. */
static const char *
smtp_result_text(enum vl_err err, int code)
{
	if (code / 100 == 2)
		return "Ok: archived";
	if (err == VL_ERR_LIMIT)
		return "Error: message size exceeds fixed maximum message size";
	if (err == VL_ERR_NOSPACE)
		return "Error: insufficient system storage";
	return code / 100 == 4 ? "Temporary failure" : "Error";
}

/* smtp_reply_final - the reply to the end of a message (final "." or BDAT LAST): once in SMTP,
 * once per accepted recipient in RCPT order in LMTP (RFC 2033 §4.2), on every path, since an
 * LMTP client waits for all of them. */
static void
smtp_reply_final(struct smtp_session *s, enum vl_err err)
{
	const char *enh;
	int code = vl_err_smtp(err, &enh);
	const char *text = smtp_result_text(err, code);

	if (!s->p.lmtp) {
		smtp_reply(s, "%d %s %s", code, enh, text);
		return;
	}
	for (size_t i = 0; i < s->tx.nrcpts; i++)
		smtp_reply(s, "%d %s <%s> %s", code, enh, s->tx.rcpts[i], text);
}

/* ---- the transaction ---- */

static void
smtp_tx_reset(struct smtp_session *s)
{
	struct smtp_tx *tx = &s->tx;

	free(tx->mail_from);
	for (size_t i = 0; i < tx->nrcpts; i++) {
		free(tx->rcpts[i]);
		free(tx->orcpts[i]);
	}
	free(tx->rcpts);
	free(tx->orcpts);
	xforward_clear(&tx->xf);
	free(tx->xf_text);
	memset(tx, 0, sizeof(*tx));
	spool_reset(s->body);
}

/* smtp_tx_store - add body bytes to the spool unless the transaction failed already: past
 * max_message or after a spool error the rest of the body is only drained, and the failure
 * is answered at its end (never mid-stream, so the client stays in step). */
static void
smtp_tx_store(struct smtp_session *s, const uint8_t *p, size_t n)
{
	enum vl_err rc;

	if (n == 0 || s->tx.data_err != VL_OK)
		return;
	if (s->p.max_message && n > s->p.max_message - spool_len(s->body)) {
		s->tx.data_err = VL_ERR_LIMIT;
		spool_reset(s->body);
		return;
	}
	rc = spool_append(s->body, p, n);
	if (rc != VL_OK) {
		log_warnx("smtp%s%s spool error=\"%s\"", s->log_tag ? " client=" : "",
			  s->log_tag ? s->log_tag : "", vl_err_str(rc));
		s->tx.data_err = rc;
		spool_reset(s->body);
	}
}

/* smtp_tx_finish - the body is complete: answer a failure (and reset), or hand the message to
 * the caller and wait. */
static void
smtp_tx_finish(struct smtp_session *s)
{
	if (s->tx.data_err != VL_OK) {
		smtp_reply_final(s, s->tx.data_err);
		smtp_tx_reset(s);
		smtp_enter_state(s, SMTP_STATE_HELO);
		return;
	}
	smtp_enter_state(s, SMTP_STATE_WAIT_MESSAGE);
	s->event = SMTP_EV_MESSAGE;
}

/* ---- commands ---- */

static int
smtp_check_helo(struct smtp_session *s, const char *args)
{
	if (*args == '\0') {
		smtp_error(s, "501 5.5.4 Syntax: %s hostname", s->p.lmtp ? "LHLO" : "EHLO or HELO");
		return 0;
	}
	return 1;
}

/* smtp_helo_common - EHLO, HELO and LHLO all reset the transaction (RFC 5321 §4.1.4). */
static void
smtp_helo_common(struct smtp_session *s, const char *args)
{
	free(s->helo);
	s->helo = xstrdup(args);
	smtp_tx_reset(s);
	smtp_enter_state(s, SMTP_STATE_HELO);
}

static void
smtp_proceed_helo(struct smtp_session *s, const char *args)
{
	smtp_helo_common(s, args);
	smtp_reply(s, "250 %s", s->hostname);
}

static void
smtp_proceed_ehlo(struct smtp_session *s, const char *args)
{
	const char *kw[16];
	char size[32];
	size_t n = 0;

	smtp_helo_common(s, args);
	kw[n++] = s->hostname;
	kw[n++] = "PIPELINING";
	if (s->p.max_message) {
		snprintf(size, sizeof(size), "SIZE %llu", (unsigned long long)s->p.max_message);
		kw[n++] = size;
	} else {
		kw[n++] = "SIZE";
	}
	kw[n++] = "8BITMIME";
	kw[n++] = "SMTPUTF8";
	kw[n++] = "ENHANCEDSTATUSCODES";
	kw[n++] = "CHUNKING";
	kw[n++] = "BINARYMIME";
	kw[n++] = "DSN";
	if (s->p.tls_available && s->tls == NULL)
		kw[n++] = "STARTTLS";
	if (s->p.auth_available && s->tls != NULL)
		kw[n++] = "AUTH PLAIN LOGIN";
	if (s->p.xforward_available)
		kw[n++] = XFORWARD_EHLO;
	for (size_t i = 0; i < n; i++)
		smtp_reply(s, "250%c%s", i + 1 < n ? '-' : ' ', kw[i]);
}

/* smtp_check_between_tx - MAIL and XFORWARD: after HELO, outside a transaction (else the reply
 * busy), and after STARTTLS and AUTH where those are required. */
static int
smtp_check_between_tx(struct smtp_session *s, const char *busy)
{
	if (s->state == SMTP_STATE_NEW) {
		smtp_error(s, "503 5.5.1 Error: send %s first", s->p.lmtp ? "LHLO" : "HELO/EHLO");
		return 0;
	}
	if (s->state != SMTP_STATE_HELO) {
		smtp_error(s, "%s", busy);
		return 0;
	}
	if (s->p.tls_required && s->tls == NULL) {
		smtp_error(s, "530 5.7.0 Must issue a STARTTLS command first");
		return 0;
	}
	if (s->p.auth_required && !s->authenticated) {
		smtp_error(s, "530 5.7.0 Authentication required");
		return 0;
	}
	return 1;
}

static int
smtp_check_mail(struct smtp_session *s, const char *args)
{
	(void)args;
	return smtp_check_between_tx(s, "503 5.5.1 Error: nested MAIL command");
}

static void
smtp_proceed_mail(struct smtp_session *s, const char *args)
{
	const char *p = args, *key, *val;
	size_t klen, vlen;
	enum smtp_body_type body = SMTP_BODY_7BIT;
	int utf8 = 0;
	uint64_t size;
	char *addr;

	if (strncasecmp(p, "FROM:", 5) != 0) {
		smtp_error(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	p += 5;
	if ((addr = smtp_parse_path(&p, 1)) == NULL) {
		smtp_error(s, "501 5.1.7 Bad sender address syntax");
		return;
	}
	while (smtp_next_param(&p, &key, &klen, &val, &vlen)) {
		if (smtp_word_eq(key, klen, "SIZE")) {
			if (val == NULL || vlen == 0 || strspn(val, "0123456789") != vlen)
				goto syntax;
			/* A size too big to count is too big. */
			if (!smtp_parse_u64(val, vlen, &size) ||
			    (s->p.max_message && size > s->p.max_message))
				goto too_big;
		} else if (smtp_word_eq(key, klen, "BODY")) {
			if (val && smtp_word_eq(val, vlen, "7BIT"))
				body = SMTP_BODY_7BIT;
			else if (val && smtp_word_eq(val, vlen, "8BITMIME"))
				body = SMTP_BODY_8BITMIME;
			else if (val && smtp_word_eq(val, vlen, "BINARYMIME"))
				body = SMTP_BODY_BINARYMIME;
			else
				goto syntax;
		} else if (smtp_word_eq(key, klen, "SMTPUTF8")) {
			if (val)
				goto syntax;
			utf8 = 1;
		}
		/* RET, ENVID, AUTH= and anything else: accepted and ignored (an archive keeps
		 * the message whatever the sender wants done with notifications). */
	}
	s->tx.mail_from = addr;
	s->tx.body_type = body;
	s->tx.smtputf8 = utf8;
	smtp_enter_state(s, SMTP_STATE_MAIL);
	smtp_reply(s, "250 2.1.0 Ok");
	return;
too_big:
	free(addr);
	smtp_reply(s, "552 5.3.4 Error: message size exceeds fixed maximum message size");
	return;
syntax:
	free(addr);
	smtp_error(s, "501 5.5.4 Error: bad MAIL parameter %.*s", (int)klen, key);
}

static int
smtp_check_rcpt(struct smtp_session *s, const char *args)
{
	(void)args;
	if (s->state == SMTP_STATE_BDAT) {
		smtp_error(s, "503 5.5.1 Error: RCPT after BDAT");
		return 0;
	}
	if (s->state != SMTP_STATE_MAIL && s->state != SMTP_STATE_RCPT) {
		smtp_error(s, "503 5.5.1 Error: need MAIL command");
		return 0;
	}
	return 1;
}

static void
smtp_proceed_rcpt(struct smtp_session *s, const char *args)
{
	const char *p = args, *key, *val;
	size_t klen, vlen, max = s->p.max_rcpts ? s->p.max_rcpts : SMTP_RCPTS_DEFAULT;
	char *addr, *orcpt = NULL;
	struct smtp_tx *tx = &s->tx;

	if (strncasecmp(p, "TO:", 3) != 0) {
		smtp_error(s, "501 5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	p += 3;
	if ((addr = smtp_parse_path(&p, 0)) == NULL) {
		smtp_error(s, "501 5.1.3 Bad recipient address syntax");
		return;
	}
	while (smtp_next_param(&p, &key, &klen, &val, &vlen)) {
		if (!smtp_word_eq(key, klen, "ORCPT"))
			continue; /* NOTIFY and the rest: accepted, ignored */
		free(orcpt);
		if (val == NULL || (orcpt = smtp_decode_orcpt(val, vlen)) == NULL) {
			free(addr);
			smtp_error(s, "501 5.5.4 Error: bad ORCPT parameter");
			return;
		}
	}
	if (tx->nrcpts >= max) {
		free(addr);
		free(orcpt);
		smtp_reply(s, "452 4.5.3 Error: too many recipients");
		return;
	}
	if (tx->nrcpts == tx->cap) {
		tx->cap = tx->cap ? tx->cap * 2 : 8;
		tx->rcpts = xrealloc(tx->rcpts, tx->cap * sizeof(*tx->rcpts));
		tx->orcpts = xrealloc(tx->orcpts, tx->cap * sizeof(*tx->orcpts));
	}
	tx->rcpts[tx->nrcpts] = addr;
	tx->orcpts[tx->nrcpts] = orcpt;
	tx->nrcpts++;
	smtp_enter_state(s, SMTP_STATE_RCPT);
	smtp_reply(s, "250 2.1.5 Ok");
}

static int
smtp_check_data(struct smtp_session *s, const char *args)
{
	if (s->state == SMTP_STATE_BDAT) {
		smtp_error(s, "503 5.5.1 Error: DATA after BDAT");
		return 0;
	}
	if (s->state == SMTP_STATE_NEW || s->state == SMTP_STATE_HELO) {
		smtp_error(s, "503 5.5.1 Error: need MAIL command");
		return 0;
	}
	if (s->state != SMTP_STATE_RCPT) {
		smtp_error(s, "503 5.5.1 Error: need RCPT command");
		return 0;
	}
	if (s->tx.body_type == SMTP_BODY_BINARYMIME) {
		/* RFC 3030 §3: a BINARYMIME body can only be sent with BDAT. */
		smtp_error(s, "503 5.5.1 Error: BODY=BINARYMIME requires BDAT");
		return 0;
	}
	if (*args != '\0') {
		smtp_error(s, "501 5.5.4 Syntax: DATA");
		return 0;
	}
	return 1;
}

static void
smtp_proceed_data(struct smtp_session *s, const char *args)
{
	(void)args;
	s->dpos = SMTP_DATA_BOL;
	smtp_enter_state(s, SMTP_STATE_DATA_BODY);
	smtp_reply(s, "354 End data with <CR><LF>.<CR><LF>");
}

/* smtp_check_bdat - only the syntax: with an unreadable size we cannot tell where the chunk
 * ends, and reading its bytes as commands would let message content drive the session, so
 * the connection is closed (RFC 3030 gives no way to resynchronize). */
static int
smtp_check_bdat(struct smtp_session *s, const char *args)
{
	const char *sp = strchr(args, ' ');
	size_t nlen = sp ? (size_t)(sp - args) : strlen(args);
	const char *rest = sp ? sp + 1 : "";

	if (!smtp_parse_u64(args, nlen, &s->bdat_size) ||
	    (*rest != '\0' && !smtp_word_eq(rest, strlen(rest), "LAST"))) {
		smtp_reply(s, "501 5.5.4 Syntax: BDAT count [LAST]");
		s->nerrors++;
		smtp_close(s, "Error: BDAT out of sync");
		return 0;
	}
	s->bdat_last = *rest != '\0';
	return 1;
}

static void
smtp_bdat_end(struct smtp_session *s);

static void
smtp_proceed_bdat(struct smtp_session *s, const char *args)
{
	(void)args;
	s->bdat_left = s->bdat_size;
	s->bdat_refusal = NULL;
	s->bdat_resume = s->state;
	/* The chunk's octets follow whatever we answer, so a refused chunk is still read (and
	 * dropped) before its reply. */
	if (s->state == SMTP_STATE_NEW || s->state == SMTP_STATE_HELO)
		s->bdat_refusal = "503 5.5.1 Error: need MAIL command";
	else if (s->state == SMTP_STATE_MAIL)
		s->bdat_refusal = "503 5.5.1 Error: need RCPT command";
	else if (s->p.max_message && s->tx.data_err == VL_OK &&
		 s->bdat_size > s->p.max_message - spool_len(s->body))
		s->tx.data_err = VL_ERR_LIMIT;
	if (s->bdat_refusal == NULL) {
		s->tx.bdat = 1;
		if (s->tx.data_err != VL_OK)
			spool_reset(s->body);
	}
	smtp_enter_state(s, SMTP_STATE_BDAT_BODY);
	if (s->bdat_left == 0)
		smtp_bdat_end(s);
}

/* smtp_bdat_end - the chunk's octets are all read: answer it. */
static void
smtp_bdat_end(struct smtp_session *s)
{
	if (s->bdat_refusal) {
		smtp_enter_state(s, s->bdat_resume);
		smtp_error(s, "%s", s->bdat_refusal);
		return;
	}
	if (s->bdat_last) {
		smtp_tx_finish(s);
		return;
	}
	if (s->tx.data_err != VL_OK) {
		/* A failed chunk ends the transaction (RFC 3030 §4.2: the client must not send
		 * more chunks for it); one reply, as for any chunk but the last. */
		const char *enh;
		int code = vl_err_smtp(s->tx.data_err, &enh);

		smtp_reply(s, "%d %s %s", code, enh, smtp_result_text(s->tx.data_err, code));
		smtp_tx_reset(s);
		smtp_enter_state(s, SMTP_STATE_HELO);
		return;
	}
	smtp_enter_state(s, SMTP_STATE_BDAT);
	smtp_reply(s, "250 2.0.0 %llu octets received", (unsigned long long)s->bdat_size);
}

static int
smtp_check_no_args(struct smtp_session *s, const char *args)
{
	if (*args != '\0') {
		smtp_error(s, "501 5.5.4 Syntax: %s", "no parameters allowed");
		return 0;
	}
	return 1;
}

static void
smtp_proceed_rset(struct smtp_session *s, const char *args)
{
	(void)args;
	smtp_tx_reset(s);
	if (s->state != SMTP_STATE_NEW)
		smtp_enter_state(s, SMTP_STATE_HELO);
	smtp_reply(s, "250 2.0.0 Ok");
}

static void
smtp_proceed_noop(struct smtp_session *s, const char *args)
{
	(void)args;
	smtp_reply(s, "250 2.0.0 Ok");
}

static int
smtp_check_vrfy(struct smtp_session *s, const char *args)
{
	if (*args == '\0') {
		smtp_error(s, "501 5.5.4 Syntax: VRFY address");
		return 0;
	}
	return 1;
}

static void
smtp_proceed_vrfy(struct smtp_session *s, const char *args)
{
	(void)args;
	smtp_reply(s, "252 2.5.2 Cannot VRFY user, but will accept message");
}

static void
smtp_proceed_help(struct smtp_session *s, const char *args)
{
	(void)args;
	smtp_reply(s, "214 2.0.0 Commands: %s MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP "
		      "STARTTLS AUTH XFORWARD",
		   s->p.lmtp ? "LHLO" : "EHLO HELO");
}

static void
smtp_proceed_quit(struct smtp_session *s, const char *args)
{
	(void)args;
	smtp_reply(s, "221 2.0.0 %s Bye", s->hostname);
	smtp_enter_state(s, SMTP_STATE_CLOSED);
	s->event = SMTP_EV_QUIT;
}

static int
smtp_check_starttls(struct smtp_session *s, const char *args)
{
	if (!s->p.tls_available) {
		smtp_error(s, "502 5.5.1 Error: TLS not available");
		return 0;
	}
	if (s->tls != NULL) {
		smtp_error(s, "503 5.5.1 Error: TLS already active");
		return 0;
	}
	if (s->state != SMTP_STATE_HELO) {
		smtp_error(s, "503 5.5.1 Error: %s",
			   s->state == SMTP_STATE_NEW ? "send EHLO first"
						      : "STARTTLS not allowed in a transaction");
		return 0;
	}
	return smtp_check_no_args(s, args);
}

static void
smtp_proceed_starttls(struct smtp_session *s, const char *args)
{
	(void)args;
	smtp_reply(s, "220 2.0.0 Ready to start TLS");
	smtp_enter_state(s, SMTP_STATE_WAIT_TLS);
	s->event = SMTP_EV_STARTTLS;
}

/* smtp_auth_user_forget - wipe and free the user name: people type passwords into it too. */
static void
smtp_auth_user_forget(struct smtp_session *s)
{
	if (s->auth_user) {
		sodium_memzero(s->auth_user, strlen(s->auth_user));
		free(s->auth_user);
	}
	s->auth_user = NULL;
}

static void
smtp_auth_clear(struct smtp_session *s)
{
	if (s->auth_pass) {
		sodium_memzero(s->auth_pass, s->auth_pass_len);
		free(s->auth_pass);
	}
	s->auth_pass = NULL;
	s->auth_pass_len = 0;
	smtp_auth_user_forget(s);
}

/* smtp_auth_refuse - end a SASL exchange without a verdict (cancelled, undecodable, malformed):
 * forget what it carried, return to no transaction and count the refusal. */
static void
smtp_auth_refuse(struct smtp_session *s, const char *reply)
{
	smtp_auth_clear(s);
	smtp_enter_state(s, SMTP_STATE_HELO);
	smtp_error(s, "%s", reply);
}

#define SMTP_R_AUTH_DECODE "501 5.5.2 Error: cannot decode response"

/* smtp_auth_plain - decode a SASL PLAIN response (RFC 4616: [authzid] NUL authcid NUL passwd)
 * and hand it to the caller. */
static void
smtp_auth_plain(struct smtp_session *s, const char *b64)
{
	size_t dlen;
	uint8_t *d = smtp_decode_sasl(b64, &dlen);
	const uint8_t *z1, *z2;

	if (d == NULL) {
		smtp_auth_refuse(s, SMTP_R_AUTH_DECODE);
		return;
	}
	z1 = memchr(d, 0, dlen);
	z2 = z1 ? memchr(z1 + 1, 0, dlen - (size_t)(z1 + 1 - d)) : NULL;
	if (z2 == NULL || z2 == z1 + 1 || memchr(z2 + 1, 0, dlen - (size_t)(z2 + 1 - d))) {
		smtp_auth_refuse(s, "501 5.5.2 Error: malformed PLAIN response");
		goto out;
	}
	/* Acting as someone else (an authzid other than the user) is not offered. */
	if (z1 != d && ((size_t)(z1 - d) != (size_t)(z2 - z1 - 1) ||
			memcmp(d, z1 + 1, (size_t)(z1 - d)) != 0)) {
		smtp_auth_refuse(s, "535 5.7.8 Error: authentication credentials invalid");
		goto out;
	}
	smtp_auth_clear(s);
	s->auth_user = smtp_strndup((const char *)z1 + 1, (size_t)(z2 - z1 - 1));
	s->auth_pass_len = dlen - (size_t)(z2 + 1 - d);
	s->auth_pass = smtp_strndup((const char *)z2 + 1, s->auth_pass_len);
	smtp_enter_state(s, SMTP_STATE_WAIT_AUTH);
	s->event = SMTP_EV_AUTH;
out:
	sodium_memzero(d, dlen + 1);
	free(d);
}

/* smtp_auth_login_decode - one LOGIN response (draft-murchison-sasl-login), newly allocated and
 * NUL-terminated, or NULL (refused with 501) when it is not base64 or holds a NUL, which no
 * user name or password can; an empty user name is refused too, as PLAIN refuses one. */
static char *
smtp_auth_login_decode(struct smtp_session *s, const char *b64, size_t *len, int empty_ok)
{
	uint8_t *d = smtp_decode_sasl(b64, len);

	if (d == NULL) {
		smtp_auth_refuse(s, SMTP_R_AUTH_DECODE);
		return NULL;
	}
	if (memchr(d, 0, *len) || (*len == 0 && !empty_ok)) {
		sodium_memzero(d, *len + 1);
		free(d);
		smtp_auth_refuse(s, "501 5.5.2 Error: malformed LOGIN response");
		return NULL;
	}
	return (char *)d;
}

/* smtp_auth_login_user - the LOGIN user name, from the initial response or the line after
 * 334 "Username:"; then 334 "Password:". */
static void
smtp_auth_login_user(struct smtp_session *s, const char *b64)
{
	size_t len;
	char *user = smtp_auth_login_decode(s, b64, &len, 0);

	if (user == NULL)
		return;
	smtp_auth_clear(s);
	s->auth_user = user;
	smtp_enter_state(s, SMTP_STATE_AUTH_PASS);
	smtp_reply(s, "334 UGFzc3dvcmQ6");
}

/* smtp_auth_login_pass - the LOGIN password, the line after 334 "Password:": with the user
 * name, hand it to the caller. An empty password is the caller's to refuse, as in PLAIN. */
static void
smtp_auth_login_pass(struct smtp_session *s, const char *b64)
{
	size_t len;
	char *pass = smtp_auth_login_decode(s, b64, &len, 1);

	if (pass == NULL)
		return;
	s->auth_pass = pass;
	s->auth_pass_len = len;
	smtp_enter_state(s, SMTP_STATE_WAIT_AUTH);
	s->event = SMTP_EV_AUTH;
}

/* The SASL mechanisms offered, with the 334 that asks for the first response when AUTH
 * carries none, the state that waits for it, and what takes it. */
static const struct smtp_sasl_mech {
	const char *name;
	const char *prompt;
	enum smtp_state wait;
	void (*first)(struct smtp_session *, const char *b64);
} smtp_sasl_mechs[] = {
	{"PLAIN", "334 ", SMTP_STATE_AUTH_INPUT, smtp_auth_plain},
	{"LOGIN", "334 VXNlcm5hbWU6", SMTP_STATE_AUTH_USER, smtp_auth_login_user}, /* "Username:" */
};

/* smtp_in_sasl - 1 while a SASL response line is expected (after a 334). */
static int
smtp_in_sasl(const struct smtp_session *s)
{
	return s->state == SMTP_STATE_AUTH_INPUT || s->state == SMTP_STATE_AUTH_USER ||
	       s->state == SMTP_STATE_AUTH_PASS;
}

static int
smtp_check_auth(struct smtp_session *s, const char *args)
{
	(void)args;
	if (!s->p.auth_available) {
		smtp_error(s, "502 5.5.1 Error: authentication not enabled");
		return 0;
	}
	if (s->tls == NULL) {
		smtp_error(s, "538 5.7.11 Encryption required for requested authentication "
			      "mechanism");
		return 0;
	}
	if (s->authenticated) {
		smtp_error(s, "503 5.5.1 Error: already authenticated");
		return 0;
	}
	if (s->state != SMTP_STATE_HELO) {
		smtp_error(s, "503 5.5.1 Error: %s",
			   s->state == SMTP_STATE_NEW ? "send EHLO first"
						      : "AUTH not allowed in a transaction");
		return 0;
	}
	return 1;
}

static void
smtp_proceed_auth(struct smtp_session *s, const char *args)
{
	const char *sp = strchr(args, ' ');
	size_t mlen = sp ? (size_t)(sp - args) : strlen(args);
	const struct smtp_sasl_mech *m = NULL;

	for (size_t i = 0; i < sizeof(smtp_sasl_mechs) / sizeof(smtp_sasl_mechs[0]); i++)
		if (smtp_word_eq(args, mlen, smtp_sasl_mechs[i].name))
			m = &smtp_sasl_mechs[i];
	if (m == NULL) {
		smtp_error(s, "504 5.5.4 Error: unrecognized authentication type");
		return;
	}
	if (sp == NULL) {
		smtp_enter_state(s, m->wait);
		smtp_reply(s, "%s", m->prompt);
		return;
	}
	m->first(s, sp + 1);
}

/* smtp_auth_input - the line after a 334: "*" cancels the exchange (RFC 4954 §4). */
static void
smtp_auth_input(struct smtp_session *s, const char *line)
{
	if (strcmp(line, "*") == 0)
		smtp_auth_refuse(s, "501 5.0.0 Authentication aborted");
	else if (s->state == SMTP_STATE_AUTH_USER)
		smtp_auth_login_user(s, line);
	else if (s->state == SMTP_STATE_AUTH_PASS)
		smtp_auth_login_pass(s, line);
	else
		smtp_auth_plain(s, line);
}

/* XFORWARD (Postfix) sets attributes of the next transaction, so it is taken where MAIL is. */
static int
smtp_check_xforward(struct smtp_session *s, const char *args)
{
	(void)args;
	if (!s->p.xforward_available) {
		smtp_error(s, "550 5.7.0 Error: insufficient authorization");
		return 0;
	}
	return smtp_check_between_tx(s, "503 5.5.1 Error: MAIL transaction in progress");
}

static void
smtp_proceed_xforward(struct smtp_session *s, const char *args)
{
	const char *why = xforward_apply(&s->tx.xf, args);

	if (why) {
		smtp_error(s, "%s", why);
		return;
	}
	free(s->tx.xf_text);
	s->tx.xf_text = xforward_text(&s->tx.xf);
	smtp_reply(s, "250 2.0.0 Ok");
}

static const struct smtp_command smtp_commands[] = {
	{"EHLO", SMTP_CMD_SMTP, smtp_check_helo, smtp_proceed_ehlo},
	{"HELO", SMTP_CMD_SMTP, smtp_check_helo, smtp_proceed_helo},
	{"LHLO", SMTP_CMD_LMTP, smtp_check_helo, smtp_proceed_ehlo},
	{"MAIL", 0, smtp_check_mail, smtp_proceed_mail},
	{"RCPT", 0, smtp_check_rcpt, smtp_proceed_rcpt},
	{"DATA", 0, smtp_check_data, smtp_proceed_data},
	{"BDAT", 0, smtp_check_bdat, smtp_proceed_bdat},
	{"RSET", 0, smtp_check_no_args, smtp_proceed_rset},
	{"NOOP", 0, NULL, smtp_proceed_noop},
	{"QUIT", 0, NULL, smtp_proceed_quit},
	{"VRFY", 0, smtp_check_vrfy, smtp_proceed_vrfy},
	{"HELP", 0, NULL, smtp_proceed_help},
	{"STARTTLS", 0, smtp_check_starttls, smtp_proceed_starttls},
	{"AUTH", 0, smtp_check_auth, smtp_proceed_auth},
	{"XFORWARD", 0, smtp_check_xforward, smtp_proceed_xforward},
};

/* smtp_command - one complete command line (without CRLF, NUL-terminated at len). */
static void
smtp_command(struct smtp_session *s, char *line, size_t len)
{
	const struct smtp_command *c = NULL;
	size_t vlen;
	char *args;

	if (memchr(line, '\0', len)) {
		smtp_error(s, "500 5.5.2 Error: bad syntax");
		return;
	}
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		line[--len] = '\0';
	vlen = strcspn(line, " ");
	args = line + vlen;
	while (*args == ' ')
		args++;
	for (size_t i = 0; i < sizeof(smtp_commands) / sizeof(smtp_commands[0]); i++) {
		if (smtp_word_eq(line, vlen, smtp_commands[i].verb)) {
			c = &smtp_commands[i];
			break;
		}
	}
	if (c && (c->flags & (s->p.lmtp ? SMTP_CMD_SMTP : SMTP_CMD_LMTP)))
		c = NULL;
	if (c == NULL) {
		smtp_error(s, "500 5.5.%d Error: %s", vlen ? 1 : 2,
			   vlen ? "command not recognized" : "bad syntax");
		return;
	}
	log_debug("smtp%s%s command=%s", s->log_tag ? " client=" : "",
		  s->log_tag ? s->log_tag : "", c->verb);
	if (c->check == NULL || c->check(s, args))
		c->proceed(s, args);
}

/* smtp_line_consume - take bytes of a command line (or of a SASL response): complete lines
 * are handled one at a time; a line past the limit is dropped up to its LF and answered
 * then, so memory never holds more than the limit. Returns the bytes used. */
static size_t
smtp_line_consume(struct smtp_session *s, const uint8_t *p, size_t n)
{
	int auth = smtp_in_sasl(s);
	size_t max = auth ? SMTP_AUTHLINE_MAX : SMTP_CMDLINE_MAX;
	const uint8_t *lf = memchr(p, '\n', n);
	size_t take = lf ? (size_t)(lf - p) + 1 : n;
	size_t body = lf ? take - 1 : take;
	char *line;
	size_t len;

	/* The limit counts the LF too: with CRLF, 510 octets of command text fit. */
	if (!s->line_toolong && s->line.len + body + 1 > max) {
		s->line_toolong = 1;
		sodium_memzero(s->line.data, s->line.len);
		buf_reset(&s->line);
	}
	if (!s->line_toolong)
		buf_append(&s->line, p, body);
	if (lf == NULL)
		return take;
	if (s->line_toolong) {
		s->line_toolong = 0;
		if (auth)
			smtp_auth_refuse(s, "500 5.5.6 Error: authentication exchange line "
					    "too long");
		else
			smtp_error(s, "500 5.5.2 Error: line too long");
		return take;
	}
	line = (char *)s->line.data;
	len = s->line.len;
	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	if (auth)
		smtp_auth_input(s, line);
	else
		smtp_command(s, line, len);
	/* The line may have carried credentials (AUTH PLAIN <initial response>). */
	sodium_memzero(s->line.data, s->line.len);
	buf_reset(&s->line);
	return take;
}

/* smtp_data_consume - DATA payload bytes: dot-unstuff (a line starting with "." loses that
 * dot), end at a line that is exactly "." (CRLF or bare LF ending it, as Postfix and Dovecot
 * accept), and store everything else as received: CRLF, bare LF, bare CR and NUL alike.
 * Contiguous runs go to the spool in one append. Returns the bytes used. */
static size_t
smtp_data_consume(struct smtp_session *s, const uint8_t *p, size_t n)
{
	size_t i = 0, span = 0; /* p[span..i) is data not yet stored */

	while (i < n) {
		switch (s->dpos) {
		case SMTP_DATA_MID: {
			const uint8_t *lf = memchr(p + i, '\n', n - i);

			if (lf == NULL) {
				i = n;
			} else {
				i = (size_t)(lf - p) + 1;
				s->dpos = SMTP_DATA_BOL;
			}
			break;
		}
		case SMTP_DATA_BOL:
			if (p[i] == '.') {
				smtp_tx_store(s, p + span, i - span);
				span = ++i;
				s->dpos = SMTP_DATA_DOT;
			} else {
				s->dpos = p[i] == '\n' ? SMTP_DATA_BOL : SMTP_DATA_MID;
				i++;
			}
			break;
		case SMTP_DATA_DOT:
			if (p[i] == '\n')
				goto end;
			if (p[i] == '\r') {
				span = ++i;
				s->dpos = SMTP_DATA_DOT_CR;
			} else {
				s->dpos = SMTP_DATA_MID; /* the stuffed dot is gone; p[i] is data */
			}
			break;
		case SMTP_DATA_DOT_CR:
			if (p[i] == '\n')
				goto end;
			/* ".\r" and not LF: a bare CR after a stuffed dot, which is data. */
			smtp_tx_store(s, (const uint8_t *)"\r", 1);
			s->dpos = SMTP_DATA_MID;
			break;
		}
	}
	smtp_tx_store(s, p + span, n - span);
	return n;
end:
	/* Nothing is pending: the marker's "." (and "\r") were never stored. */
	smtp_tx_finish(s);
	return i + 1;
}

/* smtp_bdat_consume - the octets of a BDAT chunk, taken as they are. */
static size_t
smtp_bdat_consume(struct smtp_session *s, const uint8_t *p, size_t n)
{
	size_t take = s->bdat_left < n ? (size_t)s->bdat_left : n;

	if (s->bdat_refusal == NULL)
		smtp_tx_store(s, p, take);
	s->bdat_left -= take;
	if (s->bdat_left == 0)
		smtp_bdat_end(s);
	return take;
}

/* ---- the public interface ---- */

struct smtp_session *
smtp_session_new(const struct smtp_params *p)
{
	struct smtp_session *s = xcalloc(1, sizeof(*s));

	s->p = *p;
	s->hostname = xstrdup(p->hostname ? p->hostname : "localhost");
	s->spool_dir = p->spool_dir ? xstrdup(p->spool_dir) : NULL;
	s->log_tag = p->log_tag ? xstrdup(p->log_tag) : NULL;
	s->p.hostname = s->hostname;
	s->p.spool_dir = s->spool_dir;
	s->p.log_tag = s->log_tag;
	s->body = spool_new(s->spool_dir, p->spool_mem_max);
	s->state = SMTP_STATE_NEW;
	smtp_reply(s, "220 %s %s Vellum", s->hostname, p->lmtp ? "LMTP" : "ESMTP");
	return s;
}

void
smtp_session_free(struct smtp_session *s)
{
	if (s == NULL)
		return;
	smtp_tx_reset(s);
	smtp_auth_clear(s);
	spool_free(s->body);
	if (s->line.data)
		sodium_memzero(s->line.data, s->line.cap);
	buf_free(&s->line);
	buf_free(&s->out);
	free(s->helo);
	free(s->tls);
	free(s->hostname);
	free(s->spool_dir);
	free(s->log_tag);
	free(s);
}

enum smtp_event
smtp_session_feed(struct smtp_session *s, const uint8_t *in, size_t n, size_t *consumed)
{
	size_t off = 0;

	s->event = SMTP_EV_NONE;
	*consumed = 0;
	if (s->state == SMTP_STATE_CLOSED)
		return SMTP_EV_CLOSE;
	while (off < n && s->event == SMTP_EV_NONE) {
		switch (s->state) {
		case SMTP_STATE_DATA_BODY:
			off += smtp_data_consume(s, in + off, n - off);
			break;
		case SMTP_STATE_BDAT_BODY:
			off += smtp_bdat_consume(s, in + off, n - off);
			break;
		case SMTP_STATE_WAIT_MESSAGE:
		case SMTP_STATE_WAIT_TLS:
		case SMTP_STATE_WAIT_AUTH:
		case SMTP_STATE_CLOSED:
			goto out;
		default:
			/* Backpressure: a client that pipelines without reading replies. */
			if (s->out.len >= SMTP_OUTPUT_HIGHWATER)
				goto out;
			off += smtp_line_consume(s, in + off, n - off);
			break;
		}
	}
out:
	*consumed = off;
	return s->event;
}

struct buf *
smtp_session_output(struct smtp_session *s)
{
	return &s->out;
}

void
smtp_session_message_done(struct smtp_session *s, enum vl_err result)
{
	if (s->state != SMTP_STATE_WAIT_MESSAGE)
		return;
	smtp_reply_final(s, result);
	smtp_tx_reset(s);
	smtp_enter_state(s, SMTP_STATE_HELO);
}

void
smtp_session_tls_started(struct smtp_session *s, const char *version_cipher)
{
	if (s->state != SMTP_STATE_WAIT_TLS)
		return;
	/* RFC 3207 §4.2: forget everything learnt in plaintext. */
	free(s->tls);
	s->tls = xstrdup(version_cipher ? version_cipher : "");
	free(s->helo);
	s->helo = NULL;
	smtp_tx_reset(s);
	smtp_auth_clear(s);
	s->authenticated = 0;
	buf_reset(&s->line);
	s->line_toolong = 0;
	smtp_enter_state(s, SMTP_STATE_NEW);
}

void
smtp_session_auth_result(struct smtp_session *s, enum smtp_auth_verdict v)
{
	if (s->state != SMTP_STATE_WAIT_AUTH)
		return;
	if (s->auth_pass)
		sodium_memzero(s->auth_pass, s->auth_pass_len);
	free(s->auth_pass);
	s->auth_pass = NULL;
	s->auth_pass_len = 0;
	smtp_enter_state(s, SMTP_STATE_HELO);
	if (v == SMTP_AUTH_OK) {
		s->authenticated = 1;
		smtp_reply(s, "235 2.7.0 Authentication successful");
		return;
	}
	smtp_auth_user_forget(s);
	if (v == SMTP_AUTH_LOCKED)
		smtp_close(s, "Error: too many failed authentications, try again later");
	else
		smtp_error(s, "535 5.7.8 Error: authentication credentials invalid");
}

const char *
smtp_session_mail_from(const struct smtp_session *s)
{
	return s->tx.mail_from;
}

const char *const *
smtp_session_rcpts(const struct smtp_session *s, size_t *n)
{
	*n = s->tx.nrcpts;
	return (const char *const *)s->tx.rcpts;
}

const char *const *
smtp_session_rcpt_orcpts(const struct smtp_session *s, size_t *n)
{
	*n = s->tx.nrcpts;
	return (const char *const *)s->tx.orcpts;
}

struct spool *
smtp_session_body(const struct smtp_session *s)
{
	return s->body;
}

uint64_t
smtp_session_size(const struct smtp_session *s)
{
	return spool_len(s->body);
}

int
smtp_session_smtputf8(const struct smtp_session *s)
{
	return s->tx.smtputf8;
}

const char *
smtp_session_helo(const struct smtp_session *s)
{
	return s->helo;
}

const char *
smtp_session_tls(const struct smtp_session *s)
{
	return s->tls;
}

const char *
smtp_session_xforward(const struct smtp_session *s)
{
	return s->tx.xf_text;
}

const char *
smtp_session_auth_user(const struct smtp_session *s)
{
	return s->auth_user;
}

const char *
smtp_session_auth_pass(const struct smtp_session *s)
{
	return s->state == SMTP_STATE_WAIT_AUTH ? s->auth_pass : NULL;
}

int
smtp_session_authenticated(const struct smtp_session *s)
{
	return s->authenticated;
}

enum smtp_phase
smtp_session_phase(const struct smtp_session *s)
{
	switch (s->state) {
	case SMTP_STATE_DATA_BODY:
	case SMTP_STATE_BDAT_BODY:
		return SMTP_PHASE_BODY;
	case SMTP_STATE_MAIL:
	case SMTP_STATE_RCPT:
	case SMTP_STATE_BDAT:
		return SMTP_PHASE_TX;
	default:
		return SMTP_PHASE_IDLE;
	}
}
