/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-cancel-hop.c - a GCancellable's cancellation, delivered on a session's main context */

#include "config.h"

#include "fleet-cancel-hop.h"

struct _FleetCancelHop {
	GCancellable *cancellable;
	gulong handler;
	GMainContext *context;
	FleetCancelHopFunc func;
	gpointer user_data;
	GMutex lock; /* guards source: the handler may run in any thread */
	GSource *source;
};

static gboolean
fleet_cancel_hop_idle_cb(gpointer user_data)
{
	FleetCancelHop *hop = user_data;
	/* last thing: @func may free the hop */
	hop->func(hop->user_data);
	return G_SOURCE_REMOVE;
}

static void
fleet_cancel_hop_cancelled_cb(GCancellable *cancellable, gpointer user_data)
{
	FleetCancelHop *hop = user_data;
	g_mutex_lock(&hop->lock);
	if (hop->source == NULL) {
		hop->source = g_idle_source_new();
		g_source_set_static_name(hop->source, "[espfleet] cancelled");
		g_source_set_callback(hop->source, fleet_cancel_hop_idle_cb, hop, NULL);
		g_source_attach(hop->source, hop->context);
	}
	g_mutex_unlock(&hop->lock);
}

FleetCancelHop *
fleet_cancel_hop_new(GCancellable *cancellable,
		     GMainContext *context,
		     FleetCancelHopFunc func,
		     gpointer user_data)
{
	FleetCancelHop *hop;

	g_return_val_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable), NULL);
	g_return_val_if_fail(func != NULL, NULL);
	if (cancellable == NULL)
		return NULL;
	hop = g_new0(FleetCancelHop, 1);
	g_mutex_init(&hop->lock);
	hop->cancellable = g_object_ref(cancellable);
	hop->context = context != NULL ? g_main_context_ref(context) : g_main_context_ref_thread_default();
	hop->func = func;
	hop->user_data = user_data;
	/* runs the handler at once when already cancelled, which only schedules @func */
	hop->handler = g_cancellable_connect(cancellable, G_CALLBACK(fleet_cancel_hop_cancelled_cb),
					     hop, NULL);
	return hop;
}

void
fleet_cancel_hop_free(FleetCancelHop *hop)
{
	if (hop == NULL)
		return;
	/* no handler runs after this, and none is running: no new source can appear */
	if (hop->handler != 0)
		g_cancellable_disconnect(hop->cancellable, hop->handler);
	if (hop->source != NULL) {
		g_source_destroy(hop->source);
		g_source_unref(hop->source);
	}
	g_object_unref(hop->cancellable);
	g_main_context_unref(hop->context);
	g_mutex_clear(&hop->lock);
	g_free(hop);
}
