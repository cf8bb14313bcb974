/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-cli-inspect.c - espfleet-cli inspect: the image pre-flight report */

#include "config.h"

#include <glib/gi18n.h>

#include "fleet-cli.h"
#include "fleet-error.h"
#include "fleet-image.h"
#include "fleet-text.h"

#define INSPECT_JSON_SCHEMA "espfleet-inspect/1"

static const gchar *
fleet_cli_severity_label(FleetSeverity severity)
{
	switch (severity) {
	case FLEET_SEVERITY_INFO:
		/* TRANSLATORS: severity of a finding, keep it short (column of 7 characters) */
		return C_("severity", "info");
	case FLEET_SEVERITY_WARNING:
		return C_("severity", "warning");
	case FLEET_SEVERITY_ERROR:
	default:
		return C_("severity", "error");
	}
}

static const gchar *
fleet_cli_severity_color(FleetCli *cli, FleetSeverity severity)
{
	if (!cli->color)
		return "";
	switch (severity) {
	case FLEET_SEVERITY_INFO:
		return "\033[36m";
	case FLEET_SEVERITY_WARNING:
		return "\033[33m";
	case FLEET_SEVERITY_ERROR:
	default:
		return "\033[1;31m";
	}
}

static const gchar *
fleet_cli_reset(FleetCli *cli)
{
	return cli->color ? "\033[0m" : "";
}

/* one "Label: value" line; values are printed as plain text, already sanitized */
static void
fleet_cli_fact(const gchar *label, const gchar *value)
{
	g_autofree gchar *with_colon = NULL;
	glong width;
	if (value == NULL || value[0] == '\0')
		return;
	/* TRANSLATORS: a label and its colon, e.g. "Chip:" */
	with_colon = g_strdup_printf(C_("label", "%s:"), label);
	width = g_utf8_strlen(with_colon, -1);
	g_print("  %s%*s %s\n", with_colon, (int)MAX(0, 14 - width), "", value);
}

static gchar *
fleet_cli_format_size(guint64 size)
{
	g_autofree gchar *human = g_format_size(size);
	if (size < 1000)
		return g_strdup(human);
	return g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%s (%lu byte)", "%s (%lu bytes)",
					   (gulong)size),
			       human, (gulong)size);
}

static void
fleet_cli_print_findings(FleetCli *cli, GPtrArray *findings)
{
	for (guint i = 0; i < findings->len; i++) {
		FleetFinding *f = g_ptr_array_index(findings, i);
		g_print("    %s%-7s%s  %s\n", fleet_cli_severity_color(cli, f->severity),
			fleet_cli_severity_label(f->severity), fleet_cli_reset(cli), f->message);
	}
}

static void
fleet_cli_print_report(FleetCli *cli, FleetImage *image)
{
	g_autofree gchar *size = fleet_cli_format_size(fleet_image_get_size(image));
	g_autofree gchar *summary = fleet_image_get_summary(image);
	g_autofree gchar *flash = NULL;
	g_autofree gchar *entry = NULL;
	g_autofree gchar *content = NULL;
	g_autofree gchar *chip_rev = NULL;
	guint nsegments = fleet_image_get_segment_count(image);
	GPtrArray *findings = fleet_image_get_findings(image);

	g_print("%s\n", fleet_image_get_filename(image) != NULL ? fleet_image_get_filename(image) : "-");
	fleet_cli_fact(_("Kind"), fleet_image_get_kind_description(image));
	if (g_strcmp0(fleet_image_get_kind(image), "unknown") != 0)
		fleet_cli_fact(_("Chip"), fleet_image_get_chip_name(image));
	fleet_cli_fact(_("Project"), fleet_image_get_project_name(image));
	fleet_cli_fact(_("Version"), fleet_image_get_version(image));
	fleet_cli_fact(_("ESP-IDF"), fleet_image_get_idf_version(image));
	fleet_cli_fact(_("Built"), fleet_image_get_build_date(image));
	fleet_cli_fact(_("Size"), size);
	if (fleet_image_is_compressed(image)) {
		g_autofree gchar *unpacked = fleet_cli_format_size(fleet_image_get_content_size(image));
		content = g_strdup_printf(_("gzip, unpacks to %s"), unpacked);
		fleet_cli_fact(_("Compressed"), content);
	}
	fleet_cli_fact(_("MD5"), fleet_image_get_md5(image));
	fleet_cli_fact(_("SHA-256"), fleet_image_get_sha256(image));
	fleet_cli_fact(_("ELF SHA-256"), fleet_image_get_elf_sha256(image));
	if (nsegments > 0) {
		g_autofree gchar *flash_size = fleet_image_get_flash_size(image) > 0
						   ? g_format_size_full(fleet_image_get_flash_size(image),
									G_FORMAT_SIZE_IEC_UNITS)
						   : g_strdup(_("unknown size"));
		guint mhz = fleet_image_get_flash_freq_mhz(image);
		if (mhz > 0)
			/* TRANSLATORS: flash parameters: mode, size, frequency */
			flash = g_strdup_printf(_("%s, %s, %u MHz"), fleet_image_get_flash_mode(image),
						flash_size, mhz);
		else
			flash = g_strdup_printf(_("%s, %s"), fleet_image_get_flash_mode(image),
						flash_size);
		fleet_cli_fact(_("Flash"), flash);
		entry = g_strdup_printf("0x%08x", fleet_image_get_entry_addr(image));
		fleet_cli_fact(_("Entry point"), entry);
	}
	if (fleet_image_get_min_chip_revision(image) > 0) {
		gint rev = fleet_image_get_min_chip_revision(image);
		chip_rev = g_strdup_printf("v%d.%d", rev / 100, rev % 100);
		fleet_cli_fact(_("Min. chip rev."), chip_rev);
	}
	fleet_cli_fact(_("Signature"), fleet_image_get_signature_description(image));

	if (nsegments > 0) {
		g_print("  %s\n", _("Segments:"));
		/* TRANSLATORS: column headers of the segment table */
		g_print("    %-3s %-8s %-10s %10s %10s\n", C_("column", "#"), C_("column", "Memory"),
			C_("column", "Load addr"), C_("column", "Length"), C_("column", "Offset"));
		for (guint i = 0; i < nsegments; i++) {
			guint32 addr = 0;
			guint32 len = 0;
			guint32 off = 0;
			(void)fleet_image_get_segment(image, i, &addr, &len, &off);
			g_print("    %-3u %-8s 0x%08x %10u %#10x\n", i,
				fleet_image_get_segment_memory(image, i), addr, len, off);
		}
	}
	if (findings->len > 0) {
		g_print("  %s\n", _("Findings:"));
		fleet_cli_print_findings(cli, findings);
	}
	g_print("  %s%s%s\n",
		fleet_cli_severity_color(cli, fleet_image_has_errors(image) ? FLEET_SEVERITY_ERROR
									      : FLEET_SEVERITY_INFO),
		summary, fleet_cli_reset(cli));
}

static const gchar *
fleet_cli_verdict_label(FleetCompatVerdict verdict)
{
	switch (verdict) {
	case FLEET_COMPAT_OK:
		return _("compatible");
	case FLEET_COMPAT_WARNING:
		return _("compatible, with warnings");
	case FLEET_COMPAT_REFUSE:
	default:
		return _("refused");
	}
}

static void
fleet_cli_print_json(JsonBuilder *builder)
{
	g_autoptr(JsonGenerator) generator = json_generator_new();
	g_autoptr(JsonNode) root = json_builder_get_root(builder);
	g_autofree gchar *text = NULL;
	json_generator_set_pretty(generator, TRUE);
	json_generator_set_root(generator, root);
	text = json_generator_to_data(generator, NULL);
	g_print("%s\n", text);
}

static void
fleet_cli_json_error(GError *error)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "schema");
	json_builder_add_string_value(builder, INSPECT_JSON_SCHEMA);
	json_builder_set_member_name(builder, "usable");
	json_builder_add_boolean_value(builder, FALSE);
	json_builder_set_member_name(builder, "error");
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "code");
	json_builder_add_int_value(builder, error->code);
	json_builder_set_member_name(builder, "message");
	json_builder_add_string_value(builder, error->message);
	json_builder_end_object(builder);
	json_builder_end_object(builder);
	fleet_cli_print_json(builder);
}

int
fleet_cli_inspect(FleetCli *cli, int argc, char **argv)
{
	gboolean json = FALSE;
	g_autofree gchar *board = NULL;
	g_autofree gchar *chip = NULL;
	gint64 slot_size = 0;
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GFile) file = NULL;
	g_autoptr(FleetImage) image = NULL;
	g_autoptr(GPtrArray) reasons = NULL;
	FleetCompatVerdict verdict = FLEET_COMPAT_OK;
	gboolean check_compat;
	const GOptionEntry entries[] = {
	    {"board", 'b', 0, G_OPTION_ARG_STRING, &board,
	     N_("Check the image against this Arduino board id (as a device announces it)"),
	     N_("BOARD")},
	    {"chip", 'c', 0, G_OPTION_ARG_STRING, &chip,
	     N_("Check the image against this chip (esp8266, esp32, esp32s3, …)"), N_("CHIP")},
	    {"slot-size", 0, 0, G_OPTION_ARG_INT64, &slot_size,
	     N_("Check that the image fits an OTA slot of this many bytes"), N_("BYTES")},
	    {"json", 0, 0, G_OPTION_ARG_NONE, &json,
	     N_("Print the report as JSON (schema in docs/inspect-json.md)"), NULL},
	    {NULL}};

	context = g_option_context_new(_("FILE — check a firmware image before it is sent"));
	g_option_context_set_translation_domain(context, GETTEXT_PACKAGE);
	g_option_context_add_main_entries(context, entries, GETTEXT_PACKAGE);
	g_option_context_set_summary(
	    context, _("Reads an ESP8266 or ESP32 firmware image and reports what it is and "
		       "everything wrong with it.\nExit status: 0 usable, 1 errors or "
		       "incompatible, 2 usage error."));
	if (!g_option_context_parse(context, &argc, &argv, &error))
		return fleet_cli_usage_error(context, error->message);
	if (argc != 2)
		return fleet_cli_usage_error(context, argc < 2 ? _("no image file given")
							       : _("give exactly one image file"));
	if (slot_size < 0)
		return fleet_cli_usage_error(context, _("--slot-size must not be negative"));

	file = g_file_new_for_commandline_arg(argv[1]);
	image = fleet_image_new_from_file(file, NULL, &error);
	if (image == NULL) {
		if (json) {
			fleet_cli_json_error(error);
		} else {
			g_autofree gchar *safe = fleet_text_sanitize(error->message, -1, 0);
			g_printerr("espfleet-cli: %s\n", safe);
		}
		return FLEET_CLI_EXIT_PROBLEM;
	}

	check_compat = board != NULL || chip != NULL || slot_size > 0;
	if (check_compat) {
		FleetDeviceFacts facts = {
		    .board = board,
		    .chip = chip,
		    .slot_size = (guint64)slot_size,
		    .free_space = 0,
		    .chip_revision = -1,
		};
		verdict = fleet_image_check_compat(image, &facts, &reasons);
	}

	if (json) {
		g_autoptr(JsonBuilder) builder = json_builder_new();
		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "schema");
		json_builder_add_string_value(builder, INSPECT_JSON_SCHEMA);
		fleet_image_to_json(image, builder);
		json_builder_set_member_name(builder, "compatibility");
		if (check_compat) {
			json_builder_begin_object(builder);
			json_builder_set_member_name(builder, "board");
			if (board != NULL)
				json_builder_add_string_value(builder, board);
			else
				json_builder_add_null_value(builder);
			json_builder_set_member_name(builder, "chip");
			if (chip != NULL)
				json_builder_add_string_value(builder, chip);
			else
				json_builder_add_null_value(builder);
			json_builder_set_member_name(builder, "verdict");
			json_builder_add_string_value(builder, fleet_compat_verdict_to_string(verdict));
			json_builder_set_member_name(builder, "reasons");
			json_builder_begin_array(builder);
			for (guint i = 0; i < reasons->len; i++) {
				FleetFinding *f = g_ptr_array_index(reasons, i);
				json_builder_begin_object(builder);
				json_builder_set_member_name(builder, "severity");
				json_builder_add_string_value(builder,
							      fleet_severity_to_string(f->severity));
				json_builder_set_member_name(builder, "id");
				json_builder_add_string_value(builder, f->id);
				json_builder_set_member_name(builder, "message");
				json_builder_add_string_value(builder, f->message);
				json_builder_end_object(builder);
			}
			json_builder_end_array(builder);
			json_builder_end_object(builder);
		} else {
			json_builder_add_null_value(builder);
		}
		json_builder_end_object(builder);
		fleet_cli_print_json(builder);
	} else {
		fleet_cli_print_report(cli, image);
		if (check_compat) {
			g_autofree gchar *target = NULL;
			g_autofree gchar *safe_board =
			    board != NULL ? fleet_text_sanitize(board, -1, 64) : NULL;
			g_autofree gchar *safe_chip =
			    chip != NULL ? fleet_text_sanitize(chip, -1, 64) : NULL;
			if (safe_board != NULL && safe_chip != NULL)
				target = g_strdup_printf(_("board %s, chip %s"), safe_board, safe_chip);
			else if (safe_board != NULL)
				target = g_strdup_printf(_("board %s"), safe_board);
			else if (safe_chip != NULL)
				target = g_strdup_printf(_("chip %s"), safe_chip);
			else
				target = g_strdup(_("the given slot size"));
			g_autofree gchar *line = NULL;
			FleetSeverity sev = verdict == FLEET_COMPAT_REFUSE    ? FLEET_SEVERITY_ERROR
					    : verdict == FLEET_COMPAT_WARNING ? FLEET_SEVERITY_WARNING
									      : FLEET_SEVERITY_INFO;
			/* TRANSLATORS: "Compatibility with board nodemcuv2: refused" */
			line = g_strdup_printf(_("Compatibility with %s: %s"), target,
					       fleet_cli_verdict_label(verdict));
			g_print("  %s%s%s\n", fleet_cli_severity_color(cli, sev), line,
				fleet_cli_reset(cli));
			fleet_cli_print_findings(cli, reasons);
		}
	}

	if (fleet_image_has_errors(image) || verdict == FLEET_COMPAT_REFUSE)
		return FLEET_CLI_EXIT_PROBLEM;
	return FLEET_CLI_EXIT_OK;
}

