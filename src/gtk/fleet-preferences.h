/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-preferences.h - the preferences dialog; every value is a GSettings key */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define FLEET_TYPE_PREFERENCES (fleet_preferences_get_type())
G_DECLARE_FINAL_TYPE(FleetPreferences, fleet_preferences, FLEET, PREFERENCES, GtkDialog)

/* changes apply at once, as in every GNOME preferences dialog; close it to dismiss */
FleetPreferences *
fleet_preferences_new(GtkWindow *parent, GSettings *settings);

G_END_DECLS
