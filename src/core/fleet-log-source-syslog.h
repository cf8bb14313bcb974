/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-log-source-syslog.h - a UDP syslog receiver (RFC 3164 and RFC 5424) that gives
 * each message to the device it came from, by source address
 */
#pragma once

#include "fleet-device-list.h"
#include "fleet-log-source.h"

G_BEGIN_DECLS

#define FLEET_LOG_SYSLOG_PORT_DEFAULT 5514

#define FLEET_TYPE_LOG_SOURCE_SYSLOG (fleet_log_source_syslog_get_type())
G_DECLARE_FINAL_TYPE(FleetLogSourceSyslog,
		     fleet_log_source_syslog,
		     FLEET,
		     LOG_SOURCE_SYSLOG,
		     FleetLogSource)

/**
 * fleet_log_source_syslog_new:
 * @bind_address: (nullable): the local address to listen on, NULL for every IPv4 one
 * @port: the UDP port, 0 for an ephemeral one (tests; see get_port)
 * @devices: (nullable): the known devices: a message from a device's address (or, failing
 *   that, with its name as HOSTNAME) is that device's; others get the id "syslog:ADDRESS"
 */
FleetLogSourceSyslog *
fleet_log_source_syslog_new(const gchar *bind_address, guint16 port, FleetDeviceList *devices);

/* the port bound, once started */
guint16
fleet_log_source_syslog_get_port(FleetLogSourceSyslog *self);

/* datagrams received and datagrams that were not syslog */
guint64
fleet_log_source_syslog_get_n_received(FleetLogSourceSyslog *self);

/* the device id a message from @address with @hostname goes to */
gchar *
fleet_log_source_syslog_attribute(FleetLogSourceSyslog *self,
				  const gchar *address,
				  const gchar *hostname);

G_END_DECLS
