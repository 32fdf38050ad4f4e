/* test_msghdr - archiver/msghdr.{c,h}: the header fields the store records, read from the
 * bytes a message arrives as: LF or CRLF, mbox "From " lines, folding, RFC 2047 words in several
 * charsets, raw 8-bit text, NUL bytes, broken and missing header blocks, and bounded work. */
#include <CUnit/CUnit.h>
#include <gmime/gmime.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "msghdr.h"
#include "unit.h"

/* GMime is initialised once for the whole process. */
static void
gmime_once(void)
{
	static int done;

	if (!done) {
		g_mime_init();
		done = 1;
	}
}

/* A field whose exact text the case leaves open: ANY may be absent, PRESENT may not. Either
 * way it must be valid UTF-8. */
#define ANY ((const char *)1)
#define PRESENT ((const char *)2)

/* Unix seconds of the dates used below (computed with Python's email.utils). */
#define T_2024_03_04_091530Z 1709543730LL /* Mon, 4 Mar 2024 10:15:30 +0100 */
#define T_2009_02_13_233130Z 1234567890LL /* Thu, 13 Feb 2009 23:31:30 +0000 */
#define T_2030_01_01_080000Z 1893484800LL /* Tue, 1 Jan 2030 00:00:00 -0800 */
/* "Grüße aus Köln" in UTF-8 (split so that \x9f does not swallow the e). */
#define GRUSSE                                                                                     \
	"Gr\xc3\xbc\xc3\x9f"                                                                       \
	"e aus K\xc3\xb6ln"
#define AT(s) ((s)*1000000LL) /* unix seconds -> date_us */

struct hdr_case {
	const char *label;
	const char *in;
	size_t len; /* 0: strlen(in); literal with NULs: sizeof - 1 */
	const char *from, *to, *cc, *subject, *message_id; /* NULL: absent; ANY, PRESENT */
	int64_t date_us;
	int parse_error;
};

#define WITH_NUL(s) (s), sizeof(s) - 1

static const struct hdr_case cases[] = {
    {"plain CRLF",
     "From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nCc: carol@example.net\r\n"
     "Subject: Quarterly report\r\nDate: Mon, 4 Mar 2024 10:15:30 +0100\r\n"
     "Message-ID: <abc.123@example.com>\r\n\r\nbody\r\n",
     0, "Alice <alice@example.com>", "bob@example.org", "carol@example.net", "Quarterly report",
     "<abc.123@example.com>", AT(T_2024_03_04_091530Z), 0},
    {"plain LF",
     "From: Alice <alice@example.com>\nTo: bob@example.org\nCc: carol@example.net\n"
     "Subject: Quarterly report\nDate: Mon, 4 Mar 2024 10:15:30 +0100\n"
     "Message-ID: <abc.123@example.com>\n\nbody\n",
     0, "Alice <alice@example.com>", "bob@example.org", "carol@example.net", "Quarterly report",
     "<abc.123@example.com>", AT(T_2024_03_04_091530Z), 0},
    {"names are case-insensitive",
     "FROM: a@example.com\r\nsubject: lower\r\nMESSAGE-id: <m@x>\r\ncC: c@x\r\n\r\n", 0,
     "a@example.com", NULL, "c@x", "lower", "<m@x>", 0, 0},
    {"other headers ignored, no space after colon",
     "Received: from x by y\r\nX-Subject: no\r\nFrom:a@example.com\r\nSubject:tight\r\n"
     "Resent-From: r@x\r\n\r\n",
     0, "a@example.com", NULL, NULL, "tight", NULL, 0, 0},
    {"folded Subject (space)",
     "From: a@example.com\r\nSubject: Quarterly\r\n report for\r\n  March\r\n\r\n", 0,
     "a@example.com", NULL, NULL, "Quarterly report for  March", NULL, 0, 0},
    {"folded Subject (tab), LF", "From: a@example.com\nSubject: Quarterly\n\treport\nTo: b@x\n\n",
     0, "a@example.com", "b@x", NULL, "Quarterly\treport", NULL, 0, 0},
    {"folded To", "From: a@example.com\r\nTo: b@example.org,\r\n c@example.org\r\n\r\n", 0,
     "a@example.com", "b@example.org, c@example.org", NULL, NULL, NULL, 0, 0},
    {"RFC 2047 UTF-8 B",
     "From: a@example.com\r\nSubject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=\r\n\r\n", 0,
     "a@example.com", NULL, NULL, GRUSSE, NULL, 0, 0},
    {"RFC 2047 lower-case charset and encoding",
     "From: a@example.com\r\nSubject: =?utf-8?b?R3LDvMOfZSBhdXMgS8O2bG4=?=\r\n\r\n", 0,
     "a@example.com", NULL, NULL, GRUSSE, NULL, 0, 0},
    {"RFC 2047 ISO-2022-JP B",
     "From: a@example.com\r\nSubject: =?ISO-2022-JP?B?GyRCJUYlOSVIN29MPhsoQg==?=\r\n\r\n", 0,
     "a@example.com", NULL, NULL, "\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88\xe4\xbb\xb6\xe5\x90\x8d",
     NULL, 0, 0},
    {"RFC 2047 ISO-8859-1 Q",
     "From: a@example.com\r\nSubject: =?ISO-8859-1?Q?Caf=E9_cr=E8me?=\r\n\r\n", 0, "a@example.com",
     NULL, NULL, "Caf\xc3\xa9 cr\xc3\xa8me", NULL, 0, 0},
    {"RFC 2047 folded between words",
     "From: a@example.com\r\nSubject: =?UTF-8?B?R3LDvMOf?=\r\n =?UTF-8?B?ZSBhdXMgS8O2bG4=?=\r\n"
     "\r\n",
     0, "a@example.com", NULL, NULL, GRUSSE, NULL, 0, 0},
    {"RFC 2047 words in two charsets",
     "From: a@example.com\r\nSubject: =?UTF-8?B?R3LDvMOfZQ==?=\r\n =?ISO-8859-1?Q?_K=F6ln?=\r\n"
     "\r\n",
     0, "a@example.com", NULL, NULL,
     "Gr\xc3\xbc\xc3\x9f"
     "e K\xc3\xb6ln",
     NULL, 0, 0},
    {"RFC 2047 mixed with plain text",
     "From: a@example.com\r\nSubject: Re: =?UTF-8?Q?K=C3=B6ln?= trip\r\n\r\n", 0, "a@example.com",
     NULL, NULL, "Re: K\xc3\xb6ln trip", NULL, 0, 0},
    {"RFC 2047 in From, To and Cc",
     "From: =?UTF-8?Q?J=C3=B6rg?= <j@example.com>\r\nTo: =?UTF-8?Q?Ren=C3=A9e?= <r@x>\r\n"
     "Cc: =?ISO-8859-1?Q?Z=FC?= <z@x>\r\n\r\n",
     0, "J\xc3\xb6rg <j@example.com>",
     "Ren\xc3\xa9"
     "e <r@x>",
     "Z\xc3\xbc <z@x>", NULL, NULL, 0, 0},
    {"mbox From line skipped",
     "From alice@example.com Mon Mar  4 10:15:30 2024\nFrom: Alice <alice@example.com>\n"
     "Subject: from mbox\n\nbody\n",
     0, "Alice <alice@example.com>", NULL, NULL, "from mbox", NULL, 0, 0},
    {"mbox From line skipped, CRLF",
     "From alice@example.com Mon Mar  4 10:15:30 2024\r\nMessage-ID: <m@x>\r\n\r\n", 0, NULL, NULL,
     NULL, NULL, "<m@x>", 0, 0},
    {"no body separator", "From: a@example.com\r\nSubject: headers only\r\n", 0, "a@example.com",
     NULL, NULL, "headers only", NULL, 0, 0},
    {"no body separator, no final newline", "From: a@example.com\nSubject: cut", 0, "a@example.com",
     NULL, NULL, "cut", NULL, 0, 0},
    {"body not read as headers", "From: a@example.com\r\n\r\nSubject: in the body\r\nTo: b@x\r\n",
     0, "a@example.com", NULL, NULL, NULL, NULL, 0, 0},
    {"line without colon",
     "From: a@example.com\r\nthis is not a header\r\nSubject: still read\r\n\r\n", 0,
     "a@example.com", NULL, NULL, "still read", NULL, 0, 1},
    {"empty name", "From: a@example.com\r\n: no name\r\n\r\n", 0, "a@example.com", NULL, NULL, NULL,
     NULL, 0, 1},
    {"first occurrence wins",
     "Subject: first\r\nFrom: one@x\r\nSubject: second\r\nFrom: two@x\r\nTo: t1@x\r\n"
     "To: t2@x\r\nMessage-ID: <1@x>\r\nMessage-ID: <2@x>\r\nCc: c1@x\r\nCc: c2@x\r\n"
     "Date: Thu, 13 Feb 2009 23:31:30 +0000\r\nDate: Mon, 4 Mar 2024 10:15:30 +0100\r\n\r\n",
     0, "one@x", "t1@x", "c1@x", "first", "<1@x>", AT(T_2009_02_13_233130Z), 0},
    {"Date only", "Date: Tue, 1 Jan 2030 00:00:00 -0800\r\n\r\n", 0, NULL, NULL, NULL, NULL, NULL,
     AT(T_2030_01_01_080000Z), 0},
    {"Date with comment and no weekday", "Date: 13 Feb 2009 23:31:30 +0000 (UTC)\n\n", 0, NULL,
     NULL, NULL, NULL, NULL, AT(T_2009_02_13_233130Z), 0},
    {"Date unparsable", "From: a@example.com\r\nDate: not a date\r\n\r\n", 0, "a@example.com", NULL,
     NULL, NULL, NULL, 0, 0},
    {"Date unparsable is the only field", "Date: yesterday\r\n\r\n", 0, NULL, NULL, NULL, NULL,
     NULL, 0, 1},
    {"no From, Message-ID or Date", "Subject: lonely\r\nTo: b@x\r\n\r\nbody", 0, NULL, "b@x", NULL,
     "lonely", NULL, 0, 1},
    {"empty input", "", 0, NULL, NULL, NULL, NULL, NULL, 0, 1},
    {"only a blank line", "\r\n", 0, NULL, NULL, NULL, NULL, NULL, 0, 1},
    {"body only", "\nFrom: a@example.com\n", 0, NULL, NULL, NULL, NULL, NULL, 0, 1},
    {"mbox From line only", "From alice@example.com Mon Mar  4 10:15:30 2024\n", 0, NULL, NULL,
     NULL, NULL, NULL, 0, 1},
    {"Latin-1 8-bit Subject",
     "From: a@example.com\r\nSubject: Caf\xe9 cr\xe8me br\xfbl\xe9"
     "e\r\n\r\n",
     0, "a@example.com", NULL, NULL,
     "Caf\xc3\xa9 cr\xc3\xa8me br\xc3\xbbl\xc3\xa9"
     "e",
     NULL, 0, 0},
    {"raw UTF-8 Subject kept", "From: a@example.com\r\nSubject: K\xc3\xb6ln \xe2\x82\xac\r\n\r\n",
     0, "a@example.com", NULL, NULL, "K\xc3\xb6ln \xe2\x82\xac", NULL, 0, 0},
    {"Latin-1 8-bit Message-ID", "Message-ID: <caf\xe9.\xff@example.com>\r\n\r\n", 0, NULL, NULL,
     NULL, NULL, "<caf\xc3\xa9.\xc3\xbf@example.com>", 0, 0},
    {"Latin-1 8-bit From", "From: J\xf6rg <j@example.com>\r\n\r\n", 0,
     "J\xc3\xb6rg <j@example.com>", NULL, NULL, NULL, NULL, 0, 0},
    {"NUL in Subject value",
     WITH_NUL("From: a@example.com\r\nSubject: a\0b\0\0c\r\nTo: t@x\r\n\r\n"), "a@example.com",
     "t@x", NULL, "a b  c", NULL, 0, 0}, /* NUL reads as a space: nothing after it is lost */
    {"NUL in Message-ID value", WITH_NUL("Message-ID: <a\0b@x>\r\n\r\n"), NULL, NULL, NULL, NULL,
     PRESENT, 0, 0},
    {"NUL in a header name", WITH_NUL("From: a@example.com\r\nSub\0ject: x\r\nTo: t@x\r\n\r\n"),
     "a@example.com", "t@x", NULL, NULL, NULL, 0, 1},
    {"NUL line", WITH_NUL("From: a@example.com\r\n\0\r\nTo: t@x\r\n\r\n"), "a@example.com", "t@x",
     NULL, NULL, NULL, 0, 1},
    {"NUL and 8-bit together", WITH_NUL("From: a@x\nSubject: \xff\0\xfe\x80\n\n"), "a@x", NULL,
     NULL, PRESENT, NULL, 0, 0},
    {"encoded word hiding a NUL and bad UTF-8", "From: a@x\nSubject: =?UTF-8?B?YQBi/w==?= end\n\n",
     0, "a@x", NULL, NULL, PRESENT, NULL, 0, 0},
    {"lone CR line ends", "From: a@x\rSubject: cr\r\r\n", 0, PRESENT, NULL, NULL, ANY, NULL, 0, 0},
};

/* field_ok - got matches want (NULL: absent; ANY, PRESENT: see above). */
static int
field_ok(const char *got, const char *want)
{
	if (want == ANY)
		return got == NULL || g_utf8_validate(got, -1, NULL);
	if (want == PRESENT)
		return got != NULL && g_utf8_validate(got, -1, NULL);
	if (want == NULL)
		return got == NULL;
	return got != NULL && strcmp(got, want) == 0;
}

static void
show(const char *label, const char *name, const char *got)
{
	fprintf(stderr, "\n  [%s] %s = %s%s%s\n", label, name, got ? "\"" : "", got ? got : "NULL",
		got ? "\"" : "");
}

/* check_valid - every field present is valid UTF-8 with no NUL inside its length. */
static void
check_valid(const struct msghdr *h, const char *label)
{
	const char *const f[] = {h->from, h->to, h->cc, h->subject, h->message_id};

	for (size_t i = 0; i < 5; i++) {
		if (f[i] == NULL)
			continue;
		CHECK(g_utf8_validate(f[i], -1, NULL), label);
		/* Bounded: at most MSGHDR_FIELD_MAX input bytes, each at most 2 bytes once read as
		 * Latin-1. */
		CHECK(strlen(f[i]) <= MSGHDR_FIELD_MAX * 2, label);
	}
}

static void
test_table(void)
{
	gmime_once();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct hdr_case *c = &cases[i];
		size_t len = c->len ? c->len : strlen(c->in);
		/* An exact-size heap copy: ASan reports any read past the length given. */
		uint8_t *copy = xmalloc(len ? len : 1);
		struct msghdr h;

		memcpy(copy, c->in, len);
		memset(&h, 0x5a, sizeof(h)); /* parse must set every field */
		msghdr_parse(&h, copy, len);
		CHECK(field_ok(h.from, c->from), c->label);
		CHECK(field_ok(h.to, c->to), c->label);
		CHECK(field_ok(h.cc, c->cc), c->label);
		CHECK(field_ok(h.subject, c->subject), c->label);
		CHECK(field_ok(h.message_id, c->message_id), c->label);
		CHECK(h.date_us == c->date_us, c->label);
		CHECK(h.parse_error == c->parse_error, c->label);
		if (!field_ok(h.from, c->from))
			show(c->label, "from", h.from);
		if (!field_ok(h.to, c->to))
			show(c->label, "to", h.to);
		if (!field_ok(h.cc, c->cc))
			show(c->label, "cc", h.cc);
		if (!field_ok(h.subject, c->subject))
			show(c->label, "subject", h.subject);
		if (!field_ok(h.message_id, c->message_id))
			show(c->label, "message_id", h.message_id);
		if (h.date_us != c->date_us || h.parse_error != c->parse_error)
			fprintf(stderr, "\n  [%s] date_us=%lld parse_error=%d\n", c->label,
				(long long)h.date_us, h.parse_error);
		check_valid(&h, c->label);
		msghdr_free(&h);
		CHECK(h.from == NULL && h.subject == NULL && h.date_us == 0, c->label);
		free(copy);
	}
}

/* CRLF and LF spellings of the same message read the same. */
static void
test_crlf_equals_lf(void)
{
	static const char *const lf[] = {
	    "From: a@example.com\nTo: b@x\nSubject: one\n two\nDate: Mon, 4 Mar 2024 10:15:30 "
	    "+0100\nMessage-ID: <x@y>\n\nbody\n",
	    "From x Thu Jan  1 00:00:00 1970\nFrom: a@x\nSubject: =?UTF-8?Q?=C3=A9?=\n\n",
	    "From: a@x\nbroken line\nCc: c@x\n",
	};

	gmime_once();
	for (size_t i = 0; i < sizeof(lf) / sizeof(lf[0]); i++) {
		struct buf crlf = {0};
		struct msghdr a, b;

		for (const char *p = lf[i]; *p; p++)
			buf_append(&crlf, *p == '\n' ? "\r\n" : p, *p == '\n' ? 2 : 1);
		msghdr_parse(&a, (const uint8_t *)lf[i], strlen(lf[i]));
		msghdr_parse(&b, crlf.data, crlf.len);
		CU_ASSERT(field_ok(b.from, a.from));
		CU_ASSERT(field_ok(b.to, a.to));
		CU_ASSERT(field_ok(b.cc, a.cc));
		CU_ASSERT(field_ok(b.subject, a.subject));
		CU_ASSERT(field_ok(b.message_id, a.message_id));
		CU_ASSERT_EQUAL(a.date_us, b.date_us);
		CU_ASSERT_EQUAL(a.parse_error, b.parse_error);
		/* No CR survives into a value. */
		CU_ASSERT(b.subject == NULL || strchr(b.subject, '\r') == NULL);
		CU_ASSERT(b.from == NULL || strchr(b.from, '\r') == NULL);
		msghdr_free(&a);
		msghdr_free(&b);
		buf_free(&crlf);
	}
}

/* Dates land on the right unix microsecond, whatever the zone. */
static void
test_dates(void)
{
	static const struct {
		const char *label, *date;
		int64_t want_s;
	} cases_d[] = {
	    {"+0100", "Mon, 4 Mar 2024 10:15:30 +0100", T_2024_03_04_091530Z},
	    {"+0000", "Thu, 13 Feb 2009 23:31:30 +0000", T_2009_02_13_233130Z},
	    {"-0800", "Tue, 1 Jan 2030 00:00:00 -0800", T_2030_01_01_080000Z},
	    {"GMT", "Fri, 13 Feb 2009 23:31:30 GMT", T_2009_02_13_233130Z},
	    {"+0530 crosses midnight", "Sat, 14 Feb 2009 05:01:30 +0530", T_2009_02_13_233130Z},
	    {"-1000 crosses the day back", "Fri, 13 Feb 2009 13:31:30 -1000", T_2009_02_13_233130Z},
	    {"two-digit year", "13 Feb 09 23:31:30 +0000", T_2009_02_13_233130Z},
	    {"folded", "Fri, 13 Feb 2009\r\n 23:31:30 +0000", T_2009_02_13_233130Z},
	};

	gmime_once();
	for (size_t i = 0; i < sizeof(cases_d) / sizeof(cases_d[0]); i++) {
		char text[256];
		struct msghdr h;

		snprintf(text, sizeof(text), "From: a@x\r\nDate: %s\r\n\r\n", cases_d[i].date);
		msghdr_parse(&h, (const uint8_t *)text, strlen(text));
		CHECK(h.date_us == AT(cases_d[i].want_s), cases_d[i].label);
		if (h.date_us != AT(cases_d[i].want_s))
			fprintf(stderr, "\n  [%s] date_us=%lld\n", cases_d[i].label,
				(long long)h.date_us);
		CHECK(h.parse_error == 0, cases_d[i].label);
		msghdr_free(&h);
	}
}

/* A value longer than MSGHDR_FIELD_MAX is cut to it. */
static void
test_long_field(void)
{
	struct buf m = {0};
	struct msghdr h;

	gmime_once();
	buf_append_str(&m, "From: a@x\r\nSubject: ");
	for (int i = 0; i < 3 * MSGHDR_FIELD_MAX; i++)
		buf_append(&m, i % 71 == 70 ? "\r\n " : "s", i % 71 == 70 ? 3 : 1);
	buf_append_str(&m, "\r\nTo: t@x\r\n\r\n");
	msghdr_parse(&h, m.data, m.len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h.subject);
	CU_ASSERT(strlen(h.subject) <= MSGHDR_FIELD_MAX);
	CU_ASSERT(strlen(h.subject) >= MSGHDR_FIELD_MAX - 2);
	CU_ASSERT(strspn(h.subject, "s ") == strlen(h.subject));
	CU_ASSERT_STRING_EQUAL(h.to, "t@x"); /* the long field does not swallow the next */
	CU_ASSERT_EQUAL(h.parse_error, 0);
	msghdr_free(&h);
	buf_free(&m);
}

/* filler - exactly n (>= 10) bytes of well-formed header lines "X-Fill-N: xxx...\r\n". */
static void
filler(struct buf *m, size_t n)
{
	size_t target = m->len + n;

	CU_ASSERT_FATAL(n >= 10);
	for (unsigned k = 0; target - m->len >= 80; k++)
		buf_appendf(m, "X-Fill-%05u: %.*s\r\n", k % 100000, 60,
			    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	/* The last line takes the 10 to 79 bytes left exactly: "X: " value CRLF. */
	buf_appendf(
	    m, "X: %.*s\r\n", (int)(target - m->len - 5),
	    "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy");
	CU_ASSERT_FATAL(m->len == target);
}

/* Only the first MSGHDR_SCAN_MAX bytes are read, even when more are passed. */
static void
test_scan_bound(void)
{
	struct buf m = {0};
	struct msghdr h;
	uint8_t *copy;

	gmime_once();
	/* Headers run past the bound: what lies beyond it is not read, and the block is flagged. */
	buf_append_str(&m, "From: first@x\r\n");
	filler(&m, MSGHDR_SCAN_MAX);
	buf_append_str(&m, "Subject: beyond the bound\r\nMessage-ID: <late@x>\r\n\r\nbody\r\n");
	copy = xmalloc(m.len);
	memcpy(copy, m.data, m.len);
	msghdr_parse(&h, copy, m.len);
	CU_ASSERT_STRING_EQUAL(h.from, "first@x");
	CU_ASSERT_PTR_NULL(h.subject);
	CU_ASSERT_PTR_NULL(h.message_id);
	CU_ASSERT_EQUAL(h.parse_error, 1);
	msghdr_free(&h);
	free(copy);

	/* A field that starts before the bound and ends after it is not read either. */
	buf_reset(&m);
	buf_append_str(&m, "From: first@x\r\n");
	filler(&m, MSGHDR_SCAN_MAX - 15 - 40);
	buf_append_str(&m, "Subject: ");
	while (m.len < MSGHDR_SCAN_MAX + 100)
		buf_append_str(&m, "straddling ");
	buf_append_str(&m, "\r\n\r\n");
	copy = xmalloc(m.len);
	memcpy(copy, m.data, m.len);
	msghdr_parse(&h, copy, m.len);
	CU_ASSERT_STRING_EQUAL(h.from, "first@x");
	CU_ASSERT(h.subject == NULL || strlen(h.subject) <= MSGHDR_FIELD_MAX);
	CU_ASSERT_EQUAL(h.parse_error, 1);
	msghdr_free(&h);
	free(copy);

	/* A header block that ends inside the bound reads fine whatever the message size. */
	buf_reset(&m);
	buf_append_str(&m, "From: a@x\r\nSubject: big body\r\n");
	filler(&m, MSGHDR_SCAN_MAX / 2);
	buf_append_str(&m, "\r\n");
	while (m.len < 3 * MSGHDR_SCAN_MAX)
		buf_append_str(&m, "Subject: body text, not a header\r\n");
	copy = xmalloc(m.len);
	memcpy(copy, m.data, m.len);
	msghdr_parse(&h, copy, m.len);
	CU_ASSERT_STRING_EQUAL(h.subject, "big body");
	CU_ASSERT_EQUAL(h.parse_error, 0);
	msghdr_free(&h);
	free(copy);

	/* A header block ending exactly at the bound: the blank line is the last thing read. */
	buf_reset(&m);
	buf_append_str(&m, "From: a@x\r\n");
	filler(&m, MSGHDR_SCAN_MAX - m.len - 2);
	buf_append_str(&m, "\r\n");
	CU_ASSERT_EQUAL_FATAL(m.len, MSGHDR_SCAN_MAX);
	buf_append_str(&m, "Subject: body\r\n");
	copy = xmalloc(m.len);
	memcpy(copy, m.data, m.len);
	msghdr_parse(&h, copy, m.len);
	CU_ASSERT_STRING_EQUAL(h.from, "a@x");
	CU_ASSERT_PTR_NULL(h.subject);
	CU_ASSERT_EQUAL(h.parse_error, 0);
	msghdr_free(&h);
	free(copy);
	buf_free(&m);
}

/* Every byte value in a header, in every position, yields valid UTF-8 and no crash. */
static void
test_all_bytes(void)
{
	gmime_once();
	for (int b = 0; b < 256; b++) {
		uint8_t in[64];
		size_t n = 0;
		struct msghdr h;
		char label[32];
		const char *pre = "From: a@x\nSubject: x", *post = "y\nTo: t@x\n\n";
		uint8_t mid[64];
		size_t m = 0;

		memcpy(in, pre, strlen(pre));
		n = strlen(pre);
		in[n++] = (uint8_t)b;
		memcpy(in + n, post, strlen(post));
		n += strlen(post);
		msghdr_parse(&h, in, n);
		snprintf(label, sizeof(label), "byte 0x%02x", b);
		CHECK(h.from != NULL && strcmp(h.from, "a@x") == 0, label);
		CHECK(h.subject != NULL, label);
		check_valid(&h, label);
		if (b != '\n' && b != '\r')
			CHECK(h.to != NULL && strcmp(h.to, "t@x") == 0, label);
		msghdr_free(&h);

		/* The same byte in a Message-ID, which is not RFC 2047 decoded. */
		memcpy(mid, "Message-ID: <a", 14);
		m = 14;
		mid[m++] = (uint8_t)b;
		memcpy(mid + m, "@x>\n\n", 6);
		m += 6;
		msghdr_parse(&h, mid, m);
		CHECK(h.message_id != NULL, label);
		check_valid(&h, label);
		msghdr_free(&h);
	}
}

/* ---- known-broken: run with VL_TEST_KNOWN_BROKEN=1 ---- */

static int
known_broken(const char *what)
{
	if (getenv("VL_TEST_KNOWN_BROKEN"))
		return 0;
	fprintf(stderr, "\n  known-broken, skipped (VL_TEST_KNOWN_BROKEN=1 runs it): %s\n", what);
	return 1;
}

/* XXX: clean_utf8 cuts at MSGHDR_FIELD_MAX bytes before validating; when the cut splits a
 * UTF-8 sequence the whole value is re-read as Latin-1 (mojibake, up to twice the limit). */
static void
test_kb_long_utf8_cut(void)
{
	struct buf m = {0};
	struct msghdr h;

	gmime_once();
	buf_append_str(&m, "From: a@x\r\nSubject: x");
	for (int i = 0; i < MSGHDR_FIELD_MAX; i++)
		buf_append_str(&m, "\xc3\xa9"); /* é */
	buf_append_str(&m, "\r\n\r\n");
	msghdr_parse(&h, m.data, m.len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h.subject);
	CU_ASSERT(strlen(h.subject) <= MSGHDR_FIELD_MAX);
	CU_ASSERT(strncmp(h.subject, "x\xc3\xa9\xc3\xa9", 5) == 0);
	CU_ASSERT(strstr(h.subject, "\xc3\x83") == NULL); /* "Ã": UTF-8 read as Latin-1 */
	msghdr_free(&h);
	buf_free(&m);
}

/* XXX: jstedfast/gmime#133: GMime 3.2.13 drops an encoded word that follows a padded base64
 * word of the same charset ("=?UTF-8?B?SGVsbG8=?= =?UTF-8?B?IHdvcmxk?=" reads "Hello"). Mailers
 * fold long subjects exactly like this, so the archive records a truncated Subject. */
static void
test_kb_adjacent_padded_b_words(void)
{
	static const char in[] =
	    "From: a@example.com\r\n"
	    "Subject: =?UTF-8?B?R3LDvMOfZQ==?=\r\n =?UTF-8?B?IGF1cyBLw7Zsbg==?=\r\n"
	    "To: =?UTF-8?B?SGVsbG8=?= =?UTF-8?B?IHdvcmxk?= <t@x>\r\n\r\n";
	struct msghdr h;

	if (known_broken("GMime drops a B-word after a padded one (gmime#133)"))
		return;
	gmime_once();
	msghdr_parse(&h, (const uint8_t *)in, sizeof(in) - 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h.subject);
	CU_ASSERT_STRING_EQUAL(h.subject, GRUSSE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h.to);
	CU_ASSERT_STRING_EQUAL(h.to, "Hello world <t@x>");
	msghdr_free(&h);
}

UNIT_SUITE(msghdr, {"table: fields, folding, RFC 2047, mbox, 8-bit, NUL, errors", test_table},
	   {"CRLF and LF read the same", test_crlf_equals_lf},
	   {"Date: unix microseconds in every zone", test_dates},
	   {"a value is cut at MSGHDR_FIELD_MAX", test_long_field},
	   {"work bounded by MSGHDR_SCAN_MAX", test_scan_bound},
	   {"every byte value in Subject and Message-ID: valid UTF-8", test_all_bytes},
	   {"long UTF-8 value cut mid-character", test_kb_long_utf8_cut},
	   {"known-broken: B-word after a padded one dropped (gmime#133)",
	    test_kb_adjacent_padded_b_words});
