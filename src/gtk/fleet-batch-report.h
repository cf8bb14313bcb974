/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-batch-report.h - a batch's outcome as CSV or JSON, one record per device */
#pragma once

#include <glib.h>

#include "fleet-job.h"

G_BEGIN_DECLS

typedef enum {
	FLEET_BATCH_REPORT_CSV,
	FLEET_BATCH_REPORT_JSON,
} FleetBatchReportFormat;

/* ".json" → JSON, anything else CSV */
FleetBatchReportFormat
fleet_batch_report_format_for_filename(const gchar *filename);

/**
 * fleet_batch_report_build:
 * @jobs: (element-type FleetJob): in the order they should appear
 *
 * Columns: device, id, address, old_version, new_version, protocol, bytes,
 * duration_s, attempts, result, error. CSV follows RFC 4180 (CRLF, quoted fields); a
 * field that a spreadsheet would run as a formula (starting with = + - @ or a tab) gets a
 * leading apostrophe, as device names are untrusted.
 *
 * Returns: (transfer full): the report text
 */
gchar *
fleet_batch_report_build(GPtrArray *jobs, FleetBatchReportFormat format);

G_END_DECLS
