#!/bin/sh
# t92-bcc - Bcc visibility by role. An Exchange journal report recovers a Bcc recipient of an
# Enron message, and a sender's copy has its own Bcc header. Through the API, an officer (who
# holds the bcc permission) finds the original by bcc:, and sees the Bcc recipient in its
# metadata and in the BCC column of an export. A reviewer (no bcc) gets 403 for bcc:, does not
# find the original through the Bcc address by recipients:, participants:, custodian:, a
# domain or free text (the report's body lists it), sees no Bcc in search hits, metadata or
# anything of its export (no BCC column; the sender's copy withheld and named in
# data/errors.csv), and gets 403 for the report (metadata and raw bytes), for the sender's
# copy's raw bytes and for the officer's export. Every read and every refusal is audited.
. "$(dirname "$0")/lib.sh"

. "$IT_DIR/serve.sh"

serve_begin
it_archive
serve_ports
HP=$(sed -n 's/^http_listen = 127\.0\.0\.1://p' "$D/vellum.conf")
U=http://127.0.0.1:$HP
BCC=secret.blind@bccvault.example
O1=$ENRON/inbox/100. # no Bcc header of its own (many Enron messages have one)
O1SHA=$(sha256sum <"$O1" | cut -c1-64)
! grep -qi bccvault "$O1"
verdict "the Enron original does not name the Bcc domain itself" $?

# The report wraps O1 byte for byte; its body lists the Bcc recipient (as Exchange does). The
# sender's copy names a Bcc recipient in its own header. Built here, byte for byte.
mkdir "$W/in"
python3 - "$O1" "$W/in" "$BCC" <<'EOF'
import sys
o1 = open(sys.argv[1], "rb").read()
w, bcc = sys.argv[2], sys.argv[3].encode()
nl = b"\r\n"
env = [b"Sender: t92.sender@x.example", b"Subject: t92 journal",
       b"Message-Id: <t92-orig@contoso.example>", b"To: t92.visible@x.example",
       b"Bcc: " + bcc, b"Recipient: t92.other@x.example"]
head = [b"From: Microsoft Exchange <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@contoso.example>",
        b"To: journal@archive.example", b"Subject: t92 journal",
        b"Date: Tue, 2 Apr 2024 09:14:05 +0200", b"Message-ID: <t92-jr@mbx01.contoso.example>",
        b"X-MS-Journal-Report:", b'Content-Type: multipart/mixed; boundary="_t92_"',
        b"MIME-Version: 1.0", b""]
body = [b"--_t92_", b'Content-Type: text/plain; charset="us-ascii"', b"", *env, b"", b"--_t92_",
        b"Content-Type: message/rfc822", b"Content-Disposition: attachment", b""]
open(w + "/report.eml", "wb").write(nl.join(head + body) + nl + o1 + nl + b"--_t92_--" + nl)
open(w + "/native.eml", "wb").write(nl.join([
    b"From: t92.author@x.example", b"To: t92.reader@x.example", b"Bcc: secret.native@bccvault.example",
    b"Subject: t92 sender copy", b"Message-ID: <t92-native@x.example>",
    b"Date: Wed, 3 Apr 2024 10:00:00 +0000", b"", b"t92 zebraword body", b""]))
EOF
RSHA=$(sha256sum <"$W/in/report.eml" | cut -c1-64)
NSHA=$(sha256sum <"$W/in/native.eml" | cut -c1-64)
v import "$W/in" >"$W/import.out" 2>&1 && v index >>"$W/import.out" 2>&1
verdict "the report and the sender's copy are imported and indexed" $? "$(excerpt "$W/import.out")"
msg_id() { sql "select id from messages where sha256 = decode('$1', 'hex')"; }
ORIG=$(msg_id "$O1SHA")
REP=$(msg_id "$RSHA")
NAT=$(msg_id "$NSHA")
[ -n "$ORIG" ] && [ -n "$REP" ] && [ -n "$NAT" ] &&
	[ "$(sql "select count(*) from receipts r join envelope_recipients e on e.receipt_id = r.id
		where r.message_id = $ORIG and r.journal_report_id = $REP and e.address = '$BCC' and e.role = 'bcc'")" = 1 ]
verdict "the original is unwrapped with $BCC in the role bcc" $? "orig $ORIG report $REP native $NAT"
got=$(sql "select string_agg(message_id || ':' || bcc_exposure, ' ' order by message_id) from message_index
	where message_id in ($ORIG, $REP, $NAT)")
[ "$got" = "$(printf '%s\n' "$ORIG:0" "$REP:2" "$NAT:1" | sort -t: -k1,1n | tr '\n' ' ' | sed 's/ $//')" ]
verdict "bcc_exposure: original 0, report 2, sender's copy 1" $? "$got"
got=$(sql "select array_to_string(array(select t from unnest(addr_terms) t where t like '%bccvault%' or t like '%secret%' or t like '%blind%' order by t), ' ')
	from message_index where message_id = $ORIG")
[ "$got" = "b:d:bccvault.example b:l:secret.blind b:w:blind b:w:secret x:a:$BCC" ]
verdict "the envelope Bcc is indexed under b and x only, never r" $? "$got"
v custodian add blind "$BCC" >/dev/null 2>&1
v token create --name off-1 --role officer | tail -n 1 >"$W/tok.off"
v token create --name rev-1 --role reviewer >"$W/tok.rev.out" 2>&1
tail -n 1 "$W/tok.rev.out" >"$W/tok.rev"
grep -Eqx 'vlm_[A-Za-z0-9_-]{43}' "$W/tok.rev" &&
	[ "$(sql "select role from api_tokens where name = 'rev-1'")" = reviewer ]
verdict "vellum token create --role reviewer" $? "$(excerpt "$W/tok.rev.out")"
serve_start

# api TOKEN OUT METHOD PATH [JSON] - one request; prints the status, the body in $W/OUT.
api() {
	_t=$1 _o=$2 _m=$3 _p=$4
	shift 4
	[ $# -gt 0 ] && set -- -H 'Content-Type: application/json' --data "$1"
	curl -sS --max-time 60 -o "$W/$_o" -w '%{http_code}' -X "$_m" \
		-H "Authorization: Bearer $(cat "$W/tok.$_t")" "$@" "$U$_p"
}
# hits OUT - the ids of a search reply, sorted, on one line.
hits() { python3 -c 'import json,sys; print(" ".join(sorted(str(h["id"]) for h in json.load(open(sys.argv[1]))["hits"])))' "$W/$1"; }
# search TOKEN QUERY - "STATUS ids..." of the search.
search() {
	_c=$(api "$1" search.json POST /v1/search "$(python3 -c 'import json,sys; print(json.dumps({"query": sys.argv[1]}))' "$2")")
	[ "$_c" = 200 ] && echo "$_c $(hits search.json)" || echo "$_c"
}

# ---- the officer: bcc:, metadata and export show the Bcc recipient --------------------------------
got=$(search off "bcc:$BCC")
[ "$got" = "200 $ORIG" ]
verdict "officer: bcc:$BCC finds the original" $? "$got"
got=$(search off "bccvault")
[ "$got" = "200 $REP" ]
verdict "officer: free text finds the report, whose body lists the Bcc" $? "$got"
c=$(api off view.off GET "/v1/messages/$ORIG")
[ "$c" = 200 ] && python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
assert {"address": sys.argv[2], "role": "bcc", "orcpt": None} in [r for e in d["envelope"] for r in e["recipients"]], d' \
	"$W/view.off" "$BCC"
verdict "officer: GET /v1/messages/{id} lists the Bcc recipient with role bcc" $? "$c $(excerpt "$W/view.off")"
c=$(api off exp.off POST /v1/exports "{\"query\": \"bcc:$BCC\"}")
OEID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$W/exp.off" 2>/dev/null)
api off off.tar GET "/v1/exports/$OEID/download" >/dev/null
mkdir "$W/xo" && tar -xf "$W/off.tar" -C "$W/xo" 2>/dev/null
python3 -c 'import csv,sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8", newline="")))
assert len(rows) == 1 and rows[0]["BCC"] == sys.argv[2] and rows[0]["VELLUMID"] == sys.argv[3], rows' \
	"$W/xo/vellum-export-$OEID/data/loadfile.csv" "$BCC" "$ORIG" 2>"$W/xo.err"
verdict "officer: the export's BCC column names the Bcc recipient" $? "$c $(excerpt "$W/xo.err")"
python3 -c 'import sys, xml.etree.ElementTree as ET
docs = ET.parse(sys.argv[1]).getroot().findall("./Batch/Documents/Document")
bcc = [t.get("TagValue") for d in docs for t in d.findall("./Tags/Tag[@TagName=\"#BCC\"]")]
assert len(docs) == 1 and bcc == [sys.argv[2]], (len(docs), bcc)' \
	"$W/xo/vellum-export-$OEID/data/loadfile.xml" "$BCC" 2>"$W/xox.err"
verdict "officer: the EDRM XML load file's #BCC tag names the Bcc recipient" $? "$(excerpt "$W/xox.err")"

# ---- the reviewer: never through Bcc ------------------------------------------------------------
c=$(api rev refused.json POST /v1/search "{\"query\": \"bcc:$BCC\"}")
[ "$c" = 403 ] && grep -q 'needs the bcc permission' "$W/refused.json"
verdict "reviewer: bcc: is refused with 403 saying why" $? "$c $(excerpt "$W/refused.json")"
c=$(api rev refused.json POST /v1/search '{"query": "lunch OR -bcc:x@y"}')
[ "$c" = 403 ]
verdict "reviewer: bcc: inside a boolean is refused too" $? "$c"
for q in "recipients:$BCC" "participants:$BCC" "recipients:@bccvault.example" "participants:secret" \
	"to:$BCC" "custodian:blind" "bccvault" "secret" "blind" "\"secret blind\"" "bccvault*" \
	"recipients:secret.blind@" "participants:*@bccvault.example" "secret.native@bccvault.example"; do
	got=$(search rev "$q")
	[ "$got" = "200 " ]
	verdict "reviewer: $q finds nothing" $? "$got"
done
got=$(search off "custodian:blind")
[ "$got" = "200 $ORIG" ]
verdict "officer: custodian:blind finds the original through its Bcc" $? "$got"
got=$(search rev "after:1990-01-01")
[ "$got" = "200 $(printf '%s\n' "$ORIG" "$NAT" | sort | tr '\n' ' ' | sed 's/ $//')" ] &&
	! grep -qi bccvault "$W/search.json"
verdict "reviewer: everything is the original and the sender's copy, not the report, no Bcc in hits" $? "$got"
got=$(search rev "recipients:t92.visible@x.example")
[ "$got" = "200 $ORIG" ]
verdict "reviewer: recipients: still finds a visible envelope recipient" $? "$got"
c=$(api rev view.rev GET "/v1/messages/$ORIG")
[ "$c" = 200 ] && ! grep -qi bccvault "$W/view.rev" && grep -q t92.visible@x.example "$W/view.rev" &&
	! grep -q '"bcc"' "$W/view.rev"
verdict "reviewer: the original's metadata has its visible recipients and no Bcc" $? "$c $(excerpt "$W/view.rev")"
c=$(api rev raw.rev GET "/v1/messages/$ORIG/raw")
[ "$c" = 200 ] && [ "$(sha256sum <"$W/raw.rev" | cut -c1-64)" = "$O1SHA" ]
verdict "reviewer: the original's raw bytes, exact" $? "$c"
c=$(api rev view.nat GET "/v1/messages/$NAT")
[ "$c" = 200 ] && ! grep -qi bccvault "$W/view.nat"
verdict "reviewer: the sender's copy's metadata, without its Bcc" $? "$c $(excerpt "$W/view.nat")"
for p in "/v1/messages/$REP" "/v1/messages/$REP/raw" "/v1/messages/$NAT/raw"; do
	c=$(api rev denied.json GET "$p")
	[ "$c" = 403 ] && grep -q '"forbidden"' "$W/denied.json" && ! grep -qi bccvault "$W/denied.json"
	verdict "reviewer: GET $p -> 403" $? "$c $(excerpt "$W/denied.json")"
done
c=$(api rev exp.rev POST /v1/exports '{"query": "after:1990-01-01"}')
REID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$W/exp.rev" 2>/dev/null)
c2=$(api rev rev.tar GET "/v1/exports/$REID/download")
mkdir "$W/xr" && tar -xf "$W/rev.tar" -C "$W/xr" 2>/dev/null && chmod -R a+rX "$W/xr"
XR=$W/xr/vellum-export-$REID
[ "$c" = 201 ] && [ "$c2" = 200 ] && v export-verify "$XR" >"$W/xr.out" 2>&1
verdict "reviewer: an export, downloaded, that export-verify passes" $? "$c $c2 $(excerpt "$W/xr.out") $(excerpt "$W/exp.rev")"
! grep -rqi bccvault "$W/xr" && ! grep -qi bccvault "$W/rev.tar" && ! grep -qi bccvault "$W/exp.rev"
verdict "reviewer: nothing of the export names the Bcc domain (load files, natives, manifests, errors)" $? \
	"$(grep -rli bccvault "$W/xr" | head -3 | tr '\n' ' ')"
python3 -c 'import csv,sys
rows = list(csv.DictReader(open(sys.argv[1] + "/data/loadfile.csv", encoding="utf-8", newline="")))
assert "BCC" not in rows[0] and [r["VELLUMID"] for r in rows] == [sys.argv[2]], rows
dat = open(sys.argv[1] + "/data/loadfile.dat", encoding="utf-8-sig").read()
assert "\u00feBCC\u00fe" not in dat.split("\r\n")[0], dat[:200]
err = list(csv.DictReader(open(sys.argv[1] + "/data/errors.csv", encoding="utf-8", newline="")))
assert [e["VELLUMID"] for e in err] == [sys.argv[3]] and "Bcc" in err[0]["REASON"], err' \
	"$XR" "$ORIG" "$NAT" 2>"$W/xr.err"
verdict "reviewer: no BCC column, only the original exported, the sender's copy in errors.csv" $? "$(excerpt "$W/xr.err")"
python3 -c 'import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1] + "/data/loadfile.xml").getroot()
docs = root.findall("./Batch/Documents/Document")
names = {t.get("TagName") for t in root.iter("Tag")}
assert [d.get("DocID") for d in docs] and "#CC" in names and "#BCC" not in names, names
assert not any(t.get("TagName").upper() == "#BCC" for t in root.iter("Tag"))' "$XR" 2>"$W/xrx.err" &&
	! grep -q "#BCC" "$XR/data/loadfile.xml"
verdict "reviewer: the EDRM XML load file has no #BCC tag anywhere" $? "$(excerpt "$W/xrx.err")"
c=$(api rev denied.json GET "/v1/exports/$OEID/download")
c2=$(api rev denied2.json GET "/v1/exports/$OEID")
[ "$c" = 403 ] && [ "$c2" = 403 ]
verdict "reviewer: the officer's export (made with Bcc) -> 403" $? "$c $c2"
c=$(api rev refused.json POST /v1/exports "{\"query\": \"bcc:$BCC\"}")
[ "$c" = 403 ]
verdict "reviewer: an export by bcc: -> 403" $? "$c"

# ---- the audit trail: each read and each refusal ----------------------------------------------
got=$(sql "select string_agg(action || ':' || coalesce(target, '-'), ' ' order by seq) from audit
	where actor = 'token:rev-1' and action in ('message.view', 'message.raw', 'auth.denied')")
want="auth.denied:- auth.denied:- message.view:message:$ORIG message.raw:message:$ORIG message.view:message:$NAT"
want="$want auth.denied:message:$REP auth.denied:message:$REP auth.denied:message:$NAT"
want="$want auth.denied:export:$OEID auth.denied:export:$OEID auth.denied:-"
[ "$got" = "$want" ]
verdict "audit: every read and refusal of the reviewer, in order" $? "$got"
n=$(sql "select count(*) from audit where actor = 'token:rev-1' and action = 'search'")
[ "$n" = 16 ] && [ "$(sql "select count(*) from audit where actor = 'token:rev-1' and action in ('export.start', 'export', 'export.download')")" = 3 ]
verdict "audit: the reviewer's 16 searches and its export" $? "searches $n"
[ "$(sql "select details->>'needs' from audit where actor = 'token:rev-1' and action = 'auth.denied' group by 1")" = bcc ]
verdict "audit: each refusal names the bcc permission" $?
serve_stop_check "serve stops cleanly, no sanitizer report"
it_summary
