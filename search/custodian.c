/* custodian - custodians and their addresses, validated, stored and audited. */
#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "buf.h"
#include "custodian.h"
#include "db.h"
#include "pgarray.h"

static const char add_name_sql[] =
	"INSERT INTO custodians (name) VALUES ($1) ON CONFLICT (name) DO NOTHING";
static const char add_addrs_sql[] =
	"INSERT INTO custodian_addresses (custodian, address)"
	" SELECT $1, a FROM unnest($2::text[]) a ON CONFLICT DO NOTHING";

static const char list_sql[] =
	"SELECT c.name, coalesce((SELECT json_agg(a.address ORDER BY a.address)"
	" FROM custodian_addresses a WHERE a.custodian = c.name), '[]')::text"
	" FROM custodians c ORDER BY c.name";

static int
name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > CUSTODIAN_NAME_MAX)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_' && *s != '-')
			return 0;
	return 1;
}

/* addr_ok - local@domain, printable ASCII or UTF-8, no space, quote, comma or angle bracket. */
static int
addr_ok(const char *s)
{
	const char *at = strchr(s, '@');
	size_t n = strlen(s);

	if (n < 3 || n > CUSTODIAN_ADDR_MAX || at == NULL || at == s || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL)
		return 0;
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch <= ' ' || ch == 0x7f || strchr("\"<>,;()[]\\", ch) != NULL)
			return 0;
	}
	return 1;
}

static char *
lower_dup(const char *s)
{
	char *d = xstrdup(s);

	for (char *p = d; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return d;
}

static char *
details_json(const char *name, char *const *addrs, size_t n)
{
	json_t *a = json_array(), *d;
	char *txt;

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(addrs[i]));
	d = json_pack("{s:s, s:o}", "name", name, "addresses", a);
	txt = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(d);
	return txt;
}

/* custodian_add_tx - the two statements and the audit row, inside the caller's transaction. */
static enum vl_err
custodian_add_tx(PGconn *c, const char *actor, const char *client, const char *name,
		 char *const *low, size_t n, char *err)
{
	struct pgarr arr = {0};
	char *details = details_json(name, low, n);
	const char *vals[2];
	enum vl_err rc;

	for (size_t i = 0; i < n; i++)
		pgarr_text(&arr, low[i]);
	vals[0] = name;
	vals[1] = pgarr_str(&arr);
	rc = db_exec(c, add_name_sql, 1, vals, err);
	if (rc == VL_OK)
		rc = db_exec(c, add_addrs_sql, 2, vals, err);
	if (rc == VL_OK)
		rc = audit_append(c, actor, client, "custodian.add", name, details, err);
	pgarr_free(&arr);
	free(details);
	return rc;
}

enum vl_err
custodian_add(PGconn *c, const char *actor, const char *client, const char *name,
	      char *const *addrs, size_t n, char *err)
{
	char *lname = lower_dup(name), **low;
	enum vl_err rc = VL_OK;
	size_t i;

	if (!name_ok(lname)) {
		free(lname);
		return vl_err_set(err, VL_ERR_PARSE,
				  "custodian name: 1 to %d letters, digits, '.', '_' or '-'",
				  CUSTODIAN_NAME_MAX);
	}
	if (n > CUSTODIAN_ADDRS_MAX) {
		free(lname);
		return vl_err_set(err, VL_ERR_LIMIT, "at most %d addresses at once",
				  CUSTODIAN_ADDRS_MAX);
	}
	low = xcalloc(n ? n : 1, sizeof(*low));
	for (i = 0; i < n; i++) {
		low[i] = lower_dup(addrs[i]);
		if (!addr_ok(low[i]) && rc == VL_OK)
			rc = vl_err_set(err, VL_ERR_PARSE, "'%.64s' is not an address",
					addrs[i]);
	}
	if (rc == VL_OK && (rc = db_begin(c, err)) == VL_OK) {
		rc = custodian_add_tx(c, actor, client, lname, low, n, err);
		if (rc == VL_OK)
			rc = db_commit(c, err);
		else
			db_rollback(c, NULL);
	}
	for (i = 0; i < n; i++)
		free(low[i]);
	free(low);
	free(lname);
	return rc;
}

enum vl_err
custodian_remove(PGconn *c, const char *actor, const char *client, const char *name, char *err)
{
	char *lname = lower_dup(name);
	const char *vals[1] = {lname};
	PGresult *r = NULL;
	enum vl_err rc;

	if ((rc = db_begin(c, err)) != VL_OK)
		goto out;
	rc = db_query(c, "DELETE FROM custodians WHERE name = $1 RETURNING name", 1, vals, &r,
		      err);
	if (rc == VL_OK && PQntuples(r) == 0)
		rc = vl_err_set(err, VL_ERR_NOTFOUND, "no custodian '%.128s'", lname);
	if (rc == VL_OK)
		rc = audit_append(c, actor, client, "custodian.remove", lname, NULL, err);
	if (rc == VL_OK)
		rc = db_commit(c, err);
	else
		db_rollback(c, NULL);
out:
	PQclear(r);
	free(lname);
	return rc;
}

enum vl_err
custodian_list(PGconn *c, PGresult **res, char *err)
{
	return db_query(c, list_sql, 0, NULL, res, err);
}
