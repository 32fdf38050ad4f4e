#!/bin/sh
# t70-smtp-corpus - every message file of every corpus MANIFEST.tsv goes through `vellum serve`
# over SMTP with the raw client tests/it/smtpclient.py (exact bytes: BDAT, and DATA with
# dot-stuffing for a subset) and comes back byte for byte: every reply is 250, the set of
# messages.sha256 equals the set of manifest SHA-256s, and `vellum cat sha256:HEX` of a sample
# equals the files. The same corpus again over LMTP (Unix socket, 3 recipients, a reply each)
# adds receipts, not messages. verify --all passes, serve stops cleanly on SIGTERM.
. "$(dirname "$0")/lib.sh"

. "$IT_DIR/serve.sh"

serve_begin
it_archive
serve_ports
serve_start

manifest_messages >"$W/manifest"
total=$(wc -l <"$W/manifest")
cut -f3 "$W/manifest" | sort -u >"$W/want.sha"
distinct=$(wc -l <"$W/want.sha")
say "corpus: $total message files, $distinct distinct"

# check_log LOG N NAME - N lines, all ok, and each sha256 the client sent is the manifest's.
check_log() {
	n=$(wc -l <"$1")
	bad=$(awk -F'\t' '$1 != "ok"' "$1" | wc -l)
	[ "$n" -eq "$2" ] && [ "$bad" -eq 0 ]
	verdict "$3: every message gets 250" $? \
		"$n of $2 sent, $bad not ok: $(awk -F'\t' '$1 != "ok" { print $9 ": " $4 " " $10 }' "$1" | head -n 3 | tr '\n' '|')"
	awk -F'\t' 'FNR == NR { sha[$1] = $3; next } sha[$9] != $2 { print $9 }' "$W/manifest" "$1" >"$W/clientsha.bad"
	[ ! -s "$W/clientsha.bad" ]
	verdict "$3: the client sent the manifest's bytes" $? "$(head -n 3 "$W/clientsha.bad" | tr '\n' ' ')"
}

# ---- DATA with dot-stuffing: every non-Enron file and every 10th Enron file ---------------------
awk -F'\t' '$1 !~ /enron-skilling-j/ || NR % 10 == 0' "$W/manifest" >"$W/data.list"
ndata=$(wc -l <"$W/data.list")
t0=$(now_s)
sc send --port "$SMTP_PORT" --mode data --conns 4 --files-from "$W/data.list" --log "$W/data.log" \
	--from corpus@vellum.test --rcpt archive@vellum.test 2>"$W/data.sum"
say "DATA subset: $(cat "$W/data.sum") ($(since "$t0") s)"
check_log "$W/data.log" "$ndata" "SMTP DATA subset"
viadata=$(awk -F'\t' '$8 == "data"' "$W/data.log" | wc -l)
dotted=$(awk -F'\t' '$8 == "data" { print $9 }' "$W/data.log" | xargs grep -l -a '^\.' 2>/dev/null | wc -l)
say "DATA subset: $viadata by DATA ($dotted with lines starting with '.'), $((ndata - viadata)) by BDAT (no final line ending)"
[ "$viadata" -gt 0 ] && [ "$dotted" -gt 0 ]
verdict "SMTP DATA subset includes dot-stuffed messages" $? "by DATA $viadata, dotted $dotted"

# ---- BDAT: everything; the non-Enron files in 777-byte chunks (CRLFs split across chunks) -------
grep -v 'enron-skilling-j' "$W/manifest" >"$W/odd.list"
grep 'enron-skilling-j' "$W/manifest" >"$W/enron.list"
t0=$(now_s)
sc send --port "$SMTP_PORT" --mode bdat --conns 8 --files-from "$W/enron.list" --log "$W/bdat.log" \
	--from corpus@vellum.test --rcpt archive@vellum.test --rcpt second@vellum.test 2>"$W/bdat.sum"
say "BDAT Enron: $(cat "$W/bdat.sum") ($(since "$t0") s)"
t0=$(now_s)
sc send --port "$SMTP_PORT" --mode bdat --chunk 777 --conns 4 --files-from "$W/odd.list" --log "$W/bdat.log" \
	--from corpus@vellum.test --rcpt archive@vellum.test 2>"$W/bdat2.sum"
say "BDAT others, 777-byte chunks: $(cat "$W/bdat2.sum") ($(since "$t0") s)"
check_log "$W/bdat.log" "$total" "SMTP BDAT corpus"

# ---- the archive holds exactly the corpus -----------------------------------------------------
sql "select encode(sha256, 'hex') from messages" | sort -u >"$W/have.sha"
nmsgs=$(sql "select count(*) from messages")
comm -3 "$W/want.sha" "$W/have.sha" >"$W/sha.diff"
[ ! -s "$W/sha.diff" ] && [ "$nmsgs" -eq "$distinct" ]
verdict "the set of messages.sha256 equals the set of manifest sha256s" $? \
	"$nmsgs messages for $distinct distinct files; differences (left: missing, right: extra): $(head -n 4 "$W/sha.diff" | tr '\n\t' '| ')"
nrcpt=$(sql "select count(*) from receipts r where r.source = 'smtp' and r.mail_from = 'corpus@vellum.test'")
[ "$nrcpt" -eq $((total + ndata)) ]
verdict "one smtp receipt per message sent" $? "$nrcpt receipts for $((total + ndata)) messages sent"

# A sample of 30 read back with `vellum cat sha256:HEX`: the 10 largest, 10 odd ones (NUL,
# 8-bit or bare CR bytes, no final newline), 10 spread over the rest. Every third with the
# sanitized build, the others with the optimised one (a sanitized cat costs ~0.5 s).
python3 - "$W/manifest" >"$W/sample" <<'EOF'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
pick = sorted(rows, key=lambda r: -int(r[1]))[:10]
odd = []
for r in rows:
	if "enron-skilling-j" in r[0]:
		continue
	b = open(r[0], "rb").read()
	if not b.endswith(b"\n") or b"\0" in b or max(b, default=0) >= 0x80 or b"\r" in b.replace(b"\r\n", b""):
		odd.append(r)
pick += odd[::max(1, len(odd) // 10)][:10]
pick += rows[7::480]
seen, out = set(), []
for r in pick:
	if r[0] not in seen:
		seen.add(r[0])
		out.append(r)
for r in out[:30]:
	print("\t".join(r))
EOF
: >"$W/cat.bad"
k=0
while IFS='	' read -r f _ sha; do
	k=$((k + 1))
	bin=$VELLUM_REL
	[ $((k % 3)) -eq 0 ] && bin=$VELLUM
	if "$bin" --data "$D" cat "sha256:$sha" >"$W/cat.out" 2>"$W/cat.err" && cmp -s "$f" "$W/cat.out"; then
		:
	else
		echo "$f $(head -c 200 "$W/cat.err")" >>"$W/cat.bad"
	fi
done <"$W/sample"
nsample=$(wc -l <"$W/sample")
[ "$nsample" -eq 30 ] && [ ! -s "$W/cat.bad" ]
verdict "vellum cat sha256:HEX gives back a sample of $nsample files byte for byte" $? "$(head -n 3 "$W/cat.bad" | tr '\n' '|')"

# ---- the same corpus over LMTP (Unix socket, 3 recipients): receipts, no new messages ----------
t0=$(now_s)
sc send --unix "$LMTP_SOCK" --lmtp --mode bdat --conns 8 --files-from "$W/manifest" --log "$W/lmtp.log" \
	--from lmtp@vellum.test --rcpt a@vellum.test --rcpt b@vellum.test --rcpt c@vellum.test 2>"$W/lmtp.sum"
say "LMTP corpus: $(cat "$W/lmtp.sum") ($(since "$t0") s)"
check_log "$W/lmtp.log" "$total" "LMTP corpus"
three=$(awk -F'\t' '$4 == "250,250,250"' "$W/lmtp.log" | wc -l)
[ "$three" -eq "$total" ]
verdict "LMTP gives one reply per recipient (3) for every message" $? "$three of $total had 250,250,250"
nmsgs2=$(sql "select count(*) from messages")
nl=$(sql "select count(*) from receipts where source = 'lmtp' and mail_from = 'lmtp@vellum.test'")
nr=$(sql "select count(*) from envelope_recipients e join receipts r on r.id = e.receipt_id
	where r.source = 'lmtp' and e.role = 'rcpt'")
[ "$nmsgs2" -eq "$nmsgs" ] && [ "$nl" -eq "$total" ] && [ "$nr" -eq $((3 * total)) ]
verdict "LMTP adds receipts (with 3 recipients each), not messages" $? \
	"messages $nmsgs -> $nmsgs2, lmtp receipts $nl (want $total), rcpt rows $nr (want $((3 * total)))"

serve_stop_check "serve stops cleanly on SIGTERM (no sanitizer report)"

t0=$(now_s)
v verify --all >"$W/verify.out" 2>&1
rc=$?
say "verify --all in $(since "$t0") s"
verdict "verify --all passes" "$rc" "exit $rc: $(tail -n 5 "$W/verify.out" | tr '\n' '|')"
