#!/bin/sh
# api.sh - the API benchmark of issue 5: the search benchmark's queries over HTTP
# (POST /v1/search, bench/api_client.py) at 1 and at 16 concurrent connections, beside the same
# queries in process (`vellum bench-search`), on an archive loaded by bench/search.sh.
#
#	sh bench/api.sh DATA      on a data folder already loaded (BENCH_KEEP=1 of bench/search.sh
#	                          keeps one); serve runs on it on free ports, its config restored after
#	sh bench/api.sh           loads API_BENCH_MESSAGES (default 1,000,000) with bench/search.sh
#	                          first, and removes that folder at the end (unless BENCH_KEEP=1)
#
# Environment: VELLUM (default bin/vellum), API_BENCH_REQUESTS (per connection, default 20).
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VELLUM=${VELLUM:-$ROOT/bin/vellum}
case $VELLUM in /*) ;; *) VELLUM=$ROOT/$VELLUM ;; esac
REQ=${API_BENCH_REQUESTS:-20}
CONNS=16

die() {
	echo "bench: $*" >&2
	exit 1
}

OWN=
if [ $# -ge 1 ]; then
	D=$(cd "$1" && pwd) || die "no data folder $1"
else
	SEARCH_BENCH_MESSAGES=${API_BENCH_MESSAGES:-1000000} BENCH_KEEP=1 sh "$ROOT/bench/search.sh" |
		tee /dev/stderr | sed -n 's/^bench: kept //p' >"/tmp/api-bench.$$"
	OWN=$(cat "/tmp/api-bench.$$")
	rm -f "/tmp/api-bench.$$"
	[ -n "$OWN" ] || die "bench/search.sh kept no folder"
	D=$OWN/data
fi
[ -f "$D/vellum.conf" ] || die "$D is not a Vellum data folder"

W=$(mktemp -d /tmp/vellum-api-bench.XXXXXX)
chmod 755 "$W"
cp "$D/vellum.conf" "$W/vellum.conf.orig"
SERVE_PID=
cleanup() {
	[ -n "$SERVE_PID" ] && kill -TERM "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID"
	cp "$W/vellum.conf.orig" "$D/vellum.conf"
	"$VELLUM" --data "$D" token revoke "bench-api-$$" >/dev/null 2>&1
	if [ -n "$OWN" ] && [ "${BENCH_KEEP:-0}" != 1 ]; then
		"$VELLUM" --data "$D" db stop >/dev/null 2>&1
		chattr -R -i -a "$OWN" >/dev/null 2>&1 || true
		rm -rf "$OWN"
	fi
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

conf_set() {
	if grep -q "^$1 *=" "$D/vellum.conf"; then
		sed -i "s|^$1 *=.*|$1 = $2|" "$D/vellum.conf"
	else
		printf '%s = %s\n' "$1" "$2" >>"$D/vellum.conf"
	fi
}
set -- $(python3 -c 'import socket
ps = []
for _ in range(3):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); ps.append(s)
print(" ".join(str(s.getsockname()[1]) for s in ps))')
conf_set smtp_listen "127.0.0.1:$1"
conf_set lmtp_listen "127.0.0.1:$2"
conf_set http_listen "127.0.0.1:$3"
PORT=$3

TOKEN=$("$VELLUM" --data "$D" token create --name "bench-api-$$" --role officer | tail -n 1)
[ -n "$TOKEN" ] || die "token create failed"
"$VELLUM" --data "$D" serve 2>"$W/serve.log" &
SERVE_PID=$!
i=0
until curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; do
	i=$((i + 1))
	[ "$i" -lt 120 ] || die "serve did not answer: $(tail -n 5 "$W/serve.log")"
	sleep 0.5
done

# The search benchmark's first-page queries (bench/search.sh).
cat >"$W/queries" <<'EOF'
rare	clandestine
two-common	meeting houston
phrase	"conference call"
from+date	from:sherri.sera@enron.com date:2001-01-01..2001-06-30
cjk-bigram	テスト
EOF

echo "data: $D ($("$VELLUM" --data "$D" db psql -At -c 'select count(*) from messages' 2>/dev/null) messages); $(nproc) CPUs"
echo "in process: vellum bench-search, 20 runs, one connection; HTTP: POST /v1/search, $REQ requests per connection"
echo
printf '%-12s %9s %9s | %9s %9s %7s | %9s %9s %9s %5s\n' query "proc p50" "proc p99" \
	"http p50" "http p99" "p50 x" "16c req/s" "16c p50" "16c p99" errs
printf '%s\n' "------------ --------- --------- | --------- --------- ------- | --------- --------- --------- -----"
while IFS="$(printf '\t')" read -r name q; do
	python3 "$ROOT/bench/api_client.py" --port "$PORT" --token "$TOKEN" --conns 1 --requests 2 -- "$q" >/dev/null </dev/null
	set -- $("$VELLUM" --data "$D" bench-search --runs 20 -- "$q" 2>/dev/null </dev/null) - - - -
	pp50=$1 pp99=$2
	set -- $(python3 "$ROOT/bench/api_client.py" --port "$PORT" --token "$TOKEN" --conns 1 --requests "$REQ" -- "$q" </dev/null)
	h50=$2 h99=$3 e1=$4
	set -- $(python3 "$ROOT/bench/api_client.py" --port "$PORT" --token "$TOKEN" --conns "$CONNS" --requests "$REQ" -- "$q" </dev/null)
	ratio=$(awk -v a="$h50" -v b="$pp50" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
	printf '%-12s %9s %9s | %9s %9s %7s | %9s %9s %9s %5s\n' "$name" "$pp50" "$pp99" "$h50" "$h99" \
		"$ratio" "$1" "$2" "$3" "$(($4 + e1))"
done <"$W/queries"
echo
echo "p50 x: HTTP at one connection over in process (the API's overhead per request: HTTP, JSON,"
echo "token check, audit row); 16c: 16 concurrent connections (the serve thread pool)."
