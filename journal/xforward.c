/* xforward - Postfix's XFORWARD attributes: checking, applying and the canonical text. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "xforward.h"

static const char *const xforward_names[XF_N] = {
	[XF_NAME] = "NAME", [XF_ADDR] = "ADDR",	  [XF_PORT] = "PORT",	  [XF_PROTO] = "PROTO",
	[XF_HELO] = "HELO", [XF_IDENT] = "IDENT", [XF_SOURCE] = "SOURCE",
};

int
xtext_hex_byte(const char *v, size_t len, size_t i)
{
	int hi = i + 2 < len ? hex_value(v[i + 1]) : -1;
	int lo = i + 2 < len ? hex_value(v[i + 2]) : -1;

	return v[i] == '+' && hi >= 0 && lo >= 0 ? hi << 4 | lo : -1;
}

/* xtext_decode - the xtext v[0..len) decoded into out (XFORWARD_VALUE_MAX + 1 bytes); 0 when
 * it is malformed, too long, or decodes to anything but printable ASCII. */
static int
xtext_decode(const char *v, size_t len, char *out)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)v[i];

		if (c == '+') {
			if ((c = xtext_hex_byte(v, len, i)) < 0)
				return 0;
			i += 2;
		} else if (c < 33 || c > 126 || c == '=') {
			return 0;
		}
		if (c < 32 || c > 126 || n == XFORWARD_VALUE_MAX)
			return 0;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return 1;
}

/* unavailable - Postfix's "no such information" (XFORWARD_README): forgets the attribute. */
static int
unavailable(const char *v)
{
	return strcmp(v, "[UNAVAILABLE]") == 0 || strcmp(v, "[TEMPUNAVAIL]") == 0;
}

static int
all_chars(const char *s, int (*is)(int))
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!is((unsigned char)*s))
			return 0;
	return 1;
}

/* value_ok - the attribute-specific check of a decoded value. */
static int
value_ok(enum xforward_attr a, const char *v)
{
	unsigned char sa[sizeof(struct in6_addr)];

	switch (a) {
	case XF_ADDR:
		if (strncasecmp(v, "IPv6:", 5) == 0)
			return inet_pton(AF_INET6, v + 5, sa) == 1;
		return inet_pton(AF_INET, v, sa) == 1;
	case XF_PORT:
		return all_chars(v, isdigit) && strlen(v) <= 5 && atoi(v) <= 65535;
	case XF_PROTO:
		return all_chars(v, isalnum);
	case XF_SOURCE:
		return strcasecmp(v, "LOCAL") == 0 || strcasecmp(v, "REMOTE") == 0;
	default:
		return *v != '\0';
	}
}

static enum xforward_attr
attr_of(const char *name, size_t len)
{
	for (int a = 0; a < XF_N; a++)
		if (strlen(xforward_names[a]) == len && strncasecmp(name, xforward_names[a], len) == 0)
			return (enum xforward_attr)a;
	return XF_N;
}

const char *
xforward_apply(struct xforward *xf, const char *args)
{
	char *next[XF_N] = {0};
	int set[XF_N] = {0};
	char v[XFORWARD_VALUE_MAX + 1];
	const char *p = args, *why = NULL;

	if (*p == '\0')
		return "501 5.5.4 Syntax: XFORWARD attribute=value...";
	while (*p && why == NULL) {
		size_t len = strcspn(p, " ");
		const char *eq = memchr(p, '=', len);
		enum xforward_attr a = eq ? attr_of(p, (size_t)(eq - p)) : XF_N;

		if (a == XF_N)
			why = "501 5.5.4 Bad XFORWARD attribute name";
		else if (!xtext_decode(eq + 1, len - (size_t)(eq + 1 - p), v))
			why = "501 5.5.4 Bad XFORWARD attribute value";
		else if (!unavailable(v) && !value_ok(a, v))
			why = "501 5.5.4 Bad XFORWARD attribute value";
		else {
			free(next[a]);
			next[a] = unavailable(v) ? NULL : xstrdup(v);
			set[a] = 1;
		}
		p += len;
		while (*p == ' ')
			p++;
	}
	if (why == NULL) {
		/* The canonical text must fit the receipt's field whole (STORE_FIELD_MAX). */
		struct xforward merged = *xf;
		char *text;

		for (int a = 0; a < XF_N; a++)
			if (set[a])
				merged.value[a] = next[a];
		text = xforward_text(&merged);
		if (text && strlen(text) > XFORWARD_TEXT_MAX)
			why = "501 5.5.4 XFORWARD attributes too long";
		free(text);
	}
	for (int a = 0; a < XF_N; a++) {
		if (why == NULL && set[a]) {
			free(xf->value[a]);
			xf->value[a] = next[a];
		} else {
			free(next[a]);
		}
	}
	return why;
}

char *
xforward_text(const struct xforward *xf)
{
	struct buf b = {0};

	for (int a = 0; a < XF_N; a++) {
		if (xf->value[a] == NULL)
			continue;
		buf_appendf(&b, "%s%s=", b.len ? " " : "", xforward_names[a]);
		for (const char *c = xf->value[a]; *c; c++) {
			if (*c == '+' || *c == '=' || *c == ' ')
				buf_appendf(&b, "+%02X", (unsigned char)*c);
			else
				buf_append(&b, c, 1);
		}
	}
	if (b.len == 0)
		return NULL;
	buf_append(&b, "", 0); /* NUL-terminated */
	return (char *)b.data;
}

void
xforward_clear(struct xforward *xf)
{
	for (int a = 0; a < XF_N; a++) {
		free(xf->value[a]);
		xf->value[a] = NULL;
	}
}
