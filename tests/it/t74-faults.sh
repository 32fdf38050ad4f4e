#!/bin/sh
# t74-faults - nothing acknowledged is lost. PostgreSQL is stopped (`vellum db stop`) while
# clients keep sending: the replies become 451/452 4.x.x, never 250 for a message not stored,
# serve keeps running, and after `db start` deliveries succeed again. `kill -9` of serve while
# 20 clients send (twice, at different moments): after a restart every message that got 250
# (the client logs the sha256 of each) is in the archive, `vellum cat` reproduces a sample,
# new mail is accepted and verify --all passes. serve started without its keyring answers
# 451 4.3.0 and keeps running; with the keyring back, mail is accepted and indexed again.
. "$(dirname "$0")/lib.sh"

. "$IT_DIR/serve.sh"

serve_begin
it_archive
serve_ports
conf_set command_timeout_s 60
find "$ENRON" -type f | sort | awk 'NR % 4 == 1' >"$W/files"

# present_check LOG NAME - every message the log says got 250 has its sha256 in messages.
present_check() {
	awk -F'\t' '$1 == "ok" { print $2 }' "$1" | sort -u >"$W/acked.sha"
	sql "select encode(sha256, 'hex') from messages" | sort -u >"$W/have.sha"
	comm -23 "$W/acked.sha" "$W/have.sha" >"$W/lost.sha"
	[ -s "$W/acked.sha" ] && [ ! -s "$W/lost.sha" ]
	verdict "$2" $? "$(wc -l <"$W/lost.sha") of $(wc -l <"$W/acked.sha") acknowledged messages missing: $(head -n 3 "$W/lost.sha" | tr '\n' ' ')"
}
# cat_sample LOG N NAME - `vellum cat` of N acknowledged messages reproduces their sha256.
cat_sample() {
	awk -F'\t' '$1 == "ok" { print $2 }' "$1" | sort -u | awk -v n="$2" 'NR % 7 == 1 && ++k <= n' >"$W/sample.sha"
	: >"$W/cat.bad"
	k=0
	while read -r sha; do
		k=$((k + 1))
		bin=$VELLUM_REL
		[ $((k % 4)) -eq 0 ] && bin=$VELLUM
		got=$("$bin" --data "$D" cat "sha256:$sha" 2>"$W/cat.err" | sha256sum | cut -c1-64)
		[ "$got" = "$sha" ] || echo "$sha $got $(head -c 200 "$W/cat.err")" >>"$W/cat.bad"
	done <"$W/sample.sha"
	[ -s "$W/sample.sha" ] && [ ! -s "$W/cat.bad" ]
	verdict "$3" $? "$(head -n 3 "$W/cat.bad" | tr '\n' '|')"
}

# ---- PostgreSQL stopped mid-stream --------------------------------------------------------------
serve_start
sc send --port "$SMTP_PORT" --files-from "$W/files" --loop --unique --conns 4 --reconnect \
	--stop-file "$W/stop1" --log "$W/pg.log" --from pgdown@x --rcpt archive@x 2>"$W/pg.sum" &
client=$!
sleep 3
n_before=$(awk -F'\t' '$1 == "ok"' "$W/pg.log" | wc -l)
t0=$(now_s)
v db stop >"$W/dbstop.out" 2>&1
say "db stop after $n_before acknowledged messages ($(since "$t0") s): $(tr '\n' ' ' <"$W/dbstop.out")"
sleep 4
lines_down=$(wc -l <"$W/pg.log")
v db start >"$W/dbstart.out" 2>&1 || fail "db start again" "$(excerpt "$W/dbstart.out")"
say "db start again: $(tr '\n' ' ' <"$W/dbstart.out")"
sleep 5
touch "$W/stop1"
wait "$client"
say "sender: $(cat "$W/pg.sum")"
kill -0 "$SERVE_PID" 2>/dev/null
verdict "serve keeps running while PostgreSQL is down" $? "$(tail -n 5 "$W/serve.log" | tr '\n' '|')"
# What came back while the database was down, and after.
awk -F'\t' '$1 != "ok" { print $4 " " $10 }' "$W/pg.log" | sort | uniq -c | sort -rn | head -n 5 >"$W/pg.codes"
say "replies other than 250: $(tr '\n' ';' <"$W/pg.codes")"
ntemp=$(awk -F'\t' '$1 == "tempfail"' "$W/pg.log" | wc -l)
nbad=$(awk -F'\t' '$1 != "ok" && !($1 == "tempfail" && $4 ~ /^45[12]$/ && $10 ~ /^4\.[0-9]+\.[0-9]+ /)' "$W/pg.log" | wc -l)
[ "$ntemp" -gt 0 ] && [ "$nbad" -eq 0 ]
verdict "with PostgreSQL down the replies become 451/452 4.x.x (no 5xx, no dropped connection)" $? \
	"$ntemp tempfails, $nbad other failures: $(awk -F'\t' '$1 != "ok" && $1 != "tempfail" { print $1 " " $4 " " $10 }' "$W/pg.log" | head -n 3 | tr '\n' '|')"
after=$(awk -F'\t' -v from="$lines_down" 'NR > from && $1 == "ok"' "$W/pg.log" | wc -l)
last_bad=$(awk -F'\t' '$1 != "ok" { n = NR } END { print n + 0 }' "$W/pg.log")
tail_ok=$(awk -F'\t' -v from="$last_bad" 'NR > from && $1 == "ok"' "$W/pg.log" | wc -l)
[ "$after" -gt 0 ] && [ "$tail_ok" -gt 0 ]
verdict "after PostgreSQL is back, deliveries succeed again" $? "$after acknowledged after the restart, $tail_ok after the last failure"
present_check "$W/pg.log" "every message acknowledged around the outage is in the archive"
cat_sample "$W/pg.log" 10 "vellum cat reproduces acknowledged messages from around the outage"
serve_stop_check "serve stops cleanly after the outage (no sanitizer report)"
v verify --all >"$W/verify.out" 2>&1
rc=$?
verdict "verify --all passes after the outage" "$rc" "exit $rc: $(tail -n 5 "$W/verify.out" | tr '\n' '|')"

# ---- kill -9 of serve under 20 parallel clients, twice ---------------------------------------------
for round in 1 2; do
	serve_start
	sc send --port "$SMTP_PORT" --files-from "$W/files" --loop --unique --conns 20 --shuffle "$round" \
		--log "$W/kill$round.log" --from kill$round@x --rcpt archive@x 2>"$W/kill$round.sum" &
	client=$!
	sleep $((1 + 2 * round))
	# On a loaded box the client may not have started sending yet: kill only once some
	# messages were acknowledged (at most 30 s more), or the round proves nothing.
	k=0
	while [ "$(awk -F'\t' '$1 == "ok"' "$W/kill$round.log" 2>/dev/null | wc -l)" -lt 20 ] && [ "$k" -lt 300 ]; do
		sleep 0.1
		k=$((k + 1))
	done
	n=$(awk -F'\t' '$1 == "ok"' "$W/kill$round.log" | wc -l)
	kill -9 "$SERVE_PID"
	wait "$SERVE_PID" 2>/dev/null
	SERVE_PID=
	wait "$client"
	say "kill -9 round $round after $n acknowledged; sender: $(cat "$W/kill$round.sum")"
	serve_start
	sc send --port "$SMTP_PORT" --files-from "$W/files" --count 20 --unique --conns 2 \
		--log "$W/after$round.log" --from after$round@x --rcpt archive@x 2>"$W/after$round.sum"
	verdict "round $round: after kill -9 and restart, serve accepts mail again" $? "$(cat "$W/after$round.sum")"
	present_check "$W/kill$round.log" "round $round: every message that got 250 before kill -9 is in the archive"
	present_check "$W/after$round.log" "round $round: messages acknowledged after the restart are in the archive"
	cat_sample "$W/kill$round.log" 12 "round $round: vellum cat reproduces a sample of them"
	serve_stop_check "round $round: serve stops cleanly after the restart (no sanitizer report)"
done

# ---- the key is missing: 451 4.3.0 while serve keeps running; back, mail flows again ---------------
mv "$D/keys/keyring" "$W/keyring.away"
serve_start
sc send --port "$SMTP_PORT" --files-from "$W/files" --count 3 --unique --conns 1 \
	--log "$W/nokey.log" --from nokey@x --rcpt archive@x 2>"$W/nokey.sum"
n=$(awk -F'\t' '$1 == "tempfail" && $4 ~ /^451/' "$W/nokey.log" | wc -l)
[ "$n" -eq 3 ] && kill -0 "$SERVE_PID" 2>/dev/null && grep -q 'no keyring' "$W/serve.log"
verdict "without its keyring serve starts, answers 451 4.3.0 and keeps running" $? \
	"$n of 3 got 451: $(cat "$W/nokey.sum") $(grep -m 1 'keyring' "$W/serve.log")"
mv "$W/keyring.away" "$D/keys/keyring"
sc send --port "$SMTP_PORT" --files-from "$W/files" --count 3 --unique --conns 1 \
	--log "$W/key.log" --from key@x --rcpt archive@x 2>"$W/key.sum"
verdict "with the keyring back mail is accepted again, without a restart" $? "$(cat "$W/key.sum")"
present_check "$W/key.log" "the messages accepted once the key was back are in the archive"
wait_indexed
[ "$(sql "select count(*) from messages where indexed_at is null")" = 0 ]
verdict "the indexer, started without the key, indexes them" $? \
	"$(sql "select count(*) from messages where indexed_at is null") waiting"
serve_stop_check "serve stops cleanly after running without its key"
t0=$(now_s)
v verify --all >"$W/verify.out" 2>&1
rc=$?
say "verify --all in $(since "$t0") s"
verdict "verify --all passes after two kill -9" "$rc" "exit $rc: $(tail -n 5 "$W/verify.out" | tr '\n' '|')"
