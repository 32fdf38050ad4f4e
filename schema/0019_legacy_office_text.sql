-- 0019_legacy_office_text: the indexer now reads the text of legacy binary Office files
-- (.doc Word 97-2003, .xls Excel 97-2003, .ppt PowerPoint 97-2003) with catdoc, xls2csv and
-- catppt in a bounded child (archiver/legacy_text.c), where before each was an
-- unsupported_type exception. Forward-only, like every migration.
--
-- Each message that has such an exception for a legacy Office attachment (by the types and
-- names legacy_kind_of knows) is queued to be indexed again (`serve` or `vellum index` drains
-- the queue): their words become searchable and the message's exceptions are written anew.
-- Other messages keep their index as it is.
UPDATE messages SET indexed_at = NULL
WHERE indexed_at IS NOT NULL
  AND id IN (SELECT message_id FROM index_exceptions
             WHERE reason = 'unsupported_type'
               AND (lower(content_type) IN ('application/msword', 'application/vnd.ms-excel',
                                            'application/x-msexcel', 'application/x-excel',
                                            'application/vnd.ms-powerpoint',
                                            'application/mspowerpoint')
                    OR lower(filename) LIKE '%.doc' OR lower(filename) LIKE '%.dot'
                    OR lower(filename) LIKE '%.xls' OR lower(filename) LIKE '%.xlt'
                    OR lower(filename) LIKE '%.ppt' OR lower(filename) LIKE '%.pps'
                    OR lower(filename) LIKE '%.pot'));
