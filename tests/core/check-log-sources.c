/* SPDX-License-Identifier: GPL-3.0-or-later */
/* check-log-sources.c - the TCP log stream source against a log server in the test (history,
 * disconnect, backoff, reconnect with the history skipped, telnet, a device that moves) and
 * the syslog receiver attributing datagrams from different loopback addresses */

#include <check.h>
#include <string.h>

#include "fleet-check-run.h"
#include "fleet-log-hub.h"
#include "fleet-log-source-syslog.h"
#include "fleet-log-source-tcp.h"

/* ---- a log server on 127.0.0.1 ---- */

typedef struct {
	GSocketService *service;
	guint16 port;
	GPtrArray *connections; /* GSocketConnection, newest last */
	guint n_accepted;
} Server;

static gboolean
server_incoming_cb(GSocketService *service,
		   GSocketConnection *connection,
		   GObject *source_object,
		   gpointer user_data)
{
	Server *server = user_data;
	g_ptr_array_add(server->connections, g_object_ref(connection));
	server->n_accepted++;
	return TRUE;
}

static Server *
server_new(guint16 port)
{
	Server *server = g_new0(Server, 1);
	g_autoptr(GError) error = NULL;
	server->service = g_socket_service_new();
	server->connections = g_ptr_array_new_with_free_func(g_object_unref);
	if (port == 0) {
		g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
		g_autoptr(GSocketAddress) addr = g_inet_socket_address_new(lo, 0);
		g_autoptr(GSocketAddress) effective = NULL;
		ck_assert(g_socket_listener_add_address(G_SOCKET_LISTENER(server->service), addr,
							G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
							NULL, &effective, &error));
		server->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(effective));
	} else {
		g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
		g_autoptr(GSocketAddress) addr = g_inet_socket_address_new(lo, port);
		ck_assert_msg(g_socket_listener_add_address(
				  G_SOCKET_LISTENER(server->service), addr, G_SOCKET_TYPE_STREAM,
				  G_SOCKET_PROTOCOL_TCP, NULL, NULL, &error),
			      "%s", error != NULL ? error->message : "");
		server->port = port;
	}
	g_signal_connect(server->service, "incoming", G_CALLBACK(server_incoming_cb), server);
	g_socket_service_start(server->service);
	return server;
}

static void
server_free(Server *server)
{
	g_socket_service_stop(server->service);
	g_socket_listener_close(G_SOCKET_LISTENER(server->service));
	g_object_unref(server->service);
	g_ptr_array_unref(server->connections);
	g_free(server);
}

static GSocketConnection *
server_last(Server *server)
{
	ck_assert_uint_gt(server->connections->len, 0);
	return g_ptr_array_index(server->connections, server->connections->len - 1);
}

static void
server_send(Server *server, const gchar *data, gsize len)
{
	GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(server_last(server)));
	g_autoptr(GError) error = NULL;
	ck_assert_msg(g_output_stream_write_all(out, data, len, NULL, NULL, &error), "%s",
		      error != NULL ? error->message : "");
}

static void
server_close_last(Server *server)
{
	g_io_stream_close(G_IO_STREAM(server_last(server)), NULL, NULL);
}

/* ---- what reaches the hub ---- */

typedef struct {
	GPtrArray *lines;
} Seen;

static void
seen_cb(FleetLogHub *hub, GPtrArray *lines, gpointer user_data)
{
	Seen *seen = user_data;
	for (guint i = 0; i < lines->len; i++)
		g_ptr_array_add(seen->lines, fleet_log_line_ref(g_ptr_array_index(lines, i)));
}

static gchar *
seen_text(Seen *seen, guint from)
{
	GString *out = g_string_new(NULL);
	for (guint i = from; i < seen->lines->len; i++) {
		FleetLogLine *line = g_ptr_array_index(seen->lines, i);
		if (fleet_log_line_get_kind(line) == FLEET_LOG_LINE_KIND_EVENT)
			g_string_append(out, "* ");
		g_string_append(out, fleet_log_line_get_text(line));
		g_string_append_c(out, '\n');
	}
	return g_string_free(out, FALSE);
}

typedef gboolean (*Cond)(gpointer data);

/* runs the main loop until @cond holds or @timeout_ms pass */
static gboolean
wait_for(Cond cond, gpointer data, guint timeout_ms)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	while (!cond(data)) {
		if (g_get_monotonic_time() > deadline)
			return FALSE;
		g_main_context_iteration(NULL, FALSE);
		g_usleep(1000);
	}
	return TRUE;
}

typedef struct {
	Seen *seen;
	const gchar *needle;
	Server *server;
	guint count;
	FleetLogSource *source;
	FleetLogSourceState state;
} Waiter;

static gboolean
has_text_cond(gpointer data)
{
	Waiter *w = data;
	g_autofree gchar *text = seen_text(w->seen, 0);
	return strstr(text, w->needle) != NULL;
}

static gboolean
accepted_cond(gpointer data)
{
	Waiter *w = data;
	return w->server->n_accepted >= w->count;
}

static gboolean
state_cond(gpointer data)
{
	Waiter *w = data;
	return fleet_log_source_get_state(w->source) == w->state;
}

static void
wait_text(Seen *seen, const gchar *needle)
{
	Waiter w = {seen, needle};
	g_autofree gchar *text = NULL;
	if (wait_for(has_text_cond, &w, 5000))
		return;
	text = seen_text(seen, 0);
	ck_abort_msg("\"%s\" never came; the log has:\n%s", needle, text);
}

static void
wait_accepted(Server *server, guint count)
{
	Waiter w = {NULL, NULL, server, count};
	ck_assert_msg(wait_for(accepted_cond, &w, 5000), "connection %u never came", count);
}

static void
run_for(guint ms)
{
	gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;
	while (g_get_monotonic_time() < end) {
		g_main_context_iteration(NULL, FALSE);
		g_usleep(1000);
	}
}

static FleetLogHub *
hub_new(Seen *seen)
{
	FleetLogHub *hub = fleet_log_hub_new();
	fleet_log_hub_set_batch_interval(hub, 0);
	seen->lines = g_ptr_array_new_with_free_func((GDestroyNotify)fleet_log_line_unref);
	g_signal_connect(hub, "lines-added", G_CALLBACK(seen_cb), seen);
	return hub;
}

static const gchar history[] = "\033[0;32mI (10) app: one\033[0m\r\n"
			       "\033[0;32mI (20) app: two\033[0m\r\n";

START_TEST(test_tcp_reconnect)
{
	Server *server = server_new(0);
	Seen seen = {0};
	g_autoptr(FleetLogHub) hub = hub_new(&seen);
	g_autoptr(FleetLogSourceTcp) tcp =
	    fleet_log_source_tcp_new("mac:01", "127.0.0.1", server->port);
	g_autofree gchar *after_skip = NULL;
	g_autofree gchar *after_boot = NULL;
	g_autofree gchar *described = NULL;
	g_autofree gchar *expected = NULL;
	guint mark;

	fleet_log_source_tcp_set_backoff(tcp, 20, 200);
	fleet_log_hub_add_source(hub, FLEET_LOG_SOURCE(tcp));
	described = fleet_log_source_describe(FLEET_LOG_SOURCE(tcp));
	expected = g_strdup_printf("TCP 127.0.0.1:%u", server->port);
	ck_assert_str_eq(described, expected);
	ck_assert_str_eq(fleet_log_source_get_device_id(FLEET_LOG_SOURCE(tcp)), "mac:01");
	wait_accepted(server, 1);
	server_send(server, history, strlen(history));
	wait_text(&seen, "I (20) app: two");
	ck_assert_int_eq(fleet_log_source_get_state(FLEET_LOG_SOURCE(tcp)),
			 FLEET_LOG_SOURCE_STATE_RUNNING);
	{
		g_autofree gchar *text = seen_text(&seen, 0);
		g_autofree gchar *want = g_strdup_printf(
		    "* connected to 127.0.0.1:%u\nI (10) app: one\nI (20) app: two\n",
		    server->port);
		ck_assert_str_eq(text, want);
	}

	/* the device closes (a reboot): marked, and it connects again by itself */
	server_close_last(server);
	wait_text(&seen, "* disconnected: the device closed the connection");
	ck_assert_int_eq(
	    fleet_log_line_get_level(g_ptr_array_index(seen.lines, seen.lines->len - 1)),
	    FLEET_LOG_LEVEL_WARN);
	wait_accepted(server, 2);
	/* it did not reboot: the history comes again and is not shown twice */
	mark = seen.lines->len;
	server_send(server, history, strlen(history));
	server_send(server, "I (30) app: three\n", 18);
	wait_text(&seen, "I (30) app: three");
	after_skip = seen_text(&seen, mark);
	ck_assert_str_eq(after_skip,
			 "* reconnected (2 lines already shown skipped)\nI (30) app: three\n");

	/* this time it rebooted: new boot lines (earlier timestamps, other text) all show */
	mark = seen.lines->len;
	server_close_last(server);
	wait_accepted(server, 3);
	server_send(server, "I (5) boot: 2.0.0 starting\nI (9) app: one\n", 42);
	wait_text(&seen, "I (9) app: one");
	after_boot = seen_text(&seen, mark);
	ck_assert_str_eq(after_boot, "* disconnected: the device closed the connection\n"
				     "* reconnected\nI (5) boot: 2.0.0 starting\nI (9) app: one\n");
	ck_assert_uint_eq(fleet_log_source_tcp_get_n_connects(tcp), 3);
	fleet_log_hub_remove_source(hub, FLEET_LOG_SOURCE(tcp));
	ck_assert_int_eq(fleet_log_source_get_state(FLEET_LOG_SOURCE(tcp)),
			 FLEET_LOG_SOURCE_STATE_STOPPED);
	server_free(server);
	g_ptr_array_unref(seen.lines);
}
END_TEST

START_TEST(test_tcp_refused_then_up)
{
	Server *probe = server_new(0);
	guint16 port = probe->port;
	Seen seen = {0};
	g_autoptr(FleetLogHub) hub = hub_new(&seen);
	g_autoptr(FleetLogSourceTcp) tcp = NULL;
	Server *server;
	Waiter w = {0};
	guint attempts_events = 0;

	/* a port nobody listens on */
	server_free(probe);
	tcp = fleet_log_source_tcp_new("mac:02", "127.0.0.1", port);
	fleet_log_source_tcp_set_backoff(tcp, 20, 80);
	fleet_log_hub_add_source(hub, FLEET_LOG_SOURCE(tcp));
	w.source = FLEET_LOG_SOURCE(tcp);
	w.state = FLEET_LOG_SOURCE_STATE_WAITING;
	ck_assert(wait_for(state_cond, &w, 5000));
	ck_assert(g_str_has_prefix(fleet_log_source_get_status(FLEET_LOG_SOURCE(tcp)),
				   "Cannot connect to 127.0.0.1:"));
	run_for(400);
	/* several attempts, one line about it */
	for (guint i = 0; i < seen.lines->len; i++) {
		if (strstr(fleet_log_line_get_text(g_ptr_array_index(seen.lines, i)),
			   "cannot connect") != NULL)
			attempts_events++;
	}
	ck_assert_uint_eq(attempts_events, 1);
	ck_assert_uint_eq(fleet_log_source_tcp_get_n_connects(tcp), 0);

	server = server_new(port);
	wait_accepted(server, 1);
	server_send(server, "up\n", 3);
	wait_text(&seen, "up");
	ck_assert_uint_eq(fleet_log_source_tcp_get_n_connects(tcp), 1);
	fleet_log_hub_remove_source(hub, FLEET_LOG_SOURCE(tcp));
	server_free(server);
	g_ptr_array_unref(seen.lines);
}
END_TEST

START_TEST(test_tcp_telnet_and_partial)
{
	Server *server = server_new(0);
	Seen seen = {0};
	g_autoptr(FleetLogHub) hub = hub_new(&seen);
	g_autoptr(FleetLogSourceTcp) tcp =
	    fleet_log_source_tcp_new("mac:03", "127.0.0.1", server->port);
	GInputStream *in;
	guint8 reply[3] = {0};
	gsize got = 0;

	fleet_log_source_tcp_set_telnet(tcp, FLEET_LOG_TELNET_ON);
	fleet_log_source_tcp_set_partial_timeout(tcp, 100);
	fleet_log_hub_add_source(hub, FLEET_LOG_SOURCE(tcp));
	wait_accepted(server, 1);
	/* RemoteDebug-style: IAC WILL ECHO, IAC WILL SGA, then text */
	server_send(server, "\xff\xfb\x01\xff\xfb\x03Hello from telnet\r\n", 25);
	wait_text(&seen, "Hello from telnet");
	in = g_io_stream_get_input_stream(G_IO_STREAM(server_last(server)));
	ck_assert(g_input_stream_read_all(in, reply, 3, &got, NULL, NULL));
	ck_assert_uint_eq(got, 3);
	ck_assert(memcmp(reply, "\xff\xfe\x01", 3) == 0);

	/* a prompt without a line end shows after the partial timeout */
	server_send(server, "login: ", 7);
	wait_text(&seen, "login: ");
	fleet_log_hub_remove_source(hub, FLEET_LOG_SOURCE(tcp));
	server_free(server);
	g_ptr_array_unref(seen.lines);
}
END_TEST

START_TEST(test_tcp_follows_device)
{
	Server *a = server_new(0);
	Server *b = server_new(0);
	Seen seen = {0};
	g_autoptr(FleetLogHub) hub = hub_new(&seen);
	g_autoptr(FleetDevice) device = fleet_device_new("mac:04", FLEET_DEVICE_SOURCE_MDNS);
	g_autoptr(FleetLogSourceTcp) tcp = NULL;
	Waiter w = {0};

	tcp = fleet_log_source_tcp_new_for_device(device, 0);
	ck_assert_ptr_eq(fleet_log_source_tcp_get_device(tcp), device);
	fleet_log_hub_add_source(hub, FLEET_LOG_SOURCE(tcp));
	/* no address yet: it waits, then connects as soon as the device has one */
	w.source = FLEET_LOG_SOURCE(tcp);
	w.state = FLEET_LOG_SOURCE_STATE_WAITING;
	ck_assert(wait_for(state_cond, &w, 1000));
	ck_assert_str_eq(fleet_log_source_get_status(FLEET_LOG_SOURCE(tcp)),
			 "Waiting for the device's address");
	fleet_device_set_address(device, "127.0.0.1");
	ck_assert_str_eq(fleet_log_source_get_status(FLEET_LOG_SOURCE(tcp)),
			 "The device announces no log port");
	fleet_device_set_log_port(device, a->port);
	wait_accepted(a, 1);
	server_send(a, "on a\n", 5);
	wait_text(&seen, "on a");
	/* it announces another log port (a new firmware): the source moves there */
	fleet_device_set_log_port(device, b->port);
	wait_accepted(b, 1);
	server_send(b, "on b\n", 5);
	wait_text(&seen, "on b");
	wait_text(&seen, "* disconnected: the device has a new address");
	ck_assert_str_eq(fleet_log_source_tcp_get_device_id(tcp), "mac:04");
	ck_assert_uint_eq(fleet_log_source_tcp_get_port(tcp), b->port);
	fleet_log_hub_remove_source(hub, FLEET_LOG_SOURCE(tcp));
	server_free(a);
	server_free(b);
	g_ptr_array_unref(seen.lines);
}
END_TEST

/* ---- syslog ---- */

static void
send_from(const gchar *from, guint16 port, const gchar *datagram)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GSocket) sock = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
					       G_SOCKET_PROTOCOL_UDP, &error);
	g_autoptr(GInetAddress) src = g_inet_address_new_from_string(from);
	g_autoptr(GSocketAddress) src_addr = g_inet_socket_address_new(src, 0);
	g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) dst = g_inet_socket_address_new(lo, port);
	ck_assert_ptr_nonnull(sock);
	ck_assert_msg(g_socket_bind(sock, src_addr, FALSE, &error), "%s", error->message);
	ck_assert(g_socket_send_to(sock, dst, datagram, strlen(datagram), NULL, &error) >= 0);
}

typedef struct {
	Seen *seen;
	guint n;
} CountWaiter;

static gboolean
count_cond(gpointer data)
{
	CountWaiter *w = data;
	return w->seen->lines->len >= w->n;
}

START_TEST(test_syslog_attribution)
{
	Seen seen = {0};
	g_autoptr(FleetLogHub) hub = hub_new(&seen);
	g_autoptr(FleetDeviceList) devices = fleet_device_list_new();
	g_autoptr(FleetDevice) a = fleet_device_new("mac:0a", FLEET_DEVICE_SOURCE_MDNS);
	g_autoptr(FleetDevice) b = fleet_device_new("mac:0b", FLEET_DEVICE_SOURCE_MDNS);
	g_autoptr(FleetLogSourceSyslog) source = NULL;
	g_autoptr(FleetLogSourceSyslog) clash = NULL;
	g_autofree gchar *described = NULL;
	CountWaiter w = {&seen, 4};
	guint16 port;

	fleet_device_set_address(a, "127.0.0.2");
	fleet_device_set_name(b, "esp-b");
	fleet_device_list_add(devices, a);
	fleet_device_list_add(devices, b);
	source = fleet_log_source_syslog_new("127.0.0.1", 0, devices);
	fleet_log_hub_add_source(hub, FLEET_LOG_SOURCE(source));
	ck_assert_int_eq(fleet_log_source_get_state(FLEET_LOG_SOURCE(source)),
			 FLEET_LOG_SOURCE_STATE_RUNNING);
	port = fleet_log_source_syslog_get_port(source);
	ck_assert_uint_ne(port, 0);
	described = fleet_log_source_describe(FLEET_LOG_SOURCE(source));
	ck_assert(g_str_has_prefix(described, "Syslog on UDP port "));

	send_from("127.0.0.2", port, "<11>1 2024-05-01T12:00:00Z esp-a app - - - disk on fire");
	send_from("127.0.0.3", port, "<14>esp-b sensor: 21.5 C");
	send_from("127.0.0.4", port, "<15>Oct 11 22:14:15 stranger x: hello");
	send_from("127.0.0.4", port, "");
	send_from("127.0.0.4", port, "no pri");
	ck_assert(wait_for(count_cond, &w, 5000));
	run_for(50);
	ck_assert_uint_eq(seen.lines->len, 4);
	ck_assert_str_eq(fleet_log_line_get_device_id(g_ptr_array_index(seen.lines, 0)), "mac:0a");
	ck_assert_str_eq(fleet_log_line_get_text(g_ptr_array_index(seen.lines, 0)),
			 "app: disk on fire");
	ck_assert_int_eq(fleet_log_line_get_level(g_ptr_array_index(seen.lines, 0)),
			 FLEET_LOG_LEVEL_ERROR);
	/* by HOSTNAME when the address is unknown */
	ck_assert_str_eq(fleet_log_line_get_device_id(g_ptr_array_index(seen.lines, 1)), "mac:0b");
	ck_assert_str_eq(fleet_log_line_get_device_id(g_ptr_array_index(seen.lines, 2)),
			 "syslog:127.0.0.4");
	ck_assert_str_eq(fleet_log_line_get_text(g_ptr_array_index(seen.lines, 3)), "no pri");
	ck_assert_uint_eq(fleet_log_source_syslog_get_n_received(source), 5);

	/* the port is taken: the second receiver says so and stops */
	clash = fleet_log_source_syslog_new("127.0.0.1", port, NULL);
	fleet_log_hub_add_source(hub, FLEET_LOG_SOURCE(clash));
	ck_assert_int_eq(fleet_log_source_get_state(FLEET_LOG_SOURCE(clash)),
			 FLEET_LOG_SOURCE_STATE_FAILED);
	ck_assert(strstr(fleet_log_source_get_status(FLEET_LOG_SOURCE(clash)),
			 "Cannot listen for syslog") != NULL);
	fleet_log_hub_remove_source(hub, FLEET_LOG_SOURCE(source));
	fleet_log_hub_remove_source(hub, FLEET_LOG_SOURCE(clash));
	g_ptr_array_unref(seen.lines);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("log-sources");
	TCase *tc_tcp = tcase_create("tcp");
	TCase *tc_syslog = tcase_create("syslog");

	tcase_add_test(tc_tcp, test_tcp_reconnect);
	tcase_add_test(tc_tcp, test_tcp_refused_then_up);
	tcase_add_test(tc_tcp, test_tcp_telnet_and_partial);
	tcase_add_test(tc_tcp, test_tcp_follows_device);
	suite_add_tcase(s, tc_tcp);
	tcase_add_test(tc_syslog, test_syslog_attribution);
	suite_add_tcase(s, tc_syslog);

	return fleet_check_run(s);
}
