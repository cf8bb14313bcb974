/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-check-run.h - how every Check test program runs its suite and exits
 *
 * Header only and free of GLib, so the firmware's freestanding-core tests can use it too.
 */
#pragma once

#include <check.h>
#include <stdlib.h>

/* runs every test of @suite (in a child process each when @fork is non-zero, whatever
 * CK_FORK says), prints Check's summary and returns the exit status for main() */
static inline int
fleet_check_run_with(Suite *suite, int fork)
{
	SRunner *runner = srunner_create(suite);
	int failed;

	if (fork)
		srunner_set_fork_status(runner, CK_FORK);
	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

static inline int
fleet_check_run(Suite *suite)
{
	return fleet_check_run_with(suite, 0);
}
