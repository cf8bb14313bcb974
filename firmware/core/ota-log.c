/* SPDX-License-Identifier: MIT */
/* ota-log.c - ESP-IDF style log lines, a history ring and its clients */

#include "ota/ota-log.h"

#include "ota/ota-util.h"

/* ---- formatter: the core's one, in ota-util.c ---- */

size_t
ota_log_vformat(char *out, size_t size, const char *fmt, va_list ap)
{
	return ota_vformat(out, size, fmt, ap);
}

size_t
ota_log_format(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = ota_vformat(out, size, fmt, ap);
	va_end(ap);
	return n;
}

/* ---- ring ---- */

int
ota_log_init(struct ota_log *log, const struct ota_log_config *cfg)
{
	/* log last: GCC turns two independent NULL tests in a row into flags, not branches */
	if (cfg == NULL || cfg->ring == NULL || cfg->send == NULL ||
	    cfg->ring_size < OTA_LOG_LINE_MAX || cfg->ring_size >= 0x80000000u || log == NULL)
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
		/* its next lines were overwritten when seq is behind tail_seq, by 1 to 2^31 lines
		 * of the wrapping counts: say so, then go on with the oldest kept */
		uint32_t lost = log->tail_seq - c->seq;
		bool dropped = lost - 1u < 0x80000000u;
		size_t n = dropped ? ota_format(log->tx, sizeof(log->tx),
						"... %lu lines dropped ...\n", (unsigned long)lost)
				   : ring_copy_line(log, c->pos);

		if (n == 0 || !log->send(log->user, id, log->tx, n))
			return;
		if (dropped) {
			c->dropped += lost;
			c->seq = log->tail_seq;
			c->pos = log->tail;
		} else {
			/* if a line logged from inside send overwrote the next ones, seq tells */
			c->pos += (uint32_t)n;
			c->seq++;
		}
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

/* each level's letter after its colour code (esp_log.h's LOG_COLOR_x), when it has one */
static const char level_prefix[][sizeof(OTA_LOG_COLOR_E) + 1] = {
    "?", OTA_LOG_COLOR_E "E", OTA_LOG_COLOR_W "W", OTA_LOG_COLOR_I "I", "D", "V",
};

int
ota_log_vprintf(
    struct ota_log *log, enum ota_log_level level, const char *tag, const char *fmt, va_list ap)
{
	const size_t reset_len = sizeof(OTA_LOG_RESET_COLOR) - 1;
	const size_t color_len = sizeof(OTA_LOG_COLOR_E) - 1;
	const char *prefix;
	size_t n, tail_room;
	unsigned long ts;

	if (log == NULL || fmt == NULL)
		return OTA_LOG_E_ARGS;
	if (level == OTA_LOG_NONE || level > OTA_LOG_VERBOSE || level > log->level)
		return 0;
	ts = log->clock ? (unsigned long)log->clock(log->user) : 0;
	/* room kept for the reset code and the newline */
	tail_room = (log->colors ? reset_len : 0) + 1;

	prefix = level_prefix[level];
	if (!log->colors && prefix[0] == '\033')
		prefix += color_len;
	n = ota_format(log->fmt, sizeof(log->fmt) - tail_room, "%s (%lu) %s: ", prefix, ts,
		       tag ? tag : "");
	n += ota_vformat(log->fmt + n, sizeof(log->fmt) - tail_room - n, fmt, ap);
	/* a line stays one line, whatever the text or the tag holds (a switch: GCC branches
	 * on each byte instead of building flags) */
	for (char *c = log->fmt; c < log->fmt + n; c++) {
		switch (*c) {
		case '\n':
		case '\r':
			*c = ' ';
			break;
		}
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
