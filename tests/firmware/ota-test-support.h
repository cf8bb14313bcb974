/* SPDX-License-Identifier: MIT */
/*
 * ota-test-support.h - what the slot and power-failure tests share: OpenSSL hash
 * operations, an in-memory ESP image builder and a simulated device (flash + slots)
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ota/ota-crypto.h"
#include "ota/ota-slots.h"
#include "sim-flash.h"

/* struct ota_hash_ops over OpenSSL EVP; one MD5 and one SHA-256 context */
const struct ota_hash_ops *test_hash_ops(void);
void test_md5(const uint8_t *data, size_t len, uint8_t out[16]);
void test_sha256(const uint8_t *data, size_t len, uint8_t out[32]);

struct test_image_opts {
	uint16_t chip_id;    /* esp_chip_id_t, 0 = ESP32 */
	const char *version; /* esp_app_desc_t.version */
	size_t len;	     /* wanted total length (rounded to the format's units) */
	uint32_t seed;	     /* contents of the segments */
	bool no_hash;	     /* hash_appended = 0 */
	uint16_t min_rev;    /* min_chip_rev_full */
	uint16_t max_rev;    /* max_chip_rev_full */
};

/*
 * test_image_build:
 *
 * An ESP32-family app image: 24-byte header, segment 0 (DROM 0x3F400020) starting with an
 * esp_app_desc_t, a DRAM and an IRAM segment filling up to @opts->len, zero padding, the
 * 0xEF ^ data checksum as the last byte of a 16-byte block, and the SHA-256 of all that.
 *
 * Returns: the length, 0 when @cap is too small.
 */
size_t test_image_build(uint8_t *out, size_t cap, const struct test_image_opts *opts);
/* an ESP8266 v1 image (8-byte header, IRAM + DRAM segments, checksum) of about @len bytes */
size_t test_image_build_v1(uint8_t *out, size_t cap, size_t len, uint32_t seed);

/* a flash with the default partition table and an ota_slots over it */
struct test_dev {
	struct sim_flash flash;
	struct ota_slots slots;
	struct ota_slots_config cfg;
	uint8_t scratch[4096];
};

/*
 * test_dev_open:
 * @slot_size: size of ota_0 and ota_1
 * @fs_size: size of the spiffs partition, OTA_FS_NONE for none
 * @write_align: the flash's write granularity
 *
 * The flash is just large enough, starts erased but for the partition table, and
 * reports NOR rule violations by failing the operation. ota_slots_init() has run.
 */
int test_dev_open(struct test_dev *d, uint32_t slot_size, uint32_t fs_size, uint32_t write_align);
void test_dev_close(struct test_dev *d);
/* ota_slots_init() again, as a reset does */
int test_dev_reinit(struct test_dev *d);

/* begin/write in @chunk pieces/end, then set_boot unless @set_boot is false */
int test_dev_update(struct test_dev *d,
		    int slot,
		    const uint8_t *img,
		    size_t len,
		    size_t chunk,
		    enum ota_erase_mode mode,
		    bool set_boot);
/* the bytes of @slot equal @img */
bool test_dev_slot_holds(struct test_dev *d, int slot, const uint8_t *img, size_t len);
