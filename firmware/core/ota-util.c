/* SPDX-License-Identifier: MIT */
/* ota-util.c - bounds-checked readers, byte helpers, CRCs and the bounded formatter */

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

uint16_t
ota_get_u16le(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

uint32_t
ota_get_u32le(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

bool
ota_read_u16le(const uint8_t *buf, size_t len, size_t off, uint16_t *v)
{
	if (!ota_range_ok(len, off, 2))
		return false;
	*v = ota_get_u16le(buf + off);
	return true;
}

bool
ota_read_u32le(const uint8_t *buf, size_t len, size_t off, uint32_t *v)
{
	if (!ota_range_ok(len, off, 4))
		return false;
	*v = ota_get_u32le(buf + off);
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
	/* n == 0 copies nothing, d == s copies each byte onto itself */
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

const char *
ota_string_at(const char *list, unsigned index)
{
	for (; *list != '\0'; index--) {
		if (index == 0)
			return list;
		while (*list++ != '\0')
			;
	}
	return NULL;
}

void
ota_copy_field(char *dst, const void *src, size_t field_len)
{
	size_t n = ota_strnlen(src, field_len);
	ota_copy(dst, src, n);
	dst[n] = '\0';
}

char
ota_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

bool
ota_equal_ci(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a;
	const unsigned char *y = b;
	for (size_t i = 0; i < n; i++) {
		unsigned c = x[i];
		/* equal, or the same letter in the other case: only bit 0x20 differs, and
		 * with it set the byte is 'a' to 'z' */
		if (c != y[i] && ((c ^ y[i]) != 0x20 || (c | 0x20) - 'a' > 'z' - 'a'))
			return false;
	}
	return true;
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

/* upper case; | 0x20 lowers the letters and leaves the digits alone */
static const char hex_digits[] = "0123456789ABCDEF";

void
ota_hex(const uint8_t *bytes, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = (char)(hex_digits[bytes[i] >> 4] | 0x20);
		out[2 * i + 1] = (char)(hex_digits[bytes[i] & 0x0f] | 0x20);
	}
	out[2 * n] = '\0';
}

/* ---- the bounded formatter ---- */

struct fmt_out {
	char *out;
	size_t size;
	size_t len;
};

/* @n_fill times @fill, then @n bytes of @p; what does not fit is dropped */
static void
put_chars(struct fmt_out *o, char fill, size_t n_fill, const char *p, size_t n)
{
	for (size_t i = 0; i < n_fill + n; i++) {
		if (o->len + 1 < o->size)
			o->out[o->len++] = i < n_fill ? fill : p[i - n_fill];
	}
}

/* the digits of @v in @base, ending just before @end, none for 0; @lower: 0x20 for lower
 * case ('x', 'p', 'u', 'd', 'i' have it set, 'X' has not), else 0. Returns: how many */
static size_t
put_digits(char *end, unsigned long long v, unsigned base, unsigned lower)
{
	size_t n = 0;

	while (v != 0) {
		unsigned long long q = v / base;

		*--end = (char)(hex_digits[(unsigned)(v - q * base)] | lower);
		n++;
		v = q;
	}
	return n;
}

/* a conversion's flags: '-', '0', and a precision given */
enum { FMT_LEFT = 1, FMT_ZERO = 2, FMT_PRECISION = 4 };

size_t
ota_vformat(char *out, size_t size, const char *fmt, va_list ap)
{
	struct fmt_out o = {out, size, 0};
	const char *p = fmt != NULL ? fmt : "";

	if (out == NULL || size == 0)
		return 0;
	while (*p != '\0') {
		const char *start = p;
		const char *body;
		char tmp[24]; /* digits of a number, or the character of %c */
		/* a number's precision is its least count of digits, 1 unless given: 0 has none
		 * of its own, so "%d" of 0 is one zero and "%.0d" of 0 is empty, like C */
		size_t n, width = 0, precision = 1, zeros = 0, total = 0, pad;
		unsigned flags = 0;
		int lng = 0; /* 0 int, 1 long, 2 long long, 3 size_t */
		char c, sign = 0;
		unsigned base = 0; /* 0: not a number */
		unsigned long long v = 0;

		if (*p != '%') {
			put_chars(&o, 0, 0, p++, 1);
			continue;
		}
		for (;;) {
			c = *++p;
			if (c == '-')
				flags |= FMT_LEFT;
			else if (c == '0')
				flags |= FMT_ZERO;
			else if (c != ' ' && c != '+' && c != '#')
				break;
		}
		/* the width, then the precision after a '.': digits, or '*' for an int argument; a
		 * negative width is its magnitude, left-aligned, a negative precision counts as
		 * none */
		for (unsigned k = 0;; k++) {
			size_t count = 0;

			if (*p == '*') {
				int a = va_arg(ap, int);

				p++;
				count = a < 0 ? 0u - (size_t)a : (size_t)a;
				if (a < 0) {
					if (k == 0) {
						flags |= FMT_LEFT;
					} else {
						flags &= ~FMT_PRECISION;
						count = 1; /* the default */
					}
				}
			} else {
				while ((unsigned)(*p - '0') <= 9) {
					if (count < 100000)
						count = count * 10 + (size_t)(*p - '0');
					p++;
				}
			}
			if (k != 0) {
				precision = count;
				break;
			}
			width = count;
			if (*p != '.')
				break;
			p++;
			flags |= FMT_PRECISION;
		}
		if (width > 256)
			width = 256;
		while (*p == 'h')
			p++;
		if (*p == 'z') {
			p++;
			lng = 3;
		}
		while (*p == 'l' && lng < 2) {
			p++;
			lng++;
		}
		/* each argument is read as the type it was passed as: the signed conversions (and
		 * %c, an int whatever its length) as signed types, the others as unsigned ones;
		 * %zd and %zu both read a size_t */
		c = *p;
		switch (c) {
		case 's':
		case 'p': {
			/* C allows reading a char * as a void * */
			const void *ptr = va_arg(ap, const void *);

			if (c == 'p') {
				/* "0x" first, but counted in the field */
				put_chars(&o, 0, 0, "0x", 2);
				total = 2;
				v = (uintptr_t)ptr;
				base = 16;
			} else {
				/* text: no precision zeros, no '0' padding */
				body = ptr != NULL ? ptr : "(null)";
				n = ota_strnlen(body, flags & FMT_PRECISION ? precision : size);
				precision = 0;
				flags &= ~FMT_ZERO;
			}
			break;
		}
		case 'c':
		case 'd':
		case 'i': {
			long long s;

			if (c == 'c')
				lng = 0;
			if (lng == 0)
				s = va_arg(ap, int);
			else if (lng == 1)
				s = va_arg(ap, long);
			else if (lng == 2)
				s = va_arg(ap, long long);
			else
				s = (long long)va_arg(ap, size_t);
			v = (unsigned long long)s;
			if (c == 'c') {
				tmp[0] = (char)s;
				body = tmp;
				n = 1;
				precision = 0;
				flags &= ~FMT_ZERO;
				break;
			}
			if (s < 0) {
				sign = '-';
				/* the magnitude of LLONG_MIN does not fit a long long */
				v = 0ULL - v;
			}
			base = 10;
			break;
		}
		case 'u':
		case 'x':
		case 'X':
			if (lng == 0)
				v = va_arg(ap, unsigned int);
			else if (lng == 1)
				v = va_arg(ap, unsigned long);
			else if (lng == 2)
				v = va_arg(ap, unsigned long long);
			else
				v = va_arg(ap, size_t);
			base = c == 'u' ? 10 : 16;
			break;
		default:
			/* "%%", or an unknown or cut-off conversion: printed as it was written */
			if (c == '%')
				start = p;
			if (c == '\0')
				p--;
			put_chars(&o, 0, 0, start, (size_t)(p - start) + 1);
			p++;
			continue;
		}
		if (base != 0) {
			n = put_digits(tmp + sizeof(tmp), v, base, c & 0x20);
			body = tmp + sizeof(tmp) - n;
		}
		/* the field: its sign, zeros up to the precision, padded to the width */
		if (precision > n)
			zeros = precision - n;
		total += (sign != 0) + zeros + n;
		pad = width > total ? width - total : 0;
		/* '0' only pads numbers without a precision, after the sign, as C's printf does */
		if ((flags & (FMT_ZERO | FMT_LEFT | FMT_PRECISION)) == FMT_ZERO) {
			zeros += pad;
			pad = 0;
		}
		/* spaces before the sign when right-aligned, zeros before the body, spaces after
		 * when left-aligned */
		put_chars(&o, ' ', flags & FMT_LEFT ? 0 : pad, &sign, sign != 0);
		put_chars(&o, '0', zeros, body, n);
		put_chars(&o, ' ', flags & FMT_LEFT ? pad : 0, NULL, 0);
		p++;
	}
	out[o.len] = '\0';
	return o.len;
}

size_t
ota_format(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = ota_vformat(out, size, fmt, ap);
	va_end(ap);
	return n;
}
