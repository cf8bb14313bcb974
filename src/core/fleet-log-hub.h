/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-log-hub.h - every log line of every source: a bounded ring per device, sequence
 * numbers in arrival order, and batches for the views
 *
 * Sources hand lines over as they read them; the hub stamps them, stores them in the
 * device's FleetLogBuffer at once, and tells the views in one ::lines-added batch per
 * batch interval (30 ms), so that twenty devices at a thousand lines a second cost a view
 * about thirty updates a second, not twenty thousand. A merged view of any set of devices
 * is the rings interleaved by sequence number (fleet_log_hub_collect()).
 */
#pragma once

#include "fleet-device-list.h"
#include "fleet-log-buffer.h"
#include "fleet-log-filter.h"
#include "fleet-log-source.h"

G_BEGIN_DECLS

#define FLEET_LOG_HUB_BATCH_MS_DEFAULT 30

#define FLEET_TYPE_LOG_HUB (fleet_log_hub_get_type())
G_DECLARE_FINAL_TYPE(FleetLogHub, fleet_log_hub, FLEET, LOG_HUB, GObject)

FleetLogHub *
fleet_log_hub_new(void);

/* lines kept per device ("ring-lines" property, bind it to the setting log-ring-lines) */
guint
fleet_log_hub_get_ring_lines(FleetLogHub *self);
void
fleet_log_hub_set_ring_lines(FleetLogHub *self, guint lines);
/* milliseconds between ::lines-added batches; 0 delivers every source batch at once */
void
fleet_log_hub_set_batch_interval(FleetLogHub *self, guint ms);

/**
 * fleet_log_hub_set_devices:
 * @devices: (nullable): the known devices, for their names and, with follow, their logs
 * @follow: connect to the log stream of every device that announces a log_port (and
 *   disconnect when it leaves the list)
 */
void
fleet_log_hub_set_devices(FleetLogHub *self, FleetDeviceList *devices, gboolean follow);
FleetDeviceList *
fleet_log_hub_get_devices(FleetLogHub *self);

/* takes a reference and starts it; its lines go into the hub */
void
fleet_log_hub_add_source(FleetLogHub *self, FleetLogSource *source);
void
fleet_log_hub_remove_source(FleetLogHub *self, FleetLogSource *source);
/* (element-type FleetLogSource): every source, as a GListModel */
GListModel *
fleet_log_hub_get_sources(FleetLogHub *self);
/* (transfer none) (nullable): the first source whose lines carry @device_id */
FleetLogSource *
fleet_log_hub_find_source(FleetLogHub *self, const gchar *device_id);

/* any line containing @secret is stored and shown with it masked (passwords) */
void
fleet_log_hub_add_secret(FleetLogHub *self, const gchar *secret);

/* stores @lines (element-type FleetLogLine) as if a source had sent them */
void
fleet_log_hub_ingest(FleetLogHub *self, GPtrArray *lines);
/* emits the pending ::lines-added batch now */
void
fleet_log_hub_flush(FleetLogHub *self);

/* (transfer none) (nullable) */
FleetLogBuffer *
fleet_log_hub_get_buffer(FleetLogHub *self, const gchar *device_id);
/* (transfer full): the ids of every device with lines, in order of their first line */
gchar **
fleet_log_hub_dup_device_ids(FleetLogHub *self);
/* the device's name when the device list knows it, else a short form of the id
 * ("ttyUSB0", "198.18.1.5"); plain text, not sanitised */
gchar *
fleet_log_hub_dup_display_name(FleetLogHub *self, const gchar *device_id);

/**
 * fleet_log_hub_collect:
 * @filter: (nullable): which lines; NULL for all
 * @max_lines: at most this many, the newest; 0 for no limit
 * @n_dropped: (out) (optional): lines of the devices the filter lets through that left
 *   their rings (what the "older lines dropped" marker reports)
 *
 * Returns: (transfer full) (element-type FleetLogLine): the matching lines still kept, of
 * every device the filter lets through, interleaved in arrival order
 */
GPtrArray *
fleet_log_hub_collect(FleetLogHub *self, FleetLogFilter *filter, guint max_lines, guint64 *n_dropped);

/* drops every stored line (sources keep running) and emits ::cleared */
void
fleet_log_hub_clear(FleetLogHub *self);

/* lines taken in so far, and the sequence number of the newest */
guint64
fleet_log_hub_get_n_lines(FleetLogHub *self);
guint64
fleet_log_hub_get_last_seq(FleetLogHub *self);

G_END_DECLS
