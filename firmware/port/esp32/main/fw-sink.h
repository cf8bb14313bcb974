/* SPDX-License-Identifier: MIT */
/*
 * fw-sink.h - the receivers' update target on the device: the core's update API for the
 * bytes, ESP-IDF's esp_ota_set_boot_partition() for the switch
 *
 * begin/write/end go through ota_update_begin/_write/_end over fw-flash (exactly the
 * simulator's sink: lazy sector erase, the first bytes held back until the image
 * verified, the MD5 read back from flash, the shared image parser's verdict). A good app
 * image is then selected with esp_ota_set_boot_partition(), so ESP-IDF's own
 * esp_image_verify() (signature, secure version) has the last word and otadata is written
 * by the code ESP-IDF's bootloader is tested against.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ota/ota-crypto.h"
#include "ota/ota-sink.h"
#include "ota/ota-slots.h"

/* progress lines every 10 %, or every 64 KiB when the size is unknown (as the simulator) */
#define FW_SINK_PROGRESS_UNKNOWN_STEP (64u * 1024u)

struct fw_sink;

/* what the sink tells the device */
enum fw_sink_note {
	FW_SINK_BEGUN,	   /* an update was opened on @slot */
	FW_SINK_COMMITTED, /* @slot (OTA_SLOT_FS: the filesystem) now holds @len bytes whose
			    * SHA-256 is @sha256 (NULL when hashing failed); app slots are
			    * selected for the next boot */
	FW_SINK_ABORTED,   /* the update was dropped after @len bytes */
};

typedef void (*fw_sink_note_fn)(
    void *user, enum fw_sink_note note, int slot, uint32_t len, const uint8_t *sha256);

struct fw_sink {
	struct ota_sink sink;
	struct ota_slots *slots;
	const struct ota_hash_ops *hash; /* SHA-256 of the uploaded bytes; its own instance */
	fw_sink_note_fn note;
	void *user;

	struct ota_update upd;
	bool open;
	bool hashing;
	int cmd;
	uint32_t size;
	uint32_t written;
	uint32_t next_report;
	int64_t started_us;
	const char *error_text;
};

void fw_sink_init(struct fw_sink *s,
		  struct ota_slots *slots,
		  const struct ota_hash_ops *hash,
		  fw_sink_note_fn note,
		  void *user);

/* the struct ota_sink to hand to the receivers */
const struct ota_sink *fw_sink_get(struct fw_sink *s);

/* true while an update is open */
bool fw_sink_busy(const struct fw_sink *s);
