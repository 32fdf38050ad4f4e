/* msghdr - the few header fields the store records with every message. */
#include <ctype.h>
#include <gmime/gmime.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "msghdr.h"

/* clean_utf8 - a NUL-free, valid UTF-8 copy of at most MSGHDR_FIELD_MAX bytes (PostgreSQL text
 * refuses NUL and invalid UTF-8; raw 8-bit headers are read as Latin-1). */
static char *
clean_utf8(const char *s)
{
	size_t n = strlen(s);
	char *out;

	if (n > MSGHDR_FIELD_MAX) {
		n = MSGHDR_FIELD_MAX;
		/* Cut on a character boundary, not inside a UTF-8 sequence. */
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	if (g_utf8_validate(s, (gssize)n, NULL)) {
		out = xmalloc(n + 1);
		memcpy(out, s, n);
		out[n] = 0;
		return out;
	}
	/* Not UTF-8: read it as Latin-1, then bound the result again (Latin-1 can double). */
	gchar *conv = g_convert(s, (gssize)n, "UTF-8", "ISO-8859-1", NULL, NULL, NULL);
	size_t m = conv ? strlen(conv) : 0;
	if (m > MSGHDR_FIELD_MAX) {
		m = MSGHDR_FIELD_MAX;
		while (m > 0 && ((unsigned char)conv[m] & 0xc0) == 0x80)
			m--;
	}
	out = xmalloc(m + 1);
	if (m)
		memcpy(out, conv, m);
	out[m] = 0;
	g_free(conv);
	return out;
}

static void
msghdr_take(struct msghdr *h, const char *name, size_t nlen, const char *val)
{
	char **slot = NULL;

#define IS(n) (nlen == sizeof(n) - 1 && strncasecmp(name, n, nlen) == 0)
	if (IS("from"))
		slot = &h->from;
	else if (IS("to"))
		slot = &h->to;
	else if (IS("cc"))
		slot = &h->cc;
	else if (IS("subject"))
		slot = &h->subject;
	else if (IS("message-id"))
		slot = &h->message_id;
	else if (IS("date") && h->date_us == 0) {
		GDateTime *dt = g_mime_utils_header_decode_date(val);

		if (dt) {
			h->date_us = g_date_time_to_unix(dt) * 1000000 +
				     g_date_time_get_microsecond(dt);
			g_date_time_unref(dt);
		}
		return;
	}
#undef IS
	if (slot == NULL || *slot != NULL)
		return; /* first occurrence wins */
	while (isspace((unsigned char)*val))
		val++;
	if (slot == &h->subject || slot == &h->from || slot == &h->to || slot == &h->cc) {
		char *dec = g_mime_utils_header_decode_text(NULL, val);

		*slot = clean_utf8(dec ? dec : val);
		g_free(dec);
	} else {
		*slot = clean_utf8(val);
	}
}

void
msghdr_parse(struct msghdr *h, const uint8_t *p, size_t len)
{
	struct buf field = {0};
	size_t i = 0, nlen;
	int ended = 0;

	memset(h, 0, sizeof(*h));
	if (len > MSGHDR_SCAN_MAX)
		len = MSGHDR_SCAN_MAX;
	/* An mbox "From " line before the headers is not a header; skip it. */
	if (len > 5 && memcmp(p, "From ", 5) == 0)
		while (i < len && p[i++] != '\n')
			;
	while (i < len) {
		size_t start = i, colon = 0;

		if (p[i] == '\n' || (p[i] == '\r' && i + 1 < len && p[i + 1] == '\n')) {
			ended = 1;
			break;
		}
		buf_reset(&field);
		/* One field: its first line and every continuation line (RFC 5322 §2.2.3). */
		do {
			while (i < len && p[i] != '\n')
				i++;
			size_t end = i;
			if (end > start && p[end - 1] == '\r')
				end--;
			buf_append(&field, p + start, end - start);
			i++;
			start = i;
		} while (i < len && (p[i] == ' ' || p[i] == '\t'));
		for (nlen = 0; nlen < field.len && field.data[nlen] != ':'; nlen++)
			if (field.data[nlen] <= ' ' || field.data[nlen] >= 127)
				break;
		if (nlen == 0 || nlen >= field.len || field.data[nlen] != ':') {
			h->parse_error = 1;
			continue;
		}
		colon = nlen;
		for (size_t k = 0; k < field.len; k++)
			if (field.data[k] == 0)
				field.data[k] = ' ';
		msghdr_take(h, (const char *)field.data, nlen, (const char *)field.data + colon + 1);
	}
	if (!ended && i >= len && len == MSGHDR_SCAN_MAX)
		h->parse_error = 1;
	if (h->from == NULL && h->message_id == NULL && h->date_us == 0)
		h->parse_error = 1;
	buf_free(&field);
}

void
msghdr_free(struct msghdr *h)
{
	free(h->from);
	free(h->to);
	free(h->cc);
	free(h->subject);
	free(h->message_id);
	memset(h, 0, sizeof(*h));
}
