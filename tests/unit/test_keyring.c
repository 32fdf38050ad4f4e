/* test_keyring - archiver/keyring.{c,h}: generating, loading, rotating and refusing key files,
 * checked against archiver/FORMAT.md ("Keyring") by reading the file text here and deriving
 * the sealing subkeys and fingerprints with libsodium directly. */
#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "keyring.h"
#include "unit.h"

#define HEX_A "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define HEX_S "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff0123456789abcdef0123456789abcdef"
#define HEX_1 "1111111111111111111111111111111111111111111111111111111111111111"
#define HEX_2 "2222222222222222222222222222222222222222222222222222222222222222"
/* Not keys: a non-hex pair, 63 digits, a 'g' at the end. */
#define HEX_ZZ "zz22222222222222222222222222222222222222222222222222222222222222"
#define HEX_63 "222222222222222222222222222222222222222222222222222222222222222"
#define HEX_G "222222222222222222222222222222222222222222222222222222222222222g"

/* ---- a scratch directory with one keyring path in it ---- */

struct tmp {
	char dir[UNIT_TMP_MAX];
	char path[UNIT_TMP_MAX + 16];
};

static void
tmp_init(struct tmp *t)
{
	unit_tmpdir_new(t->dir, "keyring");
	snprintf(t->path, sizeof(t->path), "%s/keyring", t->dir);
}

static void
tmp_done(struct tmp *t)
{
	CU_ASSERT(unit_tmpdir_free(t->dir) == 0);
}

/* put - write text to t->path with exactly mode (whatever the umask). */
static void
put(const struct tmp *t, const char *text, mode_t mode)
{
	int fd = open(t->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	CU_ASSERT_FATAL(fchmod(fd, mode) == 0);
	CU_ASSERT_FATAL(close(fd) == 0);
}

/* slurp - the whole file as a NUL-terminated string (caller frees). */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s = xcalloc(1, KEYRING_FILE_MAX + 1);

	CU_ASSERT_FATAL(f != NULL);
	(void)fread(s, 1, KEYRING_FILE_MAX, f);
	fclose(f);
	return s;
}

/* ---- the file as FORMAT.md describes it, read independently ---- */

struct parsed {
	uint8_t address[32], signing[32];
	int have_address, have_signing, magic;
	size_t n;
	uint32_t id[16];
	long long created[16];
	uint8_t master[16][32];
	char master_hex[16][65];
};

static int
unhex32(uint8_t out[32], const char *hex)
{
	if (strlen(hex) != 64)
		return -1;
	for (int i = 0; i < 32; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

static void
parse_file(struct parsed *p, const char *path)
{
	char *text = slurp(path), *save = NULL;

	memset(p, 0, sizeof(*p));
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char hex[80];
		unsigned id;
		long long created;

		if (strcmp(line, "vellum-keyring 1") == 0) {
			p->magic = 1;
		} else if (sscanf(line, "address %79s", hex) == 1) {
			p->have_address = unhex32(p->address, hex) == 0;
		} else if (sscanf(line, "signing %79s", hex) == 1) {
			p->have_signing = unhex32(p->signing, hex) == 0;
		} else if (sscanf(line, "key %u %lld %79s", &id, &created, hex) == 3) {
			CU_ASSERT_FATAL(p->n < 16);
			CU_ASSERT_FATAL(unhex32(p->master[p->n], hex) == 0);
			snprintf(p->master_hex[p->n], 65, "%s", hex);
			p->id[p->n] = id;
			p->created[p->n] = created;
			p->n++;
		} else {
			CU_ASSERT_FATAL(line[0] == '#');
		}
	}
	sodium_memzero(text, KEYRING_FILE_MAX);
	free(text);
}

/* want_seal - FORMAT.md: crypto_kdf subkey 1, context "vlseal01", of the master key. */
static void
want_seal(uint8_t out[32], const uint8_t master[32])
{
	CU_ASSERT_FATAL(crypto_kdf_derive_from_key(out, 32, 1, "vlseal01", master) == 0);
}

/* want_fingerprint - keyring.h: the first 8 bytes of BLAKE2b(key) (the 16-byte output), hex. */
static void
want_fingerprint(char out[17], const uint8_t master[32])
{
	uint8_t h[16];

	crypto_generichash(h, sizeof(h), master, 32, NULL, 0);
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

static int
is_lower_hex(const char *s, size_t n)
{
	if (strlen(s) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* check_matches_file - every key the keyring serves is the one the file holds. */
static void
check_matches_file(const struct keyring *kr, const char *path, const char *what)
{
	struct parsed p;
	const struct keyring_entry *e;
	size_t n;

	parse_file(&p, path);
	CHECK(p.magic && p.have_address && p.have_signing, what);
	CHECK(memcmp(keyring_address_key(kr), p.address, 32) == 0, what);
	CHECK(memcmp(keyring_sign_seed(kr), p.signing, 32) == 0, what);
	e = keyring_entries(kr, &n);
	CHECK(n == p.n, what);
	for (size_t i = 0; i < n && i < p.n; i++) {
		uint8_t seal[32];
		char fp[17];
		const uint8_t *got = keyring_seal_key(kr, p.id[i]);

		CHECK(e[i].id == p.id[i] && e[i].created == p.created[i], what);
		want_seal(seal, p.master[i]);
		CHECK(got != NULL && memcmp(got, seal, 32) == 0, what);
		/* The master key itself never serves as a sealing key. */
		CHECK(got != NULL && memcmp(got, p.master[i], 32) != 0, what);
		want_fingerprint(fp, p.master[i]);
		CHECK(strcmp(e[i].fingerprint, fp) == 0, what);
	}
	if (p.n > 0)
		CHECK(keyring_current_id(kr) == p.id[p.n - 1], what);
	sodium_memzero(&p, sizeof(p));
}

/* ---- generate and load ---- */

static void
test_generate(void)
{
	struct tmp t;
	struct keyring *kr = NULL;
	const struct keyring_entry *e;
	char err[VL_ERRLEN] = "";
	struct stat st;
	struct parsed p;
	time_t t0 = time(NULL), t1;
	size_t n;
	mode_t old = umask(0);

	tmp_init(&t);
	CU_ASSERT_EQUAL_FATAL(keyring_generate(t.path, err), VL_OK);
	umask(old);
	t1 = time(NULL);
	CU_ASSERT_FATAL(stat(t.path, &st) == 0);
	CU_ASSERT(S_ISREG(st.st_mode));
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600); /* even under umask 0 */

	CU_ASSERT_EQUAL_FATAL(keyring_load(&kr, t.path, err), VL_OK);
	CU_ASSERT_EQUAL(keyring_current_id(kr), 1);
	e = keyring_entries(kr, &n);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_EQUAL(e[0].id, 1);
	CU_ASSERT(e[0].created >= t0 && e[0].created <= t1);
	check_matches_file(kr, t.path, "generated");

	/* Fresh random keys: three different, none all zero. */
	parse_file(&p, t.path);
	CU_ASSERT(memcmp(p.address, p.signing, 32) != 0);
	CU_ASSERT(memcmp(p.address, p.master[0], 32) != 0);
	CU_ASSERT(memcmp(p.signing, p.master[0], 32) != 0);
	CU_ASSERT(!sodium_is_zero(p.address, 32) && !sodium_is_zero(p.master[0], 32));
	CU_ASSERT(!sodium_is_zero(p.signing, 32));
	sodium_memzero(&p, sizeof(p));
	keyring_free(kr);
	tmp_done(&t);
}

static void
test_generate_twice_differs(void)
{
	struct tmp a, b;
	struct keyring *ka, *kb;
	char err[VL_ERRLEN] = "";

	tmp_init(&a);
	tmp_init(&b);
	CU_ASSERT_EQUAL_FATAL(keyring_generate(a.path, err), VL_OK);
	CU_ASSERT_EQUAL_FATAL(keyring_generate(b.path, err), VL_OK);
	CU_ASSERT_EQUAL_FATAL(keyring_load(&ka, a.path, err), VL_OK);
	CU_ASSERT_EQUAL_FATAL(keyring_load(&kb, b.path, err), VL_OK);
	CU_ASSERT(memcmp(keyring_address_key(ka), keyring_address_key(kb), 32) != 0);
	CU_ASSERT(memcmp(keyring_sign_seed(ka), keyring_sign_seed(kb), 32) != 0);
	CU_ASSERT(memcmp(keyring_seal_key(ka, 1), keyring_seal_key(kb, 1), 32) != 0);
	keyring_free(ka);
	keyring_free(kb);
	tmp_done(&a);
	tmp_done(&b);
}

static void
test_generate_never_overwrites(void)
{
	static const struct {
		const char *label;
		const char *text; /* NULL: a generated keyring */
		mode_t mode;
	} cases[] = {
	    {"generated keyring", NULL, 0600},
	    {"empty file", "", 0600},
	    {"unrelated file", "precious data\n", 0644},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tmp t;
		char err[VL_ERRLEN] = "", *before, *after;
		struct stat st0, st1;

		tmp_init(&t);
		if (cases[i].text)
			put(&t, cases[i].text, cases[i].mode);
		else
			CU_ASSERT_EQUAL_FATAL(keyring_generate(t.path, err), VL_OK);
		CU_ASSERT_FATAL(stat(t.path, &st0) == 0);
		before = slurp(t.path);
		CHECK(keyring_generate(t.path, err) == VL_ERR_EXISTS, cases[i].label);
		CHECK(err[0] != 0, cases[i].label);
		after = slurp(t.path);
		CU_ASSERT_FATAL(stat(t.path, &st1) == 0);
		CHECK(strcmp(before, after) == 0, cases[i].label);
		CHECK(st0.st_ino == st1.st_ino && (st0.st_mode & 07777) == (st1.st_mode & 07777),
		      cases[i].label);
		free(before);
		free(after);
		tmp_done(&t);
	}
}

static void
test_load_missing(void)
{
	struct tmp t;
	struct keyring *kr = (struct keyring *)&t; /* any non-NULL value: load must clear it */
	char err[VL_ERRLEN] = "";

	tmp_init(&t);
	CU_ASSERT_EQUAL(keyring_load(&kr, t.path, err), VL_ERR_NOKEY);
	CU_ASSERT_PTR_NULL(kr);
	CU_ASSERT(err[0] != 0);
	tmp_done(&t);
}

/* A keyring readable (or writable) by anyone but its owner is refused, whatever its content. */
static void
test_load_mode(void)
{
	static const struct {
		mode_t mode;
		enum vl_err want;
	} cases[] = {
	    {0600, VL_OK},	   {0400, VL_OK},	  {0644, VL_ERR_CONFIG},
	    {0640, VL_ERR_CONFIG}, {0604, VL_ERR_CONFIG}, {0660, VL_ERR_CONFIG},
	    {0602, VL_ERR_CONFIG}, {0610, VL_ERR_CONFIG}, {0601, VL_ERR_CONFIG},
	    {0666, VL_ERR_CONFIG},
	};
	struct tmp t;
	char *text;
	char err[VL_ERRLEN] = "";

	tmp_init(&t);
	CU_ASSERT_EQUAL_FATAL(keyring_generate(t.path, err), VL_OK);
	text = slurp(t.path);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct keyring *kr = NULL;
		char label[32];
		enum vl_err rc;

		snprintf(label, sizeof(label), "mode %04o", (unsigned)cases[i].mode);
		put(&t, text, cases[i].mode);
		rc = keyring_load(&kr, t.path, err);
		CHECK(rc == cases[i].want, label);
		CHECK((rc == VL_OK) == (kr != NULL), label);
		keyring_free(kr);
	}
	sodium_memzero(text, strlen(text));
	free(text);
	tmp_done(&t);
}

/* ---- rotate ---- */

static void
test_rotate(void)
{
	struct tmp t;
	struct keyring *before = NULL, *after = NULL, *again = NULL;
	const struct keyring_entry *e;
	char err[VL_ERRLEN] = "";
	uint32_t id = 0;
	struct stat st;
	size_t n;

	tmp_init(&t);
	CU_ASSERT_EQUAL_FATAL(keyring_generate(t.path, err), VL_OK);
	CU_ASSERT_EQUAL_FATAL(keyring_load(&before, t.path, err), VL_OK);
	CU_ASSERT_EQUAL_FATAL(keyring_rotate(t.path, &id, err), VL_OK);
	CU_ASSERT_EQUAL(id, 2);
	CU_ASSERT_FATAL(stat(t.path, &st) == 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);

	CU_ASSERT_EQUAL_FATAL(keyring_load(&after, t.path, err), VL_OK);
	CU_ASSERT_EQUAL(keyring_current_id(after), 2);
	e = keyring_entries(after, &n);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT(e[0].id == 1 && e[1].id == 2);
	CU_ASSERT(strcmp(e[0].fingerprint, keyring_entries(before, &n)[0].fingerprint) == 0);
	CU_ASSERT(strcmp(e[0].fingerprint, e[1].fingerprint) != 0);
	/* Old records stay readable: key 1's sealing key is unchanged. */
	CU_ASSERT_PTR_NOT_NULL_FATAL(keyring_seal_key(after, 1));
	CU_ASSERT_PTR_NOT_NULL_FATAL(keyring_seal_key(after, 2));
	CU_ASSERT(memcmp(keyring_seal_key(after, 1), keyring_seal_key(before, 1), 32) == 0);
	CU_ASSERT(memcmp(keyring_seal_key(after, 2), keyring_seal_key(after, 1), 32) != 0);
	/* Addresses never change: deduplication survives rotation. The signing seed stays too. */
	CU_ASSERT(memcmp(keyring_address_key(after), keyring_address_key(before), 32) == 0);
	CU_ASSERT(memcmp(keyring_sign_seed(after), keyring_sign_seed(before), 32) == 0);
	CU_ASSERT_PTR_NULL(keyring_seal_key(after, 0));
	CU_ASSERT_PTR_NULL(keyring_seal_key(after, 3));
	check_matches_file(after, t.path, "rotated once");

	CU_ASSERT_EQUAL_FATAL(keyring_rotate(t.path, &id, err), VL_OK);
	CU_ASSERT_EQUAL(id, 3);
	CU_ASSERT_EQUAL_FATAL(keyring_load(&again, t.path, err), VL_OK);
	CU_ASSERT_EQUAL(keyring_current_id(again), 3);
	CU_ASSERT(memcmp(keyring_seal_key(again, 1), keyring_seal_key(before, 1), 32) == 0);
	CU_ASSERT(memcmp(keyring_seal_key(again, 2), keyring_seal_key(after, 2), 32) == 0);
	CU_ASSERT(memcmp(keyring_seal_key(again, 3), keyring_seal_key(again, 2), 32) != 0);
	CU_ASSERT(memcmp(keyring_seal_key(again, 3), keyring_seal_key(again, 1), 32) != 0);
	CU_ASSERT(memcmp(keyring_address_key(again), keyring_address_key(before), 32) == 0);
	check_matches_file(again, t.path, "rotated twice");
	keyring_free(before);
	keyring_free(after);
	keyring_free(again);
	tmp_done(&t);
}

/* Rotation continues from the highest id, even when ids have gaps. */
static void
test_rotate_after_gap(void)
{
	struct tmp t;
	struct keyring *kr = NULL;
	char err[VL_ERRLEN] = "";
	uint32_t id = 0;

	tmp_init(&t);
	put(&t,
	    "vellum-keyring 1\naddress " HEX_A "\nsigning " HEX_S "\nkey 3 1700000000 " HEX_1
	    "\nkey 9 1700000100 " HEX_2 "\n",
	    0600);
	CU_ASSERT_EQUAL_FATAL(keyring_rotate(t.path, &id, err), VL_OK);
	CU_ASSERT_EQUAL(id, 10);
	CU_ASSERT_EQUAL_FATAL(keyring_load(&kr, t.path, err), VL_OK);
	CU_ASSERT_EQUAL(keyring_current_id(kr), 10);
	check_matches_file(kr, t.path, "gap");
	keyring_free(kr);
	tmp_done(&t);
}

static void
test_rotate_missing(void)
{
	struct tmp t;
	char err[VL_ERRLEN] = "";
	uint32_t id = 0;

	tmp_init(&t);
	CU_ASSERT_EQUAL(keyring_rotate(t.path, &id, err), VL_ERR_NOKEY);
	CU_ASSERT(access(t.path, F_OK) != 0); /* nothing created */
	tmp_done(&t);
}

/* ---- hand-written files ---- */

/* A file written by hand (comments, blank lines, gaps in ids) serves exactly its keys. */
static void
test_load_hand_written(void)
{
	struct tmp t;
	struct keyring *kr = NULL;
	const struct keyring_entry *e;
	char err[VL_ERRLEN] = "";
	uint8_t a[32], s[32];
	size_t n;

	tmp_init(&t);
	put(&t,
	    "# comment\n\nvellum-keyring 1\n# another\naddress " HEX_A "\nsigning " HEX_S
	    "\n\nkey 3 1700000000 " HEX_1 "\nkey 7 -5 " HEX_2,
	    0600);
	CU_ASSERT_EQUAL_FATAL(keyring_load(&kr, t.path, err), VL_OK);
	CU_ASSERT_FATAL(unhex32(a, HEX_A) == 0 && unhex32(s, HEX_S) == 0);
	CU_ASSERT(memcmp(keyring_address_key(kr), a, 32) == 0);
	CU_ASSERT(memcmp(keyring_sign_seed(kr), s, 32) == 0);
	CU_ASSERT_EQUAL(keyring_current_id(kr), 7);
	e = keyring_entries(kr, &n);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT(e[0].id == 3 && e[0].created == 1700000000);
	CU_ASSERT(e[1].id == 7 && e[1].created == -5); /* last line without a newline */
	CU_ASSERT_PTR_NULL(keyring_seal_key(kr, 1));
	CU_ASSERT_PTR_NULL(keyring_seal_key(kr, 4));
	check_matches_file(kr, t.path, "hand written");
	keyring_free(kr);
	tmp_done(&t);
}

struct bad_case {
	const char *label;
	const char *text;
};

#define HEAD "vellum-keyring 1\naddress " HEX_A "\nsigning " HEX_S "\n"

static const struct bad_case bad_cases[] = {
    {"missing magic", "address " HEX_A "\nsigning " HEX_S "\nkey 1 0 " HEX_1 "\n"},
    {"wrong magic version",
     "vellum-keyring 2\naddress " HEX_A "\nsigning " HEX_S "\nkey 1 0 " HEX_1 "\n"},
    {"magic with trailing text",
     "vellum-keyring 1 x\naddress " HEX_A "\nsigning " HEX_S "\nkey 1 0 " HEX_1 "\n"},
    {"empty file", ""},
    {"comments only", "# vellum-keyring 1\n"},
    {"no key line", HEAD},
    {"address: not hex",
     "vellum-keyring 1\naddress " HEX_ZZ "\nsigning " HEX_S "\nkey 1 0 " HEX_1 "\n"},
    {"address: 63 digits",
     "vellum-keyring 1\naddress " HEX_63 "\nsigning " HEX_S "\nkey 1 0 " HEX_1 "\n"},
    {"address: 66 digits",
     "vellum-keyring 1\naddress 00" HEX_A "\nsigning " HEX_S "\nkey 1 0 " HEX_1 "\n"},
    {"address: no value", "vellum-keyring 1\naddress\nsigning " HEX_S "\nkey 1 0 " HEX_1 "\n"},
    {"signing: not hex",
     "vellum-keyring 1\naddress " HEX_A "\nsigning " HEX_G "\nkey 1 0 " HEX_1 "\n"},
    {"key: not hex", HEAD "key 1 0 " HEX_ZZ "\n"},
    {"key: short hex", HEAD "key 1 0 " HEX_63 "\n"},
    {"key: id 0", HEAD "key 0 0 " HEX_1 "\n"},
    {"key: no created", HEAD "key 1 " HEX_1 "\n"},
    {"key: no hex", HEAD "key 1 0\n"},
    {"key: ids decrease", HEAD "key 2 0 " HEX_1 "\nkey 1 0 " HEX_2 "\n"},
    {"key: ids repeat", HEAD "key 2 0 " HEX_1 "\nkey 2 0 " HEX_2 "\n"},
    {"unknown item", HEAD "key 1 0 " HEX_1 "\nbucket 1 " HEX_2 "\n"},
    {"unknown item: capitalised", HEAD "Key 1 0 " HEX_1 "\n"},
    {"leading space", HEAD " key 1 0 " HEX_1 "\n"},
};

static void
test_load_malformed(void)
{
	struct tmp t;

	tmp_init(&t);
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct keyring *kr = (struct keyring *)&t;
		char err[VL_ERRLEN] = "";
		uint32_t id = 0;

		put(&t, bad_cases[i].text, 0600);
		CHECK(keyring_load(&kr, t.path, err) == VL_ERR_CONFIG, bad_cases[i].label);
		CHECK(kr == NULL, bad_cases[i].label);
		CHECK(err[0] != 0, bad_cases[i].label);
		/* Rotation refuses it too, and leaves the file alone. */
		CHECK(keyring_rotate(t.path, &id, err) == VL_ERR_CONFIG, bad_cases[i].label);
		{
			char *now = slurp(t.path);

			CHECK(strcmp(now, bad_cases[i].text) == 0, bad_cases[i].label);
			free(now);
		}
	}
	tmp_done(&t);
}

/* ---- fingerprints ---- */

static void
test_fingerprints(void)
{
	struct tmp t;
	struct keyring *kr = NULL;
	const struct keyring_entry *e;
	char err[VL_ERRLEN] = "";
	char hex[65];
	struct parsed p;
	uint32_t id;
	size_t n;

	tmp_init(&t);
	CU_ASSERT_EQUAL_FATAL(keyring_generate(t.path, err), VL_OK);
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL_FATAL(keyring_rotate(t.path, &id, err), VL_OK);
	CU_ASSERT_EQUAL_FATAL(keyring_load(&kr, t.path, err), VL_OK);
	parse_file(&p, t.path);
	e = keyring_entries(kr, &n);
	CU_ASSERT_EQUAL_FATAL(n, 4);
	CU_ASSERT_EQUAL_FATAL(p.n, 4);
	for (size_t i = 0; i < n; i++) {
		char label[32];

		snprintf(label, sizeof(label), "key %u", e[i].id);
		CHECK(is_lower_hex(e[i].fingerprint, 16), label);
		/* Safe to print: no 16-hex window of any secret appears in it, nor it in them. */
		for (size_t k = 0; k < n; k++) {
			CHECK(strstr(p.master_hex[k], e[i].fingerprint) == NULL, label);
			hex_encode(hex, keyring_seal_key(kr, e[k].id), 32);
			CHECK(strstr(hex, e[i].fingerprint) == NULL, label);
		}
		hex_encode(hex, keyring_address_key(kr), 32);
		CHECK(strstr(hex, e[i].fingerprint) == NULL, label);
		hex_encode(hex, keyring_sign_seed(kr), 32);
		CHECK(strstr(hex, e[i].fingerprint) == NULL, label);
		for (size_t k = i + 1; k < n; k++)
			CHECK(strcmp(e[i].fingerprint, e[k].fingerprint) != 0, label);
	}
	/* Different keys, different sealing keys. */
	for (size_t i = 0; i < n; i++)
		for (size_t k = i + 1; k < n; k++)
			CU_ASSERT(memcmp(keyring_seal_key(kr, e[i].id),
					 keyring_seal_key(kr, e[k].id), 32) != 0);
	sodium_memzero(hex, sizeof(hex));
	sodium_memzero(&p, sizeof(p));
	keyring_free(kr);
	tmp_done(&t);
}

/* ---- incomplete keyrings and id exhaustion ---- */

/* A keyring without its address or signing line is refused: loading it once served the
 * uninitialised sodium_malloc bytes (0xdb...) as those keys. */
static void
test_kb_missing_address_or_signing(void)
{
	static const struct bad_case cases[] = {
	    {"no address line", "vellum-keyring 1\nsigning " HEX_S "\nkey 1 0 " HEX_1 "\n"},
	    {"no signing line", "vellum-keyring 1\naddress " HEX_A "\nkey 1 0 " HEX_1 "\n"},
	};
	struct tmp t;

	tmp_init(&t);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct keyring *kr = NULL;
		char err[VL_ERRLEN] = "";

		put(&t, cases[i].text, 0600);
		CHECK(keyring_load(&kr, t.path, err) == VL_ERR_CONFIG, cases[i].label);
		keyring_free(kr);
	}
	tmp_done(&t);
}

/* Rotating a keyring whose newest id is KEYRING_ID_MAX must refuse (VL_ERR_LIMIT) and leave
 * the file loadable (it once wrapped to "key 0 ...", which load refuses). */
static void
test_kb_rotate_id_overflow(void)
{
	static const char text[] = HEAD "key 2147483647 0 " HEX_1 "\n";
	struct tmp t;
	struct keyring *kr = NULL;
	char err[VL_ERRLEN] = "";
	uint32_t id = 0;

	tmp_init(&t);
	put(&t, text, 0600);
	CU_ASSERT_NOT_EQUAL(keyring_rotate(t.path, &id, err), VL_OK);
	CU_ASSERT_EQUAL(keyring_load(&kr, t.path, err), VL_OK);
	keyring_free(kr);
	tmp_done(&t);
}

UNIT_SUITE(keyring, {"generate: 0600 file, one key, matches the file", test_generate},
	   {"generate: fresh random keys each time", test_generate_twice_differs},
	   {"generate: never overwrites (VL_ERR_EXISTS)", test_generate_never_overwrites},
	   {"load: missing file -> VL_ERR_NOKEY", test_load_missing},
	   {"load: group/other bits -> VL_ERR_CONFIG", test_load_mode},
	   {"rotate: id 2 current, key 1 and address unchanged", test_rotate},
	   {"rotate: continues from the highest id", test_rotate_after_gap},
	   {"rotate: missing file -> VL_ERR_NOKEY, nothing created", test_rotate_missing},
	   {"load: hand-written file, subkeys derived per FORMAT.md", test_load_hand_written},
	   {"load: malformed files -> VL_ERR_CONFIG", test_load_malformed},
	   {"fingerprints: 16 hex, distinct, no key material", test_fingerprints},
	   {"load: missing address/signing line refused", test_kb_missing_address_or_signing},
	   {"rotate: refuses past KEYRING_ID_MAX", test_kb_rotate_id_overflow});
