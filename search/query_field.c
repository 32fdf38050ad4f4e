/* query_field - the SQL of one field:value term that is not full text (see query_field.h). */
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgarray.h"
#include "query_field.h"

int
qparams_add(struct qparams *p, char *value)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 8;
		p->v = xrealloc(p->v, (size_t)p->cap * sizeof(*p->v));
	}
	p->v[p->n++] = value;
	return p->first + p->n - 1;
}

void
qparams_free(struct qparams *p)
{
	for (int k = 0; k < p->n; k++)
		free(p->v[k]);
	free(p->v);
	p->v = NULL;
	p->n = p->cap = 0;
}

/* ---- addresses ---- */

/* Address kinds to search for a value, and the value without the '@' that chose them. */
struct addr_kind {
	const char *kinds;
	char *value; /* owned */
};

/* addr_classify - x@y: the whole address; @domain: domains; local@: local parts; a.b: local
 * parts or domains; a plain word: words of names, local parts or domains. */
static void
addr_classify(const char *w, struct addr_kind *k)
{
	size_t n = strlen(w);

	if (w[0] == '@') {
		k->kinds = "d";
		k->value = xstrdup(w + 1);
	} else if (w[n - 1] == '@') {
		k->kinds = "l";
		k->value = xstrdup(w);
		k->value[n - 1] = 0;
	} else {
		k->kinds = strchr(w, '@') ? "a" : strchr(w, '.') ? "ld" : "wld";
		k->value = xstrdup(w);
	}
}

/* like_escape - v with LIKE's metacharacters (% _ \) escaped, then '%': a prefix pattern. */
static char *
like_escape(const char *v)
{
	struct buf b = {0};

	for (; *v; v++) {
		if (*v == '%' || *v == '_' || *v == '\\')
			buf_append(&b, "\\", 1);
		buf_append(&b, v, 1);
	}
	buf_append(&b, "%", 1);
	return (char *)b.data;
}

/* addr_term - "<field>:<kind>:<value>" into a. */
static void
addr_term(struct pgarr *a, char field, char kind, const char *v)
{
	char *t = xasprintf("%c:%c:%s", field, kind, v);

	pgarr_text(a, t);
	free(t);
}

/* sql_addr_word - one address word: && on the exact terms, or LIKE on a prefix. */
static enum vl_err
sql_addr_word(struct qparams *e, const struct qnode *n, const char *w, bool prefix, struct buf *out,
	      char *err)
{
	struct addr_kind k;
	struct pgarr a = {0};
	char *v;

	addr_classify(w, &k);
	if (k.value[0] == 0) {
		free(k.value);
		return query_err(err, VL_ERR_PARSE, n->pos,
				 "%s: '@' needs an address, a local part or a domain",
				 n->field->name);
	}
	v = prefix ? like_escape(k.value) : xstrdup(k.value);
	for (const char *f = n->field->arg; *f; f++) {
		for (const char *kd = k.kinds; *kd; kd++) {
			addr_term(&a, *f, *kd, v);
			/* The whole address of Sender is s, of an envelope bcc x (0007_index_size.sql). */
			if (*kd == 'a' && (*f == 'f' || *f == 'b'))
				addr_term(&a, *f == 'f' ? 's' : 'x', 'a', v);
		}
	}
	if (prefix)
		buf_appendf(out,
			    "EXISTS (SELECT 1 FROM unnest(mi.addr_terms) t WHERE t LIKE ANY "
			    "($%d::text[]))",
			    qparams_add(e, xstrdup(pgarr_str(&a))));
	else
		buf_appendf(out, "mi.addr_terms && $%d::text[]",
			    qparams_add(e, xstrdup(pgarr_str(&a))));
	pgarr_free(&a);
	free(v);
	free(k.value);
	return VL_OK;
}

/* sql_addr - from:/to:/cc:/bcc:/participants:, lower-cased; several words must all match
 * (from:"jeff skilling"); a '*' applies to the last word. */
static enum vl_err
sql_addr(struct qparams *e, const struct qnode *n, struct buf *out, bool *compound, char *err)
{
	char *low = query_lower(n->value);
	gchar **words = g_strsplit_set(low, " \t\r\n\f\v", -1);
	enum vl_err rc = VL_OK;
	int count = 0, last = -1, done = 0;

	for (int k = 0; words[k]; k++) {
		if (words[k][0] != 0) {
			count++;
			last = k;
		}
	}
	if (count == 0)
		rc = query_err(err, VL_ERR_PARSE, n->pos, "%s: needs a value", n->field->name);
	else if (count > QUERY_MAX_PHRASE)
		rc = query_err(err, VL_ERR_LIMIT, n->pos, "%s: more than %d words", n->field->name,
			       QUERY_MAX_PHRASE);
	for (int k = 0; words[k] && rc == VL_OK; k++) {
		if (words[k][0] == 0)
			continue;
		buf_append_str(out, done++ ? " AND " : "");
		rc = sql_addr_word(e, n, words[k], n->prefix && k == last, out, err);
	}
	g_strfreev(words);
	free(low);
	*compound = count > 1;
	return rc;
}

/* value_trimmed - the value lower-cased without surrounding white space; NULL if empty. */
static char *
value_trimmed(const struct qnode *n)
{
	char *v = query_lower(n->value);

	g_strstrip(v);
	if (v[0] == 0) {
		free(v);
		return NULL;
	}
	return v;
}

/* sql_id - id:<Message-ID>, exact, without angle brackets, lower-case. */
static enum vl_err
sql_id(struct qparams *e, const struct qnode *n, struct buf *out, char *err)
{
	char *v = value_trimmed(n), *s;
	size_t len;

	if (v == NULL)
		return query_err(err, VL_ERR_PARSE, n->pos, "id: needs a Message-ID");
	s = v + (v[0] == '<');
	len = strlen(s);
	if (len > 0 && s[len - 1] == '>')
		s[--len] = 0;
	if (len == 0) {
		free(v);
		return query_err(err, VL_ERR_PARSE, n->pos, "id: needs a Message-ID");
	}
	buf_appendf(out, "mi.msgid = $%d", qparams_add(e, xstrdup(s)));
	free(v);
	return VL_OK;
}

/* sql_custodian - every address the custodian uses, in any address field. */
static enum vl_err
sql_custodian(struct qparams *e, const struct qnode *n, struct buf *out, char *err)
{
	char *v = value_trimmed(n);

	if (v == NULL)
		return query_err(err, VL_ERR_PARSE, n->pos, "custodian: needs a name");
	buf_appendf(out,
		    "mi.addr_terms && ARRAY(SELECT f || ':a:' || ca.address FROM "
		    "custodian_addresses ca "
		    "CROSS JOIN unnest(ARRAY['f','s','t','c','b','x','e','r']) f "
		    "WHERE ca.custodian = $%d)",
		    qparams_add(e, v));
	return VL_OK;
}

/* sql_hold - messages under the legal hold named (lower-cased, like custodian names).
 * A released hold still names what it covered (schema 0005: hold_messages is never pruned). */
static enum vl_err
sql_hold(struct qparams *e, const struct qnode *n, struct buf *out, char *err)
{
	char *v = value_trimmed(n);

	if (v == NULL)
		return query_err(err, VL_ERR_PARSE, n->pos, "hold: needs a name");
	buf_appendf(
		out,
		"EXISTS (SELECT 1 FROM hold_messages hm JOIN holds h ON h.id = hm.hold_id WHERE "
		"h.name = $%d AND hm.message_id = mi.message_id)",
		qparams_add(e, v));
	return VL_OK;
}

/* sql_has - has:attachment, the only has: there is. */
static enum vl_err
sql_has(const struct qnode *n, struct buf *out, char *err)
{
	if (g_ascii_strcasecmp(n->value, "attachment") != 0)
		return query_err(err, VL_ERR_PARSE, n->pos, "has: knows only has:attachment");
	buf_append_str(out, "mi.has_attachment");
	return VL_OK;
}

/* parse_size - "123", "10K", "10M", "1G" (binary multiples, an optional B) into bytes. */
static bool
parse_size(const char *s, int64_t *bytes)
{
	int64_t v = 0, mult = 1;
	const char *p = s;

	for (; g_ascii_isdigit(*p); p++) {
		if (v > (INT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (*p - '0');
	}
	if (p == s)
		return false;
	switch (g_ascii_toupper(*p)) {
	case 'K':
		mult = INT64_C(1) << 10;
		p++;
		break;
	case 'M':
		mult = INT64_C(1) << 20;
		p++;
		break;
	case 'G':
		mult = INT64_C(1) << 30;
		p++;
		break;
	default:
		break;
	}
	if (g_ascii_toupper(*p) == 'B')
		p++;
	if (*p != 0 || v > INT64_MAX / mult)
		return false;
	*bytes = v * mult;
	return true;
}

/* sql_size - larger:/smaller: compare the raw message size in bytes. */
static enum vl_err
sql_size(struct qparams *e, const struct qnode *n, struct buf *out, char *err)
{
	int64_t bytes;

	if (!parse_size(n->value, &bytes))
		return query_err(err, VL_ERR_PARSE, n->pos,
				 "%s: expects a size like 10M or 500K (K, M, G: binary multiples)",
				 n->field->name);
	buf_appendf(out, "mi.size %s $%d::bigint", n->field->arg,
		    qparams_add(e, xasprintf("%" PRId64, bytes)));
	return VL_OK;
}

/* ---- dates ---- */

struct day {
	int y, m, d;
};

static int
days_in_month(int y, int m)
{
	static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dim[m - 1];
}

/* parse_day - exactly YYYY-MM-DD in s[0..len): 0, -1 when malformed, -2 when no such day. */
static int
parse_day(const char *s, size_t len, struct day *out)
{
	int v[3] = {0, 0, 0}, widths[3] = {4, 2, 2}, f = 0;
	size_t i = 0;

	for (f = 0; f < 3; f++) {
		for (int k = 0; k < widths[f]; k++, i++) {
			if (i >= len || !g_ascii_isdigit(s[i]))
				return -1;
			v[f] = v[f] * 10 + (s[i] - '0');
		}
		if (f < 2 && (i >= len || s[i++] != '-'))
			return -1;
	}
	if (i != len)
		return -1;
	if (v[0] < 1 || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > days_in_month(v[0], v[1]))
		return -2;
	*out = (struct day){v[0], v[1], v[2]};
	return 0;
}

static struct day
day_next(struct day d)
{
	if (++d.d > days_in_month(d.y, d.m)) {
		d.d = 1;
		if (++d.m > 12) {
			d.m = 1;
			d.y++;
		}
	}
	return d;
}

static int
day_cmp(struct day a, struct day b)
{
	return (a.y - b.y) * 400 + (a.m - b.m) * 32 + (a.d - b.d);
}

/* Midnight UTC of a day, as timestamptz input. */
static char *
day_param(struct day d)
{
	return xasprintf("%04d-%02d-%02d 00:00:00+00", d.y, d.m, d.d);
}

/* date_bad - the error for a value that is not a date (or range) at all. */
static enum vl_err
date_bad(const struct qnode *n, char *err)
{
	return query_err(
		err, VL_ERR_PARSE, n->pos, "%s: expects a date like 2001-05-31%s", n->field->name,
		n->field->mode == QD_RANGE ? " or a range like 2001-05-01..2001-05-31" : "");
}

/* date_side - one side of a range; an empty side is open (*set false). */
static enum vl_err
date_side(const struct qnode *n, const char *s, size_t len, struct day *d, bool *set, char *err)
{
	int rc;

	*set = len > 0;
	if (len == 0)
		return VL_OK;
	if ((rc = parse_day(s, len, d)) == 0)
		return VL_OK;
	if (rc == -2)
		return query_err(err, VL_ERR_PARSE, n->pos,
				 "%s: '%.*s' is not a day of the calendar", n->field->name,
				 (int)len, s);
	return date_bad(n, err);
}

/* date_range - the value as days [from, to]: "D" is [D, D]; date: and received: also take
 * "A..B", "A.." and "..B" (an open side is unset). */
static enum vl_err
date_range(const struct qnode *n, struct day *from, bool *has_from, struct day *to, bool *has_to,
	   char *err)
{
	const char *v = n->value, *dots = strstr(v, "..");
	enum vl_err rc;

	if (dots == NULL) {
		if ((rc = date_side(n, v, strlen(v), from, has_from, err)) != VL_OK)
			return rc;
		*to = *from;
		*has_to = *has_from;
		return VL_OK;
	}
	if (n->field->mode != QD_RANGE)
		return date_bad(n, err);
	if ((rc = date_side(n, v, (size_t)(dots - v), from, has_from, err)) != VL_OK ||
	    (rc = date_side(n, dots + 2, strlen(dots + 2), to, has_to, err)) != VL_OK)
		return rc;
	if (!*has_from && !*has_to)
		return query_err(err, VL_ERR_PARSE, n->pos,
				 "%s: '..' needs a date on one side at least", n->field->name);
	if (*has_from && *has_to && day_cmp(*from, *to) > 0)
		return query_err(err, VL_ERR_PARSE, n->pos, "%s: the range ends before it starts",
				 n->field->name);
	return VL_OK;
}

/* sql_date - after:D is >= D, before:D is < D (both midnight UTC); date: and received: A..B
 * are >= A and < B + 1 day, so B is included. */
static enum vl_err
sql_date(struct qparams *e, const struct qnode *n, struct buf *out, bool *compound, char *err)
{
	const char *col = n->field->arg;
	struct day from, to;
	bool has_from, has_to;
	enum vl_err rc;

	if ((rc = date_range(n, &from, &has_from, &to, &has_to, err)) != VL_OK)
		return rc;
	*compound = false;
	if (n->field->mode == QD_AFTER || n->field->mode == QD_BEFORE) {
		buf_appendf(out, "mi.%s %s $%d::timestamptz", col,
			    n->field->mode == QD_AFTER ? ">=" : "<",
			    qparams_add(e, day_param(from)));
		return VL_OK;
	}
	if (has_from)
		buf_appendf(out, "mi.%s >= $%d::timestamptz", col, qparams_add(e, day_param(from)));
	if (has_from && has_to) {
		buf_append_str(out, " AND ");
		*compound = true;
	}
	if (has_to)
		buf_appendf(out, "mi.%s < $%d::timestamptz", col,
			    qparams_add(e, day_param(day_next(to))));
	return VL_OK;
}

enum vl_err
query_field_sql(struct buf *out, struct qparams *e, const struct qnode *n, bool *compound,
		char *err)
{
	*compound = false;
	if (n->prefix && n->field->cls != QC_ADDR)
		return query_err(err, VL_ERR_PARSE, n->pos,
				 "%s: takes no '*' (only words, phrases and addresses do)",
				 n->field->name);
	switch (n->field->cls) {
	case QC_ADDR:
		return sql_addr(e, n, out, compound, err);
	case QC_ID:
		return sql_id(e, n, out, err);
	case QC_CUSTODIAN:
		return sql_custodian(e, n, out, err);
	case QC_HAS:
		return sql_has(n, out, err);
	case QC_SIZE:
		return sql_size(e, n, out, err);
	case QC_DATE:
		return sql_date(e, n, out, compound, err);
	case QC_HOLD:
		return sql_hold(e, n, out, err);
	case QC_TEXT:
		break;
	}
	return query_err(err, VL_ERR_INTERNAL, n->pos, "full text compiled as a field");
}
