/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-device.c - one ESP module, as announced over mDNS or added by address */

#include "config.h"

#include <string.h>

#include "fleet-device.h"
#include "fleet-text.h"
#include "fleet-txt-record.h"

/* longest device-provided string kept (names, versions, board ids) */
#define FLEET_DEVICE_STRING_MAX 64

struct _FleetDevice {
	GObject parent_instance;
	gchar *id;
	FleetDeviceSource source;
	gchar *name;
	gchar *hostname;
	gchar *address;
	gchar *http_path;
	gchar *board;
	gchar *chip;
	gchar *mac;
	gchar *fw_version;
	gchar *fw_sha256;
	guint16 ota_port;
	guint16 http_port;
	guint16 log_port;
	FleetProtocol protocols;
	gboolean needs_password;
	gboolean online;
	gint64 last_seen;
};

G_DEFINE_TYPE(FleetDevice, fleet_device, G_TYPE_OBJECT)

enum {
	PROP_0,
	PROP_ID,
	PROP_SOURCE,
	PROP_NAME,
	PROP_HOSTNAME,
	PROP_ADDRESS,
	PROP_HTTP_PATH,
	PROP_BOARD,
	PROP_CHIP,
	PROP_MAC,
	PROP_FW_VERSION,
	PROP_FW_SHA256,
	PROP_OTA_PORT,
	PROP_HTTP_PORT,
	PROP_LOG_PORT,
	PROP_PROTOCOLS,
	PROP_NEEDS_PASSWORD,
	PROP_ONLINE,
	PROP_LAST_SEEN,
	N_PROPS
};

static GParamSpec *props[N_PROPS];

static void
fleet_device_set_string(FleetDevice *self, gchar **field, const gchar *value, guint prop)
{
	g_autofree gchar *clean = NULL;
	if (value != NULL)
		clean = fleet_text_sanitize(value, -1, FLEET_DEVICE_STRING_MAX);
	if (g_strcmp0(*field, clean) == 0)
		return;
	g_free(*field);
	*field = g_steal_pointer(&clean);
	g_object_notify_by_pspec(G_OBJECT(self), props[prop]);
}

const gchar *
fleet_device_get_name(FleetDevice *self)
{
	g_return_val_if_fail(FLEET_IS_DEVICE(self), NULL);
	return self->name;
}

void
fleet_device_set_name(FleetDevice *self, const gchar *value)
{
	g_return_if_fail(FLEET_IS_DEVICE(self));
	fleet_device_set_string(self, &self->name, value, PROP_NAME);
}

const gchar *
fleet_device_get_hostname(FleetDevice *self)
{
	g_return_val_if_fail(FLEET_IS_DEVICE(self), NULL);
	return self->hostname;
}

void
fleet_device_set_hostname(FleetDevice *self, const gchar *value)
{
	g_return_if_fail(FLEET_IS_DEVICE(self));
	fleet_device_set_string(self, &self->hostname, value, PROP_HOSTNAME);
}

const gchar *
fleet_device_get_address(FleetDevice *self)
{
	g_return_val_if_fail(FLEET_IS_DEVICE(self), NULL);
	return self->address;
}

void
fleet_device_set_address(FleetDevice *self, const gchar *value)
{
	g_return_if_fail(FLEET_IS_DEVICE(self));
	fleet_device_set_string(self, &self->address, value, PROP_ADDRESS);
}

const gchar *
fleet_device_get_http_path(FleetDevice *self)
{
	g_return_val_if_fail(FLEET_IS_DEVICE(self), NULL);
	return self->http_path;
}

void
fleet_device_set_http_path(FleetDevice *self, const gchar *value)
{
	g_return_if_fail(FLEET_IS_DEVICE(self));
	fleet_device_set_string(self, &self->http_path, value, PROP_HTTP_PATH);
}

const gchar *
fleet_device_get_board(FleetDevice *self)
{
	g_return_val_if_fail(FLEET_IS_DEVICE(self), NULL);
	return self->board;
}

void
fleet_device_set_board(FleetDevice *self, const gchar *value)
{
	g_return_if_fail(FLEET_IS_DEVICE(self));
	fleet_device_set_string(self, &self->board, value, PROP_BOARD);
}

const gchar *
fleet_device_get_chip(FleetDevice *self)
{
	g_return_val_if_fail(FLEET_IS_DEVICE(self), NULL);
	return self->chip;
}

void
fleet_device_set_chip(FleetDevice *self, const gchar *value)
{
	g_return_if_fail(FLEET_IS_DEVICE(self));
	fleet_device_set_string(self, &self->chip, value, PROP_CHIP);
}

const gchar *
fleet_device_get_mac(FleetDevice *self)
{
	g_return_val_if_fail(FLEET_IS_DEVICE(self), NULL);
	return self->mac;
}

void
fleet_device_set_mac(FleetDevice *self, const gchar *value)
{
	g_return_if_fail(FLEET_IS_DEVICE(self));
	fleet_device_set_string(self, &self->mac, value, PROP_MAC);
}

const gchar *
fleet_device_get_fw_version(FleetDevice *self)
{
	g_return_val_if_fail(FLEET_IS_DEVICE(self), NULL);
	return self->fw_version;
}

void
fleet_device_set_fw_version(FleetDevice *self, const gchar *value)
{
	g_return_if_fail(FLEET_IS_DEVICE(self));
	fleet_device_set_string(self, &self->fw_version, value, PROP_FW_VERSION);
}

const gchar *
fleet_device_get_fw_sha256(FleetDevice *self)
{
	g_return_val_if_fail(FLEET_IS_DEVICE(self), NULL);
	return self->fw_sha256;
}

void
fleet_device_set_fw_sha256(FleetDevice *self, const gchar *value)
{
	g_return_if_fail(FLEET_IS_DEVICE(self));
	fleet_device_set_string(self, &self->fw_sha256, value, PROP_FW_SHA256);
}

guint16
fleet_device_get_ota_port(FleetDevice *self)
{
	g_return_val_if_fail(FLEET_IS_DEVICE(self), 0);
	return self->ota_port;
}

void
fleet_device_set_ota_port(FleetDevice *self, guint16 port)
{
	g_return_if_fail(FLEET_IS_DEVICE(self));
	if (self->ota_port == port)
		return;
	self->ota_port = port;
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_OTA_PORT]);
}

guint16
fleet_device_get_http_port(FleetDevice *self)
{
	g_return_val_if_fail(FLEET_IS_DEVICE(self), 0);
	return self->http_port;
}

void
fleet_device_set_http_port(FleetDevice *self, guint16 port)
{
	g_return_if_fail(FLEET_IS_DEVICE(self));
	if (self->http_port == port)
		return;
	self->http_port = port;
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_HTTP_PORT]);
}

guint16
fleet_device_get_log_port(FleetDevice *self)
{
	g_return_val_if_fail(FLEET_IS_DEVICE(self), 0);
	return self->log_port;
}

void
fleet_device_set_log_port(FleetDevice *self, guint16 port)
{
	g_return_if_fail(FLEET_IS_DEVICE(self));
	if (self->log_port == port)
		return;
	self->log_port = port;
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_LOG_PORT]);
}

const gchar *
fleet_device_get_id(FleetDevice *self)
{
	g_return_val_if_fail(FLEET_IS_DEVICE(self), NULL);
	return self->id;
}

void
fleet_device_set_id(FleetDevice *self, const gchar *id)
{
	g_return_if_fail(FLEET_IS_DEVICE(self));
	g_return_if_fail(id != NULL);
	if (g_strcmp0(self->id, id) == 0)
		return;
	g_free(self->id);
	self->id = g_strdup(id);
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_ID]);
}

FleetDeviceSource
fleet_device_get_source(FleetDevice *self)
{
	g_return_val_if_fail(FLEET_IS_DEVICE(self), FLEET_DEVICE_SOURCE_MDNS);
	return self->source;
}

FleetProtocol
fleet_device_get_protocols(FleetDevice *self)
{
	g_return_val_if_fail(FLEET_IS_DEVICE(self), FLEET_PROTOCOL_NONE);
	return self->protocols;
}

void
fleet_device_set_protocols(FleetDevice *self, FleetProtocol protocols)
{
	g_return_if_fail(FLEET_IS_DEVICE(self));
	if (self->protocols == protocols)
		return;
	self->protocols = protocols;
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_PROTOCOLS]);
}

gboolean
fleet_device_get_needs_password(FleetDevice *self)
{
	g_return_val_if_fail(FLEET_IS_DEVICE(self), FALSE);
	return self->needs_password;
}

void
fleet_device_set_needs_password(FleetDevice *self, gboolean needs_password)
{
	g_return_if_fail(FLEET_IS_DEVICE(self));
	needs_password = !!needs_password;
	if (self->needs_password == needs_password)
		return;
	self->needs_password = needs_password;
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_NEEDS_PASSWORD]);
}

gboolean
fleet_device_get_online(FleetDevice *self)
{
	g_return_val_if_fail(FLEET_IS_DEVICE(self), FALSE);
	return self->online;
}

void
fleet_device_set_online(FleetDevice *self, gboolean online)
{
	g_return_if_fail(FLEET_IS_DEVICE(self));
	online = !!online;
	if (online)
		fleet_device_touch(self);
	if (self->online == online)
		return;
	self->online = online;
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_ONLINE]);
}

gint64
fleet_device_get_last_seen(FleetDevice *self)
{
	g_return_val_if_fail(FLEET_IS_DEVICE(self), 0);
	return self->last_seen;
}

void
fleet_device_touch(FleetDevice *self)
{
	g_return_if_fail(FLEET_IS_DEVICE(self));
	self->last_seen = g_get_real_time();
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_LAST_SEEN]);
}

gchar *
fleet_device_id_for_mac(const gchar *mac)
{
	guint8 b[6];
	gsize n = 0;
	if (mac == NULL)
		return NULL;
	/* accept aa:bb:cc:dd:ee:ff, AA-BB-…, aabbccddeeff */
	for (const gchar *p = mac; *p != '\0';) {
		gint hi;
		gint lo;
		if (*p == ':' || *p == '-' || *p == '.') {
			p++;
			continue;
		}
		hi = g_ascii_xdigit_value(p[0]);
		lo = p[1] != '\0' ? g_ascii_xdigit_value(p[1]) : -1;
		if (hi < 0 || lo < 0 || n >= 6)
			return NULL;
		b[n++] = (guint8)(hi << 4 | lo);
		p += 2;
	}
	if (n != 6)
		return NULL;
	return g_strdup_printf("mac:%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4],
			       b[5]);
}

gchar *
fleet_device_describe(FleetDevice *self, FleetProtocol protocol)
{
	const gchar *name;
	guint16 port;
	g_return_val_if_fail(FLEET_IS_DEVICE(self), NULL);
	name = self->name != NULL ? self->name : self->hostname != NULL ? self->hostname : self->id;
	port = protocol == FLEET_PROTOCOL_HTTP ? self->http_port : self->ota_port;
	if (self->address == NULL)
		return g_strdup(name);
	if (port == 0)
		return g_strdup_printf("%s (%s)", name, self->address);
	if (strchr(self->address, ':') != NULL)
		return g_strdup_printf("%s ([%s]:%u)", name, self->address, port);
	return g_strdup_printf("%s (%s:%u)", name, self->address, port);
}

static guint16
fleet_device_parse_port(const gchar *value)
{
	guint64 port = 0;
	if (value == NULL || !g_ascii_string_to_unsigned(value, 10, 1, 65535, &port, NULL))
		return 0;
	return (guint16)port;
}

void
fleet_device_apply_txt(FleetDevice *self, GHashTable *txt)
{
	const gchar *value;
	FleetProtocol protocols = self->protocols | FLEET_PROTOCOL_ESPOTA;

	g_return_if_fail(FLEET_IS_DEVICE(self));
	g_object_freeze_notify(G_OBJECT(self));
	value = g_hash_table_lookup(txt, "board");
	if (value != NULL)
		fleet_device_set_board(self, value);
	fleet_device_set_needs_password(self, fleet_txt_record_is_true(txt, "auth_upload"));
	value = g_hash_table_lookup(txt, "chip");
	if (value != NULL)
		fleet_device_set_chip(self, value);
	value = g_hash_table_lookup(txt, "fw_version");
	if (value != NULL)
		fleet_device_set_fw_version(self, value);
	value = g_hash_table_lookup(txt, "fw_sha256");
	if (value != NULL) {
		g_autofree gchar *lower = g_ascii_strdown(value, -1);
		fleet_device_set_fw_sha256(self, lower);
	}
	value = g_hash_table_lookup(txt, "mac");
	if (value != NULL)
		fleet_device_set_mac(self, value);
	value = g_hash_table_lookup(txt, "log_port");
	if (value != NULL)
		fleet_device_set_log_port(self, fleet_device_parse_port(value));
	value = g_hash_table_lookup(txt, "http_update");
	if (value != NULL && value[0] == '/') {
		fleet_device_set_http_path(self, value);
		protocols |= FLEET_PROTOCOL_HTTP;
	}
	value = g_hash_table_lookup(txt, "http_port");
	if (value != NULL && fleet_device_parse_port(value) != 0)
		fleet_device_set_http_port(self, fleet_device_parse_port(value));
	else if ((protocols & FLEET_PROTOCOL_HTTP) && self->http_port == 0)
		fleet_device_set_http_port(self, 80);
	fleet_device_set_protocols(self, protocols);
	g_object_thaw_notify(G_OBJECT(self));
}

static void
fleet_device_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	FleetDevice *self = FLEET_DEVICE(object);
	switch (prop_id) {
	case PROP_ID:
		g_value_set_string(value, self->id);
		break;
	case PROP_SOURCE:
		g_value_set_int(value, self->source);
		break;
	case PROP_NAME:
		g_value_set_string(value, self->name);
		break;
	case PROP_HOSTNAME:
		g_value_set_string(value, self->hostname);
		break;
	case PROP_ADDRESS:
		g_value_set_string(value, self->address);
		break;
	case PROP_HTTP_PATH:
		g_value_set_string(value, self->http_path);
		break;
	case PROP_BOARD:
		g_value_set_string(value, self->board);
		break;
	case PROP_CHIP:
		g_value_set_string(value, self->chip);
		break;
	case PROP_MAC:
		g_value_set_string(value, self->mac);
		break;
	case PROP_FW_VERSION:
		g_value_set_string(value, self->fw_version);
		break;
	case PROP_FW_SHA256:
		g_value_set_string(value, self->fw_sha256);
		break;
	case PROP_OTA_PORT:
		g_value_set_uint(value, self->ota_port);
		break;
	case PROP_HTTP_PORT:
		g_value_set_uint(value, self->http_port);
		break;
	case PROP_LOG_PORT:
		g_value_set_uint(value, self->log_port);
		break;
	case PROP_PROTOCOLS:
		g_value_set_uint(value, self->protocols);
		break;
	case PROP_NEEDS_PASSWORD:
		g_value_set_boolean(value, self->needs_password);
		break;
	case PROP_ONLINE:
		g_value_set_boolean(value, self->online);
		break;
	case PROP_LAST_SEEN:
		g_value_set_int64(value, self->last_seen);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
		break;
	}
}

static void
fleet_device_finalize(GObject *object)
{
	FleetDevice *self = FLEET_DEVICE(object);
	g_free(self->id);
	g_free(self->name);
	g_free(self->hostname);
	g_free(self->address);
	g_free(self->http_path);
	g_free(self->board);
	g_free(self->chip);
	g_free(self->mac);
	g_free(self->fw_version);
	g_free(self->fw_sha256);
	G_OBJECT_CLASS(fleet_device_parent_class)->finalize(object);
}

static void
fleet_device_class_init(FleetDeviceClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;
	object_class->get_property = fleet_device_get_property;
	object_class->finalize = fleet_device_finalize;

	props[PROP_ID] = g_param_spec_string("id", NULL, NULL, NULL, ro);
	props[PROP_SOURCE] = g_param_spec_int("source", NULL, NULL, 0, 1, 0, ro);
	props[PROP_NAME] = g_param_spec_string("name", NULL, NULL, NULL, ro);
	props[PROP_HOSTNAME] = g_param_spec_string("hostname", NULL, NULL, NULL, ro);
	props[PROP_ADDRESS] = g_param_spec_string("address", NULL, NULL, NULL, ro);
	props[PROP_HTTP_PATH] = g_param_spec_string("http-path", NULL, NULL, NULL, ro);
	props[PROP_BOARD] = g_param_spec_string("board", NULL, NULL, NULL, ro);
	props[PROP_CHIP] = g_param_spec_string("chip", NULL, NULL, NULL, ro);
	props[PROP_MAC] = g_param_spec_string("mac", NULL, NULL, NULL, ro);
	props[PROP_FW_VERSION] = g_param_spec_string("fw-version", NULL, NULL, NULL, ro);
	props[PROP_FW_SHA256] = g_param_spec_string("fw-sha256", NULL, NULL, NULL, ro);
	props[PROP_OTA_PORT] = g_param_spec_uint("ota-port", NULL, NULL, 0, 65535, 0, ro);
	props[PROP_HTTP_PORT] = g_param_spec_uint("http-port", NULL, NULL, 0, 65535, 0, ro);
	props[PROP_LOG_PORT] = g_param_spec_uint("log-port", NULL, NULL, 0, 65535, 0, ro);
	props[PROP_PROTOCOLS] = g_param_spec_uint("protocols", NULL, NULL, 0, G_MAXUINT, 0, ro);
	props[PROP_NEEDS_PASSWORD] = g_param_spec_boolean("needs-password", NULL, NULL, FALSE, ro);
	props[PROP_ONLINE] = g_param_spec_boolean("online", NULL, NULL, FALSE, ro);
	props[PROP_LAST_SEEN] = g_param_spec_int64("last-seen", NULL, NULL, 0, G_MAXINT64, 0, ro);
	g_object_class_install_properties(object_class, N_PROPS, props);
}

static void
fleet_device_init(FleetDevice *self)
{
}

FleetDevice *
fleet_device_new(const gchar *id, FleetDeviceSource source)
{
	FleetDevice *self;
	g_return_val_if_fail(id != NULL, NULL);
	self = g_object_new(FLEET_TYPE_DEVICE, NULL);
	self->id = g_strdup(id);
	self->source = source;
	return self;
}
