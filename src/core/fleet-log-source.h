/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-log-source.h - where log lines come from: a device's TCP log stream, a syslog
 * receiver, a serial port, the update transcripts of the engine
 *
 * Every source runs on the thread-default main context of the caller (GIO sockets, a
 * GSource on a file descriptor; no threads) and hands its lines over in batches through
 * the ::lines signal, usually one batch per read. Connection changes become EVENT lines
 * ("disconnected", "reconnected") in the log itself, and the "state" property.
 */
#pragma once

#include <gio/gio.h>

#include "fleet-log-line.h"

G_BEGIN_DECLS

typedef enum {
	FLEET_LOG_SOURCE_STATE_STOPPED,	   /* not started, or stopped */
	FLEET_LOG_SOURCE_STATE_CONNECTING, /* opening the connection or port */
	FLEET_LOG_SOURCE_STATE_RUNNING,	   /* lines can arrive */
	FLEET_LOG_SOURCE_STATE_WAITING,	   /* lost it; trying again (see the status message) */
	FLEET_LOG_SOURCE_STATE_FAILED,	   /* cannot run (a port in use); not retried */
} FleetLogSourceState;

GType
fleet_log_source_state_get_type(void);
#define FLEET_TYPE_LOG_SOURCE_STATE (fleet_log_source_state_get_type())

#define FLEET_TYPE_LOG_SOURCE (fleet_log_source_get_type())
G_DECLARE_DERIVABLE_TYPE(FleetLogSource, fleet_log_source, FLEET, LOG_SOURCE, GObject)

/* an abstract base: the state, status and ::lines of every source live here; the helpers
 * for subclasses are in fleet-log-source-private.h */
struct _FleetLogSourceClass {
	GObjectClass parent_class;

	void (*start)(FleetLogSource *self);
	void (*stop)(FleetLogSource *self);
	/* translated, e.g. "TCP 198.18.1.1:2323" */
	gchar *(*describe)(FleetLogSource *self);
	/* the one device its lines belong to; NULL for sources of many devices (optional) */
	const gchar *(*get_device_id)(FleetLogSource *self);
	/* the retry timer of fleet_log_source_retry_after() went off (optional) */
	void (*reconnect)(FleetLogSource *self);
	/* a line of the byte stream, (transfer full); the default adds it to the lines that
	 * ::lines carries at the end of the read */
	void (*add_line)(FleetLogSource *self, FleetLogLine *line);
};

/* connects, opens or binds; idempotent */
void
fleet_log_source_start(FleetLogSource *self);
/* closes everything; lines stop; idempotent */
void
fleet_log_source_stop(FleetLogSource *self);
gchar *
fleet_log_source_describe(FleetLogSource *self);

/* the "state" and "status" properties every source has (notify:: tells of changes) */
FleetLogSourceState
fleet_log_source_get_state(FleetLogSource *self);
/* (nullable): translated, for the user: why it is waiting or failed */
const gchar *
fleet_log_source_get_status(FleetLogSource *self);
/* (nullable): the device of a single-device source (TCP stream, serial port) */
const gchar *
fleet_log_source_get_device_id(FleetLogSource *self);

G_END_DECLS
