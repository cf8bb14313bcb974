/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-error.h - the FLEET_ERROR domain */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define FLEET_ERROR (fleet_error_quark())

/**
 * FleetError:
 * @FLEET_ERROR_INTERNAL: a bug or an unexpected state. Since: 0.1
 * @FLEET_ERROR_NOT_FOUND: a file, device or key does not exist. Since: 0.1
 * @FLEET_ERROR_NOT_SUPPORTED: the device or image cannot do what was asked. Since: 0.1
 * @FLEET_ERROR_INVALID_DATA: input (a file, a reply from a device) is malformed. Since: 0.1
 * @FLEET_ERROR_SIGNATURE_INVALID: a signature does not verify. Since: 0.1
 * @FLEET_ERROR_AUTH_FAILED: the device refused the password. Since: 0.1
 * @FLEET_ERROR_NETWORK: a connection failed or broke. Since: 0.1
 * @FLEET_ERROR_TIMED_OUT: a device did not answer in time. Since: 0.1
 * @FLEET_ERROR_DEVICE_BUSY: the device is already updating. Since: 0.1
 * @FLEET_ERROR_VERSION_SAME: the device already runs this image. Since: 0.1
 * @FLEET_ERROR_WRONG_TARGET: the image is not for this device. Since: 0.1
 * @FLEET_ERROR_READ: a local file could not be read. Since: 0.1
 */
typedef enum {
	FLEET_ERROR_INTERNAL,
	FLEET_ERROR_NOT_FOUND,
	FLEET_ERROR_NOT_SUPPORTED,
	FLEET_ERROR_INVALID_DATA,
	FLEET_ERROR_SIGNATURE_INVALID,
	FLEET_ERROR_AUTH_FAILED,
	FLEET_ERROR_NETWORK,
	FLEET_ERROR_TIMED_OUT,
	FLEET_ERROR_DEVICE_BUSY,
	FLEET_ERROR_VERSION_SAME,
	FLEET_ERROR_WRONG_TARGET,
	FLEET_ERROR_READ,
	FLEET_ERROR_LAST
} FleetError;

GQuark
fleet_error_quark(void);

/* map G_IO_ERROR and G_FILE_ERROR onto FLEET_ERROR, keeping the message; cancellation stays */
void
fleet_error_convert(GError **error);

G_END_DECLS
