-- 0015_bcc_visibility: what a role without the bcc permission (api/roles.c: reviewer) must not
-- see, known per message. Forward-only, like every migration.
--
-- bcc_exposure, set by the indexer from the message's own bytes: 0 its header and body name no
-- Bcc recipient; 1 its own header has a Bcc field (a sender's copy); 2 it is a journal report
-- (X-MS-Journal-Report or Content-Identifier: exjournalreport), whose body lists the Bcc
-- recipients of the original it wraps. NULL: not indexed since this migration; such a row is
-- treated as 2 (hidden) until the indexer has looked at it.
ALTER TABLE message_index ADD COLUMN bcc_exposure smallint CHECK (bcc_exposure BETWEEN 0 AND 2);

-- The indexer now gives an envelope recipient in the role bcc the terms of 'x' alone, no longer
-- those of 'r' (archiver/indexer.c), so that 'r' is what a role without bcc may search. Every
-- message is indexed again (`serve` or `vellum index` drains the queue) to fill both.
UPDATE messages SET indexed_at = NULL WHERE indexed_at IS NOT NULL;

-- The reviewer role: search, view, raw and export, without Bcc (api/roles.c). The CHECK of 0004
-- is replaced by a wider one under the name PostgreSQL gave it; every row already meets it.
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_role_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_role_check
	CHECK (role IN ('admin', 'officer', 'legal', 'auditor', 'ingest', 'reviewer'));
