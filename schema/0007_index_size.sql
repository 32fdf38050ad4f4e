-- 0007_index_size: message_index keeps only what search reads (issue 4: the index no larger
-- than the compressed blobs it indexes). Forward-only, like every migration.
--
-- At 100,000 generated messages (bench/search.sh) message_index goes from 6,135 to 4,227 bytes
-- a message (the compressed blobs: 935). Gone (bytes a message):
--   body         1,315  the text for snippets: search/snippet.c now cuts them from the hits'
--                       messages, read from the store, bounded a page
--   from_addrs, to_addrs, cc_addrs, bcc_addrs  306  read only by retention, which now takes
--                       the whole addresses of addr_terms (vellum_addr_list)
--   sender, reply_to, hdr_bcc, in_reply_to, refs  ~60  read by nothing
-- The btree on msgid (94 bytes a message) becomes a hash index (id: only ever asks =), and the
-- tsvector goes to TOAST past 512 bytes (below).
--
-- addr_terms keep their form (0003_search.sql) with two more field letters, for the whole
-- address (kind a) only, so that retention can still tell From from Sender and the Bcc header
-- from the envelope without the arrays: s the Sender header and x an envelope recipient in the
-- role bcc. A query for an address asks for f and s (from:), b and x (bcc:); every other kind
-- of a Sender or envelope bcc address is written under f and b as before.
--
-- Tried and left out: addr_terms grouped by value ("ter:a:x@y" for t:a:, e:a:, r:a:) with a
-- GIN expression index over a SQL function expanding them saved only 85 bytes a message here
-- (most values are in one field) and cost ~110 us a row wherever the terms are not read from the
-- GIN index: the first page of from:x date:A..B walks the date index and went 6 -> 43 ms, and
-- a prefix (from:jeff*) tests every row.

-- Rows indexed before this migration: a whole address of f that is not in from_addrs came from
-- the Sender header, so it becomes s; one of b not in bcc_addrs came from the envelope, so it
-- becomes x. Used once, below.
CREATE FUNCTION vellum_terms_0007(terms text[], from_addrs text[], bcc_addrs text[])
RETURNS text[] LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT coalesce(array_agg(CASE
		WHEN t LIKE 'f:a:%' AND NOT (substr(t, 5) = ANY (from_addrs)) THEN 's' || substr(t, 2)
		WHEN t LIKE 'b:a:%' AND NOT (substr(t, 5) = ANY (bcc_addrs)) THEN 'x' || substr(t, 2)
		ELSE t END ORDER BY t), '{}')
	FROM unnest(terms) t
$$;

-- vellum_addr_list(addr_terms, fields) - the whole addresses (kind a) of any of the fields
-- named ('f' From, 's' Sender, 't' To, 'c' Cc, 'b' Bcc header, 'x' envelope bcc, 'e' MAIL
-- FROM, 'r' envelope recipients), sorted, each once: what retention and export read.
CREATE FUNCTION vellum_addr_list(terms text[], fields text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT coalesce(array_agg(DISTINCT substr(t, 5) ORDER BY substr(t, 5)), '{}')
	FROM unnest(terms) t
	WHERE substr(t, 2, 3) = ':a:' AND strpos(fields, substr(t, 1, 1)) > 0
$$;

-- The tsvector is 2.3 KB a message here (neither lz4 nor pglz shrinks it by more than a few
-- per cent). PostgreSQL starts to TOAST a row only past 2 KB (TOAST_TUPLE_THRESHOLD, fixed),
-- but once it does it goes on down to toast_tuple_target: 512 bytes, not 2 KB, so a row with a
-- large tsvector also sends its address terms to TOAST when they would leave it over 512 bytes.
-- A narrower heap makes the GIN posting lists, which store the distance between row addresses,
-- smaller. Every row this migration writes again has toasted values and so goes down to 512
-- bytes (100,000 messages: heap 50 MB, GIN on tsv 50 MB); a fresh load has only its rows over
-- 2 KB so treated (heap 70 MB, GIN on tsv 60 MB). A search reads a row's tsvector only to
-- recheck a phrase or to walk the date index, as it did when the body pushed it out.
ALTER TABLE message_index SET (toast_tuple_target = 512);

-- One rewrite of the table: the dropped columns' bytes go and every index is built again
-- (ALTER COLUMN ... TYPE with USING writes every row anew; VACUUM FULL may not run here).
ALTER TABLE message_index
	DROP COLUMN body,
	DROP COLUMN from_addrs,
	DROP COLUMN to_addrs,
	DROP COLUMN cc_addrs,
	DROP COLUMN bcc_addrs,
	DROP COLUMN sender,
	DROP COLUMN reply_to,
	DROP COLUMN hdr_bcc,
	DROP COLUMN in_reply_to,
	DROP COLUMN refs,
	ALTER COLUMN addr_terms TYPE text[]
		USING vellum_terms_0007(addr_terms, from_addrs, bcc_addrs);
DROP FUNCTION vellum_terms_0007(text[], text[], text[]);

DROP INDEX message_index_msgid;
CREATE INDEX message_index_msgid ON message_index USING hash (msgid);
