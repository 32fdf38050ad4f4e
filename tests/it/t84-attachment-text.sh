#!/bin/sh
# t84-attachment-text - full text reaches into attachments (REQUIREMENTS, eDiscovery: "Full text
# indexes the whole message and extractable attachments"), on files made here the way their
# writers make them: a DOCX, an XLSX, a PPTX and an ODT written with Python's zipfile (the parts
# and namespaces Word, Excel, PowerPoint and LibreOffice write), a PDF written object by object
# with its cross-reference table, the same PDF encrypted by qpdf, a CSV, an HTML page, a ZIP that
# is no DOCX though named one, and an image, each attached by Python's email package:
#  1. a word found only inside an attachment finds its message, and no other (one per kind,
#     Japanese too: 契約 inside the DOCX, written in UTF-8 as Word does);
#  2. the attachment is still listed (filename:, has:attachment), its message reads back byte
#     for byte;
#  3. index_exceptions: nothing for what was read; encrypted for the password-protected PDF;
#     decode_error for the broken DOCX; unsupported_type for the image, and for the JPEG
#     inside a winmail.dat (the corpus's attachments.tnef, beside its two-file one);
#  4. `vellum index --all` gives the same counts; a first page with snippets of each hit works.
. "$(dirname "$0")/lib.sh"

it_begin
it_archive

M=$W/mail
mkdir -p "$M"
python3 - "$M" "$IT_DIR" "$CORPUS/mimekit-testdata/tnef/two-files.tnef" \
	"$CORPUS/mimekit-testdata/tnef/MAPI_ATTACH_DATA_OBJ/VIA_Nytt_1402.doc" \
	"$CORPUS/mimekit-testdata/tnef/attachments.tnef" <<'PY'
import sys
from email.message import EmailMessage
out = sys.argv[1]
sys.path.insert(0, sys.argv[2])
tnef = open(sys.argv[3], "rb").read()
doc = open(sys.argv[4], "rb").read()
tnef_jpeg = open(sys.argv[5], "rb").read()
from docmaker import pdf, zipped

CT = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>%s</Types>'
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
docx = zipped([
    ("[Content_Types].xml", CT % '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'),
    ("word/document.xml", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document %s><w:body>'
     '<w:p><w:r><w:rPr><w:b/></w:rPr><w:t>Supply agreement</w:t></w:r></w:p>'
     '<w:p><w:r><w:t xml:space="preserve">The parties sign the </w:t></w:r><w:r><w:t>marmalade clause</w:t></w:r>'
     '<w:r><w:tab/><w:t>R&amp;D</w:t></w:r></w:p>'
     '<w:p><w:r><w:t>本契約は東京で締結する</w:t></w:r></w:p>'
     '<w:sectPr w:rsidR="zebracrossing"/></w:body></w:document>' % W),
])
S = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
xlsx = zipped([
    ("[Content_Types].xml", CT % ""),
    ("xl/workbook.xml", '<workbook %s><sheets><sheet name="Q3" sheetId="1"/></sheets></workbook>' % S),
    ("xl/sharedStrings.xml", '<sst %s count="2" uniqueCount="2"><si><t>vendor</t></si><si><t>quokka holdings</t></si></sst>' % S),
    ("xl/worksheets/sheet1.xml", '<worksheet %s><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
     '<c r="C1" t="inlineStr"><is><t>wombat</t></is></c><c r="D1"><v>98765</v></c></row></sheetData></worksheet>' % S),
])
A = 'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"'
def slide(text):
    return '<p:sld %s><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>%s</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>' % (A, text)
pptx = zipped([
    ("[Content_Types].xml", CT % ""),
    ("ppt/presentation.xml", '<p:presentation %s/>' % A),
    ("ppt/slides/slide1.xml", slide("roadmap narwhal")),
    ("ppt/slides/slide2.xml", slide("second slide")),
])
O = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
     'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')
odt = zipped([
    ("mimetype", "application/vnd.oasis.opendocument.text"),
    ("META-INF/manifest.xml", '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>'),
    ("content.xml", '<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content %s><office:body><office:text>'
     '<text:h>Minutes</text:h><text:p>the<text:s/>axolotl<text:line-break/>committee</text:p>'
     '</office:text></office:body></office:document-content>' % O),
])

open(out + "/plain.pdf", "wb").write(pdf([["Invoice for the pangolin shipment", "net 30 days"]]))
open(out + "/secret.src.pdf", "wb").write(pdf([["the capybara figures"]]))

def msg(name, subject, day, *attachments):
    m = EmailMessage()
    m["From"] = "ops@x.example"
    m["To"] = "legal@x.example"
    m["Subject"] = subject
    m["Date"] = "Mon, %02d Feb 2026 10:00:00 +0000" % day
    m["Message-ID"] = "<%s@t84>" % name
    m.set_content("please see the attachment\n")
    for data, maintype, subtype, filename in attachments:
        m.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    open("%s/%s.eml" % (out, name), "wb").write(m.as_bytes())

OX = "vnd.openxmlformats-officedocument."
msg("docx", "contract", 1, (docx, "application", OX + "wordprocessingml.document", "contract.docx"))
msg("xlsx", "vendors", 2, (xlsx, "application", OX + "spreadsheetml.sheet", "vendors.xlsx"))
msg("pptx", "plan", 3, (pptx, "application", OX + "presentationml.presentation", "plan.pptx"))
msg("odt", "minutes", 4, (odt, "application", "vnd.oasis.opendocument.text", "minutes.odt"))
msg("pdf", "invoice", 5, (open(out + "/plain.pdf", "rb").read(), "application", "pdf", "invoice.pdf"))
msg("csv", "ledger", 6, (b"account,amount\nokapi fund,120\n", "text", "csv", "ledger.csv"))
msg("html", "page", 7, (b"<html><body><p>the <b>tapir</b> report</p></body></html>", "text", "html", "page.html"))
msg("broken", "broken", 8, (b"PK\x03\x04 this is not a zip at all", "application", OX + "wordprocessingml.document", "broken.docx"))
msg("img", "picture", 9, (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "image", "png", "chart.png"))
msg("none", "no attachment", 10)
rtf = (b"{\\rtf1\\ansi\\ansicpg1252{\\fonttbl{\\f0 Arial;}}{\\*\\generator Wordpad;}"
       b"\\f0 the \\b armadillo\\b0  memo\\par caf\\'e9 \\u20250?\\u35696?}")
msg("rtf", "memo", 11, (rtf, "application", "rtf", "memo.rtf"))
msg("tnef", "outlook", 12, (tnef, "application", "ms-tnef", "winmail.dat"),
    (tnef_jpeg, "application", "ms-tnef", "winmail2.dat"))
msg("doc", "newsletter", 13, (doc, "application", "msword", "nytt.doc"))
PY
verdict "write the attachments and messages" $?
qpdf --encrypt user-secret owner-secret 256 -- "$M/secret.src.pdf" "$M/secret.pdf" >"$W/qpdf.out" 2>&1 &&
	python3 - "$M" <<'PY' >>"$W/qpdf.out" 2>&1
import sys
from email.message import EmailMessage
out = sys.argv[1]
m = EmailMessage()
m["From"] = "ops@x.example"
m["To"] = "legal@x.example"
m["Subject"] = "locked"
m["Date"] = "Wed, 11 Feb 2026 10:00:00 +0000"
m["Message-ID"] = "<secret@t84>"
m.set_content("the password follows by phone\n")
m.add_attachment(open(out + "/secret.pdf", "rb").read(), maintype="application", subtype="pdf", filename="secret.pdf")
open(out + "/secret.eml", "wb").write(m.as_bytes())
PY
verdict "encrypt a PDF with qpdf (AES-256, user password) and attach it" $? "$(excerpt "$W/qpdf.out")"

NAMES="docx xlsx pptx odt pdf csv html broken img none secret rtf tnef doc"
files=
for n in $NAMES; do files="$files $M/$n.eml"; done
# shellcheck disable=SC2086
v store $files >"$W/store.out" 2>&1 && v index >"$W/index.out" 2>&1
verdict "store and index 14 messages" $? "$(excerpt "$W/store.out") $(excerpt "$W/index.out")"
id_of() { awk -v f="$M/$1.eml" '$3 == f { print $1 }' "$W/store.out"; }

# --- 1. words inside attachments --------------------------------------------------------------
# hits QUERY - the Message-IDs of QUERY's hits, sorted, space-separated.
hits() {
	v search --json --limit 50 -- "$1" >"$W/hits.json" 2>"$W/hits.err" || { echo "search failed"; return; }
	python3 -c '
import json, sys
print(" ".join(sorted(h["message_id"].strip("<>") for h in json.load(sys.stdin)["hits"])))' <"$W/hits.json"
}
bad=
found() { got=$(hits "$1"); [ "$got" = "$2" ] || bad="$bad [$1] got [$got] want [$2];"; }
found marmalade "docx@t84"
found '"marmalade clause"' "docx@t84"
found 契約 "docx@t84"
found 東京 "docx@t84"
found quokka "xlsx@t84"
found wombat "xlsx@t84"
found 98765 "xlsx@t84"
found narwhal "pptx@t84"
found axolotl "odt@t84"
found committee "odt@t84"
found pangolin "pdf@t84"
found '"pangolin shipment"' "pdf@t84"
found okapi "csv@t84"
found tapir "html@t84"
found 'body:tapir' "html@t84"
[ -z "$bad" ]
verdict "a word only inside an attachment finds its message (DOCX, XLSX, PPTX, ODT, PDF, CSV, HTML; 契約 and 東京 in the DOCX)" $? "$bad $(excerpt "$W/hits.err")"
bad=
found zebracrossing ""
found capybara ""
found '"<b>"' ""
found attachment "broken@t84 csv@t84 doc@t84 docx@t84 html@t84 img@t84 none@t84 odt@t84 pdf@t84 pptx@t84 rtf@t84 tnef@t84 xlsx@t84"
[ -z "$bad" ]
verdict "what is no text is not found: an attribute value, the encrypted PDF's words, HTML tags" $? "$bad"
bad=
found armadillo "rtf@t84"
found café "rtf@t84"
found 会議 "rtf@t84"
found Arial ""
found Wordpad ""
found proliferation "tnef@t84"
found '"microsoft outlook and exchange"' "tnef@t84"
found readme "tnef@t84"
found '"Stavanger og Aberdeen"' "doc@t84"
found flyspesialisten "doc@t84"
[ -z "$bad" ]
verdict "RTF (its code page, \\u characters; not its font table), a winmail.dat (TNEF: the files inside it, by name and text) and a Word 97 .doc (catdoc) are read" $? "$bad"

# --- 2. the attachments are still attachments ------------------------------------------------
bad=
found filename:contract.docx "docx@t84"
found filename:pdf "pdf@t84 secret@t84"
[ "$(v search --count has:attachment)" = 13 ] || bad="$bad has:attachment;"
[ -z "$bad" ]
verdict "filename: and has:attachment as before" $? "$bad"
v cat "$(id_of pdf)" >"$W/pdf.back" 2>"$W/cat.err" && cmp -s "$W/pdf.back" "$M/pdf.eml"
verdict "the PDF's message reads back byte for byte" $? "$(excerpt "$W/cat.err")"

# --- 3. what the text lacks ---------------------------------------------------------------------
exc() {
	sql "SELECT string_agg(reason || '@' || part || coalesce(':' || filename, ''), ' ' ORDER BY position)
	     FROM index_exceptions WHERE message_id = $(id_of "$1")"
}
bad=
check() { got=$(exc "$1"); [ "$got" = "$2" ] || bad="$bad $1: [$got] want [$2];"; }
for n in docx xlsx pptx odt pdf csv html none rtf doc; do check "$n" ""; done
check tnef "unsupported_type@3:zappa_av1.jpg"
check secret "encrypted@2:secret.pdf"
check broken "decode_error@2:broken.docx"
check img "unsupported_type@2:chart.png"
[ -z "$bad" ]
verdict "index_exceptions: none for what was read; the locked PDF encrypted, the broken DOCX decode_error, the image unsupported_type, and the JPEG inside the second winmail.dat too" $? "$bad"
sql "SELECT detail FROM index_exceptions WHERE message_id = $(id_of broken)" >"$W/broken.detail"
grep -q -i "docx\|zip" "$W/broken.detail"
verdict "the broken DOCX's detail says what could not be read" $? "$(cat "$W/broken.detail")"

# --- 4. again, and pages ------------------------------------------------------------------------
sql "SELECT message_id, reason, part FROM index_exceptions ORDER BY 1, 2, 3" >"$W/exc.before"
v index --all >"$W/reindex.out" 2>&1 &&
	sql "SELECT message_id, reason, part FROM index_exceptions ORDER BY 1, 2, 3" >"$W/exc.after" &&
	cmp -s "$W/exc.before" "$W/exc.after" && [ "$(hits quokka)" = "xlsx@t84" ] && [ "$(hits 契約)" = "docx@t84" ]
verdict "index --all: the same exceptions and hits" $? "$(excerpt "$W/reindex.out")"
# Migration 0018 on an archive indexed before RTF and TNEF were read: the RTF and the TNEF
# message (given the exception they had then) are queued again, the image's is not.
sql "INSERT INTO index_exceptions (message_id, position, part, filename, content_type, reason, detail)
     VALUES ($(id_of rtf), 0, '2', 'memo.rtf', 'application/rtf', 'unsupported_type', 'then'),
            ($(id_of tnef), 1, '2', 'WINMAIL.DAT', 'application/ms-tnef', 'unsupported_type', 'then')" &&
	sql "$(cat "$ROOT/schema/0018_rtf_tnef_text.sql")" &&
	[ "$(sql "SELECT string_agg(id::text, ' ' ORDER BY id) FROM messages WHERE indexed_at IS NULL")" = \
		"$(printf '%s\n' "$(id_of rtf)" "$(id_of tnef)" | sort -n | tr '\n' ' ' | sed 's/ $//')" ] &&
	v index >"$W/mig.out" 2>&1 && [ "$(hits armadillo)" = "rtf@t84" ] &&
	[ -z "$(sql "SELECT message_id FROM index_exceptions WHERE detail = 'then'")" ]
verdict "migration 0018 queues again the messages whose RTF or winmail.dat was unsupported_type, and only those" $? "$(excerpt "$W/mig.out")"
# Migration 0020: the message with winmail.dat attachments is noted to be indexed again (the
# files inside them now have rows of their own), and no other (none has a .ppt); it locks no
# messages row: none is queued until the indexer's sweep.
sql "DELETE FROM index_exceptions WHERE message_id = $(id_of tnef)" &&
	sql "$(cat "$ROOT/schema/0020_tnef_files_ppt_encrypted.sql")" &&
	[ "$(sql "SELECT string_agg(message_id::text, ' ' ORDER BY message_id) FROM index_requeue")" = "$(id_of tnef)" ] &&
	[ "$(sql "SELECT count(*) FROM messages WHERE indexed_at IS NULL")" = 0 ] &&
	v index >"$W/mig20.out" 2>&1 && [ "$(exc tnef)" = "unsupported_type@3:zappa_av1.jpg" ]
verdict "migration 0020 queues again the message with a winmail.dat, and only it" $? "$(excerpt "$W/mig20.out")"
v search -- marmalade OR pangolin OR narwhal >"$W/page.out" 2>&1 && grep -q "^3 messages" "$W/page.out" &&
	[ "$(grep -c "^  Attachment: \(contract.docx\|invoice.pdf\|plan.pptx\)$" "$W/page.out")" = 3 ]
verdict "a page of hits found in attachments prints, with its snippets" $? "$(excerpt "$W/page.out")"
v search --json -- marmalade OR okapi OR narwhal OR pangolin >"$W/page.json" 2>"$W/page.err" &&
	python3 - "$W/page.json" <<'PY' >"$W/snip.out" 2>&1
import json, sys
hits = {h["message_id"]: h["snippet"] for h in json.load(open(sys.argv[1]))["hits"]}
want = {"<docx@t84>": "\u00abmarmalade\u00bb", "<csv@t84>": "\u00abokapi\u00bb",
        "<pptx@t84>": "\u00abnarwhal\u00bb"}
bad = [k for k, w in want.items() if w not in hits.get(k, "")]
# A PDF's text costs a process: its snippet is the body's, without the mark.
if "\u00ab" in hits.get("<pdf@t84>", "x\u00ab"):
    bad.append("<pdf@t84> marked")
print(hits)
sys.exit(1 if bad else 0)
PY
verdict "a word found only in a DOCX, CSV or PPTX shows marked in its hit's snippet; a PDF's is not read for it" $? "$(excerpt "$W/snip.out") $(excerpt "$W/page.err")"

it_summary
