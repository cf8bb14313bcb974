/* SPDX-License-Identifier: MIT */
/*
 * ota-sink.h - the update target the espota and HTTP receivers write an image into
 *
 * The receivers know nothing about flash, slots or partitions: they drive a struct
 * ota_sink the way ArduinoOTA and ESP8266HTTPUpdateServer drive Arduino's Update object
 * (begin, write, end or abort). The port implements it over its slot code (the A/B slots
 * on the reference firmware, a file in the simulator, a RAM buffer in the tests).
 *
 * A sink returns 0 or a negative OTA_E_* code (ota-errors.h). The receivers map it to the
 * Arduino Updater's error number and text that real devices send, e.g. OTA_E_NO_SPACE
 * becomes "ERROR[4]: Not Enough Space\n" (ESP8266) or "Not Enough Space\r\n" (ESP32);
 * see ota_update_error_from_ota() and ota_update_error_format().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ota/ota-crypto.h"
#include "ota/ota-errors.h"

/* the two device families whose wire behaviour the receivers reproduce */
enum ota_flavor {
	OTA_FLAVOR_ESP8266 = 0,
	OTA_FLAVOR_ESP32 = 1,
};

/* the command of an update: espota's CMD field, U_FLASH / U_FS in Arduino */
#define OTA_CMD_FLASH 0
#define OTA_CMD_FS 100

/* begin() size meaning "unknown": take what fits, end() commits the bytes received */
#define OTA_SINK_SIZE_UNKNOWN 0u

/*
 * Update errors, numbered as the ESP8266 Updater's UPDATE_ERROR_* so that the number in
 * "ERROR[n]" is the one an ESP8266 prints. ESP32-only conditions follow the ESP8266 range.
 */
enum ota_update_error {
	OTA_UPDATE_OK = 0,
	OTA_UPDATE_ERR_WRITE = 1,
	OTA_UPDATE_ERR_ERASE = 2,
	OTA_UPDATE_ERR_READ = 3,
	OTA_UPDATE_ERR_SPACE = 4,
	OTA_UPDATE_ERR_SIZE = 5,
	OTA_UPDATE_ERR_STREAM = 6,
	OTA_UPDATE_ERR_MD5 = 7,
	OTA_UPDATE_ERR_FLASH_CONFIG = 8,
	OTA_UPDATE_ERR_NEW_FLASH_CONFIG = 9,
	OTA_UPDATE_ERR_MAGIC_BYTE = 10,
	OTA_UPDATE_ERR_BOOTSTRAP = 11,
	OTA_UPDATE_ERR_SIGN = 12,
	OTA_UPDATE_ERR_NO_DATA = 13,
	OTA_UPDATE_ERR_OOM = 14,
	OTA_UPDATE_ERR_RUNNING = 15,
	OTA_UPDATE_ERR_UNKNOWN_COMMAND = 16,
	OTA_UPDATE_ERR_ACTIVATE = 17,	  /* ESP32 "Could Not Activate The Firmware" */
	OTA_UPDATE_ERR_NO_PARTITION = 18, /* ESP32 "Partition Could Not be Found" */
	OTA_UPDATE_ERR_BAD_ARGUMENT = 19, /* ESP32 "Bad Argument" */
	OTA_UPDATE_ERR_ABORTED = 20,	  /* ESP32 "Aborted" */
	OTA_UPDATE_ERR_DECRYPT = 21,	  /* ESP32 "Decryption error" */
	OTA_UPDATE_ERR_LAST
};

/*
 * struct ota_sink:
 *
 * One update at a time: begin(), any number of write(), then exactly one of end() or
 * abort(). Every function returns 0 on success or a negative OTA_E_* code. The receivers
 * never call into a sink re-entrantly.
 *
 * @begin: start an update of @size bytes (OTA_SINK_SIZE_UNKNOWN: as many as fit, the
 *   HTTP multipart case) for @command OTA_CMD_FLASH or OTA_CMD_FS. Refuse a size that
 *   does not fit with OTA_E_NO_SPACE, and a second update while one runs with
 *   OTA_E_BUSY. @md5_hex is the 32-hex MD5 the sender announced, or NULL;
 *   it is informational: the receivers check it themselves (through their
 *   struct ota_hash_ops) before they call end(), so a sink may ignore it.
 * @write: take @len (> 0) bytes; more than the begin() size or than fits gives
 *   OTA_E_NO_SPACE. Any buffering to flash sectors is the sink's business.
 * @end: all bytes are in; verify (magic byte, signature ...) and make the image the one
 *   to boot next. With a known size the receivers call it only after exactly @size bytes.
 *   A failing end() leaves nothing to boot; the receivers do not call abort() after it.
 * @abort: drop the update. Called after a successful begin() and before end(), also
 *   after a failed write(); never twice, never after end().
 * @error_text: optional (may be NULL, may return NULL). The text for the last error,
 *   used instead of the standard one, e.g. a signature failure's reason.
 */
struct ota_sink {
	void *user;
	int (*begin)(void *user, uint32_t size, int command, const char *md5_hex);
	int (*write)(void *user, const uint8_t *data, size_t len);
	int (*end)(void *user);
	void (*abort)(void *user);
	const char *(*error_text)(void *user);
};

/*
 * The Updater error number for an OTA_E_* code: OTA_E_NO_SPACE is "Not Enough Space",
 * OTA_E_BAD_MAGIC "Magic byte is not 0xE9", OTA_E_MD5 the MD5 error, and so on. Codes the
 * Updater has no word for (a wrong chip, a bad checksum ...) become
 * OTA_UPDATE_ERR_ACTIVATE, ESP32's "Could Not Activate The Firmware". 0 and positive
 * values give OTA_UPDATE_OK.
 */
enum ota_update_error ota_update_error_from_ota(int err);

/*
 * The detail text for an OTA_E_* code whose Updater number says less than the code does
 * (ota_strerror(), e.g. "image is built for another chip"); NULL when the Updater's own
 * text is exact.
 */
const char *ota_update_error_detail(int err);

/* the Updater's text for @err: ESP8266 getErrorString() or ESP32 errorString() wording */
const char *ota_update_error_text(enum ota_flavor flavor, enum ota_update_error err);

/**
 * ota_update_error_format:
 * @text: the detail text, or NULL for ota_update_error_text()
 *
 * What Update.printError() prints for @err: "ERROR[<n>]: <text>\n" on ESP8266,
 * "<text>\r\n" on ESP32. The result is cut to fit @out (always NUL-terminated).
 *
 * Returns: the length written (without the NUL).
 */
size_t ota_update_error_format(enum ota_flavor flavor,
			       enum ota_update_error err,
			       const char *text,
			       char *out,
			       size_t out_size);

/*
 * The ESP8266 Updater's detail for a failed MD5 check, "MD5 verification failed: expected:
 * <x>, calculated: <y>", cut to fit @out. Returns the length written.
 */
size_t
ota_update_md5_detail(char *out, size_t out_size, const char *expected, const char *calculated);

/* true when @sink has begin, write, end and abort (error_text is optional) */
bool ota_sink_valid(const struct ota_sink *sink);
/* true when @ops has begin, update and finish */
bool ota_hash_ops_valid(const struct ota_hash_ops *ops);

/* the size of the detail text buffers of the ota_sink_run_* functions */
#define OTA_SINK_TEXT_MAX 128

/*
 * struct ota_sink_run:
 *
 * One update driven through a sink the way both receivers drive it: the sink's begin,
 * write, end or abort, and the MD5 of everything written when the sender announced one.
 * Set @sink and @md5 (an MD5 instance of its own), zero the rest.
 *
 * The functions return OTA_UPDATE_OK or the Updater's error number, with its detail in
 * @text (OTA_SINK_TEXT_MAX bytes): the sink's error_text(), the OTA_E_* code's detail, the
 * MD5 mismatch detail, or "" where the Updater's own text says all. After an error the
 * update is aborted (nothing is open); after end() it is over either way.
 */
struct ota_sink_run {
	const struct ota_sink *sink;
	const struct ota_hash_ops *md5;
	bool open;    /* begin() succeeded, neither end() nor abort() was called */
	bool hashing; /* the MD5 of the written bytes runs */
	uint32_t written;
};

/* @md5_hex: the announced MD5 (hashing starts), or NULL */
enum ota_update_error ota_sink_run_begin(
    struct ota_sink_run *r, uint32_t size, int command, const char *md5_hex, char *text);
enum ota_update_error
ota_sink_run_write(struct ota_sink_run *r, const uint8_t *data, size_t len, char *text);
/*
 * The MD5 check (when hashing), then the sink's end(). @flavor decides the comparison:
 * case-insensitive with the "MD5 verification failed: expected ..." detail (ESP8266), or
 * exact with the standard text (ESP32). @corrupt spoils the computed digest (a fault).
 */
enum ota_update_error ota_sink_run_end(
    struct ota_sink_run *r, const char *md5_hex, enum ota_flavor flavor, bool corrupt, char *text);
/* aborts the sink if it is open and finishes a running hash: nothing stays open */
void ota_sink_run_abort(struct ota_sink_run *r);
