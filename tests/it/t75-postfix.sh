#!/bin/sh
# t75-postfix - a real Postfix journals to `vellum serve` with always_bcc, as deploy/mta/postfix.md
# describes: a private instance (its own config_directory, queue_directory and data_directory
# under the scratch folder, `postfix -c DIR`, no chroot, smtpd on a random loopback port) takes
# mail from swaks for two local recipients, discards their copies and hands the always_bcc copy
# to Vellum over SMTP (STARTTLS opportunistic), then one over LMTP. The archive must hold each
# message byte for byte as Postfix relayed it, with the envelope Postfix gave: MAIL FROM the
# original sender, RCPT the journal address, TLS recorded for the SMTP copy, and what Postfix
# says of its own client (XFORWARD: swaks's address and HELO).
. "$(dirname "$0")/lib.sh"

. "$IT_DIR/serve.sh"

if ! command -v postfix >/dev/null 2>&1 || ! id postfix >/dev/null 2>&1; then
	fail setup "postfix is missing (deploy/deps.sh installs it)"
	exit 1
fi

serve_begin
it_archive
serve_ports
serve_start

# ---- a private Postfix instance -----------------------------------------------------------------
PF=$W/postfix
PF_PORT=$(sc ports -n 1)
mkdir -p "$PF/etc" "$PF/queue" "$PF/data"
chown postfix "$PF/data"
# pf_stop - stop the instance (also on any exit), before serve and the database go.
pf_stop() { postfix -c "$PF/etc" stop >/dev/null 2>&1; }
trap '_x=$?; pf_stop; serve_stop; (exit $_x); it_cleanup' EXIT

# The default master.cf with smtpd moved to our port and chroot off (the queue is ours, not a jail).
sed -e 's/^smtp\( *inet.*\)/#&/' /etc/postfix/master.cf.proto >"$PF/etc/master.cf"
cat >>"$PF/etc/master.cf" <<EOF
127.0.0.1:$PF_PORT inet n - n - - smtpd
EOF
sed -i -E 's/^([a-z0-9]+ +(unix|unix-dgram|fifo|pass|inet) +[-yn] +[-yn] +)[-y]( .*)$/\1n\3/' "$PF/etc/master.cf"
cat >"$PF/etc/main.cf" <<EOF
compatibility_level = 3.6
config_directory = $PF/etc
queue_directory = $PF/queue
data_directory = $PF/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mta.t75.test
mydomain = t75.test
myorigin = \$mydomain
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
mynetworks = 127.0.0.0/8
relay_domains = example.test
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
# The journal copy of every message goes to the archive; the recipients' own copies are
# discarded (this test is about the archive's copy).
always_bcc = journal@vellum.archive
transport_maps = inline:{ vellum.archive=smtp:[127.0.0.1]:$SMTP_PORT, lmtp.vellum.archive=lmtp:inet:127.0.0.1:$LMTP_PORT, example.test=discard: }
smtp_tls_security_level = may
lmtp_tls_security_level = none
# Tell Vellum who Postfix's own client was (XFORWARD), as deploy/mta/postfix.md suggests.
smtp_send_xforward_command = yes
lmtp_send_xforward_command = yes
smtp_dns_support_level = disabled
maillog_file = $PF/maillog
maillog_file_prefixes = $PF
biff = no
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
EOF
if ! postfix -c "$PF/etc" check >"$W/pf-check.out" 2>&1 ||
	! postfix -c "$PF/etc" start >"$W/pf-start.out" 2>&1; then
	fail "private postfix starts" "$(cat "$W/pf-check.out" "$W/pf-start.out" "$PF/maillog" 2>/dev/null | tail -n 5 | tr '\n' '|')"
	exit 1
fi
if ! sc wait --port "$PF_PORT" --seconds 30 2>>"$W/pf-start.out"; then
	fail "private postfix answers" "$(tail -n 5 "$PF/maillog" 2>/dev/null | tr '\n' '|')"
	exit 1
fi
pass "a private Postfix (postfix -c, own queue) listens on 127.0.0.1:$PF_PORT"

# journal_of SENDER - "mail_from|tls|rcpt:role ..." of the receipts whose MAIL FROM is SENDER.
journal_of() {
	sql "select r.mail_from, case when r.tls is null then 'plain' else 'tls' end, r.source,
		(select string_agg(e.address || ':' || e.role, ' ' order by e.position)
		 from envelope_recipients e where e.receipt_id = r.id and e.role = 'rcpt')
	from receipts r where r.mail_from = '$1' order by r.id"
}
# wait_journal SENDER - until a receipt from SENDER is in the archive (at most 30 s).
wait_journal() {
	k=0
	while [ "$k" -lt 150 ]; do
		[ -n "$(journal_of "$1")" ] && return 0
		sleep 0.2
		k=$((k + 1))
	done
	return 1
}

# ---- always_bcc over SMTP -------------------------------------------------------------------------
SUBJ="t75 always_bcc $(date +%s)-$$"
swaks --server "127.0.0.1:$PF_PORT" --helo client.t75.test --from alice@sender.test \
	--to bob@example.test,carol@example.test --header "Subject: $SUBJ" \
	--body "A message Postfix must journal to Vellum." >"$W/swaks1.out" 2>&1
rc=$?
grep -q '^<-  250 2\.0\.0 Ok: queued' "$W/swaks1.out"
verdict "Postfix queues a message for two recipients" $? "exit $rc: $(tail -n 5 "$W/swaks1.out" | tr '\n' '|')"
wait_journal alice@sender.test
verdict "Postfix delivers the always_bcc copy to Vellum (receipt within 30 s)" $? \
	"maillog: $(grep -E 'status=|warning|fatal' "$PF/maillog" 2>/dev/null | tail -n 4 | tr '\n' '|')"
journal_of alice@sender.test >"$W/j1"
[ "$(wc -l <"$W/j1")" -eq 1 ] && grep -q -x 'alice@sender\.test|tls|smtp|journal@vellum\.archive:rcpt' "$W/j1"
verdict "one receipt: MAIL FROM the original sender, RCPT the journal address, over STARTTLS" $? \
	"$(tr '\n' '#' <"$W/j1")"
hdr=$(sql "select m.hdr_subject || '|' || m.hdr_to from messages m join receipts r on r.message_id = m.id
	where r.mail_from = 'alice@sender.test'")
[ "$hdr" = "$SUBJ|bob@example.test,carol@example.test" ]
verdict "the archived message is the one sent (Subject, To: with both original recipients)" $? "$hdr"
# Byte for byte: what Vellum returns is what Postfix relayed, Received: headers and all.
v cat "$(sql "select 'sha256:' || encode(m.sha256, 'hex') from messages m join receipts r on r.message_id = m.id
	where r.mail_from = 'alice@sender.test'")" >"$W/archived1.eml" 2>"$W/cat1.err"
grep -q '^Received: from client\.t75\.test' "$W/archived1.eml" &&
	grep -q "^Subject: $SUBJ" "$W/archived1.eml" && grep -q 'A message Postfix must journal to Vellum' "$W/archived1.eml"
verdict "vellum cat returns it with Postfix's Received: trace" $? "$(head -c 300 "$W/archived1.eml" | tr '\n' '|') $(cat "$W/cat1.err")"
# XFORWARD: the receipt names swaks (Postfix's client) beside Postfix itself (the relay).
xf=$(sql "select client_addr || '|' || coalesce(xforward, '<null>') from receipts where mail_from = 'alice@sender.test'")
case $xf in
"127.0.0.1|"*"ADDR=127.0.0.1 "*"PROTO=ESMTP HELO=client.t75.test IDENT="*) r=0 ;;
*) r=1 ;;
esac
verdict "Postfix's XFORWARD is kept: the original client's ADDR, HELO and Postfix's queue id (IDENT)" $r "$xf"
grep -q 'to=<journal@vellum\.archive>.*relay=127\.0\.0\.1\[127\.0\.0\.1\]:'"$SMTP_PORT"'.*status=sent (250 2\.0\.0' "$PF/maillog"
verdict "Postfix logs status=sent with Vellum's 250 2.0.0" $? "$(grep 'journal@vellum' "$PF/maillog" | tail -n 2 | tr '\n' '|')"

# ---- always_bcc to an address whose transport is LMTP (deploy/mta/postfix.md) ----------------------
postconf -c "$PF/etc" -e "always_bcc = journal@lmtp.vellum.archive" && postfix -c "$PF/etc" reload >/dev/null 2>&1
sleep 1
swaks --server "127.0.0.1:$PF_PORT" --helo client.t75.test --from dave@sender.test \
	--to erin@example.test --header "Subject: t75 over LMTP" >"$W/swaks2.out" 2>&1
rc=$?
wait_journal dave@sender.test
verdict "Postfix delivers the journal copy to Vellum over LMTP" $? \
	"exit $rc: $(grep -E 'status=|warning|fatal' "$PF/maillog" 2>/dev/null | tail -n 4 | tr '\n' '|')"
journal_of dave@sender.test >"$W/j2"
[ "$(wc -l <"$W/j2")" -eq 1 ] && grep -q -x 'dave@sender\.test|plain|lmtp|journal@lmtp\.vellum\.archive:rcpt' "$W/j2"
verdict "LMTP receipt: MAIL FROM the original sender, RCPT the journal address" $? "$(tr '\n' '#' <"$W/j2")"
xf=$(sql "select coalesce(xforward, '<null>') from receipts where mail_from = 'dave@sender.test'")
case $xf in *"HELO=client.t75.test"*) r=0 ;; *) r=1 ;; esac
verdict "over LMTP too (lmtp_send_xforward_command)" $r "$xf"

# Nothing is left in Postfix's queue: every copy was acknowledged.
pf_left=$(find "$PF/queue/active" "$PF/queue/deferred" "$PF/queue/incoming" -type f 2>/dev/null | wc -l)
[ "$pf_left" -eq 0 ]
verdict "Postfix's queue is empty (Vellum acknowledged every copy)" $? "$pf_left queue files left"

pf_stop
serve_stop_check "serve stops cleanly (no sanitizer report)"
