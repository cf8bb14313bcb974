/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-batch-report.c - a batch's outcome as CSV or JSON, one record per device */

#include "config.h"

#include "fleet-batch-report.h"

#include <json-glib/json-glib.h>
#include <string.h>

/* GTK-free, so the unit test runs without a display */

typedef struct {
	const gchar *device;
	const gchar *id;
	const gchar *address;
	const gchar *old_version;
	const gchar *new_version;
	const gchar *protocol;
	guint64 bytes;
	gdouble duration_s; /* < 0 when the job never ran */
	guint attempts;
	const gchar *result;
	const gchar *error;
} FleetReportRecord;

FleetBatchReportFormat
fleet_batch_report_format_for_filename(const gchar *filename)
{
	g_autofree gchar *lower = g_ascii_strdown(filename != NULL ? filename : "", -1);
	return g_str_has_suffix(lower, ".json") ? FLEET_BATCH_REPORT_JSON : FLEET_BATCH_REPORT_CSV;
}

static const gchar *
fleet_batch_report_protocol(FleetProtocol protocol)
{
	switch (protocol) {
	case FLEET_PROTOCOL_ESPOTA:
		return "espota";
	case FLEET_PROTOCOL_HTTP:
		return "http";
	case FLEET_PROTOCOL_NONE:
	default:
		return NULL;
	}
}

static void
fleet_batch_report_record(FleetJob *job, FleetReportRecord *r)
{
	FleetDevice *device = fleet_job_get_device(job);
	gint64 started = fleet_job_get_started(job);
	gint64 finished = fleet_job_get_finished(job);
	FleetJobPhase phase = fleet_job_get_phase(job);

	r->device = fleet_device_get_name(device) != NULL ? fleet_device_get_name(device)
							  : fleet_device_get_id(device);
	r->id = fleet_device_get_id(device);
	r->address = fleet_device_get_address(device) != NULL ? fleet_device_get_address(device)
							      : fleet_device_get_hostname(device);
	r->old_version = fleet_job_get_old_version(job);
	r->new_version = fleet_job_get_new_version(job);
	r->protocol = fleet_batch_report_protocol(fleet_job_get_protocol(job));
	r->bytes = fleet_job_get_bytes_done(job);
	r->duration_s = -1.0;
	if (started > 0 && finished >= started)
		r->duration_s = (gdouble)(finished - started) / G_USEC_PER_SEC;
	r->attempts = fleet_job_get_attempts(job);
	r->result = fleet_job_phase_to_id(phase);
	r->error = phase == FLEET_JOB_PHASE_VERIFIED ? NULL : fleet_job_get_message(job);
}

/* one field, quoted when it must be; @value NULL is an empty field */
static void
fleet_batch_report_csv_field(GString *out, const gchar *value)
{
	gboolean formula;

	if (value == NULL || value[0] == '\0')
		return;
	formula = strchr("=+-@\t\r", value[0]) != NULL;
	if (!formula && strpbrk(value, ",\"\r\n") == NULL) {
		g_string_append(out, value);
		return;
	}
	g_string_append_c(out, '"');
	if (formula)
		g_string_append_c(out, '\'');
	for (const gchar *p = value; *p != '\0'; p++) {
		if (*p == '"')
			g_string_append_c(out, '"');
		g_string_append_c(out, *p);
	}
	g_string_append_c(out, '"');
}

static void
fleet_batch_report_csv_row(GString *out, const gchar *const *fields, gsize n_fields)
{
	for (gsize i = 0; i < n_fields; i++) {
		if (i > 0)
			g_string_append_c(out, ',');
		fleet_batch_report_csv_field(out, fields[i]);
	}
	g_string_append(out, "\r\n");
}

static gchar *
fleet_batch_report_csv(GPtrArray *jobs)
{
	GString *out = g_string_new(NULL);
	const gchar *header[] = {"device",	"id",	    "address", "old_version",
				 "new_version", "protocol", "bytes",   "duration_s",
				 "attempts",	"result",   "error"};

	fleet_batch_report_csv_row(out, header, G_N_ELEMENTS(header));
	for (guint i = 0; i < jobs->len; i++) {
		FleetReportRecord r;
		gchar duration[G_ASCII_DTOSTR_BUF_SIZE];
		g_autofree gchar *bytes = NULL;
		g_autofree gchar *attempts = NULL;

		fleet_batch_report_record(g_ptr_array_index(jobs, i), &r);
		bytes = g_strdup_printf("%" G_GUINT64_FORMAT, r.bytes);
		attempts = g_strdup_printf("%u", r.attempts);
		{
			const gchar *row[] = {
			    r.device,
			    r.id,
			    r.address,
			    r.old_version,
			    r.new_version,
			    r.protocol,
			    bytes,
			    r.duration_s >= 0
				? g_ascii_formatd(duration, sizeof(duration), "%.3f", r.duration_s)
				: NULL,
			    attempts,
			    r.result,
			    r.error,
			};
			fleet_batch_report_csv_row(out, row, G_N_ELEMENTS(row));
		}
	}
	return g_string_free(out, FALSE);
}

static void
fleet_batch_report_json_string(JsonBuilder *builder, const gchar *name, const gchar *value)
{
	json_builder_set_member_name(builder, name);
	if (value != NULL)
		json_builder_add_string_value(builder, value);
	else
		json_builder_add_null_value(builder);
}

static gchar *
fleet_batch_report_json(GPtrArray *jobs)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(JsonGenerator) generator = json_generator_new();
	g_autoptr(JsonNode) root = NULL;

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "devices");
	json_builder_begin_array(builder);
	for (guint i = 0; i < jobs->len; i++) {
		FleetReportRecord r;
		fleet_batch_report_record(g_ptr_array_index(jobs, i), &r);
		json_builder_begin_object(builder);
		fleet_batch_report_json_string(builder, "device", r.device);
		fleet_batch_report_json_string(builder, "id", r.id);
		fleet_batch_report_json_string(builder, "address", r.address);
		fleet_batch_report_json_string(builder, "old_version", r.old_version);
		fleet_batch_report_json_string(builder, "new_version", r.new_version);
		fleet_batch_report_json_string(builder, "protocol", r.protocol);
		json_builder_set_member_name(builder, "bytes");
		json_builder_add_int_value(builder, (gint64)MIN(r.bytes, (guint64)G_MAXINT64));
		json_builder_set_member_name(builder, "duration_s");
		if (r.duration_s >= 0)
			json_builder_add_double_value(builder, r.duration_s);
		else
			json_builder_add_null_value(builder);
		json_builder_set_member_name(builder, "attempts");
		json_builder_add_int_value(builder, r.attempts);
		fleet_batch_report_json_string(builder, "result", r.result);
		fleet_batch_report_json_string(builder, "error", r.error);
		json_builder_end_object(builder);
	}
	json_builder_end_array(builder);
	json_builder_end_object(builder);

	root = json_builder_get_root(builder);
	json_generator_set_root(generator, root);
	json_generator_set_pretty(generator, TRUE);
	return json_generator_to_data(generator, NULL);
}

gchar *
fleet_batch_report_build(GPtrArray *jobs, FleetBatchReportFormat format)
{
	g_return_val_if_fail(jobs != NULL, NULL);
	if (format == FLEET_BATCH_REPORT_JSON)
		return fleet_batch_report_json(jobs);
	return fleet_batch_report_csv(jobs);
}
