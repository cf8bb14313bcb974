/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-add-device-dialog.c - add a device that does not announce itself, by address */

#include "config.h"

#include "fleet-add-device-dialog.h"

#include <glib/gi18n.h>

/* the ports the update methods listen on by default (espota.md, http-ota.md) */
#define FLEET_DEFAULT_ESPOTA_PORT 3232
#define FLEET_DEFAULT_HTTP_PORT 80

struct _FleetAddDeviceDialog {
	GtkDialog parent_instance;

	GtkEntry *host_entry;
	GtkComboBoxText *protocol_combo;
	GtkSpinButton *port_spin;
	GtkLabel *info_port_label;
	GtkSpinButton *info_port_spin;
	GtkLabel *error_label;
	GtkButton *add_button;
};

G_DEFINE_TYPE(FleetAddDeviceDialog, fleet_add_device_dialog, GTK_TYPE_DIALOG)

static void
fleet_add_device_dialog_host_entry_changed_cb(GtkEditable *editable, gpointer user_data)
{
	FleetAddDeviceDialog *self = FLEET_ADD_DEVICE_DIALOG(user_data);
	g_autofree gchar *host = g_strstrip(g_strdup(gtk_entry_get_text(self->host_entry)));
	gtk_widget_set_sensitive(GTK_WIDGET(self->add_button), host[0] != '\0');
	gtk_widget_set_visible(GTK_WIDGET(self->error_label), FALSE);
}

static void
fleet_add_device_dialog_protocol_combo_changed_cb(GtkComboBox *combo, gpointer user_data)
{
	FleetAddDeviceDialog *self = FLEET_ADD_DEVICE_DIALOG(user_data);
	gboolean http = fleet_add_device_dialog_get_protocol(self) == FLEET_PROTOCOL_HTTP;
	guint port = (guint)gtk_spin_button_get_value_as_int(self->port_spin);

	/* follow the protocol's usual port unless the user typed another one */
	if (http && port == FLEET_DEFAULT_ESPOTA_PORT)
		gtk_spin_button_set_value(self->port_spin, FLEET_DEFAULT_HTTP_PORT);
	else if (!http && port == FLEET_DEFAULT_HTTP_PORT)
		gtk_spin_button_set_value(self->port_spin, FLEET_DEFAULT_ESPOTA_PORT);
	/* an HTTP updater answers GET /info on its own port */
	gtk_widget_set_visible(GTK_WIDGET(self->info_port_label), !http);
	gtk_widget_set_visible(GTK_WIDGET(self->info_port_spin), !http);
}

static void
fleet_add_device_dialog_class_init(FleetAddDeviceDialogClass *klass)
{
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	gtk_widget_class_set_template_from_resource(
	    widget_class, "/io/github/espfleet/EspFleet/fleet-add-device-dialog.ui");
	gtk_widget_class_bind_template_child(widget_class, FleetAddDeviceDialog, host_entry);
	gtk_widget_class_bind_template_child(widget_class, FleetAddDeviceDialog, protocol_combo);
	gtk_widget_class_bind_template_child(widget_class, FleetAddDeviceDialog, port_spin);
	gtk_widget_class_bind_template_child(widget_class, FleetAddDeviceDialog, info_port_label);
	gtk_widget_class_bind_template_child(widget_class, FleetAddDeviceDialog, info_port_spin);
	gtk_widget_class_bind_template_child(widget_class, FleetAddDeviceDialog, error_label);
	gtk_widget_class_bind_template_child(widget_class, FleetAddDeviceDialog, add_button);
	gtk_widget_class_bind_template_callback(widget_class,
						fleet_add_device_dialog_host_entry_changed_cb);
	gtk_widget_class_bind_template_callback(widget_class,
						fleet_add_device_dialog_protocol_combo_changed_cb);
}

static void
fleet_add_device_dialog_init(FleetAddDeviceDialog *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
	gtk_dialog_set_default_response(GTK_DIALOG(self), GTK_RESPONSE_OK);
}

const gchar *
fleet_add_device_dialog_get_host(FleetAddDeviceDialog *self)
{
	g_return_val_if_fail(FLEET_IS_ADD_DEVICE_DIALOG(self), NULL);
	return gtk_entry_get_text(self->host_entry);
}

FleetProtocol
fleet_add_device_dialog_get_protocol(FleetAddDeviceDialog *self)
{
	g_return_val_if_fail(FLEET_IS_ADD_DEVICE_DIALOG(self), FLEET_PROTOCOL_NONE);
	if (g_strcmp0(gtk_combo_box_get_active_id(GTK_COMBO_BOX(self->protocol_combo)), "http") ==
	    0)
		return FLEET_PROTOCOL_HTTP;
	return FLEET_PROTOCOL_ESPOTA;
}

guint
fleet_add_device_dialog_get_port(FleetAddDeviceDialog *self)
{
	g_return_val_if_fail(FLEET_IS_ADD_DEVICE_DIALOG(self), 0);
	gtk_spin_button_update(self->port_spin);
	return (guint)gtk_spin_button_get_value_as_int(self->port_spin);
}

guint
fleet_add_device_dialog_get_info_port(FleetAddDeviceDialog *self)
{
	g_return_val_if_fail(FLEET_IS_ADD_DEVICE_DIALOG(self), 0);
	if (fleet_add_device_dialog_get_protocol(self) == FLEET_PROTOCOL_HTTP)
		return 0;
	gtk_spin_button_update(self->info_port_spin);
	return (guint)gtk_spin_button_get_value_as_int(self->info_port_spin);
}

void
fleet_add_device_dialog_show_error(FleetAddDeviceDialog *self, const gchar *message)
{
	g_return_if_fail(FLEET_IS_ADD_DEVICE_DIALOG(self));
	gtk_label_set_text(self->error_label, message != NULL ? message : "");
	gtk_widget_set_visible(GTK_WIDGET(self->error_label), message != NULL);
	gtk_widget_grab_focus(GTK_WIDGET(self->host_entry));
}

FleetAddDeviceDialog *
fleet_add_device_dialog_new(GtkWindow *parent)
{
	return g_object_new(FLEET_TYPE_ADD_DEVICE_DIALOG, "transient-for", parent, "use-header-bar",
			    TRUE, NULL);
}
