/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-device-item.h - what the window shows about one device: the engine's FleetDevice,
 * its latest FleetJob, whether it is ticked and its pre-flight verdict for the chosen image
 */
#pragma once

#include <gio/gio.h>

#include "fleet-device.h"
#include "fleet-image.h"
#include "fleet-job.h"

G_BEGIN_DECLS

typedef enum {
	FLEET_PASSWORD_STATE_UNKNOWN, /* not looked up (yet) */
	FLEET_PASSWORD_STATE_NONE,    /* the keyring has none for this device */
	FLEET_PASSWORD_STATE_REMEMBERED,
} FleetPasswordState;

#define FLEET_TYPE_DEVICE_ITEM (fleet_device_item_get_type())
G_DECLARE_FINAL_TYPE(FleetDeviceItem, fleet_device_item, FLEET, DEVICE_ITEM, GObject)

FleetDeviceItem *
fleet_device_item_new(FleetDevice *device);

FleetDevice *
fleet_device_item_get_device(FleetDeviceItem *self);

/* the latest job of this device (kept after the batch for its result and transcript) */
FleetJob *
fleet_device_item_get_job(FleetDeviceItem *self);
void
fleet_device_item_set_job(FleetDeviceItem *self, FleetJob *job);
/* a job that has not ended */
gboolean
fleet_device_item_is_busy(FleetDeviceItem *self);

gboolean
fleet_device_item_get_checked(FleetDeviceItem *self);
void
fleet_device_item_set_checked(FleetDeviceItem *self, gboolean checked);

/* recomputes the verdict; NULL clears it */
void
fleet_device_item_set_image(FleetDeviceItem *self, FleetImage *image);
gboolean
fleet_device_item_has_verdict(FleetDeviceItem *self);
FleetCompatVerdict
fleet_device_item_get_verdict(FleetDeviceItem *self);
/* the most severe reason, translated; NULL when the verdict is OK or there is none */
const gchar *
fleet_device_item_get_verdict_message(FleetDeviceItem *self);
/* every reason, one a line, for a tooltip; NULL when there is none */
const gchar *
fleet_device_item_get_verdict_details(FleetDeviceItem *self);
/* the device runs a different version than the chosen image, or an unknown one */
gboolean
fleet_device_item_is_outdated(FleetDeviceItem *self);

FleetPasswordState
fleet_device_item_get_password_state(FleetDeviceItem *self);
void
fleet_device_item_set_password_state(FleetDeviceItem *self, FleetPasswordState state);

/* the text a search matches against: name, address, host name, board, chip, version */
gboolean
fleet_device_item_matches(FleetDeviceItem *self, const gchar *needle_casefolded);

/* "name" for display: the name, else the host name, else the id */
const gchar *
fleet_device_item_get_display_name(FleetDeviceItem *self);

G_END_DECLS
