/* SPDX-License-Identifier: MIT */
/*
 * ota-errors.h - the return codes of the portable core
 *
 * 0 is success, every failure is a negative OTA_E_* value. The numbers are part of the
 * simulator's logs and tests, so new codes are appended, never renumbered.
 */
#pragma once

enum ota_error {
	OTA_OK = 0,
	OTA_E_FLASH = -1,	     /* a flash write failed (or the flash model refused it) */
	OTA_E_FLASH_ERASE = -2,	     /* a flash erase failed */
	OTA_E_FLASH_READ = -3,	     /* a flash read failed */
	OTA_E_BAD_IMAGE = -4,	     /* image layout invalid (segments, sizes, app description) */
	OTA_E_BAD_MAGIC = -5,	     /* first byte is not 0xE9 */
	OTA_E_WRONG_CHIP = -6,	     /* chip id or chip revision does not match the device */
	OTA_E_CHECKSUM = -7,	     /* image checksum byte mismatch */
	OTA_E_SHA256 = -8,	     /* appended SHA-256 mismatch */
	OTA_E_SIGNATURE = -9,	     /* signature missing or wrong */
	OTA_E_MD5 = -10,	     /* MD5 announced by the uploader does not match */
	OTA_E_NO_SPACE = -11,	     /* image larger than the partition */
	OTA_E_BAD_STATE = -12,	     /* not allowed now (running app unconfirmed, no update open) */
	OTA_E_BAD_ARGS = -13,	     /* invalid argument or configuration */
	OTA_E_NOT_FOUND = -14,	     /* no such partition */
	OTA_E_CONFLICT = -15,	     /* the target is the running partition */
	OTA_E_ROLLBACK = -16,	     /* rollback requested but no other image would boot */
	OTA_E_NO_BOOTABLE = -17,     /* no slot holds a bootable image */
	OTA_E_PARTITION_TABLE = -18, /* partition table missing, corrupt or unusable */
	OTA_E_CRYPTO = -19,	     /* the port's hash backend failed */
	OTA_E_BUSY = -20,	     /* another update is in progress */
	OTA_E_AUTH = -21,	     /* authentication failed */
	OTA_E_VERSION = -22,	     /* version refused (same, older, or anti-rollback) */
	OTA_E_TRUNCATED = -23,	     /* fewer bytes arrived than the image needs */
	OTA_E_TIMEOUT = -24,	     /* the peer stopped sending */
	OTA_E_NET = -25,	     /* socket error */
	OTA_E_PROTOCOL = -26,	     /* the peer broke the protocol */
	OTA_E_ABORTED = -27,	     /* the update was aborted */
};

/* a short, stable English text for an OTA_E_* code ("unknown error" for others) */
const char *ota_strerror(int err);

/* a stable identifier for logs and JSON, e.g. "md5" for OTA_E_MD5 */
const char *ota_error_id(int err);
