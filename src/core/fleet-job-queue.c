/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-job-queue.c - runs a batch of update jobs: bounded concurrency, a canary group,
 * stop after K failures, cancel, retry the failed ones
 *
 * Everything happens on the main context of the thread that owns the queue; a job that
 * waits for a password does not hold an upload slot.
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "fleet-job-private.h"
#include "fleet-job-queue.h"

struct _FleetJobQueue {
	GObject parent_instance;
	GPtrArray *jobs; /* FleetJob, insertion order */
	GPtrArray *transports;
	GObject *credentials;
	guint concurrency;
	guint canary_count;
	guint max_failures;
	guint connect_timeout;
	guint stall_timeout;
	guint result_timeout;
	guint verify_timeout;
	gboolean verify;
	gboolean stop_and_wait;
	gchar *http_field;
	gchar *default_password;
	gboolean running;
	gboolean stopped; /* canary failure or too many failures */
	gchar *stop_reason;
	guint schedule_id;
};

static void
fleet_job_queue_model_init(GListModelInterface *iface);

G_DEFINE_TYPE_WITH_CODE(FleetJobQueue,
			fleet_job_queue,
			G_TYPE_OBJECT,
			G_IMPLEMENT_INTERFACE(G_TYPE_LIST_MODEL, fleet_job_queue_model_init))

enum {
	SIGNAL_PASSWORD_NEEDED,
	SIGNAL_FINISHED,
	N_SIGNALS
};

static guint signals[N_SIGNALS];

enum {
	PROP_0,
	PROP_RUNNING,
	N_PROPS
};

static GParamSpec *props[N_PROPS];

static GType
fleet_job_queue_get_item_type(GListModel *model)
{
	return FLEET_TYPE_JOB;
}

static guint
fleet_job_queue_get_n_items(GListModel *model)
{
	return FLEET_JOB_QUEUE(model)->jobs->len;
}

static gpointer
fleet_job_queue_get_item(GListModel *model, guint position)
{
	FleetJobQueue *self = FLEET_JOB_QUEUE(model);
	if (position >= self->jobs->len)
		return NULL;
	return g_object_ref(g_ptr_array_index(self->jobs, position));
}

static void
fleet_job_queue_model_init(GListModelInterface *iface)
{
	iface->get_item_type = fleet_job_queue_get_item_type;
	iface->get_n_items = fleet_job_queue_get_n_items;
	iface->get_item = fleet_job_queue_get_item;
}

static void
fleet_job_queue_set_running(FleetJobQueue *self, gboolean running)
{
	if (self->running == running)
		return;
	self->running = running;
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_RUNNING]);
}

static gboolean
fleet_job_queue_is_failure(FleetJobPhase phase)
{
	return phase == FLEET_JOB_PHASE_FAILED || phase == FLEET_JOB_PHASE_ROLLED_BACK;
}

static void
fleet_job_queue_skip_queued(FleetJobQueue *self, const gchar *reason)
{
	for (guint i = 0; i < self->jobs->len; i++) {
		FleetJob *job = g_ptr_array_index(self->jobs, i);
		if (fleet_job_get_phase(job) == FLEET_JOB_PHASE_QUEUED)
			fleet_job_skip(job, reason);
	}
}

/* start what may start; called whenever a job changes phase */
static void
fleet_job_queue_schedule(FleetJobQueue *self)
{
	guint uploading = 0;
	guint active = 0;
	guint failures = 0;
	guint canaries_open = 0;
	gboolean canary_failed = FALSE;
	gboolean any_queued = FALSE;

	if (!self->running)
		return;

	for (guint i = 0; i < self->jobs->len; i++) {
		FleetJob *job = g_ptr_array_index(self->jobs, i);
		FleetJobPhase phase = fleet_job_get_phase(job);
		if (fleet_job_is_active(job)) {
			active++;
			if (phase != FLEET_JOB_PHASE_WAITING_PASSWORD)
				uploading++;
		}
		if (fleet_job_queue_is_failure(phase))
			failures++;
		if (fleet_job_get_canary(job)) {
			if (!fleet_job_is_finished(job))
				canaries_open++;
			else if (phase != FLEET_JOB_PHASE_VERIFIED && phase != FLEET_JOB_PHASE_UPLOADED &&
				 phase != FLEET_JOB_PHASE_SKIPPED)
				canary_failed = TRUE;
		}
		if (phase == FLEET_JOB_PHASE_QUEUED)
			any_queued = TRUE;
	}

	if (!self->stopped && canary_failed) {
		self->stopped = TRUE;
		g_free(self->stop_reason);
		self->stop_reason = g_strdup(_("Not started: a canary device failed"));
	}
	if (!self->stopped && self->max_failures > 0 && failures >= self->max_failures) {
		self->stopped = TRUE;
		g_free(self->stop_reason);
		self->stop_reason = g_strdup_printf(g_dngettext(GETTEXT_PACKAGE,
								"Not started: the batch stopped after %u failure",
								"Not started: the batch stopped after %u failures",
								failures),
						    failures);
	}
	if (self->stopped && any_queued) {
		fleet_job_queue_skip_queued(self, self->stop_reason);
		any_queued = FALSE;
	}

	for (guint i = 0; i < self->jobs->len && uploading < self->concurrency; i++) {
		FleetJob *job = g_ptr_array_index(self->jobs, i);
		if (fleet_job_get_phase(job) != FLEET_JOB_PHASE_QUEUED)
			continue;
		/* while canaries are open only they may run */
		if (canaries_open > 0 && !fleet_job_get_canary(job))
			continue;
		uploading++;
		active++;
		fleet_job_run(job, self);
	}

	if (active == 0) {
		gboolean still_queued = FALSE;
		for (guint i = 0; i < self->jobs->len; i++) {
			if (fleet_job_get_phase(g_ptr_array_index(self->jobs, i)) == FLEET_JOB_PHASE_QUEUED)
				still_queued = TRUE;
		}
		if (!still_queued) {
			fleet_job_queue_set_running(self, FALSE);
			g_signal_emit(self, signals[SIGNAL_FINISHED], 0);
		}
	}
}

static gboolean
fleet_job_queue_schedule_idle_cb(gpointer user_data)
{
	FleetJobQueue *self = FLEET_JOB_QUEUE(user_data);
	self->schedule_id = 0;
	fleet_job_queue_schedule(self);
	return G_SOURCE_REMOVE;
}

/* job callbacks may be deep in a transport: schedule from an idle, once */
static void
fleet_job_queue_schedule_later(FleetJobQueue *self)
{
	if (self->schedule_id == 0)
		self->schedule_id = g_idle_add(fleet_job_queue_schedule_idle_cb, self);
}

static void
fleet_job_queue_job_phase_cb(FleetJob *job, GParamSpec *pspec, gpointer user_data)
{
	FleetJobQueue *self = FLEET_JOB_QUEUE(user_data);
	if (fleet_job_is_finished(job) || fleet_job_get_phase(job) == FLEET_JOB_PHASE_WAITING_PASSWORD)
		fleet_job_queue_schedule_later(self);
}

FleetJob *
fleet_job_queue_add(FleetJobQueue *self, FleetDevice *device, FleetImage *image)
{
	g_autoptr(FleetJob) job = NULL;
	guint canaries = 0;
	g_return_val_if_fail(FLEET_IS_JOB_QUEUE(self), NULL);

	job = fleet_job_new(device, image);
	for (guint i = 0; i < self->jobs->len; i++) {
		if (fleet_job_get_canary(g_ptr_array_index(self->jobs, i)))
			canaries++;
	}
	if (canaries < self->canary_count)
		fleet_job_set_canary(job, TRUE);
	g_signal_connect_object(job, "notify::phase", G_CALLBACK(fleet_job_queue_job_phase_cb), self,
				0);
	g_ptr_array_add(self->jobs, g_object_ref(job));
	g_list_model_items_changed(G_LIST_MODEL(self), self->jobs->len - 1, 0, 1);
	return job;
}

void
fleet_job_queue_start(FleetJobQueue *self)
{
	g_return_if_fail(FLEET_IS_JOB_QUEUE(self));
	self->stopped = FALSE;
	fleet_job_queue_set_running(self, TRUE);
	fleet_job_queue_schedule(self);
}

void
fleet_job_queue_cancel_all(FleetJobQueue *self)
{
	g_autoptr(GPtrArray) jobs = NULL;
	g_return_if_fail(FLEET_IS_JOB_QUEUE(self));
	/* cancelling may finish jobs synchronously, which reschedules: work on a copy */
	jobs = g_ptr_array_copy(self->jobs, (GCopyFunc)(void (*)(void))g_object_ref, NULL);
	g_ptr_array_set_free_func(jobs, g_object_unref);
	self->stopped = TRUE;
	g_free(self->stop_reason);
	self->stop_reason = g_strdup(_("Cancelled"));
	for (guint i = 0; i < jobs->len; i++)
		fleet_job_cancel(g_ptr_array_index(jobs, i));
	fleet_job_queue_schedule_later(self);
}

guint
fleet_job_queue_retry_failed(FleetJobQueue *self)
{
	guint n = 0;
	g_return_val_if_fail(FLEET_IS_JOB_QUEUE(self), 0);
	for (guint i = 0; i < self->jobs->len; i++) {
		FleetJob *job = g_ptr_array_index(self->jobs, i);
		FleetJobPhase phase = fleet_job_get_phase(job);
		if (fleet_job_queue_is_failure(phase) || phase == FLEET_JOB_PHASE_CANCELLED ||
		    (phase == FLEET_JOB_PHASE_SKIPPED && fleet_job_get_error_code(job) < 0)) {
			/* a retry is not a new canary round */
			fleet_job_set_canary(job, FALSE);
			fleet_job_reset(job);
			n++;
		}
	}
	if (n > 0)
		fleet_job_queue_start(self);
	return n;
}

void
fleet_job_queue_clear_finished(FleetJobQueue *self)
{
	g_return_if_fail(FLEET_IS_JOB_QUEUE(self));
	for (guint i = self->jobs->len; i > 0; i--) {
		FleetJob *job = g_ptr_array_index(self->jobs, i - 1);
		if (fleet_job_is_finished(job)) {
			g_signal_handlers_disconnect_by_data(job, self);
			g_ptr_array_remove_index(self->jobs, i - 1);
			g_list_model_items_changed(G_LIST_MODEL(self), i - 1, 1, 0);
		}
	}
}

void
fleet_job_queue_password_needed(FleetJobQueue *self, FleetJob *job)
{
	g_return_if_fail(FLEET_IS_JOB_QUEUE(self));
	g_signal_emit(self, signals[SIGNAL_PASSWORD_NEEDED], 0, job);
	/* a job waiting for a human frees its upload slot */
	fleet_job_queue_schedule_later(self);
}

gboolean
fleet_job_queue_get_running(FleetJobQueue *self)
{
	return self->running;
}

guint
fleet_job_queue_count(FleetJobQueue *self, FleetJobPhase phase)
{
	guint n = 0;
	for (guint i = 0; i < self->jobs->len; i++) {
		if (fleet_job_get_phase(g_ptr_array_index(self->jobs, i)) == phase)
			n++;
	}
	return n;
}

/* one "18 verified" part of a summary, plural forms from the catalogue */
static gchar *
fleet_job_queue_summary_part(FleetJobPhase phase, guint n)
{
	switch (phase) {
	case FLEET_JOB_PHASE_VERIFIED:
		/* TRANSLATORS: part of a batch summary: "18 verified, 1 failed" */
		return g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%u verified", "%u verified", n), n);
	case FLEET_JOB_PHASE_UPLOADED:
		return g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%u uploaded (not verifiable)",
						   "%u uploaded (not verifiable)", n),
				       n);
	case FLEET_JOB_PHASE_ROLLED_BACK:
		return g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%u rolled back", "%u rolled back", n),
				       n);
	case FLEET_JOB_PHASE_FAILED:
		return g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%u failed", "%u failed", n), n);
	case FLEET_JOB_PHASE_SKIPPED:
		return g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%u skipped", "%u skipped", n), n);
	case FLEET_JOB_PHASE_CANCELLED:
		return g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%u cancelled", "%u cancelled", n),
				       n);
	default:
		return NULL;
	}
}

gchar *
fleet_job_queue_get_summary(FleetJobQueue *self)
{
	GString *s = g_string_new(NULL);
	const FleetJobPhase phases[] = {FLEET_JOB_PHASE_VERIFIED,  FLEET_JOB_PHASE_UPLOADED,
					FLEET_JOB_PHASE_ROLLED_BACK, FLEET_JOB_PHASE_FAILED,
					FLEET_JOB_PHASE_SKIPPED,   FLEET_JOB_PHASE_CANCELLED};
	for (gsize i = 0; i < G_N_ELEMENTS(phases); i++) {
		guint n = fleet_job_queue_count(self, phases[i]);
		g_autofree gchar *part = NULL;
		if (n == 0)
			continue;
		part = fleet_job_queue_summary_part(phases[i], n);
		if (s->len > 0)
			g_string_append(s, ", ");
		g_string_append(s, part);
	}
	if (s->len == 0)
		g_string_append(s, _("Nothing done yet"));
	return g_string_free(s, FALSE);
}

void
fleet_job_queue_add_transport(FleetJobQueue *self, FleetTransport *transport)
{
	g_return_if_fail(FLEET_IS_JOB_QUEUE(self));
	g_ptr_array_add(self->transports, g_object_ref(transport));
}

FleetTransport *
fleet_job_queue_get_transport(FleetJobQueue *self, FleetProtocol protocol)
{
	for (guint i = 0; i < self->transports->len; i++) {
		FleetTransport *t = g_ptr_array_index(self->transports, i);
		if (fleet_transport_get_protocol(t) == protocol)
			return t;
	}
	return NULL;
}

void
fleet_job_queue_set_credentials(FleetJobQueue *self, GObject *credentials)
{
	g_set_object(&self->credentials, credentials);
}

GObject *
fleet_job_queue_get_credentials(FleetJobQueue *self)
{
	return self->credentials;
}

void
fleet_job_queue_set_concurrency(FleetJobQueue *self, guint concurrency)
{
	self->concurrency = CLAMP(concurrency, 1, 256);
	fleet_job_queue_schedule_later(self);
}

guint
fleet_job_queue_get_concurrency(FleetJobQueue *self)
{
	return self->concurrency;
}

void
fleet_job_queue_set_canary_count(FleetJobQueue *self, guint count)
{
	self->canary_count = count;
}

guint
fleet_job_queue_get_canary_count(FleetJobQueue *self)
{
	return self->canary_count;
}

void
fleet_job_queue_set_max_failures(FleetJobQueue *self, guint max_failures)
{
	self->max_failures = max_failures;
}

guint
fleet_job_queue_get_max_failures(FleetJobQueue *self)
{
	return self->max_failures;
}

void
fleet_job_queue_set_timeouts(FleetJobQueue *self,
			     guint connect_timeout,
			     guint stall_timeout,
			     guint result_timeout,
			     guint verify_timeout)
{
	self->connect_timeout = MAX(connect_timeout, 1);
	self->stall_timeout = MAX(stall_timeout, 1);
	self->result_timeout = MAX(result_timeout, 1);
	self->verify_timeout = MAX(verify_timeout, 1);
}

guint
fleet_job_queue_get_connect_timeout(FleetJobQueue *self)
{
	return self->connect_timeout;
}

guint
fleet_job_queue_get_stall_timeout(FleetJobQueue *self)
{
	return self->stall_timeout;
}

guint
fleet_job_queue_get_result_timeout(FleetJobQueue *self)
{
	return self->result_timeout;
}

guint
fleet_job_queue_get_verify_timeout(FleetJobQueue *self)
{
	return self->verify_timeout;
}

void
fleet_job_queue_set_verify(FleetJobQueue *self, gboolean verify)
{
	self->verify = verify;
}

gboolean
fleet_job_queue_get_verify(FleetJobQueue *self)
{
	return self->verify;
}

void
fleet_job_queue_set_stop_and_wait(FleetJobQueue *self, gboolean stop_and_wait)
{
	self->stop_and_wait = stop_and_wait;
}

gboolean
fleet_job_queue_get_stop_and_wait(FleetJobQueue *self)
{
	return self->stop_and_wait;
}

void
fleet_job_queue_set_http_field(FleetJobQueue *self, const gchar *field)
{
	g_free(self->http_field);
	self->http_field = g_strdup(field != NULL ? field : "firmware");
}

const gchar *
fleet_job_queue_get_http_field(FleetJobQueue *self)
{
	return self->http_field;
}

void
fleet_job_queue_set_default_password(FleetJobQueue *self, const gchar *password)
{
	if (self->default_password != NULL) {
		memset(self->default_password, 0, strlen(self->default_password));
		g_clear_pointer(&self->default_password, g_free);
	}
	self->default_password = g_strdup(password);
}

const gchar *
fleet_job_queue_get_default_password(FleetJobQueue *self)
{
	return self->default_password;
}

static void
fleet_job_queue_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	FleetJobQueue *self = FLEET_JOB_QUEUE(object);
	switch (prop_id) {
	case PROP_RUNNING:
		g_value_set_boolean(value, self->running);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
		break;
	}
}

static void
fleet_job_queue_dispose(GObject *object)
{
	FleetJobQueue *self = FLEET_JOB_QUEUE(object);
	g_clear_handle_id(&self->schedule_id, g_source_remove);
	for (guint i = 0; i < self->jobs->len; i++)
		g_signal_handlers_disconnect_by_data(g_ptr_array_index(self->jobs, i), self);
	g_ptr_array_set_size(self->jobs, 0);
	g_ptr_array_set_size(self->transports, 0);
	g_clear_object(&self->credentials);
	G_OBJECT_CLASS(fleet_job_queue_parent_class)->dispose(object);
}

static void
fleet_job_queue_finalize(GObject *object)
{
	FleetJobQueue *self = FLEET_JOB_QUEUE(object);
	fleet_job_queue_set_default_password(self, NULL);
	g_ptr_array_unref(self->jobs);
	g_ptr_array_unref(self->transports);
	g_free(self->http_field);
	g_free(self->stop_reason);
	G_OBJECT_CLASS(fleet_job_queue_parent_class)->finalize(object);
}

static void
fleet_job_queue_class_init(FleetJobQueueClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->get_property = fleet_job_queue_get_property;
	object_class->dispose = fleet_job_queue_dispose;
	object_class->finalize = fleet_job_queue_finalize;

	props[PROP_RUNNING] = g_param_spec_boolean("running", NULL, NULL, FALSE,
						   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS |
						       G_PARAM_EXPLICIT_NOTIFY);
	g_object_class_install_properties(object_class, N_PROPS, props);

	/**
	 * FleetJobQueue::password-needed:
	 * @job: the job; answer with fleet_job_set_password()
	 */
	signals[SIGNAL_PASSWORD_NEEDED] = g_signal_new("password-needed", G_TYPE_FROM_CLASS(klass),
						       G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
						       G_TYPE_NONE, 1, FLEET_TYPE_JOB);
	/* every job has ended */
	signals[SIGNAL_FINISHED] = g_signal_new("finished", G_TYPE_FROM_CLASS(klass),
						G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE,
						0);
}

static void
fleet_job_queue_init(FleetJobQueue *self)
{
	self->jobs = g_ptr_array_new_with_free_func(g_object_unref);
	self->transports = g_ptr_array_new_with_free_func(g_object_unref);
	self->concurrency = 8;
	self->connect_timeout = 10;
	self->stall_timeout = 20;
	self->result_timeout = 60;
	self->verify_timeout = 90;
	self->verify = TRUE;
	self->http_field = g_strdup("firmware");
}

FleetJobQueue *
fleet_job_queue_new(void)
{
	return g_object_new(FLEET_TYPE_JOB_QUEUE, NULL);
}
