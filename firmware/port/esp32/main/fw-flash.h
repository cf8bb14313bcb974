/* SPDX-License-Identifier: MIT */
/*
 * fw-flash.h - the core's struct ota_flash_ops over ESP-IDF's partition API
 *
 * The core addresses flash absolutely (it reads the partition table at 0x8000 and the
 * otadata and app partitions it finds there). This maps each access onto the one
 * partition that holds it: esp_partition_read/write/erase_range, which also handle flash
 * encryption. Only otadata, the ota_N slots and the filesystem partition can be written or
 * erased, and never the running app; the partition table is a read-only window
 * (esp_flash_read). Everything else (bootloader, NVS, PHY data) is out of the core's reach.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp_err.h"
#include "esp_partition.h"
#include "ota/ota-flash.h"

/* otadata + 16 ota_N + one filesystem partition */
#define FW_FLASH_MAX_PARTS 18
/* esp_partition_write() on encrypted partitions needs 16-byte units; plain ones take any,
 * so one granularity serves both */
#define FW_FLASH_WRITE_ALIGN 16u

struct fw_flash {
	struct ota_flash_ops ops;
	const esp_partition_t *parts[FW_FLASH_MAX_PARTS];
	size_t n_parts;
	const esp_partition_t *running; /* read, never written or erased */
	uint32_t table_offset;
	bool table_encrypted;
	unsigned refused; /* accesses outside the allowed areas: a bug, counted for the log */
};

/*
 * fw_flash_init:
 * @table_offset: CONFIG_PARTITION_TABLE_OFFSET
 * @running: esp_ota_get_running_partition()
 *
 * Collects otadata, every ota_N and the first spiffs/littlefs/fat data partition in
 * table order (the one ota_slots_init() picks as the filesystem).
 *
 * Returns: ESP_OK, ESP_ERR_NOT_FOUND without otadata, or esp_flash_get_size()'s error.
 */
esp_err_t fw_flash_init(struct fw_flash *f, uint32_t table_offset, const esp_partition_t *running);

/* the partition holding [addr, addr + len), or NULL */
const esp_partition_t *fw_flash_partition_at(const struct fw_flash *f, uint32_t addr, size_t len);
