/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fleet-hash.c - the firmware core's hash interface backed by GChecksum */

#include "config.h"

#include "fleet-hash.h"

static GChecksum **
fleet_hash_slot(FleetHashOps *self, enum ota_hash_kind kind)
{
	return kind == OTA_HASH_MD5 ? &self->md5 : &self->sha256;
}

static int
fleet_hash_begin_cb(void *user, enum ota_hash_kind kind)
{
	GChecksum **slot = fleet_hash_slot(user, kind);
	/* reset instead of new: PBKDF2 starts 20000 hashes per authentication */
	if (*slot != NULL)
		g_checksum_reset(*slot);
	else
		*slot = g_checksum_new(kind == OTA_HASH_MD5 ? G_CHECKSUM_MD5 : G_CHECKSUM_SHA256);
	return 0;
}

static int
fleet_hash_update_cb(void *user, enum ota_hash_kind kind, const uint8_t *data, size_t len)
{
	GChecksum *checksum = *fleet_hash_slot(user, kind);
	if (checksum == NULL)
		return -1;
	while (len > 0) {
		gsize chunk = MIN(len, (gsize)G_MAXINT32);
		g_checksum_update(checksum, data, (gssize)chunk);
		data += chunk;
		len -= chunk;
	}
	return 0;
}

static int
fleet_hash_finish_cb(void *user, enum ota_hash_kind kind, uint8_t *out)
{
	GChecksum *checksum = *fleet_hash_slot(user, kind);
	gsize len = kind == OTA_HASH_MD5 ? OTA_MD5_LEN : OTA_SHA256_LEN;
	if (checksum == NULL)
		return -1;
	g_checksum_get_digest(checksum, out, &len);
	return 0;
}

void
fleet_hash_ops_init(FleetHashOps *self)
{
	self->md5 = NULL;
	self->sha256 = NULL;
	self->ops.user = self;
	self->ops.begin = fleet_hash_begin_cb;
	self->ops.update = fleet_hash_update_cb;
	self->ops.finish = fleet_hash_finish_cb;
}

void
fleet_hash_ops_clear(FleetHashOps *self)
{
	g_clear_pointer(&self->md5, g_checksum_free);
	g_clear_pointer(&self->sha256, g_checksum_free);
}
