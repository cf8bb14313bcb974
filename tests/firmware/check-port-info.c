/* SPDX-License-Identifier: MIT */
/*
 * check-port-info.c - what the ESP-IDF port and the simulator report alike
 * (firmware/port/common/port-info.c): the GET /info document, the state words and the espota
 * error texts
 */

#include <check.h>
#include <string.h>

#include "fleet-check-run.h"
#include "ota/ota-espota.h"
#include "ota/ota-slots.h"
#include "port-info.h"

START_TEST(test_info_json)
{
	struct port_info info;
	char buf[1024];
	int n;

	memset(&info, 0, sizeof(info));
	info.name = "lab\"1";
	memcpy(info.mac, "\xa2\x7d\xeb\x07\x8a\x74", 6);
	info.chip = "esp32c3";
	info.board = "esp32c3";
	info.project = "espfleet-fw";
	info.version = "1.0.0\n";
	memset(info.fw_sha256, 0xAB, sizeof(info.fw_sha256));
	info.running_slot = "ota_1";
	info.running_state = OTA_IMG_PENDING_VERIFY;
	info.slot_size = 0x1e0000;
	info.free_space = 0x1e0000;
	info.uptime_s = 12;
	info.boot_count = 3;
	info.last_update = "rolled back";
	info.idf_version = "v5.5.5";
	info.reset_reason = "software";
	n = port_info_json(&info, buf, sizeof(buf));
	ck_assert_int_eq(n, (int)strlen(buf));
	ck_assert_str_eq(
	    buf,
	    "{\"name\":\"lab\\\"1\",\"mac\":\"a2:7d:eb:07:8a:74\",\"chip\":\"esp32c3\","
	    "\"board\":\"esp32c3\",\"project\":\"espfleet-fw\",\"version\":\"1.0.0\\u000a\","
	    "\"fw_sha256\":\"abababababababababababababababababababababababababababababababab\","
	    "\"running_slot\":\"ota_1\",\"running_state\":\"pending_verify\","
	    "\"slot_size\":1966080,\"free_space\":1966080,\"uptime\":12,\"boot_count\":3,"
	    "\"last_update\":\"rolled back\",\"idf_version\":\"v5.5.5\","
	    "\"reset_reason\":\"software\"}");
	/* too small: refused, not cut */
	ck_assert_int_eq(port_info_json(&info, buf, 100), -1);
	ck_assert_int_eq(port_info_json(&info, buf, (size_t)n), -1);
	ck_assert_int_eq(port_info_json(&info, buf, (size_t)n + 1), n);
	ck_assert_int_eq(port_info_json(&info, NULL, sizeof(buf)), -1);
}
END_TEST

/* a device that has not read its app description yet reports empty strings, not "(null)" */
START_TEST(test_info_json_missing)
{
	struct port_info info;
	char buf[1024];

	memset(&info, 0, sizeof(info));
	info.running_state = 0xdead;
	ck_assert_int_gt(port_info_json(&info, buf, sizeof(buf)), 0);
	ck_assert_str_eq(
	    buf,
	    "{\"name\":\"\",\"mac\":\"00:00:00:00:00:00\",\"chip\":\"\",\"board\":\"\","
	    "\"project\":\"\",\"version\":\"\","
	    "\"fw_sha256\":\"0000000000000000000000000000000000000000000000000000000000000000\","
	    "\"running_slot\":\"\",\"running_state\":\"unknown\",\"slot_size\":0,\"free_space\":0,"
	    "\"uptime\":0,\"boot_count\":0,\"last_update\":\"\",\"idf_version\":\"\","
	    "\"reset_reason\":\"\"}");
}
END_TEST

START_TEST(test_state_ids)
{
	static const struct {
		uint32_t state;
		const char *id;
	} ids[] = {
	    {OTA_IMG_NEW, "new"},
	    {OTA_IMG_PENDING_VERIFY, "pending_verify"},
	    {OTA_IMG_VALID, "valid"},
	    {OTA_IMG_INVALID, "invalid"},
	    {OTA_IMG_ABORTED, "aborted"},
	    {OTA_IMG_UNDEFINED, "undefined"},
	    {7, "unknown"},
	};
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		ck_assert_str_eq(port_state_id(ids[i].state), ids[i].id);
}
END_TEST

START_TEST(test_espota_error_texts)
{
	/* what ArduinoOTA's examples print from onError() */
	ck_assert_str_eq(port_espota_error_text(OTA_FLAVOR_ESP32, OTA_ESPOTA_ERR_AUTH, 0),
			 "Auth Failed");
	ck_assert_str_eq(port_espota_error_text(OTA_FLAVOR_ESP32, OTA_ESPOTA_ERR_BEGIN, 0),
			 "Begin Failed");
	ck_assert_str_eq(port_espota_error_text(OTA_FLAVOR_ESP8266, OTA_ESPOTA_ERR_CONNECT, 0),
			 "Connect Failed");
	ck_assert_str_eq(port_espota_error_text(OTA_FLAVOR_ESP8266, OTA_ESPOTA_ERR_RECEIVE, 0),
			 "Receive Failed");
	ck_assert_str_eq(port_espota_error_text(OTA_FLAVOR_ESP32, OTA_ESPOTA_ERR_END, 0),
			 "End Failed");
	/* the Update object's own words, in the device's flavour, when it was the one that failed */
	for (int f = OTA_FLAVOR_ESP8266; f <= OTA_FLAVOR_ESP32; f++) {
		ck_assert_str_eq(
		    port_espota_error_text((enum ota_flavor)f, OTA_ESPOTA_ERR_END, OTA_UPDATE_ERR_MD5),
		    ota_update_error_text((enum ota_flavor)f, OTA_UPDATE_ERR_MD5));
		ck_assert_str_eq(port_espota_error_text((enum ota_flavor)f, OTA_ESPOTA_ERR_BEGIN,
							OTA_UPDATE_ERR_SPACE),
				 ota_update_error_text((enum ota_flavor)f, OTA_UPDATE_ERR_SPACE));
	}
	ck_assert_str_ne(ota_update_error_text(OTA_FLAVOR_ESP8266, OTA_UPDATE_ERR_MD5),
			 ota_update_error_text(OTA_FLAVOR_ESP32, OTA_UPDATE_ERR_MD5));
}
END_TEST

static Suite *
port_info_suite(void)
{
	Suite *s = suite_create("port-info");
	TCase *tc = tcase_create("port-info");

	tcase_add_test(tc, test_info_json);
	tcase_add_test(tc, test_info_json_missing);
	tcase_add_test(tc, test_state_ids);
	tcase_add_test(tc, test_espota_error_texts);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return fleet_check_run(port_info_suite());
}
