/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-window.h - the main window: header bar, filters, device list, transcript, batch bar */
#pragma once

#include <gtk/gtk.h>

#include "fleet-application.h"
#include "fleet-batch-bar.h"
#include "fleet-device-item.h"
#include "fleet-discovery.h"
#include "fleet-image.h"

G_BEGIN_DECLS

#define FLEET_TYPE_WINDOW (fleet_window_get_type())
G_DECLARE_FINAL_TYPE(FleetWindow, fleet_window, FLEET, WINDOW, GtkApplicationWindow)

FleetWindow *
fleet_window_new(FleetApplication *application);
void
fleet_window_set_loading(FleetWindow *self, gboolean loading);
void
fleet_window_show_image(FleetWindow *self, FleetImage *image, GFile *file);
void
fleet_window_show_error(FleetWindow *self, const gchar *title, const gchar *message);
/* an informational line above the list (plain text); NULL hides it */
void
fleet_window_show_notice(FleetWindow *self, const gchar *message);

/* the empty state explains what discovery reports */
void
fleet_window_set_discovery_state(FleetWindow *self,
				 FleetDiscoveryState state,
				 const gchar *message);

FleetBatchBar *
fleet_window_get_batch_bar(FleetWindow *self);
/* a batch started or ended: lock the options, show its progress; the summary goes away */
void
fleet_window_set_batch_running(FleetWindow *self, gboolean running);
/* @counts: indexed by FleetJobPhase; one button per non-zero result filters to it */
void
fleet_window_show_summary(FleetWindow *self, const guint *counts, guint n_counts);
/* the device shown in the transcript pane (the selected row), or NULL */
const gchar *
fleet_window_get_selected_device(FleetWindow *self);
/* selects a device's row, as a click would; FALSE when there is no such row */
gboolean
fleet_window_select_device(FleetWindow *self, const gchar *device_id);
/* whether the search and the filters let @item's row show */
gboolean
fleet_window_shows_item(FleetWindow *self, FleetDeviceItem *item);
/* "" or the text of the transcript pane (tests read it) */
gchar *
fleet_window_get_transcript_text(FleetWindow *self);

G_END_DECLS
