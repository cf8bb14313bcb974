/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-device.h - one ESP module, as announced over mDNS or added by address */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
	FLEET_PROTOCOL_NONE = 0,
	FLEET_PROTOCOL_ESPOTA = 1 << 0,
	FLEET_PROTOCOL_HTTP = 1 << 1,
} FleetProtocol;

typedef enum {
	FLEET_DEVICE_SOURCE_MDNS,
	FLEET_DEVICE_SOURCE_MANUAL,
} FleetDeviceSource;

#define FLEET_TYPE_DEVICE (fleet_device_get_type())
G_DECLARE_FINAL_TYPE(FleetDevice, fleet_device, FLEET, DEVICE, GObject)

/* @id is the stable identity: "mac:aa:bb:cc:dd:ee:ff" when the MAC is known, else
 * "name:<instance name>" or, for manual devices, "addr:<host>:<port>" */
FleetDevice *
fleet_device_new(const gchar *id, FleetDeviceSource source);

/* "mac:…" from a MAC in any common notation, NULL when it is not a MAC */
gchar *
fleet_device_id_for_mac(const gchar *mac);

const gchar *
fleet_device_get_id(FleetDevice *self);
FleetDeviceSource
fleet_device_get_source(FleetDevice *self);
/* only FleetDeviceList changes an identity (fleet_device_list_rekey) */
void
fleet_device_set_id(FleetDevice *self, const gchar *id);

/* each setter emits notify only when the value changes */
const gchar *
fleet_device_get_name(FleetDevice *self);
void
fleet_device_set_name(FleetDevice *self, const gchar *name);
const gchar *
fleet_device_get_hostname(FleetDevice *self);
void
fleet_device_set_hostname(FleetDevice *self, const gchar *hostname);
/* IP address (text); NULL while unresolved */
const gchar *
fleet_device_get_address(FleetDevice *self);
void
fleet_device_set_address(FleetDevice *self, const gchar *address);
guint16
fleet_device_get_ota_port(FleetDevice *self);
void
fleet_device_set_ota_port(FleetDevice *self, guint16 port);
guint16
fleet_device_get_http_port(FleetDevice *self);
void
fleet_device_set_http_port(FleetDevice *self, guint16 port);
/* "/update" */
const gchar *
fleet_device_get_http_path(FleetDevice *self);
void
fleet_device_set_http_path(FleetDevice *self, const gchar *path);
guint16
fleet_device_get_log_port(FleetDevice *self);
void
fleet_device_set_log_port(FleetDevice *self, guint16 port);
const gchar *
fleet_device_get_board(FleetDevice *self);
void
fleet_device_set_board(FleetDevice *self, const gchar *board);
const gchar *
fleet_device_get_chip(FleetDevice *self);
void
fleet_device_set_chip(FleetDevice *self, const gchar *chip);
const gchar *
fleet_device_get_mac(FleetDevice *self);
void
fleet_device_set_mac(FleetDevice *self, const gchar *mac);
const gchar *
fleet_device_get_fw_version(FleetDevice *self);
void
fleet_device_set_fw_version(FleetDevice *self, const gchar *version);
/* a prefix of the running image's SHA-256 in lowercase hex (16 characters as announced) */
const gchar *
fleet_device_get_fw_sha256(FleetDevice *self);
void
fleet_device_set_fw_sha256(FleetDevice *self, const gchar *sha256);
FleetProtocol
fleet_device_get_protocols(FleetDevice *self);
void
fleet_device_set_protocols(FleetDevice *self, FleetProtocol protocols);
gboolean
fleet_device_get_needs_password(FleetDevice *self);
void
fleet_device_set_needs_password(FleetDevice *self, gboolean needs_password);
gboolean
fleet_device_get_online(FleetDevice *self);
void
fleet_device_set_online(FleetDevice *self, gboolean online);
/* g_get_real_time() of the last announcement or answer, 0 never */
gint64
fleet_device_get_last_seen(FleetDevice *self);
void
fleet_device_touch(FleetDevice *self);

/* "esp-lab-3 (198.18.0.13:3232)" for messages */
gchar *
fleet_device_describe(FleetDevice *self, FleetProtocol protocol);

/* apply the keys of an _arduino._tcp TXT record (fleet_txt_record_parse) */
void
fleet_device_apply_txt(FleetDevice *self, GHashTable *txt);

G_END_DECLS
