/* token - the API's bearer tokens: making them, storing only their hash, checking them. */
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "secret.h"
#include "token.h"

void
token_generate(char text[TOKEN_TEXT_LEN + 1], uint8_t hash[TOKEN_HASH_LEN])
{
	secret_generate(TOKEN_PREFIX, text, hash);
}

int
token_hash(uint8_t hash[TOKEN_HASH_LEN], const char *text)
{
	return secret_hash(TOKEN_PREFIX, text, hash);
}

int
token_name_valid(const char *name)
{
	return secret_name_valid(name);
}

const char *
token_state_name(enum token_state s)
{
	static const char *const names[] = {"ok", "malformed", "unknown", "expired", "revoked"};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

/* expiry_is_date - YYYY-MM-DD, optionally followed by THH:MM:SSZ (digits checked here; the
 * calendar by PostgreSQL). */
static int
expiry_is_date(const char *d)
{
	const char *pat = strlen(d) == 10 ? "dddd-dd-dd" : "dddd-dd-ddTdd:dd:ddZ";

	if (strlen(d) != strlen(pat))
		return 0;
	for (size_t i = 0; pat[i]; i++)
		if (pat[i] == 'd' ? !isdigit((unsigned char)d[i]) : d[i] != pat[i])
			return 0;
	return 1;
}

int
token_expiry_parse(const char *d, char *out, size_t n, int *is_interval)
{
	static const struct {
		char unit;
		const char *word;
		long max;
	} units[] = {{'d', "days", 36500}, {'h', "hours", 36500L * 24}, {'m', "minutes", 36500L * 1440}};
	size_t len = strlen(d);

	if (expiry_is_date(d)) {
		*is_interval = 0;
		return snprintf(out, n, "%s", d) < (int)n ? 0 : -1;
	}
	if (len < 2 || len > 9 || strspn(d, "0123456789") != len - 1)
		return -1;
	long v = strtol(d, NULL, 10);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (d[len - 1] != units[i].unit)
			continue;
		if (v < 1 || v > units[i].max)
			return -1;
		*is_interval = 1;
		return snprintf(out, n, "%ld %s", v, units[i].word) < (int)n ? 0 : -1;
	}
	return -1;
}

enum vl_err
token_create(PGconn *c, const char *name, enum role role, const char *expires,
	     const char *created_by, char text[TOKEN_TEXT_LEN + 1], char *err)
{
	uint8_t hash[TOKEN_HASH_LEN];
	char hashhex[2 * TOKEN_HASH_LEN + 1], when[64] = "", interval[64] = "";
	int is_interval = 0;
	PGresult *r;
	enum vl_err rc = VL_OK;

	if (!token_name_valid(name))
		return vl_err_set(err, VL_ERR_PARSE,
				  "token name must be 1-64 characters of A-Z a-z 0-9 . _ -");
	if (expires && token_expiry_parse(expires, when, sizeof(when), &is_interval) != 0)
		return vl_err_set(err, VL_ERR_PARSE,
				  "--expires: '%s' is not Nd, Nh, Nm, YYYY-MM-DD or "
				  "YYYY-MM-DDTHH:MM:SSZ",
				  expires);
	if (expires && is_interval) {
		memcpy(interval, when, sizeof(interval));
		when[0] = 0;
	}
	token_generate(text, hash);
	hex_encode(hashhex, hash, sizeof(hash));
	const char *vals[] = {name, role_name(role), hashhex, created_by, when[0] ? when : NULL,
			      interval[0] ? interval : NULL};
	r = PQexecParams(c,
			 "INSERT INTO api_tokens (name, role, hash, lookup, created_by, expires_at)"
			 " SELECT $1, $2, decode($3, 'hex'), substr(decode($3, 'hex'), 1, 8), $4,"
			 " coalesce($5::timestamptz, now() + $6::interval)"
			 " WHERE coalesce($5::timestamptz, now() + $6::interval, 'infinity') > now()",
			 6, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);

		if (state && strcmp(state, "23505") == 0)
			rc = vl_err_set(err, VL_ERR_EXISTS, "a token named '%s' exists already", name);
		else if (state && strncmp(state, "22", 2) == 0)
			rc = vl_err_set(err, VL_ERR_PARSE, "--expires: '%s' is not a valid time",
					expires ? expires : "");
		else
			rc = vl_err_set(err, VL_ERR_DB, "token create: %s", PQerrorMessage(c));
	} else if (strcmp(PQcmdTuples(r), "1") != 0) {
		rc = vl_err_set(err, VL_ERR_PARSE, "--expires: '%s' is not in the future", expires);
	}
	PQclear(r);
	sodium_memzero(hash, sizeof(hash));
	if (rc != VL_OK)
		sodium_memzero(text, TOKEN_TEXT_LEN + 1);
	return rc;
}

enum vl_err
token_revoke(PGconn *c, const char *name, char *err)
{
	const char *vals[] = {name};
	PGresult *r;
	enum vl_err rc = VL_OK;

	r = PQexecParams(c,
			 "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now())"
			 " WHERE name = $1",
			 1, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = vl_err_set(err, VL_ERR_DB, "token revoke: %s", PQerrorMessage(c));
	else if (strcmp(PQcmdTuples(r), "1") != 0)
		rc = vl_err_set(err, VL_ERR_NOTFOUND, "no token named '%s'", name);
	PQclear(r);
	return rc;
}

#define TOKEN_TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

enum vl_err
token_list(PGconn *c, json_t **out, char *err)
{
	static const char *const cols[] = {"name",	 "role",       "state",	     "created_at",
					   "created_by", "expires_at", "revoked_at", "last_used_at"};
	PGresult *r;

	r = PQexec(c, "SELECT name, role, CASE WHEN revoked_at IS NOT NULL THEN 'revoked'"
		      " WHEN expires_at <= now() THEN 'expired' ELSE 'active' END, " TOKEN_TS(
			      "created_at") ", created_by, " TOKEN_TS("expires_at") ", " TOKEN_TS("revoked_at") ", " TOKEN_TS("last_used_at") " FROM api_tokens ORDER BY id");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		enum vl_err rc = vl_err_set(err, VL_ERR_DB, "token list: %s", PQerrorMessage(c));

		PQclear(r);
		return rc;
	}
	*out = json_array();
	for (int i = 0; i < PQntuples(r); i++) {
		json_t *o = json_object();

		for (int k = 0; k < 8; k++)
			json_object_set_new(o, cols[k],
					    PQgetisnull(r, i, k) ? json_null()
								 : json_string(PQgetvalue(r, i, k)));
		json_array_append_new(*out, o);
	}
	PQclear(r);
	return VL_OK;
}

/* token_touch - last_used_at, at most once a minute per token (a write per request would make
 * every read a write). */
static enum vl_err
token_touch(PGconn *c, const char *id, char *err)
{
	const char *vals[] = {id};
	PGresult *r = PQexecParams(c,
				   "UPDATE api_tokens SET last_used_at = now() WHERE id = $1 AND"
				   " (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
				   1, NULL, vals, NULL, NULL, 0);
	enum vl_err rc = VL_OK;

	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = vl_err_set(err, VL_ERR_DB, "token use: %s", PQerrorMessage(c));
	PQclear(r);
	return rc;
}

enum vl_err
token_check(PGconn *c, const char *text, struct token_auth *out, char *err)
{
	uint8_t hash[TOKEN_HASH_LEN];
	char lookup[2 * TOKEN_LOOKUP_LEN + 1], id[24] = "";
	PGresult *r;
	enum vl_err rc = VL_OK;

	memset(out, 0, sizeof(*out));
	out->state = TOKEN_MALFORMED;
	if (token_hash(hash, text) != 0)
		return VL_OK;
	out->state = TOKEN_UNKNOWN;
	hex_encode(lookup, hash, TOKEN_LOOKUP_LEN);
	const char *vals[] = {lookup};
	/* Binary results: the hash column arrives as its 32 bytes. */
	r = PQexecParams(c,
			 "SELECT id::text, name, role, hash, revoked_at IS NOT NULL,"
			 " coalesce(expires_at <= now(), false)"
			 " FROM api_tokens WHERE lookup = decode($1, 'hex')",
			 1, NULL, vals, NULL, NULL, 1);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = vl_err_set(err, VL_ERR_DB, "token check: %s", PQerrorMessage(c));
		goto out;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		if (PQgetlength(r, i, 3) != TOKEN_HASH_LEN ||
		    sodium_memcmp(PQgetvalue(r, i, 3), hash, TOKEN_HASH_LEN) != 0)
			continue;
		snprintf(out->name, sizeof(out->name), "%.*s", PQgetlength(r, i, 1),
			 PQgetvalue(r, i, 1));
		snprintf(id, sizeof(id), "%.*s", PQgetlength(r, i, 0), PQgetvalue(r, i, 0));
		char role[16];
		snprintf(role, sizeof(role), "%.*s", PQgetlength(r, i, 2), PQgetvalue(r, i, 2));
		out->role = (enum role)role_parse(role);
		out->state = PQgetvalue(r, i, 4)[0] ? TOKEN_REVOKED
			     : PQgetvalue(r, i, 5)[0] ? TOKEN_EXPIRED
						      : TOKEN_OK;
		break;
	}
	if (out->state == TOKEN_OK)
		rc = token_touch(c, id, err);
out:
	PQclear(r);
	sodium_memzero(hash, sizeof(hash));
	return rc;
}
