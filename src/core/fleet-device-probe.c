/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-device-probe.c - ask a device added by address what it is (GET /info) */

#include "config.h"

#include "fleet-device-probe.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "fleet-device-info.h"
#include "fleet-error.h"
#include "fleet-http-get.h"

static const gchar *
fleet_device_probe_host(FleetDevice *device)
{
	if (fleet_device_get_address(device) != NULL)
		return fleet_device_get_address(device);
	return fleet_device_get_hostname(device);
}

gboolean
fleet_device_probe_possible(FleetDevice *device)
{
	g_return_val_if_fail(FLEET_IS_DEVICE(device), FALSE);
	return fleet_device_get_http_port(device) != 0 && fleet_device_probe_host(device) != NULL;
}

/* a device added by address is named after the address until it says its own name */
static gboolean
fleet_device_probe_has_default_name(FleetDevice *device)
{
	const gchar *name = fleet_device_get_name(device);
	return name == NULL || g_strcmp0(name, fleet_device_get_address(device)) == 0 ||
	       g_strcmp0(name, fleet_device_get_hostname(device)) == 0;
}

static void
fleet_device_probe_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	FleetDevice *device = g_task_get_task_data(task);
	gboolean manual = fleet_device_get_source(device) == FLEET_DEVICE_SOURCE_MANUAL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) body = NULL;
	g_autoptr(FleetDeviceInfo) info = NULL;
	g_autofree gchar *who = NULL;
	const gchar *data;
	gsize len = 0;
	guint status = 0;

	body = fleet_http_get_finish(result, &status, &error);
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	who = fleet_device_describe(device, FLEET_PROTOCOL_HTTP);
	if (body == NULL || status != 200) {
		/* only an address we were given is ours to call offline; mDNS tracks the others */
		if (manual)
			fleet_device_set_online(device, FALSE);
		if (error != NULL) {
			g_task_return_error(task, g_steal_pointer(&error));
			return;
		}
		g_task_return_new_error(task, FLEET_ERROR, FLEET_ERROR_NOT_SUPPORTED,
					_("%s answered GET /info with HTTP status %u"), who,
					status);
		return;
	}
	data = g_bytes_get_data(body, &len);
	info = fleet_device_info_new_from_data(data, len, &error);
	if (info == NULL) {
		if (manual)
			fleet_device_set_online(device, TRUE);
		g_prefix_error(&error, "%s: ", who);
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	if (manual && info->name != NULL && fleet_device_probe_has_default_name(device))
		fleet_device_set_name(device, info->name);
	fleet_device_info_apply(info, device);
	if (manual)
		fleet_device_set_online(device, TRUE);
	else
		fleet_device_touch(device);
	g_task_return_boolean(task, TRUE);
}

void
fleet_device_probe_async(FleetDevice *device,
			 guint timeout_s,
			 GCancellable *cancellable,
			 GAsyncReadyCallback callback,
			 gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	g_autofree gchar *url = NULL;
	const gchar *host;

	g_return_if_fail(FLEET_IS_DEVICE(device));
	g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

	task = g_task_new(NULL, cancellable, callback, user_data);
	g_task_set_source_tag(task, fleet_device_probe_async);
	g_task_set_task_data(task, g_object_ref(device), g_object_unref);

	if (!fleet_device_probe_possible(device)) {
		g_autofree gchar *who = fleet_device_describe(device, FLEET_PROTOCOL_NONE);
		g_task_return_new_error(task, FLEET_ERROR, FLEET_ERROR_NOT_SUPPORTED,
					_("%s has no HTTP port to ask for its details"), who);
		return;
	}
	host = fleet_device_probe_host(device);
	if (strchr(host, ':') != NULL)
		url = g_strdup_printf("http://[%s]:%u/info", host,
				      fleet_device_get_http_port(device));
	else
		url =
		    g_strdup_printf("http://%s:%u/info", host, fleet_device_get_http_port(device));
	fleet_http_get_async(url, timeout_s, FLEET_DEVICE_INFO_SIZE_MAX, cancellable,
			     fleet_device_probe_done_cb, g_steal_pointer(&task));
}

gboolean
fleet_device_probe_finish(GAsyncResult *result, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(result, NULL), FALSE);
	g_return_val_if_fail(g_task_get_source_tag(G_TASK(result)) == fleet_device_probe_async,
			     FALSE);
	return g_task_propagate_boolean(G_TASK(result), error);
}
