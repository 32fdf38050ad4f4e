/* query - the parsed query compiled to SQL over message_index AS mi (see query.h).
 *
 * Full text: a word or phrase is split by fts_tokens, exactly as the indexer splits text, and
 * becomes a tsquery literal ('a' <-> 'b', weights as :A/:B/:D, a prefix as :*). Every subtree
 * made only of full-text terms becomes ONE tsquery (fewer GIN scans), and the full-text kids of
 * a mixed AND/OR group are merged into one too. NEAR/n is an OR of <1>..<n> in both orders.
 * The other fields are query_field's. */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fts.h"
#include "query.h"
#include "query_field.h"
#include "query_parse.h"

/* SQL precedence of an emitted expression, to know when a parent must add parentheses. */
enum sql_prec { SP_OR, SP_AND, SP_NOT, SP_ATOM };

struct emit {
	struct query_sql *out; /* highlights go straight to out */
	struct qparams params;
	int cap_hl;
	char *err;
};

/* ---- highlights ---- */

/* hl_add - remember a positive full-text term for snippets, once. */
static void
hl_add(struct emit *e, const struct qnode *n)
{
	struct query_sql *o = e->out;
	char *low = query_lower(n->value), *h = n->prefix ? xasprintf("%s*", low) : xstrdup(low);

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
	if (l.n > 1 || n->prefix || *w)
		e->out->rechecks = true;
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
		e->out->rechecks = true;
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
	buf_appendf(out, "mi.tsv @@ $%d::tsquery",
		    qparams_add(&e->params, xstrdup((const char *)ts->data)));
}

/* ---- the tree ---- */

/* The most parameters one query can need: a term gives at most QUERY_MAX_PHRASE (address
 * words), and PostgreSQL numbers parameters up to 65535. */
#define QUERY_FIRST_PARAM_MAX (65535 - QUERY_MAX_TERMS * QUERY_MAX_PHRASE)

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
		rc = query_field_sql(out, &e->params, n, &c, e->err);
		*prec = c ? SP_AND : SP_ATOM;
		return rc;
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

/* is_tz - a tz: term. */
static bool
is_tz(const struct qnode *n)
{
	return n->kind == QN_TERM && n->field->cls == QC_TZ;
}

/* take_tz - the query's tz: terms at its top (the root, or kids of a root AND) out of the tree
 * into *tz (owned; NULL for UTC); one zone, however often written. A tz: deeper in the tree is
 * left there, for query_field_sql to refuse. */
static enum vl_err
take_tz(struct qtree *t, char **tz, char *err)
{
	struct qnode *r = t->root;
	bool seen = false;
	enum vl_err rc = VL_OK;
	int kept = 0;

	*tz = NULL;
	for (int k = 0; r && rc == VL_OK && k < (r->kind == QN_AND ? r->nkids : 1); k++) {
		struct qnode *n = r->kind == QN_AND ? r->kids[k] : r;
		char *z = NULL;

		if (!is_tz(n)) {
			if (r->kind == QN_AND)
				r->kids[kept++] = n;
			continue;
		}
		if ((rc = query_tz_check(n, &z, err)) == VL_OK && seen &&
		    g_strcmp0(z, *tz) != 0)
			rc = query_err(err, VL_ERR_PARSE, n->pos,
				       "tz: is given twice with two zones");
		seen = true;
		free(*tz);
		*tz = z;
	}
	if (rc != VL_OK) {
		free(*tz);
		*tz = NULL;
	} else if (r && r->kind != QN_AND && seen) {
		t->root = NULL; /* the query is tz: alone */
	} else if (r && r->kind == QN_AND) {
		r->nkids = kept;
		if (kept == 1)
			t->root = r->kids[0];
		else if (kept == 0)
			t->root = NULL;
	}
	return rc;
}

/* ---- the scope: full-text terms unknown (query_compile_scope) ---- */

/* What a subtree is once its full-text terms are unknown: a constant, or SQL to emit. */
enum scope_kind { SK_TRUE, SK_FALSE, SK_SQL };

/* scope_kind_of - whether n may hold (maybe) or surely holds (!maybe) for a message whose text
 * is unknown: a full-text subtree may hold and is never sure; NOT swaps the two; AND and OR
 * fold their constants. Pure, so that only what is emitted takes parameters (PostgreSQL
 * refuses a parameter no SQL names: its type cannot be known). */
static enum scope_kind
scope_kind_of(const struct qnode *n, bool maybe)
{
	enum scope_kind k, absorb, ident, r;

	if (is_ft(n))
		return maybe ? SK_TRUE : SK_FALSE;
	if (n->kind == QN_TERM)
		return SK_SQL;
	if (n->kind == QN_NOT) {
		k = scope_kind_of(n->kids[0], !maybe);
		return k == SK_SQL ? SK_SQL : k == SK_TRUE ? SK_FALSE : SK_TRUE;
	}
	absorb = n->kind == QN_AND ? SK_FALSE : SK_TRUE;
	ident = n->kind == QN_AND ? SK_TRUE : SK_FALSE;
	r = ident;
	for (int i = 0; i < n->nkids; i++) {
		k = scope_kind_of(n->kids[i], maybe);
		if (k == absorb)
			return absorb;
		if (k == SK_SQL)
			r = SK_SQL;
	}
	return r;
}

/* scope_node - the SQL of n, whose scope_kind_of(n, maybe) is SK_SQL: constant kids of a group
 * are left out (each is its group's identity, or the group would be a constant). */
static enum vl_err
scope_node(struct emit *e, const struct qnode *n, bool maybe, struct buf *out,
	   enum sql_prec *prec)
{
	struct buf frag = {0};
	enum vl_err rc = VL_OK;
	enum sql_prec p = SP_ATOM;
	int count = 0;
	bool c;

	if (n->kind == QN_TERM) {
		rc = query_field_sql(out, &e->params, n, &c, e->err);
		*prec = c ? SP_AND : SP_ATOM;
		return rc;
	}
	if (n->kind == QN_NOT) {
		if ((rc = scope_node(e, n->kids[0], !maybe, &frag, &p)) == VL_OK) {
			buf_append_str(out, "NOT ");
			append_sql(out, &frag, true);
		}
		buf_free(&frag);
		*prec = SP_NOT;
		return rc;
	}
	for (int k = 0; k < n->nkids && rc == VL_OK; k++) {
		if (scope_kind_of(n->kids[k], maybe) != SK_SQL)
			continue;
		buf_reset(&frag);
		if ((rc = scope_node(e, n->kids[k], maybe, &frag, &p)) != VL_OK)
			break;
		buf_append_str(out, count++ ? (n->kind == QN_AND ? " AND " : " OR ") : "");
		append_sql(out, &frag, p <= SP_AND);
	}
	buf_free(&frag);
	*prec = count > 1 ? (n->kind == QN_AND ? SP_AND : SP_OR) : p;
	return rc;
}

/* scope_check - compile root as the query itself, to be thrown away: a scope is refused
 * exactly where its query is (a term without a searchable word, a phrase too long). */
static enum vl_err
scope_check(const struct emit *e, const struct qnode *root)
{
	struct query_sql junk = {0};
	struct emit v = {.out = &junk,
			 .params = {.first = e->params.first,
				    .tz = e->params.tz,
				    .hide_bcc = e->params.hide_bcc},
			 .err = e->err};
	struct buf w = {0};
	enum sql_prec prec;
	enum vl_err rc = sql_node(&v, root, false, &w, &prec);

	buf_free(&w);
	qparams_free(&v.params);
	query_sql_free(&junk);
	return rc;
}

/* compile_tree - the WHERE of tree into where, its precedence into *prec: the query's, or with
 * scope its scope. */
static enum vl_err
compile_tree(struct emit *e, const struct qtree *tree, bool scope, struct buf *where,
	     enum sql_prec *prec)
{
	enum vl_err rc;

	*prec = SP_ATOM;
	if (tree->root == NULL)
		buf_append_str(where, "true");
	else if (!scope)
		return sql_node(e, tree->root, false, where, prec);
	else if ((rc = scope_check(e, tree->root)) != VL_OK)
		return rc;
	else if (scope_kind_of(tree->root, true) != SK_SQL)
		buf_append_str(where, "true"); /* never SK_FALSE: no term is sure to fail */
	else
		return scope_node(e, tree->root, true, where, prec);
	return VL_OK;
}

/* QUERY_BCC_SHOWN - the rows a caller without Bcc visibility may get: not journal reports (2),
 * and not rows the indexer has not classified since 0015 (NULL). A message whose own header
 * has Bcc (1) stays: no operator it can use reads that header, and the callers (export, the
 * message routes) decide what to do with it. */
#define QUERY_BCC_SHOWN "coalesce(mi.bcc_exposure, 2) < 2"

/* compile - query_compile_for, or with scope query_compile_scope_for. */
static enum vl_err
compile(struct query_sql *out, const char *q, int first_param, bool hide_bcc, bool scope,
	char *err)
{
	struct emit e = {.out = out, .params = {.first = first_param, .hide_bcc = hide_bcc},
			 .err = err};
	struct qtree tree = {0};
	struct buf where = {0}, frag = {0};
	enum sql_prec prec = SP_ATOM;
	char *tz = NULL;
	const char *bad;
	enum vl_err rc;
	size_t len;

	memset(out, 0, sizeof(*out));
	if (first_param < 1 || first_param > QUERY_FIRST_PARAM_MAX)
		return vl_err_set(err, VL_ERR_CONFIG, "first_param %d is not in 1..%d", first_param,
				  QUERY_FIRST_PARAM_MAX);
	len = strnlen(q, QUERY_MAX_BYTES + 1);
	if (len > QUERY_MAX_BYTES)
		return query_err(err, VL_ERR_LIMIT, QUERY_MAX_BYTES,
				 "the query is longer than %d bytes", QUERY_MAX_BYTES);
	if (!g_utf8_validate(q, (gssize)len, &bad))
		return query_err(err, VL_ERR_PARSE, (int)(bad - q), "invalid UTF-8");
	if ((rc = query_parse(&tree, q, err)) != VL_OK || (rc = take_tz(&tree, &tz, err)) != VL_OK)
		goto out;
	e.params.tz = tz;
	if (hide_bcc)
		buf_append_str(&where, QUERY_BCC_SHOWN " AND ");
	if ((rc = compile_tree(&e, &tree, scope, &frag, &prec)) == VL_OK)
		append_sql(&where, &frag, hide_bcc && prec == SP_OR);
out:
	qtree_free(&tree);
	free(tz);
	buf_free(&frag);
	if (rc != VL_OK) {
		buf_free(&where);
		qparams_free(&e.params);
		query_sql_free(out);
		return rc;
	}
	out->where = (char *)where.data;
	out->params = e.params.v;
	out->nparams = e.params.n;
	return VL_OK;
}

enum vl_err
query_compile(struct query_sql *out, const char *q, int first_param, char *err)
{
	return compile(out, q, first_param, false, false, err);
}

enum vl_err
query_compile_for(struct query_sql *out, const char *q, int first_param, bool hide_bcc,
		  char *err)
{
	return compile(out, q, first_param, hide_bcc, false, err);
}

enum vl_err
query_compile_scope(struct query_sql *out, const char *q, int first_param, char *err)
{
	return compile(out, q, first_param, false, true, err);
}

enum vl_err
query_compile_scope_for(struct query_sql *out, const char *q, int first_param, bool hide_bcc,
			char *err)
{
	return compile(out, q, first_param, hide_bcc, true, err);
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
