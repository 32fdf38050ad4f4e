/* dirwalk - visit a folder's files and sub-folders in name order, depth first: the walk that
 * the tar and ZIP archives of an export share. Only regular files and folders are visited
 * (nothing else is in an export). */
#ifndef VL_DIRWALK_H
#define VL_DIRWALK_H

#include <sys/stat.h>

#include "vl_err.h"

#define DIRWALK_DEPTH_MAX 16 /* nested folders walked */
#define DIRWALK_PATH_MAX 4096

/* dirwalk_fn - one entry: path on disk, name in the archive (a folder's ends in '/'), its stat.
 * A folder is visited before what it holds. Non-VL_OK stops the walk. */
typedef enum vl_err (*dirwalk_fn)(void *ctx, const char *path, const char *name,
				  const struct stat *st, char *err);

/* dirwalk - visit what dir holds, naming each entry name/<entry>. VL_ERR_IO when a folder
 * cannot be listed or is nested deeper than DIRWALK_DEPTH_MAX, or fn's error. */
enum vl_err dirwalk(const char *dir, const char *name, dirwalk_fn fn, void *ctx,
		    char *err) VL_MUST_CHECK;

#endif
