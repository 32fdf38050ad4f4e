#!/bin/sh
# attach.sh - `make bench-attach`: what reading attachments' text costs the indexer. Five
# archives of ATTACH_BENCH_MESSAGES messages each, alike but for one attachment: none, a DOCX
# (read in process by archiver/office_text), an RTF (archiver/rtf_text), Outlook's winmail.dat
# (archiver/tnef, then each file inside it: the corpus's attachments.tnef, an RTF body, an HTML
# file and a JPEG, 98 KB) and a PDF (read by pdftotext in a child, archiver/pdf_text). Each is indexed ATTACH_BENCH_RUNS times (`vellum index --all --jobs 2`,
# the indexer's own rate) and the median printed, beside the ceiling of the PDF row: pdftotext
# alone over the same PDFs, two at a time, as fast as a shell can start it.
#
#	sh bench/attach.sh                              2,000 messages a kind, 3 runs
#	ATTACH_BENCH_MESSAGES=500 sh bench/attach.sh    a quick check
#
# The messages are written by Python's email package: a short body of Enron-like words, and for
# the DOCX, RTF and PDF kinds a two-page document of about 600 words (its words drawn anew for each
# message from a fixed list, seed 1), so that every attachment is different, as in real mail.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VELLUM=${VELLUM:-$ROOT/bin/vellum}
case $VELLUM in /*) ;; *) VELLUM=$ROOT/$VELLUM ;; esac
N=${ATTACH_BENCH_MESSAGES:-2000}
CORPUS=$(cd "${VELLUM_CORPUS:-$ROOT/../shared/corpus}" && pwd) || exit 1
RUNS=${ATTACH_BENCH_RUNS:-3}

[ -x "$VELLUM" ] || { echo "bench: $VELLUM is missing: run make bin/vellum" >&2; exit 1; }
command -v pdftotext >/dev/null || { echo "bench: pdftotext is missing: sh deploy/deps.sh" >&2; exit 1; }

. "$ROOT/bench/lib.sh"
bench_begin vellum-attach-bench

# 1. Generate: three mboxes, and the PDFs alone for the ceiling.
mkdir "$W/pdf"
python3 - "$W" "$N" "$ROOT/tests/it" "$CORPUS/mimekit-testdata/tnef/attachments.tnef" <<'PY' ||
import mailbox, random, sys
from email.message import EmailMessage
out, n = sys.argv[1], int(sys.argv[2])
tnef = open(sys.argv[4], "rb").read()
sys.path.insert(0, sys.argv[3])
from docmaker import pdf, zipped
rnd = random.Random(1)
WORDS = ("contract gas pipeline houston meeting budget forecast trading desk counterparty "
         "invoice quarter power storage capacity schedule approval review draft settlement "
         "agreement pricing volume transport tariff curve position risk credit").split()

def words(k):
    return " ".join(rnd.choice(WORDS) for _ in range(k))

def docx(paras):
    body = "".join("<w:p><w:r><w:t>%s</w:t></w:r></w:p>" % p for p in paras)
    return zipped([
        ("[Content_Types].xml", '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'),
        ("word/document.xml", '<w:document xmlns:w="http://schemas.openxmlformats.org/'
         'wordprocessingml/2006/main"><w:body>%s</w:body></w:document>' % body)])

def rtf(paras):
    return ("{\\rtf1\\ansi\\ansicpg1252{\\fonttbl{\\f0 Arial;}}\\f0 " +
            "\\par ".join(paras) + "}").encode()

OX = "vnd.openxmlformats-officedocument.wordprocessingml.document"
boxes = {k: mailbox.mbox("%s/%s.mbox" % (out, k)) for k in ("none", "docx", "rtf", "tnef", "pdf")}
for i in range(n):
    for kind, box in boxes.items():
        m = EmailMessage()
        m["From"] = "trader%d@example.com" % (i % 50)
        m["To"] = "desk@example.com"
        m["Subject"] = "re: " + words(4)
        m["Date"] = "Tue, 03 Mar 2026 %02d:%02d:00 +0000" % (i // 60 % 24, i % 60)
        m["Message-ID"] = "<%s.%d@attach.bench>" % (kind, i)
        m.set_content(words(60) + "\n")
        if kind == "docx":
            m.add_attachment(docx([words(100) for _ in range(6)]), maintype="application",
                             subtype=OX, filename="memo%d.docx" % i)
        elif kind == "rtf":
            m.add_attachment(rtf([words(100) for _ in range(6)]), maintype="application",
                             subtype="rtf", filename="memo%d.rtf" % i)
        elif kind == "tnef":
            m.add_attachment(tnef, maintype="application", subtype="ms-tnef", filename="winmail.dat")
        elif kind == "pdf":
            data = pdf([words(300), words(300)], size=10)
            m.add_attachment(data, maintype="application", subtype="pdf", filename="memo%d.pdf" % i)
            if i < 200:
                open("%s/pdf/%d.pdf" % (out, i), "wb").write(data)
        box.add(m)
for box in boxes.values():
    box.close()
PY
	die "generating the mail failed"
chmod 644 "$W"/*.mbox

echo "attachments: $N messages a kind (Python's email package; 600-word DOCX, RTF or two-page PDF, each"
echo "             different; the corpus's attachments.tnef as winmail.dat)"
echo "             $(nproc) CPUs; $RUNS runs of \`vellum index --all --jobs 2\` each, median"
echo

# index_rate KIND - import KIND's mbox into a fresh archive and print one indexing rate a run.
index_rate() {
	D=$W/data-$1
	"$VELLUM" --data "$D" init >"$W/init.log" 2>&1 || die "init failed: $(tail -n 3 "$W/init.log")"
	"$VELLUM" --data "$D" db start >"$W/db.log" 2>&1 || die "db start failed: $(tail -n 3 "$W/db.log")"
	"$VELLUM" --data "$D" import "$W/$1.mbox" >"$W/import.out" 2>&1 || die "import failed: $(cat "$W/import.out")"
	"$VELLUM" --data "$D" index --jobs 2 >"$W/index.out" 2>&1 || die "index failed: $(cat "$W/index.out")"
	r=0
	while [ "$r" -lt "$RUNS" ]; do
		"$VELLUM" --data "$D" index --all --jobs 2 >"$W/index.out" 2>&1 || die "index failed: $(cat "$W/index.out")"
		# "indexed       N messages in S s (R messages/s)": R, from the unrounded time (S is
		# printed to 0.01 s, a step of 5% at 0.2 s)
		sed -n 's/^indexed *[0-9]* messages in [0-9.]* s (\([0-9]*\) messages\/s).*/\1/p' "$W/index.out"
		r=$((r + 1))
	done
	"$VELLUM" --data "$D" db stop >/dev/null 2>&1
	D=
}

none=$(index_rate none | median)
docx=$(index_rate docx | median)
rtf=$(index_rate rtf | median)
tnef=$(index_rate tnef | median)
pdf=$(index_rate pdf | median)

# The ceiling of the PDF row: pdftotext alone on 200 of the same PDFs, two at a time.
cr=
r=0
while [ "$r" -lt "$RUNS" ]; do
	t0=$(now_s)
	ls "$W"/pdf/*.pdf | xargs -P 2 -n 1 sh -c 'pdftotext -q -enc UTF-8 "$0" - >/dev/null' ||
		die "pdftotext failed"
	t1=$(now_s)
	cr="$cr $(echo "$t0 $t1" | awk '{ printf "%.0f", 200 / ($2 - $1) }')"
	r=$((r + 1))
done
ceiling=$(echo "$cr" | tr ' ' '\n' | grep . | median)

printf "%-36s %12s %10s\n" "messages indexed (--jobs 2)" "msgs/s" "vs none"
printf "%-36s %12.0f %10s\n" "no attachment" "$none" "1.00x"
printf "%-36s %12.0f %9.2fx\n" "DOCX attached (office_text)" "$docx" "$(echo "$docx $none" | awk '{ print $1 / $2 }')"
printf "%-36s %12.0f %9.2fx\n" "RTF attached (rtf_text)" "$rtf" "$(echo "$rtf $none" | awk '{ print $1 / $2 }')"
printf "%-36s %12.0f %9.2fx\n" "winmail.dat attached (tnef, 98 KB)" "$tnef" "$(echo "$tnef $none" | awk '{ print $1 / $2 }')"
printf "%-36s %12.0f %9.2fx\n" "PDF attached (pdftotext child)" "$pdf" "$(echo "$pdf $none" | awk '{ print $1 / $2 }')"
printf "%-36s %12.0f %10s\n" "ceiling: pdftotext alone, 2 at once" "$ceiling" "-"
printf "\nPDF row / its ceiling: %.2f\n" "$(echo "$pdf $ceiling" | awk '{ print $1 / $2 }')"
