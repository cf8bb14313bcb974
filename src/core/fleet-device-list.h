/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-device-list.h - every known device, one entry per identity, as a GListModel */
#pragma once

#include "fleet-device.h"

G_BEGIN_DECLS

#define FLEET_TYPE_DEVICE_LIST (fleet_device_list_get_type())
G_DECLARE_FINAL_TYPE(FleetDeviceList, fleet_device_list, FLEET, DEVICE_LIST, GObject)

FleetDeviceList *
fleet_device_list_new(void);

/* (transfer none), NULL when unknown */
FleetDevice *
fleet_device_list_lookup(FleetDeviceList *self, const gchar *id);
/* first device whose name, host name ("x.local" or "x") or address equals @what */
FleetDevice *
fleet_device_list_find(FleetDeviceList *self, const gchar *what);

/* appends @device unless one with its id is there; returns the one in the list (transfer none) */
FleetDevice *
fleet_device_list_add(FleetDeviceList *self, FleetDevice *device);

/**
 * fleet_device_list_rekey:
 *
 * A device first known by its instance name later announced its MAC: it keeps its row
 * (position and object) under the new id. If another entry already has @new_id, the two
 * are merged into that one and @device's row is removed.
 *
 * Returns: (transfer none): the entry that now carries @new_id
 */
FleetDevice *
fleet_device_list_rekey(FleetDeviceList *self, FleetDevice *device, const gchar *new_id);

gboolean
fleet_device_list_remove(FleetDeviceList *self, FleetDevice *device);

G_END_DECLS
