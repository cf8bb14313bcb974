/* SPDX-License-Identifier: MIT */
/*
 * fw-device.h - the one device this firmware is: configuration, slots, receivers, sockets
 *
 * app_main() (fw-main.c) fills in what is known at boot and starts Wi-Fi; everything after
 * that runs in one network task (fw-net.c) that owns the sockets and every core object, as
 * the simulator's device does on its poll() loop. Only the log tee (fw-log.c) is reached
 * from other tasks, through its own lock.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp_app_desc.h"
#include "esp_partition.h"
#include "fw-crypto.h"
#include "fw-flash.h"
#include "fw-glue.h"
#include "fw-sink.h"
#include "fw-state.h"
#include "ota/ota-auth.h"
#include "ota/ota-espota.h"
#include "ota/ota-http.h"
#include "ota/ota-log.h"
#include "ota/ota-slots.h"

/* the log history a new client gets (the simulator keeps 64 KiB; RAM is dearer here) */
#define FW_LOG_RING_SIZE (16u * 1024u)
#define FW_NAME_MAX 63

/* per-connection buffers: acks are tiny, responses are at most OTA_HTTP_OUT_MAX + body */
#define FW_ESPOTA_OUT 256u
#define FW_HTTP_OUT (OTA_HTTP_OUT_MAX + OTA_HTTP_INFO_MAX)
#define FW_LOG_OUT 1024u
#define FW_RX_CHUNK 1460u

/* one TCP connection */
struct fw_conn {
	int fd;
	int id; /* HTTP connection id / log client; -1 once the core let go */
	bool connecting;
	bool closing; /* close once out is sent */
	bool broken;  /* a send failed; reported from the loop, not from inside a core call */
	bool eof;     /* the peer closed; reported once in is consumed */
	uint8_t *out;
	size_t out_cap;
	size_t out_len;
	uint8_t in[FW_RX_CHUNK]; /* received, not yet taken */
	size_t in_len;
};

struct fw_device {
	/* configuration */
	char name[FW_NAME_MAX + 1];
	char board[OTA_MDNS_BOARD_MAX + 1];
	const char *chip_id; /* "esp32c3" */
	enum ota_chip chip;
	uint16_t chip_rev;
	enum ota_flavor flavor;
	uint16_t ota_port;
	uint16_t http_port;
	uint16_t log_port;
	enum ota_auth_scheme auth_scheme;
	char password_hash[OTA_AUTH_SHA256_HEX_LEN + 1]; /* "" without a password */
	char http_user[OTA_HTTP_CRED_MAX + 1];
	char http_password[OTA_HTTP_CRED_MAX + 1];
	uint8_t mac[6];

	/* what runs */
	const esp_partition_t *running_part;
	int running_slot;
	uint32_t running_state;
	esp_app_desc_t desc;
	uint8_t fw_sha256[32];
	const char *reset_reason;
	enum fw_update_outcome outcome;
	struct fw_state state;
	bool result_set; /* the current attempt's last_update was written */

	/* flash */
	struct fw_flash flash;
	struct ota_slots slots;
	struct ota_slots_config slots_cfg;
	uint8_t scratch[4096];

	/* crypto: one instance per concurrent user */
	struct fw_crypto c_slots;
	struct fw_crypto c_espota;
	struct fw_crypto c_http_auth;
	struct fw_crypto c_http_image;
	struct fw_crypto c_sink;

	/* receivers */
	struct fw_sink sink;
	struct ota_espota espota;
	struct ota_http_server http;
	struct ota_log log;
	char log_ring[FW_LOG_RING_SIZE];

	/* network */
	uint32_t ip;
	uint32_t netmask;
	bool services_up;
	bool mdns_on;
	int udp_fd;
	int http_fd;
	int log_fd;
	struct fw_conn espota_conn;
	struct fw_conn http_conns[OTA_HTTP_MAX_CONN];
	struct fw_conn log_conns[OTA_LOG_MAX_CLIENTS];
	uint8_t espota_out[FW_ESPOTA_OUT];
	uint8_t http_out[OTA_HTTP_MAX_CONN][FW_HTTP_OUT];
	uint8_t log_out[OTA_LOG_MAX_CLIENTS][FW_LOG_OUT];

	/* timers, in ms of fw_now_ms(); 0 is off */
	uint32_t espota_at;
	uint32_t http_at;
	uint32_t confirm_at;
	uint32_t selftest_deadline;
	uint32_t heartbeat_at;
	uint32_t reboot_at;
};

/* milliseconds since boot (esp_timer), the clock of every core call */
uint32_t fw_now_ms(void);

/* the network task: services, the self-test and confirmation, updates, the reboot */
void fw_net_task(void *arg);
