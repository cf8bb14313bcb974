/* SPDX-License-Identifier: MIT */
/* check-slots.c - otadata, partition table, the IDF state machine, image checks, NOR model */

#include <check.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fleet-check-run.h"
#include "ota-test-support.h"
#include "ota/ota-errors.h"
#include "ota/ota-esp-image.h"
#include "ota/ota-slots.h"
#include "ota/ota-util.h"
#include "sim-flash.h"

#define SLOT_SIZE 0x20000u
#define FS_SIZE 0x10000u
#define IMG_CAP (SLOT_SIZE + 0x1000)

static uint8_t img_a[IMG_CAP];
static uint8_t img_b[IMG_CAP];
static size_t len_a;
static size_t len_b;

static void
build_images(void)
{
	struct test_image_opts o = {.version = "1.0.0", .len = 30000, .seed = 1};
	len_a = test_image_build(img_a, sizeof(img_a), &o);
	o.version = "2.0.0";
	o.len = 41000;
	o.seed = 2;
	len_b = test_image_build(img_b, sizeof(img_b), &o);
	ck_assert_uint_gt(len_a, 0);
	ck_assert_uint_gt(len_b, 0);
}

static struct ota_select_entry
entry(struct test_dev *d, int i)
{
	struct ota_select_entry e[2];
	ck_assert_int_eq(ota_slots_read_otadata(&d->slots, e), OTA_OK);
	return e[i];
}

static bool
entry_blank(struct test_dev *d, int i)
{
	const uint8_t *p =
	    sim_flash_data(&d->flash) + OTA_DEFAULT_OTADATA_OFFSET + 0x1000u * (unsigned)i;
	for (int k = 0; k < 32; k++) {
		if (p[k] != 0xFF)
			return false;
	}
	return true;
}

/* a device whose ota_0 holds A, booted once from blank otadata: entry 0 = {1, VALID} */
static void
dev_with_a(struct test_dev *d, uint32_t align)
{
	struct ota_boot_result r;
	build_images();
	ck_assert_int_eq(test_dev_open(d, SLOT_SIZE, FS_SIZE, align), OTA_OK);
	memcpy(sim_flash_data(&d->flash) + OTA_DEFAULT_APP_OFFSET, img_a, len_a);
	ck_assert_int_eq(ota_boot(&d->slots, &r), 0);
	ck_assert(r.initial);
	ck_assert_int_eq(r.slot, 0);
}

/* ---- pure parts ---- */

START_TEST(test_crc_vectors)
{
	/* specs/esp-images.md 4.2 */
	ck_assert_uint_eq(ota_select_entry_crc(1), 0x4743989Au);
	ck_assert_uint_eq(ota_select_entry_crc(2), 0x55F63774u);
	ck_assert_uint_eq(ota_select_entry_crc(3), 0xED4A5011u);
	ck_assert_uint_eq(ota_select_entry_crc(4), 0x709D68A8u);
}
END_TEST

START_TEST(test_entry_encoding)
{
	struct ota_select_entry e;
	struct ota_select_entry back;
	uint8_t raw[32];
	static const uint8_t want[32] = {
	    0x01, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
	    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
	    0xFF, 0xFF, 0x02, 0x00, 0x00, 0x00, 0x9A, 0x98, 0x43, 0x47,
	};
	memset(&e, 0xFF, sizeof(e));
	e.seq = 1;
	e.state = OTA_IMG_VALID;
	e.crc = ota_select_entry_crc(1);
	ota_select_entry_encode(&e, raw);
	ck_assert_mem_eq(raw, want, 32);
	ota_select_entry_decode(raw, &back);
	ck_assert_uint_eq(back.seq, 1);
	ck_assert_uint_eq(back.state, OTA_IMG_VALID);
	ck_assert(ota_select_entry_valid(&back));
	ck_assert(!ota_select_entry_invalid(&back));

	back.state = OTA_IMG_ABORTED;
	ck_assert(!ota_select_entry_valid(&back));
	ck_assert(ota_select_entry_invalid(&back));
	back.state = OTA_IMG_UNDEFINED;
	ck_assert(ota_select_entry_valid(&back));
	back.crc ^= 1;
	ck_assert(!ota_select_entry_valid(&back));
	/* the bootloader's "invalid" test does not look at the CRC */
	ck_assert(!ota_select_entry_invalid(&back));
	memset(raw, 0xFF, sizeof(raw));
	ota_select_entry_decode(raw, &back);
	ck_assert(!ota_select_entry_valid(&back));
	ck_assert(ota_select_entry_invalid(&back));
}
END_TEST

START_TEST(test_compute_seq)
{
	struct ota_select_entry e[2];
	/* 2 slots: the next seq that maps to the target, >= the current one */
	ck_assert_uint_eq(ota_compute_seq(1, 1, 2), 2);
	ck_assert_uint_eq(ota_compute_seq(2, 0, 2), 3);
	ck_assert_uint_eq(ota_compute_seq(3, 1, 2), 4);
	ck_assert_uint_eq(ota_compute_seq(7, 0, 2), 7);
	ck_assert_uint_eq(ota_compute_seq(8, 0, 2), 9);
	/* the comment's example in esp_ota_ops.c: 8 slots, seq 5 runs ota_4, ota_7 needs 8 */
	ck_assert_uint_eq(ota_compute_seq(5, 7, 8), 8);
	ck_assert_uint_eq(ota_compute_seq(9, 3, 8), 12);
	for (uint32_t cur = 1; cur < 40; cur++) {
		for (uint32_t n = 2; n <= 4; n++) {
			for (uint32_t slot = 0; slot < n; slot++) {
				uint32_t seq = ota_compute_seq(cur, slot, n);
				ck_assert_uint_eq((seq - 1) % n, slot);
				ck_assert_uint_ge(seq, cur);
				ck_assert_uint_lt(seq, cur + n);
			}
		}
	}
	ck_assert_uint_eq(ota_compute_seq(3, 1, 0), 0);

	/* the larger valid seq wins, entry 1 on a tie */
	memset(e, 0xFF, sizeof(e));
	ck_assert_int_eq(ota_select_active(e), -1);
	e[0].seq = 3;
	e[0].crc = ota_select_entry_crc(3);
	e[0].state = OTA_IMG_VALID;
	ck_assert_int_eq(ota_select_active(e), 0);
	e[1].seq = 4;
	e[1].crc = ota_select_entry_crc(4);
	e[1].state = OTA_IMG_NEW;
	ck_assert_int_eq(ota_select_active(e), 1);
	e[1].state = OTA_IMG_INVALID;
	ck_assert_int_eq(ota_select_active(e), 0);
	e[1].state = OTA_IMG_VALID;
	e[1].seq = 3;
	e[1].crc = ota_select_entry_crc(3);
	ck_assert_int_eq(ota_select_active(e), 1);
	ck_assert_str_eq(ota_img_state_name(OTA_IMG_PENDING_VERIFY), "PENDING_VERIFY");
	ck_assert_str_eq(ota_img_state_name(OTA_IMG_UNDEFINED), "UNDEFINED");
}
END_TEST

START_TEST(test_error_texts)
{
	for (int e = OTA_E_FLASH; e >= OTA_E_ABORTED; e--) {
		ck_assert_str_ne(ota_strerror(e), "unknown error");
		ck_assert_str_ne(ota_error_id(e), "unknown");
	}
	ck_assert_str_eq(ota_strerror(OTA_OK), "success");
	ck_assert_str_eq(ota_strerror(-1000), "unknown error");
	ck_assert_str_eq(ota_strerror(5), "unknown error");
	ck_assert_str_eq(ota_error_id(OTA_E_MD5), "md5");
}
END_TEST

/* ---- partition table ---- */

START_TEST(test_table_default_layout)
{
	struct ota_partition p[8];
	size_t n = 0;
	ck_assert_int_eq(ota_partition_table_default(4u << 20, 0, 0, p, 8, &n), OTA_OK);
	ck_assert_uint_eq(n, 6);
	ck_assert_str_eq(p[0].label, "nvs");
	ck_assert_uint_eq(p[0].offset, 0x9000);
	ck_assert_uint_eq(p[1].subtype, OTA_PART_SUBTYPE_DATA_OTA);
	ck_assert_uint_eq(p[1].offset, 0xD000);
	ck_assert_uint_eq(p[1].size, 0x2000);
	ck_assert_str_eq(p[3].label, "ota_0");
	ck_assert_uint_eq(p[3].offset, 0x10000);
	ck_assert_uint_eq(p[3].size, 0x1F0000);
	ck_assert_uint_eq(p[4].subtype, 0x11);
	ck_assert_uint_eq(p[4].offset, 0x200000);
	ck_assert_str_eq(p[5].label, "spiffs");
	ck_assert_uint_eq(p[5].offset, 0x3F0000);
	ck_assert_uint_eq(p[5].size, 0x10000);

	ck_assert_int_eq(ota_partition_table_default(4u << 20, 0x1A9000, OTA_FS_NONE, p, 8, &n),
			 OTA_OK);
	ck_assert_uint_eq(n, 5);
	ck_assert_uint_eq(p[4].offset, 0x1C0000);
	ck_assert_int_eq(ota_partition_table_default(0x30000, 0x10000, OTA_FS_NONE, p, 8, &n),
			 OTA_OK);
	ck_assert_int_eq(ota_partition_table_default(0x30000, 0x20000, OTA_FS_NONE, p, 8, &n),
			 OTA_E_NO_SPACE);
	ck_assert_int_eq(ota_partition_table_default(4u << 20, 0x1234, 0, p, 8, &n),
			 OTA_E_BAD_ARGS);
}
END_TEST

START_TEST(test_table_bytes_and_md5)
{
	struct test_dev d;
	struct ota_partition p[OTA_MAX_PARTITIONS];
	size_t n = 0;
	uint8_t *t;
	uint8_t md5[16];
	/* esp_partition_info_t of "nvs, data, nvs, 0x9000, 0x4000" as gen_esp32part.py packs it */
	static const uint8_t nvs[32] = {0xAA, 0x50, 0x01, 0x02, 0x00, 0x90, 0x00, 0x00,
					0x00, 0x40, 0x00, 0x00, 'n',  'v',  's'};

	ck_assert_int_eq(test_dev_open(&d, SLOT_SIZE, FS_SIZE, 1), OTA_OK);
	t = sim_flash_data(&d.flash) + OTA_PARTITION_TABLE_OFFSET;
	ck_assert_mem_eq(t, nvs, 32);
	/* 6 entries, then 0xEBEB, 14 x 0xFF and the MD5 of the entries, then 0xFF */
	ck_assert_uint_eq(t[6 * 32], 0xEB);
	ck_assert_uint_eq(t[6 * 32 + 1], 0xEB);
	for (int i = 2; i < 16; i++)
		ck_assert_uint_eq(t[6 * 32 + i], 0xFF);
	test_md5(t, 6 * 32, md5);
	ck_assert_mem_eq(t + 6 * 32 + 16, md5, 16);
	ck_assert_uint_eq(t[7 * 32], 0xFF);
	ck_assert_uint_eq(t[7 * 32 + 1], 0xFF);

	/* the shared image parser recognises a dump of this flash as a merged image */
	{
		struct ota_esp_image img;
		ota_esp_image_parse(sim_flash_data(&d.flash), sim_flash_size(&d.flash), &img);
		ck_assert_int_eq(img.kind, OTA_IMAGE_MERGED_FLASH);
		ck_assert_uint_eq(img.findings[0].a, 0x10000);
	}

	ck_assert_int_eq(ota_partition_table_read(sim_flash_ops(&d.flash), test_hash_ops(), 0, p,
						  OTA_MAX_PARTITIONS, &n),
			 OTA_OK);
	ck_assert_uint_eq(n, 6);
	ck_assert_uint_eq(d.slots.app_count, 2);
	ck_assert_ptr_nonnull(d.slots.fs);
	ck_assert_uint_eq(d.slots.fs->size, FS_SIZE);

	/* one flipped bit in an entry: the MD5 entry catches it */
	t[8] ^= 0x01;
	ck_assert_int_eq(ota_partition_table_read(sim_flash_ops(&d.flash), test_hash_ops(), 0, p,
						  OTA_MAX_PARTITIONS, &n),
			 OTA_E_PARTITION_TABLE);
	ck_assert_int_eq(test_dev_reinit(&d), OTA_E_PARTITION_TABLE);
	t[8] ^= 0x01;
	/* a bad magic ends the table with an error */
	t[32] = 0x12;
	ck_assert_int_eq(test_dev_reinit(&d), OTA_E_PARTITION_TABLE);
	test_dev_close(&d);
}
END_TEST

START_TEST(test_init_refuses_bad_config)
{
	struct test_dev d;
	struct ota_slots s;
	struct ota_slots_config c;
	ck_assert_int_eq(test_dev_open(&d, SLOT_SIZE, OTA_FS_NONE, 1), OTA_OK);
	c = d.cfg;
	c.scratch_len = 16;
	ck_assert_int_eq(ota_slots_init(&s, &c), OTA_E_BAD_ARGS);
	c = d.cfg;
	c.hash = NULL;
	ck_assert_int_eq(ota_slots_init(&s, &c), OTA_E_BAD_ARGS);
	c = d.cfg;
	c.chip = OTA_CHIP_UNKNOWN;
	ck_assert_int_eq(ota_slots_init(&s, &c), OTA_E_BAD_ARGS);
	ck_assert_ptr_null(d.slots.fs);
	/* an erased table */
	memset(sim_flash_data(&d.flash) + OTA_PARTITION_TABLE_OFFSET, 0xFF, 0x1000);
	ck_assert_int_eq(ota_slots_init(&s, &d.cfg), OTA_E_PARTITION_TABLE);
	test_dev_close(&d);
}
END_TEST

/* ---- the state machine (specs/esp-images.md 4.6) ---- */

START_TEST(test_initial_contents)
{
	struct test_dev d;
	struct ota_select_entry e;
	dev_with_a(&d, 1);
	e = entry(&d, 0);
	ck_assert_uint_eq(e.seq, 1);
	ck_assert_uint_eq(e.state, OTA_IMG_VALID);
	ck_assert_uint_eq(e.crc, 0x4743989Au);
	ck_assert(entry_blank(&d, 1));
	ck_assert_int_eq(ota_slots_running(&d.slots), 0);
	ck_assert_int_eq(ota_slots_boot_slot(&d.slots), 0);
	ck_assert_int_eq(ota_slots_next_update_slot(&d.slots), 1);
	test_dev_close(&d);
}
END_TEST

START_TEST(test_blank_flash_no_bootable)
{
	struct test_dev d;
	struct ota_boot_result r;
	ck_assert_int_eq(test_dev_open(&d, SLOT_SIZE, OTA_FS_NONE, 1), OTA_OK);
	ck_assert_int_eq(ota_boot(&d.slots, &r), OTA_E_NO_BOOTABLE);
	ck_assert_int_eq(ota_slots_running(&d.slots), OTA_SLOT_NONE);
	ck_assert(entry_blank(&d, 0));
	test_dev_close(&d);
}
END_TEST

START_TEST(test_update_confirm)
{
	struct test_dev d;
	struct ota_boot_result r;
	struct ota_select_entry e;
	struct ota_update u;
	uint32_t st = 0;
	uint64_t ops;

	dev_with_a(&d, 1);
	ck_assert_int_eq(
	    test_dev_update(&d, OTA_SLOT_NEXT, img_b, len_b, 1460, OTA_ERASE_UP_FRONT, true),
	    OTA_OK);
	/* set_boot(B) while A active (seq 1): entry 1 := {2, NEW} */
	e = entry(&d, 1);
	ck_assert_uint_eq(e.seq, 2);
	ck_assert_uint_eq(e.state, OTA_IMG_NEW);
	ck_assert_uint_eq(e.crc, 0x55F63774u);
	ck_assert_int_eq(ota_slots_get_state(&d.slots, 1, &st), OTA_OK);
	ck_assert_uint_eq(st, OTA_IMG_NEW);
	ck_assert_int_eq(ota_slots_boot_slot(&d.slots), 1);
	ck_assert_int_eq(ota_slots_running(&d.slots), 0);

	/* reboot: NEW -> PENDING_VERIFY, B boots */
	ck_assert_int_eq(test_dev_reinit(&d), OTA_OK);
	ck_assert_int_eq(ota_boot(&d.slots, &r), 1);
	ck_assert_int_eq(r.selected, 1);
	ck_assert_int_eq(r.entry, 1);
	ck_assert_uint_eq(r.state, OTA_IMG_PENDING_VERIFY);
	ck_assert(!r.fallback);
	ck_assert_str_eq(r.image.version, "2.0.0");
	ck_assert_str_eq(r.image.project_name, "espfleet-test");
	ck_assert_uint_eq(r.image.image_len, len_b);
	ck_assert_mem_eq(r.image.sha256, img_b + len_b - 32, 32);
	ck_assert_uint_eq(entry(&d, 1).state, OTA_IMG_PENDING_VERIFY);

	/* no new update while unconfirmed */
	ck_assert_int_eq(
	    ota_update_begin(&u, &d.slots, OTA_SLOT_NEXT, OTA_SIZE_UNKNOWN, OTA_ERASE_LAZY),
	    OTA_E_BAD_STATE);
	/* the running slot is never a target */
	ck_assert_int_eq(ota_update_begin(&u, &d.slots, 1, OTA_SIZE_UNKNOWN, OTA_ERASE_LAZY),
			 OTA_E_CONFLICT);

	/* mark_valid: PENDING_VERIFY -> VALID, same seq; a second call writes nothing */
	ck_assert_int_eq(ota_slots_mark_valid(&d.slots), OTA_OK);
	e = entry(&d, 1);
	ck_assert_uint_eq(e.seq, 2);
	ck_assert_uint_eq(e.state, OTA_IMG_VALID);
	ops = sim_flash_op_count(&d.flash);
	ck_assert_int_eq(ota_slots_mark_valid(&d.slots), OTA_OK);
	ck_assert_uint_eq(sim_flash_op_count(&d.flash), ops);

	/* reboot: still B, nothing written */
	ck_assert_int_eq(ota_boot(&d.slots, &r), 1);
	ck_assert_uint_eq(r.state, OTA_IMG_VALID);
	ck_assert_uint_eq(sim_flash_op_count(&d.flash), ops);
	ck_assert_int_eq(ota_slots_rollback_possible(&d.slots), true);
	ck_assert_int_eq(ota_slots_last_invalid(&d.slots), OTA_SLOT_NONE);
	ck_assert_uint_eq(sim_flash_violations(&d.flash), 0);
	test_dev_close(&d);
}
END_TEST

START_TEST(test_unconfirmed_rolls_back)
{
	struct test_dev d;
	struct ota_boot_result r;
	struct ota_select_entry e;
	uint32_t st = 0;

	dev_with_a(&d, 1);
	ck_assert_int_eq(test_dev_update(&d, 1, img_b, len_b, 4096, OTA_ERASE_LAZY, true), OTA_OK);
	ck_assert_int_eq(ota_boot(&d.slots, &r), 1);
	ck_assert_uint_eq(r.state, OTA_IMG_PENDING_VERIFY);
	/* reset before mark_valid: PENDING_VERIFY -> ABORTED, entry 0 wins again */
	ck_assert_int_eq(test_dev_reinit(&d), OTA_OK);
	ck_assert_int_eq(ota_boot(&d.slots, &r), 0);
	ck_assert_uint_eq(r.aborted, 1);
	ck_assert_int_eq(r.entry, 0);
	ck_assert_uint_eq(r.state, OTA_IMG_VALID);
	ck_assert_str_eq(r.image.version, "1.0.0");
	e = entry(&d, 1);
	ck_assert_uint_eq(e.seq, 2);
	ck_assert_uint_eq(e.state, OTA_IMG_ABORTED);
	ck_assert_int_eq(ota_slots_get_state(&d.slots, 1, &st), OTA_OK);
	ck_assert_uint_eq(st, OTA_IMG_ABORTED);
	ck_assert_int_eq(ota_slots_last_invalid(&d.slots), 1);
	ck_assert_int_eq(ota_slots_boot_slot(&d.slots), 0);
	/* and A stays: another reboot writes nothing */
	{
		uint64_t ops = sim_flash_op_count(&d.flash);
		ck_assert_int_eq(ota_boot(&d.slots, &r), 0);
		ck_assert_uint_eq(sim_flash_op_count(&d.flash), ops);
	}

	/* the next update erases the stale entry 1 (it names slot 1, not the running 0) */
	{
		struct ota_update u;
		ck_assert_int_eq(
		    ota_update_begin(&u, &d.slots, OTA_SLOT_NEXT, OTA_SIZE_UNKNOWN, OTA_ERASE_LAZY),
		    OTA_OK);
		ck_assert(entry_blank(&d, 1));
		ck_assert_int_eq(ota_update_slot(&u), 1);
		ota_update_abort(&u);
	}
	ck_assert_uint_eq(sim_flash_violations(&d.flash), 0);
	test_dev_close(&d);
}
END_TEST

/* program an otadata entry the way IDF does (erase the sector, write 32 bytes) */
static void
put_entry(struct test_dev *d, int i, uint32_t seq, uint32_t state)
{
	const struct ota_flash_ops *o = sim_flash_ops(&d->flash);
	struct ota_select_entry e;
	uint8_t raw[32];
	uint32_t at = OTA_DEFAULT_OTADATA_OFFSET + 0x1000u * (unsigned)i;
	memset(&e, 0xFF, sizeof(e));
	e.seq = seq;
	e.state = state;
	e.crc = ota_select_entry_crc(seq);
	ota_select_entry_encode(&e, raw);
	ck_assert_int_eq(o->erase(o->user, at, 0x1000), 0);
	ck_assert_int_eq(o->write(o->user, at, raw, 32), 0);
}

START_TEST(test_begin_keeps_entry_of_running_slot)
{
	struct test_dev d;
	struct ota_boot_result r;
	struct ota_update u;
	dev_with_a(&d, 1);
	/* both entries name slot 0 (seq 3 and seq 1): the inactive one is not stale */
	put_entry(&d, 0, 3, OTA_IMG_VALID);
	put_entry(&d, 1, 1, OTA_IMG_VALID);
	ck_assert_int_eq(ota_boot(&d.slots, &r), 0);
	ck_assert_int_eq(r.entry, 0);
	ck_assert_int_eq(ota_update_begin(&u, &d.slots, 1, OTA_SIZE_UNKNOWN, OTA_ERASE_LAZY),
			 OTA_OK);
	ck_assert_uint_eq(entry(&d, 1).seq, 1);
	ota_update_abort(&u);
	/* an INVALID entry with a good CRC naming the target is erased like a valid one */
	put_entry(&d, 1, 2, OTA_IMG_INVALID);
	ck_assert_int_eq(ota_update_begin(&u, &d.slots, 1, OTA_SIZE_UNKNOWN, OTA_ERASE_LAZY),
			 OTA_OK);
	ck_assert(entry_blank(&d, 1));
	ota_update_abort(&u);
	/* set_boot(1) from seq 3 on slot 0: entry 1 := {4, NEW} */
	ck_assert_int_eq(test_dev_update(&d, 1, img_b, len_b, 2048, OTA_ERASE_UP_FRONT, true),
			 OTA_OK);
	ck_assert_uint_eq(entry(&d, 1).seq, 4);
	ck_assert_uint_eq(entry(&d, 1).state, OTA_IMG_NEW);
	/* a port whose real bootloader chose the slot says which one runs */
	ck_assert_int_eq(ota_slots_set_running(&d.slots, 1), OTA_OK);
	ck_assert_int_eq(ota_slots_next_update_slot(&d.slots), 0);
	ck_assert_int_eq(ota_slots_set_running(&d.slots, 2), OTA_E_NOT_FOUND);
	ck_assert_uint_eq(sim_flash_violations(&d.flash), 0);
	test_dev_close(&d);
}
END_TEST

START_TEST(test_mark_invalid_rolls_back)
{
	struct test_dev d;
	struct ota_boot_result r;

	dev_with_a(&d, 4);
	/* with only A there is nothing to roll back to */
	ck_assert(!ota_slots_rollback_possible(&d.slots));
	ck_assert_int_eq(ota_slots_mark_invalid(&d.slots), OTA_E_ROLLBACK);
	ck_assert_uint_eq(entry(&d, 0).state, OTA_IMG_VALID);

	ck_assert_int_eq(test_dev_update(&d, 1, img_b, len_b, 1000, OTA_ERASE_UP_FRONT, true),
			 OTA_OK);
	ck_assert_int_eq(ota_boot(&d.slots, &r), 1);
	ck_assert(ota_slots_rollback_possible(&d.slots));
	ck_assert_int_eq(ota_slots_mark_invalid(&d.slots), OTA_OK);
	ck_assert_uint_eq(entry(&d, 1).state, OTA_IMG_INVALID);
	ck_assert_uint_eq(entry(&d, 1).seq, 2);
	/* the reboot after it */
	ck_assert_int_eq(ota_boot(&d.slots, &r), 0);
	ck_assert_uint_eq(r.aborted, 0);
	ck_assert_str_eq(r.image.version, "1.0.0");
	ck_assert_int_eq(ota_slots_last_invalid(&d.slots), 1);
	ck_assert_uint_eq(sim_flash_violations(&d.flash), 0);
	test_dev_close(&d);
}
END_TEST

START_TEST(test_seq_keeps_growing)
{
	struct test_dev d;
	struct ota_boot_result r;
	const uint8_t *imgs[2];
	size_t lens[2];

	dev_with_a(&d, 1);
	imgs[0] = img_a;
	imgs[1] = img_b;
	lens[0] = len_a;
	lens[1] = len_b;
	/* A(seq1) -> B(2) -> A(3) -> B(4) -> A(5) */
	for (uint32_t round = 0; round < 4; round++) {
		int target = ota_slots_next_update_slot(&d.slots);
		int idx = (int)((round + 1) % 2);
		struct ota_select_entry e;
		ck_assert_int_eq(target, idx);
		ck_assert_int_eq(test_dev_update(&d, target, imgs[idx], lens[idx], 777,
						 round % 2 ? OTA_ERASE_LAZY : OTA_ERASE_UP_FRONT,
						 true),
				 OTA_OK);
		ck_assert_int_eq(ota_boot(&d.slots, &r), target);
		ck_assert_int_eq(ota_slots_mark_valid(&d.slots), OTA_OK);
		e = entry(&d, r.entry);
		ck_assert_uint_eq(e.seq, round + 2);
		ck_assert_uint_eq(e.state, OTA_IMG_VALID);
		ck_assert_int_eq(r.entry, (int)((round + 1) % 2));
		ck_assert(test_dev_slot_holds(&d, target, imgs[idx], lens[idx]));
	}
	ck_assert_uint_eq(sim_flash_violations(&d.flash), 0);
	test_dev_close(&d);
}
END_TEST

START_TEST(test_set_boot_same_slot_and_no_rollback)
{
	struct test_dev d;
	struct ota_boot_result r;
	struct ota_select_entry e;
	struct ota_update u;

	dev_with_a(&d, 1);
	/* selecting the already selected slot rewrites that entry's state only */
	ck_assert_int_eq(ota_slots_set_boot(&d.slots, 0), OTA_OK);
	e = entry(&d, 0);
	ck_assert_uint_eq(e.seq, 1);
	ck_assert_uint_eq(e.state, OTA_IMG_NEW);
	ck_assert(entry_blank(&d, 1));
	ck_assert_int_eq(ota_boot(&d.slots, &r), 0);
	ck_assert_uint_eq(r.state, OTA_IMG_PENDING_VERIFY);
	ck_assert_int_eq(ota_slots_mark_valid(&d.slots), OTA_OK);
	/* an empty slot cannot be selected */
	ck_assert_int_eq(ota_slots_set_boot(&d.slots, 1), OTA_E_BAD_MAGIC);
	ck_assert_int_eq(ota_slots_set_boot(&d.slots, 2), OTA_E_NOT_FOUND);

	/* without rollback: UNDEFINED, bootable, no PENDING_VERIFY step, begin not refused */
	d.cfg.rollback = false;
	ck_assert_int_eq(test_dev_reinit(&d), OTA_OK);
	ck_assert_int_eq(ota_boot(&d.slots, &r), 0);
	ck_assert_int_eq(test_dev_update(&d, 1, img_b, len_b, 4096, OTA_ERASE_UP_FRONT, true),
			 OTA_OK);
	ck_assert_uint_eq(entry(&d, 1).state, OTA_IMG_UNDEFINED);
	ck_assert_int_eq(ota_boot(&d.slots, &r), 1);
	ck_assert_uint_eq(r.state, OTA_IMG_UNDEFINED);
	ck_assert_uint_eq(entry(&d, 1).state, OTA_IMG_UNDEFINED);
	ck_assert_int_eq(ota_update_begin(&u, &d.slots, 0, (uint32_t)len_a, OTA_ERASE_LAZY),
			 OTA_OK);
	ota_update_abort(&u);
	test_dev_close(&d);
}
END_TEST

START_TEST(test_fallback_when_selected_slot_is_broken)
{
	struct test_dev d;
	struct ota_boot_result r;
	dev_with_a(&d, 1);
	ck_assert_int_eq(test_dev_update(&d, 1, img_b, len_b, 4096, OTA_ERASE_LAZY, true), OTA_OK);
	/* B rots on flash (a bit of segment data flips from 1 to 0) */
	sim_flash_data(&d.flash)[0x30000 + 2000] &= 0xFE;
	sim_flash_data(&d.flash)[0x30000 + 2001] &= 0xFE;
	ck_assert_int_ne(ota_slots_verify(&d.slots, 1, NULL), OTA_OK);
	ck_assert_int_eq(ota_boot(&d.slots, &r), 0);
	ck_assert_int_eq(r.selected, 1);
	ck_assert(r.fallback);
	ck_assert_str_eq(r.image.version, "1.0.0");
	/* otadata is left as it was, apart from NEW -> PENDING_VERIFY */
	ck_assert_uint_eq(entry(&d, 1).state, OTA_IMG_PENDING_VERIFY);
	/* both broken: nothing boots */
	sim_flash_data(&d.flash)[0x10000 + 3000] ^= 0x55;
	ck_assert_int_eq(ota_boot(&d.slots, &r), OTA_E_NO_BOOTABLE);
	test_dev_close(&d);
}
END_TEST

START_TEST(test_busy_and_abort)
{
	struct test_dev d;
	struct ota_update u;
	struct ota_update v;
	dev_with_a(&d, 1);
	ck_assert_int_eq(ota_update_begin(&u, &d.slots, 1, OTA_SIZE_UNKNOWN, OTA_ERASE_LAZY),
			 OTA_OK);
	ck_assert_int_eq(ota_update_begin(&v, &d.slots, OTA_SLOT_FS, 100, OTA_ERASE_LAZY),
			 OTA_E_BUSY);
	ck_assert_int_eq(ota_update_write(&u, img_b, 5000), OTA_OK);
	ck_assert_uint_eq(ota_update_written(&u), 5000);
	ota_update_abort(&u);
	/* an aborted image has no header and never boots */
	ck_assert_int_eq(ota_slots_verify(&d.slots, 1, NULL), OTA_E_BAD_MAGIC);
	ck_assert_int_eq(ota_update_write(&u, img_b, 10), OTA_E_BAD_ARGS);
	ck_assert_int_eq(ota_update_end(&u, NULL), OTA_E_BAD_STATE);
	ck_assert_int_eq(ota_update_begin(&v, &d.slots, 1, 100, OTA_ERASE_LAZY), OTA_OK);
	ota_update_abort(&v);
	ck_assert_int_eq(ota_update_begin(&v, &d.slots, 7, 100, OTA_ERASE_LAZY), OTA_E_NOT_FOUND);
	test_dev_close(&d);
}
END_TEST

/* ---- image checks: each bad image leaves the device on A ---- */

enum bad_kind {
	BAD_MAGIC,
	BAD_CHIP,
	BAD_REVISION,
	BAD_TOO_BIG,
	BAD_TOO_BIG_UNKNOWN_SIZE,
	BAD_CHECKSUM,
	BAD_SHA256,
	BAD_MD5,
	BAD_TRUNCATED,
	BAD_SEGMENT_LEN,
	BAD_SEGMENT_COUNT,
	BAD_NO_APP_DESC,
	BAD_LAST
};

static const struct {
	const char *name;
	int rc;
} bad_table[BAD_LAST] = {
    [BAD_MAGIC] = {"magic", OTA_E_BAD_MAGIC},
    [BAD_CHIP] = {"chip", OTA_E_WRONG_CHIP},
    [BAD_REVISION] = {"revision", OTA_E_WRONG_CHIP},
    [BAD_TOO_BIG] = {"too big", OTA_E_NO_SPACE},
    [BAD_TOO_BIG_UNKNOWN_SIZE] = {"too big, size unknown", OTA_E_NO_SPACE},
    [BAD_CHECKSUM] = {"checksum", OTA_E_CHECKSUM},
    [BAD_SHA256] = {"sha256", OTA_E_SHA256},
    [BAD_MD5] = {"md5", OTA_E_MD5},
    [BAD_TRUNCATED] = {"truncated", OTA_E_BAD_IMAGE},
    [BAD_SEGMENT_LEN] = {"segment length", OTA_E_BAD_IMAGE},
    [BAD_SEGMENT_COUNT] = {"segment count", OTA_E_BAD_IMAGE},
    [BAD_NO_APP_DESC] = {"app description", OTA_E_BAD_IMAGE},
};

static uint8_t bad_img[2 * SLOT_SIZE];

/* the bad image for @kind in bad_img, its length in *len */
static void
make_bad(enum bad_kind kind, size_t *len)
{
	struct test_image_opts o = {.version = "6.6.6", .len = 40000, .seed = 6};
	if (kind == BAD_CHIP)
		o.chip_id = 0x0005; /* ESP32-C3 */
	if (kind == BAD_REVISION)
		o.min_rev = 301;
	if (kind == BAD_TOO_BIG || kind == BAD_TOO_BIG_UNKNOWN_SIZE)
		o.len = SLOT_SIZE + 4096;
	*len = test_image_build(bad_img, sizeof(bad_img), &o);
	ck_assert_uint_gt(*len, 0);
	switch (kind) {
	case BAD_MAGIC:
		bad_img[0] = 0xEA;
		break;
	case BAD_CHECKSUM:
		/* the checksum byte itself: the SHA-256 is fixed up, so only the XOR is wrong */
		bad_img[*len - 33] ^= 0x01;
		test_sha256(bad_img, *len - 32, bad_img + *len - 32);
		break;
	case BAD_SHA256:
		bad_img[*len - 1] ^= 0x80;
		break;
	case BAD_TRUNCATED:
		*len -= 100;
		break;
	case BAD_SEGMENT_LEN:
		bad_img[24 + 4] = 0x02; /* segment 0 length 0x202: not a multiple of 4 */
		bad_img[24 + 5] = 0x02;
		break;
	case BAD_SEGMENT_COUNT:
		bad_img[1] = 17;
		break;
	case BAD_NO_APP_DESC:
		/* checksum and SHA-256 fixed up: only the esp_app_desc_t magic is wrong */
		bad_img[0x20] ^= 0xFF;
		bad_img[*len - 33] ^= 0xFF;
		test_sha256(bad_img, *len - 32, bad_img + *len - 32);
		break;
	default:
		break;
	}
}

START_TEST(test_bad_image_keeps_old)
{
	enum bad_kind kind = (enum bad_kind)_i;
	struct test_dev d;
	struct ota_boot_result r;
	struct ota_select_entry before[2];
	struct ota_select_entry after[2];
	struct ota_update u;
	size_t len = 0;
	int rc;

	dev_with_a(&d, 4);
	make_bad(kind, &len);
	ck_assert_int_eq(ota_slots_read_otadata(&d.slots, before), OTA_OK);

	rc = ota_update_begin(&u, &d.slots, 1,
			      kind == BAD_TOO_BIG_UNKNOWN_SIZE ? OTA_SIZE_UNKNOWN : (uint32_t)len,
			      OTA_ERASE_LAZY);
	if (rc == OTA_OK) {
		uint8_t md5[16];
		test_md5(bad_img, len, md5);
		if (kind == BAD_MD5)
			md5[3] ^= 0x10;
		ck_assert_int_eq(ota_update_set_md5(&u, md5), OTA_OK);
		for (size_t off = 0; off < len && rc == OTA_OK; off += 1460) {
			size_t n = len - off < 1460 ? len - off : 1460;
			rc = ota_update_write(&u, bad_img + off, n);
		}
		if (rc == OTA_OK)
			rc = ota_update_end(&u, NULL);
		else
			ck_assert_int_eq(ota_update_end(&u, NULL), rc);
	}
	ck_assert_msg(rc == bad_table[kind].rc, "%s: got %d (%s), want %d", bad_table[kind].name,
		      rc, ota_strerror(rc), bad_table[kind].rc);

	/* nothing bootable in slot 1, nothing selects it, A still boots */
	ck_assert_int_ne(ota_slots_verify(&d.slots, 1, NULL), OTA_OK);
	ck_assert_int_ne(sim_flash_data(&d.flash)[0x30000], 0xE9);
	ck_assert_int_ne(ota_slots_set_boot(&d.slots, 1), OTA_OK);
	ck_assert_int_eq(ota_slots_read_otadata(&d.slots, after), OTA_OK);
	ck_assert_mem_eq(before, after, sizeof(before));
	ck_assert_int_eq(ota_boot(&d.slots, &r), 0);
	ck_assert_str_eq(r.image.version, "1.0.0");
	ck_assert(!r.fallback);
	/* and a good update still works */
	ck_assert_int_eq(test_dev_update(&d, 1, img_b, len_b, 1460, OTA_ERASE_LAZY, true), OTA_OK);
	ck_assert_int_eq(ota_boot(&d.slots, &r), 1);
	ck_assert_uint_eq(sim_flash_violations(&d.flash), 0);
	test_dev_close(&d);
}
END_TEST

/* the streaming check and the shared parser agree on every bad image */
START_TEST(test_verify_agrees_with_parser)
{
	enum bad_kind kind = (enum bad_kind)_i;
	struct test_dev d;
	struct ota_esp_image img;
	size_t len = 0;
	bool parser_ok;
	int rc;

	/* MD5, size and revision are not properties of the bytes alone; a missing app
	 * description is only a warning on the desktop, the device refuses it (as
	 * esp_ota_get_partition_description() would fail on it) */
	if (kind == BAD_MD5 || kind == BAD_TOO_BIG || kind == BAD_TOO_BIG_UNKNOWN_SIZE ||
	    kind == BAD_REVISION || kind == BAD_NO_APP_DESC)
		return;
	build_images();
	ck_assert_int_eq(test_dev_open(&d, SLOT_SIZE, OTA_FS_NONE, 1), OTA_OK);
	make_bad(kind, &len);
	memcpy(sim_flash_data(&d.flash) + 0x30000, bad_img, len);
	rc = ota_slots_verify(&d.slots, 1, NULL);
	parser_ok = ota_esp_image_parse(bad_img, len, &img);
	parser_ok = ota_esp_image_check_digests(bad_img, len, &img, test_hash_ops()) && parser_ok;
	if (kind == BAD_CHIP)
		parser_ok = parser_ok && img.chip == OTA_CHIP_ESP32;
	ck_assert_msg(!parser_ok && rc != OTA_OK, "%s: parser %d, verify %d", bad_table[kind].name,
		      parser_ok, rc);

	/* and on the good ones, with the same facts */
	memcpy(sim_flash_data(&d.flash) + 0x30000, img_b, len_b);
	{
		struct ota_image_info info;
		ck_assert_int_eq(ota_slots_verify(&d.slots, 1, &info), OTA_OK);
		ck_assert(ota_esp_image_parse(img_b, len_b, &img));
		ck_assert(ota_esp_image_check_digests(img_b, len_b, &img, test_hash_ops()));
		ck_assert_uint_eq(info.image_len, img.image_len);
		ck_assert_uint_eq(info.segment_count, img.segment_count);
		ck_assert_uint_eq(info.entry_addr, img.entry_addr);
		ck_assert_str_eq(info.version, img.app_desc.version);
		ck_assert_str_eq(info.project_name, img.app_desc.project_name);
	}
	test_dev_close(&d);
}
END_TEST

START_TEST(test_no_hash_image_and_revision_window)
{
	struct test_dev d;
	struct test_image_opts o = {.version = "legacy", .len = 20000, .seed = 9, .no_hash = true};
	struct ota_image_info info;
	size_t len;
	build_images();
	ck_assert_int_eq(test_dev_open(&d, SLOT_SIZE, OTA_FS_NONE, 1), OTA_OK);
	len = test_image_build(bad_img, sizeof(bad_img), &o);
	memcpy(sim_flash_data(&d.flash) + 0x30000, bad_img, len);
	ck_assert_int_eq(ota_slots_verify(&d.slots, 1, &info), OTA_OK);
	ck_assert(!info.hash_appended);
	ck_assert_uint_eq(info.image_len, len);
	/* a flipped data byte is still caught by the checksum */
	sim_flash_data(&d.flash)[0x30000 + 5000] ^= 0x04;
	ck_assert_int_eq(ota_slots_verify(&d.slots, 1, NULL), OTA_E_CHECKSUM);

	/* max_chip_rev_full below the device's revision (3.00) */
	o.no_hash = false;
	o.max_rev = 199;
	len = test_image_build(bad_img, sizeof(bad_img), &o);
	memcpy(sim_flash_data(&d.flash) + 0x30000, bad_img, len);
	ck_assert_int_eq(ota_slots_verify(&d.slots, 1, NULL), OTA_E_WRONG_CHIP);
	o.max_rev = 399;
	len = test_image_build(bad_img, sizeof(bad_img), &o);
	memcpy(sim_flash_data(&d.flash) + 0x30000, bad_img, len);
	ck_assert_int_eq(ota_slots_verify(&d.slots, 1, NULL), OTA_OK);
	test_dev_close(&d);
}
END_TEST

START_TEST(test_esp8266_images)
{
	struct test_dev d;
	struct ota_boot_result r;
	size_t len;
	build_images();
	ck_assert_int_eq(test_dev_open(&d, SLOT_SIZE, OTA_FS_NONE, 1), OTA_OK);
	d.cfg.chip = OTA_CHIP_ESP8266;
	ck_assert_int_eq(test_dev_reinit(&d), OTA_OK);
	len = test_image_build_v1(bad_img, sizeof(bad_img), 30000, 3);
	memcpy(sim_flash_data(&d.flash) + 0x10000, bad_img, len);
	ck_assert_int_eq(ota_boot(&d.slots, &r), 0);
	ck_assert_uint_eq(r.image.image_len, len);
	ck_assert_uint_eq(r.image.chip_id, 0xFFFF);
	/* the shared parser reads the same image the same way */
	{
		struct ota_esp_image img;
		ck_assert(ota_esp_image_parse(bad_img, len, &img));
		ck_assert_int_eq(img.chip, OTA_CHIP_ESP8266);
		ck_assert_uint_eq(img.image_len, len);
	}
	/* an ESP32 image is refused on an ESP8266 */
	ck_assert_int_eq(test_dev_update(&d, 1, img_b, len_b, 1460, OTA_ERASE_LAZY, true),
			 OTA_E_BAD_IMAGE);
	/* a v1 image is refused on an ESP32 */
	d.cfg.chip = OTA_CHIP_ESP32;
	ck_assert_int_eq(test_dev_reinit(&d), OTA_OK);
	ck_assert_int_eq(ota_slots_verify(&d.slots, 0, NULL), OTA_E_WRONG_CHIP);
	test_dev_close(&d);
}
END_TEST

/* ---- verification reads flash through the shared parser ---- */

/* the simulated flash, except that a read covering fail_addr fails */
struct failing_flash {
	const struct ota_flash_ops *inner;
	uint32_t fail_addr;
	bool armed;
};

static int
failing_read(void *user, uint32_t addr, void *buf, size_t len)
{
	struct failing_flash *ff = user;
	if (ff->armed && ff->fail_addr >= addr && ff->fail_addr - addr < len)
		return -1;
	return ff->inner->read(ff->inner->user, addr, buf, len);
}

static int
failing_write(void *user, uint32_t addr, const void *buf, size_t len)
{
	struct failing_flash *ff = user;
	return ff->inner->write(ff->inner->user, addr, buf, len);
}

static int
failing_erase(void *user, uint32_t addr, size_t len)
{
	struct failing_flash *ff = user;
	return ff->inner->erase(ff->inner->user, addr, len);
}

START_TEST(test_verify_read_error)
{
	struct test_dev d;
	struct failing_flash ff;
	struct ota_flash_ops ops;
	struct ota_update u;
	struct ota_boot_result r;

	dev_with_a(&d, 1);
	ck_assert_int_eq(test_dev_update(&d, 1, img_b, len_b, 4096, OTA_ERASE_LAZY, true), OTA_OK);
	ff.inner = sim_flash_ops(&d.flash);
	ff.armed = false;
	ops = *ff.inner;
	ops.user = &ff;
	ops.read = failing_read;
	ops.write = failing_write;
	ops.erase = failing_erase;
	d.cfg.flash = &ops;
	ck_assert_int_eq(test_dev_reinit(&d), OTA_OK);

	/* in the header, in segment data (the checksum walk), in the SHA-256's input */
	{
		const uint32_t at[] = {0, 600, 20000, (uint32_t)len_b - 40, (uint32_t)len_b - 1};
		for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
			ff.fail_addr = 0x30000 + at[i];
			ff.armed = true;
			ck_assert_int_eq(ota_slots_verify(&d.slots, 1, NULL), OTA_E_FLASH_READ);
			ff.armed = false;
			ck_assert_int_eq(ota_slots_verify(&d.slots, 1, NULL), OTA_OK);
		}
	}
	/* the bootloader falls back to A when B cannot be read */
	ff.fail_addr = 0x30000 + 9000;
	ff.armed = true;
	ck_assert_int_eq(ota_boot(&d.slots, &r), 0);
	ck_assert(r.fallback);
	ff.armed = false;

	/* an update whose bytes cannot be read back never becomes bootable */
	ck_assert_int_eq(ota_update_begin(&u, &d.slots, 1, (uint32_t)len_b, OTA_ERASE_LAZY),
			 OTA_OK);
	ck_assert_int_eq(ota_update_write(&u, img_b, len_b), OTA_OK);
	ff.fail_addr = 0x30000 + 30000;
	ff.armed = true;
	ck_assert_int_eq(ota_update_end(&u, NULL), OTA_E_FLASH_READ);
	ff.armed = false;
	ck_assert_int_ne(sim_flash_data(&d.flash)[0x30000], 0xE9);
	ck_assert_int_ne(ota_slots_verify(&d.slots, 1, NULL), OTA_OK);
	test_dev_close(&d);
}
END_TEST

/* what an earlier, longer image left in the slot after the new one is not part of it */
START_TEST(test_verify_ignores_stale_tail)
{
	struct test_dev d;
	struct ota_image_info info;
	struct ota_boot_result r;
	uint8_t *slot;
	uint32_t seed = 99;

	dev_with_a(&d, 4);
	ck_assert_int_eq(test_dev_update(&d, 1, img_b, len_b, 1460, OTA_ERASE_LAZY, true), OTA_OK);
	slot = sim_flash_data(&d.flash) + 0x30000;
	for (size_t i = len_b; i < SLOT_SIZE; i++) {
		seed = seed * 1103515245u + 12345u;
		slot[i] = (uint8_t)(seed >> 16);
	}
	/* a signature block magic at the next 4 KiB boundary, a signed-update length word at
	 * the slot's end */
	slot[(len_b + 4095) & ~(size_t)4095] = 0xE7;
	ota_put_u32le(slot + SLOT_SIZE - 4, 256);
	ck_assert_int_eq(ota_slots_verify(&d.slots, 1, &info), OTA_OK);
	ck_assert_uint_eq(info.image_len, len_b);
	ck_assert_str_eq(info.version, "2.0.0");
	ck_assert_str_eq(info.project_name, "espfleet-test");
	ck_assert(info.hash_appended);
	ck_assert_mem_eq(info.sha256, img_b + len_b - 32, 32);
	ck_assert_int_eq(ota_boot(&d.slots, &r), 1);
	ck_assert(!r.fallback);
	test_dev_close(&d);
}
END_TEST

/* CRC-32/MPEG-2 (MSB first, no reflection, no final XOR), the Arduino whole-file CRC */
static uint32_t
crc32_mpeg2(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xFFFFFFFFu;
	for (size_t i = 0; i < n; i++) {
		crc ^= (uint32_t)p[i] << 24;
		for (int k = 0; k < 8; k++)
			crc = (crc & 0x80000000u) ? (crc << 1) ^ 0x04C11DB7u : crc << 1;
	}
	return crc;
}

/* an Arduino ESP8266 .bin: eboot (a v1 image), 0xAA fill, the sketch at 0x1000 whose first
 * 8 data bytes hold the whole-file CRC (elf2bin: checksum first, then the CRC words) */
static size_t
build_arduino_bin(uint8_t *out, size_t cap)
{
	size_t eboot = test_image_build_v1(out, 0x1000, 2048, 11);
	size_t sketch;
	uint8_t x = 0;
	uint32_t crc;
	ck_assert_uint_gt(eboot, 0);
	memset(out + eboot, 0xAA, 0x1000 - eboot);
	sketch = test_image_build_v1(out + 0x1000, cap - 0x1000, 40000, 12);
	ck_assert_uint_gt(sketch, 0);
	for (size_t i = 0x1010; i < 0x1018; i++) {
		x ^= out[i];
		out[i] = 0;
	}
	out[0x1000 + sketch - 1] ^= x;
	crc = crc32_mpeg2(out, 0x1000 + sketch);
	ota_put_u32le(out + 0x1010, (uint32_t)(0x1000 + sketch));
	ota_put_u32le(out + 0x1014, crc);
	return 0x1000 + sketch;
}

START_TEST(test_esp8266_arduino_bin)
{
	static uint8_t bin[0x10000];
	struct test_dev d;
	struct ota_boot_result r;
	struct ota_image_info info;
	struct ota_esp_image img;
	size_t len = build_arduino_bin(bin, sizeof(bin));

	/* the desktop's reading of the file */
	ck_assert(ota_esp_image_parse(bin, len, &img));
	ck_assert_int_eq(img.kind, OTA_IMAGE_ESP8266_ARDUINO);
	ck_assert(img.arduino_crc_present);

	build_images();
	ck_assert_int_eq(test_dev_open(&d, SLOT_SIZE, OTA_FS_NONE, 1), OTA_OK);
	d.cfg.chip = OTA_CHIP_ESP8266;
	ck_assert_int_eq(test_dev_reinit(&d), OTA_OK);
	len_a = test_image_build_v1(img_a, sizeof(img_a), 30000, 3);
	memcpy(sim_flash_data(&d.flash) + 0x10000, img_a, len_a);
	ck_assert_int_eq(ota_boot(&d.slots, &r), 0);
	ck_assert_int_eq(ota_slots_mark_valid(&d.slots), OTA_OK);

	ck_assert_int_eq(test_dev_update(&d, 1, bin, len, 1460, OTA_ERASE_LAZY, true), OTA_OK);
	ck_assert_int_eq(ota_boot(&d.slots, &r), 1);
	ck_assert_uint_eq(r.image.image_len, len);
	ck_assert_uint_eq(r.image.chip_id, 0xFFFF);
	ck_assert_uint_eq(r.image.segment_count, img.segment_count);
	ck_assert_uint_eq(r.image.entry_addr, img.entry_addr);
	/* a fill byte between eboot and sketch rots: only the whole-file CRC sees it */
	sim_flash_data(&d.flash)[0x30000 + 0xF00] ^= 0x01;
	ck_assert_int_eq(ota_slots_verify(&d.slots, 1, &info), OTA_E_CHECKSUM);
	sim_flash_data(&d.flash)[0x30000 + 0xF00] ^= 0x01;
	ck_assert_int_eq(ota_slots_verify(&d.slots, 1, &info), OTA_OK);
	/* the same file arriving damaged is refused before it can boot */
	bin[0xF00] ^= 0x01;
	ck_assert_int_eq(ota_slots_mark_valid(&d.slots), OTA_OK);
	ck_assert_int_eq(test_dev_update(&d, 0, bin, len, 1460, OTA_ERASE_LAZY, false),
			 OTA_E_CHECKSUM);
	test_dev_close(&d);
}
END_TEST

START_TEST(test_fs_update)
{
	struct test_dev d;
	struct ota_update u;
	uint8_t data[20000];
	uint8_t md5[16];
	dev_with_a(&d, 16);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	test_md5(data, sizeof(data), md5);
	ck_assert_int_eq(ota_update_begin(&u, &d.slots, OTA_SLOT_FS, sizeof(data), OTA_ERASE_LAZY),
			 OTA_OK);
	ck_assert_int_eq(ota_update_slot(&u), OTA_SLOT_FS);
	ck_assert_int_eq(ota_update_set_md5(&u, md5), OTA_OK);
	ck_assert_int_eq(ota_update_write(&u, data, 333), OTA_OK);
	ck_assert_int_eq(ota_update_write(&u, data + 333, sizeof(data) - 333), OTA_OK);
	ck_assert_int_eq(ota_update_end(&u, NULL), OTA_OK);
	ck_assert_mem_eq(sim_flash_data(&d.flash) + d.slots.fs->offset, data, sizeof(data));
	/* otadata is not touched by a filesystem update, nor while the app is unconfirmed */
	ck_assert(entry_blank(&d, 1));
	/* a wrong MD5 leaves the first bytes unwritten */
	md5[0] ^= 1;
	ck_assert_int_eq(
	    ota_update_begin(&u, &d.slots, OTA_SLOT_FS, OTA_SIZE_UNKNOWN, OTA_ERASE_UP_FRONT),
	    OTA_OK);
	ck_assert_int_eq(ota_update_set_md5(&u, md5), OTA_OK);
	ck_assert_int_eq(ota_update_write(&u, data, sizeof(data)), OTA_OK);
	ck_assert_int_eq(ota_update_end(&u, NULL), OTA_E_MD5);
	ck_assert_uint_eq(sim_flash_data(&d.flash)[d.slots.fs->offset], 0xFF);
	/* more than fits */
	ck_assert_int_eq(ota_update_begin(&u, &d.slots, OTA_SLOT_FS, FS_SIZE + 1, OTA_ERASE_LAZY),
			 OTA_E_NO_SPACE);
	ck_assert_uint_eq(sim_flash_violations(&d.flash), 0);
	test_dev_close(&d);
}
END_TEST

START_TEST(test_erase_modes)
{
	struct test_dev d;
	uint64_t ops;
	dev_with_a(&d, 1);
	/* up front with the size unknown: the 128 KiB slot at 0x30000 is two 64 KiB blocks */
	ops = sim_flash_op_count(&d.flash);
	{
		struct ota_update u;
		ck_assert_int_eq(
		    ota_update_begin(&u, &d.slots, 1, OTA_SIZE_UNKNOWN, OTA_ERASE_UP_FRONT),
		    OTA_OK);
		ck_assert_uint_eq(sim_flash_op_count(&d.flash) - ops, 2);
		ck_assert_uint_eq(sim_flash_busy_ns(&d.flash) > 0, 1);
		ota_update_abort(&u);
	}
	/* lazy: one sector erase per 4 KiB written, nothing up front */
	ops = sim_flash_op_count(&d.flash);
	{
		struct ota_update u;
		ck_assert_int_eq(
		    ota_update_begin(&u, &d.slots, 1, OTA_SIZE_UNKNOWN, OTA_ERASE_LAZY), OTA_OK);
		ck_assert_uint_eq(sim_flash_op_count(&d.flash) - ops, 0);
		ck_assert_int_eq(ota_update_write(&u, img_b, 4096 * 3 + 100), OTA_OK);
		/* 4 sector erases and one write (the first 16 bytes are held back) */
		ck_assert_uint_eq(sim_flash_op_count(&d.flash) - ops, 5);
		ota_update_abort(&u);
	}
	/* both leave the same bytes */
	ck_assert_int_eq(test_dev_update(&d, 1, img_b, len_b, 999, OTA_ERASE_LAZY, false), OTA_OK);
	ck_assert(test_dev_slot_holds(&d, 1, img_b, len_b));
	ck_assert_int_eq(test_dev_update(&d, 1, img_b, len_b, 4096, OTA_ERASE_UP_FRONT, false),
			 OTA_OK);
	ck_assert(test_dev_slot_holds(&d, 1, img_b, len_b));
	ck_assert_uint_eq(sim_flash_violations(&d.flash), 0);
	test_dev_close(&d);
}
END_TEST

/* ---- the NOR model ---- */

static struct sim_flash *
small_flash(struct sim_flash *f, uint32_t align, enum sim_flash_violation_mode mode)
{
	struct sim_flash_config c = {
	    .size = 0x20000, .write_align = align, .erased_val = 0xFF, .violation_mode = mode};
	ck_assert_int_eq(sim_flash_open(f, &c), 0);
	return f;
}

START_TEST(test_nor_rules)
{
	struct sim_flash f;
	const struct ota_flash_ops *o;
	uint8_t buf[64];
	uint32_t addr = 0;
	small_flash(&f, 4, SIM_FLASH_VIOLATION_FAIL);
	o = sim_flash_ops(&f);
	memset(buf, 0x5A, sizeof(buf));

	ck_assert_int_eq(o->write(o->user, 0x1000, buf, 16), 0);
	/* the same bytes again without an erase */
	ck_assert_int_eq(o->write(o->user, 0x1008, buf, 4), -1);
	ck_assert_uint_eq(sim_flash_violations(&f), 1);
	ck_assert_int_eq(sim_flash_first_violation(&f, &addr), SIM_FLASH_V_WRITE_NOT_ERASED);
	ck_assert_uint_eq(addr, 0x1008);
	/* even writing 0xFF over a written byte counts: it was not erased */
	memset(buf, 0xFF, 4);
	ck_assert_int_eq(o->write(o->user, 0x1000, buf, 4), -1);
	/* alignment of address and length */
	ck_assert_int_eq(o->write(o->user, 0x2002, buf, 4), -1);
	ck_assert_int_eq(o->write(o->user, 0x2000, buf, 6), -1);
	/* erase: whole sectors only */
	ck_assert_int_eq(o->erase(o->user, 0x1000, 100), -1);
	ck_assert_int_eq(o->erase(o->user, 0x1800, 0x1000), -1);
	ck_assert_int_eq(o->erase(o->user, 0x1000, 0), -1);
	/* range */
	ck_assert_int_eq(o->erase(o->user, 0x20000, 0x1000), -1);
	ck_assert_int_eq(o->read(o->user, 0x1FFF0, buf, 32), -1);
	ck_assert_uint_eq(sim_flash_violations(&f), 9);
	/* failed operations changed nothing and counted nothing */
	ck_assert_uint_eq(sim_flash_op_count(&f), 1);
	ck_assert_uint_eq(sim_flash_data(&f)[0x1008], 0x5A);

	/* after an erase the bytes may be written again */
	ck_assert_int_eq(o->erase(o->user, 0x1000, 0x1000), 0);
	ck_assert_uint_eq(sim_flash_data(&f)[0x1008], 0xFF);
	ck_assert_int_eq(o->write(o->user, 0x1008, buf, 4), 0);
	ck_assert_uint_eq(sim_flash_op_count(&f), 3);
	sim_flash_clear_violations(&f);
	ck_assert_uint_eq(sim_flash_violations(&f), 0);
	ck_assert_int_eq(sim_flash_first_violation(&f, NULL), SIM_FLASH_OK);
	sim_flash_close(&f);
}
END_TEST

START_TEST(test_nor_abort_mode)
{
	struct sim_flash f;
	const struct ota_flash_ops *o;
	uint8_t buf[4] = {1, 2, 3, 4};
	small_flash(&f, 1, SIM_FLASH_VIOLATION_ABORT);
	o = sim_flash_ops(&f);
	ck_assert_int_eq(o->write(o->user, 0, buf, 4), 0);
	o->write(o->user, 2, buf, 1);
	ck_abort_msg("a write over written bytes must abort");
}
END_TEST

static jmp_buf cut_jmp;

START_TEST(test_budget_and_torn)
{
	struct sim_flash f;
	const struct ota_flash_ops *o;
	uint8_t buf[32];
	volatile int step = 0;
	small_flash(&f, 1, SIM_FLASH_VIOLATION_FAIL);
	o = sim_flash_ops(&f);
	memset(buf, 0x11, sizeof(buf));
	sim_flash_set_jmp(&f, &cut_jmp);

	/* the 3rd operation from now is cut before it happens */
	sim_flash_set_budget(&f, 3);
	if (setjmp(cut_jmp) == 0) {
		ck_assert_int_eq(o->write(o->user, 0x0, buf, 32), 0);
		step = 1;
		ck_assert_int_eq(o->write(o->user, 0x100, buf, 32), 0);
		step = 2;
		o->write(o->user, 0x200, buf, 32);
		ck_abort_msg("not cut");
	}
	ck_assert_int_eq(step, 2);
	ck_assert_uint_eq(sim_flash_op_count(&f), 2);
	ck_assert_uint_eq(sim_flash_data(&f)[0x200], 0xFF);
	/* the budget is spent: operations go on */
	ck_assert_int_eq(o->write(o->user, 0x200, buf, 32), 0);

	/* torn write: the first half lands */
	sim_flash_set_torn(&f, true);
	sim_flash_set_budget(&f, 1);
	if (setjmp(cut_jmp) == 0) {
		o->write(o->user, 0x300, buf, 32);
		ck_abort_msg("not cut");
	}
	ck_assert_uint_eq(sim_flash_data(&f)[0x300 + 15], 0x11);
	ck_assert_uint_eq(sim_flash_data(&f)[0x300 + 16], 0xFF);
	/* the torn-off half is still erased and may be written */
	ck_assert_int_eq(o->write(o->user, 0x310, buf, 16), 0);
	ck_assert_int_eq(o->write(o->user, 0x300, buf, 1), -1);

	/* torn erase: the first half of the range is erased, the rest keeps its data */
	sim_flash_set_torn(&f, false);
	ck_assert_int_eq(o->write(o->user, 0x900, buf, 16), 0);
	sim_flash_set_torn(&f, true);
	sim_flash_set_budget(&f, 1);
	if (setjmp(cut_jmp) == 0) {
		o->erase(o->user, 0x0, 0x1000);
		ck_abort_msg("not cut");
	}
	{
		uint32_t addr = 0;
		uint32_t len = 0;
		bool is_write = true;
		ck_assert(sim_flash_last_cut(&f, &addr, &len, &is_write));
		ck_assert_uint_eq(addr, 0);
		ck_assert_uint_eq(len, 0x1000);
		ck_assert(!is_write);
	}
	ck_assert_uint_eq(sim_flash_data(&f)[0x0], 0xFF);
	ck_assert_uint_eq(sim_flash_data(&f)[0x300], 0xFF);
	ck_assert_uint_eq(sim_flash_data(&f)[0x7FF], 0xFF);
	ck_assert_uint_eq(sim_flash_data(&f)[0x900], 0x11);
	ck_assert_int_eq(o->write(o->user, 0x0, buf, 1), 0);
	ck_assert_int_eq(o->write(o->user, 0x900, buf, 1), -1);
	sim_flash_clear_violations(&f);

	/* without a jmp_buf the cut operation fails and so does everything after it */
	sim_flash_set_jmp(&f, NULL);
	sim_flash_set_torn(&f, false);
	sim_flash_set_budget(&f, 2);
	ck_assert_int_eq(o->erase(o->user, 0x1000, 0x1000), 0);
	ck_assert_int_eq(o->erase(o->user, 0x2000, 0x1000), -1);
	ck_assert(sim_flash_power_lost(&f));
	ck_assert_int_eq(o->erase(o->user, 0x3000, 0x1000), -1);
	ck_assert_int_eq(o->read(o->user, 0x0, buf, 4), 0);
	sim_flash_set_budget(&f, 0);
	ck_assert(!sim_flash_power_lost(&f));
	ck_assert_int_eq(o->erase(o->user, 0x3000, 0x1000), 0);
	ck_assert_uint_eq(sim_flash_violations(&f), 0);
	sim_flash_close(&f);
}
END_TEST

START_TEST(test_torn_erase_second_half)
{
	struct sim_flash f;
	const struct ota_flash_ops *o;
	uint8_t buf[16];
	small_flash(&f, 1, SIM_FLASH_VIOLATION_FAIL);
	o = sim_flash_ops(&f);
	memset(buf, 0x22, sizeof(buf));
	ck_assert_int_eq(o->write(o->user, 0x1C00, buf, 16), 0);
	sim_flash_set_jmp(&f, &cut_jmp);
	sim_flash_set_torn(&f, true);
	sim_flash_set_budget(&f, 1);
	if (setjmp(cut_jmp) == 0) {
		o->erase(o->user, 0x1000, 0x1000);
		ck_abort_msg("not cut");
	}
	/* the second half kept its data and is still "written" */
	ck_assert_uint_eq(sim_flash_data(&f)[0x1C00], 0x22);
	ck_assert_int_eq(o->write(o->user, 0x1C00, buf, 1), -1);
	sim_flash_close(&f);
}
END_TEST

START_TEST(test_torn_keep)
{
	struct sim_flash f;
	const struct ota_flash_ops *o;
	uint8_t buf[32];
	small_flash(&f, 1, SIM_FLASH_VIOLATION_FAIL);
	o = sim_flash_ops(&f);
	memset(buf, 0x33, sizeof(buf));
	sim_flash_set_jmp(&f, &cut_jmp);
	sim_flash_set_torn(&f, true);
	/* all but the last byte */
	sim_flash_set_torn_keep(&f, -1);
	sim_flash_set_budget(&f, 1);
	if (setjmp(cut_jmp) == 0) {
		o->write(o->user, 0x100, buf, 32);
		ck_abort_msg("not cut");
	}
	ck_assert_uint_eq(sim_flash_data(&f)[0x100 + 30], 0x33);
	ck_assert_uint_eq(sim_flash_data(&f)[0x100 + 31], 0xFF);
	/* the first 5 bytes */
	sim_flash_set_torn_keep(&f, 5);
	sim_flash_set_budget(&f, 1);
	if (setjmp(cut_jmp) == 0) {
		o->write(o->user, 0x200, buf, 32);
		ck_abort_msg("not cut");
	}
	ck_assert_uint_eq(sim_flash_data(&f)[0x200 + 4], 0x33);
	ck_assert_uint_eq(sim_flash_data(&f)[0x200 + 5], 0xFF);
	/* never the whole operation: a 1-byte write torn is a write that did not happen */
	sim_flash_set_budget(&f, 1);
	if (setjmp(cut_jmp) == 0) {
		o->write(o->user, 0x300, buf, 1);
		ck_abort_msg("not cut");
	}
	ck_assert_uint_eq(sim_flash_data(&f)[0x300], 0xFF);
	ck_assert_uint_eq(sim_flash_op_count(&f), 3);
	sim_flash_close(&f);
}
END_TEST

START_TEST(test_timing_model)
{
	struct sim_flash f;
	const struct ota_flash_ops *o;
	uint8_t buf[512];
	struct timespec t0;
	struct timespec t1;
	double ms;
	small_flash(&f, 1, SIM_FLASH_VIOLATION_FAIL);
	o = sim_flash_ops(&f);
	memset(buf, 0, sizeof(buf));
	/* fast: nothing sleeps, the model still counts */
	ck_assert_int_eq(o->erase(o->user, 0x1000, 0x1000), 0);
	ck_assert_uint_eq(sim_flash_busy_ns(&f), 45000000ull);
	ck_assert_int_eq(o->erase(o->user, 0x10000, 0x10000), 0);
	ck_assert_uint_eq(sim_flash_busy_ns(&f), 195000000ull);
	ck_assert_int_eq(o->write(o->user, 0x1000, buf, 256), 0);
	ck_assert_uint_eq(sim_flash_busy_ns(&f), 195800000ull);
	/* 256 bytes across a page boundary program two pages */
	ck_assert_int_eq(o->write(o->user, 0x1180, buf, 256), 0);
	ck_assert_uint_eq(sim_flash_busy_ns(&f), 197400000ull);
	/* realistic: a sector erase takes about 45 ms */
	sim_flash_set_timing(&f, SIM_FLASH_REALISTIC);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(o->erase(o->user, 0x2000, 0x1000), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	ck_assert_msg(ms >= 44.0, "sector erase took %.1f ms", ms);
	sim_flash_close(&f);
}
END_TEST

START_TEST(test_file_backed)
{
	struct sim_flash f;
	const struct ota_flash_ops *o;
	char path[] = "/tmp/check-slots-flash-XXXXXX";
	struct sim_flash_config c = {.size = 0x20000, .erased_val = 0xFF};
	uint8_t buf[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	c.path = path;
	ck_assert_int_eq(sim_flash_open(&f, &c), 0);
	o = sim_flash_ops(&f);
	ck_assert_uint_eq(sim_flash_data(&f)[0x100], 0xFF);
	ck_assert_int_eq(o->write(o->user, 0x100, buf, 8), 0);
	ck_assert_int_eq(sim_flash_sync(&f), 0);
	sim_flash_close(&f);

	/* a restart keeps the contents, and written bytes are still not writable */
	ck_assert_int_eq(sim_flash_open(&f, &c), 0);
	o = sim_flash_ops(&f);
	ck_assert_mem_eq(sim_flash_data(&f) + 0x100, buf, 8);
	ck_assert_int_eq(o->write(o->user, 0x100, buf, 1), -1);
	ck_assert_int_eq(o->write(o->user, 0x200, buf, 1), 0);
	sim_flash_close(&f);

	/* another geometry is refused */
	c.size = 0x40000;
	ck_assert_int_eq(sim_flash_open(&f, &c), -1);
	unlink(path);
}
END_TEST

static Suite *
slots_suite(void)
{
	Suite *s = suite_create("slots");
	TCase *tc;

	tc = tcase_create("otadata");
	tcase_add_test(tc, test_crc_vectors);
	tcase_add_test(tc, test_entry_encoding);
	tcase_add_test(tc, test_compute_seq);
	tcase_add_test(tc, test_error_texts);
	suite_add_tcase(s, tc);

	tc = tcase_create("partition-table");
	tcase_add_test(tc, test_table_default_layout);
	tcase_add_test(tc, test_table_bytes_and_md5);
	tcase_add_test(tc, test_init_refuses_bad_config);
	suite_add_tcase(s, tc);

	tc = tcase_create("state-machine");
	tcase_add_test(tc, test_initial_contents);
	tcase_add_test(tc, test_blank_flash_no_bootable);
	tcase_add_test(tc, test_update_confirm);
	tcase_add_test(tc, test_unconfirmed_rolls_back);
	tcase_add_test(tc, test_mark_invalid_rolls_back);
	tcase_add_test(tc, test_begin_keeps_entry_of_running_slot);
	tcase_add_test(tc, test_seq_keeps_growing);
	tcase_add_test(tc, test_set_boot_same_slot_and_no_rollback);
	tcase_add_test(tc, test_fallback_when_selected_slot_is_broken);
	tcase_add_test(tc, test_busy_and_abort);
	suite_add_tcase(s, tc);

	tc = tcase_create("image-checks");
	tcase_add_loop_test(tc, test_bad_image_keeps_old, 0, BAD_LAST);
	tcase_add_loop_test(tc, test_verify_agrees_with_parser, 0, BAD_LAST);
	tcase_add_test(tc, test_no_hash_image_and_revision_window);
	tcase_add_test(tc, test_esp8266_images);
	tcase_add_test(tc, test_esp8266_arduino_bin);
	tcase_add_test(tc, test_verify_read_error);
	tcase_add_test(tc, test_verify_ignores_stale_tail);
	tcase_add_test(tc, test_fs_update);
	tcase_add_test(tc, test_erase_modes);
	suite_add_tcase(s, tc);

	tc = tcase_create("nor-model");
	tcase_add_test(tc, test_nor_rules);
	tcase_add_test_raise_signal(tc, test_nor_abort_mode, SIGABRT);
	tcase_add_test(tc, test_budget_and_torn);
	tcase_add_test(tc, test_torn_erase_second_half);
	tcase_add_test(tc, test_torn_keep);
	tcase_add_test(tc, test_timing_model);
	tcase_add_test(tc, test_file_backed);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return fleet_check_run(slots_suite());
}
