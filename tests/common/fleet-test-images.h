/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-test-images.h - builds ESP8266/ESP32 firmware images in memory for the tests
 *
 * Written from docs (shared/specs/esp-images.md sections 1-3, esptool's bin_image.py,
 * the esp8266 Arduino elf2bin.py and espsecure), never from firmware/core: the tests
 * compare the parser against this independent writer. Every image records where its parts
 * are, so a corruption can hit one field and re-seal the others.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
	FLEET_TEST_IMAGE_ESP32_APP,	     /* chip id 0, DROM/DRAM/IRAM/IROM, app desc, SHA-256 */
	FLEET_TEST_IMAGE_ESP32S3_APP,	     /* chip id 9 */
	FLEET_TEST_IMAGE_ESP32C3_APP,	     /* chip id 5 */
	FLEET_TEST_IMAGE_ESP32_APP_NO_HASH,  /* header byte 23 = 0, no digest */
	FLEET_TEST_IMAGE_ESP8266_V1,	     /* bare 8-byte-header image */
	FLEET_TEST_IMAGE_ESP8266_V2,	     /* 0xEA, irom segment, second header, esp8266_crc32 */
	FLEET_TEST_IMAGE_ARDUINO,	     /* eboot + 0xAA fill + sketch at 0x1000 + CRC */
	FLEET_TEST_IMAGE_ARDUINO_GZ,	     /* the Arduino .bin, gzip-compressed */
	FLEET_TEST_IMAGE_ESP8266_RTOS_V3,    /* ESP32 layout, chip id 0, ESP8266 addresses */
	FLEET_TEST_IMAGE_ESP32_SIGNED_RSA,   /* Secure Boot v2 sector, RSA block (version 2) */
	FLEET_TEST_IMAGE_ESP32_SIGNED_ECDSA, /* Secure Boot v2 sector, ECDSA P-256 block */
	FLEET_TEST_IMAGE_ESP8266_SIGNED,     /* Arduino .bin + 256-byte signature + u32 length */
	FLEET_TEST_IMAGE_MERGED_FLASH,	     /* 0xFF, bootloader at 0x1000, table at 0x8000, app */
	FLEET_TEST_IMAGE_LAST
} FleetTestImageKind;

typedef struct {
	const gchar *version; /* esp_app_desc_t.version, default "1.0.0" */
	const gchar *project; /* esp_app_desc_t.project_name, default "fleet-test" */
	guint32 seed;	      /* segment contents are pseudo-random from this */
	/* a few hundred bytes per segment and load addresses picked so that flash segments
	 * are aligned without 64 KiB padding: fuzz seeds and truncation loops */
	gboolean small;
	guint16 min_chip_rev_full; /* ESP32 family header bytes 15-16 */
	/* deliberate defects that must be built in, everything else re-sealed around them */
	gboolean unaligned_segment_len; /* one RAM segment gets a length % 4 == 2 */
	gboolean break_mmu_alignment;	/* no padding segment: IROM data offset % 64 KiB wrong */
} FleetTestImageOptions;

#define FLEET_TEST_IMAGE_MAX_SEGMENTS 16

/* one generated image and where its parts are (file offsets) */
typedef struct {
	FleetTestImageKind kind;
	GByteArray *data;
	gboolean esp32_layout; /* 24-byte header */
	gsize header_offset;   /* image header: 0, 0x1000 (Arduino sketch), 16+irom (v2) */
	guint n_segments;      /* as in the header (v2: without the irom segment) */
	gsize seg_header[FLEET_TEST_IMAGE_MAX_SEGMENTS]; /* offset of each segment header */
	guint32 seg_addr[FLEET_TEST_IMAGE_MAX_SEGMENTS];
	guint32 seg_len[FLEET_TEST_IMAGE_MAX_SEGMENTS];
	guint n_padding_segments; /* load address 0, inserted for the MMU rule */
	gsize checksum_offset;
	gsize hash_offset; /* appended SHA-256, 0 when none */
	gsize image_end;   /* after the checksum (and hash, v2 CRC) */
	gsize eboot_len;   /* Arduino: end of the eboot image (checksum + 1) */
	gsize sig_offset;  /* signature sector (ESP32) or signature (ESP8266), 0 when none */
	gsize sig_len;
	gsize payload_len; /* bytes before any signature trailer */
	gsize merged_app_offset;
	guint32 entry;
	guint8 flash_mode;
	guint8 flash_size_freq;
	guint16 chip_id;
	guint8 elf_sha256[32];
	gchar *version;
	gchar *project;
} FleetTestImage;

FleetTestImage *fleet_test_image_new(FleetTestImageKind kind, const FleetTestImageOptions *options);
void fleet_test_image_free(FleetTestImage *img);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FleetTestImage, fleet_test_image_free)

/* a copy of the bytes */
GBytes *fleet_test_image_get_bytes(FleetTestImage *img);

/* "esp32-app", ... and back; FLEET_TEST_IMAGE_LAST when unknown */
const gchar *fleet_test_image_kind_to_string(FleetTestImageKind kind);
FleetTestImageKind fleet_test_image_kind_from_string(const gchar *name);

/* --- corruptions; each says which integrity fields it re-seals --- */

/* XOR @mask into a byte of segment @seg's data, then recompute the SHA-256 (and the
 * signature digest and Arduino CRC) so only the checksum byte disagrees */
void fleet_test_image_flip_segment_byte(FleetTestImage *img, guint seg, gsize pos, guint8 mask);
/* flip a bit of the stored SHA-256 */
void fleet_test_image_corrupt_sha256(FleetTestImage *img);
void fleet_test_image_truncate(FleetTestImage *img, gsize len);
/* header byte 1 (v1/ESP32 layout), SHA-256 re-sealed */
void fleet_test_image_set_segment_count(FleetTestImage *img, guint8 count);
/* header bytes 12-13, SHA-256 re-sealed */
void fleet_test_image_set_chip_id(FleetTestImage *img, guint16 chip_id);
/* header byte 23, SHA-256 left as it was */
void fleet_test_image_set_hash_flag(FleetTestImage *img, guint8 flag);
/* a byte of the RSA modulus / EC point in signature block 0: its CRC no longer matches */
void fleet_test_image_corrupt_signature_block(FleetTestImage *img);
/* change the app version after signing, re-seal checksum and SHA-256 but not the signature
 * block: what someone patching a signed image would do */
void fleet_test_image_modify_after_signing(FleetTestImage *img);
/* change a byte of the 0xAA fill between eboot and the sketch: only the whole-file CRC
 * covers it */
void fleet_test_image_corrupt_arduino_crc(FleetTestImage *img);
void fleet_test_image_set_first_byte(FleetTestImage *img, guint8 value);
/* store the partition-table magic AA 50 at file offset 0x8000 inside an app's segment data,
 * re-sealed: an app is not a whole-flash dump just because of two data bytes */
void fleet_test_image_plant_partition_magic(FleetTestImage *img);

/* re-seal after a hand edit: checksum byte, SHA-256, signature digest + CRC, Arduino CRC */
void fleet_test_image_reseal(FleetTestImage *img);

/* gzip (the GZIP format Arduino's eboot unpacks) */
GBytes *fleet_test_gzip(GBytes *bytes);

/* CRCs written here from their definitions (not shared with firmware/core) */
guint32 fleet_test_crc32_zlib(const guint8 *data, gsize len);
guint32 fleet_test_crc32_mpeg2(const guint8 *data, gsize len);

/* --- named images for fleet-test-image-gen and process tests --- */

/* kinds above plus corruptions: "esp32-bad-checksum", ...; NULL-terminated */
const gchar *const *fleet_test_image_names(void);
/* NULL when @name is unknown */
FleetTestImage *fleet_test_image_new_named(const gchar *name, const FleetTestImageOptions *options);

G_END_DECLS
