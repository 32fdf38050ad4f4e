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
				 "%s '@' needs an address, a local part or a domain",
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
		rc = query_err(err, VL_ERR_PARSE, n->pos, "%s needs a value", n->field->name);
	else if (count > QUERY_MAX_PHRASE)
		rc = query_err(err, VL_ERR_LIMIT, n->pos, "%s more than %d words", n->field->name,
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

/* sql_id - id:<Message-ID> (messageid:, rfc822msgid:), exact, without angle brackets,
 * lower-case. */
static enum vl_err
sql_id(struct qparams *e, const struct qnode *n, struct buf *out, char *err)
{
	char *v = value_trimmed(n), *s;
	size_t len;

	if (v == NULL)
		return query_err(err, VL_ERR_PARSE, n->pos, "%s needs a Message-ID",
				 n->field->name);
	s = v + (v[0] == '<');
	len = strlen(s);
	if (len > 0 && s[len - 1] == '>')
		s[--len] = 0;
	if (len == 0) {
		free(v);
		return query_err(err, VL_ERR_PARSE, n->pos, "%s needs a Message-ID",
				 n->field->name);
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
		return query_err(err, VL_ERR_PARSE, n->pos, "%s needs a name", n->field->name);
	buf_appendf(out,
		    "mi.addr_terms && ARRAY(SELECT f || ':a:' || ca.address FROM "
		    "custodian_addresses ca "
		    "CROSS JOIN unnest(ARRAY['f','s','t','c','b','x','e','r']) f "
		    "WHERE ca.custodian = $%d)",
		    qparams_add(e, v));
	return VL_OK;
}

/* sql_hold - hold:NAME, messages under the legal hold named, and matter:NAME, under any hold
 * of the matter named (the field's arg is the holds column; names are lower-case, like
 * custodian names). A released hold still names what it covered (schema 0005: hold_messages
 * is never pruned). */
static enum vl_err
sql_hold(struct qparams *e, const struct qnode *n, struct buf *out, char *err)
{
	char *v = value_trimmed(n);

	if (v == NULL)
		return query_err(err, VL_ERR_PARSE, n->pos, "%s needs a name", n->field->name);
	buf_appendf(
		out,
		"EXISTS (SELECT 1 FROM hold_messages hm JOIN holds h ON h.id = hm.hold_id WHERE "
		"h.%s = $%d AND hm.message_id = mi.message_id)",
		n->field->arg, qparams_add(e, v));
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

/* ---- ranges: sizes and dates ---- */

/* A value as a range; a single value V is [V, V]. Sizes in bytes, days as YYYYMMDD. */
struct range {
	int64_t lo, hi;
	bool has_lo, has_hi;
	bool dots; /* written as A..B, A.. or ..B */
};

/* side_fn - one side s[0..len) of a range into *v, or the error for it. */
typedef enum vl_err (*side_fn)(const struct qnode *n, const char *s, size_t len, int64_t *v,
			       char *err);

/* value_range - n's value as a range; where dots, also "A..B", "A.." and "..B" (an open side
 * is unset). */
static enum vl_err
value_range(const struct qnode *n, bool dots, side_fn side, struct range *r, char *err)
{
	const char *v = n->value, *d = dots ? strstr(v, "..") : NULL;
	size_t len = d ? (size_t)(d - v) : strlen(v);
	enum vl_err rc;

	memset(r, 0, sizeof(*r));
	r->dots = d != NULL;
	if ((r->has_lo = len > 0) && (rc = side(n, v, len, &r->lo, err)) != VL_OK)
		return rc;
	if (d == NULL) {
		r->hi = r->lo;
		r->has_hi = r->has_lo;
		return VL_OK;
	}
	if ((r->has_hi = d[2] != 0) && (rc = side(n, d + 2, strlen(d + 2), &r->hi, err)) != VL_OK)
		return rc;
	if (!r->has_lo && !r->has_hi)
		return query_err(err, VL_ERR_PARSE, n->pos, "%s '..' needs %s on one side at least",
				 n->field->name, n->field->cls == QC_DATE ? "a date" : "a size");
	if (r->has_lo && r->has_hi && r->lo > r->hi)
		return query_err(err, VL_ERR_PARSE, n->pos, "%s the range ends before it starts",
				 n->field->name);
	return VL_OK;
}

/* One side of a comparison: the SQL operator and its parameter (owned; NULL for none). */
struct bound {
	const char *op;
	char *value;
};

/* sql_bounds - "mi.COL OP $n::CAST", joined by AND for both sides of b that have a value (the
 * values are taken over as parameters); *compound when both do. */
static void
sql_bounds(struct qparams *e, struct buf *out, const char *col, const char *cast,
	   const struct bound b[2], bool *compound)
{
	*compound = b[0].value && b[1].value;
	for (int k = 0; k < 2; k++) {
		if (b[k].value == NULL)
			continue;
		buf_append_str(out, k && *compound ? " AND " : "");
		buf_appendf(out, "mi.%s %s $%d::%s", col, b[k].op, qparams_add(e, b[k].value),
			    cast);
	}
}

/* parse_size - "123", "10K", "10M", "1G" (binary multiples, an optional B) in s[0..len) into
 * bytes. */
static bool
parse_size(const char *s, size_t len, int64_t *bytes)
{
	static const char units[] = "KMG";
	const char *p = s, *end = s + len, *u;
	int64_t v = 0, mult = 1;

	for (; p < end && g_ascii_isdigit(*p); p++) {
		if (v > (INT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (*p - '0');
	}
	if (p == s)
		return false;
	if (p < end && (u = strchr(units, g_ascii_toupper(*p))) != NULL) {
		mult = INT64_C(1) << (10 * (u - units + 1));
		p++;
	}
	if (p < end && g_ascii_toupper(*p) == 'B')
		p++;
	if (p != end || v > INT64_MAX / mult)
		return false;
	*bytes = v * mult;
	return true;
}

/* size_side - side_fn of sizes. */
static enum vl_err
size_side(const struct qnode *n, const char *s, size_t len, int64_t *v, char *err)
{
	if (parse_size(s, len, v))
		return VL_OK;
	return query_err(err, VL_ERR_PARSE, n->pos,
			 "%s expects a size like 10M or 500K%s (K, M, G: binary multiples)",
			 n->field->name,
			 n->field->mode == QS_RANGE ? " or a range like 1K..10M" : "");
}

/* sql_size - larger:/smaller:, size:, size>N and the like compare the raw message size in
 * bytes by the field's operator; size:A..B is >= A and <= B. */
static enum vl_err
sql_size(struct qparams *e, const struct qnode *n, struct buf *out, bool *compound, char *err)
{
	struct bound b[2] = {{n->field->arg, NULL}, {"<=", NULL}};
	struct range r;
	enum vl_err rc;

	if ((rc = value_range(n, n->field->mode == QS_RANGE, size_side, &r, err)) != VL_OK)
		return rc;
	if (r.dots)
		b[0].op = ">=";
	if (r.has_lo)
		b[0].value = xasprintf("%" PRId64, r.lo);
	if (r.dots && r.has_hi)
		b[1].value = xasprintf("%" PRId64, r.hi);
	sql_bounds(e, out, "size", "bigint", b, compound);
	return VL_OK;
}

/* ---- dates ---- */

static int
days_in_month(int y, int m)
{
	static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dim[m - 1];
}

/* parse_day - exactly YYYY-MM-DD in s[0..len) as YYYYMMDD: 0, -1 when malformed, -2 when no
 * such day. */
static int
parse_day(const char *s, size_t len, int64_t *out)
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
	*out = (int64_t)v[0] * 10000 + v[1] * 100 + v[2];
	return 0;
}

/* day_param - midnight UTC of day YYYYMMDD, or of the day after it when next, as timestamptz
 * input (owned). */
static char *
day_param(int64_t day, bool next)
{
	int y = (int)(day / 10000), m = (int)(day / 100 % 100), d = (int)(day % 100);

	if (next && ++d > days_in_month(y, m)) {
		d = 1;
		if (++m > 12) {
			m = 1;
			y++;
		}
	}
	return xasprintf("%04d-%02d-%02d 00:00:00+00", y, m, d);
}

/* date_side - side_fn of dates. */
static enum vl_err
date_side(const struct qnode *n, const char *s, size_t len, int64_t *v, char *err)
{
	int rc = parse_day(s, len, v);

	if (rc == 0)
		return VL_OK;
	if (rc == -2)
		return query_err(err, VL_ERR_PARSE, n->pos,
				 "%s '%.*s' is not a day of the calendar", n->field->name,
				 (int)len, s);
	return query_err(
		err, VL_ERR_PARSE, n->pos, "%s expects a date like 2001-05-31%s", n->field->name,
		n->field->mode == QD_RANGE ? " or a range like 2001-05-01..2001-05-31" : "");
}

/* sql_date - after:D and date>=D are >= D, before:D and date<D are < D, date>D is >= D + 1
 * day, date<=D is < D + 1 day (all midnight UTC); date:, sent: and received: D are [D, D],
 * A..B is >= A and < B + 1 day, so B is included. */
static enum vl_err
sql_date(struct qparams *e, const struct qnode *n, struct buf *out, bool *compound, char *err)
{
	static const struct {
		const char *op;
		bool next;
	} one[] = {[QD_AFTER] = {">=", false},
		   [QD_BEFORE] = {"<", false},
		   [QD_GT] = {">=", true},
		   [QD_LE] = {"<", true}};
	struct bound b[2] = {{">=", NULL}, {"<", NULL}};
	int mode = n->field->mode;
	struct range r;
	enum vl_err rc;

	if ((rc = value_range(n, mode == QD_RANGE, date_side, &r, err)) != VL_OK)
		return rc;
	if (mode != QD_RANGE) {
		b[0].op = one[mode].op;
		b[0].value = day_param(r.lo, one[mode].next);
	} else {
		b[0].value = r.has_lo ? day_param(r.lo, false) : NULL;
		b[1].value = r.has_hi ? day_param(r.hi, true) : NULL;
	}
	sql_bounds(e, out, n->field->arg, "timestamptz", b, compound);
	return VL_OK;
}

/* sql_age - Gmail's older_than:N and newer_than:N, N days, months or years (d, m, y) back from
 * now, on the sent date: at most QUERY_AGE_MAX_YEARS back. */
static enum vl_err
sql_age(struct qparams *e, const struct qnode *n, struct buf *out, char *err)
{
	static const struct {
		char unit;
		const char *word;
		int per_year;
	} units[] = {{'d', "days", 366}, {'m', "months", 12}, {'y', "years", 1}};
	const char *v = n->value;
	int64_t num = 0;
	bool unit;

	for (; g_ascii_isdigit(*v); v++) /* saturates just past the largest bound */
		num = MIN(num * 10 + (*v - '0'), (int64_t)QUERY_AGE_MAX_YEARS * 366 + 1);
	unit = v > n->value && *v != 0 && v[1] == 0; /* digits, then one letter */
	for (size_t k = 0; unit && k < sizeof(units) / sizeof(units[0]); k++) {
		if (g_ascii_tolower(*v) != units[k].unit)
			continue;
		if (num > (int64_t)QUERY_AGE_MAX_YEARS * units[k].per_year)
			return query_err(err, VL_ERR_PARSE, n->pos,
					 "%s reaches at most %d years back (%dd, %dm, %dy)",
					 n->field->name, QUERY_AGE_MAX_YEARS,
					 QUERY_AGE_MAX_YEARS * 366, QUERY_AGE_MAX_YEARS * 12,
					 QUERY_AGE_MAX_YEARS);
		buf_appendf(out, "mi.sent_at %s now() - $%d::interval", n->field->arg,
			    qparams_add(e, xasprintf("%" PRId64 " %s", num, units[k].word)));
		return VL_OK;
	}
	return query_err(err, VL_ERR_PARSE, n->pos,
			 "%s expects a number and a unit d (days), m (months) or y (years), like "
			 "30d, 6m or 2y",
			 n->field->name);
}

enum vl_err
query_field_sql(struct buf *out, struct qparams *e, const struct qnode *n, bool *compound,
		char *err)
{
	*compound = false;
	if (n->prefix && n->field->cls != QC_ADDR)
		return query_err(err, VL_ERR_PARSE, n->pos,
				 "%s takes no '*' (only words, phrases and addresses do)",
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
		return sql_size(e, n, out, compound, err);
	case QC_DATE:
		return sql_date(e, n, out, compound, err);
	case QC_AGE:
		return sql_age(e, n, out, err);
	case QC_HOLD:
		return sql_hold(e, n, out, err);
	case QC_TEXT:
		break;
	}
	return query_err(err, VL_ERR_INTERNAL, n->pos, "full text compiled as a field");
}
