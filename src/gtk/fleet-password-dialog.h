/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-password-dialog.h - asks for the update password of one device */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define FLEET_TYPE_PASSWORD_DIALOG (fleet_password_dialog_get_type())
G_DECLARE_FINAL_TYPE(FleetPasswordDialog, fleet_password_dialog, FLEET, PASSWORD_DIALOG, GtkDialog)

/* answers with GTK_RESPONSE_OK (a password was entered) or GTK_RESPONSE_CANCEL (skip the
 * device); connect to "response", never run it */
FleetPasswordDialog *
fleet_password_dialog_new(GtkWindow *parent, const gchar *device_name, gboolean rejected);

/* @available: whether a keyring is there; @note: shown under the check box (plain text) */
void
fleet_password_dialog_set_remember(FleetPasswordDialog *self,
				   gboolean remember,
				   gboolean available,
				   const gchar *note);
/* hide "Use for all…" when no other device of the batch could use it */
void
fleet_password_dialog_set_offer_all(FleetPasswordDialog *self, gboolean offer);

const gchar *
fleet_password_dialog_get_password(FleetPasswordDialog *self);
/* fills the entry as if typed (tests drive the real dialog through this) */
void
fleet_password_dialog_set_password(FleetPasswordDialog *self, const gchar *password);
gboolean
fleet_password_dialog_get_remember(FleetPasswordDialog *self);
void
fleet_password_dialog_set_remember_active(FleetPasswordDialog *self, gboolean remember);
gboolean
fleet_password_dialog_get_use_for_all(FleetPasswordDialog *self);
void
fleet_password_dialog_set_use_for_all(FleetPasswordDialog *self, gboolean use_for_all);
/* empties the entry, so the password does not stay in the widget longer than needed */
void
fleet_password_dialog_clear(FleetPasswordDialog *self);

G_END_DECLS
