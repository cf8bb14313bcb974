/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-text.c - make untrusted text (from devices and image files) safe to show */

#include "config.h"

#include <string.h>

#include "fleet-text.h"

gchar *
fleet_text_sanitize(const gchar *data, gssize len, gsize max_chars)
{
	GString *out;
	const gchar *p;
	const gchar *end;
	gsize chars = 0;

	if (data == NULL)
		return g_strdup("");
	if (len < 0)
		len = (gssize)strlen(data);
	out = g_string_sized_new((gsize)len + 1);
	p = data;
	end = data + len;
	while (p < end) {
		gunichar c = g_utf8_get_char_validated(p, end - p);
		if (max_chars > 0 && chars >= max_chars) {
			g_string_append(out, "…");
			break;
		}
		if (c == (gunichar)-1 || c == (gunichar)-2) {
			g_string_append_printf(out, "\\x%02x", (guint)(guchar)*p);
			p++;
		} else if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == 0x2028 ||
			   c == 0x2029 || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) {
			/* controls, line separators and bidi overrides */
			if (c < 0x100)
				g_string_append_printf(out, "\\x%02x", c);
			else
				g_string_append_printf(out, "\\u%04x", c);
			p = g_utf8_next_char(p);
		} else {
			g_string_append_unichar(out, c);
			p = g_utf8_next_char(p);
		}
		chars++;
	}
	return g_string_free(out, FALSE);
}
