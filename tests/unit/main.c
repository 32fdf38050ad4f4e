/* main - run every registered CUnit suite; exit non-zero on any failure. */
#include <CUnit/Basic.h>
#include <sodium.h>
#include <stdio.h>

#include "log.h"
#include "unit.h"

static struct unit_suite *suites;

void
unit_register(struct unit_suite *s)
{
	s->next = suites;
	suites = s;
}

int
main(void)
{
	unsigned failed;

	log_init("unit-tests", LOG_LEVEL_WARN);
	if (sodium_init() < 0 || CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	for (struct unit_suite *s = suites; s; s = s->next) {
		CU_pSuite cs = CU_add_suite(s->name, NULL, NULL);

		for (const struct unit_case *c = s->cases; c->name; c++)
			CU_add_test(cs, c->name, c->fn);
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
