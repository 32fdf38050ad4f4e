-- 0004_api: the HTTP API's bearer tokens (api/token.c). Forward-only, like every migration.
--
-- A token is shown once, when `vellum token create` makes it; only its SHA-256 is kept. The
-- token is 32 random bytes, so a fast unsalted hash is enough: nothing can be guessed from it.
-- lookup is the hash's first 8 bytes: the API finds the candidate rows by it, then compares
-- the whole hash in constant time (sodium_memcmp), so no timing of an index comparison on the
-- secret's hash decides a login. Tokens are never deleted: revoked_at marks them, and the
-- audit trail keeps naming them.
CREATE TABLE api_tokens (
	id           bigserial PRIMARY KEY,
	name         text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9._-]{1,64}$'),
	role         text NOT NULL CHECK (role IN ('admin', 'officer', 'legal', 'auditor', 'ingest')),
	hash         bytea NOT NULL UNIQUE CHECK (length(hash) = 32),
	lookup       bytea NOT NULL CHECK (length(lookup) = 8),
	created_at   timestamptz NOT NULL DEFAULT now(),
	created_by   text NOT NULL,
	expires_at   timestamptz,
	revoked_at   timestamptz,
	last_used_at timestamptz
);
CREATE INDEX api_tokens_lookup ON api_tokens (lookup);

-- GET /v1/audit filters by action and time as well as by actor (audit_actor).
CREATE INDEX audit_action ON audit (action, at);
CREATE INDEX audit_at ON audit (at);
