#!/bin/sh
# t35-fts - the tsvector built in C (archiver/fts.c) and the address terms the indexer writes
# (schema/0003_search.sql), against a real PostgreSQL:
#  1. the literals fts writes for awkward lexemes (quotes, backslashes: the exact strings
#     tests/unit/test_fts.c expects) are read back by $1::tsvector as the lexemes meant;
#  2. awkward messages (quotes, backslashes, invalid UTF-8, NUL, CJK, fullwidth, overlong
#     words, 20,000 words, one word 300 times, 222 KB of distinct words) are indexed without
#     parse_error or a refused batch, and are found by the lexemes fts gives;
#  3. addr_terms from headers and from the SMTP envelope, and a second receipt of the same
#     content (another envelope) puts the message back in the queue so its terms grow, also
#     when the indexer holds the message (noted in index_requeue: no indexer waits for the
#     holder, the lag counts the note, and its terms are indexed once the holder commits);
#  4. enron-skilling-j: every body_word / subject_word count of KNOWN_ANSWERS.tsv (Python's
#     case-insensitive \bTERM\b over the decoded text parts) equals the count of messages
#     whose tsvector holds the word with weight D (body) / A (subject).
. "$(dirname "$0")/lib.sh"

. "$IT_DIR/serve.sh"

serve_begin
it_archive

# --- 1. literals --------------------------------------------------------------------------
got=$(sql "select array_to_string(tsvector_to_array(\$\$'it''s':1 'a\\\\b':2A '''''':3 'x y':4\$\$::tsvector), '|')")
[ "$got" = "''|a\\b|it's|x y" ]
verdict "quoted lexemes read back as meant" $? "got [$got]"
got=$(sql "select \$\$'last':16383A 'w':1,2,3\$\$::tsvector::text")
[ "$got" = "'last':16383A 'w':1,2,3" ]
verdict "the largest position and weights read back" $? "got [$got]"

# --- 2. awkward messages --------------------------------------------------------------------
mkdir -p "$W/awk"
python3 - "$W/awk" <<'EOF'
import sys
w = sys.argv[1]
def msg(name, subject, body, ctype=b"text/plain; charset=utf-8", extra=b""):
    h = (b"From: Jeff Skilling <Jeff.Skilling@Mail.Enron.COM>\r\n"
         b"To: \"Lay, Kenneth\" <kenneth.lay@enron.com>, undisclosed-recipients:;\r\n"
         b"Cc: o'neil@x.example\r\n"
         b"Subject: " + subject + b"\r\n"
         b"Date: Tue, 16 Oct 2001 09:00:00 -0500\r\n"
         b"Message-ID: <" + name.encode() + b".T35@Example.COM>\r\n" + extra +
         b"MIME-Version: 1.0\r\nContent-Type: " + ctype + b"\r\n\r\n")
    open(w + "/" + name + ".eml", "wb").write(h + body)
msg("quotes", b"It's a \\ test \"quoted\"",
    b"O'Neil's memo: C:\\Temp\\x.doc and 'single' \\\\server\\share\r\n",
    extra=b"Sender: Sec Retary <secretary@assist.example>\r\n")
msg("bytes", b"bytes", b"abc\xff\xfedef ghi\x00jkl caf\xc3\xa9\r\n", ctype=b"text/plain; charset=utf-8")
msg("cjk", b"=?UTF-8?B?5aWR57SE5pu4?=",
    "本契約書の締結 ＨＴＭＬメール kenneth.lay@enron.com houston.rr.com\r\n".encode())
msg("long", b"long", b"start " + b"x" * 3000 + b" end\r\n")
msg("many", b"many", b" ".join(b"w%d" % (i % 7) for i in range(20000)) + b" lastword\r\n")
msg("repeat", b"repeat", b"again " * 300 + b"\r\n")
msg("distinct", b"distinct", b" ".join(b"d%06dabcdefghijklmnopqrstuvwxyz" % i for i in range(6000)) + b"\r\n")
EOF
v store "$W"/awk/*.eml >"$W/awk.out" 2>"$W/awk.err"
verdict "store the awkward messages" $? "$(excerpt "$W/awk.err")"
v index >"$W/awk.index" 2>&1
rc=$?
[ "$rc" -eq 0 ] && ! grep -q -E "refused|Sanitizer|runtime error" "$W/awk.index"
verdict "index them: exit 0, no refused batch" $? "exit $rc: $(excerpt "$W/awk.index")"
got=$(sql "select count(*) from message_index i join messages m on m.id = i.message_id
	where i.tsv is not null and length(i.tsv) > 0 and not m.parse_error")
[ "$got" = 7 ]
verdict "every awkward message has a tsvector, none parse_error" $? "got $got of 7"

# has NAME TSQUERY - the message NAME.eml matches the query.
has() {
	sql "select count(*) from message_index where msgid = '$1.t35@example.com' and tsv @@ \$\$$2\$\$::tsquery"
}
check() { # check LABEL NAME TSQUERY WANT
	got=$(has "$2" "$3")
	[ "$got" = "$4" ]
	verdict "$1" $? "$2: $3 gave $got, want $4"
}
check "subject words around quotes and backslashes" quotes "'it':A & 's':A & 'test':A & 'quoted':A" 1
check "body words around apostrophes and backslashes" quotes "'o' <-> 'neil' & 'temp' & 'doc' & 'server' & 'share'" 1
# mime_extract reads text that is not UTF-8 as Latin-1 (abc\xff\xfedef is one word there);
# fts's own handling of invalid UTF-8 is tests/unit/test_fts.c's.
check "NUL separates words; a body that is not UTF-8 still indexes" bytes "'ghi' <-> 'jkl' & 'café'" 1
check "RFC 2047 subject in CJK bigrams" cjk "'契約':A <-> '約書':A" 1
check "CJK body bigrams as a phrase" cjk "'契約' <-> '約書' & 'html' & 'メー' <-> 'ール'" 1
check "addresses and hosts split into words" cjk "'kenneth' <-> 'lay' <-> 'enron' <-> 'com' & 'houston' <-> 'rr'" 1
check "an overlong word is skipped, its neighbours are not" long "'start' <-> 'end'" 1
check "position clamp: the last word sits at 16383" many "'lastword'" 1
got=$(sql "select positions from unnest((select tsv from message_index where msgid = 'many.t35@example.com')) where lexeme = 'lastword'")
[ "$got" = "{16383}" ]
verdict "clamped position is 16383" $? "got $got"
got=$(sql "select cardinality(positions) from unnest((select tsv from message_index where msgid = 'repeat.t35@example.com')) where lexeme = 'again'")
[ "$got" = 256 ]
verdict "one word 300 times keeps 256 positions" $? "got $got"
got=$(sql "select length(tsv) from message_index where msgid = 'distinct.t35@example.com'")
[ "$got" -ge 6000 ]
verdict "6,000 distinct words (222 KB) are all there" $? "got $got lexemes"

# --- 3. address terms -----------------------------------------------------------------------
got=$(sql "select array_to_string(addr_terms, ' ') from message_index where msgid = 'quotes.t35@example.com'")
miss=
for t in f:a:jeff.skilling@mail.enron.com f:l:jeff.skilling f:d:mail.enron.com f:d:enron.com \
	f:d:com f:w:jeff f:w:skilling t:a:kenneth.lay@enron.com t:w:lay t:w:kenneth t:d:enron.com \
	c:a:o\'neil@x.example c:w:o c:w:neil; do
	case " $got " in *" $t "*) ;; *) miss="$miss $t" ;; esac
done
[ -z "$miss" ]
verdict "header address terms (a, l, d and parents, w of names and local parts)" $? "missing:$miss in [$got]"
miss=
for t in s:a:secretary@assist.example f:l:secretary f:d:assist.example f:w:retary; do
	case " $got " in *" $t "*) ;; *) miss="$miss $t" ;; esac
done
case " $got " in *" f:a:secretary@assist.example "*) miss="$miss (f:a: too)" ;; esac
[ -z "$miss" ] && [ "$(v search --count -- from:secretary@assist.example)" = 1 ]
verdict "Sender's whole address is s:a: (apart from From, for retention), found by from:" $? \
	"missing:$miss in [$got]"
got=$(sql "select count(*) from message_index
	where cardinality(addr_terms) <> (select count(distinct t) from unnest(addr_terms) t)")
[ "$got" = 0 ]
verdict "addr_terms hold no duplicates" $? "$got rows with duplicates"

serve_ports
serve_start
sc send --port "$SMTP_PORT" --from Env.Sender@Bounce.Example --rcpt Alice@x.example \
	--rcpt bob@y.example "$W/awk/quotes.eml" --log "$W/env1.log" 2>/dev/null
sc send --port "$SMTP_PORT" --from other@z.example --rcpt carol@x.example \
	"$W/awk/quotes.eml" --log "$W/env2.log" 2>/dev/null
wait_indexed
serve_stop_check "serve exits cleanly"
got=$(sql "select array_to_string(addr_terms, ' ') from message_index where msgid = 'quotes.t35@example.com'")
miss=
for t in e:a:env.sender@bounce.example e:d:bounce.example e:w:env r:a:alice@x.example \
	r:a:bob@y.example r:d:y.example r:a:carol@x.example e:a:other@z.example f:w:skilling; do
	case " $got " in *" $t "*) ;; *) miss="$miss $t" ;; esac
done
[ -z "$miss" ]
verdict "envelope terms of both receipts, after the second receipt requeued the message" $? \
	"missing:$miss in [$got]"
got=$(sql "select count(*) from receipts r join message_index i on i.message_id = r.message_id where i.msgid = 'quotes.t35@example.com'")
[ "$got" = 3 ]
verdict "one message, three receipts" $? "got $got"

# The same envelope again (other letter case: terms are lower-case) brings no address the index
# lacks: the message is not queued again (a message journaled thousands of times is not parsed
# thousands of times). A new recipient does queue it.
qidx="select m.indexed_at from messages m join message_index i on i.message_id = m.id where i.msgid = 'quotes.t35@example.com'"
before=$(sql "$qidx")
serve_start
sc send --port "$SMTP_PORT" --from ENV.Sender@bounce.example --rcpt ALICE@X.example \
	"$W/awk/quotes.eml" --log "$W/env3.log" 2>/dev/null
after=$(sql "$qidx")
[ -n "$before" ] && [ "$after" = "$before" ] &&
	[ "$(sql "select count(*) from receipts r join message_index i on i.message_id = r.message_id where i.msgid = 'quotes.t35@example.com'")" = 4 ]
verdict "a receipt with only known addresses adds a receipt, not an index run" $? \
	"indexed_at '$before' -> '$after'"
sc send --port "$SMTP_PORT" --from ENV.Sender@bounce.example --rcpt dave@w.example \
	"$W/awk/quotes.eml" --log "$W/env4.log" 2>/dev/null
wait_indexed
serve_stop_check "serve exits cleanly"
got=$(sql "select array_to_string(addr_terms, ' ') from message_index where msgid = 'quotes.t35@example.com'")
case " $got " in *" r:a:dave@w.example "*) true ;; *) false ;; esac
verdict "a receipt with a new recipient queues the message again and adds its terms" $? "[$got]"

# A new recipient arriving while the indexer is on the message: the indexer has read the
# envelopes and holds the row (its queue query's FOR UPDATE), indexed_at still NULL. Played
# here by a psql session: the message is queued (serve stopped), the session locks its row,
# serve starts (its indexer skips the locked row), the new receipt is stored, and the session
# then marks the message indexed as the indexer would. The store must neither wait for that
# (it would hold the ledger lock, and all ingest, that long) nor forget the message: it notes it
# in index_requeue, and the next index batch queues it again once the session has committed.
mid=$(sql "select message_id from message_index where msgid = 'quotes.t35@example.com'")
sql "update messages set indexed_at = null where id = $mid"
v db psql -X -q -A -t -v ON_ERROR_STOP=1 >"$W/lock.out" 2>&1 <<SQL &
BEGIN;
SELECT id FROM messages WHERE id = $mid FOR UPDATE;
SELECT pg_sleep(20);
UPDATE messages SET indexed_at = now() WHERE id = $mid;
COMMIT;
SQL
lock_pid=$!
sleep 1
serve_start
t0=$(now_s)
sc send --port "$SMTP_PORT" --from ENV.Sender@bounce.example --rcpt erin@v.example \
	"$W/awk/quotes.eml" --log "$W/env5.log" 2>/dev/null
sent=$?
took=$(since "$t0")
noted=$(sql "select count(*) from index_requeue where message_id = $mid")
[ "$sent" = 0 ] && [ "$noted" = 1 ] && awk -v t="$took" 'BEGIN { exit !(t < 4) }'
verdict "a receipt for a message the indexer holds is acknowledged at once and noted in index_requeue" $? \
	"send $sent in $took s, noted $noted"

# The note's message is still held: a sweep takes only the notes of messages it can lock at
# once, so neither `vellum index` beside serve nor serve's own workers wait for the session
# (they would, for the rest of its 20 s: an indexer batch holding a PDF). The note stays.
t0=$(now_s)
v index >"$W/index-held.out" 2>&1
irc=$?
itook=$(since "$t0")
kept=$(sql "select count(*) from index_requeue where message_id = $mid")
serve_stop_check "serve exits cleanly"
stook=$(since "$t0")
say "vellum index beside the held message: $itook s; serve stopped after $stook s"
held=0
kill -0 "$lock_pid" 2>/dev/null && held=1
[ "$irc" = 0 ] && [ "$kept" = 1 ] && [ "$held" = 1 ] &&
	grep -q '^still waiting 1 ' "$W/index-held.out" &&
	awk -v t="$itook" -v s="$stook" 'BEGIN { exit !(t < 4 && s < 8) }'
verdict "a sweep does not wait for a held message: vellum index and serve's stop are quick, the note kept" $? \
	"index exit $irc in $itook s, serve stopped after $stook s, note $kept, still held $held: $(excerpt "$W/index-held.out")"

# The session has committed: the message is marked indexed, yet its note waits for a sweep,
# and the lag says so (once, though noted twice). A note whose message was disposed since is
# neither counted nor kept.
wait "$lock_pid"
sql "insert into index_requeue (message_id) values ($mid), ((select max(id) + 1000000 from messages))"
lag=$(v status 2>&1 | awk '/^index lag/ { print $NF }')
queued=$(sql "select count(*) from messages where indexed_at is null")
[ "$lag" = 1 ] && [ "$queued" = 0 ]
verdict "vellum status counts a message noted in index_requeue, once" $? \
	"index lag [$lag], queued $queued"
serve_start
wait_indexed
serve_stop_check "serve exits cleanly"
got=$(sql "select array_to_string(addr_terms, ' ') from message_index where msgid = 'quotes.t35@example.com'")
case " $got " in *" r:a:erin@v.example "*) true ;; *) false ;; esac
verdict "... and its terms are indexed once the indexer has committed" $? \
	"$(excerpt "$W/lock.out") [$got]"
left=$(sql "select count(*) from index_requeue")
lag=$(v status 2>&1 | awk '/^index lag/ { print $NF }')
[ "$left" = 0 ] && [ "$lag" = 0 ]
verdict "index_requeue is empty again (the duplicate and the orphan note too), no lag" $? \
	"notes $left, index lag [$lag]"

# --- 4. known answers -----------------------------------------------------------------------
KA=$CORPUS/enron-skilling-j/KNOWN_ANSWERS.tsv
vr import "$ENRON" >"$W/import.out" 2>&1
verdict "import enron-skilling-j" $? "$(excerpt "$W/import.out")"
v index >"$W/index.out" 2>&1
verdict "index enron-skilling-j" $? "$(excerpt "$W/index.out")"
# Only the corpus's messages: the awkward ones above are not in KNOWN_ANSWERS.
bad=
for kind in body subject; do
	wt=D
	[ "$kind" = subject ] && wt=A
	for pair in $(awk -F'\t' -v k="${kind}_word=" 'index($1, k) == 1 { print substr($1, length(k) + 1) "=" $2 }' "$KA"); do
		term=${pair%=*}
		want=${pair#*=}
		lex=$(printf '%s' "$term" | tr 'A-Z' 'a-z')
		got=$(sql "select count(*) from message_index where msgid not like '%.t35@example.com'
			and tsv @@ \$\$'$lex':$wt\$\$::tsquery")
		say "$kind $term: $got (known answer $want)"
		[ "$got" = "$want" ] || bad="$bad $kind:$term=$got/$want"
	done
done
[ -z "$bad" ]
verdict "KNOWN_ANSWERS body_word and subject_word counts" $? "differ:$bad"
