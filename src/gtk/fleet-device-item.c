/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-device-item.c - what the window shows about one device: the engine's FleetDevice,
 * its latest FleetJob, whether it is ticked and its pre-flight verdict for the chosen image
 *
 * GTK-free: the rows, the filters and the test state all read the same item. Every change
 * that can alter what a row shows ends in one "changed" emission; rows coalesce those.
 */

#include "config.h"

#include "fleet-device-item.h"

#include <string.h>

struct _FleetDeviceItem {
	GObject parent_instance;
	FleetDevice *device;
	FleetJob *job;
	gboolean checked;
	FleetImage *image;
	gboolean has_verdict;
	FleetCompatVerdict verdict;
	gchar *verdict_message;
	gchar *verdict_details;
	FleetPasswordState password_state;
};

G_DEFINE_TYPE(FleetDeviceItem, fleet_device_item, G_TYPE_OBJECT)

enum { SIGNAL_CHANGED, N_SIGNALS };

static guint signals[N_SIGNALS];

static void
fleet_device_item_emit_changed(FleetDeviceItem *self)
{
	g_signal_emit(self, signals[SIGNAL_CHANGED], 0);
}

static void
fleet_device_item_update_verdict(FleetDeviceItem *self)
{
	FleetDevice *device = self->device;
	FleetDeviceFacts facts = {
	    .board = fleet_device_get_board(device),
	    .chip = fleet_device_get_chip(device),
	    .slot_size = 0,
	    .free_space = 0,
	    .chip_revision = -1,
	};
	g_autoptr(GPtrArray) reasons = NULL;
	g_autoptr(GString) details = NULL;
	FleetFinding *worst = NULL;

	g_clear_pointer(&self->verdict_message, g_free);
	g_clear_pointer(&self->verdict_details, g_free);
	self->has_verdict = self->image != NULL;
	self->verdict = FLEET_COMPAT_OK;
	if (self->image == NULL)
		return;

	/* the engine's own rules: the same check the job repeats before sending */
	self->verdict = fleet_image_check_compat(self->image, &facts, &reasons);
	details = g_string_new(NULL);
	for (guint i = 0; reasons != NULL && i < reasons->len; i++) {
		FleetFinding *finding = g_ptr_array_index(reasons, i);
		if (finding->severity == FLEET_SEVERITY_INFO)
			continue;
		if (worst == NULL || finding->severity > worst->severity)
			worst = finding;
		if (details->len > 0)
			g_string_append_c(details, '\n');
		g_string_append(details, finding->message);
	}
	if (self->verdict != FLEET_COMPAT_OK && worst != NULL)
		self->verdict_message = g_strdup(worst->message);
	if (details->len > 0)
		self->verdict_details = g_string_free(g_steal_pointer(&details), FALSE);
}

static void
fleet_device_item_device_notify_cb(FleetDevice *device, GParamSpec *pspec, gpointer user_data)
{
	FleetDeviceItem *self = FLEET_DEVICE_ITEM(user_data);

	/* every announcement touches last-seen; nothing shown depends on it */
	if (g_strcmp0(pspec->name, "last-seen") == 0)
		return;
	if (g_strcmp0(pspec->name, "board") == 0 || g_strcmp0(pspec->name, "chip") == 0)
		fleet_device_item_update_verdict(self);
	fleet_device_item_emit_changed(self);
}

static void
fleet_device_item_job_notify_cb(FleetJob *job, GParamSpec *pspec, gpointer user_data)
{
	fleet_device_item_emit_changed(FLEET_DEVICE_ITEM(user_data));
}

static void
fleet_device_item_dispose(GObject *object)
{
	FleetDeviceItem *self = FLEET_DEVICE_ITEM(object);
	if (self->job != NULL)
		g_signal_handlers_disconnect_by_data(self->job, self);
	if (self->device != NULL)
		g_signal_handlers_disconnect_by_data(self->device, self);
	g_clear_object(&self->job);
	g_clear_object(&self->device);
	g_clear_object(&self->image);
	G_OBJECT_CLASS(fleet_device_item_parent_class)->dispose(object);
}

static void
fleet_device_item_finalize(GObject *object)
{
	FleetDeviceItem *self = FLEET_DEVICE_ITEM(object);
	g_free(self->verdict_message);
	g_free(self->verdict_details);
	G_OBJECT_CLASS(fleet_device_item_parent_class)->finalize(object);
}

static void
fleet_device_item_class_init(FleetDeviceItemClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = fleet_device_item_dispose;
	object_class->finalize = fleet_device_item_finalize;

	/* anything a row shows may have changed */
	signals[SIGNAL_CHANGED] =
	    g_signal_new("changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
			 NULL, G_TYPE_NONE, 0);
}

static void
fleet_device_item_init(FleetDeviceItem *self)
{
}

FleetDevice *
fleet_device_item_get_device(FleetDeviceItem *self)
{
	g_return_val_if_fail(FLEET_IS_DEVICE_ITEM(self), NULL);
	return self->device;
}

FleetJob *
fleet_device_item_get_job(FleetDeviceItem *self)
{
	g_return_val_if_fail(FLEET_IS_DEVICE_ITEM(self), NULL);
	return self->job;
}

void
fleet_device_item_set_job(FleetDeviceItem *self, FleetJob *job)
{
	g_return_if_fail(FLEET_IS_DEVICE_ITEM(self));
	g_return_if_fail(job == NULL || FLEET_IS_JOB(job));

	if (self->job == job)
		return;
	if (self->job != NULL)
		g_signal_handlers_disconnect_by_data(self->job, self);
	g_set_object(&self->job, job);
	if (job != NULL)
		g_signal_connect_object(job, "notify", G_CALLBACK(fleet_device_item_job_notify_cb),
					self, 0);
	fleet_device_item_emit_changed(self);
}

gboolean
fleet_device_item_is_busy(FleetDeviceItem *self)
{
	g_return_val_if_fail(FLEET_IS_DEVICE_ITEM(self), FALSE);
	return self->job != NULL && !fleet_job_is_finished(self->job);
}

gboolean
fleet_device_item_get_checked(FleetDeviceItem *self)
{
	g_return_val_if_fail(FLEET_IS_DEVICE_ITEM(self), FALSE);
	return self->checked;
}

void
fleet_device_item_set_checked(FleetDeviceItem *self, gboolean checked)
{
	g_return_if_fail(FLEET_IS_DEVICE_ITEM(self));
	checked = !!checked;
	if (self->checked == checked)
		return;
	self->checked = checked;
	fleet_device_item_emit_changed(self);
}

void
fleet_device_item_set_image(FleetDeviceItem *self, FleetImage *image)
{
	g_return_if_fail(FLEET_IS_DEVICE_ITEM(self));
	g_return_if_fail(image == NULL || FLEET_IS_IMAGE(image));
	g_set_object(&self->image, image);
	fleet_device_item_update_verdict(self);
	fleet_device_item_emit_changed(self);
}

gboolean
fleet_device_item_has_verdict(FleetDeviceItem *self)
{
	g_return_val_if_fail(FLEET_IS_DEVICE_ITEM(self), FALSE);
	return self->has_verdict;
}

FleetCompatVerdict
fleet_device_item_get_verdict(FleetDeviceItem *self)
{
	g_return_val_if_fail(FLEET_IS_DEVICE_ITEM(self), FLEET_COMPAT_OK);
	return self->verdict;
}

const gchar *
fleet_device_item_get_verdict_message(FleetDeviceItem *self)
{
	g_return_val_if_fail(FLEET_IS_DEVICE_ITEM(self), NULL);
	return self->verdict_message;
}

const gchar *
fleet_device_item_get_verdict_details(FleetDeviceItem *self)
{
	g_return_val_if_fail(FLEET_IS_DEVICE_ITEM(self), NULL);
	return self->verdict_details;
}

gboolean
fleet_device_item_is_outdated(FleetDeviceItem *self)
{
	const gchar *running;
	const gchar *offered;

	g_return_val_if_fail(FLEET_IS_DEVICE_ITEM(self), FALSE);
	if (self->image == NULL)
		return FALSE;
	running = fleet_device_get_fw_version(self->device);
	offered = fleet_image_get_version(self->image);
	/* an unknown version on either side may well need the update: keep it in view */
	if (running == NULL || offered == NULL)
		return TRUE;
	return g_strcmp0(running, offered) != 0;
}

FleetPasswordState
fleet_device_item_get_password_state(FleetDeviceItem *self)
{
	g_return_val_if_fail(FLEET_IS_DEVICE_ITEM(self), FLEET_PASSWORD_STATE_UNKNOWN);
	return self->password_state;
}

void
fleet_device_item_set_password_state(FleetDeviceItem *self, FleetPasswordState state)
{
	g_return_if_fail(FLEET_IS_DEVICE_ITEM(self));
	if (self->password_state == state)
		return;
	self->password_state = state;
	fleet_device_item_emit_changed(self);
}

static gboolean
fleet_device_item_field_matches(const gchar *field, const gchar *needle)
{
	g_autofree gchar *folded = NULL;
	if (field == NULL)
		return FALSE;
	folded = g_utf8_casefold(field, -1);
	return strstr(folded, needle) != NULL;
}

gboolean
fleet_device_item_matches(FleetDeviceItem *self, const gchar *needle_casefolded)
{
	FleetDevice *device;

	g_return_val_if_fail(FLEET_IS_DEVICE_ITEM(self), FALSE);
	if (needle_casefolded == NULL || needle_casefolded[0] == '\0')
		return TRUE;
	device = self->device;
	return fleet_device_item_field_matches(fleet_device_get_name(device), needle_casefolded) ||
	       fleet_device_item_field_matches(fleet_device_get_address(device),
					       needle_casefolded) ||
	       fleet_device_item_field_matches(fleet_device_get_hostname(device),
					       needle_casefolded) ||
	       fleet_device_item_field_matches(fleet_device_get_board(device), needle_casefolded) ||
	       fleet_device_item_field_matches(fleet_device_get_chip(device), needle_casefolded) ||
	       fleet_device_item_field_matches(fleet_device_get_fw_version(device),
					       needle_casefolded);
}

const gchar *
fleet_device_item_get_display_name(FleetDeviceItem *self)
{
	FleetDevice *device;

	g_return_val_if_fail(FLEET_IS_DEVICE_ITEM(self), NULL);
	device = self->device;
	if (fleet_device_get_name(device) != NULL)
		return fleet_device_get_name(device);
	if (fleet_device_get_hostname(device) != NULL)
		return fleet_device_get_hostname(device);
	return fleet_device_get_id(device);
}

FleetDeviceItem *
fleet_device_item_new(FleetDevice *device)
{
	FleetDeviceItem *self;

	g_return_val_if_fail(FLEET_IS_DEVICE(device), NULL);
	self = g_object_new(FLEET_TYPE_DEVICE_ITEM, NULL);
	self->device = g_object_ref(device);
	g_signal_connect_object(device, "notify", G_CALLBACK(fleet_device_item_device_notify_cb),
				self, 0);
	return self;
}
