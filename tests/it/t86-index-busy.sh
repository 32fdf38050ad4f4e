#!/bin/sh
# t86-index-busy - an attachment's reader that cannot start is no verdict on the file
# (README, "Attachments' text"): `vellum index` runs in a pids cgroup whose pids.max leaves room
# for its threads but not for pdftotext's process, so fork fails with EAGAIN as it would on a
# machine out of processes. Why not an rlimit: RLIMIT_NPROC counts every process of vellum's
# user, the private PostgreSQL's backends too, which come and go; RLIMIT_NOFILE would have to
# match the descriptors vellum holds, and a miss fails a segment's open instead. On a message
# with a PDF attachment and a plain one:
#  1. the plain message is indexed and found; the PDF's is left queued, without an
#     index_exceptions row or an index row; the run tries it again, finishes, says how many it
#     left and that a later run retries them, and exits 75 (EX_TEMPFAIL);
#  2. an unconstrained `vellum index` then indexes it and its PDF's words are found;
#  3. a shortage that ends within the retries (pids.max raised after the first failed fork):
#     `vellum index --all` indexes both and exits 0;
#  4. more such messages than a batch holds (INDEXER_BATCH, 200) ahead of a plain one: the
#     plain one is still reached, and the count of those left is not cut at a batch;
#  5. no descriptor for the segment or key file (RLIMIT_NOFILE): left queued, exit 75;
#  6. serve: left queued, a back-off that doubles, later mail indexed meanwhile.
# As root with a pids cgroup to make (v1 or v2); elsewhere the script says SKIPPED.
. "$(dirname "$0")/lib.sh"

it_begin

# ---- a pids cgroup ------------------------------------------------------------------------------
CG=
for base in /sys/fs/cgroup/pids /sys/fs/cgroup; do
	[ -f "$base/cgroup.procs" ] || continue
	if mkdir "$base/vellum-$IT_NAME-$$" 2>>"$W/cgroup.err"; then
		# v2 gives a child pids.max only when the parent enables the controller.
		if [ -f "$base/vellum-$IT_NAME-$$/pids.max" ]; then
			CG=$base/vellum-$IT_NAME-$$
			break
		fi
		rmdir "$base/vellum-$IT_NAME-$$"
	fi
done
if [ -z "$CG" ]; then
	say "SKIPPED: cannot make a pids cgroup here ($(excerpt "$W/cgroup.err")); the test needs root and the pids controller"
	exit 0
fi
# The cgroup goes on any exit (empty by then: each run in it has ended).
trap '_x=$?; rmdir "$CG" 2>/dev/null; (exit $_x); it_cleanup' EXIT
# in_cgroup MAX ARGS... - `vellum ARGS` alone in the cgroup with pids.max MAX (its threads count).
in_cgroup() {
	echo "$1" >"$CG/pids.max" && shift &&
		sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG" "$VELLUM" --data "$D" "$@"
}
# forks_refused - how many forks the cgroup has refused so far.
forks_refused() { awk '$1 == "max" { print $2 }' "$CG/pids.events"; }
pass "a pids cgroup at $CG"

it_archive

# mkmail DIR - a message DIR/NAME.eml for each line "NAME<TAB>BODY<TAB>PDF TEXT" on stdin (no
# attachment when the PDF text is empty).
mkmail() {
	python3 -c '
import sys
from email.message import EmailMessage
out = sys.argv[1]
sys.path.insert(0, sys.argv[2])
from docmaker import pdf
for line in sys.stdin:
    name, body, text = line.rstrip("\n").split("\t")
    m = EmailMessage()
    m["From"] = "ops@x.example"
    m["To"] = "legal@x.example"
    m["Subject"] = name
    m["Date"] = "Mon, 02 Feb 2026 10:00:00 +0000"
    m["Message-ID"] = "<%s@t86>" % name
    m.set_content(body + "\n")
    if text:
        m.add_attachment(pdf([[text]]), maintype="application", subtype="pdf", filename="memo.pdf")
    open("%s/%s.eml" % (out, name), "wb").write(m.as_bytes())
' "$1" "$IT_DIR"
}

M=$W/mail
mkdir -p "$M"
printf 'pdf\tplease see the attachment\tInvoice for the pangolin shipment\nplain\tthe wildebeest report, no attachment\t\n' |
	mkmail "$M"
verdict "write a message with a PDF attachment and a plain one" $?
v store "$M/pdf.eml" "$M/plain.eml" >"$W/store.out" 2>&1
verdict "store both" $? "$(excerpt "$W/store.out")"
id_of() { awk -v f="$M/$1.eml" '$3 == f { print $1 }' "$W/store.out"; }
PDF=$(id_of pdf)
PLAIN=$(id_of plain)
# hits WORD - the Message-IDs of WORD's hits, space-separated ($W/search.err: why not).
hits() {
	v search --json -- "$1" 2>"$W/search.err" |
		python3 -c 'import json, sys; print(" ".join(h["message_id"] for h in json.load(sys.stdin)["hits"]))'
}

# ---- 1. no process for pdftotext ----------------------------------------------------------------
# pids.max 2: the process and its one job's thread; pdftotext's fork is refused.
in_cgroup 2 index --jobs 1 >"$W/busy.out" 2>"$W/busy.err"
rc=$?
[ "$rc" -eq 75 ]
verdict "index with no process to spare exits 75 (EX_TEMPFAIL)" $? "exit $rc: $(excerpt "$W/busy.err")"
[ "$(forks_refused)" -ge 5 ]
verdict "the cgroup refused pdftotext's fork, in the first round and in each of the 4 more" $? \
	"pids.events: $(excerpt "$CG/pids.events")"
grep -q "^vellum index: 1 messages left queued: an attachment's reader could not run or a segment or key file could not be opened .*; a later \`vellum index\` or \`vellum serve\` tries them again$" "$W/busy.err"
verdict "it says how many it left queued and that a later run retries them" $? "$(tail -n 1 "$W/busy.err")"
grep -q "^indexed  *1 messages" "$W/busy.out" && grep -q "^still waiting 1 messages$" "$W/busy.out" &&
	grep -q "^held " "$W/busy.out"
verdict "it finishes the rest: 1 indexed, 1 still waiting, holds swept" $? "$(excerpt "$W/busy.out")"
got=$(sql "SELECT id || ':' || (indexed_at IS NOT NULL) || ':' || parse_error FROM messages ORDER BY id" | tr '\n' ' ')
[ "$got" = "$PDF:false:false $PLAIN:true:false " ]
verdict "the plain message is indexed, the PDF's is still queued, neither has parse_error" $? "got [$got]"
got=$(sql "SELECT count(*) FROM index_exceptions WHERE message_id = $PDF")/$(sql "SELECT count(*) FROM message_index WHERE message_id = $PDF")
[ "$got" = "0/0" ]
verdict "the PDF's message has no index_exceptions row and no index row" $? "exceptions/index rows: $got"
got=$(hits wildebeest)
[ "$got" = "<plain@t86>" ]
verdict "the plain message is found" $? "got [$got] $(excerpt "$W/search.err")"

# ---- 2. then with processes ----------------------------------------------------------------------
v index >"$W/index.out" 2>&1 && grep -q "^still waiting 0 messages$" "$W/index.out"
verdict "an unconstrained index exits 0 and leaves nothing waiting" $? "$(excerpt "$W/index.out")"
got=$(hits pangolin)
[ "$got" = "<pdf@t86>" ] && [ "$(sql "SELECT count(*) FROM index_exceptions")" = 0 ]
verdict "the PDF's words are found, and no exception was recorded" $? "got [$got] $(excerpt "$W/search.err")"

# ---- 3. a shortage that passes within the retries ------------------------------------------------
before=$(forks_refused)
in_cgroup 2 index --all --jobs 1 >"$W/again.out" 2>"$W/again.err" &
pid=$!
# Room again once the first fork was refused (the retries wait 0.25 s, then 0.5, 1 and 2 s).
i=0
while [ "$(forks_refused)" -eq "$before" ] && [ $i -lt 400 ]; do
	sleep 0.05
	i=$((i + 1))
done
echo max >"$CG/pids.max"
wait $pid
rc=$?
[ "$rc" -eq 0 ] && [ "$(forks_refused)" -gt "$before" ] && grep -q "^indexed  *2 messages" "$W/again.out" &&
	! grep -q "messages left queued:" "$W/again.err"
verdict "index --all through a shortage that ends within the retries: both indexed, exit 0" $? \
	"exit $rc, refused $before -> $(forks_refused): $(excerpt "$W/again.out") $(excerpt "$W/again.err")"
got=$(hits pangolin)
[ "$got" = "<pdf@t86>" ] && [ "$(sql "SELECT count(*) FROM messages WHERE indexed_at IS NULL")" = 0 ] &&
	[ "$(sql "SELECT count(*) FROM index_exceptions")" = 0 ]
verdict "after it the PDF's words are found, nothing waits, no exception" $? "got [$got]"

# ---- 4. more left queued than a batch holds --------------------------------------------------------
# 201 PDF messages, then a plain one: every batch of 200 from the start of the queue would hold
# only messages stepped over; the walk past them (indexer_place) reaches the plain one.
B=$W/many
mkdir -p "$B"
{
	i=0
	while [ $i -lt 201 ]; do
		printf 'many%03d\tcopy %d\tMemo %d about the okapi enclosure\n' $i $i $i
		i=$((i + 1))
	done
	printf 'behind\tthe aardvark schedule, no attachment\t\n'
} | mkmail "$B"
verdict "write 201 messages with a PDF, then a plain one" $?
# shellcheck disable=SC2046
v store $(ls "$B"/many*.eml) "$B/behind.eml" >"$W/many.out" 2>&1
verdict "store them, the plain one last" $? "$(excerpt "$W/many.out")"
in_cgroup 2 index --jobs 1 >"$W/many-busy.out" 2>"$W/many-busy.err"
rc=$?
got=$(hits aardvark)
[ "$rc" -eq 75 ] && [ "$got" = "<behind@t86>" ]
verdict "behind 201 messages left queued, the plain one is indexed and found; exit 75" $? \
	"exit $rc, got [$got]: $(excerpt "$W/many-busy.err")"
grep -q "^vellum index: 201 messages left queued: " "$W/many-busy.err" &&
	grep -q "^still waiting 201 messages$" "$W/many-busy.out"
verdict "it counts all 201 it left, not a batch's 200" $? "$(tail -n 1 "$W/many-busy.err") $(excerpt "$W/many-busy.out")"
v index >"$W/many-index.out" 2>&1 && grep -q "^still waiting 0 messages$" "$W/many-index.out"
verdict "an unconstrained index then indexes all 201" $? "$(excerpt "$W/many-index.out")"
got=$(v search --count -- okapi 2>"$W/search.err")
[ "$got" = 201 ]
verdict "the 201 PDFs' words are found" $? "got [$got] $(excerpt "$W/search.err")"

# ---- 5. no descriptor for the segment -------------------------------------------------------------
# A plain message queued, and `vellum index` under RLIMIT_NOFILE: the smallest limit at which it
# starts (its connection, /dev/null, the keyring read and closed) leaves no descriptor for the
# message's segment or its key slot file, EMFILE, which is no verdict on the message either
# (before, a slot file's EMFILE read as a key missing from the keyring: exit 1). The limit is
# found by trying from 4 up.
printf 'From: ops@x.example\r\nTo: legal@x.example\r\nSubject: fd\r\nMessage-ID: <fd@t86>\r\n\r\nthe quokka census\r\n' >"$W/fd.eml"
v store "$W/fd.eml" >"$W/fd.out" 2>&1
verdict "store a plain message" $? "$(excerpt "$W/fd.out")"
FD=$(awk '{ print $1; exit }' "$W/fd.out")
n=4
found=
while [ $n -le 64 ] && [ -z "$found" ]; do
	# ulimit in a shell of its own, not prlimit: the shell is everywhere.
	sh -c 'ulimit -n "$0" && exec "$@"' $n "$VELLUM" --data "$D" index --jobs 1 \
		>"$W/fd-index.out" 2>"$W/fd-index.err"
	rc=$?
	if [ $rc -eq 75 ] || [ $rc -eq 0 ]; then
		found=$n
	fi
	n=$((n + 1))
done
got=$(sql "SELECT (indexed_at IS NOT NULL) || ':' || parse_error FROM messages WHERE id = $FD")
[ -n "$found" ] && [ "$rc" -eq 75 ] && [ "$got" = "false:false" ] &&
	grep -q "^vellum index: 1 messages left queued: " "$W/fd-index.err" &&
	grep -q "message $FD left queued: segment [0-9]*[: ].*Too many open files$" "$W/fd-index.err"
verdict "no descriptor for its segment: the message stays queued without parse_error; exit 75" $? \
	"limit ${found:-none} exit $rc, indexed:parse_error $got: $(excerpt "$W/fd-index.err")"
v index >"$W/fd-after.out" 2>&1 && [ "$(hits quokka)" = "<fd@t86>" ]
verdict "with descriptors it is indexed and found" $? "$(excerpt "$W/fd-after.out")"

# ---- 6. serve: read past, tried again after a growing back-off ------------------------------------
# serve alone in the cgroup, its pids.max then held at what it has running: the indexer's fork
# for pdftotext is refused. The message stays queued, serve says so with a back-off that doubles
# (1, 2, 4 s), a plain message stored meanwhile is indexed at once (read past, not waiting for
# the back-off), and once processes are there again the PDF's message is indexed too.
. "$IT_DIR/serve.sh"
serve_ports
echo max >"$CG/pids.max"
sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG" "$VELLUM" --data "$D" serve 2>>"$W/serve.log" &
SERVE_PID=$!
sc wait --port "$SMTP_PORT" --seconds 60 2>>"$W/serve.log"
verdict "serve starts in the cgroup" $? "$(excerpt "$W/serve.log")"
sleep 1
cat "$CG/pids.current" >"$CG/pids.max"
printf 'serve6\tthe serve copy\tMemo about the tapir paddock\nserve7\tthe numbat ledger, no attachment\t\n' |
	mkmail "$W"
sc send --port "$SMTP_PORT" --from ops@x.example --rcpt legal@x.example "$W/serve6.eml" \
	--log "$W/s6.out" 2>>"$W/s6.out"
verdict "send serve a PDF message over SMTP" $? "$(excerpt "$W/s6.out")"
# wait_log TEXT SECONDS - until serve.log has TEXT.
wait_log() {
	_k=0
	while ! grep -q "$1" "$W/serve.log" && [ $_k -lt $(($2 * 10)) ]; do
		sleep 0.1
		_k=$((_k + 1))
	done
	grep -q "$1" "$W/serve.log"
}
wait_log "messages left queued: .*tried again in 4 s" 20 &&
	grep -o "tried again in [0-9]* s" "$W/serve.log" | head -n 3 | tr '\n' ' ' | grep -qx "tried again in 1 s tried again in 2 s tried again in 4 s "
verdict "serve leaves it queued and backs off 1, 2, 4 s" $? "$(grep -o 'indexer: .*' "$W/serve.log" | tail -n 4 | tr '\n' '|')"
sc send --port "$SMTP_PORT" --from ops@x.example --rcpt legal@x.example "$W/serve7.eml" \
	--log "$W/s7.out" 2>>"$W/s7.out"
t0=$(date +%s)
k=0
while [ "$(hits numbat)" != "<serve7@t86>" ] && [ $k -lt 50 ]; do
	sleep 0.1
	k=$((k + 1))
done
[ "$(hits numbat)" = "<serve7@t86>" ] && [ $(($(date +%s) - t0)) -le 5 ]
verdict "a plain message stored meanwhile is indexed within 5 s, past the one left queued" $? \
	"$(excerpt "$W/s7.out")"
echo max >"$CG/pids.max"
wait_indexed
[ "$(hits tapir)" = "<serve6@t86>" ]
verdict "with processes again serve indexes the PDF's message" $? "$(grep -o 'indexer: .*' "$W/serve.log" | tail -n 3 | tr '\n' '|')"
serve_stop_check "serve exits cleanly"

it_summary
