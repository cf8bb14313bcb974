/* SPDX-License-Identifier: MIT */
/* ota-errors.c - texts for the core's return codes */

#include "ota/ota-errors.h"

#include "ota/ota-util.h"

/* for each code from 0 down: its identifier, then its text */
static const char errors[] = "ok\0success\0"
			     "flash-write\0flash write failed\0"
			     "flash-erase\0flash erase failed\0"
			     "flash-read\0flash read failed\0"
			     "bad-image\0invalid image\0"
			     "bad-magic\0not an ESP image (first byte is not 0xE9)\0"
			     "wrong-chip\0image is built for another chip\0"
			     "checksum\0image checksum mismatch\0"
			     "sha256\0image SHA-256 mismatch\0"
			     "signature\0signature verification failed\0"
			     "md5\0MD5 mismatch\0"
			     "no-space\0image does not fit the partition\0"
			     "bad-state\0not allowed in the current state\0"
			     "bad-args\0invalid argument\0"
			     "not-found\0partition not found\0"
			     "conflict\0target is the running partition\0"
			     "rollback\0no other image to roll back to\0"
			     "no-bootable\0no bootable image\0"
			     "partition-table\0partition table invalid\0"
			     "crypto\0hash backend failed\0"
			     "busy\0another update is in progress\0"
			     "auth\0authentication failed\0"
			     "version\0version refused\0"
			     "truncated\0image truncated\0"
			     "timeout\0timed out\0"
			     "network\0network error\0"
			     "protocol\0protocol error\0"
			     "aborted\0update aborted\0";

/* @which 0: the identifier, 1: the text; NULL for codes that do not exist */
static const char *
lookup(int err, unsigned which)
{
	/* the list itself ends the range; the bound only keeps the index from wrapping */
	if (err > 0 || err < -255)
		return NULL;
	return ota_string_at(errors, 2u * (unsigned)-err + which);
}

const char *
ota_strerror(int err)
{
	const char *text = lookup(err, 1);
	return text != NULL ? text : "unknown error";
}

const char *
ota_error_id(int err)
{
	const char *id = lookup(err, 0);
	return id != NULL ? id : "unknown";
}
