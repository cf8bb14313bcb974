/* SPDX-License-Identifier: MIT */
/*
 * fw-mdns.h - the _arduino._tcp announcement through ESP-IDF's espressif/mdns component
 *
 * On ESP-IDF the component, not the core's responder, answers mDNS: it shares the
 * station's esp_netif with the rest of ESP-IDF (it follows address changes, joins the
 * group on the right interface, and other components can add services to the same host).
 * The core's responder is for the simulator and for ports without such a component. The
 * TXT record is built by fw_txt_build(): the keys and values the core announces.
 */
#pragma once

#include "esp_err.h"
#include "ota/ota-mdns.h"

/* host name, instance name and the service with its TXT record */
esp_err_t fw_mdns_start(const struct ota_mdns_config *cfg);

/* goodbye packets and the component stopped (before a reboot) */
void fw_mdns_stop(void);
