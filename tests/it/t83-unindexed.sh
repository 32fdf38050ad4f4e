#!/bin/sh
# t83-unindexed - the "unindexed items" report (REQUIREMENTS, eDiscovery: items that could not be
# indexed are listed in a report that accompanies every search and export), on real files: the
# PGP/MIME and S/MIME samples of the notmuch corpus and messages written here with Python's
# email package (an image attachment, a password-protected ZIP, 300 KB of text, an unknown
# charset) beside ordinary mail:
#  1. index_exceptions holds each message's reasons and parts, and `vellum index --all` replaces
#     them (no duplicate);
#  2. `vellum search --json` counts them in the query's scope: every message for free text, the
#     sender's for from:, with the reasons counted; the plain text names them;
#  3. `vellum search --unindexed` lists them by keyset pages (id, date, from, reasons);
#  4. an export writes data/unindexed.csv, listed in the signed manifest, which export-verify
#     and sha256sum -c accept;
#  5. disposal removes the disposed messages' rows, verify passes, and names a row whose
#     message is gone.
. "$(dirname "$0")/lib.sh"

it_begin
it_archive
X=$W/x # exports are written by the vellum user
mkdir "$X" && chmod 1777 "$X"

M=$W/mail
mkdir -p "$M" "$D/retention"
python3 - "$M" <<'PY'
import sys
from email.message import EmailMessage
m_dir = sys.argv[1]
def base(name, frm, subject, day):
    m = EmailMessage()
    m["From"] = frm
    m["To"] = "legal@x.example"
    m["Subject"] = subject
    m["Date"] = "Mon, %02d Jan 2026 10:00:00 +0000" % day
    m["Message-ID"] = "<%s@t83>" % name
    return m
def save(name, m):
    open("%s/%s.eml" % (m_dir, name), "wb").write(m.as_bytes())
m = base("o1", "dave@x.example", "budget meeting", 5); m.set_content("the budget meeting is at ten\n"); save("o1", m)
m = base("o2", "erin@x.example", "lunch", 6); m.set_content("budget lunch on friday\n"); save("o2", m)
m = base("img", "dave@x.example", "figures", 7); m.set_content("budget figures attached\n")
m.add_attachment(b"\x89PNG\r\n\x1a\n" + b"\0" * 64, maintype="image", subtype="png", filename="chart.png")
save("img", m)
# A ZIP whose first entry has general purpose flag bit 0 (encrypted) set.
zipped = b"PK\x03\x04\x14\x00\x01\x00\x08\x00" + b"\0" * 40
m = base("zip", "carol@x.example", "the file", 8); m.set_content("see the attached file\n")
m.add_attachment(zipped, maintype="application", subtype="zip", filename="secret.zip")
save("zip", m)
m = base("big", "carol@x.example", "long report", 9)
m.set_content("report " + "lorem ipsum dolor " * 17000 + " budget\n")
save("big", m)
raw = (b"From: erin@x.example\r\nTo: legal@x.example\r\nSubject: klingon\r\n"
       b"Date: Sat, 10 Jan 2026 10:00:00 +0000\r\nMessage-ID: <cs@t83>\r\nMIME-Version: 1.0\r\n"
       b"Content-Type: text/plain; charset=x-klingon\r\n\r\nqapla batlh\r\n")
open(m_dir + "/cs.eml", "wb").write(raw)
PY
verdict "write the messages" $?

cat >"$D/retention/policies.json" <<'JSON'
{"comment": "t83",
 "policies": [
  {"name": "default", "retain": {"years": 1}, "from": "sent"},
  {"name": "dave", "retain": {"years": 100}, "match": {"query": "from:dave@x.example"}}
 ]}
JSON

PGP=$CORPUS/notmuch-corpora/crypto/basic-encrypted.eml
SMIME=$CORPUS/notmuch-corpora/protected-headers/smime-enc+legacy-disp.eml
SIGNED=$CORPUS/notmuch-corpora/pkcs7/smime-onepart-signed.eml
v store "$M"/o1.eml "$M"/o2.eml "$M"/img.eml "$M"/zip.eml "$M"/big.eml "$M"/cs.eml \
	"$PGP" "$SMIME" "$SIGNED" >"$W/store.out" 2>&1 &&
	v index >"$W/index.out" 2>&1
verdict "store and index nine messages" $? "$(excerpt "$W/store.out") $(excerpt "$W/index.out")"
# id_of FILE - the message id store gave FILE.
id_of() { awk -v f="$1" '$3 == f { print $1 }' "$W/store.out"; }

# --- 1. the rows ------------------------------------------------------------------------------
# exc FILE - "reason@part[:type][:filename]" of FILE's message, in order.
exc() {
	sql "SELECT string_agg(reason || '@' || part || coalesce(':' || content_type, '')
	     || coalesce(':' || filename, ''), ' ' ORDER BY position)
	     FROM index_exceptions WHERE message_id = $(id_of "$1")"
}
bad=
check() { got=$(exc "$1"); [ "$got" = "$2" ] || bad="$bad $(basename "$1"): [$got] want [$2];"; }
check "$M/o1.eml" ""
check "$M/o2.eml" ""
check "$M/img.eml" "unsupported_type@2:image/png:chart.png"
check "$M/zip.eml" "encrypted@2:application/zip:secret.zip"
check "$M/big.eml" "truncated@"
check "$M/cs.eml" "decode_error@1:text/plain"
check "$PGP" "encrypted@:multipart/encrypted"
check "$SMIME" "encrypted@1:application/pkcs7-mime:smime.p7m"
check "$SIGNED" "unsupported_type@1:application/pkcs7-mime:smime.p7m"
[ -z "$bad" ]
verdict "index_exceptions: each message's reasons, parts, types and names" $? "$bad"
sql "SELECT detail FROM index_exceptions WHERE message_id = $(id_of "$M/big.eml")" | grep -q INDEXER_BODY_MAX
verdict "the truncation names its bound" $? "$(exc "$M/big.eml")"
v search body:budget --count >"$W/big.count" 2>&1 && [ "$(cat "$W/big.count")" = 3 ]
verdict "the word past the cut is not found (3 of the 4 messages that hold budget)" $? "$(excerpt "$W/big.count")"

sql "SELECT message_id, position, part, reason, detail FROM index_exceptions ORDER BY 1, 2" >"$W/rows.before"
v index --all >"$W/reindex.out" 2>&1 &&
	sql "SELECT message_id, position, part, reason, detail FROM index_exceptions ORDER BY 1, 2" >"$W/rows.after" &&
	cmp -s "$W/rows.before" "$W/rows.after" && [ "$(wc -l <"$W/rows.after")" -eq 7 ]
verdict "index --all replaces the rows: the same 7, none twice" $? "$(excerpt "$W/reindex.out") $(wc -l <"$W/rows.after")"

# --- 2. the counts in search ---------------------------------------------------------------------
# summary QUERY WANT - the unindexed section of `search --json QUERY` as "n est reason=n...".
summary() {
	v search --json -- "$1" >"$W/s.json" 2>"$W/s.err" || { echo "search failed: $(excerpt "$W/s.err")"; return; }
	python3 -c '
import json, sys
u = json.load(open(sys.argv[1]))["unindexed"]
print(u["messages"], u["estimated"], " ".join("%s=%d" % kv for kv in sorted(u["reasons"].items())))' "$W/s.json"
}
# summary_is NAME QUERY WANT - one verdict: the unindexed section of QUERY is WANT ("n estimated
# decode_error encrypted truncated unparsed unsupported_type", the counts by reason).
summary_is() {
	_want=$(echo "$3" | awk '{ printf "%s %s decode_error=%s encrypted=%s truncated=%s unparsed=%s unsupported_type=%s", $1, $2, $3, $4, $5, $6, $7 }')
	_got=$(summary "$2")
	[ "$_got" = "$_want" ]
	verdict "$1" $? "got [$_got] want [$_want]"
}
summary_is "free text (budget): the whole archive's 7, by reason" budget "7 False 1 3 1 0 2"
summary_is "from:carol@x.example budget: the sender's 2 (scope without the words)" \
	"from:carol@x.example budget" "2 False 0 1 1 0 0"
summary_is "from:alice@smime.example: the two S/MIME samples" from:alice@smime.example "2 False 0 1 0 0 1"
summary_is "from:, NOT has:attachment and a date: the one charset failure" \
	"from:erin@x.example -has:attachment after:2026-01-10" "1 False 1 0 0 0 0"
summary_is "a scope without unindexed items counts 0" from:nobody@x.example "0 False 0 0 0 0 0"
v search budget >"$W/plain.out" 2>&1 &&
	grep -q "^unindexed in scope: 7 messages (encrypted 3, unsupported_type 2, truncated 1, decode_error 1)$" "$W/plain.out"
verdict "the plain-text search names them in one line" $? "$(excerpt "$W/plain.out")"

# --- 3. the listing ---------------------------------------------------------------------------------
: >"$W/list.ids"
cur=
pages=0
while :; do
	v search --unindexed --json --limit 3 ${cur:+--after-cursor "$cur"} -- budget >"$W/l.json" 2>"$W/l.err" || break
	pages=$((pages + 1))
	cur=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
with open(sys.argv[2], "a") as out:
    for it in d["items"]:
        assert it["exceptions"] and it["date"] and "matched" in it and len(it["sha256"]) == 64, it
        out.write("%d %s %s %d\n" % (it["id"], it["from"] or "-", ",".join(e["reason"] for e in it["exceptions"]), it["matched"]))
print(d["next_cursor"] or "")' "$W/l.json" "$W/list.ids") || break
	[ -n "$cur" ] && [ "$pages" -lt 10 ] || break
done
sort -n "$W/list.ids" | awk '{ print $1 }' >"$W/list.sorted"
sql "SELECT DISTINCT message_id FROM index_exceptions ORDER BY 1" >"$W/ids.want"
[ "$pages" -eq 3 ] && cmp -s "$W/list.sorted" "$W/ids.want" &&
	grep -q "^$(id_of "$M/img.eml") dave@x.example unsupported_type 1$" "$W/list.ids" &&
	grep -q "^$(id_of "$M/zip.eml") carol@x.example encrypted 0$" "$W/list.ids"
verdict "search --unindexed: 3 keyset pages of 3, every item once, reasons and matched" $? "pages $pages: $(tr '\n' '|' <"$W/list.ids") $(excerpt "$W/l.err")"
v search --unindexed -- from:carol@x.example >"$W/ltext.out" 2>&1 &&
	grep -q "^$(id_of "$M/big.eml")  2026-01-09T10:00:00Z  carol@x.example  (matched)$" "$W/ltext.out" &&
	grep -q "^  encrypted *2 *application/zip secret.zip: password-protected ZIP$" "$W/ltext.out"
verdict "search --unindexed in plain text: id, date, from (matched: the query has no words), then each reason" $? "$(excerpt "$W/ltext.out")"
[ "$(sql "SELECT count(*) FROM audit WHERE action = 'search.unindexed'")" -ge 4 ]
verdict "each listing is audited (search.unindexed)" $?

# --- 4. the export ------------------------------------------------------------------------------------
v export --out "$X/exp" -- budget >"$W/exp.out" 2>&1
verdict "export budget" $? "$(excerpt "$W/exp.out")"
python3 - "$X/exp" "$(id_of "$M/img.eml")" <<'PY' >"$W/exp.check" 2>&1
import csv, hashlib, json, os, sys
d, img = sys.argv[1], sys.argv[2]
rows = list(csv.DictReader(open(os.path.join(d, "data/unindexed.csv"), newline="", encoding="utf-8")))
assert len(rows) == 7, len(rows)
assert list(rows[0].keys()) == ["VELLUMID", "SHA256", "DATESENT", "FROM", "SUBJECT", "EXPORTED",
    "PART", "FILENAME", "CONTENTTYPE", "REASON", "DETAIL"], rows[0].keys()
exported = {r["VELLUMID"] for r in rows if r["EXPORTED"] == "Y"}
assert exported == {img}, exported
assert sorted(r["REASON"] for r in rows) == ["decode_error", "encrypted", "encrypted", "encrypted",
    "truncated", "unsupported_type", "unsupported_type"], rows
man = dict(l.split()[::-1] for l in open(os.path.join(d, "manifest-sha256.txt")))
h = hashlib.sha256(open(os.path.join(d, "data/unindexed.csv"), "rb").read()).hexdigest()
assert man.get("data/unindexed.csv") == h, "manifest entry"
info = json.load(open(os.path.join(d, "export.json")))
assert info["counts"]["unindexed"] == 7 and info["unindexed_items"] == "data/unindexed.csv", info
PY
verdict "unindexed.csv: the scope's 7 rows, EXPORTED for the one exported, in the manifest and export.json" $? "$(excerpt "$W/exp.check")"
v export-verify "$X/exp" >"$W/ev.out" 2>&1 && (cd "$X/exp" && sha256sum -c --quiet manifest-sha256.txt) >"$W/sum.out" 2>&1
verdict "export-verify and sha256sum -c pass" $? "$(excerpt "$W/ev.out") $(excerpt "$W/sum.out")"
printf 'x' >>"$X/exp/data/unindexed.csv"
! v export-verify "$X/exp" >"$W/ev2.out" 2>&1 && grep -q "unindexed.csv" "$W/ev2.out"
verdict "export-verify fails once unindexed.csv changes, naming it" $? "$(excerpt "$W/ev2.out")"
v export --out "$X/exp2" -- from:carol@x.example >"$W/exp2.out" 2>&1 &&
	[ "$(python3 -c 'import csv,sys; print(len(list(csv.DictReader(open(sys.argv[1], newline="")))))' "$X/exp2/data/unindexed.csv")" = 2 ] &&
	grep -q "unindexed items of the query's scope: 2 messages" "$W/exp2.out"
verdict "export from:carol@x.example: its 2" $? "$(excerpt "$W/exp2.out")"

# --- 5. disposal and verify -----------------------------------------------------------------------------
sql "UPDATE vellum_clock SET test_clock = true"
v dispose --now 2040-01-01T00:00:00Z >"$W/d.out" 2>&1 && grep -q "^disposed 7 messages" "$W/d.out"
verdict "dispose the 7 expired messages (dave's two are kept)" $? "$(excerpt "$W/d.out")"
[ "$(sql "SELECT string_agg(message_id::text, ' ') FROM index_exceptions")" = "$(id_of "$M/img.eml")" ]
verdict "only the kept message's exception rows are left" $? "$(sql "SELECT count(*) FROM index_exceptions")"
summary_is "search after disposal counts the one left" budget "1 False 0 0 0 0 1"
v verify >"$W/v.out" 2>&1
verdict "verify passes after disposal" $? "$(excerpt "$W/v.out")"
sql "INSERT INTO index_exceptions VALUES (999999, 0, '', NULL, NULL, 'unparsed', 'planted')"
! v verify >"$W/v2.out" 2>&1 && grep -q "index exception of a message that is not there" "$W/v2.out" &&
	grep -q "message 999999" "$W/v2.out"
verdict "verify names an exception row whose message is gone" $? "$(excerpt "$W/v2.out")"
sql "DELETE FROM index_exceptions WHERE message_id = 999999"
