#!/bin/sh
# t78-diskfull - the store's disk fills up while a client sends: the replies become 452 4.3.1
# (or 451), never 250 for a message not stored and never 5xx, serve keeps running, and once
# there is room again (the same mail retried, as an MTA would) every message is accepted. Every
# message that got 250 is in the archive and reads back byte for byte, and verify --all passes
# over the segments that ran out of room. DATA/store is a 2 MB tmpfs here (as root: mount;
# where mounting is not allowed the script says SKIPPED and counts nothing).
. "$(dirname "$0")/lib.sh"

. "$IT_DIR/serve.sh"

serve_begin
it_archive
serve_ports

# ---- DATA/store on a small tmpfs ------------------------------------------------------------------
cp -a "$D/store" "$W/store.orig"
if ! mount -t tmpfs -o size=2m,mode=0700 tmpfs "$D/store" 2>"$W/mount.err"; then
	# Only where mounting is not allowed at all (a container without CAP_SYS_ADMIN): said
	# plainly, nothing counted as passed.
	say "SKIPPED: cannot mount a tmpfs here ($(excerpt "$W/mount.err")); the full-disk test needs root with mount"
	exit 0
fi
# store_umount - put DATA/store back on the disk (also on any exit), serve and the database gone.
store_umount() { mountpoint -q "$D/store" && umount -l "$D/store"; }
trap '_x=$?; serve_stop; store_umount; (exit $_x); it_cleanup' EXIT
cp -a "$W/store.orig/." "$D/store/"
chown --reference="$W/store.orig" "$D/store"
chmod --reference="$W/store.orig" "$D/store"
pass "DATA/store is a 2 MB tmpfs"
serve_start

# 30 messages of 256 KB base64 random text (hardly compressible): about 10 fill the store.
python3 - "$W/big" <<'EOF'
import base64, os, sys
d = sys.argv[1]
os.makedirs(d)
for i in range(30):
    body = base64.encodebytes(os.urandom(190 * 1024)).replace(b"\n", b"\r\n")
    msg = (b"From: filler@t78.test\r\nTo: archive@t78.test\r\nSubject: t78 filler %d\r\n"
           b"Message-ID: <filler-%d@t78.test>\r\n\r\n" % (i, i)) + body
    open("%s/%02d.eml" % (d, i), "wb").write(msg)
EOF
ls "$W/big"/*.eml >"$W/big.list"

# ---- the disk fills up ----------------------------------------------------------------------------
sc send --port "$SMTP_PORT" --from filler@t78.test --rcpt archive@t78.test \
	--files-from "$W/big.list" --log "$W/full.log" 2>"$W/full.sum"
ok=$(awk -F'\t' '$1 == "ok"' "$W/full.log" | wc -l)
temp=$(awk -F'\t' '$1 == "tempfail"' "$W/full.log" | wc -l)
other=$(awk -F'\t' '$1 != "ok" && $1 != "tempfail"' "$W/full.log" | wc -l)
[ "$ok" -ge 1 ] && [ "$temp" -ge 1 ] && [ "$other" -eq 0 ] && [ $((ok + temp)) -eq 30 ]
verdict "the store fills: $ok accepted, then $temp answered 4xx (no 5xx, no dropped connection)" $? \
	"ok=$ok tempfail=$temp other=$other: $(cat "$W/full.sum")"
codes=$(awk -F'\t' '$1 == "tempfail" { print $4 }' "$W/full.log" | sort -u | tr '\n' ' ')
[ "$(awk -F'\t' '$1 == "tempfail" && $4 !~ /^45[12]/' "$W/full.log" | wc -l)" -eq 0 ] &&
	[ "$(awk -F'\t' '$1 == "tempfail" && $4 ~ /^452/' "$W/full.log" | wc -l)" -ge 1 ]
verdict "the refusals are 452 4.3.1 (no space), or 451 for a batch the full disk broke" $? \
	"codes: $codes; $(awk -F'\t' '$1 == "tempfail" { print $NF }' "$W/full.log" | sort -u | head -n 2 | tr '\n' '|')"
kill -0 "$SERVE_PID" 2>/dev/null && grep -q -i 'no space' "$W/serve.log"
verdict "serve keeps running and logs why" $? "$(grep -i -m 2 'space\|error' "$W/serve.log" | tr '\n' '|')"

# ---- room again: the MTA retries ------------------------------------------------------------------
mount -o remount,size=64m "$D/store"
sc send --port "$SMTP_PORT" --from filler@t78.test --rcpt archive@t78.test \
	--files-from "$W/big.list" --log "$W/retry.log" 2>"$W/retry.sum"
verdict "with room again all 30 are accepted" $? "$(cat "$W/retry.sum")"
awk -F'\t' '$1 == "ok" { print $2 }' "$W/full.log" "$W/retry.log" | sort -u >"$W/acked.sha"
sql "select encode(sha256, 'hex') from messages" | sort -u >"$W/have.sha"
[ "$(wc -l <"$W/acked.sha")" -eq 30 ] && [ -z "$(comm -23 "$W/acked.sha" "$W/have.sha")" ]
verdict "every acknowledged message is in the archive (30 distinct)" $? \
	"$(wc -l <"$W/acked.sha") acknowledged, missing: $(comm -23 "$W/acked.sha" "$W/have.sha" | head -n 3 | tr '\n' ' ')"
bad=0
for f in $(awk -F'\t' '$1 == "ok" { print $2 }' "$W/full.log" | head -n 3) \
	$(awk -F'\t' '$1 == "ok" { print $2 }' "$W/retry.log" | tail -n 3); do
	[ "$(v cat "sha256:$f" | sha256sum | cut -c1-64)" = "$f" ] || bad=$((bad + 1))
done
[ "$bad" -eq 0 ]
verdict "vellum cat gives back messages from before and after the full disk byte for byte" $? "$bad differ"
serve_stop_check "serve stops cleanly (no sanitizer report)"
v verify --all >"$W/verify.out" 2>&1
verdict "verify --all passes over the segments that ran out of room" $? "$(tail -n 5 "$W/verify.out" | tr '\n' '|')"
