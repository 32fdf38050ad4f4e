#!/bin/sh
# t72-journal - Exchange envelope-journal reports sent to `vellum serve` are unwrapped: the
# attached original is archived byte for byte (its sha256 is the corpus file's), with the
# report's Sender as MAIL FROM and every recipient with its role (to, cc, bcc, unknown), linked
# to the report, which is archived too. A second report (another wrapper: LF, base64) around the
# same original adds a receipt and recipients, never a second copy. Exchange 2003 reports too.
# Postfix always_bcc copies: X-Original-To/Delivered-To become recipients with role header,
# DSN ORCPT with role orcpt. The same Message-ID on different bytes is two messages.
. "$(dirname "$0")/lib.sh"

. "$IT_DIR/serve.sh"

serve_begin
it_archive
serve_ports
serve_start

# Originals from the corpus: O1 (Enron, LF lines, no final line ending) and O2 (the first
# notmuch message under 20 KB that ends with a line ending).
O1=$ENRON/inbox/1.
O2=$(manifest_messages notmuch-corpora | awk -F'\t' '$2 < 20000 { print $1 }' | while read -r f; do
	[ -z "$(tail -c 1 "$f")" ] && { echo "$f"; break; }
done)
O1SHA=$(sha256sum <"$O1" | cut -c1-64)
O2SHA=$(sha256sum <"$O2" | cut -c1-64)
say "originals: $O1 ($O1SHA), $O2 ($O2SHA)"

# The reports (and the bcc-journaled copies) are built here, byte for byte.
python3 - "$O1" "$O2" "$W" <<'EOF'
import base64, sys
o1 = open(sys.argv[1], "rb").read()
o2 = open(sys.argv[2], "rb").read()
w = sys.argv[3]

def report(orig, env, outer_id, nl=b"\r\n", b64=False, boundary=b"_jr_outer_", exch2003=False):
    h = [b"Received: from mbx01.contoso.example (198.51.100.7) by archive.example",
         b"From: Microsoft Exchange <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@contoso.example>",
         b"To: journal@archive.example",
         b"Subject: " + env[1].split(b": ", 1)[1],
         b"Date: Tue, 2 Apr 2024 09:14:05 +0200",
         b"Message-ID: <" + outer_id + b">"]
    h.append(b"Content-Identifier: exjournalreport" if exch2003 else b"X-MS-Journal-Report:")
    h += [b'Content-Type: multipart/mixed; boundary="' + boundary + b'"', b"MIME-Version: 1.0", b""]
    body = [b"--" + boundary, b'Content-Type: text/plain; charset="us-ascii"',
            b"Content-Transfer-Encoding: 7bit", b""] + env + [b"", b"--" + boundary,
            b"Content-Type: message/rfc822"]
    if b64:
        body += [b"Content-Transfer-Encoding: base64", b""]
        enc = base64.encodebytes(orig).replace(b"\n", nl).rstrip(nl)
        body += [enc]
        tail = nl + b"--" + boundary + b"--" + nl
        return nl.join(h + body) + tail
    body += [b"Content-Disposition: attachment", b""]
    # The CRLF before the closing delimiter belongs to the delimiter, not to the original.
    return nl.join(h + body) + nl + orig + nl + b"--" + boundary + b"--" + nl

env1 = [b"Sender: s@x", b"Subject: t72 journal one", b"Message-Id: <t72-orig-1@contoso.example>",
        b"To: a@x", b"Cc: b@x", b"Bcc: hidden@x", b"Recipient: r@x, Expanded: list@x"]
open(w + "/r1.eml", "wb").write(report(o1, env1, b"jr-1@mbx01.contoso.example"))
# Another server, another wrapper: LF line ends, the original base64-encoded, another envelope.
env2 = [b"Sender: s@x", b"Subject: t72 journal one", b"Message-ID: <t72-orig-1@contoso.example>",
        b"To: a2@x", b"Bcc: hidden2@x"]
open(w + "/r2.eml", "wb").write(report(o1, env2, b"jr-2@mbx02.contoso.example", nl=b"\n", b64=True,
                                        boundary=b"b64_outer"))
# O2 in an Exchange 2003 report (Content-Identifier, a Recipients: list).
env3 = [b"Sender: s3@x", b"Subject: t72 journal 2003", b"Message-ID: <t72-orig-2@contoso.example>",
        b"Recipients: p@x, q@x"]
open(w + "/r3.eml", "wb").write(report(o2, env3, b"jr-3@ex2003.contoso.example", exch2003=True,
                                        boundary=b"=_2003_"))
# Postfix always_bcc: the copy carries the delivery headers of the original recipients.
open(w + "/bcc.eml", "wb").write(b"X-Original-To: orig-to@x\nDelivered-To: deliv-to@x\n" + o1)
# Same Message-ID, different content: both must be kept.
open(w + "/same-id-1.eml", "wb").write(b"Message-ID: <dup-id@x>\nSubject: one\n\nfirst body\n")
open(w + "/same-id-2.eml", "wb").write(b"Message-ID: <dup-id@x>\nSubject: one\n\nsecond body\n")
EOF
for f in r1 r2 r3 bcc; do
	eval "${f}SHA=$(sha256sum <"$W/$f.eml" | cut -c1-64)"
done

msg_id() { sql "select id from messages where sha256 = decode('$1', 'hex')"; }
nmsg() { sql "select count(*) from messages where sha256 = decode('$1', 'hex')"; }
# journal_receipts SHA - "mail_from|report_id|addr:role ..." of each journal receipt of a message.
journal_receipts() {
	sql "select r.mail_from, r.journal_report_id,
		(select string_agg(e.address || ':' || e.role, ' ' order by e.position)
		 from envelope_recipients e where e.receipt_id = r.id)
	from receipts r join messages m on m.id = r.message_id
	where m.sha256 = decode('$1', 'hex') and r.source = 'journal' order by r.id"
}

# ---- report 1, over SMTP ----------------------------------------------------------------------
sc send --port "$SMTP_PORT" --from journal@contoso.example --rcpt journal@archive.example \
	"$W/r1.eml" --log "$W/r1.log" 2>/dev/null
rc=$?
verdict "report 1 is accepted (250)" "$rc" "$(excerpt "$W/r1.log")"
[ "$(nmsg "$O1SHA")" = 1 ] && [ "$(nmsg "$r1SHA")" = 1 ]
verdict "report 1: the original is archived with the corpus file's sha256, and the report itself" $? \
	"original: $(nmsg "$O1SHA") rows, report: $(nmsg "$r1SHA") rows"
v cat "sha256:$O1SHA" >"$W/o1.back" 2>"$W/cat.err" && cmp -s "$O1" "$W/o1.back"
verdict "report 1: vellum cat gives back the original byte for byte" $? "$(excerpt "$W/cat.err")"
R1ID=$(msg_id "$r1SHA")
journal_receipts "$O1SHA" >"$W/jr1"
want="s@x|$R1ID|a@x:to b@x:cc hidden@x:bcc r@x:unknown"
[ "$(cat "$W/jr1")" = "$want" ]
verdict "report 1: the original's receipt is source journal, sender s@x, To/Cc/Bcc/Recipient roles, linked to the report" $? \
	"got '$(tr '\n' '#' <"$W/jr1")' want '$want'"
rr=$(sql "select r.source || '|' || r.mail_from || '|' || (select string_agg(address || ':' || role, ' ')
	from envelope_recipients where receipt_id = r.id) from receipts r where r.message_id = $R1ID")
[ "$rr" = "smtp|journal@contoso.example|journal@archive.example:rcpt" ]
verdict "report 1: the report's own receipt is the SMTP envelope" $? "got '$rr'"
nm1=$(sql "select count(*) from messages")

# ---- report 2: another wrapper around the same original, over LMTP ------------------------------
sc send --port "$LMTP_PORT" --lmtp --from journal2@contoso.example --rcpt journal@archive.example \
	"$W/r2.eml" --log "$W/r2.log" 2>/dev/null
rc=$?
verdict "report 2 is accepted (250)" "$rc" "$(excerpt "$W/r2.log")"
nm2=$(sql "select count(*) from messages")
[ "$(nmsg "$O1SHA")" = 1 ] && [ "$nm2" -eq $((nm1 + 1)) ] && [ "$(nmsg "$r2SHA")" = 1 ]
verdict "report 2: no second copy of the original (only the new report is a new message)" $? \
	"original rows $(nmsg "$O1SHA"), messages $nm1 -> $nm2"
R2ID=$(msg_id "$r2SHA")
journal_receipts "$O1SHA" >"$W/jr2"
want2="s@x|$R2ID|a2@x:to hidden2@x:bcc"
[ "$(sed -n 1p "$W/jr2")" = "$want" ] && [ "$(sed -n 2p "$W/jr2")" = "$want2" ] && [ "$(wc -l <"$W/jr2")" -eq 2 ]
verdict "report 2: adds a journal receipt with its recipients (hidden2@x as bcc) to the one original" $? \
	"got '$(tr '\n' '#' <"$W/jr2")' want '$want#$want2'"
n=$(sql "select count(*) from envelope_recipients e join receipts r on r.id = e.receipt_id
	join messages m on m.id = r.message_id where m.sha256 = decode('$O1SHA', 'hex') and e.role = 'bcc'")
[ "$n" = 2 ]
verdict "both Bcc recipients are recorded on the original" $? "$n bcc rows"

# ---- Exchange 2003 report ---------------------------------------------------------------------
sc send --port "$SMTP_PORT" --from journal3@contoso.example --rcpt journal@archive.example \
	"$W/r3.eml" --log "$W/r3.log" 2>/dev/null
rc=$?
R3ID=$(msg_id "$(sha256sum <"$W/r3.eml" | cut -c1-64)")
journal_receipts "$O2SHA" >"$W/jr3"
[ "$rc" -eq 0 ] && [ "$(nmsg "$O2SHA")" = 1 ] && [ "$(cat "$W/jr3")" = "s3@x|$R3ID|p@x:unknown q@x:unknown" ]
verdict "Exchange 2003 report (Content-Identifier, Recipients: list): original archived exactly, recipients unknown-role" $? \
	"exit $rc, original rows $(nmsg "$O2SHA"), receipts '$(tr '\n' '#' <"$W/jr3")'"

# ---- Postfix always_bcc: X-Original-To / Delivered-To, and DSN ORCPT ----------------------------
sc send --port "$SMTP_PORT" --from bcc-sender@x --rcpt archive@x "$W/bcc.eml" --log "$W/bcc.log" 2>/dev/null
rc=$?
got=$(sql "select string_agg(e.address || ':' || e.role, ' ' order by e.position) from envelope_recipients e
	join receipts r on r.id = e.receipt_id where r.mail_from = 'bcc-sender@x'")
[ "$rc" -eq 0 ] && [ "$got" = "archive@x:rcpt orig-to@x:header deliv-to@x:header" ]
verdict "always_bcc copy: X-Original-To and Delivered-To recorded with role header" $? "exit $rc, got '$got'"
[ "$(nmsg "$bccSHA")" = 1 ]
verdict "always_bcc copy archived as sent (headers kept)" $? "$(nmsg "$bccSHA") rows"

sc send --port "$SMTP_PORT" --from orcpt-sender@x --rcpt "archive@x NOTIFY=NEVER ORCPT=rfc822;orig@x" \
	"$O1" --log "$W/orcpt.log" 2>/dev/null
rc=$?
got=$(sql "select string_agg(e.address || ':' || e.role, ' ' order by e.position) from envelope_recipients e
	join receipts r on r.id = e.receipt_id where r.mail_from = 'orcpt-sender@x'")
[ "$rc" -eq 0 ] && [ "$got" = "archive@x:rcpt orig@x:orcpt" ]
verdict "RCPT ORCPT=rfc822;orig@x recorded with role orcpt" $? "exit $rc, got '$got'"
sc send --port "$LMTP_PORT" --lmtp --from orcpt2-sender@x --rcpt "a@x ORCPT=rfc822;o+2Bx@x" --rcpt b@x \
	"$O1" --log "$W/orcpt2.log" 2>/dev/null
rc=$?
got=$(sql "select string_agg(e.address || ':' || e.role, ' ' order by e.position) from envelope_recipients e
	join receipts r on r.id = e.receipt_id where r.mail_from = 'orcpt2-sender@x'")
[ "$rc" -eq 0 ] && [ "$got" = "a@x:rcpt b@x:rcpt o+x@x:orcpt" ]
verdict "LMTP ORCPT is xtext-decoded (o+2Bx@x -> o+x@x)" $? "exit $rc, got '$got'"

# ---- the same Message-ID on different content is not a duplicate --------------------------------
sc send --port "$SMTP_PORT" --from dupid@x --rcpt archive@x "$W/same-id-1.eml" "$W/same-id-2.eml" \
	--log "$W/dupid.log" 2>/dev/null
rc=$?
n=$(sql "select count(distinct r.message_id) from receipts r where r.mail_from = 'dupid@x'")
[ "$rc" -eq 0 ] && [ "$n" = 2 ]
verdict "two messages with the same Message-ID and different bytes are both archived" $? "exit $rc, $n messages"

serve_stop_check "serve stops cleanly on SIGTERM (no sanitizer report)"
v verify --all >"$W/verify.out" 2>&1
rc=$?
verdict "verify --all passes" "$rc" "exit $rc: $(tail -n 5 "$W/verify.out" | tr '\n' '|')"
