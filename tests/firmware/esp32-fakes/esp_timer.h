/* SPDX-License-Identifier: MIT */
/* esp_timer.h (host fake) - a clock the tests advance */
#pragma once

#include <stdint.h>

int64_t esp_timer_get_time(void);
