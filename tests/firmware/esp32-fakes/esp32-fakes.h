/* SPDX-License-Identifier: MIT */
/*
 * esp32-fakes.h - the controls of the host fakes of ESP-IDF the port's glue is tested on
 *
 * One RAM flash with the partition table of firmware/port/esp32/partitions.csv. The
 * partition API works on it with ESP-IDF's argument checks and the NOR rule (a write may
 * only clear bits). ESP-IDF's own OTA code and bootloader are stood in for by a second,
 * independent ota_slots over the same flash (the core's state machine is the one the
 * slot tests hold to ESP-IDF's), so the port's writes meet an otadata writer that is not
 * the port's.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp_log.h"
#include "esp_partition.h"
#include "fw-idf-ota.h"
#include "ota/ota-slots.h"

#define FAKE_FLASH_SIZE (4u * 1024u * 1024u)
#define FAKE_MAX_PARTS 16

struct fake_idf {
	uint8_t *flash;
	esp_partition_t parts[FAKE_MAX_PARTS];
	size_t n_parts;
	const esp_partition_t *running;
	bool encryption;
	/* what ESP-IDF would answer esp_ota_set_boot_partition() with, ESP_OK: do it */
	esp_err_t set_boot_result;
	/* counters */
	unsigned writes;
	unsigned erases;
	unsigned flash_reads;
	unsigned encrypted_reads;
	unsigned set_boot_calls;
	unsigned nor_violations;
	int64_t now_us;
	/* the last log line, "I ota: text" */
	char last_log[512];
	unsigned log_lines;
	/* esp_log_set_vprintf(): the hook, and what reached the "console" */
	vprintf_like_t log_hook;
	char console[8192];
	size_t console_len;
	int critical_depth;
	unsigned critical_sections;
	/* ESP-IDF's side: app_update and the bootloader */
	struct ota_flash_ops raw;
	struct ota_slots model;
	struct ota_slots_config model_cfg;
	uint8_t scratch[4096];
};

extern struct fake_idf fake;

/*
 * fake_idf_reset:
 * @csv: a partition table in ESP-IDF's CSV form (the port's partitions.csv)
 * @chip: the chip the stand-in bootloader accepts
 *
 * Erased flash, the table written at 0x8000 (binary, with the MD5 entry), otadata blank,
 * running = ota_0. Returns 0, or -1 when the CSV does not parse.
 */
int fake_idf_reset(const char *csv, enum ota_chip chip);
void fake_idf_free(void);

const esp_partition_t *fake_partition(const char *label);

/* esptool: @img into @label, otadata untouched */
void fake_flash_image(const char *label, const uint8_t *img, size_t len);

/* a reset: ESP-IDF's bootloader (the stand-in) chooses; running follows. Returns the slot. */
int fake_reboot(struct ota_boot_result *res);

/* the state otadata gives @label (OTA_IMG_UNDEFINED when no entry) */
uint32_t fake_state_of(const char *label);
