/* test_pgarray - common/pgarray.{c,h}: the array literals PostgreSQL's array_in reads, checked
 * two ways: against the exact expected text, and by decoding the literal here with the
 * element rules of the PostgreSQL manual (8.15.6, "Array Input and Output Syntax") back to the
 * values that went in. */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pgarray.h"
#include "unit.h"

#define MAX_ELEMS 8
#define ELEM_MAX 256

/* ---- an independent decoder of one-dimensional array literals ---- */

struct elem {
	int is_null;
	char text[ELEM_MAX];
	size_t len;
};

/* decode - split "{...}" into elements: double-quoted elements keep every character, with
 * backslash escaping the next one; unquoted ones are trimmed and NULL (any case) is SQL NULL.
 * Returns the element count, or -1 when the text is not a well-formed literal. */
static int
decode(const char *lit, struct elem *out, int max)
{
	const char *p = lit;
	int n = 0;

	if (*p++ != '{')
		return -1;
	if (*p == '}')
		return p[1] == 0 ? 0 : -1;
	for (;;) {
		struct elem *e = &out[n];

		if (n == max)
			return -1;
		memset(e, 0, sizeof(*e));
		while (*p == ' ')
			p++;
		if (*p == '"') {
			for (p++; *p != '"'; p++) {
				if (*p == 0)
					return -1;
				if (*p == '\\' && *++p == 0)
					return -1;
				if (e->len + 1 >= ELEM_MAX)
					return -1;
				e->text[e->len++] = *p;
			}
			p++;
		} else {
			while (*p && *p != ',' && *p != '}') {
				if (*p == '"' || *p == '{' || *p == '\\' || e->len + 1 >= ELEM_MAX)
					return -1; /* these must be quoted (or escaped) */
				e->text[e->len++] = *p++;
			}
			while (e->len > 0 && e->text[e->len - 1] == ' ')
				e->len--;
			if (e->len == 0)
				return -1; /* an unquoted empty element is an error */
			e->text[e->len] = 0;
			e->is_null = strcasecmp(e->text, "NULL") == 0;
		}
		n++;
		while (*p == ' ')
			p++;
		if (*p == '}')
			return p[1] == 0 ? n : -1;
		if (*p++ != ',')
			return -1;
	}
}

/* bytea_hex - the bytes of a bytea "\x..." input string; -1 if it is not one. */
static int
bytea_hex(const struct elem *e, uint8_t *out, size_t *n)
{
	if (e->is_null || e->len < 2 || e->text[0] != '\\' || e->text[1] != 'x' || e->len % 2)
		return -1;
	*n = 0;
	for (size_t i = 2; i < e->len; i += 2) {
		unsigned v;
		char pair[3] = {e->text[i], e->text[i + 1], 0};

		if (strspn(pair, "0123456789abcdefABCDEF") != 2 || sscanf(pair, "%2x", &v) != 1)
			return -1;
		out[(*n)++] = (uint8_t)v;
	}
	return 0;
}

/* ---- table of arrays ---- */

enum op_kind { OP_END, OP_TEXT, OP_NULL, OP_BYTEA, OP_INT };

struct op {
	enum op_kind kind;
	const char *text;  /* OP_TEXT */
	const char *bytes; /* OP_BYTEA: blen bytes */
	size_t blen;
	int64_t v; /* OP_INT */
};

#define E_TEXT(s)                                                                                  \
	{                                                                                          \
		OP_TEXT, (s), NULL, 0, 0                                                           \
	}
#define E_NULL                                                                                     \
	{                                                                                          \
		OP_NULL, NULL, NULL, 0, 0                                                          \
	}
#define E_BYTEA(s)                                                                                 \
	{                                                                                          \
		OP_BYTEA, NULL, (s), sizeof(s) - 1, 0                                              \
	}
#define E_INT(x)                                                                                   \
	{                                                                                          \
		OP_INT, NULL, NULL, 0, (x)                                                         \
	}

struct array_case {
	const char *label;
	struct op ops[MAX_ELEMS];
	const char *want;
};

static const struct array_case cases[] = {
    {"empty array", {{0}}, "{}"},
    {"one word", {E_TEXT("alice")}, "{\"alice\"}"},
    {"empty string", {E_TEXT("")}, "{\"\"}"},
    {"SQL NULL", {E_NULL}, "{NULL}"},
    {"the text NULL is not NULL",
     {E_TEXT("NULL"), E_NULL, E_TEXT("null")},
     "{\"NULL\",NULL,\"null\"}"},
    {"double quotes", {E_TEXT("say \"hi\"")}, "{\"say \\\"hi\\\"\"}"},
    {"backslashes", {E_TEXT("a\\b\\\\c\\")}, "{\"a\\\\b\\\\\\\\c\\\\\"}"},
    {"commas and braces",
     {E_TEXT("a,b"), E_TEXT("{c}"), E_TEXT("}"), E_TEXT("{")},
     "{\"a,b\",\"{c}\",\"}\",\"{\"}"},
    {"spaces kept",
     {E_TEXT(" lead"), E_TEXT("trail "), E_TEXT(" ")},
     "{\" lead\",\"trail \",\" \"}"},
    {"newline, tab, UTF-8",
     {E_TEXT("line1\nline2\tx"), E_TEXT("K\xc3\xb6ln \xe2\x82\xac")},
     "{\"line1\nline2\tx\",\"K\xc3\xb6ln \xe2\x82\xac\"}"},
    {"quote and backslash together",
     {E_TEXT("\\\""), E_TEXT("\"\\")},
     "{\"\\\\\\\"\",\"\\\"\\\\\"}"},
    {"mixed with NULLs",
     {E_NULL, E_TEXT("x"), E_NULL, E_TEXT(""), E_NULL},
     "{NULL,\"x\",NULL,\"\",NULL}"},
    {"bytea", {E_BYTEA("\x00\xff\x10\xab")}, "{\"\\\\x00ff10ab\"}"},
    {"bytea empty", {E_BYTEA("")}, "{\"\\\\x\"}"},
    {"bytea several",
     {E_BYTEA("\x01"), E_BYTEA("\xde\xad\xbe\xef")},
     "{\"\\\\x01\",\"\\\\xdeadbeef\"}"},
    {"int64", {E_INT(0), E_INT(42), E_INT(-1), E_INT(-9000000000LL)}, "{0,42,-1,-9000000000}"},
    {"int64 extremes",
     {E_INT(INT64_MIN), E_INT(INT64_MAX)},
     "{-9223372036854775808,9223372036854775807}"},
};

static void
apply(struct pgarr *a, const struct op *o)
{
	switch (o->kind) {
	case OP_TEXT:
		pgarr_text(a, o->text);
		break;
	case OP_NULL:
		pgarr_text(a, NULL);
		break;
	case OP_BYTEA:
		pgarr_bytea(a, (const uint8_t *)o->bytes, o->blen);
		break;
	case OP_INT:
		pgarr_int64(a, o->v);
		break;
	case OP_END:
		break;
	}
}

static size_t
n_ops(const struct array_case *c)
{
	size_t n = 0;

	while (n < MAX_ELEMS && c->ops[n].kind != OP_END)
		n++;
	return n;
}

/* check_decodes - the literal decodes back to exactly the values of ops[0..n). */
static void
check_decodes(const char *lit, const struct op *ops, size_t n, const char *label)
{
	struct elem e[MAX_ELEMS];
	int got = decode(lit, e, MAX_ELEMS);

	CHECK(got == (int)n, label);
	for (int i = 0; i < got && i < (int)n; i++) {
		const struct op *o = &ops[i];
		uint8_t bytes[ELEM_MAX];
		size_t blen = 0;
		char num[32];

		switch (o->kind) {
		case OP_TEXT:
			CHECK(e[i].len == strlen(o->text) &&
				  memcmp(e[i].text, o->text, e[i].len) == 0,
			      label);
			/* A quoted element is never NULL, even when it reads NULL. */
			CHECK(!e[i].is_null, label);
			break;
		case OP_NULL:
			CHECK(e[i].is_null, label);
			break;
		case OP_BYTEA:
			CHECK(bytea_hex(&e[i], bytes, &blen) == 0, label);
			CHECK(blen == o->blen && memcmp(bytes, o->bytes, blen) == 0, label);
			break;
		case OP_INT:
			snprintf(num, sizeof(num), "%lld", (long long)o->v);
			CHECK(!e[i].is_null && strcmp(e[i].text, num) == 0, label);
			CHECK(strtoll(e[i].text, NULL, 10) == o->v, label);
			break;
		case OP_END:
			break;
		}
	}
}

static void
test_literals(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct array_case *c = &cases[i];
		struct pgarr a = {0};
		size_t n = n_ops(c);
		const char *lit;

		for (size_t k = 0; k < n; k++)
			apply(&a, &c->ops[k]);
		lit = pgarr_str(&a);
		CHECK(lit != NULL && strcmp(lit, c->want) == 0, c->label);
		if (lit && strcmp(lit, c->want) != 0)
			fprintf(stderr, "\n  [%s] got %s want %s\n", c->label, lit, c->want);
		check_decodes(lit, c->ops, n, c->label);
		CHECK(a.n == n, c->label);
		pgarr_free(&a);
	}
}

/* pgarr_str between adds: each call gives the literal so far, and later adds continue it. */
static void
test_str_then_more(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct array_case *c = &cases[i];
		struct pgarr a = {0}, ref = {0};
		size_t n = n_ops(c);

		for (size_t k = 0; k < n; k++) {
			char label[128];
			const char *lit, *again;

			snprintf(label, sizeof(label), "%s, after %zu", c->label, k + 1);
			apply(&a, &c->ops[k]);
			apply(&ref, &c->ops[k]);
			lit = pgarr_str(&a);
			check_decodes(lit, c->ops, k + 1, label);
			again = pgarr_str(&a); /* twice in a row: the same, not "}}" */
			CHECK(strcmp(again, lit) == 0, label);
			CHECK(strcmp(again, pgarr_str(&ref)) == 0, label);
		}
		CHECK(strcmp(pgarr_str(&a), c->want) == 0, c->label);
		pgarr_free(&a);
		pgarr_free(&ref);
	}
}

/* Interleaving every kind with pgarr_str after each add, then reset and reuse. */
static void
test_interleaved_and_reset(void)
{
	struct pgarr a = {0};
	const char *lit;

	CU_ASSERT_STRING_EQUAL(pgarr_str(&a), "{}");
	pgarr_int64(&a, -7);
	CU_ASSERT_STRING_EQUAL(pgarr_str(&a), "{-7}");
	pgarr_text(&a, "a\"b");
	CU_ASSERT_STRING_EQUAL(pgarr_str(&a), "{-7,\"a\\\"b\"}");
	pgarr_bytea(&a, (const uint8_t *)"\x0f", 1);
	CU_ASSERT_STRING_EQUAL(pgarr_str(&a), "{-7,\"a\\\"b\",\"\\\\x0f\"}");
	pgarr_text(&a, NULL);
	lit = pgarr_str(&a);
	CU_ASSERT_STRING_EQUAL(lit, "{-7,\"a\\\"b\",\"\\\\x0f\",NULL}");
	CU_ASSERT_EQUAL(a.n, 4);

	pgarr_reset(&a);
	CU_ASSERT_EQUAL(a.n, 0);
	CU_ASSERT_STRING_EQUAL(pgarr_str(&a), "{}");
	pgarr_text(&a, "");
	CU_ASSERT_STRING_EQUAL(pgarr_str(&a), "{\"\"}");
	pgarr_free(&a);
	CU_ASSERT_EQUAL(a.n, 0);
	CU_ASSERT_STRING_EQUAL(pgarr_str(&a), "{}");
	pgarr_free(&a);
	pgarr_free(&a); /* freeing twice is harmless */
}

/* A batch-sized array: every element survives, in order. */
static void
test_large(void)
{
	struct pgarr a = {0};
	struct buf want = {0};
	const char *lit;

	buf_append_str(&want, "{");
	for (int i = 0; i < 5000; i++) {
		char s[64];

		snprintf(s, sizeof(s), "<%d@example.com>, \"x\\%d\"", i, i);
		pgarr_text(&a, s);
		buf_appendf(&want, "%s\"<%d@example.com>, \\\"x\\\\%d\\\"\"", i ? "," : "", i, i);
	}
	buf_append_str(&want, "}");
	lit = pgarr_str(&a);
	CU_ASSERT_EQUAL(a.n, 5000);
	CU_ASSERT_STRING_EQUAL(lit, (const char *)want.data);
	buf_free(&want);
	pgarr_free(&a);
}

UNIT_SUITE(pgarray,
	   {"literals: text, quoting, NULL, bytea, int64 (exact and decoded)", test_literals},
	   {"pgarr_str between adds continues correctly", test_str_then_more},
	   {"interleaved kinds, reset, free", test_interleaved_and_reset},
	   {"5000 elements", test_large});
