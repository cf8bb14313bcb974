/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-log-telnet.c - arbitrary bytes as a telnet log stream, cut into arbitrary pieces
 *
 * The first byte picks where the stream is cut. Whatever comes in, fed whole or in pieces,
 * the lines and the telnet answers are the same, no line is longer than the limit or holds
 * a line break, and answers are only well-formed refusals (IAC DONT/WONT option).
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fleet-log-line.h"
#include "fleet-log-splitter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
collect_cb(const guint8 *line, gsize len, gpointer user_data)
{
	GByteArray *out = user_data;
	guint8 sep = 0x0a;
	if (len > FLEET_LOG_LINE_MAX || memchr(line, '\n', len) != NULL ||
	    memchr(line, '\r', len) != NULL)
		__builtin_trap();
	g_byte_array_append(out, line, (guint)len);
	g_byte_array_append(out, &sep, 1);
}

static void
run(const uint8_t *data, size_t size, size_t step, GByteArray *lines, GByteArray *reply)
{
	g_autoptr(FleetLogSplitter) splitter = fleet_log_splitter_new(TRUE);
	for (size_t at = 0; at < size; at += step) {
		size_t n = MIN(step, size - at);
		fleet_log_splitter_feed(splitter, data + at, n, reply, collect_cb, lines);
	}
	fleet_log_splitter_flush(splitter, collect_cb, lines);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GByteArray) whole = g_byte_array_new();
	g_autoptr(GByteArray) whole_reply = g_byte_array_new();
	g_autoptr(GByteArray) cut = g_byte_array_new();
	g_autoptr(GByteArray) cut_reply = g_byte_array_new();
	size_t step;

	if (size == 0)
		return 0;
	step = (size_t)(data[0] % 7) + 1;
	run(data + 1, size - 1, size, whole, whole_reply);
	run(data + 1, size - 1, step, cut, cut_reply);
	if (whole->len != cut->len ||
	    (whole->len > 0 && memcmp(whole->data, cut->data, whole->len) != 0))
		__builtin_trap();
	if (whole_reply->len != cut_reply->len ||
	    (whole_reply->len > 0 &&
	     memcmp(whole_reply->data, cut_reply->data, whole_reply->len) != 0))
		__builtin_trap();
	if (whole_reply->len % 3 != 0)
		__builtin_trap();
	for (guint i = 0; i < whole_reply->len; i += 3) {
		if (whole_reply->data[i] != 255 ||
		    (whole_reply->data[i + 1] != 254 && whole_reply->data[i + 1] != 252))
			__builtin_trap();
	}
	return 0;
}
