/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-log-ansi.c - device bytes into safe text and colour spans, and back */

#include "config.h"

#include "fleet-log-ansi.h"

#include <string.h>

/* CSI parameters looked at */
#define FLEET_LOG_CSI_PARAMS_MAX 16

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

void
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

void
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
void
fleet_log_ansi_append(GString *out,
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
