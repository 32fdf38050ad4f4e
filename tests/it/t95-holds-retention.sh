#!/bin/sh
# t95-holds-retention - retention policies and legal holds end to end: matching and longest
# wins, compliance refuses shortening, governance shortens with audit, a hold placed by query
# covers old and new matching mail, disposal skips held mail and takes it after release, the
# delete guard refuses every early or held delete, the disposal report is signed, and verify
# passes after disposal but fails when a message is removed outside it. Crypto-shredding: the
# key of every disposed record is destroyed in its key slot (read here with Python, not with
# vellum), a receipts record shared by a batch keeps its key until its last message goes,
# a key destroyed outside disposal fails verify, and rebuild-index does not bring disposed
# mail back.
#
# Time travel: the database's test_clock switch (only the owner can set it; this test does) lets
# `vellum dispose --now T` move the clock the disposal job and the delete guard read. Nothing
# sleeps.
. "$(dirname "$0")/lib.sh"

it_begin
it_archive

M=$W/mail
mkdir -p "$M" "$D/retention"

# mk FILE FROM TO SUBJECT DATE - one small message.
mk() {
	printf 'From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s@t95>\r\n\r\nbody of %s\r\n' \
		"$2" "$3" "$4" "$5" "$(basename "$1" .eml)" "$4" >"$1"
}
mk "$M/a1.eml" alice@corp.example bob@client.example "project apple one" "Mon, 05 Jan 2026 10:00:00 +0000"
mk "$M/a2.eml" alice@corp.example bob@client.example "project apple two" "Tue, 06 Jan 2026 10:00:00 +0000"
mk "$M/b1.eml" carol@corp.example dan@client.example "project banana" "Wed, 07 Jan 2026 10:00:00 +0000"
mk "$M/l1.eml" counsel@legal.corp.example dan@client.example "privileged note" "Thu, 08 Jan 2026 10:00:00 +0000"
mk "$M/g1.eml" hr@gov.example carol@corp.example "benefits" "Fri, 09 Jan 2026 10:00:00 +0000"

cat >"$D/retention/policies.json" <<'JSON'
{"comment": "t95",
 "policies": [
  {"name": "default", "retain": {"years": 1}, "from": "sent"},
  {"name": "legal", "retain": {"years": 7}, "match": {"sender": ["legal.corp.example"]}},
  {"name": "apple", "retain": {"years": 3}, "match": {"query": "subject:apple"}},
  {"name": "gov", "retain": {"years": 2}, "mode": "governance", "match": {"address": ["@gov.example"]}},
  {"name": "client-bob", "retain": {"months": 6}, "match": {"recipient": ["bob@client.example"], "header": {"Subject": "apple"}}}
 ]}
JSON

v store "$M"/a1.eml "$M"/a2.eml "$M"/b1.eml "$M"/l1.eml "$M"/g1.eml >"$W/store.out" 2>&1
verdict "store five messages" $? "$(excerpt "$W/store.out")"
v index >"$W/index.out" 2>&1
verdict "index computes retention" $? "$(excerpt "$W/index.out")"

# slot_state SEGMENT OFFSET - "live", "destroyed" or "none": the record's key slot, read from
# DATA/keys/slots/NNNNNNNNNN.vlk by its documented layout (archiver/keyslot.h).
slot_state() {
	python3 - "$D/keys/slots/$(printf '%010d' "$1").vlk" "$2" <<'PY'
import hashlib, struct, sys
path, want = sys.argv[1], int(sys.argv[2])
try:
    data = open(path, 'rb').read()
except FileNotFoundError:
    print('none'); sys.exit()
for i in range(64, len(data) - 63, 64):
    e = data[i:i + 64]
    off, state = struct.unpack_from('<QI', e)
    if off != want:
        continue
    if hashlib.blake2b(e[:48], digest_size=16).digest() != e[48:]:
        print('bad')
    elif state == 2 and e[16:48] != bytes(32):
        print('destroyed')
    else:
        print('live' if state == 1 else 'bad')
    sys.exit()
print('none')
PY
}
# all_destroyed KIND - every disposed record of that kind has its key destroyed.
all_destroyed() {
	_n=0
	for _r in $(sql "SELECT DISTINCT segment_id || ':' || record_offset FROM disposed_records WHERE kind = '$1'"); do
		_s=$(slot_state "${_r%:*}" "${_r#*:}")
		[ "$_s" = destroyed ] || { echo "$1 record $_r: $_s"; return 1; }
		_n=$((_n + 1))
	done
	[ "$_n" -gt 0 ]
}

# ru SUBJECT - "policy retain-until-date mode" of the message with that subject.
ru() { sql "SELECT retention_policy || ' ' || to_char(retain_until AT TIME ZONE 'UTC', 'YYYY-MM-DD') || ' ' || retention_mode FROM messages WHERE hdr_subject = '$1'"; }
[ "$(ru 'project apple one')" = "apple 2029-01-05 compliance" ]
verdict "query policy and longest wins (apple 3y over default 1y and client-bob 6m)" $? "$(ru 'project apple one')"
[ "$(ru 'project banana')" = "default 2027-01-07 compliance" ]
verdict "default policy matches every message" $? "$(ru 'project banana')"
[ "$(ru 'privileged note')" = "legal 2033-01-08 compliance" ]
verdict "sender domain matches sub-domains (legal 7y)" $? "$(ru 'privileged note')"
[ "$(ru 'benefits')" = "gov 2028-01-09 governance" ]
verdict "governance policy by address domain" $? "$(ru 'benefits')"

v retention test "$M/l1.eml" >"$W/test.out" 2>&1
grep -q '^policy legal$' "$W/test.out" && grep -q 'sender=legal.corp.example' "$W/test.out"
verdict "retention test FILE.eml names the policy and why" $? "$(excerpt "$W/test.out")"
v retention list >"$W/list.out" 2>&1 && [ "$(wc -l <"$W/list.out")" -eq 5 ]
verdict "retention list" $? "$(excerpt "$W/list.out")"

# --- Compliance refuses shortening; governance shortens with a reason, audited ----------------
sed -i 's/"years": 3}, "match": {"query"/"years": 2}, "match": {"query"/; s/"years": 2}, "mode": "governance"/"months": 3}, "mode": "governance"/' "$D/retention/policies.json"
v retention apply --all >"$W/apply1.out" 2>&1
verdict "apply --all with a shorter policy set" $? "$(excerpt "$W/apply1.out")"
[ "$(ru 'project apple one')" = "apple 2029-01-05 compliance" ] && [ "$(ru 'benefits')" = "gov 2028-01-09 governance" ]
verdict "apply never shortens (compliance and governance without --shorten)" $? "$(ru 'project apple one') / $(ru benefits)"
[ "$(sql "SELECT count(*) FROM policy_sets")" = 2 ] && [ "$(sql "SELECT count(*) FROM audit WHERE action = 'retention.policy_set'")" = 2 ]
verdict "each policy set version recorded and audited" $?
sql "UPDATE messages SET retain_until = retain_until - interval '1 year' WHERE hdr_subject = 'project apple one'" >"$W/short.out" 2>&1
[ $? -ne 0 ] && grep -q "compliance mode" "$W/short.out"
verdict "SQL cannot shorten a compliance-mode retention" $? "$(excerpt "$W/short.out")"
v retention apply --all --shorten --reason "HR records reviewed, ticket 42" >"$W/apply2.out" 2>&1
verdict "apply --shorten --reason" $? "$(excerpt "$W/apply2.out")"
[ "$(ru 'benefits')" = "default 2027-01-09 compliance" ] && [ "$(ru 'project apple one')" = "apple 2029-01-05 compliance" ]
verdict "governance retention shortened (to the longest remaining: default), compliance kept" $? "$(ru benefits) / $(ru 'project apple one')"
sql "SELECT details->>'shorten_reason' FROM audit WHERE action = 'retention.shorten'" | grep -q "ticket 42"
verdict "the shortening is audited with its reason" $?

# --- Holds --------------------------------------------------------------------------------------
[ "$(v hold preview --query "subject:apple")" = 2 ]
verdict "hold preview counts" $?
v hold place apple-hold --matter acme-v-corp --description "apple litigation" --query "subject:apple" >"$W/place.out" 2>&1
grep -q "2 messages covered" "$W/place.out"
verdict "hold placed by query covers the archived matches" $? "$(excerpt "$W/place.out")"
v hold place apple-hold --matter acme-v-corp --query "x" >/dev/null 2>&1
[ $? -ne 0 ]
verdict "a hold name is never reused" $?
mk "$M/a3.eml" zed@corp.example bob@client.example "project apple three" "Sat, 10 Jan 2026 10:00:00 +0000"
v store "$M/a3.eml" >/dev/null 2>&1 && v index >"$W/index2.out" 2>&1
verdict "a new matching message arrives" $? "$(excerpt "$W/index2.out")"
[ "$(v search --count "hold:apple-hold")" = 3 ]
verdict "the hold covers the newly arrived match (hold:apple-hold finds 3)" $? "$(v search --count "hold:apple-hold" 2>&1)"
v hold show apple-hold | grep -q '"messages" *: *3'
verdict "hold show" $? "$(v hold show apple-hold 2>&1 | head -c 300)"
v custodian add carol carol@corp.example >/dev/null 2>&1
[ "$(v hold preview --custodian carol)" = 2 ] &&
	[ "$(v hold preview --custodian carol --from 2026-01-08 --to 2026-01-10)" = 1 ]
verdict "hold by custodian, refined by a sent-date range" $?
# A hold whose saved query no longer compiles (the language changed since it was placed) is
# stepped over by a full sweep: the holds after it are still swept (plum-hold's swept_at moves),
# and the sweep fails naming it. Then both are released, so the rest of the test sees the
# holds it had.
v hold place pear-hold --matter t95-pear --query "subject:pear" >/dev/null 2>&1 &&
	sql "UPDATE holds SET query = 'pe*ar' WHERE name = 'pear-hold'" >/dev/null &&
	v hold place plum-hold --matter t95-pear --query "subject:plum" >/dev/null 2>&1
swept() { sql "SELECT swept_at FROM holds WHERE name = '$1'"; }
a0=$(swept plum-hold)
sleep 0.1
v hold sweep >"$W/sweep.out" 2>&1
rc=$?
a1=$(swept plum-hold)
[ "$rc" -ne 0 ] && grep -q 'pear-hold' "$W/sweep.out" && [ -n "$a1" ] && [ "$a1" != "$a0" ]
verdict "a hold whose query no longer compiles is stepped over, named, and the holds after it still sweep" $? \
	"exit $rc: $(excerpt "$W/sweep.out"); plum-hold swept_at $a0 -> $a1"
v hold release plum-hold --reason "test" >/dev/null 2>&1
v hold release pear-hold --reason "query no longer valid" >/dev/null 2>&1 && v hold sweep >/dev/null 2>&1
verdict "released, it no longer stops a sweep" $?

# --- The API (role legal) ---------------------------------------------------------------------
. "$IT_DIR/serve.sh"
serve_ports
HP=$(sed -n 's/^http_listen *= *127.0.0.1://p' "$D/vellum.conf")
v token create --name legal-1 --role legal | tail -n 1 >"$W/tok.legal"
v token create --name officer-1 --role officer | tail -n 1 >"$W/tok.officer"
serve_start
# api METHOD PATH ROLE [BODY] - the status code; the body in $W/body.
api() {
	curl -s --max-time 30 -o "$W/body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $(cat "$W/tok.$3")" \
		-H 'Content-Type: application/json' ${4:+--data "$4"} "http://127.0.0.1:$HP$2"
}
[ "$(api GET /v1/holds officer)" = 403 ]
verdict "API: an officer may not list holds" $?
[ "$(api POST /v1/holds/preview legal '{"query": "subject:banana"}')" = 200 ] && grep -q '"messages": *1' "$W/body"
verdict "API: preview a hold's count" $? "$(excerpt "$W/body")"
[ "$(api POST /v1/holds legal '{"name": "banana-hold", "matter": "m2", "query": "subject:banana"}')" = 201 ]
verdict "API: place a hold" $? "$(excerpt "$W/body")"
hid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$W/body" 2>/dev/null)
[ "$(api GET "/v1/holds/$hid" legal)" = 200 ] && grep -q '"messages": *1' "$W/body"
verdict "API: show a hold with its coverage" $? "$(excerpt "$W/body")"
[ "$(api POST /v1/holds legal '{"name": "banana-hold", "matter": "m2", "query": "x"}')" = 409 ]
verdict "API: a hold name is taken once" $? "$(excerpt "$W/body")"
bid=$(sql "SELECT id FROM messages WHERE hdr_subject = 'project banana'")
[ "$(api GET "/v1/messages/$bid" legal)" = 200 ] && grep -q '"name": *"banana-hold"' "$W/body"
verdict "API: GET /v1/messages/{id} lists the holds covering it" $? "$(head -c 400 "$W/body")"
[ "$(api POST "/v1/holds/$hid/release" legal '{"reason": "wrong scope"}')" = 200 ] && grep -q '"active": *false' "$W/body"
verdict "API: release a hold" $? "$(excerpt "$W/body")"
[ "$(api POST "/v1/holds/$hid/release" legal '{"reason": "again"}')" = 409 ]
verdict "API: a released hold cannot be released again" $?
[ "$(api GET /v1/matters legal)" = 200 ] && grep -q acme-v-corp "$W/body"
verdict "API: matters list their holds" $? "$(excerpt "$W/body")"
c1=$(api DELETE "/v1/messages/$bid" legal); c2=$(api DELETE "/v1/holds/$hid" legal)
[ "$c1" = 405 ] && [ "$c2" = 405 ]
verdict "API: no route deletes a message or a hold" $? "$c1 $c2"
v dispose >"$W/dserve.out" 2>&1 && grep -q "^disposed 0 messages" "$W/dserve.out"
verdict "vellum dispose runs beside serve (the ledger lock, not the writer lock)" $? "$(excerpt "$W/dserve.out")"
serve_stop

# --- The delete guard -------------------------------------------------------------------------
id_banana=$(sql "SELECT id FROM messages WHERE hdr_subject = 'project banana'")
id_apple=$(sql "SELECT id FROM messages WHERE hdr_subject = 'project apple one'")
sql "DELETE FROM messages WHERE id = $id_banana" >"$W/del1.out" 2>&1
[ $? -ne 0 ] && grep -q "retained until" "$W/del1.out"
verdict "SQL DELETE before retain-until is refused" $? "$(excerpt "$W/del1.out")"
sql "SET vellum.now = '2040-01-01'; DELETE FROM messages WHERE id = $id_banana" >"$W/del2.out" 2>&1
[ $? -ne 0 ] && grep -q "test_clock" "$W/del2.out"
verdict "a session cannot move the guard's clock while test_clock is off" $? "$(excerpt "$W/del2.out")"
v dispose --now 2040-01-01T00:00:00Z >"$W/clock.out" 2>&1
[ $? -ne 0 ]
verdict "dispose --now is refused outside a test database" $? "$(excerpt "$W/clock.out")"
sql "TRUNCATE messages" >/dev/null 2>&1
[ $? -ne 0 ]
verdict "TRUNCATE messages is refused" $?
sql "UPDATE vellum_clock SET test_clock = true"
sql "SET vellum.now = '2040-01-01'; DELETE FROM messages WHERE id = $id_apple" >"$W/del3.out" 2>&1
[ $? -ne 0 ] && grep -q "legal hold" "$W/del3.out"
verdict "SQL DELETE of a held message is refused even after its retain-until" $? "$(excerpt "$W/del3.out")"
sql "DELETE FROM holds" >/dev/null 2>&1; r1=$?
sql "DELETE FROM hold_messages" >/dev/null 2>&1; r2=$?
[ $r1 -ne 0 ] && [ $r2 -ne 0 ]
verdict "holds and their coverage cannot be deleted" $?
v dispose >"$W/d0.out" 2>&1 && grep -q "^disposed 0 messages" "$W/d0.out"
verdict "dispose today removes nothing (nothing expired)" $? "$(excerpt "$W/d0.out")"

# --- Disposal -----------------------------------------------------------------------------------
v dispose --dry-run --now 2040-01-01T00:00:00Z >"$W/dry.out" 2>&1
[ "$(grep -c '^would-dispose' "$W/dry.out")" = 3 ] && [ "$(sql "SELECT count(*) FROM messages")" = 6 ]
verdict "dry run lists the 3 unheld expired messages, removes nothing" $? "$(excerpt "$W/dry.out")"
v dispose --now 2040-01-01T00:00:00Z >"$W/d1.out" 2>&1
grep -q "^disposed 3 messages, 3 blobs" "$W/d1.out"
verdict "dispose removes expired unheld messages and their blobs" $? "$(excerpt "$W/d1.out")"
all_destroyed message >"$W/shred1.out" 2>&1 && grep -q ", 3 record keys destroyed" "$W/d1.out"
verdict "the keys of the disposed message records are destroyed (crypto-shredded)" $? "$(excerpt "$W/shred1.out") $(excerpt "$W/d1.out")"
# The five first messages came in one batch: one receipts record, shared by held and disposed.
shared=$(sql "SELECT r.segment_id || ':' || r.record_offset FROM receipts r JOIN messages m ON m.id = r.message_id WHERE m.hdr_subject = 'project apple one' ORDER BY r.id LIMIT 1")
[ "$(sql "SELECT count(*) FROM disposed_records WHERE kind = 'receipt' AND segment_id || ':' || record_offset = '$shared'")" -ge 1 ] &&
	[ "$(slot_state "${shared%:*}" "${shared#*:}")" = live ]
verdict "a receipts record shared with held messages keeps its key" $? "$shared: $(slot_state "${shared%:*}" "${shared#*:}")"
heldrec=$(sql "SELECT b.segment_id || ':' || b.record_offset FROM blobs b JOIN messages m ON m.address = b.address WHERE m.hdr_subject = 'project apple one'")
[ "$(slot_state "${heldrec%:*}" "${heldrec#*:}")" = live ] && v cat "$id_apple" >/dev/null 2>&1
verdict "a held message's key stays and it still reads" $? "$heldrec"
[ "$(sql "SELECT count(*) FROM messages")" = 3 ] && [ "$(sql "SELECT count(*) FROM messages WHERE hdr_subject LIKE 'project apple%'")" = 3 ]
verdict "held messages stay" $?
[ "$(sql "SELECT count(*) FROM audit WHERE action = 'message.dispose'")" -ge 1 ] &&
	sql "SELECT details FROM audit WHERE action = 'message.dispose'" | grep -q "$(sql "SELECT encode(sha256, 'hex') FROM disposals WHERE message_id = $id_banana")"
verdict "disposal audited with the evidence SHA-256" $?
[ "$(sql "SELECT count(*) FROM ledger WHERE kind = 'disposal'")" -ge 6 ]
verdict "the ledger records the disposal (message and receipt records)" $?
rep=$(sed -n 's/.*; report //p' "$W/d1.out")
[ -f "$rep" ] && [ -f "$rep.sig" ] && v dispose --check-report "$rep" >/dev/null 2>&1
verdict "signed disposal report verifies" $? "$rep"
cp "$rep" "$W/rep.json"; cp "$rep.sig" "$W/rep.json.sig"; sed -i 's/"messages_disposed": 3/"messages_disposed": 2/' "$W/rep.json"
v dispose --check-report "$W/rep.json" >/dev/null 2>&1
[ $? -ne 0 ]
verdict "an edited report fails its signature" $?
v verify --all >"$W/verify1.out" 2>&1
verdict "verify passes after disposal" $? "$(excerpt "$W/verify1.out")"

v hold release apple-hold --reason "case settled" >"$W/rel.out" 2>&1
verdict "release the hold" $? "$(excerpt "$W/rel.out")"
[ "$(sql "SELECT count(*) FROM holds WHERE name = 'apple-hold' AND released_at IS NOT NULL")" = 1 ] &&
	[ "$(sql "SELECT count(*) FROM audit WHERE action = 'hold.release' AND target = 'apple-hold'")" = 1 ]
verdict "release is recorded and audited, the hold stays" $?
v dispose --now 2040-01-01T00:00:00Z >"$W/d2.out" 2>&1
grep -q "^disposed 3 messages" "$W/d2.out" && [ "$(sql "SELECT count(*) FROM messages")" = 0 ]
verdict "after release the formerly held messages go on the next run" $? "$(excerpt "$W/d2.out")"
[ "$(slot_state "${shared%:*}" "${shared#*:}")" = destroyed ] && all_destroyed receipt >"$W/shred2.out" 2>&1 &&
	all_destroyed message >>"$W/shred2.out" 2>&1
verdict "the shared receipts record's key goes with its last message" $? "$shared: $(excerpt "$W/shred2.out")"
v verify --all >"$W/verify2.out" 2>&1
verdict "verify passes after the second disposal" $? "$(excerpt "$W/verify2.out")"

# --- Same content again after disposal: archived anew -----------------------------------------
v store "$M/b1.eml" >/dev/null 2>&1 && v index >/dev/null 2>&1
[ "$(sql "SELECT count(*) FROM messages")" = 1 ]
verdict "content disposed earlier can be archived again" $?

# --- serve disposes on its own schedule (at start, then hourly), on the real clock -----------
mk "$M/old.eml" old@corp.example y@corp.example "old news" "Mon, 01 Jan 2001 10:00:00 +0000"
v store "$M/old.eml" >/dev/null 2>&1 && v index >/dev/null 2>&1
[ "$(ru 'old news')" = "default 2002-01-01 compliance" ]
verdict "an old message gets a retain-until in the past" $? "$(ru 'old news')"
serve_start
for _ in $(seq 1 60); do
	[ "$(sql "SELECT count(*) FROM messages WHERE hdr_subject = 'old news'")" = 0 ] && break
	sleep 1 # waiting for serve's thread, not moving time
done
[ "$(sql "SELECT count(*) FROM messages WHERE hdr_subject = 'old news'")" = 0 ] &&
	[ "$(sql "SELECT count(*) FROM messages")" = 1 ]
verdict "serve's scheduled disposal removes the expired message, keeps the rest" $? "$(tail -n 3 "$W/serve.log" | tr '\n' '|')"
serve_stop
v verify --all >"$W/verify4.out" 2>&1
verdict "verify passes after serve's disposal" $? "$(excerpt "$W/verify4.out")"

# --- A key destroyed outside disposal is reported ---------------------------------------------
live=$(sql "SELECT b.segment_id || ':' || b.record_offset FROM blobs b JOIN messages m ON m.address = b.address ORDER BY m.id LIMIT 1")
slots=$D/keys/slots/$(printf '%010d' "${live%:*}").vlk
cp -p "$slots" "$W/slots.keep"
python3 - "$slots" "${live#*:}" <<'PY'
import hashlib, struct, sys
path, want = sys.argv[1], int(sys.argv[2])
data = bytearray(open(path, 'rb').read())
for i in range(64, len(data) - 63, 64):
    if struct.unpack_from('<Q', data, i)[0] == want:
        struct.pack_into('<I', data, i + 8, 2)
        data[i + 16:i + 48] = bytes(32)
        data[i + 48:i + 64] = hashlib.blake2b(bytes(data[i:i + 48]), digest_size=16).digest()
open(path, 'wb').write(data)
PY
v verify --all >"$W/verify5.out" 2>&1
[ $? -ne 0 ] && grep -q "never disposed" "$W/verify5.out"
verdict "verify fails when a record's key is wiped outside disposal" $? "$(excerpt "$W/verify5.out")"
cp -p "$W/slots.keep" "$slots"

# --- rebuild-index after disposal does not bring disposed mail back ---------------------------
it_stop_db
mv "$D/pg" "$W/pg.before-rebuild"
v rebuild-index >"$W/rebuild.out" 2>&1
rc=$?
grep -q "^disposed before: [1-9]" "$W/rebuild.out"
verdict "rebuild-index after disposal skips the records whose keys were destroyed" $(( rc | $? )) "$(excerpt "$W/rebuild.out")"
it_db_start
[ "$(sql "SELECT count(*) FROM messages")" = 1 ] && [ "$(sql "SELECT hdr_subject FROM messages")" = "project banana" ]
verdict "only the live message is rebuilt" $? "$(sql "SELECT count(*) FROM messages")"
v verify --all >"$W/verify6.out" 2>&1
verdict "verify passes after the rebuild (older checkpoints noted, not compared)" $? "$(excerpt "$W/verify6.out")"

# --- A message removed outside disposal is reported -------------------------------------------
sql "SET session_replication_role = replica; DELETE FROM messages" >/dev/null 2>&1
v verify --all >"$W/verify3.out" 2>&1
[ $? -ne 0 ] && grep -q "without a message row" "$W/verify3.out"
verdict "verify fails when a message is removed outside disposal" $? "$(excerpt "$W/verify3.out")"

# --- A policy on a header the database does not keep reads the message's own headers -----------
cat >"$D/retention/policies.json" <<'JSON'
{"comment": "t95 headers",
 "policies": [
  {"name": "default", "retain": {"years": 1}, "from": "sent"},
  {"name": "classified", "retain": {"years": 10}, "match": {"header": {"X-Classification": "confidential"}}}
 ]}
JSON
mk "$M/x1.eml" alice@corp.example bob@client.example "quarterly figures" "Mon, 05 Jan 2026 10:00:00 +0000"
sed -i '1i X-Classification: Strictly Confidential' "$M/x1.eml"
mk "$M/x2.eml" alice@corp.example bob@client.example "lunch menu" "Mon, 05 Jan 2026 11:00:00 +0000"
v store "$M/x1.eml" "$M/x2.eml" >/dev/null 2>&1 && v index >"$W/index2.out" 2>&1
[ "$(ru 'quarterly figures')" = "classified 2036-01-05 compliance" ] && [ "$(ru 'lunch menu')" = "default 2027-01-05 compliance" ]
verdict "a policy on an archived message's own header (X-Classification) matches it alone" $? "$(ru 'quarterly figures') / $(ru 'lunch menu') $(excerpt "$W/index2.out")"
v retention test "$(sql "SELECT id FROM messages WHERE hdr_subject = 'quarterly figures'")" >"$W/test2.out" 2>&1
grep -q '^policy classified$' "$W/test2.out" && grep -q 'headers' "$W/test2.out"
verdict "retention test ID explains a match on the message's own header" $? "$(excerpt "$W/test2.out")"
sql "SELECT details FROM audit WHERE action = 'retention.apply' ORDER BY seq DESC LIMIT 1" | grep -q '"messages_headers_read": *[1-9]'
verdict "reading messages' own headers for retention is audited" $? "$(sql "SELECT details FROM audit WHERE action = 'retention.apply' ORDER BY seq DESC LIMIT 1")"

it_summary
[ "$IT_FAILED" -eq 0 ]
