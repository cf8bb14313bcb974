/* SPDX-License-Identifier: MIT */
/* ota-errors.c - texts for the core's return codes */

#include "ota/ota-errors.h"

#include <stddef.h>

struct error_info {
	const char *id;
	const char *text;
};

/* indexed by -code */
static const struct error_info errors[] = {
    [0] = {"ok", "success"},
    [-OTA_E_FLASH] = {"flash-write", "flash write failed"},
    [-OTA_E_FLASH_ERASE] = {"flash-erase", "flash erase failed"},
    [-OTA_E_FLASH_READ] = {"flash-read", "flash read failed"},
    [-OTA_E_BAD_IMAGE] = {"bad-image", "invalid image"},
    [-OTA_E_BAD_MAGIC] = {"bad-magic", "not an ESP image (first byte is not 0xE9)"},
    [-OTA_E_WRONG_CHIP] = {"wrong-chip", "image is built for another chip"},
    [-OTA_E_CHECKSUM] = {"checksum", "image checksum mismatch"},
    [-OTA_E_SHA256] = {"sha256", "image SHA-256 mismatch"},
    [-OTA_E_SIGNATURE] = {"signature", "signature verification failed"},
    [-OTA_E_MD5] = {"md5", "MD5 mismatch"},
    [-OTA_E_NO_SPACE] = {"no-space", "image does not fit the partition"},
    [-OTA_E_BAD_STATE] = {"bad-state", "not allowed in the current state"},
    [-OTA_E_BAD_ARGS] = {"bad-args", "invalid argument"},
    [-OTA_E_NOT_FOUND] = {"not-found", "partition not found"},
    [-OTA_E_CONFLICT] = {"conflict", "target is the running partition"},
    [-OTA_E_ROLLBACK] = {"rollback", "no other image to roll back to"},
    [-OTA_E_NO_BOOTABLE] = {"no-bootable", "no bootable image"},
    [-OTA_E_PARTITION_TABLE] = {"partition-table", "partition table invalid"},
    [-OTA_E_CRYPTO] = {"crypto", "hash backend failed"},
    [-OTA_E_BUSY] = {"busy", "another update is in progress"},
    [-OTA_E_AUTH] = {"auth", "authentication failed"},
    [-OTA_E_VERSION] = {"version", "version refused"},
    [-OTA_E_TRUNCATED] = {"truncated", "image truncated"},
    [-OTA_E_TIMEOUT] = {"timeout", "timed out"},
    [-OTA_E_NET] = {"network", "network error"},
    [-OTA_E_PROTOCOL] = {"protocol", "protocol error"},
    [-OTA_E_ABORTED] = {"aborted", "update aborted"},
};

#define N_ERRORS (sizeof(errors) / sizeof(errors[0]))

static const struct error_info *
lookup(int err)
{
	if (err > 0 || err <= -(int)N_ERRORS || errors[-err].id == NULL)
		return NULL;
	return &errors[-err];
}

const char *
ota_strerror(int err)
{
	const struct error_info *info = lookup(err);
	return info != NULL ? info->text : "unknown error";
}

const char *
ota_error_id(int err)
{
	const struct error_info *info = lookup(err);
	return info != NULL ? info->id : "unknown";
}
