/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-device-info.c - what a device says about itself in its GET /info JSON */

#include "config.h"

#include "fleet-device-info.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "fleet-error.h"
#include "fleet-text.h"

/* upper bounds that no real ESP value reaches; larger numbers are treated as unknown */
#define INFO_BYTES_MAX ((gint64)G_MAXUINT32)
#define INFO_UPTIME_MAX ((gint64)100 * 366 * 24 * 3600)
#define INFO_COUNT_MAX ((gint64)G_MAXUINT32)
#define INFO_SLOT_NUMBER_MAX 15

G_DEFINE_BOXED_TYPE(FleetDeviceInfo,
		    fleet_device_info,
		    fleet_device_info_copy,
		    fleet_device_info_free)

static FleetDeviceInfo *
fleet_device_info_new(void)
{
	FleetDeviceInfo *info = g_new0(FleetDeviceInfo, 1);
	info->slot_size = -1;
	info->free_space = -1;
	info->uptime = -1;
	info->boot_count = -1;
	return info;
}

FleetDeviceInfo *
fleet_device_info_copy(const FleetDeviceInfo *info)
{
	FleetDeviceInfo *copy;
	g_return_val_if_fail(info != NULL, NULL);
	copy = g_new0(FleetDeviceInfo, 1);
	*copy = *info;
	copy->name = g_strdup(info->name);
	copy->mac = g_strdup(info->mac);
	copy->chip = g_strdup(info->chip);
	copy->board = g_strdup(info->board);
	copy->project = g_strdup(info->project);
	copy->version = g_strdup(info->version);
	copy->fw_sha256 = g_strdup(info->fw_sha256);
	copy->running_slot = g_strdup(info->running_slot);
	copy->running_state = g_strdup(info->running_state);
	copy->last_update = g_strdup(info->last_update);
	return copy;
}

void
fleet_device_info_free(FleetDeviceInfo *info)
{
	if (info == NULL)
		return;
	g_free(info->name);
	g_free(info->mac);
	g_free(info->chip);
	g_free(info->board);
	g_free(info->project);
	g_free(info->version);
	g_free(info->fw_sha256);
	g_free(info->running_slot);
	g_free(info->running_state);
	g_free(info->last_update);
	g_free(info);
}

/* json-glib's parser recurses once per level: refuse deep nesting before it runs */
static gboolean
info_nesting_ok(const gchar *data, gsize len)
{
	guint depth = 0;
	gboolean in_string = FALSE;
	for (gsize i = 0; i < len; i++) {
		gchar c = data[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = FALSE;
			continue;
		}
		if (c == '"') {
			in_string = TRUE;
		} else if (c == '[' || c == '{') {
			if (++depth > FLEET_DEVICE_INFO_DEPTH_MAX)
				return FALSE;
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	return TRUE;
}

/* a string member, sanitized; NULL when absent, of another type or empty */
static gchar *
info_get_text(JsonObject *obj, const gchar *key, gsize max_chars)
{
	JsonNode *node = json_object_get_member(obj, key);
	g_autofree gchar *value = NULL;

	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
	    json_node_get_value_type(node) != G_TYPE_STRING)
		return NULL;
	/* strip before sanitizing: a tab would otherwise survive as a visible escape */
	value = g_strstrip(g_strdup(json_node_get_string(node)));
	if (value[0] == '\0')
		return NULL;
	return fleet_text_sanitize(value, -1, max_chars);
}

/* a whole number in [0, max]; -1 when absent, fractional, negative or too large */
static gint64
info_get_count(JsonObject *obj, const gchar *key, gint64 max)
{
	JsonNode *node = json_object_get_member(obj, key);
	GType type;

	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node))
		return -1;
	type = json_node_get_value_type(node);
	if (type == G_TYPE_INT64) {
		gint64 v = json_node_get_int(node);
		return v >= 0 && v <= max ? v : -1;
	}
	if (type == G_TYPE_DOUBLE) {
		gdouble v = json_node_get_double(node);
		/* in range first, so that the cast is defined; then whole */
		if (isfinite(v) && v >= 0 && v <= (gdouble)max && (gdouble)(gint64)v == v)
			return (gint64)v;
	}
	return -1;
}

static gchar *
info_get_sha256(JsonObject *obj)
{
	g_autofree gchar *text = info_get_text(obj, "fw_sha256", 64);
	gsize len;
	if (text == NULL)
		return NULL;
	len = strlen(text);
	if (len < 8 || len > 64)
		return NULL;
	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_isxdigit(text[i]))
			return NULL;
	}
	return g_ascii_strdown(text, -1);
}

static gchar *
info_get_mac(JsonObject *obj)
{
	g_autofree gchar *text = info_get_text(obj, "mac", 32);
	g_autofree gchar *id = text != NULL ? fleet_device_id_for_mac(text) : NULL;
	/* "mac:aa:bb:…" */
	return id != NULL ? g_strdup(id + 4) : NULL;
}

static gchar *
info_get_slot(JsonObject *obj)
{
	gint64 number = info_get_count(obj, "running_slot", INFO_SLOT_NUMBER_MAX);
	if (number >= 0)
		return g_strdup_printf("ota_%" G_GINT64_FORMAT, number);
	return info_get_text(obj, "running_slot", 16);
}

FleetDeviceInfo *
fleet_device_info_new_from_data(const gchar *data, gsize len, GError **error)
{
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(GError) parse_error = NULL;
	FleetDeviceInfo *info;
	JsonNode *root;
	JsonObject *obj;

	g_return_val_if_fail(data != NULL || len == 0, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (len > FLEET_DEVICE_INFO_SIZE_MAX) {
		g_set_error(error, FLEET_ERROR, FLEET_ERROR_INVALID_DATA,
			    _("The device information is %lu bytes long; at most %u are accepted"),
			    (gulong)len, FLEET_DEVICE_INFO_SIZE_MAX);
		return NULL;
	}
	if (len == 0 || !g_utf8_validate_len(data, len, NULL) || !info_nesting_ok(data, len)) {
		g_set_error_literal(error, FLEET_ERROR, FLEET_ERROR_INVALID_DATA,
				    _("The device information is not a JSON document"));
		return NULL;
	}
	parser = json_parser_new_immutable();
	if (!json_parser_load_from_data(parser, data, (gssize)len, &parse_error)) {
		g_autofree gchar *why = fleet_text_sanitize(parse_error->message, -1, 120);
		g_set_error(error, FLEET_ERROR, FLEET_ERROR_INVALID_DATA,
			    _("The device information is not valid JSON: %s"), why);
		return NULL;
	}
	root = json_parser_get_root(parser);
	if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
		g_set_error_literal(error, FLEET_ERROR, FLEET_ERROR_INVALID_DATA,
				    _("The device information is not a JSON object"));
		return NULL;
	}
	obj = json_node_get_object(root);
	info = fleet_device_info_new();
	info->name = info_get_text(obj, "name", FLEET_DEVICE_INFO_TEXT_MAX);
	info->mac = info_get_mac(obj);
	info->chip = info_get_text(obj, "chip", FLEET_DEVICE_INFO_TEXT_MAX);
	info->board = info_get_text(obj, "board", FLEET_DEVICE_INFO_TEXT_MAX);
	info->project = info_get_text(obj, "project", FLEET_DEVICE_INFO_TEXT_MAX);
	info->version = info_get_text(obj, "version", FLEET_DEVICE_INFO_TEXT_MAX);
	info->fw_sha256 = info_get_sha256(obj);
	info->running_slot = info_get_slot(obj);
	info->running_state = info_get_text(obj, "running_state", 24);
	info->slot_size = info_get_count(obj, "slot_size", INFO_BYTES_MAX);
	info->free_space = info_get_count(obj, "free_space", INFO_BYTES_MAX);
	info->uptime = info_get_count(obj, "uptime", INFO_UPTIME_MAX);
	info->boot_count = info_get_count(obj, "boot_count", INFO_COUNT_MAX);
	info->last_update = info_get_text(obj, "last_update", FLEET_DEVICE_INFO_RESULT_MAX);
	return info;
}

void
fleet_device_info_apply(const FleetDeviceInfo *info, FleetDevice *device)
{
	g_return_if_fail(info != NULL);
	g_return_if_fail(FLEET_IS_DEVICE(device));

	/* one batch of notifications, as fleet_device_apply_txt() does: a job that checks the
	 * device on every notify must not see the new version beside the old SHA-256 */
	g_object_freeze_notify(G_OBJECT(device));
	if (info->name != NULL && fleet_device_get_name(device) == NULL)
		fleet_device_set_name(device, info->name);
	if (info->chip != NULL)
		fleet_device_set_chip(device, info->chip);
	if (info->board != NULL)
		fleet_device_set_board(device, info->board);
	if (info->mac != NULL)
		fleet_device_set_mac(device, info->mac);
	if (info->version != NULL)
		fleet_device_set_fw_version(device, info->version);
	if (info->fw_sha256 != NULL)
		fleet_device_set_fw_sha256(device, info->fw_sha256);
	g_object_thaw_notify(G_OBJECT(device));
}
