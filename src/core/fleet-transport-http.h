/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-transport-http.h - HTTP POST push transport (Arduino HTTPUpdateServer, ESPHome,
 * ElegantOTA, raw-body ESP-IDF receivers) on libcurl's multi socket interface
 *
 * The image goes to http://<address>:<http_port><http_path> as one multipart file part
 * (field "firmware", or "filesystem" for a filesystem image) or, in raw mode, as the body
 * with an X-MD5 header. A password is sent as pre-emptive Basic credentials; a device that
 * answers 401 with a Digest challenge gets the image once more with Digest (progress then
 * starts again from 0 after the AUTHENTICATING phase). Success and failure are judged from
 * the answer's text as well as its status: Arduino servers answer 200 on failure too.
 */
#pragma once

#include "fleet-transport.h"

G_BEGIN_DECLS

#define FLEET_TYPE_TRANSPORT_HTTP (fleet_transport_http_get_type())
G_DECLARE_FINAL_TYPE(FleetTransportHttp, fleet_transport_http, FLEET, TRANSPORT_HTTP, GObject)

FleetTransportHttp *
fleet_transport_http_new(void);

G_END_DECLS
