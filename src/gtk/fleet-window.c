/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-window.c - the main window: header bar, filters, device list, transcript, batch bar */

#include "config.h"

#include "fleet-window.h"

#include <glib/gi18n.h>
#include <string.h>

#include "fleet-device-row.h"
#include "fleet-device-store.h"
#include "fleet-image-report.h"
#include "fleet-log-view.h"
#include "fleet-transcript-view.h"

/*
 * The window shows; FleetApplication decides. Buttons and menus are bound to app.* actions,
 * the rows talk to their FleetDeviceItem, and what only concerns the view (filters, the
 * search, which row's transcript is shown, the row menu) lives here.
 *
 * Layout: header bar (image, report toggle, search, "Update N Devices", menu), search bar,
 * error / notice / end-of-batch bars, the filter bar, then a horizontal box: a vertical
 * GtkPaned with the device list above the transcript pane, and the image report sliding in
 * on the right; the batch bar at the bottom.
 */

/* how often the transcript pane looks for new lines while its device updates */
#define FLEET_WINDOW_TRANSCRIPT_POLL_MS 500

struct _FleetWindow {
	GtkApplicationWindow parent_instance;

	GSettings *settings;
	FleetDeviceStore *store;
	gint width;
	gint height;
	gboolean maximized;

	/* filters */
	gchar *needle;	    /* casefolded search text */
	gint result_filter; /* a FleetJobPhase, or -1 */

	/* the transcript pane follows the selected row */
	FleetDeviceItem *shown_item;
	FleetJob *shown_job;
	guint shown_count;
	gconstpointer shown_last;
	guint transcript_id;
	guint transcript_poll_id;

	/* the row whose menu is open */
	FleetDeviceItem *menu_item;
	GtkPopover *row_popover;
	GtkGesture *list_gesture;

	GtkHeaderBar *header_bar;
	GtkLabel *image_name_label;
	GtkLabel *image_detail_label;
	GtkMenuButton *recent_button;
	GtkPopover *recent_popover;
	GtkListBox *recent_list;
	GtkImage *report_icon;
	GtkSpinner *spinner;
	GtkButton *update_button;
	GtkToggleButton *search_button;
	GtkSearchBar *search_bar;
	GtkSearchEntry *search_entry;
	GtkInfoBar *info_bar;
	GtkLabel *info_title;
	GtkLabel *info_message;
	GtkInfoBar *notice_bar;
	GtkLabel *notice_label;
	GtkInfoBar *summary_bar;
	GtkImage *summary_icon;
	GtkBox *summary_box;
	GtkBox *filter_bar;
	GtkToggleButton *online_filter;
	GtkToggleButton *outdated_filter;
	GtkToggleButton *compatible_filter;
	GtkButton *result_filter_button;
	GtkLabel *result_filter_label;
	GtkLabel *count_label;
	GtkPaned *paned;
	GtkStack *list_stack;
	GtkListBox *list_box;
	GtkLabel *empty_title;
	GtkLabel *empty_problem;
	GtkLabel *empty_hints;
	FleetTranscriptView *transcript;
	GtkNotebook *bottom_notebook;
	GtkWidget *log_view;
	GtkRevealer *report_revealer;
	GtkScrolledWindow *report_scroll;
	FleetImageReport *report;
	FleetBatchBar *batch_bar;
	GMenuModel *row_menu;
};

G_DEFINE_TYPE(FleetWindow, fleet_window, GTK_TYPE_APPLICATION_WINDOW)

static void
fleet_window_activate_app_action(FleetWindow *self, const gchar *name, GVariant *parameter)
{
	GtkApplication *application = gtk_window_get_application(GTK_WINDOW(self));
	if (application != NULL)
		g_action_group_activate_action(G_ACTION_GROUP(application), name, parameter);
	else if (parameter != NULL)
		g_variant_unref(g_variant_ref_sink(parameter));
}

/* ---------------------------------------------------------------------------------------
 * recent images */

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

	gtk_popover_popdown(self->recent_popover);
	if (entry != NULL)
		fleet_window_activate_app_action(self, "open-image", g_variant_new_string(entry));
}

/* the bars appear and go at once: a sliding bar would lay the whole list out again on
 * every frame of the animation, with hundreds of rows that is felt */
static void
fleet_window_info_bar_response_cb(GtkInfoBar *info_bar, gint response, gpointer user_data)
{
	gtk_widget_set_visible(GTK_WIDGET(info_bar), FALSE);
}

/* ---------------------------------------------------------------------------------------
 * filters and counts */

static gboolean
fleet_window_item_visible(FleetWindow *self, FleetDeviceItem *item)
{
	FleetDevice *device = fleet_device_item_get_device(item);

	if (!fleet_device_item_matches(item, self->needle))
		return FALSE;
	if (gtk_toggle_button_get_active(self->online_filter) && !fleet_device_get_online(device))
		return FALSE;
	if (gtk_toggle_button_get_active(self->outdated_filter) &&
	    !fleet_device_item_is_outdated(item))
		return FALSE;
	if (gtk_toggle_button_get_active(self->compatible_filter) &&
	    fleet_device_item_has_verdict(item) &&
	    fleet_device_item_get_verdict(item) == FLEET_COMPAT_REFUSE)
		return FALSE;
	if (self->result_filter >= 0) {
		FleetJob *job = fleet_device_item_get_job(item);
		if (job == NULL || (gint)fleet_job_get_phase(job) != self->result_filter)
			return FALSE;
	}
	return TRUE;
}

static gboolean
fleet_window_filtering(FleetWindow *self)
{
	return (self->needle != NULL && self->needle[0] != '\0') ||
	       gtk_toggle_button_get_active(self->online_filter) ||
	       gtk_toggle_button_get_active(self->outdated_filter) ||
	       gtk_toggle_button_get_active(self->compatible_filter) || self->result_filter >= 0;
}

static gboolean
fleet_window_list_filter_cb(GtkListBoxRow *row, gpointer user_data)
{
	FleetWindow *self = FLEET_WINDOW(user_data);
	return fleet_window_item_visible(self, fleet_device_row_get_item(FLEET_DEVICE_ROW(row)));
}

static void
fleet_window_update_counts(FleetWindow *self)
{
	GListModel *model = G_LIST_MODEL(self->store);
	guint n = g_list_model_get_n_items(model);
	guint shown = 0;
	guint checked = 0;
	g_autofree gchar *subtitle = NULL;
	g_autofree gchar *count = NULL;
	g_autofree gchar *update = NULL;

	for (guint i = 0; i < n; i++) {
		g_autoptr(FleetDeviceItem) item = g_list_model_get_item(model, i);
		if (fleet_window_item_visible(self, item))
			shown++;
		if (fleet_device_item_get_checked(item))
			checked++;
	}

	/* with no device at all the empty state stands alone */
	gtk_widget_set_visible(GTK_WIDGET(self->filter_bar), n > 0);
	gtk_widget_set_visible(GTK_WIDGET(self->bottom_notebook), n > 0);
	gtk_widget_set_visible(GTK_WIDGET(self->batch_bar), n > 0);
	if (n == 0)
		gtk_stack_set_visible_child_name(self->list_stack, "empty");
	else if (shown == 0)
		gtk_stack_set_visible_child_name(self->list_stack, "no-match");
	else
		gtk_stack_set_visible_child_name(self->list_stack, "list");

	/* TRANSLATORS: header bar subtitle, e.g. "40 devices" */
	subtitle = g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%u device", "%u devices", n), n);
	gtk_header_bar_set_subtitle(self->header_bar, n > 0 ? subtitle : NULL);

	if (shown != n)
		/* TRANSLATORS: above the list while it is filtered: "12 of 40 shown, 3 selected" */
		count = g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%u of %u shown, %u selected",
						    "%u of %u shown, %u selected", n),
					shown, n, checked);
	else
		count = g_strdup_printf(
		    /* TRANSLATORS: above the list: "40 devices, 3 selected" */
		    g_dngettext(GETTEXT_PACKAGE, "%u device, %u selected",
				"%u devices, %u selected", n),
		    n, checked);
	if (g_strcmp0(gtk_label_get_text(self->count_label), count) != 0)
		gtk_label_set_text(self->count_label, count);

	if (checked > 0)
		/* TRANSLATORS: the header bar's main button */
		update = g_strdup_printf(
		    g_dngettext(GETTEXT_PACKAGE, "Update %u Device", "Update %u Devices", checked),
		    checked);
	if (g_strcmp0(gtk_button_get_label(self->update_button),
		      update != NULL ? update : _("Update")) != 0)
		gtk_button_set_label(self->update_button, update != NULL ? update : _("Update"));
}

static void
fleet_window_refilter(FleetWindow *self)
{
	GtkApplication *application = gtk_window_get_application(GTK_WINDOW(self));
	gtk_list_box_invalidate_filter(self->list_box);
	fleet_window_update_counts(self);
	if (application != NULL)
		fleet_application_update_state(FLEET_APPLICATION(application));
}

static void
fleet_window_filter_toggled_cb(GtkToggleButton *button, gpointer user_data)
{
	fleet_window_refilter(FLEET_WINDOW(user_data));
}

static void
fleet_window_search_entry_search_changed_cb(GtkSearchEntry *entry, gpointer user_data)
{
	FleetWindow *self = FLEET_WINDOW(user_data);
	g_autofree gchar *text = g_strstrip(g_strdup(gtk_entry_get_text(GTK_ENTRY(entry))));
	g_free(self->needle);
	self->needle = g_utf8_casefold(text, -1);
	fleet_window_refilter(self);
}

static void
fleet_window_search_entry_stop_search_cb(GtkSearchEntry *entry, gpointer user_data)
{
	FleetWindow *self = FLEET_WINDOW(user_data);
	/* Escape: the search ends and every device shows again */
	gtk_entry_set_text(GTK_ENTRY(entry), "");
	gtk_search_bar_set_search_mode(self->search_bar, FALSE);
}

static void
fleet_window_set_result_filter(FleetWindow *self, gint phase)
{
	self->result_filter = phase;
	gtk_widget_set_visible(GTK_WIDGET(self->result_filter_button), phase >= 0);
	if (phase >= 0) {
		/* TRANSLATORS: a removable filter chip, e.g. "Only: Failed" */
		g_autofree gchar *text =
		    g_strdup_printf(_("Only: %s"), fleet_job_phase_to_string((FleetJobPhase)phase));
		gtk_label_set_text(self->result_filter_label, text);
	}
	fleet_window_refilter(self);
}

/* the end-of-batch summary's buttons: only the devices with this result ("" for all) */
static void
fleet_window_filter_result_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	FleetWindow *self = FLEET_WINDOW(user_data);
	const gchar *id = g_variant_get_string(parameter, NULL);
	gint phase = -1;

	for (gint p = FLEET_JOB_PHASE_QUEUED; p <= FLEET_JOB_PHASE_CANCELLED; p++) {
		if (g_strcmp0(fleet_job_phase_to_id((FleetJobPhase)p), id) == 0)
			phase = p;
	}
	fleet_window_set_result_filter(self, phase);
}

static void
fleet_window_result_filter_button_clicked_cb(GtkButton *button, gpointer user_data)
{
	fleet_window_set_result_filter(FLEET_WINDOW(user_data), -1);
}

/* ---------------------------------------------------------------------------------------
 * the transcript pane */

static void
fleet_window_sync_transcript(FleetWindow *self)
{
	FleetDeviceItem *item = self->shown_item;
	FleetJob *job = item != NULL ? fleet_device_item_get_job(item) : NULL;
	GPtrArray *lines;

	if (item == NULL) {
		self->shown_job = NULL;
		fleet_transcript_view_set_source(self->transcript, NULL);
		fleet_transcript_view_show_placeholder(
		    self->transcript, _("Select a device to see the transcript of its update"));
		return;
	}
	fleet_transcript_view_set_source(self->transcript,
					 fleet_device_item_get_display_name(item));
	if (job == NULL) {
		self->shown_job = NULL;
		fleet_transcript_view_show_placeholder(self->transcript,
						       _("This device was not updated yet"));
		return;
	}
	lines = fleet_job_get_transcript(job);
	/* the engine keeps a bounded ring: when its first lines went, start over */
	if (job != self->shown_job || lines->len < self->shown_count ||
	    (self->shown_count > 0 &&
	     g_ptr_array_index(lines, self->shown_count - 1) != self->shown_last)) {
		self->shown_job = job;
		fleet_transcript_view_set_lines(self->transcript, lines);
	} else if (lines->len > self->shown_count) {
		fleet_transcript_view_append_lines(self->transcript, lines, self->shown_count);
	}
	self->shown_count = lines->len;
	self->shown_last = lines->len > 0 ? g_ptr_array_index(lines, lines->len - 1) : NULL;
}

static gboolean
fleet_window_transcript_cb(gpointer user_data)
{
	FleetWindow *self = FLEET_WINDOW(user_data);
	self->transcript_id = 0;
	fleet_window_sync_transcript(self);
	return G_SOURCE_REMOVE;
}

static void
fleet_window_queue_transcript(FleetWindow *self)
{
	if (self->transcript_id == 0)
		self->transcript_id = g_idle_add(fleet_window_transcript_cb, self);
}

static void
fleet_window_shown_item_changed_cb(FleetDeviceItem *item, gpointer user_data)
{
	fleet_window_queue_transcript(FLEET_WINDOW(user_data));
}

/* lines can arrive without any property change (the engine logs while waiting) */
static gboolean
fleet_window_transcript_poll_cb(gpointer user_data)
{
	FleetWindow *self = FLEET_WINDOW(user_data);
	if (self->shown_item != NULL && fleet_device_item_is_busy(self->shown_item))
		fleet_window_sync_transcript(self);
	return G_SOURCE_CONTINUE;
}

static void
fleet_window_show_item(FleetWindow *self, FleetDeviceItem *item)
{
	if (self->shown_item == item)
		return;
	if (self->shown_item != NULL)
		g_signal_handlers_disconnect_by_data(self->shown_item, self);
	g_set_object(&self->shown_item, item);
	self->shown_job = NULL;
	self->shown_count = 0;
	self->shown_last = NULL;
	if (item != NULL)
		g_signal_connect_object(item, "changed",
					G_CALLBACK(fleet_window_shown_item_changed_cb), self, 0);
	fleet_window_sync_transcript(self);
	/* the log pane follows the selected row */
	if (self->log_view != NULL) {
		const gchar *ids[] = {
		    item != NULL ? fleet_device_get_id(fleet_device_item_get_device(item)) : NULL,
		    NULL};
		fleet_log_view_set_selected_devices(FLEET_LOG_VIEW(self->log_view),
						    item != NULL ? ids : NULL);
	}
}

static void
fleet_window_list_box_row_selected_cb(GtkListBox *list, GtkListBoxRow *row, gpointer user_data)
{
	FleetWindow *self = FLEET_WINDOW(user_data);
	fleet_window_show_item(self, row != NULL ? fleet_device_row_get_item(FLEET_DEVICE_ROW(row))
						 : NULL);
}

/* Enter or a double click on a row ticks or unticks it */
static void
fleet_window_list_box_row_activated_cb(GtkListBox *list, GtkListBoxRow *row, gpointer user_data)
{
	FleetWindow *self = FLEET_WINDOW(user_data);
	FleetDeviceItem *item = fleet_device_row_get_item(FLEET_DEVICE_ROW(row));
	if (fleet_device_store_can_check(self->store, item))
		fleet_device_item_set_checked(item, !fleet_device_item_get_checked(item));
}

/* ---------------------------------------------------------------------------------------
 * rows and their menu */

static void
fleet_window_set_row_action_enabled(FleetWindow *self, const gchar *name, gboolean enabled)
{
	GAction *action = g_action_map_lookup_action(G_ACTION_MAP(self), name);
	g_simple_action_set_enabled(G_SIMPLE_ACTION(action), enabled);
}

static void
fleet_window_row_menu_requested_cb(FleetDeviceRow *row,
				   GtkWidget *relative_to,
				   gpointer rect,
				   gpointer user_data)
{
	FleetWindow *self = FLEET_WINDOW(user_data);
	FleetDeviceItem *item = fleet_device_row_get_item(row);
	FleetDevice *device = fleet_device_item_get_device(item);
	FleetImage *image = fleet_device_store_get_image(self->store);

	g_set_object(&self->menu_item, item);
	fleet_window_set_row_action_enabled(self, "row-update",
					    image != NULL && !fleet_image_has_errors(image) &&
						!fleet_device_item_is_busy(item) &&
						fleet_device_store_can_check(self->store, item));
	fleet_window_set_row_action_enabled(self, "row-copy-address",
					    fleet_device_get_address(device) != NULL ||
						fleet_device_get_hostname(device) != NULL);
	fleet_window_set_row_action_enabled(self, "row-open-web-page",
					    fleet_device_get_http_port(device) != 0);
	fleet_window_set_row_action_enabled(self, "row-forget-password",
					    fleet_device_item_get_password_state(item) ==
						FLEET_PASSWORD_STATE_REMEMBERED);
	fleet_window_set_row_action_enabled(self, "row-remove",
					    fleet_device_get_source(device) ==
						    FLEET_DEVICE_SOURCE_MANUAL &&
						!fleet_device_item_is_busy(item));

	if (self->row_popover == NULL) {
		self->row_popover =
		    GTK_POPOVER(gtk_popover_new_from_model(relative_to, self->row_menu));
		g_object_ref_sink(self->row_popover);
	}
	gtk_popover_set_relative_to(self->row_popover, relative_to);
	if (rect != NULL) {
		gtk_popover_set_pointing_to(self->row_popover, rect);
	} else {
		/* the menu button or the keyboard (Shift+F10): point at the whole widget */
		GdkRectangle all = {0, 0, gtk_widget_get_allocated_width(relative_to),
				    gtk_widget_get_allocated_height(relative_to)};
		gtk_popover_set_pointing_to(self->row_popover, &all);
	}
	gtk_popover_popup(self->row_popover);
}

static void
fleet_window_row_cancel_requested_cb(FleetDeviceRow *row, gpointer user_data)
{
	FleetWindow *self = FLEET_WINDOW(user_data);
	FleetDevice *device = fleet_device_item_get_device(fleet_device_row_get_item(row));
	fleet_window_activate_app_action(self, "cancel-device",
					 g_variant_new_string(fleet_device_get_id(device)));
}

static GtkWidget *
fleet_window_create_row_cb(gpointer model_item, gpointer user_data)
{
	FleetWindow *self = FLEET_WINDOW(user_data);
	GtkWidget *row = fleet_device_row_new(FLEET_DEVICE_ITEM(model_item), self->store);
	g_signal_connect_object(row, "menu-requested",
				G_CALLBACK(fleet_window_row_menu_requested_cb), self, 0);
	g_signal_connect_object(row, "cancel-requested",
				G_CALLBACK(fleet_window_row_cancel_requested_cb), self, 0);
	gtk_widget_show(row);
	return row;
}

/* the list follows the store row by row, in the store's order */
static void
fleet_window_store_items_changed_cb(
    GListModel *model, guint position, guint removed, guint added, gpointer user_data)
{
	FleetWindow *self = FLEET_WINDOW(user_data);

	for (guint i = 0; i < removed; i++) {
		GtkListBoxRow *row = gtk_list_box_get_row_at_index(self->list_box, (gint)position);
		if (row != NULL)
			gtk_widget_destroy(GTK_WIDGET(row));
	}
	for (guint i = 0; i < added; i++) {
		g_autoptr(FleetDeviceItem) item = g_list_model_get_item(model, position + i);
		gtk_list_box_insert(self->list_box, fleet_window_create_row_cb(item, self),
				    (gint)(position + i));
	}
}

/* a right click anywhere on a row opens its menu at the pointer */
static void
fleet_window_list_pressed_cb(
    GtkGestureMultiPress *gesture, gint n_press, gdouble x, gdouble y, gpointer user_data)
{
	FleetWindow *self = FLEET_WINDOW(user_data);
	GtkListBoxRow *row = gtk_list_box_get_row_at_y(self->list_box, (gint)y);
	GdkRectangle rect = {(gint)x, (gint)y, 1, 1};

	if (row == NULL)
		return;
	gtk_list_box_select_row(self->list_box, row);
	gtk_gesture_set_state(GTK_GESTURE(gesture), GTK_EVENT_SEQUENCE_CLAIMED);
	fleet_window_row_menu_requested_cb(FLEET_DEVICE_ROW(row), GTK_WIDGET(self->list_box), &rect,
					   self);
}

static const gchar *
fleet_window_menu_device_id(FleetWindow *self)
{
	if (self->menu_item == NULL)
		return NULL;
	return fleet_device_get_id(fleet_device_item_get_device(self->menu_item));
}

static void
fleet_window_row_update_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	FleetWindow *self = FLEET_WINDOW(user_data);
	const gchar *id = fleet_window_menu_device_id(self);
	if (id != NULL)
		fleet_window_activate_app_action(self, "update-device", g_variant_new_string(id));
}

static void
fleet_window_row_copy_address_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	FleetWindow *self = FLEET_WINDOW(user_data);
	FleetDevice *device;
	const gchar *address;

	if (self->menu_item == NULL)
		return;
	device = fleet_device_item_get_device(self->menu_item);
	address = fleet_device_get_address(device) != NULL ? fleet_device_get_address(device)
							   : fleet_device_get_hostname(device);
	if (address != NULL)
		gtk_clipboard_set_text(
		    gtk_widget_get_clipboard(GTK_WIDGET(self), GDK_SELECTION_CLIPBOARD), address,
		    -1);
}

static void
fleet_window_row_open_web_page_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	FleetWindow *self = FLEET_WINDOW(user_data);
	const gchar *id = fleet_window_menu_device_id(self);
	if (id != NULL)
		fleet_window_activate_app_action(self, "open-web-page", g_variant_new_string(id));
}

static void
fleet_window_row_forget_password_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	FleetWindow *self = FLEET_WINDOW(user_data);
	const gchar *id = fleet_window_menu_device_id(self);
	if (id != NULL)
		fleet_window_activate_app_action(self, "forget-password", g_variant_new_string(id));
}

static void
fleet_window_row_remove_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	FleetWindow *self = FLEET_WINDOW(user_data);
	const gchar *id = fleet_window_menu_device_id(self);
	if (id != NULL)
		fleet_window_activate_app_action(self, "remove-device", g_variant_new_string(id));
}

/* ---------------------------------------------------------------------------------------
 * ticking several devices */

static void
fleet_window_check_where(FleetWindow *self, gboolean only_shown, gboolean checked)
{
	GListModel *model = G_LIST_MODEL(self->store);
	guint n = g_list_model_get_n_items(model);
	for (guint i = 0; i < n; i++) {
		g_autoptr(FleetDeviceItem) item = g_list_model_get_item(model, i);
		if (only_shown && !fleet_window_item_visible(self, item))
			continue;
		if (checked && !fleet_device_store_can_check(self->store, item))
			continue;
		fleet_device_item_set_checked(item, checked);
	}
}

static void
fleet_window_select_shown_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	FleetWindow *self = FLEET_WINDOW(user_data);
	GtkWidget *focus = gtk_window_get_focus(GTK_WINDOW(self));

	/* Ctrl+A in a text field selects its text, as everywhere else */
	if (focus != NULL && GTK_IS_EDITABLE(focus)) {
		gtk_editable_select_region(GTK_EDITABLE(focus), 0, -1);
		return;
	}
	fleet_window_check_where(self, TRUE, TRUE);
}

static void
fleet_window_select_all_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	fleet_window_check_where(FLEET_WINDOW(user_data), FALSE, TRUE);
}

static void
fleet_window_select_none_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	fleet_window_check_where(FLEET_WINDOW(user_data), FALSE, FALSE);
}

static void
fleet_window_search_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	FleetWindow *self = FLEET_WINDOW(user_data);
	gtk_search_bar_set_search_mode(self->search_bar, TRUE);
	gtk_widget_grab_focus(GTK_WIDGET(self->search_entry));
}

static void fleet_window_show_report_cb(GSimpleAction *action, GVariant *state, gpointer user_data);

static const GActionEntry fleet_window_actions[] = {
    {"search", fleet_window_search_cb, NULL, NULL, NULL, {0}},
    {"select-shown", fleet_window_select_shown_cb, NULL, NULL, NULL, {0}},
    {"select-all", fleet_window_select_all_cb, NULL, NULL, NULL, {0}},
    {"select-none", fleet_window_select_none_cb, NULL, NULL, NULL, {0}},
    {"row-update", fleet_window_row_update_cb, NULL, NULL, NULL, {0}},
    {"row-copy-address", fleet_window_row_copy_address_cb, NULL, NULL, NULL, {0}},
    {"row-open-web-page", fleet_window_row_open_web_page_cb, NULL, NULL, NULL, {0}},
    {"row-forget-password", fleet_window_row_forget_password_cb, NULL, NULL, NULL, {0}},
    {"row-remove", fleet_window_row_remove_cb, NULL, NULL, NULL, {0}},
    {"show-report", NULL, NULL, "false", fleet_window_show_report_cb, {0}},
    {"filter-result", fleet_window_filter_result_cb, "s", NULL, NULL, {0}},
};

/* ---------------------------------------------------------------------------------------
 * the store */

static void
fleet_window_store_changed_cb(FleetDeviceStore *store, gpointer user_data)
{
	FleetWindow *self = FLEET_WINDOW(user_data);
	/* the online state, versions and results decide what the filters let through */
	if (fleet_window_filtering(self))
		gtk_list_box_invalidate_filter(self->list_box);
	fleet_window_update_counts(self);
}

/* ---------------------------------------------------------------------------------------
 * the image report pane */

static void
fleet_window_show_report_cb(GSimpleAction *action, GVariant *state, gpointer user_data)
{
	FleetWindow *self = FLEET_WINDOW(user_data);
	g_simple_action_set_state(action, state);
	gtk_revealer_set_reveal_child(self->report_revealer, g_variant_get_boolean(state));
}

/* ---------------------------------------------------------------------------------------
 * closing while a batch runs */

static void
fleet_window_close_response_cb(GtkDialog *dialog, gint response, gpointer user_data)
{
	FleetWindow *self = FLEET_WINDOW(user_data);

	gtk_widget_destroy(GTK_WIDGET(dialog));
	if (response == GTK_RESPONSE_CANCEL || response == GTK_RESPONSE_DELETE_EVENT)
		return;
	if (response == GTK_RESPONSE_REJECT)
		fleet_window_activate_app_action(self, "cancel-all", NULL);
	/* the application holds itself while the batch runs, so it ends after the batch */
	gtk_widget_destroy(GTK_WIDGET(self));
}

static gboolean
fleet_window_delete_event(GtkWidget *widget, GdkEventAny *event)
{
	FleetWindow *self = FLEET_WINDOW(widget);
	GtkApplication *application = gtk_window_get_application(GTK_WINDOW(self));
	GtkWidget *dialog;

	if (application == NULL ||
	    !fleet_application_get_batch_running(FLEET_APPLICATION(application)))
		return GTK_WIDGET_CLASS(fleet_window_parent_class)->delete_event(widget, event);

	dialog = gtk_message_dialog_new(
	    GTK_WINDOW(self), GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
	    GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE, "%s", _("Updates are still running"));
	gtk_message_dialog_format_secondary_text(
	    GTK_MESSAGE_DIALOG(dialog), "%s",
	    _("The window can close while the devices finish their updates in the background; "
	      "a notification tells how the batch ended. Stopping now cancels the updates "
	      "that have not finished."));
	gtk_dialog_add_buttons(GTK_DIALOG(dialog), _("_Keep Window Open"), GTK_RESPONSE_CANCEL,
			       _("_Stop Updates and Close"), GTK_RESPONSE_REJECT,
			       _("_Close, Finish in Background"), GTK_RESPONSE_ACCEPT, NULL);
	gtk_style_context_add_class(gtk_widget_get_style_context(gtk_dialog_get_widget_for_response(
					GTK_DIALOG(dialog), GTK_RESPONSE_REJECT)),
				    "destructive-action");
	gtk_style_context_add_class(gtk_widget_get_style_context(gtk_dialog_get_widget_for_response(
					GTK_DIALOG(dialog), GTK_RESPONSE_ACCEPT)),
				    "suggested-action");
	gtk_dialog_set_default_response(GTK_DIALOG(dialog), GTK_RESPONSE_ACCEPT);
	/* not shown on the dialog itself; window lists and tests find it by it */
	gtk_window_set_title(GTK_WINDOW(dialog), _("Updates are still running"));
	g_signal_connect_object(dialog, "response", G_CALLBACK(fleet_window_close_response_cb),
				self, 0);
	gtk_widget_show(dialog);
	return GDK_EVENT_STOP;
}

/* ---------------------------------------------------------------------------------------
 * window state */

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

	/* GTK_DEST_DEFAULT_DROP finishes the drag; the window shows one image, the first */
	if (uris == NULL || uris[0] == NULL)
		return;
	fleet_window_activate_app_action(FLEET_WINDOW(widget), "open-image",
					 g_variant_new_string(uris[0]));
}

/* type-to-search: printable keys that no widget wants start the search */
static gboolean
fleet_window_key_press_event(GtkWidget *widget, GdkEventKey *event)
{
	FleetWindow *self = FLEET_WINDOW(widget);
	GtkWidget *focus = gtk_window_get_focus(GTK_WINDOW(self));

	if (GTK_WIDGET_CLASS(fleet_window_parent_class)->key_press_event(widget, event))
		return GDK_EVENT_STOP;
	if (focus != NULL && GTK_IS_EDITABLE(focus))
		return GDK_EVENT_PROPAGATE;
	return gtk_search_bar_handle_event(self->search_bar, (GdkEvent *)event);
}

static void
fleet_window_dispose(GObject *object)
{
	FleetWindow *self = FLEET_WINDOW(object);

	g_clear_handle_id(&self->transcript_id, g_source_remove);
	g_clear_handle_id(&self->transcript_poll_id, g_source_remove);
	if (self->shown_item != NULL)
		g_signal_handlers_disconnect_by_data(self->shown_item, self);
	g_clear_object(&self->shown_item);
	g_clear_object(&self->menu_item);
	if (self->row_popover != NULL)
		gtk_widget_destroy(GTK_WIDGET(self->row_popover));
	g_clear_object(&self->row_popover);
	g_clear_object(&self->list_gesture);
	if (self->store != NULL)
		g_signal_handlers_disconnect_by_data(self->store, self);
	g_clear_object(&self->store);
	g_clear_object(&self->settings);
	G_OBJECT_CLASS(fleet_window_parent_class)->dispose(object);
}

static void
fleet_window_finalize(GObject *object)
{
	FleetWindow *self = FLEET_WINDOW(object);
	g_free(self->needle);
	G_OBJECT_CLASS(fleet_window_parent_class)->finalize(object);
}

static void
fleet_window_class_init(FleetWindowClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	object_class->dispose = fleet_window_dispose;
	object_class->finalize = fleet_window_finalize;
	widget_class->size_allocate = fleet_window_size_allocate;
	widget_class->window_state_event = fleet_window_window_state_event;
	widget_class->unrealize = fleet_window_unrealize;
	widget_class->drag_data_received = fleet_window_drag_data_received;
	widget_class->delete_event = fleet_window_delete_event;
	widget_class->key_press_event = fleet_window_key_press_event;

	g_type_ensure(FLEET_TYPE_IMAGE_REPORT);
	g_type_ensure(FLEET_TYPE_TRANSCRIPT_VIEW);
	g_type_ensure(FLEET_TYPE_BATCH_BAR);
	gtk_widget_class_set_template_from_resource(widget_class,
						    "/io/github/espfleet/EspFleet/fleet-window.ui");
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, header_bar);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, image_name_label);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, image_detail_label);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, recent_button);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, recent_popover);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, recent_list);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, report_icon);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, spinner);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, update_button);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, search_button);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, search_bar);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, search_entry);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, info_bar);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, info_title);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, info_message);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, notice_bar);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, notice_label);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, summary_bar);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, summary_icon);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, summary_box);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, filter_bar);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, online_filter);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, outdated_filter);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, compatible_filter);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, result_filter_button);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, result_filter_label);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, count_label);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, paned);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, list_stack);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, list_box);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, empty_title);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, empty_problem);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, empty_hints);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, transcript);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, bottom_notebook);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, report_revealer);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, report_scroll);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, report);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, batch_bar);
	gtk_widget_class_bind_template_child(widget_class, FleetWindow, row_menu);
	gtk_widget_class_bind_template_callback(widget_class,
						fleet_window_recent_list_row_activated_cb);
	gtk_widget_class_bind_template_callback(widget_class, fleet_window_info_bar_response_cb);
	gtk_widget_class_bind_template_callback(widget_class,
						fleet_window_search_entry_search_changed_cb);
	gtk_widget_class_bind_template_callback(widget_class,
						fleet_window_search_entry_stop_search_cb);
	gtk_widget_class_bind_template_callback(widget_class, fleet_window_filter_toggled_cb);
	gtk_widget_class_bind_template_callback(widget_class,
						fleet_window_result_filter_button_clicked_cb);
	gtk_widget_class_bind_template_callback(widget_class,
						fleet_window_list_box_row_selected_cb);
	gtk_widget_class_bind_template_callback(widget_class,
						fleet_window_list_box_row_activated_cb);
}

static void
fleet_window_init(FleetWindow *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
	self->result_filter = -1;

	g_action_map_add_action_entries(G_ACTION_MAP(self), fleet_window_actions,
					G_N_ELEMENTS(fleet_window_actions), self);
	/* the quick filters as window actions too (keyboard, menus, tests) */
	{
		const gchar *names[] = {"filter-online", "filter-outdated", "filter-compatible"};
		GtkToggleButton *buttons[] = {self->online_filter, self->outdated_filter,
					      self->compatible_filter};
		for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
			g_autoptr(GPropertyAction) action =
			    g_property_action_new(names[i], buttons[i], "active");
			g_action_map_add_action(G_ACTION_MAP(self), G_ACTION(action));
		}
	}
	/* the image report pane has nothing to show before an image is chosen */
	g_simple_action_set_enabled(
	    G_SIMPLE_ACTION(g_action_map_lookup_action(G_ACTION_MAP(self), "show-report")), FALSE);
	g_object_bind_property(self->search_button, "active", self->search_bar,
			       "search-mode-enabled", G_BINDING_BIDIRECTIONAL);
	gtk_search_bar_connect_entry(self->search_bar, GTK_ENTRY(self->search_entry));
	gtk_list_box_set_filter_func(self->list_box, fleet_window_list_filter_cb, self, NULL);

	self->list_gesture = gtk_gesture_multi_press_new(GTK_WIDGET(self->list_box));
	gtk_gesture_single_set_button(GTK_GESTURE_SINGLE(self->list_gesture), GDK_BUTTON_SECONDARY);
	g_signal_connect(self->list_gesture, "pressed", G_CALLBACK(fleet_window_list_pressed_cb),
			 self);

	gtk_label_set_text(
	    self->empty_hints,
	    _("• Is this computer on the same network as the devices?\n"
	      "• Many Wi-Fi networks isolate their clients from each other, which also blocks "
	      "mDNS: add such devices by their address.\n"
	      "• Only devices whose firmware announces over-the-air updates (ArduinoOTA or the "
	      "espfleet firmware) show up here."));
	fleet_batch_bar_set_running(self->batch_bar, FALSE);
	fleet_batch_bar_set_progress(self->batch_bar, NULL, -1.0);
	fleet_batch_bar_set_can_retry(self->batch_bar, FALSE);

	/* a file dropped anywhere on the window is opened */
	gtk_drag_dest_set(GTK_WIDGET(self), GTK_DEST_DEFAULT_ALL, NULL, 0, GDK_ACTION_COPY);
	gtk_drag_dest_add_uri_targets(GTK_WIDGET(self));
}

/* ---------------------------------------------------------------------------------------
 * public */

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
	g_autoptr(GString) detail = g_string_new(NULL);
	GtkAdjustment *vadjustment;
	GPtrArray *findings;
	gboolean warnings = FALSE;
	gboolean errors;

	g_return_if_fail(FLEET_IS_WINDOW(self));
	g_return_if_fail(FLEET_IS_IMAGE(image));
	g_return_if_fail(G_IS_FILE(file));

	basename = g_file_get_basename(file);
	name = g_filename_display_name(basename != NULL ? basename : "");
	gtk_label_set_text(self->image_name_label, name);
	if (fleet_image_get_version(image) != NULL)
		g_string_append(detail, fleet_image_get_version(image));
	if (detail->len > 0)
		g_string_append(detail, " · ");
	g_string_append(detail, fleet_image_get_chip_name(image));
	gtk_label_set_text(self->image_detail_label, detail->str);
	gtk_widget_set_visible(GTK_WIDGET(self->image_detail_label), TRUE);
	gtk_widget_set_tooltip_text(GTK_WIDGET(self->image_name_label), name);
	gtk_widget_set_visible(GTK_WIDGET(self->info_bar), FALSE);

	findings = fleet_image_get_findings(image);
	for (guint i = 0; i < findings->len; i++) {
		FleetFinding *finding = g_ptr_array_index(findings, i);
		if (finding->severity == FLEET_SEVERITY_WARNING)
			warnings = TRUE;
	}
	errors = fleet_image_has_errors(image);
	gtk_image_set_from_icon_name(self->report_icon,
				     errors	? "dialog-error-symbolic"
				     : warnings ? "dialog-warning-symbolic"
						: "dialog-information-symbolic",
				     GTK_ICON_SIZE_BUTTON);
	g_simple_action_set_enabled(
	    G_SIMPLE_ACTION(g_action_map_lookup_action(G_ACTION_MAP(self), "show-report")), TRUE);

	fleet_image_report_set_image(self->report, image, file);
	vadjustment = gtk_scrolled_window_get_vadjustment(self->report_scroll);
	gtk_adjustment_set_value(vadjustment, gtk_adjustment_get_lower(vadjustment));
	/* the report opens by itself when there is something to read in it, or nothing else
	 * to look at yet */
	if (errors || warnings || g_list_model_get_n_items(G_LIST_MODEL(self->store)) == 0)
		g_action_group_change_action_state(G_ACTION_GROUP(self), "show-report",
						   g_variant_new_boolean(TRUE));
	gtk_widget_set_sensitive(GTK_WIDGET(self->outdated_filter), TRUE);
	gtk_widget_set_sensitive(GTK_WIDGET(self->compatible_filter), TRUE);
	/* otherwise GTK focuses a selectable label of the new report, which selects its text */
	gtk_window_set_focus(GTK_WINDOW(self), NULL);
	fleet_window_refilter(self);
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
	gtk_widget_set_visible(GTK_WIDGET(self->info_bar), TRUE);
}

void
fleet_window_show_notice(FleetWindow *self, const gchar *message)
{
	g_return_if_fail(FLEET_IS_WINDOW(self));
	if (message != NULL)
		gtk_label_set_text(self->notice_label, message);
	gtk_widget_set_visible(GTK_WIDGET(self->notice_bar), message != NULL);
}

void
fleet_window_set_discovery_state(FleetWindow *self, FleetDiscoveryState state, const gchar *message)
{
	g_return_if_fail(FLEET_IS_WINDOW(self));
	if (state == FLEET_DISCOVERY_STATE_UNAVAILABLE) {
		gtk_label_set_text(self->empty_title, _("Cannot Look for Devices"));
		gtk_label_set_text(self->empty_problem, message != NULL ? message : "");
		gtk_widget_set_visible(GTK_WIDGET(self->empty_problem), message != NULL);
	} else {
		gtk_label_set_text(self->empty_title, state == FLEET_DISCOVERY_STATE_STARTING
							  ? _("Looking for Devices…")
							  : _("No Devices Found Yet"));
		gtk_widget_set_visible(GTK_WIDGET(self->empty_problem), FALSE);
	}
}

FleetBatchBar *
fleet_window_get_batch_bar(FleetWindow *self)
{
	g_return_val_if_fail(FLEET_IS_WINDOW(self), NULL);
	return self->batch_bar;
}

void
fleet_window_set_batch_running(FleetWindow *self, gboolean running)
{
	g_return_if_fail(FLEET_IS_WINDOW(self));
	fleet_batch_bar_set_running(self->batch_bar, running);
	if (running) {
		gtk_widget_set_visible(GTK_WIDGET(self->summary_bar), FALSE);
		if (self->transcript_poll_id == 0)
			self->transcript_poll_id = g_timeout_add(
			    FLEET_WINDOW_TRANSCRIPT_POLL_MS, fleet_window_transcript_poll_cb, self);
	} else {
		g_clear_handle_id(&self->transcript_poll_id, g_source_remove);
		fleet_window_queue_transcript(self);
	}
}

/* "18 verified" as plural-aware text */
static gchar *
fleet_window_summary_text(FleetJobPhase phase, guint n)
{
	switch (phase) {
	case FLEET_JOB_PHASE_VERIFIED:
		/* TRANSLATORS: a button in the end-of-batch summary */
		return g_strdup_printf(
		    g_dngettext(GETTEXT_PACKAGE, "%u verified", "%u verified", n), n);
	case FLEET_JOB_PHASE_UPLOADED:
		return g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%u uploaded, not verified",
						   "%u uploaded, not verified", n),
				       n);
	case FLEET_JOB_PHASE_ROLLED_BACK:
		return g_strdup_printf(
		    g_dngettext(GETTEXT_PACKAGE, "%u rolled back", "%u rolled back", n), n);
	case FLEET_JOB_PHASE_FAILED:
		return g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%u failed", "%u failed", n),
				       n);
	case FLEET_JOB_PHASE_SKIPPED:
		return g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%u skipped", "%u skipped", n),
				       n);
	case FLEET_JOB_PHASE_CANCELLED:
		return g_strdup_printf(
		    g_dngettext(GETTEXT_PACKAGE, "%u cancelled", "%u cancelled", n), n);
	default:
		return NULL;
	}
}

void
fleet_window_show_summary(FleetWindow *self, const guint *counts, guint n_counts)
{
	const FleetJobPhase order[] = {FLEET_JOB_PHASE_VERIFIED,    FLEET_JOB_PHASE_UPLOADED,
				       FLEET_JOB_PHASE_ROLLED_BACK, FLEET_JOB_PHASE_FAILED,
				       FLEET_JOB_PHASE_SKIPPED,	    FLEET_JOB_PHASE_CANCELLED};
	g_autoptr(GList) children = NULL;
	gboolean bad = FALSE;
	gboolean partial = FALSE;
	GtkStyleContext *icon_context;

	g_return_if_fail(FLEET_IS_WINDOW(self));
	children = gtk_container_get_children(GTK_CONTAINER(self->summary_box));
	for (GList *l = children; l != NULL; l = l->next)
		gtk_widget_destroy(GTK_WIDGET(l->data));

	for (gsize i = 0; i < G_N_ELEMENTS(order); i++) {
		guint n = (guint)order[i] < n_counts ? counts[order[i]] : 0;
		g_autofree gchar *text = NULL;
		GtkWidget *button;
		if (n == 0)
			continue;
		text = fleet_window_summary_text(order[i], n);
		button = gtk_button_new_with_label(text);
		gtk_button_set_relief(GTK_BUTTON(button), GTK_RELIEF_NONE);
		/* TRANSLATORS: tooltip of a summary button */
		gtk_widget_set_tooltip_text(button, _("Show only these devices"));
		gtk_actionable_set_action_name(GTK_ACTIONABLE(button), "win.filter-result");
		gtk_actionable_set_action_target(GTK_ACTIONABLE(button), "s",
						 fleet_job_phase_to_id(order[i]));
		gtk_style_context_add_class(gtk_widget_get_style_context(button),
					    "fleet-summary-item");
		if (order[i] == FLEET_JOB_PHASE_FAILED || order[i] == FLEET_JOB_PHASE_ROLLED_BACK) {
			gtk_style_context_add_class(gtk_widget_get_style_context(button),
						    "fleet-error-text");
			bad = TRUE;
		} else if (order[i] == FLEET_JOB_PHASE_SKIPPED ||
			   order[i] == FLEET_JOB_PHASE_CANCELLED) {
			partial = TRUE;
		}
		gtk_widget_show(button);
		gtk_container_add(GTK_CONTAINER(self->summary_box), button);
	}
	/* green only when every device got the image */
	gtk_image_set_from_icon_name(self->summary_icon,
				     bad       ? "dialog-error-symbolic"
				     : partial ? "dialog-warning-symbolic"
					       : "emblem-ok-symbolic",
				     GTK_ICON_SIZE_BUTTON);
	icon_context = gtk_widget_get_style_context(GTK_WIDGET(self->summary_icon));
	gtk_style_context_remove_class(icon_context, "fleet-severity-ok");
	gtk_style_context_remove_class(icon_context, "fleet-severity-warning");
	gtk_style_context_remove_class(icon_context, "fleet-severity-error");
	gtk_style_context_add_class(icon_context, bad	    ? "fleet-severity-error"
						  : partial ? "fleet-severity-warning"
							    : "fleet-severity-ok");
	gtk_widget_set_visible(GTK_WIDGET(self->summary_bar), TRUE);
}

const gchar *
fleet_window_get_selected_device(FleetWindow *self)
{
	g_return_val_if_fail(FLEET_IS_WINDOW(self), NULL);
	if (self->shown_item == NULL)
		return NULL;
	return fleet_device_get_id(fleet_device_item_get_device(self->shown_item));
}

gboolean
fleet_window_select_device(FleetWindow *self, const gchar *device_id)
{
	GListModel *model;
	guint n;

	g_return_val_if_fail(FLEET_IS_WINDOW(self), FALSE);
	model = G_LIST_MODEL(self->store);
	n = g_list_model_get_n_items(model);
	for (guint i = 0; i < n; i++) {
		g_autoptr(FleetDeviceItem) item = g_list_model_get_item(model, i);
		if (g_strcmp0(fleet_device_get_id(fleet_device_item_get_device(item)), device_id) ==
		    0) {
			GtkListBoxRow *row = gtk_list_box_get_row_at_index(self->list_box, (gint)i);
			if (row == NULL)
				return FALSE;
			gtk_list_box_select_row(self->list_box, row);
			/* the keyboard acts on the device shown: Shift+F10 opens its menu */
			gtk_widget_grab_focus(GTK_WIDGET(row));
			return TRUE;
		}
	}
	return FALSE;
}

gboolean
fleet_window_shows_item(FleetWindow *self, FleetDeviceItem *item)
{
	g_return_val_if_fail(FLEET_IS_WINDOW(self), FALSE);
	g_return_val_if_fail(FLEET_IS_DEVICE_ITEM(item), FALSE);
	return fleet_window_item_visible(self, item);
}

gchar *
fleet_window_get_transcript_text(FleetWindow *self)
{
	g_return_val_if_fail(FLEET_IS_WINDOW(self), NULL);
	return fleet_transcript_view_get_text(self->transcript);
}

FleetWindow *
fleet_window_new(FleetApplication *application)
{
	FleetWindow *self;

	g_return_val_if_fail(FLEET_IS_APPLICATION(application), NULL);
	self = g_object_new(FLEET_TYPE_WINDOW, "application", application, NULL);
	self->settings = g_object_ref(fleet_application_get_settings(application));
	self->store = g_object_ref(fleet_application_get_store(application));
	fleet_window_load_state(self);

	/* the live log viewer, a page beside the transcript; its actions as "log.*" */
	self->log_view = fleet_log_view_new();
	fleet_log_view_set_hub(FLEET_LOG_VIEW(self->log_view),
			       fleet_application_get_log_hub(application));
	gtk_widget_show(self->log_view);
	gtk_notebook_append_page(self->bottom_notebook, self->log_view,
				 gtk_label_new(_("Device Log")));
	gtk_notebook_set_current_page(self->bottom_notebook, 0);
	gtk_widget_insert_action_group(GTK_WIDGET(self), "log",
				       gtk_widget_get_action_group(self->log_view, "log"));
	g_signal_connect_object(self->settings, "changed::recent-images",
				G_CALLBACK(fleet_window_recent_changed_cb), self, 0);
	fleet_window_update_recent(self);

	/* not gtk_list_box_bind_model(): GTK 3 ignores the filter function of a bound list */
	fleet_window_store_items_changed_cb(G_LIST_MODEL(self->store), 0, 0,
					    g_list_model_get_n_items(G_LIST_MODEL(self->store)),
					    self);
	g_signal_connect_object(self->store, "items-changed",
				G_CALLBACK(fleet_window_store_items_changed_cb), self, 0);
	g_signal_connect_object(self->store, "changed", G_CALLBACK(fleet_window_store_changed_cb),
				self, 0);
	fleet_batch_bar_set_canary(self->batch_bar,
				   (guint)g_settings_get_int(self->settings, "canary-count"));
	fleet_batch_bar_set_max_failures(
	    self->batch_bar, (guint)g_settings_get_int(self->settings, "stop-after-failures"));
	fleet_window_update_counts(self);
	return self;
}
