/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fleet-demo-fleet.c - simulated devices on this computer (espfleet-sim on loopback), added
 * by address, so that every feature can be tried without hardware
 *
 * GTK-free. Each group of devices is one espfleet-sim process (--count) bound to a loopback
 * address of its own, 127.A.B.n with A and B picked at random, so the standard ports fit
 * and two demo fleets never meet. Simulators on loopback do not announce themselves over
 * mDNS: they are added as manual devices with their HTTP port, which the engine asks for
 * GET /info. The simulators die with the app (PR_SET_PDEATHSIG) even if it crashes.
 */

#include "config.h"

#include "fleet-demo-fleet.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "fleet-error.h"

#define FLEET_DEMO_PROJECT "espfleet-demo"
#define FLEET_DEMO_RUNNING_VERSION "1.0.0"
#define FLEET_DEMO_NEXT_VERSION "1.1.0"
#define FLEET_DEMO_HTTP_PORT 8080
#define FLEET_DEMO_LOG_PORT 2323
#define FLEET_DEMO_STOP_GRACE_US (3 * G_USEC_PER_SEC)

typedef struct {
	const gchar *prefix; /* devices are <prefix>-1 … <prefix>-N */
	const gchar *chip;
	guint16 ota_port;
	guint count;
	gboolean password;
} FleetDemoGroup;

typedef struct {
	FleetDemoFleet *self; /* weak: the fleet outlives its watches (removed in stop) */
	gchar *prefix;
	GPid pid;
	guint watch_id;
} FleetDemoProcess;

struct _FleetDemoFleet {
	GObject parent_instance;
	gchar *simulator;
	gchar *dir;
	GFile *image;
	GPtrArray *processes; /* FleetDemoProcess */
	GPtrArray *device_ids;
	gchar *locked_name;
	guint count;
	gboolean stopping;
};

G_DEFINE_TYPE(FleetDemoFleet, fleet_demo_fleet, G_TYPE_OBJECT)

enum { SIGNAL_PROCESS_EXITED, N_SIGNALS };

static guint signals[N_SIGNALS];

static void
fleet_demo_process_free(FleetDemoProcess *process)
{
	g_clear_handle_id(&process->watch_id, g_source_remove);
	if (process->pid > 0)
		g_spawn_close_pid(process->pid);
	g_free(process->prefix);
	g_free(process);
}

static gboolean
fleet_demo_fleet_is_executable(const gchar *path)
{
	return path != NULL && g_file_test(path, G_FILE_TEST_IS_REGULAR) &&
	       g_file_test(path, G_FILE_TEST_IS_EXECUTABLE);
}

gchar *
fleet_demo_fleet_find_simulator(void)
{
	const gchar *env = g_getenv("ESPFLEET_SIM");
	g_autofree gchar *self_path = g_file_read_link("/proc/self/exe", NULL);
	g_autofree gchar *bindir_sim = g_build_filename(BINDIR, "espfleet-sim", NULL);

	if (env != NULL && env[0] != '\0')
		return fleet_demo_fleet_is_executable(env) ? g_strdup(env) : NULL;
	/* installed: both programs live in the same bindir */
	if (self_path != NULL) {
		g_autofree gchar *dir = g_path_get_dirname(self_path);
		g_autofree gchar *beside = g_build_filename(dir, "espfleet-sim", NULL);
		if (fleet_demo_fleet_is_executable(beside))
			return g_steal_pointer(&beside);
	}
#ifdef ESPFLEET_SIM_BUILD_PATH
	/* run from the build tree (./run demo) */
	if (self_path != NULL && g_str_has_prefix(self_path, ESPFLEET_BUILD_ROOT "/") &&
	    fleet_demo_fleet_is_executable(ESPFLEET_SIM_BUILD_PATH))
		return g_strdup(ESPFLEET_SIM_BUILD_PATH);
#endif
	if (fleet_demo_fleet_is_executable(bindir_sim))
		return g_steal_pointer(&bindir_sim);
	return g_find_program_in_path("espfleet-sim");
}

/* the simulators go when the app goes, whatever way it goes */
static void
fleet_demo_fleet_child_setup(gpointer user_data)
{
	prctl(PR_SET_PDEATHSIG, SIGTERM);
}

static void
fleet_demo_fleet_process_exited_cb(GPid pid, gint wait_status, gpointer user_data)
{
	FleetDemoProcess *process = user_data;
	FleetDemoFleet *self = process->self;

	process->watch_id = 0;
	g_spawn_close_pid(process->pid);
	process->pid = 0;
	if (!self->stopping)
		g_signal_emit(self, signals[SIGNAL_PROCESS_EXITED], 0, process->prefix,
			      wait_status);
}

/* a loopback address whose usual device ports are free */
static gchar *
fleet_demo_fleet_pick_network(GError **error)
{
	for (guint attempt = 0; attempt < 8; attempt++) {
		g_autofree gchar *address = g_strdup_printf(
		    "127.%u.%u.1", g_random_int_range(16, 250), g_random_int_range(1, 250));
		g_autoptr(GInetAddress) inet = g_inet_address_new_from_string(address);
		g_autoptr(GSocketAddress) sockaddr =
		    g_inet_socket_address_new(inet, FLEET_DEMO_HTTP_PORT);
		g_autoptr(GSocket) socket = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
							 G_SOCKET_PROTOCOL_TCP, error);
		if (socket == NULL)
			return NULL;
		if (g_socket_bind(socket, sockaddr, FALSE, NULL)) {
			g_autofree gchar *prefix = g_strndup(address, strlen(address) - 1);
			return g_steal_pointer(&prefix);
		}
	}
	g_set_error_literal(error, FLEET_ERROR, FLEET_ERROR_NETWORK,
			    _("No free loopback address for the demo devices"));
	return NULL;
}

static gboolean
fleet_demo_fleet_spawn(FleetDemoFleet *self,
		       const FleetDemoGroup *group,
		       const gchar *address,
		       const gchar *password_file,
		       gint log_fd,
		       GError **error)
{
	g_autofree gchar *count = g_strdup_printf("%u", group->count);
	g_autofree gchar *state_dir = g_build_filename(self->dir, "state", NULL);
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
	g_auto(GStrv) argv = NULL;
	FleetDemoProcess *process;
	GPid pid = 0;

	g_strv_builder_add_many(builder, self->simulator, "--name", group->prefix, "--count", count,
				"--chip", group->chip, "--bind", address, "--state-dir", state_dir,
				"--project", FLEET_DEMO_PROJECT, "--fw-version",
				FLEET_DEMO_RUNNING_VERSION, "--quiet", NULL);
	if (group->password)
		g_strv_builder_add_many(builder, "--password-file", password_file, "--auth", "md5",
					NULL);
	argv = g_strv_builder_end(builder);
	if (!g_spawn_async_with_fds(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
				    fleet_demo_fleet_child_setup, NULL, &pid, -1, log_fd, log_fd,
				    error)) {
		g_prefix_error(error, _("Could not start the device simulator: "));
		return FALSE;
	}
	process = g_new0(FleetDemoProcess, 1);
	process->self = self;
	process->prefix = g_strdup(group->prefix);
	process->pid = pid;
	process->watch_id = g_child_watch_add(pid, fleet_demo_fleet_process_exited_cb, process);
	g_ptr_array_add(self->processes, process);
	return TRUE;
}

static gboolean
fleet_demo_fleet_make_image(FleetDemoFleet *self, GError **error)
{
	g_autofree gchar *path = g_build_filename(
	    self->dir, FLEET_DEMO_PROJECT "-" FLEET_DEMO_NEXT_VERSION ".bin", NULL);
	g_autofree gchar *err = NULL;
	const gchar *argv[] = {self->simulator,
			       "--make-image",
			       path,
			       "--chip",
			       "esp32",
			       "--project",
			       FLEET_DEMO_PROJECT,
			       "--fw-version",
			       FLEET_DEMO_NEXT_VERSION,
			       NULL};
	gint status = 0;

	if (!g_spawn_sync(NULL, (gchar **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
			  &err, &status, error))
		return FALSE;
	if (!g_spawn_check_wait_status(status, error)) {
		g_prefix_error(error, "%s: ", err != NULL ? g_strstrip(err) : "espfleet-sim");
		return FALSE;
	}
	self->image = g_file_new_for_path(path);
	return TRUE;
}

static gboolean
fleet_demo_fleet_add_devices(FleetDemoFleet *self,
			     FleetDiscovery *discovery,
			     const FleetDemoGroup *group,
			     const gchar *address,
			     GError **error)
{
	for (guint i = 0; i < group->count; i++) {
		g_autofree gchar *name = g_strdup_printf("%s-%u", group->prefix, i + 1);
		FleetDevice *device = fleet_discovery_add_manual(
		    discovery, address, FLEET_PROTOCOL_ESPOTA, group->ota_port + i, error);
		if (device == NULL)
			return FALSE;
		/* what the simulator offers besides espota: its web updater and GET /info */
		fleet_device_set_name(device, name);
		fleet_device_set_http_port(device, (guint16)(FLEET_DEMO_HTTP_PORT + i));
		fleet_device_set_http_path(device, "/update");
		fleet_device_set_log_port(device, (guint16)(FLEET_DEMO_LOG_PORT + i));
		fleet_device_set_protocols(device, FLEET_PROTOCOL_ESPOTA | FLEET_PROTOCOL_HTTP);
		g_ptr_array_add(self->device_ids, g_strdup(fleet_device_get_id(device)));
		if (group->password && self->locked_name == NULL)
			self->locked_name = g_strdup(name);
	}
	return TRUE;
}

gboolean
fleet_demo_fleet_start(FleetDemoFleet *self, FleetDiscovery *discovery, guint count, GError **error)
{
	g_autofree gchar *network = NULL;
	g_autofree gchar *password_file = NULL;
	g_autofree gchar *log_path = NULL;
	FleetDemoGroup groups[] = {
	    {"demo-esp32", "esp32", 3232, 0, FALSE},
	    {"demo-esp8266", "esp8266", 8266, 0, FALSE},
	    {"demo-locked", "esp32", 3232, 0, TRUE},
	};
	gint log_fd;

	g_return_val_if_fail(FLEET_IS_DEMO_FLEET(self), FALSE);
	g_return_val_if_fail(FLEET_IS_DISCOVERY(discovery), FALSE);
	g_return_val_if_fail(self->dir == NULL, FALSE);

	count = CLAMP(count, 1, 1024);
	groups[2].count = count >= 2 ? 1 : 0;
	groups[1].count = count >= 3 ? 1 : 0;
	groups[0].count = count - groups[1].count - groups[2].count;

	network = fleet_demo_fleet_pick_network(error);
	if (network == NULL)
		return FALSE;
	self->dir = g_dir_make_tmp("espfleet-demo-XXXXXX", error);
	if (self->dir == NULL)
		return FALSE;
	password_file = g_build_filename(self->dir, "password", NULL);
	if (!g_file_set_contents_full(password_file, FLEET_DEMO_FLEET_PASSWORD "\n", -1,
				      G_FILE_SET_CONTENTS_NONE, 0600, error))
		return FALSE;
	if (!fleet_demo_fleet_make_image(self, error))
		return FALSE;

	log_path = g_build_filename(self->dir, "simulators.log", NULL);
	log_fd = g_open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (log_fd < 0) {
		g_set_error(error, FLEET_ERROR, FLEET_ERROR_READ, "%s: %s", log_path,
			    g_strerror(errno));
		return FALSE;
	}
	for (gsize i = 0; i < G_N_ELEMENTS(groups); i++) {
		g_autofree gchar *address = g_strdup_printf("%s%zu", network, i + 1);
		if (groups[i].count == 0)
			continue;
		if (!fleet_demo_fleet_spawn(self, &groups[i], address, password_file, log_fd,
					    error) ||
		    !fleet_demo_fleet_add_devices(self, discovery, &groups[i], address, error)) {
			g_close(log_fd, NULL);
			fleet_demo_fleet_stop(self, discovery);
			return FALSE;
		}
	}
	g_close(log_fd, NULL);
	self->count = count;
	return TRUE;
}

/* SIGTERM lets a simulator write its flash back; SIGKILL only when it does not end */
static void
fleet_demo_fleet_stop_processes(FleetDemoFleet *self)
{
	gint64 deadline = g_get_monotonic_time() + FLEET_DEMO_STOP_GRACE_US;

	for (guint i = 0; i < self->processes->len; i++) {
		FleetDemoProcess *process = g_ptr_array_index(self->processes, i);
		/* from here on this code reaps the child, not GLib */
		g_clear_handle_id(&process->watch_id, g_source_remove);
		if (process->pid > 0)
			kill(process->pid, SIGTERM);
	}
	for (guint i = 0; i < self->processes->len; i++) {
		FleetDemoProcess *process = g_ptr_array_index(self->processes, i);
		while (process->pid > 0) {
			pid_t rc = waitpid(process->pid, NULL, WNOHANG);
			if (rc == process->pid || (rc < 0 && errno != EINTR)) {
				g_spawn_close_pid(process->pid);
				process->pid = 0;
				break;
			}
			if (g_get_monotonic_time() > deadline) {
				kill(process->pid, SIGKILL);
				waitpid(process->pid, NULL, 0);
				g_spawn_close_pid(process->pid);
				process->pid = 0;
				break;
			}
			g_usleep(10 * 1000);
		}
	}
	g_ptr_array_set_size(self->processes, 0);
}

static void
fleet_demo_fleet_remove_tree(GFile *file)
{
	g_autoptr(GFileEnumerator) children = g_file_enumerate_children(
	    file, G_FILE_ATTRIBUTE_STANDARD_NAME "," G_FILE_ATTRIBUTE_STANDARD_TYPE,
	    G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
	if (children != NULL) {
		while (TRUE) {
			GFileInfo *info = NULL;
			GFile *child = NULL;
			if (!g_file_enumerator_iterate(children, &info, &child, NULL, NULL) ||
			    info == NULL)
				break;
			if (g_file_info_get_file_type(info) == G_FILE_TYPE_DIRECTORY)
				fleet_demo_fleet_remove_tree(child);
			else
				g_file_delete(child, NULL, NULL);
		}
	}
	g_file_delete(file, NULL, NULL);
}

void
fleet_demo_fleet_stop(FleetDemoFleet *self, FleetDiscovery *discovery)
{
	g_return_if_fail(FLEET_IS_DEMO_FLEET(self));

	self->stopping = TRUE;
	fleet_demo_fleet_stop_processes(self);
	if (discovery != NULL) {
		for (guint i = 0; i < self->device_ids->len; i++)
			fleet_discovery_remove_manual(discovery,
						      g_ptr_array_index(self->device_ids, i), NULL);
	}
	g_ptr_array_set_size(self->device_ids, 0);
	if (self->dir != NULL) {
		g_autoptr(GFile) dir = g_file_new_for_path(self->dir);
		fleet_demo_fleet_remove_tree(dir);
		g_clear_pointer(&self->dir, g_free);
	}
	g_clear_object(&self->image);
	g_clear_pointer(&self->locked_name, g_free);
	self->count = 0;
	self->stopping = FALSE;
}

GFile *
fleet_demo_fleet_get_image(FleetDemoFleet *self)
{
	g_return_val_if_fail(FLEET_IS_DEMO_FLEET(self), NULL);
	return self->image;
}

guint
fleet_demo_fleet_get_count(FleetDemoFleet *self)
{
	g_return_val_if_fail(FLEET_IS_DEMO_FLEET(self), 0);
	return self->count;
}

gboolean
fleet_demo_fleet_get_running(FleetDemoFleet *self)
{
	g_return_val_if_fail(FLEET_IS_DEMO_FLEET(self), FALSE);
	return self->processes->len > 0;
}

const gchar *
fleet_demo_fleet_get_locked_name(FleetDemoFleet *self)
{
	g_return_val_if_fail(FLEET_IS_DEMO_FLEET(self), NULL);
	return self->locked_name;
}

static void
fleet_demo_fleet_dispose(GObject *object)
{
	FleetDemoFleet *self = FLEET_DEMO_FLEET(object);
	if (self->processes->len > 0 || self->dir != NULL)
		fleet_demo_fleet_stop(self, NULL);
	G_OBJECT_CLASS(fleet_demo_fleet_parent_class)->dispose(object);
}

static void
fleet_demo_fleet_finalize(GObject *object)
{
	FleetDemoFleet *self = FLEET_DEMO_FLEET(object);
	g_ptr_array_unref(self->processes);
	g_ptr_array_unref(self->device_ids);
	g_free(self->simulator);
	G_OBJECT_CLASS(fleet_demo_fleet_parent_class)->finalize(object);
}

static void
fleet_demo_fleet_class_init(FleetDemoFleetClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = fleet_demo_fleet_dispose;
	object_class->finalize = fleet_demo_fleet_finalize;

	/* a simulator process ended on its own: (const gchar *group, gint wait_status) */
	signals[SIGNAL_PROCESS_EXITED] =
	    g_signal_new("process-exited", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
			 NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_INT);
}

static void
fleet_demo_fleet_init(FleetDemoFleet *self)
{
	self->processes = g_ptr_array_new_with_free_func((GDestroyNotify)fleet_demo_process_free);
	self->device_ids = g_ptr_array_new_with_free_func(g_free);
}

FleetDemoFleet *
fleet_demo_fleet_new(const gchar *simulator)
{
	FleetDemoFleet *self;
	g_return_val_if_fail(simulator != NULL, NULL);
	self = g_object_new(FLEET_TYPE_DEMO_FLEET, NULL);
	self->simulator = g_strdup(simulator);
	return self;
}
