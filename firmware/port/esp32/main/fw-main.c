/* SPDX-License-Identifier: MIT */
/*
 * fw-main.c - app_main(): what booted, the previous update's fate, passwords, Wi-Fi, and the
 * network task
 *
 * The second-stage bootloader is ESP-IDF's own: it already chose the slot (PENDING_VERIFY
 * -> ABORTED, NEW -> PENDING_VERIFY, fallback on a bad image). The app only learns its
 * choice (esp_ota_get_running_partition, told to the core with ota_slots_set_running) and
 * confirms itself after its self-test (fw-net.c).
 */

#include <stdio.h>
#include <string.h>

#include "esp_app_desc.h"
#include "esp_chip_info.h"
#include "esp_log.h"
#include "esp_mac.h"
#include "esp_random.h"
#include "esp_system.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "fw-device.h"
#include "fw-idf-ota.h"
#include "fw-log.h"
#include "fw-wifi.h"
#include "nvs_flash.h"
#include "port-info.h"
#include "ota/ota-errors.h"
#include "ota/ota-util.h"
#include "sdkconfig.h"

static const char *TAG = "app_main";

#define NET_TASK_STACK 8192
#define NET_TASK_PRIO 5

/* large: the HTTP server alone is ~17 KiB, the log history 16 KiB */
static struct fw_device s_dev;

static void
nvs_start(void)
{
	esp_err_t err = nvs_flash_init();
	if (err == ESP_ERR_NVS_NO_FREE_PAGES || err == ESP_ERR_NVS_NEW_VERSION_FOUND) {
		ESP_LOGW("nvs", "NVS partition was full or of a newer format: erasing it");
		ESP_ERROR_CHECK(nvs_flash_erase());
		err = nvs_flash_init();
	}
	ESP_ERROR_CHECK(err);
}

static void
identity(struct fw_device *d)
{
	esp_chip_info_t ci;

	d->chip = ota_chip_from_id(CONFIG_IDF_FIRMWARE_CHIP_ID);
	d->chip_id = ota_chip_id_string(d->chip);
	esp_chip_info(&ci);
	d->chip_rev = ci.revision; /* major * 100 + minor, as in the image header */
	if (esp_read_mac(d->mac, ESP_MAC_WIFI_STA) != ESP_OK)
		memset(d->mac, 0, sizeof(d->mac));
	if (CONFIG_ESPFLEET_HOSTNAME[0] != '\0')
		snprintf(d->name, sizeof(d->name), "%s", CONFIG_ESPFLEET_HOSTNAME);
	else
		snprintf(d->name, sizeof(d->name), "%s-%02x%02x%02x%02x%02x%02x", d->chip_id,
			 d->mac[0], d->mac[1], d->mac[2], d->mac[3], d->mac[4], d->mac[5]);
	snprintf(d->board, sizeof(d->board), "%s",
		 CONFIG_ESPFLEET_BOARD[0] != '\0' ? CONFIG_ESPFLEET_BOARD : d->chip_id);
#ifdef CONFIG_ESPFLEET_FLAVOR_ESP8266
	d->flavor = OTA_FLAVOR_ESP8266;
#else
	d->flavor = OTA_FLAVOR_ESP32;
#endif
	d->ota_port = CONFIG_ESPFLEET_OTA_PORT;
	d->http_port = CONFIG_ESPFLEET_HTTP_PORT;
	d->log_port = CONFIG_ESPFLEET_LOG_PORT;
	d->reset_reason = fw_reset_reason_id(esp_reset_reason());
}

/*
 * espota keeps what ArduinoOTA's setPasswordHash() keeps; HTTP Basic compares the password
 * itself, so with only a hash configured HTTP uploads are refused (a random password)
 * rather than left open, as in the simulator
 */
static void
passwords(struct fw_device *d)
{
	const char *plain = CONFIG_ESPFLEET_OTA_PASSWORD;
	const char *hash = CONFIG_ESPFLEET_OTA_PASSWORD_HASH;

#ifdef CONFIG_ESPFLEET_AUTH_SHA256
	d->auth_scheme = OTA_AUTH_PBKDF2;
#else
	d->auth_scheme = OTA_AUTH_MD5;
#endif
	snprintf(d->http_user, sizeof(d->http_user), "%s", CONFIG_ESPFLEET_HTTP_USER);
	d->password_hash[0] = '\0';
	d->http_password[0] = '\0';
	if (plain[0] != '\0') {
		if (ota_auth_password_hash(fw_crypto_ops(&d->c_slots), d->auth_scheme, plain,
					   strlen(plain), d->password_hash) != OTA_OK) {
			ESP_LOGE(TAG, "cannot hash the OTA password: updates stay locked");
			d->password_hash[0] = '\0';
			esp_fill_random(d->scratch, 16);
			ota_hex(d->scratch, 16, d->http_password);
			return;
		}
		snprintf(d->http_password, sizeof(d->http_password), "%s", plain);
		return;
	}
	if (hash[0] != '\0') {
		size_t n = strlen(hash);
		bool ok = (n == OTA_AUTH_MD5_HEX_LEN ||
			   (n == OTA_AUTH_SHA256_HEX_LEN && d->auth_scheme == OTA_AUTH_PBKDF2)) &&
			  ota_auth_is_hex(hash, n);
		if (ok) {
			snprintf(d->password_hash, sizeof(d->password_hash), "%s", hash);
		} else {
			/* locked rather than open: a hash nobody knows the password of */
			ESP_LOGE(TAG, "CONFIG_ESPFLEET_OTA_PASSWORD_HASH is not a 32 or 64 hex "
				      "digit hash: no espota upload can authenticate");
			esp_fill_random(d->scratch, 16);
			ota_hex(d->scratch, 16, d->password_hash);
		}
		esp_fill_random(d->scratch, 16);
		ota_hex(d->scratch, 16, d->http_password);
		ESP_LOGI(TAG, "espota uses the configured password hash; HTTP uploads are refused "
			      "(no plain password to compare)");
	}
}

/* SHA-256 of the first @len bytes of @part */
static bool
hash_partition(struct fw_device *d, const esp_partition_t *part, uint32_t len, uint8_t out[32])
{
	const struct ota_hash_ops *h = fw_crypto_ops(&d->c_slots);
	uint32_t off = 0;
	if (len > part->size || h->begin(h->user, OTA_HASH_SHA256) != 0)
		return false;
	while (off < len) {
		uint32_t n = len - off < sizeof(d->scratch) ? len - off : sizeof(d->scratch);
		if (esp_partition_read(part, off, d->scratch, n) != ESP_OK ||
		    h->update(h->user, OTA_HASH_SHA256, d->scratch, n) != 0) {
			(void)h->finish(h->user, OTA_HASH_SHA256, d->scratch);
			return false;
		}
		off += n;
	}
	return h->finish(h->user, OTA_HASH_SHA256, out) == 0;
}

/*
 * fw_sha256: of the running image as it was uploaded (the slot record, when it still
 * matches the slot's bytes), else of the image as the parser delimits it
 */
static void
running_sha256(struct fw_device *d)
{
	const struct fw_slot_record *r = d->running_slot >= 0 && d->running_slot < FW_STATE_SLOTS
					     ? &d->state.slots[d->running_slot]
					     : NULL;
	struct ota_image_info info;
	uint8_t sha[32];
	int rc;

	memset(d->fw_sha256, 0, sizeof(d->fw_sha256));
	if (d->running_part == NULL)
		return;
	if (r != NULL && r->known && hash_partition(d, d->running_part, r->len, sha) &&
	    memcmp(sha, r->sha256, sizeof(sha)) == 0) {
		memcpy(d->fw_sha256, sha, sizeof(sha));
		return;
	}
	rc = ota_slots_verify(&d->slots, d->running_slot, &info);
	if (rc != OTA_OK) {
		ESP_LOGW(TAG, "the running image does not pass the core's check: %s",
			 ota_strerror(rc));
		return;
	}
	if (!hash_partition(d, d->running_part, info.image_len, d->fw_sha256))
		ESP_LOGW(TAG, "cannot read the running image back");
}

static void
slots_start(struct fw_device *d)
{
	esp_ota_img_states_t st;
	esp_err_t err;
	int rc;

	d->running_part = esp_ota_get_running_partition();
	d->running_slot = fw_slot_of_partition(d->running_part);
	if (esp_ota_get_partition_description(d->running_part, &d->desc) != ESP_OK)
		memcpy(&d->desc, esp_app_get_description(), sizeof(d->desc));
	d->running_state =
	    d->running_part != NULL && esp_ota_get_state_partition(d->running_part, &st) == ESP_OK
		? fw_state_from_idf(st)
		: OTA_IMG_UNDEFINED;

	err = fw_flash_init(&d->flash, CONFIG_PARTITION_TABLE_OFFSET, d->running_part);
	if (err != ESP_OK) {
		ESP_LOGE(TAG, "no otadata partition (%s): this firmware needs partitions.csv",
			 esp_err_to_name(err));
		return;
	}
	d->slots_cfg.flash = &d->flash.ops;
	d->slots_cfg.hash = fw_crypto_ops(&d->c_slots);
	d->slots_cfg.chip = d->chip;
	d->slots_cfg.chip_rev = d->chip_rev;
#ifdef CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE
	d->slots_cfg.rollback = true;
#else
	d->slots_cfg.rollback = false;
#endif
	d->slots_cfg.table_offset = CONFIG_PARTITION_TABLE_OFFSET;
	d->slots_cfg.scratch = d->scratch;
	d->slots_cfg.scratch_len = sizeof(d->scratch);
	rc = ota_slots_init(&d->slots, &d->slots_cfg);
	if (rc == OTA_OK)
		rc = ota_slots_set_running(&d->slots, d->running_slot);
	if (rc != OTA_OK)
		ESP_LOGE(TAG, "partition table: %s (ota_0 and ota_1 and otadata are needed)",
			 ota_strerror(rc));
}

/* what became of the update the previous run selected */
static void
previous_update(struct fw_device *d)
{
	d->outcome = fw_update_outcome(d->state.pending_slot, d->running_slot, d->running_state);
	switch (d->outcome) {
	case FW_UPDATE_ROLLED_BACK: {
		const esp_partition_t *bad = esp_ota_get_last_invalid_partition();
		ESP_LOGW(TAG, "last update rolled back: the new app did not confirm itself (%s)",
			 bad != NULL ? bad->label : "not bootable");
		snprintf(d->state.last_update, sizeof(d->state.last_update), "rolled back");
		d->state.pending_slot = OTA_SLOT_NONE;
		break;
	}
	case FW_UPDATE_CONFIRMED:
		d->state.pending_slot = OTA_SLOT_NONE;
		break;
	case FW_UPDATE_TRYING:
	case FW_UPDATE_NONE:
	default:
		break;
	}
}

void
app_main(void)
{
	struct fw_device *d = &s_dev;

	fw_log_tee_install();
	nvs_start();
	fw_crypto_init(&d->c_slots);
	fw_crypto_init(&d->c_espota);
	fw_crypto_init(&d->c_http_auth);
	fw_crypto_init(&d->c_http_image);
	fw_crypto_init(&d->c_sink);
	identity(d);
	if (fw_state_load(&d->state) != ESP_OK)
		ESP_LOGE("nvs", "cannot read the device state: starting afresh");
	d->state.boot_count++;
	slots_start(d);
	previous_update(d);
	if (fw_state_save(&d->state) != ESP_OK)
		ESP_LOGE("nvs", "cannot save the device state");
	running_sha256(d);
	passwords(d);

	ESP_LOGI(TAG, "%s %s starting", d->desc.project_name, d->desc.version);
	ESP_LOGI(TAG, "running %s (%s), boot #%u, reset reason %s",
		 d->running_part != NULL ? d->running_part->label : "?",
		 port_state_id(d->running_state), (unsigned)d->state.boot_count, d->reset_reason);
	if (d->flash.refused != 0)
		ESP_LOGE(TAG, "%u flash accesses outside the OTA partitions were refused",
			 d->flash.refused);

	ESP_ERROR_CHECK(
	    fw_wifi_start(CONFIG_ESPFLEET_WIFI_SSID, CONFIG_ESPFLEET_WIFI_PASSWORD, d->name));
	if (xTaskCreate(fw_net_task, "fleet_net", NET_TASK_STACK, d, NET_TASK_PRIO, NULL) !=
	    pdPASS) {
		ESP_LOGE(TAG, "cannot start the network task");
		/* no listeners: the self-test fails and a new image rolls back */
		vTaskDelay(pdMS_TO_TICKS(1000));
		esp_restart();
	}
}
