#!/bin/sh
# export.sh - the export benchmark of issue 7: load EXPORT_BENCH_MESSAGES messages, export them
# all as EML and as mbox, and print MB/s and messages/s beside the ceiling: `cat` of the same
# decrypted bytes (the exported EML files, warm in the page cache) into one file.
#
#	sh bench/export.sh                                  100,000 messages
#	EXPORT_BENCH_MESSAGES=3000 sh bench/export.sh       a quick check
#
# Environment: VELLUM (default bin/vellum), VELLUM_CORPUS, EXPORT_BENCH_MESSAGES (default
# 100000), BENCH_KEEP=1. The messages come from bench/gen_mail.py as in bench/search.sh.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VELLUM=${VELLUM:-$ROOT/bin/vellum}
case $VELLUM in /*) ;; *) VELLUM=$ROOT/$VELLUM ;; esac
CORPUS=$(cd "${VELLUM_CORPUS:-$ROOT/../shared/corpus}" && pwd) || exit 1
N=${EXPORT_BENCH_MESSAGES:-100000}

. "$ROOT/bench/lib.sh"
bench_begin vellum-export-bench
X=$W/x
# rate COUNT BYTES T0 T1 - "S s, R msgs/s, M MB/s"
rate() {
	echo "$1 $2 $3 $4" | awk '{ d = $4 - $3; if (d <= 0) d = 1e-9
		printf "%6.1f s %8.0f msgs/s %8.1f MB/s", d, $1 / d, $2 / d / 1e6 }'
}
v() { "$VELLUM" --data "$D" "$@"; }

python3 "$ROOT/bench/gen_mail.py" --seed 1 "$CORPUS" "$N" "$W/bench.mbox" 2>"$W/gen.log" ||
	die "gen_mail failed: $(tail -n 5 "$W/gen.log")"
chmod 644 "$W/bench.mbox"
D=$W/data
v init >"$W/init.log" 2>&1 || die "init: $(tail -n 3 "$W/init.log")"
v db start >/dev/null 2>&1 || die "db start failed"
v import "$W/bench.mbox" >"$W/import.out" 2>&1 || die "import: $(tail -n 3 "$W/import.out")"
rm -f "$W/bench.mbox"
v index --jobs 2 >"$W/index.out" 2>&1 || die "index: $(tail -n 3 "$W/index.out")"
mkdir "$X" && chmod 1777 "$X"
bytes=$(v db psql -X -A -t -q -c "select sum(m.size) from messages m join message_index mi on mi.message_id = m.id")
echo "export of $N messages ($bytes bytes of original mail), $(nproc) CPUs"

sync
t0=$(now_s)
v export --out "$X/eml" -- "" >"$W/eml.out" 2>&1 || die "export eml: $(cat "$W/eml.out")"
t1=$(now_s)
echo "export --format eml   $(rate "$N" "$bytes" "$t0" "$t1")"
t0=$(now_s)
v export --format mbox --out "$X/mbox" -- "" >"$W/mbox.out" 2>&1 || die "export mbox: $(cat "$W/mbox.out")"
t1=$(now_s)
echo "export --format mbox  $(rate "$N" "$bytes" "$t0" "$t1")"
t0=$(now_s)
v export-verify "$X/eml" >"$W/verify.out" 2>&1 || die "export-verify: $(tail -n 3 "$W/verify.out")"
t1=$(now_s)
echo "export-verify (eml)   $(rate "$N" "$bytes" "$t0" "$t1")"
t0=$(now_s)
find "$X/eml/data/messages" -name '*.eml' -print0 | xargs -0 cat >"$W/all.raw"
sync "$W/all.raw"
t1=$(now_s)
echo "ceiling: cat of the same bytes into one file  $(rate "$N" "$bytes" "$t0" "$t1")"
