/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-log-line.h - one line of a device log: the text as shown, its level, tag and
 * timestamps, and the ANSI colours it carried
 *
 * A FleetLogLine is immutable once made (only the hub stamps its sequence number) and
 * reference counted, so the per-device ring, the merged batches, the view and the
 * recorder share one copy. Everything a device sent is untrusted: the text is valid UTF-8
 * without control characters (invalid bytes and controls are shown as \xNN escapes), never
 * markup.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* the same numbering as ESP-IDF's esp_log_level_t; NONE: the line carries no level */
typedef enum {
	FLEET_LOG_LEVEL_NONE,
	FLEET_LOG_LEVEL_ERROR,
	FLEET_LOG_LEVEL_WARN,
	FLEET_LOG_LEVEL_INFO,
	FLEET_LOG_LEVEL_DEBUG,
	FLEET_LOG_LEVEL_VERBOSE,
} FleetLogLevel;

typedef enum {
	FLEET_LOG_LINE_KIND_TEXT,    /* a line the device sent */
	FLEET_LOG_LINE_KIND_EVENT,   /* from the viewer: connected, disconnected, reconnected… */
	FLEET_LOG_LINE_KIND_DROPPED, /* lines were lost here (the device said so) */
} FleetLogLineKind;

/* SGR attributes of a span */
typedef enum {
	FLEET_LOG_ATTR_BOLD = 1 << 0,
	FLEET_LOG_ATTR_DIM = 1 << 1,
	FLEET_LOG_ATTR_ITALIC = 1 << 2,
	FLEET_LOG_ATTR_UNDERLINE = 1 << 3,
	FLEET_LOG_ATTR_INVERSE = 1 << 4,
} FleetLogAttr;

/* colour values in a span: 0 is the default, 1 + N is colour N of the xterm 256 palette */
#define FLEET_LOG_COLOR_DEFAULT 0

/**
 * FleetLogSpan:
 * @start: first byte of the span in the line's text
 * @end: byte after it
 * @fg: foreground, %FLEET_LOG_COLOR_DEFAULT or 1 + palette index
 * @bg: background, likewise
 * @attrs: #FleetLogAttr flags
 *
 * A run of text with the same non-default SGR state. Spans do not overlap and are sorted.
 */
typedef struct {
	guint32 start;
	guint32 end;
	guint16 fg;
	guint16 bg;
	guint8 attrs;
} FleetLogSpan;

/* bytes of one line before it is cut (the splitter breaks longer lines there) */
#define FLEET_LOG_LINE_MAX 4096

typedef struct _FleetLogLine FleetLogLine;

#define FLEET_TYPE_LOG_LINE (fleet_log_line_get_type())
GType
fleet_log_line_get_type(void);

/**
 * fleet_log_line_parse:
 * @device_id: the device the line belongs to
 * @host_time: g_get_real_time() when it arrived
 * @data: the bytes of one line, without its line break; any bytes
 * @len: their number; at most %FLEET_LOG_LINE_MAX are used
 *
 * Takes ANSI escape sequences out (SGR colours become spans, everything else is dropped),
 * escapes invalid UTF-8 and control characters, and recognises ESP-IDF log lines
 * ("I (1234) tag: text", also with "(12:34:56.789)" system time), Arduino-ESP32 core lines
 * ("[  1234][E][file.cpp:12] func(): text") and the log stream's "... N lines dropped ..."
 * marker. Anything else is kept verbatim with level %FLEET_LOG_LEVEL_NONE.
 *
 * Returns: (transfer full): the line
 */
FleetLogLine *
fleet_log_line_parse(const gchar *device_id, gint64 host_time, const guint8 *data, gsize len);

/* a line the viewer itself adds (kind EVENT, or DROPPED for a marker); @text is plain
 * text and is sanitised like device text */
FleetLogLine *
fleet_log_line_new_event(const gchar *device_id,
			 gint64 host_time,
			 FleetLogLineKind kind,
			 FleetLogLevel level,
			 const gchar *text);

/**
 * fleet_log_line_new_full:
 * @tag: (nullable): the tag, NULL when none
 * @device_ms: the device's own timestamp in milliseconds, -1 when none
 * @text: the text as the line shows it (sanitised here)
 * @msg_offset: where the message starts in @text (after "I (12) tag: "), 0 when no prefix
 *
 * A line whose parts come from elsewhere (syslog fields, an update transcript).
 */
FleetLogLine *
fleet_log_line_new_full(const gchar *device_id,
			gint64 host_time,
			FleetLogLevel level,
			const gchar *tag,
			gint64 device_ms,
			const gchar *text,
			gsize msg_offset);

FleetLogLine *
fleet_log_line_ref(FleetLogLine *self);
void
fleet_log_line_unref(FleetLogLine *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FleetLogLine, fleet_log_line_unref)

const gchar *
fleet_log_line_get_device_id(const FleetLogLine *self);
/* g_get_real_time() of arrival */
gint64
fleet_log_line_get_host_time(const FleetLogLine *self);
/* milliseconds the device printed (since boot, or of the day), -1 when none */
gint64
fleet_log_line_get_device_ms(const FleetLogLine *self);
FleetLogLevel
fleet_log_line_get_level(const FleetLogLine *self);
FleetLogLineKind
fleet_log_line_get_kind(const FleetLogLine *self);
/* (nullable) */
const gchar *
fleet_log_line_get_tag(const FleetLogLine *self);
/* the whole line as shown, without colour codes */
const gchar *
fleet_log_line_get_text(const FleetLogLine *self);
gsize
fleet_log_line_get_text_len(const FleetLogLine *self);
/* the message after the "I (12) tag: " prefix */
const gchar *
fleet_log_line_get_message(const FleetLogLine *self);
const FleetLogSpan *
fleet_log_line_get_spans(const FleetLogLine *self, guint *n_spans);
/* the number of lines the device reported lost, for kind DROPPED markers it sent */
guint
fleet_log_line_get_dropped(const FleetLogLine *self);

/**
 * fleet_log_line_get_raw:
 *
 * The bytes as received. Lines whose only escapes were ESP-IDF style colours keep no copy:
 * their bytes are rebuilt from the text and spans, identical to what arrived.
 *
 * Returns: (transfer full): the raw bytes
 */
GBytes *
fleet_log_line_get_raw(const FleetLogLine *self);

/* arrival order over every device, stamped by FleetLogHub; 0 before that */
guint64
fleet_log_line_get_seq(const FleetLogLine *self);
void
fleet_log_line_set_seq(FleetLogLine *self, guint64 seq);

/**
 * fleet_log_line_dup_redacted:
 * @secrets: (element-type utf8): strings that must never be shown
 *
 * Returns: (transfer full) (nullable): a copy with every occurrence of a secret replaced
 * by asterisks, or %NULL when the line contains none of them
 */
FleetLogLine *
fleet_log_line_dup_redacted(const FleetLogLine *self, GPtrArray *secrets);

/* 'E', 'W', 'I', 'D', 'V' or ' ' */
gchar
fleet_log_level_to_char(FleetLogLevel level);
/* "error", "warn", "info", "debug", "verbose" (or a letter, any case); FALSE otherwise */
gboolean
fleet_log_level_from_string(const gchar *text, FleetLogLevel *level);

typedef enum {
	FLEET_LOG_FORMAT_NONE = 0,
	FLEET_LOG_FORMAT_HOST_TIME = 1 << 0, /* "12:34:56.789 " local time of arrival */
	FLEET_LOG_FORMAT_DEVICE = 1 << 1,    /* the device name, padded to a column */
	FLEET_LOG_FORMAT_COLOR = 1 << 2,     /* ANSI colours (the line's own, or by level) */
} FleetLogFormatFlags;

/* width of the device column */
#define FLEET_LOG_DEVICE_COLUMN 16

/**
 * fleet_log_line_format:
 * @device_name: (nullable): shown in the device column (sanitised, padded or cut)
 *
 * Appends the line as a serial monitor shows it, with a newline, to @out. EVENT lines
 * start with "--- ", as idf.py monitor marks its own messages.
 */
void
fleet_log_line_format(const FleetLogLine *self,
		      const gchar *device_name,
		      FleetLogFormatFlags flags,
		      GString *out);

G_END_DECLS
