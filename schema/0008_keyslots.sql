-- 0008_keyslots: crypto-shredding. MESSAGE and RECEIPT records are now sealed under keys of
-- their own, kept in key slot files beside the keyring (archiver/keyslot.h). Disposal destroys
-- a record's key once nothing the archive keeps refers to the record: a message record when
-- its message goes, a receipts record (one per ingest batch, shared by the batch's messages)
-- when the last of its receipts goes. Forward-only, like every migration.

-- Records whose keys disposal has committed to destroy and not yet destroyed: filled in the
-- disposal batch's transaction, emptied once the slot files are synced. A crash in between
-- leaves rows here, and the next disposal run finishes them first.
CREATE TABLE shred_queue (
	segment_id    bigint NOT NULL,
	record_offset bigint NOT NULL,
	kind          text NOT NULL CHECK (kind IN ('message', 'receipt')),
	queued_at     timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (segment_id, record_offset)
);

-- "Is any receipt of this receipts record left?" is asked per disposed receipt.
CREATE INDEX receipts_record ON receipts (segment_id, record_offset);

-- Each `vellum rebuild-index`. After disposal the ledger it rebuilds lacks the entries of the
-- disposed records (their keys are gone, so their subjects cannot be recomputed) and the
-- disposal entries, so checkpoints written before it stop matching: verify notes those
-- instead of failing, naming the rebuild. Append-only.
CREATE TABLE rebuilds (
	at                    timestamptz NOT NULL DEFAULT clock_timestamp(),
	records_skipped       bigint NOT NULL,
	checkpoint_mismatches bigint NOT NULL
);
CREATE TRIGGER rebuilds_append_only BEFORE UPDATE OR DELETE ON rebuilds
	FOR EACH ROW EXECUTE FUNCTION vellum_refuse_change();
