/* SPDX-License-Identifier: MIT */
/*
 * check-powerfail.c - power loss before (or in the middle of) every flash operation
 *
 * mcuboot's simulator method (STYLE.md 3.8): run an update clean and count its flash
 * operations N; then for every K in 1..N restore the pristine flash, run the same update
 * with the power cut before operation K (a longjmp out of the flash model), boot again and
 * check that the device boots exactly one fully verified image that is the old or the new
 * one byte for byte, that otadata holds only blank or CRC-valid entries (or the one entry
 * a torn write hit), that no NOR rule was broken, and that a fresh update then works.
 *
 * Pristine state: ota_0 holds v0 (the factory image, with a stale VALID entry 0 naming
 * it), ota_1 runs v1 (entry 1, VALID). The update writes v2 into ota_0. v0 must never
 * boot again: it is neither the old nor the new image.
 *
 * Matrix: slot size 64/128 KiB x write_align 1/4/16 x erase up front/lazy x power cut
 * before the operation / torn halfway / torn just before its last byte (for a 32-byte
 * otadata entry: everything but the top byte of its CRC), for two scenarios: confirm
 * (update, reboot, mark valid) and revert (update, reboot, mark invalid, reboot).
 */

#include <check.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet-check-run.h"
#include "ota-test-support.h"
#include "ota/ota-errors.h"
#include "ota/ota-slots.h"
#include "sim-flash.h"

#define IMG_CAP 0x10000u
#define CHUNK 1460u /* a TCP segment's worth, odd against every write_align */
#define STRIDE 100000
/* cut points per loop iteration: each is restored, cut and checked on its own, the batch
 * only saves forks (an ASan fork costs ~10 ms) */
#define BATCH 4u

enum scenario {
	SC_CONFIRM,
	SC_REVERT,
	SC_LAST,
};

enum tear {
	TEAR_NONE, /* cut before the operation */
	TEAR_HALF, /* the first half of it happens */
	TEAR_MOST, /* all of it but the last byte */
	TEAR_LAST,
};

static const char *const tear_names[TEAR_LAST] = {"cut", "torn-half", "torn-most"};

struct config {
	uint32_t slot_size;
	uint32_t align;
	enum ota_erase_mode erase;
	enum tear tear;
	enum scenario scenario;
	/* filled by main() */
	struct sim_flash pristine;
	uint64_t ops; /* N */
	char name[64];
};

static const uint32_t slot_sizes[] = {0x10000, 0x20000};
static const uint32_t aligns[] = {1, 4, 16};

#define N_CONFIGS (2 * 3 * 2 * TEAR_LAST * SC_LAST)
static struct config configs[N_CONFIGS];

static uint8_t v0[IMG_CAP];
static uint8_t v1[IMG_CAP];
static uint8_t v2[IMG_CAP];
static uint8_t v3[IMG_CAP];
static size_t len0;
static size_t len1;
static size_t len2;
static size_t len3;

/* the device under test and where a cut lands; static so longjmp leaves nothing stale */
static struct test_dev dev;
static jmp_buf cut_jmp;

static void
build_images(void)
{
	struct test_image_opts o = {.version = "0.9.0", .len = 22000, .seed = 100};
	len0 = test_image_build(v0, sizeof(v0), &o);
	o.version = "1.0.0";
	o.len = 26000;
	o.seed = 101;
	len1 = test_image_build(v1, sizeof(v1), &o);
	o.version = "2.0.0";
	o.len = 36000;
	o.seed = 102;
	len2 = test_image_build(v2, sizeof(v2), &o);
	o.version = "3.0.0";
	o.len = 20000;
	o.seed = 103;
	len3 = test_image_build(v3, sizeof(v3), &o);
}

static int
setup_failed(const char *what, int rc)
{
	fprintf(stderr, "powerfail setup: %s: %s\n", what, ota_strerror(rc));
	return rc != OTA_OK ? rc : OTA_E_BAD_STATE;
}

/* v0 flashed by hand into ota_0, booted once, v1 installed into ota_1 and confirmed */
static int
make_pristine(struct config *c)
{
	struct ota_boot_result r;
	int rc = test_dev_open(&dev, c->slot_size, OTA_FS_NONE, c->align);
	if (rc != OTA_OK)
		return setup_failed("open", rc);
	memcpy(sim_flash_data(&dev.flash) + OTA_DEFAULT_APP_OFFSET, v0, len0);
	if (ota_boot(&dev.slots, &r) != 0 || !r.initial)
		return setup_failed("first boot", OTA_E_NO_BOOTABLE);
	rc = test_dev_update(&dev, 1, v1, len1, CHUNK, c->erase, true);
	if (rc != OTA_OK)
		return setup_failed("install v1", rc);
	if (ota_boot(&dev.slots, &r) != 1)
		return setup_failed("boot v1", OTA_E_NO_BOOTABLE);
	rc = ota_slots_mark_valid(&dev.slots);
	if (rc != OTA_OK)
		return setup_failed("confirm v1", rc);
	if (sim_flash_violations(&dev.flash) != 0)
		return setup_failed("NOR rules", OTA_E_FLASH);
	if (sim_flash_open(&c->pristine, &dev.flash.cfg) != 0 ||
	    sim_flash_copy_from(&c->pristine, &dev.flash) != 0)
		return setup_failed("snapshot", OTA_E_FLASH);
	test_dev_close(&dev);
	return OTA_OK;
}

/* the pristine flash in dev, booted (which writes nothing), the op counter at 0 */
static void
restore(const struct config *c)
{
	struct ota_boot_result r;
	ck_assert_int_eq(test_dev_open(&dev, c->slot_size, OTA_FS_NONE, c->align), OTA_OK);
	ck_assert_int_eq(sim_flash_copy_from(&dev.flash, &c->pristine), 0);
	ck_assert_int_eq(test_dev_reinit(&dev), OTA_OK);
	ck_assert_int_eq(ota_boot(&dev.slots, &r), 1);
	sim_flash_reset_op_count(&dev.flash);
}

/* reset and second-stage bootloader */
static int
reboot(struct ota_boot_result *r)
{
	int rc = test_dev_reinit(&dev);
	if (rc != OTA_OK)
		return rc;
	return ota_boot(&dev.slots, r);
}

/* everything whose flash operations are counted and cut */
static int
run_scenario(const struct config *c)
{
	struct ota_boot_result r;
	int rc = test_dev_update(&dev, OTA_SLOT_NEXT, v2, len2, CHUNK, c->erase, true);
	if (rc != OTA_OK)
		return rc;
	if (reboot(&r) != 0)
		return OTA_E_NO_BOOTABLE;
	if (c->scenario == SC_CONFIRM)
		return ota_slots_mark_valid(&dev.slots);
	rc = ota_slots_mark_invalid(&dev.slots);
	if (rc != OTA_OK)
		return rc;
	return reboot(&r) == 1 ? OTA_OK : OTA_E_NO_BOOTABLE;
}

static bool
entry_blank(int i)
{
	const uint8_t *p =
	    sim_flash_data(&dev.flash) + OTA_DEFAULT_OTADATA_OFFSET + 0x1000u * (unsigned)i;
	for (int k = 0; k < 32; k++) {
		if (p[k] != 0xFF)
			return false;
	}
	return true;
}

/* the invariants after any cut and the reboot after it */
static void
check_after_cut(const struct config *c, uint64_t k)
{
	struct ota_boot_result r;
	struct ota_select_entry e[2];
	struct ota_image_info info;
	uint32_t cut_addr = 0;
	uint32_t cut_len = 0;
	bool cut_write = false;
	int slot;

	ck_assert(sim_flash_last_cut(&dev.flash, &cut_addr, &cut_len, &cut_write));
	/* the entry that selects the running v1 is never rewritten by an update of the other
	 * slot (only set_boot of the other entry, boot and confirm of the new one write) */
	ck_assert_msg(memcmp(sim_flash_data(&dev.flash) + OTA_DEFAULT_OTADATA_OFFSET + 0x1000,
			     c->pristine.data + OTA_DEFAULT_OTADATA_OFFSET + 0x1000,
			     OTA_SELECT_ENTRY_LEN) == 0,
		      "%s K=%llu: otadata[1] (v1's entry) changed", c->name, (unsigned long long)k);
	slot = reboot(&r);
	ck_assert_msg(slot >= 0, "%s K=%llu: nothing boots (%s)", c->name, (unsigned long long)k,
		      ota_strerror(slot));
	ck_assert_int_eq(ota_slots_running(&dev.slots), slot);
	/* otadata never selects an image that does not verify: no fallback is needed */
	ck_assert_msg(!r.fallback && !r.initial, "%s K=%llu: fallback %d initial %d", c->name,
		      (unsigned long long)k, r.fallback, r.initial);

	/* exactly the old or the new image, fully verified, byte for byte */
	ck_assert_int_eq(ota_slots_verify(&dev.slots, slot, &info), OTA_OK);
	if (slot == 1) {
		ck_assert_msg(test_dev_slot_holds(&dev, 1, v1, len1), "%s K=%llu: ota_1 is not v1",
			      c->name, (unsigned long long)k);
		ck_assert_str_eq(info.version, "1.0.0");
	} else {
		ck_assert_msg(slot == 0 && test_dev_slot_holds(&dev, 0, v2, len2),
			      "%s K=%llu: booted slot %d holds %s, neither v1 nor v2", c->name,
			      (unsigned long long)k, slot, info.version);
		ck_assert_str_eq(info.version, "2.0.0");
	}
	/* the revert scenario never ends on v2 once it was marked invalid: v2 may run only
	 * while its entry is PENDING_VERIFY or VALID */
	if (slot == 0) {
		uint32_t st = 0;
		ck_assert_int_eq(ota_slots_get_state(&dev.slots, 0, &st), OTA_OK);
		ck_assert_msg(st == OTA_IMG_PENDING_VERIFY || st == OTA_IMG_VALID,
			      "%s K=%llu: v2 boots in state %s", c->name, (unsigned long long)k,
			      ota_img_state_name(st));
	}

	/* otadata: blank or CRC-valid; only the entry a torn write hit may be garbage */
	ck_assert_int_eq(ota_slots_read_otadata(&dev.slots, e), OTA_OK);
	for (int i = 0; i < 2; i++) {
		uint32_t at = OTA_DEFAULT_OTADATA_OFFSET + 0x1000u * (unsigned)i;
		bool torn_here =
		    c->tear != TEAR_NONE && cut_write && cut_addr <= at && at < cut_addr + cut_len;
		bool ok = entry_blank(i) ||
			  (e[i].seq != OTA_SEQ_BLANK && e[i].crc == ota_select_entry_crc(e[i].seq));
		ck_assert_msg(ok || torn_here, "%s K=%llu: otadata[%d] seq %u crc %08x", c->name,
			      (unsigned long long)k, i, (unsigned)e[i].seq, (unsigned)e[i].crc);
		if (!ok)
			ck_assert_int_ne(r.entry, i);
	}
	ck_assert_msg(sim_flash_violations(&dev.flash) == 0, "%s K=%llu: NOR rule broken: %s",
		      c->name, (unsigned long long)k,
		      sim_flash_violation_name(sim_flash_first_violation(&dev.flash, NULL)));
}

/* what an app does after such a boot: confirm itself, then take a new update */
static void
check_fresh_update(const struct config *c, uint64_t k)
{
	struct ota_boot_result r;
	struct ota_select_entry e[2];
	uint32_t st = 0;
	int old = ota_slots_running(&dev.slots);
	int target;
	int rc;

	if (ota_slots_get_state(&dev.slots, old, &st) == OTA_OK && st == OTA_IMG_PENDING_VERIFY)
		ck_assert_int_eq(ota_slots_mark_valid(&dev.slots), OTA_OK);
	target = ota_slots_next_update_slot(&dev.slots);
	ck_assert_int_ne(target, old);
	rc = test_dev_update(&dev, target, v3, len3, CHUNK, c->erase, true);
	ck_assert_msg(rc == OTA_OK, "%s K=%llu: fresh update: %s", c->name, (unsigned long long)k,
		      ota_strerror(rc));
	ck_assert_int_eq(reboot(&r), target);
	ck_assert_str_eq(r.image.version, "3.0.0");
	ck_assert_uint_eq(r.state, OTA_IMG_PENDING_VERIFY);
	ck_assert_int_eq(ota_slots_mark_valid(&dev.slots), OTA_OK);
	ck_assert_int_eq(reboot(&r), target);
	ck_assert(test_dev_slot_holds(&dev, target, v3, len3));
	/* the image that ran before is untouched and still a valid rollback target */
	ck_assert_int_eq(ota_slots_verify(&dev.slots, old, NULL), OTA_OK);
	ck_assert(ota_slots_rollback_possible(&dev.slots));
	ck_assert_int_eq(ota_slots_read_otadata(&dev.slots, e), OTA_OK);
	ck_assert_uint_eq(e[r.entry].state, OTA_IMG_VALID);
	ck_assert_uint_eq(sim_flash_violations(&dev.flash), 0);
}

/* one cut point */
static void
cut_at(struct config *c, uint64_t k)
{
	restore(c);
	sim_flash_set_jmp(&dev.flash, &cut_jmp);
	sim_flash_set_torn(&dev.flash, c->tear != TEAR_NONE);
	sim_flash_set_torn_keep(&dev.flash, c->tear == TEAR_MOST ? -1 : 0);
	sim_flash_set_budget(&dev.flash, k);
	if (setjmp(cut_jmp) == 0) {
		(void)run_scenario(c);
		ck_abort_msg("%s K=%llu: the scenario ran to its end without a cut", c->name,
			     (unsigned long long)k);
	}
	/* power is back: from here on nothing is cut */
	sim_flash_set_jmp(&dev.flash, NULL);
	ck_assert_uint_eq(sim_flash_op_count(&dev.flash), c->tear != TEAR_NONE ? k : k - 1);
	check_after_cut(c, k);
	check_fresh_update(c, k);
	test_dev_close(&dev);
}

/* _i = configuration * STRIDE + batch: cut points batch * BATCH + 1 .. + BATCH */
START_TEST(test_cut_at)
{
	struct config *c = &configs[_i / STRIDE];
	uint64_t first = (uint64_t)(_i % STRIDE) * BATCH + 1;
	for (uint64_t k = first; k < first + BATCH && k <= c->ops; k++)
		cut_at(c, k);
}
END_TEST

/* the clean run behind N: it must end where the scenario says */
START_TEST(test_clean_run)
{
	struct config *c = &configs[_i];
	struct ota_boot_result r;
	restore(c);
	ck_assert_int_eq(run_scenario(c), OTA_OK);
	ck_assert_uint_eq(sim_flash_op_count(&dev.flash), c->ops);
	ck_assert_int_eq(reboot(&r), c->scenario == SC_CONFIRM ? 0 : 1);
	ck_assert_str_eq(r.image.version, c->scenario == SC_CONFIRM ? "2.0.0" : "1.0.0");
	ck_assert_uint_eq(r.state, OTA_IMG_VALID);
	ck_assert_uint_eq(sim_flash_violations(&dev.flash), 0);
	test_dev_close(&dev);
}
END_TEST

/* count mode: the clean scenario's number of mutating flash operations */
static int
count_ops(struct config *c)
{
	struct ota_boot_result r;
	int rc;
	if (test_dev_open(&dev, c->slot_size, OTA_FS_NONE, c->align) != OTA_OK ||
	    sim_flash_copy_from(&dev.flash, &c->pristine) != 0 || test_dev_reinit(&dev) != OTA_OK ||
	    ota_boot(&dev.slots, &r) != 1)
		return setup_failed("restore", OTA_E_FLASH);
	sim_flash_reset_op_count(&dev.flash);
	rc = run_scenario(c);
	if (rc != OTA_OK)
		return setup_failed(c->name, rc);
	c->ops = sim_flash_op_count(&dev.flash);
	test_dev_close(&dev);
	return OTA_OK;
}

static Suite *
powerfail_suite(void)
{
	Suite *s = suite_create("powerfail");
	TCase *clean = tcase_create("clean");
	tcase_add_loop_test(clean, test_clean_run, 0, N_CONFIGS);
	suite_add_tcase(s, clean);
	for (int i = 0; i < N_CONFIGS; i++) {
		TCase *tc = tcase_create(configs[i].name);
		tcase_set_timeout(tc, 60);
		int batches = (int)((configs[i].ops + BATCH - 1) / BATCH);
		tcase_add_loop_test(tc, test_cut_at, i * STRIDE, i * STRIDE + batches);
		suite_add_tcase(s, tc);
	}
	return s;
}

int
main(void)
{
	int n = 0;
	int status;
	uint64_t total = 0;

	build_images();
	if (len0 == 0 || len1 == 0 || len2 == 0 || len3 == 0)
		return EXIT_FAILURE;
	for (size_t a = 0; a < 2; a++) {
		for (size_t b = 0; b < 3; b++) {
			for (int erase = 0; erase < 2; erase++) {
				for (int tear = 0; tear < TEAR_LAST; tear++) {
					for (int sc = 0; sc < SC_LAST; sc++) {
						struct config *c = &configs[n++];
						c->slot_size = slot_sizes[a];
						c->align = aligns[b];
						c->erase =
						    erase ? OTA_ERASE_LAZY : OTA_ERASE_UP_FRONT;
						c->tear = (enum tear)tear;
						c->scenario = (enum scenario)sc;
						snprintf(c->name, sizeof(c->name),
							 "%s-%ukib-align%u-%s-%s",
							 sc == SC_CONFIRM ? "confirm" : "revert",
							 (unsigned)(c->slot_size / 1024),
							 (unsigned)c->align,
							 erase ? "lazy" : "upfront",
							 tear_names[tear]);
					}
				}
			}
		}
	}
	for (int i = 0; i < N_CONFIGS; i++) {
		if (make_pristine(&configs[i]) != OTA_OK || count_ops(&configs[i]) != OTA_OK)
			return EXIT_FAILURE;
		total += configs[i].ops;
	}
	printf("powerfail: %d configurations, %llu cut points\n", N_CONFIGS,
	       (unsigned long long)total);

	status = fleet_check_run(powerfail_suite());
	for (int i = 0; i < N_CONFIGS; i++)
		sim_flash_close(&configs[i].pristine);
	return status;
}
