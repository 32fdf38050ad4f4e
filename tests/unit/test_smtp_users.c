/* test_smtp_users - the SMTP AUTH credentials file: add/check/remove, the file round trip,
 * a change on disk noticed, a damaged file failing closed. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "smtp_users.h"
#include "unit.h"

static void
write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CU_ASSERT_FATAL(f != NULL);
	fputs(text, f);
	CU_ASSERT_FATAL(fclose(f) == 0);
}

static void
test_users_add_check_remove(void)
{
	struct smtp_users u = {0};
	char a[SMTP_SECRET_LEN + 1], b[SMTP_SECRET_LEN + 1], bad[SMTP_SECRET_LEN + 1];
	char err[VL_ERRLEN];

	CHECK(smtp_users_add(&u, "relay1", 1000, a, err) == VL_OK, "add");
	CHECK(smtp_users_add(&u, "relay2", 1001, b, err) == VL_OK, "add another");
	CHECK(strlen(a) == SMTP_SECRET_LEN && strncmp(a, "vsm_", 4) == 0, "format");
	CHECK(strcmp(a, b) != 0, "two secrets differ");
	CHECK(smtp_users_check(&u, "relay1", a) == 1, "right secret");
	CHECK(smtp_users_check(&u, "relay1", b) == 0, "another user's secret");
	CHECK(smtp_users_check(&u, "relay3", a) == 0, "unknown user");
	memcpy(bad, a, sizeof(bad));
	bad[20] = bad[20] == 'A' ? 'B' : 'A';
	CHECK(smtp_users_check(&u, "relay1", bad) == 0, "one character changed");
	CHECK(smtp_users_check(&u, "relay1", "") == 0, "empty");
	CHECK(smtp_users_check(&u, "relay1", "vsm_short") == 0, "short");
	CHECK(smtp_users_add(&u, "relay1", 1002, bad, err) == VL_ERR_EXISTS, "name taken");
	CHECK(smtp_users_add(&u, "a b", 1002, bad, err) == VL_ERR_PARSE, "bad name");
	CHECK(smtp_users_add(&u, "x:y", 1002, bad, err) == VL_ERR_PARSE, "colon in name");
	CHECK(smtp_users_remove(&u, "relay1", err) == VL_OK, "remove");
	CHECK(smtp_users_check(&u, "relay1", a) == 0, "removed user refused");
	CHECK(smtp_users_check(&u, "relay2", b) == 1, "the other still works");
	CHECK(smtp_users_remove(&u, "relay1", err) == VL_ERR_NOTFOUND, "remove twice");
	smtp_users_free(&u);
}

static void
test_users_file(void)
{
	char dir[UNIT_TMP_MAX], path[UNIT_TMP_MAX + 32], err[VL_ERRLEN], s1[SMTP_SECRET_LEN + 1];
	char s2[SMTP_SECRET_LEN + 1];
	struct smtp_users w = {0}, r = {0};
	struct buf text = {0};

	unit_tmpdir_new(dir, "smtpusers");
	snprintf(path, sizeof(path), "%s/smtp-users", dir);
	CHECK(smtp_users_load(&r, path, err) == VL_OK && r.n == 0, "missing file: no users");
	CHECK(smtp_users_add(&w, "relay1", 1764300000, s1, err) == VL_OK, "add");
	CHECK(smtp_users_save(&w, path, err) == VL_OK, "save");
	CHECK(fs_read_all(&text, path, 1 << 20, err) == VL_OK, "read back");
	buf_append(&text, "", 1);
	CHECK(strstr((char *)text.data, "relay1:") != NULL, "name in the file");
	CHECK(strstr((char *)text.data, s1) == NULL && strstr((char *)text.data, s1 + 4) == NULL,
	      "the secret is not in the file");
	buf_free(&text);
	CHECK(access(path, R_OK) == 0, "file there");

	CHECK(smtp_users_refresh(&r, path, err) == VL_OK && r.n == 1, "refresh sees the new file");
	CHECK(smtp_users_check(&r, "relay1", s1) == 1, "checked from the file");
	CHECK(r.v[0].created == 1764300000, "created kept");

	/* A second user written by another process: noticed without a restart. */
	CHECK(smtp_users_add(&w, "relay2", 1764300001, s2, err) == VL_OK, "add relay2");
	CHECK(smtp_users_save(&w, path, err) == VL_OK, "save again");
	CHECK(smtp_users_refresh(&r, path, err) == VL_OK && r.n == 2, "refresh sees relay2");
	CHECK(smtp_users_check(&r, "relay2", s2) == 1, "relay2 accepted");
	CHECK(smtp_users_refresh(&r, path, err) == VL_OK && r.n == 2, "unchanged: still two");

	/* Damaged: nobody authenticates until it is mended. */
	write_text(path, "# comment\nrelay1:zz:1\n");
	CHECK(smtp_users_refresh(&r, path, err) == VL_ERR_PARSE && r.n == 0, "bad hash: fail closed");
	CHECK(strstr(err, "line 2") != NULL, "names the line");
	CHECK(smtp_users_check(&r, "relay2", s2) == 0, "nobody while damaged");
	write_text(path, "relay1:" "0000000000000000000000000000000000000000000000000000000000000000"
			 ":5\nrelay1:"
			 "0000000000000000000000000000000000000000000000000000000000000000:6\n");
	CHECK(smtp_users_refresh(&r, path, err) == VL_ERR_PARSE, "a name twice");
	write_text(path, "relay1:" "0000000000000000000000000000000000000000000000000000000000000000"
			 ":-5\n");
	CHECK(smtp_users_refresh(&r, path, err) == VL_ERR_PARSE, "negative time");
	CHECK(smtp_users_save(&w, path, err) == VL_OK, "mended");
	CHECK(smtp_users_refresh(&r, path, err) == VL_OK && smtp_users_check(&r, "relay1", s1),
	      "works again");
	CHECK(unlink(path) == 0, "removed");
	CHECK(smtp_users_refresh(&r, path, err) == VL_OK && r.n == 0, "file gone: no users");
	smtp_users_free(&w);
	smtp_users_free(&r);
	CHECK(unit_tmpdir_free(dir) == 0, "cleanup");
}

UNIT_SUITE(smtp_users, {"add, check, remove", test_users_add_check_remove},
	   {"file round trip and refresh", test_users_file});
