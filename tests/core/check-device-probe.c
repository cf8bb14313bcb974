/* SPDX-License-Identifier: GPL-3.0-or-later */
/* check-device-probe.c - GET /info of a device added by address, against a fake device on 127.0.0.1
 */

#include <check.h>
#include <string.h>

#include "fleet-check-run.h"
#include "fleet-device-probe.h"
#include "fleet-error.h"

/* what the fake device answers: a whole HTTP response, NULL to close at once */
static const gchar *fake_response;

static gboolean
fake_run_cb(GThreadedSocketService *service,
	    GSocketConnection *connection,
	    GObject *source,
	    gpointer user_data)
{
	GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(connection));
	GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(connection));
	g_autoptr(GString) request = g_string_new(NULL);
	gchar buf[512];

	/* the request head, up to its empty line */
	while (strstr(request->str, "\r\n\r\n") == NULL && request->len < 8192) {
		gssize n = g_input_stream_read(in, buf, sizeof(buf), NULL, NULL);
		if (n <= 0)
			return TRUE;
		g_string_append_len(request, buf, n);
	}
	/* anything but the one request the probe makes gets no answer, and the test fails */
	if (fake_response != NULL && g_str_has_prefix(request->str, "GET /info HTTP/1.1\r\n"))
		g_output_stream_write_all(out, fake_response, strlen(fake_response), NULL, NULL,
					  NULL);
	g_io_stream_close(G_IO_STREAM(connection), NULL, NULL);
	return TRUE;
}

static GSocketService *
fake_start(guint16 *port)
{
	GSocketService *service = g_threaded_socket_service_new(4);
	g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) address = g_inet_socket_address_new(loopback, 0);
	g_autoptr(GSocketAddress) bound = NULL;
	g_autoptr(GError) error = NULL;

	ck_assert(g_socket_listener_add_address(G_SOCKET_LISTENER(service), address,
						G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL,
						&bound, &error));
	*port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
	g_signal_connect(service, "run", G_CALLBACK(fake_run_cb), NULL);
	g_socket_service_start(service);
	return service;
}

/* a port nothing listens on: bound, then closed again */
static guint16
closed_port(void)
{
	g_autoptr(GSocketListener) listener = g_socket_listener_new();
	g_autoptr(GError) error = NULL;
	guint16 port = g_socket_listener_add_any_inet_port(listener, NULL, &error);
	ck_assert_uint_ne(port, 0);
	g_socket_listener_close(listener);
	return port;
}

typedef struct {
	gboolean done;
	gboolean ok;
	GError *error;
} ProbeResult;

static void
probe_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	ProbeResult *r = user_data;
	r->ok = fleet_device_probe_finish(result, &r->error);
	r->done = TRUE;
}

static ProbeResult
probe(FleetDevice *device)
{
	ProbeResult r = {FALSE, FALSE, NULL};
	fleet_device_probe_async(device, 5, NULL, probe_cb, &r);
	while (!r.done)
		g_main_context_iteration(NULL, TRUE);
	return r;
}

static FleetDevice *
manual_device(guint16 http_port)
{
	FleetDevice *device = fleet_device_new("addr:127.0.0.1:3232", FLEET_DEVICE_SOURCE_MANUAL);
	fleet_device_set_name(device, "127.0.0.1");
	fleet_device_set_address(device, "127.0.0.1");
	fleet_device_set_ota_port(device, 3232);
	fleet_device_set_http_port(device, http_port);
	return device;
}

#define INFO_BODY                                                                                  \
	"{\"name\":\"esp-lab-7\",\"mac\":\"24:6F:28:AA:BB:CC\",\"chip\":\"esp32s3\","              \
	"\"board\":\"esp32s3\",\"version\":\"1.4.2\",\"fw_sha256\":\"0123456789abcdef\","          \
	"\"uptime\":5}"

START_TEST(test_probe_answer)
{
	guint16 port = 0;
	g_autoptr(GSocketService) service = fake_start(&port);
	g_autoptr(FleetDevice) device = manual_device(port);
	g_autofree gchar *response = g_strdup_printf("HTTP/1.1 200 OK\r\nContent-Type: "
						     "application/json\r\nContent-Length: %zu\r\n"
						     "Connection: close\r\n\r\n%s",
						     strlen(INFO_BODY), INFO_BODY);
	ProbeResult r;

	fake_response = response;
	ck_assert(fleet_device_probe_possible(device));
	r = probe(device);
	ck_assert_msg(r.ok, "%s", r.error != NULL ? r.error->message : "");
	/* the name it reports replaces the address it was added by */
	ck_assert_str_eq(fleet_device_get_name(device), "esp-lab-7");
	ck_assert_str_eq(fleet_device_get_chip(device), "esp32s3");
	ck_assert_str_eq(fleet_device_get_fw_version(device), "1.4.2");
	ck_assert_str_eq(fleet_device_get_fw_sha256(device), "0123456789abcdef");
	ck_assert(fleet_device_get_online(device));
	ck_assert_int_gt(fleet_device_get_last_seen(device), 0);

	/* a name the user gave is kept */
	fleet_device_set_name(device, "boiler room");
	r = probe(device);
	ck_assert(r.ok);
	ck_assert_str_eq(fleet_device_get_name(device), "boiler room");
	g_socket_service_stop(service);
}
END_TEST

START_TEST(test_probe_refused)
{
	g_autoptr(FleetDevice) device = manual_device(closed_port());
	ProbeResult r;

	fleet_device_set_online(device, TRUE);
	r = probe(device);
	ck_assert(!r.ok);
	ck_assert(g_error_matches(r.error, FLEET_ERROR, FLEET_ERROR_NETWORK));
	ck_assert(!fleet_device_get_online(device));
	g_clear_error(&r.error);
}
END_TEST

START_TEST(test_probe_not_found)
{
	guint16 port = 0;
	g_autoptr(GSocketService) service = fake_start(&port);
	g_autoptr(FleetDevice) device = manual_device(port);
	ProbeResult r;

	fake_response = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
	fleet_device_set_online(device, TRUE);
	r = probe(device);
	ck_assert(!r.ok);
	ck_assert(g_error_matches(r.error, FLEET_ERROR, FLEET_ERROR_NOT_SUPPORTED));
	ck_assert_ptr_nonnull(strstr(r.error->message, "404"));
	ck_assert(!fleet_device_get_online(device));
	g_clear_error(&r.error);
	g_socket_service_stop(service);
}
END_TEST

/* it answered, so it is there; what it said is not used */
START_TEST(test_probe_garbage)
{
	guint16 port = 0;
	g_autoptr(GSocketService) service = fake_start(&port);
	g_autoptr(FleetDevice) device = manual_device(port);
	ProbeResult r;

	fake_response =
	    "HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot json!";
	r = probe(device);
	ck_assert(!r.ok);
	ck_assert(g_error_matches(r.error, FLEET_ERROR, FLEET_ERROR_INVALID_DATA));
	ck_assert(fleet_device_get_online(device));
	ck_assert_str_eq(fleet_device_get_name(device), "127.0.0.1");
	ck_assert_ptr_null(fleet_device_get_fw_version(device));
	g_clear_error(&r.error);
	g_socket_service_stop(service);
}
END_TEST

/* a device found over mDNS: new facts, but its online state stays discovery's business */
START_TEST(test_probe_mdns_device)
{
	g_autoptr(FleetDevice) device = fleet_device_new("name:x", FLEET_DEVICE_SOURCE_MDNS);
	ProbeResult r;

	fleet_device_set_address(device, "127.0.0.1");
	fleet_device_set_http_port(device, closed_port());
	fleet_device_set_online(device, TRUE);
	r = probe(device);
	ck_assert(!r.ok);
	ck_assert(fleet_device_get_online(device));
	g_clear_error(&r.error);
}
END_TEST

START_TEST(test_probe_impossible)
{
	g_autoptr(FleetDevice) device = manual_device(0);
	ProbeResult r;

	ck_assert(!fleet_device_probe_possible(device));
	r = probe(device);
	ck_assert(!r.ok);
	ck_assert(g_error_matches(r.error, FLEET_ERROR, FLEET_ERROR_NOT_SUPPORTED));
	g_clear_error(&r.error);
}
END_TEST

static Suite *
device_probe_suite(void)
{
	Suite *s = suite_create("device-probe");
	TCase *tc = tcase_create("probe");
	tcase_add_test(tc, test_probe_answer);
	tcase_add_test(tc, test_probe_refused);
	tcase_add_test(tc, test_probe_not_found);
	tcase_add_test(tc, test_probe_garbage);
	tcase_add_test(tc, test_probe_mdns_device);
	tcase_add_test(tc, test_probe_impossible);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return fleet_check_run(device_probe_suite());
}
