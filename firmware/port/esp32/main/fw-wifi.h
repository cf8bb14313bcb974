/* SPDX-License-Identifier: MIT */
/*
 * fw-wifi.h - the Wi-Fi station: connect with the configured SSID, reconnect forever
 *
 * Getting an address is half of the new image's self-test (the other half is binding the
 * OTA listeners): an image that cannot join the network never confirms itself, and
 * ESP-IDF's bootloader rolls it back.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "esp_err.h"

/* esp_netif, the default event loop and the station, with @hostname for DHCP */
esp_err_t fw_wifi_start(const char *ssid, const char *password, const char *hostname);

/*
 * fw_wifi_wait_ip:
 *
 * Waits up to @timeout_ms for an IPv4 address. @ip and @netmask are host byte order.
 *
 * Returns: true when the station has one.
 */
bool fw_wifi_wait_ip(uint32_t timeout_ms, uint32_t *ip, uint32_t *netmask);
