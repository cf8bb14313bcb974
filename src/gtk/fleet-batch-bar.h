/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-batch-bar.h - under the list: options of the next batch, progress of the running one */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define FLEET_TYPE_BATCH_BAR (fleet_batch_bar_get_type())
G_DECLARE_FINAL_TYPE(FleetBatchBar, fleet_batch_bar, FLEET, BATCH_BAR, GtkBox)

GtkWidget *
fleet_batch_bar_new(void);

/* the options apply to the next batch only; they start from the preferences */
guint
fleet_batch_bar_get_canary(FleetBatchBar *self);
void
fleet_batch_bar_set_canary(FleetBatchBar *self, guint canary);
guint
fleet_batch_bar_get_max_failures(FleetBatchBar *self);
void
fleet_batch_bar_set_max_failures(FleetBatchBar *self, guint max_failures);

/* while running the options are locked and "Cancel All" shows */
void
fleet_batch_bar_set_running(FleetBatchBar *self, gboolean running);
/* @text: NULL hides the progress; @fraction < 0 hides the bar */
void
fleet_batch_bar_set_progress(FleetBatchBar *self, const gchar *text, gdouble fraction);
void
fleet_batch_bar_set_can_retry(FleetBatchBar *self, gboolean can_retry);

G_END_DECLS
