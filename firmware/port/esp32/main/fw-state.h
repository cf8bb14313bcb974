/* SPDX-License-Identifier: MIT */
/*
 * fw-state.h - what the device keeps across reboots, in NVS namespace "espfleet"
 *
 * The simulator keeps the same facts in its state file: the boot count, the last update's
 * result, and per slot the length and SHA-256 of the image as it was uploaded (so /info and
 * mDNS report the hash of the file the technician sent, not of a re-read slot). The device
 * also keeps the slot its last update selected, to tell at the next boot whether ESP-IDF's
 * bootloader rolled back.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "esp_err.h"

#define FW_STATE_SLOTS 2
#define FW_STATE_TEXT_MAX 96

struct fw_slot_record {
	bool known;
	uint32_t len;
	uint8_t sha256[32];
};

struct fw_state {
	uint32_t boot_count;
	char last_update[FW_STATE_TEXT_MAX];
	int pending_slot; /* OTA_SLOT_NONE when no update waits for its first boot */
	struct fw_slot_record slots[FW_STATE_SLOTS];
};

/* reads the state (missing keys read as zero / empty / none) */
esp_err_t fw_state_load(struct fw_state *st);
esp_err_t fw_state_save(const struct fw_state *st);
