#!/bin/sh
# ingest.sh - SMTP/LMTP ingest of `vellum serve` on loopback, beside Postfix's smtp-sink (the
# protocol ceiling: it stores nothing) and Dovecot 2.3's LMTP server delivering into a
# zstd-compressed Maildir with fsync (../shared/peers/dovecot-lmtp.conf.in), in the same run.
#
#	sh bench/ingest.sh        BENCH_RUNS runs (default 3); the medians are printed as a table
#
# Loads, the same for every server:
#   smtp-source   Postfix's smtp-source -d -s 20 -m BENCH_MSGS -F MSG: 20 sessions, each reusing
#                 its connection, DATA, one ~20 KB message made of concatenated Enron mail (the
#                 same bytes every time: Vellum stores it once and adds a receipt per copy).
#   20 KB unique  tests/it/smtpclient.py, 20 connections, the same message (CRLF, as
#                 smtp-source sends it) with a distinct first header line each time (every copy
#                 is stored), DATA; p50/p99 acknowledgement latency.
#   Enron replay  smtpclient.py, 20 connections, the 4,139 Enron files byte for byte, BDAT with
#                 PIPELINING where CHUNKING is offered (Vellum, Dovecot: what Postfix >= 3.4
#                 sends), else DATA (smtp-sink); p50/p99 acknowledgement latency per message
#                 (last byte sent -> final reply).
#   single        smtp-source -d -s 1 -m BENCH_SINGLE_MSGS -F MSG: one session.
#   searchable    Vellum only: after the Enron replay (SMTP, first load into a fresh archive),
#                 the messages acknowledged divided by the time from its start until
#                 `messages where indexed_at is null` is empty, serve's own indexer or else
#                 `vellum index` draining the queue. Dovecot has no search index in this
#                 configuration: its figure is its acknowledged Enron rate.
# Vellum gets a fresh data folder per run; msgs/s count acknowledged (2xx) messages. Each
# Vellum load after the first starts once serve has indexed every message before it and no
# PostgreSQL autovacuum worker runs (drain).
#
# Environment: VELLUM (default bin/vellum), VELLUM_CORPUS (default ../shared/corpus),
# BENCH_RUNS (3), BENCH_MSGS (5000), BENCH_SINGLE_MSGS (500), BENCH_KEEP=1 keeps the scratch
# folder, BENCH_NO_DOVECOT=1 skips Dovecot, BENCH_REPLAY_MODE (bdat; data or auto to compare).
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VELLUM=${VELLUM:-$ROOT/bin/vellum}
case $VELLUM in /*) ;; *) VELLUM=$ROOT/$VELLUM ;; esac
CORPUS=${VELLUM_CORPUS:-$ROOT/../shared/corpus}
CORPUS=$(cd "$CORPUS" && pwd) || exit 1
ENRON=$CORPUS/enron-skilling-j/maildir-skilling-j
PEERS=$(cd "$CORPUS/.." && pwd)/peers
RUNS=${BENCH_RUNS:-3}
MSGS=${BENCH_MSGS:-5000}
SINGLE=${BENCH_SINGLE_MSGS:-500}
REPLAY_MODE=${BENCH_REPLAY_MODE:-bdat}
SCPY=$ROOT/tests/it/smtpclient.py

. "$ROOT/bench/lib.sh"
[ -x "$VELLUM" ] || die "$VELLUM is missing: run make bin/vellum"
for t in smtp-source smtp-sink python3; do
	command -v "$t" >/dev/null 2>&1 || die "$t is missing (deploy/deps.sh installs it)"
done
DOVECOT=1
if [ "${BENCH_NO_DOVECOT:-0}" = 1 ] || ! command -v dovecot >/dev/null 2>&1 ||
	[ ! -f "$PEERS/dovecot-lmtp.conf.in" ]; then
	DOVECOT=0
fi

bench_begin vellum-ingest /var/tmp
SERVE_PID=
SINK_PID=
DV_RUN=
bench_stop_more() {
	[ -n "$SERVE_PID" ] && kill -TERM "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
	[ -n "$SINK_PID" ] && kill -TERM "$SINK_PID" 2>/dev/null && wait "$SINK_PID" 2>/dev/null
	[ -n "$DV_RUN" ] && [ -f "$DV_RUN/master.pid" ] && kill -TERM "$(cat "$DV_RUN/master.pid")" 2>/dev/null
	return 0
}

sc() { python3 "$SCPY" "$@"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.1f", n / s; else print "nan" }'; }
# sumf FILE KEY - a key=value figure of a smtpclient summary line.
sumf() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" "$1" | tail -n 1; }
# row KEY VALUE - one figure of this run.
row() { echo "$1 $2" >>"$W/rows.$run"; }

# ---- the messages ---------------------------------------------------------------------------
find "$ENRON" -type f | sort >"$W/enron.list"
nenron=$(wc -l <"$W/enron.list")
# ~20 KB: whole Enron messages one after the other (a thread pasted into one mail), cut at a
# line end; the first message's headers are the headers.
python3 - "$W/enron.list" "$W/msg20k.eml" <<'EOF'
import sys
files = [l.rstrip("\n") for l in open(sys.argv[1])]
out = b""
for f in files:
    b = open(f, "rb").read().replace(b"\r\n", b"\n")
    if max((len(l) for l in b.split(b"\n")), default=0) > 900:
        continue
    out += (b"\n\n-----Original Message-----\n" if out else b"") + b.rstrip(b"\n")
    if len(out) >= 20000:
        break
cut = out.rfind(b"\n", 0, 20480)
out = out[:cut if len(out) > 20480 else len(out)] + b"\n"
open(sys.argv[2], "wb").write(out)
# smtpclient.py sends what smtp-source puts on the wire for it: CRLF line ends.
open(sys.argv[2] + ".crlf", "wb").write(out.replace(b"\n", b"\r\n"))
EOF
MSG=$W/msg20k.eml
msgsize=$(stat -c %s "$MSG")

echo "ingest: loopback, $(nproc) CPUs, $RUNS runs (medians); smtp-source -d -s 20 -m $MSGS and -s 1 -m $SINGLE"
echo "        with a $msgsize-byte message of concatenated Enron mail; Enron replay: $nenron files, 20 connections ($REPLAY_MODE)"
[ "$DOVECOT" = 1 ] || echo "        Dovecot: not run (dovecot missing or BENCH_NO_DOVECOT=1): its columns are n/a"
echo

# load NAME KIND PORT [smtp-source/smtpclient flags] - run one load, record NAME_rate (and for
# smtpclient loads NAME_p50, NAME_p99). KIND: source20, single, unique, replay.
load() {
	name=$1 kind=$2 port=$3
	shift 3
	case $kind in
	source20 | single)
		s=20
		m=$MSGS
		[ "$kind" = single ] && s=1 && m=$SINGLE
		t0=$(now_s)
		timeout 900 smtp-source -d -s "$s" -m "$m" -F "$MSG" "$@" "127.0.0.1:$port" >"$W/$name.out" 2>&1
		rc=$?
		t1=$(now_s)
		if [ "$rc" -ne 0 ]; then
			echo "  $name: smtp-source failed (exit $rc): $(head -c 300 "$W/$name.out")" >&2
			row "${name}_rate" nan
		else
			row "${name}_rate" "$(rate "$m" "$(elapsed "$t0" "$t1")")"
		fi
		;;
	unique | replay)
		if [ "$kind" = unique ]; then
			set -- --count "$MSGS" --unique --mode data "$@" "$MSG.crlf"
		else
			set -- --files-from "$W/enron.list" --mode "$REPLAY_MODE" "$@"
		fi
		rm -f "$W/$name.log"
		sc send --port "$port" --conns 20 --from bench@vellum.test --rcpt bench@vellum.test \
			--log "$W/$name.log" "$@" 2>"$W/$name.sum"
		rc=$?
		[ "$rc" -eq 0 ] || echo "  $name: not every message was acknowledged: $(cat "$W/$name.sum")" >&2
		row "${name}_rate" "$(sumf "$W/$name.sum" rate)"
		row "${name}_p50" "$(sumf "$W/$name.sum" ack_p50_ms)"
		row "${name}_p99" "$(sumf "$W/$name.sum" ack_p99_ms)"
		;;
	esac
}

vsql() { "$VELLUM" --data "$D" db psql -X -q -A -t -c "$1"; }
# drain - until no message waits for serve's indexer (at most 300 s) and no autovacuum worker
# runs (at most 120 s more), so that a load is not measured against the indexing, or the VACUUM
# ANALYZE of ledger and message_index that PostgreSQL starts after, the loads before it
# (measured: one session right after the unique loads, 308 msgs/s; 10 s later, 409).
drain() {
	_k=0
	while [ "$(vsql "select count(*) from messages where indexed_at is null")" -gt 0 ] &&
		[ "$_k" -lt 3000 ]; do
		sleep 0.1
		_k=$((_k + 1))
	done
	_k=0
	while [ "$(vsql "select count(*) from pg_stat_activity
			where backend_type = 'autovacuum worker'")" -gt 0 ] && [ "$_k" -lt 1200 ]; do
		sleep 0.1
		_k=$((_k + 1))
	done
}

run=0
while [ "$run" -lt "$RUNS" ]; do
	run=$((run + 1))
	: >"$W/rows.$run"
	set -- $(sc ports -n 6)
	VS=$1 VL=$2 VH=$3 SINK=$4 DVP=$5

	# ---- Vellum ----------------------------------------------------------------------------
	D=$W/vellum$run
	"$VELLUM" --data "$D" init >"$W/init.log" 2>&1 || die "init failed: $(tail -n 5 "$W/init.log")"
	sed -i -e "s|^smtp_listen *=.*|smtp_listen = 127.0.0.1:$VS|" \
		-e "s|^lmtp_listen *=.*|lmtp_listen = 127.0.0.1:$VL|" \
		-e "s|^http_listen *=.*|http_listen = 127.0.0.1:$VH|" "$D/vellum.conf"
	"$VELLUM" --data "$D" db start >"$W/db.log" 2>&1 || die "db start failed: $(tail -n 5 "$W/db.log")"
	"$VELLUM" --data "$D" serve 2>"$W/serve$run.log" &
	SERVE_PID=$!
	sc wait --port "$VS" --seconds 60 || die "serve did not start: $(tail -n 5 "$W/serve$run.log")"

	# The Enron replay first, into the fresh archive, and how long until it is searchable.
	t0=$(now_s)
	load v_smtp_enron replay "$VS"
	t1=$(now_s)
	# Every acknowledged message counts once searchable (the corpus's duplicates too: they are
	# found like the others; only one copy of each is indexed).
	stored=$(awk -F'\t' '$1 == "ok"' "$W/v_smtp_enron.log" | wc -l)
	lag=$(vsql "select count(*) from messages where indexed_at is null")
	row v_lag "$lag"
	# Does serve index on its own? Watch the queue for up to 2 s; if it does not shrink, drain
	# it with `vellum index` and count only that command's time after the load.
	how=serve
	t2=$t1
	left=$lag
	if [ "$lag" -gt 0 ]; then
		k=0
		while [ "$k" -lt 10 ] && [ "$left" -ge "$lag" ]; do
			sleep 0.2
			k=$((k + 1))
			left=$(vsql "select count(*) from messages where indexed_at is null")
		done
		tidx=$t1
		if [ "$left" -ge "$lag" ]; then
			how="vellum index"
			tidx=$(now_s)
			"$VELLUM" --data "$D" index >"$W/index$run.out" 2>"$W/index$run.err" ||
				echo "  vellum index failed: $(tail -n 3 "$W/index$run.err")" >&2
		fi
		waited=0
		while [ "$left" -gt 0 ] && [ "$waited" -lt 6000 ]; do
			left=$(vsql "select count(*) from messages where indexed_at is null")
			[ "$left" -gt 0 ] && sleep 0.1
			waited=$((waited + 1))
		done
		t2=$(now_s)
		# Without serve's own indexer, the 2 s of watching are not the archive's time.
		[ "$how" = serve ] || t2=$(awk -v a="$t1" -v b="$t2" -v c="$tidx" 'BEGIN { printf "%.3f", a + (b - c) }')
	fi
	if [ "$left" -eq 0 ]; then
		row v_searchable "$(rate "$stored" "$(elapsed "$t0" "$t2")")"
	else
		row v_searchable nan
	fi
	echo "$how" >"$W/index.how"

	# Each later load starts, as the first did, with no message waiting for the indexer: its
	# own messages are indexed while it runs, the earlier loads' are not.
	drain
	load v_lmtp_enron replay "$VL" --lmtp --unique
	drain
	load v_smtp_src source20 "$VS" -f bench@vellum.test -t archive@vellum.test
	drain
	load v_lmtp_src source20 "$VL" -L -f bench@vellum.test -t archive@vellum.test
	drain
	load v_smtp_uniq unique "$VS"
	drain
	load v_lmtp_uniq unique "$VL" --lmtp
	drain
	load v_smtp_single single "$VS" -f bench@vellum.test -t archive@vellum.test
	drain
	load v_lmtp_single single "$VL" -L -f bench@vellum.test -t archive@vellum.test
	kill -TERM "$SERVE_PID"
	wait "$SERVE_PID"
	SERVE_PID=
	"$VELLUM" --data "$D" db stop >/dev/null 2>&1
	chattr -R -i -a "$D" >/dev/null 2>&1 || true
	rm -rf "$D"
	D=

	# ---- smtp-sink: the protocol ceiling ------------------------------------------------------
	smtp-sink -u nobody -c "127.0.0.1:$SINK" 1000 >/dev/null 2>"$W/sink.err" &
	SINK_PID=$!
	sc wait --port "$SINK" --seconds 30 || die "smtp-sink did not start: $(head -c 300 "$W/sink.err")"
	load sink_enron replay "$SINK"
	load sink_src source20 "$SINK" -f bench@vellum.test -t archive@vellum.test
	load sink_uniq unique "$SINK"
	load sink_single single "$SINK" -f bench@vellum.test -t archive@vellum.test
	kill -TERM "$SINK_PID"
	wait "$SINK_PID" 2>/dev/null
	SINK_PID=

	# ---- Dovecot LMTP into a zstd Maildir with fsync --------------------------------------------
	if [ "$DOVECOT" = 1 ]; then
		id vbench >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin vbench ||
			die "cannot create the user vbench"
		DW=$W/dv$run
		mkdir -p "$DW/dovecot/home"
		chown vbench:vbench "$DW/dovecot/home"
		sed -e "s|@W@|$DW|g" -e "s|@FMT@|maildir|g" -e "s|port = 2424|port = $DVP|" \
			"$PEERS/dovecot-lmtp.conf.in" >"$DW/dovecot.conf"
		DV_RUN=$DW/dovecot/run
		dovecot -c "$DW/dovecot.conf" || die "dovecot did not start: $(tail -n 5 "$DW/dovecot/dovecot.log")"
		sc wait --port "$DVP" --lmtp --seconds 30 || die "dovecot LMTP does not answer: $(tail -n 5 "$DW/dovecot/dovecot.log")"
		load dv_enron replay "$DVP" --lmtp
		load dv_src source20 "$DVP" -L -f bench@vellum.test -t bench@vellum.test
		load dv_uniq unique "$DVP" --lmtp
		load dv_single single "$DVP" -L -f bench@vellum.test -t bench@vellum.test
		kill -TERM "$(cat "$DV_RUN/master.pid")"
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			[ -f "$DV_RUN/master.pid" ] || break
			sleep 0.3
		done
		DV_RUN=
		rm -rf "$DW"
	fi
	printf 'run %d: Vellum SMTP smtp-source %s msgs/s, Enron %s msgs/s; smtp-sink %s; Dovecot %s; searchable %s msgs/s (%s)\n' \
		"$run" "$(awk '$1 == "v_smtp_src_rate" { print $2 }' "$W/rows.$run")" \
		"$(awk '$1 == "v_smtp_enron_rate" { print $2 }' "$W/rows.$run")" \
		"$(awk '$1 == "sink_src_rate" { print $2 }' "$W/rows.$run")" \
		"$(awk '$1 == "dv_src_rate" { print $2 }' "$W/rows.$run")" \
		"$(awk '$1 == "v_searchable" { print $2 }' "$W/rows.$run")" "$(cat "$W/index.how")"
done
echo

cat "$W"/rows.* | awk -v dovecot="$DOVECOT" -v how="$(cat "$W/index.how")" -v runs="$RUNS" '
	{ n[$1]++; v[$1, n[$1]] = $2 }
	function med(k,   i, j, t, a, c) {
		c = 0
		for (i = 1; i <= n[k]; i++) if (v[k, i] != "nan" && v[k, i] != "") a[++c] = v[k, i] + 0
		if (c == 0) return "nan"
		for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return c % 2 ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
	}
	function f(x, fmt) { return x == "nan" ? "n/a" : sprintf(fmt, x) }
	function ratio(a, b) { return (a == "nan" || b == "nan" || b == 0) ? "n/a" : sprintf("%.2fx", a / b) }
	function line(label, vs, vl, sk, dv, fmt) {
		printf "%-34s %12s %12s %12s %12s %11s %14s\n", label, f(vs, fmt), f(vl, fmt), f(sk, fmt),
			f(dv, fmt), ratio(vs, sk), ratio(vl, dv)
	}
	END {
		printf "%-34s %12s %12s %12s %12s %11s %14s\n", "median of " runs " runs", "Vellum SMTP",
			"Vellum LMTP", "smtp-sink", "Dovecot LMTP", "V-SMTP/sink", "V-LMTP/Dovecot"
		printf "%-34s %12s %12s %12s %12s %11s %14s\n", "----------------------------------", "------------",
			"------------", "------------", "------------", "-----------", "--------------"
		line("smtp-source -s 20, msgs/s", med("v_smtp_src_rate"), med("v_lmtp_src_rate"), med("sink_src_rate"), med("dv_src_rate"), "%.0f")
		line("20 KB unique, 20 conns, msgs/s", med("v_smtp_uniq_rate"), med("v_lmtp_uniq_rate"), med("sink_uniq_rate"), med("dv_uniq_rate"), "%.0f")
		line("  ack latency p50, ms", med("v_smtp_uniq_p50"), med("v_lmtp_uniq_p50"), med("sink_uniq_p50"), med("dv_uniq_p50"), "%.1f")
		line("  ack latency p99, ms", med("v_smtp_uniq_p99"), med("v_lmtp_uniq_p99"), med("sink_uniq_p99"), med("dv_uniq_p99"), "%.1f")
		line("Enron replay, 20 conns, msgs/s", med("v_smtp_enron_rate"), med("v_lmtp_enron_rate"), med("sink_enron_rate"), med("dv_enron_rate"), "%.0f")
		line("  ack latency p50, ms", med("v_smtp_enron_p50"), med("v_lmtp_enron_p50"), med("sink_enron_p50"), med("dv_enron_p50"), "%.1f")
		line("  ack latency p99, ms", med("v_smtp_enron_p99"), med("v_lmtp_enron_p99"), med("sink_enron_p99"), med("dv_enron_p99"), "%.1f")
		line("single session, msgs/s", med("v_smtp_single_rate"), med("v_lmtp_single_rate"), med("sink_single_rate"), med("dv_single_rate"), "%.0f")
		vs = med("v_searchable"); dvr = med("dv_enron_rate")
		printf "%-34s %12s %12s %12s %12s %11s %14s\n", "searchable (Enron, SMTP), msgs/s", f(vs, "%.0f"), "-", "-",
			f(dvr, "%.0f"), "-", ratio(vs, dvr)
		printf "%-34s %12s\n", "  index lag at end of load, msgs", f(med("v_lag"), "%.0f")
		printf "\n"
		printf "searchable: messages the Enron replay got acknowledged / time from its start until none waits for the\n"
		printf "indexer (drained by: %s). Dovecot indexes nothing here: its figure is its Enron rate.\n", how
		printf "smtp-source sends the same bytes each time: Vellum stores one copy and a receipt per message.\n"
		printf "\n"
		a = med("v_smtp_src_rate"); al = med("v_lmtp_src_rate"); d = med("dv_src_rate"); s = med("sink_src_rate")
		vs1 = med("v_smtp_single_rate"); vl1 = med("v_lmtp_single_rate"); d1 = med("dv_single_rate")
		printf "aims (smtp-source rows): acknowledged >= 4x Dovecot: SMTP %s, LMTP %s (%s); >= 0.5x smtp-sink: %s (%s);\n",
			ratio(a, d), ratio(al, d), (d == "nan" ? "n/a" : ((a >= 4 * d && al >= 4 * d) ? "met" : "NOT met")),
			ratio(a, s), (s == "nan" ? "n/a" : (a >= 0.5 * s ? "met" : "NOT met"))
		printf "      searchable >= 2x Dovecot: %s (%s); single session >= 2x Dovecot: SMTP %s, LMTP %s (%s)\n",
			ratio(vs, dvr), (vs == "nan" || dvr == "nan" ? "n/a" : (vs >= 2 * dvr ? "met" : "NOT met")),
			ratio(vs1, d1), ratio(vl1, d1), (d1 == "nan" ? "n/a" : ((vs1 >= 2 * d1 && vl1 >= 2 * d1) ? "met" : "NOT met"))
	}'
