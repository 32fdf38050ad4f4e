-- 0014_index_exceptions: what of each message the full-text index lacks, and why: the rows of
-- the "unindexed items" report that accompanies every search and export (REQUIREMENTS,
-- eDiscovery: "Items that could not be indexed (encrypted, oversized, unsupported type) are
-- listed"; Purview calls them partially indexed items). Forward-only, like every migration.
--
-- The indexer (archiver/indexer.c) writes a message's rows in the transaction that writes its
-- message_index row, after deleting the ones it had: re-indexing (`vellum index --all`,
-- rebuild-index) replaces them, never adds to them. Disposal deletes them with the index row
-- (retention-policies/dispose.c). Like attachments, no foreign key: messages is partitioned.
--
-- reason is one of a fixed set (archiver/index_exc.h):
--   encrypted         S/MIME enveloped-data, PGP/MIME (multipart/encrypted), inline PGP, a
--                     password-protected ZIP
--   unsupported_type  an attachment whose text is not extracted (every attachment today but a
--                     forwarded message, whose text is)
--   truncated         text cut at a size bound (MIME_BODY_MAX, MIME_HTML_MAX, INDEXER_BODY_MAX,
--                     the tsvector's FTS_VEC_BYTES_MAX, INDEXER_RAW_MAX)
--   decode_error      an unknown charset or transfer encoding, bytes invalid in their charset
--   unparsed          GMime could not parse it, its bytes could not be read, or the database
--                     refused its text
-- part is the MIME part number ("1", "2.1"), '' for the whole message.
CREATE TABLE index_exceptions (
	message_id   bigint NOT NULL,
	position     integer NOT NULL CHECK (position >= 0),
	part         text NOT NULL CHECK (length(part) < 64),
	filename     text,
	content_type text CHECK (length(content_type) <= 255),
	reason       text NOT NULL CHECK (reason IN ('encrypted', 'unsupported_type', 'truncated',
	                                             'decode_error', 'unparsed')),
	detail       text NOT NULL CHECK (length(detail) <= 200),
	PRIMARY KEY (message_id, position)
);
