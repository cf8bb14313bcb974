/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-discovery.h - finds _arduino._tcp devices through avahi-daemon and adds manual ones */
#pragma once

#include "fleet-device-list.h"

G_BEGIN_DECLS

/* the service type browsed, in domain "local" */
#define FLEET_DISCOVERY_SERVICE_TYPE "_arduino._tcp"
/* how long a device that said goodbye (or whose records expired) stays online */
#define FLEET_DISCOVERY_GRACE_PERIOD_DEFAULT_MS 10000

/**
 * FleetDiscoveryState:
 * @FLEET_DISCOVERY_STATE_STARTING: fleet_discovery_start() was not called yet, or the
 *   first connection attempt is under way
 * @FLEET_DISCOVERY_STATE_RUNNING: browsing
 * @FLEET_DISCOVERY_STATE_UNAVAILABLE: avahi-daemon cannot be reached; see
 *   fleet_discovery_get_error_message(). Discovery resumes by itself when it appears.
 */
typedef enum {
	FLEET_DISCOVERY_STATE_STARTING,
	FLEET_DISCOVERY_STATE_RUNNING,
	FLEET_DISCOVERY_STATE_UNAVAILABLE,
} FleetDiscoveryState;

GType
fleet_discovery_state_get_type(void);
#define FLEET_TYPE_DISCOVERY_STATE (fleet_discovery_state_get_type())

#define FLEET_TYPE_DISCOVERY (fleet_discovery_get_type())
G_DECLARE_FINAL_TYPE(FleetDiscovery, fleet_discovery, FLEET, DISCOVERY, GObject)

/* fills @devices (keeps a reference); talks to nothing until fleet_discovery_start() */
FleetDiscovery *
fleet_discovery_new(FleetDeviceList *devices);

FleetDeviceList *
fleet_discovery_get_devices(FleetDiscovery *self);

/* connects to avahi-daemon over the D-Bus system bus (DBUS_SYSTEM_BUS_ADDRESS is honoured)
 * on the thread-default main context of the call to fleet_discovery_new(), and browses */
void
fleet_discovery_start(FleetDiscovery *self);
/* starts browsing again (F5): every instance is looked up anew, and the ones no longer
 * announced go offline after the grace period; reconnects at once when unavailable */
void
fleet_discovery_refresh(FleetDiscovery *self);

/* notify::state and notify::error-message tell the front ends */
FleetDiscoveryState
fleet_discovery_get_state(FleetDiscovery *self);
/* translated, for the user; NULL unless the state is UNAVAILABLE */
const gchar *
fleet_discovery_get_error_message(FleetDiscovery *self);

guint
fleet_discovery_get_grace_period(FleetDiscovery *self);
/* milliseconds; applies to grace periods that start from now on */
void
fleet_discovery_set_grace_period(FleetDiscovery *self, guint grace_ms);

/**
 * fleet_discovery_add_manual:
 * @host: an IPv4 or IPv6 address or a host name
 * @protocol: %FLEET_PROTOCOL_ESPOTA or %FLEET_PROTOCOL_HTTP
 * @port: 1…65535
 *
 * Adds a device that is not announced over mDNS, with the id "addr:<host>:<port>" and
 * source %FLEET_DEVICE_SOURCE_MANUAL. It stays offline until the engine probes it. Adding
 * the same host and port again returns the existing device.
 *
 * Returns: (transfer none): the device in the list, or NULL with @error set
 */
FleetDevice *
fleet_discovery_add_manual(FleetDiscovery *self,
			   const gchar *host,
			   FleetProtocol protocol,
			   guint port,
			   GError **error);
/* removes a manual device by id; FLEET_ERROR_NOT_FOUND or FLEET_ERROR_NOT_SUPPORTED for an
 * unknown id or a discovered device */
gboolean
fleet_discovery_remove_manual(FleetDiscovery *self, const gchar *device_id, GError **error);

/*
 * mDNS events as the Avahi callbacks deliver them. Public so that the unit tests (and any
 * other mDNS source) drive the very same identity and online rules.
 */

/* the browser saw @instance on (@interface, @protocol): cancels a pending offline, and
 * resolves the instance again when it was gone or is new */
void
fleet_discovery_service_new(FleetDiscovery *self,
			    const gchar *instance,
			    gint interface,
			    gint protocol);
/* the browser lost @instance there (goodbye or cache expiry); once it is gone from every
 * interface, its device goes offline after the grace period */
void
fleet_discovery_service_removed(FleetDiscovery *self,
				const gchar *instance,
				gint interface,
				gint protocol);
/**
 * fleet_discovery_service_resolved:
 * @instance: the instance name
 * @host_name: (nullable): the SRV target, e.g. "esp32-1.local"
 * @address: (nullable): an IPv4 or IPv6 address as text; an IPv6 address is used only while
 *   the instance has no IPv4 one
 * @port: the SRV port (the espota port)
 * @txt: (nullable): the TXT record in wire format (untrusted)
 *
 * Creates or updates the instance's device: the id is "mac:…" when the TXT record has a
 * valid "mac", else "name:<instance>". A device first known by its name is rekeyed when
 * its MAC appears, so it keeps its row; one that comes back with a new address is the
 * same row. The device becomes online and its last-seen time is updated.
 *
 * Returns: (transfer none): the device
 */
FleetDevice *
fleet_discovery_service_resolved(FleetDiscovery *self,
				 const gchar *instance,
				 const gchar *host_name,
				 const gchar *address,
				 guint16 port,
				 const guint8 *txt,
				 gsize txt_len);

G_END_DECLS
