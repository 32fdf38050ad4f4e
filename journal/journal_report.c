/* journal_report - recognise a journal report and give back the true envelope and the original.
 *
 * How the original's exact bytes are found: by scanning the raw bytes for the top-level boundary
 * delimiter lines ourselves (RFC 2046 §5.1.1), not through GMimeParser. GMime parses a
 * message/rfc822 part into a GMimeMessage and keeps no byte range for it, so the only way back to
 * bytes through GMime is re-serialising, which is not byte-exact. The scan is one linear pass
 * that looks only at line starts; it matches a delimiter line strictly ("--" boundary, optional
 * "--", then only SP/HT padding) and gives the line break before it to the delimiter. GMime is
 * used where it is exact and saves code: parsing Content-Type values (quoting, RFC 2231), the
 * base64/quoted-printable decoders, and charset conversion of the report text.
 *
 * The report text grammar (REQUIREMENTS 1a, technet bb738122) is read leniently: field names
 * ignore case ("Message-Id" and "Message-ID"), folded lines (leading SP/HT) continue the line
 * before, and a recipient value is a comma list where "Expanded: x" and "Forwarded: x" items
 * annotate the address before them. That one reader covers the Exchange 2007+ form (one
 * recipient per line) and the Exchange 2003 "Recipients: a, b, c" form. */
#include <gmime/gmime.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "journal_report.h"

/* The header field names that mark a report (REQUIREMENTS 1a, detection order). */
static const char *const exchange_markers[] = {
	"X-MS-Journal-Report",
	"X-MS-Exchange-Organization-Journal-Report", /* before it leaves the transport service */
};
#define WM_MARKER "X-WM-Journal-Report" /* mailpiler accepts it with the value "journal" */
#define EX2003_VALUE "exjournalreport"	/* Content-Identifier (or the misspelt Content-Identifer) */

#define BOUNDARY_MAX 200 /* RFC 2046 allows 70; some generators write more */

/* eol - offset of the LF that ends the line starting at pos, or end when there is none. */
static size_t
eol(const uint8_t *p, size_t pos, size_t end)
{
	const uint8_t *nl = memchr(p + pos, '\n', end - pos);

	return nl ? (size_t)(nl - p) : end;
}

static int
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

/* dup_range - a NUL-terminated copy of n bytes, without leading and trailing white space. */
static char *
dup_range(const char *s, size_t n)
{
	char *d;

	while (n > 0 && (is_wsp(*s) || *s == '\r' || *s == '\n'))
		s++, n--;
	while (n > 0 && (is_wsp(s[n - 1]) || s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	d = xmalloc(n + 1);
	memcpy(d, s, n);
	d[n] = 0;
	return d;
}

/* set_detail - replace r->detail with a copy of what. */
static void
set_detail(struct journal_report *r, const char *what)
{
	free(r->detail);
	r->detail = xstrdup(what);
}

/* fail - mark r as a report that could not be read. */
static void
fail(struct journal_report *r, const char *what)
{
	r->parse_error = 1;
	set_detail(r, what);
}

typedef void (*field_fn)(void *ctx, const char *name, const char *value);

/* emit - hand one collected field to fn, value trimmed. */
static void
emit(field_fn fn, void *ctx, struct buf *name, struct buf *val)
{
	char *v = dup_range(val->len ? (const char *)val->data : "", val->len);

	fn(ctx, name->len ? (const char *)name->data : "", v);
	free(v);
	buf_reset(name);
	buf_reset(val);
}

/* header_scan - walk the header block starting at off, reading at most JOURNAL_HEADER_MAX bytes
 * and never past end, and call fn once per field with its name and its unfolded, trimmed value
 * (RFC 5322 §2.2.3: unfolding removes the line breaks). Lines without a colon are skipped.
 * *body_off is the first byte after the empty line that ends the block. Returns 1 when that
 * empty line was found, 0 when the block ran to end or past the limit (*body_off is then end). */
static int
header_scan(const uint8_t *p, size_t off, size_t end, field_fn fn, void *ctx, size_t *body_off)
{
	size_t lim = end - off > JOURNAL_HEADER_MAX ? off + JOURNAL_HEADER_MAX : end;
	struct buf name = {0}, val = {0};
	size_t pos = off;
	int have = 0, found = 0;

	*body_off = end;
	while (pos < lim) {
		size_t le = eol(p, pos, lim), ce = le;
		const uint8_t *colon;

		if (le == lim && lim < end)
			break; /* a line cut by the limit: the block is too long */
		if (ce > pos && p[ce - 1] == '\r')
			ce--;
		if (ce == pos) {
			found = 1;
			*body_off = le < end ? le + 1 : end;
			break;
		}
		if (is_wsp(p[pos])) {
			if (have)
				buf_append(&val, p + pos, ce - pos);
		} else {
			if (have)
				emit(fn, ctx, &name, &val);
			have = 0;
			colon = memchr(p + pos, ':', ce - pos);
			if (colon != NULL) {
				size_t nlen = (size_t)(colon - (p + pos));

				while (nlen > 0 && is_wsp(p[pos + nlen - 1]))
					nlen--;
				buf_append(&name, p + pos, nlen);
				buf_append(&val, colon + 1, ce - (size_t)(colon + 1 - p));
				have = 1;
			}
		}
		pos = le < lim ? le + 1 : lim;
	}
	if (have)
		emit(fn, ctx, &name, &val);
	buf_free(&name);
	buf_free(&val);
	return found;
}

/* ctype_parse - the lowercased "type/subtype" of a Content-Type value (newly allocated), and its
 * boundary and charset parameters when asked (newly allocated, NULL when absent; the caller
 * frees all three). A NULL value gives "text/plain" (RFC 2045 §5.2). GMime: the
 * GMimeContentType is created and unreffed here, and its strings are copied; nothing escapes. */
static char *
ctype_parse(const char *value, char **boundary, char **charset)
{
	GMimeContentType *ct;
	const char *v;
	char *mt, *low, *out;

	if (boundary)
		*boundary = NULL;
	if (charset)
		*charset = NULL;
	if (value == NULL)
		return xstrdup("text/plain");
	ct = g_mime_content_type_parse(NULL, value);
	if (ct == NULL)
		return xstrdup("application/octet-stream");
	mt = g_mime_content_type_get_mime_type(ct); /* g_free */
	low = g_ascii_strdown(mt ? mt : "application/octet-stream", -1);
	out = xstrdup(low);
	g_free(low);
	g_free(mt);
	if (boundary && (v = g_mime_content_type_get_parameter(ct, "boundary")) != NULL)
		*boundary = xstrdup(v);
	if (charset && (v = g_mime_content_type_get_parameter(ct, "charset")) != NULL)
		*charset = xstrdup(v);
	g_object_unref(ct);
	return out;
}

enum cte { CTE_IDENTITY, CTE_BASE64, CTE_QP, CTE_UNKNOWN };

/* cte_parse - RFC 2045 §6.1 mechanism; absent means 7bit. */
static enum cte
cte_parse(const char *v)
{
	if (v == NULL || *v == 0 || !strcasecmp(v, "7bit") || !strcasecmp(v, "8bit") ||
	    !strcasecmp(v, "binary"))
		return CTE_IDENTITY;
	if (!strcasecmp(v, "base64"))
		return CTE_BASE64;
	if (!strcasecmp(v, "quoted-printable"))
		return CTE_QP;
	return CTE_UNKNOWN;
}

/* cte_decode - append the decoded form of n bytes to out (CTE_BASE64 or CTE_QP only). GMime's
 * stateful decoder is used on a stack state; there is no object to unref. */
static void
cte_decode(struct buf *out, const uint8_t *in, size_t n, enum cte cte)
{
	GMimeEncoding st;
	size_t k;

	g_mime_encoding_init_decode(&st, cte == CTE_BASE64
						 ? GMIME_CONTENT_ENCODING_BASE64
						 : GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	buf_reserve(out, g_mime_encoding_outlen(&st, n) + 16);
	k = g_mime_encoding_flush(&st, (const char *)in, n, (char *)out->data + out->len);
	out->len += k;
	out->data[out->len] = 0;
}

/* One part's bytes (headers, separator, body), end excluded: end is where its delimiter begins. */
struct part {
	size_t start, end;
};

/* is_delim - whether the line [ls, ce) is a delimiter line for boundary b: "--" b, then "--"
 * for the close delimiter (*close set), then only transport padding (RFC 2046 §5.1.1). */
static int
is_delim(const uint8_t *p, size_t ls, size_t ce, const char *b, size_t blen, int *close)
{
	size_t i = ls + 2 + blen;

	if (ce - ls < 2 + blen || p[ls] != '-' || p[ls + 1] != '-' || memcmp(p + ls + 2, b, blen))
		return 0;
	*close = 0;
	if (ce - i >= 2 && p[i] == '-' && p[i + 1] == '-') {
		*close = 1;
		i += 2;
	}
	for (; i < ce; i++)
		if (!is_wsp(p[i]))
			return 0;
	return 1;
}

/* mime_split - the top-level parts of the multipart body [body, end) for boundary b, at most
 * max of them. A part ends where its delimiter begins, and the delimiter begins with the line
 * break (CRLF or LF) before "--b": RFC 2046 §5.1.1 makes that break part of the delimiter.
 * Sets *closed when the close delimiter was seen and *too_many when a part past max began. */
static size_t
mime_split(const uint8_t *p, size_t body, size_t end, const char *b, struct part *parts,
	   size_t max, int *closed, int *too_many)
{
	size_t blen = strlen(b), pos = body, n = 0;
	int open = 0, close;

	*closed = 0;
	*too_many = 0;
	while (pos < end) {
		size_t le = eol(p, pos, end), ce = le, next = le < end ? le + 1 : end;

		if (ce > pos && p[ce - 1] == '\r')
			ce--;
		if (p[pos] == '-' && is_delim(p, pos, ce, b, blen, &close)) {
			size_t dstart = pos;

			if (pos > body) {
				dstart = pos - 1; /* the LF */
				if (dstart > body && p[dstart - 1] == '\r')
					dstart--;
			}
			if (open) {
				parts[n - 1].end =
					dstart < parts[n - 1].start ? parts[n - 1].start : dstart;
				open = 0;
			}
			if (close) {
				*closed = 1;
				break;
			}
			if (n == max) {
				*too_many = 1;
				break;
			}
			parts[n].start = next;
			parts[n].end = end;
			n++;
			open = 1;
		}
		pos = next;
	}
	return n;
}

struct top_fields {
	int exchange, ex2003;
	char *ctype; /* first Content-Type value, owned */
};

static void
top_field(void *ctx, const char *name, const char *value)
{
	struct top_fields *t = ctx;

	for (size_t i = 0; i < sizeof(exchange_markers) / sizeof(exchange_markers[0]); i++)
		if (!strcasecmp(name, exchange_markers[i]))
			t->exchange = 1; /* the value is often empty: presence is the mark */
	if (!strcasecmp(name, WM_MARKER) && !strcasecmp(value, "journal"))
		t->exchange = 1;
	if ((!strcasecmp(name, "Content-Identifier") || !strcasecmp(name, "Content-Identifer")) &&
	    !strcasecmp(value, EX2003_VALUE))
		t->ex2003 = 1;
	if (!strcasecmp(name, "Content-Type") && t->ctype == NULL)
		t->ctype = xstrdup(value);
}

struct part_fields {
	char *ctype, *cte; /* first occurrence of each, owned */
};

static void
part_field(void *ctx, const char *name, const char *value)
{
	struct part_fields *f = ctx;

	if (!strcasecmp(name, "Content-Type") && f->ctype == NULL)
		f->ctype = xstrdup(value);
	else if (!strcasecmp(name, "Content-Transfer-Encoding") && f->cte == NULL)
		f->cte = xstrdup(value);
}

/* What mime_split and the part headers tell about one part. */
struct part_info {
	char *type;    /* lowercased type/subtype, owned */
	char *charset; /* owned or NULL */
	enum cte cte;
	size_t body; /* first body byte */
	int hdr_ok;  /* the header block ended with an empty line inside the part */
};

static void
part_info_read(struct part_info *pi, const uint8_t *raw, const struct part *pt)
{
	struct part_fields f = {0};

	pi->hdr_ok = header_scan(raw, pt->start, pt->end, part_field, &f, &pi->body);
	pi->type = ctype_parse(f.ctype, NULL, &pi->charset);
	pi->cte = cte_parse(f.cte);
	free(f.ctype);
	free(f.cte);
}

/* rcpt_add - append a recipient; returns it, or NULL when the limit is reached. */
static struct journal_rcpt *
rcpt_add(struct journal_report *r, const char *addr, const char *role)
{
	struct journal_rcpt *rc;

	if (r->nrcpts >= JOURNAL_RCPT_MAX) {
		r->rcpts_truncated = 1;
		return NULL;
	}
	if ((r->nrcpts & (r->nrcpts - 1)) == 0) /* grow at powers of two */
		r->rcpts = xrealloc(r->rcpts, (r->nrcpts ? 2 * r->nrcpts : 4) * sizeof(*rc));
	rc = &r->rcpts[r->nrcpts++];
	rc->address = xstrdup(addr);
	rc->role = xstrdup(role);
	rc->expanded_from = NULL;
	rc->forwarded_from = NULL;
	return rc;
}

/* addr_clean - the address inside one list item: what is between < and > when there are
 * brackets, else the trimmed item. Newly allocated. */
static char *
addr_clean(const char *s, size_t n)
{
	const char *lt = memchr(s, '<', n), *gt;

	if (lt != NULL && (gt = memchr(lt, '>', n - (size_t)(lt - s))) != NULL)
		return dup_range(lt + 1, (size_t)(gt - lt - 1));
	return dup_range(s, n);
}

/* list_next - the next comma-separated item of s (commas inside quotes or <> do not split).
 * Returns its length and sets *rest past the comma; returns 0 with *rest NULL at the end. */
static size_t
list_next(const char *s, const char **rest)
{
	int quoted = 0, angle = 0;
	size_t i;

	for (i = 0; s[i]; i++) {
		if (s[i] == '\\' && quoted && s[i + 1])
			i++;
		else if (s[i] == '"')
			quoted = !quoted;
		else if (!quoted && s[i] == '<')
			angle = 1;
		else if (!quoted && s[i] == '>')
			angle = 0;
		else if (!quoted && !angle && s[i] == ',')
			break;
	}
	*rest = s[i] ? s + i + 1 : NULL;
	return i;
}

/* starts_ci - when s (n bytes, leading white space skipped) begins with prefix, ignoring case,
 * the offset just after it; else 0. */
static size_t
starts_ci(const char *s, size_t n, const char *prefix)
{
	size_t i = 0, pl = strlen(prefix);

	while (i < n && is_wsp(s[i]))
		i++;
	if (n - i >= pl && !strncasecmp(s + i, prefix, pl))
		return i + pl;
	return 0;
}

/* rcpt_line - the value of one To/Cc/Bcc/Recipient(s) line: addresses, each optionally followed
 * by "Expanded: list" and/or "Forwarded: addr" items that annotate it (bb738122). When an
 * address carries several of one kind, the first is kept. */
static void
rcpt_line(struct journal_report *r, const char *value, const char *role)
{
	struct journal_rcpt *last = NULL;
	const char *s = value, *rest;

	while (s != NULL) {
		size_t n = list_next(s, &rest), k;
		char **slot = NULL;

		if ((k = starts_ci(s, n, "Expanded:")) != 0)
			slot = last ? &last->expanded_from : NULL;
		else if ((k = starts_ci(s, n, "Forwarded:")) != 0)
			slot = last ? &last->forwarded_from : NULL;
		if (k != 0) {
			if (slot != NULL && *slot == NULL)
				*slot = addr_clean(s + k, n - k);
		} else {
			char *a = addr_clean(s, n);

			if (*a)
				last = rcpt_add(r, a, role);
			free(a);
		}
		s = rest;
	}
}

/* report_field - one logical line "Name: value" of the report text. */
static void
report_field(struct journal_report *r, const char *name, const char *value, int *seen_sender)
{
	static const struct {
		const char *name, *role;
	} roles[] = {
		{"To", JOURNAL_ROLE_TO},
		{"Cc", JOURNAL_ROLE_CC},
		{"Bcc", JOURNAL_ROLE_BCC},
		{"Recipient", JOURNAL_ROLE_UNKNOWN},  /* role not verified: never assume To */
		{"Recipients", JOURNAL_ROLE_UNKNOWN}, /* Exchange 2003: a list, no roles */
	};

	if (!strcasecmp(name, "Sender")) {
		if (!*seen_sender) {
			r->sender = addr_clean(value, strlen(value)); /* "<>" gives "" */
			*seen_sender = 1;
		}
		return;
	}
	if (!strcasecmp(name, "Subject")) {
		if (r->subject == NULL)
			r->subject = xstrdup(value);
		return;
	}
	if (!strcasecmp(name, "Message-ID")) {
		if (r->message_id == NULL)
			r->message_id = xstrdup(value);
		return;
	}
	if (!strcasecmp(name, "On-Behalf-Of")) {
		if (r->on_behalf_of == NULL)
			r->on_behalf_of = addr_clean(value, strlen(value));
		return;
	}
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (!strcasecmp(name, roles[i].name)) {
			rcpt_line(r, value, roles[i].role);
			return;
		}
	/* Anything else (a blank line, a note Exchange may add) is not part of the envelope. */
}

/* logical_line - split one unfolded line into name and value and hand it to report_field. */
static void
logical_line(struct journal_report *r, const char *s, size_t n, int *seen_sender)
{
	const char *colon = memchr(s, ':', n);
	char *name, *value;

	if (colon == NULL)
		return;
	name = dup_range(s, (size_t)(colon - s));
	if (*name && strpbrk(name, " \t") == NULL) {
		value = dup_range(colon + 1, n - (size_t)(colon + 1 - s));
		report_field(r, name, value, seen_sender);
		free(value);
	}
	free(name);
}

/* text_to_utf8 - the report text in UTF-8 when its charset is known and not already UTF-8 or
 * ASCII; otherwise (or when conversion fails) the bytes unchanged. GMime: the iconv descriptor
 * is opened and closed here; the g_malloc'd result is copied into t and g_free'd. */
static void
text_to_utf8(struct buf *t, const char *charset)
{
	iconv_t cd;
	char *s;

	if (charset == NULL || !strcasecmp(charset, "utf-8") || !strcasecmp(charset, "us-ascii") ||
	    t->len == 0)
		return;
	cd = g_mime_iconv_open("UTF-8", charset);
	if (cd == (iconv_t)-1)
		return;
	s = g_mime_iconv_strndup(cd, (const char *)t->data, t->len);
	g_mime_iconv_close(cd);
	if (s == NULL)
		return;
	buf_reset(t);
	buf_append_str(t, s);
	g_free(s);
}

/* report_text - read the envelope from the text part's decoded bytes. */
static void
report_text(struct journal_report *r, const struct buf *t)
{
	const char *s = t->len ? (const char *)t->data : "";
	struct buf line = {0};
	size_t pos = 0;
	int seen_sender = 0;

	while (pos < t->len) {
		size_t le = eol(t->data, pos, t->len), ce = le;

		if (ce > pos && s[ce - 1] == '\r')
			ce--;
		if (ce > pos && is_wsp(s[pos]) && line.len) {
			buf_append(&line, s + pos, ce - pos); /* a folded (wrapped) line */
		} else {
			if (line.len)
				logical_line(r, (const char *)line.data, line.len, &seen_sender);
			buf_reset(&line);
			buf_append(&line, s + pos, ce - pos);
		}
		pos = le < t->len ? le + 1 : t->len;
	}
	if (line.len)
		logical_line(r, (const char *)line.data, line.len, &seen_sender);
	buf_free(&line);
	if (!seen_sender)
		fail(r, "report text has no Sender line");
	else if (r->nrcpts == 0)
		fail(r, "report text has no recipient line");
	else if (r->rcpts_truncated)
		set_detail(r, "recipient lines over JOURNAL_RCPT_MAX were dropped");
}

static void
part_infos_free(struct part_info *pi, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(pi[i].type);
		free(pi[i].charset);
	}
	free(pi);
}

static int
is_message(const char *type)
{
	return !strcmp(type, "message/rfc822") || !strcmp(type, "message/global");
}

/* attached_read - the bytes of one attached message part pt (its header fields in pi): the range
 * [*off, *off + *len) of raw when the part is stored unencoded, else decoded into *decoded.
 * Returns NULL, or what is wrong with the part, worded to follow the part's name. */
static const char *
attached_read(const uint8_t *raw, const struct part *pt, const struct part_info *pi, size_t *off,
	      size_t *len, struct buf *decoded)
{
	if (!pi->hdr_ok || pt->end <= pi->body)
		return "is empty";
	switch (pi->cte) {
	case CTE_IDENTITY:
		*off = pi->body;
		*len = pt->end - pi->body;
		return NULL;
	case CTE_BASE64:
	case CTE_QP:
		cte_decode(decoded, raw + pi->body, pt->end - pi->body, pi->cte);
		return decoded->len ? NULL : "decodes to nothing";
	case CTE_UNKNOWN:
		break;
	}
	return "has an unknown Content-Transfer-Encoding";
}

/* unwrap_attached - the original (part oi) and, when ci is a part, the decrypted copy. A bad
 * original makes the report unreadable (parse_error); a bad copy only sets copy_problem, so the
 * report and the original are still archived. */
static void
unwrap_attached(struct journal_report *r, const uint8_t *raw, const struct part *parts,
		const struct part_info *pi, size_t oi, size_t ci)
{
	char what[160];
	const char *bad;

	bad = attached_read(raw, &parts[oi], &pi[oi], &r->orig_off, &r->orig_len,
			    &r->orig_decoded);
	if (bad != NULL) {
		snprintf(what, sizeof(what), "attached original %s", bad);
		fail(r, what);
		return;
	}
	if (ci == SIZE_MAX)
		return;
	bad = attached_read(raw, &parts[ci], &pi[ci], &r->copy_off, &r->copy_len,
			    &r->copy_decoded);
	if (bad != NULL) {
		snprintf(what, sizeof(what), "decrypted copy (second message/rfc822 part) %s", bad);
		r->copy_problem = xstrdup(what);
		r->copy_off = r->copy_len = 0;
		buf_free(&r->copy_decoded);
	}
}

/* unwrap - the body of journal_report_parse once the kind is known: split the top-level
 * multipart, read the report text, locate the original. Failures only set parse_error. */
static void
unwrap(struct journal_report *r, const uint8_t *raw, size_t len, size_t body,
       const char *ctype_value)
{
	struct part *parts = xcalloc(JOURNAL_PARTS_MAX, sizeof(*parts));
	struct part_info *pi = NULL;
	struct buf text = {0};
	char *type, *boundary = NULL;
	size_t n = 0, ti = SIZE_MAX, oi = SIZE_MAX, ci = SIZE_MAX;
	int closed, too_many, tnef = 0;

	type = ctype_parse(ctype_value, &boundary, NULL);
	if (strncmp(type, "multipart/", 10) != 0) {
		fail(r, "report is not multipart");
		goto out;
	}
	if (boundary == NULL || *boundary == 0 || strlen(boundary) > BOUNDARY_MAX) {
		fail(r, "report has no usable boundary");
		goto out;
	}
	n = mime_split(raw, body, len, boundary, parts, JOURNAL_PARTS_MAX, &closed, &too_many);
	if (too_many) {
		fail(r, "report has too many parts");
		goto out;
	}
	if (!closed) {
		fail(r, "report is truncated: no closing boundary");
		goto out;
	}
	pi = xcalloc(n ? n : 1, sizeof(*pi));
	for (size_t i = 0; i < n; i++) {
		part_info_read(&pi[i], raw, &parts[i]);
		if (ti == SIZE_MAX && !strcmp(pi[i].type, "text/plain"))
			ti = i;
		/* The first message part is the original, the second its decrypted copy;
		 * any later one is ignored (see struct journal_report). */
		if (is_message(pi[i].type) && oi == SIZE_MAX)
			oi = i;
		else if (is_message(pi[i].type) && ci == SIZE_MAX)
			ci = i;
		if (!strcmp(pi[i].type, "application/ms-tnef"))
			tnef = 1;
	}

	/* The envelope, from the first text/plain part. */
	if (ti == SIZE_MAX) {
		fail(r, "report has no text/plain part");
		goto out;
	}
	if (parts[ti].end - pi[ti].body > JOURNAL_TEXT_MAX) {
		fail(r, "report text part is over the size limit");
		goto out;
	}
	if (pi[ti].cte == CTE_UNKNOWN) {
		fail(r, "report text has an unknown Content-Transfer-Encoding");
		goto out;
	}
	if (pi[ti].cte == CTE_IDENTITY)
		buf_append(&text, raw + pi[ti].body, parts[ti].end - pi[ti].body);
	else
		cte_decode(&text, raw + pi[ti].body, parts[ti].end - pi[ti].body, pi[ti].cte);
	text_to_utf8(&text, pi[ti].charset);
	report_text(r, &text);
	if (r->parse_error)
		goto out;

	/* The original: the first message/rfc822 part (what was sent); with Exchange Online IRM
	 * the second is its decrypted copy. */
	if (oi == SIZE_MAX) {
		fail(r, tnef ? "original attached as TNEF (application/ms-tnef), not unwrapped"
			     : "report has no message/rfc822 part");
		goto out;
	}
	unwrap_attached(r, raw, parts, pi, oi, ci);
out:
	if (r->parse_error) {
		r->orig_off = r->orig_len = r->copy_off = r->copy_len = 0;
		buf_free(&r->orig_decoded);
		buf_free(&r->copy_decoded);
	}
	buf_free(&text);
	if (pi != NULL)
		part_infos_free(pi, n);
	free(parts);
	free(boundary);
	free(type);
}

/* journal_report_parse - see journal_report.h. Detection follows Microsoft's
 * CheckJournalReportVersion order: X-MS-Journal-Report (and its in-organisation and mailpiler
 * spellings) wins over Content-Identifier: exjournalreport. */
enum vl_err
journal_report_parse(struct journal_report *r, const uint8_t *raw, size_t len, char *err)
{
	struct top_fields t = {0};
	size_t body;
	int ended;

	if (r == NULL || (raw == NULL && len > 0))
		return vl_err_set(err, VL_ERR_INTERNAL, "journal_report_parse: NULL argument");
	memset(r, 0, sizeof(*r));
	if (len == 0)
		return VL_OK;
	ended = header_scan(raw, 0, len, top_field, &t, &body);
	if (t.exchange)
		r->kind = JOURNAL_EXCHANGE;
	else if (t.ex2003)
		r->kind = JOURNAL_EXCHANGE_2003;
	if (r->kind == JOURNAL_PLAIN)
		goto out;
	if (!ended)
		fail(r, "report header block has no end within the limit");
	else
		unwrap(r, raw, len, body, t.ctype);
out:
	free(t.ctype);
	return VL_OK;
}

/* journal_report_free - see journal_report.h. */
void
journal_report_free(struct journal_report *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nrcpts; i++) {
		free(r->rcpts[i].address);
		free(r->rcpts[i].role);
		free(r->rcpts[i].expanded_from);
		free(r->rcpts[i].forwarded_from);
	}
	free(r->rcpts);
	free(r->sender);
	free(r->subject);
	free(r->message_id);
	free(r->on_behalf_of);
	free(r->detail);
	free(r->copy_problem);
	buf_free(&r->orig_decoded);
	buf_free(&r->copy_decoded);
	memset(r, 0, sizeof(*r));
}

/* attached_bytes - the bytes of an unwrapped part of r: decoded when there are decoded bytes,
 * else [off, off + len) of raw; NULL with *len_p = 0 when there are none. */
static const uint8_t *
attached_bytes(const struct journal_report *r, const uint8_t *raw, size_t off, size_t len,
	       const struct buf *decoded, size_t *len_p)
{
	*len_p = 0;
	if (r->kind == JOURNAL_PLAIN || r->parse_error)
		return NULL;
	if (decoded->len > 0) {
		*len_p = decoded->len;
		return decoded->data;
	}
	if (raw == NULL || len == 0)
		return NULL;
	*len_p = len;
	return raw + off;
}

/* journal_original - see journal_report.h. */
const uint8_t *
journal_original(const struct journal_report *r, const uint8_t *raw, size_t *len_p)
{
	if (r == NULL) {
		*len_p = 0;
		return NULL;
	}
	return attached_bytes(r, raw, r->orig_off, r->orig_len, &r->orig_decoded, len_p);
}

/* journal_decrypted_copy - see journal_report.h. */
const uint8_t *
journal_decrypted_copy(const struct journal_report *r, const uint8_t *raw, size_t *len_p)
{
	if (r == NULL) {
		*len_p = 0;
		return NULL;
	}
	return attached_bytes(r, raw, r->copy_off, r->copy_len, &r->copy_decoded, len_p);
}

struct hints {
	char **v;
	size_t n;
	GHashTable *seen; /* lowercased addresses; keys g_free'd by the table */
};

static void
hint_field(void *ctx, const char *name, const char *value)
{
	struct hints *h = ctx;
	const char *s = value, *rest;

	if (strcasecmp(name, "X-Original-To") && strcasecmp(name, "Delivered-To") &&
	    strcasecmp(name, "X-Gm-Original-To"))
		return;
	while (s != NULL) {
		size_t n = list_next(s, &rest);
		char *a = addr_clean(s, n), *key;

		s = rest;
		if (*a == 0 || h->n >= JOURNAL_RCPT_MAX) {
			free(a);
			continue;
		}
		key = g_ascii_strdown(a, -1);
		if (g_hash_table_contains(h->seen, key)) {
			g_free(key);
			free(a);
			continue;
		}
		g_hash_table_add(h->seen, key);
		if ((h->n & (h->n - 1)) == 0)
			h->v = xrealloc(h->v, (h->n ? 2 * h->n : 4) * sizeof(*h->v));
		h->v[h->n++] = a;
	}
}

/* journal_hints - see journal_report.h. */
enum vl_err
journal_hints(char ***out, size_t *n, const uint8_t *raw, size_t len)
{
	struct hints h = {0};
	size_t body;

	if (out == NULL || n == NULL || (raw == NULL && len > 0))
		return VL_ERR_INTERNAL;
	*out = NULL;
	*n = 0;
	if (len == 0)
		return VL_OK;
	h.seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	(void)header_scan(raw, 0, len, hint_field, &h, &body);
	g_hash_table_destroy(h.seen);
	*out = h.v;
	*n = h.n;
	return VL_OK;
}

/* journal_hints_free - see journal_report.h. */
void
journal_hints_free(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}
