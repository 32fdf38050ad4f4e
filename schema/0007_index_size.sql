-- 0007_index_size: message_index keeps only what search reads (issue 4: the index no larger
-- than the compressed blobs it indexes). Forward-only, like every migration.
--
-- Gone, measured at 100,000 generated messages (bench/search.sh; bytes a message):
--   body         1,315  the text for snippets: search/snippet.c now reads the hits of a page
--                       from the store (the message itself), bounded
--   addr_terms     504  heap, plus 255 of GIN: every "<field>:<kind>:<value>" stored; now the
--                       compact addrs below, the terms computed by vellum_addr_terms() for
--                       the GIN expression index and for the queries (same terms, same answers)
--   from_addrs, to_addrs, cc_addrs, bcc_addrs  306  read only by retention: now vellum_addr_list()
--   sender, reply_to, hdr_bcc, in_reply_to, refs  ~60  read by nothing
-- and the btree on msgid (94 bytes a message) becomes a hash index (id: is only ever =).
--
-- addrs: the address terms of 0003_search.sql grouped by value, one text per group,
-- "<fields>:<kinds>:<value>", meaning every <field>:<kind>:<value> of the cross product:
--   fields  f t c b e r as in 0003, and two kept apart only in the whole address (kind a), so
--           that retention can tell From from Sender and the Bcc header from the envelope:
--           s the Sender header, searched as f; x an envelope recipient in the role bcc,
--           searched as b (and listed as r too)
--   kinds   a l d w as in 0003
-- e.g. "ter:a:jeff.skilling@enron.com" is t:a:..., e:a:... and r:a:...; "ftr:d:enron.com" is
-- f:d:enron.com, t:d:enron.com and r:d:enron.com. The indexer (archiver/indexer.c) writes no
-- pair twice, so the terms need no DISTINCT.
ALTER TABLE message_index ADD COLUMN addrs text[] NOT NULL DEFAULT '{}';

-- vellum_addr_terms(addrs) - the terms of 0003_search.sql ("f:a:jeff@enron.com", ...), for
-- the GIN index and the && of from:, to:, cc:, bcc:, participants: and custodian:. The parts
-- before the value are ASCII letters, so length() in characters counts their bytes. About 70 us
-- a message here. unnest(string_to_array()) and not string_to_table(): the planner takes a
-- set-returning function for 1,000 rows, and three of them priced the body high enough for JIT,
-- which then compiled it again on every call (10 ms each).
CREATE FUNCTION vellum_addr_terms(a text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT coalesce(array_agg(translate(f, 'sx', 'fb') || ':' || k || ':' ||
		substr(e, length(split_part(e, ':', 1)) + length(split_part(e, ':', 2)) + 3)), '{}')
	FROM unnest(a) e, unnest(string_to_array(split_part(e, ':', 1), NULL)) f,
		unnest(string_to_array(split_part(e, ':', 2), NULL)) k
$$;

-- vellum_addr_list(addrs, fields) - the whole addresses (kind a) found in any of the fields
-- named ('f' From, 's' Sender, 't' To, 'c' Cc, 'b' Bcc header, 'x' envelope bcc, 'e' MAIL
-- FROM, 'r' envelope recipients), in value order: what retention and export read.
CREATE FUNCTION vellum_addr_list(a text[], fields text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT coalesce(array_agg(v ORDER BY v), '{}')
	FROM (SELECT substr(e, length(split_part(e, ':', 1)) + length(split_part(e, ':', 2)) + 3) v
		FROM unnest(a) e
		WHERE strpos(split_part(e, ':', 2), 'a') > 0
		  AND translate(split_part(e, ':', 1), fields, '') <> split_part(e, ':', 1)) s
$$;

-- vellum_addrs_0007(addr_terms, from_addrs, bcc_addrs) - the addrs of a row indexed before
-- this migration, from its stored terms (no re-indexing): a whole address of f that is not in
-- from_addrs came from the Sender header, so it becomes s; one of b not in bcc_addrs came from
-- the envelope, so it becomes x. Used once, below.
CREATE FUNCTION vellum_addrs_0007(terms text[], from_addrs text[], bcc_addrs text[])
RETURNS text[] LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT coalesce(array_agg(fs || ':' || ks || ':' || v ORDER BY v, ks), '{}')
	FROM (SELECT v, fs, string_agg(k, '' ORDER BY k) ks
		FROM (SELECT v, k, string_agg(f, '' ORDER BY f) fs
			FROM (SELECT DISTINCT CASE
					WHEN x.f = 'f' AND x.k = 'a' AND NOT (x.v = ANY (from_addrs)) THEN 's'
					WHEN x.f = 'b' AND x.k = 'a' AND NOT (x.v = ANY (bcc_addrs)) THEN 'x'
					ELSE x.f END f, x.k, x.v
				FROM (SELECT substr(t, 1, 1) f, substr(t, 3, 1) k, substr(t, 5) v
					FROM unnest(terms) t) x) y
			GROUP BY v, k) z
		GROUP BY v, fs) w
$$;

-- The tsvector (2.3 KB a message here, which neither lz4 nor pglz shrinks by more than a few
-- per cent) goes to TOAST whenever a row passes 512 bytes, not 2 KB: the heap then holds ~20
-- rows a page instead of ~5, and the GIN index on tsv, whose posting lists store the distance
-- between row addresses, is a third smaller (83 MB -> 55 MB at 100,000 messages). A search
-- reads a row's tsvector only to recheck a phrase or to walk the date index, as it did when the
-- body pushed it out.
ALTER TABLE message_index SET (toast_tuple_target = 512);

-- One rewrite of the table: the dropped columns' bytes go, addrs is computed, every index is
-- built again (ALTER COLUMN ... TYPE with USING writes every row anew).
ALTER TABLE message_index
	DROP COLUMN body,
	DROP COLUMN addr_terms,
	DROP COLUMN from_addrs,
	DROP COLUMN to_addrs,
	DROP COLUMN cc_addrs,
	DROP COLUMN bcc_addrs,
	DROP COLUMN sender,
	DROP COLUMN reply_to,
	DROP COLUMN hdr_bcc,
	DROP COLUMN in_reply_to,
	DROP COLUMN refs,
	ALTER COLUMN addrs TYPE text[] USING vellum_addrs_0007(addr_terms, from_addrs, bcc_addrs);
DROP FUNCTION vellum_addrs_0007(text[], text[], text[]);

CREATE INDEX message_index_addr ON message_index USING gin (vellum_addr_terms(addrs));
DROP INDEX message_index_msgid;
CREATE INDEX message_index_msgid ON message_index USING hash (msgid);
