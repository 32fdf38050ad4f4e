#!/bin/sh
# holds.sh - the issue-6 benchmark: placing a hold on one message in ten of HOLD_BENCH_MESSAGES,
# and a disposal run over the expired tenth that no hold covers.
#
#	sh bench/holds.sh                            1,000,000 messages (hold on 100,000; dispose 100,000)
#	HOLD_BENCH_MESSAGES=100000 sh bench/holds.sh a tenth of it
#	HOLD_BENCH_PROFILE=1 ...                     also log every statement's duration, and sum
#	                                             them by statement (2: with the plans of those
#	                                             over 200 ms, auto_explain, which slows them)
#
# The rows are synthetic, made in SQL (generate_series), but shaped like the indexer's and the
# store's: message i was received in 2025 (ids rise with time, so twelve monthly partitions
# of N/12), from user<k>@dept<i mod 10>.corp.example to one of 5,000 recipients; its blob sits
# in a segment of 1,000 records, its receipt has one envelope recipient, one message in five
# has an attachment, and its message_index row carries the addr_terms the indexer writes
# (f:/t:/r: by address, local part, domain and parent domains, words), a small tsvector and a
# body. Retain-until is received_at + 5 years (so 2030) for the tenth with i mod 10 = 7 and for
# the twentieth with i mod 20 = 3, and + 75 years for the rest.
#
# The hold is `from:@dept3.corp.example` (the tenth with i mod 10 = 3, half of it expired:
# held mail is what disposal must step over). It is placed three times (dept3, dept4, dept5;
# the median is reported) and the dept4 and dept5 holds are released again, so one hold is
# active when `vellum dispose --now 2040-01-01T00:00:00Z` removes the 100,000 messages with
# i mod 10 = 7 (per batch of 500: sweep of every active hold over the candidates, the deletes,
# tombstones, ledger entries and one audit row; then the signed report) and keeps the held
# expired ones. Then two kinds of scheduled run with nothing to do, five times each: at the
# same clock (the expired held mail is still looked at) and at the real one.
#
# The load is fast because it is made without the secondary indexes: their definitions are
# read from the catalogue, they are dropped, the rows inserted (foreign-key triggers off for
# the loading session only: the rows are consistent by construction), and the same
# definitions created again; the script checks that every index, constraint and trigger is
# back as `vellum init` made them before anything is timed, and runs VACUUM ANALYZE and a
# CHECKPOINT first. No segment holds the bytes, so `verify` would fail on this archive; what
# is timed is the database work.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VELLUM=${VELLUM:-$ROOT/bin/vellum}
N=${HOLD_BENCH_MESSAGES:-1000000}
PROFILE=${HOLD_BENCH_PROFILE:-0}
W=$(mktemp -d /tmp/vellum-bench-holds.XXXXXX)
D=$W/data
CLOCK=2040-01-01T00:00:00Z
chmod 755 "$W"
v() { "$VELLUM" --data "$D" "$@"; }
sql() { v db psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"; }
t() { _t0=$(date +%s.%N); "$@" >"$W/last.out"; _t1=$(date +%s.%N); echo "$_t1 - $_t0" | bc; }
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
load1() { cut -d' ' -f1 /proc/loadavg; }
trap 'v db stop >/dev/null 2>&1 || true; [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$W"' EXIT
trap 'exit 1' INT TERM

v init >/dev/null
v db start >/dev/null
sql "UPDATE vellum_clock SET test_clock = true"
[ "$(sql "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")" = t ] ||
	{ echo "holds.sh: the archive's database role must own the cluster" >&2; exit 1; }

# The schema as vellum init made it (with the twelve partitions): compared after the load.
sql "SELECT vellum_ensure_partition(timestamptz '2025-01-15' + m * interval '1 month')
     FROM generate_series(0, 11) m" >/dev/null
SCHEMA_SQL="SELECT x FROM (
  SELECT coalesce('copy of ' || (SELECT inhparent::regclass::text FROM pg_inherits WHERE inhrelid = indexrelid),
                  indexrelid::regclass::text) || ' ' ||
         regexp_replace(pg_get_indexdef(indexrelid), 'INDEX \S+ ON', 'INDEX ON') FROM pg_index
    WHERE indexrelid::regclass::text NOT LIKE 'pg_%'
  UNION ALL SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace
  UNION ALL SELECT tgrelid::regclass::text || ' ' || pg_get_triggerdef(oid) || ' ' || tgenabled::text
    FROM pg_trigger) s(x) ORDER BY x"
sql "$SCHEMA_SQL" >"$W/schema-before.txt"

# The secondary indexes of the loaded tables (not those behind a constraint, not a
# partition's copy of a partitioned index: dropping the parent drops those).
TABLES="'blobs', 'messages', 'receipts', 'envelope_recipients', 'message_index', 'attachments'"
IDX_WHERE="c.relname IN ($TABLES) OR (c.relispartition AND c.relname LIKE 'messages_%')"
sql "SELECT pg_get_indexdef(i.indexrelid) || ';' FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
     WHERE ($IDX_WHERE) AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
       AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)" |
	sed 's/ ON ONLY / ON /' >"$W/indexes.sql" # a partitioned index: made on every partition
sql "SELECT 'DROP INDEX ' || i.indexrelid::regclass || ';' FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
     WHERE ($IDX_WHERE) AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
       AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)" >"$W/drop.sql"

# r(i): received_at of message i, over 2025.
R="(timestamptz '2025-01-01 00:00:00+00' + (i - 1) * (interval '365 days' / $N))"
K="((i / 10) % 2000)"   # the sender's number in its department
T="((i * 7) % 5000)"    # the recipient's number
t0=$(date +%s.%N)
v db psql -X -q -v ON_ERROR_STOP=1 -f "$W/drop.sql" >/dev/null
sql "
SET session_replication_role = replica;
INSERT INTO segments (id, file_name, created_at, sealed_at, size, sha256, records)
  SELECT s, lpad(s::text, 10, '0') || '.vls', timestamptz '2025-01-01', timestamptz '2025-01-01', 64 << 20,
         sha256(int8send(s)), 1000
  FROM generate_series(0, $N / 1000) s;
INSERT INTO blobs (address, sha256, raw_size, record_size, key_id, segment_id, record_offset, stored_at)
  SELECT sha256('a'::bytea || int8send(i)), sha256(int8send(i)), 2000 + (i * 37) % 60000,
         800 + (i * 37) % 20000, 1, i / 1000, 64 + (i % 1000) * 65536, $R
  FROM generate_series(1, $N) i;
INSERT INTO messages (id, received_at, address, sha256, size, hdr_from, hdr_to, hdr_subject,
                      hdr_date, hdr_message_id, indexed_at, retain_until, retention_policy, retention_mode)
  SELECT i, $R, sha256('a'::bytea || int8send(i)), sha256(int8send(i)), 2000 + (i * 37) % 60000,
         'User $K <user' || $K || '@dept' || (i % 10) || '.corp.example>',
         'rcpt' || $T || '@corp.example', 'quarterly report ' || (i % 997), $R - interval '1 minute',
         i || '@bench.corp.example', $R + interval '2 minutes',
         $R + CASE WHEN i % 10 = 7 OR i % 20 = 3 THEN interval '5 years' ELSE interval '75 years' END,
         'bench', 'compliance'
  FROM generate_series(1, $N) i;
INSERT INTO receipts (id, message_id, received_at, source, mail_from, client_addr, helo,
                      segment_id, record_offset, record_index, sha256)
  SELECT i, i, $R, 'smtp', 'user' || $K || '@dept' || (i % 10) || '.corp.example', '192.0.2.1',
         'mx.corp.example', i / 1000, 100 + (i % 1000) / 50 * 65536, i % 50, sha256('r'::bytea || int8send(i))
  FROM generate_series(1, $N) i;
SELECT setval('receipts_id_seq', $N);
INSERT INTO envelope_recipients (receipt_id, position, address)
  SELECT i, 0, 'rcpt' || $T || '@corp.example' FROM generate_series(1, $N) i;
INSERT INTO message_index (message_id, received_at, sent_at, size, msgid, from_addrs, to_addrs,
                           addr_terms, has_attachment, attachment_names, body, tsv)
  SELECT i, $R, $R - interval '1 minute', 2000 + (i * 37) % 60000, i || '@bench.corp.example',
         ARRAY['user' || $K || '@dept' || (i % 10) || '.corp.example'],
         ARRAY['rcpt' || $T || '@corp.example'],
         ARRAY['f:a:user' || $K || '@dept' || (i % 10) || '.corp.example', 'f:l:user' || $K,
               'f:d:dept' || (i % 10) || '.corp.example', 'f:d:corp.example', 'f:d:example',
               'f:w:user' || $K, 't:a:rcpt' || $T || '@corp.example', 't:l:rcpt' || $T,
               't:d:corp.example', 't:d:example', 't:w:rcpt' || $T,
               'r:a:rcpt' || $T || '@corp.example', 'r:d:corp.example', 'r:d:example'],
         i % 5 = 0, CASE WHEN i % 5 = 0 THEN ARRAY['report-' || (i % 997) || '.pdf'] ELSE '{}' END,
         'Quarterly report ' || (i % 997) || ' for department ' || (i % 10) || '. ' || repeat('Figures attached as discussed. ', 8),
         ('quarterly report ' || (i % 997) || ' department ' || (i % 10) || ' figures attached discussed')::tsvector
  FROM generate_series(1, $N) i;
INSERT INTO attachments (message_id, position, filename, content_type, size)
  SELECT i, 0, 'report-' || (i % 997) || '.pdf', 'application/pdf', 10000 + i % 90000
  FROM generate_series(5, $N, 5) i;" >/dev/null
t1=$(date +%s.%N)
v db psql -X -q -v ON_ERROR_STOP=1 -c "SET maintenance_work_mem = '512MB'" -f "$W/indexes.sql" >/dev/null
t2=$(date +%s.%N)
sql "$SCHEMA_SQL" >"$W/schema-after.txt"
diff "$W/schema-before.txt" "$W/schema-after.txt" >&2 ||
	{ echo "holds.sh: the schema after the load is not the one vellum init made" >&2; exit 1; }
sql "VACUUM ANALYZE"
sql "CHECKPOINT"
t3=$(date +%s.%N)
size=$(sql "SELECT pg_size_pretty(pg_database_size(current_database()))")

if [ "$PROFILE" = 2 ]; then
	v db psql -X -q -v ON_ERROR_STOP=1 -c "LOAD 'auto_explain'" \
		-c "ALTER SYSTEM SET session_preload_libraries = 'auto_explain'" \
		-c "ALTER SYSTEM SET auto_explain.log_min_duration = '200ms'" \
		-c "ALTER SYSTEM SET auto_explain.log_analyze = on" \
		-c "ALTER SYSTEM SET auto_explain.log_nested_statements = on" >/dev/null
fi
if [ "$PROFILE" != 0 ]; then
	sql "ALTER SYSTEM SET log_min_duration_statement = 0"
	sql "SELECT pg_reload_conf()" >/dev/null
fi

# Hold placement, three times; the first (dept3) stays active.
for d in 3 4 5; do
	l=$(load1)
	s=$(t v hold place "bench-dept$d" --matter bench --query "from:@dept$d.corp.example")
	c=$(sed -n 's/.*: \([0-9]*\) messages covered/\1/p' "$W/last.out")
	echo "$s $c $l" >>"$W/holds.txt"
done
v hold release bench-dept4 --reason "bench: placed for the median only" >/dev/null
v hold release bench-dept5 --reason "bench: placed for the median only" >/dev/null

l_disp=$(load1)
disp=$(t v dispose --now "$CLOCK")
gone=$(sed -n 's/^disposed \([0-9]*\) messages.*/\1/p' "$W/last.out")
kept=$(sql "SELECT count(*) FROM messages WHERE retain_until < timestamptz '$CLOCK'")
[ "$gone" = $((N / 10)) ] && [ "$kept" = $((N / 20)) ] ||
	{ echo "holds.sh: disposed $gone (want $((N / 10))), kept $kept held expired (want $((N / 20)))" >&2; exit 1; }
batch=$(sql "SELECT count(*), round(percentile_cont(0.5) WITHIN GROUP (ORDER BY d)::numeric, 1),
                    round(percentile_cont(0.9) WITHIN GROUP (ORDER BY d)::numeric, 1), round(max(d)::numeric, 1)
             FROM (SELECT extract(epoch FROM at - lag(at) OVER (ORDER BY seq)) * 1000 AS d
                   FROM audit WHERE action = 'message.dispose') s WHERE d IS NOT NULL")
nbatch=$(($(echo "$batch" | cut -d'|' -f1) + 1))

# Scheduled runs with nothing to do: at the same clock, and at the real one.
for k in 1 2 3 4 5; do
	t v dispose --now "$CLOCK" >>"$W/noop-clock.txt"
	t v dispose >>"$W/noop-real.txt"
done
[ "$(sql "SELECT count(*) FROM disposals")" = "$gone" ] ||
	{ echo "holds.sh: a run with nothing to do disposed something" >&2; exit 1; }

hold_s=$(cut -d' ' -f1 "$W/holds.txt" | median)
hold_n=$(cut -d' ' -f2 "$W/holds.txt" | median)
noop_c=$(median <"$W/noop-clock.txt")
noop_r=$(median <"$W/noop-real.txt")
echo
echo "Machine: $(nproc) CPUs (shared; 1-minute load $(awk '{print $3}' "$W/holds.txt" | head -1) before the"
echo "first hold, $l_disp before disposal), $(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -1)."
printf 'Archive: %s messages over 12 monthly partitions, database %s; loaded in %.0f s,\n' "$N" "$size" "$(echo "$t1 - $t0" | bc)"
printf 'indexes made in %.0f s, VACUUM ANALYZE and CHECKPOINT %.0f s.\n\n' "$(echo "$t2 - $t1" | bc)" "$(echo "$t3 - $t2" | bc)"
echo "| operation | messages | seconds | messages/s |"
echo "|---|---|---|---|"
printf '| hold place (median of 3: %s s) | %s covered | %.2f | %.0f |\n' \
	"$(cut -d' ' -f1 "$W/holds.txt" | xargs printf '%.2f ' | sed 's/ $//; s/ /, /g')" \
	"$hold_n" "$hold_s" "$(echo "$hold_n / $hold_s" | bc -l)"
printf '| dispose (%d batches of 500; %s expired but held, kept) | %s disposed | %.1f | %.0f |\n' \
	"$nbatch" "$kept" "$gone" "$disp" "$(echo "$gone / $disp" | bc -l)"
printf '| dispose, nothing due at the same clock (median of 5) | 0 | %.2f | - |\n' "$noop_c"
printf '| dispose, nothing due at the real clock (median of 5) | 0 | %.2f | - |\n' "$noop_r"
echo
echo "Per disposal batch (from the audit rows' times): median $(echo "$batch" | cut -d'|' -f2) ms," \
	"p90 $(echo "$batch" | cut -d'|' -f3) ms, max $(echo "$batch" | cut -d'|' -f4) ms."

if [ "$PROFILE" != 0 ]; then
	# Statement durations of the whole run, summed by statement (parameters stripped).
	log=$D/run/postgresql.log
	echo
	echo "Profile ($log): total ms, calls, statement"
	sed -n 's/.*duration: \([0-9.]*\) ms  \(statement\|execute [^:]*\): \(.*\)/\1\t\3/p' "$log" |
		awk -F'\t' '{s[substr($2, 1, 150)] += $1; n[substr($2, 1, 150)]++}
			END {for (k in s) printf "%10.0f %6d  %s\n", s[k], n[k], k}' | sort -rn | head -25
	cp "$log" /tmp/vellum-bench-holds-profile.log
	echo "(log kept as /tmp/vellum-bench-holds-profile.log)"
fi
