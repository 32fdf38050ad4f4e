-- 0009_receipts_record: drop receipts_record (0008). Its columns (segment_id, record_offset)
-- are the leading columns of the unique index receipts_location (0001), which answers the same
-- question ("is any receipt of this receipts record left?") as well; the second index only
-- cost an insertion per receipt and its pages. Forward-only, like every migration.
DROP INDEX receipts_record;
