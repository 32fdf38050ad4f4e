-- 0020_tnef_files_ppt_encrypted: the indexer now lists each file inside a winmail.dat (TNEF)
-- that it does not read as an index exception of its own (archiver/file_text.c,
-- archiver/mime_extract.c: an image, an archive, a locked or broken document inside it), where
-- before such a file had none, or only the first locked or broken one was named on the
-- winmail.dat's row; and it tells a password-protected PowerPoint 97-2003 file (.ppt) by its
-- EncryptedSummary stream (archiver/ole2.c), where before catppt read it as a file with little
-- or no text and no exception. Forward-only, like every migration.
--
-- Each message with a TNEF or legacy PowerPoint attachment (by the types and names tnef_is
-- and legacy_kind_of know, a little wider for names) is noted in index_requeue (0017), not
-- updated here: the indexer's sweep queues noted messages itself, a batch at a time, locking
-- them in id order and stepping over any another process holds (archiver/indexer.c,
-- sweep_sql). So this migration locks no messages row, on an archive of any size, and cannot
-- deadlock with retention's update of a serve still running the code before it. Its
-- exceptions are then written anew. Other messages keep their index as it is.
INSERT INTO index_requeue (message_id)
SELECT DISTINCT a.message_id FROM attachments a
JOIN messages m ON m.id = a.message_id AND m.indexed_at IS NOT NULL
WHERE lower(a.content_type) IN ('application/ms-tnef', 'application/vnd.ms-tnef',
                                'application/vnd.ms-powerpoint', 'application/mspowerpoint')
   OR lower(a.filename) LIKE '%winmail.dat'
   OR lower(a.filename) LIKE '%.ppt' OR lower(a.filename) LIKE '%.pps'
   OR lower(a.filename) LIKE '%.pot';
