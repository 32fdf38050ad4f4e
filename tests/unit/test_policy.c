/* test_policy - retention policy sets: parsing refusals, each criterion's matching (table),
 * longest retention wins, periods counted from the sent or received date. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy.h"
#include "unit.h"

static const char set_json[] =
	"{\"policies\": ["
	" {\"name\": \"default\", \"retain\": {\"years\": 1}},"
	" {\"name\": \"legal\", \"retain\": {\"years\": 7}, \"match\": {\"sender\": [\"legal.example\"]}},"
	" {\"name\": \"bob\", \"retain\": {\"years\": 3}, \"match\": {\"recipient\": [\"bob@client.example\"]}},"
	" {\"name\": \"any-addr\", \"retain\": {\"years\": 2}, \"match\": {\"address\": [\"@partner.example\"]}},"
	" {\"name\": \"cust\", \"retain\": {\"years\": 4}, \"match\": {\"custodian\": [\"jeff\"]}},"
	" {\"name\": \"smtp\", \"retain\": {\"months\": 18}, \"from\": \"received\", \"match\": {\"listener\": [\"mx1\"]}},"
	" {\"name\": \"hdr\", \"retain\": {\"years\": 5}, \"match\": {\"header\": {\"X-Class\": \"trade\"}}},"
	" {\"name\": \"q\", \"retain\": {\"years\": 6}, \"mode\": \"governance\", \"match\": {\"query\": \"subject:x\"}},"
	" {\"name\": \"and\", \"retain\": {\"years\": 10}, \"match\": {\"sender\": [\"a@corp.example\"], \"recipient\": [\"z@corp.example\"]}}"
	"]}";

struct pcase {
	const char *label;
	const char *sender, *recipient, *custodian, *listener, *hname, *hvalue;
	int query; /* what the query callback answers */
	const char *want; /* winning policy */
	int want_years;	  /* from the sent date; -18 for 18 months from received */
};

static const struct pcase cases[] = {
	{"nothing special: default", "x@corp.example", "y@corp.example", NULL, NULL, NULL, NULL, 0,
	 "default", 1},
	{"sender domain", "counsel@legal.example", "y@corp.example", NULL, NULL, NULL, NULL, 0,
	 "legal", 7},
	{"sender sub-domain", "c@ny.legal.example", "y@corp.example", NULL, NULL, NULL, NULL, 0,
	 "legal", 7},
	{"not a suffix label", "c@illegal.example", "y@corp.example", NULL, NULL, NULL, NULL, 0,
	 "default", 1},
	{"recipient address, any case", "x@corp.example", "Bob@Client.example", NULL, NULL, NULL,
	 NULL, 0, "bob", 3},
	{"sender is not recipient", "bob@client.example", "y@corp.example", NULL, NULL, NULL, NULL,
	 0, "default", 1},
	{"address: either side", "x@corp.example", "p@partner.example", NULL, NULL, NULL, NULL, 0,
	 "any-addr", 2},
	{"custodian", "x@corp.example", "y@corp.example", "jeff", NULL, NULL, NULL, 0, "cust", 4},
	{"listener, from received", "x@corp.example", "y@corp.example", NULL, "mx1", NULL, NULL, 0,
	 "smtp", -18},
	{"header substring, name any case", "x@corp.example", "y@corp.example", NULL, NULL,
	 "x-class", "equity trade confirm", 0, "hdr", 5},
	{"query via callback", "x@corp.example", "y@corp.example", NULL, NULL, NULL, NULL, 1, "q",
	 6},
	{"longest wins over several", "counsel@legal.example", "bob@client.example", "jeff", NULL,
	 NULL, NULL, 1, "legal", 7},
	{"keys AND: both needed", "a@corp.example", "z@corp.example", NULL, NULL, NULL, NULL, 0,
	 "and", 10},
	{"keys AND: one is not enough", "a@corp.example", "y@corp.example", NULL, NULL, NULL, NULL,
	 0, "default", 1},
};

static int
qcb(void *arg, size_t i, const char *q)
{
	(void)i;
	(void)q;
	return *(const int *)arg;
}

static int64_t
plus(int64_t us, int years, int months)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	tm.tm_year += years;
	tm.tm_mon += months;
	return (int64_t)timegm(&tm) * 1000000;
}

static void
test_match_table(void)
{
	struct policy_set *s = NULL;
	char err[VL_ERRLEN];

	CU_ASSERT_FATAL(policy_set_parse(&s, set_json, err) == VL_OK);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pcase *c = &cases[i];
		const char *snd[] = {c->sender}, *rcp[] = {c->recipient};
		const char *cus[] = {c->custodian}, *lis[] = {c->listener};
		struct policy_header h = {c->hname, c->hvalue};
		struct policy_msg m = {.senders = snd, .nsenders = 1, .recipients = rcp,
				       .nrecipients = 1, .custodians = cus,
				       .ncustodians = c->custodian != NULL, .listeners = lis,
				       .nlisteners = c->listener != NULL, .headers = &h,
				       .nheaders = c->hname != NULL,
				       .sent_us = 1704067200LL * 1000000,      /* 2024-01-01 */
				       .received_us = 1717200000LL * 1000000}; /* 2024-06-01 */
		struct policy_result r;
		int q = c->query;

		policy_eval(s, &m, qcb, &q, &r);
		CHECK(r.index >= 0 && strcmp(policy_name(s, (size_t)r.index), c->want) == 0,
		      c->label);
		CHECK(r.retain_until_us == (c->want_years > 0 ? plus(m.sent_us, c->want_years, 0)
							       : plus(m.received_us, 0, -c->want_years)),
		      c->label);
	}
	policy_set_free(s);
}

static void
test_no_match_and_unevaluated_query(void)
{
	struct policy_set *s = NULL;
	char err[VL_ERRLEN];
	const char *snd[] = {"x@y.example"};
	struct policy_msg m = {.senders = snd, .nsenders = 1, .sent_us = 0};
	struct policy_result r;

	CU_ASSERT_FATAL(policy_set_parse(&s, "{\"policies\": [{\"name\": \"q\", \"retain\": "
					    "{\"days\": 30}, \"match\": {\"query\": \"a\"}}]}",
					 err) == VL_OK);
	policy_eval(s, &m, NULL, NULL, &r);
	CHECK(r.index == -1, "a query that cannot be evaluated does not match");
	CHECK(strstr(r.why, "not evaluated") != NULL || strstr(r.why, "no policy") != NULL,
	      "why says so");
	policy_set_free(s);
}

static void
test_parse_refusals(void)
{
	static const char *const bad[] = {
		"", "{}", "{\"policies\": []}",
		"{\"policies\": [{\"retain\": {\"years\": 1}}]}",
		"{\"policies\": [{\"name\": \"a\"}]}",
		"{\"policies\": [{\"name\": \"a\", \"retain\": {\"years\": 0}}]}",
		"{\"policies\": [{\"name\": \"a\", \"retain\": {\"years\": 1}, \"mode\": \"soft\"}]}",
		"{\"policies\": [{\"name\": \"a\", \"retain\": {\"years\": 1}, \"from\": \"x\"}]}",
		"{\"policies\": [{\"name\": \"a\", \"retain\": {\"years\": 1}, \"match\": {\"color\": [\"red\"]}}]}",
		"{\"policies\": [{\"name\": \"a\", \"retain\": {\"years\": 1}, \"match\": {\"sender\": \"x\"}}]}",
		"{\"policies\": [{\"name\": \"a\", \"retain\": {\"years\": 1}}, {\"name\": \"a\", \"retain\": {\"years\": 2}}]}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct policy_set *s = NULL;
		char err[VL_ERRLEN];

		CHECK(policy_set_parse(&s, bad[i], err) == VL_ERR_PARSE && s == NULL, bad[i]);
	}
}

static void
test_canonical_stable(void)
{
	struct policy_set *a = NULL, *b = NULL;
	char err[VL_ERRLEN], *ca, *cb;

	CU_ASSERT_FATAL(policy_set_parse(&a, "{\"policies\": [{\"retain\": {\"years\": 1}, "
					    "\"name\": \"d\"}]}", err) == VL_OK);
	CU_ASSERT_FATAL(policy_set_parse(&b, "{ \"policies\" : [ { \"name\" : \"d\", "
					    "\"retain\" : { \"years\" : 1 } } ] }", err) == VL_OK);
	ca = policy_set_canonical(a);
	cb = policy_set_canonical(b);
	CHECK(strcmp(ca, cb) == 0, "canonical text ignores key order and spacing");
	free(ca);
	free(cb);
	policy_set_free(a);
	policy_set_free(b);
}

UNIT_SUITE(policy, {"matching table and longest wins", test_match_table},
	   {"no match; a query without the archive", test_no_match_and_unevaluated_query},
	   {"malformed sets are refused", test_parse_refusals},
	   {"canonical form is stable", test_canonical_stable})
