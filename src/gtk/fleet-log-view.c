/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-log-view.c - the live log viewer: one device or several merged, serial-monitor style
 *
 * The lines come from a FleetLogHub in batches (every 30 ms at most) and go into a
 * FleetLogLines area, which only keeps references and lays out what is on screen; so the
 * cost per second does not depend on how many devices send. Changing device, mode or
 * filter rebuilds the area from the hub's rings.
 */

#include "config.h"

#include "fleet-log-view.h"

#include <glib/gi18n.h>
#include <string.h>

#include "fleet-log-lines.h"
#include "fleet-log-recorder.h"
#include "fleet-log-source-serial.h"
#include "fleet-log-sources-popover.h"
#include "fleet-log-view-resources.h"

/* lines trimmed at once past the limit, so that trimming is not done every batch */
#define FLEET_LOG_VIEW_TRIM_SLACK_MIN 200
/* width of the device column in characters */
#define FLEET_LOG_VIEW_DEVICE_COLUMN 16
/* pixels from the end that still count as "at the end" */
#define FLEET_LOG_VIEW_END_SLACK 4.0

struct _FleetLogView {
	GtkBox parent_instance;

	FleetLogHub *hub;
	gulong lines_id;
	gulong cleared_id;
	gulong ring_id;
	FleetLogFilter *filter;
	FleetLogViewMode mode;
	gchar **selected;
	gboolean paused;
	gboolean timestamps;
	gboolean colors;
	guint held;
	guint64 shown_seq;
	guint64 clear_seq;
	guint tag_timeout_id;
	gint64 max_batch_us;
	GSimpleActionGroup *actions;
	FleetLogRecorder *recorder;
	gboolean updating_controls;
	gchar *serial_id; /* the serial port the controls show */
	gchar *notice;	  /* a message that stays in the status line for a while */
	guint notice_id;

	GtkComboBoxText *mode_combo;
	GtkSearchEntry *search_entry;
	GtkToggleButton *regex_button;
	GtkComboBoxText *level_combo;
	GtkEntry *tag_entry;
	GtkLabel *held_label;
	GtkRevealer *serial_revealer;
	GtkLabel *serial_label;
	GtkComboBoxText *serial_baud_combo;
	GtkCheckButton *dtr_check;
	GtkCheckButton *rts_check;
	GtkStack *stack;
	GtkLabel *placeholder_label;
	GtkScrolledWindow *scroll;
	FleetLogLines *lines;
	GtkRevealer *jump_revealer;
	GtkLabel *status_label;
	GtkLabel *count_label;
	FleetLogSourcesPopover *sources_popover;
};

G_DEFINE_TYPE(FleetLogView, fleet_log_view, GTK_TYPE_BOX)

enum {
	PROP_0,
	PROP_HUB,
	PROP_MODE,
	PROP_PAUSED,
	PROP_TIMESTAMPS,
	PROP_COLORS,
	PROP_FOLLOW,
	PROP_HELD,
	N_PROPS
};
static GParamSpec *props[N_PROPS];

static const gchar *const fleet_log_view_mode_ids[] = {"device", "merged-all", "merged-selected"};

GType
fleet_log_view_mode_get_type(void)
{
	static gsize type = 0;
	if (g_once_init_enter(&type)) {
		static const GEnumValue values[] = {
		    {FLEET_LOG_VIEW_MODE_DEVICE, "FLEET_LOG_VIEW_MODE_DEVICE", "device"},
		    {FLEET_LOG_VIEW_MODE_MERGED_ALL, "FLEET_LOG_VIEW_MODE_MERGED_ALL",
		     "merged-all"},
		    {FLEET_LOG_VIEW_MODE_MERGED_SELECTED, "FLEET_LOG_VIEW_MODE_MERGED_SELECTED",
		     "merged-selected"},
		    {0, NULL, NULL},
		};
		g_once_init_leave(&type, g_enum_register_static("FleetLogViewMode", values));
	}
	return type;
}

static void fleet_log_view_rebuild(FleetLogView *self);
static void fleet_log_view_sync_bool_action(FleetLogView *self, const gchar *name, gboolean value);
static void fleet_log_view_update_status(FleetLogView *self);

/* ---- what is shown ---- */

/* the device the per-device view shows, NULL when none is selected */
static const gchar *
fleet_log_view_current_device(FleetLogView *self)
{
	if (self->selected == NULL || self->selected[0] == NULL)
		return NULL;
	return self->selected[0];
}

static gboolean
fleet_log_view_merged(FleetLogView *self)
{
	return self->mode != FLEET_LOG_VIEW_MODE_DEVICE;
}

/* the device scope of the filter follows the mode and the selection */
static void
fleet_log_view_sync_scope(FleetLogView *self)
{
	static const gchar *const nothing[] = {NULL};
	const gchar *one[] = {fleet_log_view_current_device(self), NULL};

	switch (self->mode) {
	case FLEET_LOG_VIEW_MODE_DEVICE:
		fleet_log_filter_set_devices(self->filter, one[0] != NULL ? one : nothing);
		break;
	case FLEET_LOG_VIEW_MODE_MERGED_SELECTED:
		fleet_log_filter_set_devices(
		    self->filter,
		    self->selected != NULL ? (const gchar *const *)self->selected : nothing);
		break;
	case FLEET_LOG_VIEW_MODE_MERGED_ALL:
	default:
		fleet_log_filter_set_devices(self->filter, NULL);
		break;
	}
}

static guint
fleet_log_view_max_lines(FleetLogView *self)
{
	return self->hub != NULL ? fleet_log_hub_get_ring_lines(self->hub)
				 : FLEET_LOG_BUFFER_CAPACITY_DEFAULT;
}

/* the device column: the name from the device list, else a short form of the id */
static gchar *
fleet_log_view_name_cb(const gchar *device_id, gpointer user_data)
{
	FleetLogView *self = FLEET_LOG_VIEW(user_data);
	if (self->hub == NULL)
		return g_strdup(device_id);
	return fleet_log_hub_dup_display_name(self->hub, device_id);
}

static void
fleet_log_view_append(FleetLogView *self, GPtrArray *lines)
{
	for (guint i = 0; i < lines->len; i++)
		self->shown_seq =
		    MAX(self->shown_seq, fleet_log_line_get_seq(g_ptr_array_index(lines, i)));
	fleet_log_lines_append(self->lines, lines);
}

static gboolean
fleet_log_view_wants(FleetLogView *self, FleetLogLine *line)
{
	return fleet_log_line_get_seq(line) > self->clear_seq &&
	       fleet_log_filter_match(self->filter, line);
}

static void
fleet_log_view_update_held(FleetLogView *self)
{
	g_autofree gchar *text = NULL;
	gtk_widget_set_visible(GTK_WIDGET(self->held_label), self->paused);
	if (!self->paused)
		return;
	text = g_strdup_printf(g_dngettext(GETTEXT_PACKAGE,
					   /* TRANSLATORS: the view is paused; %u lines arrived
					    * meanwhile and will show when it goes on */
					   "Paused: %u new line held back",
					   "Paused: %u new lines held back", self->held),
			       self->held);
	gtk_label_set_text(self->held_label, text);
}

static void
fleet_log_view_lines_added_cb(FleetLogHub *hub, GPtrArray *lines, gpointer user_data)
{
	FleetLogView *self = FLEET_LOG_VIEW(user_data);
	g_autoptr(GPtrArray) wanted = g_ptr_array_new();
	gint64 start = g_get_monotonic_time();
	gint64 took;

	if (gtk_stack_get_visible_child(self->stack) != GTK_WIDGET(self->scroll)) {
		/* the placeholder shows: a device of the view may just have sent its first line */
		if (fleet_log_view_current_device(self) != NULL || fleet_log_view_merged(self))
			fleet_log_view_rebuild(self);
		return;
	}
	for (guint i = 0; i < lines->len; i++) {
		FleetLogLine *line = g_ptr_array_index(lines, i);
		if (fleet_log_line_get_seq(line) > self->shown_seq &&
		    fleet_log_view_wants(self, line))
			g_ptr_array_add(wanted, line);
	}
	if (self->paused) {
		self->held += wanted->len;
		if (wanted->len > 0) {
			fleet_log_view_update_held(self);
			g_object_notify_by_pspec(G_OBJECT(self), props[PROP_HELD]);
		}
	} else {
		fleet_log_view_append(self, wanted);
	}
	fleet_log_view_update_status(self);
	took = g_get_monotonic_time() - start;
	self->max_batch_us = MAX(self->max_batch_us, took);
}

/* the whole view again from the rings: after a change of device, mode or filter */
static void
fleet_log_view_rebuild(FleetLogView *self)
{
	g_autoptr(GPtrArray) lines = NULL;
	guint64 dropped = 0;

	fleet_log_view_sync_scope(self);
	fleet_log_lines_clear(self->lines);
	fleet_log_lines_set_columns(self->lines, self->timestamps, fleet_log_view_merged(self));
	fleet_log_lines_set_colors(self->lines, self->colors);
	fleet_log_lines_set_max_lines(self->lines, fleet_log_view_max_lines(self));
	self->held = 0;
	self->shown_seq = self->clear_seq;
	fleet_log_view_update_held(self);

	if (self->hub == NULL) {
		gtk_label_set_text(self->placeholder_label, _("No logs yet"));
		gtk_stack_set_visible_child_name(self->stack, "placeholder");
		fleet_log_view_update_status(self);
		return;
	}
	if (self->mode == FLEET_LOG_VIEW_MODE_DEVICE &&
	    fleet_log_view_current_device(self) == NULL) {
		gtk_label_set_text(self->placeholder_label, _("Select a device to see its log"));
		gtk_stack_set_visible_child_name(self->stack, "placeholder");
		fleet_log_view_update_status(self);
		return;
	}
	if (self->mode == FLEET_LOG_VIEW_MODE_MERGED_SELECTED &&
	    (self->selected == NULL || self->selected[0] == NULL)) {
		gtk_label_set_text(self->placeholder_label,
				   _("Select devices to see their logs merged"));
		gtk_stack_set_visible_child_name(self->stack, "placeholder");
		fleet_log_view_update_status(self);
		return;
	}
	fleet_log_hub_flush(self->hub);
	lines = fleet_log_hub_collect(self->hub, self->filter, fleet_log_view_max_lines(self),
				      &dropped);
	/* lines hidden by Clear are not "dropped" */
	while (lines->len > 0 &&
	       fleet_log_line_get_seq(g_ptr_array_index(lines, 0)) <= self->clear_seq)
		g_ptr_array_remove_index(lines, 0);
	fleet_log_lines_set_dropped_before(self->lines, self->clear_seq == 0 ? dropped : 0);
	gtk_stack_set_visible_child_name(self->stack, "text");
	fleet_log_view_append(self, lines);
	self->shown_seq = MAX(self->shown_seq, fleet_log_hub_get_last_seq(self->hub));
	fleet_log_lines_scroll_to_end(self->lines);
	fleet_log_view_update_status(self);
}

/* ---- status, serial controls ---- */

static FleetLogSource *
fleet_log_view_current_source(FleetLogView *self)
{
	const gchar *id = fleet_log_view_current_device(self);
	if (self->hub == NULL || id == NULL || self->mode != FLEET_LOG_VIEW_MODE_DEVICE)
		return NULL;
	return fleet_log_hub_find_source(self->hub, id);
}

static void
fleet_log_view_update_serial(FleetLogView *self)
{
	FleetLogSource *source = fleet_log_view_current_source(self);
	FleetLogSourceSerial *serial = source != NULL && FLEET_IS_LOG_SOURCE_SERIAL(source)
					   ? FLEET_LOG_SOURCE_SERIAL(source)
					   : NULL;
	GAction *reset = g_action_map_lookup_action(G_ACTION_MAP(self->actions), "reset-device");
	g_autofree gchar *baud = NULL;

	g_simple_action_set_enabled(G_SIMPLE_ACTION(reset), serial != NULL);
	gtk_revealer_set_reveal_child(self->serial_revealer, serial != NULL);
	if (serial == NULL) {
		g_clear_pointer(&self->serial_id, g_free);
		return;
	}
	/* the controls are filled in once per port, not over what the user is typing */
	if (g_strcmp0(self->serial_id, fleet_log_source_serial_get_device_id(serial)) == 0)
		return;
	g_free(self->serial_id);
	self->serial_id = g_strdup(fleet_log_source_serial_get_device_id(serial));
	self->updating_controls = TRUE;
	gtk_label_set_text(self->serial_label, fleet_log_source_serial_get_path(serial));
	baud = g_strdup_printf("%u", fleet_log_source_serial_get_baud(serial));
	gtk_entry_set_text(GTK_ENTRY(gtk_bin_get_child(GTK_BIN(self->serial_baud_combo))), baud);
	gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(self->dtr_check),
				     fleet_log_source_serial_get_dtr(serial));
	gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(self->rts_check),
				     fleet_log_source_serial_get_rts(serial));
	self->updating_controls = FALSE;
}

static gboolean
fleet_log_view_notice_timeout_cb(gpointer user_data)
{
	FleetLogView *self = FLEET_LOG_VIEW(user_data);
	self->notice_id = 0;
	g_clear_pointer(&self->notice, g_free);
	fleet_log_view_update_status(self);
	return G_SOURCE_REMOVE;
}

/* a message for the user (a failed reset, a file that cannot be written) that stays in the
 * status line for a while, whatever else the status would say */
static void
fleet_log_view_notice(FleetLogView *self, const gchar *text)
{
	g_free(self->notice);
	self->notice = g_strdup(text);
	g_clear_handle_id(&self->notice_id, g_source_remove);
	self->notice_id = g_timeout_add_seconds(8, fleet_log_view_notice_timeout_cb, self);
	gtk_label_set_text(self->status_label, text);
}

static void
fleet_log_view_update_status(FleetLogView *self)
{
	g_autofree gchar *count = NULL;
	g_autofree gchar *status = NULL;
	FleetLogSource *source = fleet_log_view_current_source(self);

	count = g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%u line", "%u lines",
					    fleet_log_lines_get_n_lines(self->lines)),
				fleet_log_lines_get_n_lines(self->lines));
	gtk_label_set_text(self->count_label, count);
	if (self->notice != NULL) {
		status = g_strdup(self->notice);
	} else if (self->recorder != NULL) {
		g_autofree gchar *path =
		    g_file_get_parse_name(fleet_log_recorder_get_folder(self->recorder));
		/* TRANSLATORS: %s is a folder */
		status = g_strdup_printf(_("Recording every device's log to %s"), path);
	} else if (source != NULL) {
		g_autofree gchar *what = fleet_log_source_describe(source);
		const gchar *detail = fleet_log_source_get_status(source);
		status = detail != NULL ? g_strdup_printf("%s — %s", what, detail) : g_strdup(what);
	} else if (self->hub != NULL && self->mode == FLEET_LOG_VIEW_MODE_DEVICE &&
		   fleet_log_view_current_device(self) != NULL) {
		/* nothing streams this device's log: say why the view stays empty */
		status = g_strdup(_("No log stream for this device: it announces no log port "
				    "(the + button adds a serial port, a log port or syslog)"));
	} else if (self->hub != NULL && fleet_log_view_merged(self)) {
		g_auto(GStrv) ids = fleet_log_hub_dup_device_ids(self->hub);
		guint n = g_strv_length(ids);
		status = g_strdup_printf(
		    g_dngettext(GETTEXT_PACKAGE, "%u device with logs", "%u devices with logs", n),
		    n);
	}
	if (g_strcmp0(gtk_label_get_text(self->status_label), status != NULL ? status : "") != 0)
		gtk_label_set_text(self->status_label, status != NULL ? status : "");
	fleet_log_view_update_serial(self);
}

/* ---- public API ---- */

static void
fleet_log_view_hub_cleared_cb(FleetLogHub *hub, gpointer user_data)
{
	fleet_log_view_rebuild(FLEET_LOG_VIEW(user_data));
}

static void
fleet_log_view_hub_ring_cb(FleetLogHub *hub, GParamSpec *pspec, gpointer user_data)
{
	FleetLogView *self = FLEET_LOG_VIEW(user_data);
	fleet_log_lines_set_max_lines(self->lines, fleet_log_view_max_lines(self));
}

/* lets go of the hub without touching any widget (also from dispose) */
static void
fleet_log_view_detach_hub(FleetLogView *self)
{
	if (self->hub == NULL)
		return;
	g_clear_signal_handler(&self->lines_id, self->hub);
	g_clear_signal_handler(&self->cleared_id, self->hub);
	g_clear_signal_handler(&self->ring_id, self->hub);
	if (self->recorder != NULL) {
		g_signal_handlers_disconnect_by_data(self->recorder, self);
		fleet_log_recorder_stop(self->recorder);
		g_clear_object(&self->recorder);
	}
	g_clear_object(&self->hub);
}

void
fleet_log_view_set_hub(FleetLogView *self, FleetLogHub *hub)
{
	g_return_if_fail(FLEET_IS_LOG_VIEW(self));
	g_return_if_fail(hub == NULL || FLEET_IS_LOG_HUB(hub));
	if (self->hub == hub)
		return;
	if (self->recorder != NULL)
		fleet_log_view_sync_bool_action(self, "record", FALSE);
	fleet_log_view_detach_hub(self);
	g_set_object(&self->hub, hub);
	fleet_log_sources_popover_set_hub(self->sources_popover, hub);
	self->clear_seq = 0;
	if (hub != NULL) {
		self->lines_id = g_signal_connect_object(
		    hub, "lines-added", G_CALLBACK(fleet_log_view_lines_added_cb), self, 0);
		self->cleared_id = g_signal_connect_object(
		    hub, "cleared", G_CALLBACK(fleet_log_view_hub_cleared_cb), self, 0);
		self->ring_id = g_signal_connect_object(
		    hub, "notify::ring-lines", G_CALLBACK(fleet_log_view_hub_ring_cb), self, 0);
	}
	fleet_log_view_rebuild(self);
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_HUB]);
}

FleetLogHub *
fleet_log_view_get_hub(FleetLogView *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_VIEW(self), NULL);
	return self->hub;
}

void
fleet_log_view_set_selected_devices(FleetLogView *self, const gchar *const *device_ids)
{
	const gchar *before;
	gboolean same;

	g_return_if_fail(FLEET_IS_LOG_VIEW(self));
	same = (device_ids == NULL || device_ids[0] == NULL)
		   ? (self->selected == NULL || self->selected[0] == NULL)
		   : (self->selected != NULL &&
		      g_strv_equal(device_ids, (const gchar *const *)self->selected));
	if (same)
		return;
	before = fleet_log_view_current_device(self);
	{
		g_autofree gchar *first_before = g_strdup(before);
		g_strfreev(self->selected);
		self->selected = device_ids != NULL ? g_strdupv((gchar **)device_ids) : NULL;
		/* the merged view of all devices does not depend on the selection */
		if (self->mode == FLEET_LOG_VIEW_MODE_MERGED_ALL)
			return;
		if (self->mode == FLEET_LOG_VIEW_MODE_DEVICE &&
		    g_strcmp0(first_before, fleet_log_view_current_device(self)) == 0)
			return;
	}
	fleet_log_view_rebuild(self);
}

void
fleet_log_view_set_mode(FleetLogView *self, FleetLogViewMode mode)
{
	g_return_if_fail(FLEET_IS_LOG_VIEW(self));
	g_return_if_fail(mode <= FLEET_LOG_VIEW_MODE_MERGED_SELECTED);
	if (self->mode == mode)
		return;
	self->mode = mode;
	gtk_combo_box_set_active_id(GTK_COMBO_BOX(self->mode_combo), fleet_log_view_mode_ids[mode]);
	g_action_group_change_action_state(G_ACTION_GROUP(self->actions), "mode",
					   g_variant_new_string(fleet_log_view_mode_ids[mode]));
	fleet_log_view_rebuild(self);
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_MODE]);
}

FleetLogViewMode
fleet_log_view_get_mode(FleetLogView *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_VIEW(self), FLEET_LOG_VIEW_MODE_DEVICE);
	return self->mode;
}

static void
fleet_log_view_sync_bool_action(FleetLogView *self, const gchar *name, gboolean value)
{
	GAction *action = g_action_map_lookup_action(G_ACTION_MAP(self->actions), name);
	g_simple_action_set_state(G_SIMPLE_ACTION(action), g_variant_new_boolean(value));
}

void
fleet_log_view_set_paused(FleetLogView *self, gboolean paused)
{
	g_return_if_fail(FLEET_IS_LOG_VIEW(self));
	if (self->paused == paused)
		return;
	self->paused = paused;
	fleet_log_view_sync_bool_action(self, "pause", paused);
	if (paused) {
		self->held = 0;
		fleet_log_view_update_held(self);
	} else {
		/* what was held back comes from the rings, in order */
		fleet_log_view_rebuild(self);
	}
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_PAUSED]);
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_HELD]);
}

gboolean
fleet_log_view_get_paused(FleetLogView *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_VIEW(self), FALSE);
	return self->paused;
}

guint
fleet_log_view_get_held(FleetLogView *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_VIEW(self), 0);
	return self->held;
}

void
fleet_log_view_set_timestamps(FleetLogView *self, gboolean timestamps)
{
	g_return_if_fail(FLEET_IS_LOG_VIEW(self));
	if (self->timestamps == timestamps)
		return;
	self->timestamps = timestamps;
	fleet_log_view_sync_bool_action(self, "timestamps", timestamps);
	if (!self->paused)
		fleet_log_view_rebuild(self);
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_TIMESTAMPS]);
}

gboolean
fleet_log_view_get_timestamps(FleetLogView *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_VIEW(self), FALSE);
	return self->timestamps;
}

void
fleet_log_view_set_colors(FleetLogView *self, gboolean colors)
{
	g_return_if_fail(FLEET_IS_LOG_VIEW(self));
	if (self->colors == colors)
		return;
	self->colors = colors;
	fleet_log_view_sync_bool_action(self, "colors", colors);
	if (!self->paused)
		fleet_log_view_rebuild(self);
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_COLORS]);
}

gboolean
fleet_log_view_get_colors(FleetLogView *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_VIEW(self), FALSE);
	return self->colors;
}

gboolean
fleet_log_view_get_follow(FleetLogView *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_VIEW(self), FALSE);
	return fleet_log_lines_get_follow(self->lines);
}

void
fleet_log_view_scroll_to_end(FleetLogView *self)
{
	g_return_if_fail(FLEET_IS_LOG_VIEW(self));
	fleet_log_lines_scroll_to_end(self->lines);
}

gboolean
fleet_log_view_set_filter_text(FleetLogView *self,
			       const gchar *text,
			       gboolean regex,
			       GError **error)
{
	g_return_val_if_fail(FLEET_IS_LOG_VIEW(self), FALSE);
	/* plain text ignores case; an expression means what it says */
	if (!fleet_log_filter_set_text(self->filter, text, regex, regex, error))
		return FALSE;
	fleet_log_view_rebuild(self);
	return TRUE;
}

void
fleet_log_view_set_filter_level(FleetLogView *self, FleetLogLevel level)
{
	g_return_if_fail(FLEET_IS_LOG_VIEW(self));
	if (fleet_log_filter_get_level(self->filter) == level)
		return;
	fleet_log_filter_set_level(self->filter, level, FALSE);
	fleet_log_view_rebuild(self);
}

void
fleet_log_view_set_filter_tag(FleetLogView *self, const gchar *tag)
{
	g_return_if_fail(FLEET_IS_LOG_VIEW(self));
	fleet_log_filter_set_tag(self->filter, tag);
	fleet_log_view_rebuild(self);
}

void
fleet_log_view_clear(FleetLogView *self)
{
	g_return_if_fail(FLEET_IS_LOG_VIEW(self));
	if (self->hub != NULL) {
		fleet_log_hub_flush(self->hub);
		self->clear_seq = fleet_log_hub_get_last_seq(self->hub);
	}
	fleet_log_view_rebuild(self);
}

guint
fleet_log_view_get_n_lines(FleetLogView *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_VIEW(self), 0);
	return fleet_log_lines_get_n_lines(self->lines);
}

gchar *
fleet_log_view_get_text(FleetLogView *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_VIEW(self), NULL);
	return fleet_log_lines_get_text(self->lines, FALSE);
}

gboolean
fleet_log_view_save_to_file(FleetLogView *self, GFile *file, GError **error)
{
	g_autoptr(GPtrArray) lines = NULL;
	g_autoptr(GString) out = g_string_new(NULL);
	FleetLogFormatFlags flags = FLEET_LOG_FORMAT_NONE;

	g_return_val_if_fail(FLEET_IS_LOG_VIEW(self), FALSE);
	g_return_val_if_fail(G_IS_FILE(file), FALSE);
	if (self->hub != NULL) {
		fleet_log_view_sync_scope(self);
		lines = fleet_log_hub_collect(self->hub, self->filter, 0, NULL);
	}
	if (self->timestamps)
		flags |= FLEET_LOG_FORMAT_HOST_TIME;
	if (fleet_log_view_merged(self))
		flags |= FLEET_LOG_FORMAT_DEVICE;
	for (guint i = 0; lines != NULL && i < lines->len; i++) {
		FleetLogLine *line = g_ptr_array_index(lines, i);
		g_autofree gchar *name = NULL;
		if (fleet_log_line_get_seq(line) <= self->clear_seq)
			continue;
		if (flags & FLEET_LOG_FORMAT_DEVICE)
			name = fleet_log_hub_dup_display_name(self->hub,
							      fleet_log_line_get_device_id(line));
		fleet_log_line_format(line, name, flags, out);
	}
	return g_file_replace_contents(file, out->str, out->len, NULL, FALSE, G_FILE_CREATE_NONE,
				       NULL, NULL, error);
}

static void
fleet_log_view_recorder_failed_cb(FleetLogRecorder *recorder, GError *error, gpointer user_data)
{
	FleetLogView *self = FLEET_LOG_VIEW(user_data);
	g_autofree gchar *text = NULL;
	fleet_log_view_set_recording(self, NULL, NULL);
	/* TRANSLATORS: %s says why */
	text = g_strdup_printf(_("Recording stopped: %s"), error->message);
	fleet_log_view_notice(self, text);
}

gboolean
fleet_log_view_set_recording(FleetLogView *self, GFile *folder, GError **error)
{
	g_return_val_if_fail(FLEET_IS_LOG_VIEW(self), FALSE);
	if (self->recorder != NULL) {
		g_signal_handlers_disconnect_by_data(self->recorder, self);
		fleet_log_recorder_stop(self->recorder);
		g_clear_object(&self->recorder);
	}
	if (folder != NULL) {
		if (self->hub == NULL) {
			g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
					    _("There is no log to record"));
			return FALSE;
		}
		self->recorder = fleet_log_recorder_new(self->hub, folder, error);
		if (self->recorder == NULL) {
			fleet_log_view_sync_bool_action(self, "record", FALSE);
			return FALSE;
		}
		g_signal_connect(self->recorder, "failed",
				 G_CALLBACK(fleet_log_view_recorder_failed_cb), self);
	}
	fleet_log_view_sync_bool_action(self, "record", self->recorder != NULL);
	fleet_log_view_update_status(self);
	return TRUE;
}

GFile *
fleet_log_view_get_recording(FleetLogView *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_VIEW(self), NULL);
	return self->recorder != NULL ? fleet_log_recorder_get_folder(self->recorder) : NULL;
}

gint64
fleet_log_view_get_max_batch_us(FleetLogView *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_VIEW(self), 0);
	return self->max_batch_us;
}

/* ---- actions ---- */

static void
fleet_log_view_mode_action_cb(GSimpleAction *action, GVariant *value, gpointer user_data)
{
	FleetLogView *self = FLEET_LOG_VIEW(user_data);
	const gchar *id = g_variant_get_string(value, NULL);
	for (guint i = 0; i < G_N_ELEMENTS(fleet_log_view_mode_ids); i++) {
		if (g_strcmp0(id, fleet_log_view_mode_ids[i]) == 0) {
			g_simple_action_set_state(action, value);
			fleet_log_view_set_mode(self, (FleetLogViewMode)i);
		}
	}
}

static void
fleet_log_view_toggle_action_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	g_autoptr(GVariant) state = g_action_get_state(G_ACTION(action));
	g_action_change_state(G_ACTION(action),
			      g_variant_new_boolean(!g_variant_get_boolean(state)));
}

static void
fleet_log_view_pause_action_cb(GSimpleAction *action, GVariant *value, gpointer user_data)
{
	fleet_log_view_set_paused(FLEET_LOG_VIEW(user_data), g_variant_get_boolean(value));
}

static void
fleet_log_view_timestamps_action_cb(GSimpleAction *action, GVariant *value, gpointer user_data)
{
	fleet_log_view_set_timestamps(FLEET_LOG_VIEW(user_data), g_variant_get_boolean(value));
}

static void
fleet_log_view_colors_action_cb(GSimpleAction *action, GVariant *value, gpointer user_data)
{
	fleet_log_view_set_colors(FLEET_LOG_VIEW(user_data), g_variant_get_boolean(value));
}

static void
fleet_log_view_clear_action_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	fleet_log_view_clear(FLEET_LOG_VIEW(user_data));
}

static void
fleet_log_view_follow_action_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	fleet_log_view_scroll_to_end(FLEET_LOG_VIEW(user_data));
}

static void
fleet_log_view_copy_action_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	FleetLogView *self = FLEET_LOG_VIEW(user_data);
	GtkClipboard *clipboard =
	    gtk_widget_get_clipboard(GTK_WIDGET(self), GDK_SELECTION_CLIPBOARD);
	g_autofree gchar *text = fleet_log_lines_get_text(self->lines, TRUE);
	gtk_clipboard_set_text(clipboard, text, -1);
}

static void
fleet_log_view_save_response_cb(GtkNativeDialog *dialog, gint response, gpointer user_data)
{
	FleetLogView *self = FLEET_LOG_VIEW(user_data);
	g_autoptr(GFile) file = NULL;
	g_autoptr(GError) error = NULL;

	if (response == GTK_RESPONSE_ACCEPT) {
		file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
		if (!fleet_log_view_save_to_file(self, file, &error)) {
			/* TRANSLATORS: %s says why */
			g_autofree gchar *text =
			    g_strdup_printf(_("Cannot save the log: %s"), error->message);
			fleet_log_view_notice(self, text);
		}
	}
	g_object_unref(dialog);
}

static void
fleet_log_view_save_action_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	FleetLogView *self = FLEET_LOG_VIEW(user_data);
	GtkWidget *toplevel = gtk_widget_get_toplevel(GTK_WIDGET(self));
	GtkFileChooserNative *dialog = gtk_file_chooser_native_new(
	    _("Save Log"), GTK_IS_WINDOW(toplevel) ? GTK_WINDOW(toplevel) : NULL,
	    GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"), _("_Cancel"));
	g_autofree gchar *name = NULL;
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	g_autofree gchar *stamp = g_date_time_format(now, "%Y%m%d-%H%M%S");

	gtk_file_chooser_set_do_overwrite_confirmation(GTK_FILE_CHOOSER(dialog), TRUE);
	/* a file name from the date, never from device text */
	name = g_strdup_printf("espfleet-log-%s.txt", stamp);
	gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(dialog), name);
	g_signal_connect(dialog, "response", G_CALLBACK(fleet_log_view_save_response_cb), self);
	gtk_native_dialog_show(GTK_NATIVE_DIALOG(dialog));
}

static void
fleet_log_view_record_response_cb(GtkNativeDialog *dialog, gint response, gpointer user_data)
{
	FleetLogView *self = FLEET_LOG_VIEW(user_data);
	g_autoptr(GError) error = NULL;
	if (response == GTK_RESPONSE_ACCEPT) {
		g_autoptr(GFile) folder = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
		if (!fleet_log_view_set_recording(self, folder, &error))
			fleet_log_view_notice(self, error->message);
	} else {
		fleet_log_view_sync_bool_action(self, "record", FALSE);
	}
	g_object_unref(dialog);
}

static void
fleet_log_view_record_action_cb(GSimpleAction *action, GVariant *value, gpointer user_data)
{
	FleetLogView *self = FLEET_LOG_VIEW(user_data);
	GtkWidget *toplevel;
	GtkFileChooserNative *dialog;

	if (!g_variant_get_boolean(value)) {
		fleet_log_view_set_recording(self, NULL, NULL);
		return;
	}
	if (self->recorder != NULL)
		return;
	toplevel = gtk_widget_get_toplevel(GTK_WIDGET(self));
	dialog = gtk_file_chooser_native_new(
	    _("Record Logs to a Folder"), GTK_IS_WINDOW(toplevel) ? GTK_WINDOW(toplevel) : NULL,
	    GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Record"), _("_Cancel"));
	g_signal_connect(dialog, "response", G_CALLBACK(fleet_log_view_record_response_cb), self);
	gtk_native_dialog_show(GTK_NATIVE_DIALOG(dialog));
}

static void
fleet_log_view_reset_action_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	FleetLogView *self = FLEET_LOG_VIEW(user_data);
	FleetLogSource *source = fleet_log_view_current_source(self);
	g_autoptr(GError) error = NULL;
	if (source == NULL || !FLEET_IS_LOG_SOURCE_SERIAL(source))
		return;
	if (!fleet_log_source_serial_reset_device(FLEET_LOG_SOURCE_SERIAL(source), &error))
		fleet_log_view_notice(self, error->message);
}

/* ---- toolbar and popover ---- */

static void
fleet_log_view_mode_combo_changed_cb(GtkComboBox *combo, gpointer user_data)
{
	FleetLogView *self = FLEET_LOG_VIEW(user_data);
	const gchar *id = gtk_combo_box_get_active_id(combo);
	for (guint i = 0; id != NULL && i < G_N_ELEMENTS(fleet_log_view_mode_ids); i++) {
		if (g_strcmp0(id, fleet_log_view_mode_ids[i]) == 0)
			fleet_log_view_set_mode(self, (FleetLogViewMode)i);
	}
}

static void
fleet_log_view_apply_search(FleetLogView *self)
{
	g_autoptr(GError) error = NULL;
	const gchar *text = gtk_entry_get_text(GTK_ENTRY(self->search_entry));
	GtkStyleContext *style = gtk_widget_get_style_context(GTK_WIDGET(self->search_entry));
	gboolean regex = gtk_toggle_button_get_active(self->regex_button);

	if (!fleet_log_view_set_filter_text(self, text, regex, &error)) {
		gtk_style_context_add_class(style, "error");
		gtk_widget_set_tooltip_text(GTK_WIDGET(self->search_entry), error->message);
		return;
	}
	gtk_style_context_remove_class(style, "error");
	gtk_widget_set_tooltip_text(GTK_WIDGET(self->search_entry), NULL);
}

static void
fleet_log_view_search_entry_search_changed_cb(GtkSearchEntry *entry, gpointer user_data)
{
	fleet_log_view_apply_search(FLEET_LOG_VIEW(user_data));
}

static void
fleet_log_view_regex_button_toggled_cb(GtkToggleButton *button, gpointer user_data)
{
	fleet_log_view_apply_search(FLEET_LOG_VIEW(user_data));
}

static void
fleet_log_view_level_combo_changed_cb(GtkComboBox *combo, gpointer user_data)
{
	FleetLogView *self = FLEET_LOG_VIEW(user_data);
	FleetLogLevel level = FLEET_LOG_LEVEL_NONE;
	const gchar *id = gtk_combo_box_get_active_id(combo);
	if (id != NULL && g_strcmp0(id, "all") != 0 && !fleet_log_level_from_string(id, &level))
		level = FLEET_LOG_LEVEL_NONE;
	fleet_log_view_set_filter_level(self, level);
}

static gboolean
fleet_log_view_tag_timeout_cb(gpointer user_data)
{
	FleetLogView *self = FLEET_LOG_VIEW(user_data);
	g_autofree gchar *tag = g_strstrip(g_strdup(gtk_entry_get_text(self->tag_entry)));
	self->tag_timeout_id = 0;
	fleet_log_view_set_filter_tag(self, tag);
	return G_SOURCE_REMOVE;
}

static void
fleet_log_view_tag_entry_changed_cb(GtkEditable *editable, gpointer user_data)
{
	FleetLogView *self = FLEET_LOG_VIEW(user_data);
	/* like the search entry: wait for a pause in typing */
	g_clear_handle_id(&self->tag_timeout_id, g_source_remove);
	self->tag_timeout_id = g_timeout_add(200, fleet_log_view_tag_timeout_cb, self);
}

static void
fleet_log_view_serial_baud_combo_changed_cb(GtkComboBox *combo, gpointer user_data)
{
	FleetLogView *self = FLEET_LOG_VIEW(user_data);
	FleetLogSource *source = fleet_log_view_current_source(self);
	g_autoptr(GError) error = NULL;
	const gchar *text;
	guint64 baud = 0;

	if (self->updating_controls || source == NULL || !FLEET_IS_LOG_SOURCE_SERIAL(source))
		return;
	/* only whole choices from the list, or a number the user finished typing */
	if (gtk_combo_box_get_active(combo) < 0)
		return;
	text = gtk_entry_get_text(GTK_ENTRY(gtk_bin_get_child(GTK_BIN(combo))));
	if (!g_ascii_string_to_unsigned(text, 10, 50, 20000000, &baud, NULL))
		return;
	if (!fleet_log_source_serial_set_baud(FLEET_LOG_SOURCE_SERIAL(source), (guint)baud, &error))
		fleet_log_view_notice(self, error->message);
}

static void
fleet_log_view_modem_line_toggled_cb(GtkToggleButton *button, gpointer user_data)
{
	FleetLogView *self = FLEET_LOG_VIEW(user_data);
	FleetLogSource *source = fleet_log_view_current_source(self);
	g_autoptr(GError) error = NULL;
	if (self->updating_controls || source == NULL || !FLEET_IS_LOG_SOURCE_SERIAL(source))
		return;
	if (!fleet_log_source_serial_set_modem_lines(
		FLEET_LOG_SOURCE_SERIAL(source),
		gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(self->dtr_check)),
		gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(self->rts_check)), &error)) {
		fleet_log_view_notice(self, error->message);
		fleet_log_view_update_serial(self);
	}
}

/* a source added from the popover shows at once */
static void
fleet_log_view_show_source(FleetLogView *self, FleetLogSource *source)
{
	const gchar *id = fleet_log_source_get_device_id(source);
	const gchar *ids[] = {id, NULL};
	if (id == NULL)
		return;
	fleet_log_view_set_mode(self, FLEET_LOG_VIEW_MODE_DEVICE);
	fleet_log_view_set_selected_devices(self, ids);
	fleet_log_view_rebuild(self);
}

/* a source the user added from the popover shows at once: its device, or every device */
static void
fleet_log_view_source_added_cb(FleetLogSourcesPopover *popover,
			       FleetLogSource *source,
			       gpointer user_data)
{
	FleetLogView *self = FLEET_LOG_VIEW(user_data);
	if (fleet_log_source_get_device_id(source) == NULL) {
		fleet_log_view_set_mode(self, FLEET_LOG_VIEW_MODE_MERGED_ALL);
		return;
	}
	fleet_log_view_show_source(self, source);
}

static void
fleet_log_view_follow_cb(FleetLogLines *lines, GParamSpec *pspec, gpointer user_data)
{
	FleetLogView *self = FLEET_LOG_VIEW(user_data);
	gtk_revealer_set_reveal_child(self->jump_revealer, !fleet_log_lines_get_follow(lines));
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_FOLLOW]);
}

/* ---- GObject ---- */

static void
fleet_log_view_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	FleetLogView *self = FLEET_LOG_VIEW(object);
	switch (prop_id) {
	case PROP_HUB:
		g_value_set_object(value, self->hub);
		break;
	case PROP_MODE:
		g_value_set_enum(value, self->mode);
		break;
	case PROP_PAUSED:
		g_value_set_boolean(value, self->paused);
		break;
	case PROP_TIMESTAMPS:
		g_value_set_boolean(value, self->timestamps);
		break;
	case PROP_COLORS:
		g_value_set_boolean(value, self->colors);
		break;
	case PROP_FOLLOW:
		g_value_set_boolean(value, fleet_log_lines_get_follow(self->lines));
		break;
	case PROP_HELD:
		g_value_set_uint(value, self->held);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
fleet_log_view_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
	FleetLogView *self = FLEET_LOG_VIEW(object);
	switch (prop_id) {
	case PROP_HUB:
		fleet_log_view_set_hub(self, g_value_get_object(value));
		break;
	case PROP_MODE:
		fleet_log_view_set_mode(self, g_value_get_enum(value));
		break;
	case PROP_PAUSED:
		fleet_log_view_set_paused(self, g_value_get_boolean(value));
		break;
	case PROP_TIMESTAMPS:
		fleet_log_view_set_timestamps(self, g_value_get_boolean(value));
		break;
	case PROP_COLORS:
		fleet_log_view_set_colors(self, g_value_get_boolean(value));
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
fleet_log_view_dispose(GObject *object)
{
	FleetLogView *self = FLEET_LOG_VIEW(object);
	g_clear_handle_id(&self->tag_timeout_id, g_source_remove);
	g_clear_handle_id(&self->notice_id, g_source_remove);
	fleet_log_view_detach_hub(self);
	g_clear_object(&self->actions);
	G_OBJECT_CLASS(fleet_log_view_parent_class)->dispose(object);
}

static void
fleet_log_view_finalize(GObject *object)
{
	FleetLogView *self = FLEET_LOG_VIEW(object);
	g_clear_object(&self->filter);
	g_strfreev(self->selected);
	g_free(self->serial_id);
	g_free(self->notice);
	G_OBJECT_CLASS(fleet_log_view_parent_class)->finalize(object);
}

static void
fleet_log_view_class_init(FleetLogViewClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
	g_autoptr(GBytes) template = NULL;

	/* the template is in this library's own resource, so the view works in any program */
	g_type_ensure(FLEET_TYPE_LOG_LINES);
	g_type_ensure(FLEET_TYPE_LOG_SOURCES_POPOVER);
	object_class->get_property = fleet_log_view_get_property;
	object_class->set_property = fleet_log_view_set_property;
	object_class->dispose = fleet_log_view_dispose;
	object_class->finalize = fleet_log_view_finalize;

	props[PROP_HUB] = g_param_spec_object("hub", NULL, NULL, FLEET_TYPE_LOG_HUB,
					      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
						  G_PARAM_STATIC_STRINGS);
	props[PROP_MODE] = g_param_spec_enum(
	    "mode", NULL, NULL, FLEET_TYPE_LOG_VIEW_MODE, FLEET_LOG_VIEW_MODE_DEVICE,
	    G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
	props[PROP_PAUSED] = g_param_spec_boolean("paused", NULL, NULL, FALSE,
						  G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
						      G_PARAM_STATIC_STRINGS);
	props[PROP_TIMESTAMPS] = g_param_spec_boolean("timestamps", NULL, NULL, FALSE,
						      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
							  G_PARAM_STATIC_STRINGS);
	props[PROP_COLORS] = g_param_spec_boolean("colors", NULL, NULL, TRUE,
						  G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
						      G_PARAM_STATIC_STRINGS);
	props[PROP_FOLLOW] = g_param_spec_boolean("follow", NULL, NULL, TRUE,
						  G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	props[PROP_HELD] = g_param_spec_uint("held", NULL, NULL, 0, G_MAXUINT, 0,
					     G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, props);

	template = g_resource_lookup_data(fleet_log_view_resources_get_resource(),
					  "/io/github/espfleet/EspFleet/fleet-log-view.ui",
					  G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
	gtk_widget_class_set_template(widget_class, template);
	gtk_widget_class_bind_template_child(widget_class, FleetLogView, mode_combo);
	gtk_widget_class_bind_template_child(widget_class, FleetLogView, search_entry);
	gtk_widget_class_bind_template_child(widget_class, FleetLogView, regex_button);
	gtk_widget_class_bind_template_child(widget_class, FleetLogView, level_combo);
	gtk_widget_class_bind_template_child(widget_class, FleetLogView, tag_entry);
	gtk_widget_class_bind_template_child(widget_class, FleetLogView, held_label);
	gtk_widget_class_bind_template_child(widget_class, FleetLogView, serial_revealer);
	gtk_widget_class_bind_template_child(widget_class, FleetLogView, serial_label);
	gtk_widget_class_bind_template_child(widget_class, FleetLogView, serial_baud_combo);
	gtk_widget_class_bind_template_child(widget_class, FleetLogView, dtr_check);
	gtk_widget_class_bind_template_child(widget_class, FleetLogView, rts_check);
	gtk_widget_class_bind_template_child(widget_class, FleetLogView, stack);
	gtk_widget_class_bind_template_child(widget_class, FleetLogView, placeholder_label);
	gtk_widget_class_bind_template_child(widget_class, FleetLogView, scroll);
	gtk_widget_class_bind_template_child(widget_class, FleetLogView, lines);
	gtk_widget_class_bind_template_child(widget_class, FleetLogView, jump_revealer);
	gtk_widget_class_bind_template_child(widget_class, FleetLogView, status_label);
	gtk_widget_class_bind_template_child(widget_class, FleetLogView, count_label);
	gtk_widget_class_bind_template_child(widget_class, FleetLogView, sources_popover);
	gtk_widget_class_bind_template_callback(widget_class, fleet_log_view_mode_combo_changed_cb);
	gtk_widget_class_bind_template_callback(widget_class,
						fleet_log_view_search_entry_search_changed_cb);
	gtk_widget_class_bind_template_callback(widget_class,
						fleet_log_view_regex_button_toggled_cb);
	gtk_widget_class_bind_template_callback(widget_class,
						fleet_log_view_level_combo_changed_cb);
	gtk_widget_class_bind_template_callback(widget_class, fleet_log_view_tag_entry_changed_cb);
	gtk_widget_class_bind_template_callback(widget_class,
						fleet_log_view_serial_baud_combo_changed_cb);
	gtk_widget_class_bind_template_callback(widget_class, fleet_log_view_modem_line_toggled_cb);
	gtk_widget_class_bind_template_callback(widget_class, fleet_log_view_source_added_cb);
	gtk_widget_class_set_css_name(widget_class, "fleet-log-view");
}

static void
fleet_log_view_init(FleetLogView *self)
{
	const GActionEntry entries[] = {
	    {"mode", NULL, "s", "'device'", fleet_log_view_mode_action_cb, {0}},
	    {"pause",
	     fleet_log_view_toggle_action_cb,
	     NULL,
	     "false",
	     fleet_log_view_pause_action_cb,
	     {0}},
	    {"timestamps",
	     fleet_log_view_toggle_action_cb,
	     NULL,
	     "false",
	     fleet_log_view_timestamps_action_cb,
	     {0}},
	    {"colors",
	     fleet_log_view_toggle_action_cb,
	     NULL,
	     "true",
	     fleet_log_view_colors_action_cb,
	     {0}},
	    {"record",
	     fleet_log_view_toggle_action_cb,
	     NULL,
	     "false",
	     fleet_log_view_record_action_cb,
	     {0}},
	    {"clear", fleet_log_view_clear_action_cb, NULL, NULL, NULL, {0}},
	    {"copy", fleet_log_view_copy_action_cb, NULL, NULL, NULL, {0}},
	    {"save", fleet_log_view_save_action_cb, NULL, NULL, NULL, {0}},
	    {"follow", fleet_log_view_follow_action_cb, NULL, NULL, NULL, {0}},
	    {"reset-device", fleet_log_view_reset_action_cb, NULL, NULL, NULL, {0}},
	};

	self->filter = fleet_log_filter_new();
	self->colors = TRUE;
	self->actions = g_simple_action_group_new();
	g_action_map_add_action_entries(G_ACTION_MAP(self->actions), entries, G_N_ELEMENTS(entries),
					self);
	gtk_widget_insert_action_group(GTK_WIDGET(self), "log", G_ACTION_GROUP(self->actions));

	gtk_widget_init_template(GTK_WIDGET(self));
	fleet_log_lines_set_name_func(self->lines, fleet_log_view_name_cb, self, NULL);
	g_signal_connect_object(self->lines, "notify::follow", G_CALLBACK(fleet_log_view_follow_cb),
				self, 0);
	gtk_combo_box_set_active_id(GTK_COMBO_BOX(self->mode_combo), "device");
	gtk_combo_box_set_active_id(GTK_COMBO_BOX(self->level_combo), "all");
	fleet_log_view_rebuild(self);
}

GtkWidget *
fleet_log_view_new(void)
{
	return g_object_new(FLEET_TYPE_LOG_VIEW, NULL);
}
