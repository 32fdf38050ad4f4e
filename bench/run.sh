#!/bin/sh
# run.sh - `make bench`: durable `vellum store` of the Enron mailbox against the in-process
# ceiling (hash + compress + encrypt with no I/O, `vellum bench-seal`) measured in the same run.
#
#	sh bench/run.sh            3 runs, each into a fresh data folder; medians are printed
#
# Environment: VELLUM (default bin/vellum, the optimised build), VELLUM_CORPUS (default
# ../shared/corpus), BENCH_RUNS (default 3), BENCH_KEEP=1 keeps the scratch folder.
# The store includes what a real first import pays: the dictionary is trained by `store` on the
# first 1000 messages, and every batch is fdatasync'ed and committed to PostgreSQL.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VELLUM=${VELLUM:-$ROOT/bin/vellum}
case $VELLUM in /*) ;; *) VELLUM=$ROOT/$VELLUM ;; esac
CORPUS=${VELLUM_CORPUS:-$ROOT/../shared/corpus}
ENRON=$(cd "$CORPUS/enron-skilling-j/maildir-skilling-j" && pwd) || exit 1
RUNS=${BENCH_RUNS:-3}

[ -x "$VELLUM" ] || { echo "bench: $VELLUM is missing: run make bin/vellum" >&2; exit 1; }

. "$ROOT/bench/lib.sh"
bench_begin vellum-bench

find "$ENRON" -type f | sort >"$W/files"
nfiles=$(wc -l <"$W/files")
raw=$(tr '\n' '\0' <"$W/files" | xargs -0 stat -c %s | awk '{ s += $1 } END { print s }')
echo "corpus: $ENRON"
echo "        $nfiles files, $raw raw bytes; $RUNS runs, each into a fresh data folder; $(nproc) CPUs"
echo

now_s() { date +%s.%N; }

# One row per run: store_s store_msgs ceiling_msgs_s ceiling_mb_s ceiling_us disk_bytes pg_bytes
: >"$W/rows"
run=0
while [ "$run" -lt "$RUNS" ]; do
	run=$((run + 1))
	D=$W/run$run
	"$VELLUM" --data "$D" init >"$W/init.log" 2>&1 || die "init failed: $(tail -n 5 "$W/init.log")"
	"$VELLUM" --data "$D" db start >"$W/db.log" 2>&1 || die "db start failed: $(tail -n 5 "$W/db.log")"

	# All files on one command line: one process, one writer, group commit as in a bulk import.
	t0=$(now_s)
	(IFS='
'
	set -f
	# shellcheck disable=SC2046
	exec "$VELLUM" --data "$D" store $(cat "$W/files") >"$W/store.out" 2>"$W/store.err") ||
		die "store failed: $(tail -n 5 "$W/store.err")"
	t1=$(now_s)
	stored=$(wc -l <"$W/store.out")
	[ "$stored" -eq "$nfiles" ] || die "store printed $stored lines for $nfiles files"

	sync
	disk=$(du -s --block-size=1 "$D/store" | cut -f1)
	pg=$("$VELLUM" --data "$D" db psql -X -A -t -q -c 'select pg_database_size(current_database())') ||
		die "pg_database_size failed"

	(IFS='
'
	set -f
	# shellcheck disable=SC2046
	exec "$VELLUM" --data "$D" bench-seal $(cat "$W/files") >"$W/seal.out" 2>"$W/seal.err") ||
		die "bench-seal failed: $(tail -n 5 "$W/seal.err")"
	# ceiling: N msgs, X msgs/s, Y MB/s, Z us/msg
	ceil=$(sed -n 's/^ceiling: *\([0-9.]*\) msgs, *\([0-9.]*\) msgs\/s, *\([0-9.]*\) MB\/s, *\([0-9.]*\) us\/msg.*/\2 \3 \4/p' "$W/seal.out")
	[ -n "$ceil" ] || die "no 'ceiling:' line from bench-seal: $(head -n 3 "$W/seal.out")"
	# bench-seal may add "sealed/raw X%": the payload ratio without segment or block overhead.
	sealed=$(sed -n 's/^ceiling:.*sealed\/raw *\([0-9.]*\)%.*/\1/p' "$W/seal.out")

	"$VELLUM" --data "$D" db stop >/dev/null 2>&1
	echo "$t0 $t1 $stored $ceil $disk $pg ${sealed:--1}" |
		awk '{ printf "%.3f %d %s %s %s %d %d %s\n", $2 - $1, $3, $4, $5, $6, $7, $8, $9 }' >>"$W/rows"
	printf 'run %d: store %.1f s, ceiling %s msgs/s\n' "$run" "$(tail -n 1 "$W/rows" | cut -d' ' -f1)" \
		"$(tail -n 1 "$W/rows" | cut -d' ' -f3)"
	chattr -R -i -a "$D" >/dev/null 2>&1 || true
	rm -rf "$D"
	D=
done
echo

# Medians of each figure (per column, over the runs), then the table.
awk -v raw="$raw" -v n="$nfiles" '
	function median(col,   i, j, t, a, k) {
		k = 0
		for (i = 1; i <= NR; i++) a[++k] = v[i, col]
		for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
	}
	{
		# per run: store msgs/s, MB/s, us/msg, disk%, ceiling msgs/s, MB/s, us/msg, pg bytes
		s = $1
		v[NR, 1] = n / s; v[NR, 2] = raw / 1e6 / s; v[NR, 3] = s * 1e6 / n
		v[NR, 4] = 100 * $6 / raw
		v[NR, 5] = $3; v[NR, 6] = $4; v[NR, 7] = $5
		v[NR, 8] = $7; v[NR, 9] = $6
		v[NR, 10] = (n / s) / $3
		v[NR, 12] = (raw / 1e6 / s) / $4
		v[NR, 13] = (s * 1e6 / n) / $5
		v[NR, 11] = $8
	}
	END {
		sm = median(1); smb = median(2); sus = median(3); disk = median(4)
		cm = median(5); cmb = median(6); cus = median(7); pg = median(8); db = median(9)
		# Ratios pair each run with its own ceiling (the machine is shared: its load moves
		# both), then take the median: not the ratio of two medians from different runs.
		ratio = median(10); ratio_mb = median(12); ratio_us = median(13)
		printf "%-24s %14s %14s %12s\n", "median of " NR " runs", "vellum store", "ceiling", "store/ceil"
		printf "%-24s %14s %14s %12s\n", "------------------------", "--------------", "--------------", "------------"
		printf "%-24s %14.0f %14.0f %11.1f%%\n", "messages/s", sm, cm, 100 * ratio
		printf "%-24s %14.2f %14.2f %11.1f%%\n", "MB/s (raw bytes)", smb, cmb, 100 * ratio_mb
		printf "%-24s %14.1f %14.1f %11.1fx\n", "us/message", sus, cus, ratio_us
		sealed = median(11)
		printf "%-24s %13.1f%% %14s %12s\n", "store on disk / raw", disk,
			(sealed >= 0 ? sprintf("%.1f%%", sealed) : "-"), "-"
		printf "\n"
		printf "raw bytes                %d (%d messages, sum of file sizes)\n", raw, n
		printf "store/ceil column        median of the per-run ratios (each run beside its own ceiling)\n"
		if (sealed >= 0)
			printf "ceiling size column      sealed/raw from bench-seal: records only, no segment or block overhead\n"
		printf "DATA/store allocated     %d bytes (du -s --block-size=1, median)\n", db
		printf "PostgreSQL database      %d bytes (pg_database_size, median; not in the disk ratio)\n", pg
		printf "\n"
		printf "aims: store/ceiling >= 33.3%% (%s); store on disk <= 35%% of raw (%s)\n",
			(ratio >= 1 / 3 ? "met" : "NOT met"), (disk <= 35 ? "met" : "NOT met")
	}' "$W/rows"
