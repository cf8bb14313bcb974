/* SPDX-License-Identifier: MIT */
/* fw-log.c - esp_log_set_vprintf() tee into a staging ring, drained into the core's log */

#include "fw-log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "esp_log.h"
#include "freertos/FreeRTOS.h"
#include "fw-glue.h"

static portMUX_TYPE s_lock = portMUX_INITIALIZER_UNLOCKED;
static char s_stage[FW_LOG_STAGE_SIZE];
static uint32_t s_head; /* running byte counts: written, read */
static uint32_t s_tail;
static uint32_t s_lost; /* bytes that did not fit */
static vprintf_like_t s_console;

/* the line being put together from the staged bytes (network task only) */
static char s_line[OTA_LOG_LINE_MAX];
static size_t s_line_len;
static bool s_line_timed;
static uint32_t s_line_ms;

static void
stage(const char *s, size_t n)
{
	portENTER_CRITICAL(&s_lock);
	if (n > FW_LOG_STAGE_SIZE - (s_head - s_tail)) {
		s_lost += (uint32_t)n;
	} else {
		for (size_t i = 0; i < n; i++)
			s_stage[(s_head + i) % FW_LOG_STAGE_SIZE] = s[i];
		s_head += (uint32_t)n;
	}
	portEXIT_CRITICAL(&s_lock);
}

static int
tee_vprintf(const char *fmt, va_list ap)
{
	char line[OTA_LOG_LINE_MAX];
	va_list copy;
	int n;
	int rc;

	va_copy(copy, ap);
	n = vsnprintf(line, sizeof(line), fmt, copy);
	va_end(copy);
	rc = s_console != NULL ? s_console(fmt, ap) : n;
	if (n > 0) {
		size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
		/* a line cut short still ends the line */
		if ((size_t)n >= sizeof(line))
			line[len - 1] = '\n';
		stage(line, len);
	}
	return rc;
}

void
fw_log_tee_install(void)
{
	vprintf_like_t prev = esp_log_set_vprintf(tee_vprintf);
	if (prev != tee_vprintf)
		s_console = prev;
}

uint32_t
fw_log_clock(uint32_t now_ms)
{
	return s_line_timed ? s_line_ms : now_ms;
}

bool
fw_log_pending(void)
{
	bool pending;
	portENTER_CRITICAL(&s_lock);
	pending = s_head != s_tail || s_lost != 0;
	portEXIT_CRITICAL(&s_lock);
	return pending;
}

static void
emit_line(struct ota_log *log)
{
	enum ota_log_level level;
	uint32_t ms;
	char tag[32];
	const char *text;
	size_t text_len;

	if (s_line_len == 0)
		return;
	if (fw_log_parse_line(s_line, s_line_len, &level, &ms, tag, sizeof(tag), &text,
			      &text_len)) {
		s_line_timed = true;
		s_line_ms = ms;
		(void)ota_log_printf(log, level, tag, "%.*s", (int)text_len, text);
		s_line_timed = false;
	} else
		/* printf() output or a line cut short: kept as console text */
		(void)ota_log_printf(log, OTA_LOG_INFO, "console", "%.*s", (int)s_line_len, s_line);
	s_line_len = 0;
}

void
fw_log_drain(struct ota_log *log)
{
	char chunk[128];
	uint32_t lost;

	for (;;) {
		size_t n = 0;
		portENTER_CRITICAL(&s_lock);
		while (n < sizeof(chunk) && s_tail != s_head) {
			chunk[n++] = s_stage[s_tail % FW_LOG_STAGE_SIZE];
			s_tail++;
		}
		lost = s_lost;
		s_lost = 0;
		portEXIT_CRITICAL(&s_lock);
		if (lost != 0)
			(void)ota_log_printf(log, OTA_LOG_WARN, "log",
					     "%u bytes of log output lost (staging ring full)",
					     (unsigned)lost);
		if (n == 0)
			break;
		for (size_t i = 0; i < n; i++) {
			if (chunk[i] == '\n') {
				emit_line(log);
				continue;
			}
			/* a longer line is cut; the core's lines are shorter anyway */
			if (s_line_len < sizeof(s_line) - 1)
				s_line[s_line_len++] = chunk[i];
		}
	}
}
