/* unit - registration of CUnit suites: each tests/unit/test_<module>.c declares its suite with
 * UNIT_SUITE(name, { "case", fn }, ...) and tests/unit/main.c runs them all. */
#ifndef VL_UNIT_H
#define VL_UNIT_H

#include <CUnit/CUnit.h>
#include <stdio.h>

#include "buf.h"

/* CHECK - a CUnit assertion that names the case it belongs to when it fails. */
#define CHECK(cond, what)                                                                          \
	do {                                                                                       \
		if (cond) {                                                                        \
			CU_PASS(#cond);                                                            \
		} else {                                                                           \
			char m_[400];                                                              \
			snprintf(m_, sizeof(m_), "[%s] %s", (what), #cond);                        \
			CU_assertImplementation(CU_FALSE, __LINE__, m_, __FILE__, "", CU_FALSE);   \
		}                                                                                  \
	} while (0)

struct unit_case {
	const char *name;
	void (*fn)(void);
};

struct unit_suite {
	const char *name;
	const struct unit_case *cases;
	struct unit_suite *next;
};

void unit_register(struct unit_suite *s);

/* A constructor adds the suite to the list before main runs. */
/* Scratch folders (unit_tmp.c): unit_tmpdir_new makes one, vellum-test-TAG-XXXXXX under
 * $TMPDIR (else /root), into dir; unit_tmpdir_free removes it and its files (0 when removed).
 * One a test leaves behind at a fatal assertion is removed at exit. */
#define UNIT_TMP_MAX 512
void unit_tmpdir_new(char dir[UNIT_TMP_MAX], const char *tag);
int unit_tmpdir_free(const char *dir);

/* unit_slurp - the whole file at path into b (reset first); 0, or -1 when it cannot be read. */
int unit_slurp(const char *path, struct buf *b);

/* TNEF streams built by the tests (unit_tnef.c, [MS-OXTNEF]): unit_tnef_head appends the
 * signature and key; unit_tnef_attr one attribute of level (1 message, 2 attachment) with its
 * checksum; unit_tnef_prop_var one single-valued variable-size MAPI property (tag, count 1,
 * size, data, padding) to a property list; unit_tnef_file a file attached by value: its
 * attRendData, its 8.3 title and its n bytes. */
void unit_tnef_head(struct buf *b);
void unit_tnef_attr(struct buf *b, uint8_t level, uint32_t id, const void *data, size_t n);
void unit_tnef_prop_var(struct buf *l, uint32_t tag, const void *data, size_t n);
void unit_tnef_file(struct buf *b, const char *title, const void *data, size_t n);

#define UNIT_SUITE(sname, ...)                                                                     \
	static const struct unit_case sname##_cases[] = {__VA_ARGS__, {0, 0}};                     \
	static struct unit_suite sname##_suite = {#sname, sname##_cases, 0};                       \
	__attribute__((constructor)) static void sname##_register(void)                            \
	{                                                                                          \
		unit_register(&sname##_suite);                                                     \
	}

#endif
