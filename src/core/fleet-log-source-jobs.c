/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-log-source-jobs.c - the update transcripts of the engine as log lines */

#include "config.h"

#include "fleet-log-source-jobs.h"

#include <glib/gi18n.h>
#include <string.h>

#include "fleet-log-source-private.h"

/* transcripts are looked at this often while a job runs */
#define FLEET_LOG_JOBS_POLL_MS 200

typedef struct {
	FleetJob *job;
	gulong notify_id;
	const gchar *last; /* the last transcript entry shown (identity, never dereferenced) */
	guint last_len;	   /* the transcript's length then */
} FleetLogJobWatch;

struct _FleetLogSourceJobs {
	FleetLogSource parent_instance;
	FleetJobQueue *queue;
	gboolean started;
	gulong items_id;
	GHashTable *watches; /* FleetJob → FleetLogJobWatch */
	guint poll_id;
};

G_DEFINE_TYPE(FleetLogSourceJobs, fleet_log_source_jobs, FLEET_TYPE_LOG_SOURCE)

static void
fleet_log_job_watch_free(FleetLogJobWatch *watch)
{
	g_clear_signal_handler(&watch->notify_id, watch->job);
	g_object_unref(watch->job);
	g_free(watch);
}

/* "  12.345 s  text" → "text" */
static const gchar *
fleet_log_jobs_strip_time(const gchar *entry)
{
	const gchar *mark = strstr(entry, " s  ");
	if (mark == NULL || mark - entry > 16)
		return entry;
	for (const gchar *p = entry; p < mark; p++) {
		if (!g_ascii_isdigit(*p) && *p != ' ' && *p != '.')
			return entry;
	}
	return mark + 4;
}

static FleetLogLevel
fleet_log_jobs_level(const gchar *text)
{
	if (g_str_has_prefix(text, "phase: failed") || g_str_has_prefix(text, "phase: rolled-back"))
		return FLEET_LOG_LEVEL_ERROR;
	if (g_str_has_prefix(text, "phase: cancelled") || g_str_has_prefix(text, "phase: skipped"))
		return FLEET_LOG_LEVEL_WARN;
	return FLEET_LOG_LEVEL_INFO;
}

static void
fleet_log_source_jobs_poll_job(FleetLogSourceJobs *self, FleetLogJobWatch *watch, GPtrArray *out)
{
	GPtrArray *transcript = fleet_job_get_transcript(watch->job);
	const gchar *device_id = fleet_device_get_id(fleet_job_get_device(watch->job));
	guint from = 0;

	if (transcript == NULL || transcript->len == 0) {
		watch->last = NULL;
		watch->last_len = 0;
		return;
	}
	if (watch->last != NULL) {
		/* the transcript only grows, or drops its oldest entries once it is full */
		if (watch->last_len <= transcript->len &&
		    g_ptr_array_index(transcript, watch->last_len - 1) == watch->last) {
			from = watch->last_len;
		} else {
			for (guint i = transcript->len; i > 0; i--) {
				if (g_ptr_array_index(transcript, i - 1) == watch->last) {
					from = i;
					break;
				}
			}
		}
	}
	for (guint i = from; i < transcript->len; i++) {
		const gchar *text = fleet_log_jobs_strip_time(g_ptr_array_index(transcript, i));
		g_autofree gchar *shown = g_strdup_printf("%s: %s", FLEET_LOG_JOBS_TAG, text);
		g_ptr_array_add(out, fleet_log_line_new_full(device_id, g_get_real_time(),
							     fleet_log_jobs_level(text),
							     FLEET_LOG_JOBS_TAG, -1, shown,
							     strlen(FLEET_LOG_JOBS_TAG) + 2));
	}
	watch->last = g_ptr_array_index(transcript, transcript->len - 1);
	watch->last_len = transcript->len;
}

static gboolean fleet_log_source_jobs_poll_cb(gpointer user_data);

void
fleet_log_source_jobs_poll(FleetLogSourceJobs *self)
{
	g_autoptr(GPtrArray) lines =
	    g_ptr_array_new_with_free_func((GDestroyNotify)fleet_log_line_unref);
	GHashTableIter iter;
	gpointer value;
	gboolean active = FALSE;

	g_return_if_fail(FLEET_IS_LOG_SOURCE_JOBS(self));
	if (!self->started)
		return;
	/* in the queue's order, so that lines of one batch keep a stable order */
	for (guint i = 0; i < g_list_model_get_n_items(G_LIST_MODEL(self->queue)); i++) {
		g_autoptr(FleetJob) job = g_list_model_get_item(G_LIST_MODEL(self->queue), i);
		FleetLogJobWatch *watch = g_hash_table_lookup(self->watches, job);
		if (watch == NULL)
			continue;
		fleet_log_source_jobs_poll_job(self, watch, lines);
	}
	g_hash_table_iter_init(&iter, self->watches);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		active = active || fleet_job_is_active(((FleetLogJobWatch *)value)->job);
	if (active && self->poll_id == 0)
		self->poll_id =
		    g_timeout_add(FLEET_LOG_JOBS_POLL_MS, fleet_log_source_jobs_poll_cb, self);
	fleet_log_source_emit_lines(FLEET_LOG_SOURCE(self), lines);
}

static gboolean
fleet_log_source_jobs_poll_cb(gpointer user_data)
{
	FleetLogSourceJobs *self = FLEET_LOG_SOURCE_JOBS(user_data);
	self->poll_id = 0;
	fleet_log_source_jobs_poll(self);
	return G_SOURCE_REMOVE;
}

static void
fleet_log_source_jobs_job_notify_cb(FleetJob *job, GParamSpec *pspec, gpointer user_data)
{
	fleet_log_source_jobs_poll(FLEET_LOG_SOURCE_JOBS(user_data));
}

static void
fleet_log_source_jobs_sync(FleetLogSourceJobs *self)
{
	GListModel *model = G_LIST_MODEL(self->queue);
	g_autoptr(GHashTable) present = g_hash_table_new(NULL, NULL);
	GHashTableIter iter;
	gpointer key;

	for (guint i = 0; i < g_list_model_get_n_items(model); i++) {
		g_autoptr(FleetJob) job = g_list_model_get_item(model, i);
		g_hash_table_add(present, job);
		if (g_hash_table_contains(self->watches, job))
			continue;
		{
			FleetLogJobWatch *watch = g_new0(FleetLogJobWatch, 1);
			watch->job = g_object_ref(job);
			watch->notify_id = g_signal_connect(
			    job, "notify", G_CALLBACK(fleet_log_source_jobs_job_notify_cb), self);
			g_hash_table_insert(self->watches, job, watch);
		}
	}
	g_hash_table_iter_init(&iter, self->watches);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		if (!g_hash_table_contains(present, key))
			g_hash_table_iter_remove(&iter);
	}
}

static void
fleet_log_source_jobs_items_changed_cb(
    GListModel *model, guint position, guint removed, guint added, gpointer user_data)
{
	FleetLogSourceJobs *self = FLEET_LOG_SOURCE_JOBS(user_data);
	/* lines a removed job wrote since the last look are shown before it goes */
	fleet_log_source_jobs_poll(self);
	fleet_log_source_jobs_sync(self);
	fleet_log_source_jobs_poll(self);
}

static void
fleet_log_source_jobs_start(FleetLogSource *source)
{
	FleetLogSourceJobs *self = FLEET_LOG_SOURCE_JOBS(source);
	if (self->started)
		return;
	self->started = TRUE;
	self->items_id = g_signal_connect(self->queue, "items-changed",
					  G_CALLBACK(fleet_log_source_jobs_items_changed_cb), self);
	fleet_log_source_jobs_sync(self);
	fleet_log_source_set_state(source, FLEET_LOG_SOURCE_STATE_RUNNING, NULL);
	fleet_log_source_jobs_poll(self);
}

static void
fleet_log_source_jobs_stop(FleetLogSource *source)
{
	FleetLogSourceJobs *self = FLEET_LOG_SOURCE_JOBS(source);
	if (!self->started)
		return;
	fleet_log_source_jobs_poll(self);
	self->started = FALSE;
	g_clear_signal_handler(&self->items_id, self->queue);
	g_clear_handle_id(&self->poll_id, g_source_remove);
	g_hash_table_remove_all(self->watches);
	fleet_log_source_set_state(source, FLEET_LOG_SOURCE_STATE_STOPPED, NULL);
}

static gchar *
fleet_log_source_jobs_describe(FleetLogSource *source)
{
	return g_strdup(_("Update transcripts"));
}

static void
fleet_log_source_jobs_dispose(GObject *object)
{
	FleetLogSourceJobs *self = FLEET_LOG_SOURCE_JOBS(object);
	self->started = FALSE;
	if (self->queue != NULL)
		g_clear_signal_handler(&self->items_id, self->queue);
	g_clear_handle_id(&self->poll_id, g_source_remove);
	if (self->watches != NULL)
		g_hash_table_remove_all(self->watches);
	g_clear_object(&self->queue);
	G_OBJECT_CLASS(fleet_log_source_jobs_parent_class)->dispose(object);
}

static void
fleet_log_source_jobs_finalize(GObject *object)
{
	FleetLogSourceJobs *self = FLEET_LOG_SOURCE_JOBS(object);
	g_hash_table_unref(self->watches);
	G_OBJECT_CLASS(fleet_log_source_jobs_parent_class)->finalize(object);
}

static void
fleet_log_source_jobs_class_init(FleetLogSourceJobsClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	FleetLogSourceClass *source_class = FLEET_LOG_SOURCE_CLASS(klass);
	object_class->dispose = fleet_log_source_jobs_dispose;
	object_class->finalize = fleet_log_source_jobs_finalize;
	source_class->start = fleet_log_source_jobs_start;
	source_class->stop = fleet_log_source_jobs_stop;
	source_class->describe = fleet_log_source_jobs_describe;
}

static void
fleet_log_source_jobs_init(FleetLogSourceJobs *self)
{
	self->watches =
	    g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)fleet_log_job_watch_free);
}

FleetLogSourceJobs *
fleet_log_source_jobs_new(FleetJobQueue *queue)
{
	FleetLogSourceJobs *self;
	g_return_val_if_fail(FLEET_IS_JOB_QUEUE(queue), NULL);
	self = g_object_new(FLEET_TYPE_LOG_SOURCE_JOBS, NULL);
	self->queue = g_object_ref(queue);
	return self;
}
