/* index_exc - the bounded list of what a message's index lacks (see index_exc.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "index_exc.h"

static const char *const reason_names[INDEX_EXC_NREASONS] = {
	[INDEX_EXC_ENCRYPTED] = "encrypted",
	[INDEX_EXC_UNSUPPORTED_TYPE] = "unsupported_type",
	[INDEX_EXC_TRUNCATED] = "truncated",
	[INDEX_EXC_DECODE_ERROR] = "decode_error",
	[INDEX_EXC_UNPARSED] = "unparsed",
};

const char *
index_exc_reason_name(enum index_exc_reason r)
{
	return (unsigned)r < INDEX_EXC_NREASONS ? reason_names[r] : "?";
}

/* ascii_dup - an owned copy of s (at most max bytes) with every byte that is not printable
 * ASCII made '?'; NULL for NULL. Content types and the like are ASCII tokens: anything else
 * in them is noise, and the column must stay valid UTF-8. */
static char *
ascii_dup(const char *s, size_t max)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = xstrdup(s);
	if (strlen(d) > max)
		d[max] = 0;
	for (char *q = d; *q; q++)
		if (*q < 0x20 || *q > 0x7e)
			*q = '?';
	return d;
}

void
index_exc_add(struct index_exc_list *l, enum index_exc_reason r, const char *part,
	      const char *filename, const char *type, const char *fmt, ...)
{
	struct index_exc *e;
	va_list ap;

	if (l->n == INDEX_EXC_MAX) {
		l->more = 1;
		return;
	}
	if (l->n == 0)
		l->v = xcalloc(INDEX_EXC_MAX, sizeof(*l->v));
	e = &l->v[l->n++];
	e->reason = r;
	snprintf(e->part, sizeof(e->part), "%s", part ? part : "");
	e->filename = filename ? xstrdup(filename) : NULL; /* the caller's: already clean UTF-8 */
	e->content_type = ascii_dup(type, INDEX_EXC_TYPE_MAX);
	va_start(ap, fmt);
	vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
	va_end(ap);
	for (char *q = e->detail; *q; q++)
		if (*q < 0x20 || *q > 0x7e)
			*q = '?';
}

int
index_exc_has(const struct index_exc_list *l, enum index_exc_reason r)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].reason == r)
			return 1;
	return 0;
}

void
index_exc_list_free(struct index_exc_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].filename);
		free(l->v[i].content_type);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}
