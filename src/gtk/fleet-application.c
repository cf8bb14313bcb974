/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-application.c - the espfleet GtkApplication: actions, settings, the chosen image */

#include "config.h"

#include "fleet-application.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

#include "fleet-window.h"

/* how many entries the "recent-images" setting keeps (its schema description says so too) */
#define FLEET_RECENT_IMAGES_MAX 10

struct _FleetApplication {
	GtkApplication parent_instance;
	GSettings *settings;
	GCancellable *load_cancellable; /* of the image being loaded, NULL when idle */
	FleetImage *image;		/* the chosen image, NULL until one was loaded */
	GtkFileChooserNative *chooser;	/* while the file chooser is open */
};

G_DEFINE_TYPE(FleetApplication, fleet_application, GTK_TYPE_APPLICATION)

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
	GtkWindow *window = gtk_application_get_active_window(GTK_APPLICATION(self));
	if (window == NULL || !FLEET_IS_WINDOW(window))
		return NULL;
	return FLEET_WINDOW(window);
}

static FleetWindow *
fleet_application_ensure_window(FleetApplication *self)
{
	FleetWindow *window = fleet_application_get_window(self);
	if (window == NULL)
		window = fleet_window_new(self);
	return window;
}

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
	g_autoptr(JsonGenerator) generator = json_generator_new();
	g_autoptr(JsonNode) root = NULL;
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
	json_builder_set_member_name(builder, "file");
	json_builder_add_string_value(builder, id);
	json_builder_set_member_name(builder, "sha256");
	json_builder_add_string_value(builder, fleet_image_get_sha256(image));
	json_builder_set_member_name(builder, "chip");
	json_builder_add_string_value(builder, fleet_image_get_chip(image));
	json_builder_set_member_name(builder, "version");
	if (fleet_image_get_version(image) != NULL)
		json_builder_add_string_value(builder, fleet_image_get_version(image));
	else
		json_builder_add_null_value(builder);
	json_builder_set_member_name(builder, "usable");
	json_builder_add_boolean_value(builder, !fleet_image_has_errors(image));
	json_builder_set_member_name(builder, "errors");
	json_builder_add_int_value(builder, errors);
	json_builder_set_member_name(builder, "warnings");
	json_builder_add_int_value(builder, warnings);
	json_builder_end_object(builder);

	root = json_builder_get_root(builder);
	json_generator_set_root(generator, root);
	return json_generator_to_data(generator, NULL);
}

static void
fleet_application_set_image(FleetApplication *self, FleetImage *image, GFile *file)
{
	g_autofree gchar *id = fleet_application_file_id(file);
	g_autofree gchar *json = fleet_application_image_report_json(image, id);
	GAction *action = g_action_map_lookup_action(G_ACTION_MAP(self), "image-report");
	FleetWindow *window = fleet_application_get_window(self);

	g_set_object(&self->image, image);
	fleet_application_add_recent(self, id);
	if (window != NULL)
		fleet_window_show_image(window, image, file);
	/* last, so that a test that sees the new state also sees the window showing it */
	g_simple_action_set_state(G_SIMPLE_ACTION(action), g_variant_new_string(json));
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
		g_debug("%s: %s", name, error->message);
		if (window != NULL)
			fleet_window_show_error(window, title, error->message);
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
fleet_application_quit_cb(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	FleetApplication *self = FLEET_APPLICATION(user_data);
	GList *windows = gtk_application_get_windows(GTK_APPLICATION(self));

	/* destroying the windows lets them save their size; the last one ends the app */
	while (windows != NULL) {
		GtkWidget *window = windows->data;
		windows = windows->next;
		gtk_widget_destroy(window);
	}
	g_application_quit(G_APPLICATION(self));
}

/* app.image-report is read-only: tests and other observers must not set it */
static void
fleet_application_image_report_change_cb(GSimpleAction *action, GVariant *value, gpointer user_data)
{
}

static const GActionEntry fleet_application_actions[] = {
    {"open-image", fleet_application_open_image_cb, "s", NULL, NULL, {0}},
    {"open", fleet_application_open_cb, NULL, NULL, NULL, {0}},
    {"about", fleet_application_about_cb, NULL, NULL, NULL, {0}},
    {"shortcuts", fleet_application_shortcuts_cb, NULL, NULL, NULL, {0}},
    {"quit", fleet_application_quit_cb, NULL, NULL, NULL, {0}},
    {"image-report", NULL, NULL, "''", fleet_application_image_report_change_cb, {0}},
};

static void
fleet_application_startup(GApplication *application)
{
	FleetApplication *self = FLEET_APPLICATION(application);
	g_autoptr(GtkCssProvider) css = gtk_css_provider_new();
	const gchar *open_accels[] = {"<Primary>o", NULL};
	const gchar *quit_accels[] = {"<Primary>q", NULL};
	const gchar *shortcuts_accels[] = {"<Primary>question", NULL};
	const gchar *no_accels[] = {NULL};

	G_APPLICATION_CLASS(fleet_application_parent_class)->startup(application);

	g_set_application_name(_("ESP Fleet Updater"));
	gtk_window_set_default_icon_name(APP_ID);
	self->settings = g_settings_new(APP_ID);

	g_action_map_add_action_entries(G_ACTION_MAP(self), fleet_application_actions,
					G_N_ELEMENTS(fleet_application_actions), self);
	gtk_application_set_accels_for_action(GTK_APPLICATION(self), "app.open", open_accels);
	gtk_application_set_accels_for_action(GTK_APPLICATION(self), "app.quit", quit_accels);
	gtk_application_set_accels_for_action(GTK_APPLICATION(self), "app.shortcuts",
					      shortcuts_accels);
	/* GtkApplication binds Ctrl+? to win.show-help-overlay itself; app.shortcuts owns it */
	gtk_application_set_accels_for_action(GTK_APPLICATION(self), "win.show-help-overlay",
					      no_accels);

	gtk_css_provider_load_from_resource(css, "/io/github/espfleet/EspFleet/fleet.css");
	gtk_style_context_add_provider_for_screen(gdk_screen_get_default(), GTK_STYLE_PROVIDER(css),
						  GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
}

static void
fleet_application_activate(GApplication *application)
{
	FleetApplication *self = FLEET_APPLICATION(application);
	gtk_window_present(GTK_WINDOW(fleet_application_ensure_window(self)));
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

static void
fleet_application_shutdown(GApplication *application)
{
	FleetApplication *self = FLEET_APPLICATION(application);
	if (self->load_cancellable != NULL)
		g_cancellable_cancel(self->load_cancellable);
	if (self->chooser != NULL)
		gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(self->chooser));
	G_APPLICATION_CLASS(fleet_application_parent_class)->shutdown(application);
}

static void
fleet_application_dispose(GObject *object)
{
	FleetApplication *self = FLEET_APPLICATION(object);
	g_clear_object(&self->chooser);
	g_clear_object(&self->load_cancellable);
	g_clear_object(&self->image);
	g_clear_object(&self->settings);
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
	application_class->shutdown = fleet_application_shutdown;
}

static void
fleet_application_init(FleetApplication *self)
{
}

GSettings *
fleet_application_get_settings(FleetApplication *self)
{
	g_return_val_if_fail(FLEET_IS_APPLICATION(self), NULL);
	return self->settings;
}

FleetApplication *
fleet_application_new(void)
{
	return g_object_new(FLEET_TYPE_APPLICATION, "application-id", APP_ID, "flags",
			    G_APPLICATION_HANDLES_OPEN, NULL);
}
