/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-cancel-hop.h - a GCancellable's cancellation, delivered on a session's main context
 *
 * GCancellable::cancelled runs in whatever thread calls g_cancellable_cancel(). A session
 * that lives on one main context (its sockets, its curl handles) must react there, once.
 * FleetCancelHop connects to the cancellable and, when it fires, schedules @func on @context.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _FleetCancelHop FleetCancelHop;
typedef void (*FleetCancelHopFunc)(gpointer user_data);

/* NULL when @cancellable is NULL. Already cancelled: @func runs from the next iteration of
 * @context, like any later cancellation. @func runs at most once. */
FleetCancelHop *
fleet_cancel_hop_new(GCancellable *cancellable,
		     GMainContext *context,
		     FleetCancelHopFunc func,
		     gpointer user_data);

/* Disconnects first (waiting for a handler running in another thread), then drops a
 * scheduled call: after this @func does not run. Not from inside @func's cancellable's
 * "cancelled" emission. @func itself may free its hop. */
void
fleet_cancel_hop_free(FleetCancelHop *hop);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(FleetCancelHop, fleet_cancel_hop_free)

G_END_DECLS
