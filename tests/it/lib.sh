# lib.sh - the integration tests' harness, sourced by every tests/it/tNN-*.sh.
#
# Gives each test script: a scratch folder ($W, under /tmp, traversable by the `vellum` user),
# a data folder ($D) with its private PostgreSQL cluster pinned running (`it_archive`), the
# commands `v` (VELLUM, the sanitized build by default), `vr` (VELLUM_REL, the optimised build,
# for memory and timing measures) and `sql` (one statement through `vellum db psql`, unaligned,
# tuples only), and the verdicts `pass NAME` / `fail NAME DETAIL`.
#
# Environment:
#	VELLUM         binary under test (default bin/vellum-san)
#	VELLUM_REL     non-sanitized binary for RSS/timing (default bin/vellum)
#	VELLUM_CORPUS  the test corpus (default ../shared/corpus beside the project)
#	IT_RESULTS     file collecting verdicts (set by run.sh; a lone script prints its own)
#	IT_KEEP=1      keep the scratch folder of a script for a post-mortem
#	IT_JOBS        parallel `vellum cat` readers in read-backs (default 1: concurrent readers
#	               are tested on their own, by t10)
#	IT_FULL=1      read back every message with the sanitized `vellum cat`, not a sample read
#	               mostly by the optimised build (every message is always decrypted and hashed
#	               by `verify --all`; one sanitized `cat` costs 0.2-0.3 s)
#
# Verdict lines are "PASS <script> <name>" / "FAIL <script> <name>: <detail>".
set -u

IT_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$IT_DIR/../.." && pwd)
VELLUM=${VELLUM:-$ROOT/bin/vellum-san}
VELLUM_REL=${VELLUM_REL:-$ROOT/bin/vellum}
CORPUS=${VELLUM_CORPUS:-$ROOT/../shared/corpus}
CORPUS=$(cd "$CORPUS" && pwd)
ENRON=$CORPUS/enron-skilling-j/maildir-skilling-j
IT_JOBS=${IT_JOBS:-1}
IT_FULL=${IT_FULL:-0}
IT_NAME=$(basename "$0" .sh)
IT_PASSED=0
IT_FAILED=0
IT_OWN_RESULTS=0
W=
D=
IT_DB_STARTED=0

# The sanitizers must make a bad run fail, and must not pollute stdout (cat's bytes).
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

case $VELLUM in /*) ;; *) VELLUM=$ROOT/$VELLUM ;; esac
case $VELLUM_REL in /*) ;; *) VELLUM_REL=$ROOT/$VELLUM_REL ;; esac

say() { printf '%s: %s\n' "$IT_NAME" "$*"; }

# pass NAME / fail NAME DETAIL - record one verdict.
pass() {
	IT_PASSED=$((IT_PASSED + 1))
	printf 'PASS %s %s\n' "$IT_NAME" "$1"
	[ -n "${IT_RESULTS:-}" ] && printf 'PASS %s %s\n' "$IT_NAME" "$1" >>"$IT_RESULTS"
	return 0
}
fail() {
	IT_FAILED=$((IT_FAILED + 1))
	printf 'FAIL %s %s: %s\n' "$IT_NAME" "$1" "${2:-}"
	[ -n "${IT_RESULTS:-}" ] && printf 'FAIL %s %s: %s\n' "$IT_NAME" "$1" "${2:-}" >>"$IT_RESULTS"
	return 0
}
# verdict NAME STATUS DETAIL - pass when STATUS is 0.
verdict() {
	if [ "$2" -eq 0 ]; then pass "$1"; else fail "$1" "${3:-}"; fi
}
# excerpt FILE - the first lines of a file, on one line, for a failure detail.
excerpt() {
	head -c 600 "$1" 2>/dev/null | tr '\n' '|'
}

v() { "$VELLUM" --data "$D" "$@"; }
vr() { "$VELLUM_REL" --data "$D" "$@"; }
# sql STATEMENTS - run through `vellum db psql` as the database owner; prints bare values.
sql() { v db psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"; }

# it_begin - make the scratch folder and arrange the cleanup.
it_begin() {
	for b in "$VELLUM" "$VELLUM_REL"; do
		if [ ! -x "$b" ]; then
			fail setup "$b is missing: run make bin/vellum bin/vellum-san"
			exit 1
		fi
	done
	W=$(mktemp -d /tmp/vellum-it.XXXXXX)
	chmod 755 "$W"
	D=$W/data
	trap 'it_cleanup' EXIT
	trap 'exit 130' INT TERM
}

# it_stop_db - stop the cluster of $D if this script started it.
it_stop_db() {
	if [ "$IT_DB_STARTED" -eq 1 ] && [ -d "$D" ]; then
		v db stop >/dev/null 2>&1 || "$VELLUM_REL" --data "$D" db stop >/dev/null 2>&1 || true
	fi
	IT_DB_STARTED=0
}

# it_wipe DIR - remove a data folder, even with append-only/immutable segments in it.
it_wipe() {
	[ -e "$1" ] || return 0
	chattr -R -i -a "$1" >/dev/null 2>&1 || true
	rm -rf "$1"
}

it_cleanup() {
	rc=$?
	it_stop_db
	if [ "${IT_KEEP:-0}" = 1 ]; then
		say "kept $W"
	elif [ -n "$W" ]; then
		it_wipe "$W"
	fi
	it_summary
	if [ "$IT_FAILED" -gt 0 ]; then exit 1; fi
	exit "$rc"
}

it_summary() {
	printf '%s: %d passed, %d failed\n' "$IT_NAME" "$IT_PASSED" "$IT_FAILED"
}

# it_archive - a fresh data folder at $D, initialised, with the cluster pinned running.
it_archive() {
	it_stop_db
	it_wipe "$D"
	if ! v init >"$W/init.out" 2>"$W/init.err"; then
		fail init "vellum init exited non-zero: $(excerpt "$W/init.err")"
		exit 1
	fi
	it_db_start
}

it_db_start() {
	if ! v db start >"$W/dbstart.out" 2>&1; then
		fail "db start" "$(excerpt "$W/dbstart.out")"
		exit 1
	fi
	IT_DB_STARTED=1
}

# rebuild_same QUERY - drop the database of $D, `rebuild-index`, start it again: 0 when QUERY
# answers the same before and after and rebuild-index succeeded ($W/rebuild.before, .after,
# .out keep the evidence).
rebuild_same() {
	sql "$1" >"$W/rebuild.before"
	it_stop_db
	rm -rf "$D/pg"
	v rebuild-index >"$W/rebuild.out" 2>&1
	_rc=$?
	it_db_start
	sql "$1" >"$W/rebuild.after"
	[ "$_rc" -eq 0 ] && cmp -s "$W/rebuild.before" "$W/rebuild.after"
}
# rebuild_diff - what rebuild_same found different, on one line.
rebuild_diff() { echo "$(excerpt "$W/rebuild.out") $(diff "$W/rebuild.before" "$W/rebuild.after" | head -4 | tr '\n' '|')"; }

# manifest_messages [CORPUS-SUBDIR...] - "abs-path<TAB>bytes<TAB>sha256" of every message-kind
# file in the given corpus folders' MANIFEST.tsv (all of them by default).
manifest_messages() {
	if [ $# -eq 0 ]; then
		set -- $(cd "$CORPUS" && ls -d */ | tr -d /)
	fi
	for d in "$@"; do
		[ -f "$CORPUS/$d/MANIFEST.tsv" ] || continue
		awk -F'\t' -v dir="$CORPUS/$d" 'NR > 1 && $4 == "message" { print dir "/" $1 "\t" $2 "\t" $3 }' \
			"$CORPUS/$d/MANIFEST.tsv"
	done
}

# store_out_ok OUT - the store output lines that are complete and well formed ("<id> <64 hex> <file>").
store_out_ok() {
	grep -E '^[0-9A-Za-z_:.-]+ [0-9a-f]{64} .' "$1" || true
}

# cat_check LIST BAD [BIN] - for each "id sha256" line of LIST (duplicates allowed), run
# `vellum cat id` and compare the SHA-256 of its stdout; writes "id expected got" to BAD for
# each mismatch or failed cat. Runs IT_JOBS readers at once.
cat_check() {
	mkdir -p "$W/cat"
	awk '{ print $1, $2 }' "$1" | sort -u |
		xargs -P "$IT_JOBS" -L 1 sh -c '
			out="$2/cat/$3"
			if "$0" --data "$1" cat "$3" >"$out" 2>"$out.err"; then
				got=$(sha256sum <"$out" | cut -c1-64)
			else
				got="exit=$? stderr=$(head -c 200 "$out.err" | tr "\n" " ")"
			fi
			[ "$got" = "$4" ] || printf "%s %s %s\n" "$3" "$4" "$got"
			rm -f "$out" "$out.err"' "${3:-$VELLUM}" "$D" "$W" >"$2"
}

# read_back LIST BAD - cat_check of every line of LIST with the optimised build (fast), and of
# every 8th line with the sanitized one; IT_FULL=1: every line with the sanitized build.
read_back() {
	if [ "$IT_FULL" = 1 ]; then
		cat_check "$1" "$2" "$VELLUM"
		return
	fi
	cat_check "$1" "$2" "$VELLUM_REL"
	awk 'NR % 8 == 1' "$1" >"$W/read_back.san"
	cat_check "$W/read_back.san" "$W/read_back.bad" "$VELLUM"
	cat "$W/read_back.bad" >>"$2"
}

# db_check LIST BAD - every "id sha256" line of LIST must be a messages row with that evidence
# hash; writes the lines that are not to BAD. One query, so it scales to the whole corpus.
db_check() {
	sql "select id, encode(sha256, 'hex') from messages" >"$W/db_ids"
	awk -F'[ |]' 'FNR == NR { sha[$1] = $2; next }
		!($1 in sha) { print $1, $2, "no messages row"; next }
		sha[$1] != $2 { print $1, $2, "messages.sha256 is " sha[$1] }' "$W/db_ids" "$1" >"$2"
}

# segment_path FILE_NAME - the absolute path of a segment named in segments.file_name.
segment_path() {
	case $1 in
	/*) printf '%s\n' "$1" ;;
	store/*) printf '%s\n' "$D/$1" ;;
	segments/*) printf '%s\n' "$D/store/$1" ;;
	*) printf '%s\n' "$D/store/segments/$1" ;;
	esac
}

# unlock_file PATH - make a segment writable by root again (append-only/immutable/0440).
unlock_file() {
	chattr -i -a "$1" >/dev/null 2>&1 || true
}

# now_s - seconds since the epoch with fractions.
now_s() { date +%s.%N; }
# since T0 - seconds elapsed since a now_s reading, one decimal.
since() { awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.1f", b - a }'; }
