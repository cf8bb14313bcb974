/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-cli-targets.c - which devices a command acts on: URLs, names, --all/--board/--match */

#include "config.h"

#include <fnmatch.h>
#include <glib/gi18n.h>

#include "fleet-cli-targets.h"
#include "fleet-error.h"
#include "fleet-text.h"

struct _FleetCliTargets {
	FleetDeviceList *devices;
	FleetDiscovery *discovery;
	GPtrArray *manual; /* FleetDevice added from URLs */
	GPtrArray *names;  /* gchar*: names to find */
	gboolean all;
	gchar *board;
	gchar *match;
	gboolean started;
};

FleetCliTargets *
fleet_cli_targets_new(void)
{
	FleetCliTargets *self = g_new0(FleetCliTargets, 1);
	self->devices = fleet_device_list_new();
	self->discovery = fleet_discovery_new(self->devices);
	self->manual = g_ptr_array_new_with_free_func(g_object_unref);
	self->names = g_ptr_array_new_with_free_func(g_free);
	return self;
}

void
fleet_cli_targets_free(FleetCliTargets *self)
{
	if (self == NULL)
		return;
	g_object_unref(self->discovery);
	g_object_unref(self->devices);
	g_ptr_array_unref(self->manual);
	g_ptr_array_unref(self->names);
	g_free(self->board);
	g_free(self->match);
	g_free(self);
}

FleetDiscovery *
fleet_cli_targets_get_discovery(FleetCliTargets *self)
{
	return self->discovery;
}

gboolean
fleet_cli_targets_add_spec(FleetCliTargets *self, const gchar *spec, GError **error)
{
	g_autoptr(GUri) uri = NULL;
	FleetProtocol protocol;
	FleetDevice *device;
	gint port;

	if (!g_str_has_prefix(spec, "espota://") && !g_str_has_prefix(spec, "http://")) {
		g_ptr_array_add(self->names, g_strdup(spec));
		return TRUE;
	}
	uri = g_uri_parse(spec, G_URI_FLAGS_NONE, NULL);
	if (uri == NULL || g_uri_get_host(uri) == NULL) {
		g_autofree gchar *safe = fleet_text_sanitize(spec, -1, 80);
		g_set_error(error, FLEET_ERROR, FLEET_ERROR_INVALID_DATA,
			    _("“%s” is not a device address: use espota://HOST:PORT or "
			      "http://HOST:PORT/PATH"),
			    safe);
		return FALSE;
	}
	protocol = g_str_equal(g_uri_get_scheme(uri), "http") ? FLEET_PROTOCOL_HTTP : FLEET_PROTOCOL_ESPOTA;
	port = g_uri_get_port(uri);
	if (port <= 0)
		port = protocol == FLEET_PROTOCOL_HTTP ? 80 : 8266;
	device = fleet_discovery_add_manual(self->discovery, g_uri_get_host(uri), protocol, (guint)port,
					    error);
	if (device == NULL)
		return FALSE;
	if (protocol == FLEET_PROTOCOL_HTTP && g_uri_get_path(uri) != NULL &&
	    g_uri_get_path(uri)[0] == '/')
		fleet_device_set_http_path(device, g_uri_get_path(uri));
	g_ptr_array_add(self->manual, g_object_ref(device));
	return TRUE;
}

void
fleet_cli_targets_set_filters(FleetCliTargets *self, gboolean all, const gchar *board, const gchar *match)
{
	self->all = all;
	g_free(self->board);
	self->board = g_strdup(board);
	g_free(self->match);
	self->match = g_strdup(match);
}

static gboolean
fleet_cli_targets_need_discovery(FleetCliTargets *self)
{
	return self->names->len > 0 || self->all || self->board != NULL || self->match != NULL;
}

static gboolean
fleet_cli_targets_all_found(FleetCliTargets *self)
{
	if (self->all || self->board != NULL || self->match != NULL)
		return FALSE;
	for (guint i = 0; i < self->names->len; i++) {
		if (fleet_device_list_find(self->devices, g_ptr_array_index(self->names, i)) == NULL)
			return FALSE;
	}
	return TRUE;
}

typedef struct {
	FleetCliTargets *self;
	GMainLoop *loop;
	gboolean timed_out;
} FleetCliTargetsWait;

static gboolean
fleet_cli_targets_timeout_cb(gpointer user_data)
{
	FleetCliTargetsWait *wait = user_data;
	wait->timed_out = TRUE;
	g_main_loop_quit(wait->loop);
	return G_SOURCE_REMOVE;
}

static void
fleet_cli_targets_changed_cb(GListModel *model, guint pos, guint removed, guint added, gpointer user_data)
{
	FleetCliTargetsWait *wait = user_data;
	if (fleet_cli_targets_all_found(wait->self))
		g_main_loop_quit(wait->loop);
}

static void
fleet_cli_targets_state_cb(FleetDiscovery *discovery, GParamSpec *pspec, gpointer user_data)
{
	FleetCliTargetsWait *wait = user_data;
	if (fleet_discovery_get_state(discovery) == FLEET_DISCOVERY_STATE_UNAVAILABLE)
		g_main_loop_quit(wait->loop);
}

/* browse until the named devices are there or @timeout passes */
static gboolean
fleet_cli_targets_discover(FleetCliTargets *self, guint timeout, GError **error)
{
	FleetCliTargetsWait wait = {self, g_main_loop_new(NULL, FALSE), FALSE};
	guint timeout_id;
	gulong changed_id;
	gulong state_id;

	if (!self->started) {
		fleet_discovery_start(self->discovery);
		self->started = TRUE;
	}
	changed_id = g_signal_connect(self->devices, "items-changed",
				      G_CALLBACK(fleet_cli_targets_changed_cb), &wait);
	state_id = g_signal_connect(self->discovery, "notify::state",
				    G_CALLBACK(fleet_cli_targets_state_cb), &wait);
	timeout_id = g_timeout_add_seconds(MAX(timeout, 1), fleet_cli_targets_timeout_cb, &wait);
	if (fleet_discovery_get_state(self->discovery) != FLEET_DISCOVERY_STATE_UNAVAILABLE &&
	    !(self->names->len > 0 && fleet_cli_targets_all_found(self)))
		g_main_loop_run(wait.loop);
	if (!wait.timed_out)
		g_source_remove(timeout_id);
	g_signal_handler_disconnect(self->devices, changed_id);
	g_signal_handler_disconnect(self->discovery, state_id);
	g_main_loop_unref(wait.loop);

	if (fleet_discovery_get_state(self->discovery) == FLEET_DISCOVERY_STATE_UNAVAILABLE) {
		g_set_error(error, FLEET_ERROR, FLEET_ERROR_NOT_SUPPORTED,
			    _("Cannot look for devices: %s"),
			    fleet_discovery_get_error_message(self->discovery));
		return FALSE;
	}
	return TRUE;
}

static gboolean
fleet_cli_targets_matches(FleetCliTargets *self, FleetDevice *device)
{
	if (fleet_device_get_source(device) != FLEET_DEVICE_SOURCE_MDNS)
		return FALSE;
	if (self->board != NULL && g_strcmp0(fleet_device_get_board(device), self->board) != 0)
		return FALSE;
	if (self->match != NULL && (fleet_device_get_name(device) == NULL ||
				    fnmatch(self->match, fleet_device_get_name(device), 0) != 0))
		return FALSE;
	return self->all || self->board != NULL || self->match != NULL;
}

static void
fleet_cli_targets_add_unique(GPtrArray *out, FleetDevice *device)
{
	if (!g_ptr_array_find(out, device, NULL))
		g_ptr_array_add(out, g_object_ref(device));
}

GPtrArray *
fleet_cli_targets_resolve(FleetCliTargets *self, guint timeout, GError **error)
{
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_object_unref);
	guint n;

	if (fleet_cli_targets_need_discovery(self) && !fleet_cli_targets_discover(self, timeout, error))
		return NULL;
	for (guint i = 0; i < self->manual->len; i++)
		fleet_cli_targets_add_unique(out, g_ptr_array_index(self->manual, i));
	for (guint i = 0; i < self->names->len; i++) {
		const gchar *name = g_ptr_array_index(self->names, i);
		FleetDevice *device = fleet_device_list_find(self->devices, name);
		if (device == NULL) {
			g_autofree gchar *safe = fleet_text_sanitize(name, -1, 64);
			g_set_error(error, FLEET_ERROR, FLEET_ERROR_NOT_FOUND,
				    _("No device named “%s” answered within %u s: is it on this "
				      "network? (espfleet-cli discover lists what is there; "
				      "espota://HOST:PORT adds a device by address)"),
				    safe, MAX(timeout, 1));
			return NULL;
		}
		fleet_cli_targets_add_unique(out, device);
	}
	n = g_list_model_get_n_items(G_LIST_MODEL(self->devices));
	for (guint i = 0; i < n; i++) {
		g_autoptr(FleetDevice) device = g_list_model_get_item(G_LIST_MODEL(self->devices), i);
		if (fleet_cli_targets_matches(self, device))
			fleet_cli_targets_add_unique(out, device);
	}
	if (out->len == 0) {
		g_set_error(error, FLEET_ERROR, FLEET_ERROR_NOT_FOUND,
			    _("No device matched within %u s"), MAX(timeout, 1));
		return NULL;
	}
	return g_steal_pointer(&out);
}

GPtrArray *
fleet_cli_targets_browse(FleetCliTargets *self, guint timeout, GError **error)
{
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_object_unref);
	guint n;
	self->all = TRUE;
	if (!fleet_cli_targets_discover(self, timeout, error))
		return NULL;
	n = g_list_model_get_n_items(G_LIST_MODEL(self->devices));
	for (guint i = 0; i < n; i++)
		g_ptr_array_add(out, g_list_model_get_item(G_LIST_MODEL(self->devices), i));
	return g_steal_pointer(&out);
}
