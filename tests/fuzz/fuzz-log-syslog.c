/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-log-syslog.c - arbitrary bytes as a syslog datagram
 *
 * Whatever comes in, parsing fails with an error only for an empty or oversized datagram;
 * otherwise every header field is safe text within its limit, PRI parts are in range, and
 * the lines made of it are safe text carrying the device id.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fleet-log-syslog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_field(const gchar *text, gsize max)
{
	if (text == NULL)
		return;
	if (!g_utf8_validate(text, -1, NULL) || g_utf8_strlen(text, -1) > (glong)max * 4)
		__builtin_trap();
	for (const gchar *p = text; *p != '\0'; p++) {
		if ((guchar)*p < 0x20 || *p == 0x7f)
			__builtin_trap();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(FleetLogSyslogMessage) msg = fleet_log_syslog_parse(data, size, &error);
	g_autoptr(GPtrArray) lines = NULL;

	if (msg == NULL) {
		if (error == NULL || (size != 0 && size <= FLEET_LOG_SYSLOG_MAX))
			__builtin_trap();
		return 0;
	}
	if (msg->severity < -1 || msg->severity > 7 || msg->facility < -1 || msg->facility > 23)
		__builtin_trap();
	if ((msg->severity < 0) != (msg->facility < 0))
		__builtin_trap();
	check_field(msg->timestamp, 48);
	check_field(msg->hostname, 255);
	check_field(msg->app_name, 48);
	check_field(msg->procid, 128);
	check_field(msg->msgid, 32);
	check_field(msg->structured_data, 4096);
	if (msg->msg == NULL || g_bytes_get_size(msg->msg) > size)
		__builtin_trap();

	lines = fleet_log_syslog_to_lines(msg, "syslog:fuzz", 1);
	if (lines->len == 0)
		__builtin_trap();
	for (guint i = 0; i < lines->len; i++) {
		FleetLogLine *line = g_ptr_array_index(lines, i);
		const gchar *text = fleet_log_line_get_text(line);
		if (!g_utf8_validate(text, -1, NULL) || strchr(text, '\033') != NULL ||
		    strchr(text, '\n') != NULL)
			__builtin_trap();
		if (g_strcmp0(fleet_log_line_get_device_id(line), "syslog:fuzz") != 0)
			__builtin_trap();
	}
	return 0;
}
