/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-latency-probe.h - measures how late the main loop runs a periodic timer: the
 * UI-responsiveness benchmark reads it (ESPFLEET_LATENCY_PROBE=1)
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define FLEET_TYPE_LATENCY_PROBE (fleet_latency_probe_get_type())
G_DECLARE_FINAL_TYPE(FleetLatencyProbe, fleet_latency_probe, FLEET, LATENCY_PROBE, GObject)

/* ticks every @interval_ms on the thread-default main context once started */
FleetLatencyProbe *
fleet_latency_probe_new(guint interval_ms);
void
fleet_latency_probe_start(FleetLatencyProbe *self);
void
fleet_latency_probe_stop(FleetLatencyProbe *self);
/* forgets the samples so far */
void
fleet_latency_probe_reset(FleetLatencyProbe *self);

guint
fleet_latency_probe_get_samples(FleetLatencyProbe *self);
/* milliseconds a tick came later than asked for */
gdouble
fleet_latency_probe_get_max_ms(FleetLatencyProbe *self);
/* seconds after the start (or the last reset) when the latest tick came, 0 without one */
gdouble
fleet_latency_probe_get_max_at(FleetLatencyProbe *self);
/* @percentile: 0…100 */
gdouble
fleet_latency_probe_get_percentile_ms(FleetLatencyProbe *self, gdouble percentile);

/* the main thread's CPU time between two ticks: what the app itself spent, whatever else
 * the machine did (100: the longest) */
gdouble
fleet_latency_probe_get_busy_percentile_ms(FleetLatencyProbe *self, gdouble percentile);

G_END_DECLS
