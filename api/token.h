/* token - the API's bearer tokens: making them, storing only their hash, checking them.
 * Owns: the token format (a secret.h secret with the prefix "vlm_") and its SHA-256,
 * the api_tokens table (schema/0004_api.sql) and the constant-time check of a presented
 * token. Not: what a role may do (roles), rate limits and audit rows (api). */
#ifndef VL_TOKEN_H
#define VL_TOKEN_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdint.h>

#include "roles.h"
#include "secret.h"
#include "vl_err.h"

#define TOKEN_PREFIX "vlm_"
#define TOKEN_TEXT_LEN (sizeof(TOKEN_PREFIX) - 1 + SECRET_B64_LEN) /* "vlm_" + 43 characters */
#define TOKEN_HASH_LEN SECRET_HASH_LEN
#define TOKEN_LOOKUP_LEN 8 /* leading hash bytes the row is found by */
#define TOKEN_NAME_MAX SECRET_NAME_MAX

/* How a presented token fared. Only TOKEN_OK authenticates. */
enum token_state { TOKEN_OK = 0, TOKEN_MALFORMED, TOKEN_UNKNOWN, TOKEN_EXPIRED, TOKEN_REVOKED };

struct token_auth {
	enum token_state state;
	char name[TOKEN_NAME_MAX + 1]; /* set for OK, EXPIRED and REVOKED */
	enum role role;
};

/* token_generate - a new token's text (NUL-terminated) and its hash. */
void token_generate(char text[TOKEN_TEXT_LEN + 1], uint8_t hash[TOKEN_HASH_LEN]);
/* token_hash - the hash of a presented token; -1 when text is not a well-formed token. */
int token_hash(uint8_t hash[TOKEN_HASH_LEN], const char *text);
/* token_name_valid - 1 for 1..64 characters of [A-Za-z0-9._-], else 0. */
int token_name_valid(const char *name);
/* token_state_name - "ok", "malformed", "unknown", "expired", "revoked". */
const char *token_state_name(enum token_state s);
/* token_expiry_parse - "--expires D": "Nd", "Nh" or "Nm" (N of 1..36500 days' worth) gives an
 * interval text ("30 days") in out with *is_interval = 1; "YYYY-MM-DD" or
 * "YYYY-MM-DDTHH:MM:SSZ" gives that time's text with *is_interval = 0. -1 for anything else. */
int token_expiry_parse(const char *d, char *out, size_t n, int *is_interval);

/* token_create - a new token named name with role: its row (hash only) is inserted and its
 * text written to text, to be shown once. expires: NULL or as token_expiry_parse accepts; it
 * must lie in the future. VL_ERR_PARSE for a bad name or expiry, VL_ERR_EXISTS when the name
 * is taken, VL_ERR_DB. */
enum vl_err token_create(PGconn *c, const char *name, enum role role, const char *expires,
			 const char *created_by, char text[TOKEN_TEXT_LEN + 1],
			 char *err) VL_MUST_CHECK;
/* token_revoke - mark the token named name revoked (revoking twice is fine). VL_ERR_NOTFOUND,
 * VL_ERR_DB. */
enum vl_err token_revoke(PGconn *c, const char *name, char *err) VL_MUST_CHECK;
/* token_list - every token as a JSON array (caller json_decref) of {name, role, state,
 * created_at, created_by, expires_at, revoked_at, last_used_at}; never a hash. VL_ERR_DB. */
enum vl_err token_list(PGconn *c, json_t **out, char *err) VL_MUST_CHECK;
/* token_check - find the token text names and fill *out (state and, when known, name and
 * role). The row is found by the hash's first TOKEN_LOOKUP_LEN bytes and the whole hash is
 * then compared with sodium_memcmp. A token that authenticates has its last_used_at set (at
 * most once a minute). VL_OK whatever the state; VL_ERR_DB. */
enum vl_err token_check(PGconn *c, const char *text, struct token_auth *out,
			char *err) VL_MUST_CHECK;

#endif
