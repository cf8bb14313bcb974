/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-device-info.c - arbitrary bytes as a device's GET /info answer
 *
 * Whatever comes in, the result is either an error or an info whose every text is valid,
 * printable UTF-8 within its limit and whose every number is -1 or in range; a copy must be
 * equal, and applying it to a device must not trip a critical.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fleet-device-info.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_text(const gchar *text, gsize max_chars)
{
	if (text == NULL)
		return;
	if (!g_utf8_validate(text, -1, NULL) || text[0] == '\0')
		__builtin_trap();
	/* each character may have become a 6-character escape, plus the "…" of a cut */
	if (g_utf8_strlen(text, -1) > (glong)max_chars * 6 + 1)
		__builtin_trap();
	for (const gchar *p = text; *p != '\0'; p++) {
		if ((guchar)*p < 0x20 || *p == 0x7f)
			__builtin_trap();
	}
}

static void
check_same(const gchar *a, const gchar *b)
{
	if (g_strcmp0(a, b) != 0)
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(FleetDeviceInfo) info = NULL;
	g_autoptr(FleetDeviceInfo) copy = NULL;
	g_autoptr(FleetDevice) device = NULL;

	info = fleet_device_info_new_from_data((const gchar *)data, size, &error);
	if (info == NULL) {
		if (error == NULL || error->message == NULL)
			__builtin_trap();
		return 0;
	}
	check_text(info->name, FLEET_DEVICE_INFO_TEXT_MAX);
	check_text(info->chip, FLEET_DEVICE_INFO_TEXT_MAX);
	check_text(info->board, FLEET_DEVICE_INFO_TEXT_MAX);
	check_text(info->project, FLEET_DEVICE_INFO_TEXT_MAX);
	check_text(info->version, FLEET_DEVICE_INFO_TEXT_MAX);
	check_text(info->running_slot, 16);
	check_text(info->last_update, FLEET_DEVICE_INFO_RESULT_MAX);
	if (info->mac != NULL && strlen(info->mac) != 17)
		__builtin_trap();
	if (info->fw_sha256 != NULL) {
		gsize n = strlen(info->fw_sha256);
		if (n < 8 || n > 64)
			__builtin_trap();
		for (gsize i = 0; i < n; i++) {
			if (!g_ascii_isxdigit(info->fw_sha256[i]) ||
			    g_ascii_isupper(info->fw_sha256[i]))
				__builtin_trap();
		}
	}
	if (info->slot_size < -1 || info->free_space < -1 || info->uptime < -1 ||
	    info->boot_count < -1)
		__builtin_trap();

	copy = fleet_device_info_copy(info);
	check_same(copy->name, info->name);
	check_same(copy->mac, info->mac);
	check_same(copy->fw_sha256, info->fw_sha256);
	check_same(copy->last_update, info->last_update);
	if (copy->uptime != info->uptime || copy->slot_size != info->slot_size)
		__builtin_trap();

	device = fleet_device_new("name:fuzz", FLEET_DEVICE_SOURCE_MANUAL);
	fleet_device_info_apply(info, device);
	check_same(fleet_device_get_fw_version(device), info->version);
	return 0;
}
