/* SPDX-License-Identifier: MIT */
/*
 * check-esp32-glue.c - the ESP-IDF port's hardware-free glue (fw-glue.c, fw-flash.c,
 * fw-sink.c) on the host, against fakes of the ESP-IDF calls it makes (esp32-fakes/)
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp32-fakes.h"
#include "fleet-check-run.h"
#include "fw-flash.h"
#include "fw-glue.h"
#include "fw-log.h"
#include "fw-sink.h"
#include "ota-test-support.h"
#include "port-info.h"
#include "ota/ota-errors.h"
#include "ota/ota-log.h"
#include "ota/ota-mdns.h"
#include "ota/ota-util.h"
#include "sim-crypto.h"

#define IMG_MAX (96u * 1024u)

static char *csv;

static char *
read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static void
setup(void)
{
	if (csv == NULL)
		csv = read_text(ESP32_PORT_DIR "/partitions.csv");
	ck_assert_ptr_nonnull(csv);
	ck_assert_int_eq(fake_idf_reset(csv, OTA_CHIP_ESP32), 0);
}

static void
teardown(void)
{
	fake_idf_free();
}

/* ---- fw-glue: mapping ---- */

START_TEST(test_state_mapping)
{
	static const struct {
		esp_ota_img_states_t idf;
		uint32_t core;
		const char *id;
	} map[] = {
	    {ESP_OTA_IMG_NEW, OTA_IMG_NEW, "new"},
	    {ESP_OTA_IMG_PENDING_VERIFY, OTA_IMG_PENDING_VERIFY, "pending_verify"},
	    {ESP_OTA_IMG_VALID, OTA_IMG_VALID, "valid"},
	    {ESP_OTA_IMG_INVALID, OTA_IMG_INVALID, "invalid"},
	    {ESP_OTA_IMG_ABORTED, OTA_IMG_ABORTED, "aborted"},
	    {ESP_OTA_IMG_UNDEFINED, OTA_IMG_UNDEFINED, "undefined"},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		ck_assert_uint_eq(fw_state_from_idf(map[i].idf), map[i].core);
		/* the same numbers on flash: otadata written by either side reads the same */
		ck_assert_uint_eq((uint32_t)map[i].idf, map[i].core);
		ck_assert_str_eq(port_state_id(map[i].core), map[i].id);
	}
	/* a value neither knows boots like UNDEFINED */
	ck_assert_uint_eq(fw_state_from_idf((esp_ota_img_states_t)7), OTA_IMG_UNDEFINED);
}
END_TEST

START_TEST(test_slot_of_partition)
{
	esp_partition_t p;
	memset(&p, 0, sizeof(p));
	p.type = ESP_PARTITION_TYPE_APP;
	for (int i = 0; i < 16; i++) {
		p.subtype = ESP_PARTITION_SUBTYPE_OTA(i);
		ck_assert_int_eq(fw_slot_of_partition(&p), i);
	}
	p.subtype = ESP_PARTITION_SUBTYPE_APP_FACTORY;
	ck_assert_int_eq(fw_slot_of_partition(&p), OTA_SLOT_NONE);
	p.subtype = ESP_PARTITION_SUBTYPE_APP_TEST;
	ck_assert_int_eq(fw_slot_of_partition(&p), OTA_SLOT_NONE);
	p.type = ESP_PARTITION_TYPE_DATA;
	p.subtype = (esp_partition_subtype_t)0x10;
	ck_assert_int_eq(fw_slot_of_partition(&p), OTA_SLOT_NONE);
	ck_assert_int_eq(fw_slot_of_partition(NULL), OTA_SLOT_NONE);
}
END_TEST

START_TEST(test_error_mapping)
{
	ck_assert_int_eq(fw_ota_error_from_idf(ESP_OK), OTA_OK);
	ck_assert_int_eq(fw_ota_error_from_idf(ESP_ERR_OTA_PARTITION_CONFLICT), OTA_E_CONFLICT);
	ck_assert_int_eq(fw_ota_error_from_idf(ESP_ERR_OTA_SELECT_INFO_INVALID),
			 OTA_E_PARTITION_TABLE);
	ck_assert_int_eq(fw_ota_error_from_idf(ESP_ERR_OTA_VALIDATE_FAILED), OTA_E_SIGNATURE);
	ck_assert_int_eq(fw_ota_error_from_idf(ESP_ERR_OTA_SMALL_SEC_VER), OTA_E_VERSION);
	ck_assert_int_eq(fw_ota_error_from_idf(ESP_ERR_OTA_ROLLBACK_FAILED), OTA_E_ROLLBACK);
	ck_assert_int_eq(fw_ota_error_from_idf(ESP_ERR_OTA_ROLLBACK_INVALID_STATE),
			 OTA_E_BAD_STATE);
	ck_assert_int_eq(fw_ota_error_from_idf(ESP_ERR_NOT_FOUND), OTA_E_NOT_FOUND);
	ck_assert_int_eq(fw_ota_error_from_idf(ESP_ERR_INVALID_SIZE), OTA_E_NO_SPACE);
	ck_assert_int_eq(fw_ota_error_from_idf(ESP_FAIL), OTA_E_FLASH);
	ck_assert_int_eq(fw_ota_error_from_idf(ESP_ERR_FLASH_BASE + 1), OTA_E_FLASH);
}
END_TEST

START_TEST(test_reset_reasons)
{
	const char *seen[ESP_RST_CPU_LOCKUP + 1];
	for (int r = ESP_RST_UNKNOWN; r <= ESP_RST_CPU_LOCKUP; r++) {
		seen[r] = fw_reset_reason_id((esp_reset_reason_t)r);
		ck_assert_ptr_nonnull(seen[r]);
		/* every reason ESP-IDF 5.5 knows has its own word */
		for (int q = 0; q < r; q++)
			ck_assert_str_ne(seen[q], seen[r]);
	}
	ck_assert_str_eq(fw_reset_reason_id(ESP_RST_POWERON), "power_on");
	ck_assert_str_eq(fw_reset_reason_id(ESP_RST_SW), "software");
	ck_assert_str_eq(fw_reset_reason_id(ESP_RST_TASK_WDT), "task_wdt");
	ck_assert_str_eq(fw_reset_reason_id((esp_reset_reason_t)99), "unknown");
}
END_TEST

START_TEST(test_update_outcome)
{
	ck_assert_int_eq(fw_update_outcome(OTA_SLOT_NONE, 0, OTA_IMG_VALID), FW_UPDATE_NONE);
	ck_assert_int_eq(fw_update_outcome(1, 1, OTA_IMG_PENDING_VERIFY), FW_UPDATE_TRYING);
	ck_assert_int_eq(fw_update_outcome(1, 1, OTA_IMG_VALID), FW_UPDATE_CONFIRMED);
	/* built without rollback: set_boot writes UNDEFINED, which runs unconfirmed */
	ck_assert_int_eq(fw_update_outcome(1, 1, OTA_IMG_UNDEFINED), FW_UPDATE_CONFIRMED);
	ck_assert_int_eq(fw_update_outcome(1, 0, OTA_IMG_VALID), FW_UPDATE_ROLLED_BACK);
	ck_assert_int_eq(fw_update_outcome(0, 1, OTA_IMG_VALID), FW_UPDATE_ROLLED_BACK);
}
END_TEST

START_TEST(test_bad_app_marker)
{
	ck_assert(fw_is_bad_app("espfleet-fw", "2.0.0-bad-app"));
	ck_assert(fw_is_bad_app("bad-app-demo", "1.0"));
	ck_assert(!fw_is_bad_app("espfleet-fw", "2.0.0"));
	ck_assert(!fw_is_bad_app(NULL, NULL));
	ck_assert(!fw_is_bad_app("bad_app", "bad app"));
}
END_TEST

/* ---- fw-glue: TXT record, against the core responder's ---- */

static void
no_send(void *user, uint32_t ip, uint16_t port, const uint8_t *data, size_t len)
{
	(void)user;
	(void)ip;
	(void)port;
	(void)data;
	(void)len;
}

/* the core's TXT strings as "key=value", in order */
static size_t
core_txt(const struct ota_mdns_config *cfg, char out[][80], size_t max)
{
	static struct ota_mdns m;
	static uint8_t pkt[OTA_MDNS_PACKET_MAX];
	struct ota_dns_reader r;
	struct ota_dns_record rec;
	size_t n = 0;
	int len;

	ck_assert_int_eq(ota_mdns_init(&m, cfg, no_send, NULL), 0);
	len = ota_mdns_build(&m, 1u << OTA_MDNS_REC_TXT, pkt, sizeof(pkt));
	ck_assert_int_gt(len, 0);
	ck_assert_int_eq(ota_dns_reader_init(&r, pkt, (size_t)len), 0);
	while (ota_dns_reader_next(&r, &rec) == 1) {
		size_t off;
		if (rec.section != OTA_DNS_ANSWER || rec.type != OTA_DNS_TYPE_TXT)
			continue;
		for (off = rec.rdata_off; off < rec.rdata_off + rec.rdlength;) {
			size_t l = pkt[off];
			ck_assert_uint_lt(n, max);
			ck_assert_uint_lt(l, 80);
			memcpy(out[n], pkt + off + 1, l);
			out[n][l] = '\0';
			n++;
			off += 1 + l;
		}
	}
	return n;
}

static void
check_txt_matches(uint16_t http_port)
{
	struct ota_mdns_config cfg;
	struct fw_txt txt;
	char want[FW_TXT_MAX + 2][80];
	size_t n;

	memset(&cfg, 0, sizeof(cfg));
	cfg.hostname = "esp32c3-a0b1c2d3e4f5";
	cfg.ipv4 = 0xC0A80132;
	cfg.ota_port = 3232;
	cfg.board = "esp32c3";
	cfg.auth_upload = http_port == 80;
	cfg.fw_version = "2.1.0";
	for (int i = 0; i < 32; i++)
		cfg.fw_sha256[i] = (uint8_t)(0xA0 + i);
	cfg.log_port = 2323;
	memcpy(cfg.mac, "\xa0\xb1\xc2\xd3\xe4\xf5", 6);
	cfg.chip = "esp32c3";
	cfg.http_port = http_port;

	n = core_txt(&cfg, want, sizeof(want) / sizeof(want[0]));
	fw_txt_build(&cfg, &txt);
	ck_assert_uint_eq(txt.count, n);
	for (size_t i = 0; i < n; i++) {
		char got[80];
		snprintf(got, sizeof(got), "%s=%s", txt.key[i], txt.value[i]);
		ck_assert_str_eq(got, want[i]);
	}
}

START_TEST(test_txt_same_as_core)
{
	check_txt_matches(80);
	check_txt_matches(8080);
}
END_TEST

START_TEST(test_txt_values)
{
	struct ota_mdns_config cfg;
	struct fw_txt txt;
	memset(&cfg, 0, sizeof(cfg));
	cfg.fw_version = "1.0.0";
	cfg.log_port = 2323;
	cfg.http_port = 80;
	cfg.chip = "esp32";
	fw_txt_build(&cfg, &txt);
	ck_assert_uint_eq(txt.count, 10); /* no http_port on port 80 */
	ck_assert_str_eq(txt.key[0], "board");
	ck_assert_str_eq(txt.value[0], "generic");
	ck_assert_str_eq(txt.value[1], "no");
	ck_assert_str_eq(txt.key[5], "fw_sha256");
	ck_assert_str_eq(txt.value[5], "0000000000000000");
	ck_assert_str_eq(txt.key[8], "mac");
	ck_assert_str_eq(txt.value[8], "00:00:00:00:00:00");
}
END_TEST

/* ---- fw-glue: the log tee's parser ---- */

static void
check_parse(
    const char *line, enum ota_log_level lvl, uint32_t ms, const char *tag, const char *text)
{
	enum ota_log_level got_lvl;
	uint32_t got_ms = 0;
	char got_tag[16];
	const char *t;
	size_t tl;
	ck_assert_msg(fw_log_parse_line(line, strlen(line), &got_lvl, &got_ms, got_tag,
					sizeof(got_tag), &t, &tl),
		      "not parsed: %s", line);
	ck_assert_int_eq(got_lvl, lvl);
	ck_assert_uint_eq(got_ms, ms);
	ck_assert_str_eq(got_tag, tag);
	ck_assert_uint_eq(tl, strlen(text));
	ck_assert(memcmp(t, text, tl) == 0);
}

START_TEST(test_log_parse)
{
	enum ota_log_level lvl;
	uint32_t ms;
	char tag[16];
	const char *t;
	size_t tl;

	check_parse("\033[0;32mI (1234) app_main: hello world\033[0m\n", OTA_LOG_INFO, 1234,
		    "app_main", "hello world");
	check_parse("\033[0;31mE (5) ota: Error[3]: Receive Failed\033[0m\r\n", OTA_LOG_ERROR, 5,
		    "ota", "Error[3]: Receive Failed");
	check_parse("W (77) boot: x: y", OTA_LOG_WARN, 77, "boot", "x: y");
	check_parse("D (1) t: ", OTA_LOG_DEBUG, 1, "t", "");
	/* the counter wraps as ESP-IDF's 32-bit millisecond counter does */
	check_parse("I (4294967296) t: x", OTA_LOG_INFO, 0, "t", "x");
	/* the Wi-Fi blob prints "wifi:" without the space */
	check_parse("I (592) wifi:mode : sta (a0:b1:c2:d3:e4:f5)\n", OTA_LOG_INFO, 592, "wifi",
		    "mode : sta (a0:b1:c2:d3:e4:f5)");
	/* a long tag is cut to the buffer */
	check_parse("V (9) a_very_long_tag_name_indeed: z", OTA_LOG_VERBOSE, 9, "a_very_long_tag",
		    "z");

	ck_assert(
	    !fw_log_parse_line("plain printf output\n", 20, &lvl, &ms, tag, sizeof(tag), &t, &tl));
	ck_assert(!fw_log_parse_line("X (1) tag: text", 15, &lvl, &ms, tag, sizeof(tag), &t, &tl));
	ck_assert(
	    !fw_log_parse_line("I (abc) tag: text", 17, &lvl, &ms, tag, sizeof(tag), &t, &tl));
	ck_assert(!fw_log_parse_line("I (12) tag text", 15, &lvl, &ms, tag, sizeof(tag), &t, &tl));
	ck_assert(!fw_log_parse_line("I (12) : text", 13, &lvl, &ms, tag, sizeof(tag), &t, &tl));
	ck_assert(!fw_log_parse_line("I (12", 5, &lvl, &ms, tag, sizeof(tag), &t, &tl));
	ck_assert(!fw_log_parse_line("", 0, &lvl, &ms, tag, sizeof(tag), &t, &tl));
}
END_TEST

/* ---- fw-log: the esp_log tee ---- */

static char stream[16384];
static size_t stream_len;

static bool
stream_send(void *user, unsigned client, const char *line, size_t len)
{
	(void)user;
	(void)client;
	if (len > sizeof(stream) - stream_len - 1)
		return false;
	memcpy(stream + stream_len, line, len);
	stream_len += len;
	stream[stream_len] = '\0';
	return true;
}

static uint32_t
stream_clock(void *user)
{
	(void)user;
	return fw_log_clock(999);
}

/* a core log with one client, as the network task has; the tee installed */
static struct ota_log *
stream_open(void)
{
	static struct ota_log log;
	static char ring[8192];
	struct ota_log_config lc;

	memset(&lc, 0, sizeof(lc));
	lc.ring = ring;
	lc.ring_size = sizeof(ring);
	lc.send = stream_send;
	lc.clock = stream_clock;
	lc.level = OTA_LOG_INFO;
	lc.colors = true;
	ck_assert_int_eq(ota_log_init(&log, &lc), 0);
	ck_assert_int_eq(ota_log_client_add(&log), 0);
	fw_log_tee_install();
	fw_log_drain(&log); /* whatever an earlier test left */
	stream_len = 0;
	stream[0] = '\0';
	return &log;
}

static void
stream_sync(struct ota_log *log)
{
	fw_log_drain(log);
	ota_log_pump(log);
}

START_TEST(test_log_tee_lines)
{
	struct ota_log *log = stream_open();

	fake_log_write("\033[0;32mI (%lu) %s: hello %d\033[0m\n", 1234UL, "app_main", 7);
	/* the console still gets the line, unchanged */
	ck_assert_str_eq(fake.console, "\033[0;32mI (1234) app_main: hello 7\033[0m\n");
	ck_assert(fw_log_pending());
	stream_sync(log);
	ck_assert(!fw_log_pending());
	/* the stream shows it as ESP-IDF does, with the console's timestamp */
	ck_assert_str_eq(stream, "\033[0;32mI (1234) app_main: hello 7\033[0m\n");
	ck_assert_int_eq(fake.critical_depth, 0);
	ck_assert_uint_gt(fake.critical_sections, 0);

	/* log v2 hands a line over in pieces */
	stream_len = 0;
	fake_log_write("\033[0;33mW (%u) %s: ", 5u, "wifi_sta");
	fake_log_write("disconnected (reason %u)", 201u);
	stream_sync(log);
	ck_assert_uint_eq(stream_len, 0); /* not a whole line yet */
	fake_log_write("\033[0m\n");
	stream_sync(log);
	ck_assert_str_eq(stream, "\033[0;33mW (5) wifi_sta: disconnected (reason 201)\033[0m\n");

	/* printf() output is kept as console text, at the time it is drained */
	stream_len = 0;
	fake_log_write("raw %s\n", "text");
	stream_sync(log);
	ck_assert_str_eq(stream, "\033[0;32mI (999) console: raw text\033[0m\n");
}
END_TEST

START_TEST(test_log_tee_overflow)
{
	struct ota_log *log = stream_open();
	char big[400];
	unsigned lost_lines = 0;

	/* more than the staging ring holds before the network task drains it */
	for (unsigned i = 0; i < 100; i++)
		fake_log_write("I (%u) sensor: reading %u of a long series of lines\n", i, i);
	stream_sync(log);
	ck_assert_msg(strstr(stream, "log: ") != NULL &&
			  strstr(stream, "bytes of log output lost") != NULL,
		      "%s", stream);
	/* what did fit arrived whole, in order */
	ck_assert(strstr(stream, "I (0) sensor: reading 0 of") != NULL);
	for (const char *p = stream; (p = strstr(p, "sensor: reading")) != NULL; p++)
		lost_lines++;
	ck_assert_uint_lt(lost_lines, 100);
	ck_assert_uint_gt(lost_lines, 50);

	/* a line longer than a log line is cut, still ends, and the next one is intact */
	stream_len = 0;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	fake_log_write("I (7) long: %s\n", big);
	fake_log_write("I (8) next: ok\n");
	stream_sync(log);
	ck_assert(strstr(stream, "I (7) long: xxx") != NULL);
	ck_assert(strstr(stream, "I (8) next: ok\033[0m\n") != NULL);
}
END_TEST

/* ---- fw-flash over the fake partition API ---- */

START_TEST(test_partitions_csv)
{
	/* the shipped table: no factory app, otadata, two slots, a filesystem */
	ck_assert_ptr_nonnull(fake_partition("otadata"));
	ck_assert_ptr_nonnull(fake_partition("ota_0"));
	ck_assert_ptr_nonnull(fake_partition("ota_1"));
	ck_assert_ptr_nonnull(fake_partition("spiffs"));
	ck_assert_ptr_null(esp_partition_find_first(ESP_PARTITION_TYPE_APP,
						    ESP_PARTITION_SUBTYPE_APP_FACTORY, NULL));
	ck_assert_uint_eq(fake.model.app_count, 2);
	ck_assert_uint_eq(fake_partition("ota_0")->size, fake_partition("ota_1")->size);
	/* the last partition ends inside the 4 MB flash */
	for (size_t i = 0; i < fake.n_parts; i++)
		ck_assert_uint_le((uint64_t)fake.parts[i].address + fake.parts[i].size,
				  FAKE_FLASH_SIZE);
}
END_TEST

START_TEST(test_flash_init)
{
	struct fw_flash f;
	ck_assert_int_eq(fw_flash_init(&f, 0x8000, fake_partition("ota_0")), ESP_OK);
	/* otadata, ota_0, ota_1, spiffs; nvs is out of reach */
	ck_assert_uint_eq(f.n_parts, 4);
	ck_assert_ptr_eq(f.parts[0], fake_partition("otadata"));
	ck_assert_ptr_eq(f.parts[3], fake_partition("spiffs"));
	ck_assert_uint_eq(f.ops.size, FAKE_FLASH_SIZE);
	ck_assert_uint_eq(f.ops.sector_size, 4096);
	ck_assert_uint_eq(f.ops.write_align, FW_FLASH_WRITE_ALIGN);
	ck_assert(!f.table_encrypted);
	fake.encryption = true;
	ck_assert_int_eq(fw_flash_init(&f, 0x8000, fake_partition("ota_0")), ESP_OK);
	ck_assert(f.table_encrypted);
}
END_TEST

START_TEST(test_flash_guards)
{
	const esp_partition_t *ota0 = fake_partition("ota_0");
	const esp_partition_t *ota1 = fake_partition("ota_1");
	const esp_partition_t *nvs = fake_partition("nvs");
	struct fw_flash f;
	uint8_t buf[64];
	uint8_t zeros[16];

	memset(zeros, 0, sizeof(zeros));
	ck_assert_int_eq(fw_flash_init(&f, 0x8000, ota0), ESP_OK);

	/* the running slot is read, never written or erased */
	ck_assert_int_eq(f.ops.read(f.ops.user, ota0->address, buf, 16), 0);
	ck_assert_int_ne(f.ops.write(f.ops.user, ota0->address, zeros, 16), 0);
	ck_assert_int_ne(f.ops.erase(f.ops.user, ota0->address, 4096), 0);
	ck_assert_uint_eq(f.refused, 2);
	/* neither are NVS, the bootloader or the partition table */
	ck_assert_int_ne(f.ops.write(f.ops.user, nvs->address, zeros, 16), 0);
	ck_assert_int_ne(f.ops.read(f.ops.user, nvs->address, buf, 16), 0);
	ck_assert_int_ne(f.ops.erase(f.ops.user, 0x1000, 4096), 0);
	ck_assert_int_ne(f.ops.write(f.ops.user, 0x8000, zeros, 16), 0);
	ck_assert_uint_eq(f.refused, 6);
	ck_assert_uint_eq(fake.writes + fake.erases, 0);

	/* the other slot is fair game */
	ck_assert_int_eq(f.ops.erase(f.ops.user, ota1->address, 4096), 0);
	ck_assert_int_eq(f.ops.write(f.ops.user, ota1->address + 16, zeros, 16), 0);
	ck_assert_uint_eq(fake.erases, 1);
	ck_assert_uint_eq(fake.writes, 1);
	/* an access spanning two partitions belongs to neither */
	ck_assert_int_ne(f.ops.read(f.ops.user, ota1->address - 8, buf, 16), 0);
	/* a misaligned erase reaches ESP-IDF, which refuses it */
	ck_assert_int_ne(f.ops.erase(f.ops.user, ota1->address + 512, 4096), 0);

	/* the table window: plain reads, or decrypting ones under flash encryption */
	ck_assert_int_eq(f.ops.read(f.ops.user, 0x8000, buf, 32), 0);
	ck_assert_uint_eq(buf[0], 0xAA);
	ck_assert_uint_eq(buf[1], 0x50);
	ck_assert_uint_eq(fake.flash_reads, 1);
	ck_assert_int_ne(f.ops.read(f.ops.user, 0x8000 + OTA_PARTITION_TABLE_MAX_LEN, buf, 1), 0);
	fake.encryption = true;
	ck_assert_int_eq(fw_flash_init(&f, 0x8000, ota0), ESP_OK);
	ck_assert_int_eq(f.ops.read(f.ops.user, 0x8010, buf, 32), 0);
	ck_assert_uint_eq(fake.encrypted_reads, 1);
	ck_assert_uint_eq(fake.flash_reads, 1);
}
END_TEST

/* the core's slots over fw-flash read the table ESP-IDF's gen_esp32part would write */
START_TEST(test_flash_slots_init)
{
	static struct fw_flash f;
	static struct ota_slots s;
	static uint8_t scratch[4096];
	struct sim_crypto *c = sim_crypto_new();
	struct ota_slots_config cfg;

	ck_assert_int_eq(fw_flash_init(&f, 0x8000, fake_partition("ota_1")), ESP_OK);
	memset(&cfg, 0, sizeof(cfg));
	cfg.flash = &f.ops;
	cfg.hash = sim_crypto_ops(c);
	cfg.chip = OTA_CHIP_ESP32C3;
	cfg.rollback = true;
	cfg.scratch = scratch;
	cfg.scratch_len = sizeof(scratch);
	ck_assert_int_eq(ota_slots_init(&s, &cfg), OTA_OK);
	ck_assert_uint_eq(s.app_count, 2);
	ck_assert_ptr_nonnull(s.fs);
	ck_assert_str_eq(s.fs->label, "spiffs");
	ck_assert_int_eq(ota_slots_set_running(&s, fw_slot_of_partition(fake.running)), OTA_OK);
	ck_assert_int_eq(ota_slots_next_update_slot(&s), 1);
	ck_assert_uint_eq(f.refused, 0);
	sim_crypto_free(c);
}
END_TEST

/* ---- fw-sink: the receivers' target ---- */

struct device {
	struct fw_flash flash;
	struct ota_slots slots;
	struct ota_slots_config cfg;
	uint8_t scratch[4096];
	struct sim_crypto *c_slots;
	struct sim_crypto *c_sink;
	struct fw_sink sink;
	/* notes */
	unsigned begun;
	unsigned committed;
	unsigned aborted;
	int note_slot;
	uint32_t note_len;
	bool note_sha;
	uint8_t sha[32];
};

static void
note(void *user, enum fw_sink_note n, int slot, uint32_t len, const uint8_t *sha256)
{
	struct device *d = user;
	d->note_slot = slot;
	d->note_len = len;
	d->note_sha = sha256 != NULL;
	if (sha256 != NULL)
		memcpy(d->sha, sha256, 32);
	if (n == FW_SINK_BEGUN)
		d->begun++;
	else if (n == FW_SINK_COMMITTED)
		d->committed++;
	else
		d->aborted++;
}

/* what app_main does at boot: flash map, core slots, the running slot from ESP-IDF */
static struct device *
device_boot(void)
{
	struct device *d = calloc(1, sizeof(*d));
	ck_assert_ptr_nonnull(d);
	d->c_slots = sim_crypto_new();
	d->c_sink = sim_crypto_new();
	ck_assert_int_eq(fw_flash_init(&d->flash, 0x8000, esp_ota_get_running_partition()), ESP_OK);
	d->cfg.flash = &d->flash.ops;
	d->cfg.hash = sim_crypto_ops(d->c_slots);
	d->cfg.chip = OTA_CHIP_ESP32;
	d->cfg.chip_rev = 300;
	d->cfg.rollback = true;
	d->cfg.scratch = d->scratch;
	d->cfg.scratch_len = sizeof(d->scratch);
	ck_assert_int_eq(ota_slots_init(&d->slots, &d->cfg), OTA_OK);
	ck_assert_int_eq(
	    ota_slots_set_running(&d->slots, fw_slot_of_partition(esp_ota_get_running_partition())),
	    OTA_OK);
	fw_sink_init(&d->sink, &d->slots, sim_crypto_ops(d->c_sink), note, d);
	return d;
}

static void
device_free(struct device *d)
{
	sim_crypto_free(d->c_slots);
	sim_crypto_free(d->c_sink);
	free(d);
}

static size_t
make_image(uint8_t *buf, const char *version, uint16_t chip_id, uint32_t seed)
{
	struct test_image_opts o;
	size_t len;
	memset(&o, 0, sizeof(o));
	o.chip_id = chip_id;
	o.version = version;
	o.len = 40000;
	o.seed = seed;
	len = test_image_build(buf, IMG_MAX, &o);
	ck_assert_uint_gt(len, 0);
	return len;
}

/* the serial flash of the first image, and its first boot */
static void
factory(void)
{
	static uint8_t img[IMG_MAX];
	size_t len = make_image(img, "1.0.0", 0, 1);
	struct ota_boot_result res;
	fake_flash_image("ota_0", img, len);
	ck_assert_int_eq(fake_reboot(&res), 0);
}

/* begin, write in uneven pieces, end: what the receivers do */
static int
upload(struct device *d, const uint8_t *img, size_t len, int cmd, const char *md5)
{
	const struct ota_sink *s = fw_sink_get(&d->sink);
	size_t off = 0;
	size_t piece = 1;
	int rc = s->begin(s->user, (uint32_t)len, cmd, md5);
	if (rc != OTA_OK)
		return rc;
	while (off < len) {
		size_t n = len - off < piece ? len - off : piece;
		rc = s->write(s->user, img + off, n);
		if (rc != OTA_OK) {
			s->abort(s->user);
			return rc;
		}
		off += n;
		piece = piece * 3 + 7;
	}
	return s->end(s->user);
}

static void
md5_hex(const uint8_t *data, size_t len, char out[33])
{
	uint8_t md5[16];
	test_md5(data, len, md5);
	ota_hex(md5, 16, out);
}

START_TEST(test_sink_update_and_confirm)
{
	static uint8_t img[IMG_MAX];
	uint8_t sha[32];
	char md5[33];
	struct device *d;
	struct ota_boot_result res;
	size_t len;

	factory();
	d = device_boot();
	len = make_image(img, "2.0.0", 0, 2);
	md5_hex(img, len, md5);
	ck_assert_int_eq(upload(d, img, len, OTA_CMD_FLASH, md5), OTA_OK);
	ck_assert(!fw_sink_busy(&d->sink));
	ck_assert_uint_eq(d->begun, 1);
	ck_assert_uint_eq(d->committed, 1);
	ck_assert_int_eq(d->note_slot, 1);
	ck_assert_uint_eq(d->note_len, len);
	test_sha256(img, len, sha);
	ck_assert(d->note_sha);
	ck_assert(memcmp(d->sha, sha, 32) == 0);
	/* ESP-IDF selected the slot: one call, NEW in its otadata */
	ck_assert_uint_eq(fake.set_boot_calls, 1);
	ck_assert_uint_eq(fake_state_of("ota_1"), OTA_IMG_NEW);
	ck_assert_uint_eq(fake.nor_violations, 0);
	ck_assert(memcmp(fake.flash + fake_partition("ota_1")->address, img, len) == 0);
	ck_assert_str_eq(fake.last_log + strlen(fake.last_log) - 6, "KiB/s)");
	device_free(d);

	/* the reboot: ESP-IDF's bootloader starts it PENDING_VERIFY; the app confirms */
	ck_assert_int_eq(fake_reboot(&res), 1);
	ck_assert_uint_eq(res.state, OTA_IMG_PENDING_VERIFY);
	ck_assert_int_eq(
	    fw_update_outcome(1, fw_slot_of_partition(fake.running), fake_state_of("ota_1")),
	    FW_UPDATE_TRYING);
	ck_assert_int_eq(esp_ota_mark_app_valid_cancel_rollback(), ESP_OK);
	ck_assert_int_eq(fake_reboot(&res), 1);
	ck_assert_int_eq(
	    fw_update_outcome(1, fw_slot_of_partition(fake.running), fake_state_of("ota_1")),
	    FW_UPDATE_CONFIRMED);
}
END_TEST

START_TEST(test_sink_unconfirmed_rolls_back)
{
	static uint8_t img[IMG_MAX];
	struct device *d;
	struct ota_boot_result res;
	size_t len;

	factory();
	d = device_boot();
	len = make_image(img, "2.0.0-bad-app", 0, 3);
	ck_assert_int_eq(upload(d, img, len, OTA_CMD_FLASH, NULL), OTA_OK);
	device_free(d);
	ck_assert_int_eq(fake_reboot(&res), 1);
	/* while unconfirmed, the next update is refused as esp_ota_begin refuses it */
	d = device_boot();
	ck_assert_int_eq(upload(d, img, len, OTA_CMD_FLASH, NULL), OTA_E_BAD_STATE);
	ck_assert_str_eq(d->sink.sink.error_text(d->sink.sink.user),
			 "running app is not confirmed yet (pending verify)");
	device_free(d);
	/* the self-test fails: a restart without confirming */
	ck_assert_int_eq(fake_reboot(&res), 0);
	ck_assert_uint_eq(res.aborted, 1);
	ck_assert_int_eq(
	    fw_update_outcome(1, fw_slot_of_partition(fake.running), fake_state_of("ota_0")),
	    FW_UPDATE_ROLLED_BACK);
	ck_assert_ptr_eq(esp_ota_get_last_invalid_partition(), fake_partition("ota_1"));
}
END_TEST

START_TEST(test_sink_md5_mismatch)
{
	static uint8_t img[IMG_MAX];
	struct device *d;
	size_t len;

	factory();
	d = device_boot();
	len = make_image(img, "2.0.0", 0, 4);
	ck_assert_int_eq(upload(d, img, len, OTA_CMD_FLASH, "0123456789abcdef0123456789abcdef"),
			 OTA_E_MD5);
	ck_assert_uint_eq(d->committed, 0);
	ck_assert_uint_eq(fake.set_boot_calls, 0);
	/* the held-back first bytes never reached flash: the slot is not an image */
	ck_assert_uint_ne(fake.flash[fake_partition("ota_1")->address], 0xE9);
	ck_assert_uint_eq(fake_state_of("ota_1"), OTA_IMG_UNDEFINED);
	device_free(d);
}
END_TEST

START_TEST(test_sink_idf_refuses)
{
	static uint8_t img[IMG_MAX];
	struct device *d;
	size_t len;

	factory();
	d = device_boot();
	len = make_image(img, "2.0.0", 0, 5);
	/* the core accepts it, ESP-IDF's esp_image_verify does not (no signature) */
	fake.set_boot_result = ESP_ERR_OTA_VALIDATE_FAILED;
	ck_assert_int_eq(upload(d, img, len, OTA_CMD_FLASH, NULL), OTA_E_SIGNATURE);
	ck_assert_str_eq(d->sink.sink.error_text(d->sink.sink.user),
			 "ESP-IDF refused the image (signature check)");
	ck_assert_uint_eq(d->committed, 0);
	ck_assert_uint_eq(fake_state_of("ota_1"), OTA_IMG_UNDEFINED);
	fake.set_boot_result = ESP_ERR_OTA_SMALL_SEC_VER;
	ck_assert_int_eq(upload(d, img, len, OTA_CMD_FLASH, NULL), OTA_E_VERSION);
	device_free(d);
}
END_TEST

START_TEST(test_sink_wrong_chip_and_magic)
{
	static uint8_t img[IMG_MAX];
	struct device *d;
	size_t len;

	factory();
	d = device_boot();
	len = make_image(img, "2.0.0", 0x0005, 6); /* built for the ESP32-C3 */
	ck_assert_int_eq(upload(d, img, len, OTA_CMD_FLASH, NULL), OTA_E_WRONG_CHIP);
	ck_assert_uint_eq(fake.set_boot_calls, 0);
	img[0] = 0x1F;
	ck_assert_int_eq(upload(d, img, len, OTA_CMD_FLASH, NULL), OTA_E_BAD_MAGIC);
	ck_assert_uint_eq(d->aborted, 1);
	ck_assert_uint_eq(d->committed, 0);
	device_free(d);
}
END_TEST

START_TEST(test_sink_filesystem)
{
	static uint8_t data[20000];
	struct device *d;

	factory();
	d = device_boot();
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	ck_assert_int_eq(upload(d, data, sizeof(data), OTA_CMD_FS, NULL), OTA_OK);
	ck_assert_int_eq(d->note_slot, OTA_SLOT_FS);
	ck_assert_uint_eq(d->note_len, sizeof(data));
	/* a filesystem image is not booted: ESP-IDF is not asked */
	ck_assert_uint_eq(fake.set_boot_calls, 0);
	ck_assert(memcmp(fake.flash + fake_partition("spiffs")->address, data, sizeof(data)) == 0);
	/* larger than the partition: refused before anything is erased */
	fake.erases = 0;
	ck_assert_int_eq(fw_sink_get(&d->sink)->begin(fw_sink_get(&d->sink)->user,
						      fake_partition("spiffs")->size + 1,
						      OTA_CMD_FS, NULL),
			 OTA_E_NO_SPACE);
	ck_assert_uint_eq(fake.erases, 0);
	device_free(d);
}
END_TEST

START_TEST(test_sink_busy_abort_args)
{
	const struct ota_sink *s;
	struct device *d;

	factory();
	d = device_boot();
	s = fw_sink_get(&d->sink);
	ck_assert_int_eq(s->begin(s->user, 1000, 42, NULL), OTA_E_BAD_ARGS);
	ck_assert_int_eq(s->write(s->user, (const uint8_t *)"x", 1), OTA_E_BAD_STATE);
	ck_assert_int_eq(s->end(s->user), OTA_E_BAD_STATE);
	ck_assert_int_eq(s->begin(s->user, 0, OTA_CMD_FLASH, NULL), OTA_OK);
	ck_assert(fw_sink_busy(&d->sink));
	ck_assert_int_eq(s->begin(s->user, 1000, OTA_CMD_FLASH, NULL), OTA_E_BUSY);
	ck_assert_int_eq(s->write(s->user, (const uint8_t *)"\xE9", 1), OTA_OK);
	s->abort(s->user);
	ck_assert_uint_eq(d->aborted, 1);
	ck_assert_uint_eq(d->note_len, 1);
	ck_assert(!fw_sink_busy(&d->sink));
	s->abort(s->user); /* a second abort is a no-op */
	ck_assert_uint_eq(d->aborted, 1);
	ck_assert_int_eq(s->begin(s->user, 1000, OTA_CMD_FLASH, NULL), OTA_OK);
	s->abort(s->user);
	device_free(d);
}
END_TEST

static Suite *
glue_suite(void)
{
	Suite *s = suite_create("esp32-glue");
	TCase *tc = tcase_create("glue");
	TCase *tf = tcase_create("flash");
	TCase *tk = tcase_create("sink");
	TCase *tl = tcase_create("log");

	tcase_add_test(tc, test_state_mapping);
	tcase_add_test(tc, test_slot_of_partition);
	tcase_add_test(tc, test_error_mapping);
	tcase_add_test(tc, test_reset_reasons);
	tcase_add_test(tc, test_update_outcome);
	tcase_add_test(tc, test_bad_app_marker);
	tcase_add_test(tc, test_txt_same_as_core);
	tcase_add_test(tc, test_txt_values);
	tcase_add_test(tc, test_log_parse);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tl, setup, teardown);
	tcase_add_test(tl, test_log_tee_lines);
	tcase_add_test(tl, test_log_tee_overflow);
	suite_add_tcase(s, tl);

	tcase_add_checked_fixture(tf, setup, teardown);
	tcase_add_test(tf, test_partitions_csv);
	tcase_add_test(tf, test_flash_init);
	tcase_add_test(tf, test_flash_guards);
	tcase_add_test(tf, test_flash_slots_init);
	suite_add_tcase(s, tf);

	tcase_add_checked_fixture(tk, setup, teardown);
	tcase_add_test(tk, test_sink_update_and_confirm);
	tcase_add_test(tk, test_sink_unconfirmed_rolls_back);
	tcase_add_test(tk, test_sink_md5_mismatch);
	tcase_add_test(tk, test_sink_idf_refuses);
	tcase_add_test(tk, test_sink_wrong_chip_and_magic);
	tcase_add_test(tk, test_sink_filesystem);
	tcase_add_test(tk, test_sink_busy_abort_args);
	suite_add_tcase(s, tk);
	return s;
}

int
main(void)
{
	int status = fleet_check_run(glue_suite());
	free(csv);
	return status;
}
