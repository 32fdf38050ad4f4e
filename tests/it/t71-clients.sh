#!/bin/sh
# t71-clients - real clients deliver to `vellum serve`, and the receipt records the envelope
# and trace: swaks over SMTP with STARTTLS and PIPELINING, swaks over LMTP with 3 recipients
# (3 replies), Python smtplib.SMTP with starttls and smtplib.LMTP over the Unix-socket
# listener, the raw client over STARTTLS, Postfix smtp-source with 20 parallel sessions over
# SMTP and LMTP. Each receipt holds MAIL FROM, every RCPT in order, client address, HELO, TLS
# (non-null after STARTTLS only) and the listener.
. "$(dirname "$0")/lib.sh"

. "$IT_DIR/serve.sh"

serve_begin
it_archive
serve_ports
serve_start
MSG=$ENRON/inbox/1.

# receipt_of MAIL_FROM - "source|mail_from|client_addr|helo|tls|listener|rcpts" of the one
# receipt with that MAIL FROM (rcpts: address:role in position order, space-separated).
receipt_of() {
	sql "select r.source, r.mail_from, r.client_addr, r.helo, coalesce(r.tls, '<null>'), r.listener,
		(select string_agg(e.address || ':' || e.role, ' ' order by e.position)
		 from envelope_recipients e where e.receipt_id = r.id)
	from receipts r where r.mail_from = '$1' order by r.id"
}
# expect_receipt NAME MAIL_FROM PATTERN - the receipt (one) matches the grep -E PATTERN.
expect_receipt() {
	receipt_of "$2" >"$W/receipt"
	[ "$(wc -l <"$W/receipt")" -eq 1 ] && grep -q -E "$3" "$W/receipt"
	verdict "$1" $? "receipt: $(tr '\n' '#' <"$W/receipt") want /$3/"
}

# ---- swaks, SMTP, STARTTLS and PIPELINING -------------------------------------------------------
swaks --server "127.0.0.1:$SMTP_PORT" -tls --pipeline --helo swaks-tls.test \
	--from swaks-tls@x.test --to t1@x.test,t2@x.test --header "Subject: t71 swaks tls" \
	>"$W/swaks1.out" 2>&1
rc=$?
grep -q 'TLS started with cipher TLSv1' "$W/swaks1.out" && grep -q '<~  250-PIPELINING' "$W/swaks1.out" &&
	grep -q '^<~  250 2\.0\.0' "$W/swaks1.out" && [ "$rc" -eq 0 ]
verdict "swaks SMTP with STARTTLS and PIPELINING: 250 2.0.0 after the dot" $? "exit $rc: $(tail -n 8 "$W/swaks1.out" | tr '\n' '|')"
expect_receipt "swaks STARTTLS receipt: envelope, client, helo, TLS version and cipher, listener" swaks-tls@x.test \
	"^smtp\|swaks-tls@x\.test\|127\.0\.0\.1\|swaks-tls\.test\|TLSv1\.[23] [A-Z0-9_-]+\|smtp:127\.0\.0\.1:$SMTP_PORT\|t1@x\.test:rcpt t2@x\.test:rcpt$"

# swaks with DATA and a bare-LF-free body, no TLS: tls stays null.
swaks --server "127.0.0.1:$SMTP_PORT" --helo swaks-plain.test --from swaks-plain@x.test --to p@x.test \
	>"$W/swaks2.out" 2>&1
rc=$?
[ "$rc" -eq 0 ]
verdict "swaks SMTP without TLS" $? "exit $rc: $(tail -n 5 "$W/swaks2.out" | tr '\n' '|')"
expect_receipt "plain SMTP receipt has no TLS" swaks-plain@x.test "^smtp\|swaks-plain@x\.test\|127\.0\.0\.1\|swaks-plain\.test\|<null>\|"

# ---- swaks, LMTP, 3 recipients -> 3 replies -----------------------------------------------------
swaks --server "127.0.0.1:$LMTP_PORT" --protocol LMTP --helo swaks-lmtp.test \
	--from swaks-lmtp@x.test --to l1@x.test,l2@x.test,l3@x.test >"$W/swaks3.out" 2>&1
rc=$?
replies=$(sed -n '/^ -> \.$/,/QUIT/p' "$W/swaks3.out" | grep -c '^<-  250 2\.0\.0 <l[123]@x\.test>')
order=$(sed -n '/^ -> \.$/,/QUIT/p' "$W/swaks3.out" | sed -n 's/^<-  250 2\.0\.0 <\(l[123]\)@x\.test>.*/\1/p' | tr -d '\n')
[ "$rc" -eq 0 ] && [ "$replies" -eq 3 ] && [ "$order" = l1l2l3 ]
verdict "swaks LMTP with 3 recipients gets 3 replies after the dot, in RCPT order" $? \
	"exit $rc, $replies replies, order '$order': $(tail -n 8 "$W/swaks3.out" | tr '\n' '|')"
expect_receipt "swaks LMTP receipt" swaks-lmtp@x.test \
	"^lmtp\|swaks-lmtp@x\.test\|127\.0\.0\.1\|swaks-lmtp\.test\|<null>\|lmtp:127\.0\.0\.1:$LMTP_PORT\|l1@x\.test:rcpt l2@x\.test:rcpt l3@x\.test:rcpt$"

# A recipient the server refuses (bad syntax) between good ones: LMTP replies after the data
# only for the 2 accepted ones, and the receipt lists those.
sc send --port "$LMTP_PORT" --lmtp --from raw-lmtp@x.test --rcpt g1@x.test --rcpt "@@" --rcpt g2@x.test \
	--helo raw-lmtp.test "$MSG" --log "$W/rawl.log" 2>"$W/rawl.sum"
rc=$?
[ "$rc" -eq 0 ] && [ "$(cut -f4 "$W/rawl.log")" = "250,250" ]
verdict "LMTP with one of 3 recipients refused: 2 replies after the data" $? "exit $rc: $(excerpt "$W/rawl.log")"
expect_receipt "LMTP receipt lists the 2 accepted recipients" raw-lmtp@x.test "\|g1@x\.test:rcpt g2@x\.test:rcpt$"

# ---- Python smtplib: SMTP with STARTTLS, LMTP over the Unix socket -------------------------------
python3 - "$SMTP_PORT" "$LMTP_SOCK" "$MSG" >"$W/smtplib.out" 2>&1 <<'EOF'
import smtplib, ssl, sys
port, sock, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
msg = open(path, "rb").read()
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = smtplib.SMTP("127.0.0.1", port, local_hostname="smtplib-tls.test")
s.ehlo()
s.starttls(context=ctx)
s.ehlo()
print("smtp tls", s.sock.version())
refused = s.sendmail("smtplib@x.test", ["s1@x.test", "s2@x.test"], msg)
print("smtp refused", refused)
code, text = s.noop()
print("smtp noop", code)
s.quit()
l = smtplib.LMTP(sock, local_hostname="smtplib-lmtp.test")
# smtplib.LMTP reads one reply after the data; LMTP sends one per recipient: read the second.
refused = l.sendmail("smtplib-lmtp@x.test", ["m1@x.test", "m2@x.test"], msg)
print("lmtp refused", refused)
code, text = l.getreply()
print("lmtp second reply", code, text.decode())
l.quit()
print("done")
EOF
rc=$?
grep -q '^smtp tls TLSv1' "$W/smtplib.out" && grep -q '^smtp refused {}' "$W/smtplib.out"
verdict "smtplib.SMTP with starttls delivers (250, no refused recipient)" $? "exit $rc: $(excerpt "$W/smtplib.out")"
grep -q '^lmtp refused {}' "$W/smtplib.out" && grep -q '^lmtp second reply 250 2.0.0 <m2@x.test>' "$W/smtplib.out" &&
	grep -q '^done' "$W/smtplib.out"
verdict "smtplib.LMTP over the Unix socket: one reply per recipient" $? "exit $rc: $(excerpt "$W/smtplib.out")"
expect_receipt "smtplib STARTTLS receipt" smtplib@x.test \
	"^smtp\|smtplib@x\.test\|127\.0\.0\.1\|smtplib-tls\.test\|TLSv1\.[23] [A-Z0-9_-]+\|smtp:127\.0\.0\.1:$SMTP_PORT\|s1@x\.test:rcpt s2@x\.test:rcpt$"
expect_receipt "smtplib LMTP (Unix socket) receipt" smtplib-lmtp@x.test \
	"^lmtp\|smtplib-lmtp@x\.test\|[^|]*\|smtplib-lmtp\.test\|<null>\|lmtp:unix:$LMTP_SOCK\|m1@x\.test:rcpt m2@x\.test:rcpt$"
# smtplib sends bytes as they are (a str would get CRLF line ends) but appends CRLF when the
# message does not end with one (this file does not: that is why the raw client exists): the
# archived message is exactly what smtplib sent, and the same twice (SMTP, LMTP) is one message.
crlf=$(python3 -c 'import hashlib,sys; b=open(sys.argv[1],"rb").read(); print(hashlib.sha256(b if b.endswith(b"\r\n") else b+b"\r\n").hexdigest())' "$MSG")
n=$(sql "select count(distinct r.message_id) from receipts r join messages m on m.id = r.message_id
	where r.mail_from in ('smtplib@x.test', 'smtplib-lmtp@x.test') and m.sha256 = decode('$crlf', 'hex')")
[ "$n" = 1 ]
verdict "smtplib's message is archived as smtplib sent it (final CRLF added), once for both receipts" $? "$n messages with sha256 $crlf"

# ---- the raw client: exact bytes over STARTTLS with BDAT, and DSN parameters -------------------
want=$(sha256sum <"$MSG" | cut -c1-64)
sc send --port "$SMTP_PORT" --starttls --from raw-tls@x.test --rcpt "r1@x.test NOTIFY=NEVER" \
	--helo raw-tls.test "$MSG" --log "$W/raw.log" 2>"$W/raw.sum"
rc=$?
[ "$rc" -eq 0 ] && [ "$(sql "select count(*) from messages where sha256 = decode('$want', 'hex')")" = 1 ]
verdict "raw client over STARTTLS with BDAT: the exact bytes are archived" $? "exit $rc: $(cat "$W/raw.sum") $(excerpt "$W/raw.log")"
expect_receipt "raw STARTTLS receipt" raw-tls@x.test "^smtp\|raw-tls@x\.test\|127\.0\.0\.1\|raw-tls\.test\|TLSv1\.[23] "

# ---- Postfix smtp-source: 20 sessions, 500 messages of 20,000 bytes ------------------------------
t0=$(now_s)
timeout 120 smtp-source -s 20 -m 500 -l 20000 -f a@x -t b@y "127.0.0.1:$SMTP_PORT" >"$W/source.out" 2>&1
rc=$?
el=$(since "$t0")
n=$(sql "select count(*) from receipts where mail_from = 'a@x' and source = 'smtp'")
say "smtp-source: 500 messages in $el s (exit $rc)"
[ "$rc" -eq 0 ] && [ "$n" -eq 500 ]
verdict "smtp-source -s 20 -m 500 -l 20000 completes and 500 receipts exist" $? "exit $rc, $n receipts: $(excerpt "$W/source.out")"
t0=$(now_s)
timeout 120 smtp-source -L -s 20 -m 300 -l 20000 -r 2 -f la@x -t lb@y "127.0.0.1:$LMTP_PORT" >"$W/source2.out" 2>&1
rc=$?
n=$(sql "select count(*) from receipts where mail_from = 'la@x' and source = 'lmtp'")
say "smtp-source -L: 300 messages in $(since "$t0") s (exit $rc)"
[ "$rc" -eq 0 ] && [ "$n" -eq 300 ]
verdict "smtp-source -L (LMTP, 2 recipients) -s 20 -m 300 completes and 300 receipts exist" $? "exit $rc, $n receipts: $(excerpt "$W/source2.out")"

serve_stop_check "serve stops cleanly on SIGTERM (no sanitizer report)"
v verify --all >"$W/verify.out" 2>&1
rc=$?
verdict "verify --all passes" "$rc" "exit $rc: $(tail -n 5 "$W/verify.out" | tr '\n' '|')"
