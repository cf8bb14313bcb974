/* SPDX-License-Identifier: MIT */
/* esp_flash_encrypt.h (host fake) */
#pragma once

#include <stdbool.h>

bool esp_flash_encryption_enabled(void);
