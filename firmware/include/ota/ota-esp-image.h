/* SPDX-License-Identifier: MIT */
/*
 * ota-esp-image.h - ESP8266 and ESP32-family firmware image parser
 *
 * One set of rules for both sides: the desktop app's pre-flight and the device's check
 * before it switches slots. The parser is pure: it reads the image through a struct
 * ota_reader (a buffer, or flash in pieces on a device), never writes, never allocates and
 * reports what it found as coded findings that callers turn into text.
 * Hash checks need crypto and live in ota_esp_image_check_digests().
 *
 * Formats: see docs/image-formats.md (ESP32 app images, ESP8266 v1/v2/RTOS-SDK v3,
 * the Arduino ESP8266 .bin with eboot, gzip, Secure Boot signature sectors and the
 * esp8266 signed-update trailer).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ota/ota-crypto.h"

#define OTA_ESP_IMAGE_MAGIC 0xE9
#define OTA_ESP_IMAGE_V2_MAGIC 0xEA
#define OTA_ESP_APP_DESC_MAGIC 0xABCD5432u
#define OTA_ESP_MAX_SEGMENTS 16
#define OTA_ESP_MAX_FINDINGS 24
#define OTA_ESP_SIG_BLOCK_LEN 1216
#define OTA_ESP_SIG_SECTOR_LEN 4096
#define OTA_ESP_SIG_MAX_BLOCKS 3
#define OTA_ESP_ARDUINO_APP_OFFSET 0x1000

enum ota_chip {
	OTA_CHIP_UNKNOWN = 0,
	OTA_CHIP_ESP8266,
	OTA_CHIP_ESP32,
	OTA_CHIP_ESP32S2,
	OTA_CHIP_ESP32C3,
	OTA_CHIP_ESP32S3,
	OTA_CHIP_ESP32C2,
	OTA_CHIP_ESP32C6,
	OTA_CHIP_ESP32H2,
	OTA_CHIP_ESP32P4,
	OTA_CHIP_ESP32C61,
	OTA_CHIP_ESP32C5,
	OTA_CHIP_ESP32H21,
	OTA_CHIP_ESP32H4,
	OTA_CHIP_ESP32E22,
	OTA_CHIP_ESP32S31,
	OTA_CHIP_LAST
};

enum ota_image_kind {
	OTA_IMAGE_UNKNOWN = 0,
	OTA_IMAGE_ESP32_APP,	   /* 0xE9 + extended header (any ESP32-family chip) */
	OTA_IMAGE_ESP32_BOOTLOADER, /* same layout, carries esp_bootloader_desc_t */
	OTA_IMAGE_ESP8266_V1,	   /* 8-byte 0xE9 header, ROM-loaded segments */
	OTA_IMAGE_ESP8266_ARDUINO, /* eboot v1 image, 0xAA fill, sketch v1 image at 0x1000 */
	OTA_IMAGE_ESP8266_V2,	   /* 0xEA, Espressif NONOS SDK OTA user1/user2 */
	OTA_IMAGE_ESP8266_V3,	   /* ESP8266 RTOS SDK v3: ESP32 layout, chip id 0 */
	OTA_IMAGE_GZIP,		   /* 1F 8B: the caller gunzips and parses the content */
	OTA_IMAGE_MERGED_FLASH,	   /* a whole-flash dump (bootloader + partition table + app) */
};

enum ota_severity {
	OTA_SEV_INFO,
	OTA_SEV_WARNING,
	OTA_SEV_ERROR,
};

/* the arguments each finding carries are named after the code */
enum ota_finding_code {
	OTA_F_EMPTY,		  /* file is empty */
	OTA_F_NOT_ESP,		  /* a = first byte */
	OTA_F_TRUNCATED_HEADER,	  /* a = bytes present, b = bytes needed */
	OTA_F_MERGED_FLASH,	  /* a = offset of the app inside the dump */
	OTA_F_TOO_MANY_SEGMENTS,  /* a = count, b = maximum */
	OTA_F_NO_SEGMENTS,	  /* segment count is zero */
	OTA_F_SEGMENT_PAST_END,	  /* a = segment index, b = bytes missing */
	OTA_F_SEGMENT_LEN_ALIGN,  /* a = segment index, b = length */
	OTA_F_SEGMENT_TOO_LARGE,  /* a = segment index, b = length */
	OTA_F_MMU_MISALIGNED,	  /* a = segment index, b = load address */
	OTA_F_CHECKSUM_MISSING,	  /* file ends before the checksum byte */
	OTA_F_CHECKSUM_MISMATCH,  /* a = stored, b = computed */
	OTA_F_HASH_FLAG_INVALID,  /* a = header byte 23 */
	OTA_F_HASH_MISSING,	  /* the header promises a SHA-256 that is not there */
	OTA_F_HASH_MISMATCH,	  /* appended SHA-256 does not match */
	OTA_F_HASH_OK,		  /* appended SHA-256 verified */
	OTA_F_NO_HASH,		  /* no appended SHA-256 (legacy build) */
	OTA_F_CHIP_UNKNOWN,	  /* a = chip id */
	OTA_F_RESERVED_NONZERO,	  /* reserved header bytes are not zero */
	OTA_F_NO_APP_DESC,	  /* no esp_app_desc_t in segment 0 */
	OTA_F_SEGMENT0_SMALL,	  /* a = length of segment 0 */
	OTA_F_BOOTLOADER,	  /* a second-stage bootloader, not an app */
	OTA_F_CHIP_AMBIGUOUS,	  /* chip id 0, addresses fit neither ESP32 nor ESP8266 */
	OTA_F_RTOS_SDK_V3,	  /* ESP8266 RTOS SDK v3 image (chip id 0 but ESP8266 addresses) */
	OTA_F_ENTRY_UNUSUAL,	  /* a = entry point */
	OTA_F_FLASH_SIZE_CODE,	  /* a = size code not in the table */
	OTA_F_TRAILING_DATA,	  /* a = number of bytes after the image */
	OTA_F_TRAILING_PADDING,	  /* a = number of 0xFF bytes after the image */
	OTA_F_SIG_SBV2,		  /* a = blocks, b = enum ota_sig_scheme of block 0 */
	OTA_F_SIG_SBV2_BAD_BLOCK, /* a = block index: magic, version or CRC wrong */
	OTA_F_SIG_DIGEST_MISMATCH, /* a = block index: digest field != image digest */
	OTA_F_SIG_SBV1,		  /* ECDSA (Secure Boot v1) 68-byte trailer */
	OTA_F_SIG_ESP8266,	  /* a = signature length */
	OTA_F_V2_NOT_ARDUINO,	  /* 0xEA images are refused by Arduino's Updater */
	OTA_F_V2_HEADER_COUNT,	  /* a = value of byte 1 (expected 4) */
	OTA_F_V2_CRC_MISMATCH,	  /* a = stored, b = computed */
	OTA_F_V1_NO_EBOOT,	  /* bare v1 image without the Arduino eboot */
	OTA_F_ARDUINO_APP_BAD,	  /* the sketch image at 0x1000 is not a valid image */
	OTA_F_ARDUINO_CRC_OK,	  /* whole-file CRC verified */
	OTA_F_ARDUINO_CRC_MISMATCH, /* a = stored, b = computed */
	OTA_F_ARDUINO_CRC_LENGTH, /* a = stored length, b = real length */
	OTA_F_ARDUINO_NO_CRC,	  /* no whole-file CRC (older tool chain) */
	OTA_F_GZIP,		  /* image is gzip-compressed (ESP8266 only) */
	OTA_F_READ_ERROR,	  /* a = offset where the reader failed (flash read error) */
	OTA_F_LAST
};

enum ota_sig_scheme {
	OTA_SIG_NONE = 0,
	OTA_SIG_RSA3072_PSS,
	OTA_SIG_ECDSA_P256,
	OTA_SIG_ECDSA_P384,
	OTA_SIG_ECDSA_P192,
	OTA_SIG_UNKNOWN,
};

struct ota_finding {
	uint16_t code;	  /* enum ota_finding_code */
	uint8_t severity; /* enum ota_severity */
	uint32_t a;
	uint32_t b;
};

struct ota_esp_segment {
	uint32_t load_addr;
	uint32_t data_len;
	uint32_t data_offset; /* file offset of the segment data */
};

/* esp_app_desc_t, strings NUL-terminated and cut at their field size */
struct ota_esp_app_desc {
	uint32_t secure_version;
	char version[33];
	char project_name[33];
	char time[17];
	char date[17];
	char idf_ver[33];
	uint8_t app_elf_sha256[32];
	uint16_t min_efuse_blk_rev_full;
	uint16_t max_efuse_blk_rev_full;
	uint8_t mmu_page_size;
	uint8_t spi_flash_mode;
};

/*
 * The small fields first, the arrays last: on Xtensa a byte field within 255 bytes of the
 * start (and a word within 1020) is one short load, and the parser touches them all.
 */
struct ota_esp_image {
	enum ota_image_kind kind;
	enum ota_chip chip;
	uint16_t chip_id;      /* ESP32 family only */
	size_t file_len;

	/* image header (of the sketch at 0x1000 for Arduino .bin files) */
	size_t header_offset;
	uint8_t segment_count;
	uint8_t flash_mode;    /* 0 QIO, 1 QOUT, 2 DIO, 3 DOUT, 4 FAST_READ, 5 SLOW_READ */
	uint8_t flash_size_code;
	uint8_t flash_freq_code;
	uint32_t flash_size;   /* bytes, 0 when the code is unknown */
	uint32_t entry_addr;

	/* ESP32 extended header */
	uint8_t wp_pin;
	uint8_t spi_pin_drv[3];
	uint8_t min_chip_rev;
	uint16_t min_chip_rev_full;
	uint16_t max_chip_rev_full;
	uint8_t hash_appended;

	uint8_t segments_parsed; /* of segments[] below */

	bool checksum_present;
	uint8_t checksum_stored;
	uint8_t checksum_computed;
	size_t checksum_offset;
	size_t image_len;      /* up to and including checksum (+ SHA-256 when appended) */

	size_t hash_offset;    /* where the appended SHA-256 is stored (its input is [0, hash_offset)) */
	bool hash_present;     /* the digest itself: hash_stored below */

	bool has_app_desc;     /* app_desc below */

	/* ESP8266 Arduino .bin */
	size_t eboot_len;
	bool arduino_crc_present;
	uint32_t arduino_crc_len;
	uint32_t arduino_crc_stored;
	uint32_t arduino_crc_computed;

	/* signatures (presence and layout only) */
	size_t sig_sector_offset;
	uint8_t sig_blocks;
	enum ota_sig_scheme sig_scheme[OTA_ESP_SIG_MAX_BLOCKS];
	bool sig_block_ok[OTA_ESP_SIG_MAX_BLOCKS];
	bool sig_sbv1;
	size_t esp8266_sig_len;     /* signed-update trailer, 0 when absent */
	size_t payload_len;         /* bytes before any signature trailer */

	uint8_t n_findings;    /* of findings[] below */
	bool findings_overflow;

	struct ota_finding findings[OTA_ESP_MAX_FINDINGS];
	struct ota_esp_segment segments[OTA_ESP_MAX_SEGMENTS];
	uint8_t hash_stored[OTA_SHA256_LEN]; /* that digest, read by ota_esp_image_check_digests() */
	struct ota_esp_app_desc app_desc;
};

/*
 * struct ota_reader:
 * @user: passed to @read and @map
 * @read: copy up to @len bytes (never more than 65536) from offset @off of the image into
 *   @buf; returns how many it copied (1..@len, fewer is fine), or a negative value on
 *   failure (0 counts as one). The parser only asks for bytes inside [0, @size).
 * @map: optional: a pointer to the @len bytes at @off, valid until the next call, or NULL
 *   to fall back to @read (the whole image in memory, or a memory-mapped flash partition)
 * @size: the image's length in bytes; with @open_ended only a bound for the reads
 * @scratch: segment data and digest input stream through this buffer, @scratch_len bytes
 *   at a time (up to 65536); NULL for a 64-byte buffer on the stack
 * @open_ended: the image lies at the start of a flash slot of @size bytes and ends where
 *   its own structure says: what follows it is not looked at (no trailing-data, signature
 *   trailer or whole-flash-dump findings) and the Arduino whole-file CRC covers the length
 *   stored at 0x1010
 *
 * No allocation: headers are read into small buffers on the stack.
 */
struct ota_reader {
	void *user;
	int (*read)(void *user, size_t off, uint8_t *buf, size_t len);
	const uint8_t *(*map)(void *user, size_t off, size_t len);
	size_t size;
	uint8_t *scratch;
	size_t scratch_len;
	bool open_ended;
};

/**
 * ota_esp_image_parse_reader:
 * @r: where the image's bytes come from
 * @img: (out): filled in completely, findings included
 *
 * The parser. A read failure is the error finding %OTA_F_READ_ERROR (once, at the first
 * failed offset); nothing is read after it. Otherwise the result does not depend on how
 * the reader cuts the bytes into pieces.
 *
 * Returns: true when no finding of severity error was recorded.
 */
bool ota_esp_image_parse_reader(const struct ota_reader *r, struct ota_esp_image *img);

/**
 * ota_esp_image_check_digests_reader:
 *
 * ota_esp_image_check_digests() for an image parsed from @r: the SHA-256 is streamed
 * through the scratch buffer. A read failure adds %OTA_F_READ_ERROR and returns false.
 */
bool ota_esp_image_check_digests_reader(const struct ota_reader *r,
					struct ota_esp_image *img,
					const struct ota_hash_ops *hash);

/**
 * ota_esp_image_parse:
 * @buf: the image bytes
 * @len: their number
 * @img: (out): filled in completely, findings included
 *
 * ota_esp_image_parse_reader() over @buf. Never reads outside @buf. A gzip file is
 * reported as %OTA_IMAGE_GZIP with nothing else parsed; the caller gunzips and calls
 * ota_esp_image_parse() on the content.
 *
 * Returns: true when no finding of severity error was recorded.
 */
bool ota_esp_image_parse(const uint8_t *buf, size_t len, struct ota_esp_image *img);

/**
 * ota_esp_image_check_digests:
 *
 * Verifies the appended SHA-256 (storing it in @img->hash_stored) and the digest fields of
 * Secure Boot v2 signature blocks of an image parsed from the same @buf, adding findings
 * to @img.
 *
 * Returns: true when every digest that is present matches.
 */
bool ota_esp_image_check_digests(const uint8_t *buf,
				 size_t len,
				 struct ota_esp_image *img,
				 const struct ota_hash_ops *hash);

/* true when an error finding was recorded */
bool ota_esp_image_has_errors(const struct ota_esp_image *img);

/* add a finding; severity comes from the code's table entry */
void ota_esp_image_add_finding(struct ota_esp_image *img,
			       enum ota_finding_code code,
			       uint32_t a,
			       uint32_t b);

enum ota_severity ota_finding_severity(enum ota_finding_code code);

/* stable identifiers for JSON output and tests, e.g. "checksum-mismatch" */
const char *ota_finding_id(enum ota_finding_code code);

/* "ESP32-S3" etc.; "unknown" for OTA_CHIP_UNKNOWN */
const char *ota_chip_name(enum ota_chip chip);
/* lowercase id: "esp32s3" */
const char *ota_chip_id_string(enum ota_chip chip);
enum ota_chip ota_chip_from_id(uint16_t chip_id);
/* parse "esp32s3", "ESP32-S3", "esp8266" (case-insensitive) */
enum ota_chip ota_chip_from_string(const char *s);

const char *ota_image_kind_id(enum ota_image_kind kind);
/* memory region a load address falls in for a chip: "DROM", "IRAM", "padding", ... or "?" */
const char *ota_segment_memory(enum ota_chip chip, uint32_t load_addr);
const char *ota_flash_mode_name(uint8_t mode);
const char *ota_sig_scheme_name(enum ota_sig_scheme scheme);
/* flash frequency in MHz for the chip and frequency code, 0 when unknown */
unsigned ota_flash_freq_mhz(enum ota_chip chip, uint8_t code);

/**
 * ota_esp8266_signed_split:
 *
 * Tells whether @buf ends with an esp8266 signed-update trailer
 * (payload || signature || u32 length) whose payload ends at @payload_end_hint or, when
 * the hint is 0, whose signature length is one of the usual RSA/ECDSA sizes.
 */
bool ota_esp8266_signed_split(const uint8_t *buf,
			      size_t len,
			      size_t payload_end_hint,
			      size_t *payload_len,
			      size_t *sig_len);
