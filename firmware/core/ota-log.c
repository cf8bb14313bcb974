/* SPDX-License-Identifier: MIT */
/* ota-log.c - ESP-IDF style log lines, a bounded printf, a history ring and its clients */

#include "ota/ota-log.h"

#include "ota/ota-util.h"

/* ---- bounded formatter ---- */

struct sink {
	char *out;
	size_t size;
	size_t len;
};

static void
sink_char(struct sink *s, char c)
{
	if (s->len + 1 < s->size)
		s->out[s->len++] = c;
}

static void
sink_repeat(struct sink *s, char c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sink_char(s, c);
}

static void
sink_bytes(struct sink *s, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sink_char(s, p[i]);
}

struct spec {
	bool left;
	bool zero;
	size_t width;
	bool has_precision;
	size_t precision;
};

/* pad a field of n characters to the width */
static void
emit_padded(struct sink *s, const struct spec *sp, const char *sign, const char *body, size_t n)
{
	size_t sl = sign ? 1 : 0;
	size_t zeros = 0, total, pad;

	if (sp->has_precision && sp->precision > n)
		zeros = sp->precision - n;
	total = sl + zeros + n;
	pad = sp->width > total ? sp->width - total : 0;
	/* '0' only pads numbers without a precision, after the sign, as C's printf does */
	if (sp->zero && !sp->left && !sp->has_precision) {
		zeros += pad;
		pad = 0;
	}
	if (!sp->left)
		sink_repeat(s, ' ', pad);
	if (sign)
		sink_char(s, *sign);
	sink_repeat(s, '0', zeros);
	sink_bytes(s, body, n);
	if (sp->left)
		sink_repeat(s, ' ', pad);
}

static void
emit_unsigned(struct sink *s,
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
	emit_padded(s, sp, negative ? "-" : NULL, tmp + n, sizeof(tmp) - n);
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

size_t
ota_log_vformat(char *out, size_t size, const char *fmt, va_list ap)
{
	struct sink s = {out, size, 0};
	const char *p = fmt;

	if (out == NULL || size == 0)
		return 0;
	if (fmt == NULL) {
		out[0] = '\0';
		return 0;
	}
	while (*p != '\0') {
		struct spec sp;
		const char *start = p;
		int lng = 0; /* 0 int, 1 long, 2 long long, 3 size_t */

		if (*p != '%') {
			sink_char(&s, *p++);
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
		if (*p == '*') {
			int w = va_arg(ap, int);
			p++;
			if (w < 0) {
				sp.left = true;
				w = -w;
			}
			sp.width = (size_t)w;
		} else {
			sp.width = read_number(&p);
		}
		if (*p == '.') {
			p++;
			sp.has_precision = true;
			if (*p == '*') {
				int pr = va_arg(ap, int);
				p++;
				sp.has_precision = pr >= 0;
				sp.precision = pr >= 0 ? (size_t)pr : 0;
			} else {
				sp.precision = read_number(&p);
			}
		}
		if (sp.width > OTA_LOG_LINE_MAX)
			sp.width = OTA_LOG_LINE_MAX;
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
			unsigned long long mag;

			if (lng == 1)
				v = va_arg(ap, long);
			else if (lng == 2)
				v = va_arg(ap, long long);
			else if (lng == 3)
				v = (long long)va_arg(ap, size_t);
			else
				v = va_arg(ap, int);
			/* the magnitude of LLONG_MIN does not fit a long long */
			mag = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
			emit_unsigned(&s, &sp, mag, 10, false, v < 0);
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
			emit_unsigned(&s, &sp, v, *p == 'u' ? 10 : 16, *p == 'X', false);
			break;
		}
		case 'p': {
			const void *ptr = va_arg(ap, const void *);
			struct spec hex = sp;

			sink_bytes(&s, "0x", 2);
			hex.width = sp.width > 2 ? sp.width - 2 : 0;
			emit_unsigned(&s, &hex, (unsigned long long)(size_t)ptr, 16, false, false);
			break;
		}
		case 'c': {
			char c = (char)va_arg(ap, int);
			sp.has_precision = false;
			sp.zero = false;
			emit_padded(&s, &sp, NULL, &c, 1);
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
			emit_padded(&s, &sp, NULL, str, n);
			break;
		}
		case '%':
			sink_char(&s, '%');
			break;
		default:
			/* unknown or cut-off conversion: print it as it was written */
			if (*p == '\0') {
				sink_bytes(&s, start, (size_t)(p - start));
				continue;
			}
			sink_bytes(&s, start, (size_t)(p - start) + 1);
			break;
		}
		p++;
	}
	out[s.len] = '\0';
	return s.len;
}

size_t
ota_log_format(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = ota_log_vformat(out, size, fmt, ap);
	va_end(ap);
	return n;
}

/* ---- ring ---- */

int
ota_log_init(struct ota_log *log, const struct ota_log_config *cfg)
{
	if (log == NULL || cfg == NULL || cfg->ring == NULL || cfg->send == NULL ||
	    cfg->ring_size < OTA_LOG_LINE_MAX || cfg->ring_size >= 0x80000000u)
		return OTA_LOG_E_ARGS;
	ota_fill(log, 0, sizeof(*log));
	log->ring = cfg->ring;
	log->size = (uint32_t)cfg->ring_size;
	log->send = cfg->send;
	log->clock = cfg->clock;
	log->user = cfg->user;
	log->level = cfg->level;
	log->colors = cfg->colors;
	return 0;
}

void
ota_log_set_level(struct ota_log *log, enum ota_log_level level)
{
	if (log != NULL)
		log->level = level;
}

static char
ring_at(const struct ota_log *log, uint32_t pos)
{
	return log->ring[pos % log->size];
}

/* drop the oldest line; every line in the ring ends with '\n' */
static void
ring_evict(struct ota_log *log)
{
	while (log->tail != log->head && ring_at(log, log->tail) != '\n')
		log->tail++;
	if (log->tail != log->head)
		log->tail++;
	log->tail_seq++;
}

static void
ring_append(struct ota_log *log, const char *line, size_t len)
{
	while (log->head - log->tail + len > log->size)
		ring_evict(log);
	for (size_t i = 0; i < len; i++)
		log->ring[(log->head + i) % log->size] = line[i];
	log->head += (uint32_t)len;
	log->head_seq++;
}

/* copy the line starting at pos into tx; returns its length */
static size_t
ring_copy_line(struct ota_log *log, uint32_t pos)
{
	size_t n = 0;

	while (n < sizeof(log->tx) && pos + n != log->head) {
		char c = ring_at(log, pos + (uint32_t)n);
		log->tx[n++] = c;
		if (c == '\n')
			break;
	}
	return n;
}

static void
pump_client(struct ota_log *log, unsigned id)
{
	struct ota_log_client *c = &log->clients[id];

	while (c->used && c->seq != log->head_seq) {
		size_t n;

		if ((int32_t)(c->seq - log->tail_seq) < 0) {
			/* its next lines were overwritten: say so, then go on with the oldest kept
			 */
			uint32_t lost = log->tail_seq - c->seq;

			n = ota_log_format(log->tx, sizeof(log->tx), "... %lu lines dropped ...\n",
					   (unsigned long)lost);
			if (!log->send(log->user, id, log->tx, n))
				return;
			c->dropped += lost;
			c->seq = log->tail_seq;
			c->pos = log->tail;
			continue;
		}
		n = ring_copy_line(log, c->pos);
		if (n == 0 || !log->send(log->user, id, log->tx, n))
			return;
		/* if a line logged from inside send overwrote the next ones, seq tells */
		c->pos += (uint32_t)n;
		c->seq++;
	}
}

void
ota_log_pump(struct ota_log *log)
{
	if (log == NULL || log->pumping)
		return;
	log->pumping = true;
	for (unsigned i = 0; i < OTA_LOG_MAX_CLIENTS; i++)
		pump_client(log, i);
	log->pumping = false;
}

int
ota_log_client_add(struct ota_log *log)
{
	if (log == NULL)
		return OTA_LOG_E_ARGS;
	for (unsigned i = 0; i < OTA_LOG_MAX_CLIENTS; i++) {
		struct ota_log_client *c = &log->clients[i];

		if (c->used)
			continue;
		c->used = true;
		c->seq = log->tail_seq;
		c->pos = log->tail;
		c->dropped = 0;
		return (int)i;
	}
	return OTA_LOG_E_FULL;
}

void
ota_log_client_remove(struct ota_log *log, unsigned client)
{
	if (log != NULL && client < OTA_LOG_MAX_CLIENTS)
		log->clients[client].used = false;
}

uint32_t
ota_log_client_dropped(const struct ota_log *log, unsigned client)
{
	if (log == NULL || client >= OTA_LOG_MAX_CLIENTS)
		return 0;
	return log->clients[client].dropped;
}

/* ---- lines ---- */

static const char *
level_color(enum ota_log_level level)
{
	switch (level) {
	case OTA_LOG_ERROR:
		return OTA_LOG_COLOR_E;
	case OTA_LOG_WARN:
		return OTA_LOG_COLOR_W;
	case OTA_LOG_INFO:
		return OTA_LOG_COLOR_I;
	default:
		return "";
	}
}

int
ota_log_vprintf(
    struct ota_log *log, enum ota_log_level level, const char *tag, const char *fmt, va_list ap)
{
	static const char letters[] = "?EWIDV";
	const size_t reset_len = sizeof(OTA_LOG_RESET_COLOR) - 1;
	size_t n, tail_room;
	unsigned long ts;

	if (log == NULL || fmt == NULL)
		return OTA_LOG_E_ARGS;
	if (level == OTA_LOG_NONE || level > OTA_LOG_VERBOSE || level > log->level)
		return 0;
	ts = log->clock ? (unsigned long)log->clock(log->user) : 0;
	/* room kept for the reset code and the newline */
	tail_room = (log->colors ? reset_len : 0) + 1;

	n = ota_log_format(log->fmt, sizeof(log->fmt) - tail_room,
			   "%s%c (%lu) %s: ", log->colors ? level_color(level) : "", letters[level],
			   ts, tag ? tag : "");
	n += ota_log_vformat(log->fmt + n, sizeof(log->fmt) - tail_room - n, fmt, ap);
	/* a line stays one line, whatever the text or the tag holds */
	for (size_t i = 0; i < n; i++) {
		if (log->fmt[i] == '\n' || log->fmt[i] == '\r')
			log->fmt[i] = ' ';
	}
	if (log->colors) {
		ota_copy(log->fmt + n, OTA_LOG_RESET_COLOR, reset_len);
		n += reset_len;
	}
	log->fmt[n++] = '\n';

	ring_append(log, log->fmt, n);
	ota_log_pump(log);
	return (int)n;
}

int
ota_log_printf(struct ota_log *log, enum ota_log_level level, const char *tag, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = ota_log_vprintf(log, level, tag, fmt, ap);
	va_end(ap);
	return rc;
}
