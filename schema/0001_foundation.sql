-- 0001_foundation: the store's index, messages, envelopes, the ingest ledger and the audit trail.
-- Applied once, inside a transaction, by `vellum migrate` (and by every command that opens the
-- database). Forward-only: a later change is a new file, never an edit of this one.

-- Microseconds since the epoch <-> timestamptz, exactly (no floating point on the way).
CREATE FUNCTION vellum_ts(us bigint) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 'epoch'::timestamptz + us * interval '1 microsecond' $$;
CREATE FUNCTION vellum_us(t timestamptz) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT (extract(epoch FROM t) * 1000000)::bigint $$;

-- Segment files of the sealed store (archiver/FORMAT.md). A segment is sealed once full: its
-- size and SHA-256 are recorded here and in the ledger.
CREATE TABLE segments (
	id          bigint PRIMARY KEY,
	bucket      integer NOT NULL DEFAULT 0,
	file_name   text NOT NULL UNIQUE,
	created_at  timestamptz NOT NULL,
	sealed_at   timestamptz,
	size        bigint,
	sha256      bytea CHECK (sha256 IS NULL OR length(sha256) = 32),
	records     integer,
	abandoned   boolean NOT NULL DEFAULT false -- closed after a crash: size is its committed end
);

-- Stored records: one sealed blob per distinct content address (keyed BLAKE2b-256 of the raw
-- bytes). refcount counts the messages that reference the blob; a blob may go only at zero.
CREATE TABLE blobs (
	address       bytea PRIMARY KEY CHECK (length(address) = 32),
	sha256        bytea NOT NULL CHECK (length(sha256) = 32),
	raw_size      bigint NOT NULL CHECK (raw_size >= 0),
	record_size   bigint NOT NULL CHECK (record_size > 0),
	key_id        integer NOT NULL,
	dict_id       integer NOT NULL DEFAULT 0,
	segment_id    bigint NOT NULL REFERENCES segments (id),
	record_offset bigint NOT NULL CHECK (record_offset >= 0),
	stored_at     timestamptz NOT NULL,
	refcount      integer NOT NULL DEFAULT 1 CHECK (refcount >= 0)
);
CREATE INDEX blobs_sha256 ON blobs (sha256);
CREATE UNIQUE INDEX blobs_location ON blobs (segment_id, record_offset);

-- Trained zstd dictionaries; the dictionary itself is a sealed record in a segment.
CREATE TABLE dictionaries (
	id            integer PRIMARY KEY CHECK (id > 0),
	segment_id    bigint NOT NULL REFERENCES segments (id),
	record_offset bigint NOT NULL,
	size          integer NOT NULL,
	trained_on    integer NOT NULL,
	created_at    timestamptz NOT NULL
);

CREATE SEQUENCE message_id_seq;

-- One row per archived message (one per distinct content): the evidence object. Partitioned by
-- the month it was first received; vellum_ensure_partition() adds months as mail arrives.
CREATE TABLE messages (
	id             bigint NOT NULL,
	received_at    timestamptz NOT NULL,
	address        bytea NOT NULL CHECK (length(address) = 32),
	sha256         bytea NOT NULL CHECK (length(sha256) = 32),
	size           bigint NOT NULL,
	hdr_from       text,
	hdr_to         text,
	hdr_cc         text,
	hdr_subject    text,
	hdr_date       timestamptz,
	hdr_message_id text,
	parse_error    boolean NOT NULL DEFAULT false,
	indexed_at     timestamptz,
	PRIMARY KEY (id, received_at)
) PARTITION BY RANGE (received_at);

CREATE FUNCTION vellum_ensure_partition(at timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	lo timestamptz := date_trunc('month', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
	name text := 'messages_' || to_char(lo AT TIME ZONE 'UTC', 'YYYY_MM');
BEGIN
	IF to_regclass(name) IS NULL THEN
		EXECUTE format('CREATE TABLE %I PARTITION OF messages FOR VALUES FROM (%L) TO (%L)',
			name, lo, lo + interval '1 month');
		EXECUTE format('CREATE UNIQUE INDEX %I ON %I (address)', name || '_address', name);
		EXECUTE format('CREATE INDEX %I ON %I (sha256)', name || '_sha256', name);
	END IF;
END $$;

-- Each time a message was handed to Vellum: its envelope and trace (chain of custody). The same
-- content handed again adds a receipt, never a second message.
CREATE TABLE receipts (
	id            bigserial PRIMARY KEY,
	message_id    bigint NOT NULL,
	received_at   timestamptz NOT NULL,
	source        text NOT NULL CHECK (source IN ('store', 'import', 'smtp', 'lmtp', 'journal')),
	origin        text NOT NULL DEFAULT '',
	mail_from     text,
	client_addr   text,
	helo          text,
	tls           text,
	listener      text,
	segment_id    bigint NOT NULL REFERENCES segments (id),
	record_offset bigint NOT NULL,   -- the batch's RECEIPT record
	record_index  integer NOT NULL,  -- this receipt's line in it
	sha256        bytea NOT NULL CHECK (length(sha256) = 32), -- of that line
	journal_report_id bigint -- the journal report (a message itself) this was unwrapped from
);
CREATE INDEX receipts_message ON receipts (message_id);
CREATE UNIQUE INDEX receipts_location ON receipts (segment_id, record_offset, record_index);

CREATE TABLE envelope_recipients (
	receipt_id bigint NOT NULL REFERENCES receipts (id),
	position   integer NOT NULL,
	address    text NOT NULL,
	role       text NOT NULL DEFAULT 'rcpt',
	orcpt      text,
	PRIMARY KEY (receipt_id, position)
);
CREATE INDEX envelope_recipients_address ON envelope_recipients (lower(address));

-- The ingest ledger: a SHA-256 hash chain over every stored message, receipt and sealed
-- segment (and, later, every disposal). Append-only: UPDATE and DELETE are refused.
CREATE TABLE ledger (
	seq        bigint PRIMARY KEY CHECK (seq > 0),
	kind       text NOT NULL CHECK (kind IN ('message', 'receipt', 'segment', 'dictionary', 'disposal')),
	at         timestamptz NOT NULL,
	subject    bytea NOT NULL CHECK (length(subject) = 32),
	prev_hash  bytea NOT NULL CHECK (length(prev_hash) = 32),
	entry_hash bytea NOT NULL CHECK (length(entry_hash) = 32)
);

-- The audit trail: one row per access to evidence, hash-chained like the ledger. Append-only.
CREATE TABLE audit (
	seq         bigint PRIMARY KEY CHECK (seq > 0),
	at          timestamptz NOT NULL DEFAULT clock_timestamp(),
	actor       text NOT NULL,
	client_addr text,
	action      text NOT NULL,
	target      text,
	details     jsonb NOT NULL DEFAULT '{}',
	prev_hash   bytea NOT NULL CHECK (length(prev_hash) = 32),
	entry_hash  bytea NOT NULL CHECK (length(entry_hash) = 32)
);
CREATE INDEX audit_actor ON audit (actor, at);

CREATE FUNCTION vellum_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'vellum: % on % is refused: the table is append-only', TG_OP, TG_TABLE_NAME
		USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON ledger
	FOR EACH ROW EXECUTE FUNCTION vellum_refuse_change();
CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON ledger
	FOR EACH STATEMENT EXECUTE FUNCTION vellum_refuse_change();
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
	FOR EACH ROW EXECUTE FUNCTION vellum_refuse_change();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
	FOR EACH STATEMENT EXECUTE FUNCTION vellum_refuse_change();
