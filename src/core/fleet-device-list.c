/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-device-list.c - every known device, one entry per identity, as a GListModel */

#include "config.h"

#include <string.h>

#include "fleet-device-list.h"

struct _FleetDeviceList {
	GObject parent_instance;
	GPtrArray *devices; /* insertion order, so rows never jump */
	GHashTable *by_id;  /* id → FleetDevice (borrowed from devices) */
};

static void
fleet_device_list_model_init(GListModelInterface *iface);

G_DEFINE_TYPE_WITH_CODE(FleetDeviceList,
			fleet_device_list,
			G_TYPE_OBJECT,
			G_IMPLEMENT_INTERFACE(G_TYPE_LIST_MODEL, fleet_device_list_model_init))

static GType
fleet_device_list_get_item_type(GListModel *model)
{
	return FLEET_TYPE_DEVICE;
}

static guint
fleet_device_list_get_n_items(GListModel *model)
{
	return FLEET_DEVICE_LIST(model)->devices->len;
}

static gpointer
fleet_device_list_get_item(GListModel *model, guint position)
{
	FleetDeviceList *self = FLEET_DEVICE_LIST(model);
	if (position >= self->devices->len)
		return NULL;
	return g_object_ref(g_ptr_array_index(self->devices, position));
}

static void
fleet_device_list_model_init(GListModelInterface *iface)
{
	iface->get_item_type = fleet_device_list_get_item_type;
	iface->get_n_items = fleet_device_list_get_n_items;
	iface->get_item = fleet_device_list_get_item;
}

FleetDevice *
fleet_device_list_lookup(FleetDeviceList *self, const gchar *id)
{
	g_return_val_if_fail(FLEET_IS_DEVICE_LIST(self), NULL);
	if (id == NULL)
		return NULL;
	return g_hash_table_lookup(self->by_id, id);
}

static gboolean
fleet_device_list_hostname_matches(const gchar *hostname, const gchar *what)
{
	gsize n;
	if (hostname == NULL)
		return FALSE;
	if (g_ascii_strcasecmp(hostname, what) == 0)
		return TRUE;
	/* "esp-lab-1" matches "esp-lab-1.local" */
	n = strlen(what);
	return g_ascii_strncasecmp(hostname, what, n) == 0 && g_ascii_strcasecmp(hostname + n, ".local") == 0;
}

FleetDevice *
fleet_device_list_find(FleetDeviceList *self, const gchar *what)
{
	g_return_val_if_fail(FLEET_IS_DEVICE_LIST(self), NULL);
	g_return_val_if_fail(what != NULL, NULL);
	for (guint i = 0; i < self->devices->len; i++) {
		FleetDevice *device = g_ptr_array_index(self->devices, i);
		if (g_strcmp0(fleet_device_get_id(device), what) == 0 ||
		    g_strcmp0(fleet_device_get_name(device), what) == 0 ||
		    g_strcmp0(fleet_device_get_address(device), what) == 0 ||
		    fleet_device_list_hostname_matches(fleet_device_get_hostname(device), what))
			return device;
	}
	return NULL;
}

FleetDevice *
fleet_device_list_add(FleetDeviceList *self, FleetDevice *device)
{
	FleetDevice *existing;
	g_return_val_if_fail(FLEET_IS_DEVICE_LIST(self), NULL);
	g_return_val_if_fail(FLEET_IS_DEVICE(device), NULL);
	existing = g_hash_table_lookup(self->by_id, fleet_device_get_id(device));
	if (existing != NULL)
		return existing;
	g_ptr_array_add(self->devices, g_object_ref(device));
	g_hash_table_insert(self->by_id, g_strdup(fleet_device_get_id(device)), device);
	g_list_model_items_changed(G_LIST_MODEL(self), self->devices->len - 1, 0, 1);
	return device;
}

gboolean
fleet_device_list_remove(FleetDeviceList *self, FleetDevice *device)
{
	guint idx = 0;
	g_return_val_if_fail(FLEET_IS_DEVICE_LIST(self), FALSE);
	g_return_val_if_fail(FLEET_IS_DEVICE(device), FALSE);
	if (!g_ptr_array_find(self->devices, device, &idx))
		return FALSE;
	g_hash_table_remove(self->by_id, fleet_device_get_id(device));
	g_ptr_array_remove_index(self->devices, idx);
	g_list_model_items_changed(G_LIST_MODEL(self), idx, 1, 0);
	return TRUE;
}

FleetDevice *
fleet_device_list_rekey(FleetDeviceList *self, FleetDevice *device, const gchar *new_id)
{
	FleetDevice *other;
	g_return_val_if_fail(FLEET_IS_DEVICE_LIST(self), NULL);
	g_return_val_if_fail(FLEET_IS_DEVICE(device), NULL);
	g_return_val_if_fail(new_id != NULL, NULL);

	if (g_strcmp0(fleet_device_get_id(device), new_id) == 0)
		return device;
	other = g_hash_table_lookup(self->by_id, new_id);
	if (other != NULL && other != device) {
		/* the same module under two names: keep the older row */
		fleet_device_list_remove(self, device);
		return other;
	}
	g_hash_table_remove(self->by_id, fleet_device_get_id(device));
	fleet_device_set_id(device, new_id);
	g_hash_table_insert(self->by_id, g_strdup(new_id), device);
	return device;
}

static void
fleet_device_list_finalize(GObject *object)
{
	FleetDeviceList *self = FLEET_DEVICE_LIST(object);
	g_hash_table_unref(self->by_id);
	g_ptr_array_unref(self->devices);
	G_OBJECT_CLASS(fleet_device_list_parent_class)->finalize(object);
}

static void
fleet_device_list_class_init(FleetDeviceListClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = fleet_device_list_finalize;
}

static void
fleet_device_list_init(FleetDeviceList *self)
{
	self->devices = g_ptr_array_new_with_free_func(g_object_unref);
	self->by_id = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

FleetDeviceList *
fleet_device_list_new(void)
{
	return g_object_new(FLEET_TYPE_DEVICE_LIST, NULL);
}
