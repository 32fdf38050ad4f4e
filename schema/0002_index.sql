-- 0002_index: what the indexer reads out of each message (archiver/mime_extract) for search,
-- and the queue it works from. Forward-only, like every migration.
--
-- A message is waiting to be indexed while messages.indexed_at IS NULL; the indexer
-- (archiver/indexer.c) fills one message_index row and its attachments rows, then sets
-- indexed_at, in one transaction. The header fields the store already keeps (hdr_from,
-- hdr_to, hdr_cc, hdr_subject, hdr_date, hdr_message_id) stay on messages.

-- The queue: the oldest waiting messages by id, cheaply, however large the archive. A
-- partitioned index: PostgreSQL creates it on every partition, present and future.
CREATE INDEX messages_unindexed ON messages (id) WHERE indexed_at IS NULL;

-- to_tsvector('simple', t), never failing: a tsvector is at most 1 MB, and text whose
-- lexemes do not fit (the indexer bounds text to 256 KiB, but hyphenated and URL-like words
-- can split into several lexemes each) is indexed from its first 64 Ki characters instead of
-- failing the indexer's whole batch. The exception block costs a subtransaction only when
-- entered, a few microseconds against the ~1 ms of to_tsvector itself.
CREATE FUNCTION vellum_fts(t text) RETURNS tsvector
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
	RETURN to_tsvector('simple', coalesce(t, ''));
EXCEPTION WHEN program_limit_exceeded THEN
	RETURN to_tsvector('simple', left(t, 65536));
END $$;

-- One row per indexed message. Text columns are UTF-8 from mime_extract; the *_addrs arrays
-- hold bare, lower-cased addresses. body is the message's text, cut to the indexer's bound
-- (INDEXER_BODY_MAX), for snippets. tsv is built in SQL from the CJK-bigram form of the text
-- (mime_fts_text): setweight(subject, 'A') || setweight(attachment names, 'B') || body.
CREATE TABLE message_index (
	message_id       bigint PRIMARY KEY,
	received_at      timestamptz NOT NULL,
	sender           text,
	reply_to         text,
	hdr_bcc          text,
	in_reply_to      text,
	refs             text,
	from_addrs       text[] NOT NULL DEFAULT '{}',
	to_addrs         text[] NOT NULL DEFAULT '{}',
	cc_addrs         text[] NOT NULL DEFAULT '{}',
	bcc_addrs        text[] NOT NULL DEFAULT '{}',
	has_attachment   boolean NOT NULL DEFAULT false,
	attachment_names text[] NOT NULL DEFAULT '{}',
	body             text,
	tsv              tsvector
);

-- lz4 rather than pglz for the two large columns: several times faster to compress and
-- decompress at a similar ratio on mail text (PERF-NOTES: TOAST of the tsvector is a large
-- part of each row's cost).
ALTER TABLE message_index ALTER COLUMN body SET COMPRESSION lz4;
ALTER TABLE message_index ALTER COLUMN tsv SET COMPRESSION lz4;

CREATE INDEX message_index_tsv ON message_index USING gin (tsv);
CREATE INDEX message_index_from ON message_index USING gin (from_addrs);
CREATE INDEX message_index_to ON message_index USING gin (to_addrs);
CREATE INDEX message_index_cc ON message_index USING gin (cc_addrs);
CREATE INDEX message_index_bcc ON message_index USING gin (bcc_addrs);

-- Every attachment of an indexed message, in MIME order (message/rfc822 parts included).
-- filename is NULL when the part names none; size counts decoded bytes.
CREATE TABLE attachments (
	message_id   bigint NOT NULL,
	position     integer NOT NULL,
	filename     text,
	content_type text NOT NULL,
	size         bigint NOT NULL CHECK (size >= 0),
	PRIMARY KEY (message_id, position)
);
