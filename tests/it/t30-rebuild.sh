#!/bin/sh
# t30-rebuild - the keyring and the segments alone are enough: drop the database, run
# `vellum rebuild-index`, and every message is back with its metadata, verify passes and
# every message reads back byte for byte.
. "$(dirname "$0")/lib.sh"

it_begin
it_archive

# 200 messages from all over the Enron mailbox, and 10 of them handed in a second time (a
# second receipt each, no second message).
find "$ENRON" -type f | sort | awk 'NR % 20 == 1' | head -n 200 >"$W/files"
xargs -d '\n' "$VELLUM" --data "$D" store <"$W/files" >"$W/store.out" 2>"$W/store.err"
rc=$?
[ "$rc" -eq 0 ] && [ "$(wc -l <"$W/store.out")" -eq 200 ]
verdict "store 200 messages" $? "exit $rc, $(wc -l <"$W/store.out") lines: $(excerpt "$W/store.err")"
head -n 10 "$W/files" | xargs -d '\n' "$VELLUM" --data "$D" store >"$W/again.out" 2>"$W/again.err"
verdict "store 10 of them again" $? "$(excerpt "$W/again.err")"

q_messages="select id, encode(address, 'hex'), encode(sha256, 'hex'), size, vellum_us(received_at),
	hdr_from, hdr_subject, hdr_message_id from messages order by id"
q_ids="select id, encode(sha256, 'hex') from messages order by id"
q_blobs="select encode(address, 'hex'), encode(sha256, 'hex'), raw_size, record_size, key_id, dict_id,
	segment_id, record_offset, refcount from blobs order by address"
q_receipts="select message_id, vellum_us(received_at), source, origin, segment_id, record_offset,
	encode(sha256, 'hex') from receipts order by segment_id, record_offset"
q_segments="select id, file_name from segments order by id"
q_ledger="select seq, kind, encode(subject, 'hex'), encode(entry_hash, 'hex') from ledger order by seq"
snapshot() {
	sql "$q_ids" >"$W/$1.ids"
	sql "$q_messages" >"$W/$1.messages"
	sql "$q_blobs" >"$W/$1.blobs"
	sql "$q_receipts" >"$W/$1.receipts"
	sql "$q_segments" >"$W/$1.segments"
	sql "$q_ledger" >"$W/$1.ledger"
}
snapshot before
[ "$(wc -l <"$W/before.ids")" -eq "$(awk '{ print $2 }' "$W/store.out" | sort -u | wc -l)" ]
verdict "one messages row per distinct content before the rebuild" $? "$(wc -l <"$W/before.ids") rows"
[ "$(wc -l <"$W/before.receipts")" -ge 210 ]
verdict "a receipt per hand-over (210)" $? "$(wc -l <"$W/before.receipts") receipts"

# --- Lose the database ----------------------------------------------------------------------
it_stop_db
rm -rf "$D/pg"
v rebuild-index >"$W/rebuild.out" 2>&1
rc=$?
verdict "rebuild-index on an empty database exits 0" "$rc" "exit $rc: $(excerpt "$W/rebuild.out")"
it_db_start
snapshot after

for t in ids messages blobs receipts segments; do
	cmp -s "$W/before.$t" "$W/after.$t"
	verdict "rebuild-index gives back the same $t" $? \
		"$(wc -l <"$W/before.$t") -> $(wc -l <"$W/after.$t") rows; $(diff "$W/before.$t" "$W/after.$t" | head -4 | tr '\n' '|')"
done
if cmp -s "$W/before.ledger" "$W/after.ledger"; then
	say "the ledger came back entry for entry"
else
	say "the ledger differs after the rebuild ($(wc -l <"$W/before.ledger") -> $(wc -l <"$W/after.ledger") entries)"
fi
nmsg=$(sql "select count(*) from messages")
nled=$(sql "select count(distinct subject) from ledger where kind = 'message'")
[ "$nled" -ge "$nmsg" ]
verdict "the rebuilt ledger covers every message" $? "$nled message entries for $nmsg messages"

v verify --all >"$W/verify.out" 2>&1
rc=$?
verdict "verify --all passes after the rebuild" "$rc" "exit $rc: $(tail -n 5 "$W/verify.out" | tr '\n' '|')"

read_back "$W/store.out" "$W/cat.bad"
[ ! -s "$W/cat.bad" ]
verdict "every message reads back byte for byte after the rebuild" $? "$(excerpt "$W/cat.bad")"

# --- The rebuilt archive takes new mail ------------------------------------------------------
maxid=$(sql "select max(id) from messages")
find "$CORPUS/python-test-email" -type f -name 'msg_0*.txt' | sort | head -n 5 >"$W/new.files"
xargs -d '\n' "$VELLUM" --data "$D" store <"$W/new.files" >"$W/new.out" 2>"$W/new.err"
rc=$?
verdict "store after the rebuild exits 0" "$rc" "exit $rc: $(excerpt "$W/new.err")"
awk -v max="$maxid" '$1 + 0 <= max + 0 { bad = 1 } END { exit bad }' "$W/new.out"
verdict "new messages get new ids after the rebuild" $? "max old id $maxid; new: $(excerpt "$W/new.out")"
head -n 3 "$W/files" | xargs -d '\n' "$VELLUM" --data "$D" store >"$W/old.out" 2>/dev/null
head -n 3 "$W/store.out" | cmp -s - "$W/old.out"
verdict "old content stored again after the rebuild keeps its id" $? "$(excerpt "$W/old.out")"
cat_check "$W/new.out" "$W/new.bad"
[ ! -s "$W/new.bad" ]
verdict "new messages read back after the rebuild" $? "$(excerpt "$W/new.bad")"
