/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-credentials.h - device passwords in the Secret Service, or in memory when there is none */
#pragma once

#include <gio/gio.h>

#include "fleet-device.h"

G_BEGIN_DECLS

/* the device id under which the fleet-wide default password is stored */
#define FLEET_CREDENTIALS_DEFAULT_ID "*"

/* the libsecret schema name; attributes "device" (a device id or "*") and "protocol" */
#define FLEET_CREDENTIALS_SCHEMA_NAME "io.github.espfleet.EspFleet.Password"

#define FLEET_TYPE_CREDENTIALS (fleet_credentials_get_type())
G_DECLARE_FINAL_TYPE(FleetCredentials, fleet_credentials, FLEET, CREDENTIALS, GObject)

/**
 * fleet_credentials_new:
 *
 * Starts probing the Secret Service on the thread-default main context. When it does not
 * answer (no session bus, no keyring), or any later call finds it gone, the passwords
 * live in memory only: #FleetCredentials:persistent turns FALSE and
 * #FleetCredentials:reason says why. Passwords are never written to a file or logged.
 */
FleetCredentials *
fleet_credentials_new(void);

/* TRUE while passwords go to the keyring */
gboolean
fleet_credentials_get_persistent(FleetCredentials *self);
/* translated explanation while not persistent, else NULL */
const gchar *
fleet_credentials_get_reason(FleetCredentials *self);

/* a copy of a password: zeroed, then freed; NULL is fine */
void
fleet_credentials_free_password(gchar *password);

/* g_autoptr(FleetPassword) wipes the password when it goes out of scope */
typedef gchar FleetPassword;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FleetPassword, fleet_credentials_free_password)

/**
 * fleet_credentials_lookup_async:
 * @device_id: fleet_device_get_id()
 * @protocol: %FLEET_PROTOCOL_ESPOTA or %FLEET_PROTOCOL_HTTP
 *
 * Looks up the device's password for @protocol, else the fleet-wide default for it.
 */
void
fleet_credentials_lookup_async(FleetCredentials *self,
			       const gchar *device_id,
			       FleetProtocol protocol,
			       GCancellable *cancellable,
			       GAsyncReadyCallback callback,
			       gpointer user_data);
/* Returns: (transfer full) (nullable): free with fleet_credentials_free_password(); NULL
 * without @error when neither the device nor the fleet has a password */
gchar *
fleet_credentials_lookup_finish(FleetCredentials *self, GAsyncResult *result, GError **error);

/* stores @password for the device under the label "ESP Fleet Updater: <device_name>" */
void
fleet_credentials_store_async(FleetCredentials *self,
			      const gchar *device_id,
			      const gchar *device_name,
			      FleetProtocol protocol,
			      const gchar *password,
			      GCancellable *cancellable,
			      GAsyncReadyCallback callback,
			      gpointer user_data);
gboolean
fleet_credentials_store_finish(FleetCredentials *self, GAsyncResult *result, GError **error);

/* the fleet-wide default for @protocol, used for devices without their own password */
void
fleet_credentials_set_default_async(FleetCredentials *self,
				    FleetProtocol protocol,
				    const gchar *password,
				    GCancellable *cancellable,
				    GAsyncReadyCallback callback,
				    gpointer user_data);
gboolean
fleet_credentials_set_default_finish(FleetCredentials *self, GAsyncResult *result, GError **error);

/* forgets the device's password (FLEET_CREDENTIALS_DEFAULT_ID: the default); no error when
 * there was none */
void
fleet_credentials_clear_async(FleetCredentials *self,
			      const gchar *device_id,
			      FleetProtocol protocol,
			      GCancellable *cancellable,
			      GAsyncReadyCallback callback,
			      gpointer user_data);
gboolean
fleet_credentials_clear_finish(FleetCredentials *self, GAsyncResult *result, GError **error);

G_END_DECLS
