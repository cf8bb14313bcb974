/* SPDX-License-Identifier: MIT */
/*
 * sim-device.h - one simulated ESP device: flash, A/B slots, espota, HTTP, mDNS, log stream
 *
 * A device is driven by the process's poll() loop: sim_device_collect() adds its sockets
 * and its next deadline, sim_device_dispatch() handles a ready socket, sim_device_run()
 * runs what is due (the cores' timers, reboots, confirmation, heartbeat). While the modelled
 * flash is busy (realistic timing) a device takes no events at all, like a chip whose
 * cache is off during an erase; other devices in the same process go on.
 */
#pragma once

#include <poll.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ota/ota-auth.h"
#include "ota/ota-esp-image.h"
#include "ota/ota-espota.h"
#include "ota/ota-http.h"
#include "ota/ota-log.h"
#include "ota/ota-mdns.h"
#include "ota/ota-slots.h"
#include "sim-crypto.h"
#include "sim-flash.h"
#include "sim-net.h"
#include "sim-state.h"

/* the process exits with this when a power-cut-at-op fault fires (EX_TEMPFAIL) */
#define SIM_EXIT_POWER_CUT 75

/* --fault switches; each fires once unless repeat is set */
struct sim_faults {
	bool drop; /* drop-at=BYTES */
	uint32_t drop_at;
	bool stall; /* stall-at=BYTES:SECONDS */
	uint32_t stall_at;
	uint32_t stall_ms;
	bool md5_mismatch;
	bool auth_reject;
	bool no_connect_back;
	bool begin_error;
	bool power_cut; /* power-cut-at-op=K */
	uint64_t power_cut_op;
	bool bad_app;
	bool repeat;
};

struct sim_config {
	char name[64];
	enum ota_chip chip;
	enum ota_flavor flavor;
	char board[OTA_MDNS_BOARD_MAX + 1];
	uint32_t bind_ip;
	bool mdns; /* the caller has checked the safety rule */
	uint16_t ota_port;
	uint16_t http_port;
	uint16_t log_port;
	char dir[4096]; /* <state-dir>/<name> */
	uint32_t flash_size;
	enum sim_flash_timing timing;
	uint32_t boot_time_ms;
	uint32_t tcp_window; /* receive window of upload connections, 0 = the chip's default */
	uint32_t confirm_after_ms;
	const char *project;
	const char *fw_version;
	const char *initial_image; /* NULL: build one */
	/* espota: the stored hash ("" for none) and its scheme */
	enum ota_auth_scheme auth_scheme;
	char password_hash[OTA_AUTH_SHA256_HEX_LEN + 1];
	/* HTTP update: Basic/Digest credentials when both are set */
	char http_user[OTA_HTTP_CRED_MAX + 1];
	char http_password[OTA_HTTP_CRED_MAX + 1];
	struct sim_faults faults;
	double log_rate; /* synthetic lines per second */
	uint32_t heartbeat_ms;
	bool console;	    /* mirror log lines on stdout */
	jmp_buf *power_jmp; /* where the power-cut-at-op fault jumps to */
};

enum sim_phase {
	SIM_PHASE_OFF,
	SIM_PHASE_RUNNING,
	SIM_PHASE_BOOTING, /* silent: rebooting, back at boot_at */
};

enum sim_sock_kind {
	SIM_SOCK_NONE,
	SIM_SOCK_ESPOTA,
	SIM_SOCK_HTTP,
	SIM_SOCK_LOG,
};

/* one TCP connection */
struct sim_conn {
	int fd;
	enum sim_sock_kind kind;
	int id;		 /* HTTP connection id / log client; -1 once the core let go */
	bool connecting; /* espota connect-back under way */
	bool closing;	 /* close once out is sent */
	bool broken;	 /* a send failed; reported from the loop */
	bool eof;	 /* the peer closed; reported once in is consumed */
	struct sim_buf out;
	struct sim_buf in; /* received, not yet taken (stall) */
	uint64_t paused_until_us;
};

/* which socket a pollfd belongs to */
struct sim_pollref {
	struct sim_device *dev;
	int fd;
	int which;
};

struct sim_device {
	struct sim_config cfg;
	enum sim_phase phase;
	char bind_text[16];
	uint32_t netmask;
	unsigned ifindex;
	char ifname[32];

	/* flash and slots */
	struct sim_flash flash;
	bool flash_open;
	struct ota_slots slots;
	struct ota_slots_config slots_cfg;
	uint8_t scratch[4096];
	uint64_t busy_ns_seen;
	uint64_t busy_until_us;
	bool woke; /* the flash just finished: run the timers after the next reads */
	struct sim_state state;
	uint8_t mac[6];
	int lock_fd;

	/* crypto: one instance per concurrent user */
	struct sim_crypto *c_slots;
	struct sim_crypto *c_espota;
	struct sim_crypto *c_http_auth;
	struct sim_crypto *c_http_image;
	struct sim_crypto *c_sink;

	/* what runs */
	int running_slot;
	uint32_t running_state;
	struct ota_image_info run_info;
	struct ota_esp_app_desc desc;
	bool has_desc;
	uint8_t fw_sha256[32];
	uint64_t boot_us;      /* the reset: uptime and the log clock count from here */
	uint64_t reset_us;     /* when a reboot began, 0 at power-on */
	const char *reset_reason; /* "power_on" or "software", as ESP-IDF names the reset */
	int64_t boot_line_cap; /* boot lines are not stamped later than this (ms) */
	uint64_t confirm_at_us;
	uint64_t reboot_at_us;
	uint64_t boot_at_us;
	uint64_t heartbeat_at_us;
	uint64_t lograte_at_us;
	uint32_t lograte_n;
	uint32_t heap;
	bool bad_app_reboot;
	bool rolled_back; /* this boot rolled back */
	bool upd_stall_done;

	/* the update in progress, whichever receiver drives it */
	struct ota_sink sink;
	struct ota_update upd;
	bool upd_open;
	bool upd_hashing;
	int upd_source; /* enum in sim-device.c */
	int upd_cmd;
	uint32_t upd_size;
	uint32_t upd_written; /* bytes taken (buffered ones included) */
	uint8_t upd_buf[4096];
	size_t upd_buf_len;
	uint32_t upd_next_report;
	uint64_t upd_started_us;
	bool result_set; /* the current attempt's last_update was written */
	const char *sink_error;
	int cur_source; /* the receiver currently calling into the sink */

	/* faults still armed */
	struct sim_faults armed;
	bool espota_faults_dirty;
	bool http_drop_pending;
	bool http_stall_pending;
	bool http_rejecting; /* the HTTP server runs with a random password (auth-reject) */
	bool http_restore_pending;

	/* receivers */
	struct ota_espota espota;
	struct ota_http_server *http;
	struct ota_mdns *mdns;
	bool mdns_on;
	uint64_t espota_at_us;
	uint64_t http_at_us;
	uint64_t mdns_at_us;
	struct ota_log log;
	char *log_ring;
	bool log_ready;
	int64_t log_clock_override; /* >= 0 while boot lines are written */

	/* sockets */
	int udp_fd;
	int http_fd;
	int log_fd;
	int mdns_uni_fd;
	int mdns_mcast_fd;
	struct sim_conn espota_conn;
	struct sim_conn http_conns[OTA_HTTP_MAX_CONN];
	struct sim_conn log_conns[OTA_LOG_MAX_CLIENTS];
};

/*
 * sim_device_open:
 *
 * State directory, lock, MAC, flash file; on a blank flash the partition table and the
 * factory image. Returns 0, or -1 with a message in @err.
 */
int sim_device_open(struct sim_device *d, const struct sim_config *cfg, char *err, size_t err_size);

/* the first boot and the services; -1 with @err when a port cannot be bound */
int sim_device_start(struct sim_device *d, char *err, size_t err_size);

/* pollfds of the device (at most SIM_DEVICE_MAX_FDS) and its next deadline */
#define SIM_DEVICE_MAX_FDS 16
void sim_device_collect(struct sim_device *d,
			struct pollfd *pfds,
			struct sim_pollref *refs,
			size_t *n,
			uint64_t now_us,
			uint64_t *deadline_us);
void sim_device_dispatch(struct sim_device *d, const struct sim_pollref *ref, short revents);
void sim_device_run(struct sim_device *d);

/* the power cut hit this device's flash */
bool sim_device_power_cut(struct sim_device *d);
/* logs the power cut, as far as a dying device can */
void sim_device_report_power_cut(struct sim_device *d);

/* clean shutdown: mDNS goodbye, sockets closed, flash written back */
void sim_device_close(struct sim_device *d);
