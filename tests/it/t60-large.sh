#!/bin/sh
# t60-large - a 100 MB message round-trips byte for byte, and neither `vellum store` nor
# `vellum cat` needs more than 64 MB of memory for it (peak RSS of the optimised build,
# measured with /usr/bin/time; the sanitized build's shadow memory would inflate it).
. "$(dirname "$0")/lib.sh"

LIMIT_KB=${IT_RSS_LIMIT_KB:-65536}

it_begin
it_archive

if [ ! -x /usr/bin/time ]; then
	fail "GNU time" "/usr/bin/time is missing (package time, deploy/deps.sh installs it)"
	exit 1
fi

# Deterministic (seeded), 100 MiB: a 50 MiB text part that compresses well, then a 50 MiB
# base64 attachment of pseudo-random bytes that does not.
BIG=$W/big.eml
python3 - "$BIG" <<'EOF'
import base64, random, sys

total = 100 * 1024 * 1024
r = random.Random(20240601)
with open(sys.argv[1], "wb") as f:
    f.write(b"From: Large Sender <large@example.org>\n"
            b"To: Archive Test <archive@example.org>\n"
            b"Subject: a 100 MB message for the vellum integration tests\n"
            b"Date: Mon, 03 Jun 2024 10:00:00 +0000\n"
            b"Message-ID: <large-100mb@vellum.test>\n"
            b"MIME-Version: 1.0\n"
            b"Content-Type: multipart/mixed; boundary=\"b1\"\n\n"
            b"--b1\nContent-Type: text/plain; charset=us-ascii\n\n")
    n = 0
    while f.tell() < total // 2:
        n += 1
        f.write(b"Line %09d of the quarterly report: revenue, costs, forecasts and notes.\n" % n)
    f.write(b"\n--b1\nContent-Type: application/octet-stream; name=\"blob.bin\"\n"
            b"Content-Transfer-Encoding: base64\n\n")
    tail = b"\n--b1--\n"
    while f.tell() < total - len(tail) - 77 * 1000:
        f.write(base64.encodebytes(r.randbytes(57 * 1000)))
    while f.tell() < total - len(tail) - 77:
        f.write(base64.encodebytes(r.randbytes(57)))
    f.write(b"x" * (total - len(tail) - f.tell()))
    f.write(tail)
EOF
chmod 644 "$BIG"
size=$(stat -c %s "$BIG")
want=$(sha256sum <"$BIG" | cut -c1-64)
say "generated $size bytes, sha256 $want"

# --- store, measured --------------------------------------------------------------------------
t0=$(now_s)
/usr/bin/time -f %M -o "$W/store.rss" "$VELLUM_REL" --data "$D" store "$BIG" >"$W/store.out" 2>"$W/store.err"
rc=$?
say "store took $(since "$t0") s"
set -- $(cat "$W/store.out")
id=${1:-none}
[ "$rc" -eq 0 ] && [ "${2:-}" = "$want" ]
verdict "store of a 100 MB message prints its sha256" $? "exit $rc: $(excerpt "$W/store.out") $(excerpt "$W/store.err")"
rss=$(tail -n 1 "$W/store.rss")
say "store peak RSS $rss KB (limit $LIMIT_KB KB)"
[ "$rss" -lt "$LIMIT_KB" ]
verdict "store peak RSS under $((LIMIT_KB / 1024)) MB" $? "$rss KB"
raw=$(sql "select raw_size from blobs where sha256 = decode('$want', 'hex')")
[ "$raw" = "$size" ]
verdict "blobs.raw_size is the message's size" $? "raw_size=$raw size=$size"

# --- cat, measured ----------------------------------------------------------------------------
t0=$(now_s)
/usr/bin/time -f %M -o "$W/cat.rss" "$VELLUM_REL" --data "$D" cat "$id" >"$W/back.eml" 2>"$W/cat.err"
rc=$?
say "cat took $(since "$t0") s"
[ "$rc" -eq 0 ] && cmp -s "$BIG" "$W/back.eml"
verdict "cat gives back the 100 MB message byte for byte" $? \
	"exit $rc, $(stat -c %s "$W/back.eml") bytes: $(excerpt "$W/cat.err")"
rss=$(tail -n 1 "$W/cat.rss")
say "cat peak RSS $rss KB (limit $LIMIT_KB KB)"
[ "$rss" -lt "$LIMIT_KB" ]
verdict "cat peak RSS under $((LIMIT_KB / 1024)) MB" $? "$rss KB"
rm -f "$W/back.eml"

# The sanitized build reads it back too, and the whole archive verifies.
v cat "sha256:$want" 2>"$W/cat2.err" | cmp -s "$BIG" -
verdict "cat (sanitized build, by sha256) gives back the same bytes" $? "$(excerpt "$W/cat2.err")"
/usr/bin/time -f %M -o "$W/verify.rss" "$VELLUM_REL" --data "$D" verify --all >"$W/verify.out" 2>&1
rc=$?
verdict "verify --all passes" "$rc" "exit $rc: $(excerpt "$W/verify.out")"
rss=$(tail -n 1 "$W/verify.rss")
say "verify --all peak RSS $rss KB"
[ "$rss" -lt "$LIMIT_KB" ]
verdict "verify --all peak RSS under $((LIMIT_KB / 1024)) MB" $? "$rss KB"
