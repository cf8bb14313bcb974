/* SPDX-License-Identifier: MIT */
/*
 * fw-log.h - ESP-IDF's log output teed into the core's log stream
 *
 * esp_log_set_vprintf() gets a function that prints to the console as before and copies
 * each line into a small staging ring (any task may log; the copy happens under a
 * spinlock). The network task drains the ring into the core's struct ota_log, which keeps
 * the history and feeds the TCP log clients. Lines keep ESP-IDF's own form, because
 * the core formats "I (1234) tag: text" exactly as ESP-IDF does.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "ota/ota-log.h"

#define FW_LOG_STAGE_SIZE 4096u

/* first thing in app_main(): from here on every ESP_LOGx line is kept for the stream */
void fw_log_tee_install(void);

/* true when staged bytes wait for fw_log_drain() */
bool fw_log_pending(void);

/* moves the staged lines into @log (network task only) */
void fw_log_drain(struct ota_log *log);

/*
 * the core log's clock: while a drained ESP-IDF line is handed over, its own timestamp (so
 * the stream shows the console's "(1234)"), otherwise @now_ms
 */
uint32_t fw_log_clock(uint32_t now_ms);
