/* SPDX-License-Identifier: MIT */
/* check-sim-state.c - what a simulated device keeps across runs: MAC, password hash, state */

#define _GNU_SOURCE

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fleet-check-run.h"
#include "sim-state.h"

static char dir[256];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check-sim-state-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void
write_text(const char *name, const char *text)
{
	char path[400];
	FILE *f;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(test_mac_made_once)
{
	uint8_t a[6];
	uint8_t b[6];
	ck_assert_int_eq(sim_mac_load_or_create(dir, a), 0);
	/* locally administered, unicast */
	ck_assert_uint_eq(a[0] & 0x03, 0x02);
	ck_assert_int_eq(sim_mac_load_or_create(dir, b), 0);
	ck_assert_mem_eq(a, b, 6);
}
END_TEST

START_TEST(test_mac_read_back)
{
	uint8_t m[6];
	const uint8_t want[6] = {0x02, 0xab, 0xcd, 0x00, 0x11, 0xff};
	write_text("mac", "02:ab:cd:00:11:ff\n");
	ck_assert_int_eq(sim_mac_load_or_create(dir, m), 0);
	ck_assert_mem_eq(m, want, 6);
}
END_TEST

START_TEST(test_state_round_trip)
{
	struct sim_state st;
	struct sim_state back;
	ck_assert_int_eq(sim_state_load(&st, dir), 0); /* no file: empty */
	ck_assert_uint_eq(st.boot_count, 0);
	ck_assert_str_eq(st.last_update, "");
	st.boot_count = 41;
	snprintf(st.last_update, sizeof(st.last_update), "MD5 Check Failed");
	st.slots[1].known = true;
	st.slots[1].len = 123456;
	for (int i = 0; i < 32; i++)
		st.slots[1].sha256[i] = (uint8_t)(i * 7);
	ck_assert_int_eq(sim_state_save(&st), 0);
	ck_assert_int_eq(sim_state_load(&back, dir), 0);
	ck_assert_uint_eq(back.boot_count, 41);
	ck_assert_str_eq(back.last_update, "MD5 Check Failed");
	ck_assert(!back.slots[0].known);
	ck_assert(back.slots[1].known);
	ck_assert_uint_eq(back.slots[1].len, 123456);
	ck_assert_mem_eq(back.slots[1].sha256, st.slots[1].sha256, 32);
}
END_TEST

/* a hand-edited or damaged file does not take the device down */
START_TEST(test_state_tolerates_junk)
{
	struct sim_state st;
	write_text("state", "boot_count=7\nnonsense\nslot99_len=5\nslot0_sha256=zz\nslot0_len=9\n"
			    "last_update=ok\n");
	ck_assert_int_eq(sim_state_load(&st, dir), 0);
	ck_assert_uint_eq(st.boot_count, 7);
	ck_assert_str_eq(st.last_update, "ok");
	ck_assert(!st.slots[0].known); /* a length without a valid digest is not a record */
}
END_TEST

START_TEST(test_password_hash_only)
{
	char scheme[16];
	char hash[80];
	char path[400];
	struct stat sb;
	const char *h = "0123456789abcdef0123456789abcdef";

	ck_assert_int_eq(sim_password_load(dir, scheme, sizeof(scheme), hash, sizeof(hash)), 0);
	ck_assert_int_eq(sim_password_store(dir, "md5", h), 0);
	ck_assert_int_eq(sim_password_load(dir, scheme, sizeof(scheme), hash, sizeof(hash)), 1);
	ck_assert_str_eq(scheme, "md5");
	ck_assert_str_eq(hash, h);
	snprintf(path, sizeof(path), "%s/password", dir);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0600);
	ck_assert_int_eq(sim_password_remove(dir), 0);
	ck_assert_int_eq(sim_password_load(dir, scheme, sizeof(scheme), hash, sizeof(hash)), 0);

	/* a hash of the wrong length for its scheme is refused */
	write_text("password", "sha256 0123456789abcdef0123456789abcdef\n");
	ck_assert_int_eq(sim_password_load(dir, scheme, sizeof(scheme), hash, sizeof(hash)), -1);
	write_text("password", "md5 0123456789abcdef0123456789abcdeg\n");
	ck_assert_int_eq(sim_password_load(dir, scheme, sizeof(scheme), hash, sizeof(hash)), -1);
}
END_TEST

START_TEST(test_lock_is_exclusive)
{
	int a = sim_state_lock(dir);
	int b;
	ck_assert_int_ge(a, 0);
	b = sim_state_lock(dir);
	ck_assert_int_eq(b, -1);
	close(a);
	b = sim_state_lock(dir);
	ck_assert_int_ge(b, 0);
	close(b);
}
END_TEST

START_TEST(test_mkdirs)
{
	char path[400];
	struct stat sb;
	snprintf(path, sizeof(path), "%s/a/b/c", dir);
	ck_assert_int_eq(sim_mkdirs(path), 0);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert(S_ISDIR(sb.st_mode));
	ck_assert_int_eq(sim_mkdirs(path), 0);
}
END_TEST

static Suite *
state_suite(void)
{
	Suite *s = suite_create("sim-state");
	TCase *tc = tcase_create("state");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_mac_made_once);
	tcase_add_test(tc, test_mac_read_back);
	tcase_add_test(tc, test_state_round_trip);
	tcase_add_test(tc, test_state_tolerates_junk);
	tcase_add_test(tc, test_password_hash_only);
	tcase_add_test(tc, test_lock_is_exclusive);
	tcase_add_test(tc, test_mkdirs);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return fleet_check_run(state_suite());
}
