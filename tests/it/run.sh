#!/bin/sh
# run.sh - run the integration tests (`make test` calls it after bin/unit-tests).
#
#	sh tests/it/run.sh [tNN-name ...]     default: every tests/it/t*.sh, in order
#
# Each script runs in its own process on its own scratch data folder and private PostgreSQL
# cluster; its verdicts are collected here. The last line is exactly "N passed, M failed";
# the exit status is non-zero when anything failed. VELLUM selects the binary under test
# (default bin/vellum-san), VELLUM_REL the optimised one used for memory measures.
set -u

IT_DIR=$(cd "$(dirname "$0")" && pwd)
IT_RESULTS=$(mktemp /tmp/vellum-it-results.XXXXXX)
export IT_RESULTS
trap 'rm -f "$IT_RESULTS"' EXIT
trap 'exit 130' INT TERM

if [ $# -eq 0 ]; then
	set -- "$IT_DIR"/t[0-9][0-9]-*.sh
fi

start=$(date +%s)
for t in "$@"; do
	case $t in
	*/*) ;;
	*.sh) t=$IT_DIR/$t ;;
	*) t=$IT_DIR/$t.sh ;;
	esac
	name=$(basename "$t" .sh)
	before=$(grep -c '^FAIL ' "$IT_RESULTS")
	t0=$(date +%s)
	echo "=== $name"
	sh "$t"
	rc=$?
	after=$(grep -c '^FAIL ' "$IT_RESULTS")
	# A script that dies without saying why still fails the run.
	if [ "$rc" -ne 0 ] && [ "$after" -eq "$before" ]; then
		echo "FAIL $name exit: the script exited with status $rc" | tee -a "$IT_RESULTS"
	fi
	echo "=== $name: $(($(date +%s) - t0)) s"
done

passed=$(grep -c '^PASS ' "$IT_RESULTS")
failed=$(grep -c '^FAIL ' "$IT_RESULTS")
if [ "$failed" -gt 0 ]; then
	echo
	echo "Failures:"
	grep '^FAIL ' "$IT_RESULTS"
fi
echo "integration tests took $(($(date +%s) - start)) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
