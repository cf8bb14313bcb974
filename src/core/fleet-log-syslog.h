/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-log-syslog.h - syslog messages as devices send them over UDP: RFC 5424, RFC 3164
 * and the looser BSD forms of small device libraries ("<14>host app: text", "<11>text")
 */
#pragma once

#include <glib.h>

#include "fleet-log-line.h"

G_BEGIN_DECLS

/* the largest datagram looked at */
#define FLEET_LOG_SYSLOG_MAX 65535

/**
 * FleetLogSyslogMessage:
 * @facility: 0…23, -1 when the message had no valid PRI
 * @severity: 0 (emergency) … 7 (debug), -1 when the message had no valid PRI
 * @rfc5424: it was an RFC 5424 message (VERSION 1)
 * @timestamp: (nullable): as sent
 * @hostname: (nullable): HOSTNAME, NULL for "-" or when there was none
 * @app_name: (nullable): APP-NAME (5424) or TAG (3164)
 * @procid: (nullable): PROCID (5424) or the "[pid]" of a 3164 TAG
 * @msgid: (nullable): MSGID (5424 only)
 * @structured_data: (nullable): the STRUCTURED-DATA text (5424 only), NULL for "-"
 * @msg: the message bytes, a UTF-8 BOM taken off; not validated
 *
 * Every string field is sanitised (valid UTF-8, no control characters) and length-limited.
 */
typedef struct {
	gint facility;
	gint severity;
	gboolean rfc5424;
	gchar *timestamp;
	gchar *hostname;
	gchar *app_name;
	gchar *procid;
	gchar *msgid;
	gchar *structured_data;
	GBytes *msg;
} FleetLogSyslogMessage;

/**
 * fleet_log_syslog_parse:
 *
 * Parses one datagram. Whatever does not follow a format is kept as the message (RFC 3164
 * §4.3 asks receivers to accept anything), so this fails only for an empty or oversized
 * datagram.
 *
 * Returns: (transfer full): the message, or %NULL with @error (FLEET_ERROR_INVALID_DATA)
 */
FleetLogSyslogMessage *
fleet_log_syslog_parse(const guint8 *data, gsize len, GError **error);
void
fleet_log_syslog_message_free(FleetLogSyslogMessage *msg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FleetLogSyslogMessage, fleet_log_syslog_message_free)

/* 0-3 error, 4 warning, 5-6 info, 7 debug, -1 none */
FleetLogLevel
fleet_log_syslog_severity_to_level(gint severity);

/**
 * fleet_log_syslog_to_lines:
 * @device_id: the device the message is attributed to
 *
 * The message as log lines, one per line of its text: an ESP-IDF or Arduino line inside
 * keeps its own level and tag; other text gets the syslog severity as its level and the
 * APP-NAME as its tag, shown as "app: text".
 *
 * Returns: (transfer full) (element-type FleetLogLine): the lines
 */
GPtrArray *
fleet_log_syslog_to_lines(const FleetLogSyslogMessage *msg, const gchar *device_id, gint64 host_time);

G_END_DECLS
