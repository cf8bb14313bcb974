/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-device-row.h - one device in the list: tick, name and facts, update state */
#pragma once

#include <gtk/gtk.h>

#include "fleet-device-item.h"
#include "fleet-device-store.h"

G_BEGIN_DECLS

#define FLEET_TYPE_DEVICE_ROW (fleet_device_row_get_type())
G_DECLARE_FINAL_TYPE(FleetDeviceRow, fleet_device_row, FLEET, DEVICE_ROW, GtkListBoxRow)

/* signals: "menu-requested" (GtkWidget *relative_to, GdkRectangle *rect or NULL) and
 * "cancel-requested" */
GtkWidget *
fleet_device_row_new(FleetDeviceItem *item, FleetDeviceStore *store);
FleetDeviceItem *
fleet_device_row_get_item(FleetDeviceRow *self);

G_END_DECLS
