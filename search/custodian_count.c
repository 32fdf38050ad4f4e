/* custodian_count - results count per custodian; see custodian_count.h.
 *
 * A sorted array searched by bisection: an export names few custodians (each a row of the
 * custodians table), and a message only a handful, so inserting by memmove costs little and
 * the CSV comes out in order with no sort at the end. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custodian_count.h"
#include "loadfile.h"

struct tally {
	char *name;
	uint64_t messages;
};

struct custodian_count {
	struct tally *rows;
	size_t n, cap;
};

struct custodian_count *
custodian_count_new(void)
{
	return xcalloc(1, sizeof(struct custodian_count));
}

void
custodian_count_free(struct custodian_count *cc)
{
	if (cc == NULL)
		return;
	for (size_t i = 0; i < cc->n; i++)
		free(cc->rows[i].name);
	free(cc->rows);
	free(cc);
}

/* find - the index of name (len bytes), or where it would go; *found says which. */
static size_t
find(const struct custodian_count *cc, const char *name, size_t len, int *found)
{
	size_t lo = 0, hi = cc->n;

	*found = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strncmp(cc->rows[mid].name, name, len);

		if (c == 0 && cc->rows[mid].name[len] != '\0')
			c = 1; /* a longer name with the same start sorts after */
		if (c == 0)
			return *found = 1, mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* count_one - add 1 to name (len bytes), making its row on first use. */
static enum vl_err
count_one(struct custodian_count *cc, const char *name, size_t len, char *err)
{
	int found;
	size_t at = find(cc, name, len, &found);

	if (found) {
		cc->rows[at].messages++;
		return VL_OK;
	}
	if (cc->n == CUSTODIAN_COUNT_MAX)
		return vl_err_set(err, VL_ERR_LIMIT, "more than %d custodians in one export's counts",
				  CUSTODIAN_COUNT_MAX);
	if (cc->n == cc->cap) {
		cc->cap = cc->cap ? cc->cap * 2 : 16;
		cc->rows = xrealloc(cc->rows, cc->cap * sizeof(*cc->rows));
	}
	memmove(&cc->rows[at + 1], &cc->rows[at], (cc->n - at) * sizeof(*cc->rows));
	cc->rows[at].name = xmalloc(len + 1);
	memcpy(cc->rows[at].name, name, len);
	cc->rows[at].name[len] = '\0';
	cc->rows[at].messages = 1;
	cc->n++;
	return VL_OK;
}

enum vl_err
custodian_count_add(struct custodian_count *cc, const char *list, char *err)
{
	const char *p = list ? list : "";
	enum vl_err rc = VL_OK;

	if (*p == '\0')
		return count_one(cc, CUSTODIAN_COUNT_NONE, strlen(CUSTODIAN_COUNT_NONE), err);
	while (rc == VL_OK && *p) {
		size_t len = strcspn(p, ";");

		if (len > 0)
			rc = count_one(cc, p, len, err);
		p += len + (p[len] == ';');
	}
	return rc;
}

void
custodian_count_csv(struct buf *out, const struct custodian_count *cc)
{
	static const char *const hdr[2] = {"CUSTODIAN", "MESSAGES"};
	char n[24];

	loadfile_csv_row(out, hdr, 2);
	for (size_t i = 0; i < cc->n; i++) {
		const char *f[2] = {cc->rows[i].name, n};

		snprintf(n, sizeof(n), "%" PRIu64, cc->rows[i].messages);
		loadfile_csv_row(out, f, 2);
	}
}
