/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-transport-espota.h - ArduinoOTA ("espota") push transport on GIO sockets */
#pragma once

#include "fleet-transport.h"

G_BEGIN_DECLS

#define FLEET_TYPE_TRANSPORT_ESPOTA (fleet_transport_espota_get_type())
G_DECLARE_FINAL_TYPE(FleetTransportEspota,
		     fleet_transport_espota,
		     FLEET,
		     TRANSPORT_ESPOTA,
		     GObject)

FleetTransportEspota *
fleet_transport_espota_new(void);

G_END_DECLS
