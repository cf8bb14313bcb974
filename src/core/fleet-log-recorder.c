/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-log-recorder.c - records every device's log to a folder, one file per device */

#include "config.h"

#include "fleet-log-recorder.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <string.h>

#include "fleet-error.h"

#define FLEET_LOG_RECORDER_NAME_MAX 64

struct _FleetLogRecorder {
	GObject parent_instance;
	FleetLogHub *hub;
	GFile *folder;
	gulong lines_id;
	GHashTable *files; /* device id → GOutputStream */
	guint64 n_lines;
};

G_DEFINE_TYPE(FleetLogRecorder, fleet_log_recorder, G_TYPE_OBJECT)

enum { SIGNAL_FAILED, N_SIGNALS };
static guint signals[N_SIGNALS];

gchar *
fleet_log_recorder_file_name(const gchar *device_id)
{
	GString *name = g_string_new(NULL);
	gboolean mac = g_str_has_prefix(device_id, "mac:");
	gboolean first_colon = TRUE;
	gboolean replaced = FALSE;

	g_return_val_if_fail(device_id != NULL, NULL);
	for (const gchar *p = device_id; *p != '\0' && name->len < FLEET_LOG_RECORDER_NAME_MAX;
	     p++) {
		gchar c = *p;
		if (g_ascii_isalnum(c) || c == '.' || c == '-' || c == '_') {
			g_string_append_c(name, c);
		} else if (c == ':' && first_colon) {
			/* "mac:…" → "mac_…": every id has this one separator */
			g_string_append_c(name, '_');
			first_colon = FALSE;
		} else if (c == ':' && mac) {
			/* a MAC id has only hex digits and colons after it */
			g_string_append_c(name, '-');
		} else {
			g_string_append_c(name, '_');
			replaced = TRUE;
		}
	}
	if (name->len == 0 || name->str[0] == '.') {
		g_string_prepend(name, "device");
		replaced = TRUE;
	}
	if (replaced || strlen(device_id) > FLEET_LOG_RECORDER_NAME_MAX) {
		g_autofree gchar *hash =
		    g_compute_checksum_for_string(G_CHECKSUM_SHA256, device_id, -1);
		g_string_append_printf(name, "-%.8s", hash);
	}
	g_string_append(name, ".log");
	return g_string_free(name, FALSE);
}

static void
fleet_log_recorder_chunk_free(gpointer chunk)
{
	g_string_free(chunk, TRUE);
}

GFile *
fleet_log_recorder_get_folder(FleetLogRecorder *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_RECORDER(self), NULL);
	return self->folder;
}

gboolean
fleet_log_recorder_get_running(FleetLogRecorder *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_RECORDER(self), FALSE);
	return self->lines_id != 0;
}

guint64
fleet_log_recorder_get_n_lines(FleetLogRecorder *self)
{
	g_return_val_if_fail(FLEET_IS_LOG_RECORDER(self), 0);
	return self->n_lines;
}

static GOutputStream *
fleet_log_recorder_open(FleetLogRecorder *self, const gchar *device_id, GError **error)
{
	GOutputStream *stream = g_hash_table_lookup(self->files, device_id);
	g_autofree gchar *name = NULL;
	g_autofree gchar *display = NULL;
	g_autofree gchar *header = NULL;
	g_autoptr(GFile) file = NULL;
	g_autoptr(GFileOutputStream) out = NULL;
	g_autoptr(GDateTime) now = NULL;
	g_autofree gchar *stamp = NULL;

	if (stream != NULL)
		return stream;
	name = fleet_log_recorder_file_name(device_id);
	file = g_file_get_child(self->folder, name);
	out = g_file_append_to(file, G_FILE_CREATE_NONE, NULL, error);
	if (out == NULL)
		return NULL;
	stream = g_buffered_output_stream_new(G_OUTPUT_STREAM(out));
	now = g_date_time_new_now_local();
	stamp = g_date_time_format_iso8601(now);
	display = fleet_log_hub_dup_display_name(self->hub, device_id);
	{
		g_autofree gchar *safe_display = NULL;
		g_autoptr(FleetLogLine) probe = fleet_log_line_new_event(
		    device_id, 0, FLEET_LOG_LINE_KIND_EVENT, FLEET_LOG_LEVEL_NONE, display);
		safe_display = g_strdup(fleet_log_line_get_text(probe));
		/* the header line is protocol text for tools, not translated */
		header = g_strdup_printf("# espfleet log of %s (%s), recording started %s\n",
					 safe_display, device_id, stamp);
	}
	if (!g_output_stream_write_all(stream, header, strlen(header), NULL, NULL, error)) {
		g_object_unref(stream);
		return NULL;
	}
	g_hash_table_insert(self->files, g_strdup(device_id), stream);
	return stream;
}

static void
fleet_log_recorder_fail(FleetLogRecorder *self, GError *error)
{
	fleet_log_recorder_stop(self);
	g_signal_emit(self, signals[SIGNAL_FAILED], 0, error);
}

static void
fleet_log_recorder_lines_cb(FleetLogHub *hub, GPtrArray *lines, gpointer user_data)
{
	FleetLogRecorder *self = FLEET_LOG_RECORDER(user_data);
	g_autoptr(GHashTable) chunks =
	    g_hash_table_new_full(g_str_hash, g_str_equal, NULL, fleet_log_recorder_chunk_free);
	GHashTableIter iter;
	gpointer key;
	gpointer value;

	/* one write per device and batch */
	for (guint i = 0; i < lines->len; i++) {
		FleetLogLine *line = g_ptr_array_index(lines, i);
		const gchar *id = fleet_log_line_get_device_id(line);
		GString *chunk = g_hash_table_lookup(chunks, id);
		if (chunk == NULL) {
			chunk = g_string_new(NULL);
			g_hash_table_insert(chunks, (gpointer)id, chunk);
		}
		fleet_log_line_format(line, NULL, FLEET_LOG_FORMAT_HOST_TIME, chunk);
	}
	g_hash_table_iter_init(&iter, chunks);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		g_autoptr(GError) error = NULL;
		GString *chunk = value;
		GOutputStream *stream = fleet_log_recorder_open(self, key, &error);
		if (stream == NULL ||
		    !g_output_stream_write_all(stream, chunk->str, chunk->len, NULL, NULL,
					       &error) ||
		    !g_output_stream_flush(stream, NULL, &error)) {
			fleet_error_convert(&error);
			fleet_log_recorder_fail(self, error);
			return;
		}
	}
	self->n_lines += lines->len;
}

void
fleet_log_recorder_stop(FleetLogRecorder *self)
{
	GHashTableIter iter;
	gpointer value;
	g_return_if_fail(FLEET_IS_LOG_RECORDER(self));
	if (self->lines_id == 0)
		return;
	g_clear_signal_handler(&self->lines_id, self->hub);
	g_hash_table_iter_init(&iter, self->files);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		g_output_stream_close(G_OUTPUT_STREAM(value), NULL, NULL);
	g_hash_table_remove_all(self->files);
}

static void
fleet_log_recorder_dispose(GObject *object)
{
	FleetLogRecorder *self = FLEET_LOG_RECORDER(object);
	if (self->hub != NULL)
		fleet_log_recorder_stop(self);
	g_clear_object(&self->hub);
	G_OBJECT_CLASS(fleet_log_recorder_parent_class)->dispose(object);
}

static void
fleet_log_recorder_finalize(GObject *object)
{
	FleetLogRecorder *self = FLEET_LOG_RECORDER(object);
	g_hash_table_unref(self->files);
	g_clear_object(&self->folder);
	G_OBJECT_CLASS(fleet_log_recorder_parent_class)->finalize(object);
}

static void
fleet_log_recorder_class_init(FleetLogRecorderClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = fleet_log_recorder_dispose;
	object_class->finalize = fleet_log_recorder_finalize;
	/**
	 * FleetLogRecorder::failed:
	 * @error: why it stopped (a GError)
	 */
	signals[SIGNAL_FAILED] = g_signal_new("failed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
					      0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}

static void
fleet_log_recorder_init(FleetLogRecorder *self)
{
	self->files = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
}

FleetLogRecorder *
fleet_log_recorder_new(FleetLogHub *hub, GFile *folder, GError **error)
{
	g_autoptr(FleetLogRecorder) self = NULL;
	g_autoptr(GError) error_local = NULL;

	g_return_val_if_fail(FLEET_IS_LOG_HUB(hub), NULL);
	g_return_val_if_fail(G_IS_FILE(folder), NULL);

	if (!g_file_make_directory_with_parents(folder, NULL, &error_local) &&
	    g_error_matches(error_local, G_IO_ERROR, G_IO_ERROR_EXISTS) &&
	    g_file_query_file_type(folder, G_FILE_QUERY_INFO_NONE, NULL) != G_FILE_TYPE_DIRECTORY) {
		g_clear_error(&error_local);
		g_set_error_literal(&error_local, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY,
				    g_strerror(ENOTDIR));
	}
	if (error_local != NULL && !g_error_matches(error_local, G_IO_ERROR, G_IO_ERROR_EXISTS)) {
		g_autofree gchar *path = g_file_get_parse_name(folder);
		g_set_error(error, FLEET_ERROR, FLEET_ERROR_NOT_FOUND,
			    /* TRANSLATORS: %s is a folder, then the reason */
			    _("Cannot record logs to %s: %s"), path, error_local->message);
		return NULL;
	}
	self = g_object_new(FLEET_TYPE_LOG_RECORDER, NULL);
	self->hub = g_object_ref(hub);
	self->folder = g_object_ref(folder);
	self->lines_id =
	    g_signal_connect(hub, "lines-added", G_CALLBACK(fleet_log_recorder_lines_cb), self);
	return g_steal_pointer(&self);
}
