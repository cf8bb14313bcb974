/* SPDX-License-Identifier: MIT */
/* esp_flash.h (host fake) - raw reads of the fakes' RAM flash */
#pragma once

#include <stdint.h>

#include "esp_err.h"
#include "esp_partition.h"

esp_err_t esp_flash_read(esp_flash_t *chip, void *buffer, uint32_t address, uint32_t length);
esp_err_t
esp_flash_read_encrypted(esp_flash_t *chip, uint32_t address, void *out_buffer, uint32_t length);
esp_err_t esp_flash_get_size(esp_flash_t *chip, uint32_t *out_size);
