-- 0006_exports: evidence exports made through the HTTP API (api/handlers_export.c, the work
-- itself in search/export.c). Forward-only, like every migration.
--
-- A row is written 'running' before the export starts and set 'complete' (with its counts
-- and the SHA-256 of the signed tag manifest) or 'failed' (with the reason) when it ends; the
-- folder dir exists only for a complete export (export_run renames it into place last). The
-- audit trail has the same story under target 'export:<id>'.
CREATE TABLE exports (
	id              bigserial PRIMARY KEY,
	state           text NOT NULL DEFAULT 'running'
	                CHECK (state IN ('running', 'complete', 'failed')),
	query           text NOT NULL,
	options         jsonb NOT NULL DEFAULT '{}',
	actor           text NOT NULL,
	created_at      timestamptz NOT NULL DEFAULT now(),
	finished_at     timestamptz,
	counts          jsonb,
	dir             text,
	manifest_sha256 text CHECK (manifest_sha256 IS NULL OR manifest_sha256 ~ '^[0-9a-f]{64}$'),
	error           text
);
