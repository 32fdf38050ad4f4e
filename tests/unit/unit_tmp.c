/* unit_tmp - scratch folders and files for the unit tests: made under $TMPDIR (else /root), removed with
 * the files in them by unit_tmpdir_free, or at exit when a test stopped at a fatal assertion
 * before it got there. Files may carry FS_APPEND_FL (segments): it is cleared first. */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "unit.h"

#define LIVE_MAX 16
static char live[LIVE_MAX][UNIT_TMP_MAX]; /* made and not yet freed */

/* rm_dir - remove dir and the files in it; returns rmdir's result. */
static int
rm_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[UNIT_TMP_MAX + 256];

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		int fd;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
			(void)fs_set_append_only(fd, 0);
			close(fd);
		}
		(void)unlink(path);
	}
	closedir(d);
	return rmdir(dir);
}

static void
sweep(void)
{
	for (size_t i = 0; i < LIVE_MAX; i++)
		if (live[i][0]) {
			(void)rm_dir(live[i]);
			live[i][0] = 0;
		}
}

void
unit_tmpdir_new(char dir[UNIT_TMP_MAX], const char *tag)
{
	static int registered;
	const char *base = getenv("TMPDIR");

	if (!registered)
		registered = atexit(sweep) == 0;
	snprintf(dir, UNIT_TMP_MAX, "%s/vellum-test-%s-XXXXXX", base && *base ? base : "/root",
		 tag);
	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	for (size_t i = 0; i < LIVE_MAX; i++)
		if (!live[i][0]) {
			snprintf(live[i], sizeof(live[i]), "%s", dir);
			break;
		}
}

int
unit_tmpdir_free(const char *dir)
{
	for (size_t i = 0; i < LIVE_MAX; i++)
		if (strcmp(live[i], dir) == 0)
			live[i][0] = 0;
	return rm_dir(dir);
}

int
unit_slurp(const char *path, struct buf *b)
{
	char chunk[65536];
	size_t n;
	FILE *f;

	buf_reset(b);
	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(b, chunk, n);
	fclose(f);
	return 0;
}
