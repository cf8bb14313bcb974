/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-txt-record.c - DNS-SD TXT record parsing (untrusted input from devices) */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "fleet-error.h"
#include "fleet-text.h"
#include "fleet-txt-record.h"

/* printable US-ASCII except '=' (RFC 6763 §6.4) */
static gboolean
fleet_txt_key_valid(const guint8 *key, gsize len)
{
	if (len == 0 || len > FLEET_TXT_MAX_KEY_LEN)
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		if (key[i] < 0x20 || key[i] > 0x7e || key[i] == '=')
			return FALSE;
	}
	return TRUE;
}

GHashTable *
fleet_txt_record_parse(const guint8 *data, gsize len, GError **error)
{
	g_autoptr(GHashTable) txt = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	gsize off = 0;

	if (len > FLEET_TXT_MAX_RECORD_LEN) {
		g_set_error(error, FLEET_ERROR, FLEET_ERROR_INVALID_DATA,
			    _("TXT record of %lu bytes is larger than allowed"), (gulong)len);
		return NULL;
	}
	while (off < len) {
		gsize entry_len = data[off];
		const guint8 *entry;
		gsize key_len = 0;
		g_autofree gchar *key = NULL;

		off++;
		if (entry_len > len - off) {
			g_set_error(error, FLEET_ERROR, FLEET_ERROR_INVALID_DATA,
				    _("TXT record entry at byte %lu runs past the end"),
				    (gulong)(off - 1));
			return NULL;
		}
		entry = data + off;
		off += entry_len;
		if (g_hash_table_size(txt) >= FLEET_TXT_MAX_ENTRIES)
			continue;
		while (key_len < entry_len && entry[key_len] != '=')
			key_len++;
		if (!fleet_txt_key_valid(entry, key_len))
			continue;
		key = g_ascii_strdown((const gchar *)entry, (gssize)key_len);
		if (g_hash_table_contains(txt, key))
			continue;
		if (key_len < entry_len) {
			const gchar *value = (const gchar *)entry + key_len + 1;
			g_hash_table_insert(txt, g_steal_pointer(&key),
					    fleet_text_sanitize(value, (gssize)(entry_len - key_len - 1),
								0));
		} else {
			g_hash_table_insert(txt, g_steal_pointer(&key), g_strdup(""));
		}
	}
	return g_steal_pointer(&txt);
}

gboolean
fleet_txt_record_is_true(GHashTable *txt, const gchar *key)
{
	const gchar *value = g_hash_table_lookup(txt, key);
	if (value == NULL)
		return FALSE;
	return g_ascii_strcasecmp(value, "yes") == 0 || g_ascii_strcasecmp(value, "true") == 0 ||
	       g_strcmp0(value, "1") == 0;
}
