/* test_config - config.c: defaults, overrides from a file, refusals that name the line, and the
 * documented default file loading back to exactly the defaults. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "unit.h"

/* A scratch directory with one config file in it; removed by tmp_done. */
struct tmp {
	char dir[64];
	char path[128];
};

static void
tmp_init(struct tmp *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/vellum-test-config-XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(t->dir) != NULL);
	snprintf(t->path, sizeof(t->path), "%s/vellum.conf", t->dir);
}

static void
tmp_write(const struct tmp *t, const char *text)
{
	FILE *f = fopen(t->path, "w");

	CU_ASSERT_FATAL(f != NULL);
	CU_ASSERT(fputs(text, f) >= 0);
	CU_ASSERT(fclose(f) == 0);
}

static void
tmp_done(struct tmp *t)
{
	unlink(t->path);
	CU_ASSERT(rmdir(t->dir) == 0);
}

/* load - defaults for /srv/vellum, then text from a scratch file; returns config_load's code. */
static enum vl_err
load(struct vl_config *cfg, const char *text, char *err)
{
	struct tmp t;
	enum vl_err rc;

	tmp_init(&t);
	tmp_write(&t, text);
	config_defaults(cfg, "/srv/vellum");
	rc = config_load(cfg, t.path, err);
	tmp_done(&t);
	return rc;
}

static void
test_defaults(void)
{
	struct vl_config c;
	char path[CONFIG_PATH_MAX];

	config_defaults(&c, "/srv/vellum");
	CU_ASSERT_STRING_EQUAL(c.data_dir, "/srv/vellum");
	CU_ASSERT_STRING_EQUAL(c.database_url, "");
	CU_ASSERT_STRING_EQUAL(c.run_user, "vellum");
	CU_ASSERT_STRING_EQUAL(c.log_level, "info");
	CU_ASSERT_EQUAL(c.segment_max_mb, 256);
	CU_ASSERT_EQUAL(c.zstd_level, 7);
	CU_ASSERT_EQUAL(c.dict_train_messages, 1000);
	CU_ASSERT_EQUAL(c.dict_max_kb, 256);
	CU_ASSERT_EQUAL(c.batch_max_messages, 256);
	CU_ASSERT_EQUAL(c.batch_max_ms, 5);
	CU_ASSERT_EQUAL(c.message_max_mb, 150);
	CU_ASSERT_STRING_EQUAL(c.smtp_listen, "127.0.0.1:2525");
	CU_ASSERT_STRING_EQUAL(c.lmtp_listen, "127.0.0.1:2424");
	CU_ASSERT_STRING_EQUAL(c.http_listen, "127.0.0.1:8080");
	config_path(path, &c, "pg");
	CU_ASSERT_STRING_EQUAL(path, "/srv/vellum/pg");
}

static void
test_missing_file_is_defaults(void)
{
	struct vl_config c, want;
	char err[VL_ERRLEN] = "";

	config_defaults(&want, "/srv/vellum");
	config_defaults(&c, "/srv/vellum");
	CU_ASSERT_EQUAL(config_load(&c, "/nonexistent/vellum/vellum.conf", err), VL_OK);
	CU_ASSERT(memcmp(&c, &want, sizeof(c)) == 0);
}

static void
test_file_overrides(void)
{
	struct vl_config c;
	char err[VL_ERRLEN] = "";

	CU_ASSERT_EQUAL_FATAL(load(&c,
				   "# a comment\n"
				   "\n"
				   "  zstd_level =   12  \n"
				   "run_user=archiver\n"
				   "\t# indented comment\n"
				   "database_url = postgresql://vellum@db.example/vellum\n"
				   "batch_max_ms = 0\n"
				   "smtp_listen = 0.0.0.0:25",
				   err),
			      VL_OK);
	CU_ASSERT_EQUAL(c.zstd_level, 12);
	CU_ASSERT_STRING_EQUAL(c.run_user, "archiver");
	CU_ASSERT_STRING_EQUAL(c.database_url, "postgresql://vellum@db.example/vellum");
	CU_ASSERT_EQUAL(c.batch_max_ms, 0);
	CU_ASSERT_STRING_EQUAL(c.smtp_listen, "0.0.0.0:25"); /* last line without a newline */
	/* What the file does not name keeps its default. */
	CU_ASSERT_EQUAL(c.segment_max_mb, 256);
	CU_ASSERT_STRING_EQUAL(c.log_level, "info");
	CU_ASSERT_STRING_EQUAL(c.data_dir, "/srv/vellum");
}

static void
test_unknown_key(void)
{
	struct vl_config c;
	char err[VL_ERRLEN] = "";

	CU_ASSERT_EQUAL(load(&c, "zstd_level = 3\nzstd_levle = 4\n", err), VL_ERR_CONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, ":2:"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "zstd_levle"));
}

static void
test_int_out_of_range(void)
{
	static const char *const bad[] = {
	    "zstd_level = 20\n", "zstd_level = 0\n", "zstd_level = -1\n",
	    "zstd_level = 7x\n", "zstd_level =\n",   "segment_max_mb = 99999999999999999999\n"};
	struct vl_config c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[VL_ERRLEN] = "";

		CU_ASSERT_EQUAL(load(&c, bad[i], err), VL_ERR_CONFIG);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, ":1:"));
	}
	/* The bounds themselves are accepted. */
	CU_ASSERT_EQUAL(load(&c, "zstd_level = 1\nmessage_max_mb = 2048\n", NULL), VL_OK);
	CU_ASSERT_EQUAL(c.zstd_level, 1);
	CU_ASSERT_EQUAL(c.message_max_mb, 2048);
}

static void
test_string_too_long(void)
{
	char text[256], err[VL_ERRLEN] = "";
	struct vl_config c;

	/* run_user holds 63 bytes and its NUL. */
	snprintf(text, sizeof(text), "run_user = %064d\n", 0);
	CU_ASSERT_EQUAL(load(&c, text, err), VL_ERR_CONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "run_user"));
	snprintf(text, sizeof(text), "run_user = %063d\n", 0);
	CU_ASSERT_EQUAL(load(&c, text, NULL), VL_OK);
}

static void
test_malformed_line(void)
{
	struct vl_config c;
	char err[VL_ERRLEN] = "";

	CU_ASSERT_EQUAL(load(&c, "log_level = debug\n# fine\nthis line has no equals sign\n", err),
			VL_ERR_CONFIG);
	/* path:3: names the line, and the file. */
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "vellum.conf:3:"));
}

static void
test_write_default_loads_back(void)
{
	struct vl_config c, want;
	struct tmp t;
	char err[VL_ERRLEN] = "";

	tmp_init(&t);
	CU_ASSERT_EQUAL_FATAL(config_write_default(t.path, err), VL_OK);
	CU_ASSERT_EQUAL(access(t.path, R_OK), 0);
	config_defaults(&want, "/srv/vellum");
	/* Load over values that all differ from the defaults: the file must set every key. */
	config_defaults(&c, "/srv/vellum");
	snprintf(c.database_url, sizeof(c.database_url), "postgresql://elsewhere/x");
	snprintf(c.run_user, sizeof(c.run_user), "nobody");
	snprintf(c.log_level, sizeof(c.log_level), "err");
	c.segment_max_mb = 1;
	c.zstd_level = 19;
	c.dict_train_messages = 0;
	c.dict_max_kb = 16;
	c.batch_max_messages = 1;
	c.batch_max_ms = 1000;
	c.message_max_mb = 1;
	snprintf(c.smtp_listen, sizeof(c.smtp_listen), "x");
	snprintf(c.lmtp_listen, sizeof(c.lmtp_listen), "y");
	snprintf(c.http_listen, sizeof(c.http_listen), "z");
	CU_ASSERT_EQUAL(config_load(&c, t.path, err), VL_OK);
	CU_ASSERT_STRING_EQUAL(c.database_url, want.database_url);
	CU_ASSERT_STRING_EQUAL(c.run_user, want.run_user);
	CU_ASSERT_STRING_EQUAL(c.log_level, want.log_level);
	CU_ASSERT_EQUAL(c.segment_max_mb, want.segment_max_mb);
	CU_ASSERT_EQUAL(c.zstd_level, want.zstd_level);
	CU_ASSERT_EQUAL(c.dict_train_messages, want.dict_train_messages);
	CU_ASSERT_EQUAL(c.dict_max_kb, want.dict_max_kb);
	CU_ASSERT_EQUAL(c.batch_max_messages, want.batch_max_messages);
	CU_ASSERT_EQUAL(c.batch_max_ms, want.batch_max_ms);
	CU_ASSERT_EQUAL(c.message_max_mb, want.message_max_mb);
	CU_ASSERT_STRING_EQUAL(c.smtp_listen, want.smtp_listen);
	CU_ASSERT_STRING_EQUAL(c.lmtp_listen, want.lmtp_listen);
	CU_ASSERT_STRING_EQUAL(c.http_listen, want.http_listen);
	/* And over the defaults it changes nothing at all. */
	config_defaults(&c, "/srv/vellum");
	CU_ASSERT_EQUAL(config_load(&c, t.path, err), VL_OK);
	CU_ASSERT(memcmp(&c, &want, sizeof(c)) == 0);
	tmp_done(&t);
}

UNIT_SUITE(config, {"defaults", test_defaults},
	   {"missing file gives the defaults", test_missing_file_is_defaults},
	   {"file overrides values", test_file_overrides},
	   {"unknown key is VL_ERR_CONFIG", test_unknown_key},
	   {"int out of range is VL_ERR_CONFIG", test_int_out_of_range},
	   {"string too long is VL_ERR_CONFIG", test_string_too_long},
	   {"malformed line names the line", test_malformed_line},
	   {"default file loads back to the defaults", test_write_default_loads_back})
