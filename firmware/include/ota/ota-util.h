/* SPDX-License-Identifier: MIT */
/*
 * ota-util.h - bounds-checked readers, byte helpers and CRCs for the portable core
 *
 * Only freestanding headers are used so the core builds for ESP8266, ESP32 and Linux alike:
 * <stdarg.h> (for ota_vformat) is one of those the compiler itself provides, no libc is involved.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * ota_read_u8:
 * ota_read_u16le:
 * ota_read_u32le:
 *
 * Read a little-endian value at @off of a buffer of @len bytes.
 *
 * Returns: false (and leaves *v alone) when the value does not lie inside the buffer.
 */
bool ota_read_u8(const uint8_t *buf, size_t len, size_t off, uint8_t *v);
bool ota_read_u16le(const uint8_t *buf, size_t len, size_t off, uint16_t *v);
bool ota_read_u32le(const uint8_t *buf, size_t len, size_t off, uint32_t *v);

/* read a little-endian value from bytes the caller knows are there */
uint16_t ota_get_u16le(const uint8_t *p);
uint32_t ota_get_u32le(const uint8_t *p);

/* write a little-endian u32 into 4 bytes the caller owns */
void ota_put_u32le(uint8_t *p, uint32_t v);

/* true when [off, off + n) lies inside a buffer of len bytes, without overflow */
bool ota_range_ok(size_t len, size_t off, size_t n);

/* a + b into *out, false on overflow */
bool ota_size_add(size_t a, size_t b, size_t *out);

void ota_copy(void *dst, const void *src, size_t n);
void ota_fill(void *dst, uint8_t value, size_t n);
int ota_compare(const void *a, const void *b, size_t n);
/* constant-time comparison for secrets: 0 when equal */
int ota_compare_ct(const void *a, const void *b, size_t n);
size_t ota_strnlen(const char *s, size_t max);
/* the text of a fixed-size field (at most @field_len bytes, NUL-padded or not) into @dst,
 * which holds @field_len + 1 bytes, NUL-terminated */
void ota_copy_field(char *dst, const void *src, size_t field_len);

/*
 * the @index-th string of @list, which holds NUL-terminated strings one after the other and
 * ends with an empty one (a string literal's own NUL); NULL when there are fewer. One blob
 * instead of a table of pointers: text tables cost no pointer per entry.
 */
const char *ota_string_at(const char *list, unsigned index);

/* ASCII lower case; other bytes are returned as they are */
char ota_lower(char c);
/* true when the @n bytes at @a and @b are equal, ignoring ASCII case */
bool ota_equal_ci(const void *a, const void *b, size_t n);

/**
 * ota_crc32_le:
 *
 * The zlib CRC-32 (reflected, polynomial 0xEDB88320). Chain calls by passing the
 * previous result; start with 0. ESP-IDF's esp_rom_crc32_le(0xFFFFFFFF, ...) equals
 * ota_crc32_le(0xFFFFFFFF, ...) here, as zlib's crc32() does.
 */
uint32_t ota_crc32_le(uint32_t crc, const uint8_t *buf, size_t len);

/**
 * ota_crc32_msb:
 *
 * The MSB-first CRC-32 used by the Arduino ESP8266 eboot (polynomial 0x04C11DB7,
 * no reflection, no final XOR; pass 0xFFFFFFFF to start). Check value of
 * "123456789" is 0x0376E6E7.
 */
uint32_t ota_crc32_msb(uint32_t crc, const uint8_t *buf, size_t len);

/* lowercase hex of n bytes into out (2n + 1 bytes, NUL-terminated) */
void ota_hex(const uint8_t *bytes, size_t n, char *out);

#if defined(__GNUC__)
#define OTA_PRINTF(fmt_arg, first_arg) __attribute__((format(printf, fmt_arg, first_arg)))
/* a small helper with several callers that -Os would copy into each of them */
#define OTA_NOINLINE __attribute__((noinline))
#else
#define OTA_PRINTF(fmt_arg, first_arg)
#define OTA_NOINLINE
#endif

/**
 * ota_format:
 * ota_vformat:
 *
 * The core's one text builder, a small bounded printf: %d %i %u %x %X %c %s %p %%, flags '-'
 * and '0', a width and a precision (digits or '*'), length modifiers h, l, ll, z. NULL for
 * %s prints "(null)". The output is cut to fit and always NUL-terminated when @size > 0.
 *
 * Returns: the number of characters stored, without the NUL (never more than size - 1).
 */
size_t ota_format(char *out, size_t size, const char *fmt, ...) OTA_PRINTF(3, 4);
size_t ota_vformat(char *out, size_t size, const char *fmt, va_list ap) OTA_PRINTF(3, 0);
