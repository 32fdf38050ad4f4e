/* query_parse - the query language read into a tree (see query_parse.h).
 *
 * Grammar (upper-case keywords only, as Google Vault):
 *   query   := or?
 *   or      := and ("OR" and)*
 *   and     := unary (("AND")? unary)*
 *   unary   := ("NOT" | "-") unary | primary
 *   primary := "(" or ")" | term ("NEAR/n" term)?
 *   term    := (field ":")? (bare | "quoted") "*"?
 * A bare value runs to white space or a parenthesis; a quoted one may hold \" and \\. */
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "query_parse.h"

/* The field table: every field:value the language knows, and what its value searches. */
static const struct qfield fields[] = {
	{"from", QC_ADDR, "f", 0},
	{"to", QC_ADDR, "t", 0},
	{"cc", QC_ADDR, "c", 0},
	{"bcc", QC_ADDR, "b", 0},
	{"participants", QC_ADDR, "ftcber", 0},
	{"subject", QC_TEXT, "A", 0},
	{"filename", QC_TEXT, "B", 0},
	{"body", QC_TEXT, "D", 0},
	{"id", QC_ID, "", 0},
	{"custodian", QC_CUSTODIAN, "", 0},
	{"has", QC_HAS, "", 0},
	{"larger", QC_SIZE, ">", 0},
	{"smaller", QC_SIZE, "<", 0},
	{"after", QC_DATE, "sent_at", QD_AFTER},
	{"before", QC_DATE, "sent_at", QD_BEFORE},
	{"date", QC_DATE, "sent_at", QD_RANGE},
	{"received", QC_DATE, "received_at", QD_RANGE},
	{"hold", QC_HOLD, "", 0},
};

/* Bare words and "phrases": subject, attachment names and body alike. */
static const struct qfield field_bare = {"", QC_TEXT, "", 0};

enum qtok_kind { QT_END, QT_LPAREN, QT_RPAREN, QT_OR, QT_AND, QT_NOT, QT_NEAR, QT_TERM };

struct qtok {
	enum qtok_kind kind;
	int pos;
	int near;
	const struct qfield *field;
	char *value; /* owned until a node takes it */
	bool prefix;
};

struct lexer {
	const char *q;
	size_t len;
	size_t i;
	struct qtok *toks;
	int n;
	int cap;
	int nterms;
	char *err;
};

struct parser {
	struct qtok *toks;
	int i;
	struct qtree *tree;
	char *err;
};

enum vl_err
query_err(char *err, enum vl_err code, int pos, const char *fmt, ...)
{
	char why[QUERY_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return vl_err_set(err, code, "position %d: %s", pos, why);
}

int
query_cut(const char *s, int max)
{
	int n = (int)strlen(s);

	if (n <= max)
		return n;
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--; /* do not split a UTF-8 sequence */
	return max;
}

char *
query_lower(const char *s)
{
	gchar *g = g_utf8_strdown(s, -1);
	char *d = xstrdup(g);

	g_free(g);
	return d;
}

/* ---- lexer ---- */

/* space_len - the byte length of the white-space character at q[i], or 0 if it is none. */
static size_t
space_len(const struct lexer *lx, size_t i)
{
	gunichar c = g_utf8_get_char(lx->q + i);

	if (!g_unichar_isspace(c))
		return 0;
	return (size_t)(g_utf8_next_char(lx->q + i) - (lx->q + i));
}

/* is_stop - true where a bare word ends: the end, white space or a parenthesis. */
static bool
is_stop(const struct lexer *lx, size_t i)
{
	return i >= lx->len || lx->q[i] == '(' || lx->q[i] == ')' || space_len(lx, i) > 0;
}

static struct qtok *
tok_push(struct lexer *lx, enum qtok_kind kind, size_t pos)
{
	struct qtok *t;

	if (lx->n == lx->cap) {
		lx->cap = lx->cap ? 2 * lx->cap : 16;
		lx->toks = xrealloc(lx->toks, (size_t)lx->cap * sizeof(*lx->toks));
	}
	t = &lx->toks[lx->n++];
	memset(t, 0, sizeof(*t));
	t->kind = kind;
	t->pos = (int)pos;
	return t;
}

/* lex_quoted - the string opening at q[i] ('"') into *out (owned), \" and \\ unescaped;
 * *end is the offset past the closing quote. */
static enum vl_err
lex_quoted(struct lexer *lx, size_t i, char **out, size_t *end)
{
	struct buf b = {0};
	size_t j;

	for (j = i + 1; j < lx->len && lx->q[j] != '"'; j++) {
		if (lx->q[j] == '\\' && j + 1 < lx->len &&
		    (lx->q[j + 1] == '"' || lx->q[j + 1] == '\\'))
			j++;
		buf_append(&b, lx->q + j, 1);
	}
	if (j >= lx->len) {
		buf_free(&b);
		return query_err(lx->err, VL_ERR_PARSE, (int)i, "unterminated quote");
	}
	buf_append(&b, "", 0); /* an empty string still gets its NUL */
	*out = (char *)b.data;
	*end = j + 1;
	return VL_OK;
}

/* field_find - the field named q[i..i+n) in any case, or NULL. */
static const struct qfield *
field_find(const char *name, size_t n)
{
	for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++)
		if (strlen(fields[k].name) == n &&
		    g_ascii_strncasecmp(fields[k].name, name, n) == 0)
			return &fields[k];
	return NULL;
}

/* field_len - the length of "letters:" at q[i] (letters only), or 0 when there is none. */
static size_t
field_len(const struct lexer *lx, size_t i)
{
	size_t j = i;

	while (j < lx->len && g_ascii_isalpha(lx->q[j]))
		j++;
	return j > i && j < lx->len && lx->q[j] == ':' ? j - i + 1 : 0;
}

/* dup_n - a NUL-terminated copy of s[0..n). */
static char *
dup_n(const char *s, size_t n)
{
	char *d = xmalloc(n + 1);

	memcpy(d, s, n);
	d[n] = 0;
	return d;
}

/* lex_value - the value at q[i], quoted or bare, into t (value, prefix); *end past it. */
static enum vl_err
lex_value(struct lexer *lx, size_t i, struct qtok *t, size_t *end)
{
	enum vl_err rc;
	size_t j = i;

	if (j < lx->len && lx->q[j] == '"') {
		if ((rc = lex_quoted(lx, j, &t->value, &j)) != VL_OK)
			return rc;
		if (j < lx->len && lx->q[j] == '*') {
			t->prefix = true;
			j++;
		}
		*end = j;
		return VL_OK;
	}
	while (!is_stop(lx, j))
		j++;
	if (j > i && lx->q[j - 1] == '*') {
		t->prefix = true;
		t->value = dup_n(lx->q + i, j - i - 1);
	} else {
		t->value = dup_n(lx->q + i, j - i);
	}
	*end = j;
	return VL_OK;
}

/* lex_near - "NEAR/n" at q[i..end): the distance into t. */
static enum vl_err
lex_near(struct lexer *lx, size_t i, size_t end, struct qtok *t)
{
	const char *d = lx->q + i + 5; /* past "NEAR/" */
	int n = 0;

	if (end - i < 6 || end - i > 7)
		goto bad;
	for (; d < lx->q + end; d++) {
		if (!g_ascii_isdigit(*d))
			goto bad;
		n = n * 10 + (*d - '0');
	}
	if (n < 1 || n > QUERY_NEAR_MAX)
		goto bad;
	t->near = n;
	return VL_OK;
bad:
	return query_err(lx->err, VL_ERR_PARSE, (int)i,
			 "NEAR needs a distance from 1 to %d, like NEAR/5", QUERY_NEAR_MAX);
}

/* lex_keyword - OR, AND, NOT or NEAR/n spanning q[i..end) exactly; *kind QT_END if not one. */
static enum vl_err
lex_keyword(struct lexer *lx, size_t i, size_t end, enum qtok_kind *kind)
{
	static const struct {
		const char *word;
		enum qtok_kind kind;
	} kw[] = {{"OR", QT_OR}, {"AND", QT_AND}, {"NOT", QT_NOT}};
	size_t n = end - i;

	*kind = QT_END;
	for (size_t k = 0; k < sizeof(kw) / sizeof(kw[0]); k++)
		if (strlen(kw[k].word) == n && memcmp(kw[k].word, lx->q + i, n) == 0)
			*kind = kw[k].kind;
	if (*kind != QT_END)
		return VL_OK;
	if (n >= 4 && memcmp(lx->q + i, "NEAR", 4) == 0 && (n == 4 || lx->q[i + 4] == '/')) {
		*kind = QT_NEAR;
		return lex_near(lx, i, end, tok_push(lx, QT_NEAR, i));
	}
	return VL_OK;
}

/* lex_term - a term at q[i]: field:value, "phrase" or word (or a keyword); *end past it. */
static enum vl_err
lex_term(struct lexer *lx, size_t i, size_t *end)
{
	size_t flen = field_len(lx, i), j = i;
	const struct qfield *f = &field_bare;
	enum qtok_kind kw;
	struct qtok *t;
	enum vl_err rc;

	while (!is_stop(lx, j))
		j++;
	if (flen == 0 && lx->q[i] != '"') {
		if ((rc = lex_keyword(lx, i, j, &kw)) != VL_OK)
			return rc;
		if (kw != QT_END) {
			if (kw != QT_NEAR)
				tok_push(lx, kw, i);
			*end = j;
			return VL_OK;
		}
	}
	if (flen > 0 && (f = field_find(lx->q + i, flen - 1)) == NULL)
		return query_err(lx->err, VL_ERR_PARSE, (int)i,
				 "unknown field '%.*s' (put it in quotes to search for the word)",
				 query_cut(lx->q + i, (int)flen > 40 ? 40 : (int)flen), lx->q + i);
	if (++lx->nterms > QUERY_MAX_TERMS)
		return query_err(lx->err, VL_ERR_LIMIT, (int)i, "more than %d terms",
				 QUERY_MAX_TERMS);
	t = tok_push(lx, QT_TERM, i);
	t->field = f;
	if ((rc = lex_value(lx, i + flen, t, end)) != VL_OK)
		return rc;
	if (t->value[0] == 0 && f != &field_bare)
		return query_err(lx->err, VL_ERR_PARSE, (int)i, "%s: needs a value", f->name);
	if (t->value[0] == 0 && t->prefix)
		return query_err(lx->err, VL_ERR_PARSE, (int)i, "'*' must follow a word");
	return VL_OK;
}

/* lex_one - the token at q[i] (not white space); *end past it. */
static enum vl_err
lex_one(struct lexer *lx, size_t i, size_t *end)
{
	char c = lx->q[i];

	if (c == '(' || c == ')') {
		tok_push(lx, c == '(' ? QT_LPAREN : QT_RPAREN, i);
		*end = i + 1;
		return VL_OK;
	}
	if (c == '-') {
		if (is_stop(lx, i + 1) && (i + 1 >= lx->len || lx->q[i + 1] != '('))
			return query_err(lx->err, VL_ERR_PARSE, (int)i,
					 "'-' must be followed by a term, with no space between");
		tok_push(lx, QT_NOT, i);
		*end = i + 1;
		return VL_OK;
	}
	return lex_term(lx, i, end);
}

/* lex_all - the whole query into lx->toks, ending with QT_END. */
static enum vl_err
lex_all(struct lexer *lx)
{
	enum vl_err rc;
	size_t sp;

	while (lx->i < lx->len) {
		if ((sp = space_len(lx, lx->i)) > 0) {
			lx->i += sp;
			continue;
		}
		if ((rc = lex_one(lx, lx->i, &lx->i)) != VL_OK)
			return rc;
	}
	tok_push(lx, QT_END, lx->len);
	return VL_OK;
}

static void
lex_free(struct lexer *lx)
{
	for (int k = 0; k < lx->n; k++)
		free(lx->toks[k].value);
	free(lx->toks);
}

/* ---- parser ---- */

static struct qnode *
node_new(struct parser *p, enum qnode_kind kind, int pos)
{
	struct qtree *t = p->tree;
	struct qnode *n = xcalloc(1, sizeof(*n));

	if (t->nall == t->capall) {
		t->capall = t->capall ? 2 * t->capall : 16;
		t->all = xrealloc(t->all, (size_t)t->capall * sizeof(*t->all));
	}
	t->all[t->nall++] = n;
	n->kind = kind;
	n->pos = pos;
	return n;
}

/* node_add - append kid to n; a kid of n's own kind (AND in AND) is spliced in flat. */
static void
node_add(struct qnode *n, struct qnode *kid)
{
	if (kid->kind == n->kind && (n->kind == QN_AND || n->kind == QN_OR)) {
		for (int k = 0; k < kid->nkids; k++)
			node_add(n, kid->kids[k]);
		return;
	}
	n->kids = xrealloc(n->kids, (size_t)(n->nkids + 1) * sizeof(*n->kids));
	n->kids[n->nkids++] = kid;
}

static const struct qtok *
peek(const struct parser *p)
{
	return &p->toks[p->i];
}

/* starts_unary - true when the next token can begin an operand. */
static bool
starts_unary(const struct parser *p)
{
	enum qtok_kind k = peek(p)->kind;

	return k == QT_TERM || k == QT_NOT || k == QT_LPAREN;
}

static enum vl_err parse_or(struct parser *p, int depth, struct qnode **out);

/* parse_missing - the error for a token that cannot begin an operand. */
static enum vl_err
parse_missing(struct parser *p)
{
	const struct qtok *t = peek(p);

	switch (t->kind) {
	case QT_RPAREN:
		return query_err(p->err, VL_ERR_PARSE, t->pos,
				 "unbalanced parenthesis: ')' without '('");
	case QT_OR:
	case QT_AND:
		return query_err(p->err, VL_ERR_PARSE, t->pos, "%s needs a term before it",
				 t->kind == QT_OR ? "OR" : "AND");
	case QT_NEAR:
		return query_err(p->err, VL_ERR_PARSE, t->pos,
				 "NEAR/%d must stand between two words or phrases", t->near);
	default:
		return query_err(p->err, VL_ERR_PARSE, t->pos,
				 "the query ends where a term was expected");
	}
}

static bool
is_text(const struct qnode *n)
{
	return n->kind == QN_TERM && n->field->cls == QC_TEXT;
}

/* take_term - the current QT_TERM token as a node (the node takes its value). */
static struct qnode *
take_term(struct parser *p)
{
	struct qtok *t = &p->toks[p->i++];
	struct qnode *n = node_new(p, QN_TERM, t->pos);

	n->field = t->field;
	n->value = t->value;
	n->prefix = t->prefix;
	t->value = NULL;
	return n;
}

/* parse_near - "left NEAR/n right", the NEAR token current; left is a term node. */
static enum vl_err
parse_near(struct parser *p, struct qnode *left, struct qnode **out)
{
	const struct qtok *t = peek(p);
	struct qnode *n;

	if (!is_text(left) || p->toks[p->i + 1].kind != QT_TERM ||
	    p->toks[p->i + 1].field->cls != QC_TEXT)
		return query_err(p->err, VL_ERR_PARSE, t->pos,
				 "NEAR/%d must stand between two words or phrases", t->near);
	n = node_new(p, QN_NEAR, left->pos);
	n->near = t->near;
	p->i++;
	node_add(n, left);
	node_add(n, take_term(p));
	if (peek(p)->kind == QT_NEAR)
		return query_err(p->err, VL_ERR_PARSE, peek(p)->pos,
				 "NEAR/n cannot be chained; use parentheses and AND");
	*out = n;
	return VL_OK;
}

/* parse_primary - a parenthesized group, or a term (with a NEAR/n partner). */
static enum vl_err
parse_primary(struct parser *p, int depth, struct qnode **out)
{
	const struct qtok *t = peek(p);
	int open = t->pos;
	enum vl_err rc;

	if (t->kind == QT_TERM) {
		*out = take_term(p);
		return peek(p)->kind == QT_NEAR ? parse_near(p, *out, out) : VL_OK;
	}
	if (t->kind != QT_LPAREN)
		return parse_missing(p);
	if (depth + 1 > QUERY_MAX_DEPTH)
		return query_err(p->err, VL_ERR_LIMIT, open, "nesting deeper than %d levels",
				 QUERY_MAX_DEPTH);
	p->i++;
	if (peek(p)->kind == QT_RPAREN)
		return query_err(p->err, VL_ERR_PARSE, open, "empty parentheses");
	if ((rc = parse_or(p, depth + 1, out)) != VL_OK)
		return rc;
	if (peek(p)->kind != QT_RPAREN)
		return query_err(p->err, VL_ERR_PARSE, open,
				 "unbalanced parenthesis: '(' is never closed");
	p->i++;
	return VL_OK;
}

/* parse_unary - NOT x, -x, or a primary. */
static enum vl_err
parse_unary(struct parser *p, int depth, struct qnode **out)
{
	const struct qtok *t = peek(p);
	struct qnode *n, *kid;
	enum vl_err rc;

	if (t->kind != QT_NOT)
		return parse_primary(p, depth, out);
	if (depth + 1 > QUERY_MAX_DEPTH)
		return query_err(p->err, VL_ERR_LIMIT, t->pos, "nesting deeper than %d levels",
				 QUERY_MAX_DEPTH);
	p->i++;
	if (!starts_unary(p))
		return query_err(p->err, VL_ERR_PARSE, t->pos, "NOT needs a term after it");
	if ((rc = parse_unary(p, depth + 1, &kid)) != VL_OK)
		return rc;
	n = node_new(p, QN_NOT, t->pos);
	node_add(n, kid);
	*out = n;
	return VL_OK;
}

/* parse_list - operands joined by op (QT_OR or QT_AND; AND may also be implicit). */
static enum vl_err
parse_list(struct parser *p, int depth, enum qtok_kind op, struct qnode **out)
{
	enum qnode_kind kind = op == QT_OR ? QN_OR : QN_AND;
	struct qnode *n = NULL, *kid;
	enum vl_err rc;

	for (;;) {
		rc = op == QT_OR ? parse_list(p, depth, QT_AND, &kid) : parse_unary(p, depth, &kid);
		if (rc != VL_OK)
			return rc;
		if (n == NULL && (peek(p)->kind == op || (op == QT_AND && starts_unary(p)))) {
			n = node_new(p, kind, kid->pos);
		}
		if (n)
			node_add(n, kid);
		if (peek(p)->kind == op) {
			const struct qtok *t = &p->toks[p->i++];

			if (!starts_unary(p))
				return query_err(p->err, VL_ERR_PARSE, t->pos,
						 "%s needs a term after it",
						 op == QT_OR ? "OR" : "AND");
		} else if (op == QT_OR || !starts_unary(p)) {
			break;
		}
	}
	*out = n ? n : kid;
	return VL_OK;
}

static enum vl_err
parse_or(struct parser *p, int depth, struct qnode **out)
{
	return parse_list(p, depth, QT_OR, out);
}

enum vl_err
query_parse(struct qtree *tree, const char *q, char *err)
{
	struct lexer lx = {.q = q, .len = strlen(q), .err = err};
	struct parser p = {.tree = tree, .err = err};
	enum vl_err rc;

	memset(tree, 0, sizeof(*tree));
	if ((rc = lex_all(&lx)) != VL_OK)
		goto out;
	p.toks = lx.toks;
	if (peek(&p)->kind == QT_END)
		goto out; /* only white space: everything */
	if ((rc = parse_or(&p, 0, &tree->root)) != VL_OK)
		goto out;
	if (peek(&p)->kind != QT_END)
		rc = parse_missing(&p);
out:
	lex_free(&lx);
	return rc;
}

void
qtree_free(struct qtree *tree)
{
	for (int k = 0; k < tree->nall; k++) {
		free(tree->all[k]->value);
		free(tree->all[k]->kids);
		free(tree->all[k]);
	}
	free(tree->all);
	memset(tree, 0, sizeof(*tree));
}
