/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-cli-logs.c - espfleet-cli logs: live device logs, one device or many merged */

#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "fleet-cli-targets.h"
#include "fleet-cli.h"
#include "fleet-error.h"
#include "fleet-log-hub.h"
#include "fleet-log-recorder.h"
#include "fleet-log-source-serial.h"
#include "fleet-log-source-syslog.h"
#include "fleet-log-source-tcp.h"
#include "fleet-serial-ports.h"
#include "fleet-text.h"

/* the CLI prints and forgets: small rings */
#define FLEET_CLI_LOGS_RING 1000

typedef struct {
	FleetCli *cli;
	FleetLogHub *hub;
	FleetLogFilter *filter;
	GMainLoop *loop;
	GOutputStream *save;
	FleetLogFormatFlags flags;
	gboolean prefix_device; /* several devices without --merged: "name | text" */
	gint64 max_lines;
	gint64 n_lines;
	GHashTable *names; /* device id → display name */
	gint status;
} FleetCliLogs;

typedef struct {
	gboolean tcp;
	gboolean syslog;
	gchar *serial_path;
	guint serial_baud;
} FleetCliLogsSources;

static const gchar *
fleet_cli_logs_name(FleetCliLogs *self, const gchar *device_id)
{
	gchar *name = g_hash_table_lookup(self->names, device_id);
	if (name == NULL) {
		g_autofree gchar *display = fleet_log_hub_dup_display_name(self->hub, device_id);
		name = fleet_text_sanitize(display, -1, 32);
		g_hash_table_insert(self->names, g_strdup(device_id), name);
	}
	return name;
}

static void
fleet_cli_logs_format(FleetCliLogs *self, FleetLogLine *line, gboolean color, GString *out)
{
	FleetLogFormatFlags flags = self->flags & ~FLEET_LOG_FORMAT_COLOR;
	const gchar *name = fleet_cli_logs_name(self, fleet_log_line_get_device_id(line));
	if (color)
		flags |= FLEET_LOG_FORMAT_COLOR;
	if (self->prefix_device) {
		if (flags & FLEET_LOG_FORMAT_HOST_TIME) {
			/* the time first, as in the merged view */
			fleet_log_line_format(line, name, flags, out);
			return;
		}
		g_string_append_printf(out, color ? "\033[1m%s\033[0m | " : "%s | ", name);
	}
	fleet_log_line_format(line, name, flags, out);
}

static void
fleet_cli_logs_lines_cb(FleetLogHub *hub, GPtrArray *lines, gpointer user_data)
{
	FleetCliLogs *self = user_data;
	g_autoptr(GString) shown = g_string_new(NULL);
	g_autoptr(GString) saved = g_string_new(NULL);

	for (guint i = 0; i < lines->len; i++) {
		FleetLogLine *line = g_ptr_array_index(lines, i);
		if (!fleet_log_filter_match(self->filter, line))
			continue;
		if (self->max_lines > 0 && self->n_lines >= self->max_lines)
			break;
		fleet_cli_logs_format(self, line, (self->flags & FLEET_LOG_FORMAT_COLOR) != 0,
				      shown);
		if (self->save != NULL)
			fleet_cli_logs_format(self, line, FALSE, saved);
		if (fleet_log_line_get_kind(line) != FLEET_LOG_LINE_KIND_EVENT)
			self->n_lines++;
	}
	if (shown->len > 0) {
		fwrite(shown->str, 1, shown->len, stdout);
		fflush(stdout);
	}
	if (saved->len > 0) {
		g_autoptr(GError) error = NULL;
		if (!g_output_stream_write_all(self->save, saved->str, saved->len, NULL, NULL,
					       &error) ||
		    !g_output_stream_flush(self->save, NULL, &error)) {
			g_printerr(_("espfleet-cli: cannot save the log: %s\n"), error->message);
			self->status = FLEET_CLI_EXIT_PROBLEM;
			g_main_loop_quit(self->loop);
			return;
		}
	}
	if (self->max_lines > 0 && self->n_lines >= self->max_lines)
		g_main_loop_quit(self->loop);
}

static gboolean
fleet_cli_logs_quit_cb(gpointer user_data)
{
	FleetCliLogs *self = user_data;
	g_main_loop_quit(self->loop);
	return G_SOURCE_CONTINUE;
}

/* "tcp", "syslog", "serial:/dev/ttyUSB0@115200" */
static gboolean
fleet_cli_logs_parse_source(const gchar *spec, FleetCliLogsSources *sources, GError **error)
{
	if (g_strcmp0(spec, "tcp") == 0) {
		sources->tcp = TRUE;
		return TRUE;
	}
	if (g_strcmp0(spec, "syslog") == 0) {
		sources->syslog = TRUE;
		return TRUE;
	}
	if (g_str_has_prefix(spec, "serial:") && spec[7] != '\0' && sources->serial_path == NULL) {
		const gchar *path = spec + 7;
		const gchar *at = strrchr(path, '@');
		guint64 baud = FLEET_LOG_SERIAL_BAUD_DEFAULT;
		if (at != NULL &&
		    !g_ascii_string_to_unsigned(at + 1, 10, 50, 20000000, &baud, NULL)) {
			g_set_error(error, FLEET_ERROR, FLEET_ERROR_INVALID_DATA,
				    _("“%s” is not a baud rate"), at + 1);
			return FALSE;
		}
		sources->serial_path =
		    at != NULL ? g_strndup(path, (gsize)(at - path)) : g_strdup(path);
		sources->serial_baud = (guint)baud;
		return TRUE;
	}
	g_set_error(error, FLEET_ERROR, FLEET_ERROR_INVALID_DATA,
		    _("--source is tcp, syslog or serial:PATH[@BAUD], not “%s”"), spec);
	return FALSE;
}

static int
fleet_cli_logs_list_ports(void)
{
	g_autoptr(GPtrArray) ports = fleet_serial_ports_list(NULL, NULL);
	if (ports->len == 0) {
		printf("%s\n", _("No USB serial ports (/dev/ttyUSB*, /dev/ttyACM*) found"));
		return FLEET_CLI_EXIT_OK;
	}
	for (guint i = 0; i < ports->len; i++) {
		FleetSerialPort *port = g_ptr_array_index(ports, i);
		g_autofree gchar *text = fleet_serial_port_describe(port);
		printf("%s\n", text);
	}
	return FLEET_CLI_EXIT_OK;
}

/* tcp://HOST:PORT or telnet://HOST[:PORT]: a log stream by address */
static FleetLogSource *
fleet_cli_logs_url_source(const gchar *spec, GError **error)
{
	g_autoptr(GUri) uri = g_uri_parse(spec, G_URI_FLAGS_NONE, NULL);
	g_autoptr(FleetLogSourceTcp) tcp = NULL;
	g_autofree gchar *id = NULL;
	gboolean telnet = g_str_has_prefix(spec, "telnet://");
	gint port;

	port = uri != NULL ? g_uri_get_port(uri) : -1;
	if (port <= 0 && telnet)
		port = 23;
	if (uri == NULL || g_uri_get_host(uri) == NULL || port <= 0 || port > 65535) {
		g_autofree gchar *safe = fleet_text_sanitize(spec, -1, 80);
		g_set_error(
		    error, FLEET_ERROR, FLEET_ERROR_INVALID_DATA,
		    _("“%s” is not a log address: use tcp://HOST:PORT or telnet://HOST[:PORT]"),
		    safe);
		return NULL;
	}
	id = g_strdup_printf("addr:%s:%d", g_uri_get_host(uri), port);
	tcp = fleet_log_source_tcp_new(id, g_uri_get_host(uri), (guint16)port);
	if (telnet)
		fleet_log_source_tcp_set_telnet(tcp, FLEET_LOG_TELNET_ON);
	return FLEET_LOG_SOURCE(g_steal_pointer(&tcp));
}

static gboolean
fleet_cli_logs_is_address(const gchar *spec)
{
	return g_hostname_is_ip_address(spec);
}

int
fleet_cli_logs(FleetCli *cli, int argc, char **argv)
{
	g_auto(GStrv) source_specs = NULL;
	g_autofree gchar *level_text = NULL;
	g_autofree gchar *grep = NULL;
	g_autofree gchar *tag = NULL;
	g_autofree gchar *save_path = NULL;
	g_autofree gchar *record_dir = NULL;
	g_autofree gchar *bind = NULL;
	gboolean merged = FALSE;
	gboolean timestamps = FALSE;
	gboolean ignore_case = FALSE;
	gboolean list_ports = FALSE;
	gboolean reset = FALSE;
	gboolean telnet = FALSE;
	gint port = 0;
	gint syslog_port = FLEET_LOG_SYSLOG_PORT_DEFAULT;
	gint duration = 0;
	gint max_lines = 0;
	gint discover_timeout = 5;
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(FleetCliTargets) targets = NULL;
	g_autoptr(GPtrArray) sources = g_ptr_array_new_with_free_func(g_object_unref);
	g_autoptr(GPtrArray) device_ids = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) url_specs = g_ptr_array_new();
	g_autoptr(GPtrArray) address_specs = g_ptr_array_new();
	g_autoptr(FleetLogRecorder) recorder = NULL;
	g_autoptr(FleetLogSourceSerial) serial = NULL;
	g_autoptr(FleetLogHub) hub = fleet_log_hub_new();
	g_autoptr(FleetLogFilter) filter = fleet_log_filter_new();
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	g_autoptr(GHashTable) names =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_autoptr(GOutputStream) save = NULL;
	g_autofree gchar *serial_path = NULL;
	FleetCliLogsSources which = {0};
	FleetLogLevel level = FLEET_LOG_LEVEL_NONE;
	FleetCliLogs self = {0};
	guint n_names = 0;
	guint n_named;
	guint sigint_id;
	guint sigterm_id;
	guint timeout_id = 0;
	const GOptionEntry entries[] = {
	    {"merged", 'm', 0, G_OPTION_ARG_NONE, &merged,
	     N_("One stream of every device, with a time and a device column"), NULL},
	    {"source", 's', 0, G_OPTION_ARG_STRING_ARRAY, &source_specs,
	     N_("Where logs come from: tcp (the devices' log streams, the default), syslog, "
		"serial:PATH[@BAUD]; may be repeated"),
	     N_("SOURCE")},
	    {"level", 'l', 0, G_OPTION_ARG_STRING, &level_text,
	     N_("Only lines at this level or more severe: error, warn, info, debug, verbose"),
	     N_("LEVEL")},
	    {"grep", 'g', 0, G_OPTION_ARG_STRING, &grep,
	     N_("Only lines matching this regular expression"), N_("RE")},
	    {"ignore-case", 'i', 0, G_OPTION_ARG_NONE, &ignore_case,
	     N_("Match --grep without regard to case"), NULL},
	    {"tag", 0, 0, G_OPTION_ARG_STRING, &tag, N_("Only lines with this ESP-IDF tag"),
	     N_("TAG")},
	    {"save", 'o', 0, G_OPTION_ARG_FILENAME, &save_path,
	     N_("Also write what is shown to FILE (without colours)"), N_("FILE")},
	    {"record", 0, 0, G_OPTION_ARG_FILENAME, &record_dir,
	     N_("Record every device's whole log to a file of its own in DIR"), N_("DIR")},
	    {"timestamps", 't', 0, G_OPTION_ARG_NONE, &timestamps,
	     N_("Show the time each line arrived"), NULL},
	    {"port", 'p', 0, G_OPTION_ARG_INT, &port,
	     N_("tcp: this port instead of the one the devices announce (23 for TelnetStream)"),
	     N_("PORT")},
	    {"telnet", 0, 0, G_OPTION_ARG_NONE, &telnet,
	     N_("tcp: take telnet negotiation out of the stream (on by itself for port 23)"), NULL},
	    {"syslog-port", 0, 0, G_OPTION_ARG_INT, &syslog_port,
	     N_("syslog: the UDP port to listen on (default 5514)"), N_("PORT")},
	    {"bind", 0, 0, G_OPTION_ARG_STRING, &bind,
	     N_("syslog: the local address to listen on (default every IPv4 address)"),
	     N_("ADDRESS")},
	    {"reset", 0, 0, G_OPTION_ARG_NONE, &reset,
	     N_("serial: reset the device (RTS/DTR) once the port is open"), NULL},
	    {"list-ports", 0, 0, G_OPTION_ARG_NONE, &list_ports,
	     N_("List the USB serial ports and exit"), NULL},
	    {"duration", 0, 0, G_OPTION_ARG_INT, &duration, N_("Stop after S seconds"), N_("S")},
	    {"lines", 'n', 0, G_OPTION_ARG_INT, &max_lines, N_("Stop after N lines"), N_("N")},
	    {"discover-timeout", 0, 0, G_OPTION_ARG_INT, &discover_timeout,
	     N_("Seconds to look for named devices on the network (default 5)"), N_("S")},
	    {NULL}};

	context = g_option_context_new(_("[DEVICE…] — show the live logs of devices"));
	g_option_context_set_translation_domain(context, GETTEXT_PACKAGE);
	g_option_context_add_main_entries(context, entries, GETTEXT_PACKAGE);
	g_option_context_set_summary(
	    context,
	    _("DEVICE is a discovered name, an IP address (syslog), tcp://HOST:PORT or "
	      "telnet://HOST[:PORT].\n"
	      "Lines look as on a serial monitor; with several devices each line names its "
	      "device.\n"
	      "Exit status: 0 after Ctrl+C, --duration or --lines, 1 when a device or port cannot "
	      "be used, 2 usage error."));
	if (!g_option_context_parse(context, &argc, &argv, &error))
		return fleet_cli_usage_error(context, error->message);
	if (list_ports)
		return fleet_cli_logs_list_ports();
	for (guint i = 0; source_specs != NULL && source_specs[i] != NULL; i++) {
		gboolean ok = fleet_cli_logs_parse_source(source_specs[i], &which, &error);
		serial_path = which.serial_path;
		if (!ok)
			return fleet_cli_usage_error(context, error->message);
	}
	if (!which.tcp && !which.syslog && which.serial_path == NULL)
		which.tcp = TRUE;
	if (level_text != NULL && !fleet_log_level_from_string(level_text, &level))
		return fleet_cli_usage_error(context,
					     _("--level is error, warn, info, debug or verbose"));
	if (port < 0 || port > 65535 || syslog_port < 1 || syslog_port > 65535 || duration < 0 ||
	    max_lines < 0 || discover_timeout < 0)
		return fleet_cli_usage_error(context,
					     _("ports, counts and times must be positive"));
	if (argc < 2 && which.serial_path == NULL && !which.syslog)
		return fleet_cli_usage_error(
		    context, _("name the devices (or use --source syslog or serial:PATH)"));

	self.cli = cli;
	self.status = FLEET_CLI_EXIT_OK;
	self.max_lines = max_lines;
	self.names = names;
	self.filter = filter;
	self.hub = hub;
	self.loop = loop;
	fleet_log_hub_set_ring_lines(self.hub, FLEET_CLI_LOGS_RING);
	fleet_log_filter_set_level(self.filter, level, FALSE);
	fleet_log_filter_set_tag(self.filter, tag);
	if (grep != NULL &&
	    !fleet_log_filter_set_text(self.filter, grep, TRUE, !ignore_case, &error)) {
		g_autoptr(GError) usage = g_steal_pointer(&error);
		return fleet_cli_usage_error(context, usage->message);
	}

	/* which devices */
	targets = fleet_cli_targets_new();
	for (int i = 1; i < argc; i++) {
		if (g_str_has_prefix(argv[i], "tcp://") || g_str_has_prefix(argv[i], "telnet://")) {
			g_ptr_array_add(url_specs, argv[i]);
		} else if (fleet_cli_logs_is_address(argv[i])) {
			g_ptr_array_add(address_specs, argv[i]);
		} else {
			if (!fleet_cli_targets_add_spec(targets, argv[i], &error))
				return fleet_cli_usage_error(context, error->message);
			n_names++;
		}
	}
	if (url_specs->len > 0 && !which.tcp)
		return fleet_cli_usage_error(context, _("tcp:// and telnet:// need --source tcp"));
	for (guint i = 0; i < address_specs->len; i++) {
		FleetDevice *device = fleet_discovery_add_manual(
		    fleet_cli_targets_get_discovery(targets), g_ptr_array_index(address_specs, i),
		    FLEET_PROTOCOL_ESPOTA, 3232, &error);
		if (device == NULL)
			return fleet_cli_usage_error(context, error->message);
		if (which.tcp && port == 0) {
			g_printerr(
			    _("espfleet-cli: %s: give --port for a device named by its address\n"),
			    (const gchar *)g_ptr_array_index(address_specs, i));
			return FLEET_CLI_EXIT_USAGE;
		}
		fleet_device_set_address(device, g_ptr_array_index(address_specs, i));
		fleet_device_set_log_port(device, (guint16)port);
		g_ptr_array_add(device_ids, g_strdup(fleet_device_get_id(device)));
		if (which.tcp) {
			FleetLogSourceTcp *tcp =
			    fleet_log_source_tcp_new_for_device(device, (guint16)port);
			if (telnet)
				fleet_log_source_tcp_set_telnet(tcp, FLEET_LOG_TELNET_ON);
			g_ptr_array_add(sources, tcp);
		}
	}
	if (n_names > 0) {
		g_autoptr(GPtrArray) devices =
		    fleet_cli_targets_resolve(targets, (guint)discover_timeout, &error);
		if (devices == NULL) {
			g_printerr("espfleet-cli: %s\n", error->message);
			return FLEET_CLI_EXIT_PROBLEM;
		}
		for (guint i = 0; i < devices->len; i++) {
			FleetDevice *device = g_ptr_array_index(devices, i);
			g_ptr_array_add(device_ids, g_strdup(fleet_device_get_id(device)));
			if (!which.tcp)
				continue;
			if (port == 0 && fleet_device_get_log_port(device) == 0) {
				g_autofree gchar *what =
				    fleet_device_describe(device, FLEET_PROTOCOL_NONE);
				g_printerr(
				    _("espfleet-cli: %s announces no log port: give --port (23 for "
				      "TelnetStream) or use --source syslog\n"),
				    what);
				return FLEET_CLI_EXIT_PROBLEM;
			}
			{
				FleetLogSourceTcp *tcp =
				    fleet_log_source_tcp_new_for_device(device, (guint16)port);
				if (telnet)
					fleet_log_source_tcp_set_telnet(tcp, FLEET_LOG_TELNET_ON);
				g_ptr_array_add(sources, tcp);
			}
		}
	}
	for (guint i = 0; i < url_specs->len; i++) {
		FleetLogSource *source =
		    fleet_cli_logs_url_source(g_ptr_array_index(url_specs, i), &error);
		if (source == NULL)
			return fleet_cli_usage_error(context, error->message);
		if (telnet)
			fleet_log_source_tcp_set_telnet(FLEET_LOG_SOURCE_TCP(source),
							FLEET_LOG_TELNET_ON);
		g_ptr_array_add(device_ids, g_strdup(fleet_log_source_get_device_id(source)));
		g_ptr_array_add(sources, source);
	}
	if (which.syslog)
		g_ptr_array_add(sources, fleet_log_source_syslog_new(
					     bind, (guint16)syslog_port,
					     fleet_discovery_get_devices(
						 fleet_cli_targets_get_discovery(targets))));
	if (which.serial_path != NULL) {
		serial = fleet_log_source_serial_new(which.serial_path, which.serial_baud, NULL);
		g_ptr_array_add(sources, g_object_ref(serial));
		g_ptr_array_add(device_ids,
				g_strdup(fleet_log_source_serial_get_device_id(serial)));
	}
	n_named = device_ids->len;
	/* lines of other devices (syslog from elsewhere) only when no device was named */
	if (argc > 1) {
		g_ptr_array_add(device_ids, NULL);
		fleet_log_filter_set_devices(self.filter, (const gchar *const *)device_ids->pdata);
	}

	self.flags = FLEET_LOG_FORMAT_NONE;
	if (cli->color)
		self.flags |= FLEET_LOG_FORMAT_COLOR;
	if (timestamps || merged)
		self.flags |= FLEET_LOG_FORMAT_HOST_TIME;
	if (merged)
		self.flags |= FLEET_LOG_FORMAT_DEVICE;
	self.prefix_device = !merged && (n_named > 1 || (argc == 1 && which.syslog));
	if (self.prefix_device && (self.flags & FLEET_LOG_FORMAT_HOST_TIME))
		self.flags |= FLEET_LOG_FORMAT_DEVICE;

	if (save_path != NULL) {
		g_autoptr(GFile) file = g_file_new_for_commandline_arg(save_path);
		g_autoptr(GFileOutputStream) out =
		    g_file_replace(file, NULL, FALSE, G_FILE_CREATE_NONE, NULL, &error);
		if (out == NULL) {
			g_printerr(_("espfleet-cli: cannot save the log: %s\n"), error->message);
			return FLEET_CLI_EXIT_PROBLEM;
		}
		save = g_buffered_output_stream_new(G_OUTPUT_STREAM(out));
		self.save = save;
	}
	if (record_dir != NULL) {
		g_autoptr(GFile) folder = g_file_new_for_commandline_arg(record_dir);
		recorder = fleet_log_recorder_new(self.hub, folder, &error);
		if (recorder == NULL) {
			g_printerr("espfleet-cli: %s\n", error->message);
			return FLEET_CLI_EXIT_PROBLEM;
		}
	}

	fleet_log_hub_set_devices(
	    self.hub, fleet_discovery_get_devices(fleet_cli_targets_get_discovery(targets)), FALSE);
	g_signal_connect(self.hub, "lines-added", G_CALLBACK(fleet_cli_logs_lines_cb), &self);
	for (guint i = 0; i < sources->len; i++) {
		FleetLogSource *source = g_ptr_array_index(sources, i);
		fleet_log_hub_add_source(self.hub, source);
		if (fleet_log_source_get_state(source) == FLEET_LOG_SOURCE_STATE_FAILED) {
			g_printerr("espfleet-cli: %s\n", fleet_log_source_get_status(source));
			self.status = FLEET_CLI_EXIT_PROBLEM;
		}
	}
	if (serial != NULL && reset && self.status == FLEET_CLI_EXIT_OK &&
	    !fleet_log_source_serial_reset_device(serial, &error)) {
		g_printerr("espfleet-cli: %s\n", error->message);
		g_clear_error(&error);
	}

	sigint_id = g_unix_signal_add(SIGINT, fleet_cli_logs_quit_cb, &self);
	sigterm_id = g_unix_signal_add(SIGTERM, fleet_cli_logs_quit_cb, &self);
	if (duration > 0)
		timeout_id = g_timeout_add_seconds((guint)duration, fleet_cli_logs_quit_cb, &self);
	if (self.status == FLEET_CLI_EXIT_OK)
		g_main_loop_run(self.loop);
	g_source_remove(sigint_id);
	g_source_remove(sigterm_id);
	if (timeout_id != 0)
		g_source_remove(timeout_id);

	/* the last words: partial lines, what is still batched */
	for (guint i = 0; i < sources->len; i++)
		fleet_log_hub_remove_source(self.hub, g_ptr_array_index(sources, i));
	if (self.max_lines == 0 || self.n_lines < self.max_lines)
		fleet_log_hub_flush(self.hub);
	g_signal_handlers_disconnect_by_data(self.hub, &self);
	if (recorder != NULL)
		fleet_log_recorder_stop(recorder);
	if (save != NULL && !g_output_stream_close(save, NULL, &error)) {
		g_printerr(_("espfleet-cli: cannot save the log: %s\n"), error->message);
		self.status = FLEET_CLI_EXIT_PROBLEM;
	}
	return self.status;
}
