/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-device-row.c - one device in the list: tick, name and facts, update state */

#include "config.h"

#include "fleet-device-row.h"

#include <glib/gi18n.h>

/*
 * The row shows its FleetDeviceItem and nothing else: it never talks to the engine. Item
 * changes arrive many times a second during a batch; they are coalesced through one idle
 * per row, and labels are only touched when their text really changes, so 500 rows stay
 * cheap. Every device-provided string is set with gtk_label_set_text(), never as markup.
 */

struct _FleetDeviceRow {
	GtkListBoxRow parent_instance;

	FleetDeviceItem *item;
	FleetDeviceStore *store;
	guint refresh_id;
	gboolean updating; /* refresh() sets the check box: not a user toggle */

	GtkCheckButton *check;
	GtkLabel *online_label;
	GtkLabel *name_label;
	GtkLabel *espota_badge;
	GtkLabel *http_badge;
	GtkImage *lock_icon;
	GtkLabel *detail_label;
	GtkLabel *message_label;
	GtkLabel *version_label;
	GtkStack *status_stack;
	GtkImage *status_icon;
	GtkLabel *status_label;
	GtkLabel *phase_label;
	GtkLabel *percent_label;
	GtkProgressBar *progress_bar;
	GtkLabel *rate_label;
	GtkStack *action_stack;
	GtkButton *menu_button;
	GtkButton *cancel_button;
};

G_DEFINE_TYPE(FleetDeviceRow, fleet_device_row, GTK_TYPE_LIST_BOX_ROW)

enum { SIGNAL_MENU_REQUESTED, SIGNAL_CANCEL_REQUESTED, N_SIGNALS };

static guint signals[N_SIGNALS];

/* a label's text, only when it changed (a same-text set still re-lays the label out) */
static void
fleet_device_row_set_label(GtkLabel *label, const gchar *text)
{
	if (text == NULL)
		text = "";
	if (g_strcmp0(gtk_label_get_text(label), text) != 0)
		gtk_label_set_text(label, text);
	gtk_widget_set_visible(GTK_WIDGET(label), text[0] != '\0');
}

/* the same without hiding an empty label */
static void
fleet_device_row_set_text(GtkLabel *label, const gchar *text)
{
	if (g_strcmp0(gtk_label_get_text(label), text != NULL ? text : "") != 0)
		gtk_label_set_text(label, text != NULL ? text : "");
}

static void
fleet_device_row_set_tooltip(GtkWidget *widget, const gchar *text)
{
	g_autofree gchar *old = gtk_widget_get_tooltip_text(widget);
	if (g_strcmp0(old, text) != 0)
		gtk_widget_set_tooltip_text(widget, text);
}

static void
fleet_device_row_set_class(GtkWidget *widget, const gchar *name, gboolean enabled)
{
	GtkStyleContext *context = gtk_widget_get_style_context(widget);
	if (enabled == gtk_style_context_has_class(context, name))
		return;
	if (enabled)
		gtk_style_context_add_class(context, name);
	else
		gtk_style_context_remove_class(context, name);
}

static void
fleet_device_row_set_icon(GtkImage *image, const gchar *icon_name)
{
	const gchar *current = NULL;
	if (icon_name == NULL) {
		gtk_widget_set_visible(GTK_WIDGET(image), FALSE);
		return;
	}
	gtk_image_get_icon_name(image, &current, NULL);
	if (gtk_image_get_storage_type(image) != GTK_IMAGE_ICON_NAME ||
	    g_strcmp0(current, icon_name) != 0)
		gtk_image_set_from_icon_name(image, icon_name, GTK_ICON_SIZE_BUTTON);
	gtk_widget_set_visible(GTK_WIDGET(image), TRUE);
}

/* "1:05" or "12 s" */
static gchar *
fleet_device_row_format_eta(gint seconds)
{
	if (seconds < 60)
		/* TRANSLATORS: time left of an upload, in seconds */
		return g_strdup_printf(_("%d s left"), seconds);
	/* TRANSLATORS: time left of an upload, minutes:seconds */
	return g_strdup_printf(_("%d:%02d left"), seconds / 60, seconds % 60);
}

static gchar *
fleet_device_row_format_rate(FleetJob *job)
{
	gdouble rate = fleet_job_get_rate(job);
	gint eta = fleet_job_get_eta(job);
	g_autofree gchar *size = NULL;
	g_autofree gchar *left = NULL;

	if (rate < 1.0)
		return NULL;
	size = g_format_size((guint64)rate);
	if (eta < 0)
		/* TRANSLATORS: upload rate, e.g. "120.5 kB/s" */
		return g_strdup_printf(_("%s/s"), size);
	left = fleet_device_row_format_eta(eta);
	/* TRANSLATORS: upload rate and time left, e.g. "120.5 kB/s · 12 s left" */
	return g_strdup_printf(_("%s/s · %s"), size, left);
}

static const gchar *
fleet_device_row_result_icon(FleetJobPhase phase)
{
	switch (phase) {
	case FLEET_JOB_PHASE_VERIFIED:
	case FLEET_JOB_PHASE_UPLOADED:
		return "emblem-ok-symbolic";
	case FLEET_JOB_PHASE_ROLLED_BACK:
	case FLEET_JOB_PHASE_FAILED:
		return "dialog-error-symbolic";
	case FLEET_JOB_PHASE_SKIPPED:
		return "action-unavailable-symbolic";
	case FLEET_JOB_PHASE_CANCELLED:
		return "process-stop-symbolic";
	case FLEET_JOB_PHASE_WAITING_PASSWORD:
		return "dialog-password-symbolic";
	default:
		return NULL;
	}
}

static void
fleet_device_row_refresh_facts(FleetDeviceRow *self)
{
	FleetDevice *device = fleet_device_item_get_device(self->item);
	FleetProtocol protocols = fleet_device_get_protocols(device);
	FleetPasswordState password = fleet_device_item_get_password_state(self->item);
	const gchar *name = fleet_device_item_get_display_name(self->item);
	const gchar *address = fleet_device_get_address(device);
	const gchar *board = fleet_device_get_board(device);
	const gchar *chip = fleet_device_get_chip(device);
	gboolean online = fleet_device_get_online(device);
	g_autoptr(GString) detail = g_string_new(NULL);
	gboolean locked;

	fleet_device_row_set_label(self->name_label, name);
	fleet_device_row_set_class(GTK_WIDGET(self->online_label), "fleet-online", online);
	fleet_device_row_set_tooltip(GTK_WIDGET(self->online_label),
				     online ? _("Online") : _("Offline"));
	fleet_device_row_set_class(GTK_WIDGET(self), "fleet-offline", !online);

	if (address == NULL)
		address = fleet_device_get_hostname(device);
	g_string_append(detail, address != NULL ? address : _("address not known yet"));
	if (fleet_device_get_source(device) == FLEET_DEVICE_SOURCE_MANUAL)
		/* TRANSLATORS: after the address of a device the user added by hand */
		g_string_append(detail, _(" (added by address)"));
	if (board != NULL) {
		g_string_append(detail, " · ");
		g_string_append(detail, board);
	}
	if (chip != NULL && g_strcmp0(chip, board) != 0) {
		g_string_append(detail, " · ");
		g_string_append(detail, chip);
	}
	fleet_device_row_set_label(self->detail_label, detail->str);

	gtk_widget_set_visible(GTK_WIDGET(self->espota_badge),
			       (protocols & FLEET_PROTOCOL_ESPOTA) != 0);
	gtk_widget_set_visible(GTK_WIDGET(self->http_badge),
			       (protocols & FLEET_PROTOCOL_HTTP) != 0);

	locked =
	    fleet_device_get_needs_password(device) || password == FLEET_PASSWORD_STATE_REMEMBERED;
	gtk_widget_set_visible(GTK_WIDGET(self->lock_icon), locked);
	if (locked) {
		const gchar *tip;
		if (password == FLEET_PASSWORD_STATE_REMEMBERED)
			tip = _("Needs a password; one is remembered in the keyring");
		else if (password == FLEET_PASSWORD_STATE_NONE)
			tip = _("Needs a password; none is remembered yet");
		else
			tip = _("Needs a password");
		fleet_device_row_set_tooltip(GTK_WIDGET(self->lock_icon), tip);
		fleet_device_row_set_class(GTK_WIDGET(self->lock_icon), "dim-label",
					   password != FLEET_PASSWORD_STATE_REMEMBERED);
	}
	{
		AtkObject *accessible = gtk_widget_get_accessible(GTK_WIDGET(self->check));
		/* TRANSLATORS: accessible name of a row's check box; %s is the device name */
		g_autofree gchar *label = g_strdup_printf(_("Update %s"), name);
		if (g_strcmp0(atk_object_get_name(accessible), label) != 0)
			atk_object_set_name(accessible, label);
	}
}

static void
fleet_device_row_refresh_version(FleetDeviceRow *self)
{
	FleetDevice *device = fleet_device_item_get_device(self->item);
	FleetImage *image = fleet_device_store_get_image(self->store);
	const gchar *version = fleet_device_get_fw_version(device);
	g_autofree gchar *tip = NULL;
	gboolean outdated = fleet_device_item_is_outdated(self->item);

	fleet_device_row_set_label(self->version_label, version != NULL ? version : "—");
	gtk_widget_set_visible(GTK_WIDGET(self->version_label), TRUE);
	fleet_device_row_set_class(GTK_WIDGET(self->version_label), "dim-label",
				   image != NULL && !outdated);
	if (image != NULL && fleet_image_get_version(image) != NULL) {
		if (version == NULL)
			/* TRANSLATORS: tooltip of the version column; %s is the image's version */
			tip = g_strdup_printf(_("Running version unknown; the chosen image is %s"),
					      fleet_image_get_version(image));
		else if (outdated)
			/* TRANSLATORS: tooltip of the version column */
			tip = g_strdup_printf(_("Runs %s; the chosen image is %s"), version,
					      fleet_image_get_version(image));
		else
			tip = g_strdup_printf(_("Already runs %s, the version of the chosen image"),
					      version);
	} else if (version != NULL) {
		tip = g_strdup_printf(_("Runs firmware version %s"), version);
	}
	fleet_device_row_set_tooltip(GTK_WIDGET(self->version_label), tip);
}

static void
fleet_device_row_refresh_status(FleetDeviceRow *self)
{
	FleetJob *job = fleet_device_item_get_job(self->item);
	const gchar *status = NULL;
	const gchar *icon = NULL;
	const gchar *message = NULL;
	const gchar *message_class = NULL;
	g_autofree gchar *status_owned = NULL;
	g_autofree gchar *percent = NULL;
	g_autofree gchar *rate = NULL;
	gboolean show_bar = FALSE;
	gboolean busy = FALSE;

	if (job != NULL) {
		FleetJobPhase phase = fleet_job_get_phase(job);
		busy = !fleet_job_is_finished(job);
		icon = fleet_device_row_result_icon(phase);
		status = fleet_job_phase_to_string(phase);
		if (busy && fleet_job_get_canary(job))
			/* TRANSLATORS: status of a canary device, e.g. "Canary · Uploading" */
			status = status_owned = g_strdup_printf(_("Canary · %s"), status);
		if (phase == FLEET_JOB_PHASE_UPLOADING ||
		    phase == FLEET_JOB_PHASE_DEVICE_VERIFYING) {
			guint64 total = fleet_job_get_bytes_total(job);
			gdouble fraction =
			    total > 0 ? (gdouble)fleet_job_get_bytes_done(job) / (gdouble)total
				      : 0.0;
			fraction = CLAMP(fraction, 0.0, 1.0);
			show_bar = TRUE;
			if (gtk_progress_bar_get_fraction(self->progress_bar) != fraction)
				gtk_progress_bar_set_fraction(self->progress_bar, fraction);
			/* TRANSLATORS: upload progress in percent */
			percent = g_strdup_printf(_("%d %%"), (gint)(fraction * 100.0));
			if (phase == FLEET_JOB_PHASE_UPLOADING)
				rate = fleet_device_row_format_rate(job);
		}
		if (phase == FLEET_JOB_PHASE_WAITING_PASSWORD || fleet_job_is_finished(job))
			message = fleet_job_get_message(job);
		if (phase == FLEET_JOB_PHASE_FAILED || phase == FLEET_JOB_PHASE_ROLLED_BACK)
			message_class = "fleet-error-text";
		else if (phase == FLEET_JOB_PHASE_SKIPPED ||
			 phase == FLEET_JOB_PHASE_WAITING_PASSWORD)
			message_class = "fleet-warning-text";
		fleet_device_row_set_class(GTK_WIDGET(self->status_icon), "fleet-severity-ok",
					   phase == FLEET_JOB_PHASE_VERIFIED ||
					       phase == FLEET_JOB_PHASE_UPLOADED);
		fleet_device_row_set_class(GTK_WIDGET(self->status_icon), "fleet-severity-error",
					   phase == FLEET_JOB_PHASE_FAILED ||
					       phase == FLEET_JOB_PHASE_ROLLED_BACK);
		fleet_device_row_set_class(GTK_WIDGET(self->status_icon), "fleet-severity-warning",
					   phase == FLEET_JOB_PHASE_SKIPPED ||
					       phase == FLEET_JOB_PHASE_WAITING_PASSWORD);
	} else if (fleet_device_item_has_verdict(self->item)) {
		FleetCompatVerdict verdict = fleet_device_item_get_verdict(self->item);
		message = fleet_device_item_get_verdict_message(self->item);
		if (verdict == FLEET_COMPAT_REFUSE) {
			icon = "dialog-error-symbolic";
			status = _("Incompatible");
			message_class = "fleet-error-text";
		} else if (verdict == FLEET_COMPAT_WARNING) {
			icon = "dialog-warning-symbolic";
			status = _("Compatible, with warnings");
			message_class = "fleet-warning-text";
		} else if (fleet_device_item_is_outdated(self->item)) {
			status = _("Ready to update");
		} else {
			status = _("Already up to date");
		}
		fleet_device_row_set_class(GTK_WIDGET(self->status_icon), "fleet-severity-ok",
					   FALSE);
		fleet_device_row_set_class(GTK_WIDGET(self->status_icon), "fleet-severity-error",
					   verdict == FLEET_COMPAT_REFUSE);
		fleet_device_row_set_class(GTK_WIDGET(self->status_icon), "fleet-severity-warning",
					   verdict == FLEET_COMPAT_WARNING);
	}

	/* a running transfer shows its progress, anything else one line; the stack has one
	 * height for both, so rows never change size while a batch runs */
	if (show_bar) {
		fleet_device_row_set_text(self->phase_label, status);
		fleet_device_row_set_text(self->percent_label, percent);
		fleet_device_row_set_text(self->rate_label, rate);
		gtk_stack_set_visible_child_name(self->status_stack, "progress");
	} else {
		fleet_device_row_set_icon(self->status_icon, icon);
		fleet_device_row_set_label(self->status_label, status);
		gtk_stack_set_visible_child_name(self->status_stack, "state");
	}
	/* "Cancelled" under "Cancelled" says nothing new */
	if (message != NULL && g_strcmp0(message, status) == 0)
		message = NULL;
	fleet_device_row_set_label(self->message_label, message);
	fleet_device_row_set_tooltip(GTK_WIDGET(self->message_label), message);
	fleet_device_row_set_class(GTK_WIDGET(self->message_label), "fleet-error-text",
				   g_strcmp0(message_class, "fleet-error-text") == 0);
	fleet_device_row_set_class(GTK_WIDGET(self->message_label), "fleet-warning-text",
				   g_strcmp0(message_class, "fleet-warning-text") == 0);
	fleet_device_row_set_tooltip(GTK_WIDGET(self->status_label),
				     job == NULL ? fleet_device_item_get_verdict_details(self->item)
						 : NULL);
	gtk_stack_set_visible_child_name(self->action_stack, busy ? "cancel" : "menu");
}

static void
fleet_device_row_refresh(FleetDeviceRow *self)
{
	gboolean can_check = fleet_device_store_can_check(self->store, self->item);

	self->updating = TRUE;
	if (gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(self->check)) !=
	    fleet_device_item_get_checked(self->item))
		gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(self->check),
					     fleet_device_item_get_checked(self->item));
	self->updating = FALSE;
	gtk_widget_set_sensitive(GTK_WIDGET(self->check), can_check);
	fleet_device_row_set_tooltip(GTK_WIDGET(self->check),
				     can_check ? NULL
					       : fleet_device_item_get_verdict_message(self->item));

	fleet_device_row_refresh_facts(self);
	fleet_device_row_refresh_version(self);
	fleet_device_row_refresh_status(self);
}

static gboolean
fleet_device_row_refresh_cb(gpointer user_data)
{
	FleetDeviceRow *self = FLEET_DEVICE_ROW(user_data);
	self->refresh_id = 0;
	fleet_device_row_refresh(self);
	return G_SOURCE_REMOVE;
}

static void
fleet_device_row_item_changed_cb(FleetDeviceItem *item, gpointer user_data)
{
	FleetDeviceRow *self = FLEET_DEVICE_ROW(user_data);
	if (self->refresh_id == 0)
		self->refresh_id = g_idle_add(fleet_device_row_refresh_cb, self);
}

static void
fleet_device_row_check_toggled_cb(GtkToggleButton *button, gpointer user_data)
{
	FleetDeviceRow *self = FLEET_DEVICE_ROW(user_data);
	if (self->updating)
		return;
	fleet_device_item_set_checked(self->item, gtk_toggle_button_get_active(button));
}

static void
fleet_device_row_menu_button_clicked_cb(GtkButton *button, gpointer user_data)
{
	FleetDeviceRow *self = FLEET_DEVICE_ROW(user_data);
	g_signal_emit(self, signals[SIGNAL_MENU_REQUESTED], 0, button, NULL);
}

static void
fleet_device_row_cancel_button_clicked_cb(GtkButton *button, gpointer user_data)
{
	FleetDeviceRow *self = FLEET_DEVICE_ROW(user_data);
	g_signal_emit(self, signals[SIGNAL_CANCEL_REQUESTED], 0);
}

/* Shift+F10 and the Menu key on a focused row */
static gboolean
fleet_device_row_popup_menu(GtkWidget *widget)
{
	FleetDeviceRow *self = FLEET_DEVICE_ROW(widget);
	g_signal_emit(self, signals[SIGNAL_MENU_REQUESTED], 0, self->menu_button, NULL);
	return TRUE;
}

static void
fleet_device_row_dispose(GObject *object)
{
	FleetDeviceRow *self = FLEET_DEVICE_ROW(object);
	g_clear_handle_id(&self->refresh_id, g_source_remove);
	if (self->item != NULL)
		g_signal_handlers_disconnect_by_data(self->item, self);
	g_clear_object(&self->item);
	g_clear_object(&self->store);
	G_OBJECT_CLASS(fleet_device_row_parent_class)->dispose(object);
}

static void
fleet_device_row_class_init(FleetDeviceRowClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	object_class->dispose = fleet_device_row_dispose;
	widget_class->popup_menu = fleet_device_row_popup_menu;

	/* the row's menu should open next to @relative_to (and @rect in it, when given) */
	signals[SIGNAL_MENU_REQUESTED] =
	    g_signal_new("menu-requested", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
			 NULL, NULL, G_TYPE_NONE, 2, GTK_TYPE_WIDGET, G_TYPE_POINTER);
	/* the cancel button of a running update was clicked */
	signals[SIGNAL_CANCEL_REQUESTED] =
	    g_signal_new("cancel-requested", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
			 NULL, NULL, G_TYPE_NONE, 0);

	gtk_widget_class_set_template_from_resource(
	    widget_class, "/io/github/espfleet/EspFleet/fleet-device-row.ui");
	gtk_widget_class_bind_template_child(widget_class, FleetDeviceRow, check);
	gtk_widget_class_bind_template_child(widget_class, FleetDeviceRow, online_label);
	gtk_widget_class_bind_template_child(widget_class, FleetDeviceRow, name_label);
	gtk_widget_class_bind_template_child(widget_class, FleetDeviceRow, espota_badge);
	gtk_widget_class_bind_template_child(widget_class, FleetDeviceRow, http_badge);
	gtk_widget_class_bind_template_child(widget_class, FleetDeviceRow, lock_icon);
	gtk_widget_class_bind_template_child(widget_class, FleetDeviceRow, detail_label);
	gtk_widget_class_bind_template_child(widget_class, FleetDeviceRow, message_label);
	gtk_widget_class_bind_template_child(widget_class, FleetDeviceRow, version_label);
	gtk_widget_class_bind_template_child(widget_class, FleetDeviceRow, status_stack);
	gtk_widget_class_bind_template_child(widget_class, FleetDeviceRow, status_icon);
	gtk_widget_class_bind_template_child(widget_class, FleetDeviceRow, status_label);
	gtk_widget_class_bind_template_child(widget_class, FleetDeviceRow, phase_label);
	gtk_widget_class_bind_template_child(widget_class, FleetDeviceRow, percent_label);
	gtk_widget_class_bind_template_child(widget_class, FleetDeviceRow, progress_bar);
	gtk_widget_class_bind_template_child(widget_class, FleetDeviceRow, rate_label);
	gtk_widget_class_bind_template_child(widget_class, FleetDeviceRow, action_stack);
	gtk_widget_class_bind_template_child(widget_class, FleetDeviceRow, menu_button);
	gtk_widget_class_bind_template_child(widget_class, FleetDeviceRow, cancel_button);
	gtk_widget_class_bind_template_callback(widget_class, fleet_device_row_check_toggled_cb);
	gtk_widget_class_bind_template_callback(widget_class,
						fleet_device_row_menu_button_clicked_cb);
	gtk_widget_class_bind_template_callback(widget_class,
						fleet_device_row_cancel_button_clicked_cb);
}

static void
fleet_device_row_init(FleetDeviceRow *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
}

FleetDeviceItem *
fleet_device_row_get_item(FleetDeviceRow *self)
{
	g_return_val_if_fail(FLEET_IS_DEVICE_ROW(self), NULL);
	return self->item;
}

GtkWidget *
fleet_device_row_new(FleetDeviceItem *item, FleetDeviceStore *store)
{
	FleetDeviceRow *self;

	g_return_val_if_fail(FLEET_IS_DEVICE_ITEM(item), NULL);
	g_return_val_if_fail(FLEET_IS_DEVICE_STORE(store), NULL);
	self = g_object_new(FLEET_TYPE_DEVICE_ROW, NULL);
	self->item = g_object_ref(item);
	self->store = g_object_ref(store);
	g_signal_connect_object(item, "changed", G_CALLBACK(fleet_device_row_item_changed_cb), self,
				0);
	fleet_device_row_refresh(self);
	return GTK_WIDGET(self);
}
