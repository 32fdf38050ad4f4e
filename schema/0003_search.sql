-- 0003_search: what search (search/) reads, filled by the indexer (archiver/indexer.c).
-- Forward-only, like every migration.

-- sent_at: the Date: header, or received_at when the message has none that can be read (so
-- every message sorts and filters by a date). size: the raw message's bytes. msgid: the
-- Message-ID lower-cased without angle brackets. addr_terms: every way an address field can be
-- searched, one text per (field, kind, value), "<field>:<kind>:<value>", all lower-case:
--   field  f From and Sender, t To, c Cc, b Bcc header and envelope recipients in the role
--          bcc, e envelope MAIL FROM, r every envelope recipient (any role)
--   kind   a the whole address, l its local part, d its domain and every parent domain
--          (mail.enron.com, enron.com, com), w a word of the display name or of the local
--          part (runs of letters and digits)
-- e.g. From: "Jeff Skilling" <jeff.skilling@enron.com> gives f:a:jeff.skilling@enron.com,
-- f:l:jeff.skilling, f:d:enron.com, f:d:com, f:w:jeff, f:w:skilling. One GIN index on the
-- array answers from:, to:, cc:, bcc:, participants: and custodian: with && (overlap).
ALTER TABLE message_index
	ADD COLUMN sent_at    timestamptz,
	ADD COLUMN size       bigint NOT NULL DEFAULT 0 CHECK (size >= 0),
	ADD COLUMN msgid      text,
	ADD COLUMN addr_terms text[] NOT NULL DEFAULT '{}';

-- Rows indexed before this migration get their dates now, so sent_at can be NOT NULL (they are
-- indexed again below, which fills the rest).
UPDATE message_index mi SET sent_at = coalesce(m.hdr_date, mi.received_at)
	FROM messages m WHERE m.id = mi.message_id AND m.received_at = mi.received_at;
UPDATE message_index SET sent_at = received_at WHERE sent_at IS NULL;
ALTER TABLE message_index ALTER COLUMN sent_at SET NOT NULL;

DROP INDEX message_index_from, message_index_to, message_index_cc, message_index_bcc;
CREATE INDEX message_index_addr ON message_index USING gin (addr_terms);
-- Results come newest first by sent date, paged by the key (sent_at, message_id).
CREATE INDEX message_index_sent ON message_index (sent_at DESC, message_id DESC);
CREATE INDEX message_index_received ON message_index (received_at);
CREATE INDEX message_index_msgid ON message_index (msgid);
CREATE INDEX message_index_size ON message_index (size);

-- Custodians: a person and the addresses they use; custodian:NAME searches all of them.
CREATE TABLE custodians (
	name         text PRIMARY KEY CHECK (name = lower(name) AND length(name) BETWEEN 1 AND 128),
	display_name text,
	created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE custodian_addresses (
	custodian text NOT NULL REFERENCES custodians (name) ON DELETE CASCADE,
	address   text NOT NULL CHECK (address = lower(address) AND length(address) BETWEEN 3 AND 320),
	PRIMARY KEY (custodian, address)
);
CREATE INDEX custodian_addresses_address ON custodian_addresses (address);

-- The tsvector is now built by the indexer in C (archiver/fts.c), and the columns above are
-- new: index everything again.
UPDATE messages SET indexed_at = NULL WHERE indexed_at IS NOT NULL;
