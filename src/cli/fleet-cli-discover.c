/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-cli-discover.c - espfleet-cli discover: what announces itself on this network */

#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <stdio.h>

#include "fleet-cli-targets.h"
#include "fleet-cli.h"

#define DISCOVER_JSON_SCHEMA "espfleet-discover/1"

static gchar *
fleet_cli_discover_protocols(FleetDevice *device)
{
	FleetProtocol p = fleet_device_get_protocols(device);
	if ((p & FLEET_PROTOCOL_ESPOTA) && (p & FLEET_PROTOCOL_HTTP))
		return g_strdup("espota,http");
	if (p & FLEET_PROTOCOL_HTTP)
		return g_strdup("http");
	return g_strdup("espota");
}

static void
fleet_cli_discover_json_device(JsonBuilder *b, FleetDevice *d)
{
	g_autofree gchar *protocols = fleet_cli_discover_protocols(d);
	const gchar *strings[][2] = {
	    {"id", fleet_device_get_id(d)},
	    {"name", fleet_device_get_name(d)},
	    {"hostname", fleet_device_get_hostname(d)},
	    {"address", fleet_device_get_address(d)},
	    {"board", fleet_device_get_board(d)},
	    {"chip", fleet_device_get_chip(d)},
	    {"mac", fleet_device_get_mac(d)},
	    {"fw_version", fleet_device_get_fw_version(d)},
	    {"fw_sha256", fleet_device_get_fw_sha256(d)},
	    {"protocols", protocols},
	};
	json_builder_begin_object(b);
	for (gsize k = 0; k < G_N_ELEMENTS(strings); k++) {
		json_builder_set_member_name(b, strings[k][0]);
		if (strings[k][1] != NULL)
			json_builder_add_string_value(b, strings[k][1]);
		else
			json_builder_add_null_value(b);
	}
	json_builder_set_member_name(b, "ota_port");
	json_builder_add_int_value(b, fleet_device_get_ota_port(d));
	json_builder_set_member_name(b, "http_port");
	json_builder_add_int_value(b, fleet_device_get_http_port(d));
	json_builder_set_member_name(b, "log_port");
	json_builder_add_int_value(b, fleet_device_get_log_port(d));
	json_builder_set_member_name(b, "needs_password");
	json_builder_add_boolean_value(b, fleet_device_get_needs_password(d));
	json_builder_set_member_name(b, "online");
	json_builder_add_boolean_value(b, fleet_device_get_online(d));
	json_builder_end_object(b);
}

static void
fleet_cli_discover_print_builder(JsonBuilder *b, gboolean pretty)
{
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autoptr(JsonNode) root = json_builder_get_root(b);
	g_autofree gchar *text = NULL;
	json_generator_set_pretty(gen, pretty);
	json_generator_set_root(gen, root);
	text = json_generator_to_data(gen, NULL);
	printf("%s\n", text);
	fflush(stdout);
}

static void
fleet_cli_discover_json(GPtrArray *devices)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "schema");
	json_builder_add_string_value(b, DISCOVER_JSON_SCHEMA);
	json_builder_set_member_name(b, "devices");
	json_builder_begin_array(b);
	for (guint i = 0; i < devices->len; i++)
		fleet_cli_discover_json_device(b, g_ptr_array_index(devices, i));
	json_builder_end_array(b);
	json_builder_end_object(b);
	fleet_cli_discover_print_builder(b, TRUE);
}

/* --watch: one line per event until the timeout or Ctrl+C */
typedef struct {
	gboolean json;
	GMainLoop *loop;
	GHashTable *watched; /* FleetDevice → TRUE */
} FleetCliWatch;

static void
fleet_cli_watch_event(FleetCliWatch *w, const gchar *event, FleetDevice *d)
{
	if (w->json) {
		g_autoptr(JsonBuilder) b = json_builder_new();
		json_builder_begin_object(b);
		json_builder_set_member_name(b, "event");
		json_builder_add_string_value(b, event);
		json_builder_set_member_name(b, "time");
		json_builder_add_int_value(b, g_get_real_time() / 1000);
		json_builder_set_member_name(b, "device");
		fleet_cli_discover_json_device(b, d);
		json_builder_end_object(b);
		fleet_cli_discover_print_builder(b, FALSE);
		return;
	}
	printf("%-8s %-24s %-16s %s\n", event,
	       fleet_device_get_name(d) != NULL ? fleet_device_get_name(d) : "?",
	       fleet_device_get_address(d) != NULL ? fleet_device_get_address(d) : "?",
	       fleet_device_get_fw_version(d) != NULL ? fleet_device_get_fw_version(d) : "-");
	fflush(stdout);
}

static void
fleet_cli_watch_notify_cb(FleetDevice *d, GParamSpec *pspec, gpointer user_data)
{
	FleetCliWatch *w = user_data;
	if (g_strcmp0(pspec->name, "last-seen") == 0)
		return;
	if (g_strcmp0(pspec->name, "online") == 0)
		fleet_cli_watch_event(w, fleet_device_get_online(d) ? "online" : "offline", d);
	else
		fleet_cli_watch_event(w, "changed", d);
}

static void
fleet_cli_watch_items_cb(GListModel *model, guint pos, guint removed, guint added, gpointer user_data)
{
	FleetCliWatch *w = user_data;
	for (guint i = pos; i < pos + added; i++) {
		g_autoptr(FleetDevice) d = g_list_model_get_item(model, i);
		if (g_hash_table_contains(w->watched, d))
			continue;
		g_hash_table_add(w->watched, g_object_ref(d));
		/* a new row arrives fully resolved; later changes come as notifies */
		g_signal_connect(d, "notify", G_CALLBACK(fleet_cli_watch_notify_cb), w);
		fleet_cli_watch_event(w, "added", d);
	}
}

static gboolean
fleet_cli_watch_quit_cb(gpointer user_data)
{
	FleetCliWatch *w = user_data;
	g_main_loop_quit(w->loop);
	return G_SOURCE_CONTINUE;
}

static int
fleet_cli_discover_watch(FleetCliTargets *targets, gint timeout, gboolean json)
{
	FleetCliWatch w = {json, g_main_loop_new(NULL, FALSE), NULL};
	FleetDiscovery *discovery = fleet_cli_targets_get_discovery(targets);
	FleetDeviceList *devices = fleet_discovery_get_devices(discovery);
	guint sigint_id;
	guint sigterm_id;
	guint timeout_id = 0;
	GHashTableIter iter;
	gpointer key;

	w.watched = g_hash_table_new_full(NULL, NULL, g_object_unref, NULL);
	g_signal_connect(devices, "items-changed", G_CALLBACK(fleet_cli_watch_items_cb), &w);
	fleet_discovery_start(discovery);
	if (fleet_discovery_get_state(discovery) == FLEET_DISCOVERY_STATE_UNAVAILABLE) {
		g_printerr("espfleet-cli: %s\n", fleet_discovery_get_error_message(discovery));
		return FLEET_CLI_EXIT_PROBLEM;
	}
	sigint_id = g_unix_signal_add(SIGINT, fleet_cli_watch_quit_cb, &w);
	sigterm_id = g_unix_signal_add(SIGTERM, fleet_cli_watch_quit_cb, &w);
	if (timeout > 0)
		timeout_id = g_timeout_add_seconds((guint)timeout, fleet_cli_watch_quit_cb, &w);
	g_main_loop_run(w.loop);
	g_source_remove(sigint_id);
	g_source_remove(sigterm_id);
	if (timeout_id != 0)
		g_source_remove(timeout_id);
	g_signal_handlers_disconnect_by_data(devices, &w);
	g_hash_table_iter_init(&iter, w.watched);
	while (g_hash_table_iter_next(&iter, &key, NULL))
		g_signal_handlers_disconnect_by_data(key, &w);
	g_hash_table_unref(w.watched);
	g_main_loop_unref(w.loop);
	return FLEET_CLI_EXIT_OK;
}

static void
fleet_cli_discover_table(GPtrArray *devices)
{
	/* TRANSLATORS: column headers of the device table */
	printf("%-24s %-22s %-16s %-14s %-12s %s\n", C_("column", "Name"), C_("column", "Address"),
	       C_("column", "Board"), C_("column", "Version"), C_("column", "Protocols"),
	       C_("column", "Password"));
	for (guint i = 0; i < devices->len; i++) {
		FleetDevice *d = g_ptr_array_index(devices, i);
		g_autofree gchar *protocols = fleet_cli_discover_protocols(d);
		g_autofree gchar *address = g_strdup_printf("%s:%u",
							    fleet_device_get_address(d) != NULL
								? fleet_device_get_address(d)
								: "?",
							    fleet_device_get_ota_port(d));
		const gchar *board = fleet_device_get_board(d) != NULL ? fleet_device_get_board(d)
								      : fleet_device_get_chip(d);
		printf("%-24s %-22s %-16s %-14s %-12s %s\n",
		       fleet_device_get_name(d) != NULL ? fleet_device_get_name(d) : "?", address,
		       board != NULL ? board : "-",
		       fleet_device_get_fw_version(d) != NULL ? fleet_device_get_fw_version(d) : "-",
		       protocols, fleet_device_get_needs_password(d) ? _("yes") : _("no"));
	}
	printf(g_dngettext(GETTEXT_PACKAGE, "%u device\n", "%u devices\n", devices->len),
	       devices->len);
}

int
fleet_cli_discover(FleetCli *cli, int argc, char **argv)
{
	gint timeout = -1;
	gboolean json = FALSE;
	gboolean watch = FALSE;
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(FleetCliTargets) targets = NULL;
	g_autoptr(GPtrArray) devices = NULL;
	const GOptionEntry entries[] = {
	    {"timeout", 't', 0, G_OPTION_ARG_INT, &timeout,
	     N_("Seconds to listen for announcements (default 3; with --watch: until Ctrl+C)"),
	     N_("S")},
	    {"watch", 'w', 0, G_OPTION_ARG_NONE, &watch,
	     N_("Keep listening and print a line for every device that appears, changes or goes "
		"offline"),
	     NULL},
	    {"json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the devices as JSON"), NULL},
	    {NULL}};

	context = g_option_context_new(_("— list the devices that announce themselves over mDNS"));
	g_option_context_set_translation_domain(context, GETTEXT_PACKAGE);
	g_option_context_add_main_entries(context, entries, GETTEXT_PACKAGE);
	if (!g_option_context_parse(context, &argc, &argv, &error))
		return fleet_cli_usage_error(context, error->message);
	if (argc > 1)
		return fleet_cli_usage_error(context, _("discover takes no arguments"));
	if (timeout == 0 || timeout < -1)
		return fleet_cli_usage_error(context, _("--timeout must be at least 1"));

	targets = fleet_cli_targets_new();
	if (watch)
		return fleet_cli_discover_watch(targets, timeout, json);
	if (timeout < 0)
		timeout = 3;
	devices = fleet_cli_targets_browse(targets, (guint)timeout, &error);
	if (devices == NULL) {
		g_printerr("espfleet-cli: %s\n", error->message);
		return FLEET_CLI_EXIT_PROBLEM;
	}
	if (json)
		fleet_cli_discover_json(devices);
	else
		fleet_cli_discover_table(devices);
	return FLEET_CLI_EXIT_OK;
}
