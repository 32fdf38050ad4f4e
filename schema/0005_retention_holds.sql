-- 0005_retention_holds: retention (retain-until per message, versioned policy sets), legal
-- holds (matters, holds, their materialised coverage) and disposal (tombstones the ledger
-- commits to). Forward-only, like every migration.
--
-- The guards below are the last line: whatever Vellum path (CLI, API, a bug) or SQL session
-- tries, a message row goes only once its retain_until has passed and no active hold covers
-- it, and a compliance-mode retention is never shortened.

-- The clock the guards read. Tests travel in time by setting vellum.now in their session, but
-- only where the database owner has switched test_clock on (tests do; nothing else does), so a
-- session cannot move the guards' clock forward on an ordinary archive.
CREATE TABLE vellum_clock (
	one        boolean PRIMARY KEY DEFAULT true CHECK (one),
	test_clock boolean NOT NULL DEFAULT false
);
INSERT INTO vellum_clock DEFAULT VALUES;

CREATE FUNCTION vellum_now() RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
DECLARE
	o text := current_setting('vellum.now', true);
BEGIN
	IF o IS NULL OR o = '' THEN
		RETURN now();
	END IF;
	IF NOT (SELECT test_clock FROM vellum_clock) THEN
		RAISE EXCEPTION 'vellum: a clock override needs test_clock on (tests only)'
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	RETURN o::timestamptz;
END $$;

-- Retention of each message: computed from the policy set (retention-policies/policy.c) by
-- `vellum retention apply`; NULL until then, and a NULL retain_until is never disposed.
ALTER TABLE messages
	ADD COLUMN retain_until     timestamptz,
	ADD COLUMN retention_policy text,
	ADD COLUMN retention_mode   text CHECK (retention_mode IN ('compliance', 'governance'));
CREATE INDEX messages_retain_until ON messages (retain_until);
CREATE INDEX messages_unretained ON messages (id) WHERE retain_until IS NULL;

-- Every policy set ever applied: its SHA-256 (of the canonical JSON) and body.
CREATE TABLE policy_sets (
	version    bigserial PRIMARY KEY,
	sha256     bytea NOT NULL CHECK (length(sha256) = 32),
	body       jsonb NOT NULL,
	applied_by text NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
);

-- Matters (cases) hold holds. Never deleted.
CREATE TABLE matters (
	name        text PRIMARY KEY CHECK (name ~ '^[a-z0-9._-]{1,128}$'),
	description text NOT NULL DEFAULT '',
	created_by  text NOT NULL,
	created_at  timestamptz NOT NULL DEFAULT now()
);

-- A legal hold: custodians and/or a search query (search/query.h), an optional sent-date
-- range. Released, never deleted.
CREATE TABLE holds (
	id             bigserial PRIMARY KEY,
	name           text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9._-]{1,128}$'),
	matter         text NOT NULL REFERENCES matters (name),
	description    text NOT NULL DEFAULT '',
	query          text NOT NULL DEFAULT '',
	custodians     text[] NOT NULL DEFAULT '{}',
	date_from      timestamptz,
	date_to        timestamptz,
	placed_by      text NOT NULL,
	placed_at      timestamptz NOT NULL DEFAULT now(),
	released_by    text,
	released_at    timestamptz,
	release_reason text,
	swept_at       timestamptz,
	CHECK (query <> '' OR cardinality(custodians) > 0),
	CHECK ((released_at IS NULL) = (released_by IS NULL))
);

-- The messages a hold covers, materialised: by the placement, then by every sweep (serve's
-- and `vellum index`'s, and disposal's own just before it deletes). Rows are never removed.
CREATE TABLE hold_messages (
	hold_id    bigint NOT NULL REFERENCES holds (id),
	message_id bigint NOT NULL,
	added_at   timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (message_id, hold_id)
);
CREATE INDEX hold_messages_hold ON hold_messages (hold_id);
-- A sweep looks only at mail indexed since the hold's last one.
CREATE INDEX messages_indexed_at ON messages (indexed_at);

-- What disposal removed that the ledger once committed to: the message record of a blob that
-- went (subject: the ledger's message subject) and each receipt (subject: its line's
-- SHA-256). Each has a ledger 'disposal' entry with subject SHA-256('disposal' || subject),
-- so `vellum verify` tells a disposed record from a missing one.
CREATE TABLE disposed_records (
	subject       bytea PRIMARY KEY CHECK (length(subject) = 32),
	kind          text NOT NULL CHECK (kind IN ('message', 'receipt')),
	address       bytea,
	segment_id    bigint NOT NULL,
	record_offset bigint NOT NULL,
	disposed_at   timestamptz NOT NULL
);
CREATE INDEX disposed_records_segment ON disposed_records (segment_id, record_offset);

-- One row per disposed message: what went, under which policy, when, in which report.
CREATE TABLE disposals (
	message_id   bigint PRIMARY KEY,
	received_at  timestamptz NOT NULL,
	sha256       bytea NOT NULL CHECK (length(sha256) = 32),
	policy       text,
	retain_until timestamptz NOT NULL,
	disposed_at  timestamptz NOT NULL,
	report       text NOT NULL
);

CREATE FUNCTION vellum_hold_active(mid bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM hold_messages hm JOIN holds h ON h.id = hm.hold_id
		WHERE hm.message_id = mid AND h.released_at IS NULL)
$$;

-- The delete guard: before its retain_until, or under an active hold, a message stays.
CREATE FUNCTION vellum_guard_message_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF OLD.retain_until IS NULL OR OLD.retain_until >= vellum_now() THEN
		RAISE EXCEPTION 'vellum: message % is retained until %', OLD.id,
			coalesce(OLD.retain_until::text, '(not computed)')
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF vellum_hold_active(OLD.id) THEN
		RAISE EXCEPTION 'vellum: message % is under a legal hold', OLD.id
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	RETURN OLD;
END $$;
CREATE TRIGGER messages_guard_delete BEFORE DELETE ON messages
	FOR EACH ROW EXECUTE FUNCTION vellum_guard_message_delete();
CREATE TRIGGER messages_no_truncate BEFORE TRUNCATE ON messages
	FOR EACH STATEMENT EXECUTE FUNCTION vellum_refuse_change();

-- Retention never shrinks in compliance mode; in governance mode only with a reason set in the
-- session (vellum.shorten_reason, set by `vellum retention apply --shorten`, which audits it).
CREATE FUNCTION vellum_guard_retention() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF OLD.retain_until IS NOT NULL AND
	   (NEW.retain_until IS NULL OR NEW.retain_until < OLD.retain_until) THEN
		IF OLD.retention_mode IS DISTINCT FROM 'governance' THEN
			RAISE EXCEPTION 'vellum: message % is in compliance mode: its retention '
				'cannot be shortened', OLD.id USING ERRCODE = 'insufficient_privilege';
		END IF;
		IF coalesce(current_setting('vellum.shorten_reason', true), '') = '' THEN
			RAISE EXCEPTION 'vellum: shortening retention of message % needs a reason',
				OLD.id USING ERRCODE = 'insufficient_privilege';
		END IF;
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER messages_guard_retention BEFORE UPDATE OF retain_until ON messages
	FOR EACH ROW EXECUTE FUNCTION vellum_guard_retention();

-- Disposal releases a blob (refcount 0) just before it deletes it: found by this index.
CREATE INDEX blobs_unreferenced ON blobs (address) WHERE refcount = 0;

-- A blob goes only when no message references it.
CREATE FUNCTION vellum_guard_blob_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF OLD.refcount > 0 OR EXISTS (SELECT 1 FROM messages m WHERE m.address = OLD.address) THEN
		RAISE EXCEPTION 'vellum: blob % is still referenced', encode(OLD.address, 'hex')
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	RETURN OLD;
END $$;
CREATE TRIGGER blobs_guard_delete BEFORE DELETE ON blobs
	FOR EACH ROW EXECUTE FUNCTION vellum_guard_blob_delete();

-- Holds are released, never deleted; coverage, disposals and tombstones are append-only.
CREATE TRIGGER holds_no_delete BEFORE DELETE ON holds
	FOR EACH ROW EXECUTE FUNCTION vellum_refuse_change();
CREATE TRIGGER matters_no_delete BEFORE DELETE ON matters
	FOR EACH ROW EXECUTE FUNCTION vellum_refuse_change();
CREATE TRIGGER hold_messages_append_only BEFORE UPDATE OR DELETE ON hold_messages
	FOR EACH ROW EXECUTE FUNCTION vellum_refuse_change();
CREATE TRIGGER disposals_append_only BEFORE UPDATE OR DELETE ON disposals
	FOR EACH ROW EXECUTE FUNCTION vellum_refuse_change();
CREATE TRIGGER disposed_records_append_only BEFORE UPDATE OR DELETE ON disposed_records
	FOR EACH ROW EXECUTE FUNCTION vellum_refuse_change();
CREATE TRIGGER policy_sets_append_only BEFORE UPDATE OR DELETE ON policy_sets
	FOR EACH ROW EXECUTE FUNCTION vellum_refuse_change();
