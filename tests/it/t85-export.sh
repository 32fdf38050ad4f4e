#!/bin/sh
# t85-export - `vellum export` of the Enron known-answer searches: the counts match, every file
# is the archived evidence byte for byte, the load files parse with a standard CSV parser (one
# row per message), mbox reads back in Python's mailbox module, the signed manifest checks
# offline (export-verify and sha256sum -c) and fails after one byte changes or a file goes,
# the EDRM XML load file parses (ElementTree, xmllint) with one Document per row whose tags are
# the row's and whose native hashes to its Hash, the count per custodian matches the search
# counts, a failed export leaves nothing that looks complete, and every export is audited.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/serve.sh"

serve_begin
it_archive

KA=$CORPUS/enron-skilling-j/KNOWN_ANSWERS.tsv
# Exports are written by the run user (vellum drops privileges): a folder it may write in.
X=$W/x
mkdir "$X" && chmod 1777 "$X"

vr import "$ENRON" >"$W/import.out" 2>&1
verdict "import enron-skilling-j" $? "$(excerpt "$W/import.out")"
vr index >"$W/index.out" 2>&1
verdict "index it" $? "$(excerpt "$W/index.out")"
v custodian add skilling jeff.skilling@enron.com markskilling@hotmail.com >/dev/null 2>&1
v custodian add sera sherri.sera@enron.com >/dev/null 2>&1

# check_edrm DIR - DIR's data/loadfile.xml is EDRM XML 1.2 shaped, parses with ElementTree
# (and xmllint when installed), and has one Document per CSV row: DocID the row's BEGDOC, a Tag
# per column with the row's value (the typed ones left out when empty), the custodians as
# Locations, and for EML an ExternalFile whose Hash is sha256sum of the file it names.
TAGMAP='{"BEGDOC": "#BegDoc", "ENDDOC": "#EndDoc", "CUSTODIAN": "#Custodian", "FROM": "#From",
 "TO": "#To", "CC": "#CC", "BCC": "#BCC", "SUBJECT": "#Subject", "DATESENT": "#DateSent",
 "DATERECEIVED": "#DateReceived", "MESSAGEID": "#MessageID", "ATTACHMENT NAMES": "#AttachmentNames",
 "SHA256": "#SHA256", "FILEPATH": "#FilePath", "VELLUMID": "#VellumID", "SIZE": "#Size"}'
check_edrm() {
	if command -v xmllint >/dev/null 2>&1; then
		xmllint --noout "$1/data/loadfile.xml" || return 1
	fi
	python3 - "$1" "$TAGMAP" <<'PY'
import csv, hashlib, json, os, sys
import xml.etree.ElementTree as ET
d, tagmap = sys.argv[1], json.loads(sys.argv[2])
rows = list(csv.DictReader(open(os.path.join(d, "data/loadfile.csv"), newline="", encoding="utf-8")))
root = ET.parse(os.path.join(d, "data/loadfile.xml")).getroot()
assert root.tag == "Root" and root.get("MajorVersion") == "1" and root.get("MinorVersion") == "2", root.attrib
docs = root.findall("./Batch/Documents/Document")
assert len(docs) == len(rows), ("documents", len(docs), len(rows))
natives = 0
for doc, r in zip(docs, rows):
    assert doc.get("DocID") == r["BEGDOC"] and doc.get("DocType") == "Message", doc.attrib
    tags = {t.get("TagName"): t.get("TagValue") for t in doc.findall("./Tags/Tag")}
    for col, v in r.items():
        if v or col not in ("DATESENT", "DATERECEIVED", "VELLUMID", "SIZE"):
            assert tags.get(tagmap[col]) == v, (r["BEGDOC"], col, tags.get(tagmap[col]), v)
    assert ("BCC" in r) == ("#BCC" in tags), (r["BEGDOC"], "BCC column and #BCC tag")
    assert tags["#HasAttachments"] == ("true" if r["ATTACHMENT NAMES"] else "false")
    cust = [c.text for c in doc.findall("./Locations/Location/Custodian")]
    assert cust == [c for c in r["CUSTODIAN"].split(";") if c], (r["BEGDOC"], cust)
    for f in doc.findall("./Files/File[@FileType='Native']/ExternalFile"):
        p = os.path.join(d, f.get("FilePath"), f.get("FileName"))
        assert p == os.path.join(d, r["FILEPATH"]), (p, r["FILEPATH"])
        b = open(p, "rb").read()
        assert f.get("Hash") == hashlib.sha256(b).hexdigest() == r["SHA256"], p
        assert f.get("HashType") == "SHA256" and int(f.get("FileSize")) == len(b), f.attrib
        natives += 1
eml = [r for r in rows if r["FILEPATH"].endswith(".eml")]
assert natives == len(eml), ("natives", natives, len(eml))
PY
}

# check_export DIR WANT - the folder's load files have WANT rows whose SHA256 is the evidence
# hash of the message VELLUMID, and every EML file hashes to its row's SHA256; the EDRM XML
# load file agrees (check_edrm).
check_export() {
	check_edrm "$1" || return 1
	python3 - "$1" "$2" "$W/ids.tsv" <<'PY'
import csv, hashlib, os, re, sys
d, want, ids = sys.argv[1], int(sys.argv[2]), sys.argv[3]
evidence = dict(l.split("\t")[:2] for l in open(ids).read().split("\n") if l)
rows = list(csv.DictReader(open(os.path.join(d, "data/loadfile.csv"), newline="", encoding="utf-8")))
dat = open(os.path.join(d, "data/loadfile.dat"), encoding="utf-8-sig", newline="").read()
drows = list(csv.reader(dat.split("\r\n")[:-1], delimiter="\x14", quotechar="\u00fe"))
assert len(rows) == want, ("csv rows", len(rows), want)
assert len(drows) == want + 1, ("dat rows", len(drows), want + 1)
assert drows[0][:3] == ["BEGDOC", "ENDDOC", "CUSTODIAN"], drows[0]
for need in ("BEGDOC", "CUSTODIAN", "FROM", "TO", "CC", "BCC", "SUBJECT", "DATESENT",
             "DATERECEIVED", "MESSAGEID", "ATTACHMENT NAMES", "SHA256", "FILEPATH"):
    assert need in rows[0], need
    assert need in drows[0], need
for r, dr in zip(rows, drows[1:]):
    norm = lambda v: re.sub("\r\n|\n|\r", "\u00ae", v).replace("\u00fe", " ").replace("\x14", " ")
    assert [norm(r[k]) for k in drows[0]] == dr, (r["BEGDOC"], dr)
    assert evidence[r["VELLUMID"]] == r["SHA256"], r["VELLUMID"]
    if r["FILEPATH"].endswith(".eml"):
        h = hashlib.sha256(open(os.path.join(d, r["FILEPATH"]), "rb").read()).hexdigest()
        assert h == r["SHA256"], r["FILEPATH"]
PY
}
sql "select id, encode(sha256, 'hex') from messages" | tr '|' '\t' >"$W/ids.tsv"

# --- Known answers as EML exports ------------------------------------------------------------
: >"$W/ka.bad"
n=0
awk -F'\t' '$1 ~ /^(from_addr|body_word)=/' "$KA" | head -6 >"$W/ka.sel"
while IFS="$(printf '\t')" read -r q want; do
	term=${q#*=}
	case $q in
	from_addr=*) query="from:$term" ;;
	body_word=*) query="body:$term" ;;
	esac
	n=$((n + 1))
	out=$X/exp$n
	vr export --out "$out" -- "$query" >"$W/exp$n.out" 2>&1 || { echo "$query: $(cat "$W/exp$n.out")" >>"$W/ka.bad"; continue; }
	check_export "$out" "$want" >>"$W/ka.bad" 2>&1 || echo "$query: check failed" >>"$W/ka.bad"
	v export-verify "$out" >>"$W/ka.bad.v" 2>&1 || echo "$query: export-verify failed" >>"$W/ka.bad"
done <"$W/ka.sel"
[ ! -s "$W/ka.bad" ] && [ "$n" -ge 6 ]
verdict "known answers export with their counts, evidence hashes and load files ($n queries)" $? "$(excerpt "$W/ka.bad")"

E=$X/exp1
python3 - "$E" <<'PY' >"$W/known.out" 2>&1
import csv, sys
import xml.etree.ElementTree as ET
d = sys.argv[1]
dat = open(d + "/data/loadfile.dat", encoding="utf-8-sig", newline="").read()
drows = list(csv.reader(dat.split("\r\n")[:-1], delimiter="\x14", quotechar="\u00fe"))
row = dict(zip(drows[0], drows[1]))
doc = ET.parse(d + "/data/loadfile.xml").getroot().find("./Batch/Documents/Document[@DocID='%s']" % row["BEGDOC"])
tags = {t.get("TagName"): t.get("TagValue") for t in doc.findall("./Tags/Tag")}
assert tags["#Subject"].replace("\n", "\u00ae") == row["SUBJECT"] and row["SUBJECT"], (tags["#Subject"], row["SUBJECT"])
assert tags["#From"] == row["FROM"] and "@" in row["FROM"], (tags["#From"], row["FROM"])
assert tags["#DateSent"] == row["DATESENT"] and tags["#SHA256"] == row["SHA256"]
print(row["BEGDOC"], row["FROM"], row["SUBJECT"])
PY
verdict "the EDRM XML's #Subject and #From of $(cut -d' ' -f1 "$W/known.out") are the DAT row's" $? "$(excerpt "$W/known.out")"
python3 -c 'import json,sys
j = json.load(open(sys.argv[1] + "/export.json"))
assert j["load_files"] == ["data/loadfile.dat", "data/loadfile.csv", "data/loadfile.xml"], j["load_files"]
assert j["custodian_counts"] == "data/custodian-counts.csv", j
m = open(sys.argv[1] + "/manifest-sha256.txt").read()
for f in ("data/loadfile.xml", "data/custodian-counts.csv"):
    assert "  " + f + "\n" in m, f' "$E" >"$W/listed.out" 2>&1
verdict "loadfile.xml and custodian-counts.csv are in the manifest and export.json" $? "$(excerpt "$W/listed.out")"
(cd "$E" && sha256sum --quiet -c manifest-sha256.txt && sha256sum --quiet -c tagmanifest-sha256.txt) >"$W/sum.out" 2>&1
verdict "plain sha256sum -c checks the manifest and the tag manifest" $? "$(excerpt "$W/sum.out")"
pk=$(v keys public 2>&1)
v export-verify --key "$pk" "$E" >"$W/pin.out" 2>&1 && grep -q "the key given" "$W/pin.out"
verdict "export-verify with the archive's public key (vellum keys public)" $? "$(excerpt "$W/pin.out")"
"$VELLUM" --data "$W/nowhere" export-verify --key "$pk" "$E" >"$W/offline.out" 2>&1
verdict "export-verify needs no data folder or database" $? "$(excerpt "$W/offline.out")"
other=$(python3 -c 'import os; print(os.urandom(32).hex())')
! v export-verify --key "$other" "$E" >"$W/other.out" 2>&1
verdict "export-verify refuses another key" $? "$(excerpt "$W/other.out")"

# Tamper: one byte of one message, then a removed file, then an added one.
cp -a "$E" "$X/t1" && f=$(ls "$X/t1/data/messages" | head -1) &&
	python3 -c 'import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[len(b) // 2] ^= 1; open(p, "wb").write(b)' "$X/t1/data/messages/$f"
! v export-verify "$X/t1" >"$W/t1.out" 2>&1 && grep -q "$f" "$W/t1.out" && ! (cd "$X/t1" && sha256sum --quiet -c manifest-sha256.txt >/dev/null 2>&1)
verdict "one changed byte fails export-verify and sha256sum -c" $? "$(excerpt "$W/t1.out")"
cp -a "$E" "$X/t2" && rm "$X/t2/data/messages/$f"
! v export-verify "$X/t2" >"$W/t2.out" 2>&1
verdict "a removed file fails export-verify" $? "$(excerpt "$W/t2.out")"
cp -a "$E" "$X/t3" && echo extra >"$X/t3/data/messages/extra.eml"
! v export-verify "$X/t3" >"$W/t3.out" 2>&1 && grep -q "not in the manifest" "$W/t3.out"
verdict "an added file fails export-verify" $? "$(excerpt "$W/t3.out")"
cp -a "$E" "$X/t4" && sed -i 's/"query"/"querx"/' "$X/t4/export.json"
! v export-verify "$X/t4" >"$W/t4.out" 2>&1
verdict "a changed export.json fails export-verify" $? "$(excerpt "$W/t4.out")"
cp -a "$E" "$X/t5" && sed -i '0,/TagName="#Subject"/s//TagName="#Subjekt"/' "$X/t5/data/loadfile.xml" &&
	! cmp -s "$E/data/loadfile.xml" "$X/t5/data/loadfile.xml"
! v export-verify "$X/t5" >"$W/t5.out" 2>&1 && grep -q "data/loadfile.xml" "$W/t5.out"
verdict "a changed loadfile.xml fails export-verify" $? "$(excerpt "$W/t5.out")"

# --- ZIP: a stored ZIP of the finished folder, read by Python's zipfile --------------------------------
v export --zip --format mbox --out "$X/zipped" -- "from:jeff.skilling@enron.com" >"$W/zip.out" 2>&1 &&
	python3 - "$X/zipped.zip" "$X/unzipped" <<'PY' >>"$W/zip.out" 2>&1 &&
import os, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
names = z.namelist()
assert "zipped/manifest-sha256.txt" in names and "zipped/data/mbox/all.mbox" in names, names
z.extractall(sys.argv[2])
for root, dirs, files in os.walk(sys.argv[2]):
    for d in dirs: os.chmod(os.path.join(root, d), 0o755)
    for f in files: os.chmod(os.path.join(root, f), 0o644)
PY
	v export-verify "$X/unzipped/zipped" >>"$W/zip.out" 2>&1 && [ ! -e "$X/zipped.zip.partial" ] &&
	unzip -tq "$X/zipped.zip" >>"$W/zip.out" 2>&1
verdict "export --zip: Python's zipfile and unzip -t check every CRC, and the unzipped folder verifies" $? "$(excerpt "$W/zip.out")"

# --- mbox: reads back in Python's mailbox module ---------------------------------------------
want=$(awk -F'\t' '$1 == "from_addr=sherri.sera@enron.com" { print $2 }' "$KA")
v export --format mbox --out "$X/mbox" -- "from:sherri.sera@enron.com" >"$W/mbox.out" 2>&1
verdict "mbox export" $? "$(excerpt "$W/mbox.out")"
python3 - "$X/mbox" "$want" <<'PY' >"$W/mboxpy.out" 2>&1
import csv, hashlib, mailbox, re, sys
d, want = sys.argv[1], int(sys.argv[2])
mb = mailbox.mbox(d + "/data/mbox/all.mbox")
assert len(mb) == want, (len(mb), want)
rows = list(csv.DictReader(open(d + "/data/loadfile.csv", newline="", encoding="utf-8")))
assert len(rows) == want
# mboxrd: un-escape one '>' of ^>+From  and the bytes are the evidence again.
raw = open(d + "/data/mbox/all.mbox", "rb").read()
msgs = re.split(rb"(?m)^From [^\n]*\n", raw)[1:]
assert len(msgs) == want
for m, r in zip(msgs, rows):
    m = re.sub(rb"(?m)^>(>*From )", rb"\1", m[:-1])
    # A message that does not end in a newline gets one in an mbox (README, Export).
    h = {hashlib.sha256(m).hexdigest(), hashlib.sha256(m[:-1]).hexdigest()}
    assert r["SHA256"] in h, r["BEGDOC"]
PY
verdict "mbox reads back in Python's mailbox ($want messages) and un-escapes to the evidence" $? "$(excerpt "$W/mboxpy.out")"
v export-verify "$X/mbox" >"$W/mboxv.out" 2>&1
verdict "mbox export verifies" $? "$(excerpt "$W/mboxv.out")"
check_edrm "$X/mbox" >"$W/mboxx.out" 2>&1 && ! grep -q "<Files>" "$X/mbox/data/loadfile.xml"
verdict "mbox export: the EDRM XML has a Document per message and no ExternalFile (no file of its own)" $? "$(excerpt "$W/mboxx.out")"

# --- Custodians and dedup ----------------------------------------------------------------------
q="custodian:skilling OR custodian:sera"
total=$(v search --count --exact -- "$q")
v export --per-custodian --format mbox --out "$X/pc" -- "$q" >/dev/null 2>&1 &&
	v export --per-custodian --dedup --out "$X/pcd" -- "$q" >/dev/null 2>&1
verdict "per-custodian exports, with and without dedup" $?
python3 - "$X/pc" "$X/pcd" "$total" <<'PY' >"$W/pc.out" 2>&1
import csv, mailbox, os, sys
pc, pcd, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
r1 = list(csv.DictReader(open(pc + "/data/loadfile.csv", newline="", encoding="utf-8")))
r2 = list(csv.DictReader(open(pcd + "/data/loadfile.csv", newline="", encoding="utf-8")))
assert len(r2) == total, (len(r2), total)
assert len({r["VELLUMID"] for r in r2}) == total
both = [r for r in r2 if r["CUSTODIAN"] == "sera;skilling"]
assert both, "no message held by both custodians"
assert len(r1) == total + len(both), (len(r1), total, len(both))
counts = {f: len(mailbox.mbox(pc + "/data/mbox/" + f)) for f in os.listdir(pc + "/data/mbox")}
assert sum(counts.values()) == len(r1), counts
assert set(counts) == {"sera.mbox", "skilling.mbox"}, counts
PY
verdict "without dedup a shared message is in each custodian's mbox; with dedup once, both listed" $? "$(excerpt "$W/pc.out")"
nsera=$(v search --count --exact -- "custodian:sera")
nskil=$(v search --count --exact -- "custodian:skilling")
for e in pc pcd; do
	python3 - "$X/$e" "$nsera" "$nskil" <<'PY' >"$W/counts.$e" 2>&1
import csv, sys
d, sera, skil = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
raw = open(d + "/data/custodian-counts.csv", encoding="utf-8", newline="").read()
assert raw.startswith('"CUSTODIAN","MESSAGES"\r\n'), raw[:40]
counts = {r["CUSTODIAN"]: int(r["MESSAGES"]) for r in csv.DictReader(raw.splitlines())}
assert counts == {"sera": sera, "skilling": skil}, (counts, sera, skil)
# the same as the load file's CUSTODIAN column, each message once
rows = list(csv.DictReader(open(d + "/data/loadfile.csv", newline="", encoding="utf-8")))
per = {}
for r in {r["VELLUMID"]: r for r in rows}.values():
    for c in r["CUSTODIAN"].split(";") if r["CUSTODIAN"] else ["(none)"]:
        per[c] = per.get(c, 0) + 1
assert per == counts, (per, counts)
print(counts)
PY
done
cat "$W/counts.pcd" >>"$W/counts.pc"
python3 - "$X/exp1" <<'PY' >>"$W/counts.pc" 2>&1 &&
import csv, sys
d = sys.argv[1]
counts = {r["CUSTODIAN"]: int(r["MESSAGES"]) for r in csv.DictReader(open(d + "/data/custodian-counts.csv", newline="", encoding="utf-8"))}
rows = list(csv.DictReader(open(d + "/data/loadfile.csv", newline="", encoding="utf-8")))
per = {}
for r in rows:
    for c in r["CUSTODIAN"].split(";") if r["CUSTODIAN"] else ["(none)"]:
        per[c] = per.get(c, 0) + 1
assert per == counts and sum(counts.values()) >= len(rows), (per, counts)
assert list(counts) == sorted(counts), list(counts)
PY
	[ "$(sed -n 2p "$W/counts.pc")" = "$(sed -n 1p "$W/counts.pc")" ]
verdict "custodian-counts.csv: sera $nsera, skilling $nskil (the search counts), with and without dedup; (none) for the rest" $? "$(excerpt "$W/counts.pc")"

# --- A list of ids ------------------------------------------------------------------------------------
sql "select id from messages order by id limit 3" >"$W/ids.txt"
printf '# and one that is not there\n999999999\n' >>"$W/ids.txt"
chmod 644 "$W/ids.txt"
v export --ids "$W/ids.txt" --out "$X/ids" >"$W/idsx.out" 2>&1 &&
	python3 - "$X/ids" "$W/ids.txt" <<'PY' >>"$W/idsx.out" 2>&1
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1] + "/data/loadfile.csv", newline="", encoding="utf-8")))
want = [l.strip() for l in open(sys.argv[2]) if l.strip() and not l.startswith("#")][:3]
assert sorted(r["VELLUMID"] for r in rows) == sorted(want), (rows, want)
PY
verdict "export --ids: exactly the listed messages" $? "$(excerpt "$W/idsx.out")"
v export --ids "$W/ids.txt" --out "$X/ids2" -- "from:nobody@nowhere.invalid" >/dev/null 2>&1 &&
	[ "$(grep -c . "$X/ids2/data/loadfile.csv")" = 1 ]
verdict "export --ids with a query: both must match" $?

# --- A large message streams: bounded memory, exact bytes ------------------------------------------
python3 - "$W/big.eml" <<'PY'
import sys
with open(sys.argv[1], "wb") as f:
    f.write(b"From: big@example.org\r\nTo: t85@example.org\r\nSubject: t85 big\r\n"
            b"Message-ID: <big.t85@example.org>\r\nDate: Tue, 1 Dec 2026 10:00:00 +0000\r\n\r\n")
    line = b"From here on the same line again and again, for size. 0123456789\r\n"
    for _ in range(40 * 1024 * 1024 // len(line)):
        f.write(line)
PY
chmod 644 "$W/big.eml"
vr store "$W/big.eml" >/dev/null 2>&1 && vr index >/dev/null 2>&1
/usr/bin/time -f %M -o "$W/big.rss" "$VELLUM_REL" --data "$D" export --format mbox --out "$X/big" -- "larger:30M" >"$W/big.out" 2>&1
rc=$?
rss=$(tail -n 1 "$W/big.rss")
want=$(sha256sum <"$W/big.eml" | cut -c1-64)
[ $rc -eq 0 ] && [ "$rss" -lt 65536 ] && grep -q "$want" "$X/big/data/loadfile.csv" &&
	python3 - "$X/big/data/mbox/all.mbox" "$want" <<'PY'
import hashlib, mailbox, re, sys
raw = open(sys.argv[1], "rb").read()
m = re.sub(rb"(?m)^>(>*From )", rb"\1", raw.split(b"\n", 1)[1][:-1])
assert len(mailbox.mbox(sys.argv[1])) == 1
assert hashlib.sha256(m).hexdigest() == sys.argv[2]
PY
verdict "a 40 MB message (every line From-escaped) exports in mbox under 64 MB RSS, exact bytes" $? "rc $rc rss $rss KB $(excerpt "$W/big.out")"

# --- Failures leave nothing complete; exports are audited ----------------------------------------
v export --out "$X/exp1" -- "lunch" >"$W/exists.out" 2>&1
[ $? -ne 0 ] && [ ! -e "$X/exp1.partial" ]
verdict "an existing folder is never written over" $?
v export --out "$X/bad" -- "(lunch" >/dev/null 2>&1
[ $? -eq 2 ] && [ ! -e "$X/bad" ] && [ ! -e "$X/bad.partial" ]
verdict "a failed export (bad query) leaves no folder" $?
seg=$(ls "$D"/store/segments/*.vls | head -1)
chmod 000 "$seg"
vr export --out "$X/broken" -- "" >"$W/broken.out" 2>&1
rc=$?
chmod 640 "$seg"
[ $rc -ne 0 ] && [ ! -e "$X/broken" ] && [ ! -e "$X/broken.partial" ]
verdict "an export that fails midway (unreadable segment) leaves no folder" $? "rc $rc $(excerpt "$W/broken.out")"
"$VELLUM" --data "$D" export --out "$X/cancelled" -- "" >"$W/cancel.out" 2>&1 &
pid=$!
i=0
while [ ! -e "$X/cancelled.partial/data/messages/VL0000010.eml" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
kill -TERM $pid
wait $pid
rc=$?
[ $rc -ne 0 ] && [ ! -e "$X/cancelled" ] && [ ! -e "$X/cancelled.partial" ] && grep -q cancelled "$W/cancel.out"
verdict "SIGTERM cancels an export and leaves no folder" $? "rc $rc $(excerpt "$W/cancel.out")"
a=$(sql "select count(*) from audit where action = 'export'")
s=$(sql "select count(*) from audit where action = 'export.start'")
[ "$a" -ge 9 ] && [ "$s" -gt "$a" ] &&
	sql "select details->>'tagmanifest_sha256' from audit where action = 'export' order by seq desc limit 1" | grep -Eq '^[0-9a-f]{64}$'
verdict "every export is audited (start and finish with the manifest hash)" $? "export $a, start $s"
seq=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["audit"]["seq"])' "$X/exp1/export.json")
[ "$(sql "select action from audit where seq = $seq")" = export.start ]
verdict "export.json names its audit-trail position" $? "seq $seq"
# --- The API: POST /v1/exports, GET /v1/exports/{id}, GET .../download -----------------------------
serve_ports
v token create --name off --role officer | tail -n 1 >"$W/tok.off"
v token create --name aud --role auditor | tail -n 1 >"$W/tok.aud"
HP=$(sed -n 's/^http_listen = 127\.0\.0\.1://p' "$D/vellum.conf")
serve_start
U=http://127.0.0.1:$HP
api() { tok=$1; shift; curl -sS -H "Authorization: Bearer $(cat "$W/tok.$tok")" "$@"; }
want=$(awk -F'\t' '$1 == "from_addr=jeff.skilling@enron.com" { print $2 }' "$KA")
api off -o "$W/post.json" -w '%{http_code}' -H 'Content-Type: application/json' \
	-d '{"query": "from:jeff.skilling@enron.com", "format": "eml"}' "$U/v1/exports" >"$W/post.code" 2>&1
eid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$W/post.json" 2>/dev/null)
[ "$(cat "$W/post.code")" = 201 ] && python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
assert d["state"] == "complete" and d["counts"]["messages"] == int(sys.argv[2]), d
assert len(d["manifest_sha256"]) == 64 and d["download"].endswith("/download")' "$W/post.json" "$want"
verdict "POST /v1/exports as officer: 201, complete, $want messages" $? "$(cat "$W/post.code") $(excerpt "$W/post.json")"
api off -o "$W/get.json" -w '%{http_code}' "$U/v1/exports/$eid" >"$W/get.code" 2>&1
[ "$(cat "$W/get.code")" = 200 ] && grep -q '"state" *: *"complete"' "$W/get.json"
verdict "GET /v1/exports/{id}" $? "$(cat "$W/get.code") $(excerpt "$W/get.json")"
api off -o "$X/api.tar" -w '%{http_code}' "$U/v1/exports/$eid/download" >"$W/dl.code" 2>&1
mkdir "$X/untar" && tar -xf "$X/api.tar" -C "$X/untar" && chmod -R a+rX "$X/untar" &&
	v export-verify "$X/untar/vellum-export-$eid" >"$W/apiv.out" 2>&1 &&
	check_export "$X/untar/vellum-export-$eid" "$want" >>"$W/apiv.out" 2>&1
verdict "the download is a tar that export-verify passes offline" $? "$(cat "$W/dl.code") $(excerpt "$W/apiv.out")"
api off -o "$X/api.zip" -w '%{http_code}' "$U/v1/exports/$eid/download?format=zip" >"$W/dlz.code" 2>&1
python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; z.extractall(sys.argv[2])' "$X/api.zip" "$X/unzipapi" &&
	chmod -R a+rX "$X/unzipapi" && v export-verify "$X/unzipapi/vellum-export-$eid" >"$W/apiz.out" 2>&1
verdict "the download as ZIP (?format=zip) verifies too" $? "$(cat "$W/dlz.code") $(excerpt "$W/apiz.out")"
code=$(api aud -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d '{"query": ""}' "$U/v1/exports")
[ "$code" = 403 ]
verdict "an auditor may not export (403)" $? "got $code"
code=$(api off -o /dev/null -w '%{http_code}' "$U/v1/exports/999999/download")
[ "$code" = 404 ]
verdict "an unknown export is 404" $? "got $code"
[ "$(sql "select count(*) from audit where target = 'export:$eid' and action in ('export.start', 'export', 'export.view', 'export.download')")" = 5 ]
verdict "the API export is audited: start, export, view, download" $?
serve_stop

v verify >"$W/verify.out" 2>&1
verdict "verify passes after exporting (audit chain intact)" $? "$(excerpt "$W/verify.out")"

