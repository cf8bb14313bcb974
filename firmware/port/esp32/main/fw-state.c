/* SPDX-License-Identifier: MIT */
/* fw-state.c - boot count, last update result and slot records in NVS */

#include "fw-state.h"

#include <stdio.h>
#include <string.h>

#include "nvs.h"
#include "ota/ota-slots.h"

#define NS "espfleet"

/* the stored form of a slot record: length, then the digest */
struct record_blob {
	uint32_t len;
	uint8_t sha256[32];
};

esp_err_t
fw_state_load(struct fw_state *st)
{
	nvs_handle_t h;
	int8_t pending = -1;
	size_t n;
	esp_err_t err;

	memset(st, 0, sizeof(*st));
	st->pending_slot = OTA_SLOT_NONE;
	err = nvs_open(NS, NVS_READONLY, &h);
	if (err == ESP_ERR_NVS_NOT_FOUND)
		return ESP_OK; /* a first boot: nothing stored yet */
	if (err != ESP_OK)
		return err;
	(void)nvs_get_u32(h, "boots", &st->boot_count);
	n = sizeof(st->last_update);
	if (nvs_get_str(h, "last", st->last_update, &n) != ESP_OK)
		st->last_update[0] = '\0';
	if (nvs_get_i8(h, "pending", &pending) == ESP_OK && pending >= 0)
		st->pending_slot = pending;
	for (int i = 0; i < FW_STATE_SLOTS; i++) {
		struct record_blob b;
		char key[8];
		snprintf(key, sizeof(key), "slot%d", i);
		n = sizeof(b);
		if (nvs_get_blob(h, key, &b, &n) == ESP_OK && n == sizeof(b)) {
			st->slots[i].known = true;
			st->slots[i].len = b.len;
			memcpy(st->slots[i].sha256, b.sha256, sizeof(b.sha256));
		}
	}
	nvs_close(h);
	return ESP_OK;
}

esp_err_t
fw_state_save(const struct fw_state *st)
{
	nvs_handle_t h;
	esp_err_t err = nvs_open(NS, NVS_READWRITE, &h);
	if (err != ESP_OK)
		return err;
	err = nvs_set_u32(h, "boots", st->boot_count);
	if (err == ESP_OK)
		err = nvs_set_str(h, "last", st->last_update);
	if (err == ESP_OK)
		err = nvs_set_i8(h, "pending",
				 (int8_t)(st->pending_slot >= 0 ? st->pending_slot : -1));
	for (int i = 0; i < FW_STATE_SLOTS && err == ESP_OK; i++) {
		char key[8];
		snprintf(key, sizeof(key), "slot%d", i);
		if (st->slots[i].known) {
			struct record_blob b;
			b.len = st->slots[i].len;
			memcpy(b.sha256, st->slots[i].sha256, sizeof(b.sha256));
			err = nvs_set_blob(h, key, &b, sizeof(b));
		} else {
			err = nvs_erase_key(h, key);
			if (err == ESP_ERR_NVS_NOT_FOUND)
				err = ESP_OK;
		}
	}
	if (err == ESP_OK)
		err = nvs_commit(h);
	nvs_close(h);
	return err;
}
