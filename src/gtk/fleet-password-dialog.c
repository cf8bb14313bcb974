/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-password-dialog.c - asks for the update password of one device */

#include "config.h"

#include "fleet-password-dialog.h"

#include <glib/gi18n.h>

/*
 * The dialog only collects the answer: the application decides what it means (which job,
 * whether to store it, which other devices get it) in its "response" handler.
 */

struct _FleetPasswordDialog {
	GtkDialog parent_instance;

	GtkLabel *title_label;
	GtkLabel *rejected_label;
	GtkEntry *password_entry;
	GtkCheckButton *remember_check;
	GtkLabel *remember_note;
	GtkCheckButton *all_check;
	GtkButton *ok_button;
};

G_DEFINE_TYPE(FleetPasswordDialog, fleet_password_dialog, GTK_TYPE_DIALOG)

static void
fleet_password_dialog_password_entry_changed_cb(GtkEditable *editable, gpointer user_data)
{
	FleetPasswordDialog *self = FLEET_PASSWORD_DIALOG(user_data);
	gtk_widget_set_sensitive(GTK_WIDGET(self->ok_button),
				 gtk_entry_get_text_length(self->password_entry) > 0);
}

static void
fleet_password_dialog_class_init(FleetPasswordDialogClass *klass)
{
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	gtk_widget_class_set_template_from_resource(
	    widget_class, "/io/github/espfleet/EspFleet/fleet-password-dialog.ui");
	gtk_widget_class_bind_template_child(widget_class, FleetPasswordDialog, title_label);
	gtk_widget_class_bind_template_child(widget_class, FleetPasswordDialog, rejected_label);
	gtk_widget_class_bind_template_child(widget_class, FleetPasswordDialog, password_entry);
	gtk_widget_class_bind_template_child(widget_class, FleetPasswordDialog, remember_check);
	gtk_widget_class_bind_template_child(widget_class, FleetPasswordDialog, remember_note);
	gtk_widget_class_bind_template_child(widget_class, FleetPasswordDialog, all_check);
	gtk_widget_class_bind_template_child(widget_class, FleetPasswordDialog, ok_button);
	gtk_widget_class_bind_template_callback(widget_class,
						fleet_password_dialog_password_entry_changed_cb);
}

static void
fleet_password_dialog_init(FleetPasswordDialog *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
	gtk_dialog_set_default_response(GTK_DIALOG(self), GTK_RESPONSE_OK);
}

void
fleet_password_dialog_set_remember(FleetPasswordDialog *self,
				   gboolean remember,
				   gboolean available,
				   const gchar *note)
{
	g_return_if_fail(FLEET_IS_PASSWORD_DIALOG(self));
	gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(self->remember_check),
				     remember && available);
	gtk_widget_set_sensitive(GTK_WIDGET(self->remember_check), available);
	gtk_label_set_text(self->remember_note, note != NULL ? note : "");
	gtk_widget_set_visible(GTK_WIDGET(self->remember_note), note != NULL && note[0] != '\0');
}

void
fleet_password_dialog_set_offer_all(FleetPasswordDialog *self, gboolean offer)
{
	g_return_if_fail(FLEET_IS_PASSWORD_DIALOG(self));
	gtk_widget_set_visible(GTK_WIDGET(self->all_check), offer);
	if (!offer)
		gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(self->all_check), FALSE);
}

const gchar *
fleet_password_dialog_get_password(FleetPasswordDialog *self)
{
	g_return_val_if_fail(FLEET_IS_PASSWORD_DIALOG(self), NULL);
	return gtk_entry_get_text(self->password_entry);
}

void
fleet_password_dialog_set_password(FleetPasswordDialog *self, const gchar *password)
{
	g_return_if_fail(FLEET_IS_PASSWORD_DIALOG(self));
	gtk_entry_set_text(self->password_entry, password != NULL ? password : "");
}

gboolean
fleet_password_dialog_get_remember(FleetPasswordDialog *self)
{
	g_return_val_if_fail(FLEET_IS_PASSWORD_DIALOG(self), FALSE);
	return gtk_widget_get_sensitive(GTK_WIDGET(self->remember_check)) &&
	       gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(self->remember_check));
}

void
fleet_password_dialog_set_remember_active(FleetPasswordDialog *self, gboolean remember)
{
	g_return_if_fail(FLEET_IS_PASSWORD_DIALOG(self));
	gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(self->remember_check), remember);
}

gboolean
fleet_password_dialog_get_use_for_all(FleetPasswordDialog *self)
{
	g_return_val_if_fail(FLEET_IS_PASSWORD_DIALOG(self), FALSE);
	return gtk_widget_get_visible(GTK_WIDGET(self->all_check)) &&
	       gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(self->all_check));
}

void
fleet_password_dialog_set_use_for_all(FleetPasswordDialog *self, gboolean use_for_all)
{
	g_return_if_fail(FLEET_IS_PASSWORD_DIALOG(self));
	gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(self->all_check), use_for_all);
}

void
fleet_password_dialog_clear(FleetPasswordDialog *self)
{
	g_return_if_fail(FLEET_IS_PASSWORD_DIALOG(self));
	gtk_entry_set_text(self->password_entry, "");
}

FleetPasswordDialog *
fleet_password_dialog_new(GtkWindow *parent, const gchar *device_name, gboolean rejected)
{
	FleetPasswordDialog *self;
	g_autofree gchar *title = NULL;

	g_return_val_if_fail(device_name != NULL, NULL);
	self = g_object_new(FLEET_TYPE_PASSWORD_DIALOG, "transient-for", parent, "use-header-bar",
			    TRUE, NULL);
	/* TRANSLATORS: title of the password dialog; %s is the device name */
	title = g_strdup_printf(_("Password for “%s”"), device_name);
	gtk_label_set_text(self->title_label, title);
	gtk_widget_set_visible(GTK_WIDGET(self->rejected_label), rejected);
	return self;
}
