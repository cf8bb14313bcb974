/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-log-source-tcp.h - a device's TCP log stream (our firmware's log_port, or port 23
 * of TelnetStream/RemoteDebug sketches): reconnects with backoff after a reboot, marks
 * "disconnected" and "reconnected" in the log, and skips the history a device that did not
 * reboot sends again
 */
#pragma once

#include "fleet-device.h"
#include "fleet-log-source.h"

G_BEGIN_DECLS

typedef enum {
	FLEET_LOG_TELNET_AUTO, /* telnet on port 23 only */
	FLEET_LOG_TELNET_ON,
	FLEET_LOG_TELNET_OFF,
} FleetLogTelnetMode;

/* waits between attempts: doubling from the first to the last */
#define FLEET_LOG_SOURCE_TCP_BACKOFF_MIN_MS 250
#define FLEET_LOG_SOURCE_TCP_BACKOFF_MAX_MS 8000

#define FLEET_TYPE_LOG_SOURCE_TCP (fleet_log_source_tcp_get_type())
G_DECLARE_FINAL_TYPE(FleetLogSourceTcp,
		     fleet_log_source_tcp,
		     FLEET,
		     LOG_SOURCE_TCP,
		     FleetLogSource)

/* a fixed address; lines carry @device_id */
FleetLogSourceTcp *
fleet_log_source_tcp_new(const gchar *device_id, const gchar *host, guint16 port);

/**
 * fleet_log_source_tcp_new_for_device:
 * @port: the port to use, or 0 for the one the device announces (TXT "log_port")
 *
 * Follows @device: its id names the lines, its current address is where it connects, a
 * new address or the device coming back online cuts a wait short.
 */
FleetLogSourceTcp *
fleet_log_source_tcp_new_for_device(FleetDevice *device, guint16 port);

/* (nullable): the device followed */
FleetDevice *
fleet_log_source_tcp_get_device(FleetLogSourceTcp *self);
const gchar *
fleet_log_source_tcp_get_device_id(FleetLogSourceTcp *self);
/* where it connects now; NULL/0 when the device has no address or port yet */
const gchar *
fleet_log_source_tcp_get_host(FleetLogSourceTcp *self);
guint16
fleet_log_source_tcp_get_port(FleetLogSourceTcp *self);

void
fleet_log_source_tcp_set_telnet(FleetLogSourceTcp *self, FleetLogTelnetMode mode);
void
fleet_log_source_tcp_set_backoff(FleetLogSourceTcp *self, guint min_ms, guint max_ms);
/* how long a partial line (a prompt) waits for its end before it is shown (default 1000) */
void
fleet_log_source_tcp_set_partial_timeout(FleetLogSourceTcp *self, guint ms);

/* successful connections so far */
guint
fleet_log_source_tcp_get_n_connects(FleetLogSourceTcp *self);

G_END_DECLS
