/* SPDX-License-Identifier: MIT */
/* esp_log.h (host fake) - ESP_LOGx into the fakes' line capture, and the vprintf hook */
#pragma once

#include <stdarg.h>

typedef int (*vprintf_like_t)(const char *, va_list);

vprintf_like_t esp_log_set_vprintf(vprintf_like_t func);

/* what ESP-IDF's esp_log_write() does with a formatted line: hand it to the hook */
int fake_log_write(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void fake_log(char level, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define ESP_LOGE(tag, ...) fake_log('E', tag, __VA_ARGS__)
#define ESP_LOGW(tag, ...) fake_log('W', tag, __VA_ARGS__)
#define ESP_LOGI(tag, ...) fake_log('I', tag, __VA_ARGS__)
#define ESP_LOGD(tag, ...) fake_log('D', tag, __VA_ARGS__)
