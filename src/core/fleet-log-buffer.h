/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-log-buffer.h - the lines of one device, in a ring of bounded size: when it is full
 * the oldest line goes, and the buffer counts what went (the "older lines dropped" marker)
 */
#pragma once

#include "fleet-log-line.h"

G_BEGIN_DECLS

#define FLEET_LOG_BUFFER_CAPACITY_DEFAULT 50000
#define FLEET_LOG_BUFFER_CAPACITY_MIN 100
#define FLEET_LOG_BUFFER_CAPACITY_MAX 10000000

#define FLEET_TYPE_LOG_BUFFER (fleet_log_buffer_get_type())
G_DECLARE_FINAL_TYPE(FleetLogBuffer, fleet_log_buffer, FLEET, LOG_BUFFER, GObject)

FleetLogBuffer *
fleet_log_buffer_new(const gchar *device_id, guint capacity);

const gchar *
fleet_log_buffer_get_device_id(FleetLogBuffer *self);

guint
fleet_log_buffer_get_capacity(FleetLogBuffer *self);
/* a smaller capacity drops the oldest lines at once (they count as dropped) */
void
fleet_log_buffer_set_capacity(FleetLogBuffer *self, guint capacity);

/* takes a reference; returns TRUE when the oldest line had to go */
gboolean
fleet_log_buffer_append(FleetLogBuffer *self, FleetLogLine *line);

guint
fleet_log_buffer_get_n_lines(FleetLogBuffer *self);
/* 0 is the oldest line kept; (transfer none) */
FleetLogLine *
fleet_log_buffer_get_line(FleetLogBuffer *self, guint index);
/* lines that left the ring since it was made or cleared */
guint64
fleet_log_buffer_get_n_dropped(FleetLogBuffer *self);
/* every line appended since it was made or cleared */
guint64
fleet_log_buffer_get_n_total(FleetLogBuffer *self);
/* the index of the first line with a sequence number > @seq (n_lines when none) */
guint
fleet_log_buffer_find_after(FleetLogBuffer *self, guint64 seq);

void
fleet_log_buffer_clear(FleetLogBuffer *self);

G_END_DECLS
