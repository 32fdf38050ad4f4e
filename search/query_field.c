/* query_field - the SQL of one field:value term that is not full text (see query_field.h). */
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bizfields.h"
#include "civday.h"
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

/* like_escape - v with LIKE's metacharacters (% _ \) escaped, then '%': a prefix pattern, or
 * with contains also a '%' before it: a substring pattern. */
static char *
like_escape(const char *v, bool contains)
{
	struct buf b = {0};

	buf_append(&b, "%", contains);
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
	v = prefix ? like_escape(k.value, false) : xstrdup(k.value);
	for (const char *f = n->field->arg; *f; f++) {
		if (e->hide_bcc && *f == 'b')
			continue; /* and its twin x: the query never names x on its own */
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
 * (from:"jeff skilling"); a '*' applies to the last word. Without Bcc visibility a field that
 * is only Bcc is refused, never run as one that silently matches nothing. */
static enum vl_err
sql_addr(struct qparams *e, const struct qnode *n, struct buf *out, bool *compound, char *err)
{
	char *low, **words;
	enum vl_err rc = VL_OK;
	int count = 0, last = -1, done = 0;

	if (e->hide_bcc && strcmp(n->field->arg, "b") == 0)
		return query_err(err, VL_ERR_PARSE, n->pos,
				 "%s " QUERY_ERR_BCC ", which this role does not have",
				 n->field->name);
	low = query_lower(n->value);
	words = g_strsplit_set(low, " \t\r\n\f\v", -1);

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
		    "CROSS JOIN unnest(ARRAY[%s]) f "
		    "WHERE ca.custodian = $%d)",
		    e->hide_bcc ? "'f','s','t','c','e','r'" : "'f','s','t','c','b','x','e','r'",
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

/* A value as a range; a single value V is [V, V]. Sizes in bytes, dates as points (below). */
struct range {
	int64_t lo, hi;
	bool has_lo, has_hi;
	bool dots; /* written as A..B, A.. or ..B */
};

/* side_fn - one side s[0..len) of a range into *v, or the error for it. */
typedef enum vl_err (*side_fn)(const struct qnode *n, const char *s, size_t len, int64_t *v,
			       char *err);

/* field_ranges - true when n's field takes a range A..B (date:, size:, amount:, txdate:...). */
static bool
field_ranges(const struct qnode *n)
{
	return n->field->cls == QC_DATE ? n->field->mode == QD_RANGE : n->field->mode == QS_RANGE;
}

/* range_noun - what one side of a range of n's field is. */
static const char *
range_noun(const struct qnode *n)
{
	switch (n->field->cls) {
	case QC_DATE:
	case QC_TXDATE:
		return "a date";
	case QC_AMOUNT:
		return "an amount";
	default:
		return "a size";
	}
}

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
				 n->field->name, range_noun(n));
	/* A date's range ends at its last point's end: sql_date checks its own order. */
	if (r->has_lo && r->has_hi && n->field->cls != QC_DATE && r->lo > r->hi)
		return query_err(err, VL_ERR_PARSE, n->pos, "%s the range ends before it starts",
				 n->field->name);
	return VL_OK;
}

/* One side of a comparison: the SQL operator and its parameter (owned; NULL for none). */
struct bound {
	const char *op;
	char *value;
};

/* sql_bounds - "ALIAS.COL OP $n::CAST", joined by AND for both sides of b that have a value
 * (the values are taken over as parameters); *compound when both do. */
static void
sql_bounds(struct qparams *e, struct buf *out, const char *alias, const char *col,
	   const char *cast, const struct bound b[2], bool *compound)
{
	*compound = b[0].value && b[1].value;
	for (int k = 0; k < 2; k++) {
		if (b[k].value == NULL)
			continue;
		buf_append_str(out, k && *compound ? " AND " : "");
		buf_appendf(out, "%s.%s %s $%d::%s", alias, col, b[k].op,
			    qparams_add(e, b[k].value), cast);
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
			 field_ranges(n) ? " or a range like 1K..10M" : "");
}

/* A column compared with a value or a range of a field class: how a side is read and
 * written as a parameter (owned), and where it is compared. */
struct ranged {
	side_fn side;
	char *(*param)(int64_t v);
	const char *alias, *col, *cast;
};

/* sql_ranged - n's value by its field's operator, or (a field that takes A..B) >= A and <= B,
 * against the column of how. */
static enum vl_err
sql_ranged(struct qparams *e, const struct qnode *n, const struct ranged *how, struct buf *out,
	   bool *compound, char *err)
{
	struct bound b[2] = {{n->field->arg, NULL}, {"<=", NULL}};
	struct range r;
	enum vl_err rc;

	if ((rc = value_range(n, field_ranges(n), how->side, &r, err)) != VL_OK)
		return rc;
	if (r.dots)
		b[0].op = ">=";
	if (r.has_lo)
		b[0].value = how->param(r.lo);
	if (r.dots && r.has_hi)
		b[1].value = how->param(r.hi);
	sql_bounds(e, out, how->alias, how->col, how->cast, b, compound);
	return VL_OK;
}

static char *
int_param(int64_t v)
{
	return xasprintf("%" PRId64, v);
}

/* larger:/smaller:, size:, size>N and the like compare the raw message size in bytes by the
 * field's operator (size: is "at least"); size:A..B is >= A and <= B. */
static const struct ranged size_ranged = {size_side, int_param, "mi", "size", "bigint"};

/* ---- dates ---- */

/* A point written in a date value, encoded in one int64 for value_range: the civil seconds
 * since 0001-01-01 00:00:00 (no zone yet) times 4, plus PT_TIME when a time of day was
 * written (the point then ends at its second, else at the day's end) and PT_UTC for a 'Z'
 * (UTC whatever tz: says). */
#define PT_TIME 1
#define PT_UTC 2
#define DAY_S 86400

/* digits_at - n digits at s[*i..) into *v, *i moved past them; false when there are not. */
static bool
digits_at(const char *s, size_t len, size_t *i, int n, int *v)
{
	*v = 0;
	for (int k = 0; k < n; k++, (*i)++) {
		if (*i >= len || !g_ascii_isdigit(s[*i]))
			return false;
		*v = *v * 10 + (s[*i] - '0');
	}
	return true;
}

/* parse_point - "YYYY-MM-DD" or "YYYY/MM/DD" (Gmail), optionally "THH:MM" or "THH:MM:SS"
 * and a 'Z', in s[0..len), encoded as above: 0, -1 when malformed, -2 when no such day, -3
 * when no such time. */
static int
parse_point(const char *s, size_t len, int64_t *out)
{
	int h = 0, mi = 0, sec = 0, flags = 0, day_rc;
	size_t i = 10; /* past YYYY-MM-DD */
	int64_t day = 0;

	if (len < i || (s[4] != '-' && s[4] != '/'))
		return -1;
	if ((day_rc = civday_parse_sep(s, i, s[4], &day)) == -1)
		return -1;
	if (i < len && (s[i] == 'T' || s[i] == 't')) {
		i++;
		flags |= PT_TIME;
		if (!digits_at(s, len, &i, 2, &h) || i >= len || s[i++] != ':' ||
		    !digits_at(s, len, &i, 2, &mi))
			return -1;
		if (i < len && s[i] == ':' && (i++, !digits_at(s, len, &i, 2, &sec)))
			return -1;
	}
	if (i < len && (s[i] == 'Z' || s[i] == 'z') && (flags & PT_TIME)) {
		i++;
		flags |= PT_UTC;
	}
	if (i != len)
		return -1;
	if (day_rc != 0)
		return day_rc;
	if (h > 23 || mi > 59 || sec > 59) /* no leap second: PostgreSQL has none either */
		return -3;
	*out = ((civday_ordinal(day) * DAY_S + h * 3600 + mi * 60 + sec) << 2) | flags;
	return 0;
}

/* point_end - the civil second just after the point: the next midnight for a day, the next
 * second for a time. */
static int64_t
point_end(int64_t p)
{
	return (p >> 2) + ((p & PT_TIME) ? 1 : DAY_S);
}

/* point_zone - the zone of point p: UTC (NULL) for a 'Z', else the query's tz (NULL: UTC). */
static const char *
point_zone(int64_t p, const char *tz)
{
	return (p & PT_UTC) ? NULL : tz;
}

/* point_param - the civil second secs, in UTC or in zone tz (NULL: UTC), as timestamptz input
 * (owned): "2001-05-01 00:00:00+00", "... Asia/Tokyo", "...+09:00". */
static char *
point_param(int64_t secs, const char *tz)
{
	int64_t day = civday_of_ordinal(secs / DAY_S);
	int sod = (int)(secs % DAY_S);

	return xasprintf("%04d-%02d-%02d %02d:%02d:%02d%s%s", (int)(day / 10000),
			 (int)(day / 100 % 100), (int)(day % 100), sod / 3600, sod / 60 % 60,
			 sod % 60, tz && *tz != '+' && *tz != '-' ? " " : "", tz ? tz : "+00");
}

/* date_side - side_fn of dates. */
static enum vl_err
date_side(const struct qnode *n, const char *s, size_t len, int64_t *v, char *err)
{
	int rc = parse_point(s, len, v);

	if (rc == 0)
		return VL_OK;
	if (rc == -2 || rc == -3)
		return query_err(err, VL_ERR_PARSE, n->pos, "%s '%.*s' is not a %s",
				 n->field->name, (int)len, s,
				 rc == -2 ? "day of the calendar" : "time of day");
	return query_err(err, VL_ERR_PARSE, n->pos,
			 "%s expects a date like 2001-05-31, 2001/05/31 or 2001-05-31T09:30:00%s",
			 n->field->name,
			 field_ranges(n) ? ", or a range like 2001-05-01..2001-05-31" : "");
}

/* day_side - side_fn of txdate: days: exactly YYYY-MM-DD, no time, no zone (the day on the
 * document), as YYYYMMDD. */
static enum vl_err
day_side(const struct qnode *n, const char *s, size_t len, int64_t *v, char *err)
{
	int rc = civday_parse(s, len, v);

	if (rc == 0)
		return VL_OK;
	if (rc == -2)
		return query_err(err, VL_ERR_PARSE, n->pos,
				 "%s '%.*s' is not a day of the calendar", n->field->name,
				 (int)len, s);
	return query_err(
		err, VL_ERR_PARSE, n->pos, "%s expects a date like 2001-05-31%s", n->field->name,
		field_ranges(n) ? " or a range like 2001-05-01..2001-05-31" : "");
}

/* sql_date - after:P and date>=P are >= P, before:P and date<P are < P, date>P is >= the end
 * of P, date<=P is < the end of P; date:, sent: and received: P are [P, end of P), A..B is
 * >= A and < the end of B, so B is included. A day's end is the next midnight, a time's the
 * next second; both in UTC, or in the query's tz: unless the value says Z. */
static enum vl_err
sql_date(struct qparams *e, const struct qnode *n, struct buf *out, bool *compound, char *err)
{
	static const struct {
		const char *op;
		bool end;
	} one[] = {[QD_AFTER] = {">=", false},
		   [QD_BEFORE] = {"<", false},
		   [QD_GT] = {">=", true},
		   [QD_LE] = {"<", true}};
	struct bound b[2] = {{">=", NULL}, {"<", NULL}};
	int mode = n->field->mode;
	struct range r;
	enum vl_err rc;

	if ((rc = value_range(n, field_ranges(n), date_side, &r, err)) != VL_OK)
		return rc;
	if (r.has_lo && r.has_hi && (r.lo >> 2) >= point_end(r.hi))
		return query_err(err, VL_ERR_PARSE, n->pos, "%s the range ends before it starts",
				 n->field->name);
	if (mode != QD_RANGE) {
		b[0].op = one[mode].op;
		b[0].value = point_param(one[mode].end ? point_end(r.lo) : r.lo >> 2,
					 point_zone(r.lo, e->tz));
	} else {
		if (r.has_lo)
			b[0].value = point_param(r.lo >> 2, point_zone(r.lo, e->tz));
		if (r.has_hi)
			b[1].value = point_param(point_end(r.hi), point_zone(r.hi, e->tz));
	}
	sql_bounds(e, out, "mi", n->field->arg, "timestamptz", b, compound);
	return VL_OK;
}

/* ---- tz: ---- */

/* tz_offset - "+HH", "+HHMM" or "+HH:MM" (or '-'), at most 14 hours, as "+HH:MM" (owned), or
 * NULL. */
static char *
tz_offset(const char *v)
{
	size_t len = strlen(v), i = 1;
	int h, m = 0;

	if ((v[0] != '+' && v[0] != '-') || !digits_at(v, len, &i, 2, &h))
		return NULL;
	if (i < len && v[i] == ':')
		i++;
	if (i < len && !digits_at(v, len, &i, 2, &m))
		return NULL;
	if (i != len || h > 14 || m > 59 || (h == 14 && m > 0))
		return NULL;
	return xasprintf("%c%02d:%02d", v[0], h, m);
}

/* tz_name_known - v is an IANA zone name: letters, digits, '_', '-', '+' in '/'-separated
 * parts none of which starts with '.', naming a compiled zone file (TZif) in QUERY_TZDIR. */
static bool
tz_name_known(const char *v)
{
	char path[sizeof(QUERY_TZDIR) + QUERY_TZ_MAX + 2], magic[4];
	bool part_start = true;
	FILE *f;
	size_t got;

	for (const char *c = v; *c; c++) {
		if (*c == '/' ? part_start : !(g_ascii_isalnum(*c) || strchr("_-+", *c)))
			return false;
		part_start = *c == '/';
	}
	if (part_start) /* empty, or ends with '/' */
		return false;
	snprintf(path, sizeof(path), "%s/%s", QUERY_TZDIR, v);
	if ((f = fopen(path, "rb")) == NULL)
		return false;
	got = fread(magic, 1, sizeof(magic), f);
	fclose(f);
	return got == sizeof(magic) && memcmp(magic, "TZif", 4) == 0;
}

enum vl_err
query_tz_check(const struct qnode *n, char **tz, char *err)
{
	const char *v = n->value;

	*tz = NULL;
	if (strlen(v) > QUERY_TZ_MAX)
		return query_err(err, VL_ERR_LIMIT, n->pos, "tz: takes at most %d bytes",
				 QUERY_TZ_MAX);
	if (g_ascii_strcasecmp(v, "UTC") == 0 || g_ascii_strcasecmp(v, "Z") == 0)
		return VL_OK;
	if ((*tz = tz_offset(v)) != NULL)
		return VL_OK;
	if (tz_name_known(v)) {
		*tz = xstrdup(v);
		return VL_OK;
	}
	return query_err(err, VL_ERR_PARSE, n->pos,
			 "tz: '%.*s' is no time zone: write UTC, an offset like +09:00 or a name "
			 "like Asia/Tokyo",
			 query_cut(v, 40), v);
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

/* ---- business fields (電子帳簿保存法) ---- */

/* amount_side - side_fn of amounts: 120000, 1234.50 (archiver/bizfields' syntax). */
static enum vl_err
amount_side(const struct qnode *n, const char *s, size_t len, int64_t *v, char *err)
{
	if (bizfields_amount_parse(s, len, v))
		return VL_OK;
	return query_err(err, VL_ERR_PARSE, n->pos,
			 "%s expects an amount like 120000 or 1234.50%s (not negative, at most %d "
			 "digits before the point and %d after it)",
			 n->field->name, field_ranges(n) ? " or a range like 100000..300000" : "",
			 BIZ_AMOUNT_DIGITS, BIZ_AMOUNT_DECIMALS);
}

/* day_text - day YYYYMMDD as date input (owned). */
static char *
day_text(int64_t day)
{
	return xasprintf("%04d-%02d-%02d", (int)(day / 10000), (int)(day / 100 % 100),
			 (int)(day % 100));
}

/* amount: and txdate: compare by the field's operator ("=" for amount:N, txdate:D); a range
 * A..B includes both ends, and a date is a day (no time zone: the day on the document). */
static const struct ranged amount_ranged = {amount_side, bizfields_amount_text, "bf", "amount",
					    "numeric"};
static const struct ranged txdate_ranged = {day_side, day_text, "bf", "txdate", "date"};

/* sql_party - counterparty:NAME, a case-insensitive substring of the counterparty's name
 * (株式会社テスト, テスト and "test corp" all find "Test Corp 株式会社テスト"). */
static enum vl_err
sql_party(struct qparams *e, const struct qnode *n, struct buf *out, char *err)
{
	char *v = value_trimmed(n);

	if (v == NULL)
		return query_err(err, VL_ERR_PARSE, n->pos, "%s needs a name", n->field->name);
	if (g_utf8_strlen(v, -1) > BIZ_COUNTERPARTY_MAX) {
		free(v);
		return query_err(err, VL_ERR_LIMIT, n->pos, "%s a name has at most %d characters",
				 n->field->name, BIZ_COUNTERPARTY_MAX);
	}
	buf_appendf(out, "lower(bf.counterparty) LIKE $%d", qparams_add(e, like_escape(v, true)));
	free(v);
	return VL_OK;
}

/* sql_business - amount:, txdate:, counterparty: on the current version of the message's
 * business fields (schema 0013's view): one EXISTS per term, so terms combine with every
 * other by AND, OR and NOT, and a message with no fields matches none of them. */
static enum vl_err
sql_business(struct qparams *e, const struct qnode *n, struct buf *out, char *err)
{
	bool both;
	enum vl_err rc;

	buf_append_str(out, "EXISTS (SELECT 1 FROM business_fields_current bf WHERE "
			    "bf.message_id = mi.message_id AND ");
	if (n->field->cls == QC_PARTY)
		rc = sql_party(e, n, out, err);
	else
		rc = sql_ranged(e, n, n->field->cls == QC_AMOUNT ? &amount_ranged : &txdate_ranged,
				out, &both, err);
	buf_append_str(out, ")");
	return rc;
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
		return sql_ranged(e, n, &size_ranged, out, compound, err);
	case QC_DATE:
		return sql_date(e, n, out, compound, err);
	case QC_AGE:
		return sql_age(e, n, out, err);
	case QC_HOLD:
		return sql_hold(e, n, out, err);
	case QC_TZ:
		return query_err(err, VL_ERR_PARSE, n->pos,
				 "tz: sets the zone of the whole query: put it beside the other "
				 "terms, not inside OR, NOT, NEAR, {} or parentheses");
	case QC_AMOUNT:
	case QC_TXDATE:
	case QC_PARTY:
		return sql_business(e, n, out, err);
	case QC_TEXT:
		break;
	}
	return query_err(err, VL_ERR_INTERNAL, n->pos, "full text compiled as a field");
}
