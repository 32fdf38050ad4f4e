-- 0012_receipts_decrypted: a receipt's source may be 'journal-decrypted'. Exchange Online with
-- journal report decryption attaches to an envelope journal report the IRM-protected original
-- and a decrypted copy of it; both are archived with the report's envelope and linked to the
-- report (journal_report_id), the original as 'journal' and the copy as 'journal-decrypted'.
-- The CHECK of 0001 is replaced by a wider one under the name PostgreSQL gave it; every row
-- already meets it. Forward-only, like every migration.
ALTER TABLE receipts DROP CONSTRAINT receipts_source_check;
ALTER TABLE receipts ADD CONSTRAINT receipts_source_check
	CHECK (source IN ('store', 'import', 'smtp', 'lmtp', 'journal', 'journal-decrypted'));
