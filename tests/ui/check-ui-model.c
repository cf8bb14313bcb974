/* SPDX-License-Identifier: GPL-3.0-or-later */
/* check-ui-model.c - the GTK-free parts of the app: row order, verdicts, report, latency probe */

#include <check.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "fleet-batch-report.h"
#include "fleet-check-run.h"
#include "fleet-device-store.h"
#include "fleet-latency-probe.h"
#include "fleet-test-images.h"

static FleetDevice *
add_device(FleetDeviceList *list, const gchar *id, const gchar *name)
{
	g_autoptr(FleetDevice) device = fleet_device_new(id, FLEET_DEVICE_SOURCE_MDNS);
	if (name != NULL)
		fleet_device_set_name(device, name);
	return fleet_device_list_add(list, device);
}

/* the display names of the store's items, in order, joined by spaces */
static gchar *
store_order(FleetDeviceStore *store)
{
	GListModel *model = G_LIST_MODEL(store);
	GString *s = g_string_new(NULL);
	for (guint i = 0; i < g_list_model_get_n_items(model); i++) {
		g_autoptr(FleetDeviceItem) item = g_list_model_get_item(model, i);
		if (s->len > 0)
			g_string_append_c(s, ' ');
		g_string_append(s, fleet_device_item_get_display_name(item));
	}
	return g_string_free(s, FALSE);
}

static FleetImage *
esp32_image(const gchar *version)
{
	FleetTestImageOptions options = {.version = version};
	g_autoptr(FleetTestImage) img = fleet_test_image_new(FLEET_TEST_IMAGE_ESP32_APP, &options);
	g_autoptr(GBytes) bytes = g_bytes_new(img->data->data, img->data->len);
	return fleet_image_new_from_bytes(bytes, "app.bin");
}

/* natural order by name (esp-2 before esp-10), ties broken by id, whatever the arrival */
START_TEST(test_store_order)
{
	g_autoptr(FleetDeviceList) list = fleet_device_list_new();
	g_autoptr(FleetDeviceStore) store = NULL;
	g_autofree gchar *order = NULL;

	add_device(list, "mac:00:00:00:00:00:10", "esp-10");
	store = fleet_device_store_new(list);
	add_device(list, "mac:00:00:00:00:00:02", "esp-2");
	add_device(list, "mac:00:00:00:00:00:0b", "Boiler");
	add_device(list, "name:zz", NULL);
	add_device(list, "mac:00:00:00:00:00:01", "esp-2");
	order = store_order(store);
	ck_assert_str_eq(order, "Boiler esp-2 esp-2 esp-10 name:zz");
	{
		/* equal names: the smaller id first */
		g_autoptr(FleetDeviceItem) item = g_list_model_get_item(G_LIST_MODEL(store), 1);
		ck_assert_str_eq(fleet_device_get_id(fleet_device_item_get_device(item)),
				 "mac:00:00:00:00:00:01");
	}
	fleet_device_list_remove(list, fleet_device_list_lookup(list, "mac:00:00:00:00:00:0b"));
	g_free(order);
	order = store_order(store);
	ck_assert_str_eq(order, "esp-2 esp-2 esp-10 name:zz");
	ck_assert_uint_eq(g_list_model_get_n_items(G_LIST_MODEL(store)), 4);
	ck_assert_ptr_null(fleet_device_store_lookup(store, "mac:00:00:00:00:00:0b"));
}
END_TEST

/* a rename during a batch keeps the row in place until the batch ends */
START_TEST(test_store_frozen)
{
	g_autoptr(FleetDeviceList) list = fleet_device_list_new();
	g_autoptr(FleetDeviceStore) store = fleet_device_store_new(list);
	g_autofree gchar *order = NULL;
	FleetDevice *b;

	add_device(list, "name:a", "alpha");
	b = add_device(list, "name:b", "bravo");
	add_device(list, "name:c", "charlie");
	fleet_device_store_set_frozen(store, TRUE);
	fleet_device_set_name(b, "zulu");
	order = store_order(store);
	ck_assert_str_eq(order, "alpha zulu charlie");
	fleet_device_store_set_frozen(store, FALSE);
	g_free(order);
	order = store_order(store);
	ck_assert_str_eq(order, "alpha charlie zulu");
	/* not frozen: it moves at once */
	fleet_device_set_name(b, "aardvark");
	g_free(order);
	order = store_order(store);
	ck_assert_str_eq(order, "aardvark alpha charlie");
}
END_TEST

/* the chosen image gives each row its verdict; refused rows are unticked and stay so
 * unless the batch is forced */
START_TEST(test_store_verdicts)
{
	g_autoptr(FleetDeviceList) list = fleet_device_list_new();
	g_autoptr(FleetDeviceStore) store = fleet_device_store_new(list);
	g_autoptr(FleetImage) image = esp32_image("2.0.0");
	FleetDevice *ok = add_device(list, "name:ok", "ok");
	FleetDevice *bad = add_device(list, "name:bad", "bad");
	FleetDeviceItem *ok_item;
	FleetDeviceItem *bad_item;

	fleet_device_set_chip(ok, "esp32");
	fleet_device_set_fw_version(ok, "1.0.0");
	fleet_device_set_chip(bad, "esp8266");
	ok_item = fleet_device_store_lookup(store, "name:ok");
	bad_item = fleet_device_store_lookup(store, "name:bad");
	fleet_device_item_set_checked(ok_item, TRUE);
	fleet_device_item_set_checked(bad_item, TRUE);
	ck_assert_uint_eq(fleet_device_store_count_checked(store), 2);

	fleet_device_store_set_image(store, image);
	ck_assert(fleet_device_item_has_verdict(ok_item));
	ck_assert_int_eq(fleet_device_item_get_verdict(ok_item), FLEET_COMPAT_OK);
	ck_assert(fleet_device_item_is_outdated(ok_item));
	ck_assert_int_eq(fleet_device_item_get_verdict(bad_item), FLEET_COMPAT_REFUSE);
	ck_assert_ptr_nonnull(fleet_device_item_get_verdict_message(bad_item));
	ck_assert(!fleet_device_item_get_checked(bad_item));
	ck_assert(!fleet_device_store_can_check(store, bad_item));
	ck_assert_uint_eq(fleet_device_store_count_checked(store), 1);

	fleet_device_store_set_force(store, TRUE);
	ck_assert(fleet_device_store_can_check(store, bad_item));
	fleet_device_item_set_checked(bad_item, TRUE);
	fleet_device_store_set_force(store, FALSE);
	ck_assert(!fleet_device_item_get_checked(bad_item));

	/* the device now runs the image's version */
	fleet_device_set_fw_version(ok, "2.0.0");
	ck_assert(!fleet_device_item_is_outdated(ok_item));
	/* its chip changes: the verdict follows */
	fleet_device_set_chip(ok, "esp32s3");
	ck_assert_int_eq(fleet_device_item_get_verdict(ok_item), FLEET_COMPAT_REFUSE);
}
END_TEST

START_TEST(test_item_search)
{
	g_autoptr(FleetDevice) device = fleet_device_new("name:x", FLEET_DEVICE_SOURCE_MDNS);
	g_autoptr(FleetDeviceItem) item = NULL;
	g_autofree gchar *needle = g_utf8_casefold("KESSEL", -1);

	fleet_device_set_name(device, "Heizung-Kessel-2");
	fleet_device_set_address(device, "198.18.1.7");
	fleet_device_set_board(device, "nodemcuv2");
	fleet_device_set_fw_version(device, "v3.1.4");
	item = fleet_device_item_new(device);
	ck_assert(fleet_device_item_matches(item, needle));
	ck_assert(fleet_device_item_matches(item, "198.18.1"));
	ck_assert(fleet_device_item_matches(item, "nodemcu"));
	ck_assert(fleet_device_item_matches(item, "3.1.4"));
	ck_assert(fleet_device_item_matches(item, ""));
	ck_assert(!fleet_device_item_matches(item, "esp32"));
}
END_TEST

/* RFC 4180 fields, every column present even when empty, formulas defused */
START_TEST(test_report_csv)
{
	g_autoptr(FleetImage) image = esp32_image("2.0.0");
	g_autoptr(FleetDevice) plain =
	    fleet_device_new("mac:aa:bb:cc:00:00:01", FLEET_DEVICE_SOURCE_MDNS);
	g_autoptr(FleetDevice) hostile = fleet_device_new("name:h", FLEET_DEVICE_SOURCE_MDNS);
	g_autoptr(FleetDevice) nameless =
	    fleet_device_new("addr:10.0.0.9:3232", FLEET_DEVICE_SOURCE_MANUAL);
	g_autoptr(GPtrArray) jobs = g_ptr_array_new_with_free_func(g_object_unref);
	g_autofree gchar *csv = NULL;
	g_auto(GStrv) lines = NULL;

	fleet_device_set_name(plain, "esp-lab-1");
	fleet_device_set_address(plain, "198.18.1.1");
	fleet_device_set_name(hostile, "=HYPERLINK(\"x\",\"a, b\")");
	g_ptr_array_add(jobs, fleet_job_new(plain, image));
	g_ptr_array_add(jobs, fleet_job_new(hostile, image));
	g_ptr_array_add(jobs, fleet_job_new(nameless, image));

	csv = fleet_batch_report_build(jobs, FLEET_BATCH_REPORT_CSV);
	lines = g_strsplit(csv, "\r\n", -1);
	ck_assert_uint_eq(g_strv_length(lines), 5); /* header, 3 rows, the empty end */
	ck_assert_str_eq(lines[0], "device,id,address,old_version,new_version,protocol,bytes,"
				   "duration_s,attempts,result,error");
	ck_assert_str_eq(lines[1], "esp-lab-1,mac:aa:bb:cc:00:00:01,198.18.1.1,,,espota,0,,0,"
				   "queued,");
	ck_assert_str_eq(lines[2], "\"'=HYPERLINK(\"\"x\"\",\"\"a, b\"\")\",name:h,,,,espota,0,,0,"
				   "queued,");
	ck_assert_str_eq(lines[3], "addr:10.0.0.9:3232,addr:10.0.0.9:3232,,,,espota,0,,0,queued,");
	ck_assert_str_eq(lines[4], "");
	ck_assert_int_eq(fleet_batch_report_format_for_filename("x.CSV"), FLEET_BATCH_REPORT_CSV);
	ck_assert_int_eq(fleet_batch_report_format_for_filename("r.Json"), FLEET_BATCH_REPORT_JSON);
}
END_TEST

START_TEST(test_report_json)
{
	g_autoptr(FleetImage) image = esp32_image("2.0.0");
	g_autoptr(FleetDevice) device = fleet_device_new("name:j", FLEET_DEVICE_SOURCE_MDNS);
	g_autoptr(GPtrArray) jobs = g_ptr_array_new_with_free_func(g_object_unref);
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *json = NULL;
	JsonArray *devices;
	JsonObject *first;

	fleet_device_set_name(device, "quote\"name");
	fleet_device_set_fw_version(device, "1.0.0");
	g_ptr_array_add(jobs, fleet_job_new(device, image));
	json = fleet_batch_report_build(jobs, FLEET_BATCH_REPORT_JSON);
	ck_assert(json_parser_load_from_data(parser, json, -1, &error));
	devices = json_object_get_array_member(json_node_get_object(json_parser_get_root(parser)),
					       "devices");
	ck_assert_uint_eq(json_array_get_length(devices), 1);
	first = json_array_get_object_element(devices, 0);
	ck_assert_str_eq(json_object_get_string_member(first, "device"), "quote\"name");
	ck_assert_str_eq(json_object_get_string_member(first, "result"), "queued");
	ck_assert(json_object_get_null_member(first, "duration_s"));
	ck_assert(json_object_get_null_member(first, "new_version"));
	ck_assert_int_eq(json_object_get_int_member(first, "attempts"), 0);
	ck_assert_uint_eq(json_object_get_size(first), 11);
}
END_TEST

static gboolean
block_cb(gpointer user_data)
{
	/* a handler that holds the main loop, as a slow relayout would */
	g_usleep(60 * 1000);
	return G_SOURCE_REMOVE;
}

static gboolean
quit_cb(gpointer user_data)
{
	g_main_loop_quit(user_data);
	return G_SOURCE_REMOVE;
}

/* the probe sees a stall of the main loop as the lateness of its next tick */
START_TEST(test_latency_probe)
{
	g_autoptr(FleetLatencyProbe) probe = fleet_latency_probe_new(10);
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);

	fleet_latency_probe_start(probe);
	g_timeout_add(150, block_cb, NULL);
	g_timeout_add(400, quit_cb, loop);
	g_main_loop_run(loop);
	fleet_latency_probe_stop(probe);

	ck_assert_uint_ge(fleet_latency_probe_get_samples(probe), 10);
	ck_assert_double_ge(fleet_latency_probe_get_max_ms(probe), 45.0);
	ck_assert_double_le(fleet_latency_probe_get_percentile_ms(probe, 50.0),
			    fleet_latency_probe_get_max_ms(probe));
	ck_assert_double_eq(fleet_latency_probe_get_percentile_ms(probe, 100.0),
			    fleet_latency_probe_get_max_ms(probe));
	fleet_latency_probe_reset(probe);
	ck_assert_uint_eq(fleet_latency_probe_get_samples(probe), 0);
	ck_assert_double_eq(fleet_latency_probe_get_max_ms(probe), 0.0);
}
END_TEST

static Suite *
ui_model_suite(void)
{
	Suite *s = suite_create("ui-model");
	TCase *tc = tcase_create("model");
	tcase_add_test(tc, test_store_order);
	tcase_add_test(tc, test_store_frozen);
	tcase_add_test(tc, test_store_verdicts);
	tcase_add_test(tc, test_item_search);
	tcase_add_test(tc, test_report_csv);
	tcase_add_test(tc, test_report_json);
	tcase_add_test(tc, test_latency_probe);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return fleet_check_run(ui_model_suite());
}
