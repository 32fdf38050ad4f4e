/* query_parse - the query language read into a tree (see query_parse.h).
 *
 * Grammar (upper-case keywords only, as Google Vault):
 *   query   := or?
 *   or      := and ("OR" and)*
 *   and     := unary (("AND")? unary)*
 *   unary   := ("NOT" | "-") unary | primary
 *   primary := "(" or ")" | "{" unary+ "}" | term (near term)?
 *   near    := "NEAR/n" | "NEAR(n)" (KQL) | "AROUND" n (Gmail)
 *   term    := (field sep)? (bare | "quoted") "*"?
 *   sep     := ":" | ">=" | "<=" | ">" | "<"   (comparisons: size, date, amount, txdate)
 * "{a b c}" is Gmail's (a OR b OR c). A bare value runs to white space, a parenthesis or a
 * brace; a quoted one may hold \" and \\. A bare value's '*' ends it (a prefix) or, in an
 * address field, starts "*@domain"; anywhere else it is an error, never a silent non-match. */
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "query_parse.h"

/* The field table: every field:value the language knows, and what its value searches. */
/* Rows that share a class, arg and mode are spellings of one operator and compile alike. */
static const struct qfield fields[] = {
	{"from:", QC_ADDR, "f", 0},
	{"to:", QC_ADDR, "t", 0},
	{"cc:", QC_ADDR, "c", 0},
	{"bcc:", QC_ADDR, "b", 0},
	{"participants:", QC_ADDR, "ftcber", 0},
	{"recipients:", QC_ADDR, "tcbr", 0}, /* To, Cc, Bcc, envelope recipients (KQL) */
	{"subject:", QC_TEXT, "A", 0},
	{"filename:", QC_TEXT, "B", 0},
	{"attachmentnames:", QC_TEXT, "B", 0}, /* KQL */
	{"body:", QC_TEXT, "D", 0},
	{"id:", QC_ID, "", 0},
	{"messageid:", QC_ID, "", 0},	/* KQL */
	{"rfc822msgid:", QC_ID, "", 0}, /* Gmail */
	{"custodian:", QC_CUSTODIAN, "", 0},
	{"has:", QC_HAS, "", 0},
	{"larger:", QC_SIZE, ">", QS_ONE},
	{"smaller:", QC_SIZE, "<", QS_ONE},
	{"size:", QC_SIZE, ">=", QS_RANGE}, /* Gmail's size: is "at least" */
	{"size>", QC_SIZE, ">", QS_ONE},
	{"size>=", QC_SIZE, ">=", QS_ONE},
	{"size<", QC_SIZE, "<", QS_ONE},
	{"size<=", QC_SIZE, "<=", QS_ONE},
	{"after:", QC_DATE, "sent_at", QD_AFTER},
	{"before:", QC_DATE, "sent_at", QD_BEFORE},
	{"date:", QC_DATE, "sent_at", QD_RANGE},
	{"sent:", QC_DATE, "sent_at", QD_RANGE}, /* KQL */
	{"date>=", QC_DATE, "sent_at", QD_AFTER},
	{"date<", QC_DATE, "sent_at", QD_BEFORE},
	{"date>", QC_DATE, "sent_at", QD_GT},
	{"date<=", QC_DATE, "sent_at", QD_LE},
	{"received:", QC_DATE, "received_at", QD_RANGE},
	{"received>=", QC_DATE, "received_at", QD_AFTER},
	{"received<", QC_DATE, "received_at", QD_BEFORE},
	{"received>", QC_DATE, "received_at", QD_GT},
	{"received<=", QC_DATE, "received_at", QD_LE},
	{"older_than:", QC_AGE, "<", 0}, /* Gmail */
	{"newer_than:", QC_AGE, ">=", 0},
	{"hold:", QC_HOLD, "name", 0},
	{"matter:", QC_HOLD, "matter", 0},
	{"tz:", QC_TZ, "", 0},
	{"tz=", QC_TZ, "", 0}, /* as REQUIREMENTS spells it */
	/* 電子帳簿保存法's fields (archiver/bizfields): the current version of each message's */
	{"amount:", QC_AMOUNT, "=", QS_RANGE},
	{"amount>", QC_AMOUNT, ">", QS_ONE},
	{"amount>=", QC_AMOUNT, ">=", QS_ONE},
	{"amount<", QC_AMOUNT, "<", QS_ONE},
	{"amount<=", QC_AMOUNT, "<=", QS_ONE},
	{"txdate:", QC_TXDATE, "=", QS_RANGE},
	{"txdate>", QC_TXDATE, ">", QS_ONE},
	{"txdate>=", QC_TXDATE, ">=", QS_ONE},
	{"txdate<", QC_TXDATE, "<", QS_ONE},
	{"txdate<=", QC_TXDATE, "<=", QS_ONE},
	{"counterparty:", QC_PARTY, "", 0},
};

/* What may follow a field name: ':' for every field, a comparison for some (longest first). */
static const char *const field_seps[] = {">=", "<=", ":", ">", "<", "="};

/* Bare words and "phrases": subject, attachment names and body alike. */
static const struct qfield field_bare = {"", QC_TEXT, "", 0};

enum qtok_kind {
	QT_END,
	QT_LPAREN,
	QT_RPAREN,
	QT_LBRACE,
	QT_RBRACE,
	QT_OR,
	QT_AND,
	QT_NOT,
	QT_NEAR,
	QT_TERM
};

struct qtok {
	enum qtok_kind kind;
	int pos;
	int near;
	const struct qfield *field;
	char *value; /* TERM: owned until a node takes it; NEAR: the operator (NEAR/5), owned */
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

/* is_stop - true where a bare word ends: the end, white space, a parenthesis or a brace. */
static bool
is_stop(const struct lexer *lx, size_t i)
{
	return i >= lx->len || strchr("(){}", lx->q[i]) != NULL || space_len(lx, i) > 0;
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

/* field_find - the field spelled name[0..n) with its separator, in any case, or NULL. */
static const struct qfield *
field_find(const char *name, size_t n)
{
	for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++)
		if (strlen(fields[k].name) == n &&
		    g_ascii_strncasecmp(fields[k].name, name, n) == 0)
			return &fields[k];
	return NULL;
}

/* field_len - the length of "name" plus a separator at q[i] (name: a letter, then letters,
 * digits and '_'), or 0 when there is none; *name_len the name's. */
static size_t
field_len(const struct lexer *lx, size_t i, size_t *name_len)
{
	size_t j = i;

	while (j < lx->len && (g_ascii_isalpha(lx->q[j]) ||
			       (j > i && (g_ascii_isdigit(lx->q[j]) || lx->q[j] == '_'))))
		j++;
	*name_len = j - i;
	for (size_t k = 0; j > i && k < sizeof(field_seps) / sizeof(field_seps[0]); k++)
		if (strncmp(lx->q + j, field_seps[k], strlen(field_seps[k])) == 0)
			return j - i + strlen(field_seps[k]);
	return 0;
}

/* lex_field - the field at q[i] into *f (&field_bare when there is none) and its length into
 * *flen. "name:" must be known; "name>" and the like are a comparison only for a field that
 * has one, a plain word (a<b) for a name that is no field. */
static enum vl_err
lex_field(struct lexer *lx, size_t i, const struct qfield **f, size_t *flen)
{
	size_t nlen, len = field_len(lx, i, &nlen);
	char *colon;

	*f = &field_bare;
	*flen = 0;
	if (len == 0)
		return VL_OK;
	if ((*f = field_find(lx->q + i, len)) != NULL) {
		*flen = len;
		return VL_OK;
	}
	*f = &field_bare;
	if (lx->q[i + nlen] == ':')
		return query_err(lx->err, VL_ERR_PARSE, (int)i,
				 "unknown field '%.*s' (put it in quotes to search for the word)",
				 query_cut(lx->q + i, (int)len > 40 ? 40 : (int)len), lx->q + i);
	colon = xasprintf("%.*s:", (int)nlen, lx->q + i);
	*f = field_find(colon, nlen + 1);
	free(colon);
	if (*f == NULL) {
		*f = &field_bare;
		return VL_OK;
	}
	return query_err(lx->err, VL_ERR_PARSE, (int)i,
			 "%.*s compares only with ':' (size, date, amount and txdate also take > "
			 ">= < <=)",
			 (int)nlen, lx->q + i);
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

/* lex_value - the value at q[i], quoted or bare, into t (value, prefix); *end past it. A
 * quoted value's '*' are its text; lex_wild checks a bare one's. */
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

/* How a proximity operator is spelled around its distance. */
enum near_spelling { NS_SLASH, NS_PAREN, NS_AROUND };

/* near_distance - the digits q[from..to) as the distance of the proximity token t, spelled
 * sp; an error at pos when they are not 1..QUERY_NEAR_MAX. */
static enum vl_err
near_distance(struct lexer *lx, size_t pos, size_t from, size_t to, enum near_spelling sp,
	      struct qtok *t)
{
	static const struct {
		const char *word, *open, *close;
	} spell[] = {{"NEAR", "/", ""}, {"NEAR", "(", ")"}, {"AROUND", " ", ""}};
	bool digits = to > from && to - from <= 2; /* QUERY_NEAR_MAX has two */
	int n = 0;

	for (size_t k = from; digits && k < to; k++) {
		digits = g_ascii_isdigit(lx->q[k]);
		n = n * 10 + (lx->q[k] - '0');
	}
	if (!digits || n < 1 || n > QUERY_NEAR_MAX)
		return query_err(lx->err, VL_ERR_PARSE, (int)pos,
				 "%s needs a distance from 1 to %d, like %s%s5%s", spell[sp].word,
				 QUERY_NEAR_MAX, spell[sp].word, spell[sp].open, spell[sp].close);
	t->near = n;
	t->value = xasprintf("%s%s%d%s", spell[sp].word, spell[sp].open, n, spell[sp].close);
	return VL_OK;
}

/* lex_near - a proximity operator at q[i], the word q[i..*end): "NEAR/n", "NEAR(n)" (KQL) or
 * "AROUND n" (Gmail), all NEAR/n; *end moves past the whole operator. */
static enum vl_err
lex_near(struct lexer *lx, size_t i, size_t *end)
{
	struct qtok *t = tok_push(lx, QT_NEAR, i);
	size_t n = *end - i, j = *end, d;

	if (n == 6 && memcmp(lx->q + i, "AROUND", 6) == 0) { /* the distance is the next word */
		while (j < lx->len && space_len(lx, j) > 0)
			j += space_len(lx, j);
		for (d = j; !is_stop(lx, d); d++)
			;
		*end = d;
		return near_distance(lx, i, j, d, NS_AROUND, t);
	}
	if (n == 4 && j < lx->len && lx->q[j] == '(') {
		for (d = j + 1; d < lx->len && g_ascii_isdigit(lx->q[d]); d++)
			;
		if (d < lx->len && lx->q[d] == ')') {
			*end = d + 1;
			return near_distance(lx, i, j + 1, d, NS_PAREN, t);
		}
		return near_distance(lx, i, j, j, NS_PAREN, t);
	}
	return near_distance(lx, i, i + 5, n < 5 ? i + 5 : *end, NS_SLASH, t);
}

/* lex_keyword - OR, AND, NOT or a proximity operator spanning q[i..*end) exactly; *kind
 * QT_END if not one. */
static enum vl_err
lex_keyword(struct lexer *lx, size_t i, size_t *end, enum qtok_kind *kind)
{
	static const struct {
		const char *word;
		enum qtok_kind kind;
	} kw[] = {{"OR", QT_OR}, {"AND", QT_AND}, {"NOT", QT_NOT}, {"AROUND", QT_NEAR}};
	size_t n = *end - i;

	*kind = QT_END;
	for (size_t k = 0; k < sizeof(kw) / sizeof(kw[0]); k++)
		if (strlen(kw[k].word) == n && memcmp(kw[k].word, lx->q + i, n) == 0)
			*kind = kw[k].kind;
	if (n >= 4 && memcmp(lx->q + i, "NEAR", 4) == 0 && (n == 4 || lx->q[i + 4] == '/'))
		*kind = QT_NEAR;
	if (*kind == QT_NEAR)
		return lex_near(lx, i, end);
	if (*kind != QT_END)
		tok_push(lx, *kind, i);
	return VL_OK;
}

/* lex_wild - a bare value's '*' other than the trailing one (already a prefix): "*@domain" in
 * an address field is "@domain"; any other is an error at the '*'. An id: value is exact
 * (RFC 5322 allows '*' in a Message-ID). v is the value's offset in the query. */
static enum vl_err
lex_wild(struct lexer *lx, size_t v, struct qtok *t)
{
	char *star = strchr(t->value, '*');

	if (star == NULL || t->field->cls == QC_ID)
		return VL_OK;
	if (star == t->value && star[1] == '@' && t->field->cls == QC_ADDR) {
		memmove(t->value, t->value + 1, strlen(t->value));
		v++;
		star = strchr(t->value, '*');
		if (star == NULL)
			return VL_OK;
	}
	if (star == t->value)
		return query_err(lx->err, VL_ERR_PARSE, (int)v,
				 "leading wildcard not supported ('*' may only end a word, or "
				 "start *@domain in an address field)");
	return query_err(lx->err, VL_ERR_PARSE, (int)(v + (size_t)(star - t->value)),
			 "wildcard inside a word not supported ('*' may only end a word)");
}

/* lex_term - a term at q[i]: field:value, "phrase" or word (or a keyword); *end past it. */
static enum vl_err
lex_term(struct lexer *lx, size_t i, size_t *end)
{
	const struct qfield *f;
	size_t flen, j = i;
	enum qtok_kind kw;
	struct qtok *t;
	enum vl_err rc;

	if ((rc = lex_field(lx, i, &f, &flen)) != VL_OK)
		return rc;
	while (!is_stop(lx, j))
		j++;
	if (flen == 0 && lx->q[i] != '"') {
		if ((rc = lex_keyword(lx, i, &j, &kw)) != VL_OK || kw != QT_END) {
			*end = j;
			return rc;
		}
	}
	if (++lx->nterms > QUERY_MAX_TERMS)
		return query_err(lx->err, VL_ERR_LIMIT, (int)i, "more than %d terms",
				 QUERY_MAX_TERMS);
	t = tok_push(lx, QT_TERM, i);
	t->field = f;
	if ((rc = lex_value(lx, i + flen, t, end)) != VL_OK)
		return rc;
	if (t->value[0] == 0 && f != &field_bare)
		return query_err(lx->err, VL_ERR_PARSE, (int)i, "%s needs a value", f->name);
	if (t->value[0] == 0 && t->prefix)
		return query_err(lx->err, VL_ERR_PARSE, (int)i, "'*' must follow a word");
	return lx->q[i + flen] == '"' ? VL_OK : lex_wild(lx, i + flen, t);
}

/* lex_one - the token at q[i] (not white space); *end past it. */
static enum vl_err
lex_one(struct lexer *lx, size_t i, size_t *end)
{
	char c = lx->q[i];

	static const char groups[] = "(){}";
	static const enum qtok_kind group_kinds[] = {QT_LPAREN, QT_RPAREN, QT_LBRACE, QT_RBRACE};

	if (strchr(groups, c) != NULL) {
		tok_push(lx, group_kinds[strchr(groups, c) - groups], i);
		*end = i + 1;
		return VL_OK;
	}
	if (c == '-') {
		if (is_stop(lx, i + 1) && (i + 1 >= lx->len || strchr("({", lx->q[i + 1]) == NULL))
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

	return k == QT_TERM || k == QT_NOT || k == QT_LPAREN || k == QT_LBRACE;
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
	case QT_RBRACE:
		return query_err(p->err, VL_ERR_PARSE, t->pos, "unbalanced brace: '}' without '{'");
	case QT_OR:
	case QT_AND:
		return query_err(p->err, VL_ERR_PARSE, t->pos, "%s needs a term before it",
				 t->kind == QT_OR ? "OR" : "AND");
	case QT_NEAR:
		return query_err(p->err, VL_ERR_PARSE, t->pos,
				 "%s must stand between two words or phrases", t->value);
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
				 "%s must stand between two words or phrases", t->value);
	n = node_new(p, QN_NEAR, left->pos);
	n->near = t->near;
	p->i++;
	node_add(n, left);
	node_add(n, take_term(p));
	if (peek(p)->kind == QT_NEAR)
		return query_err(p->err, VL_ERR_PARSE, peek(p)->pos,
				 "%s: NEAR/n cannot be chained; use parentheses and AND",
				 peek(p)->value);
	*out = n;
	return VL_OK;
}

static enum vl_err parse_unary(struct parser *p, int depth, struct qnode **out);

/* parse_deeper - step into a group or NOT opening at pos, or VL_ERR_LIMIT past the bound. */
static enum vl_err
parse_deeper(struct parser *p, int depth, int pos)
{
	if (depth + 1 > QUERY_MAX_DEPTH)
		return query_err(p->err, VL_ERR_LIMIT, pos, "nesting deeper than %d levels",
				 QUERY_MAX_DEPTH);
	p->i++;
	return VL_OK;
}

/* parse_braces - Gmail's "{a b c}", the '{' current: (a OR b OR c). Its operands are terms,
 * groups and negations, no AND or OR. */
static enum vl_err
parse_braces(struct parser *p, int depth, struct qnode **out)
{
	int open = peek(p)->pos;
	struct qnode *n = NULL, *kid = NULL;
	enum vl_err rc;

	if ((rc = parse_deeper(p, depth, open)) != VL_OK)
		return rc;
	if (peek(p)->kind == QT_RBRACE)
		return query_err(p->err, VL_ERR_PARSE, open, "empty braces");
	while (peek(p)->kind != QT_RBRACE) {
		enum qtok_kind k = peek(p)->kind;

		if (k == QT_END)
			return query_err(p->err, VL_ERR_PARSE, open,
					 "unbalanced brace: '{' is never closed");
		if (k == QT_OR || k == QT_AND)
			return query_err(p->err, VL_ERR_PARSE, peek(p)->pos,
					 "no %s inside { }: its terms are ORed already",
					 k == QT_OR ? "OR" : "AND");
		rc = starts_unary(p) ? parse_unary(p, depth + 1, &kid) : parse_missing(p);
		if (rc != VL_OK)
			return rc;
		if (n == NULL && peek(p)->kind != QT_RBRACE)
			n = node_new(p, QN_OR, kid->pos);
		if (n)
			node_add(n, kid);
	}
	p->i++;
	*out = n ? n : kid;
	return VL_OK;
}

/* parse_primary - a parenthesized or braced group, or a term (with a NEAR/n partner). */
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
	if (t->kind == QT_LBRACE)
		return parse_braces(p, depth, out);
	if (t->kind != QT_LPAREN)
		return parse_missing(p);
	if ((rc = parse_deeper(p, depth, open)) != VL_OK)
		return rc;
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
	if ((rc = parse_deeper(p, depth, t->pos)) != VL_OK)
		return rc;
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
