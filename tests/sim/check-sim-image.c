/* SPDX-License-Identifier: MIT */
/* check-sim-image.c - the simulator's factory images against the parser and the bootloader */

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "fleet-check-run.h"
#include "ota/ota-errors.h"
#include "ota/ota-esp-image.h"
#include "ota/ota-slots.h"
#include "sim-crypto.h"
#include "sim-flash.h"
#include "sim-image.h"

static const enum ota_chip chips[] = {
    OTA_CHIP_ESP32,   OTA_CHIP_ESP32S2, OTA_CHIP_ESP32S3, OTA_CHIP_ESP32C3,
    OTA_CHIP_ESP32C2, OTA_CHIP_ESP32C6, OTA_CHIP_ESP32H2, OTA_CHIP_ESP8266,
};
#define N_CHIPS (sizeof(chips) / sizeof(chips[0]))

static uint8_t *
build(enum ota_chip chip, const char *project, const char *version, size_t *len)
{
	struct sim_image_opts o;
	uint8_t *img = NULL;
	memset(&o, 0, sizeof(o));
	o.chip = chip;
	o.project = project;
	o.version = version;
	o.flash_size = 4u * 1024u * 1024u;
	ck_assert_int_eq(sim_image_build(&o, &img, len), 0);
	ck_assert_ptr_nonnull(img);
	return img;
}

/* the desktop parser finds a clean image of the right kind, chip and description */
START_TEST(test_parser_accepts)
{
	enum ota_chip chip = chips[_i];
	struct sim_crypto *c = sim_crypto_new();
	struct ota_esp_image *img = calloc(1, sizeof(*img));
	size_t len = 0;
	uint8_t *buf = build(chip, "espfleet-sim", "1.2.3", &len);

	ck_assert_ptr_nonnull(img);
	ck_assert_msg(ota_esp_image_parse(buf, len, img), "%s: parser errors",
		      ota_chip_id_string(chip));
	ck_assert(ota_esp_image_check_digests(buf, len, img, sim_crypto_ops(c)));
	ck_assert(!ota_esp_image_has_errors(img));
	ck_assert_int_eq(img->chip, chip);
	if (chip == OTA_CHIP_ESP8266) {
		ck_assert_int_eq(img->kind, OTA_IMAGE_ESP8266_ARDUINO);
		ck_assert(img->arduino_crc_present);
		ck_assert_uint_eq(img->arduino_crc_stored, img->arduino_crc_computed);
		/* the sketch checksum matches over the final bytes, no elf2bin leniency needed */
		ck_assert_uint_eq(img->checksum_stored, img->checksum_computed);
	} else {
		ck_assert_int_eq(img->kind, OTA_IMAGE_ESP32_APP);
		ck_assert(img->has_app_desc);
		ck_assert(img->hash_present);
		ck_assert_str_eq(img->app_desc.version, "1.2.3");
		ck_assert_str_eq(img->app_desc.project_name, "espfleet-sim");
	}
	free(img);
	free(buf);
	sim_crypto_free(c);
}
END_TEST

/* the description the simulator reads back, for every chip (ESP8266: found by scanning) */
START_TEST(test_app_desc_and_marker)
{
	enum ota_chip chip = chips[_i];
	struct ota_esp_app_desc d;
	size_t len = 0;
	uint8_t *buf = build(chip, "lab-sensor", "2.0.0-bad-app", &len);

	ck_assert(sim_image_app_desc(buf, len, &d));
	ck_assert_str_eq(d.project_name, "lab-sensor");
	ck_assert_str_eq(d.version, "2.0.0-bad-app");
	ck_assert_str_eq(d.idf_ver, sim_idf_version(chip));
	ck_assert(sim_image_is_bad_app(&d));
	free(buf);

	buf = build(chip, "my-bad-app-project", "1.0", &len);
	ck_assert(sim_image_app_desc(buf, len, &d));
	ck_assert(sim_image_is_bad_app(&d));
	free(buf);

	buf = build(chip, "good", "1.0-bad", &len);
	ck_assert(sim_image_app_desc(buf, len, &d));
	ck_assert(!sim_image_is_bad_app(&d));
	free(buf);

	/* a buffer without a description */
	{
		uint8_t zeros[1024] = {0};
		ck_assert(!sim_image_app_desc(zeros, sizeof(zeros), &d));
		ck_assert_str_eq(d.version, "");
	}
}
END_TEST

/* the slots of a device of that chip take the image (as the factory flash does) and boot it;
 * a device of another family refuses it */
START_TEST(test_bootloader_accepts)
{
	enum ota_chip chip = chips[_i];
	enum ota_chip other = chip == OTA_CHIP_ESP8266 ? OTA_CHIP_ESP32 : OTA_CHIP_ESP8266;
	struct sim_crypto *c = sim_crypto_new();
	struct sim_flash flash;
	struct sim_flash_config fc;
	struct ota_slots_config cfg;
	struct ota_slots slots;
	struct ota_update u;
	struct ota_boot_result res;
	static uint8_t scratch[4096];
	size_t len = 0;
	uint8_t *buf = build(chip, "espfleet-sim", "3.1.4", &len);

	memset(&fc, 0, sizeof(fc));
	fc.size = 4u * 1024u * 1024u;
	fc.erased_val = 0xFF;
	fc.violation_mode = SIM_FLASH_VIOLATION_FAIL;
	ck_assert_int_eq(sim_flash_open(&flash, &fc), 0);
	ck_assert_int_eq(ota_partition_table_write_default(sim_flash_ops(&flash), sim_crypto_ops(c),
							   0x180000, 0, scratch, sizeof(scratch)),
			 OTA_OK);
	memset(&cfg, 0, sizeof(cfg));
	cfg.flash = sim_flash_ops(&flash);
	cfg.hash = sim_crypto_ops(c);
	cfg.chip = chip;
	cfg.chip_rev = sim_chip_rev(chip);
	cfg.rollback = true;
	cfg.scratch = scratch;
	cfg.scratch_len = sizeof(scratch);
	ck_assert_int_eq(ota_slots_init(&slots, &cfg), OTA_OK);
	ck_assert_int_eq(ota_update_begin(&u, &slots, 0, (uint32_t)len, OTA_ERASE_LAZY), OTA_OK);
	ck_assert_int_eq(ota_update_write(&u, buf, len), OTA_OK);
	ck_assert_int_eq(ota_update_end(&u, NULL), OTA_OK);
	ck_assert_int_eq(ota_boot(&slots, &res), 0);
	ck_assert_int_eq(res.slot, 0);
	ck_assert(res.initial);
	ck_assert_uint_eq(sim_flash_violations(&flash), 0);

	cfg.chip = other;
	cfg.chip_rev = sim_chip_rev(other);
	ck_assert_int_eq(ota_slots_init(&slots, &cfg), OTA_OK);
	ck_assert_int_ne(ota_slots_verify(&slots, 0, NULL), OTA_OK);

	sim_flash_close(&flash);
	free(buf);
	sim_crypto_free(c);
}
END_TEST

START_TEST(test_chip_ids_and_boards)
{
	for (size_t i = 0; i < N_CHIPS; i++) {
		if (chips[i] == OTA_CHIP_ESP8266)
			continue;
		ck_assert_int_eq(ota_chip_from_id(sim_chip_id(chips[i])), chips[i]);
	}
	ck_assert_uint_eq(sim_chip_id(OTA_CHIP_ESP32), 0);
	ck_assert_uint_eq(sim_chip_id(OTA_CHIP_ESP32S3), 9);
	ck_assert_str_eq(sim_chip_board(OTA_CHIP_ESP8266), "nodemcuv2");
	ck_assert_str_eq(sim_chip_board(OTA_CHIP_ESP32), "esp32");
	ck_assert_uint_eq(sim_chip_rev(OTA_CHIP_ESP32), 300);
}
END_TEST

START_TEST(test_unknown_chip)
{
	struct sim_image_opts o;
	uint8_t *img = NULL;
	size_t len = 0;
	memset(&o, 0, sizeof(o));
	o.chip = OTA_CHIP_UNKNOWN;
	o.project = "p";
	o.version = "v";
	ck_assert_int_eq(sim_image_build(&o, &img, &len), -1);
	ck_assert_ptr_null(img);
}
END_TEST

/* project and version are cut to their 31-byte fields, as esp_app_desc_t holds them */
START_TEST(test_long_strings)
{
	struct ota_esp_app_desc d;
	size_t len = 0;
	uint8_t *buf = build(OTA_CHIP_ESP32, "a-very-long-project-name-that-does-not-fit-32",
			     "0123456789012345678901234567890123456789", &len);
	ck_assert(sim_image_app_desc(buf, len, &d));
	ck_assert_uint_eq(strlen(d.project_name), 31);
	ck_assert_uint_eq(strlen(d.version), 31);
	free(buf);
}
END_TEST

static Suite *
image_suite(void)
{
	Suite *s = suite_create("sim-image");
	TCase *tc = tcase_create("images");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_parser_accepts, 0, N_CHIPS);
	tcase_add_loop_test(tc, test_app_desc_and_marker, 0, N_CHIPS);
	tcase_add_loop_test(tc, test_bootloader_accepts, 0, N_CHIPS);
	tcase_add_test(tc, test_chip_ids_and_boards);
	tcase_add_test(tc, test_unknown_chip);
	tcase_add_test(tc, test_long_strings);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return fleet_check_run(image_suite());
}
