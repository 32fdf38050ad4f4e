/* test_smtp_args - journal/smtp_args.{c,h}: paths, parameter lists, numbers, ORCPT values and
 * SASL responses, each accepted form with what it yields and each malformed one refused. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_args.h"
#include "smtp_session.h"
#include "unit.h"

/* A path after "FROM:"/"TO:": want is the mailbox (NULL: refused), rest what follows it. */
struct path_row {
	const char *in;
	int allow_null;
	const char *want, *rest;
};

static const struct path_row path_rows[] = {
	{"<a@b.example>", 0, "a@b.example", ""},
	{"<a@b.example> SIZE=10", 0, "a@b.example", " SIZE=10"},
	{" <a@b.example>", 0, "a@b.example", ""}, /* a space after the colon, as many send */
	{"<@r1.example,@r2.example:u@d.example>", 0, "u@d.example", ""},
	{"<\"john doe\"@d.example>", 0, "\"john doe\"@d.example", ""},
	{"<\"a>b\"@d.example>", 0, "\"a>b\"@d.example", ""},
	{"<\"a\\\"b\"@d.example>", 0, "\"a\\\"b\"@d.example", ""},
	{"<>", 1, "", ""},
	{"<>", 0, NULL, NULL},
	{"a@b.example", 0, NULL, NULL},
	{"<a@b.example", 0, NULL, NULL},
	{"<a b@c.example>", 0, NULL, NULL},
	{"<a@b.example>x", 0, NULL, NULL},
	{"<@a>", 0, NULL, NULL},
	{"<a@>", 0, NULL, NULL},
	{"<@r1.example u@d.example>", 0, NULL, NULL},
	{"<a\tb@c.example>", 0, NULL, NULL},
	{"<a\x7f@c.example>", 0, NULL, NULL},
};

static void
test_smtp_args_path(void)
{
	char what[160], longp[SMTP_PATH_MAX + 8];
	const char *p;
	char *got;

	for (size_t i = 0; i < sizeof(path_rows) / sizeof(path_rows[0]); i++) {
		const struct path_row *r = &path_rows[i];

		p = r->in;
		got = smtp_parse_path(&p, r->allow_null);
		snprintf(what, sizeof(what), "path %zu: %s", i, r->in);
		if (r->want == NULL) {
			CHECK(got == NULL && p == r->in, what);
		} else {
			CHECK(got && strcmp(got, r->want) == 0 && strcmp(p, r->rest) == 0, what);
		}
		free(got);
	}
	/* "<" + local part + "@b>": SMTP_PATH_MAX bytes with its brackets pass, one more not. */
	for (int extra = 0; extra <= 1; extra++) {
		size_t local = SMTP_PATH_MAX - 4 + (size_t)extra;

		longp[0] = '<';
		memset(longp + 1, 'a', local);
		memcpy(longp + 1 + local, "@b>", 4);
		p = longp;
		got = smtp_parse_path(&p, 0);
		CHECK(extra ? got == NULL : got != NULL && strlen(got) == local + 2,
		      extra ? "a path past SMTP_PATH_MAX is refused" : "a path of SMTP_PATH_MAX passes");
		free(got);
	}
}

static void
test_smtp_args_params(void)
{
	const char *p = "  SIZE=100 BODY=8BITMIME SMTPUTF8  RET=", *k, *v;
	size_t kl, vl;

	CHECK(smtp_next_param(&p, &k, &kl, &v, &vl) && smtp_word_eq(k, kl, "size") && v &&
		      vl == 3 && memcmp(v, "100", 3) == 0,
	      "SIZE=100, the key in any case");
	CHECK(smtp_next_param(&p, &k, &kl, &v, &vl) && smtp_word_eq(k, kl, "BODY") &&
		      smtp_word_eq(v, vl, "8bitmime"),
	      "BODY=8BITMIME");
	CHECK(smtp_next_param(&p, &k, &kl, &v, &vl) && smtp_word_eq(k, kl, "SMTPUTF8") && v == NULL,
	      "a keyword without a value has no value");
	CHECK(smtp_next_param(&p, &k, &kl, &v, &vl) && smtp_word_eq(k, kl, "RET") && v && vl == 0,
	      "an empty value");
	CHECK(smtp_next_param(&p, &k, &kl, &v, &vl) == 0, "then the end");
	CHECK(!smtp_word_eq("SIZ", 3, "SIZE") && !smtp_word_eq("SIZEX", 5, "SIZE"),
	      "a word is equal only whole");
}

static void
test_smtp_args_u64(void)
{
	uint64_t v = 7;

	CHECK(smtp_parse_u64("0", 1, &v) && v == 0, "0");
	CHECK(smtp_parse_u64("18446744073709551615", 20, &v) && v == UINT64_MAX, "UINT64_MAX");
	v = 7;
	CHECK(!smtp_parse_u64("18446744073709551616", 20, &v) && v == 7, "one more overflows");
	CHECK(!smtp_parse_u64("", 0, &v) && !smtp_parse_u64("12a", 3, &v) &&
		      !smtp_parse_u64("-1", 2, &v) && !smtp_parse_u64("000000000000000000001", 21, &v),
	      "empty, a letter, a sign, 21 digits");
}

/* An ORCPT value: want the decoded address (NULL: refused). */
static const struct {
	const char *in, *want;
} orcpt_rows[] = {
	{"rfc822;a@b.example", "a@b.example"},
	{"RFC822;a+2Bx@b.example", "a+x@b.example"},
	{"utf-8;J\\x{F6}rg@b.example", "J\xc3\xb6rg@b.example"},
	{"utf-8;\\x{1F600}@b.example", "\xf0\x9f\x98\x80@b.example"},
	{"x-local;anything+2B", "x-local;anything+2B"},
	{"rfc822;a+00@b.example", NULL},
	{"rfc822;a+2@b.example", NULL},
	{"rfc822;a+ZZ@b.example", NULL},
	{"utf-8;\\x{D800}@b.example", NULL},
	{"utf-8;\\x{110000}@b.example", NULL},
	{"utf-8;\\x{}@b.example", NULL},
	{"utf-8;\\x{41@b.example", NULL},
	{"rfc822;", NULL},
	{";a@b.example", NULL},
	{"a@b.example", NULL},
};

static void
test_smtp_args_orcpt(void)
{
	char what[120];

	for (size_t i = 0; i < sizeof(orcpt_rows) / sizeof(orcpt_rows[0]); i++) {
		const char *in = orcpt_rows[i].in, *want = orcpt_rows[i].want;
		char *got = smtp_decode_orcpt(in, strlen(in));

		snprintf(what, sizeof(what), "ORCPT %zu: %s", i, in);
		CHECK(want ? got && strcmp(got, want) == 0 : got == NULL, what);
		free(got);
	}
}

/* A SASL response: want its bytes, want_len of them (want NULL: refused). */
static const struct {
	const char *in, *want;
	size_t want_len;
} sasl_rows[] = {
	{"dXNlcg==", "user", 4},
	{"AHVzZXIAc2VjcmV0", "\0user\0secret", 12},
	{"=", "", 0},	     /* RFC 4954 §4: an empty initial response */
	{"", "", 0},	     /* an empty line after a 334 */
	{"YQ==", "a", 1},
	{"YQ", NULL, 0},     /* padding is required */
	{"YQ===", NULL, 0},
	{"dXNl cg==", NULL, 0},
	{"dXNlcg==\r", NULL, 0},
	{"!!!!", NULL, 0},
	{"*", NULL, 0},
};

static void
test_smtp_args_sasl(void)
{
	char what[120];

	for (size_t i = 0; i < sizeof(sasl_rows) / sizeof(sasl_rows[0]); i++) {
		const char *want = sasl_rows[i].want;
		size_t len = 99;
		uint8_t *got = smtp_decode_sasl(sasl_rows[i].in, &len);

		snprintf(what, sizeof(what), "SASL %zu: %s", i, sasl_rows[i].in);
		CHECK(want ? got && len == sasl_rows[i].want_len && memcmp(got, want, len) == 0 &&
				     got[len] == '\0'
			   : got == NULL && len == 0,
		      what);
		free(got);
	}
}

UNIT_SUITE(smtp_args, {"paths", test_smtp_args_path}, {"parameter lists", test_smtp_args_params},
	   {"numbers", test_smtp_args_u64}, {"ORCPT values", test_smtp_args_orcpt},
	   {"SASL responses", test_smtp_args_sasl});
