/* custodian_count - the results count per custodian of an export (data/custodian-counts.csv,
 * as Vault's results-count.csv): how many exported messages each custodian holds, a message
 * counted under each of its custodians and one of none under CUSTODIAN_COUNT_NONE.
 * Owns: the tally, kept sorted by name, and its CSV. Not: who the custodians of a message are
 * (export's query, the same list as the load files' CUSTODIAN column). */
#ifndef VL_CUSTODIAN_COUNT_H
#define VL_CUSTODIAN_COUNT_H

#include <stdint.h>

#include "buf.h"
#include "vl_err.h"

#define CUSTODIAN_COUNT_MAX 10000	/* distinct custodians of one export; more is VL_ERR_LIMIT */
#define CUSTODIAN_COUNT_NONE "(none)" /* the row of messages of no custodian: no custodian name
				       * has parentheses (custodian.h: [a-z0-9._-]) */

struct custodian_count;

/* custodian_count_new - an empty tally; the caller frees it with custodian_count_free. */
struct custodian_count *custodian_count_new(void);
void custodian_count_free(struct custodian_count *cc);

/* custodian_count_add - one message whose custodians are list ("a;b", as the CUSTODIAN column;
 * "" or NULL: none). VL_ERR_LIMIT when it would name more than CUSTODIAN_COUNT_MAX custodians
 * in all: the export fails rather than write a count that leaves some out. */
enum vl_err custodian_count_add(struct custodian_count *cc, const char *list, char *err)
	VL_MUST_CHECK;

/* custodian_count_csv - the header CUSTODIAN,MESSAGES then one row per custodian in byte order
 * of the name (so "(none)" comes first), quoted as the load file's CSV (loadfile_csv_row). */
void custodian_count_csv(struct buf *out, const struct custodian_count *cc);

#endif
