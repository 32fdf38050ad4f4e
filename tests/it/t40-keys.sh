#!/bin/sh
# t40-keys - a missing, wrong or unprotected key gives a clear error naming the message and
# never partial output; after `keys rotate` new records use the new key and old ones stay
# readable.
. "$(dirname "$0")/lib.sh"

it_begin
it_archive

KR=$D/keys/keyring
mode=$(stat -c %a "$KR" 2>/dev/null)
[ "$mode" = 600 ]
verdict "init writes the keyring with mode 0600" $? "mode ${mode:-missing}"

find "$ENRON" -type f | sort | awk 'NR % 50 == 7' | head -n 20 >"$W/files1"
xargs -d '\n' "$VELLUM" --data "$D" store <"$W/files1" >"$W/s1.out" 2>"$W/s1.err"
verdict "store 20 messages" $? "$(excerpt "$W/s1.err")"
set -- $(sed -n 5p "$W/s1.out")
id=$1 sha=$2 file=$3

# expect_refused CASE WORDS - `cat $id` must fail, print nothing on stdout, name the message,
# and say something about the key (one of the extended regexps in WORDS).
expect_refused() {
	v cat "$id" >"$W/cat.out" 2>"$W/cat.err"
	rc=$?
	[ "$rc" -ne 0 ] && [ ! -s "$W/cat.out" ]
	verdict "$1: cat fails with no bytes on stdout" $? "exit $rc, $(wc -c <"$W/cat.out") bytes"
	grep -qw -- "$id" "$W/cat.err" && grep -Eqi -- "$2" "$W/cat.err"
	verdict "$1: the error names the message and the key" $? "stderr: $(excerpt "$W/cat.err")"
}

# --- Missing keyring ------------------------------------------------------------------------
mv "$KR" "$W/keyring.saved"
expect_refused "missing keyring" "key"
mv "$W/keyring.saved" "$KR"
v cat "$id" | sha256sum | grep -q "^$sha "
verdict "keyring restored: cat works again" $? "cat $id"

# --- A keyring with mode 0644 is refused ------------------------------------------------------
chmod 0644 "$KR"
expect_refused "keyring mode 0644" "mode|perm|0644|644"
v store "$CORPUS/python-test-email/msg_01.txt" >"$W/s644.out" 2>"$W/s644.err"
rc=$?
[ "$rc" -ne 0 ] && [ ! -s "$W/s644.out" ]
verdict "keyring mode 0644: store refuses too" $? "exit $rc: $(excerpt "$W/s644.out")"
chmod 0600 "$KR"

# --- Somebody else's keyring (the wrong key) --------------------------------------------------
O=$W/other
mkdir -p "$O/keys" && chmod 755 "$O" && chmod 700 "$O/keys"
cp "$D/vellum.conf" "$O/vellum.conf"
"$VELLUM" --data "$O" keys generate >"$W/gen.out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && [ -f "$O/keys/keyring" ]; then
	cp -p "$KR" "$W/keyring.saved"
	cat "$O/keys/keyring" >"$KR" # keeps the owner and the 0600 mode of the right one
	expect_refused "wrong keyring" "key|authenticat|decrypt"
	cat "$W/keyring.saved" >"$KR"
	v cat "$id" | sha256sum | grep -q "^$sha "
	verdict "right keyring back: cat works again" $? "cat $id"
else
	fail "keys generate in a second folder" "exit $rc: $(excerpt "$W/gen.out")"
fi

# --- Rotation ---------------------------------------------------------------------------------
v keys rotate >"$W/rot.out" 2>&1
verdict "keys rotate exits 0" $? "$(excerpt "$W/rot.out")"
v keys list >"$W/list.out" 2>&1
nkeys=$(grep -Ec '^ *[0-9]+ ' "$W/list.out")
[ "$nkeys" -eq 2 ]
verdict "keys list shows 2 keys after one rotation" $? "$(excerpt "$W/list.out")"
mode=$(stat -c %a "$KR")
[ "$mode" = 600 ]
verdict "the rotated keyring keeps mode 0600" $? "mode $mode"

find "$ENRON" -type f | sort | awk 'NR % 50 == 9' | head -n 20 >"$W/files2"
xargs -d '\n' "$VELLUM" --data "$D" store <"$W/files2" >"$W/s2.out" 2>"$W/s2.err"
verdict "store 20 more messages after the rotation" $? "$(excerpt "$W/s2.err")"
nk=$(sql "select count(distinct key_id) from blobs")
[ "$nk" -eq 2 ]
verdict "new records use the new key, old ones keep the old" $? "$nk distinct key ids in blobs"
cat "$W/s1.out" "$W/s2.out" >"$W/all.out"
cat_check "$W/all.out" "$W/cat.bad"
[ ! -s "$W/cat.bad" ]
verdict "messages under the old and the new key both read back" $? "$(excerpt "$W/cat.bad")"
v verify --all >"$W/verify.out" 2>&1
rc=$?
verdict "verify --all passes with two keys" "$rc" "exit $rc: $(tail -n 5 "$W/verify.out" | tr '\n' '|')"
