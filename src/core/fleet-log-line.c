/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-log-line.c - one line of a device log: ANSI colours, ESP-IDF prefix, escapes */

#include "config.h"

#include "fleet-log-line.h"

#include <string.h>

#include "fleet-text.h"

/* spans kept per line; a line that changes colour more often keeps its first ones */
#define FLEET_LOG_SPANS_MAX 64
/* CSI parameters looked at */
#define FLEET_LOG_CSI_PARAMS_MAX 16
/* longest tag taken from an ESP-IDF or Arduino prefix */
#define FLEET_LOG_TAG_MAX 64
/* escapes make the shown text at most this much longer than the bytes */
#define FLEET_LOG_TEXT_MAX (FLEET_LOG_LINE_MAX * 4)

enum {
	FLEET_LOG_LINE_FLAG_TRAILING_RESET = 1 << 0, /* raw had an extra "\033[0m" at the end */
};

struct _FleetLogLine {
	gint ref_count;
	guint8 kind;
	guint8 level;
	guint8 flags;
	guint16 n_spans;
	guint16 msg_offset;
	guint32 text_len;
	guint32 raw_len;
	guint32 dropped;
	guint64 seq;
	gint64 host_time;
	gint64 device_ms;
	gchar *device_id; /* GRefString, interned */
	const gchar *text;
	const gchar *tag;
	const gchar *raw; /* NULL: rebuilt from text and spans */
	FleetLogSpan *spans;
	/* spans, then text, tag and raw, each NUL-terminated */
	guint64 data[];
};

G_DEFINE_BOXED_TYPE(FleetLogLine, fleet_log_line, fleet_log_line_ref, fleet_log_line_unref)

typedef struct {
	guint16 fg;
	guint16 bg;
	guint8 attrs;
} FleetLogSgr;

/* everything a line is made of, before it is packed into one allocation */
typedef struct {
	gchar text[FLEET_LOG_TEXT_MAX + 8];
	gsize text_len;
	FleetLogSpan spans[FLEET_LOG_SPANS_MAX];
	guint n_spans;
	FleetLogSgr sgr;
	guint32 open_start;
	gboolean lossy; /* something other than colours was dropped or escaped */
} FleetLogBuilder;

static gboolean
fleet_log_sgr_is_default(const FleetLogSgr *s)
{
	return s->fg == FLEET_LOG_COLOR_DEFAULT && s->bg == FLEET_LOG_COLOR_DEFAULT &&
	       s->attrs == 0;
}

static gboolean
fleet_log_sgr_equal(const FleetLogSgr *a, const FleetLogSpan *b)
{
	return a->fg == b->fg && a->bg == b->bg && a->attrs == b->attrs;
}

static void
fleet_log_builder_init(FleetLogBuilder *b)
{
	b->text_len = 0;
	b->n_spans = 0;
	b->sgr = (FleetLogSgr){0, 0, 0};
	b->open_start = 0;
	b->lossy = FALSE;
}

static void
fleet_log_builder_close_span(FleetLogBuilder *b)
{
	FleetLogSpan *last;

	if (fleet_log_sgr_is_default(&b->sgr) || b->text_len <= b->open_start)
		return;
	last = b->n_spans > 0 ? &b->spans[b->n_spans - 1] : NULL;
	/* the same colour set twice in a row is one span */
	if (last != NULL && last->end == b->open_start && fleet_log_sgr_equal(&b->sgr, last)) {
		last->end = (guint32)b->text_len;
		return;
	}
	if (b->n_spans >= FLEET_LOG_SPANS_MAX) {
		b->lossy = TRUE;
		return;
	}
	b->spans[b->n_spans++] =
	    (FleetLogSpan){b->open_start, (guint32)b->text_len, b->sgr.fg, b->sgr.bg, b->sgr.attrs};
}

static void
fleet_log_builder_append(FleetLogBuilder *b, const gchar *p, gsize n)
{
	if (b->text_len + n > FLEET_LOG_TEXT_MAX) {
		b->lossy = TRUE;
		return;
	}
	memcpy(b->text + b->text_len, p, n);
	b->text_len += n;
}

static void
fleet_log_builder_escape(FleetLogBuilder *b, guint c)
{
	gchar tmp[16];
	gint n;
	if (c < 0x100)
		n = g_snprintf(tmp, sizeof(tmp), "\\x%02x", c);
	else
		n = g_snprintf(tmp, sizeof(tmp), "\\u%04x", c);
	fleet_log_builder_append(b, tmp, (gsize)n);
	b->lossy = TRUE;
}

/* the xterm 256-colour index nearest to an RGB colour (the 6×6×6 cube or the grey ramp) */
static guint
fleet_log_rgb_to_256(guint r, guint g, guint bl)
{
	guint ri = r < 48 ? 0 : r < 115 ? 1 : (r - 35) / 40;
	guint gi = g < 48 ? 0 : g < 115 ? 1 : (g - 35) / 40;
	guint bi = bl < 48 ? 0 : bl < 115 ? 1 : (bl - 35) / 40;
	if (r == g && g == bl && r > 8 && r < 238)
		return 232 + (r - 8) / 10;
	return 16 + 36 * MIN(ri, 5u) + 6 * MIN(gi, 5u) + MIN(bi, 5u);
}

/* 38;5;N or 38;2;R;G;B at params[*i]; returns the colour value, 0 when malformed */
static guint16
fleet_log_sgr_extended(const guint *params, guint n, guint *i)
{
	if (*i + 2 < n && params[*i + 1] == 5) {
		guint idx = params[*i + 2];
		*i += 2;
		return idx < 256 ? (guint16)(idx + 1) : 0;
	}
	if (*i + 4 < n && params[*i + 1] == 2) {
		guint r = MIN(params[*i + 2], 255u);
		guint g = MIN(params[*i + 3], 255u);
		guint bl = MIN(params[*i + 4], 255u);
		*i += 4;
		return (guint16)(fleet_log_rgb_to_256(r, g, bl) + 1);
	}
	/* malformed: the rest of the parameters cannot be told apart */
	*i = n;
	return 0;
}

static void
fleet_log_sgr_apply(FleetLogSgr *s, const guint *params, guint n)
{
	if (n == 0) {
		*s = (FleetLogSgr){0, 0, 0};
		return;
	}
	for (guint i = 0; i < n; i++) {
		guint p = params[i];
		if (p == 0)
			*s = (FleetLogSgr){0, 0, 0};
		else if (p == 1)
			s->attrs |= FLEET_LOG_ATTR_BOLD;
		else if (p == 2)
			s->attrs |= FLEET_LOG_ATTR_DIM;
		else if (p == 3)
			s->attrs |= FLEET_LOG_ATTR_ITALIC;
		else if (p == 4)
			s->attrs |= FLEET_LOG_ATTR_UNDERLINE;
		else if (p == 7)
			s->attrs |= FLEET_LOG_ATTR_INVERSE;
		else if (p == 22)
			s->attrs &= (guint8) ~(FLEET_LOG_ATTR_BOLD | FLEET_LOG_ATTR_DIM);
		else if (p == 23)
			s->attrs &= (guint8)~FLEET_LOG_ATTR_ITALIC;
		else if (p == 24)
			s->attrs &= (guint8)~FLEET_LOG_ATTR_UNDERLINE;
		else if (p == 27)
			s->attrs &= (guint8)~FLEET_LOG_ATTR_INVERSE;
		else if (p >= 30 && p <= 37)
			s->fg = (guint16)(p - 30 + 1);
		else if (p == 38)
			s->fg = fleet_log_sgr_extended(params, n, &i);
		else if (p == 39)
			s->fg = FLEET_LOG_COLOR_DEFAULT;
		else if (p >= 40 && p <= 47)
			s->bg = (guint16)(p - 40 + 1);
		else if (p == 48)
			s->bg = fleet_log_sgr_extended(params, n, &i);
		else if (p == 49)
			s->bg = FLEET_LOG_COLOR_DEFAULT;
		else if (p >= 90 && p <= 97)
			s->fg = (guint16)(p - 90 + 8 + 1);
		else if (p >= 100 && p <= 107)
			s->bg = (guint16)(p - 100 + 8 + 1);
	}
}

/*
 * an escape sequence at data[i] (data[i] is ESC): returns its length, 0 when it is not a
 * complete one (the ESC is then shown as an escape)
 */
static gsize
fleet_log_builder_escape_sequence(FleetLogBuilder *b, const guint8 *data, gsize len, gsize i)
{
	gsize j;

	if (i + 1 >= len)
		return 0;
	if (data[i + 1] == '[') {
		guint params[FLEET_LOG_CSI_PARAMS_MAX];
		guint n = 0;
		guint cur = 0;
		gboolean have = FALSE;
		gboolean private_marker = FALSE;
		gboolean intermediate = FALSE;
		for (j = i + 2; j < len; j++) {
			guint8 c = data[j];
			if (c >= '0' && c <= '9' && !intermediate) {
				cur = MIN(cur * 10 + (guint)(c - '0'), 9999u);
				have = TRUE;
			} else if ((c == ';' || c == ':') && !intermediate) {
				if (n < FLEET_LOG_CSI_PARAMS_MAX)
					params[n++] = cur;
				cur = 0;
				have = FALSE;
			} else if (c >= 0x3c && c <= 0x3f && !intermediate) {
				private_marker = TRUE;
			} else if (c >= 0x20 && c <= 0x2f) {
				intermediate = TRUE;
			} else if (c >= 0x40 && c <= 0x7e) {
				break;
			} else {
				return 0;
			}
		}
		if (j >= len)
			return 0;
		if (have || n > 0) {
			if (n < FLEET_LOG_CSI_PARAMS_MAX)
				params[n++] = cur;
		}
		if (data[j] == 'm' && !private_marker && !intermediate) {
			FleetLogSgr before = b->sgr;
			FleetLogSgr after = b->sgr;
			fleet_log_sgr_apply(&after, params, n);
			if (memcmp(&before, &after, sizeof(before)) != 0) {
				fleet_log_builder_close_span(b);
				b->sgr = after;
				b->open_start = (guint32)b->text_len;
			}
		} else {
			/* cursor movement, erase, …: a log has no screen to act on */
			b->lossy = TRUE;
		}
		return j + 1 - i;
	}
	if (data[i + 1] == ']') {
		/* OSC (window titles, hyperlinks), ended by BEL or ESC \ */
		for (j = i + 2; j < len; j++) {
			if (data[j] == 0x07) {
				b->lossy = TRUE;
				return j + 1 - i;
			}
			if (data[j] == 0x1b && j + 1 < len && data[j + 1] == '\\') {
				b->lossy = TRUE;
				return j + 2 - i;
			}
		}
		return 0;
	}
	/* nF and Fp/Fe/Fs escapes: intermediates 0x20-0x2f, then a final 0x30-0x7e
	 * (charset selection "ESC ( B", reset "ESC c", keypad modes) */
	for (j = i + 1; j < len && data[j] >= 0x20 && data[j] <= 0x2f; j++)
		;
	if (j < len && data[j] >= 0x30 && data[j] <= 0x7e) {
		b->lossy = TRUE;
		return j + 1 - i;
	}
	return 0;
}

static gboolean
fleet_log_is_hidden_control(gunichar c)
{
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == 0x2028 || c == 0x2029 ||
	       (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

static void
fleet_log_builder_feed(FleetLogBuilder *b, const guint8 *data, gsize len)
{
	gsize i = 0;
	while (i < len) {
		guint8 c = data[i];
		if (c == 0x1b) {
			gsize n = fleet_log_builder_escape_sequence(b, data, len, i);
			if (n > 0) {
				i += n;
				continue;
			}
			fleet_log_builder_escape(b, c);
			i++;
		} else if (c == '\t') {
			fleet_log_builder_append(b, "\t", 1);
			i++;
		} else if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				fleet_log_builder_escape(b, c);
			else
				fleet_log_builder_append(b, (const gchar *)data + i, 1);
			i++;
		} else {
			gunichar u =
			    g_utf8_get_char_validated((const gchar *)data + i, (gssize)(len - i));
			if (u == (gunichar)-1 || u == (gunichar)-2) {
				fleet_log_builder_escape(b, c);
				i++;
			} else {
				const gchar *next = g_utf8_next_char((const gchar *)data + i);
				gsize n = (gsize)(next - ((const gchar *)data + i));
				if (fleet_log_is_hidden_control(u))
					fleet_log_builder_escape(b, u);
				else
					fleet_log_builder_append(b, (const gchar *)data + i, n);
				i += n;
			}
		}
	}
	fleet_log_builder_close_span(b);
}

/* ---- ESP-IDF and Arduino prefixes ---- */

typedef struct {
	FleetLogLevel level;
	gint64 device_ms;
	gsize tag_start;
	gsize tag_len;
	gsize msg_offset;
} FleetLogPrefix;

static FleetLogLevel
fleet_log_level_from_letter(gchar c)
{
	switch (c) {
	case 'E':
		return FLEET_LOG_LEVEL_ERROR;
	case 'W':
		return FLEET_LOG_LEVEL_WARN;
	case 'I':
		return FLEET_LOG_LEVEL_INFO;
	case 'D':
		return FLEET_LOG_LEVEL_DEBUG;
	case 'V':
		return FLEET_LOG_LEVEL_VERBOSE;
	default:
		return FLEET_LOG_LEVEL_NONE;
	}
}

/* up to @max digits at t[*i]; FALSE when there are none */
static gboolean
fleet_log_digits(const gchar *t, gsize len, gsize *i, guint max, guint64 *value)
{
	guint n = 0;
	*value = 0;
	while (*i < len && g_ascii_isdigit(t[*i]) && n < max) {
		*value = *value * 10 + (guint64)(t[*i] - '0');
		(*i)++;
		n++;
	}
	return n > 0 && !(*i < len && g_ascii_isdigit(t[*i]));
}

static gboolean
fleet_log_two_digits(const gchar *t, gsize len, gsize i, guint max, guint64 *value)
{
	if (i + 2 > len || !g_ascii_isdigit(t[i]) || !g_ascii_isdigit(t[i + 1]))
		return FALSE;
	*value = (guint64)((t[i] - '0') * 10 + (t[i + 1] - '0'));
	return *value <= max;
}

/* "(1234)" or "(12:34:56.789)" at t[*i] */
static gboolean
fleet_log_idf_timestamp(const gchar *t, gsize len, gsize *i, gint64 *ms)
{
	guint64 v = 0;
	guint64 h, m, s, frac;
	gsize j = *i + 1;

	if (*i >= len || t[*i] != '(')
		return FALSE;
	if (j + 13 <= len && t[j + 2] == ':' && t[j + 5] == ':' && t[j + 8] == '.' &&
	    t[j + 12] == ')' && fleet_log_two_digits(t, len, j, 23, &h) &&
	    fleet_log_two_digits(t, len, j + 3, 59, &m) &&
	    fleet_log_two_digits(t, len, j + 6, 59, &s)) {
		gsize k = j + 9;
		if (!fleet_log_digits(t, len, &k, 3, &frac) || k != j + 12)
			return FALSE;
		*ms = (gint64)(((h * 60 + m) * 60 + s) * 1000 + frac);
		*i = j + 13;
		return TRUE;
	}
	if (!fleet_log_digits(t, len, &j, 10, &v) || j >= len || t[j] != ')' || v > G_MAXUINT32)
		return FALSE;
	*ms = (gint64)v;
	*i = j + 1;
	return TRUE;
}

static gboolean
fleet_log_tag_ok(const gchar *t, gsize start, gsize n)
{
	if (n == 0 || n > FLEET_LOG_TAG_MAX)
		return FALSE;
	for (gsize k = start; k < start + n; k++) {
		if (t[k] == '\\' && k + 1 < start + n && t[k + 1] == 'x')
			return FALSE; /* an escaped control: not a tag */
	}
	return TRUE;
}

/* "I (1234) tag: text" */
static gboolean
fleet_log_parse_idf(const gchar *t, gsize len, FleetLogPrefix *p)
{
	gsize i = 2;
	const gchar *colon;

	if (len < 7 || fleet_log_level_from_letter(t[0]) == FLEET_LOG_LEVEL_NONE || t[1] != ' ')
		return FALSE;
	if (!fleet_log_idf_timestamp(t, len, &i, &p->device_ms))
		return FALSE;
	if (i >= len || t[i] != ' ')
		return FALSE;
	i++;
	colon = g_strstr_len(t + i, (gssize)(len - i), ": ");
	if (colon != NULL) {
		p->tag_start = i;
		p->tag_len = (gsize)(colon - (t + i));
		p->msg_offset = p->tag_start + p->tag_len + 2;
	} else if (t[len - 1] == ':' && len > i + 1) {
		p->tag_start = i;
		p->tag_len = len - 1 - i;
		p->msg_offset = len;
	} else {
		return FALSE;
	}
	if (!fleet_log_tag_ok(t, p->tag_start, p->tag_len))
		return FALSE;
	p->level = fleet_log_level_from_letter(t[0]);
	return TRUE;
}

/* "[  1234][E][file.cpp:12] func(): text" or "[E][file.cpp:12] func(): text" */
static gboolean
fleet_log_parse_arduino(const gchar *t, gsize len, FleetLogPrefix *p)
{
	gsize i = 0;
	gsize file_start;
	gsize file_end;
	guint64 v;

	if (len < 8 || t[0] != '[')
		return FALSE;
	i = 1;
	p->device_ms = -1;
	if (t[i] == ' ' || g_ascii_isdigit(t[i])) {
		while (i < len && t[i] == ' ')
			i++;
		if (!fleet_log_digits(t, len, &i, 10, &v) || i >= len || t[i] != ']' ||
		    v > G_MAXUINT32)
			return FALSE;
		p->device_ms = (gint64)v;
		i++;
		if (i >= len || t[i] != '[')
			return FALSE;
		i++;
	}
	if (i + 3 > len || fleet_log_level_from_letter(t[i]) == FLEET_LOG_LEVEL_NONE ||
	    t[i + 1] != ']' || t[i + 2] != '[')
		return FALSE;
	p->level = fleet_log_level_from_letter(t[i]);
	file_start = i + 3;
	file_end = file_start;
	while (file_end < len && t[file_end] != ':' && t[file_end] != ']')
		file_end++;
	if (file_end >= len || t[file_end] != ':')
		return FALSE;
	i = file_end + 1;
	if (!fleet_log_digits(t, len, &i, 6, &v) || i >= len || t[i] != ']')
		return FALSE;
	i++;
	if (i < len && t[i] == ' ')
		i++;
	p->tag_start = file_start;
	p->tag_len = file_end - file_start;
	p->msg_offset = i;
	return fleet_log_tag_ok(t, p->tag_start, p->tag_len);
}

/* "... 12 lines dropped ..." from ota-log */
static gboolean
fleet_log_parse_dropped(const gchar *t, gsize len, guint *dropped)
{
	gsize i = 4;
	guint64 v;
	if (len < 22 || memcmp(t, "... ", 4) != 0)
		return FALSE;
	if (!fleet_log_digits(t, len, &i, 10, &v) || v > G_MAXUINT32)
		return FALSE;
	if (len - i != strlen(" lines dropped ...") ||
	    memcmp(t + i, " lines dropped ...", len - i) != 0)
		return FALSE;
	*dropped = (guint)v;
	return TRUE;
}

/* ---- packing ---- */

typedef struct {
	const gchar *device_id;
	gint64 host_time;
	FleetLogLineKind kind;
	FleetLogLevel level;
	gint64 device_ms;
	const gchar *text;
	gsize text_len;
	const gchar *tag;
	gsize tag_len;
	gsize msg_offset;
	const gchar *raw;
	gsize raw_len;
	const FleetLogSpan *spans;
	guint n_spans;
	guint8 flags;
	guint dropped;
} FleetLogLineParts;

static FleetLogLine *
fleet_log_line_pack(const FleetLogLineParts *p)
{
	gsize size = sizeof(FleetLogLine) + p->n_spans * sizeof(FleetLogSpan) + p->text_len + 1 +
		     (p->tag != NULL ? p->tag_len + 1 : 0) + (p->raw != NULL ? p->raw_len + 1 : 0);
	FleetLogLine *self = g_malloc(size);
	gchar *at;

	self->ref_count = 1;
	self->kind = (guint8)p->kind;
	self->level = (guint8)p->level;
	self->flags = p->flags;
	self->n_spans = (guint16)p->n_spans;
	self->msg_offset = (guint16)MIN(p->msg_offset, p->text_len);
	self->text_len = (guint32)p->text_len;
	self->raw_len = (guint32)p->raw_len;
	self->dropped = p->dropped;
	self->seq = 0;
	self->host_time = p->host_time;
	self->device_ms = p->device_ms;
	self->device_id = g_ref_string_new_intern(p->device_id != NULL ? p->device_id : "");
	self->spans = (FleetLogSpan *)self->data;
	if (p->n_spans > 0)
		memcpy(self->spans, p->spans, p->n_spans * sizeof(FleetLogSpan));
	at = (gchar *)(self->spans + p->n_spans);
	memcpy(at, p->text, p->text_len);
	at[p->text_len] = '\0';
	self->text = at;
	at += p->text_len + 1;
	self->tag = NULL;
	if (p->tag != NULL) {
		memcpy(at, p->tag, p->tag_len);
		at[p->tag_len] = '\0';
		self->tag = at;
		at += p->tag_len + 1;
	}
	self->raw = NULL;
	if (p->raw != NULL) {
		memcpy(at, p->raw, p->raw_len);
		at[p->raw_len] = '\0';
		self->raw = at;
	}
	return self;
}

static void
fleet_log_sgr_code(GString *out, guint16 fg, guint16 bg, guint8 attrs)
{
	g_string_append(out, "\033[0");
	if (attrs & FLEET_LOG_ATTR_BOLD)
		g_string_append(out, ";1");
	if (attrs & FLEET_LOG_ATTR_DIM)
		g_string_append(out, ";2");
	if (attrs & FLEET_LOG_ATTR_ITALIC)
		g_string_append(out, ";3");
	if (attrs & FLEET_LOG_ATTR_UNDERLINE)
		g_string_append(out, ";4");
	if (attrs & FLEET_LOG_ATTR_INVERSE)
		g_string_append(out, ";7");
	if (fg >= 1 && fg <= 8)
		g_string_append_printf(out, ";3%u", (guint)(fg - 1));
	else if (fg >= 9 && fg <= 16)
		g_string_append_printf(out, ";9%u", (guint)(fg - 9));
	else if (fg > 16)
		g_string_append_printf(out, ";38;5;%u", (guint)(fg - 1));
	if (bg >= 1 && bg <= 8)
		g_string_append_printf(out, ";4%u", (guint)(bg - 1));
	else if (bg >= 9 && bg <= 16)
		g_string_append_printf(out, ";10%u", (guint)(bg - 9));
	else if (bg > 16)
		g_string_append_printf(out, ";48;5;%u", (guint)(bg - 1));
	g_string_append_c(out, 'm');
}

/* the text with its spans as SGR codes, the way ESP-IDF writes them */
static void
fleet_log_append_colored(GString *out,
			 const gchar *text,
			 gsize text_len,
			 const FleetLogSpan *spans,
			 guint n_spans,
			 gboolean trailing_reset)
{
	gsize pos = 0;
	for (guint i = 0; i < n_spans; i++) {
		const FleetLogSpan *s = &spans[i];
		g_string_append_len(out, text + pos, (gssize)(s->start - pos));
		fleet_log_sgr_code(out, s->fg, s->bg, s->attrs);
		g_string_append_len(out, text + s->start, (gssize)(s->end - s->start));
		if (i + 1 >= n_spans || spans[i + 1].start != s->end)
			g_string_append(out, "\033[0m");
		pos = s->end;
	}
	g_string_append_len(out, text + pos, (gssize)(text_len - pos));
	if (trailing_reset && (n_spans == 0 || spans[n_spans - 1].end != text_len))
		g_string_append(out, "\033[0m");
}

static gboolean
fleet_log_ends_with_reset(const guint8 *data, gsize len)
{
	return len >= 4 && memcmp(data + len - 4, "\033[0m", 4) == 0;
}

FleetLogLine *
fleet_log_line_parse(const gchar *device_id, gint64 host_time, const guint8 *data, gsize len)
{
	g_autofree FleetLogBuilder *b = g_new(FleetLogBuilder, 1);
	FleetLogLineParts parts = {0};
	FleetLogPrefix prefix = {FLEET_LOG_LEVEL_NONE, -1, 0, 0, 0};
	gboolean have_prefix;

	g_return_val_if_fail(data != NULL || len == 0, NULL);

	len = MIN(len, (gsize)FLEET_LOG_LINE_MAX);
	fleet_log_builder_init(b);
	fleet_log_builder_feed(b, data, len);

	parts.device_id = device_id;
	parts.host_time = host_time;
	parts.kind = FLEET_LOG_LINE_KIND_TEXT;
	parts.text = b->text;
	parts.text_len = b->text_len;
	parts.spans = b->spans;
	parts.n_spans = b->n_spans;
	parts.device_ms = -1;

	have_prefix = fleet_log_parse_idf(b->text, b->text_len, &prefix) ||
		      fleet_log_parse_arduino(b->text, b->text_len, &prefix);
	if (have_prefix) {
		parts.level = prefix.level;
		parts.device_ms = prefix.device_ms;
		parts.tag = b->text + prefix.tag_start;
		parts.tag_len = prefix.tag_len;
		parts.msg_offset = prefix.msg_offset;
	} else if (fleet_log_parse_dropped(b->text, b->text_len, &parts.dropped)) {
		parts.kind = FLEET_LOG_LINE_KIND_DROPPED;
		parts.level = FLEET_LOG_LEVEL_WARN;
	}

	/* keep the raw bytes only when the text and spans cannot give them back */
	if (fleet_log_ends_with_reset(data, len))
		parts.flags |= FLEET_LOG_LINE_FLAG_TRAILING_RESET;
	if (!b->lossy) {
		g_autoptr(GString) again = g_string_sized_new(len + 16);
		fleet_log_append_colored(again, b->text, b->text_len, b->spans, b->n_spans,
					 (parts.flags & FLEET_LOG_LINE_FLAG_TRAILING_RESET) != 0);
		if (again->len != len || memcmp(again->str, data, len) != 0)
			b->lossy = TRUE;
	}
	if (b->lossy) {
		parts.raw = (const gchar *)data;
		parts.raw_len = len;
		parts.flags = 0;
	}
	return fleet_log_line_pack(&parts);
}

/* sanitised copy of engine or syslog text (no colours), into @b */
static void
fleet_log_builder_plain(FleetLogBuilder *b, const gchar *text)
{
	gsize len = text != NULL ? strlen(text) : 0;
	fleet_log_builder_init(b);
	fleet_log_builder_feed(b, (const guint8 *)(text != NULL ? text : ""),
			       MIN(len, (gsize)FLEET_LOG_LINE_MAX));
}

FleetLogLine *
fleet_log_line_new_event(const gchar *device_id,
			 gint64 host_time,
			 FleetLogLineKind kind,
			 FleetLogLevel level,
			 const gchar *text)
{
	g_autofree FleetLogBuilder *b = g_new(FleetLogBuilder, 1);
	FleetLogLineParts parts = {0};

	fleet_log_builder_plain(b, text);
	parts.device_id = device_id;
	parts.host_time = host_time;
	parts.kind = kind;
	parts.level = level;
	parts.device_ms = -1;
	parts.text = b->text;
	parts.text_len = b->text_len;
	parts.spans = b->spans;
	parts.n_spans = b->n_spans;
	return fleet_log_line_pack(&parts);
}

FleetLogLine *
fleet_log_line_new_full(const gchar *device_id,
			gint64 host_time,
			FleetLogLevel level,
			const gchar *tag,
			gint64 device_ms,
			const gchar *text,
			gsize msg_offset)
{
	g_autofree FleetLogBuilder *b = g_new(FleetLogBuilder, 1);
	g_autofree gchar *safe_tag = NULL;
	FleetLogLineParts parts = {0};
	gsize prefix_len = 0;

	/* the offset counts bytes of @text: escapes in front of it move it */
	if (text != NULL && msg_offset > 0) {
		g_autofree FleetLogBuilder *pb = g_new(FleetLogBuilder, 1);
		g_autofree gchar *head = g_strndup(text, msg_offset);
		fleet_log_builder_plain(pb, head);
		prefix_len = pb->text_len;
	}
	fleet_log_builder_plain(b, text);
	if (tag != NULL) {
		g_autofree FleetLogBuilder *tb = g_new(FleetLogBuilder, 1);
		fleet_log_builder_plain(tb, tag);
		safe_tag = g_strndup(tb->text, MIN(tb->text_len, (gsize)FLEET_LOG_TAG_MAX));
	}
	parts.device_id = device_id;
	parts.host_time = host_time;
	parts.kind = FLEET_LOG_LINE_KIND_TEXT;
	parts.level = level;
	parts.device_ms = device_ms;
	parts.text = b->text;
	parts.text_len = b->text_len;
	parts.tag = safe_tag;
	parts.tag_len = safe_tag != NULL ? strlen(safe_tag) : 0;
	parts.msg_offset = MIN(prefix_len, G_MAXUINT16);
	parts.spans = b->spans;
	parts.n_spans = b->n_spans;
	return fleet_log_line_pack(&parts);
}

FleetLogLine *
fleet_log_line_ref(FleetLogLine *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	g_atomic_int_inc(&self->ref_count);
	return self;
}

void
fleet_log_line_unref(FleetLogLine *self)
{
	g_return_if_fail(self != NULL);
	if (!g_atomic_int_dec_and_test(&self->ref_count))
		return;
	g_ref_string_release(self->device_id);
	g_free(self);
}

const gchar *
fleet_log_line_get_device_id(const FleetLogLine *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->device_id;
}

gint64
fleet_log_line_get_host_time(const FleetLogLine *self)
{
	g_return_val_if_fail(self != NULL, 0);
	return self->host_time;
}

gint64
fleet_log_line_get_device_ms(const FleetLogLine *self)
{
	g_return_val_if_fail(self != NULL, -1);
	return self->device_ms;
}

FleetLogLevel
fleet_log_line_get_level(const FleetLogLine *self)
{
	g_return_val_if_fail(self != NULL, FLEET_LOG_LEVEL_NONE);
	return (FleetLogLevel)self->level;
}

FleetLogLineKind
fleet_log_line_get_kind(const FleetLogLine *self)
{
	g_return_val_if_fail(self != NULL, FLEET_LOG_LINE_KIND_TEXT);
	return (FleetLogLineKind)self->kind;
}

const gchar *
fleet_log_line_get_tag(const FleetLogLine *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->tag;
}

const gchar *
fleet_log_line_get_text(const FleetLogLine *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->text;
}

gsize
fleet_log_line_get_text_len(const FleetLogLine *self)
{
	g_return_val_if_fail(self != NULL, 0);
	return self->text_len;
}

const gchar *
fleet_log_line_get_message(const FleetLogLine *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->text + self->msg_offset;
}

const FleetLogSpan *
fleet_log_line_get_spans(const FleetLogLine *self, guint *n_spans)
{
	g_return_val_if_fail(self != NULL, NULL);
	if (n_spans != NULL)
		*n_spans = self->n_spans;
	return self->spans;
}

guint
fleet_log_line_get_dropped(const FleetLogLine *self)
{
	g_return_val_if_fail(self != NULL, 0);
	return self->dropped;
}

GBytes *
fleet_log_line_get_raw(const FleetLogLine *self)
{
	GString *out;
	g_return_val_if_fail(self != NULL, NULL);
	if (self->raw != NULL)
		return g_bytes_new(self->raw, self->raw_len);
	out = g_string_sized_new(self->text_len + 16);
	fleet_log_append_colored(out, self->text, self->text_len, self->spans, self->n_spans,
				 (self->flags & FLEET_LOG_LINE_FLAG_TRAILING_RESET) != 0);
	return g_string_free_to_bytes(out);
}

guint64
fleet_log_line_get_seq(const FleetLogLine *self)
{
	g_return_val_if_fail(self != NULL, 0);
	return self->seq;
}

void
fleet_log_line_set_seq(FleetLogLine *self, guint64 seq)
{
	g_return_if_fail(self != NULL);
	self->seq = seq;
}

/* where @needle first occurs in hay[from…len), -1 when it does not */
static gssize
fleet_log_find(const gchar *hay, gsize len, gsize from, const gchar *needle, gsize nlen)
{
	for (gsize i = from; i + nlen <= len; i++) {
		if (hay[i] == needle[0] && memcmp(hay + i, needle, nlen) == 0)
			return (gssize)i;
	}
	return -1;
}

static gboolean
fleet_log_is_continuation(const gchar *hay, gsize len, gsize at)
{
	return at < len && ((guchar)hay[at] & 0xc0) == 0x80;
}

/*
 * @hay with every secret replaced by asterisks of the same length; NULL when none occurs.
 * In text (@utf8) only whole characters match, so the result stays valid UTF-8.
 */
static gchar *
fleet_log_redact(const gchar *hay, gsize len, GPtrArray *secrets, gboolean utf8)
{
	gchar *copy = NULL;
	for (guint i = 0; i < secrets->len; i++) {
		const gchar *secret = g_ptr_array_index(secrets, i);
		gsize slen = strlen(secret);
		gssize at;
		gsize from = 0;
		if (slen == 0)
			continue;
		while ((at = fleet_log_find(copy != NULL ? copy : hay, len, from, secret, slen)) >=
		       0) {
			if (utf8 && (fleet_log_is_continuation(hay, len, (gsize)at) ||
				     fleet_log_is_continuation(hay, len, (gsize)at + slen))) {
				from = (gsize)at + 1;
				continue;
			}
			if (copy == NULL) {
				copy = g_malloc(len + 1);
				memcpy(copy, hay, len);
				copy[len] = '\0';
			}
			memset(copy + at, '*', slen);
			from = (gsize)at + slen;
		}
	}
	return copy;
}

FleetLogLine *
fleet_log_line_dup_redacted(const FleetLogLine *self, GPtrArray *secrets)
{
	g_autofree gchar *text = NULL;
	g_autofree gchar *tag = NULL;
	g_autofree gchar *raw = NULL;
	g_autoptr(GBytes) raw_bytes = NULL;
	FleetLogLineParts parts = {0};
	gsize raw_len = 0;

	g_return_val_if_fail(self != NULL, NULL);
	if (secrets == NULL || secrets->len == 0)
		return NULL;
	text = fleet_log_redact(self->text, self->text_len, secrets, TRUE);
	if (self->tag != NULL)
		tag = fleet_log_redact(self->tag, strlen(self->tag), secrets, TRUE);
	raw_bytes = fleet_log_line_get_raw(self);
	raw_len = g_bytes_get_size(raw_bytes);
	raw = fleet_log_redact(g_bytes_get_data(raw_bytes, NULL), raw_len, secrets, FALSE);
	if (text == NULL && tag == NULL && raw == NULL)
		return NULL;

	parts.device_id = self->device_id;
	parts.host_time = self->host_time;
	parts.kind = (FleetLogLineKind)self->kind;
	parts.level = (FleetLogLevel)self->level;
	parts.device_ms = self->device_ms;
	parts.text = text != NULL ? text : self->text;
	parts.text_len = self->text_len;
	parts.tag = tag != NULL ? tag : self->tag;
	parts.tag_len = self->tag != NULL ? strlen(self->tag) : 0;
	parts.msg_offset = self->msg_offset;
	/* a secret cut in two by a colour code is still masked in the raw copy */
	parts.raw = raw != NULL ? raw : g_bytes_get_data(raw_bytes, NULL);
	parts.raw_len = raw_len;
	parts.spans = self->spans;
	parts.n_spans = self->n_spans;
	parts.dropped = self->dropped;
	return fleet_log_line_pack(&parts);
}

gchar
fleet_log_level_to_char(FleetLogLevel level)
{
	static const gchar letters[] = " EWIDV";
	return (guint)level < sizeof(letters) - 1 ? letters[level] : ' ';
}

gboolean
fleet_log_level_from_string(const gchar *text, FleetLogLevel *level)
{
	static const gchar *const names[] = {NULL, "error", "warn", "info", "debug", "verbose"};
	g_return_val_if_fail(level != NULL, FALSE);
	if (text == NULL)
		return FALSE;
	if (strlen(text) == 1) {
		FleetLogLevel l = fleet_log_level_from_letter(g_ascii_toupper(text[0]));
		if (l == FLEET_LOG_LEVEL_NONE)
			return FALSE;
		*level = l;
		return TRUE;
	}
	for (guint i = 1; i < G_N_ELEMENTS(names); i++) {
		if (g_ascii_strcasecmp(text, names[i]) == 0 ||
		    (i == FLEET_LOG_LEVEL_WARN && g_ascii_strcasecmp(text, "warning") == 0)) {
			*level = (FleetLogLevel)i;
			return TRUE;
		}
	}
	return FALSE;
}

/* "12:34:56.789" in local time; the time zone offset is looked up once per second */
static void
fleet_log_append_host_time(GString *out, gint64 host_time)
{
	static gint64 cached_second = G_MININT64;
	static gchar cached[16];
	gint64 second = host_time / G_USEC_PER_SEC;
	if (second != cached_second) {
		g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local(second);
		if (dt == NULL) {
			g_string_append(out, "--:--:--.---");
			return;
		}
		g_snprintf(cached, sizeof(cached), "%02d:%02d:%02d", g_date_time_get_hour(dt),
			   g_date_time_get_minute(dt), g_date_time_get_second(dt));
		cached_second = second;
	}
	g_string_append_printf(out, "%s.%03d", cached, (gint)((host_time / 1000) % 1000));
}

static const gchar *
fleet_log_level_color(const FleetLogLine *self)
{
	if (self->kind != FLEET_LOG_LINE_KIND_TEXT)
		return "\033[0;36m";
	switch ((FleetLogLevel)self->level) {
	case FLEET_LOG_LEVEL_ERROR:
		return "\033[0;31m";
	case FLEET_LOG_LEVEL_WARN:
		return "\033[0;33m";
	case FLEET_LOG_LEVEL_DEBUG:
	case FLEET_LOG_LEVEL_VERBOSE:
		return "\033[0;2m";
	case FLEET_LOG_LEVEL_INFO:
	case FLEET_LOG_LEVEL_NONE:
	default:
		return NULL;
	}
}

/* @name sanitised, cut or padded to FLEET_LOG_DEVICE_COLUMN characters */
static gchar *
fleet_log_device_column(const gchar *name)
{
	g_autofree gchar *safe = fleet_text_sanitize(name, -1, 0);
	glong chars = g_utf8_strlen(safe, -1);
	GString *out = g_string_new(NULL);
	if (chars > FLEET_LOG_DEVICE_COLUMN) {
		const gchar *cut = g_utf8_offset_to_pointer(safe, FLEET_LOG_DEVICE_COLUMN - 1);
		g_string_append_len(out, safe, cut - safe);
		g_string_append(out, "…");
	} else {
		g_string_append(out, safe);
		for (glong i = chars; i < FLEET_LOG_DEVICE_COLUMN; i++)
			g_string_append_c(out, ' ');
	}
	return g_string_free(out, FALSE);
}

void
fleet_log_line_format(const FleetLogLine *self,
		      const gchar *device_name,
		      FleetLogFormatFlags flags,
		      GString *out)
{
	gboolean color = (flags & FLEET_LOG_FORMAT_COLOR) != 0;

	g_return_if_fail(self != NULL);
	g_return_if_fail(out != NULL);

	if (flags & FLEET_LOG_FORMAT_HOST_TIME) {
		if (color)
			g_string_append(out, "\033[2m");
		fleet_log_append_host_time(out, self->host_time);
		g_string_append(out, color ? "\033[0m " : " ");
	}
	if (flags & FLEET_LOG_FORMAT_DEVICE) {
		g_autofree gchar *name =
		    fleet_log_device_column(device_name != NULL ? device_name : self->device_id);
		if (color)
			g_string_append(out, "\033[1m");
		g_string_append(out, name);
		g_string_append(out, color ? "\033[0m " : " ");
	}
	/* what the viewer says stands apart from what the device said, as in idf.py monitor */
	if (self->kind == FLEET_LOG_LINE_KIND_EVENT)
		g_string_append(out, "--- ");
	if (color && self->n_spans > 0) {
		fleet_log_append_colored(out, self->text, self->text_len, self->spans,
					 self->n_spans, FALSE);
	} else if (color && fleet_log_level_color(self) != NULL) {
		g_string_append(out, fleet_log_level_color(self));
		g_string_append_len(out, self->text, self->text_len);
		g_string_append(out, "\033[0m");
	} else {
		g_string_append_len(out, self->text, self->text_len);
	}
	g_string_append_c(out, '\n');
}
