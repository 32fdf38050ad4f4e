/* pgarray - PostgreSQL array literals built in memory, for inserting a whole batch with one
 * parameterized statement (INSERT ... SELECT FROM unnest($1::text[], ...)).
 * Owns: quoting and escaping of elements. Values always travel as parameters, never as SQL. */
#ifndef VL_PGARRAY_H
#define VL_PGARRAY_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct pgarr {
	struct buf b;
	size_t n;
};

void pgarr_text(struct pgarr *a, const char *s); /* NULL: SQL NULL */
void pgarr_bytea(struct pgarr *a, const uint8_t *p, size_t n);
void pgarr_int64(struct pgarr *a, int64_t v);
/* pgarr_str - the finished literal "{...}" (borrowed; valid until the next add or free). */
const char *pgarr_str(struct pgarr *a);
void pgarr_reset(struct pgarr *a);
void pgarr_free(struct pgarr *a);

#endif
