/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-device-probe.h - ask a device added by address what it is (GET /info) */
#pragma once

#include "fleet-device.h"

G_BEGIN_DECLS

/* true when the device has an HTTP port and an address or host name to ask */
gboolean
fleet_device_probe_possible(FleetDevice *device);

/**
 * fleet_device_probe_async:
 * @timeout_s: for the whole exchange (0 means 10 s)
 *
 * Asks the device for GET /info on its HTTP port. An answer is applied to the device
 * (chip, board, MAC, version, SHA-256; for a device added by address also the name it
 * reports, in place of the address it was given) and marks it online; no answer marks it
 * offline. Devices found over mDNS keep their own online tracking: only their facts are
 * updated. Runs on the thread-default main context, no threads.
 */
void
fleet_device_probe_async(FleetDevice *device,
			 guint timeout_s,
			 GCancellable *cancellable,
			 GAsyncReadyCallback callback,
			 gpointer user_data);
/* FALSE with FLEET_ERROR_NOT_SUPPORTED (no HTTP port), _NETWORK, _TIMED_OUT, _INVALID_DATA
 * or G_IO_ERROR_CANCELLED */
gboolean
fleet_device_probe_finish(GAsyncResult *result, GError **error);

G_END_DECLS
