/* bizfields - per-message business fields for 電子帳簿保存法 (see bizfields.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "bizfields.h"
#include "buf.h"
#include "civday.h"
#include "db.h"
#include "utf8.h"

/* The next version: NULL values ($2..$5) keep the current version's; the reply is the audit
 * row's details, the old version (null for the first) and the new. A statement's snapshot
 * does not see its own insert, hence "+ 1". */
static const char insert_sql[] =
	"WITH cur AS (SELECT * FROM business_fields_current WHERE message_id = $1::int8),"
	" ins AS (INSERT INTO business_fields (message_id, txdate, amount, currency, counterparty,"
	" set_by, reason, source) SELECT $1::int8, coalesce($2::date, cur.txdate),"
	" coalesce($3::numeric, cur.amount), coalesce($4::text, cur.currency, '" BIZ_CURRENCY_DEFAULT
	"'), coalesce($5::text, cur.counterparty), $6, $7, 'tag' FROM (SELECT 1) one"
	" LEFT JOIN cur ON true RETURNING *),"
	" n AS (SELECT count(*) + 1 AS v FROM business_fields WHERE message_id = $1::int8)"
	" SELECT json_build_object('old', (SELECT " BIZFIELDS_JSON("cur", "n.v - 1") " FROM cur),"
	" 'new', (SELECT " BIZFIELDS_JSON("ins", "n.v") " FROM ins))::text, n.v FROM n";

/* The message and how many versions it has; one set at a time per message. */
static const char state_sql[] =
	"SELECT pg_advisory_xact_lock(hashtextextended('vellum.fields:' || $1, 0)),"
	" (SELECT count(*) FROM messages WHERE id = $1::int8),"
	" (SELECT count(*) FROM business_fields WHERE message_id = $1::int8)";

static const char history_sql[] =
	"SELECT json_build_object('message', $1::int8, 'versions', (SELECT coalesce(json_agg(j"
	" ORDER BY id), '[]'::json) FROM (SELECT f.id, " BIZFIELDS_JSON(
		"f", "row_number() OVER (ORDER BY f.id)") " AS j FROM business_fields f"
	" WHERE f.message_id = $1::int8) s))::text WHERE EXISTS (SELECT 1 FROM messages"
	" WHERE id = $1::int8)";

bool
bizfields_amount_parse(const char *s, size_t len, int64_t *hundredths)
{
	const char *p = s, *end = s + len;
	int64_t v = 0;
	int digits = 0, decimals = 0;

	for (; p < end && *p >= '0' && *p <= '9'; p++, digits++)
		v = digits < BIZ_AMOUNT_DIGITS ? v * 10 + (*p - '0') : v;
	if (digits == 0 || digits > BIZ_AMOUNT_DIGITS)
		return false;
	if (p < end && *p == '.') {
		for (p++; p < end && *p >= '0' && *p <= '9'; p++, decimals++)
			v = decimals < BIZ_AMOUNT_DECIMALS ? v * 10 + (*p - '0') : v;
		if (decimals == 0 || decimals > BIZ_AMOUNT_DECIMALS)
			return false;
	}
	if (p != end)
		return false;
	for (; decimals < BIZ_AMOUNT_DECIMALS; decimals++)
		v *= 10;
	*hundredths = v;
	return true;
}

char *
bizfields_amount_text(int64_t hundredths)
{
	return xasprintf("%" PRId64 ".%02" PRId64, hundredths / 100, hundredths % 100);
}

/* text_check - s is 1..max characters of valid UTF-8, without control characters, and not only
 * spaces. VL_ERR_LIMIT when longer, VL_ERR_PARSE otherwise. */
static enum vl_err
text_check(const char *what, const char *s, size_t max, char *err)
{
	size_t n = strlen(s), chars = 0, blank = 0;
	uint32_t cp;
	int k;

	for (size_t i = 0; i < n; i += (size_t)k, chars++) {
		if ((k = utf8_decode((const uint8_t *)s + i, n - i, &cp)) <= 0)
			return vl_err_set(err, VL_ERR_PARSE, "%s: not valid UTF-8", what);
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
			return vl_err_set(err, VL_ERR_PARSE, "%s: no control characters", what);
		blank += cp == ' ' || cp == 0x3000; /* U+3000: the ideographic space */
	}
	if (chars == blank)
		return vl_err_set(err, VL_ERR_PARSE, "%s: needs a value", what);
	if (chars > max)
		return vl_err_set(err, VL_ERR_LIMIT, "%s: at most %zu characters (%zu given)", what,
				  max, chars);
	return VL_OK;
}

/* txdate_check - YYYY-MM-DD, a day of the calendar between BIZ_YEAR_MIN and BIZ_YEAR_MAX. */
static enum vl_err
txdate_check(const char *s, char *err)
{
	int64_t day;
	int rc = civday_parse(s, strlen(s), &day);

	if (rc == -1)
		return vl_err_set(err, VL_ERR_PARSE, "txdate: expects a date like 2024-03-31");
	if (rc == -2)
		return vl_err_set(err, VL_ERR_PARSE, "txdate: '%.10s' is not a day of the calendar",
				  s);
	if (day / 10000 < BIZ_YEAR_MIN || day / 10000 > BIZ_YEAR_MAX)
		return vl_err_set(err, VL_ERR_LIMIT, "txdate: the year must be %d..%d",
				  BIZ_YEAR_MIN, BIZ_YEAR_MAX);
	return VL_OK;
}

/* currency_norm - three ASCII letters, upper-cased into out (4 bytes). */
static enum vl_err
currency_norm(const char *s, char out[4], char *err)
{
	for (int i = 0; i < 3; i++) {
		char ch = s[i];

		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')))
			return vl_err_set(err, VL_ERR_PARSE,
					  "currency: expects an ISO 4217 code like JPY or USD");
		out[i] = (char)(ch & ~0x20);
	}
	out[3] = 0;
	if (s[3] != 0)
		return vl_err_set(err, VL_ERR_PARSE,
				  "currency: expects an ISO 4217 code like JPY or USD");
	return VL_OK;
}

/* set_check - every given value of s; the amount into amount_text (owned), the currency into
 * currency (empty when not given). */
static enum vl_err
set_check(const struct bizfields_set *s, char **amount_text, char currency[4], char *err)
{
	size_t idlen = s->message_id ? strlen(s->message_id) : 0;
	int64_t cents;
	enum vl_err rc;

	*amount_text = NULL;
	currency[0] = 0;
	if (idlen == 0 || idlen > BIZ_ID_MAX || strspn(s->message_id, "0123456789") != idlen)
		return vl_err_set(err, VL_ERR_PARSE, "message: expects a message id (digits)");
	if (s->txdate && (rc = txdate_check(s->txdate, err)) != VL_OK)
		return rc;
	if (s->amount && !bizfields_amount_parse(s->amount, strlen(s->amount), &cents))
		return vl_err_set(err, VL_ERR_PARSE,
				  "amount: expects a number like 120000 or 1234.50: not negative, "
				  "at most %d digits before the point and %d after it",
				  BIZ_AMOUNT_DIGITS, BIZ_AMOUNT_DECIMALS);
	if (s->currency && (rc = currency_norm(s->currency, currency, err)) != VL_OK)
		return rc;
	if (s->counterparty &&
	    (rc = text_check("counterparty", s->counterparty, BIZ_COUNTERPARTY_MAX, err)) != VL_OK)
		return rc;
	if (s->reason == NULL)
		return vl_err_set(err, VL_ERR_PARSE, "reason: a set needs a reason");
	if ((rc = text_check("reason", s->reason, BIZ_REASON_MAX, err)) != VL_OK)
		return rc;
	if (s->amount)
		*amount_text = bizfields_amount_text(cents);
	return VL_OK;
}

/* set_state - lock the message's versions; VL_ERR_NOTFOUND without the message, VL_ERR_PARSE
 * for a first set that lacks a field. */
static enum vl_err
set_state(PGconn *c, const struct bizfields_set *s, char *err)
{
	const char *vals[] = {s->message_id};
	PGresult *r = NULL;
	enum vl_err rc = db_query(c, state_sql, 1, vals, &r, err);

	if (rc == VL_OK && strcmp(PQgetvalue(r, 0, 1), "0") == 0)
		rc = vl_err_set(err, VL_ERR_NOTFOUND, "no message %s", s->message_id);
	else if (rc == VL_OK && strcmp(PQgetvalue(r, 0, 2), "0") == 0 &&
		 (!s->txdate || !s->amount || !s->counterparty))
		rc = vl_err_set(err, VL_ERR_PARSE,
				"message %s has no business fields yet: its first set needs "
				"txdate, amount and counterparty",
				s->message_id);
	PQclear(r);
	return rc;
}

/* set_insert - the new version; its audit details into *details (owned). */
static enum vl_err
set_insert(PGconn *c, const char *actor, const struct bizfields_set *s, const char *amount,
	   const char *currency, char **details, int64_t *version, char *err)
{
	const char *vals[] = {s->message_id, s->txdate,	      amount, currency[0] ? currency : NULL,
			      s->counterparty, actor, s->reason};
	PGresult *r = NULL;
	enum vl_err rc = db_query(c, insert_sql, 7, vals, &r, err);

	if (rc == VL_OK && PQntuples(r) != 1)
		rc = vl_err_set(err, VL_ERR_INTERNAL, "fields: no version written");
	if (rc == VL_OK) {
		*details = xstrdup(PQgetvalue(r, 0, 0));
		if (version)
			*version = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	}
	PQclear(r);
	return rc;
}

enum vl_err
bizfields_set(PGconn *c, const char *actor, const char *client, const struct bizfields_set *s,
	      int64_t *version, char *err)
{
	char currency[4], *amount = NULL, *details = NULL, *target = NULL;
	enum vl_err rc;

	if ((rc = set_check(s, &amount, currency, err)) != VL_OK)
		return rc;
	if ((rc = db_begin(c, err)) != VL_OK)
		goto out;
	rc = set_state(c, s, err);
	if (rc == VL_OK)
		rc = set_insert(c, actor, s, amount, currency, &details, version, err);
	if (rc != VL_OK) {
		db_rollback(c, NULL);
		goto out;
	}
	target = xasprintf("message:%s", s->message_id);
	/* audit_append commits the transaction with its row: no version without its audit row. */
	rc = audit_append(c, actor, client, "fields.set", target, details, err);
out:
	free(target);
	free(details);
	free(amount);
	return rc;
}

enum vl_err
bizfields_history_json(PGconn *c, const char *message_id, char **json, char *err)
{
	size_t n = strlen(message_id);
	const char *vals[] = {message_id};
	PGresult *r = NULL;
	enum vl_err rc;

	*json = NULL;
	if (n == 0 || n > BIZ_ID_MAX || strspn(message_id, "0123456789") != n)
		return vl_err_set(err, VL_ERR_PARSE, "message: expects a message id (digits)");
	rc = db_query(c, history_sql, 1, vals, &r, err);
	if (rc == VL_OK && PQntuples(r) != 1)
		rc = vl_err_set(err, VL_ERR_NOTFOUND, "no message %s", message_id);
	if (rc == VL_OK)
		*json = xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return rc;
}
