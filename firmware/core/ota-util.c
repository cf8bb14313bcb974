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
	const char *x = a;
	const char *y = b;
	for (size_t i = 0; i < n; i++) {
		if (ota_lower(x[i]) != ota_lower(y[i]))
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

/* ---- the bounded formatter ---- */

struct fmt_out {
	char *out;
	size_t size;
	size_t len;
};

/* @n bytes of @p, or @n times @fill when @p is NULL; what does not fit is dropped */
static void
put_chars(struct fmt_out *o, const char *p, size_t n, char fill)
{
	for (size_t i = 0; i < n; i++) {
		if (o->len + 1 < o->size)
			o->out[o->len++] = p != NULL ? p[i] : fill;
	}
}

struct spec {
	bool left;
	bool zero;
	bool has_precision;
	size_t width;
	size_t precision;
};

/* a field of @n characters, with its sign (0: none), padded to the width */
static void
put_field(struct fmt_out *o, const struct spec *sp, char sign, const char *body, size_t n)
{
	size_t zeros = 0, total, pad;

	if (sp->has_precision && sp->precision > n)
		zeros = sp->precision - n;
	total = (sign != 0) + zeros + n;
	pad = sp->width > total ? sp->width - total : 0;
	/* '0' only pads numbers without a precision, after the sign, as C's printf does */
	if (sp->zero && !sp->left && !sp->has_precision) {
		zeros += pad;
		pad = 0;
	}
	if (!sp->left)
		put_chars(o, NULL, pad, ' ');
	put_chars(o, &sign, sign != 0, 0);
	put_chars(o, NULL, zeros, '0');
	put_chars(o, body, n, 0);
	if (sp->left)
		put_chars(o, NULL, pad, ' ');
}

static void
put_number(struct fmt_out *o,
	   const struct spec *sp,
	   unsigned long long v,
	   unsigned base,
	   bool upper,
	   bool negative)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	size_t n = sizeof(tmp);

	/* "%.0d" of 0 prints nothing, like C */
	if (!(v == 0 && sp->has_precision && sp->precision == 0)) {
		do {
			tmp[--n] = digits[v % base];
			v /= base;
		} while (v != 0);
	}
	put_field(o, sp, negative ? '-' : 0, tmp + n, sizeof(tmp) - n);
}

static size_t
read_number(const char **p)
{
	size_t v = 0;

	while (**p >= '0' && **p <= '9') {
		if (v < 100000)
			v = v * 10 + (size_t)(**p - '0');
		(*p)++;
	}
	return v;
}

/* a width or precision: digits, or '*' for an int argument (negative: NULL) */
static size_t
read_count(const char **p, va_list *ap, bool *negative)
{
	int v;

	if (**p != '*')
		return read_number(p);
	(*p)++;
	v = va_arg(*ap, int);
	*negative = v < 0;
	return v < 0 ? 0u - (size_t)v : (size_t)v;
}

size_t
ota_vformat(char *out, size_t size, const char *fmt, va_list ap_in)
{
	struct fmt_out o = {out, size, 0};
	const char *p = fmt;
	va_list ap;

	if (out == NULL || size == 0)
		return 0;
	if (fmt == NULL) {
		out[0] = '\0';
		return 0;
	}
	/* a copy, so that helpers can take its address on every ABI */
	va_copy(ap, ap_in);
	while (*p != '\0') {
		struct spec sp;
		const char *start = p;
		int lng = 0; /* 0 int, 1 long, 2 long long, 3 size_t */
		bool neg = false;

		if (*p != '%') {
			put_chars(&o, p++, 1, 0);
			continue;
		}
		p++;
		ota_fill(&sp, 0, sizeof(sp));
		for (;; p++) {
			if (*p == '-')
				sp.left = true;
			else if (*p == '0')
				sp.zero = true;
			else if (*p != ' ' && *p != '+' && *p != '#')
				break;
		}
		sp.width = read_count(&p, &ap, &neg);
		if (neg)
			sp.left = true;
		if (*p == '.') {
			p++;
			neg = false;
			sp.precision = read_count(&p, &ap, &neg);
			/* a negative precision counts as none */
			sp.has_precision = !neg;
		}
		if (sp.width > 256)
			sp.width = 256;
		while (*p == 'h')
			p++;
		if (*p == 'l') {
			p++;
			lng = 1;
			if (*p == 'l') {
				p++;
				lng = 2;
			}
		} else if (*p == 'z') {
			p++;
			lng = 3;
		}

		switch (*p) {
		case 'd':
		case 'i': {
			long long v;

			if (lng == 1)
				v = va_arg(ap, long);
			else if (lng == 2)
				v = va_arg(ap, long long);
			else if (lng == 3)
				v = (long long)va_arg(ap, size_t);
			else
				v = va_arg(ap, int);
			/* the magnitude of LLONG_MIN does not fit a long long */
			put_number(&o, &sp,
				   v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v, 10,
				   false, v < 0);
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			unsigned long long v;

			if (lng == 1)
				v = va_arg(ap, unsigned long);
			else if (lng == 2)
				v = va_arg(ap, unsigned long long);
			else if (lng == 3)
				v = va_arg(ap, size_t);
			else
				v = va_arg(ap, unsigned int);
			put_number(&o, &sp, v, *p == 'u' ? 10 : 16, *p == 'X', false);
			break;
		}
		case 'p': {
			const void *ptr = va_arg(ap, const void *);

			put_chars(&o, "0x", 2, 0);
			sp.width = sp.width > 2 ? sp.width - 2 : 0;
			put_number(&o, &sp, (unsigned long long)(size_t)ptr, 16, false, false);
			break;
		}
		case 'c': {
			char c = (char)va_arg(ap, int);

			sp.has_precision = false;
			sp.zero = false;
			put_field(&o, &sp, 0, &c, 1);
			break;
		}
		case 's': {
			const char *str = va_arg(ap, const char *);
			size_t n;

			if (str == NULL)
				str = "(null)";
			n = ota_strnlen(str, sp.has_precision ? sp.precision : size);
			sp.has_precision = false;
			sp.zero = false;
			put_field(&o, &sp, 0, str, n);
			break;
		}
		case '%':
			put_chars(&o, "%", 1, 0);
			break;
		default:
			/* unknown or cut-off conversion: print it as it was written */
			if (*p == '\0') {
				put_chars(&o, start, (size_t)(p - start), 0);
				continue;
			}
			put_chars(&o, start, (size_t)(p - start) + 1, 0);
			break;
		}
		p++;
	}
	va_end(ap);
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
