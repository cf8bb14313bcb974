/* SPDX-License-Identifier: MIT */
/*
 * ota-espota.h - the device side of espota / ArduinoOTA as a socket-free state machine
 *
 * Wire behaviour follows specs/espota.md §2-§5 for two device families, chosen at run
 * time: OTA_FLAVOR_ESP8266 (esp8266/Arduino ArduinoOTA) and OTA_FLAVOR_ESP32
 * (arduino-esp32 ArduinoOTA 3.x); either flavour can use either authentication scheme
 * (legacy MD5 or the >= 3.3.1 PBKDF2 one).
 *
 * The port owns the sockets. It feeds every datagram received on the OTA UDP port to
 * ota_espota_on_udp(), opens the connect-back TCP connection when asked through
 * ops.tcp_connect and reports its fate (ota_espota_on_tcp_connected() /
 * ota_espota_on_tcp_closed()), feeds received TCP bytes to ota_espota_on_tcp_data(), and
 * calls ota_espota_poll() after each of these calls and whenever the delay poll returned
 * has passed. Work a real device does in handle() (Update.begin, the connect-back, the
 * timed pauses and receive timeouts) happens in poll.
 *
 * Where replies go: ESP8266 sends every UDP reply to the invitation's source address and
 * port and connects back to the invitation's source IP; ESP32 replies to the source of the
 * packet at hand and connects back to the source IP of the packet that got its OK (the auth
 * message when a password is set). Both connect to the invitation's HOSTPORT.
 *
 * The image MD5 announced in the invitation is checked here, over @hash, before the sink's
 * end() is called; a mismatch aborts the sink and sends "ERROR[7]: MD5 verification
 * failed: expected: <x>, calculated: <y>\n" (ESP8266) or "MD5 Check Failed\r\n" (ESP32).
 * Deviation from the stock loop: a failing sink write is reported at once (error text,
 * then close) instead of after the host gives up.
 *
 * IPv4 addresses are host byte order (192.168.1.50 is 0xC0A80132). Times are
 * milliseconds of a free-running 32-bit clock; wrap-around is handled.
 *
 * Functions return 0 or a negative OTA_E_* code (OTA_E_BAD_ARGS, OTA_E_BAD_STATE).
 * Callbacks must not call back into the receiver, except that tcp_connect may report
 * the result at once through ota_espota_on_tcp_connected() / _on_tcp_closed().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ota/ota-auth.h"
#include "ota/ota-crypto.h"
#include "ota/ota-errors.h"
#include "ota/ota-sink.h"

#define OTA_ESPOTA_PORT_ESP8266 8266
#define OTA_ESPOTA_PORT_ESP32 3232
/* ESP32: bytes read per loop iteration, each acknowledged on its own */
#define OTA_ESPOTA_ESP32_CHUNK 1460u
/* ESP32: default setTimeout() and the number of times the last count is re-sent */
#define OTA_ESPOTA_ESP32_TIMEOUT_MS 1000u
#define OTA_ESPOTA_ESP32_RETRIES 3u
/* ESP8266: pause between UDP OK and the connect-back, and around the final OK */
#define OTA_ESPOTA_ESP8266_CONNECT_DELAY_MS 100u
#define OTA_ESPOTA_ESP8266_OK_DELAY_MS 1000u
/* how long the port may take to report the outcome of tcp_connect */
#define OTA_ESPOTA_CONNECT_TIMEOUT_MS 5000u
/* the longest datagram looked at; the stock parsers never read further either */
#define OTA_ESPOTA_UDP_MAX 512u

enum ota_espota_state {
	OTA_ESPOTA_IDLE,
	OTA_ESPOTA_WAITAUTH,
	OTA_ESPOTA_RUNUPDATE,
};

/* ArduinoOTA's ota_error_t */
enum ota_espota_error {
	OTA_ESPOTA_ERR_AUTH = 0,
	OTA_ESPOTA_ERR_BEGIN = 1,
	OTA_ESPOTA_ERR_CONNECT = 2,
	OTA_ESPOTA_ERR_RECEIVE = 3,
	OTA_ESPOTA_ERR_END = 4,
};

/* what the receiver tells the port (ArduinoOTA's onStart/onProgress/onEnd/onError) */
enum ota_espota_event {
	OTA_ESPOTA_EV_START,	/* a = size, b = command: the sink's begin() succeeded */
	OTA_ESPOTA_EV_PROGRESS, /* a = bytes written so far, b = size */
	OTA_ESPOTA_EV_END,	/* a = size: image committed, OK sent; the port reboots */
	OTA_ESPOTA_EV_ERROR,	/* a = enum ota_espota_error, b = enum ota_update_error or 0 */
};

struct ota_espota_ops {
	void *user;
	/* send one datagram from the OTA UDP port */
	void (*udp_send)(
	    void *user, uint32_t dst_ip, uint16_t dst_port, const uint8_t *data, size_t len);
	/* start a TCP connection; 0 when started, negative when it failed at once */
	int (*tcp_connect)(void *user, uint32_t ip, uint16_t port);
	/* queue all @len bytes on the connection (acks are tiny); negative on failure */
	int (*tcp_send)(void *user, const uint8_t *data, size_t len);
	/*
	 * close the connection (after queued bytes went out), or cancel a connect still
	 * under way; no on_tcp_* calls follow
	 */
	void (*tcp_close)(void *user);
	/* optional: fill @buf with random bytes for nonces; 0 on success */
	int (*random)(void *user, uint8_t *buf, size_t len);
	/* optional */
	void (*event)(void *user, enum ota_espota_event ev, uint32_t a, uint32_t b);
};

/*
 * Faults for the simulator; a zeroed struct means no faults. Byte positions count image
 * bytes received on TCP.
 */
struct ota_espota_faults {
	bool drop; /* after drop_at bytes: close TCP without a word */
	uint32_t drop_at;
	bool stall; /* at stall_at bytes: stop reading for stall_ms (once) */
	uint32_t stall_at;
	uint32_t stall_ms;
	bool md5_mismatch;    /* the computed MD5 is corrupted, so the check fails */
	bool reject_auth;     /* every auth response is answered "Authentication Failed" */
	bool no_connect_back; /* accept the invitation but never connect */
	bool begin_no_space;  /* begin fails with "Not Enough Space" (sink not asked) */
};

struct ota_espota_config {
	enum ota_flavor flavor;
	enum ota_auth_scheme auth_scheme; /* nonce length 32 (MD5) or 64 (PBKDF2) */
	/*
	 * NULL or "": no password. Otherwise the stored hash as setPasswordHash() keeps it:
	 * 32 hex (OTA_AUTH_MD5: K = MD5hex(password); OTA_AUTH_PBKDF2: a legacy MD5 PH) or
	 * 64 hex (OTA_AUTH_PBKDF2: PH = SHA256hex(password)). Used verbatim, so its case
	 * matters as on a real device. ota_auth_password_hash() computes it.
	 */
	const char *password_hash;
	uint32_t timeout_ms;	  /* ESP32 receive timeout; 0 means 1000 */
	uint32_t idle_timeout_ms; /* ESP8266 gives up after this silence; 0: never, as stock */
	const struct ota_hash_ops *hash; /* nonces, auth and the image MD5; its own instance */
	const struct ota_sink *sink;
	struct ota_espota_ops ops;
	struct ota_espota_faults faults;
};

/* internal sub-states of RUNUPDATE */
enum ota_espota_phase {
	OTA_ESPOTA_PH_NONE,
	OTA_ESPOTA_PH_BEGIN,	     /* begin() due at the next poll (handle() on a device) */
	OTA_ESPOTA_PH_CONNECT_DELAY, /* ESP8266: 100 ms after UDP OK */
	OTA_ESPOTA_PH_CONNECTING,
	OTA_ESPOTA_PH_RECEIVING,
	OTA_ESPOTA_PH_OK_DELAY,	   /* ESP8266: 1 s before the final OK */
	OTA_ESPOTA_PH_CLOSE_DELAY, /* ESP8266: 1 s after the final OK */
};

struct ota_espota {
	/* configuration */
	enum ota_flavor flavor;
	enum ota_auth_scheme scheme;
	char key[OTA_AUTH_SHA256_HEX_LEN + 1];
	size_t key_len;
	uint32_t timeout_ms;
	uint32_t idle_timeout_ms;
	const struct ota_hash_ops *hash; /* nonces and auth; run.md5 is the same one */
	struct ota_sink_run run;	 /* the sink and the image MD5 */
	struct ota_espota_ops ops;
	struct ota_espota_faults faults;

	enum ota_espota_state state;
	enum ota_espota_phase phase;

	/* the invitation */
	int cmd;
	uint32_t size;
	uint16_t host_port;  /* HOSTPORT: where to connect back */
	uint32_t ota_ip;     /* where to connect back and (ESP8266) send replies */
	uint16_t reply_port; /* ESP8266: the invitation's source port */
	char md5[OTA_AUTH_MD5_HEX_LEN + 1];
	char nonce[OTA_AUTH_SHA256_HEX_LEN + 1];
	size_t nonce_len;
	uint32_t nonce_counter;

	/* the data phase */
	bool tcp_open;
	uint32_t received;   /* image bytes taken */
	uint32_t last_count; /* ESP32: last acknowledged write, re-sent on timeouts */
	uint32_t tries;
	uint32_t last_rx_ms;
	uint32_t deadline_ms; /* of the current phase's timer */
	bool stall_done;
	bool stalling;
	uint32_t stall_until_ms;
};

int ota_espota_init(struct ota_espota *rx, const struct ota_espota_config *cfg);

/* new faults, effective for the next packet or byte */
void ota_espota_set_faults(struct ota_espota *rx, const struct ota_espota_faults *faults);

/* new password (same rules as the config); refused while an update runs */
int
ota_espota_set_auth(struct ota_espota *rx, enum ota_auth_scheme scheme, const char *password_hash);

/**
 * ota_espota_on_udp:
 *
 * One datagram from @src_ip:@src_port on the OTA port. Replies go out through
 * ops.udp_send at once; anything malformed is dropped silently, as stock devices do.
 *
 * Returns: 1 when the datagram moved the state machine, 0 when it was ignored.
 */
int ota_espota_on_udp(struct ota_espota *rx,
		      uint32_t src_ip,
		      uint16_t src_port,
		      const uint8_t *data,
		      size_t len,
		      uint32_t now_ms);

/* the connection asked for through ops.tcp_connect is up */
void ota_espota_on_tcp_connected(struct ota_espota *rx, uint32_t now_ms);

/* the connect failed, or the peer closed; report it after all data was consumed */
void ota_espota_on_tcp_closed(struct ota_espota *rx, uint32_t now_ms);

/**
 * ota_espota_on_tcp_data:
 *
 * Bytes received on the connection, any amount. Acks go out through ops.tcp_send.
 *
 * Returns: how many bytes were consumed. Fewer than @len only while the receiver does
 * not read (the stall fault): keep the rest and offer it again after a later poll.
 */
size_t
ota_espota_on_tcp_data(struct ota_espota *rx, const uint8_t *data, size_t len, uint32_t now_ms);

/**
 * ota_espota_poll:
 *
 * Runs what is due: begin() and the connect-back, timers, timeouts.
 *
 * Returns: milliseconds until the next call is needed (0: at once), UINT32_MAX when
 * nothing is scheduled.
 */
uint32_t ota_espota_poll(struct ota_espota *rx, uint32_t now_ms);

/* drops any session: aborts the sink, closes TCP, back to IDLE (no event) */
void ota_espota_abort(struct ota_espota *rx);

enum ota_espota_state ota_espota_get_state(const struct ota_espota *rx);

/* image bytes received in the current or last session */
uint32_t ota_espota_get_received(const struct ota_espota *rx);
