-- 0016_attachment_text: the indexer now reads the text of attachments (archiver/mime_extract.c:
-- text files, Office Open XML and OpenDocument files, PDF), where before every attachment was an
-- unsupported_type exception (0014). Forward-only, like every migration.
--
-- Each message that has such an exception is queued to be indexed again (`serve` or
-- `vellum index` drains the queue): its attachments' words become searchable, and its
-- exceptions are written anew (an image stays unsupported_type, a locked PDF becomes
-- encrypted). Messages without an attachment keep their index as it is.
UPDATE messages SET indexed_at = NULL
WHERE indexed_at IS NOT NULL
  AND id IN (SELECT message_id FROM index_exceptions WHERE reason = 'unsupported_type');
