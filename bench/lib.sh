# lib.sh - what the benchmark scripts share: a scratch folder W, removed on exit after the
# archive cluster of the data folder D (if any) is stopped, and a few small helpers.
#
#	ROOT=...; VELLUM=...; . "$ROOT/bench/lib.sh"; bench_begin NAME [PARENT]
#
# BENCH_KEEP=1 keeps W and prints "bench: kept W" (bench/api.sh reads that line of search.sh).
# A script with more to stop (serve, smtp-sink, Dovecot) redefines bench_stop_more after
# sourcing; it runs first on exit.

bench_stop_more() { :; }

# bench_begin NAME [PARENT] - make W (PARENT/NAME.XXXXXX, /tmp by default) readable by the
# vellum user, which reads the mail put there, and clean it up on exit or interruption.
bench_begin() {
	W=$(mktemp -d "${2:-/tmp}/$1.XXXXXX") || exit 1
	chmod 755 "$W"
	D=
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
}

bench_cleanup() {
	bench_stop_more
	[ -n "$D" ] && [ -d "$D" ] && "$VELLUM" --data "$D" db stop >/dev/null 2>&1
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		echo "bench: kept $W"
	else
		chattr -R -i -a "$W" >/dev/null 2>&1 || true # the segments are immutable
		rm -rf "$W"
	fi
}

die() {
	echo "bench: $*" >&2
	exit 1
}

now_s() { date +%s.%N; }

# median - the median of the numbers on stdin, one a line.
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
