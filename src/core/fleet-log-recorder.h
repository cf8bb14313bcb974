/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-log-recorder.h - records every device's log to a folder while it runs: one file
 * per device, appended to, named from the device id (never from device-provided text)
 */
#pragma once

#include "fleet-log-hub.h"

G_BEGIN_DECLS

#define FLEET_TYPE_LOG_RECORDER (fleet_log_recorder_get_type())
G_DECLARE_FINAL_TYPE(FleetLogRecorder, fleet_log_recorder, FLEET, LOG_RECORDER, GObject)

/**
 * fleet_log_recorder_new:
 * @folder: where the files go (made when missing)
 *
 * Records the lines @hub takes in from now on, until fleet_log_recorder_stop() or the
 * last reference goes. A write error stops it and emits ::failed with the error.
 *
 * Returns: (transfer full): the recorder, or NULL with @error when the folder cannot be made
 */
FleetLogRecorder *
fleet_log_recorder_new(FleetLogHub *hub, GFile *folder, GError **error);

GFile *
fleet_log_recorder_get_folder(FleetLogRecorder *self);
gboolean
fleet_log_recorder_get_running(FleetLogRecorder *self);
/* flushes and closes every file */
void
fleet_log_recorder_stop(FleetLogRecorder *self);
guint64
fleet_log_recorder_get_n_lines(FleetLogRecorder *self);

/* "mac_a2-7d-eb-07-8a-74.log": only [A-Za-z0-9._-], a hash added when anything was
 * replaced, so two ids never share a file */
gchar *
fleet_log_recorder_file_name(const gchar *device_id);

G_END_DECLS
