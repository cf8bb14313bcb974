/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * log-view-demo.c - FleetLogView in a window of its own, fed by real log streams, for the GUI
 * test and the log-flood benchmark
 *
 *   log-view-demo --port BASE --count N [--ring LINES]
 *     N devices "esp-lab-1".."esp-lab-N" at 127.0.0.1:BASE.. (espfleet-sim --count N), then
 *     commands on stdin, one per line, each answered by one JSON line on stdout:
 *       select ID…   mode device|merged-all|merged-selected   pause 0|1   timestamps 0|1
 *       colors 0|1   filter TEXT   regex RE   level L   tag T   clear   scroll-up   follow
 *       save FILE    record DIR|-    serial PATH BAUD    reset    popover-open
 *       popover-tcp HOST:PORT    popover-syslog PORT    state    quit
 *   log-view-demo --port BASE --count N --bench SECONDS [--headless]
 *     the merged view of every device for SECONDS, then one JSON line: lines taken in, the
 *     latest a 10 ms timer ran (main-loop lateness), resident memory over time, and for
 *     every device whether its sensor sequence numbers have gaps
 */

#include "config.h"

#include <gtk/gtk.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fleet-log-source-serial.h"
#include "fleet-log-view.h"

typedef struct {
	GtkWidget *window;
	FleetLogView *view;
	FleetLogHub *hub;
	FleetDeviceList *devices;
	GMainLoop *loop;
	GIOChannel *stdin_channel;
	/* bench */
	gint64 tick_expected;
	gint64 max_late_us;
	gint64 late_over_50ms;
	gint64 ticks;
	GArray *rss_kb;	      /* one sample per second */
	GHashTable *last_seq; /* device id → last sensor seq + 1 (as pointer) */
	guint64 gaps;
	guint64 sensor_lines;
	guint64 lines_in_window;
	gint64 bench_start;
	gint64 window_start;
	guint64 lines_at_window_start;
	gdouble cpu_at_window_start;
} Demo;

static GtkWidget *
find_log_area(GtkWidget *widget)
{
	if (GTK_IS_DRAWING_AREA(widget))
		return widget;
	if (GTK_IS_CONTAINER(widget)) {
		g_autoptr(GList) children = gtk_container_get_children(GTK_CONTAINER(widget));
		for (GList *l = children; l != NULL; l = l->next) {
			GtkWidget *found = find_log_area(l->data);
			if (found != NULL)
				return found;
		}
	}
	return NULL;
}

typedef gboolean (*WidgetMatch)(GtkWidget *widget, gconstpointer data);

static GtkWidget *
find_widget(GtkWidget *widget, WidgetMatch match, gconstpointer data)
{
	if (match(widget, data))
		return widget;
	if (GTK_IS_CONTAINER(widget)) {
		g_autoptr(GList) children = gtk_container_get_children(GTK_CONTAINER(widget));
		for (GList *l = children; l != NULL; l = l->next) {
			GtkWidget *found = find_widget(l->data, match, data);
			if (found != NULL)
				return found;
		}
	}
	return NULL;
}

static gboolean
is_menu_button(GtkWidget *widget, gconstpointer data)
{
	return GTK_IS_MENU_BUTTON(widget);
}

static gboolean
is_entry_with_placeholder(GtkWidget *widget, gconstpointer data)
{
	return GTK_IS_ENTRY(widget) &&
	       g_strcmp0(gtk_entry_get_placeholder_text(GTK_ENTRY(widget)), data) == 0;
}

static gboolean
is_spin_button(GtkWidget *widget, gconstpointer data)
{
	return GTK_IS_SPIN_BUTTON(widget);
}

static gboolean
is_button_labelled(GtkWidget *widget, gconstpointer data)
{
	return GTK_IS_BUTTON(widget) &&
	       g_strcmp0(gtk_button_get_label(GTK_BUTTON(widget)), data) == 0;
}

/* the "add a source" popover of the view, opened as a click on its button opens it */
static GtkWidget *
open_sources_popover(Demo *d)
{
	GtkWidget *button = find_widget(GTK_WIDGET(d->view), is_menu_button, NULL);
	GtkWidget *popover = GTK_WIDGET(gtk_menu_button_get_popover(GTK_MENU_BUTTON(button)));
	gtk_popover_popup(GTK_POPOVER(popover));
	return popover;
}

/* what a turn of the mouse wheel over the log does, through GTK's event path */
static void
scroll_up(Demo *d)
{
	GtkWidget *area = find_log_area(GTK_WIDGET(d->view));
	GdkWindow *window = gtk_widget_get_window(area);
	GdkSeat *seat = gdk_display_get_default_seat(gdk_window_get_display(window));
	for (guint i = 0; i < 5; i++) {
		GdkEvent *event = gdk_event_new(GDK_SCROLL);
		event->scroll.window = g_object_ref(window);
		event->scroll.direction = GDK_SCROLL_UP;
		event->scroll.x = 20;
		event->scroll.y = 20;
		event->scroll.time = GDK_CURRENT_TIME;
		gdk_event_set_device(event, gdk_seat_get_pointer(seat));
		gtk_main_do_event(event);
		gdk_event_free(event);
	}
}

/* a JSON string literal's contents (the text is UTF-8) */
static gchar *
json_escape(const gchar *text)
{
	GString *out = g_string_new(NULL);
	for (const gchar *p = text; *p != '\0'; p++) {
		guchar c = (guchar)*p;
		if (c == '"' || c == '\\')
			g_string_append_printf(out, "\\%c", c);
		else if (c < 0x20)
			g_string_append_printf(out, "\\u%04x", c);
		else
			g_string_append_c(out, (gchar)c);
	}
	return g_string_free(out, FALSE);
}

static void
reply_state(Demo *d, const gchar *error)
{
	g_autofree gchar *text = fleet_log_view_get_text(d->view);
	g_autoptr(GString) json = g_string_new("{");
	g_autofree gchar *escaped = json_escape(text);
	g_string_append_printf(
	    json,
	    "\"ok\": %s, \"n_lines\": %u, \"held\": %u, \"follow\": %s, "
	    "\"paused\": %s, \"mode\": %d, \"hub_lines\": %" G_GUINT64_FORMAT
	    ", \"max_batch_us\": %" G_GINT64_FORMAT ", ",
	    error == NULL ? "true" : "false", fleet_log_view_get_n_lines(d->view),
	    fleet_log_view_get_held(d->view), fleet_log_view_get_follow(d->view) ? "true" : "false",
	    fleet_log_view_get_paused(d->view) ? "true" : "false", fleet_log_view_get_mode(d->view),
	    fleet_log_hub_get_n_lines(d->hub), fleet_log_view_get_max_batch_us(d->view));
	if (error != NULL) {
		g_autofree gchar *e = json_escape(error);
		g_string_append_printf(json, "\"error\": \"%s\", ", e);
	}
	g_string_append_printf(json, "\"text\": \"%s\"}\n", escaped);
	fputs(json->str, stdout);
	fflush(stdout);
}

static void
handle_command(Demo *d, gchar *line)
{
	g_autoptr(GError) error = NULL;
	gchar *arg = strchr(line, ' ');
	if (arg != NULL)
		*arg++ = '\0';
	if (g_str_equal(line, "select")) {
		g_auto(GStrv) ids = g_strsplit(arg != NULL ? arg : "", " ", -1);
		fleet_log_view_set_selected_devices(d->view, (const gchar *const *)ids);
	} else if (g_str_equal(line, "mode") && arg != NULL) {
		FleetLogViewMode mode =
		    g_str_equal(arg, "merged-all")	  ? FLEET_LOG_VIEW_MODE_MERGED_ALL
		    : g_str_equal(arg, "merged-selected") ? FLEET_LOG_VIEW_MODE_MERGED_SELECTED
							  : FLEET_LOG_VIEW_MODE_DEVICE;
		fleet_log_view_set_mode(d->view, mode);
	} else if (g_str_equal(line, "pause") && arg != NULL) {
		/* through the view's action, as the toolbar button does */
		if (fleet_log_view_get_paused(d->view) != (arg[0] == '1'))
			g_action_group_activate_action(
			    G_ACTION_GROUP(gtk_widget_get_action_group(GTK_WIDGET(d->view), "log")),
			    "pause", NULL);
	} else if (g_str_equal(line, "timestamps") && arg != NULL) {
		fleet_log_view_set_timestamps(d->view, arg[0] == '1');
	} else if (g_str_equal(line, "colors") && arg != NULL) {
		fleet_log_view_set_colors(d->view, arg[0] == '1');
	} else if (g_str_equal(line, "filter")) {
		fleet_log_view_set_filter_text(d->view, arg, FALSE, &error);
	} else if (g_str_equal(line, "regex")) {
		fleet_log_view_set_filter_text(d->view, arg, TRUE, &error);
	} else if (g_str_equal(line, "level")) {
		FleetLogLevel level = FLEET_LOG_LEVEL_NONE;
		if (arg != NULL && !fleet_log_level_from_string(arg, &level))
			level = FLEET_LOG_LEVEL_NONE;
		fleet_log_view_set_filter_level(d->view, level);
	} else if (g_str_equal(line, "tag")) {
		fleet_log_view_set_filter_tag(d->view, arg);
	} else if (g_str_equal(line, "clear")) {
		fleet_log_view_clear(d->view);
	} else if (g_str_equal(line, "scroll-up")) {
		scroll_up(d);
	} else if (g_str_equal(line, "follow")) {
		g_action_group_activate_action(
		    G_ACTION_GROUP(gtk_widget_get_action_group(GTK_WIDGET(d->view), "log")),
		    "follow", NULL);
	} else if (g_str_equal(line, "save") && arg != NULL) {
		g_autoptr(GFile) file = g_file_new_for_path(arg);
		fleet_log_view_save_to_file(d->view, file, &error);
	} else if (g_str_equal(line, "record") && arg != NULL) {
		g_autoptr(GFile) folder = g_str_equal(arg, "-") ? NULL : g_file_new_for_path(arg);
		fleet_log_view_set_recording(d->view, folder, &error);
	} else if (g_str_equal(line, "serial") && arg != NULL) {
		/* "serial PATH BAUD": a port as the window's serial menu would open it */
		g_auto(GStrv) parts = g_strsplit(arg, " ", 2);
		guint baud =
		    parts[1] != NULL ? (guint)g_ascii_strtoull(parts[1], NULL, 10) : 115200;
		g_autoptr(FleetLogSourceSerial) serial =
		    fleet_log_source_serial_new(parts[0], baud, NULL);
		const gchar *ids[] = {fleet_log_source_serial_get_device_id(serial), NULL};
		fleet_log_hub_add_source(d->hub, FLEET_LOG_SOURCE(serial));
		fleet_log_view_set_mode(d->view, FLEET_LOG_VIEW_MODE_DEVICE);
		fleet_log_view_set_selected_devices(d->view, ids);
	} else if (g_str_equal(line, "popover-tcp") && arg != NULL) {
		/* typed into the popover's network field and Enter pressed */
		GtkWidget *popover = open_sources_popover(d);
		GtkWidget *entry = find_widget(popover, is_entry_with_placeholder, "host:23");
		gtk_entry_set_text(GTK_ENTRY(entry), arg);
		g_signal_emit_by_name(entry, "activate");
	} else if (g_str_equal(line, "popover-syslog") && arg != NULL) {
		GtkWidget *popover = open_sources_popover(d);
		GtkWidget *spin = find_widget(popover, is_spin_button, NULL);
		GtkWidget *button = find_widget(popover, is_button_labelled, "_Listen");
		gtk_spin_button_set_value(GTK_SPIN_BUTTON(spin), g_ascii_strtod(arg, NULL));
		gtk_button_clicked(GTK_BUTTON(button));
	} else if (g_str_equal(line, "popover-open")) {
		open_sources_popover(d);
	} else if (g_str_equal(line, "reset")) {
		g_action_group_activate_action(
		    G_ACTION_GROUP(gtk_widget_get_action_group(GTK_WIDGET(d->view), "log")),
		    "reset-device", NULL);
	} else if (g_str_equal(line, "quit")) {
		g_main_loop_quit(d->loop);
	} else if (!g_str_equal(line, "state")) {
		reply_state(d, "unknown command");
		return;
	}
	reply_state(d, error != NULL ? error->message : NULL);
}

static gboolean
stdin_cb(GIOChannel *channel, GIOCondition condition, gpointer user_data)
{
	Demo *d = user_data;
	g_autofree gchar *line = NULL;
	gsize len = 0;
	GIOStatus status = g_io_channel_read_line(channel, &line, &len, NULL, NULL);
	if (status == G_IO_STATUS_EOF || status == G_IO_STATUS_ERROR) {
		g_main_loop_quit(d->loop);
		return G_SOURCE_REMOVE;
	}
	if (line == NULL)
		return G_SOURCE_CONTINUE;
	g_strchomp(line);
	handle_command(d, line);
	return G_SOURCE_CONTINUE;
}

/* ---- benchmark ---- */

static gint64
rss_kb(void)
{
	g_autofree gchar *status = NULL;
	const gchar *p;
	if (!g_file_get_contents("/proc/self/status", &status, NULL, NULL))
		return -1;
	p = strstr(status, "VmRSS:");
	return p != NULL ? g_ascii_strtoll(p + 6, NULL, 10) : -1;
}

/* CPU seconds this process used so far (user + system) */
static gdouble
cpu_seconds(void)
{
	g_autofree gchar *stat = NULL;
	g_auto(GStrv) fields = NULL;
	const gchar *end;
	if (!g_file_get_contents("/proc/self/stat", &stat, NULL, NULL))
		return -1.0;
	/* the fields after the command name, which may hold spaces */
	end = strrchr(stat, ')');
	if (end == NULL)
		return -1.0;
	fields = g_strsplit(end + 2, " ", -1);
	if (g_strv_length(fields) < 13)
		return -1.0;
	return (gdouble)(g_ascii_strtoull(fields[11], NULL, 10) +
			 g_ascii_strtoull(fields[12], NULL, 10)) /
	       (gdouble)sysconf(_SC_CLK_TCK);
}

static gboolean
tick_cb(gpointer user_data)
{
	Demo *d = user_data;
	gint64 now = g_get_monotonic_time();
	gint64 late = now - d->tick_expected;
	if (late > d->max_late_us)
		d->max_late_us = late;
	if (late > 50000)
		d->late_over_50ms++;
	d->ticks++;
	d->tick_expected = now + 10000;
	return G_SOURCE_CONTINUE;
}

static gboolean
rss_cb(gpointer user_data)
{
	Demo *d = user_data;
	gint64 kb = rss_kb();
	g_array_append_val(d->rss_kb, kb);
	return G_SOURCE_CONTINUE;
}

/* the simulator's sensor lines carry "seq=N": every line of every device must arrive */
static void
bench_lines_cb(FleetLogHub *hub, GPtrArray *lines, gpointer user_data)
{
	Demo *d = user_data;
	for (guint i = 0; i < lines->len; i++) {
		FleetLogLine *line = g_ptr_array_index(lines, i);
		const gchar *msg = fleet_log_line_get_message(line);
		const gchar *id = fleet_log_line_get_device_id(line);
		gpointer prev;
		guint64 seq;
		if (g_strcmp0(fleet_log_line_get_tag(line), "sensor") != 0 ||
		    !g_str_has_prefix(msg, "seq="))
			continue;
		seq = g_ascii_strtoull(msg + 4, NULL, 10);
		d->sensor_lines++;
		if (g_hash_table_lookup_extended(d->last_seq, id, NULL, &prev) &&
		    seq != GPOINTER_TO_SIZE(prev))
			d->gaps += seq > GPOINTER_TO_SIZE(prev) ? seq - GPOINTER_TO_SIZE(prev) : 1;
		g_hash_table_insert(d->last_seq, g_strdup(id), GSIZE_TO_POINTER(seq + 1));
	}
}

static gboolean
bench_window_cb(gpointer user_data)
{
	Demo *d = user_data;
	/* the rate is measured once every device streams, not over the start-up */
	d->window_start = g_get_monotonic_time();
	d->lines_at_window_start = fleet_log_hub_get_n_lines(d->hub);
	d->max_late_us = 0;
	d->late_over_50ms = 0;
	d->cpu_at_window_start = cpu_seconds();
	return G_SOURCE_REMOVE;
}

static gboolean
bench_done_cb(gpointer user_data)
{
	Demo *d = user_data;
	g_main_loop_quit(d->loop);
	return G_SOURCE_REMOVE;
}

static void
bench_report(Demo *d, guint count, guint ring)
{
	gint64 now = g_get_monotonic_time();
	gdouble secs = (gdouble)(now - d->window_start) / 1e6;
	guint64 lines = fleet_log_hub_get_n_lines(d->hub) - d->lines_at_window_start;
	g_autoptr(GString) rss = g_string_new("[");
	for (guint i = 0; i < d->rss_kb->len; i++)
		g_string_append_printf(rss, "%s%" G_GINT64_FORMAT, i > 0 ? ", " : "",
				       g_array_index(d->rss_kb, gint64, i));
	g_string_append_c(rss, ']');
	printf("{\"devices\": %u, \"ring\": %u, \"seconds\": %.1f, \"lines\": %" G_GUINT64_FORMAT
	       ", \"lines_per_s\": %.0f, \"sensor_lines\": %" G_GUINT64_FORMAT
	       ", \"gaps\": %" G_GUINT64_FORMAT
	       ", \"max_late_ms\": %.1f, \"late_over_50ms\": %" G_GINT64_FORMAT
	       ", \"ticks\": %" G_GINT64_FORMAT ", \"view_lines\": %u, \"max_batch_ms\": %.1f, "
	       "\"cpu\": %.2f, \"rss_kb\": %s}\n",
	       count, ring, secs, lines, (gdouble)lines / secs, d->sensor_lines, d->gaps,
	       (gdouble)d->max_late_us / 1000.0, d->late_over_50ms, d->ticks,
	       d->view != NULL ? fleet_log_view_get_n_lines(d->view) : 0,
	       d->view != NULL ? (gdouble)fleet_log_view_get_max_batch_us(d->view) / 1000.0 : 0.0,
	       (cpu_seconds() - d->cpu_at_window_start) / secs, rss->str);
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	gint port = 0;
	gint count = 1;
	gint ring = 0;
	gint bench = 0;
	gboolean headless = FALSE;
	g_autoptr(GError) error = NULL;
	g_autoptr(GOptionContext) context = g_option_context_new(NULL);
	Demo d = {0};
	const GOptionEntry entries[] = {
	    {"port", 0, 0, G_OPTION_ARG_INT, &port, "first log port", "PORT"},
	    {"count", 0, 0, G_OPTION_ARG_INT, &count, "devices", "N"},
	    {"ring", 0, 0, G_OPTION_ARG_INT, &ring, "lines kept per device", "N"},
	    {"bench", 0, 0, G_OPTION_ARG_INT, &bench, "benchmark for S seconds", "S"},
	    {"headless", 0, 0, G_OPTION_ARG_NONE, &headless, "benchmark the engine alone", NULL},
	    {NULL}};

	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error) || port <= 0 || count < 1) {
		g_printerr("log-view-demo: %s\n", error != NULL ? error->message : "need --port");
		return 2;
	}
	if (!headless)
		gtk_init(&argc, &argv);
	d.loop = g_main_loop_new(NULL, FALSE);
	d.hub = fleet_log_hub_new();
	if (ring > 0)
		fleet_log_hub_set_ring_lines(d.hub, (guint)ring);
	d.devices = fleet_device_list_new();
	for (gint i = 0; i < count; i++) {
		g_autofree gchar *id = g_strdup_printf("name:esp-lab-%d", i + 1);
		g_autofree gchar *name = g_strdup_printf("esp-lab-%d", i + 1);
		g_autoptr(FleetDevice) device = fleet_device_new(id, FLEET_DEVICE_SOURCE_MANUAL);
		fleet_device_set_name(device, name);
		fleet_device_set_address(device, "127.0.0.1");
		fleet_device_set_log_port(device, (guint16)(port + i));
		fleet_device_set_online(device, TRUE);
		fleet_device_list_add(d.devices, device);
	}

	if (!headless) {
		d.window = gtk_window_new(GTK_WINDOW_TOPLEVEL);
		gtk_window_set_title(GTK_WINDOW(d.window), "espfleet log view");
		gtk_window_set_default_size(GTK_WINDOW(d.window), 1200, 720);
		d.view = FLEET_LOG_VIEW(fleet_log_view_new());
		gtk_widget_show(GTK_WIDGET(d.view));
		gtk_container_add(GTK_CONTAINER(d.window), GTK_WIDGET(d.view));
		fleet_log_view_set_hub(d.view, d.hub);
		g_signal_connect_swapped(d.window, "delete-event", G_CALLBACK(g_main_loop_quit),
					 d.loop);
		gtk_widget_show(d.window);
	}
	/* the sources start once the view listens, so it sees every line from the first */
	fleet_log_hub_set_devices(d.hub, d.devices, TRUE);

	if (bench > 0) {
		d.rss_kb = g_array_new(FALSE, FALSE, sizeof(gint64));
		d.last_seq = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
		g_signal_connect(d.hub, "lines-added", G_CALLBACK(bench_lines_cb), &d);
		if (d.view != NULL)
			fleet_log_view_set_mode(d.view, FLEET_LOG_VIEW_MODE_MERGED_ALL);
		d.tick_expected = g_get_monotonic_time() + 10000;
		g_timeout_add(10, tick_cb, &d);
		g_timeout_add_seconds(1, rss_cb, &d);
		g_timeout_add(2000, bench_window_cb, &d);
		g_timeout_add_seconds((guint)bench, bench_done_cb, &d);
		d.bench_start = g_get_monotonic_time();
		g_main_loop_run(d.loop);
		bench_report(&d, (guint)count, fleet_log_hub_get_ring_lines(d.hub));
		g_array_unref(d.rss_kb);
		g_hash_table_unref(d.last_seq);
	} else {
		d.stdin_channel = g_io_channel_unix_new(0);
		g_io_add_watch(d.stdin_channel, G_IO_IN | G_IO_HUP, stdin_cb, &d);
		printf("{\"ready\": true}\n");
		fflush(stdout);
		g_main_loop_run(d.loop);
		g_io_channel_unref(d.stdin_channel);
	}
	fleet_log_hub_set_devices(d.hub, NULL, FALSE);
	if (d.window != NULL)
		gtk_widget_destroy(d.window);
	g_object_unref(d.hub);
	g_object_unref(d.devices);
	g_main_loop_unref(d.loop);
	return 0;
}
