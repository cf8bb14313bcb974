/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-txt-record.h - DNS-SD TXT record parsing (untrusted input from devices) */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* RFC 6763 §6: a TXT record is a sequence of <length byte><key[=value]> strings */
#define FLEET_TXT_MAX_ENTRIES 64
#define FLEET_TXT_MAX_KEY_LEN 64
#define FLEET_TXT_MAX_RECORD_LEN 8900

/**
 * fleet_txt_record_parse:
 * @data: the TXT RDATA in wire format
 * @len: its length
 * @error: set when the record is malformed (a length byte runs past the end)
 *
 * Keys are folded to lowercase ASCII (DNS-SD keys are case-insensitive); the first
 * occurrence of a key wins, as RFC 6763 §6.4 says. Entries with an empty or non-printable
 * key are skipped. Values are made valid UTF-8 without control characters
 * (fleet_text_sanitize); a key without '=' maps to "". At most FLEET_TXT_MAX_ENTRIES are
 * kept.
 *
 * Returns: (transfer full): key → value
 */
GHashTable *
fleet_txt_record_parse(const guint8 *data, gsize len, GError **error);

/* "yes"/"true"/"1" (any case) */
gboolean
fleet_txt_record_is_true(GHashTable *txt, const gchar *key);

G_END_DECLS
