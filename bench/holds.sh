#!/bin/sh
# holds.sh - the issue-6 benchmark: placing a hold on one message in ten of HOLD_BENCH_MESSAGES,
# and a disposal run over the expired tenth that no hold covers.
#
#	sh bench/holds.sh                            1,000,000 messages (hold on 100,000; dispose 100,000)
#	HOLD_BENCH_MESSAGES=100000 sh bench/holds.sh a tenth of it
#
# The rows are synthetic, made in SQL (generate_series): message, blob, receipt and index rows
# whose from: address is user<i mod 10>@corp.example, with retain-until in 2030 for the tenth
# with i mod 10 = 7 and in 2100 for the rest. No segment holds their bytes, so `verify` would
# fail on this archive; what is timed is the database work of `vellum hold place` (the query
# compiled, coverage inserted) and of `vellum dispose --now 2040-01-01T00:00:00Z` (per batch of
# 500: sweep of every active hold over the candidates, the deletes, tombstones, ledger entries
# and one audit row), plus the signed report.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VELLUM=${VELLUM:-$ROOT/bin/vellum}
N=${HOLD_BENCH_MESSAGES:-1000000}
W=$(mktemp -d /tmp/vellum-bench-holds.XXXXXX)
D=$W/data
chmod 755 "$W"
v() { "$VELLUM" --data "$D" "$@"; }
sql() { v db psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"; }
t() { _t0=$(date +%s.%N); "$@" >"$W/last.out"; _t1=$(date +%s.%N); echo "$_t1 - $_t0" | bc; }
trap 'v db stop >/dev/null 2>&1 || true; [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$W"' EXIT
trap 'exit 1' INT TERM

v init >/dev/null
v db start >/dev/null
sql "UPDATE vellum_clock SET test_clock = true"
load=$(t sql "
SELECT vellum_ensure_partition(now());
INSERT INTO segments (id, file_name, created_at) VALUES (900000, 'bench', now());
INSERT INTO blobs (address, sha256, raw_size, record_size, key_id, segment_id, record_offset, stored_at)
  SELECT sha256(int8send(i)), sha256(int8send(i)), 100, 100, 1, 900000, i, now() FROM generate_series(1, $N) i;
INSERT INTO messages (id, received_at, address, sha256, size, hdr_from, hdr_subject, indexed_at, retain_until, retention_policy, retention_mode)
  SELECT i, now(), sha256(int8send(i)), sha256(int8send(i)), 100, 'user' || (i % 10) || '@corp.example', 'bench ' || i, now(),
         CASE WHEN i % 10 = 7 THEN timestamptz '2030-01-01' ELSE timestamptz '2100-01-01' END, 'bench', 'compliance'
  FROM generate_series(1, $N) i;
INSERT INTO receipts (message_id, received_at, source, segment_id, record_offset, record_index, sha256)
  SELECT i, now(), 'import', 900000, i, 0, sha256('r'::bytea || int8send(i)) FROM generate_series(1, $N) i;
INSERT INTO message_index (message_id, received_at, sent_at, size, addr_terms)
  SELECT i, now(), now(), 100, ARRAY['f:a:user' || (i % 10) || '@corp.example', 'f:d:corp.example']
  FROM generate_series(1, $N) i;
ANALYZE;")
held=$(t v hold place bench --matter bench --query "from:user3@corp.example")
covered=$(sed -n 's/.*: \([0-9]*\) messages covered/\1/p' "$W/last.out")
disp=$(t v dispose --now 2040-01-01T00:00:00Z)
gone=$(sed -n 's/^disposed \([0-9]*\) messages.*/\1/p' "$W/last.out")
printf 'messages %s (loaded in %.1f s)\n' "$N" "$load"
printf 'hold place: %s messages covered in %.2f s\n' "$covered" "$held"
printf 'dispose: %s messages disposed in %.2f s (%.0f messages/s)\n' "$gone" "$disp" "$(echo "$gone / $disp" | bc -l)"
