/* SPDX-License-Identifier: MIT */
/*
 * fw-idf-ota.h - ESP-IDF's esp_ota_ops.h next to the core's ota-slots.h
 *
 * Both name "size unknown" OTA_SIZE_UNKNOWN (0xffffffff and 0xFFFFFFFFu): the same value in
 * different spellings, which the compiler reports as a redefinition in whichever order the
 * two headers come. The port never uses ESP-IDF's macro (its sink goes through the core), so
 * the core's spelling is kept. Include this instead of esp_ota_ops.h.
 */
#pragma once

#ifdef OTA_SIZE_UNKNOWN
#undef OTA_SIZE_UNKNOWN
#include "esp_ota_ops.h"
#undef OTA_SIZE_UNKNOWN
#define OTA_SIZE_UNKNOWN 0xFFFFFFFFu
#else
#include "esp_ota_ops.h"
#undef OTA_SIZE_UNKNOWN
#endif
