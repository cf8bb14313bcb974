/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-device-store.h - the rows of the device list: one FleetDeviceItem per device of the
 * engine's FleetDeviceList, in a stable order (name, then id)
 */
#pragma once

#include "fleet-device-item.h"
#include "fleet-device-list.h"

G_BEGIN_DECLS

#define FLEET_TYPE_DEVICE_STORE (fleet_device_store_get_type())
G_DECLARE_FINAL_TYPE(FleetDeviceStore, fleet_device_store, FLEET, DEVICE_STORE, GObject)

/* a GListModel of FleetDeviceItem that follows @devices */
FleetDeviceStore *
fleet_device_store_new(FleetDeviceList *devices);

/* (transfer none), NULL when unknown */
FleetDeviceItem *
fleet_device_store_lookup(FleetDeviceStore *self, const gchar *device_id);
FleetDeviceItem *
fleet_device_store_lookup_device(FleetDeviceStore *self, FleetDevice *device);

/* the chosen image: every item gets its verdict; refused devices are unticked unless forced */
void
fleet_device_store_set_image(FleetDeviceStore *self, FleetImage *image);
FleetImage *
fleet_device_store_get_image(FleetDeviceStore *self);
void
fleet_device_store_set_force(FleetDeviceStore *self, gboolean force);
gboolean
fleet_device_store_get_force(FleetDeviceStore *self);
/* whether @item may be ticked: not refused by pre-flight, or forced */
gboolean
fleet_device_store_can_check(FleetDeviceStore *self, FleetDeviceItem *item);

/* while frozen (a batch runs) a renamed device keeps its place; it moves when thawed */
void
fleet_device_store_set_frozen(FleetDeviceStore *self, gboolean frozen);

/* (element-type FleetDeviceItem) (transfer container): ticked items in list order */
GPtrArray *
fleet_device_store_get_checked(FleetDeviceStore *self);
guint
fleet_device_store_count_checked(FleetDeviceStore *self);

G_END_DECLS
