/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-add-device-dialog.h - add a device that does not announce itself, by address */
#pragma once

#include <gtk/gtk.h>

#include "fleet-device.h"

G_BEGIN_DECLS

#define FLEET_TYPE_ADD_DEVICE_DIALOG (fleet_add_device_dialog_get_type())
G_DECLARE_FINAL_TYPE(
    FleetAddDeviceDialog, fleet_add_device_dialog, FLEET, ADD_DEVICE_DIALOG, GtkDialog)

/* answers GTK_RESPONSE_OK or GTK_RESPONSE_CANCEL; the handler adds the device and closes
 * the dialog, or shows why it could not with fleet_add_device_dialog_show_error() */
FleetAddDeviceDialog *
fleet_add_device_dialog_new(GtkWindow *parent);

const gchar *
fleet_add_device_dialog_get_host(FleetAddDeviceDialog *self);
FleetProtocol
fleet_add_device_dialog_get_protocol(FleetAddDeviceDialog *self);
guint
fleet_add_device_dialog_get_port(FleetAddDeviceDialog *self);
/* the HTTP port that answers GET /info, 0 for none */
guint
fleet_add_device_dialog_get_info_port(FleetAddDeviceDialog *self);
void
fleet_add_device_dialog_show_error(FleetAddDeviceDialog *self, const gchar *message);

G_END_DECLS
