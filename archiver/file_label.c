/* file_label - matching a file's content type and name; see file_label.h. */
#include <string.h>
#include <strings.h>

#include "file_label.h"

int
file_label_type_in(const char *content_type, const char *const *types, size_t n)
{
	for (size_t i = 0; content_type && i < n; i++) {
		size_t k = strlen(types[i]);

		/* The type alone (its NUL is in the set), or followed by parameters. */
		if (strncasecmp(content_type, types[i], k) == 0 &&
		    strchr("; \t", content_type[k]) != NULL)
			return 1;
	}
	return 0;
}

int
file_label_ext_in(const char *filename, const char *const *exts, size_t n)
{
	size_t len = filename ? strlen(filename) : 0;

	for (size_t i = 0; i < n; i++) {
		size_t k = strlen(exts[i]);

		if (len >= k && strcasecmp(filename + len - k, exts[i]) == 0)
			return 1;
	}
	return 0;
}
