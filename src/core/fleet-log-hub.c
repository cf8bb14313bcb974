/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-log-hub.c - every log line of every source: rings per device, batches for views */

#include "config.h"

#include "fleet-log-hub.h"

#include <string.h>

#include "fleet-log-source-tcp.h"

struct _FleetLogHub {
	GObject parent_instance;
	guint ring_lines;
	guint batch_ms;
	guint64 seq;
	guint64 n_lines;
	GHashTable *buffers;	     /* device id → FleetLogBuffer */
	GPtrArray *order;	     /* device ids in order of their first line */
	GListStore *sources;	     /* FleetLogSource */
	GHashTable *source_handlers; /* FleetLogSource → handler id */
	GPtrArray *secrets;
	GPtrArray *pending; /* lines of the next ::lines-added */
	guint batch_id;

	FleetDeviceList *devices;
	gboolean follow;
	gulong devices_changed_id;
	GHashTable *followed; /* FleetDevice → FleetLogSourceTcp */
};

G_DEFINE_TYPE(FleetLogHub, fleet_log_hub, G_TYPE_OBJECT)

enum { PROP_0, PROP_RING_LINES, N_PROPS };
static GParamSpec *props[N_PROPS];

enum { SIGNAL_LINES_ADDED, SIGNAL_DEVICE_ADDED, SIGNAL_CLEARED, N_SIGNALS };
static guint signals[N_SIGNALS];

guint
fleet_log_hub_get_ring_lines(FleetLogHub *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_HUB(self), 0);
	return self->ring_lines;
}

void
fleet_log_hub_set_ring_lines(FleetLogHub *self, guint lines)
{
	GHashTableIter iter;
	gpointer value;

	g_return_if_fail(FLEET_IS_LOG_HUB(self));
	lines = CLAMP(lines, FLEET_LOG_BUFFER_CAPACITY_MIN, FLEET_LOG_BUFFER_CAPACITY_MAX);
	if (lines == self->ring_lines)
		return;
	self->ring_lines = lines;
	g_hash_table_iter_init(&iter, self->buffers);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		fleet_log_buffer_set_capacity(FLEET_LOG_BUFFER(value), lines);
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_RING_LINES]);
}

void
fleet_log_hub_set_batch_interval(FleetLogHub *self, guint ms)
{
	g_return_if_fail(FLEET_IS_LOG_HUB(self));
	self->batch_ms = ms;
}

void
fleet_log_hub_add_secret(FleetLogHub *self, const gchar *secret)
{
	g_return_if_fail(FLEET_IS_LOG_HUB(self));
	if (secret == NULL || secret[0] == '\0')
		return;
	for (guint i = 0; i < self->secrets->len; i++) {
		if (g_strcmp0(g_ptr_array_index(self->secrets, i), secret) == 0)
			return;
	}
	g_ptr_array_add(self->secrets, g_strdup(secret));
}

static gboolean
fleet_log_hub_batch_cb(gpointer user_data)
{
	FleetLogHub *self = FLEET_LOG_HUB(user_data);
	self->batch_id = 0;
	fleet_log_hub_flush(self);
	return G_SOURCE_REMOVE;
}

void
fleet_log_hub_flush(FleetLogHub *self)
{
	g_autoptr(GPtrArray) batch = NULL;
	g_return_if_fail(FLEET_IS_LOG_HUB(self));
	g_clear_handle_id(&self->batch_id, g_source_remove);
	if (self->pending->len == 0)
		return;
	batch = g_steal_pointer(&self->pending);
	self->pending = g_ptr_array_new_with_free_func((GDestroyNotify)fleet_log_line_unref);
	g_signal_emit(self, signals[SIGNAL_LINES_ADDED], 0, batch);
}

static FleetLogBuffer *
fleet_log_hub_ensure_buffer(FleetLogHub *self, const gchar *device_id)
{
	FleetLogBuffer *buffer = g_hash_table_lookup(self->buffers, device_id);
	if (buffer != NULL)
		return buffer;
	buffer = fleet_log_buffer_new(device_id, self->ring_lines);
	g_hash_table_insert(self->buffers, g_strdup(device_id), buffer);
	g_ptr_array_add(self->order, g_strdup(device_id));
	g_signal_emit(self, signals[SIGNAL_DEVICE_ADDED], 0, device_id);
	return buffer;
}

void
fleet_log_hub_ingest(FleetLogHub *self, GPtrArray *lines)
{
	g_return_if_fail(FLEET_IS_LOG_HUB(self));
	g_return_if_fail(lines != NULL);

	for (guint i = 0; i < lines->len; i++) {
		g_autoptr(FleetLogLine) line = fleet_log_line_ref(g_ptr_array_index(lines, i));
		FleetLogBuffer *buffer;
		if (self->secrets->len > 0) {
			FleetLogLine *masked = fleet_log_line_dup_redacted(line, self->secrets);
			if (masked != NULL) {
				fleet_log_line_unref(line);
				line = masked;
			}
		}
		fleet_log_line_set_seq(line, ++self->seq);
		buffer = fleet_log_hub_ensure_buffer(self, fleet_log_line_get_device_id(line));
		fleet_log_buffer_append(buffer, line);
		g_ptr_array_add(self->pending, g_steal_pointer(&line));
		self->n_lines++;
	}
	if (self->pending->len == 0)
		return;
	if (self->batch_ms == 0)
		fleet_log_hub_flush(self);
	else if (self->batch_id == 0)
		self->batch_id = g_timeout_add(self->batch_ms, fleet_log_hub_batch_cb, self);
}

static void
fleet_log_hub_source_lines_cb(FleetLogSource *source, GPtrArray *lines, gpointer user_data)
{
	fleet_log_hub_ingest(FLEET_LOG_HUB(user_data), lines);
}

void
fleet_log_hub_add_source(FleetLogHub *self, FleetLogSource *source)
{
	gulong id;
	g_return_if_fail(FLEET_IS_LOG_HUB(self));
	g_return_if_fail(FLEET_IS_LOG_SOURCE(source));
	if (g_hash_table_contains(self->source_handlers, source))
		return;
	id = g_signal_connect(source, "lines", G_CALLBACK(fleet_log_hub_source_lines_cb), self);
	g_hash_table_insert(self->source_handlers, g_object_ref(source), GSIZE_TO_POINTER(id));
	g_list_store_append(self->sources, source);
	fleet_log_source_start(source);
}

void
fleet_log_hub_remove_source(FleetLogHub *self, FleetLogSource *source)
{
	gpointer id;
	guint position;
	g_return_if_fail(FLEET_IS_LOG_HUB(self));
	g_return_if_fail(FLEET_IS_LOG_SOURCE(source));
	if (!g_hash_table_lookup_extended(self->source_handlers, source, NULL, &id))
		return;
	/* its last words (the partial line, "disconnected") still arrive */
	fleet_log_source_stop(source);
	g_signal_handler_disconnect(source, GPOINTER_TO_SIZE(id));
	if (g_list_store_find(self->sources, source, &position))
		g_list_store_remove(self->sources, position);
	g_hash_table_remove(self->source_handlers, source);
}

GListModel *
fleet_log_hub_get_sources(FleetLogHub *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_HUB(self), NULL);
	return G_LIST_MODEL(self->sources);
}

FleetLogSource *
fleet_log_hub_find_source(FleetLogHub *self, const gchar *device_id)
{
	guint n;
	g_return_val_if_fail(FLEET_IS_LOG_HUB(self), NULL);
	g_return_val_if_fail(device_id != NULL, NULL);
	n = g_list_model_get_n_items(G_LIST_MODEL(self->sources));
	for (guint i = 0; i < n; i++) {
		g_autoptr(FleetLogSource) source =
		    g_list_model_get_item(G_LIST_MODEL(self->sources), i);
		if (g_strcmp0(fleet_log_source_get_device_id(source), device_id) == 0)
			return source;
	}
	return NULL;
}

/* ---- following the device list ---- */

static void fleet_log_hub_follow_sync(FleetLogHub *self);

static void
fleet_log_hub_device_log_port_cb(FleetDevice *device, GParamSpec *pspec, gpointer user_data)
{
	fleet_log_hub_follow_sync(FLEET_LOG_HUB(user_data));
}

static void
fleet_log_hub_unfollow(FleetLogHub *self, FleetDevice *device)
{
	FleetLogSource *source = g_hash_table_lookup(self->followed, device);
	g_signal_handlers_disconnect_by_func(device, fleet_log_hub_device_log_port_cb, self);
	if (source != NULL)
		fleet_log_hub_remove_source(self, source);
	g_hash_table_remove(self->followed, device);
}

static void
fleet_log_hub_follow_sync(FleetLogHub *self)
{
	g_autoptr(GHashTable) present = g_hash_table_new(NULL, NULL);
	g_autoptr(GPtrArray) gone = g_ptr_array_new();
	GListModel *model;
	GHashTableIter iter;
	gpointer key;
	guint n;

	if (self->devices == NULL)
		return;
	model = G_LIST_MODEL(self->devices);
	n = g_list_model_get_n_items(model);
	for (guint i = 0; i < n && self->follow; i++) {
		g_autoptr(FleetDevice) device = g_list_model_get_item(model, i);
		g_hash_table_add(present, device);
		if (g_hash_table_contains(self->followed, device))
			continue;
		if (fleet_device_get_log_port(device) == 0) {
			/* a watcher without a source: the port may be announced later */
			if (g_signal_handler_find(device, G_SIGNAL_MATCH_FUNC | G_SIGNAL_MATCH_DATA,
						  0, 0, NULL, fleet_log_hub_device_log_port_cb,
						  self) == 0)
				g_signal_connect(device, "notify::log-port",
						 G_CALLBACK(fleet_log_hub_device_log_port_cb),
						 self);
			continue;
		}
		{
			g_autoptr(FleetLogSourceTcp) source =
			    fleet_log_source_tcp_new_for_device(device, 0);
			g_hash_table_insert(self->followed, g_object_ref(device), source);
			fleet_log_hub_add_source(self, FLEET_LOG_SOURCE(source));
		}
	}
	g_hash_table_iter_init(&iter, self->followed);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		if (!g_hash_table_contains(present, key))
			g_ptr_array_add(gone, key);
	}
	for (guint i = 0; i < gone->len; i++)
		fleet_log_hub_unfollow(self, g_ptr_array_index(gone, i));
}

static void
fleet_log_hub_devices_changed_cb(
    GListModel *model, guint position, guint removed, guint added, gpointer user_data)
{
	fleet_log_hub_follow_sync(FLEET_LOG_HUB(user_data));
}

static void
fleet_log_hub_drop_devices(FleetLogHub *self)
{
	g_autoptr(GList) keys = NULL;
	if (self->devices == NULL)
		return;
	keys = g_hash_table_get_keys(self->followed);
	for (GList *l = keys; l != NULL; l = l->next)
		fleet_log_hub_unfollow(self, l->data);
	/* watchers on devices that never had a log port */
	for (guint i = 0; i < g_list_model_get_n_items(G_LIST_MODEL(self->devices)); i++) {
		g_autoptr(FleetDevice) device =
		    g_list_model_get_item(G_LIST_MODEL(self->devices), i);
		g_signal_handlers_disconnect_by_func(device, fleet_log_hub_device_log_port_cb,
						     self);
	}
	g_clear_signal_handler(&self->devices_changed_id, self->devices);
	g_clear_object(&self->devices);
}

void
fleet_log_hub_set_devices(FleetLogHub *self, FleetDeviceList *devices, gboolean follow)
{
	g_return_if_fail(FLEET_IS_LOG_HUB(self));
	g_return_if_fail(devices == NULL || FLEET_IS_DEVICE_LIST(devices));
	fleet_log_hub_drop_devices(self);
	self->follow = follow;
	if (devices == NULL)
		return;
	self->devices = g_object_ref(devices);
	self->devices_changed_id = g_signal_connect(
	    devices, "items-changed", G_CALLBACK(fleet_log_hub_devices_changed_cb), self);
	fleet_log_hub_follow_sync(self);
}

FleetDeviceList *
fleet_log_hub_get_devices(FleetLogHub *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_HUB(self), NULL);
	return self->devices;
}

/* ---- reading ---- */

FleetLogBuffer *
fleet_log_hub_get_buffer(FleetLogHub *self, const gchar *device_id)
{
	g_return_val_if_fail(FLEET_IS_LOG_HUB(self), NULL);
	g_return_val_if_fail(device_id != NULL, NULL);
	return g_hash_table_lookup(self->buffers, device_id);
}

gchar **
fleet_log_hub_dup_device_ids(FleetLogHub *self)
{
	GStrvBuilder *builder;
	gchar **ids;
	g_return_val_if_fail(FLEET_IS_LOG_HUB(self), NULL);
	builder = g_strv_builder_new();
	for (guint i = 0; i < self->order->len; i++)
		g_strv_builder_add(builder, g_ptr_array_index(self->order, i));
	ids = g_strv_builder_end(builder);
	g_strv_builder_unref(builder);
	return ids;
}

gchar *
fleet_log_hub_dup_display_name(FleetLogHub *self, const gchar *device_id)
{
	FleetDevice *device;
	const gchar *colon;

	g_return_val_if_fail(FLEET_IS_LOG_HUB(self), NULL);
	g_return_val_if_fail(device_id != NULL, NULL);
	device = self->devices != NULL ? fleet_device_list_lookup(self->devices, device_id) : NULL;
	if (device != NULL) {
		if (fleet_device_get_name(device) != NULL)
			return g_strdup(fleet_device_get_name(device));
		if (fleet_device_get_hostname(device) != NULL)
			return g_strdup(fleet_device_get_hostname(device));
		if (fleet_device_get_address(device) != NULL)
			return g_strdup(fleet_device_get_address(device));
	}
	if (g_str_has_prefix(device_id, "serial:"))
		return g_path_get_basename(device_id + strlen("serial:"));
	if (g_str_has_prefix(device_id, "addr:")) {
		/* "addr:HOST:PORT": a device known by its address is named by it ("[v6]:port") */
		const gchar *host = device_id + strlen("addr:");
		const gchar *last = strrchr(host, ':');
		g_autofree gchar *h = last != NULL ? g_strndup(host, (gsize)(last - host)) : NULL;
		if (h == NULL)
			return g_strdup(host);
		return strchr(h, ':') != NULL ? g_strdup_printf("[%s]%s", h, last)
					      : g_strdup_printf("%s%s", h, last);
	}
	colon = strchr(device_id, ':');
	if (colon != NULL &&
	    (g_str_has_prefix(device_id, "name:") || g_str_has_prefix(device_id, "syslog:") ||
	     g_str_has_prefix(device_id, "tcp:")))
		return g_strdup(colon + 1);
	return g_strdup(device_id);
}

GPtrArray *
fleet_log_hub_collect(FleetLogHub *self,
		      FleetLogFilter *filter,
		      guint max_lines,
		      guint64 *n_dropped)
{
	g_autoptr(GPtrArray) out =
	    g_ptr_array_new_with_free_func((GDestroyNotify)fleet_log_line_unref);
	g_autoptr(GPtrArray) buffers = g_ptr_array_new();
	g_autofree guint *cursor = NULL;
	guint64 dropped = 0;

	g_return_val_if_fail(FLEET_IS_LOG_HUB(self), NULL);
	g_return_val_if_fail(filter == NULL || FLEET_IS_LOG_FILTER(filter), NULL);

	for (guint i = 0; i < self->order->len; i++) {
		const gchar *id = g_ptr_array_index(self->order, i);
		FleetLogBuffer *buffer;
		if (filter != NULL && !fleet_log_filter_has_device(filter, id))
			continue;
		buffer = g_hash_table_lookup(self->buffers, id);
		g_ptr_array_add(buffers, buffer);
		dropped += fleet_log_buffer_get_n_dropped(buffer);
	}
	if (n_dropped != NULL)
		*n_dropped = dropped;

	/* newest first: walk every ring backwards, always taking the highest sequence number */
	cursor = g_new0(guint, MAX(buffers->len, 1u));
	for (guint i = 0; i < buffers->len; i++)
		cursor[i] = fleet_log_buffer_get_n_lines(g_ptr_array_index(buffers, i));
	while (max_lines == 0 || out->len < max_lines) {
		gint best = -1;
		guint64 best_seq = 0;
		FleetLogLine *line;
		for (guint i = 0; i < buffers->len; i++) {
			FleetLogLine *candidate;
			if (cursor[i] == 0)
				continue;
			candidate =
			    fleet_log_buffer_get_line(g_ptr_array_index(buffers, i), cursor[i] - 1);
			if (best < 0 || fleet_log_line_get_seq(candidate) > best_seq) {
				best = (gint)i;
				best_seq = fleet_log_line_get_seq(candidate);
			}
		}
		if (best < 0)
			break;
		cursor[best]--;
		line = fleet_log_buffer_get_line(g_ptr_array_index(buffers, (guint)best),
						 cursor[best]);
		if (filter == NULL || fleet_log_filter_match(filter, line))
			g_ptr_array_add(out, fleet_log_line_ref(line));
	}
	/* oldest first */
	for (guint i = 0; i < out->len / 2; i++) {
		gpointer tmp = out->pdata[i];
		out->pdata[i] = out->pdata[out->len - 1 - i];
		out->pdata[out->len - 1 - i] = tmp;
	}
	return g_steal_pointer(&out);
}

void
fleet_log_hub_clear(FleetLogHub *self)
{
	GHashTableIter iter;
	gpointer value;
	g_return_if_fail(FLEET_IS_LOG_HUB(self));
	fleet_log_hub_flush(self);
	g_hash_table_iter_init(&iter, self->buffers);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		fleet_log_buffer_clear(FLEET_LOG_BUFFER(value));
	g_signal_emit(self, signals[SIGNAL_CLEARED], 0);
}

guint64
fleet_log_hub_get_n_lines(FleetLogHub *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_HUB(self), 0);
	return self->n_lines;
}

guint64
fleet_log_hub_get_last_seq(FleetLogHub *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_HUB(self), 0);
	return self->seq;
}

static void
fleet_log_hub_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	FleetLogHub *self = FLEET_LOG_HUB(object);
	switch (prop_id) {
	case PROP_RING_LINES:
		g_value_set_uint(value, self->ring_lines);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
fleet_log_hub_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
	FleetLogHub *self = FLEET_LOG_HUB(object);
	switch (prop_id) {
	case PROP_RING_LINES:
		fleet_log_hub_set_ring_lines(self, g_value_get_uint(value));
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
fleet_log_hub_dispose(GObject *object)
{
	FleetLogHub *self = FLEET_LOG_HUB(object);
	fleet_log_hub_drop_devices(self);
	while (self->sources != NULL && g_list_model_get_n_items(G_LIST_MODEL(self->sources)) > 0) {
		g_autoptr(FleetLogSource) source =
		    g_list_model_get_item(G_LIST_MODEL(self->sources), 0);
		fleet_log_hub_remove_source(self, source);
	}
	g_clear_handle_id(&self->batch_id, g_source_remove);
	G_OBJECT_CLASS(fleet_log_hub_parent_class)->dispose(object);
}

static void
fleet_log_hub_finalize(GObject *object)
{
	FleetLogHub *self = FLEET_LOG_HUB(object);
	g_hash_table_unref(self->buffers);
	g_ptr_array_unref(self->order);
	g_object_unref(self->sources);
	g_hash_table_unref(self->source_handlers);
	g_hash_table_unref(self->followed);
	g_ptr_array_unref(self->secrets);
	g_ptr_array_unref(self->pending);
	G_OBJECT_CLASS(fleet_log_hub_parent_class)->finalize(object);
}

static void
fleet_log_hub_class_init(FleetLogHubClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->get_property = fleet_log_hub_get_property;
	object_class->set_property = fleet_log_hub_set_property;
	object_class->dispose = fleet_log_hub_dispose;
	object_class->finalize = fleet_log_hub_finalize;

	props[PROP_RING_LINES] =
	    g_param_spec_uint("ring-lines", NULL, NULL, FLEET_LOG_BUFFER_CAPACITY_MIN,
			      FLEET_LOG_BUFFER_CAPACITY_MAX, FLEET_LOG_BUFFER_CAPACITY_DEFAULT,
			      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, props);

	/**
	 * FleetLogHub::lines-added:
	 * @lines: (element-type FleetLogLine): every line taken in since the last batch, of
	 *   every device, in arrival order (their sequence numbers grow)
	 */
	signals[SIGNAL_LINES_ADDED] =
	    g_signal_new("lines-added", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
			 NULL, G_TYPE_NONE, 1, G_TYPE_PTR_ARRAY);
	/* a device sent its first line */
	signals[SIGNAL_DEVICE_ADDED] =
	    g_signal_new("device-added", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
			 NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
	signals[SIGNAL_CLEARED] =
	    g_signal_new("cleared", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
			 NULL, G_TYPE_NONE, 0);
}

static void
fleet_log_hub_init(FleetLogHub *self)
{
	self->ring_lines = FLEET_LOG_BUFFER_CAPACITY_DEFAULT;
	self->batch_ms = FLEET_LOG_HUB_BATCH_MS_DEFAULT;
	self->buffers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
	self->order = g_ptr_array_new_with_free_func(g_free);
	self->sources = g_list_store_new(FLEET_TYPE_LOG_SOURCE);
	self->source_handlers = g_hash_table_new_full(NULL, NULL, g_object_unref, NULL);
	self->followed = g_hash_table_new_full(NULL, NULL, g_object_unref, NULL);
	self->secrets = g_ptr_array_new_with_free_func(g_free);
	self->pending = g_ptr_array_new_with_free_func((GDestroyNotify)fleet_log_line_unref);
}

FleetLogHub *
fleet_log_hub_new(void)
{
	return g_object_new(FLEET_TYPE_LOG_HUB, NULL);
}
