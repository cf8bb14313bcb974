/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-log-splitter.h - bytes from a stream into lines: CR/LF handling, a length cap, and
 * telnet negotiation taken out (TelnetStream, RemoteDebug and other port-23 loggers)
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* one line without its line break; @len <= FLEET_LOG_LINE_MAX */
typedef void (*FleetLogSplitterFunc)(const guint8 *line, gsize len, gpointer user_data);

typedef struct _FleetLogSplitter FleetLogSplitter;

/**
 * fleet_log_splitter_new:
 * @telnet: take telnet commands (IAC …) out of the stream and answer option requests
 *   with a refusal
 */
FleetLogSplitter *
fleet_log_splitter_new(gboolean telnet);
void
fleet_log_splitter_free(FleetLogSplitter *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FleetLogSplitter, fleet_log_splitter_free)

gboolean
fleet_log_splitter_get_telnet(FleetLogSplitter *self);

/**
 * fleet_log_splitter_feed:
 * @reply: (nullable): telnet answers to send back (IAC DONT/WONT …) are appended here
 *
 * Calls @func for every complete line in what came so far. "\n", "\r\n" and a lone "\r"
 * end a line (a "\r\n" split between two calls is one break); a line longer than
 * FLEET_LOG_LINE_MAX is cut there. Telnet: IAC IAC is a 0xff byte, "\r\0" is "\r", option
 * negotiation and subnegotiation are dropped, also when split between calls.
 */
void
fleet_log_splitter_feed(FleetLogSplitter *self,
			const guint8 *data,
			gsize len,
			GByteArray *reply,
			FleetLogSplitterFunc func,
			gpointer user_data);

/* bytes of an unfinished line waiting for its end */
gsize
fleet_log_splitter_get_pending(FleetLogSplitter *self);
/* the unfinished line, if any, as a line of its own (a prompt, a connection that ended) */
void
fleet_log_splitter_flush(FleetLogSplitter *self, FleetLogSplitterFunc func, gpointer user_data);
/* forget everything, including a half-received telnet command (a new connection) */
void
fleet_log_splitter_reset(FleetLogSplitter *self);

G_END_DECLS
