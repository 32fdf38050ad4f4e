# serve.sh - helpers shared by the receiver tests (t70-t74), sourced after lib.sh: free ports in
# vellum.conf, `vellum serve` in the background, a clean stop, smtpclient.py summaries.
SC=$IT_DIR/smtpclient.py
SERVE_PID=
sc() { python3 "$SC" "$@"; }
conf_set() {
	if grep -q "^$1 *=" "$D/vellum.conf"; then
		sed -i "s|^$1 *=.*|$1 = $2|" "$D/vellum.conf"
	else
		printf '%s = %s\n' "$1" "$2" >>"$D/vellum.conf"
	fi
}
# serve_ports - free random ports for SMTP, LMTP (and a Unix socket) and HTTP, in vellum.conf.
serve_ports() {
	set -- $(sc ports -n 3)
	SMTP_PORT=$1
	LMTP_PORT=$2
	LMTP_SOCK=$D/run/lmtp.sock
	conf_set smtp_listen "127.0.0.1:$SMTP_PORT"
	conf_set lmtp_listen "127.0.0.1:$LMTP_PORT, unix:$LMTP_SOCK"
	conf_set http_listen "127.0.0.1:$3"
}
# serve_start [BIN] - run `serve` in the background and wait for its SMTP greeting.
serve_start() {
	SERVE_BIN=${1:-$VELLUM}
	"$SERVE_BIN" --data "$D" serve 2>>"$W/serve.log" &
	SERVE_PID=$!
	if ! sc wait --port "$SMTP_PORT" --seconds 60 2>>"$W/serve.log"; then
		fail "serve start" "$(tail -n 5 "$W/serve.log" | tr '\n' '|')"
		exit 1
	fi
}
# serve_stop - SIGTERM, wait; returns serve's exit status.
serve_stop() {
	[ -n "$SERVE_PID" ] || return 0
	kill -TERM "$SERVE_PID" 2>/dev/null
	wait "$SERVE_PID"
	_rc=$?
	SERVE_PID=
	return $_rc
}
# serve_stop_check NAME - stop serve; it must exit 0 with no sanitizer report in its log.
serve_stop_check() {
	serve_stop
	_rc=$?
	! grep -q -E 'Sanitizer|runtime error:' "$W/serve.log" && [ "$_rc" -eq 0 ]
	verdict "$1" $? "exit $_rc: $(grep -m 3 -E 'Sanitizer|runtime error:|SUMMARY' "$W/serve.log" | tr '\n' '|')"
}
# wait_indexed - until no message waits for serve's indexer (at most 60 s): none queued and no
# note in index_requeue. One statement, so one snapshot: the sweep deletes a note in the same
# transaction as it queues the message, and so there is no moment when neither shows.
wait_indexed() {
	_k=0
	while [ "$(sql "select (select count(*) from messages where indexed_at is null) +
		(select count(*) from index_requeue)")" -gt 0 ] && [ "$_k" -lt 300 ]; do
		sleep 0.2
		_k=$((_k + 1))
	done
}
# sum_field LOG KEY - a key=value figure of a smtpclient summary line.
sum_field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" "$1" | tail -n 1; }
serve_begin() {
	it_begin
	trap '_x=$?; serve_stop; (exit $_x); it_cleanup' EXIT
}
