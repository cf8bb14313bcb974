/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-application.c - the espfleet GtkApplication: owns the engine (discovery, credentials,
 * job queue), the chosen image and the actions every window, test and shortcut goes through
 *
 * Every user command is an action (app.update, app.cancel-all, app.add-device…), so menus,
 * buttons, keyboard shortcuts and the GUI tests (org.gtk.Actions over D-Bus) all take the
 * same path. What the tests read is exported as the states of read-only actions:
 * app.image-report, app.devices, app.batch, app.password-prompt, app.transcript,
 * app.discovery and, with ESPFLEET_LATENCY_PROBE=1, app.latency; all JSON strings.
 */

#include "config.h"

#include "fleet-application.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>

#include "fleet-add-device-dialog.h"
#include "fleet-batch-report.h"
#include "fleet-credentials.h"
#include "fleet-demo-fleet.h"
#include "fleet-device-probe.h"
#include "fleet-discovery.h"
#include "fleet-job-queue.h"
#include "fleet-latency-probe.h"
#include "fleet-log-source-jobs.h"
#include "fleet-password-dialog.h"
#include "fleet-preferences.h"
#include "fleet-transport-espota.h"
#include "fleet-transport-http.h"
#include "fleet-window.h"

/* how many entries the "recent-images" setting keeps (its schema description says so too) */
#define FLEET_RECENT_IMAGES_MAX 10
/* the exported states are refreshed at most this often */
#define FLEET_STATE_INTERVAL_MS 250
/* devices added by address are asked GET /info: soon after adding, then now and then */
#define FLEET_PROBE_TICK_MS 250
#define FLEET_PROBE_RETRY_US (1 * G_USEC_PER_SEC)
#define FLEET_PROBE_FAST_TRIES 30
#define FLEET_PROBE_INTERVAL_US (10 * G_USEC_PER_SEC)
#define FLEET_PROBE_TIMEOUT_S 2
/* a few at a time: a whole fleet due at once would make one busy tick */
#define FLEET_PROBE_PER_TICK 16
#define FLEET_LATENCY_INTERVAL_MS 10

typedef struct {
	gint64 next;   /* monotonic time of the next probe */
	guint tries;   /* probes since it was last online */
	gboolean busy; /* a probe is under way */
} FleetProbeState;

struct _FleetApplication {
	GtkApplication parent_instance;
	GSettings *settings;
	GCancellable *cancellable;	/* lookups and probes; cancelled at shutdown */
	GCancellable *load_cancellable; /* of the image being loaded, NULL when idle */
	FleetImage *image;		/* the chosen image, NULL until one was loaded */
	GFile *image_file;
	GtkFileChooserNative *chooser; /* while the file chooser is open */
	GtkFileChooserNative *export_chooser;

	/* the engine */
	FleetDeviceList *devices;
	FleetDiscovery *discovery;
	FleetCredentials *credentials;
	FleetJobQueue *queue;
	FleetLogHub *log_hub;
	FleetDeviceStore *store;

	/* a batch */
	gboolean held; /* g_application_hold() while a batch runs */
	gboolean ran_batch;
	guint batch_number; /* batches started so far */

	/* passwords */
	GQueue password_jobs; /* FleetJob waiting for the dialog */
	FleetPasswordDialog *password_dialog;
	FleetJob *password_job;
	gchar *batch_password; /* "use for all selected devices" of this batch */
	gboolean batch_password_remember;

	/* devices added by address */
	GHashTable *probes; /* FleetDevice* → FleetProbeState* */
	guint probe_id;

	FleetDemoFleet *demo;
	gboolean demo_requested; /* --demo */
	gchar *notice;		 /* shown by every window that opens */
	FleetLatencyProbe *latency;
	guint state_id;
	guint sigterm_id;
	guint sigint_id;
	FleetAddDeviceDialog *add_dialog;
	FleetPreferences *preferences;
};

G_DEFINE_TYPE(FleetApplication, fleet_application, GTK_TYPE_APPLICATION)

static void fleet_application_update_actions(FleetApplication *self);
static void fleet_application_queue_state(FleetApplication *self);

/* ---------------------------------------------------------------------------------------
 * helpers */

/* the string an image is remembered and reported by: its path, or its URI for remote files */
static gchar *
fleet_application_file_id(GFile *file)
{
	gchar *path = g_file_get_path(file);
	if (path != NULL)
		return path;
	return g_file_get_uri(file);
}

static FleetWindow *
fleet_application_get_window(FleetApplication *self)
{
	GList *windows = gtk_application_get_windows(GTK_APPLICATION(self));
	for (GList *l = windows; l != NULL; l = l->next) {
		if (FLEET_IS_WINDOW(l->data))
			return FLEET_WINDOW(l->data);
	}
	return NULL;
}

static void fleet_application_discovery_state_cb(FleetDiscovery *discovery,
						 GParamSpec *pspec,
						 gpointer user_data);

static FleetWindow *
fleet_application_ensure_window(FleetApplication *self)
{
	FleetWindow *window = fleet_application_get_window(self);
	if (window != NULL)
		return window;
	window = fleet_window_new(self);
	fleet_application_discovery_state_cb(self->discovery, NULL, self);
	if (self->image != NULL)
		fleet_window_show_image(window, self->image, self->image_file);
	if (self->notice != NULL)
		fleet_window_show_notice(window, self->notice);
	fleet_window_set_batch_running(window, fleet_job_queue_get_running(self->queue));
	return window;
}

static void
fleet_application_set_notice(FleetApplication *self, const gchar *notice)
{
	FleetWindow *window = fleet_application_get_window(self);
	g_free(self->notice);
	self->notice = g_strdup(notice);
	if (window != NULL)
		fleet_window_show_notice(window, notice);
}

static void
fleet_application_show_error(FleetApplication *self, const gchar *title, const gchar *message)
{
	FleetWindow *window = fleet_application_get_window(self);
	g_debug("%s: %s", title, message);
	if (window != NULL)
		fleet_window_show_error(window, title, message);
}

static void
fleet_application_set_state(FleetApplication *self, const gchar *name, const gchar *json)
{
	GAction *action = g_action_map_lookup_action(G_ACTION_MAP(self), name);
	g_autoptr(GVariant) old = g_action_get_state(action);
	/* a state change is a D-Bus signal: only for real changes */
	if (g_strcmp0(g_variant_get_string(old, NULL), json) != 0)
		g_simple_action_set_state(G_SIMPLE_ACTION(action), g_variant_new_string(json));
}

static gchar *
fleet_application_json(JsonBuilder *builder)
{
	g_autoptr(JsonGenerator) generator = json_generator_new();
	g_autoptr(JsonNode) root = json_builder_get_root(builder);
	json_generator_set_root(generator, root);
	return json_generator_to_data(generator, NULL);
}

static void
fleet_application_json_string(JsonBuilder *builder, const gchar *name, const gchar *value)
{
	json_builder_set_member_name(builder, name);
	if (value != NULL)
		json_builder_add_string_value(builder, value);
	else
		json_builder_add_null_value(builder);
}

/* ---------------------------------------------------------------------------------------
 * the chosen image */

static void
fleet_application_add_recent(FleetApplication *self, const gchar *id)
{
	g_auto(GStrv) old = g_settings_get_strv(self->settings, "recent-images");
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
	g_auto(GStrv) recent = NULL;
	guint n = 1;

	/* newest first, no duplicates */
	g_strv_builder_add(builder, id);
	for (guint i = 0; old[i] != NULL && n < FLEET_RECENT_IMAGES_MAX; i++) {
		if (g_strcmp0(old[i], id) == 0)
			continue;
		g_strv_builder_add(builder, old[i]);
		n++;
	}
	recent = g_strv_builder_end(builder);
	g_settings_set_strv(self->settings, "recent-images", (const gchar *const *)recent);
}

/* the state of app.image-report: a short JSON summary that tests read over D-Bus */
static gchar *
fleet_application_image_report_json(FleetImage *image, const gchar *id)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	GPtrArray *findings = fleet_image_get_findings(image);
	gint64 errors = 0;
	gint64 warnings = 0;

	for (guint i = 0; i < findings->len; i++) {
		FleetFinding *finding = g_ptr_array_index(findings, i);
		if (finding->severity == FLEET_SEVERITY_ERROR)
			errors++;
		else if (finding->severity == FLEET_SEVERITY_WARNING)
			warnings++;
	}

	json_builder_begin_object(builder);
	fleet_application_json_string(builder, "file", id);
	fleet_application_json_string(builder, "sha256", fleet_image_get_sha256(image));
	fleet_application_json_string(builder, "chip", fleet_image_get_chip(image));
	fleet_application_json_string(builder, "version", fleet_image_get_version(image));
	json_builder_set_member_name(builder, "usable");
	json_builder_add_boolean_value(builder, !fleet_image_has_errors(image));
	json_builder_set_member_name(builder, "errors");
	json_builder_add_int_value(builder, errors);
	json_builder_set_member_name(builder, "warnings");
	json_builder_add_int_value(builder, warnings);
	json_builder_end_object(builder);
	return fleet_application_json(builder);
}

static void
fleet_application_set_image(FleetApplication *self, FleetImage *image, GFile *file)
{
	g_autofree gchar *id = fleet_application_file_id(file);
	g_autofree gchar *json = fleet_application_image_report_json(image, id);
	FleetWindow *window = fleet_application_get_window(self);

	g_set_object(&self->image, image);
	g_set_object(&self->image_file, file);
	fleet_device_store_set_image(self->store, image);
	fleet_application_add_recent(self, id);
	if (window != NULL)
		fleet_window_show_image(window, image, file);
	fleet_application_update_actions(self);
	/* last, so that a test that sees the new state also sees the window showing it */
	fleet_application_set_state(self, "image-report", json);
}

/* what a load callback needs to know about the request */
typedef struct {
	FleetApplication *self;
	GFile *file;
} FleetLoadData;

static void
fleet_load_data_free(FleetLoadData *data)
{
	g_object_unref(data->self);
	g_object_unref(data->file);
	g_free(data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(FleetLoadData, fleet_load_data_free)

static void
fleet_application_load_ready_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(FleetLoadData) data = user_data;
	FleetApplication *self = data->self;
	GFile *file = data->file;
	g_autoptr(GError) error = NULL;
	g_autoptr(FleetImage) image = fleet_image_load_finish(result, &error);
	FleetWindow *window;

	/* a newer load replaced this one and owns the window's busy state */
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	g_clear_object(&self->load_cancellable);

	window = fleet_application_get_window(self);
	if (window != NULL)
		fleet_window_set_loading(window, FALSE);
	if (image == NULL) {
		g_autofree gchar *basename = g_file_get_basename(file);
		g_autofree gchar *name = g_filename_display_name(basename != NULL ? basename : "");
		/* TRANSLATORS: %s is the name of a firmware image file */
		g_autofree gchar *title = g_strdup_printf(_("Could not open “%s”"), name);
		fleet_application_show_error(self, title, error->message);
		return;
	}
	fleet_application_set_image(self, image, file);
}

void
fleet_application_open_file(FleetApplication *self, GFile *file)
{
	FleetWindow *window;
	FleetLoadData *data;

	g_return_if_fail(FLEET_IS_APPLICATION(self));
	g_return_if_fail(G_IS_FILE(file));

	window = fleet_application_ensure_window(self);
	gtk_window_present(GTK_WINDOW(window));

	/* only the newest request counts */
	if (self->load_cancellable != NULL)
		g_cancellable_cancel(self->load_cancellable);
	g_clear_object(&self->load_cancellable);
	self->load_cancellable = g_cancellable_new();

	data = g_new0(FleetLoadData, 1);
	data->self = g_object_ref(self);
	data->file = g_object_ref(file);
	fleet_window_set_loading(window, TRUE);
	fleet_image_load_async(file, self->load_cancellable, fleet_application_load_ready_cb, data);
}

/* ---------------------------------------------------------------------------------------
 * exported state (JSON) */

static const gchar *
fleet_application_verdict_id(FleetDeviceItem *item)
{
	if (!fleet_device_item_has_verdict(item))
		return NULL;
	switch (fleet_device_item_get_verdict(item)) {
	case FLEET_COMPAT_REFUSE:
		return "refuse";
	case FLEET_COMPAT_WARNING:
		return "warning";
	case FLEET_COMPAT_OK:
	default:
		return "ok";
	}
}

static const gchar *
fleet_application_password_id(FleetDeviceItem *item)
{
	switch (fleet_device_item_get_password_state(item)) {
	case FLEET_PASSWORD_STATE_REMEMBERED:
		return "remembered";
	case FLEET_PASSWORD_STATE_NONE:
		return "none";
	case FLEET_PASSWORD_STATE_UNKNOWN:
	default:
		return "unknown";
	}
}

static gchar *
fleet_application_devices_json(FleetApplication *self)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	GListModel *model = G_LIST_MODEL(self->store);
	guint n = g_list_model_get_n_items(model);
	FleetWindow *window = fleet_application_get_window(self);

	json_builder_begin_array(builder);
	for (guint i = 0; i < n; i++) {
		g_autoptr(FleetDeviceItem) item = g_list_model_get_item(model, i);
		FleetDevice *device = fleet_device_item_get_device(item);
		FleetJob *job = fleet_device_item_get_job(item);
		gdouble progress = 0.0;

		json_builder_begin_object(builder);
		fleet_application_json_string(builder, "id", fleet_device_get_id(device));
		fleet_application_json_string(builder, "name",
					      fleet_device_item_get_display_name(item));
		fleet_application_json_string(builder, "address", fleet_device_get_address(device));
		fleet_application_json_string(builder, "version",
					      fleet_device_get_fw_version(device));
		json_builder_set_member_name(builder, "online");
		json_builder_add_boolean_value(builder, fleet_device_get_online(device));
		json_builder_set_member_name(builder, "checked");
		json_builder_add_boolean_value(builder, fleet_device_item_get_checked(item));
		json_builder_set_member_name(builder, "shown");
		json_builder_add_boolean_value(builder, window != NULL &&
							    fleet_window_shows_item(window, item));
		fleet_application_json_string(builder, "verdict",
					      fleet_application_verdict_id(item));
		fleet_application_json_string(builder, "password",
					      fleet_application_password_id(item));
		fleet_application_json_string(
		    builder, "phase",
		    job != NULL ? fleet_job_phase_to_id(fleet_job_get_phase(job)) : NULL);
		if (job != NULL && fleet_job_get_bytes_total(job) > 0)
			progress = (gdouble)fleet_job_get_bytes_done(job) /
				   (gdouble)fleet_job_get_bytes_total(job);
		json_builder_set_member_name(builder, "progress");
		json_builder_add_double_value(builder, CLAMP(progress, 0.0, 1.0));
		fleet_application_json_string(builder, "result",
					      job != NULL && fleet_job_is_finished(job)
						  ? fleet_job_phase_to_id(fleet_job_get_phase(job))
						  : NULL);
		fleet_application_json_string(builder, "message",
					      job != NULL
						  ? fleet_job_get_message(job)
						  : fleet_device_item_get_verdict_message(item));
		json_builder_end_object(builder);
	}
	json_builder_end_array(builder);
	return fleet_application_json(builder);
}

static gchar *
fleet_application_batch_json(FleetApplication *self)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autofree gchar *summary = fleet_job_queue_get_summary(self->queue);
	GListModel *jobs = G_LIST_MODEL(self->queue);

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "running");
	json_builder_add_boolean_value(builder, fleet_job_queue_get_running(self->queue));
	json_builder_set_member_name(builder, "finished");
	json_builder_add_boolean_value(builder, self->ran_batch &&
						    !fleet_job_queue_get_running(self->queue));
	json_builder_set_member_name(builder, "number");
	json_builder_add_int_value(builder, self->batch_number);
	json_builder_set_member_name(builder, "total");
	json_builder_add_int_value(builder, g_list_model_get_n_items(jobs));
	json_builder_set_member_name(builder, "counts");
	json_builder_begin_object(builder);
	for (gint phase = FLEET_JOB_PHASE_QUEUED; phase <= FLEET_JOB_PHASE_CANCELLED; phase++) {
		guint n = fleet_job_queue_count(self->queue, (FleetJobPhase)phase);
		if (n == 0)
			continue;
		json_builder_set_member_name(builder, fleet_job_phase_to_id((FleetJobPhase)phase));
		json_builder_add_int_value(builder, n);
	}
	json_builder_end_object(builder);
	fleet_application_json_string(builder, "summary", summary);
	json_builder_end_object(builder);
	return fleet_application_json(builder);
}

static gchar *
fleet_application_transcript_json(FleetApplication *self)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	FleetWindow *window = fleet_application_get_window(self);
	g_autofree gchar *text = window != NULL ? fleet_window_get_transcript_text(window) : NULL;

	json_builder_begin_object(builder);
	fleet_application_json_string(
	    builder, "device", window != NULL ? fleet_window_get_selected_device(window) : NULL);
	fleet_application_json_string(builder, "text", text);
	json_builder_end_object(builder);
	return fleet_application_json(builder);
}

static const gchar *
fleet_application_discovery_id(FleetDiscoveryState state)
{
	switch (state) {
	case FLEET_DISCOVERY_STATE_RUNNING:
		return "running";
	case FLEET_DISCOVERY_STATE_UNAVAILABLE:
		return "unavailable";
	case FLEET_DISCOVERY_STATE_STARTING:
	default:
		return "starting";
	}
}

static gchar *
fleet_application_discovery_json(FleetApplication *self)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	json_builder_begin_object(builder);
	fleet_application_json_string(
	    builder, "state",
	    fleet_application_discovery_id(fleet_discovery_get_state(self->discovery)));
	fleet_application_json_string(builder, "message",
				      fleet_discovery_get_error_message(self->discovery));
	json_builder_end_object(builder);
	return fleet_application_json(builder);
}

static gchar *
fleet_application_latency_json(FleetApplication *self)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "samples");
	json_builder_add_int_value(builder, fleet_latency_probe_get_samples(self->latency));
	json_builder_set_member_name(builder, "max_ms");
	json_builder_add_double_value(builder, fleet_latency_probe_get_max_ms(self->latency));
	json_builder_set_member_name(builder, "max_at_s");
	json_builder_add_double_value(builder, fleet_latency_probe_get_max_at(self->latency));
	json_builder_set_member_name(builder, "p99_ms");
	json_builder_add_double_value(builder,
				      fleet_latency_probe_get_percentile_ms(self->latency, 99.0));
	json_builder_set_member_name(builder, "busy_max_ms");
	json_builder_add_double_value(
	    builder, fleet_latency_probe_get_busy_percentile_ms(self->latency, 100.0));
	json_builder_set_member_name(builder, "busy_p99_ms");
	json_builder_add_double_value(
	    builder, fleet_latency_probe_get_busy_percentile_ms(self->latency, 99.0));
	json_builder_end_object(builder);
	return fleet_application_json(builder);
}

static void
fleet_application_update_batch_bar(FleetApplication *self)
{
	FleetWindow *window = fleet_application_get_window(self);
	GListModel *jobs = G_LIST_MODEL(self->queue);
	guint n = g_list_model_get_n_items(jobs);
	guint done = 0;
	guint active = 0;
	gdouble sum = 0.0;
	g_autofree gchar *text = NULL;

	if (window == NULL)
		return;
	if (!fleet_job_queue_get_running(self->queue) || n == 0) {
		fleet_batch_bar_set_progress(fleet_window_get_batch_bar(window), NULL, -1.0);
		return;
	}
	for (guint i = 0; i < n; i++) {
		g_autoptr(FleetJob) job = g_list_model_get_item(jobs, i);
		if (fleet_job_is_finished(job)) {
			done++;
			sum += 1.0;
		} else if (fleet_job_is_active(job)) {
			guint64 total = fleet_job_get_bytes_total(job);
			active++;
			/* the upload is most of a job; rebooting and verifying the rest */
			if (fleet_job_get_phase(job) == FLEET_JOB_PHASE_REBOOTING)
				sum += 0.9;
			else if (total > 0)
				sum +=
				    0.85 * (gdouble)fleet_job_get_bytes_done(job) / (gdouble)total;
		}
	}
	/* TRANSLATORS: progress of a batch: "12 of 40 done, 8 running" */
	text = g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%u of %u done, %u running",
					   "%u of %u done, %u running", n),
			       done, n, active);
	fleet_batch_bar_set_progress(fleet_window_get_batch_bar(window), text, sum / (gdouble)n);
}

static gboolean
fleet_application_state_cb(gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	g_autofree gchar *devices = fleet_application_devices_json(self);
	g_autofree gchar *batch = fleet_application_batch_json(self);
	g_autofree gchar *transcript = fleet_application_transcript_json(self);
	g_autofree gchar *discovery = fleet_application_discovery_json(self);

	self->state_id = 0;
	fleet_application_set_state(self, "discovery", discovery);
	fleet_application_set_state(self, "devices", devices);
	fleet_application_set_state(self, "batch", batch);
	fleet_application_set_state(self, "transcript", transcript);
	if (self->latency != NULL) {
		g_autofree gchar *latency = fleet_application_latency_json(self);
		fleet_application_set_state(self, "latency", latency);
	}
	return G_SOURCE_REMOVE;
}

static void
fleet_application_queue_state(FleetApplication *self)
{
	if (self->state_id == 0)
		self->state_id =
		    g_timeout_add(FLEET_STATE_INTERVAL_MS, fleet_application_state_cb, self);
}

static void
fleet_application_store_changed_cb(FleetDeviceStore *store, gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	fleet_application_update_actions(self);
	fleet_application_update_batch_bar(self);
	fleet_application_queue_state(self);
}

/* ---------------------------------------------------------------------------------------
 * remembered passwords */

typedef struct {
	FleetApplication *self;
	FleetDeviceItem *item;
} FleetItemOp;

static FleetItemOp *
fleet_item_op_new(FleetApplication *self, FleetDeviceItem *item)
{
	FleetItemOp *op = g_new0(FleetItemOp, 1);
	op->self = g_object_ref(self);
	op->item = g_object_ref(item);
	return op;
}

static void
fleet_item_op_free(FleetItemOp *op)
{
	g_object_unref(op->self);
	g_object_unref(op->item);
	g_free(op);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(FleetItemOp, fleet_item_op_free)

static FleetProtocol
fleet_application_password_protocol(FleetDevice *device)
{
	/* the engine picks espota first when a device offers both */
	return (fleet_device_get_protocols(device) & FLEET_PROTOCOL_ESPOTA) != 0 ||
		       fleet_device_get_protocols(device) == FLEET_PROTOCOL_NONE
		   ? FLEET_PROTOCOL_ESPOTA
		   : FLEET_PROTOCOL_HTTP;
}

static void
fleet_application_lookup_password_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(FleetItemOp) op = user_data;
	g_autoptr(GError) error = NULL;
	/* only whether there is one matters here: the secret is wiped at once */
	g_autoptr(FleetPassword) password =
	    fleet_credentials_lookup_finish(FLEET_CREDENTIALS(source), result, &error);

	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	fleet_device_item_set_password_state(op->item, password != NULL
							   ? FLEET_PASSWORD_STATE_REMEMBERED
							   : FLEET_PASSWORD_STATE_NONE);
}

static void
fleet_application_lookup_password(FleetApplication *self, FleetDeviceItem *item)
{
	FleetDevice *device = fleet_device_item_get_device(item);
	fleet_credentials_lookup_async(self->credentials, fleet_device_get_id(device),
				       fleet_application_password_protocol(device),
				       self->cancellable, fleet_application_lookup_password_cb,
				       fleet_item_op_new(self, item));
}

static void
fleet_application_needs_password_cb(FleetDevice *device, GParamSpec *pspec, gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	FleetDeviceItem *item = fleet_device_store_lookup_device(self->store, device);
	if (item != NULL && fleet_device_get_needs_password(device))
		fleet_application_lookup_password(self, item);
}

typedef struct {
	FleetItemOp *op;
	guint pending;
} FleetForgetData;

static void
fleet_application_forget_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	FleetForgetData *data = user_data;
	g_autoptr(GError) error = NULL;

	if (!fleet_credentials_clear_finish(FLEET_CREDENTIALS(source), result, &error) &&
	    !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		fleet_application_show_error(data->op->self, _("Could not forget the password"),
					     error->message);
	if (--data->pending > 0)
		return;
	/* a fleet-wide default may still apply: ask again rather than assume */
	fleet_application_lookup_password(data->op->self, data->op->item);
	fleet_item_op_free(data->op);
	g_free(data);
}

/* ---------------------------------------------------------------------------------------
 * devices added by address */

static gboolean fleet_application_probe_tick_cb(gpointer user_data);

static void
fleet_application_probe_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(FleetItemOp) op = user_data;
	FleetApplication *self = op->self;
	FleetDevice *device = fleet_device_item_get_device(op->item);
	g_autoptr(GError) error = NULL;
	gboolean ok = fleet_device_probe_finish(result, &error);
	FleetProbeState *state;

	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || self->probes == NULL)
		return;
	state = g_hash_table_lookup(self->probes, device);
	if (state == NULL)
		return;
	state->busy = FALSE;
	if (ok) {
		state->tries = 0;
		state->next = g_get_monotonic_time() + FLEET_PROBE_INTERVAL_US;
		return;
	}
	g_debug("probe of %s: %s", fleet_device_get_id(device), error->message);
	state->tries++;
	/* a device that was just added (or just started) gets a few quick chances */
	state->next = g_get_monotonic_time() + (state->tries < FLEET_PROBE_FAST_TRIES
						    ? FLEET_PROBE_RETRY_US
						    : FLEET_PROBE_INTERVAL_US);
}

static void
fleet_application_probe(FleetApplication *self, FleetDeviceItem *item, FleetProbeState *state)
{
	FleetDevice *device = fleet_device_item_get_device(item);
	state->busy = TRUE;
	fleet_device_probe_async(device, FLEET_PROBE_TIMEOUT_S, self->cancellable,
				 fleet_application_probe_done_cb, fleet_item_op_new(self, item));
}

static gboolean
fleet_application_probe_tick_cb(gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	gint64 now = g_get_monotonic_time();
	guint started = 0;
	GHashTableIter iter;
	gpointer key;
	gpointer value;

	g_hash_table_iter_init(&iter, self->probes);
	while (g_hash_table_iter_next(&iter, &key, &value) && started < FLEET_PROBE_PER_TICK) {
		FleetProbeState *state = value;
		FleetDeviceItem *item = fleet_device_store_lookup_device(self->store, key);
		/* a running job asks the device itself */
		if (item == NULL || state->busy || now < state->next ||
		    fleet_device_item_is_busy(item))
			continue;
		fleet_application_probe(self, item, state);
		started++;
	}
	return G_SOURCE_CONTINUE;
}

static void
fleet_application_probe_all_now(FleetApplication *self)
{
	GHashTableIter iter;
	gpointer value;
	g_hash_table_iter_init(&iter, self->probes);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		FleetProbeState *state = value;
		state->next = 0;
		state->tries = 0;
	}
	fleet_application_probe_tick_cb(self);
}

static void
fleet_application_devices_changed_cb(
    GListModel *devices, guint position, guint removed, guint added, gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);

	if (removed > 0) {
		/* forget the probes of devices that are gone */
		GHashTableIter iter;
		gpointer key;
		g_hash_table_iter_init(&iter, self->probes);
		while (g_hash_table_iter_next(&iter, &key, NULL)) {
			if (fleet_device_store_lookup_device(self->store, key) == NULL)
				g_hash_table_iter_remove(&iter);
		}
	}
	for (guint i = position; i < position + added; i++) {
		g_autoptr(FleetDevice) device = g_list_model_get_item(devices, i);
		FleetDeviceItem *item = fleet_device_store_lookup_device(self->store, device);
		if (item == NULL)
			continue;
		g_signal_connect_object(device, "notify::needs-password",
					G_CALLBACK(fleet_application_needs_password_cb), self, 0);
		if (fleet_device_get_needs_password(device))
			fleet_application_lookup_password(self, item);
		if (fleet_device_get_source(device) == FLEET_DEVICE_SOURCE_MANUAL &&
		    !g_hash_table_contains(self->probes, device)) {
			FleetProbeState *state = g_new0(FleetProbeState, 1);
			g_hash_table_insert(self->probes, device, state);
		}
	}
	/* new manual devices are asked at once, not at the next tick */
	if (added > 0)
		fleet_application_probe_tick_cb(self);
}

/* ---------------------------------------------------------------------------------------
 * batches */

static void
fleet_application_apply_settings(FleetApplication *self)
{
	guint transfer = (guint)g_settings_get_int(self->settings, "transfer-timeout");
	fleet_job_queue_set_concurrency(
	    self->queue, (guint)g_settings_get_int(self->settings, "max-parallel-jobs"));
	fleet_job_queue_set_timeouts(
	    self->queue, (guint)g_settings_get_int(self->settings, "invitation-timeout"), transfer,
	    transfer, (guint)g_settings_get_int(self->settings, "verify-timeout"));
}

static void
fleet_application_settings_changed_cb(GSettings *settings, const gchar *key, gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	/* more or fewer parallel uploads apply to a running batch too */
	if (g_strcmp0(key, "max-parallel-jobs") == 0)
		fleet_job_queue_set_concurrency(self->queue,
						(guint)g_settings_get_int(settings, key));
}

static gboolean
fleet_application_image_usable(FleetApplication *self)
{
	return self->image != NULL && !fleet_image_has_errors(self->image);
}

static void
fleet_application_wipe_batch_password(FleetApplication *self)
{
	if (self->batch_password == NULL)
		return;
	memset(self->batch_password, 0, strlen(self->batch_password));
	g_clear_pointer(&self->batch_password, g_free);
}

/* sends the image to @items (FleetDeviceItem); adds to the running batch if there is one */
static guint
fleet_application_start_batch(FleetApplication *self, GPtrArray *items)
{
	FleetWindow *window = fleet_application_get_window(self);
	guint added = 0;

	if (!fleet_application_image_usable(self))
		return 0;
	if (!fleet_job_queue_get_running(self->queue)) {
		/* a new batch: its own options, counts and "use for all" password */
		fleet_job_queue_clear_finished(self->queue);
		fleet_application_apply_settings(self);
		if (window != NULL) {
			FleetBatchBar *bar = fleet_window_get_batch_bar(window);
			fleet_job_queue_set_canary_count(self->queue,
							 fleet_batch_bar_get_canary(bar));
			fleet_job_queue_set_max_failures(self->queue,
							 fleet_batch_bar_get_max_failures(bar));
		} else {
			fleet_job_queue_set_canary_count(
			    self->queue, (guint)g_settings_get_int(self->settings, "canary-count"));
			fleet_job_queue_set_max_failures(
			    self->queue,
			    (guint)g_settings_get_int(self->settings, "stop-after-failures"));
		}
		fleet_application_wipe_batch_password(self);
		self->batch_number++;
	}
	for (guint i = 0; i < items->len; i++) {
		FleetDeviceItem *item = g_ptr_array_index(items, i);
		FleetJob *job;
		if (fleet_device_item_is_busy(item) ||
		    !fleet_device_store_can_check(self->store, item))
			continue;
		job = fleet_job_queue_add(self->queue, fleet_device_item_get_device(item),
					  self->image);
		if (fleet_device_item_has_verdict(item) &&
		    fleet_device_item_get_verdict(item) == FLEET_COMPAT_REFUSE)
			fleet_job_set_force(job, TRUE);
		fleet_device_item_set_job(item, job);
		added++;
	}
	if (added > 0) {
		self->ran_batch = TRUE;
		fleet_job_queue_start(self->queue);
	}
	fleet_application_queue_state(self);
	return added;
}

static void
fleet_application_batch_started(FleetApplication *self)
{
	FleetWindow *window = fleet_application_get_window(self);

	/* the batch goes on when the window closes: the app stays until it ends */
	if (!self->held) {
		g_application_hold(G_APPLICATION(self));
		self->held = TRUE;
	}
	fleet_device_store_set_frozen(self->store, TRUE);
	if (window != NULL)
		fleet_window_set_batch_running(window, TRUE);
}

static void
fleet_application_batch_ended(FleetApplication *self)
{
	FleetWindow *window = fleet_application_get_window(self);
	g_autofree gchar *summary = fleet_job_queue_get_summary(self->queue);
	guint counts[FLEET_JOB_PHASE_CANCELLED + 1] = {0};
	GListModel *model = G_LIST_MODEL(self->store);
	guint n = g_list_model_get_n_items(model);

	for (gint phase = 0; phase <= FLEET_JOB_PHASE_CANCELLED; phase++)
		counts[phase] = fleet_job_queue_count(self->queue, (FleetJobPhase)phase);
	fleet_application_wipe_batch_password(self);
	fleet_device_store_set_frozen(self->store, FALSE);

	/* passwords given during the batch may now be in the keyring */
	for (guint i = 0; i < n; i++) {
		g_autoptr(FleetDeviceItem) item = g_list_model_get_item(model, i);
		if (fleet_device_item_get_job(item) != NULL &&
		    fleet_device_get_needs_password(fleet_device_item_get_device(item)))
			fleet_application_lookup_password(self, item);
	}

	if (window != NULL) {
		fleet_window_set_batch_running(window, FALSE);
		fleet_window_show_summary(window, counts, G_N_ELEMENTS(counts));
	}
	if (window == NULL || !gtk_window_is_active(GTK_WINDOW(window))) {
		g_autoptr(GNotification) notification =
		    g_notification_new(_("Firmware updates finished"));
		g_notification_set_body(notification, summary);
		g_notification_set_default_action(notification, "app.activate-window");
		g_application_send_notification(G_APPLICATION(self), "batch-finished",
						notification);
	}
	fleet_application_update_actions(self);
	fleet_application_update_batch_bar(self);
	fleet_application_queue_state(self);
	if (self->held) {
		self->held = FALSE;
		g_application_release(G_APPLICATION(self));
	}
}

static void
fleet_application_queue_running_cb(FleetJobQueue *queue, GParamSpec *pspec, gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	if (fleet_job_queue_get_running(queue))
		fleet_application_batch_started(self);
	else
		fleet_application_batch_ended(self);
	fleet_application_update_actions(self);
}

/* ---------------------------------------------------------------------------------------
 * password prompts: one dialog at a time, never a nested main loop */

static void fleet_application_next_password(FleetApplication *self);

static gchar *
fleet_application_password_prompt_json(FleetApplication *self)
{
	g_autoptr(JsonBuilder) builder = NULL;
	FleetDevice *device;

	if (self->password_job == NULL)
		return g_strdup("");
	device = fleet_job_get_device(self->password_job);
	builder = json_builder_new();
	json_builder_begin_object(builder);
	fleet_application_json_string(builder, "device", fleet_device_get_id(device));
	fleet_application_json_string(builder, "name", fleet_device_get_name(device));
	json_builder_set_member_name(builder, "rejected");
	json_builder_add_boolean_value(builder,
				       fleet_job_get_password_rejected(self->password_job));
	json_builder_end_object(builder);
	return fleet_application_json(builder);
}

static void
fleet_application_update_password_prompt(FleetApplication *self)
{
	g_autofree gchar *json = fleet_application_password_prompt_json(self);
	fleet_application_set_state(self, "password-prompt", json);
}

static void
fleet_application_close_password_dialog(FleetApplication *self)
{
	if (self->password_job != NULL)
		g_signal_handlers_disconnect_by_data(self->password_job, self);
	g_clear_object(&self->password_job);
	if (self->password_dialog != NULL) {
		fleet_password_dialog_clear(self->password_dialog);
		gtk_widget_destroy(GTK_WIDGET(self->password_dialog));
		self->password_dialog = NULL;
	}
	fleet_application_update_password_prompt(self);
}

static void
fleet_application_password_response_cb(GtkDialog *dialog, gint response, gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	FleetPasswordDialog *password_dialog = FLEET_PASSWORD_DIALOG(dialog);
	g_autoptr(FleetJob) job = g_object_ref(self->password_job);
	g_autoptr(FleetPassword) password = NULL;
	gboolean remember = fleet_password_dialog_get_remember(password_dialog);
	gboolean use_for_all = fleet_password_dialog_get_use_for_all(password_dialog);

	if (response == GTK_RESPONSE_OK)
		password = g_strdup(fleet_password_dialog_get_password(password_dialog));
	/* a password a device echoes into its log never shows there */
	if (password != NULL && password[0] != '\0')
		fleet_log_hub_add_secret(self->log_hub, password);
	/* the answer may start the upload at once, which changes the job's phase */
	fleet_application_close_password_dialog(self);

	if (password == NULL || password[0] == '\0') {
		/* skipped: this device fails with "needs a password", the batch goes on */
		fleet_job_set_password(job, NULL, FALSE);
	} else {
		if (use_for_all) {
			fleet_application_wipe_batch_password(self);
			self->batch_password = g_strdup(password);
			self->batch_password_remember = remember;
			/* devices already waiting get it too, unless it was refused there */
			for (GList *l = self->password_jobs.head; l != NULL;) {
				FleetJob *waiting = l->data;
				GList *next = l->next;
				if (!fleet_job_get_password_rejected(waiting)) {
					g_queue_delete_link(&self->password_jobs, l);
					fleet_job_set_password(waiting, password, remember);
					g_object_unref(waiting);
				}
				l = next;
			}
		}
		fleet_job_set_password(job, password, remember);
	}
	fleet_application_next_password(self);
}

static void
fleet_application_password_job_phase_cb(FleetJob *job, GParamSpec *pspec, gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	/* cancelled (or answered elsewhere) while the dialog was open */
	if (fleet_job_get_phase(job) != FLEET_JOB_PHASE_WAITING_PASSWORD) {
		fleet_application_close_password_dialog(self);
		fleet_application_next_password(self);
	}
}

static void
fleet_application_next_password(FleetApplication *self)
{
	FleetWindow *window;
	FleetJob *job = NULL;
	FleetDevice *device;
	gboolean offer_all = FALSE;
	GListModel *jobs = G_LIST_MODEL(self->queue);
	guint n = g_list_model_get_n_items(jobs);

	if (self->password_dialog != NULL)
		return;
	while ((job = g_queue_pop_head(&self->password_jobs)) != NULL) {
		if (fleet_job_get_phase(job) == FLEET_JOB_PHASE_WAITING_PASSWORD)
			break;
		g_object_unref(job);
	}
	if (job == NULL)
		return;
	window = fleet_application_get_window(self);
	if (window == NULL) {
		/* nobody to ask: the device fails with "needs a password" */
		fleet_job_set_password(job, NULL, FALSE);
		g_object_unref(job);
		fleet_application_next_password(self);
		return;
	}

	/* "use for all" only helps when another device of the batch is still to come */
	for (guint i = 0; i < n && !offer_all; i++) {
		g_autoptr(FleetJob) other = g_list_model_get_item(jobs, i);
		if (other != job && !fleet_job_is_finished(other))
			offer_all = TRUE;
	}
	device = fleet_job_get_device(job);
	self->password_job = job;
	self->password_dialog = fleet_password_dialog_new(GTK_WINDOW(window),
							  fleet_device_get_name(device) != NULL
							      ? fleet_device_get_name(device)
							      : fleet_device_get_id(device),
							  fleet_job_get_password_rejected(job));
	fleet_password_dialog_set_remember(
	    self->password_dialog, g_settings_get_boolean(self->settings, "remember-passwords"),
	    fleet_credentials_get_persistent(self->credentials),
	    fleet_credentials_get_reason(self->credentials));
	fleet_password_dialog_set_offer_all(self->password_dialog, offer_all);
	g_signal_connect_object(self->password_dialog, "response",
				G_CALLBACK(fleet_application_password_response_cb), self, 0);
	g_signal_connect_object(job, "notify::phase",
				G_CALLBACK(fleet_application_password_job_phase_cb), self, 0);
	gtk_window_present(GTK_WINDOW(self->password_dialog));
	fleet_application_update_password_prompt(self);
}

/* a job that needs a password: the batch's "use for all" one, else a person */
static void
fleet_application_ask_password(FleetApplication *self, FleetJob *job)
{
	/* "use for all selected devices" answers without asking; a refusal asks again for
	 * that device only */
	if (self->batch_password != NULL && !fleet_job_get_password_rejected(job)) {
		fleet_job_set_password(job, self->batch_password, self->batch_password_remember);
		return;
	}
	g_queue_push_tail(&self->password_jobs, g_object_ref(job));
	fleet_application_next_password(self);
}

typedef struct {
	FleetApplication *self;
	FleetJob *job;
} FleetJobOp;

static void
fleet_job_op_free(FleetJobOp *op)
{
	g_object_unref(op->self);
	g_object_unref(op->job);
	g_free(op);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(FleetJobOp, fleet_job_op_free)

static void
fleet_application_job_keyring_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(FleetJobOp) op = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(FleetPassword) password =
	    fleet_credentials_lookup_finish(FLEET_CREDENTIALS(source), result, &error);

	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
	    fleet_job_get_phase(op->job) != FLEET_JOB_PHASE_WAITING_PASSWORD)
		return;
	if (password != NULL) {
		/* already in the keyring: nothing to remember again */
		fleet_job_set_password(op->job, password, FALSE);
		return;
	}
	fleet_application_ask_password(op->self, op->job);
}

static void
fleet_application_password_needed_cb(FleetJobQueue *queue, FleetJob *job, gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	FleetDevice *device = fleet_job_get_device(job);
	FleetJobOp *op;

	/* a device added by address says only now that it wants a password: the engine looks
	 * in the keyring first for devices that announce it, so do the same for this one and
	 * remember that it asks, for the next batch and the lock in its row */
	if (fleet_device_get_needs_password(device) || fleet_job_get_password_rejected(job)) {
		fleet_application_ask_password(self, job);
		return;
	}
	fleet_device_set_needs_password(device, TRUE);
	op = g_new0(FleetJobOp, 1);
	op->self = g_object_ref(self);
	op->job = g_object_ref(job);
	fleet_credentials_lookup_async(self->credentials, fleet_device_get_id(device),
				       fleet_job_get_protocol(job), self->cancellable,
				       fleet_application_job_keyring_cb, op);
}

/* ---------------------------------------------------------------------------------------
 * discovery */

static void
fleet_application_discovery_state_cb(FleetDiscovery *discovery,
				     GParamSpec *pspec,
				     gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	FleetWindow *window = fleet_application_get_window(self);
	if (window != NULL)
		fleet_window_set_discovery_state(window, fleet_discovery_get_state(discovery),
						 fleet_discovery_get_error_message(discovery));
	fleet_application_queue_state(self);
}

/* ---------------------------------------------------------------------------------------
 * actions */

static void
fleet_application_set_enabled(FleetApplication *self, const gchar *name, gboolean enabled)
{
	GAction *action = g_action_map_lookup_action(G_ACTION_MAP(self), name);
	if (action != NULL && g_action_get_enabled(action) != enabled)
		g_simple_action_set_enabled(G_SIMPLE_ACTION(action), enabled);
}

static void
fleet_application_update_actions(FleetApplication *self)
{
	gboolean running = fleet_job_queue_get_running(self->queue);
	guint retryable = fleet_job_queue_count(self->queue, FLEET_JOB_PHASE_FAILED) +
			  fleet_job_queue_count(self->queue, FLEET_JOB_PHASE_ROLLED_BACK) +
			  fleet_job_queue_count(self->queue, FLEET_JOB_PHASE_CANCELLED);
	FleetWindow *window = fleet_application_get_window(self);

	fleet_application_set_enabled(self, "update",
				      fleet_application_image_usable(self) &&
					  fleet_device_store_count_checked(self->store) > 0);
	fleet_application_set_enabled(self, "cancel-all", running);
	fleet_application_set_enabled(self, "retry-failed", retryable > 0);
	if (window != NULL)
		fleet_batch_bar_set_can_retry(fleet_window_get_batch_bar(window), retryable > 0);
}

static void
fleet_application_open_image_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	const gchar *arg = g_variant_get_string(parameter, NULL);
	g_autoptr(GFile) file = NULL;

	if (arg[0] == '\0')
		return;
	/* a URI (drag and drop, other apps) or a path (the recent list, tests) */
	file = g_file_new_for_commandline_arg(arg);
	fleet_application_open_file(self, file);
}

static void
fleet_application_chooser_response_cb(GtkNativeDialog *dialog, gint response, gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);

	if (response == GTK_RESPONSE_ACCEPT) {
		g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
		g_autoptr(GFile) folder = file != NULL ? g_file_get_parent(file) : NULL;
		if (folder != NULL && g_file_peek_path(folder) != NULL)
			g_settings_set_string(self->settings, "last-folder",
					      g_file_peek_path(folder));
		if (file != NULL)
			fleet_application_open_file(self, file);
	}
	g_clear_object(&self->chooser);
}

static void
fleet_application_open_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	FleetWindow *window = fleet_application_ensure_window(self);
	g_autofree gchar *last_folder = g_settings_get_string(self->settings, "last-folder");
	GtkFileFilter *filter;

	if (self->chooser != NULL) {
		gtk_native_dialog_show(GTK_NATIVE_DIALOG(self->chooser));
		return;
	}
	self->chooser =
	    gtk_file_chooser_native_new(_("Open Firmware Image"), GTK_WINDOW(window),
					GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
	gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(self->chooser), TRUE);

	filter = gtk_file_filter_new();
	/* TRANSLATORS: file chooser filter for .bin, .bin.gz and .bin.signed files */
	gtk_file_filter_set_name(filter, _("Firmware images"));
	gtk_file_filter_add_pattern(filter, "*.bin");
	gtk_file_filter_add_pattern(filter, "*.BIN");
	gtk_file_filter_add_pattern(filter, "*.bin.gz");
	gtk_file_filter_add_pattern(filter, "*.bin.signed");
	gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(self->chooser), filter);
	filter = gtk_file_filter_new();
	gtk_file_filter_set_name(filter, _("All files"));
	gtk_file_filter_add_pattern(filter, "*");
	gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(self->chooser), filter);

	if (last_folder[0] != '\0' && g_file_test(last_folder, G_FILE_TEST_IS_DIR)) {
		g_autoptr(GFile) folder = g_file_new_for_path(last_folder);
		gtk_file_chooser_set_current_folder_file(GTK_FILE_CHOOSER(self->chooser), folder,
							 NULL);
	}
	g_signal_connect(self->chooser, "response",
			 G_CALLBACK(fleet_application_chooser_response_cb), self);
	gtk_native_dialog_show(GTK_NATIVE_DIALOG(self->chooser));
}

static void
fleet_application_update_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	g_autoptr(GPtrArray) items = fleet_device_store_get_checked(self->store);
	fleet_application_start_batch(self, items);
}

static void
fleet_application_update_device_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	FleetDeviceItem *item =
	    fleet_device_store_lookup(self->store, g_variant_get_string(parameter, NULL));
	g_autoptr(GPtrArray) items = g_ptr_array_new();
	if (item == NULL)
		return;
	g_ptr_array_add(items, item);
	fleet_application_start_batch(self, items);
}

static void
fleet_application_cancel_all_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	fleet_job_queue_cancel_all(self->queue);
}

static void
fleet_application_cancel_device_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	FleetDeviceItem *item =
	    fleet_device_store_lookup(self->store, g_variant_get_string(parameter, NULL));
	if (item != NULL && fleet_device_item_is_busy(item))
		fleet_job_cancel(fleet_device_item_get_job(item));
}

static void
fleet_application_retry_failed_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	if (!fleet_job_queue_get_running(self->queue)) {
		fleet_application_apply_settings(self);
		self->batch_number++;
	}
	fleet_job_queue_retry_failed(self->queue);
	fleet_application_queue_state(self);
}

static void
fleet_application_force_confirm_cb(GtkDialog *dialog, gint response, gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	gtk_widget_destroy(GTK_WIDGET(dialog));
	if (response != GTK_RESPONSE_ACCEPT)
		return;
	fleet_device_store_set_force(self->store, TRUE);
	g_simple_action_set_state(
	    G_SIMPLE_ACTION(g_action_map_lookup_action(G_ACTION_MAP(self), "force")),
	    g_variant_new_boolean(TRUE));
}

static void
fleet_application_force_change_cb(GSimpleAction *action, GVariant *value, gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	FleetWindow *window = fleet_application_get_window(self);
	GtkWidget *dialog;

	if (!g_variant_get_boolean(value)) {
		fleet_device_store_set_force(self->store, FALSE);
		g_simple_action_set_state(action, value);
		return;
	}
	dialog = gtk_message_dialog_new(window != NULL ? GTK_WINDOW(window) : NULL,
					GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
					GTK_MESSAGE_WARNING, GTK_BUTTONS_NONE, "%s",
					_("Send the image to incompatible devices?"));
	gtk_message_dialog_format_secondary_text(
	    GTK_MESSAGE_DIALOG(dialog), "%s",
	    _("Pre-flight found that the image does not fit some devices: another chip, too "
	      "little space or a missing signature. A device that accepts an image that is not "
	      "meant for it may stop working until it is flashed over its serial port. Force "
	      "only when you know the check is wrong."));
	gtk_dialog_add_buttons(GTK_DIALOG(dialog), _("_Cancel"), GTK_RESPONSE_CANCEL,
			       _("_Force for This Batch"), GTK_RESPONSE_ACCEPT, NULL);
	gtk_style_context_add_class(gtk_widget_get_style_context(gtk_dialog_get_widget_for_response(
					GTK_DIALOG(dialog), GTK_RESPONSE_ACCEPT)),
				    "destructive-action");
	gtk_dialog_set_default_response(GTK_DIALOG(dialog), GTK_RESPONSE_CANCEL);
	/* not shown on the dialog itself; window lists and tests find it by it */
	gtk_window_set_title(GTK_WINDOW(dialog), _("Send the image to incompatible devices?"));
	g_signal_connect_object(dialog, "response", G_CALLBACK(fleet_application_force_confirm_cb),
				self, 0);
	gtk_widget_show(dialog);
}

static void
fleet_application_select_devices_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	g_autofree const gchar **ids = g_variant_get_strv(parameter, NULL);
	GListModel *model = G_LIST_MODEL(self->store);
	guint n = g_list_model_get_n_items(model);

	/* exactly these are ticked afterwards (tests and scripts) */
	for (guint i = 0; i < n; i++) {
		g_autoptr(FleetDeviceItem) item = g_list_model_get_item(model, i);
		const gchar *id = fleet_device_get_id(fleet_device_item_get_device(item));
		gboolean wanted = g_strv_contains(ids, id);
		fleet_device_item_set_checked(
		    item, wanted && fleet_device_store_can_check(self->store, item));
	}
}

static void
fleet_application_show_device_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	FleetWindow *window = fleet_application_get_window(self);
	if (window != NULL)
		fleet_window_select_device(window, g_variant_get_string(parameter, NULL));
	fleet_application_queue_state(self);
}

static void
fleet_application_answer_password_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	const gchar *password = NULL;
	gboolean remember = FALSE;
	gboolean use_for_all = FALSE;

	if (self->password_dialog == NULL)
		return;
	/* fill the real dialog and press its button, so the test takes the user's path */
	g_variant_get(parameter, "(&sbb)", &password, &remember, &use_for_all);
	fleet_password_dialog_set_password(self->password_dialog, password);
	fleet_password_dialog_set_remember_active(self->password_dialog, remember);
	fleet_password_dialog_set_use_for_all(self->password_dialog, use_for_all);
	gtk_dialog_response(GTK_DIALOG(self->password_dialog),
			    password[0] != '\0' ? GTK_RESPONSE_OK : GTK_RESPONSE_CANCEL);
}

static void
fleet_application_forget_password_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	FleetDeviceItem *item =
	    fleet_device_store_lookup(self->store, g_variant_get_string(parameter, NULL));
	FleetForgetData *data;
	const FleetProtocol protocols[] = {FLEET_PROTOCOL_ESPOTA, FLEET_PROTOCOL_HTTP};

	if (item == NULL)
		return;
	data = g_new0(FleetForgetData, 1);
	data->op = fleet_item_op_new(self, item);
	data->pending = G_N_ELEMENTS(protocols);
	for (gsize i = 0; i < G_N_ELEMENTS(protocols); i++)
		fleet_credentials_clear_async(
		    self->credentials, fleet_device_get_id(fleet_device_item_get_device(item)),
		    protocols[i], NULL, fleet_application_forget_cb, data);
}

static void
fleet_application_remove_device_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	g_autoptr(GError) error = NULL;
	if (!fleet_discovery_remove_manual(self->discovery, g_variant_get_string(parameter, NULL),
					   &error))
		fleet_application_show_error(self, _("Could not remove the device"),
					     error->message);
}

static void
fleet_application_open_web_page_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	FleetDeviceItem *item =
	    fleet_device_store_lookup(self->store, g_variant_get_string(parameter, NULL));
	FleetWindow *window = fleet_application_get_window(self);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *uri = NULL;
	FleetDevice *device;
	const gchar *host;

	if (item == NULL)
		return;
	device = fleet_device_item_get_device(item);
	host = fleet_device_get_address(device) != NULL ? fleet_device_get_address(device)
							: fleet_device_get_hostname(device);
	if (host == NULL || fleet_device_get_http_port(device) == 0)
		return;
	uri = g_strdup_printf(strchr(host, ':') != NULL ? "http://[%s]:%u/" : "http://%s:%u/", host,
			      fleet_device_get_http_port(device));
	if (!gtk_show_uri_on_window(window != NULL ? GTK_WINDOW(window) : NULL, uri,
				    GDK_CURRENT_TIME, &error))
		fleet_application_show_error(self, _("Could not open the device’s web page"),
					     error->message);
}

static void
fleet_application_refresh_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	fleet_discovery_refresh(self->discovery);
	fleet_application_probe_all_now(self);
}

/* adds one device by address; NULL with @error when the engine refuses it */
static FleetDevice *
fleet_application_add_address(FleetApplication *self,
			      const gchar *host,
			      FleetProtocol protocol,
			      guint port,
			      guint info_port,
			      GError **error)
{
	g_autofree gchar *stripped = g_strstrip(g_strdup(host));
	FleetDevice *device =
	    fleet_discovery_add_manual(self->discovery, stripped, protocol, port, error);
	if (device == NULL)
		return NULL;
	if (info_port > 0 && info_port <= G_MAXUINT16 && fleet_device_get_http_port(device) == 0)
		fleet_device_set_http_port(device, (guint16)info_port);
	/* the probe learns its name and version now that it can ask */
	fleet_application_probe_all_now(self);
	return device;
}

static void
fleet_application_add_addresses_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	GVariantIter iter;
	const gchar *host = NULL;
	const gchar *protocol = NULL;
	guint16 port = 0;
	guint16 info_port = 0;

	/* a(ssqq): host, "espota" or "http", port, HTTP port for GET /info (0: none) */
	g_variant_iter_init(&iter, parameter);
	while (g_variant_iter_next(&iter, "(&s&sqq)", &host, &protocol, &port, &info_port)) {
		g_autoptr(GError) error = NULL;
		FleetProtocol p =
		    g_strcmp0(protocol, "http") == 0 ? FLEET_PROTOCOL_HTTP : FLEET_PROTOCOL_ESPOTA;
		if (fleet_application_add_address(self, host, p, port, info_port, &error) == NULL)
			fleet_application_show_error(self, _("Could not add the device"),
						     error->message);
	}
}

static void
fleet_application_add_device_response_cb(GtkDialog *dialog, gint response, gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	FleetAddDeviceDialog *add = FLEET_ADD_DEVICE_DIALOG(dialog);
	g_autoptr(GError) error = NULL;

	if (response == GTK_RESPONSE_OK &&
	    fleet_application_add_address(
		self, fleet_add_device_dialog_get_host(add),
		fleet_add_device_dialog_get_protocol(add), fleet_add_device_dialog_get_port(add),
		fleet_add_device_dialog_get_info_port(add), &error) == NULL) {
		/* the dialog stays, with the reason, so the address can be corrected */
		fleet_add_device_dialog_show_error(add, error->message);
		return;
	}
	gtk_widget_destroy(GTK_WIDGET(dialog));
	self->add_dialog = NULL;
}

static void
fleet_application_add_device_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	FleetWindow *window = fleet_application_ensure_window(self);

	if (self->add_dialog == NULL) {
		self->add_dialog = fleet_add_device_dialog_new(GTK_WINDOW(window));
		g_signal_connect_object(self->add_dialog, "response",
					G_CALLBACK(fleet_application_add_device_response_cb), self,
					0);
	}
	gtk_window_present(GTK_WINDOW(self->add_dialog));
}

static void
fleet_application_demo_exited_cb(FleetDemoFleet *demo,
				 const gchar *group,
				 gint wait_status,
				 gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	g_autoptr(GError) error = NULL;
	if (!g_spawn_check_wait_status(wait_status, &error))
		fleet_application_show_error(self, _("A simulated device stopped"), error->message);
}

static void
fleet_application_start_demo_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	gint32 requested = g_variant_get_int32(parameter);
	guint count = requested > 0 ? (guint)requested
				    : (guint)g_settings_get_int(self->settings, "demo-fleet-size");
	g_autofree gchar *simulator = NULL;
	g_autofree gchar *notice = NULL;
	g_autoptr(GError) error = NULL;

	fleet_application_ensure_window(self);
	if (self->demo != NULL && fleet_demo_fleet_get_running(self->demo)) {
		gtk_window_present(GTK_WINDOW(fleet_application_get_window(self)));
		return;
	}
	simulator = fleet_demo_fleet_find_simulator();
	if (simulator == NULL) {
		fleet_application_show_error(
		    self, _("The demo fleet needs espfleet-sim"),
		    _("The device simulator espfleet-sim was not found next to this program nor "
		      "in PATH. It is built and installed with espfleet unless the simulator was "
		      "turned off (meson option sim)."));
		return;
	}
	g_clear_object(&self->demo);
	self->demo = fleet_demo_fleet_new(simulator);
	g_signal_connect_object(self->demo, "process-exited",
				G_CALLBACK(fleet_application_demo_exited_cb), self, 0);
	if (!fleet_demo_fleet_start(self->demo, self->discovery, count, &error)) {
		fleet_application_show_error(self, _("Could not start the demo fleet"),
					     error->message);
		g_clear_object(&self->demo);
		return;
	}
	if (fleet_demo_fleet_get_locked_name(self->demo) != NULL)
		notice = g_strdup_printf(
		    /* TRANSLATORS: %u is a number of devices, %s a device name, “demo” is the
		     * password to type (keep it as it is) */
		    g_dngettext(GETTEXT_PACKAGE,
				"Demo fleet: %u simulated device runs on this computer; “%s” asks "
				"for the password “demo”.",
				"Demo fleet: %u simulated devices run on this computer; “%s” asks "
				"for the password “demo”.",
				count),
		    count, fleet_demo_fleet_get_locked_name(self->demo));
	else
		notice = g_strdup_printf(g_dngettext(GETTEXT_PACKAGE,
						     "Demo fleet: %u simulated device runs on this "
						     "computer.",
						     "Demo fleet: %u simulated devices run on this "
						     "computer.",
						     count),
					 count);
	fleet_application_set_notice(self, notice);
	/* a newer firmware for them, so that "Update" has something to send */
	if (fleet_demo_fleet_get_image(self->demo) != NULL)
		fleet_application_open_file(self, fleet_demo_fleet_get_image(self->demo));
}

static void
fleet_application_export_write_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(FleetApplication) self = user_data;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *name = g_file_get_parse_name(G_FILE(source));
	g_autofree gchar *notice = NULL;

	if (!g_file_replace_contents_finish(G_FILE(source), result, NULL, &error)) {
		fleet_application_show_error(self, _("Could not save the report"), error->message);
		return;
	}
	/* TRANSLATORS: %s is the file the report was written to */
	notice = g_strdup_printf(_("Report saved to %s"), name);
	fleet_application_set_notice(self, notice);
}

static void
fleet_application_export_to(FleetApplication *self, GFile *file)
{
	GListModel *model = G_LIST_MODEL(self->store);
	guint n = g_list_model_get_n_items(model);
	g_autoptr(GPtrArray) jobs = g_ptr_array_new();
	g_autofree gchar *basename = g_file_get_basename(file);
	g_autoptr(GBytes) bytes = NULL;
	gchar *text;

	/* every device's latest update, in list order */
	for (guint i = 0; i < n; i++) {
		g_autoptr(FleetDeviceItem) item = g_list_model_get_item(model, i);
		if (fleet_device_item_get_job(item) != NULL)
			g_ptr_array_add(jobs, fleet_device_item_get_job(item));
	}
	text = fleet_batch_report_build(jobs, fleet_batch_report_format_for_filename(basename));
	bytes = g_bytes_new_take(text, strlen(text));
	g_file_replace_contents_bytes_async(file, bytes, NULL, FALSE,
					    G_FILE_CREATE_REPLACE_DESTINATION, NULL,
					    fleet_application_export_write_cb, g_object_ref(self));
}

static void
fleet_application_export_response_cb(GtkNativeDialog *dialog, gint response, gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	if (response == GTK_RESPONSE_ACCEPT) {
		g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
		if (file != NULL)
			fleet_application_export_to(self, file);
	}
	g_clear_object(&self->export_chooser);
}

static void
fleet_application_export_report_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	const gchar *path = parameter != NULL ? g_variant_get_string(parameter, NULL) : "";
	FleetWindow *window;
	g_autoptr(GDateTime) now = NULL;
	g_autofree gchar *name = NULL;
	GtkFileFilter *filter;

	if (path[0] != '\0') {
		g_autoptr(GFile) file = g_file_new_for_commandline_arg(path);
		fleet_application_export_to(self, file);
		return;
	}
	if (self->export_chooser != NULL) {
		gtk_native_dialog_show(GTK_NATIVE_DIALOG(self->export_chooser));
		return;
	}
	window = fleet_application_ensure_window(self);
	self->export_chooser =
	    gtk_file_chooser_native_new(_("Export Report"), GTK_WINDOW(window),
					GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"), _("_Cancel"));
	gtk_file_chooser_set_do_overwrite_confirmation(GTK_FILE_CHOOSER(self->export_chooser),
						       TRUE);
	now = g_date_time_new_now_local();
	name = g_date_time_format(now, "espfleet-report-%Y%m%d-%H%M.csv");
	gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(self->export_chooser), name);
	filter = gtk_file_filter_new();
	/* TRANSLATORS: file type in the export dialog; a .json name gives JSON */
	gtk_file_filter_set_name(filter, _("CSV or JSON"));
	gtk_file_filter_add_pattern(filter, "*.csv");
	gtk_file_filter_add_pattern(filter, "*.json");
	gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(self->export_chooser), filter);
	g_signal_connect(self->export_chooser, "response",
			 G_CALLBACK(fleet_application_export_response_cb), self);
	gtk_native_dialog_show(GTK_NATIVE_DIALOG(self->export_chooser));
}

static void
fleet_application_preferences_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	FleetWindow *window = fleet_application_ensure_window(self);

	if (self->preferences == NULL) {
		self->preferences = fleet_preferences_new(GTK_WINDOW(window), self->settings);
		g_object_add_weak_pointer(G_OBJECT(self->preferences),
					  (gpointer *)&self->preferences);
		g_signal_connect(self->preferences, "response", G_CALLBACK(gtk_widget_destroy),
				 NULL);
	}
	gtk_window_present(GTK_WINDOW(self->preferences));
}

static void
fleet_application_about_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	const gchar *authors[] = {"The espfleet developers", NULL};

	gtk_show_about_dialog(
	    GTK_WINDOW(fleet_application_get_window(self)), "program-name", _("ESP Fleet Updater"),
	    "logo-icon-name", APP_ID, "version", PACKAGE_VERSION, "comments",
	    _("Update the firmware of many ESP8266 and ESP32 devices at once"), "website",
	    "https://github.com/espfleet/espfleet", "authors", authors,
	    /* TRANSLATORS: put your name (and e-mail address) here, one translator a line */
	    "translator-credits", _("translator-credits"), "license-type", GTK_LICENSE_GPL_3_0,
	    NULL);
}

static void
fleet_application_shortcuts_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	FleetWindow *window = fleet_application_ensure_window(self);
	/* GtkApplicationWindow builds the overlay from gtk/help-overlay.ui in our resources */
	g_action_group_activate_action(G_ACTION_GROUP(window), "show-help-overlay", NULL);
}

static void
fleet_application_activate_window_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	g_application_activate(G_APPLICATION(user_data));
}

static void
fleet_application_quit_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	FleetWindow *window = fleet_application_get_window(self);
	GList *windows;

	/* with a batch running the window asks first (and the batch may go on without it) */
	if (fleet_job_queue_get_running(self->queue) && window != NULL) {
		gtk_window_present(GTK_WINDOW(window));
		gtk_window_close(GTK_WINDOW(window));
		return;
	}
	/* destroying the windows lets them save their size; the last one ends the app */
	windows = gtk_application_get_windows(GTK_APPLICATION(self));
	while (windows != NULL) {
		GtkWidget *w = windows->data;
		windows = windows->next;
		gtk_widget_destroy(w);
	}
	g_application_quit(G_APPLICATION(self));
}

static void
fleet_application_latency_reset_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	if (self->latency != NULL)
		fleet_latency_probe_reset(self->latency);
	fleet_application_queue_state(self);
}

/* the exported states are read-only: tests and other observers must not set them */
static void
fleet_application_read_only_cb(GSimpleAction *action, GVariant *value, gpointer user_data)
{
}

static const GActionEntry fleet_application_actions[] = {
    {"open-image", fleet_application_open_image_cb, "s", NULL, NULL, {0}},
    {"open", fleet_application_open_cb, NULL, NULL, NULL, {0}},
    {"update", fleet_application_update_cb, NULL, NULL, NULL, {0}},
    {"update-device", fleet_application_update_device_cb, "s", NULL, NULL, {0}},
    {"cancel-all", fleet_application_cancel_all_cb, NULL, NULL, NULL, {0}},
    {"cancel-device", fleet_application_cancel_device_cb, "s", NULL, NULL, {0}},
    {"retry-failed", fleet_application_retry_failed_cb, NULL, NULL, NULL, {0}},
    {"force", NULL, NULL, "false", fleet_application_force_change_cb, {0}},
    {"select-devices", fleet_application_select_devices_cb, "as", NULL, NULL, {0}},
    {"show-device", fleet_application_show_device_cb, "s", NULL, NULL, {0}},
    {"answer-password", fleet_application_answer_password_cb, "(sbb)", NULL, NULL, {0}},
    {"forget-password", fleet_application_forget_password_cb, "s", NULL, NULL, {0}},
    {"remove-device", fleet_application_remove_device_cb, "s", NULL, NULL, {0}},
    {"open-web-page", fleet_application_open_web_page_cb, "s", NULL, NULL, {0}},
    {"refresh", fleet_application_refresh_cb, NULL, NULL, NULL, {0}},
    {"add-device", fleet_application_add_device_cb, NULL, NULL, NULL, {0}},
    {"add-addresses", fleet_application_add_addresses_cb, "a(ssqq)", NULL, NULL, {0}},
    {"start-demo", fleet_application_start_demo_cb, "i", NULL, NULL, {0}},
    {"export-report", fleet_application_export_report_cb, "s", NULL, NULL, {0}},
    {"preferences", fleet_application_preferences_cb, NULL, NULL, NULL, {0}},
    {"about", fleet_application_about_cb, NULL, NULL, NULL, {0}},
    {"shortcuts", fleet_application_shortcuts_cb, NULL, NULL, NULL, {0}},
    {"activate-window", fleet_application_activate_window_cb, NULL, NULL, NULL, {0}},
    {"quit", fleet_application_quit_cb, NULL, NULL, NULL, {0}},
    {"latency-reset", fleet_application_latency_reset_cb, NULL, NULL, NULL, {0}},
    {"image-report", NULL, NULL, "''", fleet_application_read_only_cb, {0}},
    {"devices", NULL, NULL, "'[]'", fleet_application_read_only_cb, {0}},
    {"batch", NULL, NULL, "''", fleet_application_read_only_cb, {0}},
    {"password-prompt", NULL, NULL, "''", fleet_application_read_only_cb, {0}},
    {"transcript", NULL, NULL, "''", fleet_application_read_only_cb, {0}},
    {"discovery", NULL, NULL, "''", fleet_application_read_only_cb, {0}},
    {"latency", NULL, NULL, "''", fleet_application_read_only_cb, {0}},
};

/* ---------------------------------------------------------------------------------------
 * GApplication */

static void
fleet_application_set_accels(FleetApplication *self, const gchar *action, const gchar *accel)
{
	const gchar *accels[] = {accel, NULL};
	gtk_application_set_accels_for_action(GTK_APPLICATION(self), action, accels);
}

/* SIGTERM and SIGINT end the app the normal way, so the demo simulators stop with it */
static gboolean
fleet_application_signal_cb(gpointer user_data)
{
	g_application_quit(G_APPLICATION(user_data));
	return G_SOURCE_CONTINUE;
}

static void
fleet_application_startup(GApplication *application)
{
	FleetApplication *self = FLEET_APPLICATION(application);
	g_autoptr(GtkCssProvider) css = gtk_css_provider_new();
	g_autoptr(FleetTransportEspota) espota = NULL;
	g_autoptr(FleetTransportHttp) http = NULL;
	const gchar *no_accels[] = {NULL};

	G_APPLICATION_CLASS(fleet_application_parent_class)->startup(application);

	g_set_application_name(_("ESP Fleet Updater"));
	gtk_window_set_default_icon_name(APP_ID);
	self->settings = g_settings_new(APP_ID);
	self->cancellable = g_cancellable_new();

	/* the engine */
	self->devices = fleet_device_list_new();
	self->discovery = fleet_discovery_new(self->devices);
	self->credentials = fleet_credentials_new();
	self->queue = fleet_job_queue_new();
	espota = fleet_transport_espota_new();
	http = fleet_transport_http_new();
	fleet_job_queue_add_transport(self->queue, FLEET_TRANSPORT(espota));
	fleet_job_queue_add_transport(self->queue, FLEET_TRANSPORT(http));
	fleet_job_queue_set_credentials(self->queue, G_OBJECT(self->credentials));
	fleet_application_apply_settings(self);
	self->store = fleet_device_store_new(self->devices);

	/* live logs: every device that announces a log port, and the update transcripts */
	self->log_hub = fleet_log_hub_new();
	g_settings_bind(self->settings, "log-ring-lines", self->log_hub, "ring-lines",
			G_SETTINGS_BIND_GET);
	fleet_log_hub_set_devices(self->log_hub, self->devices, TRUE);
	fleet_log_hub_add_source(self->log_hub, FLEET_LOG_SOURCE(fleet_log_source_jobs_new(self->queue)));

	g_action_map_add_action_entries(G_ACTION_MAP(self), fleet_application_actions,
					G_N_ELEMENTS(fleet_application_actions), self);
	fleet_application_set_accels(self, "app.open", "<Primary>o");
	fleet_application_set_accels(self, "app.quit", "<Primary>q");
	fleet_application_set_accels(self, "app.shortcuts", "<Primary>question");
	fleet_application_set_accels(self, "app.preferences", "<Primary>comma");
	fleet_application_set_accels(self, "app.update", "<Primary>Return");
	fleet_application_set_accels(self, "app.refresh", "F5");
	fleet_application_set_accels(self, "win.search", "<Primary>f");
	fleet_application_set_accels(self, "win.select-shown", "<Primary>a");
	fleet_application_set_accels(self, "win.select-none", "<Primary><Shift>a");
	/* GtkApplication binds Ctrl+? to win.show-help-overlay itself; app.shortcuts owns it */
	gtk_application_set_accels_for_action(GTK_APPLICATION(self), "win.show-help-overlay",
					      no_accels);

	g_signal_connect_object(self->store, "changed",
				G_CALLBACK(fleet_application_store_changed_cb), self, 0);
	g_signal_connect_object(self->devices, "items-changed",
				G_CALLBACK(fleet_application_devices_changed_cb), self, 0);
	g_signal_connect_object(self->queue, "notify::running",
				G_CALLBACK(fleet_application_queue_running_cb), self, 0);
	g_signal_connect_object(self->queue, "password-needed",
				G_CALLBACK(fleet_application_password_needed_cb), self, 0);
	g_signal_connect_object(self->discovery, "notify::state",
				G_CALLBACK(fleet_application_discovery_state_cb), self, 0);
	g_signal_connect_object(self->discovery, "notify::error-message",
				G_CALLBACK(fleet_application_discovery_state_cb), self, 0);
	g_signal_connect_object(self->settings, "changed",
				G_CALLBACK(fleet_application_settings_changed_cb), self, 0);
	self->probe_id = g_timeout_add(FLEET_PROBE_TICK_MS, fleet_application_probe_tick_cb, self);
	self->sigterm_id = g_unix_signal_add(SIGTERM, fleet_application_signal_cb, self);
	self->sigint_id = g_unix_signal_add(SIGINT, fleet_application_signal_cb, self);
	fleet_discovery_start(self->discovery);

	/* the UI-responsiveness benchmark measures the main loop from the inside */
	if (g_strcmp0(g_getenv("ESPFLEET_LATENCY_PROBE"), "1") == 0) {
		self->latency = fleet_latency_probe_new(FLEET_LATENCY_INTERVAL_MS);
		fleet_latency_probe_start(self->latency);
	}

	gtk_css_provider_load_from_resource(css, "/io/github/espfleet/EspFleet/fleet.css");
	gtk_style_context_add_provider_for_screen(gdk_screen_get_default(), GTK_STYLE_PROVIDER(css),
						  GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
	fleet_application_update_actions(self);
	fleet_application_queue_state(self);
}

static void
fleet_application_activate(GApplication *application)
{
	FleetApplication *self = FLEET_APPLICATION(application);
	gtk_window_present(GTK_WINDOW(fleet_application_ensure_window(self)));
	if (self->demo_requested) {
		self->demo_requested = FALSE;
		g_action_group_activate_action(G_ACTION_GROUP(self), "start-demo",
					       g_variant_new_int32(0));
	}
}

static void
fleet_application_open(GApplication *application, GFile **files, gint n_files, const gchar *hint)
{
	FleetApplication *self = FLEET_APPLICATION(application);
	/* the window shows one image: the first one named wins */
	if (n_files > 0)
		fleet_application_open_file(self, files[0]);
	else
		fleet_application_activate(application);
}

static gint
fleet_application_handle_local_options(GApplication *application, GVariantDict *options)
{
	FleetApplication *self = FLEET_APPLICATION(application);
	g_autoptr(GError) error = NULL;

	if (!g_variant_dict_contains(options, "demo"))
		return -1;
	if (!g_application_register(application, NULL, &error)) {
		g_printerr("%s\n", error->message);
		return 1;
	}
	/* a running instance starts the demo at once; this one does after activating */
	if (g_application_get_is_remote(application))
		g_action_group_activate_action(G_ACTION_GROUP(application), "start-demo",
					       g_variant_new_int32(0));
	else
		self->demo_requested = TRUE;
	return -1;
}

static void
fleet_application_shutdown(GApplication *application)
{
	FleetApplication *self = FLEET_APPLICATION(application);

	g_cancellable_cancel(self->cancellable);
	if (self->load_cancellable != NULL)
		g_cancellable_cancel(self->load_cancellable);
	if (self->chooser != NULL)
		gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(self->chooser));
	if (self->export_chooser != NULL)
		gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(self->export_chooser));
	g_clear_handle_id(&self->probe_id, g_source_remove);
	g_clear_handle_id(&self->state_id, g_source_remove);
	g_clear_handle_id(&self->sigterm_id, g_source_remove);
	g_clear_handle_id(&self->sigint_id, g_source_remove);
	if (self->queue != NULL && fleet_job_queue_get_running(self->queue))
		fleet_job_queue_cancel_all(self->queue);
	/* the simulators of the demo fleet end with the app */
	if (self->demo != NULL)
		fleet_demo_fleet_stop(self->demo, self->discovery);
	fleet_application_wipe_batch_password(self);
	G_APPLICATION_CLASS(fleet_application_parent_class)->shutdown(application);
}

static void
fleet_application_dispose(GObject *object)
{
	FleetApplication *self = FLEET_APPLICATION(object);

	g_queue_clear_full(&self->password_jobs, g_object_unref);
	g_clear_object(&self->password_job);
	g_clear_object(&self->chooser);
	g_clear_object(&self->export_chooser);
	g_clear_object(&self->load_cancellable);
	g_clear_object(&self->cancellable);
	g_clear_object(&self->image);
	g_clear_object(&self->image_file);
	g_clear_object(&self->demo);
	g_clear_object(&self->latency);
	g_clear_object(&self->store);
	g_clear_object(&self->log_hub);
	g_clear_object(&self->queue);
	g_clear_object(&self->discovery);
	g_clear_object(&self->credentials);
	g_clear_object(&self->devices);
	g_clear_object(&self->settings);
	g_clear_pointer(&self->probes, g_hash_table_unref);
	g_clear_pointer(&self->notice, g_free);
	G_OBJECT_CLASS(fleet_application_parent_class)->dispose(object);
}

static void
fleet_application_class_init(FleetApplicationClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GApplicationClass *application_class = G_APPLICATION_CLASS(klass);

	object_class->dispose = fleet_application_dispose;
	application_class->startup = fleet_application_startup;
	application_class->activate = fleet_application_activate;
	application_class->open = fleet_application_open;
	application_class->handle_local_options = fleet_application_handle_local_options;
	application_class->shutdown = fleet_application_shutdown;
}

static void
fleet_application_init(FleetApplication *self)
{
	const GOptionEntry entries[] = {
	    {"demo", 0, 0, G_OPTION_ARG_NONE, NULL,
	     /* TRANSLATORS: --demo in espfleet --help */
	     N_("Start simulated devices on this computer to try the app without hardware"), NULL},
	    {NULL, 0, 0, 0, NULL, NULL, NULL},
	};
	g_queue_init(&self->password_jobs);
	self->probes = g_hash_table_new_full(NULL, NULL, NULL, g_free);
	g_application_add_main_option_entries(G_APPLICATION(self), entries);
}

FleetLogHub *
fleet_application_get_log_hub(FleetApplication *self)
{
	g_return_val_if_fail(FLEET_IS_APPLICATION(self), NULL);
	return self->log_hub;
}

GSettings *
fleet_application_get_settings(FleetApplication *self)
{
	g_return_val_if_fail(FLEET_IS_APPLICATION(self), NULL);
	return self->settings;
}

FleetDeviceStore *
fleet_application_get_store(FleetApplication *self)
{
	g_return_val_if_fail(FLEET_IS_APPLICATION(self), NULL);
	return self->store;
}

void
fleet_application_update_state(FleetApplication *self)
{
	g_return_if_fail(FLEET_IS_APPLICATION(self));
	fleet_application_queue_state(self);
}

gboolean
fleet_application_get_batch_running(FleetApplication *self)
{
	g_return_val_if_fail(FLEET_IS_APPLICATION(self), FALSE);
	return self->queue != NULL && fleet_job_queue_get_running(self->queue);
}

FleetApplication *
fleet_application_new(void)
{
	return g_object_new(FLEET_TYPE_APPLICATION, "application-id", APP_ID, "flags",
			    G_APPLICATION_HANDLES_OPEN, NULL);
}
