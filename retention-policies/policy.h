/* policy - retention policies as code: a policy set (JSON) and which policy a message falls
 * under. Pure: no database, no clock (the caller gives both).
 * Owns: parsing and checking a set, matching one message, "longest retention wins".
 * Not: where the message's facts come from (retention.c loads them from the archive, or
 * `vellum retention test` from a file), evaluating a "query" criterion (a callback).
 *
 * A set: {"comment": "...", "policies": [POLICY...]}; a POLICY:
 *   {"name": "sec-17a-4-comms", "comment": "source...", "retain": {"years": 3, "months": 0,
 *    "days": 0}, "from": "sent"|"received", "mode": "compliance"|"governance",
 *    "match": {"sender": [...], "recipient": [...], "address": [...], "custodian": [...],
 *              "listener": [...], "header": {"Name": "substring", ...}, "query": "..."}}
 * An address criterion value is an address ("a@b.com") or a domain ("b.com" or "@b.com",
 * matching sub-domains too). Keys of "match" are ANDed, the values of one key ORed; no
 * "match" (or an empty one) matches every message. Mode defaults to compliance; "from" to
 * "sent". Several matching: the latest retain-until wins, ties to the earlier policy. */
#ifndef VL_POLICY_H
#define VL_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "vl_err.h"

#define POLICY_MAX 256	      /* policies in a set */
#define POLICY_VALUES_MAX 1000 /* values of one criterion */

struct policy_set; /* opaque */

struct policy_header {
	const char *name, *value;
};

/* The facts about one message that policies match on. Addresses bare and lower-case. */
struct policy_msg {
	const char *const *senders;	/* From/Sender addresses and envelope MAIL FROM */
	size_t nsenders;
	const char *const *recipients;	/* To/Cc/Bcc and envelope recipients */
	size_t nrecipients;
	const char *const *custodians;
	size_t ncustodians;
	const char *const *listeners;	/* receipts' listeners (source) */
	size_t nlisteners;
	const struct policy_header *headers;
	size_t nheaders;
	int64_t sent_us, received_us;	/* microseconds since the epoch */
};

/* query_fn - does the policy's query match this message? 1 yes, 0 no, -1 cannot tell (the
 * message is not in the archive): treated as no, and said so in the reason. */
typedef int (*policy_query_fn)(void *arg, size_t policy_index, const char *query);

struct policy_result {
	int index;		/* the winning policy, -1 when none matched */
	int64_t retain_until_us;
	char why[512];		/* which criteria matched, for `retention test` */
};

/* policy_set_parse - parse and check a set from JSON text. VL_ERR_PARSE naming the policy. */
enum vl_err policy_set_parse(struct policy_set **out, const char *json, char *err) VL_MUST_CHECK;
void policy_set_free(struct policy_set *s);

size_t policy_count(const struct policy_set *s);
const char *policy_name(const struct policy_set *s, size_t i);
const char *policy_mode(const struct policy_set *s, size_t i);  /* "compliance"|"governance" */
const char *policy_query(const struct policy_set *s, size_t i); /* NULL when none */
/* policy_json - policy i as the canonical JSON text (caller frees). */
char *policy_json(const struct policy_set *s, size_t i);
/* policy_set_canonical - the whole set, canonical (sorted keys, compact): what is hashed. */
char *policy_set_canonical(const struct policy_set *s);

/* policy_match - does policy i match m? why (whylen bytes) says on what. */
int policy_match(const struct policy_set *s, size_t i, const struct policy_msg *m,
		 policy_query_fn q, void *arg, char *why, size_t whylen);

/* policy_needs_header - whether some policy matches on a header not among have[0..nhave)
 * (case-insensitive names): the caller must then read the message's own headers. */
int policy_needs_header(const struct policy_set *s, const char *const *have, size_t nhave);

/* policy_eval - every policy against m, longest wins. */
void policy_eval(const struct policy_set *s, const struct policy_msg *m, policy_query_fn q,
		 void *arg, struct policy_result *out);

/* policy_until - the retain-until policy i gives m (its base date plus its period). */
int64_t policy_until(const struct policy_set *s, size_t i, const struct policy_msg *m);

#endif
