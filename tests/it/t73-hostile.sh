#!/bin/sh
# t73-hostile - `vellum serve` against hostile clients: bare LF and CR, NUL bytes, 8-bit and
# missing headers, broken MIME, long lines (all archived exactly); overlong commands (500, the
# session goes on); messages over message_max_mb (552 5.3.4 by BDAT, DATA, chunks or SIZE=, the
# session goes on); clients that vanish mid-DATA or mid-BDAT (nothing stored); 1,000 idle
# connections while another client delivers in under 5 s; 100 MB messages by BDAT and DATA;
# max_connections (421), command timeouts (421 4.4.2) and the longer data timeout inside DATA and
# BDAT chunks, client_networks (554).
# The archive ends up holding exactly the accepted messages. Then the optimised build takes the
# same abuse: its peak RSS (VmHWM) must stay under 64 MB (IT_SERVE_RSS_LIMIT_KB), and under
# 256 MB (IT_SERVE_RSS_INDEX_LIMIT_KB) once five 100 MB messages were accepted and indexed.
. "$(dirname "$0")/lib.sh"

. "$IT_DIR/serve.sh"

# Bounds on serve's peak RSS (optimised build): the receiver alone (1,000 connections, spools
# of refused and abandoned messages), and once large messages were accepted and indexed: the
# indexer parses up to INDEXER_RAW_MAX (64 MB) of a message with GMime, ~2.3x that in memory.
LIMIT_KB=${IT_SERVE_RSS_LIMIT_KB:-65536}
LIMIT_INDEX_KB=${IT_SERVE_RSS_INDEX_LIMIT_KB:-262144}

serve_begin
# 1,000 idle connections need more descriptors than the usual 1024, in serve and in the client.
[ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 8192 ] &&
	{ ulimit -n 8192 2>/dev/null || say "could not raise the open-file limit (now $(ulimit -n))"; }
it_archive
serve_ports
: >"$W/expect.sha"

# hostile PHASE - run one phase of tests/it's Python driver below against the running serve.
# It prints "V<TAB>0|1<TAB>name<TAB>detail" verdicts and "S<TAB>sha256<TAB>what" for each
# message that must be archived; everything else sent must not be.
hostile() {
	python3 - "$1" "$SMTP_PORT" "$LMTP_PORT" "$LMTP_SOCK" "$IT_DIR" "$W" >"$W/hostile-$1.out" 2>"$W/hostile-$1.err" <<'EOF'
import hashlib, os, socket, sys, time
phase, port, lport, lsock, itdir, w = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
sys.path.insert(0, itdir)
import smtpclient as sc

def V(ok, name, detail=""):
    print("V\t%d\t%s\t%s" % (0 if ok else 1, name, str(detail).replace("\n", " ")[:400]), flush=True)

def S(data, what):
    print("S\t%s\t%s" % (hashlib.sha256(data).hexdigest(), what), flush=True)

def session(**kw):
    return sc.Session(port=kw.pop("p", port), **kw)

def send(s, data, mode="bdat", frm="hostile@x", rcpts=("archive@x",), **kw):
    r = s.transaction(sc.Msg("m", data=data), frm, list(rcpts), mode=mode, **kw)
    return r["codes"], r["reply"], r["sha256"]

def deliver(name, data, mode="bdat", **kw):
    """A message that must get 250 and be archived exactly."""
    try:
        s = session()
        codes, reply, sha = send(s, data, mode, **kw)
        s.quit()
        ok = codes == [250] and sha == hashlib.sha256(data).hexdigest()
        V(ok, name, "%s %s" % (codes, reply))
        if ok:
            S(data, name)
    except sc.SmtpError as e:
        V(False, name, e)

def still_serving(name):
    deliver(name + ": the server still serves (a new message gets 250)",
            b"Subject: still serving after " + name.encode() + b"\r\n\r\n" + os.urandom(8).hex().encode() + b"\r\n")

def raw(data_out, replies, wait=0.0, p=port):
    """Send bytes on a fresh connection (after the greeting), read that many replies."""
    s = session(p=p, ehlo=False)
    s.send(data_out)
    got = [s.reply() for _ in range(replies)]
    s.close()
    return got

if phase == "protocol":
    # -- bare LF, bare CR, NUL, 8-bit, no headers, broken MIME: archived exactly ----------------
    lf = b"From: lf@x\nSubject: bare LF everywhere\n\nline one\n.leading dot\nline three\n"
    deliver("bare-LF message by DATA (dot-stuffed)", lf, mode="data")
    deliver("bare-LF message by BDAT", lf + b"bdat\n")
    try:
        s = session()
        s.send(b"MAIL FROM:<lf@x>\r\nRCPT TO:<a@x>\r\nDATA\r\n")
        got = [s.reply()[0] for _ in range(3)]
        body = b"Subject: ends with a bare-LF end marker\n\nbody\n"
        s.send(body + b".\n")
        got.append(s.reply()[0])
        s.quit()
        V(got == [250, 250, 354, 250], "DATA ended by a bare-LF '.' line (LF.LF) is accepted", got)
        if got[-1] == 250:
            S(body, "LF.LF")
    except sc.SmtpError as e:
        V(False, "DATA ended by LF.LF", e)
    deliver("bare CR and CR-only lines archived exactly", b"Subject: cr\r\n\r\na\rb\r\r\nc\r.\r\n..\rx\r\n", mode="data")
    nul = b"Subject: NUL bytes\r\n\r\nbefore\0after\r\n\0\0\0\r\n" + bytes(range(256)) + b"\r\n"
    deliver("NUL and every byte value by BDAT", nul)
    deliver("NUL bytes by DATA", nul.replace(b"Subject: NUL", b"Subject: NUL DATA"), mode="data")
    deliver("no headers at all", b"just a body line, no header, no blank line\r\nsecond\r\n", mode="data")
    deliver("no blank line, no final line end", b"Subject: only a header")
    deliver("8-bit headers (UTF-8 and Latin-1 raw)",
            "From: Jürgen Groß <j@x>\r\nSubject: Prüfbericht – 報告\r\n".encode() +
            b"To: Ren\xe9 <r@x>\r\n\r\n\xe9t\xe9\r\n", mail_params=" BODY=8BITMIME")
    deliver("8-bit headers with SMTPUTF8", "From: <jürgen@bücher.example>\r\nSubject: ü\r\n\r\nx\r\n".encode(),
            frm="jürgen@bücher.example", mail_params=" SMTPUTF8")
    deliver("broken MIME: boundary never closed, part headers garbled",
            b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nx\r\n'
            b'--b1\r\nContent-Type: multipart/alternative; boundary="b1"\r\n\r\n--b1\r\n: no name\r\n\r\ny\r\n', mode="data")
    deliver("broken MIME: declared boundary absent, base64 garbage",
            b'Content-Type: multipart/mixed; boundary="nowhere"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
            b'!!!not base64===\r\n--elsewhere--\r\n', mode="data")
    deliver("a 100,000-byte line without a line end inside", b"Subject: long line\r\n\r\n" + b"L" * 100000 + b"\r\n", mode="data")
    deliver("BDAT in 1-byte and odd chunks", b"Subject: chunks\r\n\r\n" + b"abc\r\n" * 50, chunk=7)
    deliver("a message of one byte", b"x")

    # -- overlong commands: 500, and the session goes on ---------------------------------------------
    try:
        s = session()
        c1 = s.cmd(b"NOOP " + b"x" * 595)            # 600 bytes with CRLF
        c2 = s.cmd(b"MAIL FROM:<" + b"a" * 590 + b"@x>")
        s.send(b"Z" * 200000 + b"\r\n")            # 200 KB without a line end
        c3 = s.reply()
        c4 = s.cmd(b"NOOP")
        data = b"Subject: after overlong commands\r\n\r\nok\r\n"
        codes, reply, sha = send(s, data)
        s.quit()
        V(c1[0] == 500 and c2[0] == 500 and c3[0] == 500, "overlong command lines (600 bytes, 200 KB) get 500",
          (c1, c2, c3))
        V(c4[0] == 250 and codes == [250], "after overlong commands the session goes on (NOOP, a message)", (c4, codes, reply))
        if codes == [250]:
            S(data, "after overlong")
    except sc.SmtpError as e:
        V(False, "overlong command", e)
    try:
        got = raw(b"\0\0GARBAGE\r\nEHLO\r\nMAIL FROM:<x@y>\r\nDATA\r\nBDAT 10 LAST\r\n0123456789QUIT\r\n", 6)
        codes = [g[0] for g in got]
        V(all(500 <= c < 600 for c in codes[:5]) and codes[5] == 221,
          "garbage and out-of-order commands get 5xx, then QUIT 221", got)
    except sc.SmtpError as e:
        V(False, "garbage commands", e)

    # -- over message_max_mb (5): 552 5.3.4, the session goes on -------------------------------------
    big = b"Subject: over the limit\r\n\r\n" + (b"0123456789" * 7 + b"\r\n") * 90000   # ~6.5 MB
    for mode, kw, name in (("bdat", {}, "by BDAT"), ("data", {}, "by DATA"),
                           ("bdat", {"chunk": 1 << 20}, "by BDAT in 1 MB chunks"),
                           ("bdat", {"size_param": True}, "announced with SIZE=")):
        try:
            s = session()
            codes, reply, _ = send(s, big, mode, **kw)
            c = s.cmd("NOOP")
            data = ("Subject: after 552 %s\r\n\r\nok\r\n" % name).encode()
            codes2, _, _ = send(s, data)
            s.quit()
            V(codes == [552] and "5.3.4" in reply, "message over message_max_mb %s: 552 5.3.4" % name, (codes, reply))
            V(c[0] == 250 and codes2 == [250], "after 552 %s the session goes on" % name, (c, codes2))
            if codes2 == [250]:
                S(data, "after 552")
        except sc.SmtpError as e:
            V(False, "over the limit " + name, e)

    # -- clients that vanish mid-message: nothing stored, the server goes on --------------------------
    for what, lead, body in (
            ("mid-DATA", b"MAIL FROM:<gone@x>\r\nRCPT TO:<a@x>\r\nDATA\r\n", b"Subject: gone\r\n\r\n" + b"g" * 50000),
            ("mid-DATA after 3 MB (spilled to disk)", b"MAIL FROM:<gone@x>\r\nRCPT TO:<a@x>\r\nDATA\r\n",
             b"Subject: gone big\r\n\r\n" + (b"G" * 998 + b"\r\n") * 3000),
            ("mid-DATA just before the final dot", b"MAIL FROM:<gone@x>\r\nRCPT TO:<a@x>\r\nDATA\r\n",
             b"Subject: gone at the end\r\n\r\nalmost\r\n"),
            ("mid-BDAT", b"MAIL FROM:<gone@x>\r\nRCPT TO:<a@x>\r\nBDAT 2000000 LAST\r\n", b"B" * 1500000),
            ("between BDAT chunks", b"MAIL FROM:<gone@x>\r\nRCPT TO:<a@x>\r\nBDAT 5 \r\n", b"12345")):
        try:
            s = session()
            s.send(lead + body)
            time.sleep(0.2)
            s.sock.shutdown(socket.SHUT_RDWR)
            s.close()
        except sc.SmtpError as e:
            V(False, "disconnect " + what, e)
        time.sleep(0.3)
        still_serving("client gone " + what)

    # -- 1,000 idle connections (half of them in the middle of a command) -----------------------------
    idle = []
    opened = 0
    try:
        for i in range(1000):
            s = session(ehlo=False)
            if i % 2:
                s.send(b"MAIL FROM:<half-a-comm")
            idle.append(s)
        opened = len(idle)
    except sc.SmtpError as e:
        V(False, "1000 idle connections open", "%d opened: %s" % (len(idle), e))
    t0 = time.time()
    try:
        s = session()
        codes = []
        for k in range(20):
            data = b"Subject: delivered beside 1000 idle connections %d\r\n\r\nbody\r\n" % k
            c, reply, _ = send(s, data)
            codes += c
            if c == [250]:
                S(data, "beside idle")
        s.quit()
        el = time.time() - t0
        V(opened == 1000 and codes == [250] * 20 and el < 5.0,
          "with 1000 idle connections open another client delivers 20 messages in under 5 s",
          "opened %d, %d of 20 got 250, %.2f s" % (opened, codes.count(250), el))
        print("I\t1000 idle: 20 messages in %.2f s" % el, flush=True)
    except sc.SmtpError as e:
        V(False, "delivery beside 1000 idle connections", e)
    alive = 0
    for i, s in enumerate(idle):
        try:
            if i % 2:
                s.send(b">\r\n")
                s.reply()
            if s.cmd("NOOP")[0] == 250:
                alive += 1
        except sc.SmtpError:
            pass
        s.close()
    V(alive == opened, "the 1000 idle connections are all still served afterwards", "%d of %d answered NOOP" % (alive, opened))

elif phase == "limits":
    # -- a 100 MB message by BDAT (1 MB chunks) and by DATA: archived exactly -------------------------
    path = os.path.join(w, "big.eml")
    want = hashlib.sha256(open(path, "rb").read()).hexdigest()
    for mode, chunk in (("bdat", 1 << 20), ("data", 0)):
        try:
            s = session()
            t0 = time.time()
            r = s.transaction(sc.Msg("big", path=path), "big@x", ["archive@x"], mode=mode, chunk=chunk)
            s.quit()
            V(r["codes"] == [250] and r["sha256"] == want and r["via"] == mode,
              "a 100 MB message by %s gets 250" % mode.upper(), "%s %s in %.1f s" % (r["codes"], r["reply"], time.time() - t0))
            print("S\t%s\t100 MB" % want, flush=True)
        except sc.SmtpError as e:
            V(False, "100 MB by " + mode, e)

    # -- max_connections = 50: 60 connections -> the last 10 get 421 ---------------------------------
    held, greet = [], {}
    for i in range(60):
        try:
            held.append(session(ehlo=False))
            greet[220] = greet.get(220, 0) + 1
        except sc.Refused as e:
            greet[e.code] = greet.get(e.code, 0) + 1
        except sc.SmtpError as e:
            greet["err"] = greet.get("err", 0) + 1
    V(greet.get(220) == 50 and greet.get(421) == 10, "max_connections=50: of 60 connections 50 get 220 and 10 get 421", greet)
    for s in held:
        s.close()
    time.sleep(0.3)
    still_serving("connections over the cap")

    # -- command_timeout_s = 3, data_timeout_s = 8 (RFC 5321 §4.5.3.2): an idle client is dropped
    # -- with 421 after the command timeout; one stalled inside a data block (DATA payload or BDAT
    # -- chunk) only after the data timeout, not the shorter command timeout.
    # The three clients wait side by side (threads), so the phase takes one data timeout.
    import threading
    def stall(what, lead, nrep, lo, hi, out):
        timer = "data_timeout_s=8" if nrep else "command_timeout_s=3"
        try:
            s = session(ehlo=bool(lead), timeout=20)
            t0 = time.time()
            if lead:
                s.send(lead)
                got = [s.reply()[0] for _ in range(nrep)]
            line = s.readline()
            el = time.time() - t0
            try:
                s.readline()
                closed = False
            except sc.SmtpError:
                closed = True
            out.append((line.startswith(b"421 4.4.2") and closed and lo <= el < hi,
                        "%s: a client %s gets 421 4.4.2 and is closed (after %g-%g s)" % (timer, what, lo, hi),
                        "%r after %.1f s, closed %s" % (line, el, closed)))
            s.close()
        except sc.SmtpError as e:
            out.append((False, "timeout " + what, e))
    cases = (("idle after the greeting", b"", 0, 3, 7.5),
             ("stalled mid-DATA", b"MAIL FROM:<stall@x>\r\nRCPT TO:<a@x>\r\nDATA\r\nSubject: stalled\r\n\r\nhalf", 3, 8, 14),
             ("stalled mid-BDAT chunk", b"MAIL FROM:<stall@x>\r\nRCPT TO:<a@x>\r\nBDAT 1000 LAST\r\nSubject: stalled\r\n\r\nhalf", 2, 8, 14))
    outs = [[] for _ in cases]
    threads = [threading.Thread(target=stall, args=c + (o,)) for c, o in zip(cases, outs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for o in outs:
        for v in o:
            V(*v)

elif phase == "networks":
    # -- client_networks = 10.0.0.0/8: a loopback client is refused with 554 -------------------------
    try:
        s = session(ehlo=False)
        s.close()
        V(False, "a client outside client_networks gets 554", "greeted 220")
    except sc.Refused as e:
        V(e.code == 554, "a client outside client_networks gets 554", "%d %s" % (e.code, e.text))
    except sc.SmtpError as e:
        V(False, "a client outside client_networks gets 554", e)
    try:
        s = session(p=lport, lmtp=True, ehlo=False)
        s.close()
        V(False, "on the LMTP TCP listener too", "greeted 220")
    except sc.Refused as e:
        V(e.code == 554, "a client outside client_networks gets 554 on the LMTP listener too", e.code)
    s = sc.Session(unix=lsock, lmtp=True)
    data = b"Subject: over the unix socket while TCP is closed to us\r\n\r\nx\r\n"
    codes, reply, _ = send(s, data)
    s.quit()
    V(codes == [250], "the LMTP Unix socket (filesystem permissions, no address) still delivers", (codes, reply))
    if codes == [250]:
        S(data, "unix")

elif phase == "memory":
    # The optimised build, measured: everything a client can do to the receiver's memory, at
    # once, short of having a large message accepted (that is the indexer's part: "bigmemory").
    idle = []
    for i in range(1000):
        s = session(ehlo=False)
        s.send(b"MAIL FROM:<half-a-comm" if i % 2 else b"EHLO x\r\n")
        idle.append(s)
    over = os.path.join(w, "over.eml")
    for mode, chunk in (("bdat", 0), ("data", 0), ("bdat", 1 << 20)):
        s = session()
        r = s.transaction(sc.Msg("over", path=over), "over@x", ["archive@x"], mode=mode, chunk=chunk)
        s.quit()
        V(r["codes"] == [552], "optimised build: 120 MB over message_max_mb=110 by %s%s gets 552" % (mode.upper(), " in 1 MB chunks" if chunk else ""), r["codes"])
    for k in range(20):
        s = session(ehlo=False)
        s.send(b"Z" * 1000000 + b"\r\n")
        s.reply()
        s.close()
    for k in range(3):
        s = session()
        s.send(b"MAIL FROM:<gone@x>\r\nRCPT TO:<a@x>\r\nBDAT 90000000 LAST\r\n" + b"B" * 60000000)
        s.close()
    s = session()
    data = b"Subject: beside the memory abuse\r\n\r\nx\r\n"
    codes, reply, _ = send(s, data)
    s.quit()
    V(codes == [250], "optimised build: a message beside 1000 idle connections and the abuse gets 250", (codes, reply))
    if codes == [250]:
        S(data, "beside memory abuse")
    for s in idle:
        s.close()

elif phase == "bigmemory":
    path = os.path.join(w, "big.eml")
    for mode, chunk in (("bdat", 0), ("data", 0), ("bdat", 1 << 20)):
        s = session()
        r = s.transaction(sc.Msg("big", path=path), "big@x", ["archive@x"], mode=mode, chunk=chunk)
        s.quit()
        V(r["codes"] == [250], "optimised build: 100 MB by %s%s gets 250" % (mode.upper(), " in 1 MB chunks" if chunk else ""), r["codes"])
    # And two more 100 MB messages that are new to the indexer.
    for k in (1, 2):
        data = (b"X-Variant: %d\r\n" % k) + open(path, "rb").read()
        s = session()
        codes, reply, _ = send(s, data, chunk=8 << 20)
        s.quit()
        V(codes == [250], "optimised build: another 100 MB message (%d) gets 250" % k, codes)
        if codes == [250]:
            S(data, "big variant")
EOF
	grep -E -v '^(V|S|I)	' "$W/hostile-$1.out" "$W/hostile-$1.err" | head -n 5
	grep '^I	' "$W/hostile-$1.out" | cut -f2 | while read -r l; do say "$l"; done
	while IFS='	' read -r kind st name detail; do
		case $kind in
		V) verdict "$name" "$st" "$detail" ;;
		S) echo "$st" >>"$W/expect.sha" ;;
		esac
	done <"$W/hostile-$1.out"
	grep -q '^V' "$W/hostile-$1.out"
	verdict "phase $1 ran to its end" $? "$(tail -n 3 "$W/hostile-$1.err" | tr '\n' '|')"
}

# alive NAME - serve is still running.
alive() {
	kill -0 "$SERVE_PID" 2>/dev/null
	verdict "$1" $? "serve is gone: $(tail -n 5 "$W/serve.log" | tr '\n' '|')"
}

# ---- phase 1: the protocol, hostile input, message_max_mb = 5 (sanitized build) -------------------
conf_set message_max_mb 5
serve_start
t0=$(now_s)
hostile protocol
say "protocol phase: $(since "$t0") s"
alive "serve survives the hostile protocol phase"
serve_stop_check "serve stops cleanly after the protocol phase (no sanitizer report)"

# ---- phase 2: 100 MB, max_connections = 50, command_timeout_s = 3 ---------------------------------
python3 - "$W/big.eml" "$W/over.eml" <<'EOF'
import base64, random, sys
def make(path, total, seed):
    r = random.Random(seed)
    with open(path, "wb") as f:
        f.write(b"From: Large Sender <large@example.org>\r\nTo: archive@example.org\r\n"
                b"Subject: a large message for t73\r\nMessage-ID: <large-%d@vellum.test>\r\nMIME-Version: 1.0\r\n"
                b"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\n" % seed)
        n = 0
        while f.tell() < total // 2:
            n += 1
            f.write(b"Line %09d of the quarterly report: revenue, costs, forecasts and notes.\r\n" % n)
            if n % 1000 == 0:
                f.write(b".a line that starts with a dot, stuffed by DATA\r\n")
        f.write(b"\r\n--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n")
        tail = b"\r\n--b1--\r\n"
        while f.tell() < total - len(tail) - 78 * 1000:
            f.write(base64.encodebytes(r.randbytes(57 * 1000)).replace(b"\n", b"\r\n"))
        f.write(b"x" * (total - len(tail) - f.tell()))
        f.write(tail)
make(sys.argv[1], 100 << 20, 100)
make(sys.argv[2], 120 << 20, 120)
EOF
conf_set message_max_mb 150
conf_set max_connections 50
conf_set command_timeout_s 3
conf_set data_timeout_s 8
serve_start
t0=$(now_s)
hostile limits
say "limits phase: $(since "$t0") s"
alive "serve survives the limits phase"
serve_stop_check "serve stops cleanly after the limits phase (no sanitizer report)"

# ---- phase 3: client_networks = 10.0.0.0/8 -----------------------------------------------------
conf_set max_connections 2000
conf_set command_timeout_s 300
conf_set data_timeout_s 600
conf_set client_networks "10.0.0.0/8"
"$VELLUM" --data "$D" serve 2>>"$W/serve.log" &
SERVE_PID=$!
# The greeting is a 554 now: wait for the Unix socket instead.
sc wait --unix "$LMTP_SOCK" --lmtp --seconds 60 2>>"$W/serve.log"
hostile networks
alive "serve survives refusing clients"
serve_stop_check "serve stops cleanly after the networks phase (no sanitizer report)"

# ---- everything the phases expected is archived, exactly, and nothing else ------------------------
sort -u "$W/expect.sha" >"$W/expect.sorted"
sql "select encode(sha256, 'hex') from messages" | sort -u >"$W/have.sha"
comm -3 "$W/expect.sorted" "$W/have.sha" >"$W/sha.diff"
[ ! -s "$W/sha.diff" ]
verdict "the archive holds exactly the accepted messages (nothing from vanished, refused or oversized ones)" $? \
	"$(wc -l <"$W/expect.sorted") expected, $(wc -l <"$W/have.sha") archived; left missing, right extra: $(head -n 4 "$W/sha.diff" | tr '\n\t' '| ')"
ls "$D/store/tmp" >"$W/tmp.left" 2>/dev/null
[ ! -s "$W/tmp.left" ]
verdict "no spool file is left in store/tmp" $? "$(head -n 5 "$W/tmp.left" | tr '\n' ' ')"
bigsha=$(sha256sum <"$W/big.eml" | cut -c1-64)
"$VELLUM_REL" --data "$D" cat "sha256:$bigsha" | cmp -s - "$W/big.eml"
verdict "vellum cat gives back the 100 MB message byte for byte" $?

t0=$(now_s)
v verify --all >"$W/verify.out" 2>&1
rc=$?
say "verify --all in $(since "$t0") s"
verdict "verify --all passes after the hostile phases" "$rc" "exit $rc: $(tail -n 5 "$W/verify.out" | tr '\n' '|')"

# ---- phase 4: memory of the optimised build under the same abuse, in a fresh archive --------------
# (fresh: the indexer must not be working through the 100 MB messages of phase 2 meanwhile)
it_archive
serve_ports
conf_set message_max_mb 110
serve_start "$VELLUM_REL"
# VmHWM counts the pages of mapped spool files too: sample the anonymous part on the side.
(
	max=0
	while [ -e "/proc/$SERVE_PID/status" ] && [ ! -e "$W/sampler.stop" ]; do
		a=$(awk '$1 == "RssAnon:" { print $2 }' "/proc/$SERVE_PID/status" 2>/dev/null)
		[ -n "$a" ] && [ "$a" -gt "$max" ] && max=$a && echo "$max" >"$W/anon.max"
		sleep 0.1
	done
) &
sampler=$!
# serve_hwm NAME LIMIT_KB - serve's VmHWM now is under LIMIT_KB.
serve_hwm() {
	hwm=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$SERVE_PID/status")
	say "serve (optimised) $1: VmHWM $hwm kB (limit $2 kB), RssAnon peak (sampled) $(cat "$W/anon.max" 2>/dev/null) kB"
	[ -n "$hwm" ] && [ "$hwm" -lt "$2" ]
	verdict "serve's peak RSS (VmHWM) $1 stays under $(($2 / 1024)) MB" $? "VmHWM $hwm kB"
}
hostile memory
alive "the optimised serve survives the memory abuse"
serve_hwm "after 1000 idle connections, 3 x 120 MB refused, 20 x 1 MB commands, 3 x 60 MB abandoned" "$LIMIT_KB"
hostile bigmemory
# Until the indexer has read them too.
wait_indexed
alive "the optimised serve survives 5 x 100 MB"
serve_hwm "after 5 x 100 MB accepted and indexed" "$LIMIT_INDEX_KB"
touch "$W/sampler.stop"
wait "$sampler"
serve_stop
v verify --all >"$W/verify.out" 2>&1
rc=$?
verdict "verify --all passes after the memory phases" "$rc" "exit $rc: $(tail -n 5 "$W/verify.out" | tr '\n' '|')"
