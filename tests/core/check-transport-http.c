/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * check-transport-http.c - the HTTP POST transport and the GET helper against fake devices
 *
 * The fake devices run in this process on 127.0.0.1: libsoup servers that check each
 * request the way an Arduino update server parses it (field name, file name, exact image
 * bytes, Origin == http://Host, credentials), and raw socket servers that stall, stay
 * silent or reset the connection right after a success page, as a rebooting ESP does.
 */

#include <check.h>
#include <gio/gio.h>
#include <libsoup/soup.h>
#include <string.h>
#include <sys/socket.h>

#include "fleet-check-run.h"
#include "fleet-curl-multi.h"
#include "fleet-device-info.h"
#include "fleet-error.h"
#include "fleet-http-get.h"
#include "fleet-transport-http.h"

#define IMAGE_FILENAME "/some/dir/app-v2.bin"
#define SUCCESS_PAGE                                                                               \
	"<META http-equiv=\"refresh\" content=\"15;URL=/\">Update Success! Rebooting..."

/* ---- the image and the device ---------------------------------------------------------- */

static FleetImage *
make_image(gsize size, guint32 seed)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
	guint8 *data = g_malloc(size);
	g_autoptr(GBytes) bytes = NULL;
	for (gsize i = 0; i < size; i++)
		data[i] = (guint8)g_rand_int_range(rand, 0, 256);
	data[0] = 0xE9;
	bytes = g_bytes_new_take(data, size);
	return fleet_image_new_from_bytes(bytes, IMAGE_FILENAME);
}

static FleetDevice *
make_device(guint port, const gchar *path)
{
	g_autofree gchar *id = g_strdup_printf("addr:127.0.0.1:%u", port);
	FleetDevice *device = fleet_device_new(id, FLEET_DEVICE_SOURCE_MANUAL);
	fleet_device_set_name(device, "esp-test");
	fleet_device_set_address(device, "127.0.0.1");
	fleet_device_set_http_port(device, (guint16)port);
	fleet_device_set_http_path(device, path);
	return device;
}

/* ---- one upload, with everything the callbacks reported ------------------------------- */

typedef struct {
	gboolean finished;
	gboolean ok;
	GError *error;
	GArray *progress; /* guint64 pairs: done, total */
	GArray *phases;	  /* FleetUploadPhase */
	GString *transcript;
	GThread *thread;
	gboolean wrong_thread;
	GCancellable *cancel_at_progress; /* cancelled once some bytes are out */
	guint *in_flight;		  /* shared counter for the parallel test */
	guint *max_in_flight;
	gboolean counted;
	guint max_threads;
} Upload;

static guint
thread_count(void)
{
	g_autofree gchar *status = NULL;
	const gchar *line;
	if (!g_file_get_contents("/proc/self/status", &status, NULL, NULL))
		return 0;
	line = strstr(status, "\nThreads:");
	return line != NULL ? (guint)g_ascii_strtoull(line + 9, NULL, 10) : 0;
}

static void
upload_check_thread(Upload *u)
{
	if (g_thread_self() != u->thread)
		u->wrong_thread = TRUE;
}

static void
upload_progress_cb(guint64 done, guint64 total, gpointer user_data)
{
	Upload *u = user_data;
	upload_check_thread(u);
	g_array_append_val(u->progress, done);
	g_array_append_val(u->progress, total);
	if (u->cancel_at_progress != NULL && done > 0)
		g_cancellable_cancel(u->cancel_at_progress);
	if (u->in_flight != NULL) {
		u->max_threads = MAX(u->max_threads, thread_count());
		if (!u->counted) {
			u->counted = TRUE;
			(*u->in_flight)++;
			*u->max_in_flight = MAX(*u->max_in_flight, *u->in_flight);
		}
	}
}

static void
upload_phase_cb(FleetUploadPhase phase, gpointer user_data)
{
	Upload *u = user_data;
	upload_check_thread(u);
	g_array_append_val(u->phases, phase);
}

static void
upload_transcript_cb(const gchar *line, gpointer user_data)
{
	Upload *u = user_data;
	g_string_append_printf(u->transcript, "%s\n", line);
}

static void
upload_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	Upload *u = user_data;
	upload_check_thread(u);
	u->ok = fleet_transport_upload_finish(FLEET_TRANSPORT(source), result, &u->error);
	u->finished = TRUE;
	if (u->counted)
		(*u->in_flight)--;
}

static void
upload_init(Upload *u)
{
	memset(u, 0, sizeof(*u));
	u->progress = g_array_new(FALSE, FALSE, sizeof(guint64));
	u->phases = g_array_new(FALSE, FALSE, sizeof(FleetUploadPhase));
	u->transcript = g_string_new(NULL);
	u->thread = g_thread_self();
}

static void
upload_clear(Upload *u)
{
	g_array_unref(u->progress);
	g_array_unref(u->phases);
	g_string_free(u->transcript, TRUE);
	g_clear_error(&u->error);
}

static void
upload_start(Upload *u,
	     FleetTransport *transport,
	     FleetUploadRequest *request,
	     GCancellable *cancellable)
{
	fleet_upload_request_set_progress_func(request, upload_progress_cb, u);
	fleet_upload_request_set_phase_func(request, upload_phase_cb, u);
	fleet_upload_request_set_transcript_func(request, upload_transcript_cb, u);
	fleet_transport_upload_async(transport, request, cancellable, upload_done_cb, u);
}

static void
upload_wait(Upload *u)
{
	while (!u->finished)
		g_main_context_iteration(NULL, TRUE);
}

/* runs one upload to the end */
static void
upload_run(Upload *u, FleetUploadRequest *request, GCancellable *cancellable)
{
	g_autoptr(FleetTransportHttp) transport = fleet_transport_http_new();
	upload_start(u, FLEET_TRANSPORT(transport), request, cancellable);
	upload_wait(u);
}

static void
assert_progress_sane(Upload *u, guint64 size)
{
	guint64 last = 0;
	ck_assert_uint_gt(u->progress->len, 2);
	for (guint i = 0; i < u->progress->len; i += 2) {
		guint64 done = g_array_index(u->progress, guint64, i);
		guint64 total = g_array_index(u->progress, guint64, i + 1);
		ck_assert_uint_eq(total, size);
		ck_assert_uint_ge(done, last);
		ck_assert_uint_le(done, size);
		last = done;
	}
	ck_assert_uint_eq(last, size);
}

/* ---- a fake device on libsoup ---------------------------------------------------------- */

typedef struct {
	SoupServer *server;
	guint port;
	GBytes *expected;
	const gchar *field;
	const gchar *filename;
	gboolean raw;
	const gchar *md5;
	const gchar *user; /* Basic credentials the device requires, or NULL */
	const gchar *password;
	guint status;
	const gchar *reply;
	guint requests; /* POSTs that reached the handler */
	guint accepted; /* of those, ones whose request was exactly right */
	GString *problems;
} FakeDevice;

static void fake_problem(FakeDevice *fake, const gchar *format, ...) G_GNUC_PRINTF(2, 3);

static void
fake_problem(FakeDevice *fake, const gchar *format, ...)
{
	va_list args;
	va_start(args, format);
	g_string_append_vprintf(fake->problems, format, args);
	va_end(args);
	g_string_append(fake->problems, "; ");
}

static void
fake_check_multipart(FakeDevice *fake, SoupMessageHeaders *headers, GBytes *body)
{
	const gchar *content_type = soup_message_headers_get_one(headers, "Content-Type");
	g_autofree gchar *disposition_line = NULL;
	g_autoptr(SoupMultipart) multipart = NULL;
	SoupMessageHeaders *part_headers = NULL;
	GBytes *part_body = NULL;
	g_autofree gchar *disposition = NULL;
	g_autoptr(GHashTable) params = NULL;
	const gchar *part_type;

	/* ESP8266WebServer: starts with multipart/, boundary after the first '=', unquoted */
	if (content_type == NULL ||
	    !g_str_has_prefix(content_type, "multipart/form-data; boundary=") ||
	    strchr(content_type, '"') != NULL)
		fake_problem(fake, "Content-Type %s", content_type);
	/* name= before filename=, both quoted, then the part's type: the positional parser */
	disposition_line =
	    g_strdup_printf("\r\nContent-Disposition: form-data; name=\"%s\"; "
			    "filename=\"%s\"\r\nContent-Type: application/octet-stream"
			    "\r\n\r\n",
			    fake->field, fake->filename);
	if (g_bytes_get_size(body) < strlen(disposition_line) ||
	    g_strstr_len(g_bytes_get_data(body, NULL), 512, disposition_line) == NULL)
		fake_problem(fake, "part header is not exactly %s", disposition_line);

	multipart = soup_multipart_new_from_message(headers, body);
	if (multipart == NULL || soup_multipart_get_length(multipart) != 1) {
		fake_problem(fake, "not a multipart body with one part");
		return;
	}
	soup_multipart_get_part(multipart, 0, &part_headers, &part_body);
	if (!soup_message_headers_get_content_disposition(part_headers, &disposition, &params) ||
	    g_strcmp0(disposition, "form-data") != 0 ||
	    g_strcmp0(g_hash_table_lookup(params, "name"), fake->field) != 0 ||
	    g_strcmp0(g_hash_table_lookup(params, "filename"), fake->filename) != 0)
		fake_problem(fake, "wrong Content-Disposition");
	part_type = soup_message_headers_get_content_type(part_headers, NULL);
	if (g_strcmp0(part_type, "application/octet-stream") != 0)
		fake_problem(fake, "part type %s", part_type);
	if (!g_bytes_equal(part_body, fake->expected))
		fake_problem(fake, "image bytes differ (%" G_GSIZE_FORMAT " received)",
			     g_bytes_get_size(part_body));
}

static void
fake_check_raw(FakeDevice *fake, SoupMessageHeaders *headers, GBytes *body)
{
	const gchar *content_type = soup_message_headers_get_one(headers, "Content-Type");
	const gchar *md5 = soup_message_headers_get_one(headers, "X-MD5");
	if (g_strcmp0(content_type, "application/octet-stream") != 0)
		fake_problem(fake, "Content-Type %s", content_type);
	if (soup_message_headers_get_content_length(headers) !=
	    (goffset)g_bytes_get_size(fake->expected))
		fake_problem(fake, "Content-Length %" G_GINT64_FORMAT,
			     soup_message_headers_get_content_length(headers));
	if (g_strcmp0(md5, fake->md5) != 0)
		fake_problem(fake, "X-MD5 %s", md5);
	if (!g_bytes_equal(body, fake->expected))
		fake_problem(fake, "body differs from the image");
}

static void
fake_handler(SoupServer *server,
	     SoupServerMessage *msg,
	     const gchar *path,
	     GHashTable *query,
	     gpointer user_data)
{
	FakeDevice *fake = user_data;
	SoupMessageHeaders *headers = soup_server_message_get_request_headers(msg);
	const gchar *host = soup_message_headers_get_one(headers, "Host");
	const gchar *origin = soup_message_headers_get_one(headers, "Origin");
	const gchar *referer = soup_message_headers_get_one(headers, "Referer");
	g_autofree gchar *want_origin = g_strdup_printf("http://%s", host);
	g_autoptr(GBytes) body = NULL;
	gsize problems_before = fake->problems->len;

	if (strcmp(soup_server_message_get_method(msg), "POST") != 0) {
		soup_server_message_set_status(msg, 405, NULL);
		return;
	}
	fake->requests++;
	body = soup_message_body_flatten(soup_server_message_get_request_body(msg));

	if (fake->user != NULL) {
		const gchar *auth = soup_message_headers_get_one(headers, "Authorization");
		g_autofree gchar *pair = g_strdup_printf("%s:%s", fake->user, fake->password);
		g_autofree gchar *b64 = g_base64_encode((const guchar *)pair, strlen(pair));
		g_autofree gchar *want = g_strdup_printf("Basic %s", b64);
		if (g_strcmp0(auth, want) != 0) {
			soup_message_headers_append(soup_server_message_get_response_headers(msg),
						    "WWW-Authenticate",
						    "Basic realm=\"Login Required\"");
			soup_server_message_set_status(msg, 401, NULL);
			return;
		}
	}
	/* arduino-esp32's CSRF check, and the headers that must not be there */
	if (g_strcmp0(origin, want_origin) != 0)
		fake_problem(fake, "Origin %s for Host %s", origin, host);
	if (referer == NULL || !g_str_has_prefix(referer, want_origin))
		fake_problem(fake, "Referer %s", referer);
	/* ESP web servers and ESP-IDF's httpd need the length up front, never chunks */
	if (soup_message_headers_get_encoding(headers) != SOUP_ENCODING_CONTENT_LENGTH ||
	    soup_message_headers_get_content_length(headers) != (goffset)g_bytes_get_size(body))
		fake_problem(fake, "no exact Content-Length");
	if (soup_message_headers_get_one(headers, "Expect") != NULL)
		fake_problem(fake, "Expect: %s", soup_message_headers_get_one(headers, "Expect"));
	if (fake->raw)
		fake_check_raw(fake, headers, body);
	else
		fake_check_multipart(fake, headers, body);

	if (fake->problems->len != problems_before) {
		soup_server_message_set_status(msg, 400, NULL);
		soup_server_message_set_response(msg, "text/plain", SOUP_MEMORY_COPY,
						 fake->problems->str, fake->problems->len);
		return;
	}
	fake->accepted++;
	soup_server_message_set_status(msg, fake->status, NULL);
	soup_server_message_set_response(msg, "text/html", SOUP_MEMORY_COPY, fake->reply,
					 strlen(fake->reply));
}

static void
info_handler(SoupServer *server,
	     SoupServerMessage *msg,
	     const gchar *path,
	     GHashTable *query,
	     gpointer user_data)
{
	const gchar *json = user_data;
	soup_server_message_set_status(msg, 200, NULL);
	soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, json,
					 strlen(json));
}

static guint
server_port(SoupServer *server)
{
	GSList *uris = soup_server_get_uris(server);
	guint port;
	ck_assert_ptr_nonnull(uris);
	port = (guint)g_uri_get_port(uris->data);
	g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
	return port;
}

static FakeDevice *
fake_new(FleetImage *image, const gchar *path)
{
	FakeDevice *fake = g_new0(FakeDevice, 1);
	g_autoptr(GError) error = NULL;
	fake->server = soup_server_new("server-header", "esp-fake", NULL);
	fake->expected = g_bytes_ref(fleet_image_get_bytes(image));
	fake->field = "firmware";
	fake->filename = "app-v2.bin";
	fake->md5 = fleet_image_get_md5(image);
	fake->status = 200;
	fake->reply = SUCCESS_PAGE;
	fake->problems = g_string_new(NULL);
	soup_server_add_handler(fake->server, path, fake_handler, fake, NULL);
	ck_assert_msg(
	    soup_server_listen_local(fake->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error), "%s",
	    error != NULL ? error->message : "?");
	fake->port = server_port(fake->server);
	return fake;
}

static void
fake_free(FakeDevice *fake)
{
	soup_server_disconnect(fake->server);
	g_object_unref(fake->server);
	g_bytes_unref(fake->expected);
	g_string_free(fake->problems, TRUE);
	g_free(fake);
}

/* ---- raw socket devices: stall, silence, reset -------------------------------------- */

typedef enum {
	RAW_STALL,		/* accepts, never reads */
	RAW_SILENT,		/* reads the whole request, never answers */
	RAW_RESET_AFTER_SUCCESS /* answers with a truncated success page, then RST */
} RawMode;

typedef struct {
	GSocketService *service;
	guint16 port;
	RawMode mode;
	GPtrArray *connections;
	guint requests_complete;
} RawDevice;

typedef struct {
	RawDevice *raw;
	GSocketConnection *connection;
	GString *head;
	gboolean in_body;
	gint64 body_left;
	gchar buf[16384];
} RawConn;

static gboolean
raw_reset_cb(gpointer user_data)
{
	RawConn *c = user_data;
	GSocket *socket = g_socket_connection_get_socket(c->connection);
	struct linger lin = {1, 0};
	/* SO_LINGER 0: close sends RST, like a chip that restarts under its TCP stack */
	setsockopt(g_socket_get_fd(socket), SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
	g_socket_close(socket, NULL);
	return G_SOURCE_REMOVE;
}

static void raw_read_cb(GObject *source, GAsyncResult *result, gpointer user_data);

static void
raw_read_more(RawConn *c)
{
	GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(c->connection));
	g_input_stream_read_async(in, c->buf, sizeof(c->buf), G_PRIORITY_DEFAULT, NULL, raw_read_cb,
				  c);
}

static void
raw_request_complete(RawConn *c)
{
	c->raw->requests_complete++;
	if (c->raw->mode == RAW_RESET_AFTER_SUCCESS) {
		/* Content-Length promises more than is sent: the reset cuts the page short */
		static const gchar answer[] =
		    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
		    "Content-Length: 500\r\nConnection: close\r\n\r\n" SUCCESS_PAGE;
		GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(c->connection));
		g_output_stream_write_all(out, answer, strlen(answer), NULL, NULL, NULL);
		g_timeout_add(100, raw_reset_cb, c);
	}
}

static void
raw_read_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	RawConn *c = user_data;
	gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), result, NULL);
	gssize used = 0;
	if (n <= 0)
		return;
	if (!c->in_body) {
		const gchar *end;
		const gchar *cl;
		g_string_append_len(c->head, c->buf, n);
		end = strstr(c->head->str, "\r\n\r\n");
		if (end == NULL) {
			raw_read_more(c);
			return;
		}
		cl = g_strstr_len(c->head->str, end - c->head->str, "Content-Length: ");
		c->body_left = cl != NULL ? g_ascii_strtoll(cl + 16, NULL, 10) : 0;
		c->in_body = TRUE;
		/* what came after the head in this read is body */
		used = n - (gssize)(c->head->len - (gsize)(end + 4 - c->head->str));
	}
	c->body_left -= n - used;
	if (c->body_left <= 0) {
		raw_request_complete(c);
		return;
	}
	raw_read_more(c);
}

static void
raw_conn_free(gpointer data)
{
	RawConn *c = data;
	g_io_stream_close(G_IO_STREAM(c->connection), NULL, NULL);
	g_object_unref(c->connection);
	g_string_free(c->head, TRUE);
	g_free(c);
}

static gboolean
raw_incoming_cb(GSocketService *service,
		GSocketConnection *connection,
		GObject *source,
		gpointer user_data)
{
	RawDevice *raw = user_data;
	RawConn *c = g_new0(RawConn, 1);
	c->raw = raw;
	c->connection = g_object_ref(connection);
	c->head = g_string_new(NULL);
	g_ptr_array_add(raw->connections, c);
	if (raw->mode != RAW_STALL)
		raw_read_more(c);
	return TRUE;
}

static RawDevice *
raw_new(RawMode mode)
{
	RawDevice *raw = g_new0(RawDevice, 1);
	g_autoptr(GError) error = NULL;
	g_autoptr(GSocket) socket =
	    g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
	g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new(loopback, 0);
	g_autoptr(GSocketAddress) bound = NULL;

	ck_assert_ptr_nonnull(socket);
	raw->mode = mode;
	raw->connections = g_ptr_array_new_with_free_func(raw_conn_free);
	/* a small receive window makes a stall stall early */
	ck_assert(g_socket_set_option(socket, SOL_SOCKET, SO_RCVBUF, 4096, NULL));
	ck_assert(g_socket_bind(socket, any_port, TRUE, &error));
	ck_assert(g_socket_listen(socket, &error));
	bound = g_socket_get_local_address(socket, &error);
	raw->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
	raw->service = g_socket_service_new();
	ck_assert(
	    g_socket_listener_add_socket(G_SOCKET_LISTENER(raw->service), socket, NULL, &error));
	g_signal_connect(raw->service, "incoming", G_CALLBACK(raw_incoming_cb), raw);
	g_socket_service_start(raw->service);
	return raw;
}

static void
raw_free(RawDevice *raw)
{
	g_socket_service_stop(raw->service);
	g_socket_listener_close(G_SOCKET_LISTENER(raw->service));
	g_object_unref(raw->service);
	g_ptr_array_unref(raw->connections);
	g_free(raw);
}

/* a port on which nothing listens */
static guint16
closed_port(void)
{
	g_autoptr(GSocket) socket =
	    g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
	g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new(loopback, 0);
	g_autoptr(GSocketAddress) bound = NULL;
	guint16 port;
	ck_assert(g_socket_bind(socket, any_port, FALSE, NULL));
	bound = g_socket_get_local_address(socket, NULL);
	port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
	g_socket_close(socket, NULL);
	return port;
}

static void
assert_multi_idle(void)
{
	g_autoptr(FleetCurlMulti) multi = fleet_curl_multi_get_default();
	ck_assert_uint_eq(fleet_curl_multi_get_n_transfers(multi), 0);
}

/* ---- the tests ------------------------------------------------------------------------- */

START_TEST(test_multipart_success)
{
	g_autoptr(FleetImage) image = make_image(1024 * 1024 + 17, 1);
	FakeDevice *fake = fake_new(image, "/update");
	g_autoptr(FleetDevice) device = make_device(fake->port, "/update");
	g_autoptr(FleetUploadRequest) request = fleet_upload_request_new(device, image);
	Upload u;

	upload_init(&u);
	fleet_upload_request_set_timeouts(request, 5, 5, 10);
	upload_run(&u, request, NULL);
	ck_assert_msg(u.ok, "%s / server: %s", u.error != NULL ? u.error->message : "?",
		      fake->problems->str);
	ck_assert_uint_eq(fake->requests, 1);
	ck_assert_uint_eq(fake->accepted, 1);
	ck_assert(!u.wrong_thread);
	assert_progress_sane(&u, fleet_image_get_size(image));
	/* connecting → uploading → verifying, in that order, each once */
	ck_assert_uint_eq(u.phases->len, 3);
	ck_assert_int_eq(g_array_index(u.phases, FleetUploadPhase, 0),
			 FLEET_UPLOAD_PHASE_CONNECTING);
	ck_assert_int_eq(g_array_index(u.phases, FleetUploadPhase, 1),
			 FLEET_UPLOAD_PHASE_UPLOADING);
	ck_assert_int_eq(g_array_index(u.phases, FleetUploadPhase, 2),
			 FLEET_UPLOAD_PHASE_DEVICE_VERIFYING);
	ck_assert_ptr_nonnull(strstr(u.transcript->str, "multipart field “firmware”"));
	ck_assert_ptr_nonnull(strstr(u.transcript->str, "Update Success"));
	assert_multi_idle();
	upload_clear(&u);
	fake_free(fake);
}
END_TEST

START_TEST(test_filesystem_field)
{
	g_autoptr(FleetImage) image = make_image(70000, 2);
	FakeDevice *fake = fake_new(image, "/update");
	g_autoptr(FleetDevice) device = make_device(fake->port, "/update");
	g_autoptr(FleetUploadRequest) request = fleet_upload_request_new(device, image);
	Upload u;

	fake->field = "filesystem";
	fake->reply = "OK";
	upload_init(&u);
	fleet_upload_request_set_filesystem(request, TRUE);
	upload_run(&u, request, NULL);
	ck_assert_msg(u.ok, "%s / server: %s", u.error != NULL ? u.error->message : "?",
		      fake->problems->str);
	ck_assert_uint_eq(fake->accepted, 1);
	upload_clear(&u);
	fake_free(fake);
}
END_TEST

START_TEST(test_raw_body)
{
	g_autoptr(FleetImage) image = make_image(300000, 3);
	FakeDevice *fake = fake_new(image, "/ota");
	g_autoptr(FleetDevice) device = make_device(fake->port, "/ota");
	g_autoptr(FleetUploadRequest) request = fleet_upload_request_new(device, image);
	Upload u;

	fake->raw = TRUE;
	fake->reply = "OK";
	upload_init(&u);
	fleet_upload_request_set_http_raw(request, TRUE);
	upload_run(&u, request, NULL);
	ck_assert_msg(u.ok, "%s / server: %s", u.error != NULL ? u.error->message : "?",
		      fake->problems->str);
	ck_assert_uint_eq(fake->accepted, 1);
	assert_progress_sane(&u, fleet_image_get_size(image));
	upload_clear(&u);
	fake_free(fake);
}
END_TEST

typedef struct {
	guint status;
	const gchar *reply;
	gboolean ok;
	FleetError code;
	const gchar *message_part;
} VerdictCase;

static const VerdictCase verdict_cases[] = {
    {200, SUCCESS_PAGE, TRUE, 0, NULL},
    {200, "OK", TRUE, 0, NULL},
    {200, "OK\r\n", TRUE, 0, NULL},
    {200, "Update Successful!", TRUE, 0, NULL}, /* ESPHome */
    {200,
     "Update error: ERROR[7]: MD5 verification failed: expected: 0123456789abcdef, calculated: "
     "fedcba9876543210\n",
     FALSE, FLEET_ERROR_INVALID_DATA, "MD5 mismatch (transfer corrupted)"},
    {200, "FAIL", FALSE, FLEET_ERROR_INVALID_DATA, "“FAIL”"},
    {200, "Update error: ERROR[4]: Not Enough Space\n", FALSE, FLEET_ERROR_NOT_SUPPORTED,
     "not enough space"},
    {200, "Update error: ERROR[10]: Magic byte is not 0xE9\n", FALSE, FLEET_ERROR_WRONG_TARGET,
     "is it built for this chip?"},
    {200, "Update error: Wrong origin received!", FALSE, FLEET_ERROR_NOT_SUPPORTED, "origin"},
    {200, "Update Failed!", FALSE, FLEET_ERROR_INVALID_DATA, "Update Failed!"},
    {200, "<html><form>upload</form></html>", FALSE, FLEET_ERROR_INVALID_DATA,
     "neither a success nor a failure"},
    {200, "OKAY then", FALSE, FLEET_ERROR_INVALID_DATA, "neither a success"},
    /* a terminal escape in the device's words never reaches the message */
    {200, "Update error: \x1b[2Jboom", FALSE, FLEET_ERROR_INVALID_DATA, "\\x1b[2Jboom"},
    {502, "Flash Write Failed", FALSE, FLEET_ERROR_INVALID_DATA, "HTTP 502: “Flash Write Failed”"},
    {500, "", FALSE, FLEET_ERROR_INVALID_DATA, "HTTP 500 without a message"},
};

START_TEST(test_verdicts)
{
	const VerdictCase *c = &verdict_cases[_i];
	g_autoptr(FleetImage) image = make_image(50000, 4);
	FakeDevice *fake = fake_new(image, "/update");
	g_autoptr(FleetDevice) device = make_device(fake->port, "/update");
	g_autoptr(FleetUploadRequest) request = fleet_upload_request_new(device, image);
	Upload u;

	fake->status = c->status;
	fake->reply = c->reply;
	upload_init(&u);
	upload_run(&u, request, NULL);
	ck_assert_uint_eq(fake->accepted, 1);
	if (c->ok) {
		ck_assert_msg(u.ok, "%s", u.error != NULL ? u.error->message : "?");
	} else {
		ck_assert(!u.ok);
		ck_assert_msg(g_error_matches(u.error, FLEET_ERROR, (gint)c->code), "%s (code %d)",
			      u.error->message, u.error->code);
		ck_assert_msg(strstr(u.error->message, c->message_part) != NULL, "“%s” lacks “%s”",
			      u.error->message, c->message_part);
		ck_assert_ptr_nonnull(strstr(u.error->message, "esp-test (127.0.0.1:"));
		ck_assert_ptr_null(strchr(u.error->message, '\x1b'));
	}
	upload_clear(&u);
	fake_free(fake);
}
END_TEST

START_TEST(test_basic_auth)
{
	g_autoptr(FleetImage) image = make_image(200000, 5);
	FakeDevice *fake = fake_new(image, "/update");
	g_autoptr(FleetDevice) device = make_device(fake->port, "/update");
	g_autoptr(FleetUploadRequest) request = fleet_upload_request_new(device, image);
	Upload u;

	fake->user = "admin";
	fake->password = "s3cret:pass";
	upload_init(&u);
	fleet_upload_request_set_password(request, "s3cret:pass");
	upload_run(&u, request, NULL);
	ck_assert_msg(u.ok, "%s / server: %s", u.error != NULL ? u.error->message : "?",
		      fake->problems->str);
	/* pre-emptive: the image went over once, not once for a 401 and once again */
	ck_assert_uint_eq(fake->requests, 1);
	ck_assert_ptr_null(strstr(u.transcript->str, "s3cret"));
	upload_clear(&u);

	/* another user name, set on the request */
	fake->user = "tech";
	fake->requests = 0;
	upload_init(&u);
	fleet_upload_request_set_http_user(request, "tech");
	upload_run(&u, request, NULL);
	ck_assert_msg(u.ok, "%s", u.error != NULL ? u.error->message : "?");
	ck_assert_uint_eq(fake->requests, 1);
	upload_clear(&u);
	fake_free(fake);
}
END_TEST

START_TEST(test_auth_needed_or_wrong)
{
	g_autoptr(FleetImage) image = make_image(100000, 6);
	FakeDevice *fake = fake_new(image, "/update");
	g_autoptr(FleetDevice) device = make_device(fake->port, "/update");
	g_autoptr(FleetUploadRequest) request = fleet_upload_request_new(device, image);
	Upload u;

	fake->user = "admin";
	fake->password = "right";
	upload_init(&u);
	upload_run(&u, request, NULL);
	ck_assert(!u.ok);
	ck_assert(g_error_matches(u.error, FLEET_ERROR, FLEET_ERROR_AUTH_FAILED));
	ck_assert_msg(strstr(u.error->message, "needs a password and none was given") != NULL, "%s",
		      u.error->message);
	upload_clear(&u);

	upload_init(&u);
	fleet_upload_request_set_password(request, "wrong");
	upload_run(&u, request, NULL);
	ck_assert(!u.ok);
	ck_assert(g_error_matches(u.error, FLEET_ERROR, FLEET_ERROR_AUTH_FAILED));
	ck_assert_msg(g_str_has_prefix(u.error->message, "Wrong password for esp-test (127.0.0.1:"),
		      "%s", u.error->message);
	/* a Basic-only device: no second attempt */
	ck_assert_uint_eq(fake->requests, 2);
	upload_clear(&u);
	fake_free(fake);
}
END_TEST

static gchar *
digest_auth_cb(SoupAuthDomain *domain, SoupServerMessage *msg, const gchar *username, gpointer data)
{
	if (g_strcmp0(username, "admin") != 0)
		return NULL;
	return soup_auth_domain_digest_encode_password(username, "Login Required", data);
}

START_TEST(test_digest_auth)
{
	g_autoptr(FleetImage) image = make_image(150000, 7);
	FakeDevice *fake = fake_new(image, "/update");
	g_autoptr(FleetDevice) device = make_device(fake->port, "/update");
	g_autoptr(FleetUploadRequest) request = fleet_upload_request_new(device, image);
	g_autoptr(SoupAuthDomain) domain =
	    soup_auth_domain_digest_new("realm", "Login Required", NULL);
	Upload u;

	soup_auth_domain_add_path(domain, "/update");
	soup_auth_domain_digest_set_auth_callback(domain, digest_auth_cb, (gpointer) "d1gest",
						  NULL);
	soup_server_add_auth_domain(fake->server, domain);

	upload_init(&u);
	fleet_upload_request_set_password(request, "d1gest");
	upload_run(&u, request, NULL);
	ck_assert_msg(u.ok, "%s / server: %s", u.error != NULL ? u.error->message : "?",
		      fake->problems->str);
	ck_assert_uint_eq(fake->accepted, 1);
	ck_assert_ptr_nonnull(strstr(u.transcript->str, "Digest"));
	/* the second attempt is announced as authenticating */
	{
		gboolean authenticating = FALSE;
		for (guint i = 0; i < u.phases->len; i++)
			authenticating |= g_array_index(u.phases, FleetUploadPhase, i) ==
					  FLEET_UPLOAD_PHASE_AUTHENTICATING;
		ck_assert(authenticating);
	}
	upload_clear(&u);

	upload_init(&u);
	fleet_upload_request_set_password(request, "wrong");
	upload_run(&u, request, NULL);
	ck_assert(!u.ok);
	ck_assert_msg(g_error_matches(u.error, FLEET_ERROR, FLEET_ERROR_AUTH_FAILED), "%s",
		      u.error->message);
	ck_assert_ptr_nonnull(strstr(u.error->message, "Wrong password for esp-test"));
	upload_clear(&u);
	fake_free(fake);
}
END_TEST

START_TEST(test_ipv6_literal)
{
	g_autoptr(FleetImage) image = make_image(30000, 15);
	FakeDevice *fake = fake_new(image, "/update");
	g_autoptr(FleetDevice) device = make_device(fake->port, "/update");
	g_autoptr(FleetUploadRequest) request = fleet_upload_request_new(device, image);
	Upload u;

	/* an IPv6 literal that still reaches 127.0.0.1: the IPv4-mapped form */
	fleet_device_set_address(device, "::ffff:127.0.0.1");
	upload_init(&u);
	upload_run(&u, request, NULL);
	/* the server checked Origin against Host "[::ffff:127.0.0.1]:port" */
	ck_assert_msg(u.ok, "%s / server: %s", u.error != NULL ? u.error->message : "?",
		      fake->problems->str);
	ck_assert_ptr_nonnull(strstr(u.transcript->str, "POST http://[::ffff:127.0.0.1]:"));
	upload_clear(&u);
	fake_free(fake);
}
END_TEST

START_TEST(test_not_found)
{
	g_autoptr(FleetImage) image = make_image(20000, 8);
	FakeDevice *fake = fake_new(image, "/update");
	g_autoptr(FleetDevice) device = make_device(fake->port, "/firmware");
	g_autoptr(FleetUploadRequest) request = fleet_upload_request_new(device, image);
	Upload u;

	upload_init(&u);
	upload_run(&u, request, NULL);
	ck_assert(!u.ok);
	ck_assert(g_error_matches(u.error, FLEET_ERROR, FLEET_ERROR_NOT_FOUND));
	ck_assert_msg(strstr(u.error->message, "has no HTTP update page at /firmware: is the path "
					       "right?") != NULL,
		      "%s", u.error->message);
	upload_clear(&u);
	fake_free(fake);
}
END_TEST

START_TEST(test_connection_refused)
{
	g_autoptr(FleetImage) image = make_image(20000, 9);
	guint16 port = closed_port();
	g_autoptr(FleetDevice) device = make_device(port, "/update");
	g_autoptr(FleetUploadRequest) request = fleet_upload_request_new(device, image);
	g_autofree gchar *want = g_strdup_printf("refused the connection on port %u: is the web "
						 "updater running?",
						 port);
	Upload u;

	upload_init(&u);
	upload_run(&u, request, NULL);
	ck_assert(!u.ok);
	ck_assert(g_error_matches(u.error, FLEET_ERROR, FLEET_ERROR_NETWORK));
	ck_assert_msg(strstr(u.error->message, want) != NULL, "%s", u.error->message);
	assert_multi_idle();
	upload_clear(&u);
}
END_TEST

START_TEST(test_stall)
{
	g_autoptr(FleetImage) image = make_image(4 * 1024 * 1024, 10);
	RawDevice *raw = raw_new(RAW_STALL);
	g_autoptr(FleetDevice) device = make_device(raw->port, "/update");
	g_autoptr(FleetUploadRequest) request = fleet_upload_request_new(device, image);
	gint64 start = g_get_monotonic_time();
	gint64 took;
	Upload u;

	upload_init(&u);
	fleet_upload_request_set_timeouts(request, 5, 1, 10);
	upload_run(&u, request, NULL);
	took = g_get_monotonic_time() - start;
	ck_assert(!u.ok);
	ck_assert_msg(g_error_matches(u.error, FLEET_ERROR, FLEET_ERROR_TIMED_OUT), "%s",
		      u.error->message);
	ck_assert_msg(strstr(u.error->message, "stalled at") != NULL, "%s", u.error->message);
	/* the stall time after the last byte, without the connect grace (5 s) */
	ck_assert_int_lt(took, 4 * G_USEC_PER_SEC);
	assert_multi_idle();
	upload_clear(&u);
	raw_free(raw);
}
END_TEST

START_TEST(test_result_timeout)
{
	g_autoptr(FleetImage) image = make_image(100000, 11);
	RawDevice *raw = raw_new(RAW_SILENT);
	g_autoptr(FleetDevice) device = make_device(raw->port, "/update");
	g_autoptr(FleetUploadRequest) request = fleet_upload_request_new(device, image);
	Upload u;

	upload_init(&u);
	/* a stall timeout shorter than the result timeout must not fire while verifying */
	fleet_upload_request_set_timeouts(request, 2, 1, 3);
	upload_run(&u, request, NULL);
	ck_assert(!u.ok);
	ck_assert_uint_eq(raw->requests_complete, 1);
	ck_assert_msg(g_error_matches(u.error, FLEET_ERROR, FLEET_ERROR_TIMED_OUT), "%s",
		      u.error->message);
	ck_assert_msg(strstr(u.error->message, "did not report a result within 3 s") != NULL, "%s",
		      u.error->message);
	upload_clear(&u);
	raw_free(raw);
}
END_TEST

START_TEST(test_reset_after_success)
{
	g_autoptr(FleetImage) image = make_image(100000, 12);
	RawDevice *raw = raw_new(RAW_RESET_AFTER_SUCCESS);
	g_autoptr(FleetDevice) device = make_device(raw->port, "/update");
	g_autoptr(FleetUploadRequest) request = fleet_upload_request_new(device, image);
	Upload u;

	upload_init(&u);
	upload_run(&u, request, NULL);
	ck_assert_msg(u.ok, "%s", u.error != NULL ? u.error->message : "?");
	ck_assert_uint_eq(raw->requests_complete, 1);
	ck_assert_ptr_nonnull(strstr(u.transcript->str, "connection closed early"));
	upload_clear(&u);
	raw_free(raw);
}
END_TEST

START_TEST(test_cancel)
{
	g_autoptr(FleetImage) image = make_image(4 * 1024 * 1024, 13);
	RawDevice *raw = raw_new(RAW_STALL);
	g_autoptr(FleetDevice) device = make_device(raw->port, "/update");
	g_autoptr(FleetUploadRequest) request = fleet_upload_request_new(device, image);
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	Upload u;

	upload_init(&u);
	u.cancel_at_progress = cancellable;
	upload_run(&u, request, cancellable);
	ck_assert(!u.ok);
	ck_assert_msg(g_error_matches(u.error, G_IO_ERROR, G_IO_ERROR_CANCELLED), "%s",
		      u.error->message);
	/* cancellation is not a failure: nothing in the transcript says so */
	ck_assert_ptr_null(strstr(u.transcript->str, "cancelled"));
	assert_multi_idle();
	upload_clear(&u);

	/* already cancelled before it starts */
	upload_init(&u);
	upload_run(&u, request, cancellable);
	ck_assert(g_error_matches(u.error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
	upload_clear(&u);
	raw_free(raw);
}
END_TEST

#define N_PARALLEL 20

START_TEST(test_parallel)
{
	g_autoptr(FleetImage) image = make_image(512 * 1024, 14);
	g_autoptr(FleetTransportHttp) transport = fleet_transport_http_new();
	FakeDevice *fakes[N_PARALLEL];
	FleetUploadRequest *requests[N_PARALLEL];
	Upload uploads[N_PARALLEL];
	guint in_flight = 0;
	guint max_in_flight = 0;
	guint threads_before = thread_count();
	guint max_threads = 0;

	for (guint i = 0; i < N_PARALLEL; i++) {
		g_autoptr(FleetDevice) device = NULL;
		fakes[i] = fake_new(image, "/update");
		device = make_device(fakes[i]->port, "/update");
		requests[i] = fleet_upload_request_new(device, image);
		upload_init(&uploads[i]);
		uploads[i].in_flight = &in_flight;
		uploads[i].max_in_flight = &max_in_flight;
		upload_start(&uploads[i], FLEET_TRANSPORT(transport), requests[i], NULL);
	}
	for (guint i = 0; i < N_PARALLEL; i++)
		upload_wait(&uploads[i]);
	for (guint i = 0; i < N_PARALLEL; i++) {
		Upload *u = &uploads[i];
		ck_assert_msg(u->ok, "%u: %s / server: %s", i,
			      u->error != NULL ? u->error->message : "?", fakes[i]->problems->str);
		ck_assert_uint_eq(fakes[i]->accepted, 1);
		ck_assert(!u->wrong_thread);
		assert_progress_sane(u, fleet_image_get_size(image));
		max_threads = MAX(max_threads, u->max_threads);
		upload_clear(u);
		fleet_upload_request_unref(requests[i]);
		fake_free(fakes[i]);
	}
	/* they really overlapped, and not with a thread each */
	ck_assert_uint_ge(max_in_flight, N_PARALLEL / 2);
	ck_assert_uint_lt(max_threads, threads_before + 4);
	assert_multi_idle();
}
END_TEST

/* ---- GET helper ------------------------------------------------------------------------ */

typedef struct {
	gboolean finished;
	GBytes *body;
	guint status;
	GError *error;
} Get;

static void
get_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	Get *g = user_data;
	g->body = fleet_http_get_finish(result, &g->status, &g->error);
	g->finished = TRUE;
}

static void
get_run(Get *g, const gchar *url, gsize max_bytes, GCancellable *cancellable)
{
	memset(g, 0, sizeof(*g));
	fleet_http_get_async(url, 5, max_bytes, cancellable, get_done_cb, g);
	while (!g->finished)
		g_main_context_iteration(NULL, TRUE);
}

static void
get_clear(Get *g)
{
	g_clear_pointer(&g->body, g_bytes_unref);
	g_clear_error(&g->error);
}

static const gchar info_json[] =
    "{\"name\": \"esp-lab-3\", \"mac\": \"24:6F:28:AA:BB:CC\", \"chip\": \"esp32s3\","
    " \"board\": \"esp32s3\", \"project\": \"espfleet-ref\", \"version\": \"1.4.2\","
    " \"fw_sha256\": \"0123456789ABCDEF\", \"running_slot\": 1, \"slot_size\": 1572864,"
    " \"free_space\": 1048576, \"uptime\": 12345, \"boot_count\": 7, \"last_update\": \"ok\"}";

START_TEST(test_get_info)
{
	g_autoptr(SoupServer) server = soup_server_new(NULL, NULL);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *url = NULL;
	g_autofree gchar *missing = NULL;
	g_autoptr(FleetDeviceInfo) info = NULL;
	gconstpointer data;
	gsize len;
	Get g;

	soup_server_add_handler(server, "/info", info_handler, (gpointer)info_json, NULL);
	ck_assert(soup_server_listen_local(server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
	url = g_strdup_printf("http://127.0.0.1:%u/info", server_port(server));
	missing = g_strdup_printf("http://127.0.0.1:%u/nothing", server_port(server));

	get_run(&g, url, 16384, NULL);
	ck_assert_msg(g.body != NULL, "%s", g.error->message);
	ck_assert_uint_eq(g.status, 200);
	data = g_bytes_get_data(g.body, &len);
	info = fleet_device_info_new_from_data(data, len, &error);
	ck_assert_ptr_nonnull(info);
	ck_assert_str_eq(info->name, "esp-lab-3");
	ck_assert_str_eq(info->mac, "24:6f:28:aa:bb:cc");
	ck_assert_str_eq(info->version, "1.4.2");
	ck_assert_str_eq(info->fw_sha256, "0123456789abcdef");
	ck_assert_str_eq(info->running_slot, "ota_1");
	ck_assert_int_eq(info->boot_count, 7);
	get_clear(&g);

	/* any status comes back with its body */
	get_run(&g, missing, 16384, NULL);
	ck_assert_ptr_nonnull(g.body);
	ck_assert_uint_eq(g.status, 404);
	get_clear(&g);

	/* an answer over the limit is an error, not a truncated document */
	get_run(&g, url, 100, NULL);
	ck_assert_ptr_null(g.body);
	ck_assert(g_error_matches(g.error, FLEET_ERROR, FLEET_ERROR_INVALID_DATA));
	ck_assert_ptr_nonnull(strstr(g.error->message, "longer than 100 bytes"));
	get_clear(&g);

	soup_server_disconnect(server);
}
END_TEST

START_TEST(test_get_errors)
{
	g_autofree gchar *refused = g_strdup_printf("http://127.0.0.1:%u/info", closed_port());
	RawDevice *raw = raw_new(RAW_SILENT);
	g_autofree gchar *silent = g_strdup_printf("http://127.0.0.1:%u/info", raw->port);
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	Get g;

	get_run(&g, refused, 1000, NULL);
	ck_assert(g_error_matches(g.error, FLEET_ERROR, FLEET_ERROR_NETWORK));
	ck_assert_ptr_nonnull(strstr(g.error->message, "refused the connection"));
	get_clear(&g);

	get_run(&g, "file:///etc/passwd", 1000, NULL);
	ck_assert(g_error_matches(g.error, FLEET_ERROR, FLEET_ERROR_NOT_SUPPORTED));
	get_clear(&g);

	g_cancellable_cancel(cancellable);
	get_run(&g, silent, 1000, cancellable);
	ck_assert(g_error_matches(g.error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
	get_clear(&g);

	memset(&g, 0, sizeof(g));
	fleet_http_get_async(silent, 1, 1000, NULL, get_done_cb, &g);
	while (!g.finished)
		g_main_context_iteration(NULL, TRUE);
	ck_assert_msg(g_error_matches(g.error, FLEET_ERROR, FLEET_ERROR_TIMED_OUT), "%s",
		      g.error->message);
	get_clear(&g);
	assert_multi_idle();
	raw_free(raw);
}
END_TEST

static Suite *
transport_http_suite(void)
{
	Suite *s = suite_create("transport-http");
	TCase *tc = tcase_create("upload");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_multipart_success);
	tcase_add_test(tc, test_filesystem_field);
	tcase_add_test(tc, test_raw_body);
	tcase_add_loop_test(tc, test_verdicts, 0, G_N_ELEMENTS(verdict_cases));
	tcase_add_test(tc, test_basic_auth);
	tcase_add_test(tc, test_auth_needed_or_wrong);
	tcase_add_test(tc, test_digest_auth);
	tcase_add_test(tc, test_ipv6_literal);
	tcase_add_test(tc, test_not_found);
	tcase_add_test(tc, test_connection_refused);
	tcase_add_test(tc, test_stall);
	tcase_add_test(tc, test_result_timeout);
	tcase_add_test(tc, test_reset_after_success);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_parallel);
	suite_add_tcase(s, tc);
	tc = tcase_create("get");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_get_info);
	tcase_add_test(tc, test_get_errors);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return fleet_check_run(transport_http_suite());
}
