/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-device-info.h - what a device says about itself in its GET /info JSON
 *
 * The answer is untrusted: every member is optional, of a fixed type, bounded and made safe
 * to show; anything else is ignored. The object the reference firmware serves:
 *
 *   {"name": "esp-lab-3", "mac": "24:6f:28:aa:bb:cc", "chip": "esp32s3", "board": "esp32s3",
 *    "project": "espfleet-ref", "version": "1.4.2", "fw_sha256": "<8 to 64 hex digits>",
 *    "running_slot": "ota_0", "slot_size": 1572864, "free_space": 1572864,
 *    "running_state": "valid", "uptime": 12345, "boot_count": 7, "last_update": "ok"}
 *
 * "running_slot" may also be the slot's number (0 → "ota_0"); sizes are bytes, "uptime"
 * is seconds, "last_update" the device's own words about the last update attempt.
 */
#pragma once

#include "fleet-device.h"

G_BEGIN_DECLS

/* the longest answer that is parsed, and the deepest nesting of arrays and objects */
#define FLEET_DEVICE_INFO_SIZE_MAX (16u * 1024u)
#define FLEET_DEVICE_INFO_DEPTH_MAX 8u
/* longest text member, in characters, before "…" */
#define FLEET_DEVICE_INFO_TEXT_MAX 64u
#define FLEET_DEVICE_INFO_RESULT_MAX 240u

/**
 * FleetDeviceInfo:
 * @name, @chip, @board, @project, @version, @running_slot: sanitized text or %NULL
 * @mac: "aa:bb:cc:dd:ee:ff" (lowercase) or %NULL
 * @fw_sha256: 8 to 64 lowercase hex digits or %NULL
 * @slot_size, @free_space: bytes; @uptime: seconds; @boot_count: -1 when unknown
 * @last_update: sanitized text (at most FLEET_DEVICE_INFO_RESULT_MAX characters) or %NULL
 */
typedef struct {
	gchar *name;
	gchar *mac;
	gchar *chip;
	gchar *board;
	gchar *project;
	gchar *version;
	gchar *fw_sha256;
	gchar *running_slot;
	/* "valid", "pending_verify", "undefined"…: whether the running image confirmed itself */
	gchar *running_state;
	gint64 slot_size;
	gint64 free_space;
	gint64 uptime;
	gint64 boot_count;
	gchar *last_update;
} FleetDeviceInfo;

#define FLEET_TYPE_DEVICE_INFO (fleet_device_info_get_type())
GType
fleet_device_info_get_type(void);

/* fails with FLEET_ERROR_INVALID_DATA when @data is not a JSON object within the limits */
FleetDeviceInfo *
fleet_device_info_new_from_data(const gchar *data, gsize len, GError **error);
FleetDeviceInfo *
fleet_device_info_copy(const FleetDeviceInfo *info);
void
fleet_device_info_free(FleetDeviceInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FleetDeviceInfo, fleet_device_info_free)

/* copy what is known onto @device (chip, board, MAC, version, SHA-256; the name only when
 * the device has none yet) */
void
fleet_device_info_apply(const FleetDeviceInfo *info, FleetDevice *device);

G_END_DECLS
