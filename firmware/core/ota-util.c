/* SPDX-License-Identifier: MIT */
/* ota-util.c - bounds-checked readers, byte helpers and CRCs */

#include "ota/ota-util.h"

bool
ota_range_ok(size_t len, size_t off, size_t n)
{
	return off <= len && n <= len - off;
}

bool
ota_size_add(size_t a, size_t b, size_t *out)
{
	if (a > (size_t)-1 - b)
		return false;
	*out = a + b;
	return true;
}

bool
ota_read_u8(const uint8_t *buf, size_t len, size_t off, uint8_t *v)
{
	if (!ota_range_ok(len, off, 1))
		return false;
	*v = buf[off];
	return true;
}

bool
ota_read_u16le(const uint8_t *buf, size_t len, size_t off, uint16_t *v)
{
	if (!ota_range_ok(len, off, 2))
		return false;
	*v = (uint16_t)(buf[off] | (buf[off + 1] << 8));
	return true;
}

bool
ota_read_u32le(const uint8_t *buf, size_t len, size_t off, uint32_t *v)
{
	if (!ota_range_ok(len, off, 4))
		return false;
	*v = (uint32_t)buf[off] | ((uint32_t)buf[off + 1] << 8) | ((uint32_t)buf[off + 2] << 16) |
	     ((uint32_t)buf[off + 3] << 24);
	return true;
}

void
ota_put_u32le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v & 0xff);
	p[1] = (uint8_t)((v >> 8) & 0xff);
	p[2] = (uint8_t)((v >> 16) & 0xff);
	p[3] = (uint8_t)((v >> 24) & 0xff);
}

void
ota_copy(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;
	if (d == s || n == 0)
		return;
	if (d < s) {
		for (size_t i = 0; i < n; i++)
			d[i] = s[i];
	} else {
		for (size_t i = n; i > 0; i--)
			d[i - 1] = s[i - 1];
	}
}

void
ota_fill(void *dst, uint8_t value, size_t n)
{
	uint8_t *d = dst;
	for (size_t i = 0; i < n; i++)
		d[i] = value;
}

int
ota_compare(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a;
	const uint8_t *y = b;
	for (size_t i = 0; i < n; i++) {
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	}
	return 0;
}

int
ota_compare_ct(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *x = a;
	const volatile uint8_t *y = b;
	uint8_t diff = 0;
	for (size_t i = 0; i < n; i++)
		diff |= (uint8_t)(x[i] ^ y[i]);
	return diff != 0;
}

size_t
ota_strnlen(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n] != '\0')
		n++;
	return n;
}

uint32_t
ota_crc32_le(uint32_t crc, const uint8_t *buf, size_t len)
{
	crc = ~crc;
	for (size_t i = 0; i < len; i++) {
		crc ^= buf[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

uint32_t
ota_crc32_msb(uint32_t crc, const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		crc ^= (uint32_t)buf[i] << 24;
		for (int k = 0; k < 8; k++)
			crc = (crc & 0x80000000u) ? (crc << 1) ^ 0x04C11DB7u : (crc << 1);
	}
	return crc;
}

void
ota_hex(const uint8_t *bytes, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 0x0f];
	}
	out[2 * n] = '\0';
}
