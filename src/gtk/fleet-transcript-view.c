/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-transcript-view.c - the bottom pane: lines of text about one device (its update
 * transcript now; the live log viewer builds on the same pane), following new lines
 *
 * Lines are plain text from the engine (device-provided parts included): they are inserted
 * into a GtkTextBuffer as text, never parsed as markup, and made valid UTF-8 first.
 */

#include "config.h"

#include "fleet-transcript-view.h"

#include <glib/gi18n.h>

struct _FleetTranscriptView {
	GtkBox parent_instance;

	guint n_lines;
	GtkTextMark *end_mark;
	guint scroll_id;

	GtkLabel *source_label;
	GtkButton *copy_button;
	GtkStack *stack;
	GtkLabel *placeholder_label;
	GtkScrolledWindow *scroll;
	GtkTextView *text_view;
};

G_DEFINE_TYPE(FleetTranscriptView, fleet_transcript_view, GTK_TYPE_BOX)

static GtkTextBuffer *
fleet_transcript_view_buffer(FleetTranscriptView *self)
{
	return gtk_text_view_get_buffer(self->text_view);
}

/* the last line is (at least partly) in view: the reader follows the end. Measured on the
 * text, not on the adjustment, which the view itself moves while it lays lines out */
static gboolean
fleet_transcript_view_at_end(FleetTranscriptView *self)
{
	GdkRectangle visible;
	GtkTextIter end;
	gint y = 0;
	gint height = 0;

	if (!gtk_widget_get_realized(GTK_WIDGET(self->text_view)))
		return TRUE;
	gtk_text_view_get_visible_rect(self->text_view, &visible);
	gtk_text_buffer_get_end_iter(fleet_transcript_view_buffer(self), &end);
	gtk_text_view_get_line_yrange(self->text_view, &end, &y, &height);
	return y <= visible.y + visible.height;
}

static void
fleet_transcript_view_insert(FleetTranscriptView *self, GPtrArray *lines, guint from)
{
	GtkTextBuffer *buffer = fleet_transcript_view_buffer(self);
	g_autoptr(GString) text = g_string_new(NULL);
	GtkTextIter end;

	for (guint i = from; lines != NULL && i < lines->len; i++) {
		const gchar *line = g_ptr_array_index(lines, i);
		g_autofree gchar *valid = g_utf8_make_valid(line != NULL ? line : "", -1);
		if (self->n_lines > 0 || text->len > 0)
			g_string_append_c(text, '\n');
		g_string_append(text, valid);
		self->n_lines++;
	}
	if (text->len == 0)
		return;
	gtk_text_buffer_get_end_iter(buffer, &end);
	gtk_text_buffer_insert(buffer, &end, text->str, (gint)text->len);
}

static gboolean
fleet_transcript_view_scroll_cb(gpointer user_data)
{
	FleetTranscriptView *self = FLEET_TRANSCRIPT_VIEW(user_data);
	self->scroll_id = 0;
	gtk_text_view_scroll_to_mark(self->text_view, self->end_mark, 0.0, TRUE, 0.0, 1.0);
	return G_SOURCE_REMOVE;
}

static void
fleet_transcript_view_scroll_to_end(FleetTranscriptView *self)
{
	GtkTextBuffer *buffer = fleet_transcript_view_buffer(self);
	GtkTextIter end;
	gtk_text_buffer_get_end_iter(buffer, &end);
	/* the start of the last line: scrolling to it never scrolls sideways */
	gtk_text_iter_set_line_offset(&end, 0);
	gtk_text_buffer_move_mark(buffer, self->end_mark, &end);
	/* new text is measured in idles: scroll once its lines have heights */
	if (self->scroll_id == 0)
		self->scroll_id =
		    g_idle_add_full(G_PRIORITY_LOW, fleet_transcript_view_scroll_cb, self, NULL);
}

void
fleet_transcript_view_set_source(FleetTranscriptView *self, const gchar *source)
{
	g_return_if_fail(FLEET_IS_TRANSCRIPT_VIEW(self));
	gtk_label_set_text(self->source_label, source != NULL ? source : "");
}

void
fleet_transcript_view_show_placeholder(FleetTranscriptView *self, const gchar *text)
{
	g_return_if_fail(FLEET_IS_TRANSCRIPT_VIEW(self));
	gtk_text_buffer_set_text(fleet_transcript_view_buffer(self), "", 0);
	self->n_lines = 0;
	gtk_label_set_text(self->placeholder_label, text != NULL ? text : "");
	gtk_stack_set_visible_child_name(self->stack, "placeholder");
	gtk_widget_set_sensitive(GTK_WIDGET(self->copy_button), FALSE);
}

void
fleet_transcript_view_set_lines(FleetTranscriptView *self, GPtrArray *lines)
{
	g_return_if_fail(FLEET_IS_TRANSCRIPT_VIEW(self));
	gtk_text_buffer_set_text(fleet_transcript_view_buffer(self), "", 0);
	self->n_lines = 0;
	fleet_transcript_view_insert(self, lines, 0);
	gtk_stack_set_visible_child_name(self->stack, "text");
	gtk_widget_set_sensitive(GTK_WIDGET(self->copy_button), self->n_lines > 0);
	fleet_transcript_view_scroll_to_end(self);
}

void
fleet_transcript_view_append_lines(FleetTranscriptView *self, GPtrArray *lines, guint from)
{
	gboolean follow;

	g_return_if_fail(FLEET_IS_TRANSCRIPT_VIEW(self));
	if (lines == NULL || from >= lines->len)
		return;
	/* a reader who scrolled up stays where they are; one at the end follows new lines
	 * (a scroll to the end still pending counts as being there) */
	follow = self->scroll_id != 0 || fleet_transcript_view_at_end(self);
	fleet_transcript_view_insert(self, lines, from);
	gtk_stack_set_visible_child_name(self->stack, "text");
	gtk_widget_set_sensitive(GTK_WIDGET(self->copy_button), TRUE);
	if (follow)
		fleet_transcript_view_scroll_to_end(self);
}

guint
fleet_transcript_view_get_n_lines(FleetTranscriptView *self)
{
	g_return_val_if_fail(FLEET_IS_TRANSCRIPT_VIEW(self), 0);
	return self->n_lines;
}

gchar *
fleet_transcript_view_get_text(FleetTranscriptView *self)
{
	GtkTextBuffer *buffer;
	GtkTextIter start;
	GtkTextIter end;

	g_return_val_if_fail(FLEET_IS_TRANSCRIPT_VIEW(self), NULL);
	buffer = fleet_transcript_view_buffer(self);
	gtk_text_buffer_get_bounds(buffer, &start, &end);
	return gtk_text_buffer_get_text(buffer, &start, &end, FALSE);
}

static void
fleet_transcript_view_copy_button_clicked_cb(GtkButton *button, gpointer user_data)
{
	FleetTranscriptView *self = FLEET_TRANSCRIPT_VIEW(user_data);
	g_autofree gchar *text = fleet_transcript_view_get_text(self);
	GtkClipboard *clipboard =
	    gtk_widget_get_clipboard(GTK_WIDGET(self), GDK_SELECTION_CLIPBOARD);
	gtk_clipboard_set_text(clipboard, text, -1);
}

static void
fleet_transcript_view_dispose(GObject *object)
{
	FleetTranscriptView *self = FLEET_TRANSCRIPT_VIEW(object);
	g_clear_handle_id(&self->scroll_id, g_source_remove);
	G_OBJECT_CLASS(fleet_transcript_view_parent_class)->dispose(object);
}

static void
fleet_transcript_view_class_init(FleetTranscriptViewClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	object_class->dispose = fleet_transcript_view_dispose;

	gtk_widget_class_set_template_from_resource(
	    widget_class, "/io/github/espfleet/EspFleet/fleet-transcript-view.ui");
	gtk_widget_class_bind_template_child(widget_class, FleetTranscriptView, source_label);
	gtk_widget_class_bind_template_child(widget_class, FleetTranscriptView, copy_button);
	gtk_widget_class_bind_template_child(widget_class, FleetTranscriptView, stack);
	gtk_widget_class_bind_template_child(widget_class, FleetTranscriptView, placeholder_label);
	gtk_widget_class_bind_template_child(widget_class, FleetTranscriptView, scroll);
	gtk_widget_class_bind_template_child(widget_class, FleetTranscriptView, text_view);
	gtk_widget_class_bind_template_callback(widget_class,
						fleet_transcript_view_copy_button_clicked_cb);
}

static void
fleet_transcript_view_init(FleetTranscriptView *self)
{
	GtkTextIter end;

	gtk_widget_init_template(GTK_WIDGET(self));
	gtk_text_buffer_get_end_iter(fleet_transcript_view_buffer(self), &end);
	self->end_mark =
	    gtk_text_buffer_create_mark(fleet_transcript_view_buffer(self), NULL, &end, FALSE);
	fleet_transcript_view_show_placeholder(
	    self, _("Select a device to see the transcript of its update"));
}

GtkWidget *
fleet_transcript_view_new(void)
{
	return g_object_new(FLEET_TYPE_TRANSCRIPT_VIEW, NULL);
}
