/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-log-sources-popover.h - the log viewer's "add a source" popover: a USB serial port
 * at a baud rate, a network log port (telnet on 23), a syslog receiver on a UDP port
 */
#pragma once

#include <gtk/gtk.h>

#include "fleet-log-hub.h"

G_BEGIN_DECLS

#define FLEET_TYPE_LOG_SOURCES_POPOVER (fleet_log_sources_popover_get_type())
G_DECLARE_FINAL_TYPE(FleetLogSourcesPopover,
		     fleet_log_sources_popover,
		     FLEET,
		     LOG_SOURCES_POPOVER,
		     GtkPopover)

/**
 * FleetLogSourcesPopover::source-added:
 * @source: the source now in the hub (or the one that was there for the same port)
 *
 * Emitted after the user opened a serial port, a log port or the syslog receiver.
 */

/* (nullable): the sources go into @hub; the popover keeps a reference */
void
fleet_log_sources_popover_set_hub(FleetLogSourcesPopover *self, FleetLogHub *hub);

G_END_DECLS
