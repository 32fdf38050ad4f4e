-- 0020_tnef_files_ppt_encrypted: the indexer now lists each file inside a winmail.dat (TNEF)
-- that it does not read as an index exception of its own (archiver/file_text.c,
-- archiver/mime_extract.c: an image, an archive, a locked or broken document inside it), where
-- before such a file had none, or only the first locked or broken one was named on the
-- winmail.dat's row; and it tells a password-protected PowerPoint 97-2003 file (.ppt) by its
-- EncryptedSummary stream (archiver/ole2.c), where before catppt read it as a file with little
-- or no text and no exception. Forward-only, like every migration.
--
-- Each message with a TNEF or legacy PowerPoint attachment (by the types and names tnef_is
-- and legacy_kind_of know) is queued to be indexed again (`serve` or `vellum index` drains the
-- queue): its exceptions are written anew. Other messages keep their index as it is.
UPDATE messages SET indexed_at = NULL
WHERE indexed_at IS NOT NULL
  AND id IN (SELECT message_id FROM attachments
             WHERE lower(content_type) IN ('application/ms-tnef', 'application/vnd.ms-tnef',
                                           'application/vnd.ms-powerpoint',
                                           'application/mspowerpoint')
                OR lower(filename) LIKE '%winmail.dat'
                OR lower(filename) LIKE '%.ppt' OR lower(filename) LIKE '%.pps'
                OR lower(filename) LIKE '%.pot');
