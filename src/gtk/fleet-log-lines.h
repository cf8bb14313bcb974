/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-log-lines.h - the scrollable log area of the log viewer: a ring of FleetLogLine
 * drawn a screenful at a time
 *
 * Unlike a GtkTextView, which lays out every line it is given, this widget only keeps
 * references to the lines and lays out the ones on screen when it draws, so twenty devices
 * at a thousand lines a second cost a few pointer copies per line and one redraw per frame.
 * Rows have one height (a monospace font); selection is by whole rows, which copy as shown.
 */
#pragma once

#include <gtk/gtk.h>

#include "fleet-log-line.h"

G_BEGIN_DECLS

#define FLEET_TYPE_LOG_LINES (fleet_log_lines_get_type())
G_DECLARE_FINAL_TYPE(FleetLogLines, fleet_log_lines, FLEET, LOG_LINES, GtkDrawingArea)

GtkWidget *
fleet_log_lines_new(void);

/* the name shown in the device column for a device id (plain text, sanitised here) */
typedef gchar *(*FleetLogLinesNameFunc)(const gchar *device_id, gpointer user_data);
void
fleet_log_lines_set_name_func(FleetLogLines *self,
			      FleetLogLinesNameFunc func,
			      gpointer user_data,
			      GDestroyNotify destroy);

/* the arrival time and the device columns */
void
fleet_log_lines_set_columns(FleetLogLines *self, gboolean time, gboolean device);
/* the devices' own ANSI colours; otherwise lines are coloured by level only */
void
fleet_log_lines_set_colors(FleetLogLines *self, gboolean colors);

/* rows kept; older ones drop and are counted in the marker row */
void
fleet_log_lines_set_max_lines(FleetLogLines *self, guint max_lines);
/* lines that were gone before the first one shown (they count in the marker row) */
void
fleet_log_lines_set_dropped_before(FleetLogLines *self, guint64 dropped);
/* every line not shown any more: dropped before plus trimmed here */
guint64
fleet_log_lines_get_dropped(FleetLogLines *self);

/* (element-type FleetLogLine): appended in order, references taken */
void
fleet_log_lines_append(FleetLogLines *self, GPtrArray *lines);
void
fleet_log_lines_clear(FleetLogLines *self);
guint
fleet_log_lines_get_n_lines(FleetLogLines *self);

/* the rows as shown ("\n"-separated, no marker row); only the selected ones if asked and
 * there is a selection */
gchar *
fleet_log_lines_get_text(FleetLogLines *self, gboolean selection);
gboolean
fleet_log_lines_has_selection(FleetLogLines *self);

/* "follow": the newest row stays in view; the user scrolling away turns it off, scrolling
 * back to the end turns it on */
gboolean
fleet_log_lines_get_follow(FleetLogLines *self);
void
fleet_log_lines_scroll_to_end(FleetLogLines *self);

G_END_DECLS
