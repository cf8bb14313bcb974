/* SPDX-License-Identifier: MIT */
/*
 * port-info.h - what every port of the core reports alike: the GET /info document, the word
 * for a slot's state and the text an espota error is logged and remembered with
 *
 * Plain C over the standard library, built by the ESP-IDF port (firmware/port/esp32) and by
 * the simulator (firmware/port/linux-sim), so that a device and its simulator answer the
 * desktop app with the same document. Not part of firmware/core: it uses snprintf and does not
 * count against the core's size budget.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ota/ota-sink.h"

/* everything GET /info reports */
struct port_info {
	const char *name;
	uint8_t mac[6];
	const char *chip;
	const char *board;
	const char *project;
	const char *version;
	uint8_t fw_sha256[32];
	const char *running_slot; /* partition label */
	uint32_t running_state;	  /* OTA_IMG_* */
	uint32_t slot_size;
	uint32_t free_space;
	uint64_t uptime_s;
	uint32_t boot_count;
	const char *last_update;
	const char *idf_version;
	const char *reset_reason; /* "power_on", "software", ... as ESP-IDF names them */
};

/*
 * port_info_json:
 *
 * The /info object, in this field order; strings are JSON-escaped (quotes, backslashes,
 * control characters), NULL strings are empty.
 *
 * Returns: the length written (without the NUL), or -1 when @size is too small (never cut).
 */
int port_info_json(const struct port_info *info, char *buf, size_t size);

/* the /info "running_state" word of an OTA_IMG_* state: "valid", "pending_verify", ... */
const char *port_state_id(uint32_t ota_state);

/*
 * port_espota_error_text:
 * @flavor: the device's behaviour flavour
 * @err: the OTA_ESPOTA_ERR_* of the error event
 * @update_err: the event's OTA_UPDATE_ERR_*, 0 when the Update object was not involved
 *
 * The text a device logs and keeps as its last update result: the Update object's own text
 * when it failed, else what ArduinoOTA's examples print from onError() ("Auth Failed", ...).
 */
const char *
port_espota_error_text(enum ota_flavor flavor, uint32_t err, uint32_t update_err);
