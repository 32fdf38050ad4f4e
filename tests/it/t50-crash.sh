#!/bin/sh
# t50-crash - kill -9 in the middle of `vellum store` of the Enron mailbox, a few times at
# different moments: the next store recovers (a torn tail is ignored), every message that a
# killed store had reported as stored is readable with its sha256, and verify --all passes.
. "$(dirname "$0")/lib.sh"

it_begin
it_archive

find "$ENRON" -type f | sort >"$W/enron"
n=$(wc -l <"$W/enron")
[ "$n" -eq 4139 ] || say "expected 4139 Enron files, found $n"
# Small files stored after each crash: always new content, so the writer must append.
mkdir "$W/after"

# A kill moment per round: a fixed delay in seconds ("1.0": anywhere, maybe before the first
# commit, maybe during dictionary training), or "+S": S seconds after the store reported its
# first message (so the kill lands between commits, with reported messages to check).
KILLS=${IT_CRASH_KILLS:-"1.0 +0.2 +0.7 2.0"}
round=0
killed=0
for delay in $KILLS; do
	round=$((round + 1))
	# Each round hands the mailbox in a different order, so the kill lands on new content.
	case $round in
	1) cp "$W/enron" "$W/order" ;;
	2) sort -r "$W/enron" >"$W/order" ;;
	*) awk -v r="$round" 'NR % r == 0' "$W/enron" >"$W/order"; awk -v r="$round" 'NR % r != 0' "$W/enron" >>"$W/order" ;;
	esac
	# One process, all files on its command line, so $! is the writer itself.
	# shellcheck disable=SC2046
	(IFS='
'
	set -f
	exec "$VELLUM" --data "$D" store $(cat "$W/order") >"$W/r$round.out" 2>"$W/r$round.err") &
	pid=$!
	case $delay in
	+*)
		# Wait (up to 60 s) for the first reported line, then the extra delay.
		i=0
		while [ ! -s "$W/r$round.out" ] && [ "$i" -lt 600 ] && kill -0 "$pid" 2>/dev/null; do
			sleep 0.1
			i=$((i + 1))
		done
		sleep "${delay#+}"
		;;
	*) sleep "$delay" ;;
	esac
	if kill -9 "$pid" 2>/dev/null; then
		killed=$((killed + 1))
		wait "$pid" 2>/dev/null
		say "round $round: killed at ${delay}s with $(wc -l <"$W/r$round.out") lines printed"
		store_out_ok "$W/r$round.out" >>"$W/killed.ok"
	else
		wait "$pid"
		say "round $round: store finished (exit $?) before the kill at ${delay}s"
	fi
	store_out_ok "$W/r$round.out" >"$W/r$round.ok"
	cat "$W/r$round.ok" >>"$W/reported"
	# The lines printed last, just before the kill, are the ones a torn commit would hurt.
	tail -n 30 "$W/r$round.ok" >>"$W/sample"

	# The writer starts again after the crash, and takes new mail.
	for k in 1 2 3; do
		f=$W/after/r$round-$k.eml
		printf 'X-Vellum-IT: after crash %d/%d\n' "$round" "$k" >"$f"
		cat "$CORPUS/python-test-email/msg_0$k.txt" >>"$f"
	done
	v store "$W/after/r$round-"*.eml >"$W/after$round.out" 2>"$W/after$round.err"
	rc=$?
	[ "$rc" -eq 0 ] && [ "$(store_out_ok "$W/after$round.out" | wc -l)" -eq 3 ]
	verdict "round $round: store after kill -9 exits 0 and stores new mail" $? \
		"exit $rc: $(excerpt "$W/after$round.err")"
	store_out_ok "$W/after$round.out" | tee -a "$W/sample" >>"$W/reported"
done
[ "$killed" -ge 1 ]
verdict "at least one store was killed mid-way" $? "every store finished before its kill; see IT_CRASH_KILLS"

nrep=$(awk '{ print $1 }' "$W/killed.ok" 2>/dev/null | sort -u | wc -l)
say "$nrep distinct messages were reported by stores that were then killed"
[ "$nrep" -gt 0 ]
verdict "killed stores had reported messages before dying" $? "none: every kill came before the first report"

# Every line a store printed is a promise: the message is indexed with that sha256 (all of
# them), verify --all (below) decrypts and hashes every record, and `vellum cat` gives back the
# last 30 lines of each round and every 25th line (IT_FULL=1: all of them).
db_check "$W/reported" "$W/db.bad"
[ ! -s "$W/db.bad" ]
verdict "every reported message is indexed with its sha256" $? \
	"$(wc -l <"$W/db.bad") bad: $(excerpt "$W/db.bad")"
if [ "$IT_FULL" = 1 ]; then
	cp "$W/reported" "$W/sample"
else
	awk 'NR % 25 == 1' "$W/reported" >>"$W/sample"
fi
t0=$(now_s)
read_back "$W/sample" "$W/cat.bad"
say "cat of $(awk '{ print $1 }' "$W/sample" | sort -u | wc -l) reported messages in $(since "$t0") s"
[ ! -s "$W/cat.bad" ]
verdict "reported messages read back with their sha256" $? \
	"$(wc -l <"$W/cat.bad") bad: $(excerpt "$W/cat.bad")"
# ...and the reported sha256 is the file's.
awk '{ print $2, substr($0, length($1) + length($2) + 3) }' "$W/reported" | sort -u >"$W/rep.sha"
rc=0
while read -r sha file; do
	got=$(sha256sum <"$file" | cut -c1-64)
	[ "$got" = "$sha" ] || { rc=1; echo "$file: reported $sha, file $got" >>"$W/sha.bad"; }
done <"$W/rep.sha"
verdict "every reported sha256 is its file's sha256" "$rc" "$(excerpt "$W/sha.bad")"

v verify --all >"$W/verify.out" 2>&1
rc=$?
verdict "verify --all passes after the crashes" "$rc" "exit $rc: $(tail -n 8 "$W/verify.out" | tr '\n' '|')"

# A store that runs to the end after all that: every file, each with the id it was given before.
xargs -d '\n' "$VELLUM" --data "$D" store <"$W/enron" >"$W/full.out" 2>"$W/full.err"
rc=$?
[ "$rc" -eq 0 ] && [ "$(wc -l <"$W/full.out")" -eq "$n" ]
verdict "a full store after the crashes completes" $? "exit $rc, $(wc -l <"$W/full.out") lines: $(excerpt "$W/full.err")"
awk 'FNR == NR { id[substr($0, length($1) + length($2) + 3)] = $1; next }
	{ f = substr($0, length($1) + length($2) + 3); if ((f in id) && id[f] != $1) { print f; bad = 1 } }
	END { exit bad }' "$W/reported" "$W/full.out" >"$W/ids.bad"
verdict "files reported before a kill keep their ids" $? "$(excerpt "$W/ids.bad")"
v verify --all >"$W/verify2.out" 2>&1
rc=$?
verdict "verify --all passes at the end" "$rc" "exit $rc: $(tail -n 8 "$W/verify2.out" | tr '\n' '|')"
