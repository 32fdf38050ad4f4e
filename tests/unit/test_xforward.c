/* test_xforward - journal/xforward.{c,h}: XFORWARD argument lists applied in order, the
 * canonical text after each, and every refusal leaving the attributes as they were. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "xforward.h"

/* One step: args applied to the attributes so far; want_err the refusal's start or NULL;
 * want the canonical text afterwards ("" for none). */
struct xf_step {
	const char *args, *want_err, *want;
};

static void
run_steps(const char *label, const struct xf_step *st, size_t n)
{
	struct xforward xf = {0};

	for (size_t i = 0; i < n; i++) {
		const char *why = xforward_apply(&xf, st[i].args);
		char *text = xforward_text(&xf);
		char what[256];

		snprintf(what, sizeof(what), "%s, step %zu (%s)", label, i + 1, st[i].args);
		if (st[i].want_err)
			CHECK(why && strncmp(why, st[i].want_err, strlen(st[i].want_err)) == 0, what);
		else
			CHECK(why == NULL, what);
		CHECK(strcmp(text ? text : "", st[i].want) == 0, what);
		free(text);
	}
	xforward_clear(&xf);
}

#define STEPS(label, ...)                                                                  \
	do {                                                                               \
		static const struct xf_step s_[] = {__VA_ARGS__};                          \
		run_steps(label, s_, sizeof(s_) / sizeof(s_[0]));                          \
	} while (0)

static void
test_xforward_apply(void)
{
	/* What Postfix's smtp client sends (two commands, as it splits at its line limit). */
	STEPS("postfix", {"NAME=client.example ADDR=192.0.2.7 PORT=40312", NULL,
			  "NAME=client.example ADDR=192.0.2.7 PORT=40312"},
	      {"PROTO=ESMTP HELO=helo.example IDENT=4Dq1 SOURCE=REMOTE", NULL,
	       "NAME=client.example ADDR=192.0.2.7 PORT=40312 PROTO=ESMTP HELO=helo.example "
	       "IDENT=4Dq1 SOURCE=REMOTE"});
	STEPS("order is canonical, names any case, a later value wins",
	      {"source=LOCAL helo=h Addr=IPv6:2001:db8::1", NULL,
	       "ADDR=IPv6:2001:db8::1 HELO=h SOURCE=LOCAL"},
	      {"HELO=h2", NULL, "ADDR=IPv6:2001:db8::1 HELO=h2 SOURCE=LOCAL"});
	STEPS("[UNAVAILABLE] and [TEMPUNAVAIL] forget",
	      {"NAME=a.example ADDR=10.0.0.1", NULL, "NAME=a.example ADDR=10.0.0.1"},
	      {"NAME=[TEMPUNAVAIL] ADDR=[UNAVAILABLE]", NULL, ""});
	STEPS("xtext decoded, then encoded again where it must be",
	      {"HELO=a+2Bb+3Dc+20d", NULL, "HELO=a+2Bb+3Dc+20d"},
	      {"HELO=+41", NULL, "HELO=A"});
	STEPS("refusals change nothing", {"NAME=keep.example", NULL, "NAME=keep.example"},
	      {"", "501 5.5.4 Syntax", "NAME=keep.example"},
	      {"COLOR=red", "501 5.5.4 Bad XFORWARD attribute name", "NAME=keep.example"},
	      {"NAME", "501 5.5.4 Bad XFORWARD attribute name", "NAME=keep.example"},
	      {"HELO=x NOPE=1", "501 5.5.4 Bad XFORWARD attribute name", "NAME=keep.example"},
	      {"ADDR=999.1.1.1", "501 5.5.4 Bad XFORWARD attribute value", "NAME=keep.example"},
	      {"ADDR=IPv6:zz::1", "501 5.5.4 Bad XFORWARD attribute value", "NAME=keep.example"},
	      {"ADDR=2001:db8::1", "501 5.5.4 Bad XFORWARD attribute value", "NAME=keep.example"},
	      {"PORT=65536", "501 5.5.4 Bad XFORWARD attribute value", "NAME=keep.example"},
	      {"PORT=1x", "501 5.5.4 Bad XFORWARD attribute value", "NAME=keep.example"},
	      {"SOURCE=ELSEWHERE", "501 5.5.4 Bad XFORWARD attribute value", "NAME=keep.example"},
	      {"PROTO=E-SMTP", "501 5.5.4 Bad XFORWARD attribute value", "NAME=keep.example"},
	      {"HELO=", "501 5.5.4 Bad XFORWARD attribute value", "NAME=keep.example"},
	      {"HELO=a+2", "501 5.5.4 Bad XFORWARD attribute value", "NAME=keep.example"},
	      {"HELO=a+G0", "501 5.5.4 Bad XFORWARD attribute value", "NAME=keep.example"},
	      {"HELO=a+0A", "501 5.5.4 Bad XFORWARD attribute value", "NAME=keep.example"},
	      {"HELO=a+00", "501 5.5.4 Bad XFORWARD attribute value", "NAME=keep.example"},
	      {"HELO=a=b", "501 5.5.4 Bad XFORWARD attribute value", "NAME=keep.example"},
	      {"HELO=\xc3\xa9", "501 5.5.4 Bad XFORWARD attribute value", "NAME=keep.example"},
	      {"NAME=new.example PORT=-1", "501 5.5.4 Bad XFORWARD attribute value",
	       "NAME=keep.example"});
}

/* encoded - prefix then n copies of the xtext enc, in out. */
static const char *
encoded(char *out, size_t size, const char *prefix, const char *enc, size_t n)
{
	size_t k = (size_t)snprintf(out, size, "%s", prefix);

	for (size_t i = 0; i < n && k < size; i++)
		k += (size_t)snprintf(out + k, size - k, "%s", enc);
	return out;
}

/* Values up to XFORWARD_VALUE_MAX; the whole canonical text up to XFORWARD_TEXT_MAX. */
static void
test_xforward_bounds(void)
{
	struct xforward xf = {0};
	char args[1200], *text;

	CHECK(xforward_apply(&xf, encoded(args, sizeof(args), "NAME=", "a", XFORWARD_VALUE_MAX)) ==
		      NULL,
	      "a value of XFORWARD_VALUE_MAX bytes");
	CHECK(xforward_apply(&xf, encoded(args, sizeof(args), "NAME=", "a",
					  XFORWARD_VALUE_MAX + 1)) != NULL,
	      "one byte more is refused");
	/* Encoded again, a space is 3 bytes of text: 255 of them 765. */
	CHECK(xforward_apply(&xf, encoded(args, sizeof(args), "HELO=", "+20", 255)) == NULL,
	      "HELO of 255 spaces");
	CHECK(xforward_apply(&xf, encoded(args, sizeof(args), "IDENT=", "+20", 255)) == NULL,
	      "IDENT of 255 spaces");
	text = xforward_text(&xf);
	CHECK(text && strlen(text) == 5 + 255 + 1 + 5 + 765 + 1 + 6 + 765, "text so far");
	free(text);
	CHECK(xforward_apply(&xf, encoded(args, sizeof(args), "SOURCE=LOCAL NAME=", "+3D", 255)) !=
		      NULL,
	      "a third such value would pass XFORWARD_TEXT_MAX");
	text = xforward_text(&xf);
	CHECK(text && strstr(text, "SOURCE=") == NULL && strncmp(text, "NAME=aaa", 8) == 0,
	      "refused whole: neither SOURCE nor NAME changed");
	free(text);
	xforward_clear(&xf);
	CHECK(xforward_text(&xf) == NULL, "cleared");
}

UNIT_SUITE(xforward, {"apply and canonical text", test_xforward_apply},
	   {"bounds", test_xforward_bounds});
