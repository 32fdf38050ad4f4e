-- 0011_receipts_xforward: what the relaying MTA said of the client it took the message from
-- (Postfix's XFORWARD: NAME, ADDR, PORT, PROTO, HELO, IDENT, SOURCE), as canonical text
-- "NAME=... ADDR=..." with xtext values (journal/xforward.h). It is the relay's claim, kept
-- beside what Vellum saw itself (client_addr, helo, tls are the relay's). NULL: none was sent.
-- The same text is in the receipt's line of its sealed RECEIPT record, so rebuild-index
-- restores it.
ALTER TABLE receipts ADD COLUMN xforward text;
