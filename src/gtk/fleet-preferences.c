/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-preferences.c - the preferences dialog; every value is a GSettings key */

#include "config.h"

#include "fleet-preferences.h"

struct _FleetPreferences {
	GtkDialog parent_instance;

	GSettings *settings;

	GtkSpinButton *max_parallel_jobs;
	GtkSpinButton *canary_count;
	GtkSpinButton *stop_after_failures;
	GtkSpinButton *invitation_timeout;
	GtkSpinButton *transfer_timeout;
	GtkSpinButton *verify_timeout;
	GtkSpinButton *log_ring_lines;
	GtkSwitch *remember_passwords;
	GtkSpinButton *demo_fleet_size;
};

G_DEFINE_TYPE(FleetPreferences, fleet_preferences, GTK_TYPE_DIALOG)

static void
fleet_preferences_dispose(GObject *object)
{
	FleetPreferences *self = FLEET_PREFERENCES(object);
	g_clear_object(&self->settings);
	G_OBJECT_CLASS(fleet_preferences_parent_class)->dispose(object);
}

static void
fleet_preferences_class_init(FleetPreferencesClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	object_class->dispose = fleet_preferences_dispose;
	gtk_widget_class_set_template_from_resource(
	    widget_class, "/io/github/espfleet/EspFleet/fleet-preferences.ui");
	gtk_widget_class_bind_template_child(widget_class, FleetPreferences, max_parallel_jobs);
	gtk_widget_class_bind_template_child(widget_class, FleetPreferences, canary_count);
	gtk_widget_class_bind_template_child(widget_class, FleetPreferences, stop_after_failures);
	gtk_widget_class_bind_template_child(widget_class, FleetPreferences, invitation_timeout);
	gtk_widget_class_bind_template_child(widget_class, FleetPreferences, transfer_timeout);
	gtk_widget_class_bind_template_child(widget_class, FleetPreferences, verify_timeout);
	gtk_widget_class_bind_template_child(widget_class, FleetPreferences, log_ring_lines);
	gtk_widget_class_bind_template_child(widget_class, FleetPreferences, remember_passwords);
	gtk_widget_class_bind_template_child(widget_class, FleetPreferences, demo_fleet_size);
}

static void
fleet_preferences_init(FleetPreferences *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
}

FleetPreferences *
fleet_preferences_new(GtkWindow *parent, GSettings *settings)
{
	FleetPreferences *self;
	const struct {
		const gchar *key;
		gsize offset;
	} spins[] = {
	    {"max-parallel-jobs", G_STRUCT_OFFSET(FleetPreferences, max_parallel_jobs)},
	    {"canary-count", G_STRUCT_OFFSET(FleetPreferences, canary_count)},
	    {"stop-after-failures", G_STRUCT_OFFSET(FleetPreferences, stop_after_failures)},
	    {"invitation-timeout", G_STRUCT_OFFSET(FleetPreferences, invitation_timeout)},
	    {"transfer-timeout", G_STRUCT_OFFSET(FleetPreferences, transfer_timeout)},
	    {"verify-timeout", G_STRUCT_OFFSET(FleetPreferences, verify_timeout)},
	    {"demo-fleet-size", G_STRUCT_OFFSET(FleetPreferences, demo_fleet_size)},
	    {"log-ring-lines", G_STRUCT_OFFSET(FleetPreferences, log_ring_lines)},
	};

	g_return_val_if_fail(G_IS_SETTINGS(settings), NULL);
	self = g_object_new(FLEET_TYPE_PREFERENCES, "transient-for", parent, "use-header-bar", TRUE,
			    NULL);
	self->settings = g_object_ref(settings);
	for (gsize i = 0; i < G_N_ELEMENTS(spins); i++) {
		GtkSpinButton *spin = G_STRUCT_MEMBER(GtkSpinButton *, self, spins[i].offset);
		g_settings_bind(settings, spins[i].key, gtk_spin_button_get_adjustment(spin),
				"value", G_SETTINGS_BIND_DEFAULT);
	}
	g_settings_bind(settings, "remember-passwords", self->remember_passwords, "active",
			G_SETTINGS_BIND_DEFAULT);
	return self;
}
