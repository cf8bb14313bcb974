/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-window.c - the main window: header bar, empty state, image report */

#include "config.h"

#include "fleet-window.h"

#include <glib/gi18n.h>
#include <string.h>

#include "fleet-image-report.h"

/*
 * Layout: below the header bar an error bar, then one GtkStack with the empty state
 * ("empty") and the report of the chosen image ("report"). When the device list arrives it
 * takes the main area: the window content becomes a GtkPaned with the list as its main
 * child and this stack as the side pane. FleetImageReport is self-contained (it only needs
 * fleet_image_report_set_image()), so the report moves without changes, and everything
 * image-related here goes through fleet_window_show_image().
 */

struct _FleetWindow {
	GtkApplicationWindow parent_instance;

	GSettings *settings;
	gint width;
	gint height;
	gboolean maximized;

	GtkHeaderBar *header_bar;
	GtkMenuButton *recent_button;
	GtkPopover *recent_popover;
	GtkListBox *recent_list;
	GtkSpinner *spinner;
	GtkInfoBar *info_bar;
	GtkLabel *info_title;
	GtkLabel *info_message;
	GtkStack *stack;
	GtkScrolledWindow *report_scroll;
	FleetImageReport *report;
};

G_DEFINE_TYPE(FleetWindow, fleet_window, GTK_TYPE_APPLICATION_WINDOW)

/* a recent entry is a path or a URI: show its name and where it lives */
static GtkWidget *
fleet_window_recent_row_new(const gchar *entry)
{
	g_autoptr(GFile) file = g_file_new_for_commandline_arg(entry);
	g_autoptr(GFile) parent = g_file_get_parent(file);
	g_autofree gchar *basename = g_file_get_basename(file);
	g_autofree gchar *name = g_filename_display_name(basename != NULL ? basename : entry);
	g_autofree gchar *folder = parent != NULL ? g_file_get_parse_name(parent) : g_strdup("");
	const gchar *home = g_get_home_dir();
	GtkWidget *row = gtk_list_box_row_new();
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
	GtkWidget *name_label = gtk_label_new(name);
	GtkWidget *folder_label;

	/* "~/project/build" reads better than "/home/someone/project/build" */
	if (g_str_has_prefix(folder, home) &&
	    (folder[strlen(home)] == '/' || folder[strlen(home)] == '\0')) {
		g_autofree gchar *short_folder = g_strconcat("~", folder + strlen(home), NULL);
		g_free(folder);
		folder = g_steal_pointer(&short_folder);
	}
	folder_label = gtk_label_new(folder);

	gtk_label_set_xalign(GTK_LABEL(name_label), 0);
	gtk_label_set_ellipsize(GTK_LABEL(name_label), PANGO_ELLIPSIZE_MIDDLE);
	gtk_label_set_max_width_chars(GTK_LABEL(name_label), 40);
	gtk_label_set_xalign(GTK_LABEL(folder_label), 0);
	gtk_label_set_ellipsize(GTK_LABEL(folder_label), PANGO_ELLIPSIZE_START);
	gtk_label_set_max_width_chars(GTK_LABEL(folder_label), 40);
	gtk_style_context_add_class(gtk_widget_get_style_context(folder_label), "dim-label");
	gtk_style_context_add_class(gtk_widget_get_style_context(folder_label), "fleet-caption");

	g_object_set(box, "margin-start", 10, "margin-end", 10, "margin-top", 6, "margin-bottom", 6,
		     NULL);
	gtk_container_add(GTK_CONTAINER(box), name_label);
	gtk_container_add(GTK_CONTAINER(box), folder_label);
	gtk_container_add(GTK_CONTAINER(row), box);
	gtk_widget_set_tooltip_text(row, entry);
	/* not an action target on the row: GtkListBox would then skip row-activated, and
	 * that is where the popover is closed */
	g_object_set_data_full(G_OBJECT(row), "fleet-recent-entry", g_strdup(entry), g_free);
	gtk_widget_show_all(row);
	return row;
}

static void
fleet_window_update_recent(FleetWindow *self)
{
	g_auto(GStrv) recent = g_settings_get_strv(self->settings, "recent-images");
	g_autoptr(GList) children = gtk_container_get_children(GTK_CONTAINER(self->recent_list));

	for (GList *l = children; l != NULL; l = l->next)
		gtk_widget_destroy(GTK_WIDGET(l->data));
	for (guint i = 0; recent[i] != NULL; i++)
		gtk_container_add(GTK_CONTAINER(self->recent_list),
				  fleet_window_recent_row_new(recent[i]));
	gtk_widget_set_sensitive(GTK_WIDGET(self->recent_button), recent[0] != NULL);
}

static void
fleet_window_recent_changed_cb(GSettings *settings, const gchar *key, gpointer user_data)
{
	fleet_window_update_recent(FLEET_WINDOW(user_data));
}

static void
fleet_window_recent_list_row_activated_cb(GtkListBox *list, GtkListBoxRow *row, gpointer user_data)
{
	FleetWindow *self = FLEET_WINDOW(user_data);
	const gchar *entry = g_object_get_data(G_OBJECT(row), "fleet-recent-entry");
	GtkApplication *application = gtk_window_get_application(GTK_WINDOW(self));

	gtk_popover_popdown(self->recent_popover);
	if (entry == NULL || application == NULL)
		return;
	g_action_group_activate_action(G_ACTION_GROUP(application), "open-image",
				       g_variant_new_string(entry));
}

static void
fleet_window_info_bar_response_cb(GtkInfoBar *info_bar, gint response, gpointer user_data)
{
	gtk_info_bar_set_revealed(info_bar, FALSE);
}

static void
fleet_window_load_state(FleetWindow *self)
{
	self->width = g_settings_get_int(self->settings, "window-width");
	self->height = g_settings_get_int(self->settings, "window-height");
	self->maximized = g_settings_get_boolean(self->settings, "window-maximized");
	gtk_window_set_default_size(GTK_WINDOW(self), self->width, self->height);
	if (self->maximized)
		gtk_window_maximize(GTK_WINDOW(self));
}

static void
fleet_window_save_state(FleetWindow *self)
{
	if (self->settings == NULL)
		return;
	g_settings_set_int(self->settings, "window-width", self->width);
	g_settings_set_int(self->settings, "window-height", self->height);
	g_settings_set_boolean(self->settings, "window-maximized", self->maximized);
}

static void
fleet_window_size_allocate(GtkWidget *widget, GtkAllocation *allocation)
{
	FleetWindow *self = FLEET_WINDOW(widget);
	GTK_WIDGET_CLASS(fleet_window_parent_class)->size_allocate(widget, allocation);
	/* a maximized size is not the size to come back to */
	if (!self->maximized)
		gtk_window_get_size(GTK_WINDOW(widget), &self->width, &self->height);
}

static gboolean
fleet_window_window_state_event(GtkWidget *widget, GdkEventWindowState *event)
{
	FleetWindow *self = FLEET_WINDOW(widget);
	self->maximized = (event->new_window_state & GDK_WINDOW_STATE_MAXIMIZED) != 0;
	return GTK_WIDGET_CLASS(fleet_window_parent_class)->window_state_event(widget, event);
}

static void
fleet_window_unrealize(GtkWidget *widget)
{
	/* unrealize runs once as the window goes, however it is closed or the app quits */
	fleet_window_save_state(FLEET_WINDOW(widget));
	GTK_WIDGET_CLASS(fleet_window_parent_class)->unrealize(widget);
}

static void
fleet_window_drag_data_received(GtkWidget *widget,
				GdkDragContext *context,
				gint x,
				gint y,
				GtkSelectionData *selection,
				guint info,
				guint time)
{
	g_auto(GStrv) uris = gtk_selection_data_get_uris(selection);
	GtkApplication *application = gtk_window_get_application(GTK_WINDOW(widget));

	/* GTK_DEST_DEFAULT_DROP finishes the drag; the window shows one image, the first */
	if (uris == NULL || uris[0] == NULL || application == NULL)
		return;
	g_action_group_activate_action(G_ACTION_GROUP(application), "open-image",
				       g_variant_new_string(uris[0]));
}

static void
fleet_window_dispose(GObject *object)
{
	FleetWindow *self = FLEET_WINDOW(object);
	g_clear_object(&self->settings);
	G_OBJECT_CLASS(fleet_window_parent_class)->dispose(object);
}

static void
fleet_window_class_init(FleetWindowClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	object_class->dispose = fleet_window_dispose;
	widget_class->size_allocate = fleet_window_size_allocate;
	widget_class->window_state_event = fleet_window_window_state_event;
	widget_class->unrealize = fleet_window_unrealize;
	widget_class->drag_data_received = fleet_window_drag_data_received;

	g_type_ensure(FLEET_TYPE_IMAGE_REPORT);
	gtk_widget_class_set_template_from_resource(widget_class,
						    "/io/github/espfleet/EspFleet/fleet-window.ui");
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, header_bar);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, recent_button);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, recent_popover);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, recent_list);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, spinner);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, info_bar);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, info_title);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, info_message);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, stack);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, report_scroll);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, report);
	gtk_widget_class_bind_template_callback(widget_class,
						fleet_window_recent_list_row_activated_cb);
	gtk_widget_class_bind_template_callback(widget_class, fleet_window_info_bar_response_cb);
}

static void
fleet_window_init(FleetWindow *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));

	/* a file dropped anywhere on the window is opened */
	gtk_drag_dest_set(GTK_WIDGET(self), GTK_DEST_DEFAULT_ALL, NULL, 0, GDK_ACTION_COPY);
	gtk_drag_dest_add_uri_targets(GTK_WIDGET(self));
}

void
fleet_window_set_loading(FleetWindow *self, gboolean loading)
{
	g_return_if_fail(FLEET_IS_WINDOW(self));
	gtk_widget_set_visible(GTK_WIDGET(self->spinner), loading);
	g_object_set(self->spinner, "active", loading, NULL);
}

void
fleet_window_show_image(FleetWindow *self, FleetImage *image, GFile *file)
{
	g_autofree gchar *basename = NULL;
	g_autofree gchar *name = NULL;
	GtkAdjustment *vadjustment;

	g_return_if_fail(FLEET_IS_WINDOW(self));
	g_return_if_fail(FLEET_IS_IMAGE(image));
	g_return_if_fail(G_IS_FILE(file));

	basename = g_file_get_basename(file);
	name = g_filename_display_name(basename != NULL ? basename : "");
	gtk_header_bar_set_subtitle(self->header_bar, name);
	gtk_info_bar_set_revealed(self->info_bar, FALSE);

	fleet_image_report_set_image(self->report, image, file);
	vadjustment = gtk_scrolled_window_get_vadjustment(self->report_scroll);
	gtk_adjustment_set_value(vadjustment, gtk_adjustment_get_lower(vadjustment));
	gtk_stack_set_visible_child_name(self->stack, "report");
	/* otherwise GTK focuses a selectable label of the new report, which selects its text */
	gtk_window_set_focus(GTK_WINDOW(self), NULL);
}

void
fleet_window_show_error(FleetWindow *self, const gchar *title, const gchar *message)
{
	g_return_if_fail(FLEET_IS_WINDOW(self));
	g_return_if_fail(title != NULL);
	g_return_if_fail(message != NULL);
	/* plain text: the message can quote a file name */
	gtk_label_set_text(self->info_title, title);
	gtk_label_set_text(self->info_message, message);
	gtk_info_bar_set_revealed(self->info_bar, TRUE);
}

FleetWindow *
fleet_window_new(FleetApplication *application)
{
	FleetWindow *self;

	g_return_val_if_fail(FLEET_IS_APPLICATION(application), NULL);
	self = g_object_new(FLEET_TYPE_WINDOW, "application", application, NULL);
	self->settings = g_object_ref(fleet_application_get_settings(application));
	fleet_window_load_state(self);
	g_signal_connect_object(self->settings, "changed::recent-images",
				G_CALLBACK(fleet_window_recent_changed_cb), self, 0);
	fleet_window_update_recent(self);
	return self;
}
