/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-log-filter.h - which log lines to show: text or a regular expression, a level, a
 * tag, a set of devices
 */
#pragma once

#include "fleet-log-line.h"

G_BEGIN_DECLS

#define FLEET_TYPE_LOG_FILTER (fleet_log_filter_get_type())
G_DECLARE_FINAL_TYPE(FleetLogFilter, fleet_log_filter, FLEET, LOG_FILTER, GObject)

/* lets everything through; ::changed is emitted whenever a setting changes */
FleetLogFilter *
fleet_log_filter_new(void);

/**
 * fleet_log_filter_set_text:
 * @text: (nullable): NULL or "" for no text filter
 * @regex: @text is a regular expression (PCRE) instead of plain text
 * @case_sensitive: plain text and expressions match case-insensitively otherwise
 *
 * Returns: FALSE with FLEET_ERROR_INVALID_DATA for a bad expression (the filter is then
 * unchanged)
 */
gboolean
fleet_log_filter_set_text(FleetLogFilter *self,
			  const gchar *text,
			  gboolean regex,
			  gboolean case_sensitive,
			  GError **error);

/* lines at @level or more severe; lines without a level pass unless @strict;
 * FLEET_LOG_LEVEL_NONE: every level */
void
fleet_log_filter_set_level(FleetLogFilter *self, FleetLogLevel level, gboolean strict);
FleetLogLevel
fleet_log_filter_get_level(FleetLogFilter *self);

/* (nullable): only lines with this tag (exact); NULL for any */
void
fleet_log_filter_set_tag(FleetLogFilter *self, const gchar *tag);

/* (nullable) (array zero-terminated=1): only these device ids; NULL for every device */
void
fleet_log_filter_set_devices(FleetLogFilter *self, const gchar *const *device_ids);
gboolean
fleet_log_filter_has_device(FleetLogFilter *self, const gchar *device_id);
/* (nullable): the device ids, NULL when every device passes */
const gchar *const *
fleet_log_filter_get_devices(FleetLogFilter *self);

/* no condition set */
gboolean
fleet_log_filter_is_empty(FleetLogFilter *self);

/* connection events and drop markers are shown whatever the level and tag asked for (they
 * still have to match the devices and the text) */
gboolean
fleet_log_filter_match(FleetLogFilter *self, const FleetLogLine *line);

G_END_DECLS
