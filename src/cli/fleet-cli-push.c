/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-cli-push.c - espfleet-cli push: one image to many devices, headless
 *
 * Targets are discovered names, espota://host:port or http://host:port/path. Passwords
 * come from the keyring, --password-file, ESPFLEET_PASSWORD or a prompt on the terminal,
 * never from the command line.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <gio/gunixinputstream.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "fleet-cli-targets.h"
#include "fleet-cli.h"
#include "fleet-credentials.h"
#include "fleet-error.h"
#include "fleet-job-queue.h"
#include "fleet-text.h"
#include "fleet-transport-espota.h"
#include "fleet-transport-http.h"

#define PUSH_JSON_SCHEMA "espfleet-push/1"

typedef struct {
	FleetCli *cli;
	GMainLoop *loop;
	FleetJobQueue *queue;
	gboolean json;
	gboolean verify;
	guint redraw_id;
	guint lines_drawn;
	GHashTable *last_phase; /* job → phase printed (plain output) */
	/* one terminal prompt at a time */
	GQueue prompts;
	FleetJob *prompting;
	GDataInputStream *tty_in;
	gint tty_fd;
	struct termios tty_saved;
	gboolean tty_echo_off;
	guint sigint_id;
	guint interrupts;
} FleetCliPush;

static void fleet_cli_push_next_prompt(FleetCliPush *self);

static gchar *
fleet_cli_push_read_password_file(const gchar *path, GError **error)
{
	g_autofree gchar *contents = NULL;
	gsize len = 0;
	gchar *nl;
	if (!g_file_get_contents(path, &contents, &len, error)) {
		g_prefix_error(error, _("Cannot read the password file: "));
		return NULL;
	}
	nl = strpbrk(contents, "\r\n");
	if (nl != NULL)
		*nl = '\0';
	if (contents[0] == '\0') {
		g_set_error(error, FLEET_ERROR, FLEET_ERROR_INVALID_DATA,
			    _("The password file %s is empty"), path);
		memset(contents, 0, len);
		return NULL;
	}
	return g_steal_pointer(&contents);
}

static void
fleet_cli_push_tty_echo(FleetCliPush *self, gboolean on)
{
	struct termios t;
	if (self->tty_fd < 0)
		return;
	if (!on && !self->tty_echo_off) {
		if (tcgetattr(self->tty_fd, &self->tty_saved) != 0)
			return;
		t = self->tty_saved;
		t.c_lflag &= ~(tcflag_t)ECHO;
		t.c_lflag |= ECHONL;
		if (tcsetattr(self->tty_fd, TCSAFLUSH, &t) == 0)
			self->tty_echo_off = TRUE;
	} else if (on && self->tty_echo_off) {
		(void)tcsetattr(self->tty_fd, TCSAFLUSH, &self->tty_saved);
		self->tty_echo_off = FALSE;
	}
}

static void
fleet_cli_push_prompt_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	FleetCliPush *self = user_data;
	g_autoptr(GError) error = NULL;
	gsize len = 0;
	g_autofree gchar *line = g_data_input_stream_read_line_finish_utf8(G_DATA_INPUT_STREAM(source),
									   result, &len, &error);
	g_autoptr(FleetJob) job = g_steal_pointer(&self->prompting);

	fleet_cli_push_tty_echo(self, TRUE);
	if (line != NULL && len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	/* an empty answer or end of input gives up on this device */
	fleet_job_set_password(job, line != NULL && line[0] != '\0' ? line : NULL, TRUE);
	if (line != NULL)
		memset(line, 0, len);
	fleet_cli_push_next_prompt(self);
}

static void
fleet_cli_push_next_prompt(FleetCliPush *self)
{
	FleetJob *job;
	g_autofree gchar *who = NULL;
	if (self->prompting != NULL)
		return;
	job = g_queue_pop_head(&self->prompts);
	if (job == NULL)
		return;
	if (fleet_job_get_phase(job) != FLEET_JOB_PHASE_WAITING_PASSWORD) {
		g_object_unref(job);
		fleet_cli_push_next_prompt(self);
		return;
	}
	self->prompting = job;
	who = fleet_device_describe(fleet_job_get_device(job), fleet_job_get_protocol(job));
	self->lines_drawn = 0;
	if (fleet_job_get_password_rejected(job))
		fprintf(stderr, _("Wrong password for %s.\n"), who);
	fprintf(stderr, _("Password for %s (empty to skip this device): "), who);
	fflush(stderr);
	fleet_cli_push_tty_echo(self, FALSE);
	g_data_input_stream_read_line_async(self->tty_in, G_PRIORITY_DEFAULT, NULL,
					    fleet_cli_push_prompt_cb, self);
}

static void
fleet_cli_push_password_needed_cb(FleetJobQueue *queue, FleetJob *job, gpointer user_data)
{
	FleetCliPush *self = user_data;
	if (self->tty_in == NULL) {
		/* nobody to ask: fail this device with the reason, the others go on */
		fleet_job_set_password(job, NULL, FALSE);
		return;
	}
	g_queue_push_tail(&self->prompts, g_object_ref(job));
	fleet_cli_push_next_prompt(self);
}

static gchar *
fleet_cli_push_format_rate(gdouble rate)
{
	g_autofree gchar *size = g_format_size((guint64)rate);
	/* TRANSLATORS: transfer rate, e.g. "105.3 kB/s" */
	return g_strdup_printf(_("%s/s"), size);
}

static gchar *
fleet_cli_push_job_line(FleetJob *job)
{
	FleetDevice *device = fleet_job_get_device(job);
	g_autofree gchar *who = fleet_device_describe(device, fleet_job_get_protocol(job));
	FleetJobPhase phase = fleet_job_get_phase(job);
	GString *line = g_string_new(NULL);

	g_string_append_printf(line, "%-36s %-20s", who, fleet_job_phase_to_string(phase));
	if (phase == FLEET_JOB_PHASE_UPLOADING || phase == FLEET_JOB_PHASE_DEVICE_VERIFYING) {
		guint64 total = fleet_job_get_bytes_total(job);
		guint pct = total > 0 ? (guint)(fleet_job_get_bytes_done(job) * 100 / total) : 0;
		g_string_append_printf(line, " %3u%%", pct);
		if (fleet_job_get_rate(job) > 0) {
			g_autofree gchar *rate = fleet_cli_push_format_rate(fleet_job_get_rate(job));
			g_string_append_printf(line, "  %s", rate);
		}
		if (fleet_job_get_eta(job) >= 0)
			/* TRANSLATORS: estimated time left, in seconds */
			g_string_append_printf(line, _("  %d s left"), fleet_job_get_eta(job));
	} else if (fleet_job_get_message(job) != NULL && fleet_job_is_finished(job)) {
		g_string_append_printf(line, " %s", fleet_job_get_message(job));
	}
	return g_string_free(line, FALSE);
}

static gboolean
fleet_cli_push_redraw_cb(gpointer user_data)
{
	FleetCliPush *self = user_data;
	guint n = g_list_model_get_n_items(G_LIST_MODEL(self->queue));
	if (self->prompting != NULL)
		return G_SOURCE_CONTINUE;
	/* move the cursor back over the previous frame */
	if (self->lines_drawn > 0)
		printf("\033[%uA", self->lines_drawn);
	for (guint i = 0; i < n; i++) {
		g_autoptr(FleetJob) job = g_list_model_get_item(G_LIST_MODEL(self->queue), i);
		g_autofree gchar *line = fleet_cli_push_job_line(job);
		printf("\033[2K%s\n", line);
	}
	self->lines_drawn = n;
	fflush(stdout);
	return G_SOURCE_CONTINUE;
}

/* plain output: a line per phase change */
static void
fleet_cli_push_job_phase_cb(FleetJob *job, GParamSpec *pspec, gpointer user_data)
{
	FleetCliPush *self = user_data;
	FleetJobPhase phase = fleet_job_get_phase(job);
	g_autofree gchar *line = NULL;
	if (GPOINTER_TO_INT(g_hash_table_lookup(self->last_phase, job)) == (gint)phase + 1)
		return;
	g_hash_table_insert(self->last_phase, job, GINT_TO_POINTER((gint)phase + 1));
	line = fleet_cli_push_job_line(job);
	printf("%s\n", line);
	fflush(stdout);
}

static void
fleet_cli_push_finished_cb(FleetJobQueue *queue, gpointer user_data)
{
	FleetCliPush *self = user_data;
	g_main_loop_quit(self->loop);
}

static gboolean
fleet_cli_push_sigint_cb(gpointer user_data)
{
	FleetCliPush *self = user_data;
	self->interrupts++;
	fleet_cli_push_tty_echo(self, TRUE);
	if (self->interrupts > 1) {
		self->sigint_id = 0;
		g_main_loop_quit(self->loop);
		return G_SOURCE_REMOVE;
	}
	fprintf(stderr, "%s\n", _("Cancelling… (press Ctrl+C again to quit at once)"));
	fleet_job_queue_cancel_all(self->queue);
	return G_SOURCE_CONTINUE;
}

static void
fleet_cli_push_print_summary(FleetCliPush *self)
{
	guint n = g_list_model_get_n_items(G_LIST_MODEL(self->queue));
	g_autofree gchar *summary = fleet_job_queue_get_summary(self->queue);
	printf("\n");
	for (guint i = 0; i < n; i++) {
		g_autoptr(FleetJob) job = g_list_model_get_item(G_LIST_MODEL(self->queue), i);
		g_autofree gchar *who = fleet_device_describe(fleet_job_get_device(job),
							      fleet_job_get_protocol(job));
		gdouble secs = fleet_job_get_finished(job) > fleet_job_get_started(job)
				   ? (gdouble)(fleet_job_get_finished(job) - fleet_job_get_started(job)) / G_USEC_PER_SEC
				   : 0.0;
		printf("%-36s %-12s %6.1f s  %s\n", who,
		       fleet_job_phase_to_string(fleet_job_get_phase(job)), secs,
		       fleet_job_get_message(job) != NULL ? fleet_job_get_message(job) : "");
	}
	printf("%s\n", summary);
}

static void
fleet_cli_push_print_json(FleetCliPush *self)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autoptr(JsonNode) root = NULL;
	g_autofree gchar *text = NULL;
	g_autofree gchar *summary = fleet_job_queue_get_summary(self->queue);
	guint n = g_list_model_get_n_items(G_LIST_MODEL(self->queue));

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "schema");
	json_builder_add_string_value(b, PUSH_JSON_SCHEMA);
	json_builder_set_member_name(b, "summary");
	json_builder_add_string_value(b, summary);
	json_builder_set_member_name(b, "jobs");
	json_builder_begin_array(b);
	for (guint i = 0; i < n; i++) {
		g_autoptr(FleetJob) job = g_list_model_get_item(G_LIST_MODEL(self->queue), i);
		FleetDevice *device = fleet_job_get_device(job);
		const gchar *strings[][2] = {
		    {"device", fleet_device_get_id(device)},
		    {"name", fleet_device_get_name(device)},
		    {"address", fleet_device_get_address(device)},
		    {"protocol", fleet_job_get_protocol(job) == FLEET_PROTOCOL_HTTP ? "http" : "espota"},
		    {"old_version", fleet_job_get_old_version(job)},
		    {"new_version", fleet_job_get_new_version(job)},
		    {"result", fleet_job_phase_to_id(fleet_job_get_phase(job))},
		    {"error", fleet_job_get_message(job)},
		};
		json_builder_begin_object(b);
		for (gsize k = 0; k < G_N_ELEMENTS(strings); k++) {
			json_builder_set_member_name(b, strings[k][0]);
			if (strings[k][1] != NULL)
				json_builder_add_string_value(b, strings[k][1]);
			else
				json_builder_add_null_value(b);
		}
		json_builder_set_member_name(b, "bytes");
		json_builder_add_int_value(b, (gint64)fleet_job_get_bytes_done(job));
		json_builder_set_member_name(b, "duration_s");
		json_builder_add_double_value(
		    b, fleet_job_get_finished(job) > fleet_job_get_started(job)
			   ? (gdouble)(fleet_job_get_finished(job) - fleet_job_get_started(job)) / G_USEC_PER_SEC
			   : 0.0);
		json_builder_set_member_name(b, "transfer_s");
		json_builder_add_double_value(b, fleet_job_get_transfer_seconds(job));
		json_builder_set_member_name(b, "attempts");
		json_builder_add_int_value(b, fleet_job_get_attempts(job));
		json_builder_set_member_name(b, "transcript");
		json_builder_begin_array(b);
		for (guint k = 0; k < fleet_job_get_transcript(job)->len; k++)
			json_builder_add_string_value(b, g_ptr_array_index(fleet_job_get_transcript(job), k));
		json_builder_end_array(b);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	json_generator_set_pretty(gen, TRUE);
	json_generator_set_root(gen, root);
	text = json_generator_to_data(gen, NULL);
	printf("%s\n", text);
}

static gboolean
fleet_cli_push_all_good(FleetCliPush *self)
{
	guint n = g_list_model_get_n_items(G_LIST_MODEL(self->queue));
	for (guint i = 0; i < n; i++) {
		g_autoptr(FleetJob) job = g_list_model_get_item(G_LIST_MODEL(self->queue), i);
		FleetJobPhase phase = fleet_job_get_phase(job);
		if (phase == FLEET_JOB_PHASE_VERIFIED)
			continue;
		if (phase == FLEET_JOB_PHASE_UPLOADED && !self->verify)
			continue;
		return FALSE;
	}
	return n > 0;
}

static void
fleet_cli_push_open_tty(FleetCliPush *self)
{
	g_autoptr(GInputStream) base = NULL;
	self->tty_fd = -1;
	if (!isatty(STDIN_FILENO))
		return;
	self->tty_fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
	if (self->tty_fd < 0)
		return;
	base = g_unix_input_stream_new(self->tty_fd, FALSE);
	self->tty_in = g_data_input_stream_new(base);
}

int
fleet_cli_push(FleetCli *cli, int argc, char **argv)
{
	g_autofree gchar *image_path = NULL;
	g_autofree gchar *protocol = NULL;
	g_autofree gchar *password_file = NULL;
	g_autofree gchar *board = NULL;
	g_autofree gchar *match = NULL;
	g_autofree gchar *http_field = NULL;
	gint concurrency = 8;
	gint canary = 0;
	gint max_failures = 0;
	gint discover_timeout = 5;
	gint verify_timeout = 90;
	gint connect_timeout = 10;
	gint stall_timeout = 20;
	gboolean all = FALSE;
	gboolean force = FALSE;
	gboolean no_verify = FALSE;
	gboolean json = FALSE;
	gboolean stop_and_wait = FALSE;
	gboolean filesystem = FALSE;
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GFile) file = NULL;
	g_autoptr(FleetImage) image = NULL;
	g_autoptr(GPtrArray) devices = NULL;
	g_autoptr(FleetCredentials) credentials = NULL;
	g_autoptr(FleetTransportEspota) espota = NULL;
	g_autoptr(FleetTransportHttp) http = NULL;
	g_autoptr(FleetCliTargets) targets = NULL;
	FleetCliPush self = {0};
	FleetProtocol forced_protocol = FLEET_PROTOCOL_NONE;
	const GOptionEntry entries[] = {
	    {"image", 'i', 0, G_OPTION_ARG_FILENAME, &image_path, N_("The firmware image to send"),
	     N_("FILE")},
	    {"all", 'a', 0, G_OPTION_ARG_NONE, &all, N_("Every discovered device"), NULL},
	    {"board", 'b', 0, G_OPTION_ARG_STRING, &board,
	     N_("Every discovered device announcing this board"), N_("BOARD")},
	    {"match", 'm', 0, G_OPTION_ARG_STRING, &match,
	     N_("Every discovered device whose name matches this pattern (e.g. 'line2-*')"),
	     N_("GLOB")},
	    {"protocol", 'p', 0, G_OPTION_ARG_STRING, &protocol,
	     N_("Use this protocol for every device: espota or http"), N_("PROTOCOL")},
	    {"concurrency", 'j', 0, G_OPTION_ARG_INT, &concurrency,
	     N_("Update at most N devices at once (default 8)"), N_("N")},
	    {"canary", 0, 0, G_OPTION_ARG_INT, &canary,
	     N_("Update N devices first; start the rest only when they verified"), N_("N")},
	    {"max-failures", 0, 0, G_OPTION_ARG_INT, &max_failures,
	     N_("Start no more devices after K failures"), N_("K")},
	    {"force", 0, 0, G_OPTION_ARG_NONE, &force,
	     N_("Send even to devices the pre-flight check refuses"), NULL},
	    {"no-verify", 0, 0, G_OPTION_ARG_NONE, &no_verify,
	     N_("Do not wait for the devices to come back on the new firmware"), NULL},
	    {"filesystem", 0, 0, G_OPTION_ARG_NONE, &filesystem,
	     N_("The image is a filesystem image (SPIFFS/LittleFS)"), NULL},
	    {"password-file", 0, 0, G_OPTION_ARG_FILENAME, &password_file,
	     N_("Read the password from the first line of FILE"), N_("FILE")},
	    {"discover-timeout", 0, 0, G_OPTION_ARG_INT, &discover_timeout,
	     N_("Seconds to look for named devices on the network (default 5)"), N_("S")},
	    {"connect-timeout", 0, 0, G_OPTION_ARG_INT, &connect_timeout,
	     N_("Seconds a device has to answer (default 10)"), N_("S")},
	    {"stall-timeout", 0, 0, G_OPTION_ARG_INT, &stall_timeout,
	     N_("Seconds a transfer may make no progress before it fails (default 20)"), N_("S")},
	    {"verify-timeout", 0, 0, G_OPTION_ARG_INT, &verify_timeout,
	     N_("Seconds a device has to come back after the update (default 90)"), N_("S")},
	    {"stop-and-wait", 0, 0, G_OPTION_ARG_NONE, &stop_and_wait,
	     N_("espota: wait for an acknowledgement after every chunk, like espota.py"), NULL},
	    {"http-field", 0, 0, G_OPTION_ARG_STRING, &http_field,
	     N_("HTTP: the form field the device expects (default firmware)"), N_("NAME")},
	    {"json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the result as JSON"), NULL},
	    {NULL}};

	context = g_option_context_new(_("[DEVICE…] — send one image to many devices"));
	g_option_context_set_translation_domain(context, GETTEXT_PACKAGE);
	g_option_context_add_main_entries(context, entries, GETTEXT_PACKAGE);
	g_option_context_set_summary(
	    context,
	    _("DEVICE is a discovered name, espota://HOST:PORT or http://HOST:PORT/PATH.\n"
	      "Passwords come from the keyring, --password-file, ESPFLEET_PASSWORD or a prompt.\n"
	      "Exit status: 0 when every device verified, 1 otherwise, 2 usage error."));
	if (!g_option_context_parse(context, &argc, &argv, &error))
		return fleet_cli_usage_error(context, error->message);
	if (image_path == NULL)
		return fleet_cli_usage_error(context, _("--image is required"));
	if (argc < 2 && !all && board == NULL && match == NULL)
		return fleet_cli_usage_error(context,
					     _("name the devices, or use --all, --board or --match"));
	if (concurrency < 1 || canary < 0 || max_failures < 0 || discover_timeout < 0 ||
	    verify_timeout < 1 || connect_timeout < 1 || stall_timeout < 1)
		return fleet_cli_usage_error(context, _("counts and timeouts must be positive"));
	if (protocol != NULL) {
		if (g_strcmp0(protocol, "espota") == 0)
			forced_protocol = FLEET_PROTOCOL_ESPOTA;
		else if (g_strcmp0(protocol, "http") == 0)
			forced_protocol = FLEET_PROTOCOL_HTTP;
		else
			return fleet_cli_usage_error(context, _("--protocol is espota or http"));
	}

	/* the image first: nothing goes out when it is broken */
	file = g_file_new_for_commandline_arg(image_path);
	image = fleet_image_new_from_file(file, NULL, &error);
	if (image == NULL) {
		g_printerr("espfleet-cli: %s\n", error->message);
		return FLEET_CLI_EXIT_PROBLEM;
	}
	if (fleet_image_has_errors(image) && !force && !filesystem) {
		g_autofree gchar *summary = fleet_image_get_summary(image);
		g_printerr(_("espfleet-cli: %s: %s; see 'espfleet-cli inspect %s' (or use --force)\n"),
			   fleet_image_get_filename(image), summary, image_path);
		return FLEET_CLI_EXIT_PROBLEM;
	}

	/* which devices */
	targets = fleet_cli_targets_new();
	for (int i = 1; i < argc; i++) {
		if (!fleet_cli_targets_add_spec(targets, argv[i], &error))
			return fleet_cli_usage_error(context, error->message);
	}
	fleet_cli_targets_set_filters(targets, all, board, match);
	devices = fleet_cli_targets_resolve(targets, (guint)discover_timeout, &error);
	if (devices == NULL) {
		g_printerr("espfleet-cli: %s\n", error->message);
		return FLEET_CLI_EXIT_PROBLEM;
	}

	self.cli = cli;
	self.json = json;
	self.verify = !no_verify;
	self.loop = g_main_loop_new(NULL, FALSE);
	self.queue = fleet_job_queue_new();
	self.last_phase = g_hash_table_new(NULL, NULL);
	g_queue_init(&self.prompts);
	espota = fleet_transport_espota_new();
	http = fleet_transport_http_new();
	fleet_job_queue_add_transport(self.queue, FLEET_TRANSPORT(espota));
	fleet_job_queue_add_transport(self.queue, FLEET_TRANSPORT(http));
	credentials = fleet_credentials_new();
	fleet_job_queue_set_credentials(self.queue, G_OBJECT(credentials));
	fleet_job_queue_set_concurrency(self.queue, (guint)concurrency);
	fleet_job_queue_set_canary_count(self.queue, (guint)canary);
	fleet_job_queue_set_max_failures(self.queue, (guint)max_failures);
	fleet_job_queue_set_verify(self.queue, !no_verify);
	fleet_job_queue_set_stop_and_wait(self.queue, stop_and_wait);
	fleet_job_queue_set_timeouts(self.queue, (guint)connect_timeout, (guint)stall_timeout, 60,
				     (guint)verify_timeout);
	if (http_field != NULL)
		fleet_job_queue_set_http_field(self.queue, http_field);

	/* passwords: keyring (per job), then the file, then the environment, then a prompt */
	if (password_file != NULL) {
		g_autofree gchar *pw = fleet_cli_push_read_password_file(password_file, &error);
		if (pw == NULL) {
			g_printerr("espfleet-cli: %s\n", error->message);
			return FLEET_CLI_EXIT_PROBLEM;
		}
		fleet_job_queue_set_default_password(self.queue, pw);
		memset(pw, 0, strlen(pw));
	} else if (g_getenv("ESPFLEET_PASSWORD") != NULL && g_getenv("ESPFLEET_PASSWORD")[0] != '\0') {
		fleet_job_queue_set_default_password(self.queue, g_getenv("ESPFLEET_PASSWORD"));
	}
	fleet_cli_push_open_tty(&self);
	g_signal_connect(self.queue, "password-needed", G_CALLBACK(fleet_cli_push_password_needed_cb),
			 &self);
	g_signal_connect(self.queue, "finished", G_CALLBACK(fleet_cli_push_finished_cb), &self);

	for (guint i = 0; i < devices->len; i++) {
		FleetJob *job = fleet_job_queue_add(self.queue, g_ptr_array_index(devices, i), image);
		fleet_job_set_force(job, force);
		if (forced_protocol != FLEET_PROTOCOL_NONE)
			fleet_job_set_protocol(job, forced_protocol);
		fleet_job_set_filesystem(job, filesystem);
		if (!json && !cli->is_tty)
			g_signal_connect(job, "notify::phase", G_CALLBACK(fleet_cli_push_job_phase_cb),
					 &self);
	}
	if (!json && cli->is_tty)
		self.redraw_id = g_timeout_add(200, fleet_cli_push_redraw_cb, &self);
	self.sigint_id = g_unix_signal_add(SIGINT, fleet_cli_push_sigint_cb, &self);

	fleet_job_queue_start(self.queue);
	if (fleet_job_queue_get_running(self.queue))
		g_main_loop_run(self.loop);

	fleet_cli_push_tty_echo(&self, TRUE);
	g_clear_handle_id(&self.sigint_id, g_source_remove);
	if (self.redraw_id != 0) {
		fleet_cli_push_redraw_cb(&self);
		g_clear_handle_id(&self.redraw_id, g_source_remove);
	}
	if (json)
		fleet_cli_push_print_json(&self);
	else
		fleet_cli_push_print_summary(&self);

	{
		gboolean ok = fleet_cli_push_all_good(&self);
		g_queue_clear_full(&self.prompts, g_object_unref);
		g_clear_object(&self.prompting);
		g_clear_object(&self.tty_in);
		if (self.tty_fd >= 0)
			close(self.tty_fd);
		g_hash_table_unref(self.last_phase);
		g_object_unref(self.queue);
		g_main_loop_unref(self.loop);
		return ok ? FLEET_CLI_EXIT_OK : FLEET_CLI_EXIT_PROBLEM;
	}
}
