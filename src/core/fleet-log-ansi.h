/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-log-ansi.h - device bytes into safe text and colour spans, and back: ANSI escape
 * sequences (SGR colours become spans, the rest is dropped), invalid UTF-8 and control
 * characters as visible escapes; used by FleetLogLine, not a public API
 */
#pragma once

#include "fleet-log-line.h"

G_BEGIN_DECLS

/* spans kept per line; a line that changes colour more often keeps its first ones */
#define FLEET_LOG_SPANS_MAX 64
/* escapes make the shown text at most this much longer than the bytes */
#define FLEET_LOG_TEXT_MAX (FLEET_LOG_LINE_MAX * 4)

typedef struct {
	guint16 fg;
	guint16 bg;
	guint8 attrs;
} FleetLogSgr;

/* everything a line is made of, before it is packed into one allocation */
typedef struct {
	gchar text[FLEET_LOG_TEXT_MAX + 8];
	gsize text_len;
	FleetLogSpan spans[FLEET_LOG_SPANS_MAX];
	guint n_spans;
	FleetLogSgr sgr;
	guint32 open_start;
	gboolean lossy; /* something other than colours was dropped or escaped */
} FleetLogBuilder;

/* an empty builder (the struct is large: keep one on the heap) */
void
fleet_log_builder_init(FleetLogBuilder *b);
/* appends @data (one line, no line break) as text and spans */
void
fleet_log_builder_feed(FleetLogBuilder *b, const guint8 *data, gsize len);

/* the text with its spans as SGR codes, the way ESP-IDF writes them ("\033[0;32m…\033[0m");
 * @trailing_reset adds a reset after uncoloured text at the end */
void
fleet_log_ansi_append(GString *out,
		      const gchar *text,
		      gsize text_len,
		      const FleetLogSpan *spans,
		      guint n_spans,
		      gboolean trailing_reset);

G_END_DECLS
