/* test_query - search/query.{c,h} and query_parse: each query of a table compiled to its exact
 * SQL and parameters; malformed queries rejected with the right byte position and reason; the
 * bounds; and no user text ever inside the SQL. */
#include <CUnit/CUnit.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "query.h"
#include "unit.h"

/* ---- well-formed queries ---- */

struct good_case {
	const char *q;
	const char *where;
	const char *params; /* joined with " | " */
};

#define ADDR_ANY "EXISTS (SELECT 1 FROM unnest(mi.addr_terms) t WHERE t LIKE ANY ($1::text[]))"
#define CUSTODIAN                                                                                  \
	"mi.addr_terms && ARRAY(SELECT f || ':a:' || ca.address FROM custodian_addresses ca "     \
	"CROSS JOIN unnest(ARRAY['f','s','t','c','b','x','e','r']) f WHERE ca.custodian = $1)"
#define HOLD                                                                                       \
	"EXISTS (SELECT 1 FROM hold_messages hm JOIN holds h ON h.id = hm.hold_id WHERE h.name = " \
	"$1 AND hm.message_id = mi.message_id)"
#define MATTER                                                                                     \
	"EXISTS (SELECT 1 FROM hold_messages hm JOIN holds h ON h.id = hm.hold_id WHERE "           \
	"h.matter = $1 AND hm.message_id = mi.message_id)"
#define TS1 "mi.tsv @@ $1::tsquery"
/* 電子帳簿保存法's fields: the current version of the message's */
#define BIZ "EXISTS (SELECT 1 FROM business_fields_current bf WHERE bf.message_id = mi.message_id AND "
#define ADDR1 "mi.addr_terms && $1::text[]"

static const struct good_case good[] = {
	/* empty: everything */
	{"", "true", ""},
	{"  \t ", "true", ""},
	/* full text: words, phrases, tokenizer agreement, CJK bigrams, prefix, weights */
	{"lunch", TS1, "'lunch'"},
	{"Lunch BUDGET", TS1, "'lunch' & 'budget'"},
	{"\"Quarterly Report\"", TS1, "'quarterly' <-> 'report'"},
	{"\"quarterly report\" budget", TS1, "('quarterly' <-> 'report') & 'budget'"},
	{"houston.rr.com", TS1, "'houston' <-> 'rr' <-> 'com'"},
	{"o'brien", TS1, "'o' <-> 'brien'"},
	{"\xe5\xa5\x91\xe7\xb4\x84", TS1, "'\xe5\xa5\x91\xe7\xb4\x84'"}, /* 契約 */
	{"\xe5\xa5\x91\xe7\xb4\x84\xe6\x9b\xb8", TS1,			   /* 契約書 */
	 "'\xe5\xa5\x91\xe7\xb4\x84' <-> '\xe7\xb4\x84\xe6\x9b\xb8'"},
	{"\xe5\xa5\x91", TS1, "'\xe5\xa5\x91'"}, /* a lone CJK character */
	{"contract*", TS1, "'contract':*"},
	{"\"energy trad\"*", TS1, "'energy' <-> 'trad':*"},
	{"subject:lunch", TS1, "'lunch':A"},
	{"SUBJECT:\"quarterly report\"", TS1, "'quarterly':A <-> 'report':A"},
	{"subject:contract*", TS1, "'contract':*A"},
	{"filename:budget.xls", TS1, "'budget':B <-> 'xls':B"},
	{"body:gas", TS1, "'gas':D"},
	{"subject:gas body:power", TS1, "'gas':A & 'power':D"},
	/* booleans: implicit AND, AND, OR, NOT, -, precedence, parentheses */
	{"a AND b", TS1, "'a' & 'b'"},
	{"a OR b", TS1, "'a' | 'b'"},
	{"a OR b c", TS1, "'a' | ('b' & 'c')"},
	{"a b OR c", TS1, "('a' & 'b') | 'c'"},
	{"(a OR b) c", TS1, "('a' | 'b') & 'c'"},
	{"a -b", TS1, "'a' & !'b'"},
	{"a NOT b", TS1, "'a' & !'b'"},
	{"-a", TS1, "!'a'"},
	{"-\"a b\"", TS1, "!('a' <-> 'b')"},
	{"NOT (a OR b)", TS1, "!('a' | 'b')"},
	{"a or b", TS1, "'a' & 'or' & 'b'"}, /* lower-case or is a word, as in Vault */
	{"((a))", TS1, "'a'"},
	{"a NEAR/2 b", TS1, "'a' <1> 'b' | 'b' <1> 'a' | 'a' <2> 'b' | 'b' <2> 'a'"},
	{"\"a b\" NEAR/1 c*", TS1, "('a' <-> 'b') <1> 'c':* | 'c':* <1> ('a' <-> 'b')"},
	{"subject:a NEAR/1 b", TS1, "'a':A <1> 'b' | 'b' <1> 'a':A"},
	{"x (a NEAR/1 b)", TS1, "'x' & ('a' <1> 'b' | 'b' <1> 'a')"},
	/* address fields and kinds */
	/* the whole address of From is also s: (Sender), of Bcc also x: (envelope bcc) */
	{"from:jeff@enron.com", "mi.addr_terms && $1::text[]",
	 "{\"f:a:jeff@enron.com\",\"s:a:jeff@enron.com\"}"},
	{"FROM:Jeff@Enron.COM", "mi.addr_terms && $1::text[]",
	 "{\"f:a:jeff@enron.com\",\"s:a:jeff@enron.com\"}"},
	{"bcc:jeff@enron.com", "mi.addr_terms && $1::text[]",
	 "{\"b:a:jeff@enron.com\",\"x:a:jeff@enron.com\"}"},
	{"from:enron.com", "mi.addr_terms && $1::text[]", "{\"f:l:enron.com\",\"f:d:enron.com\"}"},
	{"to:@enron.com", "mi.addr_terms && $1::text[]", "{\"t:d:enron.com\"}"},
	{"cc:jeff.skilling@", "mi.addr_terms && $1::text[]", "{\"c:l:jeff.skilling\"}"},
	{"bcc:jeff", "mi.addr_terms && $1::text[]", "{\"b:w:jeff\",\"b:l:jeff\",\"b:d:jeff\"}"},
	{"participants:jeff@enron.com", "mi.addr_terms && $1::text[]",
	 "{\"f:a:jeff@enron.com\",\"s:a:jeff@enron.com\",\"t:a:jeff@enron.com\","
	 "\"c:a:jeff@enron.com\",\"b:a:jeff@enron.com\",\"x:a:jeff@enron.com\","
	 "\"e:a:jeff@enron.com\",\"r:a:jeff@enron.com\"}"},
	{"from:\"Jeff Skilling\"", "mi.addr_terms && $1::text[] AND mi.addr_terms && $2::text[]",
	 "{\"f:w:jeff\",\"f:l:jeff\",\"f:d:jeff\"} | {\"f:w:skilling\",\"f:l:skilling\","
	 "\"f:d:skilling\"}"},
	{"from:jeff*", ADDR_ANY, "{\"f:w:jeff%\",\"f:l:jeff%\",\"f:d:jeff%\"}"},
	{"to:@enr*", ADDR_ANY, "{\"t:d:enr%\"}"},
	{"from:a_b%*", ADDR_ANY,
	 "{\"f:w:a\\\\_b\\\\%%\",\"f:l:a\\\\_b\\\\%%\",\"f:d:a\\\\_b\\\\%%\"}"},
	{"from:\"a\\\"b\\\\c@x\"", "mi.addr_terms && $1::text[]",
	 "{\"f:a:a\\\"b\\\\c@x\",\"s:a:a\\\"b\\\\c@x\"}"},
	{"from:\xc3\x89lise@", "mi.addr_terms && $1::text[]", "{\"f:l:\xc3\xa9lise\"}"}, /* Élise */
	/* id, custodian, hold, has */
	{"id:<ABC.123@Mail.Enron.com>", "mi.msgid = $1", "abc.123@mail.enron.com"},
	{"id:abc@x", "mi.msgid = $1", "abc@x"},
	{"id:\"<a'b\\\"c@x>\"", "mi.msgid = $1", "a'b\"c@x"},
	{"custodian:Jeff.Skilling", CUSTODIAN, "jeff.skilling"},
	{"hold:Enron-2001", HOLD, "enron-2001"},
	{"has:attachment", "mi.has_attachment", ""},
	{"HAS:Attachment", "mi.has_attachment", ""},
	/* sizes */
	{"larger:10M", "mi.size > $1::bigint", "10485760"},
	{"smaller:500K", "mi.size < $1::bigint", "512000"},
	{"larger:2g", "mi.size > $1::bigint", "2147483648"},
	{"larger:1000", "mi.size > $1::bigint", "1000"},
	{"smaller:10MB", "mi.size < $1::bigint", "10485760"},
	/* dates */
	{"after:2001-05-01", "mi.sent_at >= $1::timestamptz", "2001-05-01 00:00:00+00"},
	{"before:2001-05-01", "mi.sent_at < $1::timestamptz", "2001-05-01 00:00:00+00"},
	{"date:2001-05-01..2001-05-31", "mi.sent_at >= $1::timestamptz AND mi.sent_at < $2::timestamptz",
	 "2001-05-01 00:00:00+00 | 2001-06-01 00:00:00+00"},
	{"date:2001-12-31", "mi.sent_at >= $1::timestamptz AND mi.sent_at < $2::timestamptz",
	 "2001-12-31 00:00:00+00 | 2002-01-01 00:00:00+00"},
	{"date:..2000-02-28", "mi.sent_at < $1::timestamptz", "2000-02-29 00:00:00+00"},
	{"date:2000-02-29..", "mi.sent_at >= $1::timestamptz", "2000-02-29 00:00:00+00"},
	{"received:2001-02-28", "mi.received_at >= $1::timestamptz AND mi.received_at < $2::timestamptz",
	 "2001-02-28 00:00:00+00 | 2001-03-01 00:00:00+00"},
	/* to the second (REQUIREMENTS: exact in UTC), Gmail's slashes, and tz: */
	{"after:2024-12-31T23:30:00", "mi.sent_at >= $1::timestamptz", "2024-12-31 23:30:00+00"},
	{"after:2024-12-31T23:30", "mi.sent_at >= $1::timestamptz", "2024-12-31 23:30:00+00"},
	{"date>2024-12-31T23:59:59Z", "mi.sent_at >= $1::timestamptz", "2025-01-01 00:00:00+00"},
	{"date<=2024-02-28t23:59:59", "mi.sent_at < $1::timestamptz", "2024-02-29 00:00:00+00"},
	{"date:2001-05-01T09:00..2001-05-01T17:00:00",
	 "mi.sent_at >= $1::timestamptz AND mi.sent_at < $2::timestamptz",
	 "2001-05-01 09:00:00+00 | 2001-05-01 17:00:01+00"},
	{"date:2001-05-01T10:00..2001-05-01", "mi.sent_at >= $1::timestamptz AND mi.sent_at < $2::timestamptz",
	 "2001-05-01 10:00:00+00 | 2001-05-02 00:00:00+00"},
	{"after:2024/01/31", "mi.sent_at >= $1::timestamptz", "2024-01-31 00:00:00+00"},
	{"date:0001-01-01", "mi.sent_at >= $1::timestamptz AND mi.sent_at < $2::timestamptz",
	 "0001-01-01 00:00:00+00 | 0001-01-02 00:00:00+00"},
	{"date:9999-12-31..", "mi.sent_at >= $1::timestamptz", "9999-12-31 00:00:00+00"},
	{"after:2024-01-01 tz:Asia/Tokyo", "mi.sent_at >= $1::timestamptz", "2024-01-01 00:00:00 Asia/Tokyo"},
	{"tz=Asia/Tokyo date:2024-03-31", "mi.sent_at >= $1::timestamptz AND mi.sent_at < $2::timestamptz",
	 "2024-03-31 00:00:00 Asia/Tokyo | 2024-04-01 00:00:00 Asia/Tokyo"},
	{"tz:+09:00 before:2024-01-01", "mi.sent_at < $1::timestamptz", "2024-01-01 00:00:00+09:00"},
	{"tz:-0530 before:2024-01-01", "mi.sent_at < $1::timestamptz", "2024-01-01 00:00:00-05:30"},
	{"tz:+09 before:2024-01-01", "mi.sent_at < $1::timestamptz", "2024-01-01 00:00:00+09:00"},
	{"tz:Asia/Tokyo after:2024-01-01T12:00Z", "mi.sent_at >= $1::timestamptz", "2024-01-01 12:00:00+00"},
	{"tz:America/New_York lunch", TS1, "'lunch'"},
	{"tz:Asia/Tokyo", "true", ""},
	{"received>=2001-02-28", "mi.received_at >= $1::timestamptz", "2001-02-28 00:00:00+00"},
	{"received<2001-02-28", "mi.received_at < $1::timestamptz", "2001-02-28 00:00:00+00"},
	{"received>2001-02-28", "mi.received_at >= $1::timestamptz", "2001-03-01 00:00:00+00"},
	{"received<=2001-02-28T08:00:00", "mi.received_at < $1::timestamptz", "2001-02-28 08:00:01+00"},
	{"x=1", TS1, "'x' <-> '1'"},
	{"received:..2001-01-01", "mi.received_at < $1::timestamptz", "2001-01-02 00:00:00+00"},
	/* recipients: To, Cc, Bcc (and the envelope bcc x with a whole address), envelope rcpt r */
	{"recipients:jeff@enron.com", ADDR1,
	 "{\"t:a:jeff@enron.com\",\"c:a:jeff@enron.com\",\"b:a:jeff@enron.com\","
	 "\"x:a:jeff@enron.com\",\"r:a:jeff@enron.com\"}"},
	{"recipients:@enron.com", ADDR1,
	 "{\"t:d:enron.com\",\"c:d:enron.com\",\"b:d:enron.com\",\"r:d:enron.com\"}"},
	/* *@domain in an address field is the domain */
	{"from:*@enron.com", ADDR1, "{\"f:d:enron.com\"}"},
	{"to:*@enr*", ADDR_ANY, "{\"t:d:enr%\"}"},
	/* inside quotes '*' is text, like any punctuation; a Message-ID may hold one */
	{"subject:\"*foo\"", TS1, "'foo':A"},
	{"id:a*b@x", "mi.msgid = $1", "a*b@x"},
	/* more identifiers */
	{"messageid:<ABC@X>", "mi.msgid = $1", "abc@x"},
	{"rfc822msgid:abc@x", "mi.msgid = $1", "abc@x"},
	{"attachmentnames:budget.xls", TS1, "'budget':B <-> 'xls':B"},
	{"matter:Enron-Case", MATTER, "enron-case"},
	/* ages: Gmail's older_than:/newer_than:, on the sent date, an interval parameter */
	{"older_than:2y", "mi.sent_at < now() - $1::interval", "2 years"},
	{"newer_than:30d", "mi.sent_at >= now() - $1::interval", "30 days"},
	{"older_than:6M", "mi.sent_at < now() - $1::interval", "6 months"},
	{"newer_than:366000d", "mi.sent_at >= now() - $1::interval", "366000 days"},
	{"older_than:12000m", "mi.sent_at < now() - $1::interval", "12000 months"},
	{"older_than:0d", "mi.sent_at < now() - $1::interval", "0 days"},
	/* size: is at least; its range includes both ends; comparisons */
	{"size:20K", "mi.size >= $1::bigint", "20480"},
	{"size:1..1048576", "mi.size >= $1::bigint AND mi.size <= $2::bigint", "1 | 1048576"},
	{"size:1K..", "mi.size >= $1::bigint", "1024"},
	{"size:..1M", "mi.size <= $1::bigint", "1048576"},
	{"size:5..5", "mi.size >= $1::bigint AND mi.size <= $2::bigint", "5 | 5"},
	{"size>26214400", "mi.size > $1::bigint", "26214400"},
	{"size>=20K", "mi.size >= $1::bigint", "20480"},
	{"size<1M", "mi.size < $1::bigint", "1048576"},
	{"size<=1MB", "mi.size <= $1::bigint", "1048576"},
	/* sent: and date comparisons (sent date, midnight UTC) */
	{"sent:2001-05-01..2001-05-31",
	 "mi.sent_at >= $1::timestamptz AND mi.sent_at < $2::timestamptz",
	 "2001-05-01 00:00:00+00 | 2001-06-01 00:00:00+00"},
	{"date>=2001-05-01", "mi.sent_at >= $1::timestamptz", "2001-05-01 00:00:00+00"},
	{"date>2001-12-31", "mi.sent_at >= $1::timestamptz", "2002-01-01 00:00:00+00"},
	{"date<2001-05-01", "mi.sent_at < $1::timestamptz", "2001-05-01 00:00:00+00"},
	{"date<=2000-02-28", "mi.sent_at < $1::timestamptz", "2000-02-29 00:00:00+00"},
	{"a<b", TS1, "'a' <-> 'b'"}, /* no field a: a word, as before */
	{"10:30", TS1, "'10' <-> '30'"}, /* a field name starts with a letter */
	/* Gmail's {a b c} is (a OR b OR c) */
	{"{a b c}", TS1, "'a' | 'b' | 'c'"},
	{"{a}", TS1, "'a'"},
	{"-{a b}", TS1, "!('a' | 'b')"},
	{"x {from:a@x size>1K}",
	 "mi.tsv @@ $1::tsquery AND (mi.addr_terms && $2::text[] OR mi.size > $3::bigint)",
	 "'x' | {\"f:a:a@x\",\"s:a:a@x\"} | 1024"},
	/* proximity: Gmail's AROUND n and KQL's NEAR(n) */
	{"a AROUND 2 b", TS1, "'a' <1> 'b' | 'b' <1> 'a' | 'a' <2> 'b' | 'b' <2> 'a'"},
	{"a NEAR(1) b", TS1, "'a' <1> 'b' | 'b' <1> 'a'"},
	/* mixed: full-text kids merged into one tsquery in place of the first */
	{"from:jeff lunch budget", "mi.addr_terms && $1::text[] AND mi.tsv @@ $2::tsquery",
	 "{\"f:w:jeff\",\"f:l:jeff\",\"f:d:jeff\"} | 'lunch' & 'budget'"},
	{"lunch from:jeff@x -budget has:attachment",
	 "mi.tsv @@ $1::tsquery AND mi.addr_terms && $2::text[] AND mi.has_attachment",
	 "'lunch' & !'budget' | {\"f:a:jeff@x\",\"s:a:jeff@x\"}"},
	{"from:a@x OR to:a@x lunch",
	 "mi.addr_terms && $1::text[] OR (mi.addr_terms && $2::text[] AND mi.tsv @@ $3::tsquery)",
	 "{\"f:a:a@x\",\"s:a:a@x\"} | {\"t:a:a@x\"} | 'lunch'"},
	{"-(from:a@x lunch)", "NOT (mi.addr_terms && $1::text[] AND mi.tsv @@ $2::tsquery)",
	 "{\"f:a:a@x\",\"s:a:a@x\"} | 'lunch'"},
	{"-has:attachment", "NOT (mi.has_attachment)", ""},
	{"lunch (date:2001-01-01 OR larger:1M)",
	 "mi.tsv @@ $1::tsquery AND ((mi.sent_at >= $2::timestamptz AND mi.sent_at < "
	 "$3::timestamptz) OR mi.size > $4::bigint)",
	 "'lunch' | 2001-01-01 00:00:00+00 | 2001-01-02 00:00:00+00 | 1048576"},
	{"(a OR from:b@x) (c OR from:d@x)",
	 "(mi.tsv @@ $1::tsquery OR mi.addr_terms && $2::text[]) AND (mi.tsv @@ $3::tsquery OR "
	 "mi.addr_terms && $4::text[])",
	 "'a' | {\"f:a:b@x\",\"s:a:b@x\"} | 'c' | {\"f:a:d@x\",\"s:a:d@x\"}"},
	/* business fields: amount (numeric, two decimals), txdate (a day), counterparty */
	{"amount:100000..300000", BIZ "bf.amount >= $1::numeric AND bf.amount <= $2::numeric)",
	 "100000.00 | 300000.00"},
	{"amount:120000", BIZ "bf.amount = $1::numeric)", "120000.00"},
	{"amount:1234.5", BIZ "bf.amount = $1::numeric)", "1234.50"},
	{"amount:0.05", BIZ "bf.amount = $1::numeric)", "0.05"},
	{"amount:999999999999999.99", BIZ "bf.amount = $1::numeric)", "999999999999999.99"},
	{"amount:100000..", BIZ "bf.amount >= $1::numeric)", "100000.00"},
	{"amount:..300000", BIZ "bf.amount <= $1::numeric)", "300000.00"},
	{"amount:5..5", BIZ "bf.amount >= $1::numeric AND bf.amount <= $2::numeric)", "5.00 | 5.00"},
	{"amount>=100000", BIZ "bf.amount >= $1::numeric)", "100000.00"},
	{"amount>100000", BIZ "bf.amount > $1::numeric)", "100000.00"},
	{"amount<300000", BIZ "bf.amount < $1::numeric)", "300000.00"},
	{"AMOUNT<=300000", BIZ "bf.amount <= $1::numeric)", "300000.00"},
	{"txdate:2024-01-01..2024-12-31", BIZ "bf.txdate >= $1::date AND bf.txdate <= $2::date)",
	 "2024-01-01 | 2024-12-31"},
	{"txdate:2024-02-29", BIZ "bf.txdate = $1::date)", "2024-02-29"},
	{"txdate:..2024-12-31", BIZ "bf.txdate <= $1::date)", "2024-12-31"},
	{"txdate>=2024-04-01", BIZ "bf.txdate >= $1::date)", "2024-04-01"},
	{"txdate>2024-04-01", BIZ "bf.txdate > $1::date)", "2024-04-01"},
	{"txdate<2024-04-01", BIZ "bf.txdate < $1::date)", "2024-04-01"},
	{"txdate<=2024-04-01", BIZ "bf.txdate <= $1::date)", "2024-04-01"},
	/* counterparty: lower-cased substring, LIKE's metacharacters escaped */
	{"counterparty:\xe6\xa0\xaa\xe5\xbc\x8f\xe4\xbc\x9a\xe7\xa4\xbe\xe3\x83\x86\xe3\x82\xb9"
	 "\xe3\x83\x88", /* 株式会社テスト */
	 BIZ "lower(bf.counterparty) LIKE $1)",
	 "%\xe6\xa0\xaa\xe5\xbc\x8f\xe4\xbc\x9a\xe7\xa4\xbe\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88%"},
	{"counterparty:\"Acme  Corp\"", BIZ "lower(bf.counterparty) LIKE $1)", "%acme  corp%"},
	{"counterparty:100%_off\\", BIZ "lower(bf.counterparty) LIKE $1)", "%100\\%\\_off\\\\%"},
	/* two fields combined, with the other operators, by AND, OR and NOT */
	{"amount:100000..300000 txdate:2024-01-01..2024-12-31",
	 BIZ "bf.amount >= $1::numeric AND bf.amount <= $2::numeric) AND " BIZ
	     "bf.txdate >= $3::date AND bf.txdate <= $4::date)",
	 "100000.00 | 300000.00 | 2024-01-01 | 2024-12-31"},
	{"invoice counterparty:acme OR -amount>=5",
	 "(mi.tsv @@ $1::tsquery AND " BIZ "lower(bf.counterparty) LIKE $2)) OR NOT (" BIZ
	 "bf.amount >= $3::numeric))",
	 "'invoice' | %acme% | 5.00"},
	/* hostile values stay in parameters */
	{"subject:\"'); DROP TABLE x;--\"", TS1, "'drop':A <-> 'table':A <-> 'x':A"},
	{"id:\"'); DROP TABLE x;--\"", "mi.msgid = $1", "'); drop table x;--"},
	{"custodian:\"x'); DROP TABLE y;--\"", CUSTODIAN, "x'); drop table y;--"},
	{"from:\"'\\\\\"", "mi.addr_terms && $1::text[]",
	 "{\"f:w:'\\\\\",\"f:l:'\\\\\",\"f:d:'\\\\\"}"},
};

/* Spellings of one query: each must compile to exactly the SQL and parameters of its canonical
 * form (both sides are also checked to compile). */
struct same_case {
	const char *q;
	const char *canonical;
};

static const struct same_case same[] = {
	{"sent:2001-05-01..2001-05-31", "date:2001-05-01..2001-05-31"},
	{"SENT:2001-05-01", "date:2001-05-01"},
	{"sent:..2001-05-31", "date:..2001-05-31"},
	{"after:2001/05/01", "after:2001-05-01"},
	{"after:2001-05-01T00:00:00", "after:2001-05-01"},
	{"tz:UTC after:2001-05-01", "after:2001-05-01"},
	{"tz:z after:2001-05-01", "after:2001-05-01"},
	{"after:2001-05-01 tz:Asia/Tokyo tz:Asia/Tokyo", "tz:Asia/Tokyo after:2001-05-01"},
	{"lunch (tz:Asia/Tokyo after:2001-05-01)", "tz:Asia/Tokyo lunch after:2001-05-01"},
	{"received>=2001-05-01 received<=2001-05-31", "received:2001-05-01..2001-05-31"},
	{"messageid:<A@X>", "id:<A@X>"},
	{"rfc822msgid:a@x", "id:a@x"},
	{"attachmentnames:budget.xls", "filename:budget.xls"},
	{"attachmentnames:bud*", "filename:bud*"},
	{"size>10M", "larger:10M"},
	{"size<500K", "smaller:500K"},
	{"size:20K", "size>=20K"},
	{"Size>=1k", "size:1K"},
	{"date>=2001-05-01", "after:2001-05-01"},
	{"date<2001-05-01", "before:2001-05-01"},
	{"date>2001-05-31", "after:2001-06-01"},
	{"date>2001-12-31", "after:2002-01-01"},
	{"date<=2001-05-31", "before:2001-06-01"},
	{"date<=2001-05-31", "date:..2001-05-31"},
	{"date>=2001-05-01 date<=2001-05-31", "date:2001-05-01..2001-05-31"},
	{"older_than:2Y", "older_than:2y"},
	{"{a b c}", "(a OR b OR c)"},
	{"x {a from:b@x} -y", "x (a OR from:b@x) -y"},
	{"{a b} {c d}", "(a OR b) (c OR d)"},
	{"{a -b (c d)}", "a OR -b OR (c d)"},
	{"{a}", "a"},
	{"a AROUND 5 b", "a NEAR/5 b"},
	{"a NEAR(5) b", "a NEAR/5 b"},
	{"\"a b\" AROUND 1 c*", "\"a b\" NEAR/1 c*"},
	{"subject:a NEAR(20) b", "subject:a NEAR/20 b"},
	{"from:*@enron.com", "from:@enron.com"},
	{"participants:*@enron.com", "participants:@enron.com"},
	{"recipients:*@enr*", "recipients:@enr*"},
	{"matter:\" Enron-Case \"", "matter:enron-case"},
	{"amount:120000.00", "amount:120000"},
	{"amount:100000..", "amount>=100000"},
	{"amount:..300000", "amount<=300000"},
	{"txdate:2024-01-01..", "txdate>=2024-01-01"},
	{"Counterparty:ACME", "counterparty:\" acme \""},
};

/* compile_str - q compiled as "where || params", or "error: ..." (owned by the caller). */
static char *join(const struct query_sql *s);

static char *
compile_str(const char *q)
{
	char err[QUERY_ERR_MAX] = "", *params, *r;
	struct query_sql s;

	if (query_compile(&s, q, 1, err) != VL_OK)
		return xasprintf("error: %s", err);
	params = join(&s);
	r = xasprintf("%s || %s", s.where, params);
	free(params);
	query_sql_free(&s);
	return r;
}

static void
test_same(void)
{
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		char *a = compile_str(same[i].q), *b = compile_str(same[i].canonical);

		CHECK(strncmp(a, "error: ", 7) != 0, same[i].q);
		CHECK(strncmp(b, "error: ", 7) != 0, same[i].canonical);
		CHECK(strcmp(a, b) == 0, same[i].q);
		if (strcmp(a, b) != 0)
			fprintf(stderr, "\n%s\n  gives     %s\n%s\n  gives     %s\n", same[i].q, a,
				same[i].canonical, b);
		free(a);
		free(b);
	}
}

/* join - the parameters as "a | b | c" (owned by the caller). */
static char *
join(const struct query_sql *s)
{
	struct buf b = {0};

	buf_append_str(&b, "");
	for (int k = 0; k < s->nparams; k++)
		buf_appendf(&b, "%s%s", k ? " | " : "", s->params[k]);
	return (char *)b.data;
}

static void
test_good(void)
{
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const struct good_case *c = &good[i];
		char err[QUERY_ERR_MAX] = "", *params;
		struct query_sql s;
		enum vl_err rc = query_compile(&s, c->q, 1, err);

		CHECK(rc == VL_OK, c->q);
		if (rc != VL_OK) {
			fprintf(stderr, "\n%s: %s\n", c->q, err);
			continue;
		}
		params = join(&s);
		CHECK(strcmp(s.where, c->where) == 0, c->q);
		CHECK(strcmp(params, c->params) == 0, c->q);
		if (strcmp(s.where, c->where) != 0 || strcmp(params, c->params) != 0)
			fprintf(stderr, "\n%s\n  where  %s\n  params %s\n", c->q, s.where, params);
		free(params);
		query_sql_free(&s);
	}
}

/* ---- which queries the GIN index cannot answer alone (query_sql.rechecks) ---- */

static const struct {
	const char *q;
	bool rechecks;
} rechecks[] = {
	{"lunch", false},
	{"lunch budget OR gas -power", false},
	{"\xe5\xa5\x91\xe7\xb4\x84", false}, /* 契約: one bigram */
	{"from:jeff@enron.com after:2001-01-01", false},
	{"has:attachment larger:1M", false},
	{"\"quarterly report\"", true},
	{"houston.rr.com", true},		       /* a phrase of its parts */
	{"\xe5\xa5\x91\xe7\xb4\x84\xe6\x9b\xb8", true}, /* 契約書: two bigrams, a phrase */
	{"contract*", true},
	{"subject:lunch", true},
	{"body:gas", true},
	{"filename:budget", true},
	{"gas NEAR/3 power", true},
	{"lunch OR \"quarterly report\"", true},
	{"-\"quarterly report\" lunch", true},
};

static void
test_rechecks(void)
{
	for (size_t i = 0; i < sizeof(rechecks) / sizeof(rechecks[0]); i++) {
		char err[QUERY_ERR_MAX] = "";
		struct query_sql s;
		enum vl_err rc = query_compile(&s, rechecks[i].q, 1, err);

		CHECK(rc == VL_OK, rechecks[i].q);
		if (rc != VL_OK)
			continue;
		CHECK(s.rechecks == rechecks[i].rechecks, rechecks[i].q);
		query_sql_free(&s);
	}
}

/* ---- a caller without Bcc visibility (query_compile_for with hide_bcc) ---- */

#define SHOWN "coalesce(mi.bcc_exposure, 2) < 2 AND "

static const struct good_case hidden[] = {
	{"", SHOWN "true", ""},
	{"lunch", SHOWN TS1, "'lunch'"},
	{"to:x@y", SHOWN ADDR1, "{\"t:a:x@y\"}"},
	{"recipients:x@y", SHOWN ADDR1, "{\"t:a:x@y\",\"c:a:x@y\",\"r:a:x@y\"}"},
	{"recipients:@y", SHOWN ADDR1, "{\"t:d:y\",\"c:d:y\",\"r:d:y\"}"},
	{"participants:x@y", SHOWN ADDR1,
	 "{\"f:a:x@y\",\"s:a:x@y\",\"t:a:x@y\",\"c:a:x@y\",\"e:a:x@y\",\"r:a:x@y\"}"},
	{"custodian:alice",
	 SHOWN "mi.addr_terms && ARRAY(SELECT f || ':a:' || ca.address FROM custodian_addresses ca "
	       "CROSS JOIN unnest(ARRAY['f','s','t','c','e','r']) f WHERE ca.custodian = $1)",
	 "alice"},
	{"a OR to:x@y", SHOWN "(mi.tsv @@ $1::tsquery OR mi.addr_terms && $2::text[])",
	 "'a' | {\"t:a:x@y\"}"},
	{"-recipients:x@y", SHOWN "NOT (mi.addr_terms && $1::text[])",
	 "{\"t:a:x@y\",\"c:a:x@y\",\"r:a:x@y\"}"},
};

static const struct refused_case {
	const char *q;
	int pos;
} refused[] = {{"bcc:x@y", 0}, {"lunch bcc:@y", 6}, {"a OR -bcc:jeff*", 6}, {"{a bcc:b}", 3}};

static void
test_hide_bcc(void)
{
	char err[QUERY_ERR_MAX] = "", *params, want[64];
	struct query_sql s;

	for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++) {
		const struct good_case *c = &hidden[i];
		enum vl_err rc = query_compile_for(&s, c->q, 1, true, err);

		CHECK(rc == VL_OK, c->q);
		if (rc != VL_OK) {
			fprintf(stderr, "\n%s: %s\n", c->q, err);
			continue;
		}
		params = join(&s);
		CHECK(strcmp(s.where, c->where) == 0 && strcmp(params, c->params) == 0, c->q);
		if (strcmp(s.where, c->where) != 0 || strcmp(params, c->params) != 0)
			fprintf(stderr, "\n%s\n  where  %s\n  params %s\n", c->q, s.where, params);
		free(params);
		query_sql_free(&s);
	}
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		enum vl_err rc = query_compile_for(&s, refused[i].q, 1, true, err);

		snprintf(want, sizeof(want), "position %d: bcc: " QUERY_ERR_BCC, refused[i].pos);
		CHECK(rc == VL_ERR_PARSE && strncmp(err, want, strlen(want)) == 0, refused[i].q);
		if (rc != VL_ERR_PARSE || strncmp(err, want, strlen(want)) != 0)
			fprintf(stderr, "\n%s: %s\n", refused[i].q, err);
		/* with Bcc visibility the same query compiles */
		CHECK(query_compile_for(&s, refused[i].q, 1, false, err) == VL_OK, refused[i].q);
		query_sql_free(&s);
	}
}

/* ---- malformed queries ---- */

struct bad_case {
	const char *q;
	int pos;
	enum vl_err code;
	const char *why; /* a substring of the message */
};

static const struct bad_case bad[] = {
	{"(a", 0, VL_ERR_PARSE, "unbalanced parenthesis"},
	{"a (b (c)", 2, VL_ERR_PARSE, "'(' is never closed"},
	{"a)", 1, VL_ERR_PARSE, "')' without '('"},
	{"(a)) b", 3, VL_ERR_PARSE, "unbalanced parenthesis"},
	{"()", 0, VL_ERR_PARSE, "empty parentheses"},
	{"a OR", 2, VL_ERR_PARSE, "OR needs a term after it"},
	{"a OR )", 2, VL_ERR_PARSE, "OR needs a term after it"},
	{"OR a", 0, VL_ERR_PARSE, "OR needs a term before it"},
	{"(OR a)", 1, VL_ERR_PARSE, "OR needs a term before it"},
	{"AND a", 0, VL_ERR_PARSE, "AND needs a term before it"},
	{"a AND", 2, VL_ERR_PARSE, "AND needs a term after it"},
	{"NOT", 0, VL_ERR_PARSE, "NOT needs a term after it"},
	{"a NOT OR b", 2, VL_ERR_PARSE, "NOT needs a term after it"},
	{"-", 0, VL_ERR_PARSE, "'-' must be followed by a term"},
	{"a - b", 2, VL_ERR_PARSE, "'-' must be followed by a term"},
	{"frm:jeff", 0, VL_ERR_PARSE, "unknown field 'frm:'"},
	{"lunch re:hello", 6, VL_ERR_PARSE, "unknown field 're:'"},
	{"from:", 0, VL_ERR_PARSE, "from: needs a value"},
	{"a to: b", 2, VL_ERR_PARSE, "to: needs a value"},
	{"from:\"\"", 0, VL_ERR_PARSE, "from: needs a value"},
	{"from:\"  \"", 0, VL_ERR_PARSE, "from: needs a value"},
	{"from:@", 0, VL_ERR_PARSE, "'@' needs an address"},
	{"id:<>", 0, VL_ERR_PARSE, "id: needs a Message-ID"},
	{"custodian:\" \"", 0, VL_ERR_PARSE, "custodian: needs a name"},
	{"hold:\" \"", 0, VL_ERR_PARSE, "hold: needs a name"},
	{"has:pdf", 0, VL_ERR_PARSE, "has:attachment"},
	{"larger:10X", 0, VL_ERR_PARSE, "larger: expects a size like 10M or 500K"},
	{"larger:1.5M", 0, VL_ERR_PARSE, "expects a size"},
	{"smaller:M", 0, VL_ERR_PARSE, "smaller: expects a size"},
	{"larger:-5", 0, VL_ERR_PARSE, "expects a size"},
	{"larger:99999999999999999999", 0, VL_ERR_PARSE, "expects a size"},
	{"larger:9999999999999G", 0, VL_ERR_PARSE, "expects a size"},
	{"larger:5M*", 0, VL_ERR_PARSE, "takes no '*'"},
	{"after:2001-13-45", 0, VL_ERR_PARSE, "'2001-13-45' is not a day of the calendar"},
	{"date:2001-02-30", 0, VL_ERR_PARSE, "'2001-02-30' is not a day"},
	{"date:1900-02-29", 0, VL_ERR_PARSE, "is not a day"},
	{"before:2001-5-1", 0, VL_ERR_PARSE, "expects a date like 2001-05-31"},
	{"after:yesterday", 0, VL_ERR_PARSE, "expects a date"},
	{"after:2001-01-01..2001-02-01", 0, VL_ERR_PARSE, "expects a date"},
	{"x date:2001-05-31..2001-05-01", 2, VL_ERR_PARSE, "the range ends before it starts"},
	{"date:2001-01-01..garbage", 0, VL_ERR_PARSE, "or a range like"},
	{"date:..", 0, VL_ERR_PARSE, "needs a date on one side"},
	{"received:2001-01-01...2001-01-02", 0, VL_ERR_PARSE, "expects a date"},
	{"after:2001/05-01", 0, VL_ERR_PARSE, "expects a date"},
	{"after:2001-05-01T24:00", 0, VL_ERR_PARSE, "is not a time of day"},
	{"after:2001-05-01T23:60", 0, VL_ERR_PARSE, "is not a time of day"},
	{"after:2001-05-01T23:59:60", 0, VL_ERR_PARSE, "is not a time of day"},
	{"after:2001-05-01T9:00", 0, VL_ERR_PARSE, "expects a date"},
	{"after:2001-05-01T", 0, VL_ERR_PARSE, "expects a date"},
	{"after:2001-05-01Z", 0, VL_ERR_PARSE, "expects a date"},
	{"after:2001-05-01T10:00+09:00", 0, VL_ERR_PARSE, "expects a date"},
	{"after:0000-01-01", 0, VL_ERR_PARSE, "is not a day of the calendar"},
	{"date:2001-05-01T17:00..2001-05-01T09:00", 0, VL_ERR_PARSE, "the range ends before it starts"},
	{"tz:Mars/Olympus after:2001-05-01", 0, VL_ERR_PARSE, "is no time zone"},
	{"tz:../../etc/passwd", 0, VL_ERR_PARSE, "is no time zone"},
	{"tz:zone.tab", 0, VL_ERR_PARSE, "is no time zone"},
	{"tz:Asia/", 0, VL_ERR_PARSE, "is no time zone"},
	{"tz:/etc/localtime", 0, VL_ERR_PARSE, "is no time zone"},
	{"tz:+15:00", 0, VL_ERR_PARSE, "is no time zone"},
	{"tz:+09:60", 0, VL_ERR_PARSE, "is no time zone"},
	{"tz:Asia/Tokyo tz:UTC", 14, VL_ERR_PARSE, "tz: is given twice with two zones"},
	{"a OR tz:Asia/Tokyo", 5, VL_ERR_PARSE, "tz: sets the zone of the whole query"},
	{"-tz:Asia/Tokyo a", 1, VL_ERR_PARSE, "tz: sets the zone of the whole query"},
	{"tz:", 0, VL_ERR_PARSE, "tz: needs a value"},
	{"tz>+09", 0, VL_ERR_PARSE, "tz compares only with ':'"},
	{"from=x", 0, VL_ERR_PARSE, "from compares only with ':'"},
	{"received>=yesterday", 0, VL_ERR_PARSE, "received>= expects a date"},
	{"a \"bc", 2, VL_ERR_PARSE, "unterminated quote"},
	{"from:\"jeff", 5, VL_ERR_PARSE, "unterminated quote"},
	{"NEAR/3 a", 0, VL_ERR_PARSE, "between two words or phrases"},
	{"a NEAR/3", 2, VL_ERR_PARSE, "between two words or phrases"},
	{"a NEAR/0 b", 2, VL_ERR_PARSE, "distance from 1 to 20"},
	{"a NEAR/21 b", 2, VL_ERR_PARSE, "distance from 1 to 20"},
	{"a NEAR/x b", 2, VL_ERR_PARSE, "distance from 1 to 20"},
	{"a NEAR b", 2, VL_ERR_PARSE, "like NEAR/5"},
	{"from:x NEAR/2 b", 7, VL_ERR_PARSE, "between two words or phrases"},
	{"a NEAR/2 to:b", 2, VL_ERR_PARSE, "between two words or phrases"},
	{"(a) NEAR/2 b", 4, VL_ERR_PARSE, "between two words or phrases"},
	{"a NEAR/2 -b", 2, VL_ERR_PARSE, "between two words or phrases"},
	{"a NEAR/2 b NEAR/2 c", 11, VL_ERR_PARSE, "cannot be chained"},
	{"a \xff b", 2, VL_ERR_PARSE, "invalid UTF-8"},
	{"caf\xc3", 3, VL_ERR_PARSE, "invalid UTF-8"},
	{"from:\xed\xa0\x80@x", 5, VL_ERR_PARSE, "invalid UTF-8"}, /* a UTF-16 surrogate */
	{"\"!!!\"", 0, VL_ERR_PARSE, "'!!!' has no searchable word"},
	{"lunch ...", 6, VL_ERR_PARSE, "'...' has no searchable word"},
	{"lunch --", 7, VL_ERR_PARSE, "'-' must be followed by a term"},
	{"subject:...", 0, VL_ERR_PARSE, "has no searchable word"},
	{"*", 0, VL_ERR_PARSE, "'*' must follow a word"},
	{"\"\"", 0, VL_ERR_PARSE, "has no searchable word"},
	/* ages */
	{"older_than:5x", 0, VL_ERR_PARSE, "older_than: expects a number and a unit d (days)"},
	{"newer_than:d", 0, VL_ERR_PARSE, "newer_than: expects a number and a unit"},
	{"older_than:5", 0, VL_ERR_PARSE, "expects a number and a unit"},
	{"older_than:5dd", 0, VL_ERR_PARSE, "expects a number and a unit"},
	{"older_than:-5d", 0, VL_ERR_PARSE, "expects a number and a unit"},
	{"older_than:1.5y", 0, VL_ERR_PARSE, "expects a number and a unit"},
	{"x older_than:1001y", 2, VL_ERR_PARSE, "older_than: reaches at most 1000 years back"},
	{"newer_than:366001d", 0, VL_ERR_PARSE, "at most 1000 years back (366000d, 12000m, 1000y)"},
	{"newer_than:12001m", 0, VL_ERR_PARSE, "at most 1000 years back"},
	{"older_than:99999999999999999999999d", 0, VL_ERR_PARSE, "at most 1000 years back"},
	{"older_than:2y*", 0, VL_ERR_PARSE, "takes no '*'"},
	/* sizes */
	{"size>", 0, VL_ERR_PARSE, "size> needs a value"},
	{"size>abc", 0, VL_ERR_PARSE, "size> expects a size like 10M"},
	{"size<=1M..2M", 0, VL_ERR_PARSE, "size<= expects a size"},
	{"size:2M..1K", 0, VL_ERR_PARSE, "size: the range ends before it starts"},
	{"size:..", 0, VL_ERR_PARSE, "size: '..' needs a size on one side"},
	{"size:1K..x", 0, VL_ERR_PARSE, "or a range like 1K..10M"},
	{"larger:1K..2K", 0, VL_ERR_PARSE, "larger: expects a size like 10M or 500K (K"},
	{"from>jeff", 0, VL_ERR_PARSE, "from compares only with ':' (size, date, amount and txdate"},
	{"counterparty>acme", 0, VL_ERR_PARSE, "counterparty compares only with ':'"},
	{"a larger>=5", 2, VL_ERR_PARSE, "larger compares only with ':'"},
	/* business fields */
	{"amount:abc", 0, VL_ERR_PARSE, "amount: expects an amount like 120000 or 1234.50 or a range"},
	{"amount:5..1", 0, VL_ERR_PARSE, "amount: the range ends before it starts"},
	{"amount:-5", 0, VL_ERR_PARSE, "not negative"},
	{"amount:1.234", 0, VL_ERR_PARSE, "amount: expects an amount"},
	{"amount:1.", 0, VL_ERR_PARSE, "amount: expects an amount"},
	{"amount:1,000", 0, VL_ERR_PARSE, "amount: expects an amount"},
	{"amount:1000000000000000", 0, VL_ERR_PARSE, "at most 15 digits before the point"},
	{"amount:..", 0, VL_ERR_PARSE, "amount: '..' needs an amount on one side"},
	{"amount>=1..2", 0, VL_ERR_PARSE, "amount>= expects an amount like 120000 or 1234.50 (not"},
	{"amount:", 0, VL_ERR_PARSE, "amount: needs a value"},
	{"amount:5*", 0, VL_ERR_PARSE, "takes no '*'"},
	{"txdate:2024-13-01", 0, VL_ERR_PARSE, "txdate: '2024-13-01' is not a day of the calendar"},
	{"txdate:2023-02-29", 0, VL_ERR_PARSE, "is not a day of the calendar"},
	{"txdate:2024-1-1", 0, VL_ERR_PARSE, "txdate: expects a date like 2001-05-31 or a range"},
	{"txdate:2024-12-31..2024-01-01", 0, VL_ERR_PARSE, "txdate: the range ends before"},
	{"a txdate<=2024-01-01..", 2, VL_ERR_PARSE, "txdate<= expects a date like 2001-05-31"},
	{"counterparty:", 0, VL_ERR_PARSE, "counterparty: needs a value"},
	{"counterparty:\"  \"", 0, VL_ERR_PARSE, "counterparty: needs a name"},
	{"counterparty:acme*", 0, VL_ERR_PARSE, "takes no '*'"},
	/* date comparisons */
	{"date>=notadate", 0, VL_ERR_PARSE, "date>= expects a date like 2001-05-31"},
	{"date>2001-02-30", 0, VL_ERR_PARSE, "date> '2001-02-30' is not a day"},
	{"date<=2001-01-01..2001-02-01", 0, VL_ERR_PARSE, "date<= expects a date"},
	{"date<", 0, VL_ERR_PARSE, "date< needs a value"},
	{"sent:2001-05-31..2001-05-01", 0, VL_ERR_PARSE, "sent: the range ends before it starts"},
	{"messageid:<>", 0, VL_ERR_PARSE, "messageid: needs a Message-ID"},
	{"matter:\" \"", 0, VL_ERR_PARSE, "matter: needs a name"},
	/* braces */
	{"{a b", 0, VL_ERR_PARSE, "unbalanced brace: '{' is never closed"},
	{"x {a (b}", 5, VL_ERR_PARSE, "'(' is never closed"},
	{"{}", 0, VL_ERR_PARSE, "empty braces"},
	{"a}", 1, VL_ERR_PARSE, "'}' without '{'"},
	{"{a OR b}", 3, VL_ERR_PARSE, "no OR inside { }"},
	{"{a AND b}", 3, VL_ERR_PARSE, "no AND inside { }"},
	{"{a NEAR/2}", 3, VL_ERR_PARSE, "NEAR/2 must stand between two words or phrases"},
	/* proximity spellings */
	{"a AROUND b", 2, VL_ERR_PARSE, "AROUND needs a distance from 1 to 20, like AROUND 5"},
	{"a AROUND", 2, VL_ERR_PARSE, "like AROUND 5"},
	{"a AROUND 21 b", 2, VL_ERR_PARSE, "like AROUND 5"},
	{"a AROUND 0 b", 2, VL_ERR_PARSE, "like AROUND 5"},
	{"AROUND 3 a", 0, VL_ERR_PARSE, "AROUND 3 must stand between two words or phrases"},
	{"a AROUND 2 b AROUND 2 c", 13, VL_ERR_PARSE, "cannot be chained"},
	{"a NEAR(x) b", 2, VL_ERR_PARSE, "NEAR needs a distance from 1 to 20, like NEAR(5)"},
	{"a NEAR() b", 2, VL_ERR_PARSE, "like NEAR(5)"},
	{"a NEAR(0) b", 2, VL_ERR_PARSE, "like NEAR(5)"},
	{"a NEAR(5 b", 2, VL_ERR_PARSE, "like NEAR(5)"},
	{"a NEAR(100) b", 2, VL_ERR_PARSE, "like NEAR(5)"},
	{"from:x NEAR(2) b", 7, VL_ERR_PARSE, "NEAR(2) must stand between"},
	/* wildcards: only trailing, or *@domain in an address field */
	{"*foo", 0, VL_ERR_PARSE, "leading wildcard not supported"},
	{"lunch *foo", 6, VL_ERR_PARSE, "leading wildcard not supported"},
	{"-*foo", 1, VL_ERR_PARSE, "leading wildcard not supported"},
	{"*foo*", 0, VL_ERR_PARSE, "leading wildcard not supported"},
	{"fo*o", 2, VL_ERR_PARSE, "wildcard inside a word not supported"},
	{"foo**", 3, VL_ERR_PARSE, "wildcard inside a word"},
	{"subject:*foo", 8, VL_ERR_PARSE, "leading wildcard not supported"},
	{"body:fo*o", 7, VL_ERR_PARSE, "wildcard inside a word"},
	{"*@enron.com", 0, VL_ERR_PARSE, "leading wildcard not supported"},
	{"from:*enron.com", 5, VL_ERR_PARSE, "leading wildcard not supported"},
	{"from:jeff*@enron.com", 9, VL_ERR_PARSE, "wildcard inside a word"},
	{"from:*@enr*on", 10, VL_ERR_PARSE, "wildcard inside a word"},
	{"to:**@x", 3, VL_ERR_PARSE, "leading wildcard not supported"},
	{"size:*5", 5, VL_ERR_PARSE, "leading wildcard not supported"},
	{"custodian:a*b", 11, VL_ERR_PARSE, "wildcard inside a word"},
	{"from:*@", 0, VL_ERR_PARSE, "'@' needs an address"},
	{"foo_bar:x", 0, VL_ERR_PARSE, "unknown field 'foo_bar:'"},
	{"rfc822:x", 0, VL_ERR_PARSE, "unknown field 'rfc822:'"},
};

static void
check_bad(const char *q, int pos, enum vl_err code, const char *why)
{
	char err[QUERY_ERR_MAX] = "", label[120];
	struct query_sql s;
	enum vl_err rc = query_compile(&s, q, 1, err);
	int got = -1;

	snprintf(label, sizeof(label), "%.80s", q);
	CHECK(rc == code, label);
	CHECK(sscanf(err, "position %d: ", &got) == 1 && got == pos, label);
	CHECK(strstr(err, why) != NULL, label);
	CHECK(s.where == NULL && s.params == NULL && s.nparams == 0 && s.highlight == NULL, label);
	if (rc != code || got != pos || strstr(err, why) == NULL)
		fprintf(stderr, "\n%s\n  rc %d, %s\n", label, rc, err);
	query_sql_free(&s);
}

static void
test_bad(void)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_bad(bad[i].q, bad[i].pos, bad[i].code, bad[i].why);
}

/* ---- bounds ---- */

/* repeat - s n times, then tail (owned). */
static char *
repeat(const char *s, int n, const char *tail)
{
	struct buf b = {0};

	buf_append_str(&b, "");
	for (int k = 0; k < n; k++)
		buf_append_str(&b, s);
	buf_append_str(&b, tail);
	return (char *)b.data;
}

/* compiles - true when q compiles (and is freed again). */
static bool
compiles(const char *q)
{
	char err[QUERY_ERR_MAX];
	struct query_sql s;
	enum vl_err rc = query_compile(&s, q, 1, err);

	query_sql_free(&s);
	return rc == VL_OK;
}

static void
test_bounds(void)
{
	char *q;

	/* 16 words of 255 letters (the tokenizer's longest word) and their spaces: 4096 bytes. */
	{
		char *word = repeat("a", 255, " ");

		q = repeat(word, QUERY_MAX_BYTES / 256, "");
		CHECK(strlen(q) == QUERY_MAX_BYTES && compiles(q), "a query of exactly the bound");
		free(q);
		free(word);
	}
	q = repeat("a ", QUERY_MAX_BYTES / 2, "a");
	check_bad(q, QUERY_MAX_BYTES, VL_ERR_LIMIT, "longer than 4096 bytes");
	free(q);

	/* counterparty: 200 characters (of three bytes: テ) and one more */
	{
		char *name = repeat("\xe3\x83\x86", 200, "");

		q = xasprintf("counterparty:%s", name);
		CHECK(compiles(q), "a counterparty of 200 characters");
		free(q);
		q = xasprintf("counterparty:%s\xe3\x83\x86", name);
		check_bad(q, 0, VL_ERR_LIMIT, "counterparty: a name has at most 200 characters");
		free(q);
		free(name);
	}

	q = repeat("w ", QUERY_MAX_TERMS, "");
	CHECK(compiles(q), "64 terms");
	free(q);
	q = repeat("w ", QUERY_MAX_TERMS, "last");
	check_bad(q, 2 * QUERY_MAX_TERMS, VL_ERR_LIMIT, "more than 64 terms");
	free(q);

	{
		char *open = repeat("(", QUERY_MAX_DEPTH, "a"), *full = repeat(")", QUERY_MAX_DEPTH, "");

		q = xasprintf("%s%s", open, full);
		CHECK(compiles(q), "32 levels of parentheses");
		free(q);
		free(open);
		free(full);
	}
	q = repeat("(", QUERY_MAX_DEPTH + 1, "a");
	check_bad(q, QUERY_MAX_DEPTH, VL_ERR_LIMIT, "nesting deeper than 32");
	free(q);
	q = repeat("-", QUERY_MAX_DEPTH + 1, "a");
	check_bad(q, QUERY_MAX_DEPTH, VL_ERR_LIMIT, "nesting deeper than 32");
	free(q);

	q = repeat("w.", QUERY_MAX_PHRASE, "");
	CHECK(compiles(q), "a phrase of 32 lexemes");
	free(q);
	q = repeat(" w", QUERY_MAX_PHRASE + 1, "");
	q[0] = '"';
	{
		char *quoted = xasprintf("x %s\"", q);

		check_bad(quoted, 2, VL_ERR_LIMIT, "more than 32 words");
		free(quoted);
	}
	free(q);
}

/* ---- parameters, highlights, injection ---- */

static void
test_first_param(void)
{
	char err[QUERY_ERR_MAX];
	struct query_sql s;

	CHECK(query_compile(&s, "from:a@x date:2001-01-01 lunch", 3, err) == VL_OK, "first_param 3");
	CHECK(strcmp(s.where, "mi.addr_terms && $3::text[] AND (mi.sent_at >= $4::timestamptz AND "
			      "mi.sent_at < $5::timestamptz) AND mi.tsv @@ $6::tsquery") == 0,
	      s.where);
	CHECK(s.nparams == 4, "four parameters");
	query_sql_free(&s);
	CHECK(query_compile(&s, "a", 0, err) == VL_ERR_CONFIG, "first_param 0");
	CHECK(s.where == NULL, "nothing on failure");
	query_sql_free(&s);
	query_sql_free(NULL);
}

static void
test_highlight(void)
{
	char err[QUERY_ERR_MAX];
	struct query_sql s;

	CHECK(query_compile(&s,
			    "Lunch \"Quarterly Report\" -draft subject:budget* lunch NOT (x OR y) "
			    "from:jeff a NEAR/2 b",
			    1, err) == VL_OK,
	      "highlight query");
	CHECK(s.nhighlight == 5, "five distinct positive terms");
	if (s.nhighlight == 5) {
		CHECK(strcmp(s.highlight[0], "lunch") == 0, s.highlight[0]);
		CHECK(strcmp(s.highlight[1], "quarterly report") == 0, s.highlight[1]);
		CHECK(strcmp(s.highlight[2], "budget*") == 0, s.highlight[2]);
		CHECK(strcmp(s.highlight[3], "a") == 0, s.highlight[3]);
		CHECK(strcmp(s.highlight[4], "b") == 0, s.highlight[4]);
	}
	query_sql_free(&s);
	CHECK(query_compile(&s, "-(a -b)", 1, err) == VL_OK, "double negation");
	CHECK(s.nhighlight == 1 && strcmp(s.highlight[0], "b") == 0, "b is wanted again");
	query_sql_free(&s);
}

/* Every field, fed a hostile value: the value shows up only in parameters. */
static void
test_no_injection(void)
{
	static const char *fields[] = {"",
				       "from:",
				       "to:",
				       "participants:",
				       "recipients:",
				       "subject:",
				       "id:",
				       "messageid:",
				       "custodian:",
				       "hold:",
				       "matter:",
				       "filename:",
				       "attachmentnames:",
				       "counterparty:"};
	static const char *values[] = {"\"zqxj'); DROP TABLE x;--\"", "\"zqxj\\\" OR 1=1 --\"",
				       "\"zqxj\\\\'; DELETE FROM y\"", "zqxj$1;DROP*"};

	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
		for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
			char *q = xasprintf("%s%s", fields[f], values[v]), err[QUERY_ERR_MAX];
			struct query_sql s;
			enum vl_err rc = query_compile(&s, q, 1, err);

			if (rc == VL_OK) {
				CHECK(strstr(s.where, "DROP") == NULL, q);
				CHECK(strstr(s.where, "DELETE") == NULL, q);
				CHECK(strstr(s.where, "zqxj") == NULL, q);
				CHECK(strchr(s.where, ';') == NULL, q);
				CHECK(strstr(s.where, "--") == NULL, q);
				CHECK(strstr(s.where, "1=1") == NULL, q);
			} else {
				CHECK(rc == VL_ERR_PARSE, q); /* id:, custodian: take no '*' */
			}
			query_sql_free(&s);
			free(q);
		}
	}
}

/* Odd inputs do not crash: every prefix of some tricky queries compiles or fails cleanly. */
static void
test_prefixes(void)
{
	static const char *qs[] = {
		"(from:\"a\\\"b\" OR -subject:x*) NEAR/2 \"c d\" date:2001-01-01..2001-02-03",
		"a NEAR/20 \"b c d\" -(e OR f) larger:10M \xe5\xa5\x91\xe7\xb4\x84\xe6\x9b\xb8",
		"{a -b} AROUND 12 c NEAR(3) d size:1K..20M date>=2001-01-01 older_than:30d "
		"from:*@x.org",
		"amount:100000..300000 txdate>=2024-01-01 counterparty:\"\xe6\xa0\xaa\xe5\xbc\x8f "
		"x\" -amount<5.5",
	};

	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		for (size_t n = 0; n <= strlen(qs[i]); n++) {
			char *q = xasprintf("%.*s", (int)n, qs[i]), err[QUERY_ERR_MAX];
			struct query_sql s;
			enum vl_err rc = query_compile(&s, q, 1, err);

			CHECK(rc == VL_OK || rc == VL_ERR_PARSE || rc == VL_ERR_LIMIT, q);
			CHECK(rc == VL_OK || strncmp(err, "position ", 9) == 0, q);
			query_sql_free(&s);
			free(q);
		}
	}
}

/* ---- the scope: full-text terms unknown (query_compile_scope) ---- */

#define FROM1(n) "mi.addr_terms && $" #n "::text[]"
#define JEFF "{\"f:a:jeff@x\",\"s:a:jeff@x\"}"

static const struct good_case scope[] = {
	{"", "true", ""},
	{"lunch", "true", ""},
	{"\"quarterly report\" OR budget*", "true", ""},
	{"-lunch", "true", ""},
	{"a NEAR/2 b", "true", ""},
	{"subject:lunch body:gas", "true", ""},
	{"from:jeff@x", FROM1(1), JEFF},
	{"from:jeff@x lunch", FROM1(1), JEFF},
	{"lunch from:jeff@x -budget", FROM1(1), JEFF},
	{"from:jeff@x OR lunch", "true", ""},
	{"from:jeff@x AND (lunch OR has:attachment)", FROM1(1), JEFF},
	{"from:jeff@x (lunch has:attachment)", FROM1(1) " AND mi.has_attachment", JEFF},
	{"-(from:jeff@x lunch)", "true", ""},
	{"-from:jeff@x lunch", "NOT (" FROM1(1) ")", JEFF},
	{"NOT (from:jeff@x OR lunch)", "NOT (" FROM1(1) ")", JEFF},
	{"NOT (lunch OR -budget)", "true", ""},
	{"-(lunch OR has:attachment)", "NOT (mi.has_attachment)", ""},
	{"has:attachment after:2001-05-01 budget",
	 "mi.has_attachment AND mi.sent_at >= $1::timestamptz", "2001-05-01 00:00:00+00"},
	{"(from:jeff@x OR to:@y) lunch date:2001-05-01",
	 "(" FROM1(1) " OR mi.addr_terms && $2::text[]) AND (mi.sent_at >= $3::timestamptz AND "
	 "mi.sent_at < $4::timestamptz)",
	 JEFF " | {\"t:d:y\"} | 2001-05-01 00:00:00+00 | 2001-05-02 00:00:00+00"},
	{"hold:h1 OR (custodian:c lunch)",
	 "EXISTS (SELECT 1 FROM hold_messages hm JOIN holds h ON h.id = hm.hold_id WHERE h.name = "
	 "$1 AND hm.message_id = mi.message_id) OR mi.addr_terms && ARRAY(SELECT f || ':a:' || "
	 "ca.address FROM custodian_addresses ca CROSS JOIN unnest(ARRAY['f','s','t','c','b','x',"
	 "'e','r']) f WHERE ca.custodian = $2)",
	 "h1 | c"},
};

static void
test_scope(void)
{
	char err[QUERY_ERR_MAX];
	struct query_sql s;

	for (size_t i = 0; i < sizeof(scope) / sizeof(scope[0]); i++) {
		char *params;

		if (query_compile_scope(&s, scope[i].q, 1, err) != VL_OK) {
			CHECK(0, scope[i].q);
			fprintf(stderr, "\n%s: %s\n", scope[i].q, err);
			continue;
		}
		params = join(&s);
		if (strcmp(s.where, scope[i].where) != 0 || strcmp(params, scope[i].params) != 0)
			fprintf(stderr, "\n%s\n  where  %s\n  params %s\n", scope[i].q, s.where,
				params);
		CHECK(strcmp(s.where, scope[i].where) == 0, scope[i].q);
		CHECK(strcmp(params, scope[i].params) == 0, scope[i].q);
		CHECK(s.nhighlight == 0, scope[i].q);
		free(params);
		query_sql_free(&s);
	}
	/* Numbering after the caller's parameters, and the query's own refusals. */
	CHECK(query_compile_scope(&s, "from:jeff@x lunch", 4, err) == VL_OK &&
		      strcmp(s.where, FROM1(4)) == 0,
	      "first_param");
	query_sql_free(&s);
	CHECK(query_compile_scope(&s, "from:jeff@x \"!!!\"", 1, err) == VL_ERR_PARSE,
	      "a term without a searchable word is refused");
	CHECK(query_compile_scope(&s, "from:(", 1, err) == VL_ERR_PARSE, "malformed");
}

UNIT_SUITE(query, {"well-formed queries: exact SQL and parameters", test_good},
	   {"phrases, NEAR, prefixes and field weights need the rows rechecked", test_rechecks},
	   {"equivalent spellings: identical SQL and parameters", test_same},
	   {"without Bcc visibility: bcc: refused, Bcc fields and reports left out", test_hide_bcc},
	   {"malformed queries: position and reason", test_bad},
	   {"bounds: length, terms, nesting, phrase", test_bounds},
	   {"first_param numbering, bad first_param", test_first_param},
	   {"highlights: positive full-text terms only", test_highlight},
	   {"user text only ever in parameters", test_no_injection},
	   {"every prefix of tricky queries fails cleanly or compiles", test_prefixes},
	   {"scope: full-text terms unknown, exact SQL and parameters", test_scope});
