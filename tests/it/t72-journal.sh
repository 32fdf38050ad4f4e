#!/bin/sh
# t72-journal - Exchange envelope-journal reports sent to `vellum serve` are unwrapped: the
# attached original is archived byte for byte (its sha256 is the corpus file's), with the
# report's Sender as MAIL FROM and every recipient with its role (to, cc, bcc, unknown), linked
# to the report, which is archived too. A second report (another wrapper: LF, base64) around the
# same original adds a receipt and recipients, never a second copy. Exchange 2003 reports too.
# Exchange Online IRM: a report with the protected original and a decrypted copy stores both,
# byte for byte, with the report's envelope, linked to the report, the copy with source
# journal-decrypted; a copy that cannot be decoded is logged and the rest is still archived.
# Postfix always_bcc copies: X-Original-To/Delivered-To become recipients with role header,
# DSN ORCPT with role orcpt. The same Message-ID on different bytes is two messages. `vellum
# import` unwraps base64 reports the same way.
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
# O3 (another Enron message, 17 KB) is the decrypted copy of an IRM-protected original (5 KB)
# built below: larger, so the second decoded message outgrows what the first left room for.
O3=$ENRON/inbox/102.
O1SHA=$(sha256sum <"$O1" | cut -c1-64)
O2SHA=$(sha256sum <"$O2" | cut -c1-64)
O3SHA=$(sha256sum <"$O3" | cut -c1-64)
say "originals: $O1 ($O1SHA), $O2 ($O2SHA), $O3 ($O3SHA)"

# The reports (and the bcc-journaled copies) are built here, byte for byte.
python3 - "$O1" "$O2" "$W" "$O3" <<'EOF'
import base64, hashlib, sys
o1 = open(sys.argv[1], "rb").read()
o2 = open(sys.argv[2], "rb").read()
w = sys.argv[3]
o3 = open(sys.argv[4], "rb").read()

def rfc822_part(msg, nl, b64, cte=None):
    """A message/rfc822 part (what follows its delimiter line): msg base64-encoded, or as it is
    under the Content-Transfer-Encoding cte (none when None)."""
    p = [b"Content-Type: message/rfc822"]
    if b64:
        p += [b"Content-Transfer-Encoding: base64", b""]
        return nl.join(p + [base64.encodebytes(msg).replace(b"\n", nl).rstrip(nl)])
    if cte is not None:
        p.append(b"Content-Transfer-Encoding: " + cte)
    p += [b"Content-Disposition: attachment", b""]
    return nl.join(p) + nl + msg

def report(orig, env, outer_id, nl=b"\r\n", b64=False, boundary=b"_jr_outer_", exch2003=False,
           copy=None, copy_b64=False, copy_cte=None):
    h = [b"Received: from mbx01.contoso.example (198.51.100.7) by archive.example",
         b"From: Microsoft Exchange <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@contoso.example>",
         b"To: journal@archive.example",
         b"Subject: " + env[1].split(b": ", 1)[1],
         b"Date: Tue, 2 Apr 2024 09:14:05 +0200",
         b"Message-ID: <" + outer_id + b">"]
    h.append(b"Content-Identifier: exjournalreport" if exch2003 else b"X-MS-Journal-Report:")
    h += [b'Content-Type: multipart/mixed; boundary="' + boundary + b'"', b"MIME-Version: 1.0", b""]
    body = [b"--" + boundary, b'Content-Type: text/plain; charset="us-ascii"',
            b"Content-Transfer-Encoding: 7bit", b""] + env + [b"", b"--" + boundary]
    out = nl.join(h + body) + nl + rfc822_part(orig, nl, b64)
    if copy is not None:  # Exchange Online IRM: the decrypted copy is the second attachment
        out += nl + b"--" + boundary + nl + rfc822_part(copy, nl, copy_b64, copy_cte)
    # The CRLF before a delimiter belongs to the delimiter, not to the part before it.
    return out + nl + b"--" + boundary + b"--" + nl

def protected(mid):
    """An IRM-protected message as Exchange journals it: a notice and the rights-protected
    body (message.rpmsg; here 3 KB of stand-in bytes)."""
    rpmsg = b"".join(hashlib.sha256(mid + bytes([i])).digest() for i in range(96))
    enc = base64.encodebytes(rpmsg).replace(b"\n", b"\r\n")
    return b"\r\n".join([
        b"From: Alice <alice@contoso.example>", b"To: a4@x", b"Subject: t72 protected",
        b"Message-ID: <" + mid + b">", b"Date: Tue, 2 Apr 2024 09:13:58 +0200",
        b"MIME-Version: 1.0", b'Content-Type: multipart/mixed; boundary="irm"',
        b"Content-Class: rpmsg.message", b"", b"--irm", b"Content-Type: text/plain", b"",
        b"This message is protected with Microsoft Purview Information Protection.", b"--irm",
        b'Content-Type: application/x-microsoft-rpmsg-message; name="message.rpmsg"',
        b"Content-Transfer-Encoding: base64", b"", enc + b"--irm--", b""])

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
# Exchange Online with journal report decryption: the protected original, then its decrypted
# copy (O3), both base64 (so the writer keeps two decoded messages until the commit).
env4 = [b"Sender: s4@x", b"Subject: t72 protected", b"Message-ID: <t72-irm-4@contoso.example>",
        b"To: a4@x", b"Bcc: hidden4@x"]
p4 = protected(b"t72-irm-4@contoso.example")
open(w + "/p4.eml", "wb").write(p4)
open(w + "/r4.eml", "wb").write(report(p4, env4, b"jr-4@outlook.contoso.example", b64=True,
                                        copy=o3, copy_b64=True))
# A decrypted copy in a transfer encoding Vellum does not decode: logged, the rest archived.
env5 = [b"Sender: s5@x", b"Subject: t72 protected", b"Message-ID: <t72-irm-5@contoso.example>",
        b"To: a5@x", b"Bcc: hidden5@x"]
p5 = protected(b"t72-irm-5@contoso.example")
open(w + "/p5.eml", "wb").write(p5)
open(w + "/r5.eml", "wb").write(report(p5, env5, b"jr-5@outlook.contoso.example", copy=o3,
                                        copy_cte=b"x-uuencode"))
# Postfix always_bcc: the copy carries the delivery headers of the original recipients.
open(w + "/bcc.eml", "wb").write(b"X-Original-To: orig-to@x\nDelivered-To: deliv-to@x\n" + o1)
# Same Message-ID, different content: both must be kept.
open(w + "/same-id-1.eml", "wb").write(b"Message-ID: <dup-id@x>\nSubject: one\n\nfirst body\n")
open(w + "/same-id-2.eml", "wb").write(b"Message-ID: <dup-id@x>\nSubject: one\n\nsecond body\n")
EOF
for f in r1 r2 r3 r4 r5 p4 p5 bcc; do
	eval "${f}SHA=$(sha256sum <"$W/$f.eml" | cut -c1-64)"
done

msg_id() { sql "select id from messages where sha256 = decode('$1', 'hex')"; }
nmsg() { sql "select count(*) from messages where sha256 = decode('$1', 'hex')"; }
# journal_receipts SHA [SOURCE] - "mail_from|report_id|addr:role ..." of each receipt of a
# message with that source (default journal).
journal_receipts() {
	sql "select r.mail_from, r.journal_report_id,
		(select string_agg(e.address || ':' || e.role, ' ' order by e.position)
		 from envelope_recipients e where e.receipt_id = r.id)
	from receipts r join messages m on m.id = r.message_id
	where m.sha256 = decode('$1', 'hex') and r.source = '${2:-journal}' order by r.id"
}
# unwrapped REPORT_ID - "source:sha256-prefix" of every receipt linked to a report, in order.
unwrapped() {
	sql "select string_agg(r.source || ':' || left(encode(m.sha256, 'hex'), 12), ' ' order by r.id)
	from receipts r join messages m on m.id = r.message_id where r.journal_report_id = $1"
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

# ---- Exchange Online IRM: the protected original and its decrypted copy --------------------------
sc send --port "$SMTP_PORT" --from journal4@contoso.example --rcpt journal@archive.example \
	"$W/r4.eml" --log "$W/r4.log" 2>/dev/null
rc=$?
verdict "report 4 (protected original and decrypted copy) is accepted (250)" "$rc" "$(excerpt "$W/r4.log")"
[ "$(nmsg "$p4SHA")" = 1 ] && [ "$(nmsg "$O3SHA")" = 1 ] && [ "$(nmsg "$r4SHA")" = 1 ]
verdict "report 4: the original, the decrypted copy and the report are each archived once" $? \
	"original $(nmsg "$p4SHA"), copy $(nmsg "$O3SHA"), report $(nmsg "$r4SHA") rows"
got=$(v cat "sha256:$p4SHA" 2>"$W/cat4.err" | sha256sum | cut -c1-64)
[ "$got" = "$p4SHA" ]
verdict "report 4: vellum cat gives back the protected original byte for byte" $? \
	"sha256 $got, attached part $p4SHA $(excerpt "$W/cat4.err")"
got=$(v cat "sha256:$O3SHA" 2>"$W/cat4.err" | sha256sum | cut -c1-64)
[ "$got" = "$O3SHA" ]
verdict "report 4: vellum cat gives back the decrypted copy byte for byte" $? \
	"sha256 $got, attached part $O3SHA $(excerpt "$W/cat4.err")"
R4ID=$(msg_id "$r4SHA")
want4="s4@x|$R4ID|a4@x:to hidden4@x:bcc"
got=$(journal_receipts "$p4SHA" | tr '\n' '#')
[ "$got" = "$want4#" ]
verdict "report 4: the original's receipt is source journal, the report's envelope (Bcc hidden4@x), linked to the report" $? \
	"got '$got' want '$want4#'"
got=$(journal_receipts "$O3SHA" journal-decrypted | tr '\n' '#')
[ "$got" = "$want4#" ]
verdict "report 4: the copy's receipt is source journal-decrypted, the same envelope (Bcc hidden4@x), linked to the report" $? \
	"got '$got' want '$want4#'"
got=$(unwrapped "$R4ID")
want="journal:$(echo "$p4SHA" | cut -c1-12) journal-decrypted:$(echo "$O3SHA" | cut -c1-12)"
[ "$got" = "$want" ]
verdict "report 4: exactly the original and the copy are linked to the report" $? "got '$got' want '$want'"

sc send --port "$SMTP_PORT" --from journal5@contoso.example --rcpt journal@archive.example \
	"$W/r5.eml" --log "$W/r5.log" 2>/dev/null
rc=$?
R5ID=$(msg_id "$r5SHA")
got=$(unwrapped "${R5ID:-0}")
want="journal:$(echo "$p5SHA" | cut -c1-12)"
n3=$(sql "select count(*) from receipts r join messages m on m.id = r.message_id
	where m.sha256 = decode('$O3SHA', 'hex')")
[ "$rc" -eq 0 ] && [ "$(nmsg "$r5SHA")" = 1 ] && [ "$got" = "$want" ] && [ "$n3" = 1 ]
verdict "report 5 (decrypted copy in x-uuencode): the report and the original are archived, no copy" $? \
	"exit $rc, report rows $(nmsg "$r5SHA"), linked '$got' want '$want', copy receipts $n3 want 1"
grep -q 't72-irm-5@contoso.example.*decrypted copy.*unknown Content-Transfer-Encoding' "$W/serve.log"
verdict "report 5: a warning names the report and why its decrypted copy was left out" $? \
	"$(grep -m 2 'decrypted copy' "$W/serve.log" | tr '\n' '|')"

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

# ---- vellum import unwraps the same reports into a fresh archive ---------------------------------
# The base64 reports' decoded originals (and report 4's decrypted copy) must live until the
# import's commit has written them: under the sanitizer build a use after free aborts here.
it_archive
v import "$W/r2.eml" "$W/r4.eml" >"$W/import.out" 2>&1
rc=$?
[ "$rc" -eq 0 ] && [ "$(nmsg "$O1SHA")" = 1 ] && [ "$(nmsg "$p4SHA")" = 1 ] && [ "$(nmsg "$O3SHA")" = 1 ] &&
	! grep -q -E 'Sanitizer|runtime error:' "$W/import.out"
verdict "vellum import unwraps base64 reports (original and decrypted copy stored)" $? "exit $rc: $(excerpt "$W/import.out")"
for f in "$O1SHA" "$p4SHA" "$O3SHA"; do
	v cat "sha256:$f" | sha256sum | cut -c1-64
done >"$W/import.sums"
[ "$(tr '\n' ' ' <"$W/import.sums")" = "$O1SHA $p4SHA $O3SHA " ]
verdict "the imported originals and copy read back byte for byte" $? "$(tr '\n' ' ' <"$W/import.sums")"
