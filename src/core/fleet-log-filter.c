/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-log-filter.c - which log lines to show */

#include "config.h"

#include "fleet-log-filter.h"

#include <glib/gi18n.h>
#include <string.h>

#include "fleet-error.h"

struct _FleetLogFilter {
	GObject parent_instance;
	gchar *text;   /* plain text, casefolded unless case_sensitive */
	GRegex *regex; /* or an expression */
	gboolean case_sensitive;
	FleetLogLevel level;
	gboolean strict;
	gchar *tag;
	gchar **devices;
	GHashTable *device_set;
};

G_DEFINE_TYPE(FleetLogFilter, fleet_log_filter, G_TYPE_OBJECT)

enum { SIGNAL_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void
fleet_log_filter_changed(FleetLogFilter *self)
{
	g_signal_emit(self, signals[SIGNAL_CHANGED], 0);
}

gboolean
fleet_log_filter_set_text(FleetLogFilter *self,
			  const gchar *text,
			  gboolean regex,
			  gboolean case_sensitive,
			  GError **error)
{
	g_autoptr(GRegex) compiled = NULL;

	g_return_val_if_fail(FLEET_IS_LOG_FILTER(self), FALSE);
	if (text != NULL && text[0] != '\0' && regex) {
		g_autoptr(GError) error_local = NULL;
		compiled =
		    g_regex_new(text, (case_sensitive ? 0 : G_REGEX_CASELESS) | G_REGEX_OPTIMIZE, 0,
				&error_local);
		if (compiled == NULL) {
			/* TRANSLATORS: %s is the regular expression library's explanation */
			g_set_error(error, FLEET_ERROR, FLEET_ERROR_INVALID_DATA,
				    _("Not a valid regular expression: %s"), error_local->message);
			return FALSE;
		}
	}
	g_clear_pointer(&self->text, g_free);
	g_clear_pointer(&self->regex, g_regex_unref);
	self->case_sensitive = case_sensitive;
	if (compiled != NULL)
		self->regex = g_steal_pointer(&compiled);
	else if (text != NULL && text[0] != '\0')
		self->text = case_sensitive ? g_strdup(text) : g_utf8_casefold(text, -1);
	fleet_log_filter_changed(self);
	return TRUE;
}

void
fleet_log_filter_set_level(FleetLogFilter *self, FleetLogLevel level, gboolean strict)
{
	g_return_if_fail(FLEET_IS_LOG_FILTER(self));
	if (self->level == level && self->strict == strict)
		return;
	self->level = level;
	self->strict = strict;
	fleet_log_filter_changed(self);
}

FleetLogLevel
fleet_log_filter_get_level(FleetLogFilter *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_FILTER(self), FLEET_LOG_LEVEL_NONE);
	return self->level;
}

void
fleet_log_filter_set_tag(FleetLogFilter *self, const gchar *tag)
{
	g_return_if_fail(FLEET_IS_LOG_FILTER(self));
	if (tag != NULL && tag[0] == '\0')
		tag = NULL;
	if (g_strcmp0(self->tag, tag) == 0)
		return;
	g_free(self->tag);
	self->tag = g_strdup(tag);
	fleet_log_filter_changed(self);
}

void
fleet_log_filter_set_devices(FleetLogFilter *self, const gchar *const *device_ids)
{
	g_return_if_fail(FLEET_IS_LOG_FILTER(self));
	if (device_ids == NULL && self->devices == NULL)
		return;
	if (device_ids != NULL && self->devices != NULL &&
	    g_strv_equal(device_ids, (const gchar *const *)self->devices))
		return;
	g_clear_pointer(&self->devices, g_strfreev);
	g_clear_pointer(&self->device_set, g_hash_table_unref);
	if (device_ids != NULL) {
		self->devices = g_strdupv((gchar **)device_ids);
		self->device_set = g_hash_table_new(g_str_hash, g_str_equal);
		for (guint i = 0; self->devices[i] != NULL; i++)
			g_hash_table_add(self->device_set, self->devices[i]);
	}
	fleet_log_filter_changed(self);
}

gboolean
fleet_log_filter_has_device(FleetLogFilter *self, const gchar *device_id)
{
	g_return_val_if_fail(FLEET_IS_LOG_FILTER(self), FALSE);
	return self->device_set == NULL || g_hash_table_contains(self->device_set, device_id);
}

const gchar *const *
fleet_log_filter_get_devices(FleetLogFilter *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_FILTER(self), NULL);
	return (const gchar *const *)self->devices;
}

gboolean
fleet_log_filter_is_empty(FleetLogFilter *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_FILTER(self), TRUE);
	return self->text == NULL && self->regex == NULL && self->level == FLEET_LOG_LEVEL_NONE &&
	       self->tag == NULL && self->devices == NULL;
}

static gboolean
fleet_log_filter_match_text(FleetLogFilter *self, const FleetLogLine *line)
{
	const gchar *text = fleet_log_line_get_text(line);
	gsize len = fleet_log_line_get_text_len(line);
	if (self->regex != NULL)
		return g_regex_match_full(self->regex, text, (gssize)len, 0, 0, NULL, NULL);
	if (self->case_sensitive)
		return g_strstr_len(text, (gssize)len, self->text) != NULL;
	{
		/* ASCII-only text (almost every log line) needs no casefold copy */
		gsize n = strlen(self->text);
		gboolean ascii = TRUE;
		for (gsize i = 0; i < len && ascii; i++)
			ascii = (guchar)text[i] < 0x80;
		if (ascii) {
			for (gsize i = 0; i + n <= len; i++) {
				if (g_ascii_strncasecmp(text + i, self->text, n) == 0)
					return TRUE;
			}
			return FALSE;
		}
	}
	{
		g_autofree gchar *folded = g_utf8_casefold(text, (gssize)len);
		return strstr(folded, self->text) != NULL;
	}
}

gboolean
fleet_log_filter_match(FleetLogFilter *self, const FleetLogLine *line)
{
	FleetLogLevel level;

	g_return_val_if_fail(FLEET_IS_LOG_FILTER(self), FALSE);
	g_return_val_if_fail(line != NULL, FALSE);

	if (self->device_set != NULL &&
	    !g_hash_table_contains(self->device_set, fleet_log_line_get_device_id(line)))
		return FALSE;
	level = fleet_log_line_get_level(line);
	if (fleet_log_line_get_kind(line) != FLEET_LOG_LINE_KIND_TEXT)
		return self->text == NULL && self->regex == NULL
			   ? TRUE
			   : fleet_log_filter_match_text(self, line);
	if (self->level != FLEET_LOG_LEVEL_NONE) {
		if (level == FLEET_LOG_LEVEL_NONE ? self->strict : level > self->level)
			return FALSE;
	}
	if (self->tag != NULL && g_strcmp0(fleet_log_line_get_tag(line), self->tag) != 0)
		return FALSE;
	if ((self->text != NULL || self->regex != NULL) && !fleet_log_filter_match_text(self, line))
		return FALSE;
	return TRUE;
}

static void
fleet_log_filter_finalize(GObject *object)
{
	FleetLogFilter *self = FLEET_LOG_FILTER(object);
	g_free(self->text);
	g_clear_pointer(&self->regex, g_regex_unref);
	g_free(self->tag);
	g_strfreev(self->devices);
	g_clear_pointer(&self->device_set, g_hash_table_unref);
	G_OBJECT_CLASS(fleet_log_filter_parent_class)->finalize(object);
}

static void
fleet_log_filter_class_init(FleetLogFilterClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->finalize = fleet_log_filter_finalize;
	signals[SIGNAL_CHANGED] =
	    g_signal_new("changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
			 NULL, G_TYPE_NONE, 0);
}

static void
fleet_log_filter_init(FleetLogFilter *self)
{
}

FleetLogFilter *
fleet_log_filter_new(void)
{
	return g_object_new(FLEET_TYPE_LOG_FILTER, NULL);
}
