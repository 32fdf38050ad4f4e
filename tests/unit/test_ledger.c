/* test_ledger - the canonical entry encoding, the chain and the subjects of archiver/ledger.{c,h},
 * checked against archiver/FORMAT.md ("Ledger"): the bytes are rebuilt here by hand and hashed
 * with OpenSSL EVP directly, and fixed vectors (computed with Python's hashlib) pin the result.
 * ledger_head_load and ledger_walk need PostgreSQL and are left to the integration tests. */
#include <CUnit/CUnit.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ledger.h"
#include "unit.h"

#define KAT_DOMAIN "vellum-ledger-v1"

/* ---- an independent encoder ---- */

/* canon - bytes appended to a fixed buffer, integers big-endian as FORMAT.md says. */
struct canon {
	uint8_t b[256];
	size_t len;
};

static void
canon_bytes(struct canon *c, const void *p, size_t n)
{
	CU_ASSERT_FATAL(c->len + n <= sizeof(c->b));
	memcpy(c->b + c->len, p, n);
	c->len += n;
}

static void
canon_be(struct canon *c, uint64_t v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		uint8_t byte = (uint8_t)(v >> (8 * i));

		canon_bytes(c, &byte, 1);
	}
}

static void
sha256(uint8_t out[32], const void *p, size_t n)
{
	CU_ASSERT_FATAL(EVP_Digest(p, n, out, NULL, EVP_sha256(), NULL) == 1);
}

/* want_entry - SHA-256("vellum-ledger-v1" || seq BE8 || kind 1 || at_us BE8 || subject32 ||
 * prev32), built byte by byte. */
static void
want_entry(uint8_t out[32], uint64_t seq, int kind, int64_t at_us, const uint8_t subject[32],
	   const uint8_t prev[32])
{
	struct canon c = {.len = 0};
	uint8_t k = (uint8_t)kind;

	canon_bytes(&c, KAT_DOMAIN, strlen(KAT_DOMAIN));
	canon_be(&c, seq, 8);
	canon_bytes(&c, &k, 1);
	canon_be(&c, (uint64_t)at_us, 8);
	canon_bytes(&c, subject, 32);
	canon_bytes(&c, prev, 32);
	CU_ASSERT_FATAL(c.len == 16 + 8 + 1 + 8 + 32 + 32);
	sha256(out, c.b, c.len);
}

static void
unhex(uint8_t *out, size_t n, const char *hex)
{
	CU_ASSERT_FATAL(strlen(hex) == 2 * n);
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		CU_ASSERT_FATAL(sscanf(hex + 2 * i, "%2x", &v) == 1);
		out[i] = (uint8_t)v;
	}
}

static void
fill_seq(uint8_t out[32], uint8_t from)
{
	for (int i = 0; i < 32; i++)
		out[i] = (uint8_t)(from + i);
}

/* ---- entry hash ---- */

struct entry_case {
	const char *label;
	uint64_t seq;
	int kind;
	int64_t at_us;
	uint8_t subject_from, prev_from; /* subject[i] = from + i (prev likewise) */
	int subject_const, prev_const;	 /* or every byte this value (when >= 0) */
	const char *want;		 /* hex from hashlib, or NULL: EVP only */
};

static const struct entry_case entry_cases[] = {
    {"first entry, zero prev", 1, LEDGER_MESSAGE, 1700000000123456LL, 0, 0, -1, 0,
     "0d671d362ce20824c1b0c0794f2e78c20e3f4af1df57cf530f713f26bfbcb68d"},
    {"byte order of seq, negative at_us", 0x0102030405060708ULL, LEDGER_DISPOSAL, -2, 0, 32, 0xaa,
     -1, "7f632cafd96e257038d90b13fa608b5ddff5aa9ca8a651fcbee4db8e89c8a60b"},
    {"receipt, at 0", 2, LEDGER_RECEIPT, 0, 7, 100, -1, -1, NULL},
    {"segment, max seq", UINT64_MAX, LEDGER_SEGMENT, INT64_MAX, 1, 2, -1, -1, NULL},
    {"dictionary, min at", 77, LEDGER_DICTIONARY, INT64_MIN, 0, 0, 0xff, 0xff, NULL},
};

static void
entry_case_inputs(const struct entry_case *c, uint8_t subject[32], uint8_t prev[32])
{
	fill_seq(subject, c->subject_from);
	fill_seq(prev, c->prev_from);
	if (c->subject_const >= 0)
		memset(subject, c->subject_const, 32);
	if (c->prev_const >= 0)
		memset(prev, c->prev_const, 32);
}

static void
test_entry_hash_known_answers(void)
{
	for (size_t i = 0; i < sizeof(entry_cases) / sizeof(entry_cases[0]); i++) {
		const struct entry_case *c = &entry_cases[i];
		uint8_t subject[32], prev[32], got[LEDGER_HASH_LEN], want[32], fixed[32];

		entry_case_inputs(c, subject, prev);
		memset(got, 0x5c, sizeof(got));
		ledger_entry_hash(got, c->seq, (enum ledger_kind)c->kind, c->at_us, subject, prev);
		want_entry(want, c->seq, c->kind, c->at_us, subject, prev);
		CHECK(memcmp(got, want, 32) == 0, c->label);
		if (c->want) {
			unhex(fixed, 32, c->want);
			CHECK(memcmp(got, fixed, 32) == 0, c->label);
		}
	}
}

/* Every input is committed to: changing any one changes the hash. */
static void
test_entry_hash_every_input_counts(void)
{
	const uint64_t seq = 5;
	const int64_t at = 1700000000000000LL;
	uint8_t subject[32], prev[32], base[32], h[32];
	char label[64];

	fill_seq(subject, 0x10);
	fill_seq(prev, 0x80);
	ledger_entry_hash(base, seq, LEDGER_MESSAGE, at, subject, prev);

	ledger_entry_hash(h, seq, LEDGER_MESSAGE, at, subject, prev);
	CHECK(memcmp(h, base, 32) == 0, "deterministic");
	ledger_entry_hash(h, seq + 1, LEDGER_MESSAGE, at, subject, prev);
	CHECK(memcmp(h, base, 32) != 0, "seq");
	ledger_entry_hash(h, seq | (1ULL << 63), LEDGER_MESSAGE, at, subject, prev);
	CHECK(memcmp(h, base, 32) != 0, "seq high bit");
	for (int k = LEDGER_RECEIPT; k <= LEDGER_DISPOSAL; k++) {
		ledger_entry_hash(h, seq, (enum ledger_kind)k, at, subject, prev);
		CHECK(memcmp(h, base, 32) != 0, "kind");
	}
	ledger_entry_hash(h, seq, LEDGER_MESSAGE, at + 1, subject, prev);
	CHECK(memcmp(h, base, 32) != 0, "at_us");
	ledger_entry_hash(h, seq, LEDGER_MESSAGE, at ^ INT64_MIN, subject, prev);
	CHECK(memcmp(h, base, 32) != 0, "at_us high bit");
	for (int i = 0; i < 32; i++) {
		subject[i] ^= 1;
		ledger_entry_hash(h, seq, LEDGER_MESSAGE, at, subject, prev);
		subject[i] ^= 1;
		snprintf(label, sizeof(label), "subject byte %d", i);
		CHECK(memcmp(h, base, 32) != 0, label);
		prev[i] ^= 0x80;
		ledger_entry_hash(h, seq, LEDGER_MESSAGE, at, subject, prev);
		prev[i] ^= 0x80;
		snprintf(label, sizeof(label), "prev byte %d", i);
		CHECK(memcmp(h, base, 32) != 0, label);
	}
}

/* ---- the chain ---- */

static void
test_append_chains(void)
{
	static const struct {
		int kind;
		int64_t at_us;
		uint8_t subject_from;
	} steps[] = {
	    {LEDGER_MESSAGE, 1700000000000001LL, 1}, {LEDGER_MESSAGE, 1700000000000002LL, 2},
	    {LEDGER_RECEIPT, 1700000000000002LL, 3}, {LEDGER_DICTIONARY, 1700000000000003LL, 4},
	    {LEDGER_SEGMENT, 1700000000000004LL, 5},
	};
	struct ledger_head head = {0}, other = {0};
	uint8_t prev[32] = {0}, subject[32], want[32];
	uint8_t seen[5][32];
	char label[64];

	for (size_t i = 0; i < 5; i++) {
		snprintf(label, sizeof(label), "step %zu", i + 1);
		fill_seq(subject, steps[i].subject_from);
		ledger_append(&head, (enum ledger_kind)steps[i].kind, steps[i].at_us, subject);
		CHECK(head.seq == i + 1, label);
		/* The new head is the entry over (seq, ..., prev = the old head's hash). */
		want_entry(want, i + 1, steps[i].kind, steps[i].at_us, subject, prev);
		CHECK(memcmp(head.hash, want, 32) == 0, label);
		ledger_entry_hash(want, head.seq, (enum ledger_kind)steps[i].kind, steps[i].at_us,
				  subject, prev);
		CHECK(memcmp(head.hash, want, 32) == 0, label);
		memcpy(prev, head.hash, 32);
		memcpy(seen[i], head.hash, 32);
	}
	for (size_t i = 0; i < 5; i++)
		for (size_t j = i + 1; j < 5; j++)
			CHECK(memcmp(seen[i], seen[j], 32) != 0, "heads differ");

	/* A chain that differs in one early entry differs at every later head. */
	for (size_t i = 0; i < 5; i++) {
		fill_seq(subject, steps[i].subject_from);
		if (i == 1)
			subject[31] ^= 1;
		ledger_append(&other, (enum ledger_kind)steps[i].kind, steps[i].at_us, subject);
		snprintf(label, sizeof(label), "forked chain step %zu", i + 1);
		if (i < 1)
			CHECK(memcmp(other.hash, seen[i], 32) == 0, label);
		else
			CHECK(memcmp(other.hash, seen[i], 32) != 0, label);
	}
}

/* Appending continues from a loaded head: seq and prev are taken from it, not from zero. */
static void
test_append_from_loaded_head(void)
{
	struct ledger_head head = {.seq = 41};
	uint8_t subject[32], want[32], prev[32];

	fill_seq(head.hash, 0xc0);
	memcpy(prev, head.hash, 32);
	fill_seq(subject, 9);
	ledger_append(&head, LEDGER_RECEIPT, -5, subject);
	CU_ASSERT_EQUAL(head.seq, 42);
	want_entry(want, 42, LEDGER_RECEIPT, -5, subject, prev);
	CU_ASSERT(memcmp(head.hash, want, 32) == 0);
}

/* ---- subjects ---- */

static void
test_subject_message(void)
{
	static const struct {
		const char *label;
		uint8_t address, sha;
		uint64_t raw_size, segment_id, offset;
		const char *want;
	} cases[] = {
	    {"fixed vector", 0x11, 0x22, 123456789, 42, 0x0102030405ULL,
	     "45798abf237c2af5f41229e596e397ecf3a2af90d9639233ab0f6c0f00f13c82"},
	    {"zeros", 0, 0, 0, 0, 0, NULL},
	    {"max", 0xff, 0xfe, UINT64_MAX, UINT64_MAX - 1, UINT64_MAX - 2, NULL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t address[32], sha[32], got[32], want[32], fixed[32];
		struct canon c = {.len = 0};

		memset(address, cases[i].address, 32);
		memset(sha, cases[i].sha, 32);
		canon_bytes(&c, "message", 7);
		canon_bytes(&c, address, 32);
		canon_bytes(&c, sha, 32);
		canon_be(&c, cases[i].raw_size, 8);
		canon_be(&c, cases[i].segment_id, 8);
		canon_be(&c, cases[i].offset, 8);
		sha256(want, c.b, c.len);
		ledger_subject_message(got, address, sha, cases[i].raw_size, cases[i].segment_id,
				       cases[i].offset);
		CHECK(memcmp(got, want, 32) == 0, cases[i].label);
		if (cases[i].want) {
			unhex(fixed, 32, cases[i].want);
			CHECK(memcmp(got, fixed, 32) == 0, cases[i].label);
		}
	}
}

static void
test_subject_segment(void)
{
	static const struct {
		const char *label;
		uint64_t id, size;
		uint8_t sha;
		const char *want;
	} cases[] = {
	    {"fixed vector", 7, 268435456, 0x33,
	     "a702a64986b649943a6be874473e0e8f01247d936ae65c584e37ee345efa50c4"},
	    {"zeros", 0, 0, 0, NULL},
	    {"byte order", 0x0102030405060708ULL, 0x1112131415161718ULL, 0x99, NULL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t sha[32], got[32], want[32], fixed[32];
		struct canon c = {.len = 0};

		memset(sha, cases[i].sha, 32);
		canon_bytes(&c, "segment", 7);
		canon_be(&c, cases[i].id, 8);
		canon_be(&c, cases[i].size, 8);
		canon_bytes(&c, sha, 32);
		sha256(want, c.b, c.len);
		ledger_subject_segment(got, cases[i].id, cases[i].size, sha);
		CHECK(memcmp(got, want, 32) == 0, cases[i].label);
		if (cases[i].want) {
			unhex(fixed, 32, cases[i].want);
			CHECK(memcmp(got, fixed, 32) == 0, cases[i].label);
		}
	}
}

static void
test_subject_dictionary(void)
{
	static const struct {
		const char *label;
		uint32_t dict_id;
		uint8_t sha;
		uint64_t segment_id, offset;
		const char *want;
	} cases[] = {
	    {"fixed vector", 0xDEADBEEFu, 0x44, 3, 4096,
	     "294d39383282e2f2a3925c2449da603c3eff7f15e0d9d5de78b5710e402f2baa"},
	    {"dict id 1", 1, 0x44, 3, 4096, NULL},
	    {"byte order", 0x01020304u, 0x55, 0x0a0b0c0d0e0f1011ULL, 0x2122232425262728ULL, NULL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t sha[32], got[32], want[32], fixed[32];
		struct canon c = {.len = 0};

		memset(sha, cases[i].sha, 32);
		/* FORMAT.md: "dictionary" || segment id || offset || dict id(4) || SHA-256. */
		canon_bytes(&c, "dictionary", 10);
		canon_be(&c, cases[i].segment_id, 8);
		canon_be(&c, cases[i].offset, 8);
		canon_be(&c, cases[i].dict_id, 4);
		canon_bytes(&c, sha, 32);
		sha256(want, c.b, c.len);
		ledger_subject_dictionary(got, cases[i].dict_id, sha, cases[i].segment_id,
					  cases[i].offset);
		CHECK(memcmp(got, want, 32) == 0, cases[i].label);
		if (cases[i].want) {
			unhex(fixed, 32, cases[i].want);
			CHECK(memcmp(got, fixed, 32) == 0, cases[i].label);
		}
	}
}

/* Each field of each subject is committed to, and the kinds are domain-separated. */
static void
test_subject_every_input_counts(void)
{
	uint8_t a[32], s[32], base[32], h[32], seg[32], dict[32];

	memset(a, 1, 32);
	memset(s, 2, 32);
	ledger_subject_message(base, a, s, 10, 20, 30);
	ledger_subject_message(h, a, s, 11, 20, 30);
	CHECK(memcmp(h, base, 32) != 0, "message raw_size");
	ledger_subject_message(h, a, s, 10, 21, 30);
	CHECK(memcmp(h, base, 32) != 0, "message segment_id");
	ledger_subject_message(h, a, s, 10, 20, 31);
	CHECK(memcmp(h, base, 32) != 0, "message offset");
	ledger_subject_message(h, s, a, 10, 20, 30);
	CHECK(memcmp(h, base, 32) != 0, "message address and sha swapped");
	a[31] ^= 1;
	ledger_subject_message(h, a, s, 10, 20, 30);
	a[31] ^= 1;
	CHECK(memcmp(h, base, 32) != 0, "message address");
	s[0] ^= 1;
	ledger_subject_message(h, a, s, 10, 20, 30);
	s[0] ^= 1;
	CHECK(memcmp(h, base, 32) != 0, "message sha256");

	ledger_subject_segment(base, 20, 30, s);
	ledger_subject_segment(h, 21, 30, s);
	CHECK(memcmp(h, base, 32) != 0, "segment id");
	ledger_subject_segment(h, 20, 31, s);
	CHECK(memcmp(h, base, 32) != 0, "segment size");
	ledger_subject_segment(h, 30, 20, s);
	CHECK(memcmp(h, base, 32) != 0, "segment id and size swapped");
	s[5] ^= 1;
	ledger_subject_segment(h, 20, 30, s);
	s[5] ^= 1;
	CHECK(memcmp(h, base, 32) != 0, "segment sha256");
	memcpy(seg, base, 32);

	ledger_subject_dictionary(base, 9, s, 20, 30);
	ledger_subject_dictionary(h, 8, s, 20, 30);
	CHECK(memcmp(h, base, 32) != 0, "dictionary id");
	ledger_subject_dictionary(h, 9 | 0x80000000u, s, 20, 30);
	CHECK(memcmp(h, base, 32) != 0, "dictionary id high byte");
	ledger_subject_dictionary(h, 9, s, 21, 30);
	CHECK(memcmp(h, base, 32) != 0, "dictionary segment_id");
	ledger_subject_dictionary(h, 9, s, 20, 31);
	CHECK(memcmp(h, base, 32) != 0, "dictionary offset");
	s[31] ^= 1;
	ledger_subject_dictionary(h, 9, s, 20, 30);
	s[31] ^= 1;
	CHECK(memcmp(h, base, 32) != 0, "dictionary sha256");
	memcpy(dict, base, 32);

	CHECK(memcmp(seg, dict, 32) != 0, "segment vs dictionary");
}

/* ---- kind names ---- */

static void
test_kind_names(void)
{
	static const struct {
		int kind;
		const char *name;
	} cases[] = {
	    {LEDGER_MESSAGE, "message"},   {LEDGER_RECEIPT, "receipt"},
	    {LEDGER_SEGMENT, "segment"},   {LEDGER_DICTIONARY, "dictionary"},
	    {LEDGER_DISPOSAL, "disposal"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *name = ledger_kind_name((enum ledger_kind)cases[i].kind);

		CHECK(name != NULL && strcmp(name, cases[i].name) == 0, cases[i].name);
		CHECK(ledger_kind_parse(cases[i].name) == cases[i].kind, cases[i].name);
		CHECK(ledger_kind_parse(name) == cases[i].kind, cases[i].name);
	}
	/* The enum values are stored as the kind byte of every entry: they must not move. */
	CU_ASSERT_EQUAL(LEDGER_MESSAGE, 1);
	CU_ASSERT_EQUAL(LEDGER_RECEIPT, 2);
	CU_ASSERT_EQUAL(LEDGER_SEGMENT, 3);
	CU_ASSERT_EQUAL(LEDGER_DICTIONARY, 4);
	CU_ASSERT_EQUAL(LEDGER_DISPOSAL, 5);
}

static void
test_kind_unknown(void)
{
	static const char *const unknown[] = {
	    "",		"?",	     "Message",	   "MESSAGE", "messages", "messag", " message",
	    "message ", "message\n", "checkpoint", "seal",    "abandon",  "1",	    "disposal2",
	};

	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		CHECK(ledger_kind_parse(unknown[i]) == -1, unknown[i]);
	/* Out-of-range kinds have a name that parses as nothing. */
	CHECK(strcmp(ledger_kind_name((enum ledger_kind)0), "?") == 0, "kind 0");
	CHECK(strcmp(ledger_kind_name((enum ledger_kind)6), "?") == 0, "kind 6");
	CHECK(strcmp(ledger_kind_name((enum ledger_kind) - 1), "?") == 0, "kind -1");
	CHECK(ledger_kind_parse(ledger_kind_name((enum ledger_kind)0)) == -1, "kind 0 parse");
}

UNIT_SUITE(ledger,
	   {"entry hash: known answers (EVP over FORMAT.md bytes, fixed vectors)",
	    test_entry_hash_known_answers},
	   {"entry hash: every input changes the hash", test_entry_hash_every_input_counts},
	   {"append: seq increments, prev links, forks diverge", test_append_chains},
	   {"append: continues from a loaded head", test_append_from_loaded_head},
	   {"subject: message encoding", test_subject_message},
	   {"subject: segment encoding", test_subject_segment},
	   {"subject: dictionary encoding", test_subject_dictionary},
	   {"subject: every field counts", test_subject_every_input_counts},
	   {"kind: name/parse round trip", test_kind_names},
	   {"kind: unknown names -> -1, unknown kinds -> \"?\"", test_kind_unknown});
