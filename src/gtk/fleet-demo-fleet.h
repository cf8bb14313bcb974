/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-demo-fleet.h - simulated devices on this computer (espfleet-sim on loopback), added
 * by address, so that every feature can be tried without hardware
 */
#pragma once

#include "fleet-discovery.h"

G_BEGIN_DECLS

/* the password of the demo device that asks for one (shown to the user, not a secret) */
#define FLEET_DEMO_FLEET_PASSWORD "demo"

#define FLEET_TYPE_DEMO_FLEET (fleet_demo_fleet_get_type())
G_DECLARE_FINAL_TYPE(FleetDemoFleet, fleet_demo_fleet, FLEET, DEMO_FLEET, GObject)

/* the espfleet-sim to run: $ESPFLEET_SIM, next to this program, the build tree, BINDIR,
 * then $PATH; NULL when there is none */
gchar *
fleet_demo_fleet_find_simulator(void);

FleetDemoFleet *
fleet_demo_fleet_new(const gchar *simulator);

/**
 * fleet_demo_fleet_start:
 * @count: devices, 1 … 1024
 *
 * Starts the simulators (ESP32 devices; from three devices on also an ESP8266 the demo
 * image does not fit, from two on one that asks for FLEET_DEMO_FLEET_PASSWORD) on a
 * loopback address of their own, adds them to @discovery as manual devices with their
 * names and HTTP ports, and writes a newer demo image for them.
 */
gboolean
fleet_demo_fleet_start(FleetDemoFleet *self,
		       FleetDiscovery *discovery,
		       guint count,
		       GError **error);
/* the devices' next firmware, NULL before start */
GFile *
fleet_demo_fleet_get_image(FleetDemoFleet *self);
guint
fleet_demo_fleet_get_count(FleetDemoFleet *self);
gboolean
fleet_demo_fleet_get_running(FleetDemoFleet *self);
/* the device that asks for a password, NULL when there is none */
const gchar *
fleet_demo_fleet_get_locked_name(FleetDemoFleet *self);
/* stops every simulator (SIGTERM, then SIGKILL after 3 s), removes the demo devices from
 * @discovery (may be NULL) and the state directory */
void
fleet_demo_fleet_stop(FleetDemoFleet *self, FleetDiscovery *discovery);

G_END_DECLS
