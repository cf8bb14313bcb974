/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-transcript-view.h - the bottom pane: lines of text about one device (its update
 * transcript now; the live log viewer builds on the same pane), following new lines
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define FLEET_TYPE_TRANSCRIPT_VIEW (fleet_transcript_view_get_type())
G_DECLARE_FINAL_TYPE(FleetTranscriptView, fleet_transcript_view, FLEET, TRANSCRIPT_VIEW, GtkBox)

GtkWidget *
fleet_transcript_view_new(void);

/* what the lines are about, e.g. the device name (plain text); NULL for nothing */
void
fleet_transcript_view_set_source(FleetTranscriptView *self, const gchar *source);
/* no lines: a centred explanation instead */
void
fleet_transcript_view_show_placeholder(FleetTranscriptView *self, const gchar *text);

/* (element-type utf8): replaces what is shown */
void
fleet_transcript_view_set_lines(FleetTranscriptView *self, GPtrArray *lines);
/* adds lines[from…] at the end; scrolls along when the end was in view */
void
fleet_transcript_view_append_lines(FleetTranscriptView *self, GPtrArray *lines, guint from);
guint
fleet_transcript_view_get_n_lines(FleetTranscriptView *self);
/* the whole text, for tests and the copy button */
gchar *
fleet_transcript_view_get_text(FleetTranscriptView *self);

G_END_DECLS
