/* pgarray - PostgreSQL array literals built in memory. */
#include <stdio.h>
#include <string.h>

#include "pgarray.h"

static void
pgarr_sep(struct pgarr *a)
{
	buf_append(&a->b, a->n ? "," : "{", 1);
	a->n++;
}

void
pgarr_text(struct pgarr *a, const char *s)
{
	pgarr_sep(a);
	if (s == NULL) {
		buf_append_str(&a->b, "NULL");
		return;
	}
	/* Array element syntax: double-quoted, with " and \ escaped by a backslash. */
	buf_append(&a->b, "\"", 1);
	/* Runs without " or \ go in with one copy each: a body or a tsvector literal is long. */
	for (const char *p = s;;) {
		size_t n = strcspn(p, "\"\\");

		buf_append(&a->b, p, n);
		p += n;
		if (*p == 0)
			break;
		buf_append(&a->b, "\\", 1);
		buf_append(&a->b, p++, 1);
	}
	buf_append(&a->b, "\"", 1);
}

void
pgarr_bytea(struct pgarr *a, const uint8_t *p, size_t n)
{
	char hex[3];

	pgarr_sep(a);
	/* "\\x..." inside an array element is the bytea hex input \x... */
	buf_append_str(&a->b, "\"\\\\x");
	for (size_t i = 0; i < n; i++) {
		snprintf(hex, sizeof(hex), "%02x", p[i]);
		buf_append(&a->b, hex, 2);
	}
	buf_append(&a->b, "\"", 1);
}

void
pgarr_int64(struct pgarr *a, int64_t v)
{
	pgarr_sep(a);
	buf_appendf(&a->b, "%lld", (long long)v);
}

const char *
pgarr_str(struct pgarr *a)
{
	if (a->n == 0)
		return "{}";
	buf_append(&a->b, "}", 1);
	a->b.len--; /* keep the literal open for further adds */
	return (const char *)a->b.data;
}

void
pgarr_reset(struct pgarr *a)
{
	buf_reset(&a->b);
	a->n = 0;
}

void
pgarr_free(struct pgarr *a)
{
	buf_free(&a->b);
	a->n = 0;
}
