/* smtp_args - the grammar of SMTP command arguments, free of session state: reverse and
 * forward paths (RFC 5321 §4.1.2), ESMTP parameter lists, decimal numbers, the ORCPT
 * parameter's xtext and utf-8 address forms (RFC 3461, RFC 6533), and the base64 of SASL
 * responses (RFC 4954 §4). smtp_session applies them. */
#include <sodium.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "smtp_args.h"
#include "smtp_session.h"
#include "xforward.h"

/* smtp_word_eq - p[0..len) is word, ignoring case. */
int
smtp_word_eq(const char *p, size_t len, const char *word)
{
	return strlen(word) == len && strncasecmp(p, word, len) == 0;
}

char *
smtp_strndup(const char *p, size_t n)
{
	char *d = xmalloc(n + 1);

	memcpy(d, p, n);
	d[n] = '\0';
	return d;
}

/* smtp_parse_u64 - all of p[0..len) as a decimal number; 0 on overflow or anything else. */
int
smtp_parse_u64(const char *p, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 20)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		if (v > (UINT64_MAX - (uint64_t)(p[i] - '0')) / 10)
			return 0;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	*out = v;
	return 1;
}

/* smtp_parse_path - parse "<...>" at *pp (after "FROM:" or "TO:"): strip a source route
 * (RFC 5321 §4.1.1.3 "<@a,@b:u@d>" -> "u@d"), honour quoted local parts, and return the
 * mailbox (newly allocated) with *pp moved past the ">". NULL on a syntax error. */
char *
smtp_parse_path(const char **pp, int allow_null)
{
	const char *p = *pp, *start, *end;
	int quoted = 0;

	while (*p == ' ')
		p++; /* "MAIL FROM: <a@b>": not RFC 5321, but common and harmless */
	if (*p != '<')
		return NULL;
	start = p + 1;
	if (*start == '@') {
		const char *colon = strchr(start, ':');

		if (colon == NULL || memchr(start, '>', (size_t)(colon - start)))
			return NULL;
		start = colon + 1;
	}
	for (end = start; *end; end++) {
		unsigned char c = (unsigned char)*end;

		if (c < 0x20 || c == 0x7f)
			return NULL;
		if (quoted && c == '\\' && end[1]) {
			end++;
			continue;
		}
		if (c == '"')
			quoted = !quoted;
		else if (!quoted && (c == '>' || c == ' ' || c == '<'))
			break;
	}
	if (*end != '>' || (size_t)(end + 1 - p) > SMTP_PATH_MAX)
		return NULL;
	if (end == start && !allow_null)
		return NULL;
	if (end > start && (*start == '@' || end[-1] == '@'))
		return NULL;
	if (end[1] != '\0' && end[1] != ' ')
		return NULL;
	*pp = end + 1;
	return smtp_strndup(start, (size_t)(end - start));
}

/* smtp_next_param - the next "KEY[=VALUE]" of a parameter list: key, klen and val, vlen
 * (NULL when there is no "="). Returns 0 at the end. */
int
smtp_next_param(const char **pp, const char **key, size_t *klen, const char **val, size_t *vlen)
{
	const char *p = *pp, *e, *eq;

	while (*p == ' ')
		p++;
	if (*p == '\0')
		return 0;
	e = strchr(p, ' ');
	if (e == NULL)
		e = p + strlen(p);
	eq = memchr(p, '=', (size_t)(e - p));
	*key = p;
	*klen = eq ? (size_t)(eq - p) : (size_t)(e - p);
	*val = eq ? eq + 1 : NULL;
	*vlen = eq ? (size_t)(e - eq - 1) : 0;
	*pp = e;
	return 1;
}

/* smtp_utf8_put - append code point cp as UTF-8; 0 if it is not a scalar value. */
static int
smtp_utf8_put(struct buf *b, unsigned long cp)
{
	uint8_t u[4];
	size_t n;

	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	if (cp < 0x80) {
		u[0] = (uint8_t)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (uint8_t)(0xc0 | (cp >> 6));
		u[1] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (uint8_t)(0xe0 | (cp >> 12));
		u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (uint8_t)(0xf0 | (cp >> 18));
		u[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 4;
	}
	buf_append(b, u, n);
	return 1;
}

/* smtp_decode_orcpt - ORCPT=addr-type;value (RFC 3461 §4.2) to a newly allocated string:
 * "rfc822" values are xtext ("+2B" -> "+"), "utf-8" values (RFC 6533) carry "\x{HEX}" escapes;
 * other types are kept as sent. NULL when the value is malformed or would contain a NUL. */
char *
smtp_decode_orcpt(const char *v, size_t len)
{
	const char *semi = memchr(v, ';', len);
	struct buf b = {0};
	size_t tlen, i;
	int xtext, utf8;

	if (semi == NULL || semi == v || (size_t)(semi - v) + 1 == len)
		return NULL;
	tlen = (size_t)(semi - v);
	xtext = smtp_word_eq(v, tlen, "rfc822");
	utf8 = smtp_word_eq(v, tlen, "utf-8");
	if (!xtext && !utf8)
		return smtp_strndup(v, len);
	for (i = tlen + 1; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (xtext && c == '+') {
			int x = xtext_hex_byte(v, len, i);

			if (x <= 0) /* malformed, or a NUL */
				goto bad;
			c = (unsigned char)x;
			buf_append(&b, &c, 1);
			i += 2;
		} else if (utf8 && c == '\\' && i + 2 < len && v[i + 1] == 'x' && v[i + 2] == '{') {
			unsigned long cp = 0;
			size_t j = i + 3, digits = 0;

			for (; j < len && v[j] != '}' && digits < 6; j++, digits++) {
				int h = hex_value(v[j]);

				if (h < 0)
					goto bad;
				cp = cp << 4 | (unsigned long)h;
			}
			if (j >= len || v[j] != '}' || digits == 0 || !smtp_utf8_put(&b, cp))
				goto bad;
			i = j;
		} else {
			buf_append(&b, &c, 1);
		}
	}
	buf_append(&b, "", 0);
	return (char *)b.data;
bad:
	buf_free(&b);
	return NULL;
}

/* smtp_decode_sasl - a SASL response (RFC 4954 §4: base64, "=" for an empty one) as newly
 * allocated bytes, *len of them, NUL-terminated past *len; NULL when it is not base64. The
 * bytes may be a password: the caller wipes them (sodium_memzero, *len + 1) before free. */
uint8_t *
smtp_decode_sasl(const char *b64, size_t *len)
{
	size_t blen = strcmp(b64, "=") == 0 ? 0 : strlen(b64);
	size_t dcap = blen / 4 * 3 + 3;
	uint8_t *d = xmalloc(dcap);

	*len = 0;
	if (sodium_base642bin(d, dcap - 1, b64, blen, NULL, len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0) {
		sodium_memzero(d, dcap); /* a part may have been decoded */
		free(d);
		*len = 0;
		return NULL;
	}
	d[*len] = '\0';
	return d;
}
