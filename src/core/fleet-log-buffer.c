/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-log-buffer.c - the lines of one device, in a ring of bounded size */

#include "config.h"

#include "fleet-log-buffer.h"

struct _FleetLogBuffer {
	GObject parent_instance;
	gchar *device_id;
	FleetLogLine **ring; /* grows by doubling up to the capacity */
	guint allocated;
	guint capacity;
	guint head; /* index of the oldest line */
	guint n_lines;
	guint64 n_dropped;
	guint64 n_total;
};

G_DEFINE_TYPE(FleetLogBuffer, fleet_log_buffer, G_TYPE_OBJECT)

const gchar *
fleet_log_buffer_get_device_id(FleetLogBuffer *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_BUFFER(self), NULL);
	return self->device_id;
}

guint
fleet_log_buffer_get_capacity(FleetLogBuffer *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_BUFFER(self), 0);
	return self->capacity;
}

static FleetLogLine **
fleet_log_buffer_slot(FleetLogBuffer *self, guint index)
{
	return &self->ring[(self->head + index) % self->allocated];
}

/* a contiguous array of @size slots holding the lines oldest first */
static void
fleet_log_buffer_reallocate(FleetLogBuffer *self, guint size)
{
	FleetLogLine **ring = g_new0(FleetLogLine *, size);
	for (guint i = 0; i < self->n_lines; i++)
		ring[i] = *fleet_log_buffer_slot(self, i);
	g_free(self->ring);
	self->ring = ring;
	self->allocated = size;
	self->head = 0;
}

static void
fleet_log_buffer_drop_oldest(FleetLogBuffer *self)
{
	FleetLogLine **slot = fleet_log_buffer_slot(self, 0);
	g_clear_pointer(slot, fleet_log_line_unref);
	self->head = (self->head + 1) % self->allocated;
	self->n_lines--;
	self->n_dropped++;
}

void
fleet_log_buffer_set_capacity(FleetLogBuffer *self, guint capacity)
{
	g_return_if_fail(FLEET_IS_LOG_BUFFER(self));
	capacity = CLAMP(capacity, FLEET_LOG_BUFFER_CAPACITY_MIN, FLEET_LOG_BUFFER_CAPACITY_MAX);
	if (capacity == self->capacity)
		return;
	while (self->n_lines > capacity)
		fleet_log_buffer_drop_oldest(self);
	self->capacity = capacity;
	if (self->allocated > capacity)
		fleet_log_buffer_reallocate(self, capacity);
}

gboolean
fleet_log_buffer_append(FleetLogBuffer *self, FleetLogLine *line)
{
	gboolean dropped = FALSE;

	g_return_val_if_fail(FLEET_IS_LOG_BUFFER(self), FALSE);
	g_return_val_if_fail(line != NULL, FALSE);

	if (self->n_lines == self->capacity) {
		fleet_log_buffer_drop_oldest(self);
		dropped = TRUE;
	} else if (self->n_lines == self->allocated) {
		guint size = self->allocated < 1024 ? 1024 : self->allocated * 2;
		fleet_log_buffer_reallocate(self, MIN(size, self->capacity));
	}
	*fleet_log_buffer_slot(self, self->n_lines) = fleet_log_line_ref(line);
	self->n_lines++;
	self->n_total++;
	return dropped;
}

guint
fleet_log_buffer_get_n_lines(FleetLogBuffer *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_BUFFER(self), 0);
	return self->n_lines;
}

FleetLogLine *
fleet_log_buffer_get_line(FleetLogBuffer *self, guint index)
{
	g_return_val_if_fail(FLEET_IS_LOG_BUFFER(self), NULL);
	g_return_val_if_fail(index < self->n_lines, NULL);
	return *fleet_log_buffer_slot(self, index);
}

guint64
fleet_log_buffer_get_n_dropped(FleetLogBuffer *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_BUFFER(self), 0);
	return self->n_dropped;
}

guint64
fleet_log_buffer_get_n_total(FleetLogBuffer *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_BUFFER(self), 0);
	return self->n_total;
}

guint
fleet_log_buffer_find_after(FleetLogBuffer *self, guint64 seq)
{
	guint lo = 0;
	guint hi;

	g_return_val_if_fail(FLEET_IS_LOG_BUFFER(self), 0);
	/* sequence numbers grow along the ring */
	hi = self->n_lines;
	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;
		if (fleet_log_line_get_seq(*fleet_log_buffer_slot(self, mid)) <= seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void
fleet_log_buffer_clear(FleetLogBuffer *self)
{
	g_return_if_fail(FLEET_IS_LOG_BUFFER(self));
	for (guint i = 0; i < self->n_lines; i++)
		g_clear_pointer(fleet_log_buffer_slot(self, i), fleet_log_line_unref);
	g_clear_pointer(&self->ring, g_free);
	self->allocated = 0;
	self->head = 0;
	self->n_lines = 0;
	self->n_dropped = 0;
	self->n_total = 0;
}

static void
fleet_log_buffer_finalize(GObject *object)
{
	FleetLogBuffer *self = FLEET_LOG_BUFFER(object);
	fleet_log_buffer_clear(self);
	g_free(self->device_id);
	G_OBJECT_CLASS(fleet_log_buffer_parent_class)->finalize(object);
}

static void
fleet_log_buffer_class_init(FleetLogBufferClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->finalize = fleet_log_buffer_finalize;
}

static void
fleet_log_buffer_init(FleetLogBuffer *self)
{
	self->capacity = FLEET_LOG_BUFFER_CAPACITY_DEFAULT;
}

FleetLogBuffer *
fleet_log_buffer_new(const gchar *device_id, guint capacity)
{
	FleetLogBuffer *self;
	g_return_val_if_fail(device_id != NULL, NULL);
	self = g_object_new(FLEET_TYPE_LOG_BUFFER, NULL);
	self->device_id = g_strdup(device_id);
	self->capacity =
	    CLAMP(capacity, FLEET_LOG_BUFFER_CAPACITY_MIN, FLEET_LOG_BUFFER_CAPACITY_MAX);
	return self;
}
