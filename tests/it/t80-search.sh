#!/bin/sh
# t80-search - `vellum search` on real mail: the Enron known answers come out exactly, the
# query language's booleans agree with each other, the Gmail/Vault/KQL spellings count as their
# Vellum forms do, pages by cursor cover a result once each,
# malformed queries are refused with where and why, Japanese, Chinese and Cyrillic words are
# found whatever charset carried them, custodians expand, and every search is audited.
. "$(dirname "$0")/lib.sh"

it_begin
it_archive

KA=$CORPUS/enron-skilling-j/KNOWN_ANSWERS.tsv

# --- Load and index ---------------------------------------------------------------------------
vr import "$ENRON" >"$W/import.out" 2>&1
verdict "import enron-skilling-j" $? "$(excerpt "$W/import.out")"
vr index >"$W/index.out" 2>&1
verdict "index it" $? "$(excerpt "$W/index.out")"

# count QUERY - the exact --count answer of the sanitized build; "ERR" when it fails.
count() { v search --count --exact -- "$1" 2>>"$W/search.err" || echo ERR; }

# --- Known answers (KNOWN_ANSWERS.tsv: produced by tools/known_answers.py) -------------------
want=$(awk -F'\t' '$1 == "messages_parsed" { print $2 }' "$KA")
got=$(count "")
[ "$got" = "$want" ]
verdict "the empty query finds every message ($want)" $? "got $got"
est=$(v search --count -- "" 2>>"$W/search.err")
case $est in "~"[0-9]*) n=${est#"~"}; [ "$n" -gt 1000 ] ;; *) false ;; esac
verdict "without --exact a broad count is an estimate, marked ~ ($est)" $?
[ "$(v search --count -- "body:fraud" 2>>"$W/search.err")" = 9 ]
verdict "a narrow count is exact without --exact" $?
got=$(count "has:attachment")
want=$(awk -F'\t' '$1 == "parts_with_disposition_attachment" { print $2 }' "$KA")
[ "$got" = "$want" ]
verdict "has:attachment finds $want" $? "got $got"

: >"$W/ka.bad"
awk -F'\t' '$1 ~ /^(from_addr|body_word|subject_word)=/' "$KA" | while IFS="$(printf '\t')" read -r q want; do
	term=${q#*=}
	case $q in
	from_addr=*) query="from:$term" ;;
	body_word=*) query="body:$term" ;;
	subject_word=*) query="subject:$term" ;;
	esac
	got=$(count "$query")
	[ "$got" = "$want" ] || printf '%s want %s got %s\n' "$query" "$want" "$got" >>"$W/ka.bad"
done
[ ! -s "$W/ka.bad" ]
verdict "every from_addr, body_word and subject_word known answer" $? "$(excerpt "$W/ka.bad")"

# --- The language agrees with itself -----------------------------------------------------------
h=$(count "houston")
l=$(count "lunch")
hl=$(count "houston lunch")
hol=$(count "houston OR lunch")
hnl=$(count "houston -lunch")
[ "$hol" = $((h + l - hl)) ] && [ "$hnl" = $((h - hl)) ] && [ "$(count "houston AND lunch")" = "$hl" ]
verdict "OR, AND and - add up (houston $h, lunch $l, both $hl, either $hol, not $hnl)" $?
[ "$(count "(houston OR lunch) -(houston lunch)")" = $((hol - hl)) ]
verdict "parentheses group" $?
[ "$(count "NOT lunch")" = $(($(count "") - l)) ]
verdict "NOT lunch is everything but lunch" $?
p=$(count '"power point"')
[ "$p" != ERR ] && [ "$p" -le "$(count "power point")" ]
verdict "a phrase finds no more than its words (\"power point\" $p)" $?
pre=$(count "meet*")
[ "$pre" != ERR ] && [ "$pre" -ge "$(count "meeting")" ] && [ "$pre" -ge "$(count "meet")" ]
verdict "meet* finds at least meeting and meet ($pre)" $?
[ "$(count "from:enron.com")" -ge "$(count "from:jeff.skilling@enron.com")" ] &&
	[ "$(count "from:ENRON.COM")" = "$(count "from:enron.com")" ]
verdict "a domain finds its addresses, case-insensitively" $?
d=$(count "date:2001-01-01..2001-12-31")
a=$(count "after:2001-01-01 before:2002-01-01")
[ "$d" != ERR ] && [ "$d" = "$a" ] && [ "$d" -gt 0 ]
verdict "date:A..B equals after:A before:B+1 ($d)" $? "date: $d, after/before: $a"
[ "$(count "larger:1K")" -gt "$(count "larger:100K")" ]
verdict "larger: by size" $?

# --- The operators of Gmail, Vault, KQL and notmuch agree with their Vellum spellings -----------
all=$(count "")
s=$(count "sent:2001-01-01..2001-06-30")
d=$(count "date:2001-01-01..2001-06-30")
c=$(count "date>=2001-01-01 date<=2001-06-30")
[ "$s" != ERR ] && [ "$s" -gt 0 ] && [ "$s" = "$d" ] && [ "$c" = "$d" ]
verdict "sent:A..B and date>=A date<=B equal date:A..B ($d)" $? "sent: $s, date: $d, compared: $c"
gt=$(count "date>2001-06-30")
lt=$(count "date<2001-07-01")
[ "$gt" = "$(count "after:2001-07-01")" ] && [ $((gt + lt)) = "$all" ]
verdict "date>D is after:D+1, and date<D+1 is the rest ($gt + $lt = $all)" $?
rcpt=$(sql "select substr(t, 5) from message_index, unnest(addr_terms) t where t like 'c:a:%' group by 1 order by count(*) desc, 1 limit 1")
r=$(count "recipients:$rcpt")
o=$(count "to:$rcpt OR cc:$rcpt OR bcc:$rcpt")
envr=$(sql "select count(*) from message_index where 'r:a:$rcpt' = any (addr_terms)")
[ "$r" != ERR ] && [ "$r" -gt 0 ] && [ "$r" = "$o" ] && [ "$envr" = 0 ] &&
	[ "$(count "participants:$rcpt")" -ge "$r" ] &&
	[ "$(count "recipients:@enron.com")" = "$(count "to:@enron.com OR cc:*@enron.com OR bcc:*@enron.com")" ]
verdict "recipients:X is to:X OR cc:X OR bcc:X ($rcpt: $r; no envelope recipients in an import)" $? "recipients $r, or $o, envelope $envr"
[ "$(count "from:*@enron.com")" = "$(count "from:@enron.com")" ] && [ "$(count "from:@enron.com")" -gt 0 ]
verdict "from:*@enron.com is from:@enron.com" $?
m=$(count "meeting")
ho=$(count "houston")
b=$(count "{meeting houston}")
[ "$b" != ERR ] && [ "$b" = "$(count "meeting OR houston")" ] && [ "$b" -gt "$m" ] && [ "$b" -gt "$ho" ] &&
	[ "$(count "{meeting houston} lunch")" = "$(count "(meeting OR houston) lunch")" ]
verdict "{meeting houston} is meeting OR houston ($b)" $?
n=$(count "power NEAR/2 point")
[ "$n" != ERR ] && [ "$n" -gt 0 ] && [ "$(count "power AROUND 2 point")" = "$n" ] && [ "$(count "power NEAR(2) point")" = "$n" ]
verdict "AROUND 2 and NEAR(2) are NEAR/2 ($n)" $?
ge=$(count "size>=20K")
[ "$ge" != ERR ] && [ "$ge" -gt 0 ] && [ "$ge" = "$(count "larger:20479")" ] && [ "$ge" = "$(count "size:20K")" ] &&
	[ "$(count "size>20K")" = "$(count "larger:20K")" ] && [ "$(count "size<20K")" = "$(count "smaller:20K")" ] &&
	[ $((ge + $(count "size<20K"))) = "$all" ] && [ "$(count "size:1..20K")" = "$(count "size<=20K")" ]
verdict "size>=20K is larger:20479 and size:20K (larger: is strictly larger); size:A..B, size<N add up ($ge)" $?
old=$(count "older_than:1d")
new=$(count "newer_than:1d")
past=$(sql "select count(*) from message_index where sent_at < now() - interval '1 day'")
[ "$old" != ERR ] && [ "$old" = "$past" ] && [ $((old + new)) = "$all" ] && [ "$old" -ge "$(count "date:..2001-12-31")" ]
verdict "older_than:1d is every message sent before yesterday, newer_than:1d the rest ($old + $new)" $? "sql $past"

# id: one message by its Message-ID, with or without angle brackets.
mid=$(sql "select btrim(hdr_message_id, '<>') from messages where hdr_message_id is not null order by id limit 1")
upper=$(printf '%s' "$mid" | tr a-z A-Z)
[ -n "$mid" ] && [ "$(count "id:$mid")" = 1 ] && [ "$(count "id:<$mid>")" = 1 ] && [ "$(count "id:$upper")" = 1 ] &&
	[ "$(count "messageid:<$mid>")" = 1 ] && [ "$(count "rfc822msgid:$mid")" = 1 ]
verdict "id: (messageid:, rfc822msgid:) finds a message by its Message-ID, with or without <>, in any case" $? "id $mid"

# matter: every hold of the matter, released or not.
v hold place t80-lunch --matter t80-case --query "subject:lunch" >"$W/hold.out" 2>&1 &&
	v hold place t80-fraud --matter t80-case --query "body:fraud" >>"$W/hold.out" 2>&1
verdict "two holds placed under one matter" $? "$(excerpt "$W/hold.out")"
mt=$(count "matter:t80-case")
[ "$mt" != ERR ] && [ "$mt" -gt 0 ] && [ "$mt" = "$(count "hold:t80-lunch OR hold:t80-fraud")" ] &&
	[ "$mt" = "$(count "subject:lunch OR body:fraud")" ] && [ "$(count "matter:no-such-case")" = 0 ]
verdict "matter:t80-case is every message of its holds ($mt)" $?

# --- Pages ---------------------------------------------------------------------------------------
total=$(count "body:meeting")
cursor=
: >"$W/pages.ids"
pages=0
while :; do
	if [ -n "$cursor" ]; then set -- --after-cursor "$cursor"; else set --; fi
	v search --json --limit 100 "$@" -- "body:meeting" >"$W/page.json" 2>>"$W/search.err" || break
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for h in d["hits"]:
    print(h["id"], h["date"])
print(d.get("next_cursor") or "", file=open(sys.argv[2], "w"))' "$W/page.json" "$W/cursor" >>"$W/pages.ids"
	pages=$((pages + 1))
	cursor=$(cat "$W/cursor")
	[ -z "$cursor" ] || [ "$pages" -gt 20 ] && break
done
n=$(wc -l <"$W/pages.ids")
u=$(awk '{ print $1 }' "$W/pages.ids" | sort -u | wc -l)
[ "$n" = "$total" ] && [ "$u" = "$n" ] && sort -s -r -k2,2 "$W/pages.ids" | cmp -s - "$W/pages.ids"
verdict "cursor pages give all $total hits once each, newest first ($pages pages)" $? "$n hits, $u distinct"

v search --json --limit 1 -- "body:houston" >"$W/one.json" 2>>"$W/search.err"
python3 -c '
import json, sys
h = json.load(open(sys.argv[1]))["hits"][0]
s = h["snippet"].lower()
assert "\u00abhouston\u00bb" in s, s
assert h["id"] > 0 and h["from"] and h["size"] > 0 and h["date"].endswith("Z")' "$W/one.json" 2>"$W/one.err"
verdict "a hit has id, date, from, size and a snippet with the match marked" $? "$(excerpt "$W/one.err")"

# --- Malformed queries: exit 2, where and why, nothing run -------------------------------------
: >"$W/bad.bad"
for q in '(lunch' 'lunch)' 'OR lunch' 'lunch OR' 'frm:jeff' 'from:' 'larger:ten' \
	'after:2001-13-45' 'date:2002-01-01..2001-01-01' '"unterminated' '-' '"!!!"' \
	'*foo' 'fo*o' 'from:*enron.com' '{lunch' 'size>' 'date>=notadate' 'older_than:5w' \
	'lunch AROUND meeting' 'lunch NEAR(x) meeting'; do
	v search --count -- "$q" >"$W/bad.out" 2>"$W/bad.err"
	rc=$?
	{ [ "$rc" -eq 2 ] && grep -q "position" "$W/bad.err"; } ||
		printf '[%s] exit %s: %s\n' "$q" "$rc" "$(head -c 200 "$W/bad.err")" >>"$W/bad.bad"
done
[ ! -s "$W/bad.bad" ]
verdict "malformed queries exit 2 naming the position" $? "$(excerpt "$W/bad.bad")"
v search --count -- "lunch *foo" >"$W/bad.out" 2>"$W/bad.err"
rc=$?
[ "$rc" = 2 ] && grep -q "position 6: leading wildcard not supported" "$W/bad.err" && [ ! -s "$W/bad.out" ]
verdict "a leading wildcard is refused where it stands, not run as a silent non-match" $? "exit $rc: $(head -c 200 "$W/bad.err")"
v search --count -- "x'); DROP TABLE messages; --" >/dev/null 2>&1
[ "$(sql "select count(*) from messages")" = "$(awk -F'\t' '$1 == "messages_parsed" { print $2 }' "$KA")" ]
verdict "SQL in a query is only ever a search term" $?

# --- Custodians ----------------------------------------------------------------------------------
v custodian add Skilling jeff.skilling@enron.com MarkSkilling@Hotmail.com >"$W/cust.out" 2>&1
verdict "custodian add" $? "$(excerpt "$W/cust.out")"
c=$(count "custodian:skilling")
e=$(count "participants:jeff.skilling@enron.com OR participants:markskilling@hotmail.com")
f=$(($(count "from:jeff.skilling@enron.com") + $(count "from:markskilling@hotmail.com")))
[ "$c" = "$e" ] && [ "$c" -ge "$f" ] && [ "$f" -gt 0 ]
verdict "custodian:skilling is every participant address of the custodian ($c)" $? "custodian $c, participants $e, from $f"
v custodian add 'bad name!' a@b.c >/dev/null 2>&1
[ $? -eq 2 ]
verdict "a bad custodian name is refused" $?

# --- Charsets: the same words, whatever charset carried them -------------------------------------
# wrap FILE CHARSET - a message around a text sample of gmime-testdata, in its own charset.
wrap() {
	{
		printf 'From: charset@example.org\r\nTo: t80@example.org\r\nSubject: %s sample\r\n' "$2"
		printf 'Message-ID: <%s.t80@example.org>\r\nDate: Tue, 1 Dec 2026 10:00:00 +0000\r\n' "$2"
		printf 'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=%s\r\n' "$2"
		printf 'Content-Transfer-Encoding: 8bit\r\n\r\n'
		cat "$1"
	} >"$W/wrap-$2.eml"
	printf '%s\n' "$W/wrap-$2.eml"
}
F=$CORPUS/gmime-testdata/filters
{
	wrap "$F/japanese.iso-2022-jp.txt" ISO-2022-JP
	wrap "$F/japanese.shift-jis.txt" Shift_JIS
	wrap "$F/japanese.utf-8.txt" UTF-8
	wrap "$F/chinese.big5.txt" Big5
	wrap "$F/cyrillic.koi8-r.txt" KOI8-R
	wrap "$F/cyrillic.cp1251.txt" windows-1251
	wrap "$F/cyrillic.iso-8859-5.txt" ISO-8859-5
} >"$W/wraps"
xargs -d '\n' "$VELLUM_REL" --data "$D" store <"$W/wraps" >"$W/wraps.out" 2>&1
verdict "store the charset samples" $? "$(excerpt "$W/wraps.out")"
vr import "$CORPUS/jpmobile-japanese-mobile" >"$W/jp.out" 2>&1
verdict "import jpmobile-japanese-mobile" $? "$(excerpt "$W/jp.out")"
# The Enron mail has no attachments: one message with a named one, for attachmentnames:.
{
	printf 'From: att@example.org\r\nTo: t80@example.org\r\nSubject: figures\r\n'
	printf 'Message-ID: <att.t80@example.org>\r\nDate: Tue, 1 Dec 2026 10:00:00 +0000\r\n'
	printf 'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n'
	printf -- '--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n'
	printf -- '--b\r\nContent-Type: application/octet-stream\r\n'
	printf 'Content-Disposition: attachment; filename="zqbudget-q3.xls"\r\n\r\nxyz\r\n--b--\r\n'
} >"$W/att.eml"
vr store "$W/att.eml" >"$W/att.out" 2>&1
verdict "store a message with an attachment" $? "$(excerpt "$W/att.out")"
vr index >>"$W/index.out" 2>&1
f=$(count "filename:zqbudget")
[ "$f" = 1 ] && [ "$(count "attachmentnames:zqbudget")" = 1 ] && [ "$(count "attachmentnames:zqbudget-q3.xls")" = 1 ] &&
	[ "$(count "zqbudget")" = 1 ] && [ "$(count "subject:zqbudget")" = 0 ]
verdict "attachmentnames: is filename: (the attachment's name, not the subject)" $? "filename: $f"

# --- Dates: exact to the second in UTC, Gmail's slashes, tz: (REQUIREMENTS' dates row) -----------
# Two messages sent at the same instant, 2024-12-31 23:30:00 UTC, written in two zones; a third
# at 2025-01-01 00:00:00 UTC.
nye() {
	printf 'From: nye@example.org\r\nTo: t80@example.org\r\nSubject: zqnewyear %s\r\n' "$1"
	printf 'Message-ID: <%s.nye.t80@example.org>\r\nDate: %s\r\n\r\nbody\r\n' "$1" "$2"
}
nye utc 'Tue, 31 Dec 2024 23:30:00 +0000' >"$W/nye-utc.eml"
nye jst 'Wed, 01 Jan 2025 08:30:00 +0900' >"$W/nye-jst.eml"
nye midnight 'Wed, 01 Jan 2025 00:00:00 +0000' >"$W/nye-midnight.eml"
vr store "$W/nye-utc.eml" "$W/nye-jst.eml" "$W/nye-midnight.eml" >"$W/nye.out" 2>&1 &&
	vr index >>"$W/index.out" 2>&1
verdict "store three messages around New Year 2025" $? "$(excerpt "$W/nye.out")"
: >"$W/nye.bad"
# nye_is QUERY N - QUERY (with the three's subject word) finds N of them.
nye_is() {
	got=$(count "zqnewyear $1")
	[ "$got" = "$2" ] || printf '%s: want %s got %s\n' "$1" "$2" "$got" >>"$W/nye.bad"
}
nye_is "after:2025-01-01" 1
nye_is "before:2025-01-01" 2
nye_is "after:2025/01/01" 1
nye_is "date:2024/12/31" 2
nye_is "after:2024-12-31T23:30:00" 3
nye_is "after:2024-12-31T23:30:01" 1
nye_is "date>2024-12-31T23:30:00" 1
nye_is "date<=2024-12-31T23:30:00" 2
nye_is "date:2024-12-31T23:30..2024-12-31T23:30" 2
nye_is "date:2024-12-31T23:59:59..2025-01-01T00:00:00" 1
nye_is "after:2025-01-01 tz:Asia/Tokyo" 3
nye_is "date:2025-01-01 tz:Asia/Tokyo" 3
nye_is "date:2025-01-01 tz=+09:00" 3
nye_is "before:2025-01-01 tz:America/New_York" 3
nye_is "date:2024-12-31 tz:America/New_York" 3
nye_is "tz:Asia/Tokyo after:2025-01-01T00:00:00Z" 1
[ ! -s "$W/nye.bad" ]
verdict "dates to the second in UTC, slashes and tz: find exactly the right messages" $? "$(excerpt "$W/nye.bad")"
v search --count -- "zqnewyear tz:Mars/Olympus" >"$W/tz.out" 2>&1
[ $? -eq 2 ] && grep -q "is no time zone" "$W/tz.out"
verdict "an unknown tz: is refused with why" $? "$(excerpt "$W/tz.out")"

# found QUERY FILE... - the messages QUERY finds include the original bytes of every FILE.
found() {
	q=$1
	shift
	v search --json --limit 1000 -- "$q" >"$W/found.json" 2>>"$W/search.err" || return 1
	python3 -c 'import json, sys
for h in json.load(open(sys.argv[1]))["hits"]: print(h["id"])' "$W/found.json" >"$W/found.ids"
	: >"$W/found.sha"
	while read -r id; do vr cat "$id" 2>/dev/null | sha256sum | cut -c1-64 >>"$W/found.sha"; done <"$W/found.ids"
	for f in "$@"; do
		grep -qx "$(sha256sum <"$f" | cut -c1-64)" "$W/found.sha" || { echo "missing $f" >>"$W/search.err"; return 1; }
	done
}
JP=$CORPUS/jpmobile-japanese-mobile/spec-unit-email-fixtures
found "新田" "$W/wrap-ISO-2022-JP.eml" "$W/wrap-Shift_JIS.eml" "$W/wrap-UTF-8.eml"
verdict "新田 in ISO-2022-JP, Shift_JIS and UTF-8" $? "$(tail -c 300 "$W/search.err")"
found "暮題原" "$W/wrap-ISO-2022-JP.eml" "$W/wrap-Shift_JIS.eml" "$W/wrap-UTF-8.eml"
verdict "a three-character run (暮題原) as overlapping bigrams" $?
found "テスト" "$JP/docomo-jis.eml" "$JP/softbank-gmail-sjis.eml" "$JP/softbank-gmail-utf8.eml" "$JP/iphone-cp932.eml"
verdict "テスト in jpmobile mail: ISO-2022-JP, Shift_JIS, UTF-8, CP932" $? "$(tail -c 300 "$W/search.err")"
found "subject:テスト" "$JP/docomo-jis.eml"
verdict "subject:テスト (RFC 2047 ISO-2022-JP subject)" $?
found "本文" "$JP/docomo-jis.eml" "$JP/pc-mail-single.eml"
verdict "本文 inside テスト本文 and 本文です" $?
found "強活" "$W/wrap-Big5.eml"
verdict "Chinese in Big5" $?
word=$(python3 -c 'import re, sys
t = open(sys.argv[1], encoding="utf-8").read()
print(next(w for w in re.findall(r"\w+", t) if len(w) >= 6 and not w.isascii()).upper())' "$F/cyrillic.utf-8.txt")
found "$word" "$W/wrap-KOI8-R.eml" "$W/wrap-windows-1251.eml" "$W/wrap-ISO-8859-5.eml"
verdict "a Cyrillic word, upper-cased, in KOI8-R, CP1251 and ISO-8859-5 ($word)" $?

# --- Every search is in the audit trail ------------------------------------------------------------
before=$(sql "select count(*) from audit where action like 'search%'")
v search --limit 5 -- "lunch" >/dev/null 2>&1
after=$(sql "select count(*) from audit where action like 'search%'")
[ "$after" -ge $((before + 2)) ] &&
	sql "select details->>'query' from audit where action = 'search' order by seq desc limit 1" | grep -qx lunch
verdict "a search leaves audit rows with its query" $? "$before -> $after"
v verify >"$W/verify.out" 2>&1
verdict "verify passes after all the searching (audit chain intact)" $? "$(excerpt "$W/verify.out")"
