/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-log-source-private.h - what the FleetLogSource subclasses share: the state and
 * status, markers in the log, a byte stream cut into lines, and the reconnect timer
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

/*
 * reconnecting: the reconnect vfunc runs once after the wait; the first failure in a row
 * is marked in the log, the ones after it only in the status
 */
void
fleet_log_source_retry_after(FleetLogSource *self, guint ms);
void
fleet_log_source_retry_cancel(FleetLogSource *self);
gboolean
fleet_log_source_retry_pending(FleetLogSource *self);
/* marks "disconnected: @reason" and counts as a failure */
void
fleet_log_source_mark_lost(FleetLogSource *self, const gchar *reason);
/* marks @text as a warning unless a failure was marked since the last connection */
void
fleet_log_source_mark_failure(FleetLogSource *self, const gchar *text);
/* connected again: the next failure is marked; returns whether one was */
gboolean
fleet_log_source_clear_failure(FleetLogSource *self);

G_END_DECLS
