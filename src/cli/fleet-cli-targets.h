/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-cli-targets.h - which devices a command acts on: URLs, names, --all/--board/--match */
#pragma once

#include "fleet-discovery.h"

G_BEGIN_DECLS

typedef struct _FleetCliTargets FleetCliTargets;

FleetCliTargets *
fleet_cli_targets_new(void);
void
fleet_cli_targets_free(FleetCliTargets *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FleetCliTargets, fleet_cli_targets_free)

/* espota://HOST:PORT, http://HOST:PORT/PATH, or a device name to look up */
gboolean
fleet_cli_targets_add_spec(FleetCliTargets *self, const gchar *spec, GError **error);
void
fleet_cli_targets_set_filters(FleetCliTargets *self,
			      gboolean all,
			      const gchar *board,
			      const gchar *match);

/* the discovery stays alive with the targets, so devices keep being watched */
FleetDiscovery *
fleet_cli_targets_get_discovery(FleetCliTargets *self);

/**
 * fleet_cli_targets_resolve:
 * @timeout: seconds to browse for named devices (browsing ends early once all are found)
 *
 * Returns: (transfer container) (element-type FleetDevice): the devices, in the order
 * given; %NULL with @error when a named device was not found or nothing matched
 */
GPtrArray *
fleet_cli_targets_resolve(FleetCliTargets *self, guint timeout, GError **error);

/* browse for @timeout seconds and return every device seen (for discover) */
GPtrArray *
fleet_cli_targets_browse(FleetCliTargets *self, guint timeout, GError **error);

G_END_DECLS
