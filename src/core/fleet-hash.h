/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-hash.h - the firmware core's hash interface backed by GChecksum */
#pragma once

#include <glib.h>

#include "ota/ota-crypto.h"

G_BEGIN_DECLS

/* holds one running hash per kind; clear with fleet_hash_ops_clear() */
typedef struct {
	GChecksum *md5;
	GChecksum *sha256;
	struct ota_hash_ops ops;
} FleetHashOps;

void
fleet_hash_ops_init(FleetHashOps *self);
void
fleet_hash_ops_clear(FleetHashOps *self);

G_END_DECLS
