/* SPDX-License-Identifier: MIT */
/*
 * ota-flash.h - the only way the portable core touches flash
 *
 * Like mcuboot's flash_area_* API: a port hands the core one struct ota_flash_ops and
 * every mutation the core makes goes through its write() and erase(), which is what lets
 * the simulator count operations and cut power before any one of them. The core keeps
 * the NOR rules the simulator enforces: it erases whole aligned sectors (or 64 KiB blocks
 * where both address and length allow), writes only erased bytes, and writes in
 * write_align units at write_align-aligned addresses.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* the core sends 64 KiB block erases where aligned, as esp_flash_erase_region does */
#define OTA_FLASH_BLOCK_SIZE 0x10000u
/* ESP-IDF's SPI_FLASH_SEC_SIZE: otadata entries are this far apart */
#define OTA_FLASH_SECTOR_SIZE 0x1000u
/* largest write_align the core supports (it buffers up to this many bytes) */
#define OTA_FLASH_MAX_ALIGN 64u

/*
 * struct ota_flash_ops:
 * @user: passed to every callback
 * @read: copy @len bytes at absolute flash address @addr into @buf
 * @write: program @len bytes at @addr; @addr and @len are multiples of @write_align and
 *   every byte was erased since it was last written
 * @erase: erase [@addr, @addr + @len); both are multiples of @sector_size
 * @size: flash size in bytes
 * @sector_size: smallest erase unit (4096 on every ESP part)
 * @write_align: program granularity, a power of two <= OTA_FLASH_MAX_ALIGN
 * @erased_val: what erased bytes read as (0xFF on SPI NOR)
 *
 * Each callback returns 0 on success, a negative value on failure.
 */
struct ota_flash_ops {
	void *user;
	int (*read)(void *user, uint32_t addr, void *buf, size_t len);
	int (*write)(void *user, uint32_t addr, const void *buf, size_t len);
	int (*erase)(void *user, uint32_t addr, size_t len);
	uint32_t size;
	uint32_t sector_size;
	uint32_t write_align;
	uint8_t erased_val;
};
