/* query - the parsed query compiled to SQL over message_index AS mi (see query.h).
 *
 * Full text: a word or phrase is split by fts_tokens, exactly as the indexer splits text, and
 * becomes a tsquery literal ('a' <-> 'b', weights as :A/:B/:D, a prefix as :*). Every subtree
 * made only of full-text terms becomes ONE tsquery (fewer GIN scans), and the full-text kids of
 * a mixed AND/OR group are merged into one too. NEAR/n is an OR of <1>..<n> in both orders.
 * Addresses: one && overlap of addr_terms with an array of "<field>:<kind>:<value>". */
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fts.h"
#include "pgarray.h"
#include "query.h"
#include "query_parse.h"

/* SQL precedence of an emitted expression, to know when a parent must add parentheses. */
enum sql_prec { SP_OR, SP_AND, SP_NOT, SP_ATOM };

struct emit {
	struct query_sql *out;
	int first;
	int cap_params;
	int cap_hl;
	char *err;
};

/* ---- parameters and highlights ---- */

/* param_add - append an owned parameter value and return its placeholder number. */
static int
param_add(struct emit *e, char *value)
{
	struct query_sql *o = e->out;

	if (o->nparams == e->cap_params) {
		e->cap_params = e->cap_params ? 2 * e->cap_params : 8;
		o->params = xrealloc(o->params, (size_t)e->cap_params * sizeof(*o->params));
	}
	o->params[o->nparams++] = value;
	return e->first + o->nparams - 1;
}

/* lower_dup - s lower-cased (Unicode), owned by the caller. */
static char *
lower_dup(const char *s)
{
	gchar *g = g_utf8_strdown(s, -1);
	char *d = xstrdup(g);

	g_free(g);
	return d;
}

/* hl_add - remember a positive full-text term for snippets, once. */
static void
hl_add(struct emit *e, const struct qnode *n)
{
	struct query_sql *o = e->out;
	char *low = lower_dup(n->value), *h = n->prefix ? xasprintf("%s*", low) : xstrdup(low);

	free(low);
	for (int k = 0; k < o->nhighlight; k++) {
		if (strcmp(o->highlight[k], h) == 0) {
			free(h);
			return;
		}
	}
	if (o->nhighlight == e->cap_hl) {
		e->cap_hl = e->cap_hl ? 2 * e->cap_hl : 8;
		o->highlight = xrealloc(o->highlight, (size_t)e->cap_hl * sizeof(*o->highlight));
	}
	o->highlight[o->nhighlight++] = h;
}

/* ---- full text: tsquery literals ---- */

/* The lexemes of one term, each already quoted for tsquery input. */
struct lexemes {
	struct buf text;
	size_t end[QUERY_MAX_PHRASE];
	int n;
};

/* lexeme_add - fts_token_fn: quote one lexeme ('...' with ' doubled, \ escaped). */
static int
lexeme_add(void *ctx, const char *lex, size_t len)
{
	struct lexemes *l = ctx;

	if (l->n == QUERY_MAX_PHRASE)
		return 1;
	buf_append(&l->text, "'", 1);
	for (size_t k = 0; k < len; k++) {
		if (lex[k] == '\'' || lex[k] == '\\')
			buf_append(&l->text, lex[k] == '\'' ? "'" : "\\", 1);
		buf_append(&l->text, lex + k, 1);
	}
	buf_append(&l->text, "'", 1);
	l->end[l->n++] = l->text.len;
	return 0;
}

/* ts_term - a word or phrase as 'a':W <-> 'b':W (the last lexeme :* for a prefix). */
static enum vl_err
ts_term(struct emit *e, const struct qnode *n, struct buf *out, bool *compound)
{
	struct lexemes l = {0};
	const char *w = n->field->arg;
	size_t start = 0;

	if (fts_tokens(n->value, strlen(n->value), lexeme_add, &l) != 0) {
		buf_free(&l.text);
		return query_err(e->err, VL_ERR_LIMIT, n->pos, "more than %d words in one phrase",
				 QUERY_MAX_PHRASE);
	}
	if (l.n == 0) {
		buf_free(&l.text);
		return query_err(e->err, VL_ERR_PARSE, n->pos, "'%.*s' has no searchable word",
				 query_cut(n->value, 60), n->value);
	}
	for (int k = 0; k < l.n; k++) {
		bool star = n->prefix && k == l.n - 1;

		buf_append_str(out, k ? " <-> " : "");
		buf_append(out, l.text.data + start, l.end[k] - start);
		if (star || *w)
			buf_appendf(out, ":%s%s", star ? "*" : "", w);
		start = l.end[k];
	}
	*compound = l.n > 1;
	buf_free(&l.text);
	return VL_OK;
}

/* append_operand - frag into out, parenthesized when it is compound. */
static void
append_operand(struct buf *out, const struct buf *frag, bool compound)
{
	buf_appendf(out, compound ? "(%s)" : "%s", frag->len ? (const char *)frag->data : "");
}

static enum vl_err ts_node(struct emit *e, const struct qnode *n, bool neg, struct buf *out,
			   bool *compound);

/* ts_near - a NEAR/n b: (a <1> b) | (b <1> a) | ... | (a <n> b) | (b <n> a). PostgreSQL's <N>
 * is an exact distance (from the end of a phrase to the start of the next), hence the OR. */
static enum vl_err
ts_near(struct emit *e, const struct qnode *n, bool neg, struct buf *out)
{
	struct buf a = {0}, b = {0};
	bool ca, cb;
	enum vl_err rc;

	if ((rc = ts_node(e, n->kids[0], neg, &a, &ca)) == VL_OK &&
	    (rc = ts_node(e, n->kids[1], neg, &b, &cb)) == VL_OK) {
		for (int d = 1; d <= n->near; d++) {
			buf_append_str(out, d > 1 ? " | " : "");
			append_operand(out, &a, ca);
			buf_appendf(out, " <%d> ", d);
			append_operand(out, &b, cb);
			buf_append_str(out, " | ");
			append_operand(out, &b, cb);
			buf_appendf(out, " <%d> ", d);
			append_operand(out, &a, ca);
		}
	}
	buf_free(&a);
	buf_free(&b);
	return rc;
}

/* ts_kids - the kids of n for which pick() holds, joined by & (AND) or | (OR). */
static enum vl_err
ts_kids(struct emit *e, const struct qnode *n, bool neg, bool (*pick)(const struct qnode *),
	struct buf *out, bool *compound)
{
	enum vl_err rc = VL_OK;
	int count = 0;
	bool c = false;

	for (int k = 0; k < n->nkids && rc == VL_OK; k++) {
		struct buf frag = {0};

		if (!pick(n->kids[k]))
			continue;
		if ((rc = ts_node(e, n->kids[k], neg, &frag, &c)) == VL_OK) {
			buf_append_str(out, count++ ? (n->kind == QN_AND ? " & " : " | ") : "");
			append_operand(out, &frag, c);
		}
		buf_free(&frag);
	}
	*compound = count > 1 || c;
	return rc;
}

/* is_ft - true when n is made only of full-text terms (one tsquery can say it all). */
static bool
is_ft(const struct qnode *n)
{
	switch (n->kind) {
	case QN_TERM:
		return n->field->cls == QC_TEXT;
	case QN_NEAR:
		return true;
	case QN_NOT:
		return is_ft(n->kids[0]);
	default:
		for (int k = 0; k < n->nkids; k++)
			if (!is_ft(n->kids[k]))
				return false;
		return true;
	}
}

/* ts_node - the tsquery text of a full-text subtree; neg: under an odd number of NOTs. */
static enum vl_err
ts_node(struct emit *e, const struct qnode *n, bool neg, struct buf *out, bool *compound)
{
	struct buf kid = {0};
	enum vl_err rc;
	bool c;

	switch (n->kind) {
	case QN_TERM:
		if (!neg)
			hl_add(e, n);
		return ts_term(e, n, out, compound);
	case QN_NEAR:
		*compound = true;
		return ts_near(e, n, neg, out);
	case QN_NOT:
		if ((rc = ts_node(e, n->kids[0], !neg, &kid, &c)) == VL_OK) {
			buf_append_str(out, "!");
			append_operand(out, &kid, c);
		}
		buf_free(&kid);
		*compound = false;
		return rc;
	default:
		return ts_kids(e, n, neg, is_ft, out, compound);
	}
}

/* sql_tsquery - "mi.tsv @@ $N::tsquery" with the tsquery text as the parameter. */
static void
sql_tsquery(struct emit *e, struct buf *ts, struct buf *out)
{
	buf_appendf(out, "mi.tsv @@ $%d::tsquery", param_add(e, xstrdup((const char *)ts->data)));
}

/* ---- the other fields ---- */

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

/* sql_addr_word - one address word: && on the exact terms, or LIKE on a prefix. */
static enum vl_err
sql_addr_word(struct emit *e, const struct qnode *n, const char *w, bool prefix, struct buf *out)
{
	struct addr_kind k;
	struct pgarr a = {0};
	char *v, elem[8];

	addr_classify(w, &k);
	if (k.value[0] == 0) {
		free(k.value);
		return query_err(e->err, VL_ERR_PARSE, n->pos,
				 "%s: '@' needs an address, a local part or a domain", n->field->name);
	}
	v = prefix ? like_escape(k.value) : xstrdup(k.value);
	for (const char *f = n->field->arg; *f; f++) {
		for (const char *kd = k.kinds; *kd; kd++) {
			char *t;

			snprintf(elem, sizeof(elem), "%c:%c:", *f, *kd);
			t = xasprintf("%s%s", elem, v);
			pgarr_text(&a, t);
			free(t);
		}
	}
	if (prefix)
		buf_appendf(out, "EXISTS (SELECT 1 FROM unnest(mi.addr_terms) t WHERE t LIKE ANY "
				 "($%d::text[]))",
			    param_add(e, xstrdup(pgarr_str(&a))));
	else
		buf_appendf(out, "mi.addr_terms && $%d::text[]", param_add(e, xstrdup(pgarr_str(&a))));
	pgarr_free(&a);
	free(v);
	free(k.value);
	return VL_OK;
}

/* sql_addr - from:/to:/cc:/bcc:/participants:, lower-cased; several words must all match
 * (from:"jeff skilling"); a '*' applies to the last word. */
static enum vl_err
sql_addr(struct emit *e, const struct qnode *n, struct buf *out, enum sql_prec *prec)
{
	char *low = lower_dup(n->value);
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
		rc = query_err(e->err, VL_ERR_PARSE, n->pos, "%s: needs a value", n->field->name);
	else if (count > QUERY_MAX_PHRASE)
		rc = query_err(e->err, VL_ERR_LIMIT, n->pos, "%s: more than %d words", n->field->name,
			       QUERY_MAX_PHRASE);
	for (int k = 0; words[k] && rc == VL_OK; k++) {
		if (words[k][0] == 0)
			continue;
		buf_append_str(out, done++ ? " AND " : "");
		rc = sql_addr_word(e, n, words[k], n->prefix && k == last, out);
	}
	g_strfreev(words);
	free(low);
	*prec = count > 1 ? SP_AND : SP_ATOM;
	return rc;
}

/* value_trimmed - the value lower-cased without surrounding white space; NULL if empty. */
static char *
value_trimmed(const struct qnode *n)
{
	char *v = lower_dup(n->value);

	g_strstrip(v);
	if (v[0] == 0) {
		free(v);
		return NULL;
	}
	return v;
}

/* sql_id - id:<Message-ID>, exact, without angle brackets, lower-case. */
static enum vl_err
sql_id(struct emit *e, const struct qnode *n, struct buf *out)
{
	char *v = value_trimmed(n), *s;
	size_t len;

	if (v == NULL)
		return query_err(e->err, VL_ERR_PARSE, n->pos, "id: needs a Message-ID");
	s = v + (v[0] == '<');
	len = strlen(s);
	if (len > 0 && s[len - 1] == '>')
		s[--len] = 0;
	if (len == 0) {
		free(v);
		return query_err(e->err, VL_ERR_PARSE, n->pos, "id: needs a Message-ID");
	}
	buf_appendf(out, "mi.msgid = $%d", param_add(e, xstrdup(s)));
	free(v);
	return VL_OK;
}

/* sql_custodian - every address the custodian uses, in any address field. */
static enum vl_err
sql_custodian(struct emit *e, const struct qnode *n, struct buf *out)
{
	char *v = value_trimmed(n);

	if (v == NULL)
		return query_err(e->err, VL_ERR_PARSE, n->pos, "custodian: needs a name");
	buf_appendf(out,
		    "mi.addr_terms && ARRAY(SELECT f || ':a:' || ca.address FROM custodian_addresses ca "
		    "CROSS JOIN unnest(ARRAY['f','t','c','b','e','r']) f WHERE ca.custodian = $%d)",
		    param_add(e, v));
	return VL_OK;
}

/* sql_hold - messages under the legal hold named (lower-cased, like custodian names).
 * XXX: the holds tables arrive with the legal-hold issue; this is the one place to adapt. */
static enum vl_err
sql_hold(struct emit *e, const struct qnode *n, struct buf *out)
{
	char *v = value_trimmed(n);

	if (v == NULL)
		return query_err(e->err, VL_ERR_PARSE, n->pos, "hold: needs a name");
	buf_appendf(out,
		    "EXISTS (SELECT 1 FROM hold_messages hm JOIN holds h ON h.id = hm.hold_id WHERE "
		    "h.name = $%d AND hm.message_id = mi.message_id)",
		    param_add(e, v));
	return VL_OK;
}

/* sql_has - has:attachment, the only has: there is. */
static enum vl_err
sql_has(struct emit *e, const struct qnode *n, struct buf *out)
{
	if (g_ascii_strcasecmp(n->value, "attachment") != 0)
		return query_err(e->err, VL_ERR_PARSE, n->pos, "has: knows only has:attachment");
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
	case 'K': mult = INT64_C(1) << 10; p++; break;
	case 'M': mult = INT64_C(1) << 20; p++; break;
	case 'G': mult = INT64_C(1) << 30; p++; break;
	default: break;
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
sql_size(struct emit *e, const struct qnode *n, struct buf *out)
{
	int64_t bytes;

	if (!parse_size(n->value, &bytes))
		return query_err(e->err, VL_ERR_PARSE, n->pos,
				 "%s: expects a size like 10M or 500K (K, M, G: binary multiples)",
				 n->field->name);
	buf_appendf(out, "mi.size %s $%d::bigint", n->field->arg,
		    param_add(e, xasprintf("%" PRId64, bytes)));
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
date_bad(struct emit *e, const struct qnode *n)
{
	return query_err(e->err, VL_ERR_PARSE, n->pos, "%s: expects a date like 2001-05-31%s",
			 n->field->name,
			 n->field->mode == QD_RANGE ? " or a range like 2001-05-01..2001-05-31" : "");
}

/* date_side - one side of a range; an empty side is open (*set false). */
static enum vl_err
date_side(struct emit *e, const struct qnode *n, const char *s, size_t len, struct day *d,
	  bool *set)
{
	int rc;

	*set = len > 0;
	if (len == 0)
		return VL_OK;
	if ((rc = parse_day(s, len, d)) == 0)
		return VL_OK;
	if (rc == -2)
		return query_err(e->err, VL_ERR_PARSE, n->pos, "%s: '%.*s' is not a day of the calendar",
				 n->field->name, (int)len, s);
	return date_bad(e, n);
}

/* date_range - the value as days [from, to]: "D" is [D, D]; date: and received: also take
 * "A..B", "A.." and "..B" (an open side is unset). */
static enum vl_err
date_range(struct emit *e, const struct qnode *n, struct day *from, bool *has_from,
	   struct day *to, bool *has_to)
{
	const char *v = n->value, *dots = strstr(v, "..");
	enum vl_err rc;

	if (dots == NULL) {
		if ((rc = date_side(e, n, v, strlen(v), from, has_from)) != VL_OK)
			return rc;
		*to = *from;
		*has_to = *has_from;
		return VL_OK;
	}
	if (n->field->mode != QD_RANGE)
		return date_bad(e, n);
	if ((rc = date_side(e, n, v, (size_t)(dots - v), from, has_from)) != VL_OK ||
	    (rc = date_side(e, n, dots + 2, strlen(dots + 2), to, has_to)) != VL_OK)
		return rc;
	if (!*has_from && !*has_to)
		return query_err(e->err, VL_ERR_PARSE, n->pos,
				 "%s: '..' needs a date on one side at least", n->field->name);
	if (*has_from && *has_to && day_cmp(*from, *to) > 0)
		return query_err(e->err, VL_ERR_PARSE, n->pos, "%s: the range ends before it starts",
				 n->field->name);
	return VL_OK;
}

/* sql_date - after:D is >= D, before:D is < D (both midnight UTC); date: and received: A..B
 * are >= A and < B + 1 day, so B is included. */
static enum vl_err
sql_date(struct emit *e, const struct qnode *n, struct buf *out, enum sql_prec *prec)
{
	const char *col = n->field->arg;
	struct day from, to;
	bool has_from, has_to;
	enum vl_err rc;

	if ((rc = date_range(e, n, &from, &has_from, &to, &has_to)) != VL_OK)
		return rc;
	*prec = SP_ATOM;
	if (n->field->mode == QD_AFTER || n->field->mode == QD_BEFORE) {
		buf_appendf(out, "mi.%s %s $%d::timestamptz", col,
			    n->field->mode == QD_AFTER ? ">=" : "<", param_add(e, day_param(from)));
		return VL_OK;
	}
	if (has_from)
		buf_appendf(out, "mi.%s >= $%d::timestamptz", col, param_add(e, day_param(from)));
	if (has_from && has_to) {
		buf_append_str(out, " AND ");
		*prec = SP_AND;
	}
	if (has_to)
		buf_appendf(out, "mi.%s < $%d::timestamptz", col, param_add(e, day_param(day_next(to))));
	return VL_OK;
}

/* ---- the tree ---- */

/* The most parameters one query can need: a term gives at most QUERY_MAX_PHRASE (address
 * words), and PostgreSQL numbers parameters up to 65535. */
#define QUERY_FIRST_PARAM_MAX (65535 - QUERY_MAX_TERMS * QUERY_MAX_PHRASE)

/* sql_term - one field:value that is not full text. */
static enum vl_err
sql_term(struct emit *e, const struct qnode *n, struct buf *out, enum sql_prec *prec)
{
	*prec = SP_ATOM;
	if (n->prefix && n->field->cls != QC_ADDR)
		return query_err(e->err, VL_ERR_PARSE, n->pos,
				 "%s: takes no '*' (only words, phrases and addresses do)", n->field->name);
	switch (n->field->cls) {
	case QC_ADDR:
		return sql_addr(e, n, out, prec);
	case QC_ID:
		return sql_id(e, n, out);
	case QC_CUSTODIAN:
		return sql_custodian(e, n, out);
	case QC_HAS:
		return sql_has(e, n, out);
	case QC_SIZE:
		return sql_size(e, n, out);
	case QC_DATE:
		return sql_date(e, n, out, prec);
	case QC_HOLD:
		return sql_hold(e, n, out);
	case QC_TEXT:
		break;
	}
	return query_err(e->err, VL_ERR_INTERNAL, n->pos, "full text compiled as a field");
}

/* append_sql - frag into out, in parentheses when wrap. */
static void
append_sql(struct buf *out, const struct buf *frag, bool wrap)
{
	buf_appendf(out, wrap ? "(%s)" : "%s", frag->len ? (const char *)frag->data : "");
}

static enum vl_err sql_node(struct emit *e, const struct qnode *n, bool neg, struct buf *out,
			    enum sql_prec *prec);

/* sql_group - an AND or OR of mixed kids: the full-text kids become one tsquery, in the place
 * of the first of them; the other kids follow in order. */
static enum vl_err
sql_group(struct emit *e, const struct qnode *n, bool neg, struct buf *out, enum sql_prec *prec)
{
	bool merged = false, c;
	enum vl_err rc = VL_OK;
	int count = 0;

	for (int k = 0; k < n->nkids && rc == VL_OK; k++) {
		struct buf frag = {0}, ts = {0};
		enum sql_prec p = SP_ATOM;

		if (is_ft(n->kids[k]) && merged)
			continue;
		if (is_ft(n->kids[k])) {
			merged = true;
			if ((rc = ts_kids(e, n, neg, is_ft, &ts, &c)) == VL_OK)
				sql_tsquery(e, &ts, &frag);
		} else {
			rc = sql_node(e, n->kids[k], neg, &frag, &p);
		}
		if (rc == VL_OK) {
			buf_append_str(out, count++ ? (n->kind == QN_AND ? " AND " : " OR ") : "");
			append_sql(out, &frag, p <= SP_AND);
		}
		buf_free(&ts);
		buf_free(&frag);
	}
	*prec = n->kind == QN_AND ? SP_AND : SP_OR;
	return rc;
}

/* sql_node - the SQL of any subtree; neg: under an odd number of NOTs (for highlights). */
static enum vl_err
sql_node(struct emit *e, const struct qnode *n, bool neg, struct buf *out, enum sql_prec *prec)
{
	struct buf frag = {0};
	enum sql_prec p;
	enum vl_err rc;
	bool c;

	if (is_ft(n)) {
		if ((rc = ts_node(e, n, neg, &frag, &c)) == VL_OK)
			sql_tsquery(e, &frag, out);
		buf_free(&frag);
		*prec = SP_ATOM;
		return rc;
	}
	switch (n->kind) {
	case QN_TERM:
		return sql_term(e, n, out, prec);
	case QN_NOT:
		if ((rc = sql_node(e, n->kids[0], !neg, &frag, &p)) == VL_OK) {
			buf_append_str(out, "NOT ");
			append_sql(out, &frag, true);
		}
		buf_free(&frag);
		*prec = SP_NOT;
		return rc;
	default:
		return sql_group(e, n, neg, out, prec);
	}
}

enum vl_err
query_compile(struct query_sql *out, const char *q, int first_param, char *err)
{
	struct emit e = {.out = out, .first = first_param, .err = err};
	struct qtree tree = {0};
	struct buf where = {0};
	enum sql_prec prec;
	const char *bad;
	enum vl_err rc;
	size_t len;

	memset(out, 0, sizeof(*out));
	if (first_param < 1 || first_param > QUERY_FIRST_PARAM_MAX)
		return vl_err_set(err, VL_ERR_CONFIG, "first_param %d is not in 1..%d", first_param,
				  QUERY_FIRST_PARAM_MAX);
	len = strnlen(q, QUERY_MAX_BYTES + 1);
	if (len > QUERY_MAX_BYTES)
		return query_err(err, VL_ERR_LIMIT, QUERY_MAX_BYTES, "the query is longer than %d bytes",
				 QUERY_MAX_BYTES);
	if (!g_utf8_validate(q, (gssize)len, &bad))
		return query_err(err, VL_ERR_PARSE, (int)(bad - q), "invalid UTF-8");
	if ((rc = query_parse(&tree, q, err)) != VL_OK)
		goto out;
	if (tree.root == NULL)
		buf_append_str(&where, "true");
	else
		rc = sql_node(&e, tree.root, false, &where, &prec);
out:
	qtree_free(&tree);
	if (rc != VL_OK) {
		buf_free(&where);
		query_sql_free(out);
		return rc;
	}
	out->where = (char *)where.data;
	return VL_OK;
}

void
query_sql_free(struct query_sql *s)
{
	if (s == NULL)
		return;
	for (int k = 0; k < s->nparams; k++)
		free(s->params[k]);
	for (int k = 0; k < s->nhighlight; k++)
		free(s->highlight[k]);
	free(s->params);
	free(s->highlight);
	free(s->where);
	memset(s, 0, sizeof(*s));
}
