/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-log-line.c - arbitrary bytes as one line of a device log
 *
 * Whatever comes in, the text is valid UTF-8 without control characters (tab aside), the
 * spans lie inside it in order, the prefix parts point into the text, the raw bytes come
 * back exactly, and formatting and redaction keep those rules.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fleet-log-line.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_text(const gchar *text, gsize len)
{
	if (strlen(text) != len || !g_utf8_validate(text, (gssize)len, NULL))
		__builtin_trap();
	for (gsize i = 0; i < len; i++) {
		guchar c = (guchar)text[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			__builtin_trap();
	}
}

static void
check_line(const FleetLogLine *line, const uint8_t *data, size_t size)
{
	const gchar *text = fleet_log_line_get_text(line);
	gsize len = fleet_log_line_get_text_len(line);
	const gchar *msg = fleet_log_line_get_message(line);
	const gchar *tag = fleet_log_line_get_tag(line);
	guint n = 0;
	const FleetLogSpan *spans = fleet_log_line_get_spans(line, &n);
	g_autoptr(GBytes) raw = fleet_log_line_get_raw(line);

	check_text(text, len);
	if (msg < text || msg > text + len)
		__builtin_trap();
	if (tag != NULL)
		check_text(tag, strlen(tag));
	for (guint i = 0; i < n; i++) {
		if (spans[i].start >= spans[i].end || spans[i].end > len)
			__builtin_trap();
		if (i > 0 && spans[i - 1].end > spans[i].start)
			__builtin_trap();
		if (spans[i].fg > 256 || spans[i].bg > 256)
			__builtin_trap();
	}
	if (data != NULL) {
		size_t want = MIN(size, (size_t)FLEET_LOG_LINE_MAX);
		if (g_bytes_get_size(raw) != want ||
		    (want > 0 && memcmp(g_bytes_get_data(raw, NULL), data, want) != 0))
			__builtin_trap();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(FleetLogLine) line = fleet_log_line_parse("fuzz", 1, data, size);
	g_autoptr(FleetLogLine) masked = NULL;
	g_autoptr(GPtrArray) secrets = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GString) out = g_string_new(NULL);
	g_autofree gchar *secret = NULL;
	g_autofree gchar *name = NULL;

	check_line(line, data, size);

	/* the first bytes as a secret: it must be gone from the masked copy */
	if (size >= 4) {
		secret = g_strndup((const gchar *)data, 4);
		/* a secret with '*' in it could be spelled anew by the mask next to other bytes */
		if (strlen(secret) == 4 && strchr(secret, '*') == NULL) {
			g_ptr_array_add(secrets, g_strdup(secret));
			masked = fleet_log_line_dup_redacted(line, secrets);
		}
	}
	if (masked != NULL) {
		g_autoptr(GBytes) raw = fleet_log_line_get_raw(masked);
		gsize n = 0;
		const gchar *bytes = g_bytes_get_data(raw, &n);
		check_line(masked, NULL, 0);
		if (fleet_log_line_get_text_len(masked) != fleet_log_line_get_text_len(line))
			__builtin_trap();
		for (gsize i = 0; i + 4 <= n; i++) {
			if (memcmp(bytes + i, secret, 4) == 0)
				__builtin_trap();
		}
	}

	/* formatted without colours: one line of safe text */
	/* the last bytes as a device name (names come from devices too) */
	name = g_strndup((const gchar *)data + (size > 8 ? size - 8 : 0), MIN(size, (size_t)8));
	fleet_log_line_format(line, name, FLEET_LOG_FORMAT_HOST_TIME | FLEET_LOG_FORMAT_DEVICE,
			      out);
	if (out->len == 0 || out->str[out->len - 1] != '\n' ||
	    memchr(out->str, '\n', out->len - 1) != NULL ||
	    memchr(out->str, '\033', out->len) != NULL)
		__builtin_trap();
	g_string_truncate(out, 0);
	fleet_log_line_format(line, NULL, FLEET_LOG_FORMAT_COLOR, out);
	if (memchr(out->str, '\n', out->len - 1) != NULL)
		__builtin_trap();
	return 0;
}
