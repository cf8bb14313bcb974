/* SPDX-License-Identifier: GPL-3.0-or-later */
/* check-log-hub.c - per-device rings with the drop count, the hub's batches and merged
 * views, filters, the folder recorder, and update transcripts as a log source */

#include <check.h>
#include <glib/gstdio.h>
#include <string.h>

#include "fleet-check-run.h"
#include "fleet-error.h"
#include "fleet-image.h"
#include "fleet-log-buffer.h"
#include "fleet-log-filter.h"
#include "fleet-log-hub.h"
#include "fleet-log-recorder.h"
#include "fleet-log-source-jobs.h"
#include "fleet-test-images.h"
#include "fleet-transport-espota.h"

static FleetLogLine *
line_for(const gchar *device, const gchar *text)
{
	return fleet_log_line_parse(device, g_get_real_time(), (const guint8 *)text, strlen(text));
}

static GPtrArray *
lines_new(void)
{
	return g_ptr_array_new_with_free_func((GDestroyNotify)fleet_log_line_unref);
}

START_TEST(test_buffer_ring)
{
	g_autoptr(FleetLogBuffer) buffer = fleet_log_buffer_new("d", 10);
	ck_assert_uint_eq(fleet_log_buffer_get_capacity(buffer), FLEET_LOG_BUFFER_CAPACITY_MIN);
	ck_assert_str_eq(fleet_log_buffer_get_device_id(buffer), "d");
	for (guint i = 1; i <= 250; i++) {
		g_autofree gchar *text = g_strdup_printf("line %u", i);
		g_autoptr(FleetLogLine) line = line_for("d", text);
		fleet_log_line_set_seq(line, i * 2);
		ck_assert(fleet_log_buffer_append(buffer, line) == (i > 100));
	}
	ck_assert_uint_eq(fleet_log_buffer_get_n_lines(buffer), 100);
	ck_assert_uint_eq(fleet_log_buffer_get_n_dropped(buffer), 150);
	ck_assert_uint_eq(fleet_log_buffer_get_n_total(buffer), 250);
	ck_assert_str_eq(fleet_log_line_get_text(fleet_log_buffer_get_line(buffer, 0)), "line 151");
	ck_assert_str_eq(fleet_log_line_get_text(fleet_log_buffer_get_line(buffer, 99)),
			 "line 250");
	/* binary search by sequence number */
	ck_assert_uint_eq(fleet_log_buffer_find_after(buffer, 0), 0);
	ck_assert_uint_eq(fleet_log_buffer_find_after(buffer, 301), 0);
	ck_assert_uint_eq(fleet_log_buffer_find_after(buffer, 302), 1);
	ck_assert_uint_eq(fleet_log_buffer_find_after(buffer, 303), 1);
	ck_assert_uint_eq(fleet_log_buffer_find_after(buffer, 304), 2);
	ck_assert_uint_eq(fleet_log_buffer_find_after(buffer, 500), 100);

	/* a bigger ring keeps everything, a smaller one drops the oldest at once */
	fleet_log_buffer_set_capacity(buffer, 1000);
	for (guint i = 251; i <= 400; i++) {
		g_autofree gchar *text = g_strdup_printf("line %u", i);
		g_autoptr(FleetLogLine) line = line_for("d", text);
		ck_assert(!fleet_log_buffer_append(buffer, line));
	}
	ck_assert_uint_eq(fleet_log_buffer_get_n_lines(buffer), 250);
	ck_assert_str_eq(fleet_log_line_get_text(fleet_log_buffer_get_line(buffer, 0)), "line 151");
	fleet_log_buffer_set_capacity(buffer, 120);
	ck_assert_uint_eq(fleet_log_buffer_get_n_lines(buffer), 120);
	ck_assert_uint_eq(fleet_log_buffer_get_n_dropped(buffer), 280);
	ck_assert_str_eq(fleet_log_line_get_text(fleet_log_buffer_get_line(buffer, 0)), "line 281");
	ck_assert_str_eq(fleet_log_line_get_text(fleet_log_buffer_get_line(buffer, 119)),
			 "line 400");
	fleet_log_buffer_clear(buffer);
	ck_assert_uint_eq(fleet_log_buffer_get_n_lines(buffer), 0);
	ck_assert_uint_eq(fleet_log_buffer_get_n_dropped(buffer), 0);
}
END_TEST

typedef struct {
	guint batches;
	guint lines;
	guint64 last_seq;
	gboolean ordered;
	GPtrArray *devices_added;
	guint cleared;
	GMainLoop *loop;
} HubSpy;

static void
spy_lines_cb(FleetLogHub *hub, GPtrArray *lines, gpointer user_data)
{
	HubSpy *spy = user_data;
	spy->batches++;
	for (guint i = 0; i < lines->len; i++) {
		guint64 seq = fleet_log_line_get_seq(g_ptr_array_index(lines, i));
		if (seq != spy->last_seq + 1)
			spy->ordered = FALSE;
		spy->last_seq = seq;
	}
	spy->lines += lines->len;
	if (spy->loop != NULL)
		g_main_loop_quit(spy->loop);
}

static void
spy_device_cb(FleetLogHub *hub, const gchar *id, gpointer user_data)
{
	HubSpy *spy = user_data;
	g_ptr_array_add(spy->devices_added, g_strdup(id));
}

static void
spy_cleared_cb(FleetLogHub *hub, gpointer user_data)
{
	((HubSpy *)user_data)->cleared++;
}

static gboolean
quit_cb(gpointer user_data)
{
	g_main_loop_quit(user_data);
	return G_SOURCE_REMOVE;
}

START_TEST(test_hub_batches)
{
	g_autoptr(FleetLogHub) hub = fleet_log_hub_new();
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	HubSpy spy = {0, 0, 0, TRUE, g_ptr_array_new_with_free_func(g_free), 0, loop};
	gint64 start;

	g_signal_connect(hub, "lines-added", G_CALLBACK(spy_lines_cb), &spy);
	g_signal_connect(hub, "device-added", G_CALLBACK(spy_device_cb), &spy);
	/* 20 devices × 50 source batches arrive within one batch interval: one ::lines-added */
	for (guint round = 0; round < 50; round++) {
		for (guint d = 0; d < 20; d++) {
			g_autoptr(GPtrArray) lines = lines_new();
			g_autofree gchar *id = g_strdup_printf("mac:%02u", d);
			for (guint k = 0; k < 4; k++)
				g_ptr_array_add(lines, line_for(id, "I (1) flood: x"));
			fleet_log_hub_ingest(hub, lines);
		}
	}
	ck_assert_uint_eq(spy.batches, 0);
	ck_assert_uint_eq(fleet_log_hub_get_n_lines(hub), 4000);
	start = g_get_monotonic_time();
	g_timeout_add(2000, quit_cb, loop);
	g_main_loop_run(loop);
	ck_assert_uint_eq(spy.batches, 1);
	ck_assert_uint_eq(spy.lines, 4000);
	ck_assert(spy.ordered);
	ck_assert_int_lt(g_get_monotonic_time() - start, 1000 * 1000);
	ck_assert_uint_eq(spy.devices_added->len, 20);
	ck_assert_str_eq(g_ptr_array_index(spy.devices_added, 3), "mac:03");
	ck_assert_uint_eq(fleet_log_buffer_get_n_lines(fleet_log_hub_get_buffer(hub, "mac:07")),
			  200);
	ck_assert_uint_eq(fleet_log_hub_get_last_seq(hub), 4000);

	/* interval 0: every ingest is delivered at once */
	fleet_log_hub_set_batch_interval(hub, 0);
	{
		g_autoptr(GPtrArray) lines = lines_new();
		g_ptr_array_add(lines, line_for("mac:00", "now"));
		fleet_log_hub_ingest(hub, lines);
	}
	ck_assert_uint_eq(spy.batches, 2);

	fleet_log_hub_clear(hub);
	g_signal_connect(hub, "cleared", G_CALLBACK(spy_cleared_cb), &spy);
	fleet_log_hub_clear(hub);
	ck_assert_uint_eq(spy.cleared, 1);
	ck_assert_uint_eq(fleet_log_buffer_get_n_lines(fleet_log_hub_get_buffer(hub, "mac:07")), 0);
	g_ptr_array_unref(spy.devices_added);
}
END_TEST

START_TEST(test_hub_collect)
{
	g_autoptr(FleetLogHub) hub = fleet_log_hub_new();
	g_autoptr(FleetLogFilter) filter = fleet_log_filter_new();
	g_autoptr(GPtrArray) all = NULL;
	g_autoptr(GPtrArray) some = NULL;
	g_autoptr(GPtrArray) last = NULL;
	g_autoptr(GPtrArray) none = NULL;
	g_auto(GStrv) ids = NULL;
	const gchar *const two[] = {"b", "c", NULL};
	guint64 dropped = 0;

	fleet_log_hub_set_ring_lines(hub, 100);
	ck_assert_uint_eq(fleet_log_hub_get_ring_lines(hub), 100);
	/* a, b, c interleaved unevenly; a overflows its ring */
	for (guint i = 0; i < 300; i++) {
		g_autoptr(GPtrArray) lines = lines_new();
		const gchar *dev = i % 5 == 0 ? "b" : i % 7 == 0 ? "c" : "a";
		g_autofree gchar *text = g_strdup_printf("I (%u) t%u: n=%u", i, i % 3, i);
		g_ptr_array_add(lines, line_for(dev, text));
		fleet_log_hub_ingest(hub, lines);
	}
	ids = fleet_log_hub_dup_device_ids(hub);
	ck_assert_uint_eq(g_strv_length(ids), 3);
	ck_assert_str_eq(ids[0], "b");
	ck_assert_str_eq(ids[1], "a");
	ck_assert_str_eq(ids[2], "c");

	all = fleet_log_hub_collect(hub, NULL, 0, &dropped);
	/* a had 206 lines: 60 are b's, 34 c's */
	ck_assert_uint_eq(fleet_log_buffer_get_n_dropped(fleet_log_hub_get_buffer(hub, "a")), 106);
	ck_assert_uint_eq(dropped, 106);
	ck_assert_uint_eq(all->len, 300 - 106);
	for (guint i = 1; i < all->len; i++)
		ck_assert_uint_lt(fleet_log_line_get_seq(g_ptr_array_index(all, i - 1)),
				  fleet_log_line_get_seq(g_ptr_array_index(all, i)));

	/* a merged view of two devices, filtered, the newest 10 */
	fleet_log_filter_set_devices(filter, two);
	fleet_log_filter_set_tag(filter, "t1");
	some = fleet_log_hub_collect(hub, filter, 0, &dropped);
	ck_assert_uint_eq(dropped, 0);
	for (guint i = 0; i < some->len; i++) {
		FleetLogLine *line = g_ptr_array_index(some, i);
		ck_assert(g_strcmp0(fleet_log_line_get_device_id(line), "a") != 0);
		ck_assert_str_eq(fleet_log_line_get_tag(line), "t1");
	}
	ck_assert_uint_eq(some->len, 31);
	last = fleet_log_hub_collect(hub, filter, 10, NULL);
	ck_assert_uint_eq(last->len, 10);
	ck_assert_ptr_eq(g_ptr_array_index(last, 9), g_ptr_array_index(some, some->len - 1));
	ck_assert_ptr_eq(g_ptr_array_index(last, 0), g_ptr_array_index(some, some->len - 10));
	fleet_log_filter_set_text(filter, "n=299", FALSE, FALSE, NULL);
	none = fleet_log_hub_collect(hub, filter, 0, NULL);
	ck_assert_uint_eq(none->len, 0);
}
END_TEST

START_TEST(test_hub_secrets_and_names)
{
	g_autoptr(FleetLogHub) hub = fleet_log_hub_new();
	g_autoptr(FleetDeviceList) devices = fleet_device_list_new();
	g_autoptr(FleetDevice) dev =
	    fleet_device_new("mac:aa:bb:cc:dd:ee:ff", FLEET_DEVICE_SOURCE_MDNS);
	g_autoptr(GPtrArray) lines = lines_new();
	g_autoptr(GPtrArray) got = NULL;
	g_autofree gchar *n1 = NULL;
	g_autofree gchar *n2 = NULL;
	g_autofree gchar *n3 = NULL;
	g_autofree gchar *n4 = NULL;
	g_autofree gchar *n5 = NULL;
	g_autofree gchar *n6 = NULL;

	fleet_device_set_name(dev, "esp-lab-1");
	fleet_device_list_add(devices, dev);
	fleet_log_hub_set_devices(hub, devices, FALSE);
	ck_assert_ptr_eq(fleet_log_hub_get_devices(hub), devices);
	fleet_log_hub_add_secret(hub, "hunter2");
	fleet_log_hub_add_secret(hub, "hunter2");
	fleet_log_hub_add_secret(hub, "");
	g_ptr_array_add(lines, line_for("mac:aa:bb:cc:dd:ee:ff", "W (1) app: wifi pass hunter2"));
	fleet_log_hub_ingest(hub, lines);
	got = fleet_log_hub_collect(hub, NULL, 0, NULL);
	ck_assert_str_eq(fleet_log_line_get_text(g_ptr_array_index(got, 0)),
			 "W (1) app: wifi pass *******");

	n1 = fleet_log_hub_dup_display_name(hub, "mac:aa:bb:cc:dd:ee:ff");
	n2 = fleet_log_hub_dup_display_name(hub, "serial:/dev/ttyUSB0");
	n3 = fleet_log_hub_dup_display_name(hub, "syslog:198.18.1.5");
	n4 = fleet_log_hub_dup_display_name(hub, "addr:fe80::1:2323");
	n5 = fleet_log_hub_dup_display_name(hub, "name:esp-x");
	n6 = fleet_log_hub_dup_display_name(hub, "mac:11:22:33:44:55:66");
	ck_assert_str_eq(n1, "esp-lab-1");
	ck_assert_str_eq(n2, "ttyUSB0");
	ck_assert_str_eq(n3, "198.18.1.5");
	ck_assert_str_eq(n4, "[fe80::1]:2323");
	ck_assert_str_eq(n5, "esp-x");
	ck_assert_str_eq(n6, "mac:11:22:33:44:55:66");
	fleet_log_hub_set_devices(hub, NULL, FALSE);
}
END_TEST

START_TEST(test_hub_follow)
{
	g_autoptr(FleetLogHub) hub = fleet_log_hub_new();
	g_autoptr(FleetDeviceList) devices = fleet_device_list_new();
	g_autoptr(FleetDevice) with_port = fleet_device_new("name:a", FLEET_DEVICE_SOURCE_MDNS);
	g_autoptr(FleetDevice) later = fleet_device_new("name:b", FLEET_DEVICE_SOURCE_MDNS);
	GListModel *sources = fleet_log_hub_get_sources(hub);

	fleet_device_set_log_port(with_port, 2323);
	fleet_device_list_add(devices, with_port);
	fleet_device_list_add(devices, later);
	fleet_log_hub_set_devices(hub, devices, TRUE);
	/* one TCP source per device that announces a log port, none for the other yet */
	ck_assert_uint_eq(g_list_model_get_n_items(sources), 1);
	ck_assert_ptr_nonnull(fleet_log_hub_find_source(hub, "name:a"));
	ck_assert_ptr_null(fleet_log_hub_find_source(hub, "name:b"));
	fleet_device_set_log_port(later, 2324);
	ck_assert_uint_eq(g_list_model_get_n_items(sources), 2);
	/* a device that leaves takes its source along */
	fleet_device_list_remove(devices, with_port);
	ck_assert_uint_eq(g_list_model_get_n_items(sources), 1);
	ck_assert_ptr_null(fleet_log_hub_find_source(hub, "name:a"));
	fleet_log_hub_set_devices(hub, NULL, FALSE);
	ck_assert_uint_eq(g_list_model_get_n_items(sources), 0);
}
END_TEST

START_TEST(test_filter)
{
	g_autoptr(FleetLogFilter) filter = fleet_log_filter_new();
	g_autoptr(FleetLogLine) err = line_for("a", "E (1) ota: Image CHECK failed");
	g_autoptr(FleetLogLine) info = line_for("a", "I (2) wifi: got ip");
	g_autoptr(FleetLogLine) dbg = line_for("b", "D (3) wifi: scan done");
	g_autoptr(FleetLogLine) plain = line_for("b", "ets Jun  8 2016 rst:0x1");
	g_autoptr(FleetLogLine) umlaut = line_for("b", "I (4) ui: GRÜSSE aus Köln");
	g_autoptr(FleetLogLine) event = fleet_log_line_new_event(
	    "a", 0, FLEET_LOG_LINE_KIND_EVENT, FLEET_LOG_LEVEL_INFO, "reconnected");
	g_autoptr(GError) error = NULL;
	const gchar *const only_a[] = {"a", NULL};

	ck_assert(fleet_log_filter_is_empty(filter));
	ck_assert(fleet_log_filter_match(filter, dbg));
	/* level: lines without one pass unless strict; events always pass */
	fleet_log_filter_set_level(filter, FLEET_LOG_LEVEL_INFO, FALSE);
	ck_assert_int_eq(fleet_log_filter_get_level(filter), FLEET_LOG_LEVEL_INFO);
	ck_assert(fleet_log_filter_match(filter, err));
	ck_assert(fleet_log_filter_match(filter, info));
	ck_assert(!fleet_log_filter_match(filter, dbg));
	ck_assert(fleet_log_filter_match(filter, plain));
	fleet_log_filter_set_level(filter, FLEET_LOG_LEVEL_ERROR, TRUE);
	ck_assert(!fleet_log_filter_match(filter, plain));
	ck_assert(!fleet_log_filter_match(filter, info));
	ck_assert(fleet_log_filter_match(filter, event));
	fleet_log_filter_set_level(filter, FLEET_LOG_LEVEL_NONE, FALSE);

	/* text: case-insensitive by default, also beyond ASCII */
	ck_assert(fleet_log_filter_set_text(filter, "image check", FALSE, FALSE, NULL));
	ck_assert(fleet_log_filter_match(filter, err));
	ck_assert(!fleet_log_filter_match(filter, info));
	ck_assert(fleet_log_filter_set_text(filter, "image check", FALSE, TRUE, NULL));
	ck_assert(!fleet_log_filter_match(filter, err));
	ck_assert(fleet_log_filter_set_text(filter, "grüsse aus köln", FALSE, FALSE, NULL));
	ck_assert(fleet_log_filter_match(filter, umlaut));
	ck_assert(fleet_log_filter_set_text(filter, "^[EW] \\(\\d+\\) ota:", TRUE, FALSE, NULL));
	ck_assert(fleet_log_filter_match(filter, err));
	ck_assert(!fleet_log_filter_match(filter, info));
	/* a bad expression is refused and the filter stays as it was */
	ck_assert(!fleet_log_filter_set_text(filter, "([", TRUE, FALSE, &error));
	ck_assert(g_error_matches(error, FLEET_ERROR, FLEET_ERROR_INVALID_DATA));
	ck_assert(fleet_log_filter_match(filter, err));
	ck_assert(!fleet_log_filter_match(filter, event));
	ck_assert(fleet_log_filter_set_text(filter, NULL, FALSE, FALSE, NULL));

	/* tag and devices */
	fleet_log_filter_set_tag(filter, "wifi");
	ck_assert(fleet_log_filter_match(filter, info));
	ck_assert(!fleet_log_filter_match(filter, err));
	fleet_log_filter_set_tag(filter, "");
	ck_assert(fleet_log_filter_is_empty(filter));
	fleet_log_filter_set_devices(filter, only_a);
	ck_assert(fleet_log_filter_has_device(filter, "a"));
	ck_assert(!fleet_log_filter_has_device(filter, "b"));
	ck_assert(!fleet_log_filter_match(filter, dbg));
	ck_assert(fleet_log_filter_match(filter, event));
	ck_assert_str_eq(fleet_log_filter_get_devices(filter)[0], "a");
	fleet_log_filter_set_devices(filter, NULL);
	ck_assert(fleet_log_filter_is_empty(filter));
}
END_TEST

START_TEST(test_recorder)
{
	g_autoptr(FleetLogHub) hub = fleet_log_hub_new();
	g_autofree gchar *tmp = g_dir_make_tmp("fleet-rec-XXXXXX", NULL);
	g_autofree gchar *sub = g_build_filename(tmp, "logs", "today", NULL);
	g_autoptr(GFile) folder = g_file_new_for_path(sub);
	g_autoptr(FleetLogRecorder) rec = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *mac_file = g_build_filename(sub, "mac_aa-bb-cc-dd-ee-ff.log", NULL);
	g_autofree gchar *contents = NULL;
	g_autofree gchar *n1 = fleet_log_recorder_file_name("mac:aa:bb:cc:dd:ee:ff");
	g_autofree gchar *n2 = fleet_log_recorder_file_name("name:../../etc/passwd");
	g_autofree gchar *n3 = fleet_log_recorder_file_name("name:..");
	g_autofree gchar *n4 = fleet_log_recorder_file_name("name:a/b");
	g_autofree gchar *n5 = fleet_log_recorder_file_name("name:a_b");
	g_autofree gchar *n6 = fleet_log_recorder_file_name("serial:/dev/ttyUSB0");
	g_autofree gchar *blocker = g_build_filename(tmp, "file", NULL);
	g_autoptr(GFile) bad = NULL;

	ck_assert_str_eq(n1, "mac_aa-bb-cc-dd-ee-ff.log");
	ck_assert(strchr(n2, '/') == NULL && g_str_has_suffix(n2, ".log"));
	ck_assert(strchr(n3, '/') == NULL && n3[0] != '.');
	ck_assert_str_ne(n4, n5);
	ck_assert(strchr(n6, '/') == NULL);

	rec = fleet_log_recorder_new(hub, folder, &error);
	ck_assert_msg(rec != NULL, "%s", error != NULL ? error->message : "");
	ck_assert(fleet_log_recorder_get_running(rec));
	ck_assert_ptr_eq(fleet_log_recorder_get_folder(rec), folder);
	fleet_log_hub_set_batch_interval(hub, 0);
	for (guint i = 0; i < 3; i++) {
		g_autoptr(GPtrArray) lines = lines_new();
		g_ptr_array_add(
		    lines, line_for("mac:aa:bb:cc:dd:ee:ff", "\033[0;32mI (9) x: hello\033[0m"));
		g_ptr_array_add(lines, line_for("serial:/dev/ttyUSB0", "boot"));
		fleet_log_hub_ingest(hub, lines);
	}
	ck_assert_uint_eq(fleet_log_recorder_get_n_lines(rec), 6);
	fleet_log_recorder_stop(rec);
	ck_assert(!fleet_log_recorder_get_running(rec));
	{
		/* after stop nothing more is written */
		g_autoptr(GPtrArray) lines = lines_new();
		g_ptr_array_add(lines, line_for("mac:aa:bb:cc:dd:ee:ff", "late"));
		fleet_log_hub_ingest(hub, lines);
	}
	ck_assert(g_file_get_contents(mac_file, &contents, NULL, NULL));
	ck_assert(g_str_has_prefix(contents, "# espfleet log of mac:aa:bb:cc:dd:ee:ff"));
	ck_assert(strstr(contents, " I (9) x: hello\n") != NULL);
	ck_assert(strstr(contents, "\033") == NULL);
	ck_assert(strstr(contents, "late") == NULL);
	{
		g_auto(GStrv) rows = g_strsplit(contents, "\n", -1);
		ck_assert_uint_eq(g_strv_length(rows) - 1, 4);
	}

	/* a folder that cannot be made */
	ck_assert(g_file_set_contents(blocker, "x", 1, NULL));
	bad = g_file_new_for_path(blocker);
	g_clear_error(&error);
	ck_assert_ptr_null(fleet_log_recorder_new(hub, bad, &error));
	ck_assert(g_error_matches(error, FLEET_ERROR, FLEET_ERROR_NOT_FOUND));
}
END_TEST

/* ---- update transcripts ---- */

typedef struct {
	GPtrArray *lines;
	GMainLoop *loop;
} JobSpy;

static void
job_lines_cb(FleetLogHub *hub, GPtrArray *lines, gpointer user_data)
{
	JobSpy *spy = user_data;
	for (guint i = 0; i < lines->len; i++)
		g_ptr_array_add(spy->lines, fleet_log_line_ref(g_ptr_array_index(lines, i)));
}

static void
job_phase_cb(FleetJob *job, GParamSpec *pspec, gpointer user_data)
{
	JobSpy *spy = user_data;
	if (fleet_job_is_finished(job))
		g_main_loop_quit(spy->loop);
}

START_TEST(test_jobs_source)
{
	g_autoptr(FleetTestImage) img = fleet_test_image_new(FLEET_TEST_IMAGE_ESP32_APP, NULL);
	g_autoptr(GBytes) bytes = g_bytes_new(img->data->data, img->data->len);
	g_autoptr(FleetImage) image = fleet_image_new_from_bytes(bytes, "app.bin");
	g_autoptr(FleetJobQueue) queue = fleet_job_queue_new();
	g_autoptr(FleetTransportEspota) espota = fleet_transport_espota_new();
	g_autoptr(FleetDevice) device =
	    fleet_device_new("addr:127.0.0.1:9", FLEET_DEVICE_SOURCE_MANUAL);
	g_autoptr(FleetLogHub) hub = fleet_log_hub_new();
	g_autoptr(FleetLogSourceJobs) source = fleet_log_source_jobs_new(queue);
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	JobSpy spy = {g_ptr_array_new_with_free_func((GDestroyNotify)fleet_log_line_unref), loop};
	g_autofree gchar *description = NULL;
	FleetJob *job;
	gboolean saw_failed = FALSE;
	gboolean saw_espota = FALSE;

	/* a device that never answers the espota invitation: the job fails on its own */
	fleet_device_set_name(device, "silent");
	fleet_device_set_address(device, "127.0.0.1");
	fleet_device_set_ota_port(device, 9);
	fleet_device_set_protocols(device, FLEET_PROTOCOL_ESPOTA);
	fleet_device_set_online(device, TRUE);
	fleet_job_queue_add_transport(queue, FLEET_TRANSPORT(espota));
	fleet_job_queue_set_timeouts(queue, 1, 2, 2, 2);
	fleet_job_queue_set_default_password(queue, "pw-not-in-logs");
	fleet_log_hub_set_batch_interval(hub, 0);
	g_signal_connect(hub, "lines-added", G_CALLBACK(job_lines_cb), &spy);
	fleet_log_hub_add_source(hub, FLEET_LOG_SOURCE(source));
	ck_assert_int_eq(fleet_log_source_get_state(FLEET_LOG_SOURCE(source)),
			 FLEET_LOG_SOURCE_STATE_RUNNING);
	description = fleet_log_source_describe(FLEET_LOG_SOURCE(source));
	ck_assert_str_eq(description, "Update transcripts");
	ck_assert_ptr_null(fleet_log_source_get_device_id(FLEET_LOG_SOURCE(source)));

	job = fleet_job_queue_add(queue, device, image);
	fleet_job_set_force(job, TRUE);
	g_signal_connect(job, "notify::phase", G_CALLBACK(job_phase_cb), &spy);
	fleet_job_queue_start(queue);
	g_timeout_add_seconds(30, quit_cb, loop);
	g_main_loop_run(loop);
	ck_assert(fleet_job_is_finished(job));
	fleet_log_source_jobs_poll(source);

	/* every transcript entry once, in order, under the device */
	ck_assert_uint_eq(spy.lines->len, fleet_job_get_transcript(job)->len);
	for (guint i = 0; i < spy.lines->len; i++) {
		FleetLogLine *line = g_ptr_array_index(spy.lines, i);
		const gchar *text = fleet_log_line_get_text(line);
		ck_assert_str_eq(fleet_log_line_get_device_id(line), "addr:127.0.0.1:9");
		ck_assert_str_eq(fleet_log_line_get_tag(line), FLEET_LOG_JOBS_TAG);
		ck_assert(g_str_has_prefix(text, "update: "));
		ck_assert(strstr(text, "pw-not-in-logs") == NULL);
		ck_assert(g_str_has_suffix(g_ptr_array_index(fleet_job_get_transcript(job), i),
					   fleet_log_line_get_message(line)));
		if (g_str_has_prefix(fleet_log_line_get_message(line), "phase: failed")) {
			saw_failed = TRUE;
			ck_assert_int_eq(fleet_log_line_get_level(line), FLEET_LOG_LEVEL_ERROR);
		}
		saw_espota = saw_espota || strstr(text, "espota") != NULL;
	}
	ck_assert(saw_failed);
	ck_assert(saw_espota);
	fleet_log_hub_remove_source(hub, FLEET_LOG_SOURCE(source));
	ck_assert_int_eq(fleet_log_source_get_state(FLEET_LOG_SOURCE(source)),
			 FLEET_LOG_SOURCE_STATE_STOPPED);
	g_ptr_array_unref(spy.lines);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("log-hub");
	TCase *tc = tcase_create("hub");
	TCase *tc_jobs = tcase_create("jobs");

	tcase_add_test(tc, test_buffer_ring);
	tcase_add_test(tc, test_hub_batches);
	tcase_add_test(tc, test_hub_collect);
	tcase_add_test(tc, test_hub_secrets_and_names);
	tcase_add_test(tc, test_hub_follow);
	tcase_add_test(tc, test_filter);
	tcase_add_test(tc, test_recorder);
	suite_add_tcase(s, tc);
	tcase_add_test(tc_jobs, test_jobs_source);
	tcase_set_timeout(tc_jobs, 60);
	suite_add_tcase(s, tc_jobs);

	return fleet_check_run(s);
}
