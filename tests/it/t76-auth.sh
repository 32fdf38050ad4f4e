#!/bin/sh
# t76-auth - SMTP AUTH: who may connect is client_networks and/or users of `vellum smtp-user`.
# With smtp_auth = 1 and loopback outside client_networks, a loopback client is admitted but
# gets 530 on MAIL until it authenticates; AUTH PLAIN and LOGIN are offered only after STARTTLS
# (538 before); swaks and Python smtplib authenticate (PLAIN, LOGIN) with a generated secret and
# their receipts name the user (also after rebuild-index); a wrong secret gets 535 (for LOGIN
# from 127.0.0.2, a count of its own); users added and removed while serve runs take effect
# without a restart; failures past smtp_auth_fail_max get 421; Unix-socket LMTP needs no AUTH;
# the secret is in no file, log or audit row; every change is audited, and /metrics counts AUTHs.
# Then, loopback back in client_networks: mail without AUTH is accepted, with no user.
. "$(dirname "$0")/lib.sh"

. "$IT_DIR/serve.sh"

serve_begin
it_archive
serve_ports
conf_set smtp_auth 1
conf_set client_networks "10.255.0.0/16"
conf_set smtp_auth_fail_max 3

# ---- vellum smtp-user ----------------------------------------------------------------------------
v smtp-user add relay1 >"$W/add1.out" 2>&1
rc=$?
S1=$(tail -n 1 "$W/add1.out")
[ "$rc" -eq 0 ] && expr "$S1" : 'vsm_[A-Za-z0-9_-]\{43\}$' >/dev/null
verdict "smtp-user add prints a generated secret once" $? "exit $rc: $(excerpt "$W/add1.out")"
v smtp-user add relay1 >"$W/add1b.out" 2>&1
rc=$?
[ "$rc" -ne 0 ] && grep -q "exists" "$W/add1b.out"
verdict "adding a user twice is refused" $? "exit $rc: $(excerpt "$W/add1b.out")"
v smtp-user add 'bad name' >"$W/addbad.out" 2>&1
[ $? -ne 0 ]
verdict "a bad user name is refused" $? "$(excerpt "$W/addbad.out")"
v smtp-user list >"$W/list.out" 2>&1
grep -q '^relay1 ' "$W/list.out" && ! grep -q "vsm_" "$W/list.out"
verdict "smtp-user list names the user, never a secret" $? "$(excerpt "$W/list.out")"
mode=$(stat -c %a "$D/smtp-users")
[ "$mode" = 600 ] && ! grep -q "$S1" "$D/smtp-users" && ! grep -q "${S1#vsm_}" "$D/smtp-users"
verdict "DATA/smtp-users is 0600 and holds the hash, not the secret" $? "mode $mode"

serve_start

# auth_try NAME USER SECRET -> smtplib over STARTTLS: "code" of AUTH PLAIN, then the MAIL reply
# and the message's reply, or what refused it.
auth_try() {
	python3 - "$SMTP_PORT" "$@" <<'EOF'
import base64, smtplib, ssl, sys
port, tag, user, secret = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = smtplib.SMTP("127.0.0.1", port, timeout=30)
try:
    s.ehlo("auth-" + tag + ".test")
    s.starttls(context=ctx)
    s.ehlo("auth-" + tag + ".test")
    resp = base64.b64encode(b"\0" + user.encode() + b"\0" + secret.encode()).decode()
    code, text = s.docmd("AUTH", "PLAIN " + resp)
    out = [str(code)]
    if code == 235:
        code, text = s.docmd("MAIL", "FROM:<auth-%s@x.test>" % tag)
        out.append(str(code))
        s.rcpt("r-%s@x.test" % tag)
        code, text = s.data(b"Subject: t76 " + tag.encode() + b"\r\n\r\nauthenticated\r\n")
        out.append(str(code))
    print(" ".join(out), text.decode(errors="replace").replace("\n", " "))
    s.quit()
except smtplib.SMTPServerDisconnected as e:
    print("disconnected", e)
except smtplib.SMTPException as e:
    print("error", e)
EOF
}
# smtplib_send HOW MAIL_FROM -> smtplib over STARTTLS as relay1 with $S1, then one message: HOW
# "login" lets login() choose (PLAIN), "LOGIN" forces AUTH LOGIN (the user name as initial
# response). Prints the AUTH code, then "sent".
smtplib_send() {
	python3 - "$SMTP_PORT" "$S1" "$@" <<'EOF'
import smtplib, ssl, sys
port, secret, how, sender = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
    s.starttls(context=ctx)
    if how == "LOGIN":
        s.ehlo()
        s.user, s.password = "relay1", secret
        print(s.auth("LOGIN", s.auth_login)[0])
    else:
        print(s.login("relay1", secret)[0])
    s.sendmail(sender, ["b@x.test"], b"Subject: t76 smtplib " + how.encode() + b"\r\n\r\nsent\r\n")
    print("sent")
EOF
}
# receipt_auth MAIL_FROM - "client_addr|auth_user" of the receipts with that MAIL FROM.
receipt_auth() {
	sql "select client_addr || '|' || coalesce(auth_user, '<null>') from receipts where mail_from = '$1'"
}

# ---- an outsider without AUTH --------------------------------------------------------------------
swaks --server "127.0.0.1:$SMTP_PORT" --from noauth@x.test --to n@x.test >"$W/noauth.out" 2>&1
grep -q '^<\*\* 530 5\.7\.0' "$W/noauth.out"
verdict "outside client_networks, MAIL without AUTH gets 530 5.7.0" $? "$(tail -n 6 "$W/noauth.out" | tr '\n' '|')"
! grep -q '250.AUTH' "$W/noauth.out"
verdict "AUTH is not advertised before STARTTLS" $? "$(grep AUTH "$W/noauth.out" | tr '\n' '|')"
swaks --server "127.0.0.1:$SMTP_PORT" -tls --from noauth-tls@x.test --to n@x.test >"$W/noauth2.out" 2>&1
grep -q '<~  250.AUTH PLAIN' "$W/noauth2.out" && grep -q '^<~\* 530 5\.7\.0' "$W/noauth2.out"
verdict "after STARTTLS AUTH PLAIN is offered, and MAIL without it still gets 530" $? "$(tail -n 6 "$W/noauth2.out" | tr '\n' '|')"
python3 - "$SMTP_PORT" "$S1" >"$W/plainauth.out" 2>&1 <<'EOF'
import base64, smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30)
s.ehlo("plain.test")
resp = base64.b64encode(b"\0relay1\0" + sys.argv[2].encode()).decode()
print(s.docmd("AUTH", "PLAIN " + resp)[0])
s.quit()
EOF
[ "$(cat "$W/plainauth.out")" = 538 ]
verdict "AUTH over plaintext gets 538 5.7.11 (the secret never crosses unencrypted)" $? "$(excerpt "$W/plainauth.out")"
[ "$(sql "select count(*) from receipts where mail_from like 'noauth%'")" -eq 0 ]
verdict "nothing from the unauthenticated outsider is archived" $?

# ---- authenticating -------------------------------------------------------------------------------
swaks --server "127.0.0.1:$SMTP_PORT" -tls --auth PLAIN --auth-user relay1 --auth-password "$S1" \
	--from swaks-auth@x.test --to a@x.test >"$W/swaks-auth.out" 2>&1
rc=$?
grep -q '^<~  235 2\.7\.0' "$W/swaks-auth.out" && grep -q '^<~  250 2\.0\.0' "$W/swaks-auth.out" && [ "$rc" -eq 0 ]
verdict "swaks: STARTTLS, AUTH PLAIN with the secret: 235, then 250 after the dot" $? "exit $rc: $(tail -n 8 "$W/swaks-auth.out" | tr '\n' '|')"
[ "$(receipt_auth swaks-auth@x.test)" = "127.0.0.1|relay1" ]
verdict "the receipt names the authenticated user" $? "$(receipt_auth swaks-auth@x.test)"

# AUTH LOGIN (Exchange connectors, older MTAs): swaks answers 334 Username: and 334 Password:,
# smtplib sends the user name as the initial response.
swaks --server "127.0.0.1:$SMTP_PORT" -tls --auth LOGIN --auth-user relay1 --auth-password "$S1" \
	--from swaks-login@x.test --to a@x.test >"$W/swaks-login.out" 2>&1
rc=$?
grep -q '<~  250.AUTH PLAIN LOGIN' "$W/swaks-login.out" && grep -q '^<~  334 VXNlcm5hbWU6' "$W/swaks-login.out" &&
	grep -q '^<~  334 UGFzc3dvcmQ6' "$W/swaks-login.out" && grep -q '^<~  235 2\.7\.0' "$W/swaks-login.out" &&
	grep -q '^<~  250 2\.0\.0' "$W/swaks-login.out" && [ "$rc" -eq 0 ]
verdict "swaks: AUTH PLAIN LOGIN offered; AUTH LOGIN, both prompts answered: 235, then 250 after the dot" $? "exit $rc: $(tail -n 8 "$W/swaks-login.out" | tr '\n' '|')"
[ "$(receipt_auth swaks-login@x.test)" = "127.0.0.1|relay1" ]
verdict "the message sent after AUTH LOGIN is archived, its receipt naming the user" $? "$(receipt_auth swaks-login@x.test)"
smtplib_send LOGIN smtplib-login@x.test >"$W/login-ir.out" 2>&1
[ "$(tr '\n' ' ' <"$W/login-ir.out")" = "235 sent " ] && [ "$(receipt_auth smtplib-login@x.test)" = "127.0.0.1|relay1" ]
verdict "Python smtplib: AUTH LOGIN with the user name as initial response authenticates, the message is archived" $? "$(excerpt "$W/login-ir.out")"
# From 127.0.0.2: a failure of its own address, so 127.0.0.1's count below is unchanged.
WRONG_LOGIN="vsm_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
swaks --server "127.0.0.1:$SMTP_PORT" -li 127.0.0.2 -tls --auth LOGIN --auth-user relay1 \
	--auth-password "$WRONG_LOGIN" --from swaks-login-bad@x.test --to a@x.test >"$W/swaks-login-bad.out" 2>&1
rc=$?
grep -q '^<~  334 UGFzc3dvcmQ6' "$W/swaks-login-bad.out" && grep -q '^<~\* 535 5\.7\.8' "$W/swaks-login-bad.out" &&
	[ "$rc" -ne 0 ] && [ "$(sql "select count(*) from receipts where mail_from = 'swaks-login-bad@x.test'")" -eq 0 ]
verdict "swaks: AUTH LOGIN with a wrong password gets 535 5.7.8 and nothing is archived" $? "exit $rc: $(tail -n 6 "$W/swaks-login-bad.out" | tr '\n' '|')"
grep -q 'client=127\.0\.0\.2 AUTH failed user=relay1 failures=1' "$W/serve.log"
verdict "serve logs the failed AUTH LOGIN as it logs PLAIN's" $? "$(grep 'AUTH' "$W/serve.log" | tail -n 3 | tr '\n' '|')"

smtplib_send login smtplib-auth@x.test >"$W/login.out" 2>&1
[ "$(tr '\n' ' ' <"$W/login.out")" = "235 sent " ] && [ "$(receipt_auth smtplib-auth@x.test)" = "127.0.0.1|relay1" ]
verdict "Python smtplib: starttls() and login() authenticate, the message is archived with its user" $? "$(excerpt "$W/login.out")"

# ---- users change while serve runs ----------------------------------------------------------------
out=$(auth_try wrong relay1 "vsm_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
case $out in 535*) r=0 ;; *) r=1 ;; esac
verdict "a wrong secret gets 535 5.7.8 (failure 1)" $r "$out"
v smtp-user add relay2 >"$W/add2.out" 2>&1
S2=$(tail -n 1 "$W/add2.out")
out=$(auth_try two relay2 "$S2")
case $out in "235 250 250"*) r=0 ;; *) r=1 ;; esac
verdict "a user added while serve runs authenticates at once (no restart)" $r "$out"
[ "$(receipt_auth auth-two@x.test)" = "127.0.0.1|relay2" ]
verdict "its receipt names relay2" $? "$(receipt_auth auth-two@x.test)"
v smtp-user remove relay1 >"$W/rm1.out" 2>&1
out=$(auth_try removed relay1 "$S1")
case $out in 535*) r=0 ;; *) r=1 ;; esac
verdict "a removed user is refused at once (failure 2)" $r "$out"
out=$(auth_try other relay2 "$S1")
case $out in 535*) r=0 ;; *) r=1 ;; esac
verdict "one user's secret does not open another (failure 3)" $r "$out"
out=$(auth_try locked relay2 "$S2")
case $out in disconnected*|error*421*|421*) r=0 ;; *) r=1 ;; esac
grep -q 'AUTH locked out' "$W/serve.log" && [ $r -eq 0 ]
verdict "after smtp_auth_fail_max failures even the right secret gets 421 4.7.0 and the connection closes" $? "$out"

# ---- Unix-socket LMTP needs no AUTH ------------------------------------------------------------------
python3 - "$LMTP_SOCK" >"$W/lmtp.out" 2>&1 <<'EOF'
import smtplib, sys
s = smtplib.LMTP(sys.argv[1])
s.sendmail("lmtp-unix@x.test", ["u@x.test"], b"Subject: t76 lmtp\r\n\r\nunix\r\n")
s.quit()
print("sent")
EOF
[ "$(cat "$W/lmtp.out")" = sent ] && [ "$(receipt_auth lmtp-unix@x.test)" = "unix|<null>" ]
verdict "a Unix-socket LMTP client delivers without AUTH (receipt: no user)" $? "$(excerpt "$W/lmtp.out") $(receipt_auth lmtp-unix@x.test)"

# ---- no secret anywhere, every change audited --------------------------------------------------------
! grep -q -e "$S1" -e "$S2" -e "${S1#vsm_}" "$W/serve.log"
verdict "serve's log holds no secret" $?
! grep -q -F -e "$WRONG_LOGIN" -e "${WRONG_LOGIN#vsm_}" -e "$(printf %s "$S1" | base64 -w0)" \
	-e "$(printf %s "$WRONG_LOGIN" | base64 -w0)" "$W/serve.log"
verdict "serve's log holds neither a LOGIN password nor its base64 line" $?
grep -q 'authenticated user=relay1' "$W/serve.log" && grep -q 'AUTH failed user=relay1' "$W/serve.log"
verdict "serve logs who authenticated and who failed" $?
sql "select action || ':' || target from audit where action like 'smtp_user.%' order by seq" >"$W/audit.out"
[ "$(tr '\n' ' ' <"$W/audit.out")" = "smtp_user.add:relay1 smtp_user.add:relay2 smtp_user.remove:relay1 " ] &&
	! grep -q -e "$S1" -e "$S2" "$W/audit.out"
verdict "smtp-user add/remove leave audit rows (and no secret)" $? "$(tr '\n' ' ' <"$W/audit.out")"
HP=$(sed -n 's/^http_listen *= *127\.0\.0\.1://p' "$D/vellum.conf")
curl -s --max-time 30 "http://127.0.0.1:$HP/metrics" >"$W/metrics.out"
ok=$(sed -n 's/^vellum_ingest_auth_ok_total //p' "$W/metrics.out")
bad=$(sed -n 's/^vellum_ingest_auth_failed_total //p' "$W/metrics.out")
[ "$ok" = 5 ] && [ "$bad" = 5 ]
verdict "/metrics counts 5 AUTHs that succeeded and 5 refused (4 wrong, 1 locked out)" $? "ok=$ok failed=$bad"
serve_stop_check "serve stops cleanly (no sanitizer report)"

# ---- the user survives rebuild-index (it is in the sealed receipt) -----------------------------------
rebuild_same "select mail_from || '|' || coalesce(auth_user, '-') from receipts order by mail_from" &&
	grep -q '|relay2$' "$W/rebuild.after"
verdict "rebuild-index gives back each receipt's user" $? "$(rebuild_diff)"

# ---- loopback back in client_networks: no AUTH needed ------------------------------------------------
conf_set client_networks "127.0.0.0/8"
serve_start
swaks --server "127.0.0.1:$SMTP_PORT" --from insider@x.test --to i@x.test >"$W/insider.out" 2>&1
rc=$?
[ "$rc" -eq 0 ] && [ "$(receipt_auth insider@x.test)" = "127.0.0.1|<null>" ]
verdict "a client inside client_networks sends without AUTH (receipt: no user)" $? "exit $rc: $(tail -n 4 "$W/insider.out" | tr '\n' '|')"
serve_stop_check "serve stops cleanly after the second phase"
v verify --all >"$W/verify.out" 2>&1
verdict "verify --all passes" $? "$(tail -n 5 "$W/verify.out" | tr '\n' '|')"
