-- 0018_rtf_tnef_text: the indexer now reads the text of RTF files and of Outlook's TNEF
-- winmail.dat (archiver/file_text.c: its subject, its body, and the files inside it), where
-- before each was an unsupported_type exception (0014, 0016). Forward-only, like every
-- migration.
--
-- Each message that has such an exception for an RTF or TNEF attachment is queued to be
-- indexed again (`serve` or `vellum index` drains the queue): their words become searchable
-- and the message's exceptions are written anew. Other messages keep their index as it is.
UPDATE messages SET indexed_at = NULL
WHERE indexed_at IS NOT NULL
  AND id IN (SELECT message_id FROM index_exceptions
             WHERE reason = 'unsupported_type'
               AND (lower(content_type) IN ('application/rtf', 'application/x-rtf', 'text/rtf',
                                            'application/ms-tnef', 'application/vnd.ms-tnef')
                    OR lower(filename) LIKE '%.rtf' OR lower(filename) LIKE '%winmail.dat'));
