-- 0013_business_fields: per-message business fields for 電子帳簿保存法 (Japan's Act on the
-- preservation of electronic books): 取引年月日 (txdate), 取引金額 (amount), 取引先 (counterparty),
-- set by a person (source 'tag'; 'extraction' is reserved for a later extractor) and searched
-- with ranges and combined (txdate:, amount:, counterparty: in search/query_field.c).
--
-- Append-only: a correction is a new version and the old versions stay, which is the Act's
-- 真実性 option "a system in which corrections and deletions are recorded". Every set is also an
-- audit row (fields.set, archiver/bizfields.c) with the old and new values. The only removal
-- is disposal's, with the message (retention-policies/dispose.c), after it has written the
-- message's disposals row: the delete guard below asks for that row. No foreign key to
-- messages: its key is (id, received_at), partitioned, as for attachments and receipts.
CREATE TABLE business_fields (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	message_id   bigint NOT NULL,
	txdate       date NOT NULL CHECK (txdate BETWEEN '1900-01-01' AND '2999-12-31'),
	-- Below 10^15 (the C bound BIZ_AMOUNT_DIGITS), two decimals, never negative.
	amount       numeric(17, 2) NOT NULL CHECK (amount >= 0 AND amount < 1e15),
	currency     text NOT NULL DEFAULT 'JPY' CHECK (currency ~ '^[A-Z]{3}$'),
	counterparty text NOT NULL CHECK (char_length(counterparty) BETWEEN 1 AND 200),
	set_by       text NOT NULL CHECK (char_length(set_by) BETWEEN 1 AND 256),
	set_at       timestamptz NOT NULL DEFAULT now(),
	reason       text NOT NULL CHECK (char_length(reason) BETWEEN 1 AND 500),
	source       text NOT NULL DEFAULT 'tag' CHECK (source IN ('tag', 'extraction'))
);

-- A message's versions in order (history, and the "no later version" probe of the view).
CREATE INDEX business_fields_message ON business_fields (message_id, id);
-- The searches: ranges of amount and of txdate, and counterparty (lower-cased, as searched).
CREATE INDEX business_fields_amount ON business_fields (amount);
CREATE INDEX business_fields_txdate ON business_fields (txdate);
CREATE INDEX business_fields_counterparty ON business_fields (lower(counterparty));

-- The current version of each tagged message: the one no later version follows. A view the
-- planner inlines, so a range search can start from the amount or txdate index.
CREATE VIEW business_fields_current AS
	SELECT f.* FROM business_fields f WHERE NOT EXISTS (SELECT 1 FROM business_fields g
		WHERE g.message_id = f.message_id AND g.id > f.id);

-- The delete guard: a message's versions go only with the message, by disposal.
CREATE FUNCTION vellum_guard_business_fields_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM disposals WHERE message_id = OLD.message_id) THEN
		RAISE EXCEPTION 'vellum: business fields of message % go only with its disposal',
			OLD.message_id USING ERRCODE = 'insufficient_privilege';
	END IF;
	RETURN OLD;
END $$;
CREATE TRIGGER business_fields_guard_delete BEFORE DELETE ON business_fields
	FOR EACH ROW EXECUTE FUNCTION vellum_guard_business_fields_delete();
CREATE TRIGGER business_fields_no_update BEFORE UPDATE ON business_fields
	FOR EACH ROW EXECUTE FUNCTION vellum_refuse_change();
CREATE TRIGGER business_fields_no_truncate BEFORE TRUNCATE ON business_fields
	FOR EACH STATEMENT EXECUTE FUNCTION vellum_refuse_change();
