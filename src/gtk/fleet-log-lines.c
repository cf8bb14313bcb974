/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-log-lines.c - the scrollable log area: a ring of FleetLogLine drawn a screenful at a
 * time, with a time and a device column, level and ANSI colours, and row selection
 *
 * Every row is one PangoLayout line in a monospace font, so a row's position is its index
 * times the row height and nothing but the visible rows is ever laid out. Device text goes
 * into the layout as text with attributes, never as markup.
 */

#include "config.h"

#include "fleet-log-lines.h"

#include <glib/gi18n.h>
#include <string.h>

#include "fleet-log-buffer.h"

#define FLEET_LOG_LINES_MARGIN 6
#define FLEET_LOG_LINES_DEVICE_COLUMN 16
#define FLEET_LOG_LINES_MIN_CAPACITY 100

struct _FleetLogLines {
	GtkDrawingArea parent_instance;

	FleetLogBuffer *ring;
	guint64 dropped_before;
	gboolean show_time;
	gboolean show_device;
	gboolean colors;
	gboolean follow;
	FleetLogLinesNameFunc name_func;
	gpointer name_data;
	GDestroyNotify name_destroy;
	GHashTable *names;	   /* device id → padded column text */
	GHashTable *device_colors; /* device id → 1 + palette index */
	guint n_device_colors;

	GtkAdjustment *hadjustment;
	GtkAdjustment *vadjustment;
	guint hscroll_policy;
	guint vscroll_policy;
	gboolean setting_value;

	PangoLayout *layout;
	gint line_height;
	gint char_width;
	gsize max_chars;

	guint64 sel_anchor; /* sequence numbers of the selected range, 0 for none */
	guint64 sel_cursor;
	gboolean selecting;

	gint64 time_second;
	gchar time_text[16];
};

static void
fleet_log_lines_scrollable_init(GtkScrollableInterface *iface)
{
}

G_DEFINE_TYPE_WITH_CODE(FleetLogLines,
			fleet_log_lines,
			GTK_TYPE_DRAWING_AREA,
			G_IMPLEMENT_INTERFACE(GTK_TYPE_SCROLLABLE, fleet_log_lines_scrollable_init))

enum {
	PROP_0,
	PROP_FOLLOW,
	PROP_HADJUSTMENT,
	PROP_VADJUSTMENT,
	PROP_HSCROLL_POLICY,
	PROP_VSCROLL_POLICY,
	N_PROPS
};
static GParamSpec *prop_follow;

/* the device column: readable on light and dark themes */
static const gchar *const fleet_log_lines_device_colors[] = {
    "#1c71d8", "#c64600", "#26a269", "#813d9c", "#a51d2d", "#986a44", "#0b8a8a", "#5e5c64",
};

/* ANSI colours 0-15 as GNOME Terminal's "GNOME" palette */
static const gchar *const fleet_log_lines_ansi16[] = {
    "#171421", "#c01c28", "#26a269", "#a2734c", "#12488b", "#a347ba", "#2aa1b3", "#d0cfcc",
    "#5e5c64", "#f66151", "#33d17a", "#e9ad0c", "#2a7bde", "#c061cb", "#33c7de", "#ffffff",
};

#define FLEET_LOG_LINES_GREY "#77767b"
#define FLEET_LOG_LINES_EVENT "#1a5fb4"

/* ---- rows ---- */

static gboolean
fleet_log_lines_has_marker(FleetLogLines *self)
{
	return fleet_log_lines_get_dropped(self) > 0;
}

static guint
fleet_log_lines_n_rows(FleetLogLines *self)
{
	return fleet_log_buffer_get_n_lines(self->ring) +
	       (fleet_log_lines_has_marker(self) ? 1 : 0);
}

/* the line of a row, NULL for the marker row */
static FleetLogLine *
fleet_log_lines_row_line(FleetLogLines *self, guint row)
{
	guint marker = fleet_log_lines_has_marker(self) ? 1 : 0;
	if (row < marker)
		return NULL;
	return fleet_log_buffer_get_line(self->ring, row - marker);
}

static const gchar *
fleet_log_lines_time(FleetLogLines *self, gint64 host_time)
{
	static gchar out[24];
	gint64 second = host_time / G_USEC_PER_SEC;
	if (second != self->time_second) {
		g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local(second);
		if (dt != NULL)
			g_snprintf(self->time_text, sizeof(self->time_text), "%02d:%02d:%02d",
				   g_date_time_get_hour(dt), g_date_time_get_minute(dt),
				   g_date_time_get_second(dt));
		self->time_second = second;
	}
	g_snprintf(out, sizeof(out), "%s.%03d ", self->time_text,
		   (gint)((host_time / 1000) % 1000));
	return out;
}

static const gchar *
fleet_log_lines_name(FleetLogLines *self, const gchar *device_id)
{
	gchar *column = g_hash_table_lookup(self->names, device_id);
	if (column == NULL) {
		g_autofree gchar *name = self->name_func != NULL
					     ? self->name_func(device_id, self->name_data)
					     : g_strdup(device_id);
		/* an event line sanitises like device text */
		g_autoptr(FleetLogLine) safe = fleet_log_line_new_event(
		    device_id, 0, FLEET_LOG_LINE_KIND_EVENT, FLEET_LOG_LEVEL_NONE, name);
		const gchar *text = fleet_log_line_get_text(safe);
		glong chars = g_utf8_strlen(text, -1);
		GString *padded = g_string_new(NULL);
		if (chars > FLEET_LOG_LINES_DEVICE_COLUMN) {
			const gchar *cut =
			    g_utf8_offset_to_pointer(text, FLEET_LOG_LINES_DEVICE_COLUMN - 1);
			g_string_append_len(padded, text, cut - text);
			g_string_append(padded, "…");
		} else {
			g_string_append(padded, text);
			for (glong i = chars; i < FLEET_LOG_LINES_DEVICE_COLUMN; i++)
				g_string_append_c(padded, ' ');
		}
		g_string_append_c(padded, ' ');
		column = g_string_free(padded, FALSE);
		g_hash_table_insert(self->names, g_strdup(device_id), column);
	}
	return column;
}

static void
fleet_log_lines_parse_color(const gchar *hex, guint16 *r, guint16 *g, guint16 *b)
{
	guint v = (guint)g_ascii_strtoull(hex + 1, NULL, 16);
	*r = (guint16)(((v >> 16) & 0xff) * 257);
	*g = (guint16)(((v >> 8) & 0xff) * 257);
	*b = (guint16)((v & 0xff) * 257);
}

/* the xterm 256-palette colour @index as a Pango colour */
static void
fleet_log_lines_palette(guint index, guint16 *r, guint16 *g, guint16 *b)
{
	static const guint8 steps[] = {0, 95, 135, 175, 215, 255};
	if (index < 16) {
		fleet_log_lines_parse_color(fleet_log_lines_ansi16[index], r, g, b);
	} else if (index < 232) {
		guint i = index - 16;
		*r = (guint16)(steps[i / 36] * 257);
		*g = (guint16)(steps[(i / 6) % 6] * 257);
		*b = (guint16)(steps[i % 6] * 257);
	} else {
		guint v = 8 + (index - 232) * 10;
		*r = *g = *b = (guint16)(v * 257);
	}
}

static void
fleet_log_lines_attr(PangoAttrList *attrs, PangoAttribute *attr, gsize start, gsize end)
{
	attr->start_index = (guint)start;
	attr->end_index = (guint)end;
	pango_attr_list_insert(attrs, attr);
}

static void
fleet_log_lines_attr_color(PangoAttrList *attrs, const gchar *hex, gsize start, gsize end)
{
	guint16 r;
	guint16 g;
	guint16 b;
	fleet_log_lines_parse_color(hex, &r, &g, &b);
	fleet_log_lines_attr(attrs, pango_attr_foreground_new(r, g, b), start, end);
}

static const gchar *
fleet_log_lines_level_color(FleetLogLevel level)
{
	switch (level) {
	case FLEET_LOG_LEVEL_ERROR:
		return "#c01c28";
	case FLEET_LOG_LEVEL_WARN:
		return "#c64600";
	case FLEET_LOG_LEVEL_DEBUG:
	case FLEET_LOG_LEVEL_VERBOSE:
		return FLEET_LOG_LINES_GREY;
	case FLEET_LOG_LEVEL_INFO:
	case FLEET_LOG_LEVEL_NONE:
	default:
		return NULL;
	}
}

static const gchar *
fleet_log_lines_device_color(FleetLogLines *self, const gchar *device_id)
{
	guint index = GPOINTER_TO_UINT(g_hash_table_lookup(self->device_colors, device_id));
	if (index == 0) {
		index = self->n_device_colors++ % G_N_ELEMENTS(fleet_log_lines_device_colors) + 1;
		g_hash_table_insert(self->device_colors, g_strdup(device_id),
				    GUINT_TO_POINTER(index));
	}
	return fleet_log_lines_device_colors[index - 1];
}

/* the row's text as shown and, when @attrs is given, its colours */
static void
fleet_log_lines_compose(FleetLogLines *self, FleetLogLine *line, GString *out, PangoAttrList *attrs)
{
	const gchar *text = fleet_log_line_get_text(line);
	gsize len = fleet_log_line_get_text_len(line);
	FleetLogLineKind kind = fleet_log_line_get_kind(line);
	guint n_spans = 0;
	const FleetLogSpan *spans = fleet_log_line_get_spans(line, &n_spans);
	gsize base;

	if (self->show_time) {
		base = out->len;
		g_string_append(out,
				fleet_log_lines_time(self, fleet_log_line_get_host_time(line)));
		if (attrs != NULL)
			fleet_log_lines_attr_color(attrs, FLEET_LOG_LINES_GREY, base, out->len);
	}
	if (self->show_device) {
		const gchar *id = fleet_log_line_get_device_id(line);
		base = out->len;
		g_string_append(out, fleet_log_lines_name(self, id));
		if (attrs != NULL) {
			fleet_log_lines_attr_color(attrs, fleet_log_lines_device_color(self, id),
						   base, out->len);
			fleet_log_lines_attr(attrs, pango_attr_weight_new(PANGO_WEIGHT_BOLD), base,
					     out->len);
		}
	}
	base = out->len;
	if (kind == FLEET_LOG_LINE_KIND_EVENT) {
		/* what the viewer says stands apart from what the device said */
		g_string_append(out, "--- ");
		g_string_append_len(out, text, (gssize)len);
		if (attrs != NULL) {
			fleet_log_lines_attr_color(attrs, FLEET_LOG_LINES_EVENT, base, out->len);
			fleet_log_lines_attr(attrs, pango_attr_style_new(PANGO_STYLE_ITALIC), base,
					     out->len);
		}
		return;
	}
	g_string_append_len(out, text, (gssize)len);
	if (attrs == NULL)
		return;
	if (kind == FLEET_LOG_LINE_KIND_DROPPED || !self->colors || n_spans == 0) {
		const gchar *color = fleet_log_lines_level_color(fleet_log_line_get_level(line));
		if (color != NULL)
			fleet_log_lines_attr_color(attrs, color, base, out->len);
		return;
	}
	/* the device's own colours; spans are byte offsets into the text */
	for (guint i = 0; i < n_spans; i++) {
		const FleetLogSpan *sp = &spans[i];
		gsize s = base + sp->start;
		gsize e = base + sp->end;
		guint16 r;
		guint16 g;
		guint16 b;
		guint16 fg = sp->fg;
		guint16 bg = sp->bg;
		if (sp->attrs & FLEET_LOG_ATTR_INVERSE) {
			guint16 tmp = fg;
			fg = bg != FLEET_LOG_COLOR_DEFAULT ? bg : 8;
			bg = tmp != FLEET_LOG_COLOR_DEFAULT ? tmp : 1;
		}
		if (fg != FLEET_LOG_COLOR_DEFAULT && fg <= 256) {
			fleet_log_lines_palette(fg - 1u, &r, &g, &b);
			fleet_log_lines_attr(attrs, pango_attr_foreground_new(r, g, b), s, e);
		}
		if (bg != FLEET_LOG_COLOR_DEFAULT && bg <= 256) {
			fleet_log_lines_palette(bg - 1u, &r, &g, &b);
			fleet_log_lines_attr(attrs, pango_attr_background_new(r, g, b), s, e);
		}
		if (sp->attrs & FLEET_LOG_ATTR_BOLD)
			fleet_log_lines_attr(attrs, pango_attr_weight_new(PANGO_WEIGHT_BOLD), s, e);
		if (sp->attrs & FLEET_LOG_ATTR_DIM)
			fleet_log_lines_attr(attrs, pango_attr_foreground_alpha_new(0x9999), s, e);
		if (sp->attrs & FLEET_LOG_ATTR_ITALIC)
			fleet_log_lines_attr(attrs, pango_attr_style_new(PANGO_STYLE_ITALIC), s, e);
		if (sp->attrs & FLEET_LOG_ATTR_UNDERLINE)
			fleet_log_lines_attr(
			    attrs, pango_attr_underline_new(PANGO_UNDERLINE_SINGLE), s, e);
	}
}

static gchar *
fleet_log_lines_marker_text(FleetLogLines *self)
{
	guint64 dropped = fleet_log_lines_get_dropped(self);
	g_autofree gchar *number = g_strdup_printf("%" G_GUINT64_FORMAT, dropped);
	return g_strdup_printf(g_dngettext(GETTEXT_PACKAGE,
					   /* TRANSLATORS: the first row of the log view; %s is a
					    * number */
					   "— %s older line dropped —",
					   "— %s older lines dropped —",
					   (gulong)MIN(dropped, G_MAXULONG)),
			       number);
}

/* ---- scrolling ---- */

static gint
fleet_log_lines_content_height(FleetLogLines *self)
{
	return (gint)fleet_log_lines_n_rows(self) * self->line_height + 2 * FLEET_LOG_LINES_MARGIN;
}

static void
fleet_log_lines_set_value(FleetLogLines *self, GtkAdjustment *adj, gdouble value)
{
	self->setting_value = TRUE;
	gtk_adjustment_set_value(adj, value);
	self->setting_value = FALSE;
}

/* the adjustments follow the content and the size; when following, the end stays in view */
static void
fleet_log_lines_configure(FleetLogLines *self)
{
	gint width = gtk_widget_get_allocated_width(GTK_WIDGET(self));
	gint height = gtk_widget_get_allocated_height(GTK_WIDGET(self));
	gdouble upper;
	gdouble value;

	if (self->vadjustment != NULL) {
		upper = MAX((gdouble)fleet_log_lines_content_height(self), (gdouble)height);
		value = self->follow ? upper - height
				     : CLAMP(gtk_adjustment_get_value(self->vadjustment), 0.0,
					     upper - height);
		self->setting_value = TRUE;
		gtk_adjustment_configure(self->vadjustment, value, 0.0, upper, self->line_height,
					 MAX(height - self->line_height, self->line_height),
					 height);
		self->setting_value = FALSE;
	}
	if (self->hadjustment != NULL) {
		upper = MAX((gdouble)(self->max_chars * (gsize)self->char_width +
				      2 * FLEET_LOG_LINES_MARGIN),
			    (gdouble)width);
		value = CLAMP(gtk_adjustment_get_value(self->hadjustment), 0.0, upper - width);
		self->setting_value = TRUE;
		gtk_adjustment_configure(self->hadjustment, value, 0.0, upper, self->char_width * 4,
					 width * 0.9, width);
		self->setting_value = FALSE;
	}
}

static void
fleet_log_lines_set_follow(FleetLogLines *self, gboolean follow)
{
	if (self->follow == follow)
		return;
	self->follow = follow;
	g_object_notify_by_pspec(G_OBJECT(self), prop_follow);
}

static void
fleet_log_lines_value_changed_cb(GtkAdjustment *adj, gpointer user_data)
{
	FleetLogLines *self = FLEET_LOG_LINES(user_data);
	gtk_widget_queue_draw(GTK_WIDGET(self));
	if (self->setting_value || adj != self->vadjustment)
		return;
	/* every other change is the user's: at the end the view follows, elsewhere it stays */
	fleet_log_lines_set_follow(self, gtk_adjustment_get_value(adj) +
						 gtk_adjustment_get_page_size(adj) >=
					     gtk_adjustment_get_upper(adj) - 1.0);
}

static void
fleet_log_lines_set_adjustment(FleetLogLines *self, GtkAdjustment **slot, GtkAdjustment *adj)
{
	if (*slot == adj)
		return;
	if (*slot != NULL) {
		g_signal_handlers_disconnect_by_data(*slot, self);
		g_clear_object(slot);
	}
	if (adj == NULL)
		adj = gtk_adjustment_new(0, 0, 0, 0, 0, 0);
	*slot = g_object_ref_sink(adj);
	g_signal_connect(adj, "value-changed", G_CALLBACK(fleet_log_lines_value_changed_cb), self);
	fleet_log_lines_configure(self);
}

void
fleet_log_lines_scroll_to_end(FleetLogLines *self)
{
	g_return_if_fail(FLEET_IS_LOG_LINES(self));
	fleet_log_lines_set_follow(self, TRUE);
	fleet_log_lines_configure(self);
	gtk_widget_queue_draw(GTK_WIDGET(self));
}

gboolean
fleet_log_lines_get_follow(FleetLogLines *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_LINES(self), FALSE);
	return self->follow;
}

/* ---- content ---- */

void
fleet_log_lines_set_name_func(FleetLogLines *self,
			      FleetLogLinesNameFunc func,
			      gpointer user_data,
			      GDestroyNotify destroy)
{
	g_return_if_fail(FLEET_IS_LOG_LINES(self));
	if (self->name_destroy != NULL)
		self->name_destroy(self->name_data);
	self->name_func = func;
	self->name_data = user_data;
	self->name_destroy = destroy;
	g_hash_table_remove_all(self->names);
	gtk_widget_queue_draw(GTK_WIDGET(self));
}

void
fleet_log_lines_set_columns(FleetLogLines *self, gboolean time, gboolean device)
{
	g_return_if_fail(FLEET_IS_LOG_LINES(self));
	if (self->show_time == time && self->show_device == device)
		return;
	self->show_time = time;
	self->show_device = device;
	fleet_log_lines_configure(self);
	gtk_widget_queue_draw(GTK_WIDGET(self));
}

void
fleet_log_lines_set_colors(FleetLogLines *self, gboolean colors)
{
	g_return_if_fail(FLEET_IS_LOG_LINES(self));
	self->colors = colors;
	gtk_widget_queue_draw(GTK_WIDGET(self));
}

void
fleet_log_lines_set_max_lines(FleetLogLines *self, guint max_lines)
{
	g_return_if_fail(FLEET_IS_LOG_LINES(self));
	fleet_log_buffer_set_capacity(self->ring, MAX(max_lines, FLEET_LOG_LINES_MIN_CAPACITY));
	fleet_log_lines_configure(self);
	gtk_widget_queue_draw(GTK_WIDGET(self));
}

void
fleet_log_lines_set_dropped_before(FleetLogLines *self, guint64 dropped)
{
	g_return_if_fail(FLEET_IS_LOG_LINES(self));
	self->dropped_before = dropped;
	fleet_log_lines_configure(self);
	gtk_widget_queue_draw(GTK_WIDGET(self));
}

guint64
fleet_log_lines_get_dropped(FleetLogLines *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_LINES(self), 0);
	return self->dropped_before + fleet_log_buffer_get_n_dropped(self->ring);
}

guint
fleet_log_lines_get_n_lines(FleetLogLines *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_LINES(self), 0);
	return fleet_log_buffer_get_n_lines(self->ring);
}

void
fleet_log_lines_clear(FleetLogLines *self)
{
	g_return_if_fail(FLEET_IS_LOG_LINES(self));
	fleet_log_buffer_clear(self->ring);
	self->dropped_before = 0;
	self->max_chars = 0;
	self->sel_anchor = self->sel_cursor = 0;
	g_hash_table_remove_all(self->names);
	fleet_log_lines_set_follow(self, TRUE);
	fleet_log_lines_configure(self);
	gtk_widget_queue_draw(GTK_WIDGET(self));
}

void
fleet_log_lines_append(FleetLogLines *self, GPtrArray *lines)
{
	guint rows_before;
	guint64 dropped_before;
	gsize columns;

	g_return_if_fail(FLEET_IS_LOG_LINES(self));
	g_return_if_fail(lines != NULL);
	if (lines->len == 0)
		return;
	rows_before = fleet_log_lines_n_rows(self);
	dropped_before = fleet_log_buffer_get_n_dropped(self->ring);
	columns = (self->show_time ? 13 : 0) +
		  (self->show_device ? FLEET_LOG_LINES_DEVICE_COLUMN + 1 : 0) + 4;
	for (guint i = 0; i < lines->len; i++) {
		FleetLogLine *line = g_ptr_array_index(lines, i);
		fleet_log_buffer_append(self->ring, line);
		/* bytes are at least characters: a width that is never too small */
		self->max_chars = MAX(self->max_chars, columns + fleet_log_line_get_text_len(line));
	}
	if (!self->follow && self->vadjustment != NULL) {
		/* rows that went at the top move what is shown up: follow them */
		guint64 trimmed = fleet_log_buffer_get_n_dropped(self->ring) - dropped_before;
		gint64 shift =
		    (gint64)trimmed - ((gint64)fleet_log_lines_n_rows(self) - (gint64)rows_before -
				       (gint64)lines->len + (gint64)trimmed);
		if (shift != 0)
			fleet_log_lines_set_value(
			    self, self->vadjustment,
			    MAX(0.0, gtk_adjustment_get_value(self->vadjustment) -
					 (gdouble)(shift * self->line_height)));
	}
	fleet_log_lines_configure(self);
	gtk_widget_queue_draw(GTK_WIDGET(self));
}

static gboolean
fleet_log_lines_selected(FleetLogLines *self, FleetLogLine *line)
{
	guint64 seq;
	if (self->sel_anchor == 0 || line == NULL)
		return FALSE;
	seq = fleet_log_line_get_seq(line);
	return seq >= MIN(self->sel_anchor, self->sel_cursor) &&
	       seq <= MAX(self->sel_anchor, self->sel_cursor);
}

gboolean
fleet_log_lines_has_selection(FleetLogLines *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_LINES(self), FALSE);
	return self->sel_anchor != 0;
}

gchar *
fleet_log_lines_get_text(FleetLogLines *self, gboolean selection)
{
	GString *out;
	guint n;

	g_return_val_if_fail(FLEET_IS_LOG_LINES(self), NULL);
	out = g_string_new(NULL);
	n = fleet_log_buffer_get_n_lines(self->ring);
	for (guint i = 0; i < n; i++) {
		FleetLogLine *line = fleet_log_buffer_get_line(self->ring, i);
		if (selection && self->sel_anchor != 0 && !fleet_log_lines_selected(self, line))
			continue;
		if (out->len > 0)
			g_string_append_c(out, '\n');
		fleet_log_lines_compose(self, line, out, NULL);
	}
	return g_string_free(out, FALSE);
}

/* ---- drawing ---- */

static void
fleet_log_lines_update_font(FleetLogLines *self)
{
	PangoContext *context = gtk_widget_get_pango_context(GTK_WIDGET(self));
	g_autoptr(PangoFontDescription) font =
	    pango_font_description_copy(pango_context_get_font_description(context));
	PangoFontMetrics *metrics;

	pango_font_description_set_family(font, "Monospace");
	metrics = pango_context_get_metrics(context, font, NULL);
	self->line_height = MAX(PANGO_PIXELS_CEIL(pango_font_metrics_get_ascent(metrics) +
						  pango_font_metrics_get_descent(metrics)),
				1) +
			    2;
	self->char_width =
	    MAX(PANGO_PIXELS_CEIL(pango_font_metrics_get_approximate_digit_width(metrics)), 1);
	pango_font_metrics_unref(metrics);
	g_clear_object(&self->layout);
	self->layout = gtk_widget_create_pango_layout(GTK_WIDGET(self), NULL);
	pango_layout_set_font_description(self->layout, font);
	pango_layout_set_single_paragraph_mode(self->layout, TRUE);
	fleet_log_lines_configure(self);
}

static void
fleet_log_lines_style_updated(GtkWidget *widget)
{
	GTK_WIDGET_CLASS(fleet_log_lines_parent_class)->style_updated(widget);
	fleet_log_lines_update_font(FLEET_LOG_LINES(widget));
}

static void
fleet_log_lines_size_allocate(GtkWidget *widget, GtkAllocation *allocation)
{
	GTK_WIDGET_CLASS(fleet_log_lines_parent_class)->size_allocate(widget, allocation);
	fleet_log_lines_configure(FLEET_LOG_LINES(widget));
}

static gboolean
fleet_log_lines_draw(GtkWidget *widget, cairo_t *cr)
{
	FleetLogLines *self = FLEET_LOG_LINES(widget);
	GtkStyleContext *style = gtk_widget_get_style_context(widget);
	gint width = gtk_widget_get_allocated_width(widget);
	gint height = gtk_widget_get_allocated_height(widget);
	gdouble top = self->vadjustment != NULL ? gtk_adjustment_get_value(self->vadjustment) : 0.0;
	gdouble left =
	    self->hadjustment != NULL ? gtk_adjustment_get_value(self->hadjustment) : 0.0;
	guint n_rows = fleet_log_lines_n_rows(self);
	gint first;
	gint last;
	GdkRGBA fg;
	g_autoptr(GString) text = g_string_sized_new(256);

	gtk_render_background(style, cr, 0, 0, width, height);
	if (self->layout == NULL || n_rows == 0)
		return FALSE;
	gtk_style_context_get_color(style, gtk_style_context_get_state(style), &fg);
	first = MAX(0, (gint)((top - FLEET_LOG_LINES_MARGIN) / self->line_height));
	last = MIN((gint)n_rows - 1, (gint)((top + height) / self->line_height) + 1);
	for (gint row = first; row <= last; row++) {
		FleetLogLine *line = fleet_log_lines_row_line(self, (guint)row);
		gdouble y = FLEET_LOG_LINES_MARGIN + (gdouble)row * self->line_height - top;
		PangoAttrList *attrs = pango_attr_list_new();

		g_string_truncate(text, 0);
		if (line == NULL) {
			g_autofree gchar *marker = fleet_log_lines_marker_text(self);
			g_string_append(text, marker);
			fleet_log_lines_attr_color(attrs, FLEET_LOG_LINES_GREY, 0, text->len);
			fleet_log_lines_attr(attrs, pango_attr_style_new(PANGO_STYLE_ITALIC), 0,
					     text->len);
		} else {
			fleet_log_lines_compose(self, line, text, attrs);
		}
		if (fleet_log_lines_selected(self, line)) {
			cairo_set_source_rgba(cr, 0.21, 0.52, 0.89, 0.28);
			cairo_rectangle(cr, 0, y, width, self->line_height);
			cairo_fill(cr);
		}
		pango_layout_set_text(self->layout, text->str, (gint)text->len);
		pango_layout_set_attributes(self->layout, attrs);
		pango_attr_list_unref(attrs);
		gdk_cairo_set_source_rgba(cr, &fg);
		cairo_move_to(cr, FLEET_LOG_LINES_MARGIN - left, y + 1);
		pango_cairo_show_layout(cr, self->layout);
	}
	return FALSE;
}

/* ---- input ---- */

static FleetLogLine *
fleet_log_lines_line_at(FleetLogLines *self, gdouble y)
{
	gdouble top = self->vadjustment != NULL ? gtk_adjustment_get_value(self->vadjustment) : 0.0;
	gint row = (gint)((y + top - FLEET_LOG_LINES_MARGIN) / self->line_height);
	guint n_rows = fleet_log_lines_n_rows(self);
	if (n_rows == 0)
		return NULL;
	row = CLAMP(row, 0, (gint)n_rows - 1);
	if (fleet_log_lines_row_line(self, (guint)row) == NULL && n_rows > 1)
		row = 1;
	return fleet_log_lines_row_line(self, (guint)row);
}

static gboolean
fleet_log_lines_button_press(GtkWidget *widget, GdkEventButton *event)
{
	FleetLogLines *self = FLEET_LOG_LINES(widget);
	FleetLogLine *line;
	gtk_widget_grab_focus(widget);
	if (event->button != GDK_BUTTON_PRIMARY || event->type != GDK_BUTTON_PRESS)
		return GDK_EVENT_PROPAGATE;
	line = fleet_log_lines_line_at(self, event->y);
	if (line == NULL) {
		self->sel_anchor = self->sel_cursor = 0;
	} else if ((event->state & GDK_SHIFT_MASK) && self->sel_anchor != 0) {
		self->sel_cursor = fleet_log_line_get_seq(line);
	} else {
		self->sel_anchor = self->sel_cursor = fleet_log_line_get_seq(line);
	}
	self->selecting = line != NULL;
	gtk_widget_queue_draw(widget);
	return GDK_EVENT_STOP;
}

static gboolean
fleet_log_lines_motion_notify(GtkWidget *widget, GdkEventMotion *event)
{
	FleetLogLines *self = FLEET_LOG_LINES(widget);
	FleetLogLine *line;
	if (!self->selecting)
		return GDK_EVENT_PROPAGATE;
	line = fleet_log_lines_line_at(self, event->y);
	if (line != NULL && fleet_log_line_get_seq(line) != self->sel_cursor) {
		self->sel_cursor = fleet_log_line_get_seq(line);
		gtk_widget_queue_draw(widget);
	}
	return GDK_EVENT_STOP;
}

static gboolean
fleet_log_lines_button_release(GtkWidget *widget, GdkEventButton *event)
{
	FLEET_LOG_LINES(widget)->selecting = FALSE;
	return GDK_EVENT_PROPAGATE;
}

static void
fleet_log_lines_copy(FleetLogLines *self)
{
	g_autofree gchar *text = fleet_log_lines_get_text(self, TRUE);
	GtkClipboard *clipboard =
	    gtk_widget_get_clipboard(GTK_WIDGET(self), GDK_SELECTION_CLIPBOARD);
	gtk_clipboard_set_text(clipboard, text, -1);
}

static gboolean
fleet_log_lines_key_press(GtkWidget *widget, GdkEventKey *event)
{
	FleetLogLines *self = FLEET_LOG_LINES(widget);
	GtkAdjustment *adj = self->vadjustment;
	gdouble value;
	gboolean ctrl = (event->state & GDK_CONTROL_MASK) != 0;
	guint n;

	if (adj == NULL)
		return GDK_EVENT_PROPAGATE;
	value = gtk_adjustment_get_value(adj);
	switch (event->keyval) {
	case GDK_KEY_Up:
	case GDK_KEY_KP_Up:
		gtk_adjustment_set_value(adj, value - self->line_height);
		return GDK_EVENT_STOP;
	case GDK_KEY_Down:
	case GDK_KEY_KP_Down:
		gtk_adjustment_set_value(adj, value + self->line_height);
		return GDK_EVENT_STOP;
	case GDK_KEY_Page_Up:
	case GDK_KEY_KP_Page_Up:
		gtk_adjustment_set_value(adj, value - gtk_adjustment_get_page_increment(adj));
		return GDK_EVENT_STOP;
	case GDK_KEY_Page_Down:
	case GDK_KEY_KP_Page_Down:
		gtk_adjustment_set_value(adj, value + gtk_adjustment_get_page_increment(adj));
		return GDK_EVENT_STOP;
	case GDK_KEY_Home:
	case GDK_KEY_KP_Home:
		gtk_adjustment_set_value(adj, 0.0);
		return GDK_EVENT_STOP;
	case GDK_KEY_End:
	case GDK_KEY_KP_End:
		fleet_log_lines_scroll_to_end(self);
		return GDK_EVENT_STOP;
	case GDK_KEY_c:
	case GDK_KEY_C:
		if (!ctrl)
			break;
		fleet_log_lines_copy(self);
		return GDK_EVENT_STOP;
	case GDK_KEY_a:
	case GDK_KEY_A:
		n = fleet_log_buffer_get_n_lines(self->ring);
		if (!ctrl || n == 0)
			break;
		self->sel_anchor = fleet_log_line_get_seq(fleet_log_buffer_get_line(self->ring, 0));
		self->sel_cursor =
		    fleet_log_line_get_seq(fleet_log_buffer_get_line(self->ring, n - 1));
		gtk_widget_queue_draw(widget);
		return GDK_EVENT_STOP;
	case GDK_KEY_Escape:
		self->sel_anchor = self->sel_cursor = 0;
		gtk_widget_queue_draw(widget);
		return GDK_EVENT_STOP;
	default:
		break;
	}
	return GTK_WIDGET_CLASS(fleet_log_lines_parent_class)->key_press_event(widget, event);
}

static void
fleet_log_lines_get_preferred_height(GtkWidget *widget, gint *minimum, gint *natural)
{
	FleetLogLines *self = FLEET_LOG_LINES(widget);
	*minimum = 2 * self->line_height;
	*natural = 12 * self->line_height;
}

static void
fleet_log_lines_get_preferred_width(GtkWidget *widget, gint *minimum, gint *natural)
{
	FleetLogLines *self = FLEET_LOG_LINES(widget);
	*minimum = 20 * self->char_width;
	*natural = 100 * self->char_width;
}

/* ---- GObject ---- */

static void
fleet_log_lines_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	FleetLogLines *self = FLEET_LOG_LINES(object);
	switch (prop_id) {
	case PROP_FOLLOW:
		g_value_set_boolean(value, self->follow);
		break;
	case PROP_HADJUSTMENT:
		g_value_set_object(value, self->hadjustment);
		break;
	case PROP_VADJUSTMENT:
		g_value_set_object(value, self->vadjustment);
		break;
	case PROP_HSCROLL_POLICY:
		g_value_set_enum(value, (gint)self->hscroll_policy);
		break;
	case PROP_VSCROLL_POLICY:
		g_value_set_enum(value, (gint)self->vscroll_policy);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
fleet_log_lines_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
	FleetLogLines *self = FLEET_LOG_LINES(object);
	switch (prop_id) {
	case PROP_HADJUSTMENT:
		fleet_log_lines_set_adjustment(self, &self->hadjustment, g_value_get_object(value));
		break;
	case PROP_VADJUSTMENT:
		fleet_log_lines_set_adjustment(self, &self->vadjustment, g_value_get_object(value));
		break;
	case PROP_HSCROLL_POLICY:
		self->hscroll_policy = (guint)g_value_get_enum(value);
		break;
	case PROP_VSCROLL_POLICY:
		self->vscroll_policy = (guint)g_value_get_enum(value);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
fleet_log_lines_dispose(GObject *object)
{
	FleetLogLines *self = FLEET_LOG_LINES(object);
	if (self->hadjustment != NULL)
		g_signal_handlers_disconnect_by_data(self->hadjustment, self);
	if (self->vadjustment != NULL)
		g_signal_handlers_disconnect_by_data(self->vadjustment, self);
	g_clear_object(&self->hadjustment);
	g_clear_object(&self->vadjustment);
	g_clear_object(&self->layout);
	if (self->name_destroy != NULL)
		self->name_destroy(self->name_data);
	self->name_destroy = NULL;
	self->name_func = NULL;
	G_OBJECT_CLASS(fleet_log_lines_parent_class)->dispose(object);
}

static void
fleet_log_lines_finalize(GObject *object)
{
	FleetLogLines *self = FLEET_LOG_LINES(object);
	g_object_unref(self->ring);
	g_hash_table_unref(self->names);
	g_hash_table_unref(self->device_colors);
	G_OBJECT_CLASS(fleet_log_lines_parent_class)->finalize(object);
}

static void
fleet_log_lines_class_init(FleetLogLinesClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	object_class->get_property = fleet_log_lines_get_property;
	object_class->set_property = fleet_log_lines_set_property;
	object_class->dispose = fleet_log_lines_dispose;
	object_class->finalize = fleet_log_lines_finalize;
	widget_class->draw = fleet_log_lines_draw;
	widget_class->style_updated = fleet_log_lines_style_updated;
	widget_class->size_allocate = fleet_log_lines_size_allocate;
	widget_class->button_press_event = fleet_log_lines_button_press;
	widget_class->button_release_event = fleet_log_lines_button_release;
	widget_class->motion_notify_event = fleet_log_lines_motion_notify;
	widget_class->key_press_event = fleet_log_lines_key_press;
	widget_class->get_preferred_height = fleet_log_lines_get_preferred_height;
	widget_class->get_preferred_width = fleet_log_lines_get_preferred_width;

	prop_follow = g_param_spec_boolean("follow", NULL, NULL, TRUE,
					   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	g_object_class_install_property(object_class, PROP_FOLLOW, prop_follow);
	g_object_class_override_property(object_class, PROP_HADJUSTMENT, "hadjustment");
	g_object_class_override_property(object_class, PROP_VADJUSTMENT, "vadjustment");
	g_object_class_override_property(object_class, PROP_HSCROLL_POLICY, "hscroll-policy");
	g_object_class_override_property(object_class, PROP_VSCROLL_POLICY, "vscroll-policy");
	gtk_widget_class_set_css_name(widget_class, "fleet-log-lines");
	gtk_widget_class_set_accessible_role(widget_class, ATK_ROLE_TEXT);
}

static void
fleet_log_lines_init(FleetLogLines *self)
{
	self->ring = fleet_log_buffer_new("view", FLEET_LOG_BUFFER_CAPACITY_DEFAULT);
	self->names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	self->device_colors = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	self->colors = TRUE;
	self->follow = TRUE;
	self->line_height = 16;
	self->char_width = 8;
	self->time_second = G_MININT64;
	gtk_widget_set_can_focus(GTK_WIDGET(self), TRUE);
	gtk_widget_add_events(GTK_WIDGET(self), GDK_BUTTON_PRESS_MASK | GDK_BUTTON_RELEASE_MASK |
						    GDK_BUTTON1_MOTION_MASK | GDK_KEY_PRESS_MASK);
	/* the theme's background of text views */
	gtk_style_context_add_class(gtk_widget_get_style_context(GTK_WIDGET(self)),
				    GTK_STYLE_CLASS_VIEW);
	fleet_log_lines_update_font(self);
}

GtkWidget *
fleet_log_lines_new(void)
{
	return g_object_new(FLEET_TYPE_LOG_LINES, NULL);
}
