/* SPDX-License-Identifier: MIT */
/*
 * ota-slots.h - ESP-IDF-faithful A/B OTA slots: partition table, otadata, boot selection
 *
 * The same state machine as ESP-IDF's app_update (esp_ota_ops.c) and second-stage
 * bootloader (bootloader_utility.c) with CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE, for a
 * table with otadata and ota_0..ota_N and no factory app (specs/esp-images.md section 4).
 * On flash everything is byte-compatible with ESP-IDF: a partition table written here
 * boots a real ESP32 and otatool.py reads the otadata written here.
 *
 * What a device does:
 *   boot:    ota_slots_init(), then ota_boot() (the bootloader's choice, may write otadata)
 *   app:     ota_slots_mark_valid() after its self-test, or ota_slots_mark_invalid() and
 *            reboot (ota_boot() again) to roll back
 *   update:  ota_update_begin(next slot), ota_update_write()..., ota_update_end(),
 *            ota_slots_set_boot(slot), reboot
 *
 * No malloc, no static state: every struct is the caller's, so a power cut (the
 * simulator's longjmp) anywhere leaves nothing behind but flash.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ota/ota-crypto.h"
#include "ota/ota-esp-image.h"
#include "ota/ota-flash.h"

/* partition table (esp_partition_info_t, components/bootloader_support esp_flash_partitions.h) */
#define OTA_PARTITION_TABLE_OFFSET 0x8000u
#define OTA_PARTITION_TABLE_MAX_LEN 0xC00u
#define OTA_PARTITION_ENTRY_LEN 32u
#define OTA_PARTITION_MAGIC 0x50AAu
#define OTA_PARTITION_MD5_MAGIC 0xEBEBu
#define OTA_PARTITION_LABEL_LEN 16u
#define OTA_MAX_PARTITIONS 16u
#define OTA_MAX_APP_SLOTS 16u

#define OTA_PART_TYPE_APP 0x00u
#define OTA_PART_TYPE_DATA 0x01u
#define OTA_PART_SUBTYPE_FACTORY 0x00u
#define OTA_PART_SUBTYPE_OTA_0 0x10u /* ota_N = 0x10 + N */
#define OTA_PART_SUBTYPE_TEST 0x20u
#define OTA_PART_SUBTYPE_DATA_OTA 0x00u
#define OTA_PART_SUBTYPE_DATA_PHY 0x01u
#define OTA_PART_SUBTYPE_DATA_NVS 0x02u
#define OTA_PART_SUBTYPE_DATA_FAT 0x81u
#define OTA_PART_SUBTYPE_DATA_SPIFFS 0x82u
#define OTA_PART_SUBTYPE_DATA_LITTLEFS 0x83u

/* default layout (partitions_two_ota without factory): app partitions 64 KiB aligned */
#define OTA_DEFAULT_NVS_OFFSET 0x9000u
#define OTA_DEFAULT_NVS_SIZE 0x4000u
#define OTA_DEFAULT_OTADATA_OFFSET 0xD000u
#define OTA_DEFAULT_OTADATA_SIZE 0x2000u
#define OTA_DEFAULT_PHY_OFFSET 0xF000u
#define OTA_DEFAULT_PHY_SIZE 0x1000u
#define OTA_DEFAULT_APP_OFFSET 0x10000u
/* ota_partition_table_default(): fs_size meaning "no filesystem partition" */
#define OTA_FS_NONE 0xFFFFFFFFu

/* esp_ota_select_entry_t: 32 bytes, one per otadata sector */
#define OTA_SELECT_ENTRY_LEN 32u
#define OTA_SEQ_BLANK 0xFFFFFFFFu

/* esp_ota_img_states_t; a u32 on flash, so not a C enum (0xFFFFFFFF does not fit an int) */
#define OTA_IMG_NEW 0x0u
#define OTA_IMG_PENDING_VERIFY 0x1u
#define OTA_IMG_VALID 0x2u
#define OTA_IMG_INVALID 0x3u
#define OTA_IMG_ABORTED 0x4u
#define OTA_IMG_UNDEFINED 0xFFFFFFFFu

/* slot arguments besides 0..app_count-1 */
#define OTA_SLOT_NONE (-1)
#define OTA_SLOT_FS (-2)   /* ota_update_begin(): the filesystem data partition */
#define OTA_SLOT_NEXT (-3) /* ota_update_begin(): ota_slots_next_update_slot() */

/* ota_update_begin() size when the sender does not say (HTTP multipart) */
#define OTA_SIZE_UNKNOWN 0xFFFFFFFFu
/* bytes of the image held back in RAM and written last (arduino-esp32 Updater's
 * ENCRYPTED_BLOCK_SIZE): until they are on flash the slot does not start with 0xE9 */
#define OTA_UPDATE_HOLD_LEN 16u

struct ota_partition {
	uint8_t type;
	uint8_t subtype;
	uint32_t offset;
	uint32_t size;
	char label[OTA_PARTITION_LABEL_LEN + 1];
	uint32_t flags;
};

struct ota_select_entry {
	uint32_t seq;
	uint8_t seq_label[20];
	uint32_t state;
	uint32_t crc;
};

/* what verification learnt about an app image */
struct ota_image_info {
	uint32_t image_len; /* header .. checksum (+ SHA-256), what IDF calls image_len */
	uint16_t chip_id;   /* 0xFFFF for ESP8266 v1 images */
	uint8_t segment_count;
	uint32_t entry_addr;
	bool hash_appended;
	uint8_t sha256[OTA_SHA256_LEN]; /* the appended digest, zero when none */
	uint32_t secure_version;
	char version[33]; /* esp_app_desc_t.version, "" without app description */
	char project_name[33];
};

/*
 * struct ota_slots_config:
 * @flash: the flash; sector_size must be 4096 (otadata entries are one sector each),
 *   erased_val 0xFF, write_align a power of two <= OTA_FLASH_MAX_ALIGN
 * @hash: MD5 and SHA-256 (partition table MD5, appended image hash, uploader's MD5)
 * @chip: the device's chip; images for another chip are refused. OTA_CHIP_ESP8266 checks
 *   8-byte-header (v1, Arduino .bin) images instead of ESP32-family ones
 * @chip_rev: the device's revision, major * 100 + minor (checked against the image header)
 * @rollback: CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE: set_boot writes NEW instead of
 *   UNDEFINED, the bootloader turns NEW into PENDING_VERIFY and PENDING_VERIFY into ABORTED
 * @table_offset: partition table address, 0 for OTA_PARTITION_TABLE_OFFSET
 * @scratch: a buffer the core streams flash through (>= 64 bytes; 4096 is a good size);
 *   it must not be used by anything else while a core call runs
 */
struct ota_slots_config {
	const struct ota_flash_ops *flash;
	const struct ota_hash_ops *hash;
	enum ota_chip chip;
	uint16_t chip_rev;
	bool rollback;
	uint32_t table_offset;
	uint8_t *scratch;
	size_t scratch_len;
};

/* the small fields first: on Xtensa short offsets make shorter code */
struct ota_slots {
	struct ota_slots_config cfg;
	const struct ota_partition *otadata;
	const struct ota_partition *fs; /* first spiffs/littlefs/fat data partition, or NULL */
	int running;			/* slot ota_boot() chose, OTA_SLOT_NONE before */
	bool update_open;
	uint8_t n_parts;
	uint8_t app_count;
	const struct ota_partition *apps[OTA_MAX_APP_SLOTS]; /* index = N of ota_N */
	struct ota_partition parts[OTA_MAX_PARTITIONS];
};

/* what ota_boot() did */
struct ota_boot_result {
	int slot;	  /* the slot that boots */
	int selected;	  /* the slot otadata selected, OTA_SLOT_NONE when none was */
	int entry;	  /* otadata entry (0/1) that selected it, -1 when none */
	uint32_t seq;	  /* its ota_seq */
	uint32_t state;	  /* its state after boot (PENDING_VERIFY on a first boot) */
	bool fallback;	  /* the selected slot did not verify, another one booted */
	bool initial;	  /* otadata was blank: entry 0 was written for the booted slot */
	unsigned aborted; /* entries turned from PENDING_VERIFY into ABORTED */
	struct ota_image_info image;
};

enum ota_erase_mode {
	OTA_ERASE_UP_FRONT, /* begin() erases (64 KiB blocks where aligned), IDF OTA_SIZE_UNKNOWN */
	OTA_ERASE_LAZY,	    /* write() erases each sector before its first byte,
			     * IDF OTA_WITH_SEQUENTIAL_WRITES */
};

/* one update in progress; the caller owns it, the fields are private */
struct ota_update {
	struct ota_slots *slots;
	const struct ota_partition *part;
	int slot;
	bool is_app;
	bool open;
	int error;	    /* first failure of write(); end() reports it */
	uint32_t size;	    /* announced size or OTA_SIZE_UNKNOWN */
	uint32_t written;   /* bytes accepted */
	uint32_t flushed;   /* bytes from hold on that are on flash (write_align multiple) */
	uint32_t erased_to; /* [0, erased_to) of the partition is erased */
	uint32_t hold;	    /* OTA_UPDATE_HOLD_LEN rounded up to write_align */
	uint32_t tail_len;
	bool has_md5;
	uint8_t md5[OTA_MD5_LEN];
	uint8_t head[OTA_FLASH_MAX_ALIGN];
	uint8_t tail[OTA_FLASH_MAX_ALIGN];
};

/* ---- otadata entries (pure) ---- */

/* esp_rom_crc32_le(0xFFFFFFFF, &seq, 4): seq 1 -> 0x4743989A */
uint32_t ota_select_entry_crc(uint32_t seq);
void ota_select_entry_encode(const struct ota_select_entry *e, uint8_t out[OTA_SELECT_ENTRY_LEN]);
void ota_select_entry_decode(const uint8_t in[OTA_SELECT_ENTRY_LEN], struct ota_select_entry *e);
/* bootloader_common_ota_select_valid: seq not blank, CRC right, state not INVALID/ABORTED */
bool ota_select_entry_valid(const struct ota_select_entry *e);
/* bootloader_common_ota_select_invalid: seq blank or INVALID/ABORTED (the CRC is not looked at) */
bool ota_select_entry_invalid(const struct ota_select_entry *e);
/* bootloader_common_get_active_otadata: the valid entry with the larger seq (1 on a tie), or -1 */
int ota_select_active(const struct ota_select_entry e[2]);
/* compute_ota_seq_for_target_slot: smallest (slot + 1) % n + i * n that is >= current_seq */
uint32_t ota_compute_seq(uint32_t current_seq, uint32_t slot, uint32_t app_count);
/* "NEW", "PENDING_VERIFY", ... ("?" for other values) */
const char *ota_img_state_name(uint32_t state);

/* ---- partition table ---- */

/*
 * ota_partition_table_default:
 * @flash_size: bytes
 * @slot_size: size of ota_0 and ota_1 (a multiple of 4096), 0 to split what follows 0x10000
 *   evenly in 64 KiB units
 * @fs_size: size of the "spiffs" data partition after ota_1, 0 for all that is left,
 *   OTA_FS_NONE for none
 *
 * nvs 0x9000/0x4000, otadata 0xD000/0x2000, phy_init 0xF000/0x1000, ota_0 at 0x10000,
 * ota_1 at the next 64 KiB boundary, then spiffs.
 */
int ota_partition_table_default(uint32_t flash_size,
				uint32_t slot_size,
				uint32_t fs_size,
				struct ota_partition *out,
				size_t max,
				size_t *n_out);
/* erases the table sector and writes @n entries, the MD5 entry (gen_esp32part.py's) and the
 * end marker; the bytes are built in @scratch (needs (n + 2) * 32 rounded up to write_align) */
int ota_partition_table_write(const struct ota_flash_ops *flash,
			      const struct ota_hash_ops *hash,
			      uint32_t table_offset,
			      const struct ota_partition *parts,
			      size_t n,
			      uint8_t *scratch,
			      size_t scratch_len);
/* ota_partition_table_default() for flash->size, then ota_partition_table_write() at 0x8000 */
int ota_partition_table_write_default(const struct ota_flash_ops *flash,
				      const struct ota_hash_ops *hash,
				      uint32_t slot_size,
				      uint32_t fs_size,
				      uint8_t *scratch,
				      size_t scratch_len);
/* esp_partition_table_verify: entries until 0xFFFF, the MD5 entry checked when present */
int ota_partition_table_read(const struct ota_flash_ops *flash,
			     const struct ota_hash_ops *hash,
			     uint32_t table_offset,
			     struct ota_partition *out,
			     size_t max,
			     size_t *n_out);

/* ---- the device ---- */

/* reads and checks the partition table; needs otadata (2 sectors) and ota_0, ota_1 ... */
int ota_slots_init(struct ota_slots *s, const struct ota_slots_config *cfg);
const struct ota_partition *ota_slots_app(const struct ota_slots *s, int slot);
/* the running slot (OTA_SLOT_NONE before ota_boot()/ota_slots_set_running()) */
int ota_slots_running(const struct ota_slots *s);
/* for ports whose real bootloader chose the slot (esp_ota_get_running_partition) */
int ota_slots_set_running(struct ota_slots *s, int slot);
/* both otadata entries as they are on flash */
int ota_slots_read_otadata(const struct ota_slots *s, struct ota_select_entry e[2]);
/* esp_ota_get_boot_partition: the slot otadata selects (no image check), slot 0 when none */
int ota_slots_boot_slot(const struct ota_slots *s);
/* esp_ota_get_next_update_partition: the slot after the running one, wrapping */
int ota_slots_next_update_slot(const struct ota_slots *s);
/* esp_ota_get_state_partition: first entry mapping to @slot with a good CRC, else NOT_FOUND */
int ota_slots_get_state(const struct ota_slots *s, int slot, uint32_t *state);
/* esp_image_verify: full check of the image in @slot (@info may be NULL) */
int ota_slots_verify(const struct ota_slots *s, int slot, struct ota_image_info *info);
/* esp_ota_set_boot_partition: verify @slot, then write the otadata entry selecting it */
int ota_slots_set_boot(struct ota_slots *s, int slot);
/* esp_ota_mark_app_valid_cancel_rollback: active entry := VALID (no write when it is) */
int ota_slots_mark_valid(struct ota_slots *s);
/* esp_ota_mark_app_invalid_rollback: active entry := INVALID if the other slot would boot
 * (OTA_E_ROLLBACK otherwise); the caller then reboots, i.e. calls ota_boot() */
int ota_slots_mark_invalid(struct ota_slots *s);
/* esp_ota_check_rollback_is_possible */
bool ota_slots_rollback_possible(const struct ota_slots *s);
/* esp_ota_get_last_invalid_partition: slot of the INVALID/ABORTED entry with the smaller
 * seq whose image still verifies, or OTA_SLOT_NONE */
int ota_slots_last_invalid(const struct ota_slots *s);

/*
 * ota_boot:
 *
 * The second-stage bootloader: PENDING_VERIFY entries become ABORTED, the valid entry with
 * the larger seq selects a slot (NEW becomes PENDING_VERIFY), the slot's image is verified
 * in full and, if it fails, the slots below it and then above it are tried. With both
 * entries blank (or CRC-broken) slot 0 is tried first and entry 0 := {slot + 1, VALID} is
 * written for whichever slot boots. Sets the running slot.
 *
 * Returns: the slot that boots, or OTA_E_NO_BOOTABLE (a real chip resets and tries again).
 */
int ota_boot(struct ota_slots *s, struct ota_boot_result *result);

/* ---- writing an update ---- */

/*
 * ota_update_begin:
 * @slot: an app slot other than the running one, OTA_SLOT_NEXT, or OTA_SLOT_FS
 * @size: image size, or OTA_SIZE_UNKNOWN; larger than the partition gives OTA_E_NO_SPACE
 *
 * esp_ota_begin: refuses while the running app is PENDING_VERIFY (OTA_E_BAD_STATE), erases
 * (up front: align_up(size, 4096) or the whole partition when the size is unknown) and,
 * for app slots with rollback, erases the inactive otadata entry if it selects a slot
 * other than the running one.
 */
int ota_update_begin(
    struct ota_update *u, struct ota_slots *s, int slot, uint32_t size, enum ota_erase_mode mode);
/* the MD5 the uploader announced; ota_update_end() checks the written bytes against it */
int ota_update_set_md5(struct ota_update *u, const uint8_t md5[OTA_MD5_LEN]);
/* sequential data; the first byte of an app image must be 0xE9 (OTA_E_BAD_MAGIC); after a
 * failure every later write() and end() fails with the same code */
int ota_update_write(struct ota_update *u, const void *data, size_t len);
/*
 * ota_update_end:
 *
 * Flushes, checks the MD5 and (app slots) verifies the image as the bootloader will, all
 * from flash with the held-back first bytes overlaid, and only then writes those bytes.
 * A failed end() never leaves a bootable image. Does not select the slot: call
 * ota_slots_set_boot(). @info may be NULL.
 */
int ota_update_end(struct ota_update *u, struct ota_image_info *info);
/* drops the update (no flash operation: the half-written slot has no header) */
void ota_update_abort(struct ota_update *u);
/* the slot being written (OTA_SLOT_FS for the filesystem) */
int ota_update_slot(const struct ota_update *u);
uint32_t ota_update_written(const struct ota_update *u);
