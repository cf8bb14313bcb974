/* SPDX-License-Identifier: GPL-3.0-or-later */
/* check-device-info.c - a device's GET /info JSON, well-formed and hostile */

#include <check.h>
#include <string.h>

#include "fleet-check-run.h"
#include "fleet-device-info.h"
#include "fleet-error.h"

static FleetDeviceInfo *
parse(const gchar *json)
{
	g_autoptr(GError) error = NULL;
	FleetDeviceInfo *info = fleet_device_info_new_from_data(json, strlen(json), &error);
	ck_assert_msg(info != NULL, "%s", error != NULL ? error->message : "?");
	return info;
}

static void
assert_rejected(const gchar *data, gsize len)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(FleetDeviceInfo) info = fleet_device_info_new_from_data(data, len, &error);
	ck_assert_ptr_null(info);
	ck_assert(g_error_matches(error, FLEET_ERROR, FLEET_ERROR_INVALID_DATA));
}

START_TEST(test_full)
{
	g_autoptr(FleetDeviceInfo) info = parse(
	    "{\"name\": \"esp-lab-3\", \"mac\": \"24-6F-28-AA-BB-CC\", \"chip\": \"esp32s3\","
	    " \"board\": \"esp32s3\", \"project\": \"espfleet-ref\", \"version\": \"1.4.2\","
	    " \"fw_sha256\": \"0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\","
	    " \"running_slot\": \"ota_0\", \"slot_size\": 1572864, \"free_space\": 1048576,"
	    " \"uptime\": 12345, \"boot_count\": 7, \"last_update\": \"rolled back\","
	    " \"unknown\": {\"nested\": [1, 2]}}");
	g_autoptr(FleetDeviceInfo) copy = fleet_device_info_copy(info);
	g_autoptr(FleetDevice) device = fleet_device_new("name:x", FLEET_DEVICE_SOURCE_MANUAL);

	ck_assert_str_eq(info->name, "esp-lab-3");
	ck_assert_str_eq(info->mac, "24:6f:28:aa:bb:cc");
	ck_assert_str_eq(info->chip, "esp32s3");
	ck_assert_str_eq(info->board, "esp32s3");
	ck_assert_str_eq(info->project, "espfleet-ref");
	ck_assert_str_eq(info->version, "1.4.2");
	ck_assert_str_eq(info->fw_sha256,
			 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	ck_assert_str_eq(info->running_slot, "ota_0");
	ck_assert_int_eq(info->slot_size, 1572864);
	ck_assert_int_eq(info->free_space, 1048576);
	ck_assert_int_eq(info->uptime, 12345);
	ck_assert_int_eq(info->boot_count, 7);
	ck_assert_str_eq(info->last_update, "rolled back");

	ck_assert_str_eq(copy->fw_sha256, info->fw_sha256);
	ck_assert_int_eq(copy->boot_count, 7);

	fleet_device_info_apply(info, device);
	ck_assert_str_eq(fleet_device_get_name(device), "esp-lab-3");
	ck_assert_str_eq(fleet_device_get_fw_version(device), "1.4.2");
	ck_assert_str_eq(fleet_device_get_chip(device), "esp32s3");
	ck_assert_str_eq(fleet_device_get_fw_sha256(device), info->fw_sha256);
}
END_TEST

START_TEST(test_empty_object)
{
	g_autoptr(FleetDeviceInfo) info = parse("{}");
	ck_assert_ptr_null(info->name);
	ck_assert_ptr_null(info->mac);
	ck_assert_ptr_null(info->running_slot);
	ck_assert_int_eq(info->slot_size, -1);
	ck_assert_int_eq(info->free_space, -1);
	ck_assert_int_eq(info->uptime, -1);
	ck_assert_int_eq(info->boot_count, -1);
}
END_TEST

START_TEST(test_wrong_types_ignored)
{
	g_autoptr(FleetDeviceInfo) info =
	    parse("{\"name\": 5, \"mac\": \"zz:zz:zz:zz:zz:zz\", \"chip\": [\"esp32\"],"
		  " \"version\": \"\", \"fw_sha256\": \"0123456\", \"slot_size\": -1,"
		  " \"free_space\": 1e300, \"uptime\": 1.5, \"boot_count\": \"7\","
		  " \"last_update\": null, \"running_slot\": 99, \"board\": {\"a\": 1}}");
	ck_assert_ptr_null(info->name);
	ck_assert_ptr_null(info->mac);
	ck_assert_ptr_null(info->chip);
	ck_assert_ptr_null(info->version);
	ck_assert_ptr_null(info->fw_sha256);
	ck_assert_ptr_null(info->board);
	ck_assert_ptr_null(info->last_update);
	ck_assert_ptr_null(info->running_slot);
	ck_assert_int_eq(info->slot_size, -1);
	ck_assert_int_eq(info->free_space, -1);
	ck_assert_int_eq(info->uptime, -1);
	ck_assert_int_eq(info->boot_count, -1);
}
END_TEST

START_TEST(test_numbers)
{
	g_autoptr(FleetDeviceInfo) info =
	    parse("{\"running_slot\": 1, \"uptime\": 1.0e3, \"slot_size\": 4294967295,"
		  " \"free_space\": 4294967296, \"boot_count\": 99999999999999999999999}");
	ck_assert_str_eq(info->running_slot, "ota_1");
	ck_assert_int_eq(info->uptime, 1000);
	ck_assert_int_eq(info->slot_size, 4294967295);
	ck_assert_int_eq(info->free_space, -1);
	ck_assert_int_eq(info->boot_count, -1);
}
END_TEST

START_TEST(test_hostile_text)
{
	g_autofree gchar *long_name = g_strnfill(500, 'n');
	g_autofree gchar *json = g_strdup_printf(
	    "{\"name\": \"%s\", \"version\": \"\\u001b[2J1.0\\u202e\", \"chip\": \"  \\t \","
	    " \"last_update\": \"a\\nb\"}",
	    long_name);
	g_autoptr(FleetDeviceInfo) info = parse(json);
	/* cut at the limit and marked */
	ck_assert_int_eq(g_utf8_strlen(info->name, -1), FLEET_DEVICE_INFO_TEXT_MAX + 1);
	ck_assert(g_str_has_suffix(info->name, "…"));
	/* escapes instead of control and bidi characters */
	ck_assert_str_eq(info->version, "\\x1b[2J1.0\\u202e");
	ck_assert_str_eq(info->last_update, "a\\x0ab");
	/* white space only counts as absent */
	ck_assert_ptr_null(info->chip);
}
END_TEST

START_TEST(test_rejected)
{
	g_autofree gchar *deep = NULL;
	g_autofree gchar *big = NULL;
	GString *s = g_string_new("{\"a\": ");
	for (guint i = 0; i < FLEET_DEVICE_INFO_DEPTH_MAX; i++)
		g_string_append_c(s, '[');
	for (guint i = 0; i < FLEET_DEVICE_INFO_DEPTH_MAX; i++)
		g_string_append_c(s, ']');
	g_string_append_c(s, '}');
	deep = g_string_free(s, FALSE);

	assert_rejected("", 0);
	assert_rejected("[1, 2]", 6);
	assert_rejected("\"text\"", 6);
	assert_rejected("{\"name\": \"esp\"", 14);
	assert_rejected("{\"name\": \"\xff\"}", 13);
	assert_rejected("{\"a\": 1}\0{}", 11);
	/* one level more than allowed is refused before json-glib recurses into it */
	assert_rejected(deep, strlen(deep));
	big = g_strnfill(FLEET_DEVICE_INFO_SIZE_MAX + 1, ' ');
	big[0] = '{';
	big[FLEET_DEVICE_INFO_SIZE_MAX] = '}';
	assert_rejected(big, FLEET_DEVICE_INFO_SIZE_MAX + 1);
}
END_TEST

START_TEST(test_depth_limit_exact)
{
	/* brackets inside strings do not count, and the limit itself is fine */
	g_autoptr(FleetDeviceInfo) a =
	    parse("{\"s\": \"[[[[[[[[[[[[[[[[[[[[\\\"[[[[[[\", \"name\": \"x\"}");
	g_autoptr(FleetDeviceInfo) b = parse("{\"a\": [[[[[[[1]]]]]]], \"name\": \"y\"}");
	ck_assert_str_eq(a->name, "x");
	ck_assert_str_eq(b->name, "y");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("device-info");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_empty_object);
	tcase_add_test(tc, test_wrong_types_ignored);
	tcase_add_test(tc, test_numbers);
	tcase_add_test(tc, test_hostile_text);
	tcase_add_test(tc, test_rejected);
	tcase_add_test(tc, test_depth_limit_exact);
	suite_add_tcase(s, tc);
	return fleet_check_run(s);
}
