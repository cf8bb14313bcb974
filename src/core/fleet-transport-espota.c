/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-transport-espota.c - ArduinoOTA ("espota") push transport on GIO sockets
 *
 * The host listens on an ephemeral TCP port, invites the device over UDP, answers its
 * challenge from the same UDP socket, accepts the connect-back only from the invited
 * address and streams the image with a bounded amount in flight, draining the device's
 * unframed decimal acks as they come (specs/espota.md). Everything runs on the caller's
 * main context; nothing blocks.
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "fleet-cancel-hop.h"
#include "fleet-error.h"
#include "fleet-hash.h"
#include "fleet-text.h"
#include "fleet-transport-espota.h"
#include "ota/ota-auth.h"

#define ESPOTA_CMD_FLASH 0
#define ESPOTA_CMD_FILESYSTEM 100
#define ESPOTA_AUTH_CMD 200
/* what espota.py sends per chunk; the stop-and-wait mode copies it */
#define ESPOTA_CHUNK_ESP8266 1460
#define ESPOTA_STREAM_CHUNK 16384
/* how soon a full window is looked at again when no ack text came */
#define ESPOTA_REFILL_MS 10
#define ESPOTA_ERROR_TEXT_MAX 240
#define ESPOTA_AUTH_TIMEOUT_S 10

struct _FleetTransportEspota {
	GObject parent_instance;
};

static void
fleet_transport_espota_iface_init(FleetTransportInterface *iface);

G_DEFINE_TYPE_WITH_CODE(FleetTransportEspota,
			fleet_transport_espota,
			G_TYPE_OBJECT,
			G_IMPLEMENT_INTERFACE(FLEET_TYPE_TRANSPORT, fleet_transport_espota_iface_init))

typedef enum {
	ESPOTA_STATE_RESOLVING,
	ESPOTA_STATE_INVITING,
	ESPOTA_STATE_AUTHENTICATING,
	ESPOTA_STATE_WAIT_CONNECT,
	ESPOTA_STATE_SENDING,
	ESPOTA_STATE_DRAINING, /* all written; the device's TCP stack has not taken it all yet */
	ESPOTA_STATE_RESULT,
	ESPOTA_STATE_DONE,
} EspotaState;

typedef struct {
	GTask *task; /* borrowed: the task owns the session */
	FleetUploadRequest *request;
	EspotaState state;
	gchar *who; /* "esp-lab-3 (198.18.0.13:3232)" */
	gchar *address;
	GInetAddress *device_addr;
	guint16 device_port;
	const guint8 *data;
	gsize size;
	GBytes *bytes;

	GSocket *udp;
	GSource *udp_source;
	gchar *invitation;
	guint invitations_sent;
	gint64 invite_deadline;
	GSource *timer;

	GSocketListener *listener;
	GCancellable *accept_cancellable;
	guint16 host_port;

	enum ota_auth_scheme scheme;
	gboolean tried_md5_key;
	gchar *password;

	GSocketConnection *connection;
	GSocket *tcp;
	GSource *tcp_source;
	GIOCondition tcp_condition;
	gsize sent;
	guint64 done;
	gint64 last_progress;
	gint64 result_deadline;
	gboolean awaiting_ack;
	gchar tail[2];
	gboolean got_ok;
	GString *error_text;
	gboolean error_complete;

	GMainContext *context;
	GError *result_error;
	FleetCancelHop *cancel_hop;
	GSource *refill; /* a full window is looked at again after ESPOTA_REFILL_MS */
} EspotaSession;

static void
espota_cancel_timer(EspotaSession *s)
{
	if (s->timer != NULL) {
		g_source_destroy(s->timer);
		g_clear_pointer(&s->timer, g_source_unref);
	}
}

static void
espota_cancel_refill(EspotaSession *s)
{
	if (s->refill != NULL) {
		g_source_destroy(s->refill);
		g_clear_pointer(&s->refill, g_source_unref);
	}
}

static void
espota_session_stop(EspotaSession *s)
{
	espota_cancel_refill(s);
	if (s->udp_source != NULL) {
		g_source_destroy(s->udp_source);
		g_clear_pointer(&s->udp_source, g_source_unref);
	}
	if (s->tcp_source != NULL) {
		g_source_destroy(s->tcp_source);
		g_clear_pointer(&s->tcp_source, g_source_unref);
	}
	espota_cancel_timer(s);
	g_clear_pointer(&s->cancel_hop, fleet_cancel_hop_free);
	if (s->accept_cancellable != NULL)
		g_cancellable_cancel(s->accept_cancellable);
	if (s->listener != NULL)
		g_socket_listener_close(s->listener);
	if (s->udp != NULL)
		g_socket_close(s->udp, NULL);
	if (s->connection != NULL)
		g_io_stream_close(G_IO_STREAM(s->connection), NULL, NULL);
}

static void
espota_session_free(gpointer data)
{
	EspotaSession *s = data;
	espota_session_stop(s);
	g_clear_object(&s->accept_cancellable);
	g_clear_object(&s->listener);
	g_clear_object(&s->udp);
	g_clear_object(&s->connection);
	g_clear_object(&s->device_addr);
	g_clear_pointer(&s->bytes, g_bytes_unref);
	g_clear_pointer(&s->request, fleet_upload_request_unref);
	g_clear_error(&s->result_error);
	g_clear_pointer(&s->context, g_main_context_unref);
	if (s->error_text != NULL)
		g_string_free(s->error_text, TRUE);
	if (s->password != NULL) {
		memset(s->password, 0, strlen(s->password));
		g_free(s->password);
	}
	g_free(s->invitation);
	g_free(s->who);
	g_free(s->address);
	g_free(s);
}

static gboolean
espota_complete_idle_cb(gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	EspotaSession *s = g_task_get_task_data(task);
	if (s->result_error != NULL)
		g_task_return_error(task, g_steal_pointer(&s->result_error));
	else
		g_task_return_boolean(task, TRUE);
	return G_SOURCE_REMOVE;
}

/*
 * every path that ends the session comes through here; the task is returned from an
 * idle so that no callback still running on the stack can see the session freed
 */
static void
espota_session_complete(EspotaSession *s, GError *error)
{
	g_autoptr(GSource) idle = NULL;
	if (s->state == ESPOTA_STATE_DONE) {
		if (error != NULL)
			g_error_free(error);
		return;
	}
	s->state = ESPOTA_STATE_DONE;
	espota_session_stop(s);
	if (error != NULL && !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		fleet_upload_request_transcript(s->request, "espota: %s", error->message);
	s->result_error = error;
	idle = g_idle_source_new();
	g_source_set_callback(idle, espota_complete_idle_cb, s->task, NULL);
	g_source_attach(idle, s->context);
	/* the session's own task reference now belongs to the idle */
}

static void
espota_session_fail(EspotaSession *s, GError *error)
{
	espota_session_complete(s, error);
}

static void
espota_session_succeed(EspotaSession *s)
{
	if (s->state == ESPOTA_STATE_DONE)
		return;
	fleet_upload_request_progress(s->request, s->size, s->size);
	fleet_upload_request_transcript(s->request,
					"espota: device answered OK after %" G_GSIZE_FORMAT " bytes",
					s->size);
	espota_session_complete(s, NULL);
}

static void
espota_session_fail_literal(EspotaSession *s, FleetError code, const gchar *message)
{
	espota_session_fail(s, g_error_new_literal(FLEET_ERROR, code, message));
}

/* addresses compare equal even when one is IPv4-mapped IPv6 */
static GInetAddress *
espota_unmap(GInetAddress *addr)
{
	if (g_inet_address_get_family(addr) == G_SOCKET_FAMILY_IPV6) {
		const guint8 *b = g_inet_address_to_bytes(addr);
		static const guint8 prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		if (memcmp(b, prefix, sizeof(prefix)) == 0)
			return g_inet_address_new_from_bytes(b + 12, G_SOCKET_FAMILY_IPV4);
	}
	return g_object_ref(addr);
}

static gboolean
espota_is_device(EspotaSession *s, GSocketAddress *from)
{
	g_autoptr(GInetAddress) unmapped = NULL;
	if (!G_IS_INET_SOCKET_ADDRESS(from))
		return FALSE;
	unmapped = espota_unmap(g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(from)));
	return g_inet_address_equal(unmapped, s->device_addr);
}

static gchar *
espota_describe_address(GSocketAddress *addr)
{
	g_autofree gchar *ip = NULL;
	if (!G_IS_INET_SOCKET_ADDRESS(addr))
		return g_strdup("?");
	ip = g_inet_address_to_string(g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(addr)));
	return g_strdup_printf("%s:%u", ip, g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(addr)));
}

static gboolean
espota_send_udp(EspotaSession *s, const gchar *message, GError **error)
{
	g_autoptr(GSocketAddress) to = g_inet_socket_address_new(s->device_addr, s->device_port);
	gssize n = g_socket_send_to(s->udp, to, message, strlen(message), NULL, error);
	if (n < 0) {
		fleet_error_convert(error);
		g_prefix_error(error, _("Cannot send to %s: "), s->who);
		return FALSE;
	}
	return TRUE;
}

static gboolean espota_timer_cb(gpointer user_data);

static void
espota_schedule(EspotaSession *s, guint ms)
{
	espota_cancel_timer(s);
	s->timer = g_timeout_source_new(ms);
	g_source_set_callback(s->timer, espota_timer_cb, s, NULL);
	g_source_attach(s->timer, s->context);
}

static void
espota_send_invitation(EspotaSession *s)
{
	g_autoptr(GError) error = NULL;
	if (!espota_send_udp(s, s->invitation, &error)) {
		espota_session_fail(s, g_steal_pointer(&error));
		return;
	}
	s->invitations_sent++;
	fleet_upload_request_transcript(s->request, "espota: invitation %u sent to %s: %.*s",
					s->invitations_sent, s->who,
					(int)strlen(s->invitation) - 1, s->invitation);
	/* retry quickly at first, then every 2 s, until the connect timeout */
	espota_schedule(s, s->invitations_sent < 3 ? 500u * s->invitations_sent : 2000u);
}

static void
espota_answer_challenge(EspotaSession *s, const gchar *nonce)
{
	FleetHashOps hash;
	gchar key[OTA_AUTH_SHA256_HEX_LEN + 1];
	gchar cnonce[OTA_AUTH_SHA256_HEX_LEN + 1];
	gchar response[OTA_AUTH_SHA256_HEX_LEN + 1];
	g_autofree gchar *cnonce_input = NULL;
	g_autofree gchar *message = NULL;
	g_autoptr(GError) error = NULL;
	gsize nonce_len = strlen(nonce);
	struct ota_auth_part part;
	int rc;

	if (s->password == NULL) {
		espota_session_fail(s, g_error_new(FLEET_ERROR, FLEET_ERROR_AUTH_FAILED,
						   _("%s needs a password and none was given"),
						   s->who));
		return;
	}
	if (!(nonce_len == OTA_AUTH_MD5_HEX_LEN || nonce_len == OTA_AUTH_SHA256_HEX_LEN) ||
	    !ota_auth_is_hex(nonce, nonce_len)) {
		espota_session_fail(s, g_error_new(FLEET_ERROR, FLEET_ERROR_INVALID_DATA,
						   _("%s sent a malformed challenge"), s->who));
		return;
	}
	s->scheme = nonce_len == OTA_AUTH_MD5_HEX_LEN ? OTA_AUTH_MD5 : OTA_AUTH_PBKDF2;

	/* the cnonce is never checked by devices; build it the way espota.py does */
	cnonce_input = g_strdup_printf("%s%" G_GSIZE_FORMAT "%s%s",
				       fleet_image_get_filename(fleet_upload_request_get_image(s->request)) != NULL
					   ? fleet_image_get_filename(fleet_upload_request_get_image(s->request))
					   : "firmware.bin",
				       s->size, fleet_image_get_md5(fleet_upload_request_get_image(s->request)),
				       s->address);
	part.data = cnonce_input;
	part.len = strlen(cnonce_input);

	fleet_hash_ops_init(&hash);
	rc = ota_auth_digest_hex(&hash.ops,
				 s->scheme == OTA_AUTH_MD5 ? OTA_HASH_MD5 : OTA_HASH_SHA256, &part, 1,
				 cnonce);
	if (rc == 0) {
		/* ESP32 >= 3.3.1 stores SHA256(password), or an MD5 hash from setPasswordHash() */
		enum ota_auth_scheme key_scheme =
		    s->scheme == OTA_AUTH_PBKDF2 && !s->tried_md5_key ? OTA_AUTH_PBKDF2 : OTA_AUTH_MD5;
		rc = ota_auth_password_hash(&hash.ops, key_scheme, s->password, strlen(s->password),
					    key);
	}
	if (rc == 0)
		rc = ota_auth_response(&hash.ops, s->scheme, key, strlen(key), nonce, nonce_len,
				       cnonce, strlen(cnonce), response);
	fleet_hash_ops_clear(&hash);
	memset(key, 0, sizeof(key));
	if (rc != 0) {
		espota_session_fail_literal(s, FLEET_ERROR_INTERNAL,
					    _("Computing the espota authentication failed"));
		return;
	}

	message = g_strdup_printf("%d %s %s\n", ESPOTA_AUTH_CMD, cnonce, response);
	if (!espota_send_udp(s, message, &error)) {
		espota_session_fail(s, g_steal_pointer(&error));
		return;
	}
	s->state = ESPOTA_STATE_AUTHENTICATING;
	fleet_upload_request_phase(s->request, FLEET_UPLOAD_PHASE_AUTHENTICATING);
	fleet_upload_request_transcript(
	    s->request, "espota: answered the %s challenge%s",
	    s->scheme == OTA_AUTH_MD5 ? "MD5" : "PBKDF2-HMAC-SHA256",
	    s->scheme == OTA_AUTH_PBKDF2 && s->tried_md5_key ? " (MD5 password hash)" : "");
	espota_schedule(s, ESPOTA_AUTH_TIMEOUT_S * 1000);
}

/* an ERR text from an ESP8266, or an error text on the TCP stream */
static GError *
espota_device_error(EspotaSession *s, const gchar *raw)
{
	g_autofree gchar *text = fleet_text_sanitize(raw, -1, ESPOTA_ERROR_TEXT_MAX);
	return fleet_transport_device_error(s->who, g_strstrip(text));
}

static void
espota_accept_cb(GObject *source, GAsyncResult *result, gpointer user_data);

static void
espota_wait_for_connect(EspotaSession *s)
{
	s->state = ESPOTA_STATE_WAIT_CONNECT;
	fleet_upload_request_transcript(s->request,
					"espota: device accepted; waiting for it to connect back to "
					"TCP port %u",
					s->host_port);
	espota_schedule(s, fleet_upload_request_get_connect_timeout(s->request) * 1000);
}

static void
espota_handle_udp_reply(EspotaSession *s, const gchar *reply)
{
	g_autofree gchar *safe = fleet_text_sanitize(reply, -1, 80);
	fleet_upload_request_transcript(s->request, "espota: device replied “%s”", safe);

	if (s->state == ESPOTA_STATE_INVITING) {
		if (g_strcmp0(reply, "OK") == 0) {
			espota_wait_for_connect(s);
			return;
		}
		if (g_str_has_prefix(reply, "AUTH ")) {
			g_autofree gchar *nonce = g_strstrip(g_strdup(reply + 5));
			espota_answer_challenge(s, nonce);
			return;
		}
		if (g_str_has_prefix(reply, "ERR")) {
			espota_session_fail(s, espota_device_error(s, reply + 3 + (reply[3] == ':')));
			return;
		}
		espota_session_fail(s, g_error_new(FLEET_ERROR, FLEET_ERROR_INVALID_DATA,
						   _("%s gave an unexpected answer to the "
						     "invitation: “%s”"),
						   s->who, safe));
		return;
	}
	if (s->state == ESPOTA_STATE_AUTHENTICATING) {
		if (g_strcmp0(reply, "OK") == 0) {
			fleet_upload_request_transcript(s->request, "espota: authenticated");
			espota_wait_for_connect(s);
			return;
		}
		if (g_str_has_prefix(reply, "Authentication Failed")) {
			if (s->scheme == OTA_AUTH_PBKDF2 && !s->tried_md5_key) {
				/* the device may keep an MD5 password hash: new invitation, new nonce */
				s->tried_md5_key = TRUE;
				s->state = ESPOTA_STATE_INVITING;
				s->invitations_sent = 0;
				espota_send_invitation(s);
				return;
			}
			espota_session_fail(s, g_error_new(FLEET_ERROR, FLEET_ERROR_AUTH_FAILED,
							   _("Wrong password for %s"), s->who));
			return;
		}
		if (g_str_has_prefix(reply, "ERR")) {
			espota_session_fail(s, espota_device_error(s, reply + 3 + (reply[3] == ':')));
			return;
		}
		espota_session_fail(s, g_error_new(FLEET_ERROR, FLEET_ERROR_INVALID_DATA,
						   _("%s gave an unexpected answer to the "
						     "password: “%s”"),
						   s->who, safe));
	}
	/* later replies (duplicates of an OK) change nothing */
}

static gboolean
espota_udp_cb(GSocket *socket, GIOCondition condition, gpointer user_data)
{
	EspotaSession *s = user_data;
	gchar buf[256];
	g_autoptr(GSocketAddress) from = NULL;
	g_autoptr(GError) error = NULL;
	gssize n;

	n = g_socket_receive_from(socket, &from, buf, sizeof(buf) - 1, NULL, &error);
	if (n < 0) {
		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
			return G_SOURCE_CONTINUE;
		/* ICMP port unreachable shows up here: the device has no espota listener */
		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED)) {
			fleet_upload_request_transcript(s->request,
							"espota: port %u on the device is closed",
							s->device_port);
			return G_SOURCE_CONTINUE;
		}
		fleet_upload_request_transcript(s->request, "espota: receive failed: %s", error->message);
		return G_SOURCE_CONTINUE;
	}
	if (!espota_is_device(s, from)) {
		g_autofree gchar *other = espota_describe_address(from);
		fleet_upload_request_transcript(s->request, "espota: ignored a UDP packet from %s", other);
		return G_SOURCE_CONTINUE;
	}
	buf[n] = '\0';
	if (memchr(buf, '\0', (gsize)n) != NULL && strlen(buf) != (gsize)n)
		buf[strlen(buf)] = '\0';
	espota_handle_udp_reply(s, buf);
	return s->state == ESPOTA_STATE_DONE ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

static gboolean espota_tcp_cb(GSocket *socket, GIOCondition condition, gpointer user_data);

static void
espota_watch_tcp(EspotaSession *s, GIOCondition condition)
{
	if (s->tcp_source != NULL && s->tcp_condition == condition)
		return;
	if (s->tcp_source != NULL) {
		g_source_destroy(s->tcp_source);
		g_clear_pointer(&s->tcp_source, g_source_unref);
	}
	s->tcp_condition = condition;
	s->tcp_source = g_socket_create_source(s->tcp, condition | G_IO_HUP | G_IO_ERR, NULL);
	g_source_set_callback(s->tcp_source, G_SOURCE_FUNC(espota_tcp_cb), s, NULL);
	g_source_attach(s->tcp_source, s->context);
}

/* bytes the device's TCP stack has acknowledged: written minus what is still queued */
static void
espota_update_progress(EspotaSession *s)
{
	int queued = 0;
	guint64 done = s->sent;
	if (ioctl(g_socket_get_fd(s->tcp), SIOCOUTQ, &queued) == 0 && queued > 0)
		done = s->sent - MIN((gsize)queued, s->sent);
	if (done != s->done) {
		s->done = done;
		s->last_progress = g_get_monotonic_time();
		fleet_upload_request_progress(s->request, done, s->size);
	}
}

/* everything is written; the verdict clock starts once the device has taken it all */
static void
espota_finish_sending(EspotaSession *s)
{
	espota_update_progress(s);
	if (s->done < s->size) {
		s->state = ESPOTA_STATE_DRAINING;
		espota_watch_tcp(s, G_IO_IN);
		return;
	}
	s->state = ESPOTA_STATE_RESULT;
	s->result_deadline =
	    g_get_monotonic_time() + (gint64)fleet_upload_request_get_result_timeout(s->request) * G_USEC_PER_SEC;
	fleet_upload_request_phase(s->request, FLEET_UPLOAD_PHASE_DEVICE_VERIFYING);
	fleet_upload_request_transcript(s->request,
					"espota: all %" G_GSIZE_FORMAT " bytes sent; waiting for the "
					"device's verdict",
					s->size);
	espota_watch_tcp(s, G_IO_IN);
}

static void
espota_send_some(EspotaSession *s);

static gboolean
espota_refill_cb(gpointer user_data)
{
	EspotaSession *s = user_data;
	g_clear_pointer(&s->refill, g_source_unref);
	if (s->state == ESPOTA_STATE_SENDING)
		espota_send_some(s);
	return G_SOURCE_REMOVE;
}

/*
 * The window is full while the socket would still take more: waiting for G_IO_OUT would
 * wake the main loop at once, again and again, and starve everything of lower priority
 * (the GUI's repaints). The device's ack text (G_IO_IN) usually comes as it takes data;
 * a short timer covers the rest.
 */
static void
espota_wait_for_window(EspotaSession *s)
{
	espota_watch_tcp(s, G_IO_IN);
	if (s->refill == NULL) {
		s->refill = g_timeout_source_new(ESPOTA_REFILL_MS);
		g_source_set_callback(s->refill, espota_refill_cb, s, NULL);
		g_source_attach(s->refill, s->context);
	}
}

static void
espota_send_some(EspotaSession *s)
{
	gboolean stop_and_wait = fleet_upload_request_get_stop_and_wait(s->request);
	guint window = fleet_upload_request_get_window(s->request);
	gboolean window_full = FALSE;

	espota_cancel_refill(s);
	while (s->sent < s->size) {
		gsize chunk;
		gssize n;
		g_autoptr(GError) error = NULL;
		int queued = 0;

		if (stop_and_wait && s->awaiting_ack)
			break;
		if (!stop_and_wait && ioctl(g_socket_get_fd(s->tcp), SIOCOUTQ, &queued) == 0 &&
		    (guint)queued >= window) {
			window_full = TRUE;
			break;
		}
		chunk = stop_and_wait ? ESPOTA_CHUNK_ESP8266
				      : MIN((gsize)ESPOTA_STREAM_CHUNK, (gsize)(window - (guint)queued));
		chunk = MIN(chunk, s->size - s->sent);
		n = g_socket_send(s->tcp, (const gchar *)s->data + s->sent, chunk, NULL, &error);
		if (n < 0) {
			if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
				break;
			fleet_error_convert(&error);
			espota_session_fail(s, g_error_new(FLEET_ERROR, FLEET_ERROR_NETWORK,
							   _("%s dropped the connection after %lu of %lu "
							     "bytes (%s); try again closer to the access "
							     "point"),
							   s->who, (gulong)s->done, (gulong)s->size,
							   error->message));
			return;
		}
		s->sent += (gsize)n;
		if (stop_and_wait)
			s->awaiting_ack = TRUE;
	}
	espota_update_progress(s);
	if (s->sent >= s->size)
		espota_finish_sending(s);
	else if (stop_and_wait && s->awaiting_ack)
		espota_watch_tcp(s, G_IO_IN);
	else if (window_full)
		espota_wait_for_window(s);
	else
		espota_watch_tcp(s, G_IO_IN | G_IO_OUT);
}

/* the ack stream: digits, then "OK" or an error text; unframed, so only scan it */
static void
espota_scan_acks(EspotaSession *s, const gchar *buf, gsize n)
{
	for (gsize i = 0; i < n; i++) {
		gchar c = buf[i];
		if (s->error_text != NULL) {
			if (c == '\n' || s->error_text->len >= ESPOTA_ERROR_TEXT_MAX) {
				s->error_complete = TRUE;
				return;
			}
			g_string_append_c(s->error_text, c);
			continue;
		}
		if (g_ascii_isdigit(c)) {
			s->awaiting_ack = FALSE;
		} else if (c == 'O' || c == 'K') {
			if (s->tail[1] == 'O' && c == 'K')
				s->got_ok = TRUE;
		} else if (g_ascii_isalpha(c)) {
			s->error_text = g_string_new(NULL);
			g_string_append_c(s->error_text, c);
		}
		s->tail[0] = s->tail[1];
		s->tail[1] = c;
	}
}

static void
espota_handle_eof(EspotaSession *s)
{
	if (s->error_text != NULL) {
		espota_session_fail(s, espota_device_error(s, s->error_text->str));
		return;
	}
	if (s->got_ok) {
		espota_session_succeed(s);
		return;
	}
	if (s->sent < s->size) {
		espota_session_fail(s, g_error_new(FLEET_ERROR, FLEET_ERROR_NETWORK,
						   _("%s closed the connection after %lu of %lu bytes; "
						     "the device keeps its old firmware; try again"),
						   s->who, (gulong)s->done, (gulong)s->size));
		return;
	}
	espota_session_fail(s, g_error_new(FLEET_ERROR, FLEET_ERROR_NETWORK,
					   _("%s closed the connection without confirming the "
					     "image; it probably rejected it: check the device's "
					     "log"),
					   s->who));
}

static gboolean
espota_tcp_cb(GSocket *socket, GIOCondition condition, gpointer user_data)
{
	EspotaSession *s = user_data;

	if (condition & (G_IO_IN | G_IO_HUP | G_IO_ERR)) {
		gchar buf[1024];
		g_autoptr(GError) error = NULL;
		gssize n = g_socket_receive(socket, buf, sizeof(buf), NULL, &error);
		if (n < 0 && !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
			if (s->got_ok) {
				espota_session_succeed(s);
				return G_SOURCE_REMOVE;
			}
			espota_session_fail(s, g_error_new(FLEET_ERROR, FLEET_ERROR_NETWORK,
							   _("%s dropped the connection after %lu of %lu "
							     "bytes (%s); the device keeps its old "
							     "firmware; try again"),
							   s->who, (gulong)s->done, (gulong)s->size,
							   error->message));
			return G_SOURCE_REMOVE;
		}
		if (n == 0) {
			espota_handle_eof(s);
			return G_SOURCE_REMOVE;
		}
		if (n > 0) {
			s->last_progress = g_get_monotonic_time();
			espota_scan_acks(s, buf, (gsize)n);
			if (s->error_complete) {
				espota_session_fail(s, espota_device_error(s, s->error_text->str));
				return G_SOURCE_REMOVE;
			}
			if (s->got_ok && (s->state == ESPOTA_STATE_RESULT ||
					  s->state == ESPOTA_STATE_DRAINING)) {
				espota_session_succeed(s);
				return G_SOURCE_REMOVE;
			}
		}
	}
	if (s->state == ESPOTA_STATE_SENDING)
		espota_send_some(s);
	return G_SOURCE_CONTINUE;
}

static void
espota_start_transfer(EspotaSession *s, GSocketConnection *connection)
{
	gint sndbuf = (gint)fleet_upload_request_get_window(s->request);
	s->connection = connection;
	s->tcp = g_socket_connection_get_socket(connection);
	g_socket_set_blocking(s->tcp, FALSE);
	(void)g_socket_set_option(s->tcp, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
	/* a bounded kernel buffer keeps memory flat with a hundred uploads at once */
	(void)g_socket_set_option(s->tcp, SOL_SOCKET, SO_SNDBUF, sndbuf, NULL);
	g_socket_listener_close(s->listener);
	espota_cancel_timer(s);
	s->state = ESPOTA_STATE_SENDING;
	s->last_progress = g_get_monotonic_time();
	fleet_upload_request_phase(s->request, FLEET_UPLOAD_PHASE_UPLOADING);
	fleet_upload_request_transcript(s->request, "espota: device connected back; %s %" G_GSIZE_FORMAT " bytes",
					fleet_upload_request_get_stop_and_wait(s->request)
					    ? "sending (stop-and-wait)"
					    : "streaming",
					s->size);
	espota_schedule(s, 250);
	espota_send_some(s);
}

static void
espota_accept_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	EspotaSession *s = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	g_autoptr(GSocketConnection) connection = NULL;
	g_autoptr(GSocketAddress) remote = NULL;

	connection = g_socket_listener_accept_finish(G_SOCKET_LISTENER(source), result, NULL, &error);
	if (connection == NULL) {
		if (s->state == ESPOTA_STATE_DONE)
			return;
		espota_session_fail(s, g_error_new(FLEET_ERROR, FLEET_ERROR_NETWORK,
						   _("Cannot accept connections on TCP port %u: %s"),
						   s->host_port, error->message));
		return;
	}
	if (s->state == ESPOTA_STATE_DONE)
		return;
	remote = g_socket_connection_get_remote_address(connection, NULL);
	if (remote == NULL || !espota_is_device(s, remote)) {
		g_autofree gchar *other = remote != NULL ? espota_describe_address(remote) : g_strdup("?");
		g_warning("refused a connection from %s to the espota port of %s", other, s->who);
		fleet_upload_request_transcript(s->request,
						"espota: refused a connection from %s: only the "
						"invited device may connect",
						other);
		g_io_stream_close(G_IO_STREAM(connection), NULL, NULL);
		g_socket_listener_accept_async(s->listener, s->accept_cancellable, espota_accept_cb,
					       g_object_ref(task));
		return;
	}
	if (s->state != ESPOTA_STATE_WAIT_CONNECT) {
		/* an ESP8266 may connect before its OK reaches us */
		fleet_upload_request_transcript(s->request, "espota: device connected before its OK arrived");
	}
	espota_start_transfer(s, g_steal_pointer(&connection));
}

static gboolean
espota_timer_cb(gpointer user_data)
{
	EspotaSession *s = user_data;
	gint64 now = g_get_monotonic_time();

	/* the timer is one-shot: forget it before anything reschedules */
	g_clear_pointer(&s->timer, g_source_unref);
	switch (s->state) {
	case ESPOTA_STATE_INVITING:
		if (now >= s->invite_deadline) {
			espota_session_fail(
			    s, g_error_new(FLEET_ERROR, FLEET_ERROR_TIMED_OUT,
					   _("%s did not answer the invitation: is ArduinoOTA running "
					     "and the port right?"),
					   s->who));
			return G_SOURCE_REMOVE;
		}
		espota_send_invitation(s);
		return G_SOURCE_REMOVE;
	case ESPOTA_STATE_AUTHENTICATING:
		espota_session_fail(s, g_error_new(FLEET_ERROR, FLEET_ERROR_TIMED_OUT,
						   _("%s did not answer the password"), s->who));
		return G_SOURCE_REMOVE;
	case ESPOTA_STATE_WAIT_CONNECT:
		espota_session_fail(
		    s, g_error_new(FLEET_ERROR, FLEET_ERROR_TIMED_OUT,
				   _("%s accepted the invitation but never connected back to TCP port "
				     "%u on this computer: a firewall here probably blocks incoming "
				     "connections (or the device could not start the update, e.g. "
				     "for lack of space: check its log)"),
				   s->who, s->host_port));
		return G_SOURCE_REMOVE;
	case ESPOTA_STATE_SENDING:
	case ESPOTA_STATE_DRAINING:
		espota_update_progress(s);
		if (s->state == ESPOTA_STATE_DRAINING && s->done >= s->size) {
			espota_finish_sending(s);
			espota_schedule(s, 500);
			return G_SOURCE_REMOVE;
		}
		if (now - s->last_progress >
		    (gint64)fleet_upload_request_get_stall_timeout(s->request) * G_USEC_PER_SEC) {
			espota_session_fail(
			    s, g_error_new(FLEET_ERROR, FLEET_ERROR_TIMED_OUT,
					   _("The transfer to %s stalled at %lu of %lu bytes for %u s: "
					     "the link is too weak or the device hangs; it keeps its "
					     "old firmware"),
					   s->who, (gulong)s->done, (gulong)s->size,
					   fleet_upload_request_get_stall_timeout(s->request)));
			return G_SOURCE_REMOVE;
		}
		if (s->state == ESPOTA_STATE_SENDING)
			espota_schedule(s, 250);
		else
			espota_schedule(s, 500);
		return G_SOURCE_REMOVE;
	case ESPOTA_STATE_RESULT:
		if (now >= s->result_deadline) {
			espota_session_fail(s, g_error_new(FLEET_ERROR, FLEET_ERROR_TIMED_OUT,
							   _("%s received the whole image but did not "
							     "report a result within %u s"),
							   s->who,
							   fleet_upload_request_get_result_timeout(s->request)));
			return G_SOURCE_REMOVE;
		}
		espota_schedule(s, 500);
		return G_SOURCE_REMOVE;
	case ESPOTA_STATE_RESOLVING:
	case ESPOTA_STATE_DONE:
	default:
		return G_SOURCE_REMOVE;
	}
}

static void
espota_start(EspotaSession *s)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GSocketAddress) any = NULL;
	g_autoptr(GInetAddress) any_addr = NULL;
	GSocketFamily family = g_inet_address_get_family(s->device_addr);
	FleetImage *image = fleet_upload_request_get_image(s->request);

	/* the TCP listener first, so the connect-back can never race us */
	s->listener = g_socket_listener_new();
	s->accept_cancellable = g_cancellable_new();
	s->host_port = g_socket_listener_add_any_inet_port(s->listener, NULL, &error);
	if (s->host_port == 0) {
		espota_session_fail(s, g_error_new(FLEET_ERROR, FLEET_ERROR_NETWORK,
						   _("Cannot listen on a TCP port for %s: %s"), s->who,
						   error->message));
		return;
	}
	g_socket_listener_accept_async(s->listener, s->accept_cancellable, espota_accept_cb,
				       g_object_ref(s->task));

	/* one UDP socket for the invitation and the password: ESP8266 replies to its port */
	s->udp = g_socket_new(family, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &error);
	if (s->udp == NULL) {
		espota_session_fail(s, g_steal_pointer(&error));
		return;
	}
	g_socket_set_blocking(s->udp, FALSE);
	any_addr = g_inet_address_new_any(family);
	any = g_inet_socket_address_new(any_addr, 0);
	if (!g_socket_bind(s->udp, any, FALSE, &error)) {
		espota_session_fail(s, g_steal_pointer(&error));
		return;
	}
	s->udp_source = g_socket_create_source(s->udp, G_IO_IN, NULL);
	g_source_set_callback(s->udp_source, G_SOURCE_FUNC(espota_udp_cb), s, NULL);
	g_source_attach(s->udp_source, s->context);

	s->invitation = g_strdup_printf("%d %u %" G_GSIZE_FORMAT " %s\n",
					fleet_upload_request_get_filesystem(s->request)
					    ? ESPOTA_CMD_FILESYSTEM
					    : ESPOTA_CMD_FLASH,
					s->host_port, s->size, fleet_image_get_md5(image));
	s->state = ESPOTA_STATE_INVITING;
	s->invite_deadline = g_get_monotonic_time() +
			     (gint64)fleet_upload_request_get_connect_timeout(s->request) * G_USEC_PER_SEC;
	fleet_upload_request_phase(s->request, FLEET_UPLOAD_PHASE_CONNECTING);
	espota_send_invitation(s);
}

static void
espota_resolve_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	EspotaSession *s = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	GList *addresses = g_resolver_lookup_by_name_finish(G_RESOLVER(source), result, &error);
	if (addresses == NULL) {
		if (s->state == ESPOTA_STATE_DONE)
			return;
		espota_session_fail(s, g_error_new(FLEET_ERROR, FLEET_ERROR_NOT_FOUND,
						   _("Cannot resolve %s: %s"), s->who, error->message));
		return;
	}
	if (s->state == ESPOTA_STATE_DONE) {
		g_resolver_free_addresses(addresses);
		return;
	}
	s->device_addr = g_object_ref(addresses->data);
	g_resolver_free_addresses(addresses);
	espota_start(s);
}

static void
espota_cancelled(gpointer user_data)
{
	EspotaSession *s = user_data;
	espota_session_fail(s, g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CANCELLED,
						   _("The update was cancelled")));
}

static void
fleet_transport_espota_upload_async(FleetTransport *transport,
				    FleetUploadRequest *request,
				    GCancellable *cancellable,
				    GAsyncReadyCallback callback,
				    gpointer user_data)
{
	GTask *task = g_task_new(transport, cancellable, callback, user_data);
	EspotaSession *s = g_new0(EspotaSession, 1);
	FleetDevice *device = fleet_upload_request_get_device(request);
	FleetImage *image = fleet_upload_request_get_image(request);
	/* a device added by host name is resolved here, on every attempt */
	const gchar *address = fleet_device_get_address(device) != NULL ? fleet_device_get_address(device)
								    : fleet_device_get_hostname(device);

	g_task_set_source_tag(task, fleet_transport_espota_upload_async);
	g_task_set_task_data(task, s, espota_session_free);
	s->task = task;
	s->request = fleet_upload_request_ref(request);
	s->bytes = g_bytes_ref(fleet_image_get_bytes(image));
	s->data = g_bytes_get_data(s->bytes, &s->size);
	s->device_port = fleet_device_get_ota_port(device) != 0 ? fleet_device_get_ota_port(device) : 8266;
	s->who = fleet_device_describe(device, FLEET_PROTOCOL_ESPOTA);
	s->password = g_strdup(fleet_upload_request_get_password(request));
	s->context = g_main_context_ref_thread_default();

	if (address == NULL) {
		espota_session_fail(s, g_error_new(FLEET_ERROR, FLEET_ERROR_NOT_FOUND,
						   _("No address is known for %s: is it online?"),
						   s->who));
		return;
	}
	s->address = g_strdup(address);
	/* cancellation may come from any thread: it is handled on the session's context */
	s->cancel_hop = fleet_cancel_hop_new(cancellable, s->context, espota_cancelled, s);
	if (g_cancellable_is_cancelled(cancellable))
		return;
	s->device_addr = g_inet_address_new_from_string(address);
	if (s->device_addr == NULL) {
		s->state = ESPOTA_STATE_RESOLVING;
		g_resolver_lookup_by_name_async(g_resolver_get_default(), address, NULL,
						espota_resolve_cb, g_object_ref(task));
		return;
	}
	espota_start(s);
}

static gboolean
fleet_transport_espota_upload_finish(FleetTransport *transport, GAsyncResult *result, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(result, transport), FALSE);
	return g_task_propagate_boolean(G_TASK(result), error);
}

static FleetProtocol
fleet_transport_espota_get_protocol(FleetTransport *transport)
{
	return FLEET_PROTOCOL_ESPOTA;
}

static void
fleet_transport_espota_iface_init(FleetTransportInterface *iface)
{
	iface->get_protocol = fleet_transport_espota_get_protocol;
	iface->upload_async = fleet_transport_espota_upload_async;
	iface->upload_finish = fleet_transport_espota_upload_finish;
}

static void
fleet_transport_espota_class_init(FleetTransportEspotaClass *klass)
{
}

static void
fleet_transport_espota_init(FleetTransportEspota *self)
{
}

FleetTransportEspota *
fleet_transport_espota_new(void)
{
	return g_object_new(FLEET_TYPE_TRANSPORT_ESPOTA, NULL);
}
