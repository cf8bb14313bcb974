/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-job.c - one device × one image: the phases of an update and their outcome
 *
 * queued → preflight → [waiting for a password] → connecting → authenticating →
 * uploading → device verifying → rebooting → verified | uploaded | rolled back | failed,
 * or skipped / cancelled. Each phase is one small function; the queue starts jobs and
 * learns of their end through notify::phase.
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "fleet-credentials.h"
#include "fleet-device-info.h"
#include "fleet-error.h"
#include "fleet-http-get.h"
#include "fleet-job-private.h"
#include "fleet-text.h"
#include "fleet-transport.h"

/* progress notifications are coalesced to this interval */
#define FLEET_JOB_NOTIFY_US (100 * 1000)
/* a device reboots at least this long after accepting an image */
#define FLEET_JOB_MIN_REBOOT_US (1 * G_USEC_PER_SEC)
#define FLEET_JOB_TRANSCRIPT_MAX 2000

struct _FleetJob {
	GObject parent_instance;
	FleetDevice *device;
	FleetImage *image;
	FleetJobQueue *queue; /* weak */
	FleetJobPhase phase;
	gchar *message;
	gint error_code;
	gboolean force;
	gboolean canary;
	gboolean filesystem;
	FleetProtocol protocol;
	FleetProtocol protocol_forced;
	guint attempts;

	guint64 bytes_done;
	guint64 bytes_total;
	gdouble rate;
	gint64 rate_sample_time;
	guint64 rate_sample_bytes;
	gint64 last_notify;

	gint64 started;
	gint64 finished;
	gint64 transfer_started; /* the first byte could go out */
	gint64 transfer_finished; /* the device's verdict on the last byte came */
	gchar *old_version;
	gchar *old_sha256;
	gchar *new_version;
	GPtrArray *transcript;

	gchar *password;
	gboolean password_from_user;
	gboolean remember_password;
	gboolean needs_password;
	gboolean password_rejected;

	GCancellable *cancellable;
	gint64 uploaded_at;
	gboolean saw_offline;
	guint verify_timeout_id;
	gulong device_notify_id;
	guint probe_id;
	GCancellable *probe_cancellable;
	gboolean probe_rebooted;
	gboolean reports_state;	/* its /info tells whether the running image confirmed itself */
	gboolean logged_waiting;
	gchar *running_state;
	gboolean info_after_restart; /* an /info answer came from the restarted device */
	gchar *device_result;	     /* and its "last_update": "ok", "rolled back", ... */
	gint rollback_asks;	     /* /info asks left before a rollback is worded; -1 none yet */
	guint64 slot_size;  /* from GET /info before the upload, 0 unknown */
	guint64 free_space;
};

G_DEFINE_TYPE(FleetJob, fleet_job, G_TYPE_OBJECT)

enum {
	PROP_0,
	PROP_PHASE,
	PROP_PROGRESS,
	PROP_MESSAGE,
	PROP_NEEDS_PASSWORD,
	N_PROPS
};

static GParamSpec *props[N_PROPS];

static void fleet_job_start_upload(FleetJob *self);

static void
fleet_job_wipe_password(FleetJob *self)
{
	if (self->password == NULL)
		return;
	memset(self->password, 0, strlen(self->password));
	g_clear_pointer(&self->password, g_free);
}

static void
fleet_job_log(FleetJob *self, const gchar *format, ...) G_GNUC_PRINTF(2, 3);

static void
fleet_job_log(FleetJob *self, const gchar *format, ...)
{
	va_list args;
	g_autofree gchar *line = NULL;
	gdouble t = self->started > 0 ? (gdouble)(g_get_monotonic_time() - self->started) / G_USEC_PER_SEC : 0.0;
	va_start(args, format);
	line = g_strdup_vprintf(format, args);
	va_end(args);
	if (self->transcript->len >= FLEET_JOB_TRANSCRIPT_MAX)
		g_ptr_array_remove_index(self->transcript, 0);
	g_ptr_array_add(self->transcript, g_strdup_printf("%8.3f s  %s", t, line));
}

static void
fleet_job_transcript_cb(const gchar *line, gpointer user_data)
{
	fleet_job_log(FLEET_JOB(user_data), "%s", line);
}

static void
fleet_job_set_phase(FleetJob *self, FleetJobPhase phase)
{
	if (self->phase == phase)
		return;
	self->phase = phase;
	fleet_job_log(self, "phase: %s", fleet_job_phase_to_id(phase));
	if (phase == FLEET_JOB_PHASE_UPLOADING && self->transfer_started == 0)
		self->transfer_started = g_get_monotonic_time();
	if (fleet_job_is_finished(self))
		self->finished = g_get_monotonic_time();
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_PHASE]);
}

static void
fleet_job_stop_watching(FleetJob *self)
{
	g_clear_handle_id(&self->verify_timeout_id, g_source_remove);
	g_clear_handle_id(&self->probe_id, g_source_remove);
	if (self->probe_cancellable != NULL) {
		g_cancellable_cancel(self->probe_cancellable);
		g_clear_object(&self->probe_cancellable);
	}
	g_clear_signal_handler(&self->device_notify_id, self->device);
}

/* the one way a job ends */
static void
fleet_job_finish(FleetJob *self, FleetJobPhase phase, gint error_code, const gchar *message)
{
	if (fleet_job_is_finished(self))
		return;
	fleet_job_stop_watching(self);
	g_free(self->message);
	self->message = message != NULL ? g_strdup(message) : NULL;
	self->error_code = error_code;
	self->needs_password = FALSE;
	if (message != NULL)
		fleet_job_log(self, "%s", message);
	fleet_job_wipe_password(self);
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_MESSAGE]);
	fleet_job_set_phase(self, phase);
}

static void
fleet_job_fail(FleetJob *self, const GError *error)
{
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		fleet_job_finish(self, FLEET_JOB_PHASE_CANCELLED, -1, _("Cancelled"));
		return;
	}
	fleet_job_finish(self, FLEET_JOB_PHASE_FAILED,
			 error->domain == FLEET_ERROR ? error->code : FLEET_ERROR_INTERNAL,
			 error->message);
}

static void
fleet_job_progress_cb(guint64 done, guint64 total, gpointer user_data)
{
	FleetJob *self = FLEET_JOB(user_data);
	gint64 now = g_get_monotonic_time();

	self->bytes_done = done;
	self->bytes_total = total;
	if (self->rate_sample_time == 0) {
		self->rate_sample_time = now;
		self->rate_sample_bytes = done;
	} else if (now - self->rate_sample_time >= 250 * 1000) {
		gdouble dt = (gdouble)(now - self->rate_sample_time) / G_USEC_PER_SEC;
		gdouble inst = (gdouble)(done - MIN(done, self->rate_sample_bytes)) / dt;
		self->rate = self->rate == 0 ? inst : 0.7 * self->rate + 0.3 * inst;
		self->rate_sample_time = now;
		self->rate_sample_bytes = done;
	}
	if (now - self->last_notify >= FLEET_JOB_NOTIFY_US || done == total) {
		self->last_notify = now;
		g_object_notify_by_pspec(G_OBJECT(self), props[PROP_PROGRESS]);
	}
}

static void
fleet_job_phase_cb(FleetUploadPhase phase, gpointer user_data)
{
	FleetJob *self = FLEET_JOB(user_data);
	switch (phase) {
	case FLEET_UPLOAD_PHASE_CONNECTING:
		fleet_job_set_phase(self, FLEET_JOB_PHASE_CONNECTING);
		break;
	case FLEET_UPLOAD_PHASE_AUTHENTICATING:
		fleet_job_set_phase(self, FLEET_JOB_PHASE_AUTHENTICATING);
		break;
	case FLEET_UPLOAD_PHASE_UPLOADING:
		fleet_job_set_phase(self, FLEET_JOB_PHASE_UPLOADING);
		break;
	case FLEET_UPLOAD_PHASE_DEVICE_VERIFYING:
		fleet_job_set_phase(self, FLEET_JOB_PHASE_DEVICE_VERIFYING);
		break;
	default:
		break;
	}
}

/* verification: the device went away and came back; what does it run now? */
static gboolean
fleet_job_sha_matches(const gchar *announced, const gchar *full)
{
	gsize n;
	if (announced == NULL || full == NULL)
		return FALSE;
	n = strlen(announced);
	return n >= 8 && n <= strlen(full) && g_ascii_strncasecmp(announced, full, n) == 0;
}

static void fleet_job_probe_now(FleetJob *self);

/* how often a device that came back on its old image is asked for GET /info before the job
 * ends without its word */
#define FLEET_JOB_ROLLBACK_ASKS 3

/*
 * The device came back on the image it ran before: its bootloader rolled the update back,
 * or the update never took. A device with GET /info says which in "last_update"; an answer
 * from before the restart does not count, so the restarted device is asked first.
 */
static void
fleet_job_came_back_old(FleetJob *self)
{
	const gchar *runs = fleet_device_get_fw_version(self->device) != NULL
				? fleet_device_get_fw_version(self->device)
				: fleet_device_get_fw_sha256(self->device);
	g_autofree gchar *who = NULL;
	g_autofree gchar *m = NULL;

	if (self->probe_cancellable != NULL && !self->info_after_restart &&
	    self->rollback_asks != 0) {
		if (self->rollback_asks < 0) {
			self->rollback_asks = FLEET_JOB_ROLLBACK_ASKS;
			fleet_job_log(self, "back on the old image; asking the device what happened");
			fleet_job_probe_now(self);
		}
		return;
	}
	who = fleet_device_describe(self->device, self->protocol);
	if (g_strcmp0(self->device_result, "rolled back") == 0)
		m = g_strdup_printf(_("%s rolled back: the new firmware did not confirm itself, so the "
				      "device started %s again; see its log"),
				    who, runs != NULL ? runs : "?");
	else
		m = g_strdup_printf(_("%s came back on the old firmware (rolled back?): it runs %s again"),
				    who, runs != NULL ? runs : "?");
	fleet_job_finish(self, FLEET_JOB_PHASE_ROLLED_BACK, FLEET_ERROR_VERSION_SAME, m);
}

/* an ask after coming back on the old image went unanswered; the last one ends the job
 * without the device's word. Returns: whether the job ended */
static gboolean
fleet_job_rollback_unanswered(FleetJob *self)
{
	if (self->rollback_asks <= 0 || --self->rollback_asks > 0)
		return FALSE;
	fleet_job_came_back_old(self);
	return TRUE;
}

static void
fleet_job_evaluate(FleetJob *self)
{
	FleetDevice *device = self->device;
	const gchar *sha = fleet_device_get_fw_sha256(device);
	const gchar *version = fleet_device_get_fw_version(device);
	const gchar *image_version = fleet_image_get_version(self->image);
	gboolean rebooted;
	g_autofree gchar *who = fleet_device_describe(device, self->protocol);

	if (!fleet_device_get_online(device))
		return;
	/* it went offline, its /info says it restarted, or it re-announced itself well after
	 * accepting the image */
	rebooted = self->saw_offline || self->probe_rebooted ||
		   (fleet_device_get_last_seen(device) > g_get_real_time() - 2 * G_USEC_PER_SEC &&
		    g_get_monotonic_time() - self->uploaded_at > FLEET_JOB_MIN_REBOOT_US);

	if (sha != NULL && sha[0] != '\0') {
		if (fleet_job_sha_matches(sha, fleet_image_get_sha256(self->image))) {
			/* an image that has not confirmed itself may still be rolled back */
			if (self->reports_state && g_strcmp0(self->running_state, "valid") != 0 &&
			    g_strcmp0(self->running_state, "undefined") != 0) {
				/* once per state, not on every notify while it waits */
				if (!self->logged_waiting) {
					fleet_job_log(self, "running the new image (%s); waiting for it "
							    "to confirm itself",
						      self->running_state != NULL ? self->running_state
										  : "?");
					self->logged_waiting = TRUE;
				}
				return;
			}
			g_free(self->new_version);
			self->new_version = g_strdup(version);
			fleet_job_finish(self, FLEET_JOB_PHASE_VERIFIED, -1, NULL);
			return;
		}
		if (rebooted && g_strcmp0(sha, self->old_sha256) == 0) {
			fleet_job_came_back_old(self);
			return;
		}
		if (rebooted && g_strcmp0(sha, self->old_sha256) != 0) {
			g_autofree gchar *m = g_strdup_printf(
			    _("%s came back running a different image (SHA-256 %s…) than the one sent"),
			    who, sha);
			fleet_job_finish(self, FLEET_JOB_PHASE_FAILED, FLEET_ERROR_WRONG_TARGET, m);
		}
		return;
	}
	if (version != NULL && image_version != NULL) {
		if (g_strcmp0(version, image_version) == 0 &&
		    (rebooted || g_strcmp0(version, self->old_version) != 0)) {
			if (self->reports_state && g_strcmp0(self->running_state, "valid") != 0 &&
			    g_strcmp0(self->running_state, "undefined") != 0)
				return;
			g_free(self->new_version);
			self->new_version = g_strdup(version);
			fleet_job_finish(self, FLEET_JOB_PHASE_VERIFIED, -1, NULL);
			return;
		}
		if (rebooted && g_strcmp0(version, self->old_version) == 0)
			fleet_job_came_back_old(self);
		return;
	}
	if (rebooted) {
		fleet_job_finish(self, FLEET_JOB_PHASE_UPLOADED, -1,
				 _("Back online; the device announces no version to compare"));
	}
}

static void
fleet_job_device_notify_cb(FleetDevice *device, GParamSpec *pspec, gpointer user_data)
{
	FleetJob *self = FLEET_JOB(user_data);
	if (g_strcmp0(pspec->name, "online") == 0 && !fleet_device_get_online(device)) {
		self->saw_offline = TRUE;
		fleet_job_log(self, "device went offline");
		return;
	}
	fleet_job_evaluate(self);
}

static gboolean
fleet_job_verify_timeout_cb(gpointer user_data)
{
	FleetJob *self = FLEET_JOB(user_data);
	g_autofree gchar *who = fleet_device_describe(self->device, self->protocol);
	g_autofree gchar *m = NULL;
	self->verify_timeout_id = 0;
	m = g_strdup_printf(_("%s did not come back within %u s after the update: check its power "
			      "and its log"),
			    who, fleet_job_queue_get_verify_timeout(self->queue));
	fleet_job_finish(self, FLEET_JOB_PHASE_FAILED, FLEET_ERROR_TIMED_OUT, m);
	return G_SOURCE_REMOVE;
}

/* devices with an HTTP port are asked for GET /info while they reboot */
#define FLEET_JOB_PROBE_INTERVAL_MS 1000
#define FLEET_JOB_PROBE_TIMEOUT_S 2

static gboolean fleet_job_probe_cb(gpointer user_data);

static gchar *
fleet_job_info_url(FleetJob *self)
{
	const gchar *host = fleet_device_get_address(self->device) != NULL
				? fleet_device_get_address(self->device)
				: fleet_device_get_hostname(self->device);
	if (host == NULL || fleet_device_get_http_port(self->device) == 0)
		return NULL;
	if (strchr(host, ':') != NULL)
		return g_strdup_printf("http://[%s]:%u/info", host, fleet_device_get_http_port(self->device));
	return g_strdup_printf("http://%s:%u/info", host, fleet_device_get_http_port(self->device));
}


static void
fleet_job_probe_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(FleetJob) self = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) body = NULL;
	g_autoptr(FleetDeviceInfo) info = NULL;
	guint status = 0;

	body = fleet_http_get_finish(result, &status, &error);
	if (fleet_job_is_finished(self) || self->phase != FLEET_JOB_PHASE_REBOOTING)
		return;
	if (body == NULL || status != 200) {
		/* not answering is what a rebooting device does */
		if (!self->saw_offline) {
			fleet_job_log(self, "device stopped answering (rebooting)");
			self->saw_offline = TRUE;
		}
		if (fleet_job_rollback_unanswered(self))
			return;
	} else {
		gsize len = 0;
		const gchar *data = g_bytes_get_data(body, &len);
		info = fleet_device_info_new_from_data(data, len, &error);
		if (info != NULL) {
			gdouble since = (gdouble)(g_get_monotonic_time() - self->uploaded_at) / G_USEC_PER_SEC;
			/* uptime shorter than the time since the upload: it restarted */
			if (info->uptime >= 0 && (gdouble)info->uptime + 1.0 < since && !self->probe_rebooted) {
				fleet_job_log(self, "device restarted (uptime %" G_GINT64_FORMAT " s)",
					      info->uptime);
				self->probe_rebooted = TRUE;
			}
			if (info->running_state != NULL) {
				self->reports_state = TRUE;
				g_free(self->running_state);
				self->running_state = g_strdup(info->running_state);
			}
			/* running the image that was sent proves the restart as well: a quick boot
			 * can fall between two probes and leave the uptime test undecided; so does
			 * being back on the old image */
			if (self->probe_rebooted || self->saw_offline || self->rollback_asks > 0 ||
			    fleet_job_sha_matches(info->fw_sha256, fleet_image_get_sha256(self->image))) {
				self->info_after_restart = TRUE;
				g_free(self->device_result);
				self->device_result = g_strdup(info->last_update);
				fleet_device_info_apply(info, self->device);
				fleet_device_set_online(self->device, TRUE);
				fleet_job_evaluate(self);
			}
		} else {
			fleet_job_log(self, "unusable /info answer: %s", error->message);
			if (fleet_job_rollback_unanswered(self))
				return;
		}
	}
	if (!fleet_job_is_finished(self) && self->probe_id == 0)
		self->probe_id = g_timeout_add(FLEET_JOB_PROBE_INTERVAL_MS, fleet_job_probe_cb, self);
}

static gboolean
fleet_job_probe_cb(gpointer user_data)
{
	FleetJob *self = FLEET_JOB(user_data);
	g_autofree gchar *url = fleet_job_info_url(self);

	self->probe_id = 0;
	if (url == NULL)
		return G_SOURCE_REMOVE;
	fleet_http_get_async(url, FLEET_JOB_PROBE_TIMEOUT_S, FLEET_DEVICE_INFO_SIZE_MAX,
			     self->probe_cancellable, fleet_job_probe_done_cb, g_object_ref(self));
	return G_SOURCE_REMOVE;
}

/* the next GET /info now rather than at the next tick; one under way answers first */
static void
fleet_job_probe_now(FleetJob *self)
{
	if (self->probe_id == 0)
		return;
	g_clear_handle_id(&self->probe_id, g_source_remove);
	fleet_job_probe_cb(self);
}

static void
fleet_job_start_verify(FleetJob *self)
{
	if (self->filesystem) {
		fleet_job_finish(self, FLEET_JOB_PHASE_UPLOADED, -1,
				 _("Filesystem image accepted by the device"));
		return;
	}
	if (!fleet_job_queue_get_verify(self->queue)) {
		fleet_job_finish(self, FLEET_JOB_PHASE_UPLOADED, -1,
				 _("Uploaded; not waiting for the device to come back"));
		return;
	}
	/* a manual device without an HTTP /info nobody announces cannot be watched */
	if (fleet_device_get_source(self->device) == FLEET_DEVICE_SOURCE_MANUAL &&
	    fleet_device_get_http_port(self->device) == 0) {
		fleet_job_finish(self, FLEET_JOB_PHASE_UPLOADED, -1,
				 _("Uploaded; the device announces no version, so it cannot be "
				   "verified"));
		return;
	}
	fleet_job_set_phase(self, FLEET_JOB_PHASE_REBOOTING);
	self->uploaded_at = g_get_monotonic_time();
	/* what the old image said about itself no longer counts */
	g_clear_pointer(&self->running_state, g_free);
	g_clear_pointer(&self->device_result, g_free);
	self->info_after_restart = FALSE;
	self->rollback_asks = -1;
	self->logged_waiting = FALSE;
	self->device_notify_id = g_signal_connect(self->device, "notify",
						  G_CALLBACK(fleet_job_device_notify_cb), self);
	self->verify_timeout_id = g_timeout_add_seconds(fleet_job_queue_get_verify_timeout(self->queue),
						       fleet_job_verify_timeout_cb, self);
	self->probe_rebooted = FALSE;
	if (fleet_device_get_http_port(self->device) != 0) {
		self->probe_cancellable = g_cancellable_new();
		self->probe_id = g_timeout_add(FLEET_JOB_PROBE_INTERVAL_MS, fleet_job_probe_cb, self);
	}
}

static void
fleet_job_store_password_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(FleetJob) self = user_data;
	g_autoptr(GError) error = NULL;
	if (!fleet_credentials_store_finish(FLEET_CREDENTIALS(source), result, &error))
		fleet_job_log(self, "could not remember the password: %s", error->message);
	else
		fleet_job_log(self, "password remembered");
}

static void
fleet_job_upload_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(FleetJob) self = user_data;
	g_autoptr(GError) error = NULL;

	if (!fleet_transport_upload_finish(FLEET_TRANSPORT(source), result, &error)) {
		if (fleet_job_is_finished(self))
			return;
		if (g_error_matches(error, FLEET_ERROR, FLEET_ERROR_AUTH_FAILED) &&
		    !g_cancellable_is_cancelled(self->cancellable)) {
			/* ask again for this device only; the batch goes on */
			self->password_rejected = self->password != NULL;
			fleet_job_wipe_password(self);
			g_free(self->message);
			self->message = g_strdup(error->message);
			g_object_notify_by_pspec(G_OBJECT(self), props[PROP_MESSAGE]);
			self->needs_password = TRUE;
			fleet_job_set_phase(self, FLEET_JOB_PHASE_WAITING_PASSWORD);
			g_object_notify_by_pspec(G_OBJECT(self), props[PROP_NEEDS_PASSWORD]);
			fleet_job_queue_password_needed(self->queue, self);
			return;
		}
		fleet_job_fail(self, error);
		return;
	}
	if (fleet_job_is_finished(self))
		return;
	self->transfer_finished = g_get_monotonic_time();
	fleet_job_log(self, "the device accepted the image");
	if (self->password != NULL && self->password_from_user && self->remember_password &&
	    fleet_job_queue_get_credentials(self->queue) != NULL) {
		fleet_credentials_store_async(FLEET_CREDENTIALS(fleet_job_queue_get_credentials(self->queue)),
					      fleet_device_get_id(self->device),
					      fleet_device_get_name(self->device) != NULL
						  ? fleet_device_get_name(self->device)
						  : fleet_device_get_id(self->device),
					      self->protocol, self->password, NULL,
					      fleet_job_store_password_cb, g_object_ref(self));
	}
	fleet_job_wipe_password(self);
	fleet_job_start_verify(self);
}

static void
fleet_job_start_upload(FleetJob *self)
{
	FleetTransport *transport = fleet_job_queue_get_transport(self->queue, self->protocol);
	g_autoptr(FleetUploadRequest) request = NULL;

	if (transport == NULL) {
		fleet_job_finish(self, FLEET_JOB_PHASE_FAILED, FLEET_ERROR_NOT_SUPPORTED,
				 _("No transport for this device's protocol"));
		return;
	}
	self->needs_password = FALSE;
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_NEEDS_PASSWORD]);
	request = fleet_upload_request_new(self->device, self->image);
	if (self->password != NULL)
		fleet_upload_request_set_password(request, self->password);
	fleet_upload_request_set_filesystem(request, self->filesystem);
	fleet_upload_request_set_stop_and_wait(request, fleet_job_queue_get_stop_and_wait(self->queue));
	fleet_upload_request_set_http_field(request, fleet_job_queue_get_http_field(self->queue));
	fleet_upload_request_set_timeouts(request, fleet_job_queue_get_connect_timeout(self->queue),
					  fleet_job_queue_get_stall_timeout(self->queue),
					  fleet_job_queue_get_result_timeout(self->queue));
	fleet_upload_request_set_progress_func(request, fleet_job_progress_cb, self);
	fleet_upload_request_set_phase_func(request, fleet_job_phase_cb, self);
	fleet_upload_request_set_transcript_func(request, fleet_job_transcript_cb, self);
	self->bytes_done = 0;
	self->bytes_total = fleet_image_get_size(self->image);
	self->rate = 0;
	self->rate_sample_time = 0;
	fleet_job_set_phase(self, FLEET_JOB_PHASE_CONNECTING);
	fleet_transport_upload_async(transport, request, self->cancellable, fleet_job_upload_cb,
				     g_object_ref(self));
}

static void
fleet_job_lookup_password_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(FleetJob) self = user_data;
	g_autoptr(GError) error = NULL;
	gchar *password = fleet_credentials_lookup_finish(FLEET_CREDENTIALS(source), result, &error);

	if (fleet_job_is_finished(self)) {
		fleet_credentials_free_password(password);
		return;
	}
	if (password != NULL) {
		fleet_job_log(self, "using the password from the keyring");
		fleet_job_wipe_password(self);
		/* libsecret's memory goes back through fleet_credentials_free_password(), never
		 * g_free(): keep a copy of our own */
		self->password = g_strdup(password);
		fleet_credentials_free_password(password);
		self->password_from_user = FALSE;
		fleet_job_start_upload(self);
		return;
	}
	if (error != NULL)
		fleet_job_log(self, "keyring lookup failed: %s", error->message);
	if (fleet_job_queue_get_default_password(self->queue) != NULL) {
		self->password = g_strdup(fleet_job_queue_get_default_password(self->queue));
		self->password_from_user = TRUE;
		fleet_job_start_upload(self);
		return;
	}
	self->needs_password = TRUE;
	fleet_job_set_phase(self, FLEET_JOB_PHASE_WAITING_PASSWORD);
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_NEEDS_PASSWORD]);
	fleet_job_queue_password_needed(self->queue, self);
}

static FleetProtocol
fleet_job_pick_protocol(FleetJob *self)
{
	FleetProtocol offered = fleet_device_get_protocols(self->device);
	if (self->protocol_forced != FLEET_PROTOCOL_NONE)
		return self->protocol_forced;
	if (offered & FLEET_PROTOCOL_ESPOTA)
		return FLEET_PROTOCOL_ESPOTA;
	if (offered & FLEET_PROTOCOL_HTTP)
		return FLEET_PROTOCOL_HTTP;
	return FLEET_PROTOCOL_ESPOTA;
}

static gboolean
fleet_job_preflight(FleetJob *self)
{
	FleetDeviceFacts facts = {
	    .board = fleet_device_get_board(self->device),
	    .chip = fleet_device_get_chip(self->device),
	    .slot_size = self->slot_size,
	    .free_space = self->free_space,
	    .chip_revision = -1,
	};
	g_autoptr(GPtrArray) reasons = NULL;
	FleetCompatVerdict verdict;

	fleet_job_set_phase(self, FLEET_JOB_PHASE_PREFLIGHT);
	if (self->filesystem) {
		fleet_job_log(self, "pre-flight: a filesystem image; application checks do not apply");
		return TRUE;
	}
	verdict = fleet_image_check_compat(self->image, &facts, &reasons);
	for (guint i = 0; i < reasons->len; i++) {
		FleetFinding *f = g_ptr_array_index(reasons, i);
		fleet_job_log(self, "pre-flight %s: %s", fleet_severity_to_string(f->severity), f->message);
	}
	if (verdict == FLEET_COMPAT_REFUSE) {
		FleetFinding *first = NULL;
		for (guint i = 0; i < reasons->len && first == NULL; i++) {
			FleetFinding *f = g_ptr_array_index(reasons, i);
			if (f->severity == FLEET_SEVERITY_ERROR)
				first = f;
		}
		if (!self->force) {
			fleet_job_finish(self, FLEET_JOB_PHASE_SKIPPED, FLEET_ERROR_WRONG_TARGET,
					 first != NULL ? first->message : _("Refused by pre-flight"));
			return FALSE;
		}
		fleet_job_log(self, "pre-flight refused the device; sending anyway (forced)");
	}
	return TRUE;
}

/* pre-flight, then a password if the device wants one, then the upload */
static void
fleet_job_continue_run(FleetJob *self)
{
	GObject *credentials = fleet_job_queue_get_credentials(self->queue);

	g_clear_pointer(&self->old_version, g_free);
	g_clear_pointer(&self->old_sha256, g_free);
	self->old_version = g_strdup(fleet_device_get_fw_version(self->device));
	self->old_sha256 = g_strdup(fleet_device_get_fw_sha256(self->device));
	if (!fleet_job_preflight(self))
		return;
	self->protocol = fleet_job_pick_protocol(self);

	/* a password when the device asks for one: keyring, then the batch default, then a human */
	if (fleet_device_get_needs_password(self->device) && self->password == NULL) {
		if (credentials != NULL) {
			fleet_credentials_lookup_async(FLEET_CREDENTIALS(credentials),
						       fleet_device_get_id(self->device), self->protocol,
						       self->cancellable, fleet_job_lookup_password_cb,
						       g_object_ref(self));
			return;
		}
		if (fleet_job_queue_get_default_password(self->queue) != NULL) {
			self->password = g_strdup(fleet_job_queue_get_default_password(self->queue));
			self->password_from_user = TRUE;
		}
	}
	fleet_job_start_upload(self);
}

static void
fleet_job_preprobe_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(FleetJob) self = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) body = NULL;
	guint status = 0;

	body = fleet_http_get_finish(result, &status, &error);
	if (fleet_job_is_finished(self))
		return;
	if (body != NULL && status == 200) {
		gsize len = 0;
		const gchar *data = g_bytes_get_data(body, &len);
		g_autoptr(FleetDeviceInfo) info = fleet_device_info_new_from_data(data, len, &error);
		if (info != NULL) {
			fleet_device_info_apply(info, self->device);
			self->reports_state = info->running_state != NULL;
			self->slot_size = info->slot_size > 0 ? (guint64)info->slot_size : 0;
			self->free_space = info->free_space > 0 ? (guint64)info->free_space : 0;
			fleet_job_log(self, "device information: version %s, slot %" G_GINT64_FORMAT " bytes",
				      info->version != NULL ? info->version : "?", info->slot_size);
		} else {
			fleet_job_log(self, "unusable /info answer: %s", error->message);
		}
	} else {
		fleet_job_log(self, "no device information (GET /info): %s",
			      error != NULL ? error->message : "unexpected status");
	}
	fleet_job_continue_run(self);
}

void
fleet_job_run(FleetJob *self, FleetJobQueue *queue)
{
	g_autofree gchar *url = NULL;

	self->queue = queue;
	self->attempts++;
	self->started = g_get_monotonic_time();
	self->finished = 0;
	self->transfer_started = 0;
	self->transfer_finished = 0;
	self->saw_offline = FALSE;
	self->password_rejected = FALSE;
	self->slot_size = 0;
	self->free_space = 0;
	g_clear_object(&self->cancellable);
	self->cancellable = g_cancellable_new();
	g_clear_pointer(&self->message, g_free);
	fleet_job_log(self, "attempt %u: %s to %s", self->attempts,
		      fleet_image_get_filename(self->image) != NULL ? fleet_image_get_filename(self->image)
								    : "image",
		      fleet_device_get_id(self->device));

	/* what the device says about itself sharpens the pre-flight and the verification */
	url = fleet_job_info_url(self);
	if (url != NULL) {
		fleet_job_set_phase(self, FLEET_JOB_PHASE_PREFLIGHT);
		fleet_http_get_async(url, FLEET_JOB_PROBE_TIMEOUT_S, FLEET_DEVICE_INFO_SIZE_MAX,
				     self->cancellable, fleet_job_preprobe_cb, g_object_ref(self));
		return;
	}
	fleet_job_continue_run(self);
}

void
fleet_job_reset(FleetJob *self)
{
	fleet_job_stop_watching(self);
	self->phase = FLEET_JOB_PHASE_QUEUED;
	g_clear_pointer(&self->message, g_free);
	self->error_code = -1;
	self->bytes_done = 0;
	self->rate = 0;
	self->finished = 0;
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_MESSAGE]);
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_PHASE]);
}

void
fleet_job_skip(FleetJob *self, const gchar *reason)
{
	fleet_job_finish(self, FLEET_JOB_PHASE_SKIPPED, -1, reason);
}

void
fleet_job_set_password(FleetJob *self, const gchar *password, gboolean remember)
{
	g_return_if_fail(FLEET_IS_JOB(self));
	if (self->phase != FLEET_JOB_PHASE_WAITING_PASSWORD)
		return;
	if (password == NULL) {
		g_autofree gchar *who = fleet_device_describe(self->device, self->protocol);
		g_autofree gchar *m = NULL;
		/* after a refused password, that is the reason; otherwise none was ever given */
		if (self->password_rejected && self->message != NULL)
			m = g_strdup(self->message);
		else
			m = g_strdup_printf(_("%s needs a password and none was given"), who);
		fleet_job_finish(self, FLEET_JOB_PHASE_FAILED, FLEET_ERROR_AUTH_FAILED, m);
		return;
	}
	fleet_job_wipe_password(self);
	self->password = g_strdup(password);
	self->password_from_user = TRUE;
	self->remember_password = remember;
	fleet_job_start_upload(self);
}

gboolean
fleet_job_get_needs_password(FleetJob *self)
{
	g_return_val_if_fail(FLEET_IS_JOB(self), FALSE);
	return self->needs_password;
}

gboolean
fleet_job_get_password_rejected(FleetJob *self)
{
	g_return_val_if_fail(FLEET_IS_JOB(self), FALSE);
	return self->password_rejected;
}

void
fleet_job_cancel(FleetJob *self)
{
	g_return_if_fail(FLEET_IS_JOB(self));
	if (fleet_job_is_finished(self))
		return;
	if (self->phase == FLEET_JOB_PHASE_QUEUED || self->phase == FLEET_JOB_PHASE_WAITING_PASSWORD ||
	    self->phase == FLEET_JOB_PHASE_REBOOTING) {
		fleet_job_finish(self, FLEET_JOB_PHASE_CANCELLED, -1, _("Cancelled"));
		return;
	}
	/* the transport completes with G_IO_ERROR_CANCELLED */
	g_cancellable_cancel(self->cancellable);
}

FleetDevice *
fleet_job_get_device(FleetJob *self)
{
	g_return_val_if_fail(FLEET_IS_JOB(self), NULL);
	return self->device;
}

FleetImage *
fleet_job_get_image(FleetJob *self)
{
	g_return_val_if_fail(FLEET_IS_JOB(self), NULL);
	return self->image;
}

FleetJobPhase
fleet_job_get_phase(FleetJob *self)
{
	g_return_val_if_fail(FLEET_IS_JOB(self), FLEET_JOB_PHASE_FAILED);
	return self->phase;
}

gboolean
fleet_job_is_finished(FleetJob *self)
{
	return self->phase >= FLEET_JOB_PHASE_VERIFIED;
}

gboolean
fleet_job_is_active(FleetJob *self)
{
	return self->phase > FLEET_JOB_PHASE_QUEUED && !fleet_job_is_finished(self);
}

const gchar *
fleet_job_phase_to_string(FleetJobPhase phase)
{
	switch (phase) {
	case FLEET_JOB_PHASE_QUEUED:
		return _("Queued");
	case FLEET_JOB_PHASE_PREFLIGHT:
		return _("Checking");
	case FLEET_JOB_PHASE_WAITING_PASSWORD:
		return _("Waiting for password");
	case FLEET_JOB_PHASE_CONNECTING:
		return _("Connecting");
	case FLEET_JOB_PHASE_AUTHENTICATING:
		return _("Authenticating");
	case FLEET_JOB_PHASE_UPLOADING:
		return _("Uploading");
	case FLEET_JOB_PHASE_DEVICE_VERIFYING:
		return _("Device verifying");
	case FLEET_JOB_PHASE_REBOOTING:
		return _("Rebooting");
	case FLEET_JOB_PHASE_VERIFIED:
		return _("Verified");
	case FLEET_JOB_PHASE_UPLOADED:
		return _("Uploaded");
	case FLEET_JOB_PHASE_ROLLED_BACK:
		return _("Rolled back");
	case FLEET_JOB_PHASE_FAILED:
		return _("Failed");
	case FLEET_JOB_PHASE_SKIPPED:
		return _("Skipped");
	case FLEET_JOB_PHASE_CANCELLED:
	default:
		return _("Cancelled");
	}
}

const gchar *
fleet_job_phase_to_id(FleetJobPhase phase)
{
	static const gchar *const ids[] = {
	    "queued",	     "preflight", "waiting-password", "connecting",
	    "authenticating", "uploading", "device-verifying", "rebooting",
	    "verified",	     "uploaded",  "rolled-back",	     "failed",
	    "skipped",	     "cancelled",
	};
	if ((guint)phase >= G_N_ELEMENTS(ids))
		return "unknown";
	return ids[phase];
}

const gchar *
fleet_job_get_message(FleetJob *self)
{
	g_return_val_if_fail(FLEET_IS_JOB(self), NULL);
	return self->message;
}

gint
fleet_job_get_error_code(FleetJob *self)
{
	g_return_val_if_fail(FLEET_IS_JOB(self), -1);
	return self->error_code;
}

guint64
fleet_job_get_bytes_done(FleetJob *self)
{
	return self->bytes_done;
}

guint64
fleet_job_get_bytes_total(FleetJob *self)
{
	return self->bytes_total != 0 ? self->bytes_total : fleet_image_get_size(self->image);
}

gdouble
fleet_job_get_rate(FleetJob *self)
{
	return self->rate;
}

gint
fleet_job_get_eta(FleetJob *self)
{
	if (self->rate < 1.0 || self->bytes_total == 0)
		return -1;
	return (gint)((gdouble)(self->bytes_total - MIN(self->bytes_done, self->bytes_total)) / self->rate + 0.5);
}

guint
fleet_job_get_attempts(FleetJob *self)
{
	return self->attempts;
}

gint64
fleet_job_get_started(FleetJob *self)
{
	return self->started;
}

gdouble
fleet_job_get_transfer_seconds(FleetJob *self)
{
	g_return_val_if_fail(FLEET_IS_JOB(self), 0.0);
	if (self->transfer_started == 0 || self->transfer_finished <= self->transfer_started)
		return 0.0;
	return (gdouble)(self->transfer_finished - self->transfer_started) / G_USEC_PER_SEC;
}

gint64
fleet_job_get_finished(FleetJob *self)
{
	return self->finished;
}

const gchar *
fleet_job_get_old_version(FleetJob *self)
{
	return self->old_version;
}

const gchar *
fleet_job_get_new_version(FleetJob *self)
{
	return self->new_version;
}

FleetProtocol
fleet_job_get_protocol(FleetJob *self)
{
	return self->protocol != FLEET_PROTOCOL_NONE ? self->protocol : fleet_job_pick_protocol(self);
}

GPtrArray *
fleet_job_get_transcript(FleetJob *self)
{
	return self->transcript;
}

void
fleet_job_set_force(FleetJob *self, gboolean force)
{
	self->force = force;
}

gboolean
fleet_job_get_force(FleetJob *self)
{
	return self->force;
}

void
fleet_job_set_filesystem(FleetJob *self, gboolean filesystem)
{
	self->filesystem = filesystem;
}

gboolean
fleet_job_get_filesystem(FleetJob *self)
{
	return self->filesystem;
}

void
fleet_job_set_canary(FleetJob *self, gboolean canary)
{
	self->canary = canary;
}

gboolean
fleet_job_get_canary(FleetJob *self)
{
	return self->canary;
}

void
fleet_job_set_protocol(FleetJob *self, FleetProtocol protocol)
{
	self->protocol_forced = protocol;
}

static void
fleet_job_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	FleetJob *self = FLEET_JOB(object);
	switch (prop_id) {
	case PROP_PHASE:
		g_value_set_int(value, self->phase);
		break;
	case PROP_PROGRESS:
		g_value_set_double(value, self->bytes_total > 0 ? (gdouble)self->bytes_done /
								      (gdouble)self->bytes_total
								: 0.0);
		break;
	case PROP_MESSAGE:
		g_value_set_string(value, self->message);
		break;
	case PROP_NEEDS_PASSWORD:
		g_value_set_boolean(value, self->needs_password);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
		break;
	}
}

static void
fleet_job_dispose(GObject *object)
{
	FleetJob *self = FLEET_JOB(object);
	fleet_job_stop_watching(self);
	if (self->cancellable != NULL)
		g_cancellable_cancel(self->cancellable);
	G_OBJECT_CLASS(fleet_job_parent_class)->dispose(object);
}

static void
fleet_job_finalize(GObject *object)
{
	FleetJob *self = FLEET_JOB(object);
	fleet_job_wipe_password(self);
	g_clear_object(&self->cancellable);
	g_object_unref(self->device);
	g_object_unref(self->image);
	g_ptr_array_unref(self->transcript);
	g_free(self->message);
	g_free(self->old_version);
	g_free(self->old_sha256);
	g_free(self->new_version);
	g_free(self->running_state);
	g_free(self->device_result);
	G_OBJECT_CLASS(fleet_job_parent_class)->finalize(object);
}

static void
fleet_job_class_init(FleetJobClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;
	object_class->get_property = fleet_job_get_property;
	object_class->dispose = fleet_job_dispose;
	object_class->finalize = fleet_job_finalize;
	props[PROP_PHASE] = g_param_spec_int("phase", NULL, NULL, 0, FLEET_JOB_PHASE_CANCELLED, 0, ro);
	props[PROP_PROGRESS] = g_param_spec_double("progress", NULL, NULL, 0.0, 1.0, 0.0, ro);
	props[PROP_MESSAGE] = g_param_spec_string("message", NULL, NULL, NULL, ro);
	props[PROP_NEEDS_PASSWORD] = g_param_spec_boolean("needs-password", NULL, NULL, FALSE, ro);
	g_object_class_install_properties(object_class, N_PROPS, props);
}

static void
fleet_job_init(FleetJob *self)
{
	self->transcript = g_ptr_array_new_with_free_func(g_free);
	self->error_code = -1;
}

FleetJob *
fleet_job_new(FleetDevice *device, FleetImage *image)
{
	FleetJob *self;
	g_return_val_if_fail(FLEET_IS_DEVICE(device), NULL);
	g_return_val_if_fail(FLEET_IS_IMAGE(image), NULL);
	self = g_object_new(FLEET_TYPE_JOB, NULL);
	self->device = g_object_ref(device);
	self->image = g_object_ref(image);
	self->bytes_total = fleet_image_get_size(image);
	return self;
}
