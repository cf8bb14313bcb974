/* SPDX-License-Identifier: MIT */
/* ota-sink.c - Updater error texts and the small text helpers the receivers share */

#include "ota/ota-sink.h"

#include "ota/ota-util.h"

/* esp8266/Arduino cores/esp8266/Updater.cpp getErrorString() */
static const char *const esp8266_texts[OTA_UPDATE_ERR_LAST] = {
    [OTA_UPDATE_OK] = "No Error",
    [OTA_UPDATE_ERR_WRITE] = "Flash Write Failed",
    [OTA_UPDATE_ERR_ERASE] = "Flash Erase Failed",
    [OTA_UPDATE_ERR_READ] = "Flash Read Failed",
    [OTA_UPDATE_ERR_SPACE] = "Not Enough Space",
    [OTA_UPDATE_ERR_SIZE] = "Bad Size Given",
    [OTA_UPDATE_ERR_STREAM] = "Stream Read Timeout",
    [OTA_UPDATE_ERR_MD5] = "MD5 verification failed",
    [OTA_UPDATE_ERR_FLASH_CONFIG] = "Flash config wrong",
    [OTA_UPDATE_ERR_NEW_FLASH_CONFIG] = "new Flash config wrong",
    [OTA_UPDATE_ERR_MAGIC_BYTE] = "Magic byte is not 0xE9",
    [OTA_UPDATE_ERR_BOOTSTRAP] = "Invalid bootstrapping state, reset ESP8266 before updating",
    [OTA_UPDATE_ERR_SIGN] = "Signature verification failed",
    [OTA_UPDATE_ERR_NO_DATA] = "No data supplied",
    [OTA_UPDATE_ERR_OOM] = "Out of memory",
    [OTA_UPDATE_ERR_RUNNING] = "Update already running",
    [OTA_UPDATE_ERR_UNKNOWN_COMMAND] = "Unknown update command",
    [OTA_UPDATE_ERR_ACTIVATE] = "Could Not Activate The Firmware",
    [OTA_UPDATE_ERR_NO_PARTITION] = "Partition Could Not be Found",
    [OTA_UPDATE_ERR_BAD_ARGUMENT] = "Bad Argument",
    [OTA_UPDATE_ERR_ABORTED] = "Aborted",
    [OTA_UPDATE_ERR_DECRYPT] = "Decryption error",
};

/* espressif/arduino-esp32 libraries/Update/src/Updater.cpp _err2str(), where it differs */
static const char *
esp32_text(enum ota_update_error err)
{
	switch (err) {
	case OTA_UPDATE_ERR_MD5:
		return "MD5 Check Failed";
	case OTA_UPDATE_ERR_MAGIC_BYTE:
		return "Wrong Magic Byte";
	default:
		return esp8266_texts[err];
	}
}

/* the OTA_E_* codes the Updater has an exact word for */
static bool
map_exact(int err, enum ota_update_error *out)
{
	switch (err) {
	case OTA_E_FLASH:
		*out = OTA_UPDATE_ERR_WRITE;
		return true;
	case OTA_E_FLASH_ERASE:
		*out = OTA_UPDATE_ERR_ERASE;
		return true;
	case OTA_E_FLASH_READ:
		*out = OTA_UPDATE_ERR_READ;
		return true;
	case OTA_E_NO_SPACE:
		*out = OTA_UPDATE_ERR_SPACE;
		return true;
	case OTA_E_TIMEOUT:
		*out = OTA_UPDATE_ERR_STREAM;
		return true;
	case OTA_E_MD5:
		*out = OTA_UPDATE_ERR_MD5;
		return true;
	case OTA_E_BAD_MAGIC:
		*out = OTA_UPDATE_ERR_MAGIC_BYTE;
		return true;
	case OTA_E_SIGNATURE:
		*out = OTA_UPDATE_ERR_SIGN;
		return true;
	case OTA_E_BUSY:
		*out = OTA_UPDATE_ERR_RUNNING;
		return true;
	case OTA_E_NOT_FOUND:
		*out = OTA_UPDATE_ERR_NO_PARTITION;
		return true;
	case OTA_E_BAD_ARGS:
		*out = OTA_UPDATE_ERR_BAD_ARGUMENT;
		return true;
	case OTA_E_ABORTED:
		*out = OTA_UPDATE_ERR_ABORTED;
		return true;
	default:
		return false;
	}
}

enum ota_update_error
ota_update_error_from_ota(int err)
{
	enum ota_update_error out;
	if (err >= 0)
		return OTA_UPDATE_OK;
	if (map_exact(err, &out))
		return out;
	switch (err) {
	case OTA_E_PARTITION_TABLE:
	case OTA_E_CONFLICT:
		return OTA_UPDATE_ERR_NO_PARTITION;
	case OTA_E_TRUNCATED:
		return OTA_UPDATE_ERR_SIZE;
	default:
		/* what ESP32's Update.end() reports when the new image does not validate */
		return OTA_UPDATE_ERR_ACTIVATE;
	}
}

const char *
ota_update_error_detail(int err)
{
	enum ota_update_error out;
	if (err >= 0 || map_exact(err, &out))
		return 0;
	return ota_strerror(err);
}

const char *
ota_update_error_text(enum ota_flavor flavor, enum ota_update_error err)
{
	if ((unsigned)err >= OTA_UPDATE_ERR_LAST)
		return "UNKNOWN";
	if (flavor == OTA_FLAVOR_ESP32)
		return esp32_text(err);
	return esp8266_texts[err];
}

bool
ota_text_append(char *out, size_t out_size, size_t *pos, const char *s)
{
	size_t p = *pos;
	bool whole = true;
	if (out_size == 0)
		return false;
	for (; *s != '\0'; s++) {
		if (p + 1 >= out_size) {
			whole = false;
			break;
		}
		out[p++] = *s;
	}
	out[p] = '\0';
	*pos = p;
	return whole;
}

bool
ota_text_append_u32(char *out, size_t out_size, size_t *pos, uint32_t v)
{
	char digits[11];
	size_t n = sizeof(digits) - 1;
	digits[n] = '\0';
	do {
		digits[--n] = (char)('0' + v % 10u);
		v /= 10u;
	} while (v != 0);
	return ota_text_append(out, out_size, pos, digits + n);
}

size_t
ota_update_error_format(
    enum ota_flavor flavor, enum ota_update_error err, const char *text, char *out, size_t out_size)
{
	size_t pos = 0;
	if (out_size == 0)
		return 0;
	out[0] = '\0';
	if (text == 0)
		text = ota_update_error_text(flavor, err);
	if (flavor == OTA_FLAVOR_ESP32) {
		/* Update.printError(): out.println(errorString()) */
		ota_text_append(out, out_size, &pos, text);
		ota_text_append(out, out_size, &pos, "\r\n");
		return pos;
	}
	/* Update.printError(): printf("ERROR[%hhu]: %s\n") */
	ota_text_append(out, out_size, &pos, "ERROR[");
	ota_text_append_u32(out, out_size, &pos, (uint32_t)err);
	ota_text_append(out, out_size, &pos, "]: ");
	ota_text_append(out, out_size, &pos, text);
	ota_text_append(out, out_size, &pos, "\n");
	return pos;
}
