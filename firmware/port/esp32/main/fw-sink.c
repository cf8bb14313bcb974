/* SPDX-License-Identifier: MIT */
/* fw-sink.c - struct ota_sink over the core's A/B slots and esp_ota_set_boot_partition() */

#include "fw-sink.h"

#include <string.h>

#include "esp_err.h"
#include "esp_log.h"
#include "esp_partition.h"
#include "esp_timer.h"
#include "fw-glue.h"
#include "fw-idf-ota.h"
#include "ota/ota-auth.h"
#include "ota/ota-errors.h"
#include "ota/ota-util.h"

static const char *TAG = "ota";

static const char *
slot_label(const struct fw_sink *s, int slot)
{
	const struct ota_partition *p = ota_slots_app(s->slots, slot);
	if (slot == OTA_SLOT_FS)
		return s->slots->fs != NULL ? s->slots->fs->label : "fs";
	return p != NULL ? p->label : "?";
}

static void
hash_drop(struct fw_sink *s)
{
	if (s->hashing) {
		uint8_t scratch[OTA_SHA256_LEN];
		s->hashing = false;
		(void)s->hash->finish(s->hash->user, OTA_HASH_SHA256, scratch);
	}
}

static int
hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = ota_lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static bool
parse_md5(const char *hex, uint8_t out[OTA_MD5_LEN])
{
	if (hex == NULL || !ota_auth_is_hex(hex, 32) || hex[32] != '\0')
		return false;
	for (size_t i = 0; i < OTA_MD5_LEN; i++)
		out[i] = (uint8_t)(hex_nibble(hex[2 * i]) << 4 | hex_nibble(hex[2 * i + 1]));
	return true;
}

static int
sink_begin(void *user, uint32_t size, int command, const char *md5_hex)
{
	struct fw_sink *s = user;
	uint8_t md5[OTA_MD5_LEN];
	int slot;
	int rc;

	s->error_text = NULL;
	if (s->open)
		return OTA_E_BUSY;
	if (command != OTA_CMD_FLASH && command != OTA_CMD_FS)
		return OTA_E_BAD_ARGS;
	slot = command == OTA_CMD_FS ? OTA_SLOT_FS : OTA_SLOT_NEXT;
	rc = ota_update_begin(&s->upd, s->slots, slot, size == 0 ? OTA_SIZE_UNKNOWN : size,
			      OTA_ERASE_LAZY);
	if (rc != OTA_OK) {
		if (rc == OTA_E_BAD_STATE)
			s->error_text = "running app is not confirmed yet (pending verify)";
		ESP_LOGE(TAG, "update refused: %s (%u bytes, %s)", ota_strerror(rc), (unsigned)size,
			 command == OTA_CMD_FS ? "fs" : "app");
		return rc;
	}
	if (parse_md5(md5_hex, md5))
		(void)ota_update_set_md5(&s->upd, md5);
	s->hashing = s->hash->begin(s->hash->user, OTA_HASH_SHA256) == 0;
	s->open = true;
	s->cmd = command;
	s->size = size;
	s->written = 0;
	s->next_report = size != 0 ? 10 : FW_SINK_PROGRESS_UNKNOWN_STEP;
	s->started_us = esp_timer_get_time();
	ESP_LOGI(TAG, "start updating %s: %u bytes into %s",
		 command == OTA_CMD_FS ? "filesystem" : "sketch", (unsigned)size,
		 slot_label(s, ota_update_slot(&s->upd)));
	if (s->note != NULL)
		s->note(s->user, FW_SINK_BEGUN, ota_update_slot(&s->upd), size, NULL);
	return OTA_OK;
}

static void
report_progress(struct fw_sink *s)
{
	if (s->size != 0) {
		uint32_t pct = (uint32_t)((uint64_t)s->written * 100u / s->size);
		while (s->next_report <= 100 && pct >= s->next_report) {
			ESP_LOGI(TAG, "progress: %u%% (%u of %u bytes)", (unsigned)s->next_report,
				 (unsigned)s->written, (unsigned)s->size);
			s->next_report += 10;
		}
		return;
	}
	while (s->written >= s->next_report) {
		ESP_LOGI(TAG, "progress: %u bytes", (unsigned)s->next_report);
		s->next_report += FW_SINK_PROGRESS_UNKNOWN_STEP;
	}
}

static int
sink_write(void *user, const uint8_t *data, size_t len)
{
	struct fw_sink *s = user;
	int rc;

	s->error_text = NULL;
	if (!s->open)
		return OTA_E_BAD_STATE;
	if (len == 0)
		return OTA_OK;
	rc = ota_update_write(&s->upd, data, len);
	if (rc != OTA_OK) {
		ESP_LOGE(TAG, "write failed at %u bytes: %s", (unsigned)s->written,
			 ota_strerror(rc));
		return rc;
	}
	if (s->hashing && s->hash->update(s->hash->user, OTA_HASH_SHA256, data, len) != 0)
		hash_drop(s);
	s->written += (uint32_t)len;
	report_progress(s);
	return OTA_OK;
}

/* ESP-IDF's own verification and otadata write for an app slot the core has accepted */
static int
select_slot(struct fw_sink *s, int slot, const struct ota_image_info *info)
{
	const esp_partition_t *part =
	    esp_partition_find_first(ESP_PARTITION_TYPE_APP, ESP_PARTITION_SUBTYPE_OTA(slot), NULL);
	esp_err_t err;
	int rc;

	if (part == NULL)
		return OTA_E_NOT_FOUND;
	err = esp_ota_set_boot_partition(part);
	if (err == ESP_OK) {
		ESP_LOGI("esp_ota_ops", "new app %s %s written to %s, next boot: %s",
			 info->project_name, info->version, part->label, part->label);
		return OTA_OK;
	}
	rc = fw_ota_error_from_idf(err);
	if (err == ESP_ERR_OTA_VALIDATE_FAILED)
		s->error_text = "ESP-IDF refused the image (signature check)";
	else if (err == ESP_ERR_OTA_SMALL_SEC_VER)
		s->error_text = "secure version below the running app's (anti-rollback)";
	ESP_LOGE("esp_ota_ops", "set boot partition %s: %s (%s)", part->label, ota_strerror(rc),
		 esp_err_to_name(err));
	return rc;
}

static int
sink_end(void *user)
{
	struct fw_sink *s = user;
	struct ota_image_info info;
	uint8_t sha[OTA_SHA256_LEN];
	bool have_sha = false;
	int slot;
	int rc;

	s->error_text = NULL;
	if (!s->open)
		return OTA_E_BAD_STATE;
	slot = ota_update_slot(&s->upd);
	if (s->hashing) {
		s->hashing = false;
		have_sha = s->hash->finish(s->hash->user, OTA_HASH_SHA256, sha) == 0;
	}
	rc = ota_update_end(&s->upd, &info);
	s->open = false;
	if (rc != OTA_OK) {
		ESP_LOGE(TAG, "image in %s rejected: %s", slot_label(s, slot), ota_strerror(rc));
		return rc;
	}
	if (slot >= 0) {
		rc = select_slot(s, slot, &info);
		if (rc != OTA_OK)
			return rc;
	} else {
		ESP_LOGI(TAG, "filesystem image written: %u bytes into %s", (unsigned)s->written,
			 slot_label(s, slot));
	}
	if (s->note != NULL)
		s->note(s->user, FW_SINK_COMMITTED, slot, s->written, have_sha ? sha : NULL);
	{
		int64_t us = esp_timer_get_time() - s->started_us;
		uint64_t kbs = us > 0 ? (uint64_t)s->written * 1000000u / (uint64_t)us / 1024u : 0;
		ESP_LOGI(TAG, "update complete: %u bytes in %u ms (%u KiB/s)", (unsigned)s->written,
			 (unsigned)(us / 1000), (unsigned)kbs);
	}
	return OTA_OK;
}

static void
sink_abort(void *user)
{
	struct fw_sink *s = user;
	if (!s->open)
		return;
	ota_update_abort(&s->upd);
	hash_drop(s);
	s->open = false;
	ESP_LOGW(TAG, "update aborted after %u bytes", (unsigned)s->written);
	if (s->note != NULL)
		s->note(s->user, FW_SINK_ABORTED, ota_update_slot(&s->upd), s->written, NULL);
}

static const char *
sink_error_text(void *user)
{
	struct fw_sink *s = user;
	return s->error_text;
}

void
fw_sink_init(struct fw_sink *s,
	     struct ota_slots *slots,
	     const struct ota_hash_ops *hash,
	     fw_sink_note_fn note,
	     void *user)
{
	memset(s, 0, sizeof(*s));
	s->slots = slots;
	s->hash = hash;
	s->note = note;
	s->user = user;
	s->sink.user = s;
	s->sink.begin = sink_begin;
	s->sink.write = sink_write;
	s->sink.end = sink_end;
	s->sink.abort = sink_abort;
	s->sink.error_text = sink_error_text;
}

const struct ota_sink *
fw_sink_get(struct fw_sink *s)
{
	return &s->sink;
}

bool
fw_sink_busy(const struct fw_sink *s)
{
	return s->open;
}
