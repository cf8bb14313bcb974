/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-image-report.c - shows the pre-flight report of one firmware image */

#include "config.h"

#include "fleet-image-report.h"

#include <glib/gi18n.h>

/*
 * Every string that comes from the image (version, project name, findings that quote it)
 * is untrusted: it is only ever set with gtk_label_set_text() or as a plain-text cell,
 * never as Pango markup.
 */

enum {
	SEGMENT_COLUMN_INDEX,
	SEGMENT_COLUMN_MEMORY,
	SEGMENT_COLUMN_LOAD_ADDR,
	SEGMENT_COLUMN_LENGTH,
	SEGMENT_COLUMN_FILE_OFFSET,
};

struct _FleetImageReport {
	GtkBox parent_instance;

	FleetImage *image;

	GtkWidget *verdict_box;
	GtkImage *verdict_icon;
	GtkLabel *verdict_title;
	GtkLabel *verdict_detail;
	GtkGrid *facts_grid;
	GtkListBox *findings_list;
	GtkExpander *segments_expander;
	GtkLabel *segments_label;
	GtkListStore *segments_store;
	gint facts_rows;
};

G_DEFINE_TYPE(FleetImageReport, fleet_image_report, GTK_TYPE_BOX)

typedef enum {
	FLEET_FACT_PLAIN,     /* shortened at the end */
	FLEET_FACT_PATH,      /* shortened in the middle: both ends of a path matter */
	FLEET_FACT_MONOSPACE, /* hashes: one word, the ends identify it */
} FleetFactStyle;

static void
fleet_image_report_add_fact(FleetImageReport *self,
			    const gchar *key,
			    const gchar *value,
			    FleetFactStyle style)
{
	GtkWidget *key_label;
	GtkWidget *value_label;

	/* facts the image does not have are left out rather than shown empty */
	if (value == NULL || value[0] == '\0')
		return;

	key_label = gtk_label_new(key);
	gtk_label_set_xalign(GTK_LABEL(key_label), 1);
	gtk_label_set_yalign(GTK_LABEL(key_label), 0);
	gtk_style_context_add_class(gtk_widget_get_style_context(key_label), "dim-label");

	value_label = gtk_label_new(NULL);
	gtk_label_set_text(GTK_LABEL(value_label), value);
	gtk_label_set_xalign(GTK_LABEL(value_label), 0);
	gtk_label_set_selectable(GTK_LABEL(value_label), TRUE);
	gtk_widget_set_hexpand(value_label, TRUE);
	/* one line each, shortened with the full text as tooltip: wrapping labels in a GtkGrid
	 * make it ask for the height at the narrowest width, which leaves the frame far too tall */
	gtk_label_set_ellipsize(GTK_LABEL(value_label), style == FLEET_FACT_PLAIN
							    ? PANGO_ELLIPSIZE_END
							    : PANGO_ELLIPSIZE_MIDDLE);
	gtk_widget_set_tooltip_text(value_label, value);
	if (style == FLEET_FACT_MONOSPACE)
		gtk_style_context_add_class(gtk_widget_get_style_context(value_label),
					    "fleet-mono");
	/* so that screen readers announce "SHA-256: 3f2a..." */
	atk_object_add_relationship(gtk_widget_get_accessible(value_label),
				    ATK_RELATION_LABELLED_BY, gtk_widget_get_accessible(key_label));

	gtk_grid_attach(self->facts_grid, key_label, 0, self->facts_rows, 1, 1);
	gtk_grid_attach(self->facts_grid, value_label, 1, self->facts_rows, 1, 1);
	gtk_widget_show(key_label);
	gtk_widget_show(value_label);
	self->facts_rows++;
}

static void
fleet_image_report_clear(FleetImageReport *self)
{
	g_autoptr(GList) facts = gtk_container_get_children(GTK_CONTAINER(self->facts_grid));
	g_autoptr(GList) findings = gtk_container_get_children(GTK_CONTAINER(self->findings_list));

	for (GList *l = facts; l != NULL; l = l->next)
		gtk_widget_destroy(GTK_WIDGET(l->data));
	for (GList *l = findings; l != NULL; l = l->next)
		gtk_widget_destroy(GTK_WIDGET(l->data));
	self->facts_rows = 0;
	gtk_list_store_clear(self->segments_store);
}

static gchar *
fleet_image_report_format_size(gsize size, gsize content_size, gboolean compressed)
{
	g_autofree gchar *outer = g_format_size_full(size, G_FORMAT_SIZE_LONG_FORMAT);
	g_autofree gchar *inner = NULL;

	if (!compressed)
		return g_steal_pointer(&outer);
	inner = g_format_size(content_size);
	/* TRANSLATORS: size of a gzipped image: "1.2 MB (1234567 bytes), 2.0 MB unpacked" */
	return g_strdup_printf(_("%s, %s unpacked"), outer, inner);
}

static gchar *
fleet_image_report_format_flash(FleetImage *image)
{
	g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func(g_free);
	const gchar *mode = fleet_image_get_flash_mode(image);
	guint32 size = fleet_image_get_flash_size(image);
	guint freq = fleet_image_get_flash_freq_mhz(image);

	if (mode != NULL && g_strcmp0(mode, "unknown") != 0)
		g_ptr_array_add(parts, g_strdup(mode));
	if (size > 0)
		g_ptr_array_add(parts, g_format_size_full(size, G_FORMAT_SIZE_IEC_UNITS));
	if (freq > 0) {
		/* TRANSLATORS: SPI flash clock, e.g. "80 MHz" */
		g_ptr_array_add(parts, g_strdup_printf(_("%u MHz"), freq));
	}
	if (parts->len == 0)
		return NULL;
	g_ptr_array_add(parts, NULL);
	/* TRANSLATORS: separator between flash mode, size and clock: "DIO, 4.0 MiB, 80 MHz" */
	return g_strjoinv(_(", "), (gchar **)parts->pdata);
}

static gchar *
fleet_image_report_format_chip(FleetImage *image)
{
	gint rev = fleet_image_get_min_chip_revision(image);

	/* ESP-IDF stores the minimum revision as major * 100 + minor; 0 means any revision */
	if (rev <= 0)
		return g_strdup(fleet_image_get_chip_name(image));
	/* TRANSLATORS: chip and the oldest silicon revision the image runs on: "ESP32-S3,
	 * revision v0.1 or newer" */
	return g_strdup_printf(_("%s, revision v%d.%d or newer"), fleet_image_get_chip_name(image),
			       rev / 100, rev % 100);
}

static void
fleet_image_report_update_facts(FleetImageReport *self, FleetImage *image, GFile *file)
{
	g_autofree gchar *location = g_file_get_parse_name(file);
	g_autofree gchar *kind = NULL;
	g_autofree gchar *chip = fleet_image_report_format_chip(image);
	g_autofree gchar *size = fleet_image_report_format_size(fleet_image_get_size(image),
								fleet_image_get_content_size(image),
								fleet_image_is_compressed(image));
	g_autofree gchar *flash = fleet_image_report_format_flash(image);
	const gchar *signature = fleet_image_get_signature_description(image);

	if (fleet_image_is_compressed(image)) {
		/* TRANSLATORS: the kind of image, e.g. "ESP-IDF application, gzip-compressed" */
		kind = g_strdup_printf(_("%s, gzip-compressed"),
				       fleet_image_get_kind_description(image));
	} else {
		kind = g_strdup(fleet_image_get_kind_description(image));
	}

	fleet_image_report_add_fact(self, _("File"), location, FLEET_FACT_PATH);
	fleet_image_report_add_fact(self, _("Kind"), kind, FLEET_FACT_PLAIN);
	fleet_image_report_add_fact(self, _("Chip"), chip, FLEET_FACT_PLAIN);
	/* TRANSLATORS: the project name built into the image (esp_app_desc_t) */
	fleet_image_report_add_fact(self, _("Project"), fleet_image_get_project_name(image),
				    FLEET_FACT_PLAIN);
	/* TRANSLATORS: the firmware version built into the image */
	fleet_image_report_add_fact(self, _("Version"), fleet_image_get_version(image),
				    FLEET_FACT_PLAIN);
	/* TRANSLATORS: the ESP-IDF version the image was built with; "ESP-IDF" is a name */
	fleet_image_report_add_fact(self, _("ESP-IDF"), fleet_image_get_idf_version(image),
				    FLEET_FACT_PLAIN);
	/* TRANSLATORS: when the image was compiled */
	fleet_image_report_add_fact(self, _("Built"), fleet_image_get_build_date(image),
				    FLEET_FACT_PLAIN);
	fleet_image_report_add_fact(self, _("Size"), size, FLEET_FACT_PLAIN);
	fleet_image_report_add_fact(self, _("MD5"), fleet_image_get_md5(image),
				    FLEET_FACT_MONOSPACE);
	fleet_image_report_add_fact(self, _("SHA-256"), fleet_image_get_sha256(image),
				    FLEET_FACT_MONOSPACE);
	/* TRANSLATORS: SPI flash settings in the image header: mode, size, clock */
	fleet_image_report_add_fact(self, _("Flash"), flash, FLEET_FACT_PLAIN);
	fleet_image_report_add_fact(self, _("Signature"),
				    signature != NULL ? signature : _("Not signed"),
				    FLEET_FACT_PLAIN);
}

static void
fleet_image_report_update_verdict(FleetImageReport *self, FleetImage *image)
{
	GtkStyleContext *context = gtk_widget_get_style_context(self->verdict_box);
	g_autofree gchar *summary = fleet_image_get_summary(image);
	g_autofree gchar *detail = NULL;
	GPtrArray *findings = fleet_image_get_findings(image);
	const gchar *icon;
	const gchar *style;
	gboolean warnings = FALSE;

	for (guint i = 0; i < findings->len; i++) {
		FleetFinding *finding = g_ptr_array_index(findings, i);
		if (finding->severity == FLEET_SEVERITY_WARNING)
			warnings = TRUE;
	}

	if (fleet_image_has_errors(image)) {
		icon = "dialog-error-symbolic";
		style = "fleet-verdict-error";
		detail = g_strdup(_("Devices would refuse this image or fail to start it."));
	} else if (warnings) {
		icon = "dialog-warning-symbolic";
		style = "fleet-verdict-warning";
		/* TRANSLATORS: %s is a chip name such as "ESP32-S3" */
		detail = g_strdup_printf(_("It can be sent to %s devices: read the warnings "
					   "below first."),
					 fleet_image_get_chip_name(image));
	} else {
		icon = "emblem-ok-symbolic";
		style = "fleet-verdict-ok";
		/* TRANSLATORS: %s is a chip name such as "ESP32-S3" */
		detail = g_strdup_printf(_("It can be sent to %s devices."),
					 fleet_image_get_chip_name(image));
	}

	gtk_style_context_remove_class(context, "fleet-verdict-ok");
	gtk_style_context_remove_class(context, "fleet-verdict-warning");
	gtk_style_context_remove_class(context, "fleet-verdict-error");
	gtk_style_context_add_class(context, style);
	gtk_image_set_from_icon_name(self->verdict_icon, icon, GTK_ICON_SIZE_DIALOG);
	gtk_label_set_text(self->verdict_title, summary);
	gtk_label_set_text(self->verdict_detail, detail);
}

static GtkWidget *
fleet_image_report_finding_row_new(FleetSeverity severity, const gchar *message)
{
	GtkWidget *row = gtk_list_box_row_new();
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
	GtkWidget *icon = gtk_image_new();
	GtkWidget *label = gtk_label_new(NULL);
	const gchar *icon_name;
	const gchar *style;
	const gchar *severity_name;

	switch (severity) {
	case FLEET_SEVERITY_ERROR:
		icon_name = "dialog-error-symbolic";
		style = "fleet-severity-error";
		severity_name = _("Error");
		break;
	case FLEET_SEVERITY_WARNING:
		icon_name = "dialog-warning-symbolic";
		style = "fleet-severity-warning";
		severity_name = _("Warning");
		break;
	case FLEET_SEVERITY_INFO:
	default:
		icon_name = "dialog-information-symbolic";
		style = "fleet-severity-info";
		/* TRANSLATORS: severity of a finding that is neither a warning nor an error */
		severity_name = _("Note");
		break;
	}

	gtk_image_set_from_icon_name(GTK_IMAGE(icon), icon_name, GTK_ICON_SIZE_BUTTON);
	gtk_widget_set_valign(icon, GTK_ALIGN_START);
	gtk_widget_set_tooltip_text(icon, severity_name);
	gtk_style_context_add_class(gtk_widget_get_style_context(icon), style);
	atk_object_set_name(gtk_widget_get_accessible(icon), severity_name);

	gtk_label_set_text(GTK_LABEL(label), message);
	gtk_label_set_xalign(GTK_LABEL(label), 0);
	gtk_label_set_line_wrap(GTK_LABEL(label), TRUE);
	gtk_label_set_line_wrap_mode(GTK_LABEL(label), PANGO_WRAP_WORD_CHAR);
	gtk_label_set_selectable(GTK_LABEL(label), TRUE);
	gtk_widget_set_hexpand(label, TRUE);

	g_object_set(box, "margin-start", 12, "margin-end", 12, "margin-top", 10, "margin-bottom",
		     10, NULL);
	gtk_container_add(GTK_CONTAINER(box), icon);
	gtk_container_add(GTK_CONTAINER(box), label);
	gtk_container_add(GTK_CONTAINER(row), box);
	gtk_list_box_row_set_activatable(GTK_LIST_BOX_ROW(row), FALSE);
	gtk_widget_set_can_focus(row, FALSE);
	gtk_widget_show_all(row);
	return row;
}

static void
fleet_image_report_update_findings(FleetImageReport *self, FleetImage *image)
{
	GPtrArray *findings = fleet_image_get_findings(image);
	const FleetSeverity order[] = {FLEET_SEVERITY_ERROR, FLEET_SEVERITY_WARNING,
				       FLEET_SEVERITY_INFO};

	/* the worst first; within one severity in the order the checks found them */
	for (guint k = 0; k < G_N_ELEMENTS(order); k++) {
		for (guint i = 0; i < findings->len; i++) {
			FleetFinding *finding = g_ptr_array_index(findings, i);
			if (finding->severity != order[k])
				continue;
			gtk_container_add(GTK_CONTAINER(self->findings_list),
					  fleet_image_report_finding_row_new(finding->severity,
									     finding->message));
		}
	}
	if (findings->len == 0) {
		GtkWidget *row =
		    fleet_image_report_finding_row_new(FLEET_SEVERITY_INFO, _("No problems found"));
		gtk_container_add(GTK_CONTAINER(self->findings_list), row);
	}
}

static void
fleet_image_report_update_segments(FleetImageReport *self, FleetImage *image)
{
	guint count = fleet_image_get_segment_count(image);
	g_autofree gchar *title = NULL;

	for (guint i = 0; i < count; i++) {
		guint32 load_addr = 0;
		guint32 length = 0;
		guint32 file_offset = 0;
		const gchar *memory = fleet_image_get_segment_memory(image, i);
		g_autofree gchar *index_text = NULL;
		g_autofree gchar *addr_text = NULL;
		g_autofree gchar *length_text = NULL;
		g_autofree gchar *offset_text = NULL;
		GtkTreeIter iter;

		if (!fleet_image_get_segment(image, i, &load_addr, &length, &file_offset))
			continue;
		index_text = g_strdup_printf("%u", i);
		addr_text = g_strdup_printf("0x%08X", load_addr);
		length_text = g_strdup_printf(
		    /* TRANSLATORS: length of a segment in bytes */
		    g_dngettext(GETTEXT_PACKAGE, "%u byte", "%u bytes", length), length);
		offset_text = g_strdup_printf("0x%06X", file_offset);
		gtk_list_store_insert_with_values(
		    self->segments_store, &iter, -1, SEGMENT_COLUMN_INDEX, index_text,
		    SEGMENT_COLUMN_MEMORY, memory != NULL ? memory : "", SEGMENT_COLUMN_LOAD_ADDR,
		    addr_text, SEGMENT_COLUMN_LENGTH, length_text, SEGMENT_COLUMN_FILE_OFFSET,
		    offset_text, -1);
	}

	/* TRANSLATORS: title of the collapsible segment table */
	title = g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%u Segment", "%u Segments", count),
				count);
	gtk_label_set_text(self->segments_label, title);
	gtk_widget_set_visible(GTK_WIDGET(self->segments_expander), count > 0);
}

static void
fleet_image_report_dispose(GObject *object)
{
	FleetImageReport *self = FLEET_IMAGE_REPORT(object);
	g_clear_object(&self->image);
	G_OBJECT_CLASS(fleet_image_report_parent_class)->dispose(object);
}

static void
fleet_image_report_class_init(FleetImageReportClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	object_class->dispose = fleet_image_report_dispose;

	gtk_widget_class_set_template_from_resource(
	    widget_class, "/io/github/espfleet/EspFleet/fleet-image-report.ui");
	gtk_widget_class_bind_template_child(widget_class, FleetImageReport, verdict_box);
	gtk_widget_class_bind_template_child(widget_class, FleetImageReport, verdict_icon);
	gtk_widget_class_bind_template_child(widget_class, FleetImageReport, verdict_title);
	gtk_widget_class_bind_template_child(widget_class, FleetImageReport, verdict_detail);
	gtk_widget_class_bind_template_child(widget_class, FleetImageReport, facts_grid);
	gtk_widget_class_bind_template_child(widget_class, FleetImageReport, findings_list);
	gtk_widget_class_bind_template_child(widget_class, FleetImageReport, segments_expander);
	gtk_widget_class_bind_template_child(widget_class, FleetImageReport, segments_label);
	gtk_widget_class_bind_template_child(widget_class, FleetImageReport, segments_store);
}

static void
fleet_image_report_init(FleetImageReport *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
}

void
fleet_image_report_set_image(FleetImageReport *self, FleetImage *image, GFile *file)
{
	g_return_if_fail(FLEET_IS_IMAGE_REPORT(self));
	g_return_if_fail(FLEET_IS_IMAGE(image));
	g_return_if_fail(G_IS_FILE(file));

	g_set_object(&self->image, image);
	fleet_image_report_clear(self);
	fleet_image_report_update_verdict(self, image);
	fleet_image_report_update_facts(self, image, file);
	fleet_image_report_update_findings(self, image);
	fleet_image_report_update_segments(self, image);
}

GtkWidget *
fleet_image_report_new(void)
{
	return g_object_new(FLEET_TYPE_IMAGE_REPORT, NULL);
}
