/* test_export - the pure parts of evidence export: DAT and CSV quoting (loadfile), mboxrd
 * escaping and its reversal (mboxrd), the manifest line format and the signed folder check
 * (manifest). */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fsutil.h"
#include "loadfile.h"
#include "manifest.h"
#include "mboxrd.h"
#include "unit.h"
#include "zip.h"

static void
fields_of(const char *f[LF__COUNT], const char *subject, const char *to)
{
	for (int i = 0; i < LF__COUNT; i++)
		f[i] = NULL;
	f[LF_BEGDOC] = "VL0000001";
	f[LF_SUBJECT] = subject;
	f[LF_TO] = to;
}

static void
test_csv(void)
{
	static const struct {
		const char *subject, *want;
	} cases[] = {
		{"plain", "\"plain\""},
		{"say \"hi\", ok", "\"say \"\"hi\"\", ok\""},
		{"two\r\nlines", "\"two\r\nlines\""},
		{"", "\"\""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = {0};
		const char *f[LF__COUNT];

		fields_of(f, cases[i].subject, NULL);
		loadfile_row(&b, LOADFILE_CSV, f);
		CHECK(strstr((char *)b.data, cases[i].want) != NULL, cases[i].subject);
		CHECK(b.len > 2 && memcmp(b.data + b.len - 2, "\r\n", 2) == 0, cases[i].subject);
		CHECK(strncmp((char *)b.data, "\"VL0000001\",\"VL", 0) == 0, cases[i].subject);
		buf_free(&b);
	}
}

/* loadfile_csv_row: the rows of unindexed.csv, quoted as the load file's. */
static void
test_csv_row(void)
{
	const char *f[] = {"7", NULL, "say \"hi\", ok", "two\r\nlines"};
	struct buf b = {0};

	loadfile_csv_row(&b, f, 4);
	CHECK(b.len == strlen("\"7\",\"\",\"say \"\"hi\"\", ok\",\"two\r\nlines\"\r\n") &&
		      strcmp((char *)b.data, "\"7\",\"\",\"say \"\"hi\"\", ok\",\"two\r\nlines\"\r\n") == 0,
	      "four fields, NULL empty, quotes doubled, CRLF kept inside quotes");
	buf_free(&b);
}

static void
test_dat(void)
{
	struct buf b = {0};
	const char *f[LF__COUNT];

	fields_of(f, "a\r\nb\nc\rd", "x\xc3\xbey\x14z");
	loadfile_row(&b, LOADFILE_DAT, f);
	/* þVL0000001þ¶þþ... : qualifier U+00FE, separator 0x14, newline U+00AE */
	CHECK(memcmp(b.data, "\xc3\xbeVL0000001\xc3\xbe\x14", 13) == 0, "first field");
	CHECK(strstr((char *)b.data, "\xc3\xbe" "a\xc2\xae" "b\xc2\xae" "c\xc2\xae" "d\xc3\xbe") != NULL,
	      "CRLF, LF, CR as one ® each");
	CHECK(strstr((char *)b.data, "\xc3\xbex y z\xc3\xbe") != NULL,
	      "þ and U+0014 inside a value become spaces");
	size_t seps = 0;
	for (size_t i = 0; i < b.len; i++)
		seps += b.data[i] == 0x14;
	CHECK(seps == LF__COUNT - 1, "one separator between fields");
	buf_free(&b);
	loadfile_start(&b, LOADFILE_DAT);
	CHECK(memcmp(b.data, "\xef\xbb\xbf\xc3\xbe" "BEGDOC\xc3\xbe", 11) == 0, "BOM then header");
	CHECK(strstr((char *)b.data, "ATTACHMENT NAMES") != NULL, "header names");
	buf_free(&b);
}

/* A caller without Bcc visibility gets no BCC column at all: not in the header, not in a row;
 * the other columns keep their order. The errors file's rows are quoted as the CSV is. */
static void
test_omit_bcc(void)
{
	const char *f[LF__COUNT];
	const char *e[3] = {"7", "<a\"b@x>", NULL};
	struct buf b = {0};

	for (int i = 0; i < LF__COUNT; i++)
		f[i] = loadfile_col_name((enum loadfile_col)i);
	f[LF_BCC] = "hidden@x";
	loadfile_start_omit(&b, LOADFILE_CSV, LOADFILE_OMIT(LF_BCC));
	CHECK(strstr((char *)b.data, "\"BCC\"") == NULL, "no BCC in the CSV header");
	CHECK(strstr((char *)b.data, "\"CC\",\"SUBJECT\"") != NULL, "CC then SUBJECT");
	buf_reset(&b);
	loadfile_row_omit(&b, LOADFILE_DAT, f, LOADFILE_OMIT(LF_BCC));
	CHECK(strstr((char *)b.data, "hidden@x") == NULL, "no BCC value in a DAT row");
	size_t seps = 0;
	for (size_t i = 0; i < b.len; i++)
		seps += b.data[i] == 0x14;
	CHECK(seps == LF__COUNT - 2, "one column fewer");
	buf_reset(&b);
	loadfile_csv_row(&b, e, 3);
	CHECK(strcmp((char *)b.data, "\"7\",\"<a\"\"b@x>\",\"\"\r\n") == 0, "errors row");
	buf_free(&b);
}

/* unescape - the mboxrd reader's rule: ^>(>*From ) loses one '>'. */
static void
unescape(struct buf *out, const uint8_t *p, size_t n)
{
	int bol = 1;

	for (size_t i = 0; i < n; i++) {
		if (bol && p[i] == '>') {
			size_t k = i;

			while (k < n && p[k] == '>')
				k++;
			if (n - k >= 5 && memcmp(p + k, "From ", 5) == 0)
				i++;
		}
		buf_append(out, p + i, 1);
		bol = p[i] == '\n';
	}
}

static void
test_mboxrd(void)
{
	static const char *msgs[] = {
		"Subject: x\n\nFrom here\n>From there\n>>From everywhere\nFro\nFrom\n",
		"From the start\n",
		">>>>>>>>>",
		"no newline at end",
		"Fr",
		"",
	};
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		for (size_t chunk = 1; chunk <= 7; chunk += 3) {
			struct buf out = {0}, back = {0};
			struct mboxrd m;
			const char *s = msgs[i];
			size_t n = strlen(s), hdr;

			mboxrd_begin(&m, 0, &out);
			CHECK(strncmp((char *)out.data, "From MAILER-DAEMON Thu Jan  1 00:00:00 1970\n",
				      out.len) == 0, "separator line");
			hdr = out.len;
			for (size_t at = 0; at < n; at += chunk)
				mboxrd_feed(&m, (const uint8_t *)s + at, n - at < chunk ? n - at : chunk,
					    &out);
			mboxrd_end(&m, &out);
			CHECK(out.len >= hdr + 1 && out.data[out.len - 1] == '\n', s);
			/* no unescaped "From " at a line start inside the message */
			for (size_t k = hdr; k + 5 <= out.len; k++)
				CHECK(!((k == hdr || out.data[k - 1] == '\n') &&
					memcmp(out.data + k, "From ", 5) == 0), s);
			unescape(&back, out.data + hdr, out.len - hdr - 1); /* the blank line */
			if (n == 0 || s[n - 1] != '\n')
				back.len--; /* the newline an mbox adds */
			CHECK(back.len == n && memcmp(back.data ? (char *)back.data : "", s, n) == 0, s);
			buf_free(&out);
			buf_free(&back);
		}
	}
}

static void
test_manifest_line(void)
{
	uint8_t sha[32];
	struct buf b = {0};

	crypto_hash_sha256(sha, (const uint8_t *)"abc", 3);
	manifest_line(&b, sha, "data/messages/VL0000001.eml");
	CHECK(strcmp((char *)b.data, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
				     "  data/messages/VL0000001.eml\n") == 0,
	      "sha256sum's format");
	buf_free(&b);
}

static void
put(const char *dir, const char *rel, const char *text)
{
	char path[512], err[VL_ERRLEN];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	CU_ASSERT_FATAL(fs_write_atomic(path, text, strlen(text), 0644, err) == VL_OK);
}

/* make_bag - a minimal signed export folder in dir: one data file. */
static void
make_bag(const char *dir, const uint8_t seed[32], uint8_t pk[32])
{
	struct buf man = {0}, tags = {0}, info = {0};
	char path[512], pkhex[65], sighex[130];
	uint8_t sha[32], sig[64];

	snprintf(path, sizeof(path), "%s/data", dir);
	CU_ASSERT_FATAL(mkdir(path, 0755) == 0);
	put(dir, "data/a.eml", "Subject: a\n\nhello\n");
	crypto_hash_sha256(sha, (const uint8_t *)"Subject: a\n\nhello\n", 18);
	manifest_line(&man, sha, "data/a.eml");
	buf_append(&man, "", 1);
	put(dir, MANIFEST_FILE, (char *)man.data);
	manifest_public_key(seed, pk);
	hex_encode(pkhex, pk, 32);
	buf_appendf(&info, "{\"public_key\": \"%s\"}\n", pkhex);
	put(dir, MANIFEST_INFO_FILE, (char *)info.data);
	crypto_hash_sha256(sha, man.data, man.len - 1);
	manifest_line(&tags, sha, MANIFEST_FILE);
	crypto_hash_sha256(sha, info.data, info.len);
	manifest_line(&tags, sha, MANIFEST_INFO_FILE);
	put(dir, MANIFEST_TAG_FILE, (char *)tags.data);
	manifest_sign(seed, tags.data, tags.len, sig, NULL);
	hex_encode(sighex, sig, 64);
	strcat(sighex, "\n");
	put(dir, MANIFEST_SIG_FILE, sighex);
	buf_free(&man);
	buf_free(&tags);
	buf_free(&info);
}

static void
test_verify_dir(void)
{
	char dir[] = "/tmp/vl-test-export.XXXXXX", path[512], err[VL_ERRLEN];
	uint8_t seed[32], pk[32], other[32];
	struct manifest_check chk;
	FILE *devnull = fopen("/dev/null", "w");

	CU_ASSERT_FATAL(mkdtemp(dir) != NULL && devnull != NULL);
	randombytes_buf(seed, sizeof(seed));
	make_bag(dir, seed, pk);
	CHECK(manifest_verify_dir(dir, NULL, devnull, &chk, err) == VL_OK && chk.bad == 0 &&
		      chk.files == 1, "a good folder");
	CHECK(manifest_verify_dir(dir, pk, devnull, &chk, err) == VL_OK && chk.bad == 0 &&
		      chk.pinned, "pinned to its key");
	randombytes_buf(other, sizeof(other));
	CHECK(manifest_verify_dir(dir, other, devnull, &chk, err) == VL_OK && chk.bad > 0,
	      "another key");
	put(dir, "data/a.eml", "Subject: a\n\nhellO\n");
	CHECK(manifest_verify_dir(dir, NULL, devnull, &chk, err) == VL_OK && chk.bad == 1,
	      "a changed byte");
	put(dir, "data/a.eml", "Subject: a\n\nhello\n");
	put(dir, "data/b.eml", "extra");
	CHECK(manifest_verify_dir(dir, NULL, devnull, &chk, err) == VL_OK && chk.bad == 1,
	      "an unlisted file");
	snprintf(path, sizeof(path), "%s/%s", dir, MANIFEST_SIG_FILE);
	unlink(path);
	CHECK(manifest_verify_dir(dir, NULL, devnull, &chk, err) == VL_ERR_CORRUPT,
	      "no signature");
	fclose(devnull);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	CU_ASSERT(system(path) == 0);
}

static void
test_crc32(void)
{
	CHECK(zip_crc32(0, "123456789", 9) == 0xcbf43926u, "the check value");
	CHECK(zip_crc32(zip_crc32(0, "1234", 4), "56789", 5) == 0xcbf43926u, "in pieces");
	CHECK(zip_crc32(0, "", 0) == 0, "empty");
}

UNIT_SUITE(export, {"CRC-32 of the ZIP writer", test_crc32}, {"CSV: quotes doubled, CRLF rows", test_csv},
	   {"CSV rows of n fields (unindexed.csv)", test_csv_row},
	   {"DAT: þ ¶ ®, BOM and header", test_dat},
	   {"no BCC column without Bcc visibility; errors rows", test_omit_bcc},
	   {"mboxrd: escapes any chunking, reverses exactly", test_mboxrd},
	   {"manifest line: what sha256sum -c reads", test_manifest_line},
	   {"verify a signed folder: key, byte, extra file, no signature", test_verify_dir});
