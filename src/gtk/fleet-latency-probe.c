/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-latency-probe.c - measures how late the main loop runs a periodic timer: the
 * UI-responsiveness benchmark reads it (ESPFLEET_LATENCY_PROBE=1)
 *
 * GLib re-arms a timeout from the moment it was dispatched, so each tick's lateness is
 * the time since the previous tick minus the interval. Anything that holds the main
 * loop (a slow handler, a long relayout) shows up as lateness of the next tick. So does
 * time the thread spent waiting for a CPU on a busy machine; the CPU time the main thread
 * used between two ticks tells the two apart ("busy").
 */

#include "config.h"

#include "fleet-latency-probe.h"

#include <time.h>

/* GTK repaints at G_PRIORITY_HIGH_IDLE + 20 (GDK_PRIORITY_REDRAW): the probe ticks at the
 * same priority, so a main loop kept busy at higher priority, which starves the repaints
 * without being late for anything itself, shows up as lateness too */
#define FLEET_LATENCY_PROBE_PRIORITY (G_PRIORITY_HIGH_IDLE + 20)

/* at 10 ms a tick, a day of samples; older ones are dropped beyond that */
#define FLEET_LATENCY_PROBE_SAMPLES_MAX (24u * 3600u * 100u)

struct _FleetLatencyProbe {
	GObject parent_instance;
	guint interval_ms;
	guint source_id;
	gint64 last_tick;
	GArray *samples; /* gint64 lateness in microseconds */
	GArray *busy;	 /* gint64 main-thread CPU time between two ticks, microseconds */
	gint64 last_cpu;
	gint64 max_us;
	gint64 reset_at; /* monotonic time of the last reset */
	gint64 max_at;	 /* monotonic time of the latest tick */
};

G_DEFINE_TYPE(FleetLatencyProbe, fleet_latency_probe, G_TYPE_OBJECT)

static gint64
fleet_latency_probe_thread_cpu(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (gint64)ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static gboolean
fleet_latency_probe_tick_cb(gpointer user_data)
{
	FleetLatencyProbe *self = FLEET_LATENCY_PROBE(user_data);
	gint64 now = g_get_monotonic_time();
	gint64 cpu = fleet_latency_probe_thread_cpu();

	if (self->last_tick != 0) {
		gint64 used = cpu - self->last_cpu;
		if (self->busy->len >= FLEET_LATENCY_PROBE_SAMPLES_MAX)
			g_array_remove_index_fast(self->busy, 0);
		g_array_append_val(self->busy, used);
	}
	self->last_cpu = cpu;
	if (self->last_tick != 0) {
		gint64 late = now - self->last_tick - (gint64)self->interval_ms * 1000;
		if (late < 0)
			late = 0;
		if (self->samples->len >= FLEET_LATENCY_PROBE_SAMPLES_MAX)
			g_array_remove_index_fast(self->samples, 0);
		g_array_append_val(self->samples, late);
		if (late > self->max_us) {
			self->max_us = late;
			self->max_at = now;
		}
	}
	self->last_tick = now;
	return G_SOURCE_CONTINUE;
}

void
fleet_latency_probe_start(FleetLatencyProbe *self)
{
	g_return_if_fail(FLEET_IS_LATENCY_PROBE(self));
	if (self->source_id != 0)
		return;
	self->last_tick = 0;
	self->source_id = g_timeout_add_full(FLEET_LATENCY_PROBE_PRIORITY, self->interval_ms,
					     fleet_latency_probe_tick_cb, self, NULL);
	g_source_set_name_by_id(self->source_id, "[espfleet] latency probe");
}

void
fleet_latency_probe_stop(FleetLatencyProbe *self)
{
	g_return_if_fail(FLEET_IS_LATENCY_PROBE(self));
	g_clear_handle_id(&self->source_id, g_source_remove);
}

void
fleet_latency_probe_reset(FleetLatencyProbe *self)
{
	g_return_if_fail(FLEET_IS_LATENCY_PROBE(self));
	g_array_set_size(self->samples, 0);
	g_array_set_size(self->busy, 0);
	self->max_us = 0;
	self->max_at = 0;
	self->last_tick = 0;
	self->reset_at = g_get_monotonic_time();
}

guint
fleet_latency_probe_get_samples(FleetLatencyProbe *self)
{
	g_return_val_if_fail(FLEET_IS_LATENCY_PROBE(self), 0);
	return self->samples->len;
}

gdouble
fleet_latency_probe_get_max_ms(FleetLatencyProbe *self)
{
	g_return_val_if_fail(FLEET_IS_LATENCY_PROBE(self), 0.0);
	return (gdouble)self->max_us / 1000.0;
}

gdouble
fleet_latency_probe_get_max_at(FleetLatencyProbe *self)
{
	g_return_val_if_fail(FLEET_IS_LATENCY_PROBE(self), 0.0);
	if (self->max_at == 0)
		return 0.0;
	return (gdouble)(self->max_at - self->reset_at) / G_USEC_PER_SEC;
}

static gint
fleet_latency_probe_compare(gconstpointer a, gconstpointer b)
{
	gint64 x = *(const gint64 *)a;
	gint64 y = *(const gint64 *)b;
	return x < y ? -1 : x > y ? 1 : 0;
}

static gdouble
fleet_latency_probe_percentile(GArray *samples, gdouble percentile)
{
	g_autoptr(GArray) sorted = NULL;
	gsize idx;

	if (samples->len == 0)
		return 0.0;
	sorted = g_array_copy(samples);
	g_array_sort(sorted, fleet_latency_probe_compare);
	percentile = CLAMP(percentile, 0.0, 100.0);
	/* nearest rank */
	idx = (gsize)(percentile / 100.0 * (gdouble)sorted->len + 0.999999);
	if (idx > 0)
		idx--;
	idx = MIN(idx, (gsize)sorted->len - 1);
	return (gdouble)g_array_index(sorted, gint64, idx) / 1000.0;
}

gdouble
fleet_latency_probe_get_percentile_ms(FleetLatencyProbe *self, gdouble percentile)
{
	g_return_val_if_fail(FLEET_IS_LATENCY_PROBE(self), 0.0);
	return fleet_latency_probe_percentile(self->samples, percentile);
}

gdouble
fleet_latency_probe_get_busy_percentile_ms(FleetLatencyProbe *self, gdouble percentile)
{
	g_return_val_if_fail(FLEET_IS_LATENCY_PROBE(self), 0.0);
	return fleet_latency_probe_percentile(self->busy, percentile);
}

static void
fleet_latency_probe_dispose(GObject *object)
{
	FleetLatencyProbe *self = FLEET_LATENCY_PROBE(object);
	g_clear_handle_id(&self->source_id, g_source_remove);
	G_OBJECT_CLASS(fleet_latency_probe_parent_class)->dispose(object);
}

static void
fleet_latency_probe_finalize(GObject *object)
{
	FleetLatencyProbe *self = FLEET_LATENCY_PROBE(object);
	g_array_unref(self->samples);
	g_array_unref(self->busy);
	G_OBJECT_CLASS(fleet_latency_probe_parent_class)->finalize(object);
}

static void
fleet_latency_probe_class_init(FleetLatencyProbeClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = fleet_latency_probe_dispose;
	object_class->finalize = fleet_latency_probe_finalize;
}

static void
fleet_latency_probe_init(FleetLatencyProbe *self)
{
	self->samples = g_array_new(FALSE, FALSE, sizeof(gint64));
	self->busy = g_array_new(FALSE, FALSE, sizeof(gint64));
	self->reset_at = g_get_monotonic_time();
}

FleetLatencyProbe *
fleet_latency_probe_new(guint interval_ms)
{
	FleetLatencyProbe *self = g_object_new(FLEET_TYPE_LATENCY_PROBE, NULL);
	self->interval_ms = MAX(interval_ms, 1);
	return self;
}
