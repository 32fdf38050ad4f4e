/* test_smtp_session - journal/smtp_session.{c,h} driven by scripts: client bytes in, the exact
 * replies, events, envelopes and message bytes out. Every script is also replayed one byte at
 * a time and split in two at every byte boundary (with STARTTLS, only what follows the
 * handshake is cut): the engine must give the same answer however the network cuts the input. */
#include <CUnit/CUnit.h>
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "smtp_session.h"
#include "spool.h"
#include "unit.h"

/* ---- the script runner ---- */

#define F_LMTP 0x01
#define F_TLS 0x02	/* tls_available */
#define F_TLSREQ 0x04	/* tls_required */
#define F_AUTH 0x08	/* auth_available */
#define F_AUTHREQ 0x10	/* auth_required */
#define F_NOSPLIT 0x20	/* feed in and in2 as they are, uncut */
#define F_FEWSPLIT 0x40 /* whole and byte by byte only (the case logs a warning per run) */

/* One scripted session. Expected strings that are NULL mean "nothing". */
struct sc {
	const char *name;
	unsigned flags;
	uint64_t max_message; /* 0: 1000000 */
	size_t max_rcpts;     /* 0: the engine's default */
	size_t spool_mem;     /* 0: 1 MiB */
	const char *spool_dir;
	enum vl_err result; /* given to every message_done */
	enum smtp_auth_verdict auth_ok; /* given to every auth_result */
	const char *in;
	size_t in_len;
	const char *in2; /* sent after the TLS handshake; in is then one read, since STARTTLS
			  * discards the rest of its read */
	size_t in2_len;
	const char *want;   /* every reply, greeting included */
	const char *events; /* M message, T starttls, A auth, Q quit, C close, ! stall */
	const char *env;    /* per message: "from|rcpt,rcpt|orcpt,-|mem or disk\n" */
	const char *body;   /* every message's bytes, each followed by "<EOM>" */
	size_t body_len;
	const char *auth; /* per SMTP_EV_AUTH: "user/pass\n" */
};

#define IN(lit) .in = (lit), .in_len = sizeof(lit) - 1
#define IN2(lit) .in2 = (lit), .in2_len = sizeof(lit) - 1
#define BODY(lit) .body = (lit), .body_len = sizeof(lit) - 1

struct res {
	struct buf out, ev, env, body, auth;
};

#define TLS_DESC "TLSv1.3:TLS_AES_256_GCM_SHA384"

struct chunk {
	const uint8_t *p;
	size_t n;
};

static void
drain(struct smtp_session *s, struct res *r)
{
	struct buf *o = smtp_session_output(s);

	buf_append(&r->out, o->data, o->len);
	buf_reset(o);
}

static void
capture_message(struct smtp_session *s, struct res *r, const char *what)
{
	const char *const *rcpts, *const *orcpts;
	const uint8_t *mem;
	size_t n, m;
	uint64_t len;
	int fd;

	rcpts = smtp_session_rcpts(s, &n);
	orcpts = smtp_session_rcpt_orcpts(s, &m);
	CHECK(n == m, what);
	buf_appendf(&r->env, "%s|", smtp_session_mail_from(s));
	for (size_t i = 0; i < n; i++)
		buf_appendf(&r->env, "%s%s", i ? "," : "", rcpts[i]);
	buf_append_str(&r->env, "|");
	for (size_t i = 0; i < n; i++)
		buf_appendf(&r->env, "%s%s", i ? "," : "", orcpts[i] ? orcpts[i] : "-");
	spool_source(smtp_session_body(s), &mem, &fd, &len);
	buf_appendf(&r->env, "|%s\n", mem ? "mem" : "disk");
	CHECK(smtp_session_size(s) == len, what);
	if (mem) {
		buf_append(&r->body, mem, (size_t)len);
	} else {
		uint8_t tmp[4096];

		for (uint64_t off = 0; off < len;) {
			size_t want = len - off < sizeof(tmp) ? (size_t)(len - off) : sizeof(tmp);
			ssize_t got = pread(fd, tmp, want, (off_t)off);

			if (got <= 0)
				break;
			buf_append(&r->body, tmp, (size_t)got);
			off += (uint64_t)got;
		}
	}
	buf_append_str(&r->body, "<EOM>");
}

/* run_chunks - one session fed the chunks in order, acting on events as a network loop
 * would. */
static void
run_chunks(const struct sc *c, const struct chunk *ch, size_t nch, struct res *r, const char *what)
{
	struct smtp_params p = {
		.lmtp = !!(c->flags & F_LMTP),
		.hostname = "mx.test",
		.max_message = c->max_message ? c->max_message : 1000000,
		.max_rcpts = c->max_rcpts,
		.tls_available = !!(c->flags & F_TLS),
		.tls_required = !!(c->flags & F_TLSREQ),
		.auth_available = !!(c->flags & F_AUTH),
		.auth_required = !!(c->flags & F_AUTHREQ),
		.spool_dir = c->spool_dir ? c->spool_dir : "/tmp",
		.spool_mem_max = c->spool_mem ? c->spool_mem : 1u << 20,
	};
	struct smtp_session *s = smtp_session_new(&p);

	drain(s, r);
	for (size_t k = 0; k < nch; k++) {
		size_t off = 0;

		while (off < ch[k].n) {
			size_t used = 0;
			enum smtp_event ev;

			ev = smtp_session_feed(s, ch[k].p + off, ch[k].n - off, &used);
			off += used;
			drain(s, r);
			switch (ev) {
			case SMTP_EV_NONE:
				if (used == 0) {
					buf_append_str(&r->ev, "!");
					goto done;
				}
				break;
			case SMTP_EV_MESSAGE:
				buf_append_str(&r->ev, "M");
				capture_message(s, r, what);
				smtp_session_message_done(s, c->result);
				break;
			case SMTP_EV_STARTTLS:
				buf_append_str(&r->ev, "T");
				off = ch[k].n; /* plaintext sent before the handshake is dropped */
				smtp_session_tls_started(s, TLS_DESC);
				CHECK(strcmp(smtp_session_tls(s), TLS_DESC) == 0, what);
				CHECK(smtp_session_helo(s) == NULL, what);
				break;
			case SMTP_EV_AUTH:
				buf_append_str(&r->ev, "A");
				buf_appendf(&r->auth, "%s/%s\n", smtp_session_auth_user(s),
					    smtp_session_auth_pass(s));
				smtp_session_auth_result(s, c->auth_ok);
				CHECK(smtp_session_auth_pass(s) == NULL, what);
				break;
			case SMTP_EV_QUIT:
				buf_append_str(&r->ev, "Q");
				goto done;
			case SMTP_EV_CLOSE:
				buf_append_str(&r->ev, "C");
				goto done;
			}
			drain(s, r);
		}
	}
done:
	drain(s, r);
	smtp_session_free(s);
}

/* show - s as a C literal, for failure messages. */
static void
show(const char *label, const struct buf *b)
{
	fprintf(stderr, "    %s: \"", label);
	for (size_t i = 0; i < b->len; i++) {
		uint8_t ch = b->data[i];

		if (ch == '\r')
			fputs("\\r", stderr);
		else if (ch == '\n')
			fputs("\\n", stderr);
		else if (ch == '"' || ch == '\\')
			fprintf(stderr, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			fprintf(stderr, "\\x%02x", ch);
		else
			fputc(ch, stderr);
	}
	fputs("\"\n", stderr);
}

static int
same(const struct buf *b, const char *want, size_t len)
{
	return b->len == len && (len == 0 || memcmp(b->data, want, len) == 0);
}

/* check_res - compare one run with the script; print what differs once per case. */
static int
check_res(const struct sc *c, const struct res *r, const char *mode)
{
	char what[200];
	const char *w = c->want ? c->want : "", *e = c->events ? c->events : "";
	const char *env = c->env ? c->env : "", *a = c->auth ? c->auth : "";
	const char *body = c->body ? c->body : "";
	int ok_out = same(&r->out, w, strlen(w)), ok_ev = same(&r->ev, e, strlen(e));
	int ok_env = same(&r->env, env, strlen(env)), ok_body = same(&r->body, body, c->body_len);
	int ok_auth = same(&r->auth, a, strlen(a));

	snprintf(what, sizeof(what), "%s (%s)", c->name, mode);
	CHECK(ok_out, what);
	CHECK(ok_ev, what);
	CHECK(ok_env, what);
	CHECK(ok_body, what);
	CHECK(ok_auth, what);
	if (ok_out && ok_ev && ok_env && ok_body && ok_auth)
		return 1;
	fprintf(stderr, "\n  case \"%s\" failed (%s):\n", c->name, mode);
	if (!ok_out)
		show("replies", &r->out);
	if (!ok_ev)
		show("events", &r->ev);
	if (!ok_env)
		show("envelopes", &r->env);
	if (!ok_body)
		show("bodies", &r->body);
	if (!ok_auth)
		show("auth", &r->auth);
	return 0;
}

static void
res_free(struct res *r)
{
	buf_free(&r->out);
	buf_free(&r->ev);
	buf_free(&r->env);
	buf_free(&r->body);
	buf_free(&r->auth);
}

static int
run_mode(const struct sc *c, const struct chunk *ch, size_t nch, const char *mode)
{
	struct res r = {0};
	int ok;

	run_chunks(c, ch, nch, &r, c->name);
	ok = check_res(c, &r, mode);
	res_free(&r);
	return ok;
}

/* run_case - the script whole, then (unless F_NOSPLIT) byte by byte and cut in two at every
 * position: all of in, or with in2 all of in2 after in as one read. Stops at the first failing
 * mode so one bug gives one report. */
static void
run_case(const struct sc *c)
{
	size_t tls = c->in2 != NULL; /* chunks before the part that is cut */
	const uint8_t *in = (const uint8_t *)(tls ? c->in2 : c->in);
	size_t len = tls ? c->in2_len : c->in_len;
	struct chunk ch[3] = {{(const uint8_t *)c->in, c->in_len},
			      {(const uint8_t *)c->in2, c->in2_len}};
	struct chunk *bytes;
	char mode[64];

	if (!run_mode(c, ch, tls + 1, c->flags & F_NOSPLIT ? "as scripted" : "whole") ||
	    (c->flags & F_NOSPLIT))
		return;
	bytes = calloc(tls + len + 1, sizeof(*bytes));
	bytes[0] = ch[0];
	for (size_t i = 0; i < len; i++)
		bytes[tls + i] = (struct chunk){in + i, 1};
	if (!run_mode(c, bytes, tls + len, "one byte at a time")) {
		free(bytes);
		return;
	}
	free(bytes);
	if (c->flags & F_FEWSPLIT)
		return;
	for (size_t k = 1; k < len; k++) {
		ch[tls] = (struct chunk){in, k};
		ch[tls + 1] = (struct chunk){in + k, len - k};
		snprintf(mode, sizeof(mode), "split at byte %zu", k);
		if (!run_mode(c, ch, tls + 2, mode))
			return;
	}
}

static void
run_cases(const struct sc *cases, size_t n)
{
	for (size_t i = 0; i < n; i++)
		run_case(&cases[i]);
}

#define RUN(cases) run_cases((cases), sizeof(cases) / sizeof((cases)[0]))

/* ---- expected replies ---- */

#define GREET "220 mx.test ESMTP Vellum\r\n"
#define GREET_L "220 mx.test LMTP Vellum\r\n"
#define EHLO_KW                                                                                    \
	"250-mx.test\r\n250-PIPELINING\r\n250-SIZE 1000000\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"    \
	"250-ENHANCEDSTATUSCODES\r\n250-CHUNKING\r\n250-BINARYMIME\r\n"
#define EHLO_R EHLO_KW "250 DSN\r\n"
#define EHLO_R_TLS EHLO_KW "250-DSN\r\n250 STARTTLS\r\n"
#define EHLO_R_AUTH EHLO_KW "250-DSN\r\n250 AUTH PLAIN LOGIN\r\n"
#define R_HELO "250 mx.test\r\n"
#define R_NOOP "250 2.0.0 Ok\r\n"
#define R_MAIL "250 2.1.0 Ok\r\n"
#define R_RCPT "250 2.1.5 Ok\r\n"
#define R_354 "354 End data with <CR><LF>.<CR><LF>\r\n"
#define R_DONE "250 2.0.0 Ok: archived\r\n"
#define R_BYE "221 2.0.0 mx.test Bye\r\n"
#define R_TLS "220 2.0.0 Ready to start TLS\r\n"
#define R_BIG "552 5.3.4 Error: message size exceeds fixed maximum message size\r\n"
#define R_NEEDMAIL "503 5.5.1 Error: need MAIL command\r\n"
#define R_NEEDRCPT "503 5.5.1 Error: need RCPT command\r\n"
#define R_UNK "500 5.5.1 Error: command not recognized\r\n"
#define R_LONG "500 5.5.2 Error: line too long\r\n"
#define R_BDATSYN                                                                                  \
	"501 5.5.4 Syntax: BDAT count [LAST]\r\n"                                                  \
	"421 4.7.0 mx.test Error: BDAT out of sync, closing connection\r\n"
#define R_451 "451 4.3.0 Temporary failure\r\n"

/* A ready transaction and its replies. */
#define TX "EHLO c.test\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\n"
#define TX_R GREET EHLO_R R_MAIL R_RCPT
#define TX_ENV "a@x.test|b@y.test|-|mem\n"
#define HTX "HELO c.test\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\n"
#define HTX_R GREET R_HELO R_MAIL R_RCPT

/* ---- greeting, EHLO, HELO, LHLO ---- */

static const struct sc hello_cases[] = {
	{.name = "greeting", IN(""), .want = GREET},
	{.name = "greeting lmtp", .flags = F_LMTP, IN(""), .want = GREET_L},
	{.name = "ehlo keywords", IN("EHLO c.test\r\n"), .want = GREET EHLO_R},
	{.name = "ehlo lowercase verb", IN("ehlo c.test\r\n"), .want = GREET EHLO_R},
	{.name = "ehlo with starttls", .flags = F_TLS, IN("EHLO c.test\r\n"),
	 .want = GREET EHLO_R_TLS},
	{.name = "ehlo: no AUTH before TLS", .flags = F_TLS | F_AUTH, IN("EHLO c.test\r\n"),
	 .want = GREET EHLO_R_TLS},
	{.name = "ehlo: AUTH PLAIN LOGIN and no STARTTLS under TLS",
	 .flags = F_TLS | F_AUTH | F_NOSPLIT,
	 IN("EHLO c.test\r\nSTARTTLS\r\n"), IN2("EHLO c.test\r\n"),
	 .want = GREET EHLO_R_TLS R_TLS EHLO_R_AUTH, .events = "T"},
	{.name = "ehlo under TLS without auth", .flags = F_TLS | F_NOSPLIT,
	 IN("EHLO c.test\r\nSTARTTLS\r\n"), IN2("EHLO c.test\r\n"),
	 .want = GREET EHLO_R_TLS R_TLS EHLO_R, .events = "T"},
	{.name = "helo", IN("HELO c.test\r\n"), .want = GREET R_HELO},
	{.name = "ehlo needs a name", IN("EHLO\r\nHELO \r\n"),
	 .want = GREET "501 5.5.4 Syntax: EHLO or HELO hostname\r\n"
		       "501 5.5.4 Syntax: EHLO or HELO hostname\r\n"},
	{.name = "lhlo in lmtp", .flags = F_LMTP, IN("LHLO c.test\r\n"), .want = GREET_L EHLO_R},
	{.name = "ehlo and helo refused in lmtp", .flags = F_LMTP,
	 IN("EHLO c.test\r\nHELO c.test\r\nMAIL FROM:<a@x>\r\n"),
	 .want = GREET_L R_UNK R_UNK "503 5.5.1 Error: send LHLO first\r\n"},
	{.name = "lhlo refused in smtp", IN("LHLO c.test\r\n"), .want = GREET R_UNK},
	{.name = "bare LF ends a command", IN("EHLO c.test\nNOOP\n"), .want = GREET EHLO_R R_NOOP},
};

static void
test_hello(void)
{
	RUN(hello_cases);
}

/* ---- DATA ---- */

#define X10 "xxxxxxxxxx"
#define X100 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10
#define X1100 X100 X100 X100 X100 X100 X100 X100 X100 X100 X100 X100

static const struct sc data_cases[] = {
	{.name = "full transaction",
	 IN(TX "DATA\r\nSubject: t\r\n\r\nline1\r\n.\r\nQUIT\r\n"),
	 .want = TX_R R_354 R_DONE R_BYE, .events = "MQ", .env = TX_ENV,
	 BODY("Subject: t\r\n\r\nline1\r\n<EOM>")},
	{.name = "pipelined MAIL RCPT RCPT DATA in one read",
	 IN("EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nRCPT TO:<c@z>\r\nDATA\r\nhi\r\n.\r\n"
	    "NOOP\r\n"),
	 .want = GREET EHLO_R R_MAIL R_RCPT R_RCPT R_354 R_DONE R_NOOP, .events = "M",
	 .env = "a@x|b@y,c@z|-,-|mem\n", BODY("hi\r\n<EOM>")},
	{.name = "two messages on one connection",
	 IN(TX "DATA\r\none\r\n.\r\nMAIL FROM:<>\r\nRCPT TO:<d@y>\r\nDATA\r\ntwo\r\n.\r\n"),
	 .want = TX_R R_354 R_DONE R_MAIL R_RCPT R_354 R_DONE, .events = "MM",
	 .env = TX_ENV "|d@y|-|mem\n", BODY("one\r\n<EOM>two\r\n<EOM>")},
	{.name = "bare LF line endings kept",
	 IN(TX "DATA\r\nA: b\n\nbody\n.\n"), .want = TX_R R_354 R_DONE, .events = "M",
	 .env = TX_ENV, BODY("A: b\n\nbody\n<EOM>")},
	{.name = "mixed endings and bare CR kept",
	 IN(TX "DATA\r\nx\r\ny\nz\r\na\rb\r\nc\r\r\nend\r.\r\n\n.\n"),
	 .want = TX_R R_354 R_DONE, .events = "M", .env = TX_ENV,
	 BODY("x\r\ny\nz\r\na\rb\r\nc\r\r\nend\r.\r\n\n<EOM>")},
	{.name = "dot-unstuffing",
	 IN(TX "DATA\r\n..\r\n...x\r\n.y\r\n. \r\n.\rq\r\n.\r\r\n.\r\n"),
	 .want = TX_R R_354 R_DONE, .events = "M", .env = TX_ENV,
	 BODY(".\r\n..x\r\ny\r\n \r\n\rq\r\n\r\r\n<EOM>")},
	{.name = "dot lines that are not the end",
	 IN(TX "DATA\r\n x.\r\n.\r\r\n..\r\n.\r\n"), .want = TX_R R_354 R_DONE, .events = "M",
	 .env = TX_ENV, BODY(" x.\r\n\r\r\n.\r\n<EOM>")},
	{.name = "end marker right after DATA: empty message", IN(TX "DATA\r\n.\r\n"),
	 .want = TX_R R_354 R_DONE, .events = "M", .env = TX_ENV, BODY("<EOM>")},
	{.name = "bare LF end marker right after DATA", IN(TX "DATA\r\n.\n"),
	 .want = TX_R R_354 R_DONE, .events = "M", .env = TX_ENV, BODY("<EOM>")},
	{.name = "NUL bytes are data", IN(TX "DATA\r\na\0b\r\n\0\r\n.\0z\r\n.\r\n"),
	 .want = TX_R R_354 R_DONE, .events = "M", .env = TX_ENV,
	 BODY("a\0b\r\n\0\r\n\0z\r\n<EOM>")},
	{.name = "8-bit bytes and a line over 1000 octets are stored as sent",
	 IN(TX "DATA\r\n\xc3\xa9\xff\r\n" X1100 "\r\n.\r\n"), .want = TX_R R_354 R_DONE,
	 .events = "M", .env = TX_ENV, BODY("\xc3\xa9\xff\r\n" X1100 "\r\n<EOM>")},
	{.name = "commands inside DATA are data", IN(TX "DATA\r\nQUIT\r\nRSET\r\n.\r\nNOOP\r\n"),
	 .want = TX_R R_354 R_DONE R_NOOP, .events = "M", .env = TX_ENV,
	 BODY("QUIT\r\nRSET\r\n<EOM>")},
	{.name = "spill to disk above spool_mem_max", .spool_mem = 16,
	 IN(TX "DATA\r\n0123456789\r\n..abcdefghij\r\n\0\r\n.\r\n"),
	 .want = TX_R R_354 R_DONE, .events = "M", .env = "a@x.test|b@y.test|-|disk\n",
	 BODY("0123456789\r\n.abcdefghij\r\n\0\r\n<EOM>")},
	{.name = "exactly spool_mem_max stays in memory", .spool_mem = 6,
	 IN(TX "DATA\r\nabcd\r\n.\r\n"),
	 .want = TX_R R_354 R_DONE, .events = "M", .env = TX_ENV, BODY("abcd\r\n<EOM>")},
	{.name = "BODY=BINARYMIME refuses DATA",
	 IN("EHLO c\r\nMAIL FROM:<a@x> BODY=BINARYMIME\r\nRCPT TO:<b@y>\r\nDATA\r\n"),
	 .want = GREET EHLO_R R_MAIL R_RCPT "503 5.5.1 Error: BODY=BINARYMIME requires BDAT\r\n"},
	{.name = "MAIL parameters", IN("EHLO c\r\nMAIL FROM:<a@x> BODY=8BITMIME SMTPUTF8 "
				       "RET=HDRS ENVID=x+2By SIZE=10\r\nRSET\r\n"
				       "MAIL FROM:<a@x> BODY=9BIT\r\nMAIL FROM:<a@x> SMTPUTF8=1\r\n"
				       "MAIL FROM:<a@x> SIZE=1x\r\n"),
	 .want = GREET EHLO_R R_MAIL R_NOOP "501 5.5.4 Error: bad MAIL parameter BODY\r\n"
					  "501 5.5.4 Error: bad MAIL parameter SMTPUTF8\r\n"
					  "501 5.5.4 Error: bad MAIL parameter SIZE\r\n"},
};

static void
test_data(void)
{
	RUN(data_cases);
}

/* ---- LMTP ---- */

#define LTX "LHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<r1@y>\r\nRCPT TO:<r2@y>\r\nRCPT TO:<r3@y>\r\n"
#define LTX_R GREET_L EHLO_R R_MAIL R_RCPT R_RCPT R_RCPT
#define LTX_ENV "a@x|r1@y,r2@y,r3@y|-,-,-|mem\n"

static const struct sc lmtp_cases[] = {
	{.name = "lmtp: one 250 per recipient, in order", .flags = F_LMTP,
	 IN(LTX "DATA\r\nhi\r\n.\r\n"),
	 .want = LTX_R R_354 "250 2.0.0 <r1@y> Ok: archived\r\n250 2.0.0 <r2@y> Ok: archived\r\n"
			     "250 2.0.0 <r3@y> Ok: archived\r\n",
	 .events = "M", .env = LTX_ENV, BODY("hi\r\n<EOM>")},
	{.name = "lmtp: a storage failure is 451 for every recipient", .flags = F_LMTP,
	 .result = VL_ERR_DB, IN(LTX "DATA\r\nhi\r\n.\r\nQUIT\r\n"),
	 .want = LTX_R R_354 "451 4.3.0 <r1@y> Temporary failure\r\n"
			     "451 4.3.0 <r2@y> Temporary failure\r\n"
			     "451 4.3.0 <r3@y> Temporary failure\r\n" R_BYE,
	 .events = "MQ", .env = LTX_ENV, BODY("hi\r\n<EOM>")},
	{.name = "lmtp: too big is 552 for every recipient", .flags = F_LMTP, .max_message = 3,
	 IN("LHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<r1@y>\r\nRCPT TO:<r2@y>\r\nDATA\r\nabcd\r\n"
	    ".\r\n"),
	 .want = GREET_L
	 "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 3\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"
	 "250-ENHANCEDSTATUSCODES\r\n250-CHUNKING\r\n250-BINARYMIME\r\n250 DSN\r\n" R_MAIL R_RCPT
		 R_RCPT R_354 "552 5.3.4 <r1@y> Error: message size exceeds fixed maximum message "
			      "size\r\n552 5.3.4 <r2@y> Error: message size exceeds fixed maximum "
			      "message size\r\n"},
	{.name = "lmtp: BDAT LAST gets one reply per recipient", .flags = F_LMTP,
	 IN(LTX "BDAT 3\r\nabcBDAT 2 LAST\r\nde"),
	 .want = LTX_R "250 2.0.0 3 octets received\r\n250 2.0.0 <r1@y> Ok: archived\r\n"
		       "250 2.0.0 <r2@y> Ok: archived\r\n250 2.0.0 <r3@y> Ok: archived\r\n",
	 .events = "M", .env = LTX_ENV, BODY("abcde<EOM>")},
};

static void
test_lmtp(void)
{
	RUN(lmtp_cases);
}

/* ---- BDAT ---- */

static const struct sc bdat_cases[] = {
	{.name = "bdat chunks then LAST", IN(TX "BDAT 5\r\nHelloBDAT 8 LAST\r\n world\r\n"),
	 .want = TX_R "250 2.0.0 5 octets received\r\n" R_DONE, .events = "M", .env = TX_ENV,
	 BODY("Hello world\r\n<EOM>")},
	{.name = "bdat bytes are not dot-unstuffed", IN(TX "BDAT 11 LAST\r\n..x\r\n.\r\n\0\r\n"),
	 .want = TX_R R_DONE, .events = "M", .env = TX_ENV, BODY("..x\r\n.\r\n\0\r\n<EOM>")},
	{.name = "bdat 0 last", IN(TX "BDAT 0 LAST\r\nNOOP\r\n"), .want = TX_R R_DONE R_NOOP,
	 .events = "M", .env = TX_ENV, BODY("<EOM>")},
	{.name = "bdat lowercase last after chunks", IN(TX "bdat 2\r\nabbdat 0 last\r\n"),
	 .want = TX_R "250 2.0.0 2 octets received\r\n" R_DONE, .events = "M", .env = TX_ENV,
	 BODY("ab<EOM>")},
	{.name = "bdat without LAST, then RSET", IN(TX "BDAT 4\r\nabcdRSET\r\nRCPT TO:<c@z>\r\n"),
	 .want = TX_R "250 2.0.0 4 octets received\r\n" R_NOOP R_NEEDMAIL},
	{.name = "DATA and RCPT after BDAT",
	 IN(TX "BDAT 1\r\nxDATA\r\nRCPT TO:<c@z>\r\nBDAT 1 LAST\r\ny"),
	 .want = TX_R "250 2.0.0 1 octets received\r\n503 5.5.1 Error: DATA after BDAT\r\n"
		      "503 5.5.1 Error: RCPT after BDAT\r\n" R_DONE,
	 .events = "M", .env = TX_ENV, BODY("xy<EOM>")},
	{.name = "bdat before MAIL is refused after its octets",
	 IN("EHLO c\r\nBDAT 6\r\nNOOP\r\nNOOP\r\nMAIL FROM:<a@x>\r\nBDAT 2 LAST\r\nab"),
	 .want = GREET EHLO_R R_NEEDMAIL R_NOOP R_MAIL R_NEEDRCPT},
	{.name = "bdat with a bad size closes the session",
	 IN("EHLO c\r\nBDAT x1\r\nNOOP\r\n"),
	 .want = GREET EHLO_R R_BDATSYN,
	 .events = "C"},
	{.name = "bdat with a bad keyword closes the session", IN("EHLO c\r\nBDAT 1 FIRST\r\nx"),
	 .want = GREET EHLO_R R_BDATSYN,
	 .events = "C"},
	{.name = "bdat chunk over the size limit: drained, 552, transaction reset",
	 .max_message = 10,
	 IN(HTX "BDAT 6\r\nabcdefBDAT 5\r\n12345NOOP\r\nBDAT 1 LAST\r\nzRCPT TO:<c@z>\r\n"),
	 .want = HTX_R "250 2.0.0 6 octets received\r\n" R_BIG R_NOOP R_NEEDMAIL R_NEEDMAIL},
	{.name = "bdat LAST over the size limit", .max_message = 4,
	 IN(HTX "BDAT 5 LAST\r\n.\r\n\r\nMAIL FROM:<a@x>\r\n"),
	 .want = HTX_R R_BIG R_MAIL},
	{.name = "bdat exactly at the size limit", .max_message = 5,
	 IN(HTX "BDAT 2\r\nabBDAT 3 LAST\r\ncde"),
	 .want = HTX_R "250 2.0.0 2 octets received\r\n" R_DONE, .events = "M", .env = TX_ENV,
	 BODY("abcde<EOM>")},
	{.name = "BINARYMIME with BDAT", IN("EHLO c\r\nMAIL FROM:<a@x> BODY=BINARYMIME\r\n"
					    "RCPT TO:<b@y>\r\nBDAT 3 LAST\r\n\0\xff\n"),
	 .want = GREET EHLO_R R_MAIL R_RCPT R_DONE, .events = "M", .env = "a@x|b@y|-|mem\n",
	 BODY("\0\xff\n<EOM>")},
};

static void
test_bdat(void)
{
	RUN(bdat_cases);
}

/* ---- limits ---- */

/* 505 x + "NOOP " + CRLF = 512 octets: the longest legal line. One more is too long. */
#define X505 X100 X100 X100 X100 X100 "xxxxx"

static const struct sc limit_cases[] = {
	{.name = "SIZE= over the limit at MAIL", .max_message = 100,
	 IN("HELO c\r\nMAIL FROM:<a@x> SIZE=101\r\nMAIL FROM:<a@x> "
	    "SIZE=99999999999999999999999\r\nMAIL FROM:<a@x> SIZE=100\r\n"),
	 .want = GREET R_HELO R_BIG R_BIG R_MAIL},
	{.name = "data over the limit: drained, then 552", .max_message = 10,
	 IN(HTX "DATA\r\n0123456789\r\nQUIT\r\n.\r\nNOOP\r\nMAIL FROM:<c@x>\r\n"),
	 .want = HTX_R R_354 R_BIG R_NOOP R_MAIL},
	{.name = "data exactly at the limit", .max_message = 10,
	 IN(HTX "DATA\r\n01234.\r\n\r\n.\r\n"), .want = HTX_R R_354 R_DONE, .events = "M",
	 .env = TX_ENV, BODY("01234.\r\n\r\n<EOM>")},
	{.name = "data one byte over the limit", .max_message = 10,
	 IN(HTX "DATA\r\n012345.\r\n\r\n.\r\n"), .want = HTX_R R_354 R_BIG},
	{.name = "command line of 512 octets is fine, 513 is too long",
	 IN("NOOP " X505 "\r\nNOOP " X505 "x\r\nNOOP\r\n"), .want = GREET R_NOOP R_LONG R_NOOP},
	{.name = "bare-LF command line limit", IN("NOOP " X505 "x\nNOOP " X505 "xx\n"),
	 .want = GREET R_NOOP R_LONG},
	{.name = "very long line: one reply", .flags = F_FEWSPLIT,
	 IN("MAIL FROM:<" X505 X505 X505 X505 X505 X505 X505 X505 X505 X505 "@x>\r\nHELO c\r\n"),
	 .want = GREET R_LONG R_HELO},
	{.name = "too many recipients", .max_rcpts = 2,
	 IN(HTX "RCPT TO:<c@y>\r\nRCPT TO:<d@y>\r\nDATA\r\nm\r\n.\r\n"),
	 .want = HTX_R R_RCPT "452 4.5.3 Error: too many recipients\r\n" R_354 R_DONE,
	 .events = "M", .env = "a@x.test|b@y.test,c@y|-,-|mem\n", BODY("m\r\n<EOM>")},
	{.name = "address longer than 256 octets",
	 IN("HELO c\r\nMAIL FROM:<" X100 X100 "@" X100 ">\r\nMAIL FROM:<" X100 X100
	    "@" X10 X10 X10 X10 X10 "xxx>\r\n"),
	 .want = GREET R_HELO "501 5.1.7 Bad sender address syntax\r\n" R_MAIL},
};

static void
test_limits(void)
{
	RUN(limit_cases);
}

/* ---- sequence, RSET, NOOP, VRFY, HELP, QUIT, errors ---- */

#define BAD5 "XX\r\nXX\r\nXX\r\nXX\r\nXX\r\n"
#define R_UNK5 R_UNK R_UNK R_UNK R_UNK R_UNK

static const struct sc seq_cases[] = {
	{.name = "MAIL before EHLO", IN("MAIL FROM:<a@x>\r\n"),
	 .want = GREET "503 5.5.1 Error: send HELO/EHLO first\r\n"},
	{.name = "RCPT before MAIL", IN("EHLO c\r\nRCPT TO:<b@y>\r\n"),
	 .want = GREET EHLO_R R_NEEDMAIL},
	{.name = "DATA before MAIL and before RCPT",
	 IN("EHLO c\r\nDATA\r\nMAIL FROM:<a@x>\r\nDATA\r\nRCPT TO:<b@y>\r\nDATA x\r\n"),
	 .want = GREET EHLO_R R_NEEDMAIL R_MAIL R_NEEDRCPT R_RCPT "501 5.5.4 Syntax: DATA\r\n"},
	{.name = "nested MAIL", IN("EHLO c\r\nMAIL FROM:<a@x>\r\nMAIL FROM:<b@x>\r\n"),
	 .want = GREET EHLO_R R_MAIL "503 5.5.1 Error: nested MAIL command\r\n"},
	{.name = "RSET ends the transaction",
	 IN(TX "RSET\r\nRCPT TO:<b@y>\r\nRSET x\r\nMAIL FROM:<c@x>\r\n"),
	 .want = TX_R R_NOOP R_NEEDMAIL "501 5.5.4 Syntax: no parameters allowed\r\n" R_MAIL},
	{.name = "EHLO ends the transaction", IN(TX "EHLO c\r\nDATA\r\n"),
	 .want = TX_R EHLO_R R_NEEDMAIL},
	{.name = "NOOP VRFY HELP", IN("NOOP\r\nNOOP hello\r\nVRFY b@y\r\nVRFY\r\nHELP\r\n"),
	 .want = GREET R_NOOP R_NOOP "252 2.5.2 Cannot VRFY user, but will accept message\r\n"
				 "501 5.5.4 Syntax: VRFY address\r\n"
				 "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT "
				 "VRFY HELP STARTTLS AUTH XFORWARD\r\n"},
	{.name = "QUIT stops reading", IN("QUIT\r\nNOOP\r\n"), .want = GREET R_BYE, .events = "Q"},
	{.name = "unknown command, empty line, NUL in a command",
	 IN("EXPN list\r\n\r\nNO\0OP\r\n"),
	 .want = GREET R_UNK "500 5.5.2 Error: bad syntax\r\n500 5.5.2 Error: bad syntax\r\n"},
	{.name = "19 errors are tolerated", IN(BAD5 BAD5 BAD5 "XX\r\nXX\r\nXX\r\nXX\r\nNOOP\r\n"),
	 .want = GREET R_UNK5 R_UNK5 R_UNK5 R_UNK R_UNK R_UNK R_UNK R_NOOP},
	{.name = "20 errors: 421 and close", IN(BAD5 BAD5 BAD5 BAD5 "NOOP\r\n"),
	 .want = GREET R_UNK5 R_UNK5 R_UNK5 R_UNK5
	 "421 4.7.0 mx.test Error: too many errors, closing connection\r\n",
	 .events = "C"},
	{.name = "errors of every kind count",
	 IN(BAD5 BAD5 BAD5 "RCPT TO:<a@x>\r\nDATA\r\nVRFY\r\nEHLO\r\n\r\n"),
	 .want = GREET R_UNK5 R_UNK5 R_UNK5 R_NEEDMAIL R_NEEDMAIL
	 "501 5.5.4 Syntax: VRFY address\r\n"
	 "501 5.5.4 Syntax: EHLO or HELO hostname\r\n"
	 "500 5.5.2 Error: bad syntax\r\n"
	 "421 4.7.0 mx.test Error: too many errors, closing connection\r\n",
	 .events = "C"},
};

static void
test_sequence(void)
{
	RUN(seq_cases);
}

/* ---- addresses, ORCPT ---- */

static const struct sc addr_cases[] = {
	{.name = "null sender, source route, quoted local part, lowercase verbs",
	 IN("EHLO c\r\nmail from:<>\r\nrcpt to:<@a.test,@b.test:u@d.test>\r\n"
	    "Rcpt To:<\"x y>z\"@d.test>\r\nRCPT TO: <postmaster>\r\ndata\r\nm\r\n.\r\n"),
	 .want = GREET EHLO_R R_MAIL R_RCPT R_RCPT R_RCPT R_354 R_DONE, .events = "M",
	 .env = "|u@d.test,\"x y>z\"@d.test,postmaster|-,-,-|mem\n", BODY("m\r\n<EOM>")},
	{.name = "source route on MAIL", IN("EHLO c\r\nMAIL FROM:<@r.test:a@x>\r\nRCPT TO:<b@y>\r\n"
					     "DATA\r\n.\r\n"),
	 .want = GREET EHLO_R R_MAIL R_RCPT R_354 R_DONE, .events = "M", .env = "a@x|b@y|-|mem\n",
	 BODY("<EOM>")},
	{.name = "bad paths",
	 IN("EHLO c\r\nMAIL FROM:a@x\r\nMAIL TO:<a@x>\r\nMAIL FROM:<a@x>x\r\nMAIL FROM:<a@x>\r\n"
	    "RCPT TO:<>\r\nRCPT TO:b@y\r\nRCPT TO:<b@>\r\nRCPT TO:<b y@z>\r\nRCPT FROM:<b@y>\r\n"),
	 .want = GREET EHLO_R "501 5.1.7 Bad sender address syntax\r\n"
			      "501 5.5.4 Syntax: MAIL FROM:<address>\r\n"
			      "501 5.1.7 Bad sender address syntax\r\n" R_MAIL
			      "501 5.1.3 Bad recipient address syntax\r\n"
			      "501 5.1.3 Bad recipient address syntax\r\n"
			      "501 5.1.3 Bad recipient address syntax\r\n"
			      "501 5.1.3 Bad recipient address syntax\r\n"
			      "501 5.5.4 Syntax: RCPT TO:<address>\r\n"},
	{.name = "ORCPT decoding",
	 IN("EHLO c\r\nMAIL FROM:<a@x> RET=FULL\r\n"
	    "RCPT TO:<b@y> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;orig+2Bx+3Dy@z.test\r\n"
	    "RCPT TO:<c@y>\r\nRCPT TO:<d@y> ORCPT=utf-8;j\\x{F6}rg\\x{1F600}@z\r\n"
	    "RCPT TO:<e@y> orcpt=RFC822;plain@z\r\nRCPT TO:<f@y> ORCPT=x400;c=us;a=b\r\n"
	    "DATA\r\n.\r\n"),
	 .want = GREET EHLO_R R_MAIL R_RCPT R_RCPT R_RCPT R_RCPT R_RCPT R_354 R_DONE,
	 .events = "M",
	 .env = "a@x|b@y,c@y,d@y,e@y,f@y|orig+x=y@z.test,-,j\xc3\xb6rg\xf0\x9f\x98\x80@z,plain@z,"
		"x400;c=us;a=b|mem\n",
	 BODY("<EOM>")},
	{.name = "bad ORCPT",
	 IN("EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y> ORCPT=rfc822;a+2\r\n"
	    "RCPT TO:<b@y> ORCPT=rfc822;a+00b\r\nRCPT TO:<b@y> ORCPT=rfc822\r\n"
	    "RCPT TO:<b@y> ORCPT=utf-8;\\x{D800}\r\nRCPT TO:<b@y> ORCPT=rfc822;a+zzb\r\n"),
	 .want = GREET EHLO_R R_MAIL "501 5.5.4 Error: bad ORCPT parameter\r\n"
				     "501 5.5.4 Error: bad ORCPT parameter\r\n"
				     "501 5.5.4 Error: bad ORCPT parameter\r\n"
				     "501 5.5.4 Error: bad ORCPT parameter\r\n"
				     "501 5.5.4 Error: bad ORCPT parameter\r\n"},
};

static void
test_addresses(void)
{
	RUN(addr_cases);
}

/* ---- STARTTLS ---- */

static const struct sc tls_cases[] = {
	{.name = "STARTTLS drops pipelined plaintext and forgets EHLO", .flags = F_TLS | F_NOSPLIT,
	 IN("EHLO c\r\nSTARTTLS\r\nMAIL FROM:<evil@x>\r\nRCPT TO:<evil@y>\r\n"),
	 IN2("MAIL FROM:<a@x>\r\nEHLO c2\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nm\r\n"
	     ".\r\n"),
	 .want = GREET EHLO_R_TLS R_TLS "503 5.5.1 Error: send HELO/EHLO first\r\n" EHLO_R R_MAIL
		 R_RCPT R_354 R_DONE,
	 .events = "TM", .env = "a@x|b@y|-|mem\n", BODY("m\r\n<EOM>")},
	{.name = "STARTTLS refusals", .flags = F_TLS | F_NOSPLIT,
	 IN("STARTTLS\r\nEHLO c\r\nMAIL FROM:<a@x>\r\nSTARTTLS\r\nRSET\r\nSTARTTLS now\r\n"
	    "STARTTLS\r\n"),
	 IN2("EHLO c\r\nSTARTTLS\r\n"),
	 .want = GREET "503 5.5.1 Error: send EHLO first\r\n" EHLO_R_TLS R_MAIL
		       "503 5.5.1 Error: STARTTLS not allowed in a transaction\r\n" R_NOOP
		       "501 5.5.4 Syntax: no parameters allowed\r\n" R_TLS EHLO_R
		       "503 5.5.1 Error: TLS already active\r\n",
	 .events = "T"},
	{.name = "STARTTLS not offered", IN("EHLO c\r\nSTARTTLS\r\n"),
	 .want = GREET EHLO_R "502 5.5.1 Error: TLS not available\r\n"},
	{.name = "tls_required refuses MAIL before STARTTLS", .flags = F_TLS | F_TLSREQ | F_NOSPLIT,
	 IN("EHLO c\r\nMAIL FROM:<a@x>\r\nSTARTTLS\r\n"), IN2("EHLO c\r\nMAIL FROM:<a@x>\r\n"),
	 .want = GREET EHLO_R_TLS "530 5.7.0 Must issue a STARTTLS command first\r\n" R_TLS EHLO_R
		 R_MAIL,
	 .events = "T"},
};

static void
test_tls(void)
{
	RUN(tls_cases);
}

/* The consumed count itself: the caller discards exactly what follows the STARTTLS line. */
static void
test_starttls_consumed(void)
{
	struct smtp_params p = {.hostname = "mx.test", .tls_available = 1};
	struct smtp_session *s = smtp_session_new(&p);
	const char *in = "EHLO c\r\nSTARTTLS\r\nMAIL FROM:<x@y>\r\n";
	size_t used = 0;
	enum smtp_event ev;

	ev = smtp_session_feed(s, (const uint8_t *)in, 8, &used);
	CHECK(ev == SMTP_EV_NONE && used == 8, "EHLO consumed");
	ev = smtp_session_feed(s, (const uint8_t *)in + 8, strlen(in) - 8, &used);
	CHECK(ev == SMTP_EV_STARTTLS, "STARTTLS event");
	CHECK(used == strlen("STARTTLS\r\n"), "consumed ends at the STARTTLS line");
	buf_reset(smtp_session_output(s));
	ev = smtp_session_feed(s, (const uint8_t *)"NOOP\r\n", 6, &used);
	CHECK(ev == SMTP_EV_NONE && used == 0, "nothing is read before tls_started");
	CHECK(smtp_session_output(s)->len == 0, "no reply before tls_started");
	smtp_session_tls_started(s, NULL);
	CHECK(smtp_session_tls(s) && strcmp(smtp_session_tls(s), "") == 0, "TLS on");
	ev = smtp_session_feed(s, (const uint8_t *)"NOOP\r\n", 6, &used);
	CHECK(ev == SMTP_EV_NONE && used == 6, "reading again after tls_started");
	smtp_session_free(s);
}

/* ---- AUTH ---- */

#define TLS_EHLO_IN "EHLO c\r\nSTARTTLS\r\n"
#define TLS_EHLO_R GREET EHLO_R_TLS R_TLS

static const struct sc auth_cases[] = {
	{.name = "AUTH without TLS", .flags = F_TLS | F_AUTH,
	 IN("EHLO c\r\nAUTH PLAIN AHVzZXIAc2VjcmV0\r\n"),
	 .want = GREET EHLO_R_TLS "538 5.7.11 Encryption required for requested authentication "
				  "mechanism\r\n"},
	{.name = "AUTH not enabled", .flags = F_TLS, IN(TLS_EHLO_IN),
	 IN2("EHLO c\r\nAUTH PLAIN AHVzZXIAc2VjcmV0\r\n"),
	 .want = TLS_EHLO_R EHLO_R "502 5.5.1 Error: authentication not enabled\r\n",
	 .events = "T"},
	{.name = "AUTH PLAIN with initial response", .flags = F_TLS | F_AUTH,
	 .auth_ok = 1, IN(TLS_EHLO_IN),
	 IN2("EHLO c\r\nAUTH PLAIN AHVzZXIAc2VjcmV0\r\nAUTH PLAIN AHVzZXIAc2VjcmV0\r\n"
	     "MAIL FROM:<a@x>\r\n"),
	 .want = TLS_EHLO_R EHLO_R_AUTH "235 2.7.0 Authentication successful\r\n"
					"503 5.5.1 Error: already authenticated\r\n" R_MAIL,
	 .events = "TA", .auth = "user/secret\n"},
	{.name = "AUTH PLAIN after 334, refused", .flags = F_TLS | F_AUTH, .auth_ok = 0,
	 IN(TLS_EHLO_IN), IN2("EHLO c\r\nauth plain\r\ndXNlcgB1c2VyAHNlY3JldA==\r\nNOOP\r\n"),
	 .want = TLS_EHLO_R EHLO_R_AUTH "334 \r\n535 5.7.8 Error: authentication credentials "
					"invalid\r\n" R_NOOP,
	 .events = "TA", .auth = "user/secret\n"},
	{.name = "AUTH errors", .flags = F_TLS | F_AUTH, IN(TLS_EHLO_IN),
	 IN2("AUTH PLAIN AHVzZXIAc2VjcmV0\r\nEHLO c\r\nAUTH CRAM-MD5\r\nAUTH PLAIN !!!!\r\n"
	     "AUTH PLAIN\r\n*\r\nAUTH PLAIN AHVzZXI=\r\nAUTH PLAIN YWRtaW4AdXNlcgBzZWNyZXQ=\r\n"
	     "AUTH PLAIN =\r\nMAIL FROM:<a@x>\r\nAUTH PLAIN AHVzZXIAc2VjcmV0\r\n"),
	 .want = TLS_EHLO_R "503 5.5.1 Error: send EHLO first\r\n" EHLO_R_AUTH
			    "504 5.5.4 Error: unrecognized authentication type\r\n"
			    "501 5.5.2 Error: cannot decode response\r\n"
			    "334 \r\n501 5.0.0 Authentication aborted\r\n"
			    "501 5.5.2 Error: malformed PLAIN response\r\n"
			    "535 5.7.8 Error: authentication credentials invalid\r\n"
			    "501 5.5.2 Error: malformed PLAIN response\r\n" R_MAIL
			    "503 5.5.1 Error: AUTH not allowed in a transaction\r\n",
	 .events = "T"},
	{.name = "AUTH locked out: 421 and nothing more is read", .flags = F_TLS | F_AUTH,
	 .auth_ok = SMTP_AUTH_LOCKED, IN(TLS_EHLO_IN),
	 IN2("EHLO c\r\nAUTH PLAIN AHVzZXIAc2VjcmV0\r\nNOOP\r\n"),
	 .want = TLS_EHLO_R EHLO_R_AUTH "421 4.7.0 mx.test Error: too many failed authentications, "
					"try again later, closing connection\r\n",
	 .events = "TAC", .auth = "user/secret\n"},
	{.name = "auth_required refuses MAIL until AUTH",
	 .flags = F_TLS | F_AUTH | F_AUTHREQ, .auth_ok = 1, IN(TLS_EHLO_IN),
	 IN2("EHLO c\r\nMAIL FROM:<a@x>\r\nAUTH PLAIN AHVzZXIAc2VjcmV0\r\nMAIL FROM:<a@x>\r\n"),
	 .want = TLS_EHLO_R EHLO_R_AUTH "530 5.7.0 Authentication required\r\n"
					"235 2.7.0 Authentication successful\r\n" R_MAIL,
	 .events = "TA", .auth = "user/secret\n"},
};

static void
test_auth(void)
{
	RUN(auth_cases);
}

/* AUTH LOGIN (draft-murchison-sasl-login): 334 "Username:" (VXNlcm5hbWU6), the user name,
 * 334 "Password:" (UGFzc3dvcmQ6), the password, each a base64 line of its own. "user" is
 * dXNlcg==, "secret" c2VjcmV0, "wrong" d3Jvbmc=. Each case is also cut at every byte after the
 * handshake, so the response lines are taken alike pipelined and one by one. */
#define R_USER "334 VXNlcm5hbWU6\r\n"
#define R_PASS "334 UGFzc3dvcmQ6\r\n"
#define R_AUTH_OK "235 2.7.0 Authentication successful\r\n"
#define R_AUTH_BAD "535 5.7.8 Error: authentication credentials invalid\r\n"
#define R_AUTH_DECODE "501 5.5.2 Error: cannot decode response\r\n"
#define R_AUTH_MALFORMED "501 5.5.2 Error: malformed LOGIN response\r\n"
#define R_AUTH_ABORTED "501 5.0.0 Authentication aborted\r\n"
#define R_AUTH_LONG "500 5.5.6 Error: authentication exchange line too long\r\n"

/* 12286 octets + CRLF = SMTP_AUTHLINE_MAX: the longest response line; one more is too long. */
#define X12286                                                                                     \
	X1100 X1100 X1100 X1100 X1100 X1100 X1100 X1100 X1100 X1100 X1100 X100 X10 X10 X10 X10 X10 \
	X10 X10 X10 "xxxxxx"
static_assert(sizeof(X12286) - 1 + 2 == SMTP_AUTHLINE_MAX, "X12286 + CRLF is the bound");

static const struct sc login_cases[] = {
	{.name = "AUTH LOGIN without TLS: 538, no prompt", .flags = F_TLS | F_AUTH,
	 IN("EHLO c\r\nAUTH LOGIN\r\nAUTH LOGIN dXNlcg==\r\n"),
	 .want = GREET EHLO_R_TLS "538 5.7.11 Encryption required for requested authentication "
				  "mechanism\r\n"
				  "538 5.7.11 Encryption required for requested authentication "
				  "mechanism\r\n"},
	{.name = "AUTH LOGIN after both prompts; a second AUTH gets 503",
	 .flags = F_TLS | F_AUTH, .auth_ok = 1, IN(TLS_EHLO_IN),
	 IN2("EHLO c\r\nAUTH LOGIN\r\ndXNlcg==\r\nc2VjcmV0\r\nAUTH LOGIN\r\nMAIL FROM:<a@x>\r\n"),
	 .want = TLS_EHLO_R EHLO_R_AUTH R_USER R_PASS R_AUTH_OK
		 "503 5.5.1 Error: already authenticated\r\n" R_MAIL,
	 .events = "TA", .auth = "user/secret\n"},
	{.name = "AUTH LOGIN with the user name as initial response, under auth_required",
	 .flags = F_TLS | F_AUTH | F_AUTHREQ, .auth_ok = 1, IN(TLS_EHLO_IN),
	 IN2("EHLO c\r\nMAIL FROM:<a@x>\r\nauth login dXNlcg==\r\nc2VjcmV0\r\nMAIL FROM:<a@x>\r\n"),
	 .want = TLS_EHLO_R EHLO_R_AUTH "530 5.7.0 Authentication required\r\n" R_PASS R_AUTH_OK
		 R_MAIL,
	 .events = "TA", .auth = "user/secret\n"},
	{.name = "AUTH LOGIN with a wrong password: 535, then again", .flags = F_TLS | F_AUTH,
	 .auth_ok = SMTP_AUTH_FAILED, IN(TLS_EHLO_IN),
	 IN2("EHLO c\r\nAUTH LOGIN dXNlcg==\r\nd3Jvbmc=\r\nNOOP\r\nAUTH LOGIN\r\ndXNlcg==\r\n"
	     "=\r\n"),
	 .want = TLS_EHLO_R EHLO_R_AUTH R_PASS R_AUTH_BAD R_NOOP R_USER R_PASS R_AUTH_BAD,
	 .events = "TAA", .auth = "user/wrong\nuser/\n"},
	{.name = "AUTH LOGIN cancelled, undecodable, malformed, in a transaction",
	 .flags = F_TLS | F_AUTH, IN(TLS_EHLO_IN),
	 IN2("EHLO c\r\nAUTH LOGIN\r\n*\r\nAUTH LOGIN dXNlcg==\r\n*\r\nAUTH LOGIN !!!!\r\n"
	     "AUTH LOGIN\r\n!!!!\r\nAUTH LOGIN dXNlcg==\r\nc2VjcmV0!\r\nAUTH LOGIN =\r\n"
	     "AUTH LOGIN\r\n\r\nAUTH LOGIN dQB4\r\nAUTH LOGIN dXNlcg==\r\nYQBi\r\nNOOP\r\n"
	     "MAIL FROM:<a@x>\r\nAUTH LOGIN\r\n"),
	 .want = TLS_EHLO_R EHLO_R_AUTH R_USER R_AUTH_ABORTED R_PASS R_AUTH_ABORTED R_AUTH_DECODE
		 R_USER R_AUTH_DECODE R_PASS R_AUTH_DECODE R_AUTH_MALFORMED R_USER
		 R_AUTH_MALFORMED R_AUTH_MALFORMED R_PASS R_AUTH_MALFORMED R_NOOP R_MAIL
		 "503 5.5.1 Error: AUTH not allowed in a transaction\r\n",
	 .events = "T"},
	{.name = "AUTH LOGIN response lines at and past SMTP_AUTHLINE_MAX",
	 .flags = F_TLS | F_AUTH | F_FEWSPLIT, .auth_ok = 1, IN(TLS_EHLO_IN),
	 IN2("EHLO c\r\nAUTH LOGIN\r\n" X12286 "\r\nAUTH LOGIN dXNlcg==\r\n" X12286 "\r\n"
	     "AUTH LOGIN\r\n" X12286 "x\r\nAUTH LOGIN dXNlcg==\r\n" X12286 "x\r\nNOOP\r\n"
	     "AUTH LOGIN dXNlcg==\r\nc2VjcmV0\r\n"),
	 .want = TLS_EHLO_R EHLO_R_AUTH R_USER R_AUTH_DECODE R_PASS R_AUTH_DECODE R_USER
		 R_AUTH_LONG R_PASS R_AUTH_LONG R_NOOP R_PASS R_AUTH_OK,
	 .events = "TA", .auth = "user/secret\n"},
};

static void
test_auth_login(void)
{
	RUN(login_cases);
}

/* ---- failures of storage ---- */

static const struct sc fail_cases[] = {
	{.name = "message_done with an error", .result = VL_ERR_IO,
	 IN(TX "DATA\r\nm\r\n.\r\nMAIL FROM:<c@x>\r\n"), .want = TX_R R_354 R_451 R_MAIL,
	 .events = "M", .env = TX_ENV, BODY("m\r\n<EOM>")},
	{.name = "message_done with disk full", .result = VL_ERR_NOSPACE,
	 IN(TX "DATA\r\nm\r\n.\r\n"),
	 .want = TX_R R_354 "452 4.3.1 Error: insufficient system storage\r\n", .events = "M",
	 .env = TX_ENV, BODY("m\r\n<EOM>")},
	{.name = "spool failure: drained, then 451", .flags = F_FEWSPLIT, .spool_mem = 4,
	 .spool_dir = "/nonexistent-vellum-dir", IN(TX "DATA\r\n0123456789\r\n.\r\nNOOP\r\n"),
	 .want = TX_R R_354 R_451 R_NOOP},
	{.name = "lmtp spool failure: 451 per recipient", .flags = F_LMTP | F_FEWSPLIT,
	 .spool_mem = 4, .spool_dir = "/nonexistent-vellum-dir",
	 IN(LTX "BDAT 10 LAST\r\n0123456789NOOP\r\n"),
	 .want = LTX_R "451 4.3.0 <r1@y> Temporary failure\r\n451 4.3.0 <r2@y> Temporary "
		       "failure\r\n451 4.3.0 <r3@y> Temporary failure\r\n" R_NOOP},
};

static void
test_failures(void)
{
	RUN(fail_cases);
}

/* ---- the feed contract ---- */

static void
test_closed_and_paused(void)
{
	struct smtp_params p = {.hostname = "mx.test"};
	struct smtp_session *s = smtp_session_new(&p);
	const char *in = "HELO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nm\r\n.\r\nQUIT\r\n";
	size_t used = 0, off;
	enum smtp_event ev;

	ev = smtp_session_feed(s, (const uint8_t *)in, strlen(in), &used);
	CHECK(ev == SMTP_EV_MESSAGE, "message event");
	off = used;
	CHECK(strncmp(in + off, "QUIT", 4) == 0, "stops right after the end marker");
	ev = smtp_session_feed(s, (const uint8_t *)in + off, strlen(in) - off, &used);
	CHECK(ev == SMTP_EV_NONE && used == 0, "paused until message_done");
	smtp_session_message_done(s, VL_OK);
	smtp_session_message_done(s, VL_ERR_IO); /* not pending: ignored */
	ev = smtp_session_feed(s, (const uint8_t *)in + off, strlen(in) - off, &used);
	CHECK(ev == SMTP_EV_QUIT && used == 6, "QUIT");
	ev = smtp_session_feed(s, (const uint8_t *)"NOOP\r\n", 6, &used);
	CHECK(ev == SMTP_EV_CLOSE && used == 0, "after QUIT: CLOSE, nothing read");
	CHECK(strstr((const char *)smtp_session_output(s)->data, "451") == NULL,
	      "a second message_done queues nothing");
	smtp_session_free(s);
	smtp_session_free(NULL);
}

/* A client that pipelines without reading replies: feed stops at the high-water mark. */
static void
test_backpressure(void)
{
	struct smtp_params p = {.hostname = "mx.test"};
	struct smtp_session *s = smtp_session_new(&p);
	size_t n = 20000 * 6, used = 0, total = 0;
	uint8_t *in = malloc(n);
	enum smtp_event ev;
	size_t replies = 0;

	for (size_t i = 0; i < n; i += 6)
		memcpy(in + i, "NOOP\r\n", 6);
	ev = smtp_session_feed(s, in, n, &used);
	CHECK(ev == SMTP_EV_NONE && used < n, "stops early");
	CHECK(smtp_session_output(s)->len < SMTP_OUTPUT_HIGHWATER + 64, "output bounded");
	while (total < n) {
		struct buf *o = smtp_session_output(s);

		total += used;
		for (size_t i = 0; i + 3 < o->len; i++)
			replies += memcmp(o->data + i, "250 ", 4) == 0;
		buf_reset(o);
		if (total < n)
			ev = smtp_session_feed(s, in + total, n - total, &used);
		if (used == 0 && total < n)
			break;
	}
	CHECK(total == n && replies == 20000, "every command answered once drained");
	free(in);
	smtp_session_free(s);
}

/* The phase the caller's timers and batching go by, after each step of a transaction. */
static void
test_phase(void)
{
	static const struct {
		const char *label, *in;
		enum smtp_phase want;
	} steps[] = {
	    {"greeted", "", SMTP_PHASE_IDLE},
	    {"after EHLO", "EHLO c\r\n", SMTP_PHASE_IDLE},
	    {"after MAIL", "MAIL FROM:<a@x>\r\n", SMTP_PHASE_TX},
	    {"after RCPT", "RCPT TO:<b@y>\r\n", SMTP_PHASE_TX},
	    {"after DATA 354", "DATA\r\n", SMTP_PHASE_BODY},
	    {"mid payload", "Subject: s\r\n\r\nhal", SMTP_PHASE_BODY},
	    {"final dot: the message is the caller's", "f\r\n.\r\n", SMTP_PHASE_IDLE},
	    {"MAIL again", "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n", SMTP_PHASE_TX},
	    {"inside a BDAT chunk", "BDAT 10\r\n01234", SMTP_PHASE_BODY},
	    {"between BDAT chunks", "56789", SMTP_PHASE_TX},
	    {"RSET", "RSET\r\n", SMTP_PHASE_IDLE},
	};
	struct smtp_params p = {.hostname = "mx.test"};
	struct smtp_session *s = smtp_session_new(&p);

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		size_t n = strlen(steps[i].in), off = 0, used = 1;
		enum smtp_event ev = SMTP_EV_NONE;

		while (off < n && used && ev != SMTP_EV_MESSAGE) {
			ev = smtp_session_feed(s, (const uint8_t *)steps[i].in + off, n - off, &used);
			off += used;
		}
		buf_reset(smtp_session_output(s));
		CHECK(smtp_session_phase(s) == steps[i].want, steps[i].label);
		if (ev == SMTP_EV_MESSAGE)
			smtp_session_message_done(s, VL_OK);
	}
	smtp_session_free(s);
}

/* feed_all - feed in whole (acting on nothing); the replies, appended to out. Returns the
 * last event. */
static enum smtp_event
feed_all(struct smtp_session *s, const char *in, struct buf *out)
{
	size_t n = strlen(in), off = 0, used = 1;
	enum smtp_event ev = SMTP_EV_NONE;
	struct buf *o;

	while (off < n && used && ev != SMTP_EV_MESSAGE) {
		ev = smtp_session_feed(s, (const uint8_t *)in + off, n - off, &used);
		off += used;
	}
	o = smtp_session_output(s);
	buf_append(out, o->data, o->len);
	buf_reset(o);
	return ev;
}

/* XFORWARD: advertised and taken only when available, only between transactions, kept for
 * the message after it and forgotten with it (and with RSET). */
static void
test_xforward(void)
{
	struct smtp_params p = {.hostname = "mx.test", .xforward_available = 1};
	struct smtp_session *s = smtp_session_new(&p);
	struct buf out = {0};

	CHECK(feed_all(s, "XFORWARD ADDR=192.0.2.1\r\n", &out) == SMTP_EV_NONE &&
		      strstr((char *)out.data, "503 5.5.1 Error: send HELO/EHLO first"),
	      "before EHLO: 503");
	buf_reset(&out);
	feed_all(s, "EHLO relay.test\r\n", &out);
	CHECK(strstr((char *)out.data, "250 XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE\r\n") !=
		      NULL,
	      "EHLO advertises XFORWARD");
	buf_reset(&out);
	feed_all(s, "XFORWARD NAME=c.example ADDR=192.0.2.1\r\nXFORWARD HELO=c PROTO=ESMTP\r\n"
		    "XFORWARD BOGUS=1\r\n", &out);
	CHECK(strcmp((char *)out.data, "250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n"
				       "501 5.5.4 Bad XFORWARD attribute name\r\n") == 0,
	      "two accepted, a bad one refused");
	buf_reset(&out);
	feed_all(s, "MAIL FROM:<a@x>\r\nXFORWARD ADDR=192.0.2.9\r\nRCPT TO:<b@y>\r\n", &out);
	CHECK(strstr((char *)out.data, "503 5.5.1 Error: MAIL transaction in progress") != NULL,
	      "inside a transaction: 503");
	CHECK(feed_all(s, "DATA\r\nSubject: x\r\n\r\nbody\r\n.\r\n", &out) == SMTP_EV_MESSAGE,
	      "message");
	CHECK(smtp_session_xforward(s) &&
		      strcmp(smtp_session_xforward(s), "NAME=c.example ADDR=192.0.2.1 PROTO=ESMTP HELO=c") ==
			      0,
	      "the message has the attributes sent before MAIL");
	smtp_session_message_done(s, VL_OK);
	CHECK(smtp_session_xforward(s) == NULL, "forgotten after the message");
	feed_all(s, "XFORWARD ADDR=192.0.2.2\r\nRSET\r\n", &out);
	CHECK(smtp_session_xforward(s) == NULL, "and by RSET");
	smtp_session_free(s);

	p.xforward_available = 0;
	s = smtp_session_new(&p);
	buf_reset(&out);
	feed_all(s, "EHLO relay.test\r\nXFORWARD ADDR=192.0.2.1\r\n", &out);
	CHECK(strstr((char *)out.data, "XFORWARD NAME") == NULL &&
		      strstr((char *)out.data, "550 5.7.0 Error: insufficient authorization") != NULL,
	      "not available: not advertised, 550");
	smtp_session_free(s);
	buf_free(&out);
}

/* A LOGIN exchange ended without a verdict forgets the user name it was given. */
static void
test_auth_login_forgets(void)
{
	static const char *const ends[] = {"*\r\n", "!!!!\r\n", "YQBi\r\n", X12286 "x\r\n"};
	struct smtp_params p = {.hostname = "mx.test", .tls_available = 1, .auth_available = 1};
	struct buf out = {0};

	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		struct smtp_session *s = smtp_session_new(&p);

		CHECK(feed_all(s, TLS_EHLO_IN, &out) == SMTP_EV_STARTTLS, "STARTTLS");
		smtp_session_tls_started(s, NULL);
		feed_all(s, "EHLO c\r\nAUTH LOGIN dXNlcg==\r\n", &out);
		CHECK(smtp_session_auth_user(s) && strcmp(smtp_session_auth_user(s), "user") == 0 &&
			      smtp_session_auth_pass(s) == NULL,
		      "the user name is held while the password is asked for");
		CHECK(feed_all(s, ends[i], &out) == SMTP_EV_NONE, "no AUTH event");
		CHECK(smtp_session_auth_user(s) == NULL && !smtp_session_authenticated(s),
		      "cancelled, undecodable, malformed or too long: the user name is gone");
		smtp_session_free(s);
	}
	buf_free(&out);
}

UNIT_SUITE(smtp_session, {"greeting, EHLO, HELO, LHLO", test_hello},
	   {"DATA bodies byte for byte", test_data}, {"LMTP per-recipient replies", test_lmtp},
	   {"BDAT chunks", test_bdat}, {"limits", test_limits},
	   {"sequence, RSET, NOOP, VRFY, QUIT, error limit", test_sequence},
	   {"addresses and ORCPT", test_addresses}, {"STARTTLS", test_tls},
	   {"STARTTLS consumed count", test_starttls_consumed}, {"AUTH PLAIN", test_auth},
	   {"AUTH LOGIN", test_auth_login},
	   {"AUTH LOGIN unfinished forgets the user", test_auth_login_forgets},
	   {"storage failures", test_failures}, {"paused and closed", test_closed_and_paused},
	   {"backpressure", test_backpressure}, {"phase for timers and batching", test_phase},
	   {"XFORWARD", test_xforward})
