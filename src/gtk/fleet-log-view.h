/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-log-view.h - the live log viewer: a serial-monitor-style view of one device's log or
 * of several devices merged, with filters, pause, autoscroll, save and recording
 *
 * The view shows what a FleetLogHub (libfleet-core) holds and takes in; it owns no source.
 * The window gives it the hub and tells it which devices are selected; the view's own
 * toolbar does the rest. Its actions are in the group "log" on the widget (log.mode,
 * log.pause, log.timestamps, log.colors, log.clear, log.copy, log.save, log.record,
 * log.follow, log.reset-device), so a window can put them in its menus and shortcuts.
 */
#pragma once

#include <gtk/gtk.h>

#include "fleet-log-hub.h"

G_BEGIN_DECLS

typedef enum {
	FLEET_LOG_VIEW_MODE_DEVICE,	     /* the log of the (first) selected device */
	FLEET_LOG_VIEW_MODE_MERGED_ALL,	     /* every device, merged */
	FLEET_LOG_VIEW_MODE_MERGED_SELECTED, /* the selected devices, merged */
} FleetLogViewMode;

GType
fleet_log_view_mode_get_type(void);
#define FLEET_TYPE_LOG_VIEW_MODE (fleet_log_view_mode_get_type())

#define FLEET_TYPE_LOG_VIEW (fleet_log_view_get_type())
G_DECLARE_FINAL_TYPE(FleetLogView, fleet_log_view, FLEET, LOG_VIEW, GtkBox)

GtkWidget *
fleet_log_view_new(void);

/* (nullable): what to show; the view keeps a reference */
void
fleet_log_view_set_hub(FleetLogView *self, FleetLogHub *hub);
FleetLogHub *
fleet_log_view_get_hub(FleetLogView *self);

/* (array zero-terminated=1) (nullable): the device ids selected in the window, in order */
void
fleet_log_view_set_selected_devices(FleetLogView *self, const gchar *const *device_ids);

/* "mode" */
void
fleet_log_view_set_mode(FleetLogView *self, FleetLogViewMode mode);
FleetLogViewMode
fleet_log_view_get_mode(FleetLogView *self);

/* "paused": capture goes on, lines are held back and counted ("held") */
void
fleet_log_view_set_paused(FleetLogView *self, gboolean paused);
gboolean
fleet_log_view_get_paused(FleetLogView *self);
guint
fleet_log_view_get_held(FleetLogView *self);

/* "timestamps": the arrival time column; "colors": the devices' own ANSI colours (else
 * they are stripped and lines are coloured by level only) */
void
fleet_log_view_set_timestamps(FleetLogView *self, gboolean timestamps);
gboolean
fleet_log_view_get_timestamps(FleetLogView *self);
void
fleet_log_view_set_colors(FleetLogView *self, gboolean colors);
gboolean
fleet_log_view_get_colors(FleetLogView *self);

/* "follow": the end stays in view; FALSE once the user scrolls up, TRUE again at the end */
gboolean
fleet_log_view_get_follow(FleetLogView *self);
void
fleet_log_view_scroll_to_end(FleetLogView *self);

/* the filters of the toolbar, for code and tests */
gboolean
fleet_log_view_set_filter_text(FleetLogView *self, const gchar *text, gboolean regex, GError **error);
void
fleet_log_view_set_filter_level(FleetLogView *self, FleetLogLevel level);
void
fleet_log_view_set_filter_tag(FleetLogView *self, const gchar *tag);

/* hides what is shown now (the rings keep it for save and recording) */
void
fleet_log_view_clear(FleetLogView *self);

/* lines shown, and their text as on screen (for tests and copy) */
guint
fleet_log_view_get_n_lines(FleetLogView *self);
gchar *
fleet_log_view_get_text(FleetLogView *self);

/* every kept line the current view lets through (not only what is on screen), as shown */
gboolean
fleet_log_view_save_to_file(FleetLogView *self, GFile *file, GError **error);

/* records every device's log to @folder until stopped (NULL stops) */
gboolean
fleet_log_view_set_recording(FleetLogView *self, GFile *folder, GError **error);
/* (nullable) */
GFile *
fleet_log_view_get_recording(FleetLogView *self);

/* the longest time one batch of lines took to show, in microseconds (benchmarks) */
gint64
fleet_log_view_get_max_batch_us(FleetLogView *self);

G_END_DECLS
