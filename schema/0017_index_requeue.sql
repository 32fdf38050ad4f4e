-- 0017_index_requeue: messages to index again that the indexer held when a new receipt came
-- (archiver/store_db.c, SQL_REQUEUE). Forward-only, like every migration.
--
-- When a receipt brings an address a message's index lacks, the store queues the message again
-- (indexed_at = NULL). A message the indexer is on at that moment is locked by the indexer's
-- batch, which may already have read its envelopes; rather than wait for that batch (holding
-- the ledger lock, and so all ingest), the store writes its id here. Every index batch first
-- turns the rows of messages no one holds into queued messages (archiver/indexer.c, sweep_sql;
-- the others wait for a later batch), so the new receipt's terms are indexed. Rows of a
-- disposed message are deleted by the sweep too. No key: the same id twice is harmless.
CREATE TABLE index_requeue (
	message_id bigint NOT NULL
);
