/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-device-store.c - the rows of the device list: one FleetDeviceItem per device of the
 * engine's FleetDeviceList, in a stable order (name, then id)
 *
 * GTK-free. The order depends only on the name (natural order: "esp-2" before "esp-10")
 * and the id, never on online state, progress or results, so rows do not move while a
 * technician clicks. A device that is renamed while a batch runs keeps its place until
 * the batch ends.
 */

#include "config.h"

#include "fleet-device-store.h"

/* "changed" is emitted at most this often */
#define FLEET_DEVICE_STORE_CHANGED_MS 100

typedef struct {
	FleetDeviceItem *item;
	gchar *key; /* collation key of the display name */
} FleetStoreEntry;

struct _FleetDeviceStore {
	GObject parent_instance;
	FleetDeviceList *devices;
	GPtrArray *entries;    /* FleetStoreEntry, sorted */
	GHashTable *by_device; /* FleetDevice* → FleetStoreEntry* (borrowed) */
	FleetImage *image;
	gboolean force;
	gboolean frozen;
	gboolean resort_pending;
	guint changed_id;
};

static void fleet_device_store_model_init(GListModelInterface *iface);

G_DEFINE_TYPE_WITH_CODE(FleetDeviceStore,
			fleet_device_store,
			G_TYPE_OBJECT,
			G_IMPLEMENT_INTERFACE(G_TYPE_LIST_MODEL, fleet_device_store_model_init))

enum { SIGNAL_CHANGED, N_SIGNALS };

static guint signals[N_SIGNALS];

static GType
fleet_device_store_get_item_type(GListModel *model)
{
	return FLEET_TYPE_DEVICE_ITEM;
}

static guint
fleet_device_store_get_n_items(GListModel *model)
{
	return FLEET_DEVICE_STORE(model)->entries->len;
}

static gpointer
fleet_device_store_get_item(GListModel *model, guint position)
{
	FleetDeviceStore *self = FLEET_DEVICE_STORE(model);
	FleetStoreEntry *entry;
	if (position >= self->entries->len)
		return NULL;
	entry = g_ptr_array_index(self->entries, position);
	return g_object_ref(entry->item);
}

static void
fleet_device_store_model_init(GListModelInterface *iface)
{
	iface->get_item_type = fleet_device_store_get_item_type;
	iface->get_n_items = fleet_device_store_get_n_items;
	iface->get_item = fleet_device_store_get_item;
}

static gboolean
fleet_device_store_changed_cb(gpointer user_data)
{
	FleetDeviceStore *self = FLEET_DEVICE_STORE(user_data);
	self->changed_id = 0;
	g_signal_emit(self, signals[SIGNAL_CHANGED], 0);
	return G_SOURCE_REMOVE;
}

/* many items change at once during a batch: tell the listeners once per interval */
static void
fleet_device_store_queue_changed(FleetDeviceStore *self)
{
	if (self->changed_id == 0)
		self->changed_id = g_timeout_add(FLEET_DEVICE_STORE_CHANGED_MS,
						 fleet_device_store_changed_cb, self);
}

static void
fleet_store_entry_free(FleetStoreEntry *entry)
{
	g_object_unref(entry->item);
	g_free(entry->key);
	g_free(entry);
}

static gchar *
fleet_device_store_sort_key(FleetDeviceItem *item)
{
	g_autofree gchar *folded = g_utf8_casefold(fleet_device_item_get_display_name(item), -1);
	return g_utf8_collate_key_for_filename(folded, -1);
}

static gint
fleet_device_store_compare(const FleetStoreEntry *a, const FleetStoreEntry *b)
{
	gint rc = g_strcmp0(a->key, b->key);
	if (rc != 0)
		return rc;
	return g_strcmp0(fleet_device_get_id(fleet_device_item_get_device(a->item)),
			 fleet_device_get_id(fleet_device_item_get_device(b->item)));
}

/* the position @entry belongs at among the others (binary search) */
static guint
fleet_device_store_position_for(FleetDeviceStore *self, FleetStoreEntry *entry)
{
	guint lo = 0;
	guint hi = self->entries->len;
	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;
		if (fleet_device_store_compare(g_ptr_array_index(self->entries, mid), entry) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static gboolean
fleet_device_store_find(FleetDeviceStore *self, FleetStoreEntry *entry, guint *position)
{
	return g_ptr_array_find(self->entries, entry, position);
}

static void
fleet_device_store_insert_entry(FleetDeviceStore *self, FleetStoreEntry *entry)
{
	guint position = fleet_device_store_position_for(self, entry);
	g_ptr_array_insert(self->entries, (gint)position, entry);
	g_list_model_items_changed(G_LIST_MODEL(self), position, 0, 1);
}

/* put an entry whose key changed where it now belongs */
static void
fleet_device_store_reposition(FleetDeviceStore *self, FleetStoreEntry *entry)
{
	guint position;
	gboolean before_ok;
	gboolean after_ok;

	if (!fleet_device_store_find(self, entry, &position))
		return;
	before_ok = position == 0 || fleet_device_store_compare(
					 g_ptr_array_index(self->entries, position - 1), entry) < 0;
	after_ok =
	    position + 1 >= self->entries->len ||
	    fleet_device_store_compare(entry, g_ptr_array_index(self->entries, position + 1)) < 0;
	if (before_ok && after_ok)
		return;
	g_ptr_array_remove_index(self->entries, position);
	g_list_model_items_changed(G_LIST_MODEL(self), position, 1, 0);
	fleet_device_store_insert_entry(self, entry);
}

static void
fleet_device_store_resort(FleetDeviceStore *self)
{
	g_autoptr(GPtrArray) entries = g_ptr_array_copy(self->entries, NULL, NULL);
	for (guint i = 0; i < entries->len; i++)
		fleet_device_store_reposition(self, g_ptr_array_index(entries, i));
}

static void
fleet_device_store_name_cb(FleetDevice *device, GParamSpec *pspec, gpointer user_data)
{
	FleetDeviceStore *self = FLEET_DEVICE_STORE(user_data);
	FleetStoreEntry *entry = g_hash_table_lookup(self->by_device, device);
	g_autofree gchar *key = NULL;

	if (entry == NULL)
		return;
	key = fleet_device_store_sort_key(entry->item);
	if (g_strcmp0(key, entry->key) == 0)
		return;
	g_free(entry->key);
	entry->key = g_steal_pointer(&key);
	if (self->frozen) {
		self->resort_pending = TRUE;
		return;
	}
	fleet_device_store_reposition(self, entry);
}

static void
fleet_device_store_item_changed_cb(FleetDeviceItem *item, gpointer user_data)
{
	fleet_device_store_queue_changed(FLEET_DEVICE_STORE(user_data));
}

static void
fleet_device_store_add_device(FleetDeviceStore *self, FleetDevice *device)
{
	FleetStoreEntry *entry = g_new0(FleetStoreEntry, 1);

	entry->item = fleet_device_item_new(device);
	entry->key = fleet_device_store_sort_key(entry->item);
	fleet_device_item_set_image(entry->item, self->image);
	/* devices found while an image is chosen start unticked: nobody chose them yet */
	g_hash_table_insert(self->by_device, device, entry);
	g_signal_connect_object(device, "notify::name", G_CALLBACK(fleet_device_store_name_cb),
				self, 0);
	g_signal_connect_object(device, "notify::hostname", G_CALLBACK(fleet_device_store_name_cb),
				self, 0);
	g_signal_connect_object(entry->item, "changed",
				G_CALLBACK(fleet_device_store_item_changed_cb), self, 0);
	fleet_device_store_insert_entry(self, entry);
}

static void
fleet_device_store_remove_entry(FleetDeviceStore *self, FleetStoreEntry *entry)
{
	FleetDevice *device = fleet_device_item_get_device(entry->item);
	guint position;

	g_signal_handlers_disconnect_by_data(device, self);
	g_signal_handlers_disconnect_by_data(entry->item, self);
	g_hash_table_remove(self->by_device, device);
	if (fleet_device_store_find(self, entry, &position)) {
		g_ptr_array_remove_index(self->entries, position);
		g_list_model_items_changed(G_LIST_MODEL(self), position, 1, 0);
	}
	fleet_store_entry_free(entry);
}

/* follow the engine's list: its order is insertion order, ours is by name */
static void
fleet_device_store_devices_changed_cb(
    GListModel *devices, guint position, guint removed, guint added, gpointer user_data)
{
	FleetDeviceStore *self = FLEET_DEVICE_STORE(user_data);
	guint n = g_list_model_get_n_items(devices);

	if (removed > 0) {
		g_autoptr(GHashTable) present = g_hash_table_new(NULL, NULL);
		g_autoptr(GPtrArray) gone = g_ptr_array_new();
		GHashTableIter iter;
		gpointer key;
		gpointer value;

		for (guint i = 0; i < n; i++) {
			g_autoptr(FleetDevice) device = g_list_model_get_item(devices, i);
			g_hash_table_add(present, device);
		}
		g_hash_table_iter_init(&iter, self->by_device);
		while (g_hash_table_iter_next(&iter, &key, &value)) {
			if (!g_hash_table_contains(present, key))
				g_ptr_array_add(gone, value);
		}
		for (guint i = 0; i < gone->len; i++)
			fleet_device_store_remove_entry(self, g_ptr_array_index(gone, i));
	}
	for (guint i = position; i < position + added && i < n; i++) {
		g_autoptr(FleetDevice) device = g_list_model_get_item(devices, i);
		if (!g_hash_table_contains(self->by_device, device))
			fleet_device_store_add_device(self, device);
	}
	fleet_device_store_queue_changed(self);
}

static void
fleet_device_store_dispose(GObject *object)
{
	FleetDeviceStore *self = FLEET_DEVICE_STORE(object);

	g_clear_handle_id(&self->changed_id, g_source_remove);
	if (self->devices != NULL)
		g_signal_handlers_disconnect_by_data(self->devices, self);
	while (self->entries->len > 0)
		fleet_device_store_remove_entry(self, g_ptr_array_index(self->entries, 0));
	g_clear_object(&self->devices);
	g_clear_object(&self->image);
	G_OBJECT_CLASS(fleet_device_store_parent_class)->dispose(object);
}

static void
fleet_device_store_finalize(GObject *object)
{
	FleetDeviceStore *self = FLEET_DEVICE_STORE(object);
	g_ptr_array_unref(self->entries);
	g_hash_table_unref(self->by_device);
	G_OBJECT_CLASS(fleet_device_store_parent_class)->finalize(object);
}

static void
fleet_device_store_class_init(FleetDeviceStoreClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = fleet_device_store_dispose;
	object_class->finalize = fleet_device_store_finalize;

	/* some item, the set of items or the ticks changed; coalesced */
	signals[SIGNAL_CHANGED] =
	    g_signal_new("changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
			 NULL, G_TYPE_NONE, 0);
}

static void
fleet_device_store_init(FleetDeviceStore *self)
{
	self->entries = g_ptr_array_new();
	self->by_device = g_hash_table_new(NULL, NULL);
}

FleetDeviceItem *
fleet_device_store_lookup_device(FleetDeviceStore *self, FleetDevice *device)
{
	FleetStoreEntry *entry;
	g_return_val_if_fail(FLEET_IS_DEVICE_STORE(self), NULL);
	entry = g_hash_table_lookup(self->by_device, device);
	return entry != NULL ? entry->item : NULL;
}

FleetDeviceItem *
fleet_device_store_lookup(FleetDeviceStore *self, const gchar *device_id)
{
	FleetDevice *device;
	g_return_val_if_fail(FLEET_IS_DEVICE_STORE(self), NULL);
	g_return_val_if_fail(device_id != NULL, NULL);
	device = fleet_device_list_lookup(self->devices, device_id);
	return device != NULL ? fleet_device_store_lookup_device(self, device) : NULL;
}

gboolean
fleet_device_store_can_check(FleetDeviceStore *self, FleetDeviceItem *item)
{
	g_return_val_if_fail(FLEET_IS_DEVICE_STORE(self), FALSE);
	g_return_val_if_fail(FLEET_IS_DEVICE_ITEM(item), FALSE);
	return self->force || !fleet_device_item_has_verdict(item) ||
	       fleet_device_item_get_verdict(item) != FLEET_COMPAT_REFUSE;
}

static void
fleet_device_store_uncheck_refused(FleetDeviceStore *self)
{
	for (guint i = 0; i < self->entries->len; i++) {
		FleetStoreEntry *entry = g_ptr_array_index(self->entries, i);
		if (!fleet_device_store_can_check(self, entry->item))
			fleet_device_item_set_checked(entry->item, FALSE);
	}
}

void
fleet_device_store_set_image(FleetDeviceStore *self, FleetImage *image)
{
	g_return_if_fail(FLEET_IS_DEVICE_STORE(self));
	g_return_if_fail(image == NULL || FLEET_IS_IMAGE(image));

	g_set_object(&self->image, image);
	for (guint i = 0; i < self->entries->len; i++) {
		FleetStoreEntry *entry = g_ptr_array_index(self->entries, i);
		fleet_device_item_set_image(entry->item, image);
	}
	fleet_device_store_uncheck_refused(self);
	fleet_device_store_queue_changed(self);
}

FleetImage *
fleet_device_store_get_image(FleetDeviceStore *self)
{
	g_return_val_if_fail(FLEET_IS_DEVICE_STORE(self), NULL);
	return self->image;
}

void
fleet_device_store_set_force(FleetDeviceStore *self, gboolean force)
{
	g_return_if_fail(FLEET_IS_DEVICE_STORE(self));
	self->force = !!force;
	if (!self->force)
		fleet_device_store_uncheck_refused(self);
	/* the rows' check boxes change sensitivity either way */
	for (guint i = 0; i < self->entries->len; i++) {
		FleetStoreEntry *entry = g_ptr_array_index(self->entries, i);
		g_signal_emit_by_name(entry->item, "changed");
	}
}

gboolean
fleet_device_store_get_force(FleetDeviceStore *self)
{
	g_return_val_if_fail(FLEET_IS_DEVICE_STORE(self), FALSE);
	return self->force;
}

void
fleet_device_store_set_frozen(FleetDeviceStore *self, gboolean frozen)
{
	g_return_if_fail(FLEET_IS_DEVICE_STORE(self));
	self->frozen = !!frozen;
	if (!self->frozen && self->resort_pending) {
		self->resort_pending = FALSE;
		fleet_device_store_resort(self);
	}
}

GPtrArray *
fleet_device_store_get_checked(FleetDeviceStore *self)
{
	GPtrArray *checked;
	g_return_val_if_fail(FLEET_IS_DEVICE_STORE(self), NULL);
	checked = g_ptr_array_new();
	for (guint i = 0; i < self->entries->len; i++) {
		FleetStoreEntry *entry = g_ptr_array_index(self->entries, i);
		if (fleet_device_item_get_checked(entry->item))
			g_ptr_array_add(checked, entry->item);
	}
	return checked;
}

guint
fleet_device_store_count_checked(FleetDeviceStore *self)
{
	guint n = 0;
	g_return_val_if_fail(FLEET_IS_DEVICE_STORE(self), 0);
	for (guint i = 0; i < self->entries->len; i++) {
		FleetStoreEntry *entry = g_ptr_array_index(self->entries, i);
		if (fleet_device_item_get_checked(entry->item))
			n++;
	}
	return n;
}

FleetDeviceStore *
fleet_device_store_new(FleetDeviceList *devices)
{
	FleetDeviceStore *self;
	guint n;

	g_return_val_if_fail(FLEET_IS_DEVICE_LIST(devices), NULL);
	self = g_object_new(FLEET_TYPE_DEVICE_STORE, NULL);
	self->devices = g_object_ref(devices);
	n = g_list_model_get_n_items(G_LIST_MODEL(devices));
	for (guint i = 0; i < n; i++) {
		g_autoptr(FleetDevice) device = g_list_model_get_item(G_LIST_MODEL(devices), i);
		fleet_device_store_add_device(self, device);
	}
	g_signal_connect_object(devices, "items-changed",
				G_CALLBACK(fleet_device_store_devices_changed_cb), self, 0);
	return self;
}
