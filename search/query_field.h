/* query_field - the SQL of one field:value term that is not full text: addresses (from:, to:,
 * cc:, bcc:, participants:, recipients:), ids, custodian:, hold:, matter:, has:, sizes
 * (larger:, smaller:, size:, size>N...), dates (after:, before:, date:, sent:, date>=D...,
 * received:), ages (older_than:, newer_than:) and business fields (amount:, txdate:,
 * counterparty:). Owns: each value's syntax (address kinds, sizes, dates, ages) and its
 * parameter form; amounts are archiver/bizfields' syntax.
 * Not: full text or the boolean tree (query.c), the query syntax (query_parse). */
#ifndef VL_QUERY_FIELD_H
#define VL_QUERY_FIELD_H

#include <stdbool.h>

#include "buf.h"
#include "query_parse.h"
#include "vl_err.h"

/* The parameters of one query, numbered from first, and who the query is for. */
struct qparams {
	char **v; /* owned */
	int n;
	int cap;
	int first;
	const char *tz; /* the zone of the query's dates (tz:), checked; NULL: UTC; not owned */
	bool hide_bcc; /* the caller may not see Bcc: bcc: is refused, and the other address
			* fields leave out the Bcc header (b) and envelope recipients in the
			* role bcc (x) */
};

/* qparams_add - take ownership of value as the next parameter; returns its $ number. */
int qparams_add(struct qparams *p, char *value);
void qparams_free(struct qparams *p);

/* QUERY_TZDIR - where tz: names are looked up: the IANA database PostgreSQL uses too (Debian
 * builds it --with-system-tzdata). */
#define QUERY_TZDIR "/usr/share/zoneinfo"
#define QUERY_TZ_MAX 64 /* bytes of a tz: value */

/* query_tz_check - term n (tz:) names a zone PostgreSQL knows: UTC, an offset (+09:00, -0530,
 * +09) or an IANA name (Asia/Tokyo) found in QUERY_TZDIR. Puts into *tz the spelling for a
 * timestamptz literal (NULL for UTC; else owned by the caller). VL_ERR_PARSE with the
 * position when it is none of these. */
enum vl_err query_tz_check(const struct qnode *n, char **tz, char *err) VL_MUST_CHECK;

/* query_field_sql - append to out the SQL of term n (not QC_TEXT), its values added to p.
 * *compound: true when the SQL is an AND of conditions (the caller adds parentheses).
 * Returns VL_ERR_PARSE (or VL_ERR_LIMIT) with "position N: why" in err for a bad value. */
enum vl_err query_field_sql(struct buf *out, struct qparams *p, const struct qnode *n,
			    bool *compound, char *err) VL_MUST_CHECK;

#endif
