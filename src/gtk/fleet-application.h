/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-application.h - the espfleet GtkApplication: owns the engine (discovery, credentials,
 * job queue), the chosen image and the actions every window, test and shortcut goes through
 */
#pragma once

#include <gtk/gtk.h>

#include "fleet-device-store.h"
#include "fleet-image.h"
#include "fleet-log-hub.h"

G_BEGIN_DECLS

#define FLEET_TYPE_APPLICATION (fleet_application_get_type())
G_DECLARE_FINAL_TYPE(FleetApplication, fleet_application, FLEET, APPLICATION, GtkApplication)

FleetApplication *
fleet_application_new(void);
GSettings *
fleet_application_get_settings(FleetApplication *self);
/* the rows of the device list */
FleetDeviceStore *
fleet_application_get_store(FleetApplication *self);
/* every device's live log (TCP log streams, update transcripts) for the log view */
FleetLogHub *
fleet_application_get_log_hub(FleetApplication *self);
/* TRUE while a batch of updates runs */
gboolean
fleet_application_get_batch_running(FleetApplication *self);
void
fleet_application_open_file(FleetApplication *self, GFile *file);
/* the window's view changed (filters, selection): the exported states follow */
void
fleet_application_update_state(FleetApplication *self);

G_END_DECLS
