/* SPDX-License-Identifier: MIT */
/*
 * sim-image.h - the images a simulated device is factory-flashed with, and what it reads back
 *
 * A simulated device needs something to boot on its first start: an ESP-IDF app image for
 * an ESP32-family chip (24-byte header with the chip id, a DROM segment that starts with
 * esp_app_desc_t, DRAM and IRAM segments, the checksum and the appended SHA-256) or, for
 * the ESP8266, an Arduino .bin (eboot, 0xAA fill, the sketch image at 0x1000 and the
 * elf2bin whole-file CRC). The ESP8266 sketch carries an esp_app_desc_t at the start of
 * its DRAM segment, which is how the simulator knows an ESP8266 image's project and
 * version (Arduino itself has no such record).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ota/ota-esp-image.h"

#define SIM_BAD_APP_MARKER "bad-app"

struct sim_image_opts {
	enum ota_chip chip;
	const char *project; /* esp_app_desc_t.project_name, at most 31 bytes are kept */
	const char *version; /* esp_app_desc_t.version */
	uint32_t flash_size; /* written into the header's flash size code */
	size_t body_len;     /* bytes of segment data, roughly; 0 for the default (96 KiB) */
	uint32_t seed;	     /* segment contents */
};

/* the chip id in an ESP32-family header (0 for the ESP32), 0xFFFF for the ESP8266 */
uint16_t sim_chip_id(enum ota_chip chip);
/* the silicon revision a simulated chip reports (major * 100 + minor) */
uint16_t sim_chip_rev(enum ota_chip chip);
/* the Arduino board id a simulated chip advertises by default ("esp32", "nodemcuv2") */
const char *sim_chip_board(enum ota_chip chip);
/* the ESP-IDF version the simulated app was "built" with */
const char *sim_idf_version(enum ota_chip chip);

/**
 * sim_image_build:
 *
 * Builds the image into a malloc()ed buffer.
 *
 * Returns: 0, or -1 for a chip without a layout (OTA_CHIP_UNKNOWN) or no memory.
 */
int sim_image_build(const struct sim_image_opts *opts, uint8_t **out, size_t *out_len);

/**
 * sim_image_app_desc:
 *
 * The esp_app_desc_t of the image in @buf: the one the ESP-IDF image format puts at the
 * start of segment 0, or for ESP8266 images the first one found at a 4-byte aligned
 * offset of the image.
 *
 * Returns: true when one was found (@desc is zeroed otherwise).
 */
bool sim_image_app_desc(const uint8_t *buf, size_t len, struct ota_esp_app_desc *desc);

/* the documented bad-app marker: project name or version contains "bad-app" */
bool sim_image_is_bad_app(const struct ota_esp_app_desc *desc);
