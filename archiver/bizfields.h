/* bizfields - per-message business fields for 電子帳簿保存法: 取引年月日 (txdate), 取引金額 (amount
 * and its currency) and 取引先 (counterparty), set by a person with a reason.
 * Owns: each value's syntax and bound, appending a version (never changing one; audited as
 * fields.set with the old and new values), and a message's history as JSON text.
 * Not: searching them (search/query_field), removing them (dispose), the table (schema 0013). */
#ifndef VL_BIZFIELDS_H
#define VL_BIZFIELDS_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vl_err.h"

#define BIZ_AMOUNT_DIGITS 15	   /* digits before the point: amounts below 10^15 */
#define BIZ_AMOUNT_DECIMALS 2	   /* digits after it */
#define BIZ_COUNTERPARTY_MAX 200   /* characters of a counterparty's name */
#define BIZ_REASON_MAX 500	   /* characters of a reason */
#define BIZ_CURRENCY_DEFAULT "JPY" /* ISO 4217, when the first version names none */
#define BIZ_YEAR_MIN 1900	   /* a txdate's year, at least */
#define BIZ_YEAR_MAX 2999	   /* and at most (schema 0013 checks the same) */
#define BIZ_ID_MAX 18		   /* digits of a message id */

/* One set: NULL keeps the current version's value (a correction of one field); a message's
 * first set must name txdate, amount and counterparty. */
struct bizfields_set {
	const char *message_id;	  /* 1..BIZ_ID_MAX digits */
	const char *txdate;	  /* YYYY-MM-DD */
	const char *amount;	  /* 120000, 1234.5, 1234.50: not negative, below 10^15 */
	const char *currency;	  /* three letters (ISO 4217), upper-cased */
	const char *counterparty; /* 1..BIZ_COUNTERPARTY_MAX characters of UTF-8, no controls */
	const char *reason;	  /* required: 1..BIZ_REASON_MAX characters */
};

/* The JSON of one version row a (SQL alias) with its version number expression v, for the
 * history, the audit row and GET /v1/messages/{id}. Amounts are strings ("120000.00"). */
#define BIZFIELDS_JSON(a, v)                                                                       \
	"json_build_object('version', " v ", 'txdate', " a ".txdate::text, 'amount', " a            \
	".amount::text, 'currency', " a ".currency, 'counterparty', " a ".counterparty, 'set_by', " \
	a ".set_by, 'set_at', to_char(" a ".set_at AT TIME ZONE 'UTC',"                             \
	" 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), 'reason', " a ".reason, 'source', " a ".source)"

/* bizfields_amount_parse - s[0..len), digits with an optional point and one or two decimals,
 * into hundredths; false when malformed, negative or not below 10^BIZ_AMOUNT_DIGITS. */
bool bizfields_amount_parse(const char *s, size_t len, int64_t *hundredths);

/* bizfields_amount_text - hundredths as numeric input ("120000.00"); caller frees. */
char *bizfields_amount_text(int64_t hundredths);

/* bizfields_set - check s, then append the message's next version and its fields.set audit row
 * (actor, client may be NULL), in one transaction. *version (may be NULL): the new version's
 * number. VL_ERR_PARSE or VL_ERR_LIMIT naming the field for a bad value, VL_ERR_NOTFOUND for
 * no such message; nothing is written then. */
enum vl_err bizfields_set(PGconn *c, const char *actor, const char *client,
			  const struct bizfields_set *s, int64_t *version, char *err) VL_MUST_CHECK;

/* bizfields_history_json - {"message": id, "versions": [...]} oldest first (the last is the
 * current one; [] when never set); caller frees. VL_ERR_NOTFOUND for no such message. */
enum vl_err bizfields_history_json(PGconn *c, const char *message_id, char **json,
				   char *err) VL_MUST_CHECK;

#endif
