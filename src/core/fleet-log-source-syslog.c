/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-log-source-syslog.c - a UDP syslog receiver attributing messages to devices */

#include "config.h"

#include "fleet-log-source-syslog.h"

#include <glib/gi18n.h>

#include "fleet-log-source-private.h"
#include "fleet-log-syslog.h"

/* datagrams read per dispatch before other sources get their turn */
#define FLEET_LOG_SYSLOG_READ_BUDGET 512

struct _FleetLogSourceSyslog {
	FleetLogSource parent_instance;
	gchar *bind_address;
	guint16 port;
	guint16 bound_port;
	FleetDeviceList *devices;
	GSocket *socket;
	GSource *read_source;
	guint64 n_received;
	guint8 *buf; /* FLEET_LOG_SYSLOG_MAX bytes */
};

G_DEFINE_TYPE(FleetLogSourceSyslog, fleet_log_source_syslog, FLEET_TYPE_LOG_SOURCE)

guint16
fleet_log_source_syslog_get_port(FleetLogSourceSyslog *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_SOURCE_SYSLOG(self), 0);
	return self->bound_port;
}

guint64
fleet_log_source_syslog_get_n_received(FleetLogSourceSyslog *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_SOURCE_SYSLOG(self), 0);
	return self->n_received;
}

gchar *
fleet_log_source_syslog_attribute(FleetLogSourceSyslog *self,
				  const gchar *address,
				  const gchar *hostname)
{
	g_return_val_if_fail(FLEET_IS_LOG_SOURCE_SYSLOG(self), NULL);
	g_return_val_if_fail(address != NULL, NULL);

	if (self->devices != NULL) {
		GListModel *model = G_LIST_MODEL(self->devices);
		guint n = g_list_model_get_n_items(model);
		FleetDevice *named;
		for (guint i = 0; i < n; i++) {
			g_autoptr(FleetDevice) device = g_list_model_get_item(model, i);
			if (g_strcmp0(fleet_device_get_address(device), address) == 0)
				return g_strdup(fleet_device_get_id(device));
		}
		/* a relay or NAT in between: the HOSTNAME field may still name it */
		named = hostname != NULL ? fleet_device_list_find(self->devices, hostname) : NULL;
		if (named != NULL)
			return g_strdup(fleet_device_get_id(named));
	}
	return g_strdup_printf("syslog:%s", address);
}

static void
fleet_log_source_syslog_datagram(FleetLogSourceSyslog *self,
				 const guint8 *data,
				 gsize len,
				 GSocketAddress *from)
{
	g_autoptr(FleetLogSyslogMessage) msg = NULL;
	g_autoptr(GPtrArray) lines = NULL;
	g_autofree gchar *address = NULL;
	g_autofree gchar *device_id = NULL;
	GInetAddress *inet;

	if (!G_IS_INET_SOCKET_ADDRESS(from))
		return;
	inet = g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(from));
	address = g_inet_address_to_string(inet);
	msg = fleet_log_syslog_parse(data, len, NULL);
	if (msg == NULL)
		return;
	device_id = fleet_log_source_syslog_attribute(self, address, msg->hostname);
	lines = fleet_log_syslog_to_lines(msg, device_id, g_get_real_time());
	fleet_log_source_emit_lines(FLEET_LOG_SOURCE(self), lines);
}

static gboolean
fleet_log_source_syslog_read_cb(GSocket *socket, GIOCondition condition, gpointer user_data)
{
	FleetLogSourceSyslog *self = FLEET_LOG_SOURCE_SYSLOG(user_data);

	for (guint i = 0; i < FLEET_LOG_SYSLOG_READ_BUDGET; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GSocketAddress) from = NULL;
		gssize n = g_socket_receive_from(socket, &from, (gchar *)self->buf,
						 FLEET_LOG_SYSLOG_MAX, NULL, &error);
		if (n < 0) {
			if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
				g_debug("syslog receive: %s", error->message);
			break;
		}
		self->n_received++;
		fleet_log_source_syslog_datagram(self, self->buf, (gsize)n, from);
	}
	return G_SOURCE_CONTINUE;
}

static void
fleet_log_source_syslog_start(FleetLogSource *source)
{
	FleetLogSourceSyslog *self = FLEET_LOG_SOURCE_SYSLOG(source);
	g_autoptr(GError) error = NULL;
	g_autoptr(GInetAddress) inet = NULL;
	g_autoptr(GSocketAddress) address = NULL;
	g_autoptr(GSocketAddress) local = NULL;
	g_autoptr(GSocket) socket = NULL;
	g_autofree gchar *text = NULL;

	if (self->socket != NULL)
		return;
	inet = self->bind_address != NULL ? g_inet_address_new_from_string(self->bind_address)
					  : g_inet_address_new_any(G_SOCKET_FAMILY_IPV4);
	if (inet == NULL) {
		/* TRANSLATORS: %s is what the user gave as the address to listen on */
		text = g_strdup_printf(_("“%s” is not an IP address"), self->bind_address);
		fleet_log_source_set_state(source, FLEET_LOG_SOURCE_STATE_FAILED, text);
		return;
	}
	address = g_inet_socket_address_new(inet, self->port);
	socket = g_socket_new(g_inet_address_get_family(inet), G_SOCKET_TYPE_DATAGRAM,
			      G_SOCKET_PROTOCOL_UDP, &error);
	if (socket == NULL || !g_socket_bind(socket, address, FALSE, &error)) {
		/* TRANSLATORS: %u is a UDP port number, %s the reason */
		text = g_strdup_printf(_("Cannot listen for syslog on UDP port %u: %s"),
				       (guint)self->port, error->message);
		fleet_log_source_set_state(source, FLEET_LOG_SOURCE_STATE_FAILED, text);
		fleet_log_source_emit_event(source, "syslog", FLEET_LOG_LEVEL_ERROR, text);
		return;
	}
	g_socket_set_blocking(socket, FALSE);
	local = g_socket_get_local_address(socket, NULL);
	self->bound_port = local != NULL
			       ? g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local))
			       : self->port;
	self->socket = g_steal_pointer(&socket);
	self->read_source = g_socket_create_source(self->socket, G_IO_IN, NULL);
	g_source_set_callback(self->read_source, G_SOURCE_FUNC(fleet_log_source_syslog_read_cb),
			      self, NULL);
	g_source_attach(self->read_source, g_main_context_get_thread_default());
	/* TRANSLATORS: the status of the syslog receiver; %u is a UDP port number */
	text = g_strdup_printf(_("Listening on UDP port %u"), (guint)self->bound_port);
	fleet_log_source_set_state(source, FLEET_LOG_SOURCE_STATE_RUNNING, text);
}

static void
fleet_log_source_syslog_close(FleetLogSourceSyslog *self)
{
	if (self->read_source != NULL) {
		g_source_destroy(self->read_source);
		g_clear_pointer(&self->read_source, g_source_unref);
	}
	if (self->socket != NULL)
		g_socket_close(self->socket, NULL);
	g_clear_object(&self->socket);
}

static void
fleet_log_source_syslog_stop(FleetLogSource *source)
{
	FleetLogSourceSyslog *self = FLEET_LOG_SOURCE_SYSLOG(source);
	fleet_log_source_syslog_close(self);
	fleet_log_source_set_state(source, FLEET_LOG_SOURCE_STATE_STOPPED, NULL);
}

static gchar *
fleet_log_source_syslog_describe(FleetLogSource *source)
{
	FleetLogSourceSyslog *self = FLEET_LOG_SOURCE_SYSLOG(source);
	/* TRANSLATORS: a log source; %u is a UDP port number */
	return g_strdup_printf(_("Syslog on UDP port %u"),
			       (guint)(self->bound_port != 0 ? self->bound_port : self->port));
}

static void
fleet_log_source_syslog_dispose(GObject *object)
{
	FleetLogSourceSyslog *self = FLEET_LOG_SOURCE_SYSLOG(object);
	fleet_log_source_syslog_close(self);
	g_clear_object(&self->devices);
	G_OBJECT_CLASS(fleet_log_source_syslog_parent_class)->dispose(object);
}

static void
fleet_log_source_syslog_finalize(GObject *object)
{
	FleetLogSourceSyslog *self = FLEET_LOG_SOURCE_SYSLOG(object);
	g_free(self->bind_address);
	g_free(self->buf);
	G_OBJECT_CLASS(fleet_log_source_syslog_parent_class)->finalize(object);
}

static void
fleet_log_source_syslog_class_init(FleetLogSourceSyslogClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	FleetLogSourceClass *source_class = FLEET_LOG_SOURCE_CLASS(klass);
	object_class->dispose = fleet_log_source_syslog_dispose;
	object_class->finalize = fleet_log_source_syslog_finalize;
	source_class->start = fleet_log_source_syslog_start;
	source_class->stop = fleet_log_source_syslog_stop;
	source_class->describe = fleet_log_source_syslog_describe;
}

static void
fleet_log_source_syslog_init(FleetLogSourceSyslog *self)
{
	self->buf = g_malloc(FLEET_LOG_SYSLOG_MAX);
}

FleetLogSourceSyslog *
fleet_log_source_syslog_new(const gchar *bind_address, guint16 port, FleetDeviceList *devices)
{
	FleetLogSourceSyslog *self;
	g_return_val_if_fail(devices == NULL || FLEET_IS_DEVICE_LIST(devices), NULL);
	self = g_object_new(FLEET_TYPE_LOG_SOURCE_SYSLOG, NULL);
	self->bind_address = g_strdup(bind_address);
	self->port = port;
	self->devices = devices != NULL ? g_object_ref(devices) : NULL;
	return self;
}
