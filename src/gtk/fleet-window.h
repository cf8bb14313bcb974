/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-window.h - the main window: header bar, empty state, image report */
#pragma once

#include <gtk/gtk.h>

#include "fleet-application.h"
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

G_END_DECLS
