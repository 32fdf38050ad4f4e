#!/bin/sh
# t90-api - the HTTP/JSON API of `vellum serve`, with curl, on a real private PostgreSQL: every
# route; every role allowed and refused; missing, malformed, unknown, expired and revoked
# tokens; malformed JSON, unknown fields, oversized bodies, unknown routes and methods, paths
# with "..", SQL injection in a query and in a filter; the exact bytes of /raw with their
# SHA-256; one audit row per action (and per refusal); a tampered audit row named by
# /v1/audit/verify; /metrics through a strict Prometheus text parser; then, restarted with
# HTTPS and a low failure limit, TLS and the per-address rate limit (429).
. "$(dirname "$0")/lib.sh"

. "$IT_DIR/serve.sh"

serve_begin
it_archive
serve_ports
HP=${HP:-$(sed -n 's/^http_listen = 127\.0\.0\.1://p' "$D/vellum.conf")}
conf_set http_auth_fail_max 1000
M1=$ENRON/inbox/1.
M2=$ENRON/inbox/10.
M3=$ENRON/inbox/100.
v store "$M1" "$M2" "$M3" >"$W/store.out" 2>&1 && v index >/dev/null 2>&1
verdict "3 messages stored and indexed before serve" $? "$(excerpt "$W/store.out")"
ID1=$(awk 'NR == 1 { print $1 }' "$W/store.out")
SHA1=$(sha256sum <"$M1" | cut -c1-64)

# ---- tokens: created by the CLI, shown once, stored as a hash -----------------------------------
for r in admin officer legal auditor ingest; do
	v token create --name "$r-1" --role "$r" >"$W/tok.$r" 2>&1 || fail "token create $r" "$(excerpt "$W/tok.$r")"
	eval "T_$r=\$(tail -n 1 \"\$W/tok.\$r\")"
done
v token create --name old --role officer --expires 30d | tail -n 1 >"$W/tok.old"
v token create --name gone --role officer | tail -n 1 >"$W/tok.gone"
T_old=$(cat "$W/tok.old")
T_gone=$(cat "$W/tok.gone")
printf '%s\n' "$T_admin" "$T_officer" "$T_legal" "$T_auditor" "$T_ingest" "$T_old" "$T_gone" |
	grep -c -E '^vlm_[A-Za-z0-9_-]{43}$' | grep -qx 7
verdict "token create prints a vlm_ token alone on its last line" $? "$(excerpt "$W/tok.officer")"
[ "$(sql "select encode(hash, 'hex') from api_tokens where name = 'officer-1'")" = \
	"$(printf %s "$T_officer" | sha256sum | cut -c1-64)" ] &&
	[ "$(sql "select count(*) from api_tokens where hash::text like '%vlm_%' or name like 'vlm_%'")" = 0 ]
verdict "only the token's SHA-256 is stored" $?
sql "update api_tokens set expires_at = now() - interval '1 second' where name = 'old'" >/dev/null
v token revoke gone >"$W/revoke.out" 2>&1
verdict "token revoke" $? "$(excerpt "$W/revoke.out")"
v token list >"$W/list.out" 2>&1
grep -q '^old .*expired' "$W/list.out" && grep -q '^gone .*revoked' "$W/list.out" &&
	grep -q '^officer-1 .*active' "$W/list.out" && ! grep -q vlm_ "$W/list.out"
verdict "token list: states, no secrets" $? "$(excerpt "$W/list.out")"
v token create --name officer-1 --role officer >"$W/dup.out" 2>&1
[ $? -ne 0 ] && grep -q exists "$W/dup.out"
verdict "a taken token name is refused" $? "$(excerpt "$W/dup.out")"
v token create --name x --role root >/dev/null 2>&1
[ $? -ne 0 ]
verdict "an unknown role is refused" $?

serve_start
SCHEME=http
CURL_TLS=

# call NAME STATUS CODE METHOD PATH TOKEN [CURL ARGS...] - one request; the reply's status must
# be STATUS and, for an error, the body the one error shape with code CODE ("-": any). The body
# is left in $W/body, the headers in $W/hdr.
call() {
	_n=$1 _s=$2 _c=$3 _m=$4 _p=$5 _t=$6
	shift 6
	[ -n "$_t" ] && set -- -H "Authorization: Bearer $_t" "$@"
	_got=$(curl -s $CURL_TLS --path-as-is --max-time 30 -o "$W/body" -D "$W/hdr" \
		-w '%{http_code}' -X "$_m" "$@" "$SCHEME://127.0.0.1:$HP$_p")
	_ok=0
	[ "$_got" = "$_s" ] || _ok=1
	if [ "$_ok" = 0 ] && [ "$_s" -ge 400 ]; then
		python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert list(d) == ["error"] and sorted(d["error"]) == ["code", "message"], d
assert sys.argv[2] in ("-", d["error"]["code"]), d["error"]["code"]
m = d["error"]["message"].lower()
for bad in ("select ", "insert ", "postgres", "libpq", "/tmp/", "vlm_", "stack"):
	assert bad not in m, bad' "$W/body" "$_c" 2>"$W/shape.err" || _ok=1
	fi
	verdict "$_n" $_ok "got $_got: $(head -c 300 "$W/body" | tr '\n' ' ') $(tail -n 1 "$W/shape.err" 2>/dev/null)"
}
jq_() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$W/body"; }
JSON="Content-Type: application/json"

# ---- public routes ----------------------------------------------------------------------------
call "GET /healthz" 200 - GET /healthz ""
[ "$(jq_ 'd["database"]')" = ok ]
verdict "healthz reports the database" $?

# ---- every route, every role: allowed or 403 ---------------------------------------------------
# route_call ROLE-TOKEN NAME STATUS CODE
allowed() { # ROUTE ROLE -> 1 when allowed
	case "$1:$2" in
	search:officer | search:legal | view:officer | view:legal | raw:officer | raw:legal) echo 1 ;;
	audit:auditor | verify:auditor | tokens:admin) echo 1 ;;
	*) echo 0 ;;
	esac
}
for role in admin officer legal auditor ingest; do
	eval "t=\$T_$role"
	for route in search view raw audit verify tokens; do
		if [ "$(allowed $route $role)" = 1 ]; then want=200 code=-; else want=403 code=forbidden; fi
		case $route in
		search) call "$role POST /v1/search -> $want" $want $code POST /v1/search "$t" -H "$JSON" --data '{"query": "from:enron.com"}' ;;
		view) call "$role GET /v1/messages/ID -> $want" $want $code GET "/v1/messages/$ID1" "$t" ;;
		raw) call "$role GET /v1/messages/ID/raw -> $want" $want $code GET "/v1/messages/$ID1/raw" "$t" ;;
		audit) call "$role GET /v1/audit -> $want" $want $code GET /v1/audit "$t" ;;
		verify) call "$role GET /v1/audit/verify -> $want" $want $code GET /v1/audit/verify "$t" ;;
		tokens) call "$role GET /v1/tokens -> $want" $want $code GET /v1/tokens "$t" ;;
		esac
	done
done

# ---- authentication failures ------------------------------------------------------------------
call "no token -> 401" 401 unauthorized GET "/v1/messages/$ID1" ""
grep -qi '^WWW-Authenticate: Bearer' "$W/hdr"
verdict "401 carries WWW-Authenticate: Bearer" $?
call "malformed token -> 401" 401 unauthorized GET "/v1/messages/$ID1" "not-a-token"
call "unknown token -> 401" 401 unauthorized GET "/v1/messages/$ID1" "vlm_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
call "expired token -> 401" 401 unauthorized GET "/v1/messages/$ID1" "$T_old"
grep -q expired "$W/body"
verdict "the expired token is named expired" $?
call "revoked token -> 401" 401 unauthorized GET "/v1/messages/$ID1" "$T_gone"
grep -q revoked "$W/body"
verdict "the revoked token is named revoked" $?
call "Basic auth -> 401" 401 unauthorized GET /v1/audit "" -u "a:b"

# ---- the message routes -----------------------------------------------------------------------
call "view message" 200 - GET "/v1/messages/$ID1" "$T_officer"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["id"] == int(sys.argv[2]) and d["sha256"] == sys.argv[3], d
assert d["verification"] == {"record": "ok", "sha256_matches": True, "segment_sealed": False}, d["verification"]
assert d["headers"]["from"] and d["headers"]["subject"] is not None and d["envelope"][0]["source"] == "store"
assert isinstance(d["attachments"], list) and d["indexed"] is True' "$W/body" "$ID1" "$SHA1" 2>"$W/view.err"
verdict "view: metadata, envelope, attachments, verification ok" $? "$(excerpt "$W/view.err")"
call "view of a missing message -> 404" 404 not_found GET /v1/messages/999999 "$T_officer"
call "raw message" 200 - GET "/v1/messages/$ID1/raw" "$T_legal"
got=$(sha256sum <"$W/body" | cut -c1-64)
hdr=$(sed -n 's/^X-Vellum-SHA256: *\([0-9a-f]*\).*/\1/ip' "$W/hdr")
[ "$got" = "$SHA1" ] && [ "$hdr" = "$SHA1" ] && cmp -s "$W/body" "$M1" &&
	grep -qi '^Content-Type: message/rfc822' "$W/hdr" && grep -qi '^Repr-Digest: sha-256=:' "$W/hdr"
verdict "raw: exact bytes, message/rfc822, SHA-256 in X-Vellum-SHA256 and Repr-Digest" $? "body $got hdr $hdr want $SHA1"
call "raw of a missing message -> 404" 404 not_found GET /v1/messages/999999/raw "$T_officer"

# ---- search -----------------------------------------------------------------------------------
call "search with count" 200 - POST /v1/search "$T_officer" -H "$JSON" --data '{"query": "from:enron.com", "limit": 2, "count": true}'
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert 1 <= len(d["hits"]) <= 2 and d["total"]["n"] >= len(d["hits"]), d
h = d["hits"][0]
for k in ("id", "sent_at", "received_at", "size", "from", "subject", "attachments", "snippet"): assert k in h, k
u = d["unindexed"]
assert u["messages"] >= 0 and u["estimated"] in (True, False), u
assert sorted(u["reasons"]) == ["decode_error", "encrypted", "truncated", "unparsed", "unsupported_type"], u' "$W/body" 2>"$W/s.err"
verdict "search: hits with their fields, a total and the scope's unindexed items" $? "$(excerpt "$W/s.err")"
next=$(jq_ 'd["next"] or ""')
if [ -n "$next" ]; then
	call "search next page by cursor" 200 - POST /v1/search "$T_officer" -H "$JSON" --data "{\"query\": \"from:enron.com\", \"limit\": 2, \"cursor\": \"$next\"}"
fi
call "malformed query -> 400 bad_query" 400 bad_query POST /v1/search "$T_officer" -H "$JSON" --data '{"query": "from:(unclosed"}'
call "SQL injection in a query: refused as a malformed query, with its position" 400 bad_query \
	POST /v1/search "$T_officer" -H "$JSON" --data "{\"query\": \"x'); DROP TABLE messages; --\"}"
grep -q 'position' "$W/body"
verdict "the bad_query message names the position" $?
call "SQL injection inside a phrase is only text" 200 - POST /v1/search "$T_officer" -H "$JSON" \
	--data "{\"query\": \"subject:\\\"x'); DROP TABLE messages; --\\\"\"}"
[ "$(jq_ 'len(d["hits"])')" = 0 ]
verdict "the phrase matches nothing" $?
[ "$(sql "select count(*) from messages")" = 3 ]
verdict "messages intact after the injection attempt" $?
call "malformed JSON -> 400 bad_json" 400 bad_json POST /v1/search "$T_officer" -H "$JSON" --data '{"query": "x"'
call "a JSON array -> 400 bad_json" 400 bad_json POST /v1/search "$T_officer" -H "$JSON" --data '["x"]'
call "empty body -> 400 bad_json" 400 bad_json POST /v1/search "$T_officer" -H "$JSON"
call "unknown field -> 400 unknown_field" 400 unknown_field POST /v1/search "$T_officer" -H "$JSON" --data '{"query": "x", "sql": "1"}'
grep -q "'sql'" "$W/body"
verdict "the unknown field is named" $?
call "wrong type -> 400 bad_field" 400 bad_field POST /v1/search "$T_officer" -H "$JSON" --data '{"query": "x", "limit": "5"}'
call "limit out of range -> 400 bad_field" 400 bad_field POST /v1/search "$T_officer" -H "$JSON" --data '{"query": "x", "limit": 100000}'
call "missing query -> 400 missing_field" 400 missing_field POST /v1/search "$T_officer" -H "$JSON" --data '{"limit": 5}'
call "form body -> 415" 415 unsupported_media_type POST /v1/search "$T_officer" --data 'query=x'
head -c 100000 /dev/zero | tr '\0' 'a' >"$W/big"
call "oversized body (Content-Length) -> 413" 413 too_large POST /v1/search "$T_officer" -H "$JSON" --data-binary "@$W/big"
call "oversized chunked body -> 413" 413 too_large POST /v1/search "$T_officer" -H "$JSON" -H "Transfer-Encoding: chunked" --data-binary "@$W/big"

# ---- routing ----------------------------------------------------------------------------------
call "unknown route -> 404" 404 not_found GET /v1/nothing "$T_officer"
call "unknown route, no token -> 404" 404 not_found GET /admin ""
call "wrong method -> 405" 405 method_not_allowed DELETE "/v1/messages/$ID1" "$T_officer"
call "path with .. -> 400" 400 bad_path GET "/v1/messages/$ID1/../../audit" "$T_auditor"
call "path with encoded .. -> 400" 400 bad_path GET "/v1/%2e%2e/v1/audit" "$T_auditor"
call "path with // -> 400" 400 bad_path GET "/v1//audit" "$T_auditor"
call "non-numeric id -> 404" 404 not_found GET "/v1/messages/1;DROP" "$T_officer"

# ---- the audit trail --------------------------------------------------------------------------
call "audit filtered by actor and action" 200 - GET "/v1/audit?actor=token:officer-1&action=message.view" "$T_auditor"
[ "$(jq_ 'len(d["rows"])')" -ge 1 ] && [ "$(jq_ '{r["actor"] + "|" + r["action"] + "|" + str(r["client"]) for r in d["rows"]} == {"token:officer-1|message.view|127.0.0.1"}')" = True ]
verdict "audit filter returns only that actor's views, with the client address" $? "$(head -c 300 "$W/body")"
call "audit filtered by time" 200 - GET "/v1/audit?since=2000-01-01&until=2000-01-02" "$T_auditor"
[ "$(jq_ 'len(d["rows"])')" = 0 ]
verdict "an empty time window has no rows" $?
call "audit paging" 200 - GET "/v1/audit?limit=2" "$T_auditor"
n1=$(jq_ 'd["next"]')
call "audit page 2" 200 - GET "/v1/audit?limit=2&after=$n1" "$T_auditor"
[ "$(jq_ 'd["rows"][0]["seq"]')" = $((n1 + 1)) ]
verdict "audit pages by seq" $?
call "SQL injection in a filter is only a value" 200 - GET "/v1/audit?actor=x%27%20OR%201%3D1%20--" "$T_auditor"
[ "$(jq_ 'len(d["rows"])')" = 0 ]
verdict "the injected actor matches nothing" $?
call "unknown query field -> 400" 400 unknown_field GET "/v1/audit?user=x" "$T_auditor"
call "bad time -> 400" 400 bad_field GET "/v1/audit?since=yesterday" "$T_auditor"
call "impossible date -> 400" 400 bad_field GET "/v1/audit?since=2024-02-30" "$T_auditor"
call "bad limit -> 400" 400 bad_field GET "/v1/audit?limit=0" "$T_auditor"
call "query on a route without fields -> 400" 400 unknown_field GET "/v1/audit/verify?x=1" "$T_auditor"

# Each action appended its row: actor, client, action, target, details.
has_row() { [ "$(sql "select count(*) from audit where $1")" -ge "${2:-1}" ]; }
has_row "actor = 'token:officer-1' and action = 'message.view' and target = 'message:$ID1' and client_addr = '127.0.0.1'"
verdict "audit: message.view row" $?
has_row "actor = 'token:legal-1' and action = 'message.raw' and details->>'sha256' = '$SHA1'"
verdict "audit: message.raw row with the SHA-256" $?
has_row "actor = 'token:officer-1' and action = 'search' and details::text like '%from:enron.com%'"
verdict "audit: search row with its query (written by the engine)" $? "$(sql "select action, details from audit where action like 'search%' limit 2" | tr '\n' ' ')"
has_row "actor = 'token:old' and action = 'auth.fail' and details->>'reason' = 'expired'" &&
	has_row "actor = 'token:gone' and action = 'auth.fail' and details->>'reason' = 'revoked'" &&
	has_row "actor = 'anonymous' and action = 'auth.fail' and details->>'reason' = 'missing'" &&
	has_row "actor = 'anonymous' and action = 'auth.fail' and details->>'reason' = 'unknown'"
verdict "audit: auth.fail rows name the token and the reason" $?
has_row "actor = 'token:admin-1' and action = 'auth.denied' and target = 'message_raw'"
verdict "audit: auth.denied rows name the route" $?
has_row "actor = 'token:auditor-1' and action = 'audit.read'" && has_row "actor = 'token:admin-1' and action = 'token.list'" &&
	has_row "action = 'token.create' and target = 'officer-1'" && has_row "action = 'token.revoke' and target = 'gone'"
verdict "audit: audit.read, token.list, token.create, token.revoke rows" $?
[ "$(sql "select count(*) from api_tokens where last_used_at is not null and name = 'officer-1'")" = 1 ]
verdict "a used token has last_used_at" $?

call "audit verify on a clean trail" 200 - GET /v1/audit/verify "$T_auditor"
[ "$(jq_ 'd["ok"]')" = True ] && [ "$(jq_ 'd["first_broken"]')" = None ]
verdict "clean trail: ok, nothing broken" $? "$(head -c 300 "$W/body")"
sql "update audit set actor = 'x' where seq = 3" >"$W/upd.out" 2>&1
[ $? -ne 0 ] && grep -q 'append-only' "$W/upd.out"
verdict "UPDATE of an audit row is refused by its trigger" $? "$(excerpt "$W/upd.out")"
sql "ALTER TABLE audit DISABLE TRIGGER ALL;
	UPDATE audit SET details = '{\"tampered\": true}' WHERE seq = 5;
	ALTER TABLE audit ENABLE TRIGGER ALL" >/dev/null
call "audit verify after tampering" 200 - GET /v1/audit/verify "$T_auditor"
[ "$(jq_ 'd["ok"]')" = False ] && [ "$(jq_ 'd["first_broken"]["seq"]')" = 5 ]
verdict "tampered row 5 is named as the first broken row" $? "$(head -c 300 "$W/body")"

# ---- nothing secret in any reply --------------------------------------------------------------
call "tokens list" 200 - GET /v1/tokens "$T_admin"
! grep -q -E 'vlm_|hash' "$W/body" && [ "$(jq_ 'len(d["tokens"])')" = 7 ]
verdict "the token list has 7 tokens and no token or hash" $?

# ---- /metrics ---------------------------------------------------------------------------------
call "GET /metrics" 200 - GET /metrics ""
grep -qi '^Content-Type: text/plain; version=0.0.4' "$W/hdr" &&
	python3 "$IT_DIR/promparse.py" --need vellum_http_requests_total vellum_http_auth_failures_total \
		vellum_search_duration_seconds vellum_database_up vellum_messages vellum_store_raw_bytes \
		vellum_ingest_messages_total <"$W/body" >"$W/prom.out" 2>&1
verdict "/metrics parses as Prometheus text with every family" $? "$(excerpt "$W/prom.out")"
grep -q '^vellum_http_requests_total{route="message",status="403"} [1-9]' "$W/body" &&
	grep -q '^vellum_http_auth_failures_total{reason="expired"} 1$' "$W/body" &&
	grep -q '^vellum_messages 3$' "$W/body" && grep -q '^vellum_database_up 1$' "$W/body" &&
	grep -q '^vellum_search_duration_seconds_count [1-9]' "$W/body"
verdict "/metrics counts requests by route and status, failures, searches, messages" $? "$(grep -E 'messages |database_up|expired' "$W/body" | tr '\n' ' ')"

# Two messages over SMTP: the receiver's counters move (connections, answers, bytes, batches).
for n in 1 2; do
	swaks --server "127.0.0.1:$SMTP_PORT" --from a@example.org --to b@example.org \
		--header "Subject: metrics $n" --body "counted $n" >"$W/swaks.$n" 2>&1 ||
		fail "swaks $n" "$(excerpt "$W/swaks.$n")"
done
call "GET /metrics after SMTP" 200 - GET /metrics ""
grep -q '^vellum_ingest_messages_total 2$' "$W/body" &&
	grep -q '^vellum_ingest_connections_total [2-9]' "$W/body" &&
	grep -q '^vellum_ingest_bytes_total [1-9]' "$W/body" &&
	grep -q '^vellum_ingest_batches_total [1-9]' "$W/body" &&
	grep -q '^vellum_ingest_commit_seconds_count [1-9]' "$W/body" &&
	grep -q '^vellum_ingest_tempfail_total 0$' "$W/body"
verdict "/metrics counts SMTP connections, acknowledged messages, bytes and group commits" $? "$(grep -E '^vellum_ingest' "$W/body" | tr '\n' ' ')"

serve_stop_check "serve stops cleanly (SIGTERM) with the API running"

# ---- HTTPS and the rate limit -----------------------------------------------------------------
conf_set http_tls 1
conf_set http_auth_fail_max 3
serve_start
SCHEME=https
CURL_TLS=-k
call "HTTPS: GET /healthz" 200 - GET /healthz ""
curl -s --max-time 5 -o /dev/null "http://127.0.0.1:$HP/healthz"
[ $? -ne 0 ] || [ "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HP/healthz")" != 200 ]
verdict "HTTPS: plain HTTP gets no answer" $?
call "HTTPS: view with a token" 200 - GET "/v1/messages/$ID1" "$T_officer"
for i in 1 2 3; do call "bad token $i of 3 -> 401" 401 unauthorized GET /v1/audit "vlm_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"; done
call "4th failure -> 429" 429 rate_limited GET /v1/audit "vlm_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
grep -qi '^Retry-After: [0-9]' "$W/hdr"
verdict "429 carries Retry-After" $?
call "a good token from the blocked address -> 429" 429 rate_limited GET /v1/audit "$T_auditor"
call "another address is not blocked" 200 - GET /v1/audit "$T_auditor" --interface 127.0.0.2
call "GET /metrics over HTTPS" 200 - GET /metrics ""
grep -q '^vellum_http_auth_rate_limited_total 2$' "$W/body"
verdict "/metrics counts the rate-limited requests" $? "$(grep rate_limited "$W/body" | tr '\n' ' ')"
serve_stop_check "serve stops cleanly with HTTPS"
