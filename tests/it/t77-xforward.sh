#!/bin/sh
# t77-xforward - Postfix's XFORWARD: a relay says who its client was, and each receipt keeps it
# beside what Vellum saw itself. Python smtplib announces attributes over SMTP and LMTP (two
# commands, as Postfix splits them); bad names and values get 501, XFORWARD inside a transaction
# 503; the receipt holds the canonical text and still names the relay as client_addr and helo;
# the API's envelope shows it; a message without XFORWARD has none, and a message after an
# XFORWARD'd one does not inherit it; rebuild-index restores it from the sealed receipt; with
# smtp_xforward = 0 it is not offered and gets 550, and mail still flows.
. "$(dirname "$0")/lib.sh"

. "$IT_DIR/serve.sh"

serve_begin
it_archive
serve_ports
serve_start

# xf_send PORT LMTP(0|1) FROM ARGS... - EHLO, one XFORWARD per ARG, then a message from FROM;
# prints "ehlo:<XFORWARD keyword line or ->" and each XFORWARD's code, then "sent" or the error.
xf_send() {
	python3 - "$@" <<'EOF'
import smtplib, sys
port, lmtp, sender, cmds = int(sys.argv[1]), sys.argv[2] == "1", sys.argv[3], sys.argv[4:]
s = smtplib.LMTP("127.0.0.1", port, timeout=30) if lmtp else smtplib.SMTP("127.0.0.1", port, timeout=30)
s.ehlo("relay.t77.test")
print("ehlo:" + (s.esmtp_features.get("xforward", "-").strip() or "-"))
for c in cmds:
    code, text = s.docmd("XFORWARD", c)
    print(code, text.decode())
try:
    s.sendmail(sender, ["archive@t77.test"], ("From: " + sender + "\r\nSubject: t77\r\n\r\nxforward\r\n").encode())
    print("sent")
except smtplib.SMTPException as e:
    print("error", e)
s.quit()
EOF
}
# receipt_xf SENDER - "client_addr|helo|xforward" of SENDER's receipt.
receipt_xf() {
	sql "select client_addr || '|' || helo || '|' || coalesce(xforward, '<null>')
	from receipts where mail_from = '$1'"
}

# ---- SMTP: two commands, as Postfix sends them ----------------------------------------------------
xf_send "$SMTP_PORT" 0 a@up.t77.test "NAME=mx1.upstream.test ADDR=198.51.100.7 PORT=41234" \
	"PROTO=ESMTP HELO=laptop.upstream.test IDENT=4Dq1x2 SOURCE=REMOTE" >"$W/smtp.out" 2>&1
grep -q '^ehlo:NAME ADDR PORT PROTO HELO IDENT SOURCE$' "$W/smtp.out"
verdict "EHLO offers XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE" $? "$(excerpt "$W/smtp.out")"
[ "$(grep -c '^250 2.0.0 Ok$' "$W/smtp.out")" -eq 2 ] && grep -q '^sent$' "$W/smtp.out"
verdict "both XFORWARD commands get 250 and the message is accepted" $? "$(excerpt "$W/smtp.out")"
want="127.0.0.1|relay.t77.test|NAME=mx1.upstream.test ADDR=198.51.100.7 PORT=41234 PROTO=ESMTP HELO=laptop.upstream.test IDENT=4Dq1x2 SOURCE=REMOTE"
got=$(receipt_xf a@up.t77.test)
[ "$got" = "$want" ]
verdict "the receipt keeps the relay's claim beside the relay itself (client_addr, helo)" $? "$got"

# ---- LMTP, an IPv6 address, [UNAVAILABLE] -----------------------------------------------------------
xf_send "$LMTP_PORT" 1 b@up.t77.test "ADDR=IPv6:2001:db8::25 NAME=[UNAVAILABLE] HELO=h+2Bx" \
	>"$W/lmtp.out" 2>&1
got=$(receipt_xf b@up.t77.test)
grep -q '^sent$' "$W/lmtp.out" && [ "$got" = "127.0.0.1|relay.t77.test|ADDR=IPv6:2001:db8::25 HELO=h+2Bx" ]
verdict "LMTP: an IPv6 ADDR, an unavailable NAME left out, xtext kept canonical" $? "$got $(excerpt "$W/lmtp.out")"

# ---- refusals -------------------------------------------------------------------------------------
xf_send "$SMTP_PORT" 0 c@up.t77.test "COLOR=blue" "ADDR=300.1.1.1" "PORT=70000" "SOURCE=MARS" \
	"ADDR=192.0.2.1 HELO=bad=value" >"$W/bad.out" 2>&1
[ "$(grep -c '^501 5.5.4 Bad XFORWARD attribute name$' "$W/bad.out")" -eq 1 ] &&
	[ "$(grep -c '^501 5.5.4 Bad XFORWARD attribute value$' "$W/bad.out")" -eq 4 ] &&
	grep -q '^sent$' "$W/bad.out" && [ "$(receipt_xf c@up.t77.test)" = "127.0.0.1|relay.t77.test|<null>" ]
verdict "bad names and values get 501 and set nothing (a refused command sets none of its attributes)" $? \
	"$(excerpt "$W/bad.out") $(receipt_xf c@up.t77.test)"
python3 - "$SMTP_PORT" >"$W/intx.out" 2>&1 <<'EOF'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30)
s.ehlo("relay.t77.test")
print(s.docmd("XFORWARD", "ADDR=192.0.2.10")[0])
s.mail("d@up.t77.test")
code, text = s.docmd("XFORWARD", "ADDR=192.0.2.99")
print(code, text.decode())
s.rcpt("archive@t77.test")
print(s.data(b"Subject: t77 d\r\n\r\nd\r\n")[0])
# The next message, with no XFORWARD of its own, inherits nothing.
s.sendmail("e@up.t77.test", ["archive@t77.test"], b"Subject: t77 e\r\n\r\ne\r\n")
print("sent")
s.quit()
EOF
grep -q '^503 5.5.1 Error: MAIL transaction in progress$' "$W/intx.out" &&
	[ "$(receipt_xf d@up.t77.test)" = "127.0.0.1|relay.t77.test|ADDR=192.0.2.10" ]
verdict "XFORWARD inside a transaction gets 503; the one before MAIL stands" $? "$(excerpt "$W/intx.out") $(receipt_xf d@up.t77.test)"
[ "$(receipt_xf e@up.t77.test)" = "127.0.0.1|relay.t77.test|<null>" ]
verdict "the next message on the connection does not inherit it" $? "$(receipt_xf e@up.t77.test)"
swaks --server "127.0.0.1:$SMTP_PORT" --from f@up.t77.test --to archive@t77.test >"$W/swaks.out" 2>&1
[ "$(receipt_xf f@up.t77.test | cut -d'|' -f3)" = "<null>" ]
verdict "swaks without XFORWARD: no xforward in the receipt" $? "$(receipt_xf f@up.t77.test)"

# ---- the API's envelope -----------------------------------------------------------------------------
v token create --name t77 --role officer 2>&1 | tail -n 1 >"$W/tok"
HP=$(sed -n 's/^http_listen *= *127\.0\.0\.1://p' "$D/vellum.conf")
mid=$(sql "select message_id from receipts where mail_from = 'a@up.t77.test'")
curl -s --max-time 30 -H "Authorization: Bearer $(cat "$W/tok")" \
	"http://127.0.0.1:$HP/v1/messages/$mid" >"$W/api.json"
python3 - "$W/api.json" <<'EOF'
import json, sys
env = json.load(open(sys.argv[1]))["envelope"]
assert env[0]["xforward"].startswith("NAME=mx1.upstream.test ADDR=198.51.100.7 "), env
EOF
verdict "GET /v1/messages/{id} shows the receipt's xforward" $? "$(head -c 400 "$W/api.json")"
serve_stop_check "serve stops cleanly (no sanitizer report)"

# ---- rebuild-index restores it ----------------------------------------------------------------------
rebuild_same "select mail_from || '|' || coalesce(xforward, '-') from receipts order by mail_from" &&
	grep -q '^b@up.t77.test|ADDR=IPv6' "$W/rebuild.after"
verdict "rebuild-index gives back each receipt's xforward" $? "$(rebuild_diff)"

# ---- smtp_xforward = 0 --------------------------------------------------------------------------------
conf_set smtp_xforward 0
serve_start
xf_send "$SMTP_PORT" 0 g@up.t77.test "ADDR=192.0.2.1" >"$W/off.out" 2>&1
grep -q '^ehlo:-$' "$W/off.out" && grep -q '^550 5.7.0 Error: insufficient authorization$' "$W/off.out" &&
	grep -q '^sent$' "$W/off.out" && [ "$(receipt_xf g@up.t77.test | cut -d'|' -f3)" = "<null>" ]
verdict "smtp_xforward = 0: not offered, 550, the message still accepted without it" $? "$(excerpt "$W/off.out")"
serve_stop_check "serve stops cleanly after the second phase"
v verify --all >"$W/verify.out" 2>&1
verdict "verify --all passes" $? "$(tail -n 5 "$W/verify.out" | tr '\n' '|')"
