#!/bin/sh
# t20-tamper - every change an attacker (or a failing disk) makes to the store, the index or
# the ledger is found by `vellum verify --all`, which names it and exits non-zero. Each case
# starts from the same clean archive of 50 Enron messages (a copy of a template data folder at
# the same path, so the cluster's socket path does not change).
. "$(dirname "$0")/lib.sh"

it_begin
it_archive

find "$ENRON" -type f | sort | head -n 50 >"$W/files"
xargs -d '\n' "$VELLUM" --data "$D" store <"$W/files" >"$W/store.out" 2>"$W/store.err"
rc=$?
if [ "$rc" -ne 0 ] || [ "$(wc -l <"$W/store.out")" -ne 50 ]; then
	fail "store 50 messages" "exit $rc: $(excerpt "$W/store.err")"
	exit 1
fi

# The clean archive passes, with and without --all.
v verify >"$W/v.out" 2>&1
rc=$?
verdict "clean archive: verify exits 0" "$rc" "exit $rc: $(excerpt "$W/v.out")"
v verify --all >"$W/v.out" 2>&1
rc=$?
verdict "clean archive: verify --all exits 0" "$rc" "exit $rc: $(excerpt "$W/v.out")"

it_stop_db
cp -a "$D" "$W/template"

# fresh - put the clean archive back at $D and start its cluster.
fresh() {
	it_stop_db
	it_wipe "$D"
	cp -a "$W/template" "$D"
	it_db_start
}

# victim N - facts about the Nth message (by record offset): sets vid, vaddr, vsha, vseg
# (segment path), vsegname, vsegid, voff, vsize.
victim() {
	set -- $(sql "select m.id, encode(b.address, 'hex'), encode(b.sha256, 'hex'), s.file_name,
			b.record_offset, b.record_size, s.id
		from blobs b join segments s on s.id = b.segment_id join messages m on m.address = b.address
		order by b.segment_id, b.record_offset limit 1 offset $1" | tr '|' ' ')
	vid=$1 vaddr=$2 vsha=$3 vsegname=$4 voff=$5 vsize=$6 vsegid=$7
	vseg=$(segment_path "$vsegname")
}

# expect_detected CASE REGEX... - verify --all must exit non-zero and its output must match
# one of the extended regexps, each anchored at word boundaries: "message 12", the address,
# "segment 1", "entry 50"... (so a count in the summary line cannot pass for a name).
expect_detected() {
	name=$1
	shift
	v verify --all >"$W/v.out" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ]; then
		fail "$name: verify --all exits non-zero" "exit 0: $(excerpt "$W/v.out")"
		return
	fi
	pass "$name: verify --all exits non-zero"
	grep -iE 'problem|mismatch|missing|error|fail' "$W/v.out" | head -n 3 | sed "s/^/  | /"
	for tok in "$@"; do
		if grep -Eq -- "(^|[^0-9A-Za-z])$tok([^0-9A-Za-z]|\$)" "$W/v.out"; then
			pass "$name: verify names it"
			return
		fi
	done
	fail "$name: verify names it" "none of [$*] in: $(excerpt "$W/v.out")"
}

# flip_byte FILE OFFSET - invert one byte in place.
flip_byte() {
	old=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	new=$((255 - old))
	# shellcheck disable=SC2059
	printf "\\$(printf '%03o' "$new")" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# --- One flipped byte in the middle of a message record -------------------------------------
fresh
victim 20
unlock_file "$vseg"
pos=$((voff + (vsize > 200 ? 100 : vsize / 2)))
before=$(sha256sum <"$vseg")
flip_byte "$vseg" "$pos"
if [ "$(sha256sum <"$vseg")" = "$before" ]; then
	fail "flipped byte" "could not change $vseg at $pos"
fi
expect_detected "flipped byte" "message $vid" "$vaddr" "$vsha"
v cat "$vid" >"$W/cat.out" 2>"$W/cat.err"
rc=$?
[ "$rc" -ne 0 ] && [ ! -s "$W/cat.out" ] && grep -qw -- "$vid" "$W/cat.err"
verdict "flipped byte: cat fails naming the message, no bytes on stdout" $? \
	"exit $rc, $(wc -c <"$W/cat.out") bytes out, stderr: $(excerpt "$W/cat.err")"
# Its neighbours are untouched and still readable.
other=$(sed -n 3p "$W/store.out")
set -- $other
v cat "$1" | sha256sum | grep -q "^$2 "
verdict "flipped byte: other messages still readable" $? "cat $1"

# --- A truncated segment --------------------------------------------------------------------
fresh
victim 30
unlock_file "$vseg"
truncate -s $((voff + 10)) "$vseg"
expect_detected "truncated segment" "segment $vsegid" "$(basename "$vseg")"

# --- A deleted segment ----------------------------------------------------------------------
fresh
victim 0
unlock_file "$vseg"
rm -f "$vseg"
expect_detected "deleted segment" "segment $vsegid" "$(basename "$vseg")"

# --- A deleted messages row -----------------------------------------------------------------
fresh
victim 10
sql "SET session_replication_role = replica; DELETE FROM messages WHERE id = $vid" >/dev/null
[ "$(sql "select count(*) from messages where id = $vid")" = 0 ] || fail "deleted message row" "the DELETE did not happen"
expect_detected "deleted message row" "message $vid" "$vaddr" "$vsha"

# --- A deleted blobs row --------------------------------------------------------------------
fresh
victim 12
sql "SET session_replication_role = replica; DELETE FROM blobs WHERE address = decode('$vaddr', 'hex')" >/dev/null
expect_detected "deleted blob row" "message $vid" "$vaddr" "$vsha"

# --- An edited evidence hash, in blobs and in messages --------------------------------------
fresh
victim 15
sql "UPDATE blobs SET sha256 = sha256(sha256) WHERE address = decode('$vaddr', 'hex')" >/dev/null
expect_detected "edited blobs.sha256" "message $vid" "$vaddr" "$vsha"

fresh
victim 16
sql "UPDATE messages SET sha256 = sha256(sha256) WHERE id = $vid" >/dev/null
expect_detected "edited messages.sha256" "message $vid" "$vaddr" "$vsha"

# --- The ledger: append-only, and any removed or changed entry is found ---------------------
fresh
if sql "DELETE FROM ledger WHERE seq = 1" >"$W/trig.out" 2>&1; then
	fail "ledger refuses DELETE" "a plain DELETE succeeded"
else
	pass "ledger refuses DELETE"
fi
v cat "$(head -n 1 "$W/store.out" | cut -d' ' -f1)" >/dev/null 2>&1 # reading evidence is audited
if [ "$(sql 'select count(*) from audit')" -eq 0 ]; then
	say "audit is empty after a cat: its UPDATE trigger is not exercised"
elif sql "UPDATE audit SET actor = 'x'" >"$W/trig.out" 2>&1; then
	fail "audit refuses UPDATE" "a plain UPDATE succeeded"
else
	pass "audit refuses UPDATE"
fi

maxseq=$(sql 'select max(seq) from ledger')
mid=$((maxseq / 2))
sql "SET session_replication_role = replica; DELETE FROM ledger WHERE seq = $mid" >/dev/null
[ "$(sql "select count(*) from ledger where seq = $mid")" = 0 ] || fail "deleted ledger entry" "the DELETE did not happen"
expect_detected "deleted ledger entry $mid of $maxseq" "(entry|seq|sequence) $mid"

# The last entry: nothing after it can show a gap, so verify must see that the index, or the
# segments' checkpoints, hold more than the chain; naming the entry or what it covered will do.
fresh
lastid=$(sql 'select max(id) from messages')
sql "SET session_replication_role = replica; DELETE FROM ledger WHERE seq = $maxseq" >/dev/null
expect_detected "deleted last ledger entry $maxseq" "(entry|seq|sequence) $maxseq" "(message|receipt) $lastid"

fresh
sql "ALTER TABLE ledger DISABLE TRIGGER USER;
	UPDATE ledger SET subject = sha256(subject) WHERE seq = $mid;
	ALTER TABLE ledger ENABLE TRIGGER USER" >/dev/null
expect_detected "edited ledger entry $mid" "(entry|seq|sequence) $mid"

# --- The template itself was never touched: it still passes ---------------------------------
fresh
v verify --all >"$W/v.out" 2>&1
rc=$?
verdict "a fresh copy of the clean archive passes verify --all" "$rc" "exit $rc: $(excerpt "$W/v.out")"

# --- A sealed segment: its hash is in the ledger, so even plain verify (no decryption) sees
# a changed byte. segment_max_mb = 1 and six 400 KB messages that barely compress.
it_archive
sed 's/^segment_max_mb *=.*/segment_max_mb = 1/' "$D/vellum.conf" >"$W/conf"
cat "$W/conf" >"$D/vellum.conf" # in place: keeps the file's owner and mode
mkdir -p "$W/big"
python3 - "$W/big" <<'PY'
import base64, random, sys
r = random.Random(7)
for i in range(6):
    with open("%s/m%d.eml" % (sys.argv[1], i), "wb") as f:
        f.write(b"From: a@example.org\nTo: b@example.org\nSubject: part %d\n\n" % i)
        f.write(base64.encodebytes(r.randbytes(300 * 1024)))
PY
chmod 644 "$W/big"/*.eml
v store "$W/big"/*.eml >"$W/big.out" 2>"$W/big.err"
verdict "sealed segment: store of six 400 KB messages" $? "$(excerpt "$W/big.err")"
set -- $(sql "select id, file_name from segments where sealed_at is not null order by id limit 1" | tr '|' ' ')
segid=${1:-} segname=${2:-}
if [ -z "$segid" ]; then
	fail "sealed segment: a 1 MB segment is sealed when full" "no sealed segment: $(sql 'select id, size, sealed_at from segments' | tr '\n' ' ')"
else
	pass "sealed segment: a 1 MB segment is sealed when full"
	nseg=$(sql "select count(*) from ledger where kind = 'segment'")
	[ "$nseg" -ge 1 ]
	verdict "sealed segment: the seal is in the ledger" $? "$nseg segment entries"
	seg=$(segment_path "$segname")
	mode=$(stat -c %a "$seg")
	case $mode in *[2367]?? | ?[2367]? | ??[2367]) false ;; *) true ;; esac
	verdict "sealed segment: the file is read-only" $? "mode $mode"
	v verify >"$W/v.out" 2>&1
	verdict "sealed segment: verify passes before the change" $? "$(excerpt "$W/v.out")"
	unlock_file "$seg"
	flip_byte "$seg" $(($(stat -c %s "$seg") / 2))
	v verify >"$W/v.out" 2>&1
	rc=$?
	[ "$rc" -ne 0 ] && grep -Eq "(^|[^0-9A-Za-z])(segment $segid|$(basename "$seg"))([^0-9A-Za-z]|\$)" "$W/v.out"
	verdict "sealed segment: plain verify finds a flipped byte and names the segment" $? \
		"exit $rc: $(excerpt "$W/v.out")"
fi
