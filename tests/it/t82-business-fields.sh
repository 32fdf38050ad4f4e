#!/bin/sh
# t82-business-fields - 電子帳簿保存法's structured search on real Japanese mail (jpmobile: JIS,
# Shift_JIS, CP932, UTF-8) and one Enron message: business fields (取引年月日 txdate, 取引金額
# amount, 取引先 counterparty) set with `vellum fields set` and with PUT /v1/messages/{id}/fields;
# a correction is a second version (history shows both, search uses the new one); searches by
# ranges, by a Japanese counterparty, two and three fields combined, with full text, OR and NOT,
# over the CLI and the API; an audit row for every set (with the old and new values) and read;
# bad input refused with its reason and nothing changed; versions append-only to SQL; and
# disposal takes a message's fields with it.
. "$(dirname "$0")/lib.sh"

. "$IT_DIR/serve.sh"

serve_begin
it_archive
serve_ports
HP=$(sed -n 's/^http_listen = 127\.0\.0\.1://p' "$D/vellum.conf")
JP=$CORPUS/jpmobile-japanese-mobile/spec-unit-email-fixtures

# A long retention, so that serve's upkeep disposes nothing until the test moves the clock.
mkdir -p "$D/retention"
cat >"$D/retention/policies.json" <<'JSON'
{"comment": "t82", "policies": [{"name": "default", "retain": {"years": 150}, "from": "sent"}]}
JSON

v store "$JP/docomo-jis.eml" "$JP/softbank-gmail-sjis.eml" "$JP/iphone-cp932.eml" \
	"$JP/softbank-gmail-utf8.eml" "$ENRON/inbox/1." >"$W/store.out" 2>&1 && v index >"$W/index.out" 2>&1
verdict "five messages stored and indexed" $? "$(excerpt "$W/store.out")"
id_of() { awk -v f="$1" '$3 == f { print $1 }' "$W/store.out"; }
M1=$(id_of "$JP/docomo-jis.eml")
M2=$(id_of "$JP/softbank-gmail-sjis.eml")
M3=$(id_of "$JP/iphone-cp932.eml")
M4=$(id_of "$JP/softbank-gmail-utf8.eml")
M5=$(id_of "$ENRON/inbox/1.")

# ids QUERY - the sorted ids `vellum search` finds, on one line.
ids() {
	v search --json --limit 1000 "$1" 2>"$W/search.err" |
		python3 -c 'import json, sys; print(" ".join(sorted(str(h["id"]) for h in json.load(sys.stdin)["hits"])))'
}
# want NAME QUERY IDS... - the search finds exactly IDS.
want() {
	_n=$1 _q=$2
	shift 2
	_want=$(printf '%s\n' "$@" | sort | tr '\n' ' ' | sed 's/ $//')
	_got=$(ids "$_q")
	[ "$_got" = "$_want" ]
	verdict "$_n" $? "$_q: got '$_got', want '$_want' $(excerpt "$W/search.err")"
}

# ---- set by the CLI -------------------------------------------------------------------------
v fields set "$M1" --txdate 2024-03-15 --amount 150000 --counterparty 株式会社テスト \
	--reason "請求書を受領" >"$W/set1.out" 2>&1 &&
	v fields set "$M2" --txdate 2024-07-01 --amount 280000.5 --currency usd \
		--counterparty "Acme Trading K.K." --reason "invoice 2024-07" >>"$W/set1.out" 2>&1 &&
	v fields set "$M3" --txdate 2023-12-20 --amount 90000 --counterparty 有限会社サンプル \
		--reason "領収書" >>"$W/set1.out" 2>&1 &&
	grep -q "^message $M1: business fields version 1$" "$W/set1.out"
verdict "vellum fields set: three messages, version 1 each" $? "$(excerpt "$W/set1.out")"
v fields show "$M2" >"$W/show2.json" 2>&1 && python3 - "$W/show2.json" "$M2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["message"] == int(sys.argv[2]), d
(f,) = d["versions"]
assert (f["version"], f["txdate"], f["amount"], f["currency"], f["counterparty"], f["source"]) == \
    (1, "2024-07-01", "280000.50", "USD", "Acme Trading K.K.", "tag"), f
assert f["set_by"].startswith("cli:") and f["reason"] == "invoice 2024-07", f
PY
verdict "fields show: the version as set (amount to 2 decimals, currency upper-cased)" $? "$(excerpt "$W/show2.json")"

# ---- set through the API ----------------------------------------------------------------------
for r in officer legal auditor; do
	v token create --name "$r-1" --role "$r" >"$W/tok.$r" 2>&1 || fail "token create $r" "$(excerpt "$W/tok.$r")"
	eval "T_$r=\$(tail -n 1 \"\$W/tok.\$r\")"
done
serve_start
# put TOKEN ID JSON - PUT the fields; prints the status, the body in $W/body.
put() {
	curl -s --max-time 30 -o "$W/body" -w '%{http_code}' -X PUT -H "Authorization: Bearer $1" \
		-H 'Content-Type: application/json' --data-binary "$3" \
		"http://127.0.0.1:$HP/v1/messages/$2/fields"
}
st=$(put "$T_officer" "$M4" '{"txdate": "2024-11-30", "amount": "450000", "counterparty": "株式会社テスト 大阪支店", "reason": "API tag"}')
[ "$st" = 200 ] && python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
(f,) = d["versions"]
assert (f["txdate"], f["amount"], f["currency"], f["counterparty"], f["set_by"]) == \
    ("2024-11-30", "450000.00", "JPY", "株式会社テスト 大阪支店", "token:officer-1"), f' "$W/body"
verdict "PUT /v1/messages/{id}/fields by an officer: 200, JPY by default" $? "$st $(excerpt "$W/body")"
st=$(put "$T_auditor" "$M4" '{"amount": "1", "reason": "x"}')
[ "$st" = 403 ]
verdict "an auditor may not set fields (403)" $? "$st $(excerpt "$W/body")"
curl -s --max-time 30 -o "$W/msg.json" -H "Authorization: Bearer $T_legal" \
	"http://127.0.0.1:$HP/v1/messages/$M4" && python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["fields"]["amount"] == "450000.00" and d["fields"]["version"] == 1, d["fields"]
' "$W/msg.json" && curl -s --max-time 30 -o "$W/msg5.json" -H "Authorization: Bearer $T_legal" \
	"http://127.0.0.1:$HP/v1/messages/$M5" && python3 -c '
import json, sys
assert json.load(open(sys.argv[1]))["fields"] is None' "$W/msg5.json"
verdict "GET /v1/messages/{id} has the current fields (null when untagged)" $? "$(excerpt "$W/msg.json")"

# ---- a correction: a second version; the first stays; search uses the new one ----------------
want "before the correction, amount:100000..300000 finds M1 and M2" "amount:100000..300000" "$M1" "$M2"
st=$(put "$T_legal" "$M1" '{"amount": "350000", "reason": "訂正: 金額の誤り"}')
[ "$st" = 200 ]
verdict "a correction by legal through the API (amount only)" $? "$st $(excerpt "$W/body")"
v fields show "$M1" >"$W/show1.json" 2>&1 && python3 - "$W/show1.json" <<'PY'
import json, sys
v1, v2 = json.load(open(sys.argv[1]))["versions"]
assert (v1["version"], v1["amount"], v1["txdate"], v1["counterparty"]) == \
    (1, "150000.00", "2024-03-15", "株式会社テスト"), v1
assert (v2["version"], v2["amount"], v2["txdate"], v2["counterparty"], v2["currency"]) == \
    (2, "350000.00", "2024-03-15", "株式会社テスト", "JPY"), v2
assert v2["reason"] == "訂正: 金額の誤り" and v2["set_by"] == "token:legal-1", v2
PY
verdict "history shows both versions; the correction kept txdate and counterparty" $? "$(excerpt "$W/show1.json")"

# ---- searches -------------------------------------------------------------------------------
want "amount:100000..300000 (the corrected M1 left the range)" "amount:100000..300000" "$M2"
want "amount:150000 no longer finds the old version" "amount:150000" 
want "amount:350000" "amount:350000" "$M1"
want "amount>=300000" "amount>=300000" "$M1" "$M4"
want "amount<100000" "amount<100000" "$M3"
want "amount>90000" "amount>90000" "$M1" "$M2" "$M4"
want "amount<=90000" "amount<=90000" "$M3"
want "amount:280000.50" "amount:280000.50" "$M2"
want "amount:0.. finds every tagged message, not the untagged" "amount:0.." "$M1" "$M2" "$M3" "$M4"
want "txdate:2024-01-01..2024-12-31" "txdate:2024-01-01..2024-12-31" "$M1" "$M2" "$M4"
want "txdate<2024-01-01" "txdate<2024-01-01" "$M3"
want "txdate:2024-03-15" "txdate:2024-03-15" "$M1"
want "txdate>=2024-07-01" "txdate>=2024-07-01" "$M2" "$M4"
want "txdate>2024-07-01" "txdate>2024-07-01" "$M4"
want "counterparty:株式会社テスト (a substring)" "counterparty:株式会社テスト" "$M1" "$M4"
want "counterparty:大阪支店" "counterparty:大阪支店" "$M4"
want "counterparty:ACME (any case)" "counterparty:ACME" "$M2"
want "counterparty:\"acme trading\"" 'counterparty:"acme trading"' "$M2"
want "counterparty:サンプル" "counterparty:サンプル" "$M3"
want "two fields: amount and txdate ranges" "amount>=300000 txdate:2024-01-01..2024-06-30" "$M1"
want "three fields (REQUIREMENTS' example)" \
	"amount:100000..400000 txdate:2024-01-01..2024-12-31 counterparty:株式会社テスト" "$M1"
want "OR" "counterparty:acme OR txdate<2024-01-01" "$M2" "$M3"
want "NOT" "counterparty:株式会社テスト -amount>400000" "$M1"
want "NOT a field finds the untagged too" "-amount:0.." "$M5"
want "with full text: テスト amount>=300000" "テスト amount>=300000" "$M1" "$M4"
want "with an address field" "from:enron.com OR counterparty:サンプル" "$M3" "$M5"
st=$(curl -s --max-time 30 -o "$W/body" -w '%{http_code}' -H "Authorization: Bearer $T_officer" \
	-H 'Content-Type: application/json' \
	--data-binary '{"query": "counterparty:株式会社テスト amount>=400000"}' "http://127.0.0.1:$HP/v1/search")
[ "$st" = 200 ] && [ "$(python3 -c 'import json, sys; print(" ".join(str(h["id"]) for h in json.load(open(sys.argv[1]))["hits"]))' "$W/body")" = "$M4" ]
verdict "POST /v1/search with counterparty: and amount>=" $? "$st $(excerpt "$W/body")"

# ---- audit: one fields.set row per set, with the old and new values ---------------------------
[ "$(sql "SELECT count(*) FROM audit WHERE action = 'fields.set'")" = 5 ] &&
	[ "$(sql "SELECT count(*) FROM audit WHERE action = 'fields.set' AND target = 'message:$M1'")" = 2 ] &&
	[ "$(sql "SELECT count(*) FROM audit WHERE action = 'fields.set' AND actor LIKE 'cli:%'")" = 3 ] &&
	[ "$(sql "SELECT actor FROM audit WHERE action = 'fields.set' AND target = 'message:$M4'")" = token:officer-1 ] &&
	[ "$(sql "SELECT details::json->'old'->>'amount' || ' ' || (details::json->'new'->>'amount') || ' ' || (details::json->'new'->>'reason') FROM audit WHERE action = 'fields.set' AND target = 'message:$M1' AND actor = 'token:legal-1'")" = "150000.00 350000.00 訂正: 金額の誤り" ] &&
	[ "$(sql "SELECT details::json->'old' FROM audit WHERE action = 'fields.set' AND target = 'message:$M3'")" = null ] &&
	[ "$(sql "SELECT count(*) FROM audit WHERE action = 'fields.view'")" = 2 ]
verdict "an audit row per set (old and new values, actor) and per fields show" $? \
	"$(sql "SELECT actor, action, target, details FROM audit WHERE action LIKE 'fields.%'" | tr '\n' '|')"
[ "$(sql "SELECT count(*) FROM audit WHERE action = 'auth.denied'")" -ge 1 ]
verdict "the refused PUT is audited (auth.denied)" $?

# ---- bad input: refused with the reason, nothing written --------------------------------------
state() { sql "SELECT count(*) FROM business_fields"; sql "SELECT count(*) FROM audit WHERE action = 'fields.set'"; }
state >"$W/state.before"
# refuse NAME EXIT PATTERN ARGS... - `vellum fields ARGS` exits EXIT, stderr matching PATTERN.
refuse() {
	_n=$1 _x=$2 _p=$3
	shift 3
	v fields "$@" >"$W/bad.out" 2>"$W/bad.err"
	_rc=$?
	[ "$_rc" = "$_x" ] && grep -q -- "$_p" "$W/bad.err" && [ ! -s "$W/bad.out" ]
	verdict "refused: $_n" $? "exit $_rc: $(excerpt "$W/bad.err")"
}
refuse "a month 13" 2 "txdate: '2024-13-01' is not a day of the calendar" \
	set "$M1" --txdate 2024-13-01 --reason r
refuse "2023-02-29" 2 "not a day of the calendar" set "$M1" --txdate 2023-02-29 --reason r
refuse "a date of another form" 2 "txdate: expects a date like" set "$M1" --txdate 15/03/2024 --reason r
refuse "year 1800" 2 "the year must be 1900..2999" set "$M1" --txdate 1800-01-01 --reason r
refuse "a negative amount" 2 "amount: expects a number" set "$M1" --amount -5 --reason r
refuse "an absurd amount (10^16)" 2 "at most 15 digits" set "$M1" --amount 10000000000000000 --reason r
refuse "three decimals" 2 "amount: expects" set "$M1" --amount 1.005 --reason r
refuse "an amount in words" 2 "amount: expects" set "$M1" --amount abc --reason r
refuse "a currency of four letters" 2 "currency: expects an ISO 4217 code" set "$M1" --currency JPYY --reason r
refuse "201 characters of counterparty" 2 "counterparty: at most 200 characters (201 given)" \
	set "$M1" --counterparty "$(python3 -c 'print("テ" * 201)')" --reason r
refuse "an empty counterparty" 2 "counterparty: needs a value" set "$M1" --counterparty " " --reason r
refuse "a control character" 2 "no control characters" set "$M1" --counterparty "$(printf 'a\tb')" --reason r
refuse "no reason" 2 "reason: a set needs a reason" set "$M1" --amount 5
refuse "an unknown option" 2 "usage" set "$M1" --amont 5 --reason r
refuse "an unknown message" 1 "no message 999999" set 999999 --txdate 2024-01-01 --amount 1 \
	--counterparty x --reason r
refuse "a first set without an amount" 2 "its first set needs txdate, amount and counterparty" \
	set "$M5" --txdate 2024-01-01 --counterparty x --reason r
refuse "show of an unknown message" 1 "no message 999999" show 999999
# api NAME STATUS CODE ID JSON - a refused PUT: its status and error code.
api() {
	_st=$(put "$T_officer" "$4" "$5")
	[ "$_st" = "$2" ] && python3 -c 'import json, sys; assert json.load(open(sys.argv[1]))["error"]["code"] == sys.argv[2]' "$W/body" "$3"
	verdict "API refused: $1" $? "$_st $(excerpt "$W/body")"
}
api "a month 13 (400)" 400 bad_field "$M1" '{"txdate": "2024-13-01", "reason": "r"}'
api "a negative amount (400)" 400 bad_field "$M1" '{"amount": "-1", "reason": "r"}'
api "an amount as a JSON number (400)" 400 bad_field "$M1" '{"amount": 5, "reason": "r"}'
api "an unknown field (400)" 400 unknown_field "$M1" '{"amount": "5", "reason": "r", "memo": "x"}'
api "no reason (400)" 400 missing_field "$M1" '{"amount": "5"}'
api "an over-long counterparty (400)" 400 bad_field "$M1" \
	"{\"counterparty\": \"$(python3 -c 'print("x" * 201)')\", \"reason\": \"r\"}"
api "an unknown message (404)" 404 not_found 999999 '{"txdate": "2024-01-01", "amount": "1", "counterparty": "x", "reason": "r"}'
state >"$W/state.after"
cmp -s "$W/state.before" "$W/state.after"
verdict "the refused sets wrote nothing (no version, no fields.set row)" $? "$(tr '\n' ' ' <"$W/state.before") -> $(tr '\n' ' ' <"$W/state.after")"
want "and search answers as before" "amount:100000..300000" "$M2"
v search 'amount:5..1' >/dev/null 2>"$W/q.err"
[ $? = 2 ] && grep -q "position 0: amount: the range ends before it starts" "$W/q.err"
verdict "a malformed query exits 2 with its position" $? "$(excerpt "$W/q.err")"
serve_stop_check "serve stops cleanly, no sanitizer report"

# ---- append-only, except by disposal ----------------------------------------------------------
sql "UPDATE business_fields SET amount = 1 WHERE message_id = $M1" >"$W/upd.out" 2>&1
[ $? -ne 0 ] && grep -q "append-only" "$W/upd.out"
verdict "SQL UPDATE of a version is refused" $? "$(excerpt "$W/upd.out")"
sql "DELETE FROM business_fields WHERE message_id = $M1" >"$W/del.out" 2>&1
[ $? -ne 0 ] && grep -q "go only with its disposal" "$W/del.out"
verdict "SQL DELETE of a version is refused" $? "$(excerpt "$W/del.out")"
sql "TRUNCATE business_fields" >/dev/null 2>&1
[ $? -ne 0 ] && [ "$(sql "SELECT count(*) FROM business_fields")" = 5 ]
verdict "TRUNCATE is refused; the five versions stay" $?
v hold place keep-m2 --matter m --query "counterparty:acme" >"$W/hold.out" 2>&1 &&
	grep -q "1 messages covered" "$W/hold.out"
verdict "a hold by a fields query covers M2" $? "$(excerpt "$W/hold.out")"
sql "UPDATE vellum_clock SET test_clock = true" >/dev/null
v dispose --now 2300-01-01T00:00:00Z >"$W/dispose.out" 2>&1 &&
	[ "$(sql "SELECT count(*) FROM messages")" = 1 ] &&
	[ "$(sql "SELECT string_agg(DISTINCT message_id::text, ' ') FROM business_fields")" = "$M2" ] &&
	[ "$(sql "SELECT count(*) FROM disposals WHERE message_id IN ($M1, $M3, $M4)")" = 3 ]
verdict "disposal takes the fields of the disposed messages, the held one keeps its" $? \
	"$(excerpt "$W/dispose.out")"
v verify >"$W/verify.out" 2>&1
verdict "verify passes after disposal" $? "$(excerpt "$W/verify.out")"
