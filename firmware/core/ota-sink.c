/* SPDX-License-Identifier: MIT */
/* ota-sink.c - the Updater's error numbers and texts, and an update driven through a sink */

#include "ota/ota-sink.h"

#include "ota/ota-util.h"

/* esp8266/Arduino cores/esp8266/Updater.cpp getErrorString(), by enum ota_update_error */
static const char esp8266_texts[] = "No Error\0"
				    "Flash Write Failed\0"
				    "Flash Erase Failed\0"
				    "Flash Read Failed\0"
				    "Not Enough Space\0"
				    "Bad Size Given\0"
				    "Stream Read Timeout\0"
				    "MD5 verification failed\0"
				    "Flash config wrong\0"
				    "new Flash config wrong\0"
				    "Magic byte is not 0xE9\0"
				    "Invalid bootstrapping state, reset ESP8266 before updating\0"
				    "Signature verification failed\0"
				    "No data supplied\0"
				    "Out of memory\0"
				    "Update already running\0"
				    "Unknown update command\0"
				    "Could Not Activate The Firmware\0"
				    "Partition Could Not be Found\0"
				    "Bad Argument\0"
				    "Aborted\0"
				    "Decryption error\0";

/* set in from_ota[] when the Updater's text says all the OTA_E_* code says */
#define EXACT 0x80u

/* the Updater error for each OTA_E_* code, indexed by -code */
static const uint8_t from_ota[] = {
    [-OTA_E_FLASH] = OTA_UPDATE_ERR_WRITE | EXACT,
    [-OTA_E_FLASH_ERASE] = OTA_UPDATE_ERR_ERASE | EXACT,
    [-OTA_E_FLASH_READ] = OTA_UPDATE_ERR_READ | EXACT,
    [-OTA_E_BAD_IMAGE] = OTA_UPDATE_ERR_ACTIVATE,
    [-OTA_E_BAD_MAGIC] = OTA_UPDATE_ERR_MAGIC_BYTE | EXACT,
    [-OTA_E_WRONG_CHIP] = OTA_UPDATE_ERR_ACTIVATE,
    [-OTA_E_CHECKSUM] = OTA_UPDATE_ERR_ACTIVATE,
    [-OTA_E_SHA256] = OTA_UPDATE_ERR_ACTIVATE,
    [-OTA_E_SIGNATURE] = OTA_UPDATE_ERR_SIGN | EXACT,
    [-OTA_E_MD5] = OTA_UPDATE_ERR_MD5 | EXACT,
    [-OTA_E_NO_SPACE] = OTA_UPDATE_ERR_SPACE | EXACT,
    [-OTA_E_BAD_STATE] = OTA_UPDATE_ERR_ACTIVATE,
    [-OTA_E_BAD_ARGS] = OTA_UPDATE_ERR_BAD_ARGUMENT | EXACT,
    [-OTA_E_NOT_FOUND] = OTA_UPDATE_ERR_NO_PARTITION | EXACT,
    [-OTA_E_CONFLICT] = OTA_UPDATE_ERR_NO_PARTITION,
    [-OTA_E_ROLLBACK] = OTA_UPDATE_ERR_ACTIVATE,
    [-OTA_E_NO_BOOTABLE] = OTA_UPDATE_ERR_ACTIVATE,
    [-OTA_E_PARTITION_TABLE] = OTA_UPDATE_ERR_NO_PARTITION,
    [-OTA_E_CRYPTO] = OTA_UPDATE_ERR_ACTIVATE,
    [-OTA_E_BUSY] = OTA_UPDATE_ERR_RUNNING | EXACT,
    [-OTA_E_AUTH] = OTA_UPDATE_ERR_ACTIVATE,
    [-OTA_E_VERSION] = OTA_UPDATE_ERR_ACTIVATE,
    [-OTA_E_TRUNCATED] = OTA_UPDATE_ERR_SIZE,
    [-OTA_E_TIMEOUT] = OTA_UPDATE_ERR_STREAM | EXACT,
    [-OTA_E_NET] = OTA_UPDATE_ERR_ACTIVATE,
    [-OTA_E_PROTOCOL] = OTA_UPDATE_ERR_ACTIVATE,
    [-OTA_E_ABORTED] = OTA_UPDATE_ERR_ABORTED | EXACT,
};

/* what ESP32's Update.end() reports when the new image does not validate, for other codes */
static unsigned
lookup(int err)
{
	if (err >= 0)
		return OTA_UPDATE_OK | EXACT;
	if (err < -(int)sizeof(from_ota) || from_ota[-err] == 0)
		return OTA_UPDATE_ERR_ACTIVATE;
	return from_ota[-err];
}

enum ota_update_error
ota_update_error_from_ota(int err)
{
	return (enum ota_update_error)(lookup(err) & ~EXACT);
}

const char *
ota_update_error_detail(int err)
{
	return (lookup(err) & EXACT) != 0 ? 0 : ota_strerror(err);
}

const char *
ota_update_error_text(enum ota_flavor flavor, enum ota_update_error err)
{
	if ((unsigned)err >= OTA_UPDATE_ERR_LAST)
		return "UNKNOWN";
	/* espressif/arduino-esp32 libraries/Update/src/Updater.cpp _err2str(), where it differs */
	if (flavor == OTA_FLAVOR_ESP32) {
		if (err == OTA_UPDATE_ERR_MD5)
			return "MD5 Check Failed";
		if (err == OTA_UPDATE_ERR_MAGIC_BYTE)
			return "Wrong Magic Byte";
	}
	return ota_string_at(esp8266_texts, (unsigned)err);
}

size_t
ota_update_error_format(
    enum ota_flavor flavor, enum ota_update_error err, const char *text, char *out, size_t out_size)
{
	if (text == 0)
		text = ota_update_error_text(flavor, err);
	/* Update.printError(): out.println(errorString()) on ESP32, printf("ERROR[%hhu]: %s\n");
	 * one call: "%.0u" of 0 prints nothing */
	if (flavor == OTA_FLAVOR_ESP32)
		return ota_format(out, out_size, "%.0u%s\r\n", 0u, text);
	return ota_format(out, out_size, "ERROR[%u]: %s\n", (unsigned)err, text);
}

/* ota_sink_run_end() has this inlined, so a device that only runs sinks links no copy */
static size_t
md5_detail(char *out, size_t out_size, const char *expected, const char *calculated)
{
	return ota_format(out, out_size, "MD5 verification failed: expected: %s, calculated: %s",
			  expected, calculated);
}

size_t
ota_update_md5_detail(char *out, size_t out_size, const char *expected, const char *calculated)
{
	return md5_detail(out, out_size, expected, calculated);
}

bool
ota_sink_valid(const struct ota_sink *sink)
{
	return sink != 0 && sink->begin != 0 && sink->write != 0 && sink->end != 0 &&
	       sink->abort != 0;
}

bool
ota_hash_ops_valid(const struct ota_hash_ops *ops)
{
	return ops != 0 && ops->begin != 0 && ops->update != 0 && ops->finish != 0;
}

/* a sink error: the Updater's number, and the sink's own text or the code's detail */
static enum ota_update_error
sink_failed(struct ota_sink_run *r, int rc, char *text)
{
	const char *t = r->sink->error_text != 0 ? r->sink->error_text(r->sink->user) : 0;
	if (t == 0)
		t = ota_update_error_detail(rc);
	/* as much as fits, NUL-terminated */
	ota_copy_field(text, t != 0 ? t : "", OTA_SINK_TEXT_MAX - 1);
	/* the text is taken first: aborting may reset what the sink reports */
	ota_sink_run_abort(r);
	return ota_update_error_from_ota(rc);
}

void
ota_sink_run_abort(struct ota_sink_run *r)
{
	if (r->hashing) {
		/* the port's hash context must be finished before anyone else can use it */
		uint8_t scratch[OTA_MD5_LEN];
		r->hashing = false;
		(void)r->md5->finish(r->md5->user, OTA_HASH_MD5, scratch);
	}
	if (r->open) {
		r->open = false;
		r->sink->abort(r->sink->user);
	}
}

enum ota_update_error
ota_sink_run_begin(
    struct ota_sink_run *r, uint32_t size, int command, const char *md5_hex, char *text)
{
	int rc = r->sink->begin(r->sink->user, size, command, md5_hex);
	text[0] = '\0';
	if (rc < 0)
		return sink_failed(r, rc, text);
	r->open = true;
	r->written = 0;
	if (md5_hex != 0) {
		if (r->md5->begin(r->md5->user, OTA_HASH_MD5) != 0) {
			ota_sink_run_abort(r);
			return OTA_UPDATE_ERR_OOM;
		}
		r->hashing = true;
	}
	return OTA_UPDATE_OK;
}

enum ota_update_error
ota_sink_run_write(struct ota_sink_run *r, const uint8_t *data, size_t len, char *text)
{
	int rc = r->sink->write(r->sink->user, data, len);
	text[0] = '\0';
	if (rc < 0)
		return sink_failed(r, rc, text);
	if (r->hashing && r->md5->update(r->md5->user, OTA_HASH_MD5, data, len) != 0) {
		ota_sink_run_abort(r);
		return OTA_UPDATE_ERR_MD5;
	}
	r->written += (uint32_t)len;
	return OTA_UPDATE_OK;
}

enum ota_update_error
ota_sink_run_end(
    struct ota_sink_run *r, const char *md5_hex, enum ota_flavor flavor, bool corrupt, char *text)
{
	int rc;
	text[0] = '\0';
	if (r->hashing) {
		uint8_t d[OTA_MD5_LEN];
		char calc[2 * OTA_MD5_LEN + 1];
		bool same;
		bool ok = r->md5->finish(r->md5->user, OTA_HASH_MD5, d) == 0;
		r->hashing = false;
		if (!ok)
			ota_fill(d, 0, sizeof(d));
		if (corrupt)
			d[0] ^= 0xffu;
		ota_hex(d, sizeof(d), calc);
		/* ESP8266 compares with strcasecmp, ESP32 the String it read with != */
		same = flavor == OTA_FLAVOR_ESP8266
			   ? ota_equal_ci(md5_hex, calc, 2 * OTA_MD5_LEN)
			   : ota_compare(md5_hex, calc, 2 * OTA_MD5_LEN) == 0;
		if (!ok || !same) {
			if (flavor == OTA_FLAVOR_ESP8266)
				(void)md5_detail(text, OTA_SINK_TEXT_MAX, md5_hex, calc);
			ota_sink_run_abort(r);
			return OTA_UPDATE_ERR_MD5;
		}
	}
	r->open = false;
	rc = r->sink->end(r->sink->user);
	if (rc < 0)
		return sink_failed(r, rc, text);
	return OTA_UPDATE_OK;
}
