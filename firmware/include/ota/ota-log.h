/* SPDX-License-Identifier: MIT */
/*
 * ota-log.h - the device log stream: ESP-IDF formatted lines, a history ring, TCP clients
 *
 * Lines look exactly like ESP-IDF's with CONFIG_LOG_COLORS: "\033[0;32mI (1234) tag: text
 * \033[0m\n" (E red, W brown/yellow, I green, D and V uncoloured but still reset). They go
 * into a ring buffer the caller provides, and from there to up to OTA_LOG_MAX_CLIENTS
 * clients. A new client first gets the lines still in the ring. The send callback takes a
 * whole line or nothing, so a client that cannot keep up loses whole lines once the ring
 * overwrites them, and then gets "... N lines dropped ...\n" before the next line.
 *
 * <stdarg.h> is used for the printf-like entry points: it is one of the freestanding
 * headers the compiler itself provides, no libc is involved.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ota/ota-errors.h"

/* return codes: 0 or one of the core's common OTA_E_* codes */
#define OTA_LOG_E_ARGS OTA_E_BAD_ARGS /* bad arguments */
#define OTA_LOG_E_FULL OTA_E_BUSY     /* no free client slot */

#define OTA_LOG_MAX_CLIENTS 4
#define OTA_LOG_LINE_MAX 256 /* one line, colour codes and newline included */

/* ESP-IDF's esp_log.h with CONFIG_LOG_COLORS */
#define OTA_LOG_COLOR_E "\033[0;31m"
#define OTA_LOG_COLOR_W "\033[0;33m"
#define OTA_LOG_COLOR_I "\033[0;32m"
#define OTA_LOG_RESET_COLOR "\033[0m"

#if defined(__GNUC__)
#define OTA_LOG_PRINTF(fmt_arg, first_arg) __attribute__((format(printf, fmt_arg, first_arg)))
#else
#define OTA_LOG_PRINTF(fmt_arg, first_arg)
#endif

/* the same numbering as ESP-IDF's esp_log_level_t */
enum ota_log_level {
	OTA_LOG_NONE,
	OTA_LOG_ERROR,
	OTA_LOG_WARN,
	OTA_LOG_INFO,
	OTA_LOG_DEBUG,
	OTA_LOG_VERBOSE,
};

/**
 * ota_log_send_fn:
 *
 * Offers one whole line (newline included) to @client. Return true when all @len bytes
 * were taken, false when the client cannot take them now; then nothing may have been
 * taken, and the same line is offered again on a later ota_log_pump().
 */
typedef bool (*ota_log_send_fn)(void *user, unsigned client, const char *line, size_t len);

/* milliseconds since boot, for the "(1234)" of each line */
typedef uint32_t (*ota_log_clock_fn)(void *user);

struct ota_log_config {
	char *ring;	  /* history storage, caller-provided */
	size_t ring_size; /* at least OTA_LOG_LINE_MAX, below 2^31 */
	ota_log_send_fn send;
	ota_log_clock_fn clock; /* NULL: timestamps are 0 */
	void *user;		/* passed to send and clock */
	enum ota_log_level level;
	bool colors;
};

struct ota_log_client {
	bool used;
	uint32_t seq; /* number of the next line to send */
	uint32_t pos; /* where that line starts, as a running byte count */
	uint32_t dropped;
};

struct ota_log {
	char *ring;
	uint32_t size;
	/* running byte counts and line numbers; they wrap, only differences are used */
	uint32_t head; /* next byte written */
	uint32_t tail; /* first byte of the oldest line kept */
	uint32_t head_seq;
	uint32_t tail_seq;
	ota_log_send_fn send;
	ota_log_clock_fn clock;
	void *user;
	enum ota_log_level level;
	bool colors;
	bool pumping;
	struct ota_log_client clients[OTA_LOG_MAX_CLIENTS];
	char fmt[OTA_LOG_LINE_MAX]; /* the line being formatted */
	char tx[OTA_LOG_LINE_MAX];  /* the line being sent */
};

int ota_log_init(struct ota_log *log, const struct ota_log_config *cfg);

void ota_log_set_level(struct ota_log *log, enum ota_log_level level);

/**
 * ota_log_printf:
 *
 * Formats one line as "I (1234) tag: text" and queues it for every client. Line breaks
 * inside the text become spaces, so a line is always one line; text beyond
 * OTA_LOG_LINE_MAX is cut. Levels above the configured one are dropped.
 *
 * Returns: the length of the line, 0 when filtered out, or a negative error.
 */
int
ota_log_printf(struct ota_log *log, enum ota_log_level level, const char *tag, const char *fmt, ...)
    OTA_LOG_PRINTF(4, 5);
int ota_log_vprintf(struct ota_log *log,
		    enum ota_log_level level,
		    const char *tag,
		    const char *fmt,
		    va_list ap) OTA_LOG_PRINTF(4, 0);

/**
 * ota_log_client_add:
 *
 * Returns: a client number (0 .. OTA_LOG_MAX_CLIENTS - 1) used in the send callback, or
 * OTA_LOG_E_FULL. The history in the ring is sent first.
 */
int ota_log_client_add(struct ota_log *log);
void ota_log_client_remove(struct ota_log *log, unsigned client);

/* offers pending lines to every client until each is up to date or refuses one */
void ota_log_pump(struct ota_log *log);

/* lines that client lost so far because it was too slow */
uint32_t ota_log_client_dropped(const struct ota_log *log, unsigned client);

/**
 * ota_log_format:
 * ota_log_vformat:
 *
 * A small bounded printf: %d %i %u %x %X %c %s %p %%, flags '-' and '0', a width and a
 * precision (digits or '*'), length modifiers h, l, ll, z. NULL for %s prints "(null)".
 * The output is always NUL-terminated when @size > 0.
 *
 * Returns: the number of characters stored, without the NUL (never more than size - 1).
 */
size_t ota_log_format(char *out, size_t size, const char *fmt, ...) OTA_LOG_PRINTF(3, 4);
size_t ota_log_vformat(char *out, size_t size, const char *fmt, va_list ap) OTA_LOG_PRINTF(3, 0);
