/* policy - retention policy sets: parsed, matched, longest retention wins. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "policy.h"

struct policy {
	const char *name, *mode, *query; /* borrowed from root */
	int years, months, days;
	int from_received;
	json_t *match; /* borrowed; NULL: matches everything */
};

struct policy_set {
	json_t *root;
	struct policy *p;
	size_t n;
};

static const char *const match_keys[] = {"sender", "recipient", "address", "custodian",
					  "listener", "header", "query"};

static enum vl_err
check_values(json_t *v, const char *pname, const char *key, char *err)
{
	size_t i;
	json_t *x;

	if (strcmp(key, "query") == 0)
		return json_is_string(v) ? VL_OK
					 : vl_err_set(err, VL_ERR_PARSE, "policy %s: match.query: "
							  "a string", pname);
	if (strcmp(key, "header") == 0) {
		const char *k;

		if (!json_is_object(v))
			return vl_err_set(err, VL_ERR_PARSE, "policy %s: match.header: an object of "
					  "name: substring", pname);
		json_object_foreach(v, k, x) if (!json_is_string(x)) return vl_err_set(
			err, VL_ERR_PARSE, "policy %s: match.header.%s: a string", pname, k);
		return VL_OK;
	}
	if (!json_is_array(v) || json_array_size(v) > POLICY_VALUES_MAX)
		return vl_err_set(err, VL_ERR_PARSE, "policy %s: match.%s: an array of at most %d "
				  "strings", pname, key, POLICY_VALUES_MAX);
	json_array_foreach(v, i, x) if (!json_is_string(x)) return vl_err_set(
		err, VL_ERR_PARSE, "policy %s: match.%s[%zu]: a string", pname, key, i);
	return VL_OK;
}

static enum vl_err
parse_match(struct policy *p, json_t *m, char *err)
{
	const char *key;
	json_t *v;
	enum vl_err rc;

	if (m == NULL)
		return VL_OK;
	if (!json_is_object(m))
		return vl_err_set(err, VL_ERR_PARSE, "policy %s: match: an object", p->name);
	json_object_foreach(m, key, v) {
		size_t k;

		for (k = 0; k < sizeof(match_keys) / sizeof(match_keys[0]); k++)
			if (strcmp(key, match_keys[k]) == 0)
				break;
		if (k == sizeof(match_keys) / sizeof(match_keys[0]))
			return vl_err_set(err, VL_ERR_PARSE, "policy %s: match: unknown key '%.32s'",
					  p->name, key);
		if ((rc = check_values(v, p->name, key, err)) != VL_OK)
			return rc;
	}
	p->match = json_object_size(m) ? m : NULL;
	p->query = json_string_value(json_object_get(m, "query"));
	return VL_OK;
}

static enum vl_err
parse_policy(struct policy *p, json_t *o, size_t idx, char *err)
{
	json_t *ret = json_object_get(o, "retain");
	const char *from = json_string_value(json_object_get(o, "from"));

	if (!json_is_object(o) || (p->name = json_string_value(json_object_get(o, "name"))) == NULL)
		return vl_err_set(err, VL_ERR_PARSE, "policies[%zu]: an object with a name", idx);
	p->mode = json_string_value(json_object_get(o, "mode"));
	if (p->mode == NULL)
		p->mode = "compliance";
	if (strcmp(p->mode, "compliance") != 0 && strcmp(p->mode, "governance") != 0)
		return vl_err_set(err, VL_ERR_PARSE, "policy %s: mode: compliance or governance",
				  p->name);
	if (from && strcmp(from, "sent") != 0 && strcmp(from, "received") != 0)
		return vl_err_set(err, VL_ERR_PARSE, "policy %s: from: sent or received", p->name);
	p->from_received = from && strcmp(from, "received") == 0;
	if (!json_is_object(ret))
		return vl_err_set(err, VL_ERR_PARSE, "policy %s: retain: {\"years\": N, \"months\":"
				  " N, \"days\": N}", p->name);
	p->years = (int)json_integer_value(json_object_get(ret, "years"));
	p->months = (int)json_integer_value(json_object_get(ret, "months"));
	p->days = (int)json_integer_value(json_object_get(ret, "days"));
	if (p->years < 0 || p->years > 200 || p->months < 0 || p->months > 2400 || p->days < 0 ||
	    p->days > 73000 || p->years + p->months + p->days == 0)
		return vl_err_set(err, VL_ERR_PARSE, "policy %s: retain: a positive period of at "
				  "most 200 years", p->name);
	return parse_match(p, json_object_get(o, "match"), err);
}

enum vl_err
policy_set_parse(struct policy_set **out, const char *json, char *err)
{
	struct policy_set *s = xcalloc(1, sizeof(*s));
	json_error_t je;
	json_t *arr;
	enum vl_err rc = VL_OK;

	*out = NULL;
	if ((s->root = json_loads(json, JSON_REJECT_DUPLICATES, &je)) == NULL) {
		free(s);
		return vl_err_set(err, VL_ERR_PARSE, "line %d: %s", je.line, je.text);
	}
	arr = json_object_get(s->root, "policies");
	if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > POLICY_MAX)
		rc = vl_err_set(err, VL_ERR_PARSE, "policies: an array of 1 to %d policies",
				POLICY_MAX);
	s->n = rc == VL_OK ? json_array_size(arr) : 0;
	s->p = xcalloc(s->n + 1, sizeof(*s->p));
	for (size_t i = 0; rc == VL_OK && i < s->n; i++) {
		rc = parse_policy(&s->p[i], json_array_get(arr, i), i, err);
		for (size_t j = 0; rc == VL_OK && j < i; j++)
			if (strcmp(s->p[j].name, s->p[i].name) == 0)
				rc = vl_err_set(err, VL_ERR_PARSE, "policy %s: named twice",
						s->p[i].name);
	}
	if (rc != VL_OK) {
		policy_set_free(s);
		return rc;
	}
	*out = s;
	return VL_OK;
}

void
policy_set_free(struct policy_set *s)
{
	if (s == NULL)
		return;
	json_decref(s->root);
	free(s->p);
	free(s);
}

size_t
policy_count(const struct policy_set *s)
{
	return s->n;
}

const char *
policy_name(const struct policy_set *s, size_t i)
{
	return s->p[i].name;
}

const char *
policy_mode(const struct policy_set *s, size_t i)
{
	return s->p[i].mode;
}

const char *
policy_query(const struct policy_set *s, size_t i)
{
	return s->p[i].query;
}

char *
policy_json(const struct policy_set *s, size_t i)
{
	return json_dumps(json_array_get(json_object_get(s->root, "policies"), i),
			  JSON_INDENT(2) | JSON_SORT_KEYS);
}

char *
policy_set_canonical(const struct policy_set *s)
{
	return json_dumps(s->root, JSON_COMPACT | JSON_SORT_KEYS);
}

/* addr_match - value "a@b.com" matches that address; "b.com" or "@b.com" the domain and its
 * sub-domains. Case-insensitive. */
static int
addr_match(const char *value, const char *addr)
{
	const char *at = strrchr(addr, '@'), *d;
	size_t dl, al;

	if (value[0] != '@' && strchr(value, '@'))
		return strcasecmp(value, addr) == 0;
	d = value[0] == '@' ? value + 1 : value;
	if (at == NULL || *d == '\0')
		return 0;
	at++;
	dl = strlen(d);
	al = strlen(at);
	return strcasecmp(at, d) == 0 ||
	       (al > dl && at[al - dl - 1] == '.' && strcasecmp(at + al - dl, d) == 0);
}

/* any_value - some value of arr matches some of n facts (addresses or exact names). */
static const char *
any_value(const json_t *arr, const char *const *facts, size_t n, int addresses)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v) {
		const char *val = json_string_value(v);

		for (size_t k = 0; k < n; k++)
			if (addresses ? addr_match(val, facts[k]) : strcasecmp(val, facts[k]) == 0)
				return val;
	}
	return NULL;
}

static int
headers_match(json_t *h, const struct policy_msg *m)
{
	const char *name;
	json_t *v;

	json_object_foreach(h, name, v) {
		int found = 0;

		for (size_t k = 0; k < m->nheaders && !found; k++)
			found = strcasecmp(m->headers[k].name, name) == 0 && m->headers[k].value &&
				strcasestr(m->headers[k].value, json_string_value(v)) != NULL;
		if (!found)
			return 0;
	}
	return 1;
}

int
policy_needs_header(const struct policy_set *s, const char *const *have, size_t nhave)
{
	for (size_t i = 0; i < s->n; i++) {
		json_t *h = s->p[i].match ? json_object_get(s->p[i].match, "header") : NULL;
		const char *name;
		json_t *v;

		json_object_foreach(h, name, v) {
			size_t k = 0;

			(void)v;
			while (k < nhave && strcasecmp(have[k], name) != 0)
				k++;
			if (k == nhave)
				return 1;
		}
	}
	return 0;
}

/* criterion - one key of match against m: the matching value, or NULL. */
static const char *
criterion(const char *key, json_t *v, const struct policy_msg *m)
{
	const char *hit;

	if (strcmp(key, "sender") == 0)
		return any_value(v, m->senders, m->nsenders, 1);
	if (strcmp(key, "recipient") == 0)
		return any_value(v, m->recipients, m->nrecipients, 1);
	if (strcmp(key, "address") == 0)
		return (hit = any_value(v, m->senders, m->nsenders, 1)) != NULL
			       ? hit
			       : any_value(v, m->recipients, m->nrecipients, 1);
	if (strcmp(key, "custodian") == 0)
		return any_value(v, m->custodians, m->ncustodians, 0);
	if (strcmp(key, "listener") == 0)
		return any_value(v, m->listeners, m->nlisteners, 0);
	if (strcmp(key, "header") == 0)
		return headers_match(v, m) ? "headers" : NULL;
	return NULL;
}

int
policy_match(const struct policy_set *s, size_t i, const struct policy_msg *m,
	     policy_query_fn q, void *arg, char *why, size_t whylen)
{
	const struct policy *p = &s->p[i];
	const char *key, *hit;
	json_t *v;
	size_t used = 0;

	why[0] = '\0';
	if (p->match == NULL) {
		snprintf(why, whylen, "matches every message");
		return 1;
	}
	json_object_foreach(p->match, key, v) {
		if (strcmp(key, "query") == 0) {
			int r = q ? q(arg, i, p->query) : -1;

			if (r <= 0) {
				snprintf(why, whylen, r < 0 ? "query not evaluated (not archived)"
							    : "query does not match");
				return 0;
			}
			hit = "query";
		} else if ((hit = criterion(key, v, m)) == NULL) {
			snprintf(why, whylen, "%s does not match", key);
			return 0;
		}
		if (used < whylen)
			used += (size_t)snprintf(why + used, whylen - used, "%s%s=%s",
						 used ? ", " : "", key, hit);
	}
	return 1;
}

int64_t
policy_until(const struct policy_set *s, size_t i, const struct policy_msg *m)
{
	const struct policy *p = &s->p[i];
	int64_t base = p->from_received ? m->received_us : m->sent_us;
	time_t t = (time_t)(base / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	tm.tm_year += p->years;
	tm.tm_mon += p->months;
	tm.tm_mday += p->days;
	return (int64_t)timegm(&tm) * 1000000 + base % 1000000;
}

void
policy_eval(const struct policy_set *s, const struct policy_msg *m, policy_query_fn q,
	    void *arg, struct policy_result *out)
{
	char why[sizeof(out->why)];

	out->index = -1;
	out->retain_until_us = 0;
	snprintf(out->why, sizeof(out->why), "no policy matches");
	for (size_t i = 0; i < s->n; i++) {
		int64_t u;

		if (!policy_match(s, i, m, q, arg, why, sizeof(why)))
			continue;
		u = policy_until(s, i, m);
		if (out->index < 0 || u > out->retain_until_us) {
			out->index = (int)i;
			out->retain_until_us = u;
			snprintf(out->why, sizeof(out->why), "%s", why);
		}
	}
}
