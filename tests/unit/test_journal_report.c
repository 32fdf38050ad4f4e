/* test_journal_report - journal_report.c: envelopes read from Exchange 2010+/Online/2003 reports
 * with every role and redirection, the attached original given back byte for byte (as a range or
 * decoded), an IRM decrypted copy (the second message/rfc822 part) likewise, plain mail left
 * alone, broken reports flagged, bounds held, and the recipient hints of bcc-style journaling.
 * Fixtures: tests/fixtures/journal/ (see its README); corpus messages are read at run time from
 * ../shared/corpus, relative to the project root the tests run from. */
#include <gmime/gmime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "journal_report.h"
#include "unit.h"

#define FIXTURES "tests/fixtures/journal/"
#define ENRON_1 "../shared/corpus/enron-skilling-j/maildir-skilling-j/inbox/1."

static void
gmime_once(void)
{
	static int done;

	if (!done) {
		g_mime_init();
		done = 1;
	}
}

/* slurp - the whole file at path (newly allocated, NUL after the end); fails the test if absent. */
static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct buf b = {0};
	uint8_t chunk[8192];
	size_t n;

	CU_ASSERT_FATAL(f != NULL);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	buf_append(&b, "", 0);
	*len = b.len;
	return b.data;
}

static int
streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* parse - journal_report_parse, which must return VL_OK on any input. */
static void
parse(struct journal_report *r, const void *raw, size_t len)
{
	char err[VL_ERRLEN] = "";

	gmime_once();
	CU_ASSERT_FATAL(journal_report_parse(r, raw, len, err) == VL_OK);
}

struct want_rcpt {
	const char *address, *role, *expanded, *forwarded;
};

static const struct want_rcpt rcpts_2010[] = {
	{"bob@contoso.example", "to", NULL, NULL},
	{"carol@contoso.example", "cc", NULL, NULL},
	{"dave@contoso.example", "bcc", NULL, NULL},
	{"erin@contoso.example", "to", "finance@contoso.example", NULL},
	{"frank@fabrikam.example", "cc", NULL, "grace@contoso.example"},
	{"heidi@contoso.example", "unknown", NULL, NULL},
	{"ivan@contoso.example", "bcc", "board@contoso.example", "judy@contoso.example"},
};

static const struct want_rcpt rcpts_online[] = {
	{"anna.lange-mit-einem-sehr-langen-namen@contoso.example", "to", "team@contoso.example",
	 NULL},
	{"bernd@contoso.example", "to", "team@contoso.example", NULL},
	{"compliance-officer@contoso.example", "bcc", NULL, NULL},
};

static const struct want_rcpt rcpts_2003[] = {
	{"oscar@contoso.example", "unknown", NULL, NULL},
	{"peggy@contoso.example", "unknown", NULL, NULL},
	{"sybil@contoso.example", "unknown", "staff@contoso.example", NULL},
};

struct report_case {
	const char *file; /* under FIXTURES; the original is NAME.orig.eml */
	enum journal_kind kind;
	const char *sender, *subject, *message_id, *on_behalf_of;
	const struct want_rcpt *rcpts;
	size_t nrcpts;
	int encoded; /* the original comes back decoded, not as a range of the input */
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct report_case report_cases[] = {
	{"exchange2010", JOURNAL_EXCHANGE, "alice@contoso.example", "Quarterly numbers",
	 "<q3.4711@contoso.example>", "ceo@contoso.example", rcpts_2010, N(rcpts_2010), 0},
	{"exchange2010-lf", JOURNAL_EXCHANGE, "alice@contoso.example", "Quarterly numbers",
	 "<q3.4711@contoso.example>", "ceo@contoso.example", rcpts_2010, N(rcpts_2010), 0},
	{"exchange-online-base64", JOURNAL_EXCHANGE, "juergen@contoso.example",
	 "Pr\xc3\xbc"
	 "fbericht",
	 "<pb-2024-04@contoso.example>", NULL, rcpts_online, N(rcpts_online), 1},
	{"exchange2003", JOURNAL_EXCHANGE_2003, "mallory@fabrikam.example", NULL,
	 "<lunch.1@fabrikam.example>", NULL, rcpts_2003, N(rcpts_2003), 0},
};

static void
check_rcpts(const struct journal_report *r, const struct want_rcpt *w, size_t n, const char *label)
{
	CU_ASSERT_EQUAL(r->nrcpts, n);
	for (size_t i = 0; i < n && i < r->nrcpts; i++) {
		const struct journal_rcpt *g = &r->rcpts[i];
		int ok = streq(g->address, w[i].address) && streq(g->role, w[i].role) &&
			 streq(g->expanded_from, w[i].expanded) &&
			 streq(g->forwarded_from, w[i].forwarded);

		if (!ok)
			fprintf(stderr, "\n%s rcpt %zu: got %s/%s/%s/%s\n", label, i, g->address,
				g->role, g->expanded_from ? g->expanded_from : "-",
				g->forwarded_from ? g->forwarded_from : "-");
		CU_ASSERT(ok);
	}
}

static void
test_reports(void)
{
	for (size_t c = 0; c < N(report_cases); c++) {
		const struct report_case *k = &report_cases[c];
		char path[256], opath[256];
		struct journal_report r;
		uint8_t *raw, *want;
		const uint8_t *got;
		size_t len, wlen, glen;

		snprintf(path, sizeof(path), FIXTURES "%s.eml", k->file);
		snprintf(opath, sizeof(opath), FIXTURES "%s.orig.eml", k->file);
		raw = slurp(path, &len);
		want = slurp(opath, &wlen);
		parse(&r, raw, len);
		if (r.parse_error)
			fprintf(stderr, "\n%s: %s\n", k->file, r.detail);
		CU_ASSERT_EQUAL(r.kind, k->kind);
		CU_ASSERT_EQUAL(r.parse_error, 0);
		CU_ASSERT(streq(r.sender, k->sender));
		CU_ASSERT(streq(r.subject, k->subject));
		CU_ASSERT(streq(r.message_id, k->message_id));
		CU_ASSERT(streq(r.on_behalf_of, k->on_behalf_of));
		CU_ASSERT_EQUAL(r.rcpts_truncated, 0);
		check_rcpts(&r, k->rcpts, k->nrcpts, k->file);

		/* The original, byte for byte, through the accessor and through the fields. */
		got = journal_original(&r, raw, &glen);
		CU_ASSERT_FATAL(got != NULL);
		CU_ASSERT_EQUAL(glen, wlen);
		CU_ASSERT(glen == wlen && memcmp(got, want, wlen) == 0);
		if (k->encoded) {
			CU_ASSERT_EQUAL(r.orig_len, 0);
			CU_ASSERT(r.orig_decoded.len == wlen &&
				  memcmp(r.orig_decoded.data, want, wlen) == 0);
		} else {
			CU_ASSERT_EQUAL(r.orig_decoded.len, 0);
			CU_ASSERT(r.orig_off + r.orig_len <= len);
			CU_ASSERT(r.orig_len == wlen && memcmp(raw + r.orig_off, want, wlen) == 0);
			/* RFC 2046: the line break after the original starts the delimiter. */
			CU_ASSERT(r.orig_off + r.orig_len < len &&
				  (raw[r.orig_off + r.orig_len] == '\r' ||
				   raw[r.orig_off + r.orig_len] == '\n'));
		}
		/* One message/rfc822 part: no decrypted copy, and nothing wrong with one. */
		CU_ASSERT_PTR_NULL(journal_decrypted_copy(&r, raw, &glen));
		CU_ASSERT(glen == 0 && r.copy_problem == NULL);
		journal_report_free(&r);
		CU_ASSERT_PTR_NULL(r.rcpts);
		CU_ASSERT_EQUAL(r.nrcpts, 0);
		free(raw);
		free(want);
	}
}

/* build_report - a minimal Exchange report with marker as its first header lines, text as the
 * report text part, and orig attached with the given extra part headers (cte: "" or a
 * "Content-Transfer-Encoding: x\r\n" line) and body. eol is "\r\n" or "\n". */
static void
build_report(struct buf *b, const char *marker, const char *text, const char *cte,
	     const void *orig, size_t olen, const char *eol)
{
	buf_reset(b);
	buf_appendf(b, "%s%sFrom: journal-agent@contoso.example%sSubject: x%s", marker, eol, eol,
		    eol);
	buf_appendf(b, "Content-Type: multipart/mixed; boundary=\"=_b\"%s%s", eol, eol);
	buf_appendf(b, "--=_b%sContent-Type: text/plain%s%s%s%s", eol, eol, eol, text, eol);
	buf_appendf(b, "--=_b%sContent-Type: message/rfc822%s%s%s", eol, eol, cte, eol);
	buf_append(b, orig, olen);
	buf_appendf(b, "%s--=_b--%s", eol, eol);
}

#define TEXT_CRLF "Sender: a@x.example\r\nMessage-ID: <m@x>\r\nTo: b@x.example\r\n"
#define ORIG_CRLF "From: a@x.example\r\nSubject: s\r\n\r\nbody\r\n"

/* base64_lines - orig base64-encoded in CRLF lines of 76 (RFC 2045 §6.8). */
static void
base64_lines(struct buf *out, const uint8_t *orig, size_t olen)
{
	gchar *b64 = g_base64_encode(orig, olen);
	size_t n = strlen(b64);

	buf_reset(out);
	for (size_t i = 0; i < n; i += 76) {
		buf_append(out, b64 + i, n - i < 76 ? n - i : 76);
		buf_append_str(out, "\r\n");
	}
	g_free(b64);
}

/* A real corpus message wrapped three ways: 7bit with CRLF wrapper lines, 7bit with LF wrapper
 * lines, base64. The file has CRLF headers, an LF body and no final line break. */
static void
test_corpus_wrapped(void)
{
	struct journal_report r;
	struct buf rep = {0}, b64 = {0}, cte = {0};
	const char *eols[] = {"\r\n", "\n"};
	const uint8_t *got;
	uint8_t *orig;
	size_t olen, glen;

	orig = slurp(ENRON_1, &olen);
	CU_ASSERT_FATAL(olen > 1000);
	for (size_t e = 0; e < N(eols); e++) {
		build_report(&rep, "X-MS-Journal-Report:", TEXT_CRLF, "", orig, olen, eols[e]);
		parse(&r, rep.data, rep.len);
		CU_ASSERT_EQUAL(r.kind, JOURNAL_EXCHANGE);
		CU_ASSERT_EQUAL(r.parse_error, 0);
		CU_ASSERT(r.orig_len == olen && memcmp(rep.data + r.orig_off, orig, olen) == 0);
		got = journal_original(&r, rep.data, &glen);
		CU_ASSERT(got == rep.data + r.orig_off && glen == olen);
		journal_report_free(&r);
	}
	base64_lines(&b64, orig, olen);
	buf_append_str(&cte, "Content-Transfer-Encoding: base64\r\n");
	build_report(&rep, "X-MS-Journal-Report:", TEXT_CRLF, (const char *)cte.data, b64.data,
		     b64.len, "\r\n");
	parse(&r, rep.data, rep.len);
	CU_ASSERT_EQUAL(r.parse_error, 0);
	CU_ASSERT_EQUAL(r.orig_len, 0);
	got = journal_original(&r, rep.data, &glen);
	CU_ASSERT(got != NULL && glen == olen && memcmp(got, orig, olen) == 0);
	journal_report_free(&r);
	buf_free(&rep);
	buf_free(&b64);
	buf_free(&cte);
	free(orig);
}

struct detect_case {
	const char *marker;
	enum journal_kind kind;
};

static const struct detect_case detect_cases[] = {
	{"X-MS-Journal-Report:", JOURNAL_EXCHANGE},
	{"x-ms-journal-report: ", JOURNAL_EXCHANGE},
	{"X-MS-Exchange-Organization-Journal-Report: 1", JOURNAL_EXCHANGE},
	{"X-WM-Journal-Report: journal", JOURNAL_EXCHANGE},
	{"X-WM-Journal-Report: other", JOURNAL_PLAIN},
	{"Content-Identifier: exjournalreport", JOURNAL_EXCHANGE_2003},
	{"Content-Identifer: ExJournalReport", JOURNAL_EXCHANGE_2003},
	{"Content-Identifier: something-else", JOURNAL_PLAIN},
	{"Content-Identifier: exjournalreport\r\nX-MS-Journal-Report:", JOURNAL_EXCHANGE},
	{"X-Not-MS-Journal-Report:", JOURNAL_PLAIN},
	{"X-Note: X-MS-Journal-Report:", JOURNAL_PLAIN},
};

static void
test_detection(void)
{
	struct buf rep = {0};
	struct journal_report r;
	const uint8_t *got;
	size_t glen;

	for (size_t c = 0; c < N(detect_cases); c++) {
		build_report(&rep, detect_cases[c].marker, TEXT_CRLF, "", ORIG_CRLF,
			     strlen(ORIG_CRLF), "\r\n");
		parse(&r, rep.data, rep.len);
		CU_ASSERT_EQUAL(r.kind, detect_cases[c].kind);
		CU_ASSERT_EQUAL(r.parse_error, 0);
		got = journal_original(&r, rep.data, &glen);
		if (detect_cases[c].kind == JOURNAL_PLAIN) {
			CU_ASSERT(got == NULL && glen == 0 && r.nrcpts == 0 && r.sender == NULL);
		} else {
			CU_ASSERT(got != NULL && glen == strlen(ORIG_CRLF) &&
				  memcmp(got, ORIG_CRLF, glen) == 0);
		}
		journal_report_free(&r);
	}
	buf_free(&rep);
}

/* Plain messages, including ones whose *body* or attached message carries a marker. */
static void
test_plain(void)
{
	static const char *const files[] = {
		ENRON_1,
		"../shared/corpus/mailparser-fixtures/mixed.eml",
		"../shared/corpus/python-test-email/msg_02.txt",
		FIXTURES "hints.eml",
		FIXTURES "exchange2010.orig.eml",
	};
	static const char body_marker[] = "From: a@x.example\r\nSubject: fwd\r\n\r\n"
					  "X-MS-Journal-Report:\r\nContent-Identifier: "
					  "exjournalreport\r\n";
	struct journal_report r;
	size_t len, glen;
	uint8_t *raw;

	for (size_t i = 0; i < N(files); i++) {
		raw = slurp(files[i], &len);
		parse(&r, raw, len);
		CU_ASSERT_EQUAL(r.kind, JOURNAL_PLAIN);
		CU_ASSERT_EQUAL(r.parse_error, 0);
		CU_ASSERT(r.sender == NULL && r.nrcpts == 0 && r.detail == NULL);
		CU_ASSERT_PTR_NULL(journal_original(&r, raw, &glen));
		CU_ASSERT_EQUAL(glen, 0);
		journal_report_free(&r);
		free(raw);
	}
	parse(&r, body_marker, strlen(body_marker));
	CU_ASSERT_EQUAL(r.kind, JOURNAL_PLAIN);
	journal_report_free(&r);
	parse(&r, "", 0);
	CU_ASSERT_EQUAL(r.kind, JOURNAL_PLAIN);
	journal_report_free(&r);
}

struct broken_case {
	const char *label;
	const char *text; /* the whole message, or NULL to read FIXTURES label */
	enum journal_kind kind;
	const char *detail; /* a word the detail must contain */
};

#define TOP "X-MS-Journal-Report:\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n"
#define TXT "--q\r\nContent-Type: text/plain\r\n\r\n" TEXT_CRLF "\r\n"
#define ORIG "--q\r\nContent-Type: message/rfc822\r\n"

static const struct broken_case broken_cases[] = {
	{"no-attachment", NULL, JOURNAL_EXCHANGE, "rfc822"},
	{"tnef", NULL, JOURNAL_EXCHANGE, "TNEF"},
	{"truncated", TOP TXT ORIG "\r\n" ORIG_CRLF, JOURNAL_EXCHANGE, "truncated"},
	{"truncated 2003",
	 "Content-Identifier: exjournalreport\r\n"
	 "Content-Type: multipart/mixed; boundary=q\r\n\r\n" TXT ORIG "\r\n" ORIG_CRLF
	 "\r\n--q\r\n",
	 JOURNAL_EXCHANGE_2003, "truncated"},
	{"not multipart", "X-MS-Journal-Report:\r\nContent-Type: text/plain\r\n\r\n" TEXT_CRLF,
	 JOURNAL_EXCHANGE, "multipart"},
	{"no content-type", "X-MS-Journal-Report:\r\n\r\n" TEXT_CRLF, JOURNAL_EXCHANGE,
	 "multipart"},
	{"no boundary",
	 "X-MS-Journal-Report:\r\nContent-Type: multipart/mixed\r\n\r\n" TXT ORIG "\r\n" ORIG_CRLF
	 "\r\n--q--\r\n",
	 JOURNAL_EXCHANGE, "boundary"},
	{"headers only", "X-MS-Journal-Report:\r\nSubject: x\r\n", JOURNAL_EXCHANGE, "header"},
	{"no text part",
	 TOP "--q\r\nContent-Type: text/html\r\n\r\nx\r\n" ORIG "\r\n" ORIG_CRLF "\r\n--q--\r\n",
	 JOURNAL_EXCHANGE, "text/plain"},
	{"no sender",
	 TOP "--q\r\nContent-Type: text/plain\r\n\r\nTo: b@x.example\r\n\r\n" ORIG "\r\n" ORIG_CRLF
	     "\r\n--q--\r\n",
	 JOURNAL_EXCHANGE, "Sender"},
	{"no recipient",
	 TOP "--q\r\nContent-Type: text/plain\r\n\r\nSender: a@x.example\r\n\r\n" ORIG
	     "\r\n" ORIG_CRLF "\r\n--q--\r\n",
	 JOURNAL_EXCHANGE, "recipient"},
	{"empty original", TOP TXT ORIG "\r\n\r\n--q--\r\n", JOURNAL_EXCHANGE, "empty"},
	{"empty original, good decrypted copy",
	 TOP TXT ORIG "\r\n\r\n" ORIG "\r\n" ORIG_CRLF "\r\n--q--\r\n", JOURNAL_EXCHANGE,
	 "empty"},
	{"unknown encoding",
	 TOP TXT ORIG "Content-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 m\r\n\r\n--q--\r\n",
	 JOURNAL_EXCHANGE, "Transfer-Encoding"},
	{"base64 of nothing",
	 TOP TXT ORIG "Content-Transfer-Encoding: base64\r\n\r\n!!!!\r\n\r\n--q--\r\n",
	 JOURNAL_EXCHANGE, "nothing"},
};

static void
test_broken(void)
{
	for (size_t c = 0; c < N(broken_cases); c++) {
		const struct broken_case *k = &broken_cases[c];
		struct journal_report r;
		char path[256];
		uint8_t *raw = NULL;
		size_t len, glen;

		if (k->text == NULL) {
			snprintf(path, sizeof(path), FIXTURES "%s.eml", k->label);
			raw = slurp(path, &len);
			parse(&r, raw, len);
		} else {
			parse(&r, k->text, strlen(k->text));
		}
		if (!r.parse_error || r.detail == NULL || strstr(r.detail, k->detail) == NULL)
			fprintf(stderr, "\n%s: parse_error=%d detail=%s\n", k->label, r.parse_error,
				r.detail ? r.detail : "-");
		CU_ASSERT_EQUAL(r.kind, k->kind);
		CU_ASSERT_EQUAL(r.parse_error, 1);
		CU_ASSERT(r.detail != NULL && strstr(r.detail, k->detail) != NULL);
		CU_ASSERT_PTR_NULL(
			journal_original(&r, raw ? raw : (const uint8_t *)k->text, &glen));
		CU_ASSERT(glen == 0 && r.orig_len == 0 && r.orig_decoded.len == 0 &&
			  r.orig_decoded.data == NULL);
		/* An unreadable report gives no decrypted copy either. */
		CU_ASSERT_PTR_NULL(
			journal_decrypted_copy(&r, raw ? raw : (const uint8_t *)k->text, &glen));
		CU_ASSERT(glen == 0 && r.copy_len == 0 && r.copy_decoded.data == NULL);
		journal_report_free(&r);
		free(raw);
	}
}

/* Every prefix of a good report that stops before its close delimiter is plain (cut before the
 * marker) or a parse error, never a report with an original; nothing crashes (ASan). */
static void
test_prefixes(void)
{
	static const char close[] = "\r\n--_jr_outer_--";
	struct journal_report r;
	uint8_t *raw;
	size_t len, glen, whole;
	const uint8_t *hit;
	int bad = 0;

	raw = slurp(FIXTURES "exchange2010.eml", &len);
	hit = memmem(raw, len, close, strlen(close));
	CU_ASSERT_FATAL(hit != NULL);
	whole = (size_t)(hit - raw) + strlen(close);
	for (size_t n = 0; n < whole; n++) {
		parse(&r, raw, n);
		if (journal_original(&r, raw, &glen) != NULL ||
		    (r.kind != JOURNAL_PLAIN && !r.parse_error))
			bad++;
		journal_report_free(&r);
	}
	CU_ASSERT_EQUAL(bad, 0);
	parse(&r, raw, whole); /* the close delimiter without its line break is enough */
	CU_ASSERT(r.kind == JOURNAL_EXCHANGE && !r.parse_error && r.nrcpts == N(rcpts_2010));
	journal_report_free(&r);
	free(raw);
}

static void
test_delimiters(void)
{
	struct journal_report r;
	const uint8_t *got;
	size_t glen;
	/* Transport padding after the delimiters; an original without a final line break; a
	 * second message/rfc822 part (an IRM decrypted copy) that must not be taken for the
	 * original, and is given back as the copy. */
	static const char padded[] =
		TOP "--q  \r\nContent-Type: text/plain\r\n\r\n" TEXT_CRLF "\r\n--q\t\r\n"
		    "Content-Type: message/rfc822\r\n\r\nFrom: a@x.example\r\n\r\nno final break"
		    "\r\n--q\r\nContent-Type: message/rfc822\r\n\r\nFrom: copy@x.example\r\n\r\n"
		    "decrypted\r\n\r\n--q-- \r\n";
	/* The boundary text inside a quoted parameter with specials, and inside the original at
	 * the start of lines that are not delimiters. */
	static const char quoted[] =
		"X-MS-Journal-Report:\r\n"
		"Content-Type: multipart/mixed; boundary=\"a'(b)+,-./:=?\"\r\n"
		"\r\n--a'(b)+,-./:=?\r\nContent-Type: text/plain\r\n\r\n" TEXT_CRLF
		"\r\n--a'(b)+,-./:=?\r\nContent-Type: message/rfc822\r\n\r\n"
		"Subject: s\r\n\r\n--a'(b)+,-./:=?x\r\n---a'(b)+,-./:=?\r\n -a'(b)+,-./:=?\r\n"
		"\r\n--a'(b)+,-./:=?--\r\n";
	static const char quoted_orig[] =
		"Subject: s\r\n\r\n--a'(b)+,-./:=?x\r\n---a'(b)+,-./:=?\r\n -a'(b)+,-./:=?\r\n";

	parse(&r, padded, strlen(padded));
	got = journal_original(&r, (const uint8_t *)padded, &glen);
	CU_ASSERT_EQUAL(r.parse_error, 0);
	CU_ASSERT(got != NULL && glen == strlen("From: a@x.example\r\n\r\nno final break") &&
		  memcmp(got, "From: a@x.example\r\n\r\nno final break", glen) == 0);
	got = journal_decrypted_copy(&r, (const uint8_t *)padded, &glen);
	CU_ASSERT(got != NULL && glen == strlen("From: copy@x.example\r\n\r\ndecrypted\r\n") &&
		  memcmp(got, "From: copy@x.example\r\n\r\ndecrypted\r\n", glen) == 0);
	journal_report_free(&r);

	parse(&r, quoted, strlen(quoted));
	got = journal_original(&r, (const uint8_t *)quoted, &glen);
	CU_ASSERT_EQUAL(r.parse_error, 0);
	CU_ASSERT(got != NULL && glen == strlen(quoted_orig) &&
		  memcmp(got, quoted_orig, glen) == 0);
	journal_report_free(&r);
}

/* ---- the IRM decrypted copy: the second message/rfc822 part ---- */

#define COPY_CRLF "From: a@x.example\r\nSubject: s (decrypted)\r\n\r\nthe protected body\r\n"

struct copy_case {
	const char *label;
	const char *cte;     /* the copy part's Content-Transfer-Encoding line, or "" */
	const char *body;    /* the copy part's body as attached (base64-encoded first when b64) */
	int b64;	     /* encode body as base64 lines, with its Content-Transfer-Encoding */
	const char *want;    /* the copy's bytes, or NULL: no copy is given back */
	const char *problem; /* a word copy_problem must contain, or NULL: it must be NULL */
	int third;	     /* a third message/rfc822 part follows, and must be ignored */
};

static const struct copy_case copy_cases[] = {
	{"7bit copy", "", COPY_CRLF, 0, COPY_CRLF, NULL, 0},
	{"base64 copy", "", COPY_CRLF, 1, COPY_CRLF, NULL, 0},
	{"quoted-printable copy", "Content-Transfer-Encoding: quoted-printable\r\n",
	 "Subject: caf=C3=A9\r\n\r\nsoft=\r\nbreak\r\n", 0,
	 "Subject: caf\xc3\xa9\r\n\r\nsoftbreak\r\n", NULL, 0},
	{"a third message part is ignored", "", COPY_CRLF, 0, COPY_CRLF, NULL, 1},
	{"copy with an unknown encoding", "Content-Transfer-Encoding: x-uuencode\r\n",
	 "begin 644 m\r\n", 0, NULL, "unknown Content-Transfer-Encoding", 0},
	{"empty copy", "", "", 0, NULL, "empty", 0},
	{"copy that is base64 of nothing", "Content-Transfer-Encoding: base64\r\n", "!!!!\r\n", 0,
	 NULL, "decodes to nothing", 0},
};

/* build_two - a CRLF report (boundary q) with orig attached unencoded, then the copy part of k.
 * *orig_off and *copy_off are where the two bodies start in b. */
static void
build_two(struct buf *b, const uint8_t *orig, size_t olen, const struct copy_case *k,
	  size_t *orig_off, size_t *copy_off)
{
	struct buf enc = {0};

	buf_reset(b);
	buf_append_str(b, TOP TXT ORIG "\r\n");
	*orig_off = b->len;
	buf_append(b, orig, olen);
	buf_appendf(b, "\r\n" ORIG "%s%s\r\n", k->cte,
		    k->b64 ? "Content-Transfer-Encoding: base64\r\n" : "");
	*copy_off = b->len;
	if (k->b64)
		base64_lines(&enc, (const uint8_t *)k->body, strlen(k->body));
	else
		buf_append_str(&enc, k->body);
	buf_append(b, enc.data, enc.len);
	if (k->third)
		buf_append_str(b, "\r\n" ORIG "\r\nFrom: third@x.example\r\n\r\nthird\r\n");
	buf_append_str(b, "\r\n--q--\r\n");
	buf_free(&enc);
}

/* check_copy - the decrypted copy of r (parsed from raw, its body at copy_off) against k. */
static void
check_copy(const struct journal_report *r, const uint8_t *raw, size_t copy_off,
	   const struct copy_case *k)
{
	int exact = k->want != NULL && !k->b64 && *k->cte == 0; /* stored unencoded */
	const uint8_t *got;
	size_t glen;

	got = journal_decrypted_copy(r, raw, &glen);
	if (k->want == NULL) {
		CHECK(got == NULL && glen == 0 && r->copy_len == 0, k->label);
		CHECK(r->copy_decoded.len == 0 && r->copy_decoded.data == NULL, k->label);
	} else {
		CHECK(got != NULL && glen == strlen(k->want) && memcmp(got, k->want, glen) == 0,
		      k->label);
	}
	if (exact) {
		/* A range of the report: where the body starts, up to the delimiter's CRLF. */
		CHECK(r->copy_off == copy_off && r->copy_len == strlen(k->want), k->label);
		CHECK(got == raw + copy_off && r->copy_decoded.len == 0, k->label);
		CHECK(raw[r->copy_off + r->copy_len] == '\r', k->label);
	} else if (k->want != NULL) {
		CHECK(r->copy_len == 0 && got == r->copy_decoded.data, k->label);
	}
	if (k->problem == NULL)
		CHECK(r->copy_problem == NULL, k->label);
	else
		CHECK(r->copy_problem != NULL && strstr(r->copy_problem, k->problem) != NULL,
		      k->label);
}

/* A real corpus message as the original, then a decrypted copy in every form: both come back
 * with exact offsets or decoded bytes; a bad copy still leaves the original and says why. */
static void
test_decrypted_copy(void)
{
	struct journal_report r;
	struct buf rep = {0};
	const uint8_t *got;
	uint8_t *orig;
	size_t olen, glen, orig_off, copy_off;

	orig = slurp(ENRON_1, &olen);
	for (size_t c = 0; c < N(copy_cases); c++) {
		const struct copy_case *k = &copy_cases[c];

		build_two(&rep, orig, olen, k, &orig_off, &copy_off);
		parse(&r, rep.data, rep.len);
		CHECK(r.kind == JOURNAL_EXCHANGE && r.parse_error == 0 && r.nrcpts == 1, k->label);
		CHECK(r.orig_off == orig_off && r.orig_len == olen && r.orig_decoded.len == 0,
		      k->label);
		got = journal_original(&r, rep.data, &glen);
		CHECK(got == rep.data + orig_off && glen == olen && memcmp(got, orig, olen) == 0,
		      k->label);
		check_copy(&r, rep.data, copy_off, k);
		journal_report_free(&r);
		CU_ASSERT(r.copy_problem == NULL && r.copy_decoded.data == NULL);
	}
	buf_free(&rep);
	free(orig);
}

/* Report text details: folding, <> sender, wrapped Recipients lists, unknown lines ignored. */
static void
test_text_grammar(void)
{
	static const char text[] =
		"Sender: <>\r\nSubject: Re: a, b: c\r\nMessage-ID: <m@x>\r\n"
		"Note: not an envelope line\r\n"
		"Recipients: \"Doe, J\" <j@x.example>,\r\n"
		"\tk@x.example, Forwarded: l@x.example,\r\n m@x.example\r\n"
		"BCC: n@x.example, Expanded: <dl@x.example>, Expanded: outer@x\r\n";
	static const struct want_rcpt want[] = {
		{"j@x.example", "unknown", NULL, NULL},
		{"k@x.example", "unknown", NULL, "l@x.example"},
		{"m@x.example", "unknown", NULL, NULL},
		{"n@x.example", "bcc", "dl@x.example", NULL},
	};
	struct journal_report r;
	struct buf rep = {0};

	build_report(&rep, "Content-Identifier: exjournalreport", text, "", ORIG_CRLF,
		     strlen(ORIG_CRLF), "\r\n");
	parse(&r, rep.data, rep.len);
	CU_ASSERT_EQUAL(r.kind, JOURNAL_EXCHANGE_2003);
	CU_ASSERT_EQUAL(r.parse_error, 0);
	CU_ASSERT(streq(r.sender, ""));
	CU_ASSERT(streq(r.subject, "Re: a, b: c"));
	check_rcpts(&r, want, N(want), "grammar");
	journal_report_free(&r);
	buf_free(&rep);
}

static void
test_limits(void)
{
	struct journal_report r;
	struct buf text = {0}, rep = {0};
	size_t glen;

	/* Recipients: the first JOURNAL_RCPT_MAX are kept, the report still unwraps. */
	buf_append_str(&text, "Sender: a@x.example\r\nMessage-ID: <m@x>\r\n");
	for (int i = 0; i < JOURNAL_RCPT_MAX + 5; i++)
		buf_appendf(&text, "Bcc: u%d@x.example\r\n", i);
	build_report(&rep, "X-MS-Journal-Report:", (const char *)text.data, "", ORIG_CRLF,
		     strlen(ORIG_CRLF), "\r\n");
	parse(&r, rep.data, rep.len);
	CU_ASSERT_EQUAL(r.parse_error, 0);
	CU_ASSERT_EQUAL(r.nrcpts, JOURNAL_RCPT_MAX);
	CU_ASSERT_EQUAL(r.rcpts_truncated, 1);
	CU_ASSERT(r.detail != NULL);
	CU_ASSERT(r.nrcpts == JOURNAL_RCPT_MAX &&
		  streq(r.rcpts[JOURNAL_RCPT_MAX - 1].address, "u9999@x.example"));
	CU_ASSERT_PTR_NOT_NULL(journal_original(&r, rep.data, &glen));
	journal_report_free(&r);

	/* A report text part over JOURNAL_TEXT_MAX. */
	buf_reset(&text);
	buf_append_str(&text, TEXT_CRLF);
	while (text.len <= JOURNAL_TEXT_MAX)
		buf_append_str(&text, "Note: padding padding padding padding padding padding\r\n");
	build_report(&rep, "X-MS-Journal-Report:", (const char *)text.data, "", ORIG_CRLF,
		     strlen(ORIG_CRLF), "\r\n");
	parse(&r, rep.data, rep.len);
	CU_ASSERT(r.parse_error && r.detail && strstr(r.detail, "size limit"));
	journal_report_free(&r);

	/* A top header block longer than JOURNAL_HEADER_MAX. */
	buf_reset(&rep);
	buf_append_str(&rep, "X-MS-Journal-Report:\r\n");
	while (rep.len <= JOURNAL_HEADER_MAX)
		buf_append_str(&rep, "X-Pad: padding padding padding padding padding padding\r\n");
	buf_append_str(&rep, "Content-Type: multipart/mixed; boundary=q\r\n\r\n" TXT ORIG
			     "\r\n" ORIG_CRLF "\r\n--q--\r\n");
	parse(&r, rep.data, rep.len);
	CU_ASSERT(r.parse_error && r.detail && strstr(r.detail, "header"));
	journal_report_free(&r);

	/* More top-level parts than JOURNAL_PARTS_MAX. */
	buf_reset(&rep);
	buf_append_str(&rep, TOP TXT ORIG "\r\n" ORIG_CRLF "\r\n");
	for (int i = 0; i < JOURNAL_PARTS_MAX; i++)
		buf_append_str(&rep, "--q\r\n\r\nx\r\n");
	buf_append_str(&rep, "--q--\r\n");
	parse(&r, rep.data, rep.len);
	CU_ASSERT(r.parse_error && r.detail && strstr(r.detail, "too many parts"));
	journal_report_free(&r);

	buf_free(&text);
	buf_free(&rep);
}

static void
test_hints(void)
{
	static const char *const want[] = {
		"archive+bob=contoso.example@archive.example",
		"archive@archive.example",
		"Bob@Contoso.example",
		"carol@contoso.example",
		"dave@contoso.example",
	};
	struct buf big = {0};
	char **v;
	size_t n, len;
	uint8_t *raw;

	raw = slurp(FIXTURES "hints.eml", &len);
	CU_ASSERT_FATAL(journal_hints(&v, &n, raw, len) == VL_OK);
	CU_ASSERT_EQUAL(n, N(want));
	for (size_t i = 0; i < n && i < N(want); i++) {
		if (!streq(v[i], want[i]))
			fprintf(stderr, "\nhint %zu: got %s\n", i, v[i]);
		CU_ASSERT(streq(v[i], want[i]));
	}
	journal_hints_free(v, n);
	free(raw);

	raw = slurp(ENRON_1, &len);
	CU_ASSERT_FATAL(journal_hints(&v, &n, raw, len) == VL_OK);
	CU_ASSERT(n == 0 && v == NULL);
	free(raw);

	buf_append_str(&big, "X-Gm-Original-To: ");
	for (int i = 0; i < JOURNAL_RCPT_MAX + 10; i++)
		buf_appendf(&big, "%su%d@x.example", i ? ", " : "", i);
	buf_append_str(&big, "\r\nSubject: big\r\n\r\n");
	CU_ASSERT_FATAL(journal_hints(&v, &n, big.data, big.len) == VL_OK);
	CU_ASSERT_EQUAL(n, JOURNAL_RCPT_MAX);
	CU_ASSERT(n > 0 && streq(v[n - 1], "u9999@x.example"));
	journal_hints_free(v, n);
	buf_free(&big);
	journal_hints_free(NULL, 0);
}

static void
test_free(void)
{
	struct journal_report r;
	uint8_t *raw;
	size_t len;

	journal_report_free(NULL);
	raw = slurp(FIXTURES "exchange2010.eml", &len);
	parse(&r, raw, len);
	journal_report_free(&r);
	journal_report_free(&r); /* zeroed: a second free is harmless */
	CU_ASSERT(r.sender == NULL && r.rcpts == NULL && r.orig_decoded.data == NULL);
	free(raw);
}

UNIT_SUITE(journal_report, {"reports: envelopes and exact originals", test_reports},
	   {"a corpus message wrapped three ways", test_corpus_wrapped},
	   {"detection markers", test_detection}, {"plain messages stay plain", test_plain},
	   {"broken reports are flagged", test_broken},
	   {"every prefix of a report", test_prefixes},
	   {"delimiter rules and part choice", test_delimiters},
	   {"the decrypted copy (second message/rfc822 part)", test_decrypted_copy},
	   {"report text grammar", test_text_grammar}, {"bounds", test_limits},
	   {"hints from bcc journaling", test_hints}, {"free", test_free})
