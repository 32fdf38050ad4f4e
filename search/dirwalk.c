/* dirwalk - a folder's entries in name order, depth first. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dirwalk.h"

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static enum vl_err
walk(const char *dir, const char *name, int depth, dirwalk_fn fn, void *ctx, char *err)
{
	struct dirent **list = NULL;
	int n = scandir(dir, &list, NULL, by_name);
	enum vl_err rc = VL_OK;

	if (n < 0 || depth > DIRWALK_DEPTH_MAX)
		rc = vl_err_set(err, VL_ERR_IO, "%s: cannot be listed", name);
	for (int i = 0; i < n; i++) {
		char path[DIRWALK_PATH_MAX], sub[DIRWALK_PATH_MAX];
		const char *d = list[i]->d_name;
		struct stat st;

		if (rc != VL_OK || strcmp(d, ".") == 0 || strcmp(d, "..") == 0)
			goto next;
		snprintf(path, sizeof(path), "%s/%s", dir, d);
		if (lstat(path, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
			goto next;
		snprintf(sub, sizeof(sub), "%s/%s%s", name, d, S_ISDIR(st.st_mode) ? "/" : "");
		if ((rc = fn(ctx, path, sub, &st, err)) != VL_OK || !S_ISDIR(st.st_mode))
			goto next;
		sub[strlen(sub) - 1] = '\0';
		rc = walk(path, sub, depth + 1, fn, ctx, err);
next:
		free(list[i]);
	}
	free(list);
	return rc;
}

enum vl_err
dirwalk(const char *dir, const char *name, dirwalk_fn fn, void *ctx, char *err)
{
	return walk(dir, name, 0, fn, ctx, err);
}
