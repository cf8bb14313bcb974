/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-log-source-tcp.c - a device's TCP log stream, reconnecting with backoff */

#include "config.h"

#include "fleet-log-source-tcp.h"

#include <glib/gi18n.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "fleet-log-source-private.h"

/* bytes read per dispatch before other sources get their turn */
#define FLEET_LOG_TCP_READ_BUDGET (256 * 1024)
#define FLEET_LOG_TCP_CHUNK 16384
#define FLEET_LOG_TCP_CONNECT_TIMEOUT_S 5
/* a connection that lasted this long (or brought lines) resets the backoff */
#define FLEET_LOG_TCP_STABLE_US (5 * G_USEC_PER_SEC)
/* how long the history a reconnected device sends again is compared with what was shown */
#define FLEET_LOG_TCP_REPLAY_MS 500
#define FLEET_LOG_TCP_REPLAY_MAX 20000

struct _FleetLogSourceTcp {
	FleetLogSource parent_instance;

	FleetDevice *device; /* nullable */
	gchar *device_id;    /* when there is no device */
	gchar *fixed_host;
	guint16 fixed_port;
	gchar *host; /* the address of the current or last attempt */
	guint16 port;
	FleetLogTelnetMode telnet_mode;
	guint backoff_min_ms;
	guint backoff_max_ms;
	guint backoff_ms;

	gboolean started;
	GCancellable *cancellable;
	GSocketConnection *connection;
	GSocket *socket;
	GSource *read_source;
	guint replay_id;
	gint64 connected_at;
	gint64 connected_real; /* g_get_real_time() of the connection */
	gboolean ever_connected;
	guint n_connects;
	GByteArray *reply;

	/* the last line shown, and the replay of history after a reconnect */
	gchar *last_text;
	gint64 last_ms;
	gboolean replaying;
	GPtrArray *held;

	guint8 buf[FLEET_LOG_TCP_CHUNK];
};

G_DEFINE_TYPE(FleetLogSourceTcp, fleet_log_source_tcp, FLEET_TYPE_LOG_SOURCE)

const gchar *
fleet_log_source_tcp_get_device_id(FleetLogSourceTcp *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_SOURCE_TCP(self), NULL);
	if (self->device != NULL)
		return fleet_device_get_id(self->device);
	return self->device_id;
}

FleetDevice *
fleet_log_source_tcp_get_device(FleetLogSourceTcp *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_SOURCE_TCP(self), NULL);
	return self->device;
}

const gchar *
fleet_log_source_tcp_get_host(FleetLogSourceTcp *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_SOURCE_TCP(self), NULL);
	if (self->device != NULL)
		return fleet_device_get_address(self->device);
	return self->fixed_host;
}

guint16
fleet_log_source_tcp_get_port(FleetLogSourceTcp *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_SOURCE_TCP(self), 0);
	if (self->fixed_port != 0 || self->device == NULL)
		return self->fixed_port;
	return fleet_device_get_log_port(self->device);
}

guint
fleet_log_source_tcp_get_n_connects(FleetLogSourceTcp *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_SOURCE_TCP(self), 0);
	return self->n_connects;
}

void
fleet_log_source_tcp_set_telnet(FleetLogSourceTcp *self, FleetLogTelnetMode mode)
{
	g_return_if_fail(FLEET_IS_LOG_SOURCE_TCP(self));
	self->telnet_mode = mode;
}

void
fleet_log_source_tcp_set_backoff(FleetLogSourceTcp *self, guint min_ms, guint max_ms)
{
	g_return_if_fail(FLEET_IS_LOG_SOURCE_TCP(self));
	self->backoff_min_ms = MAX(min_ms, 1u);
	self->backoff_max_ms = MAX(max_ms, self->backoff_min_ms);
	self->backoff_ms = self->backoff_min_ms;
}

void
fleet_log_source_tcp_set_partial_timeout(FleetLogSourceTcp *self, guint ms)
{
	g_return_if_fail(FLEET_IS_LOG_SOURCE_TCP(self));
	fleet_log_source_set_partial_timeout(FLEET_LOG_SOURCE(self), ms);
}

static gboolean
fleet_log_source_tcp_use_telnet(FleetLogSourceTcp *self)
{
	if (self->telnet_mode == FLEET_LOG_TELNET_AUTO)
		return self->port == 23;
	return self->telnet_mode == FLEET_LOG_TELNET_ON;
}

static void
fleet_log_source_tcp_set_state(FleetLogSourceTcp *self, FleetLogSourceState state, const gchar *msg)
{
	fleet_log_source_set_state(FLEET_LOG_SOURCE(self), state, msg);
}

/* the last line shown is compared with the history of the next reconnect */
static void
fleet_log_source_tcp_remember(FleetLogSourceTcp *self, FleetLogLine *line)
{
	g_free(self->last_text);
	self->last_text = g_strdup(fleet_log_line_get_text(line));
	self->last_ms = fleet_log_line_get_device_ms(line);
}

/* the replay is over: say "reconnected" and show what was held back */
static void
fleet_log_source_tcp_end_replay(FleetLogSourceTcp *self, guint skipped)
{
	g_autoptr(GPtrArray) held = g_steal_pointer(&self->held);
	g_autofree gchar *text = NULL;

	self->replaying = FALSE;
	g_clear_handle_id(&self->replay_id, g_source_remove);
	if (skipped > 0)
		/* TRANSLATORS: a device's log stream came back; it sent its history again and
		 * the lines already on screen were not repeated */
		text = g_strdup_printf(
		    g_dngettext(GETTEXT_PACKAGE, "reconnected (%u line already shown skipped)",
				"reconnected (%u lines already shown skipped)", skipped),
		    skipped);
	/* the mark carries the time of the connection, before the lines it held back */
	{
		g_autoptr(GPtrArray) mark =
		    g_ptr_array_new_with_free_func((GDestroyNotify)fleet_log_line_unref);
		g_ptr_array_add(
		    mark, fleet_log_line_new_event(fleet_log_source_tcp_get_device_id(self),
						   self->connected_real, FLEET_LOG_LINE_KIND_EVENT,
						   FLEET_LOG_LEVEL_INFO,
						   text != NULL ? text : _("reconnected")));
		fleet_log_source_emit_lines(FLEET_LOG_SOURCE(self), mark);
	}
	if (held != NULL && held->len > 0) {
		fleet_log_source_tcp_remember(self, g_ptr_array_index(held, held->len - 1));
		fleet_log_source_emit_lines(FLEET_LOG_SOURCE(self), held);
	}
}

static gboolean
fleet_log_source_tcp_replay_timeout_cb(gpointer user_data)
{
	FleetLogSourceTcp *self = FLEET_LOG_SOURCE_TCP(user_data);
	self->replay_id = 0;
	fleet_log_source_tcp_end_replay(self, 0);
	return G_SOURCE_REMOVE;
}

/*
 * while replaying, lines the device had sent before are held until the last line shown
 * turns up (they are dropped then) or something newer does (they are shown then)
 */
static void
fleet_log_source_tcp_replay_line(FleetLogSourceTcp *self, FleetLogLine *line)
{
	gint64 ms = fleet_log_line_get_device_ms(line);

	if (g_strcmp0(fleet_log_line_get_text(line), self->last_text) == 0 && ms == self->last_ms) {
		guint skipped = self->held->len + 1;
		g_ptr_array_set_size(self->held, 0);
		fleet_log_line_unref(line);
		fleet_log_source_tcp_end_replay(self, skipped);
		return;
	}
	g_ptr_array_add(self->held, line);
	if ((self->last_ms >= 0 && ms > self->last_ms) ||
	    self->held->len >= FLEET_LOG_TCP_REPLAY_MAX)
		fleet_log_source_tcp_end_replay(self, 0);
}

static void
fleet_log_source_tcp_add_line(FleetLogSource *source, FleetLogLine *line)
{
	FleetLogSourceTcp *self = FLEET_LOG_SOURCE_TCP(source);
	if (self->replaying) {
		fleet_log_source_tcp_replay_line(self, line);
		return;
	}
	fleet_log_source_tcp_remember(self, line);
	FLEET_LOG_SOURCE_CLASS(fleet_log_source_tcp_parent_class)->add_line(source, line);
}

/* the unfinished line and the lines held back go out before the connection ends */
static void
fleet_log_source_tcp_flush(FleetLogSourceTcp *self)
{
	/* the batch is empty while replaying, so the held lines keep their place after it */
	fleet_log_source_input_flush(FLEET_LOG_SOURCE(self));
	if (self->replaying)
		fleet_log_source_tcp_end_replay(self, 0);
}

static void
fleet_log_source_tcp_close(FleetLogSourceTcp *self)
{
	if (self->read_source != NULL) {
		g_source_destroy(self->read_source);
		g_clear_pointer(&self->read_source, g_source_unref);
	}
	fleet_log_source_input_close(FLEET_LOG_SOURCE(self));
	g_clear_object(&self->socket);
	if (self->connection != NULL)
		g_io_stream_close(G_IO_STREAM(self->connection), NULL, NULL);
	g_clear_object(&self->connection);
}

static void
fleet_log_source_tcp_schedule_retry(FleetLogSourceTcp *self, const gchar *reason)
{
	g_autofree gchar *status = NULL;
	guint wait = self->backoff_ms;

	self->backoff_ms = MIN(self->backoff_ms * 2, self->backoff_max_ms);
	/* TRANSLATORS: the status of a device's log connection; %s is the reason */
	status = g_strdup_printf(_("%s; trying again in %.1f s"), reason, (gdouble)wait / 1000.0);
	fleet_log_source_tcp_set_state(self, FLEET_LOG_SOURCE_STATE_WAITING, status);
	fleet_log_source_retry_after(FLEET_LOG_SOURCE(self), wait);
}

/* the connection ended: mark it in the log and try again */
static void
fleet_log_source_tcp_lost(FleetLogSourceTcp *self, const gchar *reason)
{
	fleet_log_source_tcp_flush(self);
	if (g_get_monotonic_time() - self->connected_at >= FLEET_LOG_TCP_STABLE_US)
		self->backoff_ms = self->backoff_min_ms;
	fleet_log_source_tcp_close(self);
	fleet_log_source_mark_lost(FLEET_LOG_SOURCE(self), reason);
	fleet_log_source_tcp_schedule_retry(self, _("Disconnected"));
}

static void
fleet_log_source_tcp_send_reply(FleetLogSourceTcp *self)
{
	if (self->reply->len == 0 || self->socket == NULL)
		return;
	/* a few bytes of telnet refusals: what does not fit now is not worth keeping */
	(void)g_socket_send(self->socket, (const gchar *)self->reply->data, self->reply->len, NULL,
			    NULL);
	g_byte_array_set_size(self->reply, 0);
}

static gboolean
fleet_log_source_tcp_read_cb(GSocket *socket, GIOCondition condition, gpointer user_data)
{
	FleetLogSourceTcp *self = FLEET_LOG_SOURCE_TCP(user_data);
	gsize budget = FLEET_LOG_TCP_READ_BUDGET;

	while (budget > 0) {
		g_autoptr(GError) error = NULL;
		gssize n =
		    g_socket_receive(socket, (gchar *)self->buf, sizeof(self->buf), NULL, &error);
		if (n > 0) {
			fleet_log_source_input_feed(FLEET_LOG_SOURCE(self), self->buf, (gsize)n,
						    self->reply);
			budget -= MIN((gsize)n, budget);
			continue;
		}
		if (n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
			break;
		fleet_log_source_tcp_send_reply(self);
		/* TRANSLATORS: why a device's log connection ended */
		fleet_log_source_tcp_lost(self, n == 0 ? _("the device closed the connection")
						       : error->message);
		return G_SOURCE_REMOVE;
	}
	fleet_log_source_tcp_send_reply(self);
	fleet_log_source_input_read_done(FLEET_LOG_SOURCE(self));
	return G_SOURCE_CONTINUE;
}

static void
fleet_log_source_tcp_keepalive(GSocket *socket)
{
	/* a device that lost power sends no FIN: notice it within about 15 s */
	g_socket_set_keepalive(socket, TRUE);
	(void)g_socket_set_option(socket, IPPROTO_TCP, TCP_KEEPIDLE, 5, NULL);
	(void)g_socket_set_option(socket, IPPROTO_TCP, TCP_KEEPINTVL, 3, NULL);
	(void)g_socket_set_option(socket, IPPROTO_TCP, TCP_KEEPCNT, 3, NULL);
}

static void
fleet_log_source_tcp_connected(FleetLogSourceTcp *self, GSocketConnection *connection)
{
	g_autofree gchar *text = NULL;

	self->connection = connection;
	self->socket = g_object_ref(g_socket_connection_get_socket(connection));
	g_socket_set_blocking(self->socket, FALSE);
	fleet_log_source_tcp_keepalive(self->socket);
	self->connected_at = g_get_monotonic_time();
	self->connected_real = g_get_real_time();
	self->n_connects++;
	(void)fleet_log_source_clear_failure(FLEET_LOG_SOURCE(self));

	fleet_log_source_input_open(FLEET_LOG_SOURCE(self), fleet_log_source_tcp_use_telnet(self));
	self->read_source =
	    g_socket_create_source(self->socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
	g_source_set_callback(self->read_source, G_SOURCE_FUNC(fleet_log_source_tcp_read_cb), self,
			      NULL);
	g_source_attach(self->read_source, g_main_context_get_thread_default());

	/* TRANSLATORS: the status of a device's log connection */
	fleet_log_source_tcp_set_state(self, FLEET_LOG_SOURCE_STATE_RUNNING, _("Connected"));
	if (!self->ever_connected) {
		self->ever_connected = TRUE;
		/* TRANSLATORS: the first line of a device's log in the viewer; %s is an
		 * address and port */
		text = g_strdup_printf(_("connected to %s:%u"), self->host, (guint)self->port);
		fleet_log_source_mark(FLEET_LOG_SOURCE(self), FLEET_LOG_LEVEL_INFO, text);
		return;
	}
	/* the device sends its history first: compare it with what was shown */
	if (self->last_text != NULL) {
		self->replaying = TRUE;
		self->held = g_ptr_array_new_with_free_func((GDestroyNotify)fleet_log_line_unref);
		self->replay_id = g_timeout_add(FLEET_LOG_TCP_REPLAY_MS,
						fleet_log_source_tcp_replay_timeout_cb, self);
		return;
	}
	fleet_log_source_mark(FLEET_LOG_SOURCE(self), FLEET_LOG_LEVEL_INFO, _("reconnected"));
}

static void
fleet_log_source_tcp_connect_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(FleetLogSourceTcp) self = user_data;
	g_autoptr(GError) error = NULL;
	GSocketConnection *connection =
	    g_socket_client_connect_finish(G_SOCKET_CLIENT(source), result, &error);

	if (connection == NULL) {
		g_autofree gchar *reason = NULL;
		g_autofree gchar *lower = NULL;
		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			return;
		/* TRANSLATORS: %s:%u is an address and port, the last %s the reason */
		reason = g_strdup_printf(_("Cannot connect to %s:%u: %s"), self->host,
					 (guint)self->port, error->message);
		/* TRANSLATORS: a line in a device's log; %s:%u is an address and port, the
		 * last %s the reason */
		lower = g_strdup_printf(_("cannot connect to %s:%u: %s"), self->host,
					(guint)self->port, error->message);
		fleet_log_source_mark_failure(FLEET_LOG_SOURCE(self), lower);
		fleet_log_source_tcp_schedule_retry(self, reason);
		return;
	}
	fleet_log_source_tcp_connected(self, connection);
}

static void
fleet_log_source_tcp_connect(FleetLogSourceTcp *self)
{
	g_autoptr(GSocketClient) client = NULL;
	g_autoptr(GSocketConnectable) address = NULL;
	const gchar *host = fleet_log_source_tcp_get_host(self);
	guint16 port = fleet_log_source_tcp_get_port(self);

	if (!self->started || self->connection != NULL)
		return;
	fleet_log_source_retry_cancel(FLEET_LOG_SOURCE(self));
	if (host == NULL || port == 0) {
		fleet_log_source_tcp_set_state(self, FLEET_LOG_SOURCE_STATE_WAITING,
					       host == NULL
						   ? _("Waiting for the device's address")
						   : _("The device announces no log port"));
		return;
	}
	g_free(self->host);
	self->host = g_strdup(host);
	self->port = port;
	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	self->cancellable = g_cancellable_new();

	fleet_log_source_tcp_set_state(self, FLEET_LOG_SOURCE_STATE_CONNECTING, NULL);
	client = g_socket_client_new();
	g_socket_client_set_timeout(client, FLEET_LOG_TCP_CONNECT_TIMEOUT_S);
	address = g_network_address_new(host, port);
	g_socket_client_connect_async(client, address, self->cancellable,
				      fleet_log_source_tcp_connect_cb, g_object_ref(self));
}

static void
fleet_log_source_tcp_reconnect(FleetLogSource *source)
{
	fleet_log_source_tcp_connect(FLEET_LOG_SOURCE_TCP(source));
}

/* the device moved or came back: no need to wait for the next attempt */
static void
fleet_log_source_tcp_device_notify_cb(FleetDevice *device, GParamSpec *pspec, gpointer user_data)
{
	FleetLogSourceTcp *self = FLEET_LOG_SOURCE_TCP(user_data);
	const gchar *name = g_param_spec_get_name(pspec);

	if (!self->started)
		return;
	if (g_strcmp0(name, "address") == 0 || g_strcmp0(name, "log-port") == 0) {
		if (self->connection != NULL &&
		    g_strcmp0(self->host, fleet_log_source_tcp_get_host(self)) == 0 &&
		    self->port == fleet_log_source_tcp_get_port(self))
			return;
		if (self->connection != NULL) {
			/* TRANSLATORS: why a device's log connection ended */
			fleet_log_source_tcp_lost(self, _("the device has a new address"));
		}
		self->backoff_ms = self->backoff_min_ms;
		fleet_log_source_tcp_connect(self);
	} else if (g_strcmp0(name, "online") == 0 && fleet_device_get_online(device) &&
		   self->connection == NULL &&
		   fleet_log_source_retry_pending(FLEET_LOG_SOURCE(self))) {
		self->backoff_ms = self->backoff_min_ms;
		fleet_log_source_tcp_connect(self);
	}
}

static void
fleet_log_source_tcp_start(FleetLogSource *source)
{
	FleetLogSourceTcp *self = FLEET_LOG_SOURCE_TCP(source);
	if (self->started)
		return;
	self->started = TRUE;
	self->backoff_ms = self->backoff_min_ms;
	fleet_log_source_tcp_connect(self);
}

static void
fleet_log_source_tcp_stop(FleetLogSource *source)
{
	FleetLogSourceTcp *self = FLEET_LOG_SOURCE_TCP(source);
	if (!self->started)
		return;
	fleet_log_source_tcp_flush(self);
	self->started = FALSE;
	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	fleet_log_source_retry_cancel(source);
	fleet_log_source_tcp_close(self);
	fleet_log_source_tcp_set_state(self, FLEET_LOG_SOURCE_STATE_STOPPED, NULL);
}

static gchar *
fleet_log_source_tcp_describe(FleetLogSource *source)
{
	FleetLogSourceTcp *self = FLEET_LOG_SOURCE_TCP(source);
	const gchar *host = fleet_log_source_tcp_get_host(self);
	guint16 port = fleet_log_source_tcp_get_port(self);
	if (host == NULL)
		return g_strdup(_("TCP log stream (no address yet)"));
	/* TRANSLATORS: a log source; %s:%u is an address and port */
	return g_strdup_printf(strchr(host, ':') != NULL ? _("TCP [%s]:%u") : _("TCP %s:%u"), host,
			       (guint)port);
}

static const gchar *
fleet_log_source_tcp_source_device_id(FleetLogSource *source)
{
	return fleet_log_source_tcp_get_device_id(FLEET_LOG_SOURCE_TCP(source));
}

static void
fleet_log_source_tcp_dispose(GObject *object)
{
	FleetLogSourceTcp *self = FLEET_LOG_SOURCE_TCP(object);
	self->started = FALSE;
	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	g_clear_handle_id(&self->replay_id, g_source_remove);
	fleet_log_source_tcp_close(self);
	if (self->device != NULL)
		g_signal_handlers_disconnect_by_data(self->device, self);
	g_clear_object(&self->device);
	G_OBJECT_CLASS(fleet_log_source_tcp_parent_class)->dispose(object);
}

static void
fleet_log_source_tcp_finalize(GObject *object)
{
	FleetLogSourceTcp *self = FLEET_LOG_SOURCE_TCP(object);
	g_byte_array_unref(self->reply);
	g_clear_pointer(&self->held, g_ptr_array_unref);
	g_free(self->device_id);
	g_free(self->fixed_host);
	g_free(self->host);
	g_free(self->last_text);
	G_OBJECT_CLASS(fleet_log_source_tcp_parent_class)->finalize(object);
}

static void
fleet_log_source_tcp_class_init(FleetLogSourceTcpClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	FleetLogSourceClass *source_class = FLEET_LOG_SOURCE_CLASS(klass);
	object_class->dispose = fleet_log_source_tcp_dispose;
	object_class->finalize = fleet_log_source_tcp_finalize;
	source_class->start = fleet_log_source_tcp_start;
	source_class->stop = fleet_log_source_tcp_stop;
	source_class->describe = fleet_log_source_tcp_describe;
	source_class->get_device_id = fleet_log_source_tcp_source_device_id;
	source_class->reconnect = fleet_log_source_tcp_reconnect;
	source_class->add_line = fleet_log_source_tcp_add_line;
}

static void
fleet_log_source_tcp_init(FleetLogSourceTcp *self)
{
	self->backoff_min_ms = FLEET_LOG_SOURCE_TCP_BACKOFF_MIN_MS;
	self->backoff_max_ms = FLEET_LOG_SOURCE_TCP_BACKOFF_MAX_MS;
	self->backoff_ms = self->backoff_min_ms;
	self->last_ms = -1;
	self->reply = g_byte_array_new();
}

FleetLogSourceTcp *
fleet_log_source_tcp_new(const gchar *device_id, const gchar *host, guint16 port)
{
	FleetLogSourceTcp *self;
	g_return_val_if_fail(device_id != NULL, NULL);
	g_return_val_if_fail(host != NULL, NULL);
	g_return_val_if_fail(port != 0, NULL);
	self = g_object_new(FLEET_TYPE_LOG_SOURCE_TCP, NULL);
	self->device_id = g_strdup(device_id);
	self->fixed_host = g_strdup(host);
	self->fixed_port = port;
	return self;
}

FleetLogSourceTcp *
fleet_log_source_tcp_new_for_device(FleetDevice *device, guint16 port)
{
	FleetLogSourceTcp *self;
	g_return_val_if_fail(FLEET_IS_DEVICE(device), NULL);
	self = g_object_new(FLEET_TYPE_LOG_SOURCE_TCP, NULL);
	self->device = g_object_ref(device);
	self->fixed_port = port;
	g_signal_connect(device, "notify", G_CALLBACK(fleet_log_source_tcp_device_notify_cb), self);
	return self;
}
