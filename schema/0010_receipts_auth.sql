-- 0010_receipts_auth: the SMTP AUTH identity a client proved (`vellum smtp-user`), kept with
-- the rest of the receipt's trace (client address, HELO, TLS). NULL: the client did not
-- authenticate (it was in client_networks, or the message came by import). The same value is
-- in the receipt's line of its sealed RECEIPT record, so rebuild-index restores it.
ALTER TABLE receipts ADD COLUMN auth_user text;
