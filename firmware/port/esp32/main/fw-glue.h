/* SPDX-License-Identifier: MIT */
/*
 * fw-glue.h - the ESP-IDF port's decisions that need no hardware: state and error mapping,
 * the previous update's outcome, the mDNS TXT items and the log tee's line parser (the GET
 * /info document is firmware/port/common/port-info.c, shared with the simulator)
 *
 * Everything here is plain logic over ESP-IDF's types, so tests/firmware/check-esp32-glue.c
 * runs it on the host against small fakes of the ESP-IDF headers, and
 * tools/check-against-idf type-checks the same file against a real ESP-IDF tree.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp_err.h"
#include "esp_partition.h"
#include "esp_system.h"
#include "fw-idf-ota.h"
#include "ota/ota-log.h"
#include "ota/ota-mdns.h"

/* esp_ota_img_states_t -> the core's OTA_IMG_* (the same numbers on flash, mapped by name) */
uint32_t fw_state_from_idf(esp_ota_img_states_t state);

/* ota_N -> N; OTA_SLOT_NONE for NULL, factory, test or data partitions */
int fw_slot_of_partition(const esp_partition_t *part);

/* an ESP-IDF error from esp_ota_* / esp_partition_* as the core's OTA_E_* code */
int fw_ota_error_from_idf(esp_err_t err);

/* the /info "reset_reason" word: "power_on", "software", "panic", "task_wdt", ... */
const char *fw_reset_reason_id(esp_reset_reason_t reason);

/* what became of the update the previous run selected (nothing persisted: FW_UPDATE_NONE) */
enum fw_update_outcome {
	FW_UPDATE_NONE,	       /* no update was pending */
	FW_UPDATE_TRYING,      /* running the new slot: it must now confirm itself */
	FW_UPDATE_CONFIRMED,   /* running the new slot, already confirmed (a later boot) */
	FW_UPDATE_ROLLED_BACK, /* the bootloader came back on another slot */
};

/*
 * fw_update_outcome:
 * @pending_slot: the slot the last successful upload selected (esp_ota_set_boot_partition),
 *   as persisted in NVS, or OTA_SLOT_NONE
 * @running_slot: the slot ESP-IDF's bootloader started (esp_ota_get_running_partition)
 * @running_state: the core's OTA_IMG_* of the running slot
 */
enum fw_update_outcome
fw_update_outcome(int pending_slot, int running_slot, uint32_t running_state);

/* the simulator's documented bad-app marker: "bad-app" in the project name or version */
bool fw_is_bad_app(const char *project, const char *version);

/* the TXT record of the _arduino._tcp service, the same keys and values the core announces */
#define FW_TXT_MAX 12
struct fw_txt {
	size_t count;
	const char *key[FW_TXT_MAX];
	const char *value[FW_TXT_MAX];
	/* value storage for the items that are not the caller's strings */
	char sha[17];
	char log_port[6];
	char mac[18];
	char http_port[6];
};

/* builds the TXT items of @cfg in the core responder's order (ota-mdns.c build_txt) */
void fw_txt_build(const struct ota_mdns_config *cfg, struct fw_txt *out);

/*
 * fw_log_parse_line:
 *
 * Splits one line as ESP-IDF's logger prints it ("\033[0;32mI (1234) tag: text\033[0m",
 * colours optional, trailing CR/LF ignored) into its level, time, tag and text, so that the tee
 * can hand it to the core's log stream, which formats it the same way again.
 *
 * Returns: false when the line is not in that form (plain printf output).
 */
bool fw_log_parse_line(const char *line,
		       size_t len,
		       enum ota_log_level *level,
		       uint32_t *ms,
		       char *tag,
		       size_t tag_size,
		       const char **text,
		       size_t *text_len);
