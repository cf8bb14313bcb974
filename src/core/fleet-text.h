/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-text.h - make untrusted text (from devices and image files) safe to show */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * fleet_text_sanitize:
 * @data: bytes from a device or a file, not necessarily NUL-terminated or UTF-8
 * @len: their number, or -1 when NUL-terminated
 * @max_chars: longest result in characters before "…" is appended; 0 for no limit
 *
 * Invalid UTF-8 bytes and control characters (which could move a terminal's cursor or
 * change its colours) become visible \xNN escapes. The result is plain text, never markup.
 *
 * Returns: (transfer full): valid UTF-8 without control characters
 */
gchar *
fleet_text_sanitize(const gchar *data, gssize len, gsize max_chars);

G_END_DECLS
