/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-log-source-private.h - what the FleetLogSource subclasses share: the state and
 * status, markers in the log, and a byte stream cut into lines
 */
#pragma once

#include "fleet-log-source.h"

G_BEGIN_DECLS

/* sets the "state" and "status" properties and notifies what changed; @message may be NULL */
void
fleet_log_source_set_state(FleetLogSource *self, FleetLogSourceState state, const gchar *message);

/* emits ::lines with @lines (element-type FleetLogLine), unless it is empty */
void
fleet_log_source_emit_lines(FleetLogSource *self, GPtrArray *lines);
/* emits ::lines with one EVENT line */
void
fleet_log_source_emit_event(FleetLogSource *self,
			    const gchar *device_id,
			    FleetLogLevel level,
			    const gchar *text);
/* an EVENT line in the log of the source's own device */
void
fleet_log_source_mark(FleetLogSource *self, FleetLogLevel level, const gchar *text);

/*
 * a byte stream (a TCP connection, a serial port): its bytes go through a line splitter,
 * each line to the add_line vfunc, and the lines of one read out as one ::lines batch; an
 * unfinished line is shown on its own after the partial timeout
 */

/* a new connection: forgets what is left of the last one */
void
fleet_log_source_input_open(FleetLogSource *self, gboolean telnet);
/* @reply: (nullable): for the telnet answers, see fleet_log_splitter_feed() */
void
fleet_log_source_input_feed(FleetLogSource *self,
			    const guint8 *data,
			    gsize len,
			    GByteArray *reply);
/* the read is over: emits its lines and times out an unfinished one */
void
fleet_log_source_input_read_done(FleetLogSource *self);
/* the unfinished line as a line of its own, then everything not yet emitted */
void
fleet_log_source_input_flush(FleetLogSource *self);
/* the connection is gone: no partial timeout any more */
void
fleet_log_source_input_close(FleetLogSource *self);
/* 0 keeps an unfinished line until its end comes; the default is 1000 ms */
void
fleet_log_source_set_partial_timeout(FleetLogSource *self, guint ms);

G_END_DECLS
