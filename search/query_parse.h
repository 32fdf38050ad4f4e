/* query_parse - the eDiscovery query language read into a tree: lexer, the field table and a
 * recursive-descent parser (precedence NOT > AND > OR, NEAR/n binds two words or phrases).
 * Owns: the syntax, its bounds, and the byte position in every syntax error.
 * Not: what a field means in SQL or whether its value is well-formed (query.c). */
#ifndef VL_QUERY_PARSE_H
#define VL_QUERY_PARSE_H

#include <stdbool.h>

#include "query.h"
#include "vl_err.h"

/* What a field's value is matched against; query_field.c compiles each class. */
enum qclass {
	QC_TEXT,      /* full text; arg: the tsvector weight ("" for any) */
	QC_ADDR,      /* addr_terms; arg: the field letters searched */
	QC_ID,	      /* msgid, exact */
	QC_CUSTODIAN, /* every address of a custodian */
	QC_HAS,	      /* has:attachment */
	QC_SIZE,      /* arg: the SQL comparison; mode: enum qsize_mode */
	QC_DATE,      /* arg: the column; mode: enum qdate_mode */
	QC_AGE,	      /* the sent date against now(); arg: the SQL comparison */
	QC_HOLD,      /* messages under a legal hold; arg: the holds column the value names */
	QC_TZ,	      /* tz: the zone of the query's dates (query.c takes it at the top) */
	QC_AMOUNT,    /* business fields' amount; arg: the SQL comparison; mode: qsize_mode */
	QC_TXDATE,    /* business fields' transaction day; arg, mode: as QC_AMOUNT */
	QC_PARTY,     /* business fields' counterparty, a case-insensitive substring */
};

/* Dates: >= D, < D, >= D + 1 day (date>D), < D + 1 day (date<=D), or a range A..B. */
enum qdate_mode { QD_AFTER, QD_BEFORE, QD_GT, QD_LE, QD_RANGE };

/* Sizes, amounts and txdates: one comparison, or (size:, amount:, txdate:) also a range A..B. */
enum qsize_mode { QS_ONE, QS_RANGE };

/* One row of the field table (query_parse.c). */
struct qfield {
	const char *name; /* lower-case, with its separator ("from:", "size>="); "" for bare */
	enum qclass cls;
	const char *arg;
	int mode;
};

enum qnode_kind { QN_TERM, QN_AND, QN_OR, QN_NOT, QN_NEAR };

/* One node of the tree. AND and OR have two or more kids, NOT one, NEAR two terms. */
struct qnode {
	enum qnode_kind kind;
	int pos; /* byte offset in the query where the node starts */
	struct qnode **kids;
	int nkids;
	int near;		    /* NEAR: the distance, 1..QUERY_NEAR_MAX */
	const struct qfield *field; /* TERM */
	char *value;		    /* TERM: the value, quotes and escapes removed; owned */
	bool prefix;		    /* TERM: a trailing '*' */
};

/* The tree and the storage of all its nodes, freed together. */
struct qtree {
	struct qnode *root; /* NULL for an empty query */
	struct qnode **all;
	int nall;
	int capall;
};

/* query_parse - parse q (valid UTF-8, at most QUERY_MAX_BYTES, checked by the caller) into
 * tree, which the caller releases with qtree_free even on failure. Returns VL_ERR_PARSE or
 * VL_ERR_LIMIT with "position N: why" in err (QUERY_ERR_MAX bytes). */
enum vl_err query_parse(struct qtree *tree, const char *q, char *err) VL_MUST_CHECK;

/* query_err - put "position pos: <fmt...>" into err (QUERY_ERR_MAX bytes) and return code. */
enum vl_err query_err(char *err, enum vl_err code, int pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* query_cut - how many bytes of s to show in a message: at most max, never inside a UTF-8
 * sequence. */
int query_cut(const char *s, int max);

/* query_lower - s lower-cased (Unicode, like PostgreSQL's lower() on UTF-8), owned by the
 * caller. */
char *query_lower(const char *s);

/* qtree_free - release every node; the tree is empty after. */
void qtree_free(struct qtree *tree);

#endif
